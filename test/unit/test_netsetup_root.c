/* SPDX-License-Identifier: MIT */
/* The applying half of netsetup, run for real through its API: a network
 * namespace made here (anonymous, held by an fd, like the firmware's), taps
 * and veths with the fwtn prefix, move in / configure inside / restore, and
 * after each test the host's fwtn* links exactly as before. Root only: skips
 * otherwise. Uses ip(8) to set up and to look, never netsetup itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "netsetup.h"
#include "rundir.h"

/* Every name this test makes holds P, "fwtR" + 2 random characters, so
 * that two runs of it at once (other worktrees, CI) never meet; the capital
 * R keeps it apart from lib.sh's lowercase fwt prefixes (and from older
 * builds of this test, which deleted every fwtn* link). Written "fwtn" in
 * the source: X() and the shell helpers put P in its place. */
static char P[7] = "fwtR";

static const char *X(const char *s)
{
	static char bufs[8][256];
	static int next;
	char *out = bufs[next++ % 8], *o = out;

	while (*s && o < out + 240) {
		if (!strncmp(s, "fwtn", 4)) {
			memcpy(o, P, 6);
			o += 6;
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

/* Our links only: other tests create links at the same time. */
static char before[8192];

static void snapshot(char *buf, size_t size)
{
	/* name and UP/DOWN admin state of every link whose name has fwtn */
	FILE *f = popen(X("ip -o link show | awk -F': ' '{print $2, $3}' | "
			"sed -n 's/^\\([^ @]*\\)[^ ]* <\\([^>]*\\)>.*/\\1 \\2/p' | "
			"grep fwtn | sed 's/,LOWER_UP//; s/NO-CARRIER,//' | sort"), "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	pclose(f);
}

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int ws = system(X(cmd));
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128;
}

/* Run a shell command inside the namespace netns_fd. */
static int sh_in(int netns_fd, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setns(netns_fd, CLONE_NEWNET) < 0)
			_exit(99);
		execl("/bin/sh", "sh", "-c", X(cmd), (char *)NULL);
		_exit(98);
	}
	int ws;
	waitpid(pid, &ws, 0);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128;
}

/* A new anonymous network namespace, held by the returned fd. */
static int new_netns(void)
{
	int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(host >= 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(setns(host, CLONE_NEWNET), 0);
	close(host);
	return fd;
}

static void cleanup_links(void)
{
	sh("for l in $(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep fwtn); "
	   "do ip link del \"$l\" 2>/dev/null; done; true");
}

static int setup(void **state)
{
	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) < 0 || sh("ip -V >/dev/null 2>&1"))
		return 0;
	/* /run/fwrun/net is rundir.c's to make, as fwrun does before a run */
	struct fw_error e = { 0 };
	if (rundir_ensure(&e) < 0) {
		print_error("%s '%s': %s (%s)\n", e.what, e.subject, strerror(e.err), e.hint);
		return -1;
	}
	cleanup_links();
	snapshot(before, sizeof(before));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	char after[8192];
	snapshot(after, sizeof(after));
	cleanup_links();
	sh("rm -f " NET_STATE_DIR "/if-fwtn* " NET_STATE_DIR "/if-fw-fwtn*");
	if (strcmp(before, after)) {
		print_error("host links changed:\n--- before\n%s--- after\n%s", before, after);
		return -1;
	}
	return 0;
}

static void need_root(void)
{
	if (geteuid() == 0 && access("/dev/net/tun", F_OK) < 0)
		sh("modprobe -q tun 2>/dev/null");
	if (geteuid() != 0) {
		print_message("skip: needs root (moves interfaces between namespaces)\n");
		skip();
	}
	if (access("/dev/net/tun", R_OK | W_OK) < 0) {
		print_message("skip: no /dev/net/tun\n");
		skip();
	}
	if (sh("ip -V >/dev/null 2>&1")) {
		print_message("skip: the test needs ip(8) to look\n");
		skip();
	}
}

