// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP endpoint on libmicrohttpd in external epoll mode: the caller's loop owns all waiting, MHD
 * does the HTTP. We open the listening socket ourselves so that bind errors are reported with
 * the address and a hint, and hand it to MHD. MHD's own messages go to log_debug only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/resource.h>

#include <microhttpd.h>

#include "http_guard.h"
#include "http_server.h"
#include "log.h"
#include "prom_writer.h"
#include "web_auth.h"
#include "web_config.h"

#define HTTP_BACKLOG 128
#define HTTP_SPARE_FDS 256	    /* descriptors kept for everything but HTTP connections */
#define HTTP_SPARE_CONNECTIONS 16 /* accepted past the limit while idle ones are closed */
#define HTTP_RUN_ROUNDS 8 /* MHD_run() calls per http_server__run() while MHD has work left */
#define HTTP_ADDR_LEN (INET6_ADDRSTRLEN + 8)
#define HTTP_REASON_LEN 256
#define HTTP_REALM "tcpstate"

#define CT_TEXT "text/plain; charset=utf-8"
#define CT_HTML "text/html; charset=utf-8"
#define CT_PROM "text/plain; version=0.0.4; charset=utf-8"
#define CT_JSON "application/json"
#define CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_handlers h;
	struct prom_writer *w; /* reused for every scrape */
	bool w_lent;	       /* w's buffer is the body of a response MHD still holds */
	int epoll_fd;	       /* MHD's; closed by MHD_stop_daemon() */
	char address[HTTP_ADDR_LEN];
	const char *metrics_path;
	char *index_html;      /* INDEX_HTML with metrics_path in its links */
	struct http_server_opts o;
	struct http_guard *guard;
	struct web_auth *auth; /* NULL: no basic auth */
};

static const char INDEX_HTML[] = "<!DOCTYPE html>\n"
				 "<html><head><title>tcpstate</title></head><body>\n"
				 "<h1>tcpstate</h1>\n"
				 "<p>TCP state tracer and Prometheus exporter.</p>\n"
				 "<ul>\n"
				 "<li><a href=\"/metrics\">/metrics</a></li>\n"
				 "<li><a href=\"/healthz\">/healthz</a></li>\n"
				 "<li><a href=\"/api/v1/snapshot\">/api/v1/snapshot</a> (JSON)</li>\n"
				 "</ul>\n"
				 "</body></html>\n";

/* ---- --listen parsing ---- */

static int listen_invalid(char *err, size_t errlen, const char *s, const char *why)
{
	snprintf(err, errlen, "invalid --listen value \"%s\": %s", s, why);
	return -EINVAL;
}

/* Split "[v6]:port", "host:port", ":port" or "port" into host text (maybe empty) and port text. */
static int split_host_port(const char *s, char *host, size_t hostlen, const char **port,
			   bool *bracketed)
{
	const char *start = s, *end, *colon;

	*bracketed = s[0] == '[';
	if (*bracketed) {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		start = s + 1;
		colon = end + 1;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			return -EINVAL;
		end = colon ? colon : s;
	}
	if ((size_t)(end - start) >= hostlen)
		return -EINVAL;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	*port = colon ? colon + 1 : s;
	return 0;
}

/* Strict decimal 0-65535: no sign, no spaces, nothing after. */
static int parse_port(const char *p, unsigned short *port)
{
	unsigned long v = 0;

	if (!*p || strlen(p) > 5)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (unsigned short)v;
	return 0;
}

static void set_any6(struct sockaddr_storage *addr, socklen_t *addrlen, unsigned short port)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;

	memset(addr, 0, sizeof(*addr));
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	in6->sin6_addr = in6addr_any;
	*addrlen = sizeof(*in6);
}

/* Fill addr from a numeric host (or "localhost", or "" for all addresses); -EINVAL if not one. */
static int fill_addr(const char *host, bool bracketed, unsigned short port,
		     struct sockaddr_storage *addr, socklen_t *addrlen)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
	struct sockaddr_in *in = (struct sockaddr_in *)addr;

	set_any6(addr, addrlen, port);
	if (bracketed)
		return inet_pton(AF_INET6, host, &in6->sin6_addr) == 1 ? 0 : -EINVAL;
	if (!host[0])
		return 0;
	memset(addr, 0, sizeof(*addr));
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	*addrlen = sizeof(*in);
	if (!strcasecmp(host, "localhost")) {
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return 0;
	}
	return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -EINVAL;
}

