/* SPDX-License-Identifier: MIT */
/* The AppArmor profile text, name quoting, the mode decision, and the
 * load-once logic of aa_prepare() against a fake securityfs and a fake
 * apparmor_parser that counts its runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "aa.h"

/* Every deny rule the contract asks for, written out here on purpose (not
 * taken from aa.c), so that a rule dropped from the profile fails. */
static const char *const required_rules[] = {
	"audit deny capability sys_time,\n",
	"audit deny capability wake_alarm,\n",
	"audit deny capability mac_admin,\n",
	"audit deny capability mac_override,\n",
	"audit deny capability sys_module,\n",
	"audit deny capability sys_rawio,\n",
	"audit deny /dev/rtc* rw,\n",
	"audit deny /{,**/}rtc{,[0-9]*} rw,\n",
	"audit deny /sys/class/rtc/** w,\n",
	"audit deny /sys/devices/**/rtc/** w,\n",
	"audit deny /{,**/}sysrq-trigger rw,\n",
	"audit deny /dev/mem rw,\n",
	"audit deny /dev/kmem rw,\n",
	"audit deny /dev/port rw,\n",
	"audit deny /dev/sd* rw,\n",
	"audit deny /dev/nvme* rw,\n",
	"audit deny /dev/vd* rw,\n",
	"audit deny /dev/mmcblk* rw,\n",
	"audit deny /dev/loop[0-9]* w,\n",
	"audit deny /dev/watchdog* rw,\n",
	"audit deny /{,**/}sys/vm/** w,\n",
	"audit deny /sys/kernel/security/** w,\n",
	"audit deny /{,**/}sys/kernel/{core_pattern,modprobe,hotplug,poweroff_cmd} w,\n",
	/* a file named kmsg anywhere but fwrun's own /dev/kmsg */
	"audit deny /kmsg w,\n",
	"audit deny /{[^d]*,d,d[^e]*,de,de[^v]*,dev?*}/{,**/}kmsg w,\n",
	"audit deny /dev/*/{,**/}kmsg w,\n",
};

static void test_profile_rules(void **state)
{
	(void)state;
	const char *p = aa_profile();
	assert_non_null(strstr(p, "profile fwrun flags=(attach_disconnected,mediate_deleted) {\n"));
	for (size_t i = 0; i < FW_ARRAY_SIZE(required_rules); i++) {
		if (!strstr(p, required_rules[i]))
			fail_msg("profile lacks: %s", required_rules[i]);
	}
	/* allow by default */
	assert_non_null(strstr(p, "\n  capability,\n"));
	assert_non_null(strstr(p, "\n  file,\n"));
	assert_non_null(strstr(p, "\n  mount,\n"));
	/* ends with the closing brace */
	assert_string_equal(p + strlen(p) - 2, "}\n");
}

/* No line grants sys_time or policy changes: any line naming them is an
 * audited deny; no change_profile (a way out of the profile). */
static void test_profile_grants_nothing_dangerous(void **state)
{
	(void)state;
	const char *p = aa_profile();
	static const char *const words[] = { "sys_time", "mac_admin", "mac_override", "sys_module",
					     "wake_alarm" };
	for (const char *line = p; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char l[512];
		assert_true(len < sizeof(l));
		memcpy(l, line, len);
		l[len] = '\0';
		const char *t = l + strspn(l, " ");
		if (*t != '#') {
			for (size_t i = 0; i < FW_ARRAY_SIZE(words); i++)
				if (strstr(t, words[i]) && strncmp(t, "audit deny ", 11) != 0)
					fail_msg("line grants %s: %s", words[i], l);
			assert_null(strstr(t, "change_profile"));
			assert_null(strstr(t, "allow capability"));
		}
		line = end ? end + 1 : line + len;
	}
}

