/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Listen-backlog telemetry per listener: sampled from sock_diag (listeners only, so the cost
 * is proportional to the number of listeners, not of sockets) in every network namespace, with
 * the namespace's TcpExt ListenOverflows/ListenDrops.
 *
 * Queue names, as the kernel has them: the accept queue (sk_ack_backlog, what `ss -lt` shows as
 * Recv-Q, limit sk_max_ack_backlog = Send-Q) holds connections whose handshake completed and
 * that accept() has not taken yet; the SYN queue (icsk_accept_queue.qlen) holds half-open
 * request sockets. They are different queues: the accept queue is not the "SYN backlog".
 */
#ifndef TCPSTATE_LISTENERS_H
#define TCPSTATE_LISTENERS_H

#include <linux/types.h>

#include "tracker.h"

struct listener_info {
	__u64 cookie;
	__u32 netns;
	__u32 owner;		/* pid, 0 if unknown */
	__u16 port;
	__u8 family;
	__u8 pad;
	__u8 addr[16];
	__u32 accept_queue;	/* now */
	__u32 accept_queue_max;	/* limit (listen() backlog, capped by somaxconn) */
	__u32 accept_queue_high; /* high-water since the previous scrape (sampled and modelled) */
	__u32 syn_queue;	/* half-open request sockets, counted by the last full audit */
	__u64 drops;		/* the listener's sk_drops: accept-queue overflows and other drops */
	__u32 generation;
	__u32 pad2;
};

struct netns_listen_stats {
	__u64 listen_overflows;	/* TcpExt ListenOverflows */
	__u64 listen_drops;	/* TcpExt ListenDrops */
	__u32 generation;	/* the last sample that read them: older ones are of gone namespaces */
	__u32 pad;
};

struct listeners;

/* NULL on ENOMEM. */
struct listeners *listeners__new(void);
/* Accepts NULL. */
void listeners__free(struct listeners *l);
/*
 * Sample every listener of every network namespace now, and the namespaces' netstat counters.
 * Listeners that disappeared are dropped. Owners come from the tracker. 0 or -errno.
 */
int listeners__sample(struct listeners *l, struct tracker *t);
/* Count the request sockets a full audit saw, per listener port: call with every dumped
 * socket of a namespace (only SYN_RECV sockets without inode count), after listeners__begin_syn(). */
void listeners__begin_syn(struct listeners *l);
void listeners__add_syn(struct listeners *l, __u32 netns, const struct diag_sock *d);
/* Listeners, namespaces and SYN-queue ports not sampled because a map was full. */
__u64 listeners__refused(const struct listeners *l);
/* After a scrape: start a new high-water period. */
void listeners__reset_high(struct listeners *l, struct tracker *t);
/* Accept-queue high-water of a listener: the sampled one or the event model's, if higher. */
__u32 listeners__high(const struct listeners *l, struct tracker *t, const struct listener_info *li);
/* Iterate listeners: *iter = 0 first; NULL at the end. */
const struct listener_info *listeners__next(const struct listeners *l, __u32 *iter);
/* Iterate namespaces' netstat counters; *netns is set. */
const struct netns_listen_stats *listeners__next_netns(const struct listeners *l, __u32 *iter,
						       __u32 *netns);

#endif
