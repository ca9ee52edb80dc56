/* SPDX-License-Identifier: MIT */
/* The pure halves of rootfs.c, overlay.c and state.c, no root needed:
 * rootfs detection on crafted headers (and on real images where the mkfs
 * tools are installed), probing files that are not images, overlay option
 * escaping and its exact overflow boundary, state paths, and the
 * classification of upper entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "overlay.h"
#include "rootfs.h"
#include "state.h"

/* ---- crafted headers ---- */

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* An ext superblock as mkfs.ext2 writes it (values read from a real one). */
static void craft_ext(unsigned char *buf, uint32_t compat, uint32_t incompat, uint32_t ro_compat,
		      uint32_t blocks, uint32_t log_bs)
{
	unsigned char *sb = buf + 1024;
	memset(buf, 0, ROOTFS_PROBE_SIZE);
	put32(sb + 0, 1024);		/* inodes */
	put32(sb + 4, blocks);		/* s_blocks_count_lo */
	put32(sb + 24, log_bs);		/* s_log_block_size */
	put16(sb + 56, 0xEF53);		/* s_magic */
	put32(sb + 76, 1);		/* s_rev_level: dynamic */
	put32(sb + 92, compat);
	put32(sb + 96, incompat);
	put32(sb + 100, ro_compat);
}

static void craft_squashfs(unsigned char *buf, uint64_t bytes_used)
{
	memset(buf, 0, ROOTFS_PROBE_SIZE);
	memcpy(buf, "hsqs", 4);
	put32(buf + 4, 4);		/* inodes */
	put32(buf + 12, 131072);	/* block_size */
	put16(buf + 20, 1);		/* compression: gzip */
	put16(buf + 22, 17);		/* block_log */
	put16(buf + 28, 4);		/* s_major */
	put64(buf + 40, bytes_used);
}

static void craft_erofs(unsigned char *buf, uint8_t blkszbits, uint32_t blocks)
{
	unsigned char *sb = buf + 1024;
	memset(buf, 0, ROOTFS_PROBE_SIZE);
	put32(sb, 0xE0F5E1E2);
	sb[12] = blkszbits;
	put32(sb + 36, blocks);
}

static void detect_ext2(void **state)
{
	unsigned char buf[ROOTFS_PROBE_SIZE];
	struct rootfs_info i;
	(void)state;

	craft_ext(buf, 0x38, 0x2, 0x3, 4096, 0);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT2);
	assert_false(i.ext_journal);
	assert_false(i.ext_needs_recovery);
	assert_int_equal(i.fs_size, 4096 * 1024);
	assert_string_equal(rootfs_kind_name(i.kind), "ext2");
}

static void detect_ext3_vs_ext4(void **state)
{
	unsigned char buf[ROOTFS_PROBE_SIZE];
	struct rootfs_info i;
	(void)state;

	/* ext3: a journal and nothing ext3 does not know. */
	craft_ext(buf, 0x3c, 0x2, 0x3, 2048, 2);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT3);
	assert_true(i.ext_journal);
	assert_int_equal(i.fs_size, 2048 * 4096);

	/* + extents|64bit|flex_bg (what mkfs.ext4 writes): ext4. */
	craft_ext(buf, 0x3c, 0x2c2, 0x46b, 2048, 2);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT4);
	assert_true(i.ext_journal);

	/* Any single ext4-only feature is enough: extents... */
	craft_ext(buf, 0x3c, 0x2 | 0x40, 0x3, 2048, 2);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT4);
	/* ...flex_bg... */
	craft_ext(buf, 0x3c, 0x2 | 0x200, 0x3, 2048, 2);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT4);
	/* ...or a read-only-compatible one (metadata_csum). */
	craft_ext(buf, 0x3c, 0x2, 0x3 | 0x400, 2048, 2);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT4);

	/* ext4 without a journal is still ext4, mounted without noload. */
	craft_ext(buf, 0x38, 0x2c2, 0x46b, 2048, 2);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT4);
	assert_false(i.ext_journal);

	/* meta_bg is ext3-era: still ext3. */
	craft_ext(buf, 0x3c, 0x2 | 0x10, 0x3, 2048, 2);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT3);
}

