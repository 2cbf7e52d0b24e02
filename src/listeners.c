// SPDX-License-Identifier: GPL-2.0-only
/* Listener sampling (see include/listeners.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "hashmap.h"
#include "listeners.h"
#include "log.h"
#include "netns.h"
#include "proc_info.h"

#define MAX_LISTENERS 65536

struct listeners {
	struct hashmap *by_cookie;	/* cookie -> listener_info */
	struct hashmap *netstat;	/* netns -> netns_listen_stats */
	struct hashmap *syn;		/* port_key -> __u32 request sockets (last audit) */
	__u32 generation;
	struct tracker *t;		/* during a sample */
	__u32 cur_netns;
	__u64 syn_full;		/* refusals of earlier syn maps */
};

struct listeners *listeners__new(void)
{
	struct listeners *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->by_cookie = hashmap__new(sizeof(__u64), sizeof(struct listener_info), MAX_LISTENERS);
	l->netstat = hashmap__new(sizeof(__u32), sizeof(struct netns_listen_stats), NETNS_MAX);
	l->syn = hashmap__new(sizeof(struct port_key), sizeof(__u32), MAX_LISTENERS);
	if (!l->by_cookie || !l->netstat || !l->syn) {
		listeners__free(l);
		return NULL;
	}
	return l;
}

void listeners__free(struct listeners *l)
{
	if (!l)
		return;
	hashmap__free(l->by_cookie);
	hashmap__free(l->netstat);
	hashmap__free(l->syn);
	free(l);
}

static __u32 syn_count(struct listeners *l, __u32 netns, __u16 port)
{
	struct port_key k = { .netns = netns, .port = port };
	__u32 *n = hashmap__lookup(l->syn, &k);

	return n ? *n : 0;
}

static int on_listener(const struct diag_sock *d, void *ctx)
{
	struct listeners *l = ctx;
	struct sock_entry *s = sock_table__lookup(tracker__socks(l->t), d->cookie);
	struct listener_info *li;
	bool created;

	if (d->state != TCP_LISTEN)
		return 0;
	li = hashmap__upsert(l->by_cookie, &d->cookie, &created);
	if (!li)
		return 0;
	if (created) {
		li->cookie = d->cookie;
		li->netns = l->cur_netns;
		li->port = d->sport;
		li->family = d->family;
		memcpy(li->addr, d->saddr, 16);
		li->accept_queue_high = d->rqueue;
	}
	li->owner = s ? s->owner : 0;
	li->accept_queue = d->rqueue;
	li->accept_queue_max = d->wqueue;
	if (d->rqueue > li->accept_queue_high)
		li->accept_queue_high = d->rqueue;
	if (d->has_meminfo)
		li->drops = d->drops;
	li->syn_queue = syn_count(l, l->cur_netns, d->sport);
	li->generation = l->generation;
	return 0;
}

