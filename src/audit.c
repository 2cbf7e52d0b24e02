// SPDX-License-Identifier: GPL-2.0-only
/* sock_diag audit of every network namespace (see include/audit.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "audit.h"
#include "format.h"
#include "log.h"
#include "netns.h"
#include "proc_info.h"


/* One dumped socket with its namespace. */
struct dumped {
	__u32 netns;
	struct diag_sock d;
};

struct dump_buf {
	struct dumped *v;
	__u32 len, cap;
	__u32 netns;
	const struct audit_hooks *h;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int collect(const struct diag_sock *s, void *ctx)
{
	struct dump_buf *b = ctx;

	if (b->len == b->cap) {
		__u32 cap = b->cap ? b->cap * 2 : 4096;
		struct dumped *v = realloc(b->v, sizeof(*v) * cap);

		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->len].netns = b->netns;
	b->v[b->len].d = *s;
	b->len++;
	/*
	 * Dumping 100k sockets takes tens of milliseconds, long enough for busy CPUs to fill
	 * their ring buffers: keep reading events meanwhile. Events applied now are newer than
	 * the audit's start and win over the dump, as those read after it do.
	 */
	if (!(b->len & 4095) && b->h)
		b->h->drain(b->h->ctx);
	return 0;
}

/* Dump one namespace into b; 0 or -errno. */
static int dump_netns(const struct netns_ref *ns, struct dump_buf *b)
{
	int fd = netns__socket(ns->fd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	__u32 before = b->len;
	int err;

	if (fd < 0)
		return fd;
	b->netns = ns->inode;
	err = sock_diag__dump(fd, DIAG_ALL_STATES, true, collect, b);
	close(fd);
	if (err)
		b->len = before; /* a partial namespace is not reconciled */
	return err;
}

static int dump_all(struct dump_buf *b, struct tracker *t, struct audit_result *res)
{
	static bool warned;
	struct netns_ref *refs;
	int n = netns__list_all(&refs), first_err = 0;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		int err = dump_netns(&refs[i], b);

		if (err) {
			res->ns_failed++;
			if (!first_err)
				first_err = err;
			if (!warned)
				log_warn("cannot dump sockets of network namespace %u (%s): %s",
					 refs[i].inode, refs[i].how, strerror(-err));
			warned = true;
			continue;
		}
		res->namespaces++;
		tracker__audit_netns(t, refs[i].inode);
	}
	netns__free_list(refs, n);
	return res->namespaces ? 0 : (first_err ? first_err : -ENOENT);
}

static void reconcile(struct tracker *t, const char *proc_root, struct dump_buf *b,
		      const struct audit_hooks *h)
{
	struct inode_owner_map *owners = NULL;

	/* Two passes: listeners first, so accepted sockets can be recognised by their port. */
	for (__u32 n = 0; n < 2 * b->len; n++) {
		__u32 i = n % b->len;
		const struct dumped *x = &b->v[i];
		__u32 pid = 0;

		if ((x->d.state == TCP_LISTEN) != (n < b->len))
			continue;

		if (x->d.inode && tracker__needs_owner(t, x->d.cookie)) {
			if (!owners) {
				h->drain(h->ctx);
				owners = inode_owner_map__build(proc_root);
				h->drain(h->ctx);
			}
			if (owners)
				pid = (__u32)inode_owner_map__lookup(owners, x->d.inode);
		}
		tracker__audit_add(t, x->netns, &x->d, pid);
		if (h->observe)
			h->observe(h->ctx, x->netns, &x->d);
		/* Keep reading events while reconciling a big table: the ring buffer is finite. */
		if ((n & 4095) == 4095)
			h->drain(h->ctx);
	}
	inode_owner_map__free(owners);
}

int audit__run(struct tracker *t, const char *proc_root, const struct audit_hooks *h,
	       struct audit_result *res)
{
	struct dump_buf b = { .h = h };
	int err;

	memset(res, 0, sizeof(*res));
	err = tracker__audit_begin(t, now_ns());
	if (err)
		return err;
	h->drain(h->ctx);
	err = dump_all(&b, t, res);
	h->drain(h->ctx);
	if (!err) {
		res->sockets = b.len;
		reconcile(t, proc_root, &b, h);
	}
	tracker__audit_end(t, now_ns());
	free(b.v);
	return err;
}
