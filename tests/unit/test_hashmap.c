// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the generic hash map. */
#include <stdlib.h>

#include "hashmap.h"
#include "testlib.h"

struct key {
	__u32 a;
	__u16 b;
	__u16 pad;
};

static void test_model_churn(void)
{
	enum { N = 3000 };
	static int model[N];
	struct hashmap *m = hashmap__new(sizeof(struct key), sizeof(int), N);
	bool created;
	int wrong = 0, seen = 0;
	__u32 it = 0;
	const void *k;

	srand(11);
	for (int i = 0; i < 100000; i++) {
		struct key key = { .a = (__u32)(rand() % N), .b = 7 };

		if (rand() % 3) {
			int *v = hashmap__upsert(m, &key, &created);

			*v += 1;
			model[key.a] += 1;
		} else {
			hashmap__delete(m, &key);
			model[key.a] = 0;
		}
	}
	for (int a = 0; a < N; a++) {
		struct key key = { .a = (__u32)a, .b = 7 };
		int *v = hashmap__lookup(m, &key);

		wrong += (v ? *v : 0) != model[a];
	}
	CHECK_EQ_INT(wrong, 0, "values disagreeing with the model");
	while (hashmap__next(m, &it, &k))
		seen++;
	CHECK_EQ_INT(seen, hashmap__count(m), "iteration visits every entry once");
	hashmap__free(m);
}

/*
 * Lookups of 4- and 8-byte keys remember the last slot found. Inserts and deletes of other keys
 * move slots (Robin Hood shifts, growth, backward-shift deletion): a repeated lookup of the
 * same key after each of them must still find its own value, or nothing once it is deleted.
 */
static void test_memo_follows_moves(void)
{
	enum { N = 2000 };
	static int model[N];
	struct hashmap *m = hashmap__new(sizeof(__u32), sizeof(int), N);
	__u32 hot = 5;
	bool created;
	int wrong = 0;

	srand(29);
	for (int i = 0; i < 50000; i++) {
		__u32 key = (__u32)(rand() % N);
		int *v;

		if (i % 1000 == 0)
			hot = key;
		if (rand() % 4) {
			v = hashmap__upsert(m, &key, &created);
			*v = ++model[key];
		} else {
			hashmap__delete(m, &key);
			model[key] = 0;
		}
		for (int r = 0; r < 2; r++) { /* the second lookup is answered by the memo */
			v = hashmap__lookup(m, &hot);
			wrong += (v ? *v : 0) != model[hot];
		}
	}
	CHECK_EQ_INT(wrong, 0, "repeated lookups disagreeing with the model");
	hashmap__free(m);
}

/*
 * Growth moves entries a few at a time: while both slot arrays are in use, lookups (memo
 * included), updates and deletes of entries not moved yet must agree with a model, and a walk
 * with hashmap__next() must return each live entry exactly once.
 */
static void test_growth_in_steps(void)
{
	enum { N = 100000 };
	struct hashmap *m = hashmap__new(sizeof(__u64), sizeof(__u64), N);
	bool *gone = calloc(N + 1, sizeof(*gone)), created;
	__u32 wrong = 0, walked = 0, live = 0, iter = 0, walk_wrong = 0, walks = 0;
	const __u64 *key;
	__u64 *v;

	for (__u64 k = 1; k <= N; k++) {
		__u64 older = (k + 1) / 2;

		v = hashmap__upsert(m, &k, &created);
		if (!v || !created) {
			wrong++;
			continue;
		}
		*v = k * 7;
		if (k % 3 == 0) {
			__u64 d = k / 2;

			hashmap__delete(m, &d);
			gone[d] = true;
		}
		v = hashmap__lookup(m, &older);
		if ((v != NULL) == gone[older] || (v && *v != older * 7))
			wrong++;
		/* one walk in the middle of a growth, once the map is big enough to take a while */
		if (!walks && m->old && m->moved_to > 1000) {
			__u32 seen = 0;

			walks++;

			while ((v = hashmap__next(m, &iter, (const void **)&key))) {
				seen++;
				walk_wrong += *v != *key * 7 || gone[*key];
			}
			walk_wrong += seen != hashmap__count(m);
		}
	}
	CHECK_EQ_INT(wrong, 0, "entries lost or corrupted while the map grew");
	CHECK_EQ_INT(walks, 1, "a walk happened while the map was growing");
	CHECK_EQ_INT(walk_wrong, 0, "a walk during growth returns each live entry once");
	for (__u64 k = 1; k <= N; k++) {
		v = hashmap__lookup(m, &k);
		if ((v != NULL) == gone[k] || (v && *v != k * 7))
			wrong++;
		live += !gone[k];
	}
	CHECK_EQ_INT(wrong, 0, "lookups after growth disagree with inserts and deletes");
	CHECK_EQ_INT(hashmap__count(m), live, "count after growth");
	iter = 0;
	while (hashmap__next(m, &iter, NULL))
		walked++;
	CHECK_EQ_INT(walked, live, "a walk after growth returns each live entry once");
	free(gone);
	hashmap__free(m);
}

static void test_limit(void)
{
	struct hashmap *m = hashmap__new(sizeof(int), sizeof(int), 2);
	bool created;

	for (int i = 0; i < 4; i++)
		hashmap__upsert(m, &i, &created);
	CHECK_EQ_INT(hashmap__count(m), 2, "count at limit");
	CHECK_EQ_INT(hashmap__full(m), 2, "refused inserts counted");
	hashmap__free(m);
}

TEST_MAIN("hashmap", TL_CASE(test_model_churn), TL_CASE(test_memo_follows_moves),
	  TL_CASE(test_limit), TL_CASE(test_growth_in_steps))
