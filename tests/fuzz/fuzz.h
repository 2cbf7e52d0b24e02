/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c). Each harness defines
 * LLVMFuzzerTestOneInput(); built with -fsanitize=fuzzer it is a fuzzer (make fuzz), linked with
 * replay.c it replays tests/fuzz/corpus/<target>/ as a unit test (make unit).
 * A harness calls FUZZ_ASSERT() on what the code under test promises; a broken promise aborts,
 * which both the fuzzer and the replay report as a crash.
 */
#ifndef TCPSTATE_FUZZ_H
#define TCPSTATE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef FUZZ_LIBFUZZER
/*
 * make fuzz runs the fuzzers with stderr closed (-close_fd_mask), or the code's own log lines
 * (a bad option value each time) would fill gigabytes: the message goes where the sanitizers
 * and libFuzzer report.
 */
#include <sanitizer/common_interface_defs.h>
#define fuzz_report(msg) __sanitizer_report_error_summary(msg)
#else
#define fuzz_report(msg) fprintf(stderr, "%s\n", msg)
#endif

#define FUZZ_ASSERT(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			char fuzz_msg_[512];                                                       \
			int fuzz_n_ = snprintf(fuzz_msg_, sizeof(fuzz_msg_),                       \
					       "%s:%d: broken promise: %s: ", __FILE__, __LINE__,  \
					       #cond);                                             \
			if (fuzz_n_ > 0 && (size_t)fuzz_n_ < sizeof(fuzz_msg_))                    \
				snprintf(fuzz_msg_ + fuzz_n_, sizeof(fuzz_msg_) - (size_t)fuzz_n_, \
					 __VA_ARGS__);                                             \
			fuzz_report(fuzz_msg_);                                                    \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A NUL-terminated heap copy of size bytes (an embedded NUL ends the string); abort on ENOMEM. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An exact-size heap copy, so that AddressSanitizer sees any read past its end. */
static inline void *fuzz_memdup(const uint8_t *data, size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	return p;
}

#endif
