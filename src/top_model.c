// SPDX-License-Identifier: GPL-2.0-only
/* Rows, per-interval rates, filtering and sorting of `tcpstate top` (see include/top_model.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cgroup_names.h"
#include "snapshot_output.h"
#include "top_model.h"

/* clang-format off */
static const struct top_column proc_cols[TP_COLS] = {
	[TP_PID]	= { "PID", 'P', 8, false, true },
	[TP_COMM]	= { "COMM", 'C', -16, true, true },
	[TP_ESTAB]	= { "ESTAB", 'e', 7, false, false },
	[TP_CLOSE_WAIT]	= { "CLOSE_WAIT", 'c', 10, false, false },
	[TP_CW_OLDEST]	= { "CW_OLDEST", 'o', 9, false, false },
	[TP_TIME_WAIT]	= { "TIME_WAIT", 'w', 9, false, false },
	[TP_CONN_S]	= { "CONN/s", 'n', 8, false, false },
	[TP_RETRANS_S]	= { "RETRANS/s", 'R', 9, false, false },
	[TP_RESETS_S]	= { "RESETS/s", 'x', 8, false, false },
	[TP_ERRORS_S]	= { "ERRORS/s", 'E', 8, false, false },
	[TP_NAME]	= { "UNIT/CONTAINER", 'N', -40, true, true },
};
static const struct top_column listener_cols[TL_COLS] = {
	[TL_ADDRESS]	= { "LISTEN", 'A', -28, true, true },
	[TL_COMM]	= { "COMM", 'C', -16, true, true },
	[TL_ACCEPTQ]	= { "ACCEPTQ", 'a', 7, false, false },
	[TL_MAX]	= { "LIMIT", 'm', 6, false, false },
	[TL_HIGH]	= { "HIGH", 'h', 6, false, false },
	[TL_SYNQ]	= { "SYNQ", 's', 6, false, false },
	[TL_DROPS]	= { "DROPS", 'D', 8, false, false },
	[TL_DROPS_S]	= { "DROPS/s", 'd', 8, false, false },
	[TL_NETNS]	= { "NETNS", 'N', 10, false, false },
};
static const struct top_column remote_cols[TR_COLS] = {
	[TR_REMOTE]	= { "REMOTE", 'A', -40, true, true },
	[TR_NETNS]	= { "NETNS", 'N', 10, false, false },
	[TR_COUNT]	= { "TIME_WAIT", 'c', 9, false, false },
	[TR_RANGE]	= { "PORTS_USED", 'u', 10, false, false },
	[TR_NEW_S]	= { "CHANGE/s", 'n', 9, false, false },
};
/* clang-format on */

const struct top_column *top_model__columns(enum top_view v, int *n)
{
	switch (v) {
	case TOP_LISTENERS:
		*n = TL_COLS;
		return listener_cols;
	case TOP_REMOTES:
		*n = TR_COLS;
		return remote_cols;
	default:
		*n = TP_COLS;
		return proc_cols;
	}
}

int top_model__column_for_key(enum top_view v, int key)
{
	int n;
	const struct top_column *c = top_model__columns(v, &n);

	for (int i = 0; i < n; i++)
		if (c[i].key == key)
			return i;
	return -1;
}

void top_opts__default(struct top_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->view = TOP_PROCS;
	o->sort[TOP_PROCS] = TP_ESTAB;
	o->sort[TOP_LISTENERS] = TL_ACCEPTQ;
	o->sort[TOP_REMOTES] = TR_COUNT;
}

