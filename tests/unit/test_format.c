// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for state names, address text and JSON escaping. */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "format.h"
#include "testlib.h"

static void test_json_escape_table(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "tab\there", "\"tab\\u0009here\"" },
		{ "nl\n", "\"nl\\u000a\"" },
		{ "\x01\x7f", "\"\\u0001\\u007f\"" },
		{ "", "\"\"" },
		/* UTF-8 kept; each byte that is not UTF-8 becomes \ufffd */
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		{ "a\xffz", "\"a\\ufffdz\"" },
		{ "\x80\xbf", "\"\\ufffd\\ufffd\"" },			/* stray continuations */
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },			/* overlong '/' */
		{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },	/* overlong, 3 bytes */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },	/* UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" }, /* past U+10FFFF */
		{ "\xe2\x82", "\"\\ufffd\\ufffd\"" },			/* cut short by the end */
		{ "\xe2\x82x", "\"\\ufffd\\ufffdx\"" },			/* cut short by ASCII */
		/* a comm with a quote, a backslash, a newline and an invalid byte */
		{ "q\"\\\n\xff", "\"q\\\"\\\\\\u000a\\ufffd\"" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_escape(buf, sizeof(buf), cases[i].in);
		CHECK_EQ_STR(buf, cases[i].out, cases[i].in);
	}
	/* truncation: reports the length it needed, never overflows */
	CHECK_EQ_INT(json_escape(buf, 4, "abcdef"), 8, "length needed for \"abcdef\"");
	CHECK_EQ_STR(buf, "\"ab", "truncated output");
}

static void test_state_names_round_trip(void)
{
	for (int st = TCP_ESTABLISHED; st <= TCP_CLOSING; st++)
		CHECK_EQ_INT(tcp_state_parse(tcp_state_name(st)), st, tcp_state_name(st));
	CHECK_EQ_INT(tcp_state_parse("CLOSE-WAIT"), TCP_CLOSE_WAIT, "CLOSE-WAIT");
	CHECK_EQ_INT(tcp_state_parse("Time_Wait"), TCP_TIME_WAIT, "Time_Wait");
	CHECK_EQ_INT(tcp_state_parse("nonsense"), -1, "nonsense");
	CHECK_EQ_STR(tcp_state_name(0), "unknown", "state 0");
	CHECK_EQ_STR(tcp_state_name(99), "unknown", "state 99");
}

static void test_addresses(void)
{
	__u8 a[16] = { 0 };
	char buf[80];

	inet_pton(AF_INET6, "::ffff:10.1.2.3", a);
	CHECK_EQ_STR(addr_format(AF_INET6, a, buf, sizeof(buf)), "10.1.2.3", "v4-mapped shown as v4");
	CHECK_EQ_INT(addr_effective_family(AF_INET6, a), AF_INET, "v4-mapped family");
	CHECK_EQ_STR(endpoint_format(AF_INET6, a, 80, true, buf, sizeof(buf)), "10.1.2.3:80",
		     "v4-mapped endpoint");
	inet_pton(AF_INET6, "fd00::1", a);
	CHECK_EQ_STR(endpoint_format(AF_INET6, a, 443, true, buf, sizeof(buf)), "[fd00::1]:443",
		     "v6 endpoint");
	CHECK_EQ_STR(endpoint_format(AF_INET6, a, 0, false, buf, sizeof(buf)), "[fd00::1]:*",
		     "v6 endpoint, port unknown");
	memset(a, 0, sizeof(a));
	inet_pton(AF_INET, "127.0.0.1", a);
	CHECK_EQ_STR(endpoint_format(AF_INET, a, 22, true, buf, sizeof(buf)), "127.0.0.1:22",
		     "v4 endpoint");
}

static void test_errno_names(void)
{
	char buf[16];

	CHECK_EQ_STR(errno_name(ECONNREFUSED, buf, sizeof(buf)), "ECONNREFUSED", "ECONNREFUSED");
	CHECK_EQ_STR(errno_name(9999, buf, sizeof(buf)), "E9999", "unknown errno");
}

/* utf8_seq_len: the length of well-formed characters, 0 for anything else. */
static void test_utf8_seq_len(void)
{
	static const struct {
		const char *in;
		size_t want;
	} cases[] = {
		{ "a", 1 },		 { "\x7f", 1 },		 { "\xc2\x80", 2 },
		{ "\xdf\xbf", 2 },	 { "\xe0\xa0\x80", 3 },	 { "\xef\xbf\xbd", 3 },
		{ "\xf0\x90\x80\x80", 4 }, { "\xf4\x8f\xbf\xbf", 4 }, { "\x80", 0 },
		{ "\xc1\xbf", 0 },	 { "\xe0\x9f\xbf", 0 },	 { "\xed\xbf\xbf", 0 },
		{ "\xf0\x8f\xbf\xbf", 0 }, { "\xf4\x90\x80\x80", 0 }, { "\xf5\x80\x80\x80", 0 },
		{ "\xc3", 0 },		 { "\xe2\x82", 0 },	 { "\xf0\x9f\x98", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(utf8_seq_len(cases[i].in) == cases[i].want, "case %zu: expected %zu, got %zu",
		      i, cases[i].want, utf8_seq_len(cases[i].in));
}

/* Text tables: control characters and bytes that are not UTF-8 become '?', UTF-8 is kept. */
static void test_text_printable(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "nginx", 16, "nginx" },
		{ "q\"\\\n\xff", 16, "q\"\\??" },
		{ "\x1b[31mred", 16, "?[31mred" },
		{ "tab\there\r\x7f", 16, "tab?here??" },
		{ "caf\xc3\xa9", 16, "caf\xc3\xa9" },
		{ "caf\xc3\xa9", 5, "caf" },	/* a character cut short is left out */
		{ "abcdef", 4, "abc" },
		{ "", 4, "" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_EQ_STR(text_printable(buf, cases[i].len, cases[i].in), cases[i].want,
			     cases[i].in);
}

TEST_MAIN("format", TL_CASE(test_json_escape_table), TL_CASE(test_utf8_seq_len),
	  TL_CASE(test_text_printable), TL_CASE(test_state_names_round_trip),
	  TL_CASE(test_addresses), TL_CASE(test_errno_names))
