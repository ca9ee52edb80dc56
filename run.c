/* SPDX-License-Identifier: MIT */
/* The applier: see run.h. */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "events.h"
#include "instances.h"
#include "ns.h"
#include "rundir.h"
#include "sysfilter.h"

struct run {
	const struct fwrun_plan *p;
	int rootfs_fd;
	int lock_fd;		/* the state dir's */
	int name_lock_fd;	/* the instance name's */
	struct aa_plan aa;	/* the plan's decision, then what was loaded */
	struct net_state net;	/* what was done to the plan's network */
	struct cg_instance cg;	/* the plan's cgroup, then what was made */
	struct initcompat compat;	/* the plan's, then what the setup thread read of INIT */
	char emulator[PATH_MAX];	/* INIT's binfmt_misc interpreter, "" native */
	struct supervise_opts life;	/* the plan's, the stop signal refined */
	struct ns_plan nsp;	/* what the setup thread and pid 1 do */
	struct ns_instance ns;
	bool recorded;		/* our record is in FWRUN_RECORD_DIR */
	unsigned boot;		/* 1 for the first boot, 2... after reboots */
	uint64_t t0;		/* the first init's start: --timeout counts from it */
	struct supervise_result res;
	struct fw_error e;
	struct console con;	/* last: its buffers' pages only when used */
};

/* A line on stderr for the user; the terminal may be raw while the console
 * is relayed (no output processing): then end it with CR LF. */
static void say(const struct run *r, const char *msg)
{
	fprintf(stderr, "fwrun: %s%s", msg, r->con.how.raw && r->con.master >= 0 ? "\r\n" : "\n");
}

static void print_steps(const struct ns_instance *ns)
{
	uint64_t prev = ns->step_ns[STEP_NONE];

	for (int s = STEP_UNSHARE; s < STEP_COUNT; s++) {
		if (!ns->step_ns[s])
			continue;
		fprintf(stderr, "fwrun: %-40s %8.3f ms\n", fw_step_name(s),
			(double)(ns->step_ns[s] - prev) / 1e6);
		prev = ns->step_ns[s];
	}
	fprintf(stderr, "fwrun: %-40s %8.3f ms\n", "total to exec",
		(double)(prev - ns->step_ns[STEP_NONE]) / 1e6);
}

static void print_duration(const char *what, uint64_t ns)
{
	fprintf(stderr, "fwrun: %-40s %8.3f ms\n", what, (double)ns / 1e6);
}

static void emit_started(const struct run *r)
{
	struct events_started ev = {
		.run = r->boot,
		.pid = r->ns.init_pid,
		.supervisor_pid = getpid(),
		.name = r->p->name,
		.init_kind = initcompat_kind_name(r->compat.kind),
		.arch = initcompat_arch_name(r->compat.exe.machine, r->compat.exe.elf_class,
					     r->compat.exe.big_endian),
		.emulator = r->emulator[0] ? r->emulator : NULL,
	};
	const struct net_state *net = &r->net;
	struct events_iface ifs[NET_MAX_TAPS + 1];
	char addrs[NET_MAX_TAPS + 2][64];
	char line[EVENTS_LINE_MAX];
	int n;

	if (r->p->status_fd < 0)
		return;		/* nobody listens: not even the ids are worth reading */
	for (size_t i = 0; i < EVENTS_NS_COUNT; i++)
		ev.ns[i] = ns_id(r->ns.init_pid, events_ns_types[i]);
	/* The firmware's addresses: where a CI step reaches it. */
	for (size_t i = 0; i < net->spec.ntaps; i++) {
		const struct net_tap_spec *t = &net->spec.taps[i];
		ifs[ev.nifaces++] = (struct events_iface){
			.inner = t->inner, .host = t->ifname,
			.addr = t->addr.family && net_format_cidr(&t->addr, addrs[i], 64) >= 0 ?
				addrs[i] : NULL,
		};
	}
	if (net->spec.veth)
		ifs[ev.nifaces++] = (struct events_iface){
			.inner = NET_VETH_INNER, .host = net->veth_host_name,
			.addr = net_format_cidr(&net->veth_fw, addrs[NET_MAX_TAPS], 64) >= 0 ?
				addrs[NET_MAX_TAPS] : NULL,
			.host_addr = net_format_cidr(&net->veth_host, addrs[NET_MAX_TAPS + 1],
						     64) >= 0 ? addrs[NET_MAX_TAPS + 1] : NULL,
		};
	ev.ifaces = ifs;
	n = events_format_started(line, sizeof(line), &ev);
	if (n > 0)
		events_emit(r->p->status_fd, line, n);
}

