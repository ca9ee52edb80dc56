#!/bin/bash
# SPDX-License-Identifier: MIT
# A firmware whose pid 1 calls reboot(2): "firmware rebooted" -> 133,
# "firmware powered off" -> 0; --restart-on-reboot starts it again on the
# same upper dir until it powers off.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
[ -x /bin/busybox ] || skip "needs busybox-static for the image's /bin/sh"
mk_staging "$T/staging"
# First boot: leave a mark in the upper dir and reboot; second boot: see the
# mark (same upper dir) and power off. exec keeps the shell's pid 1.
cat >"$T/staging/sbin/twice" <<'SH'
#!/bin/sh
busybox tty
if [ -e /data/booted ]; then
	echo "boot=second"
	exec /bin/probe poweroff
fi
echo first >/data/booted
echo "boot=first"
exec /bin/probe reboot
SH
chmod 0755 "$T/staging/sbin/twice"
# An init that reboots when asked to stop (some do: SIGTERM -> reboot(2))
cat >"$T/staging/sbin/reboot-on-term" <<'SH'
#!/bin/sh
trap 'exec /bin/probe reboot' TERM
echo "ready=1"
while :; do busybox sleep 0.1; done
SH
chmod 0755 "$T/staging/sbin/reboot-on-term"
mk_image ext2 "$T/fw.ext2" "$T/staging"
common=(--rootfs "$T/fw.ext2" --name "${PFX}r")

run_fwrun "${common[@]}" --ephemeral /sbin/boxinit reboot
assert_status 133 "reboot"
assert_match '^reboot=calling' "$OUT" "the probe called reboot(2)"
assert_match '^fwrun: firmware rebooted$' "$ERR" "reboot line"

run_fwrun "${common[@]}" --ephemeral /sbin/boxinit poweroff
assert_status 0 "poweroff"
assert_match '^fwrun: firmware powered off$' "$ERR" "poweroff line"

# Without --restart-on-reboot the script boots once.
run_fwrun "${common[@]}" --state-dir "$T/state1" /sbin/twice
assert_status 133 "twice, no restart"
assert_eq 1 "$(grep -c '^boot=' "$T/last.out")" "one boot"

# With it: two boots, the second sees the first's file, then powers off.
run_fwrun "${common[@]}" --state-dir "$T/state2" --restart-on-reboot --status-fd 3 \
	/sbin/twice 3>"$T/events"
assert_status 0 "twice, restarted, powered off"
assert_eq "boot=first boot=second" "$(grep '^boot=' "$T/last.out" | tr '\n' ' ' | sed 's/ $//')" \
	"two boots on the same upper dir"
assert_match 'firmware rebooted: starting it again' "$ERR" "restart line"
assert_match '^fwrun: firmware powered off$' "$ERR" "poweroff line"
assert_eq "started restarting started exited" \
	"$(jq -r .event "$T/events" | tr '\n' ' ' | sed 's/ $//')" "event sequence"
assert_eq "1 1 2 2" "$(jq -r .run "$T/events" | tr '\n' ' ' | sed 's/ $//')" "run numbers"
assert_eq "poweroff 0" "$(tail -n1 "$T/events" | jq -r '"\(.reason) \(.status)"')" "last event"
# (namespace inode numbers are recycled once freed: compare the inits' pids)
p1=$(jq -r 'select(.event=="started" and .run==1) | .pid' "$T/events")
p2=$(jq -r 'select(.event=="started" and .run==2) | .pid' "$T/events")
assert_ne "$p1" "$p2" "a new init for the second boot"
assert_eq 0 "$(jq -r 'select(.event=="started") | .namespaces.pid' "$T/events" | grep -vc '^[0-9][0-9]*$')" \
	"both boots report their pid namespace"

# The same with a pty console: both boots get /dev/console (the pty is kept
# across the restart and becomes the new init's controlling terminal).
run_fwrun "${common[@]}" --state-dir "$T/state3" --restart-on-reboot --console=pty /sbin/twice
assert_status 0 "twice with a pty"
OUT=$(tr -d '\r' <<<"$OUT")
assert_eq "/dev/console /dev/console" "$(grep '^/dev/' <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')" \
	"both boots have /dev/console as a tty"
assert_eq 2 "$(grep -c '^boot=' <<<"$OUT")" "two boots with a pty"

# Stopping fwrun is not a reboot to carry out: no restart, even when the
# firmware answers the stop signal by rebooting.
start_fwrun stop "${common[@]}" --ephemeral --restart-on-reboot /sbin/reboot-on-term
wait_line "$T/stop.out" '^ready=1' || die "reboot-on-term never got ready: $(cat "$T/stop.err")"
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 10
assert_status 133 "stopped firmware that rebooted"
assert_eq 1 "$(grep -c '^ready=1' "$T/stop.out")" "not started again"
assert_nomatch 'starting it again' "$(cat "$T/stop.err")" "no restart line"
