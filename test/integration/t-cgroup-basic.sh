#!/bin/bash
# SPDX-License-Identifier: MIT
# The instance's cgroup (issue 14), on this host's cgroups (v1/hybrid here,
# v2 in the VM test): pid 1 in a cgroup namespace ("/" in every line of
# /proc/self/cgroup); a cgroup file system it mounts shows only its own
# subtree (its processes alone; what it creates lands below the host's
# fwrun-NAME/payload, nowhere else); the device allowlist stops a mknod'ed
# block device (a loop device of ours) and /dev/mem whatever their path,
# without AppArmor; --device passes a node in; the exited event has peak
# memory and CPU time; the cgroups are gone after the run.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd losetup
need_fs overlay
[ -x /bin/busybox ] || skip "no /bin/busybox for the firmware's shell"
grep -q ' - cgroup2\? ' /proc/self/mountinfo || skip "no cgroup file system mounted"

mk_staging "$T/staging"
mk_image dir "$T/root"
# A loop device of ours, with known content, for the block device checks.
head -c 1048576 /dev/zero | tr '\0' 'L' >"$T/disk.img"
LOOP=$(losetup -f --show "$T/disk.img") || die "losetup failed"
at_exit "losetup -d $LOOP"
LMAJ=$((0x$(stat -c %t "$LOOP"))) LMIN=$((0x$(stat -c %T "$LOOP")))
host_snapshot "$T/host.before"
# Where a broken fwrun would let the firmware's cgroup land: removed anyway.
at_exit "find /sys/fs/cgroup -maxdepth 8 -depth -type d -name '$PFX-inner' -exec rmdir {} + 2>/dev/null"

# The firmware's side: a busybox shell script, one "key=value" line per check.
cat >"$T/root/check.sh" <<EOF
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
echo "cgroup-lines=\$(wc -l </proc/self/cgroup)"
echo "cgroup-nonroot=\$(grep -vc ':/\$' /proc/self/cgroup)"
mkdir -p /tmp/cg
if grep -q ' - cgroup2 ' /proc/1/mountinfo 2>/dev/null || grep -q '^0::' /proc/self/cgroup; then
	if mount -t cgroup2 none /tmp/cg; then
		echo "v2-procs=\$(sort -n /tmp/cg/cgroup.procs | tr '\n' ' ')"
		mkdir /tmp/cg/$PFX-inner && echo "v2-mkdir=ok"
		echo "v2-up=\$(ls /tmp/cg/.. | grep -c fwrun-)"
		umount /tmp/cg
	fi
fi
if mount -t cgroup -o pids none /tmp/cg 2>/dev/null; then
	echo "v1-procs=\$(sort -n /tmp/cg/cgroup.procs | tr '\n' ' ')"
	mkdir /tmp/cg/$PFX-inner && echo "v1-mkdir=ok"
	umount /tmp/cg
fi
if mount -t cgroup -o devices none /tmp/cg 2>/dev/null; then
	echo a >/tmp/cg/devices.allow 2>/dev/null && echo "devices-widen=ok" || echo "devices-widen=denied"
	umount /tmp/cg
fi
mknod /tmp/blk b $LMAJ $LMIN 2>/dev/null && echo "mknod-b=ok" || echo "mknod-b=denied"
head -c 4 /tmp/blk >/dev/null 2>&1 && echo "read-b=ok" || echo "read-b=denied"
mknod /tmp/mem c 1 1 2>/dev/null && echo "mknod-mem=ok" || echo "mknod-mem=denied"
mknod /tmp/kmsg c 1 11 2>/dev/null && echo "mknod-kmsg=ok" || echo "mknod-kmsg=denied"
echo x 2>/dev/null >/tmp/kmsg && echo "write-kmsg=ok" || echo "write-kmsg=denied"
head -c 4 /dev/urandom >/dev/null && echo "urandom=ok"
if [ -n "\$2" ]; then
	echo "passed-node=\$(head -c 4 \$2)"
	echo x 2>/dev/null >\$2 && echo "write-passed=ok" || echo "write-passed=denied"
fi
echo "ready=1"
if [ "\$1" = wait ]; then
	trap 'exit 0' TERM
	while :; do sleep 1 & wait; done
fi
exit 0
EOF

# 1. A run that waits while the host looks at its cgroups.
N=$PFX-a
start_fwrun a --rootfs "$T/root" --name "$N" --ephemeral --console=pipe \
	--status-fd 3 -- /bin/sh /check.sh wait 3>"$T/a.events"
