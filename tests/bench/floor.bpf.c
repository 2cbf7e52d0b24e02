// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reference points for `make bench`: what any tracer pays on the hooks tcpstate uses, below
 * tcpstate's own work. Loaded by tests/bench/floor.c, one mode at a time:
 *
 *   hooks_*  empty programs on exactly the hooks tcpstate runs on for every connection (two on
 *            inet_sock_set_state, the accept4 syscall exit): the price of being attached.
 *   ring_*   the least a streaming tracer can do: one record of tcpstate's common size (an
 *            IPv4 state change without a comm) per state change (clock, cookie, tuple) into a
 *            ring buffer per CPU, woken as tcpstate's reader is, drained by a reader that
 *            does nothing with it.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "tcpstate_event.h"

const volatile __u64 wakeup_bytes = 1;

struct ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ring);
} rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} full SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(hooks_state, const struct sock *sk, int oldstate, int newstate)
{
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(hooks_state_second, const struct sock *sk, int oldstate, int newstate)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int hooks_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return 0;
}

#define RING_RECORD TS_RECORD_V4

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ring_state, const struct sock *sk, int oldstate, int newstate)
{
	const struct sock_common *c = &sk->__sk_common;
	__u32 cpu = bpf_get_smp_processor_id(), zero = 0;
	void *ring = bpf_map_lookup_elem(&rings, &cpu);
	struct ts_record *e = ring ? bpf_ringbuf_reserve(ring, RING_RECORD, 0) : NULL;
	__u64 *n, avail;

	if (!e) {
		n = bpf_map_lookup_elem(&full, &zero);
		if (n)
			*n += 1;
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->cookie = bpf_get_socket_cookie((void *)sk);
	e->kind = TS_EV_STATE;
	e->oldstate = oldstate;
	e->newstate = newstate;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->family = c->skc_family;
	e->sport = c->skc_num;
	e->dport = __builtin_bswap16(c->skc_dport);
	*(__u32 *)(e + 1) = c->skc_rcv_saddr;
	*((__u32 *)(e + 1) + 1) = c->skc_daddr;
	avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
	/* tcpstate's rule: wake once per multiple of wakeup_bytes crossed */
	bpf_ringbuf_submit(e, (avail ^ (avail - RING_RECORD - BPF_RINGBUF_HDR_SZ)) >= wakeup_bytes
				      ? BPF_RB_FORCE_WAKEUP
				      : BPF_RB_NO_WAKEUP);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
