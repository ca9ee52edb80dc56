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
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>

#include "enter.h"
#include "events.h"
#include "instances.h"
#include "ns.h"
#include "rootfs.h"
#include "state.h"
#include "plan.h"
#include "run.h"
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
	OPT_LOAD_PROFILE,
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
	OPT_SECCOMP,
	OPT_CONSOLE_LOG,
	OPT_UNTIL,
	OPT_LIST,
	OPT_JSON,
	OPT_ENTER,
	OPT_STOP,
	OPT_REMOVE,
	OPT_BIND,
	OPT_BIND_RO,
};

static const struct option long_options[] = {
	{ "rootfs", required_argument, NULL, OPT_ROOTFS },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "ephemeral", no_argument, NULL, OPT_EPHEMERAL },
	{ "reset", no_argument, NULL, OPT_RESET },
	{ "diff", no_argument, NULL, OPT_DIFF },
	{ "dry-run", optional_argument, NULL, OPT_DRY_RUN },
	{ "apparmor", required_argument, NULL, OPT_APPARMOR },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "print-profile", no_argument, NULL, OPT_PRINT_PROFILE },
	{ "load-profile", no_argument, NULL, OPT_LOAD_PROFILE },
	{ "cap-drop", required_argument, NULL, OPT_CAP_DROP },
	{ "cap-add", required_argument, NULL, OPT_CAP_ADD },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
	{ "kill-after", required_argument, NULL, OPT_KILL_AFTER },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "restart-on-reboot", no_argument, NULL, OPT_RESTART_ON_REBOOT },
	{ "status-fd", required_argument, NULL, OPT_STATUS_FD },
	{ "setenv", required_argument, NULL, OPT_SETENV },
	{ "console-log", required_argument, NULL, OPT_CONSOLE_LOG },
	{ "until", required_argument, NULL, OPT_UNTIL },
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
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "enter", required_argument, NULL, OPT_ENTER },
	{ "stop", required_argument, NULL, OPT_STOP },
	{ "remove", no_argument, NULL, OPT_REMOVE },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "bind-ro", required_argument, NULL, OPT_BIND_RO },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
