// SPDX-License-Identifier: GPL-2.0-only
/*
 * sock_diag parser and dump loop. Fixtures are real dump replies recorded on Linux 6.18 by
 * tests/fixtures/sock_diag/capture.py (scenario and `ss -tanieom` view in ss.txt). The dump loop
 * is driven by a fake "kernel": a child process at the other end of a SOCK_SEQPACKET pair.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include "sock_diag.h"
#include "testlib.h"

#define FIX_DIR FIXTURES "/sock_diag/"
#define MAX_SOCKS 64

enum {
	ESTABLISHED = 1,
	SYN_SENT,
	SYN_RECV,
	FIN_WAIT1,
	FIN_WAIT2,
	TIME_WAIT,
	CLOSE,
	CLOSE_WAIT,
	LAST_ACK,
	LISTEN,
	CLOSING
};

struct blob {
	unsigned char *data;
	size_t len;
};

struct collect {
	struct diag_sock s[MAX_SOCKS];
	int n;
	int stop_after; /* > 0: return stop_ret once n reaches it */
	int stop_ret;
};

static struct blob load(const char *name)
{
	struct blob b = {0};
	char path[256];
	FILE *f;
	long sz;

	snprintf(path, sizeof(path), FIX_DIR "%s", name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "  cannot open fixture %s\n", path);
		return b;
	}
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	b.data = malloc(sz > 0 ? (size_t)sz : 1);
	if (b.data && sz > 0 && fread(b.data, 1, (size_t)sz, f) == (size_t)sz)
		b.len = (size_t)sz;
	fclose(f);
	return b;
}

static int collect_cb(const struct diag_sock *s, void *ctx)
{
	struct collect *c = ctx;

	if (c->n < MAX_SOCKS)
		c->s[c->n] = *s;
	c->n++;
	if (c->stop_after > 0 && c->n >= c->stop_after)
		return c->stop_ret;
	return 0;
}

/* Parse every fixture buffer of the capture: inet4_0, inet4_1, inet6_0, inet6_1. */
static void parse_all_fixtures(struct collect *c)
{
	static const struct {
		const char *name;
		int ret;
	} files[] = {
	    {"inet4_0.bin", 0},
	    {"inet4_1.bin", 1},
	    {"inet6_0.bin", 0},
	    {"inet6_1.bin", 1},
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct blob b = load(files[i].name);
		char what[64];

		CHECK(b.len > 0, "fixture %s is missing or empty", files[i].name);
		snprintf(what, sizeof(what), "sock_diag__parse(%s)", files[i].name);
		CHECK_EQ_INT(sock_diag__parse(b.data, b.len, collect_cb, c), files[i].ret, what);
		free(b.data);
	}
}

static const struct diag_sock *find(const struct collect *c, int family, int state, int sport,
				    int dport)
{
	for (int i = 0; i < c->n && i < MAX_SOCKS; i++)
		if (c->s[i].family == family && c->s[i].state == state && c->s[i].sport == sport &&
		    c->s[i].dport == dport)
			return &c->s[i];
	return NULL;
}

static void test_fixture_state_counts(void)
{
	static const struct {
		int family, state, count;
	} want[] = {
	    {AF_INET, LISTEN, 3},     {AF_INET, ESTABLISHED, 11}, {AF_INET, SYN_SENT, 3},
	    {AF_INET, SYN_RECV, 1},   {AF_INET, TIME_WAIT, 1},	  {AF_INET, FIN_WAIT2, 1},
	    {AF_INET, CLOSE_WAIT, 1}, {AF_INET6, LISTEN, 2},	  {AF_INET6, ESTABLISHED, 2},
	};
	struct collect c = {0};
	int total = 0;

	parse_all_fixtures(&c);
	CHECK_EQ_INT(c.n, 25, "sockets in the fixture capture");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int got = 0;

		for (int j = 0; j < c.n && j < MAX_SOCKS; j++)
			got += c.s[j].family == want[i].family && c.s[j].state == want[i].state;
		CHECK(got == want[i].count, "expected %d sockets of family %d in state %d, got %d",
		      want[i].count, want[i].family, want[i].state, got);
		total += want[i].count;
	}
	CHECK_EQ_INT(total, c.n, "sum of the per-state expectations");
}

