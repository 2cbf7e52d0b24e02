// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpwork - deterministic TCP workloads for tcpstate's integration tests.
 *
 * Each subcommand drives real sockets in a known pattern and prints one machine-readable line per
 * step on stdout, flushed at once, so a test can follow it line by line. Errors go to stderr as
 * one line starting with "tcpwork: ". Waits that depend on a peer are bounded by --timeout; holds
 * last --hold-ms, or until SIGTERM/SIGINT where documented. See usage() for the formats.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define EXIT_TIMEOUT 3

#define MAX_COUNT 100000
#define MAX_MS 86400000L
#define ADDR_STRLEN (INET6_ADDRSTRLEN + 16)

enum cmd { CMD_SERVER, CMD_CLIENT, CMD_LEAK, CMD_TIMEWAIT, CMD__COUNT };
enum accept_mode { ACCEPT_ALL, ACCEPT_NONE, ACCEPT_SLOW };
enum close_mode { CLOSE_CLIENT_FIRST, CLOSE_SERVER_FIRST, CLOSE_NEVER, CLOSE_RST };

struct opts {
	enum cmd cmd;
	const char *addr;
	long port; /* -1: not given */
	long backlog;
	enum accept_mode accept;
	long accept_delay_ms; /* -1: not given */
	enum close_mode close;
	long count;   /* -1: not given */
	long hold_ms; /* -1: not given */
	long interval_ms;
	const char *bind_addr;
	long connect_timeout_ms;
	long timeout_ms;
};

struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
};

static const char *const cmd_names[CMD__COUNT] = {
	[CMD_SERVER] = "server",
	[CMD_CLIENT] = "client",
	[CMD_LEAK] = "leak-close-wait",
	[CMD_TIMEWAIT] = "time-wait",
};

static const char *const close_names[] = {
	[CLOSE_CLIENT_FIRST] = "client-first",
	[CLOSE_SERVER_FIRST] = "server-first",
	[CLOSE_NEVER] = "never",
	[CLOSE_RST] = "rst",
};

static volatile sig_atomic_t stop_signal;
static sigset_t wait_mask; /* signal mask used while waiting: SIGINT/SIGTERM unblocked */

static const char usage_text[] =
	"Usage: tcpwork COMMAND [OPTIONS]\n"
	"Deterministic TCP workloads for tcpstate's integration tests.\n"
	"\n"
	"Commands:\n"
	"  server           listen, accept and close connections as told\n"
	"  client           open --count connections one after another\n"
	"  leak-close-wait  leave --count accepted sockets of this pid in CLOSE_WAIT\n"
	"  time-wait        leave --count client sockets of this pid in TIME_WAIT, exit\n"
	"\n"
	"Options (the commands each one applies to in brackets):\n"
	"  --addr A         numeric IPv4 or IPv6 address (\"::1\" or \"[::1]\") to listen\n"
	"                   on or connect to; default 127.0.0.1 [all]\n"
	"  --port P         port; 0 = ephemeral (READY prints the real one); default 0,\n"
	"                   required by client [all]\n"
	"  --count N        connections to handle or open; default 1, required by\n"
	"                   leak-close-wait and time-wait [all]\n"
	"  --timeout S      seconds any single wait on the peer may take (accept, EOF);\n"
	"                   default 20 [all]\n"
	"  --backlog N      listen() backlog; default 128 [server]\n"
	"  --accept MODE    none: never accept (connections stay in the accept queue);\n"
	"                   all: accept at once; slow: wait --accept-delay-ms before\n"
	"                   each accept, the first counted from the first connection's\n"
	"                   arrival; default all [server]\n"
	"  --accept-delay-ms D\n"
	"                   delay before each accept of --accept slow; default 100\n"
	"                   [server]\n"
	"  --close MODE     server: client-first = wait for EOF, then close;\n"
	"                   server-first = close after accept; never = keep the fd and\n"
	"                   never read (CLOSE_WAIT once the peer closes).\n"
	"                   client: client-first = close at once (TIME_WAIT here);\n"
	"                   server-first = wait for the server's EOF, then close;\n"
	"                   rst = SO_LINGER {1,0}, then close (sends RST).\n"
	"                   Default client-first [server, client]\n"
	"  --hold-ms H      server client-first/server-first: keep each connection at\n"
	"                   least H ms after accept. server never: after --count\n"
	"                   accepts, hold all fds H ms. server --accept none: hold the\n"
	"                   listener H ms. client: close each connection H ms after its\n"
	"                   connect (connections then overlap). leak-close-wait: hold\n"
	"                   the leaked fds H ms. Without it, the holds of server never,\n"
	"                   server --accept none and leak-close-wait last until\n"
	"                   SIGTERM/SIGINT [server, client, leak-close-wait]\n"
	"  --interval-ms I  pause between connection attempts; default 0 [client]\n"
	"  --bind ADDR      bind client sockets to source address ADDR, port 0 [client]\n"
	"  --connect-timeout-ms T\n"
	"                   give up a connect after T ms (non-blocking connect + poll);\n"
	"                   default 3000 [client, leak-close-wait, time-wait]\n"
	"  -h, --help       show this help and exit\n"
	"\n"
	"client without --hold-ms is strictly sequential: connection k+1 starts after\n"
	"connection k is closed (plus --interval-ms).\n"
	"\n"
	"Output (stdout, one flushed line per event; a:p is 1.2.3.4:80 or [::1]:80):\n"
	"  READY pid=<pid> port=<port>             listening (server, leak-close-wait,\n"
	"                                          time-wait)\n"
	"  ACCEPTED n=<k> local=<a:p> peer=<a:p>   k-th accept (server, leak-close-wait)\n"
	"  CONNECTED n=<k> local=<a:p> peer=<a:p>  k-th connect (client, time-wait)\n"
	"  CONNECT_FAILED n=<k> errno=<NAME>       k-th connect failed (ECONNREFUSED,\n"
	"                                          ETIMEDOUT, ...); client goes on\n"
	"  CLOSED n=<k>                            this process closed connection k\n"
	"                                          (server, client)\n"
	"  TIMEOUT step=<accept|eof> n=<k>         a wait on the peer passed --timeout\n"
	"  LEAKED n=<N>                            all N accepted sockets in CLOSE_WAIT\n"
	"  DONE n=<handled>                        server, leak-close-wait: finished\n"
	"  DONE n=<k> connected=<c> failed=<f> pid=<pid>\n"
	"                                          client: finished\n"
	"  DONE n=<M> pid=<pid>                    time-wait: M sockets of <pid> are in\n"
	"                                          TIME_WAIT\n"
	"SIGTERM/SIGINT end any command early with its DONE line and exit status 0.\n"
	"\n"
	"time-wait closes first with shutdown(SHUT_WR), waits for the server's FIN\n"
	"(recv() == 0: the socket is now in TIME_WAIT), then close()s the fd.\n"
	"leak-close-wait's clients and time-wait's server run in a forked child (same\n"
	"comm \"tcpwork\"); READY's pid owns the listener and the sockets of interest.\n"
	"\n"
	"Exit status: 0 success, 1 runtime error, 2 usage error, 3 timeout (server,\n"
	"leak-close-wait). client exits 0 unless a usage error.\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpwork: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see tcpwork --help)\n", stderr);
	exit(EXIT_USAGE);
}

