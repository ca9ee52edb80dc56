#!/bin/bash
# SPDX-License-Identifier: MIT
# The syscall filter on this host (no AppArmor here: the filter alone, with
# the bounding set): under fwrun's defaults each call the filter denies gets
# EPERM inside the firmware, through the i386 and x32 ABIs too, a child of
# the init as well; the reads of the clock and the calls a firmware needs
# still work. With --seccomp=off the same harmless calls fail otherwise (or
# succeed), which proves the filter, not another layer, made the EPERMs. The
# probe's calls are harmless either way (test/probe.c, "syscalls").
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_fs overlay
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
	skip "AppArmor is enabled on this host: the VM test covers it"
fi
grep -q '^Seccomp:' /proc/self/status || skip "this kernel has no seccomp"

mk_staging "$T/staging"
host_snapshot "$T/host.before"
run() { run_fwrun --ephemeral --rootfs "$T/staging" --name "$PFX" "$@"; }

# Denied by the filter; the bounding set already refuses some (modules,
# clock, syslog), the device cgroup block devices' nodes; the others only
# the filter stops.
filter_only=(kexec_load kexec_file_load name_to_handle_at open_by_handle_at swapon swapoff
	acct keyctl add_key request_key keyctl-x32 quotactl bpf perf_event_open userfaultfd
	iopl ioperm)
with_caps=(init_module finit_module delete_module clock_settime settimeofday
	syslog-console-level mknod-block)
allowed=(mknod-fifo adjtimex-read clock_adjtime-read unshare-none)

# 1. default: the filter is on
run -- /sbin/boxinit syscalls
assert_status 0 "default run" || exit 1
assert_eq 2 "$(kvs "$OUT" Seccomp)" "pid 1's seccomp mode (filter)"
assert_eq 1 "$(kvs "$OUT" Seccomp_filters)" "one filter on pid 1"
for c in "${filter_only[@]}" "${with_caps[@]}" lookup_dcookie; do
	assert_eq EPERM "$(kvs "$OUT" "sys.$c")" "$c in the firmware"
done
i386=$(kvs "$OUT" sys.keyctl-i386)
if [ "$i386" = unavailable ]; then
	log "no i386 ABI in this kernel: int \$0x80 makes no call at all"
else
	assert_eq EPERM "$i386" "keyctl through the i386 ABI"
fi
for c in "${allowed[@]}"; do
	assert_eq ok "$(kvs "$OUT" "sys.$c")" "$c (allowed) in the firmware"
done
on_out=$OUT

# 2. a process the init starts inherits it
run -- /bin/sh -c '/bin/probe syscalls'
assert_status 0 "a child of the init"
assert_eq EPERM "$(kvs "$OUT" sys.keyctl)" "keyctl in a child of the init"
assert_eq EPERM "$(kvs "$OUT" sys.mknod-block)" "mknod b in a child of the init"

# 3. --seccomp=off: no filter; the same calls give other results
run --seccomp=off -- /sbin/boxinit syscalls
assert_status 0 "--seccomp=off" || exit 1
assert_eq 0 "$(kvs "$OUT" Seccomp)" "no seccomp with --seccomp=off"
for c in "${filter_only[@]}"; do
	got=$(kvs "$OUT" "sys.$c")
	[ -n "$got" ] || fail "$c: no result with --seccomp=off"
	assert_ne EPERM "$got" "$c with --seccomp=off ($got)"
done
if [ "$i386" != unavailable ]; then
	assert_ne EPERM "$(kvs "$OUT" sys.keyctl-i386)" "i386 keyctl with --seccomp=off"
fi
for c in "${with_caps[@]}"; do	# the bounding set or the device cgroup still refuse these
	assert_match '^(EPERM|ENOSYS)$' "$(kvs "$OUT" "sys.$c")" \
		"$c with --seccomp=off (bounding set, device cgroup, or not in this kernel)"
done
for c in "${allowed[@]}" syslog-size; do
	assert_eq "$(kvs "$on_out" "sys.$c")" "$(kvs "$OUT" "sys.$c")" "$c the same with and without"
done
log "with --seccomp=off: $(printf '%s\n' "$OUT" | grep '^sys\.' | tr '\n' ' ')"

# 4. bad values
run --seccomp=maybe -- /sbin/boxinit
assert_status 125 "--seccomp=maybe"
assert_match "option --seccomp 'maybe': use on or off" "$ERR" "--seccomp=maybe refused"

# 5. --dry-run says it
run --dry-run
assert_match '^seccomp: +on' "$OUT" "--dry-run shows the filter"
run --dry-run --seccomp=off
assert_match '^seccomp: +off' "$OUT" "--dry-run shows --seccomp=off"

host_unchanged "$T/host.before"
exit $((FWT_FAILS > 0))
