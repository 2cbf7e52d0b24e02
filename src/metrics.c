// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus exposition of `tcpstate serve`. Every family is rendered from the tracker's
 * aggregates and the listener samples, so a scrape costs time in proportion to the number of
 * series, never to the number of sockets. Label cardinality is bounded by design: processes are
 * labelled by command and cgroup (pid only with --pid-label), listeners by port, TIME_WAIT by the
 * top-N remote endpoints; what does not fit is folded into "other" and counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_names.h"
#include "hashmap.h"
#include "metrics.h"
#include "process_stats.h"
#include "prom_writer.h"

/* A process group: the label set of per-process series. */
struct group_key {
	char comm[TS_COMM_LEN];
	const char *cgroup;
	__u32 pid; /* 0 unless --pid-label */
	__u32 pad;
};

struct group {
	struct proc_entry sum; /* socket counts, counters and oldest CLOSE_WAIT of the members */
	struct cgroup_names names; /* unit, container, pod: functions of the cgroup label */
};

enum folded_family { FOLD_PROCESS, FOLD_REMOTE, FOLD_MAX };

struct metrics {
	struct session *s;
	struct metrics_opts o;
	struct hashmap *admitted;	/* group_key -> char: groups with their own series */
	__u64 folded[FOLD_MAX];
	__u64 scrapes;
	__u64 last_scrape_ns;
	unsigned last_series;
};

struct metrics *metrics__new(struct session *s, const struct metrics_opts *o)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->s = s;
	m->o = *o;
	m->admitted = hashmap__new(sizeof(struct group_key), 1, o->max_groups + 1);
	if (!m->admitted) {
		free(m);
		return NULL;
	}
	return m;
}

void metrics__free(struct metrics *m)
{
	if (!m)
		return;
	hashmap__free(m->admitted);
	free(m);
}

static const char *const state_label[TCP_MAX_STATES] = {
	[TCP_ESTABLISHED] = "established", [TCP_SYN_SENT] = "syn_sent", [TCP_SYN_RECV] = "syn_recv",
	[TCP_FIN_WAIT1] = "fin_wait1",	   [TCP_FIN_WAIT2] = "fin_wait2", [TCP_TIME_WAIT] = "time_wait",
	[TCP_CLOSE] = "close",		   [TCP_CLOSE_WAIT] = "close_wait", [TCP_LAST_ACK] = "last_ack",
	[TCP_LISTEN] = "listen",	   [TCP_CLOSING] = "closing",
};

static void hist_sample(struct prom_writer *w, const char *name, const char *const *labels,
			const struct hist *h)
{
	prom_writer__histogram(w, name, labels, hist_bounds_sec, h->counts, HIST_NBOUNDS,
			       (double)h->sum_ns / 1e9);
}

/* ---- sockets by state ------------------------------------------------------------------ */

static void render_states(struct metrics *m, struct prom_writer *w)
{
	const struct tracker_stats *st = tracker__stats(m->s->tracker);
	struct hashmap *nsmap = tracker__netns_map(m->s->tracker);
	const void *key;
	__u32 it = 0, *v;
	char ns[16];

	prom_writer__family(w, "tcpstate_sockets", "gauge",
			    "TCP sockets on the host (all network namespaces) by state.");
	for (int s = 1; s <= TCP_CLOSING; s++) {
		const char *l[] = { "state", state_label[s], NULL };

		if (s != TCP_CLOSE)
			prom_writer__sample_u64(w, "tcpstate_sockets", l, st->by_state[s]);
	}
	prom_writer__family(w, "tcpstate_netns_sockets", "gauge",
			    "TCP sockets by network namespace (inode) and state; zero counts omitted.");
	while ((v = hashmap__next(nsmap, &it, &key))) {
		snprintf(ns, sizeof(ns), "%u", *(const __u32 *)key);
		for (int s = 1; s <= TCP_CLOSING; s++) {
			const char *l[] = { "netns", ns, "state", state_label[s], NULL };

			if (v[s] && s != TCP_CLOSE)
				prom_writer__sample_u64(w, "tcpstate_netns_sockets", l, v[s]);
		}
	}
}