static void log_err(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpwork: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Print one protocol line on stdout and flush it, so a reader sees it at once. */
static void emit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "EUNKNOWN";
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * SIGINT/SIGTERM stay blocked except inside ppoll(), so a signal can never slip in between
 * checking stop_signal and going to sleep.
 */
static void signals__install(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
}

/*
 * Wait on @fds until one is ready, @deadline (monotonic ms, -1 = none) passes or a stop signal
 * arrives. Returns the ppoll() result: >0 ready, 0 deadline passed, -1 with errno (EINTR when
 * stop_signal is set).
 */
static int wait_fds(struct pollfd *fds, nfds_t nfds, long long deadline)
{
	struct timespec ts, *tsp = NULL;
	long long left;
	int rc;

	for (;;) {
		if (stop_signal) {
			errno = EINTR;
			return -1;
		}
		if (deadline >= 0) {
			left = deadline - now_ms();
			if (left <= 0)
				return 0;
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			tsp = &ts;
		}
		rc = ppoll(fds, nfds, tsp, &wait_mask);
		if (rc >= 0 || errno != EINTR)
			return rc;
	}
}

/* Sleep until @deadline (-1 = forever) or a stop signal. Returns true if the deadline came. */
static bool hold_until(long long deadline)
{
	return wait_fds(NULL, 0, deadline) == 0;
}

/* Parse @addr (numeric IPv4/IPv6, optionally in brackets) and @port into @ep. 0 or -EINVAL. */
static int endpoint__parse(struct endpoint *ep, const char *addr, long port)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	char host[256];
	size_t len = strlen(addr);

	if (len >= sizeof(host))
		return -EINVAL;
	if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') {
		memcpy(host, addr + 1, len - 2);
		host[len - 2] = '\0';
	} else {
		memcpy(host, addr, len + 1);
	}
	if (getaddrinfo(host, NULL, &hints, &res))
		return -EINVAL;
	memset(ep, 0, sizeof(*ep));
	memcpy(&ep->ss, res->ai_addr, res->ai_addrlen);
	ep->len = res->ai_addrlen;
	freeaddrinfo(res);
	if (ep->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ep->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ep->ss)->sin6_port = htons(port);
	return 0;
}

/* Format @ss as "1.2.3.4:80" or "[::1]:80" into @buf (ADDR_STRLEN bytes); returns @buf. */
static const char *sockaddr__fmt(const struct sockaddr_storage *ss, char *buf)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, ADDR_STRLEN, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, ADDR_STRLEN, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, ADDR_STRLEN, "?");
	}
	return buf;
}

static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Emit "<tag> n=<n> local=<a:p> peer=<a:p>"; @peer is known by the caller (no getpeername). */
static void emit_conn(const char *tag, int n, int fd, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage local = { 0 };
	socklen_t len = sizeof(local);
	char l[ADDR_STRLEN], p[ADDR_STRLEN];

	getsockname(fd, (struct sockaddr *)&local, &len);
	emit("%s n=%d local=%s peer=%s", tag, n, sockaddr__fmt(&local, l), sockaddr__fmt(peer, p));
}

