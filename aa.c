/* SPDX-License-Identifier: MIT */
#include "aa.h"
#include "fault.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/apparmor.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "rundir.h"
#include "state.h"
#include "version.h"

static const char *const system_parsers[] = {
	"/usr/sbin/apparmor_parser",
	"/sbin/apparmor_parser",
	NULL,
};

const struct aa_env aa_env_system = {
	.enabled_file = "/sys/module/apparmor/parameters/enabled",
	.securityfs = "/sys/kernel/security/apparmor",
	.run_dir = FWRUN_RUN_DIR,
	.keep_dir = FWRUN_STATE_ROOT,
	.parsers = system_parsers,
};

int aa_mode_parse(const char *s, enum aa_mode *mode)
{
	if (!s)
		return -EINVAL;
	if (strcmp(s, "auto") == 0)
		*mode = AA_MODE_AUTO;
	else if (strcmp(s, "on") == 0)
		*mode = AA_MODE_ON;
	else if (strcmp(s, "off") == 0)
		*mode = AA_MODE_OFF;
	else
		return -EINVAL;
	return 0;
}

const char *aa_mode_name(enum aa_mode mode)
{
	switch (mode) {
	case AA_MODE_ON:
		return "on";
	case AA_MODE_OFF:
		return "off";
	case AA_MODE_AUTO:
	default:
		return "auto";
	}
}

