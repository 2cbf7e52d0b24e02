// SPDX-License-Identifier: GPL-2.0-only
/* Option value parsing shared by the subcommands (see include/cli.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "format.h"
#include "log.h"
#include "proc_info.h"

int cli_parse_long(const char *name, const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		log_err("invalid --%s value '%s': expected an integer from %ld to %ld", name, s, min,
			max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int cli_parse_seconds(const char *name, const char *s, double max_s, __u64 *out_ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > max_s) {
		log_err("invalid --%s value '%s': expected seconds, more than 0 and at most %g", name,
			s, max_s);
		return -EINVAL;
	}
	*out_ns = (__u64)(v * 1e9);
	return 0;
}

/* One name of a --state list (n bytes at s, not terminated); -1 if it names no state. */
static int parse_state_token(const char *s, size_t n)
{
	char tok[32];

	if (n >= sizeof(tok))
		return -1; /* longer than any state name */
	memcpy(tok, s, n);
	tok[n] = '\0';
	return tcp_state_parse(tok);
}

int cli_parse_states(const char *s, __u32 *mask)
{
	/* The whole value, however long: empty names (",,") are skipped, as strtok did. */
	while (*s) {
		size_t n = strcspn(s, ",");
		int st = n ? parse_state_token(s, n) : 0;

		if (st < 0) {
			log_err("invalid --state value '%.*s': expected TCP state names such as "
				"established, syn_sent, close_wait, time_wait (comma-separated)",
				(int)(n > 64 ? 64 : n), s);
			return -EINVAL;
		}
		if (n)
			*mask |= 1u << st;
		s += n + (s[n] == ',');
	}
	return 0;
}

void cli_read_kernel_settings(struct session_opts *o)
{
	long v;

	if (!proc__read_int("/proc/sys/net/ipv4/tcp_fin_timeout", &v) && v > 0)
		o->tracker.fin_timeout_ns = (__u64)v * 1000000000ull;
}

int cli_usage_error(const char *cmd, const char *what)
{
	log_err("%s (see 'tcpstate %s --help')", what, cmd);
	return EXIT_USAGE;
}

const char *cli_bad_option(int argc, char **argv)
{
	static char buf[160];
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

	if (optopt && optopt < 256)
		snprintf(buf, sizeof(buf), "invalid option '-%c' or missing value", optopt);
	else
		snprintf(buf, sizeof(buf), "invalid option '%s' or missing value", arg);
	return buf;
}

int cli_parse_ringbuf(const char *s, __u32 *bytes)
{
	char err[160];
	long kb;

	if (cli_parse_long("ringbuf-kb", s, 1, 1 << 20, &kb))
		return -EINVAL;
	if (tracer__check_ringbuf_kb(kb, err, sizeof(err))) {
		log_err("%s", err);
		return -EINVAL;
	}
	*bytes = (__u32)kb * 1024;
	return 0;
}

int cli_parse_common(int c, const char *arg, struct session_opts *so)
{
	long v;

	switch (c) {
	case CLI_OPT_RINGBUF:
		return cli_parse_ringbuf(arg, &so->ringbuf_bytes) ? EXIT_USAGE : 0;
	case CLI_OPT_MAX_SOCKETS:
		if (cli_parse_long("max-sockets", arg, 16, 1 << 26, &v))
			return EXIT_USAGE;
		so->tracker.max_sockets = (__u32)v;
		return 0;
	case CLI_OPT_FORCE_TP:
		so->force_tracepoint = true;
		return 0;
	case CLI_OPT_NICE:
		if (cli_parse_long("nice", arg, -20, 19, &v))
			return EXIT_USAGE;
		so->nice = (int)v;
		return 0;
	case 'v':
		log_verbose = true;
		return 0;
	}
	return -1;
}
