#!/bin/bash
# SPDX-License-Identifier: MIT
# The demo firmware (README's first command): demo/mkimage builds an ext2
# image from busybox-static; its boxinit runs as pid 1, mounts what it needs,
# reports, and stops with 0 on SIGTERM; demo/run ends by itself without a
# terminal.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd mke2fs
need_fs overlay
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	skip "needs a static /bin/busybox (busybox-static)"

"$REPO/demo/mkimage" "$T/demo.ext2" >"$T/mk.log" 2>&1 || die "demo/mkimage failed: $(cat "$T/mk.log")"
file -b "$T/demo.ext2" 2>/dev/null | grep -q ext2 || [ "$(od -An -tx2 -j1080 -N2 "$T/demo.ext2" | tr -d ' ')" = ef53 ] ||
	fail "demo image is not ext2"
sum=$(sha_of "$T/demo.ext2")
host_snapshot "$T/host.before"

# Without a terminal, --once: the report, then status 0.
run_fwrun --rootfs "$T/demo.ext2" --name "$PFX-demo" --ephemeral -- /sbin/boxinit --once
assert_status 0 "boxinit --once"
assert_match "^boxinit: I am pid 1 on host '$PFX-demo'" "$OUT" "boxinit's report"
assert_match '^    lo ' "$OUT" "boxinit lists the interfaces"
assert_match '^    /proc proc ' "$OUT" "boxinit sees /proc mounted"
assert_match '^    /sys sysfs ' "$OUT" "boxinit sees /sys mounted"
assert_match '^boxinit: --once: done$' "$OUT" "boxinit --once ends"

# The default INIT without a terminal waits; SIGTERM stops it with 0. (Its
# stdin must be no terminal: the read-only console, fwrun's default
# without one, is a pty, on which boxinit starts its shell.)
start_fwrun wait --rootfs "$T/demo.ext2" --name "$PFX-demo" --ephemeral --console=pipe
if wait_line "$T/wait.out" '^boxinit: no terminal: waiting' 15 && ipid=$(wait_init "$FWPID" 5); then
	kill -TERM "$ipid"
	wait_fwrun "$FWPID" 10
	assert_status 0 "boxinit stopped by SIGTERM"
	assert_match '^boxinit: got SIGTERM, stopping$' "$(cat "$T/wait.out")" "boxinit says it stops"
else
	fail "boxinit never reached its wait: $(cat "$T/wait.out" "$T/wait.err")"
fi

# With a terminal: a shell; what is typed runs inside; exiting it stops the
# firmware with 0.
if command -v script >/dev/null; then
	{ sleep 2; echo 'echo typed-$((6*7)) $(hostname)'; sleep 1; echo exit; sleep 1; } |
		timeout 20 script -qefc "$(printf '%q ' "$FWRUN" --rootfs "$T/demo.ext2" --name "$PFX-demo" --ephemeral)" "$T/tty.log" >/dev/null
	st=$?
	assert_eq 0 "$st" "demo with a terminal: status after the shell exits"
	assert_match "^typed-42 $PFX-demo" "$(tr -d '\r' <"$T/tty.log")" "a command typed into the demo's shell"

	# Ctrl-C ends what runs in the shell (SIGINT is not left ignored), and
	# busybox's poweroff powers the firmware off: 0, well before sleep 30.
	{ sleep 2; echo 'sleep 30; echo slept'; sleep 1; printf '\003'; sleep 1
	  echo 'echo after-int-$((1+1))'; sleep 1; echo poweroff; sleep 3; } |
		timeout 20 script -qefc "$(printf '%q ' "$FWRUN" --rootfs "$T/demo.ext2" --name "$PFX-demo" --ephemeral)" "$T/tty2.log" >/dev/null
	st=$?
	log=$(tr -d '\r' <"$T/tty2.log")
	assert_eq 0 "$st" "demo: poweroff in its shell gives 0"
	assert_match "^after-int-2" "$log" "Ctrl-C interrupted sleep in the demo's shell"
	assert_nomatch "^slept" "$log" "sleep 30 ran to its end"
	assert_match "boxinit: got SIGUSR2: poweroff" "$log" "boxinit heard poweroff"
	assert_match "fwrun: firmware powered off" "$log" "fwrun says powered off"

	# reboot in its shell: 133.
	{ sleep 2; echo reboot; sleep 3; } |
		timeout 20 script -qefc "$(printf '%q ' "$FWRUN" --rootfs "$T/demo.ext2" --name "$PFX-demo" --ephemeral)" "$T/tty3.log" >/dev/null
	st=$?
	assert_eq 133 "$st" "demo: reboot in its shell gives 133"
fi

assert_eq "$sum" "$(sha_of "$T/demo.ext2")" "demo image sha256 after the runs"
host_unchanged "$T/host.before" "after the demo runs"

# demo/run without a terminal finishes by itself (it builds build/demo.ext2
# in the repo when missing: use a copy of the repo's scripts).
mkdir -p "$T/repo/demo" "$T/repo/build"
cp "$REPO/demo/run" "$REPO/demo/mkimage" "$REPO/demo/boxinit" "$T/repo/demo/"
FWRUN=$FWRUN timeout 30 "$T/repo/demo/run" </dev/null >"$T/run.out" 2>&1
st=$?
assert_eq 0 "$st" "demo/run without a terminal: status"
assert_match "I am pid 1" "$(cat "$T/run.out")" "demo/run shows the report"
assert_file "$T/repo/build/demo.ext2"
host_unchanged "$T/host.before" "after demo/run"
