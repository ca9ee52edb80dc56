#!/bin/bash
# SPDX-License-Identifier: MIT
# Fault injection (issue 6): the test build (make FAULTS=1, in $B-fault) fails
# each fault point of `fwrun --list-fault-points` in turn, with a run that
# reaches it: an ext4 image, a state dir with --reset, --status-fd, a pty
# console, a borrowed tap (up), a tap fwrun creates, --veth. Each run must
# end with the documented status (125; 126/127 for exec), exactly one error
# line `fwrun: what 'subject': reason` naming the injected errno, the host as
# before (mounts, loop devices, our links with their up/down state and MAC),
# the state dir as before apart from the lock, the image's sha256 unchanged,
# and a run right after it must succeed (locks released). First of all: the
# shipped binary has no trace of the fault points.
#
# Special cases: net-give-back fails once and is retried (nothing to see);
# net-give-back:EIO:0 fails every time: the borrowed tap dies with the
# namespace (as after a SIGKILL, fwrun(8)) and the next run must say so.
# aa-prepare and aa-onexec are reached only when the kernel has AppArmor
# (then with --apparmor=on); without it, the run must go on as if no fault.
# FWT_ONLY=ERE runs only the matching cases.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_root
need_cmd nm strings ip sha256sum mke2fs

# --- 1. the shipped build has no hook ----------------------------------------
SHIPPED=${FWRUN_SHIPPED:-$B/fwrun}
[ -x "$SHIPPED" ] || SHIPPED=$FWRUN
[ -x "$SHIPPED" ] || skip "no fwrun binary at $B/fwrun (run make first)"
assert_eq "" "$(nm "$SHIPPED" 2>/dev/null | grep -E 'fw_fault' | head -3)" \
	"shipped build: fault symbols in $SHIPPED"
assert_eq "" "$(strings -a "$SHIPPED" | grep -E 'FWRUN_FAULT|list-fault-points|fw_fault|\bfault\.[ch]\b|net-give-back|rootfs-bind-ro|instance-lock' | head -3)" \
	"shipped build: fault strings in $SHIPPED"
"$SHIPPED" --list-fault-points >/dev/null 2>&1
assert_eq 125 "$?" "shipped build: --list-fault-points is an unknown option"

# --- 2. the fault build ------------------------------------------------------
FFW=${FWRUN_FAULTS:-$B-fault/fwrun}
[ -x "$FFW" ] || skip "no fault-injection build at $FFW (make fault-build)"
# The check above must be able to fail: the fault build does carry the hook.
grep -qa FWRUN_FAULT "$FFW" || die "the fault build has no FWRUN_FAULT: the check of the shipped build proves nothing"
[ "$(nm "$FFW" | grep -c fw_fault_hit)" -gt 0 ] || die "the fault build has no fw_fault_hit symbol: the nm check proves nothing"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (tun module)"
need_fs ext4
FWRUN=$FFW
"$FFW" --list-fault-points | cut -f1 >"$T/points" || die "--list-fault-points failed"

mk_staging "$T/staging"
mk_image ext4 "$T/fw.ext4"
mk_image dir "$T/fwdir"
IMG_SHA=$(sha_of "$T/fw.ext4")
DIR_SHA=$(sha_of "$T/fwdir")
# Per case, any write to the image shows in its mtime/ctime (cheaper than
# hashing 32 MB a hundred times); the sha256 is compared at the end.
img_stamp() { stat -c '%s %Y %Z %i' "$T/fw.ext4"; }
IMG_STAMP=$(img_stamp)

BT=${PFX}b	# borrowed: exists, up, must come back as it was
NT=${PFX}n	# missing: fwrun creates it as a tap, gone with the namespace at exit
		# (deleted when the run fails before its move: net-move-in)
NAME=$PFX-f	# --veth host end fw-$NAME
VH=fw-$NAME
register_link "$NT"
register_link "$VH"

make_borrowed() {
	ip link del "$BT" 2>/dev/null
	ip tuntap add "$BT" mode tap || die "ip tuntap add $BT"
	ip link set "$BT" up || die "ip link set $BT up"
	BT_MAC=$(cat "/sys/class/net/$BT/address")
}
register_link "$BT"
make_borrowed

# A state dir, made by one good run: upper/, work/ (and work/work), lock.
STATE=$T/state
FULL=(--rootfs "$T/fw.ext4" --name "$NAME" --state-dir "$STATE" -q
      --status-fd 3 --console pty --tap "$BT:eth1:10.251.7.2/24" --tap "$NT" --veth)
