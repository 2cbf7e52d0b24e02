/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Keeps idle, slow and abusive HTTP clients from starving the exporter's single-threaded loop
 * or locking out a scrape. It follows every libmicrohttpd connection (through MHD's connection
 * and request-completed notifications) and enforces:
 *
 *   - a deadline per phase: a client has `timeout` to send a complete request after connecting
 *     or after its previous response, and a response must be sent within `timeout` (a
 *     slowloris sending a header byte a second is closed, which MHD's own inactivity timeout
 *     does not do);
 *   - room for a newcomer: when all `max_connections` are taken, the connection that has been
 *     waiting longest for a request is closed, so 1,000 idle connections cannot keep a scrape
 *     out (MHD itself allows a few more, so that newcomers are accepted while the connections
 *     closed for them are being closed);
 *   - at most `max_requests` responses in progress (each may hold a copy of the exposition);
 *     beyond that requests are answered 503.
 *
 * Connections are closed with shutdown(), which MHD then sees as the client going away, on its
 * next run; MHD still owns and closes the descriptor.
 */
#ifndef TCPSTATE_HTTP_GUARD_H
#define TCPSTATE_HTTP_GUARD_H

#include <stdbool.h>
#include <linux/types.h>

#include <microhttpd.h>

struct http_guard;

/* Counters of what the guard did, since start. */
struct http_guard_stats {
	__u64 evicted;	 /* closed to make room for a newcomer */
	__u64 timed_out; /* closed at a phase deadline */
	__u64 refused;	 /* requests answered 503 past max_requests */
	unsigned int open;	/* connections open now */
};

/* A guard with these limits (max_requests 0: no limit); NULL when out of memory. */
struct http_guard *http_guard__new(unsigned int max_connections, unsigned int max_requests,
				   __u64 timeout_ns);

/* Free the guard. Call after MHD_stop_daemon() (which notifies every close). Accepts NULL. */
void http_guard__free(struct http_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void http_guard__on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			       enum MHD_ConnectionNotificationCode toe);

/* MHD_OPTION_NOTIFY_COMPLETED callback; cls is the guard. */
void http_guard__on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			      enum MHD_RequestTerminationCode toe);

/*
 * Called when a request's headers are in: marks its connection busy and returns true, or
 * returns false (answer 503) when max_requests responses are already in progress.
 */
bool http_guard__admit(struct http_guard *g, struct MHD_Connection *c);

/* Close the connections whose phase deadline has passed (does the work at most every 100 ms). */
void http_guard__sweep(struct http_guard *g);

const struct http_guard_stats *http_guard__stats(const struct http_guard *g);

#endif
