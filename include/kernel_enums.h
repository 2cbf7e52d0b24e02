/* SPDX-License-Identifier: GPL-2.0-only */
/* Names of kernel enum values read from the running kernel's BTF (reset reasons). */
#ifndef TCPSTATE_KERNEL_ENUMS_H
#define TCPSTATE_KERNEL_ENUMS_H

#include <linux/types.h>

/* Read enum sk_rst_reason from /sys/kernel/btf/vmlinux. 0, or -errno if absent (older kernels). */
int kernel_enums__load(void);
/* "not_specified", "tcp_invalid_ack_sequence", ...; NULL if unknown or not loaded. */
const char *kernel_enums__reset_reason(__u32 value);

#endif
