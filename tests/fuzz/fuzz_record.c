// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring records (src/record.c) and what the tracker makes of them (src/tracker.c, the audit
 * reconciliation of src/tracker_audit.c and the tables under them). The input is a stream of
 * items, each one length byte then that many bytes:
 * - a record (length below AUDIT_ITEM, an exact-size heap copy as the ring hands records over):
 *   decoded on its own (a decoded record must encode back to the same event) and applied;
 * - AUDIT_ITEM: the bytes that follow are one socket of a sock_diag dump, made into what the
 *   parser can produce (family AF_INET or AF_INET6, IPv4 addresses in 4 bytes, any state); the
 *   first one begins an audit, as audit__run() does before it dumps;
 * - AUDIT_END (no bytes): the dumped sockets are added, listeners first, and the audit ends.
 * At the end of the input an open audit ends and the modelled TIME_WAIT sockets are expired.
 */
#include <errno.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "record.h"
#include "sock_diag.h"
#include "tracker.h"

#define SEC 1000000000ull
#define NETNS 4026531840u
#define AUDIT_ITEM 0xff
#define AUDIT_END 0xfe
#define MAX_DUMPED 64

struct audit {
	bool open;
	int n;
	struct diag_sock d[MAX_DUMPED];
};

static void check_decode(const void *rec, size_t n)
{
	struct ts_event e, again;
	unsigned char buf[128];
	size_t len;

	memset(&e, 0xa5, sizeof(e));
	if (ts_record__decode(rec, n, &e))
		return;
	FUZZ_ASSERT(e.family == 0 || e.family == AF_INET || e.family == AF_INET6, "family %u",
		    e.family);
	FUZZ_ASSERT(e.comm[TS_COMM_LEN - 1] == '\0', "comm not terminated");
	len = ts_record__encode(&e, buf, sizeof(buf));
	FUZZ_ASSERT(len > 0 && len <= n, "a %zu-byte record encodes to %zu bytes", n, len);
	memset(&again, 0x5a, sizeof(again));
	FUZZ_ASSERT(ts_record__decode(buf, len, &again) == 0, "re-encoded record refused");
	FUZZ_ASSERT(!memcmp(&e, &again, sizeof(e)), "decode(encode(e)) != e");
}

/* One dumped socket from n bytes, shaped as sock_diag__parse() hands them over. */
static void audit_item(struct tracker *t, struct audit *a, const uint8_t *p, size_t n, __u64 ts)
{
	struct diag_sock *d;

	if (!a->open) {
		FUZZ_ASSERT(tracker__audit_begin(t, ts) == 0, "audit_begin failed");
		a->open = true;
		a->n = 0;
	}
	if (a->n == MAX_DUMPED)
		return;
	d = &a->d[a->n++];
	memset(d, 0, sizeof(*d));
	memcpy(d, p, n < sizeof(*d) ? n : sizeof(*d));
	d->family = d->family & 1 ? AF_INET : AF_INET6;
	d->has_meminfo &= 1;
	if (d->family == AF_INET) {
		memset(d->saddr + 4, 0, 12);
		memset(d->daddr + 4, 0, 12);
	}
}

/* The reconciliation of audit__run(): listeners first, then the rest; then the end. */
static void audit_end(struct tracker *t, struct audit *a, __u64 ts)
{
	if (!a->open)
		return;
	tracker__audit_netns(t, NETNS);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < a->n; i++)
			if ((a->d[i].state == 10) == (pass == 0)) /* TCP_LISTEN */
				tracker__audit_add(t, NETNS, &a->d[i], a->d[i].inode % 7 ? 100 : 0);
	tracker__audit_end(t, ts);
	a->open = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct audit a;
	struct tracker_opts o = {
		.max_sockets = 64,
		.max_procs = 16,
		.time_wait_ns = 60 * SEC,
		.fin_timeout_ns = 60 * SEC,
		.proc_root = "tests/fixtures/proc",
	};
	struct tracker *t = tracker__new(&o);
	__u64 last_ts = 0;
	struct ev_view v;

	if (!t)
		abort();
	a.open = false;
	while (size) {
		size_t want = data[0] == AUDIT_ITEM ? sizeof(struct diag_sock)
			      : data[0] == AUDIT_END ? 0 : data[0];
		size_t n = want < size - 1 ? want : size - 1;
		void *rec;

		if (data[0] == AUDIT_ITEM) {
			audit_item(t, &a, data + 1, n, last_ts);
		} else if (data[0] == AUDIT_END) {
			audit_end(t, &a, last_ts + 1);
		} else {
			rec = fuzz_memdup(data + 1, n);
			check_decode(rec, n);
			tracker__apply(t, rec, n, &v);
			if (n >= sizeof(__u64))
				memcpy(&last_ts, rec, sizeof(last_ts));
			free(rec);
		}
		data += n + 1;
		size -= n + 1;
	}
	audit_end(t, &a, last_ts + 1);
	tracker__update_close_wait_oldest(t);
	tracker__tick(t, last_ts + 120 * SEC);
	tracker__free(t);
	return 0;
}
