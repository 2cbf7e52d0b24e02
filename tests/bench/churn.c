// SPDX-License-Identifier: GPL-2.0-only
/*
 * churn - TCP connection churn generator for tcpstate's benchmarks.
 *
 * One process runs an epoll server (non-blocking accept, --server-threads threads sharing one
 * listener with EPOLLEXCLUSIVE) and --threads client threads that loop connect -> close in the
 * pattern chosen by --close, for --duration seconds. At the end it prints one line of JSON on
 * stdout. Errors go to stderr as one line starting with "churn: ".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

#define NSEC_PER_SEC 1000000000LL
#define NSEC_PER_MSEC 1000000LL
#define CONNECT_TIMEOUT_MS 1000 /* a dropped SYN is retried after 1 s: count it as a timeout */
#define EOF_TIMEOUT_MS 1000	/* server-first: the server's FIN should come at once */
#define WAIT_SLICE_MS 100	/* longest sleep before looking at the stop flag again */
#define ACCEPT_BATCH 64
#define FD_SLACK 256 /* fds besides the never-mode pool: listener, epolls, in-flight */
#define MAX_THREADS 64
#define MAX_SOURCES 254

enum close_mode { CLOSE_CLIENT_FIRST, CLOSE_SERVER_FIRST, CLOSE_NEVER, CLOSE_RST };

static const char *const close_names[] = {
	[CLOSE_CLIENT_FIRST] = "client-first",
	[CLOSE_SERVER_FIRST] = "server-first",
	[CLOSE_NEVER] = "never",
	[CLOSE_RST] = "rst",
};

struct cfg {
	const char *addr;
	long port;
	double duration;
	long rate;
	long threads;
	long server_threads;
	enum close_mode close;
	long max_open; /* -1: not given */
	long sources;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	struct sockaddr_in src[MAX_SOURCES];
};

struct client_stats {
	uint64_t connections;
	uint64_t errors;
	uint64_t eaddrnotavail;
	uint64_t timeouts;
	uint64_t eof_timeouts;
};

struct client {
	pthread_t tid;
	const struct cfg *cfg;
	unsigned int id;
	unsigned int next_src;
	long long next_ns;     /* pacing: when the next connection is due */
	long long interval_ns; /* 0: as fast as possible */
	struct client_stats st;
};

struct server {
	pthread_t tid;
	const struct cfg *cfg;
	int lfd;
	int epfd;
	unsigned char *owned; /* owned[fd] != 0: this thread must close fd */
	int nofile;
	int *ring; /* never mode: accepted fds, oldest first */
	long ring_cap;
	long ring_head;
	long ring_len;
	uint64_t accepted;
	uint64_t evicted; /* never mode: oldest closed to stay under --max-open */
	uint64_t accept_errors;
};

static atomic_int clients_stop;
static atomic_int servers_stop;

