// SPDX-License-Identifier: GPL-2.0-only
/* The socket table: open addressing keyed by cookie, see include/sock_table.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bigarray.h"
#include "sock_table.h"

#define MIN_SLOTS 1024u
/*
 * Past 8/10 of the slots in use the doubled array is prepared (see include/bigarray.h); the
 * table grows into it once it is faulted in, or at 9/10 at the latest.
 */
static const struct bigarray_policy GROWTH = { .den = 10, .prepare = 8, .grow = 9 };
/*
 * Growing moves the entries into the bigger array a few at a time, on each insert and delete,
 * rather than all at once: rehashing 200k entries takes ~40 ms, long enough for the ring
 * buffers to fill at full churn while the reader is stuck here. Old slots whose entry moved (or
 * was deleted) hold MOVED, so nothing else in the old array moves and its lookups stay right.
 */
#define MOVE_PER_OP 32u
#define MOVED (~0ull) /* never a cookie: cookies count up from 1; kernel pointers are aligned */

struct sock_table {
	struct sock_entry *slots;
	__u32 mask;	/* number of slots - 1 (a power of two) */
	__u32 count;	/* entries in both arrays */
	__u32 max_entries;
	__u64 full;
	/* while growing: the previous array, and how far its entries have moved */
	struct sock_entry *old;
	__u32 old_mask, moved_to;
	/* before growing: the next array, being faulted in */
	struct bigarray_next next;
};

static inline size_t array_bytes(__u32 mask)
{
	return ((size_t)mask + 1) * sizeof(struct sock_entry);
}

static inline __u32 home(__u64 cookie, __u32 mask)
{
	/* Cookies are sequential: a full-avalanche mix (murmur3's finaliser) spreads them. */
	cookie ^= cookie >> 33;
	cookie *= 0xff51afd7ed558ccdull;
	cookie ^= cookie >> 33;
	return (__u32)cookie & mask;
}

/*
 * Robin Hood probing: entries are kept ordered by distance from home along a probe run, so a
 * lookup for an absent cookie stops as soon as it meets an entry closer to its home than the
 * probe is: a few slots even at the 0.9 load the table may reach. MOVED slots (old array only)
 * stand in for entries of unknown distance: the probe goes on past them.
 */
static inline struct sock_entry *probe(struct sock_entry *slots, __u32 mask, __u64 cookie)
{
	for (__u32 d = 0, i = home(cookie, mask);; d++, i = (i + 1) & mask) {
		struct sock_entry *e = &slots[i];

		if (e->cookie == cookie)
			return e;
		if (!e->cookie)
			return NULL;
		if (e->cookie != MOVED && ((i - home(e->cookie, mask)) & mask) < d)
			return NULL;
	}
}

struct sock_table *sock_table__new(__u32 max_entries)
{
	struct sock_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->slots = bigarray__alloc(array_bytes(MIN_SLOTS - 1));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->mask = MIN_SLOTS - 1;
	t->max_entries = max_entries ? max_entries : 1;
	return t;
}

void sock_table__free(struct sock_table *t)
{
	if (!t)
		return;
	bigarray__free(t->slots, array_bytes(t->mask));
	bigarray__free(t->old, array_bytes(t->old_mask));
	bigarray__drop(&t->next);
	free(t);
}

/* The two values that mark free slots name no entry. */
static inline bool reserved(__u64 cookie)
{
	return !cookie || cookie == MOVED;
}

struct sock_entry *sock_table__lookup(const struct sock_table *t, __u64 cookie)
{
	struct sock_entry *e;

	if (reserved(cookie))
		return NULL;
	e = probe(t->slots, t->mask, cookie);
	return e || !t->old ? e : probe(t->old, t->old_mask, cookie);
}

void sock_table__prefetch(const struct sock_table *t, __u64 cookie)
{
	__builtin_prefetch(&t->slots[home(cookie, t->mask)]);
	if (t->old)
		__builtin_prefetch(&t->old[home(cookie, t->old_mask)]);
}

/* Place entry x (not in the table) by Robin Hood rules; returns the slot it landed in. */
static __u32 place(struct sock_table *t, struct sock_entry x)
{
	__u32 i = home(x.cookie, t->mask), d = 0, landed = (__u32)-1;

	for (;; d++, i = (i + 1) & t->mask) {
		struct sock_entry *e = &t->slots[i];
		__u32 ed;

		if (!e->cookie) {
			*e = x;
			return landed == (__u32)-1 ? i : landed;
		}
		ed = (i - home(e->cookie, t->mask)) & t->mask;
		if (ed < d) {
			struct sock_entry tmp = *e;

			*e = x;
			x = tmp;
			d = ed;
			if (landed == (__u32)-1)
				landed = i;
		}
	}
}

