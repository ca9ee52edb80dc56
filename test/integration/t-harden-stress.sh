#!/bin/bash
# SPDX-License-Identifier: MIT
# Stress: N (default 64, FWT_STRESS=N) instances of one image at once, each
# with --veth and --ephemeral under its own name, each init exiting with its
# own status (index % 50) after a second, so that they all overlap. Every
# fwrun returns its own status, and nothing is left: no mount, no loop
# device, no link (veth host ends), no live record in /run/fwrun/net, and
# the image is unchanged. Prints the wall time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
need_cmd mke2fs
need_fs overlay

N=${FWT_STRESS:-64}
mk_staging "$T/staging"
mk_image ext2 "$T/fw.ext2"
sum=$(sha_of "$T/fw.ext2")
host_snapshot "$T/host.before"
net_snapshot "$T/links.before"

pids=()
t0=$(date +%s%N)
for ((i = 0; i < N; i++)); do
	"$FWRUN" -q --rootfs "$T/fw.ext2" --name "$PFX-$i" --ephemeral --veth \
		-- /sbin/boxinit ready sleep 1 exit $((i % 50)) </dev/null >"$T/o.$i" 2>"$T/e.$i" &
	pids[i]=$!
	FWT_PIDS+=("$!")
done
# Generous: 64 setups at once on a loaded machine.
deadline=$(( $(date +%s) + 240 ))
for ((i = 0; i < N; i++)); do
	left=$((deadline - $(date +%s)))
	[ $left -lt 1 ] && left=1
	wait_fwrun "${pids[i]}" "$left"
	st[i]=$STATUS
done
t1=$(date +%s%N)
wall_ms=$(( (t1 - t0) / 1000000 ))

ok=0
for ((i = 0; i < N; i++)); do
	if [ "${st[i]}" = $((i % 50)) ] && grep -q '^ready=1$' "$T/o.$i"; then
		ok=$((ok + 1))
	else
		fail "instance $i: status ${st[i]}, expected $((i % 50)): $(head -c 300 "$T/e.$i")"
	fi
done
assert_eq "$N" "$ok" "instances that finished with their own status"
host_unchanged "$T/host.before" "after $N parallel instances"
net_unchanged "$T/links.before" "after $N parallel instances (veth host ends)"
live=$(grep -lF -- "$PFX" /run/fwrun/net/* 2>/dev/null || true)
assert_eq "" "$live" "records of our instances left in /run/fwrun/net"
assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image sha256"
echo "$TEST_NAME: $ok/$N instances with --veth in parallel: wall time $wall_ms ms"