static void test_quote(void **state)
{
	(void)state;
	char b[64];
	assert_int_equal(aa_quote("fwrun", b, sizeof(b)), 5);
	assert_string_equal(b, "fwrun");
	assert_int_equal(aa_quote("fwt-a.b_c", b, sizeof(b)), 9);
	assert_string_equal(b, "fwt-a.b_c");
	assert_true(aa_quote("fwt x", b, sizeof(b)) > 0);
	assert_string_equal(b, "\"fwt x\"");
	assert_true(aa_quote("fwt\"q()", b, sizeof(b)) > 0);
	assert_string_equal(b, "\"fwt\\\"q()\"");
	assert_true(aa_quote("/usr/bin/x", b, sizeof(b)) > 0);
	assert_string_equal(b, "\"/usr/bin/x\"");
	assert_true(aa_quote("..", b, sizeof(b)) > 0);
	assert_string_equal(b, "\"..\"");
	assert_int_equal(aa_quote("", b, sizeof(b)), -EINVAL);
	assert_int_equal(aa_quote("a\nb", b, sizeof(b)), -EINVAL);
	assert_int_equal(aa_quote("a\\b", b, sizeof(b)), -EINVAL);
	assert_int_equal(aa_quote("fwt{x}", b, sizeof(b)), -EINVAL);
	assert_int_equal(aa_quote("fwt*", b, sizeof(b)), -EINVAL);
	assert_int_equal(aa_quote("fwt[ab]", b, sizeof(b)), -EINVAL);
	assert_int_equal(aa_quote("fwt?", b, sizeof(b)), -EINVAL);
	assert_int_equal(aa_quote("a\x7f", b, sizeof(b)), -EINVAL);
	assert_int_equal(aa_quote("abcdef", b, 6), -ENAMETOOLONG);
	assert_int_equal(aa_quote("abcdef", b, 7), 6);
	assert_int_equal(aa_quote("a b", b, 5), -ENAMETOOLONG);
}

