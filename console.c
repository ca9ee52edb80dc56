/* SPDX-License-Identifier: MIT */
#include "console.h"
#include "fault.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- pure half ---------------------------------------------------------- */

int console_mode_parse(const char *s, enum console_mode *mode)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "auto"))
		*mode = CONSOLE_AUTO;
	else if (!strcmp(s, "pty"))
		*mode = CONSOLE_PTY;
	else if (!strcmp(s, "pipe"))
		*mode = CONSOLE_PIPE;
	else if (!strcmp(s, "read-only"))
		*mode = CONSOLE_READONLY;
	else
		return -EINVAL;
	return 0;
}

const char *console_mode_name(enum console_mode mode)
{
	switch (mode) {
	case CONSOLE_AUTO: return "auto";
	case CONSOLE_PTY: return "pty";
	case CONSOLE_PIPE: return "pipe";
	case CONSOLE_READONLY: return "read-only";
	}
	return "unknown";
}

struct console_decision console_decide(enum console_mode mode, bool stdin_tty)
{
	struct console_decision d = { 0 };

	switch (mode) {
	case CONSOLE_AUTO:
		/* Without a terminal (CI), systemd-nspawn's default: the
		 * firmware still has a console, and the job's log shows it. */
		d.pty = true;
		d.input = stdin_tty;
		break;
	case CONSOLE_PTY:
		d.pty = true;
		d.input = true;
		break;
	case CONSOLE_READONLY:
		d.pty = true;
		break;
	case CONSOLE_PIPE:
		break;
	}
	/* Raw mode only for a terminal we read keys from. */
	d.raw = d.input && stdin_tty;
	d.lf = d.pty && !d.input;
	return d;
}

bool console_escape_feed(struct console_escape *st, const void *buf, size_t len,
			 uint64_t now_ns)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++) {
		if (p[i] != CONSOLE_ESCAPE_CHAR) {
			st->count = 0;
			continue;
		}
		/* A Ctrl-] too late for the current run starts a new one. */
		if (st->count == 0 || now_ns - st->first_ns > CONSOLE_ESCAPE_WINDOW_NS) {
			st->count = 0;
			st->first_ns = now_ns;
		}
		if (++st->count >= CONSOLE_ESCAPE_COUNT) {
			st->count = 0;
			return true;
		}
	}
	return false;
}

char **console_init_argv(char *const *argv, const char *default_init, bool pty)
{
	static const char arg[] = "ro.boot.console=console";
	size_t n = 0;
	bool add;
	char **out;

	while (argv[n])
		n++;
	add = pty && n > 0 && default_init && !strcmp(argv[0], default_init);
	for (size_t i = 1; add && i < n; i++)
		if (!strncmp(argv[i], "ro.boot.console=", strlen("ro.boot.console=")))
			add = false;
	out = calloc(n + 2, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		out[i] = argv[i];
	if (add)
		out[n++] = (char *)arg;
	out[n] = NULL;
	return out;
}

size_t console_crlf(const char *in, size_t len, char *out, bool *cr_held)
{
	size_t o = 0;

	if (*cr_held && len) {
		if (in[0] != '\n')
			out[o++] = '\r';
		*cr_held = false;
	}
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\r') {
			if (i + 1 == len) {
				*cr_held = true;
				break;
			}
			if (in[i + 1] == '\n')
				continue;
		}
		out[o++] = in[i];
	}
	return o;
}

/* The length of a "<N>" priority prefix at rec (N: 1 to 3 digits), or 0. */
static size_t kmsg_prefix(const char *rec, size_t n)
{
	size_t i = 1;

	if (n < 3 || rec[0] != '<')
		return 0;
	while (i < n && i <= 3 && rec[i] >= '0' && rec[i] <= '9')
		i++;
	return i > 1 && i < n && rec[i] == '>' ? i + 1 : 0;
}

const char *console_kmsg_text(const char *rec, size_t *len)
{
	size_t n = *len, p = kmsg_prefix(rec, n);

	rec += p;
	n -= p;
	while (n && (rec[n - 1] == '\n' || rec[n - 1] == '\r'))
		n--;
	*len = n;
	return rec;
}

size_t console_kmsg_record(const char *data, size_t len)
{
	bool prefixed = kmsg_prefix(data, len) > 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n')
			return i + 1;
		if (prefixed && i > 0 && kmsg_prefix(data + i, len - i))
			return i;
	}
	return len;
}

