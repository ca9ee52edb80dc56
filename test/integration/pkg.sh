# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Sourced by t-pkg-*.sh after lib.sh: the Debian package under test.
#   DEB_DIR               where make deb leaves it ($B/deb)
#   pkg_version           the version, from debian/changelog's top entry
#   pkg_build             make deb, now, in a fresh Debian 12 root that
#                         holds only build-essential and the Build-Depends
#                         (no network): the .deb lands in $DEB_DIR
#   pkg_deb               the .deb's path; built first unless one is newer
#                         than every file of the tree
#   pkg_run_root DEB      a fresh Debian 12 root to install DEB in
#   pkg_root ...          the cache of those roots (below)

DEB_DIR=$B/deb

pkg_version() {
	sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$REPO/debian/changelog"
}

pkg_build() {
	local root deps
	need_cmd unshare chroot dpkg-deb
	# debhelper-compat is debhelper's; build profiles and versions go.
	deps=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") }
		on && /^[^ \t]/ && !/^Build-Depends:/ { on = 0 }
		on' "$REPO/debian/control" | tr ',' '\n' |
		sed -e 's/<[^>]*>//g' -e 's/(.*)//' -e 's/[[:space:]]//g' \
			-e 's/^debhelper-compat$/debhelper/' | grep -v '^$')
	root=$(pkg_root buildd build $deps) || exit 1
	log "make deb in $root (+ an overlay), no network"
	mkdir -p "$T/b/upper" "$T/b/work" "$T/b/root" "$B"
	ROOT=$root BR=$T/b SRC=$REPO OUT=$B timeout -k 5 900 \
		unshare --mount --pid --net --uts --ipc --fork --kill-child --propagation private \
		sh -ec '
		r=$BR/root
		mount -t overlay overlay -o lowerdir=$ROOT,upperdir=$BR/upper,workdir=$BR/work $r
		mount -t proc proc $r/proc
		mount --rbind /dev $r/dev
		mkdir -p $r/src $r/out
		mount --bind $SRC $r/src
		mount -o remount,bind,ro $r/src
		mount --bind $OUT $r/out
		exec chroot $r env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
			sh -c "cd /src && make -s deb B=/out"' >"$T/mkdeb.log" 2>&1 && return 0
	tail -n 40 "$T/mkdeb.log" | sed 's/^/    | /'
	die "make deb in a fresh Debian 12 root failed"
}

pkg_deb() {
	local deb newer
	deb=$(ls "$DEB_DIR"/fwrun_*.deb 2>/dev/null | head -n 1)
	if [ -n "$deb" ]; then
		newer=$(find "$REPO" \( -path "$REPO/.git" -o -path "$REPO/build" -o \
			-path "$REPO/build-*" -o -path "$B" -o -path "$REPO/test/integration" \) \
			-prune -o \
			-type f -newer "$deb" -print -quit)
		[ -z "$newer" ] && { echo "$deb"; return 0; }
		log "$newer is newer than $deb: make deb"
	fi
	pkg_build >&2
	deb=$(ls "$DEB_DIR"/fwrun_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || die "make deb left no fwrun_*.deb in $DEB_DIR"
	echo "$deb"
}

# pkg_run_root DEB: a root holding DEB's Depends and Recommends, so that apt
# can install DEB without network, and iproute2 for the checks.
pkg_run_root() {
	local pkgs
	pkgs=$( { dpkg-deb -f "$1" Depends; echo ,; dpkg-deb -f "$1" Recommends; } |
		tr ',|' '\n\n' | sed -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' |
		grep -v '^$')
	pkg_root minbase run $pkgs iproute2
}

# pkg_root VARIANT NAME PKG...: prints the path of a Debian 12 root
# (debootstrap --variant=VARIANT --include=PKG,...), cached in $FWT_CACHE
# (/var/cache/fwrun-test) and keyed by the suite, the variant and the
# package list: a package list that changes gets a new root, and only the
# current one of each NAME is kept. Read-only to its users (an overlay's
# lower dir). The first debootstrap takes minutes (the Debian mirror).
FWT_CACHE=${FWT_CACHE:-/var/cache/fwrun-test}
FWT_SUITE=bookworm
FWT_DEBIAN_MIRROR=${FWT_DEBIAN_MIRROR:-http://deb.debian.org/debian}

pkg_root() {
	local variant=$1 name=$2 pkgs key rootfs tmp old t0
	shift 2
	need_cmd debootstrap flock
	pkgs=$(printf '%s\n' "$@" | LC_ALL=C sort -u | paste -sd, -)
	key=$(printf 'suite=%s\nvariant=%s\ninclude=%s\n' "$FWT_SUITE" "$variant" "$pkgs" |
		sha256sum | cut -c1-16)
	rootfs=$FWT_CACHE/$name-$FWT_SUITE-$key
	mkdir -p "$FWT_CACHE" || die "cannot create $FWT_CACHE"
	exec 8>"$FWT_CACHE/.lock"
	flock 8
	if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
		log "no cached $name root ($FWT_SUITE, $variant, $pkgs): debootstrap (minutes, once)"
		t0=$(date +%s)
		tmp=$FWT_CACHE/.new-$key
		rm -rf --one-file-system "$tmp"
		if ! debootstrap --variant="$variant" --include="$pkgs" "$FWT_SUITE" "$tmp" \
			"$FWT_DEBIAN_MIRROR" >"$T/debootstrap.log" 2>&1; then
			tail -n 20 "$T/debootstrap.log" | sed 's/^/    | /' >&2
			# debootstrap may leave its /proc or /sys mounted on failure.
			awk -v t="$tmp" 'index($2, t) == 1 { print $2 }' /proc/self/mounts |
				sort -r | while read -r m; do umount -l "$m"; done
			rm -rf --one-file-system "$tmp"
			exec 8>&-
			die "debootstrap $FWT_SUITE failed"
		fi
		rm -f "$tmp"/var/cache/apt/archives/*.deb
		for old in "$FWT_CACHE/$name-"*; do
			[ -d "$old" ] && [ "$old" != "$rootfs" ] && rm -rf --one-file-system "$old"
		done
		mv "$tmp" "$rootfs"
		log "debootstrap: $(( $(date +%s) - t0 )) s, $(du -sm "$rootfs" | cut -f1) MiB in $rootfs"
	fi
	exec 8>&-
	echo "$rootfs"
}
