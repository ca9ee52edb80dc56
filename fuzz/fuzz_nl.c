/* SPDX-License-Identifier: MIT */
/* nl.h's pure half: reading what the kernel sends, and building requests.
 *
 * Byte 0 even: the rest is one received datagram (in a heap block of its
 * exact size, so ASan sees any read past it), given to nl_reply() as the
 * answer to request 7 of port 77; each message of it is parsed with
 * nl_parse() (family header length from the message's own first byte),
 * and every attribute again as a nest, three levels deep. Every attribute
 * stored must lie inside what it was parsed from, and the getters must
 * answer consistently.
 * Byte 0 odd: byte 1 is a buffer size (0..255), the rest a program of
 * puts, nests and raw blocks; the result must be -ENOBUFS exactly when the
 * request (counted here independently) does not fit, written only inside
 * the buffer, and read back to what was put. */
#include <errno.h>
#include <linux/netlink.h>

#include "../nl.h"
#include "fuzz.h"

#define SEQ 7
#define PORT 77

/* a inside [lo, lo + len), header and all. */
static void check_inside(const struct nlattr *a, const void *lo, size_t len)
{
	const char *p = (const char *)a, *b = lo;
	FUZZ_ASSERT(p >= b && a->nla_len >= NLA_HDRLEN && (size_t)(p - b) + a->nla_len <= len);
	FUZZ_ASSERT(nl_attr_len(a) == a->nla_len - NLA_HDRLEN);
	uint32_t v;
	FUZZ_ASSERT(nl_attr_u32(a, &v) == (nl_attr_len(a) == 4));
	const char *s = nl_attr_str(a);
	if (s)
		FUZZ_ASSERT(s == nl_attr_data(a) && strlen(s) < nl_attr_len(a));
}

static void attrs(const struct nlattr *const *tb, unsigned max, const void *lo, size_t len,
		  int depth)
{
	for (unsigned t = 0; t <= max; t++) {
		if (!tb[t])
			continue;
		FUZZ_ASSERT((tb[t]->nla_type & NLA_TYPE_MASK) == t);
		check_inside(tb[t], lo, len);
		if (depth < 3) {
			const struct nlattr *in[16];
			(void)nl_parse_nested(tb[t], in, 15);
			attrs(in, 15, nl_attr_data(tb[t]), nl_attr_len(tb[t]), depth + 1);
		}
	}
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[32];
	size_t hdrlen = nlh->nlmsg_len > NLMSG_HDRLEN ? *((const uint8_t *)nlh + NLMSG_HDRLEN) % 32 : 0;

	(*(int *)data)++;
	FUZZ_ASSERT(nlh->nlmsg_seq == SEQ && nlh->nlmsg_pid == PORT);
	FUZZ_ASSERT(nlh->nlmsg_type >= NLMSG_MIN_TYPE);
	(void)nl_parse(nlh, hdrlen, tb, 31);
	attrs(tb, 31, nlh, nlh->nlmsg_len, 0);
	return nlh->nlmsg_type == 0xffff ? -E2BIG : 0;
}

static void reply(const uint8_t *data, size_t size)
{
	int calls = 0;
	void *buf = malloc(size ? size : 1);

	FUZZ_ASSERT(buf);
	if (size)
		memcpy(buf, data, size);
	int r = nl_reply(buf, size, SEQ, PORT, msg_cb, &calls);
	FUZZ_ASSERT(r == 0 || r == 1 || (r < 0 && r >= -4095));
	free(buf);
}

/* What one top-level put should leave: its type, and payload. */
struct put {
	const uint8_t *data;
	size_t len;
	uint16_t type;
	bool nest;
};

