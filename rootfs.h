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

/* A loop device serves an image (the file of st_dev dev, st_ino ino) when
 * attached to all of it, read-only, with autoclear. */
struct loop_info64;
bool loop_serves(const struct loop_info64 *li, uint64_t dev, uint64_t ino);

/* A record of /run/fwrun/loop: the index of the loop device in decimal, a
 * newline allowed. The index, or -1. */
int loop_record_parse(const char *text);

/* The loop device of an image, shared by its instances: the one the
 * image's record in /run/fwrun/loop names if it still serves the image
 * (loop_serves), else a fresh one, which the record then names. The
 * record is flock'd meanwhile, so a herd on one image waits for one
 * attach and shares it; a mount of the device finds the superblock the
 * others mounted. Without a record (it cannot be opened), a fresh device.
 *
 * A fresh device: attach an image fd read-only with autoclear to a free one:
 * LOOP_CONFIGURE first, LOOP_SET_FD + LOOP_SET_STATUS64 where it is missing.
 * Others attaching at the same time never make it fail: it tries again
 * (loop_claim()) until LOOP_ATTACH_TIMEOUT_NS has passed.
 * Returns the loop device fd (O_CLOEXEC) and its path in devpath. The device
 * is detached by the kernel when that fd and the mount are gone. */
int loop_attach(int image_fd, char *devpath, size_t devpath_size, struct fw_error *e);

/* How long loop_attach() goes on while others take the devices it tries:
 * part of what bounds a start (fwrun(8)). With 500 runs started at once on
 * 2 CPUs the slowest took 7 s to attach and mount (bench/herd): a busy host
 * must not fail a start, a stuck one is reported. */
#define LOOP_ATTACH_TIMEOUT_NS (30ULL * 1000 * 1000 * 1000)

/* The calls loop_attach() makes on the loop devices, in a table so that a
 * unit test can put a control device in their place on which every attach
 * races. Each returns what the call does, -errno on failure. */
struct loop_ops {
	int (*get_free)(void *ctx);	/* LOOP_CTL_GET_FREE: the lowest free index */
	int (*add)(void *ctx, int nr);	/* LOOP_CTL_ADD: nr; -EEXIST if there */
	int (*open)(void *ctx, int nr);	/* /dev/loopNR read-only: an fd */
	int (*configure)(void *ctx, int fd);	/* attach the image: 0; -EBUSY
						 * when another took it first */
	void (*close)(void *ctx, int fd);
	uint64_t (*now_ns)(void *ctx);	/* CLOCK_MONOTONIC */
	void (*sleep_ns)(void *ctx, uint64_t ns);
};

/* Where loop_claim() failed: finding, opening or attaching a device. */
enum loop_stage { LOOP_FIND, LOOP_OPEN, LOOP_ATTACH };

/* Find a free loop device and attach the image to it (ops->configure).
 * The lowest free one first (LOOP_CTL_GET_FREE, which every racer is
 * handed at once); having lost it to another, one at random among the
 * next few above it, made with LOOP_CTL_ADD where missing, over a range
 * that doubles with each loss, so that racers spread over devices of their
 * own. Where no device can be added, it asks for the lowest free one again
 * after a random pause. A device taken first (EBUSY) or gone (ENOENT,
 * ENXIO) is no failure until deadline_ns; any other error is. seed spreads
 * the random choices. Returns the device's fd (its index in *nr), or
 * -errno with *stage saying where it failed (and *nr the device tried). */
int loop_claim(const struct loop_ops *ops, void *ctx, uint64_t deadline_ns, uint64_t seed,
	       int *nr, enum loop_stage *stage);


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
