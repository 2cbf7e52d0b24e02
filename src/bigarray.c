// SPDX-License-Identifier: GPL-2.0-only
/* Slot arrays faulted in ahead of use, see include/bigarray.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigarray.h"

#define PAGE 4096u
#define HUGE_PAGE (2u << 20)

void *bigarray__alloc(size_t bytes)
{
	void *p;

	if (bytes < BIGARRAY_MIN)
		return calloc(1, bytes ? bytes : 1);
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/*
	 * Tables are looked up at random: past a few megabytes nearly every lookup also misses
	 * the TLB. Ask for huge pages (a hint: the default THP mode, madvise, honours it; the
	 * kernel falls back to small pages when it has none).
	 */
	if (bytes >= HUGE_PAGE)
		madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

void bigarray__free(void *p, size_t bytes)
{
	if (!p)
		return;
	if (bytes < BIGARRAY_MIN)
		free(p);
	else
		munmap(p, bytes);
}

int bigarray__prepare(struct bigarray_next *n, size_t bytes, size_t calls)
{
	memset(n, 0, sizeof(*n));
	n->p = bigarray__alloc(bytes);
	if (!n->p)
		return -ENOMEM;
	n->bytes = bytes;
	/* calloc'd small arrays need nothing more; mmap'd ones are untouched so far */
	n->touched = bytes < BIGARRAY_MIN ? bytes : 0;
	n->step = (bytes / (calls ? calls : 1) + PAGE - 1) / PAGE * PAGE;
	if (n->step < PAGE)
		n->step = PAGE;
	return 0;
}

/* A write to each page of [touched, to): the first access to a fresh page is a write, so it
 * faults once (a read first would map the zero page and fault again on the write). */
static void touch_to(struct bigarray_next *n, size_t to)
{
	volatile unsigned char *p = n->p;

	for (; n->touched < to; n->touched += PAGE)
		p[n->touched] = 0;
	n->touched = to;
}

bool bigarray__touch(struct bigarray_next *n)
{
	if (n->touched < n->bytes)
		touch_to(n, n->bytes - n->touched > n->step ? n->touched + n->step : n->bytes);
	return n->touched == n->bytes;
}

void *bigarray__take(struct bigarray_next *n)
{
	void *p = n->p;

	if (p)
		touch_to(n, n->bytes);
	memset(n, 0, sizeof(*n));
	return p;
}

void bigarray__drop(struct bigarray_next *n)
{
	bigarray__free(n->p, n->bytes);
	memset(n, 0, sizeof(*n));
}

int bigarray__grow_step(struct bigarray_next *n, const struct bigarray_policy *policy,
			__u64 slots, size_t slot_bytes, __u64 count)
{
	__u64 used = count * policy->den;
	bool must = used > slots * policy->grow;

	if (!n->p && used > slots * policy->prepare &&
	    bigarray__prepare(n, slots * slot_bytes * 2,
			      slots * (policy->grow - policy->prepare) / policy->den / 2))
		return must ? -ENOMEM : 0;
	return n->p && (bigarray__touch(n) || must);
}
