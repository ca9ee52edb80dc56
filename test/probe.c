/* SPDX-License-Identifier: MIT */
/* probe: a static test init. The integration tests install it as
 * /sbin/boxinit (and elsewhere) in the images they build, and drive it with
 * its argv: a list of commands run in order, e.g.
 *
 *     probe report write /data/x hello rm /etc/motd exit 7
 *
 * Every result is one "key=value" line on stdout, written with write(2) so
 * that nothing sits in a buffer when the probe dies. Without an "exit"
 * command the probe exits 0 after the last command.
 *
 * Commands:
 *   report            pid, ids, namespaces, capabilities, LSM label, fds,
 *                     tty, root entries, env, interfaces, default route
 *   exit N            exit with status N
 *   write PATH TEXT   create/truncate PATH with TEXT (no newline added)
 *   cat PATH          print PATH's content as "cat:PATH=<first line>"
 *   rm PATH           unlink PATH (rmdir when it is a directory)
 *   mkdir PATH        mkdir PATH 0755
 *   sleep [SECS]      sleep SECS seconds (may be fractional), or forever
 *                     when the next word is not a number
 *   term-exit N       on SIGTERM, exit N (prints "got-signal=TERM" first)
 *   ignore-term       ignore SIGTERM
 *   arm-term          from now on keep a SIGTERM pending for wait-term
 *   wait-term         block until a SIGTERM arrives, then go on with the
 *                     next command (prints "got-signal=TERM")
 *   clock             clock_settime(CLOCK_REALTIME) and settimeofday() to the
 *                     value just read (never any other time)
 *   reboot/poweroff   reboot(2), only as pid 1 of a child pid namespace
 *   sysrq             try to open /proc/sysrq-trigger for writing (never
 *                     writes a character)
 *   mknod PATH b|c MAJ MIN   make a device node: "mknod:PATH=ok|ERRNO"
 *   mount TYPE SRC DIR OPTS  mount(2) (OPTS "-": none): "mount:DIR=ok|ERRNO"
 *   read PATH         open and read 512 bytes: "read:PATH=ok|ERRNO"
 *   syscalls          each call the syscall filter denies, with arguments
 *                     that make it harmless when allowed (it then fails
 *                     with another error, or does nothing lasting):
 *                     "sys.NAME=ok|ERRNO"; "seccomp=" pid 1's Seccomp mode
 *                     and filter count; keyctl through the i386 and x32
 *                     ABIs too ("unavailable" when the kernel has no i386)
 *   segv              die of SIGSEGV (a kernel-forced signal kills even a
 *                     pid namespace's init)
 *   echo TEXT         print "echo=TEXT"
 *   ab-lines N        print N lines of 200 letters a and b, the same
 *                     pseudo-random ones every time
 *   read-line         read one line from stdin, print "line=<it>"
 *   ready             print "ready=1" (tests wait for it before acting)
 *   wait-signal       block until any catchable signal arrives, print
 *                     "got-signal=N" (its number: SIGRTMIN+3 is 37)
 *   ro PATH           print "ro:PATH=1" when PATH is on a read-only mount
 *                     ("=0" writable, "=error" when it cannot be told)
 *
 * As a binfmt_misc interpreter (a test registers the probe for a foreign
 * ELF machine), argv[1] is the path of the binary it runs for: printed as
 * "emulated=PATH", and the commands follow it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <sched.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define PROC_PID_INIT_INO 0xEFFFFFFCU	/* the initial pid namespace's inode */

extern char **environ;

/* n lines of 200 a and b from xorshift32, written as the console takes them */
static void ab_lines(int n)
{
	uint32_t x = 2463534242u;
	char line[201];

	for (int i = 0; i < n; i++) {
		for (int j = 0; j < 200; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			line[j] = "ab"[x & 1];
		}
		line[200] = '\n';
		for (size_t done = 0; done < sizeof(line);) {
			ssize_t w = write(1, line + done, sizeof(line) - done);
			if (w <= 0)
				return;
			done += (size_t)w;
		}
	}
}

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	for (char *p = buf; n > 0;) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= w;
	}
}

static const char *errname(int err)
{
	const char *s = strerrorname_np(err);
	return s ? s : "E?";
}

