/* SPDX-License-Identifier: MIT */
/* Network of the firmware: see netsetup.h for the order of a run. */
#include "netsetup.h"
#include "fault.h"
#include "nl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

/* ------------------------------------------------------------------ pure */

int net_ifname_check(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return -EINVAL;
	if (len >= IFNAMSIZ)
		return -ENAMETOOLONG;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		/* The kernel refuses '/', ':' and spaces; '%' would make a
		 * name pattern ("tap%d") of a tap we create. */
		if (*c == '/' || *c == ':' || *c == '%' || isspace(*c) || *c < 0x21 ||
		    *c > 0x7e)
			return -EINVAL;
	}
	return 0;
}

static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (!*s || strlen(s) > 3)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int net_parse_cidr(const char *s, struct net_addr *a)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');

	memset(a, 0, sizeof(*a));
	if (!slash || (size_t)(slash - s) >= sizeof(host) || slash == s)
		return -EINVAL;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	if (inet_pton(AF_INET, host, &a->u.v4) == 1) {
		a->family = AF_INET;
		if (parse_prefix(slash + 1, 32, &a->prefix) < 0)
			goto bad;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a->u.v6) == 1) {
		a->family = AF_INET6;
		if (parse_prefix(slash + 1, 128, &a->prefix) < 0)
			goto bad;
		return 0;
	}
bad:
	memset(a, 0, sizeof(*a));
	return -EINVAL;
}

