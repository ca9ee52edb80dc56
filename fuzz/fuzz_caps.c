/* SPDX-License-Identifier: MIT */
/* Capability names (caps.h): --cap-add/--cap-drop names in any case, with
 * or without CAP_, "ALL"; the resolved set; its text form; and the hex of a
 * /proc "CapBnd:" line. Input: NUL-separated strings, the first byte of each
 * choosing add or drop. */
#include <errno.h>

#include "../caps.h"
#include "fuzz.h"

#define MAX_STR 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v[MAX_STR];
	char *blk;
	size_t n = fuzz_split(data, size, v, MAX_STR, &blk);
	struct caps_spec s = { 0 };

	for (size_t i = 0; i < n; i++) {
		int cap = -1;
		bool drop = (unsigned char)v[i][0] & 1;
		const char *name = v[i][0] ? v[i] + 1 : v[i];
		int r = caps_from_name(name, &cap);
		if (r == 0) {
			FUZZ_ASSERT(cap == CAPS_ALL || (cap >= 0 && cap <= CAPS_KNOWN_LAST));
			if (cap >= 0) {
				/* the canonical name maps back to the same number */
				const char *canon = caps_name(cap);
				int again = -1;
				FUZZ_ASSERT(canon && caps_from_name(canon, &again) == 0 &&
					    again == cap);
			}
		} else {
			FUZZ_ASSERT(r == -EINVAL);
		}
		struct caps_spec before = s;
		r = caps_spec_add(&s, name, drop);
		FUZZ_ASSERT(r == 0 || r == -EINVAL);
		if (r < 0)	/* an unknown name changes nothing */
			FUZZ_ASSERT(before.add == s.add && before.drop == s.drop &&
				    before.add_all == s.add_all && before.drop_all == s.drop_all);

		uint64_t mask;
		r = caps_parse_hex(v[i], &mask);
		FUZZ_ASSERT(r == 0 || r == -EINVAL);
	}

	uint64_t all = caps_all_mask(CAPS_KNOWN_LAST);
	uint64_t cut = caps_resolve(&s, all);
	FUZZ_ASSERT((cut & ~all) == 0);
	/* The documented rule (caps.h): start from the default set, nothing
	 * (--cap-add ALL) or everything (--cap-drop ALL, which wins); take
	 * out the named adds; put in the named drops. */
	uint64_t start = s.drop_all ? all : s.add_all ? 0 : caps_default_drop();
	FUZZ_ASSERT(cut == (((start & ~s.add) | s.drop) & all));

	/* caps_format: every name in it parses back, and together they are the
	 * mask; a small buffer truncates and says so. */
	char text[1024], hex[32];
	int len = caps_format(cut, text, sizeof(text));
	FUZZ_ASSERT(len >= 0 && (size_t)len == strlen(text));
	uint64_t back = 0;
	if (strcmp(text, "none") != 0) {
		char *save = NULL;
		for (char *tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			int c = -1;
			FUZZ_ASSERT(caps_from_name(tok, &c) == 0 && c >= 0);
			back |= CAPS_BIT(c);
		}
	}
	FUZZ_ASSERT(back == cut);
	char tiny[12];
	int t = caps_format(cut, tiny, sizeof(tiny));
	FUZZ_ASSERT(t == len || (t == -ENAMETOOLONG && (size_t)len >= sizeof(tiny)));
	FUZZ_ASSERT(memchr(tiny, '\0', sizeof(tiny)));

	/* hex round trip, as /proc prints it */
	uint64_t m;
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)cut);
	FUZZ_ASSERT(caps_parse_hex(hex, &m) == 0 && m == cut);

	free(blk);
	return 0;
}
