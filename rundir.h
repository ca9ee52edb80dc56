/* SPDX-License-Identifier: MIT */
/* fwrun's runtime directory, /run/fwrun: the one owner of its layout.
 *
 *   /run/fwrun/            0755 root   made by rundir_ensure(), never removed
 *   ├─ mnt/                0755        empty on the host: each setup thread
 *   │                                  mounts its scratch tmpfs here, in its
 *   │                                  own mount namespace only (ns.c)
 *   ├─ net/                0700        a lock per borrowed interface and per
 *   │                                  --veth subnet, held for the run
 *   │                                  (netsetup.c)
 *   ├─ instances/          0700        a lock per instance name, held for
 *   │                                  the run (state.c)
 *   ├─ loop/               0700        a record per image file (st_dev:st_ino):
 *   │                                  the loop device its instances share,
 *   │                                  flock'd while looked up or attached
 *   │                                  (rootfs.c); one per image run since
 *   │                                  boot, never removed
 *   ├─ cgroup.lock         0600        flock'd while an instance's cgroup is
 *                                      made or a stale one removed (cgroup.c)
 *   └─ running/            0700        a record per running instance (name,
 *                                      pids and their start times, rootfs,
 *                                      state, network, console), written
 *                                      once its init runs, removed at its
 *                                      end; one a SIGKILLed fwrun left is
 *                                      stale: its supervisor is gone
 *                                      (instances.c)
 *
 * Every directory must be a real directory owned by us and writable by
 * nobody else: a symlink planted in /run (by whoever could write there)
 * would send the scratch mounts or the records elsewhere. */
#ifndef FWRUN_RUNDIR_H
#define FWRUN_RUNDIR_H

#include "util.h"

#define FWRUN_RUN_DIR "/run/fwrun"
#define FWRUN_MNT_DIR FWRUN_RUN_DIR "/mnt"
#define FWRUN_NET_DIR FWRUN_RUN_DIR "/net"
#define FWRUN_LOOP_DIR FWRUN_RUN_DIR "/loop"
#define FWRUN_INSTANCE_DIR FWRUN_RUN_DIR "/instances"
#define FWRUN_CGROUP_LOCK FWRUN_RUN_DIR "/cgroup.lock"
#define FWRUN_RECORD_DIR FWRUN_RUN_DIR "/running"

/* Make each directory above that is missing, and check each is ours (a
 * real directory, owned by the effective uid, not group/other-writable).
 * 0 or -errno with e filled (ELOOP: a symlink; EPERM: not ours). */
int rundir_ensure(struct fw_error *e);

#endif
