# AppArmor for real (issue 3): pid 1 of the firmware confined by fwrun's
# profile, the clock refused by AppArmor alone (--cap-add SYS_TIME --seccomp=off), sysrq
# denied, the profile loaded once and reused without a parser run, a
# replaced profile reloaded (a bad record: test_aa), --apparmor=on/off, --profile; and
# the costs: a run with the profile loaded vs --apparmor=off, the parser.
. /vmtest/lib.sh

aa=/sys/kernel/security/apparmor
state=/run/fwrun/apparmor.state
if [ ! -x "$VM_FWRUN" ]; then
	vm_skip aa.all "no fwrun binary in the initramfs"
	exit 0
fi
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] || [ ! -e "$aa/profiles" ]; then
	vm_fail aa.enabled "AppArmor not enabled in the guest kernel"
	exit 0
fi
vm_pass aa.enabled "enabled=Y, lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)"

# run ARGS...: fwrun on the probe image; sets rc, out (stdout), err. stdin
# is not the serial console: with a terminal fwrun would give the init a pty
# and pass boxinit "ro.boot.console=console", which the probe refuses.
run() {
	out=$("$VM_FWRUN" --rootfs "$VM_IMAGE" --ephemeral --name fwt-aa "$@" </dev/null 2>/tmp/fwt-aa.err)
	rc=$?
	err=$(cat /tmp/fwt-aa.err)
}
show() { vm_show "rc=$rc" "$err" "$(printf '%s\n' "$out" | grep -E '^(attr|Cap|clock|settime|sysrq|pid)')"; }
bit() { echo $(( (0x$1 >> $2) & 1 )); }

# --- 1. first run: fwrun loads its profile, pid 1 starts confined --------------
rm -f "$state"
vm_parser_wrap
run -v -- /sbin/boxinit report clock sysrq \
	write /proc/sys/kernel/core_pattern core write /proc/sys/vm/drop_caches 3 \
	write /proc/sys/kernel/hostname fwt-aa2 write /data/fwt-aa ok
calls=$(vm_parser_calls)
d1=$(vm_aa_dir)
if [ $rc -eq 0 ] && [ "$calls" = 1 ] && [ "$d1" != none ] && grep -q '^fwrun (enforce)$' "$aa/profiles"; then
	vm_pass aa.first-load "parser ran once ($(cat /tmp/vm-parser-calls)), kernel holds $d1 with $(ls "$aa/policy/profiles/$d1" | grep -E '^sha' | tr '\n' ' ')$(vm_aa_hash)"
else
	vm_fail aa.first-load "rc=$rc parser calls=$calls dir=$d1"
	show
fi
lbl=$(vm_kv attr.current)
if [ "$lbl" = "fwrun (enforce)" ] && [ "$(vm_kv pid)" = 1 ]; then
	vm_pass aa.confined "pid 1 /proc/self/attr/current: $lbl"
else
	vm_fail aa.confined "pid=$(vm_kv pid) attr.current='$lbl'"
	show
fi
[ "$(vm_kv sysrq_open)" = EACCES ] && vm_pass aa.sysrq "open /proc/sysrq-trigger for writing: EACCES" ||
	{ vm_fail aa.sysrq "sysrq_open=$(vm_kv sysrq_open)"; show; }
w() { vm_kv "write:$1"; }
if [ "$(w /proc/sys/kernel/core_pattern)" = EACCES ] && [ "$(w /proc/sys/vm/drop_caches)" = EACCES ] &&
	[ "$(w /proc/sys/kernel/hostname)" = ok ] && [ "$(w /data/fwt-aa)" = ok ]; then
	vm_pass aa.files "core_pattern and vm/drop_caches writes: EACCES; the firmware's own hostname and files: ok"
else
	vm_fail aa.files "core_pattern=$(w /proc/sys/kernel/core_pattern) drop_caches=$(w /proc/sys/vm/drop_caches) hostname=$(w /proc/sys/kernel/hostname) /data=$(w /data/fwt-aa)"
	show
