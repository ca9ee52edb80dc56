/* SPDX-License-Identifier: MIT */
/* The command line: every option, bad values, conflicts, '--', and the
 * small pure helpers of fwrun.c (names, exit statuses, error lines). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "fwrun.h"

#define ARGV(...) ((char *[]){ "fwrun", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "fwrun", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, e, ...) fwrun_parse(o, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), e)

static void parse_minimal(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;
	(void)state;

	assert_int_equal(PARSE(&o, &e, "--rootfs", "out/drone.ext2"), FWRUN_PARSE_RUN);
	assert_string_equal(o.rootfs, "out/drone.ext2");
	assert_string_equal(o.name, "drone");
	assert_false(o.name_given);
	assert_null(o.state_dir);
	assert_int_equal(o.init_argc, 1);
	assert_string_equal(o.init_argv[0], "/sbin/boxinit");
	assert_null(o.init_argv[1]);
	assert_int_equal(o.verbosity, FWRUN_NORMAL);
}

static void parse_every_option(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;
	(void)state;

	assert_int_equal(PARSE(&o, &e, "--rootfs=img.squashfs", "--name", "d1", "--state-dir",
			       "/tmp/s", "--hostname", "box", "--reset", "-v", "--dry-run"),
			 FWRUN_PARSE_RUN);
	assert_string_equal(o.name, "d1");
	assert_true(o.name_given);
	assert_string_equal(o.state_dir, "/tmp/s");
	assert_string_equal(o.hostname, "box");
	assert_true(o.reset);
	assert_true(o.dry_run);
	assert_int_equal(o.verbosity, FWRUN_VERBOSE);

	assert_int_equal(PARSE(&o, &e, "--rootfs", "x.ext4", "--ephemeral", "-q"),
			 FWRUN_PARSE_RUN);
	assert_true(o.ephemeral);
	assert_int_equal(o.verbosity, FWRUN_QUIET);
}

static void parse_init_and_double_dash(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;
	(void)state;

	/* the init's own options are left alone, with or without "--" */
	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--", "/sbin/boxinit",
			       "ro.hardware=milosboard", "--verbose"), FWRUN_PARSE_RUN);
	assert_int_equal(o.init_argc, 3);
	assert_string_equal(o.init_argv[0], "/sbin/boxinit");
	assert_string_equal(o.init_argv[2], "--verbose");
	assert_false(o.verbosity);

	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "/bin/sh", "-c", "echo hi"),
			 FWRUN_PARSE_RUN);
	assert_int_equal(o.init_argc, 3);
	assert_string_equal(o.init_argv[1], "-c");

	/* "--" alone: the default init */
	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--"), FWRUN_PARSE_RUN);
	assert_string_equal(o.init_argv[0], "/sbin/boxinit");

	/* an empty INIT is refused */
	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext2", "--", ""), FWRUN_PARSE_ERROR);
}

static void expect_error(enum fwrun_parse_result r, const struct fw_error *e,
			 const char *want)
{
	char line[1024];

	assert_int_equal(r, FWRUN_PARSE_ERROR);
	fwrun_format_error(line, sizeof(line), e);
	if (!strstr(line, want))
		fail_msg("error line '%s' lacks '%s'", line, want);
	assert_null(strchr(line, '\n'));
}

