// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the tracker with synthetic events (no BPF): owner attribution, the TIME_WAIT
 * model, resets, expiry and audit reconciliation.
 */
#include <string.h>
#include <sys/socket.h>

#include "hashmap.h"
#include "record.h"
#include "tracker.h"
#include "testlib.h"

#define SEC 1000000000ull
#define NS 4026531840u

static struct tracker *new_tracker(void)
{
	struct tracker_opts o = {
		.max_sockets = 1000,
		.max_procs = 100,
		.time_wait_ns = 60 * SEC,
		.fin_timeout_ns = 60 * SEC,
		.proc_root = FIXTURES "/proc",
	};

	return tracker__new(&o);
}

/* Apply e the way the ring buffer hands it over: as a record. */
static void apply_record(struct tracker *t, const struct ts_event *e)
{
	unsigned char buf[128];
	size_t n = ts_record__encode(e, buf, sizeof(buf));

	CHECK(n > 0, "encode kind %d", e->kind);
	tracker__apply(t, buf, n, NULL);
}

/* A state event for cookie with local port sport and remote dport on 127.0.0.1. */
static void state(struct tracker *t, __u64 ts, __u64 cookie, int old, int new, __u16 sport,
		  __u16 dport, __u32 pid, const char *comm, __u8 flags)
{
	struct ts_event e = { .ts_ns = ts, .cookie = cookie, .kind = TS_EV_STATE, .oldstate = old,
			      .newstate = new, .family = AF_INET, .sport = sport, .dport = dport,
			      .netns = NS, .pid = pid, .flags = flags };

	e.saddr[0] = e.daddr[0] = 127;
	e.saddr[3] = e.daddr[3] = 1;
	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	apply_record(t, &e);
}

static void simple(struct tracker *t, __u64 ts, __u64 kind_cookie, __u16 kind, __u32 pid)
{
	struct ts_event e = { .ts_ns = ts, .cookie = kind_cookie, .kind = kind, .pid = pid,
			      .family = AF_INET, .netns = NS, .flags = TS_F_OWNER_CTX };

	snprintf(e.comm, sizeof(e.comm), "server");
	apply_record(t, &e);
}

static const __u32 *host(struct tracker *t)
{
	return tracker__stats(t)->by_state;
}

/* Client 100 (pid 10) connects to listener 1 (pid 20) port 80; child 200 is accepted. */
static void connect_and_accept(struct tracker *t)
{
	state(t, 1 * SEC, 1, TCP_CLOSE, TCP_LISTEN, 80, 0, 20, "server", TS_F_OWNER_CTX);
	state(t, 2 * SEC, 100, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, 2 * SEC + 1000, 100, TCP_SYN_SENT, TCP_ESTABLISHED, 5000, 80, 99, "noise", 0);
	state(t, 2 * SEC + 2000, 200, TCP_LISTEN, TCP_SYN_RECV, 80, 5000, 99, "noise", 0);
	state(t, 2 * SEC + 3000, 200, TCP_SYN_RECV, TCP_ESTABLISHED, 80, 5000, 99, "noise", 0);
	simple(t, 3 * SEC, 200, TS_EV_ACCEPT, 21);
}

static void test_owners_survive_softirq_transitions(void)
{
	struct tracker *t = new_tracker();
	struct proc_table *pt = tracker__procs(t);

	connect_and_accept(t);
	/* the client closes first: the server's child enters CLOSE_WAIT in softirq (pid 99) */
	state(t, 4 * SEC, 200, TCP_ESTABLISHED, TCP_CLOSE_WAIT, 80, 5000, 99, "noise", 0);
	CHECK_EQ_INT(host(t)[TCP_CLOSE_WAIT], 1, "host CLOSE_WAIT");
	CHECK_EQ_INT(proc_table__find(pt, 21)->states[TCP_CLOSE_WAIT], 1,
		     "CLOSE_WAIT of the accepting pid 21");
	CHECK(proc_table__find(pt, 99) == NULL, "on-CPU pid 99 was never charged");
	CHECK_EQ_INT(proc_table__find(pt, 10)->states[TCP_ESTABLISHED], 1, "client ESTABLISHED");
	CHECK_EQ_INT(proc_table__find(pt, 20)->states[TCP_LISTEN], 1, "listener of pid 20");
	/* new connections: the client's connect, the child charged to the listener's owner */
	CHECK_EQ_INT(proc_table__find(pt, 10)->connections, 1, "connections of client pid 10");
	CHECK_EQ_INT(proc_table__find(pt, 20)->connections, 1, "connections of listener pid 20");
	CHECK_EQ_INT(proc_table__find(pt, 21)->connections, 0, "connections of acceptor pid 21");
	tracker__free(t);
}

