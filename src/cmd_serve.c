// SPDX-License-Identifier: GPL-2.0-only
/* `tcpstate serve`: the exporter. Traces continuously and serves /metrics, /healthz and /. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "cli.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"
#include "proc_info.h"
#include "snapshot_output.h"
#include "web_config.h"

#define DEFAULT_LISTEN "127.0.0.1:9976"

static const char serve_usage[] =
	"Usage: tcpstate serve [OPTIONS]\n"
	"\n"
	"Run the exporter: follow every TCP socket of the host and serve Prometheus metrics on\n"
	"/metrics (OpenMetrics when asked for in Accept), /healthz, the `snapshot --json` document\n"
	"on /api/v1/snapshot (what `tcpstate top` and `snapshot --from` read) and an index page\n"
	"on /.\n"
	"\n"
	"  -l, --listen ADDR       where to listen: host:port, [v6]:port or :port\n"
	"                          (default " DEFAULT_LISTEN "); also --web.listen-address\n"
	"      --web.telemetry-path PATH  where to serve the metrics (default /metrics)\n"
	"      --web.config.file FILE  TLS and basic auth, as Prometheus exporters read it\n"
	"                          (tls_server_config, basic_auth_users; see README.md)\n"
	"      --web.max-connections N  HTTP connections at once; when full, the one that\n"
	"                          waited longest for a request makes room (default 512)\n"
	"      --web.max-connections-per-ip N  from one address, 0 = no limit (default 64)\n"
	"      --web.max-requests N  responses in progress at once, more get 503, 0 = no\n"
	"                          limit (default 40)\n"
	"      --web.connection-timeout SECS  for a client to send a whole request, and for\n"
	"                          a response to be sent (default 10)\n"
	"      --audit-interval SECS  reconcile with sock_diag every SECS seconds (default 30)\n"
	"      --max-processes N   process groups with their own series; the rest are folded\n"
	"                          into comm=\"other\" (default 200)\n"
	"      --max-remotes N     TIME_WAIT remote endpoints with their own series (default 20)\n"
	"      --pid-label         add a pid label to per-process series (more series)\n"
	"      --ringbuf-kb KB     ring buffer space, split into a ring per CPU (default 16384)\n"
	"      --nice N            scheduling priority to run at, -20..19, 0 = unchanged\n"
	"                          (default -10: the reader must keep up with the load)\n"
	"      --max-sockets N     socket table limit (default 1048576)\n"
	"      --batch-ms MS       longest delay before queued events are read (default 100)\n"
	"      --keep-caps         keep every capability after start (for debugging); by\n"
	"                          default only those audits and owner lookups use remain\n"
	"      --force-tracepoint  use the classic tracepoint instead of tp_btf (for testing)\n"
	"  -v, --verbose           show libbpf's messages\n"
	"  -h, --help              show this help\n"
	"\n"
	"Stops cleanly on SIGINT or SIGTERM, detaching every BPF program.\n";

enum {
	OPT_AUDIT = 256,
	OPT_MAX_PROCS,
	OPT_MAX_REMOTES,
	OPT_PID_LABEL,
	OPT_BATCH,
	OPT_TELEMETRY_PATH,
	OPT_MAX_CONNS,
	OPT_MAX_PER_IP,
	OPT_MAX_REQUESTS,
	OPT_CONN_TIMEOUT,
	OPT_WEB_CONFIG,
	OPT_KEEP_CAPS,
};

static const struct option serve_options[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "web.listen-address", required_argument, NULL, 'l' },
	{ "web.telemetry-path", required_argument, NULL, OPT_TELEMETRY_PATH },
	{ "web.max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ "web.max-connections-per-ip", required_argument, NULL, OPT_MAX_PER_IP },
	{ "web.max-requests", required_argument, NULL, OPT_MAX_REQUESTS },
	{ "web.connection-timeout", required_argument, NULL, OPT_CONN_TIMEOUT },
	{ "web.config.file", required_argument, NULL, OPT_WEB_CONFIG },
	{ "keep-caps", no_argument, NULL, OPT_KEEP_CAPS },
	{ "audit-interval", required_argument, NULL, OPT_AUDIT },
	{ "max-processes", required_argument, NULL, OPT_MAX_PROCS },
	{ "max-remotes", required_argument, NULL, OPT_MAX_REMOTES },
	{ "pid-label", no_argument, NULL, OPT_PID_LABEL },
	{ "batch-ms", required_argument, NULL, OPT_BATCH },
	{ "help", no_argument, NULL, 'h' },
	CLI_COMMON_OPTIONS,
	{},
};

struct serve_args {
	struct session_opts so;
	struct metrics_opts mo;
	struct http_server_opts ho;
	const char *web_config_file;
	bool keep_caps;
};

/* The --web.* limits; 0 if handled, EXIT_USAGE for a bad value, -1 if c is not one of them. */
static int serve_parse_web_limit(int c, struct http_server_opts *o)
{
	static const struct {
		int opt;
		const char *name;
		long min, max;
		size_t off;
	} limits[] = {
		{ OPT_MAX_CONNS, "web.max-connections", 1, 1000000,
		  offsetof(struct http_server_opts, max_connections) },
		{ OPT_MAX_PER_IP, "web.max-connections-per-ip", 0, 1000000,
		  offsetof(struct http_server_opts, max_per_ip) },
		{ OPT_MAX_REQUESTS, "web.max-requests", 0, 1000000,
		  offsetof(struct http_server_opts, max_requests) },
		{ OPT_CONN_TIMEOUT, "web.connection-timeout", 1, 3600,
		  offsetof(struct http_server_opts, timeout_s) },
	};
	long v;

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		if (limits[i].opt != c)
			continue;
		if (cli_parse_long(limits[i].name, optarg, limits[i].min, limits[i].max, &v))
			return EXIT_USAGE;
		*(unsigned int *)((char *)o + limits[i].off) = (unsigned int)v;
		return 0;
	}
	return -1;
}

