/* SPDX-License-Identifier: MIT */
/* The instance's cgroup: see cgroup.h. */
#include "cgroup.h"
#include "fault.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <linux/bpf.h>

#include "rundir.h"
#include "state.h"

/* ---- options ---- */

int cg_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	double v;

	if (!s[0] || s[0] == '-' || s[0] == '+' || (s[0] < '0' || s[0] > '9'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v == v))
		return -EINVAL;
	double mult = 1;
	switch (*end) {
	case 'k': case 'K': mult = 1024.0; end++; break;
	case 'm': case 'M': mult = 1024.0 * 1024; end++; break;
	case 'g': case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
	case 't': case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
	default: break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -EINVAL;
	v *= mult;
	if (v >= 18446744073709551616.0)
		return -ERANGE;
	if (v < 1024.0 * 1024)
		return -ERANGE;	/* below 1 MiB no init boots: a unit forgotten */
	*bytes = (uint64_t)v;
	return 0;
}

int cg_parse_pids(const char *s, uint64_t *n)
{
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < 1 || v > 4194304)
		return -ERANGE;
	*n = v;
	return 0;
}

int cg_parse_cpus(const char *s, uint64_t *quota_us)
{
	char *end;

	if ((s[0] < '0' || s[0] > '9') && s[0] != '.')
		return -EINVAL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v == v))
		return -EINVAL;
	if (v < 0.01 || v > 4096)
		return -ERANGE;
	*quota_us = (uint64_t)(v * CG_CPU_PERIOD_US + 0.5);
	return 0;
}

int cg_parse_device(struct cg_opts *o, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	size_t plen = colon ? (size_t)(colon - arg) : strlen(arg);
	unsigned access = 0;

	if (o->ndevices >= CG_DEVICES_MAX)
		return -E2BIG;
	if (plen <= 5 || strncmp(arg, "/dev/", 5) != 0)
		return -EINVAL;
	/* No ".." component, no "//": the node's place in the firmware's /dev
	 * is the same path. */
	for (size_t i = 4; i < plen; i++) {
		if (arg[i] == '/' && (arg[i + 1] == '/' || i + 1 == plen))
			return -EINVAL;
		if (arg[i] == '/' && arg[i + 1] == '.' &&
		    (i + 2 == plen || arg[i + 2] == '/' ||
		     (arg[i + 2] == '.' && (i + 3 == plen || arg[i + 3] == '/'))))
			return -EINVAL;
	}
	if (colon) {
		if (!colon[1])
			return -EINVAL;
		for (const char *p = colon + 1; *p; p++) {
			unsigned bit = *p == 'r' ? CG_ACC_READ : *p == 'w' ? CG_ACC_WRITE :
				       *p == 'm' ? CG_ACC_MKNOD : 0;
			if (!bit || (access & bit))
				return -EINVAL;
			access |= bit;
		}
	} else {
		access = CG_ACC_ALL;
	}
	struct cg_device *d = &o->devices[o->ndevices];
	if (plen >= sizeof(d->path))
		return -ENAMETOOLONG;
	memset(d, 0, sizeof(*d));
	memcpy(d->path, arg, plen);
	d->access = access;
	o->ndevices++;
	return 0;
}

/* ---- device rules ---- */

/* What a firmware needs, whatever the node's path (a firmware may mknod its
 * own /dev, as Android's first stage does):
 *  - the memory devices a program expects: null zero full random urandom;
 *  - the terminal ones: tty, console, ptmx and the pty slaves (majors
 *    136-143: the new devpts instance's, and the host pty that fwrun binds
 *    on /dev/console);
 *  - net/tun and fuse: they make things inside the firmware's own
 *    namespaces (a tap of its netns, a fuse mount of its mount namespace);
 *  - kmsg for mknod only: Android's first stage aborts when its mknod of
 *    /dev/kmsg fails, and logs nothing when it cannot open it; reading the
 *    host's kernel log or writing into it stays denied.
 * Not: block devices, mem/kmem/port (1:1 1:2 1:4), the host's virtual
 * consoles and serial lines (major 4), rtc, watchdog, input, anything else.
 * --device adds the host node it names, with the access it names. */
static const struct cg_rule default_rules[] = {
	{ 'c', 1, 1, 3, CG_ACC_ALL },	/* null */
	{ 'c', 1, 1, 5, CG_ACC_ALL },	/* zero */
	{ 'c', 1, 1, 7, CG_ACC_ALL },	/* full */
	{ 'c', 1, 1, 8, CG_ACC_ALL },	/* random */
	{ 'c', 1, 1, 9, CG_ACC_ALL },	/* urandom */
	{ 'c', 1, 1, 11, CG_ACC_MKNOD },	/* kmsg: mknod only */
	{ 'c', 5, 5, 0, CG_ACC_ALL },	/* tty */
	{ 'c', 5, 5, 1, CG_ACC_ALL },	/* console */
	{ 'c', 5, 5, 2, CG_ACC_ALL },	/* ptmx */
	{ 'c', 136, 143, -1, CG_ACC_ALL },	/* pts/N */
	{ 'c', 10, 10, 200, CG_ACC_ALL },	/* net/tun */
	{ 'c', 10, 10, 229, CG_ACC_ALL },	/* fuse */
};

size_t cg_rules(const struct cg_opts *o, struct cg_rule *rules, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < FW_ARRAY_SIZE(default_rules) && n < max; i++)
		rules[n++] = default_rules[i];
	for (size_t i = 0; o && i < o->ndevices && n < max; i++) {
		const struct cg_device *d = &o->devices[i];
		rules[n++] = (struct cg_rule){ d->type, (int)d->major, (int)d->major,
					       (int)d->minor, d->access };
	}
	return n;
}