/* One row per socket the scenario in capture.py made on purpose. */
static void test_fixture_sockets(void)
{
	static const struct {
		const char *what;
		int family, state, sport, dport;
		const char *saddr, *daddr;
		int inode_zero, rqueue, wqueue, has_meminfo, drops;
		unsigned long long cookie; /* as ss.txt shows it: sk:<hex> */
		unsigned min_exp, max_exp;
	} rows[] = {
	    {"listener with B in its accept queue", AF_INET, LISTEN, 40001, 0, "127.0.0.1",
	     "0.0.0.0", 0, 1, 4, 1, 0, 0x1055, 0, 0},
	    {"overflowed backlog-1 listener", AF_INET, LISTEN, 40006, 0, "127.0.0.1", "0.0.0.0", 0,
	     2, 1, 1, 2, 0x1054, 0, 0},
	    {"request sock (final ACK dropped)", AF_INET, SYN_RECV, 40004, 52718, "127.0.0.1",
	     "127.0.0.1", 1, 0, 0, 0, 0, 0x105c, 1, 3000},
	    {"client TIME_WAIT", AF_INET, TIME_WAIT, 55890, 40001, "127.0.0.1", "127.0.0.1", 1, 0,
	     0, 0, 0, 0x105f, 50000, 60000},
	    {"orphaned FIN_WAIT2 timewait sock", AF_INET, FIN_WAIT2, 55904, 40001, "127.0.0.1",
	     "127.0.0.1", 1, 0, 0, 0, 0, 0x1060, 50000, 60000},
	    {"server CLOSE_WAIT (holds the FIN)", AF_INET, CLOSE_WAIT, 40001, 55904, "127.0.0.1",
	     "127.0.0.1", 0, 1, 0, 1, 0, 0x1056, 0, 0},
	    {"child still in the accept queue", AF_INET, ESTABLISHED, 40001, 55920, "127.0.0.1",
	     "127.0.0.1", 1, 0, 0, 1, 0, 0x105d, 0, 0},
	    {"accepted server with 5 unread bytes", AF_INET, ESTABLISHED, 40001, 55884, "127.0.0.1",
	     "127.0.0.1", 0, 5, 0, 1, 0, 0x1059, 0, 0},
	    {"SYN dropped: client SYN_SENT", AF_INET, SYN_SENT, 48306, 40005, "127.0.0.1",
	     "127.0.0.1", 0, 0, 1, 1, 0, 0x1062, 1, 1000},
	    {"dual-stack child, v4-mapped -> AF_INET", AF_INET, ESTABLISHED, 40003, 36328,
	     "127.0.0.1", "127.0.0.1", 0, 0, 0, 1, 0, 0x106b, 0, 0},
	    {"dual-stack listener stays AF_INET6", AF_INET6, LISTEN, 40003, 0, "::", "::", 0, 0, 8,
	     1, 0, 0x1068, 0, 0},
	    {"IPv6 listener", AF_INET6, LISTEN, 40002, 0, "::1", "::", 0, 0, 8, 1, 0, 0x1067, 0, 0},
	    {"IPv6 client", AF_INET6, ESTABLISHED, 41582, 40002, "::1", "::1", 0, 0, 0, 1, 0,
	     0x106a, 0, 0},
	};
	struct collect c = {0};

	parse_all_fixtures(&c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct diag_sock *s =
		    find(&c, rows[i].family, rows[i].state, rows[i].sport, rows[i].dport);
		unsigned char sa[16] = {0}, da[16] = {0};

		CHECK(s, "%s: expected a socket %d:%d state %d, found none", rows[i].what,
		      rows[i].sport, rows[i].dport, rows[i].state);
		if (!s)
			continue;
		inet_pton(rows[i].family, rows[i].saddr, sa);
		inet_pton(rows[i].family, rows[i].daddr, da);
		CHECK(!memcmp(s->saddr, sa, 16), "%s: expected saddr %s", rows[i].what,
		      rows[i].saddr);
		CHECK(!memcmp(s->daddr, da, 16), "%s: expected daddr %s", rows[i].what,
		      rows[i].daddr);
		CHECK((s->inode == 0) == rows[i].inode_zero, "%s: expected inode %s, got %u",
		      rows[i].what, rows[i].inode_zero ? "0" : "non-zero", s->inode);
		CHECK(s->rqueue == (unsigned)rows[i].rqueue &&
			  s->wqueue == (unsigned)rows[i].wqueue,
		      "%s: expected rqueue/wqueue %d/%d, got %u/%u", rows[i].what, rows[i].rqueue,
		      rows[i].wqueue, s->rqueue, s->wqueue);
		CHECK(s->has_meminfo == rows[i].has_meminfo, "%s: expected has_meminfo %d, got %d",
		      rows[i].what, rows[i].has_meminfo, s->has_meminfo);
		CHECK(s->drops == (unsigned)rows[i].drops, "%s: expected drops %d, got %u",
		      rows[i].what, rows[i].drops, s->drops);
		CHECK(s->cookie == rows[i].cookie, "%s: expected cookie %#llx, got %#llx",
		      rows[i].what, rows[i].cookie, (unsigned long long)s->cookie);
		if (rows[i].max_exp)
			CHECK(s->expires_ms >= rows[i].min_exp && s->expires_ms <= rows[i].max_exp,
			      "%s: expected expires_ms in [%u, %u], got %u", rows[i].what,
			      rows[i].min_exp, rows[i].max_exp, s->expires_ms);
	}
}

