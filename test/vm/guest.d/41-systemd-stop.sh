# vm-disk: systemd
# SIGTERM to fwrun stops Debian's systemd cleanly under AppArmor (issue 16):
# systemd boots to its default target (multi-user.target on the way), fwrun
# passes SIGTERM on as SIGRTMIN+3 (systemd's halt), systemd stops its units
# and halts: fwrun exits 0 within the grace period, without a kill, and
# AppArmor denied nothing.
. /vmtest/lib.sh

sd=/tmp/fwt-sd
vm_systemd_disk $sd || exit 0

read -r tb _ </proc/uptime
"$VM_FWRUN" --rootfs $sd --name fwt-sd2 --ephemeral --kill-after 60 --timeout 100 \
	-- /lib/systemd/systemd </dev/null >/tmp/fwt-sd2.out 2>/tmp/fwt-sd2.err &
fw=$!
i=0
while [ $i -lt 300 ] && kill -0 $fw 2>/dev/null &&
	! grep -q 'Reached target.*Multi-User System' /tmp/fwt-sd2.out; do
	sleep 0.3
	i=$((i + 1))
done
reached=no
grep -q 'Reached target.*Multi-User System' /tmp/fwt-sd2.out && reached=yes
read -r t0 _ </proc/uptime
kill -TERM $fw
wait $fw
rc=$?
read -r t1 _ </proc/uptime
ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "VMTEST-INFO systemd: SIGTERM to exit under TCG: $ms ms"

vm_check systemd.stop-multi-user "Reached target Multi-User System before the SIGTERM" [ $reached = yes ]
killed=no
grep -q killed /tmp/fwt-sd2.err && killed=yes
ok=no
[ "$rc" = 0 ] && [ $killed = no ] && ok=yes
vm_check systemd.sigterm "rc=$rc in $ms ms, killed: $killed ($(tail -n 1 /tmp/fwt-sd2.err))" [ $ok = yes ]
[ $ok = yes ] && [ $reached = yes ] ||
	vm_show "stderr:" "$(tail -n 10 /tmp/fwt-sd2.err)" "console:" "$(tail -n 30 /tmp/fwt-sd2.out)"
vm_aa_denials "$tb" >/tmp/fwt-sd2.denied
while read -r d; do echo "VMTEST-INFO systemd: DENIED $d"; done </tmp/fwt-sd2.denied
vm_check systemd.stop-no-denials "$(wc -l </tmp/fwt-sd2.denied) distinct AppArmor denials, boot and halt" \
	[ ! -s /tmp/fwt-sd2.denied ]
exit 0
