// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for the model of `tcpstate top`: rows, rates, sorting and filters from documents. */
#include <errno.h>

#include <json-c/json.h>

#include "testlib.h"
#include "top_model.h"

/* Two documents of one agent, 2 s apart (duration_seconds 10 -> 12). */
static const char DOC1[] =
	"{\"api_version\":1,\"timestamp\":1000.0,\"duration_seconds\":10.0,\"attach\":\"tp_btf\","
	"\"events\":1000,\"lost\":0,"
	"\"by_state\":{\"established\":5,\"close_wait\":3,\"time_wait\":7,\"listen\":2},"
	"\"processes\":["
	"{\"pid\":100,\"comm\":\"nginx\",\"cgroup\":\"/system.slice/nginx.service\",\"netns\":11,"
	"\"states\":{\"established\":4,\"close_wait\":0,\"listen\":1},"
	"\"close_wait_oldest_seconds\":null,\"connections\":10,\"retransmits\":2,"
	"\"resets_sent\":1,\"resets_received\":0,\"errors\":{}},"
	"{\"pid\":200,\"comm\":\"leaky\",\"cgroup\":\"/system.slice/docker-"
	"4b5c9ff0ba8a06e0a4a2f1b1e5f32e0d43fcae1c1e3c4b36fb5d4bdd5e2d7a91.scope\",\"netns\":22,"
	"\"states\":{\"established\":1,\"close_wait\":3},\"close_wait_oldest_seconds\":5.5,"
	"\"connections\":3,\"retransmits\":0,\"resets_sent\":0,\"resets_received\":0,"
	"\"errors\":{\"ECONNRESET\":1}}],"
	"\"time_wait_by_remote\":[{\"remote\":\"10.0.0.1:80\",\"addr\":\"10.0.0.1\",\"port\":80,"
	"\"netns\":11,\"count\":7,\"port_range_ratio\":0.00025}],"
	"\"listeners\":[{\"netns\":11,\"addr\":\"0.0.0.0\",\"port\":80,\"pid\":100,"
	"\"comm\":\"nginx\",\"accept_queue\":0,\"accept_queue_max\":511,\"accept_queue_high\":1,"
	"\"syn_queue\":0,\"drops\":4}],"
	"\"audit\":{\"corrections\":{\"established/missing\":1}}}";

static const char DOC2[] =
	"{\"api_version\":1,\"timestamp\":1002.1,\"duration_seconds\":12.0,\"attach\":\"tp_btf\","
	"\"events\":1600,\"lost\":3,"
	"\"by_state\":{\"established\":6,\"close_wait\":5,\"time_wait\":11,\"listen\":3},"
	"\"processes\":["
	"{\"pid\":100,\"comm\":\"nginx\",\"cgroup\":\"/system.slice/nginx.service\",\"netns\":11,"
	"\"states\":{\"established\":4,\"close_wait\":0,\"listen\":1},"
	"\"close_wait_oldest_seconds\":null,\"connections\":30,\"retransmits\":6,"
	"\"resets_sent\":1,\"resets_received\":3,\"errors\":{}},"
	"{\"pid\":200,\"comm\":\"leaky\",\"cgroup\":\"/system.slice/docker-"
	"4b5c9ff0ba8a06e0a4a2f1b1e5f32e0d43fcae1c1e3c4b36fb5d4bdd5e2d7a91.scope\",\"netns\":22,"
	"\"states\":{\"established\":1,\"close_wait\":5},\"close_wait_oldest_seconds\":7.5,"
	"\"connections\":5,\"retransmits\":0,\"resets_sent\":0,\"resets_received\":0,"
	"\"errors\":{\"ECONNRESET\":1,\"ETIMEDOUT\":4}},"
	"{\"pid\":300,\"comm\":\"curl\",\"cgroup\":\"/user.slice/user-1000.slice/session-2.scope\","
	"\"netns\":11,\"states\":{\"established\":1},\"close_wait_oldest_seconds\":null,"
	"\"connections\":2,\"retransmits\":0,\"resets_sent\":0,\"resets_received\":0,"
	"\"errors\":{}}],"
	"\"time_wait_by_remote\":[{\"remote\":\"10.0.0.1:80\",\"addr\":\"10.0.0.1\",\"port\":80,"
	"\"netns\":11,\"count\":11,\"port_range_ratio\":0.0004},"
	"{\"remote\":\"10.0.0.2:443\",\"addr\":\"10.0.0.2\",\"port\":443,\"netns\":22,"
	"\"count\":2,\"port_range_ratio\":0.0001}],"
	"\"listeners\":[{\"netns\":11,\"addr\":\"0.0.0.0\",\"port\":80,\"pid\":100,"
	"\"comm\":\"nginx\",\"accept_queue\":0,\"accept_queue_max\":511,\"accept_queue_high\":1,"
	"\"syn_queue\":0,\"drops\":4},"
	"{\"netns\":22,\"addr\":\"::\",\"port\":8080,\"pid\":200,\"comm\":\"leaky\","
	"\"accept_queue\":3,\"accept_queue_max\":2,\"accept_queue_high\":3,\"syn_queue\":1,"
	"\"drops\":21}],"
	"\"audit\":{\"corrections\":{\"established/missing\":1,\"close_wait/stale\":2}}}";