static void read_netstat(struct listeners *l, const struct netns_ref *ns)
{
	char buf[8192];
	struct netstat_listen nl;
	struct netns_listen_stats *st;
	bool created;
	ssize_t n = -1;
	int fd;

	if (netns__enter(ns->fd))
		return;
	fd = open("/proc/thread-self/net/netstat", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	netns__leave();
	if (n <= 0)
		return;
	buf[n] = '\0';
	if (proc__parse_netstat(buf, &nl))
		return;
	st = hashmap__upsert(l->netstat, &ns->inode, &created);
	if (st) {
		st->listen_overflows = nl.listen_overflows;
		st->listen_drops = nl.listen_drops;
		st->generation = l->generation;
	}
}

static void sample_netns(struct listeners *l, const struct netns_ref *ns)
{
	int fd = netns__socket(ns->fd, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return;
	l->cur_netns = ns->inode;
	if (sock_diag__dump(fd, 1u << TCP_LISTEN, true, on_listener, l))
		log_debug("listener dump of netns %u failed", ns->inode);
	close(fd);
	read_netstat(l, ns);
}

/* Drop the counters of namespaces this sample did not find (gone): their series go with them. */
static void netstat_finish(struct listeners *l)
{
	__u32 gone[256], it = 0, ngone = 0;
	struct netns_listen_stats *st;
	const void *key;

	while ((st = hashmap__next(l->netstat, &it, &key)))
		if (st->generation != l->generation && ngone < sizeof(gone) / sizeof(gone[0]))
			memcpy(&gone[ngone++], key, sizeof(gone[0]));
	for (__u32 i = 0; i < ngone; i++)
		hashmap__delete(l->netstat, &gone[i]);
}

/* Drop listeners this sample did not see, and feed the model the queues it did see. */
static void sample_finish(struct listeners *l, struct tracker *t)
{
	__u64 gone[256];
	struct listener_info *li;
	__u32 it = 0, ngone = 0;

	while ((li = hashmap__next(l->by_cookie, &it, NULL))) {
		if (li->generation != l->generation) {
			if (ngone < sizeof(gone) / sizeof(gone[0]))
				gone[ngone++] = li->cookie;
			continue;
		}
		tracker__sync_pending(t, li->netns, li->port, li->accept_queue);
	}
	for (__u32 i = 0; i < ngone; i++)
		hashmap__delete(l->by_cookie, &gone[i]);
}

int listeners__sample(struct listeners *l, struct tracker *t)
{
	struct netns_ref *refs;
	int n = netns__list_all(&refs);

	if (n < 0)
		return n;
	l->generation++;
	l->t = t;
	for (int i = 0; i < n; i++)
		sample_netns(l, &refs[i]);
	l->t = NULL;
	netns__free_list(refs, n);
	sample_finish(l, t);
	if (n < NETNS_MAX) /* a full list may have left namespaces out */
		netstat_finish(l);
	return 0;
}

void listeners__begin_syn(struct listeners *l)
{
	/* A fresh map: ports of listeners (and namespaces) that are gone must not fill it. */
	struct hashmap *m = hashmap__new(sizeof(struct port_key), sizeof(__u32), MAX_LISTENERS);
	__u32 it = 0, *v;

	if (m) {
		l->syn_full += hashmap__full(l->syn);
		hashmap__free(l->syn);
		l->syn = m;
		return;
	}
	while ((v = hashmap__next(l->syn, &it, NULL)))
		*v = 0;
}

__u64 listeners__refused(const struct listeners *l)
{
	return hashmap__full(l->by_cookie) + hashmap__full(l->netstat) + hashmap__full(l->syn) +
	       l->syn_full;
}

void listeners__add_syn(struct listeners *l, __u32 netns, const struct diag_sock *d)
{
	struct port_key k = { .netns = netns, .port = d->sport };
	bool created;
	__u32 *n;

	if (d->state != TCP_SYN_RECV || d->inode)
		return;
	n = hashmap__upsert(l->syn, &k, &created);
	if (n)
		(*n)++;
}

void listeners__reset_high(struct listeners *l, struct tracker *t)
{
	struct listener_info *li;
	__u32 it = 0;

	while ((li = hashmap__next(l->by_cookie, &it, NULL)))
		li->accept_queue_high = li->accept_queue;
	tracker__reset_high(t);
}

const struct listener_info *listeners__next(const struct listeners *l, __u32 *iter)
{
	return hashmap__next(l->by_cookie, iter, NULL);
}

const struct netns_listen_stats *listeners__next_netns(const struct listeners *l, __u32 *iter,
						       __u32 *netns)
{
	const void *key;
	const struct netns_listen_stats *st = hashmap__next(l->netstat, iter, &key);

	if (st)
		*netns = *(const __u32 *)key;
	return st;
}

__u32 listeners__high(const struct listeners *l, struct tracker *t, const struct listener_info *li)
{
	struct port_key k = { .netns = li->netns, .port = li->port };
	struct port_stats *p = hashmap__lookup(tracker__port_map(t), &k);
	__u32 high = li->accept_queue_high, cap = li->accept_queue_max + 1;

	(void)l;
	/* The queue holds at most max + 1 (the kernel's "full" test is >). */
	if (p && p->pending_high > high)
		high = p->pending_high > cap ? cap : p->pending_high;
	return high;
}
