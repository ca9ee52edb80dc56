/* SPDX-License-Identifier: MIT */
/* The command line and the flow of one run: parse, check every combination,
 * then set up, run and clean up in reverse. The only module that prints and
 * picks exit statuses. */
#include "fwrun.h"

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

#include "ns.h"
#include "overlay.h"

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
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
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
"\n"
"Telling:\n"
"      --dry-run            print the plan, touch nothing\n"
"  -v, --verbose            print each setup step with its duration\n"
"  -q, --quiet              print only errors\n"
"  -h, --help               show this help and exit\n"
"      --version            show the version and exit\n"
"\n"
"Exit status: the init's status; 128+N if it was killed by signal N;\n"
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

void fwrun_format_error(char *buf, size_t size, const struct fw_error *e)
{
	/* err == 0: the hint is the reason (usage errors); else strerror, with
	 * the hint after it where the errno alone would mislead. */
	const char *reason = e->err ? strerror(e->err) : e->hint;
	int n;

	if (e->subject[0])
		n = snprintf(buf, size, "fwrun: %s '%s': %s", e->what, e->subject, reason);
	else
		n = snprintf(buf, size, "fwrun: %s: %s", e->what, reason);
	if (n >= 0 && (size_t)n < size && e->err && e->hint[0])
		snprintf(buf + n, size - (size_t)n, " (%s)", e->hint);
}

/* ---- the run ---- */

struct run {
	const struct fwrun_opts *o;
	struct state_paths state;
	struct rootfs_info rootfs;
	int rootfs_fd;
	int lock_fd;
	struct ns_instance ns;
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
	(void)data;
	(void)e;
	switch (step) {
	default:
		return 0;
	}
}

static char *const init_env[] = {
	"PATH=/sbin:/system/bin:/system/xbin:/bin:/usr/sbin:/usr/bin",
	"container=fwrun",
	NULL,
};

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

/* Wait for pid 1; forward SIGINT/SIGTERM/SIGHUP to it as SIGTERM, a second
 * SIGINT kills it. Returns its wait status. */