static void parse_bad_input(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;
	(void)state;

	expect_error(PARSE(&o, &e, "--bogus"), &e, "'--bogus': unknown");
	expect_error(PARSE(&o, &e, "-x"), &e, "'-x': unknown");
	expect_error(PARSE(&o, &e, "--rootfs"), &e, "'--rootfs': needs an argument");
	expect_error(PARSE(&o, &e, "--ephemeral=yes", "--rootfs", "a.ext4"), &e,
		     "takes no argument");
	expect_error(PARSE(&o, &e, "--name", "d1"), &e, "'--rootfs': is required");
	expect_error(PARSE(&o, &e, "--rootfs", ""), &e, "'--rootfs': is empty");
	expect_error(PARSE(&o, &e, "--rootfs", "a.ext4", "--name", "a/b"), &e,
		     "instance name 'a/b'");
	expect_error(PARSE(&o, &e, "--rootfs", "a.ext4", "--name",
			   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
		     &e, "longer than 64 bytes");
	expect_error(PARSE(&o, &e, "--rootfs", "a.ext4", "--name", "-x"), &e, "no leading");
	expect_error(PARSE(&o, &e, "--rootfs", "my image.ext4"), &e,
		     "derive an instance name from 'my image.ext4'");
	expect_error(PARSE(&o, &e, "--rootfs", "a.ext4", "--hostname", "a b"), &e,
		     "hostname 'a b'");
	expect_error(PARSE(&o, &e, "--rootfs", "a.ext4", "--state-dir", ""), &e,
		     "'--state-dir': is empty");
}

static void parse_conflicts(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;
	(void)state;

	expect_error(PARSE(&o, &e, "--rootfs", "a.ext4", "--ephemeral", "--state-dir", "/x"),
		     &e, "does not go with --state-dir");
	expect_error(PARSE(&o, &e, "--rootfs", "a.ext4", "--ephemeral", "--reset"), &e,
		     "does not go with --reset");
	expect_error(PARSE(&o, &e, "--diff"), &e, "needs --name, --state-dir or --rootfs");
	expect_error(PARSE(&o, &e, "--diff", "--name", "d1", "--ephemeral"), &e,
		     "only goes with");
	expect_error(PARSE(&o, &e, "--diff", "--name", "d1", "--", "/sbin/init"), &e,
		     "takes no INIT");
	assert_int_equal(PARSE(&o, &e, "--diff", "--name", "d1"), FWRUN_PARSE_RUN);
	assert_true(o.diff);
	assert_int_equal(PARSE(&o, &e, "--diff", "--state-dir", "/var/x"), FWRUN_PARSE_RUN);
}

static void parse_instance_commands(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;
	(void)state;

	assert_int_equal(PARSE(&o, &e, "--list"), FWRUN_PARSE_RUN);
	assert_int_equal(o.action, FWRUN_LIST);
	assert_int_equal(PARSE(&o, &e, "--list", "--json"), FWRUN_PARSE_RUN);
	assert_true(o.json);
	assert_int_equal(PARSE(&o, &e, "--enter", "d1"), FWRUN_PARSE_RUN);
	assert_int_equal(o.action, FWRUN_ENTER);
	assert_string_equal(o.target, "d1");
	assert_string_equal(o.init_argv[0], "/bin/sh");
	assert_int_equal(PARSE(&o, &e, "--enter", "d1", "--setenv", "A=b", "--", "ls", "-l"),
			 FWRUN_PARSE_RUN);
	assert_string_equal(o.init_argv[0], "ls");
	assert_string_equal(o.init_argv[1], "-l");
	assert_int_equal(PARSE(&o, &e, "--stop", "d1", "--timeout", "5"), FWRUN_PARSE_RUN);
	assert_int_equal(o.action, FWRUN_STOP);
	assert_int_equal(PARSE(&o, &e, "--reset", "--name", "d1"), FWRUN_PARSE_RUN);
	assert_int_equal(o.action, FWRUN_RESET);
	assert_int_equal(PARSE(&o, &e, "--reset", "--name", "d1", "--rootfs", "d.ext4"),
			 FWRUN_PARSE_RUN);
	assert_int_equal(o.action, FWRUN_RUN);
	assert_int_equal(PARSE(&o, &e, "--remove", "--state-dir", "/var/x"), FWRUN_PARSE_RUN);
	assert_int_equal(o.action, FWRUN_REMOVE);

	expect_error(PARSE(&o, &e, "--json"), &e, "only goes with --list");
	expect_error(PARSE(&o, &e, "--list", "--stop", "d1"), &e, "give one of them");
	expect_error(PARSE(&o, &e, "--enter", "a/b"), &e, "instance name 'a/b'");
	expect_error(PARSE(&o, &e, "--stop", "d1", "--rootfs", "x.ext4"), &e,
		     "does not go with --rootfs");
	expect_error(PARSE(&o, &e, "--stop", "d1", "--", "/bin/sh"), &e, "takes no INIT");
	expect_error(PARSE(&o, &e, "--list", "--timeout", "3"), &e, "'--timeout'");
	expect_error(PARSE(&o, &e, "--enter", "d1", "--name", "d2"), &e, "no --name");
	expect_error(PARSE(&o, &e, "--remove"), &e, "needs --name or --state-dir");
	expect_error(PARSE(&o, &e, "--remove", "--reset", "--name", "d"), &e,
		     "does not go with --reset");
	expect_error(PARSE(&o, &e, "--remove", "--name", "d", "--rootfs", "x.ext4"), &e,
		     "does not go with --rootfs");
	expect_error(PARSE(&o, &e, "--enter", "d1", "--", ""), &e, "CMD");

	/* --load-profile: fwrun's own profile, nothing else to say */
	assert_int_equal(PARSE(&o, &e, "--load-profile", "-q"), FWRUN_PARSE_RUN);
	assert_int_equal(o.action, FWRUN_LOAD_PROFILE);
	expect_error(PARSE(&o, &e, "--load-profile", "--apparmor=off"), &e,
		     "does not go with --apparmor/--profile");
	expect_error(PARSE(&o, &e, "--load-profile", "--profile", "x"), &e,
		     "does not go with --apparmor/--profile");
	expect_error(PARSE(&o, &e, "--load-profile", "--rootfs", "x.ext4"), &e,
		     "does not go with --rootfs");
	expect_error(PARSE(&o, &e, "--load-profile", "--list"), &e, "give one of them");
	expect_error(PARSE(&o, &e, "--load-profile", "--reset"), &e, "does not go with --reset");
	expect_error(PARSE(&o, &e, "--load-profile", "--name", "d"), &e, "takes no --name");
	expect_error(PARSE(&o, &e, "--load-profile", "--", "x"), &e, "takes no INIT");
}

static void parse_binds(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;
	struct fwrun_bind b;
	const char *why;
	(void)state;

	assert_int_equal(fwrun_bind_parse("/a/b", false, &b, &why), 0);
	assert_int_equal(b.src_len, 4);
	assert_string_equal(b.dst, "/a/b");
	assert_int_equal(fwrun_bind_parse("/a:/mnt/x", true, &b, &why), 0);
	assert_int_equal(b.src_len, 2);
	assert_string_equal(b.dst, "/mnt/x");
	assert_true(b.ro);
	assert_int_equal(fwrun_bind_parse("/a:/x/..y/z", false, &b, &why), 0);
	assert_int_equal(fwrun_bind_parse("a:/x", false, &b, &why), -EINVAL);
	assert_int_equal(fwrun_bind_parse("/a:x", false, &b, &why), -EINVAL);
	assert_int_equal(fwrun_bind_parse(":/x", false, &b, &why), -EINVAL);
	assert_int_equal(fwrun_bind_parse("/a:", false, &b, &why), -EINVAL);
	assert_int_equal(fwrun_bind_parse("/a:/x/../../etc", false, &b, &why), -EINVAL);
	assert_non_null(strstr(why, ".."));
	assert_int_equal(fwrun_bind_parse("/a:/..", false, &b, &why), -EINVAL);
	assert_int_equal(fwrun_bind_parse("/a:/", false, &b, &why), -EINVAL);
	assert_int_equal(fwrun_bind_parse("/a:/./", false, &b, &why), -EINVAL);
	assert_int_equal(fwrun_bind_parse("/a:/b:ro", false, &b, &why), -EINVAL);

	assert_int_equal(PARSE(&o, &e, "--rootfs", "d.ext4", "--bind", "/a", "--bind-ro",
			       "/b:/c"), FWRUN_PARSE_RUN);
	assert_int_equal(o.nbinds, 2);
	expect_error(PARSE(&o, &e, "--rootfs", "d.ext4", "--bind", "/a:/../etc"), &e,
		     "--bind '/a:/../etc': DST must not contain '..'");
	expect_error(PARSE(&o, &e, "--list", "--bind", "/a"), &e, "does not go with --bind");
}

static void parse_is_repeatable(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;
	(void)state;

	/* getopt state is reset on every call */
	for (int i = 0; i < 3; i++) {
		expect_error(PARSE(&o, &e, "--rootfs", "a.ext4", "--nope"), &e, "unknown");
		assert_int_equal(PARSE(&o, &e, "--rootfs", "a.ext4", "-v"), FWRUN_PARSE_RUN);
		assert_int_equal(o.verbosity, FWRUN_VERBOSE);
	}
}

static void names(void **state)
{
	char name[FWRUN_NAME_MAX + 1];
	(void)state;

	assert_int_equal(fwrun_name_from_rootfs("out/drone.ext2", name, sizeof(name)), 0);
	assert_string_equal(name, "drone");
	assert_int_equal(fwrun_name_from_rootfs("build/final/", name, sizeof(name)), 0);
	assert_string_equal(name, "final");
	assert_int_equal(fwrun_name_from_rootfs("a.b.squashfs", name, sizeof(name)), 0);
	assert_string_equal(name, "a.b");
	assert_int_equal(fwrun_name_from_rootfs("/", name, sizeof(name)), -EINVAL);
	assert_int_equal(fwrun_name_from_rootfs(".hidden", name, sizeof(name)), -EINVAL);
	assert_int_equal(fwrun_name_valid("d1"), 0);
	assert_int_equal(fwrun_name_valid("a_b-c.d"), 0);
	assert_int_equal(fwrun_name_valid(""), -EINVAL);
	assert_int_equal(fwrun_name_valid("a:b"), -EINVAL);
	assert_int_equal(fwrun_name_valid("a\nb"), -EINVAL);
	char long_name[FWRUN_NAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[FWRUN_NAME_MAX] = '\0';
	assert_int_equal(fwrun_name_valid(long_name), 0);
	long_name[FWRUN_NAME_MAX] = 'a';
	long_name[FWRUN_NAME_MAX + 1] = '\0';
	assert_int_equal(fwrun_name_valid(long_name), -ENAMETOOLONG);
}

static void exit_statuses(void **state)
{
	(void)state;
	/* wait(2) encodings: exit code in bits 8-15, signal in 0-6 */
	assert_int_equal(fwrun_exit_status(0), 0);
	assert_int_equal(fwrun_exit_status(7 << 8), 7);
	assert_int_equal(fwrun_exit_status(126 << 8), 126);
	assert_int_equal(fwrun_exit_status(SIGKILL), 128 + 9);
	assert_int_equal(fwrun_exit_status(SIGTERM | 0x80), 128 + 15); /* core dumped */
}

static void setenv_option(void **state)
{
	struct fwrun_opts o;
	struct fw_error e;
	const char *envp[FWRUN_SETENV_MAX + 3];
	char *ok[] = { "fwrun", "--rootfs", "x.ext2", "--setenv", "A=1", "--setenv", "B_2=",
		       "--setenv", "PATH=/bin", "--setenv", "A=x=y", NULL };
	(void)state;

	assert_int_equal(fwrun_parse(&o, 11, ok, &e), FWRUN_PARSE_RUN);
	assert_int_equal(o.nsetenv, 4);
	assert_int_equal(fwrun_init_env(&o, envp), 4);
	assert_string_equal(envp[0], "PATH=/bin");
	assert_string_equal(envp[1], "container=fwrun");
	assert_string_equal(envp[2], "A=x=y");
	assert_string_equal(envp[3], "B_2=");
	assert_null(envp[4]);

	assert_int_equal(fwrun_setenv_valid("A"), -EINVAL);
	assert_int_equal(fwrun_setenv_valid("=1"), -EINVAL);
	assert_int_equal(fwrun_setenv_valid("1A=1"), -EINVAL);
	assert_int_equal(fwrun_setenv_valid("A-B=1"), -EINVAL);
	assert_int_equal(fwrun_setenv_valid("A B=1"), -EINVAL);
	assert_int_equal(fwrun_setenv_valid("_a9=\n"), 0);
	char *bad[] = { "fwrun", "--rootfs", "x.ext2", "--setenv", "NO", NULL };
	assert_int_equal(fwrun_parse(&o, 5, bad, &e), FWRUN_PARSE_ERROR);
	assert_string_equal(e.subject, "NO");
}

static void error_lines(void **state)
{
	struct fw_error e;
	char line[1024];
	(void)state;

	fw_fail(&e, ENOENT, "open rootfs", "/x y.img");
	fwrun_format_error(line, sizeof(line), &e);
	assert_string_equal(line, "fwrun: open rootfs '/x y.img': No such file or directory");

	/* A newline or other control character in a subject: still one line. */
	fw_fail(&e, ENOENT, "open rootfs", "/a\nb\tc\x1b.img");
	fwrun_format_error(line, sizeof(line), &e);
	assert_string_equal(line, "fwrun: open rootfs '/a\\nb\\tc\\x1b.img': No such file or directory");
	assert_null(strchr(line, '\n'));

	fw_fail_hint(&e, ENODEV, "mount overlay on", "/run/fwrun/mnt/merged",
		     "is the overlay module loaded?");
	fwrun_format_error(line, sizeof(line), &e);
	assert_string_equal(line, "fwrun: mount overlay on '/run/fwrun/mnt/merged': "
			    "No such device (is the overlay module loaded?)");

	fw_fail(&e, EPERM, "unshare namespaces", "");
	fwrun_format_error(line, sizeof(line), &e);
	assert_string_equal(line, "fwrun: unshare namespaces: Operation not permitted");
}

static void usage_lists_options(void **state)
{
	(void)state;
	const char *u = fwrun_usage();
	static const char *const opts[] = { "--rootfs", "--name", "--state-dir", "--ephemeral",
					    "--reset", "--diff", "--dry-run", "--verbose",
					    "--quiet", "--help", "--version", "--hostname" };
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strstr(u, opts[i]))
			fail_msg("usage lacks %s", opts[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_minimal),
		cmocka_unit_test(parse_every_option),
		cmocka_unit_test(parse_init_and_double_dash),
		cmocka_unit_test(parse_bad_input),
		cmocka_unit_test(parse_conflicts),
		cmocka_unit_test(parse_is_repeatable),
		cmocka_unit_test(parse_instance_commands),
		cmocka_unit_test(parse_binds),
		cmocka_unit_test(names),
		cmocka_unit_test(exit_statuses),
		cmocka_unit_test(error_lines),
		cmocka_unit_test(setenv_option),
		cmocka_unit_test(usage_lists_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
