/* SPDX-License-Identifier: MIT */
/* Fault injection (test build only): see fault.h. */
#include "fault.h"

#ifdef FWRUN_FAULT_INJECTION
#include <stdlib.h>
#include <string.h>

/* Every point, in the order a run reaches them. Where they run:
 * sup = the supervisor (host namespaces), setup = the setup thread (new
 * namespaces), init = pid 1 before its execve. */
static const struct {
	const char *name, *where;
} points[] = {
	{ "rootfs-open", "sup: open the --rootfs image or directory (rootfs_probe)" },
	{ "status-fd", "sup: check the --status-fd descriptor (events_open)" },
	{ "subreaper", "sup: PR_SET_CHILD_SUBREAPER (ns_become_subreaper)" },
	{ "run-dir", "sup: create /run/fwrun and its dirs (rundir_ensure)" },
	{ "instance-lock", "sup: flock the instance name's lock (instance_lock)" },
	{ "state-prepare", "sup: create the state dir (state_prepare)" },
	{ "lock", "sup: take the state dir's lock (state_lock)" },
	{ "state-reset", "sup: --reset empties upper/ (state_reset)" },
	{ "aa-prepare", "sup: profile load or lookup, when confining (aa_prepare)" },
	{ "seccomp-build", "sup: build the syscall filter (sysfilter_build)" },
	{ "caps-drop", "sup: cut fwrun's bounding set before the setup thread starts (caps_apply_drop)" },
	{ "net-lock", "sup: flock an interface or subnet lock in /run/fwrun/net (net_validate, net_prepare)" },
	{ "net-tap-create", "sup: create a missing --tap (TUNSETIFF, net_prepare)" },
	{ "console-open", "sup: open the pty master (console_open)" },
	{ "setup-socket", "sup: socketpair to the setup thread (ns_spawn)" },
	{ "setup-thread", "sup: start the setup thread (ns_spawn)" },
	{ "open-home", "sup: open /proc/self/ns/*, for the setup thread's way back (ns_spawn)" },
	{ "unshare", "setup: unshare mnt, uts, ipc, net (+sysvsem)" },
	{ "make-private", "setup: / MS_REC|MS_PRIVATE" },
	{ "open-netns", "sup: open the setup thread's /proc/self/task/TID/ns/net (ns_ready)" },
	{ "scratch-tmpfs", "setup: tmpfs on /run/fwrun/mnt" },
	{ "loop-attach", "setup: LOOP_CONFIGURE the image (loop_attach)" },
	{ "rootfs-mount", "setup: mount the image read-only (rootfs_mount)" },
	{ "rootfs-bind-ro", "setup: make a directory rootfs's bind mount read-only (bind_readonly)" },
	{ "overlay-mount", "setup: mount the overlay (overlay_mount)" },
	{ "dev-tmpfs", "setup: tmpfs on the firmware's /dev" },
	{ "dev-node", "setup: mknod the /dev nodes" },
	{ "dev-devpts", "setup: mount devpts on /dev/pts" },
	{ "dev-shm", "setup: mount tmpfs on /dev/shm" },
	{ "dev-console", "setup: bind the pty slave on /dev/console (pty console)" },
	{ "net-netns-socket", "sup: netlink socket in the firmware's namespace (setns, net_move_in)" },
	{ "net-veth-create", "sup: create the --veth pair (net_move_in)" },
	{ "net-veth-config", "sup: address and up on the veth host end (net_move_in)" },
	{ "net-move-in", "sup: move and rename a --tap interface in (net_move_in)" },
	{ "net-lo-up", "sup: bring lo up (net_inside)" },
	{ "net-addr", "sup: add a --tap address (net_inside)" },
	{ "net-up", "sup: bring a --tap interface up (net_inside)" },
	{ "net-veth-inside", "sup: address and up on eth0 of --veth (net_inside)" },
	{ "net-route", "sup: default route via the veth host end (net_inside)" },
	{ "aa-onexec", "setup: set the AppArmor exec label, when confining (aa_apply_onexec)" },
	{ "hostname", "setup: sethostname" },
	{ "pivot-root", "setup: pivot_root to the overlay (switch_root)" },
	{ "unshare-pid", "setup: unshare the pid namespace" },
	{ "fork-init", "setup: fork pid 1" },
	{ "init-setsid", "init: setsid" },
	{ "init-console", "init: the pty as stdio and controlling terminal (pty console)" },
	{ "init-affinity", "init: give back the CPU affinity fwrun was given (spawn_init pinned it)" },
	{ "init-seccomp", "init: install the syscall filter (sysfilter_load)" },
	{ "exec", "init: execve INIT (126; ENOENT: 127)" },
	{ "setup-home", "setup: back to the host namespaces once INIT runs (go_home)" },
	{ "net-give-back", "sup, at exit: move a borrowed interface back (net_restore)" },
	{ "net-delete", "sup, at exit: delete a tap fwrun created (net_restore)" },
	{ "net-veth-delete", "sup, at exit: delete the veth host end (net_restore)" },
};