/* The first console line that matched --until. */
static void emit_matched(void *data, const char *line)
{
	const struct run *r = data;
	char buf[EVENTS_LINE_MAX];
	int n = events_format_matched(buf, sizeof(buf), r->boot, line);

	if (n > 0)
		events_emit(r->p->status_fd, buf, n);
}

static void emit_exited(int status_fd, const struct events_exited *ev)
{
	char line[EVENTS_LINE_MAX];
	int n = events_format_exited(line, sizeof(line), ev);

	if (n > 0)
		events_emit(status_fd, line, n);
}

void run_report_setup_error(int status_fd, unsigned boot, int status, const struct fw_error *e)
{
	char line[1024];

	fwrun_format_error(line, sizeof(line), e);
	emit_exited(status_fd, &(struct events_exited){
		.run = boot, .status = status, .reason = EVENTS_SETUP_ERROR, .error = line,
	});
}

/* The namespaces' side of the flow: the modules are wired in here, so ns.c
 * stays a mechanism that knows none of them. */
static int container_hook(enum fw_step step, void *data, struct fw_error *e)
{
	struct run *r = data;

	switch (step) {
	case STEP_PRE_PIVOT:
		return aa_apply_onexec(&r->aa, e);
	default:
		return 0;
	}
}

/* ---- run_start() ---- */

/* Load fwrun's profile when the kernel does not hold it yet (or check
 * --profile is loaded), cut our bounding set; say what was decided. */
static int prepare_protection(struct run *r)
{
	char line[1024];

	if (aa_prepare(&r->aa, &aa_env_system, &r->e) < 0)
		return -1;
	/* Our own bounding set, which the setup thread and pid 1 inherit:
	 * cut here, before the setup thread starts, it costs the thread's
	 * critical path nothing. It changes nothing for us: fwrun executes
	 * nothing after the profile's parser above. */
	if (caps_apply_drop(r->p->cap_drop, &r->e) < 0)
		return -1;
	if (r->p->verbosity >= FWRUN_VERBOSE) {
		aa_describe(&r->aa, line, sizeof(line));
		fprintf(stderr, "fwrun: apparmor: %s\n", line);
		caps_format(r->p->cap_drop, line, sizeof(line));
		fprintf(stderr, "fwrun: capabilities cut from the bounding set: %s\n", line);
	}
	return 0;
}

/* The setup thread's chore once the init runs: the overlay scratch that
 * state_lock() moved aside, removed off the init's way. */
static void drop_old_workdirs(void *arg)
{
	const struct run *r = arg;

	state_drop_old_workdirs(&r->p->state);
}

/* Everything before the first boot: every refusal comes before anything
 * the run would have to undo on the host. */
