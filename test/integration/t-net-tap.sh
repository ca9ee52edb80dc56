#!/bin/bash
# SPDX-License-Identifier: MIT
# --tap: an existing tap (up) and a veth end (down) are moved in, renamed,
# addressed (seen inside by the probe), and come back with their name and
# state; a missing tap is created and deleted; the host's links are exactly
# as before after every run, also after Ctrl-C, --timeout, a setup failure
# after the move, INIT not found; an interface in use by a running instance
# is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
net_fw_image

tap=${PFX}t0 va=${PFX}va vb=${PFX}vb new=${PFX}n0
ip tuntap add "$tap" mode tap || die "ip tuntap add"
register_link "$tap"
ip link set "$tap" up
ip link add "$va" type veth peer name "$vb" || die "ip link add veth"
register_link "$va"
mac_tap=$(cat /sys/class/net/$tap/address)
mac_va=$(cat /sys/class/net/$va/address)
net_snapshot "$T/links.before"
host_snapshot "$T/host.before"

# 1. borrowed, renamed, addressed, given back
run_fwrun --rootfs "$T/fw" --name "$PFX-a" --ephemeral \
	--tap "$tap:eth1:10.9.0.2/24" --tap "$va:eth2:fd00:9::2/64" -- /sbin/boxinit report
assert_status 0 "borrow: run"
assert_eq 10.9.0.2/24 "$(kvs "$OUT" if.eth1.inet)" "borrow: eth1's address inside"
assert_eq fd00:9::2/64 "$(kvs "$OUT" if.eth2.inet6)" "borrow: eth2's address inside"
assert_match '(^|,)UP(,|$)' "$(kvs "$OUT" if.eth1.flags)" "borrow: eth1 up inside"
assert_match '(^|,)UP(,|$)' "$(kvs "$OUT" if.eth2.flags)" "borrow: eth2 up inside"
assert_match '(^|,)UP(,|$)' "$(kvs "$OUT" if.lo.flags)" "borrow: lo up inside"
assert_nomatch "^if\\.$PFX" "$OUT" "borrow: no host name inside"
net_unchanged "$T/links.before" "borrow"
assert_eq "$mac_tap" "$(cat /sys/class/net/$tap/address)" "borrow: the same tap came back"
assert_eq "$mac_va" "$(cat /sys/class/net/$va/address)" "borrow: the same veth end came back"
host_unchanged "$T/host.before" "borrow"

# 2. a missing tap is created for the run and goes with the firmware's
# network namespace: the kernel deletes it there, it never comes back to
# the host, and its name is free for the next run at once
for i in 1 2; do
	run_fwrun --rootfs "$T/fw" --name "$PFX-b" --ephemeral --tap "$new:eth1:10.9.1.2/24" \
		-- /sbin/boxinit report
	assert_status 0 "missing tap: run $i"
	assert_eq 10.9.1.2/24 "$(kvs "$OUT" if.eth1.inet)" "missing tap: eth1 inside, run $i"
	net_unchanged "$T/links.before" "missing tap, run $i"
	[ -e "/sys/class/net/$new" ] && fail "missing tap: $new left on the host after run $i"
done
sleep 1
[ -e "/sys/class/net/$new" ] && fail "missing tap: $new handed to the host with the namespace's end"
assert_nofile "/run/fwrun/net/if-$new" "missing tap: its record"

# 3. INIT not found: the run fails after the move
run_fwrun --rootfs "$T/fw" --name "$PFX-c" --ephemeral --tap "$tap:eth1" --tap "$new" \
	-- /nonexistent
assert_status 127 "INIT not found"
net_unchanged "$T/links.before" "INIT not found"

# 4. a setup failure inside, after the move: the kernel refuses the address
run_fwrun --rootfs "$T/fw" --name "$PFX-d" --ephemeral --tap "$tap:eth1" \
	--tap "$va:eth2:ff02::1/64" --tap "$new" -- /sbin/boxinit report
assert_status 125 "failure inside"
assert_match "^fwrun: .*'eth2'" "$ERR" "failure inside: the error names the interface"
assert_nomatch '^pid=' "$OUT" "failure inside: the init never ran"
net_unchanged "$T/links.before" "failure inside"

# 5. Ctrl-C while running; meanwhile the interfaces are gone from the host
start_fwrun int --rootfs "$T/fw" --name "$PFX-e" --ephemeral --tap "$tap:eth1" --tap "$new" \
	-- /sbin/boxinit term-exit 3 ready sleep
if wait_line "$T/int.out" '^ready=1$' 10; then
	[ -e "/sys/class/net/$tap" ] && fail "Ctrl-C: $tap still on the host during the run"
	# 6. in use by a running instance: refused, nothing touched
	run_fwrun --rootfs "$T/fw" --name "$PFX-f" --ephemeral --tap "$tap" -- /sbin/boxinit report
	assert_status 125 "in use"
	assert_match "^fwrun: borrow interface '$tap': .*in use by fwrun instance '$PFX-e'" "$ERR" \
		"in use: the message"
	kill -INT "$FWPID"
	wait_fwrun "$FWPID" 15
	assert_status 3 "Ctrl-C: the init's status"
else
	fail "Ctrl-C: firmware not ready: $(cat "$T/int.out" "$T/int.err")"
fi
net_unchanged "$T/links.before" "Ctrl-C"

# 7. --timeout (the life cycle's option)
if "$FWRUN" --help | grep -q -- '--timeout'; then
	run_fwrun --rootfs "$T/fw" --name "$PFX-g" --ephemeral --timeout 1 --tap "$tap:eth1" \
		--tap "$new" -- /sbin/boxinit term-exit 0 ready sleep
	assert_status 124 "--timeout"
	net_unchanged "$T/links.before" "--timeout"
else
	log "fwrun has no --timeout yet: that case waits for it"
fi

# Original states: the tap was up, the veth end down.
assert_match "^$tap up$" "$(grep "^$tap " "$T/.links.now")" "the tap is up again"
assert_match "^$va down$" "$(grep "^$va " "$T/.links.now")" "the veth end is still down"
host_unchanged "$T/host.before" "at the end"
