/* SPDX-License-Identifier: MIT */
/* The run as data: see plan.h. */
#include "plan.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "events.h"

/* Where each --bind's SRC lies: the planner refuses SRC under the state
 * dir, inside a --rootfs directory or under /run/fwrun (where the image is
 * mounted, in the setup thread's namespace). */
static void probe_binds(const struct fwrun_opts *o, struct fwrun_facts *f)
{
	char real[PATH_MAX], src[PATH_MAX];
	struct state_paths *st = o->ephemeral ? NULL : malloc(sizeof(*st));

	if (st && state_paths(st, o->state_dir, o->name) < 0) {
		free(st);
		st = NULL;
	}
	for (size_t i = 0; i < o->nbinds; i++) {
		const struct fwrun_bind *b = &o->binds[i];
		snprintf(src, sizeof(src), "%.*s", (int)b->src_len, b->spec);
		if (!realpath(src, real)) {
			f->bind[i] = BIND_MISSING;
			f->bind_err[i] = errno;
		} else if (st && state_path_within(real, st->dir)) {
			f->bind[i] = BIND_IN_STATE;
		} else if (f->rootfs.kind == ROOTFS_DIR && state_path_within(real, o->rootfs)) {
			f->bind[i] = BIND_IN_ROOTFS;
		} else if (state_path_within(real, FWRUN_RUN_DIR)) {
			f->bind[i] = BIND_IN_RUNDIR;
		}
	}
	free(st);
}

int plan_probe(const struct fwrun_opts *o, struct fwrun_facts *f, struct fw_error *e)
{
	struct state_paths *st;
	int fd;

	memset(f, 0, sizeof(*f));
	fd = rootfs_probe(o->rootfs, &f->rootfs, e);
	if (fd < 0)
		return fd;
	f->aa_kernel_enabled = aa_kernel_enabled(&aa_env_system);
	f->cap_last = caps_last_cap();
	f->stdin_tty = isatty(STDIN_FILENO);
	initcompat_plan(&f->compat, o->init_argv[0]);
	/* A dry run mounts no image, but a directory's INIT can be read. */
	if (o->dry_run && f->rootfs.kind == ROOTFS_DIR &&
	    initcompat_inspect_tree(&f->init, o->rootfs, o->init_argv[0]) == 0 && f->init.exe.read) {
		const struct initcompat_exe *x = &f->init.exe;
		f->init_inspected = true;
		if (x->machine && x->machine != initcompat_host_machine())
			initcompat_find_emulator(x->hdr, x->hdr_len, f->emulator, sizeof(f->emulator));
	}
	probe_binds(o, f);
	if (cg_plan_host(&f->cgroup, &o->cgroup, o->name, e) < 0) {
		close(fd);
		return -1;
	}
	/* The firmware tree never changes: not even by our own state. */
	if (!o->ephemeral && f->rootfs.kind == ROOTFS_DIR && (st = malloc(sizeof(*st)))) {
		if (state_paths(st, o->state_dir, o->name) == 0)
			f->state_in_rootfs = state_path_within(st->dir, o->rootfs);
		free(st);
	}
	return fd;
}

static int plan_binds(struct fwrun_plan *p, const struct fwrun_opts *o,
		      const struct fwrun_facts *f, struct fw_error *e)
{
	static const char *const why[] = {
		[BIND_IN_STATE] = "it lies under the state dir, which only the overlay may use",
		[BIND_IN_ROOTFS] = "it lies inside the --rootfs directory, which must not change",
		[BIND_IN_RUNDIR] = "it lies under /run/fwrun, fwrun's own",
	};

	if (!o->nbinds)
		return 0;
	p->binds = calloc(o->nbinds, sizeof(*p->binds));
	if (!p->binds)
		return fw_fail(e, ENOMEM, "plan", "--bind");
	for (size_t i = 0; i < o->nbinds; i++) {
		const struct fwrun_bind *b = &o->binds[i];
		char *src = strndup(b->spec, b->src_len);
		if (!src)
			return fw_fail(e, ENOMEM, "plan", "--bind");
		p->binds[p->nbinds++] = (struct ns_bind){ .src = src, .dst = b->dst, .ro = b->ro };
		if (f->bind[i] == BIND_MISSING)
			return fw_fail(e, f->bind_err[i], "bind", src);
		if (f->bind[i] != BIND_OK) {
			fw_fail_hint(e, EINVAL, "bind", src, why[f->bind[i]]);
			e->err = 0;
			return -EINVAL;
		}
	}
	return 0;
}

