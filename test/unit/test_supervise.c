/* SPDX-License-Identifier: MIT */
/* The supervisor: durations and signal names, the stop/kill/timeout timer
 * and its poll timeouts, how an end is classified and said, the options in
 * fwrun_parse(), and supervise_run() itself on plain child processes (no
 * root: signals come from the test through the signalfd). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fwrun.h"
#include "supervise.h"

#define MS 1000000ull

static void durations(void **state)
{
	uint64_t ms = 0;
	(void)state;

	assert_int_equal(supervise_parse_duration("10", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(supervise_parse_duration("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(supervise_parse_duration("1.5", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(supervise_parse_duration("0.25s", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(supervise_parse_duration("0.001", &ms), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(supervise_parse_duration("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(supervise_parse_duration("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(supervise_parse_duration("1.5m", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(supervise_parse_duration("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(supervise_parse_duration("2400h", &ms), 0);	/* 100 days */
	assert_int_equal(supervise_parse_duration("2401h", &ms), -ERANGE);
	assert_int_equal(supervise_parse_duration("99999999999999999999", &ms), -ERANGE);
	const char *bad[] = { "", "-1", "+1", " 1", "1 ", "1.", ".5", "1.0001", "1x",
			      "1sec", "s", "1e3", "0x10", "1..2", "inf" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(bad); i++)
		assert_int_equal(supervise_parse_duration(bad[i], &ms), -EINVAL);
	assert_int_equal(supervise_parse_duration(NULL, &ms), -EINVAL);
}

static void format_durations(void **state)
{
	char b[32];
	(void)state;

	supervise_format_duration(b, sizeof(b), 10000);
	assert_string_equal(b, "10s");
	supervise_format_duration(b, sizeof(b), 0);
	assert_string_equal(b, "0s");
	supervise_format_duration(b, sizeof(b), 250);
	assert_string_equal(b, "250ms");
	supervise_format_duration(b, sizeof(b), 1500);
	assert_string_equal(b, "1.5s");
	supervise_format_duration(b, sizeof(b), 1250);
	assert_string_equal(b, "1.25s");
	supervise_format_duration(b, sizeof(b), 1005);
	assert_string_equal(b, "1.005s");
}

static void signals(void **state)
{
	int sig = 0;
	(void)state;

	assert_int_equal(supervise_parse_signal("TERM", &sig), 0);
	assert_int_equal(sig, SIGTERM);
	assert_int_equal(supervise_parse_signal("SIGINT", &sig), 0);
	assert_int_equal(sig, SIGINT);
	assert_int_equal(supervise_parse_signal("sigpwr", &sig), 0);
	assert_int_equal(sig, SIGPWR);
	assert_int_equal(supervise_parse_signal("9", &sig), 0);
	assert_int_equal(sig, 9);
	assert_int_equal(supervise_parse_signal("RTMIN+3", &sig), 0);
	assert_int_equal(sig, SIGRTMIN + 3);
	assert_int_equal(supervise_parse_signal("SIGRTMAX-1", &sig), 0);
	assert_int_equal(sig, SIGRTMAX - 1);
	assert_int_equal(supervise_parse_signal("RTMIN", &sig), 0);
	assert_int_equal(sig, SIGRTMIN);
	const char *bad[] = { "", "0", "-15", "TERMX", "SIG", "65", "RTMIN+", "RTMIN+99",
			      "RTMAX-99", "15x", "RTMIN+-1" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(bad); i++)
		assert_int_equal(supervise_parse_signal(bad[i], &sig), -EINVAL);
}

static void mask(void **state)
{
	sigset_t s;
	(void)state;

	supervise_sigmask(&s);
	int want[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGWINCH, SIGPIPE };
	for (size_t i = 0; i < FW_ARRAY_SIZE(want); i++)
		assert_true(sigismember(&s, want[i]));
	assert_false(sigismember(&s, SIGQUIT));
}

static struct supervise_opts opts(uint64_t kill_after_ms, uint64_t timeout_ms)
{
	struct supervise_opts o;
	supervise_opts_init(&o);
	o.kill_after_ms = kill_after_ms;
	o.timeout_ms = timeout_ms;
	return o;
}

