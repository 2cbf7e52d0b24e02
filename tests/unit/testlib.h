/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal table-friendly test harness for unit tests (no root, no BPF). Each test binary
 * defines test functions, lists them with TEST_MAIN, and prints one line per test plus a final
 * "N passed, N failed" line that tests/run.py collects.
 */
#ifndef TCPSTATE_TESTLIB_H
#define TCPSTATE_TESTLIB_H

#include <stdio.h>
#include <string.h>

static int tl_failed_checks;

#define CHECK(cond, fmt, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			tl_failed_checks++;                                                        \
			fprintf(stderr, "  %s:%d: %s: " fmt "\n", __FILE__, __LINE__, #cond,       \
				##__VA_ARGS__);                                                    \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_INT(got, want, what)                                                              \
	CHECK((long long)(got) == (long long)(want), "%s: expected %lld, got %lld", what,          \
	      (long long)(want), (long long)(got))

#define CHECK_EQ_STR(got, want, what)                                                              \
	CHECK(strcmp((got), (want)) == 0, "%s: expected \"%s\", got \"%s\"", what, (want), (got))

struct tl_case {
	const char *name;
	void (*fn)(void);
};

static inline int tl_run(const char *suite, const struct tl_case *cases, int n)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < n; i++) {
		int before = tl_failed_checks;

		cases[i].fn();
		if (tl_failed_checks == before) {
			passed++;
			printf("PASS %s/%s\n", suite, cases[i].name);
		} else {
			failed++;
			printf("FAIL %s/%s\n", suite, cases[i].name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define TEST_MAIN(suite, ...)                                                                      \
	int main(void)                                                                             \
	{                                                                                          \
		static const struct tl_case cases[] = { __VA_ARGS__ };                             \
		return tl_run(suite, cases, (int)(sizeof(cases) / sizeof(cases[0])));             \
	}

#define TL_CASE(fn) { #fn, fn }

#endif
