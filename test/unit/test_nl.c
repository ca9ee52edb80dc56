/* SPDX-License-Identifier: MIT */
/* nl.c's pure half: requests built byte for byte, never past the buffer;
 * attributes read back, refused when cut short or overrunning; answers
 * (ACK, errors, dumps, other requests' answers) read. No root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "nl.h"

/* The request test_build_bytes() makes, written out by hand: header
 * (len 64, type 0x10, flags REQUEST|ACK, seq 7, pid 0), a 4-byte family
 * header, then u8, u16, u32, a string and a nest holding one u32. */
static const unsigned char expected[64] = {
	64, 0, 0, 0, 0x10, 0, 0x05, 0, 7, 0, 0, 0, 0, 0, 0, 0,
	0xaa, 0xbb, 0xcc, 0xdd,
	5, 0, 1, 0, 0x2a, 0, 0, 0,
	6, 0, 2, 0, 0x34, 0x12, 0, 0,
	8, 0, 3, 0, 0xef, 0xbe, 0xad, 0xde,
	7, 0, 4, 0, 'a', 'b', 0, 0,
	12, 0, 5, 0, 8, 0, 1, 0, 9, 0, 0, 0,
};

/* Builds that request into buf of size bytes; its length or -ENOBUFS. */
static int build(void *buf, size_t size)
{
	struct nl_msg m;
	unsigned char *fam = nl_msg_start(&m, buf, size, 0x10, NLM_F_ACK, 7, 4);

	if (fam)
		memcpy(fam, "\xaa\xbb\xcc\xdd", 4);
	nl_put(&m, 1, "\x2a", 1);		/* odd lengths: padding */
	nl_put(&m, 2, "\x34\x12", 2);
	nl_put_u32(&m, 3, 0xdeadbeef);
	nl_put_str(&m, 4, "ab");
	struct nlattr *nest = nl_nest_start(&m, 5);
	nl_put_u32(&m, 1, 9);
	nl_nest_end(&m, nest);
	return nl_msg_end(&m);
}

static void test_build_bytes(void **state)
{
	NL_ALIGNED unsigned char buf[128];

	(void)state;
	memset(buf, 0xa5, sizeof(buf));	/* padding must not keep this */
	assert_int_equal(build(buf, sizeof(buf)), 64);
	assert_memory_equal(buf, expected, sizeof(expected));
	assert_int_equal(buf[64], 0xa5);
}

/* Every size short of the whole: -ENOBUFS, and not one byte written at or
 * past size. */
static void test_build_overflow(void **state)
{
	NL_ALIGNED unsigned char buf[128];

	(void)state;
	for (size_t size = 0; size < sizeof(expected); size++) {
		memset(buf, 0xa5, sizeof(buf));
		assert_int_equal(build(buf, size), -ENOBUFS);
		for (size_t i = size; i < sizeof(buf); i++)
			if (buf[i] != 0xa5)
				fail_msg("size %zu: byte %zu written", size, i);
	}

	/* Once something did not fit, nothing more is put, even what would. */
	struct nl_msg m;
	assert_non_null(nl_msg_start(&m, buf, 40, RTM_NEWLINK, 0, 1, 16));
	assert_false(nl_put_str(&m, 1, "a string too long"));
	assert_true(m.overflow);
	assert_false(nl_put(&m, 2, "\x01", 1));
	assert_null(nl_put_raw(&m, 0));
	assert_null(nl_nest_start(&m, 3));
	nl_nest_end(&m, NULL);
	assert_int_equal(((struct nlmsghdr *)buf)->nlmsg_len, 32);
	assert_int_equal(nl_msg_end(&m), -ENOBUFS);

	/* An attribute holds at most 65531 bytes: more is refused whatever
	 * the buffer, never wrapped in the 16-bit length. */
	size_t big = 100000;
	char *b = malloc(big), *data = calloc(1, big);
	assert_non_null(b);
	assert_non_null(data);
	nl_msg_start(&m, b, big, RTM_NEWLINK, 0, 1, 0);
	assert_true(nl_put(&m, 1, data, 65531));
	assert_int_equal(nl_msg_end(&m), 16 + 65536);
	nl_msg_start(&m, b, big, RTM_NEWLINK, 0, 1, 0);
	assert_false(nl_put(&m, 2, data, 65532));
	assert_int_equal(nl_msg_end(&m), -ENOBUFS);
	/* and a nest that grew past 64 KiB */
	nl_msg_start(&m, b, big, RTM_NEWLINK, 0, 1, 0);
	struct nlattr *nest = nl_nest_start(&m, 1);
	assert_true(nl_put(&m, 1, data, 40000));
	assert_true(nl_put(&m, 2, data, 40000));
	nl_nest_end(&m, nest);
	assert_int_equal(nl_msg_end(&m), -ENOBUFS);
	free(data);
	free(b);
}