static int serve_parse_one(int c, struct serve_args *a)
{
	int ret = serve_parse_web_limit(c, &a->ho);

	if (ret >= 0)
		return ret;
	__u64 ns;
	long v;

	switch (c) {
	case 'l': {
		struct sockaddr_storage ss;
		socklen_t len;
		char err[200];

		if (http_server__parse_listen(optarg, &ss, &len, err, sizeof(err))) {
			log_err("%s", err);
			return EXIT_USAGE;
		}
		a->ho.listen = optarg;
		return 0;
	}
	case OPT_KEEP_CAPS:
		a->keep_caps = true;
		return 0;
	case OPT_WEB_CONFIG:
		a->web_config_file = optarg;
		return 0;
	case OPT_TELEMETRY_PATH: {
		char err[200];

		if (http_server__check_path(optarg, err, sizeof(err))) {
			log_err("%s", err);
			return EXIT_USAGE;
		}
		a->ho.metrics_path = optarg;
		return 0;
	}
	case OPT_AUDIT:
		if (cli_parse_seconds("audit-interval", optarg, 86400, &ns))
			return EXIT_USAGE;
		a->so.audit_interval_ms = (__u32)(ns / 1000000) ?: 1;
		return 0;
	case OPT_MAX_PROCS:
	case OPT_MAX_REMOTES:
		if (cli_parse_long(c == OPT_MAX_PROCS ? "max-processes" : "max-remotes", optarg, 1,
				   100000, &v))
			return EXIT_USAGE;
		*(c == OPT_MAX_PROCS ? &a->mo.max_groups : &a->mo.max_remotes) = (__u32)v;
		return 0;
	case OPT_PID_LABEL:
		a->mo.pid_label = true;
		return 0;
	case OPT_BATCH:
		if (cli_parse_long("batch-ms", optarg, 1, 10000, &v))
			return EXIT_USAGE;
		a->so.poll_ms = (__u32)v;
		return 0;
	}
	return cli_parse_common(c, optarg, &a->so);
}

static int serve_parse(int argc, char **argv, struct serve_args *a)
{
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "l:vh", serve_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(serve_usage, stdout);
			exit(0);
		}
		err = serve_parse_one(c, a);
		if (err > 0)
			return err;
		if (err < 0)
			return cli_usage_error("serve", cli_bad_option(argc, argv));
	}
	if (optind < argc)
		return cli_usage_error("serve", "unexpected argument");
	return 0;
}

/* What the HTTP callbacks see; filled in after the server is bound. */
struct serve_ctx {
	struct session s;
	struct metrics *m;
	__u64 start_ns;
	int port_range_size;
};

static int serve_metrics(void *ctx, struct prom_writer *w)
{
	struct serve_ctx *c = ctx;

	return c->m ? metrics__render(c->m, w) : -EAGAIN;
}

