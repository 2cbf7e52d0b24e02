// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the socket table: insert, lookup, delete with backward shift, growth, limit. */
#include <stdlib.h>
#include <sys/resource.h>

#include "sock_table.h"
#include "testlib.h"

static void test_insert_lookup_delete(void)
{
	struct sock_table *t = sock_table__new(100000);
	bool created;
	int missing = 0;

	for (__u64 c = 1; c <= 50000; c++) {
		struct sock_entry *e = sock_table__upsert(t, c, &created);

		CHECK(e && created, "insert of cookie %llu failed", (unsigned long long)c);
		e->owner = (__u32)c;
	}
	CHECK_EQ_INT(sock_table__count(t), 50000, "count after inserts");
	/* delete every odd cookie, then check every even one is still found with its data */
	for (__u64 c = 1; c <= 50000; c += 2)
		sock_table__delete(t, c);
	CHECK_EQ_INT(sock_table__count(t), 25000, "count after deletes");
	for (__u64 c = 1; c <= 50000; c++) {
		struct sock_entry *e = sock_table__lookup(t, c);

		if ((c % 2 == 0) != (e != NULL) || (e && e->owner != c))
			missing++;
	}
	CHECK_EQ_INT(missing, 0, "entries wrong after backward-shift deletes");
	sock_table__free(t);
}

/*
 * Growth moves entries a few at a time: lookups, updates and deletes made while both arrays
 * are in use (including of entries not moved yet) must see one consistent table, and a walk
 * of the slots afterwards must find each live entry exactly once.
 */
static void test_growth_in_steps(void)
{
	enum { N = 200000 };
	struct sock_table *t = sock_table__new(1 << 20);
	bool *gone = calloc(N + 1, sizeof(*gone)), created;
	__u32 wrong = 0, seen = 0, live = 0;

	for (__u64 c = 1; c <= N; c++) {
		struct sock_entry *e = sock_table__upsert(t, c, &created);

		if (!e || !created) {
			wrong++;
			continue;
		}
		e->owner = (__u32)c;
		/* delete an older entry now and then: often one not moved yet */
		if (c % 3 == 0) {
			sock_table__delete(t, c / 2);
			gone[c / 2] = true;
		}
		/* one written before the last growth still reads back (or is gone) */
		e = sock_table__lookup(t, (c + 1) / 2);
		if ((e != NULL) == gone[(c + 1) / 2] || (e && e->owner != (c + 1) / 2))
			wrong++;
	}
	CHECK_EQ_INT(wrong, 0, "entries lost or corrupted while the table grew");
	for (__u64 c = 1; c <= N; c++) {
		struct sock_entry *e = sock_table__lookup(t, c);

		if ((e != NULL) == gone[c] || (e && e->owner != c))
			wrong++;
		live += !gone[c];
	}
	CHECK_EQ_INT(wrong, 0, "lookups after growth disagree with inserts and deletes");
	CHECK_EQ_INT(sock_table__count(t), live, "count after growth");
	for (__u32 i = 0, n = sock_table__slots(t); i < n; i++)
		if (sock_table__slot(t, i)->cookie)
			seen++;
	CHECK_EQ_INT(seen, live, "a walk of the slots finds each entry once");
	CHECK(sock_table__upsert(t, 0, &created) == NULL, "cookie 0 is reserved");
	CHECK(sock_table__upsert(t, ~0ull, &created) == NULL, "cookie ~0 is reserved");
	free(gone);
	sock_table__free(t);
}

static void test_upsert_existing(void)
{
	struct sock_table *t = sock_table__new(10);
	bool created;
	struct sock_entry *e = sock_table__upsert(t, 42, &created);

	e->state = 8;
	e = sock_table__upsert(t, 42, &created);
	CHECK(!created, "second upsert of the same cookie created a new entry");
	CHECK_EQ_INT(e->state, 8, "state kept across upsert");
	CHECK_EQ_INT(sock_table__count(t), 1, "count");
	sock_table__free(t);
}

