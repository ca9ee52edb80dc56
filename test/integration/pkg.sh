# SPDX-License-Identifier: MIT
# Sourced by t-pkg-*.sh after lib.sh: the Debian package under test.
#   DEB_DIR               where make deb leaves it ($B/deb)
#   pkg_version           the version, from debian/changelog's top entry
#   pkg_build             make deb, now (the log's tail on failure)
#   pkg_deb               the .deb's path; built first unless one is newer
#                         than every file of the tree

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
			-path "$REPO/build-*" -o -path "$B" \) -prune -o \
			-type f -newer "$deb" -print -quit)
		[ -z "$newer" ] && { echo "$deb"; return 0; }
		log "$newer is newer than $deb: make deb"
	fi
	pkg_build >&2
	deb=$(ls "$DEB_DIR"/fwrun_*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || die "make deb left no fwrun_*.deb in $DEB_DIR"
	echo "$deb"
}
