/* SPDX-License-Identifier: MIT */
/* --status-fd lines: JSON string escaping, the started/exited/restarting
 * objects, overflow, and the fd checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"

static void escape_plain_and_specials(void **state)
{
	char buf[256];
	(void)state;

	assert_int_equal(events_json_escape(buf, sizeof(buf), "drone"), 5);
	assert_string_equal(buf, "drone");
	events_json_escape(buf, sizeof(buf), "a\"b\\c");
	assert_string_equal(buf, "a\\\"b\\\\c");
	events_json_escape(buf, sizeof(buf), "l1\nl2\tx\r\b\f");
	assert_string_equal(buf, "l1\\nl2\\tx\\r\\b\\f");
	events_json_escape(buf, sizeof(buf), "\x01\x1f\x7f");
	assert_string_equal(buf, "\\u0001\\u001f\\u007f");
	/* '/' needs no escape */
	events_json_escape(buf, sizeof(buf), "/run/fwrun");
	assert_string_equal(buf, "/run/fwrun");
}

static void escape_utf8(void **state)
{
	char buf[256];
	(void)state;

	/* valid UTF-8 goes through untouched: é, €, 😀 */
	events_json_escape(buf, sizeof(buf), "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	assert_string_equal(buf, "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* a lone Latin-1 byte, a truncated sequence, an overlong '/', a
	 * surrogate: each bad byte becomes \u00XX */
	events_json_escape(buf, sizeof(buf), "caf\xe9");
	assert_string_equal(buf, "caf\\u00e9");
	events_json_escape(buf, sizeof(buf), "\xe2\x82");
	assert_string_equal(buf, "\\u00e2\\u0082");
	events_json_escape(buf, sizeof(buf), "\xc0\xaf");
	assert_string_equal(buf, "\\u00c0\\u00af");
	events_json_escape(buf, sizeof(buf), "\xed\xa0\x80");
	assert_string_equal(buf, "\\u00ed\\u00a0\\u0080");
}

static void escape_truncates_like_snprintf(void **state)
{
	char buf[6];
	(void)state;

	/* a \" b c d e: 7 bytes needed, 5 fit */
	size_t need = events_json_escape(buf, sizeof(buf), "a\"bcde");
	assert_int_equal(need, 7);
	assert_int_equal(strlen(buf), 5);
	assert_memory_equal(buf, "a\\\"bc", 5);
	assert_int_equal(events_json_escape(NULL, 0, "\n"), 2);
}

static void started_line(void **state)
{
	char buf[1024];
	struct events_started s = {
		.run = 1, .pid = 4242, .supervisor_pid = 4200, .name = "dro\"ne",
		.ns = { 4026532301ull, 4026532302ull, 4026532303ull, 4026532304ull,
			4026532305ull, 0 },
	};
	(void)state;

	int n = events_format_started(buf, sizeof(buf), &s);
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf,
		"{\"event\":\"started\",\"run\":1,\"pid\":4242,\"supervisor_pid\":4200,"
		"\"name\":\"dro\\\"ne\",\"namespaces\":{\"mnt\":4026532301,\"uts\":4026532302,"
		"\"ipc\":4026532303,\"net\":4026532304,\"pid\":4026532305,\"cgroup\":null}}\n");

	/* INIT's kind, architecture and emulator, when known */
	s.init_kind = "busybox init";
	s.arch = "arm64";
	s.emulator = "/usr/libexec/qemu-binfmt/aarch64-binfmt-P";
	s.name = NULL;
	n = events_format_started(buf, sizeof(buf), &s);
	assert_int_equal(n, (int)strlen(buf));
	assert_non_null(strstr(buf, "\"cgroup\":null},\"init\":\"busybox init\",\"arch\":\"arm64\","
			       "\"emulator\":\"/usr/libexec/qemu-binfmt/aarch64-binfmt-P\"}\n"));
}

