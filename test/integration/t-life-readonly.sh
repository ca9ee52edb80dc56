#!/bin/bash
# SPDX-License-Identifier: MIT
# Without a terminal (CI) the console is read-only: a pty whose output fwrun
# copies to its stdout. The firmware's own /dev/kmsg shows there as "kmsg: "
# lines. --console-log keeps every line (surviving a SIGKILL of fwrun up to
# the last full line); --until stops the firmware on a line and exits 0.
# With a terminal, see t-life-console.sh: the pty console is unchanged.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd jq
mk_image ext2 "$T/fw.ext2"
N=${PFX}r
# fwrun's own lines, without the notice of a kernel without AppArmor
said() { grep -v 'AppArmor is not enabled' <<<"$ERR"; }

# --- the console and kmsg, on stdout and in the log
LOG=$T/boot.log
echo "from an earlier run" >"$LOG"
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" --console-log "$LOG" \
	/bin/probe report console $'on the console\n' kmsg '<6>kmsg record' \
	kmsg-rw $'<3>second record\n' kmsg 'plain text' exit 3
assert_status 3 "the init's status"
assert_eq /dev/console "$(kvs "$OUT" ttyname0)" "no terminal: the init's stdin is /dev/console"
assert_eq 1 "$(kvs "$OUT" isatty1)" "its stdout is the console pty"
assert_nomatch $'\r' "$OUT" "CR LF written as LF"
assert_match '^on the console$' "$OUT" "/dev/console on fwrun's stdout"
assert_match '^kmsg: kmsg record$' "$OUT" "/dev/kmsg (O_WRONLY) on stdout, marked, priority off"
assert_match '^kmsg: second record$' "$OUT" "/dev/kmsg (O_RDWR) on stdout"
assert_match '^kmsg: plain text$' "$OUT" "a record without priority"
assert_nomatch '^kmsg=' "$OUT" "every kmsg write worked"
assert_eq "fwrun: init exited with status 3" "$(said)" "a non-zero status said in one line"
assert_eq "from an earlier run" "$(head -n 1 "$LOG")" "the log is appended to"
assert_match '^on the console$' "$(cat "$LOG")" "the console in the log"
assert_match '^kmsg: kmsg record$' "$(cat "$LOG")" "kmsg in the log"
assert_match '^ttyname0=/dev/console$' "$(cat "$LOG")" "the init's stdout in the log"
assert_nomatch $'\r' "$(cat "$LOG")" "no CR in the log"
assert_eq "$(printf '%s\n' "$OUT" | grep -c .)" "$(($(grep -c . "$LOG") - 1))" \
	"the log has every line of stdout"

# -q: no line for the status; a signal is said
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" -q /bin/probe exit 4
assert_status 4
assert_eq "" "$ERR" "-q: nothing said"
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" /bin/probe segv
assert_status 139
assert_eq "fwrun: init killed by SIGSEGV" "$(said)" "a fatal signal said in one line"

# --console=pipe: as before, the init has fwrun's stdio
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" --console=pipe /bin/probe report \
	kmsg '<6>still here'
assert_status 0
assert_eq none "$(kvs "$OUT" ttyname0)" "pipe: no pty"
assert_match '^kmsg: still here$' "$OUT" "pipe: /dev/kmsg still on stdout"
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" --console=pipe --console-log "$LOG" \
	/bin/probe report
assert_status 125 "pipe refuses --console-log"
assert_match "needs a console fwrun sees" "$ERR"

# --- the log survives a SIGKILL of fwrun, up to the last full line
LOG2=$T/killed.log
start_fwrun k --rootfs "$T/fw.ext2" --ephemeral --name "$N" --console-log "$LOG2" \
	/bin/probe echo one kmsg '<6>two' echo three console 'half a li' sleep
