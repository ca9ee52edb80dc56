#!/bin/bash
# SPDX-License-Identifier: MIT
# The capability bounding set on this host: inside the firmware the clock
# cannot be set (EPERM), pid 1's CapBnd lacks the default set, --cap-add
# SYS_TIME gives it back (the probe then sets the clock to the value it just
# read: harmless), --cap-drop cuts more, bad names are refused, and --dry-run
# and -v show the set and the AppArmor decision.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_fs overlay
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
	# These runs would load fwrun's profile into this host's kernel;
	# profiles are loaded only in the VM (test/vm).
	skip "AppArmor is enabled on this host: the VM test covers it"
fi

grep -q '^CapBnd:.*' /proc/self/status || skip "no CapBnd in /proc/self/status"
host_bnd=$((16#$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)))
(( host_bnd & (1 << 25) )) || skip "this host's bounding set lacks CAP_SYS_TIME already"

mk_staging "$T/staging"
host_snapshot "$T/host.before"

bit() { (( ($1 >> $2) & 1 )) && echo 1 || echo 0; }
# numbers from capabilities(7)
declare -A default=([SYS_TIME]=25 [WAKE_ALARM]=35 [SYS_MODULE]=16 [SYS_RAWIO]=17
	[MAC_ADMIN]=33 [MAC_OVERRIDE]=32 [SYSLOG]=34 [AUDIT_CONTROL]=30
	[BLOCK_SUSPEND]=36 [LINUX_IMMUTABLE]=9)
declare -A kept=([SYS_ADMIN]=21 [NET_ADMIN]=12 [SYS_BOOT]=22 [MKNOD]=27 [SETPCAP]=8
	[NET_RAW]=13 [SYS_CHROOT]=18)

run() { run_fwrun --ephemeral --rootfs "$T/staging" --name "$PFX" "$@"; }

# 1. default: clock refused, the default set gone from pid 1's bounding set
run -- /sbin/boxinit report clock
assert_status 0 "default run" || exit 1
assert_eq 1 "$(kvs "$OUT" pid)" "the probe is pid 1"
assert_eq EPERM "$(kvs "$OUT" clock_settime)" "clock_settime in the firmware"
assert_eq EPERM "$(kvs "$OUT" settimeofday)" "settimeofday in the firmware"
bnd=$((16#$(kvs "$OUT" CapBnd)))
for c in "${!default[@]}"; do
	assert_eq 0 "$(bit $bnd ${default[$c]})" "CAP_$c in pid 1's CapBnd"
done
for c in "${!kept[@]}"; do
	(( host_bnd >> ${kept[$c]} & 1 )) || continue
	assert_eq 1 "$(bit $bnd ${kept[$c]})" "CAP_$c kept in pid 1's CapBnd"
done
# effective = bounding for root after exec: nothing else smuggled in
eff=$((16#$(kvs "$OUT" CapEff)))
assert_eq 0 "$(( eff & ~bnd ))" "pid 1's effective set within its bounding set"
assert_eq 0000000000000000 "$(kvs "$OUT" CapInh)" "pid 1's inheritable set"
assert_match 'still protect the host clock, devices and cgroups, but host-wide sysctls, /sys writes.* are open' "$ERR" \
	"auto without AppArmor says so"
assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c 'AppArmor is not enabled')" "said once"

# 2. --cap-add SYS_TIME (and no syscall filter, which refuses the clock too):
# the probe may set the clock (to the value just read)
run --cap-add sys_time --seccomp=off -- /sbin/boxinit report clock
assert_status 0 "--cap-add sys_time"
assert_eq ok "$(kvs "$OUT" clock_settime)" "clock_settime with --cap-add SYS_TIME"
assert_eq 1 "$(bit $((16#$(kvs "$OUT" CapBnd))) 25)" "CAP_SYS_TIME back in CapBnd"
assert_eq 0 "$(bit $((16#$(kvs "$OUT" CapBnd))) 35)" "CAP_WAKE_ALARM still cut"

# 3. --cap-drop more, any spelling; named in both: dropped
run --cap-drop CAP_NET_RAW --cap-drop Sys_Chroot --cap-add SYS_TIME --cap-drop sys_time \
	-- /sbin/boxinit report clock
assert_status 0 "--cap-drop"
bnd=$((16#$(kvs "$OUT" CapBnd)))
assert_eq 0 "$(bit $bnd 13)" "CAP_NET_RAW cut"
assert_eq 0 "$(bit $bnd 18)" "CAP_SYS_CHROOT cut"
assert_eq 0 "$(bit $bnd 25)" "CAP_SYS_TIME named in both: cut"
assert_eq EPERM "$(kvs "$OUT" clock_settime)" "clock_settime"

# 4. --cap-drop ALL --cap-add SYS_ADMIN: only that one left
run --cap-drop ALL --cap-add SYS_ADMIN -- /sbin/boxinit report
assert_status 0 "--cap-drop ALL --cap-add SYS_ADMIN"
assert_eq 0000000000200000 "$(kvs "$OUT" CapBnd)" "CapBnd with only CAP_SYS_ADMIN"

# 5. bad names: 125, the name in the message, nothing run
for bad in SYS_TIMES cap_ bogus 25; do
	run --cap-drop "$bad" -- /sbin/boxinit report
	assert_status 125 "--cap-drop $bad"
	assert_match "--cap-drop '$bad': unknown capability" "$ERR" "message for $bad"
	assert_eq "" "$OUT" "nothing ran for --cap-drop $bad"
done
run --cap-add "SYS TIME" -- /sbin/boxinit report
assert_status 125 "--cap-add 'SYS TIME'"
assert_match "--cap-add 'SYS TIME': unknown capability" "$ERR" "message for a bad --cap-add"
run --apparmor=maybe -- /sbin/boxinit report
assert_status 125 "--apparmor=maybe"
assert_match "auto, on or off" "$ERR" "message for a bad --apparmor"

# 6. AppArmor modes without AppArmor in the kernel
run --apparmor=on -- /sbin/boxinit report
assert_status 125 "--apparmor=on without AppArmor"
assert_match "AppArmor is not enabled in this kernel" "$ERR" "--apparmor=on message"
assert_eq "" "$OUT" "nothing ran with --apparmor=on"
run --profile fwt-none -- /sbin/boxinit report
assert_status 125 "--profile without AppArmor"
run --apparmor=off --profile fwt-none -- /sbin/boxinit report
assert_status 125 "--profile with --apparmor=off"
run --apparmor=off -- /sbin/boxinit report clock
assert_status 0 "--apparmor=off"
assert_eq EPERM "$(kvs "$OUT" clock_settime)" "clock with --apparmor=off: capabilities still cut"
assert_nomatch 'AppArmor is not enabled' "$ERR" "--apparmor=off: no notice"
run -q -- /sbin/boxinit report
assert_eq "" "$ERR" "-q: no notice"

# 7. --dry-run and -v tell
run --dry-run --cap-add SYS_TIME --cap-drop NET_RAW
assert_status 0 "--dry-run"
assert_match '^caps: +cut from the bounding set: CAP_LINUX_IMMUTABLE,CAP_NET_RAW,CAP_SYS_MODULE,CAP_SYS_RAWIO,CAP_AUDIT_CONTROL,' \
	"$OUT" "--dry-run shows the set"
assert_nomatch 'CAP_SYS_TIME' "$OUT" "--dry-run: SYS_TIME added back"
assert_match '^apparmor: +not enabled in this kernel' "$OUT" "--dry-run shows the AppArmor decision"
run -v -- /sbin/boxinit exit 0
assert_status 0 "-v"
assert_match '^fwrun: capabilities cut from the bounding set: .*CAP_SYS_TIME' "$ERR" "-v shows the set"
assert_match '^fwrun: apparmor: ' "$ERR" "-v shows the AppArmor decision"

host_unchanged "$T/host.before"
exit $((FWT_FAILS > 0))
