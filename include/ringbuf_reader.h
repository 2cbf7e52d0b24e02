/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A reader for one BPF ring buffer map, mapped directly. libbpf's ring_buffer__consume()
 * publishes the consumer position after every record; each of those stores pulls the cache
 * line that every producing CPU reads in bpf_ringbuf_reserve() away from it, once per event.
 * This reader hands records over in small batches (so the caller can prefetch what the next
 * records will touch before it processes them) and publishes its position once per batch
 * group, about every 1/16 of the ring.
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

/* Map the ring buffer behind map_fd. NULL with errno set on failure. */
struct rb_reader *rb_reader__new(int map_fd, rb_record_fn on_record, rb_prefetch_fn prefetch,
				 void *ctx);
void rb_reader__free(struct rb_reader *r);
/* The map's fd: readable (EPOLLIN) when the kernel wakes readers. */
int rb_reader__fd(const struct rb_reader *r);
/*
 * Process every committed record without waiting, up to one ring's worth of bytes per call.
 * Returns the number of records handed over.
 */
int rb_reader__consume(struct rb_reader *r);

#endif
