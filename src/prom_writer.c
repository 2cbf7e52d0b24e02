// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prometheus text 0.0.4 and OpenMetrics 1.0 writer. Everything is appended to one buffer that
 * only grows (doubling), so a warmed-up writer renders a scrape without touching malloc.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "prom_writer.h"

#define PW_INITIAL_CAP 16384
#define PW_NUM_LEN 40 /* longest "%.17g" is 24 bytes; room to spare */

struct prom_writer {
	char *buf;
	size_t len;
	size_t cap; /* bytes allocated; len + 1 <= cap always (NUL terminator) */
	unsigned series;
	bool openmetrics;
	bool failed;	   /* an append failed since the last reset */
	locale_t c_locale; /* numbers are formatted in the C locale */
};

struct prom_writer *prom_writer__new(void)
{
	struct prom_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->buf = malloc(PW_INITIAL_CAP);
	w->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (!w->buf || w->c_locale == (locale_t)0) {
		prom_writer__free(w);
		return NULL;
	}
	w->cap = PW_INITIAL_CAP;
	w->buf[0] = '\0';
	return w;
}

void prom_writer__free(struct prom_writer *w)
{
	if (!w)
		return;
	if (w->c_locale != (locale_t)0)
		freelocale(w->c_locale);
	free(w->buf);
	free(w);
}

void prom_writer__reset(struct prom_writer *w, bool openmetrics)
{
	w->len = 0;
	w->buf[0] = '\0';
	w->series = 0;
	w->failed = false;
	w->openmetrics = openmetrics;
}

/* Make room for extra more bytes plus the terminator; false (and failed set) if impossible. */
static bool pw_reserve(struct prom_writer *w, size_t extra)
{
	size_t need, cap;
	char *buf;

	if (w->failed)
		return false;
	need = w->len + extra + 1;
	if (need <= w->cap)
		return true;
	for (cap = w->cap; cap < need; cap *= 2)
		;
	buf = realloc(w->buf, cap);
	if (!buf) {
		w->failed = true;
		return false;
	}
	w->buf = buf;
	w->cap = cap;
	return true;
}

static void pw_put(struct prom_writer *w, const char *s, size_t n)
{
	if (!pw_reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void pw_puts(struct prom_writer *w, const char *s)
{
	pw_put(w, s, strlen(s));
}

static void pw_putc(struct prom_writer *w, char c)
{
	pw_put(w, &c, 1);
}

/*
 * Append s with backslash and newline escaped, and double quotes too when quotes is set. The
 * text formats are UTF-8 (Prometheus refuses a label value that is not): each byte that is not
 * part of a well-formed UTF-8 character is written as U+FFFD.
 */
static void pw_escaped(struct prom_writer *w, const char *s, bool quotes)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = NULL;

		if (*s == '\\')
			esc = "\\\\";
		else if (*s == '\n')
			esc = "\\n";
		else if (*s == '"' && quotes)
			esc = "\\\"";
		else if ((unsigned char)*s >= 0x80) {
			size_t seq = utf8_seq_len(s);

			if (seq) {
				s += seq - 1; /* a well-formed character: kept */
				continue;
			}
			esc = "\xef\xbf\xbd"; /* U+FFFD */
		}
		if (!esc)
			continue;
		pw_put(w, run, (size_t)(s - run));
		pw_puts(w, esc);
		run = s + 1;
	}
	pw_put(w, run, (size_t)(s - run));
}

