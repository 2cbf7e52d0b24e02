// SPDX-License-Identifier: GPL-2.0-only
/* Kernel enum names from BTF (see include/kernel_enums.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

#include "kernel_enums.h"

#define MAX_REASONS 256

static char *reason_names[MAX_REASONS];

int kernel_enums__load(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t;
	const struct btf_enum *e;
	int id;

	if (!btf)
		return -errno;
	id = btf__find_by_name_kind(btf, "sk_rst_reason", BTF_KIND_ENUM);
	if (id < 0) {
		btf__free(btf);
		return -ENOENT;
	}
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++) {
		const char *name = btf__name_by_offset(btf, e->name_off);
		char *lower;

		if (e->val < 0 || e->val >= MAX_REASONS || !name)
			continue;
		if (!strncmp(name, "SK_RST_REASON_", 14))
			name += 14;
		lower = strdup(name);
		if (!lower)
			break;
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		free(reason_names[e->val]);
		reason_names[e->val] = lower;
	}
	btf__free(btf);
	return 0;
}

const char *kernel_enums__reset_reason(__u32 value)
{
	return value < MAX_REASONS ? reason_names[value] : NULL;
}
