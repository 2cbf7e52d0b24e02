// SPDX-License-Identifier: GPL-2.0-only
/* Fixed-bucket histograms (see include/hist.h). */
#include "hist.h"

const double hist_bounds_sec[HIST_NBOUNDS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25,	0.5,	 1,	 2.5,	5,	10,    30,   60,    300,
};

static const __u64 bounds_ns[HIST_NBOUNDS] = {
	100000ull,	250000ull,	 500000ull,	   1000000ull,	    2500000ull,
	5000000ull,	10000000ull,	 25000000ull,	   50000000ull,	    100000000ull,
	250000000ull,	500000000ull,	 1000000000ull,	   2500000000ull,   5000000000ull,
	10000000000ull, 30000000000ull, 60000000000ull, 300000000000ull,
};

void hist__observe(struct hist *h, __u64 ns)
{
	int i = 0;

	while (i < HIST_NBOUNDS && ns > bounds_ns[i])
		i++;
	h->counts[i]++;
	h->sum_ns += ns;
}

__u64 hist__count(const struct hist *h)
{
	__u64 n = 0;

	for (int i = 0; i <= HIST_NBOUNDS; i++)
		n += h->counts[i];
	return n;
}

void hist__merge(struct hist *dst, const struct hist *src)
{
	for (int i = 0; i <= HIST_NBOUNDS; i++)
		dst->counts[i] += src->counts[i];
	dst->sum_ns += src->sum_ns;
}