static const char usage_text[] =
	"Usage: churn [OPTIONS]\n"
	"Generate TCP connection churn against an in-process server; print JSON at the end.\n"
	"\n"
	"Options:\n"
	"  --addr A             numeric IPv4/IPv6 address to listen on and connect to;\n"
	"                       default 127.0.0.1\n"
	"  --port P             port; 0 (default) = ephemeral\n"
	"  --duration S         run S seconds (fractions allowed), then stop; default 5\n"
	"  --rate R             connections per second over all client threads;\n"
	"                       0 (default) = as fast as possible\n"
	"  --threads T          client threads; default 1\n"
	"  --server-threads N   server threads (epoll, one shared listener); default 1\n"
	"  --close MODE         client-first (default): client closes at once, server\n"
	"                       closes on EOF: TIME_WAIT on the client side.\n"
	"                       server-first: server closes after accept, client closes\n"
	"                       on EOF: TIME_WAIT on the server side.\n"
	"                       never: client closes at once, the server keeps its\n"
	"                       sockets (CLOSE_WAIT) until --max-open are held, then\n"
	"                       closes the oldest.\n"
	"                       rst: client closes with SO_LINGER {1,0} (RST), server\n"
	"                       closes on the reset: no TIME_WAIT.\n"
	"  --max-open N         never mode: server sockets held at most; default 1000.\n"
	"                       RLIMIT_NOFILE is raised to fit\n"
	"  --sources K          bind clients round-robin to 127.0.0.1 .. 127.0.0.K\n"
	"                       (IP_BIND_ADDRESS_NO_PORT; IPv4 only); default 1 = no bind\n"
	"  -h, --help           show this help and exit\n"
	"\n"
	"Ephemeral ports: a client-side TIME_WAIT (client-first, and never, whose orphaned\n"
	"FIN_WAIT2 sockets also become timewait sockets) keeps its port for 60 s unless the\n"
	"kernel may reuse it (net.ipv4.tcp_tw_reuse, 2 = loopback only, after 1 s). When\n"
	"connect() finds no free port it fails with EADDRNOTAVAIL: churn counts it in\n"
	"\"errors\" and \"eaddrnotavail\", sleeps 1 ms and goes on. Each extra --sources\n"
	"address adds a full port range (net.ipv4.ip_local_port_range).\n"
	"\n"
	"Output, one line: {\"connections\": n, \"seconds\": s, \"conn_per_sec\": r,\n"
	"\"errors\": e, \"close\": \"MODE\", \"eaddrnotavail\": n, \"connect_timeouts\": n,\n"
	"\"eof_timeouts\": n, \"accepted\": n, \"evicted\": n, \"threads\": T,\n"
	"\"server_threads\": N, \"rate\": R, \"sources\": K, \"max_open\": N, \"port\": P}\n"
	"connections = connects that succeeded; errors = connects that failed, every cause\n"
	"(connect_timeouts: no handshake within 1 s, e.g. a SYN dropped by a full accept\n"
	"queue); accepted = server accepts, including the accept queue drained at the end;\n"
	"evicted = never mode closes of the oldest socket. seconds excludes the drain.\n"
	"SIGINT/SIGTERM stop early; the JSON line is still printed.\n"
	"Exit status: 0 success, 1 runtime error, 2 usage error.\n";

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("churn: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see churn --help)\n", stderr);
	exit(EXIT_USAGE);
}

