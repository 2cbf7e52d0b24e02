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
	/* Fibonacci hashing: cookies are sequential, spread them. */
	return (__u32)((cookie * 0x9E3779B97F4A7C15ull) >> 32) & t->mask;
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

struct sock_entry *sock_table__lookup(const struct sock_table *t, __u64 cookie)
{
	for (__u32 i = slot_of(t, cookie);; i = (i + 1) & t->mask) {
		struct sock_entry *e = &t->slots[i];

		if (e->cookie == cookie)
			return e;
		if (!e->cookie)
			return NULL;
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
	for (__u32 i = 0; i < old_n; i++) {
		__u32 j;

		if (!old[i].cookie)
			continue;
		for (j = slot_of(t, old[i].cookie); slots[j].cookie; j = (j + 1) & t->mask)
			;
		slots[j] = old[i];
	}
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
	for (i = slot_of(t, cookie); t->slots[i].cookie; i = (i + 1) & t->mask)
		;
	e = &t->slots[i];
	memset(e, 0, sizeof(*e));
	e->cookie = cookie;
	t->count++;
	*created = true;
	return e;
}

void sock_table__delete(struct sock_table *t, __u64 cookie)
{
	struct sock_entry *e = sock_table__lookup(t, cookie);
	__u32 hole, i;

	if (!e)
		return;
	hole = (__u32)(e - t->slots);
	/* Backward shift: move later members of the probe run into the hole. */
	for (i = (hole + 1) & t->mask; t->slots[i].cookie; i = (i + 1) & t->mask) {
		__u32 home = slot_of(t, t->slots[i].cookie);

		/* Entry at i may move to hole if its home is not in (hole, i]. */
		if (((i - home) & t->mask) >= ((i - hole) & t->mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
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
