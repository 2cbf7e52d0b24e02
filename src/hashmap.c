// SPDX-License-Identifier: GPL-2.0-only
/* Generic inline-storage hash map, see include/hashmap.h. */
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

#define MIN_SLOTS 64u
#define MOVE_PER_OP 32u	/* old slots moved to the new array per insert or delete */
#define SLOT_USED 1u	/* slot_head.used of a slot holding an entry (0: empty) */
#define SLOT_MOVED 2u	/* slot_head.used of an old slot whose entry moved or was deleted */
/*
 * Past 6/8 of the slots in use the doubled array is prepared (see include/bigarray.h); the map
 * grows into it once it is faulted in, or at 7/8 at the latest.
 */
static const struct bigarray_policy GROWTH = { .den = 8, .prepare = 6, .grow = 7 };

/*
 * Slot layout: [u32 hash][u32 used][key][value], each slot `stride` bytes. The stored hash
 * rejects most mismatches without comparing keys and gives each entry's distance from home for
 * Robin Hood probing (misses stop early) and backward-shift deletion. While the map grows
 * (see move_some()), old slots whose entry has left are marked SLOT_MOVED rather than emptied,
 * so nothing else in the old array moves and probes go on past them.
 */
struct slot_head {
	__u32 hash;
	__u32 used;
};

/* Insertions, deletions and moves may shift slots: the memo must not point at them. */
static inline void memo_forget(struct hashmap *m)
{
	m->memo[0] = m->memo[1] = NULL;
}

static __u32 hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	__u64 h = 0x9E3779B97F4A7C15ull ^ n;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__u64 w;

		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (i + 4 <= n) {
		__u32 w;

		memcpy(&w, b + i, 4);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		i += 4;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (__u32)h;
}

static inline size_t array_bytes(const struct hashmap *m, __u32 mask)
{
	return ((size_t)mask + 1) * m->stride;
}

static inline unsigned char *slot(const struct hashmap *m, __u32 i)
{
	return m->slots + (size_t)i * m->stride;
}

static inline struct slot_head *head(const struct hashmap *m, __u32 i)
{
	return (struct slot_head *)slot(m, i);
}

static inline __u32 distance(const struct hashmap *m, __u32 i)
{
	return (i - head(m, i)->hash) & m->mask;
}

struct hashmap *hashmap__new(size_t key_size, size_t value_size, __u32 max_entries)
{
	struct hashmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->key_size = key_size;
	m->value_size = value_size;
	m->key_off = sizeof(struct slot_head);
	m->value_off = (m->key_off + key_size + 7) & ~(size_t)7;
	m->stride = (m->value_off + value_size + 7) & ~(size_t)7;
	m->mask = MIN_SLOTS - 1;
	m->max_entries = max_entries;
	m->slots = bigarray__alloc(array_bytes(m, m->mask));
	m->scratch = malloc(m->stride * 2);
	if (!m->slots || !m->scratch) {
		hashmap__free(m);
		return NULL;
	}
	return m;
}

void hashmap__free(struct hashmap *m)
{
	if (!m)
		return;
	bigarray__free(m->slots, array_bytes(m, m->mask));
	bigarray__free(m->old, array_bytes(m, m->old_mask));
	bigarray__drop(&m->next);
	free(m->scratch);
	free(m);
}

