// SPDX-License-Identifier: GPL-2.0-only
/* Which kernel hooks run and how (see include/hooks.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "hooks.h"

struct hook_info {
	const char *name; /* as users see it */
	const char *tp;	  /* the tracepoint: BTF name btf_trace_<tp>, tracefs <tp_group>/<tp> */
	const char *tp_group;
	int min_args;	   /* arguments our tp_btf program reads */
	const char *since; /* where the tracepoint is not in every kernel we serve */
	const char *lost;  /* what is lost while the hook is off */
};

static const struct hook_info hook_info[HOOK_COUNT] = {
	[HOOK_SET_STATE] = { "inet_sock_set_state", "inet_sock_set_state", "sock", 3, NULL,
			     "no state changes: tcpstate cannot run" },
	[HOOK_NESTED] = { "nested_state_changes", NULL, NULL, 0, NULL,
			  "state changes nested in an interrupt are lost (and counted)" },
	[HOOK_ACCEPT] = { "accept", "sys_exit_accept4", "syscalls", 0, NULL,
			  "accepted sockets stay charged to the listener's owner" },
	[HOOK_RETRANSMIT] = { "tcp_retransmit_skb", "tcp_retransmit_skb", "tcp", 2, NULL,
			      "no retransmit counts" },
	[HOOK_RETRANSMIT_SYNACK] = { "tcp_retransmit_synack", "tcp_retransmit_synack", "tcp", 2,
				     NULL, "no SYN-ACK retransmit counts" },
	[HOOK_SEND_RESET] = { "tcp_send_reset", "tcp_send_reset", "tcp", 2, NULL,
			      "no counts of resets sent; TIME_WAIT sockets ended by a reset are "
			      "found by the next audit" },
	[HOOK_RECEIVE_RESET] = { "tcp_receive_reset", "tcp_receive_reset", "tcp", 1, NULL,
				 "no counts of resets received" },
	[HOOK_ERROR_REPORT] = { "inet_sk_error_report", "inet_sk_error_report", "sock", 1,
				"Linux 5.14", "no socket error counts" },
	[HOOK_TW_KILL] = { "timewait_kill", NULL, NULL, 0, NULL,
			   "TIME_WAIT sockets ended early by a reset that no traced event shows "
			   "(Linux before 6.10) are found by the next audit" },
};

/* In attach order: set_state_btf must come before set_state_nested (tcpstate.bpf.c). */
static const struct hook_program programs[] = {
	{ "set_state_btf", HOOK_SET_STATE, HOOK_TP_BTF, 0 },
	{ "set_state_nested", HOOK_SET_STATE, HOOK_TP_BTF, 0 },
	{ "set_state_tp", HOOK_SET_STATE, HOOK_TRACEPOINT, 0 },
	{ "find_main_prog", HOOK_NESTED, HOOK_ITER, 0 },
	{ "accept4_exit", HOOK_ACCEPT, HOOK_TRACEPOINT, 0 },
	{ "accept_exit", HOOK_ACCEPT, HOOK_TRACEPOINT, 0 },
	{ "retransmit_btf", HOOK_RETRANSMIT, HOOK_TP_BTF, 0 },
	{ "retransmit_synack_btf", HOOK_RETRANSMIT_SYNACK, HOOK_TP_BTF, 0 },
	{ "send_reset_btf", HOOK_SEND_RESET, HOOK_TP_BTF, 0 },
	{ "send_reset_btf2", HOOK_SEND_RESET, HOOK_TP_BTF, 1 },
	{ "receive_reset_btf", HOOK_RECEIVE_RESET, HOOK_TP_BTF, 0 },
	{ "error_report_btf", HOOK_ERROR_REPORT, HOOK_TP_BTF, 0 },
	{ "tw_kill_fentry", HOOK_TW_KILL, HOOK_FENTRY, 0 },
};

const char *hooks__name(enum ts_hook h)
{
	return h < HOOK_COUNT ? hook_info[h].name : "?";
}

