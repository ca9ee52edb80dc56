/* SPDX-License-Identifier: MIT */
/* The overlay over the read-only rootfs: its mount options (pure,
 * unit-tested) and its mount, with a hint for each way the kernel refuses
 * an upper dir. */
#include "overlay.h"
#include "fault.h"

#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

static bool needs_escape(char c)
{
	return c == ',' || c == ':' || c == '\\';
}

int overlay_escape(const char *path, char *out, size_t out_size)
{
	size_t n = 0;

	for (const char *p = path; *p; p++) {
		size_t need = needs_escape(*p) ? 2 : 1;
		if (n + need >= out_size)
			return -ENAMETOOLONG;
		if (need == 2)
			out[n++] = '\\';
		out[n++] = *p;
	}
	if (n >= out_size)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return (int)n;
}

/* Append "key=<escaped path>" at buf[*n]. */
static int append_opt(char *buf, size_t size, size_t *n, const char *key, const char *path)
{
	size_t klen = strlen(key);

	if (*n + klen >= size)
		return -ENAMETOOLONG;
	memcpy(buf + *n, key, klen + 1);
	*n += klen;
	int r = overlay_escape(path, buf + *n, size - *n);
	if (r < 0)
		return r;
	*n += (size_t)r;
	return 0;
}

int overlay_options(char *buf, size_t size, const char *lower, const char *upper,
		    const char *work)
{
	size_t n = 0;
	int r;

	if (!buf || !lower || !*lower || !upper != !work)
		return -EINVAL;
	r = append_opt(buf, size, &n, "lowerdir=", lower);
	if (r == 0 && upper)
		r = append_opt(buf, size, &n, ",upperdir=", upper);
	if (r == 0 && work)
		r = append_opt(buf, size, &n, ",workdir=", work);
	if (r == 0 && work)
		r = append_opt(buf, size, &n, ",volatile", "");
	if (r < 0) {
		if (size)
			buf[0] = '\0';
		return r;
	}
	return (int)n;
}

/* mount(2) copies at most one page of options. */
#define OVERLAY_OPTS_MAX 4096

int overlay_mount(const char *lower, const char *upper, const char *work,
		  const char *target, struct fw_error *e)
{
	char opts[OVERLAY_OPTS_MAX];
	struct stat st;

	int r = overlay_options(opts, sizeof(opts), lower, upper, work);
	if (r < 0)
		return fw_fail_hint(e, r, "build overlay options for", upper ? upper : lower,
				    "the escaped paths must fit in 4095 bytes");
	if (!FW_FAULT(OVERLAY_MOUNT) && mount("overlay", target, "overlay", 0, opts) == 0)
		return 0;

	int err = errno;
	switch (err) {
	case ENODEV:
		return fw_fail_hint(e, err, "mount overlay on", target,
				    "is the overlay module loaded?");
	case ENOENT:
	case ENOTDIR: {
		/* Name the directory that is missing. */
		const char *paths[] = { lower, upper, work, target };
		for (size_t i = 0; i < FW_ARRAY_SIZE(paths); i++)
			if (paths[i] && stat(paths[i], &st) < 0)
				return fw_fail(e, errno, "mount overlay: find", paths[i]);
		break;
	}
	}
	/* What the kernel's errno means when it refuses the upper dir. */
	static const struct { int err; const char *hint; } upper_hints[] = {
		{ EBUSY, "is it in use by another overlay mount?" },
		{ EROFS, "the upper dir must be on a writable file system" },
		{ ESTALE, "it was used with another rootfs: reset it" },
		{ ELOOP, "is the state dir inside the rootfs directory, or the reverse?" },
		{ EINVAL, "does its file system support overlayfs (xattrs, d_type)? see dmesg" },
		{ EOPNOTSUPP, "does its file system support overlayfs (xattrs, d_type)? see dmesg" },
	};
	for (size_t i = 0; upper && i < FW_ARRAY_SIZE(upper_hints); i++)
		if (upper_hints[i].err == err)
			return fw_fail_hint(e, err, "mount overlay with upper dir", upper,
					    upper_hints[i].hint);
	return fw_fail(e, err, "mount overlay on", target);
}
