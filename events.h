/* SPDX-License-Identifier: MIT */
/* --status-fd: one JSON object per line for machines (CI jobs, wrappers).
 *
 *   {"event":"started","run":1,"pid":4242,"supervisor_pid":4200,
 *    "namespaces":{"mnt":4026532301,"uts":...,"ipc":...,"net":...,"pid":...},
 *    "init":"systemd","arch":"arm64","emulator":"/usr/libexec/qemu-binfmt/...",
 *    "network":[{"if":"eth0","addr":"10.202.1.1/24","host_if":"fw-drone",
 *                "host_addr":"10.202.1.254/24"}],
 *    "time":"2026-12-02T09:49:48.123Z","elapsed_ms":12.345}
 * (every event ends with "time" and "elapsed_ms")
 *   {"event":"matched","run":1,"line":"login:"}
 *   {"event":"restarting","run":1,"reason":"reboot"}
 *   {"event":"exited","run":1,"status":0,"reason":"exit","code":0,
 *    "memory_peak":31457280,"cpu_usec":52000,"oom_kills":0}
 *   {"event":"exited","run":1,"status":137,"reason":"signal","signal":"KILL"}
 *   {"event":"exited","status":125,"reason":"setup-error","error":"fwrun: ..."}
 *
 * Pure half (unit-tested): events_json_escape(), events_format_*().
 * Applying half: events_open(), events_emit(). */
#ifndef FWRUN_EVENTS_H
#define FWRUN_EVENTS_H

#include <stdint.h>
#include <sys/types.h>

#include "util.h"

/* Longest line we ever write: the "error" string is bounded by struct
 * fw_error, escaped at most 6 bytes per byte. */
#define EVENTS_LINE_MAX 8192

/* Why the run ended; the "reason" member of "exited". */
enum events_reason {
	EVENTS_EXIT = 0,	/* the init exited: "code" */
	EVENTS_SIGNAL,		/* the init was killed: "signal" */
	EVENTS_TIMEOUT,		/* --timeout expired (status 124) */
	EVENTS_REBOOT,		/* the init called reboot(2): restart */
	EVENTS_POWEROFF,	/* the init called reboot(2): power off / halt */
	EVENTS_SETUP_ERROR,	/* fwrun failed before the init ran */
	EVENTS_MATCHED,		/* a console line matched --until (status 0) */
};

const char *events_reason_name(enum events_reason r);

/* Namespace types reported in "started", in this order. */
#define EVENTS_NS_COUNT 6
extern const char *const events_ns_types[EVENTS_NS_COUNT]; /* mnt uts ipc net pid cgroup */

/* An interface of the firmware's, in "started": its name inside, its
 * address, and the host's side (the borrowed interface, or the veth's host
 * end and its address). NULL members are left out. */
struct events_iface {
	const char *inner, *addr, *host, *host_addr;
};

struct events_started {
	unsigned run;			/* 1, then 2... with --restart-on-reboot */
	pid_t pid;			/* the init, as the host sees it */
	pid_t supervisor_pid;
	const char *name;		/* instance name, may be NULL */
	uint64_t ns[EVENTS_NS_COUNT];	/* 0: unknown, written as null */
	const char *init_kind;		/* "systemd", "busybox init", "other"; NULL: left out */
	const char *arch;		/* INIT's architecture ("arm64"), NULL: left out */
	const char *emulator;		/* the binfmt_misc interpreter, NULL: native */
	const struct events_iface *ifaces;	/* "network": [...] */
	size_t nifaces;
};

struct events_exited {
	unsigned run;			/* 0: no run (setup error before the init) */
	int status;			/* fwrun's own exit status */
	enum events_reason reason;
	int wstatus;			/* the init's wait status, when reason is not
					 * setup-error: gives "code" or "signal" */
	const char *error;		/* setup-error message, may be NULL */
	/* The whole firmware, from its cgroup; written where known */
	bool has_memory_peak, has_cpu, has_oom;
	uint64_t memory_peak;		/* bytes */
	uint64_t cpu_usec;		/* user + system */
	uint64_t oom_kills;		/* processes the OOM killer took */
};

/* JSON string body for s (no quotes): '"' '\\' and control characters
 * escaped (\n \t \r \b \f, others \u00XX), bytes >= 0x80 that are not valid
 * UTF-8 as \u00XX of the byte (so the line is always valid UTF-8 JSON; a
 * tool that needs the raw bytes back gets them as Latin-1 code points).
 * Returns the length it needs (like snprintf), writing at most size-1 bytes
 * and always a NUL when size > 0. */
size_t events_json_escape(char *dst, size_t size, const char *s);

/* A whole line, with the trailing '\n'. Return the length, or -ENOSPC when
 * buf is too small (nothing usable written). */
int events_format_started(char *buf, size_t size, const struct events_started *s);
int events_format_exited(char *buf, size_t size, const struct events_exited *x);
int events_format_restarting(char *buf, size_t size, unsigned run, enum events_reason why);
/* {"event":"matched","run":1,"line":"..."}: the console line that matched --until. */
int events_format_matched(char *buf, size_t size, unsigned run, const char *line);

/* Every line gets the time: "time" (UTC wall clock, RFC 3339 with ms) and
 * "elapsed_ms" (since fwrun started, monotonic, to the µs), put before the
 * closing '}' of line (len bytes, ending in "}\n") into out. Returns the new
 * length, or -ENOSPC. */
int events_stamp(char *out, size_t size, const char *line, int len, int64_t wall_ns,
		 uint64_t elapsed_ns);

/* When fwrun started (CLOCK_MONOTONIC ns): "elapsed_ms" counts from it. */
void events_set_origin(uint64_t mono_ns);

/* Check --status-fd FD is open for writing and mark it close-on-exec (the
 * firmware must not inherit it). Returns 0 or fw_fail(). */
int events_open(int fd, struct fw_error *e);

/* Write one formatted line, stamped (events_stamp), in a single write (an
 * O_APPEND file or a pipe sees whole lines). fd < 0: nothing. Returns 0 or
 * -errno. */
int events_emit(int fd, const char *line, int len);

#endif
