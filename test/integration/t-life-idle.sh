#!/bin/bash
# SPDX-License-Identifier: MIT
# fwrun uses no CPU while the firmware idles (with the pty relay and without
# a terminal), and the relay adds little latency per keystroke. The figures
# come from life-measure.py (which runs fwrun under a pty of its own).
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd python3
mk_image ext2 "$T/fw.ext2"
python3 "$(dirname "$0")/life-measure.py" "$FWRUN" "$T/fw.ext2" "${PFX}i" 300 3 >"$T/m" 2>&1 ||
	die "measurement failed: $(cat "$T/m")"
sed 's/^/    /' "$T/m"
assert_eq 0 "$(kv "$T/m" idle_pty_ticks)" "CPU ticks in 3 s idle with the pty relay"
assert_eq 0 "$(kv "$T/m" idle_pipe_ticks)" "CPU ticks in 3 s idle without a terminal"
assert_eq 137 "$(kv "$T/m" escape_status)" "the escape sequence killed the firmware"
assert_eq 137 "$(kv "$T/m" double_sigint_status)" "two SIGINTs killed the firmware"
# Generous bound: a shared CI machine; the median is ~25 us on a quiet one.
added=$(kv "$T/m" added_median_us)
awk -v a="$added" 'BEGIN { exit !(a < 2000) }' || fail "relay adds ${added} us per keystroke (median)"