static void render_transitions(struct metrics *m, struct prom_writer *w)
{
	const struct tracker_stats *st = tracker__stats(m->s->tracker);

	prom_writer__family(w, "tcpstate_state_transitions_total", "counter",
			    "TCP state transitions seen, by old and new state.");
	for (int a = 1; a < TCP_MAX_STATES; a++)
		for (int b = 1; b < TCP_MAX_STATES; b++) {
			const char *l[] = { "from", state_label[a], "to", state_label[b], NULL };

			if (st->transitions[a][b])
				prom_writer__sample_u64(w, "tcpstate_state_transitions_total", l,
							st->transitions[a][b]);
		}
	prom_writer__family(w, "tcpstate_connect_latency_seconds", "histogram",
			    "Time from connect() (SYN_SENT) to ESTABLISHED.");
	hist_sample(w, "tcpstate_connect_latency_seconds", NULL, &st->connect_latency);
	prom_writer__family(w, "tcpstate_connection_lifetime_seconds", "histogram",
			    "Lifetime of connections that established, from first state to CLOSE.");
	hist_sample(w, "tcpstate_connection_lifetime_seconds", NULL, &st->lifetime);
}

/* ---- process groups -------------------------------------------------------------------- */

static bool group_has_data(const struct proc_entry *p)
{
	for (int s = 1; s < TCP_MAX_STATES; s++)
		if (p->states[s])
			return true;
	for (int k = 0; k < TS_RETRANS_KIND_MAX; k++)
		if (p->retrans[k])
			return true;
	return p->resets_sent || p->resets_recv || p->errors[0].count ||
	       hist__count(&p->close_delay);
}

static void group_key_of(struct metrics *m, const struct proc_entry *p, struct group_key *k)
{
	memset(k, 0, sizeof(*k));
	if (!p->pid) {
		strcpy(k->comm, "unknown");
		k->cgroup = "";
		return;
	}
	memcpy(k->comm, p->comm, sizeof(k->comm));
	k->cgroup = p->cgroup;
	if (m->o.pid_label)
		k->pid = p->pid;
}

/*
 * Admission is first come, first served and never revoked, so series stay stable. Returns
 * true if k keeps its own series, false if it was rewritten to the "other" group.
 */
static bool group_admit(struct metrics *m, struct group_key *k)
{
	bool created;

	if (hashmap__lookup(m->admitted, k))
		return true;
	if (hashmap__count(m->admitted) < m->o.max_groups &&
	    hashmap__upsert(m->admitted, k, &created))
		return true;
	memset(k, 0, sizeof(*k));
	strcpy(k->comm, "other");
	k->cgroup = "other";
	return false;
}

static void group_add(struct group *g, const struct proc_entry *p)
{
	for (int s = 0; s < TCP_MAX_STATES; s++)
		g->sum.states[s] += p->states[s];
	proc_entry__add_counters(&g->sum, p);
	if (p->cw_oldest_since_ns &&
	    (!g->sum.cw_oldest_since_ns || p->cw_oldest_since_ns < g->sum.cw_oldest_since_ns))
		g->sum.cw_oldest_since_ns = p->cw_oldest_since_ns;
}

static struct hashmap *groups_build(struct metrics *m)
{
	struct proc_table *pt = tracker__procs(m->s->tracker);
	struct hashmap *g = hashmap__new(sizeof(struct group_key), sizeof(struct group),
					 m->o.max_groups + 2);
	struct proc_entry *p;
	__u32 it = 0;

	if (!g)
		return NULL;
	m->folded[FOLD_PROCESS] = 0;
	tracker__update_close_wait_oldest(m->s->tracker);
	while ((p = proc_table__next(pt, &it))) {
		struct group_key k;
		struct group *v;
		bool created;

		if (!group_has_data(p))
			continue;
		group_key_of(m, p, &k);
		if (p->pid && !group_admit(m, &k))
			m->folded[FOLD_PROCESS]++; /* processes folded into "other" */
		v = hashmap__upsert(g, &k, &created);
		if (!v)
			continue;
		if (created)
			cgroup_names__parse(k.cgroup, &v->names);
		group_add(v, p);
	}
	it = 0;
	while ((p = proc_table__next_retired(pt, &it))) {
		struct group_key k = { .cgroup = p->cgroup };
		struct group *v;
		bool created;

		memcpy(k.comm, p->comm, sizeof(k.comm));
		if (!group_admit(m, &k))
			m->folded[FOLD_PROCESS]++;
		v = hashmap__upsert(g, &k, &created);
		if (!v)
			continue;
		if (created)
			cgroup_names__parse(k.cgroup, &v->names);
		group_add(v, p);
	}
	return g;
}