int cg_rule_lines(const struct cg_rule *rules, size_t n,
		  int (*fn)(const char *line, void *data), void *data)
{
	char line[64], minor[16], acc[4];

	for (size_t i = 0; i < n; i++) {
		const struct cg_rule *r = &rules[i];
		size_t k = 0;
		if (r->access & CG_ACC_READ)
			acc[k++] = 'r';
		if (r->access & CG_ACC_WRITE)
			acc[k++] = 'w';
		if (r->access & CG_ACC_MKNOD)
			acc[k++] = 'm';
		acc[k] = '\0';
		if (r->minor < 0)
			strcpy(minor, "*");
		else
			snprintf(minor, sizeof(minor), "%d", r->minor);
		if (r->major_lo < 0) {
			snprintf(line, sizeof(line), "%c *:%s %s", r->type, minor, acc);
			int ret = fn(line, data);
			if (ret)
				return ret;
			continue;
		}
		for (int maj = r->major_lo; maj <= r->major_hi; maj++) {
			snprintf(line, sizeof(line), "%c %d:%s %s", r->type, maj, minor, acc);
			int ret = fn(line, data);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* The few instructions we need, as the kernel's uapi spells them. */
static struct bpf_insn bpf_op(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
				  .imm = imm };
}
#define LDX_W(dst, src, off) bpf_op(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define MOV_REG(dst, src) bpf_op(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV_IMM(dst, imm) bpf_op(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define AND_IMM(dst, imm) bpf_op(BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH_IMM(dst, imm) bpf_op(BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define LSH_REG(dst, src) bpf_op(BPF_ALU64 | BPF_LSH | BPF_X, dst, src, 0, 0)
#define JMP_IMM(op, dst, imm) bpf_op(BPF_JMP | (op) | BPF_K, dst, 0, 0, imm)	/* off: fixed up */
#define EXIT() bpf_op(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Rules from i on that one test of the minor as a bit of a mask can take:
 * the same type, one major, the same access, minors below 32. */
static size_t minor_group(const struct cg_rule *rules, size_t n, size_t i, uint32_t *mask)
{
	const struct cg_rule *a = &rules[i];
	size_t j = i;

	*mask = 0;
	while (j < n && rules[j].type == a->type && a->type != 'a' && a->major_lo >= 0 &&
	       rules[j].major_lo == a->major_lo && rules[j].major_hi == a->major_lo &&
	       rules[j].access == a->access && rules[j].minor >= 0 && rules[j].minor < 32)
		*mask |= UINT32_C(1) << rules[j++].minor;
	return j - i;
}

/*   r2 = ctx->access_type; r3 = r2 & 0xffff (device type); r2 >>= 16 (access)
 *   r4 = ctx->major; r5 = ctx->minor
 *   per rule: any test that fails jumps to the next rule; all pass: r0 = 1, exit
 *   end: r0 = 0, exit (denied)
 * Rules that differ only in a small minor (null, zero, full, random,
 * urandom) are one rule testing the bit (1 << minor) of their mask: fewer
 * paths for the verifier, which walks each rule once per way to reach it. */
int cg_bpf_program(const struct cg_rule *rules, size_t n, void *out, size_t max)
{
	struct bpf_insn *p = out;
	size_t k = 0;

#define EMIT(i) do { if (k >= max) return -ENOSPC; p[k++] = (i); } while (0)
	EMIT(LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
	EMIT(MOV_REG(BPF_REG_3, BPF_REG_2));
	EMIT(AND_IMM(BPF_REG_3, 0xffff));
	EMIT(RSH_IMM(BPF_REG_2, 16));
	EMIT(LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major)));
	EMIT(LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
	for (size_t i = 0, grouped; i < n; i += grouped) {
		const struct cg_rule *r = &rules[i];
		size_t start = k;
		uint32_t mask;
		grouped = minor_group(rules, n, i, &mask);
		if (grouped < 2)
			grouped = 1;
		if (r->type != 'a')
			EMIT(JMP_IMM(BPF_JNE, BPF_REG_3, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK :
				     BPF_DEVCG_DEV_CHAR));
		if ((r->access & CG_ACC_ALL) != CG_ACC_ALL) {
			/* every access asked must be one the rule allows */
			EMIT(MOV_REG(BPF_REG_0, BPF_REG_2));
			EMIT(AND_IMM(BPF_REG_0, (int32_t)(~r->access & CG_ACC_ALL)));
			EMIT(JMP_IMM(BPF_JNE, BPF_REG_0, 0));
		}
		if (r->major_lo >= 0 && r->major_lo == r->major_hi) {
			EMIT(JMP_IMM(BPF_JNE, BPF_REG_4, r->major_lo));
		} else if (r->major_lo >= 0) {
			EMIT(JMP_IMM(BPF_JLT, BPF_REG_4, r->major_lo));
			EMIT(JMP_IMM(BPF_JGT, BPF_REG_4, r->major_hi));
		}
		if (grouped > 1) {
			EMIT(JMP_IMM(BPF_JGT, BPF_REG_5, 31));
			EMIT(MOV_IMM(BPF_REG_0, 1));
			EMIT(LSH_REG(BPF_REG_0, BPF_REG_5));
			EMIT(AND_IMM(BPF_REG_0, (int32_t)mask));
			EMIT(JMP_IMM(BPF_JEQ, BPF_REG_0, 0));
		} else if (r->minor >= 0) {
			EMIT(JMP_IMM(BPF_JNE, BPF_REG_5, r->minor));
		}
		EMIT(MOV_IMM(BPF_REG_0, 1));
		EMIT(EXIT());
		/* the failed tests skip to the next rule, at k */
		for (size_t j = start; j < k; j++)
			if (BPF_CLASS(p[j].code) == BPF_JMP && BPF_OP(p[j].code) != BPF_EXIT)
				p[j].off = (int16_t)(k - (j + 1));
	}
	EMIT(MOV_IMM(BPF_REG_0, 0));
	EMIT(EXIT());
#undef EMIT
	return (int)k;
}

/* ---- where the cgroups go ---- */

const char *cg_mode_name(enum cg_mode m)
{
	switch (m) {
	case CG_MODE_V2: return "cgroup v2";
	case CG_MODE_V1: return "cgroup v1/hybrid";
	case CG_MODE_NONE: break;
	}
	return "none";
}

void cg_host_free(struct cg_host *h)
{
	for (size_t i = 0; i < h->nhier; i++)
		free(h->hier[i].own);
	memset(h, 0, sizeof(*h));
}

static int parse_self_fail(struct cg_host *h, int err)
{
	cg_host_free(h);
	return err;
}

int cg_parse_self(const char *text, struct cg_host *h)
{
	memset(h, 0, sizeof(*h));
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', len);
		const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
		if (len == 0)
			goto next;
		if (!c2)
			return parse_self_fail(h, -EINVAL);
		size_t clen = (size_t)(c2 - c1 - 1), plen = len - (size_t)(c2 + 1 - line);
		if (h->nhier >= CG_HIER_MAX || clen >= sizeof(h->hier[0].controllers) ||
		    plen == 0 || plen >= PATH_MAX || c2[1] != '/')
			return parse_self_fail(h, -EINVAL);
		struct cg_hier *hi = &h->hier[h->nhier];
		if (!(hi->own = strndup(c2 + 1, plen)))
			return parse_self_fail(h, -ENOMEM);
		h->nhier++;
		memcpy(hi->controllers, c1 + 1, clen);
		hi->controllers[clen] = '\0';
		hi->v2 = clen == 0 && len > 2 && line[0] == '0' && c1 == line + 1;
next:
		line += len + (nl ? 1 : 0);
	}
	return 0;
}

/* mountinfo's octal escapes (\040 for a space) undone in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Is every item of list (comma-separated) among opts' items? */
static bool all_in(const char *list, const char *opts)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		bool found = false;
		for (const char *q = opts; *q;) {
			size_t m = strcspn(q, ",");
			if (m == n && strncmp(p, q, n) == 0)
				found = true;
			q += m + (q[m] == ',');
		}
		if (!found)
			return false;
		p += n + (p[n] == ',');
	}
	return true;
}

