/* SPDX-License-Identifier: MIT */
/* The init of bench/swarm: stays running, doing nothing, until SIGTERM or
 * SIGINT, then exits 0. The signals are blocked and taken with
 * rt_sigtimedwait(): pid 1 of a PID namespace needs no handler for a
 * blocked signal to reach it. No libc start-up and no heap, so that the
 * memory an instance costs is fwrun's and the kernel's, not the payload's.
 * Falls back to a plain static main() where there is no inline syscall. */
#if defined(BENCH_NOSTDLIB) && defined(__x86_64__)
static long sys4(long n, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

void _start(void);
__attribute__((force_align_arg_pointer, noreturn)) void _start(void)
{
	unsigned long set = 1UL << (15 - 1) | 1UL << (2 - 1);	/* TERM, INT */

	sys4(14, 0, (long)&set, 0, 8);		/* rt_sigprocmask(SIG_BLOCK) */
	while (sys4(128, (long)&set, 0, 0, 8) < 0)	/* rt_sigtimedwait */
		;
	sys4(231, 0, 0, 0, 0);			/* exit_group(0) */
	for (;;)
		;
}
#else
#include <signal.h>
#include <stddef.h>

int main(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	while (sigwait(&set, &sig) != 0)
		;
	return 0;
}
#endif
