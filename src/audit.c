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

/*
 * Test-only fault injection (tests/integration/test_faults.py): with TCPSTATE_FAULT_SOCK_DIAG
 * set to a namespace's inode, every audit dump of that namespace fails after it was read, as
 * one whose reply does not parse does. Read once; unset (the default) it is never true.
 */
static bool fault_injected(__u32 netns)
{
	static __u32 inode;
	static bool read;

	if (!read) {
		const char *v = getenv("TCPSTATE_FAULT_SOCK_DIAG");

		read = true;
		inode = v ? (__u32)strtoul(v, NULL, 10) : 0;
		if (inode)
			log_warn("TCPSTATE_FAULT_SOCK_DIAG: audit dumps of network namespace %u will "
				 "fail (test-only fault injection)",
				 inode);
	}
	return inode && netns == inode;
}

/*
 * Namespaces whose dump failed in the previous audit: a failure is logged when it starts, not
 * at every audit (an audit runs every --audit-interval).
 */
#define FAILED_KEPT 64
static __u32 failed_prev[FAILED_KEPT], nfailed_prev;

static bool failed_before(__u32 netns)
{
	for (__u32 i = 0; i < nfailed_prev; i++)
		if (failed_prev[i] == netns)
			return true;
	return false;
}

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
	if (!err && fault_injected(ns->inode))
		err = -EPROTO;
	if (err)
		b->len = before; /* a partial namespace is not reconciled */
	return err;
}

static void dump_failed(struct tracker *t, const struct netns_ref *ns, int err,
			__u32 *failed_now, __u32 *nfailed)
{
	tracker__audit_netns_failed(t, ns->inode);
	if (!failed_before(ns->inode))
		log_warn("cannot dump sockets of network namespace %u (%s): %s; its sockets are "
			 "counted from events only until a dump succeeds (tcpstate_audit_errors_total)",
			 ns->inode, ns->how, strerror(-err));
	if (*nfailed < FAILED_KEPT)
		failed_now[(*nfailed)++] = ns->inode;
}

static int dump_all(struct dump_buf *b, struct tracker *t, struct audit_result *res)
{
	__u32 failed_now[FAILED_KEPT], nfailed = 0;
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
			dump_failed(t, &refs[i], err, failed_now, &nfailed);
			continue;
		}
		res->namespaces++;
		tracker__audit_netns(t, refs[i].inode);
	}
	if (n < NETNS_MAX) /* a full list may have left namespaces out */
		tracker__audit_listed_all(t);
	memcpy(failed_prev, failed_now, sizeof(failed_now[0]) * nfailed);
	nfailed_prev = nfailed;
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
