/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Zeroed slot arrays for the tables that grow by doubling (socket table, hash maps), and the
 * page faults that come with them, spread out.
 *
 * Why: a doubled array of a big table is tens of megabytes of fresh pages. Filled by random
 * hashing, it takes nearly all of its page faults within the first few hundred inserts, each
 * page twice (a read maps the shared zero page, the first write then copies it). Measured at
 * full churn: one growth of the socket table to 524k slots cost the event reader 40-57 ms of
 * CPU in a single ring-buffer drain, about a third of the ring's headroom. Instead, a table
 * asks for its next array early (bigarray__prepare()), writes one page or so of it per insert
 * or delete (bigarray__touch()), and grows into it once every page is in: one fault per page,
 * none of them in a burst.
 *
 * Arrays of BIGARRAY_MIN bytes or more come straight from mmap, not the heap: calloc() may
 * serve a big block from the heap and zero it, writing every page at once. Arrays of 2 MiB or
 * more ask for transparent huge pages: at full churn with 262k TIME_WAIT sockets tracked, that
 * cut the reader's CPU per connection by about a tenth (fewer TLB misses; in a VM each one is
 * a two-level page walk). A huge page then faults in on its first touch, 2 MiB at once.
 */
#ifndef TCPSTATE_BIGARRAY_H
#define TCPSTATE_BIGARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define BIGARRAY_MIN (64u << 10)

/*
 * When a table of `slots` slots prepares and grows, as fractions of its slots in use: past
 * prepare/den it prepares the doubled array; it grows into it once all of it is in, or past
 * grow/den at the latest.
 */
struct bigarray_policy {
	unsigned int den, prepare, grow;
};

/* An array on its way in: allocated, `touched` of its `bytes` faulted in so far. */
struct bigarray_next {
	void *p;
	size_t bytes, touched, step;
};

/* A zeroed array of `bytes`; NULL on ENOMEM. Free with bigarray__free() and the same size. */
void *bigarray__alloc(size_t bytes);
/* Accepts NULL. */
void bigarray__free(void *p, size_t bytes);

/*
 * Start bringing in an array of `bytes`, to be fully faulted in within `calls` calls of
 * bigarray__touch() (rounded so each call touches whole pages). Small arrays are ready at
 * once. 0, or -ENOMEM (nothing started).
 */
int bigarray__prepare(struct bigarray_next *n, size_t bytes, size_t calls);
/* Fault in the next step of pages; true once the whole array is in. */
bool bigarray__touch(struct bigarray_next *n);
/* The prepared array, every page faulted in now if not already; n is reset. */
void *bigarray__take(struct bigarray_next *n);
/* Free a prepared array not taken. Accepts an empty n. */
void bigarray__drop(struct bigarray_next *n);

/*
 * The growth step of a table of `slots` slots of `slot_bytes` each, called on each insert with
 * the count the insert will make: prepares the doubled array in n when due (faulted in within
 * half the inserts left before policy->grow), touches its next step. 1 when the table should
 * grow now into bigarray__take(n), 0 when not yet, -ENOMEM when it must grow and no array
 * could be had.
 */
int bigarray__grow_step(struct bigarray_next *n, const struct bigarray_policy *policy,
			__u64 slots, size_t slot_bytes, __u64 count);

#endif /* TCPSTATE_BIGARRAY_H */
