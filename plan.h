/* SPDX-License-Identifier: MIT */
/* The run as data: everything one run of fwrun will do, decided before
 * anything is touched (doc/design.md, "The plan").
 *
 *   options (fwrun.c) ──┐
 *                       ├─ plan_build() ─> struct fwrun_plan ─┬─> plan_print_text/json (--dry-run)
 *   facts (probe)  ─────┘    pure                             └─> run_plan() (run.c, the applier)
 *
 * plan_probe() is the only part that asks the system anything, and it only
 * reads: the image's first block, whether the kernel has AppArmor, the last
 * capability, whether stdin is a terminal, where paths resolve. plan_build()
 * then makes every decision from the options and those facts alone, so a
 * unit test builds plans from option sets without root, and the dry run
 * prints the very plan the applier would follow.
 *
 * A new feature adds a field here (decided in plan_build, printed by both
 * printers) and a step in run.c that applies it. */
#ifndef FWRUN_PLAN_H
#define FWRUN_PLAN_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "aa.h"
#include "cgroup.h"
#include "console.h"
#include "initcompat.h"
#include "fwrun.h"
#include "netsetup.h"
#include "ns.h"
#include "rootfs.h"
#include "state.h"
#include "supervise.h"

/* Where a --bind's SRC lies, as plan_probe() found it. */
enum bind_fact {
	BIND_OK = 0,
	BIND_MISSING,		/* SRC does not exist (bind_err says why) */
	BIND_IN_STATE,		/* under the state dir: the overlay's own */
	BIND_IN_ROOTFS,		/* inside the --rootfs directory */
	BIND_IN_RUNDIR,		/* under /run/fwrun: the image's mount lives there */
};

/* What the probes found: the planner's only input besides the options. */
struct fwrun_facts {
	enum bind_fact bind[FWRUN_BIND_MAX];	/* o->binds[i]'s SRC */
	int bind_err[FWRUN_BIND_MAX];		/* errno when BIND_MISSING */
	struct rootfs_info rootfs;	/* rootfs_probe(): kind, journal */
	bool aa_kernel_enabled;		/* aa_kernel_enabled() */
	int cap_last;			/* caps_last_cap() */
	bool stdin_tty;			/* isatty(0) */
	bool state_in_rootfs;		/* the state dir resolves inside a --rootfs dir */
	struct initcompat compat;	/* initcompat_plan(): a new container_uuid,
					 * the host's os-release, the init's kind */
	bool init_inspected;		/* --dry-run on a directory: INIT read there */
	struct initcompat init;		/* what it is (kind, machine, interpreter) */
	char emulator[PATH_MAX];	/* a foreign INIT's binfmt_misc handler, or "" */
	struct cg_instance cgroup;	/* cg_plan_host(): the host's hierarchies,
					 * where the instance's cgroup goes, --device
					 * nodes looked up */
};

/* The namespaces the setup thread unshares, in order; the pid namespace comes
 * last, by itself, so that the next fork is pid 1. */
#define PLAN_NS_NAMES "mnt uts ipc net"

struct fwrun_plan {
	/* the firmware */
	const char *rootfs;		/* --rootfs, as given */
	struct rootfs_info rootfs_info;
	const char *name;
	const char *hostname;		/* --hostname, or the name */
	/* its state: upper/ work/ on disk, or a tmpfs (ephemeral) */
	bool ephemeral;
	bool reset;			/* empty upper/ first */
	/* protection */
	struct aa_plan aa;		/* the decision (load: AA_LOAD_NONE) */
	uint64_t cap_drop;		/* cut from the bounding set */
	bool aa_notice;			/* say once the init runs that AppArmor is off */
	struct cg_instance cgroup;	/* its cgroup: limits, device allowlist */
	bool seccomp;			/* pid 1 is born under the syscall filter (sysfilter.h) */
	/* the network */
	struct net_spec net;
	/* host paths in the firmware (malloc'd, src strings too) */
	struct ns_bind *binds;
	size_t nbinds;
	/* the init */
	struct console_decision console;
	enum console_mode console_mode;	/* what the decision came from: the name shown */
	const char *console_log;	/* --console-log, NULL: none */
	const char *until_src;		/* --until, NULL: none */
	regex_t *until;			/* compiled (malloc'd) when until_src; the
					 * console compiles it again in place */
	char **argv;			/* INIT and its arguments (malloc'd array) */
	const char *envp[FWRUN_SETENV_MAX + 4];
	char uuid_env[sizeof("container_uuid=") + INITCOMPAT_UUID_LEN];
	struct initcompat compat;	/* what the init expects (initcompat.h) */
	char *arch;			/* --dry-run's arch line (malloc'd): the
					 * facts it comes from are gone once
					 * the plan is built */
	/* its life */
	struct supervise_opts life;	/* the stop signal: --stop-signal, else the
					 * init's own (refined once INIT is read) */
	bool stop_signal_given;
	bool restart_on_reboot;
	int status_fd;			/* -1: none */
	int verbosity;
	/* Last: plan_build() zeroes all before it. It makes these paths
	 * only when not ephemeral (unset otherwise), so that a run pays for
	 * the pages its paths use, not for 20 KiB. */
	struct state_paths state;	/* its state dir: set unless ephemeral */
};

/* Read what the plan depends on. Returns the --rootfs fd (kept for the
 * run: the loop device is attached from it) or -errno with e filled. */
int plan_probe(const struct fwrun_opts *o, struct fwrun_facts *f, struct fw_error *e);

/* Decide everything. Pure: no system call. Returns 0, or -errno with e
 * filled (an AppArmor mode the kernel cannot give, a state dir inside the
 * firmware tree, no memory). plan_free() releases what it allocated. */
int plan_build(struct fwrun_plan *p, const struct fwrun_opts *o, const struct fwrun_facts *f,
	       struct fw_error *e);
void plan_free(struct fwrun_plan *p);

/* --dry-run[=FORMAT]: FORMAT NULL or "text" (*json false), "json" (true);
 * -EINVAL for anything else. */
int plan_parse_format(const char *format, bool *json);

/* --dry-run: the plan as text (one "key: value" line a fact, as fwrun(8)
 * shows) or as one JSON object (--dry-run=json). 0, or -EIO when f fails. */
int plan_print_text(FILE *f, const struct fwrun_plan *p);
int plan_print_json(FILE *f, const struct fwrun_plan *p);

#endif
