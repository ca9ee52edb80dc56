# SPDX-License-Identifier: MIT
# Sourced by the t-net-*.sh tests after lib.sh: what they share.
#   need_net                  root, fwrun, ip, busybox, /dev/net/tun
#   net_snapshot FILE         name and up/down of every link whose name holds
#                             $PFX (our taps and veths, fw-$PFX-* host ends)
#   net_unchanged FILE WHAT   the same now (a failure otherwise)
#   net_fw_image              $T/fw: a directory rootfs, probe as boxinit

need_net() {
	need_root
	need_fwrun
	need_cmd ip busybox
	[ -c /dev/net/tun ] || modprobe -q tun 2>/dev/null
	[ -c /dev/net/tun ] || skip "no /dev/net/tun (tun module)"
}

_net_links() {
	ip -o link show | awk -F': ' -v p="$PFX" '
		{ n = $2; sub(/@.*/, "", n) }
		index(n, p) { print n, ($3 ~ /^<([^>]*,)?UP[,>]/ ? "up" : "down") }' |
		LC_ALL=C sort
}

net_snapshot() { _net_links >"$1"; }

net_unchanged() { state_unchanged _net_links "host links" "$T/.links.now" "$@"; }	# FILE [WHEN]

net_fw_image() {
	mk_staging "$T/staging"
	mk_image dir "$T/fw"
}

# The lock files of our interfaces in /run/fwrun/net.
at_exit "rm -f /run/fwrun/net/if-$PFX* /run/fwrun/net/if-fw-$PFX*"