/* Shortest "%.Ng" (N = 15..17) that reads back as exactly v. */
static void fmt_shortest(char *out, size_t len, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, len, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* NaN and infinities as Prometheus spells them; false for finite values. */
static bool fmt_special(char *out, size_t len, double v)
{
	if (isnan(v))
		snprintf(out, len, "NaN");
	else if (isinf(v))
		snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
	else
		return false;
	return true;
}

/* A sample value: integers without exponent or fraction, other values shortest round-trip. */
static void fmt_value(struct prom_writer *w, char *out, size_t len, double v)
{
	locale_t old;

	if (fmt_special(out, len, v))
		return;
	if (fabs(v) < 1e15 && v == (double)(long long)v) {
		snprintf(out, len, "%lld", (long long)v);
		return;
	}
	old = uselocale(w->c_locale);
	fmt_shortest(out, len, v);
	uselocale(old);
}

/*
 * A bucket bound in canonical float form ("0.005", "1.0", "1e+20", "+Inf"): OpenMetrics
 * requires it, and using it in both formats keeps the le label stable if a server switches.
 */
static void fmt_le(struct prom_writer *w, char *out, size_t len, double v)
{
	locale_t old;

	if (fmt_special(out, len, v))
		return;
	old = uselocale(w->c_locale);
	fmt_shortest(out, len, v);
	uselocale(old);
	if (!strpbrk(out, ".e"))
		strncat(out, ".0", len - strlen(out) - 1);
}

/* Append {k="v",...,le="x"}; nothing when there are no labels at all. */
static void pw_labels(struct prom_writer *w, const char *const *labels, const char *le)
{
	bool first = true;

	if ((!labels || !labels[0]) && !le)
		return;
	pw_putc(w, '{');
	for (; labels && labels[0] && labels[1]; labels += 2) {
		if (!first)
			pw_putc(w, ',');
		first = false;
		pw_puts(w, labels[0]);
		pw_puts(w, "=\"");
		pw_escaped(w, labels[1], true);
		pw_putc(w, '"');
	}
	if (le) {
		pw_puts(w, first ? "le=\"" : ",le=\"");
		pw_puts(w, le);
		pw_putc(w, '"');
	}
	pw_putc(w, '}');
}

/* One sample line: name suffix {labels} value. */
static void pw_line(struct prom_writer *w, const char *name, const char *suffix,
		    const char *const *labels, const char *le, const char *value)
{
	pw_puts(w, name);
	pw_puts(w, suffix);
	pw_labels(w, labels, le);
	pw_putc(w, ' ');
	pw_puts(w, value);
	pw_putc(w, '\n');
	w->series++;
}

void prom_writer__family(struct prom_writer *w, const char *name, const char *type,
			 const char *help)
{
	size_t n = strlen(name);

	if (w->openmetrics && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total"))
		n -= 6;
	pw_puts(w, "# HELP ");
	pw_put(w, name, n);
	pw_putc(w, ' ');
	/* 0.0.4 escapes only backslash and newline in HELP; OpenMetrics also double quotes. */
	pw_escaped(w, help, w->openmetrics);
	pw_puts(w, "\n# TYPE ");
	pw_put(w, name, n);
	pw_putc(w, ' ');
	pw_puts(w, type);
	pw_putc(w, '\n');
}

void prom_writer__sample(struct prom_writer *w, const char *name, const char *const *labels,
			 double value)
{
	char num[PW_NUM_LEN];

	fmt_value(w, num, sizeof(num), value);
	pw_line(w, name, "", labels, NULL, num);
}

void prom_writer__sample_u64(struct prom_writer *w, const char *name, const char *const *labels,
			     unsigned long long value)
{
	char num[PW_NUM_LEN];

	snprintf(num, sizeof(num), "%llu", value);
	pw_line(w, name, "", labels, NULL, num);
}

void prom_writer__histogram(struct prom_writer *w, const char *name, const char *const *labels,
			    const double *bounds, const unsigned long long *counts, int n,
			    double sum)
{
	unsigned long long cum = 0;
	char le[PW_NUM_LEN], num[PW_NUM_LEN];

	for (int i = 0; i < n; i++) {
		cum += counts[i];
		fmt_le(w, le, sizeof(le), bounds[i]);
		snprintf(num, sizeof(num), "%llu", cum);
		pw_line(w, name, "_bucket", labels, le, num);
	}
	cum += counts[n < 0 ? 0 : n];
	snprintf(num, sizeof(num), "%llu", cum);
	pw_line(w, name, "_bucket", labels, "+Inf", num);
	fmt_value(w, le, sizeof(le), sum);
	pw_line(w, name, "_sum", labels, NULL, le);
	pw_line(w, name, "_count", labels, NULL, num);
}

int prom_writer__finish(struct prom_writer *w)
{
	if (w->openmetrics)
		pw_puts(w, "# EOF\n");
	return w->failed ? -ENOMEM : 0;
}

const char *prom_writer__data(const struct prom_writer *w, size_t *len)
{
	if (len)
		*len = w->len;
	return w->buf;
}

unsigned prom_writer__series(const struct prom_writer *w)
{
	return w->series;
}