"Usage: fwrun [OPTIONS] --rootfs IMAGE|DIR [--] [INIT [ARG...]]\n"
"       fwrun --diff (--name NAME | --state-dir DIR | --rootfs IMAGE|DIR)\n"
"       fwrun --list [--json]\n"
"       fwrun --enter NAME [--setenv NAME=VALUE]... [--] [CMD [ARG...]]\n"
"       fwrun --stop NAME [--timeout SECS]\n"
"       fwrun (--reset | --remove) (--name NAME | --state-dir DIR)\n"
"       fwrun --load-profile\n"
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
"      --remove             delete the state dir (with --name or --state-dir,\n"
"                           no --rootfs); --reset alone only empties it\n"
"      --bind SRC[:DST]     bind host file or directory SRC on DST (default:\n"
"                           SRC) in the firmware, inside its mount namespace\n"
"                           only; a missing DST is made in the upper dir\n"
"      --bind-ro SRC[:DST]  the same, read-only (recursively)\n"
"      --hostname NAME      the firmware's hostname (default: the name)\n"
"      --setenv NAME=VALUE  set a variable in the init's environment, which\n"
"                           otherwise holds only PATH, container=fwrun and\n"
"                           container_uuid\n"
"                           (repeatable)\n"
"\n"
"Host protection:\n"
"      --apparmor=MODE      auto (default: confine when the kernel has\n"
"                           AppArmor), on (refuse to run without), off\n"
"      --profile NAME       confine with this already-loaded profile\n"
"                           instead of fwrun's own\n"
"      --print-profile      print fwrun's AppArmor profile and exit\n"
"      --load-profile       load it into the kernel unless it is there, record\n"
"                           it so that later boots need no parser, and exit\n"
"      --cap-drop CAP       also cut CAP from the bounding set (repeatable;\n"
"                           CAP as in capabilities(7), CAP_ optional, or ALL)\n"
"      --cap-add CAP        keep CAP, which the default set would cut\n"
"      --device PATH[:rwm]  pass the host device node PATH (under /dev) in: made\n"
"                           in the firmware's /dev, let through its cgroup's\n"
"                           device allowlist (default rwm; repeatable)\n"
"      --memory-max SIZE    limit the firmware's memory (512M, 2G; no swap)\n"
"      --pids-max N         limit its number of processes and threads\n"
"      --cpus N             limit its CPU time to N CPUs (0.5, 2)\n"
"      --seccomp=on|off     the syscall filter: EPERM for kexec, modules,\n"
"                           keyrings, clock setters... (default on)\n"
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
"      --console MODE       auto (default): pty when stdin is a terminal,\n"
"                           else read-only;\n"
"                           pty: the firmware's /dev/console is a pty relayed\n"
"                           to this terminal (raw: Ctrl-C goes to the\n"
"                           firmware; Ctrl-] 3 times in 1s kills it);\n"
"                           read-only: a pty copied to stdout, no input;\n"
"                           pipe: the init inherits fwrun's stdio.\n"
"                           The firmware's /dev/kmsg shows as 'kmsg: ' lines\n"
"      --console-log FILE   append the console's lines to FILE too\n"
"      --until REGEX        stop the firmware when a console line matches\n"
"                           (POSIX extended regex) and exit 0\n"
"      --stop-signal SIG    sent to the init when fwrun gets SIGINT, SIGTERM\n"
"                           or SIGHUP, or on --timeout (default: the init's\n"
"                           own: SIGRTMIN+3 systemd, SIGUSR2 busybox init,\n"
"                           SIGTERM others)\n"
"      --kill-after SECS    then SIGKILL it after SECS (default 10); a second\n"
"                           SIGINT kills at once\n"
"      --timeout SECS       stop the firmware after SECS; exit status 124\n"
"      --restart-on-reboot  start it again (fresh namespaces, same upper dir)\n"
"                           when it reboots, until it powers off or exits\n"
"      --status-fd FD       write JSON lines to FD: started, matched, exited\n"
"                           (SECS: 1.5, 500ms, 30s, 2m, 1h)\n"
"\n"
"Running instances:\n"
"      --list               the running instances, one a line\n"
"      --json               with --list: one JSON object a line\n"
"      --enter NAME         run CMD (default /bin/sh) in the running instance\n"
"                           NAME: its namespaces, root, bounding set and\n"
"                           AppArmor profile; exit status CMD's\n"
"      --stop NAME          stop it as SIGTERM to its fwrun would, and wait\n"
"                           for its end (--timeout bounds the wait: 124)\n"
"\n"
"Telling:\n"
"      --dry-run[=FORMAT]   print the plan, touch nothing; FORMAT text\n"
"                           (default) or json\n"
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

int fwrun_bind_parse(const char *spec, bool ro, struct fwrun_bind *b, const char **reason)
{
	const char *colon = strchr(spec, ':');
	size_t src_len = colon ? (size_t)(colon - spec) : strlen(spec);
	const char *dst = colon ? colon + 1 : spec;

	*reason = NULL;
	if (src_len == 0 || spec[0] != '/')
		*reason = "SRC must be an absolute path";
	else if (dst[0] != '/')
		*reason = "DST must be an absolute path";
	else if (strchr(dst, ':'))
		*reason = "use SRC[:DST]: paths with ':' cannot be bound";
	else if (src_len >= PATH_MAX || strlen(dst) >= PATH_MAX)
		*reason = "path too long";
	if (!*reason) {
		/* DST is a path in the firmware: never "..", never the root. */
		bool root = true;
		for (const char *p = dst; *p;) {
			size_t n = strcspn(p, "/");
			if (n == 2 && p[0] == '.' && p[1] == '.')
				*reason = "DST must not contain '..'";
			if (n && !(n == 1 && p[0] == '.'))
				root = false;
			p += n;
			p += *p == '/';
		}
		if (!*reason && root)
			*reason = "DST must not be the firmware's root";
	}
	if (*reason)
		return -EINVAL;
	*b = (struct fwrun_bind){ .spec = spec, .src_len = src_len, .dst = dst, .ro = ro };
	return 0;
}

