/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A reader for a set of BPF ring buffer maps (one per CPU), mapped directly, that hands their
 * records over as one stream in time order.
 *
 * Why per CPU: with one shared ring every bpf_ringbuf_reserve() on every CPU takes the same
 * spinlock and writes the same producer position, and the cache lines bounce between CPUs on
 * each event. With a ring per CPU they stay local.
 *
 * Why merge: events about one socket, or about the two ends of a connection, happen on
 * different CPUs and user space must see them in the order they happened. Each record starts
 * with a __u64 CLOCK_MONOTONIC timestamp that the producer reads *after* reserving it, so a
 * ring that is empty when the reader looks (after reading the clock) can only get records
 * stamped later than that reading; a record still being written holds back everything stamped
 * after the last record of its ring. Records are handed over in timestamp order across rings
 * and in ring order within one.
 *
 * Why direct: libbpf's ring_buffer__consume() publishes the consumer position after every
 * record (a store to a line every producer reads). This reader publishes it about every 1/16
 * of a ring and hands records over in small batches, so the caller can prefetch what the next
 * records will touch before it processes them.
 */
#ifndef TCPSTATE_RINGBUF_READER_H
#define TCPSTATE_RINGBUF_READER_H

#include <stddef.h>
#include <linux/types.h>

/* Called for each record, in order. */
typedef void (*rb_record_fn)(void *ctx, void *data, size_t size);
/* Called for each record of a batch before any of them is processed; may be NULL. */
typedef void (*rb_prefetch_fn)(void *ctx, const void *data, size_t size);

struct rb_reader;

/*
 * Map the n ring buffers behind map_fds (each a BPF_MAP_TYPE_RINGBUF). NULL with errno set on
 * failure. The fds stay owned by the caller.
 */
struct rb_reader *rb_reader__new(const int *map_fds, int n, rb_record_fn on_record,
				 rb_prefetch_fn prefetch, void *ctx);
void rb_reader__free(struct rb_reader *r);

/*
 * For tests: rings in plain memory, laid out as the kernel maps them (a consumer and a producer
 * position, and the data area of `size` bytes mapped twice, i.e. 2 x size bytes, where a
 * record that wraps around must be written to both copies). rb_reader__fd() returns -1.
 */
struct rb_mem {
	__u64 *consumer_pos;
	__u64 *producer_pos;
	unsigned char *data;
	__u64 size;		/* power of two */
};

struct rb_reader *rb_reader__new_mem(const struct rb_mem *rings, int n, rb_record_fn on_record,
				     rb_prefetch_fn prefetch, void *ctx);
/* Readable (EPOLLIN) when the kernel wakes readers of any of the rings. */
int rb_reader__fd(const struct rb_reader *r);
/*
 * Hand over, in order, every record committed when the call started (and whatever arrives
 * meanwhile), without waiting for more than a few microseconds on a record still being
 * written. At most about one ring's worth of bytes per ring per call. Returns the number of
 * records handed over.
 */
int rb_reader__consume(struct rb_reader *r);
/*
 * The fullest any ring was found when a consume call started, as a fraction of its size (0 to
 * 1), since the reader was made: how close the reader came to losing events.
 */
double rb_reader__peak_fill(const struct rb_reader *r);

#endif
