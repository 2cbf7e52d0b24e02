// SPDX-License-Identifier: GPL-2.0-only
/* Direct reader of per-CPU BPF ring buffers, merged in time order; see include/ringbuf_reader.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ringbuf_reader.h"

#define BATCH 16		/* records prefetched together before they are processed */
#define BUSY_WAIT_NS 2000	/* how long to wait for a record a producer is still writing */
#define PREFETCH_AHEAD 2048	/* bytes ahead of a ring's head to start loading (~17 records) */

enum head { HEAD_NONE, HEAD_READY, HEAD_BUSY };

struct ring {
	int fd;
	bool mapped;
	__u64 mask, publish_every;
	__u64 *consumer_pos;	/* shared page, written by us */
	__u64 *producer_pos;	/* shared page, read only */
	unsigned char *data;	/* 2 x ring size: the data pages are mapped twice, so a record
				 * that wraps around the end is contiguous */
	/* during one consume call */
	__u64 cons, start, published, prod;
	unsigned char *head;	/* next record to hand over (HEAD_READY) */
	__u32 head_len;
	__u64 head_ts;
	__u64 last_ts;		/* timestamp of the last record handed over */
};

struct batch {
	void *rec[BATCH];
	__u32 size[BATCH];
	int n;
};

struct rb_reader {
	struct ring *rings;
	int n, epfd;
	size_t page;
	int *heap;		/* indexes of rings with a ready head, min-heap on head_ts */
	int heap_len;
	double peak_fill;	/* the fullest a ring was found at the start of a consume call */
	rb_record_fn on_record;
	rb_prefetch_fn prefetch;
	void *ctx;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int ring_map(struct ring *g, int fd, size_t page)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	void *p;

	g->fd = fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	g->mask = info.max_entries - 1;
	g->publish_every = info.max_entries / 16;
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	g->consumer_pos = p;
	p = mmap(NULL, page + 2 * (size_t)info.max_entries, PROT_READ, MAP_SHARED, fd, (off_t)page);
	if (p == MAP_FAILED)
		return -errno;
	g->producer_pos = p;
	g->data = (unsigned char *)p + page;
	g->mapped = true;
	return 0;
}

static void ring_unmap(struct ring *g, size_t page)
{
	if (!g->mapped)
		return;
	if (g->producer_pos)
		munmap(g->producer_pos, page + 2 * (g->mask + 1));
	if (g->consumer_pos)
		munmap(g->consumer_pos, page);
}

static struct rb_reader *reader_alloc(int n, rb_record_fn on_record, rb_prefetch_fn prefetch,
				      void *ctx)
{
	struct rb_reader *r;

	if (n <= 0) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->epfd = -1;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->on_record = on_record;
	r->prefetch = prefetch;
	r->ctx = ctx;
	r->rings = calloc((size_t)n, sizeof(*r->rings));
	r->heap = calloc((size_t)n, sizeof(*r->heap));
	if (!r->rings || !r->heap) {
		rb_reader__free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->n = n;
	return r;
}

struct rb_reader *rb_reader__new(const int *map_fds, int n, rb_record_fn on_record,
				 rb_prefetch_fn prefetch, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct rb_reader *r = reader_alloc(n, on_record, prefetch, ctx);
	int err = 0;

	if (!r)
		return NULL;
	for (int i = 0; i < n && !err; i++)
		err = ring_map(&r->rings[i], map_fds[i], r->page);
	if (err)
		goto fail;
	if (n > 1) {
		r->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (r->epfd < 0) {
			err = -errno;
			goto fail;
		}
		for (int i = 0; i < n; i++) {
			ev.data.u32 = (__u32)i;
			if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, map_fds[i], &ev)) {
				err = -errno;
				goto fail;
			}
		}
	}
	return r;
fail:
	rb_reader__free(r);
	errno = -err;
	return NULL;
}

