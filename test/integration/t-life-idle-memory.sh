#!/bin/bash
# SPDX-License-Identifier: MIT
# An idle instance holds little of the host's memory: once the init runs,
# the supervisor gives back the stack pages its setup left touched (the
# probe's facts, the mountinfo parse, netlink buffers: frames long
# returned), some 150 KiB that every instance of a swarm kept before
# (bench/swarm, bench/RESULTS.md). Its stack then holds about 40 KiB.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
mk_image ext2 "$T/fw.ext2"

start_fwrun a --rootfs "$T/fw.ext2" --name "${PFX}m" --ephemeral --console=pipe \
	-- /sbin/boxinit term-exit 0 ready sleep
A=$FWPID
wait_line "$T/a.out" '^ready=1$' 20 || die "not ready: $(cat "$T/a.err")"
# The anonymous memory of the supervisor's [stack] mapping, in KiB.
stack_kib=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { s = ($NF == "[stack]") }
	s && /^Anonymous:/ { print $2; exit }' "/proc/$A/smaps")
log "supervisor stack: ${stack_kib:-?} KiB; $(grep RssAnon "/proc/$A/status")"
[ -n "$stack_kib" ] || fail "no [stack] in /proc/$A/smaps"
[ "${stack_kib:-999}" -le 96 ] ||
	fail "the idle supervisor keeps ${stack_kib} KiB of stack (its setup's, given back: about 40)"
kill -TERM "$A"
wait_fwrun "$A" 20
assert_status 0 "the firmware, stopped"
