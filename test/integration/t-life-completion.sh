#!/bin/bash
# SPDX-License-Identifier: MIT
# fwt: no-root
# Bash completion: every long option of --help is offered, option values
# complete, and nothing is offered among the init's own arguments.
. "$(dirname "$0")/lib.sh"
need_fwrun
bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || skip "needs the bash-completion package"

complete_words() {	# WORD... (the last one is the word being completed)
	bash --norc --noprofile -c '
		. "$1" 2>/dev/null; . "$2"
		shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_fwrun fwrun "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$bc" "$REPO/completions/fwrun.bash" "$@"
}

offered=$(complete_words fwrun --)
for opt in $("$FWRUN" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
	grep -qx -- "$opt" <<<"$offered" || fail "--help lists $opt but completion does not offer it"
done
assert_eq "--console --console-log" "$(complete_words fwrun --cons | tr '\n' ' ' | sed 's/ $//')" "option prefix"
assert_eq "--until" "$(complete_words fwrun --unt)" "option prefix, one match"
assert_eq "auto pipe pty read-only" "$(complete_words fwrun --console '' | tr '\n' ' ' | sed 's/ $//')" \
	"--console values"
assert_match '^TERM$' "$(complete_words fwrun --stop-signal T)" "--stop-signal values"
assert_eq "" "$(complete_words fwrun --rootfs x.ext2 /sbin/boxinit --)" \
	"nothing among the init's arguments"
