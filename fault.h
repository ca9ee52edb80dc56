/* SPDX-License-Identifier: MIT */
/* Fault injection, for the test build only (make FAULTS=1, which defines
 * FWRUN_FAULT_INJECTION). Each fault point sits in front of one operation
 * that can fail between start and exec:
 *
 *     if (FW_FAULT(OVERLAY_MOUNT) || mount(...) < 0)
 *             return fw_fail(e, errno, "mount overlay on", target);
 *     r = FW_FAULT_ERR(NET_MOVE_IN) ?: move_link(...);
 *
 * With FWRUN_FAULT=POINT[:ERRNO[:TIMES]] in the environment (ERRNO a name
 * such as ENOENT or a number, default EIO; TIMES default 1, 0 for every
 * time) the named point fails at its first TIMES hits in each process that
 * reaches it: errno is set and the code goes down its real error path, so
 * the error line is the real one. `fwrun --list-fault-points`
 * prints the table, which test/integration/t-faults.sh walks.
 *
 * The points are one list, FW_FAULT_POINTS below, in the order a run reaches
 * them: in the test build it makes both the enum the call sites name (a
 * misspelt point does not compile) and the table of names. Where they run:
 * sup = the supervisor (host namespaces), setup = the setup thread (new
 * namespaces), init = pid 1 before its execve.
 *
 * Some points also stand for an older kernel: loop-attach:EINVAL makes
 * loop_attach() take the LOOP_SET_FD path of kernels before 5.8,
 * rootfs-bind-ro:ENOSYS the per-mount remount of kernels before 5.12.
 *
 * In the shipped build the macros are the constant 0: no table, no getenv,
 * no option; t-faults.sh checks the binary has no trace of them. */
#ifndef FWRUN_FAULT_H
#define FWRUN_FAULT_H

