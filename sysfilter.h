/* SPDX-License-Identifier: MIT */
/* The syscall filter (doc/design.md, "Host protection"): what AppArmor cannot see, or what a
 * firmware never needs and the host would pay for, returns EPERM. Never a
 * kill: a firmware that tries one of these calls gets an error it handles
 * (systemd, busybox and Android's init all expect EPERM from containers).
 *
 * The list is data, sysfilter_rules[] (fwrun(8) says why each is there).
 * sysfilter_build() turns it into a BPF program with libseccomp; that runs
 * when fwrun is built, not when it runs: tools/sysfilter-gen writes the
 * program out as C (build/sysfilter_bpf.c), which fwrun carries as
 * sysfilter_builtin. A run thus neither links nor starts libseccomp (some
 * 1 ms of CPU the first time in a process) and allocates nothing for it;
 * the unit tests check that the built-in program is the one the rules make.
 *
 * Applying: sysfilter_load(), one system call, made by the setup thread
 * once in the firmware's root, after its last mknod; pid 1, forked from
 * it, inherits the filter (ns.c, ns_plan.seccomp). The kernel's part (the
 * JIT) thus runs while the supervisor sets up the network and the cgroup.
 * --enter loads it on CMD when the init has one.
 *
 * Every ABI the kernel runs is filtered: on x86_64 the i386 (int $0x80) and
 * x32 ABIs too, so a 32-bit binary in the firmware does not get around it; a
 * call from any other ABI gets EPERM. Foreign binaries run through qemu-user
 * are translated into the host's own calls, so the filter applies to them.
 * The filter is installed without no_new_privs (pid 1 has CAP_SYS_ADMIN):
 * setuid programs in the firmware still work. */
#ifndef FWRUN_SYSFILTER_H
#define FWRUN_SYSFILTER_H

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* One denied call: every call of name, or (arg >= 0) only those whose
 * argument arg, low 32 bits, masked with mask, equals value. The kernel
 * reads these arguments as int or mode_t, so the high 32 bits are ignored
 * here too: setting them does not get around the rule. A name can appear
 * several times (the rules add up). */
struct sysfilter_rule {
	const char *name;	/* as libseccomp names it; absent on some ABIs is fine */
	int arg;		/* -1: whatever the arguments */
	uint32_t mask, value;
};

extern const struct sysfilter_rule sysfilter_rules[];
extern const size_t sysfilter_rule_count;

/* A program built from the rules. */
struct sysfilter {
	struct sock_fprog prog;		/* prog.filter NULL: not built */
};

/* Build the filter from sysfilter_rules[] for the native ABI and its
 * compatible ones, with libseccomp (tools/sysfilter-gen, the tests).
 * 0, or -errno. */
int sysfilter_build(struct sysfilter *f);
void sysfilter_free(struct sysfilter *f);

/* The program sysfilter_build() made when fwrun was built (generated:
 * build/sysfilter_bpf.c). */
extern const struct sock_fprog sysfilter_builtin;

/* Install prog on the calling thread (needs CAP_SYS_ADMIN or no_new_privs).
 * 0 or -errno. */
static inline int sysfilter_load(const struct sock_fprog *prog)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0 ? -errno : 0;
}

#endif
