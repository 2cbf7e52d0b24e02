/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tracker turns the event stream into the live model: the socket table with owners, the
 * TIME_WAIT model the tracepoint cannot give, and every aggregate the outputs report. It does no
 * I/O except reading /proc once per new process; it is driven by:
 *   tracker__apply()  for each ring buffer record,
 *   tracker__tick()   on a timer (TIME_WAIT and orphan FIN_WAIT2 expiry),
 *   tracker__audit_*  with a sock_diag dump (seeding at start and periodic audits).
 */
#ifndef TCPSTATE_TRACKER_H
#define TCPSTATE_TRACKER_H

#include <stdbool.h>
#include <linux/types.h>

#include "format.h"
#include "hist.h"
#include "proc_table.h"
#include "sock_diag.h"
#include "sock_table.h"
#include "tcpstate_event.h"

struct tracker_opts {
	__u32 max_sockets;	/* socket table limit */
	__u32 max_procs;	/* process table limit */
	__u64 time_wait_ns;	/* TCP_TIMEWAIT_LEN: 60 s */
	__u64 fin_timeout_ns;	/* net.ipv4.tcp_fin_timeout */
	const char *proc_root;	/* "/proc" */
};

/* How an audit changed the table. */
enum audit_fix {
	AUDIT_MISSING = 0,	/* kernel had a socket the table did not */
	AUDIT_STALE = 1,	/* table had a socket the kernel did not */
	AUDIT_STATE = 2,	/* both had it, in different states */
	AUDIT_FIX_MAX,
};

/* Everything the outputs read besides the tables. */
struct tracker_stats {
	__u64 events[TS_EV_KIND_MAX];
	__u64 events_bad;		/* records of unknown kind or size */
	__u64 transitions[TCP_MAX_STATES][TCP_MAX_STATES];
	__u32 by_state[TCP_MAX_STATES];	/* host, all namespaces */
	struct hist connect_latency;	/* SYN_SENT -> ESTABLISHED */
	struct hist lifetime;		/* first state -> CLOSE, connections that established */
	__u64 corrections[TCP_MAX_STATES][AUDIT_FIX_MAX]; /* by the table's (stale) or kernel's state */
	__u64 audits;
	__u64 audit_last_ns;		/* duration of the last audit */
	__u64 tw_promoted_by_audit;	/* orphan FIN_WAIT2 seen to become TIME_WAIT by the audit */
	__u64 tw_recycled;		/* TIME_WAIT killed by a new connection on the same tuple */
	__u64 tw_reset;			/* timewait sockets killed by a reset sent from this host */
	__u64 tw_killed;		/* timewait sockets the kernel said it killed early */
	__u64 tw_killed_unknown;	/* ... that the table did not hold as timewait */
	__u64 tw_overflow;		/* closed into no TIME_WAIT: the table was full (tcp_max_tw_buckets) */
	__u64 accept_unmatched;		/* accept of a socket the table did not know */
	__u64 resets_no_socket;		/* resets sent for packets that matched no socket */
	__u64 map_full;			/* aggregation map inserts refused */
	__u64 rekeyed;			/* entries without a cookie matched to a dumped socket */
	__u64 births_unmatched;		/* early child births no later event named */
	__u64 netns_gone_sockets;	/* entries forgotten because their namespace is gone */
	__u64 audit_netns_failed;	/* namespace dumps that failed (tracker__audit_netns_failed) */
	__u64 audit_untracked;		/* sockets the last audit found that the full table refused */
};

/* A listener port's aggregates, keyed by (netns, port). */
struct port_key {
	__u32 netns;
	__u16 port;
	__u16 pad;
};

struct port_stats {
	__u32 listeners;		/* LISTEN sockets on this port */
	__u32 owner;			/* pid of the (last) listener's owner */
	__u32 close_wait;		/* accepted sockets now in CLOSE_WAIT */
	__u32 pending;			/* handshake done, not accepted yet (event model) */
	__u32 pending_high;		/* high-water of pending since tracker__reset_high() */
	__u32 pad;
	struct hist accept_wait;	/* handshake complete -> accept() returned */
};

/* TIME_WAIT sockets per remote endpoint. */
struct remote_key {
	__u32 netns;
	__u16 family;
	__u16 port;
	__u8 addr[16];
};

