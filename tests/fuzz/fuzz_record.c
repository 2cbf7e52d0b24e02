// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring records (src/record.c) and what the tracker makes of them (src/tracker.c and the tables
 * under it). The input is a stream of records, each one length byte then that many bytes (an
 * exact-size heap copy, as the ring hands records over). Every record is decoded on its own
 * (a decoded record must encode back to the same event) and applied to one tracker; the
 * modelled TIME_WAIT sockets are then expired.
 */
#include <errno.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "record.h"
#include "tracker.h"

#define SEC 1000000000ull

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
	while (size) {
		size_t n = data[0] < size - 1 ? data[0] : size - 1;
		void *rec = fuzz_memdup(data + 1, n);

		check_decode(rec, n);
		tracker__apply(t, rec, n, &v);
		if (n >= sizeof(__u64))
			memcpy(&last_ts, rec, sizeof(last_ts));
		free(rec);
		data += n + 1;
		size -= n + 1;
	}
	tracker__update_close_wait_oldest(t);
	tracker__tick(t, last_ts + 120 * SEC);
	tracker__free(t);
	return 0;
}
