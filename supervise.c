/* SPDX-License-Identifier: MIT */
#include "supervise.h"

#include <ctype.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

/* ---- pure half ---------------------------------------------------------- */

void supervise_opts_init(struct supervise_opts *o)
{
	o->stop_signal = SIGTERM;
	o->kill_after_ms = SUPERVISE_DEFAULT_KILL_AFTER_MS;
	o->timeout_ms = 0;
}

int supervise_parse_duration(const char *s, uint64_t *ms)
{
	static const uint64_t max_ms = 100ull * 24 * 3600 * 1000;
	uint64_t whole = 0, frac = 0, scale = 1000;
	unsigned frac_digits = 0;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		whole = whole * 10 + (uint64_t)(*p++ - '0');
		if (whole > max_ms)
			return -ERANGE;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p)) {
			if (++frac_digits > 3)
				return -EINVAL;	/* finer than a millisecond */
			frac = frac * 10 + (uint64_t)(*p++ - '0');
		}
		while (frac_digits++ < 3)
			frac *= 10;
	}
	if (!strcmp(p, "") || !strcmp(p, "s"))
		scale = 1000;
	else if (!strcmp(p, "ms"))
		scale = 1;
	else if (!strcmp(p, "m"))
		scale = 60 * 1000ULL;
	else if (!strcmp(p, "h"))
		scale = 3600 * 1000ULL;
	else
		return -EINVAL;
	/* frac is in thousandths of the unit. */
	if (whole > max_ms / scale)
		return -ERANGE;
	*ms = whole * scale + frac * scale / 1000;
	if (*ms > max_ms)
		return -ERANGE;
	return 0;
}

int supervise_parse_signal(const char *s, int *sig)
{
	const char *name = s;
	char *end;
	long n;

	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)*s)) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno || *end || n < 1 || n > SIGRTMAX)
			return -EINVAL;
		*sig = (int)n;
		return 0;
	}
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	if (!strncasecmp(name, "RTMIN+", 6) || !strncasecmp(name, "RTMAX-", 6)) {
		bool min = !strncasecmp(name, "RTMIN+", 6);
		errno = 0;
		n = strtol(name + 6, &end, 10);
		if (errno || *end || name[6] == '\0' || !isdigit((unsigned char)name[6]))
			return -EINVAL;
		n = min ? SIGRTMIN + n : SIGRTMAX - n;
		if (n < SIGRTMIN || n > SIGRTMAX)
			return -EINVAL;
		*sig = (int)n;
		return 0;
	}
	if (!strcasecmp(name, "RTMIN")) {
		*sig = SIGRTMIN;
		return 0;
	}
	if (!strcasecmp(name, "RTMAX")) {
		*sig = SIGRTMAX;
		return 0;
	}
	for (int i = 1; i < SIGRTMIN; i++) {
		const char *abbrev = sigabbrev_np(i);
		if (abbrev && !strcasecmp(name, abbrev)) {
			*sig = i;
			return 0;
		}
	}
	return -EINVAL;
}

void supervise_format_duration(char *buf, size_t size, uint64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, size, "%llus", (unsigned long long)(ms / 1000));
	else if (ms < 1000)
		snprintf(buf, size, "%llums", (unsigned long long)ms);
	else {
		/* 1.5s, 1.25s, 1.125s: no trailing zeros. */
		unsigned frac = (unsigned)(ms % 1000);
		int digits = 3;
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		snprintf(buf, size, "%llu.%0*us", (unsigned long long)(ms / 1000), digits, frac);
	}
}

void supervise_sigmask(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGWINCH);
	sigaddset(set, SIGPIPE);
}

void sv_timer_start(struct sv_timer *t, const struct supervise_opts *o, uint64_t t0_ns)
{
	memset(t, 0, sizeof(*t));
	t->kill_after_ns = o->kill_after_ms * 1000000ull;
	if (o->timeout_ms)
		t->timeout_at = t0_ns + o->timeout_ms * 1000000ull;
}

static enum sv_action begin_stop(struct sv_timer *t, enum sv_cause cause, uint64_t now_ns)
{
	t->stopping = true;
	t->cause = cause;
	t->kill_at = now_ns + t->kill_after_ns;
	if (t->kill_at == 0)	/* 0 means "not stopping": never at boot time */
		t->kill_at = 1;
	return SV_STOP;
}

enum sv_action sv_timer_signal(struct sv_timer *t, int sig, uint64_t now_ns)
{
	if (t->killed)
		return SV_NOTHING;
	if (t->stopping) {
		if (sig != SIGINT)
			return SV_NOTHING;
		t->killed = true;
		t->kill_was_forced = true;
		return SV_KILL;
	}
	t->signal = sig;
	return begin_stop(t, SV_CAUSE_SIGNAL, now_ns);
}

