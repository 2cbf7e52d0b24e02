// SPDX-License-Identifier: GPL-2.0-only
/* TCP state names, address text and JSON string escaping. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>

#include "format.h"

static const char *const state_lower[TCP_MAX_STATES] = {
	[TCP_ESTABLISHED] = "established", [TCP_SYN_SENT] = "syn_sent",
	[TCP_SYN_RECV] = "syn_recv",	   [TCP_FIN_WAIT1] = "fin_wait1",
	[TCP_FIN_WAIT2] = "fin_wait2",	   [TCP_TIME_WAIT] = "time_wait",
	[TCP_CLOSE] = "close",		   [TCP_CLOSE_WAIT] = "close_wait",
	[TCP_LAST_ACK] = "last_ack",	   [TCP_LISTEN] = "listen",
	[TCP_CLOSING] = "closing",	   [TCP_NEW_SYN_RECV] = "new_syn_recv",
};

static const char *const state_upper[TCP_MAX_STATES] = {
	[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
	[TCP_SYN_RECV] = "SYN_RECV",	   [TCP_FIN_WAIT1] = "FIN_WAIT1",
	[TCP_FIN_WAIT2] = "FIN_WAIT2",	   [TCP_TIME_WAIT] = "TIME_WAIT",
	[TCP_CLOSE] = "CLOSE",		   [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCP_LAST_ACK] = "LAST_ACK",	   [TCP_LISTEN] = "LISTEN",
	[TCP_CLOSING] = "CLOSING",	   [TCP_NEW_SYN_RECV] = "NEW_SYN_RECV",
};

const char *tcp_state_name(int state)
{
	if (state <= 0 || state >= TCP_MAX_STATES)
		return "unknown";
	return state_lower[state];
}

const char *tcp_state_upper(int state)
{
	if (state <= 0 || state >= TCP_MAX_STATES)
		return "UNKNOWN";
	return state_upper[state];
}

int tcp_state_parse(const char *s)
{
	char norm[32];
	size_t i;

	for (i = 0; s[i] && i < sizeof(norm) - 1; i++)
		norm[i] = s[i] == '-' ? '_' : (char)tolower((unsigned char)s[i]);
	if (s[i])
		return -1;
	norm[i] = '\0';
	for (int st = 1; st < TCP_MAX_STATES; st++)
		if (!strcmp(norm, state_lower[st]))
			return st;
	return -1;
}

static bool addr_is_v4mapped(const __u8 a[16])
{
	static const __u8 prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a, prefix, sizeof(prefix));
}

int addr_effective_family(int family, const __u8 addr[16])
{
	if (family == AF_INET6 && addr_is_v4mapped(addr))
		return AF_INET;
	return family;
}

char *addr_format(int family, const __u8 addr[16], char *buf, size_t len)
{
	if (family == AF_INET6 && addr_is_v4mapped(addr))
		inet_ntop(AF_INET, addr + 12, buf, len);
	else if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

char *endpoint_format(int family, const __u8 addr[16], int port, bool show_port, char *buf,
		      size_t len)
{
	char a[INET6_ADDRSTRLEN];
	bool v6 = addr_effective_family(family, addr) == AF_INET6;

	addr_format(family, addr, a, sizeof(a));
	if (show_port)
		snprintf(buf, len, v6 ? "[%s]:%d" : "%s:%d", a, port);
	else
		snprintf(buf, len, v6 ? "[%s]:*" : "%s:*", a);
	return buf;
}

size_t utf8_seq_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned need, cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 1, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 2, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 3, cp = p[0] & 0x07;
	else
		return 0; /* a continuation byte, 0xc0/0xc1 (always overlong) or past U+10FFFF */
	/* The NUL terminator is not a continuation byte: this stops at the end of s. */
	for (unsigned i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, past U+10FFFF, or a UTF-16 surrogate */
	return need + 1;
}

size_t json_escape(char *dst, size_t len, const char *s)
{
	size_t n = 0;

#define PUT(c)                                                                                     \
	do {                                                                                       \
		if (n + 1 < len)                                                                   \
			dst[n] = (c);                                                              \
		n++;                                                                               \
	} while (0)
	PUT('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t seq = utf8_seq_len((const char *)p);

		if (*p == '"' || *p == '\\') {
			PUT('\\');
			PUT(*p);
		} else if (*p < 0x20 || *p == 0x7f || !seq) {
			char esc[8];

			/* A byte that is not UTF-8 becomes U+FFFD, the replacement character. */
			snprintf(esc, sizeof(esc), "\\u%04x", seq ? *p : 0xfffd);
			for (int i = 0; esc[i]; i++)
				PUT(esc[i]);
		} else {
			for (size_t i = 0; i < seq; i++)
				PUT(p[i]);
			p += seq - 1;
		}
	}
	PUT('"');
#undef PUT
	if (len)
		dst[n < len ? n : len - 1] = '\0';
	return n;
}

char *text_printable(char *dst, size_t len, const char *s)
{
	size_t n = 0;

	if (!len)
		return dst;
	while (*s && n + 1 < len) {
		size_t seq = utf8_seq_len(s);

		if (!seq || (unsigned char)*s < 0x20 || *s == 0x7f) {
			dst[n++] = '?';
			s++;
			continue;
		}
		if (n + seq >= len)
			break; /* a character that does not fit whole is left out */
		memcpy(dst + n, s, seq);
		n += seq;
		s += seq;
	}
	dst[n] = '\0';
	return dst;
}

void json_write_string(FILE *f, const char *s)
{
	char buf[256];
	size_t n = json_escape(buf, sizeof(buf), s);

	if (n < sizeof(buf)) {
		fputs(buf, f);
		return;
	}
	char *big = malloc(n + 1);

	if (!big) {
		fputs("\"\"", f);
		return;
	}
	json_escape(big, n + 1, s);
	fputs(big, f);
	free(big);
}

struct errno_entry {
	int err;
	const char *name;
};

static const struct errno_entry errno_names[] = {
	{ ECONNREFUSED, "ECONNREFUSED" }, { ECONNRESET, "ECONNRESET" },
	{ ETIMEDOUT, "ETIMEDOUT" },	  { EHOSTUNREACH, "EHOSTUNREACH" },
	{ ENETUNREACH, "ENETUNREACH" },	  { EPIPE, "EPIPE" },
	{ ECONNABORTED, "ECONNABORTED" }, { EPROTO, "EPROTO" },
	{ EMSGSIZE, "EMSGSIZE" },	  { ENETDOWN, "ENETDOWN" },
	{ EHOSTDOWN, "EHOSTDOWN" },	  { EACCES, "EACCES" },
	{ EPERM, "EPERM" },		  { ENOBUFS, "ENOBUFS" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL" },
};

const char *errno_name(int err, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	snprintf(buf, len, "E%d", err);
	return buf;
}
