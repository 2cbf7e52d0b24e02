// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc readers: socket inode owners (like `ss -p`), comm, cgroup, netstat listen counters and
 * a few sysctls. Every file is treated as untrusted text: bounded reads, checked numbers.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_info.h"

#define OWNER_MAP_MIN_CAP 1024
#define SOCKET_LINK_PREFIX "socket:["

struct owner_slot {
	__u32 inode; /* 0: empty (no socket has inode 0) */
	int pid;
};

/* Open addressing, linear probing, at most half full. */
struct inode_owner_map {
	struct owner_slot *slots;
	size_t cap; /* power of two */
	size_t count;
};

static size_t slot_of(__u32 inode, size_t cap)
{
	__u32 h = inode * 0x9e3779b1u;

	h ^= h >> 15;
	return h & (cap - 1);
}

static struct owner_slot *map_find(struct owner_slot *slots, size_t cap, __u32 inode)
{
	size_t i = slot_of(inode, cap);

	while (slots[i].inode && slots[i].inode != inode)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int map_grow(struct inode_owner_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : OWNER_MAP_MIN_CAP;
	struct owner_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].inode)
			*map_find(slots, cap, m->slots[i].inode) = m->slots[i];
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

/* Record that pid holds inode; the lowest pid wins. */
static int map_insert(struct inode_owner_map *m, __u32 inode, int pid)
{
	struct owner_slot *s;

	if ((m->count + 1) * 2 > m->cap && map_grow(m))
		return -ENOMEM;
	s = map_find(m->slots, m->cap, inode);
	if (!s->inode) {
		s->inode = inode;
		s->pid = pid;
		m->count++;
	} else if (pid < s->pid) {
		s->pid = pid;
	}
	return 0;
}

/* A decimal pid: digits only, 1..INT_MAX. Returns the pid or 0. */
static int parse_pid(const char *s)
{
	long v = 0;

	if (!*s)
		return 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return 0;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return 0;
	}
	return (int)v;
}

/* "socket:[12345]" -> 12345; anything else (or 0, or > 32 bits) -> 0. */
static __u32 parse_socket_link(const char *link)
{
	const char *p = link + strlen(SOCKET_LINK_PREFIX);
	unsigned long long v = 0;

	if (strncmp(link, SOCKET_LINK_PREFIX, strlen(SOCKET_LINK_PREFIX)))
		return 0;
	if (!isdigit((unsigned char)*p))
		return 0;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > UINT32_MAX)
			return 0;
	}
	if (p[0] != ']' || p[1])
		return 0;
	return (__u32)v;
}

/* Add the sockets of one process. A process that vanished or hides its fds is skipped. */
static int scan_pid_fds(struct inode_owner_map *m, int procfd, const char *name, int pid)
{
	char path[64], link[64];
	struct dirent *de;
	int fdd, ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%.20s/fd", name);
	fdd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdd < 0)
		return 0;
	d = fdopendir(fdd);
	if (!d) {
		close(fdd);
		return 0;
	}
	while (!ret && (de = readdir(d))) {
		ssize_t n;
		__u32 inode;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(fdd, de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		inode = parse_socket_link(link);
		if (inode)
			ret = map_insert(m, inode, pid);
	}
	closedir(d);
	return ret;
}

struct inode_owner_map *inode_owner_map__build(const char *proc_root)
{
	struct inode_owner_map *m = calloc(1, sizeof(*m));
	struct dirent *de;
	DIR *d;

	if (!m || map_grow(m)) {
		free(m);
		return NULL;
	}
	d = proc_root ? opendir(proc_root) : NULL;
	if (!d)
		return m;
	while ((de = readdir(d))) {
		int pid = parse_pid(de->d_name);

		if (pid && scan_pid_fds(m, dirfd(d), de->d_name, pid)) {
			closedir(d);
			inode_owner_map__free(m);
			return NULL;
		}
	}
	closedir(d);
	return m;
}

