// SPDX-License-Identifier: GPL-2.0-only
/* Table and JSON output of `tcpstate snapshot` (see include/snapshot_output.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cgroup_names.h"

#include "hashmap.h"
#include "listeners.h"
#include "snapshot_output.h"

struct remote_row {
	const struct remote_key *key;
	__u32 count;
};

static int remote_cmp(const void *a, const void *b)
{
	const struct remote_row *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* TIME_WAIT remotes sorted by count, largest first. Caller frees. */
static struct remote_row *remotes_sorted(struct tracker *t, __u32 *n)
{
	struct hashmap *m = tracker__remote_map(t);
	struct remote_row *rows = calloc(hashmap__count(m) + 1, sizeof(*rows));
	const void *key;
	__u32 it = 0, *v;

	*n = 0;
	if (!rows)
		return NULL;
	while ((v = hashmap__next(m, &it, &key)))
		rows[(*n)++] = (struct remote_row){ key, *v };
	qsort(rows, *n, sizeof(*rows), remote_cmp);
	return rows;
}

static __u32 proc_total(const struct proc_entry *p)
{
	__u32 n = 0;

	for (int st = 1; st < TCP_MAX_STATES; st++)
		n += p->states[st];
	return n;
}

static bool proc_interesting(const struct proc_entry *p)
{
	__u64 n = proc_total(p) + p->resets_sent + p->resets_recv;

	for (int i = 0; i < TS_RETRANS_KIND_MAX; i++)
		n += p->retrans[i];
	return n || p->errors[0].count;
}

static int proc_cmp(const void *a, const void *b)
{
	const struct proc_entry *x = *(const struct proc_entry *const *)a;
	const struct proc_entry *y = *(const struct proc_entry *const *)b;
	__u32 nx = proc_total(x), ny = proc_total(y);

	if (nx != ny)
		return nx < ny ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Processes worth reporting, most sockets first. Caller frees. */
static struct proc_entry **procs_sorted(struct tracker *t, __u32 *n)
{
	struct proc_table *pt = tracker__procs(t);
	struct proc_entry **v = calloc(proc_table__count(pt) + 2, sizeof(*v));
	struct proc_entry *p;
	__u32 it = 0;

	*n = 0;
	if (!v)
		return NULL;
	tracker__update_close_wait_oldest(t);
	while ((p = proc_table__next(pt, &it)))
		if (proc_interesting(p))
			v[(*n)++] = p;
	qsort(v, *n, sizeof(*v), proc_cmp);
	return v;
}

static double age_s(__u64 since_ns)
{
	__u64 now = session__now_ns();

	return since_ns && now > since_ns ? (double)(now - since_ns) / 1e9 : 0;
}

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- JSON ----------------------------------------------------------------------------- */

static void json_states(FILE *f, const __u32 *states)
{
	fputc('{', f);
	for (int st = 1, first = 1; st <= TCP_CLOSING; st++) {
		if (st == TCP_CLOSE)
			continue;
		fprintf(f, "%s\"%s\":%u", first ? "" : ",", tcp_state_name(st), states[st]);
		first = 0;
	}
	fputc('}', f);
}

static void json_hist(FILE *f, const char *name, const struct hist *h)
{
	fprintf(f, ",\"%s\":{\"count\":%llu,\"sum_seconds\":%.6f,\"buckets\":{", name,
		(unsigned long long)hist__count(h), (double)h->sum_ns / 1e9);
	for (int i = 0; i <= HIST_NBOUNDS; i++) {
		if (i < HIST_NBOUNDS)
			fprintf(f, "%s\"%g\":%llu", i ? "," : "", hist_bounds_sec[i],
				(unsigned long long)h->counts[i]);
		else
			fprintf(f, ",\"+Inf\":%llu", (unsigned long long)h->counts[i]);
	}
	fputs("}}", f);
}

/* "unit", "container", "runtime", "pod" derived from the cgroup path; null when not found. */
static void json_names(FILE *f, const char *cgroup)
{
	struct cgroup_names n;
	const char *const kv[][2] = {
		{ "unit", n.unit }, { "container", n.container }, { "runtime", NULL }, { "pod", n.pod },
	};

	cgroup_names__parse(cgroup, &n);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
		const char *v = kv[i][1] ? kv[i][1] : n.runtime;

		fprintf(f, ",\"%s\":", kv[i][0]);
		if (v[0])
			json_write_string(f, v);
		else
			fputs("null", f);
	}
}

