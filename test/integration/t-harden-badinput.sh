#!/bin/bash
# SPDX-License-Identifier: MIT
# The bad-input table (man/fwrun.8, DIAGNOSTICS): hostile or broken input
# across every option. Each row: the exit status fwrun must give, and an ERE
# that the single error line (status 125/126/127) or the firmware's output
# (any other status) must match. After every row: nothing of ours mounted,
# no loop device, no link, no state dir created by a refused run; at the end
# every image's sha256 is what it was.
#
# row ID STATUS ERE DESCRIPTION -- FWRUN-ARGS...
#   $PRE   a command put before fwrun (env -i ...)
#   $REDIR a redirection for the run (0<&- 1>&- 2>&-)
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd mke2fs debugfs truncate setpriv
need_fs overlay

NL=$'\n'
mk_staging "$T/staging"
mk_image ext2 "$T/fw.ext2"
mk_image ext4 "$T/dirty.ext4"
# A dirty journal: the needs_recovery flag a crash leaves. Mounted read-only
# without replaying it (noload): the image must not change.
debugfs -w -R "feature needs_recovery" "$T/dirty.ext4" >/dev/null 2>&1 ||
	die "debugfs: cannot set needs_recovery"
mk_image ext2 "$T/liar.ext2"
truncate -s 4M "$T/liar.ext2"	# the superblock says 16 MiB
mkfifo "$T/fifo.img"
: >"$T/empty.img"
truncate -s 2T "$T/huge.img"	# sparse, all zeros
echo "not an image" >"$T/text.img"
mkdir -p "$T/a${NL}b"
cp "$T/fw.ext2" "$T/a${NL}b/nl.ext2"
cp "$T/fw.ext2" "$T/c${NL}d.ext2"
mkdir -p "$T/outside" "$T/sub"
ln -s "$T/outside" "$T/st-link"			# the state dir itself a symlink
mkdir -p "$T/st-up" "$T/st-work" "$T/st-lock"
ln -s "$T/outside" "$T/st-up/upper"		# upper/ pointing out
ln -s "$T/outside" "$T/st-work/work"		# work/ pointing out
ln -s "$T/outside/victim" "$T/st-lock/lock"	# lock pointing out
mkdir -p "$T/st-nobody" "$T/st-world"
chown nobody "$T/st-nobody"
chmod 0777 "$T/st-world"
mkdir -p "$T/st-closed"
uplink=$(ip route show default 2>/dev/null | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
long300=$(printf 'n%.0s' $(seq 1 300))

declare -A sums
IMAGES=(fw.ext2 dirty.ext4 liar.ext2 "a${NL}b/nl.ext2" "c${NL}d.ext2")
for f in "${IMAGES[@]}"; do
	sums[$f]=$(sha_of "$T/$f")
done
host_snapshot "$T/host.before"
at_exit "rm -f /run/fwrun/net/if-$PFX*"

IMG=$T/fw.ext2
ROWS=0
PRE=
REDIR=

row() {	# ID STATUS ERE DESCRIPTION -- ARGS...
	local id=$1 want=$2 re=$3 desc=$4 lines first
	shift 5
	ROWS=$((ROWS + 1))
	FWT_LAST_CMD="$PRE $FWRUN $* $REDIR"
	eval "timeout -k 3 30 $PRE \"\$FWRUN\" \"\$@\" </dev/null >\"\$T/last.out\" 2>\"\$T/last.err\" $REDIR"
	STATUS=$?
	OUT=$(cat "$T/last.out")
	ERR=$(cat "$T/last.err")
	if ! assert_status "$want" "$id ($desc)"; then
		:
	elif [ "$want" -ge 125 ] && [ "$want" -le 127 ]; then
		lines=$(printf '%s\n' "$ERR" | grep -v "^Try 'fwrun --help'" | grep -c .)
		first=$(printf '%s\n' "$ERR" | head -n 1)
		case $REDIR in
		*2\>*) ;;	# stderr closed: nothing to read
		*)
			assert_eq 1 "$lines" "$id ($desc): one error line, got: $ERR"
			assert_match '^fwrun: ' "$first" "$id ($desc): error line"
			assert_match "$re" "$first" "$id ($desc): the line names subject and reason"
			;;
		esac
		assert_nomatch '^(pid|echo)=' "$OUT" "$id ($desc): the init must not run"
	else
		assert_match "$re" "$OUT" "$id ($desc): the firmware's output"
	fi
	host_unchanged "$T/host.before" "after $id ($desc)"
	printf '%s\t%s\t%s\n' "$id" "$STATUS" "$(printf '%s\n' "$ERR" | head -n 1)" >>"$T/table"
	PRE=
	REDIR=
}