static void detect_ext_dirty_journal(void **state)
{
	unsigned char buf[ROOTFS_PROBE_SIZE];
	struct rootfs_info i;
	(void)state;

	craft_ext(buf, 0x3c, 0x2c2 | 0x4, 0x46b, 2048, 2);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT4);
	assert_true(i.ext_journal);
	assert_true(i.ext_needs_recovery);

	craft_ext(buf, 0x3c, 0x2 | 0x4, 0x3, 2048, 2);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT3);
	assert_true(i.ext_needs_recovery);
}

static void detect_ext_sizes(void **state)
{
	unsigned char buf[ROOTFS_PROBE_SIZE];
	struct rootfs_info i;
	(void)state;

	/* 64bit: the high word counts. */
	craft_ext(buf, 0x3c, 0x2c2, 0x46b, 5, 2);
	put32(buf + 1024 + 0x150, 1);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_true(i.fs_size == ((1ull << 32) + 5) * 4096);
	/* Without 64bit it is not read. */
	craft_ext(buf, 0x3c, 0x2, 0x3, 5, 2);
	put32(buf + 1024 + 0x150, 1);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_true(i.fs_size == 5 * 4096);
	/* 64 KiB blocks are the most ext allows. */
	craft_ext(buf, 0x38, 0x2, 0x3, 10, 6);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_true(i.fs_size == 10 * 65536);
	craft_ext(buf, 0x38, 0x2, 0x3, 10, 7);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
	/* 64 KiB blocks and a 64-bit count over 2^48: more than 64 bits of
	 * bytes, garbage; 2^48 - 1 of them still fits. */
	craft_ext(buf, 0x3c, 0x2c2, 0x46b, 0, 6);
	put32(buf + 1024 + 0x150, 0x10000);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
	craft_ext(buf, 0x3c, 0x2c2, 0x46b, 0xffffffff, 6);
	put32(buf + 1024 + 0x150, 0xffff);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_true(i.fs_size == ((1ull << 48) - 1) << 16);
	/* No blocks: garbage. */
	craft_ext(buf, 0x38, 0x2, 0x3, 0, 0);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
	/* An external journal device is not a file system. */
	craft_ext(buf, 0x0, 0x8, 0x0, 1000, 0);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
	assert_int_equal(i.kind, ROOTFS_UNKNOWN);
	/* Revision 0 has no feature words: whatever is there is ignored. */
	craft_ext(buf, 0x3c, 0x2c2, 0x46b, 100, 0);
	put32(buf + 1024 + 76, 0);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT2);
}

static void detect_ext_short(void **state)
{
	unsigned char buf[ROOTFS_PROBE_SIZE];
	struct rootfs_info i;
	(void)state;

	craft_ext(buf, 0x38, 0x2, 0x3, 4096, 0);
	/* The whole superblock (up to 2048) is needed, and enough. */
	assert_int_equal(rootfs_detect(buf, 2048, &i), 0);
	assert_int_equal(i.kind, ROOTFS_EXT2);
	assert_int_equal(rootfs_detect(buf, 2047, &i), -EINVAL);
	assert_int_equal(i.kind, ROOTFS_UNKNOWN);
	assert_int_equal(rootfs_detect(buf, 1024 + 58, &i), -EINVAL);
	assert_int_equal(rootfs_detect(buf, 0, &i), -EINVAL);
	/* A wrong magic by one bit. */
	buf[1024 + 56] ^= 1;
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
}

