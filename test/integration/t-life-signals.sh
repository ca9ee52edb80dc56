#!/bin/bash
# SPDX-License-Identifier: MIT
# Signals to fwrun reach the firmware as --stop-signal; an init that ignores
# it is killed after --kill-after; a second SIGINT kills at once.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
mk_image ext2 "$T/fw.ext2"
common=(--rootfs "$T/fw.ext2" --ephemeral --name "${PFX}s")

# SIGTERM -> an init that handles SIGTERM and exits 0 -> fwrun 0
start_fwrun term "${common[@]}" /sbin/boxinit term-exit 0 ready sleep
wait_line "$T/term.out" '^ready=1' || die "the init never got ready: $(cat "$T/term.err")"
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 10
assert_status 0 "SIGTERM handled by the init"
assert_match '^got-signal=TERM' "$(cat "$T/term.out")" "the init got SIGTERM"

# SIGHUP is forwarded the same way; the init's status is fwrun's
start_fwrun hup "${common[@]}" /sbin/boxinit term-exit 42 ready sleep
wait_line "$T/hup.out" '^ready=1' || die "the init never got ready"
kill -HUP "$FWPID"
wait_fwrun "$FWPID" 10
assert_status 42 "SIGHUP forwarded as SIGTERM, init exit 42"

# An init that ignores SIGTERM: SIGKILLed after --kill-after -> 128+9
start_fwrun ign "${common[@]}" --kill-after 1 /sbin/boxinit ignore-term ready sleep
wait_line "$T/ign.out" '^ready=1' || die "the init never got ready"
t0=$(date +%s%N)
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 10
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_status 137 "ignored SIGTERM, killed after --kill-after"
[ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ] || fail "kill-after 1s took ${ms} ms"
assert_match 'did not stop within 1s of SIGTERM: killed' "$(cat "$T/ign.err")" "kill-after message"

# A second SIGINT kills at once, long before --kill-after 60
start_fwrun int "${common[@]}" --kill-after 60 /sbin/boxinit ignore-term ready sleep
wait_line "$T/int.out" '^ready=1' || die "the init never got ready"
t0=$(date +%s%N)
kill -INT "$FWPID"
sleep 0.3
kill -0 "$FWPID" 2>/dev/null || fail "one SIGINT already ended fwrun (should only send SIGTERM)"
kill -INT "$FWPID"
wait_fwrun "$FWPID" 10
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_status 137 "second SIGINT"
[ "$ms" -lt 2000 ] || fail "second SIGINT took ${ms} ms to kill"
assert_match 'second SIGINT: firmware killed' "$(cat "$T/int.err")" "second SIGINT message"

# --stop-signal KILL: the stop is immediate even for an init that ignores TERM
start_fwrun sk "${common[@]}" --stop-signal KILL /sbin/boxinit ignore-term ready sleep
wait_line "$T/sk.out" '^ready=1' || die "the init never got ready"
kill -TERM "$FWPID"
wait_fwrun "$FWPID" 5
assert_status 137 "--stop-signal KILL"

# Started with SIGCHLD ignored (inherited across exec, as some job runners
# leave it): the kernel would reap the init unseen and fwrun wait for ever.
# SIGKILL at 20 s: a hung fwrun ignores the SIGTERM it forwards nowhere.
timeout -s KILL 20 python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$FWRUN" "${common[@]}" --until 'ready' \
	/sbin/boxinit ready exit 7 >"$T/chld.out" 2>"$T/chld.err"
rc=$?
[ "$rc" = 0 ] || fail "started with SIGCHLD ignored: status $rc, want 0 (--until matched; 137: it hung): $(cat "$T/chld.err")"
timeout -s KILL 20 python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$FWRUN" "${common[@]}" /sbin/boxinit exit 7 \
	>"$T/chld2.out" 2>"$T/chld2.err"
rc=$?
[ "$rc" = 7 ] || fail "started with SIGCHLD ignored: status $rc, want the init's 7 (137: it hung): $(cat "$T/chld2.err")"
