# The instance's cgroup on pure cgroup v2 (issue 14): pid 1 in a cgroup
# namespace, the BPF device program alone stops a mknod'ed block device
# (--apparmor=off), --pids-max stops a fork bomb, and the v2 rule of no
# internal processes: limits refused with a hint where fwrun's cgroup holds
# other processes, given where it holds fwrun alone (a scope of its own);
# nothing left in /sys/fs/cgroup.
. /vmtest/lib.sh

if [ ! -x "$VM_FWRUN" ]; then
	vm_skip cgroup.all "no fwrun in the guest"
	exit 0
fi
cg=/sys/fs/cgroup
if ! grep -q "^cgroup2 $cg cgroup2" /proc/mounts || grep -q ' cgroup ' /proc/mounts; then
	vm_skip cgroup.all "not a pure cgroup v2 guest"
	exit 0
fi

# A directory rootfs: busybox as /bin/sh, the firmware's tools by --install.
root=/tmp/fwt-cgroot
mkdir -p $root/bin $root/proc $root/sys $root/dev $root/tmp $root/sbin
cp /bin/busybox $root/bin/busybox
ln -sf busybox $root/bin/sh
dd if=/dev/zero bs=1024 count=1024 2>/dev/null | tr '\0' L >/tmp/fwt-disk
loop=$(losetup -f)
losetup "$loop" /tmp/fwt-disk
lmaj=$(stat -c %t "$loop") lmin=$(stat -c %T "$loop")
lmaj=$((0x$lmaj)) lmin=$((0x$lmin))
cat >$root/check.sh <<EOF
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
echo "cgroup=\$(cat /proc/self/cgroup)"
mkdir -p /tmp/cg && mount -t cgroup2 none /tmp/cg && echo "procs=\$(cat /tmp/cg/cgroup.procs | tr '\n' ' ')"
echo "controllers=\$(cat /tmp/cg/cgroup.controllers)"
mknod /tmp/blk b $lmaj $lmin 2>/dev/null && echo mknod-b=ok || echo mknod-b=denied
head -c 4 $loop >/dev/null 2>&1 && echo read-host-node=ok || echo read-host-node=denied
head -c 4 /dev/urandom >/dev/null && echo urandom=ok
EOF
kv() { sed -n "s/^$1=//p" /tmp/fwt-cg.out | head -n 1; }
run() { "$VM_FWRUN" -q --apparmor=off --rootfs $root --ephemeral --console=pipe "$@" \
	</dev/null >/tmp/fwt-cg.out 2>/tmp/fwt-cg.err; }

# 1. In the root cgroup (the VM's init is there): everything.
run --name fwt-cg1 --status-fd 3 -- /bin/sh /check.sh 3>/tmp/fwt-cg.ev
rc=$?
vm_check cgroup.namespace "rc=$rc, /proc/self/cgroup: $(kv cgroup)" \
	sh -c '[ "$1" = 0 ] && [ "$2" = "0::/" ]' - "$rc" "$(kv cgroup)"
own=yes
case "$(kv procs)" in "1 "*) ;; *) own=no ;; esac
for p in $(kv procs); do [ "$p" -lt 100 ] || own=no; done
vm_check cgroup.own-tree "processes in its cgroup2 mount: $(kv procs)" [ $own = yes ]
vm_check cgroup.delegated "controllers inside: $(kv controllers)" [ -n "$(kv controllers)" ]
vm_check cgroup.bpf-blocks-mknod "mknod b $lmaj:$lmin: $(kv mknod-b), read $loop: $(kv read-host-node)" \
	[ "$(kv mknod-b)" = denied ] && [ "$(kv read-host-node)" = denied ]
vm_check cgroup.urandom "urandom: $(kv urandom)" [ "$(kv urandom)" = ok ]
ev=$(grep exited /tmp/fwt-cg.ev)
case "$ev" in
*'"memory_peak":'*'"cpu_usec":'*) vm_pass cgroup.accounting "$ev" ;;
*) vm_fail cgroup.accounting "$ev" ;;
esac
[ "$rc" = 0 ] || vm_show "$(cat /tmp/fwt-cg.out /tmp/fwt-cg.err)"

# 2. Fork bomb under --pids-max 20.
run --name fwt-cg2 --pids-max 20 -- /bin/sh -c '/bin/busybox --install -s /bin; PATH=/bin
	mount -t proc proc /proc; (i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null
	set -- /proc/[0-9]*; echo "procs=$#"; kill -9 -1; exit 0'
rc=$? n=$(kv procs)
vm_check cgroup.pids-max "rc=$rc, processes under --pids-max 20: $n" \
	sh -c '[ "$1" = 0 ] && [ -n "$2" ] && [ "$2" -le 20 ]' - "$rc" "$n"

# 3. fwrun's cgroup holds this shell too: no controllers for it (v2), so a
# limit is refused with a hint; without one the run works.
mkdir $cg/fwt-outer
echo $$ >$cg/fwt-outer/cgroup.procs
run --name fwt-cg3 --pids-max 20 -- /bin/sh /check.sh
rc=$?
vm_check cgroup.busy-refused "rc=$rc: $(head -c 300 /tmp/fwt-cg.err)" \
	sh -c '[ "$1" = 125 ] && grep -q "systemd-run --scope" /tmp/fwt-cg.err' - "$rc"
run --name fwt-cg3 -- /bin/sh /check.sh
rc=$?
vm_check cgroup.busy-no-limits "rc=$rc, /proc/self/cgroup: $(kv cgroup), mknod-b=$(kv mknod-b)" \
	sh -c '[ "$1" = 0 ] && [ "$2" = "0::/" ] && [ "$3" = denied ]' - "$rc" "$(kv cgroup)" "$(kv mknod-b)"

# 4. fwrun alone in a cgroup (what systemd-run --scope gives it): it moves
# itself into a leaf for the run, the limits work, and all is as before.
# (the shell back to the root first: fwt-outer may then hand controllers on)
echo $$ >$cg/cgroup.procs
echo "+memory +pids" >$cg/fwt-outer/cgroup.subtree_control
mkdir $cg/fwt-outer/fwt-scope
sh -c "echo \$\$ >$cg/fwt-outer/fwt-scope/cgroup.procs; exec $VM_FWRUN -q --apparmor=off \
	--rootfs $root --ephemeral --console=pipe --name fwt-cg4 --pids-max 20 -- /bin/sh /check.sh" \
	</dev/null >/tmp/fwt-cg.out 2>/tmp/fwt-cg.err
rc=$?
vm_check cgroup.alone-limits "rc=$rc, /proc/self/cgroup: $(kv cgroup)" \
	sh -c '[ "$1" = 0 ] && [ "$2" = "0::/" ]' - "$rc" "$(kv cgroup)"
[ "$rc" = 0 ] || vm_show "$(cat /tmp/fwt-cg.err)"
left=$(find $cg/fwt-outer/fwt-scope -mindepth 1 -type d; cat $cg/fwt-outer/fwt-scope/cgroup.subtree_control)
vm_check cgroup.alone-restored "left in the scope: '$left'" [ -z "$left" ]

rmdir $cg/fwt-outer/fwt-scope $cg/fwt-outer
losetup -d "$loop"
left=$(find $cg -name 'fwrun-*' -type d)
vm_check cgroup.none-left "fwrun-* in $cg: '$left'" [ -z "$left" ]
