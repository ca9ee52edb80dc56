#!/bin/bash
# SPDX-License-Identifier: MIT
# The frame path: a host process opens the tap (TUNSETIFF) before fwrun runs
# and holds its fd; the firmware sends on the moved interface (busybox arping
# and ping as the init); the holder reads that ARP request from its fd. The
# fd survives the move in and out: the tap is still there, held, afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net.sh"
need_net
need_cmd cc
net_fw_image

cat >"$T/tapread.c" <<'C'
#include <fcntl.h>
#include <stdlib.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
/* tapread IFNAME A.B.C.D SECS: open the tap, say "ready", then wait for an
 * ARP request for A.B.C.D: print "arp-seen from <sender>" and keep the fd
 * until killed; "timeout" and exit 1 after SECS. */
int main(int argc, char **argv)
{
	struct ifreq ifr = { 0 };
	unsigned char want[4], f[2048];
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (argc != 4 || fd < 0 || sscanf(argv[2], "%hhu.%hhu.%hhu.%hhu", &want[0], &want[1],
					  &want[2], &want[3]) != 4)
		return 2;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return perror("TUNSETIFF"), 2;
	printf("ready\n");
	fflush(stdout);
	for (int ms = atoi(argv[3]) * 1000; ms > 0; ms -= 100) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = read(fd, f, sizeof(f));
		if (n >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 &&
		    !memcmp(f + 38, want, 4)) {
			printf("arp-seen from %u.%u.%u.%u\n", f[28], f[29], f[30], f[31]);
			fflush(stdout);
			pause();	/* hold the fd until killed */
			return 0;
		}
	}
	printf("timeout\n");
	return 1;
}
C
cc -O2 -o "$T/tapread" "$T/tapread.c" || die "cannot build tapread"

tap=${PFX}f0
net_snapshot "$T/links.before"
"$T/tapread" "$tap" 10.9.7.1 20 >"$T/holder.out" 2>&1 &
HOLDER=$!
FWT_PIDS+=("$HOLDER")
wait_line "$T/holder.out" '^ready$' 5 || die "tapread not ready: $(cat "$T/holder.out")"
[ -e "/sys/class/net/$tap" ] || die "no $tap on the host"

# The firmware sends: arping (raw ARP), then ping (ARP resolution first).
run_fwrun --rootfs "$T/fw" --name "$PFX-f" --ephemeral --tap "$tap:eth1:10.9.7.2/24" \
	-- /bin/busybox sh -c '/bin/busybox arping -c 2 -w 2 -I eth1 10.9.7.1; /bin/busybox ping -c 1 -W 1 10.9.7.1; true'
assert_status 0 "frame: run"
wait_line "$T/holder.out" '^arp-seen from 10\.9\.7\.2$' 5 ||
	fail "frame: the holder did not see the firmware's ARP request: $(cat "$T/holder.out")"
# The holder's tap is back on the host, still the holder's (not persistent:
# it exists only while that fd is open).
[ -e "/sys/class/net/$tap" ] || fail "frame: $tap is not back on the host"
kill -0 "$HOLDER" 2>/dev/null || fail "frame: the holder died"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
for i in $(seq 1 20); do [ -e "/sys/class/net/$tap" ] || break; sleep 0.05; done
[ -e "/sys/class/net/$tap" ] && fail "frame: $tap outlived its holder"
net_unchanged "$T/links.before" "frame"
