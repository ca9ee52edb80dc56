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

VM_FWRUN=/usr/sbin/fwrun
VM_IMAGE=/vmtest/probe.ext4

# Debian's busybox sh runs its own applets before looking at PATH, so a real
# tool that shares an applet's name must be called by its path; ip is
# iproute2's (busybox's has no tuntap nor veth peers).
ip() { /sbin/ip "$@"; }
