#!/bin/bash
# SPDX-License-Identifier: MIT
# fwrun installed with apt from its .deb, in a privileged CI container
# (issue 17). The container is made the way a privileged runtime makes one
# (Docker's --privileged, a privileged Kubernetes pod), here with unshare(1):
#   - a Debian 12 root (debootstrap --variant=minbase, cached read-only in
#     /var/cache/fwrun-test/, keyed by its inputs) under an overlay whose
#     upper dir is the container's, as Docker's overlay2 does;
#   - its own mount, PID, UTS, IPC, network (lo only) and cgroup namespaces,
#     in a cgroup of its own (below this test's, removed at the end);
#   - every capability, no seccomp filter, no AppArmor profile;
#   - the host's /dev (loop devices, /dev/net/tun), a fresh sysfs, cgroup2
#     and /proc.
# Inside, apt-get installs the .deb (no network: the cached root already
# holds its Depends and Recommends), then the installed fwrun boots the demo
# firmware with --ephemeral --veth --timeout: it boots, gets eth0 with its
# address, is stopped after the timeout (124). Then nothing of the run is
# left inside (mounts, loop devices, links, processes, instance locks) nor on
# the host (loop devices, links, mounts, cgroups).
# What differs from Docker's --privileged: Docker gives /dev as a tmpfs with
# the nodes the host had at start (a loop device made later has no node
# there; here devtmpfs shows it), an eth0 on a bridge, and a /run and
# /dev/shm of its own; the rest is the same.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pkg.sh"
need_root
need_fwrun
need_cmd debootstrap unshare pivot_root chroot mke2fs dpkg-deb flock
need_fs overlay
[ -c /dev/loop-control ] || skip "no /dev/loop-control"

deb=$(pkg_deb) || exit 1
log "package: $deb"

rootfs=$(pkg_run_root "$deb") || exit 1
log "root: $rootfs"

# --- what goes in: the .deb, the demo firmware, the script run inside -------
share=$T/share
mkdir -p "$share" "$T/c/upper" "$T/c/work" "$T/c/root"
cp "$deb" "$share/"
"$REPO/demo/mkimage" "$share/demo.ext2" >/dev/null || die "demo/mkimage failed"
demo_sum=$(sha_of "$share/demo.ext2")
cat >"$share/inside.sh" <<'INSIDE'
#!/bin/sh
# Run as the container's first command, as a CI job's script would.
set -u
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8
cd /share
state() {	# what a run could leave behind, inside
	echo "# mounts"; awk '{ print $2 " " $3 }' /proc/self/mounts | sort
	echo "# loop devices"; cat /sys/block/loop*/loop/backing_file 2>/dev/null | grep demo.ext2
	echo "# links"; ls /sys/class/net | sort
	echo "# processes"	# but this shell's own, the container's pid 1
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = 1 ] || [ "${p#/proc/}" = "$$" ] || cat "$p/comm" 2>/dev/null
	done | grep -v -e '^sh$' -e '^cat$' -e '^sort$' | sort
	echo "# instances"; ls -A /run/fwrun/instances 2>/dev/null
	echo "# state"; ls -A /var/lib/fwrun 2>/dev/null
}
echo "ctr: $(. /etc/os-release; echo "$PRETTY_NAME"), pid $$, hostname $(hostname)"
echo "ctr: cgroup $(cat /proc/self/cgroup | tr '\n' ' ')"
echo "ctr: caps $(awk '/^CapEff/ { print $2 }' /proc/self/status), seccomp $(awk '/^Seccomp:/ { print $2 }' /proc/self/status), apparmor $(cat /proc/self/attr/current 2>/dev/null || echo none)"
apt-get install -y /share/fwrun_*.deb >apt.log 2>&1
echo "ctr: apt-get install: status $?"
tr '\r' '\n' <apt.log | grep -v -e '^(Reading database' -e '^$' | tail -n 4 | sed 's/^/ctr: apt | /'
command -v fwrun >/dev/null || { echo "ctr: no fwrun in PATH"; exit 1; }
echo "ctr: $(fwrun --version) at $(command -v fwrun); installed $(dpkg-query -W -f '${Version} ${Status}' fwrun)"
cmp -s /etc/apparmor.d/fwrun - <<EOF_PROFILE && echo "ctr: /etc/apparmor.d/fwrun is fwrun --print-profile"
$(fwrun --print-profile)
EOF_PROFILE
state >state.before
fwrun --rootfs /share/demo.ext2 --ephemeral --veth --timeout 4 </dev/null >run.out 2>run.err
echo "ctr: fwrun status $?"
sed 's/^/ctr: out | /' run.out
sed 's/^/ctr: err | /' run.err
sleep 0.3	# autoclear loop devices go asynchronously
i=0
while ! state >state.after || ! cmp -s state.before state.after; do
	i=$((i + 1)); [ $i -ge 20 ] && break; sleep 0.1
done
if cmp -s state.before state.after; then
	echo "ctr: nothing left inside"
else
	echo "ctr: left inside:"; diff state.before state.after | sed 's/^/ctr: | /'
