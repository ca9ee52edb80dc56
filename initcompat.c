/* SPDX-License-Identifier: MIT */
/* What a real firmware's init expects: see initcompat.h. */
#include "initcompat.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifndef EM_LOONGARCH
#define EM_LOONGARCH 258
#endif

/* ---- pure ---- */

static uint16_t rd16(const unsigned char *p, bool big)
{
	return big ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

int initcompat_elf_machine(const unsigned char *buf, size_t len, uint16_t *machine,
			   int *elf_class, bool *big_endian)
{
	/* e_machine follows e_ident (16 bytes) and e_type (2) in both classes */
	if (!buf || len < 20 || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	if (buf[EI_CLASS] != ELFCLASS32 && buf[EI_CLASS] != ELFCLASS64)
		return -ENOEXEC;
	if (buf[EI_DATA] != ELFDATA2LSB && buf[EI_DATA] != ELFDATA2MSB)
		return -ENOEXEC;
	bool big = buf[EI_DATA] == ELFDATA2MSB;
	*machine = rd16(buf + 18, big);
	*elf_class = buf[EI_CLASS];
	*big_endian = big;
	return 0;
}

/* Debian's architecture names, and whether qemu-user-static (Debian 12)
 * has a qemu-<arch> for the machine. */
const char *initcompat_arch_name(uint16_t machine, int elf_class, bool big_endian)
{
	bool b64 = elf_class == ELFCLASS64;

	switch (machine) {
	case EM_X86_64: return b64 ? "amd64" : "x32";
	case EM_386: return "i386";
	case EM_AARCH64: return big_endian ? "arm64be" : "arm64";
	case EM_ARM: return big_endian ? "armeb" : "armhf/armel";
	case EM_MIPS: return b64 ? (big_endian ? "mips64" : "mips64el") :
			     (big_endian ? "mips" : "mipsel");
	case EM_PPC: return "powerpc";
	case EM_PPC64: return big_endian ? "ppc64" : "ppc64el";
	case EM_RISCV: return b64 ? "riscv64" : "riscv32";
	case EM_S390: return "s390x";
	case EM_SPARC: case EM_SPARC32PLUS: return "sparc";
	case EM_SPARCV9: return "sparc64";
	case EM_68K: return "m68k";
	case EM_SH: return "sh4";
	case EM_ALPHA: return "alpha";
	case EM_PARISC: return "hppa";
	case EM_LOONGARCH: return "loong64";
	case EM_MICROBLAZE: return "microblaze";
	case EM_XTENSA: return "xtensa";
	case EM_OPENRISC: return "or1k";
	case EM_CRIS: return "cris";
	case EM_IA_64: return "ia64";
	case EM_AVR: return "avr";
	default: return NULL;
	}
}

bool initcompat_qemu_covers(uint16_t machine, int elf_class)
{
	switch (machine) {
	case EM_X86_64: case EM_386: case EM_AARCH64: case EM_ARM: case EM_MIPS:
	case EM_PPC: case EM_PPC64: case EM_S390: case EM_SPARC: case EM_SPARC32PLUS:
	case EM_SPARCV9: case EM_68K: case EM_SH: case EM_ALPHA: case EM_PARISC:
	case EM_LOONGARCH: case EM_MICROBLAZE: case EM_XTENSA: case EM_OPENRISC: case EM_CRIS:
	case EM_RISCV:	/* riscv32 and riscv64 both */
		return true;
	default:
		(void)elf_class;
		return false;
	}
}

uint16_t initcompat_host_machine(void)
{
#if defined(__x86_64__)
	return EM_X86_64;
#elif defined(__i386__)
	return EM_386;
#elif defined(__aarch64__)
	return EM_AARCH64;
#elif defined(__arm__)
	return EM_ARM;
#elif defined(__riscv)
	return EM_RISCV;
#elif defined(__powerpc64__)
	return EM_PPC64;
#elif defined(__s390x__)
	return EM_S390;
#elif defined(__mips__)
	return EM_MIPS;
#else
	return EM_NONE;
#endif
}

void initcompat_noexec_hint(char *buf, size_t size, uint16_t machine, int elf_class,
			    bool big_endian)
{
	const char *name = initcompat_arch_name(machine, elf_class, big_endian);
	char num[32];

	if (!size)
		return;
	buf[0] = '\0';
	if (machine == EM_NONE || machine == initcompat_host_machine())
		return;
	if (!name) {
		snprintf(num, sizeof(num), "ELF machine %u", machine);
		name = num;
	}
	/* "a mips binary", "an arm64 binary": read aloud, as words or letters */
	static const char *const a_names[] = { "mips", "powerpc", "ppc", "riscv", "sparc",
					       "loong", "microblaze", "xtensa", "cris" };
	const char *article = "an";
	for (size_t i = 0; i < FW_ARRAY_SIZE(a_names); i++)
		if (!strncmp(name, a_names[i], strlen(a_names[i])))
			article = "a";
	if (initcompat_qemu_covers(machine, elf_class))
		snprintf(buf, size, "%s %s binary: install qemu-user-static and binfmt-support",
			 article, name);
	else
		snprintf(buf, size, "%s %s binary: no emulator for it on this host, "
			 "qemu-user-static has none", article, name);
}

int initcompat_shebang(const char *buf, size_t len, char *interp, size_t size)
{
	size_t i = 2, n;

	if (len < 3 || buf[0] != '#' || buf[1] != '!')
		return -ENOEXEC;
	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	for (n = 0; i + n < len && buf[i + n] && !strchr(" \t\n\r", buf[i + n]); n++)
		;
	if (n == 0 || n >= size)
		return -ENOEXEC;
	memcpy(interp, buf + i, n);
	interp[n] = '\0';
	return 0;
}

static const char *last_component(const char *path)
{
	const char *s;

	if (!path)
		return "";
	s = strrchr(path, '/');
	return s ? s + 1 : path;
}

enum init_kind initcompat_kind(const char *argv0, const char *resolved)
{
	const char *a = last_component(argv0), *r = last_component(resolved);

	if (!strcmp(a, "systemd") || !strcmp(r, "systemd"))
		return INIT_KIND_SYSTEMD;
	if ((!strcmp(a, "init") || !strcmp(a, "linuxrc")) && !strcmp(r, "busybox"))
		return INIT_KIND_BUSYBOX;
	return INIT_KIND_OTHER;
}

int initcompat_stop_signal(enum init_kind kind)
{
	switch (kind) {
	case INIT_KIND_SYSTEMD: return SIGRTMIN + 3;
	case INIT_KIND_BUSYBOX: return SIGUSR2;
	default: return SIGTERM;
	}
}

const char *initcompat_kind_name(enum init_kind kind)
{
	switch (kind) {
	case INIT_KIND_SYSTEMD: return "systemd";
	case INIT_KIND_BUSYBOX: return "busybox init";
	default: return "other";
	}
}

void initcompat_format_uuid(const uint8_t bytes[16], char *out)
{
	uint8_t b[16];
	char *p = out;

	memcpy(b, bytes, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		p += sprintf(p, "%02x", b[i]);
	}
	*p = '\0';
}

void initcompat_machine_id(const char *uuid, char *out)
{
	char *p = out;

	for (; *uuid && p < out + 32; uuid++)
		if (*uuid != '-')
			*p++ = *uuid;
	*p++ = '\n';
	*p = '\0';
}

bool initcompat_machine_id_unset(const char *content, size_t len)
{
	size_t i = 0, j = len;

	while (i < len && strchr(" \t\r\n", content[i]))
		i++;
	while (j > i && strchr(" \t\r\n", content[j - 1]))
		j--;
	return j == i || (j - i == 13 && !memcmp(content + i, "uninitialized", 13));
}

/* A binfmt_misc "magic"/"mask" line value: hex bytes. */
static size_t unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned v;

	while (n < max && sscanf(s, "%2x", &v) == 1 && s[1] && !strchr(" \n", s[1])) {
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return n;
}

static const char *line_value(const char *text, const char *key)
{
	size_t k = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, k))
			return l + k;
	return NULL;
}