static void test_time_wait_model(void)
{
	struct tracker *t = new_tracker();

	connect_and_accept(t);
	state(t, 4 * SEC, 100, TCP_ESTABLISHED, TCP_FIN_WAIT1, 5000, 80, 10, "client",
	      TS_F_OWNER_CTX);
	state(t, 4 * SEC + 10, 100, TCP_FIN_WAIT1, TCP_FIN_WAIT2, 5000, 80, 99, "noise", 0);
	/* orphaned FIN_WAIT2: the peer's FIN has not arrived, so no TIME_WAIT yet */
	state(t, 4 * SEC + 20, 100, TCP_FIN_WAIT2, TCP_CLOSE, 0, 80, 99, "noise", 0);
	CHECK_EQ_INT(host(t)[TCP_FIN_WAIT2], 1, "orphan FIN_WAIT2 timewait sock");
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "TIME_WAIT before the peer's FIN");
	/* the server closes: its child CLOSE_WAIT -> LAST_ACK promotes the client to TIME_WAIT */
	state(t, 5 * SEC, 200, TCP_ESTABLISHED, TCP_CLOSE_WAIT, 80, 5000, 99, "noise", 0);
	state(t, 5 * SEC + 10, 200, TCP_CLOSE_WAIT, TCP_LAST_ACK, 80, 5000, 21, "server",
	      TS_F_OWNER_CTX);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "TIME_WAIT after the peer's close");
	CHECK_EQ_INT(host(t)[TCP_FIN_WAIT2], 0, "FIN_WAIT2 after promotion");
	CHECK_EQ_INT(proc_table__find(tracker__procs(t), 10)->states[TCP_TIME_WAIT], 1,
		     "TIME_WAIT charged to the closing client");
	state(t, 5 * SEC + 20, 200, TCP_LAST_ACK, TCP_CLOSE, 0, 5000, 99, "noise", 0);
	CHECK_EQ_INT(host(t)[TCP_LAST_ACK], 0, "LAST_ACK gone");
	tracker__tick(t, 5 * SEC + 59 * SEC);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "TIME_WAIT before 60 s");
	tracker__tick(t, 5 * SEC + 61 * SEC);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "TIME_WAIT expired after 60 s");
	CHECK_EQ_INT(sock_table__count(tracker__socks(t)), 1, "only the listener is left");
	tracker__free(t);
}

/*
 * The client (100) closes first and the server's child (200) closes too, but the events of the
 * client's orphaning into FIN_WAIT2 arrive after the server's CLOSE_WAIT -> LAST_ACK.
 */
static void orphan_after_peer_closed(struct tracker *t)
{
	connect_and_accept(t);
	state(t, 4 * SEC, 100, TCP_ESTABLISHED, TCP_FIN_WAIT1, 5000, 80, 10, "client",
	      TS_F_OWNER_CTX);
	state(t, 4 * SEC + 10, 200, TCP_ESTABLISHED, TCP_CLOSE_WAIT, 80, 5000, 99, "noise", 0);
	state(t, 4 * SEC + 20, 200, TCP_CLOSE_WAIT, TCP_LAST_ACK, 80, 5000, 21, "server",
	      TS_F_OWNER_CTX);
	state(t, 4 * SEC + 30, 100, TCP_FIN_WAIT1, TCP_FIN_WAIT2, 5000, 80, 99, "noise", 0);
	state(t, 4 * SEC + 40, 100, TCP_FIN_WAIT2, TCP_CLOSE, 0, 80, 99, "noise", 0);
}

/*
 * On another CPU the server can see EOF and close (CLOSE_WAIT -> LAST_ACK) before the client's
 * softirq handles the ACK that orphans it into FIN_WAIT2: the events arrive in that order, the
 * promotion at LAST_ACK finds no orphan yet, and the server's FIN then turns the timewait sock
 * into TIME_WAIT silently. The server's LAST_ACK -> CLOSE (the client acked that FIN) must
 * promote it.
 */
static void test_peer_closed_before_orphan_event(void)
{
	struct tracker *t = new_tracker();

	orphan_after_peer_closed(t);
	CHECK_EQ_INT(host(t)[TCP_FIN_WAIT2], 1, "orphan FIN_WAIT2 before the server's last ACK");
	state(t, 4 * SEC + 50, 200, TCP_LAST_ACK, TCP_CLOSE, 0, 5000, 99, "noise", 0);
	CHECK_EQ_INT(host(t)[TCP_FIN_WAIT2], 0, "FIN_WAIT2 after the server's last ACK");
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "TIME_WAIT after the server's last ACK");
	CHECK_EQ_INT(proc_table__find(tracker__procs(t), 10)->states[TCP_TIME_WAIT], 1,
		     "TIME_WAIT charged to the closing client");
	tracker__free(t);
}

/* A server reset out of LAST_ACK did not deliver a FIN the orphan acked: it stays FIN_WAIT2. */
static void test_reset_last_ack_keeps_orphan(void)
{
	struct tracker *t = new_tracker();

	orphan_after_peer_closed(t);
	simple(t, 4 * SEC + 45, 200, TS_EV_RESET_RECV, 99);
	state(t, 4 * SEC + 50, 200, TCP_LAST_ACK, TCP_CLOSE, 0, 5000, 99, "noise", 0);
	CHECK_EQ_INT(host(t)[TCP_FIN_WAIT2], 1, "orphan FIN_WAIT2 after a reset LAST_ACK");
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "no TIME_WAIT after a reset LAST_ACK");
	tracker__free(t);
}