int inode_owner_map__lookup(const struct inode_owner_map *m, __u32 inode)
{
	if (!m || !inode || !m->cap)
		return 0;
	return map_find(m->slots, m->cap, inode)->pid;
}

size_t inode_owner_map__size(const struct inode_owner_map *m)
{
	return m ? m->count : 0;
}

void inode_owner_map__free(struct inode_owner_map *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

/*
 * Read a whole small file into buf (size bytes, NUL-terminated). Returns the length, -EFBIG if
 * the file does not fit, or -errno.
 */
static ssize_t read_text(const char *path, char *buf, size_t size)
{
	size_t used = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + used, size - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used == size) {
			err = -EFBIG;
			break;
		}
	}
	close(fd);
	if (err)
		return err;
	buf[used] = '\0';
	return (ssize_t)used;
}

static int pid_path(char *path, size_t size, const char *root, int pid, const char *file)
{
	int n;

	if (!root || pid <= 0)
		return -EINVAL;
	n = snprintf(path, size, "%s/%d/%s", root, pid, file);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Copy n bytes of src into buf as a string, or -ERANGE if it does not fit in len. */
static int copy_out(char *buf, size_t len, const char *src, size_t n)
{
	if (n >= len)
		return -ERANGE;
	memcpy(buf, src, n);
	buf[n] = '\0';
	return 0;
}

int proc__parse_comm(const char *text, size_t n, char *buf, size_t len)
{
	if (!text || !buf || !len)
		return -EINVAL;
	if (n > 0 && text[n - 1] == '\n')
		n--;
	return copy_out(buf, len, text, n);
}

int proc__read_comm(const char *proc_root, int pid, char *buf, size_t len)
{
	char path[PATH_MAX], text[256];
	ssize_t n;
	int err;

	if (!buf || !len)
		return -EINVAL;
	err = pid_path(path, sizeof(path), proc_root, pid, "comm");
	if (err)
		return err;
	n = read_text(path, text, sizeof(text));
	if (n < 0)
		return n == -EFBIG ? -ERANGE : (int)n;
	return proc__parse_comm(text, (size_t)n, buf, len);
}

static const char *next_line(const char *s)
{
	s = strchr(s, '\n');
	return s && s[1] ? s + 1 : NULL;
}

int proc__parse_cgroup(const char *text, char *buf, size_t len)
{
	const char *line;

	if (!text || !buf || !len)
		return -EINVAL;
	for (line = *text ? text : NULL; line; line = next_line(line))
		if (strncmp(line, "0::", 3) == 0)
			return copy_out(buf, len, line + 3, strcspn(line + 3, "\n"));
	return -ENOENT;
}

int proc__read_netns(const char *proc_root, int pid, __u32 *inode)
{
	char path[PATH_MAX], link[64], *end;
	unsigned long v;
	ssize_t n;
	int err;

	err = pid_path(path, sizeof(path), proc_root, pid, "ns/net");
	if (err)
		return err;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	if (strncmp(link, "net:[", 5) || link[5] < '0' || link[5] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(link + 5, &end, 10);
	if (errno || strcmp(end, "]") || v > 0xffffffffUL)
		return -EINVAL;
	*inode = (__u32)v;
	return 0;
}

int proc__read_cgroup(const char *proc_root, int pid, char *buf, size_t len)
{
	const size_t size = 64 * 1024;
	char path[PATH_MAX], *text;
	ssize_t n;
	int err;

	if (!buf || !len)
		return -EINVAL;
	err = pid_path(path, sizeof(path), proc_root, pid, "cgroup");
	if (err)
		return err;
	text = malloc(size);
	if (!text)
		return -ENOMEM;
	n = read_text(path, text, size);
	err = n < 0 ? (int)n : proc__parse_cgroup(text, buf, len);
	free(text);
	return err;
}

/* Next whitespace-separated token on the current line; false at end of line or text. */
static bool next_token(const char **pp, const char **tok, size_t *tlen)
{
	const char *p = *pp;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '\n') {
		*pp = p;
		return false;
	}
	*tok = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	*tlen = (size_t)(p - *tok);
	*pp = p;
	return true;
}

static int parse_u64_token(const char *tok, size_t n, __u64 *out)
{
	__u64 v = 0;

	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(tok[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static bool token_is(const char *tok, size_t n, const char *word)
{
	return n == strlen(word) && memcmp(tok, word, n) == 0;
}

/* names/values point just past "TcpExt:" on the header and value lines. */
static int parse_tcpext(const char *names, const char *values, struct netstat_listen *out)
{
	bool got_ovf = false, got_drops = false;
	const char *name, *val;
	size_t nlen, vlen;

	while (next_token(&names, &name, &nlen)) {
		__u64 v;

		if (!next_token(&values, &val, &vlen) || parse_u64_token(val, vlen, &v))
			return -EINVAL;
		if (token_is(name, nlen, "ListenOverflows")) {
			out->listen_overflows = v;
			got_ovf = true;
		} else if (token_is(name, nlen, "ListenDrops")) {
			out->listen_drops = v;
			got_drops = true;
		}
	}
	return got_ovf && got_drops ? 0 : -ENOENT;
}

int proc__parse_netstat(const char *text, struct netstat_listen *out)
{
	static const char prefix[] = "TcpExt:";
	const size_t plen = sizeof(prefix) - 1;
	const char *line, *next;

	if (!text || !out)
		return -EINVAL;
	for (line = text; *line; line = next + 1) {
		next = strchr(line, '\n');
		if (strncmp(line, prefix, plen) == 0) {
			if (!next || strncmp(next + 1, prefix, plen))
				return -EINVAL; /* header without its value line */
			return parse_tcpext(line + plen, next + 1 + plen, out);
		}
		if (!next)
			break;
	}
	return -ENOENT;
}

/* Parse a decimal long at *pp after optional blanks; advance *pp. */
static int parse_long(const char **pp, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(*pp, &end, 10);
	if (end == *pp)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*pp = end;
	*out = v;
	return 0;
}

static bool only_space(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return !*p;
}

int proc__parse_port_range(const char *text, int *lo, int *hi)
{
	const char *p = text;
	long a, b;

	if (!text || !lo || !hi)
		return -EINVAL;
	if (parse_long(&p, &a) || parse_long(&p, &b) || !only_space(p))
		return -EINVAL;
	if (a < 1 || b > 65535 || a > b)
		return -EINVAL;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

int proc__read_port_range(const char *proc_root, int *lo, int *hi)
{
	char path[PATH_MAX], text[64];
	ssize_t n;
	int len;

	if (!proc_root || !lo || !hi)
		return -EINVAL;
	len = snprintf(path, sizeof(path), "%s/sys/net/ipv4/ip_local_port_range", proc_root);
	if (len < 0 || (size_t)len >= sizeof(path))
		return -ENAMETOOLONG;
	n = read_text(path, text, sizeof(text));
	if (n < 0)
		return n == -EFBIG ? -EINVAL : (int)n;
	return proc__parse_port_range(text, lo, hi);
}

int proc__parse_int(const char *text, long *out)
{
	const char *p = text;
	long v;
	int err;

	if (!text || !out)
		return -EINVAL;
	err = parse_long(&p, &v);
	if (err)
		return err;
	if (!only_space(p))
		return -EINVAL;
	*out = v;
	return 0;
}

int proc__read_int(const char *path, long *out)
{
	char text[64];
	ssize_t n;

	if (!path || !out)
		return -EINVAL;
	n = read_text(path, text, sizeof(text));
	if (n < 0)
		return n == -EFBIG ? -EINVAL : (int)n;
	return proc__parse_int(text, out);
}
