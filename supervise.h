/* SPDX-License-Identifier: MIT */
/* The supervisor's life once the init runs: wait for it, pass fwrun's
 * SIGINT/SIGTERM/SIGHUP on as --stop-signal, SIGKILL it after --kill-after
 * (or at once on a second SIGINT, or on the console escape), stop it on
 * --timeout, relay the console, and tell why it ended: exit, signal, timeout,
 * reboot or power off.
 *
 * A PID namespace's init that calls reboot(2) is killed by the kernel, and
 * its wait status says SIGHUP for a restart and SIGINT for power off / halt
 * (pid_namespace.c reboot_pid_ns(), read the same way by systemd-nspawn).
 * No other way makes such an init die of those signals: the kernel drops
 * signals an init has no handler for, unless they are SIGKILL or SIGSTOP
 * from an ancestor namespace.
 *
 * Pure half (unit-tested): supervise_parse_duration(), supervise_parse_signal(),
 * the sv_timer state machine, supervise_classify(), supervise_describe().
 * Applying half: supervise_run(). */
#ifndef FWRUN_SUPERVISE_H
#define FWRUN_SUPERVISE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "console.h"
#include "events.h"
#include "util.h"

/* Exit statuses for a firmware that called reboot(2) (man page, EXIT STATUS):
 * power off / halt is a clean end (0); a restart that fwrun does not carry
 * out (no --restart-on-reboot) is 133, the value systemd-nspawn uses, so a
 * unit can say RestartForceExitStatus=133. */
#define SUPERVISE_EXIT_POWEROFF 0
#define SUPERVISE_EXIT_REBOOT 133

#define SUPERVISE_DEFAULT_KILL_AFTER_MS 10000

struct supervise_opts {
	int stop_signal;	/* --stop-signal, default SIGTERM */
	uint64_t kill_after_ms;	/* --kill-after, default 10 s; 0: SIGKILL at once */
	uint64_t timeout_ms;	/* --timeout, 0: none */
};

void supervise_opts_init(struct supervise_opts *o);

/* "10", "1.5", "250ms", "30s", "2m", "1h" -> milliseconds. A number without
 * unit is seconds, up to three decimals. -EINVAL for anything else,
 * -ERANGE above 100 days. */
int supervise_parse_duration(const char *s, uint64_t *ms);

/* "TERM", "SIGTERM", "sigterm", "15", "RTMIN+2" -> signal number; -EINVAL. */
int supervise_parse_signal(const char *s, int *sig);

/* "1.5s", "10s", "250ms", "2m", ... for messages. */
void supervise_format_duration(char *buf, size_t size, uint64_t ms);

/* The signals the supervisor keeps blocked and reads from a signalfd:
 * INT TERM HUP CHLD WINCH, and PIPE (a closed --status-fd or stdout reader
 * must give EPIPE, not kill fwrun and with it the firmware). fwrun_main
 * blocks these first thing (the setup thread blocks every signal); the init
 * unblocks them. */
void supervise_sigmask(sigset_t *set);

/* ---- the timer state machine (pure) ---- */

enum sv_action { SV_NOTHING = 0, SV_STOP, SV_KILL };
enum sv_cause {
	SV_CAUSE_NONE = 0,
	SV_CAUSE_SIGNAL,	/* fwrun got SIGINT/SIGTERM/SIGHUP */
	SV_CAUSE_TIMEOUT,	/* --timeout */
	SV_CAUSE_ESCAPE,	/* Ctrl-] x3 on the console */
	SV_CAUSE_MATCH,		/* a console line matched --until */
};

struct sv_timer {
	uint64_t timeout_at;	/* monotonic ns, 0: no timeout */
	uint64_t kill_after_ns;
	uint64_t kill_at;	/* 0: not stopping */
	bool stopping;		/* stop signal sent (or about to be) */
	bool killed;		/* SIGKILL sent (or about to be) */
	enum sv_cause cause;	/* what started the stop */
	int signal;		/* which signal fwrun got, for SV_CAUSE_SIGNAL */
	bool kill_was_forced;	/* SIGKILL from second SIGINT / kill-after / escape */
	bool kill_by_timer;	/* ... from --kill-after */
};

/* t0_ns: when the timeout starts counting (the first start of the init). */
void sv_timer_start(struct sv_timer *t, const struct supervise_opts *o, uint64_t t0_ns);
/* fwrun got sig (SIGINT/SIGTERM/SIGHUP): the first asks the init to stop,
 * a SIGINT while stopping already kills. */
enum sv_action sv_timer_signal(struct sv_timer *t, int sig, uint64_t now_ns);
/* A console line matched --until: stop as on a signal (nothing when a stop
 * is under way already). */
enum sv_action sv_timer_match(struct sv_timer *t, uint64_t now_ns);
/* The console escape sequence: kill at once. */
enum sv_action sv_timer_escape(struct sv_timer *t, uint64_t now_ns);
/* Time passing: the timeout starts a stop, --kill-after ends it. */
enum sv_action sv_timer_tick(struct sv_timer *t, uint64_t now_ns);
/* How long poll() may sleep: ms rounded up (never a busy loop a ms early),
 * -1 when no deadline is pending. */
int sv_timer_poll_ms(const struct sv_timer *t, uint64_t now_ns);

/* ---- the outcome ---- */

struct supervise_result {
	int wstatus;			/* the init's wait status */
	int status;			/* fwrun's exit status */
	enum events_reason reason;
	struct sv_timer timer;		/* how the run was stopped, if it was */
	uint64_t timeout_ms, kill_after_ms;
	int stop_signal;
};

/* Status and reason from the init's wait status and how it was stopped:
 * timeout -> 124 "timeout"; --until matched -> 0 "matched"; died of SIGHUP -> 133 "reboot"; of SIGINT ->
 * 0 "poweroff"; other signal N -> 128+N "signal"; exit N -> N "exit". */
void supervise_classify(int wstatus, const struct sv_timer *t, struct supervise_result *r);

/* The line fwrun prints on stderr for this outcome (without "fwrun: "),
 * e.g. "timeout of 5s expired: firmware stopped with SIGTERM", "init exited
 * with status 3", "init killed by SIGSEGV". Returns its length; 0 (empty)
 * when an exit with status 0 needs no words. */
int supervise_describe(const struct supervise_result *r, char *buf, size_t size);

/* How long poll() may sleep to wake at at_ns as well as for ms (-1: no
 * deadline): the shorter, ms rounded up; at_ns 0 is no deadline. */
int sv_poll_ms_until(int ms, uint64_t at_ns, uint64_t now_ns);

/* What the caller does at moments of the init's life. after_kill: right
 * after each SIGKILL the supervisor sends, what a SIGKILL alone does not end
 * (a process in a frozen v1 freezer cgroup: cg_thaw). settled: once, when
 * the init has run settle_ms (and is still running), the caller's chores
 * that must not slow its start (giving back the setup's memory). Either fn
 * may be NULL. */
struct supervise_hooks {
	void (*after_kill)(void *arg);
	void (*settled)(void *arg);
	uint64_t settle_ms;
	void *arg;
};

/* Wait for init_pid, relaying con (may be NULL or without pty), until it is
 * gone. t0_ns: see sv_timer_start. Reaps any other child that exits
 * meanwhile (orphans: fwrun is a subreaper). hooks may be NULL.
 * Returns 0 with *r filled, or -errno (signalfd/poll failed: the caller
 * kills the init). */
int supervise_run(pid_t init_pid, const struct supervise_opts *o, struct console *con,
		  const struct supervise_hooks *hooks, uint64_t t0_ns,
		  struct supervise_result *r, struct fw_error *e);

#endif
