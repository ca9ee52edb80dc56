# SPDX-License-Identifier: MIT
# Sourced by every test/integration/t-*.sh. Exit status of a test script:
# 0 pass, 77 skip (reason printed), anything else fail.
#
# What a test gets:
#   $T        its own temp root, mktemp -d /tmp/fwt.XXXXXX, removed at exit
#   $PFX      a unique prefix (fwt + 4 chars) for instance names, link names,
#             netns names: host_snapshot only looks at things carrying it
#   $FWRUN    the binary under test (default: the repo's ./fwrun)
#   $PROBE    the static test init (test/probe.c), built if missing
#   need_root / need_cmd CMD... / need_fwrun / skip "reason"
#   mk_staging DIR                 a rootfs tree: probe as /sbin/boxinit...
#   mk_busybox_tree DIR [BUSYBOX]  a busybox rootfs tree (an applet per link)
#   foreign_deb ARCH PKG DIR       Debian's PKG for ARCH unpacked in DIR
#   systemd_rootfs                 a debootstrapped Debian 12 with systemd,
#                                  cached; prints its path
#                                  (cached in $FWT_CACHE; skips if unfetchable)
#   systemd_image                  that tree as an ext4 image, cached
#   mk_image ext2|ext4|squashfs|erofs|dir OUT [STAGING]
#   host_snapshot FILE / host_unchanged FILE
#   run_fwrun ARGS...              foreground, sets $STATUS $OUT $ERR
#   start_fwrun TAG ARGS...        background, sets $FWPID ($T/TAG.out/.err)
#   wait_fwrun PID [SECS]          sets $STATUS; wait_line FILE REGEX [SECS]
#   find_init FWPID                the host pid of the firmware's pid 1
#   assert_eq / assert_ne / assert_match / assert_nomatch / assert_status /
#   assert_file / assert_nofile    non-fatal: a failure is counted, the
#                                  script goes on, and exits 1 at the end
#   in_pty LOG CMD...              CMD on a new pty (script(1))
#   alive PID / descendants PID
#   at_exit CMD / register_link IF / register_netns NS   removed at exit
#   kv FILE KEY                    the value of a probe "KEY=value" line
#   sha_of PATH                    sha256 of a file, or of a directory tree

set -u
set -o pipefail