static void test_nested(void **state)
{
	NL_ALIGNED char buf[256];
	const struct nlattr *tb[8], *in[8], *deep[8];
	struct nl_msg m;
	uint32_t v = 0;

	(void)state;
	struct ifinfomsg *ifi = nl_msg_start(&m, buf, sizeof(buf), RTM_NEWLINK, 0, 3,
					     sizeof(*ifi));
	assert_non_null(ifi);
	ifi->ifi_index = 42;
	nl_put_str(&m, 3, "fwt0");
	struct nlattr *outer = nl_nest_start(&m, 4);
	nl_put_str(&m, 1, "veth");
	struct nlattr *inner = nl_nest_start(&m, 2);
	struct ifinfomsg *raw = nl_put_raw(&m, sizeof(*raw));
	assert_non_null(raw);
	assert_true(((char *)raw - buf) % 4 == 0);
	nl_put_u32(&m, 7, 99);
	nl_nest_end(&m, inner);
	nl_nest_end(&m, outer);
	nl_put_u32(&m, 5, 1500);
	int len = nl_msg_end(&m);
	assert_int_equal(len, 16 + 16 + 12 + (4 + 12 + (4 + 16 + 8)) + 8);

	const struct nlmsghdr *nlh = (const void *)buf;
	assert_int_equal(nl_parse(nlh, sizeof(*ifi), tb, 7), 0);
	assert_string_equal(nl_attr_str(tb[3]), "fwt0");
	assert_true(nl_attr_u32(tb[5], &v));
	assert_int_equal(v, 1500);
	assert_null(tb[1]);
	assert_int_equal(nl_parse_nested(tb[4], in, 7), 0);
	assert_string_equal(nl_attr_str(in[1]), "veth");
	assert_non_null(in[2]);
	/* the inner nest: a struct ifinfomsg, then one attribute */
	assert_int_equal(nl_attr_len(in[2]), 16 + 8);
	const char *p = nl_attr_data(in[2]);
	assert_int_equal(nl_parse_attrs(p + 16, nl_attr_len(in[2]) - 16, deep, 7), 0);
	assert_true(nl_attr_u32(deep[7], &v));
	assert_int_equal(v, 99);
	/* types above max are skipped, not stored out of the table */
	assert_int_equal(nl_parse(nlh, sizeof(*ifi), tb, 4), 0);
	assert_non_null(tb[4]);
	assert_int_equal(nl_parse(nlh, sizeof(*ifi), tb, 0), 0);
	assert_null(tb[0]);
}

/* A message of len bytes copied into a heap block of exactly that size, so
 * that ASan (make SANITIZE=1 unit) sees any read past it. */
static struct nlmsghdr *exact(const void *bytes, size_t len)
{
	struct nlmsghdr *nlh = malloc(len);
	assert_non_null(nlh);
	memcpy(nlh, bytes, len);
	return nlh;
}

