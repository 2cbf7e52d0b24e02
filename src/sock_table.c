// SPDX-License-Identifier: GPL-2.0-only
/* The socket table: open addressing keyed by cookie, see include/sock_table.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sock_table.h"

#define MIN_SLOTS 1024u
#define MAX_LOAD_NUM 4 /* grow when count > slots * 4 / 5 */
#define MAX_LOAD_DEN 5

struct sock_table {
	struct sock_entry *slots;
	__u32 mask;	/* number of slots - 1 (a power of two) */
	__u32 count;
	__u32 max_entries;
	__u64 full;
};

static inline __u32 slot_of(const struct sock_table *t, __u64 cookie)
{
	/* Cookies are sequential: a full-avalanche mix (murmur3's finaliser) spreads them. */
	cookie ^= cookie >> 33;
	cookie *= 0xff51afd7ed558ccdull;
	cookie ^= cookie >> 33;
	return (__u32)cookie & t->mask;
}

/* How far the entry in slot i sits from its home slot. */
static inline __u32 distance(const struct sock_table *t, __u32 i)
{
	return (i - slot_of(t, t->slots[i].cookie)) & t->mask;
}

struct sock_table *sock_table__new(__u32 max_entries)
{
	struct sock_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->slots = calloc(MIN_SLOTS, sizeof(*t->slots));
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
	free(t->slots);
	free(t);
}

/*
 * Robin Hood probing: entries are kept ordered by distance from home along a probe run, so a
 * lookup for an absent cookie stops as soon as it meets an entry closer to its home than the
 * probe is: a few slots even at the 0.8 load the table runs at.
 */
struct sock_entry *sock_table__lookup(const struct sock_table *t, __u64 cookie)
{
	for (__u32 d = 0, i = slot_of(t, cookie);; d++, i = (i + 1) & t->mask) {
		struct sock_entry *e = &t->slots[i];

		if (e->cookie == cookie)
			return e;
		if (!e->cookie || distance(t, i) < d)
			return NULL;
	}
}

void sock_table__prefetch(const struct sock_table *t, __u64 cookie)
{
	__builtin_prefetch(&t->slots[slot_of(t, cookie)]);
}

/* Place entry x (not in the table) by Robin Hood rules; returns the slot it landed in. */
static __u32 place(struct sock_table *t, struct sock_entry x)
{
	__u32 i = slot_of(t, x.cookie), d = 0, landed = (__u32)-1;

	for (;; d++, i = (i + 1) & t->mask) {
		struct sock_entry *e = &t->slots[i];
		__u32 ed;

		if (!e->cookie) {
			*e = x;
			return landed == (__u32)-1 ? i : landed;
		}
		ed = distance(t, i);
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

static int table_grow(struct sock_table *t)
{
	__u32 old_n = t->mask + 1, new_n = old_n * 2;
	struct sock_entry *old = t->slots;
	struct sock_entry *slots = calloc(new_n, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	t->slots = slots;
	t->mask = new_n - 1;
	for (__u32 i = 0; i < old_n; i++)
		if (old[i].cookie)
			place(t, old[i]);
	free(old);
	return 0;
}

struct sock_entry *sock_table__upsert(struct sock_table *t, __u64 cookie, bool *created)
{
	struct sock_entry *e = sock_table__lookup(t, cookie);
	__u32 i;

	*created = false;
	if (e)
		return e;
	if (t->count >= t->max_entries) {
		t->full++;
		return NULL;
	}
	if ((__u64)(t->count + 1) * MAX_LOAD_DEN > (__u64)(t->mask + 1) * MAX_LOAD_NUM &&
	    table_grow(t)) {
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
	struct sock_entry *e = sock_table__lookup(t, cookie);
	__u32 hole, i;

	if (!e)
		return;
	hole = (__u32)(e - t->slots);
	/* Backward shift: pull the rest of the run one slot back until an entry is at home. */
	for (i = (hole + 1) & t->mask; t->slots[i].cookie && distance(t, i);
	     i = (i + 1) & t->mask) {
		t->slots[hole] = t->slots[i];
		hole = i;
	}
	memset(&t->slots[hole], 0, sizeof(t->slots[hole]));
	t->count--;
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
	return (size_t)(t->mask + 1) * sizeof(struct sock_entry);
}

__u32 sock_table__slots(const struct sock_table *t)
{
	return t->mask + 1;
}

struct sock_entry *sock_table__slot(const struct sock_table *t, __u32 i)
{
	return &t->slots[i];
}