/* Keys are small (4 to 40 bytes): compare in words, inline, rather than calling memcmp. */
static inline bool keys_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__u64 x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	for (; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* The slot holding key (hash h) in the slot array at base, or NULL. */
static unsigned char *find_in(const struct hashmap *m, unsigned char *base, __u32 mask,
			      const void *key, __u32 h)
{
	for (__u32 d = 0, i = h & mask;; d++, i = (i + 1) & mask) {
		unsigned char *x = base + (size_t)i * m->stride;
		struct slot_head *s = (struct slot_head *)x;

		if (!s->used)
			return NULL;
		if (s->used == SLOT_MOVED)
			continue;
		if (((i - s->hash) & mask) < d)
			return NULL;
		if (s->hash == h && keys_equal(x + m->key_off, key, m->key_size))
			return x;
	}
}

static unsigned char *find(const struct hashmap *m, const void *key, __u32 h)
{
	unsigned char *x = find_in(m, m->slots, m->mask, key, h);

	return x || !m->old ? x : find_in(m, m->old, m->old_mask, key, h);
}

/* find() with the memo; the memo is a cache, so const lookups may update it. */
static unsigned char *find_memo(const struct hashmap *m, const void *key)
{
	struct hashmap *mm = (struct hashmap *)m;
	unsigned char *s;
	__u64 k = 0;
	bool small = hashmap__small_key(m, key, &k);

	if (small) {
		if (m->memo[0] && k == m->memo_key[0])
			return m->memo[0];
		if (m->memo[1] && k == m->memo_key[1]) {
			/* most recent first */
			s = m->memo[1];
			mm->memo[1] = m->memo[0];
			mm->memo_key[1] = m->memo_key[0];
			mm->memo[0] = s;
			mm->memo_key[0] = k;
			return s;
		}
	}
	s = find(m, key, hash_bytes(key, m->key_size));
	if (small && s) {
		mm->memo[1] = m->memo[0];
		mm->memo_key[1] = m->memo_key[0];
		mm->memo[0] = s;
		mm->memo_key[0] = k;
	}
	return s;
}

void *hashmap__lookup_slow(const struct hashmap *m, const void *key)
{
	unsigned char *s = find_memo(m, key);

	return s ? s + m->value_off : NULL;
}

/* Robin Hood placement of the slot image `x` (stride bytes); returns where x itself landed. */
static __u32 place(struct hashmap *m, unsigned char *x, unsigned char *tmp)
{
	struct slot_head *xh = (struct slot_head *)x;
	__u32 i = xh->hash & m->mask, d = 0, landed = (__u32)-1;

	for (;; d++, i = (i + 1) & m->mask) {
		__u32 ed;

		if (!head(m, i)->used) {
			memcpy(slot(m, i), x, m->stride);
			return landed == (__u32)-1 ? i : landed;
		}
		ed = distance(m, i);
		if (ed < d) {
			memcpy(tmp, slot(m, i), m->stride);
			memcpy(slot(m, i), x, m->stride);
			memcpy(x, tmp, m->stride);
			d = ed;
			if (landed == (__u32)-1)
				landed = i;
		}
	}
}

/* Move up to n slots' worth of the old array's entries into the current one. */
static void move_some(struct hashmap *m, __u32 n)
{
	__u32 old_n;

	if (!m->old)
		return;
	memo_forget(m);
	old_n = m->old_mask + 1;
	for (; n && m->moved_to < old_n; n--, m->moved_to++) {
		unsigned char *x = m->old + (size_t)m->moved_to * m->stride;

		/* Empty slots stay empty: probes of the old array still stop there. */
		if (((struct slot_head *)x)->used == SLOT_USED) {
			memcpy(m->scratch, x, m->stride);
			place(m, m->scratch, m->scratch + m->stride);
			((struct slot_head *)x)->used = SLOT_MOVED;
		}
	}
	if (m->moved_to == old_n) {
		bigarray__free(m->old, array_bytes(m, m->old_mask));
		m->old = NULL;
	}
}

/*
 * Start growing into the prepared array, twice the size (a growth still under way is finished
 * first).
 */
static void grow(struct hashmap *m)
{
	move_some(m, (__u32)-1);
	m->old = m->slots;
	m->old_mask = m->mask;
	m->moved_to = 0;
	m->slots = bigarray__take(&m->next);
	m->mask = m->mask * 2 + 1;
}

/* The growth step of an insert that makes `count` entries: 0, or -1 if the map is full. */
static int grow_step(struct hashmap *m, __u32 count)
{
	int r = bigarray__grow_step(&m->next, &GROWTH, (__u64)m->mask + 1, m->stride, count);

	if (r > 0)
		grow(m);
	return r < 0 ? -1 : 0;
}

void *hashmap__upsert_slow(struct hashmap *m, const void *key, bool *created)
{
	unsigned char *s = find_memo(m, key), *x = m->scratch;
	__u32 h, i;

	*created = false;
	if (s)
		return s + m->value_off;
	memo_forget(m);
	h = hash_bytes(key, m->key_size);
	move_some(m, MOVE_PER_OP);
	if (m->count >= m->max_entries || grow_step(m, m->count + 1)) {
		m->full++;
		return NULL;
	}
	/* Built in scratch, which move_some() above is done with. */
	memset(x, 0, m->stride);
	((struct slot_head *)x)->hash = h;
	((struct slot_head *)x)->used = SLOT_USED;
	memcpy(x + m->key_off, key, m->key_size);
	i = place(m, x, x + m->stride);
	m->count++;
	*created = true;
	return slot(m, i) + m->value_off;
}

void hashmap__delete(struct hashmap *m, const void *key)
{
	__u32 h = hash_bytes(key, m->key_size), hole, i;
	unsigned char *s = find_in(m, m->slots, m->mask, key, h);

	if (!s && m->old && (s = find_in(m, m->old, m->old_mask, key, h))) {
		/* Not moved yet: mark it, so the old array's other entries stay put. */
		memo_forget(m);
		((struct slot_head *)s)->used = SLOT_MOVED;
		m->count--;
		move_some(m, MOVE_PER_OP);
		bigarray__touch(&m->next);
		return;
	}
	if (!s)
		return;
	memo_forget(m);
	hole = (__u32)((s - m->slots) / m->stride);
	for (i = (hole + 1) & m->mask; head(m, i)->used && distance(m, i); i = (i + 1) & m->mask) {
		memcpy(slot(m, hole), slot(m, i), m->stride);
		hole = i;
	}
	memset(slot(m, hole), 0, m->stride);
	m->count--;
	move_some(m, MOVE_PER_OP);
	bigarray__touch(&m->next);
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
	__u32 n = m->mask + 1, total = n + (m->old ? m->old_mask + 1 : 0);

	/* The current array, then the entries of the old one not moved yet. */
	while (*iter < total) {
		__u32 i = (*iter)++;
		unsigned char *s = i < n ? slot(m, i) : m->old + (size_t)(i - n) * m->stride;

		if (((struct slot_head *)s)->used == SLOT_USED) {
			if (key)
				*key = s + m->key_off;
			return s + m->value_off;
		}
	}
	return NULL;
}
