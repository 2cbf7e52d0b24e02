// SPDX-License-Identifier: GPL-2.0-only
/* Per-process accounting and the pid -> name/cgroup cache (see include/proc_table.h). */
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "proc_info.h"
#include "proc_table.h"

#define INTERN_MAX 65536

/* Counters of exited processes, kept per name and cgroup so exported counters never go back. */
struct retired_key {
	char comm[TS_COMM_LEN];
	const char *cgroup;
};

struct proc_table {
	struct hashmap *procs;		/* pid -> struct proc_entry */
	struct hashmap *retired;	/* retired_key -> struct proc_entry (pid 0) */
	struct hashmap *strings;	/* 64-bit hash -> char * */
	struct proc_entry other;	/* overflow and unknown owners */
	const char *proc_root;
	__u64 overflow;
};

struct proc_table *proc_table__new(const char *proc_root, __u32 max_entries)
{
	struct proc_table *pt = calloc(1, sizeof(*pt));

	if (!pt)
		return NULL;
	pt->procs = hashmap__new(sizeof(__u32), sizeof(struct proc_entry), max_entries);
	pt->strings = hashmap__new(sizeof(__u64), sizeof(char *), INTERN_MAX);
	pt->retired = hashmap__new(sizeof(struct retired_key), sizeof(struct proc_entry), max_entries);
	if (!pt->procs || !pt->strings || !pt->retired) {
		proc_table__free(pt);
		return NULL;
	}
	pt->proc_root = proc_root;
	strcpy(pt->other.comm, "other");
	pt->other.cgroup = "";
	return pt;
}

void proc_table__free(struct proc_table *pt)
{
	__u32 it = 0;
	char **s;

	if (!pt)
		return;
	while (pt->strings && (s = hashmap__next(pt->strings, &it, NULL)))
		free(*s);
	hashmap__free(pt->strings);
	hashmap__free(pt->procs);
	hashmap__free(pt->retired);
	free(pt);
}

