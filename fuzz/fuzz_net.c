/* SPDX-License-Identifier: MIT */
/* The network options' pure half (netsetup.h): --tap specs, CIDRs, interface
 * names, the --veth host name and gateway, a whole spec of --tap/--veth and
 * its checks, and the reading of a (kernel-sent) RTM_NEWROUTE message.
 *
 * Input: NUL-separated strings. The first selects what the rest is:
 * byte 0 % 3 == 0: each string a --tap spec, plus the last one as --veth=;
 *           == 1: each string a CIDR, an interface name, an instance name;
 *           == 2: the bytes after the first are one netlink route message
 *                 (its default-route interfaces, its destination). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "../netsetup.h"
#include "fuzz.h"

#define MAX_STR 24

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_error(const struct fw_error *e)
{
	FUZZ_ASSERT(e->err > 0 && e->what[0]);
	FUZZ_ASSERT(terminated(e->what, sizeof(e->what)));
	FUZZ_ASSERT(terminated(e->subject, sizeof(e->subject)));
	FUZZ_ASSERT(terminated(e->hint, sizeof(e->hint)));
}

static void check_addr(const struct net_addr *a)
{
	char buf[64], small[8];

	if (a->family == 0)
		return;
	FUZZ_ASSERT(a->family == AF_INET || a->family == AF_INET6);
	FUZZ_ASSERT(a->prefix <= (a->family == AF_INET ? 32u : 128u));
	/* format -> parse gives the same address back */
	int n = net_format_cidr(a, buf, sizeof(buf));
	FUZZ_ASSERT(n > 0 && (size_t)n == strlen(buf));
	struct net_addr b;
	FUZZ_ASSERT(net_parse_cidr(buf, &b) == 0);
	FUZZ_ASSERT(b.family == a->family && b.prefix == a->prefix);
	FUZZ_ASSERT(!memcmp(b.u.raw, a->u.raw, a->family == AF_INET ? 4 : 16));
	int m = net_format_cidr(a, small, sizeof(small));
	FUZZ_ASSERT(m == -ENOSPC ? (size_t)n >= sizeof(small) : m == n);
	FUZZ_ASSERT(terminated(small, sizeof(small)));

	struct net_addr gw;
	if (net_veth_gateway(a, &gw) == 0) {
		FUZZ_ASSERT(gw.family == a->family && gw.prefix == a->prefix);
		FUZZ_ASSERT(memcmp(gw.u.raw, a->u.raw, a->family == AF_INET ? 4 : 16) != 0);
	}
}

static void strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct net_addr a;
		int r = net_parse_cidr(v[i], &a);
		if (r == 0)
			check_addr(&a);
		else
			FUZZ_ASSERT(r == -EINVAL && a.family == 0);

		r = net_ifname_check(v[i]);
		size_t len = strlen(v[i]);
		if (r == 0)
			FUZZ_ASSERT(len >= 1 && len < IFNAMSIZ && !strpbrk(v[i], "/:% \t\n"));
		else
			FUZZ_ASSERT(r == -EINVAL || (r == -ENAMETOOLONG && len >= IFNAMSIZ));

		char host[IFNAMSIZ];
		if (net_veth_host_name(v[i], host) == 0) {
			FUZZ_ASSERT(terminated(host, sizeof(host)));
			FUZZ_ASSERT(net_ifname_check(host) == 0);
			FUZZ_ASSERT(!strncmp(host, NET_VETH_PREFIX, strlen(NET_VETH_PREFIX)));
		}
	}
}

static void taps(char **v, size_t n)
{
	struct net_spec p;
	struct net_state st;
	struct fw_error e;
	size_t added = 0;

	net_spec_init(&p);
	for (size_t i = 0; i + 1 < n; i++) {
		struct net_tap_spec t;
		memset(&e, 0, sizeof(e));
		int r = net_parse_tap(v[i], &t, &e);
		if (r < 0) {
			FUZZ_ASSERT(r == -EINVAL || r == -ENAMETOOLONG);
			check_error(&e);
		} else {
			FUZZ_ASSERT(net_ifname_check(t.ifname) == 0);
			FUZZ_ASSERT(net_ifname_check(t.inner) == 0);
			check_addr(&t.addr);
		}
		memset(&e, 0, sizeof(e));
		r = net_spec_add_tap(&p, v[i], &e);
		if (r < 0)
			check_error(&e);
		else
			added++;
		FUZZ_ASSERT(p.ntaps == added && p.ntaps <= NET_MAX_TAPS);
	}
	if (n > 1) {
		memset(&e, 0, sizeof(e));
		const char *cidr = v[n - 1][0] == '-' ? NULL : v[n - 1];
		if (net_spec_set_veth(&p, cidr, &e) < 0) {
			check_error(&e);
		} else {
			FUZZ_ASSERT(p.veth);
			check_addr(&p.veth_fw);
			check_addr(&p.veth_host);
		}
	}
	memset(&e, 0, sizeof(e));
	if (net_spec_check(&p, &e) < 0)
		check_error(&e);
	(void)net_spec_empty(&p);
	/* the run's state, made from it and an instance name */
	net_state_init(&st, &p, n > 1 ? v[n - 1] : "fw");
	FUZZ_ASSERT(st.spec.ntaps == p.ntaps && terminated(st.instance, sizeof(st.instance)));
	FUZZ_ASSERT(st.links[0].lock_fd == -1 && st.inner_nl.fd == -1);
}

static void route(const uint8_t *data, size_t size)
{
	int oifs[8];

	if (size < sizeof(struct nlmsghdr))
		return;
	/* A heap copy of exactly the message (malloc alignment suits
	 * nlmsghdr), so that ASan sees any read past nlmsg_len: nl.c's parser
	 * reads attributes up to there, not up to the aligned end. nlmsg_len
	 * is the message's; the fuzzer picks the rest. */
	struct nlmsghdr *nlh = malloc(size);
	FUZZ_ASSERT(nlh);
	memcpy(nlh, data, size);
	nlh->nlmsg_len = (uint32_t)size;
	nlh->nlmsg_type = RTM_NEWROUTE;
	int r = net_route_default_oifs(nlh, oifs, FW_ARRAY_SIZE(oifs));
	FUZZ_ASSERT(r >= 0 && (size_t)r <= FW_ARRAY_SIZE(oifs));
	/* its destination, as the --veth allocation reads every route */
	struct net_addr dst;
	if (net_route_dst(nlh, &dst)) {
		FUZZ_ASSERT(dst.family == AF_INET || dst.family == AF_INET6);
		check_addr(&dst);
		struct net_veth_alloc a;
		net_veth_alloc_init(&a);
		net_veth_alloc_route(&a, &dst);
		int n = net_veth_alloc_next(&a);
		FUZZ_ASSERT(n >= 0 && n < NET_VETH_SUBNETS);
	} else {
		FUZZ_ASSERT(dst.family == 0);
	}
	free(nlh);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v[MAX_STR];
	char *blk;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 2:
		route(data + 1, size - 1);
		return 0;
	case 1: {
		size_t n = fuzz_split(data + 1, size - 1, v, MAX_STR, &blk);
		strings(v, n);
		break;
	}
	default: {
		size_t n = fuzz_split(data + 1, size - 1, v, MAX_STR, &blk);
		taps(v, n);
		break;
	}
	}
	free(blk);
	return 0;
}
