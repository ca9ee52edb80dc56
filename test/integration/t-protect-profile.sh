#!/bin/bash
# SPDX-License-Identifier: MIT
# fwt: no-root
# --print-profile prints fwrun's AppArmor profile (no root, no AppArmor
# needed) and the real parser compiles it (-Q: never loaded into a kernel,
# -K: no cache written). The check can fail: a broken copy must not compile.
. "$(dirname "$0")/lib.sh"
need_fwrun
need_cmd apparmor_parser

run_fwrun --print-profile
assert_status 0 "--print-profile" || exit 1
assert_eq "" "$ERR" "--print-profile writes nothing on stderr"
printf '%s\n' "$OUT" >"$T/profile"
# (grep on the file: lib.sh's assert_match pipes the string into grep -q,
# which under pipefail can fail when grep quits before a long string is
# written)
grep -qx 'profile fwrun flags=(attach_disconnected,mediate_deleted) {' "$T/profile" ||
	fail "the profile's header"
for rule in 'audit deny capability sys_time,' 'audit deny capability mac_admin,' \
	'audit deny /dev/rtc* rw,' 'audit deny /{,**/}sysrq-trigger rw,' \
	'audit deny /dev/watchdog* rw,' 'audit deny /dev/mem rw,' \
	'audit deny /{,**/}release_agent w,' 'audit deny mount fstype=cgroup,' \
	'audit deny mount fstype=devtmpfs,' 'audit deny /kmsg w,' \
	'audit deny /{[^d]*,d,d[^e]*,de,de[^v]*,dev?*}/{,**/}kmsg w,' 'audit deny /dev/*/{,**/}kmsg w,' \
	'audit deny /**/sys/[^fkn]*/** w,' 'audit deny /sys/[^cdf]*/** w,'; do
	grep -qxF "  $rule" "$T/profile" || fail "profile lacks the rule '$rule'"
done

parse() { apparmor_parser -Q -K "$1" >"$T/parser.out" 2>&1; }
parse "$T/profile" || { fail "apparmor_parser rejects the profile"; sed 's/^/    /' "$T/parser.out"; }
# The binary policy it would load: the profile is really compiled.
apparmor_parser -Q -K -S "$T/profile" >"$T/profile.bin" 2>/dev/null ||
	fail "apparmor_parser -S failed"
[ -s "$T/profile.bin" ] || fail "no binary policy out of the profile"
grep -aq fwrun "$T/profile.bin" || fail "the binary policy does not name 'fwrun'"

sed 's/audit deny capability sys_time,/audit deny capability sys_tiem,/' "$T/profile" >"$T/broken"
parse "$T/broken" && fail "apparmor_parser accepted a broken profile: the check cannot fail"

# --print-profile takes no other work: it is not a run.
run_fwrun --print-profile --rootfs /nonexistent
assert_status 0 "--print-profile with --rootfs"
exit $((FWT_FAILS > 0))