int top_filter__parse(const char *s, struct top_filter *f, char *err, size_t errlen)
{
	static const struct {
		const char *prefix;
		enum top_filter_kind kind;
		unsigned long max;
	} kinds[] = {
		{ "comm:", TOP_FILTER_COMM, 0 },
		{ "port:", TOP_FILTER_PORT, 65535 },
		{ "netns:", TOP_FILTER_NETNS, 0xffffffffUL },
	};
	const char *v = s;
	char *end;

	memset(f, 0, sizeof(*f));
	while (*v == ' ')
		v++;
	if (!*v)
		return 0;
	f->kind = TOP_FILTER_COMM;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(v, kinds[i].prefix, strlen(kinds[i].prefix))) {
			f->kind = kinds[i].kind;
			v += strlen(kinds[i].prefix);
			if (!kinds[i].max)
				break;
			errno = 0;
			f->num = strtoul(v, &end, 10);
			if (errno || end == v || *end || *v == '-' || f->num > kinds[i].max) {
				snprintf(err, errlen, "invalid filter '%s': expected %sN, N from 0 to %lu",
					 s, kinds[i].prefix, kinds[i].max);
				memset(f, 0, sizeof(*f));
				return -EINVAL;
			}
			break;
		}
	if (f->kind == TOP_FILTER_COMM && !*v) {
		snprintf(err, errlen, "invalid filter '%s': expected comm:NAME, port:N or netns:N", s);
		memset(f, 0, sizeof(*f));
		return -EINVAL;
	}
	snprintf(f->text, sizeof(f->text), "%s", f->kind == TOP_FILTER_COMM ? v : s);
	return 0;
}

/* ---- reading documents --------------------------------------------------------------- */

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static __u64 get_u64(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);
	int64_t n = v ? json_object_get_int64(v) : 0;

	return n > 0 ? (__u64)n : 0;
}

static double get_double(struct json_object *o, const char *key, double dflt)
{
	struct json_object *v = get(o, key);

	return v && !json_object_is_type(v, json_type_null) ? json_object_get_double(v) : dflt;
}

static void get_str(struct json_object *o, const char *key, char *buf, size_t len)
{
	struct json_object *v = get(o, key);

	snprintf(buf, len, "%s", v && json_object_is_type(v, json_type_string) ?
					 json_object_get_string(v) : "");
}

static __u32 array_len(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? (__u32)json_object_array_length(a)
							    : 0;
}

int top_model__parse(const char *text, struct json_object **out, char *err, size_t errlen)
{
	enum json_tokener_error jerr;
	struct json_object *o = json_tokener_parse_verbose(text, &jerr);
	struct json_object *ver;

	*out = NULL;
	if (!o) {
		snprintf(err, errlen, "the answer is not JSON (%s)", json_tokener_error_desc(jerr));
		return -EINVAL;
	}
	ver = get(o, "api_version");
	if (!json_object_is_type(o, json_type_object) || !ver ||
	    !json_object_is_type(ver, json_type_int) ||
	    !json_object_is_type(get(o, "by_state"), json_type_object) ||
	    !json_object_is_type(get(o, "processes"), json_type_array)) {
		snprintf(err, errlen, "the answer is not a tcpstate snapshot document (no "
			 "api_version, by_state or processes)");
		json_object_put(o);
		return -EINVAL;
	}
	if (json_object_get_int(ver) != SNAPSHOT_API_VERSION) {
		snprintf(err, errlen, "the snapshot has api_version %d; this tcpstate understands %d",
			 json_object_get_int(ver), SNAPSHOT_API_VERSION);
		json_object_put(o);
		return -EINVAL;
	}
	*out = o;
	return 0;
}

/* Seconds between two documents of one agent: its observation time, else wall clocks. */
static double interval_of(struct json_object *prev, struct json_object *cur)
{
	double a = get_double(prev, "duration_seconds", -1), b = get_double(cur, "duration_seconds", -1);

	if (a >= 0 && b > a)
		return b - a;
	b = get_double(cur, "timestamp", 0) - get_double(prev, "timestamp", 0);
	return b > 0 ? b : 0;
}

/* A counter's increase per second; a counter that went back (agent restarted) counts from 0. */
static double rate(__u64 now, __u64 before, bool have_before, double interval)
{
	if (interval <= 0)
		return TOP_NO_RATE;
	if (!have_before || now < before)
		before = 0;
	return (double)(now - before) / interval;
}

static __u64 sum_values(struct json_object *o)
{
	__u64 n = 0;

	if (!o || !json_object_is_type(o, json_type_object))
		return 0;
	json_object_object_foreach(o, k, v)
	{
		(void)k;
		if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
			n += (__u64)json_object_get_int64(v);
	}
	return n;
}

