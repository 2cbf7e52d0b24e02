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

/* Indexes of the per-CPU counters of map `drops`. */
enum ts_drop_reason {
	TS_DROP_RINGBUF = 0,	/* bpf_ringbuf_reserve failed: ring buffer full */
	TS_NESTED_HANDLED = 1,	/* events set_state_nested handled for a skipped set_state_btf */
	TS_DROP_MAX,
};

/*
 * One event: 112 bytes. Addresses are in network byte order; IPv4 uses the first 4 bytes.
 * Ports are in host byte order. family is AF_INET or AF_INET6.
 */
struct ts_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cookie;		/* socket cookie (same value ss -e prints as sk:<hex>) */
	__u64 cgroup_id;	/* reserved, 0 (cgroups are read from /proc/<pid>/cgroup) */
	__u32 netns;		/* network namespace inode */
	__u32 pid;		/* tgid of the current task (owner only with TS_F_OWNER_CTX) */
	__u32 tid;
	__u32 aux;		/* kind-specific, see enum ts_event_kind */
	__u16 kind;		/* enum ts_event_kind */
	__u8 oldstate;		/* TCP_* as in the kernel */
	__u8 newstate;
	__u16 family;
	__u16 sport;
	__u16 dport;
	__u8 flags;		/* TS_F_* */
	__u8 __pad0;
	__u32 aux2;		/* kind-specific */
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[TS_COMM_LEN];
};

#endif /* TCPSTATE_EVENT_H */
