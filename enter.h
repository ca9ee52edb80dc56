/* SPDX-License-Identifier: MIT */
/* fwrun --enter NAME [-- CMD...]: a process in a running instance with
 * everything its init has (doc/design.md, "Isolation"):
 *
 *   fwrun --enter (host namespaces: relays the pty, waits, prints)
 *   │  setns(pid) first: its children are born in the firmware's pid ns
 *   └─ CMD: its AppArmor exec label (read from /proc/INIT/attr/current) and
 *      bounding set (CapBnd of /proc/INIT/status) set while the host's
 *      /proc is at hand; then setns(mnt, uts, ipc, net, cgroup: those that
 *      differ from ours, through a pidfd where the kernel has them); the
 *      init's root (/proc/INIT/root, opened before); the confinement hook
 *      (enter_confine: seccomp filter and cgroup, once fwrun has them);
 *      a session and the pty; exec in the firmware's PATH.
 *
 * The init is named by the instance's record (instances.h), pid and start
 * time, and held by a pidfd from then on: a reused pid is never entered.
 *
 * Pure half (unit-tested): enter_parse_capbnd(), enter_label().
 * Applying half: enter_run(). */
#ifndef FWRUN_ENTER_H
#define FWRUN_ENTER_H

#include <stddef.h>
#include <stdint.h>

#include "console.h"
#include "instances.h"
#include "supervise.h"
#include "util.h"

struct enter_plan {
	const struct instance_record *rec;
	char *const *argv;		/* CMD and its arguments */
	char *const *envp;		/* the init's default, with --setenv */
	struct console_decision console;	/* a pty when stdin is a terminal */
	struct supervise_opts life;	/* stop signal, kill-after, --timeout */
};

/* The CapBnd mask of a /proc/PID/status text. 0, or -EINVAL. */
int enter_parse_capbnd(const char *status, uint64_t *bnd);

/* The profile name of a /proc/PID/attr/current text ("fwrun-firmware
 * (enforce)\n" -> "fwrun-firmware") into buf; "" for "unconfined".
 * 0, or -ENAMETOOLONG. */
int enter_label(const char *current, char *buf, size_t size);

/* Run CMD in the instance, relay its pty, wait for it. 0 with *status
 * CMD's (its exit status, 128+N for signal N, 124 when --timeout stopped
 * it); or -errno with e filled and *status 125 (fwrun failed), 126 (CMD not
 * executable) or 127 (not found). */
int enter_run(const struct enter_plan *p, int *status, struct fw_error *e);

#endif
