/* SPDX-License-Identifier: MIT */
/* fwrun --enter: see enter.h. */
#include "enter.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/apparmor.h>
#include <sys/sysmacros.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>

#include "aa.h"
#include "caps.h"
#include "cgroup.h"
#include "sysfilter.h"
#include "fwrun.h"
#include "ns.h"

/* ---- pure half ---- */

int enter_parse_capbnd(const char *status, uint64_t *bnd)
{
	static const char key[] = "\nCapBnd:";
	const char *p = strstr(status, key);
	char *end;

	if (!p)
		return -EINVAL;
	p += strlen(key);
	errno = 0;
	unsigned long long v = strtoull(p, &end, 16);
	if (errno || end == p || (*end != '\n' && *end))
		return -EINVAL;
	*bnd = v;
	return 0;
}

int enter_label(const char *current, char *buf, size_t size)
{
	size_t len = strcspn(current, "\n");

	/* "NAME (MODE)": the mode is not part of the name. */
	if (len > 2 && current[len - 1] == ')') {
		const char *open = NULL;
		for (size_t i = len; i-- > 0;)
			if (current[i] == '(') {
				open = current + i;
				break;
			}
		if (open && open > current && open[-1] == ' ')
			len = (size_t)(open - current) - 1;
	}
	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, current, len);
	buf[len] = '\0';
	if (!strcmp(buf, "unconfined"))
		buf[0] = '\0';
	return 0;
}

/* ---- applying half ---- */

/* What CMD takes from the init, read while the host's /proc is at hand. */
struct enter_ctx {
	const struct enter_plan *p;
	pid_t init;
	int pidfd;		/* the init; -1 where pidfd_open is missing */
	int nsfd[6];		/* /proc/INIT/ns/..., without a pidfd */
	int flags;		/* CLONE_NEW* that differ from ours */
	int rootfd;		/* /proc/INIT/root */
	uint64_t drop;		/* not in the init's bounding set */
	char label[256];	/* its AppArmor profile, "" when unconfined */
	uint64_t sig_ignored;
	struct cg_host cg;	/* the init's cgroups, as directories of our mounts */
	const struct sock_fprog *filter;	/* the init's syscall filter, when it has one */
	int errpipe[2];		/* CMD's failure before its exec, whole */
	struct console con;
};