static void test_fixture_cookies_unique(void)
{
	struct collect c = {0};
	int dup = 0, zero = 0;

	parse_all_fixtures(&c);
	for (int i = 0; i < c.n && i < MAX_SOCKS; i++) {
		zero += c.s[i].cookie == 0;
		for (int j = i + 1; j < c.n && j < MAX_SOCKS; j++)
			dup += c.s[i].cookie == c.s[j].cookie;
	}
	CHECK_EQ_INT(zero, 0, "sockets with cookie 0");
	CHECK_EQ_INT(dup, 0, "pairs of sockets sharing a cookie");
}

/* ---- hand-built messages ---- */

static size_t put_msg(unsigned char *buf, __u16 type, __u32 seq, const void *payload, size_t plen)
{
	struct nlmsghdr h = {
	    .nlmsg_len = (__u32)NLMSG_LENGTH(plen),
	    .nlmsg_type = type,
	    .nlmsg_flags = NLM_F_MULTI,
	    .nlmsg_seq = seq,
	};

	memset(buf, 0, NLMSG_SPACE(plen));
	memcpy(buf, &h, sizeof(h));
	if (plen)
		memcpy(buf + NLMSG_HDRLEN, payload, plen);
	return NLMSG_SPACE(plen);
}

static size_t put_error(unsigned char *buf, __u32 seq, int err)
{
	struct nlmsgerr e = {.error = err};

	return put_msg(buf, NLMSG_ERROR, seq, &e, sizeof(e));
}

static size_t put_done(unsigned char *buf, __u32 seq, int err)
{
	return put_msg(buf, NLMSG_DONE, seq, &err, sizeof(err));
}

static struct inet_diag_msg sample_msg(void)
{
	struct inet_diag_msg m = {0};

	m.idiag_family = AF_INET6;
	m.idiag_state = ESTABLISHED;
	m.id.idiag_sport = htons(443);
	m.id.idiag_dport = htons(50000);
	inet_pton(AF_INET6, "::ffff:10.1.2.3", m.id.idiag_src);
	inet_pton(AF_INET6, "::ffff:192.168.7.9", m.id.idiag_dst);
	m.id.idiag_cookie[0] = 0x89abcdef;
	m.id.idiag_cookie[1] = 0x01234567;
	m.idiag_inode = 4242;
	m.idiag_uid = 1000;
	m.idiag_expires = 1234;
	return m;
}