static void read_header(struct json_object *prev, struct json_object *cur, struct top_header *h)
{
	struct json_object *st = get(cur, "by_state"), *audit = get(cur, "audit");
	__u64 drift_prev = sum_values(get(get(prev, "audit"), "corrections"));

	memset(h, 0, sizeof(*h));
	get_str(cur, "attach", h->attach, sizeof(h->attach));
	for (int s = 1; s < TCP_MAX_STATES; s++)
		h->by_state[s] = (__u32)get_u64(st, tcp_state_name(s));
	h->uptime = get_double(cur, "duration_seconds", 0);
	h->events = get_u64(cur, "events");
	h->lost = get_u64(cur, "lost");
	h->drift = sum_values(get(audit, "corrections"));
	h->port_range = (int)get_u64(cur, "local_port_range_size");
	h->table_sockets = (__u32)get_u64(get(cur, "table"), "sockets");
	h->interval = prev ? interval_of(prev, cur) : 0;
	h->events_s = rate(h->events, get_u64(prev, "events"), prev, h->interval);
	h->lost_d = prev && h->lost >= get_u64(prev, "lost") ? (double)(h->lost - get_u64(prev, "lost"))
							     : (double)h->lost;
	h->drift_d = prev && h->drift >= drift_prev ? (double)(h->drift - drift_prev) : (double)h->drift;
}

/* ---- rows ---------------------------------------------------------------------------- */

static void proc_from_json(struct json_object *p, struct top_proc *r)
{
	struct json_object *st = get(p, "states");
	struct cgroup_names n;

	memset(r, 0, sizeof(*r));
	r->pid = (__u32)get_u64(p, "pid");
	r->netns = (__u32)get_u64(p, "netns");
	get_str(p, "comm", r->comm, sizeof(r->comm));
	if (!r->pid)
		snprintf(r->comm, sizeof(r->comm), "(unknown)");
	get_str(p, "cgroup", r->cgroup, sizeof(r->cgroup));
	cgroup_names__parse(r->cgroup, &n);
	cgroup_names__short(&n, r->name, sizeof(r->name));
	r->estab = (__u32)get_u64(st, "established");
	r->close_wait = (__u32)get_u64(st, "close_wait");
	r->time_wait = (__u32)get_u64(st, "time_wait");
	r->total = (__u32)sum_values(st);
	r->cw_oldest = get_double(p, "close_wait_oldest_seconds", -1);
	r->conns = get_u64(p, "connections");
	r->retrans = get_u64(p, "retransmits");
	r->resets = get_u64(p, "resets_sent") + get_u64(p, "resets_received");
	r->errors = sum_values(get(p, "errors"));
}

static bool proc_same(const struct top_proc *a, const struct top_proc *b)
{
	return a->pid == b->pid && !strcmp(a->comm, b->comm) && !strcmp(a->cgroup, b->cgroup);
}

/* The rows of the earlier document, unfiltered, to compute rates against. */
struct prev_rows {
	struct top_proc *procs;
	struct top_listener *listeners;
	struct top_remote *remotes;
	__u32 nprocs, nlisteners, nremotes;
};

static void proc_rates(struct top_proc *r, const struct prev_rows *p, double interval)
{
	const struct top_proc *o = NULL;

	for (__u32 i = 0; i < p->nprocs && !o; i++)
		if (p->procs[i].pid == r->pid && proc_same(&p->procs[i], r))
			o = &p->procs[i];
	/* a process absent before had none of these counters then */
	r->conn_s = rate(r->conns, o ? o->conns : 0, true, interval);
	r->retrans_s = rate(r->retrans, o ? o->retrans : 0, true, interval);
	r->resets_s = rate(r->resets, o ? o->resets : 0, true, interval);
	r->errors_s = rate(r->errors, o ? o->errors : 0, true, interval);
}

