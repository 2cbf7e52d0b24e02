/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line helpers shared by the subcommands, and the subcommands' entry points. */
#ifndef TCPSTATE_CLI_H
#define TCPSTATE_CLI_H

#include <stdbool.h>
#include <linux/types.h>

#include "session.h"

/* Exit statuses. */
#define EXIT_USAGE 2	/* bad option or value */
#define EXIT_RUNTIME 1	/* could not start or run */

/*
 * Parse an integer option value in [min, max]. On error prints
 * "invalid --name value 'x': expected an integer from min to max" and returns -EINVAL.
 */
int cli_parse_long(const char *name, const char *s, long min, long max, long *out);
/* Parse a duration in seconds (decimal allowed, e.g. "0.5") in (0, max_s]. */
int cli_parse_seconds(const char *name, const char *s, double max_s, __u64 *out_ns);
/* Parse a --ringbuf-kb value into bytes (a power of two, at least a page). */
int cli_parse_ringbuf(const char *s, __u32 *bytes);
/*
 * Parse "close_wait,time_wait" (any length; empty names skipped) into a bit mask of TCP states,
 * ORed into *mask. An unknown name prints an error naming it and returns -EINVAL.
 */
int cli_parse_states(const char *s, __u32 *mask);
/* Read kernel settings that the model needs (tcp_fin_timeout) into the session options. */
void cli_read_kernel_settings(struct session_opts *o);
/* Print the "unknown option" style error for argv element and return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *what);

/* Options every tracing command shares (getopt_long values and table entries). */
enum {
	CLI_OPT_RINGBUF = 400,
	CLI_OPT_MAX_SOCKETS,
	CLI_OPT_FORCE_TP,
	CLI_OPT_NICE,
};

#define CLI_COMMON_OPTIONS                                                                         \
	{ "ringbuf-kb", required_argument, NULL, CLI_OPT_RINGBUF },                                \
		{ "max-sockets", required_argument, NULL, CLI_OPT_MAX_SOCKETS },                   \
		{ "force-tracepoint", no_argument, NULL, CLI_OPT_FORCE_TP },                       \
		{ "nice", required_argument, NULL, CLI_OPT_NICE },                                 \
		{ "verbose", no_argument, NULL, 'v' }

/*
 * Handle one of the shared options (--ringbuf-kb, --max-sockets, --force-tracepoint, --nice,
 * --verbose). Returns 0 if handled, EXIT_USAGE for a bad value, -1 if c is not one of them.
 */
int cli_parse_common(int c, const char *arg, struct session_opts *so);
/* Describe the option getopt_long just rejected (call right after it returned '?'). */
const char *cli_bad_option(int argc, char **argv);

int cmd_trace(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif
