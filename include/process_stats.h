/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The exporter's own process metrics, named as the Prometheus client libraries name them
 * (process_cpu_seconds_total, process_resident_memory_bytes, ...), read from /proc/self.
 */
#ifndef TCPSTATE_PROCESS_STATS_H
#define TCPSTATE_PROCESS_STATS_H

#include <linux/types.h>

struct prom_writer;

struct process_stats {
	double cpu_seconds;	/* user + system time */
	double start_time;	/* Unix seconds */
	__u64 virtual_bytes;	/* vsize */
	__u64 resident_bytes;	/* rss pages * page size */
	long open_fds;		/* entries of /proc/self/fd; -1 if unreadable */
	long max_fds;		/* soft RLIMIT_NOFILE */
};

/*
 * Parse the text of /proc/PID/stat (NUL-terminated; the command may hold spaces and
 * parentheses: fields are counted from the last ')'). clk_tck is sysconf(_SC_CLK_TCK),
 * page_size in bytes, btime the boot time in Unix seconds. Fills cpu_seconds, start_time,
 * virtual_bytes and resident_bytes. Returns 0, or -EINVAL if the text is malformed.
 */
int process_stats__parse_stat(const char *text, long clk_tck, long page_size, __u64 btime,
			      struct process_stats *out);

/* The "btime N" line of /proc/stat's text: 0, -ENOENT without one, -EINVAL if malformed. */
int process_stats__parse_btime(const char *text, __u64 *btime);

/*
 * Read the calling process's stats from <proc_root>/self/stat, <proc_root>/stat,
 * <proc_root>/self/fd and getrlimit(). Returns 0 or -errno (open_fds is -1 when only the fd
 * directory could not be read, and 0 is returned).
 */
int process_stats__read(const char *proc_root, struct process_stats *out);

/* Write the six process_* families (HELP, TYPE, one sample each) into w. */
void process_stats__render(struct prom_writer *w, const struct process_stats *st);

#endif