static void test_full_is_counted(void)
{
	struct sock_table *t = sock_table__new(3);
	bool created;

	for (__u64 c = 1; c <= 5; c++)
		sock_table__upsert(t, c, &created);
	CHECK_EQ_INT(sock_table__count(t), 3, "count at the limit");
	CHECK_EQ_INT(sock_table__full(t), 2, "refused inserts counted");
	CHECK(sock_table__lookup(t, 4) == NULL, "cookie 4 must not be in a full table");
	sock_table__free(t);
}

static void test_random_churn(void)
{
	/* Random inserts/deletes checked against a plain array model. */
	enum { N = 4096 };
	static char present[N];
	struct sock_table *t = sock_table__new(N);
	bool created;
	int wrong = 0;

	srand(7);
	for (int i = 0; i < 200000; i++) {
		__u64 c = (__u64)(rand() % (N - 1)) + 1;

		if (rand() % 2) {
			sock_table__upsert(t, c, &created);
			present[c] = 1;
		} else {
			sock_table__delete(t, c);
			present[c] = 0;
		}
	}
	for (__u64 c = 1; c < N; c++)
		wrong += (sock_table__lookup(t, c) != NULL) != present[c];
	CHECK_EQ_INT(wrong, 0, "lookups disagreeing with the model");
	sock_table__free(t);
}

/*
 * No burst of page faults when the table grows: the doubled array is faulted in a page per
 * insert before entries land in it at random. Before that, an insert right after a growth took
 * up to 37 faults (the entries it moved landing on fresh pages, each page faulted twice), and
 * this test's 300k inserts took 28k faults in all.
 */
static void test_growth_faults_spread(void)
{
	enum { N = 300000 };
	struct sock_table *t = sock_table__new(1 << 20);
	long worst = 0, total = 0, before, f;
	struct rusage ru;
	bool created;

	getrusage(RUSAGE_SELF, &ru);
	before = ru.ru_minflt;
	for (__u64 c = 1; c <= N; c++) {
		sock_table__upsert(t, c, &created);
		getrusage(RUSAGE_SELF, &ru);
		f = ru.ru_minflt - before;
		before = ru.ru_minflt;
		total += f;
		if (f > worst)
			worst = f;
	}
	CHECK(worst <= 4, "expected at most 4 page faults in one insert, saw %ld (%ld in all)", worst,
	      total);
	CHECK_EQ_INT(sock_table__count(t), N, "entries");
	sock_table__free(t);
}

/* 0 marks a free slot: no lookup or delete may take a free slot for an entry. */
static void test_reserved_cookie_is_never_an_entry(void)
{
	struct sock_table *t = sock_table__new(1000);
	bool created;

	CHECK(sock_table__lookup(t, 0) == NULL, "lookup of cookie 0 in an empty table");
	for (__u64 c = 1; c <= 600; c++) /* enough to grow: an old array exists for a while */
		sock_table__upsert(t, c, &created);
	CHECK(sock_table__lookup(t, 0) == NULL, "lookup of cookie 0 in a full-ish table");
	CHECK(sock_table__lookup(t, ~0ull) == NULL, "lookup of the moved mark");
	sock_table__delete(t, 0);
	sock_table__delete(t, ~0ull);
	CHECK_EQ_INT(sock_table__count(t), 600, "count after deletes of reserved cookies");
	CHECK(sock_table__upsert(t, 0, &created) == NULL, "cookie 0 cannot be inserted");
	sock_table__free(t);
}

TEST_MAIN("sock_table", TL_CASE(test_insert_lookup_delete), TL_CASE(test_upsert_existing),
	  TL_CASE(test_full_is_counted), TL_CASE(test_random_churn), TL_CASE(test_growth_in_steps),
	  TL_CASE(test_growth_faults_spread), TL_CASE(test_reserved_cookie_is_never_an_entry))