fi
INSIDE
chmod +x "$share/inside.sh"

# --- the host's state, before ---------------------------------------------------
host_cgroups() {	# the cgroups below this test's own, in each hierarchy
	local id ctl path m
	while IFS=: read -r id ctl path; do
		if [ "$id" = 0 ]; then
			m=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
		else
			m=$(awk -v c="${ctl%%,*}" '$3 == "cgroup" {
				n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } }' \
				/proc/self/mounts)
		fi
		[ -n "$m" ] && find "$m${path%/}" -mindepth 1 -type d 2>/dev/null
	done </proc/self/cgroup | LC_ALL=C sort
}
host_extra() {
	_host_state
	echo "# loop devices"
	for f in /sys/block/loop*/loop/backing_file; do
		[ -r "$f" ] && echo "${f#/sys/block/} $(cat "$f" 2>/dev/null)"
	done | LC_ALL=C sort
	echo "# links"
	ls /sys/class/net | LC_ALL=C sort
	echo "# /run/fwrun/instances"
	ls -A /run/fwrun/instances 2>/dev/null
	echo "# cgroups"
	host_cgroups
}

# The container's cgroup: below this test's own in the cgroup2 hierarchy.
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$cg2" ] || skip "no cgroup2 hierarchy mounted"
own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
CG=$cg2${own%/}/$PFX-ctr
host_extra >"$T/host.before"
mkdir "$CG" || die "cannot create the container's cgroup $CG"
at_exit 'find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null'

# --- the container ---------------------------------------------------------------
export ROOTFS=$rootfs C=$T/c SHARE=$share CGDIR=$CG CTRNAME=$PFX
t0=$(date +%s%N)
timeout -k 5 150 sh -c 'echo $$ >"$CGDIR/cgroup.procs" && exec unshare --mount --uts --ipc \
	--net --pid --cgroup --fork --kill-child --propagation private sh -ec "
	r=\$C/root
	mount -t overlay overlay -o lowerdir=\$ROOTFS,upperdir=\$C/upper,workdir=\$C/work \$r
	mount -t proc proc \$r/proc
	mount -t sysfs sysfs \$r/sys
	mount -t cgroup2 cgroup2 \$r/sys/fs/cgroup
	mount --rbind /dev \$r/dev
	mkdir -p \$r/share
	mount --bind \$SHARE \$r/share
	hostname \$CTRNAME
	cd \$r
	mkdir -p .oldroot
	pivot_root . .oldroot
	exec chroot . /bin/sh -c \"umount -l /.oldroot && rmdir /.oldroot && exec /share/inside.sh\"
	"' >"$T/ctr.log" 2>&1
st=$?
t1=$(date +%s%N)
sed 's/^/  /' "$T/ctr.log"
log "container: status $st, $(( (t1 - t0) / 1000000 )) ms"
assert_eq 0 "$st" "the container's status"
# The log is above: a failed check says only what it missed.
ctr_has() {	# ERE WHAT
	grep -Eq -- "$1" "$T/ctr.log" || fail "$2: no line /$1/ in the container's log"
}
caps=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
ctr_has '^ctr: Debian GNU/Linux 12 ' "the container's system"
ctr_has '^ctr: cgroup .*0::/ $' "the container's cgroup namespace, rooted at its cgroup"
ctr_has "^ctr: caps $caps, seccomp 0, apparmor (none|unconfined)" \
	"every capability this test has, no seccomp filter, no AppArmor profile"
ctr_has '^ctr: apt-get install: status 0$' "apt-get install /share/fwrun_*.deb"
v=$(pkg_version)
ctr_has "^ctr: fwrun $v at /usr/sbin/fwrun; installed $v install ok installed$" "the installed fwrun"
ctr_has '^ctr: /etc/apparmor.d/fwrun is fwrun --print-profile$' "the installed profile"
ctr_has '^ctr: fwrun status 124$' "fwrun --timeout's status"
ctr_has '^ctr: out \| boxinit: I am pid 1 ' "the demo firmware booted as pid 1"
ctr_has '^ctr: out \|     eth0 inet 10\.202\.[0-9]+\.1/24' "--veth: eth0 with its address"
# (the line may follow the prompt of the shell boxinit starts on the
# read-only console, which is a terminal)
ctr_has '^ctr: out \| .*boxinit: got SIGTERM' "--timeout stopped the firmware"
ctr_has '^ctr: nothing left inside$' "what the run left inside"
assert_eq "$demo_sum" "$(sha_of "$share/demo.ext2")" "the demo image is unchanged"

# --- the host's state, after: the container's cgroup first ------------------
left=$(find "$CG" -mindepth 1 -type d 2>/dev/null)
assert_eq "" "$left" "cgroups left below the container's"
[ -z "$(cat "$CG/cgroup.procs" 2>/dev/null)" ] || fail "processes left in $CG: $(cat "$CG/cgroup.procs")"
find "$CG" -depth -type d -exec rmdir {} + 2>/dev/null
[ -d "$CG" ] && fail "cannot remove the container's cgroup $CG"
state_unchanged host_extra "the host" "$T/host.after" "$T/host.before" "after the container"