/* Client socket `cookie` (pid 10) from local port sport to :80 closes first into TIME_WAIT. */
static void client_to_time_wait(struct tracker *t, __u64 cookie, __u16 sport)
{
	state(t, SEC, cookie, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, SEC, cookie, TCP_SYN_SENT, TCP_ESTABLISHED, sport, 80, 0, "", 0);
	state(t, SEC, cookie, TCP_ESTABLISHED, TCP_FIN_WAIT1, sport, 80, 10, "client",
	      TS_F_OWNER_CTX);
	state(t, SEC, cookie, TCP_FIN_WAIT1, TCP_FIN_WAIT2, sport, 80, 0, "", 0);
	state(t, SEC, cookie, TCP_FIN_WAIT2, TCP_CLOSE, 0, 80, 0, "", TS_F_FIN_RCVD);
}

static void test_fin_received_close_is_time_wait_and_reset_is_not(void)
{
	struct tracker *t = new_tracker();

	client_to_time_wait(t, 7, 6000);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "FIN received then close: TIME_WAIT");
	state(t, SEC, 8, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, SEC, 8, TCP_SYN_SENT, TCP_ESTABLISHED, 6001, 80, 0, "", 0);
	state(t, SEC, 8, TCP_ESTABLISHED, TCP_FIN_WAIT1, 6001, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, SEC, 8, TCP_FIN_WAIT1, TCP_FIN_WAIT2, 6001, 80, 0, "", 0);
	simple(t, SEC, 8, TS_EV_RESET_RECV, 0);
	state(t, SEC, 8, TCP_FIN_WAIT2, TCP_CLOSE, 0, 80, 0, "", TS_F_FIN_RCVD);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "reset close: no second TIME_WAIT");
	CHECK_EQ_INT(proc_table__find(tracker__procs(t), 10)->resets_recv, 1, "reset charged");
	tracker__free(t);
}

/* Client `cookie` on sport up to FIN_WAIT2, then closed with the kernel's timewait finding. */
static void client_close_tw_known(struct tracker *t, __u64 cookie, __u16 sport, __u8 flags,
				  __u32 substate)
{
	struct ts_event e = { .ts_ns = 2 * SEC, .cookie = cookie, .kind = TS_EV_STATE,
			      .oldstate = TCP_FIN_WAIT2, .newstate = TCP_CLOSE, .family = AF_INET,
			      .dport = 80, .netns = NS, .flags = flags | TS_F_TW_KNOWN,
			      .aux = substate };

	state(t, SEC, cookie, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, SEC, cookie, TCP_SYN_SENT, TCP_ESTABLISHED, sport, 80, 0, "", 0);
	state(t, SEC, cookie, TCP_ESTABLISHED, TCP_FIN_WAIT1, sport, 80, 10, "client",
	      TS_F_OWNER_CTX);
	state(t, SEC, cookie, TCP_FIN_WAIT1, TCP_FIN_WAIT2, sport, 80, 0, "", 0);
	e.saddr[0] = e.daddr[0] = 127;
	e.saddr[3] = e.daddr[3] = 1;
	tracker__apply_event(t, &e, NULL);
}

/* The kernel side reports the timewait sock it found, or none when the table was full. */
static void test_time_wait_table_full_leaves_nothing(void)
{
	struct tracker *t = new_tracker();

	client_close_tw_known(t, 7, 6000, TS_F_FIN_RCVD, TCP_TIME_WAIT);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "timewait sock found: TIME_WAIT");
	client_close_tw_known(t, 8, 6001, TS_F_FIN_RCVD, 0);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "no timewait sock (table full): no TIME_WAIT");
	CHECK_EQ_INT(tracker__stats(t)->tw_overflow, 1, "table-full close counted");
	client_close_tw_known(t, 9, 6002, 0, TCP_FIN_WAIT2);
	CHECK_EQ_INT(host(t)[TCP_FIN_WAIT2], 1, "orphan FIN_WAIT2 timewait sock found");
	client_close_tw_known(t, 10, 6003, 0, 0);
	CHECK_EQ_INT(host(t)[TCP_FIN_WAIT2], 1, "no orphan when the table was full");
	CHECK_EQ_INT(proc_table__find(tracker__procs(t), 10)->states[TCP_TIME_WAIT], 1,
		     "TIME_WAIT charged to the client");
	CHECK_EQ_INT(sock_table__count(tracker__socks(t)), 2, "sockets left in the table");
	tracker__free(t);
}

static void test_time_wait_recycled_by_a_new_connection(void)
{
	struct tracker *t = new_tracker();

	client_to_time_wait(t, 7, 6000);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "TIME_WAIT before reuse");
	/* tcp_tw_reuse: a new connect gets the same 4-tuple; the kernel kills the timewait sock */
	state(t, 3 * SEC, 9, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, 3 * SEC, 9, TCP_SYN_SENT, TCP_ESTABLISHED, 6000, 80, 0, "", 0);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "TIME_WAIT after its tuple was reused");
	CHECK_EQ_INT(host(t)[TCP_ESTABLISHED], 1, "the new connection");
	CHECK_EQ_INT(tracker__stats(t)->tw_recycled, 1, "recycled TIME_WAIT counted");
	tracker__free(t);
}

