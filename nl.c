/* SPDX-License-Identifier: MIT */
/* rtnetlink requests and answers: see nl.h. */
#include "nl.h"

#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

/* The kernel's errors are -1..-4095 (MAX_ERRNO); anything else in an
 * error field is a broken message, not an errno to pass on. */
#define NL_MAX_ERRNO 4095

/* ------------------------------------------------------------------ pure */

/* Past one attribute or message of n bytes (padded to 4) in an area of
 * *left bytes; false at its end (the last one's padding may be cut off). */
static bool next(const char **p, size_t *left, size_t n)
{
	size_t step = NLMSG_ALIGN(n);	/* NLA_ALIGN() is the same */

	if (step >= *left)
		return false;
	*p += step;
	*left -= step;
	return true;
}

/* Append len bytes, zeroed up to the next 4-byte boundary. */
static void *grow(struct nl_msg *m, size_t len)
{
	if (m->overflow)
		return NULL;
	size_t have = m->nlh->nlmsg_len;
	if (len > m->size || NLMSG_ALIGN(len) > m->size - have) {
		m->overflow = true;
		return NULL;
	}
	char *p = (char *)m->nlh + have;
	memset(p, 0, NLMSG_ALIGN(len));
	m->nlh->nlmsg_len = (uint32_t)(have + NLMSG_ALIGN(len));
	return p;
}

void *nl_msg_start(struct nl_msg *m, void *buf, size_t size, uint16_t type, uint16_t flags,
		   uint32_t seq, size_t hdrlen)
{
	m->nlh = buf;
	m->size = size > INT_MAX ? INT_MAX : size;	/* nl_msg_end() returns an int */
	m->overflow = size < NLMSG_HDRLEN;
	if (m->overflow)
		return NULL;
	memset(m->nlh, 0, NLMSG_HDRLEN);
	m->nlh->nlmsg_len = NLMSG_HDRLEN;
	m->nlh->nlmsg_type = type;
	m->nlh->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	m->nlh->nlmsg_seq = seq;
	return grow(m, hdrlen);
}

bool nl_put(struct nl_msg *m, uint16_t type, const void *data, size_t len)
{
	if (len > UINT16_MAX - NLA_HDRLEN) {
		m->overflow = true;
		return false;
	}
	struct nlattr *a = grow(m, NLA_HDRLEN + len);
	if (!a)
		return false;
	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	return true;
}

bool nl_put_u32(struct nl_msg *m, uint16_t type, uint32_t v)
{
	return nl_put(m, type, &v, sizeof(v));
}

bool nl_put_str(struct nl_msg *m, uint16_t type, const char *s)
{
	return nl_put(m, type, s, strlen(s) + 1);
}

void *nl_put_raw(struct nl_msg *m, size_t len)
{
	return grow(m, len);
}

struct nlattr *nl_nest_start(struct nl_msg *m, uint16_t type)
{
	struct nlattr *a = grow(m, NLA_HDRLEN);
	if (a) {
		a->nla_type = type;
		a->nla_len = NLA_HDRLEN;
	}
	return a;
}

void nl_nest_end(struct nl_msg *m, struct nlattr *nest)
{
	if (!nest || m->overflow)
		return;
	size_t len = (size_t)((char *)m->nlh + m->nlh->nlmsg_len - (char *)nest);
	if (len > UINT16_MAX) {
		m->overflow = true;
		return;
	}
	nest->nla_len = (uint16_t)len;
}

int nl_msg_end(const struct nl_msg *m)
{
	return m->overflow ? -ENOBUFS : (int)m->nlh->nlmsg_len;
}

static void table_clear(const struct nlattr **tb, unsigned max)
{
	for (unsigned t = 0; t <= max; t++)
		tb[t] = NULL;
}

