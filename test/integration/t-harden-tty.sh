#!/bin/bash
# SPDX-License-Identifier: MIT
# What a SIGKILL of fwrun does to the terminal (fwrun(8), NOTES): with a pty
# console the terminal is raw while the firmware runs, and SIGKILL leaves it
# so (nothing can catch SIGKILL). The next run says so, one line, and gives
# the terminal back sane at its exit instead of "restoring" the raw mode.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd script stty mke2fs
need_fs overlay
mk_staging "$T/staging"
mk_image ext2 "$T/fw.ext2"

cat >"$T/drive.sh" <<SH
#!/bin/bash
mode() { stty -a | grep -oE -- '(^| )-?icanon( |\$)' | tr -d ' '; }
mode >"$T/mode.before"
"$FWRUN" --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-tty" -- /sbin/boxinit ready sleep \
	</dev/tty 2>"$T/first.err" &
p=\$!
for i in \$(seq 1 400); do
	[ "\$(mode)" = -icanon ] && break
	sleep 0.05
done
kill -KILL \$p
wait \$p 2>/dev/null
mode >"$T/mode.killed"
"$FWRUN" --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-tty" -- /sbin/boxinit exit 0 \
	</dev/tty 2>"$T/next.err"
echo \$? >"$T/next.status"
mode >"$T/mode.after"
"$FWRUN" --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-tty" -- /sbin/boxinit exit 0 \
	</dev/tty 2>"$T/third.err"
SH
chmod +x "$T/drive.sh"
timeout -k 5 90 script -qefc "$T/drive.sh" "$T/tty.log" </dev/null >/dev/null 2>&1
assert_file "$T/mode.before" icanon "the terminal before: canonical"
assert_file "$T/mode.killed" -icanon "after SIGKILL of fwrun: the terminal is left raw (documented)"
assert_file "$T/next.status" 0 "the next run's status"
assert_match "^fwrun: the terminal was left in raw mode \(by a killed fwrun\?\)" \
	"$(grep -v AppArmor "$T/next.err")" "the next run says so"
assert_file "$T/mode.after" icanon "after the next run: the terminal is sane again"
assert_nomatch "raw mode" "$(cat "$T/third.err" 2>/dev/null)" "a sane terminal: nothing said"