static void log_err(const char *fmt, ...)
{
	va_list ap;

	fputs("churn: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_ns(long long ns)
{
	struct timespec ts = { .tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static bool stopping(void)
{
	return atomic_load_explicit(&clients_stop, memory_order_relaxed);
}

/* ---- client ---------------------------------------------------------------------------- */

/* Wait for @events on @fd for up to @timeout_ms, in slices so a stop is seen. 1 ready, 0 not. */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int rc, slice;

	while (timeout_ms > 0 && !stopping()) {
		slice = timeout_ms < WAIT_SLICE_MS ? timeout_ms : WAIT_SLICE_MS;
		rc = poll(&pfd, 1, slice);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return 1; /* let the caller's next syscall report the error */
		timeout_ms -= slice;
	}
	return 0;
}

/*
 * Open a socket connected to the server. Returns the fd, or -errno (-ETIMEDOUT when the
 * handshake did not finish within CONNECT_TIMEOUT_MS, -EINTR when stopping).
 */
static int client__connect(struct client *c)
{
	const struct cfg *cfg = c->cfg;
	int fd, one = 1, err = 0;
	socklen_t len = sizeof(err);

	fd = socket(cfg->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (cfg->sources > 1) {
		const struct sockaddr_in *src = &cfg->src[c->next_src++ % cfg->sources];

		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(fd, (const struct sockaddr *)src, sizeof(*src)))
			goto out_close_fd;
	}
	if (!connect(fd, (const struct sockaddr *)&cfg->dst, cfg->dst_len))
		return fd;
	if (errno != EINPROGRESS)
		goto out_close_fd;
	if (!wait_fd(fd, POLLOUT, CONNECT_TIMEOUT_MS)) {
		errno = stopping() ? EINTR : ETIMEDOUT;
		goto out_close_fd;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		goto out_close_fd;
	if (!err)
		return fd;
	errno = err;
out_close_fd:
	err = -errno;
	close(fd);
	return err;
}

/* Close a connected @fd the way --close asks of the client side. */
static void client__close(struct client *c, int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[64];

	switch (c->cfg->close) {
	case CLOSE_RST:
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	case CLOSE_SERVER_FIRST:
		/* The server never writes: the first readable event is its FIN (or a reset). */
		if (!wait_fd(fd, POLLIN | POLLRDHUP, EOF_TIMEOUT_MS) && !stopping())
			c->st.eof_timeouts++;
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		break;
	default:
		break;
	}
	close(fd);
}

/* Sleep until this thread's next connection is due (rate-limited runs only). */
static void client__pace(struct client *c)
{
	long long now, left;

	if (!c->interval_ns)
		return;
	c->next_ns += c->interval_ns;
	now = mono_ns();
	if (now - c->next_ns > NSEC_PER_SEC)
		c->next_ns = now; /* fell behind by a second: don't burst to catch up */
	while ((left = c->next_ns - now) > 0 && !stopping()) {
		sleep_ns(left < WAIT_SLICE_MS * NSEC_PER_MSEC ? left
							      : WAIT_SLICE_MS * NSEC_PER_MSEC);
		now = mono_ns();
	}
}

static void *client__run(void *arg)
{
	struct client *c = arg;
	int fd;

	c->next_ns = mono_ns() - c->interval_ns;
	while (!stopping()) {
		client__pace(c);
		if (stopping())
			break;
		fd = client__connect(c);
		if (fd >= 0) {
			c->st.connections++;
			client__close(c, fd);
			continue;
		}
		if (fd == -EINTR)
			break;
		c->st.errors++;
		if (fd == -ETIMEDOUT)
			c->st.timeouts++;
		if (fd == -EADDRNOTAVAIL) {
			/* Out of ephemeral ports: back off instead of spinning on connect(). */
			c->st.eaddrnotavail++;
			sleep_ns(NSEC_PER_MSEC);
		} else if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM) {
			sleep_ns(NSEC_PER_MSEC);
		}
	}
	return NULL;
}

/* ---- server ---------------------------------------------------------------------------- */

static void server__close(struct server *s, int fd)
{
	s->owned[fd] = 0;
	close(fd);
}

/* never mode: keep @fd; when --max-open are held already, close the oldest first. */
static void server__keep(struct server *s, int fd)
{
	if (s->ring_len == s->ring_cap) {
		server__close(s, s->ring[s->ring_head]);
		s->ring_head = (s->ring_head + 1) % s->ring_cap;
		s->ring_len--;
		s->evicted++;
	}
	s->ring[(s->ring_head + s->ring_len) % s->ring_cap] = fd;
	s->ring_len++;
}

/* True once the peer has closed or reset @fd; false while it would block. */
static bool peer_gone(int fd)
{
	char buf[64];
	ssize_t n;

	do {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	} while (n > 0);
	return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Handle one accepted @fd according to --close. */
static void server__handle(struct server *s, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.fd = fd };

	s->owned[fd] = 1;
	switch (s->cfg->close) {
	case CLOSE_SERVER_FIRST:
		server__close(s, fd);
		break;
	case CLOSE_NEVER:
		server__keep(s, fd);
		break;
	default:
		/* client-first, rst: the client has often closed already; else wait for it. */
		if (peer_gone(fd) || epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev))
			server__close(s, fd);
		break;
	}
}

/* Accept up to ACCEPT_BATCH connections. Returns how many were taken off the queue. */
static int server__accept_batch(struct server *s)
{
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			if (fd >= s->nofile) { /* cannot happen below RLIMIT_NOFILE; be safe */
				close(fd);
				continue;
			}
			s->accepted++;
			server__handle(s, fd);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return i;
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		s->accept_errors++;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			sleep_ns(NSEC_PER_MSEC);
		return i;
	}
	return i;
}

static void *server__run(void *arg)
{
	struct epoll_event evs[ACCEPT_BATCH];
	struct server *s = arg;
	int i, n;

	while (!atomic_load_explicit(&servers_stop, memory_order_relaxed)) {
		n = epoll_wait(s->epfd, evs, ACCEPT_BATCH, WAIT_SLICE_MS);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == s->lfd)
				server__accept_batch(s);
			else
				server__close(s, evs[i].data.fd); /* EOF or reset from the client */
		}
	}
	/*
	 * The clients have stopped: take what they left in the accept queue, so "accepted"
	 * matches "connections" and closing the listener does not reset queued connections.
	 */
	while (server__accept_batch(s) == ACCEPT_BATCH)
		;
	return NULL;
}

