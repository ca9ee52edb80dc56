#!/bin/bash
# SPDX-License-Identifier: MIT
# systemd's container interface (systemd.io/CONTAINER_INTERFACE), shown
# without running systemd: the probe installed as /lib/systemd/systemd (and
# /sbin/init linked to it, as Debian does) gets what systemd would:
# container=fwrun and container_uuid in its environment, /proc premounted
# with /proc/sys read-only but /proc/sys/net, /sys read-only, a tmpfs /run
# with /run/host/{container-manager,container-uuid,os-release} read-only, a
# transient /etc/machine-id made from the uuid when the image's is empty or
# missing (never written to the upper dir), and SIGRTMIN+3 (37) as its stop
# signal. An init that is not systemd gets none of the mounts.
. "$(dirname "$0")/lib.sh"
ext2_firmware
st=$T/staging
mkdir -p "$st/lib/systemd"
cp "$PROBE" "$st/lib/systemd/systemd"
ln -sf ../lib/systemd/systemd "$st/sbin/init"
: >"$st/etc/machine-id"		# empty: systemd's "first boot", as images ship
mk_image ext2 "$T/sd.ext2" "$st"
# an image with an id of its own, and one without the file
cp -a "$st" "$T/own" && echo 0123456789abcdef0123456789abcdef >"$T/own/etc/machine-id"
mk_image ext2 "$T/own.ext2" "$T/own"
cp -a "$st" "$T/none" && rm "$T/none/etc/machine-id"
mk_image ext2 "$T/none.ext2" "$T/none"
sum=$(sha_of "$T/sd.ext2")
checks=(report ro /proc/sys ro /proc/sys/net ro /proc/sys/kernel ro /sys ro /run/host ro /run
	cat /run/host/container-manager cat /run/host/container-uuid cat /run/host/os-release
	cat /etc/machine-id ro /etc/machine-id)

run_fwrun --rootfs "$T/sd.ext2" --name "${PFX}s" --state-dir "$T/state" -v /sbin/init "${checks[@]}"
assert_status 0 "the probe as systemd"
o=$T/last.out
uuid=$(kv "$o" env.container_uuid)
assert_match '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' "$uuid" "container_uuid"
assert_eq fwrun "$(kv "$o" env.container)" "container="
assert_eq 1 "$(kv "$o" ro:/proc/sys)" "/proc/sys read-only"
assert_eq 1 "$(kv "$o" ro:/proc/sys/kernel)" "/proc/sys/kernel read-only"
assert_eq 0 "$(kv "$o" ro:/proc/sys/net)" "/proc/sys/net (the firmware's network namespace) writable"
assert_eq 1 "$(kv "$o" ro:/sys)" "/sys read-only"
assert_eq 1 "$(kv "$o" ro:/run/host)" "/run/host read-only"
assert_eq 0 "$(kv "$o" ro:/run)" "/run a writable tmpfs"
assert_eq fwrun "$(kv "$o" cat:/run/host/container-manager)" "/run/host/container-manager"
assert_eq "$uuid" "$(kv "$o" cat:/run/host/container-uuid)" "/run/host/container-uuid"
if [ -r /etc/os-release ]; then
	assert_eq "$(head -n 1 /etc/os-release)" "$(kv "$o" cat:/run/host/os-release)" "/run/host/os-release: the host's"
fi
assert_eq "${uuid//-/}" "$(kv "$o" cat:/etc/machine-id)" "transient machine id from the uuid"
assert_eq 1 "$(kv "$o" ro:/etc/machine-id)" "/etc/machine-id bound read-only"
assert_match 'fwrun: init: /lib/systemd/systemd \(systemd, amd64\), stop signal SIGRTMIN\+3' "$ERR" \
	"-v: /sbin/init resolved to systemd"
assert_nofile "$T/state/upper/etc/machine-id" "the transient id is not in the upper dir"

# The image's own id is kept; a missing one is made (a mount point in the
# upper dir, empty) and covered the same way.
run_fwrun --rootfs "$T/own.ext2" --name "${PFX}s" --ephemeral /lib/systemd/systemd cat /etc/machine-id
assert_eq 0123456789abcdef0123456789abcdef "$(kv "$T/last.out" cat:/etc/machine-id)" "the image's own id"
run_fwrun --rootfs "$T/none.ext2" --name "${PFX}s" --ephemeral /lib/systemd/systemd report cat /etc/machine-id
assert_eq "$(kv "$T/last.out" env.container_uuid | tr -d -)" "$(kv "$T/last.out" cat:/etc/machine-id)" \
	"no /etc/machine-id: a transient one"
# --setenv container_uuid= is the uuid everywhere
run_fwrun --rootfs "$T/sd.ext2" --name "${PFX}s" --ephemeral \
	--setenv container_uuid=11111111-2222-4333-8444-555555555555 \
	/lib/systemd/systemd report cat /run/host/container-uuid cat /etc/machine-id
assert_eq 11111111-2222-4333-8444-555555555555 "$(kv "$T/last.out" cat:/run/host/container-uuid)" "--setenv container_uuid"
assert_eq 11111111222243338444555555555555 "$(kv "$T/last.out" cat:/etc/machine-id)" "machine id from --setenv's uuid"

# fwrun's SIGTERM reaches systemd as SIGRTMIN+3 (its halt), unless
# --stop-signal says otherwise.
start_fwrun stop --rootfs "$T/sd.ext2" --name "${PFX}s" --ephemeral /lib/systemd/systemd wait-signal
wait_line "$T/stop.out" '^waiting=1' 10 || fail "probe as systemd not waiting: $(cat "$T/stop.err")"
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 10
assert_status 0 "stopped"
assert_eq 37 "$(kv "$T/stop.out" got-signal)" "systemd's stop signal: SIGRTMIN+3"
start_fwrun stop2 --rootfs "$T/sd.ext2" --name "${PFX}s" --ephemeral --stop-signal USR1 \
	/lib/systemd/systemd wait-signal
wait_line "$T/stop2.out" '^waiting=1' 10 || fail "probe as systemd not waiting (2)"
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 10
assert_eq 10 "$(kv "$T/stop2.out" got-signal)" "--stop-signal wins"

# Not systemd: no premounted /proc, no /run/host, the image's machine-id.
run_fwrun --rootfs "$T/sd.ext2" --name "${PFX}s" --ephemeral /bin/probe \
	cat /proc/sys/kernel/ostype cat /run/host/container-manager report
assert_eq ERR:ENOENT "$(kv "$T/last.out" cat:/proc/sys/kernel/ostype)" "another init: /proc not premounted"
assert_nomatch '^cat:/run/host/container-manager=fwrun' "$OUT" "another init: no /run/host"
assert_match '^env.container_uuid=' "$OUT" "container_uuid for every init"

assert_eq "$sum" "$(sha_of "$T/sd.ext2")" "image unchanged"
host_unchanged "$T/host.before"