static void detect_squashfs(void **state)
{
	unsigned char buf[ROOTFS_PROBE_SIZE];
	struct rootfs_info i;
	(void)state;

	craft_squashfs(buf, 278);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_SQUASHFS);
	assert_int_equal(i.fs_size, 278);
	assert_false(i.ext_journal);
	assert_string_equal(rootfs_kind_name(i.kind), "squashfs");
	/* 96 bytes of superblock are enough, 95 are not. */
	assert_int_equal(rootfs_detect(buf, 96, &i), 0);
	assert_int_equal(rootfs_detect(buf, 95, &i), -EINVAL);
	assert_int_equal(rootfs_detect(buf, 4, &i), -EINVAL);
	/* Large images: all 64 bits of bytes_used. */
	craft_squashfs(buf, 5ull << 32);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_true(i.fs_size == 5ull << 32);
	/* Squashfs 3 (not mountable), a block size that disagrees with its
	 * log, the big-endian magic of squashfs 3: not recognised. */
	craft_squashfs(buf, 278);
	put16(buf + 28, 3);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
	craft_squashfs(buf, 278);
	put32(buf + 12, 65536);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
	craft_squashfs(buf, 278);
	memcpy(buf, "sqsh", 4);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
}

static void detect_erofs(void **state)
{
	unsigned char buf[ROOTFS_PROBE_SIZE];
	struct rootfs_info i;
	(void)state;

	craft_erofs(buf, 12, 3);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.kind, ROOTFS_EROFS);
	assert_int_equal(i.fs_size, 3 * 4096);
	assert_string_equal(rootfs_kind_name(i.kind), "erofs");
	craft_erofs(buf, 9, 3);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), 0);
	assert_int_equal(i.fs_size, 3 * 512);
	assert_int_equal(rootfs_detect(buf, 1024 + 128, &i), 0);
	assert_int_equal(rootfs_detect(buf, 1024 + 127, &i), -EINVAL);
	craft_erofs(buf, 8, 3);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
	craft_erofs(buf, 17, 3);
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
}

static void detect_garbage(void **state)
{
	unsigned char buf[ROOTFS_PROBE_SIZE];
	struct rootfs_info i;
	(void)state;

	memset(buf, 0, sizeof(buf));
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
	assert_int_equal(i.kind, ROOTFS_UNKNOWN);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
	assert_int_equal(rootfs_detect(NULL, 0, &i), -EINVAL);
	memcpy(buf, "#!/bin/sh\necho not an image\n", 28);
	assert_int_equal(rootfs_detect(buf, 28, &i), -EINVAL);

	/* A reproducible pseudo-random stream is not taken for anything. */
	uint32_t x = 12345;
	for (int round = 0; round < 200; round++) {
		for (size_t k = 0; k < sizeof(buf); k++) {
			x = x * 1103515245u + 12345u;
			buf[k] = (unsigned char)(x >> 16);
		}
		assert_int_equal(rootfs_detect(buf, sizeof(buf), &i), -EINVAL);
		assert_int_equal(i.kind, ROOTFS_UNKNOWN);
		assert_int_equal(i.fs_size, 0);
	}
}

static void kind_names(void **state)
{
	(void)state;
	assert_string_equal(rootfs_kind_name(ROOTFS_UNKNOWN), "unknown");
	assert_string_equal(rootfs_kind_name(ROOTFS_DIR), "directory");
	assert_string_equal(rootfs_kind_name(ROOTFS_EXT3), "ext3");
	assert_string_equal(rootfs_kind_name(ROOTFS_EXT4), "ext4");
	assert_string_equal(rootfs_kind_name((enum rootfs_kind)99), "unknown");
}

