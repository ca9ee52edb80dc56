#!/bin/bash
# SPDX-License-Identifier: MIT
# SIGKILL of fwrun at random points of setup and run, many times over.
#
# Each trial starts fwrun, sleeps a random delay (most trials inside the
# setup, whose steps -v times at ~10-150 ms on a loaded machine; the rest in
# the run), kills fwrun with SIGKILL and checks:
#   - every process carrying the trial's marker (fwrun with its setup thread, the
#     firmware's init) is gone within a second,
#   - nothing of ours is mounted, no loop device backs a file of ours,
#   - the image's sha256 is unchanged,
#   - interfaces: a tap fwrun made is gone (or, if fwrun was killed before
#     it moved the tap in, the next run with it deletes it at its exit); a
#     lent tap moved in was destroyed with the namespace, and the next run
#     with it says so (exit 125, "interface lost"); a --veth host end goes
#     with its peer.
#
# Reproduce: FWT_SEED=N (the seed is printed), FWT_TRIALS=N (default 200),
# FWT_PAR=N trials at a time (default 12).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
need_cmd mke2fs sha256sum
need_fs overlay

SEED=${FWT_SEED:-$(( $(date +%s%N) % 32768 ))}
TRIALS=${FWT_TRIALS:-200}
PAR=${FWT_PAR:-12}
RANDOM=$SEED
echo "$TEST_NAME: seed $SEED (FWT_SEED=$SEED to reproduce), $TRIALS trials, $PAR at a time"

mk_staging "$T/staging"
mke2fs -q -F -t ext2 -d "$T/staging" "$T/fw.ext2" 8M >/dev/null || die "mke2fs"
SUM=$(sha_of "$T/fw.ext2")
host_snapshot "$T/host.before"
at_exit "rm -f /run/fwrun/net/if-$PFX* /run/fwrun/net/if-fw-$PFX* /run/fwrun/instances/$PFX-*"
# the --veth subnet records of killed trials (a next run would take them
# over; there is none): each names its instance, and all of ours are gone
at_exit "grep -l -- ' $PFX-' /run/fwrun/net/veth-* 2>/dev/null | xargs -r rm -f"

# Alive processes whose command line holds the marker.
# Without forks where it can (the machine is loaded; 200 trials).
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
live() {	# PID: exists and is not a zombie
	local st
	read -r st <"/proc/$1/stat" 2>/dev/null || return 1
	st=${st##*) }
	st=${st%% *}
	[ "$st" != Z ] && [ "$st" != X ]
}
link_there() { [ -e "/sys/class/net/$1" ]; }

marked() {
	local p
	for p in $(pgrep -f -- "$1"); do
		live "$p" && echo "$p"
	done
}

# One trial, in the background: writes $T/r.$i (a verdict line per problem,
# "ok DELAY KIND GONE_MS" when all is well).
trial() {
	local i=$1 delay=$2 kind=$3 mark=fwtmark-$PFX-$i name=$PFX-$i
	local net=() pid left t0 ts gone_ms tap= res=$T/r.$i
	case $kind in
	tapmade) tap=${PFX}m$i; net=(--tap "$tap:eth1:10.99.$((i % 250)).1/24") ;;
	taplent) tap=${PFX}l$i; ip tuntap add "$tap" mode tap || { echo "bad: tuntap add" >"$res"; return; }
		 net=(--tap "$tap:eth1") ;;
	veth) net=(--veth) ;;
	esac
	local state=(--ephemeral)
	[ $((i % 8)) = 0 ] && state=(--state-dir "$T/st-$i")
	"$FWRUN" -q --rootfs "$T/fw.ext2" --name "$name" "${state[@]}" "${net[@]}" \
		-- /sbin/boxinit echo "$mark" ready sleep </dev/null >"$T/o.$i" 2>&1 &
	pid=$!
	sleep "$delay"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	# A failure: found alive by a look that began 1 s or more after the
	# kill (a look can itself take long on a loaded machine).
	t0=$(now_ms)
	while :; do
		ts=$(now_ms)
		left=$(marked "$mark")
		[ -z "$left" ] && break
		[ $((ts - t0)) -ge 1000 ] && break
		sleep 0.05
	done
	gone_ms=$((ts - t0))
	: >"$res"
	if [ -n "$left" ]; then
		echo "bad: trial $i ($kind, ${delay}s): processes alive 1 s after SIGKILL:$left" >>"$res"
		kill -KILL $left 2>/dev/null
	fi
	# Our mounts: none in the host namespace (all were in the child's).
	if grep -qF -- "$T" /proc/self/mounts; then
		echo "bad: trial $i: a mount under $T in the host namespace" >>"$res"
	fi
	case $kind in
	tapmade)
		# Killed between making the tap and moving it in: the tap stays on
		# the host; the next run with it must take it as its own again and
		# delete it at exit.
		if link_there "$tap"; then
			"$FWRUN" -q --rootfs "$T/fw.ext2" --name "$name-b" --ephemeral "${net[@]}" \
				-- /sbin/boxinit exit 0 </dev/null >"$T/o2.$i" 2>&1
			local st=$?
			[ $st = 0 ] || echo "bad: trial $i: rerun with left-over tap: status $st: $(cat "$T/o2.$i")" >>"$res"
			link_there "$tap" &&
				echo "bad: trial $i: tap $tap fwrun made is still there after the next run" >>"$res"
			ip link del "$tap" 2>/dev/null
			kind=tapmade-left
		fi ;;
	taplent)
		# Back on the host (killed before the move), or gone for good
		# (moved in: destroyed with the namespace, maybe still dying):
		# either way the next run knows which from the record.
		local rec before
		rec=$(cat "/run/fwrun/net/if-$tap" 2>/dev/null)
		before=$(ip -o link show "$tap" 2>&1 | cut -c1-80)
		"$FWRUN" -q --rootfs "$T/fw.ext2" --name "$name-b" --ephemeral "${net[@]}" \
			-- /sbin/boxinit exit 0 </dev/null >"$T/o2.$i" 2>&1
		local st=$?
		if link_there "$tap" && [ $st = 0 ]; then
			kind=taplent-back
		elif [ $st = 125 ] && grep -q "^fwrun: interface lost '$tap': .*killed while it had this tun" "$T/o2.$i" &&
			[ "$(grep -c '^fwrun:' "$T/o2.$i")" = 1 ]; then
			kind=taplent-lost
		else
			echo "bad: trial $i: lent tap after SIGKILL: rerun status $st: $(cat "$T/o2.$i") (record '$rec', link before: $before)" >>"$res"
		fi
		ip link del "$tap" 2>/dev/null ;;
	veth)
		local h=fw-$name
		for _ in $(seq 1 100); do
			link_there "$h" || break
			sleep 0.05
		done
		link_there "$h" && echo "bad: trial $i: veth host end $h left 5 s after SIGKILL" >>"$res" ;;
	esac
	[ -s "$res" ] || echo "ok $delay $kind $gone_ms" >"$res"
	# The instance's state can be used again: the lock died with fwrun.
	if [ "${state[0]}" = --state-dir ]; then
		"$FWRUN" -q --rootfs "$T/fw.ext2" --name "$name" "${state[@]}" -- /sbin/boxinit exit 3 \
			</dev/null >"$T/o3.$i" 2>&1
		local st=$?
		[ $st = 3 ] && echo "relock ok" >>"$res" ||
			echo "bad: trial $i: run on the killed run's state: status $st: $(cat "$T/o3.$i")" >>"$res"
	fi
}