fi
parser_ms=$(printf '%s\n' "$err" | sed -n 's/.*loaded by apparmor_parser in \([0-9.]*\) ms.*/\1/p')
[ -f "$state" ] && vm_show "record: $(tr '\n' ' ' <"$state")"

# --- 2. second run, --cap-add SYS_TIME --seccomp=off: no parser, AppArmor alone refuses
vm_parser_wrap
before=$(cat "$state")
run -v --cap-add SYS_TIME --seccomp=off -- /sbin/boxinit report clock sysrq
calls=$(vm_parser_calls)
d2=$(vm_aa_dir)
if [ $rc -eq 0 ] && [ "$calls" = 0 ] && [ "$d2" = "$d1" ] && [ "$(cat "$state")" = "$before" ] &&
	printf '%s\n' "$err" | grep -q 'already loaded, reused: no parser run'; then
	vm_pass aa.reused "second run: parser calls 0, policy dir still $d2, record unchanged"
else
	vm_fail aa.reused "rc=$rc parser calls=$calls dir $d1 -> $d2"
	show
fi
chk=$(printf '%s\n' "$err" | sed -n 's/.*checked in \([0-9.]*\) ms.*/\1/p')
lbl_ms=$(printf '%s\n' "$err" | sed -n 's/.*protection (exec label) *\([0-9.]*\) ms.*/\1/p')
bnd_ms=$(printf '%s\n' "$err" | sed -n 's/.*protection (bounding set) *\([0-9.]*\) ms.*/\1/p')
echo "VMTEST-INFO aa: hot path with the profile loaded (fwrun -v): reuse check ${chk}ms, exec label ${lbl_ms}ms, bounding set ${bnd_ms}ms"
if printf '%s\n' "$err" | grep -q 'AppArmor is not enabled'; then
	vm_fail aa.no-notice "auto with AppArmor printed the no-AppArmor notice"
else
	vm_pass aa.no-notice "no 'not enabled' notice when AppArmor is there"
fi
bnd=$(vm_kv CapBnd)
if [ "$(vm_kv attr.current)" = "fwrun (enforce)" ] && [ "$(bit "$bnd" 25)" = 1 ] &&
	[ "$(vm_kv clock_settime)" = EPERM ] && [ "$(vm_kv settimeofday)" = EPERM ]; then
	vm_pass aa.clock "CAP_SYS_TIME in CapBnd ($bnd), yet clock_settime=EPERM settimeofday=EPERM"
else
	vm_fail aa.clock "CapBnd=$bnd clock_settime=$(vm_kv clock_settime) settimeofday=$(vm_kv settimeofday)"
	show
fi
if dmesg 2>/dev/null | grep 'apparmor="DENIED"' | grep 'profile="fwrun"' | grep -q 'capname="sys_time"'; then
	vm_pass aa.audit "the denial is in the kernel log: $(dmesg | grep 'capname="sys_time"' | tail -n 1 | sed 's/.*apparmor=/apparmor=/' | cut -c1-120)"
else
	vm_fail aa.audit "no apparmor=DENIED capname=sys_time profile=fwrun in dmesg"
fi

# --- 3. the modes ---------------------------------------------------------------
run --apparmor=on -- /sbin/boxinit report
[ $rc -eq 0 ] && [ "$(vm_kv attr.current)" = "fwrun (enforce)" ] &&
	vm_pass aa.mode-on "--apparmor=on: confined" || { vm_fail aa.mode-on "rc=$rc"; show; }
run --apparmor=off --cap-add SYS_TIME --seccomp=off -- /sbin/boxinit report clock
if [ $rc -eq 0 ] && [ "$(vm_kv attr.current)" = unconfined ] && [ "$(vm_kv clock_settime)" = ok ]; then
	vm_pass aa.mode-off "--apparmor=off: unconfined, and with --cap-add SYS_TIME nothing refuses (clock set to the value just read)"
else
	vm_fail aa.mode-off "rc=$rc attr.current=$(vm_kv attr.current) clock_settime=$(vm_kv clock_settime)"
	show
fi
run --apparmor=off -- /sbin/boxinit report clock
[ "$(vm_kv clock_settime)" = EPERM ] && vm_pass aa.mode-off-caps "--apparmor=off: the bounding set still refuses the clock" ||
	{ vm_fail aa.mode-off-caps "clock_settime=$(vm_kv clock_settime)"; show; }

