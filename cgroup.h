/* SPDX-License-Identifier: MIT */
/* A cgroup per instance (doc/design.md, "Host protection"): limits, a device allowlist,
 * accounting, and the root of pid 1's cgroup namespace.
 *
 * Layout, in each hierarchy fwrun's own process is in (/proc/self/cgroup),
 * below fwrun's own cgroup there ("OWN"):
 *
 *   OWN/fwrun-NAME/          limits, device allowlist, accounting: out of
 *   │                        the firmware's sight
 *   └─ payload/              pid 1 joins it, then unshares a cgroup
 *                            namespace rooted here: the firmware's
 *                            /sys/fs/cgroup shows only this subtree
 *
 * Two levels, not one: the firmware is real root with CAP_SYS_ADMIN, and
 * could otherwise rewrite the limits and devices.allow of its own
 * namespace's root or detach its device program. From payload down it can
 * only narrow them (v1 devices and hierarchical limits are checked against
 * the parent; v2 device programs are attached with BPF_F_ALLOW_MULTI, so
 * every program on the way up must allow an access).
 *
 * cgroup v2 (pure unified): one hierarchy; the controllers fwrun-NAME's
 * parent offers are enabled in fwrun-NAME's cgroup.subtree_control (payload
 * gets them: a systemd inside enables them further down once it has moved
 * itself out of its root) and, for the limits, in OWN's: the v2 rule of no
 * internal processes makes that fail where OWN holds processes. Where OWN
 * holds fwrun alone (a scope made for it: systemd-run --scope -p
 * Delegate=yes), fwrun moves itself into OWN/fwrun-supervisor.PID for the
 * run; where it holds others too (a login shell), only the limits are
 * refused, with a hint, and the rest works without the accounting. The
 * device allowlist is a BPF_PROG_TYPE_CGROUP_DEVICE program, which needs no
 * controller.
 * cgroup v1 / hybrid: the same two directories in every mounted hierarchy,
 * named ones (name=systemd) and the unified one included, so that no
 * hierarchy the firmware mounts shows the host's tree; devices.deny 'a'
 * then devices.allow lines, and the BPF program as well on the unified
 * hierarchy when it is mounted (the kernel asks both).
 *
 * Pure half (unit-tested): cg_parse_self(), cg_parse_mountinfo(),
 * cg_decide(), option parsing (cg_parse_size/pids/cpus/device), the device
 * rules (cg_default_rules), their devices.allow lines and the BPF program
 * (cg_bpf_program), limit values (cg_format_*).
 * Applying half: cg_plan_host(), cg_create(), cg_enter() (pid 1),
 * cg_thaw(), cg_stats(), cg_remove(), cg_remove_stale(). */
#ifndef FWRUN_CGROUP_H
#define FWRUN_CGROUP_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#define CG_PREFIX "fwrun-"	/* every instance cgroup: fwrun-NAME */
#define CG_PAYLOAD "payload"
#define CG_HIER_MAX 16
#define CG_DEVICES_MAX 32	/* --device, at most this many times */
#define CG_RULES_MAX 64
#define CG_CPU_PERIOD_US 100000

/* ---- options ---- */

enum {
	CG_ACC_MKNOD = 1,	/* as BPF_DEVCG_ACC_* */
	CG_ACC_READ = 2,
	CG_ACC_WRITE = 4,
	CG_ACC_ALL = 7,
};

/* --device PATH[:rwm] */
struct cg_device {
	char path[128];		/* as given, without ":ACCESS"; under /dev */
	unsigned access;	/* CG_ACC_* */
	/* From stat(2) of path on the host (cg_plan_host): */
	char type;		/* 'c' or 'b' */
	unsigned major, minor;
	mode_t mode;		/* the host node's permission bits */
};

struct cg_opts {
	uint64_t memory_max;	/* --memory-max, bytes; 0: none */
	uint64_t pids_max;	/* --pids-max; 0: none */
	uint64_t cpu_quota_us;	/* --cpus N: N * CG_CPU_PERIOD_US; 0: none */
	struct cg_device devices[CG_DEVICES_MAX];
	size_t ndevices;
};