static int run_start(struct run *r)
{
	const struct fwrun_plan *p = r->p;

	/* The runtime dirs first (the network's records live there), then
	 * the network. */
	if (rundir_ensure(&r->e) < 0 || net_validate(&r->net, &r->e) < 0)
		return -1;
	if (p->status_fd >= 0 && events_open(p->status_fd, &r->e) < 0)
		return -1;
	if (ns_become_subreaper(&r->e) < 0 || prepare_protection(r) < 0)
		return -1;
	if (p->console_log && console_open_log(&r->con, p->console_log, &r->e) < 0)
		return -1;
	if (p->until_src) {
		console_set_until(&r->con, p->until, p->until_src);
		r->con.matched = emit_matched;
		r->con.matched_data = r;
	}
	r->nsp = (struct ns_plan){
		.rootfs_path = p->rootfs,
		.rootfs_fd = r->rootfs_fd,
		.rootfs = p->rootfs_info,
		.upper = p->ephemeral ? NULL : p->state.upper,
		.work = p->ephemeral ? NULL : p->state.work,
		.hostname = p->hostname,
		.argv = p->argv,
		.envp = (char *const *)p->envp,
		.console_fd = -1,	/* the ptys: open_console() */
		.binds = p->binds,
		.nbinds = p->nbinds,
		.report_steps = p->verbosity >= FWRUN_VERBOSE,
		.cgroup = &r->cg.join,
		.devices = r->cg.opts.devices,
		.ndevices = r->cg.opts.ndevices,
		.seccomp = p->seccomp ? &sysfilter_builtin : NULL,
		.compat = &r->compat,
		.hook = container_hook,
		.hook_data = r,
		.parked = p->ephemeral ? NULL : drop_old_workdirs,
		.parked_arg = r,
	};
	return 0;
}

/* ---- run_boot() ---- */

/* The state dir on disk: made, locked, the kernel's work/work moved aside.
 * Run while the setup thread makes its namespaces and mounts the rootfs:
 * it needs the upper dir only for the overlay. */
static int prepare_state(struct run *r)
{
	const struct fwrun_plan *p = r->p;
	bool earlier_boot;
	int rc;

	if (p->ephemeral)
		return 0;
	rc = state_prepare(&p->state, &r->e);
	if (rc < 0)
		return rc;
	r->lock_fd = state_lock(&p->state, &earlier_boot, &r->e);
	if (r->lock_fd < 0)
		return r->lock_fd;
	if (p->reset && (rc = state_reset(&p->state, &r->e)) < 0)
		return rc;
	if (earlier_boot && !p->reset && p->verbosity > FWRUN_QUIET)
		fprintf(stderr, "fwrun: the last run on %s was in an earlier boot of this host, "
			"and its writes are not synced at its end: if the host crashed soon "
			"after, some may be missing (--reset starts over)\n", p->state.dir);
	char last[PATH_MAX];
	enum state_rootfs_seen seen = state_record_rootfs(&p->state, p->rootfs, last, sizeof(last));
	if (!p->reset && p->verbosity > FWRUN_QUIET && seen == STATE_ROOTFS_OTHER_PATH)
		fprintf(stderr, "fwrun: instance %s last ran %s: its upper dir now lies over %s "
			"(--reset starts over, or give another --name)\n", p->name, last, p->rootfs);
	else if (!p->reset && p->verbosity > FWRUN_QUIET && seen == STATE_ROOTFS_CHANGED)
		fprintf(stderr, "fwrun: %s changed since instance %s last ran it: its upper dir "
			"now lies over another image (--reset starts over, or give another "
			"--name)\n", p->rootfs, p->name);
	return 0;
}

/* The console's ptys (kept across reboots) for pid 1's stdio and the
 * firmware's /dev/console and /dev/kmsg, which the setup thread binds
 * only after our go-ahead for the overlay: opened meanwhile, not before
 * it starts. */
static int open_console(struct run *r)
{
	if (console_open(&r->con, r->p->console, &r->e) < 0)
		return -1;
	r->nsp.console_fd = r->con.slave;
	r->nsp.console_path = r->con.master >= 0 ? r->con.slave_path : NULL;
	r->nsp.kmsg_path = r->con.kmsg_master >= 0 ? r->con.kmsg_path : NULL;
	return 0;
}

/* What the supervisor does while the setup thread unshares and mounts: the
 * name's lock, the cgroup, the taps and the --veth subnet, the state dir
 * (on a restart, only the overlay's marker from the last boot), which the
 * thread's overlay waits for; then, while it mounts the overlay, the
 * console, which its /dev waits for. A refusal here ends the thread, which
 * has touched nothing outside its own namespaces (the overlay's marker in
 * the work dir: cleared by the next run). */
