/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loading and attaching the BPF programs, and reading their ring buffer. One visible
 * skeleton lifecycle: open, set rodata and map sizes, choose autoload (tp_btf, else classic
 * tracepoint), load, attach, consume, destroy.
 */
#ifndef TCPSTATE_TRACER_H
#define TCPSTATE_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "hooks.h"

/* Called for each ring buffer record, in order. */
typedef void (*tracer_event_fn)(void *ctx, void *data, size_t size);
/* Called for the records of a batch before they are processed (to prefetch); may be NULL. */
typedef void (*tracer_prefetch_fn)(void *ctx, const void *data, size_t size);

struct tracer_opts {
	__u32 ringbuf_bytes;	/* power of two, at least one page; split into a ring per CPU */
	bool force_tracepoint;	/* skip tp_btf and use the classic tracepoint (fallback testing) */
	tracer_event_fn on_event;
	tracer_prefetch_fn prefetch;
	void *ctx;
};

struct tracer;

/*
 * Load and attach everything. On failure prints one clear error line (what failed and what to
 * do), returns NULL and sets errno.
 */
struct tracer *tracer__start(const struct tracer_opts *opts);
/* Detach and free everything. Accepts NULL. */
void tracer__destroy(struct tracer *t);
/* An fd that becomes readable when the kernel wakes us (for the caller's epoll set). */
int tracer__fd(const struct tracer *t);
/* Consume every queued record without waiting. Returns the number of records consumed. */
int tracer__consume(struct tracer *t);
/* Events lost in the kernel, all causes: tracer__lost_ringbuf() + tracer__lost_recursion(). */
__u64 tracer__lost(const struct tracer *t);
/* Records the kernel side could not queue (ring buffer full), summed over CPUs. */
__u64 tracer__lost_ringbuf(const struct tracer *t);
/*
 * Program runs the kernel skipped because the same program was already running on that CPU
 * (a softirq interrupting it fired the tracepoint again): bpf_prog_info.recursion_misses.
 */
__u64 tracer__lost_recursion(const struct tracer *t);
/* The fullest a ring buffer was found when the reader came to it, 0 to 1: see rb_reader. */
double tracer__ring_peak_fill(const struct tracer *t);
/* "tp_btf" or "tracepoint": how inet_sock_set_state is attached. */
const char *tracer__mode(const struct tracer *t);
/* How every hook is attached (HOOK_COUNT entries), valid while t is. */
const struct hook_status *tracer__hooks(const struct tracer *t);
/* Check a --ringbuf-kb value: returns 0 or -EINVAL with a reason in err. */
int tracer__check_ringbuf_kb(long kb, char *err, size_t errlen);

#endif
