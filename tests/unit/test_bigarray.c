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

/*
 * The growth policy: nothing below prepare/den; from there the doubled array is prepared and
 * the answer is "grow" once it is in, within half the inserts left before grow/den; past
 * grow/den it is "grow" at once, even with pages still out.
 */
static void test_grow_step_policy(void)
{
	static const struct bigarray_policy p = { .den = 10, .prepare = 8, .grow = 9 };
	const __u64 slots = 4096;
	const size_t slot_bytes = 72;
	struct bigarray_next n = { 0 };
	__u64 count = 1;
	int r = 0;

	for (; count * 10 <= slots * 8; count++)
		CHECK_EQ_INT(bigarray__grow_step(&n, &p, slots, slot_bytes, count), 0,
			     "below 8/10");
	CHECK(n.p == NULL, "nothing prepared at %llu of %llu slots", (unsigned long long)count - 1,
	      (unsigned long long)slots);
	for (; !r && count < slots; count++)
		r = bigarray__grow_step(&n, &p, slots, slot_bytes, count);
	CHECK_EQ_INT(r, 1, "grow once the array is in");
	CHECK(count - 1 <= slots * 8 / 10 + slots / 20 + 1,
	      "expected the array in within %llu inserts past 8/10, took %llu",
	      (unsigned long long)slots / 20, (unsigned long long)(count - 1 - slots * 8 / 10));
	CHECK(n.p && n.bytes == slots * slot_bytes * 2 && n.touched == n.bytes,
	      "the prepared array is the doubled one, all in");
	bigarray__drop(&n);

	/* An array prepared at 8/10 but not touched since: past 9/10 the answer is grow. */
	CHECK_EQ_INT(bigarray__grow_step(&n, &p, slots, slot_bytes, slots * 8 / 10 + 1), 0,
		     "just past 8/10");
	CHECK_EQ_INT(bigarray__grow_step(&n, &p, slots, slot_bytes, slots * 9 / 10 + 1), 1,
		     "past 9/10");
	CHECK(n.p && n.touched < n.bytes, "past 9/10 before the array is in");
	bigarray__drop(&n);
}

TEST_MAIN("bigarray", TL_CASE(test_touch_in_steps), TL_CASE(test_small_ready_at_once),
	  TL_CASE(test_one_fault_per_page_none_after), TL_CASE(test_grow_step_policy))
