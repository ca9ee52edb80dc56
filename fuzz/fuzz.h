/* SPDX-License-Identifier: MIT */
/* Helpers shared by the libFuzzer targets (fuzz/fuzz_*.c): split the input
 * into NUL-separated strings, and abort loudly when an invariant breaks so
 * that libFuzzer keeps the input as a crash. */
#ifndef FWRUN_FUZZ_H
#define FWRUN_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                          \
	do {                                                                       \
		if (!(cond)) {                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, \
				__LINE__, #cond);                                  \
			abort();                                                   \
		}                                                                  \
	} while (0)

/* Copy data into a fresh heap block (so ASan sees every overread) with a
 * NUL appended, and split it at NUL bytes: at most max strings go to v[]
 * (the last one keeps the rest of the input, NULs and all cut off at the
 * first). Returns the count; *blk is to be freed by the caller. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, char **v, size_t max,
				char **blk)
{
	char *b = malloc(size + 1);
	size_t n = 0;

	*blk = b;
	if (!b)
		return 0;
	memcpy(b, data, size);
	b[size] = '\0';
	for (size_t i = 0; n < max;) {
		v[n++] = b + i;
		const char *z = memchr(b + i, '\0', size + 1 - i);
		i = (size_t)(z - b) + 1;
		if (i > size)
			break;
	}
	return n;
}

#endif
