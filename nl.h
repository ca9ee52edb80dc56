/* SPDX-License-Identifier: MIT */
/* The little of rtnetlink that netsetup.c needs, written here rather than
 * linked from a library (a static fwrun needs static libraries, and Debian
 * ships none for the netlink library used before).
 *
 * Pure half (no root; unit-tested, fuzzed by fuzz/fuzz_nl):
 *   building one request in a caller's buffer: every write is checked
 *   against the buffer's size, and one that does not fit writes nothing;
 *   reading the kernel's answers (nl_reply) and the attributes of one
 *   message (nl_parse): never a byte outside what was received.
 * Applying half: nl_open(), nl_talk(), nl_close().
 *
 * Buffers hold struct nlmsghdr: declare them NL_ALIGNED. */
#ifndef FWRUN_NL_H
#define FWRUN_NL_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define NL_ALIGNED _Alignas(struct nlmsghdr)
#define NL_RX_SIZE 32768	/* the most the kernel puts in one datagram */

/* --- building. The request so far is nlh->nlmsg_len bytes of buf. */
struct nl_msg {
	struct nlmsghdr *nlh;
	size_t size;		/* of the buffer */
	bool overflow;		/* something did not fit: the request is unusable */
};

/* Start a request in buf: the header (type, NLM_F_REQUEST | flags, seq),
 * then a zeroed family header (struct ifinfomsg...) of hdrlen bytes, which
 * is returned; NULL (and overflow) when that does not fit in size. */
void *nl_msg_start(struct nl_msg *m, void *buf, size_t size, uint16_t type, uint16_t flags,
		   uint32_t seq, size_t hdrlen);

/* Each put appends, padding zeroed, and returns false (writing nothing,
 * setting overflow) when it does not fit, or once anything did not. */
bool nl_put(struct nl_msg *m, uint16_t type, const void *data, size_t len);
bool nl_put_u32(struct nl_msg *m, uint16_t type, uint32_t v);
bool nl_put_str(struct nl_msg *m, uint16_t type, const char *s);	/* with its NUL */
/* len zeroed bytes that are no attribute (the struct ifinfomsg that starts
 * VETH_INFO_PEER, a struct rtnexthop), to be filled in; NULL when they do
 * not fit. */
void *nl_put_raw(struct nl_msg *m, size_t len);

/* A nested attribute: what is put between start and end goes inside.
 * start returns NULL when it does not fit; end accepts that NULL, and sets
 * overflow when the nest grew past an attribute's 64 KiB. */
struct nlattr *nl_nest_start(struct nl_msg *m, uint16_t type);
void nl_nest_end(struct nl_msg *m, struct nlattr *nest);

/* The request's length, or -ENOBUFS if anything did not fit. */
int nl_msg_end(const struct nl_msg *m);

/* --- reading. tb[type] gets the last attribute of each type 0..max (the
 * NLA_F_ flags cut off), NULL for the absent ones; higher types are
 * skipped. Every attribute stored lies whole inside the area parsed, and
 * has its 4-byte header. Returns 0, or -EBADMSG when the area is shorter
 * than the headers before it, or an attribute is cut short or overruns it:
 * tb then holds those before that one. */
int nl_parse_attrs(const void *area, size_t len, const struct nlattr **tb, unsigned max);
/* Those of a message (of nlmsg_len readable bytes) after its family
 * header of hdrlen bytes. */
int nl_parse(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
	     unsigned max);
/* Those inside a nested attribute. */
int nl_parse_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned max);

/* The payload of an attribute and its length. */
const void *nl_attr_data(const struct nlattr *a);
size_t nl_attr_len(const struct nlattr *a);
/* a's payload when it holds exactly 4 bytes, into *v (false, *v unchanged,
 * when a is NULL or not that long). */
bool nl_attr_u32(const struct nlattr *a, uint32_t *v);
/* a's payload as a string: NULL when a is NULL or holds no NUL. */
const char *nl_attr_str(const struct nlattr *a);

/* Called for each message of the answer that is not a control one
 * (NLMSG_ERROR, NLMSG_DONE...): 0 to go on, or -errno to stop there. */
typedef int (*nl_cb)(const struct nlmsghdr *nlh, void *data);

/* One datagram of answers, len bytes of buf: the messages of request seq
 * for port portid go to cb (may be NULL); the others are skipped (a late
 * answer to an earlier request). Returns 1 once the request is answered
 * (its ACK, or NLMSG_DONE ending a dump), 0 when more is to come, -errno
 * from an NLMSG_ERROR, a failed dump, cb, -EINTR for a dump the kernel
 * marks inconsistent, -EBADMSG for a message cut short or overrunning
 * len. */
int nl_reply(const void *buf, size_t len, uint32_t seq, uint32_t portid, nl_cb cb,
	     void *data);

/* --- applying */
struct nl_sock {
	int fd;			/* -1: closed */
	uint32_t portid;	/* what the kernel bound it to */
};
#define NL_SOCK_CLOSED { .fd = -1 }

/* A NETLINK_ROUTE socket, bound, with a 5 s receive timeout (a kernel
 * answer never takes long: a run never hangs on one). 0 or -errno. */
int nl_open(struct nl_sock *s);
/* Closes s (if open); leaves it closed, errno as it was. */
void nl_close(struct nl_sock *s);
#define _cleanup_nl_ _cleanup_(nl_close)

/* Send the request req (built above) and read the answers until it is
 * answered (nl_reply). 0, or -errno: the kernel's error, the socket's
 * (-EAGAIN after the timeout), -ENOSPC for an answer larger than
 * NL_RX_SIZE. */
int nl_talk(struct nl_sock *s, const struct nlmsghdr *req, nl_cb cb, void *data);

#endif
