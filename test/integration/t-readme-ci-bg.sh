#!/bin/bash
# SPDX-License-Identifier: MIT
# The README's second CI recipe runs as written: its GitHub Actions steps,
# parsed from the README as YAML, each run as the runner runs a step (its
# own `bash -e`, in the job's directory, the firmware left running between
# steps; a step without `if: always()` skipped after a failure, an upload
# step checking its paths are there for the artifact). A firmware that
# boots: every step passes, --enter runs the checks, --stop ends it, and
# the console log and the events are left for the artifact. A firmware
# that ends before "boot completed": the boot step fails at once, not after
# its 10 minutes, and the artifact is still there. Only `make` is left out
# (./fwrun is a link to the fwrun under test).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gha.sh"
gha_need
host_snapshot "$T/host.before"

gha_steps "- name: Boot the firmware in the background" "$T/steps" ||
	die "the README's background recipe is not found or not YAML"
assert_eq 4 "$(ls "$T/steps" | wc -l)" "the recipe's steps"
assert_match '--enter drone' "$(cat "$T"/steps/*/run)" "a step checks with --enter"
assert_match '--stop drone' "$(cat "$T"/steps/*/run)" "a step stops with --stop"
assert_eq actions/upload-artifact@v4 "$(cat "$T/steps/03/uses" 2>/dev/null)" "the last step uploads"

# A firmware with the recipe's checks: boxinit says "boot completed" (or,
# with BOOT=fail, exits first), /usr/bin/selftest checks the init's argv.
st=$T/staging
mk_staging "$st"
mkdir -p "$st/usr/bin"
ln -s busybox "$st/bin/cat"	# a firmware has its cat
echo 1.2.3 >"$st/data/version"
cat >"$st/sbin/boxinit" <<'SH'
#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "boxinit: args $*"
[ -e /etc/fail ] && { echo "boxinit: cannot start services"; exit 3; }
echo "boot completed"
trap 'echo "boxinit: stopping"; exit 0' TERM
while :; do /bin/busybox sleep 1; done
SH
cat >"$st/usr/bin/selftest" <<'SH'
#!/bin/sh
/bin/busybox grep -q ro.ci=1 /proc/1/cmdline || { echo "selftest: no ro.ci=1"; exit 1; }
echo "selftest: ok"
SH
chmod 0755 "$st/sbin/boxinit" "$st/usr/bin/selftest"
mkdir -p "$T/job/out" "$T/fail/out"
mk_image ext2 "$T/job/out/drone.ext2" "$st"
echo yes >"$st/etc/fail"
mk_image ext2 "$T/fail/out/drone.ext2" "$st"

# kill_left PIDFILE: the recipe's background fwrun, if a failure left it
# running (still the fwrun under test: a pid is not reused for another).
kill_left() {
	local p
	p=$(cat "$1" 2>/dev/null) || return 0
	[ -n "$p" ] && [ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$FWRUN")" ] &&
		kill -KILL "$p" 2>/dev/null
	return 0
}

# --- the firmware boots ---------------------------------------------------------
t0=$(date +%s)
at_exit "kill_left '$T/job/fwrun.pid'"
gha_run_job "$T/steps" "$T/job"
assert_eq "0 0 0 0" "$(gha_statuses "$T/job")" "every step passes" || gha_show "$T/job"
assert_match '^drone pid=[0-9]+ .*rootfs=.*/out/drone\.ext2$' "$(cat "$T/job/log.01")" "--list shows it"
assert_match '^selftest: ok$' "$(cat "$T/job/log.01")" "--enter ran the check"
assert_eq 1.2.3 "$(cat "$T/job/version.txt" 2>/dev/null)" "--enter's output in a file"
cd "$T/job" || die "cd"
assert_match '^boot completed$' "$(cat boot.log)" "boot.log (the artifact): the boot"
assert_match '^boxinit: stopping$' "$(cat boot.log)" "boot.log: stopped as SIGTERM would"
assert_eq "0" "$(jq -r 'select(.event == "exited") | .status' fwrun-events.json)" \
	"fwrun-events.json: the firmware's status"
assert_eq "" "$("$FWRUN" --list | grep '^drone ')" "--stop waited: no drone any more"
fwpid=$(cat fwrun.pid)
alive "$fwpid" && fail "fwrun ($fwpid) still runs after the stop step"
cd /

# --- the firmware ends before it is up ---------------------------------------------
t1=$(date +%s)
at_exit "kill_left '$T/fail/fwrun.pid'"
gha_run_job "$T/steps" "$T/fail"
assert_eq "1 skipped 125 0" "$(gha_statuses "$T/fail")" \
	"ends first: boot fails, checks skipped, stop fails, upload runs" || gha_show "$T/fail"
[ $(( $(date +%s) - t1 )) -lt 30 ] || fail "the boot step waited $(( $(date +%s) - t1 )) s for a firmware that had ended"
assert_match 'not running' "$(cat "$T/fail/log.02")" "--stop says it"
assert_match '^boxinit: cannot start services$' "$(cat "$T/fail/boot.log")" "boot.log says why"
assert_eq "3" "$(jq -r 'select(.event == "exited") | .status' "$T/fail/fwrun-events.json")" \
	"fwrun-events.json: how it ended"
log "both jobs in $(( $(date +%s) - t0 )) s"
host_unchanged "$T/host.before"
exit "$FWT_FAILS"