static void test_synthetic_fields(void)
{
	struct inet_diag_msg m = sample_msg();
	unsigned char buf[512], sa[4], da[4];
	struct collect c = {0};
	size_t len;

	len = put_msg(buf, SOCK_DIAG_BY_FAMILY, 1, &m, sizeof(m));
	CHECK_EQ_INT(sock_diag__parse(buf, len, collect_cb, &c), 0, "parse of one message");
	CHECK_EQ_INT(c.n, 1, "sockets parsed");
	if (c.n != 1)
		return;
	inet_pton(AF_INET, "10.1.2.3", sa);
	inet_pton(AF_INET, "192.168.7.9", da);
	CHECK(c.s[0].cookie == 0x0123456789abcdefULL,
	      "expected cookie 0x0123456789abcdef, got %#llx", (unsigned long long)c.s[0].cookie);
	CHECK_EQ_INT(c.s[0].family, AF_INET, "family of a v4-mapped socket");
	CHECK(!memcmp(c.s[0].saddr, sa, 4) && !memcmp(c.s[0].daddr, da, 4),
	      "expected 10.1.2.3 -> 192.168.7.9 in the first 4 bytes");
	CHECK(!memcmp(c.s[0].saddr + 4, (char[12]){0}, 12), "expected saddr bytes 4..15 zero");
	CHECK_EQ_INT(c.s[0].sport, 443, "sport (host order)");
	CHECK_EQ_INT(c.s[0].dport, 50000, "dport (host order)");
	CHECK_EQ_INT(c.s[0].inode, 4242, "inode");
	CHECK_EQ_INT(c.s[0].uid, 1000, "uid");
	CHECK_EQ_INT(c.s[0].expires_ms, 1234, "expires_ms");
	CHECK_EQ_INT(c.s[0].has_meminfo, 0, "has_meminfo without the attribute");
}

static void test_synthetic_v6_kept(void)
{
	struct inet_diag_msg m = sample_msg();
	unsigned char buf[512];
	struct collect c = {0};
	size_t len;

	/* ::ffff:a.b.c.d towards a real IPv6 peer is not an IPv4 connection: keep AF_INET6. */
	inet_pton(AF_INET6, "2001:db8::1", m.id.idiag_dst);
	len = put_msg(buf, SOCK_DIAG_BY_FAMILY, 1, &m, sizeof(m));
	CHECK_EQ_INT(sock_diag__parse(buf, len, collect_cb, &c), 0, "parse");
	CHECK_EQ_INT(c.n, 1, "sockets parsed");
	CHECK_EQ_INT(c.s[0].family, AF_INET6, "family with one non-mapped address");
}

static void test_synthetic_short_meminfo(void)
{
	unsigned char payload[256] = {0}, buf[512];
	struct inet_diag_msg m = sample_msg();
	struct rtattr rta = {.rta_len = RTA_LENGTH(2 * sizeof(__u32)),
			     .rta_type = INET_DIAG_SKMEMINFO};
	struct collect c = {0};
	size_t len;

	/* An older kernel's shorter SKMEMINFO (no DROPS slot) is accepted but not used. */
	memcpy(payload, &m, sizeof(m));
	memcpy(payload + sizeof(m), &rta, sizeof(rta));
	len = put_msg(buf, SOCK_DIAG_BY_FAMILY, 1, payload, sizeof(m) + rta.rta_len);
	CHECK_EQ_INT(sock_diag__parse(buf, len, collect_cb, &c), 0, "parse");
	CHECK_EQ_INT(c.n, 1, "sockets parsed");
	CHECK_EQ_INT(c.s[0].has_meminfo, 0, "has_meminfo with a 2-slot SKMEMINFO");
}

/* ---- malformed input: every case must fail cleanly ---- */

/* First attribute of the first socket message in a fixture copy. */
static struct rtattr *first_attr(unsigned char *buf)
{
	return (struct rtattr *)(buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_msg)));
}

