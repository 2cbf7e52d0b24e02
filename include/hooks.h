/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel hooks tcpstate uses, what the running kernel offers of each, and how each one is
 * attached. Pure logic: the tracer probes the kernel (hooks__probe), asks for a plan
 * (hooks__plan), loads the programs the plan names, and when the kernel still refuses one
 * program, asks for that hook's next best choice (hooks__fall_back) and loads again. A hook a
 * kernel lacks or rejects costs only that hook; each status says what is lost.
 */
#ifndef TCPSTATE_HOOKS_H
#define TCPSTATE_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

enum ts_hook {
	HOOK_SET_STATE,		/* sock:inet_sock_set_state */
	HOOK_NESTED,		/* state changes nested in interrupts (part of HOOK_SET_STATE) */
	HOOK_ACCEPT,		/* syscalls:sys_exit_accept4, sys_exit_accept */
	HOOK_RETRANSMIT,	/* tcp:tcp_retransmit_skb */
	HOOK_RETRANSMIT_SYNACK, /* tcp:tcp_retransmit_synack */
	HOOK_SEND_RESET,	/* tcp:tcp_send_reset */
	HOOK_RECEIVE_RESET,	/* tcp:tcp_receive_reset */
	HOOK_ERROR_REPORT,	/* sock:inet_sk_error_report */
	HOOK_TW_KILL,		/* fentry on inet_twsk_deschedule_put: timewait socks killed early */
	HOOK_COUNT,
};

enum hook_attach {
	HOOK_OFF,
	HOOK_TP_BTF,	 /* BTF-typed tracepoint */
	HOOK_TRACEPOINT, /* classic tracepoint (perf event) */
	HOOK_ITER,	 /* a BPF iterator run once at start */
	HOOK_MARK,	 /* HOOK_NESTED only: the busy mark set by the main program */
	HOOK_FENTRY,	 /* a kernel function's entry (BPF trampoline) */
};

/* What the running kernel offers, read from its BTF and tracefs (see hooks__probe). */
struct kernel_features {
	bool btf;		     /* /sys/kernel/btf/vmlinux is readable */
	int tp_args[HOOK_COUNT];     /* arguments of the btf_trace_<tracepoint> type; -1: none */
	bool tp_classic[HOOK_COUNT]; /* the classic tracepoint exists in tracefs */
	bool cookie_helper;	     /* tracing programs may call bpf_get_socket_cookie (5.12+) */
	bool link_iter;		     /* the bpf_link iterator (5.19+) */
	bool prog_active;	     /* struct bpf_prog has its per-CPU run counter `active` */
	bool tw_kill_func;	     /* inet_twsk_deschedule_put is a function in the BTF */
};

/* How one hook is attached, and what that costs. */
struct hook_status {
	enum hook_attach attach;
	int variant;	/* which program of that attach kind (hooks__programs) */
	bool degraded;	/* attached, but with less than the hook can give */
	bool unneeded;	/* off, but another hook gives what it would on this kernel */
	char note[200]; /* why it fell back or is off, and what is lost; "" if complete */
};

/* The hook's name as users see it ("inet_sock_set_state", "accept", ...). */
const char *hooks__name(enum ts_hook h);
/* "tp_btf", "tracepoint", "iter", "mark", "fentry" or "off". */
const char *hooks__attach_name(enum hook_attach a);
/* "complete", "degraded", "off" or "unneeded" (off, with nothing lost). */
const char *hooks__status_name(const struct hook_status *s);

/*
 * Read the running kernel's features: BTF at btf_path (NULL: the default), tracefs events
 * under tracefs_events (NULL: /sys/kernel/tracing/events). cookie_helper is not read from BTF
 * (the helper exists long before tracing programs may call it): the caller probes it.
 */
void hooks__probe(struct kernel_features *kf, const char *btf_path, const char *tracefs_events);

/* Does the kernel let a tp_btf program call bpf_get_socket_cookie()? Loads a tiny program. */
bool hooks__probe_cookie_helper(void);

/*
 * The best attachment of every hook that the features allow (force_tracepoint: the classic
 * inet_sock_set_state tracepoint, for testing). Fills st[HOOK_COUNT].
 */
void hooks__plan(const struct kernel_features *kf, bool force_tracepoint,
		 struct hook_status st[HOOK_COUNT]);

/*
 * The kernel refused the program of hook h (load or attach failed with errno err): move h to
 * its next best attachment, noting why. Returns false when there is none left and the hook is
 * essential (tcpstate cannot run); the hook is then off.
 */
bool hooks__fall_back(const struct kernel_features *kf, struct hook_status st[HOOK_COUNT],
		      enum ts_hook h, int err);

/* One of the BPF programs and the attachment it serves. */
struct hook_program {
	const char *name; /* the program's name in bpf/tcpstate.bpf.c */
	enum ts_hook hook;
	enum hook_attach attach;
	int variant;
};

/* Every program, in attach order (which is run order on a shared tracepoint). */
const struct hook_program *hooks__programs(size_t *count);
/* Should this program be loaded under plan st? */
bool hooks__wants(const struct hook_status st[HOOK_COUNT], const struct hook_program *p);
/* The hook a program name serves, or HOOK_COUNT if it is not one of ours. */
enum ts_hook hooks__of_program(const char *name);

/*
 * Can tcpstate's socket table be exact under plan st (right key, owner and tuple for every
 * socket)? If not, *why names the missing piece.
 */
bool hooks__exact(const struct hook_status st[HOOK_COUNT], const char **why);

/* One line summing up st: "all 8 hooks attached" or what fell back and what is off. */
void hooks__summary(const struct hook_status st[HOOK_COUNT], char *buf, size_t len);

#endif
