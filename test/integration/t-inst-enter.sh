#!/bin/bash
# SPDX-License-Identifier: MIT
# fwrun --enter NAME -- CMD: CMD runs with everything the init has (its
# hostname, all its namespaces with /proc/1 the init, its root and mounts,
# its network, its bounding set), the init's default environment plus
# --setenv and nothing of the caller's; CMD's status is fwrun's
# (126/127/128+N); a pty when stdin is a terminal, plain stdio otherwise.
. "$(dirname "$0")/lib.sh"
ext2_firmware
need_cmd script
tap=${PFX}t
register_link "$tap"
start_fwrun fw --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-e" --hostname "h$PFX" \
	--cap-drop NET_RAW --tap "$tap:eth1:10.77.0.2/24" \
	-- /sbin/boxinit write /data/frominit hi report ready sleep
fw=$FWPID
wait_line "$T/fw.out" '^ready=1' 20 || { cat "$T/fw.err"; die "the firmware did not start"; }
init=$(find_init "$fw")

export FWT_CALLER_SECRET=1
run_fwrun --enter "$PFX-e" --setenv FROM_ENTER=yes -- /bin/probe report cat /proc/1/cmdline \
	cat /data/frominit cat /proc/self/cgroup
assert_status 0 "enter: CMD's status"
for k in hostname ns.mnt ns.uts ns.ipc ns.net ns.pid ns.cgroup CapBnd ifaces \
	if.eth1.inet rootents env.PATH env.container; do
	assert_eq "$(kv "$T/fw.out" "$k")" "$(kvs "$OUT" "$k")" "enter: $k as the init's"
done
assert_eq "h$PFX" "$(kvs "$OUT" hostname)" "enter: the firmware's hostname"
assert_eq 10.77.0.2/24 "$(kvs "$OUT" if.eth1.inet)" "enter: the firmware's network"
assert_ne 1 "$(kvs "$OUT" pid)" "enter: CMD is not pid 1"
assert_eq /sbin/boxinit "$(kvs "$OUT" cat:/proc/1/cmdline)" "enter: /proc/1 is the init"
assert_eq hi "$(kvs "$OUT" cat:/data/frominit)" "enter: the firmware's root and mounts"
assert_eq "$(awk '/^CapBnd:/ { print $2 }' "/proc/$init/status")" "$(kvs "$OUT" CapBnd)" \
	"enter: the init's bounding set (NET_RAW cut)"
assert_eq 2 "$(kvs "$OUT" Seccomp)" "enter: the init's syscall filter"
assert_eq "$(awk '/^Seccomp:/ { print $2 }' "/proc/$init/status")" "$(kvs "$OUT" Seccomp)" \
	"enter: seccomp mode as the init's"
assert_match ':/$' "$(kvs "$OUT" cat:/proc/self/cgroup)" \
	"enter: in the init's cgroup, at its cgroup namespace's root"
assert_eq yes "$(kvs "$OUT" env.FROM_ENTER)" "enter: --setenv"
assert_eq "" "$(kvs "$OUT" env.FWT_CALLER_SECRET)" "enter: nothing of the caller's environment"
assert_eq none "$(kvs "$OUT" ttyname0)" "enter without a terminal: plain stdio"

# Exit statuses.
run_fwrun --enter "$PFX-e" -- /bin/probe exit 7
assert_status 7 "enter: CMD's exit status"
run_fwrun --enter "$PFX-e" -- /bin/probe segv
assert_status 139 "enter: CMD killed by SIGSEGV: 128+11"
run_fwrun --enter "$PFX-e" -- /bin/nowhere
assert_status 127 "enter: CMD not found"
assert_match "^fwrun: run '/bin/nowhere': No such file or directory" "$ERR" "not found: the line"
run_fwrun --enter "$PFX-e" -- noexec
assert_status 126 "enter: CMD not executable (found in the firmware's PATH)"
run_fwrun --enter "$PFX-nope"
assert_status 125 "enter: an unknown instance"
assert_match "^fwrun: find instance '$PFX-nope': not running" "$ERR" "unknown: the line"

# A pty when stdin is a terminal.
in_pty "$T/pty.log" "$FWRUN" --enter "$PFX-e" -- /bin/probe report >/dev/null 2>&1 </dev/null
assert_match '^/dev/pts/' "$(tr -d '\r' <"$T/pty.log" | kv /dev/stdin ttyname0)" \
	"enter on a terminal: CMD on a pty"

kill -TERM "$fw"
wait_fwrun "$fw" 20
host_unchanged "$T/host.before"