struct rb_reader *rb_reader__new_mem(const struct rb_mem *rings, int n, rb_record_fn on_record,
				     rb_prefetch_fn prefetch, void *ctx)
{
	struct rb_reader *r = reader_alloc(n, on_record, prefetch, ctx);

	if (!r)
		return NULL;
	for (int i = 0; i < n; i++) {
		struct ring *g = &r->rings[i];

		g->fd = -1;
		g->mask = rings[i].size - 1;
		g->publish_every = rings[i].size / 16;
		g->consumer_pos = rings[i].consumer_pos;
		g->producer_pos = rings[i].producer_pos;
		g->data = rings[i].data;
	}
	return r;
}

void rb_reader__free(struct rb_reader *r)
{
	int saved = errno;

	if (!r)
		return;
	for (int i = 0; r->rings && i < r->n; i++)
		ring_unmap(&r->rings[i], r->page);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r->rings);
	free(r->heap);
	free(r);
	errno = saved;
}

double rb_reader__peak_fill(const struct rb_reader *r)
{
	return r->peak_fill;
}

int rb_reader__fd(const struct rb_reader *r)
{
	return r->n > 1 ? r->epfd : r->rings[0].fd;
}

/* A record's length word: the kernel sets BUSY while the record is reserved, DISCARD if dropped. */
static inline __u32 record_len(__u32 hdr)
{
	return hdr & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
}