wait_line "$LOG2" '^echo=three$' 10 || die "the log never showed the third line"
sleep 0.3
kill -KILL "$FWPID"
wait_fwrun "$FWPID" 10
# (the console and kmsg are two streams: their order between them is the
# order fwrun read them in)
assert_eq $'echo=one\necho=three\nkmsg: two' "$(sort "$LOG2")" \
	"every full line in the log after SIGKILL, not the half one"

# --- --until
# matches: the firmware stopped the usual way, exit 0, a matched event
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" --until '^kmsg: .*ready$' \
	--status-fd 1 /bin/probe arm-term echo before kmsg '<6>system ready' wait-term echo after
assert_status 0 "--until matched"
assert_match '^kmsg: system ready$' "$OUT"
assert_match '^got-signal=TERM$' "$OUT" "the init got the stop signal"
assert_match '^echo=after$' "$OUT" "what it wrote after the stop is still copied"
ev=$(grep '^{"event":"matched"' <<<"$OUT")
assert_eq "kmsg: system ready" "$(jq -r .line <<<"$ev")" "the matched event has the line"
assert_eq matched "$(grep '^{"event":"exited"' <<<"$OUT" | jq -r .reason)" "exited: matched"
assert_match 'matched --until: firmware stopped with SIGTERM' "$ERR"
# every event carries its time; started the firmware's network (lo only: none)
assert_eq "started matched exited" "$(grep '^{"event"' <<<"$OUT" | jq -r .event | tr '\n' ' ' | sed 's/ $//')" \
	"the events"
assert_eq "" "$(grep '^{"event"' <<<"$OUT" | jq -r 'select((.time | test("^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$") | not) or (.elapsed_ms | type) != "number") | .event')" \
	"time and elapsed_ms on every event"
assert_eq "[]" "$(grep '^{"event":"started"' <<<"$OUT" | jq -c .network)" "no interfaces but lo"
# a firmware that ignores the stop signal is killed after --kill-after: still 0
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" --until 'go' --kill-after 0.3 \
	/bin/probe ignore-term echo go sleep
assert_status 0 "--until matched, killed after the grace"
# no match within --timeout: 124
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" --until 'never' --timeout 1 \
	/bin/probe echo nothing sleep
assert_status 124 "--until with --timeout and no match"
# the firmware exits first: its own status, and said
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" --until 'never' /bin/probe exit 5
assert_status 5 "--until, firmware exits first"
assert_match '^fwrun: no console line matched --until$' "$ERR"
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" --until 'never' /bin/probe echo x
assert_status 0 "--until, firmware exits 0 first"
# glibc's regexec() keeps every DFA state it builds: under this pattern the
# 600 lines would grow fwrun by some 75 MB. The console compiles the regex
# again after 8 MB of growth (mallinfo2: glibc's own malloc, so not in the
# sanitizer builds), and the fresh one still matches.
start_fwrun dfa --rootfs "$T/fw.ext2" --ephemeral --name "$N" --until '(a|b)*a(a|b){14}c' \
	/bin/probe term-exit 0 ab-lines 600 echo lines-done sleep 3 console $'xabbbbbbbbbbbbbbc\n' sleep
if wait_line "$T/dfa.out" '^echo=lines-done$' 60; then
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$FWPID/status")
	wait_fwrun "$FWPID" 30
	assert_status 0 "--until matched after the regex was compiled again"
	if ldd "$FWRUN" 2>/dev/null | grep -q libasan; then
		log "ASan's malloc: fwrun's peak memory not checked (${hwm} KiB)"
	else
		assert_eq yes "$([ "${hwm:-0}" -gt 0 ] && [ "$hwm" -le 16384 ] && echo yes)" \
			"fwrun's peak memory after 600 lines: ${hwm} KiB, at most 16 MiB"
	fi
else
	fail "the 600 lines never came through"
fi

# a bad regex is a usage error
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$N" --until 'a(' /bin/probe echo x
assert_status 125 "bad --until"
assert_match "^fwrun: --until 'a\(': " "$ERR"

exit "$FWT_FAILS"