/*
 * The label set of a group into l (at least GROUP_LABELS_MAX entries, NULL-terminated): comm,
 * cgroup, and the unit, container and pod names found in the cgroup path (only those that are
 * set: they add no series, being functions of the cgroup), then pid with --pid-label. Returns
 * the number of pointers before the NULL.
 */
#define GROUP_LABELS_MAX 18
static int group_labels(const struct group_key *k, const struct group *g, char *pid, size_t len,
			const char **l)
{
	int i = 0;

	l[i++] = "comm";
	l[i++] = k->comm;
	l[i++] = "cgroup";
	l[i++] = k->cgroup;
	if (g->names.unit[0]) {
		l[i++] = "unit";
		l[i++] = g->names.unit;
	}
	if (g->names.container[0]) {
		l[i++] = "container";
		l[i++] = g->names.container;
	}
	if (g->names.pod[0]) {
		l[i++] = "pod";
		l[i++] = g->names.pod;
	}
	if (k->pid) {
		snprintf(pid, len, "%u", k->pid);
		l[i++] = "pid";
		l[i++] = pid;
	}
	l[i] = NULL;
	return i;
}

static void render_group_states(struct prom_writer *w, struct hashmap *g)
{
	const struct group_key *k;
	struct group *v;
	__u32 it = 0;
	char pid[16];

	prom_writer__family(w, "tcpstate_process_sockets", "gauge",
			    "TCP sockets by owning process (command and cgroup) and state.");
	while ((v = hashmap__next(g, &it, (const void **)&k))) {
		const char *l[GROUP_LABELS_MAX + 2];
		int n = group_labels(k, v, pid, sizeof(pid), l);

		for (int s = 1; s <= TCP_CLOSING; s++) {
			if (!v->sum.states[s] || s == TCP_CLOSE)
				continue;
			l[n] = "state";
			l[n + 1] = state_label[s];
			l[n + 2] = NULL;
			prom_writer__sample_u64(w, "tcpstate_process_sockets", l, v->sum.states[s]);
		}
	}
}

static void render_group_close_wait(struct prom_writer *w, struct hashmap *g, __u64 now)
{
	const struct group_key *k;
	struct group *v;
	__u32 it = 0;
	char pid[16];

	prom_writer__family(w, "tcpstate_close_wait_oldest_seconds", "gauge",
			    "Age of the oldest CLOSE_WAIT socket of the process group (a lower "
			    "bound for sockets that existed before tcpstate started).");
	while ((v = hashmap__next(g, &it, (const void **)&k))) {
		const char *l[GROUP_LABELS_MAX];

		if (!v->sum.cw_oldest_since_ns || !v->sum.states[TCP_CLOSE_WAIT])
			continue;
		group_labels(k, v, pid, sizeof(pid), l);
		prom_writer__sample(w, "tcpstate_close_wait_oldest_seconds", l,
				    (double)(now - v->sum.cw_oldest_since_ns) / 1e9);
	}
	prom_writer__family(w, "tcpstate_close_wait_duration_seconds", "histogram",
			    "Time applications took to close() after the peer's FIN "
			    "(CLOSE_WAIT -> LAST_ACK).");
	it = 0;
	while ((v = hashmap__next(g, &it, (const void **)&k))) {
		const char *l[GROUP_LABELS_MAX];

		if (!hist__count(&v->sum.close_delay))
			continue;
		group_labels(k, v, pid, sizeof(pid), l);
		hist_sample(w, "tcpstate_close_wait_duration_seconds", l, &v->sum.close_delay);
	}
}

