// SPDX-License-Identifier: GPL-2.0-only
/*
 * Option values (src/cli.c, src/http_server.c, src/format.c): --listen, integer options with
 * their ranges, durations, --state lists, --ringbuf-kb. The first byte picks the parser; the rest
 * is the value as a C string.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cli.h"
#include "format.h"
#include "fuzz.h"
#include "http_server.h"

static void fuzz_listen(const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char err[256];
	int ret;

	memset(err, 0x5a, sizeof(err));
	ret = http_server__parse_listen(s, &ss, &len, err, sizeof(err));
	if (ret) {
		FUZZ_ASSERT(ret < 0, "listen: %d", ret);
		FUZZ_ASSERT(memchr(err, '\0', sizeof(err)), "error message not terminated");
		return;
	}
	FUZZ_ASSERT((ss.ss_family == AF_INET && len == sizeof(struct sockaddr_in)) ||
			    (ss.ss_family == AF_INET6 && len == sizeof(struct sockaddr_in6)),
		    "listen: family %d with length %u", ss.ss_family, (unsigned)len);
}

static void fuzz_long(const char *s, long min, long max)
{
	long v = min - 1;

	if (!cli_parse_long("fuzz", s, min, max, &v))
		FUZZ_ASSERT(v >= min && v <= max, "%ld outside %ld..%ld", v, min, max);
}

static void fuzz_seconds(const char *s)
{
	__u64 ns = 0;

	if (!cli_parse_seconds("duration", s, 31536000, &ns))
		FUZZ_ASSERT(ns <= 31536000ull * 1000000000ull, "duration %llu ns",
			    (unsigned long long)ns);
}

/* The mask a --state list means, worked out apart from cli.c: -1 if a name is unknown. */
static long long expected_states(const char *s)
{
	long long mask = 0;

	while (*s) {
		size_t n = strcspn(s, ",");
		char *tok = fuzz_strndup((const uint8_t *)s, n);
		int st = tcp_state_parse(tok);

		free(tok);
		if (n && st < 0)
			return -1;
		if (n)
			mask |= 1ll << st;
		s += n + (s[n] == ',');
	}
	return mask;
}

static void fuzz_states(const char *s)
{
	long long want = expected_states(s);
	__u32 mask = 0;
	int st = tcp_state_parse(s), ret;

	FUZZ_ASSERT(st == -1 || (st > 0 && st < TCP_MAX_STATES), "state %d", st);
	ret = cli_parse_states(s, &mask);
	FUZZ_ASSERT(ret == 0 || ret == -EINVAL, "states: %d", ret);
	FUZZ_ASSERT(ret ? want < 0 : want == (long long)mask,
		    "--state of %zu bytes: cli_parse_states gives %d/%#x, expected mask %#llx",
		    strlen(s), ret, mask, want);
}

static void fuzz_ringbuf(const char *s)
{
	__u32 bytes = 0;

	if (!cli_parse_ringbuf(s, &bytes))
		FUZZ_ASSERT(bytes >= 4096 && !(bytes & (bytes - 1)), "ring of %u bytes", bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (!size)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	switch (data[0] % 6) {
	case 0:
		fuzz_listen(s);
		break;
	case 1:
		fuzz_long(s, 0, 65535); /* --port */
		break;
	case 2:
		fuzz_long(s, 1, 0x7fffffff); /* --pid */
		break;
	case 3:
		fuzz_seconds(s);
		break;
	case 4:
		fuzz_states(s);
		break;
	default:
		fuzz_ringbuf(s);
		break;
	}
	free(s);
	return 0;
}
