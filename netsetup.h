/* SPDX-License-Identifier: MIT */
/* The firmware's network (doc/design.md, "Network"): --tap IF[:INNER[:ADDR/PREFIX]] and
 * --veth[=ADDR/PREFIX], all over rtnetlink (nl.h), no helper program.
 *
 * Pure half (no root, unit-tested): net_ifname_check(), net_parse_cidr(),
 * net_format_cidr(), net_parse_tap(), net_veth_host_name(), net_veth_default(),
 * net_veth_gateway(), struct net_spec and net_spec_*() (what the options
 * asked for), net_req_*() (netlink requests built into a caller buffer),
 * net_route_default_oifs().
 *
 * Applying half, on a struct net_state made by net_state_init() from a spec
 * and the instance name, in the order of a run:
 *   net_validate()   supervisor, before anything is touched: the interfaces on
 *                    the host, in use by another fwrun, the default-route one,
 *                    what a killed fwrun left behind
 *   net_prepare()    supervisor, before ns_spawn(): create missing taps,
 *                    allocate the --veth subnet
 *   net_move_in()    supervisor, once ns->netns_fd exists: create the veth pair
 *                    (firmware end straight in the namespace), move and rename
 *                    the borrowed interfaces
 *   net_inside()     supervisor, right after: lo up, addresses, links up,
 *                    default route of --veth, over a socket made in the
 *                    namespace, while the setup thread goes on with its
 *                    mounts (it starts pid 1 only once this is done)
 *   net_restore()    supervisor, however the run ends, netns_fd still open:
 *                    borrowed interfaces back with their name and up/down
 *                    state, what fwrun created deleted
 *
 * What the kernel does without us (fwrun SIGKILLed): the namespace dies with
 * the firmware; physical NICs return to the host under their inner name (or
 * devN when that is taken), virtual ones (tap, veth) are destroyed. A record
 * per borrowed interface in NET_STATE_DIR lets the next run say so.
 * NET_STATE_DIR is rundir.c's: rundir_ensure() makes it before a run.
 *
 * Under a herd (many runs at once) the kernel's rtnl lock is what they queue
 * for: a run makes as few requests under it as it can (the veth's host end
 * is made up; interface indexes come from SIOCGIFINDEX, answered under RCU,
 * not from RTM_GETLINK), and the --veth subnet is chosen from one directory
 * read and one route dump, not one lock attempt per running instance. */
#ifndef FWRUN_NETSETUP_H
#define FWRUN_NETSETUP_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nl.h"
#include "rundir.h"
#include "util.h"

#define NET_MAX_TAPS 16
#define NET_VETH_INNER "eth0"		/* the firmware end of --veth */
#define NET_VETH_PREFIX "fw-"		/* host end: fw-NAME, or fw-NAM-hhhhh */
/* --veth's default subnets: N in 0..NET_VETH_SUBNETS-1 is 10.A.B.0/24 with
 * A = 202 + N / 256, B = N % 256: firmwared's 10.202.N.0/24 for the first
 * 256, then on through 10.203.0.0/24 ... 10.255.255.0/24. */
#define NET_VETH_FIRST_A 202
#define NET_VETH_SUBNETS ((256 - NET_VETH_FIRST_A) * 256)	/* 13824 */
/* Per-interface and per-subnet lock files, held for the run. */
#define NET_STATE_DIR FWRUN_NET_DIR

/* An IPv4 or IPv6 address with its prefix length. family 0: none. */
struct net_addr {
	int family;			/* AF_INET, AF_INET6, or 0 */
	unsigned prefix;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		unsigned char raw[16];
	} u;
};

/* 0 if name can be a network interface name that fwrun may create or look up:
 * 1..15 bytes, not "." or "..", no '/', ':', '%', whitespace or control
 * characters. -ENAMETOOLONG or -EINVAL otherwise. */
int net_ifname_check(const char *name);

/* "192.168.1.2/24", "fd00::1/64": address and prefix both required, the
 * prefix within 0..32 / 0..128, no trailing junk. 0 or -EINVAL. */
int net_parse_cidr(const char *s, struct net_addr *a);

/* The reverse: "10.202.0.1/24". Returns the length or -ENOSPC/-EINVAL. */
int net_format_cidr(const struct net_addr *a, char *buf, size_t size);