static void render_group_counters(struct prom_writer *w, struct hashmap *g)
{
	static const char *const rk[TS_RETRANS_KIND_MAX] = { "syn", "rto", "fast", "synack" };
	const struct group_key *k;
	struct group *v;
	__u32 it = 0;
	char pid[16], ebuf[16];

	prom_writer__family(w, "tcpstate_retransmits_total", "counter",
			    "Retransmitted segments by owning process and kind: syn (connect not "
			    "answered), synack (listener), rto (after a timeout), fast (fast "
			    "retransmit, TLP, other).");
	while ((v = hashmap__next(g, &it, (const void **)&k))) {
		const char *l[GROUP_LABELS_MAX + 2];
		int n = group_labels(k, v, pid, sizeof(pid), l);

		for (int r = 0; r < TS_RETRANS_KIND_MAX; r++) {
			if (!v->sum.retrans[r])
				continue;
			l[n] = "kind";
			l[n + 1] = rk[r];
			l[n + 2] = NULL;
			prom_writer__sample_u64(w, "tcpstate_retransmits_total", l, v->sum.retrans[r]);
		}
	}
	prom_writer__family(w, "tcpstate_resets_sent_total", "counter",
			    "Resets sent on sockets of the process group.");
	it = 0;
	while ((v = hashmap__next(g, &it, (const void **)&k))) {
		const char *l[GROUP_LABELS_MAX];

		group_labels(k, v, pid, sizeof(pid), l);
		if (v->sum.resets_sent)
			prom_writer__sample_u64(w, "tcpstate_resets_sent_total", l, v->sum.resets_sent);
	}
	prom_writer__family(w, "tcpstate_resets_received_total", "counter",
			    "Resets received on sockets of the process group.");
	it = 0;
	while ((v = hashmap__next(g, &it, (const void **)&k))) {
		const char *l[GROUP_LABELS_MAX];

		group_labels(k, v, pid, sizeof(pid), l);
		if (v->sum.resets_recv)
			prom_writer__sample_u64(w, "tcpstate_resets_received_total", l,
						v->sum.resets_recv);
	}
	prom_writer__family(w, "tcpstate_socket_errors_total", "counter",
			    "Socket errors reported to the process group, by errno.");
	it = 0;
	while ((v = hashmap__next(g, &it, (const void **)&k))) {
		const char *l[GROUP_LABELS_MAX + 2];
		int n = group_labels(k, v, pid, sizeof(pid), l);

		for (int i = 0; i < PROC_ERR_SLOTS && v->sum.errors[i].count; i++) {
			l[n] = "errno";
			l[n + 1] = v->sum.errors[i].err < 0 ?
					   "other" :
					   errno_name(v->sum.errors[i].err, ebuf, sizeof(ebuf));
			l[n + 2] = NULL;
			prom_writer__sample_u64(w, "tcpstate_socket_errors_total", l,
						v->sum.errors[i].count);
		}
	}
}

static void render_processes(struct metrics *m, struct prom_writer *w)
{
	struct hashmap *g = groups_build(m);

	if (!g)
		return;
	render_group_states(w, g);
	render_group_close_wait(w, g, session__now_ns());
	render_group_counters(w, g);
	hashmap__free(g);
}

/* ---- TIME_WAIT per remote --------------------------------------------------------------- */

struct remote_top {
	const struct remote_key *k;
	__u32 n;
};

/* Insert into v[0..*len) kept sorted by count, largest first, capacity cap. Returns the count
 * that fell off the end (0 if none). */
static __u32 top_insert(struct remote_top *v, __u32 *len, __u32 cap, struct remote_top x)
{
	__u32 dropped = 0, i;

	if (*len == cap) {
		if (x.n <= v[cap - 1].n)
			return x.n;
		dropped = v[cap - 1].n;
		(*len)--;
	}
	for (i = *len; i > 0 && v[i - 1].n < x.n; i--)
		v[i] = v[i - 1];
	v[i] = x;
	(*len)++;
	return dropped;
}

/*
 * TIME_WAIT per remote: the top --max-remotes by a single pass (O(remotes x top) at worst,
 * usually O(remotes)), the rest summed into remote="other".
 */
