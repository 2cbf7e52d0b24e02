// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpstate kernel side: TCP state transitions, accepts, retransmits, resets and socket errors,
 * streamed as struct ts_record through a ring buffer per CPU. Every hook body is written once as an
 * __always_inline function; the SEC() functions are thin per-attach wrappers. User space picks
 * tp_btf or the classic tracepoint at start-up with bpf_program__set_autoload().
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "tcpstate_event.h"
#include "core_fixes.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_CA_LOSS 4

/* Set by user space before load. */
/* 0: the kernel's default (wake a reader that has caught up); else a power of two, see record_submit */
const volatile __u64 wakeup_bytes = 0;
/* tp_btf programs may call bpf_get_socket_cookie() (Linux 5.12+); see sock_key() */
const volatile bool cookie_helper = true;

/*
 * One ring buffer per CPU, so that producers on different CPUs share no lock and no cache
 * line: `events` holds them, indexed by CPU. User space creates the rings, sizes the template
 * and the array, and merges the rings by timestamp (src/ringbuf_reader.c).
 */
struct ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16); /* resized by user space from --ringbuf-kb */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* resized by user space to the number of possible CPUs */
	__type(key, __u32);
	__array(values, struct ring);
} events SEC(".maps");

/* Per-CPU loss counters, indexed by enum ts_drop_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TS_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(__u32 reason)
{
	__u64 *v = bpf_map_lookup_elem(&drops, &reason);

	if (v)
		*v += 1;
}

/*
 * A record's size: the head, the addresses of its family, the owner's comm. Constant at every
 * reserve (the verifier wants it), so the hot path is written once per family and comm and the
 * compiler keeps each copy's own size.
 */
#define RECORD_SIZE(family, owner) \
	(sizeof(struct ts_record) + TS_ADDR_BYTES(family) + ((owner) ? TS_COMM_LEN : 0))

/*
 * Reserve a record of size bytes in this CPU's ring, which *ring names for record_submit(), and
 * stamp it (after reserving: the reader's merge depends on that order). NULL (and counted) if
 * the ring is full. The program does not migrate between the two.
 */
static __always_inline struct ts_record *record_reserve(void **ring, const __u32 size)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct ts_record *e = NULL;

	*ring = bpf_map_lookup_elem(&events, &cpu);
	if (*ring)
		e = bpf_ringbuf_reserve(*ring, size, 0);
	if (!e) {
		count_drop(TS_DROP_RINGBUF);
		return NULL;
	}
	e->ts_ns = bpf_ktime_get_ns();
	return e;
}

/*
 * Submit, waking the reader only when this record takes the data queued in the ring across a
 * multiple of wakeup_bytes (a power of two): once per eighth of a ring, not on every record
 * after the first eighth. A wakeup raises an interrupt on this CPU (on a VM, a write to the
 * APIC that exits to the hypervisor), and the reader, once woken, may wait tens of
 * milliseconds for a CPU at full churn: waking it on every record meanwhile took 18% of
 * set_state_btf's time in one profile. A crossing missed because a nested program reserved
 * between this one's reserve and submit is made up at the next multiple, or by the reader's
 * own timer.
 */
static __always_inline void record_submit(struct ts_record *e, void *ring, const __u32 size)
{
	__u64 flags = 0;

	if (wakeup_bytes) {
		__u64 avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
		__u64 before = avail - ((size + BPF_RINGBUF_HDR_SZ + 7) & ~7u);

		flags = (avail ^ before) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	}
	bpf_ringbuf_submit(e, flags);
}

/*
 * Socket reads come in two flavours. tp_btf programs get a BTF-typed sk and read it directly
 * (plain loads the verifier guards, several times cheaper than a helper call per field);
 * the classic tracepoint and the accept hook only have an untyped pointer and use
 * bpf_probe_read_kernel through BPF_CORE_READ. `btf` is a compile-time constant at every
 * call site, so each program keeps only its own flavour.
 */
static __always_inline __u16 sk_family(const struct sock *sk, bool btf)
{
	return btf ? sk->__sk_common.skc_family : BPF_CORE_READ(sk, __sk_common.skc_family);
}

static __always_inline bool sk_is_tcp(const struct sock *sk, bool btf)
{
	__u16 family = sk_family(sk, btf);
	__u16 proto = btf ? BPF_CORE_READ_BITFIELD(sk, sk_protocol) : sk_protocol(sk);

	return proto == IPPROTO_TCP && (family == AF_INET || family == AF_INET6);
}

