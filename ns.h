/* SPDX-License-Identifier: MIT */
/* The process model (PRODUCT.md §3).
 *
 *   fwrun (supervisor, host namespaces, child subreaper; its own bounding
 *   │   set cut before the fork, so that the children inherit it)
 *     ├─ setup child: unshare(mnt|uts|ipc|net|sysvsem), / private, mounts,
 *     │  exec label, pivot_root, unshare(pid),
 *     │  clone(CLONE_VM|CLONE_VFORK|CLONE_PARENT), exit
 *     └─ init: pid 1 of the new PID namespace, the supervisor's child from
 *        the start (CLONE_PARENT); shares the setup child's memory until it
 *        execs INIT, as posix_spawn's child does, so nothing is copied.
 *
 * The supervisor waits for the init itself (its real wait status, no relay
 * process), holds the network namespace's fd to give interfaces back, and is
 * the only one to print. The setup child reports each failure whole (struct
 * fw_error) over a SOCK_SEQPACKET socket; the init reports a failed execve the
 * same way, so 126/127 are never confused with the init's own statuses. */
#ifndef FWRUN_NS_H
#define FWRUN_NS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "overlay.h"
#include "util.h"

/* Setup steps, in order: named in errors and -v, and the fault points of the
 * test build. */
enum fw_step {
	STEP_NONE = 0,
	STEP_UNSHARE,		/* mnt, uts, ipc, net, sysvsem */
	STEP_PRIVATE,		/* / MS_REC|MS_PRIVATE */
	STEP_RUNDIR,		/* tmpfs scratch for lower/ merged/ (upper/ work/) */
	STEP_ROOTFS,		/* loop + read-only mount, or read-only bind */
	STEP_OVERLAY,
	STEP_DEV,		/* minimal /dev */
	STEP_PRE_PIVOT,		/* hook: exec label, while the host's /proc is reachable */
	STEP_HOSTNAME,
	STEP_PIVOT,
	STEP_UNSHARE_PID,
	STEP_FORK_INIT,
	STEP_INIT_SETUP,	/* pid 1 before exec: session, console, fds */
	STEP_EXEC,
	STEP_COUNT,
};

const char *fw_step_name(enum fw_step step);

/* Called inside the namespaces at STEP_PRE_PIVOT (fwrun.c wires AppArmor's
 * exec label here, so this module does not know it). Return 0 or
 * fw_fail(...). */
typedef int (*ns_hook)(enum fw_step step, void *data, struct fw_error *e);

struct ns_plan {
	const char *rootfs_path;	/* --rootfs, for mounting and messages */
	int rootfs_fd;			/* from rootfs_probe() */
	struct rootfs_info rootfs;
	const char *upper, *work;	/* NULL: ephemeral, on the scratch tmpfs */
	const char *hostname;
	char *const *argv;		/* INIT and its arguments */
	char *const *envp;
	int console_fd;			/* pty slave: pid 1's stdio and controlling
					 * terminal; -1: pid 1 inherits fwrun's stdio */
	const char *console_path;	/* bound on /dev/console (the pty slave's
					 * path), or NULL: */
	const char *console_link;	/* /dev/console is a symlink to this
					 * (NULL: /dev/null) */
	bool report_steps;		/* send each step's end time (-v) */
	ns_hook hook;
	void *hook_data;
};

/* Where the setup child mounts its scratch tmpfs, in its own mount namespace
 * only: every instance can use the same directory, the host sees it empty. */
#define FWRUN_RUN_DIR "/run/fwrun"
#define FWRUN_MNT_DIR FWRUN_RUN_DIR "/mnt"

struct ns_instance {
	pid_t setup_pid;	/* setup child, until reaped */
	pid_t init_pid;		/* pid 1 of the firmware, as the host sees it */
	int sock;		/* supervisor's end of the setup socket */
	int netns_fd;		/* the firmware's network namespace */
	uint64_t step_ns[STEP_COUNT];	/* monotonic time each step finished, for -v */
};

void ns_instance_init(struct ns_instance *ns);

/* Make the calling process (the supervisor) a child subreaper: a safety net,
 * so that nothing the setup child may leave behind goes to the host's init.
 * Once per process. */
int ns_become_subreaper(struct fw_error *e);

/* Fork the setup child, on another CPU than ours when we have one. It
 * makes its namespaces and mounts the rootfs, then waits for ns_ready():
 * meanwhile the caller makes the state dir ready (not the loop device too:
 * attached here in parallel, it contends with the child's unshare in the
 * kernel, and the run is no faster). */
int ns_spawn(struct ns_instance *ns, const struct ns_plan *plan, struct fw_error *e);

/* Tell the setup child the upper dir is ready (it goes on with the overlay,
 * /dev, protection and pivot_root), and return once its namespaces exist
 * (ns->netns_fd open): the caller may now set up the network in there. */
int ns_ready(struct ns_instance *ns, struct fw_error *e);

/* Let the setup child start pid 1 (the network is ready) and wait
 * until the init has exec'd INIT: 0 with ns->init_pid set; or -errno with e
 * filled (e->step == STEP_EXEC: INIT could not be executed), the setup child
 * and pid 1 reaped. On success the setup child is exiting: it is not waited
 * for here (its exit tears down an address space, 0.3 ms on a small VM) but
 * left to the caller's reaping of its children (supervise_run), and
 * ns->setup_pid no longer names it. */
int ns_start_init(struct ns_instance *ns, struct fw_error *e);

/* Kill and reap whatever of the run is left (setup child, init); close fds
 * except netns_fd, which the caller closes once interfaces are back. */
void ns_abort(struct ns_instance *ns);

/* The namespace ids of a process ("mnt" -> inode number), 0 if unreadable. */
uint64_t ns_id(pid_t pid, const char *type);

#endif
