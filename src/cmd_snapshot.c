// SPDX-License-Identifier: GPL-2.0-only
/* `tcpstate snapshot`: placeholder until the accounting output lands. */
#include "cli.h"
#include "log.h"

int cmd_snapshot(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_err("snapshot is not implemented yet");
	return EXIT_RUNTIME;
}