RESET=("${FULL[@]}" --reset)	# only where the point is: it empties upper/
LOGGED=("${FULL[@]}" --console-log "$T/console.log")
DIRCONF=(--rootfs "$T/fwdir" --name "$PFX-d" --ephemeral -q --console pipe)
INIT=(-- /sbin/boxinit exit 0)

good_run() {	# CONF-NAME WHAT: a run without fault must succeed
	local -n conf=$1
	run_fwrun "${conf[@]}" "${INIT[@]}" 3>"$T/status.json"
	assert_status 0 "$2" || return 1
}

good_run FULL "first run (makes the state dir)" || die "fwrun cannot run here: nothing to inject into"
echo "persist" >"$STATE/upper/kept"	# a failed run must not touch upper/

# The state dir without the lock's content (the pid of its last holder).
state_sum() {
	# Not the kernel's scratch dir with its volatile marker (work/work, see
	# overlay_options()): every run removes it, every overlay mount makes it.
	(cd "$STATE" && {
		find . -path ./work/work -prune -o -printf '%p %y %m\n' | LC_ALL=C sort
		find . -path ./work/work -prune -o -type f ! -path ./lock -print0 |
			LC_ALL=C sort -z | xargs -0r sha256sum
	}) | sha256sum | cut -d' ' -f1
}

# The AppArmor points run for real only where the kernel has AppArmor (and
# then with --apparmor=on); here they must stay unreached (auto, no AppArmor).
AA=0
[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] &&
	[ -d /sys/kernel/security/apparmor ] && AA=1

# The cgroup points that depend on the host's cgroups: devices.allow needs a
# v1 devices hierarchy, the controllers are enabled only on pure v2, the
# device program is loaded where there is a cgroup2 mount and no v1 devices.
CG_V1_DEVICES=0 CG_V2_PURE=0 CG_V2=0
grep -q ' - cgroup .*[ ,]devices' /proc/self/mountinfo && CG_V1_DEVICES=1
grep -q ' - cgroup2 ' /proc/self/mountinfo && CG_V2=1
[ $CG_V2 = 1 ] && ! grep -q ' - cgroup ' /proc/self/mountinfo && CG_V2_PURE=1
CGDIR='/sys/fs/cgroup/[^ ]*fwrun-'$PFX-f

