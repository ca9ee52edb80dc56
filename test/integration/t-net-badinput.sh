#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad --tap/--veth input: one error line naming what is wrong, exit 125,
# the host's links untouched. The host's default-route interface is refused
# without --force-default-route; that case runs in a network namespace of
# the test's own (never with the real host's uplink).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
need_cmd unshare
net_fw_image
tap=${PFX}t0
ip tuntap add "$tap" mode tap || die "ip tuntap add"
register_link "$tap"
net_snapshot "$T/links.before"
host_snapshot "$T/host.before"

bad() {	# LABEL ERE ARGS...: exit 125, first line matches, one fwrun: line
	local label=$1 re=$2
	shift 2
	run_fwrun --rootfs "$T/fw" --name "$PFX-x" --ephemeral "$@" -- /sbin/boxinit report
	assert_status 125 "$label" || return 1
	assert_match "$re" "$(printf '%s\n' "$ERR" | head -n 1)" "$label: message"
	assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c '^fwrun:')" "$label: one error line"
	assert_nomatch '^pid=' "$OUT" "$label: the init never ran"
	net_unchanged "$T/links.before" "$label"
}

bad "name that cannot be a tap" "^fwrun: parse --tap '$PFX/x': IF: not a valid interface name" \
	--tap "$PFX/x"
bad "pattern name" "^fwrun: parse --tap '$PFX%d'" --tap "$PFX%d"
bad "name with a space" "^fwrun: parse --tap '$PFX x'" --tap "$PFX x"
bad "name over 15 bytes" "^fwrun: parse --tap '${PFX}123456789': IF: interface names have at most 15 bytes" \
	--tap "${PFX}123456789"
bad "INNER over 15 bytes" "INNER: interface names have at most 15 bytes" --tap "$tap:eth0123456789abc"
bad "bad CIDR: no prefix" "^fwrun: parse --tap '$tap:eth1:10.0.0.2': ADDR/PREFIX" --tap "$tap:eth1:10.0.0.2"
bad "bad CIDR: octet" "ADDR/PREFIX" --tap "$tap:eth1:10.0.0.256/24"
bad "bad CIDR: prefix" "ADDR/PREFIX" --tap "$tap:eth1:fd00::1/129"
bad "bad --veth CIDR" "^fwrun: parse --veth '10.0.0.1/33'" --veth=10.0.0.1/33
bad "--veth without room" "^fwrun: parse --veth '10.0.0.1/31'" --veth=10.0.0.1/31
bad "INNER lo" "^fwrun: name the interface inside 'lo': 'lo' is the firmware's loopback" --tap "$tap:lo"
bad "IF twice" "^fwrun: borrow interface '$tap': given to --tap twice" --tap "$tap:eth1" --tap "$tap:eth2"
bad "INNER twice" "^fwrun: name the interface inside 'eth1'" --tap "$tap:eth1" --tap "${PFX}t1:eth1"
bad "INNER eth0 with --veth" "^fwrun: name the interface inside 'eth0'" --veth --tap "$tap:eth0"
bad "--veth twice" "^fwrun: option '--veth'" --veth --veth
bad "loopback" "^fwrun: borrow interface 'lo': .*loopback" --tap lo:fwin

# The default-route interface, in a namespace of the test's own: refused
# (and untouched), then taken and given back with --force-default-route.
cat >"$T/uplink.sh" <<SH
set -e
ip link add ${PFX}up type veth peer name ${PFX}pe
ip link set ${PFX}up up
ip link set ${PFX}pe up
ip addr add 192.0.2.2/24 dev ${PFX}up
ip route add default via 192.0.2.1
before=\$(ip -o link show ${PFX}up | sed 's/^[0-9]*: //; s/ mtu.*//')
set +e
"$FWRUN" --rootfs "$T/fw" --name "$PFX-u" --ephemeral --tap ${PFX}up:eth1 -- /sbin/boxinit report \
	>"$T/uplink1.out" 2>"$T/uplink1.err" </dev/null
echo "refused=\$?"
ip -o addr show dev ${PFX}up | grep -q 'inet 192.0.2.2/24' && echo "address=kept"
ip route show default | grep -q "dev ${PFX}up" && echo "route=kept"
"$FWRUN" --rootfs "$T/fw" --name "$PFX-u" --ephemeral --force-default-route \
	--tap ${PFX}up:eth1:192.0.2.9/24 -- /sbin/boxinit report >"$T/uplink2.out" 2>"$T/uplink2.err" </dev/null
echo "forced=\$?"
after=\$(ip -o link show ${PFX}up | sed 's/^[0-9]*: //; s/ mtu.*//')
[ "\$before" = "\$after" ] && echo "link=same" || echo "link=\$before -> \$after"
SH
res=$(timeout 30 unshare -n bash "$T/uplink.sh" 2>&1)
assert_match '^refused=125$' "$res" "default-route interface: refused"
assert_match "^fwrun: borrow interface '${PFX}up': Operation not permitted \\(it carries the host's default route \\(--force-default-route" \
	"$(cat "$T/uplink1.err")" "default-route interface: the message"
assert_eq 1 "$(grep -c '^fwrun:' "$T/uplink1.err")" "default-route interface: one error line"
assert_match '^address=kept$' "$res" "default-route interface: untouched when refused"
assert_match '^route=kept$' "$res" "default-route interface: route untouched when refused"
assert_match '^forced=0$' "$res" "--force-default-route: runs ($(cat "$T/uplink2.err"))"
assert_eq 192.0.2.9/24 "$(kv "$T/uplink2.out" if.eth1.inet)" "--force-default-route: inside"
assert_match '^link=same$' "$res" "--force-default-route: given back"

net_unchanged "$T/links.before" "at the end"
host_unchanged "$T/host.before" "at the end"