#define FW_FAULT_POINTS(X) \
	X(ROOTFS_OPEN, "rootfs-open", \
	  "sup: open the --rootfs image or directory (rootfs_probe)") \
	X(STATUS_FD, "status-fd", \
	  "sup: check the --status-fd descriptor (events_open)") \
	X(SUBREAPER, "subreaper", \
	  "sup: PR_SET_CHILD_SUBREAPER (ns_become_subreaper)") \
	X(RUN_DIR, "run-dir", \
	  "sup: create /run/fwrun and its dirs (rundir_ensure)") \
	X(INSTANCE_LOCK, "instance-lock", \
	  "sup: flock the instance name's lock (instance_lock)") \
	X(STATE_PREPARE, "state-prepare", \
	  "sup: create the state dir (state_prepare)") \
	X(LOCK, "lock", \
	  "sup: take the state dir's lock (state_lock)") \
	X(WORKDIR_RENAME, "workdir-rename", \
	  "sup: move the overlay's old work/work aside (state_lock): removed in place instead") \
	X(STATE_RESET, "state-reset", \
	  "sup: --reset empties upper/ (state_reset)") \
	X(AA_PREPARE, "aa-prepare", \
	  "sup: profile load or lookup, when confining (aa_prepare)") \
	X(CAPS_DROP, "caps-drop", \
	  "sup: cut fwrun's bounding set before the setup thread starts (caps_apply_drop)") \
	X(NET_LOCK, "net-lock", \
	  "sup: flock an interface or subnet lock in /run/fwrun/net (net_validate, net_prepare)") \
	X(NET_TAP_CREATE, "net-tap-create", \
	  "sup: create a missing --tap (TUNSETIFF, net_prepare)") \
	X(CGROUP_MKDIR, "cgroup-mkdir", \
	  "sup: create the instance's cgroup fwrun-NAME (cg_create)") \
	X(CGROUP_CONTROLLERS, "cgroup-controllers", \
	  "sup: v2 only, enable memory, pids (cpu) in fwrun's own cgroup (cg_create)") \
	X(CGROUP_DEVICES, "cgroup-devices", \
	  "sup: v1 devices.deny/devices.allow of the instance's cgroup (cg_create)") \
	X(CGROUP_BPF, "cgroup-bpf", \
	  "sup: load the v2 device program (cg_create)") \
	X(CGROUP_OPEN, "cgroup-open", \
	  "sup: open payload/cgroup.procs for pid 1 (cg_create)") \
	X(CONSOLE_OPEN, "console-open", \
	  "sup: open the pty master (console_open)") \
	X(CONSOLE_LOG, "console-log", \
	  "sup: open --console-log FILE (console_open_log)") \
	X(SETUP_SOCKET, "setup-socket", \
	  "sup: socketpair to the setup thread (ns_spawn)") \
	X(SETUP_THREAD, "setup-thread", \
	  "sup: start the setup thread (ns_spawn)") \
	X(OPEN_HOME, "open-home", \
	  "sup: open /proc/self/ns/*, for the setup thread's way back (ns_spawn)") \
	X(UNSHARE, "unshare", \
	  "setup: unshare mnt, uts, ipc, net (+sysvsem)") \
	X(MAKE_PRIVATE, "make-private", \
	  "setup: / MS_REC|MS_PRIVATE") \
	X(OPEN_NETNS, "open-netns", \
	  "sup: open the setup thread's /proc/self/task/TID/ns/net (ns_ready)") \
	X(SCRATCH_TMPFS, "scratch-tmpfs", \
	  "setup: tmpfs on /run/fwrun/mnt") \
	X(LOOP_ATTACH, "loop-attach", \
	  "setup: LOOP_CONFIGURE the image (loop_attach)") \
	X(ROOTFS_MOUNT, "rootfs-mount", \
	  "setup: mount the image read-only (rootfs_mount)") \
	X(ROOTFS_BIND_RO, "rootfs-bind-ro", \
	  "setup: make a directory rootfs's bind mount read-only (bind_readonly)") \
	X(OVERLAY_MOUNT, "overlay-mount", \
	  "setup: mount the overlay (overlay_mount)") \
	X(DEV_TMPFS, "dev-tmpfs", \
	  "setup: tmpfs on the firmware's /dev") \
	X(DEV_NODE, "dev-node", \
	  "setup: mknod the /dev nodes") \
	X(DEV_DEVPTS, "dev-devpts", \
	  "setup: mount devpts on /dev/pts") \
	X(DEV_SHM, "dev-shm", \
	  "setup: mount tmpfs on /dev/shm") \
	X(DEV_CONSOLE, "dev-console", \
	  "setup: bind the pty slave on /dev/console (pty console)") \
	X(DEV_KMSG, "dev-kmsg", \
	  "setup: bind the kmsg pty slave on /dev/kmsg") \
	X(NET_NETNS_SOCKET, "net-netns-socket", \
	  "sup: netlink socket in the firmware's namespace (setns, net_move_in)") \
	X(NET_VETH_CREATE, "net-veth-create", \
	  "sup: create the --veth pair (net_move_in)") \
	X(NET_VETH_CONFIG, "net-veth-config", \
	  "sup: address and up on the veth host end (net_move_in)") \
	X(NET_MOVE_IN, "net-move-in", \
	  "sup: move and rename a --tap interface in (net_move_in)") \
	X(NET_LO_UP, "net-lo-up", \
	  "sup: bring lo up (net_inside)") \
	X(NET_ADDR, "net-addr", \
	  "sup: add a --tap address (net_inside)") \
	X(NET_UP, "net-up", \
	  "sup: bring a --tap interface up (net_inside)") \
	X(NET_VETH_INSIDE, "net-veth-inside", \
	  "sup: address and up on eth0 of --veth (net_inside)") \
	X(NET_ROUTE, "net-route", \
	  "sup: default route via the veth host end (net_inside)") \
	X(AA_ONEXEC, "aa-onexec", \
	  "setup: set the AppArmor exec label, when confining (aa_apply_onexec)") \
	X(HOSTNAME, "hostname", \
	  "setup: sethostname") \
	X(PIVOT_ROOT, "pivot-root", \
	  "setup: pivot_root to the overlay (switch_root)") \
	X(UNSHARE_PID, "unshare-pid", \
	  "setup: unshare the pid namespace") \
	X(FORK_INIT, "fork-init", \
	  "setup: fork pid 1") \
	X(CGROUP_JOIN, "cgroup-join", \
	  "init: write 0 to payload/cgroup.procs (cg_enter)") \
	X(CGROUP_UNSHARE, "cgroup-unshare", \
	  "init: unshare the cgroup namespace (cg_enter)") \
	X(INIT_SETSID, "init-setsid", \
	  "init: setsid") \
	X(INIT_CONSOLE, "init-console", \
	  "init: the pty as stdio and controlling terminal (pty console)") \
	X(INIT_AFFINITY, "init-affinity", \
	  "init: give back the CPU affinity fwrun was given (spawn_init pinned it)") \
	X(INIT_SECCOMP, "init-seccomp", \
	  "setup: install the syscall filter that pid 1 inherits (sysfilter_load)") \
	X(EXEC, "exec", \
	  "init: execve INIT (126; ENOENT: 127)") \
	X(SETUP_HOME, "setup-home", \
	  "setup: back to the host namespaces once INIT runs (go_home)") \
	X(NET_GIVE_BACK, "net-give-back", \
	  "sup, at exit: move a borrowed interface back (net_restore)") \
	X(NET_VETH_DELETE, "net-veth-delete", \
	  "sup, at exit: delete the veth host end (net_restore)")

#ifdef FWRUN_FAULT_INJECTION
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

enum fw_fault_point {
#define FW_FAULT_ENUM(id, name, where) FP_##id,
	FW_FAULT_POINTS(FW_FAULT_ENUM)
#undef FW_FAULT_ENUM
	FP_COUNT
};

/* true (errno set) when point is the one armed and it is to fail this time
 * in this process. */
bool fw_fault_hit(enum fw_fault_point point);
/* Arm from a POINT[:ERRNO[:TIMES]] spec instead of FWRUN_FAULT (NULL:
 * nothing armed), for the unit tests. Aborts on a spec that does not parse. */
void fw_fault_arm(const char *spec);
/* The table, one "POINT\tWHERE" line each. */
void fw_fault_list(FILE *f);

#define FW_FAULT(id) fw_fault_hit(FP_##id)
#define FW_FAULT_ERR(id) (FW_FAULT(id) ? -errno : 0)
#else
/* Not even the enum: its names would stay in the binary's debug info. A
 * misspelt point fails to compile in the test build, which the unit tests
 * link and `make check` always builds. */
#define FW_FAULT(id) 0
#define FW_FAULT_ERR(id) 0
#endif

#endif
