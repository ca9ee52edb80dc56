# A hostile firmware (issue 14), under fwrun's defaults with AppArmor
# enforcing: each known way out is tried by the probe as pid 1, and must be
# stopped. Run three times, with every layer, with --seccomp=off and with
# --apparmor=off, to say which layer stops each (a way out is "stopped" when
# its last step fails). The guest is thrown away: the writes use the values
# read just before, the "host disk" is a loop device set up here.
# Ways out left to the cgroup namespace and the device allowlist (another
# part of issue 14) are required only once the build has them (--help shows
# --memory-max / --device); until then they are reported as open, by name.
. /vmtest/lib.sh

if [ ! -x "$VM_FWRUN" ]; then
	vm_skip hostile.all "no fwrun binary in the initramfs"
	exit 0
fi
help=$("$VM_FWRUN" --help 2>&1)
has_cgns=0 has_devices=0
printf '%s\n' "$help" | grep -q -- '--memory-max' && has_cgns=1
printf '%s\n' "$help" | grep -q -- '--device' && has_devices=1

# The host's disk: a loop device over a copy of the ext4 test image.
cp "$VM_IMAGE" /tmp/fwt-hostdisk.ext4
disk=$(/sbin/losetup -f --show /tmp/fwt-hostdisk.ext4 2>/dev/null || losetup -f 2>/dev/null)
[ -b "$disk" ] || { losetup "$disk" /tmp/fwt-hostdisk.ext4 2>/dev/null; }
if [ ! -b "$disk" ]; then
	vm_fail hostile.setup "no loop device for the host disk"
	exit 0
fi
dmaj=$(( 0x$(stat -c %t "$disk") )) dmin=$(( 0x$(stat -c %T "$disk") ))
dname=$(basename "$disk")
panic=$(cat /proc/sys/kernel/panic)
printk=$(cut -f1 /proc/sys/kernel/printk)
filemax=$(cat /proc/sys/fs/file-max)
ra=$(cat /sys/block/$dname/queue/read_ahead_kb)
ptime=$(cat /sys/module/printk/parameters/time)
corep=$(cat /proc/sys/kernel/core_pattern)
msgmax=$(cat /proc/sys/kernel/msgmax)
vm_show "host disk $disk ($dmaj:$dmin), panic=$panic printk=$printk ra=$ra printk.time=$ptime"

# The probe's commands: every technique, then what must stay allowed
# (set -- keeps values with spaces, such as a core_pattern, whole).
set -- mount proc proc /proc - mount sysfs sysfs /sys - \
	mknod /tmp/hd b $dmaj $dmin read /tmp/hd mount ext4 /tmp/hd /tmp/hdm - \
	mount devtmpfs none /tmp/dt - read /tmp/dt/$dname \
	mount cgroup cgroup /tmp/cg1 none,name=fwtx write /tmp/cg1/release_agent /fwt-agent \
	mount cgroup2 none /tmp/cg2 - mkdir /tmp/cg2/fwt-evil \
	write /proc/sys/kernel/panic "$panic" write /proc/sys/kernel/printk "$printk" \
	write /proc/sys/fs/file-max "$filemax" write /proc/sys/kernel/core_pattern "$corep" \
	mount proc proc /tmp/p - write /tmp/p/sys/kernel/panic "$panic" \
	write /sys/block/$dname/queue/read_ahead_kb "$ra" \
	write /sys/module/printk/parameters/time "$ptime" \
	mount sysfs none /tmp/s - write /tmp/s/module/printk/parameters/time "$ptime" \
	write /sys/kernel/uevent_helper "" \
	mknod /tmp/kmsg c 1 11 write /tmp/kmsg "<7>fwt-hostile-kmsg" \
	mknod /tmp/km c 1 11 write /tmp/km "<7>fwt-hostile-km" \
	mount debugfs none /tmp/dbg - mount binfmt_misc none /tmp/bfm - \
	mknod /tmp/mem c 1 1 read /tmp/mem sysrq clock syscalls \
	write /proc/sys/kernel/hostname fwt-hostile write /proc/sys/net/ipv4/ip_forward 1 \
	write /proc/sys/kernel/msgmax "$msgmax" write /sys/class/net/lo/mtu 65536 \
	mount proc proc / - write /sys/kernel/panic "$panic"
# (proc over / last: what follows would see proc as its root)

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