/*
 * The key that names a socket to user space: its cookie, which sock_diag reports too and which
 * the timewait sock taking its place keeps. bpf_get_socket_cookie() creates it where none exists
 * yet, but only tp_btf programs may call it, and only since Linux 5.12 (user space clears
 * cookie_helper before that; the verifier never looks at the branch not taken). Otherwise:
 * the cookie if someone already created one (sock_diag does, for every socket it dumps), else
 * the socket's address, flagged TS_F_COOKIE_PTR. `helper` is a compile-time constant.
 */
static __always_inline __u64 sock_key(const struct sock *sk, bool helper, __u8 *flag)
{
	__u64 cookie;

	*flag = 0;
	if (helper && cookie_helper)
		return bpf_get_socket_cookie((void *)sk);
	cookie = sk_cookie_read(sk);
	if (!cookie) {
		cookie = (__u64)sk;
		*flag = TS_F_COOKIE_PTR;
	}
	return cookie;
}

/*
 * The key of a state change's socket. A listener's new child enters SYN_RECV inside
 * inet_csk_clone_lock(): on some kernels (6.1, 5.10) before its cookie and remote end are set,
 * so that it still holds the listener's cookie and tuple, and a cookie created now would be
 * overwritten. Its remote port is 0 then (a child always has one): name no cookie, flag it, and
 * let user space tie it to the child's next event.
 */
static __always_inline __u64 state_key(const struct sock *sk, int oldstate, int newstate,
				       bool btf, __u8 *flag)
{
	if (oldstate == TCP_LISTEN && newstate == TCP_SYN_RECV &&
	    !(btf ? sk->__sk_common.skc_dport : BPF_CORE_READ(sk, __sk_common.skc_dport))) {
		*flag = TS_F_CHILD_EARLY;
		return 0;
	}
	return sock_key(sk, btf, flag);
}

/*
 * Fill the socket-derived fields: tuple, family, netns. The addresses go right after the head,
 * TS_ADDR_BYTES(family) of them; the record must have room for them.
 */
