#!/bin/bash
# SPDX-License-Identifier: MIT
# An idle instance holds little of the host's memory: once the init has run
# half a second (FW_GIVE_BACK_AFTER_MS), the supervisor gives back the stack
# pages its setup left touched (the probe's facts, the mountinfo parse,
# netlink buffers: frames long returned; bench/swarm, bench/RESULTS.md).
# Its stack then holds about 30 KiB (56 without the give-back; 36 and 72
# under ASan).
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
mk_image ext2 "$T/fw.ext2"

start_fwrun a --rootfs "$T/fw.ext2" --name "${PFX}m" --ephemeral --console=pipe \
	-- /sbin/boxinit term-exit 0 ready sleep
A=$FWPID
wait_line "$T/a.out" '^ready=1$' 20 || die "not ready: $(cat "$T/a.err")"
# The anonymous memory of the supervisor's [stack] mapping, in KiB.
stack_kib() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { s = ($NF == "[stack]") }
		s && /^Anonymous:/ { print $2; exit }' "/proc/$A/smaps"
}
# Given back half a second after the init started: wait for it (5 s at most).
for _ in $(seq 50); do
	stack_kib=$(stack_kib)
	[ "${stack_kib:-999}" -le 48 ] && break
	sleep 0.1
done
log "supervisor stack: ${stack_kib:-?} KiB; $(grep RssAnon "/proc/$A/status")"
[ -n "$stack_kib" ] || fail "no [stack] in /proc/$A/smaps"
[ "${stack_kib:-999}" -le 48 ] ||
	fail "the idle supervisor keeps ${stack_kib} KiB of stack (its setup's, given back: about 30, 56 kept)"
kill -TERM "$A"
wait_fwrun "$A" 20
assert_status 0 "the firmware, stopped"
