#!/bin/bash
# SPDX-License-Identifier: MIT
# The console under a real terminal (tmux): the firmware's stdin is a tty
# named /dev/console, a typed line gets its answer, Ctrl-C goes to the
# firmware (not to fwrun), a resize is seen inside, Ctrl-] three times kills
# the firmware, and the terminal is restored (stty -a before = after).
# Without a terminal and --console=pty: a pty relayed from stdin.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd tmux
[ -x /bin/busybox ] || skip "needs busybox-static for the image's /bin/sh"
mk_image ext2 "$T/fw.ext2"

# --- no terminal, --console=pty: the init still gets /dev/console as a tty,
# and boxinit is told its console's name
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "${PFX}c" --console=pty /bin/probe report
assert_status 0 "--console=pty without a terminal"
OUT=$(tr -d '\r' <<<"$OUT")	# the pty's output processing: CR LF
assert_eq /dev/console "$(kvs "$OUT" ttyname0)" "stdin is /dev/console"
assert_eq 1 "$(kvs "$OUT" isatty1)" "stdout is the tty"
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "${PFX}c" --console=pty /sbin/boxinit echo hi
OUT=$(tr -d '\r' <<<"$OUT")
assert_match '^prop.boot.console=console$' "$OUT" "boxinit got ro.boot.console=console"
assert_match '^echo=hi$' "$OUT" "the init's own arguments come first and all run"
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "${PFX}c" --console=pipe /sbin/boxinit report
assert_eq none "$(kvs "$OUT" ttyname0)" "no terminal, pipe: no pty"
assert_nomatch 'boot.console' "$OUT" "no console argument without a pty"

# --- a real terminal
sock=$T/tmux.sock
sess=${PFX}
tm() { tmux -S "$sock" "$@"; }
cat >"$T/drive.sh" <<SH
#!/bin/bash
stty -a >"$T/stty.before"
"$FWRUN" --rootfs "$T/fw.ext2" --ephemeral --name "${PFX}c" --console-log "$T/tty.log" /bin/sh 2>"$T/tty.err"
echo "status=\$?" >"$T/tty.status"
stty -a >"$T/stty.after"
echo DRIVER-DONE
sleep 60
SH
tm -f /dev/null new-session -d -s "$sess" -x 80 -y 24 "bash --noprofile --norc $T/drive.sh" ||
	die "tmux new-session failed"
at_exit "tmux -S '$sock' kill-server 2>/dev/null"
tm set -g status off >/dev/null
screen() { tm capture-pane -p -t "$sess" -S -200; }
wait_screen() {	# ERE [SECS]
	local i
	for i in $(seq 1 $((${2:-10} * 20))); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.05
	done
	fail "screen never showed /$1/:"
	screen | sed 's/^/    | /' | tail -n 15
	return 1
}
type_line() { tm send-keys -t "$sess" -l "$1"; tm send-keys -t "$sess" Enter; }

sleep 1	# the shell's prompt
type_line 'busybox tty; echo "SUM=$((6*7))"'
wait_screen '^SUM=42' || die "no answer from the firmware's shell"
assert_match '^/dev/console$' "$(screen)" "the firmware's stdin is a tty named /dev/console"
type_line 'busybox stty size'
wait_screen '^24 80$' || true
# /dev/kmsg in the terminal, on a line of its own; the console in the log
type_line 'echo "<6>KMSG=$((3*3))" >/dev/kmsg'
wait_screen '^kmsg: KMSG=9$' 5 || true
wait_line "$T/tty.log" '^SUM=42$' 5 || fail "the terminal's console not in --console-log"
wait_line "$T/tty.log" '^kmsg: KMSG=9$' 5 || fail "kmsg not in --console-log"

# Ctrl-C is the firmware's: it interrupts the firmware's sleep, fwrun lives on
type_line 'busybox sleep 30; echo "AFTER=$((1+1))"'
sleep 0.5
tm send-keys -t "$sess" C-c
type_line 'echo "ALIVE=$((2+3))"'
wait_screen '^ALIVE=5' 5 || true
[ -e "$T/tty.status" ] && fail "Ctrl-C ended fwrun: $(cat "$T/tty.status")"

# Resize the window: seen inside
tm resize-window -t "$sess" -x 100 -y 30
sleep 0.3
type_line 'busybox stty size'
wait_screen '^30 100$' || true

# The escape: Ctrl-] three times within a second kills the firmware
tm send-keys -t "$sess" C-]
tm send-keys -t "$sess" C-]
tm send-keys -t "$sess" C-]
wait_line "$T/tty.status" '^status=' 5 || die "fwrun did not end on the escape sequence"
assert_eq "status=137" "$(cat "$T/tty.status")" "escape kills the firmware: 128+9"
assert_match 'firmware killed \(Ctrl-\] pressed 3 times\)' "$(cat "$T/tty.err")" "escape line"
wait_screen 'DRIVER-DONE' 5 || true
# stty -a output depends on the size: compare at the same size
sed -i 's/rows [0-9]*; columns [0-9]*;//' "$T/stty.before" "$T/stty.after"
if ! cmp -s "$T/stty.before" "$T/stty.after"; then
	fail "terminal not restored:"
	diff -u "$T/stty.before" "$T/stty.after" | sed 's/^/    /'
fi
assert_match 'icanon' "$(cat "$T/stty.after")" "cooked mode back"
assert_nomatch '-icanon' "$(cat "$T/stty.after")" "not raw"