LOOPRE='/dev/loop[0-9]+'
MNT=/run/fwrun/mnt
# point[:errno[:times]]|config|status|expected "what 'subject'" (ERE) of the
# error line (none when the status is 0)
cat >"$T/table" <<EOF
rootfs-open|FULL|125|open rootfs '$T/fw.ext4'
status-fd|FULL|125|use --status-fd '3'
subreaper|FULL|125|become child subreaper 'fwrun'
run-dir|FULL|125|create directory '/run/fwrun'
state-prepare|FULL|125|create state dir '$STATE'
instance-lock|FULL|125|open lock '/run/fwrun/instances/$NAME'
lock|FULL|125|open lock '$STATE/lock'
workdir-rename|FULL|0|
state-reset|RESET|125|reset '$STATE/upper'
aa-prepare|FULL|125|read '/sys/kernel/security/apparmor/profiles'
net-lock|FULL|125|lock '/run/fwrun/net'
net-tap-create|FULL|125|create tap '$NT'
cgroup-mkdir|FULL|125|create cgroup '$CGDIR'
cgroup-controllers|FULL|125|enable the controllers for the limits in '/sys/fs/cgroup[^ ]*/cgroup.subtree_control'
cgroup-devices|FULL|125|set the device allowlist of '$CGDIR'
cgroup-bpf|FULL|125|load the device program for '$CGDIR'
cgroup-open|FULL|125|open '$CGDIR/payload/(cgroup.procs|tasks)'
console-open|FULL|125|open pty master '/dev/ptmx'
console-log|LOGGED|125|open --console-log '$T/console.log'
setup-socket|FULL|125|create socket for 'setup thread'
setup-thread|FULL|125|start 'setup thread'
open-home|FULL|125|open '/proc/self/ns/mnt'
unshare|FULL|125|unshare namespaces 'mnt, uts, ipc, net'
make-private|FULL|125|make private '/'
open-netns|FULL|125|open '/proc/self/task/[0-9]+/ns/net'
scratch-tmpfs|FULL|125|mount tmpfs on '$MNT'
loop-attach|FULL|125|attach loop device '$LOOPRE'
rootfs-mount|FULL|125|mount rootfs '$T/fw.ext4'
rootfs-bind-ro|DIRCONF|125|make read-only '$MNT/lower'
overlay-mount|FULL|125|mount overlay on '$MNT/merged'
dev-tmpfs|FULL|125|mount tmpfs on '$MNT/merged/dev'
dev-node|FULL|125|create device node '$MNT/merged/dev/null'
dev-devpts|FULL|125|mount devpts on '$MNT/merged/dev/pts'
dev-shm|FULL|125|mount tmpfs on '$MNT/merged/dev/shm'
dev-console|FULL|125|bind console on '$MNT/merged/dev/console'
dev-kmsg|FULL|125|bind kmsg on '$MNT/merged/dev/kmsg'
net-netns-socket|FULL|125|open a netlink socket in 'the firmware's network namespace'
net-veth-create|FULL|125|create veth '$VH'
net-veth-config|FULL|125|configure veth '$VH'
net-move-in|FULL|125|move into the firmware '$BT'
net-lo-up|FULL|125|bring up 'lo'
net-addr|FULL|125|add address on 'eth1'
net-up|FULL|125|bring up 'eth1'
net-veth-inside|FULL|125|configure veth 'eth0'
net-route|FULL|125|add default route via 'eth0'
aa-onexec|FULL|125|set the AppArmor profile on exec to '[^']+'
hostname|FULL|125|set hostname '$NAME'
pivot-root|FULL|125|pivot_root to '$MNT/merged'
caps-drop|FULL|125|cut the capability bounding set of 'the firmware'
unshare-pid|FULL|125|unshare namespace 'pid'
fork-init|FULL|125|fork '/sbin/boxinit'
cgroup-join|FULL|125|join the instance's cgroup 'cgroup.procs'
cgroup-unshare|FULL|125|unshare namespace 'cgroup'
init-setsid|FULL|125|start a session for '/sbin/boxinit'
init-console|FULL|125|attach console to '/sbin/boxinit'
init-affinity|FULL|125|give back the CPU affinity of '/sbin/boxinit'
init-seccomp|FULL|125|load the syscall filter for '/sbin/boxinit'
exec|FULL|126|run init '/sbin/boxinit'
exec:ENOENT|FULL|127|run init '/sbin/boxinit'
setup-home|FULL|125|go back to the host namespace '/proc/self/ns/mnt'
net-give-back|FULL|0|
net-give-back:EIO:0|FULL|125|move back to the host '$BT'
net-veth-delete|FULL|125|delete veth '$VH'
EOF

# Every point of the build has a case here, and every case a point.
missing=$(cut -d'|' -f1 "$T/table" | sed 's/:.*//' | LC_ALL=C sort -u |
	  LC_ALL=C comm -13 - <(LC_ALL=C sort -u "$T/points"))
assert_eq "" "$missing" "fault points without a case in t-faults.sh"
unknown=$(cut -d'|' -f1 "$T/table" | sed 's/:.*//' | LC_ALL=C sort -u |
	  LC_ALL=C comm -23 - <(LC_ALL=C sort -u "$T/points"))
assert_eq "" "$unknown" "cases for points the build does not have"

reason_of() {	# ERRNO name -> strerror text
	case $1 in
	ENOENT) echo "No such file or directory" ;;
	*) echo "Input/output error" ;;
	esac
}

links_state() {	# our links, up/down, and which device the borrowed tap is
	_net_links
	echo "$BT mac $(cat "/sys/class/net/$BT/address" 2>/dev/null)"
}

