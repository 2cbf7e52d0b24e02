/* SPDX-License-Identifier: GPL-2.0-only */
/* Fixed-bucket latency histograms, bucket bounds in seconds shared by every histogram metric. */
#ifndef TCPSTATE_HIST_H
#define TCPSTATE_HIST_H

#include <linux/types.h>

#define HIST_NBOUNDS 19

struct hist {
	__u64 counts[HIST_NBOUNDS + 1]; /* non-cumulative; last is above the largest bound */
	__u64 sum_ns;
};

/* Upper bounds in seconds, ascending. */
extern const double hist_bounds_sec[HIST_NBOUNDS];

/* Count one observation of ns nanoseconds. No allocation, no system call. */
void hist__observe(struct hist *h, __u64 ns);
/* Number of observations. */
__u64 hist__count(const struct hist *h);
/* Add every count of src into dst. */
void hist__merge(struct hist *dst, const struct hist *src);

#endif
