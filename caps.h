/* SPDX-License-Identifier: MIT */
/* The capability bounding set of the firmware (doc/design.md, "Host protection").
 *
 * The firmware's init runs as root. At execve a root process gets every
 * capability of its bounding set (and of its inheritable set), so cutting a
 * capability from the bounding set of the setup thread, before it clones
 * pid 1, takes it from the whole firmware for good.
 *
 * Pure half (no root, unit-tested): caps_from_name(), caps_name(),
 * caps_spec_add(), caps_resolve(), caps_format(), caps_parse_hex().
 * Applying half: caps_last_cap(), caps_apply_drop().
 *
 * Masks are uint64_t with bit N for capability N (capabilities(7) numbers). */
#ifndef FWRUN_CAPS_H
#define FWRUN_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Capabilities this build knows names for: 0..CAPS_KNOWN_LAST
 * (CAP_CHECKPOINT_RESTORE). A newer kernel may have more; they are kept
 * unless --cap-drop ALL. */
#define CAPS_KNOWN_LAST 40

/* "ALL" as a name, returned by caps_from_name() */
#define CAPS_ALL (-2)

#define CAPS_BIT(cap) (UINT64_C(1) << (cap))

/* The default drop set (the man page, CAPABILITIES, says why each one):
 * SYS_TIME, WAKE_ALARM, SYS_MODULE, SYS_RAWIO, MAC_ADMIN, MAC_OVERRIDE,
 * SYSLOG, AUDIT_CONTROL, BLOCK_SUSPEND, LINUX_IMMUTABLE. */
uint64_t caps_default_drop(void);

/* A capability by its capabilities(7) name, with or without "CAP_", in any
 * case ("sys_time", "CAP_SYS_TIME", "Sys_Time"), or "ALL" (-> CAPS_ALL).
 * Returns 0 and sets *cap, or -EINVAL. */
int caps_from_name(const char *name, int *cap);

/* "CAP_SYS_TIME"; NULL for a number this build has no name for. */
const char *caps_name(int cap);

/* --cap-drop / --cap-add as given, in any order. */
struct caps_spec {
	uint64_t add;		/* named --cap-add */
	uint64_t drop;		/* named --cap-drop */
	bool add_all;		/* --cap-add ALL */
	bool drop_all;		/* --cap-drop ALL */
};

/* Record one --cap-add (drop = false) or --cap-drop (drop = true).
 * -EINVAL for an unknown name (the caller names it in its message). */
int caps_spec_add(struct caps_spec *s, const char *name, bool drop);

/* The set to cut, order-independent:
 *   1. start from the default drop set; --cap-add ALL starts from nothing
 *      instead, --cap-drop ALL from every capability (it wins over
 *      --cap-add ALL);
 *   2. remove every capability named by --cap-add;
 *   3. add every capability named by --cap-drop (named in both: dropped).
 * all: the capabilities the kernel has (caps_all_mask()). */
uint64_t caps_resolve(const struct caps_spec *s, uint64_t all);

/* Bits 0..last_cap set. */
uint64_t caps_all_mask(int last_cap);

/* "CAP_SYS_TIME,CAP_WAKE_ALARM" (in number order; unnamed ones as "cap_41";
 * "none" for 0). Returns the length, or -ENAMETOOLONG (truncated). */
int caps_format(uint64_t mask, char *buf, size_t size);

/* Parse the hex of a /proc/PID/status "CapBnd:" line. 0 or -EINVAL. */
int caps_parse_hex(const char *s, uint64_t *mask);

/* The kernel's last capability (/proc/sys/kernel/cap_last_cap; this build's
 * CAPS_KNOWN_LAST if unreadable). */
int caps_last_cap(void);

/* Cut drop from the bounding and inheritable sets (and so from the ambient
 * set) of the calling process, with libcap-ng, then check the bounding set
 * with PR_CAPBSET_READ. The effective and permitted sets stay as they are:
 * fwrun and its setup thread still need them (mounts, pivot, clone, pid 1's
 * setup) even with --cap-drop ALL; execve recomputes them from the bounding
 * set. fwrun cuts its own, before it starts the setup thread. Needs
 * CAP_SETPCAP. Call it where /proc/<tid>/status can be read: libcap-ng reads
 * the sets there, and asks capability by capability without it. */
int caps_apply_drop(uint64_t drop, struct fw_error *e);

#endif