static int supervisor_share(struct run *r)
{
	const struct fwrun_plan *p = r->p;

	if (r->boot == 1) {
		if ((r->name_lock_fd = instance_lock(p->name, &r->e)) < 0)
			return -1;
		/* With the name's lock held, a record of it is a killed run's. */
		instance_record_remove(p->name);
		/* The cgroup under the name's lock (a killed run's is removed),
		 * made by a thread of its own while the rest goes on; kept
		 * across reboots (one account for the run). */
		if (cg_create_start(&r->cg, &r->e) < 0)
			return -1;
	}
	if (net_prepare(&r->net, &r->e) < 0)
		return -1;
	if (r->boot > 1 ? !p->ephemeral && state_clear_workdir(&p->state, &r->e) < 0 :
			  prepare_state(r) < 0)
		return -1;
	ns_upper_ready(&r->ns);
	/* The ptys are kept across reboots. */
	return r->boot == 1 ? open_console(r) : 0;
}

static int init_failed_status(const struct fw_error *e)
{
	if (e->step != STEP_EXEC)
		return FWRUN_EXIT_FAILURE;
	return e->err == ENOENT || e->err == ENOTDIR || e->err == ELOOP ?
	       FWRUN_EXIT_NOTFOUND : FWRUN_EXIT_NOEXEC;
}

/* -v: what INIT is, the stop signal it gets, the emulator that runs it. */
static void describe_init(const struct run *r)
{
	const struct initcompat_exe *x = &r->compat.exe;
	const char *arch = initcompat_arch_name(x->machine, x->elf_class, x->big_endian);
	int n = r->life.stop_signal;
	char sig[32];

	if (sigabbrev_np(n))
		snprintf(sig, sizeof(sig), "SIG%s", sigabbrev_np(n));
	else
		snprintf(sig, sizeof(sig), "SIGRTMIN+%d", n - SIGRTMIN);
	fprintf(stderr, "fwrun: init: %s%s%s (%s%s%s), stop signal %s\n",
		x->resolved[0] ? x->resolved : r->p->argv[0],
		x->interp[0] ? " via " : "", x->interp, initcompat_kind_name(r->compat.kind),
		arch ? ", " : "", arch ? arch : "", sig);
	if (r->emulator[0])
		fprintf(stderr, "fwrun: emulator: %s (binfmt_misc)\n", r->emulator);
}

/* Once INIT runs: the binfmt_misc handler that runs a foreign one, and the
 * stop signal of the init the setup thread found. */
static void init_known(struct run *r)
{
	const struct initcompat_exe *x = &r->compat.exe;

	r->emulator[0] = '\0';
	if (x->machine && x->machine != initcompat_host_machine() &&
	    !initcompat_find_emulator(x->hdr, x->hdr_len, r->emulator, sizeof(r->emulator)))
		fw_strlcpy(r->emulator, "?", sizeof(r->emulator));
	if (!r->p->stop_signal_given)	/* the init's own way to power off */
		r->life.stop_signal = initcompat_stop_signal(r->compat.kind);
}

/* Things said once, when the first init runs (a failure before says only
 * what failed). */
static int first_boot_started(struct run *r)
{
	const struct fwrun_plan *p = r->p;

	if (p->verbosity >= FWRUN_VERBOSE) {
		describe_init(r);
		print_steps(&r->ns);
		print_duration("network inside (supervisor, meanwhile)", r->net.inside_ns);
		print_duration("cgroup (supervisor, meanwhile)", r->cg.create_ns);
	}
	if (p->aa_notice)
		fprintf(stderr, "fwrun: %s\n", AA_NOTICE_UNAVAILABLE);
	if (r->con.how.raw && console_unraw_left() && p->verbosity > FWRUN_QUIET)
		fprintf(stderr, "fwrun: the terminal was left in raw mode (by a killed "
			"fwrun?): it is given back in a sane mode at exit\n");
	return console_raw(&r->con, &r->e);
}

