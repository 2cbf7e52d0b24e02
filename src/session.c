// SPDX-License-Identifier: GPL-2.0-only
/* The single-threaded event loop shared by trace, snapshot and serve (see include/session.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/epoll.h>

#include "http_server.h"
#include "listeners.h"
#include "log.h"
#include "netns.h"
#include "session.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void session__install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool session__stopping(void)
{
	return stop_signal != 0;
}

__u64 session__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void session__default_opts(struct session_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ringbuf_bytes = 16u << 20;
	o->nice = -10;
	o->poll_ms = 100;
	o->tracker.max_sockets = 1u << 20;
	o->tracker.max_procs = 65536;
	o->tracker.time_wait_ns = 60ull * 1000000000ull;
	o->tracker.fin_timeout_ns = 60ull * 1000000000ull;
	o->tracker.proc_root = "/proc";
}

static void on_record(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	struct ev_view v;

	tracker__apply(s->tracker, data, size, s->opts.on_view ? &v : NULL);
	s->events_seen++;
	if (s->opts.on_view && v.ev) {
		if (v.birth)
			s->opts.on_view(s->opts.ctx, v.birth);
		s->opts.on_view(s->opts.ctx, &v);
	}
}

static void prefetch_record(void *ctx, const void *data, size_t size)
{
	struct session *s = ctx;

	tracker__prefetch(s->tracker, data, size);
}

int session__drain(struct session *s)
{
	int n = tracer__consume(s->tracer);

	return n > 0 ? n : 0;
}

static void drain_cb(void *ctx)
{
	session__drain(ctx);
}

static void observe_cb(void *ctx, __u32 netns, const struct diag_sock *d)
{
	struct session *s = ctx;

	listeners__add_syn(s->listeners, netns, d);
}

int session__audit(struct session *s)
{
	struct audit_hooks h = { .drain = drain_cb, .observe = observe_cb, .ctx = s };

	listeners__begin_syn(s->listeners);
	s->last_audit_ns = session__now_ns();
	return audit__run(s->tracker, s->opts.tracker.proc_root, &h, &s->last_audit);
}

/*
 * Lost events leave the model wrong until an audit: when the kernel reports new losses, bring
 * the next audit forward (at most one every LOSS_AUDIT_GAP) instead of waiting the interval.
 */
#define LOSS_CHECK_NS 1000000000ull
#define LOSS_AUDIT_GAP_NS 5000000000ull

static void session_check_losses(struct session *s, __u64 now)
{
	__u64 lost;

	if (!s->opts.audit_interval_ms || now < s->next_loss_check_ns)
		return;
	s->next_loss_check_ns = now + LOSS_CHECK_NS;
	lost = tracer__lost(s->tracer);
	if (lost == s->lost_seen)
		return;
	s->lost_seen = lost;
	if (s->next_audit_ns > s->last_audit_ns + LOSS_AUDIT_GAP_NS)
		s->next_audit_ns = s->last_audit_ns + LOSS_AUDIT_GAP_NS;
}

int session__sample_listeners(struct session *s)
{
	return listeners__sample(s->listeners, s->tracker);
}

int session__open(struct session *s, const struct session_opts *o)
{
	struct tracer_opts to = {
		.ringbuf_bytes = o->ringbuf_bytes,
		.force_tracepoint = o->force_tracepoint,
		.on_event = on_record,
		.prefetch = prefetch_record,
		.ctx = s,
	};
	struct epoll_event ev = { .events = EPOLLIN };

	memset(s, 0, sizeof(*s));
	s->epfd = -1;
	s->opts = *o;
	s->tracker = tracker__new(&o->tracker);
	s->listeners = listeners__new();
	if (!s->tracker || !s->listeners) {
		log_err("out of memory creating the socket table");
		return -ENOMEM;
	}
	s->tracer = tracer__start(&to);
	if (!s->tracer)
		return -errno;
	/*
	 * The reader must not be starved by the very workload it watches: with many busy threads
	 * a nice-0 reader gets too small a share and the ring buffer overflows. It only ever
	 * uses what the event rate needs, so a higher priority costs nothing when idle.
	 */
	if (o->nice && setpriority(PRIO_PROCESS, 0, o->nice))
		log_warn("cannot set scheduling priority %d (%s): running at the current one; grant "
			 "CAP_SYS_NICE, or pass --nice 0 to silence this",
			 o->nice, strerror(errno));
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.u32 = 1;
	if (s->epfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, tracer__fd(s->tracer), &ev)) {
		log_err("cannot set up epoll: %s", strerror(errno));
		return -errno;
	}
	if ((o->seed || o->audit_interval_ms) && netns__init())
		log_warn("cannot read our own network namespace; audits are disabled");
	if (o->seed && session__audit(s) && !s->last_audit.namespaces)
		log_warn("could not seed from sock_diag; only sockets seen from now on are counted");
	s->next_audit_ns = session__now_ns() + (__u64)o->audit_interval_ms * 1000000ull;
	return 0;
}

static void session_periodic(struct session *s, __u64 now)
{
	tracker__tick(s->tracker, now);
	session_check_losses(s, now);
	if (s->opts.audit_interval_ms && now >= s->next_audit_ns) {
		session__audit(s);
		proc_table__prune(tracker__procs(s->tracker));
		now = session__now_ns();
		s->next_audit_ns = now + (__u64)s->opts.audit_interval_ms * 1000000ull;
	}
}

/* After a drain of at least BUSY_RECORDS records, look again within BUSY_POLL_MS. */
#define BUSY_RECORDS 2048
#define BUSY_POLL_MS 2

int session__run(struct session *s, __u64 duration_ns, struct http_server *http)
{
	__u64 end = duration_ns ? session__now_ns() + duration_ns : 0;
	struct epoll_event evs[4];

	if (http) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 2 };

		epoll_ctl(s->epfd, EPOLL_CTL_ADD, http_server__fd(http), &ev);
	}
	int busy = 0;

	while (!stop_signal) {
		__u64 now = session__now_ns();
		int timeout = busy ? BUSY_POLL_MS : (int)s->opts.poll_ms, n;

		if (end && now >= end)
			break;
		if (end && (end - now) / 1000000ull < (__u64)timeout)
			timeout = (int)((end - now) / 1000000ull) + 1;
		if (http && http_server__timeout_ms(http) >= 0 && http_server__timeout_ms(http) < timeout)
			timeout = http_server__timeout_ms(http);
		n = epoll_wait(s->epfd, evs, 4, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		/* Events first, always: a batch may be waiting without a wakeup. */
		busy = session__drain(s) >= BUSY_RECORDS;
		if (http)
			http_server__run(http);
		session_periodic(s, session__now_ns());
	}
	session__drain(s);
	return stop_signal;
}

__u64 session__lost(const struct session *s)
{
	return s->tracer ? tracer__lost(s->tracer) : 0;
}

void session__close(struct session *s)
{
	if (s->epfd >= 0)
		close(s->epfd);
	tracer__destroy(s->tracer);
	tracker__free(s->tracker);
	listeners__free(s->listeners);
	memset(s, 0, sizeof(*s));
	s->epfd = -1;
}