/*
 * Create a non-blocking listener on @ep. Stores the bound port in *@port. Returns the fd or
 * -errno after logging what failed.
 */
static int listener__open(const struct endpoint *ep, int backlog, int *port)
{
	char buf[ADDR_STRLEN];
	int fd, one = 1, err;

	fd = socket(ep->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		log_err("cannot create listening socket: %s", strerror(errno));
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&ep->ss, ep->len) || listen(fd, backlog)) {
		err = -errno;
		log_err("cannot listen on %s: %s", sockaddr__fmt(&ep->ss, buf), strerror(errno));
		close(fd);
		return err;
	}
	*port = local_port(fd);
	return fd;
}

/*
 * Connect a new socket to @dst within @timeout_ms, bound first to @src if not NULL. Returns the
 * connected (non-blocking) fd, or -errno: -ETIMEDOUT when the time ran out, -EINTR on a stop
 * signal.
 */
static int connect_to(const struct endpoint *dst, const struct endpoint *src, long timeout_ms)
{
	struct pollfd pfd = { .events = POLLOUT };
	socklen_t len = sizeof(int);
	int fd, err = 0, rc;

	fd = socket(dst->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (src && bind(fd, (const struct sockaddr *)&src->ss, src->len))
		goto out_close_fd;
	if (!connect(fd, (const struct sockaddr *)&dst->ss, dst->len))
		return fd;
	if (errno != EINPROGRESS)
		goto out_close_fd;
	pfd.fd = fd;
	rc = wait_fds(&pfd, 1, now_ms() + timeout_ms);
	if (rc < 0)
		goto out_close_fd;
	if (rc == 0) {
		errno = ETIMEDOUT;
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

/*
 * Drain what is readable on @fd. Returns 1 when the peer's FIN (or an error such as a reset)
 * has been seen, 0 when the connection is still open.
 */
static int drain_to_eof(int fd)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0)
			return 1;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
	}
}

/* Wait until the peer's FIN arrives on @fd or @deadline passes. 1 EOF, 0 timeout, -1 signal. */
static int wait_eof(int fd, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };
	int rc;

	for (;;) {
		if (drain_to_eof(fd))
			return 1;
		rc = wait_fds(&pfd, 1, deadline);
		if (rc <= 0)
			return rc;
	}
}

/* Reap @pid within @timeout_ms (SIGKILL after that). Returns its exit status or -1. */
static int child__reap(pid_t pid, long timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() >= deadline || stop_signal) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		usleep(10000);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- server ---------------------------------------------------------------------------- */

struct srv_conn {
	int fd;			/* -1 once closed */
	bool eof;		/* client-first: peer's FIN seen */
	long long close_at;	/* earliest close (accept + hold) */
	long long eof_deadline; /* client-first: give up waiting for EOF */
};

struct server {
	const struct opts *o;
	int lfd;
	struct srv_conn *conns;
	int accepted;
	int handled;
	long long accept_at;	   /* next accept not before (slow mode) */
	long long accept_deadline; /* next connection must arrive by then */
};

static void server__close_conn(struct server *s, int i)
{
	close(s->conns[i].fd);
	s->conns[i].fd = -1;
	s->handled++;
	emit("CLOSED n=%d", i + 1);
}

/* Accept one connection. Returns 0, or -1 after a fatal error. */
static int server__accept(struct server *s)
{
	const struct opts *o = s->o;
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	struct srv_conn *c;
	long long now;
	int fd;

	fd = accept4(s->lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return 0;
		log_err("accept failed: %s", strerror(errno));
		return -1;
	}
	now = now_ms();
	c = &s->conns[s->accepted++];
	c->fd = fd;
	c->close_at = now + (o->hold_ms > 0 ? o->hold_ms : 0);
	c->eof_deadline = now + o->timeout_ms;
	emit_conn("ACCEPTED", s->accepted, fd, &peer);
	if (o->accept == ACCEPT_SLOW)
		s->accept_at = now + o->accept_delay_ms;
	s->accept_deadline = (o->accept == ACCEPT_SLOW ? s->accept_at : now) + o->timeout_ms;
	return 0;
}

/* Close the connections that are due. Returns 0, or -1 after printing TIMEOUT. */
static int server__close_due(struct server *s, long long now)
{
	enum close_mode mode = s->o->close;
	int i;

	for (i = 0; i < s->accepted; i++) {
		struct srv_conn *c = &s->conns[i];

		if (c->fd < 0 || mode == CLOSE_NEVER)
			continue;
		if (mode == CLOSE_CLIENT_FIRST && !c->eof && now >= c->eof_deadline) {
			emit("TIMEOUT step=eof n=%d", i + 1);
			return -1;
		}
		if (now >= c->close_at && (mode == CLOSE_SERVER_FIRST || c->eof))
			server__close_conn(s, i);
	}
	return 0;
}

static bool server__accepting(const struct server *s)
{
	return s->o->accept != ACCEPT_NONE && s->accepted < s->o->count;
}

