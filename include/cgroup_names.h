/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The names people use for a process's place in the system, derived from its cgroup v2 path:
 * the systemd unit ("nginx.service"), and for containers the container id, the runtime that
 * made it and the Kubernetes pod uid. Pure string work (no I/O), for the layouts of systemd
 * slices, docker (cgroupfs and systemd drivers), containerd/cri-containerd, cri-o and podman.
 * Every name is a function of the path, so labels made of them add no series beyond the
 * path's own.
 */
#ifndef TCPSTATE_CGROUP_NAMES_H
#define TCPSTATE_CGROUP_NAMES_H

#include <stddef.h>

#define CGROUP_UNIT_LEN 128
#define CGROUP_ID_LEN 65	/* 64 hex digits and the NUL */
#define CGROUP_POD_LEN 37	/* a UUID (8-4-4-4-12) and the NUL */

struct cgroup_names {
	char unit[CGROUP_UNIT_LEN];	/* innermost systemd service or scope that is not a
					 * container's own scope; "" if none */
	char container[CGROUP_ID_LEN];	/* container id (64 hex digits); "" if not a container */
	const char *runtime;		/* "docker", "containerd", "cri-o", "podman", or "" (a
					 * container whose runtime the path does not tell, or none) */
	char pod[CGROUP_POD_LEN];	/* Kubernetes pod uid with dashes; "" if not in a pod */
};

/*
 * Parse a cgroup v2 path (as in /proc/PID/cgroup after "0::", e.g.
 * "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/
 * cri-containerd-<id>.scope") into *out. NULL or unrecognised paths give empty names.
 * Returns 1 if any name was found, else 0.
 */
int cgroup_names__parse(const char *path, struct cgroup_names *out);

/*
 * A short display name into buf: "docker:4b5c9ff0ba8a" (runtime, or "container", and the
 * first 12 digits of the id), with " pod:7f2a8c3e" (the uid's first group) for pods, else the
 * unit, else "". Returns buf.
 */
char *cgroup_names__short(const struct cgroup_names *n, char *buf, size_t len);

#endif
