/* SPDX-License-Identifier: MIT */
/* The process model of doc/design.md, "Isolation"; see ns.h for the picture. */
#include "ns.h"
#include "fault.h"
#include "overlay.h"
#include "sysfilter.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <linux/mount.h>
#include <linux/openat2.h>

enum ns_msg_type {
	MSG_READY = 1,	/* setup thread -> supervisor: namespaces exist (pid:
			 * the thread's id) */
	MSG_GO,		/* supervisor -> setup thread: go on. First: the state
			 * dir is ready (the overlay); second: the console is
			 * (/dev); third: the network and cgroup are (pid 1) */
	MSG_STEP,	/* setup thread -> supervisor: a step finished (verbose) */
	MSG_SPAWNED,	/* setup thread -> supervisor: pid 1 exec'd INIT (pid) */
	MSG_ERROR,	/* setup thread -> supervisor: a step failed (err; pid:
			 * pid 1 when it was started) */
};

struct ns_msg {
	int type;
	int step;
	pid_t pid;
	uint64_t time_ns;
	struct fw_error err;
};

static const char *const step_names[STEP_COUNT] = {
	[STEP_NONE] = "start",
	[STEP_UNSHARE] = "unshare mount, uts, ipc, net namespaces",
	[STEP_PRIVATE] = "make / private",
	[STEP_RUNDIR] = "scratch tmpfs",
	[STEP_ROOTFS] = "mount rootfs read-only",
	[STEP_OVERLAY] = "mount overlay",
	[STEP_DEV] = "populate /dev",
	[STEP_BIND] = "bind host paths",
	[STEP_PRE_PIVOT] = "protection (exec label)",
	[STEP_HOSTNAME] = "hostname",
	[STEP_PIVOT] = "switch root",
	[STEP_UNSHARE_PID] = "unshare pid namespace",
	[STEP_SECCOMP] = "syscall filter",
	[STEP_FORK_INIT] = "fork pid 1",
	[STEP_INIT_SETUP] = "pid 1 cgroup, session and console",
	[STEP_EXEC] = "exec init",
};

const char *fw_step_name(enum fw_step step)
{
	if ((unsigned)step >= STEP_COUNT)
		return "?";
	return step_names[step];
}

void ns_instance_init(struct ns_instance *ns)
{
	memset(ns, 0, sizeof(*ns));
	ns->init_pid = -1;
	ns->sock = -1;
	ns->netns_fd = -1;
	ns->setup_sock = -1;
	for (size_t i = 0; i < NS_HOME_COUNT; i++)
		ns->home[i] = -1;
}

