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

TEST_MAIN("format", TL_CASE(test_json_escape_table), TL_CASE(test_state_names_round_trip),
	  TL_CASE(test_addresses), TL_CASE(test_errno_names))