enum sv_action sv_timer_match(struct sv_timer *t, uint64_t now_ns)
{
	if (t->stopping)
		return SV_NOTHING;	/* a stop already under way keeps its cause */
	return begin_stop(t, SV_CAUSE_MATCH, now_ns);
}

enum sv_action sv_timer_escape(struct sv_timer *t, uint64_t now_ns)
{
	(void)now_ns;
	if (t->killed)
		return SV_NOTHING;
	if (!t->stopping)
		t->cause = SV_CAUSE_ESCAPE;
	t->stopping = true;
	t->killed = true;
	t->kill_was_forced = true;
	return SV_KILL;
}

enum sv_action sv_timer_tick(struct sv_timer *t, uint64_t now_ns)
{
	if (t->killed)
		return SV_NOTHING;
	if (t->stopping) {
		if (now_ns >= t->kill_at) {
			t->killed = true;
			t->kill_was_forced = true;
			t->kill_by_timer = true;
			return SV_KILL;
		}
		return SV_NOTHING;
	}
	if (t->timeout_at && now_ns >= t->timeout_at)
		return begin_stop(t, SV_CAUSE_TIMEOUT, now_ns);
	return SV_NOTHING;
}

/* Milliseconds from now_ns to at_ns, rounded up; -1 for no deadline (0). */
static int ms_until(uint64_t at_ns, uint64_t now_ns)
{
	uint64_t ms;

	if (!at_ns)
		return -1;
	if (at_ns <= now_ns)
		return 0;
	ms = (at_ns - now_ns + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int sv_timer_poll_ms(const struct sv_timer *t, uint64_t now_ns)
{
	if (t->killed)
		return -1;	/* only the init's death is left to wait for */
	return ms_until(t->stopping ? t->kill_at : t->timeout_at, now_ns);
}

int sv_poll_ms_until(int ms, uint64_t at_ns, uint64_t now_ns)
{
	int until = ms_until(at_ns, now_ns);

	return until < 0 || (ms >= 0 && ms < until) ? ms : until;
}

void supervise_classify(int wstatus, const struct sv_timer *t, struct supervise_result *r)
{
	r->wstatus = wstatus;
	if (t)
		r->timer = *t;
	if (t && t->cause == SV_CAUSE_TIMEOUT) {
		r->status = 124;
		r->reason = EVENTS_TIMEOUT;
	} else if (t && t->cause == SV_CAUSE_MATCH) {
		r->status = 0;
		r->reason = EVENTS_MATCHED;
	} else if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGHUP) {
		r->status = SUPERVISE_EXIT_REBOOT;
		r->reason = EVENTS_REBOOT;
	} else if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGINT) {
		r->status = SUPERVISE_EXIT_POWEROFF;
		r->reason = EVENTS_POWEROFF;
	} else if (WIFSIGNALED(wstatus)) {
		r->status = 128 + WTERMSIG(wstatus);
		r->reason = EVENTS_SIGNAL;
	} else {
		r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 125;
		r->reason = EVENTS_EXIT;
	}
}

static const char *signame(int sig, char *buf, size_t size)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, size, "SIG%s", abbrev);
	else
		snprintf(buf, size, "signal %d", sig);
	return buf;
}

int supervise_describe(const struct supervise_result *r, char *buf, size_t size)
{
	const struct sv_timer *t = &r->timer;
	char d[32], k[32], s1[32];
	int n = 0;

	supervise_format_duration(d, sizeof(d), r->timeout_ms);
	supervise_format_duration(k, sizeof(k), r->kill_after_ms);
	if (size)
		buf[0] = '\0';
	switch (r->reason) {
	case EVENTS_REBOOT:
		n = snprintf(buf, size, "firmware rebooted");
		break;
	case EVENTS_POWEROFF:
		n = snprintf(buf, size, "firmware powered off");
		break;
	case EVENTS_MATCHED:
		if (t->kill_by_timer)
			n = snprintf(buf, size, "a console line matched --until: sent %s, firmware "
				     "killed %s later", signame(r->stop_signal, s1, sizeof(s1)), k);
		else
			n = snprintf(buf, size, "a console line matched --until: firmware stopped "
				     "with %s", signame(r->stop_signal, s1, sizeof(s1)));
		break;
	case EVENTS_TIMEOUT:
		if (t->kill_by_timer)
			n = snprintf(buf, size, "timeout of %s expired: sent %s, firmware "
				     "killed %s later", d,
				     signame(r->stop_signal, s1, sizeof(s1)), k);
		else
			n = snprintf(buf, size, "timeout of %s expired: firmware stopped with %s",
				     d, signame(r->stop_signal, s1, sizeof(s1)));
		break;
	default:
		if (t->cause == SV_CAUSE_ESCAPE)
			n = snprintf(buf, size, "firmware killed (Ctrl-] pressed %d times)",
				     CONSOLE_ESCAPE_COUNT);
		else if (t->cause == SV_CAUSE_SIGNAL && t->kill_was_forced && t->kill_by_timer)
			n = snprintf(buf, size, "firmware did not stop within %s of %s: killed",
				     k, signame(r->stop_signal, s1, sizeof(s1)));
		else if (t->cause == SV_CAUSE_SIGNAL && t->kill_was_forced)
			n = snprintf(buf, size, "second SIGINT: firmware killed");
		else if (t->cause == SV_CAUSE_NONE && WIFSIGNALED(r->wstatus))
			n = snprintf(buf, size, "init killed by %s",
				     signame(WTERMSIG(r->wstatus), s1, sizeof(s1)));
		else if (t->cause == SV_CAUSE_NONE && WIFEXITED(r->wstatus) &&
			 WEXITSTATUS(r->wstatus))
			n = snprintf(buf, size, "init exited with status %d",
				     WEXITSTATUS(r->wstatus));
		break;
	}
	return n < 0 ? 0 : n;
}

