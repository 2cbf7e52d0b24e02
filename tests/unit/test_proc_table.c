// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for per-process accounting: error slots, pruning of exited processes, names. */
#include <string.h>
#include <unistd.h>

#include "proc_table.h"
#include "testlib.h"

#define GONE_PID 4000000 /* above pid_max: never a live process */

static void test_error_slots_fold_into_other(void)
{
	struct proc_entry p = { 0 };

	for (int e = 1; e <= PROC_ERR_SLOTS + 3; e++)
		proc_entry__add_error(&p, e, 2);
	proc_entry__add_error(&p, 1, 5);
	CHECK_EQ_INT(p.errors[0].count, 7, "count of the first errno");
	CHECK_EQ_INT(p.errors[PROC_ERR_SLOTS - 1].err, -1, "last slot is \"other\"");
	/* errnos 1..7 take the first seven slots; 8..11 are folded into "other" */
	CHECK_EQ_INT(p.errors[PROC_ERR_SLOTS - 1].count, 4 * 2, "errors folded into other");
}

static void test_prune_keeps_counters_of_exited_processes(void)
{
	struct proc_table *pt = proc_table__new(FIXTURES "/proc", 100);
	static const char worker[TS_COMM_LEN] = "worker", tests[TS_COMM_LEN] = "tests";
	struct proc_entry *gone = proc_table__get(pt, GONE_PID, worker);
	struct proc_entry *busy = proc_table__get(pt, GONE_PID + 1, worker);
	struct proc_entry *me = proc_table__get(pt, (__u32)getpid(), tests);
	struct proc_entry *r;
	__u32 it = 0, n = 0;
	__u64 resets = 0;

	gone->resets_sent = 3;
	gone->retrans[TS_RETRANS_RTO] = 4;
	busy->states[TCP_TIME_WAIT] = 1; /* still owns a socket: kept */
	me->resets_sent = 1;
	CHECK_EQ_INT(proc_table__prune(pt), 1, "processes pruned");
	CHECK(proc_table__find(pt, GONE_PID) == NULL, "exited process without sockets removed");
	CHECK(proc_table__find(pt, GONE_PID + 1) != NULL, "exited process owning a socket kept");
	CHECK(proc_table__find(pt, (__u32)getpid()) != NULL, "live process kept");
	while ((r = proc_table__next_retired(pt, &it))) {
		n++;
		resets += r->resets_sent;
		CHECK_EQ_STR(r->comm, "worker", "retired entry name");
		CHECK_EQ_INT(r->retrans[TS_RETRANS_RTO], 4, "retired retransmits");
	}
	CHECK_EQ_INT(n, 1, "retired entries");
	CHECK_EQ_INT(resets, 3, "retired resets");
	proc_table__free(pt);
}

/* The name follows the kernel's: a new one (exec) replaces it; the same one keeps it. */
static void test_name_follows_the_kernel(void)
{
	struct proc_table *pt = proc_table__new(FIXTURES "/proc", 100);
	char a[TS_COMM_LEN] = "short", b[TS_COMM_LEN] = "fifteen-chars-x";
	struct proc_entry *p = proc_table__get(pt, GONE_PID, a);

	CHECK_EQ_STR(p->comm, "short", "first name");
	p = proc_table__get(pt, GONE_PID, b);
	CHECK_EQ_STR(p->comm, "fifteen-chars-x", "renamed: 15 characters, the kernel's longest");
	b[14] = 'y';
	p = proc_table__get(pt, GONE_PID, b);
	CHECK_EQ_STR(p->comm, "fifteen-chars-y", "renamed in the last character");
	memcpy(a, "shorter", 8);
	p = proc_table__get(pt, GONE_PID, a);
	CHECK_EQ_STR(p->comm, "shorter", "renamed to a name that starts alike");
	a[5] = 0; /* "short" followed by "er": bytes after the end do not count */
	p = proc_table__get(pt, GONE_PID, a);
	CHECK_EQ_STR(p->comm, "short", "renamed back");
	a[5] = 'X';
	a[6] = 0;
	p = proc_table__get(pt, GONE_PID, a);
	CHECK_EQ_STR(p->comm, "shortX", "renamed where the old name ended");
	proc_table__free(pt);
}

TEST_MAIN("proc_table", TL_CASE(test_error_slots_fold_into_other),
	  TL_CASE(test_prune_keeps_counters_of_exited_processes),
	  TL_CASE(test_name_follows_the_kernel))
