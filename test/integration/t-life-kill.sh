#!/bin/bash
# SPDX-License-Identifier: MIT
# fwrun killed with SIGKILL: the firmware's processes are gone within a
# second and the host's mounts, loop devices and links are as before.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
[ -x /bin/busybox ] || skip "needs busybox-static for the image's /bin/sh"
mk_image ext2 "$T/fw.ext2"
host_snapshot "$T/before"

# pid 1 (a shell) with a child of its own, both sleeping
start_fwrun k --rootfs "$T/fw.ext2" --state-dir "$T/state" --name "${PFX}k" \
	/bin/sh -c '/bin/probe sleep & echo ready=1; wait'
wait_line "$T/k.out" '^ready=1' || die "the firmware never got ready: $(cat "$T/k.err")"
init=$(wait_init "$FWPID") || die "no init found under fwrun $FWPID"
procs=$(echo "$init"; descendants "$init")
[ "$(echo "$procs" | wc -l)" -ge 2 ] || fail "expected the init and its child, got: $procs"
kill -KILL "$FWPID"
wait "$FWPID" 2>/dev/null
t0=$(date +%s%N)
gone=0
for i in $(seq 1 40); do
	left=0
	# a zombie waiting for the host's reaper counts as gone
	for p in $procs; do
		st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) || continue
		[ "$st" != Z ] && left=1
	done
	[ $left = 0 ] && { gone=1; break; }
	sleep 0.05
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $gone = 1 ] && [ "$ms" -le 1000 ] || fail "firmware processes still there ${ms} ms after SIGKILL of fwrun: $procs"
log "firmware gone ${ms} ms after SIGKILL of fwrun"
next_run_clears_cgroups "$T/fw.ext2" "after SIGKILL of fwrun"
host_unchanged "$T/before" "after SIGKILL of fwrun"