/* "ok" or the errno name of the last failure. */
static const char *res(int r)
{
	return r < 0 ? errname(errno) : "ok";
}

static int proc_mounted(void)
{
	struct stat st;
	return stat("/proc/self/status", &st) == 0;
}

static void ensure_proc(void)
{
	if (proc_mounted())
		return;
	mkdir("/proc", 0555);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		out("proc_mount=%s", errname(errno));
	else
		out("proc_mount=ok");
}

static unsigned long ns_ino(const char *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	if (stat(path, &st) < 0)
		return 0;
	return (unsigned long)st.st_ino;
}

/* Print the lines of /proc/self/status whose key is in keys. */
static void status_fields(const char *const *keys)
{
	char line[512];
	FILE *f = fopen("/proc/self/status", "re");

	if (!f) {
		out("status=%s", errname(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		for (const char *const *k = keys; *k; k++) {
			if (strcmp(line, *k) == 0) {
				char *v = colon + 1;
				v += strspn(v, " \t");
				v[strcspn(v, "\n")] = '\0';
				for (char *t = v; *t; t++)
					if (*t == '\t')
						*t = ' ';
				out("%s=%s", line, v);
			}
		}
	}
	fclose(f);
}

static void read_first_line(const char *key, const char *path)
{
	char buf[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		out("%s=ERR:%s", key, errname(errno));
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		out("%s=ERR:%s", key, errname(errno));
		close(fd);
		return;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	out("%s=%s", key, buf);
}

static void report_fds(void)
{
	char list[2048] = "";
	size_t len = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!d) {
		out("fds=ERR:%s", errname(errno));
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		len += snprintf(list + len, sizeof(list) - len, "%s%s", len ? "," : "", de->d_name);
		if (len >= sizeof(list))
			break;
	}
	closedir(d);
	out("fds=%s", list);
	/* Where each fd points: the tests check nothing of the host leaks in. */
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[300], target[PATH_MAX];
		ssize_t n;
		if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		out("fd.%s=%s", de->d_name, target);
	}
	closedir(d);
}

static void report_tty(void)
{
	const char *t = ttyname(STDIN_FILENO);

	out("ttyname0=%s", t ? t : "none");
	out("isatty0=%d", isatty(STDIN_FILENO));
	out("isatty1=%d", isatty(STDOUT_FILENO));
	out("isatty2=%d", isatty(STDERR_FILENO));
}

static void report_root(void)
{
	DIR *d = opendir("/");
	struct dirent *de;
	int n = 0;

	if (!d) {
		out("rootents=ERR:%s", errname(errno));
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	out("rootents=%d", n);
}

static void flags_str(unsigned flags, char *buf, size_t size)
{
	static const struct { unsigned f; const char *n; } names[] = {
		{ IFF_UP, "UP" }, { IFF_BROADCAST, "BROADCAST" }, { IFF_LOOPBACK, "LOOPBACK" },
		{ IFF_POINTOPOINT, "POINTOPOINT" }, { IFF_RUNNING, "RUNNING" },
		{ IFF_NOARP, "NOARP" }, { IFF_PROMISC, "PROMISC" }, { IFF_MULTICAST, "MULTICAST" },
	};
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].f && len < size)
			len += snprintf(buf + len, size - len, "%s%s", len ? "," : "", names[i].n);
}