int nl_parse_attrs(const void *area, size_t len, const struct nlattr **tb, unsigned max)
{
	const char *p = area;

	table_clear(tb, max);
	while (len > 0) {
		const struct nlattr *a = (const void *)p;
		if (len < NLA_HDRLEN || a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -EBADMSG;
		unsigned type = a->nla_type & NLA_TYPE_MASK;
		if (type <= max)
			tb[type] = a;
		if (!next(&p, &len, a->nla_len))
			break;
	}
	return 0;
}

int nl_parse(const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb,
	     unsigned max)
{
	size_t len = nlh->nlmsg_len;

	if (len < NLMSG_HDRLEN || hdrlen > len - NLMSG_HDRLEN) {
		table_clear(tb, max);
		return -EBADMSG;
	}
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdrlen);
	return nl_parse_attrs((const char *)nlh + off, len > off ? len - off : 0, tb, max);
}

int nl_parse_nested(const struct nlattr *nest, const struct nlattr **tb, unsigned max)
{
	return nl_parse_attrs(nl_attr_data(nest), nl_attr_len(nest), tb, max);
}

const void *nl_attr_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

size_t nl_attr_len(const struct nlattr *a)
{
	return a->nla_len > NLA_HDRLEN ? a->nla_len - NLA_HDRLEN : 0;
}

bool nl_attr_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a || nl_attr_len(a) != sizeof(*v))
		return false;
	memcpy(v, nl_attr_data(a), sizeof(*v));
	return true;
}

const char *nl_attr_str(const struct nlattr *a)
{
	if (!a || !memchr(nl_attr_data(a), '\0', nl_attr_len(a)))
		return NULL;
	return nl_attr_data(a);
}

/* An error field: 0, or a -errno fit to pass on. */
static int kernel_error(int err)
{
	if (err > 0 || err < -NL_MAX_ERRNO)
		return -EPROTO;
	return err;
}

/* One message of our request's answer: 1 answered, 0 go on, or -errno. */
static int one_message(const struct nlmsghdr *nlh, nl_cb cb, void *data)
{
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		return -EINTR;	/* the table changed during the dump */
	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR: {
		struct nlmsgerr err;
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(err)))
			return -EBADMSG;
		memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
		return err.error == 0 ? 1 : kernel_error(err.error);	/* 0: the ACK */
	}
	case NLMSG_DONE: {
		/* The end of a dump; an int there is its error, if any. */
		int err = 0;
		if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(err)))
			memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
		return err < 0 ? kernel_error(err) : 1;
	}
	case NLMSG_OVERRUN:
		return -ENOSPC;
	default:
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE || !cb)
			return 0;	/* NLMSG_NOOP, or nobody asked */
		return cb(nlh, data);
	}
}

int nl_reply(const void *buf, size_t len, uint32_t seq, uint32_t portid, nl_cb cb,
	     void *data)
{
	const char *p = buf;

	while (len >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const void *)p;
		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len)
			return -EBADMSG;
		if (nlh->nlmsg_seq == seq && nlh->nlmsg_pid == portid) {
			int r = one_message(nlh, cb, data);
			if (r != 0)
				return r;
		}
		if (!next(&p, &len, nlh->nlmsg_len))
			break;
	}
	return 0;
}

/* -------------------------------------------------------------- applying */

int nl_open(struct nl_sock *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t salen = sizeof(sa);
	struct timeval tv = { .tv_sec = 5 };

	s->fd = -1;
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* nl_pid 0: the kernel picks a free port id, getsockname() tells. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) < 0)
		return -errno;
	if (salen != sizeof(sa) || sa.nl_family != AF_NETLINK)
		return -EINVAL;
	s->portid = sa.nl_pid;
	s->fd = fw_take_fd(&fd);
	return 0;
}

void nl_close(struct nl_sock *s)
{
	fw_closep(&s->fd);
}

int nl_talk(struct nl_sock *s, const struct nlmsghdr *req, nl_cb cb, void *data)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	NL_ALIGNED char rx[NL_RX_SIZE];

	if (sendto(s->fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = rx, .iov_len = sizeof(rx) };
		struct msghdr mh = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		ssize_t n = recvmsg(s->fd, &mh, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (mh.msg_flags & MSG_TRUNC)
			return -ENOSPC;
		/* Only the kernel (port 0) answers; another process with
		 * CAP_NET_ADMIN could write to our port too. */
		if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0)
			continue;
		int r = nl_reply(rx, (size_t)n, req->nlmsg_seq, s->portid, cb, data);
		if (r != 0)
			return r < 0 ? r : 0;
	}
}
