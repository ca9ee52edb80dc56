#!/bin/bash
# SPDX-License-Identifier: MIT
# make deb builds fwrun_VERSION_ARCH.deb on a fresh Debian 12 (issue 17):
# in a cached debootstrap root holding build-essential and the
# Build-Depends only, without network (pkg.sh). lintian finds no error
# and no warning (overrides carry their reasons); the package holds the
# binary, fwrun(8), the bash completion and the AppArmor profile, which is
# exactly what the packaged binary's --print-profile prints; Depends come
# from shlibs; one version everywhere: debian/changelog, the package,
# fwrun --version (packaged and built here), the installed man page and the
# profile's header.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pkg.sh"
need_root
need_fwrun
need_cmd lintian apparmor_parser

version=$(pkg_version)
[ -n "$version" ] || die "no version in debian/changelog"
t0=$(date +%s)
pkg_build
deb=$(ls "$DEB_DIR"/fwrun_"$version"_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "make deb left no fwrun_${version}_*.deb in $DEB_DIR: $(ls "$DEB_DIR")"
log "make deb: $(basename "$deb") in $(( $(date +%s) - t0 )) s"

# lintian on the .changes (the .deb and the .buildinfo), as a Debian
# developer would before an upload; --fail-on: errors and warnings.
lintian --fail-on error,warning --display-info --pedantic --show-overrides \
	"$DEB_DIR"/fwrun_"$version"_*.changes >"$T/lintian" 2>"$T/lintian.err"
st=$?
sed 's/^/  lintian: /' "$T/lintian"
assert_eq 0 "$st" "lintian's status (errors or warnings?)"
assert_nomatch '^[EW]: ' "$(cat "$T/lintian")" "lintian errors or warnings"

# The file list.
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/files"
sed 's/^/  file: /' "$T/files"
for f in /usr/sbin/fwrun /usr/share/man/man8/fwrun.8.gz \
	/usr/share/bash-completion/completions/fwrun /etc/apparmor.d/fwrun \
	/usr/share/doc/fwrun/copyright; do
	grep -qxF "$f" "$T/files" || fail "the package lacks $f"
done
dpkg-deb -f "$deb" Package Version Depends Recommends Suggests >"$T/control"
assert_eq "$version" "$(dpkg-deb -f "$deb" Version)" "the package's version"
assert_match 'libapparmor1' "$(dpkg-deb -f "$deb" Depends)" "Depends (from shlibs)"
assert_match 'libcap-ng0' "$(dpkg-deb -f "$deb" Depends)" "Depends (from shlibs)"
assert_match '(^|, )apparmor($|,)' "$(dpkg-deb -f "$deb" Recommends)" "Recommends"
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles >"$T/conffiles"
assert_match '^/etc/apparmor.d/fwrun$' "$(cat "$T/conffiles")" "conffiles"

mkdir -p "$T/root"
dpkg-deb -x "$deb" "$T/root"
bin=$T/root/usr/sbin/fwrun
[ -x "$bin" ] || die "no executable /usr/sbin/fwrun in the package"

# The profile is the binary's own text, and the built tree's.
"$bin" --print-profile >"$T/profile.bin" || fail "packaged fwrun --print-profile failed"
cmp -s "$T/profile.bin" "$T/root/etc/apparmor.d/fwrun" ||
	fail "/etc/apparmor.d/fwrun differs from the packaged fwrun --print-profile: $(diff "$T/profile.bin" "$T/root/etc/apparmor.d/fwrun" | head -n 5)"
"$FWRUN" --print-profile >"$T/profile.tree"
cmp -s "$T/profile.tree" "$T/root/etc/apparmor.d/fwrun" ||
	fail "/etc/apparmor.d/fwrun differs from $FWRUN --print-profile"
# apparmor.service can load it: it parses (-Q: no kernel needed).
apparmor_parser -Q -K "$T/root/etc/apparmor.d/fwrun" >"$T/parser" 2>&1 ||
	fail "apparmor_parser -Q rejects /etc/apparmor.d/fwrun: $(grep -v 'Cache read/write' "$T/parser" | head -n 3)"

# One version everywhere.
assert_eq "fwrun $version" "$("$bin" --version)" "packaged fwrun --version"
assert_eq "fwrun $version" "$("$FWRUN" --version)" "$FWRUN --version"
th=$(zcat "$T/root/usr/share/man/man8/fwrun.8.gz" | grep -m1 '^\.TH')
assert_match "\"fwrun $version\"" "$th" "the installed man page's .TH"
assert_match "\(fwrun $version;" "$(head -n 1 "$T/root/etc/apparmor.d/fwrun")" "the profile's header"
