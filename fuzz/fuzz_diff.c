/* SPDX-License-Identifier: MIT */
/* diff_classify() on every mode, and diff_walk() over an upper and a lower
 * tree built from the input in a temp dir (FWT_FUZZ_TMP, else /dev/shm).
 *
 * The input is a list of 3-byte records: op, then a path code (1-3 parts,
 * each one of a few names, some with ',' ':' or a space). Ops make dirs,
 * files, symlinks and FIFOs in either tree, and in upper: whiteouts (char
 * device 0/0, or an empty file with trusted.overlay.whiteout), opaque dirs
 * (trusted.overlay.opaque=y) and chmods. Whiteouts and trusted.* xattrs need
 * root (CAP_MKNOD, CAP_SYS_ADMIN): without it those ops are skipped and the
 * rest still runs. The first byte's low bit says whether to pass lower.
 *
 * Checked: the walk succeeds; paths come sorted, unique, absolute, without
 * "//" or a trailing '/'; A is never in lower, D always is (or is an upper
 * whiteout when lower is not given), every upper non-dir that is not a
 * whiteout is listed as A or M, and every upper whiteout over a lower entry
 * is listed as D. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../state.h"
#include "fuzz.h"

#define MAX_OPS 48
#define MAX_CHANGES 512

static char base[PATH_MAX];
static char upper[PATH_MAX + 8], lower[PATH_MAX + 8];
static bool root;

static const char *const names[] = { "a", "b", "etc", "x,y", "p:q", "s p" };

struct change {
	enum diff_change ch;
	char path[PATH_MAX];
};
static struct change got[MAX_CHANGES];
static size_t ngot;

static int collect(enum diff_change ch, const char *path, void *userdata)
{
	(void)userdata;
	FUZZ_ASSERT(ngot < MAX_CHANGES);
	size_t len = strlen(path);
	FUZZ_ASSERT(len < PATH_MAX);
	got[ngot].ch = ch;
	memcpy(got[ngot].path, path, len + 1);
	ngot++;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
	if (base[0])
		rm_tree(base);
}

static void setup_once(void)
{
	if (base[0])
		return;
	const char *tmp = getenv("FWT_FUZZ_TMP");
	snprintf(base, sizeof(base), "%s/fwt.fuzzdiff.XXXXXX", tmp ? tmp : "/dev/shm");
	FUZZ_ASSERT(mkdtemp(base));
	snprintf(upper, sizeof(upper), "%s/upper", base);
	snprintf(lower, sizeof(lower), "%s/lower", base);
	root = geteuid() == 0;
	atexit(cleanup);
}

/* Decode a path from code; rel gets "/a/b" form. Returns the depth. */
static int decode_path(uint8_t code, char *rel, size_t size)
{
	int depth = 1 + code % 3;
	unsigned bits = code / 3;
	size_t n = 0;

	rel[0] = '\0';
	for (int i = 0; i < depth; i++) {
		int w = snprintf(rel + n, size - n, "/%s", names[bits % 6]);
		FUZZ_ASSERT(w > 0 && (size_t)w < size - n);
		n += (size_t)w;
		bits /= 6;
	}
	return depth;
}

/* Make the parents of tree+rel as directories (failures are fine: a
 * parent may already be a file). */
static void make_parents(const char *tree, const char *rel)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s%s", tree, rel);
	for (char *s = p + strlen(tree) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
}

static void apply(uint8_t op, uint8_t code, uint8_t arg)
{
	char rel[PATH_MAX], p[PATH_MAX * 2];
	bool in_upper = op & 1;
	const char *tree = in_upper ? upper : lower;
	int fd;

	decode_path(code, rel, sizeof(rel));
	snprintf(p, sizeof(p), "%s%s", tree, rel);
	make_parents(tree, rel);
	switch ((op >> 1) % 8) {
	case 0:
		mkdir(p, 0755);
		break;
	case 1:
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0) {
			if (arg & 1)
				(void)!write(fd, "x", 1);
			close(fd);
		}
		break;
	case 2:
		(void)!symlink(arg & 1 ? "nowhere" : "../nowhere", p);
		break;
	case 3:
		mkfifo(p, 0644);
		break;
	case 4:	/* whiteout: a 0/0 char device */
		if (in_upper && root)
			mknod(p, S_IFCHR | 0, makedev(0, 0));
		break;
	case 5:	/* whiteout: an empty file with the xattr */
		if (in_upper && root) {
			fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (fd >= 0) {
				fsetxattr(fd, "trusted.overlay.whiteout", "", 0, 0);
				close(fd);
			}
		}
		break;
	case 6:	/* opaque dir */
		if (in_upper && root) {
			mkdir(p, 0755);
			fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				fsetxattr(fd, "trusted.overlay.opaque", arg & 1 ? "y" : "n", 1, 0);
				close(fd);
			}
		}
		break;
	case 7:
		fchmodat(AT_FDCWD, p, arg & 2 ? 0700 : 0750, 0);
		break;
	}
}

