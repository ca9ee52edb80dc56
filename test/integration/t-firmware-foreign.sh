#!/bin/bash
# SPDX-License-Identifier: MIT
# Foreign firmwares (issue 16): fwrun reads INIT's ELF header (or that of
# its #! interpreter) inside the image before it runs it.
#  - arm64: Debian's busybox-static:arm64 unpacked into an image boots
#    through qemu-user-static's binfmt_misc handler (F flag): `uname -m`
#    says aarch64, -v and the started event name the emulator;
#  - without a handler: 126 and one line naming the architecture and what
#    to install. Shown on a machine of our own making: a handler of this
#    test's (the probe as the "emulator" of ia64 ELF files), enabled, then
#    disabled, then removed; the host's handlers are never touched.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd mke2fs jq
need_fs overlay
[ -x /bin/busybox ] || skip "needs busybox-static (tools/install-deps installs it)"
BM=/proc/sys/fs/binfmt_misc
[ -e "$BM/register" ] ||
	skip "binfmt_misc is not mounted (tools/install-deps mounts it and enables qemu-aarch64)"

# --- arm64 busybox through qemu-user ------------------------------------------
foreign_deb arm64 busybox-static "$T/bb-arm64"
st=$T/arm
mk_busybox_tree "$st" "$T/bb-arm64/bin/busybox"
mkdir -p "$st/sbin"
install -m 0755 "$REPO/demo/boxinit" "$st/sbin/boxinit"	# #!/bin/sh: arm64 busybox
mk_image ext2 "$T/arm.ext2" "$st"
sum=$(sha_of "$T/arm.ext2")
host_snapshot "$T/host.before"

aarch64_handler=
for h in "$BM"/*; do
	case ${h##*/} in register | status) continue ;; esac
	[ -f "$h" ] && [ "$(head -n 1 "$h")" = enabled ] &&
		grep -q '^magic 7f454c460201010000000000000000000200b700' "$h" && aarch64_handler=$h
done
if [ -n "$aarch64_handler" ]; then
	grep -q '^flags: .*F' "$aarch64_handler" ||
		log "note: $aarch64_handler has no F flag: its interpreter must be in the firmware"
	run_fwrun --rootfs "$T/arm.ext2" --name "${PFX}a" --ephemeral -v --status-fd 3 \
		/bin/busybox uname -m 3>"$T/events"
	assert_status 0 "arm64 busybox uname -m"
	assert_match '^aarch64' "$OUT" "uname -m inside an arm64 firmware"
	assert_match "fwrun: init: /bin/busybox \(other, arm64\)" "$ERR" "-v names the architecture"
	assert_match "fwrun: emulator: $(grep '^interpreter' "$aarch64_handler" | cut -d' ' -f2)" \
		"$ERR" "-v names the emulator"
	assert_eq arm64 "$(jq -r 'select(.event=="started") | .arch' "$T/events")" "started: arch"
	assert_match '^/' "$(jq -r 'select(.event=="started") | .emulator' "$T/events")" \
		"started: emulator"
	# The demo's boxinit, a #! script whose /bin/sh is arm64 busybox: boots.
	run_fwrun --rootfs "$T/arm.ext2" --name "${PFX}a" --ephemeral -- /sbin/boxinit --once
	assert_status 0 "arm64 boxinit --once"
	assert_match "^boxinit: I am pid 1 on host '${PFX}a'" "$OUT" "arm64 boxinit's report"
else
	# No handler for arm64 on this host: the clear 126.
	log "no enabled binfmt_misc handler for arm64 (install qemu-user-static and binfmt-support)"
	[ "${CI:-}" = true ] && fail "CI: tools/install-deps must register qemu-aarch64"
	run_fwrun --rootfs "$T/arm.ext2" --name "${PFX}a" --ephemeral /sbin/boxinit
	assert_status 126 "arm64 without a handler"
	assert_eq "fwrun: run init '/sbin/boxinit': Exec format error (an arm64 binary: install qemu-user-static and binfmt-support)" \
		"$(grep -v AppArmor "$T/last.err")" "the 126 line"
fi
assert_eq "$sum" "$(sha_of "$T/arm.ext2")" "arm64 image unchanged"
# --dry-run reads INIT's machine from a directory rootfs (an image, it
# does not mount)
run_fwrun --dry-run --rootfs "$st" --name "${PFX}a" /sbin/boxinit
assert_status 0 "--dry-run on the arm64 tree"
if [ -n "$aarch64_handler" ]; then
	assert_match '^arch: +arm64 \(other, via /bin/sh\), emulated by /' "$OUT" "--dry-run: arch and emulator"
else
	assert_match '^arch: +arm64 \(other, via /bin/sh\), no emulator' "$OUT" "--dry-run: arch, no emulator"
fi
run_fwrun --dry-run --rootfs "$T/arm.ext2" --name "${PFX}a" /sbin/boxinit
assert_match '^arch: +read when INIT starts' "$OUT" "--dry-run on an image"

# --- a machine no emulator covers, with a handler of ours ----------------------
# An ELF header for ia64 (EM_IA_64 = 50), little-endian, 64-bit: nothing
# runs it on this host unless someone registered a handler for it.
ia=$T/ia
mk_staging "$ia"
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\062\000\001\000\000\000' \
	>"$ia/sbin/ia64init"
head -c 44 /dev/zero >>"$ia/sbin/ia64init"
chmod 0755 "$ia/sbin/ia64init"
mk_image ext2 "$T/ia.ext2" "$ia"
for h in "$BM"/*; do
	case ${h##*/} in register | status) continue ;; esac
	[ -f "$h" ] && [ "$(head -n 1 "$h")" = enabled ] &&
		grep -q '^magic 7f454c4602010100000000000000000002003200' "$h" &&
		skip "the host has a binfmt_misc handler for ia64 ($h): cannot show the 126"
done

run_fwrun --rootfs "$T/ia.ext2" --name "${PFX}i" --ephemeral /sbin/ia64init
assert_status 126 "ia64 without a handler"
assert_eq "fwrun: run init '/sbin/ia64init': Exec format error (an ia64 binary: no emulator for it on this host, qemu-user-static has none)" \
	"$(grep -v AppArmor "$T/last.err")" "the 126 line names the architecture"

# Our own handler: the probe (static) as ia64's "emulator", F flag so it is
# opened now, from the host, as qemu-user-static's are.
hname=$PFX-ia64
cp "$PROBE" "$T/emu"
at_exit "[ -e '$BM/$hname' ] && echo -1 >'$BM/$hname'"
echo ":$hname:M::\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\x32\\x00::$T/emu:F" \
	>"$BM/register" || die "cannot register a binfmt_misc handler of our own"
run_fwrun --rootfs "$T/ia.ext2" --name "${PFX}i" --ephemeral -v /sbin/ia64init echo via-emulator
assert_status 0 "ia64 with our handler"
assert_match '^emulated=/sbin/ia64init' "$OUT" "the handler ran it"
assert_match '^echo=via-emulator' "$OUT" "its arguments followed"
assert_match "fwrun: emulator: $T/emu \(binfmt_misc\)" "$ERR" "-v names our emulator"
echo 0 >"$BM/$hname"		# disabled: as if not installed
run_fwrun --rootfs "$T/ia.ext2" --name "${PFX}i" --ephemeral /sbin/ia64init
assert_status 126 "ia64 with our handler disabled"
assert_match "\(an ia64 binary: no emulator" "$ERR" "disabled handler: the hint again"
echo -1 >"$BM/$hname"
assert_nofile "$BM/$hname" "our handler removed"

host_unchanged "$T/host.before"