static void test_profile_text_escapes_name(void **state)
{
	(void)state;
	char buf[8192];
	assert_true(aa_profile_text("fwt odd \"name\" (x)!", buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nprofile \"fwt odd \\\"name\\\" (x)!\" flags="));
	assert_int_equal(aa_profile_text("fwt\nprofile evil {", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(aa_profile_text("fwrun", buf, 100), -ENAMETOOLONG);
}

/* The real parser compiles it (apparmor_parser -Q -K: no kernel load), with
 * an odd name too; skipped where the apparmor package is missing. */
static int parser_compiles(const char *text)
{
	char cmd[] = "/sbin/apparmor_parser -Q -K >/dev/null 2>&1";
	if (access("/sbin/apparmor_parser", X_OK) != 0)
		return -1;
	FILE *f = popen(cmd, "w");
	assert_non_null(f);
	fputs(text, f);
	int st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static void test_parser_compiles(void **state)
{
	(void)state;
	char buf[8192];
	if (parser_compiles("profile fwt {\n  file,\n}\n") < 0)
		skip();
	assert_int_equal(parser_compiles(aa_profile()), 0);
	assert_true(aa_profile_text("fwt odd \"name\" (x)!", buf, sizeof(buf)) > 0);
	assert_int_equal(parser_compiles(buf), 0);
	/* and the check can fail */
	assert_int_not_equal(parser_compiles("profile fwt {\n  deny /x bogus,\n}\n"), 0);
}

static void test_fnv(void **state)
{
	(void)state;
	/* reference values of FNV-1a 64 */
	assert_int_equal(aa_fnv1a64("", 0), UINT64_C(0xcbf29ce484222325));
	assert_int_equal(aa_fnv1a64("a", 1), UINT64_C(0xaf63dc4c8601ec8c));
	assert_int_equal(aa_fnv1a64("foobar", 6), UINT64_C(0x85944171f73967e8));
}

static void test_mode_parse(void **state)
{
	(void)state;
	enum aa_mode m = AA_MODE_OFF;
	assert_int_equal(aa_mode_parse("auto", &m), 0);
	assert_int_equal(m, AA_MODE_AUTO);
	assert_int_equal(aa_mode_parse("on", &m), 0);
	assert_int_equal(m, AA_MODE_ON);
	assert_int_equal(aa_mode_parse("off", &m), 0);
	assert_int_equal(m, AA_MODE_OFF);
	assert_int_equal(aa_mode_parse("ON", &m), -EINVAL);
	assert_int_equal(aa_mode_parse("yes", &m), -EINVAL);
	assert_int_equal(aa_mode_parse("", &m), -EINVAL);
	assert_string_equal(aa_mode_name(AA_MODE_ON), "on");
}

static void test_decide(void **state)
{
	(void)state;
	struct aa_plan p;
	struct fw_error e = { 0 };
	char d[256];

	assert_int_equal(aa_decide(&p, AA_MODE_AUTO, NULL, true, &e), 0);
	assert_true(p.confine);
	assert_true(p.own);
	assert_string_equal(p.label, "fwrun");

	assert_int_equal(aa_decide(&p, AA_MODE_AUTO, NULL, false, &e), 0);
	assert_false(p.confine);
	aa_describe(&p, d, sizeof(d));
	assert_non_null(strstr(d, "the bounding set, the syscall filter and the cgroup protect"));

	assert_int_equal(aa_decide(&p, AA_MODE_ON, NULL, false, &e), -EOPNOTSUPP);
	assert_string_equal(e.subject, "--apparmor=on");
	assert_non_null(strstr(e.hint, "not enabled"));
	assert_int_equal(aa_decide(&p, AA_MODE_ON, NULL, true, &e), 0);
	assert_true(p.confine);

	assert_int_equal(aa_decide(&p, AA_MODE_OFF, NULL, true, &e), 0);
	assert_false(p.confine);
	aa_describe(&p, d, sizeof(d));
	assert_non_null(strstr(d, "off"));

	assert_int_equal(aa_decide(&p, AA_MODE_AUTO, "fwt-mine", true, &e), 0);
	assert_true(p.confine);
	assert_false(p.own);
	assert_string_equal(p.label, "fwt-mine");
	assert_int_equal(aa_decide(&p, AA_MODE_OFF, "fwt-mine", true, &e), -EINVAL);
	assert_int_equal(aa_decide(&p, AA_MODE_AUTO, "fwt-mine", false, &e), -EOPNOTSUPP);
	assert_int_equal(aa_decide(&p, AA_MODE_AUTO, "", true, &e), -EINVAL);
	assert_int_equal(aa_decide(&p, AA_MODE_AUTO, "a\nb", true, &e), -EINVAL);
}

static void test_profiles_has(void **state)
{
	(void)state;
	const char *l = "/usr/bin/man (enforce)\nfwt (x) (complain)\nfwrun (enforce)\n"
			"fwt-a//child (enforce)\n";
	assert_true(aa_profiles_has(l, "fwrun"));
	assert_true(aa_profiles_has(l, "/usr/bin/man"));
	assert_true(aa_profiles_has(l, "fwt (x)"));
	assert_true(aa_profiles_has(l, "fwt-a//child"));
	assert_false(aa_profiles_has(l, "fwt"));
	assert_false(aa_profiles_has(l, "fwru"));
	assert_false(aa_profiles_has(l, "fwt-a"));
	assert_false(aa_profiles_has("", "fwrun"));
}

/* --- aa_prepare() against a fake tree --------------------------------- */

struct fake {
	char dir[64];
	char sfs[128], run[128], keep[128], parser[128], count[128];
	const char *parsers[2];
	struct aa_env env;
};

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* A file's content, NUL-terminated, into buf. */
static void read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	ssize_t n = fw_read_all(fd, buf, size - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
}

static int runs(struct fake *f)
{
	char b[32] = "0";
	FILE *c = fopen(f->count, "re");
	if (c) {
		if (!fgets(b, sizeof(b), c))
			b[0] = '\0';
		fclose(c);
	}
	return atoi(b);
}

/* The fake parser: checks its arguments, keeps the profile it was fed,
 * counts its runs, and loads it as the kernel would show it: a new
 * policy/profiles/fwrun.N with a hash of the text, and the listing. */
static const char fake_parser[] =
	"#!/bin/sh\n"
	"[ \"$1\" = --replace ] && [ $# = 1 ] || { echo \"bad args: $*\"; exit 2; }\n"
	"cat > \"$FWT_DIR/fed\"\n"
	"n=$(( $(cat \"$FWT_DIR/count\" 2>/dev/null || echo 0) + 1 ))\n"
	"echo $n > \"$FWT_DIR/count\"\n"
	"[ -e \"$FWT_DIR/fail\" ] && { echo 'AppArmor parser error at line 3: bogus'; exit 1; }\n"
	"p=\"$FWT_DIR/sfs/policy/profiles\"\n"
	"rm -rf \"$p\"/fwrun.*\n"
	"mkdir -p \"$p/fwrun.$((n + 10))\"\n"
	"echo fwrun > \"$p/fwrun.$((n + 10))/name\"\n"
	"cp \"$FWT_DIR/fed\" \"$p/fwrun.$((n + 10))/raw_data\"\n"
	"[ -e \"$FWT_DIR/nohash\" ] ||\n"
	"  sha1sum < \"$FWT_DIR/fed\" | cut -d' ' -f1 > \"$p/fwrun.$((n + 10))/sha1\"\n"
	"echo 'fwrun (enforce)' > \"$FWT_DIR/sfs/profiles\"\n";

static int fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/fwt.aa.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sfs, sizeof(f->sfs), "%s/sfs", f->dir);
	snprintf(f->run, sizeof(f->run), "%s/run", f->dir);
	snprintf(f->keep, sizeof(f->keep), "%s/keep", f->dir);
	snprintf(f->parser, sizeof(f->parser), "%s/apparmor_parser", f->dir);
	snprintf(f->count, sizeof(f->count), "%s/count", f->dir);
	char p[256];
	assert_int_equal(mkdir(f->sfs, 0755), 0);
	snprintf(p, sizeof(p), "%s/policy", f->sfs);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/policy/profiles", f->sfs);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/profiles", f->sfs);
	write_text(p, "/usr/bin/man (enforce)\nfwt-other (complain)\n", 0644);
	write_text(f->parser, fake_parser, 0755);
	setenv("FWT_DIR", f->dir, 1);
	f->parsers[0] = f->parser;
	f->env = (struct aa_env){ .enabled_file = "/nonexistent", .securityfs = f->sfs,
				  .run_dir = f->run, .parsers = f->parsers };
	*state = f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int prepare(struct fake *f, struct aa_plan *p, const char *profile, struct fw_error *e)
{
	assert_int_equal(aa_decide(p, AA_MODE_AUTO, profile, true, e), 0);
	return aa_prepare(p, &f->env, e);
}

/* aa_prepare() of fwrun's own profile: what it did, and the parser's
 * runs so far. */
static void expect_prepare(struct fake *f, enum aa_load load, int parser_runs)
{
	struct aa_plan p;
	struct fw_error e = { 0 };
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, load);
	assert_int_equal(runs(f), parser_runs);
}