static void lines_emit(struct console_lines *l, console_line_fn emit, void *ctx)
{
	while (l->len && l->buf[l->len - 1] == '\r')
		l->len--;
	l->buf[l->len] = '\0';
	emit(ctx, l->buf, l->len);
	l->len = 0;
}

void console_lines_feed(struct console_lines *l, const char *data, size_t len,
			console_line_fn emit, void *ctx)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			lines_emit(l, emit, ctx);
			continue;
		}
		l->buf[l->len++] = data[i];
		if (l->len == CONSOLE_LINE_MAX - 1)
			lines_emit(l, emit, ctx);
	}
}

void console_lines_flush(struct console_lines *l, console_line_fn emit, void *ctx)
{
	if (l->len)
		lines_emit(l, emit, ctx);
}

/* A bracket expression from its '[' : the index after its ']'. */
static size_t skip_bracket(const char *re, size_t i)
{
	i++;
	if (re[i] == '^')
		i++;
	if (re[i] == ']')
		i++;	/* a ']' first is a member */
	while (re[i] && re[i] != ']') {
		if (re[i] == '[' && (re[i + 1] == ':' || re[i + 1] == '.' || re[i + 1] == '=')) {
			char end = re[i + 1];
			const char *close = strchr(re + i + 2, end);
			if (!close || close[1] != ']')
				return strlen(re);
			i = (size_t)(close - re) + 2;
			continue;
		}
		i++;
	}
	return re[i] ? i + 1 : i;
}

int console_until_scan(const char *re)
{
	bool quantified = false;
	size_t i = 0;

	if (strlen(re) > CONSOLE_UNTIL_MAX)
		return -ENAMETOOLONG;
	while (re[i]) {
		char ch = re[i];

		if (ch == '*' || ch == '?' || ch == '+' || ch == '{') {
			if (quantified)
				return -EINVAL;
			quantified = true;
			i++;
			if (ch == '{') {
				i += strspn(re + i, "0123456789,");
				if (re[i] == '}')
					i++;	/* else regcomp says what is wrong */
			}
			continue;
		}
		quantified = false;
		if (ch == '[') {
			i = skip_bracket(re, i);
		} else if (ch == '\\') {
			if (re[i + 1] >= '1' && re[i + 1] <= '9')
				return -ENOTSUP;
			i += re[i + 1] ? 2 : 1;
		} else {
			i++;
		}
	}
	return 0;
}

size_t console_buf_space(const struct console_buf *b)
{
	return CONSOLE_BUF_SIZE - b->end;
}

size_t console_buf_pending(const struct console_buf *b)
{
	return b->end - b->start;
}

void console_buf_compact(struct console_buf *b)
{
	size_t n = console_buf_pending(b);

	if (b->start == 0)
		return;
	memmove(b->data, b->data + b->start, n);
	b->start = 0;
	b->end = n;
}

/* ---- applying half ------------------------------------------------------ */

/* This process's data segment (VmData), in bytes; 0 if unknown. */
static unsigned long long vm_data(void)
{
	char buf[2048];
	const char *p = fw_proc_status("VmData", buf, sizeof(buf));

	return p ? strtoull(p, NULL, 10) * 1024 : 0;
}

/* Lower one limit to want (never raise it: that needs privilege). */
static int limit_to(int resource, rlim_t want)
{
	struct rlimit r;

	if (getrlimit(resource, &r) < 0)
		return -1;
	if (r.rlim_max == RLIM_INFINITY || r.rlim_max > want)
		r.rlim_max = want;
	if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur > r.rlim_max)
		r.rlim_cur = r.rlim_max;
	return setrlimit(resource, &r);
}

/* The trial child's exit status: regcomp()'s result plus UNTIL_TRIAL_RC;
 * anything else (killed at the CPU limit, a sanitizer's allocator giving
 * up on the heap limit) means too costly. */
#define UNTIL_TRIAL_RC 64
#define UNTIL_TRIAL_NO_LIMIT 125

/* The trial child: quiet (a sanitizer's allocator says why it gives up),
 * limited, then regcomp(). Killed by SIGALRM, SIGXCPU or SIGKILL, it
 * counts as too costly. */