static void render_time_wait(struct metrics *m, struct prom_writer *w)
{
	struct hashmap *rm = tracker__remote_map(m->s->tracker);
	struct remote_top *v = calloc(m->o.max_remotes + 1, sizeof(*v));
	__u32 it = 0, n = 0, *c, total = 0;
	__u64 other = 0;
	const void *key;
	char ep[80], ns[16];
	double range = m->o.port_range_size > 0 ? m->o.port_range_size : 1;

	if (!v)
		return;
	while ((c = hashmap__next(rm, &it, &key))) {
		total++;
		other += top_insert(v, &n, m->o.max_remotes, (struct remote_top){ key, *c });
	}
	m->folded[FOLD_REMOTE] = total - n;
	prom_writer__family(w, "tcpstate_time_wait_sockets", "gauge",
			    "TIME_WAIT sockets of active opens by network namespace and remote "
			    "endpoint: the top --max-remotes, the rest in remote=\"other\".");
	for (__u32 i = 0; i < n; i++) {
		const char *l[] = { "netns", ns, "remote", ep, NULL };

		snprintf(ns, sizeof(ns), "%u", v[i].k->netns);
		endpoint_format(v[i].k->family, v[i].k->addr, v[i].k->port, true, ep, sizeof(ep));
		prom_writer__sample_u64(w, "tcpstate_time_wait_sockets", l, v[i].n);
	}
	if (total > n) {
		const char *l[] = { "netns", "other", "remote", "other", NULL };

		prom_writer__sample_u64(w, "tcpstate_time_wait_sockets", l, other);
	}
	prom_writer__family(w, "tcpstate_time_wait_port_range_ratio", "gauge",
			    "TIME_WAIT sockets towards a remote endpoint divided by the size of the "
			    "local ephemeral port range: 1 means new connections to it will fail.");
	for (__u32 i = 0; i < n; i++) {
		const char *l[] = { "netns", ns, "remote", ep, NULL };

		snprintf(ns, sizeof(ns), "%u", v[i].k->netns);
		endpoint_format(v[i].k->family, v[i].k->addr, v[i].k->port, true, ep, sizeof(ep));
		prom_writer__sample(w, "tcpstate_time_wait_port_range_ratio", l, v[i].n / range);
	}
	prom_writer__family(w, "tcpstate_local_port_range_size", "gauge",
			    "Number of ports in net.ipv4.ip_local_port_range.");
	prom_writer__sample_u64(w, "tcpstate_local_port_range_size", NULL,
				(unsigned long long)m->o.port_range_size);
	free(v);
}

/* ---- listeners and ports ---------------------------------------------------------------- */

static void render_ports(struct metrics *m, struct prom_writer *w)
{
	struct hashmap *pm = tracker__port_map(m->s->tracker);
	const struct port_key *k;
	struct port_stats *p;
	__u32 it = 0;
	char ns[16], port[8];

	prom_writer__family(w, "tcpstate_listener_close_wait_sockets", "gauge",
			    "Accepted sockets in CLOSE_WAIT, by listening port.");
	while ((p = hashmap__next(pm, &it, (const void **)&k))) {
		const char *l[] = { "netns", ns, "port", port, NULL };

		if (!p->close_wait)
			continue;
		snprintf(ns, sizeof(ns), "%u", k->netns);
		snprintf(port, sizeof(port), "%u", k->port);
		prom_writer__sample_u64(w, "tcpstate_listener_close_wait_sockets", l, p->close_wait);
	}
	prom_writer__family(w, "tcpstate_accept_wait_seconds", "histogram",
			    "Time from handshake complete to accept() returning, by listening port.");
	it = 0;
	while ((p = hashmap__next(pm, &it, (const void **)&k))) {
		const char *l[] = { "netns", ns, "port", port, NULL };

		if (!hist__count(&p->accept_wait))
			continue;
		snprintf(ns, sizeof(ns), "%u", k->netns);
		snprintf(port, sizeof(port), "%u", k->port);
		hist_sample(w, "tcpstate_accept_wait_seconds", l, &p->accept_wait);
	}
}


/* Listeners sharing (netns, address, port) (SO_REUSEPORT groups) form one series. */
struct lgroup_key {
	__u32 netns;
	__u16 port;
	__u16 family;
	__u8 addr[16];
};

