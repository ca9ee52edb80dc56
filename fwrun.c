/* SPDX-License-Identifier: MIT */
/* The command line and the flow of one run: parse, check every combination,
 * then set up, run and clean up in reverse. The only module that prints and
 * picks exit statuses. */
#include "fwrun.h"
#include "fault.h"

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>

#include "ns.h"
#include "overlay.h"
#include "rundir.h"
#include "version.h"

enum {
	OPT_ROOTFS = CHAR_MAX + 1,
	OPT_NAME,
	OPT_STATE_DIR,
	OPT_HOSTNAME,
	OPT_EPHEMERAL,
	OPT_RESET,
	OPT_DIFF,
	OPT_DRY_RUN,
	OPT_VERSION,
	OPT_APPARMOR,
	OPT_PROFILE,
	OPT_PRINT_PROFILE,
	OPT_CAP_DROP,
	OPT_CAP_ADD,
	OPT_TAP,
	OPT_VETH,
	OPT_FORCE_DEFAULT_ROUTE,
	OPT_CONSOLE,
	OPT_STOP_SIGNAL,
	OPT_KILL_AFTER,
	OPT_TIMEOUT,
	OPT_RESTART_ON_REBOOT,
	OPT_STATUS_FD,
	OPT_SETENV,
	OPT_MEMORY_MAX,
	OPT_PIDS_MAX,
	OPT_CPUS,
	OPT_DEVICE,
};

static const struct option long_options[] = {
	{ "rootfs", required_argument, NULL, OPT_ROOTFS },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "ephemeral", no_argument, NULL, OPT_EPHEMERAL },
	{ "reset", no_argument, NULL, OPT_RESET },
	{ "diff", no_argument, NULL, OPT_DIFF },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "apparmor", required_argument, NULL, OPT_APPARMOR },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "print-profile", no_argument, NULL, OPT_PRINT_PROFILE },
	{ "cap-drop", required_argument, NULL, OPT_CAP_DROP },
	{ "cap-add", required_argument, NULL, OPT_CAP_ADD },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
	{ "kill-after", required_argument, NULL, OPT_KILL_AFTER },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "restart-on-reboot", no_argument, NULL, OPT_RESTART_ON_REBOOT },
	{ "status-fd", required_argument, NULL, OPT_STATUS_FD },
	{ "setenv", required_argument, NULL, OPT_SETENV },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "veth", optional_argument, NULL, OPT_VETH },
	{ "force-default-route", no_argument, NULL, OPT_FORCE_DEFAULT_ROUTE },
	{ "memory-max", required_argument, NULL, OPT_MEMORY_MAX },
	{ "pids-max", required_argument, NULL, OPT_PIDS_MAX },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
"Usage: fwrun [OPTIONS] --rootfs IMAGE|DIR [--] [INIT [ARG...]]\n"
"       fwrun --diff (--name NAME | --state-dir DIR | --rootfs IMAGE|DIR)\n"
"\n"
"Run a device firmware's init (default " FWRUN_DEFAULT_INIT ") as pid 1, as root,\n"
"in new namespaces, on an overlay over the read-only firmware image.\n"
"\n"
"Firmware and state:\n"
"      --rootfs IMAGE|DIR   ext2/3/4, squashfs or erofs image, or a directory\n"
"      --name NAME          instance name (default: the image's file name\n"
"                           without extension); also the default hostname\n"
"      --state-dir DIR      where upper/ and work/ live\n"
"                           (default " FWRUN_STATE_ROOT "/NAME)\n"
"      --ephemeral          keep the run's writes on a tmpfs, gone at exit\n"
"      --reset              empty the upper dir before starting\n"
"      --diff               list what the last run changed (A/M/D) and exit\n"
"      --hostname NAME      the firmware's hostname (default: the name)\n"
"      --setenv NAME=VALUE  set a variable in the init's environment, which\n"
"                           otherwise holds only PATH and container=fwrun\n"
"                           (repeatable)\n"
"\n"
"Host protection:\n"
"      --apparmor=MODE      auto (default: confine when the kernel has\n"
"                           AppArmor), on (refuse to run without), off\n"
"      --profile NAME       confine with this already-loaded profile\n"
"                           instead of fwrun's own\n"
"      --print-profile      print fwrun's AppArmor profile and exit\n"
"      --cap-drop CAP       also cut CAP from the bounding set (repeatable;\n"
"                           CAP as in capabilities(7), CAP_ optional, or ALL)\n"
"      --cap-add CAP        keep CAP, which the default set would cut\n"
"      --device PATH[:rwm]  pass the host device node PATH (under /dev) in: made\n"
"                           in the firmware's /dev, let through its cgroup's\n"
"                           device allowlist (default rwm; repeatable)\n"
"      --memory-max SIZE    limit the firmware's memory (512M, 2G; no swap)\n"
"      --pids-max N         limit its number of processes and threads\n"
"      --cpus N             limit its CPU time to N CPUs (0.5, 2)\n"
"\n"
"Network (the firmware always gets its own namespace, with lo up):\n"
"      --tap IF[:INNER[:ADDR/PREFIX]]\n"
"                           move host interface IF in, named INNER, with\n"
"                           ADDR/PREFIX (IPv4 or IPv6), up; given back at exit.\n"
"                           A missing IF is created as a tap, deleted at exit.\n"
"                           Repeatable\n"
"      --veth[=ADDR/PREFIX] a veth pair: host end fw-NAME, firmware end eth0 with\n"
"                           ADDR (default 10.202.N.1/24, host 10.202.N.254) and a\n"
"                           default route via the host end\n"
"      --force-default-route  let --tap take the host's default-route interface\n"
"\n"
"Life cycle:\n"
"      --console MODE       auto (default): a pty when stdin is a terminal;\n"
"                           pty: the firmware's /dev/console is a pty relayed\n"
"                           to this terminal (raw: Ctrl-C goes to the\n"
"                           firmware; Ctrl-] 3 times in 1s kills it);\n"
"                           pipe: the init inherits fwrun's stdio\n"
"      --stop-signal SIG    sent to the init when fwrun gets SIGINT, SIGTERM\n"
"                           or SIGHUP, or on --timeout (default SIGTERM)\n"
"      --kill-after SECS    then SIGKILL it after SECS (default 10); a second\n"
"                           SIGINT kills at once\n"
"      --timeout SECS       stop the firmware after SECS; exit status 124\n"
"      --restart-on-reboot  start it again (fresh namespaces, same upper dir)\n"
"                           when it reboots, until it powers off or exits\n"
"      --status-fd FD       write JSON lines to FD: started, exited\n"
"                           (SECS: 1.5, 500ms, 30s, 2m, 1h)\n"
"\n"
"Telling:\n"
"      --dry-run            print the plan, touch nothing\n"
"  -v, --verbose            print each setup step with its duration\n"
"  -q, --quiet              print only errors\n"
"  -h, --help               show this help and exit\n"
"      --version            show the version and exit\n"
"\n"
"Exit status: the init's status; 128+N if it was killed by signal N;\n"
"0 it powered off; 133 it rebooted; 124 --timeout expired;\n"
"125 fwrun failed; 126 INIT not executable; 127 INIT not found.\n"
"See fwrun(8).\n";

