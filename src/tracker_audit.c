// SPDX-License-Identifier: GPL-2.0-only
/*
 * Audits of the tracker's model against a sock_diag dump (seeding is the first audit); the
 * protocol is described in include/tracker.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracker_int.h"

static void audit_fill_from_diag(struct sock_entry *s, __u32 netns, const struct diag_sock *d)
{
	s->netns = netns;
	s->family = d->family;
	s->sport = d->sport;
	s->dport = d->dport;
	memcpy(s->saddr, d->saddr, 16);
	memcpy(s->daddr, d->daddr, 16);
}

static void addr_key_of(const struct sock_entry *s, struct addr_key *k)
{
	tk_tuple_key_of(s, &k->t);
	k->netns = s->netns;
	k->pad = 0;
}

/*
 * Where the kernel side cannot create cookies, entries of sockets nobody gave a cookie are keyed
 * by address (tk_key_is_cookie). The dump gives every socket a cookie, and the socket's events
 * carry it from then on: index those entries by namespace and tuple so that the dump's sockets
 * find them (audit_uncookied_match), not only their cookies. NULL when there are none.
 */
static struct hashmap *index_uncookied(struct tracker *t)
{
	__u32 n = sock_table__slots(t->socks);
	struct hashmap *m = NULL;

	for (__u32 i = 0; i < n; i++) {
		struct sock_entry *s = sock_table__slot(t->socks, i);
		struct addr_key k;
		bool created;
		__u64 *v;

		if (!s->cookie || tk_key_is_cookie(s->cookie))
			continue;
		if (!m && !(m = hashmap__new(sizeof(k), sizeof(__u64), t->opts.max_sockets)))
			return NULL;
		addr_key_of(s, &k);
		v = hashmap__upsert(m, &k, &created);
		if (v)
			*v = s->cookie;
	}
	return m;
}

/* The entry without a cookie that dumped socket d (in netns) is, moved to d's cookie. */
static struct sock_entry *audit_uncookied_match(struct tracker *t, __u32 netns,
						const struct diag_sock *d)
{
	struct sock_entry probe = { 0 }, *s;
	struct addr_key k;
	__u64 *key;

	if (!t->audit_uncookied)
		return NULL;
	audit_fill_from_diag(&probe, netns, d);
	addr_key_of(&probe, &k);
	key = hashmap__lookup(t->audit_uncookied, &k);
	if (!key || !(s = sock_table__lookup(t->socks, *key)))
		return NULL;
	hashmap__delete(t->audit_uncookied, &k);
	t->stats.rekeyed++;
	return tk_sock_rekey(t, s, d->cookie);
}

int tracker__audit_begin(struct tracker *t, __u64 now_ns)
{
	hashmap__free(t->audit_gone);
	hashmap__free(t->audit_netns);
	hashmap__free(t->audit_uncookied);
	t->audit_gone = hashmap__new(sizeof(__u64), 1, t->opts.max_sockets);
	t->audit_netns = hashmap__new(sizeof(__u32), 1, MAP_LIMIT);
	t->audit_uncookied = index_uncookied(t);
	if (!t->audit_gone || !t->audit_netns)
		return -ENOMEM;
	t->auditing = true;
	t->audit_listed_all = t->audit_list_broken = false;
	t->audit_untracked = 0;
	t->audit_start_ns = now_ns;
	return 0;
}

/* How a namespace fared in this audit (the value in audit_netns). */
enum { AUDIT_NS_DUMPED = 1, AUDIT_NS_FAILED = 2 };

static void audit_netns_mark(struct tracker *t, __u32 netns, __u8 how)
{
	bool created;
	__u8 *v = hashmap__upsert(t->audit_netns, &netns, &created);

	if (v)
		*v = how;
	else
		t->audit_list_broken = true; /* a live namespace would look gone */
}

void tracker__audit_netns(struct tracker *t, __u32 netns)
{
	audit_netns_mark(t, netns, AUDIT_NS_DUMPED);
}

void tracker__audit_netns_failed(struct tracker *t, __u32 netns)
{
	audit_netns_mark(t, netns, AUDIT_NS_FAILED);
	t->stats.audit_netns_failed++;
}