wait_line "$T/a.out" '^ready=1' 20 || die "firmware not ready: $(cat "$T/a.out" "$T/a.err")"
INIT=$(find_init "$FWPID")
cgs=$(fwt_cgroups)
assert_match "fwrun-$N" "$cgs" "the instance's cgroups while it runs"
# The init's cgroups, as the host sees them: every line below fwrun-NAME/payload,
# but a v1 memory hierarchy's, where without --memory-max it is fwrun-NAME
# itself (one memory cgroup, not two: bench/RESULTS.md).
while IFS=: read -r id ctl path; do
	case $ctl:$path in
	memory:*/fwrun-$N) ;;
	memory:*/fwrun-$N/*) fail "pid 1 in '$id:$ctl:$path': two memory cgroups without a limit" ;;
	*:*/fwrun-$N/payload | *:*/fwrun-$N/payload/*) ;;
	*) fail "pid 1 in '$id:$ctl:$path', not in fwrun-$N/payload" ;;
	esac
done <"/proc/$INIT/cgroup"
# What the firmware made lands inside its payload, not in the host's tree.
made=$(find /sys/fs/cgroup -maxdepth 8 -type d -name $PFX-inner 2>/dev/null)
[ -n "$made" ] || fail "the firmware's $PFX-inner cgroup is nowhere"
for d in $made; do
	assert_match "/fwrun-$N/payload/$PFX-inner\$" "$d" "where the firmware's cgroup landed"
done
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 20
assert_status 0 "the checking run"
OUT=$(cat "$T/a.out")
assert_eq 0 "$(kv "$T/a.out" cgroup-nonroot)" "lines of the firmware's /proc/self/cgroup not '/'"
assert_ne 0 "$(kv "$T/a.out" cgroup-lines)" "lines of the firmware's /proc/self/cgroup"
# Its cgroup file systems show its own processes only (pid 1 and its
# children: small numbers of its pid namespace).
for k in v2-procs v1-procs; do
	v=$(kv "$T/a.out" "$k")
	[ -n "$v" ] || continue
	assert_match '^1 ' "$v" "$k: pid 1 in the firmware's own cgroup root"
	for p in $v; do
		[ "$p" -lt 100 ] || fail "$k: pid $p seen inside: the host's processes?"
	done
done
[ -n "$(kv "$T/a.out" v2-procs)$(kv "$T/a.out" v1-procs)" ] || fail "no cgroup file system mounted inside"
assert_eq "" "$(kv "$T/a.out" devices-widen | grep ok)" "the firmware widened its devices.allow"
assert_eq denied "$(kv "$T/a.out" mknod-b)" "mknod of the host's block device (no AppArmor needed)"
assert_eq denied "$(kv "$T/a.out" read-b)" "read of the host's block device"
assert_eq denied "$(kv "$T/a.out" mknod-mem)" "mknod /dev/mem"
assert_eq ok "$(kv "$T/a.out" mknod-kmsg)" "mknod /dev/kmsg (Android's first stage needs it)"
assert_eq denied "$(kv "$T/a.out" write-kmsg)" "write to the host's kernel log"
assert_eq ok "$(kv "$T/a.out" urandom)" "read /dev/urandom"
ev=$(grep '"exited"' "$T/a.events")
assert_match '"cpu_usec":[0-9]+' "$ev" "CPU time in the exited event"
assert_match '"memory_peak":[1-9][0-9]+' "$ev" "peak memory in the exited event"
assert_eq "" "$(fwt_cgroups)" "cgroups left after a normal run"

# 2. --device passes the host node in (read only here) and the allowlist
# lets exactly that through; the same node without it is denied above.
run_fwrun --rootfs "$T/root" --name "$PFX-d" --ephemeral --console=pipe \
	--device "${LOOP}:r" -- /bin/sh /check.sh nowait "$LOOP"
assert_status 0 "run with --device"
assert_eq LLLL "$(kv "$T/last.out" passed-node)" "read the --device node"
assert_eq denied "$(kv "$T/last.out" write-passed)" "write to a --device given :r"
assert_eq denied "$(kv "$T/last.out" mknod-b)" "mknod of the --device node given :r (no m)"
run_fwrun --rootfs "$T/root" --name "$PFX-d" --ephemeral --device /dev/shm
assert_status 125 "--device on a directory"
assert_match "^fwrun: use --device '/dev/shm': .*not a character or block device" "$ERR" \
	"--device on a directory: the message"
run_fwrun --rootfs "$T/root" --name "$PFX-d" --ephemeral --device "/dev/$PFX-none"
assert_status 125 "--device on a missing node"
assert_match "^fwrun: use --device '/dev/$PFX-none': No such file" "$ERR" "--device on a missing node"
run_fwrun --rootfs "$T/root" --name "$PFX-d" --ephemeral --device /etc/passwd
assert_status 125 "--device outside /dev"

host_unchanged "$T/host.before"
