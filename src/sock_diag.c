// SPDX-License-Identifier: GPL-2.0-only
/*
 * NETLINK_SOCK_DIAG reader: one inet_diag_req_v2 dump per address family, replies parsed with
 * every length checked against the bytes actually received.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>

#include "log.h"
#include "sock_diag.h"

#define DIAG_RECV_BUF (64 * 1024) /* the kernel fills at most ~32 KiB per dump skb */
#define DIAG_RECV_TIMEOUT_S 5

/* How one buffer is parsed: with a sequence check (dump) or without (sock_diag__parse). */
struct parse_ctx {
	diag_sock_cb cb; /* NULL once the callback stopped: the rest is only scanned */
	void *ctx;
	bool check_seq;
	__u32 seq;
	int cb_ret; /* non-zero value the callback stopped with */
};

static __u32 diag_seq;

static bool addr_is_v4mapped(const __u8 *a)
{
	static const __u8 prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static bool addr_is_zero(const __u8 *a)
{
	static const __u8 zero[16];

	return memcmp(a, zero, sizeof(zero)) == 0;
}

/* ::ffff:a.b.c.d on both ends (or :: on one, e.g. an unconnected side) becomes AF_INET. */
static void unmap_v4(struct diag_sock *s)
{
	bool smap = addr_is_v4mapped(s->saddr), dmap = addr_is_v4mapped(s->daddr);

	if (!(smap || dmap) || !(smap || addr_is_zero(s->saddr)) ||
	    !(dmap || addr_is_zero(s->daddr)))
		return;
	s->family = AF_INET;
	memmove(s->saddr, s->saddr + 12, 4);
	memset(s->saddr + 4, 0, 12);
	memmove(s->daddr, s->daddr + 12, 4);
	memset(s->daddr + 4, 0, 12);
}

/* Look for INET_DIAG_SKMEMINFO among the attributes that follow the inet_diag_msg. */
static int parse_attrs(const __u8 *p, size_t len, struct diag_sock *s)
{
	while (len >= sizeof(struct rtattr)) {
		struct rtattr rta;
		size_t step;

		memcpy(&rta, p, sizeof(rta));
		if (rta.rta_len < sizeof(rta) || rta.rta_len > len)
			return -EPROTO;
		if (rta.rta_type == INET_DIAG_SKMEMINFO &&
		    rta.rta_len >= RTA_LENGTH((SK_MEMINFO_DROPS + 1) * sizeof(__u32))) {
			memcpy(&s->drops, p + RTA_LENGTH(SK_MEMINFO_DROPS * sizeof(__u32)),
			       sizeof(__u32));
			s->has_meminfo = 1;
		}
		step = RTA_ALIGN(rta.rta_len);
		if (step >= len)
			return 0;
		p += step;
		len -= step;
	}
	/* Fewer bytes left than an attribute header: a truncated attribute. */
	return len ? -EPROTO : 0;
}

/* Decode one SOCK_DIAG_BY_FAMILY message payload (len bytes after the nlmsghdr). */
static int parse_sock(const __u8 *p, size_t len, struct diag_sock *s)
{
	struct inet_diag_msg m;
	size_t hdr = NLMSG_ALIGN(sizeof(m));

	if (len < sizeof(m))
		return -EPROTO;
	memcpy(&m, p, sizeof(m));
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
		return -EPROTO;

	memset(s, 0, sizeof(*s));
	s->cookie = m.id.idiag_cookie[0] | (__u64)m.id.idiag_cookie[1] << 32;
	s->inode = m.idiag_inode;
	s->uid = m.idiag_uid;
	s->state = m.idiag_state;
	s->family = m.idiag_family;
	s->sport = ntohs(m.id.idiag_sport);
	s->dport = ntohs(m.id.idiag_dport);
	if (s->family == AF_INET) {
		memcpy(s->saddr, m.id.idiag_src, 4);
		memcpy(s->daddr, m.id.idiag_dst, 4);
	} else {
		memcpy(s->saddr, m.id.idiag_src, 16);
		memcpy(s->daddr, m.id.idiag_dst, 16);
		unmap_v4(s);
	}
	s->rqueue = m.idiag_rqueue;
	s->wqueue = m.idiag_wqueue;
	s->expires_ms = m.idiag_expires;
	if (len <= hdr)
		return 0;
	return parse_attrs(p + hdr, len - hdr, s);
}

/*
 * The kernel's error code, which callers give to strerror(-err): one that is no errno (the
 * kernel sends -4095..-1) is a malformed reply. -INT_MIN would not even be an int.
 */
static int kernel_errno(int err)
{
	return err >= -4095 ? err : -EPROTO;
}

/* Handle one message. Returns 1 for DONE, 0 to go on, <0 on error. */
static int parse_msg(const struct nlmsghdr *h, const __u8 *payload, struct parse_ctx *pc)
{
	size_t plen = h->nlmsg_len - NLMSG_HDRLEN;
	struct diag_sock s;
	int err, ret;

	if (pc->check_seq && h->nlmsg_seq != pc->seq)
		return 0; /* a reply to an earlier request: not ours */

	switch (h->nlmsg_type) {
	case NLMSG_DONE:
		/* Dumps end with an int: 0, or the -errno the dump failed with. */
		if (plen >= sizeof(int)) {
			memcpy(&err, payload, sizeof(err));
			if (err < 0)
				return kernel_errno(err);
		}
		return 1;
	case NLMSG_ERROR:
		if (plen < sizeof(int))
			return -EPROTO;
		memcpy(&err, payload, sizeof(err));
		if (err > 0)
			return -EPROTO;
		return kernel_errno(err); /* 0 is a plain ACK */
	case SOCK_DIAG_BY_FAMILY:
		err = parse_sock(payload, plen, &s);
		if (err)
			return err;
		if (!pc->cb)
			return 0;
		ret = pc->cb(&s, pc->ctx);
		if (ret) {
			pc->cb_ret = ret;
			pc->cb = NULL;
		}
		return 0;
	default:
		return 0; /* NLMSG_NOOP and anything newer: skip */
	}
}

/* Walk the messages of one buffer. Returns 1 when DONE seen, 0 if more to come, or -errno. */
static int parse_buf(const void *buf, size_t len, struct parse_ctx *pc)
{
	const __u8 *p = buf;

	while (len > 0) {
		struct nlmsghdr h;
		size_t step;
		int ret;

		if (len < sizeof(h))
			return -EPROTO;
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len)
			return -EPROTO;
		ret = parse_msg(&h, p + NLMSG_HDRLEN, pc);
		if (ret)
			return ret;
		step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= len)
			break;
		p += step;
		len -= step;
	}
	return 0;
}