bool initcompat_binfmt_match(const char *entry, const unsigned char *hdr, size_t hdr_len,
			     char *interp, size_t size)
{
	unsigned char magic[128], mask[128];
	const char *v;
	size_t nmagic, nmask, off;

	if (strncmp(entry, "enabled\n", 8) != 0)
		return false;
	if (!(v = line_value(entry, "magic ")))
		return false;	/* an extension entry: not by content */
	nmagic = unhex(v, magic, sizeof(magic));
	v = line_value(entry, "mask ");
	nmask = v ? unhex(v, mask, sizeof(mask)) : 0;
	v = line_value(entry, "offset ");
	off = v ? strtoul(v, NULL, 10) : 0;
	if (!nmagic || off + nmagic > hdr_len)
		return false;
	for (size_t i = 0; i < nmagic; i++) {
		unsigned char m = i < nmask ? mask[i] : 0xff;
		if ((hdr[off + i] & m) != (magic[i] & m))
			return false;
	}
	if (!(v = line_value(entry, "interpreter ")))
		return false;
	size_t n = strcspn(v, "\n");
	if (n >= size)
		return false;
	memcpy(interp, v, n);
	interp[n] = '\0';
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void initcompat_notfound_hint(char *buf, size_t size, const char *const *names, size_t n)
{
	const char *sorted[64];
	size_t k = 0, len;

	if (!size)
		return;
	for (size_t i = 0; i < n && k < FW_ARRAY_SIZE(sorted); i++)
		if (strcmp(names[i], ".") != 0 && strcmp(names[i], "..") != 0)
			sorted[k++] = names[i];
	if (!k) {
		snprintf(buf, size, "the firmware's / is empty");
		return;
	}
	qsort(sorted, k, sizeof(sorted[0]), cmp_names);
	len = (size_t)snprintf(buf, size, "not a firmware's root? its / holds");
	for (size_t i = 0; i < k && len < size; i++) {
		/* keep room for ", ..." */
		if (len + strlen(sorted[i]) + 2 + 5 >= size) {
			snprintf(buf + len, size - len, ", ...");
			return;
		}
		len += (size_t)snprintf(buf + len, size - len, "%s %s", i ? "," : "", sorted[i]);
	}
}

const char *initcompat_exec_hint(const struct initcompat *c, int err, bool exists)
{
	if (err == ENOENT && exists)
		return "its interpreter or dynamic loader is missing in the firmware";
	if (err == ENOENT && c && c->exe.notfound_hint[0])
		return c->exe.notfound_hint;
	if (err == ENOEXEC && c && c->exe.noexec_hint[0])
		return c->exe.noexec_hint;
	return NULL;
}

/* ---- applying ---- */

static ssize_t read_head(const char *path, void *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	ssize_t n = fw_read_all(fd, buf, size);
	close(fd);
	return n;
}

void initcompat_plan(struct initcompat *c, const char *argv0)
{
	uint8_t b[16] = { 0 };
	ssize_t n;

	memset(c, 0, sizeof(*c));
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		/* no entropy at all: still unique per run and instance */
		uint64_t t = fw_now_ns();
		pid_t p = getpid();
		memcpy(b, &t, sizeof(t));
		memcpy(b + 8, &p, sizeof(p));
	}
	initcompat_format_uuid(b, c->uuid);
	n = read_head("/etc/os-release", c->os_release, sizeof(c->os_release) - 1);
	if (n <= 0)
		n = read_head("/usr/lib/os-release", c->os_release, sizeof(c->os_release) - 1);
	c->os_release[n > 0 ? n : 0] = '\0';
	c->kind = initcompat_kind(argv0, NULL);
}

