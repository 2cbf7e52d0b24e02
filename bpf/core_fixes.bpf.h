/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CO-RE shims for kernel differences, in one place. Each one names the kernel change it covers.
 */
#ifndef TCPSTATE_CORE_FIXES_BPF_H
#define TCPSTATE_CORE_FIXES_BPF_H

#include <vmlinux.h>
#include <bpf/bpf_core_read.h>

/*
 * Linux 5.6 turned sk_protocol from an 8-bit bitfield into a u16 (for MPTCP's protocol
 * number). Read it either way.
 */
static __always_inline __u16 sk_protocol(const struct sock *sk)
{
	return (__u16)BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

/*
 * Has the peer's FIN been received? tcp_fin() sets SOCK_DONE; sk_shutdown's RCV bit is no
 * answer because close() sets both shutdown bits on every socket it closes. The enum value is
 * relocated, in case the flag numbering ever changes.
 */
static __always_inline bool sk_fin_received(const struct sock *sk, bool btf)
{
	unsigned long flags = btf ? sk->__sk_common.skc_flags /* sk_flags */
				  : BPF_CORE_READ(sk, __sk_common.skc_flags);

	return flags & (1ul << bpf_core_enum_value(enum sock_flags, SOCK_DONE));
}

/*
 * Has this connecting socket sent its SYN? A connect() that fails before (no route, no free
 * port, a bound port whose tuple is taken) sends none. tcp_disconnect() clears segs_out for
 * the socket's next life. Read only on SYN_SENT -> CLOSE, so the helper call costs nothing.
 */
static __always_inline bool tcp_syn_went_out(const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;

	return BPF_CORE_READ(tp, segs_out) != 0;
}

/*
 * The timewait sock that took the place of a socket closing now (-> TCP_CLOSE), if any. When a
 * socket enters TIME_WAIT (or an orphan's FIN_WAIT2) the kernel puts a timewait sock with the same
 * cookie into the socket's established-hash chain, and only then sets TCP_CLOSE. When the
 * TIME_WAIT table is full (tcp_max_tw_buckets) it closes the socket without one, and the state
 * change looks the same. Returns the timewait sock's substate (TCP_TIME_WAIT or TCP_FIN_WAIT2),
 * 0 if there is none, -1 if this cannot be told (an older kernel, a long chain). Without a
 * cookie (kernels whose tracing programs cannot create one) the timewait sock is the one with
 * the socket's addresses and remote port: the local port reads 0 by now, and the chain is the
 * 4-tuple's own hash bucket, so another match there would take a hash collision.
 */
#define TW_CHAIN_SCAN 4

static __always_inline int sk_timewait_substate(const struct sock *sk, __u64 cookie)
{
	struct inet_hashinfo *h;
	struct inet_ehash_bucket *bucket;
	struct hlist_nulls_node *n;
	struct sock_common *c;
	unsigned long off;
	__u64 addrs;
	__u32 hash;
	__u16 dport;

	if (!bpf_core_field_exists(struct inet_timewait_death_row, hashinfo))
		return -1;
	h = BPF_CORE_READ(sk, __sk_common.skc_net.net, ipv4.tcp_death_row.hashinfo);
	if (!h)
		return -1;
	addrs = BPF_CORE_READ(sk, __sk_common.skc_addrpair);
	dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	hash = BPF_CORE_READ(sk, __sk_common.skc_hash);
	bucket = BPF_CORE_READ(h, ehash) + (hash & BPF_CORE_READ(h, ehash_mask));
	n = BPF_CORE_READ(bucket, chain.first);
	off = bpf_core_field_offset(struct sock_common, skc_nulls_node);
	for (int i = 0; i < TW_CHAIN_SCAN; i++) {
		if (!n || ((unsigned long)n & 1)) /* end of the chain: a "nulls" marker */
			return 0;
		c = (struct sock_common *)((unsigned long)n - off);
		if (BPF_CORE_READ(c, skc_state) == TCP_TIME_WAIT &&
		    (cookie ? BPF_CORE_READ(c, skc_cookie.counter) == cookie
			    : BPF_CORE_READ(c, skc_addrpair) == addrs &&
				      BPF_CORE_READ(c, skc_dport) == dport))
			return BPF_CORE_READ((struct inet_timewait_sock *)c, tw_substate);
		n = BPF_CORE_READ(n, next);
	}
	return -1; /* a long chain: not scanned to its end */
}

/*
 * The socket cookie lives in sock_common since Linux 4.12 (skc_cookie). Reading it does not
 * create one: it is 0 until someone (our tp_btf programs, sock_diag, SO_COOKIE) asked for it.
 */
static __always_inline __u64 sk_cookie_read(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

#endif