struct lgroup {
	__u64 v[5]; /* accept_queue, max, high, syn_queue, drops */
	__u32 owner;
};

static struct hashmap *listener_groups(struct metrics *m)
{
	struct hashmap *g = hashmap__new(sizeof(struct lgroup_key), sizeof(struct lgroup), 1u << 20);
	const struct listener_info *li;
	__u32 it = 0;

	while (g && (li = listeners__next(m->s->listeners, &it))) {
		struct lgroup_key k = { .netns = li->netns, .port = li->port, .family = li->family };
		struct lgroup *v;
		bool created;

		memcpy(k.addr, li->addr, 16);
		v = hashmap__upsert(g, &k, &created);
		if (!v)
			continue;
		v->v[0] += li->accept_queue;
		v->v[1] += li->accept_queue_max;
		v->v[2] += listeners__high(m->s->listeners, m->s->tracker, li);
		v->v[3] = li->syn_queue; /* counted per port already */
		v->v[4] += li->drops;
		if (!v->owner)
			v->owner = li->owner;
	}
	return g;
}

static void render_listener_family(struct metrics *m, struct prom_writer *w, struct hashmap *g,
				   int which)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "tcpstate_listen_accept_queue", "gauge",
		  "Connections in the listener's accept queue: handshake done, not accept()ed yet "
		  "(ss Recv-Q). SO_REUSEPORT groups are summed." },
		{ "tcpstate_listen_accept_queue_max", "gauge",
		  "Accept queue limit: the listen() backlog capped by somaxconn (ss Send-Q)." },
		{ "tcpstate_listen_accept_queue_high", "gauge",
		  "Highest accept queue length since the previous scrape." },
		{ "tcpstate_listen_syn_queue", "gauge",
		  "Half-open connections (SYN received, handshake not complete) of the listener, "
		  "as counted by the last audit." },
		{ "tcpstate_listen_drops_total", "counter",
		  "Packets the listener dropped (sk_drops), mostly accept-queue overflows." },
	};
	struct proc_table *pt = tracker__procs(m->s->tracker);
	const struct lgroup_key *k;
	struct lgroup *v;
	__u32 it = 0;
	char ns[16], port[8], addr[64];

	prom_writer__family(w, fam[which].name, fam[which].type, fam[which].help);
	while ((v = hashmap__next(g, &it, (const void **)&k))) {
		struct proc_entry *p = proc_table__find(pt, v->owner);
		const char *l[] = { "netns", ns, "addr", addr, "port", port, "comm",
				    p && v->owner ? p->comm : "unknown", NULL };

		snprintf(ns, sizeof(ns), "%u", k->netns);
		snprintf(port, sizeof(port), "%u", k->port);
		addr_format(k->family, k->addr, addr, sizeof(addr));
		prom_writer__sample_u64(w, fam[which].name, l, v->v[which]);
	}
}

static void render_listeners(struct metrics *m, struct prom_writer *w)
{
	const struct netns_listen_stats *st;
	__u32 it = 0, netns;
	char ns[16];

	struct hashmap *g = listener_groups(m);

	for (int i = 0; g && i < 5; i++)
		render_listener_family(m, w, g, i);
	hashmap__free(g);
	prom_writer__family(w, "tcpstate_netns_listen_overflows_total", "counter",
			    "Accept queue overflows in the namespace (TcpExt ListenOverflows).");
	while ((st = listeners__next_netns(m->s->listeners, &it, &netns))) {
		const char *l[] = { "netns", ns, NULL };

		snprintf(ns, sizeof(ns), "%u", netns);
		prom_writer__sample_u64(w, "tcpstate_netns_listen_overflows_total", l,
					st->listen_overflows);
	}
	prom_writer__family(w, "tcpstate_netns_listen_drops_total", "counter",
			    "SYNs and handshake ACKs dropped by listeners of the namespace (TcpExt "
			    "ListenDrops).");
	it = 0;
	while ((st = listeners__next_netns(m->s->listeners, &it, &netns))) {
		const char *l[] = { "netns", ns, NULL };

		snprintf(ns, sizeof(ns), "%u", netns);
		prom_writer__sample_u64(w, "tcpstate_netns_listen_drops_total", l, st->listen_drops);
	}
}

