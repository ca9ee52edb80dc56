/* SPDX-License-Identifier: MIT */
/* Capability names, the default drop set and the --cap-add/--cap-drop
 * arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"

static void test_names_good(void **state)
{
	(void)state;
	static const char *const forms[] = { "sys_time", "SYS_TIME", "Sys_Time", "CAP_SYS_TIME",
					     "cap_sys_time", "Cap_sYs_tIme" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(forms); i++) {
		int cap = -1;
		assert_int_equal(caps_from_name(forms[i], &cap), 0);
		assert_int_equal(cap, CAP_SYS_TIME);
	}
	int cap = -1;
	assert_int_equal(caps_from_name("chown", &cap), 0);
	assert_int_equal(cap, 0);
	assert_int_equal(caps_from_name("CAP_CHECKPOINT_RESTORE", &cap), 0);
	assert_int_equal(cap, CAP_CHECKPOINT_RESTORE);
	assert_int_equal(caps_from_name("all", &cap), 0);
	assert_int_equal(cap, CAPS_ALL);
	assert_int_equal(caps_from_name("ALL", &cap), 0);
	assert_int_equal(cap, CAPS_ALL);
}

static void test_names_bad(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "CAP_", "sys time", "SYS_TIMEX", "SYS-TIME", "25",
					   "CAPSYS_TIME", " sys_time", "sys_time ", "CAP_ALL",
					   "cap_cap_sys_time", "time" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(bad); i++) {
		int cap = 12345;
		assert_int_equal(caps_from_name(bad[i], &cap), -EINVAL);
		assert_int_equal(cap, 12345);
	}
	int cap;
	assert_int_equal(caps_from_name(NULL, &cap), -EINVAL);
}

/* Every number this build names matches <linux/capability.h>, both ways. */
static void test_names_match_kernel_header(void **state)
{
	(void)state;
	assert_int_equal(CAPS_KNOWN_LAST, CAP_LAST_CAP);
	assert_string_equal(caps_name(CAP_SYS_TIME), "CAP_SYS_TIME");
	assert_string_equal(caps_name(CAP_WAKE_ALARM), "CAP_WAKE_ALARM");
	assert_string_equal(caps_name(CAP_MAC_ADMIN), "CAP_MAC_ADMIN");
	assert_string_equal(caps_name(CAP_MAC_OVERRIDE), "CAP_MAC_OVERRIDE");
	assert_string_equal(caps_name(CAP_SYS_RAWIO), "CAP_SYS_RAWIO");
	assert_string_equal(caps_name(CAP_SYS_MODULE), "CAP_SYS_MODULE");
	assert_string_equal(caps_name(CAP_BPF), "CAP_BPF");
	assert_string_equal(caps_name(CAP_SETFCAP), "CAP_SETFCAP");
	for (int i = 0; i <= CAPS_KNOWN_LAST; i++) {
		int back = -1;
		assert_non_null(caps_name(i));
		assert_int_equal(caps_from_name(caps_name(i), &back), 0);
		assert_int_equal(back, i);
	}
	assert_null(caps_name(-1));
	assert_null(caps_name(CAPS_KNOWN_LAST + 1));
}