const char *fwrun_usage(void)
{
	return usage_text;
}

static char *default_init_argv[] = { (char *)FWRUN_DEFAULT_INIT, NULL };

int fwrun_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return -EINVAL;
	if (len > FWRUN_NAME_MAX)
		return -ENAMETOOLONG;
	if (name[0] == '.' || name[0] == '-')
		return -EINVAL;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '.' && *p != '_' && *p != '-')
			return -EINVAL;
	return 0;
}

int fwrun_name_from_rootfs(const char *rootfs, char *name, size_t size)
{
	size_t len = strlen(rootfs);

	while (len > 1 && rootfs[len - 1] == '/')
		len--;
	size_t start = len;
	while (start > 0 && rootfs[start - 1] != '/')
		start--;
	size_t end = len;
	/* "drone.ext2" -> "drone"; a leading dot is no extension */
	for (size_t i = len; i > start + 1; i--)
		if (rootfs[i - 1] == '.') {
			end = i - 1;
			break;
		}
	if (end - start + 1 > size)
		return -ENAMETOOLONG;
	memcpy(name, rootfs + start, end - start);
	name[end - start] = '\0';
	return fwrun_name_valid(name);
}

static bool hostname_valid(const char *h)
{
	size_t len = strlen(h);

	if (len == 0 || len > 64 || h[0] == '-' || h[0] == '.')
		return false;
	for (; *h; h++)
		if (!(*h >= 'a' && *h <= 'z') && !(*h >= 'A' && *h <= 'Z') &&
		    !(*h >= '0' && *h <= '9') && *h != '-' && *h != '.' && *h != '_')
			return false;
	return true;
}

static enum fwrun_parse_result usage_error(struct fw_error *e, const char *what,
					   const char *subject, const char *reason)
{
	fw_fail_hint(e, EINVAL, what, subject, reason);
	e->err = 0;	/* the reason says it all: no errno text */
	return FWRUN_PARSE_ERROR;
}

/* netsetup's parse errors: the hint is the reason. */
static enum fwrun_parse_result net_usage_error(struct fw_error *e)
{
	if (e->hint[0])
		e->err = 0;
	return FWRUN_PARSE_ERROR;
}

/* Every combination is checked here, before anything privileged runs. */
static enum fwrun_parse_result check_options(struct fwrun_opts *o, struct fw_error *e)
{
	int r;

	if (o->diff) {
		if (o->ephemeral || o->reset || o->dry_run || o->hostname)
			return usage_error(e, "option", "--diff", "only goes with --name, "
					   "--state-dir, --rootfs, -v, -q");
		if (o->init_argv)
			return usage_error(e, "option", "--diff", "takes no INIT");
		if (!o->name_given && !o->state_dir && !o->rootfs)
			return usage_error(e, "option", "--diff",
					   "needs --name, --state-dir or --rootfs");
	} else if (!o->rootfs) {
		return usage_error(e, "option", "--rootfs", "is required");
	}
	if (o->ephemeral && o->state_dir)
		return usage_error(e, "option", "--ephemeral",
				   "keeps no state: it does not go with --state-dir");
	if (o->ephemeral && o->reset)
		return usage_error(e, "option", "--ephemeral",
				   "always starts empty: it does not go with --reset");
	if (o->rootfs && !o->rootfs[0])
		return usage_error(e, "option", "--rootfs", "is empty");
	if (o->state_dir && !o->state_dir[0])
		return usage_error(e, "option", "--state-dir", "is empty");
	if (!o->name_given && o->rootfs) {
		r = fwrun_name_from_rootfs(o->rootfs, o->name, sizeof(o->name));
		if (r < 0)
			return usage_error(e, "derive an instance name from", o->rootfs,
					   "not a valid name: give one with --name");
	}
	if (o->hostname && !hostname_valid(o->hostname))
		return usage_error(e, "hostname", o->hostname,
				   "1 to 64 letters, digits, '-', '.', '_'");
	if (o->init_argv && !o->init_argv[0][0])
		return usage_error(e, "INIT", "", "is empty");
	if (o->diff && !net_plan_empty(&o->net))
		return usage_error(e, "option", "--diff", "takes no --tap or --veth");
	fw_strlcpy(o->net.instance, o->name, sizeof(o->net.instance));
	if (net_plan_check(&o->net, e) < 0)
		return net_usage_error(e);
	if (!o->init_argv) {
		o->init_argv = default_init_argv;
		o->init_argc = 1;
	}
	return FWRUN_PARSE_RUN;
}

enum fwrun_parse_result fwrun_parse(struct fwrun_opts *o, int argc, char **argv,
				    struct fw_error *e)
{
	int c, r;

