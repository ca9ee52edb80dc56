/* SPDX-License-Identifier: MIT */
/* The firmware's console.
 *
 * With a terminal on stdin (or --console=pty) the supervisor opens a pty
 * pair: the slave becomes the firmware's /dev/console and pid 1's
 * stdin/stdout/stderr and controlling terminal (ns.c does that with
 * ns_plan.console_fd); the supervisor keeps the master and relays it to its
 * own stdin/stdout, with the user's terminal in raw mode (so Ctrl-C, Ctrl-Z,
 * Ctrl-\ are bytes for the firmware, not signals for fwrun) and the window
 * size passed on. Pressing Ctrl-] three times within a second kills the
 * firmware, as in systemd-nspawn. Without a terminal (CI) the console is
 * read-only (systemd-nspawn's name): a pty whose output is copied to stdout,
 * CR LF written as LF, with no input; --console=pipe hands pid 1 fwrun's
 * stdio instead, with nothing in between.
 *
 * The firmware's /dev/kmsg is a second pty (raw, so nothing is echoed or
 * translated): what the firmware writes there comes out as lines marked
 * "kmsg: ", its "<N>" priority taken off. The kernel's /dev/kmsg takes each
 * write as a record; a pty keeps no write boundaries, so a record ends at a
 * LF, at the next "<N>", or at the end of what one read gives (writes
 * without LF nor priority that pile up before fwrun reads them join into
 * one line). Reading it gives
 * nothing (it blocks, or EAGAIN): the kernel's log is not the firmware's.
 *
 * Every line of the console and of kmsg (CR LF as LF) also goes to
 * --console-log (one write a line, O_APPEND: a SIGKILLed fwrun leaves every
 * full line) and is matched against --until.
 *
 * Pure half (unit-tested): console_mode_parse(), console_decide(),
 * console_escape_feed(), console_init_argv(), console_buf_*(),
 * console_crlf(), console_kmsg_text(), console_kmsg_record(),
 * console_lines_feed().
 * Applying half: console_open_log(), console_open(), console_raw(), console_restore(),
 * console_winch(), console_poll_fill()/console_poll_handle(), console_drain(),
 * console_close(). */
#ifndef FWRUN_CONSOLE_H
#define FWRUN_CONSOLE_H

#include <poll.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

#include "util.h"

enum console_mode {
	CONSOLE_AUTO = 0,	/* pty when stdin is a terminal, else read-only */
	CONSOLE_PTY,		/* always a pty (relayed from stdin even if not a tty) */
	CONSOLE_PIPE,		/* never: pid 1 inherits fwrun's stdio */
	CONSOLE_READONLY,	/* a pty whose output is copied to stdout, no input */
};

/* "auto" "pty" "pipe" "read-only" -> mode; -EINVAL for anything else. */
int console_mode_parse(const char *s, enum console_mode *mode);
const char *console_mode_name(enum console_mode mode);

struct console_decision {
	bool pty;	/* open a pty and relay it */
	bool raw;	/* put stdin (a terminal) in raw mode, pass window size */
	bool input;	/* relay stdin to it (not read-only) */
	bool lf;	/* its CR LF written out as LF (read-only) */
};

/* What to do for a mode, given whether stdin and stdout are terminals.
 * The terminal is only switched to raw mode when it is stdin (we read keys
 * from it); stdout a terminal alone does not give a pty in auto mode. */
struct console_decision console_decide(enum console_mode mode, bool stdin_tty);

/* The escape sequence: CONSOLE_ESCAPE_COUNT times CONSOLE_ESCAPE_CHAR, each
 * within CONSOLE_ESCAPE_WINDOW_NS of the first, with nothing else between. */
#define CONSOLE_ESCAPE_CHAR 0x1d	/* Ctrl-] */
#define CONSOLE_ESCAPE_COUNT 3
#define CONSOLE_ESCAPE_WINDOW_NS 1000000000ull

struct console_escape {
	unsigned count;		/* Ctrl-] seen in a row */
	uint64_t first_ns;	/* when the first of them came */
};

/* Feed the bytes of one read, which came at now_ns. Returns true when the
 * sequence is complete (the state is then reset). Works across reads: the
 * state carries the run of Ctrl-] from one call to the next. */
bool console_escape_feed(struct console_escape *st, const void *buf, size_t len,
			 uint64_t now_ns);

