/* SPDX-License-Identifier: MIT */
/* The pure half of netsetup: specs, addresses, names, netlink requests
 * (checked by reading the built bytes back with a few lines of this file's
 * own, not with nl.c's parser). No root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <string.h>

#include "netsetup.h"

static void test_ifname(void **state)
{
	(void)state;
	assert_int_equal(net_ifname_check("tap0"), 0);
	assert_int_equal(net_ifname_check("fwt-a.b_c"), 0);
	assert_int_equal(net_ifname_check("123456789012345"), 0);
	assert_int_equal(net_ifname_check("1234567890123456"), -ENAMETOOLONG);
	assert_int_equal(net_ifname_check(""), -EINVAL);
	assert_int_equal(net_ifname_check("."), -EINVAL);
	assert_int_equal(net_ifname_check(".."), -EINVAL);
	assert_int_equal(net_ifname_check("..."), 0);
	assert_int_equal(net_ifname_check("a/b"), -EINVAL);
	assert_int_equal(net_ifname_check("a:b"), -EINVAL);
	assert_int_equal(net_ifname_check("a b"), -EINVAL);
	assert_int_equal(net_ifname_check("a\tb"), -EINVAL);
	assert_int_equal(net_ifname_check("tap%d"), -EINVAL);
	assert_int_equal(net_ifname_check("a\x01"), -EINVAL);
	assert_int_equal(net_ifname_check("caf\xc3\xa9"), -EINVAL);
}

static void check_cidr(const char *s, int family, unsigned prefix, const char *back)
{
	struct net_addr a;
	char buf[64];

	assert_int_equal(net_parse_cidr(s, &a), 0);
	assert_int_equal(a.family, family);
	assert_int_equal(a.prefix, prefix);
	assert_true(net_format_cidr(&a, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, back);
}

static void test_cidr(void **state)
{
	static const char *bad[] = {
		"", "10.0.0.1", "10.0.0.1/", "/24", "10.0.0.1/33", "10.0.0.1/-1",
		"10.0.0.1/24x", "10.0.0.1/2 4", "10.0.0/24", "10.0.0.256/24",
		"10.0.0.1/1000", "fd00::1/129", "fd00:::1/64", "fd00::1", "eth0/24",
		" 10.0.0.1/24", "10.0.0.1//24", "10.0.0.1/24/",
	};
	struct net_addr a;
	char small[8];

	(void)state;
	check_cidr("10.0.0.2/24", AF_INET, 24, "10.0.0.2/24");
	check_cidr("0.0.0.0/0", AF_INET, 0, "0.0.0.0/0");
	check_cidr("192.168.1.1/32", AF_INET, 32, "192.168.1.1/32");
	check_cidr("fd00::2/64", AF_INET6, 64, "fd00::2/64");
	check_cidr("FD00:0:0::2/128", AF_INET6, 128, "fd00::2/128");
	check_cidr("::ffff:10.0.0.1/96", AF_INET6, 96, "::ffff:10.0.0.1/96");
	for (size_t i = 0; i < FW_ARRAY_SIZE(bad); i++) {
		a.family = 99;
		if (net_parse_cidr(bad[i], &a) != -EINVAL)
			fail_msg("accepted bad CIDR '%s'", bad[i]);
		assert_int_equal(a.family, 0);
	}
	assert_int_equal(net_parse_cidr("10.0.0.2/24", &a), 0);
	assert_int_equal(net_format_cidr(&a, small, sizeof(small)), -ENOSPC);
}

static void test_tap_forms(void **state)
{
	struct net_tap_spec t;
	struct fw_error e = { 0 };

	(void)state;
	assert_int_equal(net_parse_tap("tap0", &t, &e), 0);
	assert_string_equal(t.ifname, "tap0");
	assert_string_equal(t.inner, "tap0");
	assert_int_equal(t.addr.family, 0);

	assert_int_equal(net_parse_tap("tap0:eth1", &t, &e), 0);
	assert_string_equal(t.ifname, "tap0");
	assert_string_equal(t.inner, "eth1");
	assert_int_equal(t.addr.family, 0);

	assert_int_equal(net_parse_tap("tap0:eth1:10.1.2.3/16", &t, &e), 0);
	assert_string_equal(t.inner, "eth1");
	assert_int_equal(t.addr.family, AF_INET);
	assert_int_equal(t.addr.prefix, 16);
	assert_int_equal(ntohl(t.addr.u.v4.s_addr), 0x0a010203);

	assert_int_equal(net_parse_tap("tap0::10.1.2.3/16", &t, &e), 0);
	assert_string_equal(t.inner, "tap0");
	assert_int_equal(t.addr.family, AF_INET);

	assert_int_equal(net_parse_tap("tap0:eth1:fd00::2/64", &t, &e), 0);
	assert_string_equal(t.inner, "eth1");
	assert_int_equal(t.addr.family, AF_INET6);
	assert_int_equal(t.addr.prefix, 64);

	assert_int_equal(net_parse_tap("123456789012345:123456789012345", &t, &e), 0);
	assert_string_equal(t.inner, "123456789012345");
}

static void test_tap_bad(void **state)
{
	static const struct {
		const char *spec;
		int err;
		const char *hint_has;
	} bad[] = {
		{ "", -EINVAL, "IF" },
		{ ":eth1", -EINVAL, "IF" },
		{ "tap0:", -EINVAL, "INNER" },
		{ "1234567890123456", -ENAMETOOLONG, "15 bytes" },
		{ "tap0:1234567890123456", -ENAMETOOLONG, "INNER" },
		{ "tap0:eth1:10.0.0.2", -EINVAL, "ADDR/PREFIX" },
		{ "tap0:eth1:10.0.0.2/33", -EINVAL, "ADDR/PREFIX" },
		{ "tap0:eth1:bogus/24", -EINVAL, "ADDR/PREFIX" },
		{ "tap0:eth1:", -EINVAL, "ADDR/PREFIX" },
		{ "tap0::", -EINVAL, "ADDR/PREFIX" },
		{ "tap0:eth1:fd00::2", -EINVAL, "ADDR/PREFIX" },
		{ "ta p0", -EINVAL, "IF" },
		{ "a/b", -EINVAL, "IF" },
		{ "tap%d", -EINVAL, "IF" },
		{ "..", -EINVAL, "IF" },
		{ "tap0:e/1", -EINVAL, "INNER" },
	};

	(void)state;
	for (size_t i = 0; i < FW_ARRAY_SIZE(bad); i++) {
		struct net_tap_spec t;
		struct fw_error e = { 0 };
		int r = net_parse_tap(bad[i].spec, &t, &e);
		if (r != bad[i].err)
			fail_msg("'%s': got %d, want %d", bad[i].spec, r, bad[i].err);
		assert_int_equal(e.err, -bad[i].err);
		assert_string_equal(e.what, "parse --tap");
		assert_string_equal(e.subject, bad[i].spec);
		if (!strstr(e.hint, bad[i].hint_has))
			fail_msg("'%s': hint '%s' lacks '%s'", bad[i].spec, e.hint,
				 bad[i].hint_has);
	}
	/* Far too long as a whole. */
	char huge[400];
	struct net_tap_spec t;
	struct fw_error e = { 0 };
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(net_parse_tap(huge, &t, &e), -ENAMETOOLONG);
}

