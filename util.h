/* SPDX-License-Identifier: MIT */
/* Small shared helpers: the error record modules fill, cleanup attributes,
 * full reads/writes, monotonic time. Nothing here prints. */
#ifndef FWRUN_UTIL_H
#define FWRUN_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* What failed, on what, and why: filled by modules, printed by fwrun.c as
 * "fwrun: <what> '<subject>': <strerror(err)> (<hint>)". Plain data so that the
 * container side can send it whole over the setup socket. */
struct fw_error {
	int err;		/* positive errno; 0 when nothing failed */
	int step;		/* enum fw_step of ns.h, for fault injection and -v */
	char what[64];		/* "mount overlay on", "attach loop device for" */
	char subject[512];	/* the path, interface, name... may be empty */
	char hint[128];		/* optional, e.g. "is the overlay module loaded?" */
};

/* Record a failure and return -err, so modules can `return fw_fail(...)`. */
int fw_fail(struct fw_error *e, int err, const char *what, const char *subject);
/* Same, with a hint shown after the reason. */
int fw_fail_hint(struct fw_error *e, int err, const char *what, const char *subject,
		 const char *hint);

#define _cleanup_(f) __attribute__((cleanup(f)))
void fw_closep(int *fd);
void fw_freep(void *p);
#define _cleanup_close_ _cleanup_(fw_closep)
#define _cleanup_free_ _cleanup_(fw_freep)
/* Hand an fd out of a _cleanup_close_ variable. */
static inline int fw_take_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

ssize_t fw_write_all(int fd, const void *buf, size_t len);
ssize_t fw_read_all(int fd, void *buf, size_t len);	/* short only at EOF */
int fw_write_file(const char *path, const char *text);	/* open O_WRONLY|O_CLOEXEC, write */
/* The value of "KEY:" in /proc/self/status, read into buf: a pointer into
 * it just after the colon; NULL when it cannot be read or has no KEY. */
const char *fw_proc_status(const char *key, char *buf, size_t size);

/* A lock file: open dfd/name (created 0600; never through a symlink, never
 * blocking on a FIFO; only a regular file), flock it without waiting.
 * Returns the fd to keep for as long as the lock is held, or -EBUSY when
 * another process holds it; either way holder (may be NULL) gets what the
 * file holds: the current holder's record, or the one a killed holder left.
 * -EINVAL for something that is not a regular file; else -errno. */
int fw_lock_at(int dfd, const char *name, char *holder, size_t holder_size);
/* Let go of a lock taken with fw_lock_at, removing its file. */
void fw_unlock_at(int dfd, const char *name, int fd);
/* Replace the content of a lock file we hold (its holder's record). */
int fw_lock_write(int fd, const char *text);

/* "a FIFO", "a symlink", ... for what is not a regular file or directory
 * in messages ("not a regular file" for anything else). */
const char *fw_file_type_name(mode_t mode);

uint64_t fw_now_ns(void);	/* CLOCK_MONOTONIC */

/* The decimal number s starts with (digits only: no sign, no space), at
 * most max; *end (may be NULL) gets what follows it. -1: no digit, or over
 * max. For the small records fwrun keeps in its lock files. */
long fw_parse_decimal(const char *s, long max, const char **end);

/* Give back to the kernel the pages wholly inside [p, p + len): anonymous
 * memory whose content is dead (it reads as zeros next time). */
void fw_discard(void *p, size_t len);

/* How long the firmware runs before fwrun gives back what its setup left
 * touched (fw_discard and the like): not on the way to the init, whose
 * exec the madvise calls slowed (TLB flushes on a small VM: some 0.2-0.6
 * ms a run, bench/RESULTS.md), and never for a run shorter than this,
 * whose exit gives everything back anyway. */
#define FW_GIVE_BACK_AFTER_MS 500

/* A static scratch buffer on pages of its own, so that fw_discard() after
 * its use gives back every page it touched: an idle instance keeps none. */
#define FW_SCRATCH __attribute__((aligned(4096)))

/* Give back the pages of the calling thread's stack from 4 KiB to 512 KiB
 * below frame (an address in the caller's frame): what returned calls left
 * touched. Main thread only: below it lies the stack's guard gap. */
void fw_discard_stack_below(const void *frame);

/* The same for any other thread: its stack's pages from its lowest to 4 KiB
 * below frame (the thread's stack as pthread knows it). */
void fw_discard_thread_stack_below(const void *frame);

/* strlcpy semantics: returns strlen(src); truncates. */
size_t fw_strlcpy(char *dst, const char *src, size_t size);

#define FW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