static void test_default_set(void **state)
{
	(void)state;
	uint64_t d = caps_default_drop();
	/* the contract's minimum */
	assert_true(d & CAPS_BIT(CAP_SYS_TIME));
	assert_true(d & CAPS_BIT(CAP_WAKE_ALARM));
	assert_true(d & CAPS_BIT(CAP_SYS_MODULE));
	assert_true(d & CAPS_BIT(CAP_MAC_ADMIN));
	assert_true(d & CAPS_BIT(CAP_MAC_OVERRIDE));
	assert_true(d & CAPS_BIT(CAP_SYS_RAWIO));
	/* what a firmware needs to boot stays */
	assert_false(d & CAPS_BIT(CAP_SYS_ADMIN));
	assert_false(d & CAPS_BIT(CAP_NET_ADMIN));
	assert_false(d & CAPS_BIT(CAP_SYS_BOOT));
	assert_false(d & CAPS_BIT(CAP_MKNOD));
	assert_false(d & CAPS_BIT(CAP_SETPCAP));
	assert_false(d & CAPS_BIT(CAP_SYS_CHROOT));
	assert_false(d & CAPS_BIT(CAP_NET_RAW));
	assert_false(d & CAPS_BIT(CAP_SETUID));
	assert_false(d & CAPS_BIT(CAP_CHOWN));
	char buf[512];
	assert_true(caps_format(d, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "CAP_LINUX_IMMUTABLE,CAP_SYS_MODULE,CAP_SYS_RAWIO,CAP_SYS_TIME,"
				 "CAP_AUDIT_CONTROL,CAP_MAC_OVERRIDE,CAP_MAC_ADMIN,CAP_SYSLOG,"
				 "CAP_WAKE_ALARM,CAP_BLOCK_SUSPEND");
}

static uint64_t resolve(const char *const *adds, const char *const *drops)
{
	struct caps_spec s = { 0 };
	for (; adds && *adds; adds++)
		assert_int_equal(caps_spec_add(&s, *adds, false), 0);
	for (; drops && *drops; drops++)
		assert_int_equal(caps_spec_add(&s, *drops, true), 0);
	return caps_resolve(&s, caps_all_mask(40));
}

static void test_arithmetic(void **state)
{
	(void)state;
	uint64_t all = caps_all_mask(40), d = caps_default_drop();

	assert_int_equal(all, (UINT64_C(1) << 41) - 1);
	assert_int_equal(caps_all_mask(63), UINT64_MAX);
	assert_int_equal(caps_all_mask(-1), 0);

	/* nothing given: the default */
	assert_int_equal(resolve(NULL, NULL), d);
	/* add takes from the default, drop adds to it */
	assert_int_equal(resolve((const char *[]){ "SYS_TIME", NULL }, NULL), d & ~CAPS_BIT(25));
	assert_int_equal(resolve(NULL, (const char *[]){ "net_raw", NULL }), d | CAPS_BIT(13));
	/* adding one not in the default changes nothing */
	assert_int_equal(resolve((const char *[]){ "SYS_ADMIN", NULL }, NULL), d);
	/* named in both: dropped */
	assert_int_equal(resolve((const char *[]){ "SYS_TIME", NULL },
				 (const char *[]){ "CAP_SYS_TIME", NULL }), d);
	/* ALL */
	assert_int_equal(resolve((const char *[]){ "ALL", NULL }, NULL), 0);
	assert_int_equal(resolve(NULL, (const char *[]){ "all", NULL }), all);
	assert_int_equal(resolve((const char *[]){ "SYS_ADMIN", NULL },
				 (const char *[]){ "ALL", NULL }),
			 all & ~CAPS_BIT(21));
	assert_int_equal(resolve((const char *[]){ "ALL", NULL },
				 (const char *[]){ "SYS_TIME", NULL }),
			 CAPS_BIT(25));
	/* --cap-drop ALL wins over --cap-add ALL */
	assert_int_equal(resolve((const char *[]){ "ALL", NULL }, (const char *[]){ "ALL", NULL }),
			 all);
	/* a kernel with fewer capabilities: nothing beyond its last one */
	struct caps_spec s = { .drop_all = true };
	assert_int_equal(caps_resolve(&s, caps_all_mask(37)), caps_all_mask(37));
	s = (struct caps_spec){ 0 };
	assert_int_equal(caps_resolve(&s, caps_all_mask(30)), d & caps_all_mask(30));
}

/* The result does not depend on the order options were given in. */
static void test_order_independent(void **state)
{
	(void)state;
	const char *ops[][2] = { { "a", "SYS_TIME" }, { "d", "NET_RAW" }, { "a", "ALL" },
				 { "d", "SYS_TIME" }, { "a", "SYSLOG" }, { "d", "BPF" } };
	const size_t n = FW_ARRAY_SIZE(ops);
	uint64_t first = 0;
	/* every rotation and its reverse */
	for (size_t rot = 0; rot < n; rot++) {
		for (int rev = 0; rev < 2; rev++) {
			struct caps_spec s = { 0 };
			for (size_t k = 0; k < n; k++) {
				size_t i = (rot + (rev ? n - 1 - k : k)) % n;
				assert_int_equal(caps_spec_add(&s, ops[i][1], ops[i][0][0] == 'd'), 0);
			}
			uint64_t r = caps_resolve(&s, caps_all_mask(40));
			if (rot == 0 && rev == 0)
				first = r;
			assert_int_equal(r, first);
		}
	}
	/* ALL added: only the named drops */
	assert_int_equal(first, CAPS_BIT(25) | CAPS_BIT(13) | CAPS_BIT(39));
}

static void test_spec_bad_name(void **state)
{
	(void)state;
	struct caps_spec s = { 0 }, zero = { 0 };
	assert_int_equal(caps_spec_add(&s, "SYS_TIMES", true), -EINVAL);
	assert_int_equal(caps_spec_add(&s, "", false), -EINVAL);
	assert_memory_equal(&s, &zero, sizeof(s));
}

static void test_format(void **state)
{
	(void)state;
	char buf[64];
	assert_int_equal(caps_format(0, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "none");
	assert_int_equal(caps_format(CAPS_BIT(25), buf, sizeof(buf)), 12);
	assert_string_equal(buf, "CAP_SYS_TIME");
	assert_true(caps_format(CAPS_BIT(0) | CAPS_BIT(41), buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "CAP_CHOWN,cap_41");
	char small[10];
	assert_int_equal(caps_format(CAPS_BIT(25), small, sizeof(small)), -ENAMETOOLONG);
	assert_int_equal(caps_format(caps_all_mask(40), buf, sizeof(buf)), -ENAMETOOLONG);
	assert_true(strlen(buf) < sizeof(buf));
}

static void test_parse_hex(void **state)
{
	(void)state;
	uint64_t m = 0;
	assert_int_equal(caps_parse_hex("\t000001fffeffffff\n", &m), 0);
	assert_int_equal(m, UINT64_C(0x1fffeffffff));
	assert_int_equal(caps_parse_hex("000001FDFDFFFDFF", &m), 0);
	assert_int_equal(m, UINT64_C(0x1fdfdfffdff));
	assert_false(m & CAPS_BIT(25));
	assert_int_equal(caps_parse_hex("", &m), -EINVAL);
	assert_int_equal(caps_parse_hex("xyz", &m), -EINVAL);
	assert_int_equal(caps_parse_hex("00000000000000001", &m), -EINVAL);
}

/* The applying half, in a forked child (root only): the bounding set loses
 * exactly the dropped capabilities, the inheritable set too, the effective
 * set keeps what the setup thread still needs. */
static void test_apply_drop(void **state)
{
	(void)state;
	if (geteuid() != 0 || prctl(PR_CAPBSET_READ, CAP_SYS_TIME, 0, 0, 0) != 1 ||
	    prctl(PR_CAPBSET_READ, CAP_SYS_NICE, 0, 0, 0) != 1)
		skip();
	int last = caps_last_cap();
	assert_true(last >= CAP_WAKE_ALARM);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fw_error e = { 0 };
		uint64_t drop = CAPS_BIT(CAP_SYS_TIME) | CAPS_BIT(CAP_WAKE_ALARM) |
				(caps_all_mask(last) & ~caps_all_mask(last - 1));
		if (caps_apply_drop(drop, &e) < 0)
			_exit(10);
		if (prctl(PR_CAPBSET_READ, CAP_SYS_TIME, 0, 0, 0) != 0 ||
		    prctl(PR_CAPBSET_READ, CAP_WAKE_ALARM, 0, 0, 0) != 0 ||
		    prctl(PR_CAPBSET_READ, (unsigned long)last, 0, 0, 0) != 0)
			_exit(11);
		if (prctl(PR_CAPBSET_READ, CAP_SYS_NICE, 0, 0, 0) != 1 ||
		    prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 1)
			_exit(12);
		FILE *f = fopen("/proc/self/status", "re");
		char line[256];
		uint64_t eff = 0, inh = 1;
		while (f && fgets(line, sizeof(line), f)) {
			if (strncmp(line, "CapEff:", 7) == 0 && caps_parse_hex(line + 7, &eff) < 0)
				_exit(13);
			if (strncmp(line, "CapInh:", 7) == 0 && caps_parse_hex(line + 7, &inh) < 0)
				_exit(13);
		}
		if (f)
			fclose(f);
		if (inh & drop)
			_exit(14);
		/* effective untouched: still CAP_SYS_ADMIN for unshare and fork */
		if (!(eff & CAPS_BIT(CAP_SYS_ADMIN)))
			_exit(15);
		_exit(0);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_good),
		cmocka_unit_test(test_names_bad),
		cmocka_unit_test(test_names_match_kernel_header),
		cmocka_unit_test(test_default_set),
		cmocka_unit_test(test_arithmetic),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_spec_bad_name),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_parse_hex),
		cmocka_unit_test(test_apply_drop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
