#!/bin/bash
# SPDX-License-Identifier: MIT
# fwrun SIGKILLed with interfaces inside: nobody moves them back, the
# namespace dies with the firmware. A tap fwrun made just goes (the next run
# makes it again, silently); a tap the user lent is destroyed too, and the
# next run with it says so, once, with exit 125; the run after that goes on.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
net_fw_image
net_snapshot "$T/links.before"

lent=${PFX}l0 made=${PFX}m0
ip tuntap add "$lent" mode tap || die "ip tuntap add"
register_link "$lent"

start_fwrun k --rootfs "$T/fw" --name "$PFX-k" --ephemeral --tap "$lent:eth1" --tap "$made:eth2" \
	-- /sbin/boxinit ready sleep
wait_line "$T/k.out" '^ready=1$' 10 || die "not ready: $(cat "$T/k.out" "$T/k.err")"
kill -KILL "$FWPID"
wait "$FWPID" 2>/dev/null
# Both taps were inside: they are gone with the namespace.
net_unchanged "$T/links.before" "after SIGKILL (the lent tap is lost, as documented)"

# The lent one: the next run says what happened to it.
run_fwrun --rootfs "$T/fw" --name "$PFX-n" --ephemeral --tap "$lent:eth1" -- /sbin/boxinit report
assert_status 125 "lost tap: the next run refuses"
assert_match "^fwrun: interface lost '$lent': .*killed while it had this tun" "$ERR" \
	"lost tap: the message"
assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c '^fwrun:')" "lost tap: one error line"
net_unchanged "$T/links.before" "lost tap refusal"
# Said once: the next run makes a new tap of that name and deletes it.
run_fwrun --rootfs "$T/fw" --name "$PFX-n" --ephemeral --tap "$lent:eth1" -- /sbin/boxinit report
assert_status 0 "lost tap: the run after"
assert_match '(^|,)UP(,|$)' "$(kvs "$OUT" if.eth1.flags)" "lost tap: a fresh tap inside"

# The one fwrun made: nothing to say.
run_fwrun --rootfs "$T/fw" --name "$PFX-n" --ephemeral --tap "$made:eth2" -- /sbin/boxinit report
assert_status 0 "made tap: the next run goes on"
net_unchanged "$T/links.before" "at the end"
