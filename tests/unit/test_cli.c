// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for option values parsed in src/cli.c. */
#include <errno.h>
#include <stdlib.h>

#include "cli.h"
#include "format.h"
#include "testlib.h"

#define BIT(st) (1u << (st))

/* "time_wait," n times, then tail: long lists, as a generated --state might be. */
static char *repeat_list(int n, const char *tail)
{
	char *s = malloc((size_t)n * 10 + strlen(tail) + 1);

	s[0] = '\0';
	for (int i = 0; i < n; i++)
		strcat(s, "time_wait,");
	return strcat(s, tail);
}

/*
 * --state lists of any length are read whole. Before, the value was cut at 255 bytes: a name
 * after the cut was ignored without a word (found by fuzzing, fuzz_options).
 */
static void test_parse_states(void)
{
	struct {
		char *in;
		int ret;
		__u32 mask;
	} cases[] = {
		{ strdup("close_wait,time_wait"), 0, BIT(TCP_CLOSE_WAIT) | BIT(TCP_TIME_WAIT) },
		{ strdup("ESTABLISHED,close-wait"), 0, BIT(TCP_ESTABLISHED) | BIT(TCP_CLOSE_WAIT) },
		{ strdup(",,listen,"), 0, BIT(TCP_LISTEN) },
		{ strdup(""), 0, 0 },
		{ strdup("listen,bogus"), -EINVAL, 0 },
		{ strdup("a_name_longer_than_any_state_name_at_all"), -EINVAL, 0 },
		{ repeat_list(40, ""), 0, BIT(TCP_TIME_WAIT) },
		{ repeat_list(25, "close,listen"), 0,
		  BIT(TCP_TIME_WAIT) | BIT(TCP_CLOSE) | BIT(TCP_LISTEN) },
		{ repeat_list(25, "close,bogus"), -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		__u32 mask = 0;
		int ret = cli_parse_states(cases[i].in, &mask);

		CHECK(ret == cases[i].ret && (ret || mask == cases[i].mask),
		      "case %zu (%zu bytes): expected %d/%#x, got %d/%#x", i, strlen(cases[i].in),
		      cases[i].ret, cases[i].mask, ret, mask);
		free(cases[i].in);
	}
}

TEST_MAIN("cli", TL_CASE(test_parse_states))