int net_format_cidr(const struct net_addr *a, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (a->family != AF_INET && a->family != AF_INET6)
		return -EINVAL;
	if (!inet_ntop(a->family, &a->u, host, sizeof(host)))
		return -EINVAL;
	int n = snprintf(buf, size, "%s/%u", host, a->prefix);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

static int tap_fail(struct fw_error *e, int err, const char *spec, const char *hint)
{
	return fw_fail_hint(e, err, "parse --tap", spec, hint);
}

static int name_hint(struct fw_error *e, int r, const char *spec, const char *which)
{
	char hint[128];

	if (r == -ENAMETOOLONG)
		snprintf(hint, sizeof(hint), "%s: interface names have at most %d bytes",
			 which, IFNAMSIZ - 1);
	else
		snprintf(hint, sizeof(hint),
			 "%s: not a valid interface name (no '/', ':', '%%' or spaces)", which);
	return tap_fail(e, -r, spec, hint);
}

int net_parse_tap(const char *spec, struct net_tap_spec *t, struct fw_error *e)
{
	char buf[256];
	int r;

	memset(t, 0, sizeof(*t));
	if (strlen(spec) >= sizeof(buf))
		return tap_fail(e, ENAMETOOLONG, "", "the spec is too long");
	fw_strlcpy(buf, spec, sizeof(buf));

	/* IF[:INNER[:ADDR/PREFIX]]: the address takes the rest, colons and all. */
	char *inner = NULL, *addr = NULL;
	char *c1 = strchr(buf, ':');
	if (c1) {
		*c1 = '\0';
		inner = c1 + 1;
		char *c2 = strchr(inner, ':');
		if (c2) {
			*c2 = '\0';
			addr = c2 + 1;
		}
	}
	r = net_ifname_check(buf);
	if (r < 0)
		return name_hint(e, r, spec, "IF");
	fw_strlcpy(t->ifname, buf, sizeof(t->ifname));

	if (inner && *inner) {
		r = net_ifname_check(inner);
		if (r < 0)
			return name_hint(e, r, spec, "INNER");
		fw_strlcpy(t->inner, inner, sizeof(t->inner));
	} else if (inner && !addr) {
		return tap_fail(e, EINVAL, spec, "empty INNER: give IF, IF:INNER or IF:INNER:ADDR/PREFIX");
	} else {
		fw_strlcpy(t->inner, t->ifname, sizeof(t->inner));
	}

	if (addr && net_parse_cidr(addr, &t->addr) < 0)
		return tap_fail(e, EINVAL, spec,
				"ADDR/PREFIX: an IPv4 or IPv6 address and a prefix length, like 10.0.0.2/24");
	return 0;
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

int net_veth_host_name(const char *instance, char out[IFNAMSIZ])
{
	size_t plen = strlen(NET_VETH_PREFIX), len = strlen(instance);

	if (len == 0)
		return -EINVAL;
	if (plen + len < IFNAMSIZ) {
		snprintf(out, IFNAMSIZ, "%s%s", NET_VETH_PREFIX, instance);
	} else {
		/* 3 + 6 + 1 + 5 = 15 bytes */
		snprintf(out, IFNAMSIZ, "%s%.6s-%05x", NET_VETH_PREFIX, instance,
			 (unsigned)(fnv1a(instance) & 0xfffffu));
	}
	return net_ifname_check(out) < 0 ? -EINVAL : 0;
}

int net_veth_default(unsigned n, struct net_addr *host, struct net_addr *fw)
{
	if (n >= NET_VETH_SUBNETS)
		return -EINVAL;
	memset(host, 0, sizeof(*host));
	memset(fw, 0, sizeof(*fw));
	host->family = fw->family = AF_INET;
	host->prefix = fw->prefix = 24;
	uint32_t net = 0x0a000000u | ((NET_VETH_FIRST_A + n / 256) << 16) | ((n % 256) << 8);
	host->u.v4.s_addr = htonl(net | 254);
	fw->u.v4.s_addr = htonl(net | 1);
	return 0;
}

int net_veth_subnet_of(const struct net_addr *a)
{
	if (a->family != AF_INET)
		return -1;
	uint32_t v = ntohl(a->u.v4.s_addr);
	unsigned hi = v >> 24, second = (v >> 16) & 0xff, third = (v >> 8) & 0xff;
	if (hi != 10 || second < NET_VETH_FIRST_A)
		return -1;
	return (int)((second - NET_VETH_FIRST_A) * 256 + third);
}

static bool bit_get(const uint8_t *map, unsigned n)
{
	return map[n / 8] & (1u << (n % 8));
}

static void bit_set(uint8_t *map, unsigned n)
{
	map[n / 8] = (uint8_t)(map[n / 8] | (1u << (n % 8)));
}

void net_veth_alloc_init(struct net_veth_alloc *a)
{
	memset(a, 0, sizeof(*a));
}

void net_veth_alloc_route(struct net_veth_alloc *a, const struct net_addr *dst)
{
	int n = net_veth_subnet_of(dst);
	if (n >= 0 && dst->prefix >= 24)
		bit_set(a->routed, (unsigned)n);
}

int net_veth_alloc_next(struct net_veth_alloc *a)
{
	while (a->next < NET_VETH_SUBNETS) {
		unsigned n = a->next++;
		if (!bit_get(a->routed, n))
			return (int)n;
	}
	return -1;
}

int net_veth_gateway(const struct net_addr *fw, struct net_addr *host)
{
	*host = *fw;
	if (fw->family == AF_INET) {
		if (fw->prefix > 30)
			return -EINVAL;
		uint32_t mask = fw->prefix ? ~0u << (32 - fw->prefix) : 0;
		uint32_t a = ntohl(fw->u.v4.s_addr), net = a & mask, bcast = net | ~mask;
		if (a == net || a == bcast)
			return -EINVAL;
		uint32_t gw = bcast - 1;
		if (gw == a)
			gw = net + 1;
		host->u.v4.s_addr = htonl(gw);
		return 0;
	}
	if (fw->family == AF_INET6) {
		if (fw->prefix > 126)
			return -EINVAL;
		unsigned char net[16];
		for (unsigned i = 0; i < 16; i++) {
			unsigned bits = fw->prefix > i * 8 ? fw->prefix - i * 8 : 0;
			unsigned char m = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
			net[i] = fw->u.raw[i] & m;
		}
		if (!memcmp(net, fw->u.raw, 16))
			return -EINVAL;	/* the subnet-router anycast address */
		memcpy(host->u.raw, net, 16);
		host->u.raw[15] |= 1;
		if (!memcmp(host->u.raw, fw->u.raw, 16))
			host->u.raw[15] = (unsigned char)((host->u.raw[15] & ~3u) | 2);
		return 0;
	}
	return -EINVAL;
}

void net_spec_init(struct net_spec *s)
{
	memset(s, 0, sizeof(*s));
}

int net_spec_add_tap(struct net_spec *s, const char *spec, struct fw_error *e)
{
	if (s->ntaps >= NET_MAX_TAPS)
		return tap_fail(e, E2BIG, spec, "too many --tap options");
	int r = net_parse_tap(spec, &s->taps[s->ntaps], e);
	if (r < 0)
		return r;
	s->ntaps++;
	return 0;
}

int net_spec_set_veth(struct net_spec *s, const char *cidr, struct fw_error *e)
{
	s->veth = true;
	s->veth_addr_given = cidr != NULL;
	if (!cidr)
		return 0;
	if (net_parse_cidr(cidr, &s->veth_fw) < 0)
		return fw_fail_hint(e, EINVAL, "parse --veth", cidr,
				    "ADDR/PREFIX: the firmware's address, like 10.203.0.1/24");
	if (net_veth_gateway(&s->veth_fw, &s->veth_host) < 0)
		return fw_fail_hint(e, EINVAL, "parse --veth", cidr,
				    "no room for a gateway: a host address in a subnet of 4 addresses or more");
	return 0;
}

bool net_spec_empty(const struct net_spec *s)
{
	return s->ntaps == 0 && !s->veth;
}

int net_spec_check(const struct net_spec *s, struct fw_error *e)
{
	for (size_t i = 0; i < s->ntaps; i++) {
		const struct net_tap_spec *a = &s->taps[i];

		if (!strcmp(a->inner, "lo"))
			return fw_fail_hint(e, EINVAL, "name the interface inside", a->inner,
					    "'lo' is the firmware's loopback: pick another INNER");
		if (s->veth && !strcmp(a->inner, NET_VETH_INNER))
			return fw_fail_hint(e, EEXIST, "name the interface inside", a->inner,
					    "--veth already puts " NET_VETH_INNER " in the firmware");
		for (size_t j = 0; j < i; j++) {
			const struct net_tap_spec *b = &s->taps[j];
			if (!strcmp(a->ifname, b->ifname))
				return fw_fail_hint(e, EINVAL, "borrow interface", a->ifname,
						    "given to --tap twice");
			if (!strcmp(a->inner, b->inner))
				return fw_fail_hint(e, EINVAL, "name the interface inside",
						    a->inner, "two --tap use the same INNER name");
		}
	}
	return 0;
}

void net_state_init(struct net_state *st, const struct net_spec *spec, const char *instance)
{
	memset(st, 0, sizeof(*st));
	st->spec = *spec;
	fw_strlcpy(st->instance, instance ? instance : "", sizeof(st->instance));
	for (size_t i = 0; i < NET_MAX_TAPS; i++)
		st->links[i].lock_fd = -1;
	st->veth_host = spec->veth_host;
	st->veth_fw = spec->veth_fw;
	st->veth_n = -1;
	st->veth_lock_fd = -1;
	st->veth_if_lock_fd = -1;
	st->host_netns_fd = -1;
	st->inner_nl.fd = -1;
}

/* --- requests */

/* A request about one link (struct ifinfomsg: AF_UNSPEC, ifindex). */
static struct ifinfomsg *link_start(struct nl_msg *m, void *buf, size_t size, uint32_t seq,
				    uint16_t type, uint16_t flags, int ifindex)
{
	struct ifinfomsg *ifi = nl_msg_start(m, buf, size, type, flags, seq, sizeof(*ifi));
	if (ifi) {
		ifi->ifi_family = AF_UNSPEC;
		ifi->ifi_index = ifindex;
	}
	return ifi;
}

int net_req_getlink(void *buf, size_t size, uint32_t seq, const char *name)
{
	struct nl_msg m;

	link_start(&m, buf, size, seq, RTM_GETLINK, NLM_F_ACK, 0);
	nl_put_str(&m, IFLA_IFNAME, name);
	return nl_msg_end(&m);
}

int net_req_move(void *buf, size_t size, uint32_t seq, int ifindex, int netns_fd,
		 const char *newname)
{
	struct nl_msg m;

	link_start(&m, buf, size, seq, RTM_NEWLINK, NLM_F_ACK, ifindex);
	nl_put_u32(&m, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	/* With a name, the kernel names the device so in the target namespace:
	 * no clash with a same-named one there, no second rename step. */
	if (newname)
		nl_put_str(&m, IFLA_IFNAME, newname);
	return nl_msg_end(&m);
}

/* Up or down, the link ifindex, or (ifindex 0) the one named name. */
static int req_set_up(void *buf, size_t size, uint32_t seq, int ifindex, const char *name,
		      bool up)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = link_start(&m, buf, size, seq, RTM_NEWLINK, NLM_F_ACK, ifindex);

	if (ifi) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = up ? IFF_UP : 0;
	}
	/* Index 0 and a name: the kernel looks the link up by its name;
	 * without NLM_F_CREATE, -ENODEV when there is none. */
	if (name)
		nl_put_str(&m, IFLA_IFNAME, name);
	return nl_msg_end(&m);
}

int net_req_set_up(void *buf, size_t size, uint32_t seq, int ifindex, bool up)
{
	return req_set_up(buf, size, seq, ifindex, NULL, up);
}

int net_req_set_up_name(void *buf, size_t size, uint32_t seq, const char *name, bool up)
{
	return req_set_up(buf, size, seq, 0, name, up);
}

int net_req_addaddr(void *buf, size_t size, uint32_t seq, int ifindex,
		    const struct net_addr *a)
{
	size_t alen = a->family == AF_INET ? 4 : 16;
	struct nl_msg m;
	struct ifaddrmsg *ifa = nl_msg_start(&m, buf, size, RTM_NEWADDR,
					     NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq,
					     sizeof(*ifa));
	if (!ifa)
		return -ENOBUFS;
	if (a->family != AF_INET && a->family != AF_INET6)
		return -EINVAL;
	ifa->ifa_family = (unsigned char)a->family;
	ifa->ifa_prefixlen = (unsigned char)a->prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)ifindex;
	nl_put(&m, IFA_LOCAL, &a->u, alen);
	nl_put(&m, IFA_ADDRESS, &a->u, alen);
	if (a->family == AF_INET) {
		/* What `ip addr add` sets: the directed broadcast. */
		uint32_t mask = a->prefix ? ~0u << (32 - a->prefix) : 0;
		uint32_t bc = htonl(ntohl(a->u.v4.s_addr) | ~mask);
		if (a->prefix < 31)
			nl_put_u32(&m, IFA_BROADCAST, bc);
	} else {
		/* Usable at once: no duplicate address detection on a link of
		 * our own making, the firmware boots now. */
		nl_put_u32(&m, IFA_FLAGS, IFA_F_NODAD);
	}
	return nl_msg_end(&m);
}