static void listener_from_json(struct json_object *l, struct top_listener *r)
{
	memset(r, 0, sizeof(*r));
	r->netns = (__u32)get_u64(l, "netns");
	r->port = (__u32)get_u64(l, "port");
	r->pid = (__u32)get_u64(l, "pid");
	get_str(l, "addr", r->addr, sizeof(r->addr));
	get_str(l, "comm", r->comm, sizeof(r->comm));
	r->accept_queue = (__u32)get_u64(l, "accept_queue");
	r->accept_queue_max = (__u32)get_u64(l, "accept_queue_max");
	r->accept_queue_high = (__u32)get_u64(l, "accept_queue_high");
	r->syn_queue = (__u32)get_u64(l, "syn_queue");
	r->drops = get_u64(l, "drops");
}

static void listener_rates(struct top_listener *r, const struct prev_rows *p, double interval)
{
	const struct top_listener *o = NULL;

	for (__u32 i = 0; i < p->nlisteners && !o; i++)
		if (p->listeners[i].port == r->port && p->listeners[i].netns == r->netns &&
		    !strcmp(p->listeners[i].addr, r->addr))
			o = &p->listeners[i];
	/* a listener seen for the first time: its drops may predate the interval */
	r->drops_s = rate(r->drops, o ? o->drops : r->drops, true, interval);
}

static void remote_from_json(struct json_object *t, struct top_remote *r)
{
	memset(r, 0, sizeof(*r));
	r->netns = (__u32)get_u64(t, "netns");
	r->port = (__u32)get_u64(t, "port");
	r->count = (__u32)get_u64(t, "count");
	r->ratio = get_double(t, "port_range_ratio", 0);
	get_str(t, "remote", r->remote, sizeof(r->remote));
}

static void remote_rates(struct top_remote *r, const struct prev_rows *p, double interval)
{
	__u32 before = 0;

	for (__u32 i = 0; i < p->nremotes; i++)
		if (p->remotes[i].netns == r->netns && !strcmp(p->remotes[i].remote, r->remote)) {
			before = p->remotes[i].count;
			break;
		}
	r->new_s = interval > 0 ? ((double)r->count - before) / interval : TOP_NO_RATE;
}

static void prev_rows_free(struct prev_rows *p)
{
	free(p->procs);
	free(p->listeners);
	free(p->remotes);
}

/* Parse the earlier document's rows (none when prev is NULL). 0 or -ENOMEM. */
static int prev_rows_read(struct json_object *prev, struct prev_rows *p)
{
	struct json_object *ap = get(prev, "processes"), *al = get(prev, "listeners");
	struct json_object *ar = get(prev, "time_wait_by_remote");

	memset(p, 0, sizeof(*p));
	p->nprocs = array_len(ap);
	p->nlisteners = array_len(al);
	p->nremotes = array_len(ar);
	p->procs = calloc(p->nprocs + 1, sizeof(*p->procs));
	p->listeners = calloc(p->nlisteners + 1, sizeof(*p->listeners));
	p->remotes = calloc(p->nremotes + 1, sizeof(*p->remotes));
	if (!p->procs || !p->listeners || !p->remotes) {
		prev_rows_free(p);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < p->nprocs; i++)
		proc_from_json(json_object_array_get_idx(ap, i), &p->procs[i]);
	for (__u32 i = 0; i < p->nlisteners; i++)
		listener_from_json(json_object_array_get_idx(al, i), &p->listeners[i]);
	for (__u32 i = 0; i < p->nremotes; i++)
		remote_from_json(json_object_array_get_idx(ar, i), &p->remotes[i]);
	return 0;
}

/* ---- filtering and sorting --------------------------------------------------------------- */

static bool proc_listens_on(struct json_object *cur, __u32 pid, unsigned long port)
{
	struct json_object *a = get(cur, "listeners");

	for (__u32 i = 0; pid && i < array_len(a); i++) {
		struct json_object *l = json_object_array_get_idx(a, i);

		if (get_u64(l, "pid") == pid && get_u64(l, "port") == port)
			return true;
	}
	return false;
}

static bool keep_proc(const struct top_filter *f, const struct top_proc *r, struct json_object *cur)
{
	switch (f->kind) {
	case TOP_FILTER_COMM:
		return strstr(r->comm, f->text) != NULL;
	case TOP_FILTER_PORT:
		return proc_listens_on(cur, r->pid, f->num);
	case TOP_FILTER_NETNS:
		return r->netns == f->num;
	default:
		return true;
	}
}