/* The kernel holds no profile "fwrun" any more. */
static void fake_unload(struct fake *f)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/policy/profiles/fwrun.*", f->sfs);
	assert_int_equal(system(cmd), 0);
}

static void test_prepare_once(void **state)
{
	struct fake *f = *state;
	struct aa_plan p;
	struct fw_error e = { 0 };
	char path[256], fed[8192];

	/* first run: the parser loads our text */
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_LOADED);
	assert_int_equal(runs(f), 1);
	assert_true(p.parser_ns > 0);
	snprintf(path, sizeof(path), "%s/fed", f->dir);
	read_text(path, fed, sizeof(fed));
	assert_string_equal(fed, aa_profile());
	assert_non_null(strstr(p.kernel_id, "fwrun.11 "));
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", f->run, AA_STATE_FILE);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);

	/* second and third: reused, no parser */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(prepare(f, &p, NULL, &e), 0);
		assert_int_equal(p.load, AA_LOAD_REUSED);
		assert_int_equal(runs(f), 1);
		char d[256];
		aa_describe(&p, d, sizeof(d));
		assert_non_null(strstr(d, "no parser run"));
	}

	/* someone replaced the profile (a new policy dir): loaded again */
	char from[256], to[256];
	snprintf(from, sizeof(from), "%s/policy/profiles/fwrun.11", f->sfs);
	snprintf(to, sizeof(to), "%s/policy/profiles/fwrun.99", f->sfs);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_LOADED);
	assert_int_equal(runs(f), 2);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_REUSED);

	/* the same dir but another hash (kernel content changed) */
	snprintf(path, sizeof(path), "%s/policy/profiles/fwrun.12/sha1", f->sfs);
	write_text(path, "0000000000000000000000000000000000000000\n", 0644);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_LOADED);
	assert_int_equal(runs(f), 3);

	/* a record that is not ours (e.g. an older fwrun's text) */
	snprintf(path, sizeof(path), "%s/%s", f->run, AA_STATE_FILE);
	write_text(path, "fwrun-apparmor-state 1\ntext fnv1a64:0000000000000000\nkernel x\n", 0644);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_LOADED);
	assert_int_equal(runs(f), 4);

	/* the profile unloaded: loaded again */
	fake_unload(f);
	expect_prepare(f, AA_LOAD_LOADED, 5);
}