/* The init's argv with "ro.boot.console=console" appended when INIT is the
 * default boxinit, a pty console is given and no ro.boot.console= argument
 * is there already. Returns a malloc'd NULL-terminated array of the same
 * strings (the caller frees the array only) or NULL on ENOMEM. */
char **console_init_argv(char *const *argv, const char *default_init, bool pty);

/* Copy in[0..len) to out (room for len + 1 bytes) with CR LF as LF. A CR
 * that ends in is held in *cr_held and written before the next call's
 * bytes unless they begin with LF. Returns the bytes written. */
size_t console_crlf(const char *in, size_t len, char *out, bool *cr_held);

/* A /dev/kmsg record's text: its "<N>" priority prefix (1 to 3 digits)
 * skipped and trailing CR/LF cut. Returns the text's start, *len its length. */
const char *console_kmsg_text(const char *rec, size_t *len);

/* The length of the first record in what one read of the kmsg pty gave:
 * up to and with the first LF; when it begins with "<N>", up to the next
 * "<N>" too (writes that piled up: each began with its priority); else all
 * of it (a write without LF is a record, as the kernel takes it). */
size_t console_kmsg_record(const char *data, size_t len);

/* One stream cut into lines, for the log and --until. A line longer than
 * CONSOLE_LINE_MAX - 1 bytes is cut there. */
#define CONSOLE_LINE_MAX 4096
struct console_lines {
	size_t len;		/* first: see struct console */
	char buf[CONSOLE_LINE_MAX];
};
typedef void (*console_line_fn)(void *ctx, char *line, size_t len);

/* Feed bytes; emit(ctx, line, len) for each complete line (NUL-terminated,
 * without its LF and trailing CRs). */
void console_lines_feed(struct console_lines *l, const char *data, size_t len,
			console_line_fn emit, void *ctx);
/* Emit what is left as a line (nothing when empty). */
void console_lines_flush(struct console_lines *l, console_line_fn emit, void *ctx);

/* --until's regex, from its text alone: more than CONSOLE_UNTIL_MAX bytes
 * (-ENAMETOOLONG), adjacent quantifiers such as "a+*" (undefined in
 * POSIX: -EINVAL), a back-reference \1 to \9 (-ENOTSUP: glibc matches them by
 * backtracking, and a console line of 400 bytes can keep it busy for
 * hours, the supervisor with it). 0 otherwise. */
#define CONSOLE_UNTIL_MAX 1024
int console_until_scan(const char *re);

/* --until's regex, checked before anything runs: console_until_scan(),
 * then a trial regcomp() in a child limited to CONSOLE_UNTIL_HEAP bytes
 * more heap and CONSOLE_UNTIL_CPU seconds. No estimate of glibc's compile
 * holds: it copies what '+' and {m,n} repeat, keeps for each node the
 * nodes it reaches without reading a character, and copies those again
 * behind an anchor, so "a{0,20000}" takes more than a gigabyte and
 * "^(()?){200}" as much. 0: regcomp() in this process takes no more;
 * -1: refused, the reason in why. */
#define CONSOLE_UNTIL_HEAP (64 << 20)
#define CONSOLE_UNTIL_CPU 2
int console_until_check(const char *re, char *why, size_t size);

/* A byte queue for one direction of the relay. */
#define CONSOLE_BUF_SIZE 4096
struct console_buf {
	size_t start, end;	/* pending bytes: data[start..end) */
	char *data;		/* CONSOLE_BUF_SIZE bytes */
};

struct console {
	struct console_decision how;
	int master;		/* pty master, -1 when there is no pty */
	int slave;		/* kept open: the pty stays usable across restarts
				 * and the master never sees a hangup to spin on */
	char slave_path[64];	/* /dev/pts/N */
	int in, out;		/* the user's side: 0 and 1 */
	bool in_open;		/* stdin not at EOF */
	bool master_open;	/* master readable (no EIO yet) */
	struct console_escape esc;
	/* /dev/kmsg: a pty of its own, always (every mode) */
	int kmsg_master, kmsg_slave;
	char kmsg_path[64];
	bool kmsg_open;		/* kmsg master readable */
	bool cr_held;		/* read-only: a CR ended the last read */
	bool out_midline;	/* the console's last byte out was not a LF */
	int log_fd;		/* --console-log, -1: none */
	regex_t *until;		/* --until, NULL: none or matched already */
	const char *until_src;	/* its text: console_set_until() */
	size_t until_heap;	/* heap in use after its last compile */
	void (*matched)(void *data, const char *line);	/* on the first match */
	void *matched_data;
	bool match;		/* a line matched: poll_handle says so once */
	struct console_buf to_fw, to_user;
	/* Last, with nothing to initialise but the count in front: their
	 * 12 KiB cost a run only the pages it uses (console_init() neither
	 * writes nor reads the rest; on some kernels a read of untouched
	 * memory takes a page as a write does). */
	struct console_lines con_lines;
	char to_fw_data[CONSOLE_BUF_SIZE], to_user_data[CONSOLE_BUF_SIZE];
};

