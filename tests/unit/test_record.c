// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for src/record.c: the ring buffer's variable-length records. */
#include <errno.h>
#include <sys/socket.h>

#include "record.h"
#include "testlib.h"

static struct ts_event sample(int family, __u8 flags)
{
	struct ts_event e = { .ts_ns = 123456789, .cookie = 0x1122334455667788ull,
			      .netns = 4026531840u, .pid = 4242, .aux = 7, .kind = TS_EV_STATE,
			      .oldstate = 1, .newstate = 4, .family = (__u8)family,
			      .sport = 40000, .dport = 8080, .flags = flags };

	for (int i = 0; i < 16 && family; i++) {
		e.saddr[i] = family == AF_INET && i >= 4 ? 0 : (__u8)(i + 1);
		e.daddr[i] = family == AF_INET && i >= 4 ? 0 : (__u8)(0xf0 - i);
	}
	if (flags & TS_F_OWNER_CTX)
		memcpy(e.comm, "nginx: worker", 14);
	return e;
}

/* Every family with and without a comm: the expected size, and decode gives back the event. */
static void test_round_trip(void)
{
	static const struct {
		int family;
		__u8 flags;
		size_t size;
	} cases[] = {
		{ AF_INET, 0, 48 },
		{ AF_INET, TS_F_OWNER_CTX | TS_F_FIN_RCVD, 64 },
		{ AF_INET6, 0, 72 },
		{ AF_INET6, TS_F_OWNER_CTX, 88 },
		{ 0, TS_F_OWNER_CTX, 56 }, /* accept */
		{ 0, TS_F_NO_SOCK, 40 },   /* a reset for a packet that could not be read */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ts_event in = sample(cases[i].family, cases[i].flags), out;
		unsigned char buf[128];
		size_t n = ts_record__encode(&in, buf, sizeof(buf));

		CHECK(n == cases[i].size, "case %zu: expected a %zu-byte record, got %zu", i,
		      cases[i].size, n);
		memset(&out, 0xa5, sizeof(out));
		CHECK_EQ_INT(ts_record__decode(buf, n, &out), 0, "decode");
		CHECK(memcmp(&in, &out, sizeof(in)) == 0, "case %zu: decoded event differs", i);
	}
}

/* The common record fits one cache line with the ring's 8-byte header. */
static void test_common_record_one_line(void)
{
	CHECK_EQ_INT(sizeof(struct ts_record), 40, "head");
	CHECK_EQ_INT(TS_RECORD_V4 + 8, 56, "IPv4 record with the ring header");
}

/* Short, truncated and unknown-family records are refused; a comm is always terminated. */
static void test_rejects_bad(void)
{
	struct ts_event in = sample(AF_INET, TS_F_OWNER_CTX), out;
	unsigned char buf[128];
	size_t n = ts_record__encode(&in, buf, sizeof(buf));

	CHECK_EQ_INT(ts_record__decode(buf, 0, &out), -EINVAL, "empty");
	CHECK_EQ_INT(ts_record__decode(buf, sizeof(struct ts_record) - 1, &out), -EINVAL, "short");
	CHECK_EQ_INT(ts_record__decode(buf, n - 8, &out), -EINVAL, "comm cut off");
	CHECK_EQ_INT(ts_record__decode(buf, n + 24, &out), 0, "room to spare (rare events)");
	CHECK(out.pid == in.pid && !memcmp(out.saddr, in.saddr, 16), "decoded with room to spare");
	((struct ts_record *)buf)->family = 3;
	CHECK_EQ_INT(ts_record__decode(buf, n, &out), -EINVAL, "unknown family");
	((struct ts_record *)buf)->family = AF_INET;
	memset(buf + 48, 'x', TS_COMM_LEN);
	CHECK_EQ_INT(ts_record__decode(buf, n, &out), 0, "unterminated comm");
	CHECK_EQ_INT(strlen(out.comm), TS_COMM_LEN - 1, "comm length");
	CHECK_EQ_INT(ts_record__encode(&in, buf, n - 1), 0, "encode into too small a buffer");
	in.family = 3;
	CHECK_EQ_INT(ts_record__encode(&in, buf, sizeof(buf)), 0, "encode an unknown family");
}

TEST_MAIN("record", { "round_trip", test_round_trip },
	  { "common_record_one_line", test_common_record_one_line },
	  { "rejects_bad", test_rejects_bad })