/* INIT's path as execve would find it: itself with a '/', else the first
 * match in the default PATH of the init's environment. */
static void find_init(const char *argv0, char *path, size_t size)
{
	static const char *const dirs[] = { "/sbin", "/system/bin", "/system/xbin", "/bin",
					    "/usr/sbin", "/usr/bin" };

	fw_strlcpy(path, argv0, size);
	if (strchr(argv0, '/'))
		return;
	for (size_t i = 0; i < FW_ARRAY_SIZE(dirs); i++) {
		snprintf(path, size, "%s/%s", dirs[i], argv0);
		if (access(path, F_OK) == 0)
			return;
	}
}

void initcompat_inspect(struct initcompat *c, const char *argv0)
{
	struct initcompat_exe *x = &c->exe;
	char path[PATH_MAX], real[PATH_MAX];
	char head[INITCOMPAT_HDR_MAX] = { 0 };
	ssize_t n;

	memset(x, 0, sizeof(*x));
	find_init(argv0, path, sizeof(path));
	if (realpath(path, real))
		fw_strlcpy(x->resolved, real, sizeof(x->resolved));
	n = read_head(path, head, sizeof(head));
	if (n > 0 && initcompat_shebang(head, (size_t)n, x->interp, sizeof(x->interp)) == 0)
		n = read_head(x->interp, head, sizeof(head));
	if (n > 0) {
		x->read = true;
		memcpy(x->hdr, head, (size_t)n);
		x->hdr_len = (size_t)n;
		if (initcompat_elf_machine(x->hdr, x->hdr_len, &x->machine, &x->elf_class,
					   &x->big_endian) == 0)
			initcompat_noexec_hint(x->noexec_hint, sizeof(x->noexec_hint), x->machine,
					       x->elf_class, x->big_endian);
	}
	if (n == -ENOENT && access(path, F_OK) < 0 && errno == ENOENT) {
		/* copied: readdir may reuse its buffer */
		static char store[64][64];
		const char *names[64] = { NULL };
		struct dirent *d;
		size_t k = 0;
		DIR *dp = opendir("/");
		while (dp && k < FW_ARRAY_SIZE(names) && (d = readdir(dp))) {
			fw_strlcpy(store[k], d->d_name, sizeof(store[k]));
			names[k] = store[k];
			k++;
		}
		initcompat_notfound_hint(x->notfound_hint, sizeof(x->notfound_hint), names, k);
		if (dp)
			closedir(dp);
	}
	c->kind = initcompat_kind(argv0, x->resolved);
	c->api_mounts = c->kind == INIT_KIND_SYSTEMD;
}