/* ---- applying half ------------------------------------------------------ */

struct sv_target {
	pid_t pid;
	int stop_signal;
	const struct supervise_hooks *hooks;
};

static void act(const struct sv_target *to, enum sv_action a)
{
	/* ESRCH: it died meanwhile; its SIGCHLD is on its way. */
	if (a == SV_STOP) {
		(void)kill(to->pid, to->stop_signal);
	} else if (a == SV_KILL) {
		(void)kill(to->pid, SIGKILL);
		if (to->hooks && to->hooks->after_kill)
			to->hooks->after_kill(to->hooks->arg);
	}
}

/* Reap every child that has exited; true once init_pid is among them. */
static bool reap(pid_t init_pid, int *wstatus)
{
	bool gone = false;

	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p <= 0)
			break;
		if (p == init_pid) {
			*wstatus = st;
			gone = true;
		}
	}
	return gone;
}

int supervise_run(pid_t init_pid, const struct supervise_opts *o, struct console *con,
		  const struct supervise_hooks *hooks, uint64_t t0_ns,
		  struct supervise_result *r, struct fw_error *e)
{
	const struct sv_target to = { init_pid, o->stop_signal, hooks };
	_cleanup_close_ int sfd = -1;
	struct sv_timer t;
	sigset_t mask;
	int wstatus = 0;
	bool gone;

	memset(r, 0, sizeof(*r));
	r->timeout_ms = o->timeout_ms;
	r->kill_after_ms = o->kill_after_ms;
	r->stop_signal = o->stop_signal;
	supervise_sigmask(&mask);
	/* Normally blocked since fwrun_main began; again, harmlessly, so that
	 * this loop never depends on it. */
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return fw_fail(e, errno, "block signals", "");
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return fw_fail(e, errno, "create signalfd", "");
	sv_timer_start(&t, o, t0_ns);
	/* 0 once settled (or with nothing to do then) */
	uint64_t settle_at = hooks && hooks->settled ?
			     fw_now_ns() + hooks->settle_ms * 1000000ull : 0;

	/* A SIGCHLD that came before the signalfd is still pending and will be
	 * read from it; this only saves a poll round when the init died fast. */
	gone = reap(init_pid, &wstatus);
	/* The timeout may already be behind us (a restart late in the run). */
	act(&to, sv_timer_tick(&t, fw_now_ns()));

	while (!gone) {
		struct pollfd fds[1 + CONSOLE_POLL_MAX];
		int n = 1, pr;
		uint64_t now;
		enum sv_action a = SV_NOTHING;

		fds[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (con)
			n += console_poll_fill(con, fds + 1);
		now = fw_now_ns();
		pr = poll(fds, (nfds_t)n, sv_poll_ms_until(sv_timer_poll_ms(&t, now), settle_at, now));
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return fw_fail(e, errno, "poll", "");
		}
		now = fw_now_ns();
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				int sig = (int)si.ssi_signo;
				enum sv_action b = SV_NOTHING;

				switch (sig) {
				case SIGCHLD:
					gone = reap(init_pid, &wstatus) || gone;
					break;
				case SIGWINCH:
					if (con)
						console_winch(con);
					break;
				case SIGINT:
				case SIGTERM:
				case SIGHUP:
					b = sv_timer_signal(&t, sig, now);
					break;
				default:	/* SIGPIPE: the write saw EPIPE */
					break;
				}
				act(&to, b);
			}
		}
		int got = con && n > 1 ? console_poll_handle(con, fds + 1, n - 1, now) : 0;
		if (got & CONSOLE_MATCHED)
			act(&to, sv_timer_match(&t, now));
		if (got & CONSOLE_ESCAPED)
			a = sv_timer_escape(&t, now);
		act(&to, a);
		act(&to, sv_timer_tick(&t, now));
		if (settle_at && now >= settle_at && !gone) {
			settle_at = 0;
			hooks->settled(hooks->arg);
		}
	}
	if (con)
		console_drain(con);
	supervise_classify(wstatus, &t, r);
	return 0;
}
