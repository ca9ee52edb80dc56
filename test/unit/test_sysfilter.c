/* SPDX-License-Identifier: MIT */
/* The syscall filter: the list as data (every name known, what must stay
 * allowed not in it), and the built program installed in a child (with
 * no_new_privs: no root needed), where each denied call gets EPERM, through
 * every x86 ABI, and the allowed ones behave as before. Every call made is
 * harmless with or without the filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sysfilter.h"

static const struct sysfilter_rule *find(const char *name)
{
	for (size_t i = 0; i < sysfilter_rule_count; i++)
		if (!strcmp(sysfilter_rules[i].name, name))
			return &sysfilter_rules[i];
	return NULL;
}

static void test_names_known(void **state)
{
	(void)state;
	for (size_t i = 0; i < sysfilter_rule_count; i++) {
		if (seccomp_syscall_resolve_name(sysfilter_rules[i].name) == __NR_SCMP_ERROR)
			fail_msg("libseccomp does not know '%s'", sysfilter_rules[i].name);
		assert_true(sysfilter_rules[i].arg >= -1 && sysfilter_rules[i].arg < 6);
	}
}

/* The calls the issue names are denied, whatever their arguments. */
static void test_denied(void **state)
{
	(void)state;
	static const char *const names[] = {
		"kexec_load", "kexec_file_load", "open_by_handle_at", "name_to_handle_at",
		"init_module", "finit_module", "delete_module", "swapon", "swapoff", "acct",
		"keyctl", "add_key", "request_key", "clock_settime", "settimeofday", "bpf",
		"perf_event_open", "iopl", "ioperm", "lookup_dcookie", "userfaultfd",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct sysfilter_rule *r = find(names[i]);
		if (!r) {
			fail_msg("'%s' is not denied", names[i]);
			return;
		}
		assert_int_equal(r->arg, -1);
	}
}

/* What a firmware's init needs: never denied whole. */
static void test_allowed(void **state)
{
	(void)state;
	static const char *const names[] = {
		"reboot", "mount", "umount2", "unshare", "setns", "pivot_root", "chroot",
		"clone", "clone3", "execve", "sethostname", "setdomainname", "adjtimex",
		"clock_adjtime", "clock_gettime", "ptrace", "fsopen", "fsmount", "move_mount",
		"open_tree", "mount_setattr", "seccomp", "prctl", "ioctl", "socket",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (find(names[i]))
			fail_msg("'%s' is denied", names[i]);
	/* Only some of these: block nodes and the log's writers. */
	static const struct { const char *name; int arg; } some[] = {
		{ "mknod", 1 }, { "mknodat", 2 }, { "syslog", 0 },
	};
	for (size_t i = 0; i < sizeof(some) / sizeof(some[0]); i++) {
		const struct sysfilter_rule *r = find(some[i].name);
		if (!r) {
			fail_msg("'%s' is not filtered", some[i].name);
			return;
		}
		assert_int_equal(r->arg, some[i].arg);
	}
}

static void test_build(void **state)
{
	(void)state;
	struct sysfilter f;

	assert_int_equal(sysfilter_build(&f), 0);
	assert_non_null(f.prog.filter);
	assert_true(f.prog.len > sysfilter_rule_count);
	sysfilter_free(&f);
	assert_null(f.prog.filter);
	sysfilter_free(&f);	/* twice is fine */
}

/* The program fwrun carries (made by tools/sysfilter-gen when it was
 * built) is the one the rules make now: a rule changed without the
 * generated file following, or a generator that wrote something else,
 * fails here. */
static void test_builtin_is_the_rules(void **state)
{
	(void)state;
	struct sysfilter f;

	assert_int_equal(sysfilter_build(&f), 0);
	assert_int_equal(sysfilter_builtin.len, f.prog.len);
	assert_memory_equal(sysfilter_builtin.filter, f.prog.filter,
			    f.prog.len * sizeof(struct sock_filter));
	sysfilter_free(&f);
}

enum {
	P_KEYCTL, P_KEYCTL_I386, P_KEYCTL_X32, P_SYSLOG_LEVEL_HI, P_MKNOD_BLOCK,
	P_NAME_TO_HANDLE, P_PERF, P_BPF,
	P_ALLOWED,	/* those below must behave as without the filter */
	P_MKNOD_FIFO = P_ALLOWED, P_ADJTIMEX_READ, P_CLOCK_ADJTIME_READ, P_GETPPID,
	P_SYSLOG_SIZE, P_UNSHARE_NONE, P_COUNT,
};
static const char *const probe_names[P_COUNT] = {
	"keyctl", "keyctl (i386)", "keyctl (x32)", "syslog console level (high bits set)",
	"mknod block", "name_to_handle_at", "perf_event_open", "bpf",
	"mknod fifo", "adjtimex read", "clock_adjtime read", "getppid",
	"syslog size", "unshare(0)",
};

#if defined(__x86_64__)
/* A call through the i386 ABI, from this 64-bit process. */
static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

/* Whether this kernel runs i386 calls (IA32 emulation): without it,
 * int $0x80 is a SIGSEGV, and no call is made at all. */
static bool ia32_works(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);	/* not cmocka's handlers */
		signal(SIGILL, SIG_DFL);
		_exit(int80(20, 0, 0, 0) == getpid() ? 0 : 1);	/* i386 getpid */
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}
#endif

