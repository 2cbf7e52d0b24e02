// SPDX-License-Identifier: GPL-2.0-only
/*
 * The live model of the host's TCP sockets, fed by events and corrected by audits
 * (see include/tracker.h). The per-event path does no allocation except when a table grows,
 * no formatting and no system call except reading /proc once for a process never seen before.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hashmap.h"
#include "log.h"
#include "record.h"
#include "tracker.h"
#include "tracker_int.h"

static int fifo_push(struct fifo *q, __u64 cookie, __u64 at_ns)
{
	if (q->len == q->cap) {
		__u32 cap = q->cap ? q->cap * 2 : 1024;
		struct fifo_item *v = malloc(sizeof(*v) * cap);

		if (!v)
			return -ENOMEM;
		for (__u32 i = 0; i < q->len; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = v;
		q->cap = cap;
		q->head = 0;
	}
	q->v[(q->head + q->len) % q->cap] = (struct fifo_item){ cookie, at_ns };
	q->len++;
	return 0;
}

static struct fifo_item *fifo_at(struct fifo *q, __u32 i)
{
	return &q->v[(q->head + i) % q->cap];
}

static void fifo_pop(struct fifo *q)
{
	q->head = (q->head + 1) % q->cap;
	q->len--;
}

struct tracker *tracker__new(const struct tracker_opts *opts)
{
	struct tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->opts = *opts;
	t->socks = sock_table__new(opts->max_sockets);
	t->procs = proc_table__new(opts->proc_root, opts->max_procs);
	t->netns = hashmap__new(sizeof(__u32), sizeof(__u32) * TCP_MAX_STATES, MAP_LIMIT);
	t->ports = hashmap__new(sizeof(struct port_key), sizeof(struct port_stats), MAP_LIMIT);
	t->remotes = hashmap__new(sizeof(struct remote_key), sizeof(__u32), opts->max_sockets);
	t->orphans = hashmap__new(sizeof(struct tuple_key), sizeof(__u64), opts->max_sockets);
	t->tw_tuples = hashmap__new(sizeof(__u64), sizeof(__u64), opts->max_sockets);
	t->tw_filter = calloc(TW_FILTER_BITS / 64, sizeof(__u64));
	if (!t->socks || !t->procs || !t->netns || !t->ports || !t->remotes || !t->orphans ||
	    !t->tw_tuples || !t->tw_filter) {
		tracker__free(t);
		return NULL;
	}
	return t;
}

void tracker__free(struct tracker *t)
{
	if (!t)
		return;
	sock_table__free(t->socks);
	proc_table__free(t->procs);
	hashmap__free(t->netns);
	hashmap__free(t->ports);
	hashmap__free(t->remotes);
	hashmap__free(t->orphans);
	hashmap__free(t->tw_tuples);
	free(t->tw_filter);
	hashmap__free(t->audit_gone);
	hashmap__free(t->audit_uncookied);
	hashmap__free(t->audit_netns);
	free(t->tw_q.v);
	free(t->fw2_q.v);
	free(t->cw_q.v);
	free(t);
}

void *tk_map_upsert(struct tracker *t, struct hashmap *m, const void *key)
{
	bool created;
	void *v = hashmap__upsert(m, key, &created);

	if (!v)
		t->stats.map_full++;
	return v;
}

static void remote_key_of(const struct sock_entry *s, struct remote_key *k)
{
	memset(k, 0, sizeof(*k));
	k->netns = s->netns;
	k->family = addr_effective_family(s->family, s->daddr);
	k->port = s->dport;
	memcpy(k->addr, s->daddr, sizeof(k->addr));
}

void tk_tuple_key_of(const struct sock_entry *s, struct tuple_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = s->family;
	k->sport = s->sport;
	k->dport = s->dport;
	memcpy(k->saddr, s->saddr, 16);
	memcpy(k->daddr, s->daddr, 16);
}

/* A 64-bit digest of a socket's namespace and 4-tuple (collisions are checked by the caller). */
static __u64 tuple_digest(const struct sock_entry *s)
{
	__u64 w[5], h = 0x9E3779B97F4A7C15ull ^ s->netns;

	w[0] = (__u64)s->family | (__u64)s->sport << 16 | (__u64)s->dport << 32;
	memcpy(&w[1], s->saddr, 16);
	memcpy(&w[3], s->daddr, 16);
	for (int i = 0; i < 5; i++) {
		h = (h ^ w[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static bool same_tuple(const struct sock_entry *a, const struct sock_entry *b)
{
	return a->netns == b->netns && a->family == b->family && a->sport == b->sport &&
	       a->dport == b->dport && !memcmp(a->saddr, b->saddr, 16) &&
	       !memcmp(a->daddr, b->daddr, 16);
}

static void tw_filter_set(struct tracker *t, __u64 h)
{
	__u32 bit = h >> (64 - TW_FILTER_SHIFT);

	t->tw_filter[bit / 64] |= 1ull << (bit % 64);
}

/* False: no TIME_WAIT socket has this tuple digest. True: look in tw_tuples. */
static bool tw_filter_may_hold(const struct tracker *t, __u64 h)
{
	__u32 bit = h >> (64 - TW_FILTER_SHIFT);

	return t->tw_filter[bit / 64] & (1ull << (bit % 64));
}

/*
 * Clear the bits of deleted digests once they are as many as half the live ones (at least
 * 16k), keeping false answers under about one in five: O(entries), every entries/2 deletions.
 */
static void tw_filter_deleted(struct tracker *t)
{
	const __u64 *key;
	__u32 iter = 0;

	if (++t->tw_filter_stale < 16384 || t->tw_filter_stale < hashmap__count(t->tw_tuples) / 2)
		return;
	memset(t->tw_filter, 0, TW_FILTER_BITS / 8);
	while (hashmap__next(t->tw_tuples, &iter, (const void **)&key))
		tw_filter_set(t, *key);
	t->tw_filter_stale = 0;
}

/* The cookie of the TIME_WAIT socket indexed under tuple digest h, or NULL. */
static __u64 *tw_lookup(const struct tracker *t, __u64 h)
{
	return tw_filter_may_hold(t, h) ? hashmap__lookup(t->tw_tuples, &h) : NULL;
}

/* Keep the tuple index of TIME_WAIT sockets in step with tk_sock_account(). */
static void tw_index(struct tracker *t, const struct sock_entry *s, int delta)
{
	__u64 h = tuple_digest(s);
	__u64 *c;

	if (delta < 0) {
		c = tw_lookup(t, h);
		if (c && *c == s->cookie) {
			hashmap__delete(t->tw_tuples, &h);
			tw_filter_deleted(t);
		}
		return;
	}
	c = tk_map_upsert(t, t->tw_tuples, &h);
	if (c) {
		*c = s->cookie;
		tw_filter_set(t, h);
	}
}

static void port_close_wait(struct tracker *t, const struct sock_entry *s, int delta)
{
	struct port_key k = { .netns = s->netns, .port = s->sport };
	struct port_stats *p = delta > 0 ? tk_map_upsert(t, t->ports, &k) : hashmap__lookup(t->ports, &k);

	if (p)
		p->close_wait += delta;
}

/* The event model of a listener port's accept queue. */
static void port_pending(struct tracker *t, const struct sock_entry *s, int delta)
{
	struct port_key k = { .netns = s->netns, .port = s->sport };
	struct port_stats *p = delta > 0 ? tk_map_upsert(t, t->ports, &k) : hashmap__lookup(t->ports, &k);

	if (!p || (delta < 0 && !p->pending))
		return;
	p->pending += delta;
	if (p->pending > p->pending_high)
		p->pending_high = p->pending;
}

void tracker__sync_pending(struct tracker *t, __u32 netns, __u16 port, __u32 queued)
{
	struct port_key k = { .netns = netns, .port = port };
	struct port_stats *p = hashmap__lookup(t->ports, &k);

	if (!p)
		return;
	p->pending = queued;
	if (queued > p->pending_high)
		p->pending_high = queued;
}

void tracker__reset_high(struct tracker *t)
{
	struct port_stats *p;
	__u32 it = 0;

	while ((p = hashmap__next(t->ports, &it, NULL)))
		p->pending_high = p->pending;
}

static void remote_time_wait(struct tracker *t, const struct sock_entry *s, int delta)
{
	struct remote_key k;
	__u32 *n;

	remote_key_of(s, &k);
	n = delta > 0 ? tk_map_upsert(t, t->remotes, &k) : hashmap__lookup(t->remotes, &k);
	if (!n)
		return;
	*n += delta;
	if (!*n)
		hashmap__delete(t->remotes, &k);
}

/* Add (delta = 1) or remove (delta = -1) a socket from every count that depends on its state. */
void tk_sock_account(struct tracker *t, const struct sock_entry *s, int delta)
{
	__u32 *ns = delta > 0 ? tk_map_upsert(t, t->netns, &s->netns) : hashmap__lookup(t->netns, &s->netns);
	struct proc_entry *p = proc_table__find(t->procs, s->owner);

	if (s->flags & SE_REQUEST)
		return;
	t->stats.by_state[s->state] += delta;
	if (ns)
		ns[s->state] += delta;
	if (p)
		p->states[s->state] += delta;
	if (s->state == TCP_CLOSE_WAIT && (s->flags & SE_PASSIVE))
		port_close_wait(t, s, delta);
	/* Only active opens use an ephemeral port per remote: passive ones share the listener's. */
	if (s->state == TCP_TIME_WAIT && !(s->flags & SE_PASSIVE))
		remote_time_wait(t, s, delta);
	if (s->state == TCP_TIME_WAIT)
		tw_index(t, s, delta);
	if (s->family == AF_INET6 && (s->state == TCP_TIME_WAIT || (s->flags & SE_ORPHAN_FW2)))
		t->timewait_v6 += delta;
}

/* Remove a socket from the model for good. */
void tk_sock_forget(struct tracker *t, struct sock_entry *s)
{
	__u64 cookie = s->cookie;
	bool created;

	tk_sock_account(t, s, -1);
	if ((s->flags & (SE_PASSIVE | SE_ESTABLISHED | SE_ACCEPTED | SE_SEEDED)) ==
	    (SE_PASSIVE | SE_ESTABLISHED))
		port_pending(t, s, -1); /* closed before anyone accepted it */
	if (s->flags & SE_ORPHAN_FW2) {
		struct tuple_key k;

		tk_tuple_key_of(s, &k);
		hashmap__delete(t->orphans, &k);
	}
	if (s->state == TCP_LISTEN) {
		struct port_key k = { .netns = s->netns, .port = s->sport };
		struct port_stats *p = hashmap__lookup(t->ports, &k);

		if (p && p->listeners)
			p->listeners--;
	}
	if (t->auditing)
		hashmap__upsert(t->audit_gone, &cookie, &created);
	t->recent[cookie % RECENT_SLOTS] = (struct recent_close){ .cookie = cookie, .owner = s->owner };
	sock_table__delete(t->socks, cookie);
}

struct sock_entry *tk_sock_rekey(struct tracker *t, struct sock_entry *s, __u64 key)
{
	struct sock_entry keep = *s;
	bool orphan = s->flags & SE_ORPHAN_FW2, created;
	struct tuple_key k;

	tk_sock_account(t, s, -1);
	if (orphan) {
		tk_tuple_key_of(s, &k);
		hashmap__delete(t->orphans, &k);
	}
	sock_table__delete(t->socks, keep.cookie);
	s = sock_table__upsert(t->socks, key, &created);
	if (!s)
		return NULL; /* counted as table full; the next audit finds it missing */
	*s = keep;
	s->cookie = key;
	s->flags &= ~SE_ORPHAN_FW2;
	/* the queues' items under the old key no longer find it; fresh ones are pushed */
	if (orphan)
		tk_sock_enter_orphan_fw2(t, s, keep.state_since_ns);
	else
		tk_sock_enter(t, s, keep.state, keep.state_since_ns);
	return s;
}

void tk_set_owner(struct tracker *t, struct sock_entry *s, __u32 pid, const char *comm)
{
	proc_table__get(t->procs, pid, comm);
	if (s->owner == pid)
		return;
	tk_sock_account(t, s, -1);
	s->owner = pid;
	tk_sock_account(t, s, 1);
}

void tk_listener_register(struct tracker *t, const struct sock_entry *s)
{
	struct port_key k = { .netns = s->netns, .port = s->sport };
	struct port_stats *p = tk_map_upsert(t, t->ports, &k);

	if (!p)
		return;
	p->listeners++;
	p->owner = s->owner;
}

__u32 tk_listener_count(struct tracker *t, __u32 netns, __u16 port)
{
	struct port_key k = { .netns = netns, .port = port };
	struct port_stats *p = hashmap__lookup(t->ports, &k);

	return p ? p->listeners : 0;
}

static __u32 listener_owner(struct tracker *t, __u32 netns, __u16 port)
{
	struct port_key k = { .netns = netns, .port = port };
	struct port_stats *p = hashmap__lookup(t->ports, &k);

	return p ? p->owner : 0;
}

/* Enter a (possibly modelled) state at ts and account for it. */
void tk_sock_enter(struct tracker *t, struct sock_entry *s, int state, __u64 ts)
{
	s->state = state;
	s->state_since_ns = ts;
	tk_sock_account(t, s, 1);
	if (state == TCP_TIME_WAIT)
		fifo_push(&t->tw_q, s->cookie, ts + t->opts.time_wait_ns);
	else if (state == TCP_CLOSE_WAIT)
		fifo_push(&t->cw_q, s->cookie, ts);
}

/* The full socket closed and handed over to a timewait sock in FIN_WAIT2 substate. */
void tk_sock_enter_orphan_fw2(struct tracker *t, struct sock_entry *s, __u64 ts)
{
	struct tuple_key k;
	__u64 *c;

	s->state = TCP_FIN_WAIT2;
	s->flags |= SE_ORPHAN_FW2;
	tk_sock_account(t, s, 1);
	fifo_push(&t->fw2_q, s->cookie, ts + t->opts.fin_timeout_ns);
	tk_tuple_key_of(s, &k);
	c = tk_map_upsert(t, t->orphans, &k);
	if (c)
		*c = s->cookie;
}

/*
 * The peer of a connection sent its FIN (it closed: CLOSE_WAIT -> LAST_ACK), or that FIN was
 * acked (LAST_ACK -> CLOSE). If the other end is one of our orphan FIN_WAIT2 timewait socks
 * (loopback, or another namespace of this host), the kernel silently turns it into TIME_WAIT
 * now; do the same.
 */
static void peer_fin_sent(struct tracker *t, const struct sock_entry *peer, __u64 ts)
{
	struct tuple_key k = { .family = peer->family, .sport = peer->dport, .dport = peer->sport };
	struct sock_entry *s;
	__u64 *c;

	if (!hashmap__count(t->orphans))
		return;
	memcpy(k.saddr, peer->daddr, 16);
	memcpy(k.daddr, peer->saddr, 16);
	c = hashmap__lookup(t->orphans, &k);
	if (!c)
		return;
	s = sock_table__lookup(t->socks, *c);
	hashmap__delete(t->orphans, &k);
	if (!s || !(s->flags & SE_ORPHAN_FW2))
		return;
	tk_sock_account(t, s, -1);
	s->flags &= ~SE_ORPHAN_FW2;
	t->stats.transitions[TCP_FIN_WAIT2][TCP_TIME_WAIT]++;
	tk_sock_enter(t, s, TCP_TIME_WAIT, ts);
}

static void copy_tuple(struct sock_entry *s, const struct ts_event *e)
{
	if (e->family)
		s->family = (__u8)e->family;
	if (e->sport) {
		s->sport = e->sport;
		memcpy(s->saddr, e->saddr, 16);
	}
	if (e->dport) {
		s->dport = e->dport;
		memcpy(s->daddr, e->daddr, 16);
	}
	if (e->netns)
		s->netns = e->netns;
}

static void view_fill(struct tracker *t, struct ev_view *v, const struct ts_event *e,
		      const struct sock_entry *s)
{
	v->ev = e;
	v->ns_in_old = -1;
	v->timewait = 0;
	v->birth = NULL;
	if (!t->want_view)
		return;
	if (!s) {
		v->owner = proc_table__find(t->procs, 0);
		v->family = e->family;
		v->netns = e->netns;
		memcpy(v->saddr, e->saddr, 16);
		memcpy(v->daddr, e->daddr, 16);
		v->sport = e->sport;
		v->dport = e->dport;
		return;
	}
	v->owner = proc_table__find(t->procs, s->owner);
	if (!v->owner)
		v->owner = proc_table__find(t->procs, 0);
	v->family = s->family;
	v->netns = s->netns;
	memcpy(v->saddr, s->saddr, 16);
	memcpy(v->daddr, s->daddr, 16);
	v->sport = s->sport;
	v->dport = s->dport;
}

/* A socket we never saw before this event: create its entry, inheriting what can be known. */
static struct sock_entry *sock_first_seen(struct tracker *t, const struct ts_event *e)
{
	bool created;
	struct sock_entry *s = sock_table__upsert(t->socks, e->cookie, &created);

	if (!s)
		return NULL;
	copy_tuple(s, e);
	if (e->oldstate == TCP_CLOSE || e->oldstate == TCP_LISTEN)
		s->created_ns = e->ts_ns;
	if (e->oldstate == TCP_LISTEN) {
		s->flags |= SE_PASSIVE;
		s->owner = listener_owner(t, e->netns, e->sport);
	}
	s->state = e->oldstate;
	return s;
}

/*
 * What a closing socket leaves behind: TCP_TIME_WAIT, an orphan's timewait sock in
 * TCP_FIN_WAIT2, or nothing (TCP_CLOSE). The kernel side looks for the timewait sock
 * (TS_F_TW_KNOWN), which also catches a full TIME_WAIT table (tcp_max_tw_buckets). Without
 * that, infer it: no timewait sock after a reset; TIME_WAIT from CLOSING, or from FIN_WAIT2 once
 * the peer's FIN came; an orphan FIN_WAIT2 from FIN_WAIT2 before it.
 */
static int close_leaves(struct tracker *t, const struct sock_entry *s, const struct ts_event *e)
{
	if (e->flags & TS_F_TW_KNOWN) {
		if (e->aux == TCP_TIME_WAIT || e->aux == TCP_FIN_WAIT2)
			return (int)e->aux;
		if (!(s->flags & SE_RESET) &&
		    (e->oldstate == TCP_CLOSING ||
		     (e->oldstate == TCP_FIN_WAIT2 && (e->flags & TS_F_FIN_RCVD))))
			t->stats.tw_overflow++;
		return TCP_CLOSE;
	}
	if (s->flags & SE_RESET)
		return TCP_CLOSE;
	if (e->oldstate == TCP_CLOSING ||
	    (e->oldstate == TCP_FIN_WAIT2 && (e->flags & TS_F_FIN_RCVD)))
		return TCP_TIME_WAIT;
	return e->oldstate == TCP_FIN_WAIT2 ? TCP_FIN_WAIT2 : TCP_CLOSE;
}

/* Histograms and counters that depend on the transition. */
static void observe_transition(struct tracker *t, struct sock_entry *s, const struct ts_event *e,
			       __s64 ns_in_old)
{
	struct proc_entry *p;

	t->stats.transitions[e->oldstate][e->newstate]++;
	if (e->newstate == TCP_ESTABLISHED && !(s->flags & SE_ESTABLISHED) &&
	    (s->flags & SE_PASSIVE) && !(s->flags & SE_ACCEPTED))
		port_pending(t, s, 1);
	if (e->newstate == TCP_ESTABLISHED)
		s->flags |= SE_ESTABLISHED;
	if (ns_in_old < 0)
		return;
	if (e->oldstate == TCP_SYN_SENT && e->newstate == TCP_ESTABLISHED)
		hist__observe(&t->stats.connect_latency, (__u64)ns_in_old);
	if (e->oldstate == TCP_CLOSE_WAIT && e->newstate == TCP_LAST_ACK) {
		p = proc_table__find(t->procs, s->owner);
		if (p)
			hist__observe(&p->close_delay, (__u64)ns_in_old);
	}
}

/*
 * A new connection now uses the 4-tuple of one of our TIME_WAIT sockets: the kernel killed that
 * timewait sock to let it through (tcp_tw_reuse, or a new SYN to a server-side TIME_WAIT),
 * without any event. Forget it now rather than at the next audit.
 */
void tk_tw_recycle_check(struct tracker *t, __u64 cookie)
{
	struct sock_entry *s = sock_table__lookup(t->socks, cookie), *old;
	__u64 h, *c;

	if (!s || !s->sport || !s->dport || !hashmap__count(t->tw_tuples))
		return;
	h = tuple_digest(s);
	c = tw_lookup(t, h);
	if (!c || *c == cookie)
		return;
	old = sock_table__lookup(t->socks, *c);
	if (!old || old->state != TCP_TIME_WAIT || !same_tuple(old, s))
		return;
	t->stats.tw_recycled++;
	t->stats.transitions[TCP_TIME_WAIT][TCP_CLOSE]++;
	tk_sock_forget(t, old);
}

/* A connection established: charged to the socket's owner (a listener's, until accept()). */
static void count_connection(struct tracker *t, const struct sock_entry *s)
{
	struct proc_entry *p = s->owner ? proc_table__find(t->procs, s->owner) : NULL;

	if (p)
		p->connections++;
}

static void apply_state(struct tracker *t, const struct ts_event *e, struct ev_view *v);

/* A child born with its listener's cookie (TS_F_CHILD_EARLY): wait for its next event. */
static void birth_pending(struct tracker *t, const struct ts_event *e)
{
	struct pending_birth *b = &t->births[t->births_next++ % BIRTH_SLOTS];

	if (b->ts_ns) {
		t->stats.births_unmatched++;
		t->births_pending--;
	}
	*b = (struct pending_birth){ .ts_ns = e->ts_ns, .netns = e->netns, .pid = e->pid,
				     .port = e->sport };
	t->births_pending++;
}

/*
 * Event e of a socket the table does not know leaves SYN_RECV: if a child of a listener on its
 * namespace and port was born early, that child is this socket. Apply the birth under e's
 * cookie and tuple first (the view of it goes to t->birth_view). True if there was one.
 */
static bool birth_resolve(struct tracker *t, const struct ts_event *e)
{
	struct pending_birth *best = NULL;

	for (int i = 0; i < BIRTH_SLOTS; i++) {
		struct pending_birth *b = &t->births[i];

		if (!b->ts_ns)
			continue;
		if (b->ts_ns + BIRTH_MAX_AGE_NS < e->ts_ns) {
			b->ts_ns = 0;
			t->births_pending--;
			t->stats.births_unmatched++;
		} else if (b->netns == e->netns && b->port == e->sport && b->ts_ns <= e->ts_ns &&
			   (!best || b->ts_ns < best->ts_ns)) {
			best = b;
		}
	}
	if (!best)
		return false;
	t->birth_ev = *e;
	t->birth_ev.ts_ns = best->ts_ns;
	t->birth_ev.pid = best->pid;
	t->birth_ev.oldstate = TCP_LISTEN;
	t->birth_ev.newstate = TCP_SYN_RECV;
	t->birth_ev.flags = 0;
	best->ts_ns = 0;
	t->births_pending--;
	apply_state(t, &t->birth_ev, &t->birth_view);
	return true;
}

static void apply_state_known(struct tracker *t, const struct ts_event *e, struct ev_view *v);

/*
 * Is e's socket one the table has not seen born? With address keys (no cookies) an entry under
 * the same key in another state than SYN_RECV is an earlier socket at that address.
 */
static bool birth_unknown(struct tracker *t, const struct ts_event *e)
{
	const struct sock_entry *s = sock_table__lookup(t->socks, e->cookie);

	return !s || (!tk_key_is_cookie(e->cookie) && s->state != TCP_SYN_RECV);
}

static void apply_state(struct tracker *t, const struct ts_event *e, struct ev_view *v)
{
	bool born;

	if (e->flags & TS_F_CHILD_EARLY) {
		birth_pending(t, e);
		memset(v, 0, sizeof(*v)); /* shown once the child is known */
		return;
	}
	born = t->births_pending && e->oldstate == TCP_SYN_RECV && birth_unknown(t, e) &&
	       birth_resolve(t, e);
	apply_state_known(t, e, v);
	if (born && t->want_view && v->ev)
		v->birth = &t->birth_view;
}

/* A state change whose socket is named by its key (or is unknown). */
static void apply_state_known(struct tracker *t, const struct ts_event *e, struct ev_view *v)
{
	struct sock_entry *s = sock_table__lookup(t->socks, e->cookie);
	__s64 ns_in_old = -1;

	if (e->oldstate >= TCP_MAX_STATES || e->newstate >= TCP_MAX_STATES) {
		t->stats.events_bad++;
		return;
	}
	/*
	 * A socket being born (connect, listen, a listener's new child) starts afresh: an entry
	 * under the same key is a previous life (connect() again on the same socket) or, with
	 * address keys (no cookies), another socket: one whose end was lost, or a closed one whose
	 * timewait sock lives on under a key of our own until it expires or an audit finds it.
	 */
	if (s && (e->oldstate == TCP_CLOSE || e->oldstate == TCP_LISTEN) &&
	    e->newstate != TCP_CLOSE) {
		if (!tk_key_is_cookie(s->cookie) &&
		    (s->state == TCP_TIME_WAIT || (s->flags & SE_ORPHAN_FW2)))
			tk_sock_rekey(t, s, TK_KEY_SYNTH | ++t->synth_keys);
		else
			tk_sock_forget(t, s);
		s = NULL;
	}
	if (s) {
		if (e->flags & TS_F_OWNER_CTX)
			tk_set_owner(t, s, e->pid, e->comm); /* moves its counts to the new owner */
		tk_sock_account(t, s, -1);
		if (s->state_since_ns && s->state == e->oldstate && e->ts_ns >= s->state_since_ns)
			ns_in_old = (__s64)(e->ts_ns - s->state_since_ns);
		copy_tuple(s, e);
	} else if (e->newstate != TCP_CLOSE) {
		s = sock_first_seen(t, e);
		if (s && (e->flags & TS_F_OWNER_CTX)) {
			proc_table__get(t->procs, e->pid, e->comm);
			s->owner = e->pid; /* not counted yet */
		}
	}
	if (!s) {
		t->stats.transitions[e->oldstate][e->newstate]++;
		view_fill(t, v, e, NULL);
		return;
	}
	s->state = e->oldstate;
	observe_transition(t, s, e, ns_in_old);
	view_fill(t, v, e, s);
	v->ns_in_old = ns_in_old;
	/*
	 * The peer's FIN turns our orphan FIN_WAIT2 timewait sock into TIME_WAIT. Check when the
	 * peer sends it, and again when the peer's LAST_ACK ends normally (the FIN was acked): the
	 * orphan's own event can come between the two when the peer closes on another CPU before
	 * the orphan's softirq has run.
	 */
	if (e->newstate == TCP_LAST_ACK ||
	    (e->oldstate == TCP_LAST_ACK && !(s->flags & SE_RESET)))
		peer_fin_sent(t, s, e->ts_ns);
	if (e->newstate != TCP_CLOSE) {
		__u64 cookie = s->cookie;

		tk_sock_enter(t, s, e->newstate, e->ts_ns);
		if (e->newstate == TCP_LISTEN)
			tk_listener_register(t, s);
		if (e->newstate == TCP_ESTABLISHED &&
		    (e->oldstate == TCP_SYN_SENT || e->oldstate == TCP_SYN_RECV))
			count_connection(t, s);
		/*
		 * A timewait sock dies when a connect() takes its tuple (known in full once
		 * established) or when a SYN arrives for it, before the listener's child is born
		 * in SYN_RECV: that child's ESTABLISHED needs no second look.
		 */
		if (e->newstate == TCP_SYN_RECV ||
		    (e->newstate == TCP_ESTABLISHED && e->oldstate != TCP_SYN_RECV))
			tk_tw_recycle_check(t, cookie); /* may move entries: s is not used after */
		return;
	}
	/*
	 * A connect() that took a timewait sock's tuple (tcp_tw_reuse) killed it, even when
	 * the connection then failed: a SYN that timed out, a refusal, a close() meanwhile.
	 */
	if (e->oldstate == TCP_SYN_SENT && (e->flags & TS_F_SYN_OUT)) {
		__u64 cookie = s->cookie;

		tk_tw_recycle_check(t, cookie);
		s = sock_table__lookup(t->socks, cookie); /* entries may have moved */
		if (!s)
			return;
	}
	if ((s->flags & SE_ESTABLISHED) && s->created_ns)
		hist__observe(&t->stats.lifetime, e->ts_ns - s->created_ns);
	switch (close_leaves(t, s, e)) {
	case TCP_TIME_WAIT:
		v->timewait = TCP_TIME_WAIT;
		tk_sock_enter(t, s, TCP_TIME_WAIT, e->ts_ns);
		break;
	case TCP_FIN_WAIT2:
		v->timewait = TCP_FIN_WAIT2;
		tk_sock_enter_orphan_fw2(t, s, e->ts_ns);
		break;
	default:
		tk_sock_account(t, s, 1); /* sock_forget takes it out again */
		tk_sock_forget(t, s);
	}
}

static void apply_accept(struct tracker *t, const struct ts_event *e, struct ev_view *v)
{
	struct sock_entry *s = e->cookie ? sock_table__lookup(t->socks, e->cookie) : NULL;

	if (!s) {
		t->stats.accept_unmatched++;
		proc_table__get(t->procs, e->pid, e->comm);
		view_fill(t, v, e, NULL);
		v->owner = proc_table__find(t->procs, e->pid);
		return;
	}
	tk_set_owner(t, s, e->pid, e->comm);
	if ((s->flags & SE_PASSIVE) && s->created_ns && !(s->flags & SE_ACCEPTED) &&
	    e->ts_ns >= s->created_ns) {
		struct port_key k = { .netns = s->netns, .port = s->sport };
		struct port_stats *p = tk_map_upsert(t, t->ports, &k);

		if (p)
			hist__observe(&p->accept_wait, e->ts_ns - s->created_ns);
	}
	if ((s->flags & (SE_PASSIVE | SE_ESTABLISHED | SE_ACCEPTED)) == (SE_PASSIVE | SE_ESTABLISHED))
		port_pending(t, s, -1);
	s->flags |= SE_ACCEPTED;
	view_fill(t, v, e, s);
}

static __u32 recent_owner(struct tracker *t, __u64 cookie)
{
	struct recent_close *r = &t->recent[cookie % RECENT_SLOTS];

	return r->cookie == cookie ? r->owner : 0;
}

/* The timewait socket (TIME_WAIT or orphan FIN_WAIT2) with exactly this tuple, if any. */
static struct sock_entry *timewait_by_tuple(struct tracker *t, const struct sock_entry *probe)
{
	struct tuple_key k;
	struct sock_entry *s;
	__u64 h, *c;

	if (hashmap__count(t->tw_tuples)) {
		h = tuple_digest(probe);
		c = tw_lookup(t, h);
		if (c && (s = sock_table__lookup(t->socks, *c)) && s->state == TCP_TIME_WAIT &&
		    same_tuple(s, probe))
			return s;
	}
	if (!hashmap__count(t->orphans))
		return NULL;
	tk_tuple_key_of(probe, &k);
	c = hashmap__lookup(t->orphans, &k);
	if (c && (s = sock_table__lookup(t->socks, *c)) && (s->flags & SE_ORPHAN_FW2) &&
	    same_tuple(s, probe))
		return s;
	return NULL;
}

/*
 * A reset sent from this host to a timewait socket of this host kills it, with no event: when
 * the packet that caused the reset came from one of our timewait sockets, forget that socket.
 * IPv4 packets are also matched against dual-stack sockets (v4-mapped IPv6 addresses).
 */
static void reset_kills_timewait(struct tracker *t, const struct ts_event *e)
{
	struct sock_entry probe = { .netns = e->netns, .family = (__u8)e->family,
				    .sport = e->sport, .dport = e->dport };
	struct sock_entry *s;

	memcpy(probe.saddr, e->saddr, 16);
	memcpy(probe.daddr, e->daddr, 16);
	s = timewait_by_tuple(t, &probe);
	if (!s && e->family == AF_INET && t->timewait_v6) { /* counts dual-stack sockets too */
		static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

		probe.family = AF_INET6;
		memcpy(probe.saddr, mapped, 12);
		memcpy(probe.saddr + 12, e->saddr, 4);
		memcpy(probe.daddr, mapped, 12);
		memcpy(probe.daddr + 12, e->daddr, 4);
		s = timewait_by_tuple(t, &probe);
	}
	if (!s)
		return;
	t->stats.tw_reset++;
	t->stats.transitions[s->state][TCP_CLOSE]++;
	tk_sock_forget(t, s);
}

/*
 * The kernel killed a timewait sock before its time (HOOK_TW_KILL). Usually the tracker has
 * already told (a new connection on the tuple, a traced reset) and finds nothing left to do.
 * A timewait sock that never had a cookie is found by its tuple.
 */
static void apply_tw_killed(struct tracker *t, const struct ts_event *e, struct ev_view *v)
{
	struct sock_entry *s = e->cookie ? sock_table__lookup(t->socks, e->cookie) : NULL;

	if (!s || !(s->state == TCP_TIME_WAIT || (s->flags & SE_ORPHAN_FW2))) {
		struct sock_entry probe = { .netns = e->netns, .family = (__u8)e->family,
					    .sport = e->sport, .dport = e->dport };

		memcpy(probe.saddr, e->saddr, 16);
		memcpy(probe.daddr, e->daddr, 16);
		s = timewait_by_tuple(t, &probe);
	}
	view_fill(t, v, e, s);
	if (!s) {
		t->stats.tw_killed_unknown++;
		return;
	}
	t->stats.tw_killed++;
	t->stats.transitions[s->state][TCP_CLOSE]++;
	tk_sock_forget(t, s);
}

/* Retransmits, resets and errors: charged to the socket's owner. */
static void apply_sock_event(struct tracker *t, const struct ts_event *e, struct ev_view *v)
{
	struct sock_entry *s;
	struct proc_entry *p;

	if (e->flags & TS_F_SKB_TUPLE)
		reset_kills_timewait(t, e); /* before looking up s: it may delete entries */
	s = (e->flags & TS_F_NO_SOCK) ? NULL : sock_table__lookup(t->socks, e->cookie);
	if (s && !(e->flags & TS_F_SKB_TUPLE))
		copy_tuple(s, e);
	p = proc_table__find(t->procs, s ? s->owner : recent_owner(t, e->cookie));
	view_fill(t, v, e, s);
	if (!s)
		v->owner = p ? p : v->owner;
	if (e->flags & TS_F_NO_SOCK) {
		t->stats.resets_no_socket++;
		return;
	}
	if (!p)
		p = proc_table__find(t->procs, 0);
	switch (e->kind) {
	case TS_EV_RETRANS:
	case TS_EV_SYNACK_RETRANS:
		if (e->aux < TS_RETRANS_KIND_MAX)
			p->retrans[e->aux]++;
		/*
		 * A connect()'s port is picked after its SYN_SENT event, so a connect that took
		 * a timewait sock's tuple shows it first here when its SYN is not answered at
		 * once (a full accept queue), rather than a second later once established.
		 */
		if (e->kind == TS_EV_RETRANS && s && s->state == TCP_SYN_SENT)
			tk_tw_recycle_check(t, s->cookie); /* may move entries: s is not used after */
		break;
	case TS_EV_RESET_SENT:
		p->resets_sent++;
		if (s)
			s->flags |= SE_RESET;
		break;
	case TS_EV_RESET_RECV:
		p->resets_recv++;
		if (s)
			s->flags |= SE_RESET;
		break;
	case TS_EV_SOCK_ERROR:
		proc_entry__add_error(p, (int)e->aux, 1);
		break;
	}
}

/*
 * The socket table is far bigger than the caches at high churn: each event's first lookup is a
 * cache miss. Called for a batch of records before it is processed, so the misses of a batch
 * overlap instead of coming one after another. (Prefetching the TIME_WAIT tuple index too meant
 * computing each tuple digest twice, for no gain that replay could tell from noise.)
 */
void tracker__prefetch(const struct tracker *t, const void *data, __u64 size)
{
	const struct ts_record *r = data;

	if (size >= sizeof(*r))
		sock_table__prefetch(t->socks, r->cookie);
}

void tracker__apply(struct tracker *t, const void *data, __u64 size, struct ev_view *view)
{
	if (ts_record__decode(data, size, &t->ev)) {
		t->stats.events_bad++;
		if (view)
			memset(view, 0, sizeof(*view));
		return;
	}
	tracker__apply_event(t, &t->ev, view);
}

void tracker__apply_event(struct tracker *t, const struct ts_event *e, struct ev_view *view)
{
	struct ev_view scratch;
	struct ev_view *v = view ? view : &scratch;

	t->want_view = view != NULL;
	/*
	 * Cookie 0 names no socket: only a reset sent with no socket, a child born before its
	 * cookie was set, and a timewait sock that never had one may carry it.
	 */
	if (!e->kind || e->kind >= TS_EV_KIND_MAX ||
	    (!e->cookie && !(e->flags & TS_F_NO_SOCK) && e->kind != TS_EV_TW_KILLED &&
	     !(e->kind == TS_EV_STATE && (e->flags & TS_F_CHILD_EARLY)))) {
		t->stats.events_bad++;
		memset(v, 0, sizeof(*v));
		return;
	}
	t->stats.events[e->kind]++;
	switch (e->kind) {
	case TS_EV_STATE:
		apply_state(t, e, v);
		break;
	case TS_EV_ACCEPT:
		apply_accept(t, e, v);
		break;
	case TS_EV_TW_KILLED:
		apply_tw_killed(t, e, v);
		break;
	default:
		apply_sock_event(t, e, v);
		break;
	}
}

/* Pop queue items due at now whose socket is still in `state` since the queued time. */
static void expire_queue(struct tracker *t, struct fifo *q, int state, __u64 lifetime_ns,
			 __u64 now_ns)
{
	while (q->len && fifo_at(q, 0)->at_ns <= now_ns) {
		struct fifo_item it = *fifo_at(q, 0);
		struct sock_entry *s = sock_table__lookup(t->socks, it.cookie);

		fifo_pop(q);
		if (!s || s->state != state)
			continue;
		if (state == TCP_TIME_WAIT && s->state_since_ns + lifetime_ns != it.at_ns)
			continue; /* re-entered later; a later item covers it */
		if (state == TCP_FIN_WAIT2 && !(s->flags & SE_ORPHAN_FW2))
			continue;
		t->stats.transitions[state][TCP_CLOSE]++;
		tk_sock_forget(t, s);
	}
}

void tracker__tick(struct tracker *t, __u64 now_ns)
{
	expire_queue(t, &t->tw_q, TCP_TIME_WAIT, t->opts.time_wait_ns, now_ns);
	expire_queue(t, &t->fw2_q, TCP_FIN_WAIT2, t->opts.fin_timeout_ns, now_ns);
}

void tracker__update_close_wait_oldest(struct tracker *t)
{
	struct fifo *q = &t->cw_q;
	struct proc_entry *p;
	__u32 it = 0, keep = 0;

	while ((p = proc_table__next(t->procs, &it)))
		p->cw_oldest_since_ns = 0;
	/* Walk in entry order, compacting away sockets that left CLOSE_WAIT. */
	for (__u32 i = 0; i < q->len; i++) {
		struct fifo_item item = *fifo_at(q, i);
		struct sock_entry *s = sock_table__lookup(t->socks, item.cookie);

		if (!s || s->state != TCP_CLOSE_WAIT || s->state_since_ns != item.at_ns)
			continue;
		*fifo_at(q, keep++) = item;
		p = proc_table__find(t->procs, s->owner);
		if (p && !p->cw_oldest_since_ns)
			p->cw_oldest_since_ns = item.at_ns;
	}
	q->len = keep;
}

const struct tracker_stats *tracker__stats(const struct tracker *t)
{
	return &t->stats;
}

struct sock_table *tracker__socks(struct tracker *t)
{
	return t->socks;
}

struct proc_table *tracker__procs(struct tracker *t)
{
	return t->procs;
}

struct hashmap *tracker__netns_map(struct tracker *t)
{
	return t->netns;
}

struct hashmap *tracker__port_map(struct tracker *t)
{
	return t->ports;
}

struct hashmap *tracker__remote_map(struct tracker *t)
{
	return t->remotes;
}
