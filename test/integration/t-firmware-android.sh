#!/bin/bash
# SPDX-License-Identifier: MIT
# An Android-style init boots unchanged (issue 16): test/androidinit.c does
# what Android's first and second stage do with the file system and the
# devices. Under fwrun: its own tmpfs on /dev and its device nodes, /proc
# and /sys, ro.boot.* from its argv (androidboot.X as ro.boot.X, and
# ro.boot.X=Y), a shared property area in /dev/__properties__ and a
# property service socket in /dev/socket that another process sets a
# property through. Its kernel-log lines never reach the host's kernel log:
# it writes them to its console; its own /dev/kmsg (1:11) opens today, and
# is denied once fwrun has a device allowlist (fwrun(8), FIRMWARES).
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd mke2fs
need_fs overlay
AINIT=$B/test/androidinit
if [ ! -x "$AINIT" ]; then
	AINIT=$T/androidinit
	cc -std=gnu11 -O2 -static -o "$AINIT" "$REPO/test/androidinit.c" 2>"$T/cc.log" ||
		die "cannot build test/androidinit.c: $(cat "$T/cc.log")"
fi
mk_staging "$T/staging"
cp "$AINIT" "$T/staging/init"
chmod 0755 "$T/staging/init"
mk_image ext2 "$T/fw.ext2"
sum=$(sha_of "$T/fw.ext2")
host_snapshot "$T/host.before"
common=(--rootfs "$T/fw.ext2" --name "${PFX}d" --ephemeral)

run_fwrun "${common[@]}" /init androidboot.hardware=fwt ro.boot.serialno="$PFX"
assert_status 0 "android-style init boots and ends"
for k in mount.dev mount.devpts mount.proc mount.sys mknod.null mknod.zero mknod.full \
	mknod.random mknod.urandom mknod.tty mknod.ptmx mknod.kmsg mkdir.__properties__ \
	prop_area property_service setprop; do
	assert_eq ok "$(kv "$T/last.out" "$k")" "$k"
done
assert_eq "fwt (argv)" "$(kv "$T/last.out" prop.ro.boot.hardware)" "androidboot.hardware as ro.boot.hardware"
assert_eq "$PFX (argv)" "$(kv "$T/last.out" prop.ro.boot.serialno)" "ro.boot.serialno from argv"
assert_eq refused "$(kv "$T/last.out" setprop.ro_again)" "a ro. property is set once"
assert_eq 1 "$(kv "$T/last.out" getprop.sys.boot_completed)" "set through the socket, read from the shared area"
assert_eq fwt "$(kv "$T/last.out" getprop.ro.boot.hardware)" "ro.boot.hardware read by another process"
assert_match '^<6>init: boot completed$' "$OUT" "its log lines on its console"
if "$FWRUN" --help | grep -q -- '--device'; then
	# The device allowlist: its own kmsg node (the host's log) is refused.
	assert_eq "Operation not permitted" "$(kv "$T/last.out" kmsg.open)" "kmsg denied by the allowlist"
else
	assert_eq ok "$(kv "$T/last.out" kmsg.open)" "kmsg opens (no device allowlist yet)"
fi
if dmesg >/dev/null 2>&1; then
	assert_nomatch "$PFX|init: boot completed" "$(dmesg | tail -n 200)" "nothing in the host's kernel log"
fi

# Stopped by fwrun's SIGTERM (its default stop signal: an "other" init).
start_fwrun stay "${common[@]}" /init androidboot.fwt_stay=1
wait_line "$T/stay.out" '^ready=1' 10 || fail "the android-style init never got ready: $(cat "$T/stay.err")"
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 10
assert_status 0 "stopped with SIGTERM"
assert_match '^got-signal=TERM' "$(cat "$T/stay.out")" "it got SIGTERM"

assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image unchanged"
host_unchanged "$T/host.before"
