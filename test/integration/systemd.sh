# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The systemd firmware of the tests (issue 16), sourced by lib.sh and by
# test/vm/run. The sourcing script provides need_cmd, skip (exit 77 with
# the reason on stdout) and $T (a scratch directory).
#   systemd_rootfs        a debootstrapped Debian 12 tree with systemd, cached;
#                         prints its path
#   systemd_image TREE    TREE as an ext4 image, cached; prints its path
# Both are cached in $FWT_CACHE (/var/cache/fwrun-test) and keyed by their
# inputs; building them needs root.

FWT_CACHE=${FWT_CACHE:-/var/cache/fwrun-test}

# systemd_rootfs: a Debian 12 tree (debootstrap minbase + systemd) made once
# and cached in $FWT_CACHE/systemd-KEY, KEY a hash of everything that goes
# into it (this function's text, the suite, the mirror, the packages);
# prints the path. Built in a temporary directory, renamed when complete.
# Its fwt-poweroff.target boots to multi-user.target, says what
# systemd-detect-virt says, then runs `systemctl poweroff`.
FWT_SYSTEMD_SUITE=${FWT_SYSTEMD_SUITE:-bookworm}
FWT_DEBIAN_MIRROR=${FWT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
systemd_rootfs() {
	local key dir tmp
	key=$( { declare -f systemd_rootfs; echo "$FWT_SYSTEMD_SUITE $FWT_DEBIAN_MIRROR"; } |
		sha256sum | cut -c1-16)
	dir=$FWT_CACHE/systemd-$key
	if [ -x "$dir/lib/systemd/systemd" ]; then
		echo "$dir"
		return 0
	fi
	need_cmd debootstrap
	mkdir -p "$FWT_CACHE" || skip "cannot create $FWT_CACHE"
	tmp=$(mktemp -d "$FWT_CACHE/.systemd-$key.XXXXXX")
	if ! debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus \
		"$FWT_SYSTEMD_SUITE" "$tmp" "$FWT_DEBIAN_MIRROR" >"$T/debootstrap.log" 2>&1; then
		rm -rf --one-file-system "$tmp"
		skip "debootstrap of $FWT_SYSTEMD_SUITE failed: $(tail -n 3 "$T/debootstrap.log" | tr '\n' ' ')"
	fi
	: >"$tmp/etc/machine-id"
	echo fwt-systemd >"$tmp/etc/hostname"
	cat >"$tmp/etc/systemd/system/fwt-poweroff.service" <<'UNIT'
[Unit]
Description=fwrun test: report, then power off
After=multi-user.target
[Service]
Type=oneshot
StandardOutput=journal+console
ExecStart=/bin/sh -c 'echo "fwt: detect-virt=$(systemd-detect-virt)"; echo "fwt: machine-id=$(cat /etc/machine-id)"'
ExecStart=/bin/systemctl --no-block poweroff
UNIT
	cat >"$tmp/etc/systemd/system/fwt-poweroff.target" <<'UNIT'
[Unit]
Description=fwrun test: multi-user, then power off
Requires=multi-user.target fwt-poweroff.service
After=multi-user.target fwt-poweroff.service
UNIT
	rm -rf "$tmp/var/cache/apt/archives/"*.deb
	mv -T "$tmp" "$dir" 2>/dev/null || rm -rf --one-file-system "$tmp"	# another run won
	echo "$dir"
}

# systemd_image TREE: TREE (systemd_rootfs's) as an ext4 image, for a
# firmware that comes as a disk (test/vm passes it to its guest as a
# read-only virtio disk). Made once per tree and cached as
# $FWT_CACHE/systemd-KEY.ext4, KEY a hash of the tree's name (which holds
# its own key) and of this function's text; an image of another key is
# removed. Built under a temporary name, renamed when complete. No journal:
# it is only ever mounted read-only. mke2fs gives the image's root 0755
# (the tree's is 0700, made by mktemp).
systemd_image() {
	local tree=$1 key img tmp kib old
	[ -x "$tree/lib/systemd/systemd" ] || skip "systemd_image: no systemd in '$tree'"
	key=$( { declare -f systemd_image; echo "${tree##*/}"; } | sha256sum | cut -c1-16)
	img=$FWT_CACHE/systemd-$key.ext4
	if [ -s "$img" ]; then
		echo "$img"
		return 0
	fi
	need_cmd mke2fs
	[ "$(id -u)" = 0 ] || skip "making $img needs root (the tree holds root-only files)"
	kib=$(du -sk "$tree" | cut -f1)
	tmp=$(mktemp "$FWT_CACHE/.systemd-$key.XXXXXX")
	if ! mke2fs -q -F -t ext4 -O ^has_journal -L fwt-systemd -E root_owner=0:0 -d "$tree" \
		"$tmp" "$((kib + kib / 4 + 32768))k" >"$T/mke2fs.log" 2>&1; then
		rm -f "$tmp"
		skip "mke2fs -d '$tree' failed: $(tail -n 3 "$T/mke2fs.log" | tr '\n' ' ')"
	fi
	chmod 0644 "$tmp"
	for old in "$FWT_CACHE"/systemd-*.ext4; do
		[ -f "$old" ] && [ "$old" != "$img" ] && rm -f "$old"
	done
	mv -f "$tmp" "$img"
	echo "$img"
}
