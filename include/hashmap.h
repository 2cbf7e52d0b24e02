/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small generic hash map with fixed-size keys and values stored inline (open addressing,
 * linear probing, backward-shift deletion). Used for the aggregation tables: processes,
 * namespaces, listener ports, TIME_WAIT remotes. Keys are compared bytewise, so callers zero
 * any padding in key structs.
 *
 * Value pointers stay valid only until the next insert or delete.
 */
#ifndef TCPSTATE_HASHMAP_H
#define TCPSTATE_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct hashmap;

/* Create a map holding at most max_entries. NULL on ENOMEM. */
struct hashmap *hashmap__new(size_t key_size, size_t value_size, __u32 max_entries);
/* Accepts NULL. */
void hashmap__free(struct hashmap *m);
/* The value stored under key, or NULL. */
void *hashmap__lookup(const struct hashmap *m, const void *key);
/* The value under key, inserting a zeroed one (*created = true) if absent; NULL when full. */
void *hashmap__upsert(struct hashmap *m, const void *key, bool *created);
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
