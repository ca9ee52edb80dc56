#!/bin/bash
# SPDX-License-Identifier: MIT
# The same --name with another image reuses the old upper dir: fwrun says so
# in one line, with the way out (--reset, another --name), for another image
# path and for the same path with other content; nothing for the same image,
# nor with --reset or -q.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
mk_image ext2 "$T/a.ext2"
cp "$T/a.ext2" "$T/b.ext2"
S=$T/state
N=${PFX}s
notice() { grep -v 'AppArmor is not enabled' <<<"$ERR"; }

run_fwrun --rootfs "$T/a.ext2" --name "$N" --state-dir "$S" /sbin/boxinit exit 0
assert_status 0
assert_eq "" "$(notice)" "a new state dir: nothing to say"
run_fwrun --rootfs "$T/a.ext2" --name "$N" --state-dir "$S" /sbin/boxinit exit 0
assert_eq "" "$(notice)" "the same image: nothing to say"

run_fwrun --rootfs "$T/b.ext2" --name "$N" --state-dir "$S" /sbin/boxinit exit 0
assert_status 0 "another image is not refused"
assert_eq "fwrun: instance $N last ran $T/a.ext2: its upper dir now lies over $T/b.ext2 (--reset starts over, or give another --name)" \
	"$(notice)" "another image path: said with the way out"
run_fwrun --rootfs "$T/b.ext2" --name "$N" --state-dir "$S" /sbin/boxinit exit 0
assert_eq "" "$(notice)" "said once"

# the same path, rebuilt (other content: size, mtime)
sleep 0.01
truncate -s +4096 "$T/b.ext2"
run_fwrun --rootfs "$T/b.ext2" --name "$N" --state-dir "$S" /sbin/boxinit exit 0
assert_status 0
assert_match "^fwrun: $T/b.ext2 changed since instance $N last ran it: .*\(--reset starts over, or give another --name\)$" \
	"$(notice)" "the same path, other content"

touch "$T/b.ext2"
run_fwrun --rootfs "$T/b.ext2" --name "$N" --state-dir "$S" -q /sbin/boxinit exit 0
assert_eq "" "$ERR" "-q: nothing"
run_fwrun --rootfs "$T/a.ext2" --name "$N" --state-dir "$S" --reset /sbin/boxinit exit 0
assert_eq "" "$(notice)" "--reset: the upper dir is emptied, nothing to say"

exit "$FWT_FAILS"
