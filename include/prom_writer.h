/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Builds one scrape worth of Prometheus text exposition (format 0.0.4) or OpenMetrics 1.0 text
 * into a growable buffer. The buffer is kept between scrapes: after the first few scrapes have
 * grown it to size, writing samples allocates nothing.
 *
 * Usage per scrape: reset, then for each metric family one family() call followed by its
 * samples or histogram series, then finish() and data(). Append failures (out of memory) are
 * remembered and reported once by finish(); the writer stays usable after the next reset.
 *
 * Numbers use the C locale whatever the process locale is. Metric and label names are written
 * as given: they come from this program, not from users, and must match
 * [a-zA-Z_:][a-zA-Z0-9_:]* (names) and [a-zA-Z_][a-zA-Z0-9_]* (label names).
 */
#ifndef TCPSTATE_PROM_WRITER_H
#define TCPSTATE_PROM_WRITER_H

#include <stdbool.h>
#include <stddef.h>

struct prom_writer;

/* Allocate an empty writer in Prometheus text mode. Returns NULL when out of memory. */
struct prom_writer *prom_writer__new(void);

/* Free the writer and its buffer. Accepts NULL. */
void prom_writer__free(struct prom_writer *w);

/*
 * Empty the buffer (keeping its capacity), clear the error and series count, and choose the
 * format: OpenMetrics 1.0 when openmetrics is true, Prometheus text 0.0.4 otherwise.
 */
void prom_writer__reset(struct prom_writer *w, bool openmetrics);

/*
 * Start a metric family: writes its "# HELP" and "# TYPE" lines. type is "gauge", "counter" or
 * "histogram". Counter names end in _total; in OpenMetrics mode the HELP and TYPE lines name
 * the family without the _total suffix, as that format requires. help is escaped here.
 */
void prom_writer__family(struct prom_writer *w, const char *name, const char *type,
			 const char *help);

/*
 * Write one sample line of the current family. name is the full sample name (with _total for
 * counters). labels is NULL or a NULL-terminated array of key, value string pairs; values are
 * escaped (backslash, double quote, newline). NaN and infinities are written as NaN, +Inf, -Inf.
 */
void prom_writer__sample(struct prom_writer *w, const char *name, const char *const *labels,
			 double value);

/* Same as prom_writer__sample() for an integer value, written exactly. */
void prom_writer__sample_u64(struct prom_writer *w, const char *name, const char *const *labels,
			     unsigned long long value);

/*
 * Write one histogram series of the current family. bounds[0..n-1] are increasing upper bounds
 * in base units (seconds); counts[0..n] are NON-cumulative per-bucket counts with counts[n] the
 * overflow bucket. Writes cumulative name_bucket lines with an le label (bounds in canonical
 * float form such as "0.005", "1.0", then "+Inf"), then name_sum (= sum) and name_count.
 * labels as for prom_writer__sample(); le is appended after them.
 */
void prom_writer__histogram(struct prom_writer *w, const char *name, const char *const *labels,
			    const double *bounds, const unsigned long long *counts, int n,
			    double sum);

/*
 * End the exposition: appends "# EOF" in OpenMetrics mode. Returns 0, or -ENOMEM when any
 * append since the last reset failed (the text is then incomplete and must not be served).
 */
int prom_writer__finish(struct prom_writer *w);

/*
 * The text written since the last reset, NUL-terminated; its length goes to *len when len is
 * not NULL. The pointer is owned by the writer and valid until the next write or reset.
 */
const char *prom_writer__data(const struct prom_writer *w, size_t *len);

/* Number of sample lines written since the last reset (each histogram line counts). */
unsigned prom_writer__series(const struct prom_writer *w);

#endif
