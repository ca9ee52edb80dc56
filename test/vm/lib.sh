# Sourced by the scenarios in /vmtest/guest.d/ (busybox sh, inside the VM).
# Each check prints one line on the serial console, which test/vm/run parses:
#   VMTEST <name> PASS|FAIL|SKIP <detail>

vm_pass() { n=$1; shift; echo "VMTEST $n PASS $*"; }
vm_fail() { n=$1; shift; echo "VMTEST $n FAIL $*"; }
vm_skip() { n=$1; shift; echo "VMTEST $n SKIP $*"; }

# vm_check NAME DETAIL CMD...: PASS when CMD succeeds, else FAIL.
vm_check() {
	n=$1 d=$2
	shift 2
	if "$@"; then vm_pass "$n" "$d"; else vm_fail "$n" "$d (failed: $*)"; fi
}

# vm_show TEXT: indented context lines (not parsed; shown in the log only).
vm_show() { printf '%s\n' "$@" | sed 's/^/    | /'; }

# fwrun in the guest (absent when not built) and the ext4 test image.
export VM_FWRUN=/usr/sbin/fwrun
export VM_IMAGE=/vmtest/probe.ext4

# Debian's busybox sh runs its own applets before looking at PATH, so a real
# tool that shares an applet's name must be called by its path; ip is
# iproute2's (busybox's has no tuntap nor veth peers).
ip() { /sbin/ip "$@"; }

# vm_kv KEY: the value of the first "KEY=value" line in $out (the probe's
# report, test/probe.c).
vm_kv() { printf '%s\n' "$out" | awk -v k="$1=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }'; }

# vm_aa_dir: the kernel's policy directory of profile "fwrun" (fwrun.<N>: N
# is new with every load, whoever loads), or "none"; vm_aa_hash: the
# kernel's hash of that policy.
vm_aa_dir() {
	for _d in /sys/kernel/security/apparmor/policy/profiles/*; do
		[ "$(cat "$_d/name" 2>/dev/null)" = fwrun ] && { basename "$_d"; return; }
	done
	echo none
}
vm_aa_hash() {
	_d=/sys/kernel/security/apparmor/policy/profiles/$(vm_aa_dir)
	cat "$_d/sha256" "$_d/sha1" 2>/dev/null | head -n 1
}

# vm_parser_wrap: from now on count the runs of apparmor_parser (under
# /sbin and /usr/sbin) in /tmp/vm-parser-calls (one line each, its args);
# calling it again resets the count. vm_parser_calls prints the count.
vm_parser_wrap() {
	[ -e /sbin/apparmor_parser.real ] || mv /sbin/apparmor_parser /sbin/apparmor_parser.real
	: >/tmp/vm-parser-calls
	printf '#!/bin/sh\necho "$*" >>/tmp/vm-parser-calls\nexec /sbin/apparmor_parser.real "$@"\n' \
		>/sbin/apparmor_parser
	chmod 0755 /sbin/apparmor_parser
}
vm_parser_calls() { wc -l </tmp/vm-parser-calls | tr -d ' '; }

# vm_ms VAR CMD...: run CMD (its output discarded), store the time it took
# in ms in VAR; returns CMD's status. /vmtest/bin/vmtime -n N does repeats.
vm_ms() {
	_v=$1
	shift
	_o=$(vmtime -q "$@")
	_r=$?
	eval "$_v=\$(echo \"\$_o\" | sed -n 's/.*avg_ms=\([0-9.]*\).*/\1/p')"
	return $_r
}

# vm_systemd_disk DIR: mount the systemd disk (/dev/vda, given to the
# scenarios that say "# vm-disk: systemd": see test/vm/README) read-only on
# DIR; otherwise say why (a skip, or a failure) and return 1.
vm_systemd_disk() {
	if [ ! -x "$VM_FWRUN" ]; then
		vm_skip systemd.all "no fwrun in the guest"
		return 1
	fi
	if [ -s /vmtest/systemd.skip ]; then
		vm_skip systemd.all "no systemd image: $(cat /vmtest/systemd.skip)"
		return 1
	fi
	_i=0
	while [ ! -b /dev/vda ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	mkdir -p "$1"
	grep -q " $1 " /proc/mounts && return 0
	mount -t ext4 -o ro,noload /dev/vda "$1" && return 0
	vm_fail systemd.disk "cannot mount /dev/vda on $1: $(ls /dev/vd* 2>&1)"
	return 1
}

# vm_aa_denials UPTIME: AppArmor's denials in the kernel log since UPTIME
# (seconds), each once, without time, pid and uid.
vm_aa_denials() {
	dmesg | awk -v t="$1" '/apparmor="DENIED"/ {
		ts = $0; sub(/^\[ */, "", ts); sub(/\].*/, "", ts)
		if (ts + 0 < t + 0) next
		s = $0; sub(/.*apparmor="DENIED" /, "", s)
		gsub(/ pid=[0-9]+/, "", s); gsub(/ (fsuid|ouid)=[0-9]+/, "", s)
		if (!seen[s]++) print s }'
}