/* --dry-run: INIT's kind and machine, as read from a directory rootfs. */
static void describe_arch(const struct fwrun_plan *p, const struct fwrun_facts *fa, char *buf,
			  size_t size)
{
	const struct initcompat_exe *x = &fa->init.exe;

	if (p->rootfs_info.kind != ROOTFS_DIR) {
		snprintf(buf, size, "read when INIT starts (a dry run mounts no image)");
		return;
	}
	if (!fa->init_inspected) {
		snprintf(buf, size, "INIT not readable in %s%s%s", p->rootfs,
			 x->notfound_hint[0] ? ": " : "", x->notfound_hint);
		return;
	}
	const char *arch = initcompat_arch_name(x->machine, x->elf_class, x->big_endian);
	bool foreign = x->machine && x->machine != initcompat_host_machine();
	snprintf(buf, size, "%s (%s%s%s)%s%s",
		 arch ? arch : x->machine ? "unknown machine" : "not ELF",
		 initcompat_kind_name(fa->init.kind), x->interp[0] ? ", via " : "", x->interp,
		 !foreign ? "" : fa->emulator[0] ? ", emulated by " :
		 ", no emulator: it will not run", fa->emulator);
}

int plan_build(struct fwrun_plan *p, const struct fwrun_opts *o, const struct fwrun_facts *f,
	       struct fw_error *e)
{
	int r;

	memset(p, 0, offsetof(struct fwrun_plan, state));
	p->rootfs = o->rootfs;
	p->rootfs_info = f->rootfs;
	p->name = o->name;
	p->hostname = o->hostname ? o->hostname : o->name;
	p->ephemeral = o->ephemeral;
	p->reset = o->reset;
	p->cap_drop = caps_resolve(&o->caps, caps_all_mask(f->cap_last));
	r = aa_decide(&p->aa, o->apparmor, o->aa_profile, f->aa_kernel_enabled, e);
	if (r < 0)
		return r;
	p->aa_notice = !p->aa.confine && o->apparmor == AA_MODE_AUTO &&
		       o->verbosity > FWRUN_QUIET;
	p->seccomp = !o->no_seccomp;

	if (!p->ephemeral) {
		r = state_paths(&p->state, o->state_dir, o->name);
		if (r < 0)
			return fw_fail(e, r, "state directory for",
				       o->state_dir ? o->state_dir : o->name);
		if (f->state_in_rootfs)
			return fw_fail_hint(e, EINVAL, "use state directory", p->state.dir,
					    "it lies inside the --rootfs directory, which must not change");
	}

	p->net = o->net;
	if ((r = plan_binds(p, o, f, e)) < 0)
		return r;

