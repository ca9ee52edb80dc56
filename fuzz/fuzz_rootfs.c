/* SPDX-License-Identifier: MIT */
/* rootfs_detect() on raw image headers: whatever the bytes, it reads only
 * what it was given and its answer is self-consistent. */
#include <errno.h>

#include "../rootfs.h"
#include "fuzz.h"

static bool same(const struct rootfs_info *a, const struct rootfs_info *b)
{
	return a->kind == b->kind && a->ext_journal == b->ext_journal &&
	       a->ext_needs_recovery == b->ext_needs_recovery && a->fs_size == b->fs_size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rootfs_info info;
	/* An exact-size heap copy: ASan flags any read past len. */
	unsigned char *buf = malloc(size ? size : 1);
	FUZZ_ASSERT(buf);
	memcpy(buf, data, size);

	int r = rootfs_detect(buf, size, &info);
	if (r < 0) {
		FUZZ_ASSERT(r == -EINVAL);
		FUZZ_ASSERT(info.kind == ROOTFS_UNKNOWN && info.fs_size == 0 &&
			    !info.ext_journal && !info.ext_needs_recovery);
	} else {
		FUZZ_ASSERT(r == 0);
		FUZZ_ASSERT(info.kind >= ROOTFS_EXT2 && info.kind <= ROOTFS_EROFS);
		bool ext = info.kind == ROOTFS_EXT2 || info.kind == ROOTFS_EXT3 ||
			   info.kind == ROOTFS_EXT4;
		FUZZ_ASSERT(ext || (!info.ext_journal && !info.ext_needs_recovery));
		FUZZ_ASSERT(info.kind != ROOTFS_EXT2 || !info.ext_journal);
		FUZZ_ASSERT(info.kind != ROOTFS_EXT3 || info.ext_journal);
		FUZZ_ASSERT(!ext || info.fs_size >= 1024);
		const char *name = rootfs_kind_name(info.kind);
		FUZZ_ASSERT(name && strcmp(name, "unknown") != 0);
		/* Detection looks at the header only: more bytes change nothing,
		 * and the same call gives the same answer. */
		struct rootfs_info again;
		FUZZ_ASSERT(rootfs_detect(buf, size, &again) == 0);
		FUZZ_ASSERT(same(&info, &again));
	}
	/* rootfs_probe() reads ROOTFS_PROBE_SIZE bytes: they must decide. */
	if (size > ROOTFS_PROBE_SIZE) {
		struct rootfs_info head;
		int rh = rootfs_detect(buf, ROOTFS_PROBE_SIZE, &head);
		FUZZ_ASSERT(rh == r);
		FUZZ_ASSERT(r < 0 || same(&info, &head));
	}
	FUZZ_ASSERT(rootfs_detect(NULL, size, &info) == -EINVAL);
	free(buf);
	return 0;
}