int aa_quote(const char *name, char *out, size_t size)
{
	bool plain = true;
	size_t len = 0;

	if (!name || !*name)
		return -EINVAL;
	for (const char *c = name; *c; c++) {
		unsigned char u = (unsigned char)*c;
		/* A profile name is also a pattern to apparmor_parser: glob
		 * characters would not stand for themselves. And it keeps an
		 * escaped backslash as two. Refuse them rather than load
		 * another name than asked. */
		if (u < 0x20 || u == 0x7f || strchr("\\*?[]{}", u))
			return -EINVAL;
		if (!((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
		      u == '_' || u == '-' || u == '.'))
			plain = false;
	}
	/* A name made only of dots would read as a path component: quote it. */
	if (name[strspn(name, ".")] == '\0')
		plain = false;

#define PUT(ch)                                 \
	do {                                    \
		if (len + 1 >= size)            \
			return -ENAMETOOLONG;   \
		out[len++] = (ch);              \
	} while (0)

	if (!plain)
		PUT('"');
	for (const char *c = name; *c; c++) {
		if (!plain && *c == '"')
			PUT('\\');
		PUT(*c);
	}
	if (!plain)
		PUT('"');
#undef PUT
	if (size == 0)
		return -ENAMETOOLONG;
	out[len] = '\0';
	return (int)len;
}

/* The body: allow everything (blacklist spirit, the firmware must boot),
 * then deny what breaks the host. Deny rules win over allow rules in
 * AppArmor whatever their order. `audit` logs every denial. */
static const char profile_body[] =
	"  # Allow by default: a firmware mounts its own /proc, /sys and /dev,\n"
	"  # configures its network, signals and traces its own processes.\n"
	"  capability,\n"
	"  file,\n"
	"  network,\n"
	"  mount,\n"
	"  remount,\n"
	"  umount,\n"
	"  pivot_root,\n"
	"  signal,\n"
	"  ptrace,\n"
	"  unix,\n"
	"  dbus,\n"
	"\n"
	"  # The host clock: the system time, the RTC and its wake alarms. RTC\n"
	"  # devices are denied even for reading: one open file blocks the host's\n"
	"  # own users of the RTC, and alarm ioctls need no capability. A devtmpfs\n"
	"  # mounted elsewhere than /dev shows them under other paths.\n"
	"  audit deny capability sys_time,\n"
	"  audit deny capability wake_alarm,\n"
	"  audit deny /dev/rtc* rw,\n"
	"  audit deny /{,**/}rtc{,[0-9]*} rw,\n"
	"  audit deny /sys/class/rtc/** w,\n"
	"  audit deny /sys/devices/**/rtc/** w,\n"
	"\n"
	"  # The host kernel and its security policy.\n"
	"  audit deny capability sys_module,\n"
	"  audit deny capability sys_rawio,\n"
	"  audit deny capability mac_admin,\n"
	"  audit deny capability mac_override,\n"
	"  audit deny /sys/kernel/security/** w,\n"
	"\n"
	"  # Programs the kernel would start as root on the host, outside every\n"
	"  # namespace; proc and binfmt_misc mounted elsewhere are covered too.\n"
	"  audit deny /{,**/}sys/kernel/{core_pattern,modprobe,hotplug,poweroff_cmd} w,\n"
	"  audit deny /sys/kernel/uevent_helper w,\n"
	"  audit deny /{,**/}sys/fs/binfmt_misc/** w,\n"
	"  audit deny mount fstype=binfmt_misc,\n"
	"\n"
	"  # Host-wide switches: magic SysRq, memory management, suspend, EFI.\n"
	"  audit deny /{,**/}sysrq-trigger rw,\n"
	"  audit deny /{,**/}sys/kernel/sysrq w,\n"
	"  audit deny /{,**/}sys/vm/** w,\n"
	"  audit deny /sys/power/** w,\n"
	"  audit deny /sys/firmware/efi/efivars/** w,\n"
	"\n"
	"  # Raw memory, I/O ports, CPU registers.\n"
	"  audit deny /dev/mem rw,\n"
	"  audit deny /dev/kmem rw,\n"
	"  audit deny /dev/port rw,\n"
	"  audit deny /proc/kcore rw,\n"
	"  audit deny /dev/cpu/*/msr rw,\n"
	"\n"
	"  # The host's block devices (a devtmpfs mounted by the firmware shows\n"
	"  # them all). Loop devices stay readable so that a firmware can still\n"
	"  # attach its own images read-only; none is writable.\n"
	"  audit deny /dev/sd* rw,\n"
	"  audit deny /dev/hd* rw,\n"
	"  audit deny /dev/vd* rw,\n"
	"  audit deny /dev/xvd* rw,\n"
	"  audit deny /dev/nvme* rw,\n"
	"  audit deny /dev/mmcblk* rw,\n"
	"  audit deny /dev/sr* rw,\n"
	"  audit deny /dev/sg* rw,\n"
	"  audit deny /dev/dm-* rw,\n"
	"  audit deny /dev/md* rw,\n"
	"  audit deny /dev/nbd* rw,\n"
	"  audit deny /dev/zram* rw,\n"
	"  audit deny /dev/loop[0-9]* w,\n"
	"\n"
	"  # Watchdogs: a firmware that opens one and dies reboots the host.\n"
	"  audit deny /dev/watchdog* rw,\n"
	"\n"
	"  # Host-wide sysctls, wherever proc is mounted (but on /, where they\n"
	"  # would look like sysfs). Writable stay the namespaced ones: net/,\n"
	"  # fs/mqueue/, kernel.hostname and domainname (UTS), the IPC limits\n"
	"  # (kernel.shm*, msg*, sem*, auto_msgmni) and kernel.ns_last_pid.\n"
	"  audit deny /**/sys/[^fkn]*/** w,\n"
	"  audit deny /**/sys/fs/{[^m]*,m[^q]*}{,/**} w,\n"
	"  audit deny /**/sys/kernel/{[^adhmns]*,a[^u]*,d[^o]*,h[^o]*,ho[^s]*,m[^s]*,n[^s]*,s[^eh]*,se[^m]*,sh[^m]*}{,/**} w,\n"
	"\n"
	"  # sysfs: host devices, block queues, module parameters, the kernel.\n"
	"  # Writable stay the firmware's own: its virtual network devices and\n"
	"  # its cgroup (mounted in its cgroup namespace). sysfs is mounted on\n"
	"  # /sys only, where these rules see it.\n"
	"  audit deny /sys/[^cdf]*/** w,\n"
	"  audit deny /sys/dev/** w,\n"
	"  audit deny /sys/class/{[^n]*,n[^e]*}/** w,\n"
	"  audit deny /sys/devices/{[^v]*,v[^i]*}/** w,\n"
	"  audit deny /sys/devices/virtual/{[^n]*,n[^e]*}/** w,\n"
	"  audit deny /sys/fs/{[^c]*,c[^g]*}/** w,\n"
	"  audit deny mount fstype=sysfs -> /{[^s]*,s[^y]*,sy[^s]*,sys?*}{,/**},\n"
	"  audit deny mount fstype=sysfs -> /sys/?*{,/**},\n"
	"  audit deny mount fstype=proc -> /,\n"
	"\n"
	"  # cgroup v1: release_agent is a program the host kernel runs as\n"
	"  # root; any v1 hierarchy (named ones too) is the host's.\n"
	"  audit deny /{,**/}release_agent w,\n"
	"  audit deny mount fstype=cgroup,\n"
	"\n"
	"  # Host-wide file systems a firmware has no use for: the kernel's\n"
	"  # debug and trace knobs, configfs, LSM policy, crash records, EFI\n"
	"  # variables, and devtmpfs (every host device node).\n"
	"  audit deny mount fstype=debugfs,\n"
	"  audit deny mount fstype=tracefs,\n"
	"  audit deny mount fstype=configfs,\n"
	"  audit deny mount fstype=securityfs,\n"
	"  audit deny mount fstype=pstore,\n"
	"  audit deny mount fstype=efivarfs,\n"
	"  audit deny mount fstype=devtmpfs,\n"
	"\n"
	"  # The host kernel log, written through a node of that name: anywhere\n"
	"  # but /dev/kmsg, fwrun's own (a pty it relays: systemd's journald\n"
	"  # and generators write there). A real kmsg node a firmware makes at\n"
	"  # /dev/kmsg is the device allowlist's: 1:11 is for mknod only.\n"
	"  audit deny /kmsg w,\n"
	"  audit deny /{[^d]*,d,d[^e]*,de,de[^v]*,dev?*}/{,**/}kmsg w,\n"
	"  audit deny /dev/*/{,**/}kmsg w,\n";

int aa_profile_text(const char *name, char *buf, size_t size)
{
	char quoted[AA_LABEL_MAX * 2 + 3];
	int r = aa_quote(name, quoted, sizeof(quoted));
	if (r < 0)
		return r;
	int n = snprintf(buf, size,
			 "# fwrun's AppArmor profile (fwrun %s; fwrun --print-profile).\n"
			 "# One profile for every instance, applied when the firmware's init is\n"
			 "# executed; paths are those seen inside the firmware's root.\n"
			 "profile %s flags=(attach_disconnected,mediate_deleted) {\n"
			 "%s"
			 "}\n",
			 FWRUN_VERSION, quoted, profile_body);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

const char *aa_profile(void)
{
	static char text[16384];

	if (!text[0] && aa_profile_text(AA_PROFILE_NAME, text, sizeof(text)) < 0)
		abort();	/* a constant name in a buffer that fits: cannot happen */
	return text;
}

uint64_t aa_fnv1a64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

int aa_decide(struct aa_plan *p, enum aa_mode mode, const char *profile, bool kernel_enabled,
	      struct fw_error *e)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
	p->kernel_enabled = kernel_enabled;

	if (profile) {
		if (!*profile || strlen(profile) >= sizeof(p->label) ||
		    strpbrk(profile, "\n\r\t") != NULL)
			return fw_fail(e, EINVAL, "invalid --profile", profile);
		if (mode == AA_MODE_OFF)
			return fw_fail_hint(e, EINVAL, "--profile with", "--apparmor=off",
					    "choose one");
	}
	if (mode == AA_MODE_OFF)
		return 0;
	if (!kernel_enabled) {
		if (mode == AA_MODE_ON)
			return fw_fail_hint(e, EOPNOTSUPP, "confine the firmware with",
					    "--apparmor=on",
					    "AppArmor is not enabled in this kernel");
		if (profile)
			return fw_fail_hint(e, EOPNOTSUPP, "apply", profile,
					    "AppArmor is not enabled in this kernel");
		return 0;
	}
	p->confine = true;
	p->own = profile == NULL;
	fw_strlcpy(p->label, profile ? profile : AA_PROFILE_NAME, sizeof(p->label));
	return 0;
}

int aa_state_text(char *buf, size_t size, uint64_t text_hash, const char *kernel_id)
{
	int n = snprintf(buf, size, "fwrun-apparmor-state 1\ntext fnv1a64:%016" PRIx64 "\nkernel %s\n",
			 text_hash, kernel_id);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

int aa_kept_text(char *buf, size_t size, uint64_t text_hash, const char *kernel_id)
{
	const char *hash = strrchr(kernel_id, ' ');

	if (!hash || !hash[1] || strcmp(hash + 1, "-") == 0)
		return -ENOENT;
	return aa_state_text(buf, size, text_hash, hash + 1);
}

bool aa_profiles_has(const char *listing, const char *name)
{
	size_t nlen = strlen(name);
	const char *line = listing;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		/* "NAME (MODE)": the name is everything before the last " (". */
		const char *paren = NULL;
		for (const char *c = line; c + 1 < line + len; c++)
			if (c[0] == ' ' && c[1] == '(')
				paren = c;
		if (paren && (size_t)(paren - line) == nlen && memcmp(line, name, nlen) == 0)
			return true;
		line = end ? end + 1 : NULL;
	}
	return false;
}

bool aa_kernel_enabled(const struct aa_env *env)
{
	char c = 0;
	_cleanup_close_ int fd = open(env->enabled_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	return read(fd, &c, 1) == 1 && (c == 'Y' || c == 'y');
}

/* Read a small file whole (NUL-terminated) relative to dirfd. */
static int read_small(int dirfd, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t n = fw_read_all(fd, buf, size - 1);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	return (int)n;
}

static void chomp(char *s)
{
	s[strcspn(s, "\n")] = '\0';
}

/* FNV-1a of a file's content, "fnv1a64:<hex>" into out. */
static int hash_file(int dirfd, const char *path, char *out, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	unsigned char buf[16384];
	ssize_t n;
	size_t total = 0;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (ssize_t i = 0; i < n; i++) {
			h ^= buf[i];
			h *= UINT64_C(0x100000001b3);
		}
		total += (size_t)n;
	}
	if (total == 0)
		return -ENODATA;
	snprintf(out, size, "fnv1a64:%016" PRIx64, h);
	return 0;
}

/* What the kernel holds for profile `name`: "<policy dir> <hash>", from
 * securityfs policy/profiles/<name>.<N>/. The hash is the kernel's own
 * (sha256 on newer kernels, sha1 on 6.1) of the loaded binary policy; where
 * the kernel does not hash policy (apparmor.hash_policy=0), our FNV-1a of
 * that binary policy (raw_data). The directory keeps its name when the
 * profile is replaced (6.1): the hash is what tells a replacement.
 * -ENOENT when not loaded. */
static int kernel_profile_id(const char *securityfs, const char *name, char *id, size_t size)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/policy/profiles", securityfs);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int r = -ENOENT;
	struct dirent *de;
	while ((de = readdir(d))) {
		char n[AA_LABEL_MAX + 2], hash[160] = "";
		char sub[600];
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/name", de->d_name);
		if (read_small(dirfd(d), sub, n, sizeof(n)) < 0)
			continue;
		chomp(n);
		if (strcmp(n, name) != 0)
			continue;
		static const char *const hashes[] = { "sha256", "sha1" };
		for (size_t i = 0; i < FW_ARRAY_SIZE(hashes) && !hash[0]; i++) {
			snprintf(sub, sizeof(sub), "%s/%s", de->d_name, hashes[i]);
			if (read_small(dirfd(d), sub, hash, sizeof(hash)) < 0)
				hash[0] = '\0';
			chomp(hash);
		}
		if (!hash[0]) {
			snprintf(sub, sizeof(sub), "%s/raw_data", de->d_name);
			if (hash_file(dirfd(d), sub, hash, sizeof(hash)) < 0)
				fw_strlcpy(hash, "-", sizeof(hash));
		}
		int w = snprintf(id, size, "%s %s", de->d_name, hash);
		r = w < 0 || (size_t)w >= size ? -ENAMETOOLONG : 0;
		break;
	}
	closedir(d);
	return r;
}