static void started_network_and_stamp(void **state)
{
	char buf[1024], out[1200];
	const struct events_iface ifs[] = {
		{ .inner = "eth1", .host = "tap0", .addr = "10.251.7.2/24" },
		{ .inner = "eth2", .host = "tap1" },
		{ .inner = "eth0", .host = "fw-drone", .addr = "10.202.3.1/24",
		  .host_addr = "10.202.3.254/24" },
	};
	struct events_started s = { .run = 2, .pid = 5, .supervisor_pid = 4,
				    .ifaces = ifs, .nifaces = 3 };
	(void)state;

	int n = events_format_started(buf, sizeof(buf), &s);
	assert_true(n > 0);
	assert_non_null(strstr(buf, ",\"network\":[{\"if\":\"eth1\",\"addr\":\"10.251.7.2/24\","
				    "\"host_if\":\"tap0\"},{\"if\":\"eth2\",\"host_if\":\"tap1\"},"
				    "{\"if\":\"eth0\",\"addr\":\"10.202.3.1/24\",\"host_if\":"
				    "\"fw-drone\",\"host_addr\":\"10.202.3.254/24\"}]}\n"));
	s.nifaces = 0;
	events_format_started(buf, sizeof(buf), &s);
	assert_non_null(strstr(buf, ",\"network\":[]}\n"));	/* lo only */

	/* 2026-12-02T09:49:48.123Z, 1.5 s and 7 µs after fwrun started */
	n = events_stamp(out, sizeof(out), "{\"event\":\"x\"}\n", 14,
			 1796204988123456789ll, 1500007000ull);
	assert_string_equal(out, "{\"event\":\"x\",\"time\":\"2026-12-02T09:49:48.123Z\","
			    "\"elapsed_ms\":1500.007}\n");
	assert_int_equal(n, (int)strlen(out));
	assert_int_equal(events_stamp(out, 20, "{\"event\":\"x\"}\n", 14, 0, 0), -ENOSPC);
	assert_int_equal(events_stamp(out, sizeof(out), "no", 2, 0, 0), -EINVAL);
	/* a matched event */
	n = events_format_matched(buf, sizeof(buf), 1, "login: \"x\"");
	assert_string_equal(buf, "{\"event\":\"matched\",\"run\":1,\"line\":\"login: \\\"x\\\"\"}\n");
	assert_int_equal(n, (int)strlen(buf));
}

static void exited_lines(void **state)
{
	char buf[1024];
	(void)state;

	struct events_exited x = { .run = 1, .status = 3, .reason = EVENTS_EXIT,
				   .wstatus = 3 << 8 };
	events_format_exited(buf, sizeof(buf), &x);
	assert_string_equal(buf, "{\"event\":\"exited\",\"run\":1,\"status\":3,"
			    "\"reason\":\"exit\",\"code\":3}\n");

	x = (struct events_exited){ .run = 2, .status = 124, .reason = EVENTS_TIMEOUT,
				    .wstatus = SIGKILL };
	events_format_exited(buf, sizeof(buf), &x);
	assert_string_equal(buf, "{\"event\":\"exited\",\"run\":2,\"status\":124,"
			    "\"reason\":\"timeout\",\"signal\":\"KILL\"}\n");

	x = (struct events_exited){ .run = 1, .status = 133, .reason = EVENTS_REBOOT,
				    .wstatus = SIGHUP };
	events_format_exited(buf, sizeof(buf), &x);
	assert_string_equal(buf, "{\"event\":\"exited\",\"run\":1,\"status\":133,"
			    "\"reason\":\"reboot\",\"signal\":\"HUP\"}\n");

	x = (struct events_exited){ .status = 125, .reason = EVENTS_SETUP_ERROR,
				    .error = "fwrun: mount 'a\tb': No such device" };
	events_format_exited(buf, sizeof(buf), &x);
	assert_string_equal(buf, "{\"event\":\"exited\",\"status\":125,"
			    "\"reason\":\"setup-error\","
			    "\"error\":\"fwrun: mount 'a\\tb': No such device\"}\n");

	/* the cgroup's figures, where known */
	x = (struct events_exited){ .run = 1, .status = 137, .reason = EVENTS_SIGNAL,
				    .wstatus = SIGKILL, .has_memory_peak = true,
				    .memory_peak = 33554432, .has_cpu = true, .cpu_usec = 1500,
				    .has_oom = true, .oom_kills = 2 };
	events_format_exited(buf, sizeof(buf), &x);
	assert_string_equal(buf, "{\"event\":\"exited\",\"run\":1,\"status\":137,"
			    "\"reason\":\"signal\",\"signal\":\"KILL\",\"memory_peak\":33554432,"
			    "\"cpu_usec\":1500,\"oom_kills\":2}\n");
	x.has_memory_peak = x.has_oom = false;
	events_format_exited(buf, sizeof(buf), &x);
	assert_string_equal(buf, "{\"event\":\"exited\",\"run\":1,\"status\":137,"
			    "\"reason\":\"signal\",\"signal\":\"KILL\",\"cpu_usec\":1500}\n");

	events_format_restarting(buf, sizeof(buf), 1, EVENTS_REBOOT);
	assert_string_equal(buf, "{\"event\":\"restarting\",\"run\":1,\"reason\":\"reboot\"}\n");
}