/* Client socket `cookie` from local port sport to :80 closes first into TIME_WAIT at ts. */
static void client_to_time_wait_at(struct tracker *t, __u64 ts, __u64 cookie, __u16 sport)
{
	state(t, ts, cookie, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, ts, cookie, TCP_SYN_SENT, TCP_ESTABLISHED, sport, 80, 0, "", 0);
	state(t, ts, cookie, TCP_ESTABLISHED, TCP_FIN_WAIT1, sport, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, ts, cookie, TCP_FIN_WAIT1, TCP_FIN_WAIT2, sport, 80, 0, "", 0);
	state(t, ts, cookie, TCP_FIN_WAIT2, TCP_CLOSE, 0, 80, 0, "", TS_F_FIN_RCVD);
}

/*
 * The tuple index's filter is rebuilt once enough TIME_WAIT sockets have gone: the survivors
 * must still be found when a new connection takes their tuple, the departed ones not.
 */
static void test_time_wait_recycling_found_after_many_expire(void)
{
	struct tracker_opts o = { .max_sockets = 50000, .max_procs = 100,
				  .time_wait_ns = 60 * SEC, .fin_timeout_ns = 60 * SEC,
				  .proc_root = FIXTURES "/proc" };
	struct tracker *t = tracker__new(&o);
	__u64 cookie = 1;

	for (int i = 0; i < 30000; i++)
		client_to_time_wait_at(t, SEC, cookie++, 10000 + i);
	for (int i = 0; i < 100; i++)
		client_to_time_wait_at(t, 30 * SEC, cookie++, 50000 + i);
	tracker__tick(t, 62 * SEC);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 100, "TIME_WAIT left after the first ones expired");
	/* a new connection on a departed tuple recycles nothing */
	state(t, 63 * SEC, 900000, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, 63 * SEC, 900000, TCP_SYN_SENT, TCP_ESTABLISHED, 10005, 80, 0, "", 0);
	CHECK_EQ_INT(tracker__stats(t)->tw_recycled, 0, "no TIME_WAIT recycled on a free tuple");
	/* one on a survivor's tuple recycles it */
	state(t, 63 * SEC, 900001, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, 63 * SEC, 900001, TCP_SYN_SENT, TCP_ESTABLISHED, 50042, 80, 0, "", 0);
	CHECK_EQ_INT(tracker__stats(t)->tw_recycled, 1, "the survivor's TIME_WAIT recycled");
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 99, "TIME_WAIT after the recycle");
	tracker__free(t);
}

static void test_time_wait_taken_by_a_connect_that_failed(void)
{
	struct tracker *t = new_tracker();

	client_to_time_wait(t, 7, 6000);
	/* bound to the same port, the tuple is taken: connect() fails before any SYN */
	state(t, 3 * SEC, 8, TCP_CLOSE, TCP_SYN_SENT, 6000, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, 3 * SEC, 8, TCP_SYN_SENT, TCP_CLOSE, 6000, 80, 10, "client", TS_F_OWNER_CTX);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "TIME_WAIT kept when no SYN went out");
	/* the kernel lets it take the tuple over; the SYN is refused */
	state(t, 4 * SEC, 9, TCP_CLOSE, TCP_SYN_SENT, 6000, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, 4 * SEC, 9, TCP_SYN_SENT, TCP_CLOSE, 6000, 80, 0, "", TS_F_SYN_OUT);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "TIME_WAIT gone with the failed connection");
	CHECK_EQ_INT(host(t)[TCP_SYN_SENT], 0, "no SYN_SENT left");
	CHECK_EQ_INT(tracker__stats(t)->tw_recycled, 1, "recycled TIME_WAIT counted");
	CHECK_EQ_INT(sock_table__count(tracker__socks(t)), 0, "sockets left in the table");
	tracker__free(t);
}

static void test_time_wait_taken_by_a_connect_whose_syn_is_retransmitted(void)
{
	struct tracker *t = new_tracker();
	struct ts_event e = { .ts_ns = 3 * SEC + 1000, .cookie = 9, .kind = TS_EV_RETRANS,
			      .family = AF_INET, .sport = 6000, .dport = 80, .netns = NS,
			      .aux = TS_RETRANS_SYN };

	client_to_time_wait(t, 7, 6000);
	state(t, 2 * SEC, 9, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "TIME_WAIT while the new SYN_SENT has no port");
	e.saddr[0] = e.daddr[0] = 127;
	e.saddr[3] = e.daddr[3] = 1;
	tracker__apply_event(t, &e, NULL);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "TIME_WAIT gone once the SYN shows the tuple");
	CHECK_EQ_INT(host(t)[TCP_SYN_SENT], 1, "the connect still waiting");
	CHECK_EQ_INT(tracker__stats(t)->tw_recycled, 1, "recycled TIME_WAIT counted");
	tracker__free(t);
}