static bool keep_listener(const struct top_filter *f, const struct top_listener *r)
{
	switch (f->kind) {
	case TOP_FILTER_COMM:
		return strstr(r->comm, f->text) != NULL;
	case TOP_FILTER_PORT:
		return r->port == f->num;
	case TOP_FILTER_NETNS:
		return r->netns == f->num;
	default:
		return true;
	}
}

/* TIME_WAIT remotes have no owner: a comm filter does not apply to them. */
static bool keep_remote(const struct top_filter *f, const struct top_remote *r)
{
	if (f->kind == TOP_FILTER_PORT)
		return r->port == f->num;
	if (f->kind == TOP_FILTER_NETNS)
		return r->netns == f->num;
	return true;
}

struct sort_ctx {
	const struct top_frame *f;
	enum top_view v;
	int col;
	bool text, ascending, reverse;
};

static double cell_value(const struct top_frame *f, enum top_view v, __u32 i, int col)
{
	if (v == TOP_PROCS) {
		const struct top_proc *r = &f->procs[i];
		const double vals[TP_COLS] = {
			[TP_PID] = r->pid, [TP_ESTAB] = r->estab, [TP_CLOSE_WAIT] = r->close_wait,
			[TP_CW_OLDEST] = r->cw_oldest, [TP_TIME_WAIT] = r->time_wait,
			[TP_CONN_S] = r->conn_s, [TP_RETRANS_S] = r->retrans_s,
			[TP_RESETS_S] = r->resets_s, [TP_ERRORS_S] = r->errors_s,
		};
		return vals[col];
	}
	if (v == TOP_LISTENERS) {
		const struct top_listener *r = &f->listeners[i];
		const double vals[TL_COLS] = {
			[TL_ACCEPTQ] = r->accept_queue, [TL_MAX] = r->accept_queue_max,
			[TL_HIGH] = r->accept_queue_high, [TL_SYNQ] = r->syn_queue,
			[TL_DROPS] = (double)r->drops, [TL_DROPS_S] = r->drops_s,
			[TL_NETNS] = r->netns,
		};
		return vals[col];
	}
	const struct top_remote *r = &f->remotes[i];
	const double vals[TR_COLS] = {
		[TR_NETNS] = r->netns, [TR_COUNT] = r->count, [TR_RANGE] = r->ratio,
		[TR_NEW_S] = r->new_s,
	};
	return vals[col];
}

/* Text sort key of a text column; ties broken by pid or port. */
static const char *cell_text(const struct top_frame *f, enum top_view v, __u32 i, int col)
{
	if (v == TOP_PROCS)
		return col == TP_COMM ? f->procs[i].comm : f->procs[i].name;
	if (v == TOP_LISTENERS)
		return col == TL_COMM ? f->listeners[i].comm : f->listeners[i].addr;
	return f->remotes[i].remote;
}

static double tie_value(const struct top_frame *f, enum top_view v, __u32 i)
{
	return v == TOP_PROCS ? f->procs[i].pid : v == TOP_LISTENERS ? f->listeners[i].port : i;
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;
	int r;

	if (c->text) {
		r = strcmp(cell_text(c->f, c->v, x, c->col), cell_text(c->f, c->v, y, c->col));
		if (c->v == TOP_LISTENERS && !r && c->col == TL_ADDRESS)
			r = (int)c->f->listeners[x].port - (int)c->f->listeners[y].port;
	} else {
		double vx = cell_value(c->f, c->v, x, c->col), vy = cell_value(c->f, c->v, y, c->col);

		r = vx < vy ? 1 : vx > vy ? -1 : 0;
	}
	if (c->ascending != c->text)
		r = -r;
	if (c->reverse)
		r = -r;
	if (!r) {
		double tx = tie_value(c->f, c->v, x), ty = tie_value(c->f, c->v, y);

		r = tx < ty ? -1 : tx > ty;
	}
	return r;
}