static bool server__finished(const struct server *s)
{
	if (s->o->close == CLOSE_NEVER)
		return s->accepted == s->o->count;
	return s->handled == s->o->count;
}

static long long min_deadline(long long a, long long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/*
 * One round of the server loop: wait for the listener and for EOF on client-first connections,
 * up to the nearest timer, then act. Returns 0 to go on, 1 when finished, -EXIT code to stop.
 */
static int server__step(struct server *s, struct pollfd *pfds, int *idx)
{
	long long now = now_ms(), deadline = -1;
	nfds_t n = 0;
	int i, rc;

	if (server__close_due(s, now))
		return -EXIT_TIMEOUT;
	if (server__finished(s))
		return 1;
	if (server__accepting(s)) {
		if (now >= s->accept_deadline) {
			emit("TIMEOUT step=accept n=%d", s->accepted);
			return -EXIT_TIMEOUT;
		}
		deadline = s->accept_deadline;
		if (now >= s->accept_at) {
			pfds[n].fd = s->lfd;
			pfds[n].events = POLLIN;
			idx[n++] = -1;
		} else {
			deadline = min_deadline(deadline, s->accept_at);
		}
	}
	for (i = 0; i < s->accepted; i++) {
		struct srv_conn *c = &s->conns[i];

		if (c->fd < 0 || s->o->close == CLOSE_NEVER)
			continue;
		if (s->o->close != CLOSE_CLIENT_FIRST || c->eof) {
			/* only the hold is left: wake up when it ends */
			deadline = min_deadline(deadline, c->close_at);
			continue;
		}
		deadline = min_deadline(deadline, c->eof_deadline);
		pfds[n].fd = c->fd;
		pfds[n].events = POLLIN | POLLRDHUP;
		idx[n++] = i;
	}
	rc = wait_fds(pfds, n, deadline);
	if (rc < 0)
		return errno == EINTR ? 1 : -EXIT_RUNTIME;
	for (i = 0; i < (int)n; i++) {
		if (!pfds[i].revents)
			continue;
		if (idx[i] < 0 && server__accept(s))
			return -EXIT_RUNTIME;
		if (idx[i] >= 0 && drain_to_eof(s->conns[idx[i]].fd))
			s->conns[idx[i]].eof = true;
	}
	return 0;
}

static int cmd_server(const struct opts *o, const struct endpoint *ep)
{
	struct server s = { .o = o };
	struct pollfd *pfds;
	int *idx, port, rc, i, ret = 0;
	long long now;

	s.conns = calloc(o->count, sizeof(*s.conns));
	pfds = calloc(o->count + 1, sizeof(*pfds));
	idx = calloc(o->count + 1, sizeof(*idx));
	if (!s.conns || !pfds || !idx) {
		log_err("out of memory for %ld connections", o->count);
		ret = EXIT_RUNTIME;
		goto out_free;
	}
	s.lfd = listener__open(ep, o->backlog, &port);
	if (s.lfd < 0) {
		ret = EXIT_RUNTIME;
		goto out_free;
	}
	emit("READY pid=%d port=%d", getpid(), port);
	if (o->accept == ACCEPT_SLOW) {
		/* the delays measure how long connections wait: start when the first one does */
		struct pollfd first = { .fd = s.lfd, .events = POLLIN };

		poll(&first, 1, (int)o->timeout_ms);
	}
	now = now_ms();
	s.accept_at = now + (o->accept == ACCEPT_SLOW ? o->accept_delay_ms : 0);
	s.accept_deadline = s.accept_at + o->timeout_ms;
	if (o->accept == ACCEPT_NONE) {
		hold_until(o->hold_ms >= 0 ? now + o->hold_ms : -1);
		goto out_done;
	}
	while (!(rc = server__step(&s, pfds, idx)))
		;
	if (rc < 0) {
		ret = -rc;
		goto out_close;
	}
	if (o->close == CLOSE_NEVER && !stop_signal) {
		close(s.lfd);
		s.lfd = -1;
		hold_until(o->hold_ms >= 0 ? now_ms() + o->hold_ms : -1);
	}
out_done:
	emit("DONE n=%d", o->close == CLOSE_NEVER ? s.accepted : s.handled);
out_close:
	for (i = 0; i < s.accepted; i++)
		if (s.conns[i].fd >= 0)
			close(s.conns[i].fd);
	if (s.lfd >= 0)
		close(s.lfd);
out_free:
	free(idx);
	free(pfds);
	free(s.conns);
	return ret;
}

/* ---- client ---------------------------------------------------------------------------- */

enum cli_state { CLI_HOLD, CLI_WAIT_EOF, CLI_CLOSED };

struct cli_conn {
	int fd;
	enum cli_state state;
	long long close_at;
	long long eof_deadline;
};

struct client {
	const struct opts *o;
	const struct endpoint *dst;
	const struct endpoint *src;
	struct cli_conn *conns;
	int started; /* connection attempts made */
	int open;    /* connections not yet closed */
	int connected;
	int failed;
	long long next_start;
};

static void client__close_conn(struct client *c, int i)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct cli_conn *cc = &c->conns[i];

	if (c->o->close == CLOSE_RST)
		setsockopt(cc->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cc->fd);
	cc->fd = -1;
	cc->state = CLI_CLOSED;
	c->open--;
	emit("CLOSED n=%d", i + 1);
	/* Sequential mode: the next attempt waits for this close. */
	if (c->o->hold_ms <= 0)
		c->next_start = now_ms() + c->o->interval_ms;
}

