/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ring buffer's records (struct ts_record, variable length) and the fixed-size
 * struct ts_event user space works with.
 */
#ifndef TCPSTATE_RECORD_H
#define TCPSTATE_RECORD_H

#include <stddef.h>

#include "tcpstate_event.h"

/*
 * Decode the size-byte record at data into *e. 0, or -EINVAL if the record is not one the BPF
 * programs write (shorter than its head, family and TS_F_OWNER_CTX need, or of an unknown
 * family). Longer records are fine: rare events reserve room for IPv6 addresses whatever their
 * family. Nothing is checked about kind, states or flags beyond that.
 */
int ts_record__decode(const void *data, size_t size, struct ts_event *e);

/*
 * Encode *e as the BPF programs would into buf (len bytes), for tests and the replay benchmark.
 * Returns the record's size, or 0 if it does not fit or e->family is not 0/AF_INET/AF_INET6.
 */
size_t ts_record__encode(const struct ts_event *e, void *buf, size_t len);

#endif