/* Set up server thread state @s on listener @lfd. Returns 0 or -errno (logged). */
static int server__init(struct server *s, const struct cfg *cfg, int lfd, int nofile)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = lfd };

	s->cfg = cfg;
	s->lfd = lfd;
	s->nofile = nofile;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, lfd, &ev)) {
		log_err("cannot set up epoll: %s", strerror(errno));
		return -errno;
	}
	s->owned = calloc(nofile, 1);
	if (cfg->close == CLOSE_NEVER) {
		s->ring_cap = cfg->max_open / cfg->server_threads;
		if (s->ring_cap < 1)
			s->ring_cap = 1;
		s->ring = calloc(s->ring_cap, sizeof(*s->ring));
	}
	if (!s->owned || (cfg->close == CLOSE_NEVER && !s->ring)) {
		log_err("out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Close every fd @s still owns and free its state. Accepts a zeroed @s. */
static void server__destroy(struct server *s)
{
	int fd;

	for (fd = 0; s->owned && fd < s->nofile; fd++)
		if (s->owned[fd])
			close(fd);
	if (s->epfd > 0)
		close(s->epfd);
	free(s->owned);
	free(s->ring);
}

/* ---- setup ----------------------------------------------------------------------------- */

/* Raise RLIMIT_NOFILE to fit the run. Returns the soft limit now in force, or -1 (logged). */
static int raise_nofile(const struct cfg *cfg)
{
	rlim_t need = FD_SLACK + 2 * cfg->threads + 2 * cfg->server_threads;
	struct rlimit rl;

	if (cfg->close == CLOSE_NEVER)
		need += cfg->max_open;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_max < need) {
		struct rlimit want = { .rlim_cur = need, .rlim_max = need };

		if (setrlimit(RLIMIT_NOFILE, &want)) {
			log_err("--max-open %ld needs %lu file descriptors; the RLIMIT_NOFILE hard "
				"limit is %lu and raising it failed: %s (needs CAP_SYS_RESOURCE), "
				"lower --max-open",
				cfg->max_open, (unsigned long)need, (unsigned long)rl.rlim_max,
				strerror(errno));
			return -1;
		}
		rl = want;
	}
	rl.rlim_cur = rl.rlim_max;
	if (rl.rlim_cur > INT32_MAX / 2)
		rl.rlim_cur = INT32_MAX / 2;
	if (setrlimit(RLIMIT_NOFILE, &rl)) {
		log_err("cannot raise RLIMIT_NOFILE to %lu: %s", (unsigned long)rl.rlim_cur,
			strerror(errno));
		return -1;
	}
	return (int)rl.rlim_cur;
}

/* Create the listener on cfg->dst; stores the real port back into cfg->dst. fd or -1. */
static int listener__open(struct cfg *cfg)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, one = 1;

	fd = socket(cfg->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_err("cannot create the listening socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&cfg->dst, cfg->dst_len) || listen(fd, SOMAXCONN) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		log_err("cannot listen on %s port %ld: %s", cfg->addr, cfg->port, strerror(errno));
		close(fd);
		return -1;
	}
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&cfg->dst)->sin_port = ((struct sockaddr_in *)&ss)->sin_port;
	else
		((struct sockaddr_in6 *)&cfg->dst)->sin6_port =
		    ((struct sockaddr_in6 *)&ss)->sin6_port;
	cfg->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* Wait @seconds, or less if SIGINT/SIGTERM comes (they are blocked in every thread). */
static void wait_duration(double seconds, const sigset_t *sigs)
{
	long long end = mono_ns() + (long long)(seconds * NSEC_PER_SEC), left;
	struct timespec ts;

	while ((left = end - mono_ns()) > 0) {
		ts.tv_sec = left / NSEC_PER_SEC;
		ts.tv_nsec = left % NSEC_PER_SEC;
		if (sigtimedwait(sigs, NULL, &ts) > 0)
			return;
	}
}

/* ---- options --------------------------------------------------------------------------- */

enum {
	OPT_ADDR = 256,
	OPT_PORT,
	OPT_DURATION,
	OPT_RATE,
	OPT_THREADS,
	OPT_SERVER_THREADS,
	OPT_CLOSE,
	OPT_MAX_OPEN,
	OPT_SOURCES,
};

static const struct option long_opts[] = {
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "server-threads", required_argument, NULL, OPT_SERVER_THREADS },
	{ "close", required_argument, NULL, OPT_CLOSE },
	{ "max-open", required_argument, NULL, OPT_MAX_OPEN },
	{ "sources", required_argument, NULL, OPT_SOURCES },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static long parse_num(const char *name, const char *arg, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		die_usage("%s expects an integer in [%ld, %ld], got '%s'", name, min, max, arg);
	return v;
}

static double parse_seconds(const char *name, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v > 0 && v <= 86400))
		die_usage("%s expects seconds in (0, 86400], got '%s'", name, arg);
	return v;
}

