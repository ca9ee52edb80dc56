/* SPDX-License-Identifier: MIT */
/* The instance's state: its directory (upper/, work/, lock, and the record
 * of the rootfs last run there), the locks that let one run use it at a
 * time, --reset, and the diff of the runs so far (--diff).
 *
 * Pure half (no root, unit-tested): state_paths(), state_same_boot(),
 * state_lock_pid(), diff_classify(), diff_letter().
 * Applying half: state_prepare(), state_lock(), state_reset(),
 * instance_lock(), diff_walk() and the rest. */
#ifndef FWRUN_STATE_H
#define FWRUN_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "rundir.h"
#include "util.h"

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
 * With the lock held, it moves the kernel's scratch dir work/work, and in
 * it the last run's volatile marker (see overlay_options()), aside to
 * work/old.* for state_drop_old_workdirs(). Dropping the marker is safe
 * when that run was in this boot:
 * nothing the host has not written yet can have been lost. *earlier_boot is
 * set when the marker was left in an earlier boot: if the host crashed then,
 * the end of that run's writes may be missing; the caller says so. */
int state_lock(const struct state_paths *p, bool *earlier_boot, struct fw_error *e);

/* Move work/work and the volatile marker in it that a run's overlay left
 * aside as state_lock() does (a restart within this run: nothing can have
 * been lost). Call it with the lock held. */
int state_clear_workdir(const struct state_paths *p, struct fw_error *e);

/* Remove the old scratch dirs state_lock() and state_clear_workdir() moved
 * aside (work/old.*), a killed run's too: best effort, errors ignored (the
 * next run tries again). With the lock held, once the overlay is mounted. */
void state_drop_old_workdirs(const struct state_paths *p);

/* The last run's record in a lock ("PID BOOT_ID\n"): is it from boot? */
bool state_same_boot(const char *record, const char *boot);

/* The pid a lock's record names ("PID\n", or "PID BOOT_ID\n"), or -1 for
 * anything else (an empty file is a lock made, not written yet). */
long state_lock_pid(const char *record);

/* One instance name runs once at a time, whatever its state dir (and with
 * --ephemeral too): a lock per name in FWRUN_INSTANCE_DIR, held for the run.
 * Returns the fd, or -EBUSY naming the holder's pid in the hint. The caller
 * has made /run/fwrun. */
int instance_lock(const char *name, struct fw_error *e);
/* Release it and remove its file: a run leaves nothing in /run/fwrun. */
void instance_unlock(const char *name, int fd);

/* Is instance name running? Its lock file in dfd (FWRUN_INSTANCE_DIR) is
 * unlinked by its holder when it lets go, and names the fwrun that holds
 * it, written before that fwrun does anything else: no file, or one
 * naming no live process, is no running instance. One naming a live
 * process is, or (a killed run's pid now another's) is taken for one. A
 * file that cannot be read is taken for one too. Not /proc/locks: read
 * while others lock and unlock, it leaves entries out (seq_file resumes
 * each read by position). */
bool instance_running(int dfd, const char *name);

/* Empty upper/ and work/ (never following symlinks, not crossing mounts:
 * a mount found below them is an error, EBUSY). Call it with the lock held.
 * A missing upper/ or work/ is already empty. */
int state_reset(const struct state_paths *p, struct fw_error *e);

/* --remove: empty the state (state_reset), remove upper/, work/, the rootfs
 * record and the lock (lock_fd, from state_lock(), is closed), then the dir
 * itself, which must then be empty: anything fwrun did not make there
 * stays, and the error says so (ENOTEMPTY). */
int state_remove(const struct state_paths *p, int lock_fd, struct fw_error *e);

/* Is path (which may not exist yet) inside the directory dir? Resolved
 * through the nearest existing ancestor of path, so symlinks cannot hide it:
 * a state dir inside a --rootfs directory would change the firmware tree. */
bool state_path_within(const char *path, const char *dir);

/* The rootfs last run with this state (dir/rootfs, an absolute path) into
 * buf, for --diff. 0, or -errno (-ENODATA: the record is empty). */
int state_read_rootfs(const struct state_paths *p, char *buf, size_t size);

/* What the state's upper dir was last run over, against this run's rootfs. */
enum state_rootfs_seen {
	STATE_ROOTFS_SAME = 0,		/* the same image, unchanged (or unknown) */
	STATE_ROOTFS_FIRST,		/* no record: a new state dir */
	STATE_ROOTFS_OTHER_PATH,	/* another image path */
	STATE_ROOTFS_CHANGED,		/* the same path, other content */
};

/* A cheap fingerprint of an image or directory: device, inode, size and
 * mtime (a rebuilt image changes at least one), into buf. */
void state_rootfs_id(const struct stat *st, char *buf, size_t size);

/* Record rootfs (made absolute) in dir/rootfs for --diff and its
 * fingerprint in dir/rootfs.id, each written to a .tmp and renamed over,
 * only when it changed; say how it compares with the last record (last:
 * the path recorded before, "" if none). Best effort: without the record,
 * --diff asks for --rootfs. Call it with the lock held. */
enum state_rootfs_seen state_record_rootfs(const struct state_paths *p, const char *rootfs,
					   char *last, size_t size);

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