static int res(long r)
{
	return r < 0 ? -errno : 0;
}

/* Each probe's result: 0 or -errno. Harmless with and without the filter. */
static void probe(const char *dir, bool ia32, int *out)
{
	char path[256];
	struct timex tx = { .modes = 0 };

	for (int i = 0; i < P_COUNT; i++)
		out[i] = 1;	/* not run */
	/* KEYCTL_GET_KEYRING_ID of the thread keyring, not created */
	out[P_KEYCTL] = res(syscall(SYS_keyctl, 0, -1, 0));
#if defined(__x86_64__)
	if (ia32) {
		long r = int80(288, 0, -1, 0);	/* i386 keyctl */
		out[P_KEYCTL_I386] = r < 0 && r > -4096 ? (int)r : 0;
	}
	out[P_KEYCTL_X32] = res(syscall(0x40000000 | 250, 0, -1, 0));
#endif
	/* console level 0 is out of range: EINVAL (or EPERM unprivileged) */
	out[P_SYSLOG_LEVEL_HI] = res(syscall(SYS_syslog, (1L << 32) | 8, NULL, 0));
	snprintf(path, sizeof(path), "%s/blk", dir);
	out[P_MKNOD_BLOCK] = res(mknod(path, S_IFBLK | 0600, makedev(7, 250)));
	unlink(path);
	struct { unsigned int bytes; int type; unsigned char h[128]; } fh = { .bytes = 128 };
	int mnt;
	out[P_NAME_TO_HANDLE] = res(syscall(SYS_name_to_handle_at, AT_FDCWD, dir, &fh, &mnt, 0));
	out[P_PERF] = res(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	out[P_BPF] = res(syscall(SYS_bpf, -1, NULL, 0));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	out[P_MKNOD_FIFO] = res(mknod(path, S_IFIFO | 0600, 0));
	unlink(path);
	out[P_ADJTIMEX_READ] = res(adjtimex(&tx));
	out[P_CLOCK_ADJTIME_READ] = res(syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx));
	out[P_GETPPID] = res(getppid());
	out[P_SYSLOG_SIZE] = res(syscall(SYS_syslog, 10, NULL, 0));
	out[P_UNSHARE_NONE] = res(unshare(0));
}

/* The probes in a child, under the filter when load is set. */
static void run_probes(bool load, int *out)
{
	char dir[] = "/tmp/fwrun-sysfilter-XXXXXX";
	int p[2];

	assert_non_null(mkdtemp(dir));
	assert_int_equal(pipe(p), 0);
#if defined(__x86_64__)
	bool ia32 = ia32_works();
#else
	bool ia32 = false;
#endif
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int r[P_COUNT];
		if (load && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
			     sysfilter_load(&sysfilter_builtin) < 0))
			_exit(3);
		probe(dir, ia32, r);
		_exit(write(p[1], r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 4);
	}
	close(p[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(read(p[0], out, sizeof(int) * P_COUNT), (ssize_t)(sizeof(int) * P_COUNT));
	close(p[0]);
	rmdir(dir);
}

static void test_loaded(void **state)
{
	(void)state;
	int before[P_COUNT], after[P_COUNT];
	const char *preload = getenv("LD_PRELOAD");

	/* valgrind emulates the calls itself: it has no seccomp() and
	 * crashes on some of the probes' odd arguments. */
	if (preload && strstr(preload, "vgpreload"))
		skip();

	run_probes(false, before);
	run_probes(true, after);
	for (int i = 0; i < P_COUNT; i++) {
		if (after[i] == 1)
			continue;	/* not on this architecture */
		if (i < P_ALLOWED && after[i] != -EPERM)
			fail_msg("%s: %s under the filter, not EPERM", probe_names[i],
				 strerror(-after[i]));
		if (i >= P_ALLOWED && after[i] != before[i])
			fail_msg("%s: %s under the filter, %s without", probe_names[i],
				 strerror(-after[i]), strerror(-before[i]));
	}
	/* The reads of the clock stay allowed, and work. */
	assert_int_equal(after[P_ADJTIMEX_READ], 0);
	assert_int_equal(after[P_CLOCK_ADJTIME_READ], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_known),
		cmocka_unit_test(test_denied),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_builtin_is_the_rules),
		cmocka_unit_test(test_loaded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
