// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for cgroup path -> systemd unit, container id, runtime and pod uid. */
#include "cgroup_names.h"
#include "testlib.h"

#define ID1 "4b5c9ff0ba8a06e0a4a2f1b1e5f32e0d43fcae1c1e3c4b36fb5d4bdd5e2d7a91"
#define ID2 "e3a1f0c2b7d94e5a8c6b0f1d2e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c"
#define POD_U "7f2a8c3e_1b4d_4e6f_9a0b_2c3d4e5f6a7b"
#define POD "7f2a8c3e-1b4d-4e6f-9a0b-2c3d4e5f6a7b"

/* Paths as /proc/PID/cgroup showed them ("0::" stripped) on the layouts tcpstate supports. */
static const struct {
	const char *path, *unit, *container, *runtime, *pod;
} cases[] = {
	/* systemd: services, sessions, the user manager's own units */
	{ "/system.slice/nginx.service", "nginx.service", "", "", "" },
	{ "/system.slice/system-getty.slice/getty@tty1.service", "getty@tty1.service", "", "", "" },
	{ "/user.slice/user-1000.slice/session-4.scope", "session-4.scope", "", "", "" },
	{ "/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/"
	  "vte-spawn-0d5c2b3e-4f1a-4b7c-9e2d-8a6f3c1b0e9d.scope",
	  "vte-spawn-0d5c2b3e-4f1a-4b7c-9e2d-8a6f3c1b0e9d.scope", "", "", "" },
	{ "/user.slice/user-1000.slice/user@1000.service/init.scope", "init.scope", "", "", "" },
	{ "/init.scope", "init.scope", "", "", "" },
	{ "/", "", "", "", "" },
	{ "", "", "", "", "" },
	/* docker, systemd and cgroupfs drivers */
	{ "/system.slice/docker-" ID1 ".scope", "", ID1, "docker", "" },
	{ "/docker/" ID1, "", ID1, "docker", "" },
	{ "/docker/" ID1 "/nested", "", ID1, "docker", "" },
	{ "/system.slice/docker.service", "docker.service", "", "", "" },
	/* Kubernetes with containerd (systemd driver: burstable, besteffort, guaranteed) */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_U
	  ".slice/cri-containerd-" ID2 ".scope",
	  "", ID2, "containerd", POD },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_U
	  ".slice/cri-containerd-" ID1 ".scope",
	  "", ID1, "containerd", POD },
	{ "/kubepods.slice/kubepods-pod" POD_U ".slice/cri-containerd-" ID2 ".scope", "", ID2,
	  "containerd", POD },
	/* the pod's own slice (the pause container's parent), without a container */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_U ".slice", "", "",
	  "", POD },
	{ "/kubepods.slice/kubepods-burstable.slice", "", "", "", "" },
	/* Kubernetes, cgroupfs driver: the path does not name the runtime */
	{ "/kubepods/burstable/pod" POD "/" ID2, "", ID2, "", POD },
	{ "/kubepods/pod" POD "/" ID1, "", ID1, "", POD },
	/* cri-o, and its conmon monitor */
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_U
	  ".slice/crio-" ID1 ".scope",
	  "", ID1, "cri-o", POD },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_U
	  ".slice/crio-conmon-" ID1 ".scope",
	  "", ID1, "cri-o", POD },
	/* podman, rootful and rootless */
	{ "/machine.slice/libpod-" ID2 ".scope/container", "", ID2, "podman", "" },
	{ "/machine.slice/libpod-conmon-" ID2 ".scope", "", ID2, "podman", "" },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID1
	  ".scope/container",
	  "user@1000.service", ID1, "podman", "" },
	/* look-alikes that are not containers or pods */
	{ "/system.slice/docker-notanid.scope", "docker-notanid.scope", "", "", "" },
	{ "/some/" ID1, "", "", "", "" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podnot_a_uid.slice", "", "",
	  "", "" },
	{ "/kubepods/burstable/pod" POD "x", "", "", "", "" },
	{ "/system.slice/docker-" ID1 "0.scope", "docker-" ID1 "0.scope", "", "", "" },
};

static void test_captured_paths(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cgroup_names n;
		int found = cgroup_names__parse(cases[i].path, &n);
		int want = cases[i].unit[0] || cases[i].container[0] || cases[i].pod[0];

		CHECK(!strcmp(n.unit, cases[i].unit), "%s: unit: expected \"%s\", got \"%s\"",
		      cases[i].path, cases[i].unit, n.unit);
		CHECK(!strcmp(n.container, cases[i].container),
		      "%s: container: expected \"%s\", got \"%s\"", cases[i].path,
		      cases[i].container, n.container);
		CHECK(!strcmp(n.runtime, cases[i].runtime),
		      "%s: runtime: expected \"%s\", got \"%s\"", cases[i].path, cases[i].runtime,
		      n.runtime);
		CHECK(!strcmp(n.pod, cases[i].pod), "%s: pod: expected \"%s\", got \"%s\"",
		      cases[i].path, cases[i].pod, n.pod);
		CHECK(found == want, "%s: expected return %d, got %d", cases[i].path, want, found);
	}
}

static void test_null_and_long(void)
{
	struct cgroup_names n;
	char path[600] = "/system.slice/";

	CHECK_EQ_INT(cgroup_names__parse(NULL, &n), 0, "NULL path");
	CHECK_EQ_STR(n.unit, "", "NULL path unit");
	CHECK_EQ_STR(n.runtime, "", "NULL path runtime");
	/* a unit name too long for the field is left out, never truncated */
	memset(path + strlen(path), 'a', 300);
	strcpy(path + strlen(path), ".service");
	cgroup_names__parse(path, &n);
	CHECK_EQ_STR(n.unit, "", "over-long unit");
	/* the innermost unit wins */
	cgroup_names__parse("/system.slice/a.service/b.scope", &n);
	CHECK_EQ_STR(n.unit, "b.scope", "innermost unit");
}

static void test_short_names(void)
{
	static const struct {
		const char *path, *want;
	} rows[] = {
		{ "/system.slice/nginx.service", "nginx.service" },
		{ "/system.slice/docker-" ID1 ".scope", "docker:4b5c9ff0ba8a" },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_U
		  ".slice/cri-containerd-" ID2 ".scope",
		  "containerd:e3a1f0c2b7d9 pod:7f2a8c3e" },
		{ "/kubepods/burstable/pod" POD "/" ID2, "container:e3a1f0c2b7d9 pod:7f2a8c3e" },
		{ "/kubepods.slice/kubepods-pod" POD_U ".slice", "pod:7f2a8c3e" },
		{ "/", "" },
	};
	struct cgroup_names n;
	char buf[64];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cgroup_names__parse(rows[i].path, &n);
		CHECK_EQ_STR(cgroup_names__short(&n, buf, sizeof(buf)), rows[i].want, rows[i].path);
	}
}

TEST_MAIN("cgroup_names", TL_CASE(test_captured_paths), TL_CASE(test_null_and_long),
	  TL_CASE(test_short_names))