/* write_record()'s, given back with the rest of the setup's memory */
static struct instance_record record_scratch FW_SCRATCH;

/* The record of this running instance for --list, --enter, --stop
 * (instances.h), written again at each boot: the init's pid changes.
 * Best effort: without it the firmware runs, only not listed. */
static void write_record(struct run *r)
{
	struct instance_record *rec = &record_scratch;
	const struct fwrun_plan *p = r->p;
	const struct net_state *n = &r->net;
	struct fw_error e = { 0 };

	memset(rec, 0, sizeof(*rec));
	fw_strlcpy(rec->name, p->name, sizeof(rec->name));
	rec->supervisor_pid = getpid();
	rec->init_pid = r->ns.init_pid;
	if (instance_pid_start(rec->supervisor_pid, &rec->supervisor_start) < 0 ||
	    instance_pid_start(rec->init_pid, &rec->init_start) < 0)
		return;
	if (!realpath(p->rootfs, rec->rootfs))
		fw_strlcpy(rec->rootfs, p->rootfs, sizeof(rec->rootfs));
	rec->ephemeral = p->ephemeral;
	if (!p->ephemeral)
		fw_strlcpy(rec->state_dir, p->state.dir, sizeof(rec->state_dir));
	fw_strlcpy(rec->console, !p->console.pty ? "pipe" : p->console.input ? "pty" : "read-only",
		   sizeof(rec->console));
	rec->started = (int64_t)time(NULL);
	for (size_t i = 0; i < n->spec.ntaps && rec->nnet < INSTANCE_NET_MAX; i++) {
		struct instance_net *t = &rec->net[rec->nnet++];
		fw_strlcpy(t->kind, "tap", sizeof(t->kind));
		fw_strlcpy(t->host, n->spec.taps[i].ifname, sizeof(t->host));
		fw_strlcpy(t->inner, n->spec.taps[i].inner, sizeof(t->inner));
		if (n->spec.taps[i].addr.family)
			net_format_cidr(&n->spec.taps[i].addr, t->addr, sizeof(t->addr));
	}
	if (n->spec.veth && rec->nnet < INSTANCE_NET_MAX) {
		struct instance_net *v = &rec->net[rec->nnet++];
		fw_strlcpy(v->kind, "veth", sizeof(v->kind));
		fw_strlcpy(v->host, n->veth_host_name, sizeof(v->host));
		fw_strlcpy(v->inner, NET_VETH_INNER, sizeof(v->inner));
		net_format_cidr(&n->veth_fw, v->addr, sizeof(v->addr));
		net_format_cidr(&n->veth_host, v->gateway, sizeof(v->gateway));
	}
	int w = instance_record_write(rec, &e);
	if (w < 0) {
		if (p->verbosity > FWRUN_QUIET)
			fwrun_print_error(&e);
		return;
	}
	r->recorded = true;
}

/* What the setup left touched and no longer needs, given back once the
 * firmware has run FW_GIVE_BACK_AFTER_MS (an idle instance then costs the
 * host some 400 KiB less: bench/swarm): the stack below this frame (the
 * probe's facts, the mountinfo parse, netlink buffers), pid 1's vfork
 * stack, the record's scratch, the heap's free pages. Called from the
 * supervisor's loop, deeper than any frame the setup used. */
static void release_setup_memory(void *unused)
{
	(void)unused;
	fw_discard_stack_below(__builtin_frame_address(0));
	ns_discard_init_stack();
	fw_discard(&record_scratch, sizeof(record_scratch));
	malloc_trim(0);
}

/* After the supervisor's SIGKILL: what the firmware froze in a v1
 * freezer would not die of it. */
static void thaw_after_kill(void *cg)
{
	cg_thaw(cg);
}

/* One boot: the setup thread and, meanwhile, the supervisor's share; the
 * network once the namespaces exist; pid 1; its supervision until it ends.
 * Returns 0 (r->res says how it ended), or -1 with *status the failure's. */