static void timer_defaults_and_idle(void **state)
{
	struct supervise_opts o;
	struct sv_timer t;
	(void)state;

	supervise_opts_init(&o);
	assert_int_equal(o.stop_signal, SIGTERM);
	assert_int_equal(o.kill_after_ms, 10000);
	assert_int_equal(o.timeout_ms, 0);
	sv_timer_start(&t, &o, 1000 * MS);
	/* no timeout, not stopping: poll sleeps without a deadline (0 CPU) */
	assert_int_equal(sv_timer_poll_ms(&t, 5000 * MS), -1);
	assert_int_equal(sv_timer_tick(&t, 999999 * MS), SV_NOTHING);
}

static void timer_signal_then_kill_after(void **state)
{
	struct supervise_opts o = opts(10000, 0);
	struct sv_timer t;
	(void)state;

	sv_timer_start(&t, &o, 0);
	assert_int_equal(sv_timer_signal(&t, SIGTERM, 1000 * MS), SV_STOP);
	assert_int_equal(t.cause, SV_CAUSE_SIGNAL);
	assert_int_equal(t.signal, SIGTERM);
	/* another SIGTERM or SIGHUP changes nothing */
	assert_int_equal(sv_timer_signal(&t, SIGTERM, 2000 * MS), SV_NOTHING);
	assert_int_equal(sv_timer_signal(&t, SIGHUP, 2000 * MS), SV_NOTHING);
	assert_int_equal(sv_timer_poll_ms(&t, 1000 * MS), 10000);
	/* rounded up: 0.5 ms left sleeps 1 ms, never 0 (a spin) */
	assert_int_equal(sv_timer_poll_ms(&t, 11000 * MS - MS / 2), 1);
	assert_int_equal(sv_timer_tick(&t, 11000 * MS - 1), SV_NOTHING);
	assert_int_equal(sv_timer_tick(&t, 11000 * MS), SV_KILL);
	assert_true(t.killed);
	assert_true(t.kill_by_timer);
	/* killed: nothing more, no deadline */
	assert_int_equal(sv_timer_tick(&t, 20000 * MS), SV_NOTHING);
	assert_int_equal(sv_timer_signal(&t, SIGINT, 20000 * MS), SV_NOTHING);
	assert_int_equal(sv_timer_poll_ms(&t, 20000 * MS), -1);
}

/* The supervisor's loop also wakes for the settle hook's moment. */
static void poll_until(void **state)
{
	(void)state;
	/* no deadline of either kind: sleep until something happens */
	assert_int_equal(sv_poll_ms_until(-1, 0, 5 * MS), -1);
	/* the hook's moment alone, rounded up like the timer's */
	assert_int_equal(sv_poll_ms_until(-1, 500 * MS, 100 * MS), 400);
	assert_int_equal(sv_poll_ms_until(-1, 500 * MS, 500 * MS - MS / 2), 1);
	/* the sooner of the two */
	assert_int_equal(sv_poll_ms_until(30, 500 * MS, 100 * MS), 30);
	assert_int_equal(sv_poll_ms_until(9000, 500 * MS, 100 * MS), 400);
	assert_int_equal(sv_poll_ms_until(0, 500 * MS, 100 * MS), 0);
	/* passed: at once */
	assert_int_equal(sv_poll_ms_until(9000, 500 * MS, 600 * MS), 0);
	/* settled (0): the timer's alone */
	assert_int_equal(sv_poll_ms_until(70, 0, 600 * MS), 70);
}

static void timer_second_sigint(void **state)
{
	struct supervise_opts o = opts(10000, 0);
	struct sv_timer t;
	(void)state;

	sv_timer_start(&t, &o, 0);
	assert_int_equal(sv_timer_signal(&t, SIGINT, 1 * MS), SV_STOP);
	assert_int_equal(sv_timer_signal(&t, SIGINT, 2 * MS), SV_KILL);
	assert_true(t.kill_was_forced);
	assert_false(t.kill_by_timer);
	/* a SIGINT after SIGTERM kills too: the user is in a hurry */
	sv_timer_start(&t, &o, 0);
	assert_int_equal(sv_timer_signal(&t, SIGTERM, 1 * MS), SV_STOP);
	assert_int_equal(sv_timer_signal(&t, SIGINT, 2 * MS), SV_KILL);
}

