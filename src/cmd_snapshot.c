// SPDX-License-Identifier: GPL-2.0-only
/* `tcpstate snapshot`: seed, observe for a moment, print the accounting once. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "cli.h"
#include "http_client.h"
#include "log.h"
#include "proc_info.h"
#include "snapshot_output.h"
#include "top_view.h"

static const char snapshot_usage[] =
	"Usage: tcpstate snapshot [OPTIONS]\n"
	"\n"
	"Read every TCP socket of every network namespace (sock_diag), follow them for a moment,\n"
	"and print the accounting once: sockets by state, per process (with the age of the oldest\n"
	"CLOSE_WAIT), TIME_WAIT per remote endpoint against the local port range, transitions,\n"
	"connect latency and lifetime.\n"
	"\n"
	"  -d, --duration SECS    how long to observe (default 1)\n"
	"      --from URL         read a running agent's snapshot instead of tracing\n"
	"                         (http://host:port or its /api/v1/snapshot URL; no root needed)\n"
	"  -j, --json             one JSON object (by_state, namespaces, processes,\n"
	"                         time_wait_by_remote, ports, transitions, audit, ...)\n"
	"  -n, --top N            rows per table in text mode (default 20)\n"
	"      --no-final-audit   print the event model as is, without reconciling it with\n"
	"                         sock_diag at the end (corrections show drift)\n"
	"      --audit-interval SECS  also audit periodically while observing\n"
	"      --ringbuf-kb KB    ring buffer space, split into a ring per CPU (default 16384)\n"
	"      --nice N           scheduling priority to run at, -20..19, 0 = unchanged\n"
	"                         (default -10: the reader must keep up with the load)\n"
	"      --max-sockets N    socket table limit (default 1048576)\n"
	"      --force-tracepoint use the classic tracepoint instead of tp_btf (for testing)\n"
	"  -v, --verbose          show libbpf's messages\n"
	"  -h, --help             show this help\n";

enum { OPT_NO_FINAL = 256, OPT_AUDIT_INT, OPT_FROM };

static const struct option snapshot_options[] = {
	{ "duration", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "top", required_argument, NULL, 'n' },
	{ "no-final-audit", no_argument, NULL, OPT_NO_FINAL },
	{ "audit-interval", required_argument, NULL, OPT_AUDIT_INT },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "help", no_argument, NULL, 'h' },
	CLI_COMMON_OPTIONS,
	{},
};

struct snapshot_args {
	struct session_opts so;
	__u64 duration_ns;
	bool json, final_audit;
	int top;
	char from[1024];	/* "" : trace here */
};

static int snapshot_parse(int argc, char **argv, struct snapshot_args *a)
{
	__u64 ns;
	long v;
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:jn:vh", snapshot_options, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (cli_parse_seconds("duration", optarg, 86400, &a->duration_ns))
				return EXIT_USAGE;
			break;
		case 'j':
			a->json = true;
			break;
		case 'n':
			if (cli_parse_long("top", optarg, 1, 100000, &v))
				return EXIT_USAGE;
			a->top = (int)v;
			break;
		case OPT_NO_FINAL:
			a->final_audit = false;
			break;
		case OPT_AUDIT_INT:
			if (cli_parse_seconds("audit-interval", optarg, 86400, &ns))
				return EXIT_USAGE;
			a->so.audit_interval_ms = (__u32)(ns / 1000000) ?: 1;
			break;
		case OPT_FROM: {
			char msg[300];

			if (http_client__snapshot_url(optarg, a->from, sizeof(a->from), msg,
						      sizeof(msg))) {
				log_err("%s", msg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'h':
			fputs(snapshot_usage, stdout);
			exit(0);
		default:
			err = cli_parse_common(c, optarg, &a->so);
			if (err < 0)
				return cli_usage_error("snapshot", cli_bad_option(argc, argv));
			if (err)
				return err;
		}
	}
	if (optind < argc)
		return cli_usage_error("snapshot", "unexpected argument");
	return 0;
}

/* The document's processes, listeners and TIME_WAIT remotes as text, at most top rows each. */
static void print_remote_text(const char *url, struct json_object *doc, int top)
{
	struct top_ui ui = { .source = url };
	char hdr[6][TOP_LINE_LEN], buf[TOP_LINE_LEN];
	struct top_frame f;
	int n;

	top_opts__default(&ui.opts);
	ui.opts.sort[TOP_PROCS] = TP_CLOSE_WAIT;
	if (top_model__build(NULL, doc, &ui.opts, &f)) {
		log_err("out of memory");
		return;
	}
	n = top_view__header(&f, &ui, hdr);
	for (int i = 0; i < n - 1; i++) /* the last line names the view */
		printf("%s\n", hdr[i]);
	for (int v = 0; v < TOP_VIEWS; v++) {
		top_view__titles((enum top_view)v, &ui.opts, buf, sizeof(buf));
		printf("\n%s\n", buf);
		for (__u32 i = 0; i < top_frame__rows(&f, (enum top_view)v) && (int)i < top; i++) {
			top_view__row(&f, (enum top_view)v, i, buf, sizeof(buf));
			printf("%s\n", buf);
		}
	}
	top_frame__free(&f);
}

/* snapshot --from URL: the agent's document as is (--json), or as text. */
static int snapshot_remote(const struct snapshot_args *a)
{
	struct http_client *c = http_client__new(a->from, 10000);
	struct json_object *doc = NULL;
	char err[512], why[200], *body = NULL;
	size_t len = 0;
	int ret = EXIT_RUNTIME;

	if (!c) {
		log_err("out of memory");
		return EXIT_RUNTIME;
	}
	if (http_client__get(c, &body, &len, err, sizeof(err))) {
		log_err("%s", err);
		goto out_free_client;
	}
	if (top_model__parse(body, &doc, why, sizeof(why))) {
		log_err("cannot use the snapshot from %s: %s", a->from, why);
		goto out_free_body;
	}
	if (a->json)
		fwrite(body, 1, len, stdout);
	else
		print_remote_text(a->from, doc, a->top);
	ret = 0;
	json_object_put(doc);
out_free_body:
	free(body);
out_free_client:
	http_client__free(c);
	return ret;
}

int cmd_snapshot(int argc, char **argv)
{
	struct snapshot_args a = { .duration_ns = 1000000000ull, .final_audit = true, .top = 20 };
	struct snapshot_meta m = { 0 };
	struct session s;
	__u64 start;
	int lo, hi, err;

	session__default_opts(&a.so);
	a.so.seed = true;
	err = snapshot_parse(argc, argv, &a);
	if (err)
		return err;
	if (a.from[0])
		return snapshot_remote(&a);
	cli_read_kernel_settings(&a.so);
	session__install_signals();
	if (session__open(&s, &a.so)) {
		session__close(&s);
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "tcpstate: tracing TCP (%s), %u sockets seeded; observing for %.1fs\n",
		tracer__mode(s.tracer), sock_table__count(tracker__socks(s.tracker)),
		(double)a.duration_ns / 1e9);
	start = session__now_ns();
	session__run(&s, a.duration_ns, NULL);
	m.duration_s = (double)(session__now_ns() - start) / 1e9;
	if (a.final_audit)
		session__audit(&s);
	session__sample_listeners(&s);
	m.lost = session__lost(&s);
	m.top = a.top;
	if (!proc__read_port_range("/proc", &lo, &hi))
		m.port_range_size = hi - lo + 1;
	if (a.json)
		snapshot_output__json(stdout, &s, &m);
	else
		snapshot_output__text(stdout, &s, &m);
	session__close(&s);
	return 0;
}
