/* SPDX-License-Identifier: MIT */
#include "caps.h"
#include "fault.h"

#include <cap-ng.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* capabilities(7) names, indexed by number. */
static const char *const cap_names[CAPS_KNOWN_LAST + 1] = {
	[0] = "CAP_CHOWN",
	[1] = "CAP_DAC_OVERRIDE",
	[2] = "CAP_DAC_READ_SEARCH",
	[3] = "CAP_FOWNER",
	[4] = "CAP_FSETID",
	[5] = "CAP_KILL",
	[6] = "CAP_SETGID",
	[7] = "CAP_SETUID",
	[8] = "CAP_SETPCAP",
	[9] = "CAP_LINUX_IMMUTABLE",
	[10] = "CAP_NET_BIND_SERVICE",
	[11] = "CAP_NET_BROADCAST",
	[12] = "CAP_NET_ADMIN",
	[13] = "CAP_NET_RAW",
	[14] = "CAP_IPC_LOCK",
	[15] = "CAP_IPC_OWNER",
	[16] = "CAP_SYS_MODULE",
	[17] = "CAP_SYS_RAWIO",
	[18] = "CAP_SYS_CHROOT",
	[19] = "CAP_SYS_PTRACE",
	[20] = "CAP_SYS_PACCT",
	[21] = "CAP_SYS_ADMIN",
	[22] = "CAP_SYS_BOOT",
	[23] = "CAP_SYS_NICE",
	[24] = "CAP_SYS_RESOURCE",
	[25] = "CAP_SYS_TIME",
	[26] = "CAP_SYS_TTY_CONFIG",
	[27] = "CAP_MKNOD",
	[28] = "CAP_LEASE",
	[29] = "CAP_AUDIT_WRITE",
	[30] = "CAP_AUDIT_CONTROL",
	[31] = "CAP_SETFCAP",
	[32] = "CAP_MAC_OVERRIDE",
	[33] = "CAP_MAC_ADMIN",
	[34] = "CAP_SYSLOG",
	[35] = "CAP_WAKE_ALARM",
	[36] = "CAP_BLOCK_SUSPEND",
	[37] = "CAP_AUDIT_READ",
	[38] = "CAP_PERFMON",
	[39] = "CAP_BPF",
	[40] = "CAP_CHECKPOINT_RESTORE",
};

uint64_t caps_default_drop(void)
{
	/* Numbers from capabilities(7); the man page says why each one. */
	return CAPS_BIT(25)	/* SYS_TIME: the host clock */
	     | CAPS_BIT(35)	/* WAKE_ALARM: host RTC wake-ups */
	     | CAPS_BIT(16)	/* SYS_MODULE: the host kernel */
	     | CAPS_BIT(17)	/* SYS_RAWIO: /dev/mem, ioperm, raw SCSI */
	     | CAPS_BIT(33)	/* MAC_ADMIN: AppArmor policy */
	     | CAPS_BIT(32)	/* MAC_OVERRIDE */
	     | CAPS_BIT(34)	/* SYSLOG: the host kernel log, not namespaced */
	     | CAPS_BIT(30)	/* AUDIT_CONTROL: host audit rules */
	     | CAPS_BIT(36)	/* BLOCK_SUSPEND: host suspend; silently ignored */
	     | CAPS_BIT(9);	/* LINUX_IMMUTABLE: undeletable upper files */
}