npoints=0 nruns=0
t_start=$(date +%s%N)
while IFS='|' read -r spec conf want what; do
	point=${spec%%:*}
	err=EIO
	[ "$spec" != "$point" ] && err=${spec#*:}
	if [ -n "${FWT_ONLY:-}" ] && ! [[ $spec =~ $FWT_ONLY ]]; then
		continue
	fi
	npoints=$((npoints + 1))
	t_case=$(date +%s%N)
	local_conf=$conf
	if [ "$point" = aa-prepare ] || [ "$point" = aa-onexec ]; then
		if [ $AA = 0 ]; then
			# Not reached without AppArmor: auto confines nothing and
			# the run goes on as without a fault.
			FWRUN_FAULT=$spec run_fwrun "${FULL[@]}" --apparmor=auto "${INIT[@]}" 3>"$T/status.json"
			assert_status 0 "$spec: unreached without AppArmor (--apparmor=auto)"
			assert_eq "" "$ERR" "$spec: nothing on stderr"
			log "$spec: kernel without AppArmor: the point is not reached (auto path checked)"
			continue
		fi
		FULL_AA=("${FULL[@]}" --apparmor=on)
		local_conf=FULL_AA
	fi
	unreached=
	case $point in
	cgroup-devices) [ $CG_V1_DEVICES = 1 ] || unreached="no v1 devices hierarchy" ;;
	cgroup-controllers) [ $CG_V2_PURE = 1 ] || unreached="not a pure cgroup v2 host" ;;
	cgroup-bpf) [ $CG_V2 = 1 ] && [ $CG_V1_DEVICES = 0 ] || unreached="devices.allow does it, or no cgroup2 mount" ;;
	esac
	if [ -n "$unreached" ]; then
		FWRUN_FAULT=$spec run_fwrun "${FULL[@]}" "${INIT[@]}" 3>"$T/status.json"
		assert_status 0 "$spec: unreached ($unreached)"
		log "$spec: $unreached: the point is not reached"
		continue
	fi
	# reached only when a limit needs the controllers
	[ "$point" = cgroup-controllers ] && FULL_LIM=("${FULL[@]}" --pids-max 1000) &&
		local_conf=FULL_LIM
	eval "args=(\"\${${local_conf}[@]}\")"

	host_snapshot "$T/host.before"
	links_state >"$T/links.before"
	st_before=$(state_sum)
	FWRUN_FAULT=$spec run_fwrun "${args[@]}" "${INIT[@]}" 3>"$T/status.json"
	nruns=$((nruns + 1))
	assert_status "$want" "$spec: exit status"
	if [ "$want" = 0 ]; then
		assert_eq "" "$ERR" "$spec: stderr (the failure is recovered)"
	else
		nlines=$(printf '%s\n' "$ERR" | grep -c .)
		assert_eq 1 "$nlines" "$spec: lines on stderr" ||
			printf '%s\n' "$ERR" | sed 's/^/    | /'
		assert_match "^fwrun: $what: $(reason_of "$err")( \(.*\))?\$" "$ERR" \
			"$spec: the error line"
	fi
	case " ${args[*]} " in
	*" --status-fd "*)
		assert_match '"event":"exited"' "$(tail -n 1 "$T/status.json")" \
			"$spec: --status-fd's last event" ;;
	esac
	if [ "$spec" = net-give-back:EIO:0 ]; then
		# Given back never: the tap died with the firmware's namespace
		# (fwrun(8)); the next run must say so, once, then work again.
		[ -e "/sys/class/net/$BT" ] && fail "$spec: $BT is back: the fault did not hold"
		run_fwrun "${args[@]}" "${INIT[@]}" 3>"$T/status.json"
		assert_status 125 "$spec: the next run"
		assert_match "^fwrun: interface lost '$BT': No such device \(.*destroyed with the firmware\)\$" \
			"$ERR" "$spec: the next run names the lost interface"
		make_borrowed
		links_state >"$T/links.before"
		host_snapshot "$T/host.before"
	fi
	host_unchanged "$T/host.before" "$spec"
	state_unchanged links_state "our links" "$T/links.now" "$T/links.before" "$spec"
	assert_eq "$st_before" "$(state_sum)" "$spec: state dir (but the lock)"
	assert_eq "$IMG_STAMP" "$(img_stamp)" "$spec: image size, mtime, ctime"
	[ "$local_conf" = DIRCONF ] &&
		assert_eq "$DIR_SHA" "$(sha_of "$T/fwdir")" "$spec: directory rootfs"
	# Everything released: the same run again, without a fault, succeeds.
	good_run "$local_conf" "$spec: the run right after"
	nruns=$((nruns + 1))
	host_unchanged "$T/host.before" "$spec: the run right after"
	ms=$(( ($(date +%s%N) - t_case) / 1000000 ))
	[ "$ms" -gt 3000 ] && log "$spec: slow: $ms ms"
done <"$T/table"
t_end=$(date +%s%N)
assert_eq "$IMG_SHA" "$(sha_of "$T/fw.ext4")" "image sha256 after all runs"
assert_eq "$DIR_SHA" "$(sha_of "$T/fwdir")" "directory rootfs after all runs"

log "$npoints cases over $(wc -l <"$T/points") fault points, $nruns runs, $(( (t_end - t_start) / 1000000 )) ms"
