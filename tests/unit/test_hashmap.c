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

TEST_MAIN("hashmap", TL_CASE(test_model_churn), TL_CASE(test_limit))
