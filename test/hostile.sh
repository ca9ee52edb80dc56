# SPDX-License-Identifier: MIT
# A hostile firmware (issue 14): the ways out, shared by the VM's run
# (test/vm/guest.d/30-hostile.sh: AppArmor enforcing, cgroup v2) and the
# host's (test/integration/t-protect-hostile.sh: no AppArmor, this
# machine's cgroups). POSIX sh: the VM runs it with busybox.
#
# The caller runs the probe (test/probe.c) as pid 1 with the words of
# hostile_words, once with fwrun's defaults and once per layer turned off,
# each run's output in a file, then calls hostile_ways with:
#   HOSTILE_ALL          the output under the defaults
#   HOSTILE_OFF          "LAYER=FILE ..." the output with LAYER turned off
#   HOSTILE_AA           1: AppArmor enforces (claims of the AppArmor column)
#   hostile_pass NAME TEXT / hostile_fail NAME TEXT   the caller's reporting
# A way out is "stopped" when one of its steps fails (for "sys.*" steps:
# with EPERM). Every write puts back the value read just before, so a way
# that is not stopped changes nothing; the "host disk" is a loop device the
# caller made, never a real disk.

# hostile_read DISK: the values the writes put back.
hostile_read() {
	hostile_disk=$1
	hostile_dname=$(basename "$1")
	hostile_dmaj=$(( 0x$(stat -c %t "$1") ))
	hostile_dmin=$(( 0x$(stat -c %T "$1") ))
	hostile_panic=$(cat /proc/sys/kernel/panic)
	hostile_printk=$(cut -f1 /proc/sys/kernel/printk)
	hostile_filemax=$(cat /proc/sys/fs/file-max)
	hostile_ra=$(cat "/sys/block/$hostile_dname/queue/read_ahead_kb")
	hostile_ptime=$(cat /sys/module/printk/parameters/time)
	hostile_corep=$(cat /proc/sys/kernel/core_pattern)
	hostile_msgmax=$(cat /proc/sys/kernel/msgmax)
	hostile_uevh=$(cat /sys/kernel/uevent_helper 2>/dev/null)
}

hostile_q() { printf "'%s' " "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# hostile_words: the probe's commands, quoted for eval "set -- $(hostile_words)":
# every technique, then what must stay allowed. (proc mounted over / is not
# one: the probe's root stays the old one, so it reaches nothing.)
hostile_words() {
	for w in mount proc proc /proc - mount sysfs sysfs /sys - \
		mknod /tmp/hd b "$hostile_dmaj" "$hostile_dmin" read /tmp/hd \
		mount ext4 /tmp/hd /tmp/hdm - \
		mount devtmpfs none /tmp/dt - read "/tmp/dt/$hostile_dname" \
		mount cgroup cgroup /tmp/cg1 none,name=fwtx write /tmp/cg1/release_agent /fwt-agent \
		mount cgroup2 none /tmp/cg2 - mkdir /tmp/cg2/fwt-evil \
		write /proc/sys/kernel/panic "$hostile_panic" \
		write /proc/sys/kernel/printk "$hostile_printk" \
		write /proc/sys/fs/file-max "$hostile_filemax" \
		write /proc/sys/kernel/core_pattern "$hostile_corep" \
		mount proc proc /tmp/p - write /tmp/p/sys/kernel/panic "$hostile_panic" \
		write "/sys/block/$hostile_dname/queue/read_ahead_kb" "$hostile_ra" \
		write /sys/module/printk/parameters/time "$hostile_ptime" \
		mount sysfs none /tmp/s - write /tmp/s/module/printk/parameters/time "$hostile_ptime" \
		write /sys/kernel/uevent_helper "$hostile_uevh" \
		mknod /tmp/kmsg c 1 11 write /tmp/kmsg "<7>fwt-hostile-kmsg" \
		mknod /tmp/km c 1 11 write /tmp/km "<7>fwt-hostile-km" \
		mount debugfs none /tmp/dbg - mount binfmt_misc none /tmp/bfm - \
		mknod /tmp/mem c 1 1 read /tmp/mem sysrq clock syscalls \
		write /proc/sys/kernel/hostname fwt-hostile write /proc/sys/net/ipv4/ip_forward 1 \
		write /proc/sys/kernel/msgmax "$hostile_msgmax" write /sys/class/net/lo/mtu 65536; do
		hostile_q "$w"
	done
}

# hostile_val FILE KEY: the value of the probe's "KEY=value" line.
hostile_val() { awk -v k="$2=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$1"; }

# hostile_open FILE KEY...: every step of the way worked in that run.
hostile_open() {
	f=$1
	shift
	for k in "$@"; do
		v=$(hostile_val "$f" "$k")
		case $k in
		sys.*) [ -n "$v" ] && [ "$v" != EPERM ] || return 1 ;;
		*) [ "$v" = ok ] || return 1 ;;
		esac
	done
	return 0
}

