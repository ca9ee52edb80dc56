/* SPDX-License-Identifier: MIT */
#include "events.h"
#include "fault.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

const char *const events_ns_types[EVENTS_NS_COUNT] = {
	"mnt", "uts", "ipc", "net", "pid", "cgroup",
};

const char *events_reason_name(enum events_reason r)
{
	switch (r) {
	case EVENTS_EXIT: return "exit";
	case EVENTS_SIGNAL: return "signal";
	case EVENTS_TIMEOUT: return "timeout";
	case EVENTS_REBOOT: return "reboot";
	case EVENTS_POWEROFF: return "poweroff";
	case EVENTS_SETUP_ERROR: return "setup-error";
	case EVENTS_MATCHED: return "matched";
	}
	return "unknown";
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t events_json_escape(char *dst, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t out = 0;

	/* Append n bytes, counting what would be needed beyond size. */
#define PUT(src, n) do {						\
		size_t n_ = (n);					\
		if (out + n_ < size)					\
			memcpy(dst + out, (src), n_);			\
		else if (out < size)					\
			memcpy(dst + out, (src), size - 1 - out);	\
		out += n_;						\
	} while (0)

	while (*p) {
		char esc[8];
		size_t len = utf8_len(p);

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			PUT(esc, 2);
			p++;
		} else if (*p < 0x20 || *p == 0x7f || len == 0) {
			const char *named = NULL;
			switch (*p) {
			case '\n': named = "\\n"; break;
			case '\t': named = "\\t"; break;
			case '\r': named = "\\r"; break;
			case '\b': named = "\\b"; break;
			case '\f': named = "\\f"; break;
			}
			if (named) {
				PUT(named, 2);
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				PUT(esc, 6);
			}
			p++;
		} else {
			PUT(p, len);
			p += len;
		}
	}
#undef PUT
	if (size)
		dst[out < size ? out : size - 1] = '\0';
	return out;
}

/* A small append-only line builder that remembers overflow. */
struct line {
	char *buf;
	size_t size, len;
	bool overflow;
};

__attribute__((format(printf, 2, 3)))
static void add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, l->size - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= l->size - l->len)
		l->overflow = true;
	else
		l->len += (size_t)n;
}

static void add_string(struct line *l, const char *key, const char *value)
{
	size_t n;

	add(l, ",\"%s\":\"", key);
	if (l->overflow)
		return;
	n = events_json_escape(l->buf + l->len, l->size - l->len, value);
	if (n >= l->size - l->len) {
		l->overflow = true;
		return;
	}
	l->len += n;
	add(l, "\"");
}

static int finish(struct line *l)
{
	add(l, "}\n");
	if (l->overflow) {
		if (l->size)
			l->buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)l->len;
}

int events_format_started(char *buf, size_t size, const struct events_started *s)
{
	struct line l = { buf, size, 0, size == 0 };

	add(&l, "{\"event\":\"started\",\"run\":%u,\"pid\":%d,\"supervisor_pid\":%d",
	    s->run, (int)s->pid, (int)s->supervisor_pid);
	if (s->name)
		add_string(&l, "name", s->name);
	add(&l, ",\"namespaces\":{");
	for (size_t i = 0; i < EVENTS_NS_COUNT; i++) {
		if (s->ns[i])
			add(&l, "%s\"%s\":%llu", i ? "," : "", events_ns_types[i],
			    (unsigned long long)s->ns[i]);
		else
			add(&l, "%s\"%s\":null", i ? "," : "", events_ns_types[i]);
	}
	add(&l, "}");
	if (s->init_kind)
		add_string(&l, "init", s->init_kind);
	if (s->arch)
		add_string(&l, "arch", s->arch);
	if (s->emulator)
		add_string(&l, "emulator", s->emulator);
	if (s->ifaces) {
		add(&l, ",\"network\":[");
		for (size_t i = 0; i < s->nifaces; i++) {
			const struct events_iface *f = &s->ifaces[i];
			add(&l, "%s{\"if\":\"", i ? "," : "");
			/* names and addresses need no escaping: checked at parse */
			add(&l, "%s\"", f->inner ? f->inner : "");
			if (f->addr)
				add_string(&l, "addr", f->addr);
			if (f->host)
				add_string(&l, "host_if", f->host);
			if (f->host_addr)
				add_string(&l, "host_addr", f->host_addr);
			add(&l, "}");
		}
		add(&l, "]");
	}
	return finish(&l);
}