/* One --tap. inner defaults to ifname; addr.family 0 when no address. */
struct net_tap_spec {
	char ifname[IFNAMSIZ];
	char inner[IFNAMSIZ];
	struct net_addr addr;
};

/* Parse IF[:INNER[:ADDR/PREFIX]]. The address is the last field and may hold
 * ':' (IPv6): "tap0:eth1:fd00::2/64". An empty INNER ("tap0::10.0.0.2/24")
 * means the same name. Fills e (what: "parse --tap", subject: the spec, hint:
 * which part is wrong) and returns -EINVAL/-ENAMETOOLONG. */
int net_parse_tap(const char *spec, struct net_tap_spec *t, struct fw_error *e);

/* The host end of --veth for an instance: "fw-NAME" when it fits in 15 bytes,
 * else "fw-" + the first 6 bytes + "-" + 5 hex digits of a hash of the whole
 * name, so that long names sharing a prefix still differ. -EINVAL if the
 * result would not be a valid interface name. */
int net_veth_host_name(const char *instance, char out[IFNAMSIZ]);

/* Default --veth addressing for subnet n (see NET_VETH_SUBNETS): host
 * 10.A.B.254/24, firmware 10.A.B.1/24. -EINVAL if n >= NET_VETH_SUBNETS. */
int net_veth_default(unsigned n, struct net_addr *host, struct net_addr *fw);

/* The default subnet N that holds the IPv4 address a, or -1. */
int net_veth_subnet_of(const struct net_addr *a);

/* The order in which a run tries the default --veth subnets: lowest first,
 * each once, never one the host routes itself. Each candidate is tried
 * with its lock (one open and flock, no directory read): a held one is
 * passed over, and one a killed run left (its file there, its lock free)
 * is taken again, so that the lowest free subnet is always the one a run
 * gets, as fwrun(8) says. */
struct net_veth_alloc {
	uint8_t routed[(NET_VETH_SUBNETS + 7) / 8];
	unsigned next;
};

void net_veth_alloc_init(struct net_veth_alloc *a);
/* A route of the host to dst: a default subnet that holds it with a prefix
 * as long as its own or longer (an address, a network inside it) is never
 * a candidate. A broader route (a VPN's 10.0.0.0/8, a default route) is
 * not in the way: the /24 is more specific, as any connected network. */
void net_veth_alloc_route(struct net_veth_alloc *a, const struct net_addr *dst);
/* The next N to try, or -1 when none is left. */
int net_veth_alloc_next(struct net_veth_alloc *a);

/* The host (gateway) address for --veth=ADDR/PREFIX (ADDR is the firmware's):
 * IPv4 the last usable address of the subnet (.254 in a /24), or the first
 * when ADDR is that one; IPv6 subnet::1, or ::2 when ADDR is ::1. -EINVAL
 * when the subnet is too small (prefix > 30 / > 126) or ADDR is the network
 * or broadcast address. */
int net_veth_gateway(const struct net_addr *fw, struct net_addr *host);

/* What the command line asked for (--tap, --veth, --force-default-route):
 * plain data, no fds, copied freely (the options, --dry-run). It names no
 * instance: the run's state (struct net_state) adds that. */
struct net_spec {
	struct net_tap_spec taps[NET_MAX_TAPS];
	size_t ntaps;
	bool veth;			/* --veth */
	bool veth_addr_given;		/* --veth=ADDR/PREFIX */
	struct net_addr veth_host, veth_fw;	/* when given */
	bool force_default_route;	/* --force-default-route */
};

/* An empty spec: no --tap, no --veth. */
void net_spec_init(struct net_spec *s);

/* Parse one --tap into the spec (-E2BIG past NET_MAX_TAPS). */
int net_spec_add_tap(struct net_spec *s, const char *spec, struct fw_error *e);

/* --veth, with cidr NULL for the default addressing. */
int net_spec_set_veth(struct net_spec *s, const char *cidr, struct fw_error *e);

/* Pure checks of the whole spec: the same IF twice, two INNER names alike,
 * INNER "lo", INNER NET_VETH_INNER with --veth. (IF being the instance's
 * veth host end is net_validate()'s: it needs the instance name.) */
int net_spec_check(const struct net_spec *s, struct fw_error *e);

/* Whether the spec does anything beyond lo. */
bool net_spec_empty(const struct net_spec *s);

/* One --tap of the run (spec.taps[i] of its state) and what fwrun did with
 * it. */