TEST_NAME=$(basename "$0" .sh)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=${B:-build}
case $B in /*) ;; *) B=$REPO/$B ;; esac
FWRUN=${FWRUN:-$REPO/fwrun}
FWT_FAILS=0
FWT_PIDS=()		# background processes this test started
FWT_LINKS=()		# host links this test created (deleted at exit)
FWT_NETNS=()		# netns this test created
FWT_CLEANUPS=()		# extra commands to run at exit (eval'd, reverse order)
FWT_SKIPPING=0

T=$(mktemp -d /tmp/fwt.XXXXXX) || { echo "$TEST_NAME: mktemp failed" >&2; exit 1; }
# fwt + 4 lowercase characters: short enough for interface names (IFNAMSIZ).
PFX=fwt$(tr -dc 'a-z0-9' </dev/urandom | head -c 4)

log() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

# --- result handling ---------------------------------------------------------

skip() {
	echo "SKIP: $TEST_NAME: $*"
	FWT_SKIPPING=1
	exit 77
}

fail() {
	echo "FAIL: $TEST_NAME: $*"
	FWT_FAILS=$((FWT_FAILS + 1))
	return 1
}

# Fatal: stop the script here (cleanup still runs).
die() {
	fail "$@"
	exit 1
}

# Show what fwrun said, after a failed assertion on a run.
show_run() {
	[ -n "${FWT_LAST_CMD:-}" ] || return 0
	echo "  command: ${FWT_LAST_CMD}"
	echo "  status:  ${STATUS:-?}${FWT_SAFETY_TIMEOUT:+ (killed by the safety timeout of the test)}"
	if [ -n "${ERR:-}" ]; then
		echo "  stderr:"
		printf '%s\n' "$ERR" | head -n 20 | sed 's/^/    | /'
	fi
	if [ -n "${OUT:-}" ]; then
		echo "  stdout:"
		printf '%s\n' "$OUT" | grep -v '^env\.' | head -n 30 | sed 's/^/    | /'
	fi
}

assert_eq() {	# EXPECTED GOT WHAT
	[ "$1" = "$2" ] && return 0
	fail "${3:-values differ}: expected '$1', got '$2'"
}

assert_ne() {	# UNEXPECTED GOT WHAT
	[ "$1" != "$2" ] && return 0
	fail "${3:-values equal}: expected anything but '$1'"
}

# Here-strings, not printf | grep -q: under pipefail, grep quitting at its
# first match kills a long printf with SIGPIPE and fails the pipe, which
# read as "no match" (assert_match failed, assert_nomatch passed wrongly).
assert_match() {	# ERE STRING WHAT
	grep -Eq -- "$1" <<<"$2" && return 0
	fail "${3:-no match}: expected to match /$1/, got: $(printf '%s' "$2" | head -c 600)"
}

assert_nomatch() {	# ERE STRING WHAT
	grep -Eq -- "$1" <<<"$2" || return 0
	fail "${3:-unexpected match}: expected not to match /$1/, got: $(printf '%s' "$2" | grep -E -- "$1" | head -c 600)"
}

assert_status() {	# EXPECTED [WHAT]: $STATUS of the last run_fwrun/wait_fwrun
	[ "${STATUS:-}" = "$1" ] && return 0
	fail "${2:-exit status}: expected status $1, got ${STATUS:-none}"
	show_run
	return 1
}

assert_file() {		# PATH [CONTENT] [WHAT]
	if [ ! -e "$1" ] && [ ! -L "$1" ]; then
		fail "${3:-file missing}: expected '$1' to exist"
		return 1
	fi
	[ $# -lt 2 ] && return 0
	assert_eq "$2" "$(cat "$1")" "${3:-content of $1}"
}

assert_nofile() {	# PATH [WHAT]
	[ ! -e "$1" ] && [ ! -L "$1" ] && return 0
	fail "${2:-unexpected file}: expected '$1' not to exist"
}

# --- requirements ------------------------------------------------------------

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (run test/run as root)"
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "needs '$c' (tools/install-deps installs it)"
	done
}

need_fs() {	# FSTYPE: the kernel can mount it (or has a module for it)
	grep -qw "$1" /proc/filesystems && return 0
	modprobe -q "$1" 2>/dev/null && grep -qw "$1" /proc/filesystems && return 0
	skip "kernel has no $1 support"
}

need_fwrun() {
	[ -x "$FWRUN" ] || skip "no fwrun binary at $FWRUN (run make first)"
}

# The usual start of a root test: an ext2 firmware at $T/fw.ext2 (the probe
# as /sbin/boxinit), its sha256 in $sum, the host's state in $T/host.before.
ext2_firmware() {
	need_root
	need_fwrun
	need_cmd mke2fs
	need_fs overlay
	mk_staging "$T/staging"
	mk_image ext2 "$T/fw.ext2"
	sum=$(sha_of "$T/fw.ext2")
	host_snapshot "$T/host.before"
}

# --- the probe ---------------------------------------------------------------

if [ -x "$B/test/probe" ]; then
	PROBE=$B/test/probe
else
	PROBE=$T/probe
	if ! cc -std=gnu11 -O2 -static -o "$PROBE" "$REPO/test/probe.c" 2>"$T/probe.log"; then
		cat "$T/probe.log" >&2
		echo "FAIL: $TEST_NAME: cannot build test/probe.c"
		exit 1
	fi
fi

# kv FILE KEY: value of the first "KEY=value" line (probe output).
kv() {
	awk -v k="$2=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$1"
}

# kvs STRING KEY: same, from a string ($OUT).
kvs() {
	printf '%s\n' "$1" >"$T/.kvs"
	kv "$T/.kvs" "$2"
}

host_ns() { stat -L -c %i "/proc/self/ns/$1"; }

# --- images ------------------------------------------------------------------

# mk_staging DIR: a firmware tree whose /sbin/boxinit is the probe.
mk_staging() {
	local d=$1
	mkdir -p "$d"/{sbin,bin,etc,data,proc,sys,dev,tmp,run,var/lib,etc/conf.d}
	cp "$PROBE" "$d/sbin/boxinit"
	cp "$PROBE" "$d/bin/probe"
	chmod 0755 "$d/sbin/boxinit" "$d/bin/probe"
	if [ -x /bin/busybox ]; then
		cp /bin/busybox "$d/bin/busybox"
		ln -sf busybox "$d/bin/sh"
	fi
	echo "hello from the image" >"$d/etc/motd"
	echo "keep" >"$d/etc/keep"
	echo "a" >"$d/etc/conf.d/a.conf"
	echo "b" >"$d/etc/conf.d/b.conf"
	echo "firmware" >"$d/etc/hostname"
	printf 'not executable\n' >"$d/bin/noexec"
	chmod 0644 "$d/bin/noexec"
	mkdir -p "$d/sbin/adir"
	chmod 1777 "$d/tmp"
}

# mk_busybox_tree DIR [BUSYBOX]: a firmware tree of a static busybox (the
# host's /bin/busybox, or BUSYBOX: another architecture's) with a link per
# applet where busybox says it lives, as demo/mkimage makes it. The list
# comes from the host's busybox: BUSYBOX need not run here.
mk_busybox_tree() {
	local d=$1 bb=${2:-/bin/busybox} applet
	mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,var/log}
	chmod 1777 "$d/tmp"
	cp "$bb" "$d/bin/busybox"
	chmod 0755 "$d/bin/busybox"
	/bin/busybox --list-full | while read -r applet; do
		case $applet in bin/busybox | "") continue ;; esac
		[ -d "$d/${applet%/*}" ] || mkdir -p "$d/${applet%/*}"
		[ -e "$d/$applet" ] || ln -s /bin/busybox "$d/$applet"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
	echo 'root:x:0:' >"$d/etc/group"
}

# Downloads the tests keep between runs (debs, debootstrapped trees).
FWT_CACHE=${FWT_CACHE:-/var/cache/fwrun-test}

# foreign_deb ARCH PKG DIR: Debian's PKG built for ARCH, unpacked into DIR.
# apt runs on a private state (lists, cache) under $FWT_CACHE, so the host's
# dpkg architectures and apt lists stay as they are. The .deb is kept.
foreign_deb() {
	local arch=$1 pkg=$2 dir=$3 c=$FWT_CACHE/apt-$1 deb
	deb=$(ls "$c/debs/${pkg}_"*"_$arch.deb" 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		need_cmd apt-get dpkg-deb
		mkdir -p "$c/lists/partial" "$c/cache/archives/partial" "$c/debs" ||
			skip "cannot create the cache $c"
		local a=(-o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
			 -o "Dir::State::Lists=$c/lists" -o "Dir::Cache=$c/cache"
			 -o Dir::State::status=/dev/null)
		{ apt-get "${a[@]}" -q update && (cd "$c/debs" && apt-get "${a[@]}" download "$pkg:$arch"); } \
			>"$T/apt.log" 2>&1 ||
			skip "cannot fetch Debian's $pkg for $arch: $(tail -n 2 "$T/apt.log" | tr '\n' ' ')"
		deb=$(ls "$c/debs/${pkg}_"*"_$arch.deb" 2>/dev/null | head -n 1)
		[ -n "$deb" ] || skip "apt-get download left no $pkg $arch package in $c/debs"
	fi
	mkdir -p "$dir"
	dpkg-deb -x "$deb" "$dir" || die "dpkg-deb -x '$deb' failed"
}

# systemd_rootfs, systemd_image: test/integration/systemd.sh (test/vm/run
# uses them too).
. "$REPO/test/integration/systemd.sh"

# mk_image TYPE OUT [STAGING]: build a filesystem image (or a directory copy).
mk_image() {
	local type=$1 out=$2 st=${3:-}
	if [ -z "$st" ]; then
		st=$T/staging
		[ -d "$st" ] || mk_staging "$st"
	fi
	case $type in
	ext2) mke2fs -q -F -t ext2 -d "$st" "$out" 16M >/dev/null ;;
	ext4) mke2fs -q -F -t ext4 -d "$st" "$out" 32M >/dev/null ;;
	squashfs) mksquashfs "$st" "$out" -quiet -noappend -all-root >/dev/null ;;
	erofs) mkfs.erofs --quiet --all-root "$out" "$st" >/dev/null ;;
	dir) mkdir -p "$out" && cp -a "$st/." "$out/" ;;
	*) die "mk_image: unknown type '$type'" ;;
	esac || die "mk_image $type '$out' failed"
}

# sha_of PATH: content hash of a file, or of a directory tree (names, modes,
# owners, sizes, mtimes, link targets, file contents).
sha_of() {
	if [ -d "$1" ]; then
		(cd "$1" && {
			find . -printf '%p %y %m %U %G %s %T@ %l\n' | LC_ALL=C sort
			find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
		}) | sha256sum | cut -d' ' -f1
	else
		sha256sum <"$1" | cut -d' ' -f1
	fi
}

# --- host state: only what could be ours --------------------------------------

_host_state() {
	# Mounts whose source or target lies under $T, or under /run/fwrun with
	# our prefix (other helpers run fwrun at the same time). The mount table
	# escapes spaces as \040: compare the escaped forms.
	echo "# mounts"
	awk -v t="$T" -v p="$PFX" '
		function un(s) { gsub(/\\040/, " ", s); gsub(/\\011/, "\t", s);
				 gsub(/\\012/, "\n", s); gsub(/\\134/, "\\", s); return s }
		{ src = un($1); dst = un($2) }
		index(src, t) == 1 || index(dst, t) == 1 ||
		((index(src, "/run/fwrun") == 1 || index(dst, "/run/fwrun") == 1) &&
		 (index(src, p) || index(dst, p))) { print src " " dst " " $3 }
	' /proc/self/mounts | LC_ALL=C sort
	echo "# loop devices backed by files under $T"
	local f bf
	for f in /sys/block/loop*/loop/backing_file; do
		[ -r "$f" ] || continue
		bf=$(cat "$f" 2>/dev/null) || continue
		case $bf in "$T"/*) echo "${f#/sys/block/} $bf" ;; esac
	done | LC_ALL=C sort
	echo "# links $PFX*"
	if command -v ip >/dev/null; then
		ip -o link show 2>/dev/null | awk -F': ' -v p="$PFX" \
			'{ n = $2; sub(/@.*/, "", n) } index(n, p) == 1 { print n }' | LC_ALL=C sort
		echo "# netns $PFX*"
		ip netns list 2>/dev/null | awk -v p="$PFX" 'index($1, p) == 1 { print $1 }' |
			LC_ALL=C sort
	fi
	echo "# cgroups fwrun-$PFX*"
	fwt_cgroups
}