static void test_server_time_wait_recycled_by_a_new_syn(void)
{
	struct tracker *t = new_tracker();

	/* the server closed first: its socket (local 80, remote 6000) is in TIME_WAIT */
	state(t, 1 * SEC, 7, TCP_LISTEN, TCP_SYN_RECV, 80, 6000, 0, "", 0);
	state(t, 1 * SEC + 10, 7, TCP_SYN_RECV, TCP_ESTABLISHED, 80, 6000, 0, "", 0);
	state(t, 1 * SEC + 20, 7, TCP_ESTABLISHED, TCP_FIN_WAIT1, 80, 6000, 20, "server",
	      TS_F_OWNER_CTX);
	state(t, 1 * SEC + 30, 7, TCP_FIN_WAIT1, TCP_FIN_WAIT2, 80, 6000, 0, "", 0);
	state(t, 1 * SEC + 40, 7, TCP_FIN_WAIT2, TCP_CLOSE, 80, 6000, 0, "", TS_F_FIN_RCVD);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "server TIME_WAIT before the new SYN");
	/* the client connects again from the same port: the SYN kills the timewait sock */
	state(t, 3 * SEC, 9, TCP_LISTEN, TCP_SYN_RECV, 80, 6000, 0, "", 0);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "TIME_WAIT once the child is born");
	state(t, 3 * SEC + 10, 9, TCP_SYN_RECV, TCP_ESTABLISHED, 80, 6000, 0, "", 0);
	CHECK_EQ_INT(host(t)[TCP_ESTABLISHED], 1, "the new connection");
	CHECK_EQ_INT(tracker__stats(t)->tw_recycled, 1, "recycled TIME_WAIT counted once");
	tracker__free(t);
}

static void test_reset_to_time_wait_kills_it(void)
{
	struct tracker *t = new_tracker();
	struct ts_event rst = { .ts_ns = 5 * SEC, .kind = TS_EV_RESET_SENT, .family = AF_INET,
				.netns = NS, .sport = 6000, .dport = 80, .cookie = 1,
				.flags = TS_F_SKB_TUPLE };

	client_to_time_wait(t, 7, 6000);
	/* a listener of this host answers a packet from 127.0.0.1:6000 with a reset */
	rst.saddr[0] = rst.daddr[0] = 127;
	rst.saddr[3] = rst.daddr[3] = 1;
	rst.sport = 7000; /* another tuple: nothing happens */
	tracker__apply_event(t, &rst, NULL);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "TIME_WAIT after a reset to another tuple");
	rst.sport = 6000;
	tracker__apply_event(t, &rst, NULL);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "TIME_WAIT after a reset to its tuple");
	CHECK_EQ_INT(tracker__stats(t)->tw_reset, 1, "timewait killed by reset counted");
	tracker__free(t);
}

/* The kernel says it killed a timewait sock early (fentry on inet_twsk_deschedule_put). */
static void test_time_wait_killed_early(void)
{
	struct tracker *t = new_tracker();
	struct ts_event k = { .ts_ns = 5 * SEC, .kind = TS_EV_TW_KILLED, .family = AF_INET,
			      .netns = NS, .sport = 6001, .dport = 80, .cookie = 7,
			      .oldstate = TCP_TIME_WAIT, .newstate = TCP_TIME_WAIT,
			      .aux = TCP_TIME_WAIT };

	client_to_time_wait(t, 7, 6000);
	client_to_time_wait(t, 8, 6001);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 2, "two TIME_WAIT sockets");
	k.saddr[0] = k.daddr[0] = 127;
	k.saddr[3] = k.daddr[3] = 1;
	tracker__apply_event(t, &k, NULL); /* by its cookie: the tuple does not matter */
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "the one named by its cookie is gone");
	CHECK(sock_table__lookup(tracker__socks(t), 7) == NULL, "cookie 7 forgotten");
	k.cookie = 0; /* a timewait sock that never had a cookie: by its tuple */
	tracker__apply_event(t, &k, NULL);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "the one with that tuple is gone");
	CHECK_EQ_INT(tracker__stats(t)->tw_killed, 2, "kills counted");
	CHECK_EQ_INT(tracker__stats(t)->events_bad, 0, "cookie 0 is fine for this kind");
	tracker__apply_event(t, &k, NULL); /* already gone (e.g. recycled and told before) */
	CHECK_EQ_INT(tracker__stats(t)->tw_killed_unknown, 1, "a kill matching nothing");
	tracker__free(t);
}

static void test_audit_repairs_drift(void)
{
	struct tracker *t = new_tracker();
	struct diag_sock d = { .cookie = 500, .inode = 1234, .state = TCP_CLOSE_WAIT,
			       .family = AF_INET, .sport = 80, .dport = 7000 };

	connect_and_accept(t); /* listener 1, client 100, child 200 */
	tracker__audit_begin(t, 10 * SEC);
	tracker__audit_netns(t, NS);
	tracker__audit_end(t, 10 * SEC); /* seeding pass: nothing dumped */
	CHECK_EQ_INT(sock_table__count(tracker__socks(t)), 0, "stale sockets removed");
	tracker__audit_begin(t, 20 * SEC);
	tracker__audit_netns(t, NS);
	tracker__audit_add(t, NS, &d, 21);
	tracker__audit_end(t, 20 * SEC);
	CHECK_EQ_INT(host(t)[TCP_CLOSE_WAIT], 1, "missing CLOSE_WAIT added");
	CHECK_EQ_INT(tracker__stats(t)->corrections[TCP_CLOSE_WAIT][AUDIT_MISSING], 1,
		     "missing correction counted");
	CHECK_EQ_INT(proc_table__find(tracker__procs(t), 21)->states[TCP_CLOSE_WAIT], 1,
		     "owner from the inode map");
	tracker__free(t);
}

static bool netns_mapped(struct tracker *t, __u32 netns)
{
	const struct port_key *k;
	__u32 it = 0;

	if (hashmap__lookup(tracker__netns_map(t), &netns))
		return true;
	while (hashmap__next(tracker__port_map(t), &it, (const void **)&k))
		if (k->netns == netns)
			return true;
	return false;
}