/* ---- real images (mkfs tools need no root) ---- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/fwt.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static bool have(const char *tool)
{
	return sh("PATH=$PATH:/sbin:/usr/sbin command -v %s >/dev/null 2>&1", tool) == 0;
}

static void probe_path(const char *path, struct rootfs_info *i, int *fd, struct fw_error *e)
{
	memset(e, 0, sizeof(*e));
	*fd = rootfs_probe(path, i, e);
}

static void detect_real_images(void **state)
{
	static const struct {
		const char *tool, *cmd, *file;
		enum rootfs_kind kind;
		bool journal;
	} images[] = {
		{ "mkfs.ext2", "mkfs.ext2 -q -d %s/tree %s/i.ext2 4M >/dev/null", "i.ext2", ROOTFS_EXT2, false },
		{ "mkfs.ext3", "mkfs.ext3 -q -d %s/tree %s/i.ext3 8M >/dev/null", "i.ext3", ROOTFS_EXT3, true },
		{ "mkfs.ext4", "mkfs.ext4 -q -d %s/tree %s/i.ext4 8M >/dev/null", "i.ext4", ROOTFS_EXT4, true },
		{ "mkfs.ext4", "mkfs.ext4 -q -O ^has_journal -d %s/tree %s/i.nj4 8M >/dev/null", "i.nj4",
		  ROOTFS_EXT4, false },
		{ "mksquashfs", "mksquashfs %s/tree %s/i.sqfs -quiet -noappend >/dev/null",
		  "i.sqfs", ROOTFS_SQUASHFS, false },
		{ "mkfs.erofs", "mkfs.erofs --quiet %s/i.erofs %s/tree >/dev/null", "i.erofs",
		  ROOTFS_EROFS, false },
	};
	char path[256];
	int tested = 0;
	(void)state;

	assert_int_equal(sh("mkdir -p %s/tree/etc && echo fw > %s/tree/etc/hostname", tmpdir,
			    tmpdir), 0);
	for (size_t k = 0; k < FW_ARRAY_SIZE(images); k++) {
		if (!have(images[k].tool)) {
			print_message("no %s: %s not checked\n", images[k].tool, images[k].file);
			continue;
		}
		char cmd[1024];
		snprintf(cmd, sizeof(cmd), images[k].cmd, tmpdir, tmpdir);
		assert_int_equal(sh("PATH=\"$PATH:/sbin:/usr/sbin\" %s", cmd), 0);
		snprintf(path, sizeof(path), "%s/%s", tmpdir, images[k].file);

		struct rootfs_info i;
		struct fw_error e;
		struct stat st;
		int fd;
		probe_path(path, &i, &fd, &e);
		assert_true(fd >= 0);
		assert_int_equal(i.kind, images[k].kind);
		assert_int_equal(i.ext_journal, images[k].journal);
		assert_false(i.ext_needs_recovery);
		assert_int_equal(stat(path, &st), 0);
		assert_true(i.fs_size > 0 && i.fs_size <= (uint64_t)st.st_size);
		assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);

		/* Cut the image short of what its superblock says. */
		if (i.fs_size > 4096) {
			assert_int_equal(truncate(path, (off_t)(i.fs_size - 1)), 0);
			probe_path(path, &i, &fd, &e);
			assert_int_equal(fd, -EINVAL);
			assert_non_null(strstr(e.hint, "truncated"));
			assert_non_null(strstr(e.hint, rootfs_kind_name(images[k].kind)));
		}
		tested++;
	}
	if (!tested)
		skip();
}

/* ---- rootfs_probe on things that are not images ---- */

