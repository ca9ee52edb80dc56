/* SPDX-License-Identifier: MIT */
/* fwrun_parse(): the whole command line, as argv split on NUL bytes
 * ("--rootfs\0x.ext2\0--name\0a"), then the error line fwrun would print. */
#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <sanitizer/allocator_interface.h>
#include <sanitizer/common_interface_defs.h>

#include "../console.h"
#include "../fwrun.h"
#include "fuzz.h"

#define MAX_ARGS 64

/* The heap an accepted --until takes to compile, at its peak: what
 * console_until_check() promises to bound (found: a 23-byte regex that
 * took gigabytes). Counted by ASan's allocation hooks while armed. */
#define UNTIL_HEAP_MAX (64L << 20)
static bool heap_armed;
static long heap_now, heap_peak;

static void heap_malloc(const volatile void *p, size_t size)
{
	(void)p;
	if (heap_armed && (heap_now += (long)size) > heap_peak)
		heap_peak = heap_now;
}

static void heap_free(const volatile void *p)
{
	if (heap_armed && p)
		heap_now -= (long)__sanitizer_get_allocated_size((const void *)p);
}

static void until_compiles_small(const char *until)
{
	regex_t re;
	int r;

	heap_now = heap_peak = 0;
	heap_armed = true;
	r = regcomp(&re, until, REG_EXTENDED | REG_NOSUB);
	if (r == 0)
		regfree(&re);
	heap_armed = false;
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(heap_peak <= UNTIL_HEAP_MAX);
}

/* fwrun_parse() tries --until in a forked child under a heap limit,
 * where ASan's allocator gives up on a costly one: that is an answer, not
 * a crash of the target. Without this, the child's death would run
 * libFuzzer's handlers and leave a crash artifact for each. */
static void child_quiet(void)
{
	static const int sigs[] = { SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSEGV };

	__sanitizer_set_death_callback(NULL);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	__sanitizer_install_malloc_and_free_hooks(heap_malloc, heap_free);
	pthread_atfork(NULL, NULL, child_quiet);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *args[MAX_ARGS + 2];
	char *blk;
	struct fwrun_opts o;
	struct fw_error e;
	char line[1024];

	args[0] = (char *)"fwrun";
	size_t n = size ? fuzz_split(data, size, args + 1, MAX_ARGS, &blk) : 0;
	if (!size)
		blk = NULL;
	args[n + 1] = NULL;

	enum fwrun_parse_result r = fwrun_parse(&o, (int)n + 1, args, &e);
	switch (r) {
	case FWRUN_PARSE_RUN:
		FUZZ_ASSERT(e.err == 0 && e.what[0] == '\0');
		/* Every bind's DST is absolute, without "..", never the root. */
		for (size_t i = 0; i < o.nbinds; i++) {
			const struct fwrun_bind *b = &o.binds[i];
			FUZZ_ASSERT(b->spec[0] == '/' && b->src_len > 0 && b->dst[0] == '/');
			FUZZ_ASSERT(!strstr(b->dst, "/../") && strcmp(b->dst, "/") != 0);
			size_t l = strlen(b->dst);
			FUZZ_ASSERT(l < 3 || strcmp(b->dst + l - 3, "/..") != 0);
		}
		/* The commands on instances take no firmware to run. */
		if (o.action == FWRUN_LIST || o.action == FWRUN_STOP ||
		    o.action == FWRUN_ENTER || o.action == FWRUN_RESET ||
		    o.action == FWRUN_REMOVE || o.action == FWRUN_LOAD_PROFILE) {
			FUZZ_ASSERT(!o.rootfs && !o.nbinds && !o.ephemeral);
			if (o.action == FWRUN_LOAD_PROFILE)
				FUZZ_ASSERT(!o.name_given && !o.state_dir && !o.init_argv);
			if (o.action == FWRUN_STOP || o.action == FWRUN_ENTER)
				FUZZ_ASSERT(o.target && fwrun_name_valid(o.target) == 0);
			if (o.action == FWRUN_ENTER)
				FUZZ_ASSERT(o.init_argv && o.init_argv[0][0]);
			if (o.action == FWRUN_RESET || o.action == FWRUN_REMOVE)
				FUZZ_ASSERT(o.name_given || (o.state_dir && o.state_dir[0]));
			break;
		}
		FUZZ_ASSERT(!o.json);
		/* A run has a valid name, an init, and what check_options wants. */
		/* --diff --state-dir DIR needs no name; anything else has one. */
		if (o.diff && !o.name_given && !o.rootfs)
			FUZZ_ASSERT(o.name[0] == '\0');
		else
			FUZZ_ASSERT(fwrun_name_valid(o.name) == 0);
		FUZZ_ASSERT(o.init_argv && o.init_argc >= 1 && o.init_argv[0][0]);
		FUZZ_ASSERT(o.init_argv[o.init_argc] == NULL);
		FUZZ_ASSERT(o.diff || (o.rootfs && o.rootfs[0]));
		FUZZ_ASSERT(!(o.ephemeral && (o.state_dir || o.reset)));
		/* --console-log and --until need a console fwrun sees; --until
		 * compiled at parse time, so the plan's compile cannot fail,
		 * and small */
		FUZZ_ASSERT(!(o.console == CONSOLE_PIPE && (o.console_log || o.until)));
		FUZZ_ASSERT(!o.console_log || o.console_log[0]);
		if (o.until)
			until_compiles_small(o.until);
		break;
	case FWRUN_PARSE_ERROR:
		FUZZ_ASSERT(e.what[0] != '\0');
		FUZZ_ASSERT(memchr(e.what, '\0', sizeof(e.what)));
		FUZZ_ASSERT(memchr(e.subject, '\0', sizeof(e.subject)));
		FUZZ_ASSERT(memchr(e.hint, '\0', sizeof(e.hint)));
		fwrun_format_error(line, sizeof(line), &e);
		FUZZ_ASSERT(strncmp(line, "fwrun: ", 7) == 0);
		/* A tiny buffer truncates, never overflows. */
		fwrun_format_error(line, 9, &e);
		FUZZ_ASSERT(strlen(line) < 9);
		break;
	case FWRUN_PARSE_EXIT_OK:
		break;
	default:
		FUZZ_ASSERT(!"unknown parse result");
	}
	free(blk);
	return 0;
}