int http_server__parse_listen(const char *s, struct sockaddr_storage *addr, socklen_t *addrlen,
			      char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_text;
	unsigned short port;
	bool bracketed;

	if (!s || !s[0])
		return listen_invalid(err, errlen, s ? s : "",
				      "expected host:port, [IPv6-address]:port, :port or port");
	if (split_host_port(s, host, sizeof(host), &port_text, &bracketed))
		return listen_invalid(err, errlen, s,
				      s[0] == '[' ? "expected [IPv6-address]:port, e.g. [::1]:9976"
						  : "expected host:port; IPv6 addresses go in "
						    "brackets, e.g. [::1]:9976");
	if (parse_port(port_text, &port))
		return listen_invalid(err, errlen, s, "the port must be a number from 0 to 65535");
	if (fill_addr(host, bracketed, port, addr, addrlen))
		return listen_invalid(err, errlen, s,
				      bracketed ? "not a numeric IPv6 address"
						: "the host must be a numeric IPv4 address or "
						  "localhost (names are not resolved)");
	return 0;
}

/* ---- listening socket ---- */

static void format_addr(const struct sockaddr_storage *a, char *buf, size_t len)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in *in = (const struct sockaddr_in *)a;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(in->sin_port));
	}
}

static bool is_any6(const struct sockaddr_storage *a)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a;

	return a->ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
}

static const char *listen_hint(int e)
{
	switch (e) {
	case EADDRINUSE:
		return "another tcpstate or exporter is running; choose another port with --listen";
	case EACCES:
		return "ports below 1024 need root or CAP_NET_BIND_SERVICE; choose another port "
		       "with --listen";
	case EADDRNOTAVAIL:
		return "no local interface has this address; use :PORT to listen on all addresses";
	case EAFNOSUPPORT:
		return "IPv6 is disabled on this host; use an IPv4 address";
	default:
		return NULL;
	}
}

/* A socket bound to a and listening, or -errno. */
static int bind_listener(const struct sockaddr_storage *a, socklen_t len)
{
	int one = 1, zero = 0, fd, e;

	fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* [::] takes IPv4 too, whatever net.ipv6.bindv6only says. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (is_any6(a) && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero))) ||
	    bind(fd, (const struct sockaddr *)a, len) || listen(fd, HTTP_BACKLOG)) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Listen on *a, falling back from [::] to 0.0.0.0 where IPv6 is off; fd or -errno with err. */
static int open_listener(struct sockaddr_storage *a, socklen_t *len, char *err, size_t errlen)
{
	char where[HTTP_ADDR_LEN];
	const char *hint;
	int fd;

	fd = bind_listener(a, *len);
	if (fd == -EAFNOSUPPORT && is_any6(a)) {
		struct sockaddr_in *in = (struct sockaddr_in *)a;
		unsigned short port = ((struct sockaddr_in6 *)a)->sin6_port;

		memset(a, 0, sizeof(*a));
		in->sin_family = AF_INET;
		in->sin_port = port;
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		*len = sizeof(*in);
		fd = bind_listener(a, *len);
	}
	if (fd >= 0)
		return fd;
	format_addr(a, where, sizeof(where));
	hint = listen_hint(-fd);
	snprintf(err, errlen, "cannot listen on %s: %s%s%s%s", where, strerror(-fd),
		 hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
	return fd;
}

/* ---- responses ---- */

/* Queue r (may be NULL: out of memory, which makes MHD close the connection) and drop our ref. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, struct MHD_Response *r,
			     const char *ctype)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_static(struct MHD_Connection *c, unsigned int status, const char *body,
				    const char *ctype)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	return reply(c, status, r, ctype);
}

static enum MHD_Result reply_copy(struct MHD_Connection *c, unsigned int status, const char *body,
				  const char *ctype)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	return reply(c, status, r, ctype);
}

static enum MHD_Result reply_405(struct MHD_Connection *c)
{
	static const char body[] = "method not allowed; use GET or HEAD\n";
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, r, CT_TEXT);
}

/* 503 (too many responses in progress) or 429 (password checks spent), retry in a second. */
static enum MHD_Result reply_busy(struct MHD_Connection *c, unsigned int status)
{
	static const char body[] = "too many requests in progress; retry shortly\n";
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	return reply(c, status, r, CT_TEXT);
}

/* The request's basic-auth credentials are good; otherwise a 401 (or 429) is queued. */
static bool authorized(struct http_server *s, struct MHD_Connection *c, enum MHD_Result *ret)
{
	static const char denied[] = "unauthorized\n";
	char *password = NULL, *user = MHD_basic_auth_get_username_password(c, &password);
	enum web_auth_result res = web_auth__check(s->auth, user, password);
	struct MHD_Response *r;

	if (password)
		explicit_bzero(password, strlen(password));
	MHD_free(user);
	MHD_free(password);
	if (res == WEB_AUTH_OK)
		return true;
	if (res == WEB_AUTH_BUSY) {
		*ret = reply_busy(c, MHD_HTTP_TOO_MANY_REQUESTS);
		return false;
	}
	r = MHD_create_response_from_buffer(strlen(denied), (void *)denied,
					    MHD_RESPMEM_PERSISTENT);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CT_TEXT);
	*ret = r ? MHD_queue_basic_auth_fail_response(c, HTTP_REALM, r) : MHD_NO;
	if (r)
		MHD_destroy_response(r);
	return false;
}