int net_req_newveth(void *buf, size_t size, uint32_t seq, const char *host,
		    const char *peer, int peer_netns_fd, bool up)
{
	struct nl_msg m;
	struct ifinfomsg *ifi = link_start(&m, buf, size, seq, RTM_NEWLINK,
					   NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0);

	/* The host end up as made: no set-up request after, one turn less
	 * of the kernel's rtnl lock that a herd of runs queues for. (Not the
	 * peer: the kernel opens it before its other end exists, ENOTCONN.) */
	if (ifi && up) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = IFF_UP;
	}
	nl_put_str(&m, IFLA_IFNAME, host);
	struct nlattr *info = nl_nest_start(&m, IFLA_LINKINFO);
	nl_put_str(&m, IFLA_INFO_KIND, "veth");
	struct nlattr *data = nl_nest_start(&m, IFLA_INFO_DATA);
	struct nlattr *peer_nest = nl_nest_start(&m, VETH_INFO_PEER);
	/* VETH_INFO_PEER holds a struct ifinfomsg (AF_UNSPEC, all zero), then
	 * the peer's attributes. */
	nl_put_raw(&m, sizeof(struct ifinfomsg));
	nl_put_str(&m, IFLA_IFNAME, peer);
	if (peer_netns_fd >= 0)
		nl_put_u32(&m, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	nl_nest_end(&m, peer_nest);
	nl_nest_end(&m, data);
	nl_nest_end(&m, info);
	return nl_msg_end(&m);
}

int net_req_dellink(void *buf, size_t size, uint32_t seq, int ifindex)
{
	struct nl_msg m;

	link_start(&m, buf, size, seq, RTM_DELLINK, NLM_F_ACK, ifindex);
	return nl_msg_end(&m);
}

int net_req_default_route(void *buf, size_t size, uint32_t seq, int ifindex,
			  const struct net_addr *gw)
{
	struct nl_msg m;
	struct rtmsg *rtm = nl_msg_start(&m, buf, size, RTM_NEWROUTE,
					 NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, sizeof(*rtm));
	if (!rtm)
		return -ENOBUFS;
	if (gw->family != AF_INET && gw->family != AF_INET6)
		return -EINVAL;
	rtm->rtm_family = (unsigned char)gw->family;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	nl_put(&m, RTA_GATEWAY, &gw->u, gw->family == AF_INET ? 4 : 16);
	nl_put_u32(&m, RTA_OIF, (uint32_t)ifindex);
	return nl_msg_end(&m);
}

int net_req_getroute_dump(void *buf, size_t size, uint32_t seq, int family)
{
	struct nl_msg m;
	struct rtmsg *rtm = nl_msg_start(&m, buf, size, RTM_GETROUTE, NLM_F_DUMP, seq,
					 sizeof(*rtm));
	if (rtm)
		rtm->rtm_family = (unsigned char)family;
	return nl_msg_end(&m);
}

int net_route_dst(const void *msg, struct net_addr *dst)
{
	const struct nlmsghdr *nlh = msg;
	const struct nlattr *tb[RTA_MAX + 1];

	memset(dst, 0, sizeof(*dst));
	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct rtmsg))
		return 0;
	const struct rtmsg *rtm = NLMSG_DATA(nlh);
	size_t alen = rtm->rtm_family == AF_INET ? 4 : rtm->rtm_family == AF_INET6 ? 16 : 0;
	if (!alen || rtm->rtm_dst_len > alen * 8)
		return 0;
	(void)nl_parse(nlh, sizeof(*rtm), tb, RTA_MAX);
	if (rtm->rtm_dst_len) {
		/* A prefix without its address, or a short one: not a route
		 * we can place. */
		if (!tb[RTA_DST] || nl_attr_len(tb[RTA_DST]) != alen)
			return 0;
		memcpy(dst->u.raw, nl_attr_data(tb[RTA_DST]), alen);
	}
	dst->family = rtm->rtm_family;
	dst->prefix = rtm->rtm_dst_len;
	return 1;
}

