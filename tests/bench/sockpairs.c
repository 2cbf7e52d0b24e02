// SPDX-License-Identifier: GPL-2.0-only
/*
 * sockpairs: make many TCP sockets on loopback for tcpstate's benchmarks, then hold them.
 *
 *   hold      open --pairs N connected pairs (2N ESTABLISHED sockets) and keep every fd
 *   timewait  open --pairs N pairs in batches, close the client side first, wait for the
 *             server side to see EOF, close it: N client sockets left in TIME_WAIT
 *
 * Run it inside a private network namespace (the benchmark creates one): it is meant to fill
 * the namespace's port space. Connections are spread over --ports listeners so that more than
 * one port range's worth of 4-tuples exists. If RLIMIT_NOFILE's hard limit cannot be raised (root
 * without CAP_SYS_RESOURCE), hold mode forks workers that each hold what fits. Prints "READY ..."
 * once the sockets exist, then waits for SIGTERM/SIGINT or --hold seconds and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 64
#define BACKLOG 4096
#define MAX_WORKERS 256

enum mode { MODE_HOLD, MODE_TIMEWAIT };

struct opts {
	enum mode mode;
	long pairs;
	int ports;
	int batch;
	double hold;
	struct in_addr addr;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sockpairs --mode hold|timewait --pairs N [OPTIONS]\n"
		"Make many loopback TCP sockets and hold them (benchmark helper; run it in a\n"
		"private network namespace).\n\n"
		"  --mode hold       keep N connected pairs open (2N ESTABLISHED sockets)\n"
		"  --mode timewait   leave N client sockets in TIME_WAIT (client closes first)\n"
		"  --pairs N         number of connections (required)\n"
		"  --ports M         spread connections over M listeners (default 4, max %d)\n"
		"  --batch B         timewait: pairs opened before closing them (default 2000)\n"
		"  --addr A          IPv4 address to listen on and connect to (default 127.0.0.1)\n"
		"  --hold S          exit after S seconds (default: wait for SIGTERM/SIGINT)\n\n"
		"Prints READY mode=<m> pairs=<n> sockets=<s> seconds=<t> once done.\n",
		MAX_PORTS);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"mode", required_argument, NULL, 'm'},  {"pairs", required_argument, NULL, 'n'},
	    {"ports", required_argument, NULL, 'p'}, {"batch", required_argument, NULL, 'b'},
	    {"addr", required_argument, NULL, 'a'},  {"hold", required_argument, NULL, 'H'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.mode = MODE_HOLD, .pairs = -1, .ports = 4, .batch = 2000, .hold = -1};
	inet_pton(AF_INET, "127.0.0.1", &o->addr);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "hold"))
				o->mode = MODE_HOLD;
			else if (!strcmp(optarg, "timewait"))
				o->mode = MODE_TIMEWAIT;
			else
				return -EINVAL;
			break;
		case 'n':
			o->pairs = atol(optarg);
			break;
		case 'p':
			o->ports = atoi(optarg);
			break;
		case 'b':
			o->batch = atoi(optarg);
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &o->addr) != 1)
				return -EINVAL;
			break;
		case 'H':
			o->hold = atof(optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (o->pairs <= 0 || o->ports < 1 || o->ports > MAX_PORTS || o->batch < 1)
		return -EINVAL;
	return 0;
}

/* Raise RLIMIT_NOFILE to at least want fds; 0 or -errno. */
static int raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= want)
		return 0;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

/* Listen on addr with an ephemeral port; fd or -errno, port in *sin. */
static int open_listener(struct in_addr addr, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	*sin = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr = addr};
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) || listen(fd, BACKLOG) ||
	    getsockname(fd, (struct sockaddr *)sin, &len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Connect one client to lsin and accept it on lfd; 0 or -errno, fds in *cfd and *sfd. */
static int open_pair(int lfd, const struct sockaddr_in *lsin, int *cfd, int *sfd)
{
	int err;

	*cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*cfd < 0)
		return -errno;
	if (connect(*cfd, (const struct sockaddr *)lsin, sizeof(*lsin)))
		goto out_close_client;
	*sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (*sfd < 0)
		goto out_close_client;
	return 0;

out_close_client:
	err = -errno;
	close(*cfd);
	return err;
}

/* Close clients first, wait for each server socket to read EOF, then close it. */
static void close_client_first(int *cfds, int *sfds, int n)
{
	char buf[64];
	int i;

	for (i = 0; i < n; i++)
		close(cfds[i]);
	for (i = 0; i < n; i++) {
		struct pollfd p = {.fd = sfds[i], .events = POLLIN};

		if (poll(&p, 1, 2000) > 0)
			while (recv(sfds[i], buf, sizeof(buf), 0) > 0)
				;
		close(sfds[i]);
	}
}