static void __attribute__((noreturn)) until_trial_child(const char *re,
							 unsigned long long data)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	sigset_t alrm;
	regex_t rx;
	int r;

	if (null >= 0)
		dup2(null, STDERR_FILENO);
	/* A time limit on the wall clock too: ASan's allocator, failing to
	 * map, can deadlock reporting it, using no CPU. */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	signal(SIGALRM, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &alrm, NULL);
	alarm(CONSOLE_UNTIL_CPU + 3);
	if (limit_to(RLIMIT_DATA, data + CONSOLE_UNTIL_HEAP) < 0 ||
	    limit_to(RLIMIT_CPU, CONSOLE_UNTIL_CPU) < 0)
		_exit(UNTIL_TRIAL_NO_LIMIT);
	r = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	if (r == 0)
		regfree(&rx);	/* for valgrind's count at exit */
	_exit(UNTIL_TRIAL_RC + r);
}

/* regcomp(re) in a child with CONSOLE_UNTIL_HEAP more heap and
 * CONSOLE_UNTIL_CPU seconds of CPU: regcomp's result, REG_ESPACE when a
 * limit stopped it, -errno when it could not try. */
static int until_trial(const char *re)
{
	unsigned long long data = vm_data();
	int status;
	pid_t pid;

	if (!data)
		return -ENOENT;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		until_trial_child(re, data);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == UNTIL_TRIAL_NO_LIMIT)
		return -EPERM;
	if (WIFEXITED(status) && WEXITSTATUS(status) >= UNTIL_TRIAL_RC)
		return WEXITSTATUS(status) - UNTIL_TRIAL_RC;
	return REG_ESPACE;
}

int console_until_check(const char *re, char *why, size_t size)
{
	regex_t none;
	int r = console_until_scan(re);

	if (r == 0)
		r = until_trial(re);
	switch (r) {
	case 0:
		return 0;
	case -ENAMETOOLONG:
		snprintf(why, size, "longer than %d bytes", CONSOLE_UNTIL_MAX);
		break;
	case -EINVAL:
		snprintf(why, size, "two quantifiers in a row");
		break;
	case -ENOTSUP:
		snprintf(why, size, "a back-reference (a console line could make "
			 "matching it take hours)");
		break;
	case REG_ESPACE:
		snprintf(why, size, "takes more than %d MB or %d s to compile",
			 CONSOLE_UNTIL_HEAP >> 20, CONSOLE_UNTIL_CPU);
		break;
	default:
		if (r < 0) {
			snprintf(why, size, "cannot try to compile it: %s", strerror(-r));
			break;
		}
		memset(&none, 0, sizeof(none));
		regerror(r, &none, why, size);
	}
	return -1;
}


/* The terminal's mode before we made it raw, for every exit path. Plain
 * statics: the restore must work from a signal handler and atexit. */
static struct termios saved_mode;
static int saved_fd = -1;
static volatile sig_atomic_t raw_active;

void console_restore(void)
{
	if (raw_active && saved_fd >= 0) {
		/* TCSANOW: never wait for output a dead peer will not take. */
		tcsetattr(saved_fd, TCSANOW, &saved_mode);
		raw_active = 0;
	}
}

static void restore_and_die(int sig)
{
	int saved = errno;

	console_restore();
	/* SA_RESETHAND put the default action back; SA_NODEFER lets this
	 * raise take effect at once. */
	raise(sig);
	errno = saved;
}

static void install_restorers(void)
{
	static bool done;
	static const int fatal[] = {
		SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT, SIGUSR1, SIGUSR2,
		SIGALRM, SIGTRAP, SIGSYS, SIGXCPU, SIGXFSZ,
	};
	struct sigaction sa;

	if (done)
		return;
	done = true;
	atexit(console_restore);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_and_die;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < FW_ARRAY_SIZE(fatal); i++)
		sigaction(fatal[i], &sa, NULL);
}

void console_init(struct console *c)
{
	memset(c, 0, offsetof(struct console, con_lines.buf));
	c->to_fw.data = c->to_fw_data;
	c->to_user.data = c->to_user_data;
	c->master = -1;
	c->slave = -1;
	c->kmsg_master = -1;
	c->kmsg_slave = -1;
	c->log_fd = -1;
	c->in = STDIN_FILENO;
	c->out = STDOUT_FILENO;
}

/* A pty pair: master non-blocking, both O_CLOEXEC | O_NOCTTY; path gets
 * the slave's name. */