static void test_veth_name(void **state)
{
	char a[IFNAMSIZ], b[IFNAMSIZ], c[IFNAMSIZ];

	(void)state;
	assert_int_equal(net_veth_host_name("drone", a), 0);
	assert_string_equal(a, "fw-drone");
	assert_int_equal(net_veth_host_name("123456789012", a), 0);	/* 3 + 12 = 15 */
	assert_string_equal(a, "fw-123456789012");
	assert_int_equal(net_veth_host_name("drone-alpha-long-1", a), 0);
	assert_int_equal(net_veth_host_name("drone-alpha-long-2", b), 0);
	assert_int_equal(net_veth_host_name("drone-alpha-long-1", c), 0);
	assert_int_equal(strlen(a), IFNAMSIZ - 1);
	assert_memory_equal(a, "fw-drone--", 10);
	assert_string_not_equal(a, b);
	assert_string_equal(a, c);
	assert_int_equal(net_ifname_check(a), 0);
	assert_int_equal(net_ifname_check(b), 0);
	/* 64 bytes, the longest instance name */
	assert_int_equal(net_veth_host_name("0123456789012345678901234567890123456789"
					    "012345678901234567890123", a), 0);
	assert_int_equal(strlen(a), 15);
	assert_int_equal(net_veth_host_name("", a), -EINVAL);
}

