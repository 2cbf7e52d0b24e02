/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where `tcpstate top` gets its snapshot documents: a running agent's GET /api/v1/snapshot
 * (one tracer for every view), or a tracer session of its own when no agent runs.
 */
#ifndef TCPSTATE_TOP_SOURCE_H
#define TCPSTATE_TOP_SOURCE_H

#include <stddef.h>

#include "session.h"

struct json_object;
struct top_source;

/* Read from url (an /api/v1/snapshot URL). NULL on ENOMEM. */
struct top_source *top_source__remote(const char *url);
/* Trace locally with session options so (seeded, audited). NULL if tracing cannot start (logged). */
struct top_source *top_source__local(const struct session_opts *so);
/*
 * The current document, parsed and checked (free with json_object_put()). 0, or -errno with a
 * one-line reason in err (agent unreachable, not a snapshot, ...).
 */
int top_source__fetch(struct top_source *s, struct json_object **doc, char *err, size_t errlen);
/*
 * Let up to ms milliseconds pass, keeping a local tracer fed; returns earlier on a signal or,
 * for an agent, when wake_fd (-1: none) becomes readable (a key).
 */
void top_source__wait(struct top_source *s, int ms, int wake_fd);
/* "http://..." or "local tracer (tp_btf)". */
const char *top_source__name(const struct top_source *s);
/* Accepts NULL. Detaches a local tracer. */
void top_source__free(struct top_source *s);

#endif
