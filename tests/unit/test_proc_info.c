// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc readers against a fake proc tree (tests/fixtures/proc: pid dirs with fd symlinks,
 * comm and cgroup files; net/netstat recorded in the capture namespace of
 * tests/fixtures/sock_diag/capture.py) and a generated tree of 100k socket links.
 */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc_info.h"
#include "testlib.h"

#define PROC FIXTURES "/proc"

static void test_owner_map_fixture(void)
{
	static const struct {
		const char *what;
		__u32 inode;
		int pid;
	} rows[] = {
	    {"socket held by pid 100 only", 5001, 100},
	    {"socket shared by pids 50, 100, 200: the lowest", 5555, 50},
	    {"socket of pid 200", 6001, 200},
	    {"largest 32-bit inode", 4294967295u, 200},
	    {"socket of pid 400 (no comm, no cgroup)", 8001, 400},
	    {"socket under a non-numeric dir (1abc)", 7777, 0},
	    {"pipe:[777] is not a socket", 777, 0},
	    {"socket:[12 (no bracket) / socket:[12]x (junk)", 12, 0},
	    {"inode 0", 0, 0},
	    {"unknown inode", 123456, 0},
	};
	struct inode_owner_map *m = inode_owner_map__build(PROC);

	CHECK(m != NULL, "expected a map, got NULL");
	if (!m)
		return;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got = inode_owner_map__lookup(m, rows[i].inode);

		CHECK(got == rows[i].pid, "%s: expected pid %d for inode %u, got %d", rows[i].what,
		      rows[i].pid, rows[i].inode, got);
	}
	/* 5001 5555 6001 4294967295 8001; socket:[4294967296] and socket:[0] are ignored. */
	CHECK_EQ_INT(inode_owner_map__size(m), 5, "distinct socket inodes in the fixture tree");
	inode_owner_map__free(m);
}

