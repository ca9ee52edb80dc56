/* SPDX-License-Identifier: MIT */
/* The process model (doc/design.md, "Isolation").
 *
 *   fwrun (supervisor; child subreaper; its own bounding set cut first,
 *   │   so that what it starts inherits it)
 *   │ ├─ main thread: the supervisor, in the host namespaces throughout
 *   │ └─ setup thread: unshare(mnt|uts|ipc|net|sysvsem) (namespaces belong
 *   │    to a thread), / private, mounts, exec label, pivot_root,
 *   │    unshare(pid), clone(CLONE_VM|CLONE_VFORK), back to the host
 *   │    namespaces (setns), then parked until the init is reaped
 *   └─ init: pid 1 of the new PID namespace, fwrun's child; shares the
 *      process's memory until it execs INIT, as posix_spawn's child does,
 *      so nothing is copied.
 *
 * A thread, not a forked child: a fork copies the page tables that the
 * child then faults back in one by one, and on a small VM a forked child
 * starts running 1 ms after the fork, a thread 0.15 ms after (bench/
 * RESULTS.md). The setup thread shares fwrun's memory and fd table but not
 * its namespaces, root, cwd or umask (unshare(CLONE_NEWNS) gives it its own
 * fs_struct), and it never leaves the process: it closes only its own fds
 * and ends by returning. pid 1's parent-death signal is tied to the thread
 * that cloned it: the setup thread stays until the supervisor has reaped
 * the init, and dies with fwrun (SIGKILL included), the init with it.
 *
 * The supervisor waits for the init itself (its real wait status, no relay
 * process), holds the network namespace's fd to give interfaces back, and is
 * the only one to print. The setup thread reports each failure whole (struct
 * fw_error) over a SOCK_SEQPACKET socket; the init reports a failed execve the
 * same way, so 126/127 are never confused with the init's own statuses. */
#ifndef FWRUN_NS_H
#define FWRUN_NS_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/filter.h>

#include "cgroup.h"
#include "initcompat.h"
#include "rootfs.h"
#include "rundir.h"
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
	STEP_BIND,		/* --bind, --bind-ro */
	STEP_PRE_PIVOT,		/* hook: exec label, while the host's /proc is reachable */
	STEP_HOSTNAME,
	STEP_PIVOT,
	STEP_UNSHARE_PID,
	STEP_SECCOMP,		/* the syscall filter, inherited by pid 1 */
	STEP_FORK_INIT,
	STEP_INIT_SETUP,	/* pid 1 before exec: cgroup, session, console, fds */
	STEP_EXEC,
	STEP_COUNT,
};

const char *fw_step_name(enum fw_step step);

/* Called by ns_private_scratch() when STEP_UNSHARE and STEP_PRIVATE are
 * done; a nonzero return stops it there. */
typedef int (*ns_step_cb)(enum fw_step done, void *data);

/* Put the calling thread in a mount namespace of its own with fwrun's
 * scratch tmpfs: unshare(flags) (CLONE_NEWNS and whatever else the caller
 * needs, named by names in errors), / made MS_REC|MS_PRIVATE (nothing
 * mounted here reaches the host, all of it goes with the namespace), then a
 * tmpfs on FWRUN_MNT_DIR, which every run and --diff covers with its own.
 * The setup thread starts with it, and --diff's child. done may be NULL.
 * Returns 0; -errno with e filled and *failed the step that failed
 * (STEP_UNSHARE, STEP_PRIVATE, STEP_RUNDIR); or done's nonzero return,
 * with *failed STEP_NONE. */
int ns_private_scratch(int flags, const char *names, ns_step_cb done, void *data,
		       enum fw_step *failed, struct fw_error *e);

/* Called inside the namespaces at STEP_PRE_PIVOT (fwrun.c wires AppArmor's
 * exec label here, so this module does not know it). Return 0 or
 * fw_fail(...). */
typedef int (*ns_hook)(enum fw_step step, void *data, struct fw_error *e);

/* A host file or directory bound into the firmware (--bind, --bind-ro). */
struct ns_bind {
	const char *src;	/* on the host, absolute */
	const char *dst;	/* in the firmware, absolute, no ".." */
	bool ro;		/* read-only, recursively */
};

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
	const char *kmsg_path;		/* bound on /dev/kmsg (a pty slave), or
					 * NULL: no /dev/kmsg */
	const struct ns_bind *binds;	/* bound after /dev, before the pivot */
	size_t nbinds;
	bool report_steps;		/* send each step's end time (-v) */
	/* pid 1 joins these cgroups and unshares a cgroup namespace rooted
	 * there (cg_enter), first thing; filled by the supervisor before
	 * ns_start_init(). NULL or none open: pid 1 stays in fwrun's. */
	const struct cg_join *cgroup;
	const struct cg_device *devices;	/* --device: nodes made in /dev */
	size_t ndevices;
	const struct sock_fprog *seccomp;	/* the setup thread installs it on
						 * itself once in the new root, and pid 1
						 * inherits it (sysfilter.h); NULL: none */
	/* What the init expects (initcompat.h), or NULL: the setup thread
	 * reads INIT into it once in the firmware's root, pid 1 applies it. */
	struct initcompat *compat;
	ns_hook hook;
	void *hook_data;
	/* Run by the setup thread once pid 1 runs INIT, back in the host's
	 * namespaces: the caller's chores that must not delay the init (the
	 * state dir's old scratch). NULL: none. */
	void (*parked)(void *arg);
	void *parked_arg;
};


