/* SPDX-License-Identifier: GPL-2.0-only */
/* Names and text forms shared by every output: TCP states, addresses, JSON strings. */
#ifndef TCPSTATE_FORMAT_H
#define TCPSTATE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

/* Kernel TCP state numbers (include/net/tcp_states.h). */
enum tcp_state {
	TCP_ESTABLISHED = 1,
	TCP_SYN_SENT,
	TCP_SYN_RECV,
	TCP_FIN_WAIT1,
	TCP_FIN_WAIT2,
	TCP_TIME_WAIT,
	TCP_CLOSE,
	TCP_CLOSE_WAIT,
	TCP_LAST_ACK,
	TCP_LISTEN,
	TCP_CLOSING,
	TCP_NEW_SYN_RECV,
	TCP_MAX_STATES,
};

/* "established", "close_wait", ...; "unknown" outside the range. Never NULL. */
const char *tcp_state_name(int state);
/* "ESTABLISHED", "CLOSE_WAIT", ... for tables. Never NULL. */
const char *tcp_state_upper(int state);
/* Parse a state name in either case, with '_' or '-' ("close-wait", "TIME_WAIT"); -1 if unknown. */
int tcp_state_parse(const char *s);

/*
 * Format an address in the shortest usual text form into buf (at least 46 bytes). IPv4-mapped
 * IPv6 addresses are printed as IPv4. Returns buf.
 */
char *addr_format(int family, const __u8 addr[16], char *buf, size_t len);
/* Format "addr:port" ("[v6]:port" for IPv6; port shown as "*" when show_port is false). */
char *endpoint_format(int family, const __u8 addr[16], int port, bool show_port, char *buf,
		      size_t len);
/* Family after unmapping IPv4-mapped IPv6 (AF_INET for ::ffff:a.b.c.d). */
int addr_effective_family(int family, const __u8 addr[16]);

/*
 * Length (1 to 4) of the well-formed UTF-8 character at the start of the NUL-terminated s, or 0
 * if its first byte does not start one (stray continuation byte, overlong form, UTF-16
 * surrogate, past U+10FFFF, cut short). Never reads past the NUL.
 */
size_t utf8_seq_len(const char *s);
/*
 * Write s as a JSON string literal (quotes included): valid UTF-8 whatever s holds. Quote and
 * backslash are backslash-escaped, control characters (and DEL) written as \u00XX, each byte
 * that is not part of a well-formed UTF-8 character as \ufffd (U+FFFD); the rest is kept.
 */
void json_write_string(FILE *f, const char *s);
/* Same into a buffer; returns the length it needed (like snprintf). */
size_t json_escape(char *dst, size_t len, const char *s);

/*
 * Copy s into dst (len bytes, NUL-terminated, cut to fit) for a text table or log line: control
 * characters (newline, escape...) and bytes that are not well-formed UTF-8 become '?', so that
 * a process's name can neither break a line nor send terminal escapes. Returns dst.
 */
char *text_printable(char *dst, size_t len, const char *s);

/* Name of an errno value ("ECONNREFUSED"), or "E<number>" in buf for unknown ones. */
const char *errno_name(int err, char *buf, size_t len);

#endif
