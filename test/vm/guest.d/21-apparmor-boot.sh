# The packaged profile across boots (issue 17): the postinst
# (fwrun --load-profile) keeps a record in /var/lib/fwrun; at boot the AppArmor
# service loads /etc/apparmor.d/fwrun; the first run after it finds no record
# under /run and still runs no parser. An edited /etc/apparmor.d/fwrun, or no
# kept record, costs that first run one parser run, as before.
#
# A boot, here: the guest does not reboot (its root is a tmpfs); boot()
# does to fwrun's world what a reboot does: the kernel forgets the profile,
# /run/fwrun/apparmor.state is gone, /var/lib stays, and apparmor.service's
# command (Debian 12's /lib/apparmor/apparmor.systemd reload:
# apparmor_parser --write-cache --replace -- /etc/apparmor.d) loads the
# policy, from its cache from the second boot on.
. /vmtest/lib.sh

aa=/sys/kernel/security/apparmor
rec=/run/fwrun/apparmor.state
kept=/var/lib/fwrun/.apparmor.state
prof=/etc/apparmor.d/fwrun
if [ ! -x "$VM_FWRUN" ]; then
	vm_skip boot.all "no fwrun binary in the initramfs"
	exit 0
fi
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ]; then
	vm_fail boot.enabled "AppArmor not enabled in the guest kernel"
	exit 0
fi

run() {
	out=$("$VM_FWRUN" --rootfs "$VM_IMAGE" --ephemeral --name fwt-boot "$@" </dev/null 2>/tmp/fwt-boot.err)
	rc=$?
	err=$(cat /tmp/fwt-boot.err)
}
unload() { [ "$(vm_aa_dir)" = none ] || printf fwrun >"$aa/.remove"; }
boot() {
	unload
	rm -f "$rec"
	/sbin/apparmor_parser.real --write-cache --replace -- /etc/apparmor.d >/tmp/fwt-boot.svc 2>&1
	svc=$?
}
show() { vm_show "rc=$rc svc=$svc" "$err" "$(cat /tmp/fwt-boot.svc)" "$(cat /tmp/vm-parser-calls)"; }

vm_parser_wrap
mkdir -p /var/lib /var/cache/apparmor
rm -f "$kept"
"$VM_FWRUN" --print-profile >"$prof"	# what the package installs

# --- 1. the package's postinst (debian/fwrun.postinst): fwrun --load-profile ------
# The guest has no apparmor package: aa-enabled, which the postinst asks
# first, is a stub reading the kernel's answer.
unload
rm -f "$rec"
mkdir -p /tmp/fwt-boot.bin
printf '#!/bin/sh\n[ "$(cat /sys/module/apparmor/parameters/enabled)" = Y ]\n' >/tmp/fwt-boot.bin/aa-enabled
chmod 0755 /tmp/fwt-boot.bin/aa-enabled
vm_parser_wrap
msg=$(PATH=/tmp/fwt-boot.bin:/usr/sbin:/usr/bin:/sbin:/bin sh /vmtest/fwrun.postinst configure 2>&1)
rc=$?
calls=$(vm_parser_calls)
h0=$(vm_aa_hash)
if [ $rc -eq 0 ] && [ "$calls" = 1 ] && [ -f "$kept" ] && [ -n "$h0" ] && grep -q "^kernel $h0\$" "$kept"; then
	vm_pass boot.postinst "postinst configure: parser ran once, kept record: $(tr '\n' ' ' <"$kept")$msg"
else
	vm_fail boot.postinst "rc=$rc parser calls=$calls hash=$h0 kept=$(tr '\n' ' ' <"$kept" 2>/dev/null)"
	vm_show "$msg"
fi
vm_parser_wrap
msg=$("$VM_FWRUN" --load-profile 2>&1)
rc=$?
[ $rc -eq 0 ] && [ "$(vm_parser_calls)" = 0 ] && vm_pass boot.postinst-again "again: $msg" ||
	{ vm_fail boot.postinst-again "rc=$rc parser calls=$(vm_parser_calls)"; vm_show "$msg"; }

# --- 2. boot: the service loads /etc/apparmor.d; the first run runs no parser ------
boot
d1=$(vm_aa_dir)
h1=$(vm_aa_hash)
vm_parser_wrap
run -v -- /sbin/boxinit report
calls=$(vm_parser_calls)
if [ $svc -eq 0 ] && [ "$h1" = "$h0" ] && [ $rc -eq 0 ] && [ "$calls" = 0 ] &&
	[ "$(vm_kv attr.current)" = "fwrun (enforce)" ] && [ -f "$rec" ] &&
	printf '%s\n' "$err" | grep -q 'no parser run.*(first since boot)'; then
	vm_pass boot.first-run "service loaded $d1 with hash $h1 (= fwrun's own load); first run: parser calls 0, pid 1 $(vm_kv attr.current), /run record written"
