#!/bin/bash
# SPDX-License-Identifier: MIT
# --veth: the host end fw-NAME holds 10.202.N.254/24, the firmware's eth0
# 10.202.N.1/24 with a default route via the host end; the host pings the
# firmware; two instances at once get two subnets; --veth=ADDR/PREFIX; the
# pair is gone after the run, and after a SIGKILL of fwrun the subnet is
# free again: the next run takes it (its lock file left is no obstacle).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
need_cmd flock jq
net_fw_image
net_snapshot "$T/links.before"
host_snapshot "$T/host.before"

# The init mounts /proc for the probe's route report, then waits.
INIT=(/bin/busybox sh -c '/bin/busybox mount -t proc proc /proc; exec /bin/probe report term-exit 0 ready sleep')

start_fwrun a --rootfs "$T/fw" --name "$PFX-a" --ephemeral --veth -- "${INIT[@]}"
A=$FWPID
start_fwrun b --rootfs "$T/fw" --name "$PFX-b" --ephemeral --veth -- "${INIT[@]}"
B_=$FWPID
wait_line "$T/a.out" '^ready=1$' 10 || die "a not ready: $(cat "$T/a.out" "$T/a.err")"
wait_line "$T/b.out" '^ready=1$' 10 || die "b not ready: $(cat "$T/b.out" "$T/b.err")"

fw_a=$(kv "$T/a.out" if.eth0.inet) fw_b=$(kv "$T/b.out" if.eth0.inet)
assert_match '^10\.202\.[0-9]+\.1/24$' "$fw_a" "a: eth0's address"
assert_match '^10\.202\.[0-9]+\.1/24$' "$fw_b" "b: eth0's address"
assert_ne "$fw_a" "$fw_b" "two instances, two subnets"
n_a=$(echo "$fw_a" | cut -d. -f3)
n_b=$(echo "$fw_b" | cut -d. -f3)
assert_eq "10.202.$n_a.254 dev eth0" "$(kv "$T/a.out" route.default)" "a: default route"
assert_eq "10.202.$n_b.254 dev eth0" "$(kv "$T/b.out" route.default)" "b: default route"
assert_match "inet 10\\.202\\.$n_a\\.254/24" "$(ip -o addr show dev "fw-$PFX-a")" "a: host end address"
assert_match "inet 10\\.202\\.$n_b\\.254/24" "$(ip -o addr show dev "fw-$PFX-b")" "b: host end address"
busybox ping -c 1 -W 2 "10.202.$n_a.1" >/dev/null || fail "the host cannot ping a (10.202.$n_a.1)"
busybox ping -c 1 -W 2 "10.202.$n_b.1" >/dev/null || fail "the host cannot ping b (10.202.$n_b.1)"

kill -TERM "$A" "$B_"
wait_fwrun "$A" 10
assert_status 0 "a: stopped"
wait_fwrun "$B_" 10
assert_status 0 "b: stopped"
net_unchanged "$T/links.before" "two --veth"

# --veth=ADDR/PREFIX: the firmware's address; the host takes the last one
run_fwrun --rootfs "$T/fw" --name "$PFX-c" --ephemeral --veth=10.203.77.9/24 --status-fd 1 \
	-- "${INIT[0]}" "${INIT[1]}" "${INIT[2]}" '/bin/busybox mount -t proc proc /proc; exec /bin/probe report'
assert_status 0 "--veth=ADDR"
assert_eq 10.203.77.9/24 "$(kvs "$OUT" if.eth0.inet)" "--veth=ADDR: eth0"
assert_eq "10.203.77.254 dev eth0" "$(kvs "$OUT" route.default)" "--veth=ADDR: default route"
assert_eq "eth0 10.203.77.9/24 fw-$PFX-c 10.203.77.254/24" \
	"$(grep '^{"event":"started"' <<<"$OUT" | jq -r '.network[0] | "\(.if) \(.addr) \(.host_if) \(.host_addr)"')" \
	"the started event has the addresses"
net_unchanged "$T/links.before" "--veth=ADDR"

# SIGKILL of fwrun: the pair dies with the namespace, the subnet is free
start_fwrun k --rootfs "$T/fw" --name "$PFX-k" --ephemeral --veth -- "${INIT[@]}"
K=$FWPID
if wait_line "$T/k.out" '^ready=1$' 10; then
	fw_k=$(kv "$T/k.out" if.eth0.inet)
	kill -KILL "$K"
	wait "$K" 2>/dev/null
	net_unchanged "$T/links.before" "SIGKILL with --veth"
	# Its subnet is free again: lockable, or held by a live run other than
	# the killed one (other tests may take it meanwhile).
	n_k=$(echo "$fw_k" | cut -d. -f3)
	lockf=/run/fwrun/net/veth-$n_k
	if ! flock -n "$lockf" true; then
		holder=$(cut -d' ' -f1 "$lockf")
		[ "$holder" != "$K" ] || fail "after SIGKILL: subnet $n_k still held for the killed fwrun"
	fi
	run_fwrun --rootfs "$T/fw" --name "$PFX-k" --ephemeral --veth \
		-- "${INIT[0]}" "${INIT[1]}" "${INIT[2]}" '/bin/busybox mount -t proc proc /proc; exec /bin/probe report'
	assert_status 0 "after SIGKILL: run again"
	# The lowest free subnet is the killed run's again: its lock file,
	# still there, does not keep the next run off it.
	assert_eq "$fw_k" "$(kvs "$OUT" if.eth0.inet)" "after SIGKILL: the same subnet again"
else
	fail "k not ready: $(cat "$T/k.out" "$T/k.err")"
fi
net_unchanged "$T/links.before" "at the end"
host_unchanged "$T/host.before" "at the end"