/* Move held connections on when their hold ends; give up EOF waits past --timeout. */
static void client__advance(struct client *c, long long now)
{
	int i;

	for (i = 0; i < c->started; i++) {
		struct cli_conn *cc = &c->conns[i];

		if (cc->state == CLI_HOLD && now >= cc->close_at) {
			if (c->o->close != CLOSE_SERVER_FIRST) {
				client__close_conn(c, i);
				continue;
			}
			cc->state = CLI_WAIT_EOF;
			cc->eof_deadline = now + c->o->timeout_ms;
		}
		if (cc->state != CLI_WAIT_EOF)
			continue;
		if (drain_to_eof(cc->fd)) {
			client__close_conn(c, i);
		} else if (now >= cc->eof_deadline) {
			emit("TIMEOUT step=eof n=%d", i + 1);
			client__close_conn(c, i);
		}
	}
}

/* Make the next connection attempt. Returns -1 if a stop signal interrupted it. */
static int client__start(struct client *c)
{
	const struct opts *o = c->o;
	struct cli_conn *cc = &c->conns[c->started++];
	int fd;

	fd = connect_to(c->dst, c->src, o->connect_timeout_ms);
	if (fd == -EINTR && stop_signal)
		return -1;
	cc->fd = fd;
	if (fd < 0) {
		cc->state = CLI_CLOSED;
		c->failed++;
		emit("CONNECT_FAILED n=%d errno=%s", c->started, errno_name(-fd));
		c->next_start = now_ms() + o->interval_ms;
		return 0;
	}
	c->connected++;
	c->open++;
	emit_conn("CONNECTED", c->started, fd, &c->dst->ss);
	cc->state = CLI_HOLD;
	cc->close_at = now_ms() + (o->hold_ms > 0 ? o->hold_ms : 0);
	if (o->hold_ms > 0)
		c->next_start = now_ms() + o->interval_ms;
	else
		c->next_start = LLONG_MAX; /* set when this one closes */
	return 0;
}

/* Sleep until the next timer, an EOF on a waiting connection, or a signal. */
static void client__wait(struct client *c, struct pollfd *pfds, long long now)
{
	long long deadline = -1;
	nfds_t n = 0;
	int i;

	if (c->started < c->o->count && c->next_start != LLONG_MAX)
		deadline = c->next_start;
	for (i = 0; i < c->started; i++) {
		struct cli_conn *cc = &c->conns[i];

		if (cc->state == CLI_HOLD)
			deadline = min_deadline(deadline, cc->close_at);
		if (cc->state != CLI_WAIT_EOF)
			continue;
		deadline = min_deadline(deadline, cc->eof_deadline);
		pfds[n].fd = cc->fd;
		pfds[n++].events = POLLIN | POLLRDHUP;
	}
	if (deadline >= 0 && deadline <= now)
		return;
	wait_fds(pfds, n, deadline);
}

static int cmd_client(const struct opts *o, const struct endpoint *dst, const struct endpoint *src)
{
	struct client c = { .o = o, .dst = dst, .src = src };
	struct pollfd *pfds;
	long long now;
	int i;

	c.conns = calloc(o->count, sizeof(*c.conns));
	pfds = calloc(o->count, sizeof(*pfds));
	if (!c.conns || !pfds) {
		log_err("out of memory for %ld connections", o->count);
		free(c.conns);
		free(pfds);
		return EXIT_RUNTIME;
	}
	c.next_start = now_ms();
	while (!stop_signal) {
		now = now_ms();
		client__advance(&c, now);
		if (c.started == o->count && !c.open)
			break;
		if (c.started < o->count && now >= c.next_start) {
			if (client__start(&c))
				break;
			continue;
		}
		client__wait(&c, pfds, now);
	}
	for (i = 0; i < c.started; i++)
		if (c.conns[i].state != CLI_CLOSED)
			close(c.conns[i].fd);
	emit("DONE n=%d connected=%d failed=%d pid=%d", c.started, c.connected, c.failed, getpid());
	free(pfds);
	free(c.conns);
	return 0;
}

/* ---- leak-close-wait ------------------------------------------------------------------- */

/* Child of leak-close-wait: connect @count times, close every client end, exit. */
static void leak__child(const struct opts *o, const struct endpoint *dst)
{
	int *fds = calloc(o->count, sizeof(*fds));
	int i, fd, ret = 0;

	if (!fds)
		_exit(EXIT_RUNTIME);
	for (i = 0; i < o->count; i++) {
		fd = connect_to(dst, NULL, o->connect_timeout_ms);
		if (fd < 0) {
			log_err("leak-close-wait child: connect %d failed: %s", i + 1,
				strerror(-fd));
			ret = EXIT_RUNTIME;
			break;
		}
		fds[i] = fd;
	}
	while (i-- > 0)
		close(fds[i]);
	_exit(ret);
}

