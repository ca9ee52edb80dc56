/* SPDX-License-Identifier: MIT */
/* The process model of PRODUCT.md §3; see ns.h for the picture. */
#include "ns.h"
#include "fault.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
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

enum ns_msg_type {
	MSG_READY = 1,	/* setup child -> supervisor: namespaces exist */
	MSG_GO,		/* supervisor -> setup child: the state dir is ready (first),
			 * the network is set up (second): go on */
	MSG_STEP,	/* setup child -> supervisor: a step finished (verbose) */
	MSG_SPAWNED,	/* setup child -> supervisor: pid 1 exec'd INIT (pid) */
	MSG_ERROR,	/* setup child -> supervisor: a step failed (err; pid:
			 * pid 1 when it was pid 1 that failed) */
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
	[STEP_PRE_PIVOT] = "protection (exec label)",
	[STEP_HOSTNAME] = "hostname",
	[STEP_PIVOT] = "switch root",
	[STEP_UNSHARE_PID] = "unshare pid namespace",
	[STEP_FORK_INIT] = "fork pid 1",
	[STEP_INIT_SETUP] = "pid 1 session and console",
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
	ns->setup_pid = -1;
	ns->init_pid = -1;
	ns->sock = -1;
	ns->netns_fd = -1;
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

/* ---- inside the setup child: everything below may only _exit() ---- */

struct child {
	const struct ns_plan *plan;
	int sock;
	struct fw_error e;
	/* Written by pid 1, which shares this memory until its execve
	 * (CLONE_VM|CLONE_VFORK), read by the setup child afterwards. */
	enum fw_step init_failed;	/* STEP_NONE: INIT is running */
	uint64_t init_started_ns, init_ready_ns;
	const cpu_set_t *cpus;		/* the supervisor's CPUs, for INIT (or NULL) */
	uint64_t sig_ignored;		/* signals to set back to SIG_DFL for INIT */
};

static _Noreturn void child_fail(struct child *c, enum fw_step step)
{
	send_msg(c->sock, MSG_ERROR, step, 0, &c->e);
	_exit(125);
}

static void child_step_done(struct child *c, enum fw_step step)
{
	if (c->plan->report_steps)
		send_msg(c->sock, MSG_STEP, step, 0, NULL);
}

static int mkdir_p1(const char *path, mode_t mode, struct fw_error *e)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return fw_fail(e, errno, "create directory", path);
	return 0;
}

/* The scratch tmpfs' layout, in the setup child's mount namespace only. */
#define LOWER_DIR FWRUN_MNT_DIR "/lower"
#define MERGED_DIR FWRUN_MNT_DIR "/merged"
#define UPPER_DIR FWRUN_MNT_DIR "/upper"	/* --ephemeral */
#define WORK_DIR FWRUN_MNT_DIR "/work"
#define DEV_DIR MERGED_DIR "/dev"

/* Made relative to the new /dev (dfd); the error names the whole path. */
static int dev_fail(struct fw_error *e, int err, const char *what, const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), DEV_DIR "/%s", name);
	return fw_fail(e, err, what, path);
}

static int make_node(int dfd, const char *name, unsigned maj, unsigned min, struct fw_error *e)
{
	if (FW_FAULT("dev-node") || mknodat(dfd, name, S_IFCHR | 0666, makedev(maj, min)) < 0)
		return dev_fail(e, errno, "create device node", name);
	return 0;
}

static int make_link(int dfd, const char *name, const char *target, struct fw_error *e)
{
	if (symlinkat(target, dfd, name) < 0)
		return dev_fail(e, errno, "create symlink", name);
	return 0;
}

