/* SPDX-License-Identifier: MIT */
/* cgroup.c's pure half: /proc/self/cgroup and mountinfo into the places of
 * fwrun's own cgroups (v2, hybrid, a memory cgroup below the root, a mount
 * of a subtree, escapes), the option parsers, the devices.allow lines, and
 * the device program, run by a small interpreter of the instructions it
 * uses against the accesses a firmware makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include "cgroup.h"

/* ---- where ---- */

static const char hybrid_self[] =
	"9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
	"4:memory:/process_api/8342\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";
static const char hybrid_mounts[] =
	"22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
	"30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
	"36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
	"37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
	"38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
	"40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const struct cg_hier *find(const struct cg_host *h, const char *ctl)
{
	for (size_t i = 0; i < h->nhier; i++)
		if (strcmp(h->hier[i].controllers, ctl) == 0)
			return &h->hier[i];
	return NULL;
}

static void where_hybrid(void **state)
{
	struct cg_host h;
	(void)state;

	assert_int_equal(cg_parse_self(hybrid_self, &h), 0);
	assert_int_equal(h.nhier, 10);
	assert_int_equal(cg_parse_mountinfo(hybrid_mounts, &h), 0);
	assert_int_equal(h.mode, CG_MODE_V1);
	assert_int_equal(h.nhier, 10);
	assert_int_equal(h.unplaced, 0);
	assert_string_equal(find(&h, "memory")->own, "/sys/fs/cgroup/memory/process_api/8342");
	assert_string_equal(find(&h, "pids")->own, "/sys/fs/cgroup/pids");
	assert_string_equal(find(&h, "name=systemd")->own, "/sys/fs/cgroup/systemd");
	assert_true(find(&h, "")->v2);
	assert_string_equal(find(&h, "")->own, "/sys/fs/cgroup/unified");
	assert_false(find(&h, "cpu")->v2);
	cg_host_free(&h);
	assert_int_equal(h.nhier, 0);
}

static void where_v2(void **state)
{
	struct cg_host h;
	(void)state;

	assert_int_equal(cg_parse_self("0::/user.slice/user-1000.slice/session-2.scope\n", &h), 0);
	assert_int_equal(cg_parse_mountinfo(
		"24 18 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - "
		"cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n", &h), 0);
	assert_int_equal(h.mode, CG_MODE_V2);
	assert_int_equal(h.nhier, 1);
	assert_string_equal(h.hier[0].own,
			    "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope");
	cg_host_free(&h);
	/* the root cgroup: the mount point itself */
	assert_int_equal(cg_parse_self("0::/\n", &h), 0);
	cg_parse_mountinfo("24 18 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", &h);
	assert_string_equal(h.hier[0].own, "/sys/fs/cgroup");
	cg_host_free(&h);
}

/* Paths as long as the kernel's: kept whole (on the heap, not in a
 * PATH_MAX array per hierarchy); one that would not fit a path is
 * dropped as unplaced. A line that does not parse leaves nothing. */
