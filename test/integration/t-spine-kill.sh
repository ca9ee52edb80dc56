#!/bin/bash
# SPDX-License-Identifier: MIT
# fwrun killed with SIGKILL mid-run: the firmware's processes are gone within
# a second, nothing stays mounted or attached, the image is unchanged, and
# the instance can run again (the lock died with fwrun).
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd mke2fs mksquashfs
need_fs overlay

mk_staging "$T/staging"
mk_image ext2 "$T/fw.ext2"
mk_image squashfs "$T/fw.sqfs"
host_snapshot "$T/host.before"

kill_mid_run() {	# LABEL IMAGE
	local label=$1 img=$2 sum procs p left i
	local name=$PFX-k$label S=$T/st-$label
	sum=$(sha_of "$img")
	start_fwrun "$label" --rootfs "$img" --name "$name" --state-dir "$S" \
		-- /sbin/boxinit write /data/before-kill 1 ready sleep
	if ! wait_line "$T/$label.out" '^ready=1$' 10; then
		fail "$label: firmware not ready: $(cat "$T/$label.out" "$T/$label.err")"
		return 1
	fi
	procs=$(descendants "$FWPID")
	[ -n "$procs" ] || fail "$label: fwrun has no child processes"
	find_init "$FWPID" >/dev/null || fail "$label: no pid 1 of a child pid namespace below fwrun"
	kill -KILL "$FWPID"
	wait "$FWPID" 2>/dev/null
	for i in $(seq 1 20); do
		left=
		for p in $procs; do
			alive "$p" && left="$left $p"
		done
		[ -z "$left" ] && break
		sleep 0.05
	done
	if [ -n "$left" ]; then
		fail "$label: firmware processes alive 1 s after SIGKILL of fwrun:$left"
		for p in $left; do ps -o pid,ppid,stat,cmd -p "$p" | tail -n +2 | sed 's/^/    /'; done
		kill -KILL $left 2>/dev/null
	fi
	next_run_clears_cgroups "$img" "$label"
	host_unchanged "$T/host.before" "$label: after SIGKILL of fwrun"
	assert_eq "$sum" "$(sha_of "$img")" "$label: image sha256 after SIGKILL of fwrun"
	assert_file "$S/upper/data/before-kill" 1 "$label: the upper dir kept the write"

	# The instance runs again: no stale lock, no stale mount.
	run_fwrun --rootfs "$img" --name "$name" --state-dir "$S" -- /sbin/boxinit cat /data/before-kill
	assert_status 0 "$label: run after the killed one"
	assert_eq 1 "$(kvs "$OUT" cat:/data/before-kill)" "$label: the next run sees the upper"
	assert_eq "$sum" "$(sha_of "$img")" "$label: image sha256 at the end"
}

kill_mid_run ext2 "$T/fw.ext2"
kill_mid_run sqfs "$T/fw.sqfs"
host_unchanged "$T/host.before" "at the end"
