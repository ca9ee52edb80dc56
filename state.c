/* SPDX-License-Identifier: MIT */
/* The instance's state: its directory (upper/, work/, lock, the rootfs
 * record), the state and instance locks, reset, and the --diff walk.
 *
 * Pure half first (paths, boot records, classify), then the applying half
 * (prepare, locks, reset, walk). */
#include "state.h"
#include "fault.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

/* ------------------------------------------------------------------ */
/* Pure half                                                          */
/* ------------------------------------------------------------------ */

static int path_join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s/%s", a, b);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Every path empty: not a memset, whose 20 KiB would all be faulted in
 * though short paths use a few bytes of each PATH_MAX. */
static void state_paths_clear(struct state_paths *p)
{
	p->dir[0] = p->upper[0] = p->work[0] = p->lock[0] = p->rootfs[0] = '\0';
}

int state_paths(struct state_paths *p, const char *state_dir, const char *name)
{
	char dir[PATH_MAX];
	int r;

	state_paths_clear(p);
	if (state_dir) {
		if (!*state_dir)
			return -EINVAL;
		if (fw_strlcpy(dir, state_dir, sizeof(dir)) >= sizeof(dir))
			return -ENAMETOOLONG;
	} else {
		/* The name becomes a path component: never '/', '.', '..'. */
		if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") ||
		    !strcmp(name, ".."))
			return -EINVAL;
		r = path_join(dir, sizeof(dir), FWRUN_STATE_ROOT, name);
		if (r < 0)
			return r;
	}
	/* "dir/" and "dir" are the same state: no "dir//upper" in messages. */
	size_t len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		dir[--len] = '\0';

	memcpy(p->dir, dir, len + 1);
	const char *base = strcmp(dir, "/") ? dir : "";
	if ((r = path_join(p->upper, sizeof(p->upper), base, "upper")) < 0 ||
	    (r = path_join(p->work, sizeof(p->work), base, "work")) < 0 ||
	    (r = path_join(p->lock, sizeof(p->lock), base, "lock")) < 0 ||
	    (r = path_join(p->rootfs, sizeof(p->rootfs), base, "rootfs")) < 0) {
		state_paths_clear(p);
		return r;
	}
	return 0;
}

enum diff_change diff_classify(mode_t mode, dev_t rdev, bool opaque, bool in_lower)
{
	if (S_ISCHR(mode) && rdev == makedev(0, 0))
		/* A whiteout hides a lower entry; over nothing it changes nothing. */
		return in_lower ? DIFF_DELETED : DIFF_NONE;
	if (!in_lower)
		return DIFF_ADDED;
	if (S_ISDIR(mode))
		return opaque ? DIFF_OPAQUE : DIFF_NONE;
	return DIFF_MODIFIED;
}

char diff_letter(enum diff_change change)
{
	switch (change) {
	case DIFF_ADDED:
		return 'A';
	case DIFF_MODIFIED:
	case DIFF_OPAQUE:
		return 'M';
	case DIFF_DELETED:
		return 'D';
	case DIFF_NONE:
		break;
	}
	return '?';
}

/* ------------------------------------------------------------------ */
/* The state directory                                                */
/* ------------------------------------------------------------------ */

