// SPDX-License-Identifier: GPL-2.0-only
/* Systemd unit, container id, runtime and pod uid from a cgroup path (see include/cgroup_names.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cgroup_names.h"

/* A path component: not NUL-terminated. */
struct comp {
	const char *s;
	size_t len;
};

/* Container scopes of the systemd cgroup drivers: "<prefix><64 hex>.scope". */
static const struct {
	const char *prefix;
	const char *runtime;
} scope_prefixes[] = {
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "containerd-", "containerd" },
	{ "crio-conmon-", "cri-o" },
	{ "crio-", "cri-o" },
	{ "libpod-conmon-", "podman" },
	{ "libpod-", "podman" },
};

static bool is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return len > 0;
}

static bool ends_with(struct comp c, const char *suffix)
{
	size_t n = strlen(suffix);

	return c.len >= n && !memcmp(c.s + c.len - n, suffix, n);
}

static bool starts_with(struct comp c, const char *prefix)
{
	size_t n = strlen(prefix);

	return c.len >= n && !memcmp(c.s, prefix, n);
}

static void copy_id(char *dst, const char *s)
{
	memcpy(dst, s, CGROUP_ID_LEN - 1);
	dst[CGROUP_ID_LEN - 1] = '\0';
}

/* A pod uid as the kubelet writes it: 36 characters, '-' (cgroupfs) or '_' (systemd) at 8, 13,
 * 18 and 23, hex elsewhere. Copied with dashes. */
static bool parse_pod_uid(const char *s, size_t len, char *out)
{
	if (len != CGROUP_POD_LEN - 1)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool sep = i == 8 || i == 13 || i == 18 || i == 23;

		if (sep ? (s[i] != '-' && s[i] != '_') : !is_hex(s + i, 1))
			return false;
		out[i] = sep ? '-' : s[i];
	}
	out[len] = '\0';
	return true;
}

/* "docker-<id>.scope" and the like: fills container and runtime. */
static bool container_scope(struct comp c, struct cgroup_names *out)
{
	if (!ends_with(c, ".scope"))
		return false;
	for (size_t i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
		size_t n = strlen(scope_prefixes[i].prefix);

		if (!starts_with(c, scope_prefixes[i].prefix) ||
		    c.len != n + CGROUP_ID_LEN - 1 + strlen(".scope") ||
		    !is_hex(c.s + n, CGROUP_ID_LEN - 1))
			continue;
		copy_id(out->container, c.s + n);
		out->runtime = scope_prefixes[i].runtime;
		return true;
	}
	return false;
}

/* "kubepods-burstable-pod<uid>.slice" (systemd driver) or "pod<uid>" (cgroupfs driver). */
static bool pod_component(struct comp c, struct cgroup_names *out)
{
	const char *p;

	if (ends_with(c, ".slice")) {
		if (!starts_with(c, "kubepods-"))
			return false;
		c.len -= strlen(".slice");
		for (p = c.s + c.len; p > c.s && p[-1] != '-'; p--)
			;
		if (c.s + c.len - p < 3 || memcmp(p, "pod", 3))
			return false;
		return parse_pod_uid(p + 3, (size_t)(c.s + c.len - p - 3), out->pod);
	}
	return starts_with(c, "pod") && parse_pod_uid(c.s + 3, c.len - 3, out->pod);
}

static void set_unit(struct comp c, struct cgroup_names *out)
{
	if (c.len >= CGROUP_UNIT_LEN)
		return;
	memcpy(out->unit, c.s, c.len);
	out->unit[c.len] = '\0';
}

/* One component, knowing the one before it (cgroupfs layouts name the runtime by parent). */
static void parse_comp(struct comp c, struct comp parent, bool in_kubepods,
		       struct cgroup_names *out)
{
	if (container_scope(c, out) || pod_component(c, out))
		return;
	if (ends_with(c, ".service") || ends_with(c, ".scope")) {
		set_unit(c, out);
		return;
	}
	if (c.len == CGROUP_ID_LEN - 1 && is_hex(c.s, c.len) && !out->container[0]) {
		/* cgroupfs driver: /docker/<id>, /kubepods/<qos>/pod<uid>/<id>, /libpod_parent/... */
		copy_id(out->container, c.s);
		if (parent.len == 6 && !memcmp(parent.s, "docker", 6))
			out->runtime = "docker";
		else if (starts_with(parent, "libpod"))
			out->runtime = "podman";
		else if (!in_kubepods)
			out->container[0] = '\0'; /* 64 hex digits alone do not make a container */
	}
}

int cgroup_names__parse(const char *path, struct cgroup_names *out)
{
	struct comp parent = { "", 0 }, c;
	bool in_kubepods = false;
	const char *p = path;

	memset(out, 0, sizeof(*out));
	out->runtime = "";
	while (p && *p) {
		while (*p == '/')
			p++;
		c.s = p;
		while (*p && *p != '/')
			p++;
		c.len = (size_t)(p - c.s);
		if (!c.len)
			break;
		if (starts_with(c, "kubepods"))
			in_kubepods = true;
		parse_comp(c, parent, in_kubepods, out);
		parent = c;
	}
	return out->unit[0] || out->container[0] || out->pod[0];
}

char *cgroup_names__short(const struct cgroup_names *n, char *buf, size_t len)
{
	if (n->container[0])
		snprintf(buf, len, "%s:%.12s%s%.8s", n->runtime[0] ? n->runtime : "container",
			 n->container, n->pod[0] ? " pod:" : "", n->pod);
	else if (n->pod[0])
		snprintf(buf, len, "pod:%.8s", n->pod);
	else
		snprintf(buf, len, "%s", n->unit);
	return buf;
}