/* Sort the rows of view v by permuting them through an index. */
static int sort_view(struct top_frame *f, enum top_view v, const struct top_opts *o)
{
	size_t size = v == TOP_PROCS ? sizeof(*f->procs) : v == TOP_LISTENERS ? sizeof(*f->listeners)
									     : sizeof(*f->remotes);
	void *rows = v == TOP_PROCS ? (void *)f->procs : v == TOP_LISTENERS ? (void *)f->listeners
									       : (void *)f->remotes;
	__u32 n = top_frame__rows(f, v), *idx;
	int ncols;
	const struct top_column *cols = top_model__columns(v, &ncols);
	struct sort_ctx c = { f, v, o->sort[v], false, false, o->reverse };
	char *copy;

	if (c.col < 0 || c.col >= ncols)
		c.col = 0;
	c.text = cols[c.col].text;
	c.ascending = cols[c.col].ascending;
	if (n < 2)
		return 0;
	idx = malloc(n * sizeof(*idx));
	copy = malloc(n * size);
	if (!idx || !copy) {
		free(idx);
		free(copy);
		return -ENOMEM;
	}
	for (__u32 i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_rows, &c);
	for (__u32 i = 0; i < n; i++)
		memcpy(copy + i * size, (char *)rows + idx[i] * size, size);
	memcpy(rows, copy, n * size);
	free(idx);
	free(copy);
	return 0;
}

static int alloc_rows(struct top_frame *f, struct json_object *cur)
{
	f->all_procs = array_len(get(cur, "processes"));
	f->all_listeners = array_len(get(cur, "listeners"));
	f->all_remotes = array_len(get(cur, "time_wait_by_remote"));
	f->procs = calloc(f->all_procs + 1, sizeof(*f->procs));
	f->listeners = calloc(f->all_listeners + 1, sizeof(*f->listeners));
	f->remotes = calloc(f->all_remotes + 1, sizeof(*f->remotes));
	return f->procs && f->listeners && f->remotes ? 0 : -ENOMEM;
}

static void fill_rows(struct top_frame *f, struct json_object *cur, const struct prev_rows *p,
		      const struct top_filter *flt)
{
	struct json_object *ap = get(cur, "processes"), *al = get(cur, "listeners");
	struct json_object *ar = get(cur, "time_wait_by_remote");
	double iv = f->h.interval;

	for (__u32 i = 0; i < f->all_procs; i++) {
		struct top_proc *r = &f->procs[f->nprocs];

		proc_from_json(json_object_array_get_idx(ap, i), r);
		if (!keep_proc(flt, r, cur))
			continue;
		proc_rates(r, p, iv);
		f->nprocs++;
	}
	for (__u32 i = 0; i < f->all_listeners; i++) {
		struct top_listener *r = &f->listeners[f->nlisteners];

		listener_from_json(json_object_array_get_idx(al, i), r);
		if (!keep_listener(flt, r))
			continue;
		listener_rates(r, p, iv);
		f->nlisteners++;
	}
	for (__u32 i = 0; i < f->all_remotes; i++) {
		struct top_remote *r = &f->remotes[f->nremotes];

		remote_from_json(json_object_array_get_idx(ar, i), r);
		if (!keep_remote(flt, r))
			continue;
		remote_rates(r, p, iv);
		f->nremotes++;
	}
}

int top_model__build(struct json_object *prev, struct json_object *cur, const struct top_opts *o,
		     struct top_frame *f)
{
	struct prev_rows p;
	int err;

	memset(f, 0, sizeof(*f));
	read_header(prev, cur, &f->h);
	err = prev_rows_read(prev, &p);
	if (err)
		return err;
	err = alloc_rows(f, cur);
	if (!err) {
		fill_rows(f, cur, &p, &o->filter);
		for (int v = 0; v < TOP_VIEWS && !err; v++)
			err = sort_view(f, (enum top_view)v, o);
	}
	prev_rows_free(&p);
	if (err)
		top_frame__free(f);
	return err;
}

void top_frame__free(struct top_frame *f)
{
	free(f->procs);
	free(f->listeners);
	free(f->remotes);
	memset(f, 0, sizeof(*f));
}