int initcompat_inspect_tree(struct initcompat *c, const char *root, const char *argv0)
{
	int p[2], st = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = errno;
		close(p[0]);
		close(p[1]);
		return -err;
	}
	if (pid == 0) {
		close(p[0]);
		if (chroot(root) < 0 || chdir("/") < 0)
			_exit(1);
		initcompat_inspect(c, argv0);
		_exit(fw_write_all(p[1], c, sizeof(*c)) == (ssize_t)sizeof(*c) ? 0 : 1);
	}
	close(p[1]);
	ssize_t n = fw_read_all(p[0], c, sizeof(*c));
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(*c) ? 0 : -EIO;
}

bool initcompat_find_emulator(const unsigned char *hdr, size_t len, char *interp, size_t size)
{
	static const char dir[] = "/proc/sys/fs/binfmt_misc";
	char path[PATH_MAX], text[1024];
	struct dirent *d;
	bool found = false;
	DIR *dp = opendir(dir);

	if (!dp)
		return false;
	while (!found && (d = readdir(dp))) {
		if (d->d_name[0] == '.' || !strcmp(d->d_name, "status") ||
		    !strcmp(d->d_name, "register"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		ssize_t n = read_head(path, text, sizeof(text) - 1);
		if (n <= 0)
			continue;
		text[n] = '\0';
		found = initcompat_binfmt_match(text, hdr, len, interp, size);
	}
	closedir(dp);
	return found;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int write_new(const char *path, const char *text, mode_t mode, struct fw_error *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);

	if (fd < 0)
		return fw_fail(e, errno, "create", path);
	ssize_t n = fw_write_all(fd, text, strlen(text));
	int err = n < 0 ? errno : 0;
	close(fd);
	return err ? fw_fail(e, err, "write", path) : 0;
}

static int bind_ro(const char *src, const char *dst, struct fw_error *e)
{
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return fw_fail(e, errno, "bind mount", dst);
	if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV |
		  MS_NOEXEC, NULL) < 0)
		return fw_fail(e, errno, "make read-only", dst);
	return 0;
}