static int prefix_len(const struct sockaddr *mask)
{
	const unsigned char *b;
	size_t n;
	int bits = 0;

	if (!mask)
		return -1;
	if (mask->sa_family == AF_INET) {
		b = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else if (mask->sa_family == AF_INET6) {
		b = (const unsigned char *)&((const struct sockaddr_in6 *)mask)->sin6_addr;
		n = 16;
	} else {
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		bits += __builtin_popcount(b[i]);
	return bits;
}

static void report_ifaces(void)
{
	struct ifaddrs *ifa, *i;
	char names[1024] = ",";	/* ",lo,eth0," for the lookup below */
	size_t len = 1;

	if (getifaddrs(&ifa) < 0) {
		out("ifaces=ERR:%s", errname(errno));
		return;
	}
	/* One flags line per interface (from its first entry), then addresses. */
	for (i = ifa; i; i = i->ifa_next) {
		char key[IFNAMSIZ + 3], fl[200];
		snprintf(key, sizeof(key), ",%s,", i->ifa_name);
		if (strstr(names, key) || len >= sizeof(names) - IFNAMSIZ - 2)
			continue;
		len += snprintf(names + len, sizeof(names) - len, "%s,", i->ifa_name);
		flags_str(i->ifa_flags, fl, sizeof(fl));
		out("if.%s.flags=%s", i->ifa_name, fl);
	}
	for (i = ifa; i; i = i->ifa_next) {
		char addr[INET6_ADDRSTRLEN];
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr,
				  sizeof(addr));
			out("if.%s.inet=%s/%d", i->ifa_name, addr, prefix_len(i->ifa_netmask));
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr,
				  sizeof(addr));
			out("if.%s.inet6=%s/%d", i->ifa_name, addr, prefix_len(i->ifa_netmask));
		}
	}
	freeifaddrs(ifa);
	/* the names without the leading/trailing commas */
	names[len - 1] = '\0';
	out("ifaces=%s", names + 1);
}