	p->console = console_decide(o->console, f->stdin_tty);
	p->console_mode = o->console == CONSOLE_AUTO ?
			  (f->stdin_tty ? CONSOLE_PTY : CONSOLE_READONLY) : o->console;
	p->console_log = o->console_log;
	if (o->until) {
		/* fwrun_parse() compiled it once already: only ENOMEM is left */
		p->until = malloc(sizeof(*p->until));
		if (!p->until || regcomp(p->until, o->until, REG_EXTENDED | REG_NOSUB)) {
			free(p->until);
			p->until = NULL;
			return fw_fail(e, ENOMEM, "compile --until", o->until);
		}
		p->until_src = o->until;
	}
	p->argv = console_init_argv(o->init_argv, FWRUN_DEFAULT_INIT, p->console.pty);
	if (!p->argv)
		return fw_fail(e, ENOMEM, "build the argv of", o->init_argv[0]);
	/* systemd's container interface: container_uuid, unless --setenv
	 * gives one (then that one, also for /run/host). */
	p->compat = f->compat;
	char arch[2 * PATH_MAX + 256];
	describe_arch(p, f, arch, sizeof(arch));
	if (!(p->arch = strdup(arch)))
		return fw_fail(e, ENOMEM, "plan", "INIT's architecture");
	size_t nenv = fwrun_init_env(o, p->envp);
	bool uuid_given = false;
	for (size_t i = 0; i < nenv; i++)
		if (!strncmp(p->envp[i], "container_uuid=", 15)) {
			uuid_given = true;
			fw_strlcpy(p->compat.uuid, p->envp[i] + 15, sizeof(p->compat.uuid));
		}
	if (!uuid_given) {
		snprintf(p->uuid_env, sizeof(p->uuid_env), "container_uuid=%s", p->compat.uuid);
		p->envp[nenv++] = p->uuid_env;
		p->envp[nenv] = NULL;
	}

	p->life = o->life;
	p->stop_signal_given = o->stop_signal_given;
	if (!o->stop_signal_given)	/* the init's own way to power off */
		p->life.stop_signal = initcompat_stop_signal(p->compat.kind);
	p->restart_on_reboot = o->restart_on_reboot;
	p->status_fd = o->status_fd;
	p->verbosity = o->verbosity;
	/* Last, with nothing left to fail: the host's cgroup paths become the
	 * plan's (plan_free), the facts' until then. */
	p->cgroup = f->cgroup;
	return 0;
}

void plan_free(struct fwrun_plan *p)
{
	free(p->argv);
	p->argv = NULL;
	if (p->until) {
		regfree(p->until);
		free(p->until);
	}
	p->until = NULL;
	p->until_src = NULL;
	for (size_t i = 0; i < p->nbinds; i++)
		free((char *)p->binds[i].src);
	free(p->binds);
	p->binds = NULL;
	p->nbinds = 0;
	cg_host_free(&p->cgroup.host);
	free(p->arch);
	p->arch = NULL;
}

/* ---- --dry-run as text ---- */

int plan_parse_format(const char *format, bool *json)
{
	*json = format && strcmp(format, "json") == 0;
	return !format || *json || strcmp(format, "text") == 0 ? 0 : -EINVAL;
}

static void print_net_text(FILE *f, const struct net_spec *n, const char *name)
{
	char a[64], h[64], vh[IFNAMSIZ];

	fprintf(f, "network:    own namespace, lo up\n");
	for (size_t i = 0; i < n->ntaps; i++) {
		const struct net_tap_spec *t = &n->taps[i];
		if (t->addr.family)
			net_format_cidr(&t->addr, a, sizeof(a));
		fprintf(f, "tap:        %s in as %s%s%s, up; given back at exit (a tap made if missing)\n",
			t->ifname, t->inner, t->addr.family ? " with " : "", t->addr.family ? a : "");
	}
	if (n->veth) {
		if (net_veth_host_name(name, vh) < 0)
			fw_strlcpy(vh, "?", sizeof(vh));
		if (n->veth_addr_given) {
			net_format_cidr(&n->veth_fw, a, sizeof(a));
			net_format_cidr(&n->veth_host, h, sizeof(h));
		} else {
			fw_strlcpy(a, "10.202.N.1/24", sizeof(a));
			fw_strlcpy(h, "10.202.N.254/24 (N picked at run time)", sizeof(h));
		}
		fprintf(f, "veth:       eth0 %s, default route via host end %s %s\n", a, vh, h);
	}
}