static void json_process(FILE *f, const struct proc_entry *p)
{
	static const char *const rk[TS_RETRANS_KIND_MAX] = { "syn", "rto", "fast", "synack" };
	char buf[16];

	if (p->pid)
		fprintf(f, "{\"pid\":%u,\"comm\":", p->pid);
	else
		fputs("{\"pid\":null,\"comm\":", f);
	json_write_string(f, p->pid ? p->comm : "");
	fputs(",\"cgroup\":", f);
	json_write_string(f, p->cgroup);
	json_names(f, p->pid ? p->cgroup : "");
	if (p->netns)
		fprintf(f, ",\"netns\":%u", p->netns);
	else
		fputs(",\"netns\":null", f);
	fputs(",\"states\":", f);
	json_states(f, p->states);
	if (p->cw_oldest_since_ns)
		fprintf(f, ",\"close_wait_oldest_seconds\":%.3f", age_s(p->cw_oldest_since_ns));
	else
		fputs(",\"close_wait_oldest_seconds\":null", f);
	fprintf(f, ",\"retransmits\":%llu,\"retransmits_by_kind\":{",
		(unsigned long long)(p->retrans[0] + p->retrans[1] + p->retrans[2] + p->retrans[3]));
	for (int i = 0; i < TS_RETRANS_KIND_MAX; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", rk[i], (unsigned long long)p->retrans[i]);
	fprintf(f, "},\"connections\":%llu,\"resets_sent\":%llu,\"resets_received\":%llu,"
		"\"errors\":{",
		(unsigned long long)p->connections, (unsigned long long)p->resets_sent,
		(unsigned long long)p->resets_recv);
	for (int i = 0, first = 1; i < PROC_ERR_SLOTS; i++) {
		if (!p->errors[i].count)
			continue;
		fprintf(f, "%s\"%s\":%llu", first ? "" : ",",
			p->errors[i].err < 0 ? "other" : errno_name(p->errors[i].err, buf, sizeof(buf)),
			(unsigned long long)p->errors[i].count);
		first = 0;
	}
	fputc('}', f);
	json_hist(f, "close_wait_close_delay", &p->close_delay);
	fputc('}', f);
}

static void json_processes(FILE *f, struct tracker *t)
{
	__u32 n;
	struct proc_entry **v = procs_sorted(t, &n);

	fputs(",\"processes\":[", f);
	for (__u32 i = 0; v && i < n; i++) {
		if (i)
			fputc(',', f);
		json_process(f, v[i]);
	}
	fputc(']', f);
	free(v);
}

static void json_remotes(FILE *f, struct tracker *t, int range)
{
	__u32 n;
	struct remote_row *rows = remotes_sorted(t, &n);
	char a[64];

	fputs(",\"time_wait_by_remote\":[", f);
	for (__u32 i = 0; rows && i < n; i++) {
		const struct remote_key *k = rows[i].key;

		fprintf(f, "%s{\"remote\":", i ? "," : "");
		json_write_string(f, endpoint_format(k->family, k->addr, k->port, true, a, sizeof(a)));
		fprintf(f, ",\"addr\":");
		json_write_string(f, addr_format(k->family, k->addr, a, sizeof(a)));
		fprintf(f, ",\"port\":%u,\"netns\":%u,\"count\":%u,\"port_range_ratio\":%.6f}", k->port,
			k->netns, rows[i].count, range > 0 ? (double)rows[i].count / range : 0.0);
	}
	fputc(']', f);
	free(rows);
}

static void json_namespaces(FILE *f, struct tracker *t)
{
	struct hashmap *m = tracker__netns_map(t);
	const void *key;
	__u32 it = 0, *v;
	int first = 1;

	fputs(",\"namespaces\":[", f);
	while ((v = hashmap__next(m, &it, &key))) {
		fprintf(f, "%s{\"netns\":%u,\"states\":", first ? "" : ",", *(const __u32 *)key);
		json_states(f, v);
		fputc('}', f);
		first = 0;
	}
	fputc(']', f);
}

static void json_ports(FILE *f, struct tracker *t)
{
	struct hashmap *m = tracker__port_map(t);
	const struct port_key *k;
	struct port_stats *p;
	__u32 it = 0;
	int first = 1;

	fputs(",\"ports\":[", f);
	while ((p = hashmap__next(m, &it, (const void **)&k))) {
		if (!p->listeners && !p->close_wait && !hist__count(&p->accept_wait))
			continue;
		fprintf(f, "%s{\"netns\":%u,\"port\":%u,\"listeners\":%u,\"close_wait\":%u",
			first ? "" : ",", k->netns, k->port, p->listeners, p->close_wait);
		json_hist(f, "accept_wait", &p->accept_wait);
		fputc('}', f);
		first = 0;
	}
	fputc(']', f);
}


static void json_listeners(FILE *f, struct session *s)
{
	struct proc_table *pt = tracker__procs(s->tracker);
	const struct netns_listen_stats *st;
	const struct listener_info *li;
	__u32 it = 0, netns;
	char a[64];
	int first = 1;

	fputs(",\"listeners\":[", f);
	while ((li = listeners__next(s->listeners, &it))) {
		struct proc_entry *p = li->owner ? proc_table__find(pt, li->owner) : NULL;

		fprintf(f, "%s{\"netns\":%u,\"addr\":", first ? "" : ",", li->netns);
		json_write_string(f, addr_format(li->family, li->addr, a, sizeof(a)));
		fprintf(f, ",\"port\":%u", li->port);
		if (p)
			fprintf(f, ",\"pid\":%u,\"comm\":", p->pid);
		else
			fputs(",\"pid\":null,\"comm\":", f);
		json_write_string(f, p ? p->comm : "");
		fprintf(f,
			",\"accept_queue\":%u,\"accept_queue_max\":%u,\"accept_queue_high\":%u,"
			"\"syn_queue\":%u,\"drops\":%llu}",
			li->accept_queue, li->accept_queue_max, listeners__high(s->listeners, s->tracker, li),
			li->syn_queue, (unsigned long long)li->drops);
		first = 0;
	}
	fputs("],\"netns_listen\":[", f);
	it = 0;
	first = 1;
	while ((st = listeners__next_netns(s->listeners, &it, &netns))) {
		fprintf(f, "%s{\"netns\":%u,\"listen_overflows\":%llu,\"listen_drops\":%llu}",
			first ? "" : ",", netns, (unsigned long long)st->listen_overflows,
			(unsigned long long)st->listen_drops);
		first = 0;
	}
	fputc(']', f);
}

static void json_transitions(FILE *f, const struct tracker_stats *st)
{
	int first = 1;

	fputs(",\"transitions\":{", f);
	for (int a = 0; a < TCP_MAX_STATES; a++)
		for (int b = 0; b < TCP_MAX_STATES; b++) {
			if (!st->transitions[a][b])
				continue;
			fprintf(f, "%s\"%s->%s\":%llu", first ? "" : ",", tcp_state_name(a),
				tcp_state_name(b), (unsigned long long)st->transitions[a][b]);
			first = 0;
		}
	fputc('}', f);
}

static void json_audit(FILE *f, const struct tracker_stats *st)
{
	static const char *const kinds[AUDIT_FIX_MAX] = { "missing", "stale", "state" };
	int first = 1;

	fprintf(f, ",\"audit\":{\"audits\":%llu,\"last_seconds\":%.6f,\"corrections\":{",
		(unsigned long long)st->audits, (double)st->audit_last_ns / 1e9);
	for (int s = 1; s < TCP_MAX_STATES; s++)
		for (int k = 0; k < AUDIT_FIX_MAX; k++) {
			if (!st->corrections[s][k])
				continue;
			fprintf(f, "%s\"%s/%s\":%llu", first ? "" : ",", tcp_state_name(s), kinds[k],
				(unsigned long long)st->corrections[s][k]);
			first = 0;
		}
	fprintf(f, "},\"time_wait_promoted\":%llu}", (unsigned long long)st->tw_promoted_by_audit);
}

void snapshot_output__json(FILE *f, struct session *s, const struct snapshot_meta *m)
{
	struct tracker *t = s->tracker;
	const struct tracker_stats *st = tracker__stats(t);
	struct sock_table *socks = tracker__socks(t);
	__u64 events = 0;

	for (int k = 0; k < TS_EV_KIND_MAX; k++)
		events += st->events[k];
	fprintf(f, "{\"api_version\":%d,\"timestamp\":%.3f,\"duration_seconds\":%.3f,"
		"\"attach\":\"%s\",\"events\":%llu,\"lost\":%llu",
		SNAPSHOT_API_VERSION, wall_seconds(), m->duration_s, tracer__mode(s->tracer), (unsigned long long)events,
		(unsigned long long)m->lost);
	fputs(",\"by_state\":", f);
	json_states(f, st->by_state);
	json_namespaces(f, t);
	json_processes(f, t);
	json_remotes(f, t, m->port_range_size);
	fprintf(f, ",\"local_port_range_size\":%d", m->port_range_size);
	json_ports(f, t);
	json_listeners(f, s);
	json_transitions(f, st);
	json_hist(f, "connect_latency", &st->connect_latency);
	json_hist(f, "connection_lifetime", &st->lifetime);
	json_audit(f, st);
	fprintf(f, ",\"table\":{\"sockets\":%u,\"capacity\":%u,\"full\":%llu,\"bytes\":%zu}}\n",
		sock_table__count(socks), sock_table__capacity(socks),
		(unsigned long long)sock_table__full(socks), sock_table__memory(socks));
}

/* ---- text ----------------------------------------------------------------------------- */

static void text_states(FILE *f, const struct tracker_stats *st)
{
	fputs("Sockets by state (all namespaces)\n", f);
	for (int s = 1; s <= TCP_CLOSING; s++)
		if (s != TCP_CLOSE)
			fprintf(f, "  %-12s %8u\n", tcp_state_upper(s), st->by_state[s]);
}

static void text_processes(FILE *f, struct tracker *t, int top)
{
	__u32 n;
	struct proc_entry **v = procs_sorted(t, &n);

	fprintf(f, "\nTop processes\n  %-8s %-16s %6s %6s %6s %6s %10s %7s %6s  %-24s %s\n", "PID",
		"COMM", "TOTAL", "ESTAB", "CL_WT", "T_WAIT", "CW_OLDEST", "RETRANS", "RESETS", "NAME",
		"CGROUP");
	for (__u32 i = 0; v && i < n && (int)i < top; i++) {
		const struct proc_entry *p = v[i];
		__u64 rt = 0;
		char oldest[24] = "-", pid[16] = "?", comm[TS_COMM_LEN * 2], cgroup[512], name[64];
		struct cgroup_names cn;

		for (int k = 0; k < TS_RETRANS_KIND_MAX; k++)
			rt += p->retrans[k];
		if (p->cw_oldest_since_ns)
			snprintf(oldest, sizeof(oldest), "%.1fs", age_s(p->cw_oldest_since_ns));
		if (p->pid)
			snprintf(pid, sizeof(pid), "%u", p->pid);
		cgroup_names__parse(p->cgroup, &cn);
		cgroup_names__short(&cn, name, sizeof(name));
		fprintf(f, "  %-8s %-16s %6u %6u %6u %6u %10s %7llu %6llu  %-24s %s\n", pid,
			text_printable(comm, sizeof(comm), p->pid ? p->comm : "(unknown)"),
			proc_total(p), p->states[TCP_ESTABLISHED], p->states[TCP_CLOSE_WAIT],
			p->states[TCP_TIME_WAIT], oldest, (unsigned long long)rt,
			(unsigned long long)(p->resets_sent + p->resets_recv),
			name[0] ? name : "-", text_printable(cgroup, sizeof(cgroup), p->cgroup));
	}
	free(v);
}

static void text_remotes(FILE *f, struct tracker *t, int range, int top)
{
	__u32 n;
	struct remote_row *rows = remotes_sorted(t, &n);
	char a[64];

	fprintf(f, "\nTIME_WAIT by remote endpoint (local port range: %d ports)\n", range);
	for (__u32 i = 0; rows && i < n && (int)i < top; i++) {
		const struct remote_key *k = rows[i].key;

		fprintf(f, "  %-40s %8u  %5.1f%% of the port range\n",
			endpoint_format(k->family, k->addr, k->port, true, a, sizeof(a)), rows[i].count,
			range > 0 ? 100.0 * rows[i].count / range : 0.0);
	}
	free(rows);
}

static void text_listeners(FILE *f, struct session *s)
{
	struct proc_table *pt = tracker__procs(s->tracker);
	const struct listener_info *li;
	__u32 it = 0;
	char ep[80], comm[TS_COMM_LEN * 2];

	fprintf(f, "\nListeners\n  %-28s %-16s %8s %8s %8s %8s %8s\n", "ADDRESS", "OWNER",
		"ACCEPTQ", "MAX", "HIGH", "SYNQ", "DROPS");
	while ((li = listeners__next(s->listeners, &it))) {
		struct proc_entry *p = li->owner ? proc_table__find(pt, li->owner) : NULL;

		fprintf(f, "  %-28s %-16s %8u %8u %8u %8u %8llu\n",
			endpoint_format(li->family, li->addr, li->port, true, ep, sizeof(ep)),
			text_printable(comm, sizeof(comm), p ? p->comm : "?"), li->accept_queue,
			li->accept_queue_max,
			listeners__high(s->listeners, s->tracker, li), li->syn_queue, (unsigned long long)li->drops);
	}
}

void snapshot_output__text(FILE *f, struct session *s, const struct snapshot_meta *m)
{
	const struct tracker_stats *st = tracker__stats(s->tracker);

	fprintf(f, "tcpstate snapshot: observed %.1fs, %llu events lost\n\n", m->duration_s,
		(unsigned long long)m->lost);
	text_states(f, st);
	text_processes(f, s->tracker, m->top);
	text_remotes(f, s->tracker, m->port_range_size, m->top);
	text_listeners(f, s);
}