/* The first option given that only a run of a firmware takes, or NULL. */
static const char *run_option_given(const struct fwrun_opts *o)
{
	if (o->rootfs)
		return "--rootfs";
	if (o->ephemeral)
		return "--ephemeral";
	if (o->hostname)
		return "--hostname";
	if (o->dry_run)
		return "--dry-run";
	if (!net_spec_empty(&o->net) || o->net.force_default_route)
		return "--tap/--veth";
	if (o->nbinds)
		return "--bind";
	if (o->restart_on_reboot)
		return "--restart-on-reboot";
	if (o->status_fd >= 0)
		return "--status-fd";
	if (o->aa_profile || o->apparmor != AA_MODE_AUTO)
		return "--apparmor/--profile";
	if (o->caps.add || o->caps.drop || o->caps.add_all || o->caps.drop_all)
		return "--cap-add/--cap-drop";
	if (o->console != CONSOLE_AUTO)
		return "--console";
	return NULL;
}

/* --list, --enter, --stop, --reset and --remove without a firmware to run. */
static enum fwrun_parse_result check_instance_command(struct fwrun_opts *o, const char *opt,
						      struct fw_error *e)
{
	const char *other = run_option_given(o);
	bool timeout_ok = o->action == FWRUN_ENTER || o->action == FWRUN_STOP;
	bool name_ok = o->action == FWRUN_RESET || o->action == FWRUN_REMOVE;
	char reason[128];

	if (other || o->diff) {
		snprintf(reason, sizeof(reason), "does not go with %s", o->diff ? "--diff" : other);
		return usage_error(e, "option", opt, reason);
	}
	if (o->init_argv && o->action != FWRUN_ENTER)
		return usage_error(e, "option", opt, "takes no INIT");
	if (o->nsetenv && o->action != FWRUN_ENTER)
		return usage_error(e, "option", "--setenv", "only goes with a run or --enter");
	if (!timeout_ok && o->life.timeout_ms)
		return usage_error(e, "option", "--timeout", "does not go with that command");
	if (!name_ok && (o->name_given || o->state_dir))
		return usage_error(e, "option", opt, o->action == FWRUN_LOAD_PROFILE ?
				   "takes no --name or --state-dir" :
				   "names its instance itself: no --name or --state-dir");
	if (name_ok && !o->name_given && !o->state_dir)
		return usage_error(e, "option", opt, "needs --name or --state-dir");
	if (o->json && o->action != FWRUN_LIST)
		return usage_error(e, "option", "--json", "only goes with --list");
	if (o->state_dir && !o->state_dir[0])
		return usage_error(e, "option", "--state-dir", "is empty");
	if (o->action == FWRUN_ENTER && o->init_argv && !o->init_argv[0][0])
		return usage_error(e, "CMD", "", "is empty");
	if (o->action == FWRUN_ENTER && !o->init_argv) {
		static char *default_cmd[] = { (char *)"/bin/sh", NULL };
		o->init_argv = default_cmd;
		o->init_argc = 1;
	}
	return FWRUN_PARSE_RUN;
}

/* Every combination is checked here, before anything privileged runs. */
static enum fwrun_parse_result check_options(struct fwrun_opts *o, struct fw_error *e)
{
	int r;

