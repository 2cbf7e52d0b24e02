/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tracing session: the tracer (BPF), the tracker (model) and the single-threaded event loop
 * that drives them. One epoll set waits on the ring buffers, the HTTP server (serve) and a bounded
 * timeout; every turn consumes the ring buffers first, so nothing else (audit, scrape) can keep
 * events waiting longer than one such piece of work.
 *
 * The reader is driven by its own clock, not by kernel wakeups: the BPF side wakes it only when
 * one CPU's ring buffer is an eighth full. A wakeup is an irq_work interrupt raised inside the
 * BPF program, and the softirq that runs on its way out processes network packets whose state
 * changes then find the program busy on that CPU: the kernel skips them (recursion misses,
 * measured: 40 of 16,500 events for 1,500 loopback connections with a wakeup every 16 KiB). The
 * loop polls every poll_ms, and after a busy drain again within 2 ms, so the rings stay far from
 * full.
 */
#ifndef TCPSTATE_SESSION_H
#define TCPSTATE_SESSION_H

#include <stdbool.h>
#include <linux/types.h>

#include "audit.h"
#include "tracer.h"
#include "tracker.h"

struct http_server;

typedef void (*session_view_fn)(void *ctx, const struct ev_view *v);

struct session_opts {
	__u32 ringbuf_bytes;
	__u32 poll_ms;		/* longest wait for events (bounds the delay batching adds) */
	bool force_tracepoint;
	int nice;		/* scheduling priority to run at (0: leave as is) */
	bool seed;		/* audit once at start, before tracing begins */
	__u32 audit_interval_ms; /* 0: no periodic audit */
	struct tracker_opts tracker;
	session_view_fn on_view; /* called for every event after the tracker applied it */
	void *ctx;
};

struct session {
	struct session_opts opts;
	struct tracer *tracer;
	struct tracker *tracker;
	int epfd;
	__u64 next_audit_ns;
	__u64 last_audit_ns;
	__u64 next_loss_check_ns;
	__u64 lost_seen;		/* kernel losses already answered with an audit */
	struct listeners *listeners;	/* listen-backlog samples */
	struct audit_result last_audit;
	__u64 events_seen;
};

/* Monotonic clock in ns (the clock of event timestamps). */
__u64 session__now_ns(void);
/* Set sensible defaults in o. */
void session__default_opts(struct session_opts *o);
/* Start tracing (and seed). 0 or -errno; errors are already logged. */
int session__open(struct session *s, const struct session_opts *o);
/*
 * Run the loop until SIGINT/SIGTERM or duration_ns (0 = no limit) elapses. http may be NULL.
 * Returns 0, or the signal number that stopped it.
 */
int session__run(struct session *s, __u64 duration_ns, struct http_server *http);
/* Consume every queued record now; returns how many. */
int session__drain(struct session *s);
/* Sample every listener now (listen backlog telemetry). */
int session__sample_listeners(struct session *s);
/* Run one audit now (also used for seeding); also counts SYN queues per listener. */
int session__audit(struct session *s);
/* Records lost in the kernel (ring buffer full). */
__u64 session__lost(const struct session *s);
/* Detach everything and free. Safe on a partly opened session. */
void session__close(struct session *s);
/* Install SIGINT/SIGTERM handlers that only set a flag; true once one arrived. */
void session__install_signals(void);
bool session__stopping(void);

#endif