# hostile_way NAME CLAIM_AA CLAIM_NOAA KEY...: one way out. CLAIM_*: 1 when
# fwrun(8) says it is stopped with AppArmor enforcing / without AppArmor.
hostile_way() {
	n=$1
	if [ "$HOSTILE_AA" = 1 ]; then claimed=$2; else claimed=$3; fi
	shift 3
	hostile_tried=$((hostile_tried + 1))
	layers= detail=
	for lf in $HOSTILE_OFF; do
		hostile_open "${lf#*=}" "$@" && layers="$layers ${lf%%=*}"
	done
	# each step: its result under the defaults, then with each layer off
	for k in "$@"; do
		detail="$detail $k=$(hostile_val "$HOSTILE_ALL" "$k")"
		for lf in $HOSTILE_OFF; do detail="$detail/$(hostile_val "${lf#*=}" "$k")"; done
	done
	if hostile_open "$HOSTILE_ALL" "$@"; then
		hostile_open_list="$hostile_open_list $n"
		if [ "$claimed" = 1 ]; then
			hostile_fail "$n" "NOT STOPPED:$detail"
		else
			hostile_pass "$n" "open here, as fwrun(8) says:$detail"
		fi
	else
		hostile_blocked=$((hostile_blocked + 1))
		hostile_pass "$n" "stopped${layers:+ by$layers alone}:$detail"
	fi
}

# hostile_ways: every way out, with fwrun(8)'s claims (AppArmor, without).
hostile_ways() {
	hostile_tried=0 hostile_blocked=0 hostile_open_list=
	hostile_way blk-mknod-read 1 1 mknod:/tmp/hd read:/tmp/hd
	hostile_way blk-mknod-mount 1 1 mknod:/tmp/hd mount:/tmp/hdm
	hostile_way devtmpfs-disk 1 1 mount:/tmp/dt "read:/tmp/dt/$hostile_dname"
	hostile_way devtmpfs-mount 1 0 mount:/tmp/dt
	hostile_way cgroup1-mount 1 1 mount:/tmp/cg1
	hostile_way release-agent 1 1 mount:/tmp/cg1 write:/tmp/cg1/release_agent
	hostile_way cgroup2-host-tree 1 1 mount:/tmp/cg2 mkdir:/tmp/cg2/fwt-evil cg2-host-root
	hostile_way sysctl-kernel.panic 1 0 write:/proc/sys/kernel/panic
	hostile_way sysctl-kernel.printk 1 0 write:/proc/sys/kernel/printk
	hostile_way sysctl-fs.file-max 1 0 write:/proc/sys/fs/file-max
	hostile_way sysctl-core_pattern 1 0 write:/proc/sys/kernel/core_pattern
	hostile_way proc-elsewhere-sysctl 1 0 mount:/tmp/p write:/tmp/p/sys/kernel/panic
	hostile_way sys-block-queue 1 0 "write:/sys/block/$hostile_dname/queue/read_ahead_kb"
	hostile_way sys-module-param 1 0 write:/sys/module/printk/parameters/time
	hostile_way sysfs-elsewhere 1 0 mount:/tmp/s write:/tmp/s/module/printk/parameters/time
	[ -e /sys/kernel/uevent_helper ] &&
		hostile_way uevent-helper 1 0 write:/sys/kernel/uevent_helper
	hostile_way kmsg-named 1 1 mknod:/tmp/kmsg write:/tmp/kmsg
	hostile_way kmsg-other-name 1 1 mknod:/tmp/km write:/tmp/km
	hostile_way debugfs-mount 1 0 mount:/tmp/dbg
	hostile_way binfmt_misc-mount 1 0 mount:/tmp/bfm
	hostile_way dev-mem-mknod 1 1 mknod:/tmp/mem read:/tmp/mem
	hostile_way sysrq-trigger 1 0 sysrq_open
	hostile_way clock-set 1 1 clock_settime
	for c in kexec_load kexec_file_load init_module finit_module open_by_handle_at swapon acct \
		keyctl add_key bpf perf_event_open userfaultfd quotactl iopl keyctl-i386 keyctl-x32; do
		[ "$(hostile_val "$HOSTILE_ALL" "sys.$c")" = unavailable ] && continue
		hostile_way "syscall-$c" 1 1 "sys.$c"
	done
}

# hostile_allowed: what a firmware needs stays allowed under the defaults;
# prints the keys that are not.
hostile_allowed() {
	for k in mount:/proc mount:/sys write:/proc/sys/kernel/hostname \
		write:/proc/sys/net/ipv4/ip_forward write:/proc/sys/kernel/msgmax \
		write:/sys/class/net/lo/mtu sys.adjtimex-read sys.mknod-fifo; do
		[ "$(hostile_val "$HOSTILE_ALL" "$k")" = ok ] || echo "$k=$(hostile_val "$HOSTILE_ALL" "$k")"
	done
}