__u32 top_frame__rows(const struct top_frame *f, enum top_view v)
{
	return v == TOP_PROCS ? f->nprocs : v == TOP_LISTENERS ? f->nlisteners : f->nremotes;
}

/* ---- cells ----------------------------------------------------------------------------- */

static char *fmt_rate(double r, char *buf, size_t len)
{
	if (r == TOP_NO_RATE)
		snprintf(buf, len, "-");
	else if (r != 0 && r < 10 && r > -10)
		snprintf(buf, len, "%.1f", r);
	else
		snprintf(buf, len, "%.0f", r);
	return buf;
}

static char *fmt_age(double s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s < 100)
		snprintf(buf, len, "%.1fs", s);
	else if (s < 6000)
		snprintf(buf, len, "%.0fm", s / 60);
	else
		snprintf(buf, len, "%.1fh", s / 3600);
	return buf;
}

static char *proc_cell(const struct top_proc *r, int col, char *buf, size_t len)
{
	switch (col) {
	case TP_PID:
		if (r->pid)
			snprintf(buf, len, "%u", r->pid);
		else
			snprintf(buf, len, "?");
		return buf;
	case TP_COMM:
		snprintf(buf, len, "%s", r->comm);
		return buf;
	case TP_ESTAB:
	case TP_CLOSE_WAIT:
	case TP_TIME_WAIT:
		snprintf(buf, len, "%u",
			 col == TP_ESTAB ? r->estab : col == TP_CLOSE_WAIT ? r->close_wait : r->time_wait);
		return buf;
	case TP_CW_OLDEST:
		return fmt_age(r->cw_oldest, buf, len);
	case TP_CONN_S:
		return fmt_rate(r->conn_s, buf, len);
	case TP_RETRANS_S:
		return fmt_rate(r->retrans_s, buf, len);
	case TP_RESETS_S:
		return fmt_rate(r->resets_s, buf, len);
	case TP_ERRORS_S:
		return fmt_rate(r->errors_s, buf, len);
	default:
		snprintf(buf, len, "%s", r->name[0] ? r->name : r->cgroup[0] ? r->cgroup : "-");
		return buf;
	}
}

static char *listener_cell(const struct top_listener *r, int col, char *buf, size_t len)
{
	switch (col) {
	case TL_ADDRESS:
		snprintf(buf, len, strchr(r->addr, ':') ? "[%s]:%u" : "%s:%u", r->addr, r->port);
		return buf;
	case TL_COMM:
		snprintf(buf, len, "%s", r->comm[0] ? r->comm : "?");
		return buf;
	case TL_DROPS:
		snprintf(buf, len, "%llu", (unsigned long long)r->drops);
		return buf;
	case TL_DROPS_S:
		return fmt_rate(r->drops_s, buf, len);
	default:
		snprintf(buf, len, "%u",
			 col == TL_ACCEPTQ ? r->accept_queue : col == TL_MAX ? r->accept_queue_max :
			 col == TL_HIGH ? r->accept_queue_high : col == TL_SYNQ ? r->syn_queue : r->netns);
		return buf;
	}
}

static char *remote_cell(const struct top_remote *r, int col, char *buf, size_t len)
{
	switch (col) {
	case TR_REMOTE:
		snprintf(buf, len, "%s", r->remote);
		return buf;
	case TR_NETNS:
		snprintf(buf, len, "%u", r->netns);
		return buf;
	case TR_COUNT:
		snprintf(buf, len, "%u", r->count);
		return buf;
	case TR_RANGE:
		snprintf(buf, len, "%.1f%%", 100 * r->ratio);
		return buf;
	default:
		return fmt_rate(r->new_s, buf, len);
	}
}

char *top_model__cell(const struct top_frame *f, enum top_view v, __u32 row, int col, char *buf,
		      size_t len)
{
	if (v == TOP_PROCS)
		return proc_cell(&f->procs[row], col, buf, len);
	if (v == TOP_LISTENERS)
		return listener_cell(&f->listeners[row], col, buf, len);
	return remote_cell(&f->remotes[row], col, buf, len);
}