int net_route_default_oifs(const void *msg, int *oifs, size_t max)
{
	const struct nlmsghdr *nlh = msg;
	const struct nlattr *tb[RTA_MAX + 1];
	size_t n = 0;
	uint32_t table, oif;

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct rtmsg))
		return 0;
	const struct rtmsg *rtm = NLMSG_DATA(nlh);
	if (rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST)
		return 0;
	/* A malformed attribute ends the list: those before it count. */
	(void)nl_parse(nlh, sizeof(*rtm), tb, RTA_MAX);
	/* An RTA_TABLE or RTA_OIF without its 4 bytes is ignored (a short
	 * RTA_OIF was once read past the message's end: fuzz/fuzz_net). */
	if (!nl_attr_u32(tb[RTA_TABLE], &table))
		table = rtm->rtm_table;
	if (table != RT_TABLE_MAIN)
		return 0;
	if (nl_attr_u32(tb[RTA_OIF], &oif) && n < max)
		oifs[n++] = (int)oif;
	if (tb[RTA_MULTIPATH]) {
		const struct nlattr *mp = tb[RTA_MULTIPATH];
		const char *p = nl_attr_data(mp);
		size_t left = nl_attr_len(mp);
		while (left >= sizeof(struct rtnexthop) && n < max) {
			const struct rtnexthop *nh = (const void *)p;
			if (nh->rtnh_len < sizeof(*nh) || nh->rtnh_len > left)
				break;
			size_t step = (size_t)RTNH_ALIGN(nh->rtnh_len);
			oifs[n++] = nh->rtnh_ifindex;
			if (step >= left)
				break;
			left -= step;
			p += step;
		}
	}
	return (int)n;
}

/* -------------------------------------------------------------- applying */

#define TX_SIZE 1024

static uint32_t next_seq(void)
{
	static uint32_t seq;

	if (!seq)
		seq = (uint32_t)time(NULL);
	return ++seq;
}

struct link_info {
	int ifindex;
	unsigned flags;
	char name[IFNAMSIZ];
	char kind[16];
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_info *li = data;
	const struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	const char *s;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct ifinfomsg))
		return 0;
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	li->ifindex = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	(void)nl_parse(nlh, sizeof(*ifi), tb, IFLA_MAX);
	if ((s = nl_attr_str(tb[IFLA_IFNAME])))
		fw_strlcpy(li->name, s, sizeof(li->name));
	if (tb[IFLA_LINKINFO]) {
		(void)nl_parse_nested(tb[IFLA_LINKINFO], info, IFLA_INFO_MAX);
		if ((s = nl_attr_str(info[IFLA_INFO_KIND])))
			fw_strlcpy(li->kind, s, sizeof(li->kind));
	}
	return 0;
}

/* Send a request built into req (built: its length or -errno) and wait
 * for its answer, cb reading what comes before the end. */
static int rtnl_talk(struct nl_sock *nl, const void *req, int built, nl_cb cb, void *data)
{
	if (built < 0)
		return built;
	return nl_talk(nl, req, cb, data);
}

/* By name, or by index when name is NULL. -ENODEV when there is none. */
static int rtnl_getlink(struct nl_sock *nl, const char *name, int ifindex,
			struct link_info *li)
{
	NL_ALIGNED char req[TX_SIZE];
	struct nl_msg m;
	int r;

	memset(li, 0, sizeof(*li));
	if (name) {
		r = net_req_getlink(req, sizeof(req), next_seq(), name);
	} else {
		link_start(&m, req, sizeof(req), next_seq(), RTM_GETLINK, NLM_F_ACK, ifindex);
		r = nl_msg_end(&m);
	}
	r = rtnl_talk(nl, req, r, link_cb, li);
	if (r < 0)
		return r;
	return li->ifindex > 0 ? 0 : -ENODEV;
}

static int set_up(struct nl_sock *nl, int ifindex, bool up)
{
	NL_ALIGNED char req[TX_SIZE];
	return rtnl_talk(nl, req, net_req_set_up(req, sizeof(req), next_seq(), ifindex, up),
			 NULL, NULL);
}

static int add_addr(struct nl_sock *nl, int ifindex, const struct net_addr *a)
{
	NL_ALIGNED char req[TX_SIZE];
	return rtnl_talk(nl, req, net_req_addaddr(req, sizeof(req), next_seq(), ifindex, a),
			 NULL, NULL);
}

static int del_link(struct nl_sock *nl, int ifindex)
{
	NL_ALIGNED char req[TX_SIZE];
	return rtnl_talk(nl, req, net_req_dellink(req, sizeof(req), next_seq(), ifindex),
			 NULL, NULL);
}

static int move_link(struct nl_sock *nl, int ifindex, int netns_fd, const char *name)
{
	NL_ALIGNED char req[TX_SIZE];
	return rtnl_talk(nl, req, net_req_move(req, sizeof(req), next_seq(), ifindex,
					       netns_fd, name),
			 NULL, NULL);
}

/* The index of the link named name in the namespace of the socket fd (any
 * socket: a netlink one will do). An ioctl, not RTM_GETLINK: the kernel
 * answers it under RCU, where a netlink request would wait its turn for
 * the rtnl lock behind every other run's. -ENODEV when there is none. */
static int ifindex_of(int fd, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	fw_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		return -errno;
	return ifr.ifr_ifindex;
}

struct oif_set {
	int oifs[32];
	size_t n;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct oif_set *s = data;
	int n = net_route_default_oifs(nlh, s->oifs + s->n, FW_ARRAY_SIZE(s->oifs) - s->n);
	if (n > 0)
		s->n += (size_t)n;
	return 0;
}

