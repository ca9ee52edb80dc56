/* SPDX-License-Identifier: MIT */
/* nl.c's applying half against the real kernel, in a network namespace of
 * this process's own (unshared once, before the tests: nothing of it is
 * seen from the host, nothing to clean up). Root only: skips otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nl.h"

static bool in_netns;

static int setup(void **state)
{
	(void)state;
	if (geteuid() == 0 && unshare(CLONE_NEWNET) == 0)
		in_netns = true;
	return 0;
}

/* s opened in the test's namespace (the test skips without one). */
static void open_sock(struct nl_sock *s)
{
	if (!in_netns) {
		print_message("skip: needs root (a network namespace of its own)\n");
		skip();
	}
	assert_int_equal(nl_open(s), 0);
}

static uint32_t seq = 1000;

/* RTM_NEWLINK / RTM_GETLINK of the link called name (index 0). */
static int link_req(void *buf, size_t size, uint16_t type, const char *name, bool up)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = nl_msg_start(&m, buf, size, type, NLM_F_ACK, ++seq, sizeof(*ifi));
	if (ifi && type == RTM_NEWLINK) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = up ? IFF_UP : 0;
	}
	nl_put_str(&m, IFLA_IFNAME, name);
	return nl_msg_end(&m);
}

struct link {
	int calls;
	int ifindex;
	unsigned flags;
	char name[IFNAMSIZ];
	uint32_t mtu;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link *l = data;
	const struct nlattr *tb[IFLA_MAX + 1];

	l->calls++;
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_seq, seq);
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	assert_int_equal(nl_parse(nlh, sizeof(*ifi), tb, IFLA_MAX), 0);
	const char *s = nl_attr_str(tb[IFLA_IFNAME]);
	assert_non_null(s);
	snprintf(l->name, sizeof(l->name), "%s", s);
	assert_true(nl_attr_u32(tb[IFLA_MTU], &l->mtu));
	return 0;
}

/* That link request (link_req) on s, l (may be NULL) getting the link:
 * nl_talk()'s result. */
static int talk_link(struct nl_sock *s, uint16_t type, const char *name, bool up,
		     struct link *l)
{
	NL_ALIGNED char req[256];

	assert_true(link_req(req, sizeof(req), type, name, up) > 0);
	return nl_talk(s, (void *)req, l ? link_cb : NULL, l);
}

static void test_open_close(void **state)
{
	struct nl_sock s = NL_SOCK_CLOSED;

	(void)state;
	open_sock(&s);
	assert_true(s.fd >= 0);
	assert_true(s.portid != 0);
	assert_true(fcntl(s.fd, F_GETFD) & FD_CLOEXEC);
	nl_close(&s);
	assert_int_equal(s.fd, -1);
	nl_close(&s);	/* twice: nothing */
	assert_int_equal(s.fd, -1);
}

/* lo up by name, then read back: the link, then the ACK. */
static void test_lo_up(void **state)
{
	_cleanup_nl_ struct nl_sock s = NL_SOCK_CLOSED;
	struct link l = { 0 };

	(void)state;
	open_sock(&s);
	assert_int_equal(talk_link(&s, RTM_NEWLINK, "lo", true, NULL), 0);
	assert_int_equal(talk_link(&s, RTM_GETLINK, "lo", false, &l), 0);
	assert_int_equal(l.calls, 1);
	assert_int_equal(l.ifindex, 1);
	assert_string_equal(l.name, "lo");
	assert_true(l.flags & IFF_UP);
	assert_true(l.flags & IFF_LOOPBACK);
	assert_int_equal(l.mtu, 65536);
}

/* The kernel's errors come back as -errno. */
static void test_errors(void **state)
{
	_cleanup_nl_ struct nl_sock s = NL_SOCK_CLOSED;
	NL_ALIGNED char req[256];
	struct link l = { 0 };

	(void)state;
	open_sock(&s);
	assert_int_equal(talk_link(&s, RTM_NEWLINK, "fwtnope", true, NULL), -ENODEV);
	assert_int_equal(talk_link(&s, RTM_GETLINK, "fwtnope", false, &l), -ENODEV);
	assert_int_equal(l.calls, 0);

	/* the same address twice, with NLM_F_EXCL */
	for (int i = 0; i < 2; i++) {
		struct nl_msg m;
		struct ifaddrmsg *ifa = nl_msg_start(&m, req, sizeof(req), RTM_NEWADDR,
						     NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, ++seq,
						     sizeof(*ifa));
		assert_non_null(ifa);
		ifa->ifa_family = AF_INET;
		ifa->ifa_prefixlen = 24;
		ifa->ifa_index = 1;
		uint32_t a = htonl(0x0a090001);	/* 10.9.0.1/24 */
		nl_put(&m, IFA_LOCAL, &a, 4);
		assert_true(nl_msg_end(&m) > 0);
		assert_int_equal(nl_talk(&s, (void *)req, NULL, NULL), i == 0 ? 0 : -EEXIST);
	}
}

/* An answer to an earlier request still in the socket (as after a
 * timeout) is passed over: the next request gets its own. */
static void test_stale_answer(void **state)
{
	_cleanup_nl_ struct nl_sock s = NL_SOCK_CLOSED;
	NL_ALIGNED char req[256];
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct link l = { 0 };

	(void)state;
	open_sock(&s);
	/* sent, never read: a link and its ACK, then an error */
	int len = link_req(req, sizeof(req), RTM_GETLINK, "lo", false);
	assert_int_equal(sendto(s.fd, req, (size_t)len, 0, (struct sockaddr *)&kernel,
				sizeof(kernel)),
			 len);
	len = link_req(req, sizeof(req), RTM_GETLINK, "fwtnope", false);
	assert_int_equal(sendto(s.fd, req, (size_t)len, 0, (struct sockaddr *)&kernel,
				sizeof(kernel)),
			 len);
	assert_int_equal(talk_link(&s, RTM_GETLINK, "lo", false, &l), 0);
	assert_int_equal(l.calls, 1);	/* link_cb checks it is this request's */
	assert_string_equal(l.name, "lo");
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	assert_int_equal(nlh->nlmsg_type, RTM_NEWROUTE);
	(*(int *)data)++;
	return 0;
}

/* A dump ends with NLMSG_DONE. */
static void test_dump(void **state)
{
	_cleanup_nl_ struct nl_sock s = NL_SOCK_CLOSED;
	NL_ALIGNED char req[256];
	struct nl_msg m;
	int routes = 0;

	(void)state;
	open_sock(&s);
	assert_int_equal(talk_link(&s, RTM_NEWLINK, "lo", true, NULL), 0);
	struct rtmsg *rtm = nl_msg_start(&m, req, sizeof(req), RTM_GETROUTE, NLM_F_DUMP, ++seq,
					 sizeof(*rtm));
	assert_non_null(rtm);
	rtm->rtm_family = AF_INET;
	assert_true(nl_msg_end(&m) > 0);
	assert_int_equal(nl_talk(&s, (void *)req, route_cb, &routes), 0);
	assert_true(routes >= 2);	/* lo's local routes, 127.0.0.0/8 and 127.0.0.1 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_close),
		cmocka_unit_test(test_lo_up),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_stale_answer),
		cmocka_unit_test(test_dump),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
