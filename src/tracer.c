// SPDX-License-Identifier: GPL-2.0-only
/* Loading, attaching and reading the BPF side (see include/tracer.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "log.h"
#include "ringbuf_reader.h"
#include "tcpstate.skel.h"
#include "tcpstate_event.h"
#include "tracer.h"

#define BTF_PATH "/sys/kernel/btf/vmlinux"

struct tracer {
	struct tcpstate_bpf *skel;
	struct rb_reader *rb;
	int *ring_fds;		/* one ring buffer per possible CPU */
	int nr_rings;
	__u32 ring_bytes;
	bool classic;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!log_verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int tracer__check_ringbuf_kb(long kb, char *err, size_t errlen)
{
	long page_kb = sysconf(_SC_PAGESIZE) / 1024;

	if (kb < page_kb || kb > 1024 * 1024 || (kb & (kb - 1))) {
		snprintf(err, errlen,
			 "invalid --ringbuf-kb %ld: must be a power of two between %ld and 1048576", kb,
			 page_kb);
		return -EINVAL;
	}
	return 0;
}

static bool privileged(void)
{
	return geteuid() == 0;
}

static const char *privilege_hint(int err)
{
	if ((err == EPERM || err == EACCES) && !privileged())
		return " (run as root, or grant CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)";
	if (err == EACCES || err == EINVAL)
		return " (the kernel's verifier refused a program: run with --verbose to see why)";
	return "";
}

/* Does this kernel have the bpf_link iterator (5.19+), which find_main_prog needs? */
static bool have_link_iter(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found;

	if (!btf)
		return false;
	found = btf__find_by_name_kind(btf, "bpf_iter__bpf_link", BTF_KIND_STRUCT) > 0;
	btf__free(btf);
	return found;
}

/* Pick tp_btf or classic programs: only inet_sock_set_state has a classic variant. */
static void choose_programs(struct tcpstate_bpf *skel, bool classic)
{
	bpf_program__set_autoload(skel->progs.find_main_prog, !classic && have_link_iter());
	bpf_program__set_autoattach(skel->progs.find_main_prog, false);
	bpf_program__set_autoload(skel->progs.set_state_btf, !classic);
	bpf_program__set_autoload(skel->progs.set_state_nested, !classic);
	bpf_program__set_autoload(skel->progs.set_state_tp, classic);
	bpf_program__set_autoload(skel->progs.retransmit_btf, !classic);
	bpf_program__set_autoload(skel->progs.retransmit_synack_btf, !classic);
	bpf_program__set_autoload(skel->progs.send_reset_btf, !classic);
	bpf_program__set_autoload(skel->progs.receive_reset_btf, !classic);
	bpf_program__set_autoload(skel->progs.error_report_btf, !classic);
}

/*
 * The --ringbuf-kb budget is split evenly into one ring per possible CPU, each a power of two,
 * at least a page, and at least 1 MiB unless the whole budget is smaller: a big machine gets
 * more in total rather than rings too small to ride out a burst.
 */
#define RING_FLOOR (1u << 20)

static __u32 ring_size(__u32 total, int nr_rings)
{
	__u32 page = (__u32)sysconf(_SC_PAGESIZE), per = total / (__u32)nr_rings, size = page;
	__u32 floor = total < RING_FLOOR ? total : RING_FLOOR;

	if (per < floor)
		per = floor;
	while (size * 2 <= per)
		size *= 2;
	return size;
}

