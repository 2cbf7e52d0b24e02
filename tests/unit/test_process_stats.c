// SPDX-License-Identifier: GPL-2.0-only
/* The process_* metrics: /proc/PID/stat and /proc/stat parsing, and the real /proc/self. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "process_stats.h"
#include "prom_writer.h"
#include "testlib.h"

/* utime 250, stime 50, starttime 1000 ticks, vsize 123456789, rss 2000 pages. */
#define STAT_TAIL                                                                                  \
	" S 1 1234 1234 0 -1 4194560 1500 0 0 0 250 50 0 0 20 0 1 0 1000 123456789 2000 "     \
	"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"

static void test_parse_stat(void)
{
	static const struct {
		const char *what, *text;
		int ret;
	} cases[] = {
	    {"plain command", "4242 (tcpstate)" STAT_TAIL, 0},
	    {"command with spaces and parentheses", "4242 (a) b (c) d)" STAT_TAIL, 0},
	    {"empty command", "4242 ()" STAT_TAIL, 0},
	    {"no closing parenthesis", "4242 (tcpstate" STAT_TAIL, -EINVAL},
	    {"truncated after the state", "4242 (tcpstate) S 1 1234", -EINVAL},
	    {"nothing after the command", "4242 (tcpstate)", -EINVAL},
	    {"a field that is not a number", "4242 (x) S 1 1234 1234 0 -1 x", -EINVAL},
	    {"empty text", "", -EINVAL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct process_stats st = { 0 };
		int ret = process_stats__parse_stat(cases[i].text, 100, 4096, 1700000000, &st);

		CHECK(ret == cases[i].ret, "%s: expected %d, got %d", cases[i].what, cases[i].ret,
		      ret);
		if (ret || cases[i].ret)
			continue;
		CHECK(fabs(st.cpu_seconds - 3.0) < 1e-9, "%s: expected 3 CPU seconds, got %g",
		      cases[i].what, st.cpu_seconds);
		CHECK(fabs(st.start_time - 1700000010.0) < 1e-6,
		      "%s: expected start time 1700000010, got %f", cases[i].what, st.start_time);
		CHECK_EQ_INT(st.virtual_bytes, 123456789, cases[i].what);
		CHECK_EQ_INT(st.resident_bytes, 2000 * 4096, cases[i].what);
	}
}

static void test_parse_btime(void)
{
	__u64 bt = 0;

	CHECK_EQ_INT(process_stats__parse_btime("cpu  1 2 3\nintr 5\nbtime 1712345678\n"
						"processes 9\n",
						&bt),
		     0, "btime in the middle");
	CHECK_EQ_INT(bt, 1712345678, "btime value");
	CHECK_EQ_INT(process_stats__parse_btime("btime 42", &bt), 0, "btime first, no newline");
	CHECK_EQ_INT(bt, 42, "btime value");
	CHECK_EQ_INT(process_stats__parse_btime("cpu 1\nbtimex 3\n", &bt), -ENOENT, "no btime");
	CHECK_EQ_INT(process_stats__parse_btime("btime x\n", &bt), -EINVAL, "btime not a number");
}

static void test_read_self(void)
{
	struct process_stats st;
	int err = process_stats__read("/proc", &st);
	double now = (double)time(NULL);

	CHECK_EQ_INT(err, 0, "reading /proc/self");
	CHECK(st.resident_bytes > 0 && st.virtual_bytes >= st.resident_bytes,
	      "expected 0 < rss <= vsize, got %llu, %llu", (unsigned long long)st.resident_bytes,
	      (unsigned long long)st.virtual_bytes);
	CHECK(st.start_time > now - 3600 && st.start_time <= now + 1,
	      "expected a start time within the last hour, got %f (now %f)", st.start_time, now);
	/* stdin, stdout, stderr at least; the directory's own descriptor is not counted */
	CHECK(st.open_fds >= 3 && st.open_fds < 64, "expected 3..63 open fds, got %ld",
	      st.open_fds);
	CHECK(st.max_fds >= st.open_fds, "expected max fds >= open fds, got %ld", st.max_fds);
	CHECK_EQ_INT(process_stats__read("/nonexistent", &st), -ENOENT, "a missing proc root");
}

static void test_render(void)
{
	static const char *const want[] = {
	    "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
	    "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5\n",
	    "# TYPE process_open_fds gauge\nprocess_open_fds 7\n",
	    "# TYPE process_max_fds gauge\nprocess_max_fds 1024\n",
	    "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes 9000\n",
	    "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 4096\n",
	    "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1700000010.5\n",
	};
	struct process_stats st = { 1.5, 1700000010.5, 9000, 4096, 7, 1024 };
	struct prom_writer *w = prom_writer__new();
	const char *text;

	CHECK(w != NULL, "expected a writer");
	if (!w)
		return;
	prom_writer__reset(w, false);
	process_stats__render(w, &st);
	CHECK_EQ_INT(prom_writer__finish(w), 0, "finish");
	text = prom_writer__data(w, NULL);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(strstr(text, want[i]), "expected\n%s\nin\n%s", want[i], text);
	prom_writer__free(w);
}

TEST_MAIN("process_stats", TL_CASE(test_parse_stat), TL_CASE(test_parse_btime),
	  TL_CASE(test_read_self), TL_CASE(test_render))
