/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP endpoint of the exporter, on libmicrohttpd, driven from the caller's single-threaded
 * epoll loop (MHD in external epoll mode: no threads at all).
 *
 *   GET /metrics   Prometheus text 0.0.4, or OpenMetrics 1.0 when Accept asks for
 *                  application/openmetrics-text
 *   GET /healthz   200 "ok" or 503 with the reason
 *   GET /api/v1/snapshot  the `snapshot --json` document (application/json), if a snapshot
 *                  handler is set
 *   GET /          a small HTML index
 *   anything else  404; methods other than GET and HEAD get 405
 *
 * Design note: rendering happens inside the event loop, in the metrics callback, so a scrape
 * costs the loop time proportional to the number of series and nothing else (no locks, no
 * copies of the tables, no second thread to race with). Because that cost is bounded and small,
 * event intake is never stalled for long. Slow clients cannot stall anything: sockets are
 * non-blocking, connections are limited (per address too), each phase of a connection has a
 * deadline, a full server makes room for a newcomer by closing the connection idle longest
 * (src/http_guard.c), and the exposition buffer is lent to the response without copying (a
 * second concurrent scrape renders into a copy).
 *
 * Loop contract: add http_server__fd() to the loop's epoll set for EPOLLIN, call
 * http_server__run() when it is ready, and never sleep longer than http_server__timeout_ms()
 * before calling http_server__run() again (that is how idle connections time out).
 */
#ifndef TCPSTATE_HTTP_SERVER_H
#define TCPSTATE_HTTP_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

struct prom_writer;
struct http_server;
struct web_config;

struct http_handlers {
	/* Render the exposition into w (already reset in the right mode). 0 or -errno (-> 500). */
	int (*metrics)(void *ctx, struct prom_writer *w);
	/* 0 if healthy; otherwise write a one-line reason into buf and return non-zero (-> 503). */
	int (*health)(void *ctx, char *buf, size_t len);
	/*
	 * Render the JSON snapshot into a malloc()ed buffer (*body, *len) that the server frees.
	 * 0 or -errno (-> 500). NULL: /api/v1/snapshot answers 404.
	 */
	int (*snapshot)(void *ctx, char **body, size_t *len);
	void *ctx;
};

/*
 * Parse a --listen value: "host:port", "[v6addr]:port", ":port" or "port" (both mean all
 * addresses: [::] accepting IPv4 too, or 0.0.0.0 where IPv6 is off). Hosts are numeric
 * addresses or "localhost" (127.0.0.1); ports are 0-65535 (0: any free port). Fills *addr and
 * *addrlen and returns 0, or returns -EINVAL with a one-line explanation in err.
 */
int http_server__parse_listen(const char *s, struct sockaddr_storage *addr, socklen_t *addrlen,
			      char *err, size_t errlen);

/*
 * Listen on the --listen address and start serving with handlers h (copied; h->ctx must outlive
 * the server). Returns the server, or NULL with a one-line message in err saying what failed and
 * what to do, e.g. "cannot listen on 127.0.0.1:9976: Address already in use (another tcpstate or
 * exporter is running; choose another port with --listen)".
 */
struct http_server *http_server__start(const char *listen, const struct http_handlers *h, char *err,
				       size_t errlen);

/* Options of http_server__start_opts(); zero values mean the defaults. */
struct http_server_opts {
	const char *listen;	  /* as for http_server__parse_listen() */
	const char *metrics_path; /* where the exposition is served; NULL: "/metrics" */
	/* connections open at once; when full, the one idle longest is closed for a newcomer */
	unsigned int max_connections;
	unsigned int max_per_ip;   /* connections from one address; 0: no limit */
	unsigned int max_requests; /* responses in progress at once, more get 503 */
	unsigned int timeout_s;	   /* to send a request, and for a response to be sent */
	/* TLS and basic auth (--web.config.file, read); NULL: plain HTTP, no auth */
	const struct web_config *web;
};

#define HTTP_DEFAULT_MAX_CONNECTIONS 512
#define HTTP_DEFAULT_MAX_PER_IP 64
#define HTTP_DEFAULT_MAX_REQUESTS 40
#define HTTP_DEFAULT_TIMEOUT_S 10

/*
 * Check a --web.telemetry-path value: an absolute path of printable characters other than
 * "/" and "/healthz". Returns 0, or -EINVAL with a one-line explanation in err.
 */
int http_server__check_path(const char *path, char *err, size_t errlen);

/* http_server__start() with options (copied; strings must outlive the server). */
struct http_server *http_server__start_opts(const struct http_server_opts *o,
					    const struct http_handlers *h, char *err,
					    size_t errlen);

/* The file descriptor to add to the caller's epoll set for EPOLLIN. Owned by the server. */
int http_server__fd(const struct http_server *s);

/* Do all pending HTTP work (accept, read, render, write, time out) without blocking. */
void http_server__run(struct http_server *s);

/*
 * Longest time in milliseconds the caller may wait before calling http_server__run() again
 * even without activity on http_server__fd(); -1 when there is nothing to time out.
 */
int http_server__timeout_ms(const struct http_server *s);

/* Close all connections and the listening socket and free the server. Accepts NULL. */
void http_server__stop(struct http_server *s);

/* The bound address as "127.0.0.1:9976" or "[::1]:9976" (the real port when 0 was asked). */
const char *http_server__address(const struct http_server *s);

#endif
