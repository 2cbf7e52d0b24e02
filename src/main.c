// SPDX-License-Identifier: GPL-2.0-only
/* tcpstate: entry point. Only dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

static const char main_usage[] =
	"Usage: tcpstate COMMAND [OPTIONS]\n"
	"\n"
	"eBPF TCP state tracer: which process, which port, how many, since when.\n"
	"\n"
	"Commands:\n"
	"  serve      run the exporter: Prometheus /metrics, /healthz (the main job)\n"
	"  trace      stream TCP state transitions and events, one line each\n"
	"  snapshot   observe for a moment and print the socket accounting once\n"
	"  top        live per-process view (reads a running serve, or traces itself)\n"
	"  check      what this kernel supports of every hook, and whether tcpstate is exact here\n"
	"  version    print the version\n"
	"\n"
	"'tcpstate COMMAND --help' documents each command's options.\n"
	"Needs root (or CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN) and a kernel with BTF.\n";

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "trace", cmd_trace },
	{ "snapshot", cmd_snapshot },
	{ "serve", cmd_serve },
	{ "check", cmd_check },
	{ "top", cmd_top },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(main_usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("tcpstate %s\n", TCPSTATE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	log_err("unknown command '%s' (commands: serve, trace, snapshot, top, check, version; see "
		"'tcpstate --help')",
		argv[1]);
	return EXIT_USAGE;
}