int sock_diag__parse(const void *buf, size_t len, diag_sock_cb cb, void *ctx)
{
	struct parse_ctx pc = {.cb = cb, .ctx = ctx};
	int ret;

	if (!buf && len)
		return -EINVAL;
	ret = parse_buf(buf, len, &pc);
	if (pc.cb_ret && ret >= 0)
		return pc.cb_ret;
	return ret;
}

int sock_diag__open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	return fd < 0 ? -errno : fd;
}

static int send_request(int fd, __u8 family, __u32 states, bool with_meminfo, __u32 seq)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = seq;
	msg.req.sdiag_family = family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = states;
	if (with_meminfo)
		msg.req.idiag_ext = 1 << (INET_DIAG_SKMEMINFO - 1);

	/* An unaddressed send on a netlink socket goes to the kernel (port 0). */
	do {
		n = send(fd, &msg, sizeof(msg), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(msg) ? 0 : -EIO;
}

static ssize_t recv_buf(int fd, void *buf, size_t size)
{
	struct iovec iov = {.iov_base = buf, .iov_len = size};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	do {
		n = recvmsg(fd, &mh, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	if (n == 0)
		return -EPROTO;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	return n;
}

/* One family: request, then read until our NLMSG_DONE (also after the callback stopped). */
static int dump_family(int fd, __u8 family, __u32 states, bool meminfo, __u8 *buf,
		       struct parse_ctx *pc)
{
	int ret;

	pc->seq = __atomic_add_fetch(&diag_seq, 1, __ATOMIC_RELAXED);
	ret = send_request(fd, family, states, meminfo, pc->seq);
	if (ret)
		return ret;
	for (;;) {
		ssize_t n = recv_buf(fd, buf, DIAG_RECV_BUF);

		if (n < 0)
			return (int)n;
		ret = parse_buf(buf, (size_t)n, pc);
		if (ret)
			return ret < 0 ? ret : 0;
	}
}

int sock_diag__dump(int fd, __u32 state_mask, bool with_meminfo, diag_sock_cb cb, void *ctx)
{
	static const __u8 families[] = {AF_INET, AF_INET6};
	struct timeval tv = {.tv_sec = DIAG_RECV_TIMEOUT_S};
	struct parse_ctx pc = {.cb = cb, .ctx = ctx, .check_seq = true};
	__u8 *buf;
	int ret = 0;

	if (fd < 0 || !cb)
		return -EINVAL;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -errno;
	buf = malloc(DIAG_RECV_BUF);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(families) && !ret && !pc.cb_ret; i++) {
		ret = dump_family(fd, families[i], state_mask, with_meminfo, buf, &pc);
		if (ret)
			log_debug("sock_diag dump (family %u) failed: %s", families[i],
				  strerror(-ret));
	}
	free(buf);
	/* A stopped callback wins over errors met while draining the rest of the reply. */
	return pc.cb_ret ? pc.cb_ret : ret;
}