static void probe_not_images(void **state)
{
	char path[256];
	unsigned char buf[ROOTFS_PROBE_SIZE];
	struct rootfs_info i;
	struct fw_error e;
	int fd;
	(void)state;

	snprintf(path, sizeof(path), "%s/missing.img", tmpdir);
	probe_path(path, &i, &fd, &e);
	assert_int_equal(fd, -ENOENT);
	assert_string_equal(e.subject, path);

	/* A directory: returned as a directory fd. */
	probe_path(tmpdir, &i, &fd, &e);
	assert_true(fd >= 0);
	assert_int_equal(i.kind, ROOTFS_DIR);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);

	/* Empty. */
	snprintf(path, sizeof(path), "%s/empty.img", tmpdir);
	assert_int_equal(sh("touch %s", path), 0);
	probe_path(path, &i, &fd, &e);
	assert_int_equal(fd, -EINVAL);
	assert_int_equal(e.err, EINVAL);
	assert_string_equal(e.subject, path);
	assert_non_null(strstr(e.hint, "empty"));

	/* Not a file system. */
	snprintf(path, sizeof(path), "%s/garbage.img", tmpdir);
	assert_int_equal(sh("head -c 65536 /dev/urandom > %s", path), 0);
	probe_path(path, &i, &fd, &e);
	assert_int_equal(fd, -EINVAL);
	assert_string_equal(e.hint, "not an ext2/3/4, squashfs or erofs image");

	/* Short of its superblock's claim: a crafted 8 MiB ext4 in 4 KiB. */
	snprintf(path, sizeof(path), "%s/short.img", tmpdir);
	craft_ext(buf, 0x3c, 0x2c2, 0x46b, 2048, 2);
	int wfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(wfd >= 0);
	assert_int_equal(write(wfd, buf, sizeof(buf)), sizeof(buf));
	close(wfd);
	probe_path(path, &i, &fd, &e);
	assert_int_equal(fd, -EINVAL);
	assert_string_equal(e.hint, "truncated ext4 image: its superblock says 8388608 bytes, "
				    "the file has 4096");
	/* Grown to exactly its size it is fine. */
	assert_int_equal(truncate(path, 8388608), 0);
	probe_path(path, &i, &fd, &e);
	assert_true(fd >= 0);
	assert_int_equal(i.kind, ROOTFS_EXT4);
	close(fd);

	/* A FIFO: refused, and the probe does not hang on it (alarm). */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	probe_path(path, &i, &fd, &e);
	alarm(0);
	assert_int_equal(fd, -EINVAL);
	assert_non_null(strstr(e.hint, "a FIFO"));

	/* A character device. */
	probe_path("/dev/null", &i, &fd, &e);
	assert_int_equal(fd, -EINVAL);
	assert_non_null(strstr(e.hint, "a character device"));
	assert_non_null(strstr(e.hint, "or a directory"));

	/* A socket. */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", tmpdir);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	probe_path(sa.sun_path, &i, &fd, &e);
	close(s);
	assert_int_equal(fd, -EINVAL);
	assert_non_null(strstr(e.hint, "a socket"));
}

/* ---- escaping and options ---- */

