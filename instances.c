/* SPDX-License-Identifier: MIT */
/* The running instances' records: see instances.h. */
#include "instances.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- pure half ---- */

/* Append "key value\n" with value escaped; false when it does not fit. */
static bool put(char *buf, size_t size, size_t *len, const char *key, const char *value)
{
	size_t n = *len;
	int k = snprintf(buf + n, size - n, "%s ", key);

	if (k < 0 || (size_t)k >= size - n)
		return false;
	n += (size_t)k;
	for (const char *p = value; *p; p++) {
		const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : NULL;
		size_t w = esc ? 2 : 1;
		if (n + w + 2 > size)
			return false;
		if (esc)
			memcpy(buf + n, esc, 2);
		else
			buf[n] = *p;
		n += w;
	}
	buf[n++] = '\n';
	buf[n] = '\0';
	*len = n;
	return true;
}

static bool putu(char *buf, size_t size, size_t *len, const char *key, int64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%" PRId64, v);
	return put(buf, size, len, key, num);
}

int instance_record_format(char *buf, size_t size, const struct instance_record *r)
{
	size_t len = 0;
	bool ok;

	if (!size)
		return -ENOSPC;
	buf[0] = '\0';
	ok = put(buf, size, &len, "name", r->name) &&
	     putu(buf, size, &len, "supervisor_pid", r->supervisor_pid) &&
	     putu(buf, size, &len, "supervisor_start", (int64_t)r->supervisor_start) &&
	     putu(buf, size, &len, "init_pid", r->init_pid) &&
	     putu(buf, size, &len, "init_start", (int64_t)r->init_start) &&
	     put(buf, size, &len, "rootfs", r->rootfs) &&
	     put(buf, size, &len, "state_dir", r->ephemeral ? "" : r->state_dir) &&
	     putu(buf, size, &len, "ephemeral", r->ephemeral) &&
	     put(buf, size, &len, "console", r->console) &&
	     putu(buf, size, &len, "started", r->started);
	for (size_t i = 0; ok && i < r->nnet; i++) {
		const struct instance_net *n = &r->net[i];
		char line[256];
		snprintf(line, sizeof(line), "%s %s %s %s %s", n->kind, n->host, n->inner,
			 n->addr[0] ? n->addr : "-", n->gateway[0] ? n->gateway : "-");
		ok = put(buf, size, &len, "net", line);
	}
	return ok ? (int)len : -ENOSPC;
}

/* Copy an escaped value of length len into out (size), unescaped. */
static void unescape(char *out, size_t size, const char *v, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < size; i++) {
		if (v[i] == '\\' && i + 1 < len) {
			out[o++] = (char)(v[i + 1] == 'n' ? '\n' : v[i + 1]);
			i++;
		} else {
			out[o++] = v[i];
		}
	}
	out[o] = '\0';
}

static bool num(const char *s, int64_t min, int64_t *out)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min)
		return false;
	*out = v;
	return true;
}

static void parse_net(struct instance_record *r, const char *v)
{
	struct instance_net *n = &r->net[r->nnet];
	char addr[64], gw[64];

	if (r->nnet >= INSTANCE_NET_MAX)
		return;
	memset(n, 0, sizeof(*n));
	if (sscanf(v, "%7s %15s %15s %63s %63s", n->kind, n->host, n->inner, addr, gw) != 5)
		return;
	if (strcmp(addr, "-") != 0)
		fw_strlcpy(n->addr, addr, sizeof(n->addr));
	if (strcmp(gw, "-") != 0)
		fw_strlcpy(n->gateway, gw, sizeof(n->gateway));
	r->nnet++;
}

int instance_record_parse(const char *text, struct instance_record *r)
{
	char v[PATH_MAX];
	int64_t x;

	memset(r, 0, sizeof(*r));
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *sp = memchr(line, ' ', len);
		if (sp) {
			size_t klen = (size_t)(sp - line);
			unescape(v, sizeof(v), sp + 1, len - klen - 1);
#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(line, k, klen))
			if (KEY("name"))
				fw_strlcpy(r->name, v, sizeof(r->name));
			else if (KEY("supervisor_pid") && num(v, 1, &x) && x <= INT32_MAX)
				r->supervisor_pid = (pid_t)x;
			else if (KEY("supervisor_start") && num(v, 0, &x))
				r->supervisor_start = (uint64_t)x;
			else if (KEY("init_pid") && num(v, 1, &x) && x <= INT32_MAX)
				r->init_pid = (pid_t)x;
			else if (KEY("init_start") && num(v, 0, &x))
				r->init_start = (uint64_t)x;
			else if (KEY("rootfs"))
				fw_strlcpy(r->rootfs, v, sizeof(r->rootfs));
			else if (KEY("state_dir"))
				fw_strlcpy(r->state_dir, v, sizeof(r->state_dir));
			else if (KEY("ephemeral"))
				r->ephemeral = !strcmp(v, "1");
			else if (KEY("console"))
				fw_strlcpy(r->console, v, sizeof(r->console));
			else if (KEY("started") && num(v, 0, &x))
				r->started = x;
			else if (KEY("net"))
				parse_net(r, v);
#undef KEY
		}
		line += len + (nl ? 1 : 0);
	}
	return r->name[0] && r->supervisor_pid > 0 && r->init_pid > 0 ? 0 : -EINVAL;
}

