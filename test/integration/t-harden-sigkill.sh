#!/bin/bash
# SPDX-License-Identifier: MIT
# SIGKILL of fwrun at random points of setup and run, many times over.
#
# Each trial starts fwrun, sleeps a random delay (most trials inside the
# setup, whose steps -v times at ~10-150 ms on a loaded machine; the rest in
# the run), kills fwrun with SIGKILL and checks:
#   - every process carrying the trial's marker (fwrun's setup child, the
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
# FWT_PAR=N trials at a time (default 4).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
need_cmd mke2fs sha256sum
need_fs overlay

SEED=${FWT_SEED:-$(( $(date +%s%N) % 32768 ))}
TRIALS=${FWT_TRIALS:-200}
PAR=${FWT_PAR:-4}
RANDOM=$SEED
echo "$TEST_NAME: seed $SEED (FWT_SEED=$SEED to reproduce), $TRIALS trials, $PAR at a time"

mk_staging "$T/staging"
mke2fs -q -F -t ext2 -d "$T/staging" "$T/fw.ext2" 8M >/dev/null || die "mke2fs"
SUM=$(sha_of "$T/fw.ext2")
host_snapshot "$T/host.before"
at_exit "rm -f /run/fwrun/net/if-$PFX* /run/fwrun/net/if-fw-$PFX*"

# Alive processes whose command line holds the marker.
marked() {
	local p
	for p in $(pgrep -f -- "$1"); do
		alive "$p" && echo "$p"
	done
}

# One trial, in the background: writes $T/r.$i (a verdict line per problem,
# "ok DELAY KIND GONE_MS" when all is well).
trial() {
	local i=$1 delay=$2 kind=$3 mark=fwtmark-$PFX-$i name=$PFX-$i
	local net=() pid left t0 t1 gone_ms tap= res=$T/r.$i
	case $kind in
	tapmade) tap=${PFX}m$i; net=(--tap "$tap:eth1:10.99.$((i % 250)).1/24") ;;
	taplent) tap=${PFX}l$i; ip tuntap add "$tap" mode tap || { echo "bad: tuntap add" >"$res"; return; }
		 net=(--tap "$tap:eth1") ;;
	veth) net=(--veth) ;;
	esac
	local state=(--ephemeral)
	[ $((i % 3)) = 0 ] && state=(--state-dir "$T/st-$i")
	"$FWRUN" -q --rootfs "$T/fw.ext2" --name "$name" "${state[@]}" "${net[@]}" \
		-- /sbin/boxinit echo "$mark" ready sleep </dev/null >"$T/o.$i" 2>&1 &
	pid=$!
	sleep "$delay"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	t0=$(date +%s%N)
	while :; do
		left=$(marked "$mark")
		t1=$(date +%s%N)
		[ -z "$left" ] && break
		[ $(( (t1 - t0) / 1000000 )) -ge 1000 ] && break
		sleep 0.02
	done
	gone_ms=$(( (t1 - t0) / 1000000 ))
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
		if ip link show "$tap" >/dev/null 2>&1; then
			"$FWRUN" -q --rootfs "$T/fw.ext2" --name "$name-b" --ephemeral "${net[@]}" \
				-- /sbin/boxinit exit 0 </dev/null >"$T/o2.$i" 2>&1
			local st=$?
			[ $st = 0 ] || echo "bad: trial $i: rerun with left-over tap: status $st: $(cat "$T/o2.$i")" >>"$res"
			ip link show "$tap" >/dev/null 2>&1 &&
				echo "bad: trial $i: tap $tap fwrun made is still there after the next run" >>"$res"
			ip link del "$tap" 2>/dev/null
			kind=tapmade-left
		fi ;;
	taplent)
		local gone=0
		for _ in $(seq 1 100); do	# netns teardown is asynchronous
			ip link show "$tap" >/dev/null 2>&1 && break
			[ -z "$(marked "$mark")" ] && gone=$((gone + 1))
			[ $gone -ge 20 ] && break
			sleep 0.05
		done
		local rec before
		rec=$(cat "/run/fwrun/net/if-$tap" 2>/dev/null)
		before=$(ip -o link show "$tap" 2>&1 | cut -c1-80)
		"$FWRUN" -q --rootfs "$T/fw.ext2" --name "$name-b" --ephemeral "${net[@]}" \
			-- /sbin/boxinit exit 0 </dev/null >"$T/o2.$i" 2>&1
		local st=$?
		if ip link show "$tap" >/dev/null 2>&1 && [ $st = 0 ]; then
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
			ip link show "$h" >/dev/null 2>&1 || break
			sleep 0.05
		done
		ip link show "$h" >/dev/null 2>&1 && echo "bad: trial $i: veth host end $h left 5 s after SIGKILL" >>"$res" ;;
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

start=$(date +%s%N)
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
	trial "$i" "$delay" "$kind" &
	if [ $(((i + 1) % PAR)) = 0 ]; then
		wait
		# The image never changes, whenever fwrun dies.
		s=$(sha_of "$T/fw.ext2")
		[ "$s" = "$SUM" ] || die "image sha256 changed after trials up to $i (seed $SEED)"
	fi
done
wait
secs=$(( ($(date +%s%N) - start) / 1000000000 ))

bad=$(cat "$T"/r.* | grep '^bad' || true)
ok=$(cat "$T"/r.* | grep -c '^ok')
if [ -n "$bad" ]; then
	fail "$(printf '%s\n' "$bad" | wc -l) problem(s) (seed $SEED):"
	printf '%s\n' "$bad" | head -n 20 | sed 's/^/    /'
fi
assert_eq "$TRIALS" "$ok" "trials passed"
assert_eq "$SUM" "$(sha_of "$T/fw.ext2")" "image sha256 at the end"
# Loop devices: autoclear releases them once the killed namespace is gone.
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
		      printf "; state reused %d; slowest cleanup %d ms\n", rl, max }'
}
echo "$TEST_NAME: seed $SEED: $(summary); ${secs} s"
