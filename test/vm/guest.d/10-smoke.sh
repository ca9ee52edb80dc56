# Smoke: the VM has a real AppArmor kernel, the parser loads policy, the
# modules fwrun needs are there, and fwrun runs the probe as pid 1.
. /vmtest/lib.sh

aa=/sys/kernel/security/apparmor
en=$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)
if [ "$en" = Y ] && [ -e "$aa/profiles" ]; then
	vm_pass smoke.apparmor-enabled "enabled=$en, lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)"
else
	vm_fail smoke.apparmor-enabled "enabled='$en', $aa/profiles $( [ -e "$aa/profiles" ] && echo exists || echo missing)"
fi

# A trivial profile from stdin, then it must be listed by the kernel. The
# parser runs through the counting wrapper, to show it counts.
vm_parser_wrap
prof='profile fwt-smoke flags=(attach_disconnected) {
  capability,
  file,
  deny capability sys_time,
}'
out=$(printf '%s\n' "$prof" | apparmor_parser --replace 2>&1)
rc=$?
calls=$(vm_parser_calls)
if [ $rc -eq 0 ] && grep -q '^fwt-smoke (enforce)' "$aa/profiles" && [ "$calls" = 1 ]; then
	vm_pass smoke.parser-load "fwt-smoke loaded: $(grep '^fwt-smoke' "$aa/profiles"), parser calls counted: $calls"
else
	vm_fail smoke.parser-load "apparmor_parser rc=$rc, calls counted=$calls: $out"
	vm_show "$(cat "$aa/profiles" 2>&1)"
fi

# (not in a pipe: the last command of a pipe runs in a subshell)
printf '%s\n' "$prof" >/tmp/fwt-smoke.prof
ms=
vm_ms ms apparmor_parser --replace /tmp/fwt-smoke.prof
echo "VMTEST-INFO smoke: apparmor_parser --replace of a 3-rule profile: ${ms}ms"

# The config a real profile may lean on is there: abi, tunables, abstractions
# (-Q: compile only).
out=$(apparmor_parser -Q -K 2>&1 <<'PROF'
abi <abi/3.0>,
#include <tunables/global>
profile fwt-smoke-inc flags=(attach_disconnected) {
  #include <abstractions/base>
  file,
}
PROF
)
vm_check smoke.parser-includes "abi/3.0, tunables/global, abstractions/base compile" [ $? -eq 0 ]
[ -z "$out" ] || vm_show "$out"

# The profile runs a program confined (busybox's own exec-with-label is not
# there, so go through the kernel interface by hand).
lbl=$(sh -c 'echo "exec fwt-smoke" >/proc/self/attr/exec && exec cat /proc/self/attr/current' 2>&1)
case "$lbl" in
"fwt-smoke (enforce)") vm_pass smoke.confine "a process exec'd under fwt-smoke reads its label: $lbl" ;;
*) vm_fail smoke.confine "label after exec: '$lbl'" ;;
esac

missing=
for m in loop overlay tun veth; do
	[ -d "/sys/module/$m" ] || missing="$missing $m"
done
if [ -z "$missing" ]; then
	vm_pass smoke.modules "loop overlay tun veth loaded"
else
	vm_fail smoke.modules "missing:$missing (have: $(cut -d' ' -f1 /proc/modules | tr '\n' ' '))"
fi
[ -e /dev/net/tun ] || vm_fail smoke.modules "/dev/net/tun missing"
[ -e /dev/loop-control ] || vm_fail smoke.modules "/dev/loop-control missing"

# What fwrun will do by itself: the image on a loop device, an overlay on it.
t=/tmp/fwt-smoke
mkdir -p $t/lower $t/upper $t/work $t/merged
if mount -o ro,loop -t ext4 "$VM_IMAGE" $t/lower 2>$t/err &&
	mount -t overlay -o lowerdir=$t/lower,upperdir=$t/upper,workdir=$t/work fwt-ovl $t/merged 2>>$t/err &&
	[ -x $t/merged/sbin/boxinit ] && echo x >$t/merged/etc/fwt-written && [ -f $t/upper/etc/fwt-written ]; then
	vm_pass smoke.loop-overlay "ext4 image on loop, writable overlay over it"
else
	vm_fail smoke.loop-overlay "$(cat $t/err)"
fi
umount $t/merged 2>/dev/null
umount $t/lower 2>/dev/null

if ip tuntap add dev fwt-tap0 mode tap 2>$t/err && [ -d /sys/class/net/fwt-tap0 ]; then
	vm_pass smoke.tap "tap device created"
	ip tuntap del dev fwt-tap0 mode tap 2>/dev/null
else
	vm_fail smoke.tap "ip tuntap add: $(cat $t/err)"
fi
if ip link add fwt-v0 type veth peer name fwt-v1 2>$t/err && [ -d /sys/class/net/fwt-v1 ]; then
	vm_pass smoke.veth "veth pair created"
	ip link del fwt-v0 2>/dev/null
else
	vm_fail smoke.veth "ip link add veth: $(cat $t/err)"
fi

# fwrun, when the build put it in.
if [ ! -x "$VM_FWRUN" ]; then
	vm_skip smoke.fwrun "no fwrun binary in the initramfs (FWRUN not built)"
else
	out=$("$VM_FWRUN" --rootfs "$VM_IMAGE" --ephemeral -- /sbin/boxinit report 2>&1)
	rc=$?
	echo "fwrun --rootfs $VM_IMAGE --ephemeral -- /sbin/boxinit report: exit $rc"
	vm_show "$out"
	if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -qx 'pid=1'; then
		vm_pass smoke.fwrun "boxinit ran as pid 1 ($(printf '%s\n' "$out" | grep -E "^(label|attr.current)=" | head -n1))"
	else
		vm_fail smoke.fwrun "fwrun rc=$rc, no pid=1 line"
	fi
fi

# Removal works too (the VM is thrown away, but later scenarios may rely
# on replace/remove).
if grep -q '^fwt-smoke ' "$aa/profiles"; then
	echo "profile fwt-smoke {}" | apparmor_parser --remove >/dev/null 2>&1
	if grep -q '^fwt-smoke ' "$aa/profiles"; then
		vm_fail smoke.parser-remove "fwt-smoke still loaded after --remove"
	else
		vm_pass smoke.parser-remove "fwt-smoke removed"
	fi
fi
exit 0
