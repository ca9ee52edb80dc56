#!/bin/bash
# SPDX-License-Identifier: MIT
# Instance state (doc/design.md, "The image"): the upper dir holds the run's writes and
# survives it; the next run sees them; --diff lists added/modified/deleted
# ("A /path", "M /path", "D /path", sorted; whiteouts and opaque dirs read as
# deletions); --reset empties the upper; --ephemeral leaves no upper; the
# overlay is volatile, and its marker handled by boot.
. "$(dirname "$0")/lib.sh"
ext2_firmware	# $T/fw.ext2 with the probe, $sum, $T/host.before
S=$T/state
name=$PFX-st

run_fwrun --rootfs "$T/fw.ext2" --name "$name" --state-dir "$S" -- /sbin/boxinit \
	write /data/new hello \
	write /etc/motd changed \
	rm /etc/keep \
	mkdir /newdir \
	rm /etc/conf.d/a.conf rm /etc/conf.d/b.conf rm /etc/conf.d \
	mkdir /etc/conf.d write /etc/conf.d/c.conf c \
	exit 0
assert_status 0 "run making changes"
for k in write:/data/new write:/etc/motd rm:/etc/keep mkdir:/newdir rm:/etc/conf.d \
	write:/etc/conf.d/c.conf; do
	assert_eq ok "$(kvs "$OUT" "$k")" "inside the firmware: $k"
done
assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image sha256 after the writes"

# The upper dir is the diff of the run.
assert_file "$S/upper/data/new" hello "upper: added file"
assert_file "$S/upper/etc/motd" changed "upper: modified file"
if [ -c "$S/upper/etc/keep" ]; then
	assert_eq "0:0" "$(stat -c '%t:%T' "$S/upper/etc/keep")" "upper: whiteout of /etc/keep"
else
	fail "upper: /etc/keep is not a whiteout: $(ls -la "$S/upper/etc" 2>&1)"
fi
[ -d "$S/upper/newdir" ] || fail "upper: no directory /newdir"

# --diff
run_fwrun --diff --state-dir "$S"
assert_status 0 "--diff"
diff_out=$OUT
assert_match '^A /data/new$' "$diff_out" "--diff: added file"
assert_match '^M /etc/motd$' "$diff_out" "--diff: modified file"
assert_match '^D /etc/keep$' "$diff_out" "--diff: deleted file (whiteout)"
assert_match '^A /newdir$' "$diff_out" "--diff: added directory"
assert_match '^D /etc/conf\.d(/a\.conf)?$' "$diff_out" "--diff: opaque dir reads as a deletion"
assert_match '^A /etc/conf\.d/c\.conf$' "$diff_out" "--diff: file in the opaque dir"
assert_nomatch '^[AMD] /etc/hostname$' "$diff_out" "--diff: unchanged file listed"
assert_nomatch '^[^AMD]|^[AMD][^ ]|^[AMD] [^/]' "$diff_out" "--diff: line format"
assert_eq "$(printf '%s\n' "$diff_out" | LC_ALL=C sort -k2)" "$diff_out" "--diff output sorted by path"

# The next run sees what the last one wrote.
run_fwrun --rootfs "$T/fw.ext2" --name "$name" --state-dir "$S" -- /sbin/boxinit \
	cat /data/new cat /etc/motd cat /etc/keep
assert_status 0 "second run"
assert_eq hello "$(kvs "$OUT" cat:/data/new)" "second run sees /data/new"
assert_eq changed "$(kvs "$OUT" cat:/etc/motd)" "second run sees the modified /etc/motd"
assert_eq ERR:ENOENT "$(kvs "$OUT" cat:/etc/keep)" "second run: /etc/keep still deleted"

# The overlay is mounted volatile (no sync of the host's file system at its
# end): the kernel's marker is there after a run, and the next run in this
# boot removes it silently. A marker left in another boot is removed too,
# with a notice that the end of that run's writes may be missing.
[ -d "$S/work/work/incompat/volatile" ] || fail "no volatile marker in work/: not a volatile overlay?"
assert_match "^[0-9]+ $(cat /proc/sys/kernel/random/boot_id)\$" "$(cat "$S/lock")" "lock record: pid and boot id"
assert_nomatch "earlier boot" "$ERR" "notice in the same boot"
printf '1 00000000-0000-0000-0000-000000000000\n' >"$S/lock"
run_fwrun --rootfs "$T/fw.ext2" --name "$name" --state-dir "$S" -- /sbin/boxinit cat /data/new
assert_status 0 "run after a marker from another boot"
assert_eq hello "$(kvs "$OUT" cat:/data/new)" "run after a marker from another boot sees /data/new"
assert_match "last run on $S was in an earlier boot" "$ERR" "notice for a marker from another boot"
run_fwrun --rootfs "$T/fw.ext2" --name "$name" --state-dir "$S" -- /sbin/boxinit cat /data/new
assert_status 0 "next run"
assert_nomatch "earlier boot" "$ERR" "notice said twice"

# --reset: the upper is emptied before the run.
run_fwrun --rootfs "$T/fw.ext2" --name "$name" --state-dir "$S" --reset -- /sbin/boxinit \
	cat /data/new cat /etc/motd cat /etc/keep exit 0
assert_status 0 "--reset run"
assert_eq ERR:ENOENT "$(kvs "$OUT" cat:/data/new)" "--reset: /data/new gone"
assert_eq "hello from the image" "$(kvs "$OUT" cat:/etc/motd)" "--reset: /etc/motd pristine"
assert_eq keep "$(kvs "$OUT" cat:/etc/keep)" "--reset: /etc/keep back"
left=$(cd "$S/upper" 2>/dev/null && find . -mindepth 1 | LC_ALL=C sort | head -n 20)
assert_eq "" "$left" "--reset: upper dir empty after a run that wrote nothing"
run_fwrun --diff --state-dir "$S"
assert_status 0 "--diff after --reset"
assert_eq "" "$OUT" "--diff after --reset lists nothing"

# --ephemeral: upper/work on a tmpfs gone with the run (it keeps no state,
# so no --state-dir; the default one must not appear either).
D=/var/lib/fwrun/$PFX-eph
run_fwrun --rootfs "$T/fw.ext2" --name "$PFX-eph" --ephemeral -- /sbin/boxinit \
	write /data/eph gone exit 0
at_exit "rm -rf '$D'"
assert_status 0 "--ephemeral run"
assert_eq ok "$(kvs "$OUT" write:/data/eph)" "--ephemeral: writable root"
assert_nofile "$D" "--ephemeral created a state dir"
run_fwrun --rootfs "$T/fw.ext2" --name "$PFX-eph" --ephemeral -- /sbin/boxinit cat /data/eph
assert_status 0 "second --ephemeral run"
assert_eq ERR:ENOENT "$(kvs "$OUT" cat:/data/eph)" "--ephemeral: the next run starts pristine"
assert_nofile "$D" "--ephemeral created a state dir"

assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image sha256 at the end"
host_unchanged "$T/host.before" "at the end"