int cg_parse_mountinfo(const char *text, struct cg_host *h)
{
	char *placed[CG_HIER_MAX] = { NULL };
	char buf[4096];

	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		line += len + (nl ? 1 : 0);
		if (len >= sizeof(buf))
			continue;
		memcpy(buf, line - len - (nl ? 1 : 0), len);
		buf[len] = '\0';
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - TYPE SOURCE SUPER */
		char *field[6], *save = NULL, *tok = strtok_r(buf, " ", &save);
		size_t nf = 0;
		while (tok && nf < 6) {
			field[nf++] = tok;
			tok = strtok_r(NULL, " ", &save);
		}
		if (nf < 6)
			continue;
		while (tok && strcmp(tok, "-") != 0)
			tok = strtok_r(NULL, " ", &save);
		char *type = tok ? strtok_r(NULL, " ", &save) : NULL;
		char *source = type ? strtok_r(NULL, " ", &save) : NULL;
		char *super = source ? strtok_r(NULL, " ", &save) : NULL;
		if (!super)
			continue;
		bool v2 = strcmp(type, "cgroup2") == 0;
		if (!v2 && strcmp(type, "cgroup") != 0)
			continue;
		char *root = field[3], *mnt = field[4];
		unescape(root);
		unescape(mnt);
		size_t rlen = strcmp(root, "/") == 0 ? 0 : strlen(root);
		for (size_t i = 0; i < h->nhier; i++) {
			struct cg_hier *hi = &h->hier[i];
			if (placed[i] || hi->v2 != v2 || (!v2 && !all_in(hi->controllers, super)))
				continue;
			/* the mount must show our cgroup: its root at or above it */
			if (rlen && (strncmp(hi->own, root, rlen) != 0 ||
				     (hi->own[rlen] != '/' && hi->own[rlen] != '\0')))
				continue;
			const char *below = hi->own + rlen;
			if (strcmp(below, "/") == 0)
				below = "";
			const char *top = strcmp(mnt, "/") ? mnt : "";
			if (strlen(top) + strlen(below) >= PATH_MAX)
				continue;
			if (asprintf(&placed[i], "%s%s", top, *top || *below ? below : "/") < 0) {
				placed[i] = NULL;
				for (size_t j = 0; j < h->nhier; j++)
					free(placed[j]);
				cg_host_free(h);
				return -ENOMEM;
			}
		}
	}
	size_t n = 0;
	bool any_v1 = false, any_v2 = false;
	h->unplaced = 0;
	for (size_t i = 0; i < h->nhier; i++) {
		free(h->hier[i].own);
		if (!placed[i]) {
			h->unplaced++;
			continue;
		}
		h->hier[n] = h->hier[i];
		h->hier[n].own = placed[i];
		any_v1 |= !h->hier[n].v2;
		any_v2 |= h->hier[n].v2;
		n++;
	}
	h->nhier = n;
	h->mode = any_v1 ? CG_MODE_V1 : any_v2 ? CG_MODE_V2 : CG_MODE_NONE;
	return 0;
}

void cg_format_max(char *buf, size_t size, uint64_t v)
{
	if (v)
		snprintf(buf, size, "%" PRIu64, v);
	else
		snprintf(buf, size, "max");
}

void cg_format_cpu_max(char *buf, size_t size, uint64_t quota_us)
{
	if (quota_us)
		snprintf(buf, size, "%" PRIu64 " %d", quota_us, CG_CPU_PERIOD_US);
	else
		snprintf(buf, size, "max %d", CG_CPU_PERIOD_US);
}

/* ---- applying ---- */

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = fw_read_all(fd, buf, size - 1);
	int err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return (int)n;
}

int cg_plan_host(struct cg_instance *cg, const struct cg_opts *o, const char *instance,
		 struct fw_error *e)
{
	static char text[65536] FW_SCRATCH;	/* mountinfo of a busy host: not on the stack */
	int r;

