/* SPDX-License-Identifier: MIT */
/* A firmware init that tells the benchmark when it started and what fwrun's
 * side of pid 1 cost in memory:
 *
 *   probe: t0_ns=<CLOCK_MONOTONIC at its first instruction> maxrss_kb=<N>
 *
 * ru_maxrss of RUSAGE_SELF survives execve(): it is the high-water mark of
 * the process before exec (fwrun's forked pid 1) or after, whichever is
 * larger; this probe itself touches a handful of pages only, so the figure
 * is fwrun's pid-1 side. Built static; no libc start-up before the clock is
 * read on x86_64/aarch64 (nostdlib), plain static main() elsewhere.
 * argv[1], if given, is a number of milliseconds to sleep before exiting
 * (lets the benchmark sample the supervisor while the firmware runs). */
#include <stdint.h>

#if defined(BENCH_NOSTDLIB) && (defined(__x86_64__) || defined(__aarch64__))

#if defined(__x86_64__)
enum { NR_write = 1, NR_nanosleep = 35, NR_getrusage = 98, NR_clock_gettime = 228,
       NR_exit_group = 231 };
static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}
#else
enum { NR_write = 64, NR_nanosleep = 101, NR_getrusage = 165, NR_clock_gettime = 113,
       NR_exit_group = 94 };
static long sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}
#endif

struct k_timespec { long tv_sec, tv_nsec; };
struct k_rusage { long utime[2], stime[2]; long maxrss; long rest[13]; };

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static uint64_t parse_u64(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

__attribute__((used)) static void probe_main(long *sp)
{
	struct k_timespec ts;
	struct k_rusage ru;
	char buf[128], *p = buf;
	long argc = sp[0];
	char **argv = (char **)(sp + 1);

	sys3(NR_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&ts, 0);
	ru.maxrss = 0;
	sys3(NR_getrusage, 0 /* RUSAGE_SELF */, (long)&ru, 0);
	p = put_str(p, "probe: t0_ns=");
	p = put_u64(p, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	p = put_str(p, " maxrss_kb=");
	p = put_u64(p, (uint64_t)ru.maxrss);
	*p++ = '\n';
	sys3(NR_write, 1, (long)buf, p - buf);
	if (argc > 1) {
		uint64_t ms = parse_u64(argv[1]);
		struct k_timespec d = { (long)(ms / 1000), (long)(ms % 1000) * 1000000 };
		sys3(NR_nanosleep, (long)&d, 0, 0);
	}
	sys3(NR_exit_group, 0, 0, 0);
	for (;;)
		;
}

#if defined(__x86_64__)
__asm__(".globl _start\n_start:\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall probe_main\n\thlt\n");
#else
__asm__(".globl _start\n_start:\n\tmov x0, sp\n\tbl probe_main\n");
#endif

#else /* portable fallback */

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct timespec ts;
	struct rusage ru = { 0 };

	clock_gettime(CLOCK_MONOTONIC, &ts);
	getrusage(RUSAGE_SELF, &ru);
	printf("probe: t0_ns=%llu maxrss_kb=%ld\n",
	       (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec,
	       ru.ru_maxrss);
	fflush(stdout);
	if (argc > 1) {
		long ms = atol(argv[1]);
		struct timespec d = { ms / 1000, (ms % 1000) * 1000000 };
		nanosleep(&d, NULL);
	}
	return 0;
}
#endif
