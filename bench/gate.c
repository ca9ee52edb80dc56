/* SPDX-License-Identifier: MIT */
/* The starting gate of bench/swarm: forks N children that each block on a
 * pipe, then execs them all at once.
 *
 *   gate N DIR EVENTS -- COMMAND [ARG...]
 *
 * Child i (1..N) has /dev/null on stdin and stdout, DIR/i.err as stderr and
 * EVENTS (appended to) as fd 3; "%d" in an argument becomes i. Once all are
 * forked, their pids are in DIR/pids and the gate waits for SIGUSR1; then it
 * writes the wall-clock time (seconds since midnight UTC) to DIR/t0, closes
 * the pipe (every child reads its end and execs), reaps them all and writes
 * "N_NONZERO" (how many exited otherwise than with 0) to DIR/status.
 * A small static process forks cheaply: a shell forking a thousand
 * subshells spends more CPU than the thousand fwruns it starts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: gate N DIR EVENTS -- COMMAND [ARG...]\n");
		return 2;
	}
	int n = atoi(argv[1]);
	const char *dir = argv[2];
	char **cmd = argv + 5;
	int ncmd = argc - 5;
	char path[4096];
	int p[2];
	sigset_t usr1;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	if (n <= 0 || pipe2(p, O_CLOEXEC) < 0)
		die("pipe");
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	char **av = calloc((size_t)ncmd + 1, sizeof(*av));
	if (!pids || !av)
		die("calloc");
	int ev = open(argv[3], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (ev < 0)
		die(argv[3]);

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid > 0) {
			pids[i] = pid;
			continue;
		}
		sigprocmask(SIG_UNBLOCK, &usr1, NULL);
		close(p[1]);
		snprintf(path, sizeof(path), "%s/%d.err", dir, i + 1);
		int err = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int null = open("/dev/null", O_RDWR);
		if (err < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
		    dup2(err, 2) < 0 || dup2(ev, 3) < 0)
			_exit(121);
		for (int a = 0; a < ncmd; a++) {
			const char *s = strstr(cmd[a], "%d");
			if (!s) {
				av[a] = cmd[a];
				continue;
			}
			if (asprintf(&av[a], "%.*s%d%s", (int)(s - cmd[a]), cmd[a], i + 1, s + 2) < 0)
				_exit(121);
		}
		char c;
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		execv(av[0], av);
		_exit(127);
	}
	close(p[0]);
	close(ev);

	char done[4096 + 8];
	snprintf(path, sizeof(path), "%s/pids.tmp", dir);
	snprintf(done, sizeof(done), "%s/pids", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		die(path);
	for (int i = 0; i < n; i++)
		fprintf(f, "%d\n", (int)pids[i]);
	if (fclose(f) != 0 || rename(path, done) < 0)
		die(path);

	int sig;
	while (sigwait(&usr1, &sig) != 0)
		;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	close(p[1]);	/* the gate opens */
	snprintf(path, sizeof(path), "%s/t0.tmp", dir);
	snprintf(done, sizeof(done), "%s/t0", dir);
	if ((f = fopen(path, "w"))) {
		fprintf(f, "%ld.%09ld\n", (long)(now.tv_sec % 86400), now.tv_nsec);
		if (fclose(f) == 0)
			rename(path, done);
	}

	int bad = 0, st;
	for (int left = n; left > 0;) {
		pid_t w = wait(&st);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		left--;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	snprintf(path, sizeof(path), "%s/status.tmp", dir);
	snprintf(done, sizeof(done), "%s/status", dir);
	if ((f = fopen(path, "w"))) {
		fprintf(f, "%d\n", bad);
		if (fclose(f) == 0)
			rename(path, done);
	}
	return 0;
}
