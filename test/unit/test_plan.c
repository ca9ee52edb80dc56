/* SPDX-License-Identifier: MIT */
/* The planner: plans built from option sets and facts, without root, and
 * the dry run's text and JSON printed from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>

#include "caps.h"
#include "plan.h"

#define ARGV(...) ((char *[]){ "fwrun", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "fwrun", __VA_ARGS__ }) / sizeof(char *)))

static struct fwrun_plan plan;	/* static: it holds paths of PATH_MAX */
static struct fwrun_opts opts;

/* Facts as on a host without AppArmor, for an ext4 image with a journal. */
static struct fwrun_facts facts_ext4(void)
{
	return (struct fwrun_facts){
		.rootfs = { .kind = ROOTFS_EXT4, .ext_journal = true },
		.cap_last = 40,
	};
}

/* Parse argv and build the plan from f: returns plan_build()'s result. */
#define BUILD(f, e, ...)                                                                   \
	(assert_int_equal(fwrun_parse(&opts, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), e),    \
			  FWRUN_PARSE_RUN),                                               \
	 plan_free(&plan), plan_build(&plan, &opts, f, e))

/* What a printer writes, as a malloc'd string. */
static char *print_to_string(int (*print)(FILE *, const struct fwrun_plan *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(print(f, &plan), 0);
	fclose(f);
	return buf;
}

static void plan_defaults(void **state)
{
	struct fwrun_facts f = facts_ext4();
	struct fw_error e;
	(void)state;

	assert_int_equal(BUILD(&f, &e, "--rootfs", "out/drone.ext2"), 0);
	assert_string_equal(plan.name, "drone");
	assert_string_equal(plan.hostname, "drone");
	assert_false(plan.ephemeral);
	assert_string_equal(plan.state.upper, "/var/lib/fwrun/drone/upper");
	assert_string_equal(plan.state.work, "/var/lib/fwrun/drone/work");
	/* the clock is protected by the bounding set, whatever AppArmor says */
	assert_true(plan.cap_drop & CAPS_BIT(CAP_SYS_TIME));
	assert_int_equal(plan.cap_drop, caps_default_drop());
	assert_false(plan.aa.confine);
	assert_true(plan.aa_notice);
	/* no terminal: a read-only console (a pty copied out, no input), and
	 * boxinit is told its name */
	assert_true(plan.console.pty);
	assert_false(plan.console.input);
	assert_false(plan.console.raw);
	assert_int_equal(plan.console_mode, CONSOLE_READONLY);
	assert_null(plan.console_log);
	assert_null(plan.until_src);
	assert_string_equal(plan.argv[0], "/sbin/boxinit");
	assert_string_equal(plan.argv[1], "ro.boot.console=console");
	assert_null(plan.argv[2]);
	assert_string_equal(plan.envp[1], "container=fwrun");
	/* systemd's container interface: the uuid the probe made */
	assert_string_equal(plan.envp[2], "container_uuid=");
	assert_null(plan.envp[3]);
	assert_int_equal(plan.life.stop_signal, SIGTERM);
	assert_int_equal(plan.status_fd, -1);
	assert_true(plan.seccomp);
}

static void plan_from_options(void **state)
{
	struct fwrun_facts f = facts_ext4();
	struct fw_error e;
	(void)state;

	f.stdin_tty = true;
	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--name", "d1", "--hostname", "box",
			       "--ephemeral", "--cap-add", "SYS_TIME", "--cap-drop", "NET_RAW",
			       "--setenv", "A=1", "--stop-signal", "PWR", "--timeout", "5",
			       "--restart-on-reboot", "-q"),
			 0);
	assert_string_equal(plan.name, "d1");
	assert_string_equal(plan.hostname, "box");
	assert_true(plan.ephemeral);
	assert_false(plan.cap_drop & CAPS_BIT(CAP_SYS_TIME));
	assert_true(plan.cap_drop & CAPS_BIT(CAP_NET_RAW));
	assert_false(plan.aa_notice);	/* -q */
	/* a terminal: a pty console, raw, and boxinit is told its name */
	assert_true(plan.console.pty);
	assert_true(plan.console.raw);
	assert_string_equal(plan.argv[1], "ro.boot.console=console");
	assert_string_equal(plan.envp[2], "A=1");
	assert_string_equal(plan.envp[3], "container_uuid=");
	assert_int_equal(plan.life.stop_signal, SIGPWR);
	assert_int_equal(plan.life.timeout_ms, 5000);
	assert_true(plan.restart_on_reboot);
	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--seccomp=off"), 0);
	assert_false(plan.seccomp);
}

