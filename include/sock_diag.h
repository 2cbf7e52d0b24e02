/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * NETLINK_SOCK_DIAG dump of the TCP sockets of one network namespace (what `ss -tan` reads).
 *
 * How the kernel answers (net/ipv4/tcp_diag.c, checked on 6.18):
 * - The state mask has one bit per kernel TCP_* state (1 << TCP_ESTABLISHED ...). Listeners are
 *   walked only when the TCP_LISTEN bit is set; everything else comes from the established hash.
 * - Request sockets (SYN received, handshake not complete: kernel state TCP_NEW_SYN_RECV = 12)
 *   are dumped whenever the TCP_SYN_RECV bit (1 << 3) is set: the kernel adds the
 *   TCP_NEW_SYN_RECV bit itself. They are reported with state TCP_SYN_RECV (3), inode 0, uid 0,
 *   rqueue/wqueue 0 and expires = time left on the SYN-ACK retransmit timer. Setting bit 12
 *   alone also works. A full socket in SYN_RECV (rare: TCP Fast Open child) reports 3 as well.
 *   The request sock's cookie is kept by the child socket created when the handshake completes
 *   (checked on 6.18), so a SYN_RECV entry can be followed into ESTABLISHED.
 * - Timewait sockets are filtered and reported by their *substate*: a normal one is
 *   TCP_TIME_WAIT (6), but an orphaned FIN_WAIT2 socket that the kernel turned into a timewait
 *   sock (close() before the peer's FIN, tcp_fin_timeout <= 60 s) is reported as TCP_FIN_WAIT2
 *   (5) with inode 0 and expires = what is left of tcp_fin_timeout; it is matched by the
 *   FIN_WAIT2 bit, not the TIME_WAIT bit. Timewait sockets keep the cookie of the full socket.
 * - Full sockets that are still in the accept queue (handshake done, not accept()ed yet) have
 *   no struct socket: inode 0 and uid 0, like timewait and request sockets.
 * - INET_DIAG_SKMEMINFO is only sent for full sockets: has_meminfo is 0 for timewait and
 *   request sockets even when asked for.
 * - Bound-but-inactive sockets (bind() then nothing; TCP_CLOSE) are only dumped for bit 13
 *   (TCP_BOUND_INACTIVE, kernel >= 6.8), which DIAG_ALL_STATES does not include, as `ss -a`.
 * - An AF_INET6 request also returns dual-stack sockets talking IPv4 (::ffff:a.b.c.d). This
 *   module reports those as AF_INET, so one connection is never seen under two families.
 */
#ifndef TCPSTATE_SOCK_DIAG_H
#define TCPSTATE_SOCK_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Every TCP state from ESTABLISHED (1) to CLOSING (11); with SYN_RECV this includes request
 * sockets, see above. */
#define DIAG_ALL_STATES 0xfff

/* Kernel state numbers that do not appear in <netinet/tcp.h> or older uapi headers. */
#define DIAG_TCP_NEW_SYN_RECV 12
#define DIAG_TCP_BOUND_INACTIVE 13

/* One socket as reported by the kernel. */
struct diag_sock {
	__u64 cookie; /* cookie[0] | (u64)cookie[1] << 32 == bpf_get_socket_cookie() */
	__u32 inode;  /* 0 for timewait, request and not-yet-accepted sockets */
	__u32 uid;
	__u8 state;  /* kernel TCP_* (TIME_WAIT=6; request socks show as SYN_RECV=3) */
	__u8 family; /* AF_INET / AF_INET6; IPv4-mapped IPv6 is converted to AF_INET */
	__u8 has_meminfo;
	__u8 pad;
	__u16 sport, dport;	   /* host byte order */
	__u8 saddr[16], daddr[16]; /* network order; IPv4 in the first 4 bytes, rest zero */
	__u32 rqueue, wqueue;	   /* LISTEN: accept queue length and limit (ss Recv-Q/Send-Q) */
	__u32 expires_ms;	   /* idiag_expires (e.g. TIME_WAIT remaining lifetime) */
	__u32 drops;		   /* SK_MEMINFO_DROPS from INET_DIAG_SKMEMINFO when has_meminfo */
};

/*
 * Called once per socket; the record is only valid during the call. A non-zero return stops the
 * dump and is returned by sock_diag__dump()/sock_diag__parse(): use a negative errno (or a value
 * above 1, so that sock_diag__parse() callers can tell it from "done").
 */
typedef int (*diag_sock_cb)(const struct diag_sock *s, void *ctx);

/*
 * Open a NETLINK_SOCK_DIAG socket (close-on-exec) in the calling thread's current network
 * namespace. Returns the fd, owned by the caller, or -errno.
 */
int sock_diag__open(void);

/*
 * Dump the TCP sockets whose state bit is in state_mask (see above), AF_INET first, then
 * AF_INET6, calling cb for each. with_meminfo asks for INET_DIAG_SKMEMINFO (fills drops).
 * fd is a socket from sock_diag__open() (or any NETLINK_SOCK_DIAG socket); it stays usable after
 * a callback stopped the dump (the rest of the reply is read and discarded). Replies to older
 * requests are skipped by sequence number. Waits at most 5 s for each reply buffer (sets
 * SO_RCVTIMEO on fd).
 * Returns 0, the callback's non-zero value, or -errno: the kernel's error (e.g. -EPERM),
 * -EPROTO for a malformed reply, -EMSGSIZE if a reply did not fit the receive buffer,
 * -ETIMEDOUT if the kernel did not answer. After -EPROTO, -EMSGSIZE or -ETIMEDOUT the fd may hold
 * unread data: close it.
 */
int sock_diag__dump(int fd, __u32 state_mask, bool with_meminfo, diag_sock_cb cb, void *ctx);

/*
 * Parse one recv() buffer of a sock_diag dump reply, calling cb for each socket message.
 * Every length (nlmsg_len, rta_len) is checked; nothing past buf + len is read; buf needs no
 * particular alignment. No sequence number check. Returns 1 when NLMSG_DONE was seen, 0 if more
 * buffers are to come, the callback's non-zero value if it stopped, the kernel's -errno for an
 * NLMSG_ERROR (or an NLMSG_DONE carrying an error), -EPROTO for a malformed buffer (an error
 * code outside -4095..-1 included).
 */
int sock_diag__parse(const void *buf, size_t len, diag_sock_cb cb, void *ctx);

#endif /* TCPSTATE_SOCK_DIAG_H */
