// SPDX-License-Identifier: GPL-2.0-only
/* Network namespace discovery and switching (setns on the calling thread). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/nsfs.h>

#include "log.h"
#include "netns.h"

#define NETNS_RUN_DIR "/run/netns"

static int self_fd = -1;
static __u32 self_inode;

int netns__init(void)
{
	struct stat st;
	int fd;

	if (self_fd >= 0)
		return 0;
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	self_inode = (__u32)st.st_ino;
	self_fd = fd;
	return 0;
}

__u32 netns__self_inode(void)
{
	return self_inode;
}

static bool list_has(const struct netns_ref *refs, int n, __u32 inode)
{
	for (int i = 0; i < n; i++)
		if (refs[i].inode == inode)
			return true;
	return false;
}

/* True if fd is a network namespace (a stale /run/netns file without its bind mount is not). */
static bool is_netns_fd(int fd)
{
	return ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
}

/*
 * Add the namespace at dirfd/path if it is new. stat() first so that most already-known
 * namespaces cost no open(); the inode of the opened fd is what counts (the process may have
 * moved in between). Returns 1 if added, 0 if skipped, -ENOSPC if full.
 */
static int list_add(struct netns_ref *out, int *n, int max, int dirfd, const char *path,
		    const char *how)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, path, &st, 0) || list_has(out, *n, (__u32)st.st_ino))
		return 0;
	if (*n >= max)
		return -ENOSPC;
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) || list_has(out, *n, (__u32)st.st_ino) || !is_netns_fd(fd)) {
		close(fd);
		return 0;
	}
	out[*n].inode = (__u32)st.st_ino;
	out[*n].fd = fd;
	snprintf(out[*n].how, sizeof(out[*n].how), "%s", how);
	(*n)++;
	return 1;
}

static bool is_pid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Named namespaces (ip netns add). A missing /run/netns is normal. */
static int scan_run_netns(struct netns_ref *out, int *n, int max)
{
	char how[sizeof(NETNS_RUN_DIR) + 256];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	d = opendir(NETNS_RUN_DIR);
	if (!d)
		return 0;
	while (ret >= 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(how, sizeof(how), "%s/%s", NETNS_RUN_DIR, de->d_name);
		ret = list_add(out, n, max, dirfd(d), de->d_name, how);
	}
	closedir(d);
	return ret < 0 ? ret : 0;
}

static int scan_proc(struct netns_ref *out, int *n, int max)
{
	char path[300], how[300];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while (ret >= 0 && (de = readdir(d))) {
		if (!is_pid_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/ns/net", de->d_name);
		snprintf(how, sizeof(how), "pid %s", de->d_name);
		ret = list_add(out, n, max, dirfd(d), path, how);
	}
	closedir(d);
	return ret < 0 ? ret : 0;
}

int netns__list(struct netns_ref *out, int max)
{
	int n = 0, ret;

	if (!out || max <= 0)
		return -EINVAL;
	ret = scan_run_netns(out, &n, max);
	if (!ret)
		ret = scan_proc(out, &n, max);
	if (ret == -ENOSPC) {
		log_warn("more than %d network namespaces: only the first %d are visited", max,
			 max);
		return n;
	}
	if (ret) {
		netns__close_list(out, n);
		return ret;
	}
	return n;
}

void netns__close_list(struct netns_ref *refs, int n)
{
	if (!refs)
		return;
	for (int i = 0; i < n; i++) {
		if (refs[i].fd >= 0)
			close(refs[i].fd);
		refs[i].fd = -1;
	}
}

int netns__list_all(struct netns_ref **out)
{
	struct netns_ref *refs = calloc(NETNS_MAX, sizeof(*refs));
	int n;

	*out = NULL;
	if (!refs)
		return -ENOMEM;
	n = netns__list(refs, NETNS_MAX);
	if (n < 0) {
		free(refs);
		return n;
	}
	*out = refs;
	return n;
}

void netns__free_list(struct netns_ref *refs, int n)
{
	netns__close_list(refs, n);
	free(refs);
}

int netns__enter(int netns_fd)
{
	if (netns_fd < 0)
		return -EBADF;
	return setns(netns_fd, CLONE_NEWNET) ? -errno : 0;
}

int netns__leave(void)
{
	if (self_fd < 0)
		return -EINVAL;
	return setns(self_fd, CLONE_NEWNET) ? -errno : 0;
}

int netns__socket(int netns_fd, int domain, int type, int protocol)
{
	int fd, err;

	if (self_fd < 0)
		return -EINVAL;
	err = netns__enter(netns_fd);
	if (err)
		return err;
	fd = socket(domain, type | SOCK_CLOEXEC, protocol);
	if (fd < 0)
		fd = -errno;
	err = netns__leave();
	if (err) {
		log_err("cannot return to our own network namespace: %s (this thread is now in "
			"another namespace; restart tcpstate)",
			strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}
