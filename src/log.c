// SPDX-License-Identifier: GPL-2.0-only
/* The one printf-style logger used by every module. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

bool log_verbose;

static void log_vprint(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "tcpstate: %s", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint("error: ", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint("warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprint("", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vprint("", fmt, ap);
	va_end(ap);
}
