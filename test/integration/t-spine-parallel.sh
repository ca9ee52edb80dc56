#!/bin/bash
# SPDX-License-Identifier: MIT
# 8 instances with different names run in parallel on the same image: each
# succeeds, sees its own hostname and its own upper dir; the image is
# unchanged; nothing is left behind.
. "$(dirname "$0")/lib.sh"
ext2_firmware	# $T/fw.ext2 with the probe, $sum, $T/host.before
N=8
pids=()
for i in $(seq 1 $N); do
	start_fwrun "p$i" --rootfs "$T/fw.ext2" --name "$PFX-p$i" --state-dir "$T/st$i" \
		-- /sbin/boxinit report write /data/me "p$i" sleep 2 exit "$i"
	pids+=("$FWPID")
done
for i in $(seq 1 $N); do
	wait_fwrun "${pids[$((i - 1))]}" 30
	if [ "$STATUS" != "$i" ]; then
		fail "parallel run $i: expected status $i, got $STATUS"
		sed 's/^/    | /' "$T/p$i.err" | head -n 10
		continue
	fi
	assert_eq "$PFX-p$i" "$(kv "$T/p$i.out" hostname)" "parallel run $i: hostname"
	assert_eq 1 "$(kv "$T/p$i.out" pid)" "parallel run $i: pid"
	assert_file "$T/st$i/upper/data/me" "p$i" "parallel run $i: its own upper"
done
# Different runs, different namespaces.
ids=$(for i in $(seq 1 $N); do kv "$T/p$i.out" ns.mnt; echo; done | sort -u | grep -c .)
assert_eq $N "$ids" "distinct mount namespaces among $N parallel runs"
assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image sha256 after $N parallel runs"
host_unchanged "$T/host.before" "after $N parallel runs"