static void build(const uint8_t *prog, size_t n)
{
	size_t size = prog[0];
	uint8_t *buf = malloc(size + 64);
	struct nlattr *nests[8];
	uint16_t nest_types[8];
	size_t depth = 0, want = NLMSG_HDRLEN + 4;	/* what fits, counted here */
	struct put top[64];
	size_t ntop = 0;
	struct nl_msg m;

	FUZZ_ASSERT(buf);
	memset(buf, 0xa5, size + 64);
	nl_msg_start(&m, buf, size, 0x10, NLM_F_ACK, SEQ, 4);
	size_t i = 1;
	while (i + 1 < n && ntop + 1 < FW_ARRAY_SIZE(top)) {
		uint8_t op = prog[i++], type = prog[i++] % 16;
		size_t len = 0, before = want;
		const uint8_t *d = prog + i;
		switch (op % 8) {
		case 0:
		case 1:
		case 2: {
			/* 1, 2 or 4 bytes of payload (4: as a u32, little-endian:
			 * the payload is those bytes) */
			len = (size_t)1 << (op % 8);
			if (n - i < len)
				goto done;
			if (len == 4) {
				uint32_t v;
				memcpy(&v, d, 4);
				nl_put_u32(&m, type, v);
			} else {
				nl_put(&m, type, d, len);
			}
			i += len;
			break;
		}
		case 3: {
			/* a string up to the next NUL (or the end) */
			const uint8_t *z = memchr(d, 0, n - i);
			if (!z)
				goto done;
			nl_put_str(&m, type, (const char *)d);
			len = (size_t)(z - d) + 1;
			i += len;
			break;
		}
		case 4:
			len = n - i < 8 ? n - i : d[0] % 8;
			nl_put(&m, type, d, len);
			i += len;
			break;
		case 5:
			if (depth < FW_ARRAY_SIZE(nests)) {
				nest_types[depth] = type;
				nests[depth++] = nl_nest_start(&m, type);
				want += NLA_HDRLEN;
			}
			continue;
		case 6:
			if (depth > 0) {
				nl_nest_end(&m, nests[--depth]);
				if (depth == 0)
					top[ntop++] = (struct put){ .type = nest_types[0], .nest = true };
			}
			continue;
		default: {
			/* Not an attribute: only inside a nest, where nobody
			 * expects the content to parse. */
			if (depth == 0)
				continue;
			uint8_t *raw = nl_put_raw(&m, type);
			want += NLMSG_ALIGN((size_t)type);
			if (raw)
				memset(raw, 0x5a, type);
			continue;
		}
		}
		want = before + NLMSG_ALIGN(NLA_HDRLEN + len);
		if (depth == 0)
			top[ntop++] = (struct put){ .type = type, .data = d, .len = len };
	}
done:
	while (depth > 0) {
		nl_nest_end(&m, nests[--depth]);
		if (depth == 0 && ntop < FW_ARRAY_SIZE(top))
			top[ntop++] = (struct put){ .type = nest_types[0], .nest = true };
	}
	int r = nl_msg_end(&m);
	for (size_t k = size; k < size + 64; k++)
		FUZZ_ASSERT(buf[k] == 0xa5);	/* nothing past the buffer */
	if (want > size) {
		FUZZ_ASSERT(r == -ENOBUFS);
		free(buf);
		return;
	}
	FUZZ_ASSERT(r > 0 && (size_t)r == want && r % 4 == 0);
	/* Read back: the last top-level put of each type is what tb holds. */
	const struct nlattr *tb[16];
	FUZZ_ASSERT(nl_parse(m.nlh, 4, tb, 15) == 0);
	attrs(tb, 15, buf, (size_t)r, 0);
	for (size_t k = 0; k < ntop; k++) {
		const struct nlattr *a = tb[top[k].type];
		bool later = false;
		for (size_t j = k + 1; j < ntop; j++)
			later |= top[j].type == top[k].type;
		if (later)
			continue;	/* tb holds the last one of a type */
		FUZZ_ASSERT(a);
		if (top[k].nest)
			continue;	/* its content is checked by attrs() */
		FUZZ_ASSERT(nl_attr_len(a) == top[k].len);
		FUZZ_ASSERT(!memcmp(nl_attr_data(a), top[k].data, top[k].len));
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		reply(data + 1, size - 1);
	else if (size >= 2)
		build(data + 1, size - 1);
	return 0;
}