/* Open a record's directory (run_dir, keep_dir), creating it (0755) if
 * needed; refuse a symlink or a directory others could write to or that we
 * do not own. */
static int open_record_dir(const char *dir, struct fw_error *e)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return fw_fail(e, errno, "create", dir);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fw_fail(e, errno, "open", dir);
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return fw_fail_hint(e, EPERM, "refuse to use", dir,
				    "not owned by root or writable by others");
	}
	return fd;
}

static int write_record(const char *dir, const char *file, const char *text, struct fw_error *e)
{
	_cleanup_close_ int dfd = open_record_dir(dir, e);
	if (dfd < 0)
		return dfd;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".%s.%d", file, (int)getpid());
	(void)unlinkat(dfd, tmp, 0);
	_cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					0644);
	if (fd < 0)
		return fw_fail(e, errno, "create", file);
	ssize_t n = fw_write_all(fd, text, strlen(text));
	if (n < 0) {
		(void)unlinkat(dfd, tmp, 0);
		return fw_fail(e, (int)-n, "write", file);
	}
	if (renameat(dfd, tmp, dfd, file) < 0) {
		int err = errno;
		(void)unlinkat(dfd, tmp, 0);
		return fw_fail(e, err, "rename", file);
	}
	return 0;
}

/* The record dir/file says exactly `expected` (what the kernel holds now). */
static bool record_matches(const char *dir, const char *file, const char *expected)
{
	char cur[640];
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return false;
	struct stat st;
	if (fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022))
		return false;
	if (read_small(dfd, file, cur, sizeof(cur)) < 0)
		return false;
	return strcmp(cur, expected) == 0;
}