static void report_route(void)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/net/route", "re");

	if (!f) {
		out("route.default=ERR:%s", errname(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char ifname[IFNAMSIZ + 1];
		unsigned dst, gw, flags, mask;
		if (sscanf(line, "%16s %x %x %x %*d %*d %*d %x", ifname, &dst, &gw, &flags,
			   &mask) != 5)
			continue;
		if (dst == 0 && mask == 0 && (flags & 1 /* RTF_UP */)) {
			struct in_addr a = { .s_addr = gw };
			out("route.default=%s dev %s", inet_ntoa(a), ifname);
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		out("route.default=none");
}

static void report(void)
{
	static const char *const status_keys[] = {
		"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NSpid", "NoNewPrivs",
		"Seccomp", "Cpus_allowed_list", "SigIgn", "SigBlk", NULL,
	};
	static const char *const nss[] = { "mnt", "uts", "ipc", "net", "pid", "cgroup",
					   "user", "time" };
	struct utsname u;

	ensure_proc();
	out("pid=%d", (int)getpid());
	out("ppid=%d", (int)getppid());
	out("uid=%d", (int)getuid());
	out("euid=%d", (int)geteuid());
	out("gid=%d", (int)getgid());
	out("pgid=%d", (int)getpgrp());
	out("sid=%d", (int)getsid(0));
	if (uname(&u) == 0)
		out("hostname=%s", u.nodename);
	for (size_t i = 0; i < sizeof(nss) / sizeof(nss[0]); i++)
		out("ns.%s=%lu", nss[i], ns_ino(nss[i]));
	status_fields(status_keys);
	read_first_line("attr.current", "/proc/self/attr/current");
	report_fds();
	report_tty();
	report_root();
	{
		char cwd[PATH_MAX];
		out("cwd=%s", getcwd(cwd, sizeof(cwd)) ? cwd : "ERR");
	}
	for (char **e = environ; e && *e; e++)
		out("env.%s", *e);
	report_ifaces();
	report_route();
	out("report=done");
}

static int term_status;
static void on_term(int sig)
{
	(void)sig;
	static const char msg[] = "got-signal=TERM\n";
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(term_status);
	_exit(term_status);
}

static void on_term_noop(int sig)
{
	(void)sig;
}

static int is_number(const char *s)
{
	char *end;
	if (!s || !*s)
		return 0;
	strtod(s, &end);
	return *end == '\0';
}

static void do_sleep(double secs)
{
	struct timespec ts = { .tv_sec = (time_t)secs,
			       .tv_nsec = (long)((secs - (time_t)secs) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void do_clock(void)
{
	struct timespec ts;
	struct timeval tv;

	/* Set the clock to exactly the value just read: harmless if allowed. */
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0) {
		out("clock_gettime=%s", errname(errno));
		return;
	}
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		out("clock_settime=%s", errname(errno));
	else
		out("clock_settime=ok");
	if (gettimeofday(&tv, NULL) < 0) {
		out("gettimeofday=%s", errname(errno));
		return;
	}
	if (settimeofday(&tv, NULL) < 0)
		out("settimeofday=%s", errname(errno));
	else
		out("settimeofday=ok");
}

/* reboot(2) from pid 1 of a child pid namespace only kills that init; from
 * anywhere else it would reboot the machine, so refuse. */
static void do_reboot(const char *what, int cmd)
{
	ensure_proc();
	if (getpid() != 1 || ns_ino("pid") == 0 || ns_ino("pid") == PROC_PID_INIT_INO) {
		out("%s=refused-not-in-pidns", what);
		return;
	}
	out("%s=calling", what);
	if (reboot(cmd) < 0)
		out("%s=%s", what, errname(errno));
}

#if defined(__x86_64__)
/* A call through the i386 ABI (int $0x80) from this 64-bit process. */
static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

/* Without IA32 emulation int $0x80 is a SIGSEGV and no call at all. */
static int ia32_works(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		_exit(int80(20, 0, 0, 0) == getpid() ? 0 : 1);	/* i386 getpid */
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}
#endif

static void sys_out(const char *name, long r)
{
	out("sys.%s=%s", name, r < 0 ? errname(errno) : "ok");
}

/* Every call here is harmless whether the filter denies it or not. */
static void do_syscalls(void)
{
	ensure_proc();
	status_fields((const char *const[]){ "Seccomp", "Seccomp_filters", NULL });
	/* bogus architecture and too many segments: EINVAL past the checks */
	sys_out("kexec_load", syscall(SYS_kexec_load, 0, 1000, NULL, 0x7ffe0000UL));
	sys_out("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0x80000000UL));
	sys_out("init_module", syscall(SYS_init_module, NULL, 0, ""));
	sys_out("finit_module", syscall(SYS_finit_module, -1, "", 0));
	sys_out("delete_module", syscall(SYS_delete_module, "fwrun_probe_none", O_NONBLOCK));
	/* a handle of the firmware's own /dev, opened again: its own file */
	struct { unsigned int bytes; int type; unsigned char h[128]; } fh = { .bytes = 128 };
	int mnt = -1;
	long r = syscall(SYS_name_to_handle_at, AT_FDCWD, "/dev", &fh, &mnt, 0);
	sys_out("name_to_handle_at", r);
	int dfd = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r < 0) {	/* no handle: make one up, EPERM comes first */
		fh.bytes = 8;
		fh.type = 1;
	}
	r = syscall(SYS_open_by_handle_at, dfd, &fh, O_RDONLY | O_CLOEXEC);
	sys_out("open_by_handle_at", r);
	if (r >= 0)
		close((int)r);
	if (dfd >= 0)
		close(dfd);
	sys_out("swapon", syscall(SYS_swapon, "/fwrun-probe-none", 0));
	sys_out("swapoff", syscall(SYS_swapoff, "/fwrun-probe-none"));
	sys_out("acct", syscall(SYS_acct, "/fwrun-probe-none"));
	/* the thread keyring's id, not created; an unknown key type; no upcall */
	sys_out("keyctl", syscall(SYS_keyctl, 0, -1, 0));
	sys_out("add_key", syscall(SYS_add_key, "fwrun_probe_none", "d", NULL, 0, -1));
	sys_out("request_key", syscall(SYS_request_key, "user", "fwrun-probe-none", NULL, 0));
#if defined(__x86_64__)
	if (ia32_works()) {
		r = int80(288, 0, -1, 0);	/* i386 keyctl */
		out("sys.keyctl-i386=%s", r < 0 && r > -4096 ? errname((int)-r) : "ok");
	} else {
		out("sys.keyctl-i386=unavailable");
	}
	sys_out("keyctl-x32", syscall(0x40000000 | 250, 0, -1, 0));
#endif
	sys_out("quotactl", syscall(SYS_quotactl, 0x7fffff00, "/fwrun-probe-none", 0, NULL));
	/* the clock: to the value just read, never another */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	sys_out("clock_settime", syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
	struct timeval tv;
	gettimeofday(&tv, NULL);
	sys_out("settimeofday", syscall(SYS_settimeofday, &tv, NULL));
	/* console level 0 is out of range; the high bits do not get around it */
	sys_out("syslog-console-level", syscall(SYS_syslog, (1L << 32) | 8, NULL, 0));
	sys_out("bpf", syscall(SYS_bpf, -1, NULL, 0));
	sys_out("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	sys_out("userfaultfd", syscall(SYS_userfaultfd, 0x7fff0000));
	sys_out("iopl", syscall(SYS_iopl, 0));	/* to level 0: nothing */
	sys_out("ioperm", syscall(SYS_ioperm, 0, 0, 0));
	sys_out("lookup_dcookie", syscall(SYS_lookup_dcookie, 0, NULL, 0));
	/* block node of an unused loop minor, never opened */
	sys_out("mknod-block", mknod("/tmp/.fwrun-probe-blk", S_IFBLK | 0600, makedev(7, 250)));
	unlink("/tmp/.fwrun-probe-blk");
	/* allowed */
	sys_out("mknod-fifo", mknod("/tmp/.fwrun-probe-fifo", S_IFIFO | 0600, 0));
	unlink("/tmp/.fwrun-probe-fifo");
	struct timex tx = { .modes = 0 };
	sys_out("adjtimex-read", adjtimex(&tx));
	sys_out("clock_adjtime-read", syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx));
	sys_out("syslog-size", syscall(SYS_syslog, 10, NULL, 0));
	sys_out("unshare-none", unshare(0));
}

static void usage_error(const char *cmd, const char *why)
{
	out("error=%s: %s", cmd, why);
	_exit(99);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *c = argv[i];

		if (i == 1 && c[0] == '/') {
			out("emulated=%s", c);
			continue;
		}

		/* boxinit-style properties (ro.boot.console=console, added by
		 * fwrun with a pty console) are noted, not commands. */
		if (strncmp(c, "ro.", 3) == 0 && strchr(c, '=')) {
			out("prop.%s", c + 3);
			continue;
		}
#define ARG() (i + 1 < argc ? argv[++i] : (usage_error(c, "missing argument"), ""))
		if (!strcmp(c, "report")) {
			report();
		} else if (!strcmp(c, "wait-signal")) {
			sigset_t all;
			sigfillset(&all);
			sigprocmask(SIG_BLOCK, &all, NULL);
			out("waiting=1");
			int sig = sigwaitinfo(&all, NULL);
			out("got-signal=%d", sig);
		} else if (!strcmp(c, "ro")) {
			const char *path = ARG();
			struct statvfs sv;
			if (statvfs(path, &sv) < 0)
				out("ro:%s=error", path);
			else
				out("ro:%s=%d", path, (sv.f_flag & ST_RDONLY) ? 1 : 0);
		} else if (!strcmp(c, "exit")) {
			_exit(atoi(ARG()));
		} else if (!strcmp(c, "write")) {
			const char *path = ARG();
			const char *text = ARG();
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			int r = fd;
			if (fd >= 0) {
				size_t len = strlen(text);
				r = write(fd, text, len) == (ssize_t)len ? 0 : -1;
				close(fd);
			}
			out("write:%s=%s", path, res(r));
		} else if (!strcmp(c, "cat")) {
			const char *path = ARG();
			char key[PATH_MAX + 8];
			snprintf(key, sizeof(key), "cat:%s", path);
			read_first_line(key, path);
		} else if (!strcmp(c, "rm")) {
			const char *path = ARG();
			struct stat st;
			int r = lstat(path, &st);
			if (r == 0)
				r = S_ISDIR(st.st_mode) ? rmdir(path) : unlink(path);
			out("rm:%s=%s", path, res(r));
		} else if (!strcmp(c, "mkdir")) {
			const char *path = ARG();
			out("mkdir:%s=%s", path, res(mkdir(path, 0755)));
		} else if (!strcmp(c, "sleep")) {
			if (is_number(i + 1 < argc ? argv[i + 1] : NULL)) {
				do_sleep(strtod(argv[++i], NULL));
			} else {
				for (;;)
					pause();
			}
		} else if (!strcmp(c, "term-exit")) {
			struct sigaction sa = { .sa_handler = on_term };
			term_status = atoi(ARG());
			sigaction(SIGTERM, &sa, NULL);
		} else if (!strcmp(c, "arm-term") || !strcmp(c, "wait-term")) {
			/* A handler too: a pid namespace's init drops signals left
			 * at SIG_DFL, blocked or not, depending on the sender. */
			struct sigaction sa = { .sa_handler = on_term_noop };
			sigset_t set;
			int sig = 0;
			sigaction(SIGTERM, &sa, NULL);
			sigemptyset(&set);
			sigaddset(&set, SIGTERM);
			sigprocmask(SIG_BLOCK, &set, NULL);
			if (!strcmp(c, "arm-term"))
				continue;	/* a SIGTERM from now on waits for wait-term */
			while (sigwait(&set, &sig) != 0 || sig != SIGTERM)
				;
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			out("got-signal=TERM");
		} else if (!strcmp(c, "ignore-term")) {
			signal(SIGTERM, SIG_IGN);
		} else if (!strcmp(c, "clock")) {
			do_clock();
		} else if (!strcmp(c, "reboot")) {
			do_reboot("reboot", RB_AUTOBOOT);
		} else if (!strcmp(c, "poweroff")) {
			do_reboot("poweroff", RB_POWER_OFF);
		} else if (!strcmp(c, "sysrq")) {
			int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
			out("sysrq_open=%s", res(fd));
			if (fd >= 0)
				close(fd);
		} else if (!strcmp(c, "mknod")) {
			const char *path = ARG(), *kind = ARG();
			unsigned maj = (unsigned)atoi(ARG()), min = (unsigned)atoi(ARG());
			mode_t type = !strcmp(kind, "b") ? S_IFBLK : S_IFCHR;
			out("mknod:%s=%s", path, res(mknod(path, type | 0600, makedev(maj, min))));
		} else if (!strcmp(c, "mount")) {
			const char *type = ARG(), *src = ARG(), *dir = ARG(), *opts = ARG();
			mkdir(dir, 0755);
			out("mount:%s=%s", dir, res(mount(src, dir, type, 0,
							 strcmp(opts, "-") ? opts : NULL)));
		} else if (!strcmp(c, "read")) {
			const char *path = ARG();
			char buf[512];
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			int r = fd < 0 ? -1 : (int)read(fd, buf, sizeof(buf));
			out("read:%s=%s", path, res(r));
			if (fd >= 0)
				close(fd);
		} else if (!strcmp(c, "syscalls")) {
			do_syscalls();
		} else if (!strcmp(c, "segv")) {
			signal(SIGSEGV, SIG_DFL);
			volatile int *p = NULL;
			/* On purpose: the analysers are told so. */
			// cppcheck-suppress nullPointer
			*p = 1;	// NOLINT(clang-analyzer-core.NullDereference)
		} else if (!strcmp(c, "echo")) {
			out("echo=%s", ARG());
		} else if (!strcmp(c, "ab-lines")) {
			ab_lines(atoi(ARG()));
		} else if (!strcmp(c, "console") || !strcmp(c, "kmsg") || !strcmp(c, "kmsg-rw")) {
			/* TEXT as given, in one write (a kmsg record) */
			const char *path = c[0] == 'c' ? "/dev/console" : "/dev/kmsg";
			const char *text = ARG();
			int fd = open(path, (strcmp(c, "kmsg-rw") ? O_WRONLY : O_RDWR) |
				      O_NOCTTY | O_CLOEXEC);
			int r = fd;
			if (fd >= 0) {
				size_t len = strlen(text);
				r = write(fd, text, len) == (ssize_t)len ? 0 : -1;
				close(fd);
			}
			if (r < 0)
				out("%s=%s", c, res(r));
		} else if (!strcmp(c, "ready")) {
			out("ready=1");
		} else if (!strcmp(c, "read-line")) {
			char line[1024];
			size_t n = 0;
			while (n < sizeof(line) - 1) {
				char ch;
				ssize_t r = read(STDIN_FILENO, &ch, 1);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0 || ch == '\n' || ch == '\r')
					break;
				line[n++] = ch;
			}
			line[n] = '\0';
			out("line=%s", line);
		} else {
			usage_error(c, "unknown command");
		}
#undef ARG
	}
	return 0;
}
