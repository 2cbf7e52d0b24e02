// SPDX-License-Identifier: GPL-2.0-only
/* Generic inline-storage hash map, see include/hashmap.h. */
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

#define MIN_SLOTS 64u

/* Slot layout: [used byte][pad to 8][key][value], each slot `stride` bytes. */
struct hashmap {
	unsigned char *slots;
	size_t key_size, value_size, key_off, value_off, stride;
	__u32 mask, count, max_entries;
	__u64 full;
};

static __u64 hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	__u64 h = 1469598103934665603ull; /* FNV-1a, then a final mix */

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static inline unsigned char *slot(const struct hashmap *m, __u32 i)
{
	return m->slots + (size_t)i * m->stride;
}

static inline __u32 home_of(const struct hashmap *m, const void *key)
{
	return (__u32)hash_bytes(key, m->key_size) & m->mask;
}

struct hashmap *hashmap__new(size_t key_size, size_t value_size, __u32 max_entries)
{
	struct hashmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->key_size = key_size;
	m->value_size = value_size;
	m->key_off = 8;
	m->value_off = (8 + key_size + 7) & ~(size_t)7;
	m->stride = (m->value_off + value_size + 7) & ~(size_t)7;
	m->mask = MIN_SLOTS - 1;
	m->max_entries = max_entries;
	m->slots = calloc(MIN_SLOTS, m->stride);
	if (!m->slots) {
		free(m);
		return NULL;
	}
	return m;
}

void hashmap__free(struct hashmap *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

static unsigned char *find(const struct hashmap *m, const void *key)
{
	for (__u32 i = home_of(m, key);; i = (i + 1) & m->mask) {
		unsigned char *s = slot(m, i);

		if (!s[0])
			return NULL;
		if (!memcmp(s + m->key_off, key, m->key_size))
			return s;
	}
}

void *hashmap__lookup(const struct hashmap *m, const void *key)
{
	unsigned char *s = find(m, key);

	return s ? s + m->value_off : NULL;
}

static int grow(struct hashmap *m)
{
	__u32 old_n = m->mask + 1;
	unsigned char *old = m->slots;
	unsigned char *slots = calloc((size_t)old_n * 2, m->stride);

	if (!slots)
		return -1;
	m->slots = slots;
	m->mask = old_n * 2 - 1;
	for (__u32 i = 0; i < old_n; i++) {
		unsigned char *s = old + (size_t)i * m->stride;
		__u32 j;

		if (!s[0])
			continue;
		for (j = home_of(m, s + m->key_off); slot(m, j)[0]; j = (j + 1) & m->mask)
			;
		memcpy(slot(m, j), s, m->stride);
	}
	free(old);
	return 0;
}

void *hashmap__upsert(struct hashmap *m, const void *key, bool *created)
{
	unsigned char *s = find(m, key);
	__u32 i;

	*created = false;
	if (s)
		return s + m->value_off;
	if (m->count >= m->max_entries || ((m->count + 1) * 4 > (m->mask + 1) * 3 && grow(m))) {
		m->full++;
		return NULL;
	}
	for (i = home_of(m, key); slot(m, i)[0]; i = (i + 1) & m->mask)
		;
	s = slot(m, i);
	memset(s, 0, m->stride);
	s[0] = 1;
	memcpy(s + m->key_off, key, m->key_size);
	m->count++;
	*created = true;
	return s + m->value_off;
}

void hashmap__delete(struct hashmap *m, const void *key)
{
	unsigned char *s = find(m, key);
	__u32 hole, i;

	if (!s)
		return;
	hole = (__u32)((s - m->slots) / m->stride);
	for (i = (hole + 1) & m->mask; slot(m, i)[0]; i = (i + 1) & m->mask) {
		__u32 home = home_of(m, slot(m, i) + m->key_off);

		if (((i - home) & m->mask) >= ((i - hole) & m->mask)) {
			memcpy(slot(m, hole), slot(m, i), m->stride);
			hole = i;
		}
	}
	memset(slot(m, hole), 0, m->stride);
	m->count--;
}

__u32 hashmap__count(const struct hashmap *m)
{
	return m->count;
}

__u64 hashmap__full(const struct hashmap *m)
{
	return m->full;
}

void *hashmap__next(const struct hashmap *m, __u32 *iter, const void **key)
{
	while (*iter <= m->mask) {
		unsigned char *s = slot(m, (*iter)++);

		if (s[0]) {
			if (key)
				*key = s + m->key_off;
			return s + m->value_off;
		}
	}
	return NULL;
}
