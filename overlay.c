/* SPDX-License-Identifier: MIT */
/* The firmware's file system: rootfs detection, loop devices, the read-only
 * lower mount, the overlay, the state directory and --diff.
 *
 * Pure half first (detect, escape, options, paths, classify), then the
 * applying half (probe, loop, mounts, state, walk). */
#include "overlay.h"
#include "fault.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>


/* ------------------------------------------------------------------ */
/* Pure half                                                          */
/* ------------------------------------------------------------------ */

const char *rootfs_kind_name(enum rootfs_kind kind)
{
	switch (kind) {
	case ROOTFS_DIR:
		return "directory";
	case ROOTFS_EXT2:
		return "ext2";
	case ROOTFS_EXT3:
		return "ext3";
	case ROOTFS_EXT4:
		return "ext4";
	case ROOTFS_SQUASHFS:
		return "squashfs";
	case ROOTFS_EROFS:
		return "erofs";
	case ROOTFS_UNKNOWN:
		break;
	}
	return "unknown";
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ext2/3/4 superblock: 1024 bytes at offset 1024 (include/linux/ext4 fs.h,
 * e2fsprogs lib/ext2fs/ext2_fs.h). Offsets checked against images made by
 * mkfs.ext2/3/4 -d here. */
#define EXT_SB_OFF		1024
#define EXT_SB_LEN		1024
#define EXT_BLOCKS_LO		4
#define EXT_LOG_BLOCK_SIZE	24
#define EXT_MAGIC_OFF		56
#define EXT_MAGIC		0xEF53
#define EXT_REV_LEVEL		76
#define EXT_FEATURE_COMPAT	92
#define EXT_FEATURE_INCOMPAT	96
#define EXT_FEATURE_RO_COMPAT	100
#define EXT_BLOCKS_HI		0x150

#define EXT_COMPAT_HAS_JOURNAL		0x0004
#define EXT_INCOMPAT_FILETYPE		0x0002
#define EXT_INCOMPAT_RECOVER		0x0004	/* dirty journal */
#define EXT_INCOMPAT_JOURNAL_DEV	0x0008	/* an external journal, no fs */
#define EXT_INCOMPAT_META_BG		0x0010
#define EXT_INCOMPAT_64BIT		0x0080
/* What ext2/ext3 know; anything else (extents, 64bit, flex_bg, huge_file,
 * metadata_csum, ...) makes it ext4. */
#define EXT3_INCOMPAT_KNOWN	(EXT_INCOMPAT_FILETYPE | EXT_INCOMPAT_RECOVER | EXT_INCOMPAT_META_BG)
#define EXT3_RO_COMPAT_KNOWN	0x0007	/* sparse_super, large_file, btree_dir */

static int detect_ext(const unsigned char *buf, size_t len, struct rootfs_info *info)
{
	if (len < EXT_SB_OFF + EXT_SB_LEN)
		return -EINVAL;
	const unsigned char *sb = buf + EXT_SB_OFF;
	if (le16(sb + EXT_MAGIC_OFF) != EXT_MAGIC)
		return -EINVAL;

	uint32_t log_bs = le32(sb + EXT_LOG_BLOCK_SIZE);
	if (log_bs > 6)		/* 1 KiB << 6 = 64 KiB, the largest ext block */
		return -EINVAL;
	uint32_t compat = 0, incompat = 0, ro_compat = 0;
	if (le32(sb + EXT_REV_LEVEL) >= 1) {	/* revision 0 has no feature fields */
		compat = le32(sb + EXT_FEATURE_COMPAT);
		incompat = le32(sb + EXT_FEATURE_INCOMPAT);
		ro_compat = le32(sb + EXT_FEATURE_RO_COMPAT);
	}
	if (incompat & EXT_INCOMPAT_JOURNAL_DEV)
		return -EINVAL;

	uint64_t blocks = le32(sb + EXT_BLOCKS_LO);
	if (incompat & EXT_INCOMPAT_64BIT)
		blocks |= (uint64_t)le32(sb + EXT_BLOCKS_HI) << 32;
	/* No blocks, or more bytes than 64 bits count: garbage. */
	if (blocks == 0 || blocks > UINT64_MAX >> (10 + log_bs))
		return -EINVAL;

	bool journal = compat & EXT_COMPAT_HAS_JOURNAL;
	bool ext4_only = (incompat & ~(uint32_t)EXT3_INCOMPAT_KNOWN) ||
			 (ro_compat & ~(uint32_t)EXT3_RO_COMPAT_KNOWN);
	info->kind = ext4_only ? ROOTFS_EXT4 : journal ? ROOTFS_EXT3 : ROOTFS_EXT2;
	info->ext_journal = journal;
	info->ext_needs_recovery = incompat & EXT_INCOMPAT_RECOVER;
	info->fs_size = blocks << (10 + log_bs);
	return 0;
}

/* squashfs 4.0 superblock at 0 (fs/squashfs/squashfs_fs.h). */
#define SQFS_MAGIC		"hsqs"
#define SQFS_BLOCK_SIZE		12
#define SQFS_BLOCK_LOG		22
#define SQFS_MAJOR		28
#define SQFS_BYTES_USED		40
#define SQFS_SB_LEN		96

static int detect_squashfs(const unsigned char *buf, size_t len, struct rootfs_info *info)
{
	if (len < SQFS_SB_LEN || memcmp(buf, SQFS_MAGIC, 4) != 0)
		return -EINVAL;
	uint32_t bs = le32(buf + SQFS_BLOCK_SIZE);
	uint16_t blog = le16(buf + SQFS_BLOCK_LOG);
	/* Only 4.x is mountable; block size and its log must agree. */
	if (le16(buf + SQFS_MAJOR) != 4 || blog < 12 || blog > 20 || bs != 1u << blog)
		return -EINVAL;
	uint64_t used = le64(buf + SQFS_BYTES_USED);
	if (used < SQFS_SB_LEN)
		return -EINVAL;
	info->kind = ROOTFS_SQUASHFS;
	info->fs_size = used;
	return 0;
}

/* erofs superblock at 1024 (fs/erofs/erofs_fs.h): magic, checksum,
 * feature_compat, blkszbits (u8 at 12), ..., blocks (u32 at 36). */
#define EROFS_SB_OFF		1024
#define EROFS_MAGIC		0xE0F5E1E2u
#define EROFS_BLKSZBITS		12
#define EROFS_BLOCKS		36
#define EROFS_SB_LEN		128

static int detect_erofs(const unsigned char *buf, size_t len, struct rootfs_info *info)
{
	if (len < EROFS_SB_OFF + EROFS_SB_LEN)
		return -EINVAL;
	const unsigned char *sb = buf + EROFS_SB_OFF;
	if (le32(sb) != EROFS_MAGIC)
		return -EINVAL;
	unsigned bits = sb[EROFS_BLKSZBITS];
	if (bits < 9 || bits > 16)
		return -EINVAL;
	info->kind = ROOTFS_EROFS;
	info->fs_size = (uint64_t)le32(sb + EROFS_BLOCKS) << bits;
	return 0;
}

int rootfs_detect(const unsigned char *buf, size_t len, struct rootfs_info *info)
{
	memset(info, 0, sizeof(*info));
	if (!buf)
		return -EINVAL;
	if (detect_squashfs(buf, len, info) == 0 || detect_erofs(buf, len, info) == 0 ||
	    detect_ext(buf, len, info) == 0)
		return 0;
	memset(info, 0, sizeof(*info));
	return -EINVAL;
}

static bool needs_escape(char c)
{
	return c == ',' || c == ':' || c == '\\';
}

int overlay_escape(const char *path, char *out, size_t out_size)
{
	size_t n = 0;

	for (const char *p = path; *p; p++) {
		size_t need = needs_escape(*p) ? 2 : 1;
		if (n + need >= out_size)
			return -ENAMETOOLONG;
		if (need == 2)
			out[n++] = '\\';
		out[n++] = *p;
	}
	if (n >= out_size)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return (int)n;
}

/* Append "key=<escaped path>" at buf[*n]. */
static int append_opt(char *buf, size_t size, size_t *n, const char *key, const char *path)
{
	size_t klen = strlen(key);

	if (*n + klen >= size)
		return -ENAMETOOLONG;
	memcpy(buf + *n, key, klen + 1);
	*n += klen;
	int r = overlay_escape(path, buf + *n, size - *n);
	if (r < 0)
		return r;
	*n += (size_t)r;
	return 0;
}

int overlay_options(char *buf, size_t size, const char *lower, const char *upper,
		    const char *work)
{
	size_t n = 0;
	int r;

	if (!buf || !lower || !*lower || !upper != !work)
		return -EINVAL;
	r = append_opt(buf, size, &n, "lowerdir=", lower);
	if (r == 0 && upper)
		r = append_opt(buf, size, &n, ",upperdir=", upper);
	if (r == 0 && work)
		r = append_opt(buf, size, &n, ",workdir=", work);
	if (r == 0 && work)
		r = append_opt(buf, size, &n, ",volatile", "");
	if (r < 0) {
		if (size)
			buf[0] = '\0';
		return r;
	}
	return (int)n;
}

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
/* Applying half: the rootfs                                          */
/* ------------------------------------------------------------------ */

#define EXPECTED_IMAGE "an ext2/3/4, squashfs or erofs image"

static const char *file_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symlink";
	default:
		return "not a regular file";
	}
}