static void plan_console_options(void **state)
{
	struct fwrun_facts f = facts_ext4();
	struct fw_error e;
	(void)state;

	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--console=pipe"), 0);
	assert_false(plan.console.pty);
	assert_int_equal(plan.console_mode, CONSOLE_PIPE);
	assert_null(plan.argv[1]);	/* boxinit gets no console without a pty */
	plan_free(&plan);
	f.stdin_tty = true;
	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--console=read-only",
			       "--console-log", "boot.log", "--until", "login:|ready"), 0);
	assert_true(plan.console.pty);
	assert_false(plan.console.input);
	assert_false(plan.console.raw);	/* a terminal, but nothing read from it */
	assert_string_equal(plan.console_log, "boot.log");
	assert_string_equal(plan.until_src, "login:|ready");
	assert_int_equal(regexec(plan.until, "x ready", 0, NULL, 0), 0);
	assert_int_equal(regexec(plan.until, "nothing", 0, NULL, 0), REG_NOMATCH);
}

static void plan_apparmor(void **state)
{
	struct fwrun_facts f = facts_ext4();
	struct fw_error e;
	(void)state;

	/* on, without AppArmor in the kernel: refused before anything runs */
	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--apparmor=on"), -EOPNOTSUPP);
	f.aa_kernel_enabled = true;
	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4"), 0);
	assert_true(plan.aa.confine);
	assert_string_equal(plan.aa.label, AA_PROFILE_NAME);
	assert_false(plan.aa_notice);
	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--profile", "other"), 0);
	assert_string_equal(plan.aa.label, "other");
	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--apparmor=off"), 0);
	assert_false(plan.aa.confine);
	assert_false(plan.aa_notice);
}

static void plan_refuses_state_in_rootfs(void **state)
{
	struct fwrun_facts f = { .rootfs = { .kind = ROOTFS_DIR }, .state_in_rootfs = true };
	struct fw_error e;
	(void)state;

	assert_int_equal(BUILD(&f, &e, "--rootfs", "/fw", "--state-dir", "/fw/s"), -EINVAL);
	assert_string_equal(e.what, "use state directory");
	assert_string_equal(e.subject, "/fw/s");
}

static void dry_run_text(void **state)
{
	struct fwrun_facts f = facts_ext4();
	struct fw_error e;
	char *out;
	(void)state;

	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--name", "d1", "--reset",
			       "--tap", "tap0:eth1:10.0.0.2/24", "--veth", "--", "/init", "a b"),
			 0);
	out = print_to_string(plan_print_text);
	assert_non_null(strstr(out, "rootfs:     d.ext4 (ext4)\n"));
	assert_non_null(strstr(out, "mounted read-only with noload\n"));
	assert_non_null(strstr(out, "upper:      /var/lib/fwrun/d1/upper (emptied first)\n"));
	assert_non_null(strstr(out, "tap:        tap0 in as eth1 with 10.0.0.2/24, up"));
	assert_non_null(strstr(out, "veth:       eth0 10.202.N.1/24, default route via host end "
				    "fw-d1 10.202.N.254/24"));
	assert_non_null(strstr(out, "init:       /init a b\n"));
	assert_non_null(strstr(out, "caps:       cut from the bounding set: "));
	assert_non_null(strstr(out, "CAP_SYS_TIME"));
	free(out);
}