static void test_malformed_table(void)
{
	enum {
		TRUNC_HDR,
		TRUNC_MSG,
		LEN_OVER,
		LEN_UNDER,
		LEN_ZERO,
		SHORT_DIAG,
		RTA_OVER,
		RTA_UNDER,
		ERR_EPERM,
		ERR_SHORT,
		DONE_ERR,
		BAD_FAMILY,
		TRAILING
	};
	static const struct {
		const char *what;
		int kind;
		int want;
	} cases[] = {
	    {"buffer cut inside the first header", TRUNC_HDR, -EPROTO},
	    {"buffer cut inside the first message", TRUNC_MSG, -EPROTO},
	    {"nlmsg_len larger than the buffer", LEN_OVER, -EPROTO},
	    {"nlmsg_len smaller than a header", LEN_UNDER, -EPROTO},
	    {"nlmsg_len zero", LEN_ZERO, -EPROTO},
	    {"payload shorter than inet_diag_msg", SHORT_DIAG, -EPROTO},
	    {"rta_len past the message end", RTA_OVER, -EPROTO},
	    {"rta_len smaller than an attribute header", RTA_UNDER, -EPROTO},
	    {"NLMSG_ERROR with -EPERM", ERR_EPERM, -EPERM},
	    {"NLMSG_ERROR without its error code", ERR_SHORT, -EPROTO},
	    {"NLMSG_DONE carrying -ENOBUFS", DONE_ERR, -ENOBUFS},
	    {"unknown address family", BAD_FAMILY, -EPROTO},
	    {"3 stray bytes after the last message", TRAILING, -EPROTO},
	};
	struct blob fix = load("inet4_0.bin");

	CHECK(fix.len > 64, "fixture inet4_0.bin is missing");
	if (fix.len <= 64)
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *buf = malloc(fix.len + 16);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		struct inet_diag_msg *m = NLMSG_DATA(h);
		struct collect c = {0};
		size_t len = fix.len;
		int got;

		memcpy(buf, fix.data, fix.len);
		switch (cases[i].kind) {
		case TRUNC_HDR:
			len = 10;
			break;
		case TRUNC_MSG:
			len = h->nlmsg_len - 1;
			break;
		case LEN_OVER:
			h->nlmsg_len = (__u32)fix.len + 4;
			break;
		case LEN_UNDER:
			h->nlmsg_len = 8;
			break;
		case LEN_ZERO:
			h->nlmsg_len = 0;
			break;
		case SHORT_DIAG:
			h->nlmsg_len = NLMSG_LENGTH(40);
			break;
		case RTA_OVER:
			first_attr(buf)->rta_len = 0xfff0;
			break;
		case RTA_UNDER:
			first_attr(buf)->rta_len = 2;
			break;
		case ERR_EPERM:
			len = put_error(buf, 1, -EPERM);
			break;
		case ERR_SHORT:
			len = put_msg(buf, NLMSG_ERROR, 1, NULL, 0);
			break;
		case DONE_ERR:
			len = put_done(buf, 1, -ENOBUFS);
			break;
		case BAD_FAMILY:
			m->idiag_family = 99;
			break;
		case TRAILING:
			memset(buf + len, 0, 3);
			len += 3;
			break;
		}
		got = sock_diag__parse(buf, len, collect_cb, &c);
		CHECK(got == cases[i].want, "%s: expected %d, got %d", cases[i].what, cases[i].want,
		      got);
		free(buf);
	}
	free(fix.data);
}

static void test_null_and_empty(void)
{
	CHECK_EQ_INT(sock_diag__parse(NULL, 0, collect_cb, NULL), 0, "NULL, 0 bytes");
	CHECK_EQ_INT(sock_diag__parse(NULL, 16, collect_cb, NULL), -EINVAL, "NULL, 16 bytes");
}

/*
 * Error codes are handed to strerror(-err) by callers: one out of the errno range is a malformed
 * reply (found by fuzzing: NLMSG_DONE carrying -16777216; INT_MIN cannot even be negated).
 */