static void escape_basic(void **state)
{
	char out[64];
	(void)state;

	assert_int_equal(overlay_escape("/path :,\\", out, sizeof(out)), 12);
	assert_string_equal(out, "/path \\:\\,\\\\");
	assert_int_equal(overlay_escape("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(overlay_escape("/plain/dir with spaces", out, sizeof(out)), 22);
	assert_string_equal(out, "/plain/dir with spaces");
	assert_int_equal(overlay_escape(",,::\\\\", out, sizeof(out)), 12);
	assert_string_equal(out, "\\,\\,\\:\\:\\\\\\\\");
}

static void escape_boundary(void **state)
{
	char out[16];
	(void)state;

	/* "a,b" -> "a\,b": 4 bytes and the NUL. */
	memset(out, 'X', sizeof(out));
	assert_int_equal(overlay_escape("a,b", out, 5), 4);
	assert_string_equal(out, "a\\,b");
	assert_int_equal(overlay_escape("a,b", out, 4), -ENAMETOOLONG);
	assert_int_equal(overlay_escape("a,b", out, 3), -ENAMETOOLONG);
	assert_int_equal(overlay_escape("a,b", out, 0), -ENAMETOOLONG);
	assert_int_equal(overlay_escape("", out, 1), 0);
	assert_int_equal(overlay_escape("", out, 0), -ENAMETOOLONG);
	/* The escape and its character are never split. */
	memset(out, 'X', sizeof(out));
	assert_int_equal(overlay_escape("ab,", out, 4), -ENAMETOOLONG);
	assert_int_equal(out[4], 'X');	/* never wrote past out_size */
}

static void options_basic(void **state)
{
	char buf[256];
	(void)state;

	int n = overlay_options(buf, sizeof(buf), "/run/fwrun/mnt/lower",
				"/var/lib/fwrun/a b,c:d\\e/upper", "/var/lib/fwrun/a b,c:d\\e/work");
	assert_string_equal(buf, "lowerdir=/run/fwrun/mnt/lower,"
				 "upperdir=/var/lib/fwrun/a b\\,c\\:d\\\\e/upper,"
				 "workdir=/var/lib/fwrun/a b\\,c\\:d\\\\e/work,volatile");
	assert_int_equal(n, (int)strlen(buf));

	/* Read-only overlay: lower only. */
	assert_int_equal(overlay_options(buf, sizeof(buf), "/l:1", NULL, NULL), 14);
	assert_string_equal(buf, "lowerdir=/l\\:1");
	/* Upper without work (or the reverse), or no lower: refused. */
	assert_int_equal(overlay_options(buf, sizeof(buf), "/l", "/u", NULL), -EINVAL);
	assert_int_equal(overlay_options(buf, sizeof(buf), "/l", NULL, "/w"), -EINVAL);
	assert_int_equal(overlay_options(buf, sizeof(buf), "", "/u", "/w"), -EINVAL);
	assert_int_equal(overlay_options(buf, sizeof(buf), NULL, "/u", "/w"), -EINVAL);
}

static void options_boundary(void **state)
{
	char buf[128];
	const char *want = "lowerdir=/l,upperdir=/u\\,x,workdir=/w,volatile";
	int len = (int)strlen(want);
	(void)state;

	/* Exactly len + 1 fits, len does not, at every cut point below. */
	assert_int_equal(overlay_options(buf, (size_t)len + 1, "/l", "/u,x", "/w"), len);
	assert_string_equal(buf, want);
	for (int size = 0; size <= len; size++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(overlay_options(buf, (size_t)size, "/l", "/u,x", "/w"),
				 -ENAMETOOLONG);
		for (int k = size; k < (int)sizeof(buf); k++)
			assert_int_equal(buf[k], 'X');	/* nothing past size */
		if (size > 0)
			assert_string_equal(buf, "");	/* no half-built options */
	}

	/* A path of PATH_MAX escaped characters does not fit a page. */
	char big[PATH_MAX];
	memset(big, ',', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char page[4096];
	assert_int_equal(overlay_options(page, sizeof(page), big, "/u", "/w"), -ENAMETOOLONG);
}

static void same_boot(void **state)
{
	const char *boot = "0b7e5a4c-1d2e-4f60-8a9b-0c1d2e3f4a5b";
	(void)state;

	assert_true(state_same_boot("4242 0b7e5a4c-1d2e-4f60-8a9b-0c1d2e3f4a5b\n", boot));
	assert_true(state_same_boot("4242 0b7e5a4c-1d2e-4f60-8a9b-0c1d2e3f4a5b", boot));
	/* Another boot, a longer id, a record from before boot ids, nothing. */
	assert_false(state_same_boot("4242 0b7e5a4c-1d2e-4f60-8a9b-0c1d2e3f4a5c\n", boot));
	assert_false(state_same_boot("4242 0b7e5a4c-1d2e-4f60-8a9b-0c1d2e3f4a5b7\n", boot));
	assert_false(state_same_boot("4242\n", boot));
	assert_false(state_same_boot("", boot));
	/* An unreadable boot id matches no record, not even an empty one. */
	assert_false(state_same_boot("4242 \n", ""));
	assert_false(state_same_boot("4242 ", ""));
}

/* ---- state paths ---- */

static void paths_default(void **state)
{
	struct state_paths p;
	(void)state;

	assert_int_equal(state_paths(&p, NULL, "d1"), 0);
	assert_string_equal(p.dir, "/var/lib/fwrun/d1");
	assert_string_equal(p.upper, "/var/lib/fwrun/d1/upper");
	assert_string_equal(p.work, "/var/lib/fwrun/d1/work");
	assert_string_equal(p.lock, "/var/lib/fwrun/d1/lock");
	assert_string_equal(p.rootfs, "/var/lib/fwrun/d1/rootfs");

	assert_int_equal(state_paths(&p, NULL, NULL), -EINVAL);
	assert_int_equal(state_paths(&p, NULL, ""), -EINVAL);
	assert_int_equal(state_paths(&p, NULL, "a/b"), -EINVAL);
	assert_int_equal(state_paths(&p, NULL, ".."), -EINVAL);
	assert_int_equal(state_paths(&p, NULL, "."), -EINVAL);
}

static void paths_state_dir(void **state)
{
	struct state_paths p;
	(void)state;

	/* --state-dir wins over the name. */
	assert_int_equal(state_paths(&p, "/tmp/s, :\\x", "ignored"), 0);
	assert_string_equal(p.dir, "/tmp/s, :\\x");
	assert_string_equal(p.upper, "/tmp/s, :\\x/upper");
	assert_int_equal(state_paths(&p, "rel/dir//", NULL), 0);
	assert_string_equal(p.dir, "rel/dir");
	assert_string_equal(p.work, "rel/dir/work");
	assert_int_equal(state_paths(&p, "/", NULL), 0);
	assert_string_equal(p.dir, "/");
	assert_string_equal(p.upper, "/upper");
	assert_int_equal(state_paths(&p, "", "x"), -EINVAL);
}

static void paths_too_long(void **state)
{
	struct state_paths p;
	char dir[PATH_MAX + 8];
	(void)state;

	/* The longest member is dir + "/rootfs" (7 bytes): it must fit with
	 * its NUL in PATH_MAX. */
	size_t fit = PATH_MAX - 1 - strlen("/rootfs");
	memset(dir, 'a', sizeof(dir));
	dir[0] = '/';
	dir[fit] = '\0';
	assert_int_equal(state_paths(&p, dir, NULL), 0);
	assert_int_equal(strlen(p.rootfs), PATH_MAX - 1);
	dir[fit] = 'a';
	dir[fit + 1] = '\0';
	assert_int_equal(state_paths(&p, dir, NULL), -ENAMETOOLONG);
	assert_string_equal(p.upper, "");	/* nothing half-built */
	dir[fit + 1] = 'a';
	dir[PATH_MAX + 1] = '\0';
	assert_int_equal(state_paths(&p, dir, NULL), -ENAMETOOLONG);

	/* A name that makes the default path too long. */
	char name[PATH_MAX];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(state_paths(&p, NULL, name), -ENAMETOOLONG);
}

/* ---- diff ---- */

static void classify_all(void **state)
{
	const struct {
		mode_t mode;
		dev_t rdev;
		bool opaque, in_lower;
		enum diff_change want;
	} cases[] = {
		/* regular files, symlinks, FIFOs, real devices: A or M */
		{ S_IFREG | 0644, 0, false, false, DIFF_ADDED },
		{ S_IFREG | 0644, 0, false, true, DIFF_MODIFIED },
		{ S_IFREG | 0644, 0, true, false, DIFF_ADDED },	/* opaque means nothing on files */
		{ S_IFREG | 0644, 0, true, true, DIFF_MODIFIED },
		{ S_IFLNK | 0777, 0, false, false, DIFF_ADDED },
		{ S_IFLNK | 0777, 0, false, true, DIFF_MODIFIED },
		{ S_IFIFO | 0600, 0, false, false, DIFF_ADDED },
		{ S_IFIFO | 0600, 0, false, true, DIFF_MODIFIED },
		{ S_IFSOCK | 0600, 0, false, true, DIFF_MODIFIED },
		{ S_IFBLK | 0600, 0, false, true, DIFF_MODIFIED },
		/* a char device that is not 0/0 is a file like any other */
		{ S_IFCHR | 0666, makedev(1, 3), false, false, DIFF_ADDED },
		{ S_IFCHR | 0666, makedev(1, 3), false, true, DIFF_MODIFIED },
		{ S_IFCHR | 0666, makedev(0, 1), false, true, DIFF_MODIFIED },
		{ S_IFCHR | 0666, makedev(1, 0), false, true, DIFF_MODIFIED },
		/* whiteouts: deleted when they hide something */
		{ S_IFCHR | 0000, makedev(0, 0), false, true, DIFF_DELETED },
		{ S_IFCHR | 0000, makedev(0, 0), true, true, DIFF_DELETED },
		{ S_IFCHR | 0000, makedev(0, 0), false, false, DIFF_NONE },
		{ S_IFCHR | 0000, makedev(0, 0), true, false, DIFF_NONE },
		/* directories */
		{ S_IFDIR | 0755, 0, false, false, DIFF_ADDED },
		{ S_IFDIR | 0755, 0, true, false, DIFF_ADDED },	/* new and opaque: still new */
		{ S_IFDIR | 0755, 0, false, true, DIFF_NONE },	/* only holds changes */
		{ S_IFDIR | 0755, 0, true, true, DIFF_OPAQUE },	/* deleted and made anew */
	};
	(void)state;

	for (size_t k = 0; k < FW_ARRAY_SIZE(cases); k++) {
		enum diff_change got = diff_classify(cases[k].mode, cases[k].rdev,
						     cases[k].opaque, cases[k].in_lower);
		if (got != cases[k].want)
			fail_msg("case %zu: mode %o rdev %u:%u opaque %d in_lower %d: got %d want %d",
				 k, (unsigned)cases[k].mode, major(cases[k].rdev),
				 minor(cases[k].rdev), cases[k].opaque, cases[k].in_lower, got,
				 cases[k].want);
	}
}

static void letters(void **state)
{
	(void)state;
	assert_int_equal(diff_letter(DIFF_ADDED), 'A');
	assert_int_equal(diff_letter(DIFF_MODIFIED), 'M');
	assert_int_equal(diff_letter(DIFF_OPAQUE), 'M');
	assert_int_equal(diff_letter(DIFF_DELETED), 'D');
	assert_int_equal(diff_letter(DIFF_NONE), '?');
}

static int count_changes(enum diff_change change, const char *path, void *userdata)
{
	(void)change;
	(void)path;
	(*(int *)userdata)++;
	return 0;
}

/* An upper dir without changes lists nothing (and, under UBSan, must not
 * hand qsort a NULL array: found by fuzz/fuzz_diff.c). No root needed. */
static void diff_walk_empty(void **state)
{
	char upper[128], lower[128];
	struct fw_error e = { 0 };
	int n = 0;
	(void)state;

	snprintf(upper, sizeof(upper), "%s/empty-upper", tmpdir);
	snprintf(lower, sizeof(lower), "%s/empty-lower", tmpdir);
	assert_int_equal(mkdir(upper, 0755), 0);
	assert_int_equal(mkdir(lower, 0755), 0);
	assert_int_equal(diff_walk(upper, lower, count_changes, &n, &e), 0);
	assert_int_equal(diff_walk(upper, NULL, count_changes, &n, &e), 0);
	assert_int_equal(n, 0);
}

/* The pid in an instance's lock file, as take_lock() writes it (with the
 * boot id of a state dir's lock after it); anything else is no pid. */
static void lock_pid(void **state)
{
	(void)state;
	assert_int_equal(state_lock_pid("4242\n"), 4242);
	assert_int_equal(state_lock_pid("4242"), 4242);
	assert_int_equal(state_lock_pid("77 3f2c-boot\n"), 77);
	assert_int_equal(state_lock_pid("4194304\n"), 4194304);
	assert_int_equal(state_lock_pid(""), -1);		/* made, not written yet */
	assert_int_equal(state_lock_pid("\n"), -1);
	assert_int_equal(state_lock_pid("0\n"), -1);
	assert_int_equal(state_lock_pid("-1\n"), -1);
	assert_int_equal(state_lock_pid("12x\n"), -1);
	assert_int_equal(state_lock_pid("99999999999999\n"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(detect_ext2),
		cmocka_unit_test(detect_ext3_vs_ext4),
		cmocka_unit_test(detect_ext_dirty_journal),
		cmocka_unit_test(detect_ext_sizes),
		cmocka_unit_test(detect_ext_short),
		cmocka_unit_test(detect_squashfs),
		cmocka_unit_test(detect_erofs),
		cmocka_unit_test(detect_garbage),
		cmocka_unit_test(kind_names),
		cmocka_unit_test(detect_real_images),
		cmocka_unit_test(probe_not_images),
		cmocka_unit_test(escape_basic),
		cmocka_unit_test(escape_boundary),
		cmocka_unit_test(options_basic),
		cmocka_unit_test(options_boundary),
		cmocka_unit_test(same_boot),
		cmocka_unit_test(lock_pid),
		cmocka_unit_test(paths_default),
		cmocka_unit_test(paths_state_dir),
		cmocka_unit_test(paths_too_long),
		cmocka_unit_test(classify_all),
		cmocka_unit_test(letters),
		cmocka_unit_test(diff_walk_empty),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