static void check_addr(const struct net_addr *a, const char *want)
{
	char buf[64];
	assert_true(net_format_cidr(a, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, want);
}

static void test_veth_addresses(void **state)
{
	struct net_addr host, fw;

	(void)state;
	assert_int_equal(net_veth_default(0, &host, &fw), 0);
	check_addr(&host, "10.202.0.254/24");
	check_addr(&fw, "10.202.0.1/24");
	assert_int_equal(net_veth_default(7, &host, &fw), 0);
	check_addr(&host, "10.202.7.254/24");
	check_addr(&fw, "10.202.7.1/24");
	assert_int_equal(net_veth_default(255, &host, &fw), 0);
	check_addr(&fw, "10.202.255.1/24");
	/* past firmwared's 256: on through 10.203.0.0/24 ... 10.255.255.0/24 */
	assert_int_equal(net_veth_default(256, &host, &fw), 0);
	check_addr(&host, "10.203.0.254/24");
	check_addr(&fw, "10.203.0.1/24");
	assert_int_equal(net_veth_default(257, &host, &fw), 0);
	check_addr(&fw, "10.203.1.1/24");
	assert_int_equal(net_veth_default(NET_VETH_SUBNETS - 1, &host, &fw), 0);
	check_addr(&host, "10.255.255.254/24");
	check_addr(&fw, "10.255.255.1/24");
	assert_int_equal(net_veth_default(NET_VETH_SUBNETS, &host, &fw), -EINVAL);
	assert_int_equal(NET_VETH_SUBNETS, 13824);
	/* and back */
	for (unsigned n = 0; n < NET_VETH_SUBNETS; n += 97) {
		assert_int_equal(net_veth_default(n, &host, &fw), 0);
		assert_int_equal(net_veth_subnet_of(&host), (int)n);
		assert_int_equal(net_veth_subnet_of(&fw), (int)n);
	}
	struct net_addr x;
	assert_int_equal(net_parse_cidr("10.201.255.1/24", &x), 0);
	assert_int_equal(net_veth_subnet_of(&x), -1);
	assert_int_equal(net_parse_cidr("11.202.0.1/24", &x), 0);
	assert_int_equal(net_veth_subnet_of(&x), -1);
	assert_int_equal(net_parse_cidr("::ffff:10.202.0.1/120", &x), 0);
	assert_int_equal(net_veth_subnet_of(&x), -1);

	static const struct {
		const char *fw, *gw;
	} ok[] = {
		{ "10.203.0.1/24", "10.203.0.254/24" },
		{ "10.203.0.254/24", "10.203.0.1/24" },
		{ "10.203.0.77/24", "10.203.0.254/24" },
		{ "10.0.0.1/30", "10.0.0.2/30" },
		{ "10.0.0.2/30", "10.0.0.1/30" },
		{ "172.16.5.9/16", "172.16.255.254/16" },
		{ "fd00::5/64", "fd00::1/64" },
		{ "fd00::1/64", "fd00::2/64" },
		{ "fd00:1:2:3::1/126", "fd00:1:2:3::2/126" },
	};
	for (size_t i = 0; i < FW_ARRAY_SIZE(ok); i++) {
		assert_int_equal(net_parse_cidr(ok[i].fw, &fw), 0);
		assert_int_equal(net_veth_gateway(&fw, &host), 0);
		check_addr(&host, ok[i].gw);
	}
	static const char *bad[] = { "10.0.0.1/31", "10.0.0.1/32", "10.0.0.0/24",
				     "10.0.0.255/24", "fd00::/64", "fd00::1/127" };
	for (size_t i = 0; i < FW_ARRAY_SIZE(bad); i++) {
		assert_int_equal(net_parse_cidr(bad[i], &fw), 0);
		if (net_veth_gateway(&fw, &host) != -EINVAL)
			fail_msg("gateway for '%s' accepted", bad[i]);
	}
}

static void test_spec(void **state)
{
	struct net_spec p;
	struct net_state st;
	struct fw_error e = { 0 };

	(void)state;
	net_spec_init(&p);
	assert_true(net_spec_empty(&p));
	assert_int_equal(net_spec_add_tap(&p, "tap0", &e), 0);
	assert_int_equal(net_spec_add_tap(&p, "tap1:eth1:10.0.0.2/24", &e), 0);
	assert_false(net_spec_empty(&p));
	assert_int_equal(net_spec_check(&p, &e), 0);
	/* the run's state: nothing open yet, the spec and the name copied */
	net_state_init(&st, &p, "fwtx");
	assert_string_equal(st.instance, "fwtx");
	assert_int_equal(st.spec.ntaps, 2);
	assert_string_equal(st.spec.taps[1].inner, "eth1");
	assert_int_equal(st.links[0].lock_fd, -1);
	assert_int_equal(st.veth_lock_fd, -1);
	assert_int_equal(st.veth_if_lock_fd, -1);
	assert_int_equal(st.host_netns_fd, -1);
	assert_int_equal(st.inner_nl.fd, -1);
	assert_int_equal(st.veth_n, -1);

	/* same IF twice */
	assert_int_equal(net_spec_add_tap(&p, "tap0:eth2", &e), 0);
	assert_int_equal(net_spec_check(&p, &e), -EINVAL);
	assert_string_equal(e.subject, "tap0");
	assert_non_null(strstr(e.hint, "twice"));

	/* two INNER alike */
	net_spec_init(&p);
	assert_int_equal(net_spec_add_tap(&p, "tap0:eth1", &e), 0);
	assert_int_equal(net_spec_add_tap(&p, "tap1:eth1", &e), 0);
	assert_int_equal(net_spec_check(&p, &e), -EINVAL);
	assert_string_equal(e.subject, "eth1");
	/* an INNER equal to another's default INNER */
	net_spec_init(&p);
	assert_int_equal(net_spec_add_tap(&p, "eth1", &e), 0);
	assert_int_equal(net_spec_add_tap(&p, "tap1:eth1", &e), 0);
	assert_int_equal(net_spec_check(&p, &e), -EINVAL);

	/* lo */
	net_spec_init(&p);
	assert_int_equal(net_spec_add_tap(&p, "tap0:lo", &e), 0);
	assert_int_equal(net_spec_check(&p, &e), -EINVAL);
	assert_string_equal(e.subject, "lo");
	net_spec_init(&p);
	assert_int_equal(net_spec_add_tap(&p, "lo", &e), 0);
	assert_int_equal(net_spec_check(&p, &e), -EINVAL);

	/* eth0 with --veth */
	net_spec_init(&p);
	assert_int_equal(net_spec_add_tap(&p, "tap0:eth0", &e), 0);
	assert_int_equal(net_spec_check(&p, &e), 0);
	assert_int_equal(net_spec_set_veth(&p, NULL, &e), 0);
	assert_int_equal(net_spec_check(&p, &e), -EEXIST);
	assert_string_equal(e.subject, "eth0");

	/* the instance's own veth host end as a --tap: refused by
	 * net_validate() before anything is opened (it needs the name) */
	net_spec_init(&p);
	assert_int_equal(net_spec_add_tap(&p, "fw-fwtx", &e), 0);
	assert_int_equal(net_spec_set_veth(&p, NULL, &e), 0);
	assert_int_equal(net_spec_check(&p, &e), 0);
	net_state_init(&st, &p, "fwtx");
	assert_int_equal(net_validate(&st, &e), -EEXIST);
	assert_string_equal(e.subject, "fw-fwtx");
	assert_string_equal(e.hint, "that is the host end of --veth");
	assert_int_equal(net_restore(&st, -1, &e), 0);

	/* --veth=ADDR */
	net_spec_init(&p);
	assert_int_equal(net_spec_set_veth(&p, "10.203.1.1/24", &e), 0);
	assert_true(p.veth_addr_given);
	check_addr(&p.veth_fw, "10.203.1.1/24");
	check_addr(&p.veth_host, "10.203.1.254/24");
	net_state_init(&st, &p, "fwtx");	/* the given addresses are the run's */
	check_addr(&st.veth_fw, "10.203.1.1/24");
	check_addr(&st.veth_host, "10.203.1.254/24");
	assert_int_equal(net_spec_set_veth(&p, "10.203.1.1", &e), -EINVAL);
	assert_string_equal(e.what, "parse --veth");
	assert_int_equal(net_spec_set_veth(&p, "10.203.1.1/32", &e), -EINVAL);

	/* too many */
	net_spec_init(&p);
	for (int i = 0; i < NET_MAX_TAPS; i++) {
		char s[16];
		snprintf(s, sizeof(s), "tap%d", i);
		assert_int_equal(net_spec_add_tap(&p, s, &e), 0);
	}
	assert_int_equal(net_spec_add_tap(&p, "tapx", &e), -E2BIG);
	assert_int_equal(net_spec_check(&p, &e), 0);
}

static void route_to(struct net_veth_alloc *a, const char *cidr)
{
	struct net_addr dst;
	assert_int_equal(net_parse_cidr(cidr, &dst), 0);
	net_veth_alloc_route(a, &dst);
}

/* The order in which a run tries the default subnets. */
static void test_veth_alloc(void **state)
{
	struct net_veth_alloc a;

	(void)state;
	/* nothing there: 0, 1, 2... every one of them once */
	net_veth_alloc_init(&a);
	for (int n = 0; n < NET_VETH_SUBNETS; n++)
		assert_int_equal(net_veth_alloc_next(&a), n);
	assert_int_equal(net_veth_alloc_next(&a), -1);
	assert_int_equal(net_veth_alloc_next(&a), -1);

	/* the host's own routes: a network or an address inside a subnet
	 * takes it out; a broader route does not */
	net_veth_alloc_init(&a);
	route_to(&a, "10.202.0.0/24");		/* the same network */
	route_to(&a, "10.202.1.77/32");		/* an address in it */
	route_to(&a, "10.202.2.128/25");	/* a part of it */
	route_to(&a, "10.202.4.0/23");		/* broader: 4 and 5 stay */
	route_to(&a, "10.0.0.0/8");		/* a VPN's */
	route_to(&a, "0.0.0.0/0");		/* the default route */
	route_to(&a, "10.201.3.0/24");		/* outside */
	route_to(&a, "10.203.0.1/32");		/* 256 */
	route_to(&a, "fd00::/64");
	int n;
	for (n = 3; n < 256; n++)
		assert_int_equal(net_veth_alloc_next(&a), n);
	assert_int_equal(net_veth_alloc_next(&a), 257);	/* 256 routed */
	for (n = 258; n < NET_VETH_SUBNETS; n++)
		assert_int_equal(net_veth_alloc_next(&a), n);
	assert_int_equal(net_veth_alloc_next(&a), -1);

	/* everything routed: nothing to try */
	net_veth_alloc_init(&a);
	for (int i = 0; i < NET_VETH_SUBNETS; i++) {
		struct net_addr h, f;
		net_veth_default((unsigned)i, &h, &f);
		net_veth_alloc_route(&a, &f);
	}
	assert_int_equal(net_veth_alloc_next(&a), -1);
}

/* --- requests, parsed back */

struct attrs {
	const struct nlattr *tb[64];
	int count;
};

#define ALIGN4(n) (((size_t)(n) + 3) & ~(size_t)3)

/* The attributes in [p, p + len): each with its header, whole inside,
 * padded to 4 bytes, of a type below 64, each type at most once. */
static void walk(const char *p, size_t len, struct attrs *a)
{
	memset(a, 0, sizeof(*a));
	while (len > 0) {
		const struct nlattr *at = (const void *)p;
		assert_true(len >= 4);
		assert_in_range(at->nla_len, 4, len);
		assert_in_range(ALIGN4(at->nla_len), 4, len);
		assert_true(at->nla_type < 64);
		assert_null(a->tb[at->nla_type]);
		a->tb[at->nla_type] = at;
		a->count++;
		p += ALIGN4(at->nla_len);
		len -= ALIGN4(at->nla_len);
	}
}

/* (fail_msg() does not return; clang's analyzer does not know it) */
static const void *payload(const struct nlattr *at)
{
	if (!at) {
		fail_msg("attribute missing");
		return "";
	}
	return (const char *)at + 4;
}

static size_t payload_len(const struct nlattr *at)
{
	if (!at) {
		fail_msg("attribute missing");
		return 0;
	}
	return at->nla_len - 4u;
}

static const char *str(const struct nlattr *at)
{
	const char *s = payload(at);
	size_t len = payload_len(at);
	/* its first NUL is its last byte */
	assert_true(len > 0 && memchr(s, '\0', len) == s + len - 1);
	return s;
}

static uint32_t u32(const struct nlattr *at)
{
	uint32_t v;
	assert_int_equal(payload_len(at), 4);
	memcpy(&v, payload(at), 4);
	return v;
}

/* The message's family header (right after the netlink header). */
static void *body(void *buf)
{
	return (char *)buf + 16;
}

/* A message of len bytes whose header says so, then a family header of
 * hdr bytes, then attributes. */
static void parse_msg(const char *buf, int len, size_t hdr, struct attrs *a)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	assert_true(len > 0);
	assert_int_equal(nlh->nlmsg_len, (unsigned)len);
	assert_int_equal(len % 4, 0);
	assert_true((size_t)len >= 16 + ALIGN4(hdr));
	walk(buf + 16 + ALIGN4(hdr), (size_t)len - 16 - ALIGN4(hdr), a);
}