static const char *signal_name(int sig)
{
	const char *s = sigabbrev_np(sig);
	return s ? s : "?";
}

int plan_print_text(FILE *f, const struct fwrun_plan *p)
{
	char line[1024], k[32], t[32];

	fprintf(f, "rootfs:     %s (%s%s)\n", p->rootfs, rootfs_kind_name(p->rootfs_info.kind),
		p->rootfs_info.ext_needs_recovery ? ", dirty journal: not replayed" : "");
	if (p->rootfs_info.kind == ROOTFS_DIR)
		fprintf(f, "lower:      read-only bind mount\n");
	else
		fprintf(f, "lower:      loop device (read-only, autoclear, shared by the image's "
			"instances), mounted read-only%s\n",
			p->rootfs_info.ext_journal ? " with noload" : "");
	if (p->ephemeral)
		fprintf(f, "upper:      tmpfs (ephemeral)\n");
	else
		fprintf(f, "upper:      %s%s\nwork:       %s\nlock:       %s\n", p->state.upper,
			p->reset ? " (emptied first)" : "", p->state.work, p->state.lock);
	fprintf(f, "name:       %s\nhostname:   %s\n", p->name, p->hostname);
	fprintf(f, "namespaces: " PLAN_NS_NAMES " (+sysvsem), then pid last\n");
	print_net_text(f, &p->net, p->name);
	for (size_t i = 0; i < p->nbinds; i++)
		fprintf(f, "bind:       %s on %s, %s (made in the upper dir if missing)\n",
			p->binds[i].src, p->binds[i].dst, p->binds[i].ro ? "read-only" : "read-write");
	fprintf(f, "root:       pivot_root to the overlay (chroot where pivot_root cannot)\n");
	aa_describe(&p->aa, line, sizeof(line));
	fprintf(f, "apparmor:   %s\n", line);
	caps_format(p->cap_drop, line, sizeof(line));
	fprintf(f, "caps:       cut from the bounding set: %s\n", line);
	cg_describe(&p->cgroup, line, sizeof(line));
	fprintf(f, "cgroup:     %s\n", line);
	fprintf(f, "seccomp:    %s\n", p->seccomp ?
		"on: EPERM for kexec, modules, keyrings, clock setters... (fwrun(8))" : "off");

	fprintf(f, "init:      ");
	for (char **a = p->argv; *a; a++)
		fprintf(f, " %s", *a);
	fprintf(f, "\narch:       %s", p->arch ? p->arch : "?");
	fprintf(f, "\nenv:       ");
	for (const char *const *v = p->envp; *v; v++)
		fprintf(f, " %s", *v);
	fprintf(f, " (nothing of fwrun's own)\n");
	if (p->console.pty && p->console.input)
		fprintf(f, "console:    pty as /dev/console, relayed%s; Ctrl-] x3 in 1s kills\n",
			p->console.raw ? " (terminal in raw mode)" : " from stdin");
	else if (p->console.pty)
		fprintf(f, "console:    read-only: pty as /dev/console, its output copied to "
			"stdout, no input\n");
	else
		fprintf(f, "console:    none: the init inherits fwrun's stdin/stdout/stderr\n");
	fprintf(f, "kmsg:       /dev/kmsg a pty, its records on stdout as \"kmsg: \" lines\n");
	if (p->console_log)
		fprintf(f, "log:        console and kmsg lines appended to %s\n", p->console_log);
	if (p->until_src)
		fprintf(f, "until:      stop and exit 0 when a line matches /%s/\n", p->until_src);
	supervise_format_duration(k, sizeof(k), p->life.kill_after_ms);
	supervise_format_duration(t, sizeof(t), p->life.timeout_ms);
	fprintf(f, "stop:       SIG%s on SIGINT/SIGTERM/SIGHUP%s%s, SIGKILL %s later%s\n",
		signal_name(p->life.stop_signal), p->life.timeout_ms ? " or after " : "",
		p->life.timeout_ms ? t : "", k, p->restart_on_reboot ? "; restart on reboot" : "");
	return ferror(f) ? -EIO : 0;
}