static void run_ok(int r, const struct fw_error *e)
{
	if (r < 0)
		fail_msg("%s '%s': %s (%s)", e->what, e->subject, strerror(e->err), e->hint);
}

/* The state of a run of instance with --veth (veth) and the --tap specs
 * given, NULL-terminated; as fwrun makes it, from a parsed spec. */
static void state_of(struct net_state *st, const char *instance, bool veth, ...)
{
	struct net_spec spec;
	struct fw_error e = { 0 };
	const char *tap;
	va_list ap;

	net_spec_init(&spec);
	va_start(ap, veth);
	while ((tap = va_arg(ap, const char *)))
		run_ok(net_spec_add_tap(&spec, tap, &e), &e);
	va_end(ap);
	if (veth)
		run_ok(net_spec_set_veth(&spec, NULL, &e), &e);
	net_state_init(st, &spec, instance);
}

/* An existing tap (up) and a veth end (down) borrowed, renamed, addressed,
 * then given back with name and state. */
static void test_borrow_and_give_back(void **state)
{
	struct net_state p;
	struct fw_error e = { 0 };

	(void)state;
	need_root();
	assert_int_equal(sh("ip tuntap add fwtnt0 mode tap && ip link set fwtnt0 up"), 0);
	assert_int_equal(sh("ip link add fwtnva type veth peer name fwtnvb"), 0);
	snapshot(before, sizeof(before));
	int ns = new_netns();

	state_of(&p, X("fwtnone"), false, X("fwtnt0:fwtnin0:10.9.0.2/24"),
		 X("fwtnva:fwtnin1:fd00:9::2/64"), (const char *)NULL);
	run_ok(net_validate(&p, &e), &e);
	assert_true(p.links[0].host_flags & IFF_UP);
	assert_false(p.links[1].host_flags & IFF_UP);
	assert_string_equal(p.links[0].kind, "tun");
	assert_string_equal(p.links[1].kind, "veth");
	run_ok(net_prepare(&p, &e), &e);
	run_ok(net_move_in(&p, ns, &e), &e);
	assert_int_not_equal(sh("ip link show fwtnt0 >/dev/null 2>&1"), 0);
	assert_int_not_equal(sh("ip link show fwtnva >/dev/null 2>&1"), 0);
	run_ok(net_inside(&p, ns, &e), &e);
	assert_int_equal(sh_in(ns, "ip -o addr show dev fwtnin0 | grep -q 'inet 10.9.0.2/24'"), 0);
	assert_int_equal(sh_in(ns, "ip -o addr show dev fwtnin1 | grep -q 'inet6 fd00:9::2/64'"), 0);
	assert_int_equal(sh_in(ns, "ip -o link show dev fwtnin1 | grep -q '[<,]UP[,>]'"), 0);
	assert_int_equal(sh_in(ns, "ip -o link show dev lo | grep -q '[<,]UP[,>]'"), 0);
	/* the veth's other end still sees its peer: the firmware is reachable */
	assert_int_equal(sh_in(ns, "ping -6 -c1 -W2 fd00:9::2 >/dev/null 2>&1 || "
			       "busybox ping -c1 -W2 fd00:9::2 >/dev/null"), 0);
	run_ok(net_restore(&p, ns, &e), &e);
	assert_int_equal(sh("ip -o link show fwtnt0 | grep -q '[<,]UP[,>]'"), 0);
	assert_int_not_equal(sh("ip -o link show fwtnva | grep -q '[<,]UP[,>]'"), 0);
	assert_int_equal(sh_in(ns, "ip -o link | grep -q fwtn"), 1);
	/* a second restore is harmless */
	run_ok(net_restore(&p, ns, &e), &e);
	close(ns);
	/* teardown compares with the snapshot taken after our own setup */
}

/* A missing tap is created, moved, and deleted at exit; also when the run
 * fails after the move, before anything inside. */
