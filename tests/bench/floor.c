// SPDX-License-Identifier: GPL-2.0-only
/*
 * floor - the reference tracers of `make bench` (see floor.bpf.c): attaches one mode's
 * programs and runs until SIGINT/SIGTERM, then prints one JSON line (records read, records
 * the rings had no room for).
 *
 *   floor --mode hooks|ring [--ringbuf-kb N]
 *
 * ring mode sizes its rings like `tcpstate serve` (--ringbuf-kb split over the CPUs, at least
 * 1 MiB each) and polls them every 100 ms, as tcpstate does by default.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "floor.skel.h"

static volatile sig_atomic_t stopping;
static unsigned long long records;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	records++;
	return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static void usage(void)
{
	fprintf(stderr, "floor: usage: floor --mode hooks|ring [--ringbuf-kb N (1-4194304)]\n");
	exit(2);
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "floor: %s: %s (run as root on a kernel with BTF)\n", what, strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "mode", required_argument, NULL, 'm' },
					      { "ringbuf-kb", required_argument, NULL, 'k' },
					      { NULL, 0, NULL, 0 } };
	const char *mode = NULL;
	long kb = 16384;
	int c, ncpu, *fds = NULL, err = 0;
	unsigned int ring_bytes = 1u << 20;
	struct ring_buffer *rb = NULL;
	struct bpf_program *p;
	struct floor_bpf *skel;
	unsigned long long full = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		if (c == 'm') {
			mode = optarg;
		} else if (c == 'k') {
			kb = strtol(optarg, &end, 10);
			if (*end || kb <= 0 || kb > 1L << 22)
				usage();
		} else {
			usage();
		}
	}
	if (!mode || (strcmp(mode, "hooks") && strcmp(mode, "ring")))
		usage();
	libbpf_set_print(quiet);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return fail("counting CPUs", -ncpu);
	while ((unsigned long long)ring_bytes * 2 * ncpu <= (unsigned long long)kb * 1024)
		ring_bytes *= 2;
	skel = floor_bpf__open();
	if (!skel)
		return fail("opening the BPF object", errno);
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, !strncmp(bpf_program__name(p), mode, strlen(mode)));
	fds = calloc(ncpu, sizeof(*fds));
	for (int i = 0; fds && i < ncpu; i++) {
		fds[i] = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "floor_ring", 0, 0, ring_bytes, NULL);
		if (fds[i] < 0) {
			err = errno;
			break;
		}
	}
	if (!fds || err)
		return fail("creating ring buffers", fds ? err : ENOMEM);
	skel->rodata->wakeup_bytes = ring_bytes / 8;
	bpf_map__set_max_entries(skel->maps.rings, ncpu);
	bpf_map__set_inner_map_fd(skel->maps.rings, fds[0]);
	err = -floor_bpf__load(skel);
	for (int i = 0; !err && i < ncpu; i++)
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.rings), &i, &fds[i], 0))
			err = errno;
	if (!err)
		err = -floor_bpf__attach(skel);
	if (err) {
		floor_bpf__destroy(skel);
		return fail("loading or attaching the programs", err);
	}
	for (int i = 0; i < ncpu && !strcmp(mode, "ring"); i++) {
		if (!rb)
			rb = ring_buffer__new(fds[i], on_record, NULL, NULL);
		else if (ring_buffer__add(rb, fds[i], on_record, NULL)) {
			ring_buffer__free(rb);
			rb = NULL;
		}
		if (!rb) {
			floor_bpf__destroy(skel);
			return fail("reading the ring buffers", errno);
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "floor: %s attached\n", mode);
	while (!stopping) {
		if (rb)
			ring_buffer__poll(rb, 100);
		else
			pause();
	}
	if (rb) {
		ring_buffer__consume(rb);
		ring_buffer__free(rb);
	}
	{
		__u64 v[ncpu];
		__u32 zero = 0;

		if (!bpf_map_lookup_elem(bpf_map__fd(skel->maps.full), &zero, v))
			for (int i = 0; i < ncpu; i++)
				full += v[i];
	}
	floor_bpf__destroy(skel);
	printf("{\"mode\": \"%s\", \"records\": %llu, \"full\": %llu}\n", mode, records, full);
	return 0;
}