static void reason_names(void **state)
{
	(void)state;
	assert_string_equal(events_reason_name(EVENTS_EXIT), "exit");
	assert_string_equal(events_reason_name(EVENTS_SIGNAL), "signal");
	assert_string_equal(events_reason_name(EVENTS_TIMEOUT), "timeout");
	assert_string_equal(events_reason_name(EVENTS_REBOOT), "reboot");
	assert_string_equal(events_reason_name(EVENTS_POWEROFF), "poweroff");
	assert_string_equal(events_reason_name(EVENTS_SETUP_ERROR), "setup-error");
}

static void overflow_is_enospc(void **state)
{
	char small[40], big[EVENTS_LINE_MAX];
	char error[600];
	(void)state;

	struct events_exited x = { .status = 125, .reason = EVENTS_SETUP_ERROR,
				   .error = "a long error message that does not fit" };
	assert_int_equal(events_format_exited(small, sizeof(small), &x), -ENOSPC);
	assert_string_equal(small, "");
	/* The worst case of a whole fw_error message fits the line size. */
	memset(error, 0x01, sizeof(error) - 1);
	error[sizeof(error) - 1] = '\0';
	x.error = error;
	assert_true(events_format_exited(big, sizeof(big), &x) > 6 * 599);
}

static void open_checks_fd(void **state)
{
	struct fw_error e = { 0 };
	int p[2];
	(void)state;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(events_open(p[1], &e), 0);
	assert_true(fcntl(p[1], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(events_open(p[0], &e), -EBADF);	/* read end */
	close(p[1]);
	assert_int_equal(events_open(p[1], &e), -EBADF);	/* closed */
	assert_string_equal(e.what, "use --status-fd");

	/* emit: one whole line; fd -1 is a no-op */
	assert_int_equal(events_emit(-1, "x\n", 2), 0);
	int q[2];
	char buf[128] = { 0 };
	assert_int_equal(pipe(q), 0);
	assert_int_equal(events_emit(q[1], "{}\n", 3), 0);
	assert_true(read(q[0], buf, sizeof(buf)) > 3);
	/* stamped with the time */
	assert_memory_equal(buf, "{\"time\":\"", 9);
	assert_non_null(strstr(buf, "Z\",\"elapsed_ms\":"));
	assert_string_equal(buf + strlen(buf) - 2, "}\n");
	close(q[0]);
	close(q[1]);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_plain_and_specials),
		cmocka_unit_test(escape_utf8),
		cmocka_unit_test(escape_truncates_like_snprintf),
		cmocka_unit_test(started_line),
		cmocka_unit_test(started_network_and_stamp),
		cmocka_unit_test(exited_lines),
		cmocka_unit_test(reason_names),
		cmocka_unit_test(overflow_is_enospc),
		cmocka_unit_test(open_checks_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