void tracker__audit_listed_all(struct tracker *t)
{
	t->audit_listed_all = !t->audit_list_broken;
}

/* Was the namespace of this entry dumped (1), listed without a dump (0), or is it gone (-1)? */
static int audit_netns_fate(struct tracker *t, __u32 netns)
{
	const __u8 *v = hashmap__lookup(t->audit_netns, &netns);

	if (v)
		return *v == AUDIT_NS_DUMPED;
	return t->audit_listed_all && netns ? -1 : 0;
}

bool tracker__needs_owner(struct tracker *t, __u64 cookie)
{
	/* Only sockets the table does not know: resolving owners scans all of /proc, and an
	 * ownerless socket the table knows would otherwise cost that scan at every audit. */
	return !sock_table__lookup(t->socks, cookie);
}

/* When did a dumped socket enter its state? Exact for TIME_WAIT, else "now" (a lower bound). */
static __u64 audit_since(struct tracker *t, const struct diag_sock *d)
{
	__u64 now = t->audit_start_ns;

	if (d->state == TCP_TIME_WAIT && d->expires_ms) {
		__u64 left = (__u64)d->expires_ms * 1000000ull;

		if (left < t->opts.time_wait_ns && now > t->opts.time_wait_ns - left)
			return now - (t->opts.time_wait_ns - left);
	}
	return now;
}

/* Add a socket the dump has and the table does not; false if the table is full. */
static bool audit_add_missing(struct tracker *t, __u32 netns, const struct diag_sock *d,
			      __u32 owner_pid)
{
	bool created;
	struct sock_entry *s = sock_table__upsert(t->socks, d->cookie, &created);

	if (!s) {
		t->audit_untracked++;
		return false;
	}
	audit_fill_from_diag(s, netns, d);
	s->flags = SE_SEEDED | SE_AUDIT_SEEN;
	/* Accepted from a listener on its local port (listeners are reconciled first). */
	if (d->state != TCP_LISTEN && tk_listener_count(t, netns, d->sport))
		s->flags |= SE_PASSIVE;
	if (d->state == TCP_SYN_RECV && !d->inode)
		s->flags |= SE_REQUEST; /* half-open: reported per listener, not as a socket */
	if (owner_pid)
		proc_table__get(t->procs, owner_pid, NULL);
	s->owner = owner_pid;
	if (d->state == TCP_FIN_WAIT2 && !d->inode) {
		tk_sock_enter_orphan_fw2(t, s, audit_since(t, d));
		return true;
	}
	tk_sock_enter(t, s, d->state, audit_since(t, d));
	if (d->state == TCP_LISTEN)
		tk_listener_register(t, s);
	return true;
}

void tracker__audit_add(struct tracker *t, __u32 netns, const struct diag_sock *d, __u32 owner_pid)
{
	struct sock_entry *s;

	if (!d->cookie || d->state >= TCP_MAX_STATES || !d->state)
		return;
	s = sock_table__lookup(t->socks, d->cookie);
	if (!s)
		s = audit_uncookied_match(t, netns, d);
	if (!s) {
		if (hashmap__lookup(t->audit_gone, &d->cookie))
			return; /* closed by an event after the dump saw it */
		/* The first audit is the seeding: what it adds is not drift. */
		if (audit_add_missing(t, netns, d, owner_pid) && t->stats.audits &&
		    !(d->state == TCP_SYN_RECV && !d->inode))
			t->stats.corrections[d->state][AUDIT_MISSING]++;
		return;
	}
	s->flags |= SE_AUDIT_SEEN;
	if (s->state == TCP_SYN_SENT && d->state == TCP_SYN_SENT && !s->sport && d->sport) {
		/*
		 * A connect still waiting for its SYN to be answered: the port it picked after its
		 * SYN_SENT event shows first here. A timewait sock whose tuple it took is gone.
		 */
		audit_fill_from_diag(s, netns, d);
		tk_tw_recycle_check(t, d->cookie);
		s = sock_table__lookup(t->socks, d->cookie); /* entries may have moved */
		if (!s)
			return;
	}
	if (s->state_since_ns >= t->audit_start_ns)
		return; /* an event after the dump started is newer than the dump */
	if (!s->owner && owner_pid)
		tk_set_owner(t, s, owner_pid, NULL);
	if (s->state == d->state)
		return;
	tk_sock_account(t, s, -1);
	if ((s->flags & SE_ORPHAN_FW2) && d->state == TCP_TIME_WAIT) {
		/* remote peer's FIN arrived: the kernel's silent FIN_WAIT2 -> TIME_WAIT */
		struct tuple_key k;

		tk_tuple_key_of(s, &k);
		hashmap__delete(t->orphans, &k);
		s->flags &= ~SE_ORPHAN_FW2;
		t->stats.tw_promoted_by_audit++;
		t->stats.transitions[TCP_FIN_WAIT2][TCP_TIME_WAIT]++;
	} else {
		t->stats.corrections[d->state][AUDIT_STATE]++;
	}
	tk_sock_enter(t, s, d->state, audit_since(t, d));
}