/* ---- self ------------------------------------------------------------------------------ */

static void render_events(struct metrics *m, struct prom_writer *w)
{
	static const char *const kinds[TS_EV_KIND_MAX] = {
		[TS_EV_STATE] = "state",	   [TS_EV_ACCEPT] = "accept",
		[TS_EV_RETRANS] = "retransmit",	   [TS_EV_SYNACK_RETRANS] = "synack_retransmit",
		[TS_EV_RESET_SENT] = "reset_sent", [TS_EV_RESET_RECV] = "reset_received",
		[TS_EV_SOCK_ERROR] = "error",	   [TS_EV_TW_KILLED] = "timewait_killed",
	};
	const struct tracker_stats *st = tracker__stats(m->s->tracker);

	prom_writer__family(w, "tcpstate_events_total", "counter",
			    "Events received from the kernel, by kind.");
	for (int k = 1; k < TS_EV_KIND_MAX; k++) {
		const char *l[] = { "kind", kinds[k], NULL };

		prom_writer__sample_u64(w, "tcpstate_events_total", l, st->events[k]);
	}
	prom_writer__family(w, "tcpstate_events_lost_total", "counter",
			    "Events lost: ringbuf_full (kernel could not queue; raise --ringbuf-kb), "
			    "recursion (the kernel skipped a program run nested in itself on a CPU), "
			    "invalid (records of unknown kind or size).");
	{
		const char *l1[] = { "reason", "ringbuf_full", NULL };
		const char *l2[] = { "reason", "recursion", NULL };
		const char *l3[] = { "reason", "invalid", NULL };

		prom_writer__sample_u64(w, "tcpstate_events_lost_total", l1,
					tracer__lost_ringbuf(m->s->tracer));
		prom_writer__sample_u64(w, "tcpstate_events_lost_total", l2,
					tracer__lost_recursion(m->s->tracer));
		prom_writer__sample_u64(w, "tcpstate_events_lost_total", l3, st->events_bad);
	}
	prom_writer__family(w, "tcpstate_ringbuf_peak_fill_ratio", "gauge",
			    "The fullest any ring buffer was (0 to 1) when the reader came to drain "
			    "it, since start: how close tcpstate came to losing events. Near 1, raise "
			    "--ringbuf-kb.");
	prom_writer__sample(w, "tcpstate_ringbuf_peak_fill_ratio", NULL,
			    tracer__ring_peak_fill(m->s->tracer));
}

static void render_table(struct metrics *m, struct prom_writer *w)
{
	struct sock_table *t = tracker__socks(m->s->tracker);
	const struct tracker_stats *st = tracker__stats(m->s->tracker);
	static const char *const fix[AUDIT_FIX_MAX] = { "missing", "stale", "state" };

	prom_writer__family(w, "tcpstate_table_sockets", "gauge", "Sockets in the socket table.");
	prom_writer__sample_u64(w, "tcpstate_table_sockets", NULL, sock_table__count(t));
	prom_writer__family(w, "tcpstate_table_capacity", "gauge",
			    "Most sockets the table may hold (--max-sockets).");
	prom_writer__sample_u64(w, "tcpstate_table_capacity", NULL, sock_table__capacity(t));
	prom_writer__family(w, "tcpstate_table_full_total", "counter",
			    "Inserts refused because a table was full (the socket table: "
			    "--max-sockets); a socket left out counts at each event and audit.");
	prom_writer__sample_u64(w, "tcpstate_table_full_total", NULL,
				sock_table__full(t) + st->map_full +
					proc_table__overflow(tracker__procs(m->s->tracker)) +
					listeners__refused(m->s->listeners));
	prom_writer__family(w, "tcpstate_table_untracked_sockets", "gauge",
			    "Sockets the last audit found that the full socket table could not hold "
			    "(raise --max-sockets): the counts are short by this many.");
	prom_writer__sample_u64(w, "tcpstate_table_untracked_sockets", NULL, st->audit_untracked);
	prom_writer__family(w, "tcpstate_audit_corrections_total", "counter",
			    "Differences the sock_diag audit found and corrected, by state and kind "
			    "(missing: kernel had it, stale: kernel did not, state: differed).");
	for (int s = 1; s < TCP_MAX_STATES; s++)
		for (int k = 0; k < AUDIT_FIX_MAX; k++) {
			const char *l[] = { "state", state_label[s], "kind", fix[k], NULL };

			if (st->corrections[s][k])
				prom_writer__sample_u64(w, "tcpstate_audit_corrections_total", l,
							st->corrections[s][k]);
		}
	prom_writer__family(w, "tcpstate_audits_total", "counter", "sock_diag audits run.");
	prom_writer__sample_u64(w, "tcpstate_audits_total", NULL, st->audits);
	prom_writer__family(w, "tcpstate_audit_errors_total", "counter",
			    "Network namespace dumps an audit could not make (the log names the "
			    "namespace and why); their sockets are counted from events only.");
	prom_writer__sample_u64(w, "tcpstate_audit_errors_total", NULL, st->audit_netns_failed);
	prom_writer__family(w, "tcpstate_audit_duration_seconds", "gauge",
			    "Duration of the last audit.");
	prom_writer__sample(w, "tcpstate_audit_duration_seconds", NULL,
			    (double)st->audit_last_ns / 1e9);
}

