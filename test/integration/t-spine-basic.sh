#!/bin/bash
# SPDX-License-Identifier: MIT
# The spine on every kind of rootfs: the init runs as pid 1 on the image's
# content, the hostname is the instance name, the mnt/uts/ipc/net/pid
# namespaces are new, the image never changes, the host is left as it was.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd mke2fs mksquashfs mkfs.erofs debugfs make
need_fs overlay

mk_staging "$T/staging"
odd="$T/we,ird:dir name"
mkdir -p "$odd"
mk_image ext2 "$T/fw.ext2"
mk_image ext4 "$T/fw.ext4"
mk_image squashfs "$T/fw.sqfs"
mk_image erofs "$T/fw.erofs"
mk_image dir "$T/fwdir"
mk_image ext2 "$odd/img x,y:z.ext2"
mk_image dir "$odd/tree, a:b"
# ext4 whose journal needs recovery: must be mounted without replaying it
# (the loop device is read-only, and the image must not change).
mk_image ext4 "$T/dirty.ext4"
debugfs -w -R 'feature needs_recovery' "$T/dirty.ext4" >/dev/null 2>&1 ||
	die "cannot mark dirty.ext4 as needing recovery"

host_snapshot "$T/host.before"
declare -A host
for ns in mnt uts ipc net pid; do host[$ns]=$(host_ns $ns); done

check_run() {	# LABEL ROOTFS NAME STATE_DIR
	local label=$1 rootfs=$2 name=$3 state=$4 sum
	sum=$(sha_of "$rootfs")
	run_fwrun --rootfs "$rootfs" --name "$name" --state-dir "$state" \
		-- /sbin/boxinit report cat /etc/motd write /data/written "$label" exit 0
	assert_status 0 "$label: run" || return 1
	assert_eq 1 "$(kvs "$OUT" pid)" "$label: init's pid"
	assert_eq "$name" "$(kvs "$OUT" hostname)" "$label: hostname"
	assert_eq 0 "$(kvs "$OUT" uid)" "$label: init's uid"
	# the supervisor brings lo up while the setup thread mounts: done
	# before the init's first instruction
	assert_match '(^|,)UP(,|$)' "$(kvs "$OUT" if.lo.flags)" "$label: lo up when the init starts"
	assert_eq "hello from the image" "$(kvs "$OUT" cat:/etc/motd)" "$label: /etc/motd"
	assert_eq ok "$(kvs "$OUT" write:/data/written)" "$label: write to the overlay"
	for ns in mnt uts ipc net pid; do
		local id
		id=$(kvs "$OUT" ns.$ns)
		assert_match '^[0-9]+$' "$id" "$label: $ns namespace id"
		assert_ne "${host[$ns]}" "$id" "$label: $ns namespace (host's is ${host[$ns]})"
	done
	assert_eq "$sum" "$(sha_of "$rootfs")" "$label: rootfs sha256 after the run"
	assert_file "$state/upper/data/written" "$label" "$label: the write is in the upper dir"
	host_unchanged "$T/host.before" "after the $label run"
}

check_run ext2 "$T/fw.ext2" "$PFX-e2" "$T/st-e2"
check_run ext4 "$T/fw.ext4" "$PFX-e4" "$T/st-e4"
check_run squashfs "$T/fw.sqfs" "$PFX-sq" "$T/st-sq"
check_run erofs "$T/fw.erofs" "$PFX-er" "$T/st-er"
check_run dir "$T/fwdir" "$PFX-dir" "$T/st-dir"
check_run odd-image "$odd/img x,y:z.ext2" "$PFX-odd" "$odd/state, s:t"
check_run odd-dir "$odd/tree, a:b" "$PFX-odd2" "$odd/state2 x,y:z"
check_run ext4-dirty-journal "$T/dirty.ext4" "$PFX-dj" "$T/st-dj"

