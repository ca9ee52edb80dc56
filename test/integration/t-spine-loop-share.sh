#!/bin/bash
# SPDX-License-Identifier: MIT
# Instances of one image share its loop device: the second run finds the
# device the first attached (its record in /run/fwrun/loop names it) and
# mounts it too; the device serves the second after the first has gone and
# is freed (autoclear) after the last. A record that names a device no
# longer serving the image (detached, or attached by someone else to another
# file), garbage, or a record that cannot be opened: a fresh device, and the
# other's device untouched.
. "$(dirname "$0")/lib.sh"
need_cmd losetup
mk_staging "$T/staging"
head -c 300000 /dev/urandom >"$T/staging/data/unread"
ext2_firmware
img=$T/fw.ext2
record=/run/fwrun/loop/$(stat -c '%d:%i' "$img")

devices_of() { losetup -n -O NAME -j "$1" | LC_ALL=C sort; }

# --- two at once ---------------------------------------------------------------
start_fwrun a --rootfs "$img" --ephemeral --name "$PFX-a" -- /sbin/boxinit term-exit 0 report ready sleep
a=$FWPID
wait_line "$T/a.out" '^ready=1' 20 || { cat "$T/a.err"; die "the first instance did not start"; }
start_fwrun b --rootfs "$img" --ephemeral --name "$PFX-b" -- /sbin/boxinit term-exit 0 report ready sleep
b=$FWPID
wait_line "$T/b.out" '^ready=1' 20 || { cat "$T/b.err"; die "the second instance did not start"; }

devs=$(devices_of "$img")
assert_eq 1 "$(printf '%s\n' "$devs" | grep -c .)" "loop devices on the image with two instances"
assert_eq "${devs#/dev/loop}" "$(cat "$record" 2>/dev/null)" "the image's record names that device"
assert_eq "$(kv "$T/a.out" rootents)" "$(kv "$T/b.out" rootents)" "both see the image's root"

# The first goes; the second reads what nobody has read yet, through the
# same device.
kill -TERM "$a"
wait_fwrun "$a" 20
assert_status 0 "the first instance, stopped"
run_fwrun --enter "$PFX-b" -- /bin/probe read /data/unread cat /etc/motd
assert_status 0 "enter the second after the first has gone"
assert_eq ok "$(kvs "$OUT" read:/data/unread)" "a file never read before, read after the first has gone"
assert_eq "hello from the image" "$(kvs "$OUT" cat:/etc/motd)" "the image, through the shared device"
assert_eq "$devs" "$(devices_of "$img")" "the second still on the device the first attached"
kill -TERM "$b"
wait_fwrun "$b" 20
assert_status 0 "the second instance, stopped"
host_unchanged "$T/host.before" "after the last instance of the image"

# --- records that do not serve -----------------------------------------------
one_run() {	# WHAT: a run on the image exits 0 and leaves nothing
	run_fwrun -q --rootfs "$img" --ephemeral --name "$PFX-r" -- /sbin/boxinit exit 0
	assert_status 0 "a run with $1"
	assert_eq "" "$ERR" "stderr of a run with $1"
}

# A device the test attaches to another file, without autoclear: its number
# in the image's record.
head -c 1048576 /dev/zero >"$T/other.img"
other=$(losetup -f --show -r "$T/other.img") || die "losetup of another file failed"
at_exit "losetup -d '$other' 2>/dev/null"
printf '%s' "${other#/dev/loop}" >"$record"
one_run "a record naming a device attached to another file"
assert_eq "$T/other.img" "$(losetup -n -O BACK-FILE "$other")" "the other file's device, untouched"
assert_ne "${other#/dev/loop}" "$(cat "$record")" "the record names the run's own device now"
losetup -d "$other"

# The device the record names is detached by now (autoclear): taken afresh.
one_run "a record naming a device that was freed"
printf 'loop7x' >"$record"
one_run "a record of garbage"
: >"$record"
one_run "an empty record"
rm -f "$record"
mkdir "$record"
at_exit "rmdir '$record' 2>/dev/null"
one_run "a record that cannot be opened (a directory)"
rmdir "$record"

host_unchanged "$T/host.before" "after the runs"
assert_eq "$sum" "$(sha_of "$img")" "image sha256 after the runs"