	/* One command at most. */
	int commands = o->list + !!o->target + o->remove + o->diff + o->load_profile;
	if (commands > 1)
		return usage_error(e, "option", "--list/--enter/--stop/--remove/--diff/--load-profile",
				   "give one of them");
	if (o->remove && o->reset)
		return usage_error(e, "option", "--remove", "does not go with --reset");
	if (o->load_profile && o->reset)
		return usage_error(e, "option", "--load-profile", "does not go with --reset");
	if (o->list)
		o->action = FWRUN_LIST;
	else if (o->load_profile)
		o->action = FWRUN_LOAD_PROFILE;
	else if (o->remove)
		o->action = FWRUN_REMOVE;
	else if (o->reset && !o->rootfs && !o->diff)
		o->action = FWRUN_RESET;
	static const char *const command_opt[] = {
		[FWRUN_LIST] = "--list", [FWRUN_ENTER] = "--enter", [FWRUN_STOP] = "--stop",
		[FWRUN_RESET] = "--reset", [FWRUN_REMOVE] = "--remove",
		[FWRUN_LOAD_PROFILE] = "--load-profile",
	};
	if (o->action != FWRUN_RUN)
		return check_instance_command(o, command_opt[o->action], e);
	if (o->json)
		return usage_error(e, "option", "--json", "only goes with --list");
	if (o->diff)
		o->action = FWRUN_DIFF;

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
	if (o->console == CONSOLE_PIPE && (o->console_log || o->until))
		return usage_error(e, "option", o->console_log ? "--console-log" : "--until",
				   "needs a console fwrun sees: --console=pipe hands the "
				   "init fwrun's stdio");
	if (o->diff && (o->console_log || o->until))
		return usage_error(e, "option", "--diff", "takes no --console-log or --until");
	if (o->diff && !net_spec_empty(&o->net))
		return usage_error(e, "option", "--diff", "takes no --tap or --veth");
	if (net_spec_check(&o->net, e) < 0)
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
	net_spec_init(&o->net);
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
			if (plan_parse_format(optarg, &o->dry_run_json) < 0)
				return usage_error(e, "option --dry-run", optarg,
						   "use text or json");
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
			if (net_spec_add_tap(&o->net, optarg, e) < 0)
				return net_usage_error(e);
			break;
		case OPT_VETH:
			if (o->net.veth)
				return usage_error(e, "option", "--veth", "given twice");
			if (net_spec_set_veth(&o->net, optarg, e) < 0)
				return net_usage_error(e);
			break;
		case OPT_FORCE_DEFAULT_ROUTE:
			o->net.force_default_route = true;
			break;
		case OPT_CONSOLE:
			if (console_mode_parse(optarg, &o->console) < 0)
				return usage_error(e, "console mode", optarg,
						   "use auto, pty, read-only or pipe");
			break;
		case OPT_CONSOLE_LOG:
			if (!optarg || !optarg[0])
				return usage_error(e, "option", "--console-log", "is empty");
			o->console_log = optarg;
			break;
		case OPT_UNTIL: {
			char why[128];

			/* tried in a child, under limits; the plan compiles its own */
			if (console_until_check(optarg, why, sizeof(why)) < 0)
				return usage_error(e, "--until", optarg, why);
			o->until = optarg;
			break;
		}
		case OPT_STOP_SIGNAL:
			if (supervise_parse_signal(optarg, &o->life.stop_signal) < 0)
				return usage_error(e, "stop signal", optarg,
						   "use a name (TERM, SIGRTMIN+3) or a number");
			o->stop_signal_given = true;
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
			if (cg_parse_pids(optarg, &o->cgroup.pids_max) < 0)
				return usage_error(e, "--pids-max", optarg, "use 1 to 4194304");
			break;
		case OPT_CPUS:
			if (cg_parse_cpus(optarg, &o->cgroup.cpu_quota_us) < 0)
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
		case OPT_SECCOMP:
			if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0)
				return usage_error(e, "option --seccomp", optarg, "use on or off");
			o->no_seccomp = strcmp(optarg, "off") == 0;
			break;
		case OPT_LIST:
			o->list = true;
			break;
		case OPT_LOAD_PROFILE:
			o->load_profile = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_ENTER:
		case OPT_STOP:
			if (o->target)
				return usage_error(e, "option", c == OPT_ENTER ? "--enter" : "--stop",
						   "given twice, or with --stop/--enter");
			if (fwrun_name_valid(optarg) < 0)
				return usage_error(e, "instance name", optarg,
						   "not a valid name: see fwrun --list");
			o->target = optarg;
			o->action = c == OPT_ENTER ? FWRUN_ENTER : FWRUN_STOP;
			break;
		case OPT_REMOVE:
			o->remove = true;
			break;
		case OPT_BIND:
		case OPT_BIND_RO: {
			const char *why;
			if (o->nbinds >= FWRUN_BIND_MAX)
				return usage_error(e, c == OPT_BIND ? "--bind" : "--bind-ro", optarg,
						   "more than 32 binds");
			if (fwrun_bind_parse(optarg, c == OPT_BIND_RO, &o->binds[o->nbinds], &why) < 0)
				return usage_error(e, c == OPT_BIND ? "--bind" : "--bind-ro", optarg,
						   why);
			o->nbinds++;
			break;
		}
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

