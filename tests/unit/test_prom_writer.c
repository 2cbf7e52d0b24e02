// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the Prometheus / OpenMetrics text writer. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "prom_writer.h"
#include "testlib.h"

/* Render with fn into a fresh writer in the given mode and compare with want. */
static void check_render(bool om, void (*fn)(struct prom_writer *), const char *want,
			 const char *what)
{
	struct prom_writer *w = prom_writer__new();
	size_t len;
	const char *got;

	CHECK(w != NULL, "%s: prom_writer__new failed", what);
	if (!w)
		return;
	prom_writer__reset(w, om);
	fn(w);
	CHECK_EQ_INT(prom_writer__finish(w), 0, what);
	got = prom_writer__data(w, &len);
	CHECK_EQ_STR(got, want, what);
	CHECK_EQ_INT(len, strlen(want), what);
	prom_writer__free(w);
}

static void render_escaping(struct prom_writer *w)
{
	const char *labels[] = {"path", "C:\\tmp \"x\"\nend", "empty", "", NULL};

	prom_writer__family(w, "t_gauge", "gauge", "Help with \\ and \"quotes\"\nand newline.");
	prom_writer__sample(w, "t_gauge", labels, 1);
}

static void test_escaping(void)
{
	check_render(false, render_escaping,
		     "# HELP t_gauge Help with \\\\ and \"quotes\"\\nand newline.\n"
		     "# TYPE t_gauge gauge\n"
		     "t_gauge{path=\"C:\\\\tmp \\\"x\\\"\\nend\",empty=\"\"} 1\n",
		     "0.0.4 escaping (HELP keeps quotes, label values escape them)");
	check_render(true, render_escaping,
		     "# HELP t_gauge Help with \\\\ and \\\"quotes\\\"\\nand newline.\n"
		     "# TYPE t_gauge gauge\n"
		     "t_gauge{path=\"C:\\\\tmp \\\"x\\\"\\nend\",empty=\"\"} 1\n"
		     "# EOF\n",
		     "OpenMetrics escaping (HELP escapes quotes too)");
}

/* Label values are UTF-8 (Prometheus refuses others): bytes that are not become U+FFFD. */
static void render_invalid_utf8(struct prom_writer *w)
{
	const char *labels[] = {"comm", "q\"\\\n\xff", "ok", "caf\xc3\xa9\xc0\xaf\xe2\x82", NULL};

	prom_writer__family(w, "t_gauge", "gauge", "Help.");
	prom_writer__sample(w, "t_gauge", labels, 1);
}

static void test_invalid_utf8(void)
{
	check_render(false, render_invalid_utf8,
		     "# HELP t_gauge Help.\n"
		     "# TYPE t_gauge gauge\n"
		     "t_gauge{comm=\"q\\\"\\\\\\n\xef\xbf\xbd\","
		     "ok=\"caf\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 1\n",
		     "invalid UTF-8 in label values");
}

static void render_counter(struct prom_writer *w)
{
	const char *labels[] = {"state", "ESTABLISHED", NULL};

	prom_writer__family(w, "t_transitions_total", "counter", "Transitions.");
	prom_writer__sample_u64(w, "t_transitions_total", labels, 18446744073709551615ULL);
	prom_writer__sample_u64(w, "t_transitions_total", NULL, 0);
}

static void test_counter_naming(void)
{
	check_render(false, render_counter,
		     "# HELP t_transitions_total Transitions.\n"
		     "# TYPE t_transitions_total counter\n"
		     "t_transitions_total{state=\"ESTABLISHED\"} 18446744073709551615\n"
		     "t_transitions_total 0\n",
		     "0.0.4 counter keeps _total on HELP/TYPE");
	check_render(true, render_counter,
		     "# HELP t_transitions Transitions.\n"
		     "# TYPE t_transitions counter\n"
		     "t_transitions_total{state=\"ESTABLISHED\"} 18446744073709551615\n"
		     "t_transitions_total 0\n"
		     "# EOF\n",
		     "OpenMetrics counter family drops _total, samples keep it");
}

static void render_histogram(struct prom_writer *w)
{
	static const double bounds[] = {0.005, 0.01, 1, 2.5};
	static const unsigned long long counts[] = {1, 2, 0, 4, 3};
	const char *labels[] = {"port", "80", NULL};

	prom_writer__family(w, "t_rtt_seconds", "histogram", "RTT.");
	prom_writer__histogram(w, "t_rtt_seconds", labels, bounds, counts, 4, 12.125);
	prom_writer__histogram(w, "t_rtt_seconds", NULL, bounds, counts, 0, 0);
}