static int run_boot(struct run *r, int *status)
{
	const struct supervise_hooks hooks = {
		.after_kill = thaw_after_kill, .arg = &r->cg,
		.settled = release_setup_memory, .settle_ms = FW_GIVE_BACK_AFTER_MS,
	};

	r->boot++;
	if (ns_spawn(&r->ns, &r->nsp, &r->e) < 0 || supervisor_share(r) < 0)
		return -1;
	/* The network while it goes on: it starts pid 1 only after
	 * ns_start_init()'s word. */
	if (ns_ready(&r->ns, &r->e) < 0 ||
	    net_move_in(&r->net, r->ns.netns_fd, &r->e) < 0 ||
	    net_inside(&r->net, r->ns.netns_fd, &r->e) < 0 ||
	    cg_create_wait(&r->cg, &r->e) < 0)
		return -1;
	if (ns_start_init(&r->ns, &r->e) < 0) {
		*status = init_failed_status(&r->e);
		return -1;
	}
	if (!r->t0)
		r->t0 = fw_now_ns();
	init_known(r);
	emit_started(r);
	write_record(r);
	if (r->boot == 1 && first_boot_started(r) < 0)
		return -1;
	if (supervise_run(r->ns.init_pid, &r->life, &r->con, &hooks, r->t0, &r->res, &r->e) < 0)
		return -1;
	r->ns.init_pid = -1;	/* reaped */
	return 0;
}

/* Whether the boot that ended asks for another. A reboot while fwrun was
 * stopping it (a signal, the timeout) is the end asked for, not a restart. */
static bool wants_restart(const struct run *r)
{
	return r->res.reason == EVENTS_REBOOT && r->p->restart_on_reboot &&
	       !r->res.timer.stopping;
}

/* Between two boots: the old namespaces go, the interfaces come back from
 * them and are checked again for the next ones. Same upper dir, same pty. */
static int run_between_boots(struct run *r)
{
	char line[EVENTS_LINE_MAX];
	int n = events_format_restarting(line, sizeof(line), r->boot, r->res.reason);

	if (n > 0)
		events_emit(r->p->status_fd, line, n);
	if (r->p->verbosity >= FWRUN_NORMAL)
		say(r, "firmware rebooted: starting it again");
	ns_abort(&r->ns);
	if (net_restore(&r->net, r->ns.netns_fd, &r->e) < 0)
		return -1;
	if (r->ns.netns_fd >= 0)
		close(r->ns.netns_fd);
	ns_instance_init(&r->ns);
	return net_validate(&r->net, &r->e);
}

/* ---- run_stop() ---- */

/* The whole firmware's peak memory and CPU time, from its cgroup, for the
 * exited event and -v; an OOM kill is said even without -v. */
static void report_usage(const struct run *r, struct events_exited *ev)
{
	struct cg_stats st;

	cg_stats(&r->cg, &st);
	ev->has_memory_peak = st.has_memory_peak;
	ev->memory_peak = st.memory_peak;
	ev->has_cpu = st.has_cpu;
	ev->cpu_usec = st.cpu_ns / 1000;
	ev->has_oom = st.has_oom;
	ev->oom_kills = st.oom_kills;
	if (st.oom_kills && r->p->verbosity > FWRUN_QUIET)
		fprintf(stderr, "fwrun: the firmware ran out of memory: the OOM killer killed "
			"%" PRIu64 " of its processes%s\n", st.oom_kills,
			ev->reason == EVENTS_SIGNAL && WTERMSIG(ev->wstatus) == SIGKILL ?
			", its init among them" : "");
	if (r->p->verbosity >= FWRUN_VERBOSE && (st.has_memory_peak || st.has_cpu))
		fprintf(stderr, "fwrun: firmware used %.1f MiB of memory at most, %.3f s of CPU\n",
			(double)st.memory_peak / (1024.0 * 1024), (double)st.cpu_ns / 1e9);
}