static void test_missing_tap(void **state)
{
	struct net_state p;
	struct fw_error e = { 0 };

	(void)state;
	need_root();
	int ns = new_netns();
	state_of(&p, X("fwtntwo"), false, X("fwtnnew0:eth7"), (const char *)NULL);
	run_ok(net_validate(&p, &e), &e);
	assert_int_equal(p.links[0].host_ifindex, 0);
	run_ok(net_prepare(&p, &e), &e);
	assert_true(p.links[0].created);
	assert_int_equal(sh("ip -d link show fwtnnew0 | grep -q tun"), 0);
	run_ok(net_move_in(&p, ns, &e), &e);
	assert_int_equal(sh_in(ns, "ip link show eth7 >/dev/null"), 0);
	/* no net_inside: the setup failed half way */
	run_ok(net_restore(&p, ns, &e), &e);
	assert_int_not_equal(sh("ip link show fwtnnew0 >/dev/null 2>&1"), 0);
	/* ours: left to the namespace, which deletes it when it dies (with
	 * this fd, here); never handed back to the host */
	assert_int_equal(sh_in(ns, "ip link show eth7 >/dev/null 2>&1"), 0);
	assert_false(p.links[0].created || p.links[0].moved);
	close(ns);

	/* The same state again, as a restart does: a new namespace, all anew. */
	ns = new_netns();
	run_ok(net_validate(&p, &e), &e);
	run_ok(net_prepare(&p, &e), &e);
	assert_true(p.links[0].created);
	run_ok(net_move_in(&p, ns, &e), &e);
	run_ok(net_inside(&p, ns, &e), &e);
	assert_int_equal(sh_in(ns, "ip -o link show dev eth7 | grep -q '[<,]UP[,>]'"), 0);
	run_ok(net_restore(&p, ns, &e), &e);
	assert_int_not_equal(sh("ip link show fwtnnew0 >/dev/null 2>&1"), 0);
	close(ns);

	/* created, then failed before the move */
	state_of(&p, X("fwtntwo"), false, X("fwtnnew1"), (const char *)NULL);
	run_ok(net_validate(&p, &e), &e);
	run_ok(net_prepare(&p, &e), &e);
	assert_int_equal(sh("ip link show fwtnnew1 >/dev/null"), 0);
	run_ok(net_restore(&p, -1, &e), &e);
	assert_int_not_equal(sh("ip link show fwtnnew1 >/dev/null 2>&1"), 0);
}

/* --veth: host end fw-NAME with .254, firmware eth0 .1 with its default
 * route; two at once get two subnets; the host pings the firmware. */
