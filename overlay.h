/* SPDX-License-Identifier: MIT */
/* The overlay over the read-only rootfs (rootfs.h), whose upper and work
 * dirs are the instance's state (state.h) or a tmpfs (--ephemeral).
 *
 * Pure half (no root, unit-tested): overlay_escape(), overlay_options().
 * Applying half: overlay_mount(). */
#ifndef FWRUN_OVERLAY_H
#define FWRUN_OVERLAY_H

#include <stddef.h>

#include "util.h"

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

/* Mount the overlay on target; upper and work NULL for a read-only one.
 * Errors name the missing directory, or say why the kernel refused the
 * upper dir. */
int overlay_mount(const char *lower, const char *upper, const char *work,
		  const char *target, struct fw_error *e);

#endif