static bool wants_openmetrics(struct MHD_Connection *c)
{
	const char *accept;

	accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	return accept && strcasestr(accept, "application/openmetrics-text");
}

/* Render the exposition into w; 0 or -errno. */
static int render(struct http_server *s, struct prom_writer *w, bool openmetrics)
{
	int err = 0;

	prom_writer__reset(w, openmetrics);
	if (s->h.metrics)
		err = s->h.metrics(s->h.ctx, w);
	if (err)
		return err < 0 ? err : -EIO;
	return prom_writer__finish(w);
}

/* MHD released the response that borrowed the shared writer's buffer. */
static void writer_returned(void *cls)
{
	struct http_server *s = cls;

	s->w_lent = false;
}

/*
 * A response for w's text: the shared writer's buffer is lent without a copy until MHD releases
 * the response; a temporary writer (used while the shared one is lent) is copied and freed.
 */
static struct MHD_Response *metrics_response(struct http_server *s, struct prom_writer *w)
{
	struct MHD_Response *r;
	size_t len;
	void *data = (void *)prom_writer__data(w, &len);

	if (w != s->w) {
		r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_COPY);
		prom_writer__free(w);
		return r;
	}
	r = MHD_create_response_from_buffer_with_free_callback_cls(len, data, writer_returned, s);
	s->w_lent = r != NULL;
	return r;
}

static enum MHD_Result reply_metrics(struct http_server *s, struct MHD_Connection *c)
{
	bool om = wants_openmetrics(c);
	struct prom_writer *w = s->w_lent ? prom_writer__new() : s->w;
	char body[HTTP_REASON_LEN];
	int err = w ? render(s, w, om) : -ENOMEM;

	if (!err) {
		log_debug("http: /metrics: %u series", prom_writer__series(w));
		return reply(c, MHD_HTTP_OK, metrics_response(s, w), om ? CT_OPENMETRICS : CT_PROM);
	}
	if (w != s->w)
		prom_writer__free(w);
	log_warn("cannot render metrics for a scrape: %s", strerror(-err));
	snprintf(body, sizeof(body), "cannot render metrics: %s\n", strerror(-err));
	return reply_copy(c, MHD_HTTP_INTERNAL_SERVER_ERROR, body, CT_TEXT);
}

static enum MHD_Result reply_health(struct http_server *s, struct MHD_Connection *c)
{
	char reason[HTTP_REASON_LEN] = "";
	char body[HTTP_REASON_LEN + 2];

	if (!s->h.health || !s->h.health(s->h.ctx, reason, sizeof(reason)))
		return reply_static(c, MHD_HTTP_OK, "ok\n", CT_TEXT);
	reason[sizeof(reason) - 1] = '\0';
	reason[strcspn(reason, "\r\n")] = '\0';
	snprintf(body, sizeof(body), "%s\n", reason[0] ? reason : "unhealthy");
	return reply_copy(c, MHD_HTTP_SERVICE_UNAVAILABLE, body, CT_TEXT);
}

static enum MHD_Result reply_snapshot(struct http_server *s, struct MHD_Connection *c)
{
	char msg[HTTP_REASON_LEN], *body = NULL;
	struct MHD_Response *r;
	size_t len = 0;
	int err;

	if (!s->h.snapshot)
		return reply_static(c, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n", CT_TEXT);
	err = s->h.snapshot(s->h.ctx, &body, &len);
	if (err) {
		free(body);
		log_warn("cannot render the JSON snapshot: %s", strerror(-err));
		snprintf(msg, sizeof(msg), "cannot render the snapshot: %s\n", strerror(-err));
		return reply_copy(c, MHD_HTTP_INTERNAL_SERVER_ERROR, msg, CT_TEXT);
	}
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r)
		free(body);
	if (r)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	return reply(c, MHD_HTTP_OK, r, CT_JSON);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	enum MHD_Result denied;