static int send_msg_at(int sock, int type, int step, pid_t pid, const struct fw_error *e,
		       uint64_t time_ns)
{
	struct ns_msg m = { .type = type, .step = step, .pid = pid, .time_ns = time_ns };

	if (e)
		m.err = *e;
	m.err.step = step;
	if (send(sock, &m, sizeof(m), MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		return -errno;
	return 0;
}

static int send_msg(int sock, int type, int step, pid_t pid, const struct fw_error *e)
{
	return send_msg_at(sock, type, step, pid, e, fw_now_ns());
}

/* 0 and *m, or -EPIPE when every other end is closed (-EAGAIN: nothing
 * queued, with MSG_DONTWAIT). A peer that exits with a message of ours
 * unread leaves ECONNRESET on our end, reported once and before what it
 * had sent us, its error among them: read on. */
static int recv_msg_flags(int sock, struct ns_msg *m, int flags)
{
	ssize_t n;

	do
		n = recv(sock, m, sizeof(*m), flags);
	while (n < 0 && (errno == EINTR || errno == ECONNRESET));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if (n != (ssize_t)sizeof(*m))
		return -EPROTO;
	return 0;
}

static int recv_msg(int sock, struct ns_msg *m)
{
	return recv_msg_flags(sock, m, 0);
}

/* ---- the setup thread: in fwrun's memory, with fwrun's fds; it closes
 * only its own and ends by returning (pid 1 alone may _exit) ---- */

/* The setup thread's and pid 1's: what the run is comes from ns. */
struct child {
	const struct ns_instance *ns;
	struct fw_error e;
	/* Written by pid 1, which shares this memory until its execve
	 * (CLONE_VM|CLONE_VFORK), read by the setup thread afterwards. */
	enum fw_step init_failed;	/* STEP_NONE: INIT is running */
	bool placed;			/* clone3 put pid 1 in its cgroup2 cgroup */
	uint64_t init_started_ns, init_ready_ns;
};

/* Report the failed step (c->e says what failed) and end the setup. */
static int child_fail(struct child *c, enum fw_step step)
{
	send_msg(c->ns->setup_sock, MSG_ERROR, step, 0, &c->e);
	return -1;
}

static void child_step_done(struct child *c, enum fw_step step)
{
	if (c->ns->plan->report_steps)
		send_msg(c->ns->setup_sock, MSG_STEP, step, 0, NULL);
}

static int mkdir_p1(const char *path, mode_t mode, struct fw_error *e)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return fw_fail(e, errno, "create directory", path);
	return 0;
}

/* The scratch tmpfs' layout, in the setup thread's mount namespace only. */
#define LOWER_DIR FWRUN_MNT_DIR "/lower"
#define MERGED_DIR FWRUN_MNT_DIR "/merged"
#define UPPER_DIR FWRUN_MNT_DIR "/upper"	/* --ephemeral */
#define WORK_DIR FWRUN_MNT_DIR "/work"
#define DEV_DIR MERGED_DIR "/dev"

/* Made relative to the new /dev (dfd); the error names the whole path. */
static int dev_fail(struct fw_error *e, int err, const char *what, const char *name)
{
	char path[192];	/* DEV_DIR + a --device path */

	snprintf(path, sizeof(path), DEV_DIR "/%s", name);
	return fw_fail(e, err, what, path);
}

static int make_node(int dfd, const char *name, unsigned maj, unsigned min, struct fw_error *e)
{
	if (FW_FAULT(DEV_NODE) || mknodat(dfd, name, S_IFCHR | 0666, makedev(maj, min)) < 0)
		return dev_fail(e, errno, "create device node", name);
	return 0;
}

static int make_link(int dfd, const char *name, const char *target, struct fw_error *e)
{
	if (symlinkat(target, dfd, name) < 0)
		return dev_fail(e, errno, "create symlink", name);
	return 0;
}

/* A --device node, at its host path under the new /dev (parents made),
 * with the host node's mode. One of the defaults given again is fine. */
static int make_passed_node(int dfd, const struct cg_device *d, struct fw_error *e)
{
	char name[sizeof(d->path)];
	const char *rel = d->path + 5;	/* past "/dev/" (cg_parse_device) */

	fw_strlcpy(name, rel, sizeof(name));
	for (char *slash = strchr(name, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
			return dev_fail(e, errno, "create directory", name);
		*slash = '/';
	}
	if (mknodat(dfd, name, (d->type == 'b' ? S_IFBLK : S_IFCHR) | (d->mode & 0777),
		    makedev(d->major, d->minor)) < 0 && errno != EEXIST)
		return dev_fail(e, errno, "create device node", name);
	return 0;
}

/* A host pty slave (path) bound on DEV_DIR/name, over an empty file. */
static int bind_node(int dfd, const char *name, const char *path, bool fault,
		     struct fw_error *e)
{
	char target[64];
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	snprintf(target, sizeof(target), DEV_DIR "/%s", name);
	if (fd < 0)
		return fw_fail(e, errno, "create", target);
	close(fd);
	if (fault || mount(path, target, NULL, MS_BIND, NULL) < 0)
		return fw_fail(e, errno, !strcmp(name, "console") ? "bind console on" :
			       "bind kmsg on", target);
	return 0;
}

/* The least /dev a firmware's init needs (doc/design.md, "Isolation", 3). Device nodes are
 * made with mknod (we are real root); the console is the pty slave bound
 * from the host, or a link to pid 1's stdout when there is no pty; kmsg
 * the supervisor's kmsg pty slave (console.h), not the host's log. Called
 * with umask 0: the modes are those written here. */
static int populate_dev(const struct ns_plan *plan, struct fw_error *e)
{
	static const struct { const char *name; unsigned maj, min; } nodes[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	static const struct { const char *name, *target; } links[] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
		{ "ptmx", "pts/ptmx" },
	};
	int r;

	if ((r = mkdir_p1(DEV_DIR, 0755, e)) < 0)
		return r;
	if (FW_FAULT(DEV_TMPFS) ||
	    mount("fwrun-dev", DEV_DIR, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755,size=4m") < 0)
		return fw_fail(e, errno, "mount tmpfs on", DEV_DIR);
	_cleanup_close_ int dfd = open(DEV_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return fw_fail(e, errno, "open", DEV_DIR);
	for (size_t i = 0; i < FW_ARRAY_SIZE(nodes); i++)
		if ((r = make_node(dfd, nodes[i].name, nodes[i].maj, nodes[i].min, e)) < 0)
			return r;
	for (size_t i = 0; i < FW_ARRAY_SIZE(links); i++)
		if ((r = make_link(dfd, links[i].name, links[i].target, e)) < 0)
			return r;

	if (mkdirat(dfd, "pts", 0755) < 0)
		return fw_fail(e, errno, "create directory", DEV_DIR "/pts");
	if (FW_FAULT(DEV_DEVPTS) ||
	    mount("devpts", DEV_DIR "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		return fw_fail(e, errno, "mount devpts on", DEV_DIR "/pts");
	if (mkdirat(dfd, "shm", 01777) < 0)
		return fw_fail(e, errno, "create directory", DEV_DIR "/shm");
	if (FW_FAULT(DEV_SHM) ||
	    mount("shm", DEV_DIR "/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		return fw_fail(e, errno, "mount tmpfs on", DEV_DIR "/shm");

	for (size_t i = 0; i < plan->ndevices; i++)
		if ((r = make_passed_node(dfd, &plan->devices[i], e)) < 0)
			return r;

	if (plan->kmsg_path &&
	    (r = bind_node(dfd, "kmsg", plan->kmsg_path, FW_FAULT(DEV_KMSG), e)) < 0)
		return r;
	if (plan->console_path)
		return bind_node(dfd, "console", plan->console_path, FW_FAULT(DEV_CONSOLE), e);
	return make_link(dfd, "console", plan->console_link ? plan->console_link : "/dev/null", e);
}

/* Without the umask in the way (no chmod after each mknod), and with the
 * caller's given back: pid 1 and INIT inherit it. */
static int setup_dev(const struct ns_plan *plan, struct fw_error *e)
{
	mode_t mask = umask(0);
	int r = populate_dev(plan, e);
	umask(mask);
	return r;
}

/* pivot_root(".", ".") stacks the old root on the new one; detaching it
 * leaves only the firmware's tree. The initramfs rootfs cannot be pivoted
 * (EINVAL): there, move the new root over / and chroot, as switch_root does. */
static int switch_root(const char *root, struct fw_error *e)
{
	if (chdir(root) < 0)
		return fw_fail(e, errno, "chdir to", root);
	/* (a fault injected as EINVAL takes the chroot way, as the real one) */
	if (!FW_FAULT(PIVOT_ROOT) && syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			return fw_fail(e, errno, "detach the old root under", root);
	} else if (errno == EINVAL) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return fw_fail(e, errno, "move root to / from", root);
		if (chroot(".") < 0)
			return fw_fail(e, errno, "chroot to", root);
	} else {
		return fw_fail(e, errno, "pivot_root to", root);
	}
	if (chdir("/") < 0)
		return fw_fail(e, errno, "chdir to", "/");
	return 0;
}

/* Mark every fd above 2 close-on-exec: the init sees only 0, 1, 2. */
void ns_cloexec_from(int first)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	struct rlimit rl;
	int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ?
		  (int)rl.rlim_cur : 65536;
	for (int fd = first; fd < max; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
}

/* The signals fwrun was started with set to SIG_IGN (bit sig - 1), which
 * execve keeps: from /proc/self/status, one read instead of a sigaction()
 * per signal. All of them when it cannot be read. */
uint64_t ns_ignored_signals(void)
{
	char buf[2048];
	uint64_t mask = ~(uint64_t)0;
	const char *p = fw_proc_status("SigIgn", buf, sizeof(buf));

	if (!p)
		return mask;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 16);
	return errno || end == p || *end != '\n' ? mask : (uint64_t)v;
}

/* Handlers are reset by execve; ignored signals and the mask are not. The
 * system call itself: glibc refuses its own two (SIGRTMIN and SIGRTMIN+1,
 * EINVAL), which its posix_spawn leaves ignored in what it starts (make(1)
 * does so): a firmware's libc may need them. SIG_DFL, no flags, no mask is
 * all zeros in every architecture's struct sigaction. */
void ns_reset_signals(uint64_t ignored)
{
	static const unsigned long dfl[8];
	sigset_t none;

	for (int sig = 1; sig < NSIG && sig <= 64; sig++)
		if ((ignored & ((uint64_t)1 << (sig - 1))) && sig != SIGKILL && sig != SIGSTOP)
			(void)syscall(SYS_rt_sigaction, sig, dfl, NULL, _NSIG / 8);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* execve, or a PATH search inside the firmware when INIT has no '/'. */
int ns_exec(char *const *argv, char *const *envp)
{
	const char *path = NULL;
	char buf[PATH_MAX];
	int err = ENOENT;

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, envp);
		return errno;
	}
	for (char *const *ep = envp; *ep; ep++)
		if (strncmp(*ep, "PATH=", 5) == 0)
			path = *ep + 5;
	if (!path)
		path = "/sbin:/bin:/usr/sbin:/usr/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		if (len && (size_t)snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path,
					    argv[0]) < sizeof(buf)) {
			execve(buf, argv, envp);
			if (errno != ENOENT && errno != ENOTDIR)
				err = errno;
		}
		path += len + (path[len] == ':');
	}
	return err;
}

/* ---- --bind: host paths in the firmware, in its mount namespace only ---- */

/* rel (no leading '/') in the merged tree, never out of it: "..", and
 * symlinks, absolute or not, resolve inside root (RESOLVE_IN_ROOT), as they
 * will once root is "/". An O_PATH fd, or -errno. */
static int open_in_root(int rootfd, const char *rel)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!*rel)
		fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	else
		fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* The mount point rel in root, made when missing (a directory, or an empty
 * file for a file: parents as directories) in the overlay's upper dir: part
 * of the run's diff, as if the firmware had made it. */
static int bind_target(int rootfd, const char *rel, bool dir)
{
	char parent[PATH_MAX];
	int fd = open_in_root(rootfd, rel);

	if (fd != -ENOENT)
		return fd;
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	size_t plen = slash ? (size_t)(slash - rel) : 0;
	memcpy(parent, rel, plen);
	parent[plen] = '\0';
	_cleanup_close_ int pfd = bind_target(rootfd, parent, true);
	if (pfd < 0)
		return pfd;
	if (!*base || !strcmp(base, "."))
		return fw_take_fd(&pfd);
	if (dir) {
		if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
			return -errno;
	} else {
		int f = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (f < 0 && errno != EEXIST)
			return -errno;
		if (f >= 0)
			close(f);
	}
	/* Made, or there already as a dangling symlink: ENOENT again then. */
	return open_in_root(rootfd, rel);
}

static int bind_one(int rootfd, const struct ns_bind *b, struct fw_error *e)
{
	char via[64];
	struct stat st;
	const char *rel = b->dst;

	while (*rel == '/')
		rel++;
	/* The host's SRC as it is now, and all below it. */
	_cleanup_close_ int tree = (int)syscall(SYS_open_tree, AT_FDCWD, b->src,
						OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (tree < 0 && errno != ENOSYS)
		return fw_fail(e, errno, "bind", b->src);
	if (tree >= 0 ? fstat(tree, &st) < 0 : stat(b->src, &st) < 0)
		return fw_fail(e, errno, "bind", b->src);
	_cleanup_close_ int dfd = bind_target(rootfd, rel, S_ISDIR(st.st_mode));
	if (dfd < 0)
		return fw_fail_hint(e, -dfd, "make the mount point in the firmware", b->dst,
				    dfd == -ENOENT ? "a symlink there points to nothing" : NULL);
	snprintf(via, sizeof(via), "/proc/self/fd/%d", dfd);
	if (tree >= 0) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		/* Read-only before it is attached: never writable in there. */
		long rr = b->ro ? syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE,
					  &attr, sizeof(attr)) : 0;
		if (rr < 0 && errno != ENOSYS)
			return fw_fail(e, errno, "make read-only", b->src);
		bool ro_done = b->ro && rr == 0;
		if (syscall(SYS_move_mount, tree, "", dfd, "",
			    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return fw_fail(e, errno, "bind on", b->dst);
		if (!b->ro || ro_done)
			return 0;
	} else if (mount(b->src, via, NULL, MS_BIND | MS_REC, NULL) < 0) {
		return fw_fail(e, errno, "bind on", b->dst);
	}
	/* A kernel without mount_setattr: each mount, once attached. */
	_cleanup_close_ int top = open_in_root(rootfd, rel);
	if (top < 0)
		return fw_fail(e, -top, "make read-only", b->dst);
	snprintf(via, sizeof(via), "/proc/self/fd/%d", top);
	return rootfs_make_readonly(via, e);
}

/* Every --bind and --bind-ro, in the order given: a later DST may lie
 * below an earlier one. */
static int bind_all(const struct ns_plan *plan, struct fw_error *e)
{
	if (!plan->nbinds)
		return 0;
	_cleanup_close_ int rootfd = open(MERGED_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return fw_fail(e, errno, "open", MERGED_DIR);
	for (size_t i = 0; i < plan->nbinds; i++) {
		int r = bind_one(rootfd, &plan->binds[i], e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* pid 1 runs on init_stack, which AddressSanitizer does not know: at a call
 * to a noreturn function it would warn (on pid 1's stderr) that it cannot
 * tell the stack's bounds. Only these two make such calls. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define INIT_STACK_CODE __attribute__((no_sanitize("address")))
#else
#define INIT_STACK_CODE
#endif

/* pid 1 failed before INIT ran: say so through the shared memory, the
 * setup thread reports it once we are gone. */
INIT_STACK_CODE static _Noreturn void init_fail(struct child *c, enum fw_step step, int status)
{
	c->init_failed = step;
	_exit(status);
}

/* pid 1 of the new PID namespace. It runs on its own stack in fwrun's
 * memory (see spawn_init), while the supervisor's thread runs on: it may
 * write only to *c and its stack, and its errno is the parked setup
 * thread's. */
INIT_STACK_CODE static int run_init(void *arg)
{
	struct child *c = arg;
	const struct ns_instance *ns = c->ns;
	const struct ns_plan *plan = ns->plan;
	struct pollfd pfd = { .fd = ns->setup_sock, .events = POLLRDHUP };

	c->init_started_ns = fw_now_ns();
	/* Our parent is the setup thread, which stays until we are reaped and
	 * dies with fwrun: die with it. Should fwrun have died before this
	 * prctl, the supervisor's end of the socket is closed already, once
	 * our own copy of it (the clone copied fwrun's fd table) is. */
	close(ns->sock);
	int err = prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ? errno : poll(&pfd, 1, 0) != 0 ? EPIPE : 0;
	if (err) {
		fw_fail(&c->e, err, "tie to the supervisor", plan->argv[0]);
		init_fail(c, STEP_INIT_SETUP, 125);
	}

	/* Into the instance's cgroup, and a cgroup namespace rooted there,
	 * before anything of the firmware runs. */
	if (plan->cgroup && cg_enter(plan->cgroup, c->placed, &c->e) < 0)
		init_fail(c, STEP_INIT_SETUP, 125);
	if (FW_FAULT(INIT_SETSID) || setsid() < 0) {
		fw_fail(&c->e, errno, "start a session for", plan->argv[0]);
		init_fail(c, STEP_INIT_SETUP, 125);
	}
	if (plan->console_fd >= 0) {
		for (int fd = 0; fd < 3; fd++)
			if (FW_FAULT(INIT_CONSOLE) || dup2(plan->console_fd, fd) < 0) {
				fw_fail(&c->e, errno, "attach console to", plan->argv[0]);
				init_fail(c, STEP_INIT_SETUP, 125);
			}
		if (ioctl(0, TIOCSCTTY, 0) < 0) {
			fw_fail(&c->e, errno, "set controlling terminal of", plan->argv[0]);
			init_fail(c, STEP_INIT_SETUP, 125);
		}
		if (plan->console_fd > 2)
			close(plan->console_fd);
	}
	if (plan->compat && initcompat_init_mounts(plan->compat, &c->e) < 0)
		init_fail(c, STEP_INIT_SETUP, 125);
	ns_reset_signals(ns->sig_ignored);
	ns_cloexec_from(3);
	/* INIT runs on the CPUs fwrun was given, not on those of the setup
	 * thread (see ns_spawn) or the one we started on (pin_this_cpu). */
	if (ns->have_cpus && (FW_FAULT(INIT_AFFINITY) ||
			      sched_setaffinity(0, sizeof(ns->cpus), &ns->cpus) < 0)) {
		fw_fail(&c->e, errno, "give back the CPU affinity of", plan->argv[0]);
		init_fail(c, STEP_INIT_SETUP, 125);
	}

	c->init_ready_ns = fw_now_ns();
	err = FW_FAULT(EXEC) ? errno : ns_exec(plan->argv, plan->envp);
	struct stat st;
	/* ENOENT for a file that exists means its interpreter or loader is missing */
	fw_fail_hint(&c->e, err, "run init", plan->argv[0],
		     initcompat_exec_hint(plan->compat, err, stat(plan->argv[0], &st) == 0));
	init_fail(c, STEP_EXEC, err == ENOENT || err == ENOTDIR || err == ELOOP ? 127 : 126);
}

/* pid 1's stack while it shares our memory, until its execve. */
static char init_stack[256 * 1024] __attribute__((aligned(16)));

void ns_discard_init_stack(void)
{
	fw_discard(init_stack, sizeof(init_stack));
}

/* Keep the next child on the CPU we run on. pid 1 and the setup thread
 * never run at once (CLONE_VFORK), yet the scheduler would start pid 1 on
 * another CPU, idle, and on a small VM waking an idle vCPU costs some 0.1 ms,
 * twice: for pid 1, then for us at its execve. Best effort. */
static void pin_this_cpu(void)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	(void)sched_setaffinity(0, sizeof(one), &one);
}

#if defined(__x86_64__)
/* clone3 with a stack of its own, as glibc's clone() does for clone(2):
 * the child starts on that stack, calls fn(arg) and exits with its value;
 * the parent returns the child's pid or -errno. (glibc has no clone3
 * wrapper; r8, r9 survive the system call.) */
static long clone3_run(struct clone_args *args, int (*fn)(void *), void *arg)
{
	register int (*r8)(void *) __asm__("r8") = fn;
	register void *r9 __asm__("r9") = arg;
	long ret;

	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r9, %%rdi\n\t"
			 "call *%%r8\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $60, %%eax\n\t"	/* exit */
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"((long)SYS_clone3), "D"(args), "S"(sizeof(*args)), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#endif

/* Start pid 1 as posix_spawn does: CLONE_VM|CLONE_VFORK, so no copy of our
 * address space is made and torn down again at its execve, and we resume
 * once INIT runs or pid 1 failed. A child of a thread is its process's: the
 * supervisor waits for the init itself, with no hand-off. Where the
 * instance has a cgroup2 cgroup, clone3 starts pid 1 in it
 * (CLONE_INTO_CGROUP): a write to cgroup.procs would wait for an RCU grace
 * period. Returns the pid, or -errno. */
static pid_t spawn_init(struct child *c)
{
	const struct cg_join *cg = c->ns->plan->cgroup;

	if (FW_FAULT(FORK_INIT))
		return -errno;
#if defined(__SANITIZE_ADDRESS__)
	/* The last boot's pid 1 left its frames' redzones poisoned in our
	 * memory, which it shared (--restart-on-reboot). */
	__asan_unpoison_memory_region(init_stack, sizeof(init_stack));
#endif
#if defined(__x86_64__)
	if (cg && cg->into_fd >= 0) {
		struct clone_args args = {
			.flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.stack = (uint64_t)(uintptr_t)init_stack,
			.stack_size = sizeof(init_stack),
			.cgroup = (uint64_t)cg->into_fd,
		};
		c->placed = true;
		long pid = clone3_run(&args, run_init, c);
		if (pid > 0)
			return (pid_t)pid;
		c->placed = false;
		/* an older kernel: clone(2), and pid 1 writes cgroup.procs */
		if (pid != -ENOSYS && pid != -E2BIG && pid != -EINVAL)
			return (pid_t)pid;
	}
#else
	(void)cg;
#endif
	pid_t pid = clone(run_init, init_stack + sizeof(init_stack),
			  CLONE_VM | CLONE_VFORK | SIGCHLD, c);
	return pid < 0 ? -errno : pid;
}

/* The namespaces the setup thread goes back to: the supervisor's. */
static const struct {
	const char *path;
	int type;
} home_ns[NS_HOME_COUNT] = {
	{ "/proc/self/ns/mnt", CLONE_NEWNS },
	{ "/proc/self/ns/uts", CLONE_NEWUTS },
	{ "/proc/self/ns/ipc", CLONE_NEWIPC },
	{ "/proc/self/ns/net", CLONE_NEWNET },
	{ "/proc/self/ns/pid", CLONE_NEWPID },	/* for its children */
};

/* Back to the host's namespaces once pid 1 runs INIT: pid 1 alone holds the
 * firmware's, and its exit takes the mounts (and a loop device) with it, as
 * before a restart on the same upper dir. */
static int go_home(const int *home, struct fw_error *e)
{
	for (size_t i = 0; i < NS_HOME_COUNT; i++)
		if (FW_FAULT(SETUP_HOME) || setns(home[i], home_ns[i].type) < 0)
			return fw_fail(e, errno, "go back to the host namespace", home_ns[i].path);
	return 0;
}

static int hook(struct child *c, enum fw_step step)
{
	const struct ns_plan *plan = c->ns->plan;

	if (!plan->hook)
		return 0;
	return plan->hook(step, plan->hook_data, &c->e);
}

int ns_private_scratch(int flags, const char *names, ns_step_cb done, void *data,
		       enum fw_step *failed, struct fw_error *e)
{
	int r;

	*failed = STEP_UNSHARE;
	if (FW_FAULT(UNSHARE) || unshare(flags) < 0)
		return fw_fail(e, errno, "unshare namespaces", names);
	*failed = STEP_NONE;
	if (done && (r = done(STEP_UNSHARE, data)) != 0)
		return r;
	/* Before any mount: nothing mounted here may reach the host, and
	 * everything mounted here goes with the namespace. */
	*failed = STEP_PRIVATE;
	if (FW_FAULT(MAKE_PRIVATE) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fw_fail(e, errno, "make private", "/");
	*failed = STEP_NONE;
	if (done && (r = done(STEP_PRIVATE, data)) != 0)
		return r;
	/* All instances share this directory: each covers it with its own
	 * tmpfs, seen only in its own mount namespace. */
	*failed = STEP_RUNDIR;
	if (FW_FAULT(SCRATCH_TMPFS) || mount("fwrun", FWRUN_MNT_DIR, "tmpfs", 0, "mode=0755") < 0)
		return fw_fail(e, errno, "mount tmpfs on", FWRUN_MNT_DIR);
	*failed = STEP_NONE;
	return 0;
}

/* After unshare: a step for -v; once / is private, the supervisor may go
 * on with the network (the thread's namespaces exist). */
static int setup_step_done(enum fw_step step, void *data)
{
	struct child *c = data;

	if (step == STEP_PRIVATE)
		return send_msg(c->ns->setup_sock, MSG_READY, STEP_PRIVATE,
				(pid_t)syscall(SYS_gettid), NULL) < 0 ? -1 : 0;
	child_step_done(c, step);
	return 0;
}

/* Pid 1 has exec'd INIT, or failed before: tell the supervisor (with the
 * times of pid 1's own steps for -v) and, once INIT runs, go back to the
 * host namespaces, where this thread waits until the init is reaped. */
static int init_spawned(struct child *c, pid_t pid)
{
	int sock = c->ns->setup_sock;

	if (c->ns->plan->report_steps) {
		if (c->init_started_ns)
			send_msg_at(sock, MSG_STEP, STEP_FORK_INIT, 0, NULL, c->init_started_ns);
		if (c->init_ready_ns)
			send_msg_at(sock, MSG_STEP, STEP_INIT_SETUP, 0, NULL, c->init_ready_ns);
	}
	if (c->init_failed != STEP_NONE) {
		send_msg(sock, MSG_ERROR, c->init_failed, pid, &c->e);
		return -1;
	}
	if (go_home(c->ns->home, &c->e) < 0) {
		send_msg(sock, MSG_ERROR, STEP_FORK_INIT, pid, &c->e);
		return -1;
	}
	send_msg(sock, MSG_SPAWNED, STEP_EXEC, pid, NULL);
	return 0;
}

/* Everything up to pid 1 running INIT: 0 once it does (SPAWNED sent, the
 * thread back in the host namespaces), -1 when a step failed (reported) or
 * the supervisor stopped talking. */
static int setup(const struct ns_instance *ns)
{
	const struct ns_plan *plan = ns->plan;
	int sock = ns->setup_sock;
	struct child c = { .ns = ns };
	const char *upper = plan->upper ? plan->upper : UPPER_DIR;
	const char *work = plan->upper ? plan->work : WORK_DIR;
	struct ns_msg m;

	enum fw_step failed;
	int r = ns_private_scratch(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
				   CLONE_SYSVSEM, "mnt, uts, ipc, net", setup_step_done, &c,
				   &failed, &c.e);
	if (r < 0 && failed != STEP_NONE)
		return child_fail(&c, failed);
	if (r != 0)
		return -1;
	if (mkdir_p1(LOWER_DIR, 0755, &c.e) < 0 || mkdir_p1(MERGED_DIR, 0755, &c.e) < 0)
		return child_fail(&c, STEP_RUNDIR);
	if (!plan->upper && (mkdir_p1(UPPER_DIR, 0755, &c.e) < 0 ||
			     mkdir_p1(WORK_DIR, 0700, &c.e) < 0))
		return child_fail(&c, STEP_RUNDIR);
	child_step_done(&c, STEP_RUNDIR);

	if (rootfs_mount(plan->rootfs_path, plan->rootfs_fd, &plan->rootfs, LOWER_DIR, &c.e) < 0)
		return child_fail(&c, STEP_ROOTFS);
	child_step_done(&c, STEP_ROOTFS);

	/* The supervisor has made the upper dir ready meanwhile. */
	if (recv_msg(sock, &m) < 0 || m.type != MSG_GO)
		return -1;
	if (overlay_mount(LOWER_DIR, upper, work, MERGED_DIR, &c.e) < 0)
		return child_fail(&c, STEP_OVERLAY);
	child_step_done(&c, STEP_OVERLAY);
	/* ... and then opened the console's ptys, which /dev binds. */
	if (recv_msg(sock, &m) < 0 || m.type != MSG_GO)
		return -1;
	if (setup_dev(plan, &c.e) < 0)
		return child_fail(&c, STEP_DEV);
	child_step_done(&c, STEP_DEV);
	if (bind_all(plan, &c.e) < 0)
		return child_fail(&c, STEP_BIND);
	if (plan->nbinds)
		child_step_done(&c, STEP_BIND);

	/* The exec label is set here, not in pid 1: libapparmor writes it
	 * through /proc/<tid>/attr, which needs the host's /proc (gone after
	 * the switch, and pid 1's tid would be 1). It is this thread's, inherited
	 * by pid 1 at its clone, and applies at pid 1's execve. */
	if (hook(&c, STEP_PRE_PIVOT) < 0)
		return child_fail(&c, STEP_PRE_PIVOT);
	child_step_done(&c, STEP_PRE_PIVOT);
	if (FW_FAULT(HOSTNAME) || sethostname(plan->hostname, strlen(plan->hostname)) < 0) {
		fw_fail(&c.e, errno, "set hostname", plan->hostname);
		return child_fail(&c, STEP_HOSTNAME);
	}
	child_step_done(&c, STEP_HOSTNAME);
	if (switch_root(MERGED_DIR, &c.e) < 0)
		return child_fail(&c, STEP_PIVOT);
	if (plan->compat)
		initcompat_inspect(plan->compat, plan->argv[0]);
	child_step_done(&c, STEP_PIVOT);

	/* Last: the next fork is pid 1 of the new PID namespace. */
	if (FW_FAULT(UNSHARE_PID) || unshare(CLONE_NEWPID) < 0) {
		fw_fail(&c.e, errno, "unshare namespace", "pid");
		return child_fail(&c, STEP_UNSHARE_PID);
	}
	child_step_done(&c, STEP_UNSHARE_PID);
	/* The syscall filter on this thread, which pid 1 inherits at its
	 * clone: loaded (its JIT is some 0.5 ms of kernel time) while the
	 * supervisor still sets up the network and the cgroup, rather than
	 * on pid 1's way to INIT. What runs under it from here on (the clone,
	 * pid 1's cgroup, session and console, setns home) calls nothing it
	 * denies; the mknod of --device's block nodes is behind us. */
	if (plan->seccomp && (FW_FAULT(INIT_SECCOMP) ||
			      (errno = -sysfilter_load(plan->seccomp)) != 0)) {
		fw_fail_hint(&c.e, errno, "load the syscall filter for", plan->argv[0],
			     errno == EINVAL ? "no seccomp filters in this kernel? --seccomp=off" : NULL);
		return child_fail(&c, STEP_SECCOMP);
	}
	if (plan->seccomp)
		child_step_done(&c, STEP_SECCOMP);
	/* The supervisor has set up the network meanwhile. */
	if (recv_msg(sock, &m) < 0 || m.type != MSG_GO)
		return -1;
	if (ns->have_cpus)
		pin_this_cpu();
	pid_t pid = spawn_init(&c);
	if (pid < 0) {
		fw_fail(&c.e, (int)-pid, "fork", plan->argv[0]);
		return child_fail(&c, STEP_FORK_INIT);
	}
	return init_spawned(&c, pid);
}

static void *setup_thread(void *arg)
{
	struct ns_instance *ns = arg;
	sigset_t all;
	char byte;

	/* Every signal is the supervisor's (its signalfd reads them). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (setup(ns) == 0) {
		/* pid 1 dies when we end: wait for the supervisor to close its
		 * end, once it has reaped the init (or killed it); meanwhile
		 * the caller's chores, and, once the firmware has run a while,
		 * the pages the setup touched below are the host's again. */
		if (ns->plan->parked)
			ns->plan->parked(ns->plan->parked_arg);
		struct pollfd p = { .fd = ns->setup_sock, .events = POLLIN };
		int ready;
		while ((ready = poll(&p, 1, FW_GIVE_BACK_AFTER_MS)) < 0 && errno == EINTR)
			;
		if (ready == 0)
			fw_discard_thread_stack_below(__builtin_frame_address(0));
		for (;;) {
			ssize_t n = recv(ns->setup_sock, &byte, sizeof(byte), 0);
			if (n == 0 || (n < 0 && errno != EINTR))
				break;
		}
	}
	close(ns->setup_sock);	/* the supervisor reads EOF from here on */
	return NULL;
}

/* ---- supervisor side ---- */

int ns_become_subreaper(struct fw_error *e)
{
	if (FW_FAULT(SUBREAPER) || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return fw_fail(e, errno, "become child subreaper", "fwrun");
	return 0;
}

static void reap(pid_t *pid, int *wstatus)
{
	int st = 0;

	if (*pid <= 0)
		return;
	while (waitpid(*pid, &st, 0) < 0 && errno == EINTR)
		;
	if (wstatus)
		*wstatus = st;
	*pid = -1;
}

/* The setup thread ended without a word: it always reports, so this is a
 * bug of ours. */
static int setup_died(struct fw_error *e)
{
	return fw_fail_hint(e, EPROTO, "set up the firmware's namespaces", "setup thread",
			    "it ended without a word");
}

/* Read messages until one of type want; record step times on the way. */
static int expect(struct ns_instance *ns, int want, struct ns_msg *m, struct fw_error *e)
{
	for (;;) {
		int r = recv_msg(ns->sock, m);
		if (r < 0)
			return r;
		if (m->type == MSG_STEP) {
			if ((unsigned)m->step < STEP_COUNT)
				ns->step_ns[m->step] = m->time_ns;
			continue;
		}
		if (m->type == MSG_ERROR) {
			*e = m->err;
			if ((unsigned)m->step < STEP_COUNT)
				ns->step_ns[m->step] = m->time_ns;
			return -(e->err ? e->err : EIO);
		}
		if (m->type == want) {
			if ((unsigned)m->step < STEP_COUNT)
				ns->step_ns[m->step] = m->time_ns;
			return 0;
		}
		return fw_fail(e, EPROTO, "talk to", "setup thread");
	}
}

/* The setup thread works while we make the state dir ready: on a CPU of
 * its own. Left to the scheduler, a new task starts on its parent's CPU and
 * waits there behind the parent's work, even with another CPU idle (about
 * 1 ms per run on this benchmark's VM: bench/RESULTS.md). So it may run on
 * any CPU of ours but this one; pid 1 gets all of them back. Best effort:
 * false when there is no other CPU. */
static bool apart(pthread_attr_t *attr, const cpu_set_t *cpus)
{
	cpu_set_t others = *cpus;
	int cpu = sched_getcpu();

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return false;
	CPU_CLR(cpu, &others);
	return CPU_COUNT(&others) > 0 &&
	       pthread_attr_setaffinity_np(attr, sizeof(others), &others) == 0;
}

static int start_setup_thread(struct ns_instance *ns)
{
	pthread_attr_t attr;
	int r;

	if (FW_FAULT(SETUP_THREAD))
		return errno;
	if ((r = pthread_attr_init(&attr)) != 0)
		return r;
	bool placed = ns->have_cpus && apart(&attr, &ns->cpus);
	r = pthread_create(&ns->setup, &attr, setup_thread, ns);
	if (r == EINVAL && placed) {	/* a CPU we may not use after all */
		pthread_attr_destroy(&attr);
		pthread_attr_init(&attr);
		r = pthread_create(&ns->setup, &attr, setup_thread, ns);
	}
	pthread_attr_destroy(&attr);
	return r;
}

/* The host namespaces the setup thread goes back to, ours. */
static int open_home(struct ns_instance *ns, struct fw_error *e)
{
	for (size_t i = 0; i < NS_HOME_COUNT; i++) {
		ns->home[i] = FW_FAULT(OPEN_HOME) ? -1 :
			      open(home_ns[i].path, O_RDONLY | O_CLOEXEC);
		if (ns->home[i] < 0)
			return fw_fail(e, errno, "open", home_ns[i].path);
	}
	return 0;
}

int ns_spawn(struct ns_instance *ns, const struct ns_plan *plan, struct fw_error *e)
{
	int sv[2];
	int r;

	if (FW_FAULT(SETUP_SOCKET) || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return fw_fail(e, errno, "create socket for", "setup thread");
	ns->sock = sv[0];
	ns->setup_sock = sv[1];
	ns->plan = plan;
	ns->have_cpus = sched_getaffinity(0, sizeof(ns->cpus), &ns->cpus) == 0;
	ns->sig_ignored = ns_ignored_signals();
	ns->step_ns[STEP_NONE] = fw_now_ns();
	r = start_setup_thread(ns);
	if (r != 0) {
		close(ns->setup_sock);
		ns->setup_sock = -1;
		return fw_fail(e, r, "start", "setup thread");
	}
	ns->setup_running = true;
	/* While it unshares: it needs them only once pid 1 runs, after our
	 * second go-ahead. */
	return open_home(ns, e);
}

/* A send to the setup thread failed: if it was EPIPE, it may have failed a
 * step and left its error queued on our end; otherwise it would wait for
 * our word forever: make its read end. */
static void setup_unheard(struct ns_instance *ns, int r)
{
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		shutdown(ns->sock, SHUT_WR);
}

/* The setup thread's next go-ahead. */
static void go(struct ns_instance *ns)
{
	setup_unheard(ns, send_msg(ns->sock, MSG_GO, STEP_NONE, 0, NULL));
}

void ns_upper_ready(struct ns_instance *ns)
{
	go(ns);
}

int ns_ready(struct ns_instance *ns, struct fw_error *e)
{
	char path[64];
	struct ns_msg m;
	int r;

	go(ns);
	r = expect(ns, MSG_READY, &m, e);
	if (r == -EPIPE)
		return setup_died(e);
	if (r < 0)
		return r;
	/* The thread's own namespace: /proc/self/ns is the main thread's. */
	snprintf(path, sizeof(path), "/proc/self/task/%d/ns/net", (int)m.pid);
	ns->netns_fd = FW_FAULT(OPEN_NETNS) ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	if (ns->netns_fd < 0) {
		int err = errno;
		/* Gone already? Then it failed its next step: its error, queued
		 * before it ended, says what happened. */
		while (recv_msg_flags(ns->sock, &m, MSG_DONTWAIT) == 0)
			if (m.type == MSG_ERROR) {
				*e = m.err;
				return -(e->err ? e->err : EIO);
			}
		return fw_fail(e, err, "open", path);
	}
	return 0;
}

int ns_start_init(struct ns_instance *ns, struct fw_error *e)
{
	struct ns_msg m = { 0 };
	int r;

	go(ns);
	r = expect(ns, MSG_SPAWNED, &m, e);
	/* pid 1 is our child, also when it failed: ours to reap. */
	if (m.type == MSG_SPAWNED || m.type == MSG_ERROR)
		ns->init_pid = m.pid > 0 ? m.pid : -1;
	if (r == -EPIPE)
		return setup_died(e);
	if (r < 0 && ns->init_pid > 0) {
		/* Exited already, unless the setup thread failed after INIT
		 * began (it could not go back to the host namespaces). */
		kill(ns->init_pid, SIGKILL);
		reap(&ns->init_pid, NULL);
	}
	return r;
}

void ns_abort(struct ns_instance *ns)
{
	if (ns->init_pid > 0) {
		kill(ns->init_pid, SIGKILL);
		reap(&ns->init_pid, NULL);
	}
	/* The setup thread reads EOF wherever it waits, and ends. Joined, it
	 * has closed its end; a setup that failed midway may still be
	 * dropping its namespaces, which fwrun's exit waits for. */
	if (ns->sock >= 0) {
		close(ns->sock);
		ns->sock = -1;
	}
	if (ns->setup_running) {
		pthread_join(ns->setup, NULL);
		ns->setup_running = false;
		ns->setup_sock = -1;
	}
	for (size_t i = 0; i < NS_HOME_COUNT; i++)
		if (ns->home[i] >= 0) {
			close(ns->home[i]);
			ns->home[i] = -1;
		}
}

uint64_t ns_id(pid_t pid, const char *type)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, type);
	if (stat(path, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}
