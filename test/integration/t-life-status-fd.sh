#!/bin/bash
# SPDX-License-Identifier: MIT
# --status-fd: JSON lines that parse, with the init's host pid, its
# namespace ids and the final status and reason; setup errors too.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd jq
mk_image ext2 "$T/fw.ext2"
common=(--rootfs "$T/fw.ext2" --ephemeral --name "${PFX}e")

"$FWRUN" "${common[@]}" --status-fd 3 /sbin/boxinit term-exit 5 ready sleep \
	</dev/null >"$T/s.out" 2>"$T/s.err" 3>"$T/events" &
FWPID=$!
FWT_PIDS+=("$FWPID")
wait_line "$T/s.out" '^ready=1' || die "the init never got ready: $(cat "$T/s.err")"
init=$(wait_init "$FWPID") || die "no init under fwrun"
wait_line "$T/events" '"event":"started"' 5 || die "no started event"
started=$(head -n1 "$T/events")
assert_eq started "$(jq -r .event <<<"$started")" "first event"
assert_eq "$init" "$(jq -r .pid <<<"$started")" "started.pid is the init's host pid"
assert_eq "$FWPID" "$(jq -r .supervisor_pid <<<"$started")" "supervisor pid"
assert_eq "${PFX}e" "$(jq -r .name <<<"$started")" "name"
for ns in mnt uts ipc net pid; do
	assert_eq "$(stat -L -c %i "/proc/$init/ns/$ns")" "$(jq -r ".namespaces.$ns" <<<"$started")" \
		"namespace id $ns"
	assert_ne "$(host_ns "$ns")" "$(jq -r ".namespaces.$ns" <<<"$started")" "$ns is not the host's"
done
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 10
assert_status 5
assert_eq 2 "$(wc -l <"$T/events")" "two lines"
jq -e . "$T/events" >/dev/null || fail "events do not parse as JSON: $(cat "$T/events")"
exited=$(tail -n1 "$T/events")
assert_eq "exited 5 exit 5" "$(jq -r '"\(.event) \(.status) \(.reason) \(.code)"' <<<"$exited")" \
	"exited event"

# A signal death, and a timeout
run_fwrun "${common[@]}" --status-fd 1 /sbin/boxinit segv
assert_status 139
assert_eq "signal 139 SEGV" "$(grep '"exited"' "$T/last.out" | jq -r '"\(.reason) \(.status) \(.signal)"')" \
	"exited by signal"
run_fwrun "${common[@]}" --status-fd 2 --timeout 0.3 /sbin/boxinit sleep
assert_status 124
assert_eq "timeout 124" "$(grep '"exited"' "$T/last.err" | jq -r '"\(.reason) \(.status)"')" \
	"exited by timeout"

# Setup errors: INIT not found (127), and an error message with quotes
run_fwrun "${common[@]}" --status-fd 1 /sbin/nope
assert_status 127
line=$(grep '"exited"' "$T/last.out")
assert_eq "setup-error 127" "$(jq -r '"\(.reason) \(.status)"' <<<"$line")" "INIT not found"
assert_match "nope" "$(jq -r .error <<<"$line")" "error names INIT"
run_fwrun --rootfs "$T/no\"such.ext2" --ephemeral --name "${PFX}e" --status-fd 1
assert_status 125
assert_eq "setup-error 125" "$(grep '"exited"' "$T/last.out" | jq -r '"\(.reason) \(.status)"')" \
	"missing rootfs"
assert_match 'no"such' "$(grep '"exited"' "$T/last.out" | jq -r .error)" "quote escaped and back"

# A closed fd is refused before anything runs
run_fwrun "${common[@]}" --status-fd 9 /sbin/boxinit exit 0
assert_status 125 "--status-fd 9 (closed)"
assert_match "^fwrun: use --status-fd '9': Bad file descriptor" "$ERR" "closed fd message"

# The firmware does not inherit the fd
run_fwrun "${common[@]}" --status-fd 3 /sbin/boxinit report 3>"$T/ev2"
assert_status 0
assert_nomatch '^fd\.3=' "$OUT" "status fd not inherited"
