/* SPDX-License-Identifier: MIT */
/* The running instances' records and what --enter reads of the init: pure
 * parts, without root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enter.h"
#include "instances.h"

static struct instance_record rec, back;
static char buf[INSTANCE_RECORD_MAX];

static void record_round_trip(void **state)
{
	(void)state;
	memset(&rec, 0, sizeof(rec));
	strcpy(rec.name, "drone");
	rec.supervisor_pid = 100;
	rec.supervisor_start = 123456789;
	rec.init_pid = 102;
	rec.init_start = 123456790;
	strcpy(rec.rootfs, "/img/with space\nand newline\\x.ext4");
	strcpy(rec.state_dir, "/var/lib/fwrun/drone");
	strcpy(rec.console, "pty");
	rec.started = 1700000000;
	rec.nnet = 2;
	rec.net[0] = (struct instance_net){ "tap", "tap0", "eth1", "10.0.0.2/24", "" };
	rec.net[1] = (struct instance_net){ "veth", "fw-drone", "eth0", "10.202.3.1/24",
					    "10.202.3.254/24" };
	int n = instance_record_format(buf, sizeof(buf), &rec);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(buf));
	/* one line a field: the newline in the path is escaped */
	assert_non_null(strstr(buf, "rootfs /img/with space\\nand newline\\\\x.ext4\n"));
	assert_int_equal(instance_record_parse(buf, &back), 0);
	assert_string_equal(back.name, "drone");
	assert_int_equal(back.supervisor_pid, 100);
	assert_int_equal(back.supervisor_start, 123456789);
	assert_int_equal(back.init_pid, 102);
	assert_int_equal(back.init_start, 123456790);
	assert_string_equal(back.rootfs, rec.rootfs);
	assert_string_equal(back.state_dir, rec.state_dir);
	assert_false(back.ephemeral);
	assert_string_equal(back.console, "pty");
	assert_int_equal(back.started, 1700000000);
	assert_int_equal(back.nnet, 2);
	assert_string_equal(back.net[0].addr, "10.0.0.2/24");
	assert_string_equal(back.net[0].gateway, "");
	assert_string_equal(back.net[1].host, "fw-drone");
	assert_string_equal(back.net[1].gateway, "10.202.3.254/24");

	/* too small a buffer */
	assert_int_equal(instance_record_format(buf, 20, &rec), -ENOSPC);
}

static void record_parse_bad(void **state)
{
	(void)state;
	assert_int_equal(instance_record_parse("", &back), -EINVAL);
	assert_int_equal(instance_record_parse("name x\ninit_pid 3\n", &back), -EINVAL);
	assert_int_equal(instance_record_parse("name x\nsupervisor_pid -3\ninit_pid 3\n", &back),
			 -EINVAL);
	/* unknown keys (a newer fwrun's) are skipped */
	assert_int_equal(instance_record_parse("name x\nfuture 1\nsupervisor_pid 2\n"
					       "init_pid 3\nnet garbage\n", &back), 0);
	assert_int_equal(back.nnet, 0);
}

static void proc_start_time(void **state)
{
	uint64_t t = 0;
	(void)state;

	/* comm with spaces and ')' */
	assert_int_equal(instance_proc_start("42 (a b) c)) S 1 42 42 0 -1 4194560 100 0 0 0 "
					     "1 2 0 0 20 0 1 0 98765 1000 10 18446744073709551615\n",
					     &t), 0);
	assert_int_equal(t, 98765);
	assert_int_equal(instance_proc_start("42 (x) S 1 2\n", &t), -EINVAL);
	assert_int_equal(instance_proc_start("no paren", &t), -EINVAL);
}

static void enter_reads_init(void **state)
{
	char label[64];
	uint64_t bnd = 0;
	(void)state;

	assert_int_equal(enter_parse_capbnd("Name:\tx\nCapEff:\t0\nCapBnd:\t000001e0bcfcfdff\n"
					    "CapAmb:\t0\n", &bnd), 0);
	assert_int_equal(bnd, 0x000001e0bcfcfdffULL);
	assert_int_equal(enter_parse_capbnd("Name:\tx\n", &bnd), -EINVAL);

	assert_int_equal(enter_label("fwrun-firmware (enforce)\n", label, sizeof(label)), 0);
	assert_string_equal(label, "fwrun-firmware");
	assert_int_equal(enter_label("unconfined\n", label, sizeof(label)), 0);
	assert_string_equal(label, "");
	assert_int_equal(enter_label("a//b (complain)", label, sizeof(label)), 0);
	assert_string_equal(label, "a//b");
	assert_int_equal(enter_label("plain", label, sizeof(label)), 0);
	assert_string_equal(label, "plain");
	assert_int_equal(enter_label("0123456789", label, 4), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(record_round_trip),
		cmocka_unit_test(record_parse_bad),
		cmocka_unit_test(proc_start_time),
		cmocka_unit_test(enter_reads_init),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
