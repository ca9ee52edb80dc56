/* SPDX-License-Identifier: MIT */
/* androidinit: a static test init that does, with the file system and the
 * devices, what Android's init does in its first and second stage (issue
 * 16), without Android:
 *
 *  first stage   tmpfs on /dev (over what fwrun gave), devpts, mknod of
 *                /dev/null, zero, full, random, urandom, ptmx, tty, kmsg;
 *                /proc and /sys; /dev/socket
 *  properties    ro.boot.* from argv (ro.boot.X=Y, and androidboot.X=Y as
 *                ro.boot.X, as firmwared passed ro.boot.console=) and from
 *                androidboot.* words of /proc/cmdline; a property area in
 *                /dev/__properties__/ (a file on the /dev tmpfs mapped
 *                shared, as bionic's is), a property service socket
 *                /dev/socket/property_service that a child process sets
 *                a property through, read back by another child from the
 *                shared area
 *  logging       "<N>init: ..." lines for /dev/kmsg. It opens its own
 *                /dev/kmsg to tell whether it may (the device allowlist
 *                denies it), but writes there only with
 *                androidboot.fwt_kmsg=write: otherwise the lines would go
 *                to the host's kernel log. Its lines go to its console.
 *
 * Results are "key=value" lines on the console (stdout, kept open across
 * the /dev mount) for the tests. It exits 0 when done, or with
 * androidboot.fwt_stay=1 waits for SIGTERM (then exits 0).
 *
 * Device numbers it mknods: 1:3 null, 1:5 zero, 1:7 full, 1:8 random,
 * 1:9 urandom, 5:0 tty, 5:2 ptmx, 1:11 kmsg (pts come from its devpts). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROP_AREA_SIZE (128 * 1024)
#define PROP_MAX 64
#define PROP_NAME 64
#define PROP_VALUE 92	/* PROP_VALUE_MAX in bionic */

struct prop {
	char name[PROP_NAME];
	char value[PROP_VALUE];
};

struct prop_area {
	unsigned magic;		/* "PROP" */
	unsigned serial;	/* bumped on each change */
	unsigned count;
	struct prop props[PROP_MAX];
};

static int kmsg_fd = -1;

static void out(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(STDOUT_FILENO, buf, (size_t)n);
}

/* Android's KernelLogger: "<6>init: message" to /dev/kmsg, here to the
 * console too (or only, when kmsg is not ours to write). */
static void klog(int level, const char *fmt, ...)
{
	char msg[400], line[440];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int n = snprintf(line, sizeof(line), "<%d>init: %s\n", level, msg);
	if (kmsg_fd >= 0)
		(void)!write(kmsg_fd, line, (size_t)n);
	(void)!write(STDOUT_FILENO, line, (size_t)n);
}

static int step(const char *what, int r)
{
	out("%s=%s", what, r == 0 ? "ok" : strerror(errno));
	return r;
}

static void first_stage(void)
{
	static const struct { const char *name; mode_t mode; unsigned maj, min; } nodes[] = {
		{ "/dev/null", 0666, 1, 3 }, { "/dev/zero", 0666, 1, 5 },
		{ "/dev/full", 0666, 1, 7 }, { "/dev/random", 0666, 1, 8 },
		{ "/dev/urandom", 0666, 1, 9 }, { "/dev/tty", 0666, 5, 0 },
		{ "/dev/ptmx", 0666, 5, 2 }, { "/dev/kmsg", 0600, 1, 11 },
	};

	umask(0);
	step("mount.dev", mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755"));
	mkdir("/dev/pts", 0755);
	mkdir("/dev/socket", 0755);
	step("mount.devpts", mount("devpts", "/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666"));
	step("mount.proc", mount("proc", "/proc", "proc", 0, "hidepid=0"));
	step("mount.sys", mount("sysfs", "/sys", "sysfs", 0, NULL));
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		char key[64];
		snprintf(key, sizeof(key), "mknod.%s", nodes[i].name + 5);
		step(key, mknod(nodes[i].name, S_IFCHR | nodes[i].mode,
				makedev(nodes[i].maj, nodes[i].min)));
	}
	umask(022);
}

static struct prop_area *area;