static void timer_timeout(void **state)
{
	struct supervise_opts o = opts(2000, 5000);
	struct sv_timer t;
	(void)state;

	sv_timer_start(&t, &o, 100 * MS);
	assert_int_equal(sv_timer_poll_ms(&t, 100 * MS), 5000);
	assert_int_equal(sv_timer_poll_ms(&t, 4100 * MS), 1000);
	assert_int_equal(sv_timer_tick(&t, 5099 * MS), SV_NOTHING);
	assert_int_equal(sv_timer_tick(&t, 5100 * MS), SV_STOP);
	assert_int_equal(t.cause, SV_CAUSE_TIMEOUT);
	/* now the kill-after deadline counts, from the stop */
	assert_int_equal(sv_timer_poll_ms(&t, 5100 * MS), 2000);
	assert_int_equal(sv_timer_tick(&t, 7099 * MS), SV_NOTHING);
	assert_int_equal(sv_timer_tick(&t, 7100 * MS), SV_KILL);
	/* late: a deadline already passed gives poll 0 */
	sv_timer_start(&t, &o, 0);
	assert_int_equal(sv_timer_poll_ms(&t, 6000 * MS), 0);
	/* a signal before the timeout: the timeout no longer applies */
	sv_timer_start(&t, &o, 0);
	assert_int_equal(sv_timer_signal(&t, SIGTERM, 1000 * MS), SV_STOP);
	assert_int_equal(sv_timer_poll_ms(&t, 1000 * MS), 2000);	/* kill-after, not timeout */
	assert_int_equal(sv_timer_tick(&t, 2999 * MS), SV_NOTHING);
	assert_int_equal(sv_timer_tick(&t, 3000 * MS), SV_KILL);
	assert_int_equal(t.cause, SV_CAUSE_SIGNAL);
	supervise_classify(SIGKILL, &t, &(struct supervise_result){ 0 });
}

static void timer_kill_after_zero_and_escape(void **state)
{
	struct supervise_opts o = opts(0, 0);
	struct sv_timer t;
	(void)state;

	sv_timer_start(&t, &o, 0);
	assert_int_equal(sv_timer_signal(&t, SIGTERM, 7 * MS), SV_STOP);
	assert_int_equal(sv_timer_poll_ms(&t, 7 * MS), 0);
	assert_int_equal(sv_timer_tick(&t, 7 * MS), SV_KILL);

	o = opts(10000, 0);
	sv_timer_start(&t, &o, 0);
	assert_int_equal(sv_timer_escape(&t, 5 * MS), SV_KILL);
	assert_int_equal(t.cause, SV_CAUSE_ESCAPE);
	assert_int_equal(sv_timer_escape(&t, 6 * MS), SV_NOTHING);
}

static void classify(void **state)
{
	struct supervise_result r;
	struct supervise_opts o = opts(10000, 1000);
	struct sv_timer t;
	(void)state;

	sv_timer_start(&t, &o, 0);
	supervise_classify(7 << 8, &t, &r);
	assert_int_equal(r.status, 7);
	assert_int_equal(r.reason, EVENTS_EXIT);
	supervise_classify(SIGKILL, &t, &r);
	assert_int_equal(r.status, 137);
	assert_int_equal(r.reason, EVENTS_SIGNAL);
	supervise_classify(SIGSEGV, &t, &r);
	assert_int_equal(r.status, 139);
	supervise_classify(SIGHUP, &t, &r);
	assert_int_equal(r.status, SUPERVISE_EXIT_REBOOT);
	assert_int_equal(r.status, 133);
	assert_int_equal(r.reason, EVENTS_REBOOT);
	supervise_classify(SIGINT, &t, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.reason, EVENTS_POWEROFF);
	/* a timeout is 124 however the init ended */
	assert_int_equal(sv_timer_tick(&t, 1000 * MS), SV_STOP);
	supervise_classify(0, &t, &r);
	assert_int_equal(r.status, 124);
	assert_int_equal(r.reason, EVENTS_TIMEOUT);
	supervise_classify(SIGKILL, &t, &r);
	assert_int_equal(r.status, 124);
}