/* Check whether @pid died with an error. Returns true (after logging) if it did. */
static bool child__failed(pid_t pid, bool *reaped)
{
	int status;

	if (*reaped || waitpid(pid, &status, WNOHANG) != pid)
		return false;
	*reaped = true;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return false;
	log_err("client child %d failed (status 0x%x)", pid, status);
	return true;
}

/*
 * Accept @o->count connections on @lfd into @fds, printing ACCEPTED. Returns 0, or an exit code
 * (after printing TIMEOUT or an error), or -1 on a stop signal.
 */
static int leak__accept_all(const struct opts *o, int lfd, int *fds, int *n, pid_t child,
			    bool *reaped)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	long long deadline = now_ms() + o->timeout_ms;
	struct sockaddr_storage peer;
	socklen_t len;
	int fd;

	while (*n < o->count) {
		if (child__failed(child, reaped))
			return EXIT_RUNTIME;
		if (now_ms() >= deadline) {
			emit("TIMEOUT step=accept n=%d", *n);
			return EXIT_TIMEOUT;
		}
		if (wait_fds(&pfd, 1, min_deadline(deadline, now_ms() + 100)) < 0)
			return errno == EINTR ? -1 : EXIT_RUNTIME;
		len = sizeof(peer);
		fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		fds[(*n)++] = fd;
		emit_conn("ACCEPTED", *n, fd, &peer);
		deadline = now_ms() + o->timeout_ms;
	}
	return 0;
}

/* Wait until the peer has closed all @n sockets (they are then in CLOSE_WAIT). */
static int leak__wait_close_wait(const struct opts *o, const int *fds, int n)
{
	long long deadline = now_ms() + o->timeout_ms;
	struct pollfd pfd = { .events = POLLRDHUP };
	int i, rc;

	for (i = 0; i < n; i++) {
		pfd.fd = fds[i];
		rc = wait_fds(&pfd, 1, deadline);
		if (rc < 0)
			return errno == EINTR ? -1 : EXIT_RUNTIME;
		if (rc == 0) {
			emit("TIMEOUT step=eof n=%d", i + 1);
			return EXIT_TIMEOUT;
		}
	}
	return 0;
}

static int cmd_leak_close_wait(const struct opts *o, const struct endpoint *ep)
{
	struct endpoint dst = *ep;
	bool reaped = false;
	int lfd, port, n = 0, i, rc, ret;
	int *fds = calloc(o->count, sizeof(*fds));
	pid_t child;

	if (!fds)
		return EXIT_RUNTIME;
	lfd = listener__open(ep, o->count > o->backlog ? o->count : o->backlog, &port);
	if (lfd < 0) {
		free(fds);
		return EXIT_RUNTIME;
	}
	emit("READY pid=%d port=%d", getpid(), port);
	if (dst.ss.ss_family == AF_INET)
		((struct sockaddr_in *)&dst.ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&dst.ss)->sin6_port = htons(port);
	child = fork();
	if (child < 0) {
		log_err("cannot fork the client child: %s", strerror(errno));
		ret = EXIT_RUNTIME;
		goto out_close;
	}
	if (child == 0) {
		close(lfd);
		leak__child(o, &dst);
	}
	rc = leak__accept_all(o, lfd, fds, &n, child, &reaped);
	if (!rc)
		rc = leak__wait_close_wait(o, fds, n);
	if (!reaped && child__reap(child, o->timeout_ms) != 0 && !rc) {
		log_err("client child %d did not exit cleanly", child);
		rc = EXIT_RUNTIME;
	}
	ret = rc > 0 ? rc : 0;
	if (rc)
		goto out_done;
	close(lfd);
	lfd = -1;
	emit("LEAKED n=%d", n);
	hold_until(o->hold_ms >= 0 ? now_ms() + o->hold_ms : -1);
out_done:
	if (!ret)
		emit("DONE n=%d", n);
out_close:
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (lfd >= 0)
		close(lfd);
	free(fds);
	return ret;
}

/* ---- time-wait ------------------------------------------------------------------------- */

/* Child of time-wait: accept @count connections one by one, wait for EOF on each, close it. */
static void timewait__child(const struct opts *o, int lfd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	long long deadline;
	int i, fd, rc;

	for (i = 0; i < o->count; i++) {
		deadline = now_ms() + o->timeout_ms;
		do {
			rc = wait_fds(&pfd, 1, deadline);
			if (rc <= 0)
				_exit(rc == 0 ? EXIT_TIMEOUT : EXIT_RUNTIME);
			fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		} while (fd < 0);
		rc = wait_eof(fd, now_ms() + o->timeout_ms);
		close(fd);
		if (rc <= 0)
			_exit(rc == 0 ? EXIT_TIMEOUT : EXIT_RUNTIME);
	}
	_exit(0);
}

/*
 * Make one connection to @dst and close it first: shutdown(SHUT_WR) sends our FIN, recv() == 0
 * proves the server's FIN came back (the socket is now in TIME_WAIT), then close the fd.
 * Returns 1 on success, 0 on a failure already reported, -1 on a stop signal.
 */
