/* SPDX-License-Identifier: MIT */
#include "console.h"
#include "fault.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

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
	}
	return "unknown";
}

struct console_decision console_decide(enum console_mode mode, bool stdin_tty)
{
	struct console_decision d = { false, false };

	switch (mode) {
	case CONSOLE_AUTO:
		d.pty = stdin_tty;
		break;
	case CONSOLE_PTY:
		d.pty = true;
		break;
	case CONSOLE_PIPE:
		break;
	}
	/* Raw mode only for a terminal we read keys from. */
	d.raw = d.pty && stdin_tty;
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
	memset(c, 0, sizeof(*c));
	c->master = -1;
	c->slave = -1;
	c->in = STDIN_FILENO;
	c->out = STDOUT_FILENO;
}

static int console_take(struct console *c, int *master, int *slave, struct fw_error *e);

int console_open(struct console *c, struct console_decision how, struct fw_error *e)
{
	_cleanup_close_ int master = -1, slave = -1;
	int r;

	c->how = how;
	if (!how.pty)
		return 0;
	master = FW_FAULT(CONSOLE_OPEN) ? -1 : posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return fw_fail_hint(e, errno, "open pty master", "/dev/ptmx",
				    "is devpts mounted on /dev/pts?");
	if (grantpt(master) < 0 || unlockpt(master) < 0)
		return fw_fail(e, errno, "unlock pty", "/dev/ptmx");
	r = ptsname_r(master, c->slave_path, sizeof(c->slave_path));
	if (r)
		return fw_fail(e, r, "name pty slave", "/dev/ptmx");
	slave = open(c->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return fw_fail(e, errno, "open pty slave", c->slave_path);
	return console_take(c, &master, &slave, e);
}

int console_open_ptmx(struct console *c, struct console_decision how, int ptmx,
		      struct fw_error *e)
{
	_cleanup_close_ int master = ptmx, slave = -1;

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
	return console_take(c, &master, &slave, e);
}

/* The pair opened: the master non-blocking, the window size passed on. */
static int console_take(struct console *c, int *master, int *slave, struct fw_error *e)
{
	struct winsize ws;
	const struct console_decision how = c->how;
	/* Non-blocking: the master is ours alone, unlike the user's terminal,
	 * whose file description the shell shares. */
	if (fcntl(*master, F_SETFL, fcntl(*master, F_GETFL) | O_NONBLOCK) < 0)
		return fw_fail(e, errno, "make non-blocking", c->slave_path);
	if (how.raw && ioctl(c->in, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(*master, TIOCSWINSZ, &ws);
	c->master = fw_take_fd(master);
	c->slave = fw_take_fd(slave);
	c->in_open = true;
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

enum { P_IN, P_OUT, P_MASTER, P_COUNT };

int console_poll_fill(struct console *c, struct pollfd *fds)
{
	if (c->master < 0)
		return 0;
	fds[P_IN] = (struct pollfd){ .fd = -1 };
	fds[P_OUT] = (struct pollfd){ .fd = -1 };
	fds[P_MASTER] = (struct pollfd){ .fd = c->master };
	if (c->in_open && console_buf_space(&c->to_fw) > 0) {
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

int console_poll_handle(struct console *c, const struct pollfd *fds, int n,
			uint64_t now_ns)
{
	bool escaped = false;

	if (c->master < 0 || n < P_COUNT)
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
		if (fill(c->master, &c->to_user) < 0)
			c->master_open = false;
		flush(c->out, &c->to_user);
	}
	if (fds[P_MASTER].fd >= 0 && (fds[P_MASTER].revents & POLLOUT))
		flush(c->master, &c->to_fw);
	if (fds[P_OUT].fd >= 0 && fds[P_OUT].revents)
		flush(c->out, &c->to_user);
	return escaped ? 1 : 0;
}

void console_drain(struct console *c)
{
	if (c->master < 0)
		return;
	/* Bounded: the firmware is gone, what is left is in the pty. */
	for (int i = 0; i < 64 && c->master_open; i++) {
		int r = fill(c->master, &c->to_user);
		flush(c->out, &c->to_user);
		if (r <= 0)
			break;
	}
}

void console_close(struct console *c)
{
	console_restore();
	fw_closep(&c->master);
	fw_closep(&c->slave);
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
