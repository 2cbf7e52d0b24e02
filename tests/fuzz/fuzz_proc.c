// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc text (src/proc_info.c): comm, cgroup, /proc/net/netstat, ip_local_port_range and
 * one-integer sysctl files. The first byte picks the parser (low 3 bits) and the size of the
 * output buffer (high 5 bits, 1 to 32 bytes); the rest is the file's content.
 */
#include <errno.h>

#include "fuzz.h"
#include "proc_info.h"

static void check_string(int ret, const char *buf, size_t len)
{
	if (ret)
		return;
	FUZZ_ASSERT(memchr(buf, '\0', len), "result not NUL-terminated within %zu bytes", len);
}

static void fuzz_comm(const uint8_t *p, size_t n, size_t len)
{
	char *text = fuzz_memdup(p, n), *buf = malloc(len);
	int ret = proc__parse_comm(text, n, buf, len);

	FUZZ_ASSERT(ret == 0 || ret == -ERANGE, "comm: %d", ret);
	check_string(ret, buf, len);
	/* Only the final newline goes: what is kept is the input's beginning. */
	if (!ret && !memchr(p, '\0', n))
		FUZZ_ASSERT(strlen(buf) == n - (n && p[n - 1] == '\n') &&
				    !memcmp(buf, p, strlen(buf)),
			    "comm not kept as it was");
	free(buf);
	free(text);
}

static void fuzz_cgroup(const uint8_t *p, size_t n, size_t len)
{
	char *text = fuzz_strndup(p, n), *buf = malloc(len);
	int ret = proc__parse_cgroup(text, buf, len);

	FUZZ_ASSERT(ret == 0 || ret == -ERANGE || ret == -ENOENT, "cgroup: %d", ret);
	check_string(ret, buf, len);
	if (!ret)
		FUZZ_ASSERT(!strchr(buf, '\n'), "cgroup path holds a newline");
	free(buf);
	free(text);
}

static void fuzz_netstat(const uint8_t *p, size_t n)
{
	char *text = fuzz_strndup(p, n);
	struct netstat_listen nl;
	int ret = proc__parse_netstat(text, &nl);

	FUZZ_ASSERT(ret == 0 || ret == -ENOENT || ret == -EINVAL, "netstat: %d", ret);
	free(text);
}

static void fuzz_port_range(const uint8_t *p, size_t n)
{
	char *text = fuzz_strndup(p, n);
	int lo = -1, hi = -1, ret = proc__parse_port_range(text, &lo, &hi);

	FUZZ_ASSERT(ret == 0 || ret == -EINVAL, "port range: %d", ret);
	if (!ret)
		FUZZ_ASSERT(lo >= 1 && lo <= hi && hi <= 65535, "port range %d-%d", lo, hi);
	free(text);
}

static void fuzz_int(const uint8_t *p, size_t n)
{
	char *text = fuzz_strndup(p, n);
	long v;
	int ret = proc__parse_int(text, &v);

	FUZZ_ASSERT(ret == 0 || ret == -EINVAL || ret == -ERANGE, "int: %d", ret);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;

	if (!size)
		return 0;
	len = (size_t)(data[0] >> 3) + 1;
	switch (data[0] & 7) {
	case 0:
		fuzz_comm(data + 1, size - 1, len);
		break;
	case 1:
		fuzz_cgroup(data + 1, size - 1, len);
		break;
	case 2:
		fuzz_netstat(data + 1, size - 1);
		break;
	case 3:
		fuzz_port_range(data + 1, size - 1);
		break;
	default:
		fuzz_int(data + 1, size - 1);
		break;
	}
	return 0;
}