/* The least /dev a firmware's init needs (PRODUCT.md §3.3). Device nodes are
 * made with mknod (we are real root); the console is the pty slave bound
 * from the host, or a link to pid 1's stdout when there is no pty. Called
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
	if (FW_FAULT("dev-tmpfs") ||
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
	if (FW_FAULT("dev-devpts") ||
	    mount("devpts", DEV_DIR "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		return fw_fail(e, errno, "mount devpts on", DEV_DIR "/pts");
	if (mkdirat(dfd, "shm", 01777) < 0)
		return fw_fail(e, errno, "create directory", DEV_DIR "/shm");
	if (FW_FAULT("dev-shm") ||
	    mount("shm", DEV_DIR "/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		return fw_fail(e, errno, "mount tmpfs on", DEV_DIR "/shm");

	if (plan->console_path) {
		int fd = openat(dfd, "console",
				O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return fw_fail(e, errno, "create", DEV_DIR "/console");
		close(fd);
		if (FW_FAULT("dev-console") ||
		    mount(plan->console_path, DEV_DIR "/console", NULL, MS_BIND, NULL) < 0)
			return fw_fail(e, errno, "bind console on", DEV_DIR "/console");
		return 0;
	}
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
	if (!FW_FAULT("pivot-root") && syscall(SYS_pivot_root, ".", ".") == 0) {
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
static void cloexec_from(int first)
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
static uint64_t ignored_signals(void)
{
	char buf[2048];
	uint64_t mask = ~(uint64_t)0;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return mask;
	ssize_t n = fw_read_all(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return mask;
	buf[n] = '\0';
	static const char key[] = "\nSigIgn:";
	const char *p = strstr(buf, key);
	if (!p)
		return mask;
	p += strlen(key);
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
static void reset_signals(uint64_t ignored)
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
static int exec_init(char *const *argv, char *const *envp)
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

/* pid 1 runs on init_stack, which AddressSanitizer does not know: at a call
 * to a noreturn function it would warn (on pid 1's stderr) that it cannot
 * tell the stack's bounds. Only these two make such calls. */
#if defined(__SANITIZE_ADDRESS__)
#define INIT_STACK_CODE __attribute__((no_sanitize("address")))
#else
#define INIT_STACK_CODE
#endif

/* pid 1 failed before INIT ran: say so through the shared memory, the
 * setup child reports it once we are gone. */
INIT_STACK_CODE static _Noreturn void init_fail(struct child *c, enum fw_step step, int status)
{
	c->init_failed = step;
	_exit(status);
}

/* pid 1 of the new PID namespace. It runs on its own stack in the setup
 * child's memory (see spawn_init) and may write only to *c and its stack. */