static void test_parse_reply(void **state)
{
	const struct nlattr *tb[6];
	uint32_t v = 0;

	(void)state;
	struct nlmsghdr *nlh = exact(expected, sizeof(expected));
	assert_int_equal(nl_parse(nlh, 4, tb, 5), 0);
	assert_non_null(tb[1]);
	assert_int_equal(nl_attr_len(tb[1]), 1);
	assert_int_equal(*(const uint8_t *)nl_attr_data(tb[1]), 0x2a);
	assert_int_equal(nl_attr_len(tb[2]), 2);
	assert_true(nl_attr_u32(tb[3], &v));
	assert_int_equal(v, 0xdeadbeef);
	assert_string_equal(nl_attr_str(tb[4]), "ab");
	/* the u32 getter and the string getter check lengths */
	assert_false(nl_attr_u32(tb[1], &v));
	assert_false(nl_attr_u32(tb[2], &v));
	assert_false(nl_attr_u32(tb[5], &v));	/* a nest of 8 bytes */
	assert_false(nl_attr_u32(NULL, &v));
	assert_int_equal(v, 0xdeadbeef);	/* unchanged */
	assert_null(nl_attr_str(tb[3]));	/* no NUL in it */
	assert_null(nl_attr_str(NULL));
	const struct nlattr *in[2];
	assert_int_equal(nl_parse_nested(tb[5], in, 1), 0);
	assert_true(nl_attr_u32(in[1], &v));
	assert_int_equal(v, 9);
	free(nlh);

	/* The kernel's flags in the type are cut off; the last of a type
	 * wins; the last attribute's padding may lie past nlmsg_len. */
	static const unsigned char flagged[] = {
		37, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		8, 0, 2, 0x80, 1, 0, 0, 0,	/* 2 | NLA_F_NESTED */
		8, 0, 2, 0, 2, 0, 0, 0,
		5, 0, 3, 0, 'x',
	};
	nlh = exact(flagged, sizeof(flagged));
	assert_int_equal(nl_parse(nlh, 0, in, 1), 0);	/* 2, 3 skipped */
	const struct nlattr *t4[4];
	assert_int_equal(nl_parse(nlh, 0, t4, 3), 0);
	assert_true(nl_attr_u32(t4[2], &v));
	assert_int_equal(v, 2);
	assert_int_equal(nl_attr_len(t4[3]), 1);
	assert_null(nl_attr_str(t4[3]));
	free(nlh);
}

static void test_parse_refused(void **state)
{
	const struct nlattr *tb[4];
	unsigned char m[40];

	(void)state;
	/* header, then attribute 1 (u32 5), then attribute 2 */
	static const unsigned char good[] = {
		32, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		8, 0, 1, 0, 5, 0, 0, 0,
		8, 0, 2, 0, 6, 0, 0, 0,
	};
	struct nlmsghdr *nlh = exact(good, sizeof(good));
	assert_int_equal(nl_parse(nlh, 0, tb, 3), 0);
	assert_non_null(tb[2]);
	free(nlh);

	/* the second attribute says 12 bytes, 8 are there */
	memcpy(m, good, sizeof(good));
	m[24] = 12;
	nlh = exact(m, sizeof(good));
	assert_int_equal(nl_parse(nlh, 0, tb, 3), -EBADMSG);
	assert_non_null(tb[1]);	/* those before it stay */
	assert_null(tb[2]);
	free(nlh);
	/* one shorter than its own header */
	m[24] = 3;
	nlh = exact(m, sizeof(good));
	assert_int_equal(nl_parse(nlh, 0, tb, 3), -EBADMSG);
	assert_null(tb[2]);
	free(nlh);
	/* the message ends 2 bytes into an attribute's header */
	memcpy(m, good, sizeof(good));
	m[0] = 26;
	nlh = exact(m, 26);
	assert_int_equal(nl_parse(nlh, 0, tb, 3), -EBADMSG);
	assert_non_null(tb[1]);
	assert_null(tb[2]);
	free(nlh);
	/* the message is shorter than its family header */
	m[0] = 20;
	nlh = exact(m, 20);
	assert_int_equal(nl_parse(nlh, 8, tb, 3), -EBADMSG);
	assert_null(tb[1]);
	assert_int_equal(nl_parse(nlh, 4, tb, 3), 0);	/* just fits: no attributes */
	assert_null(tb[1]);
	free(nlh);
	/* a nest whose content overruns it */
	static const unsigned char nest[] = {
		32, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
		16, 0, 3, 0, 8, 0, 1, 0, 1, 0, 0, 0, 9, 0, 2, 0,
	};
	nlh = exact(nest, sizeof(nest));
	assert_int_equal(nl_parse(nlh, 0, tb, 3), 0);
	const struct nlattr *in[4];
	assert_int_equal(nl_parse_nested(tb[3], in, 3), -EBADMSG);
	assert_non_null(in[1]);
	assert_null(in[2]);
	free(nlh);
}