# next_run_clears_cgroups ROOTFS WHAT: after a SIGKILLed fwrun, its cgroups
# may stay until the next run of any name removes them (fwrun(8)): run one
# and check none of ours is left.
next_run_clears_cgroups() {
	"$FWRUN" -q --rootfs "$1" --name "$PFX-next" --ephemeral -- /sbin/boxinit exit 0 \
		</dev/null >/dev/null 2>&1 || fail "${2:-}: the run after the SIGKILL failed"
	assert_eq "" "$(fwt_cgroups)" "${2:-}: cgroups left after the next run"
}

# The instance cgroups of our runs (fwrun-$PFX*), in every hierarchy, as
# paths under /sys/fs/cgroup; what fwrun made below them is not listed.
fwt_cgroups() {
	[ ${#PFX} -gt 3 ] || return 0
	find /sys/fs/cgroup -maxdepth 8 -type d -name "fwrun-$PFX*" -prune 2>/dev/null |
		LC_ALL=C sort
}

# fwt_thaw: thaw what our firmwares froze (a v1 freezer below our
# cgroups): a frozen process does not die of SIGKILL until then.
fwt_thaw() {
	fwt_cgroups | while IFS= read -r i; do
		find "$i" -name freezer.state 2>/dev/null | while IFS= read -r f; do
			echo THAWED >"$f" 2>/dev/null
		done
	done
}

host_snapshot() { _host_state >"$1"; }

# host_unchanged FILE: the host looks as in the snapshot. Autoclear loop
# devices are released asynchronously: allow them a moment.
host_unchanged() { state_unchanged _host_state "host state" "$T/.state.now" "$@"; }

# state_unchanged FUNC WHAT NOW FILE [WHEN]: FUNC prints (into NOW, left for
# the caller to read) the same as FILE holds, polled for up to 3 s (the
# kernel releases loop devices and links asynchronously).
state_unchanged() {
	local func=$1 what=$2 now=$3 file=$4 when=${5:-after the run} i
	for i in $(seq 1 30); do
		"$func" >"$now"
		cmp -s "$file" "$now" && return 0
		sleep 0.1
	done
	fail "$what changed ($when):"
	diff -u "$file" "$now" | sed 's/^/    /'
	return 1
}

# --- running fwrun --------------------------------------------------------------

FWRUN_SAFETY=${FWRUN_SAFETY:-30}	# seconds before the test kills a hung fwrun

# run_fwrun ARGS...: run fwrun in the foreground (stdin /dev/null, so no
# terminal), at most $FWRUN_SAFETY seconds. Sets STATUS, OUT, ERR and the
# files $T/last.out, $T/last.err.
run_fwrun() {
	local t0 t1
	FWT_LAST_CMD="$FWRUN $*"
	t0=$(date +%s%N)
	timeout -k 3 "$FWRUN_SAFETY" "$FWRUN" "$@" </dev/null >"$T/last.out" 2>"$T/last.err"
	STATUS=$?
	t1=$(date +%s%N)
	FWT_SAFETY_TIMEOUT=
	if [ $(( (t1 - t0) / 1000000000 )) -ge "$FWRUN_SAFETY" ]; then
		FWT_SAFETY_TIMEOUT=1
	fi
	RUN_MS=$(( (t1 - t0) / 1000000 ))
	OUT=$(cat "$T/last.out")
	ERR=$(cat "$T/last.err")
	return 0
}

# start_fwrun TAG ARGS...: run fwrun in the background, output to $T/TAG.out
# and $T/TAG.err. Sets FWPID (also remembered for cleanup).
start_fwrun() {
	local tag=$1
	shift
	FWT_LAST_CMD="$FWRUN $*"
	"$FWRUN" "$@" </dev/null >"$T/$tag.out" 2>"$T/$tag.err" &
	FWPID=$!
	FWT_PIDS+=("$FWPID")
}

# wait_fwrun PID [SECS]: wait for a background fwrun, at most SECS (default
# $FWRUN_SAFETY); sets STATUS (or kills it and sets STATUS=timeout).
wait_fwrun() {
	local pid=$1 secs=${2:-$FWRUN_SAFETY} i
	for i in $(seq 1 $((secs * 20))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		STATUS=timeout
		return 1
	fi
	wait "$pid"
	STATUS=$?
	return 0
}

# wait_line FILE ERE [SECS]: wait until FILE has a line matching ERE.
wait_line() {
	local i
	for i in $(seq 1 $((${3:-10} * 20))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# alive PID: the process exists and is not a zombie (a zombie is dead: it
# only waits for its parent, maybe the host's init, to reap it).
alive() {
	local st
	st=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# descendants PID: all processes below PID (children first level first).
descendants() {
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# find_init FWPID: the host pid of the firmware's pid 1 among fwrun's
# descendants (the one whose NSpid ends in 1 in a child pid namespace).
find_init() {
	local p ns
	for p in $(descendants "$1"); do
		ns=$(awk '/^NSpid:/ { print NF - 1 " " $NF }' "/proc/$p/status" 2>/dev/null)
		case $ns in
		[2-9]" 1") echo "$p"; return 0 ;;
		esac
	done
	return 1
}

# wait_init FWPID [SECS]: wait until the firmware's pid 1 exists; prints it.
wait_init() {
	local i
	for i in $(seq 1 $((${2:-10} * 20))); do
		find_init "$1" && return 0
		sleep 0.05
	done
	return 1
}

# in_pty LOG CMD...: run CMD with a new pty as its terminal (script(1));
# what in_pty reads on stdin is typed into the pty, LOG gets what the
# terminal showed. Returns CMD's status.
in_pty() {
	local log=$1
	shift
	script -qefc "$(printf '%q ' "$@")" "$log"
}

# --- cleanup -----------------------------------------------------------------

register_link() { FWT_LINKS+=("$1"); }
register_netns() { FWT_NETNS+=("$1"); }
at_exit() { FWT_CLEANUPS+=("$1"); }

cleanup() {
	local rc=$? p i victims=()
	trap - EXIT
	set +e
	for ((i = ${#FWT_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${FWT_CLEANUPS[$i]}"
	done
	# What our firmwares froze would not die of the kills below.
	fwt_thaw
	# fwrun processes we started, and whatever they left running.
	for p in "${FWT_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null || continue
		victims+=($(descendants "$p") "$p")
	done
	if [ ${#victims[@]} -gt 0 ]; then
		kill -KILL "${victims[@]}" 2>/dev/null
		for p in "${FWT_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	fi
	for i in "${FWT_LINKS[@]}"; do ip link del "$i" 2>/dev/null; done
	for i in "${FWT_NETNS[@]}"; do ip netns del "$i" 2>/dev/null; done
	# The instance locks of our fwruns that were SIGKILLed (a test's names
	# all start with its $PFX; the processes are gone by now).
	[ ${#PFX} -gt 3 ] && rm -f /run/fwrun/instances/"$PFX"* /run/fwrun/running/"$PFX"* \
		/run/fwrun/running/."$PFX"*.tmp
	# Their cgroups (empty once the processes above are gone), deepest first.
	fwt_cgroups | while IFS= read -r i; do
		find "$i" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	# Mounts left under $T in the host namespace (deepest first), then loop
	# devices backed by our files.
	awk -v t="$T" '{ d = $2; gsub(/\\040/, " ", d) } index(d, t) == 1 { print d }' \
		/proc/self/mounts | sort -r | while IFS= read -r m; do umount -l "$m"; done
	for i in /sys/block/loop*/loop/backing_file; do
		[ -r "$i" ] || continue
		case $(cat "$i" 2>/dev/null) in
		"$T"/*) p=${i#/sys/block/}; losetup -d "/dev/${p%%/*}" 2>/dev/null ;;
		esac
	done
	# The loop share records fwrun keeps for our images (one per image
	# file, named st_dev:st_ino; fwrun never removes them).
	find "$T" -xdev -type f -size +64k -printf '%D:%i\n' 2>/dev/null |
		while IFS= read -r i; do rm -f "/run/fwrun/loop/$i"; done
	if [ -n "${FWT_KEEP:-}" ]; then
		echo "$TEST_NAME: kept $T" >&2
	else
		rm -rf --one-file-system "$T"
	fi
	if [ "$FWT_SKIPPING" = 1 ]; then
		exit 77
	fi
	if [ "$FWT_FAILS" -gt 0 ]; then
		echo "$TEST_NAME: $FWT_FAILS failure(s)"
		exit 1
	fi
	if [ "$rc" = 0 ]; then
		echo "PASS: $TEST_NAME"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
