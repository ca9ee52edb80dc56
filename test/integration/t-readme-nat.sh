#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's NAT recipe for --veth, as written (its sysctl and nft lines,
# taken from the README), lets a firmware out: and without it nothing gets
# out. The host's firewall and sysctls are never touched: fwrun itself runs
# in a network namespace made here ("h", its host), routed through a veth
# to another ("o", the world beyond the host), which has no route back to
# the veth subnets. From the firmware (--enter) a TCP connection to o fails
# before the recipe and gets through after it, seen by o as coming from h's
# address (masqueraded). Also the README's resolv.conf command: the
# firmware sees the host's /etc/resolv.conf instead of its image's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
need_cmd nft sudo sysctl python3
[ -x /bin/busybox ] || skip "needs busybox-static for the image's /bin/sh"
[ -r /etc/resolv.conf ] || skip "the host has no /etc/resolv.conf to bind"

# The recipe: from the line with sysctl to the end of the here-document.
recipe=$(awk '/^    sudo sysctl -w net\.ipv4\.ip_forward=1$/ { on = 1 }
	on { print substr($0, 5) }
	on && /^    EOF$/ { exit }' "$REPO/README")
assert_match '^sudo nft -f - <<' "$recipe" "the README's NAT recipe is found"
assert_match 'masquerade' "$recipe" "the recipe masquerades"
ruleset=$(sed -n '/^sudo nft -f - <</,/^EOF$/ { /^sudo nft/d; /^EOF$/d; p }' <<<"$recipe")
man=$(awk '/^sudo sysctl \\-w net.ipv4.ip_forward=1$/ { on = 1 } on && /^\.fi$/ { exit } on' \
	"$REPO/man/fwrun.8" | sed 's/\\-/-/g')
assert_eq "$recipe" "$man" "fwrun(8) gives the README's recipe"
# Every default --veth subnet is in the masqueraded range: 10.A.0.0/24,
# A = netsetup.h's NET_VETH_FIRST_A, to 10.255.255.0/24 (its last).
first=$(awk '$1 == "#define" && $2 == "NET_VETH_FIRST_A" { print $3 }' "$REPO/netsetup.h")
assert_match "ip saddr 10\\.$first\\.0\\.0-10\\.255\\.255\\.255 " "$ruleset" "the range is --veth's"

host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
host_rules=$(nft list ruleset 2>&1)
host_snapshot "$T/host.before"

h=${PFX}h o=${PFX}o
register_netns "$h"
register_netns "$o"
ip netns add "$h" && ip netns add "$o" || die "ip netns add"
ip -n "$h" link add "${PFX}a" type veth peer name "${PFX}b" netns "$o" || die "the h-o veth"
ip -n "$h" link set lo up
ip -n "$o" link set lo up
ip -n "$h" addr add 192.0.2.2/24 dev "${PFX}a"
ip -n "$o" addr add 192.0.2.1/24 dev "${PFX}b"
ip -n "$h" link set "${PFX}a" up
ip -n "$o" link set "${PFX}b" up
ip -n "$h" route add default via 192.0.2.1 || die "h's default route"
assert_eq 0 "$(ip netns exec "$h" cat /proc/sys/net/ipv4/ip_forward)" "h starts without forwarding"
ip netns exec "$h" nft -c -f - <<<"$ruleset" >"$T/nft-c.err" 2>&1 ||
	fail "nft -c rejects the README's ruleset: $(cat "$T/nft-c.err")"

# o: a TCP server that writes each client's address to $T/peers.
ip netns exec "$o" python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.1", 7777))
s.listen(8)
print("listening", flush=True)
while True:
    c, a = s.accept()
    with open(sys.argv[1], "a") as f:
        f.write(a[0] + "\n")
    c.sendall(b"hello from beyond the host\n")
    c.close()
' "$T/peers" >"$T/server.out" 2>&1 &
srv=$!
FWT_PIDS+=("$srv")
wait_line "$T/server.out" '^listening' 10 || die "the server in $o: $(cat "$T/server.out")"

# The firmware: the README's resolv.conf command, in h.
st=$T/staging
mk_staging "$st"
echo "nameserver 192.0.2.53" >"$st/etc/resolv.conf"
cat >"$st/sbin/boxinit" <<'SH'
#!/bin/sh
echo "boxinit: up"
trap 'exit 0' TERM
while :; do sleep 1; done
SH
chmod 0755 "$st/sbin/boxinit"
mkdir -p "$T/job"
mk_image ext2 "$T/job/drone.ext2" "$st"
cmd=$(awk '/^Names: fwrun writes no resolv\.conf/ { on = 1 }
	on && /^    sudo fwrun .*--veth --bind-ro \/etc\/resolv\.conf$/ { print substr($0, 5); exit }' "$REPO/README")
assert_match '^sudo fwrun --rootfs drone\.ext2 --veth --bind-ro /etc/resolv\.conf$' "$cmd" \
	"the README's resolv.conf command is found"
cmd="${cmd/#sudo fwrun /sudo \"\$FWRUN\" } --name $PFX-n --ephemeral"
export FWRUN
cd "$T/job" || die "cd"
FWT_LAST_CMD="ip netns exec $h $cmd"
ip netns exec "$h" bash -c "$cmd" </dev/null >"$T/fw.out" 2>"$T/fw.err" &
fw=$!
FWT_PIDS+=("$fw")
cd /
wait_line "$T/fw.out" '^boxinit: up' 20 || die "the firmware did not start: $(cat "$T/fw.err")"

run_fwrun --enter "$PFX-n" -- /bin/busybox cat /etc/resolv.conf
assert_status 0 "enter: cat /etc/resolv.conf"
assert_eq "$(cat /etc/resolv.conf)" "$OUT" "the firmware's /etc/resolv.conf is the host's"
gw=$(ip netns exec "$h" ip -o -4 addr show dev "fw-$PFX-n" | awk '{ print $4 }')
assert_match '^10\.(20[2-9]|2[1-5][0-9])\.[0-9]+\.254/24$' "$gw" "the veth's host end is in h"

connect() {	# WHAT: a TCP connection from the firmware to o
	run_fwrun --enter "$PFX-n" -- /bin/busybox nc -w 3 192.0.2.1 7777
}
connect
assert_ne 0 "$STATUS" "without the recipe nothing gets out"
# Forwarding alone: the firmware's packets reach o, whose answers have no way back.
ip netns exec "$h" bash -e -c "$(grep '^sudo sysctl' <<<"$recipe")" >"$T/recipe.out" 2>&1 ||
	fail "the recipe's sysctl line in $h: $(cat "$T/recipe.out")"
assert_eq 1 "$(ip netns exec "$h" cat /proc/sys/net/ipv4/ip_forward)" "h forwards"
connect
assert_ne 0 "$STATUS" "forwarding without masquerade: no way back"
assert_eq "" "$(cat "$T/peers" 2>/dev/null)" "no connection reached o"

# The whole recipe, as written.
ip netns exec "$h" bash -e -c "$recipe" >"$T/recipe.out" 2>&1 ||
	fail "the README's recipe in $h: $(cat "$T/recipe.out")"
assert_match 'table ip fwrun-nat' "$(ip netns exec "$h" nft list ruleset)" "h holds the table"
connect
assert_status 0 "with the recipe: a connection from the firmware gets out"
assert_eq "hello from beyond the host" "$OUT" "the server's answer"
assert_eq 192.0.2.2 "$(cat "$T/peers" 2>/dev/null)" "o sees h's address (masqueraded)"

# The README's way back: the table deleted, nothing gets out again.
undo=$(grep -o 'sudo nft delete table ip fwrun-nat' "$REPO/README" | head -n 1)
assert_eq "sudo nft delete table ip fwrun-nat" "$undo" "the README's undo line"
ip netns exec "$h" bash -e -c "$undo" || fail "$undo"
connect
assert_ne 0 "$STATUS" "the table deleted: nothing gets out"

run_fwrun --stop "$PFX-n"
assert_status 0 "--stop"
wait_fwrun "$fw" 20
assert_status 0 "the firmware stopped"
assert_eq "$host_fwd" "$(cat /proc/sys/net/ipv4/ip_forward)" "the host's ip_forward is as it was"
assert_eq "$host_rules" "$(nft list ruleset 2>&1)" "the host's ruleset is as it was"
kill "$srv" 2>/dev/null	# the server in o
wait "$srv" 2>/dev/null
ip netns del "$h" && ip netns del "$o" || fail "ip netns del"
host_unchanged "$T/host.before"
exit "$FWT_FAILS"