static enum close_mode parse_close(const char *arg)
{
	unsigned int i;

	for (i = 0; i < sizeof(close_names) / sizeof(close_names[0]); i++)
		if (!strcmp(arg, close_names[i]))
			return i;
	die_usage("--close expects client-first, server-first, never or rst, got '%s'", arg);
	return 0;
}

static void parse_one(struct cfg *cfg, int opt, const char *arg)
{
	switch (opt) {
	case OPT_ADDR:
		cfg->addr = arg;
		break;
	case OPT_PORT:
		cfg->port = parse_num("--port", arg, 0, 65535);
		break;
	case OPT_DURATION:
		cfg->duration = parse_seconds("--duration", arg);
		break;
	case OPT_RATE:
		cfg->rate = parse_num("--rate", arg, 0, 10000000);
		break;
	case OPT_THREADS:
		cfg->threads = parse_num("--threads", arg, 1, MAX_THREADS);
		break;
	case OPT_SERVER_THREADS:
		cfg->server_threads = parse_num("--server-threads", arg, 1, MAX_THREADS);
		break;
	case OPT_CLOSE:
		cfg->close = parse_close(arg);
		break;
	case OPT_MAX_OPEN:
		cfg->max_open = parse_num("--max-open", arg, 1, 10000000);
		break;
	case OPT_SOURCES:
		cfg->sources = parse_num("--sources", arg, 1, MAX_SOURCES);
		break;
	}
}

/* Resolve --addr and the --sources addresses into @cfg. */
static void resolve(struct cfg *cfg)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	long i;

	if (getaddrinfo(cfg->addr, NULL, &hints, &res))
		die_usage("--addr expects a numeric IPv4 or IPv6 address, got '%s'", cfg->addr);
	memcpy(&cfg->dst, res->ai_addr, res->ai_addrlen);
	cfg->dst_len = res->ai_addrlen;
	freeaddrinfo(res);
	if (cfg->dst.ss_family == AF_INET)
		((struct sockaddr_in *)&cfg->dst)->sin_port = htons(cfg->port);
	else
		((struct sockaddr_in6 *)&cfg->dst)->sin6_port = htons(cfg->port);
	if (cfg->sources > 1 && cfg->dst.ss_family != AF_INET)
		die_usage("--sources %ld needs an IPv4 --addr", cfg->sources);
	for (i = 0; i < cfg->sources; i++) {
		cfg->src[i].sin_family = AF_INET;
		cfg->src[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK + i);
	}
}

static void parse_args(struct cfg *cfg, int argc, char **argv)
{
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (opt == '?')
			die_usage("unknown option '%s'", argv[optind - 1]);
		if (opt == ':')
			die_usage("option '%s' needs a value", argv[optind - 1]);
		parse_one(cfg, opt, optarg);
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (cfg->max_open >= 0 && cfg->close != CLOSE_NEVER)
		die_usage("--max-open only applies to --close never");
	if (cfg->max_open < 0)
		cfg->max_open = 1000;
	if (cfg->server_threads > cfg->max_open && cfg->close == CLOSE_NEVER)
		die_usage("--server-threads %ld exceeds --max-open %ld", cfg->server_threads,
			  cfg->max_open);
	resolve(cfg);
}

/* ---- main ------------------------------------------------------------------------------ */