static bool exists(const char *tree, const char *rel, struct stat *st)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s%s", tree, rel);
	return lstat(p, st) == 0;
}

static bool is_whiteout(const char *rel)
{
	struct stat st;
	char p[PATH_MAX * 2];

	if (!exists(upper, rel, &st))
		return false;
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
		return true;
	if (!S_ISREG(st.st_mode) || st.st_size != 0)
		return false;
	snprintf(p, sizeof(p), "%s%s", upper, rel);
	return lgetxattr(p, "trusted.overlay.whiteout", NULL, 0) >= 0;
}

static const struct change *find(const char *rel)
{
	for (size_t i = 0; i < ngot; i++)
		if (!strcmp(got[i].path, rel))
			return &got[i];
	return NULL;
}

static bool with_lower;

/* Check every upper entry against the list. */
static int check_upper(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	const char *rel = path + strlen(upper);
	struct stat lst;

	if (ftw->level == 0)
		return 0;
	const struct change *c = find(rel);
	bool wo = is_whiteout(rel);
	if (wo) {
		if (with_lower && exists(lower, rel, &lst))
			FUZZ_ASSERT(c && c->ch == DIFF_DELETED);
		else if (!with_lower)
			FUZZ_ASSERT(c && c->ch == DIFF_DELETED);
		else
			FUZZ_ASSERT(!c);
	} else if (!S_ISDIR(st->st_mode)) {
		FUZZ_ASSERT(c && (c->ch == DIFF_ADDED || c->ch == DIFF_MODIFIED));
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Every mode, with and without a lower entry. */
	if (size >= 3) {
		mode_t mode = (mode_t)data[0] << 12;
		dev_t rdev = makedev(data[1] & 3, data[2] & 3);
		enum diff_change ch = diff_classify(mode, rdev, data[1] & 4, data[1] & 8);
		FUZZ_ASSERT(ch >= DIFF_NONE && ch <= DIFF_OPAQUE);
		FUZZ_ASSERT(ch == DIFF_NONE || diff_letter(ch) != '?');
		if (!(data[1] & 8))
			FUZZ_ASSERT(ch == DIFF_ADDED || ch == DIFF_NONE);
	}
	if (size < 1 || size > 1 + 3 * MAX_OPS)
		return 0;

	setup_once();
	FUZZ_ASSERT(mkdir(upper, 0755) == 0);
	FUZZ_ASSERT(mkdir(lower, 0755) == 0);
	with_lower = data[0] & 1;
	for (size_t i = 1; i + 3 <= size; i += 3)
		apply(data[i], data[i + 1], data[i + 2]);

	struct fw_error e = { 0 };
	ngot = 0;
	int r = diff_walk(upper, with_lower ? lower : NULL, collect, NULL, &e);
	FUZZ_ASSERT(r == 0);

	struct stat st;
	for (size_t i = 0; i < ngot; i++) {
		const char *p = got[i].path;
		FUZZ_ASSERT(p[0] == '/' && p[1] && !strstr(p, "//") && p[strlen(p) - 1] != '/');
		FUZZ_ASSERT(i == 0 || strcmp(got[i - 1].path, p) < 0);
		switch (got[i].ch) {
		case DIFF_ADDED:
			FUZZ_ASSERT(exists(upper, p, &st) && !is_whiteout(p));
			FUZZ_ASSERT(!with_lower || !exists(lower, p, &st));
			break;
		case DIFF_MODIFIED:
			FUZZ_ASSERT(exists(upper, p, &st) && !is_whiteout(p));
			FUZZ_ASSERT(with_lower && exists(lower, p, &st));
			break;
		case DIFF_DELETED:
			if (with_lower)
				FUZZ_ASSERT(exists(lower, p, &st));
			else
				FUZZ_ASSERT(is_whiteout(p));
			break;
		default:
			FUZZ_ASSERT(!"unexpected change kind");
		}
	}
	nftw(upper, check_upper, 16, FTW_PHYS);

	rm_tree(upper);
	rm_tree(lower);
	return 0;
}