static __always_inline void fill_sock(struct ts_record *e, const struct sock *sk, bool btf,
				      __u16 family)
{
	const struct sock_common *c = &sk->__sk_common;
	__u8 *addr = (__u8 *)(e + 1);

	e->family = family;
	e->__pad[0] = e->__pad[1] = e->__pad[2] = 0;
	if (btf) {
		e->sport = c->skc_num;
		e->dport = __builtin_bswap16(c->skc_dport);
		e->netns = c->skc_net.net->ns.inum;
		if (family == AF_INET) {
			*(__u32 *)addr = c->skc_rcv_saddr;
			*(__u32 *)(addr + 4) = c->skc_daddr;
		} else {
			__builtin_memcpy(addr, &c->skc_v6_rcv_saddr, 16);
			__builtin_memcpy(addr + 16, &c->skc_v6_daddr, 16);
		}
		return;
	}
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (family == AF_INET) {
		bpf_core_read(addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(addr + 4, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(addr + 16, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/*
 * Name of the owner, only where the current task is the owner: elsewhere it would be wrong,
 * and reading it is a good part of an event's cost. It follows the addresses.
 */
static __always_inline void fill_owner(struct ts_record *e, const __u16 family)
{
	bpf_get_current_comm((char *)(e + 1) + TS_ADDR_BYTES(family), TS_COMM_LEN);
	e->flags |= TS_F_OWNER_CTX;
}

/*
 * Transitions that only a system call of the socket's user can cause: connect(), listen(),
 * close()/shutdown() of an established or CLOSE_WAIT socket, close() of a listener. All others
 * usually run in softirq or timer context, where the current task is unrelated.
 */
static __always_inline bool owner_context(int oldstate, int newstate)
{
	switch (newstate) {
	case TCP_SYN_SENT:
		return oldstate == TCP_CLOSE;
	case TCP_LISTEN:
		return oldstate == TCP_CLOSE;
	case TCP_FIN_WAIT1:
		return oldstate == TCP_ESTABLISHED || oldstate == TCP_SYN_RECV;
	case TCP_LAST_ACK:
		return oldstate == TCP_CLOSE_WAIT;
	case TCP_CLOSE:
		return oldstate == TCP_LISTEN;
	}
	return false;
}

/*
 * Reserve a record about a TCP socket outside state changes, with room for IPv6 addresses
 * whatever the family (these events are rare; user space reads what family says), and fill the
 * common fields. NULL if not TCP or no room. The task is never taken for the owner.
 */
static __always_inline struct ts_record *sock_record_start(const struct sock *sk, __u8 kind,
							   void **ring)
{
	struct ts_record *e;
	__u8 flag;

	if (!sk_is_tcp(sk, true))
		return NULL;
	e = record_reserve(ring, RECORD_SIZE(AF_INET6, false));
	if (!e)
		return NULL;
	__builtin_memset(e + 1, 0, TS_ADDR_BYTES(AF_INET6));
	e->kind = kind;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->cookie = sock_key(sk, true, &flag);
	e->oldstate = e->newstate = sk->__sk_common.skc_state;
	e->flags = flag;
	fill_sock(e, sk, true, sk->__sk_common.skc_family);
	return e;
}

/*
 * One state change, for a socket of a known family, with or without the owner's comm: both
 * are constants at each call, so each copy reserves its own record size.
 */
static __always_inline void emit_state(const struct sock *sk, __u64 cookie, __u8 cookie_flag,
				       int oldstate, int newstate, __u32 pid, bool btf,
				       const __u16 family, const bool owner)
{
	const __u32 size = RECORD_SIZE(family, owner);
	void *ring;
	struct ts_record *e = record_reserve(&ring, size);

	if (!e)
		return;
	e->cookie = cookie;
	e->pid = pid;
	e->kind = TS_EV_STATE;
	e->oldstate = oldstate;
	e->newstate = newstate;
	e->flags = cookie_flag;
	e->aux = 0;
	fill_sock(e, sk, btf, family);
	if (owner)
		fill_owner(e, family);
	if (sk_fin_received(sk, btf))
		e->flags |= TS_F_FIN_RCVD;
	if (newstate == TCP_CLOSE && oldstate == TCP_SYN_SENT && tcp_syn_went_out(sk))
		e->flags |= TS_F_SYN_OUT;
	if (newstate == TCP_CLOSE && (oldstate == TCP_FIN_WAIT1 || oldstate == TCP_FIN_WAIT2 ||
				      oldstate == TCP_CLOSING)) {
		/* a pointer stands in for a missing cookie: the timewait sock has none to match */
		int sub = sk_timewait_substate(sk, cookie_flag ? 0 : cookie);

		if (sub >= 0) {
			e->aux = sub;
			e->flags |= TS_F_TW_KNOWN;
		}
	}
	record_submit(e, ring, size);
}

static __always_inline int handle_set_state(const struct sock *sk, __u64 cookie, __u8 cookie_flag,
					    int oldstate, int newstate, bool btf)
{
	__u32 pid;
	bool owner;

	if (!sk_is_tcp(sk, btf))
		return 0;
	pid = bpf_get_current_pid_tgid() >> 32;
	owner = pid && owner_context(oldstate, newstate);
	if (sk_family(sk, btf) == AF_INET) {
		if (owner)
			emit_state(sk, cookie, cookie_flag, oldstate, newstate, pid, btf, AF_INET, true);
		else
			emit_state(sk, cookie, cookie_flag, oldstate, newstate, pid, btf, AF_INET, false);
	} else {
		if (owner)
			emit_state(sk, cookie, cookie_flag, oldstate, newstate, pid, btf, AF_INET6, true);
		else
			emit_state(sk, cookie, cookie_flag, oldstate, newstate, pid, btf, AF_INET6, false);
	}
	return 0;
}

/*
 * The kernel skips a tp_btf program that fires again on a CPU where it is already running
 * (counted in bpf_prog_info.recursion_misses). That happens here: an interrupt arrives while
 * set_state_btf runs in a task (close(), or a socket backlog processed with softirqs enabled),
 * and the softirq on its way out processes packets whose state changes fire the tracepoint
 * again. Measured with one program: 40-214 of 16,500 events skipped for 1,500 loopback
 * connections, thousands per second at full churn.
 *
 * So a second program on the same tracepoint stands in. Programs run in attach order, so when
 * set_state_nested runs, set_state_btf has either run for this event or been skipped, and it
 * was skipped exactly when its run counter on this CPU (bpf_prog->active, which the kernel
 * raises before the program's first instruction and lowers after its last) shows a run still
 * under way further up the stack. At start user space runs find_main_prog, which finds that
 * per-CPU counter through the bpf_link iterator; set_state_nested reads this CPU's copy of it
 * and handles the event only when it is non-zero. That is the kernel's own test, so every
 * skipped run is caught, including those before set_state_btf's first instruction or after
 * its last.
 *
 * Kernels without the bpf_link iterator (before 5.19) fall back to a mark: set_state_btf flags
 * its CPU busy while its body runs, and set_state_nested handles an event when it finds the
 * flag. Events skipped in the few instructions around the body are then lost, and counted.
 *
 * Every event set_state_nested handles is one of set_state_btf's skipped runs, so the events
 * really lost are set_state_btf's recursion misses minus TS_NESTED_HANDLED. set_state_nested's
 * own skipped runs are not losses: they happen while it checks for a task-level event, and the
 * nested event then finds set_state_btf idle.
 */
struct nest_cpu {
	__u64 main_active; /* this CPU's copy of set_state_btf's bpf_prog->active; 0: not known */
	__u64 self;	   /* this element's address, stored to be read back as a number */
	__u32 mark;	   /* fallback: set_state_btf's body is running on this CPU */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nest_cpu);
} busy SEC(".maps");

/* Filled by find_main_prog; main_prog_id is set by user space before it runs. */
__u32 main_prog_id = 0;
__u64 main_active_pcpu = 0; /* set_state_btf's bpf_prog->active, a per-CPU address */
__u64 busy_pcpu = 0;	    /* busy's per-CPU base address (bpf_array.pptrs[0]) */
__u64 busy_addr = 0;	    /* busy's struct bpf_array, as a number (the verifier allows no
			     * arithmetic on a map pointer; one read back from memory is a number) */

SEC("iter/bpf_link")
int find_main_prog(struct bpf_iter__bpf_link *ctx)
{
	struct bpf_link *link = ctx->link;
	struct bpf_prog *prog;

	if (!link || main_active_pcpu)
		return 0;
	prog = link->prog;
	if (!prog || BPF_CORE_READ(prog, aux, id) != main_prog_id)
		return 0;
	busy_addr = (__u64)&busy; /* stored and read back: a number, fit for arithmetic */
	if (bpf_core_read(&busy_pcpu, sizeof(busy_pcpu),
			  (void *)(*(volatile __u64 *)&busy_addr +
				   bpf_core_field_offset(struct bpf_array, pptrs))))
		return 0;
	main_active_pcpu = (__u64)BPF_CORE_READ(prog, active);
	return 0;
}

/* Is set_state_btf running further up this CPU's stack, so that it skipped this event? */
static __always_inline bool main_prog_skipped(struct nest_cpu *n)
{
	int active = 0;

	if (!n->main_active) {
		if (!main_active_pcpu)
			return n->mark;
		/*
		 * Once per CPU: the per-CPU offset of this CPU is where busy's copy for it lies
		 * relative to busy's base; the counter's copy lies at the same offset.
		 */
		n->self = (__u64)n;
		n->main_active = *(volatile __u64 *)&n->self - busy_pcpu + main_active_pcpu;
	}
	if (bpf_probe_read_kernel(&active, sizeof(active), (void *)n->main_active))
		return n->mark;
	return active != 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_btf, const struct sock *sk, int oldstate, int newstate)
{
	__u32 zero = 0;
	struct nest_cpu *n = main_active_pcpu ? NULL : bpf_map_lookup_elem(&busy, &zero);
	__u8 flag;
	__u64 key = state_key(sk, oldstate, newstate, true, &flag);

	if (n)
		n->mark = 1;
	handle_set_state(sk, key, flag, oldstate, newstate, true);
	if (n)
		n->mark = 0;
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state_nested, const struct sock *sk, int oldstate, int newstate)
{
	__u32 zero = 0;
	struct nest_cpu *n = bpf_map_lookup_elem(&busy, &zero);
	__u8 flag;
	__u64 key;

	if (!n || !main_prog_skipped(n))
		return 0;
	count_drop(TS_NESTED_HANDLED);
	key = state_key(sk, oldstate, newstate, true, &flag);
	return handle_set_state(sk, key, flag, oldstate, newstate, true);
}

/*
 * Fallback where tp_btf programs cannot load: classic tracepoints cannot create socket cookies
 * (sock_key without the helper).
 */
SEC("tracepoint/sock/inet_sock_set_state")
int set_state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;
	__u8 flag;
	__u64 key;

	if (ctx->protocol != IPPROTO_TCP)
		return 0;
	key = state_key(sk, ctx->oldstate, ctx->newstate, false, &flag);
	return handle_set_state(sk, key, flag, ctx->oldstate, ctx->newstate, false);
}

/*
 * accept()/accept4() returned fd: find the struct socket behind the fd in the current task's
 * file table and report its cookie with the accepting process (the owner of a passive socket).
 * bpf_get_current_task() and probe reads rather than bpf_get_current_task_btf(), which needs
 * Linux 5.11: once per accepted connection, the difference does not show.
 */
static __always_inline int handle_accept(long fd)
{
	struct task_struct *task;
	struct fdtable *fdt;
	struct file **fdarray;
	struct file *file;
	struct socket *sock;
	struct sock *sk;
	struct ts_record *e;
	void *ring;
	__u8 flag;

	if (fd < 0)
		return 0;
	task = (struct task_struct *)bpf_get_current_task();
	fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	fdarray = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&file, sizeof(file), &fdarray[fd]) || !file)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || !sk_is_tcp(sk, false))
		return 0;
	/*
	 * Only what user space needs: the cookie names a socket it knows from its state events
	 * (tuple included), and the accepting task is its owner. No addresses: family 0.
	 */
	e = record_reserve(&ring, RECORD_SIZE(0, true));
	if (!e)
		return 0;
	__builtin_memset((void *)e + sizeof(e->ts_ns), 0, sizeof(*e) - sizeof(e->ts_ns));
	e->kind = TS_EV_ACCEPT;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	fill_owner(e, 0);
	/*
	 * The accepted socket has had its cookie since its first state change where the state
	 * programs can create one; elsewhere the same keying as theirs.
	 */
	e->cookie = sock_key(sk, false, &flag);
	e->flags |= flag;
	e->aux = fd;
	record_submit(e, ring, RECORD_SIZE(0, true));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_accept(ctx->ret);
}