static void test_prepare_no_hash_file(void **state)
{
	struct fake *f = *state;
	struct aa_plan p;
	struct fw_error e = { 0 };
	char path[256];

	/* a kernel that does not hash policy: our hash of its raw_data */
	snprintf(path, sizeof(path), "%s/nohash", f->dir);
	write_text(path, "", 0644);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_LOADED);
	assert_int_equal(runs(f), 1);
	char want[64];
	snprintf(want, sizeof(want), "fwrun.11 fnv1a64:%016" PRIx64,
		 aa_fnv1a64(aa_profile(), strlen(aa_profile())));
	assert_string_equal(p.kernel_id, want);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_REUSED);
	assert_int_equal(runs(f), 1);

	/* replaced in place by other policy (same dir, as 6.1 does) */
	snprintf(path, sizeof(path), "%s/policy/profiles/fwrun.11/raw_data", f->sfs);
	write_text(path, "other policy", 0644);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_LOADED);
	assert_int_equal(runs(f), 2);

	/* neither a hash nor raw_data: "-", the dir alone decides */
	snprintf(path, sizeof(path), "%s/policy/profiles/fwrun.12/raw_data", f->sfs);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_LOADED);	/* record had a hash, now none */
	assert_int_equal(runs(f), 3);
	snprintf(path, sizeof(path), "%s/policy/profiles/fwrun.13/raw_data", f->sfs);
	assert_int_equal(unlink(path), 0);
	char st[640];
	assert_true(aa_state_text(st, sizeof(st), aa_fnv1a64(aa_profile(), strlen(aa_profile())),
				  "fwrun.13 -") > 0);
	snprintf(path, sizeof(path), "%s/%s", f->run, AA_STATE_FILE);
	write_text(path, st, 0644);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_REUSED);
	assert_int_equal(runs(f), 3);
}

static void test_kept_text(void **state)
{
	(void)state;
	char b[256];

	assert_int_equal(aa_kept_text(b, sizeof(b), 0x1234, "fwrun.11 abcd"),
			 (int)strlen("fwrun-apparmor-state 1\ntext fnv1a64:0000000000001234\n"
				     "kernel abcd\n"));
	assert_string_equal(b, "fwrun-apparmor-state 1\ntext fnv1a64:0000000000001234\n"
			       "kernel abcd\n");
	/* the policy dir is left out: its name changes from boot to boot */
	char other[256];
	assert_true(aa_kept_text(other, sizeof(other), 0x1234, "fwrun.3 abcd") > 0);
	assert_string_equal(b, other);
	assert_true(aa_kept_text(other, sizeof(other), 0x1234, "fwrun.3 fnv1a64:00ff") > 0);
	assert_non_null(strstr(other, "\nkernel fnv1a64:00ff\n"));
	/* no hash: nothing to keep (a dir name alone says nothing after a boot) */
	assert_int_equal(aa_kept_text(b, sizeof(b), 0x1234, "fwrun.11 -"), -ENOENT);
	assert_int_equal(aa_kept_text(b, sizeof(b), 0x1234, "fwrun.11 "), -ENOENT);
	assert_int_equal(aa_kept_text(b, sizeof(b), 0x1234, "fwrun.11"), -ENOENT);
	assert_int_equal(aa_kept_text(b, 16, 0x1234, "fwrun.11 abcd"), -ENAMETOOLONG);
}

static void remove_run_record(struct fake *f)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", f->run, AA_STATE_FILE);
	assert_int_equal(unlink(path), 0);
}

/* A boot: /run is empty again, and the AppArmor service has loaded the
 * profile from /etc/apparmor.d into a policy dir of another name. */