static void dry_run_json(void **state)
{
	struct fwrun_facts f = facts_ext4();
	struct fw_error e;
	char *out;
	(void)state;

	assert_int_equal(BUILD(&f, &e, "--rootfs", "d\"q.ext4", "--name", "d1", "--ephemeral",
			       "--veth=192.168.9.2/24", "--", "/init", "x\ty"),
			 0);
	out = print_to_string(plan_print_json);
	/* one line, one object */
	assert_int_equal(out[0], '{');
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_int_equal(out[strlen(out) - 2], '}');
	assert_non_null(strstr(out, "\"path\":\"d\\\"q.ext4\""));
	assert_non_null(strstr(out, "\"kind\":\"ext4\",\"lower\":\"loop\""));
	assert_non_null(strstr(out, "\"ephemeral\":true,\"state\":null"));
	assert_non_null(strstr(out, "\"veth\":{\"host_end\":\"fw-d1\",\"inner\":\"eth0\","
				    "\"addr\":\"192.168.9.2/24\",\"gateway\":\"192.168.9.254/24\"}"));
	assert_non_null(strstr(out, "\"argv\":[\"/init\",\"x\\ty\"]"));
	assert_non_null(strstr(out, "\"CAP_SYS_TIME\""));
	assert_non_null(strstr(out, "\"signal\":\"SIGTERM\""));
	free(out);
}

static void dry_run_formats(void **state)
{
	bool json = true;
	(void)state;

	assert_int_equal(plan_parse_format(NULL, &json), 0);
	assert_false(json);
	assert_int_equal(plan_parse_format("text", &json), 0);
	assert_false(json);
	assert_int_equal(plan_parse_format("json", &json), 0);
	assert_true(json);
	assert_int_equal(plan_parse_format("JSON", &json), -EINVAL);
	assert_int_equal(plan_parse_format("", &json), -EINVAL);
}

static void plan_binds(void **state)
{
	struct fwrun_facts f = facts_ext4();
	struct fw_error e;
	char *out;
	(void)state;

	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--bind", "/srv/x:/mnt/x",
			       "--bind-ro", "/tmp/.X11-unix"), 0);
	assert_int_equal(plan.nbinds, 2);
	assert_string_equal(plan.binds[0].src, "/srv/x");
	assert_string_equal(plan.binds[0].dst, "/mnt/x");
	assert_false(plan.binds[0].ro);
	assert_string_equal(plan.binds[1].src, "/tmp/.X11-unix");
	assert_string_equal(plan.binds[1].dst, "/tmp/.X11-unix");
	assert_true(plan.binds[1].ro);
	out = print_to_string(plan_print_text);
	assert_non_null(strstr(out, "bind:       /srv/x on /mnt/x, read-write"));
	assert_non_null(strstr(out, "bind:       /tmp/.X11-unix on /tmp/.X11-unix, read-only"));
	free(out);
	out = print_to_string(plan_print_json);
	assert_non_null(strstr(out, "\"binds\":[{\"src\":\"/srv/x\",\"dst\":\"/mnt/x\","
				    "\"read_only\":false},{\"src\":\"/tmp/.X11-unix\""));
	free(out);

	/* what the probe found refuses the plan */
	f.bind[1] = BIND_IN_STATE;
	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--bind", "/srv/x:/mnt/x",
			       "--bind-ro", "/var/lib/fwrun/d/upper"), -EINVAL);
	assert_string_equal(e.subject, "/var/lib/fwrun/d/upper");
	assert_non_null(strstr(e.hint, "state dir"));
	f.bind[1] = BIND_IN_RUNDIR;
	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--bind", "/srv/x:/mnt/x",
			       "--bind-ro", "/run/fwrun/mnt"), -EINVAL);
	f.bind[1] = BIND_MISSING;
	f.bind_err[1] = ENOENT;
	assert_int_equal(BUILD(&f, &e, "--rootfs", "d.ext4", "--bind", "/srv/x:/mnt/x",
			       "--bind-ro", "/nowhere"), -ENOENT);
	plan_free(&plan);
	assert_null(plan.binds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plan_defaults),
		cmocka_unit_test(plan_from_options),
		cmocka_unit_test(plan_console_options),
		cmocka_unit_test(plan_apparmor),
		cmocka_unit_test(plan_refuses_state_in_rootfs),
		cmocka_unit_test(dry_run_text),
		cmocka_unit_test(dry_run_json),
		cmocka_unit_test(dry_run_formats),
		cmocka_unit_test(plan_binds),
	};
	int r = cmocka_run_group_tests_name("plan", tests, NULL, NULL);
	plan_free(&plan);
	return r;
}
