/* SPDX-License-Identifier: MIT */
/* --tap, --veth, --force-default-route through fwrun_parse(), in-process
 * (apart from test_netsetup.c: this one links the whole of fwrun.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fwrun.h"
#include "netsetup.h"

static void check_addr(const struct net_addr *a, const char *want)
{
	char buf[64];
	assert_true(net_format_cidr(a, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, want);
}

/* The options, through fwrun_parse() in-process. */
#define ARGV(...) ((char *[]){ "fwrun", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "fwrun", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, e, ...) fwrun_parse(o, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), e)

static void test_options(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;

	(void)state;
	assert_int_equal(PARSE(&o, &e, "--rootfs", "drone.ext2"), FWRUN_PARSE_RUN);
	assert_true(net_spec_empty(&o.net));
	assert_string_equal(o.name, "drone");	/* the run's state gets it */

	assert_int_equal(PARSE(&o, &e, "--rootfs", "drone.ext2", "--tap", "tap0",
			       "--tap", "tap1:eth1:10.0.0.2/24", "--veth", "--force-default-route",
			       "--", "/sbin/init", "--tap", "x"), FWRUN_PARSE_RUN);
	assert_int_equal(o.net.ntaps, 2);
	assert_string_equal(o.net.taps[1].inner, "eth1");
	assert_true(o.net.veth);
	assert_false(o.net.veth_addr_given);
	assert_true(o.net.force_default_route);
	assert_int_equal(o.init_argc, 3);	/* the init's own --tap is left alone */

	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--veth=10.203.0.1/24"),
			 FWRUN_PARSE_RUN);
	assert_true(o.net.veth_addr_given);
	check_addr(&o.net.veth_host, "10.203.0.254/24");

	/* errors: usage errors (exit 125), the hint is the reason */
	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--tap", "1234567890123456"),
			 FWRUN_PARSE_ERROR);
	assert_int_equal(e.err, 0);
	assert_string_equal(e.what, "parse --tap");
	char line[1024];
	fwrun_format_error(line, sizeof(line), &e);
	assert_string_equal(line, "fwrun: parse --tap '1234567890123456': "
			    "IF: interface names have at most 15 bytes");
	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--tap"), FWRUN_PARSE_ERROR);
	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--veth=1.2.3.4"), FWRUN_PARSE_ERROR);
	assert_string_equal(e.what, "parse --veth");
	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--veth", "--veth"), FWRUN_PARSE_ERROR);
	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--tap", "a:lo"), FWRUN_PARSE_ERROR);
	assert_string_equal(e.subject, "lo");
	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--tap", "a", "--tap", "a:b"),
			 FWRUN_PARSE_ERROR);
	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--veth", "--tap", "a:eth0"),
			 FWRUN_PARSE_ERROR);
	assert_int_equal(PARSE(&o, &e, "--diff", "--name", "d", "--veth"), FWRUN_PARSE_ERROR);
	/* the help lists them */
	assert_non_null(strstr(fwrun_usage(), "--tap IF[:INNER[:ADDR/PREFIX]]"));
	assert_non_null(strstr(fwrun_usage(), "--veth[=ADDR/PREFIX]"));
	assert_non_null(strstr(fwrun_usage(), "--force-default-route"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
