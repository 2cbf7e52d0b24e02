// SPDX-License-Identifier: GPL-2.0-only
/* Snapshot documents for `tcpstate top`: from an agent, or from a tracer of its own. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http_client.h"
#include "proc_info.h"
#include "snapshot_output.h"
#include "top_model.h"
#include "top_source.h"

#define FETCH_TIMEOUT_MS 5000L

struct top_source {
	struct http_client *http;	/* remote, or NULL */
	struct session s;		/* local */
	bool local;
	__u64 start_ns;
	int port_range_size;
	char name[300];
};

struct top_source *top_source__remote(const char *url)
{
	struct top_source *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->s.epfd = -1;
	s->http = http_client__new(url, FETCH_TIMEOUT_MS);
	if (!s->http) {
		free(s);
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", url);
	return s;
}

struct top_source *top_source__local(const struct session_opts *so)
{
	struct top_source *s = calloc(1, sizeof(*s));
	int lo, hi;

	if (!s)
		return NULL;
	if (session__open(&s->s, so)) {
		session__close(&s->s);
		free(s);
		return NULL;
	}
	s->local = true;
	s->start_ns = session__now_ns();
	if (!proc__read_port_range("/proc", &lo, &hi))
		s->port_range_size = hi - lo + 1;
	snprintf(s->name, sizeof(s->name), "local tracer (%s)", tracer__mode(s->s.tracer));
	return s;
}

/* The local session's document, as GET /api/v1/snapshot renders it. */
static int local_document(struct top_source *s, char **text, size_t *len)
{
	struct snapshot_meta m = { 0 };
	FILE *f;

	session__drain(&s->s);
	session__sample_listeners(&s->s);
	m.duration_s = (double)(session__now_ns() - s->start_ns) / 1e9;
	m.lost = session__lost(&s->s);
	m.port_range_size = s->port_range_size;
	f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	snapshot_output__json(f, &s->s, &m);
	return fclose(f) ? -ENOMEM : 0;
}

int top_source__fetch(struct top_source *s, struct json_object **doc, char *err, size_t errlen)
{
	char *text = NULL, why[200];
	size_t len = 0;
	int ret;

	*doc = NULL;
	if (s->local) {
		ret = local_document(s, &text, &len);
		if (ret)
			snprintf(err, errlen, "cannot render the snapshot: %s", strerror(-ret));
	} else {
		ret = http_client__get(s->http, &text, &len, err, errlen);
	}
	if (!ret) {
		ret = top_model__parse(text, doc, why, sizeof(why));
		if (ret)
			snprintf(err, errlen, "cannot use the snapshot from %s: %s", s->name, why);
	}
	free(text);
	return ret;
}

void top_source__wait(struct top_source *s, int ms, int wake_fd)
{
	struct pollfd p = { .fd = wake_fd, .events = POLLIN };

	if (s->local) {
		session__run(&s->s, (__u64)(ms > 0 ? ms : 1) * 1000000ull, NULL);
		return;
	}
	if (!session__stopping() && ms > 0)
		poll(&p, wake_fd >= 0 ? 1 : 0, ms);
}

const char *top_source__name(const struct top_source *s)
{
	return s->name;
}

void top_source__free(struct top_source *s)
{
	if (!s)
		return;
	http_client__free(s->http);
	if (s->local)
		session__close(&s->s);
	free(s);
}
