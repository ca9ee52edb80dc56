/* SPDX-License-Identifier: MIT */
/* vmprobe: a stand-in for test/probe.c, used by test/vm/run only while
 * test/probe.c is not in the tree. Same output style ("key=value" lines):
 *   vmprobe report     pid, uid, LSM label, then report=done
 * Static, so the test image needs nothing else. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void label(void)
{
	char buf[256];
	int fd = open("/proc/self/attr/current", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n < 0) {
		printf("label=ERR\n");
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("label=%s\n", buf);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "report") == 0) {
			printf("pid=%d\n", (int)getpid());
			printf("uid=%d\n", (int)getuid());
			label();
			printf("report=done\n");
		} else {
			printf("error=%s: unknown command\n", argv[i]);
			return 2;
		}
	}
	return 0;
}