/* Move up to n slots' worth of the old array's entries into the current one. */
static void move_some(struct sock_table *t, __u32 n)
{
	__u32 old_n;

	if (!t->old)
		return;
	old_n = t->old_mask + 1;
	for (; n && t->moved_to < old_n; n--, t->moved_to++) {
		struct sock_entry *e = &t->old[t->moved_to];

		/* Empty slots stay empty: probes of the old array still stop there. */
		if (e->cookie && e->cookie != MOVED) {
			place(t, *e);
			e->cookie = MOVED;
		}
	}
	if (t->moved_to == old_n) {
		bigarray__free(t->old, array_bytes(t->old_mask));
		t->old = NULL;
	}
}

/*
 * Start growing into the prepared array, twice the size (a growth still under way is finished
 * first).
 */
static void table_grow(struct sock_table *t)
{
	move_some(t, (__u32)-1);
	t->old = t->slots;
	t->old_mask = t->mask;
	t->moved_to = 0;
	t->slots = bigarray__take(&t->next);
	t->mask = t->mask * 2 + 1;
}

/* The growth step of an insert that makes `count` entries: 0, or -ENOMEM if it cannot grow. */
static int grow_step(struct sock_table *t, __u32 count)
{
	int r = bigarray__grow_step(&t->next, &GROWTH, (__u64)t->mask + 1,
				    sizeof(struct sock_entry), count);

	if (r > 0)
		table_grow(t);
	return r < 0 ? r : 0;
}

struct sock_entry *sock_table__upsert(struct sock_table *t, __u64 cookie, bool *created)
{
	struct sock_entry *e;
	__u32 i;

	*created = false;
	if (reserved(cookie))
		return NULL;
	e = sock_table__lookup(t, cookie);
	if (e)
		return e;
	if (t->count >= t->max_entries) {
		t->full++;
		return NULL;
	}
	move_some(t, MOVE_PER_OP);
	if (grow_step(t, t->count + 1)) {
		t->full++;
		return NULL;
	}
	{
		struct sock_entry x = { .cookie = cookie };

		i = place(t, x);
	}
	t->count++;
	*created = true;
	return &t->slots[i];
}

void sock_table__delete(struct sock_table *t, __u64 cookie)
{
	struct sock_entry *e;
	__u32 hole, i;

	if (reserved(cookie))
		return;
	e = probe(t->slots, t->mask, cookie);
	if (!e && t->old && (e = probe(t->old, t->old_mask, cookie))) {
		/* Not yet moved: leave a MOVED mark, so the old array's other entries stay put. */
		memset(e, 0, sizeof(*e));
		e->cookie = MOVED;
		t->count--;
		move_some(t, MOVE_PER_OP);
		bigarray__touch(&t->next);
		return;
	}
	if (!e)
		return;
	hole = (__u32)(e - t->slots);
	/* Backward shift: pull the rest of the run one slot back until an entry is at home. */
	for (i = (hole + 1) & t->mask;
	     t->slots[i].cookie && ((i - home(t->slots[i].cookie, t->mask)) & t->mask);
	     i = (i + 1) & t->mask) {
		t->slots[hole] = t->slots[i];
		hole = i;
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
	t->count--;
	move_some(t, MOVE_PER_OP);
	bigarray__touch(&t->next);
}

__u32 sock_table__count(const struct sock_table *t)
{
	return t->count;
}

__u32 sock_table__capacity(const struct sock_table *t)
{
	return t->max_entries;
}

__u64 sock_table__full(const struct sock_table *t)
{
	return t->full;
}

size_t sock_table__memory(const struct sock_table *t)
{
	return array_bytes(t->mask) + (t->old ? array_bytes(t->old_mask) : 0) + t->next.touched;
}

__u32 sock_table__slots(struct sock_table *t)
{
	move_some(t, (__u32)-1); /* iterate one array */
	return t->mask + 1;
}

struct sock_entry *sock_table__slot(const struct sock_table *t, __u32 i)
{
	return &t->slots[i];
}