int caps_from_name(const char *name, int *cap)
{
	if (!name || !*name)
		return -EINVAL;
	if (strcasecmp(name, "ALL") == 0) {
		*cap = CAPS_ALL;
		return 0;
	}
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	for (int i = 0; i <= CAPS_KNOWN_LAST; i++) {
		if (strcasecmp(name, cap_names[i] + 4) == 0) {
			*cap = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *caps_name(int cap)
{
	if (cap < 0 || cap > CAPS_KNOWN_LAST)
		return NULL;
	return cap_names[cap];
}

int caps_spec_add(struct caps_spec *s, const char *name, bool drop)
{
	int cap;
	int r = caps_from_name(name, &cap);
	if (r < 0)
		return r;
	if (cap == CAPS_ALL) {
		if (drop)
			s->drop_all = true;
		else
			s->add_all = true;
	} else if (drop) {
		s->drop |= CAPS_BIT(cap);
	} else {
		s->add |= CAPS_BIT(cap);
	}
	return 0;
}

uint64_t caps_all_mask(int last_cap)
{
	if (last_cap < 0)
		return 0;
	if (last_cap >= 63)
		return UINT64_MAX;
	return CAPS_BIT(last_cap + 1) - 1;
}

uint64_t caps_resolve(const struct caps_spec *s, uint64_t all)
{
	uint64_t set;

	if (s->drop_all)
		set = all;
	else if (s->add_all)
		set = 0;
	else
		set = caps_default_drop();
	set &= ~s->add;
	set |= s->drop;
	return set & all;
}

int caps_format(uint64_t mask, char *buf, size_t size)
{
	size_t len = 0;
	bool truncated = false;

	if (size == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	if (mask == 0)
		return fw_strlcpy(buf, "none", size) < size ? 4 : -ENAMETOOLONG;
	for (int i = 0; i < 64; i++) {
		if (!(mask & CAPS_BIT(i)))
			continue;
		char num[16];
		const char *n = caps_name(i);
		if (!n) {
			snprintf(num, sizeof(num), "cap_%d", i);
			n = num;
		}
		int w = snprintf(buf + len, size - len, "%s%s", len ? "," : "", n);
		if (w < 0 || (size_t)w >= size - len) {
			truncated = true;
			break;
		}
		len += (size_t)w;
	}
	return truncated ? -ENAMETOOLONG : (int)len;
}

int caps_parse_hex(const char *s, uint64_t *mask)
{
	uint64_t v = 0;
	int digits = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s && *s != '\n'; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		if (++digits > 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	if (digits == 0)
		return -EINVAL;
	*mask = v;
	return 0;
}

int caps_last_cap(void)
{
	char buf[16];
	int last = CAPS_KNOWN_LAST;
	_cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = fw_read_all(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			char *end;
			long v = strtol(buf, &end, 10);
			if (end != buf && v >= 0 && v < 64)
				last = (int)v;
		}
	}
	return last;
}

int caps_apply_drop(uint64_t drop, struct fw_error *e)
{
	if (drop == 0)
		return 0;
	/* libcap-ng keeps per-thread state with the tid it was made for:
	 * make sure it is ours. */
	capng_setpid((int)syscall(SYS_gettid));
	if (capng_get_caps_process() < 0)
		return fw_fail(e, errno ? errno : EIO, "read the capabilities of", "fwrun");
	for (int i = 0; i < 64; i++) {
		if (!(drop & CAPS_BIT(i)))
			continue;
		if (prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) < 0)
			continue;	/* this kernel has no such capability */
		if (capng_update(CAPNG_DROP, CAPNG_BOUNDING_SET | CAPNG_INHERITABLE,
				 (unsigned)i) < 0) {
			char n[16];
			snprintf(n, sizeof(n), "%d", i);
			return fw_fail(e, EINVAL, "drop capability", caps_name(i) ? caps_name(i) : n);
		}
	}
	errno = 0;
	if (FW_FAULT(CAPS_DROP) || capng_apply(CAPNG_SELECT_BOTH) < 0)
		return fw_fail_hint(e, errno ? errno : EPERM, "cut the capability bounding set of",
				    "the firmware", "CAP_SETPCAP is needed");
	/* Trust the kernel, not the library: every dropped one must be gone. */
	for (int i = 0; i < 64; i++) {
		if (!(drop & CAPS_BIT(i)))
			continue;
		if (prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) == 1)
			return fw_fail(e, EPERM, "drop from the bounding set",
				       caps_name(i) ? caps_name(i) : "a capability");
	}
	return 0;
}