	memset(o, 0, sizeof(*o));
	memset(e, 0, sizeof(*e));
	net_plan_init(&o->net, "");
	supervise_opts_init(&o->life);
	o->status_fd = -1;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:vqh", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_ROOTFS:
			o->rootfs = optarg;
			break;
		case OPT_NAME:
			r = fwrun_name_valid(optarg);
			if (r < 0)
				return usage_error(e, "instance name", optarg, r == -ENAMETOOLONG ?
						   "longer than 64 bytes" :
						   "use letters, digits, '.', '_', '-'; "
						   "no leading '.' or '-'");
			fw_strlcpy(o->name, optarg, sizeof(o->name));
			o->name_given = true;
			break;
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case OPT_HOSTNAME:
			o->hostname = optarg;
			break;
		case OPT_EPHEMERAL:
			o->ephemeral = true;
			break;
		case OPT_RESET:
			o->reset = true;
			break;
		case OPT_DIFF:
			o->diff = true;
			break;
		case OPT_DRY_RUN:
			o->dry_run = true;
			break;
		case OPT_APPARMOR:
			if (aa_mode_parse(optarg, &o->apparmor) < 0)
				return usage_error(e, "option --apparmor", optarg,
						   "use auto, on or off");
			break;
		case OPT_PROFILE:
			if (aa_quote(optarg, (char[AA_LABEL_MAX * 2 + 3]){ 0 },
				     AA_LABEL_MAX * 2 + 3) < 0 || strlen(optarg) >= AA_LABEL_MAX)
				return usage_error(e, "option --profile", optarg,
						   "not a usable AppArmor profile name");
			o->aa_profile = optarg;
			break;
		case OPT_PRINT_PROFILE:
			fputs(aa_profile(), stdout);
			return FWRUN_PARSE_EXIT_OK;
		case OPT_CAP_DROP:
		case OPT_CAP_ADD:
			if (caps_spec_add(&o->caps, optarg, c == OPT_CAP_DROP) < 0)
				return usage_error(e, c == OPT_CAP_DROP ? "option --cap-drop" :
						   "option --cap-add", optarg,
						   "unknown capability (see capabilities(7))");
			break;
		case OPT_TAP:
			if (net_plan_add_tap(&o->net, optarg, e) < 0)
				return net_usage_error(e);
			break;
		case OPT_VETH:
			if (o->net.veth)
				return usage_error(e, "option", "--veth", "given twice");
			if (net_plan_set_veth(&o->net, optarg, e) < 0)
				return net_usage_error(e);
			break;
		case OPT_FORCE_DEFAULT_ROUTE:
			o->net.force_default_route = true;
			break;
		case OPT_CONSOLE:
			if (console_mode_parse(optarg, &o->console) < 0)
				return usage_error(e, "console mode", optarg,
						   "use auto, pty or pipe");
			break;
		case OPT_STOP_SIGNAL:
			if (supervise_parse_signal(optarg, &o->life.stop_signal) < 0)
				return usage_error(e, "stop signal", optarg,
						   "use a name (TERM, SIGRTMIN+3) or a number");
			break;
		case OPT_KILL_AFTER:
		case OPT_TIMEOUT:
			r = supervise_parse_duration(optarg, c == OPT_TIMEOUT ?
						     &o->life.timeout_ms : &o->life.kill_after_ms);
			if (r < 0)
				return usage_error(e, c == OPT_TIMEOUT ? "--timeout" : "--kill-after",
						   optarg, r == -ERANGE ? "longer than 100 days" :
						   "use seconds (1.5) or 500ms, 30s, 2m, 1h");
			break;
		case OPT_RESTART_ON_REBOOT:
			o->restart_on_reboot = true;
			break;
		case OPT_STATUS_FD: {
			char *end;
			long fd;
			errno = 0;
			fd = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || fd < 0 || fd > INT_MAX)
				return usage_error(e, "--status-fd", optarg,
						   "not a file descriptor number");
			o->status_fd = (int)fd;
			break;
		}
		case OPT_MEMORY_MAX:
			if ((r = cg_parse_size(optarg, &o->cgroup.memory_max)) < 0)
				return usage_error(e, "--memory-max", optarg, r == -ERANGE ?
						   "at least 1M, and a 64-bit number" :
						   "use bytes or K, M, G, T (512M, 1.5G)");
			break;
		case OPT_PIDS_MAX:
			if ((r = cg_parse_pids(optarg, &o->cgroup.pids_max)) < 0)
				return usage_error(e, "--pids-max", optarg, "use 1 to 4194304");
			break;
		case OPT_CPUS:
			if ((r = cg_parse_cpus(optarg, &o->cgroup.cpu_quota_us)) < 0)
				return usage_error(e, "--cpus", optarg, "use a number of CPUs, "
						   "0.01 to 4096 (0.5, 2)");
			break;
		case OPT_DEVICE:
			if ((r = cg_parse_device(&o->cgroup, optarg)) < 0)
				return usage_error(e, "--device", optarg, r == -E2BIG ?
						   "given more than 32 times" :
						   "use PATH[:ACCESS], PATH under /dev/ without "
						   "'..', ACCESS of r, w, m");
			break;
		case OPT_SETENV:
			if (fwrun_setenv_valid(optarg) < 0)
				return usage_error(e, "--setenv", optarg,
						   "use NAME=VALUE, NAME of letters, digits, '_'");
			if (o->nsetenv >= FWRUN_SETENV_MAX)
				return usage_error(e, "--setenv", optarg, "given more than 64 times");
			o->setenv[o->nsetenv++] = optarg;
			break;
		case 'v':
			o->verbosity = FWRUN_VERBOSE;
			break;
		case 'q':
			o->verbosity = FWRUN_QUIET;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return FWRUN_PARSE_EXIT_OK;
		case OPT_VERSION:
			printf("fwrun " FWRUN_VERSION "\n");
			return FWRUN_PARSE_EXIT_OK;
		case ':':
			return usage_error(e, "option", argv[optind - 1], "needs an argument");
		default:
			if (optopt && optopt < CHAR_MAX) {
				char opt[3] = { '-', (char)optopt, 0 };
				return usage_error(e, "option", opt, "unknown");
			}
			return usage_error(e, "option", argv[optind - 1],
					   strchr(argv[optind - 1], '=') ?
					   "takes no argument" : "unknown");
		}
	}
	if (optind < argc) {
		o->init_argv = argv + optind;
		o->init_argc = argc - optind;
	}
	return check_options(o, e);
}

int fwrun_exit_status(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return FWRUN_EXIT_FAILURE;
}

