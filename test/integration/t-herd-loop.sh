#!/bin/bash
# SPDX-License-Identifier: MIT
# A herd: 200 fwrun --ephemeral started at the same instant, without
# network, the init a probe that exits 0. Half of them on copies of the
# image, one each: each attaches a loop device while all the others do
# (LOOP_CTL_GET_FREE hands every racer the same one); the other half on one
# image, whose device they share (the first attaches, the others wait on
# its record and mount it too). None may fail, and nothing may be left
# (loop devices backed by the images, mounts, our /run/fwrun entries).
# HERD_N changes the size.
. "$(dirname "$0")/lib.sh"
ext2_firmware	# $T/fw.ext2 with the probe, $sum, $T/host.before
need_cmd flock
N=${HERD_N:-200}
# Runs 1..N/2 on copies of their own (sparse: a few hundred KiB each).
for i in $(seq 1 $((N / 2))); do
	cp --sparse=always "$T/fw.ext2" "$T/c$i.ext2"
done
image_of() { if [ "$1" -le $((N / 2)) ]; then echo "$T/c$1.ext2"; else echo "$T/fw.ext2"; fi; }

# The gate: every run waits on a shared lock the test holds exclusively,
# then all go when it lets go.
gate=$T/gate
: >"$gate"
exec 8>"$gate"
flock -x 8
pids=()
for i in $(seq 1 "$N"); do
	(
		exec 8>&-
		flock -s 9
		exec 9<&-
		exec "$FWRUN" -q --rootfs "$(image_of "$i")" --ephemeral --name "$PFX-h$i" \
			-- /sbin/boxinit exit 0
	) 9<"$gate" </dev/null >"$T/h$i.out" 2>"$T/h$i.err" &
	pids+=("$!")
	FWT_PIDS+=("$!")
done
sleep 1		# let them reach the gate
t0=$(date +%s%N)
flock -u 8
exec 8>&-

failed=0
for i in $(seq 1 "$N"); do
	wait "${pids[$((i - 1))]}"
	st=$?
	if [ "$st" != 0 ] || [ -s "$T/h$i.err" ]; then
		failed=$((failed + 1))
		[ "$failed" -le 5 ] && log "run $i: status $st: $(head -n 2 "$T/h$i.err")"
	fi
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
log "$N runs at once: $failed failed, all done in $ms ms"
assert_eq 0 "$failed" "runs of $N at once that failed or printed an error"
assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image sha256 after the herd"
host_unchanged "$T/host.before" "after $N runs at once"
assert_eq "" "$(ls /run/fwrun/instances/ 2>/dev/null | grep "^$PFX" | head -n 3)" \
	"instance locks left in /run/fwrun/instances"
assert_eq "" "$(ls -A /run/fwrun/mnt 2>/dev/null | head -n 3)" \
	"entries left in /run/fwrun/mnt"