INIT_STACK_CODE static int run_init(void *arg)
{
	struct child *c = arg;
	const struct ns_plan *plan = c->plan;
	struct pollfd pfd = { .fd = c->sock, .events = POLLRDHUP };

	c->init_started_ns = fw_now_ns();
	/* Our parent is the supervisor (CLONE_PARENT): die with it. If it
	 * died before this prctl, its end of the socket is closed already. */
	int err = prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ? errno : poll(&pfd, 1, 0) != 0 ? EPIPE : 0;
	if (err) {
		fw_fail(&c->e, err, "tie to the supervisor", plan->argv[0]);
		init_fail(c, STEP_INIT_SETUP, 125);
	}

	if (FW_FAULT("init-setsid") || setsid() < 0) {
		fw_fail(&c->e, errno, "start a session for", plan->argv[0]);
		init_fail(c, STEP_INIT_SETUP, 125);
	}
	if (plan->console_fd >= 0) {
		for (int fd = 0; fd < 3; fd++)
			if (FW_FAULT("init-console") || dup2(plan->console_fd, fd) < 0) {
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
	reset_signals(c->sig_ignored);
	cloexec_from(3);
	/* INIT runs on the CPUs fwrun was given, not on those of the setup
	 * child (see ns_spawn) or the one we started on (pin_this_cpu). */
	if (c->cpus && (FW_FAULT("init-affinity") ||
			sched_setaffinity(0, sizeof(*c->cpus), c->cpus) < 0)) {
		fw_fail(&c->e, errno, "give back the CPU affinity of", plan->argv[0]);
		init_fail(c, STEP_INIT_SETUP, 125);
	}

	c->init_ready_ns = fw_now_ns();
	err = FW_FAULT("exec") ? errno : exec_init(plan->argv, plan->envp);
	struct stat st;
	/* ENOENT for a file that exists means its interpreter or loader is missing */
	fw_fail_hint(&c->e, err, "run init", plan->argv[0],
		     err == ENOENT && stat(plan->argv[0], &st) == 0 ?
		     "its interpreter or dynamic loader is missing in the firmware" : NULL);
	init_fail(c, STEP_EXEC, err == ENOENT || err == ENOTDIR || err == ELOOP ? 127 : 126);
}

/* pid 1's stack while it shares our memory, until its execve. */
static char init_stack[256 * 1024] __attribute__((aligned(16)));

/* Keep the next child on the CPU we run on. pid 1 and the setup child never
 * run at once (CLONE_VFORK), yet the scheduler would start pid 1 on another
 * CPU, idle, and on a small VM waking an idle vCPU costs some 0.1 ms, twice:
 * for pid 1, then for us at its execve. Best effort. */
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

/* Start pid 1 as posix_spawn does: CLONE_VM|CLONE_VFORK, so no copy of our
 * address space is made and torn down again at its execve, and we resume
 * once INIT runs or pid 1 failed. CLONE_PARENT makes it the supervisor's
 * child from the start: its parent-death signal can be set at once, and
 * the supervisor waits for the init itself, with no hand-off. Returns the
 * pid, or -errno. */
static pid_t spawn_init(struct child *c)
{
	if (FW_FAULT("fork-init"))
		return -errno;
	pid_t pid = clone(run_init, init_stack + sizeof(init_stack),
			  CLONE_VM | CLONE_VFORK | CLONE_PARENT | SIGCHLD, c);
	return pid < 0 ? -errno : pid;
}

static int hook(struct child *c, enum fw_step step)
{
	if (!c->plan->hook)
		return 0;
	return c->plan->hook(step, c->plan->hook_data, &c->e);
}

static _Noreturn void setup_child(const struct ns_plan *plan, int sock, pid_t supervisor,
				  const cpu_set_t *cpus, uint64_t sig_ignored)
{
	struct child c = { .plan = plan, .sock = sock, .cpus = cpus, .sig_ignored = sig_ignored };
	const char *upper = plan->upper ? plan->upper : UPPER_DIR;
	const char *work = plan->upper ? plan->work : WORK_DIR;
	struct ns_msg m;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != supervisor)
		_exit(125);

	if (FW_FAULT("unshare") ||
	    unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_SYSVSEM) < 0) {
		fw_fail(&c.e, errno, "unshare namespaces", "mnt, uts, ipc, net");
		child_fail(&c, STEP_UNSHARE);
	}
	child_step_done(&c, STEP_UNSHARE);
	/* Before any mount: nothing mounted here may reach the host, and
	 * everything mounted here goes with the namespace. */
	if (FW_FAULT("make-private") || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fw_fail(&c.e, errno, "make private", "/");
		child_fail(&c, STEP_PRIVATE);
	}
	if (send_msg(sock, MSG_READY, STEP_PRIVATE, 0, NULL) < 0)
		_exit(125);

	/* All instances share this directory: each covers it with its own
	 * tmpfs, seen only in its own mount namespace. */
	if (FW_FAULT("scratch-tmpfs") || mount("fwrun", FWRUN_MNT_DIR, "tmpfs", 0, "mode=0755") < 0) {
		fw_fail(&c.e, errno, "mount tmpfs on", FWRUN_MNT_DIR);
		child_fail(&c, STEP_RUNDIR);
	}
	if (mkdir_p1(LOWER_DIR, 0755, &c.e) < 0 || mkdir_p1(MERGED_DIR, 0755, &c.e) < 0)
		child_fail(&c, STEP_RUNDIR);
	if (!plan->upper && (mkdir_p1(UPPER_DIR, 0755, &c.e) < 0 ||
			     mkdir_p1(WORK_DIR, 0700, &c.e) < 0))
		child_fail(&c, STEP_RUNDIR);
	child_step_done(&c, STEP_RUNDIR);

	if (rootfs_mount(plan->rootfs_path, plan->rootfs_fd, &plan->rootfs, LOWER_DIR, &c.e) < 0)
		child_fail(&c, STEP_ROOTFS);
	close(plan->rootfs_fd);
	child_step_done(&c, STEP_ROOTFS);

	/* The supervisor has made the upper dir ready meanwhile. */
	if (recv_msg(sock, &m) < 0 || m.type != MSG_GO)
		_exit(125);
	if (overlay_mount(LOWER_DIR, upper, work, MERGED_DIR, &c.e) < 0)
		child_fail(&c, STEP_OVERLAY);
	child_step_done(&c, STEP_OVERLAY);
	if (setup_dev(plan, &c.e) < 0)
		child_fail(&c, STEP_DEV);
	child_step_done(&c, STEP_DEV);

	/* The exec label is set here, not in pid 1: libapparmor writes it
	 * through /proc/<tid>/attr, which needs the host's /proc (gone after
	 * the switch, and pid 1's tid would be 1). It is inherited at fork and
	 * applies at pid 1's execve. */
	if (hook(&c, STEP_PRE_PIVOT) < 0)
		child_fail(&c, STEP_PRE_PIVOT);
	child_step_done(&c, STEP_PRE_PIVOT);
	if (FW_FAULT("hostname") || sethostname(plan->hostname, strlen(plan->hostname)) < 0) {
		fw_fail(&c.e, errno, "set hostname", plan->hostname);
		child_fail(&c, STEP_HOSTNAME);
	}
	child_step_done(&c, STEP_HOSTNAME);
	if (switch_root(MERGED_DIR, &c.e) < 0)
		child_fail(&c, STEP_PIVOT);
	child_step_done(&c, STEP_PIVOT);

	/* Last: the next fork is pid 1 of the new PID namespace. */
	if (FW_FAULT("unshare-pid") || unshare(CLONE_NEWPID) < 0) {
		fw_fail(&c.e, errno, "unshare namespace", "pid");
		child_fail(&c, STEP_UNSHARE_PID);
	}
	child_step_done(&c, STEP_UNSHARE_PID);
	/* The supervisor has set up the network meanwhile. */
	if (recv_msg(sock, &m) < 0 || m.type != MSG_GO)
		_exit(125);
	if (c.cpus)
		pin_this_cpu();
	pid_t pid = spawn_init(&c);
	if (pid < 0) {
		fw_fail(&c.e, (int)-pid, "fork", plan->argv[0]);
		child_fail(&c, STEP_FORK_INIT);
	}
	if (plan->report_steps) {
		if (c.init_started_ns)
			send_msg_at(sock, MSG_STEP, STEP_FORK_INIT, 0, NULL, c.init_started_ns);
		if (c.init_ready_ns)
			send_msg_at(sock, MSG_STEP, STEP_INIT_SETUP, 0, NULL, c.init_ready_ns);
	}
	if (c.init_failed != STEP_NONE)
		send_msg(sock, MSG_ERROR, c.init_failed, pid, &c.e);
	else
		send_msg(sock, MSG_SPAWNED, STEP_EXEC, pid, NULL);
	_exit(0);
}

