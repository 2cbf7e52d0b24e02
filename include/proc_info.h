/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Readers of /proc. Each takes a proc_root ("/proc" normally, a fixture tree in tests) so it can
 * be tested without root. They tolerate processes vanishing while they read.
 */
#ifndef TCPSTATE_PROC_INFO_H
#define TCPSTATE_PROC_INFO_H

#include <stddef.h>
#include <linux/types.h>

/* Socket inode -> owning process, built like `ss -p` from <root>/<pid>/fd/N -> "socket:[I]". */
struct inode_owner_map;

/*
 * Scan every <proc_root>/<pid>/fd directory (numeric names only; threads share their
 * process's fd table, so tgids are enough) and map each socket inode to the lowest pid that
 * holds it. Unreadable or vanished processes are skipped; an unreadable proc_root gives an empty
 * map. Scales to hundreds of thousands of sockets. Returns a map the caller frees with
 * inode_owner_map__free(), or NULL only when out of memory.
 */
struct inode_owner_map *inode_owner_map__build(const char *proc_root);

/* The pid (tgid) holding socket inode, the lowest if several share it; 0 if none or m is NULL. */
int inode_owner_map__lookup(const struct inode_owner_map *m, __u32 inode);

/* Number of distinct socket inodes in the map (0 for NULL). */
size_t inode_owner_map__size(const struct inode_owner_map *m);

/* Free the map. Accepts NULL. */
void inode_owner_map__free(struct inode_owner_map *m);

/*
 * Copy <proc_root>/<pid>/comm into buf without its trailing newline. Returns 0, -ERANGE if it
 * does not fit in len bytes (NUL included), or the -errno of opening/reading the file.
 */
int proc__read_comm(const char *proc_root, int pid, char *buf, size_t len);
/*
 * The same from the n bytes of a comm file already read (text need not be NUL-terminated): the
 * bytes up to a final newline, kept as they are (spaces, parentheses, inner newlines, any byte).
 */
int proc__parse_comm(const char *text, size_t n, char *buf, size_t len);

/*
 * Copy the cgroup v2 path (the rest of the "0::" line of <proc_root>/<pid>/cgroup, e.g.
 * "/system.slice/foo.service") into buf. Returns 0, -ENOENT if there is no "0::" line (a pure
 * cgroup v1 host), -ERANGE if it does not fit, or the -errno of reading the file.
 */
int proc__read_cgroup(const char *proc_root, int pid, char *buf, size_t len);
/* The same from the NUL-terminated text of a cgroup file already read. */
int proc__parse_cgroup(const char *text, char *buf, size_t len);

/*
 * The inode of <proc_root>/<pid>/ns/net (the link reads "net:[4026531840]") into *inode.
 * Returns 0, -EINVAL if the link is not of that form, or the -errno of reading it.
 */
int proc__read_netns(const char *proc_root, int pid, __u32 *inode);

/* Host-wide (per network namespace) listen queue counters from /proc/net/netstat. */
struct netstat_listen {
	__u64 listen_overflows; /* TcpExt ListenOverflows: accept queue full */
	__u64 listen_drops;	/* TcpExt ListenDrops: every SYN/ACK dropped at a listener */
};

/*
 * Parse the text of /proc/net/netstat (NUL-terminated): the "TcpExt:" header line and the
 * "TcpExt:" value line that follows it. Returns 0, -ENOENT if TcpExt or either counter is
 * absent, -EINVAL if the lines are malformed (value not a number, fewer values than names).
 */
int proc__parse_netstat(const char *text, struct netstat_listen *out);

/*
 * Read <proc_root>/sys/net/ipv4/ip_local_port_range ("lo<TAB>hi"). Returns 0, -EINVAL if it is
 * not two ports with lo <= hi, or the -errno of reading the file.
 */
int proc__read_port_range(const char *proc_root, int *lo, int *hi);
/* The same from the NUL-terminated text of that file. */
int proc__parse_port_range(const char *text, int *lo, int *hi);

/*
 * Read a file holding one integer (e.g. /proc/sys/net/ipv4/tcp_fin_timeout); surrounding
 * whitespace is allowed, anything else is -EINVAL; -ERANGE if it does not fit a long.
 * Returns 0 or -errno.
 */
int proc__read_int(const char *path, long *out);
/* The same from NUL-terminated text. */
int proc__parse_int(const char *text, long *out);

#endif /* TCPSTATE_PROC_INFO_H */
