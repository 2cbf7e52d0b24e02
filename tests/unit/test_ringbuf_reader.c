// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the per-CPU ring buffer merge (no root, no BPF): rings in plain memory laid out
 * as the kernel maps them, records written the way bpf_ringbuf_reserve/submit leave them.
 */
#include <stdlib.h>
#include <time.h>
#include <linux/bpf.h>

#include "ringbuf_reader.h"
#include "testlib.h"

struct rec {
	__u64 ts;
	__u32 tag;
	__u32 pad;
};

struct fake {
	__u64 cons, prod;
	unsigned char *data; /* 2 x size, the second half mirrors the first */
	__u64 size;
};

static void fake_init(struct fake *f, __u64 size)
{
	f->cons = f->prod = 0;
	f->size = size;
	f->data = calloc(2, size);
}

static void poke(struct fake *f, __u64 pos, const void *src, size_t len)
{
	const unsigned char *b = src;

	for (size_t i = 0; i < len; i++) {
		__u64 off = (pos + i) & (f->size - 1);

		f->data[off] = f->data[off + f->size] = b[i];
	}
}

/* Append a record; returns its position (to commit a BUSY one later). */
static __u64 put(struct fake *f, __u64 ts, __u32 tag, __u32 hdr_flags)
{
	struct rec r = { .ts = ts, .tag = tag };
	__u32 hdr[2] = { sizeof(r) | hdr_flags, 0 };
	__u64 pos = f->prod;

	poke(f, pos, hdr, sizeof(hdr));
	poke(f, pos + sizeof(hdr), &r, sizeof(r));
	f->prod += (sizeof(hdr) + sizeof(r) + 7) & ~7ull;
	return pos;
}

static void commit(struct fake *f, __u64 pos, __u64 ts)
{
	__u32 hdr = sizeof(struct rec);

	poke(f, pos + 8, &ts, sizeof(ts));
	poke(f, pos, &hdr, sizeof(hdr));
}

struct seen {
	__u32 tags[64];
	int n, prefetched, order_ok;
};

static void on_record(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	const struct rec *r = data;

	if (size == sizeof(*r) && s->n < 64)
		s->tags[s->n] = r->tag;
	s->n++;
	if (s->prefetched < s->n)
		s->order_ok = 0; /* processed before its batch was prefetched */
}

static void on_prefetch(void *ctx, const void *data, size_t size)
{
	struct seen *s = ctx;

	(void)data;
	(void)size;
	s->prefetched++;
}

static struct rb_reader *reader_for(struct fake *f, int n, struct seen *s)
{
	struct rb_mem m[4];