static void where_long_paths(void **state)
{
	static char self[PATH_MAX + 64], mounts[2 * PATH_MAX], want[PATH_MAX + 64];
	struct cg_host h;
	(void)state;

	char deep[3001];
	memset(deep, 'd', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	snprintf(self, sizeof(self), "0::/%s\n", deep);
	assert_int_equal(cg_parse_self(self, &h), 0);
	assert_int_equal(cg_parse_mountinfo("24 18 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
					    &h), 0);
	snprintf(want, sizeof(want), "/sys/fs/cgroup/%s", deep);
	assert_int_equal(h.nhier, 1);
	assert_string_equal(h.hier[0].own, want);
	cg_host_free(&h);

	/* mount point + path over PATH_MAX: no usable directory */
	assert_int_equal(cg_parse_self(self, &h), 0);
	char mnt[1200];
	memset(mnt, 'm', sizeof(mnt) - 1);
	mnt[0] = '/';
	mnt[sizeof(mnt) - 1] = '\0';
	snprintf(mounts, sizeof(mounts), "24 18 0:22 / %s rw - cgroup2 cgroup2 rw\n", mnt);
	assert_int_equal(cg_parse_mountinfo(mounts, &h), 0);
	assert_int_equal(h.nhier, 0);
	assert_int_equal(h.unplaced, 1);
	cg_host_free(&h);

	/* good lines, then one that does not parse: -EINVAL, h empty */
	assert_int_equal(cg_parse_self("4:pids:/a\n3:memory:/b\n2:cpu\n", &h), -EINVAL);
	assert_int_equal(h.nhier, 0);
}

static void where_subtree_mount_and_escapes(void **state)
{
	struct cg_host h;
	(void)state;

	/* a mount of a subtree shows our cgroup below its root; one of
	 * another subtree does not; a space in a path is \040 */
	assert_int_equal(cg_parse_self("0::/a b/c\n", &h), 0);
	cg_parse_mountinfo("50 1 0:22 /other /x rw - cgroup2 cgroup2 rw\n"
			   "51 1 0:22 /a\\040b /my\\040cg rw - cgroup2 cgroup2 rw\n", &h);
	assert_int_equal(h.nhier, 1);
	assert_string_equal(h.hier[0].own, "/my cg/c");
	cg_host_free(&h);
	/* "/a" is no prefix of "/ab" */
	assert_int_equal(cg_parse_self("0::/ab\n", &h), 0);
	cg_parse_mountinfo("51 1 0:22 /a /m rw - cgroup2 cgroup2 rw\n", &h);
	assert_int_equal(h.nhier, 0);
	assert_int_equal(h.unplaced, 1);
	assert_int_equal(h.mode, CG_MODE_NONE);
	cg_host_free(&h);
	/* co-mounted controllers; a v1 hierarchy nobody mounted is dropped */
	assert_int_equal(cg_parse_self("3:cpu,cpuacct:/x\n2:net_cls:/\n0::/\n", &h), 0);
	cg_parse_mountinfo("5 1 0:30 / /c rw - cgroup cgroup rw,cpu,cpuacct\n", &h);
	assert_int_equal(h.nhier, 1);
	assert_int_equal(h.unplaced, 2);
	assert_string_equal(h.hier[0].own, "/c/x");
	assert_int_equal(h.mode, CG_MODE_V1);
	cg_host_free(&h);
	/* garbage */
	assert_int_equal(cg_parse_self("nonsense\n", &h), -EINVAL);
	assert_int_equal(cg_parse_self("0::relative\n", &h), -EINVAL);
}

/* ---- options ---- */

static void options(void **state)
{
	uint64_t v;
	(void)state;

	assert_int_equal(cg_parse_size("512M", &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(cg_parse_size("1.5G", &v), 0);
	assert_int_equal(v, 3ull << 29);
	assert_int_equal(cg_parse_size("2097152", &v), 0);
	assert_int_equal(v, 2097152);
	assert_int_equal(cg_parse_size("64kB", &v), -ERANGE);	/* below 1 MiB */
	assert_int_equal(cg_parse_size("8T", &v), 0);
	assert_int_equal(cg_parse_size("-5M", &v), -EINVAL);
	assert_int_equal(cg_parse_size("5X", &v), -EINVAL);
	assert_int_equal(cg_parse_size("", &v), -EINVAL);
	assert_int_equal(cg_parse_size("99999999999T", &v), -ERANGE);

	assert_int_equal(cg_parse_pids("32", &v), 0);
	assert_int_equal(v, 32);
	assert_int_equal(cg_parse_pids("0", &v), -ERANGE);
	assert_int_equal(cg_parse_pids("12x", &v), -EINVAL);
	assert_int_equal(cg_parse_pids("-1", &v), -EINVAL);

	assert_int_equal(cg_parse_cpus("0.5", &v), 0);
	assert_int_equal(v, 50000);
	assert_int_equal(cg_parse_cpus("2", &v), 0);
	assert_int_equal(v, 200000);
	assert_int_equal(cg_parse_cpus("0.001", &v), -ERANGE);
	assert_int_equal(cg_parse_cpus("one", &v), -EINVAL);
	assert_int_equal(cg_parse_cpus("nan", &v), -EINVAL);

	char buf[64];
	cg_format_max(buf, sizeof(buf), 0);
	assert_string_equal(buf, "max");
	cg_format_max(buf, sizeof(buf), 42);
	assert_string_equal(buf, "42");
	cg_format_cpu_max(buf, sizeof(buf), 50000);
	assert_string_equal(buf, "50000 100000");
}

static void device_option(void **state)
{
	struct cg_opts o;
	(void)state;

	memset(&o, 0, sizeof(o));
	assert_int_equal(cg_parse_device(&o, "/dev/ttyUSB0"), 0);
	assert_string_equal(o.devices[0].path, "/dev/ttyUSB0");
	assert_int_equal(o.devices[0].access, CG_ACC_ALL);
	assert_int_equal(cg_parse_device(&o, "/dev/net/tun:rw"), 0);
	assert_string_equal(o.devices[1].path, "/dev/net/tun");
	assert_int_equal(o.devices[1].access, CG_ACC_READ | CG_ACC_WRITE);
	assert_int_equal(o.ndevices, 2);
	static const char *const bad[] = {
		"ttyUSB0", "/dev/", "/dev", "/etc/passwd", "/dev/../etc/x", "/dev/a/../b",
		"/dev/x:", "/dev/x:rx", "/dev/x:rr", "/dev//x", "/dev/x/", "/dev/./x",
	};
	for (size_t i = 0; i < FW_ARRAY_SIZE(bad); i++)
		assert_int_equal(cg_parse_device(&o, bad[i]), -EINVAL);
	assert_int_equal(o.ndevices, 2);
	while (o.ndevices < CG_DEVICES_MAX)
		assert_int_equal(cg_parse_device(&o, "/dev/null"), 0);
	assert_int_equal(cg_parse_device(&o, "/dev/null"), -E2BIG);
}

/* ---- devices ---- */

#define COLLECT_SIZE 4096	/* the callers' buffer */
static int collect(const char *line, void *data)
{
	char *buf = data;
	size_t len = strlen(buf);
	snprintf(buf + len, COLLECT_SIZE - len, "%s\n", line);
	return 0;
}

static void allow_lines(void **state)
{
	struct cg_rule rules[CG_RULES_MAX];
	struct cg_opts o;
	static char text[COLLECT_SIZE];
	(void)state;

	memset(&o, 0, sizeof(o));
	o.ndevices = 1;
	o.devices[0] = (struct cg_device){ .type = 'c', .major = 188, .minor = 0,
					   .access = CG_ACC_READ | CG_ACC_WRITE };
	size_t n = cg_rules(&o, rules, CG_RULES_MAX);
	text[0] = '\0';
	assert_int_equal(cg_rule_lines(rules, n, collect, text), 0);
	assert_non_null(strstr(text, "c 1:3 rwm\n"));
	assert_non_null(strstr(text, "c 1:11 m\n"));
	assert_non_null(strstr(text, "c 136:* rwm\nc 137:* rwm\n"));
	assert_non_null(strstr(text, "c 143:* rwm\n"));
	assert_null(strstr(text, "c 144:"));
	assert_non_null(strstr(text, "c 10:200 rwm\n"));
	assert_non_null(strstr(text, "c 188:0 rw\n"));
	assert_null(strstr(text, "b "));
	assert_null(strstr(text, "c 1:1 "));	/* /dev/mem */
}

/* The instructions cg_bpf_program emits, interpreted as the kernel does. */
static int run_prog(const struct bpf_insn *p, int n, char type, unsigned acc, unsigned maj,
		    unsigned min)
{
	uint64_t r[11] = { 0 };
	struct bpf_cgroup_dev_ctx ctx = {
		.access_type = (acc << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
		.major = maj, .minor = min,
	};
	for (int pc = 0, steps = 0; pc >= 0 && pc < n && steps < 10000; pc++, steps++) {
		const struct bpf_insn *i = &p[pc];
		switch (i->code) {
		case BPF_LDX | BPF_MEM | BPF_W:
			assert_int_equal(i->src_reg, BPF_REG_1);
			assert_true(i->off >= 0 && i->off <= 8);
			r[i->dst_reg] = *(const uint32_t *)((const char *)&ctx + i->off);
			break;
		case BPF_ALU64 | BPF_MOV | BPF_X: r[i->dst_reg] = r[i->src_reg]; break;
		case BPF_ALU64 | BPF_MOV | BPF_K: r[i->dst_reg] = (uint64_t)(int64_t)i->imm; break;
		case BPF_ALU64 | BPF_AND | BPF_K: r[i->dst_reg] &= (uint64_t)(int64_t)i->imm; break;
		case BPF_ALU64 | BPF_RSH | BPF_K: r[i->dst_reg] >>= i->imm; break;
		case BPF_ALU64 | BPF_LSH | BPF_X:
			assert_true(r[i->src_reg] < 64);	/* the kernel masks it; we must not need that */
			r[i->dst_reg] <<= r[i->src_reg];
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			if (r[i->dst_reg] == (uint64_t)(int64_t)i->imm)
				pc += i->off;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm)
				pc += i->off;
			break;
		case BPF_JMP | BPF_JLT | BPF_K:
			if (r[i->dst_reg] < (uint64_t)(int64_t)i->imm)
				pc += i->off;
			break;
		case BPF_JMP | BPF_JGT | BPF_K:
			if (r[i->dst_reg] > (uint64_t)(int64_t)i->imm)
				pc += i->off;
			break;
		case BPF_JMP | BPF_EXIT:
			return (int)r[0];
		default:
			fail_msg("unexpected instruction 0x%02x at %d", i->code, pc);
		}
	}
	fail_msg("the program ran off its end");
	return -1;
}

static void device_program(void **state)
{
	struct cg_rule rules[CG_RULES_MAX];
	static struct bpf_insn prog[CG_BPF_INSNS_MAX];
	struct cg_opts o;
	(void)state;

	memset(&o, 0, sizeof(o));
	o.ndevices = 4;
	o.devices[0] = (struct cg_device){ .type = 'c', .major = 188, .minor = 0,
					   .access = CG_ACC_READ };
	/* two that make one mask test, and one whose minor is past the mask's */
	o.devices[1] = (struct cg_device){ .type = 'c', .major = 180, .minor = 3,
					   .access = CG_ACC_READ | CG_ACC_WRITE };
	o.devices[2] = (struct cg_device){ .type = 'c', .major = 180, .minor = 31,
					   .access = CG_ACC_READ | CG_ACC_WRITE };
	o.devices[3] = (struct cg_device){ .type = 'c', .major = 180, .minor = 40,
					   .access = CG_ACC_READ | CG_ACC_WRITE };
	size_t nr = cg_rules(&o, rules, CG_RULES_MAX);
	int n = cg_bpf_program(rules, nr, prog, CG_BPF_INSNS_MAX);
	assert_true(n > 10);
	const unsigned R = CG_ACC_READ, W = CG_ACC_WRITE, M = CG_ACC_MKNOD;
	static const struct { char t; unsigned acc, maj, min; int want; } cases[] = {
		{ 'c', 2, 1, 3, 1 }, { 'c', 4, 1, 3, 1 }, { 'c', 1, 1, 3, 1 },	/* null r w m */
		{ 'c', 6, 1, 9, 1 },		/* urandom rw */
		{ 'c', 6, 1, 5, 1 }, { 'c', 6, 1, 7, 1 }, { 'c', 6, 1, 8, 1 },	/* zero full random */
		{ 'c', 2, 1, 0, 0 }, { 'c', 2, 1, 6, 0 }, { 'c', 2, 1, 10, 0 },
		{ 'c', 2, 1, 35, 0 }, { 'c', 2, 1, 99, 0 },	/* 1 << 35: past the mask */
		{ 'c', 2, 1, 0xffffffffu, 0 },
		{ 'c', 2, 1, 1, 0 },		/* mem */
		{ 'c', 2, 1, 4, 0 },		/* port */
		{ 'c', 2, 1, 2, 0 },		/* kmem */
		{ 'c', 1, 1, 11, 1 },		/* kmsg mknod */
		{ 'c', 2, 1, 11, 0 },		/* kmsg read */
		{ 'c', 4, 1, 11, 0 },		/* kmsg write */
		{ 'c', 5, 1, 11, 0 },		/* kmsg mknod+write */
		{ 'c', 6, 136, 0, 1 }, { 'c', 6, 143, 77, 1 },	/* pts */
		{ 'c', 6, 135, 0, 0 }, { 'c', 6, 144, 0, 0 },
		{ 'c', 6, 5, 2, 1 },		/* ptmx */
		{ 'c', 6, 5, 0, 1 }, { 'c', 6, 5, 1, 1 },	/* tty console */
		{ 'c', 6, 5, 3, 0 }, { 'c', 6, 5, 32, 0 },
		{ 'c', 6, 4, 1, 0 },		/* tty1: a host VT */
		{ 'c', 6, 10, 200, 1 },		/* tun */
		{ 'c', 6, 10, 229, 1 },		/* fuse */
		{ 'c', 2, 10, 130, 0 },		/* watchdog */
		{ 'c', 2, 188, 0, 1 },		/* --device ...:r */
		{ 'c', 4, 188, 0, 0 },		/* not w */
		{ 'c', 2, 188, 1, 0 },
		{ 'c', 6, 180, 3, 1 }, { 'c', 6, 180, 31, 1 }, { 'c', 6, 180, 40, 1 },
		{ 'c', 1, 180, 3, 0 }, { 'c', 1, 180, 31, 0 },	/* no m given */
		{ 'c', 2, 180, 4, 0 }, { 'c', 2, 180, 8, 0 }, { 'c', 2, 180, 63, 0 },
		{ 'b', 2, 180, 3, 0 },
		{ 'b', 2, 7, 0, 0 },		/* loop0 */
		{ 'b', 1, 8, 0, 0 },		/* sda mknod */
		{ 'b', 2, 1, 3, 0 },		/* a block device numbered as null */
	};
	(void)R; (void)W; (void)M;
	for (size_t i = 0; i < FW_ARRAY_SIZE(cases); i++) {
		int got = run_prog(prog, n, cases[i].t, cases[i].acc, cases[i].maj, cases[i].min);
		if (got != cases[i].want)
			fail_msg("%c %u:%u access %u: got %d, want %d", cases[i].t, cases[i].maj,
				 cases[i].min, cases[i].acc, got, cases[i].want);
	}
	/* no rules: everything denied; too small a buffer: -ENOSPC */
	n = cg_bpf_program(rules, 0, prog, CG_BPF_INSNS_MAX);
	assert_int_equal(run_prog(prog, n, 'c', 2, 1, 3), 0);
	assert_int_equal(cg_bpf_program(rules, nr, prog, 8), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(where_hybrid),
		cmocka_unit_test(where_v2),
		cmocka_unit_test(where_subtree_mount_and_escapes),
		cmocka_unit_test(where_long_paths),
		cmocka_unit_test(options),
		cmocka_unit_test(device_option),
		cmocka_unit_test(allow_lines),
		cmocka_unit_test(device_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