/* ---- --dry-run=json ---- */

/* A JSON string, escaped, or null. */
static void json_val(FILE *f, const char *value)
{
	char buf[PATH_MAX * 2];

	if (!value) {
		fputs("null", f);
		return;
	}
	events_json_escape(buf, sizeof(buf), value);
	fprintf(f, "\"%s\"", buf);
}

/* sep"key":"value": sep is what comes before the key ("{", ","...). */
static void json_str(FILE *f, const char *sep, const char *key, const char *value)
{
	fprintf(f, "%s\"%s\":", sep, key);
	json_val(f, value);
}

static void json_bool(FILE *f, const char *key, bool v)
{
	fprintf(f, ",\"%s\":%s", key, v ? "true" : "false");
}

static void json_cidr(FILE *f, const char *key, const struct net_addr *a)
{
	char buf[64];

	json_str(f, ",", key, a->family && net_format_cidr(a, buf, sizeof(buf)) >= 0 ? buf : NULL);
}

/* sep"key":["a","b"] */
static void json_strv(FILE *f, const char *sep, const char *key, const char *const *v)
{
	fprintf(f, "%s\"%s\":[", sep, key);
	for (size_t i = 0; v[i]; i++) {
		if (i)
			fputc(',', f);
		json_val(f, v[i]);
	}
	fputc(']', f);
}

static void json_net(FILE *f, const struct net_spec *n, const char *name)
{
	char vh[IFNAMSIZ];

	fprintf(f, ",\"network\":{\"taps\":[");
	for (size_t i = 0; i < n->ntaps; i++) {
		const struct net_tap_spec *t = &n->taps[i];
		json_str(f, i ? ",{" : "{", "host", t->ifname);
		json_str(f, ",", "inner", t->inner);
		json_cidr(f, "addr", &t->addr);
		fputc('}', f);
	}
	fputc(']', f);
	json_bool(f, "force_default_route", n->force_default_route);
	if (!n->veth) {
		fprintf(f, ",\"veth\":null}");
		return;
	}
	json_str(f, ",\"veth\":{", "host_end", net_veth_host_name(name, vh) < 0 ? NULL : vh);
	json_str(f, ",", "inner", NET_VETH_INNER);
	if (n->veth_addr_given) {
		json_cidr(f, "addr", &n->veth_fw);
		json_cidr(f, "gateway", &n->veth_host);
	} else {
		json_str(f, ",", "addr", NULL);
		json_str(f, ",", "gateway", NULL);
	}
	fprintf(f, "}}");
}

/* A limit, or null when there is none. */
static void json_limit(FILE *f, const char *key, uint64_t v)
{
	if (v)
		fprintf(f, ",\"%s\":%llu", key, (unsigned long long)v);
	else
		fprintf(f, ",\"%s\":null", key);
}

static void json_cgroup(FILE *f, const struct cg_instance *cg)
{
	char line[1024];

	cg_describe(cg, line, sizeof(line));
	json_str(f, ",\"cgroup\":{", "summary", line);
	json_limit(f, "memory_max", cg->opts.memory_max);
	json_limit(f, "pids_max", cg->opts.pids_max);
	json_limit(f, "cpu_quota_us", cg->opts.cpu_quota_us);
	fprintf(f, ",\"devices\":[");
	for (size_t i = 0; i < cg->opts.ndevices; i++) {
		const struct cg_device *d = &cg->opts.devices[i];
		json_str(f, i ? ",{" : "{", "path", d->path);
		snprintf(line, sizeof(line), "%s%s%s", d->access & CG_ACC_READ ? "r" : "",
			 d->access & CG_ACC_WRITE ? "w" : "", d->access & CG_ACC_MKNOD ? "m" : "");
		json_str(f, ",", "access", line);
		fputc('}', f);
	}
	fprintf(f, "]}");
}

