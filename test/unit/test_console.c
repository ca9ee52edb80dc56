/* SPDX-License-Identifier: MIT */
/* The console: mode parsing and decision, the escape sequence across split
 * reads and its time window, boxinit's ro.boot.console= argument, and the
 * relay itself on a real pty (no root needed: stdin/stdout are pipes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"

#define MS 1000000ull

static void mode_parse(void **state)
{
	enum console_mode m = CONSOLE_PIPE;
	(void)state;

	assert_int_equal(console_mode_parse("auto", &m), 0);
	assert_int_equal(m, CONSOLE_AUTO);
	assert_int_equal(console_mode_parse("pty", &m), 0);
	assert_int_equal(m, CONSOLE_PTY);
	assert_int_equal(console_mode_parse("pipe", &m), 0);
	assert_int_equal(m, CONSOLE_PIPE);
	assert_int_equal(console_mode_parse("read-only", &m), 0);
	assert_int_equal(m, CONSOLE_READONLY);
	assert_string_equal(console_mode_name(CONSOLE_READONLY), "read-only");
	assert_int_equal(console_mode_parse("readonly", &m), -EINVAL);
	assert_int_equal(console_mode_parse("PTY", &m), -EINVAL);
	assert_int_equal(console_mode_parse("", &m), -EINVAL);
	assert_int_equal(console_mode_parse(NULL, &m), -EINVAL);
	assert_string_equal(console_mode_name(CONSOLE_PTY), "pty");
}

static void decide(void **state)
{
	struct console_decision d;
	(void)state;

	d = console_decide(CONSOLE_AUTO, true);
	assert_true(d.pty);
	assert_true(d.raw);
	assert_true(d.input);
	assert_false(d.lf);
	d = console_decide(CONSOLE_AUTO, false);	/* CI: read-only */
	assert_true(d.pty);
	assert_false(d.raw);
	assert_false(d.input);
	assert_true(d.lf);
	d = console_decide(CONSOLE_READONLY, true);	/* asked for on a tty too */
	assert_true(d.pty);
	assert_false(d.raw);
	assert_false(d.input);
	d = console_decide(CONSOLE_PTY, false);	/* forced: relayed, not raw */
	assert_true(d.pty);
	assert_false(d.raw);
	assert_true(d.input);
	assert_false(d.lf);	/* pty: its bytes as they are */
	d = console_decide(CONSOLE_PTY, true);
	assert_true(d.pty);
	assert_true(d.raw);
	d = console_decide(CONSOLE_PIPE, true);	/* forced off even on a tty */
	assert_false(d.pty);
	assert_false(d.raw);
}

static void escape_in_one_read(void **state)
{
	struct console_escape st = { 0 };
	(void)state;

	assert_true(console_escape_feed(&st, "\x1d\x1d\x1d", 3, 1000 * MS));
	/* state reset: the next two alone are not enough */
	assert_false(console_escape_feed(&st, "\x1d\x1d", 2, 1001 * MS));
	/* two are not enough, nor three broken by another key */
	st = (struct console_escape){ 0 };
	assert_false(console_escape_feed(&st, "\x1d\x1dx\x1d", 4, 5 * MS));
	assert_false(console_escape_feed(&st, "ls\r", 3, 6 * MS));
	/* bytes before the sequence do not matter */
	assert_true(console_escape_feed(&st, "abc\x1d\x1d\x1d", 6, 7 * MS));
}

static void escape_across_split_reads(void **state)
{
	struct console_escape st = { 0 };
	(void)state;

	/* one keystroke per read, as a terminal gives them */
	assert_false(console_escape_feed(&st, "\x1d", 1, 100 * MS));
	assert_false(console_escape_feed(&st, "\x1d", 1, 400 * MS));
	assert_true(console_escape_feed(&st, "\x1d", 1, 900 * MS));
	/* 2 + 1 */
	assert_false(console_escape_feed(&st, "x\x1d\x1d", 3, 2000 * MS));
	assert_true(console_escape_feed(&st, "\x1d" "after", 6, 2100 * MS));
	/* an empty read changes nothing */
	assert_false(console_escape_feed(&st, "\x1d", 1, 3000 * MS));
	assert_false(console_escape_feed(&st, "", 0, 3001 * MS));
	assert_false(console_escape_feed(&st, "\x1d", 1, 3002 * MS));
	assert_true(console_escape_feed(&st, "\x1d", 1, 3003 * MS));
}