	memset(cg, 0, sizeof(*cg));
	cg->planned = true;
	cg->opts = *o;
	for (size_t i = 0; i < CG_HIER_MAX; i++)
		cg->join.procs_fd[i] = -1;
	cg->join.into_fd = cg->join.into_index = -1;
	snprintf(cg->name, sizeof(cg->name), CG_PREFIX "%s", instance);
	snprintf(cg->supervisor, sizeof(cg->supervisor), CG_PREFIX "supervisor.%d", (int)getpid());
	if ((r = read_text("/proc/self/cgroup", text, sizeof(text))) < 0)
		return fw_fail(e, -r, "read", "/proc/self/cgroup");
	if ((r = cg_parse_self(text, &cg->host)) < 0)
		return fw_fail(e, -r, "parse", "/proc/self/cgroup");
	if ((r = read_text("/proc/self/mountinfo", text, sizeof(text))) < 0)
		r = fw_fail(e, -r, "read", "/proc/self/mountinfo");
	else if ((size_t)r >= sizeof(text) - 1)
		r = fw_fail_hint(e, EFBIG, "read", "/proc/self/mountinfo", "over 64 KiB of mounts");
	else if ((r = cg_parse_mountinfo(text, &cg->host)) < 0)
		r = fw_fail(e, -r, "parse", "/proc/self/mountinfo");
	fw_discard(text, sizeof(text));
	for (size_t i = 0; r >= 0 && i < o->ndevices; i++) {
		struct cg_device *d = &cg->opts.devices[i];
		struct stat st;
		if (stat(d->path, &st) < 0) {
			r = fw_fail(e, errno, "use --device", d->path);
		} else if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
			r = fw_fail_hint(e, ENODEV, "use --device", d->path,
					 "not a character or block device");
		} else {
			d->type = S_ISCHR(st.st_mode) ? 'c' : 'b';
			d->major = major(st.st_rdev);
			d->minor = minor(st.st_rdev);
			d->mode = st.st_mode & 07777;
		}
	}
	if (r < 0)
		cg_host_free(&cg->host);
	return r < 0 ? r : 0;
}

static bool wants_limits(const struct cg_opts *o)
{
	return o->memory_max || o->pids_max || o->cpu_quota_us;
}

/* OWN/name[/sub]; truncated to "" (which no call can use) when too long. */
static void dir_of(char *buf, size_t size, const struct cg_hier *hi, const char *name,
		   const char *sub)
{
	if ((size_t)snprintf(buf, size, "%s%s%s%s%s", hi->own, strcmp(hi->own, "/") ? "/" : "",
			     name, sub ? "/" : "", sub ? sub : "") >= size)
		buf[0] = '\0';
}

static int write_at(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return fw_write_file(path, text);
}

/* A cgroup below the one being read (a directory, not . or ..). */
static bool is_subdir(const struct dirent *de)
{
	return de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
}

/* Remove dir and every cgroup below it (those a systemd inside made),
 * deepest first. Fails with EBUSY where one still holds a process. */
