/* SPDX-License-Identifier: MIT */
/* The firmware's rootfs: what it is, how it is attached and mounted
 * read-only.
 *
 * Pure half (no root, unit-tested): rootfs_kind_name(), rootfs_detect().
 * Applying half: rootfs_probe(), loop_attach(), rootfs_mount(). */
#ifndef FWRUN_ROOTFS_H
#define FWRUN_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum rootfs_kind {
	ROOTFS_UNKNOWN = 0,
	ROOTFS_DIR,
	ROOTFS_EXT2,
	ROOTFS_EXT3,
	ROOTFS_EXT4,
	ROOTFS_SQUASHFS,
	ROOTFS_EROFS,
};

/* Bytes rootfs_detect() wants to see (it copes with fewer: a short image is
 * simply not recognised). */
#define ROOTFS_PROBE_SIZE 4096

/* "ext2", "ext3", "ext4", "squashfs", "erofs", "directory", "unknown": also
 * the fs type given to mount(2) for images (ext2/ext3 fall back to "ext4"
 * where only the ext4 driver is built). */
const char *rootfs_kind_name(enum rootfs_kind kind);

struct rootfs_info {
	enum rootfs_kind kind;
	bool ext_journal;	/* ext3/4 with a journal: mounted with noload */
	bool ext_needs_recovery; /* dirty journal: never replayed (read-only) */
	uint64_t fs_size;	/* bytes the superblock claims, 0 if unknown */
};

/* Recognise a file system by content (magic numbers, ext feature flags).
 * Returns 0 and fills *info, or -EINVAL (unknown content, info->kind =
 * ROOTFS_UNKNOWN). */
int rootfs_detect(const unsigned char *buf, size_t len, struct rootfs_info *info);

/* Open --rootfs (O_RDONLY|O_CLOEXEC|O_NOCTTY, refusing FIFOs/devices/sockets
 * without blocking on them), tell a directory from an image, read and detect.
 * Returns the open fd (O_PATH-free: usable by loop_attach or as a dir fd). */
int rootfs_probe(const char *path, struct rootfs_info *info, struct fw_error *e);

/* Attach an image fd read-only with autoclear to a free loop device:
 * LOOP_CONFIGURE first, LOOP_SET_FD + LOOP_SET_STATUS64 where it is missing,
 * a bounded retry when another process takes the free device first.
 * Returns the loop device fd (O_CLOEXEC) and its path in devpath. The device
 * is detached by the kernel when that fd and the mount are gone. */
int loop_attach(int image_fd, char *devpath, size_t devpath_size, struct fw_error *e);

/* Mount the rootfs read-only on target: an image through a fresh loop device
 * (ext3/4 with "noload", never replaying a journal), a directory as a
 * read-only bind mount. image_fd comes from rootfs_probe(). */
int rootfs_mount(const char *source_path, int image_fd, const struct rootfs_info *info,
		 const char *target, struct fw_error *e);

/* Make the mount on target and every mount below it read-only:
 * mount_setattr(AT_RECURSIVE), or where it is missing (before 5.12) a
 * remount of each, found in /proc/self/mountinfo. */
int rootfs_make_readonly(const char *target, struct fw_error *e);

#endif
