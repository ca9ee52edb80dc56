# SPDX-License-Identifier: MIT
# Sourced by t-pkg-*.sh after lib.sh: the Debian package under test.
#   DEB_DIR               where make deb leaves it ($B/deb)
#   pkg_version           the version, from debian/changelog's top entry
#   pkg_build             make deb, now (the log's tail on failure)
#   pkg_deb               the .deb's path; built first unless one is newer
#                         than every file of the tree
#   pkg_rootfs DEB        a cached Debian 12 root to install DEB in (below)

DEB_DIR=$B/deb

pkg_version() {
	sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$REPO/debian/changelog"
}

pkg_build() {
	need_cmd dpkg-buildpackage dh dpkg-deb
	make -s -C "$REPO" B="$B" deb >"$T/mkdeb.log" 2>&1 && return 0
	tail -n 40 "$T/mkdeb.log" | sed 's/^/    | /'
	die "make deb failed"
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

# pkg_rootfs DEB: prints the path of a Debian 12 root (debootstrap
# --variant=minbase) holding DEB's Depends and Recommends, so that apt can
# install DEB without network, and iproute2. Cached in $FWT_CACHE
# (/var/cache/fwrun-test), keyed by the suite, the variant and that package
# list: a package that gains a dependency gets a new root, and only the
# current one is kept. Read-only to its users (an overlay's lower dir).
# The first debootstrap takes minutes (downloads from the Debian mirror).
FWT_CACHE=${FWT_CACHE:-/var/cache/fwrun-test}
FWT_SUITE=bookworm
FWT_DEBIAN_MIRROR=${FWT_DEBIAN_MIRROR:-http://deb.debian.org/debian}

pkg_rootfs() {
	local deb=$1 pkgs key rootfs tmp old t0
	need_cmd debootstrap flock
	pkgs=$( { dpkg-deb -f "$deb" Depends; echo ,; dpkg-deb -f "$deb" Recommends; } |
		tr ',|' '\n\n' | sed -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' |
		grep -v '^$'; echo iproute2)
	pkgs=$(printf '%s\n' $pkgs | LC_ALL=C sort -u | paste -sd, -)
	key=$(printf 'suite=%s\nvariant=minbase\ninclude=%s\n' "$FWT_SUITE" "$pkgs" |
		sha256sum | cut -c1-16)
	rootfs=$FWT_CACHE/debootstrap-$FWT_SUITE-$key
	mkdir -p "$FWT_CACHE" || die "cannot create $FWT_CACHE"
	exec 8>"$FWT_CACHE/.lock"
	flock 8
	if [ ! -x "$rootfs/usr/bin/apt-get" ]; then
		log "no cached root for $FWT_SUITE + $pkgs: debootstrap (minutes, once)"
		t0=$(date +%s)
		tmp=$FWT_CACHE/.new-$key
		rm -rf --one-file-system "$tmp"
		if ! debootstrap --variant=minbase --include="$pkgs" "$FWT_SUITE" "$tmp" \
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
		for old in "$FWT_CACHE"/debootstrap-*; do
			[ -d "$old" ] && [ "$old" != "$rootfs" ] && rm -rf --one-file-system "$old"
		done
		mv "$tmp" "$rootfs"
		log "debootstrap: $(( $(date +%s) - t0 )) s, $(du -sm "$rootfs" | cut -f1) MiB in $rootfs"
	fi
	exec 8>&-
	echo "$rootfs"
}
