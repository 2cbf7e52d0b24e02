// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring buffer records to events and back. The record leaves out what most events do not need
 * (IPv6-sized addresses, a comm outside the owner's context) so that the BPF programs write one
 * cache line per event instead of two; this is the only place that knows the layout.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "record.h"

/* struct ts_event starts with struct ts_record's head, field for field. */
#define SAME_FIELD(f)                                                                              \
	_Static_assert(offsetof(struct ts_event, f) == offsetof(struct ts_record, f) &&            \
			       sizeof(((struct ts_event *)0)->f) == sizeof(((struct ts_record *)0)->f), \
		       "struct ts_event and struct ts_record differ at " #f)
SAME_FIELD(ts_ns);
SAME_FIELD(cookie);
SAME_FIELD(netns);
SAME_FIELD(pid);
SAME_FIELD(aux);
SAME_FIELD(kind);
SAME_FIELD(oldstate);
SAME_FIELD(newstate);
SAME_FIELD(flags);
SAME_FIELD(sport);
SAME_FIELD(dport);
SAME_FIELD(family);
SAME_FIELD(__pad);
_Static_assert(offsetof(struct ts_event, saddr) == sizeof(struct ts_record),
	       "struct ts_event's addresses follow the head");

_Static_assert(TS_ADDR_BYTES(AF_INET) == 8 && TS_ADDR_BYTES(AF_INET6) == 32,
	       "TS_ADDR_BYTES uses this system's address family numbers");

/* Bytes of addresses after the head for a family; -1 if the family is not one we send. */
static int addr_bytes(int family)
{
	return family == 0 || family == AF_INET || family == AF_INET6 ? TS_ADDR_BYTES(family) : -1;
}

static size_t record_size(int family, __u8 flags)
{
	return sizeof(struct ts_record) + (size_t)addr_bytes(family) +
	       (flags & TS_F_OWNER_CTX ? TS_COMM_LEN : 0);
}

/*
 * The addresses and the comm, with a constant size in each branch so that the compiler turns
 * the copies into a few moves: this runs for every event.
 */
static void decode_tail(const struct ts_record *r, struct ts_event *e)
{
	const unsigned char *p = (const unsigned char *)(r + 1);

	memset(e->saddr, 0, sizeof(e->saddr));
	memset(e->daddr, 0, sizeof(e->daddr));
	if (r->family == AF_INET) {
		memcpy(e->saddr, p, 4);
		memcpy(e->daddr, p + 4, 4);
		p += 8;
	} else if (r->family == AF_INET6) {
		memcpy(e->saddr, p, 16);
		memcpy(e->daddr, p + 16, 16);
		p += 32;
	}
	if (r->flags & TS_F_OWNER_CTX) {
		memcpy(e->comm, p, TS_COMM_LEN);
		e->comm[TS_COMM_LEN - 1] = '\0';
	} else {
		memset(e->comm, 0, TS_COMM_LEN);
	}
}

int ts_record__decode(const void *data, size_t size, struct ts_event *e)
{
	const struct ts_record *r = data;

	if (size < sizeof(*r) || addr_bytes(r->family) < 0 ||
	    size < record_size(r->family, r->flags))
		return -EINVAL;
	memcpy(e, r, sizeof(*r));
	decode_tail(r, e);
	return 0;
}

size_t ts_record__encode(const struct ts_event *e, void *buf, size_t len)
{
	struct ts_record *r = buf;
	unsigned char *p = (unsigned char *)(r + 1);
	size_t size;

	if (addr_bytes(e->family) < 0)
		return 0;
	size = record_size(e->family, e->flags);
	if (size > len)
		return 0;
	memcpy(r, e, sizeof(*r));
	if (e->family == AF_INET) {
		memcpy(p, e->saddr, 4);
		memcpy(p + 4, e->daddr, 4);
		p += 8;
	} else if (e->family == AF_INET6) {
		memcpy(p, e->saddr, 16);
		memcpy(p + 16, e->daddr, 16);
		p += 32;
	}
	if (e->flags & TS_F_OWNER_CTX)
		memcpy(p, e->comm, TS_COMM_LEN);
	return size;
}