static __u64 str_hash(const char *s)
{
	__u64 h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

const char *proc_table__intern(struct proc_table *pt, const char *s)
{
	__u64 h = str_hash(s);
	bool created;
	char **slot;

	/* Distinct strings colliding on a 64-bit hash are not a practical concern here. */
	slot = hashmap__upsert(pt->strings, &h, &created);
	if (!slot)
		return "other";
	if (created) {
		*slot = strdup(s);
		if (!*slot) {
			hashmap__delete(pt->strings, &h);
			return "other";
		}
	}
	return *slot;
}

static void proc_fill_identity(struct proc_table *pt, struct proc_entry *p, const char *comm)
{
	char buf[512];

	memset(p->comm, 0, sizeof(p->comm)); /* zero-padded, for comm_same() */
	if (comm)
		snprintf(p->comm, sizeof(p->comm), "%.*s", (int)sizeof(p->comm) - 1, comm);
	else if (proc__read_comm(pt->proc_root, (int)p->pid, buf, sizeof(buf)) == 0)
		snprintf(p->comm, sizeof(p->comm), "%.*s", (int)sizeof(p->comm) - 1, buf);
	else
		strcpy(p->comm, "?");
	if (proc__read_cgroup(pt->proc_root, (int)p->pid, buf, sizeof(buf)) == 0)
		p->cgroup = proc_table__intern(pt, buf);
	else
		p->cgroup = "";
	p->netns = 0;
	if (proc__read_netns(pt->proc_root, (int)p->pid, &p->netns))
		p->netns = 0;
}

/*
 * strncmp(a, b, TS_COMM_LEN - 1) == 0, answered with two word compares when both names are
 * padded alike (the kernel zero-pads comm, and so does proc_fill_identity): it runs on every
 * event from a socket's owner.
 */
static bool comm_same(const char *a, const char *b)
{
	__u64 a0, a1, b0, b1;

	_Static_assert(TS_COMM_LEN == 16, "comm is two words");
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	if (a0 == b0 && !((a1 ^ b1) & 0x00ffffffffffffffull)) /* byte 15 is not compared */
		return true;
	return !strncmp(a, b, TS_COMM_LEN - 1);
}

struct proc_entry *proc_table__get(struct proc_table *pt, __u32 pid, const char *comm)
{
	struct proc_entry *p;
	bool created;

	if (!pid)
		return &pt->other;
	p = hashmap__upsert(pt->procs, &pid, &created);
	if (!p) {
		pt->overflow++;
		return &pt->other;
	}
	if (created) {
		p->pid = pid;
		proc_fill_identity(pt, p, comm);
	} else if (comm && !comm_same(p->comm, comm)) {
		/* exec() or pid reuse: take the kernel's current name and re-read the cgroup */
		proc_fill_identity(pt, p, comm);
	}
	return p;
}

struct proc_entry *proc_table__find(struct proc_table *pt, __u32 pid)
{
	if (!pid)
		return &pt->other;
	return hashmap__lookup(pt->procs, &pid);
}

void proc_entry__add_error(struct proc_entry *p, int err, __u64 n)
{
	for (int i = 0; i < PROC_ERR_SLOTS - 1; i++) {
		if (p->errors[i].err == err || !p->errors[i].count) {
			p->errors[i].err = err;
			p->errors[i].count += n;
			return;
		}
	}
	p->errors[PROC_ERR_SLOTS - 1].err = -1;
	p->errors[PROC_ERR_SLOTS - 1].count += n;
}

struct proc_entry *proc_table__next(struct proc_table *pt, __u32 *iter)
{
	struct proc_entry *p = hashmap__next(pt->procs, iter, NULL);

	if (p)
		return p;
	if (*iter == (__u32)-1)
		return NULL;
	*iter = (__u32)-1;
	return &pt->other;
}

__u64 proc_table__overflow(const struct proc_table *pt)
{
	return pt->overflow;
}

__u32 proc_table__count(const struct proc_table *pt)
{
	return hashmap__count(pt->procs);
}

static bool proc_owns_sockets(const struct proc_entry *p)
{
	for (int st = 0; st < TCP_MAX_STATES; st++)
		if (p->states[st])
			return true;
	return false;
}

void proc_entry__add_counters(struct proc_entry *acc, const struct proc_entry *p)
{
	for (int k = 0; k < TS_RETRANS_KIND_MAX; k++)
		acc->retrans[k] += p->retrans[k];
	acc->resets_sent += p->resets_sent;
	acc->resets_recv += p->resets_recv;
	acc->connections += p->connections;
	for (int i = 0; i < PROC_ERR_SLOTS; i++)
		if (p->errors[i].count)
			proc_entry__add_error(acc, p->errors[i].err, p->errors[i].count);
	hist__merge(&acc->close_delay, &p->close_delay);
}

static void proc_retire(struct proc_table *pt, struct proc_entry *p)
{
	struct retired_key k;
	struct proc_entry *acc;
	bool created;

	memset(&k, 0, sizeof(k));
	memcpy(k.comm, p->comm, sizeof(k.comm));
	k.cgroup = p->cgroup;
	acc = hashmap__upsert(pt->retired, &k, &created);
	if (!acc)
		acc = &pt->other;
	if (created) {
		memcpy(acc->comm, p->comm, sizeof(acc->comm));
		acc->cgroup = p->cgroup;
	}
	proc_entry__add_counters(acc, p);
}

__u32 proc_table__prune(struct proc_table *pt)
{
	__u32 it = 0, n = 0, cap = 256, done = 0;
	__u32 *dead = malloc(sizeof(*dead) * cap);
	struct proc_entry *p;

	if (!dead)
		return 0;
	while ((p = hashmap__next(pt->procs, &it, NULL))) {
		if (proc_owns_sockets(p) || !(kill((pid_t)p->pid, 0) && errno == ESRCH))
			continue;
		if (n == cap) {
			__u32 *d = realloc(dead, sizeof(*dead) * (cap *= 2));

			if (!d)
				break;
			dead = d;
		}
		dead[n++] = p->pid;
	}
	for (__u32 i = 0; i < n; i++) {
		p = hashmap__lookup(pt->procs, &dead[i]);
		proc_retire(pt, p);
		hashmap__delete(pt->procs, &dead[i]);
		done++;
	}
	free(dead);
	return done;
}

struct proc_entry *proc_table__next_retired(struct proc_table *pt, __u32 *iter)
{
	return hashmap__next(pt->retired, iter, NULL);
}
