# SPDX-License-Identifier: MIT
# Sourced by the t-readme-ci*.sh tests after lib.sh: a README's GitHub
# Actions steps, run as the runner runs them.
#   gha_steps FIRST DIR   the YAML list of steps (4-space indented in the
#                         README) whose first line is "    FIRST", parsed as
#                         YAML into DIR/00, DIR/01...: files name, if, run,
#                         uses, path (with: path:); fails if not found
#   gha_run_job STEPS DIR each step in DIR (the job's directory) as the
#                         runner would: a `run` in its own `bash -e` (lines
#                         "make" left out: DIR/fwrun is the fwrun under
#                         test), skipped after a failure unless
#                         `if: always()`, an upload checking its paths are
#                         files the runner's user can read. Step N's status
#                         in DIR/status.N ("skipped"), its output DIR/log.N
#   gha_statuses DIR      the steps' statuses on one line
#   gha_show DIR          every step's output, for a failure
#   gha_need              what every such test needs (root, fwrun, the
#                         runner's tools, busybox for the image's /bin/sh)

gha_need() {
	need_root
	need_fwrun
	need_cmd jq sudo python3 timeout
	[ -x /bin/busybox ] || skip "needs busybox-static for the image's /bin/sh"
}

gha_steps() {
	python3 -c 'import yaml' 2>/dev/null || skip "needs python3's yaml module (python3-yaml)"
	python3 - "$REPO/README" "$1" "$2" <<'PY'
import os, sys, yaml
lines = open(sys.argv[1]).read().split("\n")
first = lines.index("    " + sys.argv[2])
block = []
for l in lines[first:]:
    if l and not l.startswith("    "):
        break
    block.append(l[4:])
for i, s in enumerate(yaml.safe_load("\n".join(block))):
    d = os.path.join(sys.argv[3], "%02d" % i)
    os.makedirs(d)
    for k in ("name", "if", "run", "uses"):
        if k in s:
            open(os.path.join(d, k), "w").write(str(s[k]))
    if "with" in s:
        open(os.path.join(d, "path"), "w").write(s["with"]["path"])
PY
}

gha_run_job() {
	local steps=$1 dir=$2 s i failed=0 cond p st
	ln -s "$FWRUN" "$dir/fwrun"
	for s in "$steps"/*; do
		i=$(basename "$s")
		cond=$(cat "$s/if" 2>/dev/null)
		if [ "$failed" = 1 ] && [ "$cond" != "always()" ]; then
			echo skipped >"$dir/status.$i"
			continue
		fi
		if [ -e "$s/run" ]; then
			grep -v '^make$' "$s/run" >"$dir/step.$i"
			(cd "$dir" && timeout -k 5 120 bash -e "step.$i") </dev/null >"$dir/log.$i" 2>&1
			echo $? >"$dir/status.$i"
		else
			st=0
			while IFS= read -r p; do
				[ -n "$p" ] || continue
				if [ -f "$dir/$p" ] && [ "$(stat -c %A "$dir/$p" | cut -c8)" = r ]; then
					echo "upload $p" >>"$dir/log.$i"
				else
					echo "missing or unreadable: $p" >>"$dir/log.$i"
					st=1
				fi
			done <"$s/path"
			echo $st >"$dir/status.$i"
		fi
		[ "$(cat "$dir/status.$i")" = 0 ] || failed=1
	done
}

gha_statuses() { cat "$1"/status.* | tr '\n' ' ' | sed 's/ $//'; }

gha_show() { local f; for f in "$1"/log.*; do echo "  $f:"; sed 's/^/    | /' "$f"; done; }