static void escape_window(void **state)
{
	struct console_escape st = { 0 };
	(void)state;

	/* exactly 1 s after the first is still within the window */
	assert_false(console_escape_feed(&st, "\x1d", 1, 10000 * MS));
	assert_false(console_escape_feed(&st, "\x1d", 1, 10500 * MS));
	assert_true(console_escape_feed(&st, "\x1d", 1, 11000 * MS));
	/* too slow: the third comes 1.001 s after the first, so a new run
	 * starts with it and needs two more */
	assert_false(console_escape_feed(&st, "\x1d", 1, 20000 * MS));
	assert_false(console_escape_feed(&st, "\x1d", 1, 20600 * MS));
	assert_false(console_escape_feed(&st, "\x1d", 1, 21001 * MS));
	assert_false(console_escape_feed(&st, "\x1d", 1, 21500 * MS));
	assert_true(console_escape_feed(&st, "\x1d", 1, 21900 * MS));
}

static void init_argv(void **state)
{
	char *boxinit[] = { "/sbin/boxinit", NULL };
	char *with_args[] = { "/sbin/boxinit", "ro.debuggable=1", NULL };
	char *given[] = { "/sbin/boxinit", "ro.boot.console=ttyS0", NULL };
	char *other[] = { "/bin/sh", NULL };
	char **a;
	(void)state;

	a = console_init_argv(boxinit, "/sbin/boxinit", true);
	assert_string_equal(a[0], "/sbin/boxinit");
	assert_string_equal(a[1], "ro.boot.console=console");
	assert_null(a[2]);
	free(a);
	a = console_init_argv(with_args, "/sbin/boxinit", true);
	assert_string_equal(a[1], "ro.debuggable=1");
	assert_string_equal(a[2], "ro.boot.console=console");
	assert_null(a[3]);
	free(a);
	/* the user's own value wins */
	a = console_init_argv(given, "/sbin/boxinit", true);
	assert_string_equal(a[1], "ro.boot.console=ttyS0");
	assert_null(a[2]);
	free(a);
	/* no pty: no console to name */
	a = console_init_argv(boxinit, "/sbin/boxinit", false);
	assert_null(a[1]);
	free(a);
	/* not boxinit: its argv is its own */
	a = console_init_argv(other, "/sbin/boxinit", true);
	assert_string_equal(a[0], "/bin/sh");
	assert_null(a[1]);
	free(a);
}

static void buf_helpers(void **state)
{
	static char data[CONSOLE_BUF_SIZE];
	struct console_buf b = { .start = 0, .end = 0, .data = data };
	(void)state;

	assert_int_equal(console_buf_space(&b), CONSOLE_BUF_SIZE);
	assert_int_equal(console_buf_pending(&b), 0);
	memcpy(b.data, "hello", 5);
	b.end = CONSOLE_BUF_SIZE;
	b.start = CONSOLE_BUF_SIZE - 5;
	memcpy(b.data + b.start, "world", 5);
	assert_int_equal(console_buf_space(&b), 0);
	console_buf_compact(&b);
	assert_int_equal(b.start, 0);
	assert_int_equal(b.end, 5);
	assert_memory_equal(b.data, "world", 5);
	assert_int_equal(console_buf_space(&b), CONSOLE_BUF_SIZE - 5);
}

/* One round of poll + handle over the console's fds. */
static int pump(struct console *c, uint64_t now)
{
	struct pollfd fds[CONSOLE_POLL_MAX];
	int n = console_poll_fill(c, fds);

	assert_int_equal(n, CONSOLE_POLL_MAX);
	assert_true(poll(fds, (nfds_t)n, 1000) > 0);
	return console_poll_handle(c, fds, n, now);
}

static ssize_t read_wait(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1);
	return read(fd, buf, size);
}

