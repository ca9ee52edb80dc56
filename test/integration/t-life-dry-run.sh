#!/bin/bash
# SPDX-License-Identifier: MIT
# --dry-run prints the life-cycle part of the plan (console, stop, INIT argv)
# and leaves no trace: no state dir, nothing mounted, no event written.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
mk_image ext2 "$T/fw.ext2"
host_snapshot "$T/before"
run_fwrun --rootfs "$T/fw.ext2" --state-dir "$T/state" --name "${PFX}d" --dry-run \
	--timeout 30 --kill-after 2 --stop-signal PWR --restart-on-reboot --status-fd 1 --console=pipe
assert_status 0
assert_match '^console: +none' "$OUT" "no pty with --console=pipe"
assert_match '^stop: +SIGPWR on SIGINT/SIGTERM/SIGHUP or after 30s, SIGKILL 2s later; restart on reboot' \
	"$OUT" "stop line"
assert_nomatch '"event"' "$OUT" "no events in a dry run"
assert_nofile "$T/state" "state dir not created"
host_unchanged "$T/before" "after --dry-run"
run_fwrun --rootfs "$T/fw.ext2" --state-dir "$T/state" --name "${PFX}d" --dry-run --console=pty
assert_match '^init: +/sbin/boxinit ro.boot.console=console$' "$OUT" "boxinit gets its console name"
assert_match '^console: +pty as /dev/console' "$OUT" "pty forced"
# no terminal, no --console: read-only, with the log and --until in the plan
run_fwrun --rootfs "$T/fw.ext2" --state-dir "$T/state" --name "${PFX}d" --dry-run \
	--console-log "$T/boot.log" --until 'login:'
assert_match '^console: +read-only: pty as /dev/console' "$OUT" "no terminal: read-only"
assert_match '^kmsg: +/dev/kmsg a pty' "$OUT" "the firmware's own /dev/kmsg"
assert_match "^log: +console and kmsg lines appended to $T/boot.log\$" "$OUT" "--console-log"
assert_match '^until: +stop and exit 0 when a line matches /login:/$' "$OUT" "--until"
assert_nofile "$T/boot.log" "the log not created by --dry-run"

# --dry-run=json: the same plan as one JSON object, for scripts and CI.
need_cmd jq
run_fwrun --rootfs "$T/fw.ext2" --state-dir "$T/state" --name "${PFX}d" --dry-run=json \
	--timeout 30 --stop-signal PWR --console=pty
assert_status 0
assert_eq "${PFX}d|ext2|$T/state/upper|pty|SIGPWR|30000|/sbin/boxinit ro.boot.console=console" \
	"$(printf '%s' "$OUT" | jq -r '[.name, .rootfs.kind, .state.upper, .console.mode,
	.stop.signal, .stop.timeout_ms, (.init.argv | join(" "))] | join("|")')" \
	"the JSON plan says what the text one says"
assert_nofile "$T/state" "state dir not created by --dry-run=json"
run_fwrun --rootfs "$T/fw.ext2" --dry-run=json --console-log "$T/boot.log" --until 'a|b'
assert_eq "read-only|false|$T/boot.log|a|b" \
	"$(jq -r '.console | [.mode, .input, .log, .until] | join("|")' <<<"$OUT")" \
	"the JSON plan's console"
run_fwrun --rootfs "$T/fw.ext2" --dry-run=yaml
assert_status 125
assert_match "option --dry-run 'yaml': use text or json" "$ERR" "unknown format refused"
host_unchanged "$T/before" "after --dry-run=json"