static int timewait__one(const struct opts *o, const struct endpoint *dst, int n)
{
	int fd, rc;

	fd = connect_to(dst, NULL, o->connect_timeout_ms);
	if (fd < 0) {
		if (fd == -EINTR && stop_signal)
			return -1;
		emit("CONNECT_FAILED n=%d errno=%s", n, errno_name(-fd));
		return 0;
	}
	emit_conn("CONNECTED", n, fd, &dst->ss);
	shutdown(fd, SHUT_WR);
	rc = wait_eof(fd, now_ms() + o->timeout_ms);
	close(fd);
	if (rc == 0)
		emit("TIMEOUT step=eof n=%d", n);
	return rc;
}

static int cmd_time_wait(const struct opts *o, const struct endpoint *ep)
{
	struct endpoint dst = *ep;
	int lfd, port, i, rc = 1, done = 0, status;
	pid_t child;

	lfd = listener__open(ep, o->backlog, &port);
	if (lfd < 0)
		return EXIT_RUNTIME;
	emit("READY pid=%d port=%d", getpid(), port);
	if (dst.ss.ss_family == AF_INET)
		((struct sockaddr_in *)&dst.ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&dst.ss)->sin6_port = htons(port);
	child = fork();
	if (child < 0) {
		log_err("cannot fork the server child: %s", strerror(errno));
		close(lfd);
		return EXIT_RUNTIME;
	}
	if (child == 0)
		timewait__child(o, lfd);
	close(lfd);
	for (i = 1; i <= o->count && rc > 0; i++) {
		rc = timewait__one(o, &dst, i);
		done += rc > 0;
	}
	status = child__reap(child, rc > 0 ? o->timeout_ms : 0);
	if (status != 0 && done == o->count)
		log_err("server child %d did not exit cleanly (status %d)", child, status);
	emit("DONE n=%d pid=%d", done, getpid());
	return done == o->count || rc < 0 ? 0 : EXIT_RUNTIME;
}

/* ---- options --------------------------------------------------------------------------- */

#define ALL_CMDS ((1 << CMD__COUNT) - 1)
#define ON(c) (1 << (c))

enum {
	OPT_ADDR = 256,
	OPT_PORT,
	OPT_BACKLOG,
	OPT_ACCEPT,
	OPT_ACCEPT_DELAY,
	OPT_CLOSE,
	OPT_COUNT,
	OPT_HOLD,
	OPT_INTERVAL,
	OPT_BIND,
	OPT_CONNECT_TIMEOUT,
	OPT_TIMEOUT,
};

static const struct option long_opts[] = {
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "backlog", required_argument, NULL, OPT_BACKLOG },
	{ "accept", required_argument, NULL, OPT_ACCEPT },
	{ "accept-delay-ms", required_argument, NULL, OPT_ACCEPT_DELAY },
	{ "close", required_argument, NULL, OPT_CLOSE },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "hold-ms", required_argument, NULL, OPT_HOLD },
	{ "interval-ms", required_argument, NULL, OPT_INTERVAL },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "connect-timeout-ms", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Which commands accept each option, indexed by OPT_* - OPT_ADDR. */
static const int opt_cmds[] = {
	[OPT_ADDR - OPT_ADDR] = ALL_CMDS,
	[OPT_PORT - OPT_ADDR] = ALL_CMDS,
	[OPT_BACKLOG - OPT_ADDR] = ON(CMD_SERVER),
	[OPT_ACCEPT - OPT_ADDR] = ON(CMD_SERVER),
	[OPT_ACCEPT_DELAY - OPT_ADDR] = ON(CMD_SERVER),
	[OPT_CLOSE - OPT_ADDR] = ON(CMD_SERVER) | ON(CMD_CLIENT),
	[OPT_COUNT - OPT_ADDR] = ALL_CMDS,
	[OPT_HOLD - OPT_ADDR] = ON(CMD_SERVER) | ON(CMD_CLIENT) | ON(CMD_LEAK),
	[OPT_INTERVAL - OPT_ADDR] = ON(CMD_CLIENT),
	[OPT_BIND - OPT_ADDR] = ON(CMD_CLIENT),
	[OPT_CONNECT_TIMEOUT - OPT_ADDR] = ON(CMD_CLIENT) | ON(CMD_LEAK) | ON(CMD_TIMEWAIT),
	[OPT_TIMEOUT - OPT_ADDR] = ALL_CMDS,
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

static enum close_mode parse_close(enum cmd cmd, const char *arg)
{
	static const bool ok[CMD__COUNT][4] = {
		[CMD_SERVER] = { [CLOSE_CLIENT_FIRST] = 1, [CLOSE_SERVER_FIRST] = 1,
				 [CLOSE_NEVER] = 1 },
		[CMD_CLIENT] = { [CLOSE_CLIENT_FIRST] = 1, [CLOSE_SERVER_FIRST] = 1,
				 [CLOSE_RST] = 1 },
	};
	int i;

	for (i = 0; i < 4; i++)
		if (ok[cmd][i] && !strcmp(arg, close_names[i]))
			return i;
	if (cmd == CMD_SERVER)
		die_usage("server --close expects client-first, server-first or never, got '%s'",
			  arg);
	die_usage("client --close expects client-first, server-first or rst, got '%s'", arg);
	return 0;
}

static enum accept_mode parse_accept(const char *arg)
{
	if (!strcmp(arg, "all"))
		return ACCEPT_ALL;
	if (!strcmp(arg, "none"))
		return ACCEPT_NONE;
	if (!strcmp(arg, "slow"))
		return ACCEPT_SLOW;
	die_usage("--accept expects none, all or slow, got '%s'", arg);
	return 0;
}

static void parse_one(struct opts *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_ADDR:
		o->addr = arg;
		break;
	case OPT_PORT:
		o->port = parse_num("--port", arg, 0, 65535);
		break;
	case OPT_BACKLOG:
		o->backlog = parse_num("--backlog", arg, 0, 65535);
		break;
	case OPT_ACCEPT:
		o->accept = parse_accept(arg);
		break;
	case OPT_ACCEPT_DELAY:
		o->accept_delay_ms = parse_num("--accept-delay-ms", arg, 0, MAX_MS);
		break;
	case OPT_CLOSE:
		o->close = parse_close(o->cmd, arg);
		break;
	case OPT_COUNT:
		o->count = parse_num("--count", arg, 1, MAX_COUNT);
		break;
	case OPT_HOLD:
		o->hold_ms = parse_num("--hold-ms", arg, 0, MAX_MS);
		break;
	case OPT_INTERVAL:
		o->interval_ms = parse_num("--interval-ms", arg, 0, MAX_MS);
		break;
	case OPT_BIND:
		o->bind_addr = arg;
		break;
	case OPT_CONNECT_TIMEOUT:
		o->connect_timeout_ms = parse_num("--connect-timeout-ms", arg, 1, MAX_MS);
		break;
	case OPT_TIMEOUT:
		o->timeout_ms = parse_num("--timeout", arg, 1, 86400) * 1000;
		break;
	}
}

