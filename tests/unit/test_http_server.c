// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the HTTP endpoint. No threads and no fork: the test is the event loop. Clients
 * are non-blocking sockets on 127.0.0.1 whose I/O is interleaved with http_server__run().
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_server.h"
#include "prom_writer.h"
#include "testlib.h"
#include "web_config.h"

#define BIG_SAMPLES 250000 /* about 6 MB: more than the kernel buffers for one connection */
#define RESP_MAX (16 << 20)

/* ---- --listen parsing ---- */

struct listen_case {
	const char *in;
	int ret;
	int family;
	const char *addr; /* inet_ntop form when ret == 0 */
	unsigned port;
	const char *err; /* substring of the message when ret != 0 */
};

static const struct listen_case listen_cases[] = {
    {"127.0.0.1:9976", 0, AF_INET, "127.0.0.1", 9976, NULL},
    {"localhost:80", 0, AF_INET, "127.0.0.1", 80, NULL},
    {"0.0.0.0:0", 0, AF_INET, "0.0.0.0", 0, NULL},
    {"[::1]:9976", 0, AF_INET6, "::1", 9976, NULL},
    {"[::]:65535", 0, AF_INET6, "::", 65535, NULL},
    {":9976", 0, AF_INET6, "::", 9976, NULL},
    {"9976", 0, AF_INET6, "::", 9976, NULL},
    {"", -EINVAL, 0, NULL, 0, "expected host:port, [IPv6-address]:port, :port or port"},
    {NULL, -EINVAL, 0, NULL, 0, "expected host:port"},
    {"127.0.0.1", -EINVAL, 0, NULL, 0, "the port must be a number from 0 to 65535"},
    {"127.0.0.1:", -EINVAL, 0, NULL, 0, "the port must be a number"},
    {"127.0.0.1:65536", -EINVAL, 0, NULL, 0, "the port must be a number"},
    {"127.0.0.1:-1", -EINVAL, 0, NULL, 0, "the port must be a number"},
    {"127.0.0.1: 80", -EINVAL, 0, NULL, 0, "the port must be a number"},
    {"127.0.0.1:80x", -EINVAL, 0, NULL, 0, "the port must be a number"},
    {"127.0.0.1:000080", -EINVAL, 0, NULL, 0, "the port must be a number"},
    {"localhost", -EINVAL, 0, NULL, 0, "the port must be a number"},
    {"::1:9976", -EINVAL, 0, NULL, 0, "IPv6 addresses go in brackets"},
    {"[::1]9976", -EINVAL, 0, NULL, 0, "expected [IPv6-address]:port"},
    {"[::1", -EINVAL, 0, NULL, 0, "expected [IPv6-address]:port"},
    {"[127.0.0.1]:80", -EINVAL, 0, NULL, 0, "not a numeric IPv6 address"},
    {"[]:80", -EINVAL, 0, NULL, 0, "not a numeric IPv6 address"},
    {"example.com:80", -EINVAL, 0, NULL, 0, "names are not resolved"},
    {"1.2.3:80", -EINVAL, 0, NULL, 0, "numeric IPv4 address or localhost"},
    {"256.1.1.1:80", -EINVAL, 0, NULL, 0, "numeric IPv4 address"},
};

static void check_listen_case(const struct listen_case *c)
{
	struct sockaddr_storage a;
	socklen_t len = 0;
	char err[256] = "", ip[INET6_ADDRSTRLEN] = "";
	const void *raw;
	unsigned port;
	int ret = http_server__parse_listen(c->in, &a, &len, err, sizeof(err));

	CHECK(ret == c->ret, "\"%s\": expected %d, got %d (%s)", c->in, c->ret, ret, err);
	if (ret || c->ret) {
		CHECK(c->err && strstr(err, c->err),
		      "\"%s\": expected error containing \"%s\", got \"%s\"", c->in, c->err, err);
		return;
	}
	CHECK(a.ss_family == c->family, "\"%s\": expected family %d, got %d", c->in, c->family,
	      a.ss_family);
	raw = a.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&a)->sin6_addr
				      : (const void *)&((struct sockaddr_in *)&a)->sin_addr;
	port = ntohs(a.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&a)->sin6_port
					     : ((struct sockaddr_in *)&a)->sin_port);
	inet_ntop(a.ss_family, raw, ip, sizeof(ip));
	CHECK(!strcmp(ip, c->addr) && port == c->port,
	      "\"%s\": expected %s port %u, got %s port %u", c->in, c->addr, c->port, ip, port);
	CHECK(len == (a.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					      : sizeof(struct sockaddr_in)),
	      "\"%s\": wrong address length %u", c->in, (unsigned)len);
}

