/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The records the BPF programs send to user space through the ring buffer. Included by both
 * sides: fixed-width types only, explicit padding, no pointers.
 */
#ifndef TCPSTATE_EVENT_H
#define TCPSTATE_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TS_COMM_LEN 16

/* What a record is about. */
enum ts_event_kind {
	TS_EV_STATE = 1,	/* inet_sock_set_state: oldstate -> newstate */
	TS_EV_ACCEPT = 2,	/* accept()/accept4() returned this socket to pid */
	TS_EV_RETRANS = 3,	/* tcp_retransmit_skb; aux = enum ts_retrans_kind */
	TS_EV_SYNACK_RETRANS = 4, /* tcp_retransmit_synack; socket is the listener */
	TS_EV_RESET_SENT = 5,	/* tcp_send_reset; aux = kernel reset reason (or ~0 if none) */
	TS_EV_RESET_RECV = 6,	/* tcp_receive_reset */
	TS_EV_SOCK_ERROR = 7,	/* inet_sk_error_report; aux = errno */
	TS_EV_TW_KILLED = 8,	/* inet_twsk_deschedule_put: a timewait sock ended before its
				 * time (a reset, a new connection on its tuple); aux = its
				 * substate; cookie 0 if it never had one */
	TS_EV_KIND_MAX,
};

enum ts_retrans_kind {
	TS_RETRANS_SYN = 0,	/* SYN not answered (socket in SYN_SENT) */
	TS_RETRANS_RTO = 1,	/* after a retransmission timeout (congestion state Loss) */
	TS_RETRANS_FAST = 2,	/* fast retransmit, TLP or other recovery */
	TS_RETRANS_SYNACK = 3,	/* listener retransmitted a SYN-ACK */
	TS_RETRANS_KIND_MAX,
};

/* ts_event.flags */
#define TS_F_OWNER_CTX (1u << 0) /* ran in the socket owner's process context: pid/comm valid */
#define TS_F_COOKIE_PTR (1u << 1) /* cookie is a kernel pointer (classic tracepoint fallback) */
#define TS_F_FIN_RCVD (1u << 2) /* the peer's FIN had been received (SOCK_DONE) */
#define TS_F_NO_SOCK (1u << 3) /* reset sent with no socket (e.g. to a closed port) */
#define TS_F_SKB_TUPLE (1u << 4) /* reset sent: the tuple is the recipient's (from the packet
				  * that caused it): saddr:sport = recipient, daddr:dport = us */
#define TS_F_TW_KNOWN (1u << 5) /* a close from FIN_WAIT1/FIN_WAIT2/CLOSING looked for the
				 * timewait sock taking the socket's place: aux is its substate
				 * (TCP_TIME_WAIT or TCP_FIN_WAIT2), 0 if there is none */
#define TS_F_SYN_OUT (1u << 6) /* SYN_SENT -> CLOSE after the SYN went out: connect() had made
				* the tuple its own (a timewait sock it took it from is gone) */
#define TS_F_CHILD_EARLY (1u << 7) /* LISTEN -> SYN_RECV of a listener's child still holding the
				    * listener's copied cookie and tuple (kernels before the
				    * state change moved after the child's setup): cookie 0,
				    * sport the listener's port; its next event names it */

/* Indexes of the per-CPU counters of map `drops`. */
enum ts_drop_reason {
	TS_DROP_RINGBUF = 0,	/* bpf_ringbuf_reserve failed: ring buffer full */
	TS_NESTED_HANDLED = 1,	/* events set_state_nested handled for a skipped set_state_btf */
	TS_DROP_MAX,
};

/*
 * What the BPF programs write into the ring: a 40-byte head, the addresses, then the current
 * task's comm when TS_F_OWNER_CTX is set. The addresses take 2 x 4 bytes for AF_INET, 2 x 16
 * for AF_INET6 and none when family is 0 (accept records, a reset the kernel sent for a packet
 * it could not parse). Most events are IPv4 without a comm: 48 bytes, 56 with the ring's own
 * 8-byte header, so that a record usually touches one cache line instead of two. Rare events
 * (retransmits, resets, errors) always take room for IPv6 addresses and may be longer than
 * their family needs. All fields are in host byte order except the addresses (network order).
 */
struct ts_record {
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC; first, the reader merges by it */
	__u64 cookie;		/* socket cookie (same value ss -e prints as sk:<hex>) */
	__u32 netns;		/* network namespace inode */
	__u32 pid;		/* tgid of the current task (owner only with TS_F_OWNER_CTX) */
	__u32 aux;		/* kind-specific, see enum ts_event_kind */
	__u8 kind;		/* enum ts_event_kind */
	__u8 oldstate;		/* TCP_* as in the kernel */
	__u8 newstate;
	__u8 flags;		/* TS_F_* */
	__u16 sport;
	__u16 dport;
	__u8 family;		/* 0, AF_INET or AF_INET6: which addresses follow */
	__u8 __pad[3];
};

/*
 * Bytes of addresses after the head for a family: AF_INET (2), AF_INET6 (10), else none. Numbers,
 * because the BPF side has no <sys/socket.h>; src/record.c checks them against it.
 */
#define TS_ADDR_BYTES(family) ((family) == 10 ? 32 : (family) == 2 ? 8 : 0)
/* The common record: an IPv4 state change without a comm. */
#define TS_RECORD_V4 (sizeof(struct ts_record) + TS_ADDR_BYTES(2))

/*
 * One event as user space works with it, decoded from a struct ts_record by
 * ts_record__decode() (src/record.c): the same head, field for field (so that decoding copies
 * it whole), then fixed-size addresses and comm. IPv4 addresses use the first 4 bytes of
 * saddr/daddr; comm is empty unless TS_F_OWNER_CTX is set.
 */
struct ts_event {
	__u64 ts_ns;
	__u64 cookie;
	__u32 netns;
	__u32 pid;
	__u32 aux;
	__u8 kind;
	__u8 oldstate;
	__u8 newstate;
	__u8 flags;
	__u16 sport;
	__u16 dport;
	__u8 family;
	__u8 __pad[3];
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[TS_COMM_LEN];
};

#endif /* TCPSTATE_EVENT_H */