static void test_audit_forgets_namespaces_that_are_gone(void)
{
	struct tracker *t = new_tracker();
	const __u32 other = NS + 1;
	__u64 socks;

	connect_and_accept(t); /* listener on port 80 in NS */
	client_to_time_wait(t, 7, 6000);
	socks = sock_table__count(tracker__socks(t));
	/* A namespace not listed is not gone unless every namespace was listed. */
	tracker__audit_begin(t, 2 * SEC);
	tracker__audit_netns(t, other);
	tracker__audit_end(t, 2 * SEC);
	CHECK_EQ_INT(sock_table__count(tracker__socks(t)), socks, "kept: the list may be partial");
	/* Nor is a namespace whose dump failed. */
	tracker__audit_begin(t, 3 * SEC);
	tracker__audit_netns(t, other);
	tracker__audit_netns_failed(t, NS);
	tracker__audit_listed_all(t);
	tracker__audit_end(t, 3 * SEC);
	CHECK_EQ_INT(sock_table__count(tracker__socks(t)), socks, "kept: its dump failed");
	CHECK_EQ_INT(tracker__stats(t)->audit_netns_failed, 1, "the failed dump counted");
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "its TIME_WAIT still counted");
	/* Every namespace listed, NS not among them: it is gone, with its TIME_WAIT. */
	tracker__audit_begin(t, 4 * SEC);
	tracker__audit_netns(t, other);
	tracker__audit_listed_all(t);
	tracker__audit_end(t, 4 * SEC);
	CHECK_EQ_INT(sock_table__count(tracker__socks(t)), 0, "entries of the gone namespace");
	CHECK_EQ_INT(tracker__stats(t)->netns_gone_sockets, socks, "forgotten sockets counted");
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "TIME_WAIT of the gone namespace");
	CHECK_EQ_INT(tracker__stats(t)->corrections[TCP_TIME_WAIT][AUDIT_STALE] +
			     tracker__stats(t)->corrections[TCP_LISTEN][AUDIT_STALE],
		     0, "a gone namespace is not drift");
	CHECK(!netns_mapped(t, NS), "no per-namespace aggregates left for the gone namespace");
	tracker__free(t);
}

static void test_audit_counts_sockets_a_full_table_leaves_out(void)
{
	struct tracker *t = new_tracker(); /* at most 1000 sockets */
	struct diag_sock d = { .inode = 0, .state = TCP_TIME_WAIT, .family = AF_INET,
			       .sport = 80, .dport = 7000 };

	for (int audit = 0; audit < 2; audit++) {
		tracker__audit_begin(t, (__u64)(audit + 2) * SEC);
		tracker__audit_netns(t, NS);
		for (int i = 0; i < 1010; i++) {
			d.cookie = 1000 + (__u64)i;
			d.dport = (__u16)(7000 + i);
			tracker__audit_add(t, NS, &d, 0);
		}
		tracker__audit_end(t, (__u64)(audit + 2) * SEC);
		CHECK_EQ_INT(tracker__stats(t)->audit_untracked, 10, "sockets left out, each audit");
	}
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1000, "the sockets the table holds");
	CHECK_EQ_INT(tracker__stats(t)->corrections[TCP_TIME_WAIT][AUDIT_MISSING], 0,
		     "left-out sockets are not drift the audit corrected");
	tracker__free(t);
}

static void test_audit_shows_the_port_of_a_waiting_connect(void)
{
	struct tracker *t = new_tracker();
	struct diag_sock d = { .cookie = 9, .inode = 99, .state = TCP_SYN_SENT, .family = AF_INET,
			       .sport = 6000, .dport = 80 };

	d.saddr[0] = d.daddr[0] = 127;
	d.saddr[3] = d.daddr[3] = 1;
	client_to_time_wait(t, 7, 6000);
	/* its SYN unanswered, the new connect's only event so far has no port */
	state(t, 2 * SEC, 9, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	tracker__audit_begin(t, 3 * SEC);
	tracker__audit_netns(t, NS);
	tracker__audit_add(t, NS, &d, 10); /* the timewait sock it took over is not dumped */
	tracker__audit_end(t, 3 * SEC);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "TIME_WAIT taken over");
	CHECK_EQ_INT(host(t)[TCP_SYN_SENT], 1, "the waiting connect");
	CHECK_EQ_INT(tracker__stats(t)->tw_recycled, 1, "counted as recycled");
	CHECK_EQ_INT(tracker__stats(t)->corrections[TCP_TIME_WAIT][AUDIT_STALE], 0,
		     "not counted as drift");
	tracker__free(t);
}

static struct diag_sock dumped(__u64 cookie, int state, __u16 sport, __u16 dport)
{
	struct diag_sock d = { .cookie = cookie, .inode = 0, .state = state, .family = AF_INET,
			       .sport = sport, .dport = dport };

	d.saddr[0] = d.daddr[0] = 127;
	d.saddr[3] = d.daddr[3] = 1;
	return d;
}

/*
 * Kernels whose tracing programs cannot create cookies (before 5.12) key a socket by its address
 * until a dump gives it a cookie. A new socket at the address of one now in TIME_WAIT does not
 * end that TIME_WAIT; the next audit finds both entries by tuple under their new cookies.
 */
