# A hostile firmware (issue 14), under fwrun's defaults with AppArmor
# enforcing: each known way out is tried by the probe as pid 1, and must be
# stopped. Run three times, with every layer, with --seccomp=off and with
# --apparmor=off, to say which layer stops each (a way out is "stopped" when
# one of its steps fails). The ways out are test/hostile.sh's, shared with
# the host's run (test/integration/t-protect-hostile.sh). The guest is thrown
# away: the writes use the values read just before, the "host disk" is a
# loop device set up here.
. /vmtest/lib.sh

if [ ! -x "$VM_FWRUN" ]; then
	vm_skip hostile.all "no fwrun binary in the initramfs"
	exit 0
fi
. /vmtest/hostile.sh

# The host's disk: a loop device over a copy of the ext4 test image.
cp "$VM_IMAGE" /tmp/fwt-hostdisk.ext4
disk=$(/sbin/losetup -f --show /tmp/fwt-hostdisk.ext4 2>/dev/null || losetup -f 2>/dev/null)
[ -b "$disk" ] || { losetup "$disk" /tmp/fwt-hostdisk.ext4 2>/dev/null; }
if [ ! -b "$disk" ]; then
	vm_fail hostile.setup "no loop device for the host disk"
	exit 0
fi
hostile_read "$disk"
vm_show "host disk $disk ($hostile_dmaj:$hostile_dmin), panic=$hostile_panic printk=$hostile_printk ra=$hostile_ra printk.time=$hostile_ptime"
eval "set -- $(hostile_words)"

runmode() {	# TAG OPTION PROBE-ARGS...: the probe's output in /tmp/fwt-h.TAG
	tag=$1 opt=$2
	shift 2
	"$VM_FWRUN" --rootfs "$VM_IMAGE" --ephemeral --name fwt-hostile $opt -- /sbin/boxinit \
		"$@" </dev/null >/tmp/fwt-h.$tag 2>/tmp/fwt-h.$tag.err
	echo $? >/tmp/fwt-h.$tag.rc
	# what got out, undone in the guest
	# (a cgroup made in the firmware's own cgroup namespace is not one: the
	# escape is a cgroup at the root of the host's tree)
	if mkdir -p /tmp/fwt-cg2 && mount -t cgroup2 none /tmp/fwt-cg2 2>/dev/null; then
		if [ -d /tmp/fwt-cg2/fwt-evil ]; then
			echo "cg2-host-root=ok" >>/tmp/fwt-h.$tag
			rmdir /tmp/fwt-cg2/fwt-evil
		else
			echo "cg2-host-root=no" >>/tmp/fwt-h.$tag
		fi
		umount /tmp/fwt-cg2
	fi
}
runmode all "" "$@"
runmode noseccomp --seccomp=off "$@"
runmode noapparmor --apparmor=off "$@"
for t in all noseccomp noapparmor; do
	[ "$(cat /tmp/fwt-h.$t.rc)" = 0 ] || { vm_fail hostile.run-$t "fwrun exit $(cat /tmp/fwt-h.$t.rc): $(head -c 300 /tmp/fwt-h.$t.err)"; }
done

hostile_pass() { vm_pass "hostile.$1" "$2"; }
hostile_fail() { vm_fail "hostile.$1" "$2"; }
HOSTILE_ALL=/tmp/fwt-h.all HOSTILE_AA=1
HOSTILE_OFF="seccomp=/tmp/fwt-h.noseccomp AppArmor=/tmp/fwt-h.noapparmor"
hostile_ways
echo "VMTEST-INFO hostile: $hostile_tried ways out tried, $hostile_blocked stopped under fwrun's defaults${hostile_open_list:+; open:$hostile_open_list}"
# Without AppArmor (--apparmor=off: a host whose kernel has none, here with
# cgroup v2 and real block devices): what fwrun(8) says the other layers stop.
hostile_pass() { vm_pass "hostile-noaa.$1" "$2"; }
hostile_fail() { vm_fail "hostile-noaa.$1" "$2"; }
HOSTILE_ALL=/tmp/fwt-h.noapparmor HOSTILE_AA=0 HOSTILE_OFF=
hostile_ways
echo "VMTEST-INFO hostile without AppArmor: $hostile_tried ways out tried, $hostile_blocked stopped${hostile_open_list:+; open:$hostile_open_list}"

# What a firmware needs stays allowed under the defaults.
bad=$(hostile_allowed)
[ -z "$bad" ] && vm_pass hostile.allowed "own /proc and /sys mounts, hostname, net and IPC sysctls, lo's mtu, clock reads: ok" ||
	vm_fail hostile.allowed "$bad"
[ "$(hostile_val /tmp/fwt-h.all Seccomp)" = 2 ] && vm_pass hostile.seccomp-on "pid 1 Seccomp=2" ||
	vm_fail hostile.seccomp-on "Seccomp=$(hostile_val /tmp/fwt-h.all Seccomp)"
vm_show "$(head -c 2000 /tmp/fwt-h.all.err)"
losetup -d "$disk" 2>/dev/null
rm -f /tmp/fwt-hostdisk.ext4