static void test_veth(void **state)
{
	struct net_state p, q;
	struct fw_error e = { 0 };
	char addr[64];

	(void)state;
	need_root();
	int ns = new_netns(), ns2 = new_netns();
	state_of(&p, X("fwtnveth"), true, (const char *)NULL);
	run_ok(net_validate(&p, &e), &e);
	assert_string_equal(p.veth_host_name, X("fw-fwtnveth"));
	run_ok(net_prepare(&p, &e), &e);
	assert_true(p.veth_n >= 0);
	run_ok(net_move_in(&p, ns, &e), &e);
	run_ok(net_inside(&p, ns, &e), &e);

	state_of(&q, X("fwtnveth-second-long"), true, (const char *)NULL);
	run_ok(net_validate(&q, &e), &e);
	run_ok(net_prepare(&q, &e), &e);
	assert_int_not_equal(q.veth_n, p.veth_n);
	run_ok(net_move_in(&q, ns2, &e), &e);
	run_ok(net_inside(&q, ns2, &e), &e);
	assert_int_equal(strlen(q.veth_host_name), 15);

	/* another run may not borrow a running instance's host end */
	struct net_state r;
	state_of(&r, X("fwtnthief"), false, X("fw-fwtnveth"), (const char *)NULL);
	assert_int_equal(net_validate(&r, &e), -EBUSY);
	assert_non_null(strstr(e.hint, X("'fwtnveth'")));
	net_restore(&r, -1, &e);

	net_format_cidr(&p.veth_host, addr, sizeof(addr));
	assert_int_equal(sh("ip -o addr show dev fw-fwtnveth | grep -q 'inet %s'", addr), 0);
	net_format_cidr(&p.veth_fw, addr, sizeof(addr));
	assert_int_equal(sh_in(ns, "ip -o addr show dev eth0 | grep -q 'inet %s'", addr), 0);
	*strchr(addr, '/') = '\0';
	assert_int_equal(sh("ping -c1 -W2 %s >/dev/null 2>&1 || busybox ping -c1 -W2 %s >/dev/null",
			    addr, addr), 0);
	net_format_cidr(&p.veth_host, addr, sizeof(addr));
	*strchr(addr, '/') = '\0';
	assert_int_equal(sh_in(ns, "ip route show default | grep -q 'via %s dev eth0'", addr), 0);

	run_ok(net_restore(&q, ns2, &e), &e);
	run_ok(net_restore(&p, ns, &e), &e);
	assert_int_not_equal(sh("ip link show fw-fwtnveth >/dev/null 2>&1"), 0);
	assert_int_not_equal(sh_in(ns, "ip link show eth0 >/dev/null 2>&1"), 0);

	/* the subnet is free again: not ours any more (another run of this
	 * test may have taken it since, so look at the holder, not the lock) */
	char path[64], rec[128] = "", mine[32];
	snprintf(path, sizeof(path), NET_STATE_DIR "/veth-%d", p.veth_n);
	snprintf(mine, sizeof(mine), "%ld ", (long)getpid());
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* released locks take their file with them */
		assert_int_equal(errno, ENOENT);
	} else {
		assert_true(read(fd, rec, sizeof(rec) - 1) >= 0);
		close(fd);
		assert_false(!strncmp(rec, mine, strlen(mine)));
	}
	assert_int_equal(p.veth_lock_fd, -1);
	state_of(&q, X("fwtnveth"), true, (const char *)NULL);
	run_ok(net_validate(&q, &e), &e);
	run_ok(net_prepare(&q, &e), &e);
	assert_true(q.veth_n >= 0);
	run_ok(net_restore(&q, ns, &e), &e);
	close(ns);
	close(ns2);
}

/* Refusals before anything is touched. */
static void test_refusals(void **state)
{
	struct net_state p, q;
	struct fw_error e = { 0 };
	char dev[IFNAMSIZ] = "";

	(void)state;
	need_root();
	int ns = new_netns();

	/* in use by another running instance */
	state_of(&p, X("fwtnbusy1"), false, X("fwtnb0"), (const char *)NULL);
	run_ok(net_validate(&p, &e), &e);
	run_ok(net_prepare(&p, &e), &e);
	run_ok(net_move_in(&p, ns, &e), &e);
	state_of(&q, X("fwtnbusy2"), false, X("fwtnb0"), (const char *)NULL);
	assert_int_equal(net_validate(&q, &e), -EBUSY);
	assert_string_equal(e.subject, X("fwtnb0"));
	assert_non_null(strstr(e.hint, X("fwtnbusy1")));
	run_ok(net_restore(&q, -1, &e), &e);
	run_ok(net_restore(&p, ns, &e), &e);

	/* the host's default-route interface: refused, and untouched */
	FILE *f = popen("ip route show default | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p' | head -1", "r");
	if (f && fscanf(f, "%15s", dev) == 1) {
		state_of(&p, X("fwtndef"), false, dev, (const char *)NULL);
		assert_int_equal(net_validate(&p, &e), -EPERM);
		assert_string_equal(e.subject, dev);
		assert_non_null(strstr(e.hint, "--force-default-route"));
		assert_int_equal(sh("ip link show %s >/dev/null", dev), 0);
		run_ok(net_restore(&p, -1, &e), &e);
	} else {
		print_message("note: no default route on this host, that case untested\n");
	}
	if (f)
		pclose(f);

	/* lo cannot be borrowed */
	state_of(&p, X("fwtnlo"), false, X("lo:fwtnlo"), (const char *)NULL);
	assert_int_equal(net_validate(&p, &e), -EINVAL);
	run_ok(net_restore(&p, -1, &e), &e);
	close(ns);
}