int instance_proc_start(const char *stat_line, uint64_t *start)
{
	/* "pid (comm) state ppid ...": comm may hold spaces and ')', so
	 * count fields from the last ')'. starttime is field 22. */
	const char *p = strrchr(stat_line, ')');

	if (!p)
		return -EINVAL;
	p++;
	for (int field = 2; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end == p || (*end != ' ' && *end != '\n' && *end))
		return -EINVAL;
	*start = v;
	return 0;
}

/* ---- applying half ---- */

int instance_pid_start(pid_t pid, uint64_t *start)
{
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n = fw_read_all(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return instance_proc_start(buf, start);
}

static bool alive(pid_t pid, uint64_t start)
{
	uint64_t now = 0;

	return pid > 0 && instance_pid_start(pid, &now) == 0 && now == start;
}

/* NAME's record, or the dot-file written first and renamed over it. */
static void record_path(char *buf, size_t size, const char *name, bool tmp)
{
	snprintf(buf, size, tmp ? FWRUN_RECORD_DIR "/.%s.tmp" : FWRUN_RECORD_DIR "/%s", name);
}

int instance_record_write(const struct instance_record *r, struct fw_error *e)
{
	static char buf[INSTANCE_RECORD_MAX] FW_SCRATCH;	/* the supervisor's alone */
	char tmp[128], path[128];
	int n, err;

	n = instance_record_format(buf, sizeof(buf), r);
	if (n < 0)
		return fw_fail(e, -n, "write the record of", r->name);
	record_path(path, sizeof(path), r->name, false);
	record_path(tmp, sizeof(tmp), r->name, true);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
				      0644);
	if (fd < 0)
		return fw_fail(e, errno, "write", tmp);
	bool written = fw_write_all(fd, buf, (size_t)n) == n;
	err = errno;
	fw_discard(buf, sizeof(buf));
	if (!written) {
		unlink(tmp);
		return fw_fail(e, err, "write", tmp);
	}
	if (rename(tmp, path) < 0) {
		err = errno;
		unlink(tmp);
		return fw_fail(e, err, "write", path);
	}
	return 0;
}

void instance_record_remove(const char *name)
{
	char path[128];

	record_path(path, sizeof(path), name, false);
	unlink(path);
	record_path(path, sizeof(path), name, true);
	unlink(path);
}

/* Read one record file; -errno. */
static int read_record(int dfd, const char *name, struct instance_record *r)
{
	static char buf[INSTANCE_RECORD_MAX];	/* one process, one thread reads */
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = fw_read_all(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return instance_record_parse(buf, r);
}

static bool live(const struct instance_record *r)
{
	return alive(r->supervisor_pid, r->supervisor_start) && alive(r->init_pid, r->init_start);
}

int instance_find(const char *name, struct instance_record *r, bool *stale, struct fw_error *e)
{
	_cleanup_close_ int dfd = open(FWRUN_RECORD_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				       O_CLOEXEC);
	int rc = dfd < 0 ? -errno : read_record(dfd, name, r);

	*stale = false;
	if (rc < 0 && rc != -ENOENT && rc != -ENOTDIR)
		return fw_fail(e, -rc, "read the record of", name);
	if (rc == 0 && strcmp(r->name, name) == 0 && live(r))
		return 0;
	*stale = rc == 0;
	/* The hint is the reason: no errno text (fwrun_format_error()). */
	fw_fail_hint(e, ENOENT, "find instance", name, *stale ?
		     "not running any more (its fwrun was killed): see fwrun --list" :
		     "not running: see fwrun --list");
	e->err = 0;
	return -ENOENT;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int instance_each(instance_cb cb, void *data, struct fw_error *e)
{
	static struct instance_record r;	/* paths of PATH_MAX: not on the stack */
	struct dirent **names = NULL;
	int rc = 0;
	_cleanup_close_ int dfd = open(FWRUN_RECORD_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				       O_CLOEXEC);

	if (dfd < 0)
		return errno == ENOENT ? 0 : fw_fail(e, errno, "list", FWRUN_RECORD_DIR);
	int n = scandirat(dfd, ".", &names, visible, by_name);
	if (n < 0)
		return fw_fail(e, errno, "list", FWRUN_RECORD_DIR);
	for (int i = 0; i < n; i++) {
		if (!rc && read_record(dfd, names[i]->d_name, &r) == 0 &&
		    strcmp(r.name, names[i]->d_name) == 0 && live(&r))
			rc = cb(&r, data);
		free(names[i]);
	}
	free(names);
	return rc;
}