static void fake_boot(struct fake *f, const char *sha1)
{
	static int boot = 2;
	char to[256], cmd[600];
	remove_run_record(f);
	boot++;	/* fwrun.3, fwrun.4...: below the fake parser's fwrun.11 on */
	snprintf(cmd, sizeof(cmd), "cd %s/policy/profiles && mv fwrun.* fwrun.%d", f->sfs, boot);
	assert_int_equal(system(cmd), 0);
	if (sha1) {
		snprintf(to, sizeof(to), "%s/policy/profiles/fwrun.%d/sha1", f->sfs, boot);
		write_text(to, sha1, 0644);
	}
}

static void test_prepare_kept(void **state)
{
	struct fake *f = *state;
	struct aa_plan p;
	struct fw_error e = { 0 };
	char path[256], rec[640], d[256];
	struct stat st;

	f->env.keep_dir = f->keep;
	/* the first load ever (the package's postinst: fwrun --load-profile)
	 * keeps the record: our text's hash, the kernel's hash, no dir */
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_LOADED);
	assert_int_equal(runs(f), 1);
	snprintf(path, sizeof(path), "%s/%s", f->keep, AA_KEPT_FILE);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0644);
	read_text(path, rec, sizeof(rec));
	assert_null(strstr(rec, "fwrun.11"));
	char want[640];
	assert_true(aa_kept_text(want, sizeof(want), aa_fnv1a64(aa_profile(), strlen(aa_profile())),
				 p.kernel_id) > 0);
	assert_string_equal(rec, want);

	/* a boot: the service loaded our text into fwrun.3; no /run record */
	fake_boot(f, NULL);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_KEPT);
	assert_int_equal(runs(f), 1);
	assert_non_null(strstr(p.kernel_id, "fwrun.3 "));
	aa_describe(&p, d, sizeof(d));
	assert_non_null(strstr(d, "no parser run"));
	assert_non_null(strstr(d, "first since boot"));
	/* ... which wrote this boot's record: the next run is the usual one */
	snprintf(path, sizeof(path), "%s/%s", f->run, AA_STATE_FILE);
	assert_int_equal(access(path, F_OK), 0);
	expect_prepare(f, AA_LOAD_REUSED, 1);

	/* a boot where the service loaded something else under that name (an
	 * edited /etc/apparmor.d/fwrun): replaced, and kept again */
	fake_boot(f, "0000000000000000000000000000000000000000\n");
	expect_prepare(f, AA_LOAD_LOADED, 2);
	fake_boot(f, NULL);
	expect_prepare(f, AA_LOAD_KEPT, 2);

	/* a kept record of another text (an older fwrun's): loaded */
	snprintf(path, sizeof(path), "%s/%s", f->keep, AA_KEPT_FILE);
	assert_true(aa_kept_text(rec, sizeof(rec), 0, p.kernel_id) > 0);
	write_text(path, rec, 0644);
	fake_boot(f, NULL);
	expect_prepare(f, AA_LOAD_LOADED, 3);

	/* no profile loaded at boot (no package, or the service off) */
	remove_run_record(f);
	fake_unload(f);
	expect_prepare(f, AA_LOAD_LOADED, 4);

	/* a kept record a symlink: not read, and replaced by a file */
	snprintf(path, sizeof(path), "%s/%s", f->keep, AA_KEPT_FILE);
	snprintf(want, sizeof(want), "%s/elsewhere", f->dir);
	assert_int_equal(rename(path, want), 0);
	assert_int_equal(symlink(want, path), 0);
	fake_boot(f, NULL);
	expect_prepare(f, AA_LOAD_LOADED, 5);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));

	/* a keep dir others may write to: neither trusted nor written, and
	 * the run goes on (a parser run per boot is the price) */
	assert_int_equal(chmod(f->keep, 0777), 0);
	fake_boot(f, NULL);
	expect_prepare(f, AA_LOAD_LOADED, 6);
	assert_int_equal(chmod(f->keep, 0755), 0);
}

static void test_prepare_parser_fails(void **state)
{
	struct fake *f = *state;
	struct aa_plan p;
	struct fw_error e = { 0 };
	char path[256];

	snprintf(path, sizeof(path), "%s/fail", f->dir);
	write_text(path, "", 0644);
	assert_int_equal(prepare(f, &p, NULL, &e), -EINVAL);
	assert_string_equal(e.hint, "AppArmor parser error at line 3: bogus");
	assert_string_equal(e.subject, f->parser);
	assert_int_equal(runs(f), 1);
	/* nothing recorded: the next run tries again */
	snprintf(path, sizeof(path), "%s/%s", f->run, AA_STATE_FILE);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/fail", f->dir);
	unlink(path);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_LOADED);
}