static struct json_object *doc(const char *text)
{
	struct json_object *o = NULL;
	char err[200] = "";

	CHECK(top_model__parse(text, &o, err, sizeof(err)) == 0, "parse failed: %s", err);
	return o;
}

static void build(const char *filter, enum top_view v, int col, bool reverse, struct top_frame *f)
{
	struct json_object *a = doc(DOC1), *b = doc(DOC2);
	struct top_opts o;
	char err[200] = "";

	top_opts__default(&o);
	o.view = v;
	if (col >= 0)
		o.sort[v] = col;
	o.reverse = reverse;
	CHECK(top_filter__parse(filter, &o.filter, err, sizeof(err)) == 0, "filter '%s': %s",
	      filter, err);
	CHECK_EQ_INT(top_model__build(a, b, &o, f), 0, "build");
	json_object_put(a);
	json_object_put(b);
}

#define NEAR(x, want, what) CHECK((x) > (want) - 1e-6 && (x) < (want) + 1e-6, \
				  "%s: expected %g, got %g", what, (double)(want), (double)(x))

static void test_rates_over_the_interval(void)
{
	struct top_frame f;

	build("", TOP_PROCS, TP_PID, false, &f);
	NEAR(f.h.interval, 2.0, "interval from duration_seconds");
	NEAR(f.h.events_s, 300.0, "events/s");
	NEAR(f.h.lost_d, 3.0, "lost in the interval");
	NEAR(f.h.drift_d, 2.0, "audit drift in the interval");
	CHECK_EQ_INT(f.h.by_state[TCP_CLOSE_WAIT], 5, "header CLOSE_WAIT");
	CHECK_EQ_INT(f.nprocs, 3, "process rows");
	if (f.nprocs == 3) {
		CHECK_EQ_INT(f.procs[0].pid, 100, "sorted by pid: first");
		NEAR(f.procs[0].conn_s, 10.0, "nginx connections/s");
		NEAR(f.procs[0].retrans_s, 2.0, "nginx retransmits/s");
		NEAR(f.procs[0].resets_s, 1.5, "nginx resets/s (sent + received)");
		NEAR(f.procs[1].errors_s, 2.0, "leaky errors/s");
		NEAR(f.procs[2].conn_s, 1.0, "curl, new in this interval: connections/s");
		CHECK_EQ_STR(f.procs[0].name, "nginx.service", "unit name");
		CHECK_EQ_STR(f.procs[1].name, "docker:4b5c9ff0ba8a", "container name");
	}
	CHECK_EQ_INT(f.nlisteners, 2, "listener rows");
	if (f.nlisteners == 2) {
		CHECK_EQ_INT(f.listeners[0].port, 8080, "sorted by accept queue: the full one first");
		NEAR(f.listeners[0].drops_s, 0.0, "a new listener's drops predate the interval");
		NEAR(f.listeners[1].drops_s, 0.0, "nginx drops/s");
	}
	CHECK_EQ_INT(f.nremotes, 2, "remote rows");
	if (f.nremotes == 2)
		NEAR(f.remotes[0].new_s, 2.0, "TIME_WAIT change/s towards 10.0.0.1:80");
	top_frame__free(&f);
}

static void test_first_document_has_no_rates(void)
{
	struct json_object *b = doc(DOC2);
	struct top_opts o;
	struct top_frame f;
	char buf[32];

	top_opts__default(&o);
	CHECK_EQ_INT(top_model__build(NULL, b, &o, &f), 0, "build");
	CHECK(f.h.events_s == TOP_NO_RATE, "events/s without an earlier document: %g",
	      f.h.events_s);
	CHECK(f.nprocs == 3 && f.procs[0].conn_s == TOP_NO_RATE, "no connection rate");
	if (f.nprocs)
		CHECK_EQ_STR(top_model__cell(&f, TOP_PROCS, 0, TP_CONN_S, buf, sizeof(buf)), "-",
			     "rate cell");
	top_frame__free(&f);
	json_object_put(b);
}