/* --- answers */

struct seen {
	int calls;
	uint16_t types[8];
	int ret;	/* what the callback returns */
};

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	if (s->calls < 8)
		s->types[s->calls] = nlh->nlmsg_type;
	s->calls++;
	return s->ret;
}

/* Appends one message to a datagram being made in d at *off. */
static void msg(unsigned char *d, size_t *off, uint16_t type, uint16_t flags, uint32_t seq,
		uint32_t pid, const void *payload, size_t plen)
{
	struct nlmsghdr h = {
		.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + plen),
		.nlmsg_type = type,
		.nlmsg_flags = flags,
		.nlmsg_seq = seq,
		.nlmsg_pid = pid,
	};
	memcpy(d + *off, &h, sizeof(h));
	if (plen)
		memcpy(d + *off + NLMSG_HDRLEN, payload, plen);
	*off += NLMSG_ALIGN(h.nlmsg_len);
}

/* An NLMSG_ERROR with err (0: the ACK) about request seq. */
static void err_msg(unsigned char *d, size_t *off, uint32_t seq, uint32_t pid, int err)
{
	struct nlmsgerr e = { .error = err };
	e.msg.nlmsg_seq = seq;
	msg(d, off, NLMSG_ERROR, 0, seq, pid, &e, sizeof(e));
}

static void test_reply_ack_error(void **state)
{
	NL_ALIGNED unsigned char d[512];
	struct seen s = { 0 };
	size_t n;

	(void)state;
	n = 0;
	err_msg(d, &n, 5, 77, 0);
	assert_int_equal(nl_reply(d, n, 5, 77, NULL, NULL), 1);
	n = 0;
	err_msg(d, &n, 5, 77, -ENODEV);
	assert_int_equal(nl_reply(d, n, 5, 77, NULL, NULL), -ENODEV);
	/* no errno: not passed on as one */
	n = 0;
	err_msg(d, &n, 5, 77, 5);
	assert_int_equal(nl_reply(d, n, 5, 77, NULL, NULL), -EPROTO);
	n = 0;
	err_msg(d, &n, 5, 77, -5000);
	assert_int_equal(nl_reply(d, n, 5, 77, NULL, NULL), -EPROTO);
	/* an error message too short for its struct nlmsgerr */
	n = 0;
	int e = -EPERM;
	msg(d, &n, NLMSG_ERROR, 0, 5, 77, &e, sizeof(e));
	assert_int_equal(nl_reply(d, n, 5, 77, NULL, NULL), -EBADMSG);

	/* a link, then the ACK, in one datagram: the link to cb */
	n = 0;
	struct ifinfomsg ifi = { .ifi_index = 1 };
	msg(d, &n, RTM_NEWLINK, 0, 5, 77, &ifi, sizeof(ifi));
	err_msg(d, &n, 5, 77, 0);
	assert_int_equal(nl_reply(d, n, 5, 77, count_cb, &s), 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.types[0], RTM_NEWLINK);
	/* a callback's error stops there */
	s = (struct seen){ .ret = -E2BIG };
	assert_int_equal(nl_reply(d, n, 5, 77, count_cb, &s), -E2BIG);
	assert_int_equal(s.calls, 1);
	/* without a callback the link is passed over */
	assert_int_equal(nl_reply(d, n, 5, 77, NULL, NULL), 1);
}

/* Answers to another request (a late one, after a timeout) or another
 * port are skipped, whatever they say. */
static void test_reply_other_seq(void **state)
{
	NL_ALIGNED unsigned char d[512];
	struct seen s = { 0 };
	size_t n = 0;

	(void)state;
	err_msg(d, &n, 4, 77, -EEXIST);
	assert_int_equal(nl_reply(d, n, 5, 77, NULL, NULL), 0);
	err_msg(d, &n, 5, 78, -EEXIST);
	assert_int_equal(nl_reply(d, n, 5, 77, NULL, NULL), 0);
	struct ifinfomsg ifi = { .ifi_index = 1 };
	msg(d, &n, RTM_NEWLINK, 0, 6, 77, &ifi, sizeof(ifi));
	assert_int_equal(nl_reply(d, n, 5, 77, count_cb, &s), 0);
	assert_int_equal(s.calls, 0);
	err_msg(d, &n, 5, 77, 0);
	assert_int_equal(nl_reply(d, n, 5, 77, count_cb, &s), 1);
	assert_int_equal(s.calls, 0);
}