static void test_req_getlink_move_up_del(void **state)
{
	NL_ALIGNED char buf[512] = { 0 };
	struct attrs a;
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct ifinfomsg *ifi = body(buf);

	(void)state;
	int len = net_req_getlink(buf, sizeof(buf), 7, "tap0");
	parse_msg(buf, len, sizeof(*ifi), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_GETLINK);
	assert_int_equal(nlh->nlmsg_seq, 7);
	assert_true(nlh->nlmsg_flags & NLM_F_REQUEST);
	assert_int_equal(a.count, 1);
	assert_string_equal(str(a.tb[IFLA_IFNAME]), "tap0");

	len = net_req_move(buf, sizeof(buf), 8, 42, 5, "eth1");
	parse_msg(buf, len, sizeof(*ifi), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_false(nlh->nlmsg_flags & NLM_F_CREATE);
	assert_int_equal(ifi->ifi_index, 42);
	assert_int_equal(a.count, 2);
	assert_int_equal(u32(a.tb[IFLA_NET_NS_FD]), 5);
	assert_string_equal(str(a.tb[IFLA_IFNAME]), "eth1");
	len = net_req_move(buf, sizeof(buf), 8, 42, 5, NULL);
	parse_msg(buf, len, sizeof(*ifi), &a);
	assert_int_equal(a.count, 1);

	len = net_req_set_up(buf, sizeof(buf), 9, 3, true);
	parse_msg(buf, len, sizeof(*ifi), &a);
	assert_int_equal(ifi->ifi_index, 3);
	assert_int_equal(ifi->ifi_change, IFF_UP);
	assert_int_equal(ifi->ifi_flags, IFF_UP);
	assert_int_equal(a.count, 0);
	len = net_req_set_up(buf, sizeof(buf), 9, 3, false);
	parse_msg(buf, len, sizeof(*ifi), &a);
	assert_int_equal(ifi->ifi_change, IFF_UP);
	assert_int_equal(ifi->ifi_flags, 0);

	/* lo up by its name, in one request: index 0 and IFLA_IFNAME */
	len = net_req_set_up_name(buf, sizeof(buf), 12, "lo", true);
	parse_msg(buf, len, sizeof(*ifi), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_int_equal(nlh->nlmsg_seq, 12);
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_false(nlh->nlmsg_flags & NLM_F_CREATE);
	assert_int_equal(ifi->ifi_index, 0);
	assert_int_equal(ifi->ifi_change, IFF_UP);
	assert_int_equal(ifi->ifi_flags, IFF_UP);
	assert_int_equal(a.count, 1);
	assert_string_equal(str(a.tb[IFLA_IFNAME]), "lo");
	assert_int_equal(net_req_set_up_name(buf, 39, 12, "lo", true), -ENOBUFS);
	assert_int_equal(net_req_set_up_name(buf, 40, 12, "lo", true), 40);

	len = net_req_dellink(buf, sizeof(buf), 10, 11);
	parse_msg(buf, len, sizeof(*ifi), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_DELLINK);
	assert_int_equal(ifi->ifi_index, 11);
	assert_int_equal(a.count, 0);
}

static void test_req_addr(void **state)
{
	NL_ALIGNED char buf[512] = { 0 };
	struct attrs a;
	struct net_addr ad;
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct ifaddrmsg *ifa = body(buf);

	(void)state;
	assert_int_equal(net_parse_cidr("10.202.3.1/24", &ad), 0);
	int len = net_req_addaddr(buf, sizeof(buf), 1, 6, &ad);
	parse_msg(buf, len, sizeof(*ifa), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWADDR);
	assert_true(nlh->nlmsg_flags & NLM_F_CREATE);
	assert_int_equal(ifa->ifa_family, AF_INET);
	assert_int_equal(ifa->ifa_prefixlen, 24);
	assert_int_equal(ifa->ifa_index, 6);
	assert_int_equal(payload_len(a.tb[IFA_LOCAL]), 4);
	assert_memory_equal(payload(a.tb[IFA_LOCAL]), &ad.u.v4, 4);
	assert_memory_equal(payload(a.tb[IFA_ADDRESS]), &ad.u.v4, 4);
	assert_int_equal(ntohl(u32(a.tb[IFA_BROADCAST])), 0x0aca03ff);
	assert_null(a.tb[IFA_FLAGS]);

	assert_int_equal(net_parse_cidr("fd00::2/64", &ad), 0);
	len = net_req_addaddr(buf, sizeof(buf), 2, 6, &ad);
	parse_msg(buf, len, sizeof(*ifa), &a);
	assert_int_equal(ifa->ifa_family, AF_INET6);
	assert_int_equal(ifa->ifa_prefixlen, 64);
	assert_int_equal(payload_len(a.tb[IFA_LOCAL]), 16);
	assert_memory_equal(payload(a.tb[IFA_ADDRESS]), &ad.u.v6, 16);
	assert_true(u32(a.tb[IFA_FLAGS]) & IFA_F_NODAD);
	assert_null(a.tb[IFA_BROADCAST]);

	ad.family = 0;
	assert_int_equal(net_req_addaddr(buf, sizeof(buf), 2, 6, &ad), -EINVAL);
}

static void test_req_veth(void **state)
{
	NL_ALIGNED char buf[512] = { 0 };
	struct attrs a, info, data, peer;
	const struct nlmsghdr *nlh = (const void *)buf;

	(void)state;
	int len = net_req_newveth(buf, sizeof(buf), 3, "fw-drone", "eth0", 9, false);
	parse_msg(buf, len, sizeof(struct ifinfomsg), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
	assert_true(nlh->nlmsg_flags & NLM_F_CREATE);
	assert_true(nlh->nlmsg_flags & NLM_F_EXCL);
	assert_int_equal(a.count, 2);
	assert_string_equal(str(a.tb[IFLA_IFNAME]), "fw-drone");

	/* each nest exactly as long as what it holds */
	walk(payload(a.tb[IFLA_LINKINFO]), payload_len(a.tb[IFLA_LINKINFO]), &info);
	assert_int_equal(info.count, 2);
	assert_string_equal(str(info.tb[IFLA_INFO_KIND]), "veth");
	walk(payload(info.tb[IFLA_INFO_DATA]), payload_len(info.tb[IFLA_INFO_DATA]), &data);
	assert_int_equal(data.count, 1);
	const struct nlattr *pa = data.tb[VETH_INFO_PEER];
	assert_non_null(pa);
	/* the peer: a struct ifinfomsg (all zero), then attributes */
	assert_true(payload_len(pa) > sizeof(struct ifinfomsg));
	const char *pp = payload(pa);
	static const struct ifinfomsg zero;
	assert_memory_equal(pp, &zero, sizeof(zero));
	size_t off = ALIGN4(sizeof(struct ifinfomsg));
	walk(pp + off, payload_len(pa) - off, &peer);
	assert_int_equal(peer.count, 2);
	assert_string_equal(str(peer.tb[IFLA_IFNAME]), "eth0");
	assert_int_equal(u32(peer.tb[IFLA_NET_NS_FD]), 9);
	/* the outermost nest ends the message */
	assert_ptr_equal((const char *)a.tb[IFLA_LINKINFO] + a.tb[IFLA_LINKINFO]->nla_len,
			 buf + len);

	/* the host end up as made: IFF_UP in its struct ifinfomsg; the
	 * peer's stays all zero (the kernel would open it before its other
	 * end exists: ENOTCONN) */
	assert_int_equal(net_req_newveth(buf, sizeof(buf), 3, "fw-drone", "eth0", 9, true), len);
	const struct ifinfomsg *hi = body(buf);
	assert_int_equal(hi->ifi_change, IFF_UP);
	assert_int_equal(hi->ifi_flags, IFF_UP);
	assert_int_equal(hi->ifi_index, 0);
	assert_memory_equal(pp, &zero, sizeof(zero));

	/* every byte counted: a too small buffer is refused, never overrun */
	for (size_t s = 0; s < (size_t)len; s += 4)
		assert_int_equal(net_req_newveth(buf, s, 3, "fw-drone", "eth0", 9, true), -ENOBUFS);
}

/* A route as a dump brings it: RTM_NEWROUTE, a destination prefix. */
static int route_msg(void *buf, size_t size, int family, unsigned dst_len, const char *dst,
		     size_t dst_bytes)
{
	struct nl_msg m;
	struct rtmsg *rtm = nl_msg_start(&m, buf, size, RTM_NEWROUTE, 0, 1, sizeof(*rtm));
	unsigned char raw[16];

	assert_non_null(rtm);
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_dst_len = (unsigned char)dst_len;
	rtm->rtm_table = RT_TABLE_LOCAL;
	if (dst) {
		assert_int_equal(inet_pton(family, dst, raw), 1);
		nl_put(&m, RTA_DST, raw, dst_bytes);
	}
	nl_put_u32(&m, RTA_OIF, 3);
	return nl_msg_end(&m);
}

static void test_route_dst(void **state)
{
	NL_ALIGNED char buf[256];
	struct net_addr d;
	char text[64];

	(void)state;
	/* any table, any type: the destination and its prefix */
	assert_true(route_msg(buf, sizeof(buf), AF_INET, 24, "10.202.7.0", 4) > 0);
	assert_int_equal(net_route_dst(buf, &d), 1);
	assert_true(net_format_cidr(&d, text, sizeof(text)) > 0);
	assert_string_equal(text, "10.202.7.0/24");
	assert_true(route_msg(buf, sizeof(buf), AF_INET, 32, "10.203.0.9", 4) > 0);
	assert_int_equal(net_route_dst(buf, &d), 1);
	assert_int_equal(net_veth_subnet_of(&d), 256);
	assert_true(route_msg(buf, sizeof(buf), AF_INET6, 64, "fd00:1::", 16) > 0);
	assert_int_equal(net_route_dst(buf, &d), 1);
	assert_true(net_format_cidr(&d, text, sizeof(text)) > 0);
	assert_string_equal(text, "fd00:1::/64");
	/* a default route: no RTA_DST */
	assert_true(route_msg(buf, sizeof(buf), AF_INET, 0, NULL, 0) > 0);
	assert_int_equal(net_route_dst(buf, &d), 1);
	assert_int_equal(d.family, AF_INET);
	assert_int_equal(d.prefix, 0);
	/* not placeable: a prefix without its address, a short address, a
	 * prefix too long, another family, another message */
	assert_true(route_msg(buf, sizeof(buf), AF_INET, 24, NULL, 0) > 0);
	assert_int_equal(net_route_dst(buf, &d), 0);
	assert_int_equal(d.family, 0);
	assert_true(route_msg(buf, sizeof(buf), AF_INET, 24, "10.202.7.0", 3) > 0);
	assert_int_equal(net_route_dst(buf, &d), 0);
	assert_true(route_msg(buf, sizeof(buf), AF_INET, 33, "10.202.7.0", 4) > 0);
	assert_int_equal(net_route_dst(buf, &d), 0);
	assert_true(route_msg(buf, sizeof(buf), AF_PACKET, 0, NULL, 0) > 0);
	assert_int_equal(net_route_dst(buf, &d), 0);
	assert_true(route_msg(buf, sizeof(buf), AF_INET, 24, "10.202.7.0", 4) > 0);
	((struct nlmsghdr *)buf)->nlmsg_type = RTM_DELROUTE;
	assert_int_equal(net_route_dst(buf, &d), 0);
	((struct nlmsghdr *)buf)->nlmsg_type = RTM_NEWROUTE;
	((struct nlmsghdr *)buf)->nlmsg_len = NLMSG_HDRLEN + 4;	/* cut short */
	assert_int_equal(net_route_dst(buf, &d), 0);
}

/* The padding after a string attribute is zero, not whatever the buffer
 * held (the library used before nl.c left it as it was; found by make
 * valgrind: stack bytes went to the kernel). */
static void test_req_padding(void **state)
{
	NL_ALIGNED unsigned char buf[256];
	(void)state;

	memset(buf, 0xa5, sizeof(buf));
	int len = net_req_getlink(buf, sizeof(buf), 1, "tap0x");	/* 6 bytes: 2 of padding */
	assert_true(len > 0);
	for (int i = 0; i < len; i++)
		if (buf[i] == 0xa5)
			fail_msg("byte %d of %d left as it was", i, len);
}

static void test_req_route(void **state)
{
	NL_ALIGNED char buf[512] = { 0 };
	struct attrs a;
	struct net_addr gw;
	const struct nlmsghdr *nlh = (const void *)buf;
	const struct rtmsg *rtm = body(buf);
	int oifs[8];

	(void)state;
	assert_int_equal(net_parse_cidr("10.202.0.254/24", &gw), 0);
	int len = net_req_default_route(buf, sizeof(buf), 4, 2, &gw);
	parse_msg(buf, len, sizeof(*rtm), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_NEWROUTE);
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
	assert_memory_equal(payload(a.tb[RTA_GATEWAY]), &gw.u.v4, 4);
	assert_int_equal(u32(a.tb[RTA_OIF]), 2);
	assert_null(a.tb[RTA_DST]);

	/* The same message, read as the kernel's answer to a dump: a default
	 * route out of interface 2. */
	buf[offsetof(struct nlmsghdr, nlmsg_type)] = RTM_NEWROUTE;
	assert_int_equal(net_route_default_oifs(buf, oifs, 8), 1);
	assert_int_equal(oifs[0], 2);
	/* not default */
	((struct rtmsg *)body(buf))->rtm_dst_len = 24;
	assert_int_equal(net_route_default_oifs(buf, oifs, 8), 0);
	/* another table */
	assert_true(net_req_default_route(buf, sizeof(buf), 4, 2, &gw) > 0);
	((struct rtmsg *)body(buf))->rtm_table = 100;
	assert_int_equal(net_route_default_oifs(buf, oifs, 8), 0);
	/* a multipath default route */
	assert_true(net_req_default_route(buf, sizeof(buf), 4, 2, &gw) > 0);
	struct nlmsghdr *w = (struct nlmsghdr *)buf;
	struct nlattr *mp = (struct nlattr *)(buf + w->nlmsg_len);
	mp->nla_type = RTA_MULTIPATH;
	mp->nla_len = (uint16_t)(4 + 2 * RTNH_ALIGN(sizeof(struct rtnexthop)));
	for (int i = 0; i < 2; i++) {
		struct rtnexthop *nh =
			(void *)((char *)mp + 4 + (size_t)i * RTNH_ALIGN(sizeof(*nh)));
		memset(nh, 0, sizeof(*nh));
		nh->rtnh_len = sizeof(*nh);
		nh->rtnh_ifindex = 5 + i;
	}
	w->nlmsg_len += mp->nla_len;
	assert_int_equal(net_route_default_oifs(buf, oifs, 8), 3);
	assert_int_equal(oifs[1], 5);
	assert_int_equal(oifs[2], 6);
	assert_int_equal(net_route_default_oifs(buf, oifs, 2), 2);

	/* An RTA_OIF without its 4 bytes (as the last attribute) is ignored,
	 * never read past the message's end (found by fuzz/fuzz_net). */
	assert_true(net_req_default_route(buf, sizeof(buf), 4, 2, &gw) > 0);
	w = (struct nlmsghdr *)buf;
	w->nlmsg_len = 16 + ALIGN4(sizeof(struct rtmsg));
	struct nlattr *bad = (struct nlattr *)(buf + w->nlmsg_len);
	bad->nla_type = RTA_OIF;
	bad->nla_len = sizeof(*bad);
	w->nlmsg_len += sizeof(*bad);
	memcpy((char *)bad + sizeof(*bad), "\x07\0\0\0", 4);	/* beyond the message */
	assert_int_equal(net_route_default_oifs(buf, oifs, 8), 0);

	assert_int_equal(net_parse_cidr("fd00::1/64", &gw), 0);
	len = net_req_default_route(buf, sizeof(buf), 4, 2, &gw);
	parse_msg(buf, len, sizeof(*rtm), &a);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(payload_len(a.tb[RTA_GATEWAY]), 16);

	len = net_req_getroute_dump(buf, sizeof(buf), 5, AF_INET6);
	parse_msg(buf, len, sizeof(*rtm), &a);
	assert_int_equal(nlh->nlmsg_type, RTM_GETROUTE);
	assert_true((nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP);
	assert_int_equal(rtm->rtm_family, AF_INET6);
}

static void test_req_small(void **state)
{
	NL_ALIGNED char buf[64];
	struct net_addr ad;

	(void)state;
	net_parse_cidr("fd00::2/64", &ad);
	assert_int_equal(net_req_getlink(buf, 8, 1, "tap0"), -ENOBUFS);
	assert_int_equal(net_req_getlink(buf, 43, 1, "tap0"), -ENOBUFS);
	assert_int_equal(net_req_getlink(buf, 44, 1, "tap0"), 44);
	assert_int_equal(net_req_move(buf, 40, 1, 1, 3, "eth1"), -ENOBUFS);
	assert_int_equal(net_req_addaddr(buf, sizeof(buf), 1, 1, &ad), -ENOBUFS);
	assert_int_equal(net_req_default_route(buf, 30, 1, 1, &ad), -ENOBUFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifname),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_tap_forms),
		cmocka_unit_test(test_tap_bad),
		cmocka_unit_test(test_veth_name),
		cmocka_unit_test(test_veth_addresses),
		cmocka_unit_test(test_spec),
		cmocka_unit_test(test_veth_alloc),
		cmocka_unit_test(test_req_getlink_move_up_del),
		cmocka_unit_test(test_req_addr),
		cmocka_unit_test(test_req_veth),
		cmocka_unit_test(test_req_route),
		cmocka_unit_test(test_route_dst),
		cmocka_unit_test(test_req_padding),
		cmocka_unit_test(test_req_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