# --- 4. a replaced or tampered profile is loaded again ----------------------------
h1=$(vm_aa_hash)
printf 'profile fwrun {\n  capability,\n  file,\n}\n' | /sbin/apparmor_parser.real --replace >/dev/null 2>&1
h3=$(vm_aa_hash)
vm_parser_wrap
run -v -- /sbin/boxinit report clock
calls=$(vm_parser_calls)
parser_ms2=$(printf '%s\n' "$err" | sed -n 's/.*loaded by apparmor_parser in \([0-9.]*\) ms.*/\1/p')
d4=$(vm_aa_dir)
h4=$(vm_aa_hash)
if [ -n "$h1" ] && [ "$h3" != "$h1" ] && [ "$calls" = 1 ] && [ "$h4" = "$h1" ] && [ "$(vm_kv clock_settime)" = EPERM ]; then
	vm_pass aa.replaced "someone else's 'fwrun' (hash $h3) seen and replaced by ours again ($d4, $h4)"
else
	vm_fail aa.replaced "hash $h1 -> $h3 -> $h4, dirs $d1 -> $d4, parser calls=$calls, clock_settime=$(vm_kv clock_settime)"
	show
fi
vm_parser_wrap
run -- /sbin/boxinit report
[ "$(vm_parser_calls)" = 0 ] && [ "$(vm_aa_dir)" = "$d4" ] && vm_pass aa.reused-again "then reused: no parser run" ||
	vm_fail aa.reused-again "parser calls=$(vm_parser_calls)"
# --- 5. --profile -----------------------------------------------------------------
printf 'profile fwt-own flags=(attach_disconnected) {\n  capability,\n  file,\n  mount,\n  umount,\n  pivot_root,\n  signal,\n  deny capability sys_time,\n}\n' |
	/sbin/apparmor_parser.real --replace >/dev/null 2>&1
vm_parser_wrap
run --profile fwt-own -- /sbin/boxinit report
if [ $rc -eq 0 ] && [ "$(vm_kv attr.current)" = "fwt-own (enforce)" ] && [ "$(vm_parser_calls)" = 0 ]; then
	vm_pass aa.profile "--profile fwt-own: pid 1 under it, no parser run"
else
	vm_fail aa.profile "rc=$rc attr.current=$(vm_kv attr.current) parser calls=$(vm_parser_calls)"
	show
fi
run --profile fwt-missing -- /sbin/boxinit report
if [ $rc -eq 125 ] && [ -z "$out" ] && printf '%s\n' "$err" | grep -q "fwt-missing"; then
	vm_pass aa.profile-missing "--profile fwt-missing: 125, $err"
else
	vm_fail aa.profile-missing "rc=$rc: $err"
fi