/* Open o->pairs pairs (closing them per batch in timewait mode); 0 or -errno. */
static int make_sockets(const struct opts *o, int *lfds, struct sockaddr_in *lsins, int *cfds,
			int *sfds)
{
	long done = 0;
	int in_batch = 0;

	while (done < o->pairs && !stop) {
		int k = done % o->ports;
		int err = open_pair(lfds[k], &lsins[k], &cfds[in_batch], &sfds[in_batch]);

		if (err) {
			fprintf(stderr, "sockpairs: connection %ld of %ld failed: %s\n", done + 1,
				o->pairs, strerror(-err));
			return err;
		}
		done++;
		in_batch++;
		if (o->mode == MODE_TIMEWAIT && (in_batch == o->batch || done == o->pairs)) {
			close_client_first(cfds, sfds, in_batch);
			in_batch = 0;
		}
	}
	return stop ? -EINTR : 0;
}

static void wait_for_signal(double hold)
{
	double end = hold >= 0 ? now_s() + hold : 0;

	while (!stop && (hold < 0 || now_s() < end))
		poll(NULL, 0, 100);
}

/* Per-process pair limit under the hard RLIMIT_NOFILE (root may lack CAP_SYS_RESOURCE). */
static long pairs_per_process(const struct opts *o)
{
	struct rlimit rl;
	long n;

	if (o->mode == MODE_TIMEWAIT || getrlimit(RLIMIT_NOFILE, &rl) ||
	    rl.rlim_max == RLIM_INFINITY)
		return o->pairs;
	n = ((long)rl.rlim_max - o->ports - 64) / 2;
	if (raise_nofile(2 * o->pairs + o->ports + 64) == 0 || n >= o->pairs)
		return o->pairs;
	return n > 0 ? n : 1;
}

/*
 * One worker: open share pairs, tell the parent (one byte on ready_fd), hold them until a
 * signal or the parent's death. Exit status 0 or 1.
 */
static int run_worker(struct opts o, long share, int *lfds, struct sockaddr_in *lsins, int ready_fd)
{
	long slots = o.mode == MODE_HOLD ? share : o.batch;
	int *cfds = calloc(slots, sizeof(*cfds));
	int *sfds = calloc(slots, sizeof(*sfds));
	int err;

	if (!cfds || !sfds) {
		fprintf(stderr, "sockpairs: out of memory for %ld fds\n", 2 * slots);
		return 1;
	}
	err = raise_nofile(2 * slots + o.ports + 64);
	if (err) {
		fprintf(stderr, "sockpairs: cannot raise RLIMIT_NOFILE to %ld: %s\n",
			2 * slots + o.ports + 64, strerror(-err));
		return 1;
	}
	o.pairs = share;
	err = make_sockets(&o, lfds, lsins, cfds, sfds);
	if (err && err != -EINTR)
		return 1;
	if (ready_fd >= 0) {
		if (write(ready_fd, "r", 1) != 1)
			return 1;
		close(ready_fd);
		wait_for_signal(-1);
	}
	return 0;
}

/* Fork one held worker; its pid, or -1 if it could not start or failed before READY. */
static pid_t start_worker(const struct opts *o, long share, int *lfds, struct sockaddr_in *lsins)
{
	int pfd[2];
	char c;
	pid_t pid;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		_exit(run_worker(*o, share, lfds, lsins, pfd[1]));
	}
	close(pfd[1]);
	if (pid > 0 && read(pfd[0], &c, 1) != 1) {
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(pfd[0]);
	return pid;
}

int main(int argc, char **argv)
{
	struct sockaddr_in lsins[MAX_PORTS];
	pid_t workers[MAX_WORKERS];
	int lfds[MAX_PORTS];
	int nworkers = 0, i, status = 0;
	long per_proc, done = 0;
	struct opts o;
	double t0;

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (i = 0; i < o.ports; i++) {
		lfds[i] = open_listener(o.addr, &lsins[i]);
		if (lfds[i] < 0) {
			fprintf(stderr, "sockpairs: cannot listen: %s\n", strerror(-lfds[i]));
			return 1;
		}
	}
	t0 = now_s();
	per_proc = pairs_per_process(&o);
	if (per_proc >= o.pairs) {
		/* Everything fits in this process (the fds stay open until exit). */
		if (run_worker(o, o.pairs, lfds, lsins, -1))
			return 1;
	} else {
		/* Too many fds for one process: hold them in workers, each under the limit. */
		while (done < o.pairs && !stop) {
			long share = o.pairs - done < per_proc ? o.pairs - done : per_proc;

			if (nworkers == MAX_WORKERS) {
				fprintf(stderr, "sockpairs: more than %d workers needed\n",
					MAX_WORKERS);
				status = 1;
				break;
			}
			workers[nworkers] = start_worker(&o, share, lfds, lsins);
			if (workers[nworkers] < 0) {
				status = 1;
				break;
			}
			nworkers++;
			done += share;
		}
	}
	if (!status) {
		printf("READY mode=%s pairs=%ld sockets=%ld seconds=%.3f processes=%d\n",
		       o.mode == MODE_HOLD ? "hold" : "timewait", o.pairs,
		       o.mode == MODE_HOLD ? 2 * o.pairs : o.pairs, now_s() - t0,
		       nworkers ? nworkers : 1);
		fflush(stdout);
		wait_for_signal(o.hold);
	}
	for (i = 0; i < nworkers; i++)
		kill(workers[i], SIGTERM);
	for (i = 0; i < nworkers; i++)
		waitpid(workers[i], NULL, 0);
	return status;
}