/* "512M", "1.5G", "1048576", "64k": bytes (binary units K M G T, B
 * optional). -EINVAL, or -ERANGE (below 1 MiB or overflow). */
int cg_parse_size(const char *s, uint64_t *bytes);
/* 1..4194304 (PID_MAX_LIMIT). */
int cg_parse_pids(const char *s, uint64_t *n);
/* "2", "0.5", "1.25": CPUs, at least 0.01; quota in µs per 100 ms. */
int cg_parse_cpus(const char *s, uint64_t *quota_us);
/* PATH[:ACCESS], ACCESS of r, w, m (default rwm); PATH absolute, under
 * /dev/, without "..". Appends to o->devices: -EINVAL, -ENAMETOOLONG,
 * -E2BIG when full. */
int cg_parse_device(struct cg_opts *o, const char *arg);

/* ---- device rules ---- */

struct cg_rule {
	char type;		/* 'c', 'b' or 'a' (any) */
	int major_lo, major_hi;	/* -1: any */
	int minor;		/* -1: any */
	unsigned access;	/* CG_ACC_* allowed */
};

/* The defaults (see cgroup.c for why each), then each --device.
 * Returns the count (at most max). */
size_t cg_rules(const struct cg_opts *o, struct cg_rule *rules, size_t max);

/* One devices.allow line per major of a rule ("c 136:* rwm"): calls fn
 * with each; stops at fn's first non-zero return and returns it. */
int cg_rule_lines(const struct cg_rule *rules, size_t n,
		  int (*fn)(const char *line, void *data), void *data);

/* The BPF_PROG_TYPE_CGROUP_DEVICE program that allows exactly rules:
 * struct bpf_insn, 8 bytes each, into insns. Returns the count or -ENOSPC. */
#define CG_BPF_INSNS_MAX 512
int cg_bpf_program(const struct cg_rule *rules, size_t n, void *insns, size_t max);

/* ---- where the cgroups go ---- */

struct cg_hier {
	char controllers[64];	/* "memory", "cpu,cpuacct", "name=systemd"; "" for v2 */
	bool v2;
	char *own;		/* fwrun's own cgroup there, as a path under its mount
				 * (allocated: cg_host_free; a copy of the struct
				 * borrows it) */
};

enum cg_mode {
	CG_MODE_NONE = 0,	/* no cgroup file system mounted */
	CG_MODE_V2,		/* pure unified */
	CG_MODE_V1,		/* legacy or hybrid: one dir per hierarchy */
};

struct cg_host {
	enum cg_mode mode;
	struct cg_hier hier[CG_HIER_MAX];
	size_t nhier;
	size_t unplaced;	/* hierarchies of ours with no usable mount */
};

/* /proc/self/cgroup's text into h->hier[] (controllers, and own as the
 * cgroup path for now). -EINVAL on a line that does not parse, -ENOMEM;
 * h is then empty. */
int cg_parse_self(const char *text, struct cg_host *h);
/* Free what the parsers allocated; h is then empty. */
void cg_host_free(struct cg_host *h);

/* /proc/self/mountinfo's text: turn each h->hier[].own into the directory
 * of fwrun's own cgroup (mount point + path below the mount's root); drop
 * the hierarchies with no mount showing fwrun's cgroup (counted in
 * h->unplaced), and decide h->mode. 0, or -ENOMEM (h then empty). */
int cg_parse_mountinfo(const char *text, struct cg_host *h);

const char *cg_mode_name(enum cg_mode m);

/* "max" or the number, into buf: memory.max, pids.max; cpu.max as
 * "QUOTA PERIOD". */
void cg_format_max(char *buf, size_t size, uint64_t v);
void cg_format_cpu_max(char *buf, size_t size, uint64_t quota_us);

/* ---- the run's cgroups ---- */