static void test_error_codes_out_of_range(void)
{
	static const struct {
		bool done;
		int err, want;
	} cases[] = {
		{true, -16777216, -EPROTO}, {true, INT_MIN, -EPROTO}, {true, -4095, -4095},
		{true, -4096, -EPROTO},	    {false, INT_MIN, -EPROTO}, {false, -4096, -EPROTO},
		{false, -4095, -4095},	    {false, -EPERM, -EPERM},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char buf[64];
		size_t n = cases[i].done ? put_done(buf, 1, cases[i].err)
					 : put_error(buf, 1, cases[i].err);
		int got = sock_diag__parse(buf, n, collect_cb, NULL);

		CHECK(got == cases[i].want, "%s carrying %d: expected %d, got %d",
		      cases[i].done ? "NLMSG_DONE" : "NLMSG_ERROR", cases[i].err, cases[i].want,
		      got);
	}
}

/*
 * NLM_F_DUMP_INTR says the kernel's tables changed during a dump that checks for it. The audit
 * copes with sockets that change during a dump anyway (events since its start win), so flagged
 * messages are read like any other, in every part of a multi-part reply.
 */
static void test_dump_intr_flag_is_read_as_usual(void)
{
	struct inet_diag_msg m = sample_msg();
	unsigned char buf[512];
	struct collect c = {0};
	size_t len = 0, first;

	len += put_msg(buf, SOCK_DIAG_BY_FAMILY, 1, &m, sizeof(m));
	first = len;
	m.id.idiag_cookie[0]++;
	len += put_msg(buf + len, SOCK_DIAG_BY_FAMILY, 1, &m, sizeof(m));
	((struct nlmsghdr *)(buf + first))->nlmsg_flags |= NLM_F_DUMP_INTR;
	CHECK_EQ_INT(sock_diag__parse(buf, len, collect_cb, &c), 0, "first part, one flagged");
	len = put_done(buf, 1, 0);
	((struct nlmsghdr *)buf)->nlmsg_flags |= NLM_F_DUMP_INTR;
	CHECK_EQ_INT(sock_diag__parse(buf, len, collect_cb, &c), 1, "flagged NLMSG_DONE");
	CHECK_EQ_INT(c.n, 2, "sockets parsed from the flagged dump");
}

/* Every prefix of a real buffer, copied to an exact-size heap block so ASan sees overreads. */
static void test_every_truncation(void)
{
	struct blob fix = load("inet4_0.bin");
	int bad = 0;

	for (size_t len = 0; len <= fix.len; len++) {
		unsigned char *buf = malloc(len ? len : 1);
		struct collect c = {0};
		bool boundary = false;
		size_t off = 0;
		int got;

		memcpy(buf, fix.data, len);
		got = sock_diag__parse(buf, len, collect_cb, &c);
		while (off < len) {
			struct nlmsghdr h;

			memcpy(&h, fix.data + off, sizeof(h));
			off += NLMSG_ALIGN(h.nlmsg_len);
		}
		boundary = off == len;
		if (boundary ? got != 0 : got != -EPROTO) {
			if (bad++ < 5)
				fprintf(stderr, "  prefix of %zu bytes: expected %d, got %d\n", len,
					boundary ? 0 : -EPROTO, got);
		}
		free(buf);
	}
	CHECK_EQ_INT(bad, 0, "prefixes with an unexpected result");
	free(fix.data);
}

/* Random byte corruption: only checks that nothing crashes or reads out of bounds. */
static void test_fuzz_no_crash(void)
{
	struct blob fix = load("inet4_0.bin");
	unsigned int seed = 12345;
	int errors = 0;

	for (int iter = 0; iter < 3000 && fix.len; iter++) {
		unsigned char *buf = malloc(fix.len);
		struct collect c = {0};
		size_t len = (size_t)rand_r(&seed) % (fix.len + 1);

		memcpy(buf, fix.data, fix.len);
		for (int k = 0; k < 1 + iter % 8; k++)
			buf[(size_t)rand_r(&seed) % fix.len] = (unsigned char)rand_r(&seed);
		errors += sock_diag__parse(buf, len, collect_cb, &c) < 0;
		free(buf);
	}
	CHECK(errors > 0, "expected some corrupted buffers to be rejected, got none");
	free(fix.data);
}

