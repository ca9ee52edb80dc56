#!/bin/bash
# SPDX-License-Identifier: MIT
# A hostile firmware on this host (issue 14): no AppArmor here, so the
# layers are the bounding set, the syscall filter, the device allowlist and
# the cgroup namespace. The probe tries every way out of test/hostile.sh as
# pid 1 under fwrun's defaults, then with --seccomp=off to say which layer
# stopped it. The test fails on any way out fwrun(8) says is stopped without
# AppArmor; the others are reported open, by name. Every write puts back
# the value read just before; the "host disk" is a loop device over a file
# of this test.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_fs overlay
need_cmd losetup
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then
	skip "AppArmor is enabled on this host: test/vm/guest.d/30-hostile.sh covers it"
fi
grep -q '^Seccomp:' /proc/self/status || skip "this kernel has no seccomp"
. "$REPO/test/hostile.sh"

mk_staging "$T/staging"
mk_image ext4 "$T/fw.ext4" "$T/staging"
truncate -s 4M "$T/hostdisk"
disk=$(losetup -f --show "$T/hostdisk") || die "no loop device for the host disk"
at_exit "losetup -d $disk"
hostile_read "$disk"
eval "set -- $(hostile_words)"

# The host's cgroup2 tree (hybrid: the unified one): what is at its root.
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
at_exit "[ -n \"$cg2\" ] && rmdir \"$cg2/fwt-evil\" 2>/dev/null; true"
host_snapshot "$T/host.before"

runmode() {	# TAG OPTION...: the probe's output in $T/h.TAG
	local tag=$1
	shift
	run_fwrun --rootfs "$T/fw.ext4" --ephemeral --name "$PFX" "$@"
	printf '%s\n' "$OUT" >"$T/h.$tag"
	assert_status 0 "the hostile probe ($tag)"
	# a cgroup made in the firmware's own cgroup namespace is not a way
	# out: one at the root of the host's tree is
	if [ -n "$cg2" ] && [ -d "$cg2/fwt-evil" ]; then
		echo "cg2-host-root=ok" >>"$T/h.$tag"
		rmdir "$cg2/fwt-evil"
	else
		echo "cg2-host-root=no" >>"$T/h.$tag"
	fi
}
hostile_args=("$@")
runmode all -- /sbin/boxinit "${hostile_args[@]}"
runmode noseccomp --seccomp=off -- /sbin/boxinit "${hostile_args[@]}"

hostile_pass() { log "$1: $2"; }
hostile_fail() { fail "$1: $2"; }
HOSTILE_ALL=$T/h.all HOSTILE_OFF="seccomp=$T/h.noseccomp" HOSTILE_AA=0
hostile_ways
log "$hostile_tried ways out tried, $hostile_blocked stopped under fwrun's defaults" \
	"without AppArmor${hostile_open_list:+; open:$hostile_open_list}"
assert_eq "" "$(hostile_allowed)" "what a firmware needs, under the defaults"
assert_eq 2 "$(kv "$T/h.all" Seccomp)" "pid 1's seccomp mode"
assert_eq "$hostile_panic" "$(cat /proc/sys/kernel/panic)" "kernel.panic after the runs"
assert_eq "$hostile_ptime" "$(cat /sys/module/printk/parameters/time)" "printk.time after the runs"
host_unchanged "$T/host.before"
exit $((FWT_FAILS > 0))
