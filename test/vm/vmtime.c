/* SPDX-License-Identifier: MIT */
/* vmtime: time a command inside the VM (busybox has no sub-second clock).
 *   vmtime [-n N] [-q] CMD [ARGS...]
 * runs CMD N times (default 1) one after the other, -q sending its stdout and
 * stderr to /dev/null, then prints one line:
 *   vmtime avg_ms=<mean> min_ms=<min> n=<N> rc=<exit status of the last run>
 * rc is 128+signal when the command was killed. Exit status: that of the
 * last run. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int n = 1, quiet = 0, opt, rc = 0;
	double sum = 0, min = -1;

	while ((opt = getopt(argc, argv, "+n:q")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'q')
			quiet = 1;
		else
			return 2;
	}
	if (optind >= argc || n < 1) {
		fprintf(stderr, "usage: vmtime [-n N] [-q] CMD [ARGS...]\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		double t0 = now_ms(), dt;
		int st;
		pid_t pid = fork();

		if (pid < 0) {
			perror("vmtime: fork");
			return 125;
		}
		if (pid == 0) {
			if (quiet) {
				int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

				if (fd >= 0) {
					dup2(fd, 1);
					dup2(fd, 2);
				}
			}
			execvp(argv[optind], argv + optind);
			perror("vmtime: exec");
			_exit(127);
		}
		if (waitpid(pid, &st, 0) < 0) {
			perror("vmtime: waitpid");
			return 125;
		}
		dt = now_ms() - t0;
		sum += dt;
		if (min < 0 || dt < min)
			min = dt;
		rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	printf("vmtime avg_ms=%.1f min_ms=%.1f n=%d rc=%d\n", sum / n, min, n, rc);
	return rc;
}