/* Events about one socket outside state changes: the task is never assumed to be the owner. */
static __always_inline int emit_sock_event(const struct sock *sk, __u8 kind, __u32 aux)
{
	void *ring;
	struct ts_record *e = sock_record_start(sk, kind, &ring);

	if (!e)
		return 0;
	e->aux = aux;
	record_submit(e, ring, RECORD_SIZE(AF_INET6, false));
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(retransmit_btf, const struct sock *sk, const struct sk_buff *skb)
{
	const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)sk;
	__u8 state = sk->__sk_common.skc_state;
	__u32 kind = TS_RETRANS_FAST;

	if (state == TCP_SYN_SENT)
		kind = TS_RETRANS_SYN;
	else if (BPF_CORE_READ_BITFIELD_PROBED(icsk, icsk_ca_state) == TCP_CA_LOSS)
		kind = TS_RETRANS_RTO;
	return emit_sock_event(sk, TS_EV_RETRANS, kind);
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(retransmit_synack_btf, const struct sock *sk, const struct request_sock *req)
{
	return emit_sock_event(sk, TS_EV_SYNACK_RETRANS, TS_RETRANS_SYNACK);
}

/*
 * The tuple of the socket a reset goes to, from the packet that caused it (its source). A
 * reset kills a TIME_WAIT socket without any event, so user space needs to know where it went.
 * The record has room for IPv6 addresses. Returns false if the packet cannot be read.
 */
static __always_inline bool fill_reset_recipient(struct ts_record *e, const struct sk_buff *skb)
{
	unsigned char *head = skb->head;
	__u16 nh = skb->network_header, th = skb->transport_header;
	__u8 *addr = (__u8 *)(e + 1);
	struct tcphdr tcp;
	__u8 ver;

	if (bpf_probe_read_kernel(&ver, 1, head + nh) || bpf_probe_read_kernel(&tcp, 4, head + th))
		return false;
	if ((ver >> 4) != 4 && (ver >> 4) != 6)
		return false; /* keep the socket's own tuple */
	__builtin_memset(addr, 0, TS_ADDR_BYTES(AF_INET6));
	if ((ver >> 4) == 4) {
		e->family = AF_INET;
		bpf_probe_read_kernel(addr, 4, head + nh + offsetof(struct iphdr, saddr));
		bpf_probe_read_kernel(addr + 4, 4, head + nh + offsetof(struct iphdr, daddr));
	} else if ((ver >> 4) == 6) {
		e->family = AF_INET6;
		bpf_probe_read_kernel(addr, 16, head + nh + offsetof(struct ipv6hdr, saddr));
		bpf_probe_read_kernel(addr + 16, 16, head + nh + offsetof(struct ipv6hdr, daddr));
	}
	e->sport = __builtin_bswap16(tcp.source);
	e->dport = __builtin_bswap16(tcp.dest);
	e->flags |= TS_F_SKB_TUPLE;
	return true;
}

/*
 * A reset this host sends. `reason` is the kernel's enum sk_rst_reason where the tracepoint has
 * it (Linux 6.10+), else ~0.
 */
static __always_inline int handle_send_reset(const struct sock *sk, const struct sk_buff *skb,
					     __u32 reason)
{
	struct ts_record *e;
	void *ring;

	if (sk) {
		e = sock_record_start(sk, TS_EV_RESET_SENT, &ring);
		if (!e)
			return 0;
	} else {
		/* A reset for a packet that matched no socket, e.g. a SYN to a closed port. */
		e = record_reserve(&ring, RECORD_SIZE(AF_INET6, false));
		if (!e)
			return 0;
		__builtin_memset((void *)e + sizeof(e->ts_ns), 0,
				 RECORD_SIZE(AF_INET6, false) - sizeof(e->ts_ns));
		e->kind = TS_EV_RESET_SENT;
		e->pid = bpf_get_current_pid_tgid() >> 32;
		e->flags = TS_F_NO_SOCK;
		if (skb)
			e->netns = skb->dev->nd_net.net->ns.inum;
	}
	e->aux = reason;
	if (skb)
		fill_reset_recipient(e, skb);
	record_submit(e, ring, RECORD_SIZE(AF_INET6, false));
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(send_reset_btf, const struct sock *sk, const struct sk_buff *skb, int reason)
{
	return handle_send_reset(sk, skb, reason);
}

/* Before Linux 6.10 the tracepoint has no reason argument: reading one is refused. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(send_reset_btf2, const struct sock *sk, const struct sk_buff *skb)
{
	return handle_send_reset(sk, skb, ~0u);
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(receive_reset_btf, const struct sock *sk)
{
	return emit_sock_event(sk, TS_EV_RESET_RECV, 0);
}

/*
 * The error callback also runs without an error: for each TX timestamp or zerocopy completion
 * queued on the error queue, and when a refused blocking connect() disconnects the socket after
 * sock_error() has taken sk_err. Only a set sk_err is a socket error.
 */
SEC("tp_btf/inet_sk_error_report")
int BPF_PROG(error_report_btf, const struct sock *sk)
{
	int err = sk->sk_err;

	return err ? emit_sock_event(sk, TS_EV_SOCK_ERROR, err) : 0;
}

/*
 * A timewait sock killed before its timer ran out: a reset received, a SYN that starts a new
 * connection on its tuple, a connect() that took the tuple over (tcp_tw_reuse), a reset it
 * answered with. None of these is a state change, and before Linux 6.10 the resets behind most
 * of them (tcp_v4_send_reset) are not traced either. Its expiry is not here: user space knows
 * when that is due. fentry only: kernels without it lose this hook alone.
 */
SEC("fentry/inet_twsk_deschedule_put")
int BPF_PROG(tw_kill_fentry, struct inet_timewait_sock *tw)
{
	const struct sock_common *c = &tw->__tw_common;
	__u16 family = c->skc_family;
	struct ts_record *e;
	void *ring;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	e = record_reserve(&ring, RECORD_SIZE(AF_INET6, false));
	if (!e)
		return 0;
	__builtin_memset(e + 1, 0, TS_ADDR_BYTES(AF_INET6));
	e->kind = TS_EV_TW_KILLED;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->cookie = c->skc_cookie.counter;
	e->oldstate = e->newstate = TCP_TIME_WAIT;
	e->flags = 0;
	e->aux = tw->tw_substate;
	fill_sock(e, (const struct sock *)tw, true, family);
	record_submit(e, ring, RECORD_SIZE(AF_INET6, false));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