/* apparmor_parser --replace, the text on stdin (a memfd: no pipe to keep
 * fed), its stdout and stderr into a memfd whose first line becomes the
 * hint on failure. */
static int run_parser(const struct aa_env *env, const char *text, uint64_t *took,
		      struct fw_error *e)
{
	const char *parser = NULL;
	for (const char *const *p = env->parsers; p && *p; p++) {
		if (access(*p, X_OK) == 0) {
			parser = *p;
			break;
		}
	}
	if (!parser)
		return fw_fail_hint(e, ENOENT, "find", "apparmor_parser",
				    "install the apparmor package, or use --apparmor=off");

	_cleanup_close_ int in = memfd_create("fwrun-profile", MFD_CLOEXEC);
	_cleanup_close_ int out = memfd_create("fwrun-parser-output", MFD_CLOEXEC);
	if (in < 0 || out < 0)
		return fw_fail(e, errno, "create a memfd for", parser);
	ssize_t w = fw_write_all(in, text, strlen(text));
	if (w < 0)
		return fw_fail(e, (int)-w, "write the profile for", parser);
	if (lseek(in, 0, SEEK_SET) < 0)
		return fw_fail(e, errno, "rewind the profile for", parser);

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, out, 2);
	char *const argv[] = { (char *)"apparmor_parser", (char *)"--replace", NULL };
	uint64_t t0 = fw_now_ns();
	pid_t pid;
	int r = posix_spawn(&pid, parser, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return fw_fail(e, r, "run", parser);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return fw_fail(e, errno, "wait for", parser);
	}
	*took = fw_now_ns() - t0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;

	char msg[128] = "";
	if (pread(out, msg, sizeof(msg) - 1, 0) > 0)
		chomp(msg);
	if (!msg[0])
		snprintf(msg, sizeof(msg), "exit status %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return fw_fail_hint(e, EINVAL, "load the AppArmor profile with", parser, msg);
}