int rootfs_probe(const char *path, struct rootfs_info *info, struct fw_error *e)
{
	char hint[sizeof(e->hint)];
	struct stat st, fst;

	memset(info, 0, sizeof(*info));
	/* Look before opening: opening a device can have effects of its own. */
	if (stat(path, &st) < 0)
		return fw_fail(e, errno, "open rootfs", path);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		snprintf(hint, sizeof(hint), "%s: expected %s or a directory",
			 file_type_name(st.st_mode), EXPECTED_IMAGE);
		return fw_fail_hint(e, EINVAL, "open rootfs", path, hint);
	}

	/* O_NONBLOCK: should a FIFO be swapped in after stat(), open() does
	 * not hang on it; fstat() below then refuses it. */
	_cleanup_close_ int fd = FW_FAULT(ROOTFS_OPEN) ? -1 :
				 open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fw_fail(e, errno, "open rootfs", path);
	if (fstat(fd, &fst) < 0)
		return fw_fail(e, errno, "open rootfs", path);
	if (!S_ISREG(fst.st_mode) && !S_ISDIR(fst.st_mode)) {
		snprintf(hint, sizeof(hint), "%s: expected %s or a directory",
			 file_type_name(fst.st_mode), EXPECTED_IMAGE);
		return fw_fail_hint(e, EINVAL, "open rootfs", path, hint);
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return fw_fail(e, errno, "open rootfs", path);

	if (S_ISDIR(fst.st_mode)) {
		info->kind = ROOTFS_DIR;
		return fw_take_fd(&fd);
	}

	if (fst.st_size == 0)
		return fw_fail_hint(e, EINVAL, "recognise rootfs", path,
				    "the file is empty: expected " EXPECTED_IMAGE);

	unsigned char buf[ROOTFS_PROBE_SIZE];
	size_t got = 0;
	while (got < sizeof(buf)) {
		ssize_t n = pread(fd, buf + got, sizeof(buf) - got, (off_t)got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fw_fail(e, errno, "read rootfs", path);
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (rootfs_detect(buf, got, info) < 0)
		return fw_fail_hint(e, EINVAL, "recognise rootfs", path,
				    "not " EXPECTED_IMAGE);
	if (info->fs_size > (uint64_t)fst.st_size) {
		snprintf(hint, sizeof(hint),
			 "truncated %s image: its superblock says %llu bytes, the file has %llu",
			 rootfs_kind_name(info->kind), (unsigned long long)info->fs_size,
			 (unsigned long long)fst.st_size);
		enum rootfs_kind k = info->kind;
		memset(info, 0, sizeof(*info));
		info->kind = k;
		return fw_fail_hint(e, EINVAL, "recognise rootfs", path, hint);
	}
	return fw_take_fd(&fd);
}

/* Each round one of the processes racing for the same free device wins,
 * so this bounds the number of concurrent attachers we outlast. */
#define LOOP_ATTACH_TRIES 32

/* LOOP_SET_FD + LOOP_SET_STATUS64, for kernels before 5.8. The device is
 * read-only because the backing fd is. Returns 0, -EBUSY (taken: try another
 * device) or another -errno. */
static int loop_attach_legacy(int loop_fd, int image_fd, const struct loop_info64 *li)
{
	if (ioctl(loop_fd, LOOP_SET_FD, image_fd) < 0)
		return -errno;
	for (int i = 0;; i++) {
		if (ioctl(loop_fd, LOOP_SET_STATUS64, li) == 0)
			return 0;
		/* The kernel asks to try again while it flushes the device. */
		if (errno != EAGAIN || i >= 20) {
			int r = -errno;
			(void)ioctl(loop_fd, LOOP_CLR_FD, 0);
			return r;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 25L * 1000 * 1000 }, NULL);
	}
}

int loop_attach(int image_fd, char *devpath, size_t devpath_size, struct fw_error *e)
{
	struct loop_config cfg = { .fd = (uint32_t)image_fd };
	char self[64];

	cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
	/* What losetup -a shows: the image's path, as far as it fits. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", image_fd);
	ssize_t n = readlink(self, (char *)cfg.info.lo_file_name, LO_NAME_SIZE - 1);
	if (n < 0)
		cfg.info.lo_file_name[0] = '\0';

	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (ctl < 0)
		return fw_fail_hint(e, errno, "open", "/dev/loop-control",
				    errno == ENOENT ? "is the loop module loaded?" : NULL);

	bool legacy = false;	/* loop-attach:EINVAL in the test build */
	int r = -EBUSY;
	for (int tries = 0; tries < LOOP_ATTACH_TRIES; tries++) {
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0)
			return fw_fail(e, errno, "find a free loop device with", "/dev/loop-control");
		if ((size_t)snprintf(devpath, devpath_size, "/dev/loop%d", nr) >= devpath_size)
			return fw_fail(e, ENAMETOOLONG, "name loop device", "");

		_cleanup_close_ int lfd = open(devpath, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (lfd < 0) {
			/* Removed (LOOP_CTL_REMOVE) or its node not there yet. */
			r = -errno;
			if (errno == ENOENT || errno == ENXIO)
				continue;
			return fw_fail(e, errno, "open loop device", devpath);
		}

		if (!legacy) {
			if (!FW_FAULT(LOOP_ATTACH) && ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
				return fw_take_fd(&lfd);
			r = -errno;
			if (errno == EBUSY)	/* another process took it first */
				continue;
			if (errno != EINVAL && errno != ENOTTY)
				break;
			legacy = true;	/* no LOOP_CONFIGURE: kernel < 5.8 */
		}
		r = loop_attach_legacy(lfd, image_fd, &cfg.info);
		if (r == 0)
			return fw_take_fd(&lfd);
		if (r != -EBUSY)
			break;
	}
	if (r == -EBUSY)
		return fw_fail_hint(e, EBUSY, "attach loop device", devpath,
				    "other processes kept taking the free loop devices");
	return fw_fail(e, -r, "attach loop device", devpath);
}

/* Remount one bind mount read-only, keeping its nosuid/nodev/noexec/atime
 * flags (a bind remount resets what it is not given). */
static int remount_readonly(const char *path)
{
	static const struct {
		unsigned long st, ms;
	} keep[] = {
		{ ST_NOSUID, MS_NOSUID },	{ ST_NODEV, MS_NODEV },
		{ ST_NOEXEC, MS_NOEXEC },	{ ST_NOATIME, MS_NOATIME },
		{ ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
	};
	struct statvfs sv;
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;

	if (statvfs(path, &sv) < 0)
		return -errno;
	for (size_t i = 0; i < FW_ARRAY_SIZE(keep); i++)
		if (sv.f_flag & keep[i].st)
			flags |= keep[i].ms;
	if (mount(NULL, path, NULL, flags, NULL) < 0)
		return -errno;
	return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Without mount_setattr() (before 5.12): remount target and every mount
 * below it read-only, one by one, from /proc/self/mountinfo. */
static int remount_readonly_tree(const char *target, struct fw_error *e)
{
	char real[PATH_MAX];
	int r = remount_readonly(target);
	if (r < 0)
		return fw_fail(e, r, "make read-only", target);
	if (!realpath(target, real))
		return fw_fail(e, errno, "make read-only", target);

	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return fw_fail_hint(e, errno, "make read-only", target,
				    "submounts need /proc/self/mountinfo");
	size_t rlen = strlen(real);
	char *line = NULL;
	size_t cap = 0;
	r = 0;
	while (getline(&line, &cap, f) > 0) {
		/* id parent major:minor root mountpoint ... */
		char *save = NULL, *tok = strtok_r(line, " ", &save);
		for (int i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save);
		if (!tok)
			continue;
		unescape_octal(tok);
		if (strncmp(tok, real, rlen) != 0 ||
		    (rlen == 1 ? tok[1] == '\0' : tok[rlen] != '/'))
			continue;
		if ((r = remount_readonly(tok)) < 0) {
			fw_fail(e, r, "make read-only", tok);
			break;
		}
	}
	free(line);
	fclose(f);
	return r;
}

static int bind_readonly(const char *source_path, int dir_fd, const char *target,
			 struct fw_error *e)
{
	char self[64];

	/* Bind the directory rootfs_probe() looked at, not whatever the path
	 * names now; without /proc, the path it was. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", dir_fd);
	if (dir_fd < 0 || mount(self, target, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (mount(source_path, target, NULL, MS_BIND | MS_REC, NULL) < 0)
			return fw_fail(e, errno, "bind-mount rootfs", source_path);
	}

	/* Read-only all the way down: submounts of the directory too. */
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
	if (!FW_FAULT(ROOTFS_BIND_RO) &&
	    mount_setattr(AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof(attr)) == 0)
		return 0;
	if (errno != ENOSYS)	/* rootfs-bind-ro:ENOSYS in the test build */
		return fw_fail(e, errno, "make read-only", target);
	return remount_readonly_tree(target, e);
}

int rootfs_mount(const char *source_path, int image_fd, const struct rootfs_info *info,
		 const char *target, struct fw_error *e)
{
	char dev[64];
	char hint[sizeof(e->hint)];

	if (info->kind == ROOTFS_DIR)
		return bind_readonly(source_path, image_fd, target, e);
	if (info->kind == ROOTFS_UNKNOWN)
		return fw_fail_hint(e, EINVAL, "mount rootfs", source_path, "not " EXPECTED_IMAGE);

	/* Held until mount(2) returns: with autoclear, closing the last
	 * reference before the mount holds one detaches the device. */
	_cleanup_close_ int loop_fd = loop_attach(image_fd, dev, sizeof(dev), e);
	if (loop_fd < 0)
		return loop_fd;

	const char *type = rootfs_kind_name(info->kind);
	/* noload: a journal is never replayed, a dirty one neither; the device
	 * is read-only anyway, and ext4 would refuse it rather than replay. */
	const char *opts = info->ext_journal || info->ext_needs_recovery ? "noload" : NULL;
	int r = FW_FAULT(ROOTFS_MOUNT) ? -1 : mount(dev, target, type, MS_RDONLY, opts);
	if (r < 0 && errno == ENODEV &&
	    (info->kind == ROOTFS_EXT2 || info->kind == ROOTFS_EXT3)) {
		/* No ext2/ext3 driver: ext4 mounts them too. */
		type = "ext4";
		r = mount(dev, target, type, MS_RDONLY, opts);
	}
	if (r < 0) {
		int err = errno;
		if (err == ENODEV)
			snprintf(hint, sizeof(hint), "is the %s module loaded?", type);
		else
			snprintf(hint, sizeof(hint), "%s image on %s: is it damaged? see dmesg",
				 rootfs_kind_name(info->kind), dev);
		return fw_fail_hint(e, err, "mount rootfs", source_path, hint);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The overlay                                                        */
/* ------------------------------------------------------------------ */

/* mount(2) copies at most one page of options. */
#define OVERLAY_OPTS_MAX 4096

int overlay_mount(const char *lower, const char *upper, const char *work,
		  const char *target, struct fw_error *e)
{
	char opts[OVERLAY_OPTS_MAX];
	struct stat st;

	int r = overlay_options(opts, sizeof(opts), lower, upper, work);
	if (r < 0)
		return fw_fail_hint(e, r, "build overlay options for", upper ? upper : lower,
				    "the escaped paths must fit in 4095 bytes");
	if (!FW_FAULT(OVERLAY_MOUNT) && mount("overlay", target, "overlay", 0, opts) == 0)
		return 0;

	int err = errno;
	switch (err) {
	case ENODEV:
		return fw_fail_hint(e, err, "mount overlay on", target,
				    "is the overlay module loaded?");
	case ENOENT:
	case ENOTDIR: {
		/* Name the directory that is missing. */
		const char *paths[] = { lower, upper, work, target };
		for (size_t i = 0; i < FW_ARRAY_SIZE(paths); i++)
			if (paths[i] && stat(paths[i], &st) < 0)
				return fw_fail(e, errno, "mount overlay: find", paths[i]);
		break;
	}
	}
	/* What the kernel's errno means when it refuses the upper dir. */
	static const struct { int err; const char *hint; } upper_hints[] = {
		{ EBUSY, "is it in use by another overlay mount?" },
		{ EROFS, "the upper dir must be on a writable file system" },
		{ ESTALE, "it was used with another rootfs: reset it" },
		{ ELOOP, "is the state dir inside the rootfs directory, or the reverse?" },
		{ EINVAL, "does its file system support overlayfs (xattrs, d_type)? see dmesg" },
		{ EOPNOTSUPP, "does its file system support overlayfs (xattrs, d_type)? see dmesg" },
	};
	for (size_t i = 0; upper && i < FW_ARRAY_SIZE(upper_hints); i++)
		if (upper_hints[i].err == err)
			return fw_fail_hint(e, err, "mount overlay with upper dir", upper,
					    upper_hints[i].hint);
	return fw_fail(e, err, "mount overlay on", target);
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
			 S_ISREG(st.st_mode) ? "a file" : file_type_name(st.st_mode));
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

/* Take dfd/name as a lock naming us (our pid, then boot if not NULL) for
 * messages to others; the last holder's record is left in holder. what and
 * subject name the thing locked in errors; fault is the caller's
 * FW_FAULT_ERR() (0 but in the test build). */
static int take_lock(int dfd, const char *name, const char *path, const char *boot,
		     char *holder, size_t holder_size, const char *what,
		     const char *subject, int fault, struct fw_error *e)
{
	char hint[sizeof(e->hint)], txt[96];

	int fd = fault ?: fw_lock_at(dfd, name, holder, holder_size);
	if (fd == -EBUSY) {
		long pid = strtol(holder, NULL, 10);
		if (pid > 0)
			snprintf(hint, sizeof(hint), "held by pid %ld: this instance is running",
				 pid);
		else
			snprintf(hint, sizeof(hint), "held by another fwrun: this instance is running");
		return fw_fail_hint(e, EBUSY, what, subject, hint);
	}
	if (fd == -EINVAL)
		return fw_fail_hint(e, EINVAL, "open lock", path, "not a regular file");
	if (fd < 0)
		return fw_fail(e, -fd, "open lock", path);
	snprintf(txt, sizeof(txt), "%ld%s%s\n", (long)getpid(), boot ? " " : "", boot ? boot : "");
	int r = fw_lock_write(fd, txt);
	if (r < 0) {
		close(fd);
		return fw_fail(e, -r, "write lock", path);
	}
	return fd;
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

static int empty_dir(int dfd, dev_t dev, const char *path, struct fw_error *e);

/* Remove work/work, the kernel's own scratch dir, with the marker a volatile
 * mount leaves in it: every overlay mount empties that dir (or, marked,
 * refuses it); gone, the mount only makes it again, and the removals are
 * done here, while the setup thread makes its namespaces, not in its mount.
 * 1 if the marker was there, 0 if not, or -errno. */
static int clear_kernel_workdir(int dfd, const struct state_paths *p, struct fw_error *e)
{
	char path[PATH_MAX];
	struct stat st;
	bool marked = faccessat(dfd, VOLATILE_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0;

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
	char boot[40], last[96];

	*earlier_boot = false;
	_cleanup_close_ int dfd = open_dir_nofollow(AT_FDCWD, p->dir, p->dir, "lock state dir", e);
	if (dfd < 0)
		return dfd;
	read_boot_id(boot, sizeof(boot));
	int fd = take_lock(dfd, "lock", p->lock, boot, last, sizeof(last), "lock state dir",
			   p->dir, FW_FAULT_ERR(LOCK), e);
	if (fd < 0)
		return fd;
	int r = clear_kernel_workdir(dfd, p, e);
	if (r < 0) {
		close(fd);
		return r;
	}
	*earlier_boot = r > 0 && !state_same_boot(last, boot);
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
	char holder[96];

	return take_lock(dfd, name, path, NULL, holder, sizeof(holder), "lock instance", name,
			 FW_FAULT_ERR(INSTANCE_LOCK), e);
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

/* Remove everything below the directory dfd (whose path is path, for
 * messages) without following symlinks or crossing into another mount. */
static int empty_dir(int dfd, dev_t dev, const char *path, struct fw_error *e)
{
	char sub[PATH_MAX];
	int dup_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	if (dup_fd < 0)
		return fw_fail(e, errno, "read", path);
	DIR *d = fdopendir(dup_fd);
	if (!d) {
		int err = errno;
		close(dup_fd);
		return fw_fail(e, err, "read", path);
	}

	int r = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				r = fw_fail(e, errno, "read", path);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
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
			int cfd = openat(dfd, de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0 && errno == EACCES) {
				/* work/work is mode 000: opening it needs DAC override. */
				if (fchmodat(dfd, de->d_name, 0700, 0) == 0)
					cfd = openat(dfd, de->d_name,
						     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			}
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
	closedir(d);
	return r;
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

static int path_child(char *out, size_t size, const char *rel, const char *name)
{
	int n = snprintf(out, size, "%s/%s", rel, name);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Lower entries of an opaque (or hidden) dir that upper does not have. */
static int diff_hidden(struct diff_ctx *c, int ufd, int lfd, const char *rel)
{
	char child[PATH_MAX];
	struct stat st;
	int dup_fd = fcntl(lfd, F_DUPFD_CLOEXEC, 3);
	if (dup_fd < 0)
		return fw_fail(c->e, errno, "read lower dir", rel);
	DIR *d = fdopendir(dup_fd);
	if (!d) {
		int err = errno;
		close(dup_fd);
		return fw_fail(c->e, err, "read lower dir", rel);
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(ufd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		if (path_child(child, sizeof(child), rel, de->d_name) < 0) {
			r = fw_fail(c->e, ENAMETOOLONG, "list changes in", rel);
			break;
		}
		if ((r = diff_add(c, DIFF_DELETED, child)) < 0)
			break;
	}
	closedir(d);
	return r;
}

/* ufd: a directory of upper; lfd: the same directory in lower or -1;
 * rel: its path in the firmware ("" for the root); hidden: an ancestor is
 * opaque, so lower entries below count as replaced, not merged. */
static int diff_dir(struct diff_ctx *c, int ufd, int lfd, const char *rel, bool hidden)
{
	char child[PATH_MAX];
	int dup_fd = fcntl(ufd, F_DUPFD_CLOEXEC, 3);
	if (dup_fd < 0)
		return fw_fail(c->e, errno, "read", c->upper);
	DIR *d = fdopendir(dup_fd);
	if (!d) {
		int err = errno;
		close(dup_fd);
		return fw_fail(c->e, err, "read", c->upper);
	}

	int r = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				r = fw_fail(c->e, errno, "read upper dir", rel[0] ? rel : "/");
			break;
		}
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		if (path_child(child, sizeof(child), rel, name) < 0) {
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

		mode_t mode = st.st_mode;
		dev_t rdev = st.st_rdev;
		/* Newer overlayfs can also mark a whiteout with an xattr on an
		 * empty regular file: read it as the 0/0 device it stands for. */
		if (S_ISREG(mode) && st.st_size == 0 &&
		    has_xattr(ufd, name, false, "trusted.overlay.whiteout", NULL)) {
			mode = S_IFCHR;
			rdev = makedev(0, 0);
		}
		bool whiteout = S_ISCHR(mode) && rdev == makedev(0, 0);
		bool in_lower = lfd >= 0 && fstatat(lfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0;
		if (whiteout && !c->have_lower)
			in_lower = true;	/* cannot check: trust the whiteout */
		bool is_dir = S_ISDIR(mode);
		bool opaque = is_dir && has_xattr(ufd, name, true, "trusted.overlay.opaque", "y");
		/* Below an opaque dir, a lower dir is hidden whole; a dir over a
		 * lower non-dir replaced it, whatever its xattrs say. */
		if (is_dir && in_lower && (hidden || !S_ISDIR(lst.st_mode)))
			opaque = true;

		enum diff_change ch = diff_classify(mode, rdev, opaque, in_lower);
		if (ch == DIFF_NONE && is_dir && in_lower &&
		    ((lst.st_mode ^ st.st_mode) & 07777 || lst.st_uid != st.st_uid ||
		     lst.st_gid != st.st_gid))
			ch = DIFF_MODIFIED;	/* chmod/chown of a lower dir */
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

int state_read_rootfs(const struct state_paths *p, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(p->rootfs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n = fw_read_all(fd, buf, size - 1);
	if (n <= 0)
		return n < 0 ? (int)n : -ENODATA;
	buf[n] = '\0';
	return 0;
}