/* GET /api/v1/snapshot: the snapshot --json document of everything seen since start. */
static int serve_snapshot(void *ctx, char **body, size_t *len)
{
	struct serve_ctx *c = ctx;
	struct snapshot_meta m = { .top = 0 };
	FILE *f;

	if (!c->m)
		return -EAGAIN;
	session__sample_listeners(&c->s);
	m.duration_s = (double)(session__now_ns() - c->start_ns) / 1e9;
	m.lost = session__lost(&c->s);
	m.port_range_size = c->port_range_size;
	f = open_memstream(body, len);
	if (!f)
		return -ENOMEM;
	snapshot_output__json(f, &c->s, &m);
	if (ferror(f)) {
		fclose(f);
		return -ENOMEM;
	}
	return fclose(f) ? -ENOMEM : 0;
}

static int serve_health(void *ctx, char *buf, size_t len)
{
	struct serve_ctx *c = ctx;
	struct session *s = &c->s;

	if (!c->m) {
		snprintf(buf, len, "starting");
		return 1;
	}
	if (tracker__stats(s->tracker)->audits && !s->last_audit.namespaces) {
		snprintf(buf, len, "sock_diag audit failed in every network namespace");
		return 1;
	}
	return 0;
}

/* BPF is loaded, rings mapped, the port bound: keep only what audits and owners need. */
static int serve_drop_caps(void)
{
	char kept[128], err[256];

	if (caps__drop_to_runtime(kept, sizeof(kept), err, sizeof(err))) {
		log_err("%s", err);
		return -1;
	}
	log_debug("capabilities kept: %s (--keep-caps keeps all)", kept[0] ? kept : "none");
	return 0;
}

static int serve_run(struct serve_args *a)
{
	static struct serve_ctx c;
	struct http_handlers h = {
		.metrics = serve_metrics,
		.health = serve_health,
		.snapshot = serve_snapshot,
		.ctx = &c,
	};
	struct http_server *http;
	char err[256];
	int ret = EXIT_RUNTIME;

	/* Bind first: a port in use is reported before any BPF program is loaded. */
	c.s.epfd = -1;
	c.start_ns = session__now_ns();
	c.port_range_size = a->mo.port_range_size;
	http = http_server__start_opts(&a->ho, &h, err, sizeof(err));
	if (!http) {
		log_err("%s", err);
		return EXIT_RUNTIME;
	}
	if (session__open(&c.s, &a->so))
		goto out_close_session;
	c.m = metrics__new(&c.s, &a->mo);
	if (!c.m) {
		log_err("out of memory");
		goto out_close_session;
	}
	if (!a->keep_caps && serve_drop_caps())
		goto out_free_metrics;
	fprintf(stderr, "tcpstate: serving %s://%s%s (tracing TCP with %s, %u sockets "
		"seeded)\n",
		a->ho.web && a->ho.web->tls ? "https" : "http", http_server__address(http),
		a->ho.metrics_path ?: "/metrics",
		tracer__mode(c.s.tracer),
		sock_table__count(tracker__socks(c.s.tracker)));
	session__run(&c.s, 0, http);
	fprintf(stderr, "tcpstate: stopped; %llu events, %llu lost\n",
		(unsigned long long)c.s.events_seen, (unsigned long long)session__lost(&c.s));
	ret = 0;
out_free_metrics:
	metrics__free(c.m);
	c.m = NULL;
out_close_session:
	session__close(&c.s);
	http_server__stop(http);
	return ret;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_args a = {
		.ho = {
			.listen = DEFAULT_LISTEN,
			.max_connections = HTTP_DEFAULT_MAX_CONNECTIONS,
			.max_per_ip = HTTP_DEFAULT_MAX_PER_IP,
			.max_requests = HTTP_DEFAULT_MAX_REQUESTS,
			.timeout_s = HTTP_DEFAULT_TIMEOUT_S,
		},
	};
	int lo, hi, err;

	session__default_opts(&a.so);
	a.so.seed = true;
	a.so.audit_interval_ms = 30000;
	a.mo.max_groups = 200;
	a.mo.max_remotes = 20;
	err = serve_parse(argc, argv, &a);
	if (err)
		return err;
	if (a.web_config_file) {
		struct web_config *wc;
		char msg[512];

		if (web_config__load(a.web_config_file, &wc, msg, sizeof(msg))) {
			log_err("%s", msg);
			return EXIT_USAGE;
		}
		a.ho.web = wc;
	}
	cli_read_kernel_settings(&a.so);
	if (!proc__read_port_range("/proc", &lo, &hi))
		a.mo.port_range_size = hi - lo + 1;
	session__install_signals();
	err = serve_run(&a);
	web_config__free((struct web_config *)a.ho.web);
	return err;
}