static void until_matched(void **state)
{
	struct supervise_result r = { .kill_after_ms = 1500, .stop_signal = SIGTERM };
	struct supervise_opts o = opts(1500, 1000);
	struct sv_timer t;
	char b[256];
	(void)state;

	sv_timer_start(&t, &o, 0);
	assert_int_equal(sv_timer_match(&t, 100 * MS), SV_STOP);
	assert_int_equal(sv_timer_match(&t, 200 * MS), SV_NOTHING);	/* once */
	/* the timeout does not take over a stop under way */
	assert_int_equal(sv_timer_tick(&t, 1000 * MS), SV_NOTHING);
	supervise_classify(SIGTERM, &t, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.reason, EVENTS_MATCHED);
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "a console line matched --until: firmware stopped with SIGTERM");
	assert_int_equal(sv_timer_tick(&t, 1600 * MS), SV_KILL);
	supervise_classify(SIGKILL, &t, &r);
	assert_int_equal(r.status, 0);	/* killed after the grace: still matched */
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "a console line matched --until: sent SIGTERM, firmware killed "
			    "1.5s later");
	/* a timeout first: 124, a later match changes nothing */
	sv_timer_start(&t, &o, 0);
	assert_int_equal(sv_timer_tick(&t, 1000 * MS), SV_STOP);
	assert_int_equal(sv_timer_match(&t, 1001 * MS), SV_NOTHING);
	supervise_classify(SIGTERM, &t, &r);
	assert_int_equal(r.status, 124);
}

static void describe(void **state)
{
	struct supervise_result r = { .timeout_ms = 5000, .kill_after_ms = 1500,
				      .stop_signal = SIGTERM };
	struct supervise_opts o = opts(1500, 5000);
	struct sv_timer t;
	char b[256];
	(void)state;

	sv_timer_start(&t, &o, 0);
	supervise_classify(0, &t, &r);
	assert_int_equal(supervise_describe(&r, b, sizeof(b)), 0);	/* plain exit */
	assert_string_equal(b, "");
	supervise_classify(3 << 8, &t, &r);
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "init exited with status 3");
	supervise_classify(SIGSEGV, &t, &r);
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "init killed by SIGSEGV");
	supervise_classify(SIGHUP, &t, &r);
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "firmware rebooted");
	supervise_classify(SIGINT, &t, &r);
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "firmware powered off");

	sv_timer_tick(&t, 5000 * MS);
	supervise_classify(0, &t, &r);
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "timeout of 5s expired: firmware stopped with SIGTERM");
	sv_timer_tick(&t, 6500 * MS);
	supervise_classify(SIGKILL, &t, &r);
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "timeout of 5s expired: sent SIGTERM, firmware killed 1.5s later");

	sv_timer_start(&t, &o, 0);
	sv_timer_signal(&t, SIGTERM, 0);
	sv_timer_tick(&t, 1500 * MS);
	supervise_classify(SIGKILL, &t, &r);
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "firmware did not stop within 1.5s of SIGTERM: killed");

	sv_timer_start(&t, &o, 0);
	sv_timer_signal(&t, SIGINT, 0);
	sv_timer_signal(&t, SIGINT, 1);
	supervise_classify(SIGKILL, &t, &r);
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "second SIGINT: firmware killed");

	sv_timer_start(&t, &o, 0);
	sv_timer_escape(&t, 0);
	supervise_classify(SIGKILL, &t, &r);
	assert_int_equal(r.status, 137);
	supervise_describe(&r, b, sizeof(b));
	assert_string_equal(b, "firmware killed (Ctrl-] pressed 3 times)");
}

#define ARGV(...) ((char *[]){ "fwrun", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "fwrun", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, e, ...) fwrun_parse(o, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), e)

static void options(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;
	(void)state;

	assert_int_equal(PARSE(&o, &e, "--rootfs", "a.ext2"), FWRUN_PARSE_RUN);
	assert_int_equal(o.console, CONSOLE_AUTO);
	assert_int_equal(o.life.stop_signal, SIGTERM);
	assert_int_equal(o.life.kill_after_ms, 10000);
	assert_int_equal(o.life.timeout_ms, 0);
	assert_false(o.restart_on_reboot);
	assert_int_equal(o.status_fd, -1);

	assert_int_equal(PARSE(&o, &e, "--rootfs", "a.ext2", "--console=pty", "--stop-signal",
			       "SIGPWR", "--kill-after", "2.5", "--timeout=1m",
			       "--restart-on-reboot", "--status-fd", "3"), FWRUN_PARSE_RUN);
	assert_int_equal(o.console, CONSOLE_PTY);
	assert_int_equal(o.life.stop_signal, SIGPWR);
	assert_int_equal(o.life.kill_after_ms, 2500);
	assert_int_equal(o.life.timeout_ms, 60000);
	assert_true(o.restart_on_reboot);
	assert_int_equal(o.status_fd, 3);

	assert_int_equal(PARSE(&o, &e, "--rootfs", "a.ext2", "--console", "tty"),
			 FWRUN_PARSE_ERROR);
	assert_string_equal(e.subject, "tty");
	assert_int_equal(PARSE(&o, &e, "--rootfs", "a.ext2", "--stop-signal", "NOPE"),
			 FWRUN_PARSE_ERROR);
	assert_int_equal(PARSE(&o, &e, "--rootfs", "a.ext2", "--timeout", "-1"),
			 FWRUN_PARSE_ERROR);
	assert_string_equal(e.what, "--timeout");
	assert_int_equal(PARSE(&o, &e, "--rootfs", "a.ext2", "--kill-after", "5 s"),
			 FWRUN_PARSE_ERROR);
	assert_string_equal(e.what, "--kill-after");
	assert_int_equal(PARSE(&o, &e, "--rootfs", "a.ext2", "--status-fd", "x"),
			 FWRUN_PARSE_ERROR);
	assert_int_equal(PARSE(&o, &e, "--rootfs", "a.ext2", "--status-fd", "-1"),
			 FWRUN_PARSE_ERROR);
	assert_int_equal(PARSE(&o, &e, "--rootfs", "a.ext2", "--status-fd"),
			 FWRUN_PARSE_ERROR);
}