static void relay_on_a_real_pty(void **state)
{
	struct console c;
	struct fw_error e = { 0 };
	int in[2], out[2];
	char buf[256];
	ssize_t n;
	(void)state;

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	console_init(&c);
	c.in = in[0];
	c.out = out[1];
	assert_int_equal(console_open(&c, console_decide(CONSOLE_PTY, false), &e), 0);
	assert_true(c.master >= 0);
	assert_true(c.slave >= 0);
	assert_memory_equal(c.slave_path, "/dev/pts/", 9);
	assert_true(isatty(c.slave));
	assert_true(fcntl(c.master, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(c.slave, F_GETFD) & FD_CLOEXEC);

	/* The firmware's side is raw so bytes come through as they are. */
	struct termios t;
	assert_int_equal(tcgetattr(c.slave, &t), 0);
	cfmakeraw(&t);
	assert_int_equal(tcsetattr(c.slave, TCSANOW, &t), 0);

	/* firmware -> user */
	assert_int_equal(write(c.slave, "boot ok\n", 8), 8);
	assert_int_equal(pump(&c, 1 * MS), 0);
	n = read_wait(out[0], buf, sizeof(buf));
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "boot ok\n", 8);

	/* user -> firmware, and the escape sequence split over three reads */
	assert_int_equal(write(in[1], "ls\r", 3), 3);
	assert_int_equal(pump(&c, 2 * MS), 0);
	n = read_wait(c.slave, buf, sizeof(buf));
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "ls\r", 3);
	assert_int_equal(write(in[1], "\x1d", 1), 1);
	assert_int_equal(pump(&c, 10 * MS), 0);
	assert_int_equal(write(in[1], "\x1d", 1), 1);
	assert_int_equal(pump(&c, 20 * MS), 0);
	assert_int_equal(write(in[1], "\x1d", 1), 1);
	assert_int_equal(pump(&c, 30 * MS), 1);

	/* what the firmware writes last is drained after it is gone */
	assert_int_equal(write(c.slave, "bye\n", 4), 4);
	console_drain(&c);
	n = read_wait(out[0], buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "bye\n", 4);

	/* stdin at EOF: it is no longer polled, the relay goes on */
	close(in[1]);
	pump(&c, 40 * MS);
	assert_false(c.in_open);

	console_close(&c);
	assert_int_equal(c.master, -1);
	assert_int_equal(c.slave, -1);
	close(in[0]);
	close(out[0]);
	close(out[1]);
}

static void no_pty_no_relay(void **state)
{
	struct console c;
	struct fw_error e = { 0 };
	struct pollfd fds[CONSOLE_POLL_MAX];
	(void)state;

	console_init(&c);
	assert_int_equal(console_open(&c, console_decide(CONSOLE_PIPE, true), &e), 0);
	assert_int_equal(c.master, -1);
	/* only /dev/kmsg's pty is read: nothing of stdin, no console */
	assert_int_equal(console_poll_fill(&c, fds), CONSOLE_POLL_MAX);
	assert_int_equal(fds[0].fd, -1);
	assert_int_equal(fds[1].fd, -1);
	assert_int_equal(fds[2].fd, -1);
	assert_int_equal(fds[3].fd, c.kmsg_master);
	assert_int_equal(console_raw(&c, &e), 0);	/* nothing to do */
	console_close(&c);
}

static void crlf(void **state)
{
	char out[32];
	bool held = false;
	size_t n;
	(void)state;

	n = console_crlf("a\r\nb\rc\n", 7, out, &held);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "a\nb\rc\n", 6);
	assert_false(held);
	/* a CR at the end of one read, its LF in the next */
	n = console_crlf("x\r", 2, out, &held);
	assert_int_equal(n, 1);
	assert_true(held);
	n = console_crlf("\ny", 2, out, &held);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\ny", 2);
	assert_false(held);
	/* ... or not followed by LF: the CR comes out */
	console_crlf("\r", 1, out, &held);
	n = console_crlf("z", 1, out, &held);
	assert_int_equal(n, 2);
	assert_memory_equal(out, "\rz", 2);
}

static void kmsg_text(void **state)
{
	size_t len;
	const char *t;
	(void)state;

	len = 10;
	t = console_kmsg_text("<6>hello\r\n", &len);
	assert_int_equal(len, 5);
	assert_memory_equal(t, "hello", 5);
	len = 10;
	t = console_kmsg_text("<14>init: ", &len);
	assert_int_equal(len, 6);
	assert_memory_equal(t, "init: ", 6);
	len = 5;	/* no digits, no closing >: text as it is */
	t = console_kmsg_text("<a>xy", &len);
	assert_int_equal(len, 5);
	assert_memory_equal(t, "<a>xy", 5);
	len = 3;
	console_kmsg_text("<6>", &len);
	assert_int_equal(len, 0);
	len = 2;
	t = console_kmsg_text("<6", &len);
	assert_int_equal(len, 2);
	assert_memory_equal(t, "<6", 2);
}