static int default_route_oifs(struct nl_sock *nl, struct oif_set *s)
{
	static const int families[] = { AF_INET, AF_INET6 };
	NL_ALIGNED char req[TX_SIZE];

	s->n = 0;
	for (size_t i = 0; i < FW_ARRAY_SIZE(families); i++) {
		int r = rtnl_talk(nl, req,
				  net_req_getroute_dump(req, sizeof(req), next_seq(), families[i]),
				  route_cb, s);
		if (r < 0 && r != -EAFNOSUPPORT)
			return r;
	}
	return 0;
}

/* A socket in the namespace netns_fd: sockets stay in the namespace they
 * were made in, so the supervisor steps in, opens it and steps back. */
static int rtnl_open_in(struct nl_sock *nl, int netns_fd, int host_netns_fd)
{
	if (FW_FAULT(NET_NETNS_SOCKET) || setns(netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	int r = nl_open(nl);
	if (setns(host_netns_fd, CLONE_NEWNET) < 0) {
		/* Cannot happen with a valid fd of our own namespace; never
		 * go on in the wrong one. */
		abort();
	}
	return r;
}

/* The run's socket in the firmware's namespace, made on first use
 * (net_move_in, net_inside) and closed by net_restore. */
static int inner_socket(struct net_state *st, int netns_fd, struct fw_error *e)
{
	if (st->inner_nl.fd >= 0)
		return 0;
	int r = rtnl_open_in(&st->inner_nl, netns_fd, st->host_netns_fd);
	return r < 0 ? fw_fail(e, r, "open a netlink socket in",
			       "the firmware's network namespace") : 0;
}

/* --- lock files and records (NET_STATE_DIR) */

/* NET_STATE_DIR, made (and checked to be ours) by rundir_ensure() before
 * the run: missing, the lock fails with ENOENT rather than make it here
 * without that check. */
static int state_dir_open(void)
{
	int fd = open(NET_STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Open and flock (non-blocking) NET_STATE_DIR/name. -EBUSY when held, with
 * the holder's record in rec. */
static int lock_take_at(int dfd, const char *name, char *rec, size_t recsize)
{
	return FW_FAULT_ERR(NET_LOCK) ?: fw_lock_at(dfd, name, rec, recsize);
}

static int lock_take(const char *name, char *rec, size_t recsize)
{
	_cleanup_close_ int dfd = state_dir_open();
	if (dfd < 0)
		return dfd;
	return lock_take_at(dfd, name, rec, recsize);
}

/* Let go of NET_STATE_DIR/name: its file goes with it, unless it keeps a
 * record the next run must read (an interface a killed run did not give
 * back). */
static void lock_release(const char *name, int *fd, bool keep)
{
	if (*fd < 0)
		return;
	_cleanup_close_ int dfd = keep ? -1 : state_dir_open();
	if (dfd >= 0)
		fw_unlock_at(dfd, name, *fd);
	else
		close(*fd);
	*fd = -1;
}

static int record_write(int fd, const char *text)
{
	return fw_lock_write(fd, text);
}

/* "pid instance kind created ifindex" */
struct record {
	long pid;
	char instance[65];
	char kind[16];
	int created;
	int ifindex;
};

static bool record_parse(const char *text, struct record *r)
{
	memset(r, 0, sizeof(*r));
	return sscanf(text, "%ld %64s %15s %d %d", &r->pid, r->instance, r->kind, &r->created,
		      &r->ifindex) == 5;
}

/* The lock is ours, yet a record is there: the fwrun that wrote it died
 * without giving the interface back (SIGKILL). Say what became of it. */
static int stale_record(struct nl_sock *nl, struct net_link *l, const char *ifname,
			const char *text, struct fw_error *e)
{
	struct record rec;
	struct link_info li;
	char hint[128];

	if (record_parse(text, &rec) && rec.created &&
	    rtnl_getlink(nl, ifname, 0, &li) == 0 && !strcmp(li.kind, "tun") &&
	    (rec.ifindex == 0 || rec.ifindex == li.ifindex)) {
		/* A tap fwrun made, killed before it moved the tap in (or
		 * before it could record its index): still persistent on the
		 * host. Ours: delete it, this run makes its own (taken as a
		 * lent interface, it would outlive every run). */
		int r = del_link(nl, li.ifindex);
		if (r < 0 && r != -ENODEV)
			return fw_fail_hint(e, r, "delete tap", ifname,
					    "left by a killed fwrun");
	}
	if (!record_parse(text, &rec) || rec.created) {
		/* A tap fwrun made died with the namespace: nothing lost. */
		record_write(l->lock_fd, "");
		return 0;
	}
	if (rtnl_getlink(nl, ifname, 0, &li) == 0) {
		record_write(l->lock_fd, "");
		return 0;	/* back on the host under its name */
	}
	if (strcmp(rec.kind, "-") != 0) {
		/* tap, veth...: destroyed with the namespace. Said once. */
		record_write(l->lock_fd, "");
		snprintf(hint, sizeof(hint),
			 "fwrun pid %ld was killed while it had this %s: destroyed with the firmware",
			 rec.pid, rec.kind);
		return fw_fail_hint(e, ENODEV, "interface lost", ifname, hint);
	}
	if (rec.ifindex > 0 && rtnl_getlink(nl, NULL, rec.ifindex, &li) == 0 && !li.kind[0]) {
		snprintf(hint, sizeof(hint),
			 "fwrun pid %ld was killed: it came back as '%s', rename it", rec.pid,
			 li.name);
		return fw_fail_hint(e, ENODEV, "interface not back under its name",
				    ifname, hint);
	}
	record_write(l->lock_fd, "");
	return 0;
}

static int busy(struct fw_error *e, const char *what, const char *ifname, const char *rec)
{
	struct record holder;
	char hint[128];

	if (record_parse(rec, &holder))
		snprintf(hint, sizeof(hint), "in use by fwrun instance '%s' (pid %ld)",
			 holder.instance, holder.pid);
	else
		snprintf(hint, sizeof(hint), "in use by another fwrun");
	return fw_fail_hint(e, EBUSY, what, ifname, hint);
}

static int refuse_link(const struct net_state *st, const struct link_info *li,
		       const struct oif_set *routes, const char *ifname, struct fw_error *e)
{
	if (li->flags & IFF_LOOPBACK)
		return fw_fail_hint(e, EINVAL, "borrow interface", ifname,
				    "a loopback interface cannot be moved");
	for (size_t k = 0; k < routes->n && !st->spec.force_default_route; k++)
		if (routes->oifs[k] == li->ifindex)
			return fw_fail_hint(e, EPERM, "borrow interface", ifname,
					    "it carries the host's default route "
					    "(--force-default-route to take it anyway)");
	return 0;
}

/* One --tap, before anything is touched: not a loopback or the uplink,
 * not borrowed by another run (its lock taken for this one, a killed run's
 * record read), there, or else creatable as a tap. */
static int validate_tap(struct net_state *st, size_t i, struct nl_sock *nl,
			const struct oif_set *routes, struct fw_error *e)
{
	struct net_link *l = &st->links[i];
	const struct net_tap_spec *t = &st->spec.taps[i];
	char name[IFNAMSIZ + 3], rec[256];
	struct link_info li;
	int r;

	/* What no lock changes comes first: a loopback or the uplink is
	 * refused as such, whoever else looks at it. */
	if (rtnl_getlink(nl, t->ifname, 0, &li) == 0) {
		r = refuse_link(st, &li, routes, t->ifname, e);
		if (r < 0)
			return r;
	}

	snprintf(name, sizeof(name), "if-%s", t->ifname);
	r = lock_take(name, rec, sizeof(rec));
	if (r == -EBUSY)
		return busy(e, "borrow interface", t->ifname, rec);
	if (r < 0)
		return fw_fail(e, r, "lock", NET_STATE_DIR);
	l->lock_fd = r;
	if (rec[0]) {
		r = stale_record(nl, l, t->ifname, rec, e);
		if (r < 0)
			return r;
	}

	r = rtnl_getlink(nl, t->ifname, 0, &li);
	if (r == -ENODEV) {
		l->host_ifindex = 0;	/* net_prepare() makes a tap */
		if (access("/dev/net/tun", R_OK | W_OK) < 0)
			return fw_fail_hint(e, errno, "create tap", t->ifname,
					    "no such interface, and no /dev/net/tun to make one");
		return 0;
	}
	if (r < 0)
		return fw_fail(e, r, "look up interface", t->ifname);
	r = refuse_link(st, &li, routes, t->ifname, e);
	if (r < 0)
		return r;
	l->host_ifindex = li.ifindex;
	l->host_flags = li.flags;
	fw_strlcpy(l->kind, li.kind, sizeof(l->kind));
	return 0;
}

/* --veth's host end: ours for the run (a --tap of another run must not
 * take it, nor another instance of the same name make it), and not there. */
static int validate_veth(struct net_state *st, struct nl_sock *nl, struct fw_error *e)
{
	char name[IFNAMSIZ + 3], rec[256];
	int r;

	snprintf(name, sizeof(name), "if-%s", st->veth_host_name);
	r = lock_take(name, rec, sizeof(rec));
	if (r == -EBUSY)
		return busy(e, "create veth", st->veth_host_name, rec);
	if (r < 0)
		return fw_fail(e, r, "lock", NET_STATE_DIR);
	st->veth_if_lock_fd = r;
	snprintf(rec, sizeof(rec), "%ld %s veth 1 0\n", (long)getpid(), st->instance);
	record_write(r, rec);
	r = ifindex_of(nl->fd, st->veth_host_name);
	if (r > 0)
		return fw_fail_hint(e, EEXIST, "create veth", st->veth_host_name,
				    "is another fwrun with this instance name running?");
	if (r != -ENODEV)
		return fw_fail(e, r, "look up interface", st->veth_host_name);
	return 0;
}

int net_validate(struct net_state *st, struct fw_error *e)
{
	struct oif_set routes;
	int r;

	if (st->spec.veth && net_veth_host_name(st->instance, st->veth_host_name) < 0)
		return fw_fail(e, EINVAL, "name the host end of --veth for", st->instance);
	r = net_spec_check(&st->spec, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < st->spec.ntaps && st->spec.veth; i++)
		if (!strcmp(st->spec.taps[i].ifname, st->veth_host_name))
			return fw_fail_hint(e, EEXIST, "borrow interface", st->veth_host_name,
					    "that is the host end of --veth");
	if (st->host_netns_fd < 0) {
		st->host_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (st->host_netns_fd < 0)
			return fw_fail(e, errno, "open", "/proc/self/ns/net");
	}
	if (net_spec_empty(&st->spec))
		return 0;

	_cleanup_nl_ struct nl_sock nl = NL_SOCK_CLOSED;
	r = nl_open(&nl);
	if (r < 0)
		return fw_fail(e, r, "open a netlink socket", "NETLINK_ROUTE");
	/* The default-route check is the --tap's: --veth alone skips it. */
	routes.n = 0;
	r = st->spec.ntaps ? default_route_oifs(&nl, &routes) : 0;
	if (r < 0)
		return fw_fail(e, r, "read the host's routes", "");

	for (size_t i = 0; i < st->spec.ntaps; i++) {
		r = validate_tap(st, i, &nl, &routes, e);
		if (r < 0)
			return r;
	}
	return st->spec.veth ? validate_veth(st, &nl, e) : 0;
}

static int tap_create(const char *name)
{
	struct ifreq ifr;
	_cleanup_close_ int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	fw_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
	if (FW_FAULT(NET_TAP_CREATE) || ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	if (ioctl(fd, TUNSETPERSIST, 1) < 0)
		return -errno;
	return 0;
}

static int route_dst_cb(const struct nlmsghdr *nlh, void *data)
{
	struct net_addr dst;

	if (net_route_dst(nlh, &dst))
		net_veth_alloc_route(data, &dst);
	return 0;
}

/* The lowest default subnet neither another fwrun holds nor the host
 * routes (any IPv4 route, all tables): its lock taken and our record in
 * it. A subnet whose lock is free is ours, its file new or left by a
 * killed run. */
static int veth_allocate(struct net_state *st, struct nl_sock *nl, struct fw_error *e)
{
	NL_ALIGNED char req[TX_SIZE];
	struct net_veth_alloc a;
	char rec[256], name[16];
	int n, r;

	net_veth_alloc_init(&a);
	r = rtnl_talk(nl, req, net_req_getroute_dump(req, sizeof(req), next_seq(), AF_INET),
		      route_dst_cb, &a);
	if (r < 0)
		return fw_fail(e, r, "read the host's routes", "");
	_cleanup_close_ int dfd = state_dir_open();
	if (dfd < 0)
		return fw_fail(e, dfd, "lock", NET_STATE_DIR);
	while ((n = net_veth_alloc_next(&a)) >= 0) {
		snprintf(name, sizeof(name), "veth-%d", n);
		r = lock_take_at(dfd, name, NULL, 0);
		if (r == -EBUSY)
			continue;	/* a running instance's */
		if (r < 0)
			return fw_fail(e, r, "lock", NET_STATE_DIR);
		st->veth_lock_fd = r;
		st->veth_n = n;
		net_veth_default((unsigned)n, &st->veth_host, &st->veth_fw);
		snprintf(rec, sizeof(rec), "%ld %s veth 1 0\n", (long)getpid(), st->instance);
		record_write(r, rec);
		return 0;
	}
	return fw_fail_hint(e, EBUSY, "allocate a --veth subnet", "10.202.0.0-10.255.255.255",
			    "all its /24 subnets are in use or routed on the host: "
			    "give --veth=ADDR/PREFIX");
}

int net_prepare(struct net_state *st, struct fw_error *e)
{
	char rec[256];
	int r;

	if (net_spec_empty(&st->spec))
		return 0;
	_cleanup_nl_ struct nl_sock nl = NL_SOCK_CLOSED;
	r = nl_open(&nl);
	if (r < 0)
		return fw_fail(e, r, "open a netlink socket", "NETLINK_ROUTE");

	if (st->spec.veth && !st->spec.veth_addr_given) {
		r = veth_allocate(st, &nl, e);
		if (r < 0)
			return r;
	}

	for (size_t i = 0; i < st->spec.ntaps; i++) {
		struct net_link *l = &st->links[i];
		const struct net_tap_spec *t = &st->spec.taps[i];
		if (!l->host_ifindex) {
			struct link_info li;
			/* Recorded first: killed right after making it, the
			 * next run knows the tap is a left-over of ours. */
			snprintf(rec, sizeof(rec), "%ld %s tun 1 0\n", (long)getpid(), st->instance);
			r = record_write(l->lock_fd, rec);
			if (r < 0)
				return fw_fail(e, r, "write", NET_STATE_DIR);
			r = tap_create(t->ifname);
			if (r < 0)
				return fw_fail(e, r, "create tap", t->ifname);
			l->created = true;
			fw_strlcpy(l->kind, "tun", sizeof(l->kind));
			r = rtnl_getlink(&nl, t->ifname, 0, &li);
			if (r < 0)
				return fw_fail(e, r, "look up interface", t->ifname);
			l->host_ifindex = li.ifindex;
			l->host_flags = li.flags;
		}
		snprintf(rec, sizeof(rec), "%ld %s %s %d %d\n", (long)getpid(), st->instance,
			 l->kind[0] ? l->kind : "-", l->created, l->host_ifindex);
		r = record_write(l->lock_fd, rec);
		if (r < 0)
			return fw_fail(e, r, "write", NET_STATE_DIR);
		l->recorded = true;
	}
	return 0;
}

int net_move_in(struct net_state *st, int netns_fd, struct fw_error *e)
{
	uint64_t t0 = fw_now_ns();
	NL_ALIGNED char req[TX_SIZE];
	int r;

	if (net_spec_empty(&st->spec))
		return 0;
	_cleanup_nl_ struct nl_sock nl = NL_SOCK_CLOSED;
	r = nl_open(&nl);
	if (r < 0)
		return fw_fail(e, r, "open a netlink socket", "NETLINK_ROUTE");
	r = inner_socket(st, netns_fd, e);
	if (r < 0)
		return r;

	if (st->spec.veth) {
		r = FW_FAULT_ERR(NET_VETH_CREATE) ?:
		    rtnl_talk(&nl, req, net_req_newveth(req, sizeof(req), next_seq(),
						       st->veth_host_name, NET_VETH_INNER, netns_fd,
						       true),
			      NULL, NULL);
		if (r < 0)
			return fw_fail(e, r, "create veth", st->veth_host_name);
		st->veth_created = true;
		int ifindex = ifindex_of(nl.fd, st->veth_host_name);
		r = ifindex < 0 ? ifindex : FW_FAULT_ERR(NET_VETH_CONFIG) ?:
		    add_addr(&nl, ifindex, &st->veth_host);
		if (r < 0)
			return fw_fail(e, r, "configure veth", st->veth_host_name);
	}

	for (size_t i = 0; i < st->spec.ntaps; i++) {
		struct net_link *l = &st->links[i];
		const struct net_tap_spec *t = &st->spec.taps[i];

		r = FW_FAULT_ERR(NET_MOVE_IN) ?: move_link(&nl, l->host_ifindex, netns_fd, t->inner);
		if (r < 0) {
			if (r == -EINVAL)
				return fw_fail_hint(e, r, "move into the firmware", t->ifname,
						    "this device cannot change namespace");
			return fw_fail(e, r, "move into the firmware", t->ifname);
		}
		l->moved = true;
		/* The index may change on the way (taken in there): ask. */
		r = ifindex_of(st->inner_nl.fd, t->inner);
		if (r < 0)
			return fw_fail(e, r, "look up interface in the firmware", t->inner);
		l->inner_ifindex = r;
	}
	st->move_ns = fw_now_ns() - t0;
	return 0;
}

int net_inside(struct net_state *st, int netns_fd, struct fw_error *e)
{
	uint64_t t0 = fw_now_ns();
	NL_ALIGNED char req[TX_SIZE];
	int r;

	r = inner_socket(st, netns_fd, e);
	if (r < 0)
		return r;
	struct nl_sock *nl = &st->inner_nl;
	/* By name: one request, no RTM_GETLINK for its index first. */
	r = FW_FAULT_ERR(NET_LO_UP) ?:
	    rtnl_talk(nl, req, net_req_set_up_name(req, sizeof(req), next_seq(), "lo", true),
		      NULL, NULL);
	if (r < 0)
		return fw_fail(e, r, "bring up", "lo");

	for (size_t i = 0; i < st->spec.ntaps; i++) {
		const struct net_link *l = &st->links[i];
		const struct net_tap_spec *t = &st->spec.taps[i];
		if (t->addr.family) {
			char a[64];
			r = FW_FAULT_ERR(NET_ADDR) ?: add_addr(nl, l->inner_ifindex, &t->addr);
			if (r < 0) {
				net_format_cidr(&t->addr, a, sizeof(a));
				return fw_fail_hint(e, r, "add address on", t->inner, a);
			}
		}
		r = FW_FAULT_ERR(NET_UP) ?: set_up(nl, l->inner_ifindex, true);
		if (r < 0)
			return fw_fail(e, r, "bring up", t->inner);
	}

	if (st->spec.veth) {
		char gw[64];
		int ifindex = ifindex_of(nl->fd, NET_VETH_INNER);
		r = ifindex < 0 ? ifindex : FW_FAULT_ERR(NET_VETH_INSIDE) ?:
		    add_addr(nl, ifindex, &st->veth_fw);
		if (r == 0)
			r = set_up(nl, ifindex, true);
		if (r < 0)
			return fw_fail(e, r, "configure veth", NET_VETH_INNER);
		r = FW_FAULT_ERR(NET_ROUTE) ?:
		    rtnl_talk(nl, req, net_req_default_route(req, sizeof(req), next_seq(),
							    ifindex, &st->veth_host),
			      NULL, NULL);
		if (r < 0) {
			net_format_cidr(&st->veth_host, gw, sizeof(gw));
			return fw_fail_hint(e, r, "add default route via", NET_VETH_INNER, gw);
		}
	}
	st->inside_ns = fw_now_ns() - t0;
	return 0;
}

static void keep_first(int *first, struct fw_error *e, int r, const char *what,
		       const char *subject)
{
	if (r < 0 && *first == 0)
		*first = fw_fail(e, r, what, subject);
}

/* One --tap at the end of the run, in reverse: a borrowed one moved back
 * (up again if it was), ours left to die with the namespace, its lock
 * released (its record kept when it is not back, for the next run to read).
 * Errors go to first/e. */
static void restore_tap(struct net_state *st, size_t i, struct nl_sock *nl, int *first,
			struct fw_error *e)
{
	struct net_link *l = &st->links[i];
	const struct net_tap_spec *t = &st->spec.taps[i];
	int r;

	if (l->moved && l->created) {
		/* Ours: it goes with the namespace, whose last reference the
		 * caller closes (the kernel deletes the virtual interfaces of
		 * a namespace that dies; it never hands them to the host).
		 * A delete here waited 30 ms for the kernel's grace periods;
		 * the namespace's cleanup does it after fwrun is gone. */
		l->moved = l->created = false;
	} else if (l->moved && st->inner_nl.fd < 0) {
		keep_first(first, e, -EBADF, "move back to the host", t->ifname);
	} else if (l->moved) {
		/* Once more on a failure: a virtual interface left in
		 * there dies with the namespace. */
		for (int tries = 0; tries < 2; tries++) {
			r = FW_FAULT_ERR(NET_GIVE_BACK) ?:
			    move_link(&st->inner_nl, l->inner_ifindex, st->host_netns_fd,
				      t->ifname);
			if (r == 0)
				break;
		}
		keep_first(first, e, r, "move back to the host", t->ifname);
		if (r == 0) {
			l->moved = false;
			if ((l->host_flags & IFF_UP) && nl->fd >= 0) {
				r = ifindex_of(nl->fd, t->ifname);
				if (r > 0)
					r = set_up(nl, r, true);
				keep_first(first, e, r, "bring up", t->ifname);
			}
		}
	} else if (l->created && nl->fd >= 0) {
		/* Made, then the run failed before the move. */
		r = del_link(nl, l->host_ifindex);
		keep_first(first, e, r, "delete tap", t->ifname);
		if (r == 0)
			l->created = false;
	}
	if (l->lock_fd >= 0) {
		/* Left as is when the interface is not back: the next
		 * run reads it. */
		bool back = l->recorded && !l->moved && !l->created;
		char name[IFNAMSIZ + 3];
		if (back)
			record_write(l->lock_fd, "");
		snprintf(name, sizeof(name), "if-%s", t->ifname);
		lock_release(name, &l->lock_fd, !back && l->recorded);
	}
}

int net_restore(struct net_state *st, int netns_fd, struct fw_error *e)
{
	uint64_t t0 = fw_now_ns();
	int first = 0, r;

	_cleanup_nl_ struct nl_sock nl = NL_SOCK_CLOSED;
	if (st->spec.ntaps || st->veth_created) {
		r = nl_open(&nl);
		keep_first(&first, e, r, "open a netlink socket", "NETLINK_ROUTE");
	}
	if (st->inner_nl.fd < 0 && netns_fd >= 0 && st->host_netns_fd >= 0) {
		for (size_t i = 0; i < st->spec.ntaps; i++)
			if (st->links[i].moved && !st->links[i].created) {
				(void)rtnl_open_in(&st->inner_nl, netns_fd, st->host_netns_fd);
				break;
			}
	}

	for (size_t i = st->spec.ntaps; i-- > 0;)
		restore_tap(st, i, &nl, &first, e);

	if (st->veth_created && nl.fd >= 0) {
		int ifindex = ifindex_of(nl.fd, st->veth_host_name);
		r = ifindex < 0 ? ifindex : FW_FAULT_ERR(NET_VETH_DELETE) ?:
		    del_link(&nl, ifindex);
		if (r == -ENODEV)
			r = 0;	/* gone with its peer already */
		keep_first(&first, e, r, "delete veth", st->veth_host_name);
		if (r == 0)
			st->veth_created = false;
	}
	if (st->veth_lock_fd >= 0) {
		char name[16];
		snprintf(name, sizeof(name), "veth-%d", st->veth_n);
		lock_release(name, &st->veth_lock_fd, false);
	}
	if (st->veth_if_lock_fd >= 0) {
		char name[IFNAMSIZ + 3];
		snprintf(name, sizeof(name), "if-%s", st->veth_host_name);
		lock_release(name, &st->veth_if_lock_fd, false);
	}
	nl_close(&st->inner_nl);
	fw_closep(&st->host_netns_fd);
	st->restore_ns = fw_now_ns() - t0;
	return first;
}