static void test_parse_listen(void)
{
	for (size_t i = 0; i < sizeof(listen_cases) / sizeof(listen_cases[0]); i++)
		check_listen_case(&listen_cases[i]);
}

/* ---- handlers ---- */

struct fake {
	int calls;			/* metrics renders so far */
	int fail;			/* -errno returned by metrics when set */
	bool big;			/* render BIG_SAMPLES samples, all with value = calls */
	const char *unhealthy;		/* health reason when set */
	int snapshot_fail;		/* -errno returned by the snapshot handler when set */
	struct prom_writer *writers[2]; /* the writers the first two renders were given */
};

static int fake_metrics(void *ctx, struct prom_writer *w)
{
	static const double bounds[] = {0.001, 0.01, 0.1};
	static const unsigned long long counts[] = {1, 2, 3, 4};
	const char *labels[] = {"state", "ESTABLISHED", NULL};
	struct fake *f = ctx;
	char idx[16];

	if (f->calls < 2)
		f->writers[f->calls] = w;
	f->calls++;
	if (f->fail)
		return f->fail;
	prom_writer__family(w, "t_sockets", "gauge", "Sockets.");
	prom_writer__sample(w, "t_sockets", labels, 3);
	prom_writer__family(w, "t_events_total", "counter", "Events.");
	prom_writer__sample_u64(w, "t_events_total", NULL, 7);
	prom_writer__family(w, "t_rtt_seconds", "histogram", "RTT.");
	prom_writer__histogram(w, "t_rtt_seconds", NULL, bounds, counts, 3, 0.5);
	if (!f->big)
		return 0;
	prom_writer__family(w, "t_big", "gauge", "Many series.");
	for (int i = 0; i < BIG_SAMPLES; i++) {
		const char *l[] = {"i", idx, NULL};

		snprintf(idx, sizeof(idx), "%d", i);
		prom_writer__sample(w, "t_big", l, f->calls);
	}
	return 0;
}

static int fake_health(void *ctx, char *buf, size_t len)
{
	struct fake *f = ctx;

	if (!f->unhealthy)
		return 0;
	snprintf(buf, len, "%s", f->unhealthy);
	return 1;
}

static int fake_snapshot(void *ctx, char **body, size_t *len)
{
	struct fake *f = ctx;

	if (f->snapshot_fail)
		return f->snapshot_fail;
	*body = strdup("{\"api_version\":1}\n");
	*len = *body ? strlen(*body) : 0;
	return *body ? 0 : -ENOMEM;
}

static struct http_server *start_fake(struct fake *f)
{
	struct http_handlers h = {.metrics = fake_metrics, .health = fake_health,
				  .snapshot = fake_snapshot, .ctx = f};
	char err[256] = "";
	struct http_server *s = http_server__start("127.0.0.1:0", &h, err, sizeof(err));

	CHECK(s != NULL, "start on 127.0.0.1:0 failed: %s", err);
	return s;
}

/* ---- clients ---- */