static void check_opts(struct opts *o)
{
	const char *cmd = cmd_names[o->cmd];

	if (o->cmd == CMD_CLIENT && o->port <= 0)
		die_usage("client needs --port P (1-65535)");
	if ((o->cmd == CMD_LEAK || o->cmd == CMD_TIMEWAIT) && o->count < 0)
		die_usage("%s needs --count N", cmd);
	if (o->accept_delay_ms >= 0 && o->accept != ACCEPT_SLOW)
		die_usage("--accept-delay-ms only applies to --accept slow");
	if (o->accept_delay_ms < 0)
		o->accept_delay_ms = 100;
	if (o->count < 0)
		o->count = 1;
	if (o->port < 0)
		o->port = 0;
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	int opt, i;

	if (argc < 2)
		die_usage("missing command: server, client, leak-close-wait or time-wait");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		exit(0);
	}
	for (i = 0; i < CMD__COUNT && strcmp(argv[1], cmd_names[i]); i++)
		;
	if (i == CMD__COUNT)
		die_usage("unknown command '%s'", argv[1]);
	o->cmd = i;
	opterr = 0;
	while ((opt = getopt_long(argc - 1, argv + 1, ":h", long_opts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			exit(0);
		}
		if (opt == '?')
			die_usage("unknown option '%s'", argv[optind]);
		if (opt == ':')
			die_usage("option '%s' needs a value", argv[optind]);
		if (!(opt_cmds[opt - OPT_ADDR] & ON(o->cmd)))
			die_usage("option --%s does not apply to %s",
				  long_opts[opt - OPT_ADDR].name, cmd_names[o->cmd]);
		parse_one(o, opt, optarg);
	}
	if (optind < argc - 1)
		die_usage("unexpected argument '%s'", argv[optind + 1]);
	check_opts(o);
}

int main(int argc, char **argv)
{
	struct opts o = {
		.addr = "127.0.0.1",
		.port = -1,
		.backlog = 128,
		.accept_delay_ms = -1,
		.count = -1,
		.hold_ms = -1,
		.connect_timeout_ms = 3000,
		.timeout_ms = 20000,
	};
	struct endpoint ep, src;

	parse_args(&o, argc, argv);
	if (endpoint__parse(&ep, o.addr, o.port))
		die_usage("--addr expects a numeric IPv4 or IPv6 address, got '%s'", o.addr);
	if (o.bind_addr) {
		if (endpoint__parse(&src, o.bind_addr, 0))
			die_usage("--bind expects a numeric IPv4 or IPv6 address, got '%s'",
				  o.bind_addr);
		if (src.ss.ss_family != ep.ss.ss_family)
			die_usage("--bind %s and --addr %s are of different families", o.bind_addr,
				  o.addr);
	}
	signals__install();
	switch (o.cmd) {
	case CMD_SERVER:
		return cmd_server(&o, &ep);
	case CMD_CLIENT:
		return cmd_client(&o, &ep, o.bind_addr ? &src : NULL);
	case CMD_LEAK:
		return cmd_leak_close_wait(&o, &ep);
	case CMD_TIMEWAIT:
		return cmd_time_wait(&o, &ep);
	default:
		return EXIT_USAGE;
	}
}
