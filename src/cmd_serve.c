// SPDX-License-Identifier: GPL-2.0-only
/* `tcpstate serve`: placeholder until the exporter lands. */
#include "cli.h"
#include "log.h"

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_err("serve is not implemented yet");
	return EXIT_RUNTIME;
}