else
	vm_fail boot.first-run "svc=$svc dir=$d1 hash $h0 -> $h1, rc=$rc parser calls=$calls attr.current=$(vm_kv attr.current)"
	show
fi
chk1=$(printf '%s\n' "$err" | sed -n 's/.*checked in \([0-9.]*\) ms.*/\1/p')
vm_parser_wrap
run -v -- /sbin/boxinit report
chk2=$(printf '%s\n' "$err" | sed -n 's/.*checked in \([0-9.]*\) ms.*/\1/p')
if [ $rc -eq 0 ] && [ "$(vm_parser_calls)" = 0 ] && printf '%s\n' "$err" | grep -q 'no parser run' &&
	! printf '%s\n' "$err" | grep -q 'first since boot'; then
	vm_pass boot.second-run "then the usual reuse from the /run record: parser calls 0"
else
	vm_fail boot.second-run "rc=$rc parser calls=$(vm_parser_calls)"
	show
fi
echo "VMTEST-INFO boot: reuse check, first run after boot (kept record, writes /run's): ${chk1}ms; next run: ${chk2}ms"

# --- 3. the next boot loads from apparmor's cache: the same hash ---------------------
ls /var/cache/apparmor/*/fwrun >/dev/null 2>&1 && cached=yes || cached=no
boot
h2=$(vm_aa_hash)
vm_parser_wrap
run -- /sbin/boxinit report
calls=$(vm_parser_calls)
if [ $svc -eq 0 ] && [ "$h2" = "$h0" ] && [ $rc -eq 0 ] && [ "$calls" = 0 ] && [ "$(vm_kv attr.current)" = "fwrun (enforce)" ]; then
	vm_pass boot.cached "boot from the cache (cache file: $cached): hash $h2, first run: parser calls 0"
else
	vm_fail boot.cached "svc=$svc cache=$cached hash $h0 -> $h2, rc=$rc parser calls=$calls"
	show
fi

# --- 4. an edited /etc/apparmor.d/fwrun: the first run replaces it ----------------
cp "$prof" /tmp/fwt-boot.prof
awk '/^}$/ { print "  deny /fwt-boot-edit r," } { print }' /tmp/fwt-boot.prof >"$prof"
boot
h3=$(vm_aa_hash)
vm_parser_wrap
run -- /sbin/boxinit report clock
calls=$(vm_parser_calls)
h4=$(vm_aa_hash)
if [ $svc -eq 0 ] && [ -n "$h3" ] && [ "$h3" != "$h0" ] && [ $rc -eq 0 ] && [ "$calls" = 1 ] &&
	[ "$h4" = "$h0" ] && [ "$(vm_kv clock_settime)" = EPERM ]; then
	vm_pass boot.edited "service loaded the edited file (hash $h3); first run: parser calls 1, fwrun's own back ($h4)"
else
	vm_fail boot.edited "svc=$svc hash $h0 -> boot $h3 -> run $h4, rc=$rc parser calls=$calls"
	show
fi
cp /tmp/fwt-boot.prof "$prof"

# --- 5. no kept record (the postinst never ran): one parser run, then kept ---------
rm -f "$kept"
boot
vm_parser_wrap
run -- /sbin/boxinit report
c1=$(vm_parser_calls)
boot
vm_parser_wrap
run -- /sbin/boxinit report
c2=$(vm_parser_calls)
if [ "$c1" = 1 ] && [ "$c2" = 0 ] && [ -f "$kept" ] && [ $rc -eq 0 ]; then
	vm_pass boot.no-kept "no kept record: the first run after boot ran the parser once and kept it; after the next boot: 0"
else
	vm_fail boot.no-kept "parser calls $c1 then $c2, kept=$([ -f "$kept" ] && echo yes || echo no) rc=$rc"
	show
fi

# --- 6. a kept record of another text (an older fwrun's) -----------------------------
sed -i 's/^text fnv1a64:.*/text fnv1a64:0000000000000000/' "$kept"
boot
vm_parser_wrap
run -- /sbin/boxinit report
[ "$(vm_parser_calls)" = 1 ] && [ $rc -eq 0 ] && vm_pass boot.kept-other-text "kept record of another text: parser calls 1" ||
	{ vm_fail boot.kept-other-text "parser calls=$(vm_parser_calls) rc=$rc"; show; }

rm -rf "$prof" /var/cache/apparmor/*/fwrun /tmp/fwt-boot.*
exit 0
