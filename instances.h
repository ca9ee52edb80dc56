/* SPDX-License-Identifier: MIT */
/* The running instances: a record per instance in FWRUN_RECORD_DIR
 * (rundir.h), written by its fwrun once the init runs and removed at its
 * end, read by --list, --enter and --stop.
 *
 * A record names the supervisor and the init by pid and by start time (field
 * 22 of /proc/PID/stat), so a reused pid is never taken for them. A fwrun
 * killed by SIGKILL leaves its record behind, and its instance lock
 * (FWRUN_INSTANCE_DIR) free: the supervisor's pid with that start time is
 * gone, which is how such a stale record is recognised (never listed, never
 * entered or stopped) without touching the lock; the next run of that name
 * writes over it.
 *
 * Pure half (unit-tested): instance_record_format(), instance_record_parse(),
 * instance_proc_start().
 * Applying half: instance_record_write(), instance_record_remove(),
 * instance_find(), instance_each(). */
#ifndef FWRUN_INSTANCES_H
#define FWRUN_INSTANCES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rundir.h"
#include "util.h"

#define INSTANCE_NET_MAX 17	/* the taps and the veth */
#define INSTANCE_RECORD_MAX (PATH_MAX * 4 + 4096)

struct instance_net {
	char kind[8];		/* "tap" or "veth" */
	char host[16];		/* the host's name of it */
	char inner[16];		/* its name in the firmware */
	char addr[64];		/* ADDR/PREFIX in the firmware, "" when none */
	char gateway[64];	/* veth: the host end's address */
};

struct instance_record {
	char name[65];
	pid_t supervisor_pid;
	uint64_t supervisor_start;	/* clock ticks after boot (/proc/PID/stat) */
	pid_t init_pid;			/* host view */
	uint64_t init_start;
	char rootfs[PATH_MAX];
	char state_dir[PATH_MAX];	/* "" when ephemeral */
	bool ephemeral;
	char console[16];		/* "pty", "pipe" ... */
	int64_t started;		/* wall clock, seconds since the epoch */
	struct instance_net net[INSTANCE_NET_MAX];
	size_t nnet;
};

/* The record as text: one "key value" line a field, values escaped (\\, \n)
 * so that any path fits on its line. Returns the length, or -ENOSPC. */
int instance_record_format(char *buf, size_t size, const struct instance_record *r);

/* Back from text. Unknown keys are skipped (a newer fwrun's record). 0, or
 * -EINVAL when name or a pid is missing. */
int instance_record_parse(const char *text, struct instance_record *r);

/* The start time (field 22) of a /proc/PID/stat line. 0, or -EINVAL. */
int instance_proc_start(const char *stat_line, uint64_t *start);

/* A process's start time from /proc/PID/stat; -errno (ESRCH: gone). */
int instance_pid_start(pid_t pid, uint64_t *start);

/* Write r's record (atomically: a dot-file renamed over it; a name never
 * starts with '.'). The caller has made the runtime dirs. */
int instance_record_write(const struct instance_record *r, struct fw_error *e);
/* Remove NAME's record, and the dot-file a fwrun killed between its write
 * and its rename left (the caller holds the name's lock). */
void instance_record_remove(const char *name);

/* The live record of name: 0; -ENOENT when there is none or it is stale
 * (*stale set then), e filled. */
int instance_find(const char *name, struct instance_record *r, bool *stale,
		  struct fw_error *e);

/* Call cb for every live record, sorted by name. A nonzero return of cb
 * stops the walk and is returned. */
typedef int (*instance_cb)(const struct instance_record *r, void *data);
int instance_each(instance_cb cb, void *data, struct fw_error *e);

#endif