/* fwrun SIGKILLed with a borrowed tap inside: the tap dies with the
 * namespace, and the next run with it says so, once. */
static void test_killed(void **state)
{
	struct net_state p;
	struct fw_error e = { 0 };
	int sv[2];

	(void)state;
	need_root();
	assert_int_equal(sh("ip tuntap add fwtnk0 mode tap"), 0);
	assert_int_equal(pipe2(sv, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ns = new_netns();
		state_of(&p, X("fwtnkilled"), false, X("fwtnk0"), (const char *)NULL);
		if (net_validate(&p, &e) < 0 || net_prepare(&p, &e) < 0 ||
		    net_move_in(&p, ns, &e) < 0)
			_exit(1);
		if (write(sv[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(sv[1]);
	char c;
	assert_int_equal(read(sv[0], &c, 1), 1);
	close(sv[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	state_of(&p, X("fwtnnext"), false, X("fwtnk0"), (const char *)NULL);
	assert_int_equal(net_validate(&p, &e), -ENODEV);
	assert_string_equal(e.subject, X("fwtnk0"));
	assert_non_null(strstr(e.hint, "killed"));
	net_restore(&p, -1, &e);
	/* said once: the next run goes on and makes a tap */
	state_of(&p, X("fwtnnext"), false, X("fwtnk0"), (const char *)NULL);
	run_ok(net_validate(&p, &e), &e);
	assert_int_equal(p.links[0].host_ifindex, 0);
	run_ok(net_restore(&p, -1, &e), &e);
}

/* The frame path: a process holding the tap's fd (opened before) reads a
 * frame the firmware sends on the moved interface. */
static void test_frame_path(void **state)
{
	struct net_state p;
	struct fw_error e = { 0 };
	struct ifreq ifr;
	unsigned char frame[2048];

	(void)state;
	need_root();
	int tfd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(tfd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	fw_strlcpy(ifr.ifr_name, X("fwtnfp0"), sizeof(ifr.ifr_name));
	assert_int_equal(ioctl(tfd, TUNSETIFF, &ifr), 0);
	int ns = new_netns();

	state_of(&p, X("fwtnframe"), false, X("fwtnfp0:eth1:10.9.7.2/24"), (const char *)NULL);
	run_ok(net_validate(&p, &e), &e);
	assert_false(p.links[0].created);
	run_ok(net_prepare(&p, &e), &e);
	run_ok(net_move_in(&p, ns, &e), &e);
	run_ok(net_inside(&p, ns, &e), &e);
	/* drain whatever the link sent when it came up (IPv6 ND...) */
	while (poll(&(struct pollfd){ .fd = tfd, .events = POLLIN }, 1, 0) > 0 &&
	       read(tfd, frame, sizeof(frame)) > 0)
		;
	/* an ARP request for 10.9.7.1 out of eth1 */
	sh_in(ns, "(ping -c1 -W1 10.9.7.1 || busybox ping -c1 -W1 10.9.7.1) >/dev/null 2>&1 &");
	bool seen = false;
	for (int i = 0; i < 20 && !seen; i++) {
		if (poll(&(struct pollfd){ .fd = tfd, .events = POLLIN }, 1, 200) <= 0)
			continue;
		ssize_t n = read(tfd, frame, sizeof(frame));
		if (n >= 42 && frame[12] == 0x08 && frame[13] == 0x06 &&
		    !memcmp(frame + 38, (unsigned char[]){ 10, 9, 7, 1 }, 4))
			seen = true;
	}
	assert_true(seen);
	run_ok(net_restore(&p, ns, &e), &e);
	assert_int_equal(sh("ip link show fwtnfp0 >/dev/null"), 0);
	close(ns);
	close(tfd);	/* not persistent: goes away now */
}

int main(void)
{
	static const char b36[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned seed = (unsigned)getpid() ^ (unsigned)fw_now_ns();
	P[4] = b36[seed % 36];
	P[5] = b36[(seed / 36) % 36];
	P[6] = '\0';

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_borrow_and_give_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_tap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_veth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frame_path, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
