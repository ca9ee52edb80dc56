/* SPDX-License-Identifier: MIT */
/* The firmware of the benchmark: a static /sbin/true that does nothing but
 * exit(0), with no libc start-up, so that a run measures the runner and not
 * the payload. Falls back to a plain static main() where there is no asm. */
#if defined(BENCH_NOSTDLIB) && (defined(__x86_64__) || defined(__aarch64__))
void _start(void);
#endif
#if defined(__x86_64__) && defined(BENCH_NOSTDLIB)
__attribute__((naked, noreturn)) void _start(void)
{
	__asm__ volatile("mov $231, %eax\n\t"	/* exit_group */
			 "xor %edi, %edi\n\t"
			 "syscall\n\t");
}
#elif defined(__aarch64__) && defined(BENCH_NOSTDLIB)
__attribute__((naked, noreturn)) void _start(void)
{
	__asm__ volatile("mov x8, #94\n\t"	/* exit_group */
			 "mov x0, #0\n\t"
			 "svc #0\n\t");
}
#else
int main(void)
{
	return 0;
}
#endif
