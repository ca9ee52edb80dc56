#!/bin/bash
# SPDX-License-Identifier: MIT
# Exit statuses (doc/design.md, "Life cycle"): the init's own status, 128+N when it is
# killed by signal N, 125 when fwrun fails before the init runs, 126 INIT not
# executable, 127 INIT not found. The image never changes, nothing stays.
. "$(dirname "$0")/lib.sh"
ext2_firmware	# $T/fw.ext2 with the probe, $sum, $T/host.before
n=0

expect() {	# STATUS WHAT -- fwrun args...
	local want=$1 what=$2
	shift 3
	n=$((n + 1))
	run_fwrun --name "$PFX-x$n" --state-dir "$T/st$n" "$@"
	assert_status "$want" "$what"
	assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "$what: image sha256 after the run"
	host_unchanged "$T/host.before" "after: $what"
}

# One error line on stderr, "fwrun: <what> '<subject>': <reason>".
expect_error_line() {	# WHAT [ERE the line must match]
	local first
	first=$(printf '%s\n' "$ERR" | grep -v '^Try ' | head -n 1)
	assert_match '^fwrun: ' "$first" "$1: error line"
	[ $# -lt 2 ] || assert_match "$2" "$first" "$1: error line names the subject"
	assert_eq 1 "$(printf '%s\n' "$ERR" | grep -vc '^Try ')" "$1: one error line"
}

expect 0 "init exits 0" -- --rootfs "$T/fw.ext2" -- /sbin/boxinit exit 0
expect 7 "init exits 7" -- --rootfs "$T/fw.ext2" -- /sbin/boxinit exit 7
# The init's own 126/127 are its status, not fwrun's.
expect 126 "init exits 126 itself" -- --rootfs "$T/fw.ext2" -- /sbin/boxinit exit 126
expect 127 "init exits 127 itself" -- --rootfs "$T/fw.ext2" -- /sbin/boxinit exit 127
expect 139 "init dies of SIGSEGV" -- --rootfs "$T/fw.ext2" -- /sbin/boxinit segv

# 125: fwrun fails before the init runs.
expect 125 "missing image" -- --rootfs "$T/nothere.ext2"
expect_error_line "missing image" "nothere\.ext2"
: >"$T/empty.img"
expect 125 "empty image" -- --rootfs "$T/empty.img"
expect_error_line "empty image" "empty\.img"
head -c 1048576 /dev/urandom >"$T/random.img"
expect 125 "non-filesystem image" -- --rootfs "$T/random.img"
expect_error_line "non-filesystem image" "random\.img"
head -c 65536 "$T/fw.ext2" >"$T/trunc.ext2"
expect 125 "truncated image" -- --rootfs "$T/trunc.ext2"
expect_error_line "truncated image" "trunc\.ext2"
expect 125 "unknown flag" -- --rootfs "$T/fw.ext2" --no-such-flag
assert_match '^fwrun: ' "$ERR" "unknown flag: error line"

# 126: INIT cannot be executed; 127: INIT does not exist.
expect 126 "INIT not executable" -- --rootfs "$T/fw.ext2" -- /bin/noexec
expect_error_line "INIT not executable" "/bin/noexec"
expect 126 "INIT a directory" -- --rootfs "$T/fw.ext2" -- /sbin/adir
expect_error_line "INIT a directory" "/sbin/adir"
expect 127 "INIT missing" -- --rootfs "$T/fw.ext2" -- /sbin/nothere
expect_error_line "INIT missing" "/sbin/nothere"

# The default INIT is /sbin/boxinit: a shell script here, exiting 5.
mk_staging "$T/staging-sh"
printf '#!/bin/sh\necho default-init-ran\nexit 5\n' >"$T/staging-sh/sbin/boxinit"
chmod 0755 "$T/staging-sh/sbin/boxinit"
mk_image ext2 "$T/sh.ext2" "$T/staging-sh"
n=$((n + 1))
run_fwrun --rootfs "$T/sh.ext2" --name "$PFX-x$n" --state-dir "$T/st$n"
assert_status 5 "default INIT /sbin/boxinit"
assert_match '^default-init-ran$' "$OUT" "default INIT's output"

# A directory rootfs without /sbin/boxinit: 127.
mkdir -p "$T/noinit/etc"
n=$((n + 1))
run_fwrun --rootfs "$T/noinit" --name "$PFX-x$n" --state-dir "$T/st$n"
assert_status 127 "directory rootfs without INIT"
assert_eq "fwrun: run init '/sbin/boxinit': No such file or directory (not a firmware's root? its / holds dev, etc)" \
	"$(grep -v AppArmor "$T/last.err")" "INIT missing: what the root holds"

# 128+N: pid 1 killed from the host by signal N (SIGKILL: a pid namespace's
# init ignores other signals it has no handler for).
n=$((n + 1))
start_fwrun kill --rootfs "$T/fw.ext2" --name "$PFX-x$n" --state-dir "$T/st$n" \
	-- /sbin/boxinit ready sleep
if wait_line "$T/kill.out" '^ready=1$' 10 && ipid=$(wait_init "$FWPID" 5); then
	kill -KILL "$ipid"
	wait_fwrun "$FWPID" 10
	assert_status 137 "init killed by SIGKILL from the host"
else
	fail "the sleeping init never got ready: $(cat "$T/kill.out" "$T/kill.err")"
fi
# 128+15: an init with a SIGTERM handler that re-raises is out of scope; a
# handler that exits N gives N.
n=$((n + 1))
start_fwrun term --rootfs "$T/fw.ext2" --name "$PFX-x$n" --state-dir "$T/st$n" \
	-- /sbin/boxinit term-exit 42 ready sleep
if wait_line "$T/term.out" '^ready=1$' 10 && ipid=$(wait_init "$FWPID" 5); then
	kill -TERM "$ipid"
	wait_fwrun "$FWPID" 10
	assert_status 42 "init exiting 42 on SIGTERM from the host"
else
	fail "the term-exit init never got ready: $(cat "$T/term.out" "$T/term.err")"
fi
assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image sha256 at the end"
host_unchanged "$T/host.before" "at the end"
