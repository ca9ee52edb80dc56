# vm-disk: systemd
# Debian's systemd as the firmware's init (issues 16 and 14) under AppArmor
# enforcing and pure cgroup v2: the debootstrapped Debian 12 of the host's
# t-firmware-systemd.sh comes as a read-only virtio disk (test/vm/run; a
# reason in /vmtest/systemd.skip when it could not be made), mounted here and
# given to fwrun as a directory. With fwrun's defaults (its profile, its
# cgroup and cgroup namespace, its filter) systemd boots to multi-user.target
# and its fwt-poweroff.target runs `systemctl poweroff`: fwrun exits 0. The
# guest's cgroup tree is the same before and after, and AppArmor denies
# nothing during the boot (each denial is listed).
. /vmtest/lib.sh

sd=/tmp/fwt-sd
vm_systemd_disk $sd || exit 0
cg=/sys/fs/cgroup
cgroups() { find $cg -type d | sort; }
uptime_s() { read -r up _ </proc/uptime; echo "$up"; }

# The guest's own cgroups, as a host has some: systemd must not touch them.
mkdir -p $cg/fwt-sd-host/a $cg/fwt-sd-host/b
cgroups >/tmp/fwt-sd.cg.before
: >/tmp/fwt-sd.cg.during
t0=$(uptime_s)
"$VM_FWRUN" --rootfs $sd --name fwt-sd --ephemeral --timeout 100 --status-fd 3 \
	-- /lib/systemd/systemd systemd.unit=fwt-poweroff.target \
	</dev/null >/tmp/fwt-sd.out 2>/tmp/fwt-sd.err 3>/tmp/fwt-sd.ev &
fw=$!
# While it runs: pid 1's label (its pid from the started event), and the
# cgroup tree every 0.3 s (where systemd makes its slices).
lbl=
i=0
while [ $i -lt 400 ] && kill -0 $fw 2>/dev/null; do
	if [ -z "$lbl" ]; then
		p=$(sed -n 's/.*"event":"started","run":[0-9]*,"pid":\([0-9]*\).*/\1/p' /tmp/fwt-sd.ev)
		[ -n "$p" ] && lbl=$(cat "/proc/$p/attr/current" 2>/dev/null)
	fi
	cgroups >>/tmp/fwt-sd.cg.during
	sleep 0.3
	i=$((i + 1))
done
wait $fw
rc=$?
t1=$(uptime_s)
ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "VMTEST-INFO systemd: boot to multi-user.target and poweroff under TCG: $ms ms"

vm_check systemd.confined "pid 1 (systemd): $lbl" [ "$lbl" = "fwrun (enforce)" ]
[ "$lbl" = "fwrun (enforce)" ] || vm_show "pid=$p" "$(cat /tmp/fwt-sd.ev)"
ok=no
[ "$rc" = 0 ] && grep -qx 'fwrun: firmware powered off' /tmp/fwt-sd.err && ok=yes
vm_check systemd.poweroff "rc=$rc: $(tail -n 1 /tmp/fwt-sd.err)" [ $ok = yes ]
vm_check systemd.multi-user "Reached target Multi-User System" \
	grep -q 'Reached target.*Multi-User System' /tmp/fwt-sd.out
vm_check systemd.detect-virt "$(grep -o 'fwt: detect-virt=[a-z-]*' /tmp/fwt-sd.out)" \
	grep -q 'fwt: detect-virt=container-other' /tmp/fwt-sd.out
if [ "$rc" != 0 ] || ! grep -q 'Multi-User System' /tmp/fwt-sd.out; then
	vm_show "stderr:" "$(tail -n 20 /tmp/fwt-sd.err)" "console:" "$(tail -n 40 /tmp/fwt-sd.out)"
fi
# fwrun's cgroup goes after the run; give the kernel a moment.
i=0
while ! cgroups | cmp -s - /tmp/fwt-sd.cg.before && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
cgroups >/tmp/fwt-sd.cg.after
# What appeared meanwhile: the instance's cgroup, and below its payload
# (the root of pid 1's cgroup namespace) systemd's own; nothing elsewhere.
sort -u /tmp/fwt-sd.cg.during >/tmp/fwt-sd.cg.seen
awk 'NR == FNR { old[$0] = 1; next } !($0 in old)' /tmp/fwt-sd.cg.before /tmp/fwt-sd.cg.seen \
	>/tmp/fwt-sd.cg.new
inst=$cg/fwrun-fwt-sd
outside=$(grep -v "^$inst\(/\|\$\)" /tmp/fwt-sd.cg.new)
sdcg=$(sed -n "s|^$inst/payload/||p" /tmp/fwt-sd.cg.new | grep -v / | sort | tr '\n' ' ')
ok=no
[ -z "$outside" ] && [ -n "$sdcg" ] && ok=yes
vm_check systemd.cgroups-contained "systemd's under $inst/payload: ${sdcg:-none}; new elsewhere: ${outside:-none}" \
	[ $ok = yes ]
[ $ok = yes ] || vm_show "samples: $(grep -c . /tmp/fwt-sd.cg.during) lines" "$(head -n 30 /tmp/fwt-sd.cg.seen)"
vm_check systemd.cgroups-unchanged "$(wc -l </tmp/fwt-sd.cg.before) cgroup dirs before, $(wc -l </tmp/fwt-sd.cg.after) after" \
	cmp -s /tmp/fwt-sd.cg.before /tmp/fwt-sd.cg.after
cmp -s /tmp/fwt-sd.cg.before /tmp/fwt-sd.cg.after ||
	vm_show "$(diff /tmp/fwt-sd.cg.before /tmp/fwt-sd.cg.after)"

# fwrun(8), FIRMWARES: systemd boots under the profile without a denial.
vm_aa_denials "$t0" >/tmp/fwt-sd.denied
while read -r d; do echo "VMTEST-INFO systemd: DENIED $d"; done </tmp/fwt-sd.denied
vm_check systemd.no-denials "$(wc -l </tmp/fwt-sd.denied) distinct AppArmor denials during the boot" \
	[ ! -s /tmp/fwt-sd.denied ]

rmdir $cg/fwt-sd-host/a $cg/fwt-sd-host/b $cg/fwt-sd-host
