#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's "developer shell" runs as written: its commands, taken from
# the README (sudo fwrun as "$FWRUN"), on a drone.ext2 in a job directory.
# Terminal 1 (a pty) boots it with --veth; from terminal 2 --list shows it
# in the README's format, --enter gives a shell (commands on its stdin)
# and runs one command with its status, --stop ends it as SIGTERM to fwrun
# would. Then the README's --remove --name drone deletes the state the run
# left in /var/lib/fwrun/drone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
need_cmd script sudo
[ -x /bin/busybox ] || skip "needs busybox-static for the image's /bin/sh"
state=/var/lib/fwrun/drone
[ -e "$state" ] && skip "$state exists: this test runs the README's commands, which use it"
"$FWRUN" --list | grep -q '^drone ' && skip "an instance named drone runs"
host_snapshot "$T/host.before"

# The section's command lines, their comments dropped.
sec=$(awk '/^A developer shell$/ { on = 1; next }
	on && /^    sudo fwrun / { sub(/^    /, ""); sub(/ +#.*$/, ""); print }
	on && /^Host files in the firmware/ { exit }' "$REPO/README")
sample=$(awk '/^A developer shell$/ { on = 1 } on && /^    drone pid=/ { sub(/^    /, ""); print; exit }' "$REPO/README")
mapfile -t cmds <<<"$sec"
assert_eq "sudo fwrun --rootfs drone.ext2 --veth|sudo fwrun --list|sudo fwrun --enter drone|sudo fwrun --enter drone -- cat /proc/1/cmdline|sudo fwrun --stop drone" \
	"$(IFS='|'; echo "${cmds[*]}")" "the README's developer shell commands" ||
	die "the section changed: update this test"
sh_of() { echo "${1/#sudo fwrun /sudo \"\$FWRUN\" }"; }	# CMD: as the test runs it

st=$T/staging
mk_staging "$st"
ln -s busybox "$st/bin/cat"
cat >"$st/sbin/boxinit" <<'SH'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "boxinit: up"
trap 'echo "boxinit: stopping"; exit 0' TERM
while :; do /bin/busybox sleep 1; done
SH
chmod 0755 "$st/sbin/boxinit"
mkdir -p "$T/job"
mk_image ext2 "$T/job/drone.ext2" "$st"
cd "$T/job" || die "cd"
at_exit "[ -d '$state' ] && '$FWRUN' --remove --name drone >/dev/null 2>&1; rmdir /var/lib/fwrun 2>/dev/null"

# Terminal 1: a pty whose input stays open (a FIFO held by the test).
mkfifo "$T/t1.in"
exec 7<>"$T/t1.in"
export FWRUN
FWT_LAST_CMD=${cmds[0]}
in_pty "$T/t1.log" bash -c "$(sh_of "${cmds[0]}")" <"$T/t1.in" >/dev/null 2>&1 &
t1=$!
FWT_PIDS+=("$t1")
wait_line "$T/t1.log" 'boxinit: up' 20 || die "terminal 1: no boot: $(cat "$T/t1.log")"

# Terminal 2.
list=$(bash -c "$(sh_of "${cmds[1]}")" </dev/null)
assert_eq 0 "$?" "${cmds[1]}"
line=$(grep '^drone ' <<<"$list")
keys() { tr ' ' '\n' <<<"$1" | sed -n 's/=.*//p' | tr '\n' ' '; }
assert_eq "$(keys "$sample")" "$(keys "$line")" "--list: the README's fields, in its order"
assert_match "^drone pid=[0-9]+ up=[0-9]+s console=pty net=veth:fw-drone:eth0:10\\.[0-9]+\\.[0-9]+\\.1/24 state=$state rootfs=$T/job/drone\\.ext2\$" \
	"$line" "--list: as the README shows it"

out=$(printf 'echo "in the firmware: $(cat /proc/1/cmdline)"\nexit 3\n' | bash -c "$(sh_of "${cmds[2]}")")
assert_eq 3 "$?" "${cmds[2]}: the shell's status"
# /proc/1 is the init: a script, given the console by fwrun on a terminal
assert_eq "in the firmware: /bin/sh/sbin/boxinitro.boot.console=console" "$(tr -d '\0' <<<"$out")" \
	"${cmds[2]}: a shell in the firmware"
out=$(bash -c "$(sh_of "${cmds[3]}")" </dev/null | tr '\0' ' ')
assert_eq "0" "${PIPESTATUS[0]}" "${cmds[3]}: its status"
assert_eq "/bin/sh /sbin/boxinit ro.boot.console=console " "$out" "${cmds[3]}: the init's command line"

bash -c "$(sh_of "${cmds[4]}")" </dev/null
assert_eq 0 "$?" "${cmds[4]}"
wait_fwrun "$t1" 10
assert_status 0 "terminal 1: fwrun's status (boxinit exits 0 on SIGTERM)"
assert_match 'boxinit: stopping' "$(cat "$T/t1.log")" "terminal 1: the firmware stopped"
exec 7>&-

# The state the run left, removed as the README says.
[ -d "$state/upper" ] || fail "no state in $state after the run"
run_fwrun --remove --name drone
assert_status 0 "--remove --name drone"
assert_nofile "$state" "--remove deleted the state"
cd /
host_unchanged "$T/host.before"
exit "$FWT_FAILS"
