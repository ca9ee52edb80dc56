#!/bin/bash
# SPDX-License-Identifier: MIT
# --timeout: the firmware is stopped after that time, fwrun exits 124 and
# says so on stderr; the kill-after applies to an init that ignores the stop.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
mk_image ext2 "$T/fw.ext2"
common=(--rootfs "$T/fw.ext2" --ephemeral --name "${PFX}t")

# (an init without a SIGTERM handler would not even notice: the kernel
# drops signals a namespace's init does not handle)
run_fwrun "${common[@]}" --timeout 1 /sbin/boxinit term-exit 0 sleep
assert_status 124 "--timeout 1"
assert_match '^fwrun: timeout of 1s expired: firmware stopped with SIGTERM$' "$ERR" "timeout line"
[ "$RUN_MS" -ge 900 ] && [ "$RUN_MS" -lt 4000 ] || fail "--timeout 1 took $RUN_MS ms"

# It exited 0 on the stop: still 124 (the run did not finish)
assert_match '^got-signal=TERM' "$OUT" "the init got the stop signal"

# Ignores SIGTERM: killed --kill-after later, still 124, said even with -q
run_fwrun "${common[@]}" -q --timeout 0.5 --kill-after 0.5 /sbin/boxinit ignore-term sleep
assert_status 124 "--timeout + --kill-after"
assert_match 'timeout of 500ms expired: sent SIGTERM, firmware killed 500ms later' "$ERR" \
	"timeout + kill line (even with -q)"
[ "$RUN_MS" -ge 900 ] && [ "$RUN_MS" -lt 4000 ] || fail "timeout 0.5 + kill 0.5 took $RUN_MS ms"

# An init that ends before the timeout: its own status, no timeout line
run_fwrun "${common[@]}" --timeout 10 /sbin/boxinit exit 3
assert_status 3 "exit before the timeout"
assert_nomatch 'timeout' "$ERR" "no timeout line"
[ "$RUN_MS" -lt 5000 ] || fail "exit 3 with --timeout 10 took $RUN_MS ms"

# Bad values are usage errors
run_fwrun "${common[@]}" --timeout 1x /sbin/boxinit exit 0
assert_status 125 "--timeout 1x"
assert_match "^fwrun: --timeout '1x': " "$ERR" "bad --timeout message"