/* The last word: how the init ended, or what failed. */
static void say_end(struct run *r, bool failed, int status)
{
	console_close(&r->con);	/* the terminal is cooked again from here */
	if (failed) {
		if (r->p->verbosity >= FWRUN_VERBOSE && r->ns.step_ns[STEP_NONE])
			print_steps(&r->ns);
		fwrun_print_error(&r->e);
		run_report_setup_error(r->p->status_fd, r->boot, status, &r->e);
		return;
	}
	char msg[256];
	/* A timeout is a failure (124): said even with -q. */
	if (supervise_describe(&r->res, msg, sizeof(msg)) > 0 &&
	    (r->p->verbosity >= FWRUN_NORMAL || r->res.reason == EVENTS_TIMEOUT))
		say(r, msg);
	if (r->p->until_src && r->res.reason != EVENTS_MATCHED &&
	    r->res.reason != EVENTS_TIMEOUT && r->p->verbosity >= FWRUN_NORMAL)
		say(r, "no console line matched --until");
	struct events_exited ev = {
		.run = r->boot, .status = status, .reason = r->res.reason,
		.wstatus = r->res.wstatus,
	};
	report_usage(r, &ev);
	emit_exited(r->p->status_fd, &ev);
}

/* Undo what was done, in reverse; safe after any step failed. Returns the
 * status, made a failure if a borrowed interface could not come back. */
static int run_stop(struct run *r, int status)
{
	struct fw_error ne = { 0 };

	/* First: from here on, --list no longer shows a firmware that is
	 * going away, and --stop waits for our end. */
	if (r->recorded)
		instance_record_remove(r->p->name);
	console_close(&r->con);
	if (r->ns.init_pid > 0) {	/* still there: a failure stops the run */
		kill(r->ns.init_pid, SIGKILL);
		cg_thaw(&r->cg);
	}
	ns_abort(&r->ns);
	/* The init is reaped: its cgroup empties as its namespace dies. */
	if (cg_remove(&r->cg, &ne) < 0) {
		fwrun_print_error(&ne);
		if (status == 0)
			status = FWRUN_EXIT_FAILURE;
	}
	/* Interfaces back before the namespace goes: its fd keeps it alive. */
	ne = (struct fw_error){ 0 };
	if (net_restore(&r->net, r->ns.netns_fd, &ne) < 0) {
		fwrun_print_error(&ne);
		if (status == 0)
			status = FWRUN_EXIT_FAILURE;
	}
	if (r->p->verbosity >= FWRUN_VERBOSE && !net_spec_empty(&r->p->net)) {
		print_duration("network move in (supervisor)", r->net.move_ns);
		print_duration("network give back (supervisor)", r->net.restore_ns);
	}
	if (r->ns.netns_fd >= 0)
		close(r->ns.netns_fd);
	if (r->rootfs_fd >= 0)
		close(r->rootfs_fd);
	if (r->lock_fd >= 0) {
		/* A run that failed before its init ran leaves none either. */
		state_drop_old_workdirs(&r->p->state);
		close(r->lock_fd);
	}
	instance_unlock(r->p->name, r->name_lock_fd);
	return status;
}

int run_plan(const struct fwrun_plan *p, int rootfs_fd)
{
	/* Not on the stack: zeroing it there would fault in pages, mostly
	 * never used, that every fork then shares copy-on-write. Zero in
	 * .bss, it costs only the pages written. Once per process. */
	static struct run run;
	struct run *r = &run;
	int status = FWRUN_EXIT_FAILURE;

	r->p = p;
	r->rootfs_fd = rootfs_fd;
	r->lock_fd = r->name_lock_fd = -1;
	r->aa = p->aa;
	net_state_init(&r->net, &p->net, p->name);
	r->cg = p->cgroup;
	r->compat = p->compat;
	r->life = p->life;
	console_init(&r->con);
	ns_instance_init(&r->ns);

	bool failed = run_start(r) < 0;
	while (!failed) {
		failed = run_boot(r, &status) < 0;
		if (failed || !wants_restart(r))
			break;
		failed = run_between_boots(r) < 0;
	}
	if (!failed)
		status = r->res.status;
	say_end(r, failed, status);
	return run_stop(r, status);
}