static void test_callback_stops(void)
{
	struct collect c = {.stop_after = 3, .stop_ret = -ECANCELED};
	struct blob fix = load("inet4_0.bin");

	CHECK_EQ_INT(sock_diag__parse(fix.data, fix.len, collect_cb, &c), -ECANCELED,
		     "return value when the callback stops");
	CHECK_EQ_INT(c.n, 3, "callback calls after it asked to stop");
	free(fix.data);
}

/* ---- the dump loop against a fake kernel ---- */

enum fake_mode { FAKE_NORMAL, FAKE_EPERM, FAKE_HUGE };

static void set_seq(unsigned char *buf, size_t len, __u32 seq)
{
	size_t off = 0;

	while (off + NLMSG_HDRLEN <= len) {
		struct nlmsghdr h;

		memcpy(&h, buf + off, sizeof(h));
		h.nlmsg_seq = seq;
		memcpy(buf + off, &h, sizeof(h));
		off += NLMSG_ALIGN(h.nlmsg_len);
	}
}

static int send_all(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, 0) == (ssize_t)len ? 0 : -1;
}

static size_t first_msg_space(const struct blob *b)
{
	struct nlmsghdr h;

	memcpy(&h, b->data, sizeof(h));
	return NLMSG_ALIGN(h.nlmsg_len);
}

/*
 * Serve requests until the peer closes. Each reply is: a stale socket message with the
 * previous sequence number (must be ignored), the fixture data buffer, the fixture DONE buffer.
 * Exit status: 0 if every request looked right, 10+ otherwise.
 */
static void fake_kernel(int fd, enum fake_mode mode, __u32 want_states)
{
	struct blob v4 = load("inet4_0.bin"), v4d = load("inet4_1.bin");
	struct blob v6 = load("inet6_0.bin"), v6d = load("inet6_1.bin");
	static unsigned char req[256], out[70000];

	for (;;) {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
		ssize_t n = recv(fd, req, sizeof(req), 0);
		struct blob *data, *done, *other;
		size_t stale;

		if (n == 0)
			_exit(0);
		if (n != NLMSG_LENGTH(sizeof(r)))
			_exit(10);
		memcpy(&h, req, sizeof(h));
		memcpy(&r, req + NLMSG_HDRLEN, sizeof(r));
		if (h.nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h.nlmsg_flags != (NLM_F_REQUEST | NLM_F_DUMP))
			_exit(11);
		if (r.sdiag_protocol != IPPROTO_TCP || r.idiag_states != want_states ||
		    r.idiag_ext != 1 << (INET_DIAG_SKMEMINFO - 1) ||
		    (r.sdiag_family != AF_INET && r.sdiag_family != AF_INET6))
			_exit(12);
		if (mode == FAKE_EPERM) {
			if (send_all(fd, out, put_error(out, h.nlmsg_seq, -EPERM)))
				_exit(13);
			continue;
		}
		if (mode == FAKE_HUGE) {
			if (send_all(fd, out, sizeof(out)))
				_exit(14);
			continue;
		}
		data = r.sdiag_family == AF_INET ? &v4 : &v6;
		done = r.sdiag_family == AF_INET ? &v4d : &v6d;
		other = r.sdiag_family == AF_INET ? &v6 : &v4;
		stale = first_msg_space(other);
		memcpy(out, other->data, stale);
		set_seq(out, stale, h.nlmsg_seq - 1);
		set_seq(data->data, data->len, h.nlmsg_seq);
		set_seq(done->data, done->len, h.nlmsg_seq);
		if (send_all(fd, out, stale) || send_all(fd, data->data, data->len) ||
		    send_all(fd, done->data, done->len))
			_exit(15);
	}
}

static pid_t start_fake(int *fd, enum fake_mode mode, __u32 states)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		fake_kernel(sv[1], mode, states);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