/* The resolved view of one event, for printing. Valid until the next tracker call. */
struct ev_view {
	const struct ts_event *ev;
	const struct proc_entry *owner;	/* never NULL; pid 0 = unknown */
	int family;
	__u32 netns;
	__u8 saddr[16], daddr[16];
	__u16 sport, dport;
	__s64 ns_in_old;		/* -1 if unknown */
	int timewait;			/* TIME_WAIT or FIN_WAIT2 if the close handed over to a
					 * timewait sock, else 0 */
	const struct ev_view *birth;	/* the child's LISTEN -> SYN_RECV, reported only now that
					 * this event named the child (TS_F_CHILD_EARLY): show it
					 * first; usually NULL */
};

struct tracker;

/* NULL on ENOMEM. */
struct tracker *tracker__new(const struct tracker_opts *opts);
/* Accepts NULL. */
void tracker__free(struct tracker *t);
/*
 * Apply one ring buffer record (struct ts_record) of size bytes; fills *view (may be NULL),
 * whose ev stays valid until the next call. A record that does not decode counts in events_bad.
 */
void tracker__apply(struct tracker *t, const void *data, __u64 size, struct ev_view *view);
/* Apply one decoded event (tests feed these directly); the view points at *e. */
void tracker__apply_event(struct tracker *t, const struct ts_event *e, struct ev_view *view);
/* Prefetch the socket-table slot applying this record looks up first (a batch ahead). */
void tracker__prefetch(const struct tracker *t, const void *data, __u64 size);
/* Expire modelled TIME_WAIT and orphan FIN_WAIT2 sockets due at now_ns (CLOCK_MONOTONIC). */
void tracker__tick(struct tracker *t, __u64 now_ns);

/*
 * Audit protocol: tracker__audit_begin(t, now) BEFORE the dump starts, then (after draining
 * the ring buffer) one tracker__audit_add() per dumped socket of each namespace that was dumped
 * completely, LISTEN sockets first (to tell accepted sockets from active ones), with
 * tracker__audit_netns() for that namespace, then tracker__audit_end().
 * Sockets changed by events since begin are trusted over the dump. Returns 0 or -ENOMEM.
 */
int tracker__audit_begin(struct tracker *t, __u64 now_ns);
void tracker__audit_netns(struct tracker *t, __u32 netns);
/*
 * Optional, before tracker__audit_end(): namespace netns exists but its dump failed (its
 * entries are kept as they are). Then tracker__audit_listed_all() says every namespace of the
 * host was passed to tracker__audit_netns() or here: tracker__audit_end() then forgets the
 * entries and per-namespace aggregates of namespaces that no longer exist (the kernel purges
 * their TIME_WAIT sockets without an event), counted in netns_gone_sockets. Failures count
 * in audit_netns_failed.
 */
void tracker__audit_netns_failed(struct tracker *t, __u32 netns);
void tracker__audit_listed_all(struct tracker *t);
/* owner_pid: from the socket inode (ss -p style), 0 if unknown. */
void tracker__audit_add(struct tracker *t, __u32 netns, const struct diag_sock *d, __u32 owner_pid);
void tracker__audit_end(struct tracker *t, __u64 now_ns);
/* True if the table does not know the socket (so the caller resolves its owner from /proc). */
bool tracker__needs_owner(struct tracker *t, __u64 cookie);

const struct tracker_stats *tracker__stats(const struct tracker *t);
struct sock_table *tracker__socks(struct tracker *t);
struct proc_table *tracker__procs(struct tracker *t);
/* Maps: netns (__u32) -> __u32 states[TCP_MAX_STATES]; port_key -> port_stats;
 * remote_key -> __u32 count. */
struct hashmap *tracker__netns_map(struct tracker *t);
struct hashmap *tracker__port_map(struct tracker *t);
struct hashmap *tracker__remote_map(struct tracker *t);
/*
 * A listener sample saw `queued` connections waiting in the accept queues of (netns, port):
 * resynchronise the event model's pending count with it.
 */
void tracker__sync_pending(struct tracker *t, __u32 netns, __u16 port, __u32 queued);
/* Start a new high-water period for every port (after a scrape). */
void tracker__reset_high(struct tracker *t);
/* Fill every process's cw_oldest_since_ns (0 if it has no CLOSE_WAIT socket). O(CLOSE_WAIT). */
void tracker__update_close_wait_oldest(struct tracker *t);

#endif