E=--ephemeral
# --- --rootfs ---
row R1 125 "rootfs .*$T/nope.ext2.*No such file" "missing image" -- --rootfs "$T/nope.ext2" $E
row R2 125 "fifo.img.*(FIFO|fifo|pipe)" "image is a FIFO (never opened blocking)" -- --rootfs "$T/fifo.img" --name "$PFX-r2" $E
row R3 125 "/dev/zero.*character device" "image is a character device" -- --rootfs /dev/zero --name "$PFX-r3" $E
row R4 125 "empty.img.*(empty|not an ext2)" "zero-size image" -- --rootfs "$T/empty.img" --name "$PFX-r4" $E
row R5 125 "huge.img.*not an ext2/3/4, squashfs or erofs" "2 TiB sparse image of zeros" -- --rootfs "$T/huge.img" --name "$PFX-r5" $E
row R6 125 "text.img.*not an ext2/3/4, squashfs or erofs" "a text file" -- --rootfs "$T/text.img" --name "$PFX-r6" $E
row R7 125 "liar.ext2.*truncated ext" "superblock says 16 MiB, file has 4" -- --rootfs "$T/liar.ext2" --name "$PFX-r7" $E
row R8 0 "^echo=dirty$" "ext4 with a dirty journal runs (noload)" -- --rootfs "$T/dirty.ext4" --name "$PFX-r8" $E -- /sbin/boxinit echo dirty
row R9 125 "derive an instance name .*c\\\\nd" "newline in the image name, no --name" -- --rootfs "$T/c${NL}d.ext2" $E
row R10 0 "^echo=nl$" "newline in the image's directory, with --name" -- --rootfs "$T/a${NL}b/nl.ext2" --name "$PFX-r10" $E -- /sbin/boxinit echo nl
row R11 0 "^echo=dots$" "'..' in the image path" -- --rootfs "$T/sub/../fw.ext2" --name "$PFX-r11" $E -- /sbin/boxinit echo dots
row R12 127 "'/sbin/boxinit'.*No such file" "a directory rootfs without the init" -- --rootfs "$T/outside" --name "$PFX-r12" $E
# --- --name, --hostname ---
row N1 125 "instance name 'n{300}': longer than 64 bytes" "name of 300 bytes" -- --rootfs "$IMG" --name "$long300" $E
row N2 125 "instance name '\.\.'" "name '..'" -- --rootfs "$IMG" --name .. $E
row N3 125 "instance name 'a/b'" "name with a slash" -- --rootfs "$IMG" --name a/b $E
row N4 125 "hostname 'n{300}'" "hostname of 300 bytes" -- --rootfs "$IMG" --name "$PFX-n4" --hostname "$long300" $E
row N5 125 "hostname 'a b'" "hostname with a space" -- --rootfs "$IMG" --name "$PFX-n5" --hostname "a b" $E
# --- --state-dir ---
row S1 125 "st-link.*(symbolic link|Too many levels)" "state dir is a symlink out" -- --rootfs "$IMG" --name "$PFX-s1" --state-dir "$T/st-link"
row S2 125 "st-up/upper.*(symbolic link|Too many levels)" "upper/ is a symlink out" -- --rootfs "$IMG" --name "$PFX-s2" --state-dir "$T/st-up"
row S3 125 "st-work/work.*(symbolic link|Too many levels)" "work/ is a symlink out" -- --rootfs "$IMG" --name "$PFX-s3" --state-dir "$T/st-work"
row S4 125 "st-lock/lock.*(symbolic link|Too many levels)" "lock is a symlink out" -- --rootfs "$IMG" --name "$PFX-s4" --state-dir "$T/st-lock"
row S5 125 "st-nobody.*owned by uid" "state dir owned by another user" -- --rootfs "$IMG" --name "$PFX-s5" --state-dir "$T/st-nobody"
row S6 125 "st-world.*writable" "state dir world-writable" -- --rootfs "$IMG" --name "$PFX-s6" --state-dir "$T/st-world"
row S7 0 "^echo=sdots$" "'..' in the state dir" -- --rootfs "$IMG" --name "$PFX-s7" --state-dir "$T/sub/../st-dots" -- /sbin/boxinit echo sdots
row S8 0 "^echo=snl$" "newline in the state dir" -- --rootfs "$IMG" --name "$PFX-s8" --state-dir "$T/st${NL}nl" -- /sbin/boxinit echo snl
row S9 125 "ephemeral.*state-dir" "--ephemeral with --state-dir" -- --rootfs "$IMG" --name "$PFX-s9" --ephemeral --state-dir "$T/s9"
row S10 125 "diff.*no run has left state" "--diff of nothing" -- --diff --state-dir "$T/s10"
# --- network ---
row T1 125 "'lo'.*loopback" "--tap lo" -- --rootfs "$IMG" --name "$PFX-t1" $E --tap lo
if [ -n "$uplink" ]; then
	row T2 125 "'$uplink'.*default route" "--tap the host's uplink" -- --rootfs "$IMG" --name "$PFX-t2" $E --tap "$uplink"
