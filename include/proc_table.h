/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Processes that own sockets, keyed by pid (tgid), with what tcpstate counts for each: sockets
 * by state, retransmits, resets, socket errors and the CLOSE_WAIT close-delay histogram.
 * Names and cgroup paths are read from /proc once per pid and cached; event paths that pass a
 * comm do no system call. Bounded: beyond max_entries new pids are folded into pid 0 ("other"),
 * and that is counted.
 */
#ifndef TCPSTATE_PROC_TABLE_H
#define TCPSTATE_PROC_TABLE_H

#include <stdbool.h>
#include <linux/types.h>

#include "format.h"
#include "hist.h"
#include "tcpstate_event.h"

#define PROC_ERR_SLOTS 8

struct proc_err_count {
	int err;	/* 0 = free slot; -1 = "other" */
	__u64 count;
};

struct proc_entry {
	__u32 pid;
	bool alive;		/* scratch for proc_table__prune */
	char comm[TS_COMM_LEN];
	const char *cgroup;	/* interned path, never NULL ("" if unknown) */
	__u32 netns;		/* the process's network namespace inode, 0 if unknown */
	__u32 states[TCP_MAX_STATES];
	__u64 retrans[TS_RETRANS_KIND_MAX];
	__u64 resets_sent, resets_recv;
	__u64 connections;	/* connections established (connect() or a listener's child) */
	struct proc_err_count errors[PROC_ERR_SLOTS];
	struct hist close_delay;	/* CLOSE_WAIT entered -> close() */
	__u64 cw_oldest_since_ns;	/* filled by the CLOSE_WAIT report, 0 if none */
};

struct proc_table;

/* proc_root is "/proc" (a fixture directory in tests). NULL on ENOMEM. */
struct proc_table *proc_table__new(const char *proc_root, __u32 max_entries);
void proc_table__free(struct proc_table *pt);
/*
 * The entry for pid, created on first use. comm may be NULL (then read from /proc) or the name
 * the kernel reported, a TS_COMM_LEN-byte buffer (refreshes a stale name after exec or pid
 * reuse). Never NULL: overflow and pid 0 go to the shared "other" entry.
 */
struct proc_entry *proc_table__get(struct proc_table *pt, __u32 pid, const char *comm);
/* The entry for pid or NULL, without creating one. */
struct proc_entry *proc_table__find(struct proc_table *pt, __u32 pid);
/* Count n socket errors err on a process (slot "other", err -1, once the slots are used). */
void proc_entry__add_error(struct proc_entry *p, int err, __u64 n);
/* Add p's counters (connections, retransmits, resets, errors, close delays; not socket
 * counts) into acc. */
void proc_entry__add_counters(struct proc_entry *acc, const struct proc_entry *p);
/* Iterate entries: *iter = 0 first; NULL at the end. */
struct proc_entry *proc_table__next(struct proc_table *pt, __u32 *iter);
/* Intern a cgroup path (or any label string); the result lives as long as the table. */
const char *proc_table__intern(struct proc_table *pt, const char *s);
/*
 * Forget processes that exited and own no socket, folding their counters into per-name
 * "retired" entries so that exported counters never decrease. Returns how many were pruned.
 */
__u32 proc_table__prune(struct proc_table *pt);
/* Iterate the retired entries (pid 0, comm and cgroup set): *iter = 0 first. */
struct proc_entry *proc_table__next_retired(struct proc_table *pt, __u32 *iter);
/* New pids that did not fit and were folded into "other". */
__u64 proc_table__overflow(const struct proc_table *pt);
/* Number of entries. */
__u32 proc_table__count(const struct proc_table *pt);

#endif
