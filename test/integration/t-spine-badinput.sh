#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad input (issue 2): each is one line naming the subject and the reason,
# exit 125, nothing left behind.
. "$(dirname "$0")/lib.sh"
ext2_firmware	# $T/fw.ext2 with the probe, $sum, $T/host.before

refused() {	# WHAT ERE-for-the-line -- fwrun args...
	local what=$1 re=$2 first
	shift 3
	run_fwrun "$@"
	assert_status 125 "$what"
	first=$(printf '%s\n' "$ERR" | grep -v '^Try ' | head -n 1)
	assert_match '^fwrun: ' "$first" "$what: error line"
	assert_match "$re" "$first" "$what: the error names the subject"
	assert_eq 1 "$(printf '%s\n' "$ERR" | grep -vc '^Try ')" "$what: one error line"
	assert_nomatch '^(pid|write:|echo)=' "$OUT" "$what: the init must not run"
	host_unchanged "$T/host.before" "after: $what"
}

refused "name with a slash" "a/b" -- --rootfs "$T/fw.ext2" --name a/b --state-dir "$T/s1" -- /sbin/boxinit echo x
long=$(printf 'x%.0s' $(seq 1 65))
refused "name over 64 bytes" "$long" -- --rootfs "$T/fw.ext2" --name "$long" --state-dir "$T/s2"
refused "name starting with a dot" "\.\.?" -- --rootfs "$T/fw.ext2" --name .. --state-dir "$T/s3"
: >"$T/afile"
refused "state dir is a file" "afile" -- --rootfs "$T/fw.ext2" --name "$PFX-b4" --state-dir "$T/afile"
refused "no --rootfs" "rootfs" -- --name "$PFX-b5" --state-dir "$T/s5"
refused "--rootfs without a value" "rootfs" -- --rootfs
mk_image dir "$T/tree"
tree_sum=$(sha_of "$T/tree")
refused "state dir inside a rootfs directory" "tree/st" -- --rootfs "$T/tree" --name "$PFX-b6" --state-dir "$T/tree/st"
assert_eq "$tree_sum" "$(sha_of "$T/tree")" "rootfs directory unchanged by a refused state dir"
assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image sha256 at the end"
assert_nofile "$T/s1" "state dir created for a refused run"
assert_nofile "$T/s2" "state dir created for a refused run"
