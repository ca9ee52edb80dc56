#!/bin/bash
# SPDX-License-Identifier: MIT
# fwt: no-root
# The long options `fwrun --help` lists are exactly those man/fwrun.8
# documents in its OPTIONS section(s), and the man page renders without
# warnings.
. "$(dirname "$0")/lib.sh"
need_fwrun

MAN=$REPO/man/fwrun.8
[ -f "$MAN" ] || die "man/fwrun.8 is missing"

"$FWRUN" --help >"$T/help" 2>"$T/help.err"
st=$?
assert_eq 0 "$st" "fwrun --help exit status"
[ -s "$T/help" ] || die "fwrun --help printed nothing on stdout"

# --help: option lines are indented and start with "-x, --long" or "--long";
# the option column ends at the first run of two spaces.
awk '/^[ \t]+-/ { sub(/^[ \t]+/, ""); split($0, col, /  +/); print col[1] }' "$T/help" |
	grep -oE -- '--[a-z][a-z0-9-]*' | LC_ALL=C sort -u >"$T/help.opts"

# man page: the tag line after each .TP (or .IP with a tag) inside sections
# whose title contains OPTIONS; troff escapes removed.
awk '
	/^\.SH/ { inopt = ($0 ~ /OPTIONS/); next }
	!inopt { next }
	tag { print; tag = 0; next }
	/^\.TP/ { tag = 1; next }
	/^\.IP / { print; next }
' "$MAN" | sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' |
	grep -oE -- '--[a-z][a-z0-9-]*' | LC_ALL=C sort -u >"$T/man.opts"

[ -s "$T/help.opts" ] || fail "no long options found in fwrun --help"
[ -s "$T/man.opts" ] || fail "no long options found in the OPTIONS section of man/fwrun.8"
if ! cmp -s "$T/help.opts" "$T/man.opts"; then
	fail "--help and man/fwrun.8 list different long options"
	echo "  only in --help:     $(comm -23 "$T/help.opts" "$T/man.opts" | tr '\n' ' ')"
	echo "  only in fwrun.8:    $(comm -13 "$T/help.opts" "$T/man.opts" | tr '\n' ' ')"
fi

# Every long option --help lists is accepted by the parser (not "unrecognized").
while read -r opt; do
	"$FWRUN" "$opt" </dev/null >/dev/null 2>"$T/opt.err"
	if grep -qiE "unrecognized|unknown option" "$T/opt.err"; then
		fail "fwrun does not accept $opt, which --help lists: $(head -n 1 "$T/opt.err")"
	fi
done <"$T/help.opts"

# The man page renders cleanly.
if command -v man >/dev/null 2>&1; then
	warn=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$MAN" 2>&1 >/dev/null)
	assert_eq "" "$warn" "man --warnings on man/fwrun.8"
elif [ "${CI:-}" = true ]; then
	fail "man (man-db) is not installed: cannot check man/fwrun.8 renders"
fi
