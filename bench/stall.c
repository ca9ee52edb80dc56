/* SPDX-License-Identifier: MIT */
/* bench/stall's two halves.
 *   stall probe MS    spin for MS milliseconds, each turn a getpid() and a
 *                     read of CLOCK_MONOTONIC, and print the longest turn
 *                     in ms: how long this CPU was kept from running us;
 *   stall mkdir DIR   make DIR, then remove it; print how long the mkdir
 *                     took, in ms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "probe") == 0) {
		double ms = atof(argv[2]), start = now_ms(), last = start, worst = 0;
		for (double t = start; t - start < ms; t = now_ms()) {
			if (t - last > worst)
				worst = t - last;
			last = t;
			(void)getpid();
		}
		printf("%.3f\n", worst);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "mkdir") == 0) {
		double t0 = now_ms();
		if (mkdir(argv[2], 0755) < 0) {
			perror(argv[2]);
			return 1;
		}
		double t1 = now_ms();
		if (rmdir(argv[2]) < 0) {
			perror(argv[2]);
			return 1;
		}
		printf("%.3f\n", t1 - t0);
		return 0;
	}
	fprintf(stderr, "usage: stall probe MS | stall mkdir DIR\n");
	return 2;
}
