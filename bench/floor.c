/* SPDX-License-Identifier: MIT */
/* The floor: the least a firmware run can cost on this machine, and nothing
 * else. Every syscall here is one fwrun cannot avoid for a default run:
 *
 *   floor:  open image, LOOP_CTL_GET_FREE, LOOP_CONFIGURE (read-only,
 *           autoclear), unshare(mnt|uts|ipc|net), / MS_REC|MS_PRIVATE,
 *           tmpfs scratch on a fixed dir (as fwrun's FWRUN_MNT_DIR), mount
 *           the loop device read-only, overlay with the upper on that tmpfs,
 *           pivot_root, unshare(pid), vfork, wait; its exit takes the mounts
 *   pid 1:  exec INIT (default /sbin/true)
 *
 * One process and pid 1: the floor itself moves into the new namespaces, as
 * nothing has to stay outside (fwrun's supervisor does, and its setup is a
 * thread, not a second process, for that reason); pid 1 is vforked (no copy
 * of the address space; fwrun clones it with CLONE_VM|CLONE_VFORK). No /dev, no hostname, no
 * lo, no lock, no state dir, no signals, no supervisor protocol: those are
 * what fwrun adds above the floor.
 *
 *   floor IMAGE [INIT [ARG...]]      exit status: INIT's (128+N if killed)
 *
 * Errors are checked; a failure prints one line and exits 125.
 *
 * Built with -DFLOOR_STEPS, it also prints (stderr) how long each step took,
 * named as fwrun -v names them, for the profile of bench/run; the floor that
 * is timed is built without. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCRATCH "/run/fwrun/mnt"	/* FWRUN_MNT_DIR in ns.h */

#ifdef FLOOR_STEPS
#include <sys/mman.h>
#include <time.h>
enum { S_START, S_LOOP, S_UNSHARE, S_PRIVATE, S_RUNDIR, S_ROOTFS, S_OVERLAY, S_PIVOT,
       S_UNSHARE_PID, S_FORK_INIT, S_EXEC, S_INIT_EXIT, S_COUNT };
static const char *const step_name[S_COUNT] = {
	"start", "attach loop device",
	"unshare mount, uts, ipc, net namespaces", "make / private", "scratch tmpfs",
	"mount rootfs read-only", "mount overlay", "switch root", "unshare pid namespace",
	"fork pid 1", "exec init (just before execve)", "init ran and was reaped",
};
static uint64_t *steps;	/* shared with pid 1 */
static void step(int s)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	steps[s] = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static void print_steps(void)
{
	uint64_t prev = steps[S_START];
	for (int s = 1; s < S_COUNT; s++) {
		fprintf(stderr, "floor: %-40s %8.3f ms\n", step_name[s], (double)(steps[s] - prev) / 1e6);
		prev = steps[s];
	}
	fprintf(stderr, "floor: %-40s %8.3f ms\n", "total", (double)(prev - steps[S_START]) / 1e6);
}
#define STEP(s) step(s)
#else
#define STEP(s) do { } while (0)
#endif

static void die(const char *what, const char *subject)
{
	fprintf(stderr, "floor: %s '%s': %s\n", what, subject, strerror(errno));
	_exit(125);
}

static int status_of(int ws)
{
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* LOOP_CONFIGURE on a free device, retrying (bounded) when another process
 * takes the device between LOOP_CTL_GET_FREE and the ioctl. */
static int loop_attach(int image_fd, char *dev, size_t size)
{
	struct loop_config cfg = {
		.fd = (__u32)image_fd,
		.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR,
	};
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		die("open", "/dev/loop-control");
	for (int attempt = 0; attempt < 256; attempt++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			die("get a free loop device from", "/dev/loop-control");
		snprintf(dev, size, "/dev/loop%d", n);
		int fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENXIO)
				continue;
			die("open", dev);
		}
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
			close(ctl);
			return fd;
		}
		if (errno != EBUSY)
			die("configure loop device", dev);
		close(fd);
	}
	errno = EBUSY;
	die("attach a loop device for the image", "(256 tries)");
	return -1;
}

static void xmkdir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("mkdir", path);
}

static void xmount(const char *src, const char *dst, const char *type, unsigned long flags,
		   const char *data)
{
	if (mount(src, dst, type, flags, data) < 0)
		die(type ? type : "mount", dst);
}

/* Namespaces, mounts, pivot, PID namespace, pid 1. */
static int run(int loop, const char *dev, const char *fstype, char **init_argv)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) < 0)
		die("unshare", "mnt|uts|ipc|net");
	STEP(S_UNSHARE);
	xmount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	STEP(S_PRIVATE);
	xmount("floor", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	xmkdir(SCRATCH "/lower");
	xmkdir(SCRATCH "/upper");
	xmkdir(SCRATCH "/work");
	xmkdir(SCRATCH "/merged");
	STEP(S_RUNDIR);
	xmount(dev, SCRATCH "/lower", fstype, MS_RDONLY | MS_NOSUID | MS_NODEV,
	       strcmp(fstype, "ext4") == 0 ? "noload" : NULL);
	/* From here on the mount alone holds the device, and autoclear
	 * detaches it when the mount namespace goes, at our exit. */
	close(loop);
	STEP(S_ROOTFS);
	xmount("overlay", SCRATCH "/merged", "overlay", 0,
	       "lowerdir=" SCRATCH "/lower,upperdir=" SCRATCH "/upper,workdir=" SCRATCH "/work");
	STEP(S_OVERLAY);
	if (chdir(SCRATCH "/merged") < 0)
		die("chdir", SCRATCH "/merged");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot_root", SCRATCH "/merged");
	if (umount2(".", MNT_DETACH) < 0)
		die("detach the old root", "/");
	if (chdir("/") < 0)
		die("chdir", "/");
	STEP(S_PIVOT);
	if (unshare(CLONE_NEWPID) < 0)
		die("unshare", "pid");
	STEP(S_UNSHARE_PID);
	pid_t pid = vfork();
	if (pid < 0)
		die("vfork", "pid 1");
	if (pid == 0) {
		STEP(S_FORK_INIT);
		STEP(S_EXEC);
		execv(init_argv[0], init_argv);
		die("exec", init_argv[0]);
	}
	int ws;
	if (waitpid(pid, &ws, 0) < 0)
		die("wait for", init_argv[0]);
	STEP(S_INIT_EXIT);
	return status_of(ws);
}

int main(int argc, char **argv)
{
	static char *default_init[] = { "/sbin/true", NULL };
	char dev[64];

	if (argc < 2) {
		fprintf(stderr, "usage: floor IMAGE [INIT [ARG...]]   (ext4 image, as root)\n");
		return 125;
	}
	char **init_argv = argc > 2 ? argv + 2 : default_init;
	const char *fstype = getenv("FLOOR_FSTYPE") ? getenv("FLOOR_FSTYPE") : "ext4";

#ifdef FLOOR_STEPS
	steps = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (steps == MAP_FAILED)
		die("mmap", "steps");
	STEP(S_START);
#endif
	int image = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (image < 0)
		die("open", argv[1]);
	/* The host-side directory the private tmpfs goes on (fwrun makes it too). */
	if (mkdir("/run/fwrun", 0755) < 0 && errno != EEXIST)
		die("mkdir", "/run/fwrun");
	xmkdir(SCRATCH);

	int loop = loop_attach(image, dev, sizeof(dev));
	close(image);
	STEP(S_LOOP);
	int status = run(loop, dev, fstype, init_argv);
#ifdef FLOOR_STEPS
	print_steps();
#endif
	return status;
}