val() { awk -v k="$2=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "/tmp/fwt-h.$1"; }
# open TAG KEY...: the way out worked in run TAG (every KEY ok; "sys.*" keys: not EPERM)
open_in() {
	t=$1
	shift
	for k in "$@"; do
		v=$(val "$t" "$k")
		case $k in
		sys.*) [ -n "$v" ] && [ "$v" != EPERM ] || return 1 ;;
		*) [ "$v" = ok ] || return 1 ;;
		esac
	done
	return 0
}
tried=0 blocked=0 open_list=
# way NAME CLAIMED(1/0) KEY...: report one way out
way() {
	n=$1 claimed=$2
	shift 2
	tried=$((tried + 1))
	# which layer: the one that stops it when the other is off
	s_off=0 a_off=0
	open_in noseccomp "$@" || s_off=1
	open_in noapparmor "$@" || a_off=1
	case $s_off$a_off in
	10) layers=AppArmor ;;
	01) layers=seccomp ;;
	11) layers="either (AppArmor or seccomp alone), or the bounding set / kernel" ;;
	*) layers="only both together" ;;
	esac
	detail="$(for k in "$@"; do printf '%s=%s/%s/%s ' "$k" "$(val all "$k")" "$(val noseccomp "$k")" "$(val noapparmor "$k")"; done)"
	if open_in all "$@"; then
		open_list="$open_list $n"
		if [ "$claimed" = 1 ]; then
			vm_fail "hostile.$n" "NOT STOPPED: $detail(all/seccomp=off/apparmor=off)"
		else
			vm_pass "hostile.$n" "open in this build, left to ${LEFT_TO}: $detail"
		fi
	else
		blocked=$((blocked + 1))
		vm_pass "hostile.$n" "stopped by: $layers ($detail)"
	fi
}
way blk-mknod-read 1 mknod:/tmp/hd read:/tmp/hd
way blk-mknod-mount 1 mknod:/tmp/hd mount:/tmp/hdm
way devtmpfs-disk 1 mount:/tmp/dt read:/tmp/dt/$dname
way cgroup1-mount 1 mount:/tmp/cg1
way release-agent 1 mount:/tmp/cg1 write:/tmp/cg1/release_agent
LEFT_TO="the cgroup namespace"
way cgroup2-host-tree $has_cgns mount:/tmp/cg2 mkdir:/tmp/cg2/fwt-evil cg2-host-root
way sysctl-kernel.panic 1 write:/proc/sys/kernel/panic
way sysctl-kernel.printk 1 write:/proc/sys/kernel/printk
way sysctl-fs.file-max 1 write:/proc/sys/fs/file-max
way sysctl-core_pattern 1 write:/proc/sys/kernel/core_pattern
way proc-elsewhere-sysctl 1 mount:/tmp/p write:/tmp/p/sys/kernel/panic
way sys-block-queue 1 write:/sys/block/$dname/queue/read_ahead_kb
way sys-module-param 1 write:/sys/module/printk/parameters/time
way sysfs-elsewhere 1 mount:/tmp/s write:/tmp/s/module/printk/parameters/time
way uevent-helper 1 write:/sys/kernel/uevent_helper
way kmsg-named 1 mknod:/tmp/kmsg write:/tmp/kmsg
LEFT_TO="the device allowlist"
way kmsg-other-name $has_devices mknod:/tmp/km write:/tmp/km
way proc-on-root-sysctl 1 mount:/ write:/sys/kernel/panic
way debugfs-mount 1 mount:/tmp/dbg
way binfmt_misc-mount 1 mount:/tmp/bfm
way dev-mem-mknod 1 mknod:/tmp/mem read:/tmp/mem
way sysrq-trigger 1 sysrq_open
way clock-set 1 clock_settime
for c in kexec_load kexec_file_load init_module finit_module open_by_handle_at swapon acct \
	keyctl add_key bpf perf_event_open userfaultfd quotactl iopl keyctl-i386 keyctl-x32; do
	[ "$(val all "sys.$c")" = unavailable ] && continue
	way "syscall-$c" 1 "sys.$c"
done
echo "VMTEST-INFO hostile: $tried ways out tried, $blocked stopped under fwrun's defaults${open_list:+; open:$open_list}"

# What a firmware needs stays allowed under the defaults.
ok=1
for k in mount:/proc mount:/sys write:/proc/sys/kernel/hostname write:/proc/sys/net/ipv4/ip_forward \
	write:/proc/sys/kernel/msgmax write:/sys/class/net/lo/mtu sys.adjtimex-read sys.mknod-fifo; do
	[ "$(val all "$k")" = ok ] || { ok=0; vm_fail hostile.allowed "$k=$(val all "$k")"; }
done
[ $ok = 1 ] && vm_pass hostile.allowed "own /proc and /sys mounts, hostname, net and IPC sysctls, lo's mtu, clock reads: ok"
[ "$(val all Seccomp)" = 2 ] && vm_pass hostile.seccomp-on "pid 1 Seccomp=2" ||
	vm_fail hostile.seccomp-on "Seccomp=$(val all Seccomp)"
vm_show "$(head -c 2000 /tmp/fwt-h.all.err)"
losetup -d "$disk" 2>/dev/null
rm -f /tmp/fwt-hostdisk.ext4
