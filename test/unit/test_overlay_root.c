/* SPDX-License-Identifier: MIT */
/* The applying halves of rootfs.c, overlay.c and state.c on real images:
 * needs root (tests skip, saying so, otherwise; the lock and state dir
 * checks run for anyone).
 *
 * Mounting happens in forked children that first unshare(CLONE_NEWNS) and
 * make / MS_REC|MS_PRIVATE, so nothing reaches the host's mount table: the
 * parent then checks what the kernel left behind (no loop device backed by
 * our files, no mount under our temp dir) and that every image's sha256 is
 * what it was. Children report failures with CHECK() and _exit(1): cmocka's
 * asserts must not run in a forked copy of the test runner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "overlay.h"
#include "rootfs.h"
#include "state.h"

static char tmp[64];		/* mktemp -d /tmp/fwt.XXXXXX */
static bool images_ok;

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "child: %s:%d: check failed: %s (errno %s)\n", \
				__FILE__, __LINE__, #cond, strerror(errno));           \
			_exit(1);                                                      \
		}                                                                      \
	} while (0)

#define CHECK_E(r, e)                                                                       \
	do {                                                                                \
		if ((r) < 0) {                                                              \
			fprintf(stderr, "child: %s:%d: %s '%s': %s (%s)\n", __FILE__, __LINE__, \
				(e).what, (e).subject, strerror((e).err), (e).hint);        \
			_exit(1);                                                           \
		}                                                                           \
	} while (0)

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = system(cmd);
	return r == -1 ? -1 : WIFEXITED(r) ? WEXITSTATUS(r) : 128 + WTERMSIG(r);
}

/* snprintf for paths: a path that does not fit is a broken test. */
static void pathf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "path too long: %s\n", fmt);
		abort();
	}
}

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	print_message("skipped: needs root (loop devices, mounts, mknod, trusted xattrs)\n");
	return false;
}

/* The kernel can mount fs (loading its module if needed); else skip. */
static bool need_fs(const char *fs)
{
	if (sh("modprobe -q %s 2>/dev/null; grep -qw %s /proc/filesystems", fs, fs) == 0)
		return true;
	print_message("skipped: this kernel has no %s file system\n", fs);
	return false;
}

static void sha256(const char *path, char out[65])
{
	char cmd[512];
	pathf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	FILE *f = popen(cmd, "r");
	out[0] = '\0';
	if (f) {
		if (fscanf(f, "%64s", out) != 1)
			out[0] = '\0';
		pclose(f);
	}
}

/* Run fn in a child with its own, private mount namespace; its status. */
static int in_mount_ns(void (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		CHECK(unshare(CLONE_NEWNS) == 0);
		CHECK(mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
		fn(arg);
		_exit(0);
	}
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* Loop devices backed by a file under tmp: the kernel must have cleared
 * them (autoclear) once the namespace holding the mount is gone. That
 * happens asynchronously, so wait a little. */
static int our_loop_devices(void)
{
	int found = 0;
	for (int tries = 0; tries < 100; tries++) {
		found = 0;
		DIR *d = opendir("/sys/block");
		if (!d)
			return 0;
		struct dirent *de;
		while ((de = readdir(d))) {
			char p[512], back[PATH_MAX];
			if (strncmp(de->d_name, "loop", 4) != 0)
				continue;
			pathf(p, sizeof(p), "/sys/block/%s/loop/backing_file", de->d_name);
			FILE *f = fopen(p, "re");
			if (!f)
				continue;
			if (fgets(back, sizeof(back), f) && !strncmp(back, tmp, strlen(tmp))) {
				found++;
				if (tries == 99)
					print_message("still attached: /dev/%s -> %s", de->d_name, back);
			}
			fclose(f);
		}
		closedir(d);
		if (!found)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
	}
	return found;
}

static int our_mounts(void)
{
	char line[4096];
	int n = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, tmp))
			n++;
	fclose(f);
	return n;
}

/* ---- fixtures ---- */

struct image {
	const char *file;
	const char *mkfs;	/* %1$s tree dir, %2$s image */
	enum rootfs_kind kind;
	char sum[65];
};

static struct image images[] = {
	{ "fw.ext2", "mkfs.ext2 -q -d %1$s %2$s 8M", ROOTFS_EXT2, "" },
	{ "fw.ext4", "mkfs.ext4 -q -d %1$s %2$s 8M", ROOTFS_EXT4, "" },
	{ "fw.sqfs", "mksquashfs %1$s %2$s -quiet -noappend", ROOTFS_SQUASHFS, "" },
	{ "fw.erofs", "mkfs.erofs --quiet %2$s %1$s", ROOTFS_EROFS, "" },
	{ "dirty.ext4", "mkfs.ext4 -q -d %1$s %2$s 8M && "
			"debugfs -w -R 'feature needs_recovery' %2$s", ROOTFS_EXT4, "" },
};

