// SPDX-License-Identifier: MIT
#include "sysfilter.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>


#define ANY -1, 0, 0
/* syslog(2)'s actions that change the host's kernel log or console; reading
 * it (2, 3, 9, 10: busybox klogd, dmesg) stays allowed. */
#define SYSLOG_ACTION(n) 0, UINT32_C(0xffffffff), n

/* fwrun(8), SYSCALL FILTER, says why each is here; keep them in step. */
const struct sysfilter_rule sysfilter_rules[] = {
	/* Another kernel, or code into this one. */
	{ "kexec_load", ANY },
	{ "kexec_file_load", ANY },
	{ "init_module", ANY },
	{ "finit_module", ANY },
	{ "delete_module", ANY },
	{ "create_module", ANY },
	{ "query_module", ANY },
	{ "get_kernel_syms", ANY },
	/* Any host file by its handle, past the firmware's root (the
	 * "shocker" escape); name_to_handle_at only makes handles for it. */
	{ "open_by_handle_at", ANY },
	{ "name_to_handle_at", ANY },
	/* Host-wide state that no namespace covers. */
	{ "swapon", ANY },
	{ "swapoff", ANY },
	{ "acct", ANY },
	{ "keyctl", ANY },
	{ "add_key", ANY },
	{ "request_key", ANY },
	{ "quotactl", ANY },
	{ "quotactl_fd", ANY },
	{ "_sysctl", ANY },
	/* The clock setters (CAP_SYS_TIME is cut too). adjtimex and
	 * clock_adjtime stay: with modes 0 they are reads (NTP clients, date),
	 * which a filter cannot tell from a write (the modes are in memory). */
	{ "clock_settime", ANY },
	{ "clock_settime64", ANY },
	{ "settimeofday", ANY },
	{ "stime", ANY },
	/* The host's kernel log buffer and console level. */
	{ "syslog", SYSLOG_ACTION(4) },	/* read and clear */
	{ "syslog", SYSLOG_ACTION(5) },	/* clear */
	{ "syslog", SYSLOG_ACTION(6) },	/* console off */
	{ "syslog", SYSLOG_ACTION(7) },	/* console on */
	{ "syslog", SYSLOG_ACTION(8) },	/* console level */
	/* Block device nodes, whatever the path: a host disk by its numbers.
	 * Character devices are the device allowlist's (and AppArmor's). */
	{ "mknod", 1, S_IFMT, S_IFBLK },
	{ "mknodat", 2, S_IFMT, S_IFBLK },
	/* Kernel attack surface a firmware does not use. */
	{ "bpf", ANY },
	{ "perf_event_open", ANY },
	{ "lookup_dcookie", ANY },
	{ "userfaultfd", ANY },
	{ "uselib", ANY },
	{ "nfsservctl", ANY },
	/* I/O ports, PCI configuration, virtual 8086 mode. */
	{ "iopl", ANY },
	{ "ioperm", ANY },
	{ "pciconfig_read", ANY },
	{ "pciconfig_write", ANY },
	{ "pciconfig_iobase", ANY },
	{ "vm86", ANY },
	{ "vm86old", ANY },
};
const size_t sysfilter_rule_count = sizeof(sysfilter_rules) / sizeof(sysfilter_rules[0]);

/* The ABIs a process on this kernel can call it with. */
static int add_arches(scmp_filter_ctx ctx)
{
	static const struct {
		uint32_t native, other;
	} compat[] = {
		{ SCMP_ARCH_X86_64, SCMP_ARCH_X86 },
		{ SCMP_ARCH_X86_64, SCMP_ARCH_X32 },
		{ SCMP_ARCH_AARCH64, SCMP_ARCH_ARM },
		{ SCMP_ARCH_PPC64LE, SCMP_ARCH_PPC },
		{ SCMP_ARCH_S390X, SCMP_ARCH_S390 },
	};
	uint32_t native = seccomp_arch_native();

	for (size_t i = 0; i < sizeof(compat) / sizeof(compat[0]); i++) {
		if (compat[i].native != native)
			continue;
		int r = seccomp_arch_add(ctx, compat[i].other);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < sysfilter_rule_count; i++) {
		const struct sysfilter_rule *r = &sysfilter_rules[i];
		int nr = seccomp_syscall_resolve_name(r->name);
		int err;

		if (nr == __NR_SCMP_ERROR)
			return -ENOSYS;		/* a name libseccomp does not know */
		if (r->arg < 0)
			err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
		else
			err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
					       SCMP_CMP((unsigned)r->arg, SCMP_CMP_MASKED_EQ,
							(uint64_t)r->mask, (uint64_t)r->value));
		if (err < 0)
			return err;
	}
	return 0;
}

/* The program libseccomp generates, read back from a memfd (libseccomp
 * 2.5 exports only to a file descriptor). */
static int read_bpf(int fd, struct sock_fprog *prog)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	size_t len = (size_t)st.st_size / sizeof(struct sock_filter);
	if (len == 0 || len > BPF_MAXINSNS || (size_t)st.st_size % sizeof(struct sock_filter))
		return -E2BIG;
	struct sock_filter *insns = malloc((size_t)st.st_size);
	if (!insns)
		return -ENOMEM;
	ssize_t n = pread(fd, insns, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		free(insns);
		return n < 0 ? -errno : -EIO;
	}
	prog->filter = insns;
	prog->len = (unsigned short)len;
	return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("fwrun-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export_bpf(ctx, fd);
	if (r == 0)
		r = read_bpf(fd, prog);
	close(fd);
	return r;
}

int sysfilter_build(struct sysfilter *f)
{
	f->prog.filter = NULL;
	f->prog.len = 0;
	/* A call from an ABI not in the filter fails too, not the process. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(EPERM));
	/* Installed with CAP_SYS_ADMIN: no no_new_privs, setuid
	 * programs of the firmware keep working. */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (r == 0)
		r = add_arches(ctx);
	/* A binary tree: every allowed call pays a few comparisons, not one
	 * per rule. Older libseccomp has no such attribute: linear then. */
	if (r == 0)
		(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r == 0)
		r = add_rules(ctx);
	if (r == 0)
		r = export_bpf(ctx, &f->prog);
	seccomp_release(ctx);
	return r < 0 ? r : 0;
}

void sysfilter_free(struct sysfilter *f)
{
	free(f->prog.filter);
	f->prog.filter = NULL;
	f->prog.len = 0;
}
