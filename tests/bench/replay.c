// SPDX-License-Identifier: GPL-2.0-only
/*
 * replay - the user-space cost of one event, without the kernel: feeds the tracker the event
 * stream of loopback connection churn (client closes first, 11 events per connection, as
 * `churn --close client-first` produces) and prints nanoseconds per event. The TIME_WAIT
 * lifetime is scaled so that --timewait sockets are alive at any time, as at full churn on a
 * real host, which is what makes the tables bigger than the caches.
 *
 * Events are applied in batches of 16, each prefetched first, as the ring buffer reader does.
 * Stable enough to compare builds (run it under valgrind --tool=callgrind for instruction
 * counts); `make bench` runs it once and prints the figure next to the live one.
 *
 *   replay [--connections N] [--timewait N] [--rounds N]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "record.h"
#include "tcpstate_event.h"
#include "tracker.h"

#define NETNS 4026532000u
#define RATE 60000ull /* simulated connections per second */
#define SOURCES 32
#define LISTEN_PORT 8080
#define CLIENT_PID 4242
#define SERVER_PID 4243
#define BATCH 16 /* as the ring buffer reader: prefetch a batch, then apply it */

/* A record as the ring holds it, at most the IPv6 size with a comm. */
struct rec {
	__u64 size;
	union {
		struct ts_record head;
		unsigned char bytes[sizeof(struct ts_record) + 32 + TS_COMM_LEN];
	};
};

struct gen {
	struct tracker *t;
	__u64 now_ns, cookie;
	__u32 port, n;
	struct rec batch[BATCH];
};

static void flush(struct gen *g)
{
	for (__u32 i = 0; i < g->n; i++)
		tracker__prefetch(g->t, g->batch[i].bytes, g->batch[i].size);
	for (__u32 i = 0; i < g->n; i++)
		tracker__apply(g->t, g->batch[i].bytes, g->batch[i].size, NULL);
	g->n = 0;
}

static void ev(struct gen *g, __u64 cookie, int kind, int old, int new, __u32 src, __u16 sport,
	       __u16 dport, bool client_side, bool owner, __u32 flags)
{
	struct ts_event e = { .ts_ns = g->now_ns, .cookie = cookie, .kind = (__u8)kind,
			      .oldstate = (__u8)old, .newstate = (__u8)new, .family = AF_INET,
			      .sport = sport, .dport = dport, .netns = NETNS, .flags = flags };
	__u8 client_addr[4] = { 127, 0, 0, (__u8)(2 + src) }, server_addr[4] = { 127, 0, 0, 1 };

	memcpy(e.saddr, client_side ? client_addr : server_addr, 4);
	memcpy(e.daddr, client_side ? server_addr : client_addr, 4);
	e.pid = client_side ? CLIENT_PID : SERVER_PID;
	if (owner) {
		e.flags |= TS_F_OWNER_CTX;
		memcpy(e.comm, "churn", 6);
	}
	if (kind == TS_EV_ACCEPT) { /* the accept hook sends the cookie and the owner only */
		memset(e.saddr, 0, sizeof(e.saddr));
		memset(e.daddr, 0, sizeof(e.daddr));
		e.family = e.sport = e.dport = 0;
		e.netns = 0;
	}
	g->batch[g->n].size = ts_record__encode(&e, g->batch[g->n].bytes, sizeof(g->batch[0].bytes));
	g->n++;
	if (g->n == BATCH)
		flush(g);
	g->now_ns += 1000000000ull / RATE / 11;
}