# --- 5b. --enter runs under the init's label (issue 15) ------------------------------
# enter_labels NAME ARGS...: a background run with ARGS, then --enter NAME;
# sets init_lbl and enter_lbl (each one's /proc/self/attr/current), erc.
enter_labels() {
	n=$1
	shift
	: >/tmp/$n.out
	"$VM_FWRUN" --rootfs "$VM_IMAGE" --ephemeral --name "$n" "$@" -- /sbin/boxinit term-exit 0 report ready sleep \
		</dev/null >/tmp/$n.out 2>/tmp/$n.err &
	bgpid=$!
	i=0
	while ! grep -q '^ready=1' /tmp/$n.out && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	init_lbl=$(sed -n 's/^attr\.current=//p' /tmp/$n.out | head -n 1)
	eout=$("$VM_FWRUN" --enter "$n" -- /sbin/boxinit report </dev/null 2>/tmp/$n.enter.err)
	erc=$?
	enter_lbl=$(printf '%s\n' "$eout" | sed -n 's/^attr\.current=//p' | head -n 1)
	"$VM_FWRUN" --stop "$n" >/dev/null 2>&1 || kill -KILL $bgpid 2>/dev/null
	wait $bgpid
}
for c in "aa.enter|fwrun (enforce)|" "aa.enter-profile|fwt-own (enforce)|--profile fwt-own" \
	"aa.enter-off|unconfined|--apparmor=off"; do
	name=${c%%|*} c=${c#*|}
	want=${c%%|*} opts=${c#*|}
	enter_labels fwt-aa-enter $opts
	if [ $erc -eq 0 ] && [ "$init_lbl" = "$want" ] && [ "$enter_lbl" = "$init_lbl" ]; then
		vm_pass $name "${opts:-default}: --enter's label is the init's: $enter_lbl"
	else
		vm_fail $name "${opts:-default}: want '$want', init '$init_lbl', --enter '$enter_lbl' (rc=$erc)"
		vm_show "$(cat /tmp/fwt-aa-enter.err /tmp/fwt-aa-enter.enter.err)"
	fi
done

# --- 6. a firmware-like boot under the profile --------------------------------------
# A directory rootfs with busybox: pid 1 mounts proc and sysfs, tries a
# devtmpfs (which would show the host's devices: denied, the boot goes on),
# brings lo up, execs a child, and tries the RTC through sysfs.
r=/tmp/fwt-aa-root
mkdir -p $r/bin $r/sbin $r/proc $r/sys $r/dev $r/mnt/dev $r/tmp $r/data
cp /bin/busybox $r/bin/busybox
cp /vmtest/probe $r/bin/probe
cat >$r/sbin/boxinit <<'EOS'
#!/bin/busybox sh
b=/bin/busybox
$b mount -t proc proc /proc && echo mount.proc=ok
$b mount -t sysfs sysfs /sys && echo mount.sys=ok
$b mount -t devtmpfs devtmpfs /mnt/dev && echo mount.devtmpfs=ok || echo mount.devtmpfs=denied
# without the devtmpfs, the RTC's node made by hand (the profile denies it by name)
[ -e /mnt/dev/rtc0 ] || { d=$($b cat /sys/class/rtc/rtc0/dev 2>/dev/null) &&
	{ $b mknod /mnt/dev/rtc0 c ${d%:*} ${d#*:} 2>/dev/null && echo rtc.mknod=ok || echo rtc.mknod=denied; }; }
$b ip link set lo up && echo lo=up
rtc=$($b ls /mnt/dev | $b grep -m1 '^rtc[0-9]')
echo rtc.dev=${rtc:-none}
[ -n "$rtc" ] && { ( : </mnt/dev/$rtc ) 2>/dev/null && echo rtc.open=ok || echo rtc.open=denied; }
w=$($b ls -d /sys/class/rtc/rtc0/wakealarm 2>/dev/null)
[ -n "$w" ] && { echo 0 >$w 2>/dev/null && echo rtc.wakealarm=ok || echo rtc.wakealarm=denied; }
exec /bin/probe report
EOS
chmod 0755 $r/sbin/boxinit
# The instance's device allowlist would stop the RTC before AppArmor sees it
# (fwrun(8)): let the guest's RTC through it, so that the profile's rule is
# what this checks.
rtcdev=
for d in /dev/rtc[0-9]*; do [ -c "$d" ] && rtcdev="--device $d" && break; done
out=$("$VM_FWRUN" --rootfs $r --ephemeral --name fwt-aa3 $rtcdev </dev/null 2>/tmp/fwt-aa.err)
rc=$?
err=$(cat /tmp/fwt-aa.err)
if [ $rc -eq 0 ] && [ "$(vm_kv mount.proc)" = ok ] && [ "$(vm_kv mount.sys)" = ok ] && [ "$(vm_kv mount.devtmpfs)" = denied ] &&
	[ "$(vm_kv lo)" = up ] && [ "$(vm_kv attr.current)" = "fwrun (enforce)" ]; then
	vm_pass aa.boot "a busybox init mounts proc, sysfs, is refused a devtmpfs and goes on, brings lo up and execs a child, all confined ($(vm_kv attr.current))"
else
	vm_fail aa.boot "rc=$rc"
	vm_show "$err" "$out"
fi
if [ "$(vm_kv rtc.dev)" = none ] && [ "$(vm_kv rtc.mknod)" = denied ] && [ "$(vm_kv rtc.wakealarm)" = denied ] &&
	dmesg | grep 'apparmor="DENIED"' | grep 'profile="fwrun"' | grep -q 'name="/mnt/dev/rtc0"'; then
	vm_pass aa.rtc "no devtmpfs; a node /mnt/dev/rtc0 cannot even be made, nor wakealarm written: denied by fwrun's profile (audit log)"
elif [ "$(vm_kv rtc.dev)" = none ]; then
	vm_skip aa.rtc "no RTC device in the guest (rtc.mknod=$(vm_kv rtc.mknod))"
elif [ "$(vm_kv rtc.open)" = denied ] && [ "$(vm_kv rtc.wakealarm)" = denied ] &&
	dmesg | grep 'apparmor="DENIED"' | grep 'profile="fwrun"' | grep -q "name=\"/mnt/dev/$(vm_kv rtc.dev)\"" &&
	dmesg | grep 'apparmor="DENIED"' | grep 'profile="fwrun"' | grep -q 'name="/sys/devices/.*/rtc/rtc[0-9]*/wakealarm"'; then
	vm_pass aa.rtc "open /mnt/dev/$(vm_kv rtc.dev) (a devtmpfs) and write wakealarm: denied by fwrun's profile (audit log)"
else
	vm_fail aa.rtc "rtc.open=$(vm_kv rtc.open) rtc.wakealarm=$(vm_kv rtc.wakealarm)"
	vm_show "$(dmesg | grep 'apparmor="DENIED"' | tail -n 5)"
fi
rm -rf $r

# --- 6b. kmsg: the profile denies writes to any file named kmsg but fwrun's own
# /dev/kmsg (a pty it relays as "kmsg: " lines); path rules see names only, so
# regular files test the globs (a real 1:11 node is the device allowlist's).
set -- /kmsg /tmp/kmsg /d/kmsg /de/kmsg /devx/kmsg /dev/x/kmsg /dev/x/y/kmsg /tmp/dev/kmsg /data/d/kmsg
args=
for f in "$@"; do
	d=${f%/*}
	[ -n "$d" ] && args="$args mkdir $d"
	args="$args write $f x"
done
# shellcheck disable=SC2086 # words on purpose
run -- /sbin/boxinit mkdir /dev/x mkdir /data/d $args write /tmp/kmsgx x kmsg '<6>fwt-own-kmsg' exit 0
bad=
for f in "$@"; do [ "$(w "$f")" = EACCES ] || bad="$bad $f=$(w "$f")"; done
[ "$(w /tmp/kmsgx)" = ok ] || bad="$bad /tmp/kmsgx=$(w /tmp/kmsgx)"
if [ $rc -eq 0 ] && [ -z "$bad" ] && printf '%s\n' "$out" | grep -qx 'kmsg: fwt-own-kmsg'; then
	vm_pass aa.kmsg "fwrun's /dev/kmsg written (a kmsg: line); denied (EACCES):$(printf ' %s' "$@")"
else
	vm_fail aa.kmsg "rc=$rc, not as expected:${bad:- none}, own kmsg line: $(printf '%s\n' "$out" | grep -c '^kmsg: fwt-own-kmsg')"
	vm_show "$err" "$out"
fi

# --- 7. costs (TCG: slow and noisy; the scenario has 60 s in all) -----------------------
echo "VMTEST-INFO aa: apparmor_parser --replace of fwrun's profile (one-time cost, fwrun -v): ${parser_ms}ms, then ${parser_ms2}ms"
n=3
on=$(vmtime -n $n -q "$VM_FWRUN" --rootfs "$VM_IMAGE" --ephemeral --name fwt-aa -- /sbin/boxinit exit 0 </dev/null)
off=$(vmtime -n $n -q "$VM_FWRUN" --rootfs "$VM_IMAGE" --ephemeral --name fwt-aa --apparmor=off -- /sbin/boxinit exit 0 </dev/null)
echo "VMTEST-INFO aa: run, profile already loaded: $on"
echo "VMTEST-INFO aa: run, --apparmor=off:          $off"
exit 0
