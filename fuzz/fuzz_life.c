/* SPDX-License-Identifier: MIT */
/* The small parsers and escapers of the life-cycle and protection options:
 * --timeout/--kill-after durations, --stop-signal names, --console and
 * --apparmor modes, --profile quoting, the status-fd JSON escaping, the
 * console's Ctrl-] escape detector fed the raw input in chunks, and the
 * read-only console's CR LF folding, kmsg records and lines (issue 15). */
#include <errno.h>
#include <signal.h>

#include "../aa.h"
#include "../console.h"
#include "../events.h"
#include "../supervise.h"
#include "fuzz.h"

#define MAX_STR 8

/* A console line for the log and --until: bounded, NUL-terminated, one
 * line, no CR left at its end. */
static void check_line(void *ctx, char *line, size_t len)
{
	(void)ctx;
	FUZZ_ASSERT(len < CONSOLE_LINE_MAX && line[len] == '\0');
	FUZZ_ASSERT(!memchr(line, '\n', len) && (!len || line[len - 1] != '\r'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v[MAX_STR];
	char *blk;
	size_t n = fuzz_split(data, size, v, MAX_STR, &blk);

	for (size_t i = 0; i < n; i++) {
		const char *s = v[i];
		uint64_t ms;
		int r = supervise_parse_duration(s, &ms);
		FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ERANGE);
		if (r == 0) {
			FUZZ_ASSERT(ms <= 100ull * 24 * 3600 * 1000);
			char d[64], tiny[4];
			supervise_format_duration(d, sizeof(d), ms);
			FUZZ_ASSERT(d[0] && strlen(d) < sizeof(d));
			/* what fwrun prints about a duration reads back as it */
			uint64_t again;
			FUZZ_ASSERT(supervise_parse_duration(d, &again) == 0 && again == ms);
			supervise_format_duration(tiny, sizeof(tiny), ms);
			FUZZ_ASSERT(memchr(tiny, '\0', sizeof(tiny)));
		}

		int sig;
		r = supervise_parse_signal(s, &sig);
		FUZZ_ASSERT(r == 0 || r == -EINVAL);
		if (r == 0)
			FUZZ_ASSERT(sig >= 1 && sig <= SIGRTMAX);

		enum console_mode cm;
		r = console_mode_parse(s, &cm);
		FUZZ_ASSERT(r == 0 || r == -EINVAL);
		enum aa_mode am;
		r = aa_mode_parse(s, &am);
		FUZZ_ASSERT(r == 0 || r == -EINVAL);

		size_t len = strlen(s);
		size_t qcap = 2 * len + 3;
		char *q = malloc(qcap);
		FUZZ_ASSERT(q);
		r = aa_quote(s, q, qcap);
		FUZZ_ASSERT(r == -EINVAL || r == -ENAMETOOLONG ||
			    (r > 0 && (size_t)r == strlen(q) && (size_t)r < qcap));
		if (r > 0) {
			/* exact-size buffer works, one byte less does not */
			char *fit = malloc((size_t)r + 1);
			FUZZ_ASSERT(fit && aa_quote(s, fit, (size_t)r + 1) == r);
			FUZZ_ASSERT(!strcmp(fit, q));
			free(fit);
			char *shy = malloc((size_t)r);
			FUZZ_ASSERT(shy && aa_quote(s, shy, (size_t)r) == -ENAMETOOLONG);
			free(shy);
			FUZZ_ASSERT(!strpbrk(q, "\n\r\t*?[]{}"));
		}
		free(q);

		size_t need = events_json_escape(NULL, 0, s);
		char *j = malloc(need + 1);
		FUZZ_ASSERT(j);
		FUZZ_ASSERT(events_json_escape(j, need + 1, s) == need);
		FUZZ_ASSERT(strlen(j) == need);
		/* no raw control character or unescaped quote */
		for (size_t k = 0; k < need; k++) {
			if (j[k] == '\\') {
				FUZZ_ASSERT(k + 1 < need);
				k++;
			} else {
				FUZZ_ASSERT(j[k] != '"' && (unsigned char)j[k] >= 0x20);
			}
		}
		char small[5];
		size_t got = events_json_escape(small, sizeof(small), s);
		FUZZ_ASSERT(got == need && strlen(small) < sizeof(small));
		free(j);
	}

	/* The escape detector over the raw bytes, in chunks whose timing
	 * comes from the data: never true without CONSOLE_ESCAPE_COUNT ^]s. */
	struct console_escape st = { 0 };
	uint64_t now = 1;
	size_t run = 0;
	for (size_t i = 0; i < size;) {
		size_t chunk = 1 + data[i] % 7;
		if (chunk > size - i)
			chunk = size - i;
		now += (uint64_t)data[i] * 10000000ull;
		bool hit = console_escape_feed(&st, data + i, chunk, now);
		size_t max_run = run;
		for (size_t k = 0; k < chunk; k++) {
			run = data[i + k] == CONSOLE_ESCAPE_CHAR ? run + 1 : 0;
			if (run > max_run)
				max_run = run;
		}
		if (hit) {
			FUZZ_ASSERT(max_run >= 1);
			run = 0;
		}
		i += chunk;
	}

	/* What the firmware writes (its own to choose) on the read-only
	 * console's path, in chunks as reads give them: CR LF folded, cut into
	 * lines; and as /dev/kmsg reads: records that always make progress,
	 * their text inside the record. */
	static struct console_lines lines;
	char out[16];
	bool cr = false;
	lines.len = 0;
	for (size_t i = 0; i < size;) {
		size_t chunk = 1 + data[i] % 13;
		if (chunk > size - i)
			chunk = size - i;
		const char *in = (const char *)data + i;
		size_t w = console_crlf(in, chunk, out, &cr);
		FUZZ_ASSERT(w <= chunk + 1);
		console_lines_feed(&lines, out, w, check_line, NULL);
		for (size_t off = 0; off < chunk;) {
			size_t r = console_kmsg_record(in + off, chunk - off);
			FUZZ_ASSERT(r >= 1 && r <= chunk - off);
			size_t tl = r;
			const char *t = console_kmsg_text(in + off, &tl);
			FUZZ_ASSERT(t >= in + off && t + tl <= in + off + r);
			FUZZ_ASSERT(!tl || (t[tl - 1] != '\n' && t[tl - 1] != '\r'));
			off += r;
		}
		i += chunk;
	}
	console_lines_flush(&lines, check_line, NULL);
	free(blk);
	return 0;
}
