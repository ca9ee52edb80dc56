#!/bin/bash
# SPDX-License-Identifier: MIT
# busybox init as the firmware's init, unchanged (issue 16): /sbin/init from
# Debian's busybox-static with an inittab. Its sysinit runs, its respawn
# service is started again each time it exits, `poweroff` from inside ends
# fwrun with 0 (after the shutdown actions), `reboot` with 133 or a restart
# with --restart-on-reboot, and fwrun's SIGTERM is passed on as busybox
# init's own power-off request (SIGUSR2; its SIGTERM would reboot).
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd mke2fs
need_fs overlay
[ -x /bin/busybox ] || skip "needs busybox-static (tools/install-deps installs it)"

st=$T/staging
mk_busybox_tree "$st"
mkdir -p "$st/etc/init.d" "$st/data"
cat >"$st/etc/inittab" <<'TAB'
::sysinit:/etc/init.d/rcS
::respawn:/sbin/svc
::shutdown:/bin/echo "shutdown: actions ran"
TAB
cat >"$st/etc/init.d/rcS" <<'SH'
#!/bin/sh
mount -t proc proc /proc
mount -t tmpfs -o mode=0755 tmpfs /run
echo "rcS: sysinit ran as pid $$ under init $(cat /proc/1/comm)"
SH
# Each start counts; the third one does what FWT_ACTION says, from
# inside, as a user at the firmware's shell would.
cat >"$st/sbin/svc" <<'SH'
#!/bin/sh
n=$(cat /run/svc.count 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >/run/svc.count
echo "svc: start $n"
if [ "$n" -lt 3 ]; then
	sleep 0.1
	exit 0
fi
case $FWT_ACTION in
poweroff) poweroff ;;
reboot) reboot ;;
reboot-once)
	if [ -e /data/rebooted ]; then poweroff; else touch /data/rebooted; reboot; fi ;;
*) echo "svc: ready" ;;
esac
exec sleep 3600
SH
chmod 0755 "$st/etc/init.d/rcS" "$st/sbin/svc"
mk_image ext2 "$T/fw.ext2" "$st"
sum=$(sha_of "$T/fw.ext2")
host_snapshot "$T/host.before"
common=(--rootfs "$T/fw.ext2" --name "${PFX}b" --timeout 20)

# poweroff from inside: the shutdown actions, then 0.
run_fwrun "${common[@]}" --ephemeral --setenv FWT_ACTION=poweroff /sbin/init
assert_status 0 "poweroff from inside"
assert_match '^rcS: sysinit ran as pid [0-9]+ under init init' "$OUT" "sysinit action"
assert_match '^svc: start 3' "$OUT" "respawned twice"
assert_match '^shutdown: actions ran' "$OUT" "shutdown action"
assert_match '^fwrun: firmware powered off$' "$ERR" "poweroff line"

# reboot from inside: 133.
run_fwrun "${common[@]}" --ephemeral --setenv FWT_ACTION=reboot /sbin/init
assert_status 133 "reboot from inside"
assert_match '^shutdown: actions ran' "$OUT" "shutdown action on reboot"
assert_match '^fwrun: firmware rebooted$' "$ERR" "reboot line"

# reboot with --restart-on-reboot: booted again on the same upper dir,
# which then powers off.
run_fwrun "${common[@]}" --state-dir "$T/state" --restart-on-reboot \
	--setenv FWT_ACTION=reboot-once /sbin/init
assert_status 0 "reboot, restart, poweroff"
assert_eq 2 "$(grep -c '^rcS: sysinit ran' "$T/last.out")" "two boots"
assert_match 'firmware rebooted: starting it again' "$ERR" "restart line"

# fwrun's SIGTERM: busybox init powers off (SIGUSR2 by default), after its
# shutdown actions: 0, not a reboot.
start_fwrun stop "${common[@]}" --ephemeral -v /sbin/init
wait_line "$T/stop.out" '^svc: ready' 10 || fail "busybox init did not start its service"
assert_match 'fwrun: init: /bin/busybox \(busybox init.*\), stop signal SIGUSR2' \
	"$(cat "$T/stop.err")" "-v names the init and its stop signal"
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 15
assert_status 0 "SIGTERM to fwrun: busybox init powered off"
assert_match '^shutdown: actions ran' "$(cat "$T/stop.out")" "shutdown action on stop"
assert_match '^fwrun: firmware powered off$' "$(cat "$T/stop.err")" "poweroff line on stop"

# --stop-signal still wins: SIGTERM is busybox init's reboot.
start_fwrun stop2 "${common[@]}" --ephemeral --stop-signal TERM /sbin/init
wait_line "$T/stop2.out" '^svc: ready' 10 || fail "busybox init did not start (2)"
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 15
assert_status 133 "--stop-signal TERM: busybox init reboots"

assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image unchanged"
host_unchanged "$T/host.before"