static int prop_set(const char *name, const char *value)
{
	unsigned i;

	if (strlen(name) >= PROP_NAME || strlen(value) >= PROP_VALUE)
		return -1;
	for (i = 0; i < area->count; i++)
		if (!strcmp(area->props[i].name, name))
			break;
	if (i == PROP_MAX)
		return -1;
	if (!strncmp(name, "ro.", 3) && i < area->count)
		return -1;	/* read-only once set */
	snprintf(area->props[i].name, PROP_NAME, "%s", name);
	snprintf(area->props[i].value, PROP_VALUE, "%s", value);
	if (i == area->count)
		area->count++;
	__atomic_add_fetch(&area->serial, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* ro.boot.X=Y and androidboot.X=Y words: the properties they set. */
static void boot_prop(const char *word, const char *from)
{
	char name[PROP_NAME];
	const char *eq = strchr(word, '=');

	if (!eq)
		return;
	if (!strncmp(word, "ro.boot.", 8))
		snprintf(name, sizeof(name), "%.*s", (int)(eq - word), word);
	else if (!strncmp(word, "androidboot.", 12))
		snprintf(name, sizeof(name), "ro.boot.%.*s", (int)(eq - word - 12), word + 12);
	else
		return;
	if (prop_set(name, eq + 1) == 0)
		out("prop.%s=%s (%s)", name, eq + 1, from);
}

static void property_area(int argc, char **argv)
{
	int fd;

	step("mkdir.__properties__", mkdir("/dev/__properties__", 0711));
	fd = open("/dev/__properties__/properties_serial", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		  0444);
	if (fd < 0 || ftruncate(fd, PROP_AREA_SIZE) < 0) {
		out("prop_area=%s", strerror(errno));
		exit(1);
	}
	area = mmap(NULL, PROP_AREA_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (area == MAP_FAILED) {
		out("prop_area=mmap: %s", strerror(errno));
		exit(1);
	}
	area->magic = 0x504f5250;
	out("prop_area=ok");
	for (int i = 1; i < argc; i++)
		boot_prop(argv[i], "argv");
	/* the kernel command line: the host's, under fwrun; rarely any */
	char cmdline[4096];
	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, cmdline, sizeof(cmdline) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		cmdline[n] = '\0';
		for (char *save = NULL, *w = strtok_r(cmdline, " \n", &save); w;
		     w = strtok_r(NULL, " \n", &save))
			if (!strncmp(w, "androidboot.", 12))
				boot_prop(w, "cmdline");
	}
}

/* A reader as other processes are: the area mapped read-only, by path. */
static const char *prop_get_mapped(const char *name, char *value)
{
	int fd = open("/dev/__properties__/properties_serial", O_RDONLY | O_CLOEXEC);
	const struct prop_area *a;

	if (fd < 0)
		return NULL;
	a = mmap(NULL, PROP_AREA_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (a == MAP_FAILED)
		return NULL;
	for (unsigned i = 0; i < a->count && i < PROP_MAX; i++)
		if (!strcmp(a->props[i].name, name)) {
			snprintf(value, PROP_VALUE, "%s", a->props[i].value);
			return value;
		}
	return NULL;
}

/* The property service: "name=value\n" per connection, answered "0" or "-1". */
static int property_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/dev/socket/property_service");
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 8) < 0 ||
	    chmod(sa.sun_path, 0666) < 0) {
		out("property_service=%s", strerror(errno));
		exit(1);
	}
	out("property_service=ok");
	return s;
}

static void serve_one(int s)
{
	char req[PROP_NAME + PROP_VALUE + 2];
	int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	ssize_t n;

	if (c < 0)
		return;
	n = read(c, req, sizeof(req) - 1);
	if (n > 0) {
		req[n] = '\0';
		req[strcspn(req, "\n")] = '\0';
		char *eq = strchr(req, '=');
		int r = -1;
		if (eq) {
			*eq = '\0';
			r = prop_set(req, eq + 1);
			klog(6, "property '%s' set to '%s' by the property service: %s", req,
			     eq + 1, r == 0 ? "ok" : "refused");
		}
		(void)!write(c, r == 0 ? "0" : "-1", r == 0 ? 1 : 2);
	}
	close(c);
}

/* A client of the property service, as setprop is. */
static int setprop(const char *name, const char *value)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[PROP_NAME + PROP_VALUE + 2], ans[4] = "";
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/dev/socket/property_service");
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	int n = snprintf(buf, sizeof(buf), "%s=%s\n", name, value);
	(void)!write(s, buf, (size_t)n);
	(void)!read(s, ans, sizeof(ans) - 1);
	close(s);
	return strcmp(ans, "0") == 0 ? 0 : -1;
}

static volatile sig_atomic_t got_term;
static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

int main(int argc, char **argv)
{
	bool stay = false, kmsg_write = false;
	char v[PROP_VALUE];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "androidboot.fwt_stay=1"))
			stay = true;
		if (!strcmp(argv[i], "androidboot.fwt_kmsg=write"))
			kmsg_write = true;
	}
	out("pid=%d", (int)getpid());
	first_stage();
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	out("kmsg.open=%s", fd >= 0 ? "ok" : strerror(errno));
	if (fd >= 0 && kmsg_write)
		kmsg_fd = fd;
	else if (fd >= 0)
		close(fd);
	klog(6, "first stage done (kmsg %s)", kmsg_fd >= 0 ? "written" : "not written");

	/* second stage */
	property_area(argc, argv);
	int s = property_socket();
	pid_t setter = fork();
	if (setter == 0)
		_exit(setprop("sys.boot_completed", "1") == 0 ? 0 : 1);
	serve_one(s);
	int st = 0;
	waitpid(setter, &st, 0);
	out("setprop=%s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "failed");
	/* a read-only property cannot be set again */
	pid_t again = fork();
	if (again == 0)
		_exit(setprop("ro.boot.hardware", "other") == 0 ? 0 : 1);
	serve_one(s);
	waitpid(again, &st, 0);
	out("setprop.ro_again=%s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "accepted" : "refused");
	pid_t reader = fork();
	if (reader == 0) {
		const char *r = prop_get_mapped("sys.boot_completed", v);
		out("getprop.sys.boot_completed=%s", r ? r : "(none)");
		r = prop_get_mapped("ro.boot.hardware", v);
		out("getprop.ro.boot.hardware=%s", r ? r : "(none)");
		_exit(0);
	}
	waitpid(reader, &st, 0);
	klog(6, "boot completed");
	out("boot_completed=1");
	if (stay) {
		struct sigaction sa = { .sa_handler = on_term };
		sigaction(SIGTERM, &sa, NULL);
		out("ready=1");
		while (!got_term)
			pause();
		out("got-signal=TERM");
	}
	return 0;
}
