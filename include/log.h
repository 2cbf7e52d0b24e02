/* SPDX-License-Identifier: GPL-2.0-only */
/* The one logger: messages go to stderr prefixed with "tcpstate: ". */
#ifndef TCPSTATE_LOG_H
#define TCPSTATE_LOG_H

#include <stdbool.h>

extern bool log_verbose;

/* Print an error line: what failed, with what, and what to do. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a warning line. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a line of information (what runs, how). */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print only with --verbose. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