/* ---- supervisor side ---- */

int ns_become_subreaper(struct fw_error *e)
{
	if (FW_FAULT("subreaper") || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
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

/* The setup child went away without a word: say how. */
static int setup_died(struct ns_instance *ns, struct fw_error *e)
{
	int st = 0;
	char how[64];

	reap(&ns->setup_pid, &st);
	if (WIFSIGNALED(st))
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(st));
	else
		snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(st));
	return fw_fail_hint(e, ECHILD, "set up the firmware's namespaces", "setup child", how);
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
		return fw_fail(e, EPROTO, "talk to", "setup child");
	}
}

/* The setup child works while we make the state dir ready: on a CPU of its
 * own. Left to the scheduler, a forked child starts on its parent's CPU and
 * waits there behind the parent's work, even with another CPU idle (about
 * 1 ms per run on this benchmark's VM: bench/RESULTS.md). So it may run on
 * any CPU of ours but this one; pid 1 gets all of them back. Best effort. */
static void run_apart(pid_t child, const cpu_set_t *cpus)
{
	cpu_set_t others = *cpus;
	int cpu = sched_getcpu();

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	CPU_CLR(cpu, &others);
	if (CPU_COUNT(&others) > 0)
		(void)sched_setaffinity(child, sizeof(others), &others);
}

