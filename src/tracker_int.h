/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to the tracker (src/tracker.c: events and aggregates; src/tracker_audit.c: audits):
 * its state and the helpers both halves use. Not a public interface.
 */
#ifndef TCPSTATE_TRACKER_INT_H
#define TCPSTATE_TRACKER_INT_H

#include "hashmap.h"
#include "tracker.h"

#define MAP_LIMIT 65536

/*
 * A one-bit-per-digest filter in front of tw_tuples. Most tuple lookups (is a new connection's
 * tuple held by one of our TIME_WAIT sockets?) find nothing, and with 100k+ TIME_WAIT sockets a
 * miss in tw_tuples is a cache miss; a clear bit in this 128 KiB bitmap answers first. Bits are
 * set on insert and only cleared by a rebuild from tw_tuples once enough entries have gone.
 */
#define TW_FILTER_SHIFT 20
#define TW_FILTER_BITS (1u << TW_FILTER_SHIFT)

/* Extra sock_entry flags used only here. */
#define SE_ESTABLISHED (1u << 5)	/* reached ESTABLISHED: counts for the lifetime histogram */
#define SE_ORPHAN_FW2 (1u << 6)		/* timewait sock in FIN_WAIT2 substate */
#define SE_AUDIT_SEEN (1u << 7)		/* seen by the audit in progress */

/* A queue of (cookie, time) in time order: TIME_WAIT expiry, FIN_WAIT2 expiry, CLOSE_WAIT. */
struct fifo_item {
	__u64 cookie;
	__u64 at_ns;
};

struct fifo {
	struct fifo_item *v;
	__u32 head, len, cap;
};

/* Both directions of a connection's tuple, to find an orphan FIN_WAIT2 from its peer. */
struct tuple_key {
	__u16 family, sport, dport, pad;
	__u8 saddr[16], daddr[16];
};

_Static_assert(sizeof(struct tuple_key) % 8 == 0, "tuple_digest hashes whole words");

/* Owners of recently closed sockets: events that follow the final CLOSE (the error report
 * of a refused connect) still find their owner. Direct-mapped, overwritten freely. */
#define RECENT_SLOTS 4096

struct recent_close {
	__u64 cookie;
	__u32 owner;
	__u32 pad;
};

/*
 * Listener children born before the kernel set their cookie (TS_F_CHILD_EARLY), waiting for the
 * child's next event (SYN_RECV -> ...) on the same namespace and port to name them. Handshakes
 * complete within microseconds, so a few slots suffice; the oldest is overwritten.
 */
#define BIRTH_SLOTS 64
#define BIRTH_MAX_AGE_NS 10000000000ull

struct pending_birth {
	__u64 ts_ns;		/* 0: free */
	__u32 netns;
	__u32 pid;		/* the task on the CPU (shown by trace as task_pid) */
	__u16 port;
	__u16 pad[3];
};

struct tracker {
	struct tracker_opts opts;
	struct recent_close recent[RECENT_SLOTS];
	struct tracker_stats stats;
	struct sock_table *socks;
	struct proc_table *procs;
	struct hashmap *netns;		/* netns -> __u32[TCP_MAX_STATES] */
	struct hashmap *ports;		/* port_key -> port_stats */
	struct hashmap *remotes;	/* remote_key -> __u32 */
	struct hashmap *orphans;	/* tuple_key -> cookie */
	struct hashmap *tw_tuples;	/* 64-bit hash of (netns, tuple) -> cookie, TIME_WAIT only */
	__u64 *tw_filter;		/* TW_FILTER_BITS: digests that may be in tw_tuples */
	__u32 tw_filter_stale;		/* digests deleted from tw_tuples since its last rebuild */
	__s64 timewait_v6;		/* IPv6 (incl. dual-stack) TIME_WAIT and orphan FIN_WAIT2 */
	struct fifo tw_q, fw2_q, cw_q;
	/* audit in progress */
	bool auditing;
	bool want_view;	/* the caller of tracker__apply() reads the view */
	struct ts_event ev;	/* the record tracker__apply() decoded; the view points here */
	__u64 audit_start_ns;
	struct hashmap *audit_gone;	/* cookies deleted by events during the audit */
	struct hashmap *audit_netns;	/* namespaces listed: AUDIT_NS_DUMPED or AUDIT_NS_FAILED */
	bool audit_listed_all;		/* every namespace of the host is in audit_netns */
	bool audit_list_broken;		/* one could not be added to audit_netns */
	__u32 audit_untracked;		/* dumped sockets the full table refused, this audit */
	struct hashmap *audit_uncookied; /* addr_key -> key of entries not keyed by a cookie */
	__u64 synth_keys;		/* keys of our own handed out (tk_key_is_cookie) */
	struct pending_birth births[BIRTH_SLOTS];
	__u32 births_next, births_pending;
	struct ts_event birth_ev;	/* the birth shown with the event that named the child */
	struct ev_view birth_view;
};

/*
 * Keys that are not socket cookies: a socket's kernel address, where the kernel side cannot
 * create cookies (TS_F_COOKIE_PTR; x86-64 and arm64 kernel addresses have the top bits set),
 * or a key of our own for a timewait entry whose full socket's address was reused by a new
 * socket. Cookies count up from 1 and stay far below.
 */
#define TK_KEY_SYNTH (1ull << 62)

static inline bool tk_key_is_cookie(__u64 key)
{
	return key < TK_KEY_SYNTH;
}

/* Namespace and 4-tuple: what matches a dumped socket to an entry without its cookie. */
struct addr_key {
	struct tuple_key t;
	__u32 netns;
	__u32 pad;
};

/* Move entry s to key (a free one); its counts and queues follow. Returns the moved entry. */
struct sock_entry *tk_sock_rekey(struct tracker *t, struct sock_entry *s, __u64 key);

/* Upsert into an aggregation map, counting refusals in stats.map_full. */
void *tk_map_upsert(struct tracker *t, struct hashmap *m, const void *key);
void tk_tuple_key_of(const struct sock_entry *s, struct tuple_key *k);
/* Add (delta = 1) or remove (delta = -1) a socket from every count that depends on its state. */
void tk_sock_account(struct tracker *t, const struct sock_entry *s, int delta);
/* Remove a (counted) socket from the model for good. */
void tk_sock_forget(struct tracker *t, struct sock_entry *s);
/* Make pid the owner of a counted socket, moving its counts. */
void tk_set_owner(struct tracker *t, struct sock_entry *s, __u32 pid, const char *comm);
void tk_listener_register(struct tracker *t, const struct sock_entry *s);
__u32 tk_listener_count(struct tracker *t, __u32 netns, __u16 port);
/* Enter a (possibly modelled) state at ts and account for it. */
void tk_sock_enter(struct tracker *t, struct sock_entry *s, int state, __u64 ts);
/* The full socket closed into a timewait sock in FIN_WAIT2 substate. */
void tk_sock_enter_orphan_fw2(struct tracker *t, struct sock_entry *s, __u64 ts);
/* Forget the timewait sock whose tuple socket `cookie` took over, if any (entries may move). */
void tk_tw_recycle_check(struct tracker *t, __u64 cookie);

#endif
