#!/bin/bash
# SPDX-License-Identifier: MIT
# A herd: N (default 100, FWT_HERD=N) instances with --veth started at once
# (a directory rootfs, --ephemeral, the probe as a trivial init). None fails,
# each gets a subnet of its own (the host ends' addresses all differ), all
# are stopped together with SIGTERM and exit 0, and nothing is left: no link,
# no lock file or record in /run/fwrun/net, no mount. Prints the times.
# Past 256: with most of 10.202.N held by a stand-in (lock files, as other
# runs hold them), half the herd goes on into 10.203.N, and skips the
# 10.203.0.0/24 that a host interface of ours has an address in.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
need_fs overlay

N=${FWT_HERD:-100}
HOLD=$((256 - N / 2))
net_fw_image

# A host interface with an address in 10.203.0.0/24 (the first subnet past
# firmwared's 256): the allocation must leave that subnet alone.
ip link add "$PFX-d" type veth peer name "$PFX-e" || die "cannot make a veth pair"
register_link "$PFX-d"
ip addr add 10.203.0.1/24 dev "$PFX-d" && ip link set "$PFX-d" up && ip link set "$PFX-e" up ||
	die "cannot set up $PFX-d"

# Subnets 0..HOLD-1 held by a stand-in process, as running fwruns hold
# theirs. Only files it made itself are removed at the end (under their
# lock, as fwrun removes its own).
made=$T/held.list
: >"$made"
for ((n = 0; n < HOLD; n++)); do
	f=/run/fwrun/net/veth-$n
	[ -e "$f" ] || echo "$f" >>"$made"
done
bash -c 'for f in "$@"; do exec {fd}<>"$f" && flock -n "$fd"; done; echo held; exec sleep 600' \
	holder $(seq -f /run/fwrun/net/veth-%g 0 $((HOLD - 1))) >"$T/holder.out" 2>/dev/null &
holder=$!
FWT_PIDS+=("$holder")
at_exit "kill $holder 2>/dev/null; wait $holder 2>/dev/null; while read -r f; do flock -n \"\$f\" rm -f \"\$f\"; done <'$made'"
wait_line "$T/holder.out" '^held$' 10 || die "the stand-in holds no lock"
host_snapshot "$T/host.before"
net_snapshot "$T/links.before"

pids=()
t0=$(date +%s%N)
for ((i = 0; i < N; i++)); do
	"$FWRUN" -q --rootfs "$T/fw" --name "$PFX-h$i" --ephemeral --veth \
		-- /sbin/boxinit term-exit 0 ready sleep </dev/null >"$T/o.$i" 2>"$T/e.$i" &
	pids[i]=$!
	FWT_PIDS+=("$!")
done

# All up: every init said ready, or its fwrun is gone (a failure).
up=0
deadline=$(( $(date +%s) + 90 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
	up=0
	gone=0
	for ((i = 0; i < N; i++)); do
		if grep -q '^ready=1$' "$T/o.$i" 2>/dev/null; then
			up=$((up + 1))
		elif ! kill -0 "${pids[i]}" 2>/dev/null; then
			gone=$((gone + 1))
		fi
	done
	[ $((up + gone)) -ge "$N" ] && break
	sleep 0.1
done
t_up=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_eq "$N" "$up" "instances up"

# One subnet each: the host ends' addresses, all different.
ip -o -4 addr show | awk -v p="fw-$PFX-h" 'index($2, p) == 1 { print $4 }' |
	LC_ALL=C sort >"$T/addrs"
assert_eq "$N" "$(wc -l <"$T/addrs")" "host ends with an address"
assert_eq "$N" "$(uniq <"$T/addrs" | wc -l)" "distinct subnets"
past=$(grep -c '^10\.203\.' "$T/addrs")
[ "$past" -ge $((N / 2 - 5)) ] || fail "only $past of $N past 10.202.255.0/24: $(tr '\n' ' ' <"$T/addrs")"
assert_eq "" "$(grep '^10\.203\.0\.' "$T/addrs")" "10.203.0.0/24, routed on the host, left alone"
assert_eq "" "$(grep -vE '^10\.20[23]\.[0-9]+\.254/24$' "$T/addrs")" "host ends' addresses"

t1=$(date +%s%N)
kill -TERM "${pids[@]}" 2>/dev/null
ok=0
for ((i = 0; i < N; i++)); do
	wait_fwrun "${pids[i]}" 60
	if [ "$STATUS" = 0 ]; then
		ok=$((ok + 1))
	else
		fail "instance $i: status $STATUS: $(head -c 300 "$T/e.$i")"
	fi
done
t_stop=$(( ($(date +%s%N) - t1) / 1000000 ))
assert_eq "$N" "$ok" "instances stopped with status 0"

net_unchanged "$T/links.before" "after $N --veth at once"
host_unchanged "$T/host.before" "after $N --veth at once"
live=$(grep -lF -- "$PFX" /run/fwrun/net/* 2>/dev/null || true)
assert_eq "" "$live" "records of our instances left in /run/fwrun/net"
echo "$TEST_NAME: $ok/$N with --veth at once ($past past 10.202.255): all up in $t_up ms, all stopped in $t_stop ms"
