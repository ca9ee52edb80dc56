#!/bin/bash
# SPDX-License-Identifier: MIT
# fwrun --list shows the running instances (two in parallel, with their
# init's host pid) and not one whose fwrun was SIGKILLed (its record is
# stale; the next run of that name removes it, and a half-written one).
# fwrun --stop NAME stops a
# background run as SIGTERM to its fwrun would, waits for its end, exits 0
# and leaves nothing; --timeout bounds the wait (124); an unknown or
# stopped name is a one-line error (125).
. "$(dirname "$0")/lib.sh"
ext2_firmware
need_cmd python3
rec=/run/fwrun/running

start_fwrun a --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-a" -- /sbin/boxinit term-exit 3 ready sleep
a=$FWPID
start_fwrun b --rootfs "$T/fw.ext2" --state-dir "$T/sb" --name "$PFX-b" -- /sbin/boxinit ready sleep
b=$FWPID
wait_line "$T/a.out" '^ready=1' 20 && wait_line "$T/b.out" '^ready=1' 20 ||
	die "the firmwares did not start"
ia=$(find_init "$a")
ib=$(find_init "$b")

run_fwrun --list
assert_status 0 "list"
assert_match "^$PFX-a pid=$ia up=[0-9]+s console=read-only net=- state=ephemeral rootfs=$T/fw.ext2\$" \
	"$(grep "^$PFX-a " <<<"$OUT")" "list: instance a"
assert_match "^$PFX-b pid=$ib .* state=$T/sb rootfs=$T/fw.ext2\$" \
	"$(grep "^$PFX-b " <<<"$OUT")" "list: instance b"
run_fwrun --list --json
assert_status 0 "list --json"
assert_eq "$ia $ib" "$(grep "\"$PFX-" <<<"$OUT" | python3 -c '
import json, sys
print(" ".join(str(json.loads(l)["init_pid"]) for l in sys.stdin))')" "list --json: the init pids"

# SIGKILL b's fwrun: its firmware dies with it, its record stays, stale.
kill -KILL "$b"
wait "$b" 2>/dev/null
for i in $(seq 1 40); do alive "$ib" || break; sleep 0.05; done
[ -e "$rec/$PFX-b" ] || fail "no record left by the SIGKILLed fwrun (the test needs one)"
run_fwrun --list
assert_nomatch "^$PFX-b " "$OUT" "list: not the SIGKILLed instance"
assert_match "^$PFX-a " "$OUT" "list: a still there"
run_fwrun --enter "$PFX-b" -- /bin/probe exit 0
assert_status 125 "enter a SIGKILLed instance"
assert_match "not running any more" "$ERR" "enter a SIGKILLed instance: the line"
# The next run of that name removes it.
run_fwrun --rootfs "$T/fw.ext2" --state-dir "$T/sb" --name "$PFX-b" -- /sbin/boxinit exit 0
assert_status 0 "the next run of b"
[ -e "$rec/$PFX-b" ] && fail "the next run left the stale record"
# And the half-written record a fwrun SIGKILLed between its write and its
# rename leaves, even when that next run writes none (its init is missing).
: >"$rec/.$PFX-b.tmp"
run_fwrun --rootfs "$T/fw.ext2" --state-dir "$T/sb" --name "$PFX-b" -- /sbin/missing
assert_status 127 "a run of b whose init is missing"
[ -e "$rec/.$PFX-b.tmp" ] && fail "the next run left the killed run's half-written record"

# Stop a: its init exits 3 on SIGTERM; fwrun --stop waits for its end.
run_fwrun --stop "$PFX-a"
assert_status 0 "stop"
alive "$a" && fail "stop returned before the instance's fwrun ended"
wait_fwrun "$a" 10
assert_status 3 "the stopped run's status: its init's, as on SIGTERM"
assert_match "^got-signal=TERM" "$(grep got-signal "$T/a.out")" "the init got the stop signal"
[ -e "$rec/$PFX-a" ] && fail "the stopped run left its record"
run_fwrun --stop "$PFX-a"
assert_status 125 "stop a stopped instance"
assert_match "^fwrun: find instance '$PFX-a': not running" "$ERR" "stop a stopped instance: the line"
run_fwrun --stop "$PFX-zz"
assert_status 125 "stop an unknown instance"

# --timeout bounds the wait: an init that ignores SIGTERM, killed 2s later.
start_fwrun c --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-c" --kill-after 2 \
	-- /sbin/boxinit ignore-term ready sleep
c=$FWPID
wait_line "$T/c.out" '^ready=1' 20 || die "c did not start"
run_fwrun --stop "$PFX-c" --timeout 0.3
assert_status 124 "stop with a --timeout shorter than the instance's --kill-after"
assert_match "still running after 300ms" "$ERR" "stop --timeout: the line"
wait_fwrun "$c" 10
assert_status 137 "c killed after its --kill-after"
run_fwrun --list
assert_nomatch "^$PFX-" "$OUT" "list: none of ours left"
host_unchanged "$T/host.before"
