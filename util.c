/* SPDX-License-Identifier: MIT */
#include "util.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdio.h>
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

const char *fw_proc_status(const char *key, char *buf, size_t size)
{
	char want[32];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : fw_read_all(fd, buf, size - 1);
	const char *p;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	snprintf(want, sizeof(want), "\n%s:", key);
	p = strstr(buf, want);
	return p ? p + strlen(want) : NULL;
}

int fw_write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	ssize_t n = fw_write_all(fd, text, strlen(text));
	return n < 0 ? (int)n : 0;
}

int fw_lock_at(int dfd, const char *name, char *holder, size_t holder_size)
{
	struct stat st, now;

	if (holder && holder_size)
		holder[0] = '\0';
	for (;;) {
		_cleanup_close_ int fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
						O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode))
			return -EINVAL;
		int locked = flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : -errno;
		if (locked == -EINTR)
			continue;
		if (holder && holder_size) {
			ssize_t n = pread(fd, holder, holder_size - 1, 0);
			holder[n > 0 ? n : 0] = '\0';
		}
		if (locked == -EWOULDBLOCK)
			return -EBUSY;
		if (locked < 0)
			return locked;
		/* A holder unlinks the file when it lets go (fw_unlock_at): if
		 * ours was unlinked between open and flock, take the new one. */
		if (fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
		    now.st_ino == st.st_ino && now.st_dev == st.st_dev)
			return fw_take_fd(&fd);
	}
}

void fw_unlock_at(int dfd, const char *name, int fd)
{
	if (fd < 0)
		return;
	unlinkat(dfd, name, 0);	/* while still holding it: see fw_lock_at */
	close(fd);
}

int fw_lock_write(int fd, const char *text)
{
	size_t len = strlen(text);
	struct stat st;

	/* Overwrite in place and cut only what is left over: a truncation
	 * to 0 would make ext4 flush the file at close (auto_da_alloc), a
	 * cost on every run for a few bytes. */
	if (len && pwrite(fd, text, len, 0) != (ssize_t)len)
		return -EIO;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((size_t)st.st_size != len && ftruncate(fd, (off_t)len) < 0)
		return -errno;
	return 0;
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

const char *fw_file_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symlink";
	default:
		return "not a regular file";
	}
}

long fw_parse_decimal(const char *s, long max, const char **end)
{
	long v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (max - (*p - '0')) / 10) {
			v = -1;
			break;
		}
		v = v * 10 + (*p - '0');
	}
	if (end)
		*end = p;
	return p == s ? -1 : v;
}

void fw_discard(void *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *c = p;
	size_t head = (page - (uintptr_t)c % page) % page;	/* to the first whole page */

	if (len <= head)
		return;
	size_t body = (len - head) / page * page;
	if (body)
		(void)madvise(c + head, body, MADV_DONTNEED);
}

void fw_discard_stack_below(const void *frame)
{
	/* No look at /proc/self/maps: below the stack's mapping lies its
	 * guard gap (1 MiB, where the kernel maps nothing), so a range that
	 * runs past the stack's lowest page into it only gets ENOMEM for the
	 * part that is not mapped; the mapped part is discarded all the same. */
	const size_t margin = (size_t)4 * 1024, span = (size_t)512 * 1024;
	char *at = (char *)frame;	/* ours: the caller's own stack */

	if ((uintptr_t)frame < span)
		return;
	fw_discard(at - span, span - margin);
}

void fw_discard_thread_stack_below(const void *frame)
{
	const size_t margin = (size_t)4 * 1024;
	pthread_attr_t attr;
	void *low = NULL;
	size_t size = 0;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	int r = pthread_attr_getstack(&attr, &low, &size);
	pthread_attr_destroy(&attr);
	/* frame must lie in this stack (not, say, a sanitizer's fake frame) */
	if (r != 0 || (const char *)frame < (char *)low + margin ||
	    (const char *)frame >= (char *)low + size)
		return;
	fw_discard(low, (size_t)((const char *)frame - (char *)low) - margin);
}