static void test_owner_map_missing_root(void)
{
	struct inode_owner_map *m = inode_owner_map__build(FIXTURES "/no-such-proc");

	CHECK(m != NULL, "expected an empty map for a missing root, got NULL");
	CHECK_EQ_INT(inode_owner_map__size(m), 0, "entries for a missing root");
	CHECK_EQ_INT(inode_owner_map__lookup(m, 5001), 0, "lookup in an empty map");
	inode_owner_map__free(m);
	inode_owner_map__free(NULL);
	CHECK_EQ_INT(inode_owner_map__lookup(NULL, 5001), 0, "lookup in a NULL map");
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * 100,000 socket inodes over 20 processes (pid 1000 + inode % 20); every 7th inode is also held
 * by pid 999, which must win. Checks every lookup and that the build stays well under a second
 * per 100k links (a quadratic map would take minutes).
 */
static void test_owner_map_100k(void)
{
	enum { NSOCK = 100000, NPROC = 20 };
	char root[] = "/tmp/tcpstate-proc-XXXXXX", path[256], target[32];
	struct inode_owner_map *m;
	int bad = 0, made = 1;
	double t0, dt;

	if (!mkdtemp(root)) {
		CHECK(0, "mkdtemp failed: %s", strerror(errno));
		return;
	}
	for (int p = 999; p < 1000 + NPROC && made; p++) {
		snprintf(path, sizeof(path), "%s/%d", root, p);
		made = !mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/%d/fd", root, p);
		made = made && !mkdir(path, 0755);
	}
	for (__u32 ino = 1; ino <= NSOCK && made; ino++) {
		snprintf(target, sizeof(target), "socket:[%u]", ino);
		snprintf(path, sizeof(path), "%s/%u/fd/%u", root, 1000 + ino % NPROC, ino);
		made = !symlink(target, path);
		if (made && ino % 7 == 0) {
			snprintf(path, sizeof(path), "%s/999/fd/%u", root, ino);
			made = !symlink(target, path);
		}
	}
	CHECK(made, "cannot build the temporary proc tree in %s: %s", root, strerror(errno));
	t0 = now_s();
	m = inode_owner_map__build(root);
	dt = now_s() - t0;
	CHECK(m != NULL, "expected a map, got NULL");
	CHECK_EQ_INT(inode_owner_map__size(m), NSOCK, "distinct inodes");
	for (__u32 ino = 1; ino <= NSOCK && m; ino++) {
		int want = ino % 7 == 0 ? 999 : (int)(1000 + ino % NPROC);

		if (inode_owner_map__lookup(m, ino) != want && bad++ < 3)
			fprintf(stderr, "  inode %u: expected pid %d, got %d\n", ino, want,
				inode_owner_map__lookup(m, ino));
	}
	CHECK_EQ_INT(bad, 0, "wrong lookups among 100k");
	CHECK_EQ_INT(inode_owner_map__lookup(m, NSOCK + 1), 0, "lookup of an absent inode");
	CHECK(dt < 5.0, "expected the 100k-socket build under 5 s, took %.2f s", dt);
	printf("  100k socket links scanned in %.3f s\n", dt);
	inode_owner_map__free(m);
	nftw(root, rm_entry, 64, FTW_DEPTH | FTW_PHYS);
}

static void test_read_comm(void)
{
	static const struct {
		const char *what;
		int pid;
		size_t len;
		int ret;
		const char *want;
	} rows[] = {
	    {"plain comm", 100, 16, 0, "nginx"},
	    {"15 characters (the kernel's maximum)", 50, 16, 0, "fifteen-chars-x"},
	    {"no trailing newline", 300, 16, 0, "kthreadd"},
	    {"exact fit", 100, 6, 0, "nginx"},
	    {"one byte short", 100, 5, -ERANGE, NULL},
	    {"no comm file", 400, 16, -ENOENT, NULL},
	    {"no such pid", 4242, 16, -ENOENT, NULL},
	    {"pid 0", 0, 16, -EINVAL, NULL},
	    {"zero-length buffer", 100, 0, -EINVAL, NULL},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char buf[32] = "untouched";
		int ret = proc__read_comm(PROC, rows[i].pid, buf, rows[i].len);

		CHECK(ret == rows[i].ret, "%s: expected %d, got %d", rows[i].what, rows[i].ret,
		      ret);
		if (rows[i].want && !ret)
			CHECK(strcmp(buf, rows[i].want) == 0, "%s: expected \"%s\", got \"%s\"",
			      rows[i].what, rows[i].want, buf);
	}
}

static void test_read_cgroup(void)
{
	static const struct {
		const char *what;
		int pid;
		size_t len;
		int ret;
		const char *want;
	} rows[] = {
	    {"cgroup v2 only", 100, 128, 0, "/system.slice/nginx.service"},
	    {"hybrid v1+v2: the 0:: line", 200, 128, 0,
	     "/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope"},
	    {"root cgroup", 300, 128, 0, "/"},
	    {"v1 only: no 0:: line", 50, 128, -ENOENT, NULL},
	    {"no cgroup file", 400, 128, -ENOENT, NULL},
	    {"buffer too small", 100, 10, -ERANGE, NULL},
	    {"zero-length buffer", 100, 0, -EINVAL, NULL},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char buf[128] = "untouched";
		int ret = proc__read_cgroup(PROC, rows[i].pid, buf, rows[i].len);

		CHECK(ret == rows[i].ret, "%s: expected %d, got %d", rows[i].what, rows[i].ret,
		      ret);
		if (rows[i].want && !ret)
			CHECK(strcmp(buf, rows[i].want) == 0, "%s: expected \"%s\", got \"%s\"",
			      rows[i].what, rows[i].want, buf);
	}
}

static void test_read_netns(void)
{
	static const struct {
		const char *what;
		int pid;
		int ret;
		__u32 want;
	} rows[] = {
	    {"net:[inode] link", 100, 0, 4026532001u},
	    {"a link of another namespace kind", 200, -EINVAL, 0},
	    {"no ns directory", 300, -ENOENT, 0},
	    {"no such pid", 4242, -ENOENT, 0},
	    {"pid 0", 0, -EINVAL, 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		__u32 inode = 7;
		int ret = proc__read_netns(PROC, rows[i].pid, &inode);

		CHECK(ret == rows[i].ret, "%s: expected %d, got %d", rows[i].what, rows[i].ret,
		      ret);
		if (!rows[i].ret && !ret)
			CHECK(inode == rows[i].want, "%s: expected inode %u, got %u", rows[i].what,
			      rows[i].want, inode);
	}
}

static void test_netstat_fixture(void)
{
	struct netstat_listen ns = {0};
	char text[16384];
	FILE *f = fopen(PROC "/net/netstat", "r");
	size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;

	if (f)
		fclose(f);
	text[n] = '\0';
	CHECK(n > 0, "fixture %s is missing", PROC "/net/netstat");
	/* The capture overflowed a backlog-1 listener twice (see ss.txt, listener d2). */
	CHECK_EQ_INT(proc__parse_netstat(text, &ns), 0, "parse of a real /proc/net/netstat");
	CHECK_EQ_INT(ns.listen_overflows, 2, "ListenOverflows");
	CHECK_EQ_INT(ns.listen_drops, 2, "ListenDrops");
}

static void test_netstat_table(void)
{
	static const struct {
		const char *what, *text;
		int ret;
		unsigned long long ovf, drops;
	} rows[] = {
	    {"minimal", "TcpExt: ListenOverflows ListenDrops\nTcpExt: 7 9\n", 0, 7, 9},
	    {"other fields around, tabs",
	     "TcpExt: A ListenDrops\tB ListenOverflows C\n"
	     "TcpExt: 1 20\t3 40 5\n",
	     0, 40, 20},
	    {"after IpExt, no final newline",
	     "IpExt: X Y\nIpExt: 1 2\nTcpExt: ListenOverflows ListenDrops\nTcpExt: 3 4", 0, 3, 4},
	    {"largest u64", "TcpExt: ListenOverflows ListenDrops\nTcpExt: 18446744073709551615 0\n",
	     0, 18446744073709551615ull, 0},
	    {"u64 overflow",
	     "TcpExt: ListenOverflows ListenDrops\nTcpExt: 18446744073709551616 0\n", -EINVAL, 0,
	     0},
	    {"empty text", "", -ENOENT, 0, 0},
	    {"no TcpExt", "IpExt: ListenOverflows ListenDrops\nIpExt: 1 2\n", -ENOENT, 0, 0},
	    {"TcpExt not at line start", "XTcpExt: ListenOverflows ListenDrops\nXTcpExt: 1 2\n",
	     -ENOENT, 0, 0},
	    {"ListenDrops absent", "TcpExt: ListenOverflows Other\nTcpExt: 1 2\n", -ENOENT, 0, 0},
	    {"header without values", "TcpExt: ListenOverflows ListenDrops\n", -EINVAL, 0, 0},
	    {"value line of another group", "TcpExt: ListenOverflows ListenDrops\nIpExt: 1 2\n",
	     -EINVAL, 0, 0},
	    {"fewer values than names", "TcpExt: A ListenOverflows ListenDrops\nTcpExt: 1 2\n",
	     -EINVAL, 0, 0},
	    {"value not a number", "TcpExt: ListenOverflows ListenDrops\nTcpExt: 1 x2\n", -EINVAL,
	     0, 0},
	    {"negative value", "TcpExt: ListenOverflows ListenDrops\nTcpExt: -1 2\n", -EINVAL, 0,
	     0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct netstat_listen ns = {0};
		int ret = proc__parse_netstat(rows[i].text, &ns);

		CHECK(ret == rows[i].ret, "%s: expected %d, got %d", rows[i].what, rows[i].ret,
		      ret);
		if (!ret && !rows[i].ret)
			CHECK(ns.listen_overflows == rows[i].ovf &&
				  ns.listen_drops == rows[i].drops,
			      "%s: expected overflows/drops %llu/%llu, got %llu/%llu", rows[i].what,
			      rows[i].ovf, rows[i].drops, (unsigned long long)ns.listen_overflows,
			      (unsigned long long)ns.listen_drops);
	}
	CHECK_EQ_INT(proc__parse_netstat(NULL, NULL), -EINVAL, "NULL text");
}

static void test_port_range(void)
{
	static const struct {
		const char *what, *root;
		int ret, lo, hi;
	} rows[] = {
	    {"Linux default", PROC, 0, 32768, 60999},
	    {"reversed", FIXTURES "/proc_bad/reversed", -EINVAL, 0, 0},
	    {"garbage after the second port", FIXTURES "/proc_bad/garbage", -EINVAL, 0, 0},
	    {"one number", FIXTURES "/proc_bad/one", -EINVAL, 0, 0},
	    {"port above 65535", FIXTURES "/proc_bad/toobig", -EINVAL, 0, 0},
	    {"no file", FIXTURES "/proc_bad/missing", -ENOENT, 0, 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int lo = -1, hi = -1;
		int ret = proc__read_port_range(rows[i].root, &lo, &hi);

		CHECK(ret == rows[i].ret, "%s: expected %d, got %d", rows[i].what, rows[i].ret,
		      ret);
		if (!rows[i].ret)
			CHECK(lo == rows[i].lo && hi == rows[i].hi, "%s: expected %d-%d, got %d-%d",
			      rows[i].what, rows[i].lo, rows[i].hi, lo, hi);
	}
}

static void test_read_int(void)
{
	static const struct {
		const char *file;
		int ret;
		long want;
	} rows[] = {
	    {PROC "/sys/net/ipv4/tcp_fin_timeout", 0, 60},
	    {FIXTURES "/proc_values/sixty", 0, 60},
	    {FIXTURES "/proc_values/spaces", 0, 42},
	    {FIXTURES "/proc_values/negative", 0, -3},
	    {FIXTURES "/proc_values/garbage", -EINVAL, 0},
	    {FIXTURES "/proc_values/empty", -EINVAL, 0},
	    {FIXTURES "/proc_values/two", -EINVAL, 0},
	    {FIXTURES "/proc_values/overflow", -ERANGE, 0},
	    {FIXTURES "/proc_values/long", -EINVAL, 0},
	    {FIXTURES "/proc_values/missing", -ENOENT, 0},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		long v = -12345;
		int ret = proc__read_int(rows[i].file, &v);

		CHECK(ret == rows[i].ret, "%s: expected %d, got %d", rows[i].file, rows[i].ret,
		      ret);
		if (!rows[i].ret)
			CHECK(v == rows[i].want, "%s: expected %ld, got %ld", rows[i].file,
			      rows[i].want, v);
	}
}

/* comm is kept byte for byte but for the final newline: spaces, parentheses, newlines, 0xff. */
static void test_parse_comm_odd_bytes(void)
{
	static const struct {
		const char *what, *text;
		size_t len;
		int ret;
		const char *want;
	} rows[] = {
	    {"spaces and parentheses", "a (b) c)\n", 16, 0, "a (b) c)"},
	    {"inner newline", "x\ny\n", 16, 0, "x\ny"},
	    {"only the last newline goes", "x\n\n", 16, 0, "x\n"},
	    {"quote, backslash, newline, 0xff", "q\"\\\n\xff\n", 16, 0, "q\"\\\n\xff"},
	    {"empty file", "", 16, 0, ""},
	    {"just a newline", "\n", 16, 0, ""},
	    {"does not fit", "fifteen-chars-x\n", 15, -ERANGE, NULL},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char buf[32] = "untouched";
		int ret = proc__parse_comm(rows[i].text, strlen(rows[i].text), buf, rows[i].len);

		CHECK(ret == rows[i].ret, "%s: expected %d, got %d", rows[i].what, rows[i].ret,
		      ret);
		if (rows[i].want && !ret)
			CHECK(strcmp(buf, rows[i].want) == 0, "%s: expected \"%s\", got \"%s\"",
			      rows[i].what, rows[i].want, buf);
	}
}

/* The "0::" line's rest is the path, whatever bytes it holds; the first such line wins. */
static void test_parse_cgroup_odd_bytes(void)
{
	static const struct {
		const char *what, *text;
		int ret;
		const char *want;
	} rows[] = {
	    {"control bytes, quote, backslash, 0xff", "0::/a\x01\x7f\"\\\xff\n", 0,
	     "/a\x01\x7f\"\\\xff"},
	    {"no final newline", "1:cpu:/x\n0::/y", 0, "/y"},
	    {"empty path", "0::\n", 0, ""},
	    {"two 0:: lines", "0::/first\n0::/second\n", 0, "/first"},
	    {"0:: not at a line start", "1:name=0::/x\n", -ENOENT, NULL},
	    {"empty file", "", -ENOENT, NULL},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char buf[64] = "untouched";
		int ret = proc__parse_cgroup(rows[i].text, buf, sizeof(buf));

		CHECK(ret == rows[i].ret, "%s: expected %d, got %d", rows[i].what, rows[i].ret,
		      ret);
		if (rows[i].want && !ret)
			CHECK(strcmp(buf, rows[i].want) == 0, "%s: expected \"%s\", got \"%s\"",
			      rows[i].what, rows[i].want, buf);
	}
}

/* A process that exits before its files are read: an error, no crash, no stale name. */
static void test_vanished_pid(void)
{
	char buf[64] = "untouched";
	pid_t pid = fork();
	int ret;

	if (pid == 0)
		_exit(0);
	CHECK(pid > 0, "fork failed");
	if (pid <= 0)
		return;
	waitpid(pid, NULL, 0);
	ret = proc__read_comm("/proc", pid, buf, sizeof(buf));
	CHECK(ret == -ENOENT || ret == -ESRCH, "comm of exited pid %d: expected -ENOENT, got %d",
	      pid, ret);
	ret = proc__read_cgroup("/proc", pid, buf, sizeof(buf));
	CHECK(ret == -ENOENT || ret == -ESRCH, "cgroup of exited pid %d: expected -ENOENT, got %d",
	      pid, ret);
	CHECK_EQ_STR(buf, "untouched", "buffer after the failed reads");
}

TEST_MAIN("proc_info", TL_CASE(test_owner_map_fixture), TL_CASE(test_owner_map_missing_root),
	  TL_CASE(test_owner_map_100k), TL_CASE(test_read_comm), TL_CASE(test_read_cgroup), TL_CASE(test_read_netns),
	  TL_CASE(test_netstat_fixture), TL_CASE(test_netstat_table), TL_CASE(test_port_range),
	  TL_CASE(test_read_int), TL_CASE(test_parse_comm_odd_bytes),
	  TL_CASE(test_parse_cgroup_odd_bytes), TL_CASE(test_vanished_pid))
