#!/bin/bash
# SPDX-License-Identifier: MIT
# The instance's limits (issue 14): a fork bomb stops at --pids-max, a memory
# hog is killed at --memory-max and the run says so (its exited event counts
# the OOM kill, its peak stays at the limit), --cpus is written as a CFS
# quota; the host is unaffected and no cgroup is left. Bad values are usage
# errors (125) before anything is touched.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_fs overlay
[ -x /bin/busybox ] || skip "no /bin/busybox for the firmware's shell"
grep -q ' - cgroup2\? ' /proc/self/mountinfo || skip "no cgroup file system mounted"

mk_staging "$T/staging"
mk_image dir "$T/root"
host_snapshot "$T/host.before"
SH=(/bin/sh -c)
PRE='/bin/busybox --install -s /bin; export PATH=/bin; mount -t proc proc /proc;'

# 1. Fork bomb: 200 sleepers asked, at most --pids-max processes exist (the
# shell among them), the rest fail to fork; the run still ends cleanly.
# (busybox sh gives up at its first failed fork: the bomb in a subshell; the
# count with builtins only)
run_fwrun --rootfs "$T/root" --name "$PFX-p" --ephemeral --console=pipe --pids-max 20 \
	-- "${SH[@]}" "$PRE"' (i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null
	set -- /proc/[0-9]*; echo "procs=$#"; kill -9 -1; exit 0'
assert_status 0 "fork bomb run"
procs=$(kv "$T/last.out" procs)
[ -n "$procs" ] && [ "$procs" -le 20 ] && [ "$procs" -ge 10 ] ||
	fail "processes under --pids-max 20: '$procs' (want 10..20)"
assert_eq "" "$(fwt_cgroups)" "cgroups left after the fork bomb"

# 2. Memory hog: a subshell doubles a string until it no longer fits under
# --memory-max 32M. The OOM killer takes it (the biggest process by far); the
# init (the shell) says what it saw; the exited event counts the kill and the
# peak.
run_fwrun --rootfs "$T/root" --name "$PFX-m" --ephemeral --console=pipe --memory-max 32M \
	--status-fd 3 -- "${SH[@]}" "$PRE"' (x=a; while :; do x=$x$x; done); echo "hog=$?"' \
	3>"$T/m.events"
assert_status 0 "memory hog run"
assert_eq 137 "$(kv "$T/last.out" hog)" "the hog's status (SIGKILL of the OOM killer)"
assert_match "the firmware ran out of memory: the OOM killer killed [1-9]" "$ERR" "the message"
ev=$(grep '"exited"' "$T/m.events")
assert_match '"oom_kills":[1-9]' "$ev" "OOM kills in the exited event"
peak=$(sed -n 's/.*"memory_peak":\([0-9]*\).*/\1/p' <<<"$ev")
[ -n "$peak" ] && [ "$peak" -le $((33 * 1024 * 1024)) ] ||
	fail "peak memory under --memory-max 32M: '$peak'"
assert_eq "" "$(fwt_cgroups)" "cgroups left after the memory hog"

# The init itself killed: 137, and the message says so.
run_fwrun --rootfs "$T/root" --name "$PFX-m" --ephemeral --console=pipe --memory-max 16M \
	-- /bin/busybox sh -c 'x=$(/bin/busybox head -c 67108864 /dev/zero | /bin/busybox tr "\0" a); echo survived'
assert_status 137 "the init killed by the OOM killer"
assert_match "OOM killer killed [1-9][0-9]* of its processes, its init among them" "$ERR" \
	"the message for the init"

# 3. --cpus is a CFS quota on the instance's cgroup (v1 cpu.cfs_quota_us, v2
# cpu.max), seen from the host while the firmware runs. With --memory-max,
# a v1 memory hierarchy has its payload level too: the limit sits above the
# firmware's own cgroup, out of its reach.
start_fwrun c --rootfs "$T/root" --name "$PFX-c" --ephemeral --console=pipe --cpus 0.5 \
	--memory-max 256M \
	-- "${SH[@]}" "$PRE"' echo ready=1; trap "exit 0" TERM; while :; do sleep 1 & wait; done'
wait_line "$T/c.out" '^ready=1' 20 || die "--cpus firmware not ready: $(cat "$T/c.err")"
quota=
for d in $(fwt_cgroups); do
	[ -r "$d/cpu.cfs_quota_us" ] && quota="$quota $(cat "$d/cpu.cfs_quota_us")"
	[ -r "$d/cpu.max" ] && quota="$quota $(cat "$d/cpu.max")"
done
assert_match '^ (50000|50000 100000)$' "$quota" "the CPU quota of fwrun-$PFX-c"
INIT=$(find_init "$FWPID")
mem=$(sed -n 's/^[0-9]*:memory://p' "/proc/$INIT/cgroup")
if [ -n "$mem" ]; then
	assert_match "/fwrun-$PFX-c/payload\$" "$mem" "the init's memory cgroup under --memory-max"
fi
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 20
assert_status 0 "--cpus run"

# 4. Usage errors.
for bad in "--memory-max 12Q" "--memory-max 4k" "--pids-max 0" "--pids-max x" \
	"--cpus 0" "--cpus lots" "--device dev/null" "--device /dev/null:rwx"; do
	# shellcheck disable=SC2086 # option and value
	run_fwrun --rootfs "$T/root" --name "$PFX-u" --ephemeral $bad
	assert_status 125 "$bad"
	assert_match "^fwrun: ${bad%% *} '" "$ERR" "$bad: the message"
done

host_unchanged "$T/host.before"