/* One loopback connection, client closes first: the event order the kernel produces. */
static void connection(struct gen *g)
{
	__u64 c = ++g->cookie, s = ++g->cookie;
	__u32 src = (__u32)(c % SOURCES);
	__u16 port = (__u16)(32768 + (g->port++ % 28000));

	ev(g, c, TS_EV_STATE, TCP_CLOSE, TCP_SYN_SENT, src, port, LISTEN_PORT, true, true, 0);
	ev(g, s, TS_EV_STATE, TCP_LISTEN, TCP_SYN_RECV, src, LISTEN_PORT, port, false, false, 0);
	ev(g, s, TS_EV_STATE, TCP_SYN_RECV, TCP_ESTABLISHED, src, LISTEN_PORT, port, false, false, 0);
	ev(g, c, TS_EV_STATE, TCP_SYN_SENT, TCP_ESTABLISHED, src, port, LISTEN_PORT, true, false, 0);
	ev(g, c, TS_EV_STATE, TCP_ESTABLISHED, TCP_FIN_WAIT1, src, port, LISTEN_PORT, true, true, 0);
	ev(g, s, TS_EV_STATE, TCP_ESTABLISHED, TCP_CLOSE_WAIT, src, LISTEN_PORT, port, false, false,
	   TS_F_FIN_RCVD);
	ev(g, c, TS_EV_STATE, TCP_FIN_WAIT1, TCP_FIN_WAIT2, src, port, LISTEN_PORT, true, false, 0);
	ev(g, s, TS_EV_ACCEPT, 0, 0, src, LISTEN_PORT, port, false, true, 0);
	ev(g, s, TS_EV_STATE, TCP_CLOSE_WAIT, TCP_LAST_ACK, src, LISTEN_PORT, port, false, true,
	   TS_F_FIN_RCVD);
	ev(g, c, TS_EV_STATE, TCP_FIN_WAIT2, TCP_CLOSE, src, port, LISTEN_PORT, true, false,
	   TS_F_FIN_RCVD);
	ev(g, s, TS_EV_STATE, TCP_LAST_ACK, TCP_CLOSE, src, LISTEN_PORT, port, false, false,
	   TS_F_FIN_RCVD);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long conns = 1000000, timewait = 100000, rounds = 3;
	static const struct option opts[] = {
		{ "connections", required_argument, NULL, 'c' },
		{ "timewait", required_argument, NULL, 'w' },
		{ "rounds", required_argument, NULL, 'r' },
		{ 0 },
	};
	double results[16];
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;
		long v = o == '?' ? 0 : strtol(optarg, &end, 10);

		if (o == '?' || *end || v <= 0) {
			fprintf(stderr, "replay: usage: replay [--connections N] [--timewait N] "
					"[--rounds N (1-16)]\n");
			return 2;
		}
		if (o == 'c')
			conns = v;
		else if (o == 'w')
			timewait = v;
		else
			rounds = v > 16 ? 16 : v;
	}
	for (long r = 0; r < rounds; r++) {
		struct tracker_opts to = {
			.max_sockets = (__u32)(timewait * 2 + 4096),
			.max_procs = 1024,
			/* TIME_WAIT lasts long enough for `timewait` of them to be alive. */
			.time_wait_ns = (__u64)timewait * 1000000000ull / RATE,
			.fin_timeout_ns = 60ull * 1000000000ull,
			.proc_root = "/nonexistent",
		};
		struct gen g = { .t = tracker__new(&to), .now_ns = 1000000000ull };
		double t0;

		if (!g.t) {
			fprintf(stderr, "replay: cannot create the tracker\n");
			return 1;
		}
		ev(&g, ++g.cookie, TS_EV_STATE, TCP_CLOSE, TCP_LISTEN, 0, LISTEN_PORT, 0, false, true, 0);
		/* Warm up to the steady state (the TIME_WAIT population), then measure. */
		for (long i = 0; i < timewait; i++) {
			connection(&g);
			if (!(i & 1023))
				tracker__tick(g.t, g.now_ns);
		}
		flush(&g);
		t0 = now_s();
		for (long i = 0; i < conns; i++) {
			connection(&g);
			if (!(i & 1023))
				tracker__tick(g.t, g.now_ns);
		}
		flush(&g);
		results[r] = (now_s() - t0) * 1e9 / ((double)conns * 11);
		tracker__free(g.t);
	}
	qsort(results, (size_t)rounds, sizeof(results[0]), cmp_double);
	printf("{\"ns_per_event\": %.1f, \"connections\": %ld, \"timewait\": %ld, \"rounds\": %ld}\n",
	       results[rounds / 2], conns, timewait, rounds);
	return 0;
}