static void test_prepare_no_parser(void **state)
{
	struct fake *f = *state;
	struct aa_plan p;
	struct fw_error e = { 0 };

	unlink(f->parser);
	assert_int_equal(prepare(f, &p, NULL, &e), -ENOENT);
	assert_string_equal(e.subject, "apparmor_parser");
	assert_non_null(strstr(e.hint, "apparmor package"));
}

static void test_prepare_unsafe_run_dir(void **state)
{
	struct fake *f = *state;
	struct aa_plan p;
	struct fw_error e = { 0 };
	char target[256];

	/* a symlink where the run dir should be: refused, never followed */
	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	assert_int_equal(mkdir(target, 0755), 0);
	assert_int_equal(symlink(target, f->run), 0);
	assert_true(prepare(f, &p, NULL, &e) < 0);
	assert_string_equal(e.subject, f->run);
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", target, AA_STATE_FILE);
	assert_int_equal(access(path, F_OK), -1);
	unlink(f->run);
	/* a world-writable one: refused */
	assert_int_equal(mkdir(f->run, 0777), 0);
	assert_int_equal(chmod(f->run, 0777), 0);
	assert_int_equal(prepare(f, &p, NULL, &e), -EPERM);
	assert_int_equal(chmod(f->run, 0755), 0);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	/* the record a symlink: not read (reload), then replaced by a file */
	snprintf(path, sizeof(path), "%s/%s", f->run, AA_STATE_FILE);
	unlink(path);
	char rec[256];
	snprintf(rec, sizeof(rec), "%s/rec", f->dir);
	write_text(rec, "x\n", 0644);
	assert_int_equal(symlink(rec, path), 0);
	assert_int_equal(prepare(f, &p, NULL, &e), 0);
	assert_int_equal(p.load, AA_LOAD_LOADED);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

static void test_prepare_external(void **state)
{
	struct fake *f = *state;
	struct aa_plan p;
	struct fw_error e = { 0 };

	assert_int_equal(prepare(f, &p, "fwt-other", &e), 0);
	assert_int_equal(p.load, AA_LOAD_EXTERNAL);
	assert_int_equal(prepare(f, &p, "fwt-missing", &e), -ENOENT);
	assert_string_equal(e.subject, "fwt-missing");
	assert_int_equal(prepare(f, &p, "fwt", &e), -ENOENT);
	assert_int_equal(runs(f), 0);
}

static void test_prepare_no_securityfs(void **state)
{
	struct fake *f = *state;
	struct aa_plan p;
	struct fw_error e = { 0 };
	f->env.securityfs = "/nonexistent/apparmor";
	assert_int_equal(prepare(f, &p, NULL, &e), -ENOENT);
	assert_non_null(strstr(e.hint, "securityfs"));
	assert_int_equal(runs(f), 0);
}

static void test_kernel_enabled(void **state)
{
	struct fake *f = *state;
	char path[256];
	snprintf(path, sizeof(path), "%s/enabled", f->dir);
	f->env.enabled_file = path;
	assert_false(aa_kernel_enabled(&f->env));
	write_text(path, "Y\n", 0644);
	assert_true(aa_kernel_enabled(&f->env));
	write_text(path, "N\n", 0644);
	assert_false(aa_kernel_enabled(&f->env));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profile_rules),
		cmocka_unit_test(test_profile_grants_nothing_dangerous),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_profile_text_escapes_name),
		cmocka_unit_test(test_parser_compiles),
		cmocka_unit_test(test_fnv),
		cmocka_unit_test(test_mode_parse),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_profiles_has),
		cmocka_unit_test_setup_teardown(test_prepare_once, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_prepare_no_hash_file, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_prepare_parser_fails, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_prepare_no_parser, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_prepare_unsafe_run_dir, fake_setup, fake_teardown),
		cmocka_unit_test(test_kept_text),
		cmocka_unit_test_setup_teardown(test_prepare_kept, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_prepare_external, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_prepare_no_securityfs, fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_kernel_enabled, fake_setup, fake_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
