// SPDX-License-Identifier: GPL-2.0-only
/* Connection limits, phase deadlines and eviction for the HTTP server (see http_guard.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "http_guard.h"
#include "log.h"

#define SWEEP_EVERY_NS 100000000ull

/* One MHD connection; its socket_context. Kept in a list in the order they opened. */
struct guard_conn {
	struct guard_conn *prev, *next;
	struct MHD_Connection *c;
	__u64 since_ns; /* start of the current phase */
	bool busy;	/* a response is in progress (else waiting for a request) */
	bool closing;	/* shut down by us; MHD has not closed it yet */
};

struct http_guard {
	struct guard_conn head; /* list sentinel */
	unsigned int max_connections, max_requests, busy;
	__u64 timeout_ns, next_sweep_ns;
	struct http_guard_stats st;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

struct http_guard *http_guard__new(unsigned int max_connections, unsigned int max_requests,
				   __u64 timeout_ns)
{
	struct http_guard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->head.prev = g->head.next = &g->head;
	g->max_connections = max_connections;
	g->max_requests = max_requests;
	g->timeout_ns = timeout_ns;
	return g;
}

void http_guard__free(struct http_guard *g)
{
	struct guard_conn *k, *next;

	if (!g)
		return;
	for (k = g->head.next; k != &g->head; k = next) {
		next = k->next;
		free(k);
	}
	free(g);
}

/* Shut the connection's socket down; MHD closes it on its next run. */
static void guard_close(struct guard_conn *k)
{
	const union MHD_ConnectionInfo *ci;

	if (k->closing)
		return;
	k->closing = true;
	ci = MHD_get_connection_info(k->c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci && shutdown(ci->connect_fd, SHUT_RDWR) && errno != ENOTCONN)
		log_debug("http: shutdown of a connection: %s", strerror(errno));
}

/* All slots taken: close the connection that has waited longest for a request. */
static void guard_evict(struct http_guard *g, struct guard_conn *newcomer)
{
	struct guard_conn *oldest = NULL;

	for (struct guard_conn *k = g->head.next; k != &g->head; k = k->next)
		if (!k->busy && !k->closing && k != newcomer &&
		    (!oldest || k->since_ns < oldest->since_ns))
			oldest = k;
	/* every other connection is being served: the newcomer has to go */
	guard_close(oldest ? oldest : newcomer);
	g->st.evicted++;
}

static void guard_opened(struct http_guard *g, struct MHD_Connection *c, void **socket_context)
{
	struct guard_conn *k = calloc(1, sizeof(*k));

	if (!k) {
		*socket_context = NULL;
		return;
	}
	k->c = c;
	k->since_ns = now_ns();
	k->prev = g->head.prev;
	k->next = &g->head;
	g->head.prev->next = k;
	g->head.prev = k;
	*socket_context = k;
	if (++g->st.open > g->max_connections)
		guard_evict(g, k);
}

static void guard_closed(struct http_guard *g, struct guard_conn *k)
{
	if (k->busy)
		g->busy--;
	k->prev->next = k->next;
	k->next->prev = k->prev;
	g->st.open--;
	free(k);
}

void http_guard__on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			       enum MHD_ConnectionNotificationCode toe)
{
	struct http_guard *g = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		guard_opened(g, c, socket_context);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context)
		guard_closed(g, *socket_context);
}

static struct guard_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

void http_guard__on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			      enum MHD_RequestTerminationCode toe)
{
	struct http_guard *g = cls;
	struct guard_conn *k = conn_of(c);

	(void)req_cls;
	(void)toe;
	if (!k)
		return;
	if (k->busy)
		g->busy--;
	k->busy = false;
	k->since_ns = now_ns();
}

bool http_guard__admit(struct http_guard *g, struct MHD_Connection *c)
{
	struct guard_conn *k = conn_of(c);

	if (!k || k->busy)
		return true;
	if (g->max_requests && g->busy >= g->max_requests) {
		g->st.refused++;
		return false;
	}
	k->busy = true;
	k->since_ns = now_ns();
	g->busy++;
	return true;
}

void http_guard__sweep(struct http_guard *g)
{
	__u64 now = now_ns();

	if (now < g->next_sweep_ns)
		return;
	g->next_sweep_ns = now + SWEEP_EVERY_NS;
	for (struct guard_conn *k = g->head.next; k != &g->head; k = k->next)
		if (!k->closing && now - k->since_ns > g->timeout_ns) {
			guard_close(k);
			g->st.timed_out++;
		}
}

const struct http_guard_stats *http_guard__stats(const struct http_guard *g)
{
	return &g->st;
}
