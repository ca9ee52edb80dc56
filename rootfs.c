/* SPDX-License-Identifier: MIT */
/* The firmware's rootfs: what it is (by content), the loop device an image
 * is attached to, and its read-only mount (or read-only bind of a directory).
 *
 * Pure half first (detect), then the applying half (probe, loop, mounts). */
#include "rootfs.h"
#include "fault.h"
#include "rundir.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/file.h>
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

/* A loop device serves an image's instances when it is attached to that
 * very file, all of it, read-only and with autoclear: what loop_attach()
 * makes. */
bool loop_serves(const struct loop_info64 *li, uint64_t dev, uint64_t ino)
{
	const uint32_t want = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;

	return li->lo_device == dev && li->lo_inode == ino && li->lo_offset == 0 &&
	       li->lo_sizelimit == 0 && (li->lo_flags & want) == want;
}

/* The number in a share record ("12\n"): the index, or -1 for anything
 * else (an empty file is a record not yet written). */
int loop_record_parse(const char *text)
{
	const char *end;
	long nr = fw_parse_decimal(text, INT_MAX, &end);

	return nr >= 0 && (*end == '\0' || strcmp(end, "\n") == 0) ? (int)nr : -1;
}

/* ------------------------------------------------------------------ */
/* Applying half                                                      */
/* ------------------------------------------------------------------ */

#define EXPECTED_IMAGE "an ext2/3/4, squashfs or erofs image"

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
			 fw_file_type_name(st.st_mode), EXPECTED_IMAGE);
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
			 fw_file_type_name(fst.st_mode), EXPECTED_IMAGE);
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

/* Losers of a race for the lowest free device take one at random among
 * the next spread indices above it, spread doubling with each loss: a herd
 * of N racers is spread over distinct devices in about log2(N / 8) rounds. */
#define LOOP_SPREAD_MIN 8
#define LOOP_SPREAD_MAX 1024
/* Where no device can be added (LOOP_CTL_ADD refused), losers wait a random
 * time below 100 us << losses, at most 20 ms, and ask again. */
#define LOOP_BACKOFF_BASE_NS (100ULL * 1000)
#define LOOP_BACKOFF_MAX_NS (20ULL * 1000 * 1000)