static void test_histogram_cumulative(void)
{
	struct prom_writer *w = prom_writer__new();

	check_render(false, render_histogram,
		     "# HELP t_rtt_seconds RTT.\n"
		     "# TYPE t_rtt_seconds histogram\n"
		     "t_rtt_seconds_bucket{port=\"80\",le=\"0.005\"} 1\n"
		     "t_rtt_seconds_bucket{port=\"80\",le=\"0.01\"} 3\n"
		     "t_rtt_seconds_bucket{port=\"80\",le=\"1.0\"} 3\n"
		     "t_rtt_seconds_bucket{port=\"80\",le=\"2.5\"} 7\n"
		     "t_rtt_seconds_bucket{port=\"80\",le=\"+Inf\"} 10\n"
		     "t_rtt_seconds_sum{port=\"80\"} 12.125\n"
		     "t_rtt_seconds_count{port=\"80\"} 10\n"
		     "t_rtt_seconds_bucket{le=\"+Inf\"} 1\n"
		     "t_rtt_seconds_sum 0\n"
		     "t_rtt_seconds_count 1\n",
		     "histogram buckets are cumulative, +Inf equals count");
	if (!w)
		return;
	prom_writer__reset(w, false);
	render_histogram(w);
	CHECK_EQ_INT(prom_writer__series(w), 10, "series after two histograms (4+1+2 and 0+1+2)");
	prom_writer__free(w);
}

struct num_case {
	double v;
	const char *want;
};

static void test_number_format(void)
{
	static const struct num_case cases[] = {
	    {0, "0"},
	    {-0.0, "0"},
	    {42, "42"},
	    {-7, "-7"},
	    {123456789012345, "123456789012345"},
	    {0.1, "0.1"},
	    {0.005, "0.005"},
	    {1.0 / 3, "0.3333333333333333"},
	    {0.1 + 0.2, "0.30000000000000004"},
	    {2.5e-7, "2.5e-07"},
	    {1e300, "1e+300"},
	    {1e15, "1e+15"},
	    {NAN, "NaN"},
	    {INFINITY, "+Inf"},
	    {-INFINITY, "-Inf"},
	};
	struct prom_writer *w = prom_writer__new();
	char want[64];

	for (size_t i = 0; w && i < sizeof(cases) / sizeof(cases[0]); i++) {
		prom_writer__reset(w, false);
		prom_writer__sample(w, "v", NULL, cases[i].v);
		snprintf(want, sizeof(want), "v %s\n", cases[i].want);
		CHECK_EQ_STR(prom_writer__data(w, NULL), want, "sample value format");
		if (isfinite(cases[i].v) && strcmp(cases[i].want, "0"))
			CHECK(strtod(cases[i].want, NULL) == cases[i].v,
			      "%s must read back exactly", cases[i].want);
	}
	prom_writer__free(w);
}

static void test_le_format(void)
{
	static const double bounds[] = {1e-6, 0.0005, 1, 10, 1e20};
	static const unsigned long long counts[6];
	struct prom_writer *w = prom_writer__new();
	const char *got;

	if (!w)
		return;
	prom_writer__reset(w, false);
	prom_writer__histogram(w, "h", NULL, bounds, counts, 5, NAN);
	got = prom_writer__data(w, NULL);
	CHECK_EQ_STR(got,
		     "h_bucket{le=\"1e-06\"} 0\n"
		     "h_bucket{le=\"0.0005\"} 0\n"
		     "h_bucket{le=\"1.0\"} 0\n"
		     "h_bucket{le=\"10.0\"} 0\n"
		     "h_bucket{le=\"1e+20\"} 0\n"
		     "h_bucket{le=\"+Inf\"} 0\n"
		     "h_sum NaN\n"
		     "h_count 0\n",
		     "le values in canonical float form");
	prom_writer__free(w);
}

/* Enough families to grow the buffer several times past its first allocation. */
static void render_big(struct prom_writer *w)
{
	char name[32];

	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "t_big_%d", i);
		prom_writer__family(w, name, "gauge", "A gauge among many.");
		prom_writer__sample(w, name, NULL, i * 0.5);
	}
}

static void test_buffer_reuse(void)
{
	struct prom_writer *w = prom_writer__new();
	const char *first, *second;
	size_t len1, len2;
	char *copy;

	if (!w)
		return;
	prom_writer__reset(w, false);
	render_big(w);
	CHECK_EQ_INT(prom_writer__finish(w), 0, "finish after a big render");
	first = prom_writer__data(w, &len1);
	copy = strndup(first, len1);
	prom_writer__reset(w, false);
	CHECK_EQ_STR(prom_writer__data(w, &len2), "", "reset empties the text");
	CHECK_EQ_INT(len2, 0, "length after reset");
	CHECK_EQ_INT(prom_writer__series(w), 0, "series after reset");
	render_big(w);
	second = prom_writer__data(w, &len2);
	CHECK(second == first, "second render must reuse the grown buffer (no reallocation)");
	CHECK(len2 == len1 && copy && !memcmp(copy, second, len1),
	      "second render must produce the same %zu bytes, got %zu", len1, len2);
	CHECK_EQ_INT(prom_writer__series(w), 2000, "series in big render");
	free(copy);
	prom_writer__free(w);
}

static void test_free_null(void)
{
	prom_writer__free(NULL);
}

TEST_MAIN("prom_writer", TL_CASE(test_escaping), TL_CASE(test_invalid_utf8),
	  TL_CASE(test_counter_naming), TL_CASE(test_histogram_cumulative),
	  TL_CASE(test_number_format), TL_CASE(test_le_format), TL_CASE(test_buffer_reuse),
	  TL_CASE(test_free_null))