static struct image *image(const char *file)
{
	for (size_t k = 0; k < FW_ARRAY_SIZE(images); k++)
		if (!strcmp(images[k].file, file))
			return &images[k];
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/fwt.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	if (geteuid() != 0)
		return 0;
	/* The firmware tree every image is made of. */
	/* Failures here leave images_ok false: the tests that need the images
	 * then fail (the tools are part of the test set-up), and teardown
	 * still removes tmp. */
	if (sh("set -e; cd %s; mkdir -p tree/etc tree/data/sub tree/opq tree/chm tree/sbin;"
	       "echo fw > tree/etc/hostname; echo hello > tree/etc/motd;"
	       "echo x > tree/data/x; echo y > tree/data/sub/y;"
	       "echo a > tree/opq/a; echo b > tree/opq/b; echo k > tree/keep;"
	       "chmod 0755 tree/chm", tmp) != 0)
		return 0;
	for (size_t k = 0; k < FW_ARRAY_SIZE(images); k++) {
		char tree[128], img[128], cmd[1024];
		pathf(tree, sizeof(tree), "%s/tree", tmp);
		pathf(img, sizeof(img), "%s/%s", tmp, images[k].file);
		snprintf(cmd, sizeof(cmd), images[k].mkfs, tree, img);
		if (sh("PATH=\"$PATH:/sbin:/usr/sbin\"; (%s) >/dev/null 2>&1", cmd) != 0) {
			print_message("cannot build %s: %s\n", images[k].file, cmd);
			return 0;
		}
		sha256(img, images[k].sum);
	}
	images_ok = true;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* Mounts only ever lived in the children's namespaces; refuse to
	 * rm -rf through one should that ever be wrong. */
	if (our_mounts() != 0)
		return -1;
	/* and the loop share records fwrun kept for our images (DEV:INO) */
	sh("find '%s' -xdev -type f -printf '/run/fwrun/loop/%%D:%%i\\0' | "
	   "xargs -0 rm -f", tmp);
	return sh("rm -rf '%s'", tmp) == 0 ? 0 : -1;
}

/* ---- the whole stack on each kind of image ---- */

struct stack_arg {
	const char *file;
	char dir[PATH_MAX];	/* per test, under tmp */
	char state[PATH_MAX];	/* a state dir with , : \ and a space */
};

static void put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(close(fd) == 0);
}

static void get_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	ssize_t n = read(fd, buf, size - 1);
	CHECK(n >= 0);
	buf[n] = '\0';
	close(fd);
}

struct diff_out {
	char text[4096];
	size_t len;
};

static int collect(enum diff_change change, const char *path, void *userdata)
{
	struct diff_out *o = userdata;
	int n = snprintf(o->text + o->len, sizeof(o->text) - o->len, "%c %s\n",
			 diff_letter(change), path);
	if (n < 0 || (size_t)n >= sizeof(o->text) - o->len)
		return -ENOSPC;
	o->len += (size_t)n;
	return 0;
}

