/* SPDX-License-Identifier: GPL-2.0-only */
/* The Prometheus exposition of `tcpstate serve` (families listed in README.md). */
#ifndef TCPSTATE_METRICS_H
#define TCPSTATE_METRICS_H

#include <stdbool.h>

#include "listeners.h"
#include "session.h"

struct prom_writer;

struct metrics_opts {
	__u32 max_groups;	/* process groups with their own series; the rest are "other" */
	__u32 max_remotes;	/* TIME_WAIT remote endpoints with their own series */
	bool pid_label;		/* add a pid label to per-process series (more series) */
	int port_range_size;	/* size of ip_local_port_range */
};

struct metrics;

/* NULL on ENOMEM. The session must outlive the metrics object. */
struct metrics *metrics__new(struct session *s, const struct metrics_opts *o);
/* Accepts NULL. */
void metrics__free(struct metrics *m);
/* http_handlers.metrics callback: render one scrape into w. Returns 0. */
int metrics__render(void *ctx, struct prom_writer *w);

#endif