/* The namespaces the setup thread leaves once the init runs (mnt, uts, ipc,
 * net, pid for its children). */
#define NS_HOME_COUNT 5

struct ns_instance {
	pid_t init_pid;		/* pid 1 of the firmware, as the host sees it */
	int sock;		/* supervisor's end of the setup socket */
	int netns_fd;		/* the firmware's network namespace */
	uint64_t step_ns[STEP_COUNT];	/* monotonic time each step finished, for -v */
	/* The setup thread; what it reads of the fields below is written
	 * before it starts (home: before the message it reads them after). */
	pthread_t setup;
	bool setup_running;	/* started, not joined yet */
	const struct ns_plan *plan;
	int setup_sock;		/* the setup thread's end of the socket */
	bool have_cpus;
	cpu_set_t cpus;		/* the supervisor's CPUs: the init's */
	uint64_t sig_ignored;	/* signals the init sets back to SIG_DFL */
	int home[NS_HOME_COUNT];	/* the host's namespaces, to go back to */
};

void ns_instance_init(struct ns_instance *ns);

/* Make the calling process (the supervisor) a child subreaper: a safety net,
 * so that no orphan of the run goes to the host's init. Once per process. */
int ns_become_subreaper(struct fw_error *e);

/* Start the setup thread, on another CPU than ours when we have one. It
 * makes its namespaces and mounts the rootfs, then waits for
 * ns_upper_ready(): meanwhile the caller makes the state dir ready (not the
 * loop device too: attached here in parallel, it contends with the thread's
 * unshare in the kernel, and the run is no faster). plan must stay as it is
 * until ns_abort(), but for its console fields, which the thread reads only
 * after ns_ready(): the caller may open the ptys meanwhile. */
int ns_spawn(struct ns_instance *ns, const struct ns_plan *plan, struct fw_error *e);

/* Tell the setup thread the upper dir is ready: it mounts the overlay, then
 * waits for ns_ready(). Returns at once. */
void ns_upper_ready(struct ns_instance *ns);

/* Tell the setup thread the console is ready (it goes on with /dev,
 * protection and pivot_root), and return once its namespaces exist
 * (ns->netns_fd open): the caller may now set up the network in there.
 * After ns_upper_ready(). */
int ns_ready(struct ns_instance *ns, struct fw_error *e);

/* Let the setup thread start pid 1 (the network is ready) and wait until
 * the init has exec'd INIT: 0 with ns->init_pid set (the setup thread is
 * back in the host namespaces, parked: the init's parent-death signal is
 * tied to it); or -errno with e filled (e->step == STEP_EXEC: INIT could
 * not be executed) and pid 1 reaped. */
int ns_start_init(struct ns_instance *ns, struct fw_error *e);

/* Once ns_start_init() succeeded: give back the pages pid 1 touched on the
 * stack it used in our memory until its execve (the next boot's pid 1 has
 * them again, as zeros). */
void ns_discard_init_stack(void);

/* Kill and reap the init if it is still ours to reap, end the setup thread
 * (it sees our end of the socket closed wherever it waits) and join it;
 * close fds except netns_fd, which the caller closes once interfaces are
 * back. Once the init has been reaped (supervise_run), this is how a run
 * ends. */
void ns_abort(struct ns_instance *ns);

/* For a process about to exec in the firmware (pid 1, --enter's CMD):
 * mark every fd from first on close-on-exec; the signals fwrun was started
 * with ignored (from /proc/self/status; read it while that is the host's);
 * set those back to SIG_DFL and empty the mask; execve argv[0], or search
 * it in envp's PATH when it has no '/' (returns the errno: ENOENT when no
 * PATH entry has it, else the last other error, EACCES...). */
void ns_cloexec_from(int first);
uint64_t ns_ignored_signals(void);
void ns_reset_signals(uint64_t ignored);
int ns_exec(char *const *argv, char *const *envp);

/* The namespace ids of a process ("mnt" -> inode number), 0 if unreadable. */
uint64_t ns_id(pid_t pid, const char *type);

#endif
