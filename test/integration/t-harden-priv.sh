#!/bin/bash
# SPDX-License-Identifier: MIT
# Privilege: fwrun refuses to run setuid and without root; the init gets
# only fds 0, 1, 2 (not the caller's extra fds, not --status-fd); it gets a
# clean environment plus --setenv; symlinks planted in the state dir and in
# the runtime dirs (/run/fwrun, /run/fwrun/mnt, /run/fwrun/net) are refused
# or harmless. The runtime dirs are planted inside a private mount namespace
# (unshare -m, a tmpfs over /run): the host's /run/fwrun is never touched.
. "$(dirname "$0")/lib.sh"
need_root
need_fwrun
need_cmd mke2fs setpriv unshare
need_fs overlay

mk_staging "$T/staging"
mk_image ext2 "$T/fw.ext2"
sum=$(sha_of "$T/fw.ext2")
chmod 0755 "$T"
chmod 0644 "$T/fw.ext2"
host_snapshot "$T/host.before"

nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }

# --- setuid, non-root -------------------------------------------------------
mkdir -p "$T/suid"
cp "$(readlink -f "$FWRUN")" "$T/suid/fwrun"
chown root:root "$T/suid/fwrun"
chmod 4755 "$T/suid/fwrun"
nobody "$T/suid/fwrun" --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-su" </dev/null >"$T/su.out" 2>"$T/su.err"
assert_eq 125 "$?" "setuid copy run by nobody: exit status"
assert_match "^fwrun: refusing to run setuid" "$(cat "$T/su.err")" "setuid: the message"
assert_eq 1 "$(grep -c . "$T/su.err")" "setuid: one line"
nobody "$(readlink -f "$FWRUN")" --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-nr" </dev/null >"$T/nr.out" 2>"$T/nr.err"
assert_eq 125 "$?" "run by nobody: exit status"
assert_match "^fwrun: must run as root.*sudo" "$(cat "$T/nr.err")" "non-root: the message"
assert_eq 1 "$(grep -c . "$T/nr.err")" "non-root: one line"
host_unchanged "$T/host.before" "after the refused unprivileged runs"

# --- file descriptors ---------------------------------------------------------
echo secret >"$T/fdfile"
FWT_LAST_CMD="fwrun (fds 3, 7, 9 open; --status-fd 9) report"
"$FWRUN" --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-fd" --status-fd 9 -- /sbin/boxinit report \
	3<"$T/fdfile" 7<"$T/fdfile" 9>"$T/status" </dev/null >"$T/fd.out" 2>"$T/fd.err"
STATUS=$?
assert_status 0 "run with extra fds"
assert_eq "0,1,2" "$(kv "$T/fd.out" fds)" "the init's fds (3, 7 and the status fd 9 were open in fwrun)"
assert_match '"event":"started"' "$(cat "$T/status")" "--status-fd still written"

# --- environment --------------------------------------------------------------
FWT_SECRET=leak LD_PRELOAD= HOME=/root \
	"$FWRUN" --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-env" --setenv FOO=bar --setenv 'SP=a b=c' \
	--setenv PATH=/bin:/sbin -- /sbin/boxinit report </dev/null >"$T/env.out" 2>"$T/env.err"
assert_eq 0 "$?" "run with --setenv"
envs=$(grep '^env\.' "$T/env.out" | grep -v '^env\.container_uuid=' | LC_ALL=C sort | tr '\n' ' ')
assert_match '^env\.container_uuid=[0-9a-f-]{36}$' "$(grep '^env\.container_uuid=' "$T/env.out")" \
	"container_uuid (systemd's container interface)"
assert_eq "env.FOO=bar env.PATH=/bin:/sbin env.SP=a b=c env.container=fwrun " "$envs" \
	"the init's whole environment"
"$FWRUN" --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-env2" -- /sbin/boxinit report \
	</dev/null >"$T/env2.out" 2>&1
envs=$(grep '^env\.' "$T/env2.out" | grep -v '^env\.container_uuid=' | LC_ALL=C sort | tr '\n' ' ')
assert_eq "env.PATH=/sbin:/system/bin:/system/xbin:/bin:/usr/sbin:/usr/bin env.container=fwrun " \
	"$envs" "the default environment"
run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-envd" --setenv FOO=bar --dry-run
assert_match '^env: +PATH=/sbin:/system/bin:/system/xbin:/bin:/usr/sbin:/usr/bin container=fwrun FOO=bar ' \
	"$OUT" "--dry-run shows the init's environment"