static void test_address_keys_meet_their_cookies_at_the_audit(void)
{
	const __u64 addr = 0xffff888012345600ull;
	struct tracker *t = new_tracker();
	struct diag_sock tw = dumped(77, TCP_TIME_WAIT, 6000, 80);
	struct diag_sock est = dumped(78, TCP_ESTABLISHED, 6001, 80);

	tracker__audit_begin(t, 0); /* seeding: nothing there yet */
	tracker__audit_end(t, 0);
	client_to_time_wait(t, addr, 6000);
	state(t, 2 * SEC, addr, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	state(t, 2 * SEC, addr, TCP_SYN_SENT, TCP_ESTABLISHED, 6001, 80, 0, "", 0);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 1, "TIME_WAIT outlives its socket's address");
	CHECK_EQ_INT(host(t)[TCP_ESTABLISHED], 1, "the new socket at that address");
	tracker__audit_begin(t, 3 * SEC);
	tracker__audit_netns(t, NS);
	tracker__audit_add(t, NS, &tw, 0);
	tracker__audit_add(t, NS, &est, 0);
	tracker__audit_end(t, 3 * SEC);
	CHECK_EQ_INT(sock_table__count(tracker__socks(t)), 2, "entries after the audit");
	CHECK_EQ_INT(tracker__stats(t)->rekeyed, 2, "entries matched by tuple");
	for (int st = 0; st < TCP_MAX_STATES; st++)
		for (int k = 0; k < AUDIT_FIX_MAX; k++)
			CHECK_EQ_INT(tracker__stats(t)->corrections[st][k], 0, "no drift");
	CHECK(sock_table__lookup(tracker__socks(t), 77) && sock_table__lookup(tracker__socks(t), 78),
	      "entries under the dump's cookies");
	/* the socket's events carry its cookie now */
	state(t, 4 * SEC, 78, TCP_ESTABLISHED, TCP_FIN_WAIT1, 6001, 80, 10, "client",
	      TS_F_OWNER_CTX);
	CHECK_EQ_INT(host(t)[TCP_ESTABLISHED], 0, "ESTABLISHED after close()");
	CHECK_EQ_INT(proc_table__find(tracker__procs(t), 10)->states[TCP_FIN_WAIT1], 1,
		     "owner kept across the new key");
	tracker__tick(t, SEC + 61 * SEC);
	CHECK_EQ_INT(host(t)[TCP_TIME_WAIT], 0, "TIME_WAIT still expires after 60 s");
	tracker__free(t);
}

/*
 * Before the kernel moved the child's state change after its setup (6.1, 5.10), a listener's
 * child enters SYN_RECV with the listener's cookie and tuple: the kernel side sends it as an
 * early birth, and the child's next event names it. The listener stays a listener.
 */
static void test_early_child_birth_is_named_by_its_next_event(void)
{
	struct tracker *t = new_tracker();
	struct ts_event est = { .ts_ns = 2 * SEC + 5000, .cookie = 200, .kind = TS_EV_STATE,
				.oldstate = TCP_SYN_RECV, .newstate = TCP_ESTABLISHED,
				.family = AF_INET, .sport = 80, .dport = 5000, .netns = NS, .pid = 99 };
	struct ev_view v;

	est.saddr[0] = est.daddr[0] = 127;
	est.saddr[3] = est.daddr[3] = 1;
	state(t, 1 * SEC, 1, TCP_CLOSE, TCP_LISTEN, 80, 0, 20, "server", TS_F_OWNER_CTX);
	state(t, 2 * SEC, 0, TCP_LISTEN, TCP_SYN_RECV, 80, 0, 99, "noise", TS_F_CHILD_EARLY);
	CHECK_EQ_INT(tracker__stats(t)->events_bad, 0, "an early birth is not a bad record");
	CHECK_EQ_INT(host(t)[TCP_LISTEN], 1, "the listener is still listening");
	CHECK_EQ_INT(host(t)[TCP_SYN_RECV], 0, "the child is not known yet");
	tracker__apply_event(t, &est, &v);
	CHECK(v.birth && v.birth->ev, "the birth is shown with the event that named the child");
	if (v.birth && v.birth->ev) {
		CHECK_EQ_INT(v.birth->ev->cookie, 200, "birth under the child's cookie");
		CHECK_EQ_INT(v.birth->ev->oldstate, TCP_LISTEN, "birth from LISTEN");
		CHECK_EQ_INT(v.birth->ev->ts_ns, 2 * SEC, "birth at its own time");
		CHECK_EQ_INT(v.birth->dport, 5000, "birth with the child's remote port");
	}
	CHECK_EQ_INT(v.ns_in_old, 5000, "time in SYN_RECV since the birth");
	CHECK_EQ_INT(host(t)[TCP_LISTEN], 1, "listener after the child's handshake");
	CHECK_EQ_INT(host(t)[TCP_ESTABLISHED], 1, "the child established");
	CHECK_EQ_INT(tracker__stats(t)->transitions[TCP_LISTEN][TCP_SYN_RECV], 1, "births");
	CHECK_EQ_INT(proc_table__find(tracker__procs(t), 20)->states[TCP_ESTABLISHED], 1,
		     "the child is charged to the listener's owner until accepted");
	/* an unrelated socket leaving SYN_RECV later finds no birth left */
	est.cookie = 300;
	est.dport = 5001;
	tracker__apply_event(t, &est, &v);
	CHECK(v.birth == NULL, "one birth names one child");
	tracker__free(t);
}