void fwrun_print_error(const struct fw_error *e)
{
	char line[1024];

	fwrun_format_error(line, sizeof(line), e);
	fprintf(stderr, "%s\n", line);
}

static int fail_usage(const struct fw_error *e)
{
	fwrun_print_error(e);
	fputs("Try 'fwrun --help' for more information.\n", stderr);
	return FWRUN_EXIT_FAILURE;
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

/* ---- the run ---- */

/* Probe and plan: the facts (some 80 KiB) live in this frame only, which
 * has returned by the time the run gives its stack pages back
 * (release_setup_memory() in run.c). Returns the rootfs fd, or -1. */
static __attribute__((noinline)) int probe_and_plan(const struct fwrun_opts *o,
						    struct fwrun_plan *plan, struct fw_error *e)
{
	struct fwrun_facts facts;
	int fd = plan_probe(o, &facts, e);

	if (fd >= 0 && plan_build(plan, o, &facts, e) < 0) {
		cg_host_free(&facts.cgroup.host);	/* the plan's once built */
		close(fd);
		return -1;
	}
	return fd;
}

/* Probe, plan, then print the plan (--dry-run) or carry it out. */
static int plan_and_run(const struct fwrun_opts *o)
{
	/* Static: the plan holds paths of PATH_MAX (see run_plan()). */
	static struct fwrun_plan plan;
	struct fw_error e = { 0 };
	int status = FWRUN_EXIT_FAILURE;
	int fd = probe_and_plan(o, &plan, &e);

	if (fd >= 0) {
		if (!o->dry_run)
			return run_plan(&plan, fd);	/* closes fd */
		status = (o->dry_run_json ? plan_print_json(stdout, &plan) :
			  plan_print_text(stdout, &plan)) < 0 ? FWRUN_EXIT_FAILURE : 0;
	} else {
		fwrun_print_error(&e);
		if (!o->dry_run)
			run_report_setup_error(o->status_fd, 0, status, &e);
	}
	plan_free(&plan);
	if (fd >= 0)
		close(fd);
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
		if (state_read_rootfs(&st, recorded, sizeof(recorded)) < 0) {
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
		enum fw_step failed;
		if ((r = ns_private_scratch(CLONE_NEWNS, "mnt", NULL, NULL, &failed, &e)) < 0) {
			fw_fail(&e, r, "set up a private mount namespace for", "diff");
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
		fwrun_print_error(&e);
		_exit(FWRUN_EXIT_FAILURE);
	}
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : FWRUN_EXIT_FAILURE;
fail:
	fwrun_print_error(&e);
	return FWRUN_EXIT_FAILURE;
}

/* ---- running instances: --list, --stop, --enter ---- */

/* Seconds since a process started, from its start time in clock ticks. */
static uint64_t uptime_of(uint64_t start_ticks)
{
	char buf[64];
	double up = 0;
	long hz = sysconf(_SC_CLK_TCK);
	_cleanup_close_ int fd = open("/proc/uptime", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? fw_read_all(fd, buf, sizeof(buf) - 1) : -1;

	if (n <= 0 || hz <= 0)
		return 0;
	buf[n] = '\0';
	up = strtod(buf, NULL) - (double)start_ticks / (double)hz;
	return up > 0 ? (uint64_t)up : 0;
}

static void format_uptime(char *buf, size_t size, uint64_t s)
{
	if (s < 60)
		snprintf(buf, size, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%llum%02llus", (unsigned long long)(s / 60),
			 (unsigned long long)(s % 60));
	else
		snprintf(buf, size, "%lluh%02llum", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60));
}

/* One line of --list: NAME key=value... (values with spaces escaped as in
 * errors: control characters as \n, \xHH). */
static int list_text(const struct instance_record *r, void *data)
{
	char up[32], net[1024] = "", esc[PATH_MAX * 2];
	size_t len = 0;

	(void)data;
	format_uptime(up, sizeof(up), uptime_of(r->init_start));
	for (size_t i = 0; i < r->nnet && len < sizeof(net); i++) {
		const struct instance_net *n = &r->net[i];
		int k = snprintf(net + len, sizeof(net) - len, "%s%s:%s:%s%s%s", i ? "," : "",
				 n->kind, n->host, n->inner, n->addr[0] ? ":" : "", n->addr);
		if (k > 0)
			len += (size_t)k;
	}
	escape_controls(esc, sizeof(esc), r->rootfs);
	printf("%s pid=%d up=%s console=%s net=%s state=", r->name, (int)r->init_pid, up,
	       r->console, net[0] ? net : "-");
	if (r->ephemeral) {
		printf("ephemeral");
	} else {
		char sd[PATH_MAX * 2];
		escape_controls(sd, sizeof(sd), r->state_dir);
		printf("%s", sd);
	}
	printf(" rootfs=%s\n", esc);
	return ferror(stdout) ? -EIO : 0;
}

static void json_kv(const char *sep, const char *key, const char *value)
{
	static char buf[PATH_MAX * 2];

	events_json_escape(buf, sizeof(buf), value);
	printf("%s\"%s\":\"%s\"", sep, key, buf);
}

/* One JSON object a line: the same facts as the text, with times. */
static int list_json(const struct instance_record *r, void *data)
{
	(void)data;
	json_kv("{", "name", r->name);
	printf(",\"init_pid\":%d,\"supervisor_pid\":%d,\"uptime_s\":%llu,\"started\":%lld",
	       (int)r->init_pid, (int)r->supervisor_pid,
	       (unsigned long long)uptime_of(r->init_start), (long long)r->started);
	json_kv(",", "rootfs", r->rootfs);
	if (r->ephemeral)
		printf(",\"state_dir\":null,\"ephemeral\":true");
	else {
		json_kv(",", "state_dir", r->state_dir);
		printf(",\"ephemeral\":false");
	}
	json_kv(",", "console", r->console);
	printf(",\"network\":[");
	for (size_t i = 0; i < r->nnet; i++) {
		const struct instance_net *n = &r->net[i];
		json_kv(i ? ",{" : "{", "kind", n->kind);
		json_kv(",", "host", n->host);
		json_kv(",", "inner", n->inner);
		if (n->addr[0])
			json_kv(",", "addr", n->addr);
		else
			printf(",\"addr\":null");
		if (n->gateway[0])
			json_kv(",", "gateway", n->gateway);
		putchar('}');
	}
	printf("]}\n");
	return ferror(stdout) ? -EIO : 0;
}

static int list_instances(const struct fwrun_opts *o)
{
	struct fw_error e = { 0 };
	int r = instance_each(o->json ? list_json : list_text, NULL, &e);

	if (r < 0 && !e.what[0])
		fw_fail(&e, -r, "write", "stdout");
	if (r < 0 || fflush(stdout) != 0) {
		if (!e.what[0])
			fw_fail(&e, errno, "write", "stdout");
		fwrun_print_error(&e);
		return FWRUN_EXIT_FAILURE;
	}
	return 0;
}

/* --stop: SIGTERM to the instance's fwrun, through a pidfd held from
 * before the check that it is still that fwrun; then wait for its end. */
static int stop_instance(const struct fwrun_opts *o)
{
	static struct instance_record rec;
	struct fw_error e = { 0 };
	bool stale;
	uint64_t start;
	_cleanup_close_ int pidfd = -1;

	if (instance_find(o->target, &rec, &stale, &e) < 0)
		goto fail;
	pidfd = (int)syscall(SYS_pidfd_open, rec.supervisor_pid, 0);
	if (pidfd < 0) {
		fw_fail(&e, errno, "stop instance", o->target);
		goto fail;
	}
	if (instance_pid_start(rec.supervisor_pid, &start) < 0 || start != rec.supervisor_start) {
		fw_fail_hint(&e, ESRCH, "stop instance", o->target, "it is not running any more");
		goto fail;
	}
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) < 0) {
		if (errno == ESRCH)
			return 0;	/* ended meanwhile */
		fw_fail(&e, errno, "stop instance", o->target);
		goto fail;
	}
	uint64_t deadline = o->life.timeout_ms ? fw_now_ns() + o->life.timeout_ms * 1000000ull : 0;
	for (;;) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		int ms = -1;
		if (deadline) {
			uint64_t now = fw_now_ns();
			ms = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
		}
		int n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n == 0) {
			char t[32];
			supervise_format_duration(t, sizeof(t), o->life.timeout_ms);
			fprintf(stderr, "fwrun: stop instance '%s': still running after %s "
				"(its fwrun stops it within its --kill-after)\n", o->target, t);
			return FWRUN_EXIT_TIMEOUT;
		}
		if (errno != EINTR) {
			fw_fail(&e, errno, "wait for instance", o->target);
			goto fail;
		}
	}
