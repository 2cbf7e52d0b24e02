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

struct audit_hooks {
	/* Drain the ring buffer into the tracker (the caller's session does it). */
	void (*drain)(void *ctx);
	/* Optional: sees every dumped socket of a completely dumped namespace. */
	void (*observe)(void *ctx, __u32 netns, const struct diag_sock *d);
	void *ctx;
};

struct audit_result {
	__u32 namespaces;	/* dumped completely */
	__u32 ns_failed;	/* could not be entered or dumped */
	__u32 sockets;		/* sockets dumped */
};

/*
 * Dump every namespace and reconcile the tracker with it (see tracker.h for the protocol).
 * h->drain(ctx) is called after tracker__audit_begin and again after the dumps. Returns 0 or
 * -errno when nothing could be dumped (the first failing namespace is logged once).
 */
int audit__run(struct tracker *t, const char *proc_root, const struct audit_hooks *h,
	       struct audit_result *res);

#endif
