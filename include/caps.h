/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Least privilege for `serve`: once the BPF programs are loaded and attached, the ring buffers
 * mapped and the listener bound, only what the running exporter still uses is kept:
 *
 *   CAP_SYS_ADMIN        setns() into other network namespaces for the sock_diag audits and
 *                        listener samples (the kernel asks for it over the target namespace)
 *   CAP_SYS_PTRACE       open /proc/PID/ns/net and readlink /proc/PID/fd/N of other users'
 *                        processes (ptrace read checks)
 *   CAP_DAC_READ_SEARCH  list /proc/PID/fd of other users' processes (mode 0500)
 *   CAP_BPF              only on kernels before 6.5 with kernel.unprivileged_bpf_disabled set,
 *                        where every bpf() call (the loss counters' map lookups, program info)
 *                        needs it; from 6.5 calls on descriptors already held need nothing
 *
 * Everything else (CAP_PERFMON, CAP_SYS_NICE, CAP_SYS_RESOURCE, CAP_NET_ADMIN, ...) leaves the
 * effective, permitted, inheritable and ambient sets, and the bounding set where CAP_SETPCAP
 * allows it; no_new_privs is set so nothing can be regained through execve().
 */
#ifndef TCPSTATE_CAPS_H
#define TCPSTATE_CAPS_H

#include <stdbool.h>
#include <stddef.h>

#define CAPS_KEEP_MAX 8

/*
 * The capabilities to keep on a kernel of version major.minor, given whether
 * kernel.unprivileged_bpf_disabled is set: their numbers go to keep[], their count is
 * returned (at most CAPS_KEEP_MAX).
 */
int caps__keep_set(int major, int minor, bool unpriv_bpf_disabled, int *keep);

/*
 * Drop every capability but keep[0..n-1] from this process (one thread) as described above.
 * Returns 0, or -errno with a one-line message in err. The kept set that took effect, as names
 * ("cap_sys_admin,cap_sys_ptrace"), goes to kept (empty if none).
 */
int caps__drop(const int *keep, int n, char *kept, size_t keptlen, char *err, size_t errlen);

/* Keep the set caps__keep_set() gives for the running kernel; as caps__drop(). */
int caps__drop_to_runtime(char *kept, size_t keptlen, char *err, size_t errlen);

#endif
