/* SPDX-License-Identifier: MIT */
/* The command line and the flow of one run. fwrun.c is the only place that
 * prints errors and picks exit statuses; main.c only calls fwrun_main(). */
#ifndef FWRUN_FWRUN_H
#define FWRUN_FWRUN_H

#include <stdbool.h>

#include "aa.h"
#include "caps.h"
#include "cgroup.h"
#include "initcompat.h"
#include "netsetup.h"
#include "supervise.h"
#include "util.h"

#define FWRUN_DEFAULT_INIT "/sbin/boxinit"
#define FWRUN_SETENV_MAX 64	/* --setenv at most this many times */
#define FWRUN_NAME_MAX 64	/* the name is the default hostname: HOST_NAME_MAX */
#define FWRUN_BIND_MAX 32	/* --bind and --bind-ro, together */

/* Exit statuses (man page, EXIT STATUS). Any other value is the init's own
 * status, or 128+N when the init was killed by signal N. */
enum {
	FWRUN_EXIT_TIMEOUT = 124,	/* --timeout expired */
	FWRUN_EXIT_FAILURE = 125,	/* fwrun failed (bad usage too) before the init ran */
	FWRUN_EXIT_NOEXEC = 126,	/* INIT exists but cannot be executed */
	FWRUN_EXIT_NOTFOUND = 127,	/* INIT not found in the firmware */
};

/* What this fwrun does: run a firmware, or one of the commands on
 * instances (run or not). */
enum fwrun_action {
	FWRUN_RUN = 0,
	FWRUN_DIFF,		/* --diff */
	FWRUN_LIST,		/* --list [--json] */
	FWRUN_ENTER,		/* --enter NAME [-- CMD...] */
	FWRUN_STOP,		/* --stop NAME */
	FWRUN_RESET,		/* --reset without --rootfs: only empty the state */
	FWRUN_REMOVE,		/* --remove: delete the state dir */
	FWRUN_LOAD_PROFILE,	/* --load-profile: fwrun's own, into the kernel */
};

/* --bind SRC[:DST] / --bind-ro SRC[:DST], as given: src is spec[0..src_len),
 * dst points into spec (after the ':') or is the source itself. */
struct fwrun_bind {
	const char *spec;
	size_t src_len;
	const char *dst;
	bool ro;
};

/* Check one --bind argument (pure): SRC and DST absolute, DST neither "/"
 * nor with a ".." component, both shorter than PATH_MAX. 0 and *b filled, or
 * -EINVAL with reason set to what is wrong. */
int fwrun_bind_parse(const char *spec, bool ro, struct fwrun_bind *b, const char **reason);

enum fwrun_verbosity { FWRUN_QUIET = -1, FWRUN_NORMAL = 0, FWRUN_VERBOSE = 1 };

struct fwrun_opts {
	const char *rootfs;		/* --rootfs IMAGE|DIR */
	char name[FWRUN_NAME_MAX + 1];	/* --name, or derived from --rootfs */
	bool name_given;
	const char *state_dir;		/* --state-dir, NULL: /var/lib/fwrun/NAME */
	const char *hostname;		/* --hostname, NULL: the name */
	bool ephemeral;			/* --ephemeral */
	bool reset;			/* --reset */
	bool diff;			/* --diff: list the last run's changes and exit */
	enum fwrun_action action;
	bool remove;			/* --remove */
	bool list;			/* --list */
	bool load_profile;		/* --load-profile */
	bool json;			/* --json (with --list) */
	const char *target;		/* --enter NAME, --stop NAME */
	struct fwrun_bind binds[FWRUN_BIND_MAX];	/* --bind, --bind-ro */
	size_t nbinds;
	bool dry_run;			/* --dry-run */
	bool dry_run_json;		/* --dry-run=json */
	int verbosity;			/* -v / -q */
	char **init_argv;		/* INIT [ARG...], NULL-terminated */
	int init_argc;
	/* protection (aa.h, caps.h) */
	enum aa_mode apparmor;		/* --apparmor=auto|on|off */
	const char *aa_profile;		/* --profile NAME, NULL: fwrun's own */
	struct caps_spec caps;		/* --cap-drop / --cap-add */
	bool no_seccomp;		/* --seccomp=off (sysfilter.h) */
	struct net_spec net;		/* --tap, --veth, --force-default-route */
	struct cg_opts cgroup;		/* --memory-max, --pids-max, --cpus, --device */
	/* life cycle (console.h, supervise.h, events.h) */
	enum console_mode console;	/* --console */
	const char *console_log;	/* --console-log FILE, NULL: none */
	const char *until;		/* --until REGEX (checked: it compiles) */
	struct supervise_opts life;	/* --stop-signal, --kill-after, --timeout */
	bool stop_signal_given;		/* else the init's own (initcompat_stop_signal) */
	bool restart_on_reboot;		/* --restart-on-reboot */
	int status_fd;			/* --status-fd, -1: none */
	/* --setenv NAME=VALUE: the init's environment on top of the default */
	const char *setenv[FWRUN_SETENV_MAX];
	size_t nsetenv;
};

/* What fwrun_parse() tells its caller. */
enum fwrun_parse_result {
	FWRUN_PARSE_RUN = 0,	/* go on with *o */
	FWRUN_PARSE_EXIT_OK,	/* --help / --version printed: exit 0 */
	FWRUN_PARSE_ERROR,	/* usage error in *e: exit 125 */
};

/* Parse argv into *o (getopt_long with '+': the init's argv is left alone)
 * and check every combination. Prints only --help/--version (to stdout).
 * Resets getopt (optind = 0), so tests can call it again and again.
 * o->init_argv points into argv, or at a static default. */
enum fwrun_parse_result fwrun_parse(struct fwrun_opts *o, int argc, char **argv,
				    struct fw_error *e);

/* Derive an instance name from a --rootfs path: the last component without
 * its extension ("out/drone.ext2" -> "drone", "build/final/" -> "final").
 * Returns 0, or -EINVAL when no valid name comes out of it. */
int fwrun_name_from_rootfs(const char *rootfs, char *name, size_t size);

/* 0 if name is a valid instance name: 1..64 bytes of [A-Za-z0-9._-], not
 * starting with '.' or '-'. -EINVAL / -ENAMETOOLONG otherwise. */
int fwrun_name_valid(const char *name);

/* 0 if s is a valid --setenv: NAME=VALUE, NAME of [A-Za-z_][A-Za-z0-9_]*
 * (at most 128 bytes), VALUE of at most 4096 bytes; -EINVAL otherwise. */
int fwrun_setenv_valid(const char *s);

/* The init's environment: PATH and container=fwrun, then each --setenv
 * (a NAME given again replaces the earlier value, PATH included).
 * envp has room for FWRUN_SETENV_MAX + 3 pointers; returns the count. */
size_t fwrun_init_env(const struct fwrun_opts *o, const char **envp);

/* The shell-style status of a wait(2) result: WEXITSTATUS, or 128+WTERMSIG. */
int fwrun_exit_status(int wstatus);

/* "fwrun: <what> '<subject>': <reason> (<hint>)" into buf (no newline). */
void fwrun_format_error(char *buf, size_t size, const struct fw_error *e);

/* Print e's line on stderr. */
void fwrun_print_error(const struct fw_error *e);

/* The usage text, as printed by --help (the man page test reads it). */
const char *fwrun_usage(void);

int fwrun_main(int argc, char **argv);

#endif