for bad in NOEQUALS =v 1X=v 'A B=v' "A${IFS:0:1}=v"; do
	run_fwrun --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-eb" --setenv "$bad"
	assert_status 125 "--setenv '$bad'"
	assert_match "^fwrun: --setenv '" "$ERR" "--setenv '$bad': the line"
done

# --- symlinks planted in the state dir ---------------------------------------
mkdir -p "$T/outside" "$T/st"
run_fwrun --rootfs "$T/fw.ext2" --name "$PFX-st" --state-dir "$T/st" -- /sbin/boxinit exit 0
assert_status 0 "first run on the state dir"
rm -f "$T/st/rootfs"
ln -s "$T/outside/victim1" "$T/st/rootfs"
ln -s "$T/outside/victim2" "$T/st/rootfs.tmp"
run_fwrun --rootfs "$T/fw.ext2" --name "$PFX-st" --state-dir "$T/st" -- /sbin/boxinit exit 0
assert_status 0 "symlinks as rootfs and rootfs.tmp in the state dir: harmless"
assert_eq 0 "$(find "$T/outside" -mindepth 1 | wc -l)" "nothing written through them"
for what in upper work lock; do
	mkdir -p "$T/st-$what"
	ln -s "$T/outside" "$T/st-$what/$what"
	run_fwrun --rootfs "$T/fw.ext2" --name "$PFX-$what" --state-dir "$T/st-$what" -- /sbin/boxinit exit 0
	assert_status 125 "$what planted as a symlink"
	assert_match "st-$what/$what'.*(symbolic link|symlink)" "$ERR" "$what symlink: the line"
done
assert_eq 0 "$(find "$T/outside" -mindepth 1 | wc -l)" "nothing written through the state symlinks"

# --- symlinks planted in the runtime dirs (private mount namespace) ----------
planted() {	# LABEL SETUP-SHELL-CODE -- FWRUN-ARGS...
	local label=$1 setup=$2
	shift 3
	FWT_LAST_CMD="[$label] fwrun $*"
	unshare -m --propagation private bash -c '
		mount -t tmpfs fwt-run /run || exit 99
		eval "$1" || exit 98
		shift
		exec "$@"' _ "$setup" "$FWRUN" "$@" </dev/null >"$T/pl.out" 2>"$T/pl.err"
	STATUS=$?
	OUT=$(cat "$T/pl.out")
	ERR=$(cat "$T/pl.err")
}
for case in "fwrun" "fwrun/mnt" "fwrun/net"; do
	setup="mkdir -p /run/fwrun && rm -rf /run/$case && ln -s $T/outside /run/$case"
	planted "$case" "$setup" -- --rootfs "$T/fw.ext2" --ephemeral --name "$PFX-rl" -- /sbin/boxinit exit 0
	assert_status 125 "/run/$case planted as a symlink"
	assert_match "^fwrun: use directory '/run/$case': .*symlink" "$ERR" "/run/$case: the line"
	assert_eq 1 "$(printf '%s\n' "$ERR" | grep -c .)" "/run/$case: one line"
	assert_eq 0 "$(find "$T/outside" -mindepth 1 | wc -l)" "/run/$case: nothing made through it"
done
planted "net-record" "mkdir -p -m 0700 /run/fwrun/net && ln -s $T/outside/rec /run/fwrun/net/if-${PFX}p" -- \
	--rootfs "$T/fw.ext2" --ephemeral --name "$PFX-nrec" --tap "${PFX}p" -- /sbin/boxinit exit 0
assert_status 125 "an interface record planted as a symlink"
assert_match "/run/fwrun/net.*(symbolic links|symlink)" "$ERR" "record symlink: the line"
planted "world-writable" "mkdir -p -m 0777 /run/fwrun && chmod 0777 /run/fwrun" -- \
	--rootfs "$T/fw.ext2" --ephemeral --name "$PFX-ww" -- /sbin/boxinit exit 0
assert_status 125 "/run/fwrun writable by others"
assert_match "^fwrun: use directory '/run/fwrun': .*mode 0777" "$ERR" "/run/fwrun 0777: the line"
assert_eq 0 "$(find "$T/outside" -mindepth 1 | wc -l)" "nothing made through the runtime symlinks"
ip link del "${PFX}p" 2>/dev/null

assert_eq "$sum" "$(sha_of "$T/fw.ext2")" "image sha256 at the end"
host_unchanged "$T/host.before" "at the end"