static int stop_fake(int fd, pid_t pid)
{
	int status = -1;

	close(fd);
	if (pid > 0)
		waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

static void test_dump_fake_kernel(void)
{
	struct collect c = {0};
	int fd, ret;
	pid_t pid = start_fake(&fd, FAKE_NORMAL, 0x0c0a);

	CHECK(pid > 0, "cannot start the fake kernel");
	if (pid <= 0)
		return;
	ret = sock_diag__dump(fd, 0x0c0a, true, collect_cb, &c);
	CHECK_EQ_INT(ret, 0, "sock_diag__dump return");
	CHECK_EQ_INT(c.n, 25, "sockets from both families (stale replies skipped)");
	for (int i = 0; i < 20 && i < c.n; i++)
		CHECK(c.s[i].family == AF_INET,
		      "socket %d: expected AF_INET (first request), got %d", i, c.s[i].family);
	CHECK(c.n > 20 && c.s[20].family == AF_INET6 && c.s[20].sport == 40002,
	      "expected socket 20 to be the first of the AF_INET6 reply ([::1]:40002)");
	CHECK_EQ_INT(stop_fake(fd, pid), 0, "fake kernel exit status (request checks)");
}

static void test_dump_stop_then_reuse(void)
{
	struct collect c = {.stop_after = 2, .stop_ret = -ECANCELED};
	int fd, ret;
	pid_t pid = start_fake(&fd, FAKE_NORMAL, DIAG_ALL_STATES);

	CHECK(pid > 0, "cannot start the fake kernel");
	if (pid <= 0)
		return;
	ret = sock_diag__dump(fd, DIAG_ALL_STATES, true, collect_cb, &c);
	CHECK_EQ_INT(ret, -ECANCELED, "first dump stopped by the callback");
	CHECK_EQ_INT(c.n, 2, "callback calls in the stopped dump");
	memset(&c, 0, sizeof(c));
	ret = sock_diag__dump(fd, DIAG_ALL_STATES, true, collect_cb, &c);
	CHECK_EQ_INT(ret, 0, "second dump on the same fd");
	CHECK_EQ_INT(c.n, 25, "sockets in the second dump (nothing left over from the first)");
	CHECK_EQ_INT(stop_fake(fd, pid), 0, "fake kernel exit status");
}

static void test_dump_errors(void)
{
	static const struct {
		const char *what;
		enum fake_mode mode;
		int want;
	} cases[] = {
	    {"kernel answers NLMSG_ERROR -EPERM", FAKE_EPERM, -EPERM},
	    {"reply larger than the receive buffer", FAKE_HUGE, -EMSGSIZE},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct collect c = {0};
		int fd, ret;
		pid_t pid = start_fake(&fd, cases[i].mode, DIAG_ALL_STATES);

		CHECK(pid > 0, "cannot start the fake kernel");
		if (pid <= 0)
			continue;
		ret = sock_diag__dump(fd, DIAG_ALL_STATES, true, collect_cb, &c);
		CHECK(ret == cases[i].want, "%s: expected %d, got %d", cases[i].what, cases[i].want,
		      ret);
		stop_fake(fd, pid);
	}
	CHECK_EQ_INT(sock_diag__dump(-1, DIAG_ALL_STATES, false, collect_cb, NULL), -EINVAL,
		     "dump on fd -1");
}

TEST_MAIN("sock_diag", TL_CASE(test_fixture_state_counts), TL_CASE(test_fixture_sockets),
	  TL_CASE(test_fixture_cookies_unique), TL_CASE(test_synthetic_fields),
	  TL_CASE(test_synthetic_v6_kept), TL_CASE(test_synthetic_short_meminfo),
	  TL_CASE(test_malformed_table), TL_CASE(test_null_and_empty),
	  TL_CASE(test_error_codes_out_of_range), TL_CASE(test_dump_intr_flag_is_read_as_usual),
	  TL_CASE(test_every_truncation), TL_CASE(test_fuzz_no_crash), TL_CASE(test_callback_stops),
	  TL_CASE(test_dump_fake_kernel), TL_CASE(test_dump_stop_then_reuse),
	  TL_CASE(test_dump_errors))