static void kmsg_record(void **state)
{
	const char *d = "<6>one<3>two\n<4>three\nfour";
	(void)state;

	assert_int_equal(console_kmsg_record(d, strlen(d)), 6);	/* "<6>one" */
	d += 6;
	assert_int_equal(console_kmsg_record(d, strlen(d)), 7);	/* "<3>two\n" */
	d += 7;
	assert_int_equal(console_kmsg_record(d, strlen(d)), 9);	/* "<4>three\n" */
	d += 9;
	assert_int_equal(console_kmsg_record(d, 4), 4);		/* no LF: all */
	/* without a priority first, a "<N>" in the text is text */
	assert_int_equal(console_kmsg_record("a<1>b", 5), 5);
	assert_int_equal(console_kmsg_record("<1234>x", 7), 7);	/* not a priority */
}

static void until_scan(void **state)
{
	char big[CONSOLE_UNTIL_MAX + 2];
	(void)state;

	assert_int_equal(console_until_scan("^kmsg: .*ready$"), 0);
	assert_int_equal(console_until_scan("a+ b+ c+ d+ e+ f+ g+ h+ i+ j+ k+ l+ m+ n+ o+ p+ q+"), 0);
	assert_int_equal(console_until_scan("login:|[]a]+|[[:digit:]]{2,4}|x\\+\\+"), 0);
	assert_int_equal(console_until_scan("([0-9]{1,3}\\.){3}[0-9]{1,3}"), 0);
	assert_int_equal(console_until_scan("(a{1,100}){1,100}"), 0);
	assert_int_equal(console_until_scan(""), 0);
	assert_int_equal(console_until_scan("a)"), 0);	/* regcomp's to refuse */
	assert_int_equal(console_until_scan("a{x"), 0);
	assert_int_equal(console_until_scan("a{"), 0);
	assert_int_equal(console_until_scan("\\"), 0);
	assert_int_equal(console_until_scan("f++"), -EINVAL);
	assert_int_equal(console_until_scan("a*{2}"), -EINVAL);
	assert_int_equal(console_until_scan("a{2}{3}"), -EINVAL);
	assert_int_equal(console_until_scan("a{2,}?"), -EINVAL);
	assert_int_equal(console_until_scan("a\\**"), 0);	/* an escaped star, then one */
	assert_int_equal(console_until_scan("[*+]*"), 0);	/* and so in brackets */
	assert_int_equal(console_until_scan("[[:alpha:]]+?"), -EINVAL);
	assert_int_equal(console_until_scan("(a*)\\1"), -ENOTSUP);
	assert_int_equal(console_until_scan("(a)(b)\\9x"), -ENOTSUP);
	assert_int_equal(console_until_scan("\\0\\b\\\\1"), 0);	/* an escaped backslash, then 1 */
	assert_int_equal(console_until_scan("[\\1]"), 0);	/* bracket: no escapes */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(console_until_scan(big), -ENAMETOOLONG);
	big[CONSOLE_UNTIL_MAX] = '\0';
	assert_int_equal(console_until_scan(big), 0);
}

/* What console_until_check() says, "" when it accepts. */
static const char *until_says(const char *re)
{
	static char why[128];

	why[0] = '\0';
	if (console_until_check(re, why, sizeof(why)) == 0)
		assert_string_equal(why, "");
	else
		assert_string_not_equal(why, "");
	return why;
}

/* Refused for what it costs: the heap (64 MB), or under valgrind, whose
 * malloc RLIMIT_DATA does not see, the time (2 s). */
static void assert_costly(const char *re)
{
	assert_string_equal(until_says(re), "takes more than 64 MB or 2 s to compile");
}

/* The trial compile: what takes gigabytes is refused before it runs in
 * fwrun's own process. */