static int wait_init(struct run *run, const sigset_t *sigs)
{
	int sfd = signalfd(-1, sigs, SFD_CLOEXEC);
	int wstatus = 0, ints = 0;

	for (;;) {
		pid_t p = waitpid(run->ns.init_pid, &wstatus, WNOHANG);
		if (p == run->ns.init_pid)
			break;
		struct signalfd_siginfo si;
		if (sfd < 0 || read(sfd, &si, sizeof(si)) != sizeof(si)) {
			if (sfd >= 0 && errno == EINTR)
				continue;
			/* no signalfd: plain blocking wait */
			while (waitpid(run->ns.init_pid, &wstatus, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (si.ssi_signo == SIGCHLD)
			continue;
		if (si.ssi_signo == SIGINT && ++ints > 1)
			kill(run->ns.init_pid, SIGKILL);
		else
			kill(run->ns.init_pid, SIGTERM);
	}
	run->ns.init_pid = -1;
	if (sfd >= 0)
		close(sfd);
	return wstatus;
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

static int prepare_state(struct run *run)
{
	const struct fwrun_opts *o = run->o;
	char abs[PATH_MAX];
	int r;

	r = state_paths(&run->state, o->state_dir, o->name);
	if (r < 0)
		return fw_fail(&run->e, r, "state directory for", o->state_dir ? o->state_dir : o->name);
	if (o->ephemeral)
		return 0;
	/* The firmware tree never changes: not even by our own state. */
	if (run->rootfs.kind == ROOTFS_DIR && path_within(run->state.dir, o->rootfs))
		return fw_fail_hint(&run->e, EINVAL, "use state directory", run->state.dir,
				    "it lies inside the --rootfs directory, which must not change");
	r = state_prepare(&run->state, &run->e);
	if (r < 0)
		return r;
	run->lock_fd = state_lock(&run->state, &run->e);
	if (run->lock_fd < 0)
		return run->lock_fd;
	if (o->reset && (r = state_reset(&run->state, &run->e)) < 0)
		return r;
	/* Remember the image for --diff. */
	if (realpath(o->rootfs, abs)) {
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

static int ensure_run_dir(struct fw_error *e)
{
	if (mkdir(FWRUN_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return fw_fail(e, errno, "create directory", FWRUN_RUN_DIR);
	if (mkdir(FWRUN_MNT_DIR, 0755) < 0 && errno != EEXIST)
		return fw_fail(e, errno, "create directory", FWRUN_MNT_DIR);
	return 0;
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
	printf("root:       pivot_root to the overlay (chroot where pivot_root cannot)\n");
	printf("init:      ");
	for (int i = 0; i < o->init_argc; i++)
		printf(" %s", o->init_argv[i]);
	printf("\n");
}

static int init_failed_status(const struct fw_error *e)
{
	if (e->step != STEP_EXEC)
		return FWRUN_EXIT_FAILURE;
	return e->err == ENOENT || e->err == ENOTDIR || e->err == ELOOP ?
	       FWRUN_EXIT_NOTFOUND : FWRUN_EXIT_NOEXEC;
}

static int run_firmware(const struct fwrun_opts *o, const sigset_t *sigs)
{
	struct run run = { .o = o, .rootfs_fd = -1, .lock_fd = -1 };
	int status = FWRUN_EXIT_FAILURE;
	int r;

	ns_instance_init(&run.ns);
	run.rootfs_fd = rootfs_probe(o->rootfs, &run.rootfs, &run.e);
	if (run.rootfs_fd < 0)
		goto fail;
	if (o->dry_run) {
		if ((r = state_paths(&run.state, o->state_dir, o->name)) < 0) {
			fw_fail(&run.e, r, "state directory for", o->name);
			goto fail;
		}
		print_plan(&run);
		status = 0;
		goto out;
	}
	if (ns_become_subreaper(&run.e) < 0 || ensure_run_dir(&run.e) < 0 ||
	    prepare_state(&run) < 0)
		goto fail;

	struct ns_plan plan = {
		.rootfs_path = o->rootfs,
		.rootfs_fd = run.rootfs_fd,
		.rootfs = run.rootfs,
		.upper = o->ephemeral ? NULL : run.state.upper,
		.work = o->ephemeral ? NULL : run.state.work,
		.hostname = o->hostname ? o->hostname : o->name,
		.argv = o->init_argv,
		.envp = init_env,
		.console_fd = -1,
		.report_steps = o->verbosity >= FWRUN_VERBOSE,
		.hook = container_hook,
		.hook_data = &run,
	};
	if (ns_spawn(&run.ns, &plan, &run.e) < 0)
		goto fail;
	if (ns_start_init(&run.ns, &run.e) < 0) {
		status = init_failed_status(&run.e);
		goto fail;
	}
	if (o->verbosity >= FWRUN_VERBOSE)
		print_steps(&run.ns);
	status = fwrun_exit_status(wait_init(&run, sigs));
	goto out;
fail:
	if (o->verbosity >= FWRUN_VERBOSE && run.ns.step_ns[STEP_NONE])
		print_steps(&run.ns);
	print_error(&run.e);
out:
	ns_abort(&run.ns);
	if (run.ns.netns_fd >= 0)
		close(run.ns.netns_fd);
	if (run.rootfs_fd >= 0)
		close(run.rootfs_fd);
	if (run.lock_fd >= 0)
		close(run.lock_fd);
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
	if (ensure_run_dir(&e) < 0)
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

int fwrun_main(int argc, char **argv)
{
	struct fwrun_opts o;
	struct fw_error e;
	sigset_t sigs;

	switch (fwrun_parse(&o, argc, argv, &e)) {
	case FWRUN_PARSE_EXIT_OK:
		return fflush(stdout) == 0 ? 0 : FWRUN_EXIT_FAILURE;
	case FWRUN_PARSE_ERROR:
		return fail_usage(&e);
	case FWRUN_PARSE_RUN:
		break;
	}
	if (getuid() != geteuid()) {
		usage_error(&e, "refusing to run setuid", "", "run fwrun with sudo");
		print_error(&e);
		return FWRUN_EXIT_FAILURE;
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
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	return run_firmware(&o, &sigs);
}