int events_format_exited(char *buf, size_t size, const struct events_exited *x)
{
	struct line l = { buf, size, 0, size == 0 };

	add(&l, "{\"event\":\"exited\"");
	if (x->run)
		add(&l, ",\"run\":%u", x->run);
	add(&l, ",\"status\":%d,\"reason\":\"%s\"", x->status, events_reason_name(x->reason));
	if (x->reason != EVENTS_SETUP_ERROR) {
		/* How the init itself ended, whatever fwrun made of it. */
		if (WIFEXITED(x->wstatus)) {
			add(&l, ",\"code\":%d", WEXITSTATUS(x->wstatus));
		} else if (WIFSIGNALED(x->wstatus)) {
			int sig = WTERMSIG(x->wstatus);
			const char *abbrev = sigabbrev_np(sig);
			if (abbrev)
				add(&l, ",\"signal\":\"%s\"", abbrev);
			else
				add(&l, ",\"signal\":%d", sig);
		}
	}
	if (x->error)
		add_string(&l, "error", x->error);
	if (x->has_memory_peak)
		add(&l, ",\"memory_peak\":%llu", (unsigned long long)x->memory_peak);
	if (x->has_cpu)
		add(&l, ",\"cpu_usec\":%llu", (unsigned long long)x->cpu_usec);
	if (x->has_oom)
		add(&l, ",\"oom_kills\":%llu", (unsigned long long)x->oom_kills);
	return finish(&l);
}

int events_format_restarting(char *buf, size_t size, unsigned run, enum events_reason why)
{
	struct line l = { buf, size, 0, size == 0 };

	add(&l, "{\"event\":\"restarting\",\"run\":%u,\"reason\":\"%s\"", run,
	    events_reason_name(why));
	return finish(&l);
}

int events_format_matched(char *buf, size_t size, unsigned run, const char *line)
{
	struct line l = { buf, size, 0, size == 0 };

	add(&l, "{\"event\":\"matched\",\"run\":%u", run);
	add_string(&l, "line", line);
	return finish(&l);
}

int events_stamp(char *out, size_t size, const char *line, int len, int64_t wall_ns,
		 uint64_t elapsed_ns)
{
	time_t secs = (time_t)(wall_ns / 1000000000);
	struct tm tm;
	char when[32];
	int n;

	if (len < 3 || line[len - 2] != '}' || line[len - 1] != '\n' || !gmtime_r(&secs, &tm) ||
	    !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm))
		return -EINVAL;
	n = snprintf(out, size, "%.*s%s\"time\":\"%s.%03dZ\",\"elapsed_ms\":%llu.%03llu}\n",
		     len - 2, line, line[len - 3] == '{' ? "" : ",", when, (int)(wall_ns / 1000000 % 1000),
		     (unsigned long long)(elapsed_ns / 1000000),
		     (unsigned long long)(elapsed_ns / 1000 % 1000));
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

static uint64_t origin_ns;

void events_set_origin(uint64_t mono_ns)
{
	origin_ns = mono_ns;
}

int events_open(int fd, struct fw_error *e)
{
	char subject[16];
	int flags;

	snprintf(subject, sizeof(subject), "%d", fd);
	if (fd < 0)
		return fw_fail(e, EBADF, "use --status-fd", subject);
	flags = FW_FAULT(STATUS_FD) ? -1 : fcntl(fd, F_GETFL);
	if (flags < 0)
		return fw_fail_hint(e, errno, "use --status-fd", subject,
				    "sudo closes fds above 2: sudo sh -c 'fwrun ... 3>events.json'");
	if ((flags & O_ACCMODE) == O_RDONLY)
		return fw_fail_hint(e, EBADF, "use --status-fd", subject, "it is open read-only");
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return fw_fail(e, errno, "set close-on-exec on --status-fd", subject);
	return 0;
}

int events_emit(int fd, const char *line, int len)
{
	char stamped[EVENTS_LINE_MAX + 96];
	struct timespec now;
	uint64_t mono = fw_now_ns();
	ssize_t n;
	int sl;

	if (fd < 0 || len <= 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	sl = events_stamp(stamped, sizeof(stamped), line, len,
			  (int64_t)now.tv_sec * 1000000000 + now.tv_nsec,
			  origin_ns && mono > origin_ns ? mono - origin_ns : 0);
	if (sl > 0) {
		line = stamped;
		len = sl;
	}
	/* One write: a reader never sees half a line (pipes: atomic up to
	 * PIPE_BUF; our lines are short). A reader gone is not our failure. */
	n = fw_write_all(fd, line, (size_t)len);
	return n < 0 ? (int)n : 0;
}
