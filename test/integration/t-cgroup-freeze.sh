#!/bin/bash
# SPDX-License-Identifier: MIT
# A firmware that freezes itself: it mounts the v1 freezer hierarchy (its
# cgroup namespace roots it at its own payload) and writes FROZEN there and
# in a cgroup of its own below. A process frozen by a v1 freezer does not
# die of SIGKILL until thawed, so fwrun's stop, the pid namespace's end and
# a SIGKILLed fwrun's pending kill would never come: fwrun thaws the
# instance's freezer subtree right after each SIGKILL it sends, and the
# next run's sweep thaws a stale instance before it removes its cgroups.
# (On cgroup v2 alone a fatal signal ends a frozen process: nothing to do.)
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_fs overlay
FZ=$(awk '$3 == "cgroup" && $4 ~ /(^|,)freezer(,|$)/ { print $2; exit }' /proc/self/mounts)
[ -n "$FZ" ] || skip "no v1 freezer hierarchy mounted (on cgroup v2 a SIGKILL ends a frozen process)"

mk_staging "$T/staging"
mk_image dir "$T/root"
host_snapshot "$T/host.before"
freeze=(mount cgroup freezer /tmp/fz freezer mkdir /tmp/fz/deep
	write /tmp/fz/deep/freezer.state FROZEN ready write /tmp/fz/freezer.state FROZEN
	echo not-frozen sleep)

# The payload's freezer state on the host, once the firmware froze it.
wait_frozen() {	# NAME
	local i f
	for i in $(seq 1 100); do
		f=$(fwt_cgroups | grep -m1 "^$FZ/.*/fwrun-$1\$\|^$FZ/fwrun-$1\$")
		[ -n "$f" ] && [ "$(cat "$f/payload/freezer.state" 2>/dev/null)" = FROZEN ] && return 0
		sleep 0.05
	done
	return 1
}

# --timeout: the stop signal does nothing to a frozen init; the SIGKILL
# --kill-after later must end it.
FWRUN_SAFETY=15 run_fwrun --rootfs "$T/root" --name "$PFX-t" --ephemeral --console=pipe \
	--timeout 1 --kill-after 1 -- /sbin/boxinit "${freeze[@]}"
[ -z "$FWT_SAFETY_TIMEOUT" ] || fail "--timeout 1 --kill-after 1: fwrun still waited for the frozen firmware after 15 s"
assert_status 124 "a firmware that froze itself, --timeout 1 --kill-after 1"
assert_match '^mount:/tmp/fz=ok$' "$OUT" "the firmware mounted the freezer hierarchy"
assert_match '^write:/tmp/fz/deep/freezer.state=ok$' "$OUT" "the firmware froze a cgroup of its own"
# Its write to its own cgroup's state never returns to it: frozen.
assert_match '^ready=1$' "$OUT" "the firmware's last word before freezing itself"
assert_nomatch 'not-frozen|write:/tmp/fz/freezer.state' "$OUT" "the firmware ran on after freezing itself"
assert_match 'killed 1s later' "$ERR" "the message of the timeout"
assert_eq "" "$(fwt_cgroups)" "cgroups left after the frozen firmware's timeout"

# SIGTERM to fwrun (Ctrl-C's path): the stop signal, then SIGKILL.
start_fwrun s --rootfs "$T/root" --name "$PFX-s" --ephemeral --console=pipe \
	--kill-after 1 -- /sbin/boxinit "${freeze[@]}"
S=$FWPID
wait_line "$T/s.out" '^ready=1$' 20 || die "s not ready: $(cat "$T/s.err")"
wait_frozen "$PFX-s" || die "the firmware did not freeze itself: $(cat "$T/s.out")"
kill -TERM "$S"
wait_fwrun "$S" 15 || fail "SIGTERM, --kill-after 1: fwrun still waited for the frozen firmware after 15 s"
assert_status 137 "a frozen firmware, stopped by SIGTERM to fwrun then killed"
assert_eq "" "$(fwt_cgroups)" "cgroups left after stopping the frozen firmware"

# SIGKILL to fwrun: its init's pending SIGKILL (PR_SET_PDEATHSIG) waits for
# a thaw; the next run's sweep gives it one, and removes the cgroups.
start_fwrun k --rootfs "$T/root" --name "$PFX-k" --ephemeral --console=pipe \
	-- /sbin/boxinit "${freeze[@]}"
K=$FWPID
wait_line "$T/k.out" '^ready=1$' 20 || die "k not ready: $(cat "$T/k.err")"
init=$(find_init "$K") || die "no init under fwrun $K"
wait_frozen "$PFX-k" || die "the firmware did not freeze itself: $(cat "$T/k.out")"
kill -KILL "$K"
wait "$K" 2>/dev/null
sleep 0.2
alive "$init" || fail "the frozen init died of the SIGKILL alone: this test shows nothing"
next_run_clears_cgroups "$T/root" "a SIGKILLed fwrun whose firmware froze itself"
for i in $(seq 1 60); do alive "$init" || break; sleep 0.05; done
alive "$init" && fail "the frozen init of the SIGKILLed fwrun still runs after the next run"
host_unchanged "$T/host.before"