	for (int i = 0; i < n; i++)
		m[i] = (struct rb_mem){ .consumer_pos = &f[i].cons, .producer_pos = &f[i].prod,
					.data = f[i].data, .size = f[i].size };
	memset(s, 0, sizeof(*s));
	s->order_ok = 1;
	return rb_reader__new_mem(m, n, on_record, on_prefetch, s);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static void check_tags(const struct seen *s, const __u32 *want, int n, const char *what)
{
	CHECK_EQ_INT(s->n, n, what);
	for (int i = 0; i < n && i < s->n; i++)
		CHECK(s->tags[i] == want[i], "%s: record %d is %u, expected %u", what, i, s->tags[i],
		      want[i]);
}

static void free_fakes(struct fake *f, int n)
{
	for (int i = 0; i < n; i++)
		free(f[i].data);
}

static void test_two_rings_merge_in_time_order(void)
{
	struct fake f[2];
	struct seen s;
	struct rb_reader *r;
	const __u32 want[] = { 1, 2, 3, 4, 5, 6 };

	fake_init(&f[0], 4096);
	fake_init(&f[1], 4096);
	put(&f[0], 10, 1, 0);
	put(&f[0], 30, 3, 0);
	put(&f[0], 31, 4, 0);
	put(&f[0], 60, 6, 0);
	put(&f[1], 20, 2, 0);
	put(&f[1], 50, 5, 0);
	r = reader_for(f, 2, &s);
	CHECK_EQ_INT(rb_reader__consume(r), 6, "records handed over");
	check_tags(&s, want, 6, "merged order");
	CHECK(s.order_ok, "every record was prefetched before it was processed");
	CHECK_EQ_INT(f[0].cons, f[0].prod, "ring 0 consumer position published");
	CHECK_EQ_INT(f[1].cons, f[1].prod, "ring 1 consumer position published");
	CHECK_EQ_INT(rb_reader__consume(r), 0, "nothing left");
	rb_reader__free(r);
	free_fakes(f, 2);
}

/* A record still being written holds back the other ring's later records, not earlier ones. */
static void test_busy_record_holds_back_later_ones(void)
{
	struct fake f[2];
	struct seen s;
	struct rb_reader *r;
	__u64 busy;
	const __u32 first[] = { 1 }, all[] = { 1, 2, 3, 4 };

	fake_init(&f[0], 4096);
	fake_init(&f[1], 4096);
	put(&f[0], 10, 1, 0);
	busy = put(&f[0], 0, 3, BPF_RINGBUF_BUSY_BIT);
	put(&f[1], 20, 2, 0);
	put(&f[1], 40, 4, 0);
	r = reader_for(f, 2, &s);
	CHECK_EQ_INT(rb_reader__consume(r), 1, "records before the busy one's predecessor");
	check_tags(&s, first, 1, "held back");
	commit(&f[0], busy, 30);
	CHECK_EQ_INT(rb_reader__consume(r), 3, "the rest once it is committed");
	check_tags(&s, all, 4, "order after the commit");
	rb_reader__free(r);
	free_fakes(f, 2);
}

/* A ring that is empty may still get records stamped up to now: later ones wait. */
static void test_records_after_now_wait(void)
{
	struct fake f[2];
	struct seen s;
	struct rb_reader *r;
	const __u32 want[] = { 1 };

	fake_init(&f[0], 4096);
	fake_init(&f[1], 4096);
	put(&f[0], 10, 1, 0);
	put(&f[0], now_ns() + 3600ull * 1000000000ull, 2, 0);
	r = reader_for(f, 2, &s);
	CHECK_EQ_INT(rb_reader__consume(r), 1, "only the record stamped before now");
	check_tags(&s, want, 1, "future record held");
	CHECK_EQ_INT(f[0].cons, 24, "consumer stops before the held record");
	rb_reader__free(r);
	free_fakes(f, 2);
}

static void test_discarded_records_are_skipped(void)
{
	struct fake f[1];
	struct seen s;
	struct rb_reader *r;
	const __u32 want[] = { 1, 3 };

	fake_init(&f[0], 4096);
	put(&f[0], 10, 1, 0);
	put(&f[0], 20, 2, BPF_RINGBUF_DISCARD_BIT);
	put(&f[0], 30, 3, 0);
	r = reader_for(f, 1, &s);
	CHECK_EQ_INT(rb_reader__consume(r), 2, "records handed over");
	check_tags(&s, want, 2, "discarded record skipped");
	CHECK_EQ_INT(rb_reader__fd(r), -1, "no fd for rings in memory");
	rb_reader__free(r);
	free_fakes(f, 1);
}

/* Small rings, many rounds: records wrap around the end and stay whole, in order. */
static void test_wraparound_many_rounds(void)
{
	struct fake f[3];
	struct seen s;
	struct rb_reader *r;
	__u64 ts = 1;
	__u32 tag = 0, expect = 0;
	int bad = 0;

	for (int i = 0; i < 3; i++)
		fake_init(&f[i], 128); /* 5 records of 24 bytes fit */
	r = reader_for(f, 3, &s);
	for (int round = 0; round < 200; round++) {
		int k = 1 + round % 5;

		for (int j = 0; j < k; j++)
			put(&f[(round + j) % 3], ts++, tag++, 0);
		s.n = 0;
		rb_reader__consume(r);
		for (int j = 0; j < s.n && j < 64; j++)
			bad += s.tags[j] != expect++;
		for (int i = 0; i < 3; i++)
			bad += f[i].cons != f[i].prod;
	}
	CHECK_EQ_INT(bad, 0, "records out of order or positions not published");
	CHECK_EQ_INT(expect, tag, "every record handed over");
	rb_reader__free(r);
	free_fakes(f, 3);
}

TEST_MAIN("ringbuf_reader", TL_CASE(test_two_rings_merge_in_time_order),
	  TL_CASE(test_busy_record_holds_back_later_ones), TL_CASE(test_records_after_now_wait),
	  TL_CASE(test_discarded_records_are_skipped), TL_CASE(test_wraparound_many_rounds))