const char *hooks__attach_name(enum hook_attach a)
{
	static const char *const names[] = { "off", "tp_btf", "tracepoint", "iter", "mark",
					      "fentry" };

	return a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

const char *hooks__status_name(const struct hook_status *s)
{
	if (s->attach != HOOK_OFF)
		return s->degraded ? "degraded" : "complete";
	return s->unneeded ? "unneeded" : "off";
}

const struct hook_program *hooks__programs(size_t *count)
{
	*count = sizeof(programs) / sizeof(programs[0]);
	return programs;
}

bool hooks__wants(const struct hook_status st[HOOK_COUNT], const struct hook_program *p)
{
	return st[p->hook].attach == p->attach && st[p->hook].variant == p->variant;
}

enum ts_hook hooks__of_program(const char *name)
{
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		if (!strcmp(programs[i].name, name))
			return programs[i].hook;
	return HOOK_COUNT;
}

/* Arguments of tracepoint tp's BTF prototype (btf_trace_<tp>), without the context; -1: none. */
static int tp_btf_args(const struct btf *btf, const char *tp)
{
	const struct btf_type *t;
	char name[96];
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return -1;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 1)
		return -1;
	return btf_vlen(t) - 1;
}

static bool struct_has_member(const struct btf *btf, const char *type, const char *member)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_STRUCT);
	const struct btf_type *t;
	const struct btf_member *m;

	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, id);
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(btf, m->name_off), member))
			return true;
	return false;
}

void hooks__probe(struct kernel_features *kf, const char *btf_path, const char *tracefs_events)
{
	struct btf *btf = btf_path ? btf__parse(btf_path, NULL) : btf__load_vmlinux_btf();
	char path[256];

	memset(kf, 0, sizeof(*kf));
	if (!tracefs_events)
		tracefs_events = access("/sys/kernel/tracing/events", F_OK)
				     ? "/sys/kernel/debug/tracing/events"
				     : "/sys/kernel/tracing/events";
	for (int h = 0; h < HOOK_COUNT; h++) {
		const struct hook_info *hi = &hook_info[h];

		kf->tp_args[h] = btf && hi->tp ? tp_btf_args(btf, hi->tp) : -1;
		if (!hi->tp)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", tracefs_events, hi->tp_group, hi->tp);
		kf->tp_classic[h] = !access(path, F_OK);
	}
	if (!btf)
		return;
	kf->btf = true;
	kf->link_iter = btf__find_by_name_kind(btf, "bpf_iter__bpf_link", BTF_KIND_STRUCT) > 0;
	kf->prog_active = struct_has_member(btf, "bpf_prog", "active");
	kf->tw_kill_func = btf__find_by_name_kind(btf, "inet_twsk_deschedule_put", BTF_KIND_FUNC) > 0;
	btf__free(btf);
}