static void print_result(const struct cfg *cfg, const struct client *clients,
			 const struct server *servers, double seconds)
{
	struct client_stats t = { 0 };
	uint64_t accepted = 0, evicted = 0;
	long i;

	for (i = 0; i < cfg->threads; i++) {
		t.connections += clients[i].st.connections;
		t.errors += clients[i].st.errors;
		t.eaddrnotavail += clients[i].st.eaddrnotavail;
		t.timeouts += clients[i].st.timeouts;
		t.eof_timeouts += clients[i].st.eof_timeouts;
	}
	for (i = 0; i < cfg->server_threads; i++) {
		accepted += servers[i].accepted;
		evicted += servers[i].evicted;
	}
	printf("{\"connections\": %lu, \"seconds\": %.3f, \"conn_per_sec\": %.1f, \"errors\": %lu, "
	       "\"close\": \"%s\", \"eaddrnotavail\": %lu, \"connect_timeouts\": %lu, "
	       "\"eof_timeouts\": %lu, \"accepted\": %lu, \"evicted\": %lu, \"threads\": %ld, "
	       "\"server_threads\": %ld, \"rate\": %ld, \"sources\": %ld, \"max_open\": %ld, "
	       "\"port\": %ld}\n",
	       (unsigned long)t.connections, seconds, seconds > 0 ? t.connections / seconds : 0.0,
	       (unsigned long)t.errors, close_names[cfg->close], (unsigned long)t.eaddrnotavail,
	       (unsigned long)t.timeouts, (unsigned long)t.eof_timeouts, (unsigned long)accepted,
	       (unsigned long)evicted, cfg->threads, cfg->server_threads, cfg->rate, cfg->sources,
	       cfg->close == CLOSE_NEVER ? cfg->max_open : 0, cfg->port);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct cfg cfg = {
		.addr = "127.0.0.1",
		.duration = 5,
		.threads = 1,
		.server_threads = 1,
		.max_open = -1,
		.sources = 1,
	};
	struct client *clients = NULL;
	struct server *servers = NULL;
	long nclients = 0, nservers = 0, i;
	int lfd, nofile, err = 0, ret = EXIT_RUNTIME;
	long long t0 = 0, t1;
	sigset_t sigs;

	parse_args(&cfg, argc, argv);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* threads inherit it; main takes them */
	signal(SIGPIPE, SIG_IGN);
	nofile = raise_nofile(&cfg);
	if (nofile < 0)
		return EXIT_RUNTIME;
	lfd = listener__open(&cfg);
	if (lfd < 0)
		return EXIT_RUNTIME;
	clients = calloc(cfg.threads, sizeof(*clients));
	servers = calloc(cfg.server_threads, sizeof(*servers));
	if (!clients || !servers) {
		log_err("out of memory");
		goto out_free;
	}
	for (i = 0; i < cfg.server_threads; i++)
		if (server__init(&servers[i], &cfg, lfd, nofile))
			goto out_free;
	for (i = 0; i < cfg.threads; i++) {
		clients[i].cfg = &cfg;
		clients[i].id = i;
		clients[i].next_src = i;
		if (cfg.rate)
			clients[i].interval_ns = NSEC_PER_SEC * cfg.threads / cfg.rate;
	}
	for (; nservers < cfg.server_threads; nservers++) {
		err = pthread_create(&servers[nservers].tid, NULL, server__run, &servers[nservers]);
		if (err)
			goto out_stop;
	}
	t0 = mono_ns();
	for (; nclients < cfg.threads; nclients++) {
		err = pthread_create(&clients[nclients].tid, NULL, client__run, &clients[nclients]);
		if (err)
			goto out_stop;
	}
	wait_duration(cfg.duration, &sigs);
	ret = 0;
out_stop:
	if (err)
		log_err("cannot start a thread: %s", strerror(err));
	atomic_store(&clients_stop, 1);
	for (i = 0; i < nclients; i++)
		pthread_join(clients[i].tid, NULL);
	t1 = mono_ns();
	atomic_store(&servers_stop, 1);
	for (i = 0; i < nservers; i++)
		pthread_join(servers[i].tid, NULL);
	if (!ret)
		print_result(&cfg, clients, servers, (t1 - t0) / (double)NSEC_PER_SEC);
out_free:
	for (i = 0; servers && i < cfg.server_threads; i++)
		server__destroy(&servers[i]);
	close(lfd);
	free(servers);
	free(clients);
	return ret;
}