static void until_check(void **state)
{
	(void)state;

	assert_string_equal(until_says("^kmsg: .*ready$"), "");
	assert_string_equal(until_says("a{0,1000}"), "");	/* 9 MB */
	assert_string_equal(until_says("a{19999}"), "");
	assert_string_equal(until_says("(a{1,100}){1,100}"), "");
	/* 20 nested: 2^20 copies (16 nested take 92 MB natively, but under
	 * valgrind, which only the CPU limit stops, they may compile in 2 s) */
	assert_costly("((((((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+");
	assert_costly("a{0,20000}");
	/* found by fuzz_parse: a top-level ')' is a literal, copied 32197 times */
	assert_costly("){0566,32197},902\\b!{,}");
	/* an anchor before optional empty groups: closures copied again */
	assert_costly("^(()?){200}");
	assert_string_equal(until_says("a{32768}"), "Regular expression too big");
	assert_string_equal(until_says("a("), "Unmatched ( or \\(");
	assert_string_equal(until_says("f++"), "two quantifiers in a row");
	assert_string_equal(until_says("(x+)\\1"),
			    "a back-reference (a console line could make matching it take hours)");
}

struct got_lines {
	char all[8192];
	int n;
};

static void collect(void *ctx, char *line, size_t len)
{
	struct got_lines *g = ctx;
	size_t have = strlen(g->all);
	assert_int_equal(strlen(line), len);
	snprintf(g->all + have, sizeof(g->all) - have, "%s|", line);
	g->n++;
}

