// SPDX-License-Identifier: GPL-2.0-only
/* `tcpstate trace`: stream every transition and TCP event as it happens. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kernel_enums.h"
#include "log.h"
#include "trace_output.h"

static const char trace_usage[] =
	"Usage: tcpstate trace [OPTIONS]\n"
	"\n"
	"Print every TCP state transition (and retransmit, reset, socket error, accept) as it\n"
	"happens, with the pid and command of the socket's owner: the process that connected,\n"
	"listened or accepted, not whoever happened to be on the CPU.\n"
	"\n"
	"  -j, --json             JSON Lines: ts, kind, cookie, pid, comm, cgroup, family, saddr,\n"
	"                         sport, daddr, dport, old, new, ms_in_old, netns, ...\n"
	"  -p, --pid PID          only sockets owned by PID\n"
	"  -P, --port PORT        only sockets whose local or remote port is PORT\n"
	"  -s, --state LIST       only events entering or leaving one of these states\n"
	"                         (comma-separated: syn_sent,established,close_wait,time_wait,...)\n"
	"  -d, --duration SECS    stop after SECS seconds (default: until Ctrl-C or SIGTERM)\n"
	"      --ringbuf-kb KB    ring buffer space, split into a ring per CPU (default 16384)\n"
	"      --nice N           scheduling priority to run at, -20..19, 0 = unchanged\n"
	"                         (default -10: the reader must keep up with the load)\n"
	"      --max-sockets N    socket table limit (default 1048576)\n"
	"      --no-seed          do not read existing sockets from sock_diag at start\n"
	"      --force-tracepoint use the classic tracepoint instead of tp_btf (for testing)\n"
	"  -v, --verbose          show libbpf's messages\n"
	"  -h, --help             show this help\n"
	"\n"
	"On exit prints how many events were seen and how many the kernel lost (ring buffer full).\n";

enum { OPT_NO_SEED = 256 };

static const struct option trace_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "pid", required_argument, NULL, 'p' },
	{ "port", required_argument, NULL, 'P' },
	{ "state", required_argument, NULL, 's' },
	{ "duration", required_argument, NULL, 'd' },
	{ "no-seed", no_argument, NULL, OPT_NO_SEED },
	{ "help", no_argument, NULL, 'h' },
	CLI_COMMON_OPTIONS,
	{},
};

struct trace_args {
	struct session_opts so;
	struct trace_output out;
	bool json;
	__u64 duration_ns;
};

static int trace_parse(int argc, char **argv, struct trace_args *a)
{
	long v;
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "jp:P:s:d:vh", trace_options, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'p':
			if (cli_parse_long("pid", optarg, 1, 0x7fffffff, &v))
				return EXIT_USAGE;
			a->out.filter.pid = (__u32)v;
			break;
		case 'P':
			if (cli_parse_long("port", optarg, 0, 65535, &v))
				return EXIT_USAGE;
			a->out.filter.port = (int)v;
			break;
		case 's':
			if (cli_parse_states(optarg, &a->out.filter.state_mask))
				return EXIT_USAGE;
			break;
		case 'd':
			if (cli_parse_seconds("duration", optarg, 31536000, &a->duration_ns))
				return EXIT_USAGE;
			break;
		case OPT_NO_SEED:
			a->so.seed = false;
			break;
		case 'h':
			fputs(trace_usage, stdout);
			exit(0);
		default:
			err = cli_parse_common(c, optarg, &a->so);
			if (err < 0)
				return cli_usage_error("trace", cli_bad_option(argc, argv));
			if (err)
				return err;
		}
	}
	if (optind < argc)
		return cli_usage_error("trace", "unexpected argument");
	return 0;
}

static void on_view(void *ctx, const struct ev_view *v)
{
	struct trace_output *o = ctx;

	if (o->out)
		trace_output__event(o, v);
}

int cmd_trace(int argc, char **argv)
{
	struct trace_args a = { 0 };
	struct trace_filter filter;
	struct session s;
	int err;

	session__default_opts(&a.so);
	a.so.seed = true;
	/* A person is watching: read at least every 50 ms. */
	a.so.poll_ms = 50;
	a.out.filter.port = -1;
	err = trace_parse(argc, argv, &a);
	if (err)
		return err;
	filter = a.out.filter;
	cli_read_kernel_settings(&a.so);
	setvbuf(stdout, NULL, _IOLBF, 0);
	a.so.on_view = on_view;
	a.so.ctx = &a.out;
	a.out.out = NULL; /* seeding prints nothing; set up the output once tracing runs */
	session__install_signals();
	if (session__open(&s, &a.so)) {
		session__close(&s);
		return EXIT_RUNTIME;
	}
	kernel_enums__load(); /* reset reason names, where the kernel has them */
	trace_output__init(&a.out, stdout, a.json);
	a.out.filter = filter;
	fprintf(stderr, "tcpstate: tracing TCP (%s); Ctrl-C to stop\n", tracer__mode(s.tracer));
	session__run(&s, a.duration_ns, NULL);
	fprintf(stderr, "tcpstate: %llu events, %llu printed, %llu lost\n",
		(unsigned long long)s.events_seen, (unsigned long long)a.out.printed,
		(unsigned long long)session__lost(&s));
	session__close(&s);
	return 0;
}