static void stack_child(void *p)
{
	struct stack_arg *a = p;
	char img[PATH_MAX], lower[PATH_MAX], merged[PATH_MAX], m[PATH_MAX], buf[256];
	struct rootfs_info info;
	struct fw_error e = { 0 };
	struct state_paths sp;
	struct stat st;

	pathf(img, sizeof(img), "%s/%s", tmp, a->file);
	pathf(lower, sizeof(lower), "%s/lower", a->dir);
	pathf(merged, sizeof(merged), "%s/merged", a->dir);
	CHECK(mkdir(lower, 0755) == 0 && mkdir(merged, 0755) == 0);

	int fd = rootfs_probe(img, &info, &e);
	CHECK_E(fd, e);
	CHECK(info.kind == image(a->file)->kind);
	CHECK_E(rootfs_mount(img, fd, &info, lower, &e), e);
	close(fd);

	/* The image is there, read-only, on a loop device. */
	pathf(m, sizeof(m), "%s/etc/hostname", lower);
	get_file(m, buf, sizeof(buf));
	CHECK(!strcmp(buf, "fw\n"));
	pathf(m, sizeof(m), "%s/newfile", lower);
	CHECK(open(m, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == EROFS);
	CHECK(stat(lower, &st) == 0 && major(st.st_dev) == 7);

	/* The overlay, with its state where escaping matters. */
	CHECK(state_paths(&sp, a->state, NULL) == 0);
	CHECK_E(state_prepare(&sp, &e), e);
	CHECK_E(overlay_mount(lower, sp.upper, sp.work, merged, &e), e);

	pathf(m, sizeof(m), "%s/etc/hostname", merged);
	get_file(m, buf, sizeof(buf));
	CHECK(!strcmp(buf, "fw\n"));
	/* A: new file and new dir; M: content and mode; D: file and dir;
	 * /opq deleted and made anew (opaque). */
	pathf(m, sizeof(m), "%s/new.txt", merged);
	put_file(m, "new\n");
	pathf(m, sizeof(m), "%s/etc/hostname", merged);
	put_file(m, "changed\n");
	pathf(m, sizeof(m), "%s/etc/motd", merged);
	CHECK(unlink(m) == 0);
	CHECK(sh("rm -rf '%s/data' '%s/opq'", merged, merged) == 0);
	pathf(m, sizeof(m), "%s/opq", merged);
	CHECK(mkdir(m, 0755) == 0);
	pathf(m, sizeof(m), "%s/opq/c", merged);
	put_file(m, "c\n");
	pathf(m, sizeof(m), "%s/chm", merged);
	CHECK(chmod(m, 0700) == 0);
	pathf(m, sizeof(m), "%s/newdir", merged);
	CHECK(mkdir(m, 0755) == 0);
	pathf(m, sizeof(m), "%s/newdir/f", merged);
	put_file(m, "f\n");
	pathf(m, sizeof(m), "%s/gone", merged);	/* made and removed: no trace */
	put_file(m, "tmp\n");
	CHECK(unlink(m) == 0);

	/* Reads through merged see the writes, lower is as it was. */
	pathf(m, sizeof(m), "%s/etc/hostname", merged);
	get_file(m, buf, sizeof(buf));
	CHECK(!strcmp(buf, "changed\n"));
	pathf(m, sizeof(m), "%s/etc/hostname", lower);
	get_file(m, buf, sizeof(buf));
	CHECK(!strcmp(buf, "fw\n"));
	pathf(m, sizeof(m), "%s/opq/a", merged);
	CHECK(access(m, F_OK) < 0 && errno == ENOENT);

	CHECK(umount2(merged, 0) == 0);
	static struct diff_out out;
	out.len = 0;
	out.text[0] = '\0';
	CHECK_E(diff_walk(sp.upper, lower, collect, &out, &e), e);
	const char *want = "M /chm\n"
			   "D /data\n"
			   "M /etc/hostname\n"
			   "D /etc/motd\n"
			   "A /new.txt\n"
			   "A /newdir\n"
			   "A /newdir/f\n"
			   "M /opq\n"
			   "D /opq/a\n"
			   "D /opq/b\n"
			   "A /opq/c\n";
	if (strcmp(out.text, want) != 0) {
		fprintf(stderr, "child: diff of %s:\n%s--- wanted:\n%s", a->file, out.text, want);
		_exit(1);
	}
	/* Without lower, everything that is not a whiteout is "added". */
	out.len = 0;
	CHECK_E(diff_walk(sp.upper, NULL, collect, &out, &e), e);
	CHECK(strstr(out.text, "A /etc\n") && strstr(out.text, "D /data\n") &&
	      strstr(out.text, "A /etc/hostname\n"));
	/* The lower mount stays until this namespace dies with us. */
}

static void run_stack(const char *file, bool legacy_loop)
{
	struct stack_arg a = { .file = file };
	struct image *im = image(file);
	char sum[65], img[PATH_MAX];

	if (!need_root())
		skip();
	enum rootfs_kind k = im->kind;
	if (!need_fs(k == ROOTFS_EXT2 || k == ROOTFS_EXT3 ? "ext4" : rootfs_kind_name(k)) ||
	    !need_fs("overlay"))
		skip();
	assert_true(images_ok);
	pathf(a.dir, sizeof(a.dir), "%s/t-%s%s", tmp, file, legacy_loop ? "-legacy" : "");
	pathf(a.state, sizeof(a.state), "%s/state a,b:c\\d e", a.dir);
	assert_int_equal(mkdir(a.dir, 0755), 0);

	/* As on a kernel before 5.8: no LOOP_CONFIGURE, LOOP_SET_FD instead. */
	fw_fault_arm(legacy_loop ? "loop-attach:EINVAL:0" : NULL);
	int status = in_mount_ns(stack_child, &a);
	fw_fault_arm(NULL);
	assert_int_equal(status, 0);

	/* The kernel cleaned up: no mount, no loop device, image unchanged. */
	assert_int_equal(our_mounts(), 0);
	assert_int_equal(our_loop_devices(), 0);
	pathf(img, sizeof(img), "%s/%s", tmp, file);
	sha256(img, sum);
	assert_string_equal(sum, im->sum);

	/* The upper dir survives the run, with the writes in it. */
	char p[PATH_MAX];
	pathf(p, sizeof(p), "%s/upper/new.txt", a.state);
	assert_int_equal(access(p, F_OK), 0);
}

static void stack_ext2(void **state)
{
	(void)state;
	run_stack("fw.ext2", false);
}

static void stack_ext4(void **state)
{
	(void)state;
	run_stack("fw.ext4", false);
}

static void stack_squashfs(void **state)
{
	(void)state;
	run_stack("fw.sqfs", false);
}

static void stack_erofs(void **state)
{
	(void)state;
	run_stack("fw.erofs", false);
}

/* LOOP_SET_FD + LOOP_SET_STATUS64, as on a kernel without LOOP_CONFIGURE:
 * same result, also autocleared. */
static void stack_legacy_loop(void **state)
{
	(void)state;
	run_stack("fw.ext4", true);
}

/* ---- many processes attaching at once ---- */

#define RACERS 8

/* Every racer gets the same answer from LOOP_CTL_GET_FREE at about the
 * same time; losers see EBUSY and must try again (bounded) until each has
 * its own device. Each racer has an image file of its own (the instances of
 * one file share its device: t-spine-loop-share). Closing the fds (no
 * mount) lets autoclear detach them. */
static void loop_race(void **state)
{
	int go[2], report[2], hold[2];
	pid_t pids[RACERS];
	char img[PATH_MAX];
	(void)state;

	if (!need_root())
		skip();
	assert_true(images_ok);
	for (int k = 0; k < RACERS; k++)
		assert_int_equal(sh("cp '%s/fw.sqfs' '%s/race-%d.sqfs'", tmp, tmp, k), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	assert_int_equal(pipe2(report, O_CLOEXEC), 0);
	assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
	fflush(NULL);
	for (int k = 0; k < RACERS; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			char c, dev[64], msg[80] = "";
			struct fw_error e = { 0 };
			close(go[1]);
			close(hold[1]);
			pathf(img, sizeof(img), "%s/race-%d.sqfs", tmp, k);
			int fd = open(img, O_RDONLY | O_CLOEXEC);
			CHECK(fd >= 0);
			CHECK(read(go[0], &c, 1) == 0);	/* all start together */
			int lfd = loop_attach(fd, dev, sizeof(dev), &e);
			if (lfd < 0)
				snprintf(msg, sizeof(msg), "ERR %.60s\n", strerror(e.err));
			else
				snprintf(msg, sizeof(msg), "%.60s\n", dev);
			CHECK(write(report[1], msg, strlen(msg)) == (ssize_t)strlen(msg));
			CHECK(read(hold[0], &c, 1) == 0);	/* keep it until told */
			_exit(lfd < 0 ? 1 : 0);
		}
	}
	close(go[0]);
	close(hold[0]);
	close(report[1]);
	close(go[1]);	/* go */

	char all[RACERS * 80 + 1];
	size_t len = 0;
	ssize_t n;
	int lines = 0;
	while (lines < RACERS && (n = read(report[0], all + len, sizeof(all) - 1 - len)) > 0) {
		for (ssize_t k = 0; k < n; k++)
			lines += all[len + (size_t)k] == '\n';
		len += (size_t)n;
	}
	all[len] = '\0';
	close(hold[1]);	/* release */
	close(report[0]);
	for (int k = 0; k < RACERS; k++) {
		int ws;
		assert_int_equal(waitpid(pids[k], &ws, 0), pids[k]);
		if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			fail_msg("racer %d failed; reports:\n%s", k, all);
	}
	/* Eight different devices. */
	char *save = NULL, *devs[RACERS];
	int nd = 0;
	for (char *t = strtok_r(all, "\n", &save); t && nd < RACERS; t = strtok_r(NULL, "\n", &save))
		devs[nd++] = t;
	assert_int_equal(nd, RACERS);
	for (int a = 0; a < nd; a++)
		for (int b = a + 1; b < nd; b++)
			if (!strcmp(devs[a], devs[b]))
				fail_msg("%s handed out twice", devs[a]);
	assert_int_equal(our_loop_devices(), 0);
}

/* ---- a dirty journal is never replayed ---- */

static void dirty_child(void *p)
{
	const char *dir = p;
	char img[PATH_MAX], lower[PATH_MAX], m[PATH_MAX], buf[256], line[4096];
	struct rootfs_info info;
	struct fw_error e = { 0 };

	pathf(img, sizeof(img), "%s/dirty.ext4", tmp);
	pathf(lower, sizeof(lower), "%s/lower", dir);
	CHECK(mkdir(lower, 0755) == 0);
	int fd = rootfs_probe(img, &info, &e);
	CHECK_E(fd, e);
	CHECK(info.kind == ROOTFS_EXT4 && info.ext_journal && info.ext_needs_recovery);
	CHECK_E(rootfs_mount(img, fd, &info, lower, &e), e);
	close(fd);
	pathf(m, sizeof(m), "%s/etc/hostname", lower);
	get_file(m, buf, sizeof(buf));
	CHECK(!strcmp(buf, "fw\n"));

	/* Mounted read-only, without loading the journal. */
	FILE *f = fopen("/proc/self/mountinfo", "re");
	CHECK(f);
	bool seen = false;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, lower))
			continue;
		seen = true;
		CHECK(strstr(line, " ro,") || strstr(line, " ro "));
		CHECK(strstr(line, "norecovery") || strstr(line, "noload"));
	}
	fclose(f);
	CHECK(seen);
}