static void test_sort_by_every_column(void)
{
	static const struct {
		enum top_view v;
		int col;
		bool reverse;
		__u32 first; /* pid, or port for listeners, or remote port */
	} rows[] = {
		{ TOP_PROCS, TP_CLOSE_WAIT, false, 200 },
		{ TOP_PROCS, TP_CLOSE_WAIT, true, 100 },
		{ TOP_PROCS, TP_ESTAB, false, 100 },
		{ TOP_PROCS, TP_CW_OLDEST, false, 200 },
		{ TOP_PROCS, TP_COMM, false, 300 },   /* curl < leaky < nginx */
		{ TOP_PROCS, TP_COMM, true, 100 },
		{ TOP_PROCS, TP_CONN_S, false, 100 },
		{ TOP_PROCS, TP_ERRORS_S, false, 200 },
		{ TOP_PROCS, TP_NAME, false, 200 }, /* "docker:..." first */
		{ TOP_LISTENERS, TL_DROPS, false, 8080 },
		{ TOP_LISTENERS, TL_MAX, false, 80 },
		{ TOP_LISTENERS, TL_ADDRESS, false, 80 }, /* "0.0.0.0" before "::" */
		{ TOP_REMOTES, TR_COUNT, false, 80 },
		{ TOP_REMOTES, TR_COUNT, true, 443 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct top_frame f;
		__u32 got = 0;
		int n;
		const struct top_column *c = top_model__columns(rows[i].v, &n);

		build("", rows[i].v, rows[i].col, rows[i].reverse, &f);
		if (top_frame__rows(&f, rows[i].v))
			got = rows[i].v == TOP_PROCS ? f.procs[0].pid :
			      rows[i].v == TOP_LISTENERS ? f.listeners[0].port : f.remotes[0].port;
		CHECK(got == rows[i].first, "view %d sorted by %s%s: expected %u first, got %u",
		      rows[i].v, c[rows[i].col].title, rows[i].reverse ? " (reversed)" : "",
		      rows[i].first, got);
		CHECK_EQ_INT(top_model__column_for_key(rows[i].v, c[rows[i].col].key), rows[i].col,
			     "the column's key");
		top_frame__free(&f);
	}
}

static void test_filters(void)
{
	static const struct {
		const char *filter;
		__u32 procs, listeners, remotes;
	} rows[] = {
		{ "", 3, 2, 2 },
		{ "comm:leak", 1, 1, 2 }, /* remotes have no owner: comm does not filter them */
		{ "nginx", 1, 1, 2 },
		{ "port:8080", 1, 1, 0 },
		{ "port:80", 1, 1, 1 },
		{ "netns:22", 1, 1, 1 },
		{ "netns:99", 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct top_frame f;

		build(rows[i].filter, TOP_PROCS, -1, false, &f);
		CHECK(f.nprocs == rows[i].procs && f.nlisteners == rows[i].listeners &&
			      f.nremotes == rows[i].remotes,
		      "filter '%s': expected %u/%u/%u rows, got %u/%u/%u", rows[i].filter,
		      rows[i].procs, rows[i].listeners, rows[i].remotes, f.nprocs, f.nlisteners,
		      f.nremotes);
		CHECK_EQ_INT(f.all_procs, 3, "rows before filtering");
		top_frame__free(&f);
	}
}

static void test_bad_filters(void)
{
	static const char *const bad[] = { "port:", "port:x", "port:70000", "port:-1",
					   "netns:abc", "comm:" };
	struct top_filter f;
	char err[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_EQ_INT(top_filter__parse(bad[i], &f, err, sizeof(err)), -EINVAL, bad[i]);
		CHECK(strstr(err, "invalid filter") != NULL, "%s: message \"%s\"", bad[i], err);
		CHECK_EQ_INT(f.kind, TOP_FILTER_NONE, "a bad filter leaves none");
	}
	CHECK_EQ_INT(top_filter__parse("  ", &f, err, sizeof(err)), 0, "blank clears");
	CHECK_EQ_INT(f.kind, TOP_FILTER_NONE, "blank clears");
}

static void test_bad_documents(void)
{
	static const struct {
		const char *text, *msg;
	} rows[] = {
		{ "", "not JSON" },
		{ "<html>", "not JSON" },
		{ "{\"processes\":[]}", "not a tcpstate snapshot" },
		{ "[1,2]", "not a tcpstate snapshot" },
		{ "{\"api_version\":\"1\",\"by_state\":{},\"processes\":[]}", "not a tcpstate" },
		{ "{\"api_version\":2,\"by_state\":{},\"processes\":[]}", "api_version 2" },
	};
	struct json_object *o;
	char err[200];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		CHECK_EQ_INT(top_model__parse(rows[i].text, &o, err, sizeof(err)), -EINVAL,
			     rows[i].text);
		CHECK(o == NULL && strstr(err, rows[i].msg), "%s: expected \"%s\" in \"%s\"",
		      rows[i].text, rows[i].msg, err);
	}
	/* wrong types inside a valid document read as zero, never crash */
	o = doc("{\"api_version\":1,\"by_state\":{\"close_wait\":\"x\"},\"processes\":[1,\"a\","
		"{\"pid\":\"z\",\"states\":7}],\"listeners\":{},\"time_wait_by_remote\":null}");
	if (o) {
		struct top_opts opts;
		struct top_frame f;

		top_opts__default(&opts);
		CHECK_EQ_INT(top_model__build(o, o, &opts, &f), 0, "odd document");
		CHECK_EQ_INT(f.nprocs, 3, "odd rows are kept, as unknown processes");
		top_frame__free(&f);
		json_object_put(o);
	}
}

TEST_MAIN("top", TL_CASE(test_rates_over_the_interval), TL_CASE(test_first_document_has_no_rates),
	  TL_CASE(test_sort_by_every_column), TL_CASE(test_filters), TL_CASE(test_bad_filters),
	  TL_CASE(test_bad_documents))
