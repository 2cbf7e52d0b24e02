/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Network namespaces: find them, enter them, make sockets inside them. sock_diag and iter/tcp
 * only see the reader's own network namespace, so covering containers means visiting each one.
 * setns() here changes the calling thread only; callers that enter other namespaces should do
 * so from one dedicated thread and always come back with netns__leave().
 */
#ifndef TCPSTATE_NETNS_H
#define TCPSTATE_NETNS_H

#include <linux/types.h>

/* One network namespace found by netns__list(). */
struct netns_ref {
	__u32 inode;  /* nsfs inode: the same number `ls -L -i /proc/PID/ns/net` shows */
	int fd;	      /* O_RDONLY fd on the namespace, owned by the caller */
	char how[32]; /* how it was found: "pid 1234" or "/run/netns/foo" (may be truncated) */
};

/*
 * Remember the calling thread's network namespace (opens /proc/thread-self/ns/net) as "our
 * own" for netns__leave() and netns__socket(). Call once, from the thread that will enter other
 * namespaces, before entering any. A second call is a no-op. Returns 0 or -errno.
 */
int netns__init(void);

/* Inode of the namespace remembered by netns__init(); 0 before it. */
__u32 netns__self_inode(void);

/*
 * Fill out[0..max) with the distinct network namespaces reachable through /run/netns/<name> (named
 * first, so their names are kept) and /proc/<pid>/ns/net. Each has an fd the caller owns
 * (release with netns__close_list()). Processes that vanish or cannot be read during the scan
 * are skipped. If there are more than max namespaces, the first max are returned and a warning
 * is logged. Returns the count or -errno (/proc unreadable, bad arguments).
 */
int netns__list(struct netns_ref *out, int max);

/* Close the fds of refs[0..n) and set them to -1. Accepts NULL. */
void netns__close_list(struct netns_ref *refs, int n);

/* Most namespaces netns__list_all() returns. */
#define NETNS_MAX 4096

/*
 * netns__list() into an array it allocates (up to NETNS_MAX). On success *out owns the array:
 * release it with netns__free_list(*out, count). Returns the count or -errno.
 */
int netns__list_all(struct netns_ref **out);
/* Close the fds and free an array from netns__list_all(). Accepts NULL. */
void netns__free_list(struct netns_ref *refs, int n);

/* Move the calling thread into the network namespace netns_fd refers to. 0 or -errno. */
int netns__enter(int netns_fd);

/* Move the calling thread back into the namespace remembered by netns__init(). 0 or -errno
 * (-EINVAL before netns__init()). */
int netns__leave(void);

/*
 * Create a close-on-exec socket(domain, type, protocol) inside the namespace netns_fd refers
 * to, then return the calling thread to its own namespace (netns__init() must have been
 * called). The socket keeps belonging to that namespace. Returns the fd (caller owns it) or
 * -errno. If returning home fails the socket is closed and the error returned (and logged).
 */
int netns__socket(int netns_fd, int domain, int type, int protocol);

#endif /* TCPSTATE_NETNS_H */
