/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>

int fw_fail(struct fw_error *e, int err, const char *what, const char *subject)
{
	return fw_fail_hint(e, err, what, subject, NULL);
}

int fw_fail_hint(struct fw_error *e, int err, const char *what, const char *subject,
		 const char *hint)
{
	if (err < 0)
		err = -err;
	if (e) {
		e->err = err;
		fw_strlcpy(e->what, what ? what : "", sizeof(e->what));
		fw_strlcpy(e->subject, subject ? subject : "", sizeof(e->subject));
		fw_strlcpy(e->hint, hint ? hint : "", sizeof(e->hint));
	}
	return -err;
}

void fw_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
	*fd = -1;
}

void fw_freep(void *p)
{
	free(*(void **)p);
}

ssize_t fw_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t fw_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int fw_write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t n = fw_write_all(fd, text, strlen(text));
	return n < 0 ? (int)n : 0;
}

uint64_t fw_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t fw_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