start=$(now_ms)
for ((i = 0; i < TRIALS; i++)); do
	# 70 % inside setup (0-150 ms), 30 % while the firmware runs (150-500 ms).
	if [ $((RANDOM % 10)) -lt 7 ]; then
		ms=$((RANDOM % 150))
	else
		ms=$((150 + RANDOM % 350))
	fi
	delay=$(printf '0.%03d' "$ms")
	case $((RANDOM % 10)) in
	0 | 1) kind=tapmade ;;
	2) kind=taplent ;;
	3 | 4) kind=veth ;;
	*) kind=plain ;;
	esac
	while [ "$(jobs -rp | wc -l)" -ge "$PAR" ]; do
		wait -n
	done
	trial "$i" "$delay" "$kind" &
	if [ $(((i + 1) % PAR)) = 0 ]; then
		# The image never changes, whenever fwrun dies.
		s=$(sha_of "$T/fw.ext2")
		[ "$s" = "$SUM" ] || die "image sha256 changed after trial $i (seed $SEED)"
	fi
done
wait
secs=$(( ($(now_ms) - start) / 1000 ))

bad=$(cat "$T"/r.* | grep '^bad' || true)
ok=$(cat "$T"/r.* | grep -c '^ok')
if [ -n "$bad" ]; then
	fail "$(printf '%s\n' "$bad" | wc -l) problem(s) (seed $SEED):"
	printf '%s\n' "$bad" | head -n 20 | sed 's/^/    /'
fi
assert_eq "$TRIALS" "$ok" "trials passed"
assert_eq "$SUM" "$(sha_of "$T/fw.ext2")" "image sha256 at the end"
# Loop devices: autoclear releases them once the killed namespace is gone;
# the cgroups: the next run removes them.
next_run_clears_cgroups "$T/fw.ext2" "after $TRIALS SIGKILLs"
host_unchanged "$T/host.before" "after $TRIALS SIGKILLs"
leftover=$(ls /run/fwrun/mnt 2>/dev/null | grep -F "$PFX" || true)
assert_eq "" "$leftover" "left in /run/fwrun/mnt"

summary() {	# the trial kinds and where the kill fell
	cat "$T"/r.* | awk '
		/^ok/ { n++; k[$3]++; d = $2 * 1000; if (d < 150) s++; else r++;
			if ($4 > max) max = $4 }
		/^relock ok/ { rl++ }
		END { printf "%d ok: %d in setup, %d in run; kinds:", n, s, r;
		      for (x in k) printf " %s=%d", x, k[x];
		      printf "; state reused %d; slowest cleanup seen %d ms\n", rl, max }'
}
echo "$TEST_NAME: seed $SEED: $(summary); ${secs} s"