	(void)version;
	(void)upload_data;
	if (!http_guard__admit(s->guard, c))
		return reply_busy(c, MHD_HTTP_SERVICE_UNAVAILABLE);
	if (s->auth && !authorized(s, c, &denied))
		return denied;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_405(c);
	/*
	 * The first call comes with the headers only. Answering then makes MHD close the
	 * connection after the response (it cannot tell the request is over), so every scrape and
	 * every frame of `top` cost a connection and left a TIME_WAIT. Answer GET and HEAD on the
	 * second call (refusals may close the connection).
	 */
	if (!*req_cls) {
		static char headers_seen;

		*req_cls = &headers_seen;
		return MHD_YES;
	}
	if (*upload_data_size) { /* a body nobody asked for: read past it */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, s->metrics_path))
		return reply_metrics(s, c);
	if (!strcmp(url, "/healthz"))
		return reply_health(s, c);
	if (!strcmp(url, "/api/v1/snapshot"))
		return reply_snapshot(s, c);
	if (!strcmp(url, "/"))
		return reply_static(c, MHD_HTTP_OK, s->index_html, CT_HTML);
	return reply_static(c, MHD_HTTP_NOT_FOUND, "not found; try /metrics\n", CT_TEXT);
}

/* ---- daemon ---- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("http: %s", msg);
}

static void mhd_panic(void *cls, const char *file, unsigned int line, const char *reason)
{
	(void)cls;
	log_err("libmicrohttpd internal error at %s:%u: %s (this is a bug; please report it)",
		file ? file : "?", line, reason ? reason : "");
	abort();
}

/* The TLS options of MHD for web config w into opts[*n...]; flags gains MHD_USE_TLS. */
static int tls_options(const struct web_config *w, struct MHD_OptionItem *opts, int *n,
		       unsigned int *flags, char *err, size_t errlen)
{
	if (!w || !w->tls)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "cannot serve https: this libmicrohttpd was built without TLS "
				      "(remove tls_server_config from the web config)");
		return -ENOTSUP;
	}
	*flags |= MHD_USE_TLS;
	opts[(*n)++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, w->cert_pem };
	opts[(*n)++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, w->key_pem };
	opts[(*n)++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, w->priorities };
	return 0;
}

/* Start MHD on listening socket fd, which it then owns; 0 or -errno with err. */
static int start_daemon(struct http_server *s, int fd, char *err, size_t errlen)
{
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	/* clang-format off */
	struct MHD_OptionItem opts[16] = {
		{ MHD_OPTION_LISTEN_SOCKET, fd, NULL },
		/* spare slots: past max_connections the guard closes idle ones for newcomers */
		{ MHD_OPTION_CONNECTION_LIMIT, s->o.max_connections + HTTP_SPARE_CONNECTIONS, NULL },
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->o.max_per_ip, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, s->o.timeout_s, NULL },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)http_guard__on_connection, s->guard },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)http_guard__on_completed, s->guard },
	};
	/* clang-format on */
	int n = 6, e;

	e = tls_options(s->o.web, opts, &n, &flags, err, errlen);
	if (e) {
		close(fd);
		return e;
	}
	opts[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	MHD_set_panic_func(mhd_panic, NULL);
	/* the logger first, so that nothing ever reaches stderr */
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_ARRAY,
				     opts, MHD_OPTION_END);
	if (!s->daemon) {
		/* MHD may or may not have closed fd on failure; no other thread can reuse it. */
		if (fcntl(fd, F_GETFD) >= 0)
			close(fd);
		snprintf(err, errlen,
			 "cannot start the HTTP server: libmicrohttpd failed to start "
			 "(run with --verbose to see its messages)");
		return -EIO;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	s->epoll_fd = info ? info->epoll_fd : -1;
	return 0;
}

int http_server__check_path(const char *path, char *err, size_t errlen)
{
	const char *why = NULL;

	if (path[0] != '/')
		why = "it must start with /";
	else if (!strcmp(path, "/") || !strcmp(path, "/healthz"))
		why = "/ and /healthz are taken";
	for (const char *p = path; !why && *p; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '?' || *p == '#' || *p == '"')
			why = "only printable characters other than space, ?, # and \" are allowed";
	if (!why)
		return 0;
	snprintf(err, errlen, "invalid --web.telemetry-path value \"%s\": %s", path, why);
	return -EINVAL;
}

