// SPDX-License-Identifier: GPL-2.0-only
/* The capabilities serve keeps after start, by kernel version and unprivileged BPF setting. */
#include <stdbool.h>

#include "caps.h"
#include "testlib.h"

#define C_DAC_READ_SEARCH 2
#define C_SYS_PTRACE 19
#define C_SYS_ADMIN 21
#define C_BPF 39

static void test_keep_set(void)
{
	static const struct {
		int major, minor;
		bool unpriv_off;
		bool bpf; /* CAP_BPF kept */
	} cases[] = {
	    {6, 18, true, false}, {6, 5, true, false},	{6, 4, true, true},  {6, 1, false, false},
	    {5, 10, true, true},  {5, 8, true, true},	{5, 7, true, false}, {7, 0, true, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int keep[CAPS_KEEP_MAX], n = caps__keep_set(cases[i].major, cases[i].minor,
							     cases[i].unpriv_off, keep);
		bool admin = false, ptrace = false, dac = false, bpf = false;

		for (int k = 0; k < n; k++) {
			admin |= keep[k] == C_SYS_ADMIN;
			ptrace |= keep[k] == C_SYS_PTRACE;
			dac |= keep[k] == C_DAC_READ_SEARCH;
			bpf |= keep[k] == C_BPF;
		}
		CHECK(admin && ptrace && dac && n == 3 + cases[i].bpf && bpf == cases[i].bpf,
		      "%d.%d unprivileged BPF %s: expected SYS_ADMIN, SYS_PTRACE, DAC_READ_SEARCH%s, "
		      "got %d capabilities (bpf %d)",
		      cases[i].major, cases[i].minor, cases[i].unpriv_off ? "off" : "on",
		      cases[i].bpf ? " and BPF" : "", n, bpf);
	}
}

TEST_MAIN("caps", TL_CASE(test_keep_set))
