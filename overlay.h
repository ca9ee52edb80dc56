/* SPDX-License-Identifier: MIT */
/* The firmware's file system: what the rootfs is, how it is attached and
 * mounted read-only, the overlay on top of it, the instance's state directory
 * (upper/, work/, lock) and the diff of a run.
 *
 * Pure half (no root, unit-tested): rootfs_detect(), overlay_escape(),
 * overlay_options(), state_paths(), diff_classify().
 * Applying half: rootfs_probe(), loop_attach(), rootfs_mount(), overlay_mount(),
 * state_prepare(), state_lock(), state_reset(), diff_walk(). */
#ifndef FWRUN_OVERLAY_H
#define FWRUN_OVERLAY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rundir.h"
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

/* Escape a path for overlayfs mount options: ',' ':' '\\' are preceded by a
 * backslash. Returns the length written, or -ENAMETOOLONG. */
int overlay_escape(const char *path, char *out, size_t out_size);

/* "lowerdir=<lower>,upperdir=<upper>,workdir=<work>,volatile" with every
 * path escaped ("lowerdir=<lower>" alone without upper and work). Returns the
 * length, or -ENAMETOOLONG.
 *
 * volatile: at unmount the kernel does not sync the upper dir's whole file
 * system (the largest cost of a run with a state dir after the process
 * creations); the run's writes reach the disk with the host's writeback, as
 * any program's do. The kernel then leaves work/work/incompat/volatile and
 * refuses the next mount while it is there: state_lock() handles it. */
int overlay_options(char *buf, size_t size, const char *lower, const char *upper,
		    const char *work);

int overlay_mount(const char *lower, const char *upper, const char *work,
		  const char *target, struct fw_error *e);

/* The instance's state directory. */
struct state_paths {
	char dir[PATH_MAX];	/* --state-dir or /var/lib/fwrun/NAME */
	char upper[PATH_MAX];	/* dir/upper */
	char work[PATH_MAX];	/* dir/work */
	char lock[PATH_MAX];	/* dir/lock */
	char rootfs[PATH_MAX];	/* dir/rootfs: the image last run here, for --diff */
};

#define FWRUN_STATE_ROOT "/var/lib/fwrun"

/* Build the paths; state_dir may be NULL (then FWRUN_STATE_ROOT/name).
 * Returns 0 or -ENAMETOOLONG. */
int state_paths(struct state_paths *p, const char *state_dir, const char *name);

/* Create dir (0700, parents as needed), upper/ and work/; refuse a state dir
 * or upper/work that is a symlink or not a directory. */
int state_prepare(const struct state_paths *p, struct fw_error *e);

/* Take the instance lock (flock on dir/lock, O_NOFOLLOW|O_CLOEXEC; our pid
 * and the host's boot id written in it). Returns the lock fd to keep open for
 * the run; -EBUSY when another fwrun holds it (e->subject names the state
 * dir, e->hint its pid).
 * With the lock held, it removes the kernel's scratch dir work/work and in
 * it the last run's volatile marker (see overlay_options()). Removing the
 * marker is safe when that run was in this boot:
 * nothing the host has not written yet can have been lost. *earlier_boot is
 * set when the marker was left in an earlier boot: if the host crashed then,
 * the end of that run's writes may be missing; the caller says so. */
int state_lock(const struct state_paths *p, bool *earlier_boot, struct fw_error *e);

/* Remove work/work and the volatile marker in it that a run's overlay left
 * (a restart within this run: nothing can have been lost). Call it with the
 * lock held. */
int state_clear_workdir(const struct state_paths *p, struct fw_error *e);

/* The image the last run here used, as recorded in dir/rootfs (an
 * absolute path) for --diff. 0, or -errno (-ENODATA when empty). */
int state_read_rootfs(const struct state_paths *p, char *buf, size_t size);

/* The last run's record in a lock ("PID BOOT_ID\n"): is it from boot? */
bool state_same_boot(const char *record, const char *boot);

/* One instance name runs once at a time, whatever its state dir (and with
 * --ephemeral too): a lock per name in FWRUN_INSTANCE_DIR, held for the run.
 * Returns the fd, or -EBUSY naming the holder's pid in the hint. The caller
 * has made /run/fwrun. */
int instance_lock(const char *name, struct fw_error *e);
/* Release it and remove its file: a run leaves nothing in /run/fwrun. */
void instance_unlock(const char *name, int fd);

/* Empty upper/ and work/ (never following symlinks, not crossing mounts:
 * a mount found below them is an error, EBUSY). Call it with the lock held.
 * A missing upper/ or work/ is already empty. */
int state_reset(const struct state_paths *p, struct fw_error *e);

/* --diff */
enum diff_change {
	DIFF_NONE = 0,		/* an upper dir that only holds changes below it */
	DIFF_ADDED,
	DIFF_MODIFIED,
	DIFF_DELETED,		/* whiteout, or a lower entry hidden by an opaque dir */
	DIFF_OPAQUE,		/* a dir deleted and made anew: listed as modified,
				 * its lower children not in upper as deleted */
};

/* Classify one upper entry. A whiteout is a char device 0/0 (diff_walk()
 * passes an empty file carrying the trusted.overlay.whiteout xattr as one);
 * over nothing in lower it changes nothing (DIFF_NONE). opaque:
 * trusted.overlay.opaque = "y"; in_lower: the same path exists in lower. */
enum diff_change diff_classify(mode_t mode, dev_t rdev, bool opaque, bool in_lower);

/* Walk upper (physical, one file system) and call cb for every change,
 * with paths relative to the firmware's root ("/etc/passwd"), sorted by
 * strcmp. cb gets DIFF_ADDED, DIFF_MODIFIED (also for opaque dirs and a
 * chmod/chown of a lower dir) or DIFF_DELETED; a nonzero return stops the
 * walk (a negative one is returned). lower may be NULL (then every
 * non-whiteout entry counts as added, every whiteout as deleted). */
typedef int (*diff_cb)(enum diff_change change, const char *path, void *userdata);
int diff_walk(const char *upper, const char *lower, diff_cb cb, void *userdata,
	      struct fw_error *e);

/* 'A', 'M', 'D' */
char diff_letter(enum diff_change change);

#endif