/* INDEX_HTML with every "/metrics" replaced by path; NULL when out of memory. */
static char *build_index(const char *path)
{
	size_t n = 0, plen = strlen(path), mlen = strlen("/metrics");
	const char *p, *q;
	char *out, *o;

	for (p = INDEX_HTML; (q = strstr(p, "/metrics")); p = q + mlen)
		n++;
	out = malloc(sizeof(INDEX_HTML) + n * plen);
	if (!out)
		return NULL;
	for (o = out, p = INDEX_HTML; (q = strstr(p, "/metrics")); p = q + mlen) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, path, plen);
		o += plen;
	}
	strcpy(o, p);
	return out;
}

static void server_free(struct http_server *s)
{
	if (!s)
		return;
	http_guard__free(s->guard);
	web_auth__free(s->auth);
	prom_writer__free(s->w);
	free(s->index_html);
	free(s);
}

/*
 * Raise the soft descriptor limit (up to the hard one, which needs no privilege) so that
 * max_connections fit beside everything else; lower max_connections if even that is short.
 */
static void fit_fd_limit(struct http_server_opts *o)
{
	rlim_t want = (rlim_t)o->max_connections + HTTP_SPARE_FDS;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	o->max_connections = rl.rlim_cur > 2 * HTTP_SPARE_FDS ? (unsigned)(rl.rlim_cur -
									   HTTP_SPARE_FDS)
							      : (unsigned)(rl.rlim_cur / 2);
	log_warn("the open files limit (%llu) leaves room for %u HTTP connections only; raise it "
		 "(ulimit -n, LimitNOFILE=) or lower --web.max-connections",
		 (unsigned long long)rl.rlim_cur, o->max_connections);
}

static void opts_defaults(struct http_server_opts *o)
{
	if (!o->metrics_path)
		o->metrics_path = "/metrics";
	if (!o->max_connections)
		o->max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
	if (!o->timeout_s)
		o->timeout_s = HTTP_DEFAULT_TIMEOUT_S;
	fit_fd_limit(o);
}

struct http_server *http_server__start(const char *listen, const struct http_handlers *h, char *err,
				       size_t errlen)
{
	struct http_server_opts o = {
		.listen = listen,
		.max_per_ip = HTTP_DEFAULT_MAX_PER_IP,
		.max_requests = HTTP_DEFAULT_MAX_REQUESTS,
	};

	return http_server__start_opts(&o, h, err, errlen);
}

struct http_server *http_server__start_opts(const struct http_server_opts *o,
					    const struct http_handlers *h, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct http_server *s;
	int fd;

	if (http_server__parse_listen(o->listen, &addr, &addrlen, err, errlen))
		return NULL;
	if (o->metrics_path && http_server__check_path(o->metrics_path, err, errlen))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s) {
		s->o = *o;
		opts_defaults(&s->o);
		s->metrics_path = s->o.metrics_path;
		s->w = prom_writer__new();
		s->index_html = build_index(s->metrics_path);
		s->guard = http_guard__new(s->o.max_connections, s->o.max_requests,
					   (__u64)s->o.timeout_s * 1000000000ull);
		if (o->web && o->web->n_users)
			s->auth = web_auth__new(o->web->users, o->web->n_users);
	}
	if (!s || !s->w || !s->index_html || !s->guard ||
	    (o->web && o->web->n_users && !s->auth)) {
		snprintf(err, errlen, "cannot start the HTTP server: out of memory");
		goto out_free;
	}
	s->h = *h;
	fd = open_listener(&addr, &addrlen, err, errlen);
	if (fd < 0)
		goto out_free;
	addrlen = sizeof(addr);
	if (!getsockname(fd, (struct sockaddr *)&addr, &addrlen))
		format_addr(&addr, s->address, sizeof(s->address));
	if (start_daemon(s, fd, err, errlen))
		goto out_free;
	log_debug("http: listening on %s", s->address);
	return s;

out_free:
	server_free(s);
	return NULL;
}

int http_server__fd(const struct http_server *s)
{
	return s->epoll_fd;
}

void http_server__run(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG t;

	/* MHD may keep work that no new socket event will announce (more to send): repeat. */
	for (int i = 0; i < HTTP_RUN_ROUNDS; i++) {
		http_guard__sweep(s->guard);
		MHD_run(s->daemon);
		if (MHD_get_timeout(s->daemon, &t) != MHD_YES || t > 0)
			return;
	}
}

int http_server__timeout_ms(const struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(s->daemon, &t) != MHD_YES)
		return -1;
	return t > INT_MAX ? INT_MAX : (int)t;
}

void http_server__stop(struct http_server *s)
{
	if (!s)
		return;
	/* Closes connections (releasing any lent buffer) and the listening socket. */
	MHD_stop_daemon(s->daemon);
	server_free(s);
}

const char *http_server__address(const struct http_server *s)
{
	return s->address;
}