static inline __u64 record_span(__u32 len)
{
	return ((__u64)len + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
}

/*
 * A producer reserved this record and is writing it: its program runs to the end in a few
 * hundred nanoseconds unless an interrupt gets in the way. Wait that long, not more.
 */
static __u32 wait_committed(const __u32 *hdr, __u32 h)
{
	__u64 deadline = 0;

	while (h & BPF_RINGBUF_BUSY_BIT) {
		__u64 now = now_ns();

		if (!deadline)
			deadline = now + BUSY_WAIT_NS;
		else if (now >= deadline)
			break;
		__builtin_ia32_pause();
		h = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
	}
	return h;
}

/* Find the ring's next record below the producer position seen, skipping discarded ones. */
static enum head ring_head(struct ring *g)
{
	while (g->cons < g->prod) {
		__u32 *hdr = (__u32 *)(g->data + (g->cons & g->mask));
		__u32 h = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

		if (h & BPF_RINGBUF_BUSY_BIT) {
			h = wait_committed(hdr, h);
			if (h & BPF_RINGBUF_BUSY_BIT)
				return HEAD_BUSY;
		}
		if (h & BPF_RINGBUF_DISCARD_BIT) {
			g->cons += record_span(record_len(h));
			continue;
		}
		/*
		 * Records were written on another CPU and each one's first read is a cache miss:
		 * start loading the ones a little further on (the data is mapped twice, so this
		 * stays inside the mapping without wrapping).
		 */
		__builtin_prefetch((unsigned char *)hdr + PREFETCH_AHEAD);
		__builtin_prefetch((unsigned char *)hdr + PREFETCH_AHEAD + 64);
		g->head = (unsigned char *)hdr + BPF_RINGBUF_HDR_SZ;
		g->head_len = record_len(h);
		g->head_ts = g->head_len >= sizeof(__u64) ? *(const __u64 *)g->head : 0;
		return HEAD_READY;
	}
	return HEAD_NONE;
}

/* The heap of ready rings, ordered by their head record's timestamp (ring index on ties). */
static bool heap_less(const struct rb_reader *r, int a, int b)
{
	const struct ring *x = &r->rings[a], *y = &r->rings[b];

	return x->head_ts < y->head_ts || (x->head_ts == y->head_ts && a < b);
}

static void heap_down(struct rb_reader *r, int i)
{
	for (;;) {
		int l = 2 * i + 1, m = i, tmp;

		if (l < r->heap_len && heap_less(r, r->heap[l], r->heap[m]))
			m = l;
		if (l + 1 < r->heap_len && heap_less(r, r->heap[l + 1], r->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		tmp = r->heap[i];
		r->heap[i] = r->heap[m];
		r->heap[m] = tmp;
		i = m;
	}
}

static void flush(struct rb_reader *r, struct batch *b)
{
	if (r->prefetch)
		for (int i = 0; i < b->n; i++)
			r->prefetch(r->ctx, b->rec[i], b->size[i]);
	for (int i = 0; i < b->n; i++)
		r->on_record(r->ctx, b->rec[i], b->size[i]);
	b->n = 0;
	/* The records are processed: their space can go back to the producers. */
	for (int i = 0; i < r->n; i++) {
		struct ring *g = &r->rings[i];

		if (g->cons - g->published >= g->publish_every) {
			__atomic_store_n(g->consumer_pos, g->cons, __ATOMIC_RELEASE);
			g->published = g->cons;
		}
	}
}

/*
 * One merge pass over what the producers had committed after `now`: hand over records in
 * timestamp order up to the limit set by rings that had nothing more (now) or a record still
 * being written (the last timestamp handed over from that ring). Sets *full when a ring used
 * up this call's budget.
 */
static int merge_pass(struct rb_reader *r, __u64 now, bool *full)
{
	struct batch b = { .n = 0 };
	__u64 limit = now;
	int total = 0;

	r->heap_len = 0;
	for (int i = 0; i < r->n; i++) {
		struct ring *g = &r->rings[i];

		g->prod = __atomic_load_n(g->producer_pos, __ATOMIC_ACQUIRE);
		switch (ring_head(g)) {
		case HEAD_READY:
			r->heap[r->heap_len++] = i;
			break;
		case HEAD_BUSY:
			if (g->last_ts < limit)
				limit = g->last_ts;
			break;
		case HEAD_NONE:
			break;
		}
	}
	for (int i = r->heap_len / 2 - 1; i >= 0; i--)
		heap_down(r, i);
	while (r->heap_len) {
		int top = r->heap[0];
		struct ring *g = &r->rings[top];

		if (g->head_ts > limit)
			break;
		b.rec[b.n] = g->head;
		b.size[b.n++] = g->head_len;
		g->last_ts = g->head_ts;
		g->cons += record_span(g->head_len);
		total++;
		if (g->cons - g->start > g->mask) {
			*full = true; /* a producer outruns us: let the caller's loop turn */
			break;
		}
		switch (ring_head(g)) {
		case HEAD_READY:
			break;
		case HEAD_BUSY:
			if (g->last_ts < limit)
				limit = g->last_ts;
			/* fall through */
		case HEAD_NONE:
			r->heap[0] = r->heap[--r->heap_len];
			break;
		}
		heap_down(r, 0);
		if (b.n == BATCH)
			flush(r, &b);
	}
	flush(r, &b);
	return total;
}

int rb_reader__consume(struct rb_reader *r)
{
	bool full = false;
	int total = 0, n;
	__u64 fill;

	for (int i = 0; i < r->n; i++) {
		struct ring *g = &r->rings[i];

		g->cons = __atomic_load_n(g->consumer_pos, __ATOMIC_ACQUIRE);
		g->start = g->published = g->cons;
		fill = __atomic_load_n(g->producer_pos, __ATOMIC_ACQUIRE) - g->cons;
		if (fill > (g->mask + 1) * r->peak_fill)
			r->peak_fill = (double)fill / (double)(g->mask + 1);
	}
	/*
	 * The clock is read before the producer positions: a record not seen yet was reserved
	 * after that, and stamped later than `now`. Passes repeat while they make progress.
	 */
	do {
		n = merge_pass(r, now_ns(), &full);
		total += n;
	} while (n && !full);
	for (int i = 0; i < r->n; i++) {
		struct ring *g = &r->rings[i];

		if (g->cons != g->published)
			__atomic_store_n(g->consumer_pos, g->cons, __ATOMIC_RELEASE);
	}
	return total;
}