static void lines_feed(void **state)
{
	struct console_lines l = { .len = 0 };
	struct got_lines g = { .n = 0 };
	char big[CONSOLE_LINE_MAX + 10];
	(void)state;

	console_lines_feed(&l, "one\r\ntw", 7, collect, &g);
	assert_string_equal(g.all, "one|");
	console_lines_feed(&l, "o\n\nthree", 8, collect, &g);
	assert_string_equal(g.all, "one|two||");
	console_lines_flush(&l, collect, &g);
	assert_string_equal(g.all, "one|two||three|");
	console_lines_flush(&l, collect, &g);	/* nothing left */
	assert_int_equal(g.n, 4);
	/* a line too long is cut */
	memset(big, 'x', sizeof(big));
	g.all[0] = '\0';
	g.n = 0;
	console_lines_feed(&l, big, sizeof(big), collect, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(l.len, sizeof(big) - (CONSOLE_LINE_MAX - 1));
}

static void on_match(void *data, const char *line)
{
	snprintf(data, 256, "%s", line);
}

/* Read-only: output out with CR LF as LF, kmsg lines marked, both in the
 * log, --until matched once. */
static void read_only_kmsg_log_until(void **state)
{
	struct console c;
	struct fw_error e = { 0 };
	char logpath[] = "/tmp/fwrun-ut-log.XXXXXX";
	char buf[512], matched[256] = "";
	regex_t re;
	int out[2], lfd;
	ssize_t n;
	(void)state;

	lfd = mkstemp(logpath);
	assert_true(lfd >= 0);
	assert_int_equal(write(lfd, "old\n", 4), 4);	/* appended to */
	close(lfd);
	assert_int_equal(regcomp(&re, "^kmsg: ready", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(pipe(out), 0);
	console_init(&c);
	c.out = out[1];
	assert_int_equal(console_open_log(&c, logpath, &e), 0);
	assert_int_equal(console_open(&c, console_decide(CONSOLE_AUTO, false), &e), 0);
	console_set_until(&c, &re, "^kmsg: ready");
	c.matched = on_match;
	c.matched_data = matched;
	assert_true(c.master >= 0 && c.kmsg_master >= 0 && c.log_fd >= 0);
	assert_true(fcntl(c.log_fd, F_GETFL) & O_APPEND);
	assert_true(fcntl(c.kmsg_slave, F_GETFD) & FD_CLOEXEC);

	/* the console, with its output processing (ONLCR) */
	assert_int_equal(write(c.slave, "boot\n", 5), 5);
	assert_int_equal(pump(&c, 1 * MS), 0);
	n = read_wait(out[0], buf, sizeof(buf));
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "boot\n", 5);
	/* kmsg: one write, no newline, a priority */
	assert_int_equal(write(c.kmsg_slave, "<6>ready now", 12), 12);
	assert_int_equal(pump(&c, 2 * MS), CONSOLE_MATCHED);
	n = read_wait(out[0], buf, sizeof(buf));
	assert_int_equal(n, 16);
	assert_memory_equal(buf, "kmsg: ready now\n", 16);
	assert_string_equal(matched, "kmsg: ready now");
	assert_null(c.until);	/* the first match only */
	/* a last line without LF: in the log at the drain */
	assert_int_equal(write(c.slave, "bye", 3), 3);
	console_drain(&c);
	console_close(&c);
	assert_int_equal(c.log_fd, -1);
	lfd = open(logpath, O_RDONLY);
	n = read(lfd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	assert_string_equal(buf, "old\nboot\nkmsg: ready now\nbye\n");
	close(lfd);
	unlink(logpath);
	regfree(&re);
	close(out[0]);
	close(out[1]);
}

static size_t heap_now(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
}

/* The console's lines (read-only: out gets each as written), n bytes of
 * them, all through --until before this returns. */
static void feed_lines(struct console *c, int out, const char *text, size_t n)
{
	char buf[4096];
	size_t got = 0;

	assert_int_equal(write(c->slave, text, n), (ssize_t)n);
	while (got < n) {
		ssize_t r;

		(void)pump(c, 1 * MS);
		while ((r = read(out, buf, sizeof(buf))) > 0)
			got += (size_t)r;
	}
	assert_int_equal(got, n);
}

/* glibc's DFA cache for --until is bounded: 200 lines of a and b grow it
 * by 19 MB under this pattern (8 states more per letter of {12}, none a
 * match), the console compiles it again at CONSOLE_UNTIL_CACHE, and that
 * regex still matches. */
static void until_cache_bounded(void **state)
{
	const char *src = "(a|b)*a(a|b){12}c";
	regex_t *re = malloc(sizeof(*re));
	struct console c;
	struct fw_error e = { 0 };
	char lines[10 * 201], matched[256] = "";
	int out[2];
	size_t heap0, peak = 0;
	(void)state;

	/* valgrind's and ASan's malloc are not glibc's: mallinfo2() sees nothing */
	volatile char *probe = malloc(1 << 20);
	assert_non_null(probe);
	probe[0] = 1;		/* not optimised away */
	bool counted = heap_now() >= (1 << 20);
	free((void *)probe);

	assert_non_null(re);
	assert_int_equal(regcomp(re, src, REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(pipe2(out, O_NONBLOCK), 0);
	console_init(&c);
	c.out = out[1];
	assert_int_equal(console_open(&c, console_decide(CONSOLE_READONLY, false), &e), 0);
	console_set_until(&c, re, src);
	c.matched = on_match;
	c.matched_data = matched;
	heap0 = heap_now();
	srand(1);
	for (int batch = 0; batch < 20; batch++) {
		for (size_t i = 0; i < sizeof(lines); i++)
			lines[i] = i % 201 == 200 ? '\n' : "ab"[rand() & 1];
		feed_lines(&c, out[0], lines, sizeof(lines));
		size_t h = heap_now();
		if (h > heap0 && h - heap0 > peak)
			peak = h - heap0;
	}
	assert_string_equal(matched, "");
	if (counted)
		assert_true(peak <= CONSOLE_UNTIL_CACHE + (1 << 20));
	else
		print_message("not glibc's malloc: the cache's size not checked\n");
	assert_non_null(c.until);
	feed_lines(&c, out[0], "xabbbbbbbbbbbbc\n", 16);
	assert_string_equal(matched, "xabbbbbbbbbbbbc");
	console_close(&c);
	regfree(re);
	free(re);
	close(out[0]);
	close(out[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mode_parse),
		cmocka_unit_test(decide),
		cmocka_unit_test(escape_in_one_read),
		cmocka_unit_test(escape_across_split_reads),
		cmocka_unit_test(escape_window),
		cmocka_unit_test(init_argv),
		cmocka_unit_test(buf_helpers),
		cmocka_unit_test(relay_on_a_real_pty),
		cmocka_unit_test(no_pty_no_relay),
		cmocka_unit_test(crlf),
		cmocka_unit_test(kmsg_text),
		cmocka_unit_test(kmsg_record),
		cmocka_unit_test(until_scan),
		cmocka_unit_test(until_check),
		cmocka_unit_test(lines_feed),
		cmocka_unit_test(read_only_kmsg_log_until),
		cmocka_unit_test(until_cache_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
