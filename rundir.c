/* SPDX-License-Identifier: MIT */
/* /run/fwrun: see rundir.h. */
#include "rundir.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"

/* A runtime directory, made if missing, that must be a real directory of
 * ours. */
static int ensure_dir_safe(const char *path, mode_t mode, struct fw_error *e)
{
	char hint[sizeof(e->hint)];
	struct stat st;

	/* Looked at first: it is there on every run but the first. */
	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			return fw_fail(e, errno, "use directory", path);
		if (mkdir(path, mode) < 0 && errno != EEXIST)
			return fw_fail(e, errno, "create directory", path);
		if (lstat(path, &st) < 0)
			return fw_fail(e, errno, "use directory", path);
	}
	if (S_ISLNK(st.st_mode))
		return fw_fail_hint(e, ELOOP, "use directory", path,
				    "a symlink where fwrun keeps its runtime state: remove it");
	if (!S_ISDIR(st.st_mode))
		return fw_fail(e, ENOTDIR, "use directory", path);
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(hint, sizeof(hint), "owned by uid %u, mode %04o: only root may write it",
			 (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return fw_fail_hint(e, EPERM, "use directory", path, hint);
	}
	return 0;
}

int rundir_ensure(struct fw_error *e)
{
	int r;

	if (FW_FAULT(RUN_DIR))
		return fw_fail(e, errno, "create directory", FWRUN_RUN_DIR);
	if ((r = ensure_dir_safe(FWRUN_RUN_DIR, 0755, e)) < 0 ||
	    (r = ensure_dir_safe(FWRUN_MNT_DIR, 0755, e)) < 0 ||
	    (r = ensure_dir_safe(FWRUN_NET_DIR, 0700, e)) < 0 ||
	    (r = ensure_dir_safe(FWRUN_LOOP_DIR, 0700, e)) < 0 ||
	    (r = ensure_dir_safe(FWRUN_INSTANCE_DIR, 0700, e)) < 0 ||
	    (r = ensure_dir_safe(FWRUN_RECORD_DIR, 0700, e)) < 0)
		return r;
	return 0;
}