bool hooks__probe_cookie_helper(void)
{
	/* r1 = sk (the first argument); call bpf_get_socket_cookie; return 0 */
	const struct bpf_insn insns[] = {
	    { .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_1 },
	    { .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_socket_cookie },
	    { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
	    { .code = BPF_JMP | BPF_EXIT },
	};
	struct btf *btf = btf__load_vmlinux_btf();
	int id =
	    btf ? btf__find_by_name_kind(btf, "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF)
		: -1;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
		    .attach_btf_id = id > 0 ? (__u32)id : 0);
	int fd = id > 0 ? bpf_prog_load(BPF_PROG_TYPE_TRACING, "ts_probe_cookie", "GPL", insns,
					sizeof(insns) / sizeof(insns[0]), &opts)
			: -1;

	btf__free(btf);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

__attribute__((format(printf, 2, 3))) static void note(struct hook_status *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->note, sizeof(s->note), fmt, ap);
	va_end(ap);
}

/* The tp_btf attachment of a tracepoint hook, if the kernel has the tracepoint with its args. */
static void plan_tp_btf(const struct kernel_features *kf, enum ts_hook h, struct hook_status *s)
{
	const struct hook_info *hi = &hook_info[h];

	if (kf->tp_args[h] >= hi->min_args) {
		s->attach = HOOK_TP_BTF;
		return;
	}
	s->attach = HOOK_OFF;
	if (kf->tp_args[h] < 0 && hi->since)
		note(s, "this kernel has no %s tracepoint (added in %s)", hi->tp, hi->since);
	else if (kf->tp_args[h] < 0)
		note(s, "this kernel has no %s tracepoint in its BTF", hi->tp);
	else
		note(s, "the kernel's %s tracepoint has fewer arguments than expected", hi->tp);
}

/* The nested-run stand-in, when inet_sock_set_state runs as tp_btf. */
static void plan_nested(const struct kernel_features *kf, struct hook_status st[HOOK_COUNT])
{
	struct hook_status *s = &st[HOOK_NESTED];

	memset(s, 0, sizeof(*s));
	if (st[HOOK_SET_STATE].attach != HOOK_TP_BTF) {
		s->attach = HOOK_OFF;
		note(s, "with the classic tracepoint, state changes nested in an interrupt are "
			"skipped by the kernel without a count");
		return;
	}
	if (kf->link_iter && kf->prog_active) {
		s->attach = HOOK_ITER;
		return;
	}
	s->attach = HOOK_MARK;
	s->degraded = true;
	note(s,
	     "busy mark: the %s is missing (Linux 5.19+); nested state changes in the few "
	     "instructions around the main program's body are lost (counted)",
	     kf->link_iter ? "bpf_prog run counter" : "bpf_link iterator");
}

/*
 * Since Linux 6.10 tcp_send_reset also fires for the resets tcp_v4_send_reset sends (for no
 * socket, from a timewait sock, from a connect() that got a stray ACK): the ones that end
 * timewait socks without any event. There the fentry hook confirms what the tracker already
 * works out, and is not needed where fentry is missing.
 */
static void tw_kill_off(const struct kernel_features *kf, struct hook_status *s, const char *why)
{
	s->attach = HOOK_OFF;
	s->degraded = false;
	s->unneeded = kf->tp_args[HOOK_SEND_RESET] >= 3;
	if (s->unneeded)
		note(s, "%s; not needed: tcp_send_reset shows every reset that ends a timewait "
			"sock (Linux 6.10+)", why);
	else
		note(s, "%s; %s", why, hook_info[HOOK_TW_KILL].lost);
}

#define CLASSIC_SET_STATE                                                                   \
	"classic tracepoint, which cannot create socket cookies: a socket is keyed by its " \
	"address until sock_diag gives it a cookie"

static void plan_set_state(const struct kernel_features *kf, bool force_tracepoint,
			   struct hook_status *s)
{
	if (!force_tracepoint && kf->tp_args[HOOK_SET_STATE] >= 3) {
		s->attach = HOOK_TP_BTF;
		if (!kf->cookie_helper) {
			s->degraded = true;
			note(s,
			     "tracing programs cannot call bpf_get_socket_cookie (Linux 5.12+): "
			     "a socket is keyed by its address until sock_diag gives it a cookie");
		}
		return;
	}
	if (!kf->tp_classic[HOOK_SET_STATE]) {
		s->attach = HOOK_OFF;
		note(s, "this kernel has no sock:inet_sock_set_state tracepoint (Linux 4.16+)");
		return;
	}
	s->attach = HOOK_TRACEPOINT;
	s->degraded = true;
	note(s, "%s: %s", force_tracepoint ? "--force-tracepoint" : "no BTF prototype",
	     CLASSIC_SET_STATE);
}

void hooks__plan(const struct kernel_features *kf, bool force_tracepoint,
		 struct hook_status st[HOOK_COUNT])
{
	memset(st, 0, sizeof(*st) * HOOK_COUNT);
	plan_set_state(kf, force_tracepoint, &st[HOOK_SET_STATE]);
	plan_nested(kf, st);
	if (kf->tp_classic[HOOK_ACCEPT]) {
		st[HOOK_ACCEPT].attach = HOOK_TRACEPOINT;
	} else {
		note(&st[HOOK_ACCEPT], "no syscalls:sys_exit_accept4 tracepoint "
				       "(CONFIG_FTRACE_SYSCALLS)");
	}
	plan_tp_btf(kf, HOOK_RETRANSMIT, &st[HOOK_RETRANSMIT]);
	plan_tp_btf(kf, HOOK_RETRANSMIT_SYNACK, &st[HOOK_RETRANSMIT_SYNACK]);
	plan_tp_btf(kf, HOOK_SEND_RESET, &st[HOOK_SEND_RESET]);
	if (st[HOOK_SEND_RESET].attach == HOOK_TP_BTF && kf->tp_args[HOOK_SEND_RESET] < 3) {
		st[HOOK_SEND_RESET].variant = 1;
		st[HOOK_SEND_RESET].degraded = true;
		note(&st[HOOK_SEND_RESET],
		     "no reset reason: the tracepoint has it since Linux 6.10");
	}
	plan_tp_btf(kf, HOOK_RECEIVE_RESET, &st[HOOK_RECEIVE_RESET]);
	plan_tp_btf(kf, HOOK_ERROR_REPORT, &st[HOOK_ERROR_REPORT]);
	if (kf->tw_kill_func)
		st[HOOK_TW_KILL].attach = HOOK_FENTRY;
	else
		tw_kill_off(kf, &st[HOOK_TW_KILL], "inet_twsk_deschedule_put is not in the BTF");
}

bool hooks__fall_back(const struct kernel_features *kf, struct hook_status st[HOOK_COUNT],
		      enum ts_hook h, int err)
{
	struct hook_status *s = &st[h];
	char why[96];

	snprintf(why, sizeof(why), "the kernel refused its %s program (%s)",
		 hooks__attach_name(s->attach), strerror(err));
	if (h == HOOK_SET_STATE && s->attach == HOOK_TP_BTF && kf->tp_classic[h]) {
		s->attach = HOOK_TRACEPOINT;
		s->degraded = true;
		note(s, "%s: %s", why, CLASSIC_SET_STATE);
		plan_nested(kf, st);
		return true;
	}
	if (h == HOOK_NESTED && s->attach == HOOK_ITER) {
		s->attach = HOOK_MARK;
		s->degraded = true;
		note(s,
		     "busy mark: %s; nested state changes around the main program's body are "
		     "lost (counted)",
		     why);
		return true;
	}
	if (h == HOOK_SEND_RESET && s->attach == HOOK_TP_BTF && s->variant == 0 &&
	    kf->tp_args[h] >= 2) {
		s->variant = 1;
		s->degraded = true;
		note(s, "no reset reason: %s", why);
		return true;
	}
	if (h == HOOK_TW_KILL) {
		tw_kill_off(kf, s, why);
		return true;
	}
	s->attach = HOOK_OFF;
	s->variant = 0;
	s->degraded = false;
	note(s, "off: %s; %s", why, hook_info[h].lost);
	return h != HOOK_SET_STATE;
}

bool hooks__exact(const struct hook_status st[HOOK_COUNT], const char **why)
{
	if (st[HOOK_SET_STATE].attach == HOOK_OFF)
		*why = "inet_sock_set_state cannot be traced";
	else if (st[HOOK_SET_STATE].degraded)
		*why = "sockets are not keyed by their cookie (inet_sock_set_state)";
	else if (st[HOOK_ACCEPT].attach == HOOK_OFF)
		*why = "accepted sockets cannot be charged to their owner (accept)";
	else
		return true;
	return false;
}

void hooks__summary(const struct hook_status st[HOOK_COUNT], char *buf, size_t len)
{
	size_t n = 0;
	int full = 0, part = 0, off = 0;

	for (int h = 0; h < HOOK_COUNT; h++) {
		if (st[h].attach == HOOK_OFF && st[h].unneeded)
			full++;
		else if (st[h].attach == HOOK_OFF)
			off++;
		else if (st[h].degraded)
			part++;
		else
			full++;
	}
	n = (size_t)snprintf(buf, len, "hooks: %d of %d complete", full, HOOK_COUNT);
	for (int h = 0; h < HOOK_COUNT && n < len; h++)
		if ((st[h].attach == HOOK_OFF && !st[h].unneeded) || st[h].degraded)
			n += (size_t)snprintf(buf + n, len - n, "%s %s %s", n ? ";" : "",
					      hook_info[h].name,
					      st[h].attach == HOOK_OFF ? "off" : "degraded");
	if (n < len && (part || off))
		snprintf(buf + n, len - n, " (--verbose or 'tcpstate check' says why)");
}