static int rmdir_tree(int parent, const char *name, int depth)
{
	if (depth > 32)
		return -ELOOP;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (is_subdir(de))
			rmdir_tree(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* A v1 freezer: a process it froze does not die of SIGKILL until thawed,
 * and a firmware can freeze its own cgroups (it mounts the freezer
 * hierarchy, rooted at its payload, and writes FROZEN), so that neither
 * the stop nor the pid namespace's end would ever come. Write THAWED to
 * dir (below parent) and every cgroup below it that is not; returns how
 * many were frozen or freezing. v2 needs none of it: a fatal signal ends a
 * frozen process there. */
static int thaw_tree(int parent, const char *name, int depth)
{
	char state[16];
	int thawed = 0;

	if (depth > 32)
		return 0;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	_cleanup_close_ int sfd = openat(fd, "freezer.state", O_RDWR | O_CLOEXEC);
	ssize_t n = sfd < 0 ? -1 : pread(sfd, state, sizeof(state) - 1, 0);
	if (n > 0) {
		state[n] = '\0';
		if (strcmp(state, "THAWED\n") != 0 && write(sfd, "THAWED", 6) == 6)
			thawed++;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return thawed;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (is_subdir(de))
			thawed += thaw_tree(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	return thawed;
}

static bool is_v1_freezer(const struct cg_hier *hi)
{
	return !hi->v2 && all_in("freezer", hi->controllers);
}

/* thaw_tree() of name (fwrun-X) in hi, when hi is a v1 freezer. */
static int thaw_in(const struct cg_hier *hi, const char *name)
{
	if (!is_v1_freezer(hi))
		return 0;
	_cleanup_close_ int dfd = open(hi->own, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? 0 : thaw_tree(dfd, name, 0);
}

void cg_thaw(const struct cg_instance *cg)
{
	for (size_t i = 0; i < cg->host.nhier; i++)
		if (cg->created[i])
			thaw_in(&cg->host.hier[i], cg->name);
}

/* Remove fwrun-NAME in one hierarchy, waiting (bounded) for the processes
 * of a pid namespace that is still being torn down to leave it. */
static int remove_one(const struct cg_hier *hi, const char *name, int wait_ms)
{
	_cleanup_close_ int dfd = open(hi->own, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (dfd < 0)
		return -errno;
	/* What fwrun made alone, without reading the directories (a v1
	 * cgroup lists dozens of files): the walk only for what a systemd
	 * inside made, or for a payload still emptying. */
	char payload[128];
	snprintf(payload, sizeof(payload), "%s/" CG_PAYLOAD, name);
	if ((unlinkat(dfd, payload, AT_REMOVEDIR) == 0 || errno == ENOENT) &&
	    unlinkat(dfd, name, AT_REMOVEDIR) == 0)
		return 0;
	for (int i = 0;; i++) {
		r = rmdir_tree(dfd, name, 0);
		if (r != -EBUSY || i >= wait_ms)
			return r;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
}

/* ---- stale cgroups ---- */

/* Serialises the making of cgroups with the removal of stale ones: a stale
 * fwrun-X is only removed while X's lock is free, and X makes its own only
 * under this lock. Runs making their own hold it shared (a herd makes its
 * cgroups in parallel), a sweep of the stale ones holds it exclusively. */
static int open_cgroup_lock(void)
{
	int fd = open(FWRUN_CGROUP_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

static int lock_wait(int fd, int how)
{
	while (flock(fd, how) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* Our own fwrun-NAME left by a killed run of our name: stale by
 * definition, we hold the name's lock. Under the cgroup lock, either way. */
static void remove_own_stale(struct cg_instance *cg)
{
	int thawed = 0;

	for (size_t i = 0; i < cg->host.nhier; i++)
		thawed += thaw_in(&cg->host.hier[i], cg->name);
	for (size_t i = 0; i < cg->host.nhier; i++)
		remove_one(&cg->host.hier[i], cg->name, thawed ? 1000 : 0);
}

/* Is de, in one of our own cgroups, the fwrun-X of an instance that is
 * not running? Ours is, by definition: we hold its lock. dfd: the instance
 * directory, -1 when there is none (no instance runs). */
static bool stale_entry(const struct cg_instance *cg, int dfd, const struct dirent *de)
{
	if (de->d_type != DT_DIR || strncmp(de->d_name, CG_PREFIX, strlen(CG_PREFIX)) != 0)
		return false;
	return strcmp(de->d_name, cg->name) == 0 || dfd < 0 ||
	       !instance_running(dfd, de->d_name + strlen(CG_PREFIX));
}

/* The stale fwrun-X below hi's own cgroup (stale_entry()): thawed
 * (thaw_tree()) when thaw, else removed, waiting up to wait_ms for their
 * processes to leave. Returns how many were thawed, or removed. */
static int sweep_in(struct cg_instance *cg, int dfd, const struct cg_hier *hi, bool thaw,
		    int wait_ms)
{
	int n = 0;
	DIR *d = opendir(hi->own);

	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (stale_entry(cg, dfd, de))
			n += thaw ? thaw_tree(dirfd(d), de->d_name, 0) :
				    remove_one(hi, de->d_name, wait_ms) == 0;
	closedir(d);
	return n;
}

/* Every fwrun-* below our own cgroups whose instance is not running
 * (ours included: we hold its name, and make it only after this). Under
 * the cgroup lock held exclusively: no instance is making its cgroups, so
 * one whose lock file names no live fwrun has none in the making. What a
 * firmware froze is thawed first, in every stale instance, then given a
 * moment to die of the SIGKILL its killed fwrun left pending. */
static int remove_stale_locked(struct cg_instance *cg)
{
	int removed = 0, thawed = 0;

	_cleanup_close_ int dfd = open(FWRUN_INSTANCE_DIR,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 && errno != ENOENT)
		return 0;	/* cannot tell who runs: leave them all */
	for (size_t i = 0; i < cg->host.nhier; i++)
		if (is_v1_freezer(&cg->host.hier[i]))
			thawed += sweep_in(cg, dfd, &cg->host.hier[i], true, 0);
	for (size_t i = 0; i < cg->host.nhier; i++)
		removed += sweep_in(cg, dfd, &cg->host.hier[i], false, thawed ? 1000 : 0);
	return removed;
}

int cg_remove_stale(struct cg_instance *cg)
{
	_cleanup_close_ int lk = open_cgroup_lock();
	int r;

	if (lk < 0)
		return lk;
	if ((r = lock_wait(lk, LOCK_EX)) < 0)
		return r;
	return remove_stale_locked(cg);
}

/* One rule per write(2), all to one open devices.allow. */
static int add_allow_line(const char *line, void *data)
{
	ssize_t n = fw_write_all(*(const int *)data, line, strlen(line));

	return n < 0 ? (int)n : 0;
}

/* v1: deny all, then allow the rules, on dir. -1 with errno. */
static int v1_allowlist(const char *dir, const struct cg_opts *o)
{
	struct cg_rule rules[CG_RULES_MAX];
	size_t n = cg_rules(o, rules, CG_RULES_MAX);
	char path[PATH_MAX + 64];
	int r;

	if (FW_FAULT(CGROUP_DEVICES) || write_at(dir, "devices.deny", "a") < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/devices.allow", dir);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if ((r = cg_rule_lines(rules, n, add_allow_line, &fd)) < 0)
		errno = -r;
	return r < 0 ? -1 : 0;
}

/* v2: the device program on dir (BPF_F_ALLOW_MULTI: one below may only
 * narrow it). The program lives as long as the cgroup. */
static int attach_device_program(const char *dir, const struct cg_opts *o, struct fw_error *e)
{
	struct cg_rule rules[CG_RULES_MAX];
	static struct bpf_insn insns[CG_BPF_INSNS_MAX];
	size_t n = cg_rules(o, rules, CG_RULES_MAX);
	int count = cg_bpf_program(rules, n, insns, CG_BPF_INSNS_MAX);
	union bpf_attr attr;

	if (count < 0)
		return fw_fail(e, -count, "build the device program for", dir);
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)count;
	attr.license = (uint64_t)(uintptr_t)"MIT";
	int prog = FW_FAULT(CGROUP_BPF) ? -1 :
		   (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	if (prog < 0)
		return fw_fail_hint(e, errno, "load the device program for", dir,
				    "a kernel with CONFIG_CGROUP_BPF is needed");
	fcntl(prog, F_SETFD, FD_CLOEXEC);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dfd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	int r = dfd < 0 ? -1 : (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof(attr));
	int err = errno;
	close(prog);
	if (r < 0)
		return fw_fail(e, err, "attach the device program to", dir);
	return 0;
}

/* Does our own cgroup hold our process alone? Then it was made for this
 * run (systemd-run --scope -p Delegate=yes fwrun ...). */
static bool alone_in(const char *own)
{
	char path[PATH_MAX + 32], text[256], me[24];

	snprintf(path, sizeof(path), "%s/cgroup.procs", own);
	snprintf(me, sizeof(me), "%d\n", (int)getpid());
	return read_text(path, text, sizeof(text)) > 0 && strcmp(text, me) == 0;
}

/* v2: memory and pids for the instance (accounting, and a systemd inside
 * gets them), cpu only for --cpus (it changes how the siblings share CPU),
 * enabled in our own cgroup. The rule of no internal processes refuses that
 * while it holds processes; when it holds fwrun alone, fwrun moves itself
 * into a leaf below it first (as nspawn's supervisor does), and back at the
 * end. Elsewhere the limits are refused with a hint; without a limit asked
 * the run goes on without the accounting. */
static int v2_own_controllers(struct cg_instance *cg, const struct cg_hier *hi,
			      struct fw_error *e)
{
	const struct cg_opts *o = &cg->opts;
	char want[64], path[PATH_MAX + 32], leaf[PATH_MAX + 32];

	snprintf(want, sizeof(want), "+memory +pids%s", o->cpu_quota_us ? " +cpu" : "");
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", hi->own);
	int r = FW_FAULT(CGROUP_CONTROLLERS) ? -errno : fw_write_file(path, want);
	if (r == -EBUSY && strcmp(hi->own, "/") != 0 && alone_in(hi->own)) {
		dir_of(leaf, sizeof(leaf), hi, cg->supervisor, NULL);
		if (mkdir(leaf, 0755) == 0 || errno == EEXIST) {
			if (write_at(leaf, "cgroup.procs", "0") == 0) {
				cg->self_moved = true;
				r = fw_write_file(path, want);
			} else {
				rmdir(leaf);
			}
		}
	}
	if (r == 0) {
		fw_strlcpy(cg->enabled, want, sizeof(cg->enabled));
		return 0;
	}
	if (!wants_limits(o))
		return 0;
	return fw_fail_hint(e, -r, "enable the controllers for the limits in", path, r == -EBUSY ?
			    "cgroup v2 gives no controllers to a cgroup with other processes: "
			    "start fwrun in a cgroup of its own, e.g. "
			    "systemd-run --scope -p Delegate=yes fwrun ..." :
			    "does the host offer memory, pids, cpu to fwrun's cgroup?");
}

/* Undo v2_own_controllers: disable what we enabled (the controllers' state
 * of our own cgroup as it was) and go back into it. */
static void v2_own_restore(struct cg_instance *cg, const struct cg_hier *hi)
{
	char path[PATH_MAX + 32], leaf[PATH_MAX + 32];

	if (!cg->self_moved)
		return;
	for (char *p = cg->enabled; (p = strchr(p, '+')); p++)
		*p = '-';
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", hi->own);
	(void)fw_write_file(path, cg->enabled);
	if (write_at(hi->own, "cgroup.procs", "0") == 0) {
		dir_of(leaf, sizeof(leaf), hi, cg->supervisor, NULL);
		rmdir(leaf);
		cg->self_moved = false;
	}
}

/* v2: every controller fwrun-NAME got, passed on to payload. */
static int v2_delegate(const char *dir, struct fw_error *e)
{
	char path[PATH_MAX + 32], have[256], pass[300] = "";
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	if (read_text(path, have, sizeof(have)) <= 0)
		return 0;
	for (char *save = NULL, *c = strtok_r(have, " \n", &save); c;
	     c = strtok_r(NULL, " \n", &save))
		len += (size_t)snprintf(pass + len, sizeof(pass) - len, "%s+%s", len ? " " : "", c);
	if (len && write_at(dir, "cgroup.subtree_control", pass) < 0)
		return fw_fail(e, errno, "delegate controllers below", dir);
	return 0;
}

/* v1 cpuset: a cgroup takes tasks only with cpus and mems set. */
static int v1_cpuset(const struct cg_hier *hi, const char *dir)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	char parent[PATH_MAX + 32], text[4096];

	for (size_t i = 0; i < 2; i++) {
		snprintf(parent, sizeof(parent), "%s/%s", hi->own, files[i]);
		if (read_text(parent, text, sizeof(text)) < 0 || write_at(dir, files[i], text) < 0)
			return -errno;
	}
	return 0;
}

static int set_limits(const struct cg_instance *cg, const struct cg_hier *hi, const char *dir,
		      struct fw_error *e)
{
	const struct cg_opts *o = &cg->opts;
	char v[64];
	const char *file = NULL;

	if (hi->v2 && cg->host.mode != CG_MODE_V2)
		return 0;	/* hybrid: the v1 hierarchies hold the controllers */
	if (hi->v2) {
		if (o->memory_max) {
			cg_format_max(v, sizeof(v), o->memory_max);
			if (write_at(dir, file = "memory.max", v) < 0)
				goto fail;
			/* no swapping around the limit either */
			(void)write_at(dir, "memory.swap.max", "0");
		}
		if (o->pids_max) {
			cg_format_max(v, sizeof(v), o->pids_max);
			if (write_at(dir, file = "pids.max", v) < 0)
				goto fail;
		}
		if (o->cpu_quota_us) {
			cg_format_cpu_max(v, sizeof(v), o->cpu_quota_us);
			if (write_at(dir, file = "cpu.max", v) < 0)
				goto fail;
		}
		return 0;
	}
	const char *ctl = hi->controllers;
	if (o->memory_max && all_in("memory", ctl)) {
		cg_format_max(v, sizeof(v), o->memory_max);
		if (write_at(dir, file = "memory.limit_in_bytes", v) < 0)
			goto fail;
		(void)write_at(dir, "memory.memsw.limit_in_bytes", v);
	}
	if (o->pids_max && all_in("pids", ctl)) {
		cg_format_max(v, sizeof(v), o->pids_max);
		if (write_at(dir, file = "pids.max", v) < 0)
			goto fail;
	}
	if (o->cpu_quota_us && all_in("cpu", ctl)) {
		snprintf(v, sizeof(v), "%d", CG_CPU_PERIOD_US);
		if (write_at(dir, file = "cpu.cfs_period_us", v) < 0)
			goto fail;
		snprintf(v, sizeof(v), "%" PRIu64, o->cpu_quota_us);
		if (write_at(dir, file = "cpu.cfs_quota_us", v) < 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(v, sizeof(v), "%s", file);
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", dir, v);
	return fw_fail(e, errno, "set the limit", path);
}

/* v1 memory alone, without --memory-max: pid 1 in fwrun-NAME itself, no
 * payload. fwrun sets nothing there, so payload would leave the firmware
 * no less than fwrun-NAME does (memory v1 has no weight against its
 * siblings; what it may set binds itself, and fwrun's own cgroup still
 * binds it), while each memory cgroup costs the kernel a map of every
 * shrinker, 1 KiB per 64 superblocks on the host: some 70 KiB each with a
 * thousand instances running (bench/RESULTS.md). */
static bool one_level(const struct cg_instance *cg, const struct cg_hier *hi)
{
	return !hi->v2 && strcmp(hi->controllers, "memory") == 0 && !cg->opts.memory_max;
}

static bool has_v1_devices(const struct cg_host *h)
{
	for (size_t i = 0; i < h->nhier; i++)
		if (!h->hier[i].v2 && all_in("devices", h->hier[i].controllers))
			return true;
	return false;
}

/* fwrun-NAME and payload in one hierarchy, configured. */
static int create_one(struct cg_instance *cg, size_t i, struct fw_error *e)
{
	const struct cg_hier *hi = &cg->host.hier[i];
	const struct cg_opts *o = &cg->opts;
	char dir[PATH_MAX], payload[PATH_MAX + 16], path[PATH_MAX + 32];
	int r;

	dir_of(dir, sizeof(dir), hi, cg->name, NULL);
	if (FW_FAULT(CGROUP_MKDIR) || mkdir(dir, 0755) < 0)
		return fw_fail(e, errno, "create cgroup", dir);
	cg->created[i] = true;
	if (hi->v2) {
		if (cg->host.mode == CG_MODE_V2 && (r = v2_own_controllers(cg, hi, e)) < 0)
			return r;
		if ((r = v2_delegate(dir, e)) < 0)
			return r;
		/* on a hybrid host devices.allow does it (a program costs a
		 * millisecond to load) */
		if (!has_v1_devices(&cg->host) && (r = attach_device_program(dir, o, e)) < 0)
			return r;
	} else {
		if (all_in("cpuset", hi->controllers) && v1_cpuset(hi, dir) < 0)
			return fw_fail(e, errno, "copy cpuset.cpus and cpuset.mems to", dir);
		if (all_in("devices", hi->controllers) && v1_allowlist(dir, o) < 0)
			return fw_fail(e, errno, "set the device allowlist of", dir);
	}
	if ((r = set_limits(cg, hi, dir, e)) < 0)
		return r;
	snprintf(payload, sizeof(payload), "%s/" CG_PAYLOAD, dir);
	if (one_level(cg, hi))
		fw_strlcpy(payload, dir, sizeof(payload));
	else if (mkdir(payload, 0755) < 0)
		return fw_fail(e, errno, "create cgroup", payload);
	if (!hi->v2 && all_in("cpuset", hi->controllers) && v1_cpuset(hi, payload) < 0)
		return fw_fail(e, errno, "copy cpuset.cpus and cpuset.mems to", payload);
	/* v1: "tasks", where pid 1 moving itself alone takes no global lock
	 * (cgroup.procs would wait for an RCU grace period, milliseconds);
	 * v2: cgroup.procs, and payload's own fd for clone3's
	 * CLONE_INTO_CGROUP, which spares pid 1 that write. */
	snprintf(path, sizeof(path), "%s/%s", payload, hi->v2 ? "cgroup.procs" : "tasks");
	int fd = FW_FAULT(CGROUP_OPEN) ? -1 : open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fw_fail(e, errno, "open", path);
	if (hi->v2 && cg->join.into_fd < 0) {
		cg->join.into_fd = open(payload, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cg->join.into_fd >= 0)
			cg->join.into_index = (int)cg->join.n;
	}
	cg->join.procs_fd[cg->join.n++] = fd;
	return 0;
}

static void remove_all(struct cg_instance *cg, int wait_ms)
{
	if (!cg->planned)
		return;
	for (size_t i = 0; i < cg->join.n; i++)
		if (cg->join.procs_fd[i] >= 0) {
			close(cg->join.procs_fd[i]);
			cg->join.procs_fd[i] = -1;
		}
	cg->join.n = 0;
	for (size_t i = 0; i < cg->host.nhier; i++) {
		if (cg->created[i] && remove_one(&cg->host.hier[i], cg->name, wait_ms) == 0)
			cg->created[i] = false;
		if (cg->host.hier[i].v2 && !cg->created[i])
			v2_own_restore(cg, &cg->host.hier[i]);
	}
}

int cg_create(struct cg_instance *cg, struct fw_error *e)
{
	uint64_t t0 = fw_now_ns();
	int r = 0;

	if (cg->host.mode == CG_MODE_NONE) {
		if (wants_limits(&cg->opts) || cg->opts.ndevices)
			return fw_fail_hint(e, ENOENT, "create the instance's cgroup", cg->name,
					    "no cgroup file system is mounted");
		return 0;
	}
	int lk = open_cgroup_lock();
	if (lk < 0)
		return fw_fail(e, -lk, "lock", FWRUN_CGROUP_LOCK);
	/* Sweep the stale cgroups when no other run is making its own; while
	 * others are, make ours beside them and leave the sweep to a later
	 * run: a herd neither waits in line nor sweeps once per member. */
	if (flock(lk, LOCK_EX | LOCK_NB) == 0) {
		remove_stale_locked(cg);
	} else if ((r = lock_wait(lk, LOCK_SH)) < 0) {
		close(lk);
		return fw_fail(e, -r, "lock", FWRUN_CGROUP_LOCK);
	} else {
		remove_own_stale(cg);
	}
	for (size_t i = 0; i < cg->host.nhier && r == 0; i++)
		r = create_one(cg, i, e);
	close(lk);
	if (r < 0)
		remove_all(cg, 0);
	cg->create_ns = fw_now_ns() - t0;
	return r;
}

static void *create_thread(void *arg)
{
	struct cg_instance *cg = arg;
	sigset_t all;

	sigfillset(&all);	/* every signal is the supervisor's */
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	cg->async_r = cg_create(cg, &cg->async_e);
	return NULL;
}

/* The thread's stack is a mapping of ours, with a guard page, unmapped once
 * the thread is joined: a stack of glibc's would stay in its cache, its
 * touched pages and page tables resident for the whole run (bench/swarm). */
#define CG_THREAD_STACK ((size_t)512 * 1024)
#define CG_THREAD_GUARD ((size_t)4096)

int cg_create_start(struct cg_instance *cg, struct fw_error *e)
{
	const int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK;
	const size_t len = CG_THREAD_GUARD + CG_THREAD_STACK;
	pthread_attr_t attr;
	int r = -1;

	/* cppcheck-suppress invalidFunctionArg ; anonymous: the fd is -1 (mmap(2)) */
	cg->thread_stack = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (cg->thread_stack == MAP_FAILED) {
		cg->thread_stack = NULL;
	} else if (mprotect(cg->thread_stack, CG_THREAD_GUARD, PROT_NONE) == 0 &&
		   pthread_attr_init(&attr) == 0) {
		if (pthread_attr_setstack(&attr, (char *)cg->thread_stack + CG_THREAD_GUARD,
					  CG_THREAD_STACK) == 0)
			r = pthread_create(&cg->thread, &attr, create_thread, cg);
		pthread_attr_destroy(&attr);
	}
	if (r != 0) {
		if (cg->thread_stack)
			munmap(cg->thread_stack, len);
		cg->thread_stack = NULL;
		return cg_create(cg, e);	/* then here and now */
	}
	cg->thread_running = true;
	return 0;
}

int cg_create_wait(struct cg_instance *cg, struct fw_error *e)
{
	if (!cg->thread_running)
		return 0;
	pthread_join(cg->thread, NULL);
	/* Joined: the kernel has cleared its tid, nothing runs on it. */
	munmap(cg->thread_stack, CG_THREAD_GUARD + CG_THREAD_STACK);
	cg->thread_stack = NULL;
	cg->thread_running = false;
	if (cg->async_r < 0)
		*e = cg->async_e;
	return cg->async_r;
}

int cg_enter(const struct cg_join *j, bool placed, struct fw_error *e)
{
	for (size_t i = 0; i < j->n; i++)
		if (!(placed && (int)i == j->into_index) &&
		    (FW_FAULT(CGROUP_JOIN) || write(j->procs_fd[i], "0", 1) != 1))
			return fw_fail(e, errno, "join the instance's cgroup", "cgroup.procs");
	if (j->n && (FW_FAULT(CGROUP_UNSHARE) || unshare(CLONE_NEWCGROUP) < 0))
		return fw_fail(e, errno, "unshare namespace", "cgroup");
	return 0;
}

static bool read_u64(const char *path, const char *key, uint64_t *v)
{
	char text[4096] = { 0 };

	if (read_text(path, text, sizeof(text)) <= 0)
		return false;
	const char *p = text;
	if (key) {
		size_t n = strlen(key);
		for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
			if (strncmp(p, key, n) == 0 && p[n] == ' ')
				break;
		if (!p)
			return false;
		p += n + 1;
	}
	char *end;
	errno = 0;
	unsigned long long x = strtoull(p, &end, 10);
	if (errno || end == p)
		return false;
	*v = x;
	return true;
}

/* v1 counts an OOM kill in the victim's cgroup only (v2 counts it all the
 * way up): the sum over dir and every cgroup below it. */
static bool sum_oom_kills(const char *dir, int depth, uint64_t *sum)
{
	char path[PATH_MAX + 32];
	uint64_t v;
	bool any;

	snprintf(path, sizeof(path), "%s/memory.oom_control", dir);
	any = read_u64(path, "oom_kill", &v);
	if (any)
		*sum += v;
	DIR *d = depth < 16 ? opendir(dir) : NULL;
	if (!d)
		return any;
	struct dirent *de;
	while ((de = readdir(d)))
		if (is_subdir(de) &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < sizeof(path))
			any |= sum_oom_kills(path, depth + 1, sum);
	closedir(d);
	return any;
}

void cg_stats(const struct cg_instance *cg, struct cg_stats *st)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < cg->host.nhier; i++) {
		const struct cg_hier *hi = &cg->host.hier[i];
		if (!cg->created[i])
			continue;
		dir_of(dir, sizeof(dir), hi, cg->name, NULL);
#define AT(file) (snprintf(path, sizeof(path), "%s/%s", dir, file), path)
		if (hi->v2) {
			uint64_t us;
			if (!st->has_memory_peak)
				st->has_memory_peak = read_u64(AT("memory.peak"), NULL, &st->memory_peak);
			if (!st->has_oom)
				st->has_oom = read_u64(AT("memory.events"), "oom_kill", &st->oom_kills);
			if (!st->has_cpu && read_u64(AT("cpu.stat"), "usage_usec", &us)) {
				st->has_cpu = true;
				st->cpu_ns = us * 1000;
			}
			continue;
		}
		if (all_in("memory", hi->controllers)) {
			st->has_memory_peak = read_u64(AT("memory.max_usage_in_bytes"), NULL,
						       &st->memory_peak);
			st->has_oom = sum_oom_kills(dir, 0, &st->oom_kills);
		}
		if (all_in("cpuacct", hi->controllers))
			st->has_cpu = read_u64(AT("cpuacct.usage"), NULL, &st->cpu_ns);
#undef AT
	}
}

int cg_remove(struct cg_instance *cg, struct fw_error *e)
{
	char dir[PATH_MAX];

	struct fw_error ignored;
	cg_create_wait(cg, &ignored);
	remove_all(cg, 2000);
	for (size_t i = 0; i < cg->host.nhier; i++)
		if (cg->created[i]) {
			dir_of(dir, sizeof(dir), &cg->host.hier[i], cg->name, NULL);
			return fw_fail_hint(e, EBUSY, "remove cgroup", dir,
					    "a process of the firmware is still in it");
		}
	return 0;
}

void cg_describe(const struct cg_instance *cg, char *buf, size_t size)
{
	const struct cg_opts *o = &cg->opts;
	char mem[32] = "", pids[32] = "", cpus[32] = "";
	const char *flat = "";
	size_t len;

	if (cg->host.mode == CG_MODE_NONE) {
		snprintf(buf, size, "none (no cgroup file system mounted)");
		return;
	}
	for (size_t i = 0; i < cg->host.nhier; i++)
		if (one_level(cg, &cg->host.hier[i]))
			flat = " (in the v1 memory hierarchy, without a limit, the name itself)";
	if (o->memory_max)
		snprintf(mem, sizeof(mem), " memory<=%" PRIu64, o->memory_max);
	if (o->pids_max)
		snprintf(pids, sizeof(pids), " pids<=%" PRIu64, o->pids_max);
	if (o->cpu_quota_us)
		snprintf(cpus, sizeof(cpus), " cpus<=%.2f", (double)o->cpu_quota_us / CG_CPU_PERIOD_US);
	len = (size_t)snprintf(buf, size, "%s in %zu hierarch%s below fwrun's own, %s/" CG_PAYLOAD
			       "%s as the cgroup namespace's root; devices: %s%s%s%s%s",
			       cg->name, cg->host.nhier, cg->host.nhier == 1 ? "y" : "ies", cg->name, flat,
			       cg->host.mode == CG_MODE_V2 ? "BPF allowlist" :
			       has_v1_devices(&cg->host) ? "devices.allow" : "BPF allowlist",
			       o->ndevices ? " + --device" : "", mem, pids, cpus);
	if (len < size && cg->host.unplaced)
		snprintf(buf + len, size - len, " (%zu hierarch%s not mounted)", cg->host.unplaced,
			 cg->host.unplaced == 1 ? "y" : "ies");
}