fail:
	fwrun_print_error(&e);
	return FWRUN_EXIT_FAILURE;
}

static int enter_instance(const struct fwrun_opts *o)
{
	static struct instance_record rec;
	const char *envp[FWRUN_SETENV_MAX + 3];
	struct fw_error e = { 0 };
	bool stale;
	int status;

	if (instance_find(o->target, &rec, &stale, &e) < 0) {
		fwrun_print_error(&e);
		return FWRUN_EXIT_FAILURE;
	}
	fwrun_init_env(o, envp);
	struct enter_plan p = {
		.rec = &rec,
		.argv = o->init_argv,
		.envp = (char *const *)envp,
		/* A pty for a terminal; else CMD gets our stdio (a read-only
		 * console, the run's default without one, would take its input) */
		.console = console_decide(isatty(STDIN_FILENO) ? CONSOLE_PTY : CONSOLE_PIPE, true),
		.life = o->life,
	};
	if (enter_run(&p, &status, &e) < 0)
		fwrun_print_error(&e);
	return status;
}

/* --load-profile: what a run does first (aa_prepare()), alone: the
 * package's postinst runs it, so that the record kept across boots exists
 * before the first run (aa.h, aa_kept_text()). */
static int load_profile(const struct fwrun_opts *o)
{
	struct aa_plan p = { 0 };
	struct fw_error e = { 0 };

	if (!aa_kernel_enabled(&aa_env_system)) {
		fw_fail_hint(&e, EOPNOTSUPP, "load the AppArmor profile", AA_PROFILE_NAME,
			     "AppArmor is not enabled in this kernel");
		fwrun_print_error(&e);
		return FWRUN_EXIT_FAILURE;
	}
	if (aa_decide(&p, AA_MODE_ON, NULL, true, &e) < 0 ||
	    aa_prepare(&p, &aa_env_system, &e) < 0) {
		fwrun_print_error(&e);
		return FWRUN_EXIT_FAILURE;
	}
	if (o->verbosity < FWRUN_NORMAL)
		return 0;
	if (p.load == AA_LOAD_LOADED)
		fprintf(stderr, "fwrun: loaded the AppArmor profile '%s' (apparmor_parser, %.1f ms)\n",
			p.label, (double)p.parser_ns / 1e6);
	else
		fprintf(stderr, "fwrun: the AppArmor profile '%s' is loaded already: no parser run\n",
			p.label);
	return 0;
}