int plan_print_json(FILE *f, const struct fwrun_plan *p)
{
	char line[1024];
	const char *lower = p->rootfs_info.kind == ROOTFS_DIR ? "bind" : "loop";

	json_str(f, "{", "name", p->name);
	json_str(f, ",", "hostname", p->hostname);
	json_str(f, ",\"rootfs\":{", "path", p->rootfs);
	json_str(f, ",", "kind", rootfs_kind_name(p->rootfs_info.kind));
	json_str(f, ",", "lower", lower);
	json_bool(f, "journal_noload", p->rootfs_info.ext_journal);
	json_bool(f, "dirty_journal", p->rootfs_info.ext_needs_recovery);
	fputc('}', f);
	json_bool(f, "ephemeral", p->ephemeral);
	if (p->ephemeral) {
		fprintf(f, ",\"state\":null");
	} else {
		json_str(f, ",\"state\":{", "dir", p->state.dir);
		json_str(f, ",", "upper", p->state.upper);
		json_str(f, ",", "work", p->state.work);
		json_str(f, ",", "lock", p->state.lock);
		json_bool(f, "reset", p->reset);
		fputc('}', f);
	}
	fprintf(f, ",\"namespaces\":[\"mnt\",\"uts\",\"ipc\",\"net\",\"pid\"]");
	json_net(f, &p->net, p->name);
	fprintf(f, ",\"binds\":[");
	for (size_t i = 0; i < p->nbinds; i++) {
		json_str(f, i ? ",{" : "{", "src", p->binds[i].src);
		json_str(f, ",", "dst", p->binds[i].dst);
		json_bool(f, "read_only", p->binds[i].ro);
		fputc('}', f);
	}
	fputc(']', f);
	json_str(f, ",\"apparmor\":{", "mode", aa_mode_name(p->aa.mode));
	json_bool(f, "kernel_enabled", p->aa.kernel_enabled);
	json_bool(f, "confine", p->aa.confine);
	json_str(f, ",", "profile", p->aa.confine ? p->aa.label : NULL);
	fputc('}', f);
	fprintf(f, ",\"caps_drop\":[");
	for (int c = 0, n = 0; c < 64; c++) {
		if (!(p->cap_drop & CAPS_BIT(c)))
			continue;
		char num[16];
		snprintf(num, sizeof(num), "cap_%d", c);
		fputs(n++ ? "," : "", f);
		json_val(f, caps_name(c) ? caps_name(c) : num);
	}
	fputc(']', f);
	json_cgroup(f, &p->cgroup);
	json_bool(f, "seccomp", p->seccomp);
	json_strv(f, ",\"init\":{", "argv", (const char *const *)p->argv);
	json_strv(f, ",", "env", p->envp);
	json_str(f, ",", "kind", initcompat_kind_name(p->compat.kind));
	json_str(f, ",", "arch", p->arch ? p->arch : "?");
	fputc('}', f);
	json_str(f, ",\"console\":{", "mode", console_mode_name(p->console_mode));
	json_bool(f, "raw", p->console.raw);
	json_bool(f, "input", p->console.input);
	json_str(f, ",", "log", p->console_log);
	json_str(f, ",", "until", p->until_src);
	json_bool(f, "kmsg", true);
	fputc('}', f);
	snprintf(line, sizeof(line), "SIG%s", signal_name(p->life.stop_signal));
	json_str(f, ",\"stop\":{", "signal", line);
	fprintf(f, ",\"kill_after_ms\":%llu,\"timeout_ms\":%llu",
		(unsigned long long)p->life.kill_after_ms, (unsigned long long)p->life.timeout_ms);
	json_bool(f, "restart_on_reboot", p->restart_on_reboot);
	fprintf(f, "}}\n");
	return ferror(f) ? -EIO : 0;
}