/* /proc of the firmware's PID namespace, /proc/sys read-only but for the
 * network namespace's /proc/sys/net; sysfs read-only. */
static int api_mounts(struct fw_error *e)
{
	const unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	int r;

	if (is_dir("/proc")) {
		if (mount("proc", "/proc", "proc", fl, NULL) < 0)
			return fw_fail(e, errno, "mount proc on", "/proc");
		if ((r = bind_ro("/proc/sys", "/proc/sys", e)) < 0)
			return r;
		/* (a kernel without magic SysRq has none) */
		if (access("/proc/sysrq-trigger", F_OK) == 0 &&
		    (r = bind_ro("/proc/sysrq-trigger", "/proc/sysrq-trigger", e)) < 0)
			return r;
		/* a bind keeps its source's flags: read-write again */
		if (mount("/proc/sys/net", "/proc/sys/net", NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, "/proc/sys/net", NULL, MS_BIND | MS_REMOUNT | fl, NULL) < 0)
			return fw_fail(e, errno, "bind mount read-write", "/proc/sys/net");
	}
	if (is_dir("/sys") && mount("sysfs", "/sys", "sysfs", MS_RDONLY | fl, NULL) < 0)
		return fw_fail(e, errno, "mount sysfs read-only on", "/sys");
	return 0;
}

/* A tmpfs /run with /run/host/ in it, read-only. */
static int run_host(const struct initcompat *c, struct fw_error *e)
{
	char text[INITCOMPAT_UUID_LEN + 2];
	int r;

	if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME,
		  "mode=0755,size=20%") < 0)
		return fw_fail(e, errno, "mount tmpfs on", "/run");
	if (mkdir("/run/host", 0755) < 0)
		return fw_fail(e, errno, "create directory", "/run/host");
	snprintf(text, sizeof(text), "%s\n", c->uuid);
	if ((r = write_new("/run/host/container-manager", "fwrun\n", 0444, e)) < 0 ||
	    (r = write_new("/run/host/container-uuid", text, 0444, e)) < 0)
		return r;
	if (c->os_release[0] &&
	    (r = write_new("/run/host/os-release", c->os_release, 0444, e)) < 0)
		return r;
	return bind_ro("/run/host", "/run/host", e);
}

/* The image's /etc/machine-id, when empty or missing, covered with one made
 * from container_uuid: transient, as systemd-nspawn does. */
static int machine_id(const struct initcompat *c, struct fw_error *e)
{
	static const char etc_id[] = "/etc/machine-id", run_id[] = "/run/machine-id";
	char content[64] = { 0 }, id[34];
	ssize_t n = read_head(etc_id, content, sizeof(content));
	int r;

	if (n >= 0 && !initcompat_machine_id_unset(content, (size_t)n))
		return 0;	/* the firmware's own */
	if (n < 0 && n != -ENOENT)
		return fw_fail(e, (int)-n, "read", etc_id);
	if (!is_dir("/etc"))
		return 0;
	if (n == -ENOENT) {
		int fd = open(etc_id, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
		if (fd < 0)
			return fw_fail(e, errno, "create", etc_id);
		close(fd);
	}
	initcompat_machine_id(c->uuid, id);
	if ((r = write_new(run_id, id, 0444, e)) < 0)
		return r;
	return bind_ro(run_id, etc_id, e);
}

int initcompat_init_mounts(const struct initcompat *c, struct fw_error *e)
{
	int r;

	if (!c->api_mounts)
		return 0;
	if ((r = api_mounts(e)) < 0)
		return r;
	if (is_dir("/run") && (r = run_host(c, e)) < 0)
		return r;
	return machine_id(c, e);
}
