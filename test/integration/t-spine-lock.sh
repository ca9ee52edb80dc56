#!/bin/bash
# SPDX-License-Identifier: MIT
# One instance runs once at a time: a second run on a busy state dir, or
# with a running instance's name, is refused with 125 and a message naming
# the lock; the first run goes on
# unharmed and the lock is free after it.
. "$(dirname "$0")/lib.sh"
ext2_firmware	# $T/fw.ext2 with the probe, $sum, $T/host.before
S=$T/state
name=$PFX-lk

start_fwrun first --rootfs "$T/fw.ext2" --name "$name" --state-dir "$S" \
	-- /sbin/boxinit ready wait-term write /data/after ok exit 0
wait_line "$T/first.out" '^ready=1$' 10 || die "first run not ready: $(cat "$T/first.out" "$T/first.err")"
ipid=$(find_init "$FWPID") || fail "first run: no init found below fwrun $FWPID"

run_fwrun --rootfs "$T/fw.ext2" --name "$name" --state-dir "$S" -- /sbin/boxinit write /data/second x
assert_status 125 "second run on the busy state dir"
assert_match '[Ll]ock|[Bb]usy|already|in use' "$ERR" "refusal names the lock"
assert_nomatch '^write:' "$OUT" "second run's init must not run"
assert_nofile "$S/upper/data/second" "the second run wrote into the shared upper"

# The state dir is locked whatever the name...
run_fwrun --rootfs "$T/fw.ext2" --name "$name-2" --state-dir "$S" -- /sbin/boxinit write /data/third x
assert_status 125 "another name on the busy state dir"
assert_match "^fwrun: lock state dir '$S': .*held by pid $FWPID" "$ERR" "refusal names the state dir and the holder"
assert_nofile "$S/upper/data/third" "another name wrote into the busy upper"
# ...and the name whatever the state dir (doc/design.md: one name runs once at a time).
run_fwrun --rootfs "$T/fw.ext2" --name "$name" --state-dir "$T/other" -- /sbin/boxinit exit 0
assert_status 125 "the same name with another state dir"
assert_match "^fwrun: lock instance '$name': .*held by pid $FWPID" "$ERR" "refusal names the instance and the holder"
run_fwrun --rootfs "$T/fw.ext2" --name "$name" --ephemeral -- /sbin/boxinit exit 0
assert_status 125 "the same name with --ephemeral"

kill -0 "$FWPID" 2>/dev/null || fail "first fwrun died when the second was refused"
if [ -n "${ipid:-}" ]; then
	alive "$ipid" || fail "first run's init died"
	kill -TERM "$ipid"	# the init goes on: it writes /data/after and exits 0
fi
wait_fwrun "$FWPID" 15
assert_status 0 "first run after the refused second one"
assert_eq ok "$(kv "$T/first.out" write:/data/after)" "first run went on writing"
assert_file "$S/upper/data/after" ok "first run's write in the upper"

# The lock is free again.
run_fwrun --rootfs "$T/fw.ext2" --name "$name" --state-dir "$S" -- /sbin/boxinit exit 0
assert_status 0 "run after the first one ended"
assert_nofile "/run/fwrun/instances/$name" "the instance lock file is removed at exit"
assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image sha256 at the end"
host_unchanged "$T/host.before" "at the end"