static int prepare(struct aa_plan *p, const struct aa_env *env, struct fw_error *e);

int aa_prepare(struct aa_plan *p, const struct aa_env *env, struct fw_error *e)
{
	uint64_t t0 = fw_now_ns();
	int r = prepare(p, env, e);
	p->prepare_ns = fw_now_ns() - t0;
	return r;
}

static int prepare(struct aa_plan *p, const struct aa_env *env, struct fw_error *e)
{
	char path[512];

	p->load = AA_LOAD_NONE;
	if (!p->confine)
		return 0;

	snprintf(path, sizeof(path), "%s/profiles", env->securityfs);
	if (FW_FAULT(AA_PREPARE) || access(path, R_OK) < 0)
		return fw_fail_hint(e, errno, "read", path,
				    "is securityfs mounted on /sys/kernel/security?");

	if (!p->own) {
		/* The listing can be large: read it through a FILE. */
		FILE *f = fopen(path, "re");
		if (!f)
			return fw_fail(e, errno, "read", path);
		bool found = false;
		char *line = NULL;
		size_t cap = 0;
		while (!found && getline(&line, &cap, f) > 0)
			found = aa_profiles_has(line, p->label);
		free(line);
		fclose(f);
		if (!found)
			return fw_fail_hint(e, ENOENT, "find the loaded AppArmor profile", p->label,
					    "load it first, e.g. apparmor_parser -r FILE");
		p->load = AA_LOAD_EXTERNAL;
		return 0;
	}

	const char *text = aa_profile();
	uint64_t h = aa_fnv1a64(text, strlen(text));
	char state[640], kept[640];
	struct fw_error ignored = { 0 };

	if (kernel_profile_id(env->securityfs, p->label, p->kernel_id, sizeof(p->kernel_id)) == 0 &&
	    aa_state_text(state, sizeof(state), h, p->kernel_id) > 0) {
		if (record_matches(env->run_dir, AA_STATE_FILE, state)) {
			p->load = AA_LOAD_REUSED;
			return 0;
		}
		/* No record of this boot's: the kept one tells whether what
		 * the AppArmor service loaded at boot is our text compiled. */
		if (env->keep_dir && aa_kept_text(kept, sizeof(kept), h, p->kernel_id) > 0 &&
		    record_matches(env->keep_dir, AA_KEPT_FILE, kept)) {
			p->load = AA_LOAD_KEPT;
			(void)write_record(env->run_dir, AA_STATE_FILE, state, &ignored);
			return 0;
		}
	}

	int r = run_parser(env, text, &p->parser_ns, e);
	if (r < 0)
		return r;
	r = kernel_profile_id(env->securityfs, p->label, p->kernel_id, sizeof(p->kernel_id));
	if (r < 0)
		return fw_fail_hint(e, r, "find the loaded AppArmor profile", p->label,
				    "apparmor_parser succeeded but the kernel does not list it");
	p->load = AA_LOAD_LOADED;
	r = aa_state_text(state, sizeof(state), h, p->kernel_id);
	if (r < 0)
		return fw_fail(e, -r, "record the AppArmor profile", p->kernel_id);
	r = write_record(env->run_dir, AA_STATE_FILE, state, e);
	if (r < 0)
		return r;
	if (env->keep_dir && aa_kept_text(kept, sizeof(kept), h, p->kernel_id) > 0)
		(void)write_record(env->keep_dir, AA_KEPT_FILE, kept, &ignored);
	return 0;
}