/* How each kernel hook is attached on this kernel, and whether it gives all it can. */
static void render_hooks(struct metrics *m, struct prom_writer *w)
{
	const struct hook_status *st = tracer__hooks(m->s->tracer);

	prom_writer__family(w, "tcpstate_hook_info", "gauge",
			    "Kernel hooks: how each is attached (tp_btf, tracepoint, iter, mark, "
			    "fentry, off) and whether it is complete (or unneeded) ('tcpstate check' says what is lost).");
	for (int h = 0; h < HOOK_COUNT; h++) {
		const char *status = hooks__status_name(&st[h]);
		const char *l[] = { "hook", hooks__name(h), "attach",
				    hooks__attach_name(st[h].attach), "status", status, NULL };

		prom_writer__sample_u64(w, "tcpstate_hook_info", l, 1);
	}
}

static void render_self(struct metrics *m, struct prom_writer *w)
{
	static const char *const fam[FOLD_MAX] = { "process", "time_wait_remote" };
	const char *bl[] = { "version", TCPSTATE_VERSION, "attach", tracer__mode(m->s->tracer),
			     NULL };
	struct process_stats ps;

	prom_writer__family(w, "tcpstate_scrape_duration_seconds", "gauge",
			    "Time the previous scrape took to render.");
	prom_writer__sample(w, "tcpstate_scrape_duration_seconds", NULL,
			    (double)m->last_scrape_ns / 1e9);
	prom_writer__family(w, "tcpstate_series_folded", "gauge",
			    "Series folded into \"other\" by the cardinality limits in this "
			    "exposition, by family (raise --max-processes / --max-remotes).");
	for (int f = 0; f < FOLD_MAX; f++) {
		const char *l[] = { "family", fam[f], NULL };

		prom_writer__sample_u64(w, "tcpstate_series_folded", l, m->folded[f]);
	}
	prom_writer__family(w, "tcpstate_build_info", "gauge",
			    "tcpstate version and how inet_sock_set_state is attached.");
	prom_writer__sample_u64(w, "tcpstate_build_info", bl, 1);
	render_hooks(m, w);
	if (!process_stats__read("/proc", &ps))
		process_stats__render(w, &ps);
	prom_writer__family(w, "tcpstate_series", "gauge", "Series in this exposition.");
	prom_writer__sample_u64(w, "tcpstate_series", NULL, prom_writer__series(w) + 1);
}

int metrics__render(void *ctx, struct prom_writer *w)
{
	struct metrics *m = ctx;
	__u64 start = session__now_ns();

	session__drain(m->s); /* serve what happened up to now */
	session__sample_listeners(m->s);
	render_states(m, w);
	render_transitions(m, w);
	render_processes(m, w);
	render_time_wait(m, w);
	render_ports(m, w);
	render_listeners(m, w);
	render_events(m, w);
	render_table(m, w);
	render_self(m, w);
	listeners__reset_high(m->s->listeners, m->s->tracker);
	m->scrapes++;
	m->last_scrape_ns = session__now_ns() - start;
	return 0;
}