/* ---- supervise_run on ordinary children ---- */

static pid_t child(int what)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		switch (what) {
		case 0:
			_exit(3);
		case 1:	/* dies of the stop signal */
			pause();
			_exit(0);
		case 2:	/* ignores it */
			signal(SIGTERM, SIG_IGN);
			for (;;)
				pause();
		case 3:	/* like an init that called reboot(2) (SIGHUP may
			 * come ignored: nohup, some CI runners) */
			signal(SIGHUP, SIG_DFL);
			raise(SIGHUP);
			_exit(0);
		case 4:	/* runs a while, then exits */
			usleep(400000);
			_exit(5);
		}
		_exit(99);
	}
	return p;
}

/* The after-kill hook counts its calls, and sees the child still there:
 * it runs right after the SIGKILL, before the reaping. */
struct kill_seen {
	pid_t pid;
	int calls, alive;
};

static void count_kill(void *arg)
{
	struct kill_seen *k = arg;

	k->calls++;
	if (waitid(P_PID, (id_t)k->pid, &(siginfo_t){ 0 }, WEXITED | WNOHANG | WNOWAIT) == 0)
		k->alive++;	/* not reaped yet (a zombie at most) */
}

static void run_exit(void **state)
{
	struct supervise_opts o = opts(10000, 0);
	struct supervise_result r;
	struct fw_error e = { 0 };
	struct kill_seen k = { 0 };
	const struct supervise_hooks ak = { .after_kill = count_kill, .arg = &k };
	(void)state;

	assert_int_equal(supervise_run(child(0), &o, NULL, &ak, fw_now_ns(), &r, &e), 0);
	assert_int_equal(k.calls, 0);	/* no SIGKILL, no call */
	assert_int_equal(r.status, 3);
	assert_int_equal(r.reason, EVENTS_EXIT);
	assert_int_equal(supervise_run(child(3), &o, NULL, NULL, fw_now_ns(), &r, &e), 0);
	assert_int_equal(r.status, 133);
	assert_int_equal(r.reason, EVENTS_REBOOT);
}

/* The settle hook runs once, while the init still runs, and not at all
 * for an init that ends first. */
struct settle_seen {
	pid_t pid;
	int calls, alive;
	uint64_t at;
};