/*
 * Per-namespace aggregates (the map's key starts with the namespace) of namespaces that are
 * gone: their sockets are forgotten by now, what is left are zero counts and histograms that
 * would keep their series forever.
 */
static void audit_drop_gone_netns(struct tracker *t, struct hashmap *m, size_t key_size)
{
	unsigned char *gone = NULL;
	__u32 it = 0, n = 0, cap = 0;
	const void *key;

	while (hashmap__next(m, &it, &key)) {
		__u32 netns;

		memcpy(&netns, key, sizeof(netns));
		if (audit_netns_fate(t, netns) >= 0)
			continue;
		if (n == cap) {
			unsigned char *p = realloc(gone, key_size * (cap = cap ? cap * 2 : 64));

			if (!p)
				break;
			gone = p;
		}
		memcpy(gone + key_size * n++, key, key_size);
	}
	for (__u32 i = 0; i < n; i++)
		hashmap__delete(m, gone + key_size * i);
	free(gone);
}

/*
 * Entries of dumped namespaces the dump did not show, and that no event touched since; entries
 * of namespaces that no longer exist.
 */
void tracker__audit_end(struct tracker *t, __u64 now_ns)
{
	__u32 n = sock_table__slots(t->socks), nstale = 0, cap = 0;
	__u64 *stale = NULL;

	for (__u32 i = 0; i < n; i++) {
		struct sock_entry *s = sock_table__slot(t->socks, i);

		if (!s->cookie)
			continue;
		if (s->flags & SE_AUDIT_SEEN) {
			s->flags &= ~SE_AUDIT_SEEN;
			continue;
		}
		if (s->state_since_ns >= t->audit_start_ns || !audit_netns_fate(t, s->netns))
			continue;
		if (nstale == cap) {
			__u64 *p = realloc(stale, sizeof(*p) * (cap = cap ? cap * 2 : 256));

			if (!p)
				break;
			stale = p;
		}
		stale[nstale++] = s->cookie;
	}
	for (__u32 i = 0; i < nstale; i++) {
		struct sock_entry *s = sock_table__lookup(t->socks, stale[i]);
		bool expected = s->state == TCP_TIME_WAIT &&
				s->state_since_ns + t->opts.time_wait_ns <= now_ns + 5000000000ull;

		if (audit_netns_fate(t, s->netns) < 0)
			t->stats.netns_gone_sockets++; /* its namespace went away: not drift */
		/* A TIME_WAIT that reached its lifetime is normal expiry, not drift. */
		else if (!expected && !(s->flags & SE_REQUEST))
			t->stats.corrections[s->state][AUDIT_STALE]++;
		tk_sock_forget(t, s);
	}
	free(stale);
	if (t->audit_listed_all) {
		audit_drop_gone_netns(t, t->netns, sizeof(__u32));
		audit_drop_gone_netns(t, t->ports, sizeof(struct port_key));
	}
	hashmap__free(t->audit_uncookied);
	t->audit_uncookied = NULL;
	t->auditing = false;
	t->stats.audit_untracked = t->audit_untracked;
	t->stats.audits++;
	t->stats.audit_last_ns = now_ns - t->audit_start_ns;
}