/* Control characters (a newline in a path) as \n, \t or \xHH: an error
 * stays one line whatever the user gave. */
static void escape_controls(char *out, size_t size, const char *in)
{
	size_t o = 0;

	for (; *in && o + 1 < size; in++) {
		unsigned char c = (unsigned char)*in;
		char esc[5];
		if (c >= 0x20 && c != 0x7f) {
			out[o++] = (char)c;
			continue;
		}
		snprintf(esc, sizeof(esc), c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\x%02x", c);
		size_t n = strlen(esc);
		if (o + n + 1 > size)
			break;
		memcpy(out + o, esc, n);
		o += n;
	}
	if (size)
		out[o] = '\0';
}

void fwrun_format_error(char *buf, size_t size, const struct fw_error *e)
{
	/* err == 0: the hint is the reason (usage errors); else strerror, with
	 * the hint after it where the errno alone would mislead. */
	const char *reason = e->err ? strerror(e->err) : e->hint;
	char line[1024];
	int n;

	if (e->subject[0])
		n = snprintf(line, sizeof(line), "fwrun: %s '%s': %s", e->what, e->subject, reason);
	else
		n = snprintf(line, sizeof(line), "fwrun: %s: %s", e->what, reason);
	if (n >= 0 && (size_t)n < sizeof(line) && e->err && e->hint[0])
		snprintf(line + n, sizeof(line) - (size_t)n, " (%s)", e->hint);
	escape_controls(buf, size, line);
}

/* ---- the run ---- */

struct run {
	const struct fwrun_opts *o;
	struct state_paths state;
	struct rootfs_info rootfs;
	int rootfs_fd;
	int lock_fd;		/* the state dir's */
	int name_lock_fd;	/* the instance name's */
	struct ns_instance ns;
	struct aa_plan aa;	/* AppArmor decision, then what was loaded */
	uint64_t cap_drop;	/* cut from the bounding set */
	struct net_plan net;
	struct cg_instance cg;	/* the instance's cgroup */
	struct fw_error e;
};

static void print_error(const struct fw_error *e)
{
	char line[1024];

	fwrun_format_error(line, sizeof(line), e);
	fprintf(stderr, "%s\n", line);
}

static int fail_usage(const struct fw_error *e)
{
	print_error(e);
	fputs("Try 'fwrun --help' for more information.\n", stderr);
	return FWRUN_EXIT_FAILURE;
}

/* The namespaces' side of the flow: fwrun.c wires the modules in here, so
 * ns.c stays a mechanism that knows none of them. */
static int container_hook(enum fw_step step, void *data, struct fw_error *e)
{
	struct run *run = data;

	switch (step) {
	case STEP_PRE_PIVOT:
		return aa_apply_onexec(&run->aa, e);
	default:
		return 0;
	}
}

/* The init never sees fwrun's own environment (sudo's, the user's): only
 * this, and what --setenv adds. */
static const char *const init_env_default[] = {
	"PATH=/sbin:/system/bin:/system/xbin:/bin:/usr/sbin:/usr/bin",
	"container=fwrun",
};

int fwrun_setenv_valid(const char *s)
{
	const char *eq = strchr(s, '=');

	if (!eq || eq == s || eq - s > 128 || strlen(eq + 1) > 4096)
		return -EINVAL;
	if (*s >= '0' && *s <= '9')
		return -EINVAL;
	for (const char *p = s; p < eq; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '_')
			return -EINVAL;
	return 0;
}

size_t fwrun_init_env(const struct fwrun_opts *o, const char **envp)
{
	size_t n = 0;

	for (size_t i = 0; i < FW_ARRAY_SIZE(init_env_default); i++)
		envp[n++] = init_env_default[i];
	for (size_t i = 0; i < o->nsetenv; i++) {
		const char *s = o->setenv[i];
		size_t len = (size_t)(strchr(s, '=') - s) + 1;	/* "NAME=" */
		size_t k;
		for (k = 0; k < n; k++)
			if (strncmp(envp[k], s, len) == 0)
				break;
		envp[k] = s;
		if (k == n)
			n++;
	}
	envp[n] = NULL;
	return n;
}

static void print_steps(const struct ns_instance *ns)
{
	uint64_t prev = ns->step_ns[STEP_NONE];

	for (int s = STEP_UNSHARE; s < STEP_COUNT; s++) {
		if (!ns->step_ns[s])
			continue;
		fprintf(stderr, "fwrun: %-40s %8.3f ms\n", fw_step_name(s),
			(double)(ns->step_ns[s] - prev) / 1e6);
		prev = ns->step_ns[s];
	}
	fprintf(stderr, "fwrun: %-40s %8.3f ms\n", "total to exec",
		(double)(prev - ns->step_ns[STEP_NONE]) / 1e6);
}

/* Is path (which may not exist yet) inside the directory dir? Resolved
 * through the nearest existing ancestor of path, so symlinks cannot hide it. */
static bool path_within(const char *path, const char *dir)
{
	char rdir[PATH_MAX], probe[PATH_MAX], rprobe[PATH_MAX];

	if (!realpath(dir, rdir))
		return false;
	fw_strlcpy(probe, path, sizeof(probe));
	while (!realpath(probe, rprobe)) {
		char *slash = strrchr(probe, '/');
		if (!slash)
			return realpath(".", rprobe) && path_within(rprobe, rdir);
		if (slash == probe) {
			strcpy(rprobe, "/");
			break;
		}
		*slash = '\0';
	}
	size_t n = strlen(rdir);
	return strcmp(rdir, "/") == 0 ||
	       (strncmp(rprobe, rdir, n) == 0 && (rprobe[n] == '/' || rprobe[n] == '\0'));
}

static int read_recorded_rootfs(const struct state_paths *st, char *buf, size_t size)
{
	int fd = open(st->rootfs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n = fw_read_all(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? (int)n : -ENODATA;
	buf[n] = '\0';
	return 0;
}

/* Where the state lives, and whether it may: before anything is touched. */
static int plan_state(struct run *run)
{
	const struct fwrun_opts *o = run->o;
	int r = state_paths(&run->state, o->state_dir, o->name);

	if (r < 0)
		return fw_fail(&run->e, r, "state directory for", o->state_dir ? o->state_dir : o->name);
	/* The firmware tree never changes: not even by our own state. */
	if (!o->ephemeral && run->rootfs.kind == ROOTFS_DIR &&
	    path_within(run->state.dir, o->rootfs))
		return fw_fail_hint(&run->e, EINVAL, "use state directory", run->state.dir,
				    "it lies inside the --rootfs directory, which must not change");
	return 0;
}

/* The state dir on disk: made, locked, the kernel's work/work cleared.
 * Run while the setup thread makes its namespaces and mounts the rootfs:
 * it needs the upper dir only for the overlay. */
static int prepare_state(struct run *run)
{
	const struct fwrun_opts *o = run->o;
	char abs[PATH_MAX];
	int r;

	if (o->ephemeral)
		return 0;
	r = state_prepare(&run->state, &run->e);
	if (r < 0)
		return r;
	bool earlier_boot;
	run->lock_fd = state_lock(&run->state, &earlier_boot, &run->e);
	if (run->lock_fd < 0)
		return run->lock_fd;
	if (o->reset && (r = state_reset(&run->state, &run->e)) < 0)
		return r;
	if (earlier_boot && !o->reset && o->verbosity > FWRUN_QUIET)
		fprintf(stderr, "fwrun: the last run on %s was in an earlier boot of this host, "
			"and its writes are not synced at its end: if the host crashed soon "
			"after, some may be missing (--reset starts over)\n", run->state.dir);
	/* Remember the image for --diff (rewritten only when it changes). */
	char recorded[PATH_MAX];
	if (realpath(o->rootfs, abs) &&
	    (read_recorded_rootfs(&run->state, recorded, sizeof(recorded)) < 0 ||
	     strcmp(recorded, abs) != 0)) {
		char tmp[PATH_MAX + 8];
		snprintf(tmp, sizeof(tmp), "%s.tmp", run->state.rootfs);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0) {
			bool ok = fw_write_all(fd, abs, strlen(abs)) >= 0;
			close(fd);
			if (!ok || rename(tmp, run->state.rootfs) < 0)
				unlink(tmp);
		}
	}
	return 0;
}

static void print_net_plan(const struct net_plan *n)
{
	char a[64], h[64], vh[IFNAMSIZ];

	printf("network:    own namespace, lo up\n");
	for (size_t i = 0; i < n->nlinks; i++) {
		const struct net_tap_spec *t = &n->links[i].spec;
		if (t->addr.family)
			net_format_cidr(&t->addr, a, sizeof(a));
		printf("tap:        %s in as %s%s%s, up; given back at exit (a tap made if missing)\n",
		       t->ifname, t->inner, t->addr.family ? " with " : "", t->addr.family ? a : "");
	}
	if (n->veth) {
		if (net_veth_host_name(n->instance, vh) < 0)
			fw_strlcpy(vh, "?", sizeof(vh));
		if (n->veth_addr_given) {
			net_format_cidr(&n->veth_fw, a, sizeof(a));
			net_format_cidr(&n->veth_host, h, sizeof(h));
		} else {
			fw_strlcpy(a, "10.202.N.1/24", sizeof(a));
			fw_strlcpy(h, "10.202.N.254/24 (N picked at run time)", sizeof(h));
		}
		printf("veth:       eth0 %s, default route via host end %s %s\n", a, vh, h);
	}
}

static void print_life_plan(const struct run *run)
{
	const struct fwrun_opts *o = run->o;
	struct console_decision how = console_decide(o->console, isatty(STDIN_FILENO));
	char k[32], t[32];
	char **argv = console_init_argv(o->init_argv, FWRUN_DEFAULT_INIT, how.pty);

	printf("init:      ");
	for (char **a = argv ? argv : o->init_argv; *a; a++)
		printf(" %s", *a);
	printf("\n");
	free(argv);
	const char *envp[FWRUN_SETENV_MAX + 3];
	fwrun_init_env(o, envp);
	printf("env:       ");
	for (const char **v = envp; *v; v++)
		printf(" %s", *v);
	printf(" (nothing of fwrun's own)\n");
	if (how.pty)
		printf("console:    pty as /dev/console, relayed%s; Ctrl-] x3 in 1s kills\n",
		       how.raw ? " (terminal in raw mode)" : " from stdin");
	else
		printf("console:    none: the init inherits fwrun's stdin/stdout/stderr\n");
	supervise_format_duration(k, sizeof(k), o->life.kill_after_ms);
	supervise_format_duration(t, sizeof(t), o->life.timeout_ms);
	printf("stop:       SIG%s on SIGINT/SIGTERM/SIGHUP%s%s, SIGKILL %s later%s\n",
	       sigabbrev_np(o->life.stop_signal) ? sigabbrev_np(o->life.stop_signal) : "?",
	       o->life.timeout_ms ? " or after " : "", o->life.timeout_ms ? t : "", k,
	       o->restart_on_reboot ? "; restart on reboot" : "");
}

static void print_plan(const struct run *run)
{
	const struct fwrun_opts *o = run->o;

	printf("rootfs:     %s (%s%s)\n", o->rootfs, rootfs_kind_name(run->rootfs.kind),
	       run->rootfs.ext_needs_recovery ? ", dirty journal: not replayed" : "");
	if (run->rootfs.kind == ROOTFS_DIR)
		printf("lower:      read-only bind mount\n");
	else
		printf("lower:      loop device (read-only, autoclear), mounted read-only%s\n",
		       run->rootfs.ext_journal ? " with noload" : "");
	if (o->ephemeral)
		printf("upper:      tmpfs (ephemeral)\n");
	else
		printf("upper:      %s%s\nwork:       %s\nlock:       %s\n", run->state.upper,
		       o->reset ? " (emptied first)" : "", run->state.work, run->state.lock);
	printf("name:       %s\nhostname:   %s\n", o->name, o->hostname ? o->hostname : o->name);
	printf("namespaces: mnt uts ipc net (+sysvsem), then pid last\n");
	print_net_plan(&o->net);
	printf("root:       pivot_root to the overlay (chroot where pivot_root cannot)\n");
	char line[1024];
	aa_describe(&run->aa, line, sizeof(line));
	printf("apparmor:   %s\n", line);
	caps_format(run->cap_drop, line, sizeof(line));
	printf("caps:       cut from the bounding set: %s\n", line);
	cg_describe(&run->cg, line, sizeof(line));
	printf("cgroup:     %s\n", line);
	print_life_plan(run);
}

/* Host side, before anything runs: the AppArmor decision and the set of
 * capabilities to cut (also for --dry-run). */
static int decide_protection(struct run *run)
{
	const struct fwrun_opts *o = run->o;

	run->cap_drop = caps_resolve(&o->caps, caps_all_mask(caps_last_cap()));
	return aa_decide(&run->aa, o->apparmor, o->aa_profile,
			 aa_kernel_enabled(&aa_env_system), &run->e);
}

/* Load fwrun's profile when the kernel does not hold it yet (or check
 * --profile is loaded), cut our bounding set; say what was decided. */
static int prepare_protection(struct run *run)
{
	const struct fwrun_opts *o = run->o;
	char line[1024];

	if (aa_prepare(&run->aa, &aa_env_system, &run->e) < 0)
		return -1;
	/* Our own bounding set, which the setup thread and pid 1 inherit:
	 * cut here, before the setup thread starts, it costs the thread's
	 * critical path nothing. It changes nothing for us: fwrun executes
	 * nothing after the profile's parser above. */
	if (caps_apply_drop(run->cap_drop, &run->e) < 0)
		return -1;
	if (o->verbosity >= FWRUN_VERBOSE) {
		aa_describe(&run->aa, line, sizeof(line));
		fprintf(stderr, "fwrun: apparmor: %s\n", line);
		caps_format(run->cap_drop, line, sizeof(line));
		fprintf(stderr, "fwrun: capabilities cut from the bounding set: %s\n", line);
	}
	return 0;
}

static int init_failed_status(const struct fw_error *e)
{
	if (e->step != STEP_EXEC)
		return FWRUN_EXIT_FAILURE;
	return e->err == ENOENT || e->err == ENOTDIR || e->err == ELOOP ?
	       FWRUN_EXIT_NOTFOUND : FWRUN_EXIT_NOEXEC;
}

/* A line on stderr for the user; the terminal may be raw while the console
 * is relayed (no output processing): then end it with CR LF. */
static void say(const struct console *con, const char *msg)
{
	fprintf(stderr, "fwrun: %s%s", msg, con->how.raw && con->master >= 0 ? "\r\n" : "\n");
}

static void emit_started(const struct run *run, unsigned run_no)
{
	struct events_started ev = {
		.run = run_no,
		.pid = run->ns.init_pid,
		.supervisor_pid = getpid(),
		.name = run->o->name,
	};
	char line[EVENTS_LINE_MAX];
	int n;

	if (run->o->status_fd < 0)
		return;		/* nobody listens: not even the ids are worth reading */
	for (size_t i = 0; i < EVENTS_NS_COUNT; i++)
		ev.ns[i] = ns_id(run->ns.init_pid, events_ns_types[i]);
	n = events_format_started(line, sizeof(line), &ev);
	if (n > 0)
		events_emit(run->o->status_fd, line, n);
}

static void emit_exited(const struct run *run, const struct events_exited *ev)
{
	char line[EVENTS_LINE_MAX];
	int n = events_format_exited(line, sizeof(line), ev);

	if (n > 0)
		events_emit(run->o->status_fd, line, n);
}

/* The whole firmware's peak memory and CPU time, from its cgroup, for the
 * exited event and -v; an OOM kill is said even without -v. */
static void report_usage(const struct run *run, struct events_exited *ev)
{
	struct cg_stats st;

	cg_stats(&run->cg, &st);
	ev->has_memory_peak = st.has_memory_peak;
	ev->memory_peak = st.memory_peak;
	ev->has_cpu = st.has_cpu;
	ev->cpu_usec = st.cpu_ns / 1000;
	ev->has_oom = st.has_oom;
	ev->oom_kills = st.oom_kills;
	if (st.oom_kills && run->o->verbosity > FWRUN_QUIET)
		fprintf(stderr, "fwrun: the firmware ran out of memory: the OOM killer killed "
			"%" PRIu64 " of its processes%s\n", st.oom_kills,
			ev->reason == EVENTS_SIGNAL && WTERMSIG(ev->wstatus) == SIGKILL ?
			", its init among them" : "");
	if (run->o->verbosity >= FWRUN_VERBOSE && (st.has_memory_peak || st.has_cpu))
		fprintf(stderr, "fwrun: firmware used %.1f MiB of memory at most, %.3f s of CPU\n",
			(double)st.memory_peak / (1024.0 * 1024), (double)st.cpu_ns / 1e9);
}

static int run_firmware(const struct fwrun_opts *o)
{
	/* Not on the stack: zeroing its 24 KiB there (paths of PATH_MAX) would
	 * fault in six pages, mostly never used, that every fork then shares
	 * copy-on-write. Zero in .bss, it costs only the pages written. Once
	 * per process. */
	static struct run run;
	run.o = o;
	run.rootfs_fd = run.lock_fd = run.name_lock_fd = -1;
	int status = FWRUN_EXIT_FAILURE;
	struct console con;
	struct supervise_result res;
	_cleanup_free_ char **argv = NULL;
	unsigned run_no = 0;
	uint64_t t0 = 0;

	ns_instance_init(&run.ns);
	run.net = o->net;
	console_init(&con);
	run.rootfs_fd = rootfs_probe(o->rootfs, &run.rootfs, &run.e);
	if (run.rootfs_fd < 0)
		goto fail;
	if (decide_protection(&run) < 0 ||
	    cg_plan_host(&run.cg, &o->cgroup, o->name, &run.e) < 0)
		goto fail;
	if (o->dry_run) {
		if (plan_state(&run) < 0)
			goto fail;
		print_plan(&run);
		status = 0;
		goto out;
	}
	/* The runtime dirs first (the network's records live there), then
	 * the network: every refusal before anything else is touched. */
	if (rundir_ensure(&run.e) < 0 || net_validate(&run.net, &run.e) < 0)
		goto fail;
	if (o->status_fd >= 0 && events_open(o->status_fd, &run.e) < 0)
		goto fail;
	if (ns_become_subreaper(&run.e) < 0 || plan_state(&run) < 0 ||
	    prepare_protection(&run) < 0)
		goto fail;
	if (console_open(&con, console_decide(o->console, isatty(STDIN_FILENO)), &run.e) < 0)
		goto fail;
	argv = console_init_argv(o->init_argv, FWRUN_DEFAULT_INIT, con.master >= 0);
	if (!argv) {
		fw_fail(&run.e, ENOMEM, "build the argv of", o->init_argv[0]);
		goto fail;
	}

	const char *envp[FWRUN_SETENV_MAX + 3];
	fwrun_init_env(o, envp);
	struct ns_plan plan = {
		.rootfs_path = o->rootfs,
		.rootfs_fd = run.rootfs_fd,
		.rootfs = run.rootfs,
		.upper = o->ephemeral ? NULL : run.state.upper,
		.work = o->ephemeral ? NULL : run.state.work,
		.hostname = o->hostname ? o->hostname : o->name,
		.argv = argv,
		.envp = (char *const *)envp,
		.console_fd = con.slave,
		.console_path = con.master >= 0 ? con.slave_path : NULL,
		.report_steps = o->verbosity >= FWRUN_VERBOSE,
		.cgroup = &run.cg.join,
		.devices = run.cg.opts.devices,
		.ndevices = run.cg.opts.ndevices,
		.hook = container_hook,
		.hook_data = &run,
	};
	/* One pass per boot: --restart-on-reboot starts the firmware again in
	 * fresh namespaces, on the same upper dir and the same pty. */
	for (;;) {
		run_no++;
		if (ns_spawn(&run.ns, &plan, &run.e) < 0)
			goto fail;
		/* While the setup thread unshares and mounts, what only we
		 * use: the name's lock, the taps and the --veth subnet, the
		 * state dir (on a restart, only the overlay's marker from the
		 * last boot). A refusal here ends the thread, which has touched
		 * nothing outside its own namespaces. */
		if (run_no == 1 && (run.name_lock_fd = instance_lock(o->name, &run.e)) < 0)
			goto fail;
		/* Under the name's lock, in a thread while the rest goes on;
		 * kept across reboots (one account). */
		if (run_no == 1 && cg_create_start(&run.cg, &run.e) < 0)
			goto fail;
		if (net_prepare(&run.net, &run.e) < 0)
			goto fail;
		if (run_no == 1 ? prepare_state(&run) < 0 :
		    !o->ephemeral && state_clear_workdir(&run.state, &run.e) < 0)
			goto fail;

		/* The network while it goes on: it starts pid 1 only after
		 * ns_start_init()'s word. */
		if (ns_ready(&run.ns, &run.e) < 0 ||
		    net_move_in(&run.net, run.ns.netns_fd, &run.e) < 0 ||
		    net_inside(&run.net, run.ns.netns_fd, &run.e) < 0)
			goto fail;
		if (cg_create_wait(&run.cg, &run.e) < 0)
			goto fail;
		if (ns_start_init(&run.ns, &run.e) < 0) {
			status = init_failed_status(&run.e);
			goto fail;
		}
		if (!t0)
			t0 = fw_now_ns();	/* --timeout counts from the first start */
		if (o->verbosity >= FWRUN_VERBOSE && run_no == 1) {
			print_steps(&run.ns);
			fprintf(stderr, "fwrun: %-40s %8.3f ms\n", "network inside (supervisor, meanwhile)",
				(double)run.net.inside_ns / 1e6);
			fprintf(stderr, "fwrun: %-40s %8.3f ms\n", "cgroup (supervisor, meanwhile)",
				(double)run.cg.create_ns / 1e6);
		}
		emit_started(&run, run_no);
		/* Once the init runs (a failure before says only what failed). */
		if (run_no == 1 && !run.aa.confine && o->apparmor == AA_MODE_AUTO &&
		    o->verbosity > FWRUN_QUIET)
			fprintf(stderr, "fwrun: %s\n", AA_NOTICE_UNAVAILABLE);
		if (run_no == 1 && con.how.raw && console_unraw_left() &&
		    o->verbosity > FWRUN_QUIET)
			fprintf(stderr, "fwrun: the terminal was left in raw mode (by a killed "
				"fwrun?): it is given back in a sane mode at exit\n");
		if (run_no == 1 && console_raw(&con, &run.e) < 0)
			goto fail;
		if (supervise_run(run.ns.init_pid, &o->life, &con, t0, &res, &run.e) < 0)
			goto fail;
		run.ns.init_pid = -1;	/* reaped */
		/* A reboot while fwrun was stopping it (a signal, the timeout)
		 * is the end asked for, not a restart. */
		if (res.reason != EVENTS_REBOOT || !o->restart_on_reboot || res.timer.stopping)
			break;
		{
			char line[EVENTS_LINE_MAX];
			int n = events_format_restarting(line, sizeof(line), run_no, res.reason);
			if (n > 0)
				events_emit(o->status_fd, line, n);
		}
		if (o->verbosity >= FWRUN_NORMAL)
			say(&con, "firmware rebooted: starting it again");
		ns_abort(&run.ns);
		/* Interfaces back from the old namespace, into the next one. */
		if (net_restore(&run.net, run.ns.netns_fd, &run.e) < 0)
			goto fail;
		if (run.ns.netns_fd >= 0)
			close(run.ns.netns_fd);
		ns_instance_init(&run.ns);
		if (net_validate(&run.net, &run.e) < 0)
			goto fail;
	}
	console_close(&con);	/* the terminal is cooked again from here */
	{
		char msg[256];
		/* A timeout is a failure (124): said even with -q. */
		if (supervise_describe(&res, msg, sizeof(msg)) > 0 &&
		    (o->verbosity >= FWRUN_NORMAL || res.reason == EVENTS_TIMEOUT))
			say(&con, msg);
	}
	status = res.status;
	{
		struct events_exited ev = {
			.run = run_no, .status = status, .reason = res.reason, .wstatus = res.wstatus,
		};
		report_usage(&run, &ev);
		emit_exited(&run, &ev);
	}
	goto out;
fail:
	console_close(&con);
	if (o->verbosity >= FWRUN_VERBOSE && run.ns.step_ns[STEP_NONE])
		print_steps(&run.ns);
	print_error(&run.e);
	if (!o->dry_run) {
		char line[1024];
		fwrun_format_error(line, sizeof(line), &run.e);
		emit_exited(&run, &(struct events_exited){
			.run = run_no, .status = status, .reason = EVENTS_SETUP_ERROR,
			.error = line,
		});
	}
out:
	console_close(&con);
	ns_abort(&run.ns);
	/* The init is reaped: its cgroup empties as its namespace dies. */
	struct fw_error ce = { 0 };
	if (cg_remove(&run.cg, &ce) < 0) {
		print_error(&ce);
		if (status == 0)
			status = FWRUN_EXIT_FAILURE;
	}
	/* Interfaces back before the namespace goes: its fd keeps it alive. */
	struct fw_error ne = { 0 };
	if (net_restore(&run.net, run.ns.netns_fd, &ne) < 0) {
		print_error(&ne);
		if (status == 0)
			status = FWRUN_EXIT_FAILURE;
	}
	if (o->verbosity >= FWRUN_VERBOSE && !net_plan_empty(&run.net))
		fprintf(stderr, "fwrun: %-40s %8.3f ms\nfwrun: %-40s %8.3f ms\n",
			"network move in (supervisor)", (double)run.net.move_ns / 1e6,
			"network give back (supervisor)", (double)run.net.restore_ns / 1e6);
	if (run.ns.netns_fd >= 0)
		close(run.ns.netns_fd);
	if (run.rootfs_fd >= 0)
		close(run.rootfs_fd);
	if (run.lock_fd >= 0)
		close(run.lock_fd);
	instance_unlock(o->name, run.name_lock_fd);
	return status;
}

/* ---- --diff ---- */

static int print_change(enum diff_change change, const char *path, void *userdata)
{
	(void)userdata;
	if (printf("%c %s\n", diff_letter(change), path) < 0)
		return -EIO;
	return 0;
}

/* The lower tree is mounted in a private mount namespace of a child, so
 * that A (added) and M (modified) can be told apart; nothing reaches the host. */
static int show_diff(const struct fwrun_opts *o)
{
	struct state_paths st;
	struct fw_error e = { 0 };
	char recorded[PATH_MAX];
	const char *rootfs = o->rootfs;
	struct stat sb;
	int r;

	r = state_paths(&st, o->state_dir, o->name_given || o->rootfs ? o->name : NULL);
	if (r < 0) {
		fw_fail(&e, r, "state directory for", o->state_dir ? o->state_dir : o->name);
		goto fail;
	}
	if (lstat(st.upper, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		fw_fail_hint(&e, errno ? errno : ENOTDIR, "read the diff of", st.dir,
			     "no run has left state there");
		goto fail;
	}
	if (!rootfs) {
		if (read_recorded_rootfs(&st, recorded, sizeof(recorded)) < 0) {
			fw_fail_hint(&e, ENOENT, "find the rootfs of", st.dir, "give --rootfs");
			goto fail;
		}
		rootfs = recorded;
	}
	if (rundir_ensure(&e) < 0)
		goto fail;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		fw_fail(&e, errno, "fork", "diff");
		goto fail;
	}
	if (pid == 0) {
		struct rootfs_info info;
		char lower[PATH_MAX];
		int fd = rootfs_probe(rootfs, &info, &e);
		if (fd < 0)
			goto child_fail;
		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("fwrun", FWRUN_MNT_DIR, "tmpfs", 0, "mode=0755") < 0) {
			fw_fail(&e, errno, "set up a private mount namespace for", "diff");
			goto child_fail;
		}
		snprintf(lower, sizeof(lower), "%s/lower", FWRUN_MNT_DIR);
		if (mkdir(lower, 0755) < 0) {
			fw_fail(&e, errno, "create directory", lower);
			goto child_fail;
		}
		if (rootfs_mount(rootfs, fd, &info, lower, &e) < 0)
			goto child_fail;
		if (diff_walk(st.upper, lower, print_change, NULL, &e) < 0)
			goto child_fail;
		if (fflush(stdout) != 0)
			_exit(FWRUN_EXIT_FAILURE);
		_exit(0);
child_fail:
		print_error(&e);
		_exit(FWRUN_EXIT_FAILURE);
	}
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : FWRUN_EXIT_FAILURE;
fail:
	print_error(&e);
	return FWRUN_EXIT_FAILURE;
}

/* Started with 0, 1 or 2 closed, the next open would take that number: an
 * error line could land in the lock file, the image's fd could become the
 * init's stdin. Fill each gap with /dev/null first. */
static void fill_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int n = open("/dev/null", O_RDWR);	/* lowest free: fd itself */
		if (n >= 0 && n != fd)
			close(n);
	}
}

int fwrun_main(int argc, char **argv)
{
	struct fwrun_opts o;
	struct fw_error e;
	sigset_t sigs;

	fill_std_fds();
	/* Before reading a single argument: a setuid fwrun would parse for
	 * whoever runs it. */
	if (getuid() != geteuid()) {
		usage_error(&e, "refusing to run setuid", "", "run fwrun with sudo");
		print_error(&e);
		return FWRUN_EXIT_FAILURE;
	}
	switch (fwrun_parse(&o, argc, argv, &e)) {
	case FWRUN_PARSE_EXIT_OK:
		return fflush(stdout) == 0 ? 0 : FWRUN_EXIT_FAILURE;
	case FWRUN_PARSE_ERROR:
		return fail_usage(&e);
	case FWRUN_PARSE_RUN:
		break;
	}
	if (geteuid() != 0 && !o.dry_run) {
		usage_error(&e, "must run as root", "", "try 'sudo fwrun ...'");
		print_error(&e);
		return FWRUN_EXIT_FAILURE;
	}
	if (o.diff)
		return show_diff(&o);

	/* Signals are read from a signalfd once the init runs; until then they
	 * wait, so that setup and cleanup are never cut in half. */
	supervise_sigmask(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	return run_firmware(&o);
}