static int open_pty(int *master_out, int *slave_out, char *path, size_t size, struct fw_error *e)
{
	_cleanup_close_ int master = -1, slave = -1;
	int r;

	master = FW_FAULT(CONSOLE_OPEN) ? -1 : posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return fw_fail_hint(e, errno, "open pty master", "/dev/ptmx",
				    "is devpts mounted on /dev/pts?");
	if (grantpt(master) < 0 || unlockpt(master) < 0)
		return fw_fail(e, errno, "unlock pty", "/dev/ptmx");
	r = ptsname_r(master, path, size);
	if (r)
		return fw_fail(e, r, "name pty slave", "/dev/ptmx");
	slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return fw_fail(e, errno, "open pty slave", path);
	/* Non-blocking: the master is ours alone, unlike the user's terminal,
	 * whose file description the shell shares. */
	if (fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) < 0)
		return fw_fail(e, errno, "make non-blocking", path);
	*master_out = fw_take_fd(&master);
	*slave_out = fw_take_fd(&slave);
	return 0;
}

int console_open_log(struct console *c, const char *log, struct fw_error *e)
{
	c->log_fd = FW_FAULT(CONSOLE_LOG) ? -1 :
		    open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (c->log_fd < 0)
		return fw_fail(e, errno, "open --console-log", log);
	return 0;
}

