/* SPDX-License-Identifier: MIT */
/* Fault injection (test build only): see fault.h. */
#include "fault.h"

#ifdef FWRUN_FAULT_INJECTION
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *where;
} points[] = {
#define FW_FAULT_ROW(id, name, where) [FP_##id] = { name, where },
	FW_FAULT_POINTS(FW_FAULT_ROW)
#undef FW_FAULT_ROW
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
	{ "ENOSYS", ENOSYS },	{ "ENOTTY", ENOTTY },
};

/* The point named name, or -1. */
static int point_index(const char *name)
{
	for (size_t i = 0; i < FP_COUNT; i++)
		if (strcmp(points[i].name, name) == 0)
			return (int)i;
	return -1;
}

static struct {
	bool parsed;
	int point;	/* -1: none */
	int err;
	long times;	/* how many more hits fail; < 0: every one */
} armed;

void fw_fault_arm(const char *spec)
{
	char name[64], e[32], *end;

	armed.parsed = true;
	armed.point = -1;
	armed.err = EIO;
	armed.times = 1;
	if (!spec || !*spec)
		return;
	size_t n = strcspn(spec, ":");
	if (n >= sizeof(name))
		abort();
	memcpy(name, spec, n);
	name[n] = '\0';
	armed.point = point_index(name);
	if (armed.point < 0)
		abort();	/* a test's typo: never run without the fault */
	if (spec[n] != ':')
		return;
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

bool fw_fault_hit(enum fw_fault_point point)
{
	if (!armed.parsed)
		fw_fault_arm(getenv("FWRUN_FAULT"));
	if (armed.times == 0 || armed.point != (int)point)
		return false;
	if (armed.times > 0)
		armed.times--;
	errno = armed.err;
	return true;
}

void fw_fault_list(FILE *f)
{
	for (size_t i = 0; i < FP_COUNT; i++)
		fprintf(f, "%s\t%s\n", points[i].name, points[i].where);
}
#endif