else
	row T2 0 "^echo=t2$" "(no uplink here: a tap instead)" -- --rootfs "$IMG" --name "$PFX-t2" $E --tap "${PFX}u" -- /sbin/boxinit echo t2
fi
row T3 125 "10\.0\.0\.1/33" "CIDR /33" -- --rootfs "$IMG" --name "$PFX-t3" $E --tap "${PFX}x:eth1:10.0.0.1/33"
row T8 125 "borrow interface 'lo'.*loopback" "--tap lo:eth1" -- --rootfs "$IMG" --name "$PFX-t8" $E --tap lo:eth1
row T4 125 "0123456789abcdef" "interface name of 16 bytes" -- --rootfs "$IMG" --name "$PFX-t4" $E --tap 0123456789abcdef
row T5 125 "300\.1\.1\.1" "--veth with a bad address" -- --rootfs "$IMG" --name "$PFX-t5" $E --veth=300.1.1.1/24
row T6 125 "veth.*twice" "--veth twice" -- --rootfs "$IMG" --name "$PFX-t6" $E --veth --veth
row T7 125 "'a\\\\nb'" "interface name with a newline" -- --rootfs "$IMG" --name "$PFX-t7" $E --tap "a${NL}b"
# --- life cycle, protection ---
row L1 125 "timeout '-1'" "--timeout -1" -- --rootfs "$IMG" --name "$PFX-l1" $E --timeout -1
row L2 125 "kill-after 'soon'" "--kill-after soon" -- --rootfs "$IMG" --name "$PFX-l2" $E --kill-after soon
row L3 125 "stop signal '99'" "--stop-signal 99" -- --rootfs "$IMG" --name "$PFX-l3" $E --stop-signal 99
row L4 125 "status-fd '-1'" "--status-fd -1" -- --rootfs "$IMG" --name "$PFX-l4" $E --status-fd -1
row L5 125 "99.*(Bad file descriptor|not open)" "--status-fd of a closed fd" -- --rootfs "$IMG" --name "$PFX-l5" $E --status-fd 99
row L6 125 "console mode 'tty'" "--console tty" -- --rootfs "$IMG" --name "$PFX-l6" $E --console tty
row L7 125 "--until 'a\(': " "--until with a bad regex" -- --rootfs "$IMG" --name "$PFX-l7" $E --until 'a('
row L8 125 "--console-log.*needs a console fwrun sees" "--console-log with --console=pipe" -- --rootfs "$IMG" --name "$PFX-l8" $E --console=pipe --console-log "$T/l8.log"
row L9 125 "open --console-log '.*/l9/x.log': No such file" "--console-log in a missing directory" -- --rootfs "$IMG" --name "$PFX-l9" $E --console-log "$T/l9/x.log"
row L10 125 "open --console-log '$T': Is a directory" "--console-log a directory" -- --rootfs "$IMG" --name "$PFX-l10" $E --console-log "$T"
row L11 0 "^echo=l11$" "--until '' matches the first line" -- --rootfs "$IMG" --name "$PFX-l11" $E --until '' -- /sbin/boxinit echo l11 sleep
row L13 125 "--until.*takes more than 64 MB or 2 s to compile" "--until that would compile to gigabytes" -- --rootfs "$IMG" --name "$PFX-l13" $E --until '((((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+'
# found by fuzz_parse: an unmatched ')' is a literal, and its 32197
# optional copies took glibc's regcomp() more than a gigabyte
row L14 125 "--until.*takes more than 64 MB or 2 s to compile" "--until with many optional copies" -- --rootfs "$IMG" --name "$PFX-l14" $E --until '){0566,32197},902\b!{,}'
row L15 125 "--until.*a back-reference" "--until with a back-reference" -- --rootfs "$IMG" --name "$PFX-l15" $E --until '(a|aa)+\1b'
row L12 125 "option '--console-log'.*is empty" "--console-log ''" -- --rootfs "$IMG" --name "$PFX-l12" $E --console-log ''
row P1 125 "cap-drop 'CAP_BOGUS'" "unknown capability" -- --rootfs "$IMG" --name "$PFX-p1" $E --cap-drop CAP_BOGUS
row P2 125 "apparmor 'maybe'" "--apparmor maybe" -- --rootfs "$IMG" --name "$PFX-p2" $E --apparmor=maybe
row P3 125 "profile 'a\\\\nb'" "--profile with a newline" -- --rootfs "$IMG" --name "$PFX-p3" $E --profile "a${NL}b"
# --- duplicated options: the last one wins, but --veth and --tap IF twice ---
row D1 0 "^hostname=$PFX-d1b$" "--name twice: the last wins" -- --rootfs "$IMG" --name "$PFX-d1a" --name "$PFX-d1b" $E -- /sbin/boxinit report
row D2 0 "^echo=d2$" "--rootfs twice: the last wins" -- --rootfs "$T/nope.ext2" --rootfs "$IMG" --name "$PFX-d2" $E -- /sbin/boxinit echo d2
row D3 124 "^ready=1$" "--timeout twice: the last wins" -- --rootfs "$IMG" --name "$PFX-d3" $E --timeout 100 --timeout 0.3 -- /sbin/boxinit ready sleep
row D4 125 "${PFX}d.*(twice|more than once)" "--tap of one interface twice" -- --rootfs "$IMG" --name "$PFX-d4" $E --tap "${PFX}d" --tap "${PFX}d:eth2"
# --- -- and INIT ---
row A1 0 "" "'--' then nothing: the default init" -- --rootfs "$IMG" --name "$PFX-a1" $E --
row A2 125 "rootfs.*required" "'-- --rootfs IMG': after --, all is the init's" -- -- --rootfs "$IMG"
row A3 125 "INIT.*empty" "'-- \"\"'" -- --rootfs "$IMG" --name "$PFX-a3" $E -- ""
row A4 127 "run init '--help'|'--help'.*No such file" "'-- --help': an init named --help" -- --rootfs "$IMG" --name "$PFX-a4" $E -- --help
row A5 127 "'/sbin/nope'.*No such file" "INIT not found" -- --rootfs "$IMG" --name "$PFX-a5" $E -- /sbin/nope
row A6 126 "'/bin/noexec'.*Permission denied" "INIT not executable" -- --rootfs "$IMG" --name "$PFX-a6" $E -- /bin/noexec
row A7 126 "'/sbin/adir'" "INIT a directory" -- --rootfs "$IMG" --name "$PFX-a7" $E -- /sbin/adir
row A8 125 "option '--bogus'.*unknown" "unknown option" -- --bogus
row A9 125 "option '--name'.*needs an argument" "option without its argument" -- --rootfs "$IMG" --name
# --- running instances and binds ---
row I1 125 "instance name 'a/b'" "--enter a/b" -- --enter a/b
row I2 125 "find instance '$PFX-i2': not running" "--enter of no running instance" -- --enter "$PFX-i2"
row I3 125 "find instance '$PFX-i3': not running" "--stop of no running instance" -- --stop "$PFX-i3"
row I4 125 "'--json': only goes with --list" "--json alone" -- --json
row I5 125 "'--stop': does not go with --rootfs" "--stop with --rootfs" -- --stop "$PFX-i5" --rootfs "$IMG"
row I6 125 "no run has left state there" "--remove of no state" -- --remove --name "$PFX-i6"
row I7 125 "DST must not contain '\\.\\.'" "--bind DST with .." -- --rootfs "$IMG" --name "$PFX-i7" $E --bind "$T/sub:/../etc"
row I8 125 "DST must be an absolute path" "--bind DST relative" -- --rootfs "$IMG" --name "$PFX-i8" $E --bind "$T/sub:etc"
row I9 125 "bind '$T/nope': No such file" "--bind SRC missing" -- --rootfs "$IMG" --name "$PFX-i9" $E --bind-ro "$T/nope"
row I10 125 "under /run/fwrun" "--bind SRC under /run/fwrun" -- --rootfs "$IMG" --name "$PFX-i10" $E --bind /run/fwrun/mnt:/x
row I11 125 "SRC must be an absolute path" "--bind SRC relative" -- --rootfs "$IMG" --name "$PFX-i11" $E --bind "a${NL}b:/x"
# --- the caller's environment and descriptors ---
PRE="env -i"
row E1 0 "^env\.PATH=/sbin:" "environment without PATH" -- --rootfs "$IMG" --name "$PFX-e1" $E -- /sbin/boxinit report
REDIR="0<&-"
row E2 0 "^fd\.0=/dev/null$" "stdin closed: the init gets /dev/null" -- --rootfs "$IMG" --name "$PFX-e2" $E --console=pipe -- /sbin/boxinit report
REDIR="2>&-"
row E6 0 "^fds=0,1,2$" "stderr closed: the init still gets 0, 1, 2" -- --rootfs "$IMG" --name "$PFX-e6" $E -- /sbin/boxinit report
REDIR="1>&-"
row E3 7 "" "stdout closed" -- --rootfs "$IMG" --name "$PFX-e3" $E -- /sbin/boxinit exit 7
REDIR="2>&-"
row E4 127 "" "stderr closed, the init missing" -- --rootfs "$IMG" --name "$PFX-e4" --state-dir "$T/st-closed" -- /sbin/nope
# With fd 2 closed, the error must not land in a file fwrun opened as fd 2.
if grep -rqa 'fwrun:' "$T/st-closed" 2>/dev/null; then
	fail "E4: the error line was written into a file of the state dir: $(grep -rla 'fwrun:' "$T/st-closed")"
