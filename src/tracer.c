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

#include "hooks.h"
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
	struct kernel_features kf;
	struct hook_status hooks[HOOK_COUNT];
};

/*
 * The program libbpf last warned about ("libbpf: prog '%s': ..."), which is the one that failed when a
 * load fails: libbpf stops at the first program the kernel refuses. Set from libbpf_print.
 */
static char failed_prog[64];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	const char *msg = strncmp(fmt, "libbpf: ", 8) ? fmt : fmt + 8; /* libbpf's own prefix */

	if (level == LIBBPF_WARN && !strncmp(msg, "prog '%s': ", 11)) {
		va_list aq;

		va_copy(aq, ap);
		snprintf(failed_prog, sizeof(failed_prog), "%s", va_arg(aq, const char *));
		va_end(aq);
	}
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

/* Load exactly the programs the plan wants; none is attached automatically (attach_programs). */
static void choose_programs(struct tracer *t, struct tcpstate_bpf *skel)
{
	size_t n;
	const struct hook_program *p = hooks__programs(&n);

	for (size_t i = 0; i < n; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(skel->obj, p[i].name);

		if (prog)
			bpf_program__set_autoload(prog, hooks__wants(t->hooks, &p[i]));
	}
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

static struct tcpstate_bpf *open_and_load(struct tracer *t, int *err)
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
	skel->rodata->cookie_helper = t->kf.cookie_helper;
	bpf_map__set_max_entries(skel->maps.events, (__u32)t->nr_rings);
	bpf_map__set_inner_map_fd(skel->maps.events, t->ring_fds[0]); /* the template */
	choose_programs(t, skel);
	failed_prog[0] = 0;
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

/*
 * Attach every loaded program but the iterator, in the skeleton's order (the order programs on
 * one tracepoint run in), each link kept where the skeleton destroys it. On failure names the
 * program in failed_prog and returns -errno.
 */
static int attach_programs(struct tracer *t)
{
	struct bpf_object_skeleton *s = t->skel->skeleton;

	for (int i = 0; i < s->prog_cnt; i++) {
		struct bpf_program *prog = *s->progs[i].prog;

		if (!bpf_program__autoload(prog) ||
		    bpf_program__expected_attach_type(prog) == BPF_TRACE_ITER)
			continue;
		*s->progs[i].link = bpf_program__attach(prog);
		if (!*s->progs[i].link) {
			snprintf(failed_prog, sizeof(failed_prog), "%s", bpf_program__name(prog));
			return -errno;
		}
	}
	return 0;
}

/* A load or attach failure that no fallback can help with: say so and give up. */
static int give_up(int err, const char *what)
{
	log_err("cannot %s BPF programs: %s%s", what, strerror(err), privilege_hint(err));
	return -err;
}

/*
 * Load and attach the plan's programs. When the kernel refuses one, that program's hook moves to
 * its next best attachment (hooks__fall_back) and everything is loaded again: a hook the kernel
 * rejects costs only that hook.
 */
static int load_programs(struct tracer *t)
{
	for (int tries = 0; tries <= HOOK_COUNT * 2; tries++) {
		const char *what = "load";
		enum ts_hook h;
		int err;

		t->skel = open_and_load(t, &err);
		if (t->skel) {
			what = "attach";
			err = -attach_programs(t);
			if (!err)
				return 0;
			tcpstate_bpf__destroy(t->skel);
			t->skel = NULL;
		}
		h = failed_prog[0] ? hooks__of_program(failed_prog) : HOOK_COUNT;
		if (h == HOOK_COUNT || ((err == EPERM || err == EACCES) && !privileged()))
			return give_up(err, what);
		if (!hooks__fall_back(&t->kf, t->hooks, h, err)) {
			log_err("cannot trace %s: %s%s", hooks__name(h), t->hooks[h].note,
				privilege_hint(err));
			return -err;
		}
		log_debug("hook %s: %s (%s)", hooks__name(h), t->hooks[h].note, failed_prog);
	}
	return give_up(ELOOP, "load");
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

	if (t->hooks[HOOK_NESTED].attach != HOOK_ITER)
		return;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(t->skel->progs.set_state_btf), &info, &len))
		goto out_fall_back;
	t->skel->bss->main_prog_id = info.id;
	link = bpf_program__attach_iter(t->skel->progs.find_main_prog, NULL);
	if (!link)
		goto out_fall_back;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	bpf_link__destroy(link);
	if (t->skel->bss->main_active_pcpu)
		return;
	errno = ENOENT; /* set_state_btf's link was not found */
out_fall_back:
	hooks__fall_back(&t->kf, t->hooks, HOOK_NESTED, errno);
}

/* What this kernel offers, and the plan: the best attachment of every hook. */
static void plan_hooks(struct tracer *t, const struct tracer_opts *o)
{
	hooks__probe(&t->kf, NULL, NULL);
	/* forced: no program creates cookies, so that every key is made the same way */
	t->kf.cookie_helper = !o->force_tracepoint && hooks__probe_cookie_helper();
	hooks__plan(&t->kf, o->force_tracepoint, t->hooks);
}

/* One summary line; with --verbose one line per hook. */
static void report_hooks(const struct tracer *t)
{
	char line[512];

	for (int h = 0; h < HOOK_COUNT; h++)
		log_debug("hook %-22s %-10s %s", hooks__name(h),
			  hooks__attach_name(t->hooks[h].attach), t->hooks[h].note);
	hooks__summary(t->hooks, line, sizeof(line));
	log_info("%s", line);
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
		err = ensure_tracefs();
	if (!err)
		err = create_rings(t, o);
	if (!err) {
		plan_hooks(t, o);
		err = load_programs(t);
	}
	if (!err) {
		find_main_prog(t);
		report_hooks(t);
	}
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
	return hooks__attach_name(t->hooks[HOOK_SET_STATE].attach);
}

const struct hook_status *tracer__hooks(const struct tracer *t)
{
	return t->hooks;
}