static const struct {
	const char *name;
	int flag;
} ns_types[6] = {
	{ "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
	{ "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
};

static int init_cgroups(struct enter_ctx *c, struct fw_error *e);

static int read_proc(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = fw_read_all(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Hold the init (pidfd), check it is still the record's, and read what
 * CMD takes from it. */
static int look_at_init(struct enter_ctx *c, struct fw_error *e)
{
	const struct instance_record *rec = c->p->rec;
	char buf[4096], path[64];
	uint64_t start, bnd;

	c->pidfd = (int)syscall(SYS_pidfd_open, rec->init_pid, 0);
	if (c->pidfd < 0 && errno != ENOSYS)
		return fw_fail(e, errno, "open the init of", rec->name);
	/* Held from here: the pid cannot be reused while we look. */
	if (instance_pid_start(rec->init_pid, &start) < 0 || start != rec->init_start)
		return fw_fail_hint(e, ESRCH, "find instance", rec->name,
				    "it is not running any more");
	c->init = rec->init_pid;
	for (size_t i = 0; i < FW_ARRAY_SIZE(ns_types); i++) {
		uint64_t theirs = ns_id(c->init, ns_types[i].name);
		if (!theirs)
			return fw_fail(e, errno ? errno : ESRCH, "read the namespaces of", rec->name);
		if (theirs == ns_id(getpid(), ns_types[i].name))
			continue;
		c->flags |= ns_types[i].flag;
		if (c->pidfd >= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)c->init, ns_types[i].name);
		if ((c->nsfd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return fw_fail(e, errno, "open", path);
	}
	snprintf(path, sizeof(path), "/proc/%d/root", (int)c->init);
	c->rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->rootfd < 0)
		return fw_fail(e, errno, "open", path);
	if (read_proc(c->init, "status", buf, sizeof(buf)) < 0 ||
	    enter_parse_capbnd(buf, &bnd) < 0)
		return fw_fail(e, EIO, "read the bounding set of", rec->name);
	c->drop = caps_all_mask(caps_last_cap()) & ~bnd;
	/* "Seccomp:\t2": the init runs under fwrun's filter, so will CMD. */
	const char *sc = strstr(buf, "\nSeccomp:");
	if (sc && strtol(sc + 9, NULL, 10) == SECCOMP_MODE_FILTER)
		c->filter = &sysfilter_builtin;
	if (init_cgroups(c, e) < 0)
		return -1;
	if (aa_is_enabled() && read_proc(c->init, "attr/current", buf, sizeof(buf)) == 0 &&
	    enter_label(buf, c->label, sizeof(c->label)) < 0)
		return fw_fail(e, ENAMETOOLONG, "read the AppArmor label of", rec->name);
	c->sig_ignored = ns_ignored_signals();
	return 0;
}

static int join_namespaces(struct enter_ctx *c, int flags, struct fw_error *e)
{
	if (!flags)
		return 0;
	if (c->pidfd >= 0) {
		if (setns(c->pidfd, flags) < 0)
			return fw_fail(e, errno, "enter the namespaces of", c->p->rec->name);
		return 0;
	}
	/* One by one, the mount namespace last (it moves our root). */
	for (size_t i = 0; i < FW_ARRAY_SIZE(ns_types); i++)
		if ((flags & ns_types[i].flag) && setns(c->nsfd[i], ns_types[i].flag) < 0)
			return fw_fail(e, errno, "enter the namespace", ns_types[i].name);
	return 0;
}

/* The init's cgroups (/proc/INIT/cgroup) as directories of the host's
 * mounts, which CMD joins before it leaves the host's namespaces. */
static int init_cgroups(struct enter_ctx *c, struct fw_error *e)
{
	static char text[65536];	/* mountinfo: not on the stack */
	char cgroup[4096];

	if (read_proc(c->init, "cgroup", cgroup, sizeof(cgroup)) < 0 ||
	    cg_parse_self(cgroup, &c->cg) < 0)
		return fw_fail(e, EIO, "read the cgroups of", c->p->rec->name);
	if (read_proc(getpid(), "mountinfo", text, sizeof(text)) < 0 ||
	    cg_parse_mountinfo(text, &c->cg) < 0)
		return fw_fail(e, EIO, "read", "/proc/self/mountinfo");
	return 0;
}

/* CMD into each of the init's cgroups. */
static int join_cgroups(const struct enter_ctx *c, struct fw_error *e)
{
	char path[PATH_MAX + 16];

	for (size_t i = 0; i < c->cg.nhier; i++) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", c->cg.hier[i].own);
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			return fw_fail(e, errno, "join the cgroup", c->cg.hier[i].own);
	}
	return 0;
}

/* CMD's process: never returns. */
static void run_cmd(struct enter_ctx *c)
{
	const struct enter_plan *p = c->p;
	struct fw_error e = { 0 };
	int status = FWRUN_EXIT_FAILURE;

	close(c->errpipe[0]);
	ns_reset_signals(c->sig_ignored);
	/* The label and the bounding set first, where the host's /proc is.
	 * Not aa_change_onexec(): we are in the init's pid namespace already,
	 * where our tid names another process in that /proc (aa.h). */
	int r = c->label[0] ? aa_onexec_self(c->label) : 0;
	if (r < 0) {
		fw_fail(&e, -r, "set the AppArmor profile on exec to", c->label);
		goto fail;
	}
	if (c->drop && caps_apply_drop(c->drop, &e) < 0)
		goto fail;
	if (join_cgroups(c, &e) < 0 || join_namespaces(c, c->flags & ~CLONE_NEWPID, &e) < 0)
		goto fail;
	if (fchdir(c->rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		fw_fail(&e, errno, "enter the root of", p->rec->name);
		goto fail;
	}
	if (setsid() < 0) {
		fw_fail(&e, errno, "start a session for", p->argv[0]);
		goto fail;
	}
	if (c->con.slave >= 0) {
		for (int fd = 0; fd < 3; fd++)
			if (dup2(c->con.slave, fd) < 0) {
				fw_fail(&e, errno, "attach the pty to", p->argv[0]);
				goto fail;
			}
		if (ioctl(0, TIOCSCTTY, 0) < 0) {
			fw_fail(&e, errno, "set the controlling terminal of", p->argv[0]);
			goto fail;
		}
	}
	ns_cloexec_from(3);
	/* The filter last: nothing of ours runs under it but the exec. */
	if (c->filter && (errno = -sysfilter_load(c->filter)) != 0) {
		fw_fail(&e, errno, "load the syscall filter for", p->argv[0]);
		goto fail;
	}
	int err = ns_exec(p->argv, p->envp);
	fw_fail(&e, err, "run", p->argv[0]);
	status = err == ENOENT || err == ENOTDIR || err == ELOOP ? FWRUN_EXIT_NOTFOUND :
		 FWRUN_EXIT_NOEXEC;
	e.step = status;
fail:
	if (!e.step)
		e.step = FWRUN_EXIT_FAILURE;
	(void)!write(c->errpipe[1], &e, sizeof(e));
	_exit(status);
}

static void ctx_close(struct enter_ctx *c)
{
	console_close(&c->con);
	for (size_t i = 0; i < FW_ARRAY_SIZE(c->nsfd); i++)
		if (c->nsfd[i] >= 0)
			close(c->nsfd[i]);
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->rootfd >= 0)
		close(c->rootfd);
	for (int i = 0; i < 2; i++)
		if (c->errpipe[i] >= 0)
			close(c->errpipe[i]);
	cg_host_free(&c->cg);
}

/* CMD's pty from the firmware's own devpts (/dev/pts/ptmx in its root,
 * resolved in there), so that its name means something in there (tty,
 * ttyname); from the host's where the firmware has none. */
static int open_console(struct enter_ctx *c, struct fw_error *e)
{
	struct open_how how = {
		.flags = O_RDWR | O_NOCTTY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;

	if (!c->p->console.pty)
		return console_open(&c->con, c->p->console, e);
	int fd = (int)syscall(SYS_openat2, c->rootfd, "dev/pts/ptmx", &how, sizeof(how));
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	    major(st.st_rdev) == 5 && minor(st.st_rdev) == 2)
		return console_open_ptmx(&c->con, c->p->console, fd, e);
	if (fd >= 0)
		close(fd);
	return console_open(&c->con, c->p->console, e);
}

int enter_run(const struct enter_plan *p, int *status, struct fw_error *e)
{
	static struct enter_ctx ctx;
	struct enter_ctx *c = &ctx;
	struct supervise_result res;
	int r = -1, st = 0;

	memset(c, 0, sizeof(*c));
	c->p = p;
	c->pidfd = c->rootfd = -1;
	c->errpipe[0] = c->errpipe[1] = -1;
	for (size_t i = 0; i < FW_ARRAY_SIZE(c->nsfd); i++)
		c->nsfd[i] = -1;
	console_init(&c->con);
	*status = FWRUN_EXIT_FAILURE;

	/* Ours, not CMD's: its children (CMD) are born in the init's pid
	 * namespace. Our own is kept to come back to once CMD is forked:
	 * nothing else of ours (a sanitizer's helper at exit, say) is to be
	 * born in the firmware. Opened before the first goto out. */
	_cleanup_close_ int own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (look_at_init(c, e) < 0)
		goto out;
	if ((c->flags & CLONE_NEWPID) && join_namespaces(c, CLONE_NEWPID, e) < 0)
		goto out;
	if (open_console(c, e) < 0)
		goto out;
	if (pipe2(c->errpipe, O_CLOEXEC) < 0) {
		fw_fail(e, errno, "create a pipe for", p->argv[0]);
		goto out;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fw_fail(e, errno, "fork", p->argv[0]);
		goto out;
	}
	if (pid == 0)
		run_cmd(c);
	if ((c->flags & CLONE_NEWPID) && own_pidns >= 0)
		(void)setns(own_pidns, CLONE_NEWPID);
	close(c->errpipe[1]);
	c->errpipe[1] = -1;
	ssize_t n;
	do
		n = read(c->errpipe[0], e, sizeof(*e));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(*e)) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		*status = e->step ? e->step : FWRUN_EXIT_FAILURE;
		r = -(e->err ? e->err : EIO);
		goto out;
	}
	memset(e, 0, sizeof(*e));
	if (console_raw(&c->con, e) < 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		goto out;
	}
	if (supervise_run(pid, &p->life, &c->con, NULL, fw_now_ns(), &res, e) < 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		goto out;
	}
	/* CMD's own status: a shell's SIGHUP is no reboot here. */
	*status = res.timer.cause == SV_CAUSE_TIMEOUT ? FWRUN_EXIT_TIMEOUT :
		  fwrun_exit_status(res.wstatus);
	r = 0;
out:
	ctx_close(c);
	return r;
}