int console_open(struct console *c, struct console_decision how, struct fw_error *e)
{
	struct termios t;
	struct winsize ws;

	c->how = how;
	/* /dev/kmsg: raw, so a record comes out as written. */
	if (open_pty(&c->kmsg_master, &c->kmsg_slave, c->kmsg_path, sizeof(c->kmsg_path), e) < 0)
		return -1;
	if (tcgetattr(c->kmsg_slave, &t) == 0) {
		cfmakeraw(&t);
		(void)tcsetattr(c->kmsg_slave, TCSANOW, &t);
	}
	c->kmsg_open = true;
	if (!how.pty)
		return 0;
	if (open_pty(&c->master, &c->slave, c->slave_path, sizeof(c->slave_path), e) < 0)
		return -1;
	if (how.raw && ioctl(c->in, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(c->master, TIOCSWINSZ, &ws);
	c->in_open = how.input;
	c->master_open = true;
	return 0;
}

int console_raw(struct console *c, struct fw_error *e)
{
	struct termios raw;

	if (!c->how.raw)
		return 0;
	if (tcgetattr(c->in, &saved_mode) < 0)
		return fw_fail(e, errno, "read terminal mode of", "stdin");
	saved_fd = c->in;
	install_restorers();
	raw = saved_mode;
	cfmakeraw(&raw);
	raw_active = 1;
	if (tcsetattr(c->in, TCSANOW, &raw) < 0) {
		raw_active = 0;
		return fw_fail(e, errno, "set raw mode on", "stdin");
	}
	return 0;
}

void console_winch(struct console *c)
{
	struct winsize ws;

	if (c->master >= 0 && c->how.raw && ioctl(c->in, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(c->master, TIOCSWINSZ, &ws);
}

enum { P_IN, P_OUT, P_MASTER, P_KMSG, P_COUNT };

int console_poll_fill(struct console *c, struct pollfd *fds)
{
	if (c->master < 0 && c->kmsg_master < 0)
		return 0;
	fds[P_IN] = (struct pollfd){ .fd = -1 };
	fds[P_OUT] = (struct pollfd){ .fd = -1 };
	fds[P_MASTER] = (struct pollfd){ .fd = c->master };
	fds[P_KMSG] = (struct pollfd){ .fd = c->kmsg_open ? c->kmsg_master : -1,
				       .events = POLLIN };
	if (c->master >= 0 && c->in_open && console_buf_space(&c->to_fw) > 0) {
		fds[P_IN].fd = c->in;
		fds[P_IN].events = POLLIN;
	}
	if (console_buf_pending(&c->to_user)) {
		fds[P_OUT].fd = c->out;
		fds[P_OUT].events = POLLOUT;
	}
	if (c->master_open && console_buf_space(&c->to_user) > 0)
		fds[P_MASTER].events |= POLLIN;
	if (console_buf_pending(&c->to_fw))
		fds[P_MASTER].events |= POLLOUT;
	if (!fds[P_MASTER].events)
		fds[P_MASTER].fd = -1;
	return P_COUNT;
}

/* Read what fd has into b. 1: got bytes, 0: nothing now, -1: EOF/error. */
static int fill(int fd, struct console_buf *b)
{
	ssize_t n;

	console_buf_compact(b);
	if (!console_buf_space(b))
		return 0;
	n = read(fd, b->data + b->end, console_buf_space(b));
	if (n > 0) {
		b->end += (size_t)n;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;	/* EOF, or EIO: the other side hung up */
}

/* Write what b holds to fd. -1 when fd is gone (then b is dropped). */
static int flush(int fd, struct console_buf *b)
{
	while (console_buf_pending(b)) {
		ssize_t n = write(fd, b->data + b->start, console_buf_pending(b));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			b->start = b->end = 0;
			return -1;
		}
		b->start += (size_t)n;
	}
	b->start = b->end = 0;
	return 0;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
}

void console_set_until(struct console *c, regex_t *rx, const char *src)
{
	c->until = rx;
	c->until_src = src;
	c->until_heap = heap_in_use();
}

/* --until's DFA cache bounded: past CONSOLE_UNTIL_CACHE of growth, the
 * regex compiled again, then swapped in (glibc's regex_t holds pointers
 * only, to nothing inside itself). Should that compile fail, the old one
 * goes on matching: memory is short, the match is what the run is for. */
static void until_bound(struct console *c)
{
	regex_t fresh;

	if (!c->until_src || heap_in_use() <= c->until_heap + CONSOLE_UNTIL_CACHE)
		return;
	if (regcomp(&fresh, c->until_src, REG_EXTENDED | REG_NOSUB) == 0) {
		regfree(c->until);
		*c->until = fresh;
	}
	c->until_heap = heap_in_use();
}

/* One line of the console or of kmsg: to the log, then --until. */
static void line_out(struct console *c, const char *prefix, const char *line, size_t len)
{
	char buf[CONSOLE_LINE_MAX + 16];
	/* (a NUL byte in the line ends it here) */
	int n = snprintf(buf, sizeof(buf), "%s%.*s\n", prefix, (int)len, line);

	if (n <= 0 || (size_t)n >= sizeof(buf))
		return;		/* not with CONSOLE_LINE_MAX-bounded lines */
	/* One write a line (O_APPEND): a killed fwrun leaves whole lines. */
	if (c->log_fd >= 0)
		(void)fw_write_all(c->log_fd, buf, (size_t)n);
	if (c->until) {
		char *m = buf;
		m[n - 1] = '\0';
		if (regexec(c->until, m, 0, NULL, 0) == 0) {
			c->until = NULL;	/* the first match only */
			c->match = true;
			if (c->matched)
				c->matched(c->matched_data, m);
		} else {
			until_bound(c);
		}
	}
}

static void console_line(void *ctx, char *line, size_t len)
{
	line_out(ctx, "", line, len);
}

/* A kmsg record: marked on stdout (on a line of its own), to the log. */
static void kmsg_record(void *ctx, char *rec, size_t len)
{
	struct console *c = ctx;
	const char *text = console_kmsg_text(rec, &len);
	char buf[CONSOLE_LINE_MAX + 16];
	const char *eol = c->how.raw ? "\r\n" : "\n";
	int n;

	flush(c->out, &c->to_user);
	n = snprintf(buf, sizeof(buf), "%skmsg: %.*s%s", c->out_midline ? eol : "",
		     (int)len, text, eol);
	if (n > 0)
		(void)fw_write_all(c->out, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	c->out_midline = false;
	line_out(c, "kmsg: ", text, len);
}

/* What kmsg has, cut into records (console_kmsg_record). */
static void read_kmsg(struct console *c)
{
	char buf[CONSOLE_BUF_SIZE];

	for (int i = 0; i < 16; i++) {
		ssize_t n = read(c->kmsg_master, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR))
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN)
				c->kmsg_open = false;
			break;
		}
		for (size_t at = 0, rl; at < (size_t)n; at += rl) {
			rl = console_kmsg_record(buf + at, (size_t)n - at);
			kmsg_record(c, buf + at, rl);
		}
	}
}

/* The firmware's console output into to_user (CR LF as LF when read-only),
 * and its lines to the log and --until. -1: the master hung up. */
static int read_master(struct console *c)
{
	char raw[CONSOLE_BUF_SIZE];
	size_t space, got;
	ssize_t n;

	console_buf_compact(&c->to_user);
	space = console_buf_space(&c->to_user);
	if (space < 2)
		return 0;
	n = read(c->master, raw, space - 1);	/* room for a held CR */
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	char *dst = c->to_user.data + c->to_user.end;
	if (c->how.lf) {
		got = console_crlf(raw, (size_t)n, dst, &c->cr_held);
	} else {
		memcpy(dst, raw, (size_t)n);
		got = (size_t)n;
	}
	c->to_user.end += got;
	if (got)
		c->out_midline = dst[got - 1] != '\n';
	console_lines_feed(&c->con_lines, raw, (size_t)n, console_line, c);
	return 1;
}

int console_poll_handle(struct console *c, const struct pollfd *fds, int n,
			uint64_t now_ns)
{
	bool escaped = false;
	int ret;

	if (n < P_COUNT)
		return 0;
	if (fds[P_IN].fd >= 0 && fds[P_IN].revents) {
		size_t before;
		int r;

		console_buf_compact(&c->to_fw);
		before = c->to_fw.end;
		r = fill(c->in, &c->to_fw);
		if (r > 0)
			escaped = console_escape_feed(&c->esc, c->to_fw.data + before,
						      c->to_fw.end - before, now_ns);
		else if (r < 0)
			c->in_open = false;
		/* Straight on to the firmware: no second trip through poll
		 * per keystroke (the master is non-blocking). */
		flush(c->master, &c->to_fw);
	}
	if (fds[P_MASTER].fd >= 0 && (fds[P_MASTER].revents & (POLLIN | POLLHUP | POLLERR))) {
		if (read_master(c) < 0)
			c->master_open = false;
		flush(c->out, &c->to_user);
	}
	if (fds[P_KMSG].fd >= 0 && fds[P_KMSG].revents)
		read_kmsg(c);
	if (fds[P_MASTER].fd >= 0 && (fds[P_MASTER].revents & POLLOUT))
		flush(c->master, &c->to_fw);
	if (fds[P_OUT].fd >= 0 && fds[P_OUT].revents)
		flush(c->out, &c->to_user);
	ret = escaped ? CONSOLE_ESCAPED : 0;
	if (c->match) {
		c->match = false;
		ret |= CONSOLE_MATCHED;
	}
	return ret;
}

void console_drain(struct console *c)
{
	/* The firmware is gone: nothing left to stop (the next boot of a
	 * --restart-on-reboot matches again). */
	regex_t *until = c->until;

	c->until = NULL;
	if (c->kmsg_open)
		read_kmsg(c);
	if (c->master >= 0) {
		/* Bounded: the firmware is gone, what is left is in the pty. */
		for (int i = 0; i < 64 && c->master_open; i++) {
			int r = read_master(c);
			flush(c->out, &c->to_user);
			if (r <= 0)
				break;
		}
		if (c->cr_held) {
			c->cr_held = false;
			(void)fw_write_all(c->out, "\r", 1);
		}
	}
	console_lines_flush(&c->con_lines, console_line, c);
	c->until = until;
}

void console_close(struct console *c)
{
	console_restore();
	fw_closep(&c->master);
	fw_closep(&c->slave);
	fw_closep(&c->kmsg_master);
	fw_closep(&c->kmsg_slave);
	fw_closep(&c->log_fd);
}

bool console_unraw_left(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &t) < 0 || (t.c_lflag & (ICANON | ECHO)))
		return false;
	t.c_iflag |= BRKINT | ICRNL | IXON;
	t.c_oflag |= OPOST | ONLCR;
	t.c_lflag |= ICANON | ECHO | ECHOE | ECHOK | ISIG | IEXTEN;
	return tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
}

int console_open_ptmx(struct console *c, struct console_decision how, int ptmx,
		      struct fw_error *e)
{
	_cleanup_close_ int master = ptmx, slave = -1;
	struct winsize ws;

	c->how = how;
	if (unlockpt(master) < 0)
		return fw_fail(e, errno, "unlock pty", "ptmx");
	/* The slave from the master itself: no path to look up, which is
	 * the firmware's to change. */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return fw_fail(e, errno, "open pty slave", "ptmx");
	if (ptsname_r(master, c->slave_path, sizeof(c->slave_path)) != 0)
		c->slave_path[0] = '\0';
	if (fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) < 0)
		return fw_fail(e, errno, "make non-blocking", "ptmx");
	if (how.raw && ioctl(c->in, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(master, TIOCSWINSZ, &ws);
	c->master = fw_take_fd(&master);
	c->slave = fw_take_fd(&slave);
	c->in_open = true;
	c->master_open = true;
	return 0;
}