# Without --name: the name (and hostname) is the image's file name without
# its extension.
cp "$T/fw.ext2" "$T/${PFX}img.ext2"
run_fwrun --rootfs "$T/${PFX}img.ext2" --state-dir "$T/st-noname" -- /sbin/boxinit report
assert_status 0 "run without --name"
assert_eq "${PFX}img" "$(kvs "$OUT" hostname)" "hostname derived from the image name"
# --hostname overrides the name as hostname.
run_fwrun --rootfs "$T/fw.ext2" --name "$PFX-hn" --hostname "$PFX-other" --state-dir "$T/st-hn" \
	-- /sbin/boxinit report
assert_status 0 "run with --hostname"
assert_eq "$PFX-other" "$(kvs "$OUT" hostname)" "--hostname"
# The init runs on the CPUs fwrun was given: the setup thread keeps pid 1 on
# its own CPU only until the execve. And a mask given to fwrun is kept.
all=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
run_fwrun --rootfs "$T/fw.ext2" --name "$PFX-cpu" --state-dir "$T/st-cpu" -- /sbin/boxinit report
assert_status 0 "run for the CPU affinity"
assert_eq "$all" "$(kvs "$OUT" Cpus_allowed_list)" "the init may run on every CPU fwrun may ($all)"
one=${all%%[-,]*}
(taskset -pc "$one" "$BASHPID" >/dev/null &&
	run_fwrun --rootfs "$T/fw.ext2" --name "$PFX-cpu" --state-dir "$T/st-cpu" -- /sbin/boxinit report &&
	printf '%s\n' "$OUT" >"$T/cpu.out")
assert_eq "$one" "$(kvs "$(cat "$T/cpu.out")" Cpus_allowed_list)" "fwrun under taskset -c $one: so is the init"
# Signals ignored where fwrun was started (nohup, a CI runner) are not the
# init's: it starts with every signal at its default and none blocked.
(trap '' INT QUIT USR1 PIPE &&
	sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$BASHPID/status >"$T/sig.ign" &&
	run_fwrun --rootfs "$T/fw.ext2" --name "$PFX-sig" --state-dir "$T/st-sig" -- /sbin/boxinit report &&
	printf '%s\n' "$OUT" >"$T/sig.out")
ign=$(cat "$T/sig.ign")
assert_eq 1206 "$(printf '%x' $((16#${ign:-0} & 16#1206)))" "the shell fwrun is started from ignores INT QUIT USR1 PIPE ($ign)"
assert_eq 0000000000000000 "$(kvs "$(cat "$T/sig.out")" SigIgn)" "fwrun started with signals ignored: the init ignores none"
assert_eq 0000000000000000 "$(kvs "$(cat "$T/sig.out")" SigBlk)" "the init blocks no signal"
# Started by make, whose posix_spawn leaves glibc's own SIGRTMIN and
# SIGRTMIN+1 ignored (glibc's sigaction refuses to touch them).
printf 'run:\n\t@sed -n "s/^SigIgn:[[:space:]]*//p" /proc/self/status >"%s"\n\t@"%s" --rootfs "%s" --name %s --state-dir "%s" -- /sbin/boxinit report >"%s" </dev/null\n' \
	"$T/make.ign" "$FWRUN" "$T/fw.ext2" "$PFX-mk" "$T/st-mk" "$T/make.out" >"$T/run.mk"
timeout -k 3 "$FWRUN_SAFETY" make -s -f "$T/run.mk" run 2>"$T/make.err"
STATUS=$?
assert_status 0 "run started by make"
ign=$(cat "$T/make.ign")
assert_eq 180000000 "$(printf '%x' $((16#${ign:-0} & 16#180000000)))" "make leaves SIGRTMIN and SIGRTMIN+1 ignored ($ign)"
assert_eq 0000000000000000 "$(kvs "$(cat "$T/make.out")" SigIgn)" "started by make: the init ignores none"
host_unchanged "$T/host.before" "at the end"