int ns_spawn(struct ns_instance *ns, const struct ns_plan *plan, struct fw_error *e)
{
	int sv[2];
	int r;

	if (FW_FAULT("setup-socket") || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return fw_fail(e, errno, "create socket for", "setup child");
	pid_t supervisor = getpid();
	cpu_set_t cpus;
	bool have_cpus = sched_getaffinity(0, sizeof(cpus), &cpus) == 0;
	uint64_t sig_ignored = ignored_signals();
	ns->step_ns[STEP_NONE] = fw_now_ns();
	pid_t pid = FW_FAULT("fork-setup") ? -1 : fork();
	if (pid < 0) {
		r = fw_fail(e, errno, "fork", "setup child");
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		setup_child(plan, sv[1], supervisor, have_cpus ? &cpus : NULL, sig_ignored);
	}
	if (have_cpus)
		run_apart(pid, &cpus);
	close(sv[1]);
	ns->setup_pid = pid;
	ns->sock = sv[0];
	return 0;
}

/* A send to the setup child failed: if it was EPIPE, it may have failed a
 * step and left its error queued on our end; otherwise it would wait for
 * our word forever. */
static void setup_unheard(struct ns_instance *ns, int r)
{
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		kill(ns->setup_pid, SIGKILL);
}

int ns_ready(struct ns_instance *ns, struct fw_error *e)
{
	char path[64];
	struct ns_msg m;
	int r;

	setup_unheard(ns, send_msg(ns->sock, MSG_GO, STEP_NONE, 0, NULL));
	r = expect(ns, MSG_READY, &m, e);
	if (r == -EPIPE)
		return setup_died(ns, e);
	if (r < 0) {
		reap(&ns->setup_pid, NULL);
		return r;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)ns->setup_pid);
	ns->netns_fd = FW_FAULT("open-netns") ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	if (ns->netns_fd < 0) {
		int err = errno;
		/* Gone already? Then it failed its next step: its error, queued
		 * before it exited, says what happened. */
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

	setup_unheard(ns, send_msg(ns->sock, MSG_GO, STEP_NONE, 0, NULL));
	r = expect(ns, MSG_SPAWNED, &m, e);
	/* pid 1 is our child (CLONE_PARENT), also when it failed: ours to reap. */
	if (m.type == MSG_SPAWNED || m.type == MSG_ERROR)
		ns->init_pid = m.pid > 0 ? m.pid : -1;
	if (r == -EPIPE)
		return setup_died(ns, e);
	if (r < 0) {
		reap(&ns->setup_pid, NULL);
		reap(&ns->init_pid, NULL);
	} else {
		ns->setup_pid = -1;	/* exiting: reaped with the init's kin */
	}
	close(ns->sock);
	ns->sock = -1;
	return r;
}

void ns_abort(struct ns_instance *ns)
{
	if (ns->setup_pid > 0) {
		kill(ns->setup_pid, SIGKILL);
		reap(&ns->setup_pid, NULL);
	}
	if (ns->init_pid > 0) {
		kill(ns->init_pid, SIGKILL);
		reap(&ns->init_pid, NULL);
	}
	if (ns->sock >= 0) {
		close(ns->sock);
		ns->sock = -1;
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
