/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The model of `tcpstate top`, pure: it takes two successive snapshot documents (the
 * `snapshot --json` / GET /api/v1/snapshot object, parsed with json-c) and computes the rows of
 * a frame: per-process, per-listener and per-TIME_WAIT-remote rows, rates over the interval
 * between the two documents, filtered and sorted. It does no I/O; the screen and the batch
 * output format its cells with top_model__cell().
 */
#ifndef TCPSTATE_TOP_MODEL_H
#define TCPSTATE_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "format.h"
#include "tcpstate_event.h"

struct json_object;

enum top_view { TOP_PROCS, TOP_LISTENERS, TOP_REMOTES, TOP_VIEWS };

/* Columns of each view, in display order. */
enum top_proc_col {
	TP_PID, TP_COMM, TP_ESTAB, TP_CLOSE_WAIT, TP_CW_OLDEST, TP_TIME_WAIT, TP_CONN_S,
	TP_RETRANS_S, TP_RESETS_S, TP_ERRORS_S, TP_NAME, TP_COLS
};
enum top_listener_col {
	TL_ADDRESS, TL_COMM, TL_ACCEPTQ, TL_MAX, TL_HIGH, TL_SYNQ, TL_DROPS, TL_DROPS_S, TL_NETNS,
	TL_COLS
};
enum top_remote_col { TR_REMOTE, TR_NETNS, TR_COUNT, TR_RANGE, TR_NEW_S, TR_COLS };

struct top_column {
	const char *title;
	char key;	/* the key that sorts by it */
	int width;	/* negative: left-aligned */
	bool text;	/* sorted by its text (else by value) */
	bool ascending;	/* smallest first by default (text columns, pid) */
};

/* comm:NAME (substring), port:N, netns:INODE; a bare word is a comm. */
enum top_filter_kind { TOP_FILTER_NONE, TOP_FILTER_COMM, TOP_FILTER_PORT, TOP_FILTER_NETNS };

struct top_filter {
	enum top_filter_kind kind;
	char text[64];		/* the comm substring, or the filter as typed */
	unsigned long num;	/* port or netns */
};

struct top_opts {
	enum top_view view;
	int sort[TOP_VIEWS];	/* column of each view */
	bool reverse;		/* invert the column's default order */
	struct top_filter filter;
};

#define TOP_NO_RATE (-1.0)	/* shown as "-": no earlier document to compare with */

struct top_proc {
	__u32 pid;		/* 0: unknown owner */
	__u32 netns;		/* 0 if unknown */
	char comm[TS_COMM_LEN];
	char name[64];		/* unit or container/pod short name */
	char cgroup[160];
	__u32 estab, close_wait, time_wait, total;
	double cw_oldest;	/* seconds, -1 if no CLOSE_WAIT */
	__u64 conns, retrans, resets, errors;	/* totals since the agent started */
	double conn_s, retrans_s, resets_s, errors_s;
	bool listens_filtered_port;	/* owns a listener on the filter's port */
};

struct top_listener {
	__u32 netns, port, pid;
	char addr[64], comm[TS_COMM_LEN];
	__u32 accept_queue, accept_queue_max, accept_queue_high, syn_queue;
	__u64 drops;
	double drops_s;
};

struct top_remote {
	__u32 netns, port, count;
	char remote[80];
	double ratio;		/* of the local port range */
	double new_s;		/* change of count per second (negative when draining) */
};

struct top_header {
	char attach[16];
	__u32 by_state[TCP_MAX_STATES];
	double interval;	/* seconds between the documents, 0 for the first */
	double uptime;		/* the agent's observation time */
	__u64 events, lost, drift;	/* totals; drift: audit corrections */
	double events_s, lost_d, drift_d;	/* per second; lost and drift: in the interval */
	int port_range;
	__u32 table_sockets;
};

struct top_frame {
	struct top_header h;
	struct top_proc *procs;
	struct top_listener *listeners;
	struct top_remote *remotes;
	__u32 nprocs, nlisteners, nremotes;	/* rows after filtering */
	__u32 all_procs, all_listeners, all_remotes; /* before */
};

/* Default sort columns and view. */
void top_opts__default(struct top_opts *o);
/*
 * Parse a filter as typed ("comm:nginx", "port:8080", "netns:4026532000", "nginx", "" clears
 * it). Returns 0, or -EINVAL with a one-line reason in err.
 */
int top_filter__parse(const char *s, struct top_filter *f, char *err, size_t errlen);
/*
 * Parse a snapshot document's text. Returns 0 with *out (free with json_object_put()), or
 * -EINVAL with a one-line reason: not JSON, not a tcpstate snapshot, or an api_version this
 * build does not understand.
 */
int top_model__parse(const char *text, struct json_object **out, char *err, size_t errlen);
/*
 * Build frame f from document cur, with rates against prev (may be NULL: rates are
 * TOP_NO_RATE), filtered and sorted as o says. 0 or -ENOMEM. Free with top_frame__free().
 */
int top_model__build(struct json_object *prev, struct json_object *cur, const struct top_opts *o,
		     struct top_frame *f);
/* Re-sort and re-filter in place is not kept: build again. Accepts a zeroed frame. */
void top_frame__free(struct top_frame *f);
/* The columns of view v; *n is set. */
const struct top_column *top_model__columns(enum top_view v, int *n);
/* The column of view v that key sorts by, or -1. */
int top_model__column_for_key(enum top_view v, int key);
/* Format cell (row, col) of view v of f into buf (no padding). Returns buf. */
char *top_model__cell(const struct top_frame *f, enum top_view v, __u32 row, int col, char *buf,
		      size_t len);
/* Rows of view v in f. */
__u32 top_frame__rows(const struct top_frame *f, enum top_view v);

#endif