fi
REDIR="0<&- 1>&- 2>&-"
row E5 3 "" "stdin, stdout and stderr closed" -- --rootfs "$IMG" --name "$PFX-e5" --state-dir "$T/st-closed2" -- /sbin/boxinit exit 3
if grep -rqa 'fwrun:' "$T/st-closed2" 2>/dev/null; then
	fail "E5: fwrun's output was written into a file of the state dir"
fi

for f in "${!sums[@]}"; do
	assert_eq "${sums[$f]}" "$(sha_of "$T/$f")" "sha256 of $f at the end"
done
for d in s9 s10 outside/victim l8.log l9; do
	assert_nofile "$T/$d" "created by a refused run"
done
assert_eq 0 "$(find "$T/outside" -mindepth 1 | wc -l)" "files written through a planted symlink"
[ -n "${FWT_SHOW_TABLE:-}" ] && cat "$T/table"

# The man page's table (DIAGNOSTICS) has every case, with the same status.
awk '/^[A-Z][0-9]+@T\{$/ { id = $0; sub(/@.*/, "", id); next }
     id != "" && /^T\}@/ { split($0, f, "@"); print id, f[2]; id = "" }' \
	"$REPO/man/fwrun.8" | LC_ALL=C sort >"$T/man.table"
while IFS=$'\t' read -r id st _; do
	case $id in E3 | E5) st=N ;; esac
	grep -qx "$id $st" "$T/man.table" ||
		fail "man/fwrun.8 DIAGNOSTICS: no row '$id' with exit status $st (has: $(grep "^$id " "$T/man.table"))"
done <"$T/table"
echo "$TEST_NAME: $ROWS rows"
