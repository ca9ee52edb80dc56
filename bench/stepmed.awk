# Median (and p90) per step of "PREFIX: <step name>  <N> ms" lines, from many
# runs of fwrun -v or floor-steps; steps in the order first seen.
{
	if ($NF != "ms") next
	v = $(NF - 1); $NF = ""; $(NF - 1) = ""; $1 = ""
	name = $0; gsub(/^ +| +$/, "", name)
	if (!(name in n)) order[++k] = name
	vals[name, ++n[name]] = v
}
function sortv(name, cnt,   i, j, t) {
	for (i = 1; i <= cnt; i++) a[i] = vals[name, i] + 0
	for (i = 2; i <= cnt; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
}
function q(p, cnt,   r, lo) { r = p * (cnt - 1) + 1; lo = int(r); return lo >= cnt ? a[cnt] : a[lo] + (a[lo + 1] - a[lo]) * (r - lo) }
END {
	printf "%-42s %9s %9s %5s\n", "step", "median", "p90", "runs"
	for (i = 1; i <= k; i++) {
		cnt = n[order[i]]; sortv(order[i], cnt)
		printf "%-42s %7.3fms %7.3fms %5d\n", order[i], q(0.5, cnt), q(0.9, cnt), cnt
	}
}