static uint64_t next_random(uint64_t *x)
{
	/* xorshift64: spreading racers needs no better */
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

int loop_claim(const struct loop_ops *ops, void *ctx, uint64_t deadline_ns, uint64_t seed,
	       int *nr_out, enum loop_stage *stage)
{
	uint64_t rnd = seed ? seed : 1;
	uint64_t spread = LOOP_SPREAD_MIN;
	bool can_add = true;
	int base = -1, losses = 0, r;

	for (;;) {
		int nr;
		if (losses == 0 || !can_add) {
			*stage = LOOP_FIND;
			if ((nr = base = ops->get_free(ctx)) < 0)
				return nr;
		} else {
			/* Lost the lowest free device to others: the herd is
			 * there. Take one beyond it, made if missing. */
			nr = base + 1 + (int)(next_random(&rnd) % spread);
			if (spread < LOOP_SPREAD_MAX)
				spread *= 2;
		}
		*nr_out = nr;
		*stage = LOOP_OPEN;
		int fd = ops->open(ctx, nr);
		if ((fd == -ENOENT || fd == -ENXIO) && losses > 0 && can_add) {
			r = ops->add(ctx, nr);
			if (r >= 0 || r == -EEXIST)
				fd = ops->open(ctx, nr);
			else
				can_add = false;	/* not here: back off instead */
		}
		if (fd >= 0) {
			*stage = LOOP_ATTACH;
			r = ops->configure(ctx, fd);
			if (r == 0)
				return fd;
			ops->close(ctx, fd);
			if (r != -EBUSY)
				return r;	/* not a race: no use trying again */
		} else if (fd == -ENOENT || fd == -ENXIO) {
			/* Removed (LOOP_CTL_REMOVE), or its node not there yet. */
			r = fd;
		} else {
			return fd;
		}

		losses++;
		uint64_t now = ops->now_ns(ctx);
		if (now >= deadline_ns) {
			*stage = LOOP_ATTACH;
			return r;
		}
		if (!can_add) {
			uint64_t cap = LOOP_BACKOFF_BASE_NS << (losses < 8 ? losses : 8);
			if (cap > LOOP_BACKOFF_MAX_NS)
				cap = LOOP_BACKOFF_MAX_NS;
			uint64_t ns = 1 + next_random(&rnd) % cap;
			ops->sleep_ns(ctx, ns < deadline_ns - now ? ns : deadline_ns - now);
		}
	}
}

/* The real control device, and the image to attach. */
struct loop_sys {
	int ctl;			/* /dev/loop-control */
	int image_fd;
	bool legacy;			/* no LOOP_CONFIGURE: kernel < 5.8 */
	struct loop_config cfg;
};

static int sys_get_free(void *ctx)
{
	struct loop_sys *s = ctx;
	int nr = ioctl(s->ctl, LOOP_CTL_GET_FREE);
	return nr < 0 ? -errno : nr;
}

static int sys_add(void *ctx, int nr)
{
	struct loop_sys *s = ctx;
	int r = ioctl(s->ctl, LOOP_CTL_ADD, nr);
	return r < 0 ? -errno : r;
}

static int sys_open(void *ctx, int nr)
{
	char path[32];
	(void)ctx;

	snprintf(path, sizeof(path), "/dev/loop%d", nr);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

static int sys_configure(void *ctx, int fd)
{
	struct loop_sys *s = ctx;

	if (!s->legacy) {
		if (!FW_FAULT(LOOP_ATTACH) && ioctl(fd, LOOP_CONFIGURE, &s->cfg) == 0)
			return 0;
		if (errno != EINVAL && errno != ENOTTY)
			return -errno;	/* EBUSY: another process took it first */
		s->legacy = true;
	}
	return loop_attach_legacy(fd, s->image_fd, &s->cfg.info);
}

static void sys_close(void *ctx, int fd)
{
	(void)ctx;
	close(fd);
}

static uint64_t sys_now_ns(void *ctx)
{
	(void)ctx;
	return fw_now_ns();
}

static void sys_sleep_ns(void *ctx, uint64_t ns)
{
	(void)ctx;
	nanosleep(&(struct timespec){ .tv_sec = (time_t)(ns / 1000000000),
				      .tv_nsec = (long)(ns % 1000000000) }, NULL);
}

static const struct loop_ops loop_sys_ops = {
	.get_free = sys_get_free, .add = sys_add, .open = sys_open,
	.configure = sys_configure, .close = sys_close,
	.now_ns = sys_now_ns, .sleep_ns = sys_sleep_ns,
};

/* A fresh loop device for the image: see loop_claim(). */
static int loop_attach_fresh(int image_fd, char *devpath, size_t devpath_size,
			     struct fw_error *e)
{
	struct loop_sys s = { .image_fd = image_fd };	/* legacy: loop-attach:EINVAL in tests */
	char self[64];

	s.cfg.fd = (uint32_t)image_fd;
	s.cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
	/* What losetup -a shows: the image's path, as far as it fits. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", image_fd);
	ssize_t n = readlink(self, (char *)s.cfg.info.lo_file_name, LO_NAME_SIZE - 1);
	if (n < 0)
		s.cfg.info.lo_file_name[0] = '\0';

	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (ctl < 0)
		return fw_fail_hint(e, errno, "open", "/dev/loop-control",
				    errno == ENOENT ? "is the loop module loaded?" : NULL);
	s.ctl = ctl;

	uint64_t now = fw_now_ns();
	enum loop_stage stage;
	int nr = -1;
	int fd = loop_claim(&loop_sys_ops, &s, now + LOOP_ATTACH_TIMEOUT_NS,
			    now ^ (uint64_t)getpid() << 32, &nr, &stage);
	snprintf(devpath, devpath_size, "/dev/loop%d", nr);
	if (fd >= 0)
		return fd;
	switch (stage) {
	case LOOP_FIND:
		return fw_fail(e, fd, "find a free loop device with", "/dev/loop-control");
	case LOOP_OPEN:
		return fw_fail(e, fd, "open loop device", devpath);
	case LOOP_ATTACH:
		break;
	}
	if (fd == -EBUSY)
		return fw_fail_hint(e, EBUSY, "attach loop device", devpath,
				    "other processes kept taking the free loop devices");
	return fw_fail(e, fd, "attach loop device", devpath);
}

/* The device the image's record names, if it still serves the image: then
 * its fd, else -1. Open, it stays attached (autoclear acts on its last
 * close), so what it serves now it serves until the mount holds it. */
static int loop_shared(int record_fd, const struct stat *img, char *devpath,
		       size_t devpath_size)
{
	char text[16];
	struct loop_info64 li;

	ssize_t n = pread(record_fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	int nr = loop_record_parse(text);
	if (nr < 0)
		return -1;
	int fd = sys_open(NULL, nr);
	if (fd < 0)
		return -1;
	if (ioctl(fd, LOOP_GET_STATUS64, &li) < 0 ||
	    !loop_serves(&li, (uint64_t)img->st_dev, (uint64_t)img->st_ino)) {
		close(fd);
		return -1;
	}
	snprintf(devpath, devpath_size, "/dev/loop%d", nr);
	return fd;
}

int loop_attach(int image_fd, char *devpath, size_t devpath_size, struct fw_error *e)
{
	char path[sizeof(FWRUN_LOOP_DIR) + 48];
	struct stat img;

	if (fstat(image_fd, &img) < 0)
		return fw_fail(e, errno, "stat", "the rootfs image");
	snprintf(path, sizeof(path), FWRUN_LOOP_DIR "/%ju:%ju", (uintmax_t)img.st_dev,
		 (uintmax_t)img.st_ino);
	/* Without its record (an odd /run/fwrun), the image still runs, on a
	 * device of its own. */
	_cleanup_close_ int record = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
					  O_NOCTTY, 0600);
	if (record < 0)
		return loop_attach_fresh(image_fd, devpath, devpath_size, e);
	/* Held while the device is looked up or attached: the instances of
	 * a herd on one image wait for the first one's attach, then share
	 * it; released with the fd. */
	while (flock(record, LOCK_EX) < 0)
		if (errno != EINTR)
			return loop_attach_fresh(image_fd, devpath, devpath_size, e);
	int fd = loop_shared(record, &img, devpath, devpath_size);
	if (fd >= 0)
		return fd;
	fd = loop_attach_fresh(image_fd, devpath, devpath_size, e);
	if (fd >= 0)
		(void)fw_lock_write(record, devpath + strlen("/dev/loop"));
	return fd;
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

	return rootfs_make_readonly(target, e);
}

int rootfs_make_readonly(const char *target, struct fw_error *e)
{
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
