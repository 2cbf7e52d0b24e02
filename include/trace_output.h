/* SPDX-License-Identifier: GPL-2.0-only */
/* `tcpstate trace` output: one line per event, as text columns or JSON Lines, with filters. */
#ifndef TCPSTATE_TRACE_OUTPUT_H
#define TCPSTATE_TRACE_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "format.h"
#include "tracker.h"

struct trace_filter {
	__u32 pid;			/* owner pid, 0 = any */
	int port;			/* local or remote port, -1 = any */
	__u32 state_mask;		/* bit per TCP state (old or new), 0 = any */
};

struct trace_output {
	FILE *out;
	bool json;
	bool kernel_pid;		/* text: also show the on-CPU pid (debugging) */
	struct trace_filter filter;
	__s64 mono_to_real_ns;		/* add to CLOCK_MONOTONIC to get CLOCK_REALTIME */
	__u64 printed;
};

/* Prepare (clock offset) and print the text header unless JSON. */
void trace_output__init(struct trace_output *o, FILE *out, bool json);
/* True if the filter lets this event through. */
bool trace_filter__match(const struct trace_filter *f, const struct ev_view *v);
/* Print one event if it passes the filter. */
void trace_output__event(struct trace_output *o, const struct ev_view *v);

#endif