/* Create the rings; on failure says why in one line and returns -errno. */
static int create_rings(struct tracer *t, const struct tracer_opts *o)
{
	int n = libbpf_num_possible_cpus(), err;

	if (n <= 0) {
		log_err("cannot count this machine's CPUs from /sys/devices/system/cpu/possible: %s",
			strerror(n ? -n : EINVAL));
		return n ? n : -EINVAL;
	}
	t->ring_fds = malloc((size_t)n * sizeof(*t->ring_fds));
	if (!t->ring_fds) {
		log_err("out of memory for %d ring buffer descriptors", n);
		return -ENOMEM;
	}
	t->ring_bytes = ring_size(o->ringbuf_bytes, n);
	for (; t->nr_rings < n; t->nr_rings++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "tcpstate_ring", 0, 0, t->ring_bytes,
					NULL);

		if (fd < 0) {
			err = errno;
			log_err("cannot create %d ring buffers of %u KiB: %s%s", n,
				t->ring_bytes / 1024, strerror(err),
				err == EPERM && privileged() ? " (raise the locked-memory limit or "
							       "lower --ringbuf-kb)"
							     : privilege_hint(err));
			return -err;
		}
		t->ring_fds[t->nr_rings] = fd;
	}
	return 0;
}

static struct tcpstate_bpf *open_and_load(struct tracer *t, bool classic, int *err)
{
	struct tcpstate_bpf *skel = tcpstate_bpf__open();

	if (!skel) {
		*err = errno;
		return NULL;
	}
	/*
	 * Wake the reader when one ring is an eighth full (and at each further eighth): the rest
	 * rides out a reader that is late, even when one CPU produces more than its share. Rings
	 * are powers of two, so this is one too, as the BPF side needs.
	 */
	skel->rodata->wakeup_bytes = t->ring_bytes / 8;
	bpf_map__set_max_entries(skel->maps.events, (__u32)t->nr_rings);
	bpf_map__set_inner_map_fd(skel->maps.events, t->ring_fds[0]); /* the template */
	choose_programs(skel, classic);
	*err = -tcpstate_bpf__load(skel);
	for (__u32 i = 0; !*err && i < (__u32)t->nr_rings; i++)
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.events), &i, &t->ring_fds[i], 0))
			*err = errno;
	if (*err) {
		tcpstate_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/*
 * Classic tracepoints (syscalls, and the fallback) are found through tracefs. Mount it where
 * the kernel expects it if nobody has, as bpftool and perf do.
 */
static int ensure_tracefs(void)
{
	if (!access("/sys/kernel/tracing/events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK))
		return 0;
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		log_err("tracefs is not mounted and mounting it failed: %s (mount it with "
			"'mount -t tracefs nodev /sys/kernel/tracing', or run as root)",
			strerror(errno));
		return -errno;
	}
	log_debug("mounted tracefs at /sys/kernel/tracing");
	return 0;
}

static int check_kernel(void)
{
	if (access(BTF_PATH, R_OK)) {
		log_err("kernel BTF not found at %s: tcpstate needs a kernel built with "
			"CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 5.8)",
			BTF_PATH);
		return -ENOENT;
	}
	return 0;
}

static int load_programs(struct tracer *t, const struct tracer_opts *o)
{
	int err = -create_rings(t, o);

	if (err)
		return -err;
	if (!o->force_tracepoint)
		t->skel = open_and_load(t, false, &err);
	/* Without privilege the fallback would fail the same way: say so once. */
	if (!t->skel && (privileged() || (err != EPERM && err != EACCES))) {
		if (!o->force_tracepoint)
			log_debug("tp_btf programs did not load (%s); using classic tracepoints",
				  strerror(err));
		t->classic = true;
		t->skel = open_and_load(t, true, &err);
	}
	if (!t->skel) {
		log_err("cannot load BPF programs: %s%s", strerror(err), privilege_hint(err));
		return -err;
	}
	return 0;
}

static int attach_programs(struct tracer *t)
{
	int err = tcpstate_bpf__attach(t->skel);

	if (err) {
		log_err("cannot attach BPF programs to the sock, tcp and syscalls tracepoints: "
			"%s%s (run with --verbose to see which)",
			strerror(-err), privilege_hint(-err));
		return err;
	}
	return 0;
}

/*
 * Run find_main_prog once so that set_state_nested can tell exactly when set_state_btf was
 * skipped. Not fatal: without it the busy mark covers most skipped runs (tcpstate.bpf.c).
 */
static void find_main_prog(struct tracer *t)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct bpf_link *link;
	char buf[64];
	int fd;

	if (t->classic || bpf_program__fd(t->skel->progs.find_main_prog) < 0)
		return;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(t->skel->progs.set_state_btf), &info, &len))
		return;
	t->skel->bss->main_prog_id = info.id;
	link = bpf_program__attach_iter(t->skel->progs.find_main_prog, NULL);
	if (!link)
		return;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	bpf_link__destroy(link);
	log_debug("nested state changes: %s", t->skel->bss->main_active_pcpu
						      ? "exact (bpf_prog->active)"
						      : "busy mark (set_state_btf's link not found)");
}

