// SPDX-License-Identifier: GPL-2.0-only
/* The standard process_* metrics of the exporter itself, from /proc/self (see process_stats.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "process_stats.h"
#include "prom_writer.h"

#define STAT_TEXT_MAX 4096

/* Fields of /proc/PID/stat, numbered as proc(5) numbers them (pid is 1, comm 2, state 3). */
#define F_UTIME 14
#define F_STIME 15
#define F_STARTTIME 22
#define F_VSIZE 23
#define F_RSS 24

/*
 * Next space-separated decimal after *p into *v; -EINVAL if there is none. A negative one
 * (tpgid is -1 without a terminal) is accepted; only unsigned fields are used.
 */
static int next_u64(const char **p, unsigned long long *v)
{
	char *end;

	while (**p == ' ')
		(*p)++;
	if ((**p < '0' || **p > '9') && **p != '-')
		return -EINVAL;
	errno = 0;
	*v = **p == '-' ? (unsigned long long)strtoll(*p, &end, 10) : strtoull(*p, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end))
		return -EINVAL;
	*p = end;
	return 0;
}

/* Skip one space-separated field of any content (the state letter); -EINVAL at the end. */
static int skip_field(const char **p)
{
	while (**p == ' ')
		(*p)++;
	if (!**p || **p == '\n')
		return -EINVAL;
	while (**p && **p != ' ' && **p != '\n')
		(*p)++;
	return 0;
}

int process_stats__parse_stat(const char *text, long clk_tck, long page_size, __u64 btime,
			      struct process_stats *out)
{
	unsigned long long f[F_RSS + 1] = { 0 };
	const char *p = strrchr(text, ')');

	if (!p || clk_tck <= 0 || page_size <= 0)
		return -EINVAL;
	p++;
	if (skip_field(&p))
		return -EINVAL;
	for (int i = 4; i <= F_RSS; i++)
		if (next_u64(&p, &f[i]))
			return -EINVAL;
	out->cpu_seconds = (double)(f[F_UTIME] + f[F_STIME]) / (double)clk_tck;
	out->start_time = (double)btime + (double)f[F_STARTTIME] / (double)clk_tck;
	out->virtual_bytes = f[F_VSIZE];
	out->resident_bytes = f[F_RSS] * (unsigned long long)page_size;
	return 0;
}

int process_stats__parse_btime(const char *text, __u64 *btime)
{
	const char *p = text;
	unsigned long long v;

	while (p && strncmp(p, "btime ", 6)) {
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (!p)
		return -ENOENT;
	p += 5;
	if (next_u64(&p, &v))
		return -EINVAL;
	*btime = v;
	return 0;
}

/* The whole of a small file into buf (NUL-terminated); 0 or -errno. */
static int read_text(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0)
		return -errno;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	e = n < 0 ? -errno : 0;
	close(fd);
	buf[got] = '\0';
	return e;
}

static long count_fds(const char *proc_root)
{
	char path[256];
	struct dirent *de;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/self/fd", proc_root);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

int process_stats__read(const char *proc_root, struct process_stats *out)
{
	char path[256], *text = malloc(STAT_TEXT_MAX);
	struct rlimit rl;
	__u64 btime = 0;
	int err;

	if (!text)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/stat", proc_root);
	err = read_text(path, text, STAT_TEXT_MAX);
	if (!err)
		err = process_stats__parse_btime(text, &btime);
	snprintf(path, sizeof(path), "%s/self/stat", proc_root);
	if (!err)
		err = read_text(path, text, STAT_TEXT_MAX);
	if (!err)
		err = process_stats__parse_stat(text, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE),
						btime, out);
	free(text);
	out->open_fds = count_fds(proc_root);
	out->max_fds = getrlimit(RLIMIT_NOFILE, &rl) ? -1 : (long)rl.rlim_cur;
	return err;
}

void process_stats__render(struct prom_writer *w, const struct process_stats *st)
{
	prom_writer__family(w, "process_cpu_seconds_total", "counter",
			    "Total user and system CPU time spent in seconds.");
	prom_writer__sample(w, "process_cpu_seconds_total", NULL, st->cpu_seconds);
	prom_writer__family(w, "process_open_fds", "gauge", "Number of open file descriptors.");
	prom_writer__sample(w, "process_open_fds", NULL, (double)st->open_fds);
	prom_writer__family(w, "process_max_fds", "gauge",
			    "Maximum number of open file descriptors.");
	prom_writer__sample(w, "process_max_fds", NULL, (double)st->max_fds);
	prom_writer__family(w, "process_virtual_memory_bytes", "gauge",
			    "Virtual memory size in bytes.");
	prom_writer__sample_u64(w, "process_virtual_memory_bytes", NULL, st->virtual_bytes);
	prom_writer__family(w, "process_resident_memory_bytes", "gauge",
			    "Resident memory size in bytes.");
	prom_writer__sample_u64(w, "process_resident_memory_bytes", NULL, st->resident_bytes);
	prom_writer__family(w, "process_start_time_seconds", "gauge",
			    "Start time of the process since unix epoch in seconds.");
	prom_writer__sample(w, "process_start_time_seconds", NULL, st->start_time);
}