/* Records that do not decode, or of an unknown kind, are counted and change nothing. */
static void test_bad_records_counted(void)
{
	struct tracker *t = new_tracker();
	struct ts_event e = { .ts_ns = SEC, .cookie = 5, .kind = TS_EV_STATE, .oldstate = TCP_CLOSE,
			      .newstate = TCP_SYN_SENT, .family = AF_INET, .netns = NS };
	unsigned char buf[128];
	size_t n = ts_record__encode(&e, buf, sizeof(buf));
	struct ev_view v;

	tracker__apply(t, buf, n - 4, &v);
	CHECK(v.ev == NULL, "no view for a bad record");
	tracker__apply(t, buf, 3, NULL);
	((struct ts_record *)buf)->kind = TS_EV_KIND_MAX;
	tracker__apply(t, buf, n, NULL);
	CHECK_EQ_INT(tracker__stats(t)->events_bad, 3, "bad records counted");
	CHECK_EQ_INT(host(t)[TCP_SYN_SENT], 0, "SYN_SENT sockets after bad records");
	((struct ts_record *)buf)->kind = TS_EV_STATE;
	tracker__apply(t, buf, n, &v);
	CHECK(v.ev != NULL && v.ev->cookie == 5, "the good record's view");
	CHECK_EQ_INT(host(t)[TCP_SYN_SENT], 1, "SYN_SENT sockets after the good record");
	tracker__free(t);
}

/*
 * Cookie 0 names no socket (the kernel never hands it out; the table uses it for free slots).
 * Events that carry it are counted as bad and leave every count alone, whatever their kind.
 */
static void test_cookie_zero_is_a_bad_record(void)
{
	struct tracker *t = new_tracker();
	const struct ts_event rst = { .ts_ns = 5 * SEC, .kind = TS_EV_RESET_SENT, .netns = NS,
				      .family = AF_INET, .sport = 9, .dport = 40000,
				      .flags = TS_F_NO_SOCK };
	__u32 before[TCP_MAX_STATES];

	connect_and_accept(t);
	memcpy(before, host(t), sizeof(before));
	state(t, 4 * SEC, 0, TCP_ESTABLISHED, TCP_CLOSE_WAIT, 80, 5000, 99, "noise", 0);
	state(t, 4 * SEC, 0, TCP_CLOSE_WAIT, TCP_CLOSE, 80, 5000, 99, "noise", 0);
	state(t, 4 * SEC, 0, TCP_CLOSE, TCP_SYN_SENT, 0, 80, 10, "client", TS_F_OWNER_CTX);
	simple(t, 4 * SEC, 0, TS_EV_ACCEPT, 21);
	simple(t, 4 * SEC, 0, TS_EV_RESET_RECV, 0);
	CHECK_EQ_INT(tracker__stats(t)->events_bad, 5, "cookie-0 records counted as bad");
	CHECK(memcmp(before, host(t), sizeof(before)) == 0, "state counts unchanged");
	CHECK_EQ_INT(sock_table__count(tracker__socks(t)), 3, "sockets tracked");
	/* The exception: a reset the kernel sent for a packet that matched no socket. */
	apply_record(t, &rst);
	CHECK_EQ_INT(tracker__stats(t)->events_bad, 5, "a reset with no socket is not bad");
	CHECK_EQ_INT(tracker__stats(t)->resets_no_socket, 1, "resets sent with no socket");
	tracker__free(t);
}

TEST_MAIN("tracker", TL_CASE(test_bad_records_counted), TL_CASE(test_cookie_zero_is_a_bad_record),
	  TL_CASE(test_owners_survive_softirq_transitions),
	  TL_CASE(test_time_wait_model),
	  TL_CASE(test_peer_closed_before_orphan_event), TL_CASE(test_reset_last_ack_keeps_orphan),
	  TL_CASE(test_fin_received_close_is_time_wait_and_reset_is_not),
	  TL_CASE(test_time_wait_table_full_leaves_nothing),
	  TL_CASE(test_time_wait_recycled_by_a_new_connection),
	  TL_CASE(test_server_time_wait_recycled_by_a_new_syn),
	  TL_CASE(test_time_wait_taken_by_a_connect_whose_syn_is_retransmitted),
	  TL_CASE(test_time_wait_taken_by_a_connect_that_failed),
	  TL_CASE(test_time_wait_recycling_found_after_many_expire),
	  TL_CASE(test_reset_to_time_wait_kills_it), TL_CASE(test_time_wait_killed_early),
	  TL_CASE(test_audit_repairs_drift), TL_CASE(test_audit_forgets_namespaces_that_are_gone),
	  TL_CASE(test_audit_counts_sockets_a_full_table_leaves_out),
	  TL_CASE(test_audit_shows_the_port_of_a_waiting_connect),
	  TL_CASE(test_address_keys_meet_their_cookies_at_the_audit),
	  TL_CASE(test_early_child_birth_is_named_by_its_next_event))
