/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Seeding and auditing the socket table against the kernel: a sock_diag dump of every network
 * namespace on the host (entered with setns), owners of unknown sockets resolved from
 * /proc/[pid]/fd like `ss -p`, and the listener samples the dump carries (accept queue length
 * and limit, drops).
 */
#ifndef TCPSTATE_AUDIT_H
#define TCPSTATE_AUDIT_H

#include <stdbool.h>
#include <linux/types.h>

#include "sock_diag.h"
#include "tracker.h"

/* Drain the ring buffer into the tracker (supplied by the caller's session). */
typedef void (*audit_drain_fn)(void *ctx);

/* What one audit saw of a listener, kept until the next audit. */
struct listener_sample {
	__u64 cookie;
	__u32 netns;
	__u32 owner;
	struct diag_sock d;
};

struct audit_result {
	__u32 namespaces;	/* dumped completely */
	__u32 ns_failed;	/* could not be entered or dumped */
	__u32 sockets;		/* sockets dumped */
	struct listener_sample *listeners;	/* owned by the caller: free() */
	__u32 nlisteners;
};

/*
 * Dump every namespace and reconcile the tracker with it (see tracker.h for the protocol).
 * drain(ctx) is called after tracker__audit_begin and again after the dumps. Returns 0 or
 * -errno when nothing could be dumped (the first error is logged once).
 */
int audit__run(struct tracker *t, const char *proc_root, audit_drain_fn drain, void *ctx,
	       struct audit_result *res);

#endif
