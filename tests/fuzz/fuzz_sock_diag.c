// SPDX-License-Identifier: GPL-2.0-only
/*
 * sock_diag replies (src/sock_diag.c). The input is one or more recv() buffers separated by
 * FUZZ_SPLIT, fed to sock_diag__parse() in turn until one ends the dump, as sock_diag__dump()
 * does; each buffer is an exact-size heap copy at an odd address (the parser promises no
 * alignment needs). The first byte (if the input has more than one) picks after how many sockets
 * the callback stops the dump (0: never).
 */
#include <errno.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "sock_diag.h"

#define FUZZ_SPLIT "--8<--"
#define STOP_RET 7

struct seen {
	unsigned count, stop_at;
};

static int on_sock(const struct diag_sock *s, void *ctx)
{
	static const __u8 zero[12];
	struct seen *seen = ctx;

	FUZZ_ASSERT(s->family == AF_INET || s->family == AF_INET6, "family %u", s->family);
	FUZZ_ASSERT(s->has_meminfo <= 1, "has_meminfo %u", s->has_meminfo);
	if (s->family == AF_INET)
		FUZZ_ASSERT(!memcmp(s->saddr + 4, zero, 12) && !memcmp(s->daddr + 4, zero, 12),
			    "IPv4 addresses must leave bytes 4..15 zero");
	seen->count++;
	return seen->stop_at && seen->count >= seen->stop_at ? STOP_RET : 0;
}

/* One buffer; returns the parser's result. */
static int parse_one(const uint8_t *p, size_t n, struct seen *seen)
{
	unsigned char *copy = malloc(n + 1);
	int ret;

	if (!copy)
		abort();
	memcpy(copy + 1, p, n);
	ret = sock_diag__parse(copy + 1, n, on_sock, seen);
	free(copy);
	FUZZ_ASSERT(ret == 0 || ret == 1 || ret == STOP_RET || (ret < 0 && ret > -4096),
		    "unexpected result %d", ret);
	FUZZ_ASSERT(ret != STOP_RET || seen->stop_at, "stop value without a stop");
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t slen = sizeof(FUZZ_SPLIT) - 1;
	struct seen seen = { 0, 0 };
	const uint8_t *p = data, *end = data + size;

	if (size > 1 && data[0] < 8) {
		seen.stop_at = data[0];
		p++;
	}
	for (;;) {
		const uint8_t *cut = memmem(p, (size_t)(end - p), FUZZ_SPLIT, slen);
		size_t n = cut ? (size_t)(cut - p) : (size_t)(end - p);

		if (parse_one(p, n, &seen))
			break; /* done, error or stopped: a dump reads no further */
		if (!cut)
			break;
		p = cut + slen;
	}
	/* No input may make the parser read from a NULL buffer or accept one. */
	FUZZ_ASSERT(sock_diag__parse(NULL, 1, on_sock, &seen) == -EINVAL, "NULL buffer accepted");
	return 0;
}