static const struct {
	const char *name;
	int err;
} errnos[] = {
	{ "EIO", EIO },		{ "ENOENT", ENOENT },	{ "EPERM", EPERM },
	{ "EACCES", EACCES },	{ "ENOMEM", ENOMEM },	{ "ENOSPC", ENOSPC },
	{ "EBUSY", EBUSY },	{ "EINVAL", EINVAL },	{ "ENODEV", ENODEV },
	{ "EAGAIN", EAGAIN },	{ "EMFILE", EMFILE },	{ "ENOTDIR", ENOTDIR },
	{ "ELOOP", ELOOP },	{ "EEXIST", EEXIST },	{ "ENOEXEC", ENOEXEC },
};

static bool known_point(const char *point)
{
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		if (strcmp(points[i].name, point) == 0)
			return true;
	return false;
}

static struct {
	bool parsed;
	char point[64];
	int err;
	long times;	/* how many more hits fail; < 0: every one */
} armed;

static void arm(void)
{
	const char *spec = getenv("FWRUN_FAULT");

	armed.parsed = true;
	armed.err = EIO;
	armed.times = 1;
	if (!spec || !*spec)
		return;
	size_t n = strcspn(spec, ":");
	if (n >= sizeof(armed.point))
		abort();
	memcpy(armed.point, spec, n);
	armed.point[n] = '\0';
	if (!known_point(armed.point))
		abort();	/* a test's typo: never run without the fault */
	if (spec[n] != ':')
		return;
	char e[32], *end;
	size_t m = strcspn(spec + n + 1, ":");
	if (m >= sizeof(e))
		abort();
	memcpy(e, spec + n + 1, m);
	e[m] = '\0';
	armed.err = 0;
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (strcmp(e, errnos[i].name) == 0)
			armed.err = errnos[i].err;
	if (!armed.err) {
		long v = strtol(e, &end, 10);
		if (*end || v <= 0 || v > 4095)
			abort();	/* a test's typo: never run with another fault */
		armed.err = (int)v;
	}
	if (spec[n + 1 + m] == ':') {
		armed.times = strtol(spec + n + 2 + m, &end, 10);
		if (*end || armed.times < 0)
			abort();
		if (armed.times == 0)
			armed.times = -1;
	}
}

bool fw_fault_hit(const char *point)
{
	if (!known_point(point))
		abort();	/* a point missing from the table */
	if (!armed.parsed)
		arm();
	if (armed.times == 0 || strcmp(armed.point, point) != 0)
		return false;
	if (armed.times > 0)
		armed.times--;
	errno = armed.err;
	return true;
}

void fw_fault_list(FILE *f)
{
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		fprintf(f, "%s\t%s\n", points[i].name, points[i].where);
}
#endif