struct net_link {
	int host_ifindex;	/* on the host before the move; 0: missing, create a tap */
	unsigned host_flags;	/* IFF_* on the host before the move */
	char kind[16];		/* IFLA_INFO_KIND ("tun", "veth"...), "" for a NIC */
	bool created;		/* fwrun made it: deleted at exit */
	bool moved;		/* in the firmware's namespace now */
	bool recorded;		/* our record is in the lock file */
	int inner_ifindex;	/* its index in there */
	int lock_fd;		/* NET_STATE_DIR/if-IF, held for the run */
};

/* The network of one run: its spec, the instance, and what is live (lock
 * fds, what was created or moved, the socket in the firmware's namespace).
 * Made by net_state_init(), taken by every applying function; holds fds, so
 * it is never copied. */
struct net_state {
	struct net_spec spec;		/* a copy, not changed by the run */
	char instance[65];
	struct net_link links[NET_MAX_TAPS];	/* links[i]: spec.taps[i] */
	struct net_addr veth_host, veth_fw;	/* given, or allocated by net_prepare() */
	char veth_host_name[IFNAMSIZ];
	int veth_n;			/* -1 when not the default addressing */
	int veth_lock_fd;		/* NET_STATE_DIR/veth-N */
	int veth_if_lock_fd;		/* NET_STATE_DIR/if-<host end>: no --tap takes it */
	bool veth_created;
	int host_netns_fd;		/* the supervisor's own, to come back after setns */
	struct nl_sock inner_nl;	/* in the firmware's namespace (net_move_in, net_inside) */
	uint64_t move_ns, inside_ns, restore_ns;	/* time spent, for -v */
};

/* The state of a run of spec by the instance named instance (the veth host
 * end), nothing done yet (no fds open). */
void net_state_init(struct net_state *st, const struct net_spec *spec, const char *instance);

/* --- netlink requests (pure): each builds one message into buf and returns
 * its length, or -ENOBUFS when size is too small. */
int net_req_getlink(void *buf, size_t size, uint32_t seq, const char *name);
/* Move ifindex into the namespace netns_fd, named newname there (may be NULL). */
int net_req_move(void *buf, size_t size, uint32_t seq, int ifindex, int netns_fd,
		 const char *newname);
int net_req_set_up(void *buf, size_t size, uint32_t seq, int ifindex, bool up);
/* The same for the link of that name (no index needed: lo). */
int net_req_set_up_name(void *buf, size_t size, uint32_t seq, const char *name, bool up);
int net_req_addaddr(void *buf, size_t size, uint32_t seq, int ifindex,
		    const struct net_addr *a);
/* A veth pair: host end in the caller's namespace, peer created straight in
 * peer_netns_fd; with up, the host end is up as made (the peer cannot be). */
int net_req_newveth(void *buf, size_t size, uint32_t seq, const char *host,
		    const char *peer, int peer_netns_fd, bool up);
int net_req_dellink(void *buf, size_t size, uint32_t seq, int ifindex);
int net_req_default_route(void *buf, size_t size, uint32_t seq, int ifindex,
			  const struct net_addr *gw);
int net_req_getroute_dump(void *buf, size_t size, uint32_t seq, int family);

/* From one RTM_NEWROUTE message of any table: its destination (address and
 * prefix length; 0.0.0.0/0 or ::/0 for a default route). 1 when filled, 0
 * for any other message. */
int net_route_dst(const void *nlh, struct net_addr *dst);

/* From one RTM_NEWROUTE message: if it is a default route of the main table,
 * store its output interfaces (RTA_OIF, multipath next hops) in oifs and
 * return how many; 0 for any other route. */
int net_route_default_oifs(const void *nlh, int *oifs, size_t max);

/* --- applying half (see the top of this file). Errors name the interface;
 * kernel errors come back as -errno. */
int net_validate(struct net_state *st, struct fw_error *e);
int net_prepare(struct net_state *st, struct fw_error *e);
int net_move_in(struct net_state *st, int netns_fd, struct fw_error *e);
int net_inside(struct net_state *st, int netns_fd, struct fw_error *e);
/* Best effort over everything, first error kept; releases the state's fds
 * and locks. Safe to call after any earlier step failed, or twice. The state
 * can then go through net_validate() again (a restart in new namespaces). */
int net_restore(struct net_state *st, int netns_fd, struct fw_error *e);

#endif
