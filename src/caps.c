// SPDX-License-Identifier: GPL-2.0-only
/* Dropping the capabilities serve no longer needs after start (see caps.h), with libcap. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>

#include <sys/capability.h>

#include "caps.h"
#include "log.h"
#include "proc_info.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

int caps__keep_set(int major, int minor, bool unpriv_bpf_disabled, int *keep)
{
	int n = 0;

	keep[n++] = CAP_DAC_READ_SEARCH;
	keep[n++] = CAP_SYS_PTRACE;
	keep[n++] = CAP_SYS_ADMIN;
	/* before 6.5 bpf() refused every command without CAP_BPF when unprivileged BPF is off */
	if (unpriv_bpf_disabled && (major < 6 || (major == 6 && minor < 5)) &&
	    (major > 5 || (major == 5 && minor >= 8)))
		keep[n++] = CAP_BPF;
	return n;
}

static bool kept_in(const int *keep, int n, int c)
{
	for (int i = 0; i < n; i++)
		if (keep[i] == c)
			return true;
	return false;
}

/* Remove from the bounding set what is not kept; -EPERM without CAP_SETPCAP. */
static int drop_bounding(const int *keep, int n)
{
	int last = (int)cap_max_bits() - 1, err = 0;

	for (int c = 0; c <= last; c++) {
		if (kept_in(keep, n, c) || cap_get_bound((cap_value_t)c) != 1)
			continue;
		if (cap_drop_bound((cap_value_t)c))
			err = -errno;
	}
	return err;
}

/* Set effective and permitted to keep[] (those we hold), inheritable and ambient to nothing. */
static int set_proc(const int *keep, int n, char *kept, size_t keptlen)
{
	cap_t cur = cap_get_proc(), next = cap_init();
	cap_flag_value_t have;
	size_t len = 0;
	int err = 0;

	kept[0] = '\0';
	if (!cur || !next) {
		err = -ENOMEM;
		goto out_free;
	}
	for (int i = 0; i < n; i++) {
		cap_value_t v = (cap_value_t)keep[i];
		char *name;

		if (cap_get_flag(cur, v, CAP_PERMITTED, &have) || have != CAP_SET)
			continue;
		cap_set_flag(next, CAP_PERMITTED, 1, &v, CAP_SET);
		cap_set_flag(next, CAP_EFFECTIVE, 1, &v, CAP_SET);
		name = cap_to_name(v);
		if (name)
			len += (size_t)snprintf(kept + len, len < keptlen ? keptlen - len : 0, "%s%s",
						len ? "," : "", name);
		cap_free(name);
	}
	if (cap_set_proc(next) || cap_reset_ambient())
		err = -errno;
out_free:
	cap_free(cur);
	cap_free(next);
	return err;
}

int caps__drop(const int *keep, int n, char *kept, size_t keptlen, char *err, size_t errlen)
{
	int e = drop_bounding(keep, n);

	if (e == -EPERM)
		log_debug("caps: no CAP_SETPCAP: the bounding set stays as given (systemd's "
			  "CapabilityBoundingSet= or the container's)");
	else if (e)
		log_debug("caps: cannot shrink the bounding set: %s", strerror(-e));
	e = set_proc(keep, n, kept, keptlen);
	if (!e && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		e = -errno;
	if (e)
		snprintf(err, errlen, "cannot drop capabilities: %s (run with --keep-caps to skip "
				      "this step)",
			 strerror(-e));
	return e;
}

int caps__drop_to_runtime(char *kept, size_t keptlen, char *err, size_t errlen)
{
	int keep[CAPS_KEEP_MAX], major = 0, minor = 0, n;
	struct utsname u;
	long unpriv = 0;

	if (!uname(&u))
		sscanf(u.release, "%d.%d", &major, &minor);
	proc__read_int("/proc/sys/kernel/unprivileged_bpf_disabled", &unpriv);
	n = caps__keep_set(major, minor, unpriv != 0, keep);
	return caps__drop(keep, n, kept, keptlen, err, errlen);
}
