/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small generic hash map with fixed-size keys and values stored inline (open addressing,
 * linear probing, backward-shift deletion). It grows by doubling without a long call: the new
 * slot array is faulted in a page per insert or delete first (include/bigarray.h), then entries
 * move to it a few per insert and delete. Used for the aggregation tables: processes,
 * namespaces, listener ports, TIME_WAIT remotes. Keys are compared bytewise, so callers zero
 * any padding in key structs.
 *
 * Value pointers stay valid only until the next insert or delete.
 */
#ifndef TCPSTATE_HASHMAP_H
#define TCPSTATE_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>

#include "bigarray.h"

/*
 * Private: only hashmap.c and the inline fast paths below read it. The fast paths answer a
 * lookup that repeats the last key without a call; events come in runs for one namespace and
 * one process, so most lookups on the per-event path are such repeats.
 */
struct hashmap {
	unsigned char *slots;
	size_t key_size, value_size, key_off, value_off, stride;
	__u32 mask, count, max_entries;
	__u64 full;
	/*
	 * The slots of the last two keys found, for keys of up to 8 bytes: events come in runs
	 * for the same namespace and the two ends of a connection (client and server process),
	 * so most lookups repeat one of the last two. Any insertion or deletion may move slots,
	 * so both forget them.
	 */
	unsigned char *memo[2];
	__u64 memo_key[2];
	/* While growing: the previous slot array, how far its entries have moved. */
	unsigned char *old;
	__u32 old_mask, moved_to;
	unsigned char *scratch; /* two slots: an entry being placed, and the one it displaces */
	/* Before growing: the next slot array, being faulted in. */
	struct bigarray_next next;
};

/* Create a map holding at most max_entries. NULL on ENOMEM. */
struct hashmap *hashmap__new(size_t key_size, size_t value_size, __u32 max_entries);
/* Accepts NULL. */
void hashmap__free(struct hashmap *m);
/* The whole lookup and upsert behind the inline ones below (which try the memo first). */
void *hashmap__lookup_slow(const struct hashmap *m, const void *key);
void *hashmap__upsert_slow(struct hashmap *m, const void *key, bool *created);

/*
 * Keys of 4 or 8 bytes as one number, for the memo; false for other sizes. Fixed-size copies,
 * one load each (a variable-size memcpy here stalled every lookup). Inlined where a caller
 * passes a 4-byte key, the compiler sees the 8-byte branch read past it and cannot tell that
 * key_size rules that branch out: hence the pragma.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
static inline bool hashmap__small_key(const struct hashmap *m, const void *key, __u64 *k)
{
	__u32 k32;

	switch (m->key_size) {
	case 4:
		memcpy(&k32, key, 4);
		*k = k32;
		return true;
	case 8:
		memcpy(k, key, 8);
		return true;
	}
	return false;
}
#pragma GCC diagnostic pop

/* The value of the most recently found key if it is `key`, else NULL. */
static inline void *hashmap__memo_hit(const struct hashmap *m, const void *key)
{
	__u64 k;

	if (!hashmap__small_key(m, key, &k))
		return NULL;
	return m->memo[0] && k == m->memo_key[0] ? m->memo[0] + m->value_off : NULL;
}

/* The value stored under key, or NULL. */
static inline void *hashmap__lookup(const struct hashmap *m, const void *key)
{
	void *v = hashmap__memo_hit(m, key);

	return v ? v : hashmap__lookup_slow(m, key);
}

/* The value under key, inserting a zeroed one (*created = true) if absent; NULL when full. */
static inline void *hashmap__upsert(struct hashmap *m, const void *key, bool *created)
{
	void *v = hashmap__memo_hit(m, key);

	if (v) {
		*created = false;
		return v;
	}
	return hashmap__upsert_slow(m, key, created);
}
/* Remove key if present. */
void hashmap__delete(struct hashmap *m, const void *key);
__u32 hashmap__count(const struct hashmap *m);
/* Inserts refused because the map was full. */
__u64 hashmap__full(const struct hashmap *m);
/*
 * Iterate: pass *iter = 0 first; returns the next value (and its key via *key when non-NULL)
 * or NULL at the end. Do not insert or delete while iterating.
 */
void *hashmap__next(const struct hashmap *m, __u32 *iter, const void **key);

#endif