/* What pid 1 needs to join them (ns.c): an fd per hierarchy on payload's
 * tasks (v1) or cgroup.procs (v2), opened by the supervisor; and payload's
 * directory in the cgroup2 tree, for clone3(CLONE_INTO_CGROUP). */
struct cg_join {
	int procs_fd[CG_HIER_MAX];
	size_t n;
	int into_fd;		/* -1: none */
	int into_index;		/* its procs_fd[], which pid 1 then skips */
};

struct cg_instance {
	bool planned;			/* cg_plan_host ran: the fds below are set */
	struct cg_opts opts;		/* a copy, its devices resolved */
	struct cg_host host;
	char name[80];			/* "fwrun-NAME" */
	char supervisor[48];		/* "fwrun-supervisor.PID": v2, fwrun's own leaf */
	bool self_moved;		/* fwrun moved itself into it */
	char enabled[64];		/* controllers we enabled in our own cgroup */
	bool created[CG_HIER_MAX];	/* fwrun-NAME made in hier[i] */
	struct cg_join join;
	uint64_t create_ns;		/* what cg_create took, for -v */
	pthread_t thread;		/* cg_create_start's */
	void *thread_stack;		/* its stack, ours: unmapped at the join */
	bool thread_running;
	int async_r;
	struct fw_error async_e;
};

/* Stats of the whole firmware at its end; has_* false where the host does
 * not tell. */
struct cg_stats {
	bool has_memory_peak, has_cpu, has_oom;
	uint64_t memory_peak;	/* bytes */
	uint64_t cpu_ns;
	uint64_t oom_kills;
};

/* Read /proc/self/cgroup and mountinfo, copy o and stat each --device
 * into the copy. Touches nothing (also for --dry-run). */
int cg_plan_host(struct cg_instance *cg, const struct cg_opts *o, const char *instance,
		 struct fw_error *e);

/* Remove what a killed fwrun left below our own cgroups: each fwrun-*
 * whose instance is not running (instance_running(); the caller holds its
 * own name's) and which is empty, once what its firmware froze is thawed
 * (and dies of the SIGKILL pending). Best effort; returns how many were
 * removed. cg_create() does it too, when no other run is making its
 * cgroups at that moment. */
int cg_remove_stale(struct cg_instance *cg);

/* Make fwrun-NAME and payload in each hierarchy, set the limits and the
 * device allowlist, open the join fds. Under the instance lock. On failure
 * everything made is removed. */
int cg_create(struct cg_instance *cg, struct fw_error *e);

/* cg_create in a thread of its own, from the instance lock on: making
 * cgroups waits mostly on the kernel (a v1 cpuset or memory cgroup takes
 * milliseconds, an RCU grace period), which then overlaps the setup
 * thread's mounts. cg_create_wait() joins it (0 or its error); cg_remove()
 * joins it too. */
int cg_create_start(struct cg_instance *cg, struct fw_error *e);
int cg_create_wait(struct cg_instance *cg, struct fw_error *e);

/* pid 1, before its execve: join payload in every hierarchy (but the
 * cgroup2 one when clone3 already placed it there: placed), then
 * unshare(CLONE_NEWCGROUP). Only system calls: it runs on pid 1's stack in
 * fwrun's memory. */
int cg_enter(const struct cg_join *j, bool placed, struct fw_error *e);

/* Thaw every cgroup of the instance's v1 freezer subtree (the firmware
 * may have frozen its own): called right after SIGKILL, which a process
 * frozen there does not die of until thawed. */
void cg_thaw(const struct cg_instance *cg);

/* Peak memory, CPU time, OOM kills of fwrun-NAME. */
void cg_stats(const struct cg_instance *cg, struct cg_stats *st);

/* Close the join fds; wait (bounded) for the payload to empty, remove the
 * directories. 0, or -errno with e filled when one is left. */
int cg_remove(struct cg_instance *cg, struct fw_error *e);

/* A line for -v and --dry-run. */
void cg_describe(const struct cg_instance *cg, char *buf, size_t size);

#endif
