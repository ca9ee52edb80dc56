/* SPDX-License-Identifier: MIT */
/* overlay_escape() and overlay_options(): paths from the input (split on
 * NUL), escaped into buffers of every awkward size; the escaping must be
 * reversible and must never write past the buffer or leave it unterminated
 * on success. */
#include <errno.h>
#include <limits.h>

#include "../overlay.h"
#include "fuzz.h"

/* Undo overlay_escape; returns the length or -1 on a lone trailing '\\'. */
static long unescape(const char *in, char *out)
{
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		if (*p == '\\') {
			p++;
			if (*p != '\\' && *p != ',' && *p != ':')
				return -1;
		} else {
			FUZZ_ASSERT(*p != ',' && *p != ':');
		}
		out[n++] = *p;
	}
	out[n] = '\0';
	return (long)n;
}

/* Split "k=v,k=v" options at unescaped commas; count them. */
static int count_options(const char *s)
{
	int n = 1;

	for (const char *p = s; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == ',')
			n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v[3] = { NULL, NULL, NULL };
	char *blk;
	size_t n = fuzz_split(data, size, v, 3, &blk);

	if (n == 0) {
		free(blk);
		return 0;
	}
	size_t len = strlen(v[0]);
	size_t cap = 2 * len + 1;
	char *out = malloc(cap);
	char *back = malloc(len + 1);
	FUZZ_ASSERT(out && back);

	int r = overlay_escape(v[0], out, cap);
	FUZZ_ASSERT(r >= 0 && (size_t)r < cap && strlen(out) == (size_t)r);
	FUZZ_ASSERT(unescape(out, back) == (long)len && strcmp(back, v[0]) == 0);
	size_t need = (size_t)r + 1;

	/* Exactly big enough works; one byte less fails; heap blocks of the
	 * exact size let ASan catch a write past the end. */
	char *exact = malloc(need);
	FUZZ_ASSERT(exact);
	FUZZ_ASSERT(overlay_escape(v[0], exact, need) == r);
	free(exact);
	if (need > 1) {
		char *tight = malloc(need - 1);
		FUZZ_ASSERT(tight);
		FUZZ_ASSERT(overlay_escape(v[0], tight, need - 1) == -ENAMETOOLONG);
		free(tight);
	}
	FUZZ_ASSERT(overlay_escape(v[0], NULL, 0) == -ENAMETOOLONG);

	/* Options: lower only, or lower+upper+work. */
	const char *lower = v[0];
	const char *upper = n > 1 ? v[1] : NULL;
	const char *work = n > 2 ? v[2] : NULL;
	size_t osize = size * 2 + 64;
	char *opts = malloc(osize);
	FUZZ_ASSERT(opts);
	r = overlay_options(opts, osize, lower, upper, work);
	if (!*lower || !upper != !work) {
		FUZZ_ASSERT(r == -EINVAL);
	} else {
		FUZZ_ASSERT(r > 0 && (size_t)r == strlen(opts));
		FUZZ_ASSERT(strncmp(opts, "lowerdir=", 9) == 0);
		FUZZ_ASSERT(count_options(opts) == (upper ? 4 : 1));	/* ...,volatile */
		/* Every size below the needed one fails cleanly, leaving "". */
		size_t want = (size_t)r + 1;
		for (size_t s = want > 8 ? want - 8 : 1; s < want; s++) {
			char *small = malloc(s);
			FUZZ_ASSERT(small);
			FUZZ_ASSERT(overlay_options(small, s, lower, upper, work) ==
				    -ENAMETOOLONG);
			FUZZ_ASSERT(small[0] == '\0');
			free(small);
		}
		char *fit = malloc(want);
		FUZZ_ASSERT(fit);
		FUZZ_ASSERT(overlay_options(fit, want, lower, upper, work) == r);
		FUZZ_ASSERT(strcmp(fit, opts) == 0);
		free(fit);
	}
	free(opts);
	free(out);
	free(back);
	free(blk);
	return 0;
}
