#!/bin/bash
# SPDX-License-Identifier: MIT
# --bind and --bind-ro: host paths in the firmware, writable or not, in its
# mount namespace only: nothing on the host after a normal end or after a
# SIGKILL of fwrun. A missing DST is made in the upper dir (the run's diff).
# Hostile DSTs: '..' refused; a symlink in the image pointing out of it is
# resolved inside the firmware (contained). SRC under the state dir or the
# --rootfs directory is refused, and nothing is left.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_fs overlay
mk_staging "$T/staging"
# Symlinks that would lead out of the firmware, were they followed on the
# host: to /tmp (which the firmware has too), and to a directory of the
# host only (dangling in the firmware).
mkdir -p "$T/outside"
ln -s ../../../../../../../../tmp "$T/staging/escape"
ln -s "../../../../../../../../$T/outside" "$T/staging/escape2"
mk_image dir "$T/fw"
sum=$(sha_of "$T/fw")
mkdir -p "$T/h/rw" "$T/h/ro/sub"
echo ro-content >"$T/h/ro/f"
echo file-content >"$T/h/file"
host_snapshot "$T/host.before"

run_fwrun --rootfs "$T/fw" --state-dir "$T/s" --name "$PFX-b" \
	--bind "$T/h/rw:/mnt/rw" --bind-ro "$T/h/ro:/mnt/ro" --bind "$T/h/file:/etc/hfile" \
	--bind-ro "$T/h/ro:/escape/$PFX-in" \
	-- /sbin/boxinit write /mnt/rw/out yes cat /mnt/ro/f write /mnt/ro/no x \
	write /mnt/ro/sub/no x cat /etc/hfile write /etc/hfile changed cat /escape/$PFX-in/f
assert_status 0 "a run with binds"
assert_eq ok "$(kvs "$OUT" write:/mnt/rw/out)" "--bind: writable"
assert_file "$T/h/rw/out" yes "--bind: the write reaches the host's directory"
assert_eq ro-content "$(kvs "$OUT" cat:/mnt/ro/f)" "--bind-ro: visible"
assert_eq EROFS "$(kvs "$OUT" write:/mnt/ro/no)" "--bind-ro: read-only"
assert_eq EROFS "$(kvs "$OUT" write:/mnt/ro/sub/no)" "--bind-ro: read-only below too"
assert_eq file-content "$(kvs "$OUT" cat:/etc/hfile)" "--bind of a file"
assert_file "$T/h/file" changed "--bind of a file: writable"
assert_eq ro-content "$(kvs "$OUT" cat:/escape/$PFX-in/f)" "DST through a symlink: bound"
[ -e "/tmp/$PFX-in" ] && fail "DST through a symlink: made on the host"
[ -d "$T/s/upper/tmp/$PFX-in" ] || fail "DST through a symlink: made in the firmware's /tmp"
[ -d "$T/s/upper/mnt/rw" ] || fail "a missing DST is made in the upper dir"
assert_eq "$sum" "$(sha_of "$T/fw")" "the rootfs directory unchanged"
host_unchanged "$T/host.before" "after a run with binds"

# SIGKILL of fwrun: nothing left on the host.
start_fwrun k --rootfs "$T/fw" --ephemeral --name "$PFX-k" --bind "$T/h/rw:/mnt/rw" \
	--bind-ro "$T/h/ro:/mnt/ro" -- /sbin/boxinit ready sleep
wait_line "$T/k.out" '^ready=1' 20 || die "the firmware did not start"
kill -KILL "$FWPID"
wait "$FWPID" 2>/dev/null
next_run_clears_cgroups "$T/fw" "after SIGKILL of a run with binds"
host_unchanged "$T/host.before" "after SIGKILL of a run with binds"

# A symlink to nowhere in the firmware: refused, nothing made on the host.
run_fwrun --rootfs "$T/fw" --ephemeral --name "$PFX-r" --bind "$T/h/rw:/escape2/x"
assert_status 125 "DST through a symlink to nowhere"
assert_match "^fwrun: make the mount point in the firmware '/escape2/x'" "$ERR" \
	"DST through a symlink to nowhere: the line"
assert_eq "" "$(ls -A "$T/outside")" "DST through a symlink pointing out: nothing on the host"

# Refused, before anything is made.
run_fwrun --rootfs "$T/fw" --ephemeral --name "$PFX-r" --bind "$T/h:/../etc"
assert_status 125 "DST with '..'"
assert_match "DST must not contain '\.\.'" "$ERR" "DST with '..': the line"
run_fwrun --rootfs "$T/fw" --state-dir "$T/s" --name "$PFX-r" --bind "$T/s/upper:/x"
assert_status 125 "SRC under the state dir"
assert_match "^fwrun: bind '$T/s/upper': it lies under the state dir" "$ERR" \
	"SRC under the state dir: the line"
run_fwrun --rootfs "$T/fw" --ephemeral --name "$PFX-r" --bind-ro "$T/fw/etc:/x"
assert_status 125 "SRC inside the --rootfs directory"
run_fwrun --rootfs "$T/fw" --ephemeral --name "$PFX-r" --bind "$T/nowhere:/x"
assert_status 125 "a missing SRC"
assert_match "^fwrun: bind '$T/nowhere': No such file or directory" "$ERR" "a missing SRC: the line"
run_fwrun --rootfs "$T/fw" --ephemeral --name "$PFX-r" --bind /run/fwrun:/x
assert_status 125 "SRC under /run/fwrun"
assert_eq "$sum" "$(sha_of "$T/fw")" "the rootfs directory unchanged at the end"
host_unchanged "$T/host.before" "at the end"
