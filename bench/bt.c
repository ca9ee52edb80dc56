/* SPDX-License-Identifier: MIT */
/* bt: the benchmark's timing driver. Runs commands with fork/execve/wait4 and
 * times them with CLOCK_MONOTONIC, so the shell's own cost is not measured.
 *
 *   bt [-n N] [-w W] [-g MS] [-o RAW] NAME=CMD...
 *       Sequential: N rounds (after W warm-up rounds); each round runs every
 *       command once, in an order rotated round by round, so that machine
 *       noise falls on all commands alike. -g: wait MS milliseconds before
 *       each run, so that the previous run's asynchronous teardown (a
 *       network namespace is freed by a kernel worker after the last
 *       process in it exits) is not timed as part of the next command. Prints per command the median,
 *       p10, p90, min of the wall time of one whole run, and the largest
 *       ru_maxrss wait4() reported (the command and every descendant it
 *       reaped).
 *   bt -P 1,8,32 [-n R] NAME=CMD
 *       Scale: each round starts P copies at once ("%i" in CMD becomes the
 *       copy's index) and waits for all; rounds alternate over the P values.
 *       Prints per P the median total wall time, the time per instance and
 *       how many instances failed (all rounds, warm-up included): at scale a
 *       failure is a result, shown once, not a stop.
 *   bt -t [-n N] NAME=CMD...
 *       Probe (commands alternating as above): CMD runs bench/probe as its init, which prints its first
 *       CLOCK_MONOTONIC reading and its ru_maxrss; prints the time from fork
 *       to the init's first instruction, the pid-1 side's peak RSS, and the
 *       command's own VmHWM/VmRSS sampled from /proc while the init runs.
 *
 * CMD is split on spaces (no quoting). Commands' stdout goes to /dev/null
 * (to a pipe with -t); stderr is kept and shown when a run fails (exit
 * status not 0), which stops the benchmark: a failed run is not a time.
 * Machine-readable lines start with "RESULT", "SCALE" or "PROBE". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16
#define MAX_ARGS 64
#define MAX_PAR 256

struct cmd {
	char *name;
	char *line;
	double *ns;	/* one per measured run */
	int count;
	long maxrss_kb;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fatal(const char *what)
{
	fprintf(stderr, "bt: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Split a copy of line on spaces, replacing "%i" by idx. */
static void build_argv(const char *line, int idx, char **argv, char *storage, size_t size)
{
	char *o = storage, *end = storage + size - 16;
	int argc = 0;
	const char *p = line;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (argc == MAX_ARGS - 1) {
			fprintf(stderr, "bt: too many arguments in '%s'\n", line);
			exit(2);
		}
		argv[argc++] = o;
		while (*p && *p != ' ' && o < end) {
			if (p[0] == '%' && p[1] == 'i') {
				o += snprintf(o, (size_t)(end - o), "%d", idx);
				p += 2;
			} else {
				*o++ = *p++;
			}
		}
		*o++ = '\0';
	}
	argv[argc] = NULL;
	if (argc == 0) {
		fprintf(stderr, "bt: empty command\n");
		exit(2);
	}
}

/* fork + execv; stdout to out_fd (or /dev/null), stderr to err_fd. */
static pid_t spawn(const char *line, int idx, int out_fd, int err_fd)
{
	char *argv[MAX_ARGS];
	char storage[4096];

	build_argv(line, idx, argv, storage, sizeof(storage));
	pid_t pid = fork();
	if (pid < 0)
		fatal("fork");
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		dup2(null, 0);
		dup2(out_fd >= 0 ? out_fd : null, 1);
		if (err_fd >= 0)
			dup2(err_fd, 2);
		execv(argv[0], argv);
		fprintf(stderr, "bt: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static void show_stderr(const char *name, int ws, int err_fd)
{
	char buf[4096];
	ssize_t n;

	fprintf(stderr, "bt: '%s' failed (%s %d); its stderr:\n", name,
		WIFEXITED(ws) ? "exit status" : "signal",
		WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
	lseek(err_fd, 0, SEEK_SET);
	while ((n = read(err_fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stderr);
}

static void show_failure(const char *name, int ws, int err_fd)
{
	show_stderr(name, ws, err_fd);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Percentile by linear interpolation between closest ranks; v sorted. */
static double pct(const double *v, int n, double p)
{
	if (n == 0)
		return 0;
	double r = p / 100.0 * (n - 1);
	int lo = (int)r;
	int hi = lo + 1 < n ? lo + 1 : lo;
	return v[lo] + (v[hi] - v[lo]) * (r - lo);
}

static int parse_cmds(int argc, char **argv, struct cmd *cmds, int rounds)
{
	int n = 0;
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || n == MAX_CMDS) {
			fprintf(stderr, "bt: expected NAME=CMD, got '%s'\n", argv[i]);
			exit(2);
		}
		*eq = '\0';
		cmds[n].name = argv[i];
		cmds[n].line = eq + 1;
		cmds[n].ns = calloc((size_t)rounds + 1, sizeof(double));
		if (!cmds[n].ns)
			fatal("calloc");
		n++;
	}
	return n;
}

static int mode_sequential(struct cmd *cmds, int ncmd, int rounds, int warmup, int gap_ms,
			   FILE *raw)
{
	const struct timespec gap = { gap_ms / 1000, (long)(gap_ms % 1000) * 1000000L };

	int err_fd = memfd_create("bt-stderr", MFD_CLOEXEC);
	if (err_fd < 0)
		fatal("memfd_create");

	for (int r = -warmup; r < rounds; r++) {
		for (int k = 0; k < ncmd; k++) {
			int rr = r < 0 ? -r : r;
			struct cmd *c = &cmds[(k + rr) % ncmd];
			struct rusage ru;
			int ws;

			if (ftruncate(err_fd, 0) < 0 || lseek(err_fd, 0, SEEK_SET) < 0)
				fatal("truncate stderr buffer");
			if (gap_ms > 0)
				nanosleep(&gap, NULL);
			uint64_t t0 = now_ns();
			pid_t pid = spawn(c->line, r, -1, err_fd);
			if (wait4(pid, &ws, 0, &ru) < 0)
				fatal("wait4");
			uint64_t t1 = now_ns();
			if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
				show_failure(c->name, ws, err_fd);
			if (r < 0)
				continue;
			c->ns[c->count++] = (double)(t1 - t0);
			if (ru.ru_maxrss > c->maxrss_kb)
				c->maxrss_kb = ru.ru_maxrss;
			if (raw)
				fprintf(raw, "%s %d %llu\n", c->name, r,
					(unsigned long long)(t1 - t0));
		}
	}
	printf("%-10s %5s %9s %9s %9s %9s %10s\n", "command", "runs", "median", "p10", "p90",
	       "min", "maxrss");
	for (int k = 0; k < ncmd; k++) {
		struct cmd *c = &cmds[k];
		qsort(c->ns, (size_t)c->count, sizeof(double), cmp_double);
		double med = pct(c->ns, c->count, 50) / 1e6, p10 = pct(c->ns, c->count, 10) / 1e6,
		       p90 = pct(c->ns, c->count, 90) / 1e6, mn = c->ns[0] / 1e6;
		printf("%-10s %5d %7.3fms %7.3fms %7.3fms %7.3fms %7ldKiB\n", c->name, c->count,
		       med, p10, p90, mn, c->maxrss_kb);
		printf("RESULT %s %d %.4f %.4f %.4f %.4f %ld\n", c->name, c->count, med, p10, p90,
		       mn, c->maxrss_kb);
	}
	return 0;
}

static int mode_scale(struct cmd *c, const int *par, int npar, int rounds)
{
	double *tot[MAX_PAR] = { 0 }, *each[MAX_PAR] = { 0 };
	static pid_t pids[MAX_PAR];
	static uint64_t start[MAX_PAR];
	int fails[32] = { 0 }, shown_fail = 0;
	int err_fd = memfd_create("bt-stderr", MFD_CLOEXEC);
	if (err_fd < 0)
		fatal("memfd_create");

	for (int j = 0; j < npar; j++) {
		tot[j] = calloc((size_t)rounds, sizeof(double));
		each[j] = calloc((size_t)rounds * (size_t)par[j], sizeof(double));
		if (!tot[j] || !each[j])
			fatal("calloc");
	}
	for (int r = -1; r < rounds; r++) {	/* one warm-up round */
		for (int j = 0; j < npar; j++) {
			int p = par[j], left = p;
			uint64_t t0 = now_ns(), t1;

			if (ftruncate(err_fd, 0) < 0 || lseek(err_fd, 0, SEEK_SET) < 0)
				fatal("truncate stderr buffer");
			for (int i = 0; i < p; i++) {
				start[i] = now_ns();
				pids[i] = spawn(c->line, i, -1, err_fd);
			}
			while (left > 0) {
				int ws;
				pid_t pid = waitpid(-1, &ws, 0);
				if (pid < 0)
					fatal("waitpid");
				uint64_t t = now_ns();
				int i;
				for (i = 0; i < p && pids[i] != pid; i++)
					;
				if (i == p)
					continue;
				if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
					/* At scale a failure is a result: count it,
					 * show the first one, go on. */
					if (!fails[j] && !shown_fail)
						show_stderr(c->name, ws, err_fd);
					shown_fail = 1;
					fails[j]++;
				}
				if (r >= 0)
					each[j][(size_t)r * (size_t)p + (size_t)i] =
						(double)(t - start[i]);
				left--;
			}
			t1 = now_ns();
			if (r >= 0)
				tot[j][r] = (double)(t1 - t0);
		}
	}
	printf("%-10s %5s %6s %11s %13s %13s %13s %6s\n", "command", "at", "rounds", "total(med)",
	       "per-instance", "latency(med)", "latency(p90)", "failed");
	for (int j = 0; j < npar; j++) {
		int p = par[j];
		int n = rounds * p;
		qsort(tot[j], (size_t)rounds, sizeof(double), cmp_double);
		qsort(each[j], (size_t)n, sizeof(double), cmp_double);
		double t = pct(tot[j], rounds, 50) / 1e6;
		double lat = pct(each[j], n, 50) / 1e6, lat90 = pct(each[j], n, 90) / 1e6;
		printf("%-10s %5d %6d %9.2fms %11.3fms %11.2fms %11.2fms %6d\n", c->name, p, rounds,
		       t, t / p, lat, lat90, fails[j]);
		printf("SCALE %s %d %d %.4f %.4f %.4f %.4f %d\n", c->name, p, rounds, t, t / p, lat,
		       lat90, fails[j]);
	}
	return 0;
}

/* Supervisor's VmHWM/VmRSS in KiB, from /proc/PID/status; 0 when gone. */
static void read_vm(pid_t pid, long *hwm, long *rss)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *p = strstr(buf, "VmHWM:");
	char *q = strstr(buf, "VmRSS:");
	if (p && q) {	/* zombies have neither */
		*hwm = strtol(p + 6, NULL, 10);
		*rss = strtol(q + 6, NULL, 10);
	}
}

struct probe_stats {
	double *lat;
	long p1_max, hwm_max, rss_max;
};

/* One probe run of c: latency to the init's first instruction (ns), and the
 * peaks seen. Returns the latency. */
static double probe_once(struct cmd *c, int r, int err_fd, struct probe_stats *ps)
{
	int pfd[2];
	char out[4096];
	size_t len = 0;
	long hwm = 0, rss = 0;
	int ws;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		fatal("pipe2");
	if (ftruncate(err_fd, 0) < 0 || lseek(err_fd, 0, SEEK_SET) < 0)
		fatal("truncate stderr buffer");
	uint64_t t0 = now_ns();
	pid_t pid = spawn(c->line, r, pfd[1], err_fd);
	close(pfd[1]);
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		fatal("pidfd_open");
	/* Sample the supervisor every 2 ms until it exits; the last reading
	 * of VmHWM is its peak. */
	for (;;) {
		struct pollfd pf = { .fd = pidfd, .events = POLLIN };
		read_vm(pid, &hwm, &rss);
		if (poll(&pf, 1, 2) > 0)
			break;
	}
	if (waitpid(pid, &ws, 0) < 0)
		fatal("waitpid");
	close(pidfd);
	for (ssize_t n; len < sizeof(out) - 1 &&
			(n = read(pfd[0], out + len, sizeof(out) - 1 - len)) > 0;)
		len += (size_t)n;
	out[len] = '\0';
	close(pfd[0]);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		show_failure(c->name, ws, err_fd);
	char *p = strstr(out, "probe: t0_ns=");
	if (!p) {
		fprintf(stderr, "bt: '%s' printed no probe line: '%s'\n", c->name, out);
		exit(1);
	}
	unsigned long long first = strtoull(p + 13, NULL, 10);
	char *m = strstr(p, "maxrss_kb=");
	long p1 = m ? strtol(m + 10, NULL, 10) : 0;
	if (r >= 0) {
		if (p1 > ps->p1_max)
			ps->p1_max = p1;
		if (hwm > ps->hwm_max)
			ps->hwm_max = hwm;
		if (rss > ps->rss_max)
			ps->rss_max = rss;
	}
	return (double)(first - t0);
}

static int mode_probe(struct cmd *cmds, int ncmd, int rounds)
{
	struct probe_stats ps[MAX_CMDS] = { 0 };
	int err_fd = memfd_create("bt-stderr", MFD_CLOEXEC);
	if (err_fd < 0)
		fatal("memfd_create");

	for (int k = 0; k < ncmd; k++)
		if (!(ps[k].lat = calloc((size_t)rounds, sizeof(double))))
			fatal("calloc");
	for (int r = -1; r < rounds; r++)	/* one warm-up round */
		for (int k = 0; k < ncmd; k++) {
			int i = (k + (r < 0 ? 0 : r)) % ncmd;
			double lat = probe_once(&cmds[i], r, err_fd, &ps[i]);
			if (r >= 0)
				ps[i].lat[r] = lat;
		}
	printf("%-10s %5s %14s %9s %9s %12s %12s %12s\n", "command", "runs", "to-init(med)",
	       "p10", "p90", "sup.VmHWM", "sup.VmRSS", "pid1.maxrss");
	for (int k = 0; k < ncmd; k++) {
		double *lat = ps[k].lat;
		qsort(lat, (size_t)rounds, sizeof(double), cmp_double);
		printf("%-10s %5d %12.3fms %7.3fms %7.3fms %9ldKiB %9ldKiB %9ldKiB\n", cmds[k].name,
		       rounds, pct(lat, rounds, 50) / 1e6, pct(lat, rounds, 10) / 1e6,
		       pct(lat, rounds, 90) / 1e6, ps[k].hwm_max, ps[k].rss_max, ps[k].p1_max);
		printf("PROBE %s %d %.4f %.4f %.4f %ld %ld %ld\n", cmds[k].name, rounds,
		       pct(lat, rounds, 50) / 1e6, pct(lat, rounds, 10) / 1e6,
		       pct(lat, rounds, 90) / 1e6, ps[k].hwm_max, ps[k].rss_max, ps[k].p1_max);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 200, warmup = 3, gap_ms = 0, opt, npar = 0, par[32];
	int probe = 0;
	FILE *raw = NULL;
	struct cmd cmds[MAX_CMDS] = { 0 };

	while ((opt = getopt(argc, argv, "+n:w:g:o:P:t")) != -1) {
		switch (opt) {
		case 'n':
			rounds = atoi(optarg);
			break;
		case 'w':
			warmup = atoi(optarg);
			break;
		case 'g':
			gap_ms = atoi(optarg);
			break;
		case 'o':
			raw = fopen(optarg, "we");
			if (!raw)
				fatal(optarg);
			break;
		case 'P':
			for (char *s = strtok(optarg, ","); s && npar < 32; s = strtok(NULL, ","))
				par[npar++] = atoi(s);
			break;
		case 't':
			probe = 1;
			break;
		default:
			fprintf(stderr, "usage: bt [-n N] [-w W] [-g MS] [-o RAW] [-P 1,8,...] [-t] "
				"NAME=CMD...\n");
			return 2;
		}
	}
	if (rounds < 1 || optind >= argc) {
		fprintf(stderr, "bt: need N >= 1 and at least one NAME=CMD\n");
		return 2;
	}
	for (int j = 0; j < npar; j++)
		if (par[j] < 1 || par[j] > MAX_PAR) {
			fprintf(stderr, "bt: -P values must be 1..%d\n", MAX_PAR);
			return 2;
		}
	int ncmd = parse_cmds(argc - optind, argv + optind, cmds, rounds);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (npar)
		return mode_scale(&cmds[0], par, npar, rounds);
	if (probe)
		return mode_probe(cmds, ncmd, rounds);
	return mode_sequential(cmds, ncmd, rounds, warmup, gap_ms, raw);
}