int aa_apply_onexec(const struct aa_plan *p, struct fw_error *e)
{
	if (!p->confine)
		return 0;
	if (FW_FAULT(AA_ONEXEC) || aa_change_onexec(p->label) < 0)
		return fw_fail_hint(e, errno, "set the AppArmor profile on exec to", p->label,
				    errno == ENOENT ? "is the profile loaded?" : NULL);
	return 0;
}

int aa_onexec_self(const char *label)
{
	static const char *const attr[] = {
		"/proc/thread-self/attr/apparmor/exec",
		"/proc/thread-self/attr/exec",
	};
	char cmd[AA_LABEL_MAX + 8];
	int n = snprintf(cmd, sizeof(cmd), "exec %s", label);

	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -ENAMETOOLONG;
	for (size_t i = 0; i < FW_ARRAY_SIZE(attr); i++) {
		_cleanup_close_ int fd = open(attr[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			return -errno;
		ssize_t w = write(fd, cmd, (size_t)n);
		if (w == n)
			return 0;
		return w < 0 ? -errno : -EIO;
	}
	return -ENOENT;
}

int aa_describe(const struct aa_plan *p, char *buf, size_t size)
{
	int n;

	if (p->mode == AA_MODE_OFF) {
		n = snprintf(buf, size, "off (--apparmor=off): unconfined");
	} else if (!p->confine) {
		n = snprintf(buf, size, "not enabled in this kernel: unconfined, "
				        "the bounding set, the syscall filter and the cgroup protect the host");
	} else {
		const char *how;
		char t[96];
		switch (p->load) {
		case AA_LOAD_REUSED:
		case AA_LOAD_KEPT:
			snprintf(t, sizeof(t), "already loaded, reused: no parser run, checked in %.3f ms%s",
				 (double)p->prepare_ns / 1e6,
				 p->load == AA_LOAD_KEPT ? " (first since boot)" : "");
			how = t;
			break;
		case AA_LOAD_LOADED:
			snprintf(t, sizeof(t), "loaded by apparmor_parser in %.1f ms",
				 (double)p->parser_ns / 1e6);
			how = t;
			break;
		case AA_LOAD_EXTERNAL:
			how = "--profile, already loaded";
			break;
		case AA_LOAD_NONE:
		default:
			how = p->own ? "loaded when missing or changed" : "--profile, must be loaded";
			break;
		}
		n = snprintf(buf, size, "profile '%s' on exec of the init (%s, --apparmor=%s)",
			     p->label, how, aa_mode_name(p->mode));
	}
	if (n < 0)
		n = 0;
	return size && (size_t)n >= size ? (int)size - 1 : n;
}
