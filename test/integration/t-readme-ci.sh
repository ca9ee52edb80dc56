#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's CI recipe runs as written: its GitLab CI script step (the
# fwrun command, taken from the README) boots a firmware whose init says
# "boot completed", in one step: status 0, the console in boot.log, the
# matched event in fwrun-events.json. Only the image path and ./fwrun are
# replaced with the test's. Then its GitHub Actions steps, parsed from the
# README as YAML and run as the runner would (gha.sh): the boot step and
# the upload pass, with the same files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gha.sh"
gha_need
st=$T/staging
mk_staging "$st"
cat >"$st/sbin/boxinit" <<'SH'
#!/bin/sh
echo "boxinit: args $*"
echo "<6>boxinit: starting services" >/dev/kmsg
echo "boot completed"
trap 'echo "boxinit: stopping"; exit 0' TERM
while :; do sleep 1; done
SH
chmod 0755 "$st/sbin/boxinit"
mkdir -p "$T/job/out"
mk_image ext2 "$T/job/out/drone.ext2" "$st"

# The script's fwrun lines (continuations joined), from the README.
cmd=$(awk '/^GitLab CI:/ { on = 1 } on && /^ *- \.\/fwrun/ { grab = 1 }
	   grab && /^ *(artifacts|after_script):/ { exit }
	   grab { sub(/^ *(- )?/, ""); printf "%s ", $0 }' "$REPO/README")
assert_match '^\./fwrun --rootfs out/drone\.ext2 .*--until .*--console-log boot\.log' "$cmd" \
	"the README's GitLab step is found"
cmd=${cmd//.\/fwrun/\"\$FWRUN\"}
cd "$T/job" || die "cd"
FWT_LAST_CMD=$cmd
timeout -k 3 60 bash -c "$cmd" </dev/null >"$T/job.out" 2>"$T/job.err"
STATUS=$?
OUT=$(cat "$T/job.out")
ERR=$(cat "$T/job.err")
assert_status 0 "the README's CI step"
assert_match '^boot completed$' "$OUT" "the boot in the job's log"
assert_match '^kmsg: boxinit: starting services$' "$OUT" "kmsg in the job's log"
assert_match '^boot completed$' "$(cat boot.log)" "boot.log (the artifact)"
assert_match '^boxinit: stopping$' "$(cat boot.log)" "the firmware stopped the usual way"
assert_eq "boot completed" "$(jq -r 'select(.event == "matched") | .line' fwrun-events.json)" \
	"fwrun-events.json (the artifact): matched"
assert_eq "matched 0" "$(jq -r 'select(.event == "exited") | "\(.reason) \(.status)"' fwrun-events.json)" \
	"fwrun-events.json: exited"
cd /

gha_steps "- name: Boot the firmware until it is up (10 minutes at most)" "$T/steps" ||
	die "the README's GitHub Actions recipe is not found or not YAML"
assert_eq "00 01" "$(ls "$T/steps" | tr '\n' ' ' | sed 's/ $//')" "the GitHub recipe's steps"
mkdir -p "$T/gh/out"
cp "$T/job/out/drone.ext2" "$T/gh/out/"
gha_run_job "$T/steps" "$T/gh"
assert_eq "0 0" "$(gha_statuses "$T/gh")" "GitHub: the boot step and the upload pass" ||
	gha_show "$T/gh"
assert_match '^boot completed$' "$(cat "$T/gh/log.00")" "GitHub: the boot in the step's log"
assert_match '^boot completed$' "$(cat "$T/gh/boot.log")" "GitHub: boot.log (the artifact)"
assert_eq "matched 0" "$(jq -r 'select(.event == "exited") | "\(.reason) \(.status)"' "$T/gh/fwrun-events.json")" \
	"GitHub: fwrun-events.json"
exit "$FWT_FAILS"