struct client {
	int fd;
	const char *req;
	size_t sent;
	char *resp;
	size_t len;
	bool done;
	int status;
	const char *body; /* points into resp */
	size_t body_len;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Connect to s (the kernel finishes the handshake from the backlog), then go non-blocking. */
static bool client_open(struct client *c, struct http_server *s, const char *req, int rcvbuf)
{
	struct sockaddr_storage a;
	socklen_t len;
	char err[256];

	memset(c, 0, sizeof(*c));
	c->req = req;
	c->resp = malloc(RESP_MAX + 1);
	if (!c->resp || http_server__parse_listen(http_server__address(s), &a, &len, err, 256))
		return false;
	c->fd = socket(a.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return false;
	if (rcvbuf)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (connect(c->fd, (struct sockaddr *)&a, len))
		return false;
	return fcntl(c->fd, F_SETFL, O_NONBLOCK) == 0;
}

static void client_close(struct client *c)
{
	if (c->fd > 0)
		close(c->fd);
	free(c->resp);
	c->fd = -1;
	c->resp = NULL;
}

/* Send what is left of the request, read what has come; done at EOF or error. */
static void client_step(struct client *c)
{
	ssize_t n;

	if (c->done)
		return;
	if (c->sent < strlen(c->req)) {
		n = send(c->fd, c->req + c->sent, strlen(c->req) - c->sent, MSG_NOSIGNAL);
		if (n > 0)
			c->sent += (size_t)n;
	}
	while ((n = recv(c->fd, c->resp + c->len, RESP_MAX - c->len, 0)) > 0)
		c->len += (size_t)n;
	if (n == 0 || (n < 0 && errno != EAGAIN) || c->len == RESP_MAX)
		c->done = true;
}

/* Split the response into status and body once complete. */
static void client_parse(struct client *c)
{
	char *end;

	c->resp[c->len] = '\0';
	if (sscanf(c->resp, "HTTP/1.%*c %d", &c->status) != 1)
		c->status = -1;
	end = strstr(c->resp, "\r\n\r\n");
	c->body = end ? end + 4 : "";
	c->body_len = end ? c->len - (size_t)(c->body - c->resp) : 0;
}

/* Run the server and the clients until every client is done or 5 s have passed. */
static bool drive(struct http_server *s, struct client *cl, int n)
{
	struct epoll_event ev = {.events = EPOLLIN}, out[4];
	int ep = epoll_create1(EPOLL_CLOEXEC), done = 0;
	double deadline = now_s() + 5;

	epoll_ctl(ep, EPOLL_CTL_ADD, http_server__fd(s), &ev);
	while (done < n && now_s() < deadline) {
		epoll_wait(ep, out, 4, 10);
		http_server__run(s);
		done = 0;
		for (int i = 0; i < n; i++) {
			client_step(&cl[i]);
			done += cl[i].done;
		}
	}
	close(ep);
	for (int i = 0; i < n; i++)
		client_parse(&cl[i]);
	CHECK(done == n, "expected %d responses within 5 s, got %d", n, done);
	return done == n;
}

/* One request on its own connection; the client is left for the caller to inspect and close. */
static bool request(struct http_server *s, struct client *c, const char *req)
{
	CHECK(client_open(c, s, req, 0), "cannot connect to %s", http_server__address(s));
	return c->fd > 0 && drive(s, c, 1);
}

static bool has_header(const struct client *c, const char *line)
{
	const char *end = strstr(c->resp, "\r\n\r\n");
	const char *hit = strcasestr(c->resp, line);

	return hit && end && hit < end;
}

/* ---- endpoint tests ---- */

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"

static void test_metrics_text(void)
{
	struct fake f = {0};
	struct http_server *s = start_fake(&f);
	struct client c;

	if (!s)
		return;
	if (request(s, &c, GET("/metrics"))) {
		CHECK_EQ_INT(c.status, 200, "GET /metrics status");
		CHECK(has_header(&c,
				 "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
		      "0.0.4 content type expected, got:\n%s", c.resp);
		CHECK(strstr(c.body, "# TYPE t_events_total counter\nt_events_total 7\n"),
		      "counter family in body:\n%s", c.body);
		CHECK(strstr(c.body, "t_rtt_seconds_bucket{le=\"+Inf\"} 10\n"),
		      "histogram in body");
		CHECK(!strstr(c.body, "# EOF"), "no # EOF in 0.0.4 text");
	}
	client_close(&c);
	if (request(s, &c, GET("/metrics")))
		CHECK(f.writers[1] == f.writers[0],
		      "sequential scrapes must reuse the server's writer");
	client_close(&c);
	http_server__stop(s);
}

static void test_metrics_openmetrics(void)
{
	struct fake f = {0};
	struct http_server *s = start_fake(&f);
	struct client c;

	if (!s)
		return;
	if (request(s, &c,
		    "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAccept: "
		    "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;"
		    "q=0.4,*/*;q=0.1\r\n\r\n")) {
		CHECK_EQ_INT(c.status, 200, "OpenMetrics scrape status");
		CHECK(has_header(&c, "\r\nContent-Type: application/openmetrics-text; "
				     "version=1.0.0; charset=utf-8\r\n"),
		      "OpenMetrics content type expected, got:\n%s", c.resp);
		CHECK(strstr(c.body, "# TYPE t_events counter\nt_events_total 7\n"),
		      "OpenMetrics counter family without _total:\n%s", c.body);
		CHECK(c.body_len > 6 && !strcmp(c.body + c.body_len - 6, "# EOF\n"),
		      "OpenMetrics body must end with # EOF:\n%s", c.body);
	}
	client_close(&c);
	http_server__stop(s);
}

static void test_healthz(void)
{
	struct fake f = {0};
	struct http_server *s = start_fake(&f);
	struct client c;

	if (!s)
		return;
	if (request(s, &c, GET("/healthz"))) {
		CHECK_EQ_INT(c.status, 200, "healthy /healthz status");
		CHECK_EQ_STR(c.body, "ok\n", "healthy /healthz body");
	}
	client_close(&c);
	f.unhealthy = "ring buffer consumer stalled for 12 s\nsecond line dropped";
	if (request(s, &c, GET("/healthz"))) {
		CHECK_EQ_INT(c.status, 503, "unhealthy /healthz status");
		CHECK_EQ_STR(c.body, "ring buffer consumer stalled for 12 s\n",
			     "503 reason, one line");
	}
	client_close(&c);
	http_server__stop(s);
}

struct status_case {
	const char *req;
	int status;
	const char *body;   /* substring, or "" for an empty body */
	const char *header; /* substring of the header block, or NULL */
};

static const struct status_case status_cases[] = {
    {GET("/"), 200, "<a href=\"/metrics\">", "\r\nContent-Type: text/html"},
    {GET("/nope"), 404, "not found", NULL},
    {GET("/metrics/extra"), 404, "not found", NULL},
    {GET("/metrics?x=1"), 200, "t_sockets{state=\"ESTABLISHED\"} 3\n", NULL},
    {"POST /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc", 405,
     "method not allowed", "\r\nAllow: GET, HEAD\r\n"},
    {"DELETE / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405, "", NULL},
    {"HEAD /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 200, "",
     "\r\nContent-Type: text/plain; version=0.0.4"},
};

static void test_status_codes(void)
{
	struct fake f = {0};
	struct http_server *s = start_fake(&f);
	struct client c;

	for (size_t i = 0; s && i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
		const struct status_case *t = &status_cases[i];

		if (request(s, &c, t->req)) {
			CHECK(c.status == t->status, "%.30s: expected %d, got %d", t->req,
			      t->status, c.status);
			CHECK(t->body[0] ? strstr(c.body, t->body) != NULL
					 : (t->req[0] != 'H' || c.body_len == 0),
			      "%.30s: expected body with \"%s\", got \"%s\"", t->req, t->body,
			      c.body);
			CHECK(!t->header || has_header(&c, t->header),
			      "%.30s: expected header \"%s\" in:\n%s", t->req, t->header, c.resp);
		}
		client_close(&c);
	}
	http_server__stop(s);
}

/*
 * A client that asks keeps its connection: the first request is answered without
 * "Connection: close" and the second is answered on the same connection (Prometheus and
 * `tcpstate top` ask again every interval; a new connection each time leaves a TIME_WAIT).
 */
static void test_keep_alive(void)
{
	struct fake f = {0};
	struct http_server *s = start_fake(&f);
	struct client c;
	const char *second;

	if (s && request(s, &c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
				"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")) {
		CHECK_EQ_INT(c.status, 200, "first answer");
		second = strstr(c.resp + 1, "HTTP/1.1 200");
		CHECK(second != NULL, "expected a second answer on the connection, got:\n%s", c.resp);
		CHECK(!has_header(&c, "\r\nConnection: close"),
		      "first answer closes the connection:\n%s", c.resp);
	}
	client_close(&c);
	http_server__stop(s);
}

static void test_snapshot(void)
{
	struct fake f = {0};
	struct http_server *s = start_fake(&f);
	struct http_handlers none = {.metrics = fake_metrics, .ctx = &f};
	char err[256] = "";
	struct client c;

	if (!s)
		return;
	if (request(s, &c, GET("/api/v1/snapshot"))) {
		CHECK_EQ_INT(c.status, 200, "/api/v1/snapshot status");
		CHECK_EQ_STR(c.body, "{\"api_version\":1}\n", "/api/v1/snapshot body");
		CHECK(has_header(&c, "\r\nContent-Type: application/json"),
		      "expected a JSON content type in:\n%s", c.resp);
	}
	client_close(&c);
	f.snapshot_fail = -ENOMEM;
	if (request(s, &c, GET("/api/v1/snapshot"))) {
		CHECK_EQ_INT(c.status, 500, "failing snapshot status");
		CHECK(strstr(c.body, "cannot render the snapshot") != NULL,
		      "expected the reason, got \"%s\"", c.body);
	}
	client_close(&c);
	http_server__stop(s);
	/* without a snapshot handler the route does not exist */
	s = http_server__start("127.0.0.1:0", &none, err, sizeof(err));
	CHECK(s != NULL, "start failed: %s", err);
	if (s && request(s, &c, GET("/api/v1/snapshot")))
		CHECK_EQ_INT(c.status, 404, "no snapshot handler");
	if (s)
		client_close(&c);
	http_server__stop(s);
}

static void test_metrics_error(void)
{
	struct fake f = {.fail = -ENOBUFS};
	struct http_server *s = start_fake(&f);
	struct client c;

	if (!s)
		return;
	if (request(s, &c, GET("/metrics"))) {
		CHECK_EQ_INT(c.status, 500, "status when the metrics callback fails");
		CHECK(strstr(c.body, "No buffer space available"), "500 body names the error: %s",
		      c.body);
	}
	client_close(&c);
	http_server__stop(s);
}

/* All t_big samples of one body carry the same value; returns it, or -1 if mixed or missing. */
static long big_value(const struct client *c)
{
	static const char key[] = "\nt_big{";
	const char *end = c->body + c->body_len;
	long value = -1;
	int seen = 0;

	/* memmem, not strstr: under ASan each strstr measures the rest of the body (quadratic). */
	for (const char *p = memmem(c->body, c->body_len, key, sizeof(key) - 1); p;
	     p = memmem(p + 1, (size_t)(end - p - 1), key, sizeof(key) - 1)) {
		long v = strtol(strchr(p, '}') + 1, NULL, 10);

		if (value >= 0 && v != value)
			return -1;
		value = v;
		seen++;
	}
	return seen == BIG_SAMPLES ? value : -1;
}

/*
 * Two large scrapes in flight at once: the first borrows the shared buffer while it trickles
 * out to a client with a tiny receive buffer, so the second must render elsewhere without
 * touching the first body.
 */
static void test_concurrent_scrapes(void)
{
	struct fake f = {.big = true};
	struct http_server *s = start_fake(&f);
	struct client c[2];
	bool ok = s != NULL;

	for (int i = 0; ok && i < 2; i++) {
		ok = client_open(&c[i], s, GET("/metrics"), 4096);
		CHECK(ok, "client %d cannot connect", i);
	}
	if (ok && drive(s, c, 2)) {
		long v0 = big_value(&c[0]), v1 = big_value(&c[1]);

		CHECK(c[0].status == 200 && c[1].status == 200, "statuses %d %d", c[0].status,
		      c[1].status);
		CHECK(v0 > 0 && v1 > 0 && v0 != v1,
		      "each body must be one consistent render (values %ld and %ld)", v0, v1);
		CHECK_EQ_INT(f.calls, 2, "renders for two scrapes");
		CHECK(f.writers[0] != f.writers[1],
		      "the second scrape must not get the writer whose buffer is still being sent");
	}
	for (int i = 0; ok && i < 2; i++)
		client_close(&c[i]);
	http_server__stop(s);
}

/* ---- lifecycle tests ---- */

static void test_address_in_use(void)
{
	struct fake f = {0};
	struct http_handlers h = {.metrics = fake_metrics, .ctx = &f};
	struct http_server *s = start_fake(&f), *s2;
	char err[256] = "", want[128];

	if (!s)
		return;
	CHECK(!strncmp(http_server__address(s), "127.0.0.1:", 10) &&
		  strcmp(http_server__address(s), "127.0.0.1:0"),
	      "bound address must show the real port, got %s", http_server__address(s));
	s2 = http_server__start(http_server__address(s), &h, err, sizeof(err));
	CHECK(s2 == NULL, "second start on %s must fail", http_server__address(s));
	snprintf(want, sizeof(want), "cannot listen on %s: Address already in use (",
		 http_server__address(s));
	CHECK(!strncmp(err, want, strlen(want)) && strstr(err, "choose another port with --listen"),
	      "expected \"%s...choose another port with --listen)\", got \"%s\"", want, err);
	http_server__stop(s2);
	http_server__stop(s);
}

static void test_start_bad_listen(void)
{
	struct http_handlers h = {0};
	char err[256] = "";
	struct http_server *s = http_server__start("example.com:9976", &h, err, sizeof(err));

	CHECK(s == NULL, "start with a host name must fail");
	CHECK(strstr(err, "invalid --listen value \"example.com:9976\""), "got \"%s\"", err);
	http_server__stop(s);
}

static void test_fd_readable(void)
{
	struct fake f = {0};
	struct http_server *s = start_fake(&f);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	struct client c;
	int ep, n = -1;

	if (!s)
		return;
	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, http_server__fd(s), &ev) == 0,
	      "http_server__fd() must be pollable");
	CHECK_EQ_INT(http_server__timeout_ms(s), -1, "timeout with no connections");
	if (client_open(&c, s, GET("/healthz"), 0)) {
		n = epoll_wait(ep, &out, 1, 2000);
		http_server__run(s);
		client_step(&c);
		CHECK(http_server__timeout_ms(s) >= 0 && http_server__timeout_ms(s) <= 10000,
		      "timeout with a connection open: %d", http_server__timeout_ms(s));
	}
	CHECK_EQ_INT(n, 1, "server fd readable after a client connected");
	client_close(&c);
	close(ep);
	http_server__stop(s);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void test_no_fd_leak(void)
{
	struct fake f = {0};
	int before = count_fds();
	struct http_server *s = start_fake(&f);
	struct client c;

	if (s && request(s, &c, GET("/metrics")))
		CHECK_EQ_INT(c.status, 200, "scrape before stop");
	if (s)
		client_close(&c);
	http_server__stop(s);
	CHECK_EQ_INT(count_fds(), before, "open descriptors after start, scrape and stop");
	http_server__stop(NULL);
}

/* ---- --web.telemetry-path ---- */

static void test_telemetry_path(void)
{
	static const struct {
		const char *path, *err;
	} cases[] = {
	    {"/custom/metrics", NULL},
	    {"/m", NULL},
	    {"metrics", "must start with /"},
	    {"/", "are taken"},
	    {"/healthz", "are taken"},
	    {"/a b", "only printable"},
	    {"/a?b", "only printable"},
	    {"/\x01", "only printable"},
	};
	struct fake f = {0};
	struct http_handlers h = {.metrics = fake_metrics, .health = fake_health, .ctx = &f};
	struct http_server_opts o = {.listen = "127.0.0.1:0", .metrics_path = "/custom/m"};
	char err[256] = "";
	struct http_server *s;
	struct client c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = http_server__check_path(cases[i].path, err, sizeof(err));

		CHECK(ret == (cases[i].err ? -EINVAL : 0), "\"%s\": expected %s, got %d (%s)",
		      cases[i].path, cases[i].err ? "-EINVAL" : "0", ret, err);
		CHECK(!cases[i].err || strstr(err, cases[i].err),
		      "\"%s\": expected an error with \"%s\", got \"%s\"", cases[i].path,
		      cases[i].err, err);
	}
	s = http_server__start_opts(&o, &h, err, sizeof(err));
	CHECK(s != NULL, "start with /custom/m failed: %s", err);
	if (!s)
		return;
	if (request(s, &c, GET("/custom/m")))
		CHECK(c.status == 200 && strstr(c.body, "t_events_total 7\n"),
		      "GET /custom/m: expected 200 with the metrics, got %d:\n%s", c.status,
		      c.body);
	client_close(&c);
	if (request(s, &c, GET("/metrics")))
		CHECK_EQ_INT(c.status, 404, "GET /metrics with --web.telemetry-path /custom/m");
	client_close(&c);
	if (request(s, &c, GET("/")))
		CHECK(strstr(c.body, "<a href=\"/custom/m\">/custom/m</a>") &&
			      !strstr(c.body, "\"/metrics\""),
		      "expected the index to link /custom/m only, got:\n%s", c.body);
	client_close(&c);
	http_server__stop(s);
}

/* ---- basic auth (plain HTTP here; tests/integration/test_web.py covers TLS) ---- */

#define HASH_PROM "$2y$04$/YM/NPL9V.1z2q305vWLcuYvYNPPgW7N4eWhXtWjpe1zDV.1RtgCy" /* secret */
#define GET_AUTH(path, cred)                                                                       \
	"GET " path " HTTP/1.1\r\nHost: t\r\nConnection: close\r\nAuthorization: " cred "\r\n\r\n"

static void test_basic_auth(void)
{
	static const struct {
		const char *what, *req;
		int status;
	} cases[] = {
	    {"no credentials", GET("/metrics"), 401},
	    {"no credentials on /healthz", GET("/healthz"), 401},
	    {"right password", GET_AUTH("/metrics", "Basic cHJvbTpzZWNyZXQ="), 200},
	    {"right password, healthz", GET_AUTH("/healthz", "Basic cHJvbTpzZWNyZXQ="), 200},
	    {"wrong password", GET_AUTH("/metrics", "Basic cHJvbTpzZWNyZXU="), 401},
	    {"unknown user", GET_AUTH("/metrics", "Basic bWFsbG9yeTpzZWNyZXQ="), 401},
	    {"no colon", GET_AUTH("/metrics", "Basic cHJvbXNlY3JldA=="), 401},
	    {"not base64", GET_AUTH("/metrics", "Basic %%%%"), 401},
	    {"another scheme", GET_AUTH("/metrics", "Bearer cHJvbTpzZWNyZXQ="), 401},
	};
	struct web_user users[] = {{"prom", HASH_PROM}};
	struct web_config wc = {.users = users, .n_users = 1};
	struct fake f = {0};
	struct http_handlers h = {.metrics = fake_metrics, .health = fake_health, .ctx = &f};
	struct http_server_opts o = {.listen = "127.0.0.1:0", .web = &wc};
	char err[256] = "";
	struct http_server *s = http_server__start_opts(&o, &h, err, sizeof(err));
	struct client c;

	CHECK(s != NULL, "start with basic auth failed: %s", err);
	for (size_t i = 0; s && i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (request(s, &c, cases[i].req)) {
			CHECK(c.status == cases[i].status, "%s: expected %d, got %d", cases[i].what,
			      cases[i].status, c.status);
			CHECK(c.status != 401 ||
				      has_header(&c, "\r\nWWW-Authenticate: Basic realm=\"tcpstate\""),
			      "%s: expected WWW-Authenticate in:\n%s", cases[i].what, c.resp);
			CHECK(c.status != 401 || !strstr(c.body, "t_sockets"),
			      "%s: expected no metrics in a 401", cases[i].what);
		}
		client_close(&c);
	}
	CHECK_EQ_INT(f.calls, 1, "metrics renders (only the authorized scrape)");
	http_server__stop(s);
}

TEST_MAIN("http_server", TL_CASE(test_parse_listen), TL_CASE(test_metrics_text),
	  TL_CASE(test_snapshot),
	  TL_CASE(test_metrics_openmetrics), TL_CASE(test_healthz), TL_CASE(test_keep_alive), TL_CASE(test_status_codes),
	  TL_CASE(test_metrics_error), TL_CASE(test_concurrent_scrapes),
	  TL_CASE(test_address_in_use), TL_CASE(test_start_bad_listen), TL_CASE(test_fd_readable),
	  TL_CASE(test_no_fd_leak), TL_CASE(test_telemetry_path), TL_CASE(test_basic_auth))
