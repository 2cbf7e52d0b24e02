// SPDX-License-Identifier: GPL-2.0-only
/*
 * `tcpstate check`: what the running kernel offers of every hook, how tcpstate attaches each one
 * and what is lost where it cannot; exits non-zero when tcpstate cannot be exact here.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

#include "cli.h"
#include "hooks.h"
#include "log.h"
#include "tracer.h"

static const char usage[] =
	"Usage: tcpstate check [--verbose]\n"
	"\n"
	"Loads and attaches every BPF program the way `serve` would, then detaches, and prints\n"
	"for each kernel hook how it is attached (tp_btf, tracepoint, iter, mark, off) and what\n"
	"is lost where it is not complete. Exits 0 when tcpstate can be exact on this kernel\n"
	"(right socket, owner and tuple for every socket), 1 when it cannot or cannot load.\n"
	"\n"
	"  -v, --verbose   show libbpf's messages and each fallback as it happens\n";

static void on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
}

static void print_hooks(const struct hook_status *st, const char *source)
{
	printf("%-22s %-11s %-9s %s\n", "HOOK", "ATTACH", "STATUS", "WHAT IS LOST / WHY");
	for (int h = 0; h < HOOK_COUNT; h++) {
		const char *status = hooks__status_name(&st[h]);

		printf("%-22s %-11s %-9s %s\n", hooks__name(h), hooks__attach_name(st[h].attach),
		       status, st[h].note);
	}
	printf("(%s)\n", source);
}

/* Without privilege: what the kernel's BTF promises, not verified by a load. */
static int check_unprivileged(void)
{
	struct kernel_features kf;
	struct hook_status st[HOOK_COUNT];

	hooks__probe(&kf, NULL, NULL);
	if (!kf.btf) {
		printf("verdict: cannot run: no kernel BTF at /sys/kernel/btf/vmlinux\n");
		return EXIT_RUNTIME;
	}
	kf.cookie_helper = true; /* unknown without loading a program */
	hooks__plan(&kf, false, st);
	print_hooks(st, "planned from the kernel's BTF only: run as root to load and verify");
	printf("verdict: not verified (run 'tcpstate check' as root)\n");
	return EXIT_RUNTIME;
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct tracer_opts to = { .ringbuf_bytes = 1u << 20, .on_event = on_event };
	struct tracer *t;
	struct utsname u;
	const char *why;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		if (c == 'v') {
			log_verbose = true;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return 0;
		} else {
			return cli_usage_error("check", cli_bad_option(argc, argv));
		}
	}
	if (optind < argc)
		return cli_usage_error("check", argv[optind]);
	uname(&u);
	printf("kernel: Linux %s %s\n", u.release, u.machine);
	if (geteuid() != 0)
		return check_unprivileged();
	t = tracer__start(&to);
	if (!t) {
		printf("verdict: cannot run: the BPF programs do not load (see the error above)\n");
		return EXIT_RUNTIME;
	}
	print_hooks(tracer__hooks(t), "loaded and attached, then detached");
	if (hooks__exact(tracer__hooks(t), &why)) {
		printf("verdict: exact: sockets, owners, tuples and ages can match ss here\n");
		tracer__destroy(t);
		return 0;
	}
	printf("verdict: not exact: %s\n", why);
	tracer__destroy(t);
	return EXIT_RUNTIME;
}
