#!/bin/bash
# SPDX-License-Identifier: MIT
# fwrun --reset --name NAME empties the state and fwrun --remove --name NAME
# deletes the state dir, both without --rootfs and without booting; both are
# refused while the instance runs (its locks), and change nothing then.
. "$(dirname "$0")/lib.sh"
ext2_firmware
st=$T/state

run_fwrun --rootfs "$T/fw.ext2" --state-dir "$st" --name "$PFX-s" -- /sbin/boxinit write /data/x 1
assert_status 0 "a run that leaves state"
assert_file "$st/upper/data/x" 1 "its write in the upper dir"

# Refused while it runs.
start_fwrun r --rootfs "$T/fw.ext2" --state-dir "$st" --name "$PFX-s" --kill-after 0.5 -- /sbin/boxinit ready sleep
wait_line "$T/r.out" '^ready=1' 20 || die "the firmware did not start"
run_fwrun --reset --name "$PFX-s" --state-dir "$st"
assert_status 125 "reset while running"
assert_match "this instance is running" "$ERR" "reset while running: the line"
run_fwrun --remove --state-dir "$st"
assert_status 125 "remove while running"
assert_match "^fwrun: lock state dir '$st': .*running" "$ERR" "remove while running: the line"
assert_file "$st/upper/data/x" 1 "nothing changed while running"
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 20

# No boot: no init runs (it would write /data/booted), no --rootfs needed.
run_fwrun --reset --name "$PFX-s" --state-dir "$st"
assert_status 0 "reset without a run"
assert_eq "" "$(ls -A "$st/upper")" "reset: the upper dir emptied"
[ -d "$st" ] || fail "reset keeps the state dir"
run_fwrun --rootfs "$T/fw.ext2" --state-dir "$st" --name "$PFX-s" -- /sbin/boxinit write /data/y 2
run_fwrun --remove --name "$PFX-s" --state-dir "$st"
assert_status 0 "remove"
[ -e "$st" ] && fail "remove: the state dir is still there"
run_fwrun --remove --state-dir "$st"
assert_status 125 "remove a missing state dir"
assert_match "no run has left state there" "$ERR" "remove a missing state dir: the line"
# Something fwrun did not make stays, and the error says so.
mkdir -p "$st" && echo mine >"$st/notes"
run_fwrun --remove --state-dir "$st"
assert_status 125 "remove a state dir with a stranger's file"
assert_file "$st/notes" mine "a stranger's file stays"
assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image unchanged"
host_unchanged "$T/host.before"
