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
 * The socket cookie lives in sock_common since Linux 4.12 (skc_cookie). Reading it does not
 * create one: it is 0 until someone (our tp_btf programs, sock_diag, SO_COOKIE) asked for it.
 */
static __always_inline __u64 sk_cookie_read(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

#endif