static void count_settle(void *arg)
{
	struct settle_seen *st = arg;
	siginfo_t si = { 0 };

	st->calls++;
	st->at = fw_now_ns();
	if (waitid(P_PID, (id_t)st->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0)
		st->alive++;	/* not exited yet */
}

static void run_settles(void **state)
{
	struct supervise_opts o = opts(10000, 0);
	struct supervise_result r;
	struct fw_error e = { 0 };
	(void)state;

	struct settle_seen st = { .pid = child(4) };
	const struct supervise_hooks h = { .settled = count_settle, .settle_ms = 100, .arg = &st };
	uint64_t t0 = fw_now_ns();
	assert_int_equal(supervise_run(st.pid, &o, NULL, &h, t0, &r, &e), 0);
	assert_int_equal(r.status, 5);
	assert_int_equal(st.calls, 1);
	assert_int_equal(st.alive, 1);
	assert_true(st.at >= t0 + 100 * MS);	/* not before its moment */

	struct settle_seen quick = { .pid = child(0) };
	const struct supervise_hooks later = { .settled = count_settle, .settle_ms = 60000,
					       .arg = &quick };
	assert_int_equal(supervise_run(quick.pid, &o, NULL, &later, fw_now_ns(), &r, &e), 0);
	assert_int_equal(r.status, 3);
	assert_int_equal(quick.calls, 0);
}

static void run_forwards_signal(void **state)
{
	struct supervise_opts o = opts(10000, 0);
	struct supervise_result r;
	struct fw_error e = { 0 };
	sigset_t m;
	(void)state;

	supervise_sigmask(&m);
	sigprocmask(SIG_BLOCK, &m, NULL);
	pid_t p = child(1);
	o.stop_signal = SIGUSR1;
	kill(getpid(), SIGHUP);	/* pending until the loop reads it */
	uint64_t t0 = fw_now_ns();
	assert_int_equal(supervise_run(p, &o, NULL, NULL, t0, &r, &e), 0);
	assert_true(fw_now_ns() - t0 < 2000 * MS);
	assert_true(WIFSIGNALED(r.wstatus));
	assert_int_equal(WTERMSIG(r.wstatus), SIGUSR1);	/* --stop-signal */
	assert_int_equal(r.status, 128 + SIGUSR1);
	assert_int_equal(r.timer.signal, SIGHUP);
}

static void run_timeout_and_kill_after(void **state)
{
	struct supervise_opts o = opts(200, 300);
	struct supervise_result r;
	struct fw_error e = { 0 };
	(void)state;

	pid_t p = child(2);
	struct kill_seen k = { .pid = p };
	const struct supervise_hooks ak = { .after_kill = count_kill, .arg = &k };
	usleep(50000);	/* let it ignore SIGTERM */
	uint64_t t0 = fw_now_ns();
	assert_int_equal(supervise_run(p, &o, NULL, &ak, t0, &r, &e), 0);
	uint64_t took = (fw_now_ns() - t0) / MS;
	assert_int_equal(k.calls, 1);
	assert_int_equal(k.alive, 1);
	assert_int_equal(r.status, 124);
	assert_int_equal(r.reason, EVENTS_TIMEOUT);
	assert_int_equal(WTERMSIG(r.wstatus), SIGKILL);
	assert_true(r.timer.kill_by_timer);
	/* 300 ms timeout + 200 ms kill-after, with a little slack */
	assert_true(took >= 500);
	assert_true(took < 900);
}

static void run_second_sigint(void **state)
{
	struct supervise_opts o = opts(60000, 0);
	struct supervise_result r;
	struct fw_error e = { 0 };
	sigset_t m;
	(void)state;

	supervise_sigmask(&m);
	sigprocmask(SIG_BLOCK, &m, NULL);
	pid_t p = child(2);
	usleep(50000);
	/* two SIGINTs queued as one standard signal would merge: send the
	 * second from a helper once the first is handled */
	kill(getpid(), SIGINT);
	pid_t h = fork();
	if (h == 0) {
		usleep(200000);
		kill(getppid(), SIGINT);
		_exit(0);
	}
	uint64_t t0 = fw_now_ns();
	assert_int_equal(supervise_run(p, &o, NULL, NULL, t0, &r, &e), 0);
	assert_true((fw_now_ns() - t0) / MS < 5000);	/* not the 60 s kill-after */
	assert_int_equal(WTERMSIG(r.wstatus), SIGKILL);
	assert_int_equal(r.status, 137);
	assert_true(r.timer.kill_was_forced);
	assert_false(r.timer.kill_by_timer);
	waitpid(h, NULL, 0);	/* reaped already by the loop, most likely */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(format_durations),
		cmocka_unit_test(signals),
		cmocka_unit_test(mask),
		cmocka_unit_test(timer_defaults_and_idle),
		cmocka_unit_test(timer_signal_then_kill_after),
		cmocka_unit_test(poll_until),
		cmocka_unit_test(timer_second_sigint),
		cmocka_unit_test(timer_timeout),
		cmocka_unit_test(timer_kill_after_zero_and_escape),
		cmocka_unit_test(classify),
		cmocka_unit_test(describe),
		cmocka_unit_test(until_matched),
		cmocka_unit_test(options),
		cmocka_unit_test(run_exit),
		cmocka_unit_test(run_settles),
		cmocka_unit_test(run_forwards_signal),
		cmocka_unit_test(run_timeout_and_kill_after),
		cmocka_unit_test(run_second_sigint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