/* --reset / --remove without a run: under both locks, so never while the
 * instance runs. */
static int state_command(const struct fwrun_opts *o)
{
	static struct state_paths st;
	struct fw_error e = { 0 };
	struct stat sb;
	bool earlier;
	int name_fd = -1, lock_fd = -1, r;

	r = state_paths(&st, o->state_dir, o->name_given ? o->name : NULL);
	if (r < 0) {
		fw_fail(&e, r, "state directory for", o->state_dir ? o->state_dir : o->name);
		goto out;
	}
	if (lstat(st.dir, &sb) < 0) {
		fw_fail_hint(&e, errno, o->remove ? "remove state dir" : "reset state dir", st.dir,
			     errno == ENOENT ? "no run has left state there" : NULL);
		goto out;
	}
	if (rundir_ensure(&e) < 0)
		goto out;
	if (o->name_given && (name_fd = instance_lock(o->name, &e)) < 0)
		goto out;
	if ((lock_fd = state_lock(&st, &earlier, &e)) < 0)
		goto out;
	if (o->remove) {
		r = state_remove(&st, lock_fd, &e);
		lock_fd = -1;
	} else {
		r = state_reset(&st, &e);
	}
	if (r == 0 && o->verbosity >= FWRUN_NORMAL)
		fprintf(stderr, "fwrun: %s %s\n", o->remove ? "removed" : "emptied", st.dir);
out:
	if (lock_fd >= 0)
		close(lock_fd);
	if (name_fd >= 0)
		instance_unlock(o->name, name_fd);
	if (e.what[0]) {
		fwrun_print_error(&e);
		return FWRUN_EXIT_FAILURE;
	}
	return 0;
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

	events_set_origin(fw_now_ns());
	/* One malloc arena for every thread: the cgroup thread's first
	 * opendir() otherwise makes it an arena of its own (a 128 MiB
	 * reservation trimmed with munmap: some 1 ms, on the path to pid 1,
	 * then its page tables and pages for the run's life). fwrun's threads
	 * allocate little and seldom: sharing the main arena costs nothing. */
	mallopt(M_ARENA_MAX, 1);
	fill_std_fds();
	/* SIGCHLD ignored, inherited across exec from whoever started us,
	 * has the kernel reap our children unseen: fwrun would wait for its
	 * init's end (and its --until trial) for ever. */
	signal(SIGCHLD, SIG_DFL);
	/* Before reading a single argument: a setuid fwrun would parse for
	 * whoever runs it. */
	if (getuid() != geteuid()) {
		usage_error(&e, "refusing to run setuid", "", "run fwrun with sudo");
		fwrun_print_error(&e);
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
		fwrun_print_error(&e);
		return FWRUN_EXIT_FAILURE;
	}
	switch (o.action) {
	case FWRUN_DIFF:
		return show_diff(&o);
	case FWRUN_LIST:
		return list_instances(&o);
	case FWRUN_STOP:
		return stop_instance(&o);
	case FWRUN_RESET:
	case FWRUN_REMOVE:
		return state_command(&o);
	case FWRUN_LOAD_PROFILE:
		return load_profile(&o);
	case FWRUN_ENTER:
	case FWRUN_RUN:
		break;
	}

	/* Signals are read from a signalfd once the init runs; until then they
	 * wait, so that setup and cleanup are never cut in half. */
	supervise_sigmask(&sigs);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (o.action == FWRUN_ENTER)
		return enter_instance(&o);
	return plan_and_run(&o);
}
