/* SPDX-License-Identifier: GPL-2.0-only */
/* `tcpstate snapshot` output: the tracker's aggregates once, as a table or as JSON. */
#ifndef TCPSTATE_SNAPSHOT_OUTPUT_H
#define TCPSTATE_SNAPSHOT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "session.h"

/*
 * Version of the JSON document (`snapshot --json`, GET /api/v1/snapshot), its "api_version".
 * Fields may be added within a version; removing or changing the meaning of one bumps it.
 */
#define SNAPSHOT_API_VERSION 1

struct snapshot_meta {
	double duration_s;	/* how long it observed */
	__u64 lost;		/* events the kernel could not queue */
	int port_range_size;	/* ip_local_port_range size, for TIME_WAIT pressure */
	int top;		/* rows per table in text mode */
};

/* Print everything the session knows. */
void snapshot_output__json(FILE *f, struct session *s, const struct snapshot_meta *m);
void snapshot_output__text(FILE *f, struct session *s, const struct snapshot_meta *m);

#endif
