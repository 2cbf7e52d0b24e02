// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for src/bigarray.c: arrays faulted in ahead of use, a step per call. */
#include <stdlib.h>
#include <sys/resource.h>

#include "bigarray.h"
#include "testlib.h"

static long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* A 4 MiB array to be in within 100 calls: in after 100 touches, not before, all zero. */
static void test_touch_in_steps(void)
{
	struct bigarray_next n;
	size_t bytes = 4u << 20, calls = 0;
	unsigned char *p;
	bool zero = true;

	CHECK_EQ_INT(bigarray__prepare(&n, bytes, 100), 0, "prepare");
	CHECK(n.step % 4096 == 0 && n.step >= bytes / 100, "step %zu: whole pages, >= 1/100", n.step);
	while (!bigarray__touch(&n) && calls < 1000)
		calls++;
	calls++;
	CHECK(calls <= 100 && calls >= 90, "expected the array in within 90-100 calls, took %zu",
	      calls);
	p = bigarray__take(&n);
	CHECK(p != NULL && n.p == NULL && n.touched == 0, "take returns the array and resets");
	for (size_t i = 0; p && i < bytes; i++)
		zero &= !p[i];
	CHECK(zero, "a fresh array reads as zero");
	bigarray__free(p, bytes);
}

/* Small arrays come from the heap, zeroed, ready at once. */
static void test_small_ready_at_once(void)
{
	struct bigarray_next n;

	CHECK_EQ_INT(bigarray__prepare(&n, 1000, 50), 0, "prepare");
	CHECK(bigarray__touch(&n), "a small array is ready on the first touch");
	bigarray__drop(&n);
	CHECK(n.p == NULL, "drop resets");
	bigarray__drop(&n); /* an empty one: nothing */
}

/*
 * Touching faults each page once, by a write; using the array afterwards (reads first, then
 * writes, in random order, as hashing does) faults no more. Fails if the touch read the pages
 * (zero page mapped, a second fault on the first write) or skipped some.
 */
static void test_one_fault_per_page_none_after(void)
{
	size_t bytes = 8u << 20, pages = bytes / 4096;
	struct bigarray_next n;
	long f0, f1, f2;
	unsigned char *p;
	unsigned sum = 0;

	CHECK_EQ_INT(bigarray__prepare(&n, bytes, 64), 0, "prepare");
	f0 = minor_faults();
	while (!bigarray__touch(&n))
		;
	f1 = minor_faults();
	p = bigarray__take(&n);
	srand(7);
	for (size_t k = 0; k < 4 * pages; k++) {
		size_t i = ((size_t)rand() * 4099u) % bytes;

		sum += p[i];
		p[i] = (unsigned char)k;
	}
	f2 = minor_faults();
	CHECK(f1 - f0 <= (long)pages + 8, "touching %zu pages faulted %ld times", pages, f1 - f0);
	CHECK(f2 - f1 <= 8, "using the touched array faulted %ld more times (sum %u)", f2 - f1, sum);
	bigarray__free(p, bytes);
}

TEST_MAIN("bigarray", TL_CASE(test_touch_in_steps), TL_CASE(test_small_ready_at_once),
	  TL_CASE(test_one_fault_per_page_none_after))