/* mkdir -p for the parents of path (0755), then path itself with mode. */
static int mkdir_parents(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (fw_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Open a directory that must really be one, not a symlink to one. */
static int open_dir_nofollow(int at, const char *name, const char *path, const char *what,
			     struct fw_error *e)
{
	char hint[sizeof(e->hint)];
	struct stat st;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fw_fail(e, errno, what, path);
	if (!S_ISDIR(st.st_mode)) {
		snprintf(hint, sizeof(hint), "it is %s, not a directory",
			 S_ISREG(st.st_mode) ? "a file" : fw_file_type_name(st.st_mode));
		return fw_fail_hint(e, S_ISLNK(st.st_mode) ? ELOOP : ENOTDIR, what, path, hint);
	}
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fw_fail(e, errno, what, path);
	return fd;
}

static int prepare_subdir(int dfd, const char *name, const char *path, struct fw_error *e)
{
	bool made = mkdirat(dfd, name, 0755) == 0;
	if (!made && errno != EEXIST)
		return fw_fail(e, errno, "create", path);
	_cleanup_close_ int fd = open_dir_nofollow(dfd, name, path, "use state dir", e);
	if (fd < 0)
		return fd;
	/* Exactly 0755 whatever the umask: upper/ is the firmware's "/".
	 * Through the fd, so a symlink swapped in is never followed. */
	if (made && fchmod(fd, 0755) < 0)
		return fw_fail(e, errno, "set mode of", path);
	return 0;
}

int state_prepare(const struct state_paths *p, struct fw_error *e)
{
	int r = FW_FAULT_ERR(STATE_PREPARE) ?: mkdir_parents(p->dir, 0700);
	if (r < 0 && r != -ENOTDIR && r != -EEXIST)
		return fw_fail(e, r, "create state dir", p->dir);

	_cleanup_close_ int dfd = open_dir_nofollow(AT_FDCWD, p->dir, p->dir, "use state dir", e);
	if (dfd < 0)
		return dfd;
	/* Whoever else can write here could swap upper/, work/ or the lock
	 * between our checks and the mount: only ours, not writable by others. */
	struct stat st;
	char hint[sizeof(e->hint)];
	if (fstat(dfd, &st) < 0)
		return fw_fail(e, errno, "use state dir", p->dir);
	if (st.st_uid != geteuid()) {
		snprintf(hint, sizeof(hint), "owned by uid %u, not by fwrun's user: chown it",
			 (unsigned)st.st_uid);
		return fw_fail_hint(e, EPERM, "use state dir", p->dir, hint);
	}
	if ((st.st_mode & S_IWOTH) || ((st.st_mode & S_IWGRP) && st.st_gid != getegid())) {
		snprintf(hint, sizeof(hint), "writable by others (mode %04o): chmod go-w it",
			 (unsigned)(st.st_mode & 07777));
		return fw_fail_hint(e, EPERM, "use state dir", p->dir, hint);
	}
	if ((r = prepare_subdir(dfd, "upper", p->upper, e)) < 0 ||
	    (r = prepare_subdir(dfd, "work", p->work, e)) < 0)
		return r;
	return 0;
}

/* A lock file to take, and how errors name it. */
struct lock_req {
	int dfd;		/* the directory holding it */
	const char *name;	/* its name in dfd */
	const char *path;	/* its path, for messages */
	const char *boot;	/* written after our pid, if not NULL */
	const char *what, *subject;	/* the thing locked: "lock state dir" 'DIR' */
	int fault;		/* FW_FAULT_ERR() of its fault point, taken just
				 * before: the point's name then stays out of
				 * the shipped binary */
	char holder[96];	/* out: the last holder's record */
};

/* Take l->dfd/l->name as a lock naming us (our pid, then l->boot) for
 * messages to others; the last holder's record is left in l->holder. */
static int take_lock(struct lock_req *l, struct fw_error *e)
{
	char hint[sizeof(e->hint)], txt[96];

	int fd = l->fault ?: fw_lock_at(l->dfd, l->name, l->holder, sizeof(l->holder));
	if (fd == -EBUSY) {
		long pid = state_lock_pid(l->holder);
		if (pid > 0)
			snprintf(hint, sizeof(hint), "held by pid %ld: this instance is running",
				 pid);
		else
			snprintf(hint, sizeof(hint), "held by another fwrun: this instance is running");
		return fw_fail_hint(e, EBUSY, l->what, l->subject, hint);
	}
	if (fd == -EINVAL)
		return fw_fail_hint(e, EINVAL, "open lock", l->path, "not a regular file");
	if (fd < 0)
		return fw_fail(e, -fd, "open lock", l->path);
	snprintf(txt, sizeof(txt), "%ld%s%s\n", (long)getpid(), l->boot ? " " : "", l->boot ? l->boot : "");
	int r = fw_lock_write(fd, txt);
	if (r < 0) {
		close(fd);
		return fw_fail(e, -r, "write lock", l->path);
	}
	return fd;
}

long state_lock_pid(const char *record)
{
	const char *end;
	long pid = fw_parse_decimal(record, INT32_MAX, &end);

	return pid > 0 && (*end == '\0' || *end == '\n' || *end == ' ') ? pid : -1;
}

bool instance_running(int dfd, const char *name)
{
	char text[32];

	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno != ENOENT;	/* cannot tell: say it runs */
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return true;
	text[n] = '\0';
	long pid = state_lock_pid(text);
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

bool state_same_boot(const char *record, const char *boot)
{
	const char *sp = strchr(record, ' ');
	size_t len = strlen(boot);

	return len && sp && strncmp(sp + 1, boot, len) == 0 &&
	       (sp[1 + len] == '\n' || sp[1 + len] == '\0');
}

/* The kernel's id of this boot ("" if unreadable: then no boot matches). */
static void read_boot_id(char *buf, size_t size)
{
	_cleanup_close_ int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? fw_read_all(fd, buf, size - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n ")] = '\0';
}

#define KERNEL_WORKDIR "work/work"
#define VOLATILE_MARK KERNEL_WORKDIR "/incompat/volatile"
#define OLD_WORKDIR_PREFIX "old."

static int empty_dir(int dfd, dev_t dev, const char *path, struct fw_error *e);

/* Get work/work, the kernel's own scratch dir, with the marker a volatile
 * mount leaves in it, out of the next mount's way: every overlay mount
 * empties that dir (or, marked, refuses it); gone, the mount only makes it
 * again. One rename to work/old.PID.N, which the overlay ignores, and
 * state_drop_old_workdirs() removes it later, off the way to the init:
 * removing it here cost a run 1.2 ms of ext4 (bench/RESULTS.md). Removed
 * here only where the rename fails. 1 if the marker was there, 0 if not,
 * or -errno. */
static int clear_kernel_workdir(int dfd, const struct state_paths *p, struct fw_error *e)
{
	char path[PATH_MAX], old[64];
	struct stat st;
	bool marked = faccessat(dfd, VOLATILE_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0;

	snprintf(old, sizeof(old), "work/" OLD_WORKDIR_PREFIX "%ld.%llu", (long)getpid(),
		 (unsigned long long)fw_now_ns());
	if (!FW_FAULT(WORKDIR_RENAME) && renameat(dfd, KERNEL_WORKDIR, dfd, old) == 0)
		return marked;
	if (errno == ENOENT)
		return 0;	/* none: a first run, or the old one already gone */
	if (path_join(path, sizeof(path), p->work, "work") < 0)
		fw_strlcpy(path, p->work, sizeof(path));	/* for messages only */
	int wfd = openat(dfd, KERNEL_WORKDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (wfd < 0)
		return errno == ENOENT ? 0 : fw_fail(e, errno, "open", path);
	int r = fstat(wfd, &st) < 0 ? fw_fail(e, errno, "look at", path) :
					empty_dir(wfd, st.st_dev, path, e);
	close(wfd);
	if (r < 0)
		return r;
	if (unlinkat(dfd, KERNEL_WORKDIR, AT_REMOVEDIR) < 0)
		return fw_fail(e, errno, "remove", path);
	return marked;
}

int state_clear_workdir(const struct state_paths *p, struct fw_error *e)
{
	_cleanup_close_ int dfd = open_dir_nofollow(AT_FDCWD, p->dir, p->dir, "use state dir", e);
	if (dfd < 0)
		return dfd;
	int r = clear_kernel_workdir(dfd, p, e);
	return r < 0 ? r : 0;
}

int state_lock(const struct state_paths *p, bool *earlier_boot, struct fw_error *e)
{
	char boot[40];

	*earlier_boot = false;
	_cleanup_close_ int dfd = open_dir_nofollow(AT_FDCWD, p->dir, p->dir, "lock state dir", e);
	if (dfd < 0)
		return dfd;
	read_boot_id(boot, sizeof(boot));
	struct lock_req l = { .dfd = dfd, .name = "lock", .path = p->lock, .boot = boot,
			      .what = "lock state dir", .subject = p->dir,
			      .fault = FW_FAULT_ERR(LOCK) };
	int fd = take_lock(&l, e);
	if (fd < 0)
		return fd;
	int r = clear_kernel_workdir(dfd, p, e);
	if (r < 0) {
		close(fd);
		return r;
	}
	*earlier_boot = r > 0 && !state_same_boot(l.holder, boot);
	return fd;
}

int instance_lock(const char *name, struct fw_error *e)
{
	char path[PATH_MAX];

	if (mkdir(FWRUN_INSTANCE_DIR, 0700) < 0 && errno != EEXIST)
		return fw_fail(e, errno, "create directory", FWRUN_INSTANCE_DIR);
	_cleanup_close_ int dfd = open_dir_nofollow(AT_FDCWD, FWRUN_INSTANCE_DIR,
						    FWRUN_INSTANCE_DIR, "lock instance", e);
	if (dfd < 0)
		return dfd;
	snprintf(path, sizeof(path), "%s/%s", FWRUN_INSTANCE_DIR, name);
	struct lock_req l = { .dfd = dfd, .name = name, .path = path, .what = "lock instance",
			      .subject = name, .fault = FW_FAULT_ERR(INSTANCE_LOCK) };

	return take_lock(&l, e);
}

void instance_unlock(const char *name, int fd)
{
	_cleanup_close_ int dfd = open(FWRUN_INSTANCE_DIR,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd >= 0)
		fw_unlock_at(dfd, name, fd);
	else if (fd >= 0)
		close(fd);
}

/* A DIR stream over a duplicate of dfd, which stays open: NULL (errno
 * set) on failure. */
static DIR *dir_stream(int dfd)
{
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int err = errno;
		close(fd);
		errno = err;
	}
	return d;
}

/* Is name (in dfd) the root of another mount? STATX_ATTR_MOUNT_ROOT where
 * the kernel tells (5.8+; right also for btrfs subvolumes, which have their
 * own st_dev in the same mount), else a change of st_dev. */
static bool is_mount_root(int dfd, const char *name, dev_t dev)
{
	struct statx stx;

	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) < 0)
		return false;
	if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return stx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
	return makedev(stx.stx_dev_major, stx.stx_dev_minor) != dev;
}

/* The next entry of d but "." and "..", or NULL at the end with *err 0,
 * or when reading failed with *err -errno. */
static struct dirent *next_entry(DIR *d, int *err)
{
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		*err = de || !errno ? 0 : -errno;
		if (!de || (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0))
			return de;
	}
}

/* Open the directory name in dfd, never through a symlink; one of mode 000
 * (work/work and what the overlay left in it) made 0700 first, where
 * opening it would need DAC override. */
static int open_subdir_000(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 && errno == EACCES && fchmodat(dfd, name, 0700, 0) == 0)
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd;
}

/* Remove everything below the directory dfd (whose path is path, for
 * messages) without following symlinks or crossing into another mount. */
static int empty_dir(int dfd, dev_t dev, const char *path, struct fw_error *e)
{
	char sub[PATH_MAX];
	DIR *d = dir_stream(dfd);
	if (!d)
		return fw_fail(e, errno, "read", path);

	int r = 0, n;
	struct dirent *de;
	while ((de = next_entry(d, &n))) {
		if (path_join(sub, sizeof(sub), path, de->d_name) < 0)
			fw_strlcpy(sub, de->d_name, sizeof(sub));

		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = fw_fail(e, errno, "look at", sub);
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (is_mount_root(dfd, de->d_name, dev)) {
				r = fw_fail_hint(e, EBUSY, "empty", sub,
						 "a file system is mounted there: not crossing it");
				break;
			}
			int cfd = open_subdir_000(dfd, de->d_name);
			if (cfd < 0) {
				r = fw_fail(e, errno, "open", sub);
				break;
			}
			r = empty_dir(cfd, dev, sub, e);
			close(cfd);
			if (r < 0)
				break;
			if (unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0) {
				r = fw_fail(e, errno, "remove", sub);
				break;
			}
		} else if (unlinkat(dfd, de->d_name, 0) < 0) {
			r = fw_fail(e, errno, "remove", sub);
			break;
		}
	}
	if (n < 0)
		r = fw_fail(e, -n, "read", path);
	closedir(d);
	return r;
}

