// SPDX-License-Identifier: GPL-2.0-only
/* Direct, batched reader of a BPF ring buffer map, see include/ringbuf_reader.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ringbuf_reader.h"

#define BATCH 16 /* records whose memory is prefetched together before they are processed */

struct rb_reader {
	int map_fd;
	size_t page, mask, publish_every;
	__u64 *consumer_pos;	/* shared page, written by us */
	__u64 *producer_pos;	/* shared page, read only */
	unsigned char *data;	/* 2 x ring size: the data pages are mapped twice, so a record
				 * that wraps around the end is contiguous */
	rb_record_fn on_record;
	rb_prefetch_fn prefetch;
	void *ctx;
};

struct rb_reader *rb_reader__new(int map_fd, rb_record_fn on_record, rb_prefetch_fn prefetch,
				 void *ctx)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	struct rb_reader *r;
	void *p;

	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return NULL;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1))) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->map_fd = map_fd;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->mask = info.max_entries - 1;
	r->publish_every = info.max_entries / 16;
	r->on_record = on_record;
	r->prefetch = prefetch;
	r->ctx = ctx;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	r->consumer_pos = p;
	p = mmap(NULL, r->page + 2 * (size_t)info.max_entries, PROT_READ, MAP_SHARED, map_fd,
		 (off_t)r->page);
	if (p == MAP_FAILED)
		goto fail;
	r->producer_pos = p;
	r->data = (unsigned char *)p + r->page;
	return r;
fail:
	rb_reader__free(r);
	return NULL;
}

void rb_reader__free(struct rb_reader *r)
{
	int saved = errno;

	if (!r)
		return;
	if (r->producer_pos)
		munmap(r->producer_pos, r->page + 2 * (r->mask + 1));
	if (r->consumer_pos)
		munmap(r->consumer_pos, r->page);
	free(r);
	errno = saved;
}

int rb_reader__fd(const struct rb_reader *r)
{
	return r->map_fd;
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

int rb_reader__consume(struct rb_reader *r)
{
	__u64 cons = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
	__u64 start = cons, published = cons, prod = cons;
	void *rec[BATCH];
	__u32 size[BATCH];
	bool stalled = false;
	int total = 0, n;

	while (!stalled && cons - start <= r->mask) {
		if (cons == prod) {
			prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
			if (cons == prod)
				break;
		}
		/* Gather a batch of committed records; discarded ones are skipped over. */
		for (n = 0; n < BATCH && cons < prod;) {
			__u32 *hdr = (__u32 *)(r->data + (cons & r->mask));
			__u32 h = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

			if (h & BPF_RINGBUF_BUSY_BIT) {
				stalled = true; /* still being written: the next call takes it */
				break;
			}
			cons += record_span(record_len(h));
			if (h & BPF_RINGBUF_DISCARD_BIT)
				continue;
			rec[n] = (unsigned char *)hdr + BPF_RINGBUF_HDR_SZ;
			size[n++] = record_len(h);
		}
		if (r->prefetch)
			for (int i = 0; i < n; i++)
				r->prefetch(r->ctx, rec[i], size[i]);
		for (int i = 0; i < n; i++)
			r->on_record(r->ctx, rec[i], size[i]);
		total += n;
		if (cons - published >= r->publish_every) {
			__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
			published = cons;
		}
	}
	if (cons != published)
		__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
	return total;
}