/* Results of console_poll_handle(), or'ed. */
#define CONSOLE_ESCAPED 1	/* the escape sequence was typed */
#define CONSOLE_MATCHED 2	/* a line matched --until */

void console_init(struct console *c);

/* Match the console's lines against rx, compiled from src (REG_EXTENDED |
 * REG_NOSUB) by the caller, who frees it. glibc's regexec() keeps every
 * DFA state it builds until regfree(): a pattern like (a|b)*a(a|b){18}c
 * grows it by a gigabyte over 3000 lines of a and b. Once the heap has
 * grown by CONSOLE_UNTIL_CACHE since rx was compiled, the console compiles
 * src again into rx, its cache empty (mallinfo2: glibc's malloc only; under
 * valgrind or ASan no growth shows). */
void console_set_until(struct console *c, regex_t *rx, const char *src);
#define CONSOLE_UNTIL_CACHE (8 << 20)

/* Open the pty pair if the decision says so (master and slave O_CLOEXEC |
 * O_NOCTTY, master non-blocking), copy the terminal's window size to it;
 * the kmsg pty (raw) always. */
int console_open(struct console *c, struct console_decision how, struct fw_error *e);

/* --console-log FILE (O_APPEND, made 0644 if missing): a run opens it
 * before anything is set up, the ptys later. */
int console_open_log(struct console *c, const char *log, struct fw_error *e);

/* The same with a pty master opened already (ptmx: a ptmx device, e.g.
 * the firmware's own /dev/pts/ptmx, whose slaves its ttyname() can name),
 * taken over: closed on failure. The slave comes from TIOCGPTPEER. */
int console_open_ptmx(struct console *c, struct console_decision how, int ptmx,
		      struct fw_error *e);

/* Save the terminal's mode and make it raw (only when how.raw). The saved
 * mode is also restored by console_restore_atexit() (atexit, and fatal
 * signal handlers for SIGSEGV/SIGBUS/SIGABRT/SIGQUIT/SIGPIPE...), so the
 * terminal comes back on every exit path but SIGKILL. */
int console_raw(struct console *c, struct fw_error *e);

/* Put the terminal back as it was (idempotent, async-signal-safe). */
void console_restore(void);

/* A terminal on stdin with neither canonical input nor echo is what a
 * SIGKILLed fwrun (or any raw-mode program killed so) leaves behind. Saved
 * as is by console_raw(), it would be "restored" raw at exit: make it sane
 * first. true when it was repaired (the caller says so). */
bool console_unraw_left(void);

/* SIGWINCH: copy the terminal's size to the pty (the kernel then sends
 * SIGWINCH to the firmware's foreground process group). */
void console_winch(struct console *c);

/* Fill up to CONSOLE_POLL_MAX pollfds for the relay; returns how many. */
#define CONSOLE_POLL_MAX 4
int console_poll_fill(struct console *c, struct pollfd *fds);

/* Move bytes as the poll results allow. Returns CONSOLE_ESCAPED and/or
 * CONSOLE_MATCHED, 0 otherwise. */
int console_poll_handle(struct console *c, const struct pollfd *fds, int n,
			uint64_t now_ns);

/* After the init is gone: move what the firmware wrote last to stdout and
 * the log (a last line without LF gets one); no more --until matching. */
void console_drain(struct console *c);

/* Restore the terminal, close the ptys and the log. */
void console_close(struct console *c);

/* Pure helpers of the byte queues (tested). */
size_t console_buf_space(const struct console_buf *b);
size_t console_buf_pending(const struct console_buf *b);
/* Make room at the end by moving pending bytes to the front. */
void console_buf_compact(struct console_buf *b);

#endif