static void dirty_journal(void **state)
{
	char dir[PATH_MAX], img[PATH_MAX], sum[65];
	(void)state;

	if (!need_root() || !need_fs("ext4"))
		skip();
	assert_true(images_ok);
	pathf(dir, sizeof(dir), "%s/t-dirty", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(in_mount_ns(dirty_child, dir), 0);
	assert_int_equal(our_loop_devices(), 0);
	pathf(img, sizeof(img), "%s/dirty.ext4", tmp);
	sha256(img, sum);
	assert_string_equal(sum, image("dirty.ext4")->sum);
	/* Still dirty: nothing replayed the journal or cleared the flag. */
	assert_int_equal(sh("PATH=\"$PATH:/sbin:/usr/sbin\"; dumpe2fs -h '%s' 2>/dev/null | "
			    "grep -q '^Filesystem features:.*needs_recovery'", img), 0);
}

/* ---- a directory rootfs: read-only bind, submounts included ---- */

static void dir_child(void *p)
{
	const char *dir = p;
	char src[PATH_MAX], lower[PATH_MAX], m[PATH_MAX], buf[64];
	struct rootfs_info info;
	struct fw_error e = { 0 };

	pathf(src, sizeof(src), "%s/tree", tmp);
	pathf(lower, sizeof(lower), "%s/lower", dir);
	CHECK(mkdir(lower, 0755) == 0);
	/* A submount inside the source tree must end up read-only too. */
	pathf(m, sizeof(m), "%s/sub", dir);
	CHECK(mkdir(m, 0755) == 0);
	CHECK(mount("fwt", m, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") == 0);
	char srcmnt[PATH_MAX];
	pathf(srcmnt, sizeof(srcmnt), "%s/src", dir);
	CHECK(mkdir(srcmnt, 0755) == 0);
	CHECK(mount(src, srcmnt, NULL, MS_BIND, NULL) == 0);
	pathf(m, sizeof(m), "%s/chm", srcmnt);
	char sub[PATH_MAX];
	pathf(sub, sizeof(sub), "%s/sub", dir);
	CHECK(mount(sub, m, NULL, MS_BIND, NULL) == 0);

	int fd = rootfs_probe(srcmnt, &info, &e);
	CHECK_E(fd, e);
	CHECK(info.kind == ROOTFS_DIR);
	CHECK_E(rootfs_mount(srcmnt, fd, &info, lower, &e), e);
	close(fd);
	pathf(m, sizeof(m), "%s/etc/hostname", lower);
	get_file(m, buf, sizeof(buf));
	CHECK(!strcmp(buf, "fw\n"));
	pathf(m, sizeof(m), "%s/x", lower);
	CHECK(open(m, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == EROFS);
	pathf(m, sizeof(m), "%s/chm/x", lower);
	CHECK(open(m, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) < 0 && errno == EROFS);
	/* Its other flags are kept. */
	struct statvfs sv;
	pathf(m, sizeof(m), "%s/chm", lower);
	CHECK(statvfs(m, &sv) == 0);
	CHECK((sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV)) == (ST_RDONLY | ST_NOSUID | ST_NODEV));
	CHECK(statvfs(lower, &sv) == 0 && (sv.f_flag & ST_RDONLY));
	/* The source itself stays writable: only the view is read-only. */
	pathf(m, sizeof(m), "%s/chm/x", srcmnt);
	put_file(m, "w");
}

static void run_dir(const char *name, bool legacy)
{
	char dir[PATH_MAX];

	if (!need_root())
		skip();
	assert_true(images_ok);
	pathf(dir, sizeof(dir), "%s/%s", tmp, name);
	assert_int_equal(mkdir(dir, 0755), 0);
	/* As on a kernel before 5.12: no mount_setattr, each mount remounted. */
	fw_fault_arm(legacy ? "rootfs-bind-ro:ENOSYS:0" : NULL);
	int status = in_mount_ns(dir_child, dir);
	fw_fault_arm(NULL);
	assert_int_equal(status, 0);
	assert_int_equal(our_mounts(), 0);
}

static void dir_readonly(void **state)
{
	(void)state;
	run_dir("t-dir", false);
}

/* Without mount_setattr (before 5.12): submounts are remounted one by one. */
static void dir_readonly_legacy(void **state)
{
	(void)state;
	run_dir("t-dir-legacy", true);
}

/* ---- overlay errors name the directory ---- */

static void overlay_missing_child(void *p)
{
	const char *dir = p;
	char lower[PATH_MAX], upper[PATH_MAX], work[PATH_MAX], merged[PATH_MAX];
	struct fw_error e = { 0 };

	pathf(lower, sizeof(lower), "%s/tree", tmp);
	pathf(upper, sizeof(upper), "%s/no such upper", dir);
	pathf(work, sizeof(work), "%s/work", dir);
	pathf(merged, sizeof(merged), "%s/merged", dir);
	CHECK(mkdir(work, 0755) == 0 && mkdir(merged, 0755) == 0);
	CHECK(overlay_mount(lower, upper, work, merged, &e) == -ENOENT);
	CHECK(!strcmp(e.subject, upper));
}

static void overlay_missing_upper(void **state)
{
	char dir[PATH_MAX];
	(void)state;

	if (!need_root() || !need_fs("overlay"))
		skip();
	pathf(dir, sizeof(dir), "%s/t-ovl-missing", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(in_mount_ns(overlay_missing_child, dir), 0);
}

/* ---- the lock ---- */

static void lock_busy(void **state)
{
	char dir[PATH_MAX], want[64];
	struct state_paths sp;
	struct fw_error e = { 0 };
	bool eb;
	(void)state;

	pathf(dir, sizeof(dir), "%s/t-lock", tmp);
	assert_int_equal(state_paths(&sp, dir, NULL), 0);
	assert_int_equal(state_prepare(&sp, &e), 0);
	int fd = state_lock(&sp, &eb, &e);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* A second taker, here or in another process, is refused with our pid. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(state_lock(&sp, &eb, &e), -EBUSY);
	assert_int_equal(e.err, EBUSY);
	assert_string_equal(e.subject, dir);
	pathf(want, sizeof(want), "held by pid %ld", (long)getpid());
	assert_non_null(strstr(e.hint, want));

	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fw_error ce = { 0 };
		int r = state_lock(&sp, &eb, &ce);
		_exit(r == -EBUSY && strstr(ce.hint, want) ? 0 : 1);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);

	/* Released with the fd: the next run takes it and writes its pid. */
	close(fd);
	fd = state_lock(&sp, &eb, &e);
	assert_true(fd >= 0);
	char txt[96] = "";
	assert_true(pread(fd, txt, sizeof(txt) - 1, 0) > 0);
	assert_int_equal(strtol(txt, NULL, 10), getpid());
	close(fd);

	/* A planted symlink is not followed (nor its target created). */
	char target[PATH_MAX];
	pathf(target, sizeof(target), "%s/t-lock-target", tmp);
	assert_int_equal(unlink(sp.lock), 0);
	assert_int_equal(symlink(target, sp.lock), 0);
	assert_int_equal(state_lock(&sp, &eb, &e), -ELOOP);
	assert_int_equal(access(target, F_OK), -1);
	/* Nor is a FIFO opened for long. */
	assert_int_equal(unlink(sp.lock), 0);
	assert_int_equal(mkfifo(sp.lock, 0600), 0);
	alarm(10);
	assert_int_equal(state_lock(&sp, &eb, &e), -EINVAL);
	alarm(0);
}

/* ---- the volatile overlay's marker ---- */

static void plant_marker(const struct state_paths *sp, const char *record)
{
	assert_int_equal(sh("mkdir -p '%s/work/incompat/volatile' && "
			    "touch '%s/work/incompat/volatile/dirty' && "
			    "printf '%%s' '%s' > '%s'", sp->work, sp->work, record, sp->lock), 0);
}

static bool marker_left(const struct state_paths *sp)
{
	char path[PATH_MAX];

	pathf(path, sizeof(path), "%s/work/incompat/volatile", sp->work);
	return access(path, F_OK) == 0;
}

/* How many of the old scratch dirs state_lock() moves aside are left. */
static int old_workdirs(const struct state_paths *sp)
{
	char cmd[PATH_MAX + 64], line[32] = "";

	pathf(cmd, sizeof(cmd), "find '%s' -mindepth 1 -maxdepth 1 -name 'old.*' | wc -l", sp->work);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	pclose(f);
	return atoi(line);
}

/* Take the state lock and let it go, the old scratch dropped as a run
 * drops it: did it say "an earlier boot"? */
static bool lock_once(const struct state_paths *sp)
{
	struct fw_error e = { 0 };
	bool eb = false;
	int fd = state_lock(sp, &eb, &e);

	assert_true(fd >= 0);
	state_drop_old_workdirs(sp);
	assert_int_equal(old_workdirs(sp), 0);
	close(fd);
	return eb;
}

static void lock_volatile_marker(void **state)
{
	char dir[PATH_MAX], boot[64] = "", record[128];
	struct state_paths sp;
	struct fw_error e = { 0 };
	bool eb = true;
	(void)state;

	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	assert_non_null(f);
	assert_non_null(fgets(boot, sizeof(boot), f));
	fclose(f);
	boot[strcspn(boot, "\n")] = '\0';

	pathf(dir, sizeof(dir), "%s/t-volatile", tmp);
	assert_int_equal(state_paths(&sp, dir, NULL), 0);
	assert_int_equal(state_prepare(&sp, &e), 0);

	/* No marker (a first run): nothing to say. The record names this boot. */
	int fd = state_lock(&sp, &eb, &e);
	assert_true(fd >= 0);
	assert_false(eb);
	char txt[128] = "";
	assert_true(pread(fd, txt, sizeof(txt) - 1, 0) > 0);
	pathf(record, sizeof(record), "%ld %s\n", (long)getpid(), boot);
	assert_string_equal(txt, record);
	close(fd);

	/* Left by a run in this boot: removed, silently. The lock only moves
	 * it aside, in one rename, out of the overlay's way (work/old.*); it
	 * is removed later (the setup thread, once the init runs), a killed
	 * run's with the next one's. */
	pathf(record, sizeof(record), "1 %s\n", boot);
	plant_marker(&sp, record);
	fd = state_lock(&sp, &eb, &e);
	assert_true(fd >= 0);
	assert_false(eb);
	assert_false(marker_left(&sp));
	assert_int_equal(old_workdirs(&sp), 1);
	close(fd);
	plant_marker(&sp, record);
	assert_false(lock_once(&sp));	/* both go */
	assert_false(marker_left(&sp));

	/* Left in another boot, or by a record without one: removed, said. */
	plant_marker(&sp, "1 00000000-0000-0000-0000-000000000000\n");
	assert_true(lock_once(&sp));
	assert_false(marker_left(&sp));
	plant_marker(&sp, "1\n");
	assert_true(lock_once(&sp));

	/* The kernel's whole scratch dir goes, not only the marker. */
	assert_int_equal(sh("mkdir -p '%s/work/x/y' && touch '%s/work/x/y/z'", sp.work, sp.work), 0);
	assert_false(lock_once(&sp));
	pathf(record, sizeof(record), "%s/work", sp.work);
	assert_int_equal(access(record, F_OK), -1);

	/* A marker (or anything in there) that is a symlink is removed, never
	 * followed: what it points to stays. */
	char target[PATH_MAX];
	pathf(target, sizeof(target), "%s/t-volatile-target", tmp);
	assert_int_equal(sh("mkdir -p '%s' && touch '%s/keep' && mkdir -p '%s/work/incompat' && "
			    "ln -s '%s' '%s/work/incompat/volatile'",
			    target, target, sp.work, target, sp.work), 0);
	assert_false(lock_once(&sp));	/* the last record is ours, of this boot */
	assert_false(marker_left(&sp));
	pathf(record, sizeof(record), "%s/keep", target);
	assert_int_equal(access(record, F_OK), 0);
}

/* ---- state dirs that are not directories ---- */

static void state_refused(void **state)
{
	char path[PATH_MAX];
	struct state_paths sp;
	struct fw_error e;
	bool eb;
	(void)state;

	/* A file. */
	pathf(path, sizeof(path), "%s/t-state-file", tmp);
	assert_int_equal(sh("echo x > '%s'", path), 0);
	assert_int_equal(state_paths(&sp, path, NULL), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(state_prepare(&sp, &e), -ENOTDIR);
	assert_string_equal(e.subject, path);
	assert_non_null(strstr(e.hint, "a file"));

	/* A symlink to a directory. */
	pathf(path, sizeof(path), "%s/t-state-link", tmp);
	assert_int_equal(symlink(tmp, path), 0);
	assert_int_equal(state_paths(&sp, path, NULL), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(state_prepare(&sp, &e), -ELOOP);
	assert_non_null(strstr(e.hint, "a symlink"));
	assert_int_equal(state_lock(&sp, &eb, &e), -ELOOP);
	assert_int_equal(state_reset(&sp, &e), -ELOOP);

	/* upper/ a symlink pointing out: refused, nothing created there. */
	pathf(path, sizeof(path), "%s/t-state-upper", tmp);
	assert_int_equal(mkdir(path, 0700), 0);
	char link[PATH_MAX], out[PATH_MAX];
	pathf(out, sizeof(out), "%s/t-state-upper-out", tmp);
	assert_int_equal(mkdir(out, 0755), 0);
	pathf(link, sizeof(link), "%s/upper", path);
	assert_int_equal(symlink(out, link), 0);
	assert_int_equal(state_paths(&sp, path, NULL), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(state_prepare(&sp, &e), -ELOOP);
	assert_string_equal(e.subject, sp.upper);
	memset(&e, 0, sizeof(e));
	assert_int_equal(state_reset(&sp, &e), -ELOOP);

	/* A fresh one: dir 0700, upper 0755 whatever the umask, parents made. */
	pathf(path, sizeof(path), "%s/t-state-new/a/b", tmp);
	assert_int_equal(state_paths(&sp, path, NULL), 0);
	mode_t old = umask(077);
	int r = state_prepare(&sp, &e);
	umask(old);
	assert_int_equal(r, 0);
	struct stat st;
	assert_int_equal(stat(sp.dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(sp.upper, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(sp.work, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Preparing again is fine. */
	assert_int_equal(state_prepare(&sp, &e), 0);
}

/* ---- reset ---- */

static void reset_tree(void **state)
{
	char dir[PATH_MAX], outside[PATH_MAX], p[PATH_MAX];
	struct state_paths sp;
	struct fw_error e = { 0 };
	(void)state;

	if (!need_root())
		skip();
	pathf(dir, sizeof(dir), "%s/t-reset", tmp);
	pathf(outside, sizeof(outside), "%s/t-reset-outside", tmp);
	assert_int_equal(state_paths(&sp, dir, NULL), 0);
	assert_int_equal(state_prepare(&sp, &e), 0);
	assert_int_equal(sh("set -e; mkdir -p '%1$s/d'; echo keep > '%1$s/file';"
			    "echo keep > '%1$s/d/file'", outside), 0);
	/* What overlayfs leaves: whiteouts (0/0), an opaque dir, work/work 000,
	 * plus what a firmware can make: symlinks out, FIFOs, 000 dirs. */
	assert_int_equal(sh("set -e; cd '%1$s';"
			    "mknod wh c 0 0; mkdir -p opq/deep/er; echo z > opq/deep/er/z;"
			    "mkdir locked; echo s > locked/secret; mkdir locked/sub; chmod 000 locked/sub locked;"
			    "ln -s '%2$s' out-dir; ln -s '%2$s/file' out-file; ln -s '%2$s/d' opq/out;"
			    "mkfifo fifo; echo r > ro; chmod 000 ro;"
			    "cd '%3$s'; mkdir -p work/inner; mknod work/wh c 0 0; chmod 000 work work/inner",
			    sp.upper, outside, sp.work), 0);

	pathf(p, sizeof(p), "%s/opq", sp.upper);
	assert_int_equal(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0);
	assert_int_equal(state_reset(&sp, &e), 0);

	struct stat st;
	DIR *d;
	struct dirent *de;
	int n = 0;
	assert_non_null(d = opendir(sp.upper));
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	assert_int_equal(n, 0);
	assert_non_null(d = opendir(sp.work));
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	assert_int_equal(n, 0);
	/* upper/ and work/ themselves stay, as does everything outside. */
	assert_int_equal(lstat(sp.upper, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	pathf(p, sizeof(p), "%s/file", outside);
	assert_int_equal(access(p, F_OK), 0);
	pathf(p, sizeof(p), "%s/d/file", outside);
	assert_int_equal(access(p, F_OK), 0);

	/* Reset of an already empty, or never made, state is fine. */
	assert_int_equal(state_reset(&sp, &e), 0);
	assert_int_equal(rmdir(sp.work), 0);
	assert_int_equal(state_reset(&sp, &e), 0);
}

static void reset_mount_child(void *p)
{
	struct state_paths *sp = p;
	struct fw_error e = { 0 };
	char m[PATH_MAX + 16];

	pathf(m, sizeof(m), "%s/mnt", sp->upper);
	CHECK(mkdir(m, 0755) == 0);
	CHECK(mount("fwt", m, "tmpfs", 0, "size=64k") == 0);
	pathf(m, sizeof(m), "%s/mnt/precious", sp->upper);
	put_file(m, "p");
	CHECK(state_reset(sp, &e) == -EBUSY);
	CHECK(strstr(e.subject, "/mnt") != NULL);
	CHECK(access(m, F_OK) == 0);	/* not crossed */
}

static void reset_does_not_cross_mounts(void **state)
{
	char dir[PATH_MAX];
	struct state_paths sp;
	struct fw_error e = { 0 };
	(void)state;

	if (!need_root())
		skip();
	pathf(dir, sizeof(dir), "%s/t-reset-mnt", tmp);
	assert_int_equal(state_paths(&sp, dir, NULL), 0);
	assert_int_equal(state_prepare(&sp, &e), 0);
	assert_int_equal(in_mount_ns(reset_mount_child, &sp), 0);
	assert_int_equal(our_mounts(), 0);
}

/* ---- diff details on a hand-made upper ---- */

static void diff_hand_made(void **state)
{
	char dir[PATH_MAX];
	struct fw_error e = { 0 };
	static struct diff_out out;
	(void)state;

	if (!need_root())
		skip();
	assert_true(images_ok);
	pathf(dir, sizeof(dir), "%s/t-diff", tmp);
	/* lower: the tree. upper: a whiteout for something that never was
	 * (no change), an xattr whiteout, a symlink named like a lower dir, a
	 * name sorting between "/a" and "/a/b" ("/a-c"), an opaque dir whose
	 * lower subdir comes back. */
	assert_int_equal(sh("set -e; mkdir -p '%1$s/lower/a/b' '%1$s/lower/o/s' '%1$s/upper/a/b';"
			    "echo 1 > '%1$s/lower/a/b/f'; echo 1 > '%1$s/lower/x'; echo 1 > '%1$s/lower/x2';"
			    "echo 1 > '%1$s/lower/o/s/old'; echo 1 > '%1$s/lower/o/t';"
			    "cd '%1$s/upper'; mknod never c 0 0; : > x;"
			    "echo 2 > a/b/f; echo n > a-c;"
			    "mkdir -p o/s; echo n > o/s/new; mkdir -p x2/in; echo i > x2/in/f",
			    dir), 0);
	char upper[PATH_MAX], lower[PATH_MAX], p[PATH_MAX + 8];
	pathf(upper, sizeof(upper), "%s/upper", dir);
	pathf(lower, sizeof(lower), "%s/lower", dir);
	pathf(p, sizeof(p), "%s/x", upper);
	assert_int_equal(setxattr(p, "trusted.overlay.whiteout", "", 0, 0), 0);
	pathf(p, sizeof(p), "%s/o", upper);
	assert_int_equal(setxattr(p, "trusted.overlay.opaque", "y", 1, 0), 0);
	assert_int_equal(diff_walk(upper, lower, collect, &out, &e), 0);
	/* strcmp order: "/a-c" before "/a/b/f" ('-' < '/'). */
	assert_string_equal(out.text, "A /a-c\n"
				      "M /a/b/f\n"
				      "M /o\n"
				      "M /o/s\n"
				      "A /o/s/new\n"
				      "D /o/s/old\n"
				      "D /o/t\n"
				      "D /x\n"
				      "M /x2\n"		/* a file become a dir */
				      "A /x2/in\n"
				      "A /x2/in/f\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stack_ext2),
		cmocka_unit_test(stack_ext4),
		cmocka_unit_test(stack_squashfs),
		cmocka_unit_test(stack_erofs),
		cmocka_unit_test(stack_legacy_loop),
		cmocka_unit_test(loop_race),
		cmocka_unit_test(dirty_journal),
		cmocka_unit_test(dir_readonly),
		cmocka_unit_test(dir_readonly_legacy),
		cmocka_unit_test(overlay_missing_upper),
		cmocka_unit_test(lock_busy),
		cmocka_unit_test(lock_volatile_marker),
		cmocka_unit_test(state_refused),
		cmocka_unit_test(reset_tree),
		cmocka_unit_test(reset_does_not_cross_mounts),
		cmocka_unit_test(diff_hand_made),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