void state_drop_old_workdirs(const struct state_paths *p)
{
	char path[PATH_MAX];
	struct fw_error e = { 0 };	/* best effort: the next run tries again */
	struct dirent *de;
	struct stat st;
	int err;

	_cleanup_close_ int dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int wfd = dfd < 0 ? -1 :
				  openat(dfd, "work", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (wfd < 0 || fstat(wfd, &st) < 0)
		return;
	DIR *d = dir_stream(wfd);
	if (!d)
		return;
	while ((de = next_entry(d, &err))) {
		if (strncmp(de->d_name, OLD_WORKDIR_PREFIX, strlen(OLD_WORKDIR_PREFIX)) != 0)
			continue;
		if (path_join(path, sizeof(path), p->work, de->d_name) < 0)
			continue;
		_cleanup_close_ int ofd = open_subdir_000(wfd, de->d_name);
		if (ofd >= 0 && empty_dir(ofd, st.st_dev, path, &e) == 0)
			(void)unlinkat(wfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

static int reset_subdir(int dfd, const char *name, const char *path, struct fw_error *e)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		return 0;	/* nothing to empty */
	_cleanup_close_ int fd = open_dir_nofollow(dfd, name, path, "reset", e);
	if (fd < 0)
		return fd;
	if (FW_FAULT(STATE_RESET) || fstat(fd, &st) < 0)
		return fw_fail(e, errno, "reset", path);
	return empty_dir(fd, st.st_dev, path, e);
}

int state_reset(const struct state_paths *p, struct fw_error *e)
{
	_cleanup_close_ int dfd = open_dir_nofollow(AT_FDCWD, p->dir, p->dir, "reset state dir", e);
	if (dfd < 0)
		return dfd;
	int r = reset_subdir(dfd, "upper", p->upper, e);
	if (r == 0)
		r = reset_subdir(dfd, "work", p->work, e);
	return r;
}

int state_remove(const struct state_paths *p, int lock_fd, struct fw_error *e)
{
	static const char *const files[] = { "rootfs", "rootfs.tmp", "rootfs.id", "rootfs.id.tmp" };
	static const char *const dirs[] = { "upper", "work" };
	int r = state_reset(p, e);

	if (r < 0)
		return r;
	_cleanup_close_ int dfd = open_dir_nofollow(AT_FDCWD, p->dir, p->dir, "remove state dir", e);
	if (dfd < 0)
		return dfd;
	for (size_t i = 0; i < FW_ARRAY_SIZE(dirs); i++)
		if (unlinkat(dfd, dirs[i], AT_REMOVEDIR) < 0 && errno != ENOENT)
			return fw_fail(e, errno, "remove", i ? p->work : p->upper);
	for (size_t i = 0; i < FW_ARRAY_SIZE(files); i++)
		if (unlinkat(dfd, files[i], 0) < 0 && errno != ENOENT)
			return fw_fail(e, errno, "remove", files[i]);
	/* The lock last, while we hold it (see fw_lock_at). */
	fw_unlock_at(dfd, "lock", lock_fd);
	if (rmdir(p->dir) < 0)
		return fw_fail_hint(e, errno, "remove state dir", p->dir,
				    errno == ENOTEMPTY ? "it holds files fwrun did not make: "
				    "left as it is" : NULL);
	return 0;
}

/* ------------------------------------------------------------------ */
/* --diff                                                             */
/* ------------------------------------------------------------------ */

struct diff_entry {
	enum diff_change change;
	char *path;
};

struct diff_ctx {
	struct diff_entry *v;
	size_t n, cap;
	dev_t dev;
	const char *upper;
	bool have_lower;
	struct fw_error *e;
};

static int diff_add(struct diff_ctx *c, enum diff_change change, const char *path)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct diff_entry *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return fw_fail(c->e, ENOMEM, "list changes in", c->upper);
		c->v = v;
		c->cap = cap;
	}
	char *dup = strdup(path);
	if (!dup)
		return fw_fail(c->e, ENOMEM, "list changes in", c->upper);
	c->v[c->n].change = change;
	c->v[c->n].path = dup;
	c->n++;
	return 0;
}

/* trusted.overlay.* of an entry of dfd, read through an fd that never
 * follows a symlink. 1: the xattr equals want (or exists, want NULL). */
static bool has_xattr(int dfd, const char *name, bool is_dir, const char *key,
		      const char *want)
{
	char val[8];
	int fd = openat(dfd, name,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
			(is_dir ? O_DIRECTORY : 0));
	if (fd < 0)
		return false;
	ssize_t n = fgetxattr(fd, key, val, sizeof(val));
	close(fd);
	if (n < 0)
		return false;
	return !want || ((size_t)n == strlen(want) && !memcmp(val, want, (size_t)n));
}

/* Lower entries of an opaque (or hidden) dir that upper does not have. */
static int diff_hidden(struct diff_ctx *c, int ufd, int lfd, const char *rel)
{
	char child[PATH_MAX];
	struct stat st;
	DIR *d = dir_stream(lfd);
	if (!d)
		return fw_fail(c->e, errno, "read lower dir", rel);
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(ufd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (path_join(child, sizeof(child), rel, de->d_name) < 0) {
			r = fw_fail(c->e, ENAMETOOLONG, "list changes in", rel);
			break;
		}
		if ((r = diff_add(c, DIFF_DELETED, child)) < 0)
			break;
	}
	closedir(d);
	return r;
}

/* What upper entry name (st: its lstat) says, against lower (lfd, or -1):
 * *lst gets the lower entry's lstat and *in_lower whether there is one. */
static enum diff_change diff_entry(const struct diff_ctx *c, int ufd, int lfd, const char *name,
				   const struct stat *st, bool hidden, struct stat *lst,
				   bool *in_lower)
{
	mode_t mode = st->st_mode;
	dev_t rdev = st->st_rdev;

	/* Newer overlayfs can also mark a whiteout with an xattr on an
	 * empty regular file: read it as the 0/0 device it stands for. */
	if (S_ISREG(mode) && st->st_size == 0 &&
	    has_xattr(ufd, name, false, "trusted.overlay.whiteout", NULL)) {
		mode = S_IFCHR;
		rdev = makedev(0, 0);
	}
	bool whiteout = S_ISCHR(mode) && rdev == makedev(0, 0);
	*in_lower = lfd >= 0 && fstatat(lfd, name, lst, AT_SYMLINK_NOFOLLOW) == 0;
	if (whiteout && !c->have_lower)
		*in_lower = true;	/* cannot check: trust the whiteout */
	bool is_dir = S_ISDIR(mode);
	bool opaque = is_dir && has_xattr(ufd, name, true, "trusted.overlay.opaque", "y");
	/* Below an opaque dir, a lower dir is hidden whole; a dir over a
	 * lower non-dir replaced it, whatever its xattrs say. */
	if (is_dir && *in_lower && (hidden || !S_ISDIR(lst->st_mode)))
		opaque = true;

	enum diff_change ch = diff_classify(mode, rdev, opaque, *in_lower);
	if (ch == DIFF_NONE && is_dir && *in_lower &&
	    ((lst->st_mode ^ st->st_mode) & 07777 || lst->st_uid != st->st_uid ||
	     lst->st_gid != st->st_gid))
		ch = DIFF_MODIFIED;	/* chmod/chown of a lower dir */
	return ch;
}

/* ufd: a directory of upper; lfd: the same directory in lower or -1;
 * rel: its path in the firmware ("" for the root); hidden: an ancestor is
 * opaque, so lower entries below count as replaced, not merged. */
static int diff_dir(struct diff_ctx *c, int ufd, int lfd, const char *rel, bool hidden)
{
	char child[PATH_MAX];
	DIR *d = dir_stream(ufd);
	if (!d)
		return fw_fail(c->e, errno, "read", c->upper);

	int r = 0, n;
	struct dirent *de;
	while ((de = next_entry(d, &n))) {
		const char *name = de->d_name;
		if (path_join(child, sizeof(child), rel, name) < 0) {
			r = fw_fail(c->e, ENAMETOOLONG, "list changes in", rel);
			break;
		}
		struct stat st, lst = { 0 };
		if (fstatat(ufd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = fw_fail(c->e, errno, "look at upper", child);
			break;
		}
		if (S_ISDIR(st.st_mode) && is_mount_root(ufd, name, c->dev))
			continue;	/* another file system mounted here: not ours */

		bool in_lower, is_dir = S_ISDIR(st.st_mode);
		enum diff_change ch = diff_entry(c, ufd, lfd, name, &st, hidden, &lst, &in_lower);
		if (ch != DIFF_NONE &&
		    (r = diff_add(c, ch == DIFF_OPAQUE ? DIFF_MODIFIED : ch, child)) < 0)
			break;
		if (!is_dir)
			continue;

		int cu = openat(ufd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cu < 0) {
			r = fw_fail(c->e, errno, "open upper", child);
			break;
		}
		int cl = -1;
		if (in_lower && S_ISDIR(lst.st_mode))
			cl = openat(lfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (ch == DIFF_OPAQUE && cl >= 0)
			r = diff_hidden(c, cu, cl, child);
		if (r == 0)
			r = diff_dir(c, cu, cl, child, hidden || ch == DIFF_OPAQUE);
		close(cu);
		if (cl >= 0)
			close(cl);
		if (r < 0)
			break;
	}
	if (n < 0)
		r = fw_fail(c->e, -n, "read upper dir", rel[0] ? rel : "/");
	closedir(d);
	return r;
}

static int diff_cmp(const void *a, const void *b)
{
	return strcmp(((const struct diff_entry *)a)->path, ((const struct diff_entry *)b)->path);
}

int diff_walk(const char *upper, const char *lower, diff_cb cb, void *userdata,
	      struct fw_error *e)
{
	struct diff_ctx c = { .upper = upper, .have_lower = lower != NULL, .e = e };
	struct stat st;

	_cleanup_close_ int ufd = open_dir_nofollow(AT_FDCWD, upper, upper, "read upper dir", e);
	if (ufd < 0)
		return ufd;
	if (fstat(ufd, &st) < 0)
		return fw_fail(e, errno, "read upper dir", upper);
	c.dev = st.st_dev;
	_cleanup_close_ int lfd = -1;
	if (lower) {
		lfd = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lfd < 0)
			return fw_fail(e, errno, "open lower dir", lower);
	}

	int r = diff_dir(&c, ufd, lfd, "", false);
	if (r == 0) {
		/* An upper with no changes leaves c.v NULL: qsort's pointer is
		 * declared nonnull even for 0 elements (UBSan, found by fuzzing). */
		if (c.n)
			qsort(c.v, c.n, sizeof(*c.v), diff_cmp);
		for (size_t i = 0; i < c.n; i++) {
			r = cb(c.v[i].change, c.v[i].path, userdata);
			if (r != 0)
				break;
		}
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i].path);
	free(c.v);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------ */
/* Where the state may live, and the rootfs it was made from          */
/* ------------------------------------------------------------------ */

bool state_path_within(const char *path, const char *dir)
{
	char rdir[PATH_MAX], probe[PATH_MAX], rprobe[PATH_MAX];

	if (!realpath(dir, rdir))
		return false;
	fw_strlcpy(probe, path, sizeof(probe));
	while (!realpath(probe, rprobe)) {
		char *slash = strrchr(probe, '/');
		if (!slash)
			return realpath(".", rprobe) && state_path_within(rprobe, rdir);
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

int state_read_rootfs(const struct state_paths *p, char *buf, size_t size)
{
	int fd = open(p->rootfs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n = fw_read_all(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? (int)n : -ENODATA;
	buf[n] = '\0';
	return 0;
}

void state_rootfs_id(const struct stat *st, char *buf, size_t size)
{
	snprintf(buf, size, "%llu:%llu %lld %lld.%09ld", (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino, (long long)st->st_size,
		 (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

/* path.tmp written and renamed over path: a crash leaves one or the other. */
static bool replace_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return false;
	bool ok = fw_write_all(fd, text, strlen(text)) >= 0;
	close(fd);
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return false;
	}
	return true;
}

enum state_rootfs_seen state_record_rootfs(const struct state_paths *p, const char *rootfs,
					   char *last, size_t size)
{
	char abs[PATH_MAX], id[128], old_id[128] = "", id_path[PATH_MAX + 8];
	enum state_rootfs_seen seen;
	struct stat st;

	if (size)
		last[0] = '\0';
	if (!realpath(rootfs, abs) || stat(abs, &st) < 0)
		return STATE_ROOTFS_SAME;	/* nothing to compare with */
	state_rootfs_id(&st, id, sizeof(id));
	snprintf(id_path, sizeof(id_path), "%s.id", p->rootfs);
	int fd = open(id_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		ssize_t n = fw_read_all(fd, old_id, sizeof(old_id) - 1);
		old_id[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	if (state_read_rootfs(p, last, size) < 0)
		seen = STATE_ROOTFS_FIRST;
	else if (strcmp(last, abs) != 0)
		seen = STATE_ROOTFS_OTHER_PATH;
	else if (old_id[0] && strcmp(old_id, id) != 0)
		seen = STATE_ROOTFS_CHANGED;
	else
		seen = STATE_ROOTFS_SAME;
	/* Best effort: without the records, --diff asks for --rootfs and the
	 * next run says nothing. */
	if (seen != STATE_ROOTFS_SAME)
		replace_file(p->rootfs, abs);
	if (strcmp(old_id, id) != 0)
		replace_file(id_path, id);
	return seen;
}
