#!/bin/bash
# SPDX-License-Identifier: MIT
# A SIGKILLed fwrun leaves its cgroups (nothing of fwrun is left to remove
# them) until the next run of any name, which removes them: empty, and their
# instance not running (its lock file names no live process). A live
# instance's cgroups are never touched, not even before its init has joined
# them, while others lock and unlock files.
# A run that starts while another makes its cgroups (the cgroup lock held
# shared) neither waits for it nor sweeps: the next run alone does.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_fs overlay
grep -q ' - cgroup2\? ' /proc/self/mountinfo || skip "no cgroup file system mounted"

mk_staging "$T/staging"
mk_image dir "$T/root"
host_snapshot "$T/host.before"

start_fwrun a --rootfs "$T/root" --name "$PFX-a" --ephemeral --console=pipe \
	-- /sbin/boxinit term-exit 0 ready sleep
A=$FWPID
start_fwrun b --rootfs "$T/root" --name "$PFX-b" --ephemeral --console=pipe \
	-- /sbin/boxinit ready sleep
B=$FWPID
wait_line "$T/a.out" '^ready=1$' 20 || die "a not ready: $(cat "$T/a.err")"
wait_line "$T/b.out" '^ready=1$' 20 || die "b not ready: $(cat "$T/b.err")"
kill -KILL "$B"
wait "$B" 2>/dev/null
sleep 0.2
assert_match "fwrun-$PFX-b" "$(fwt_cgroups)" "the SIGKILLed run's cgroups (nothing removes them yet)"

# Another run making its cgroups: the lock held shared, as long as this
# test wants. A run of a herd goes on beside it (it waited for the lock
# before, every run of a herd in line behind the one before, each reading
# every other's cgroups) and leaves the stale ones alone.
exec 7>/run/fwrun/cgroup.lock
flock -s 7
FWRUN_SAFETY=15 run_fwrun --rootfs "$T/root" --name "$PFX-d" --ephemeral --console=pipe \
	-- /sbin/boxinit exit 0 7>&-
[ -z "$FWT_SAFETY_TIMEOUT" ] || fail "a run waited for the cgroup lock another run holds shared"
assert_status 0 "a run while another makes its cgroups"
assert_match "fwrun-$PFX-b" "$(fwt_cgroups)" "the SIGKILLed run's cgroups, while another run makes its own"
assert_nomatch "fwrun-$PFX-d" "$(fwt_cgroups)" "that run's own cgroups"
exec 7>&-	# the other run is done

run_fwrun --rootfs "$T/root" --name "$PFX-c" --ephemeral --console=pipe -- /sbin/boxinit exit 0
assert_status 0 "the next run, another name"
left=$(fwt_cgroups)
assert_nomatch "fwrun-$PFX-b" "$left" "the SIGKILLed run's cgroups after the next run"
assert_match "fwrun-$PFX-a" "$left" "the live instance's cgroups after the next run"
assert_nomatch "fwrun-$PFX-c" "$left" "the next run's own cgroups"

# Instances that have made their cgroups and not yet put their init in them
# (made here by the test: 40 names whose locks a helper holds, its pid in
# each, as fwrun writes it), while the helper locks and unlocks files by the
# hundred. /proc/locks, read meanwhile, leaves held locks out (seq_file
# resumes each read by position): a sweep that trusted it removed such
# instances' cgroups, and their init's clone into them failed (ENOENT).
# Each run below sweeps; none may take them.
own=$(dirname "$(fwt_cgroups | grep -m1 "/fwrun-$PFX-a\$")")
mkdir "$T/churn"
python3 -c '
import fcntl, os, sys
held = []
for i in range(40):
    fd = os.open(f"/run/fwrun/instances/{sys.argv[2]}-m{i}", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()}\n".encode())
    held.append(fd)
print("held", flush=True)
fds = [os.open(f"{sys.argv[1]}/{i}", os.O_RDWR | os.O_CREAT) for i in range(200)]
while True:
    for fd in fds: fcntl.flock(fd, fcntl.LOCK_EX)
    for fd in fds: fcntl.flock(fd, fcntl.LOCK_UN)
' "$T/churn" "$PFX" >"$T/churn.out" &
churn=$!
FWT_PIDS+=("$churn")
wait_line "$T/churn.out" '^held$' 10 || die "the lock helper did not start"
for i in $(seq 0 39); do
	mkdir "$own/fwrun-$PFX-m$i" "$own/fwrun-$PFX-m$i/payload" || die "cannot make a cgroup in $own"
done
for i in $(seq 1 6); do
	run_fwrun --rootfs "$T/root" --name "$PFX-s" --ephemeral --console=pipe -- /sbin/boxinit exit 0
	assert_status 0 "run $i while locks churn"
done
assert_eq 40 "$(fwt_cgroups | grep -c "/fwrun-$PFX-m[0-9]*\$")" \
	"cgroups of 40 instances whose init has not joined them, after 6 sweeps while locks churn"
# The helper dies: its locks are free, their files name a dead pid (as a
# SIGKILLed fwrun leaves them). The next run removes those cgroups.
kill "$churn"
wait "$churn" 2>/dev/null
run_fwrun --rootfs "$T/root" --name "$PFX-s" --ephemeral --console=pipe -- /sbin/boxinit exit 0
assert_status 0 "the run after those instances died"
assert_nomatch "fwrun-$PFX-m" "$(fwt_cgroups)" "their cgroups once they died"

kill -TERM "$A"
wait_fwrun "$A" 20
assert_status 0 "the live instance, stopped"
assert_eq "" "$(fwt_cgroups)" "cgroups left once all runs ended"
host_unchanged "$T/host.before"