struct tracer *tracer__start(const struct tracer_opts *o)
{
	struct tracer *t = calloc(1, sizeof(*t));
	int err;

	if (!t)
		return NULL;
	libbpf_set_print(libbpf_print);
	err = check_kernel();
	if (!err)
		err = load_programs(t, o);
	if (!err)
		err = ensure_tracefs();
	if (!err)
		err = attach_programs(t);
	if (!err)
		find_main_prog(t);
	if (!err) {
		t->rb = rb_reader__new(t->ring_fds, t->nr_rings, o->on_event, o->prefetch,
				       o->ctx);
		if (!t->rb) {
			err = -errno;
			log_err("cannot set up the ring buffer reader: %s", strerror(errno));
		}
	}
	if (err) {
		tracer__destroy(t);
		errno = -err;
		return NULL;
	}
	return t;
}

void tracer__destroy(struct tracer *t)
{
	if (!t)
		return;
	rb_reader__free(t->rb);
	tcpstate_bpf__destroy(t->skel);
	for (int i = 0; i < t->nr_rings; i++)
		close(t->ring_fds[i]);
	free(t->ring_fds);
	free(t);
}

int tracer__fd(const struct tracer *t)
{
	return rb_reader__fd(t->rb);
}

int tracer__consume(struct tracer *t)
{
	return rb_reader__consume(t->rb);
}

double tracer__ring_peak_fill(const struct tracer *t)
{
	return t->rb ? rb_reader__peak_fill(t->rb) : 0;
}

static __u64 percpu_sum(const struct tracer *t, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 total = 0;

	if (ncpu <= 0)
		return 0;
	__u64 vals[ncpu];

	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.drops), &key, vals))
		return 0;
	for (int i = 0; i < ncpu; i++)
		total += vals[i];
	return total;
}

static __u64 prog_misses(struct bpf_program *prog)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_program__fd(prog);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.recursion_misses;
}

/*
 * Events lost to runs the kernel skipped because the program was already running on that CPU.
 * set_state_btf's skipped runs are covered by set_state_nested (see tcpstate.bpf.c), whose own
 * skipped runs are not losses.
 */
static __u64 recursion_misses(const struct tracer *t)
{
	struct bpf_program *prog;
	__u64 total = 0, main_misses = 0, covered;

	bpf_object__for_each_program(prog, t->skel->obj) {
		if (prog == t->skel->progs.set_state_nested)
			continue;
		if (prog == t->skel->progs.set_state_btf)
			main_misses = prog_misses(prog);
		else
			total += prog_misses(prog);
	}
	covered = percpu_sum(t, TS_NESTED_HANDLED);
	return total + (main_misses > covered ? main_misses - covered : 0);
}

__u64 tracer__lost_recursion(const struct tracer *t)
{
	return recursion_misses(t);
}

__u64 tracer__lost(const struct tracer *t)
{
	return tracer__lost_ringbuf(t) + recursion_misses(t);
}

__u64 tracer__lost_ringbuf(const struct tracer *t)
{
	return percpu_sum(t, TS_DROP_RINGBUF);
}

const char *tracer__mode(const struct tracer *t)
{
	return t->classic ? "tracepoint" : "tp_btf";
}
