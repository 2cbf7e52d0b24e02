/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The exact table of TCP sockets, keyed by socket cookie. Open addressing with Robin Hood
 * linear probing and backward-shift deletion. It grows by doubling up to a fixed maximum of
 * entries given at creation, so that no single call stalls: the doubled array is faulted in a
 * page per insert or delete before it is used (include/bigarray.h), then entries move to it a
 * few per insert and delete (the old array marks what left it; there are no other
 * tombstones). An insert beyond the maximum fails and is counted (sock_table__full()).
 * Cookies 0 and ~0 are reserved (they mark free slots): never found, inserted or deleted.
 *
 * Cost: sizeof(struct sock_entry) = 72 bytes per slot, load factor kept between 0.4 and 0.9
 * (growth starts past 0.8), so 80 to 180 bytes of memory per tracked socket.
 *
 * Entry pointers stay valid only until the next insert or delete.
 */
#ifndef TCPSTATE_SOCK_TABLE_H
#define TCPSTATE_SOCK_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* sock_entry.flags */
#define SE_PASSIVE (1u << 0)	/* created by a listener (accepted side) */
#define SE_RESET (1u << 1)	/* a reset was sent or received: no TIME_WAIT follows */
#define SE_ACCEPTED (1u << 2)	/* accept() returned it: owner is the accepting process */
#define SE_SEEDED (1u << 3)	/* first learnt from sock_diag, not from an event */
#define SE_REQUEST (1u << 4)	/* a request (half-open) socket seen by sock_diag */

struct sock_entry {
	__u64 cookie;		/* 0 marks an empty slot */
	__u64 state_since_ns;	/* CLOCK_MONOTONIC when the current state was entered */
	__u64 created_ns;	/* when the connection started (SYN_SENT/SYN_RECV/LISTEN), 0 if unknown */
	__u32 netns;
	__u32 owner;		/* owning process (tgid), 0 if unknown */
	__u16 sport, dport;
	__u8 saddr[16], daddr[16];
	__u8 state;		/* TCP_* */
	__u8 family;
	__u8 flags;		/* SE_* */
	__u8 pad;
};

struct sock_table;

/* Create a table that holds at most max_entries sockets. NULL on ENOMEM. */
struct sock_table *sock_table__new(__u32 max_entries);
/* Free the table. Accepts NULL. */
void sock_table__free(struct sock_table *t);
/* The entry for cookie, or NULL (always for a reserved cookie). */
struct sock_entry *sock_table__lookup(const struct sock_table *t, __u64 cookie);
/* Start loading the slot where a lookup of cookie begins (a hint; nothing changes). */
void sock_table__prefetch(const struct sock_table *t, __u64 cookie);
/*
 * The entry for cookie, inserting a zeroed one (cookie set, *created = true) if absent.
 * NULL if the table is full (counted in sock_table__full()) or out of memory.
 */
struct sock_entry *sock_table__upsert(struct sock_table *t, __u64 cookie, bool *created);
/* Remove the entry with this cookie, if present. */
void sock_table__delete(struct sock_table *t, __u64 cookie);
/* Number of sockets held. */
__u32 sock_table__count(const struct sock_table *t);
/* Maximum number of sockets it may hold. */
__u32 sock_table__capacity(const struct sock_table *t);
/* Inserts refused because the table was full. */
__u64 sock_table__full(const struct sock_table *t);
/* Bytes allocated for slots. */
size_t sock_table__memory(const struct sock_table *t);
/*
 * Number of slots; with sock_table__slot() iterates every entry (empty slots have cookie 0).
 * Finishes a growth in progress first, so it may move entries.
 */
__u32 sock_table__slots(struct sock_table *t);
struct sock_entry *sock_table__slot(const struct sock_table *t, __u32 i);

#endif