static void test_reply_dump(void **state)
{
	NL_ALIGNED unsigned char d[512];
	struct rtmsg rtm = { .rtm_family = 2 };
	struct seen s = { 0 };
	size_t n = 0;
	int done = 0;

	(void)state;
	msg(d, &n, RTM_NEWROUTE, NLM_F_MULTI, 9, 77, &rtm, sizeof(rtm));
	msg(d, &n, NLMSG_NOOP, 0, 9, 77, NULL, 0);
	msg(d, &n, RTM_NEWROUTE, NLM_F_MULTI, 9, 77, &rtm, sizeof(rtm));
	assert_int_equal(nl_reply(d, n, 9, 77, count_cb, &s), 0);	/* more to come */
	assert_int_equal(s.calls, 2);
	size_t part = n;
	msg(d, &n, NLMSG_DONE, NLM_F_MULTI, 9, 77, &done, sizeof(done));
	s.calls = 0;
	assert_int_equal(nl_reply(d + part, n - part, 9, 77, count_cb, &s), 1);
	assert_int_equal(s.calls, 0);
	/* a dump that failed says so in its NLMSG_DONE */
	n = 0;
	done = -EMSGSIZE;
	msg(d, &n, NLMSG_DONE, NLM_F_MULTI, 9, 77, &done, sizeof(done));
	assert_int_equal(nl_reply(d, n, 9, 77, NULL, NULL), -EMSGSIZE);
	/* an NLMSG_DONE without its int (older kernels): just the end */
	n = 0;
	msg(d, &n, NLMSG_DONE, NLM_F_MULTI, 9, 77, NULL, 0);
	assert_int_equal(nl_reply(d, n, 9, 77, NULL, NULL), 1);
	/* the table changed during the dump */
	n = 0;
	msg(d, &n, RTM_NEWROUTE, NLM_F_MULTI | NLM_F_DUMP_INTR, 9, 77, &rtm, sizeof(rtm));
	assert_int_equal(nl_reply(d, n, 9, 77, count_cb, &s), -EINTR);
	n = 0;
	msg(d, &n, NLMSG_OVERRUN, 0, 9, 77, NULL, 0);
	assert_int_equal(nl_reply(d, n, 9, 77, NULL, NULL), -ENOSPC);
}

static void test_reply_broken(void **state)
{
	NL_ALIGNED unsigned char d[512];
	size_t n = 0;

	(void)state;
	err_msg(d, &n, 5, 77, 0);
	/* cut short: the datagram ends inside the message */
	assert_int_equal(nl_reply(d, n - 1, 5, 77, NULL, NULL), -EBADMSG);
	/* a length shorter than a header */
	((struct nlmsghdr *)d)->nlmsg_len = 8;
	assert_int_equal(nl_reply(d, n, 5, 77, NULL, NULL), -EBADMSG);
	/* less than a header: nothing in it */
	assert_int_equal(nl_reply(d, 15, 5, 77, NULL, NULL), 0);
	assert_int_equal(nl_reply(d, 0, 5, 77, NULL, NULL), 0);
	/* a good message, then one overrunning the datagram */
	n = 0;
	struct ifinfomsg ifi = { 0 };
	msg(d, &n, RTM_NEWLINK, 0, 5, 77, &ifi, sizeof(ifi));
	size_t second = n;
	err_msg(d, &n, 5, 77, 0);
	((struct nlmsghdr *)(d + second))->nlmsg_len = 4096;
	struct seen s = { 0 };
	assert_int_equal(nl_reply(d, n, 5, 77, count_cb, &s), -EBADMSG);
	assert_int_equal(s.calls, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_bytes),
		cmocka_unit_test(test_build_overflow),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_parse_reply),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_reply_ack_error),
		cmocka_unit_test(test_reply_other_seq),
		cmocka_unit_test(test_reply_dump),
		cmocka_unit_test(test_reply_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
