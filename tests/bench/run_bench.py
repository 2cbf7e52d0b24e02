#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""tcpstate benchmarks: one table of figures measured side by side with peers in the same run.

Usage: run_bench.py [--build DIR] [--quick] [--json PATH] ...   (see --help)

Rows (each footnoted in the output with how it was measured):
  1. connection churn rate without a tracer vs with `tcpstate serve` -> overhead %, both as
     throughput and as CPU per connection (the latter barely moved by other work on the host)
  2. the same with libbpf-tools tcpstates; events lost by each tracer at the same load, at the
     machine's limit and at a fixed rate that leaves CPU to spare
     reference tracers in the same rounds (tests/bench/floor.c): empty programs on the same
     hooks, and one ring record per state change drained by a reader that does nothing
  3. tcpstate's CPU seconds per million events; peak RSS; RSS and table bytes per tracked socket
  4. time of one /metrics scrape with 100k TIME_WAIT sockets vs node_exporter's tcpstat
     collector, `ss -s` and a full sock_diag dump (`ss -tan`)
  5. sock_diag audit time at 10k and 100k sockets

This prints figures; it is not a pass/fail test. Exit status 0 once the table is printed, 1 if
something needed could not run at all (the message says what), 2 on a usage error.

All traffic stays on the loopback of private network namespaces that this script creates
(tsbench-<pid>-*) and deletes on every path. Every load is bounded in time.
"""

import argparse
import http.client
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TCPSTATES = "/usr/sbin/tcpstates"
NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
CLK_TCK = os.sysconf("SC_CLK_TCK")

TW_SMALL = 10_000  # sockets for the small audit point
TW_LARGE = 100_000  # TIME_WAIT sockets for scrapes and the large audit point
HOLD_PAIRS = 50_000  # established pairs (100k sockets) for RSS per socket


# The reference tracers of tests/bench/floor.c: row label and what the tracer does.
FLOOR_ROWS = {
    "hooks": ("   reference: empty programs, same hooks",
              "2 empty tp_btf programs on inet_sock_set_state + 1 on the accept4 exit "
              "(tests/bench/floor.bpf.c): the price of being attached"),
    "ring": ("   reference: 1 ring record per change",
             "a 48-byte record (clock, cookie, IPv4 tuple: tcpstate's common size) per state "
             "change into rings sized as tcpstate's default, woken and polled as tcpstate's, "
             "read by a loop that does nothing with it: the least a streaming tracer does"),
}


class BenchError(Exception):
    """Something the benchmark needs could not run at all."""


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes and namespaces, cleaned up on every path


class Janitor:
    """Owns every process and namespace this script starts; cleanup() ends them by pid/name."""

    def __init__(self):
        self.procs = []
        self.netns = []
        self.files = []

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        """Send sig to p (started by spawn) and wait; SIGKILL after timeout. Returns rc."""
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        if p in self.procs:
            self.procs.remove(p)
        return p.returncode

    def add_netns(self, name):
        run(["ip", "netns", "add", name])
        self.netns.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])
        # A fresh port space: one full range, TIME_WAIT kept (no reuse), room for 100k+ of them.
        sysctls = {
            "net.ipv4.ip_local_port_range": "1024 65535",
            "net.ipv4.tcp_tw_reuse": "0",
            "net.ipv4.tcp_max_tw_buckets": "262144",
            "net.core.somaxconn": "4096",
        }
        run(["ip", "netns", "exec", name, "sysctl", "-q", "-w"] +
            [f"{k}={v}" for k, v in sysctls.items()])
        return name

    def del_netns(self, name):
        for p in list(self.procs):
            if getattr(p, "netns", None) == name:
                self.stop(p)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        if name in self.netns:
            self.netns.remove(name)

    def cleanup(self):
        for p in list(self.procs):
            self.stop(p, timeout=5)
        for name in list(self.netns):
            self.del_netns(name)
        for path in self.files:
            if os.path.exists(path):
                os.unlink(path)


JANITOR = Janitor()


def run(argv, timeout=60, check=True, **kw):
    """Run argv to completion (killed after timeout s); BenchError if it fails and check."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(argv)} took more than {timeout} s") from None
    except OSError as e:
        raise BenchError(f"cannot run {argv[0]}: {e.strerror}") from None
    if check and r.returncode != 0:
        raise BenchError(f"{' '.join(argv)} failed (exit {r.returncode}): {r.stderr.strip()}")
    return r


def in_netns(ns, argv):
    return ["ip", "netns", "exec", ns] + argv if ns else argv


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_seconds(pid):
    """utime + stime of pid from /proc/<pid>/stat, in seconds (None if gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def ksoftirqd_cpu_seconds():
    """utime + stime of all ksoftirqd threads: softirq work deferred out of churn's context."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                if not f.read().startswith("ksoftirqd/"):
                    continue
        except OSError:
            continue
        total += proc_cpu_seconds(pid) or 0.0
    return total


def host_busy_cpu_seconds():
    """CPU seconds the whole machine spent busy (user, nice, system, irq, softirq)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / CLK_TCK


def proc_mem_kib(pid):
    """{'VmRSS': kib, 'VmHWM': kib} of pid."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def bpf_enable_stats():
    """BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): an fd that keeps run-time stats on while open
    (closing it, or exiting, turns them off again); None if not possible."""
    import ctypes
    nr = {"x86_64": 321, "aarch64": 280}.get(platform.machine())
    if nr is None:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint32 * 4)()  # union bpf_attr: enable_stats.type = BPF_STATS_RUN_TIME (0)
    fd = libc.syscall(nr, 32, ctypes.byref(attr), ctypes.sizeof(attr))  # 32 = BPF_ENABLE_STATS
    if fd < 0:
        log(f"BPF_ENABLE_STATS failed: {os.strerror(ctypes.get_errno())}; no BPF run-time row")
        return None
    return fd


def bpf_prog_ids(pid):
    """Ids of the BPF programs pid holds (prog and link fds name them in fdinfo)."""
    ids = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fdinfo")
    except OSError:
        return ids
    for fd in fds:
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                m = re.search(r"^prog_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return ids


def bpf_prog_stats(pid):
    """{prog id: (name, run_time_ns, run_cnt)} for the programs of pid."""
    ids = bpf_prog_ids(pid)
    r = run(["bpftool", "prog", "show", "--json"], check=False)
    try:
        progs = json.loads(r.stdout)
    except ValueError:
        return {}
    return {p["id"]: (p.get("name", "?"), p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in progs if p.get("id") in ids}


def bpf_stats_delta(before, after):
    """{name: {"ns": run time, "runs": count}} between two bpf_prog_stats() samples."""
    out = {}
    for pid_, (name, ns, cnt) in after.items():
        _, ns0, cnt0 = before.get(pid_, (name, 0, 0))
        if cnt - cnt0 > 0:
            d = out.setdefault(name, {"ns": 0, "runs": 0})
            d["ns"] += ns - ns0
            d["runs"] += cnt - cnt0
    return out


def perf_event_fds(pid):
    n = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                n += os.readlink(f"/proc/{pid}/fd/{fd}") == "anon_inode:[perf_event]"
            except OSError:
                pass
    except OSError:
        pass
    return n


def sockstat_tw(ns):
    """TIME_WAIT count of a namespace from /proc/net/sockstat (O(1))."""
    r = run(in_netns(ns, ["cat", "/proc/net/sockstat"]), check=False)
    m = re.search(r"^TCP:.*\btw (\d+)", r.stdout, re.M)
    return int(m.group(1)) if m else None


class StderrWatcher:
    """Drains a process's stderr in a thread, keeps the lines, lets callers wait for one."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream):
        for line in stream:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # EOF
            self.cond.notify_all()

    def wait_for(self, pattern, timeout):
        """The first line matching pattern, or None at EOF/timeout."""
        end = time.monotonic() + timeout
        rx = re.compile(pattern)
        seen = 0
        with self.cond:
            while True:
                for line in self.lines[seen:]:
                    if line is None:
                        return None
                    if rx.search(line):
                        return line
                seen = len(self.lines)
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def text(self):
        self.thread.join(timeout=5)
        with self.cond:
            return "\n".join(x for x in self.lines if x is not None)


# ---------------------------------------------------------------------------------------------
# Prometheus text


def parse_prom(text):
    """{metric_name: [(labels_dict, value), ...]} from Prometheus text exposition."""
    out = {}
    rx = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = rx.match(line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        try:
            out.setdefault(m.group(1), []).append((labels, float(m.group(3))))
        except ValueError:
            pass
    return out


def prom_sum(metrics, name):
    vals = metrics.get(name)
    return sum(v for _, v in vals) if vals else None


def http_get(host, port, path="/metrics", timeout=10):
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            raise BenchError(f"GET http://{host}:{port}{path}: HTTP {r.status}")
        return body
    finally:
        c.close()


# ---------------------------------------------------------------------------------------------
# Helper modes, run inside a namespace with `ip netns exec ... run_bench.py --scrape/--time-cmd`


def helper_scrape(url, n):
    m = re.match(r"http://([^:/]+):(\d+)(/.*)?$", url)
    host, port, path = m.group(1), int(m.group(2)), m.group(3) or "/metrics"
    body = http_get(host, port, path)  # warm-up, not counted
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        body = http_get(host, port, path)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"times": times, "bytes": len(body), "body": body.decode(errors="replace")
                      if len(body) < 2_000_000 else ""}))


def helper_time_cmd(n, argv):
    times, lines = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
        lines = r.stdout.count(b"\n")
        times.append(time.perf_counter() - t0)
    print(json.dumps({"times": times, "lines": lines}))


def call_helper(ns, args, timeout=300):
    r = run(in_netns(ns, [sys.executable, os.path.abspath(__file__)] + args), timeout=timeout)
    return json.loads(r.stdout)


# ---------------------------------------------------------------------------------------------
# Tracers under test


class Tcpstate:
    """`tcpstate serve` (the exporter), or `tcpstate snapshot` for a long time when serve is not
    available: both run the same BPF programs and tracker; only serve answers /metrics."""

    def __init__(self, bench, kind):
        self.bench, self.kind = bench, kind
        self.port = None
        self.out = None

    def start(self):
        exe = self.bench.tcpstate
        if self.kind == "serve":
            self.port = free_port()
            argv = [exe, "serve", "--listen", f"127.0.0.1:{self.port}"]
            ready = r"listening on|serving http"
            stdout = subprocess.DEVNULL
        else:
            argv = [exe, "snapshot", "--json", "--duration", "900"]
            ready = r"observing for"
            self.out = tempfile.TemporaryFile()
            stdout = self.out
        self.p = JANITOR.spawn(argv, stdout=stdout, stderr=subprocess.PIPE, text=True)
        self.err = StderrWatcher(self.p.stderr)
        if not self.err.wait_for(ready, 30):
            JANITOR.stop(self.p)
            raise BenchError(f"{' '.join(argv)} did not start: {self.err.text()[-500:]}")
        time.sleep(0.3)
        return self

    def metrics(self):
        if self.kind != "serve":
            return None
        return parse_prom(http_get("127.0.0.1", self.port).decode())

    def sample(self):
        """cpu seconds, memory, and (serve) event/loss/socket counters now."""
        s = {"cpu": proc_cpu_seconds(self.p.pid), **proc_mem_kib(self.p.pid)}
        m = self.metrics()
        if m is not None:
            s.update(events=prom_sum(m, "tcpstate_events_total"),
                     lost=prom_sum(m, "tcpstate_events_lost_total"),
                     sockets=prom_sum(m, "tcpstate_table_sockets"),
                     audits=prom_sum(m, "tcpstate_audits_total"),
                     peak_fill=prom_sum(m, "tcpstate_ringbuf_peak_fill_ratio"),
                     lost_by_reason={lb.get("reason", "?"): v for lb, v in
                                     m.get("tcpstate_events_lost_total", [])},
                     metrics=m)
        return s

    def settle(self, timeout=3.0, quiet_rate=10_000):
        """Wait until events arrive slower than quiet_rate/s (the ring buffer is drained; other
        work on the host may keep a trickle going); the last sample."""
        last = self.sample()
        end = time.monotonic() + timeout
        while last.get("events") is not None and time.monotonic() < end:
            time.sleep(0.25)
            s = self.sample()
            if s["events"] - last["events"] < quiet_rate * 0.25:
                return s
            last = s
        return last

    def stop(self):
        """Stop; for snapshot the final JSON (events, lost, table, ...)."""
        JANITOR.stop(self.p, signal.SIGINT if self.kind == "snapshot" else signal.SIGTERM, 60)
        if self.out is None:
            return None
        self.out.seek(0)
        try:
            return json.loads(self.out.read())
        except ValueError:
            return None


class Tcpstates:
    """libbpf-tools tcpstates: one line per transition to a file; "lost N events" on stderr.
    stop() returns {"printed": events it saw, "lost": events it lost}, as Floor's does."""

    def __init__(self):
        self.out = tempfile.NamedTemporaryFile(prefix="tsbench-tcpstates-", delete=False)
        JANITOR.files.append(self.out.name)

    def start(self):
        self.p = JANITOR.spawn([TCPSTATES], stdout=self.out, stderr=subprocess.PIPE, text=True)
        self.err = StderrWatcher(self.p.stderr)
        # Its header may sit in stdio's buffer: it is attached once its per-CPU perf buffer
        # fds exist (made after attach).
        end = time.monotonic() + 20
        while perf_event_fds(self.p.pid) < (os.cpu_count() or 1):
            if self.p.poll() is not None or time.monotonic() > end:
                JANITOR.stop(self.p)
                raise BenchError(f"{TCPSTATES} did not start: {self.err.text()[-500:]}")
            time.sleep(0.05)
        time.sleep(0.3)
        return self

    def cpu(self):
        return proc_cpu_seconds(self.p.pid)

    def stop(self):
        JANITOR.stop(self.p, signal.SIGINT, 30)
        lost = sum(int(n) for n in re.findall(r"lost (\d+) events", self.err.text()))
        with open(self.out.name, "rb") as f:
            printed = sum(1 for _ in f) - 1
        os.unlink(self.out.name)
        return {"lost": lost, "printed": printed}


class Floor:
    """The reference tracers (tests/bench/floor.c): empty programs on tcpstate's hooks, or one
    ring record per state change drained by a reader that does nothing."""

    def __init__(self, bench, mode):
        self.bench, self.mode = bench, mode

    def start(self):
        self.p = JANITOR.spawn([self.bench.floor, "--mode", self.mode], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        self.err = StderrWatcher(self.p.stderr)
        if not self.err.wait_for(r"attached", 30):
            JANITOR.stop(self.p)
            raise BenchError(f"floor --mode {self.mode} did not start: {self.err.text()[-300:]}")
        time.sleep(0.3)
        return self

    def cpu(self):
        return proc_cpu_seconds(self.p.pid)

    def stop(self):
        """{"printed": records read, "lost": records the rings had no room for}; None each if
        floor did not say (it died), which the table shows as n/a."""
        JANITOR.stop(self.p, signal.SIGTERM, 30)
        try:
            out = json.loads(self.p.stdout.read().strip().splitlines()[-1])
        except (ValueError, IndexError):
            log(f"floor --mode {self.mode} printed no figures: {self.err.text()[-300:]}")
            out = {}
        return {"printed": out.get("records"), "lost": out.get("full")}


# ---------------------------------------------------------------------------------------------
# The benchmark


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


class Bench:
    def __init__(self, args):
        self.args = args
        b = os.path.join(ROOT, args.build) if not os.path.isabs(args.build) else args.build
        self.tcpstate = os.path.join(b, "tcpstate")
        self.churn = os.path.join(b, "bench", "churn")
        self.sockpairs = os.path.join(b, "bench", "sockpairs")
        self.floor = os.path.join(b, "bench", "floor")
        self.json_path = args.json or os.path.join(b, "bench", "results.json")
        self.tag = f"tsbench-{os.getpid()}"
        self.nsn = 0
        self.rows = []
        self.raw = {}
        self.serve_ok = False
        self.tracer_kind = "snapshot"

    # -- set-up -----------------------------------------------------------------------------

    def check_tools(self):
        if os.geteuid() != 0:
            raise BenchError("run as root: BPF tracers and network namespaces need it")
        for path, what in ((self.tcpstate, "make all"), (self.churn, "make bench"),
                           (self.sockpairs, "make bench")):
            if not os.access(path, os.X_OK):
                raise BenchError(f"{path} is missing (build it with `{what}`)")
        for tool in ("ip", "ss"):
            if not shutil.which(tool):
                raise BenchError(f"{tool} is missing (apt-get install iproute2)")
        self.have_tcpstates = os.access(TCPSTATES, os.X_OK)
        self.have_node_exporter = os.access(NODE_EXPORTER, os.X_OK)
        self.have_floor = os.access(self.floor, os.X_OK)
        self.serve_ok = self.args.tracer != "snapshot" and self.probe_serve()
        self.tracer_kind = "serve" if self.serve_ok else "snapshot"

    def probe_serve(self):
        try:
            t = Tcpstate(self, "serve").start()
        except BenchError as e:
            log(f"tcpstate serve not available: {e}")
            return False
        try:
            m = t.metrics()
            ok = m is not None and "tcpstate_events_total" in m
            if not ok:
                log("tcpstate serve answers /metrics without tcpstate_events_total")
            return ok
        except (OSError, BenchError, http.client.HTTPException) as e:
            log(f"tcpstate serve /metrics failed: {e}")
            return False
        finally:
            t.stop()

    def conditions(self):
        ver = run([self.tcpstate, "version"], check=False).stdout.strip()
        cpu = ""
        try:
            with open("/proc/cpuinfo") as f:
                cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                           "")
        except OSError:
            pass
        mem = ""
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":")[1].strip()
        c = {
            "nproc": os.cpu_count(),
            "cpu": cpu,
            "memory": mem,
            "kernel": platform.release(),
            "loadavg": open("/proc/loadavg").read().split()[:3],
            "tcpstate": ver or "?",
            "tcpstate_tracer": "serve" if self.serve_ok else
            "snapshot (serve " + ("not used: --tracer snapshot)" if self.args.tracer == "snapshot"
                                  else "not available)"),
            "tcpstates": f"{TCPSTATES} ({first_line(run([TCPSTATES, '--version'], check=False))})"
            if self.have_tcpstates else "missing",
            "node_exporter": first_line(run([NODE_EXPORTER, "--version"], check=False))
            if self.have_node_exporter else "missing",
            "netns_present": run(["ip", "netns", "list"], check=False).stdout.count("\n"),
        }
        return c

    def new_netns(self, what):
        self.nsn += 1
        return JANITOR.add_netns(f"{self.tag}-{what}{self.nsn}")

    # -- phase A: churn with and without tracers (rows 1, 2, 3a) ---------------------------

    def churn_once(self, ns, rate):
        a = self.args
        argv = [self.churn, "--addr", "127.0.0.1", "--port", "0", "--duration",
                str(a.churn_seconds), "--threads", str(a.threads), "--server-threads",
                str(a.server_threads), "--close", "client-first", "--sources", str(a.sources)]
        if rate:
            argv += ["--rate", str(rate)]
        # churn is the only child reaped meanwhile: the RUSAGE_CHILDREN delta is its CPU time,
        # including the softirq work (and BPF programs) run in its context.
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        k0, h0 = ksoftirqd_cpu_seconds(), host_busy_cpu_seconds()
        r = run(in_netns(ns, argv), timeout=a.churn_seconds + 60)
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        k1, h1 = ksoftirqd_cpu_seconds(), host_busy_cpu_seconds()
        for line in reversed(r.stdout.splitlines()):
            if line.startswith("{"):
                d = json.loads(line)
                d["cpu"] = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
                d["ksoftirqd_cpu"] = k1 - k0
                d["host_busy_cpu"] = h1 - h0
                return d
        raise BenchError(f"churn printed no JSON line: {r.stdout[-300:]} {r.stderr[-300:]}")

    def churn_run(self, config, rate=None, bpf_stats=False):
        """One churn phase in a fresh namespace with config none|tcpstate|tcpstates|hooks|ring; with
        bpf_stats, also the run time of the tracer's BPF programs (stats must be enabled)."""
        rate = self.args.rate if rate is None else rate
        ns = self.new_netns("churn")
        res, a = {"config": config}, self.args
        try:
            if config == "none":
                res["churn"] = self.churn_once(ns, rate)
            elif config == "tcpstate":
                t = Tcpstate(self, self.tracer_kind).start()
                try:
                    s0 = t.sample()
                    b0 = bpf_prog_stats(t.p.pid) if bpf_stats else None
                    res["churn"] = self.churn_once(ns, rate)
                    s1 = t.settle() if self.serve_ok else (time.sleep(0.5) or t.sample())
                    if bpf_stats:
                        res["bpf"] = bpf_stats_delta(b0, bpf_prog_stats(t.p.pid))
                finally:
                    final = t.stop()
                res["cpu"] = s1["cpu"] - s0["cpu"]
                res["hwm_kib"] = s1.get("VmHWM")
                if self.serve_ok:
                    res["events"] = s1["events"] - s0["events"]
                    res["lost"] = s1["lost"] - s0["lost"] if s1["lost"] is not None else None
                    res["lost_by_reason"] = s1["lost_by_reason"]
                    res["peak_fill"] = s1.get("peak_fill")
                    if s1.get("audits") is not None:
                        res["audits"] = s1["audits"] - s0["audits"]
                elif final:
                    res["events"], res["lost"] = final.get("events"), final.get("lost")
            else:  # tcpstates, or a reference tracer (hooks, ring)
                t = (Floor(self, config) if config in ("hooks", "ring") else Tcpstates()).start()
                c0 = t.cpu()
                try:
                    b0 = bpf_prog_stats(t.p.pid) if bpf_stats else None
                    res["churn"] = self.churn_once(ns, rate)
                    time.sleep(0.5)
                    c1 = t.cpu()
                    if bpf_stats:
                        res["bpf"] = bpf_stats_delta(b0, bpf_prog_stats(t.p.pid))
                finally:
                    out = t.stop()
                res.update(cpu=c1 - c0, events=out["printed"], lost=out["lost"])
        finally:
            JANITOR.del_netns(ns)
        res["rate"] = res["churn"].get("conn_per_sec")
        conns = res["churn"].get("connections")
        if conns:  # CPU per connection: churn, ksoftirqd and the tracer's process
            ours = res["churn"]["cpu"] + res["churn"]["ksoftirqd_cpu"] + res.get("cpu", 0)
            res["us_per_conn"] = ours / conns * 1e6
            res["tracer_us_per_conn"] = res.get("cpu", 0) / conns * 1e6
            # Busy CPU of the machine not explained by this run: other work on the host.
            res["other_load"] = max(0.0, res["churn"]["host_busy_cpu"] - ours) / \
                (a.churn_seconds * os.cpu_count())
        log(f"churn {config:9s}{' at ' + str(rate) if rate else ''}: {res['rate']:.0f} conn/s"
            + (f", {fmt_num(res.get('events'))} events, {fmt_num(res.get('lost'))} lost, "
               f"cpu {res.get('cpu'):.2f}s" if config not in ("none", "hooks") else ""))
        time.sleep(0.5)  # let the dying namespace's sockets be purged before the next phase
        return res

    def phase_churn(self):
        configs = ["none", "tcpstate"] + (["tcpstates"] if self.have_tcpstates else [])
        # Reference tracers: what any tracer on these hooks pays.
        floors = ["hooks", "ring"] if self.have_floor else []
        runs = {c: [] for c in configs + floors}
        for r in range(self.args.rounds):
            rotated = configs + floors
            order = rotated[r % len(rotated):] + rotated[:r % len(rotated)]
            for c in order:
                runs[c].append(self.churn_run(c))
        # CPU per connection and loss when the machine has CPU to spare: a fixed rate well
        # under saturation, so the runs do not compete with each other for CPU.
        # The reference tracers run here too: CPU per connection is where their floor can be
        # told from the host's noise.
        if self.args.loss_rate:
            at_rate = configs + floors
            for c in at_rate:
                runs[c + "@rate"] = []
            for r in range(self.args.rate_rounds):
                order = at_rate[r % len(at_rate):] + at_rate[:r % len(at_rate)]
                for c in order:
                    runs[c + "@rate"].append(self.churn_run(c, self.args.loss_rate))
        # In-kernel cost: run time of each tracer's BPF programs (kernel BPF stats, enabled
        # only while this script holds the fd BPF_ENABLE_STATS returned).
        if self.args.loss_rate and shutil.which("bpftool"):
            fd = bpf_enable_stats()
            if fd is not None:
                try:
                    for c in configs[1:]:
                        runs[c + "@bpf"] = [self.churn_run(c, self.args.loss_rate, True)]
                finally:
                    os.close(fd)
        self.raw["churn"] = runs
        return runs

    # -- phase B: many sockets (rows 3b, 4, 5) --------------------------------------------

    def start_sockpairs(self, ns, mode, pairs):
        p = JANITOR.spawn(in_netns(ns, [self.sockpairs, "--mode", mode, "--pairs", str(pairs),
                                        "--hold", "600"]),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.netns = ns
        ready, _, _ = select.select([p.stdout], [], [], 120)
        line = p.stdout.readline() if ready else ""  # READY ... or EOF on failure
        if not line.startswith("READY"):
            err = p.stderr.read() if p.poll() is not None else ""
            JANITOR.stop(p)
            raise BenchError(f"sockpairs --mode {mode} --pairs {pairs} failed: {err.strip()}")
        log(f"sockpairs: {line.strip()}")
        return p

    def snapshot_audit(self, n):
        """n runs of `tcpstate snapshot --json --duration 0.2`: audit seconds, sockets, table."""
        out = []
        for _ in range(n):
            r = run([self.tcpstate, "snapshot", "--json", "--duration", "0.2"], timeout=120)
            d = json.loads(r.stdout)
            out.append({"audit_s": d["audit"]["last_seconds"], "sockets": d["table"]["sockets"],
                        "table": d["table"], "time_wait": d["by_state"].get("time_wait")})
        return out

    def time_cmd(self, ns, n, argv):
        return call_helper(ns, ["--time-cmd", str(n), "--"] + argv)

    def phase_rss(self, t):
        """RSS of the tracer with few sockets, then with 100k established ones held."""
        res = {}
        s0 = t.settle()
        ns = self.new_netns("hold")
        try:
            self.start_sockpairs(ns, "hold", HOLD_PAIRS)
            end = time.monotonic() + 20
            s1 = t.settle()
            while self.serve_ok and s1["sockets"] - s0["sockets"] < 2 * HOLD_PAIRS * 0.98 \
                    and time.monotonic() < end:
                time.sleep(0.5)
                s1 = t.settle()
            dsock = (s1["sockets"] - s0["sockets"]) if self.serve_ok else 2 * HOLD_PAIRS
            snap = self.snapshot_audit(1)[0]
            res = {"rss0_kib": s0.get("VmRSS"), "rss1_kib": s1.get("VmRSS"),
                   "hwm_kib": s1.get("VmHWM"), "sockets0": s0.get("sockets"),
                   "sockets1": s1.get("sockets"), "dsockets": dsock,
                   "bytes_per_socket":
                       (s1["VmRSS"] - s0["VmRSS"]) * 1024 / dsock if dsock else None,
                   "snapshot_table": snap["table"], "snapshot_audit_s": snap["audit_s"]}
        finally:
            JANITOR.del_netns(ns)
        log(f"rss: {res.get('rss0_kib')} KiB -> {res.get('rss1_kib')} KiB for "
            f"{res.get('dsockets')} more sockets")
        return res

    def phase_timewait(self, t):
        """Audit at 10k and 100k TIME_WAIT, scrapes at 100k."""
        a, res = self.args, {"memory": []}

        def mem(step):  # the tracer's memory after each step, to see where the peak comes from
            s = t.settle() if self.serve_ok else t.sample()
            res["memory"].append({"step": step, "sockets": s.get("sockets"),
                                  **proc_mem_kib(t.p.pid)})

        ns = self.new_netns("tw")
        try:
            mem("start")
            t0 = time.monotonic()
            self.start_sockpairs(ns, "timewait", TW_SMALL)
            mem("10k TIME_WAIT")
            res["audit_small"] = self.snapshot_audit(a.audits)
            res["ss_small"] = self.time_cmd(ns, a.audits, ["ss", "-tan"])
            res["tw_small"] = sockstat_tw(ns)
            self.start_sockpairs(ns, "timewait", TW_LARGE - TW_SMALL)
            mem("100k TIME_WAIT")
            res["tw_large_before"] = sockstat_tw(ns)
            res["scrapes"] = self.scrapes(ns, t)
            mem("scrapes")
            res["audit_large"] = self.snapshot_audit(a.audits)
            res["tw_large_after"] = sockstat_tw(ns)
            res["seconds_since_first_tw"] = time.monotonic() - t0
        finally:
            JANITOR.del_netns(ns)
        mem("netns deleted")
        return res

    def scrapes(self, ns, t):
        n, out = self.args.scrapes, {}
        if self.serve_ok:
            s = t.settle()
            out["tcpstate_table_sockets"] = s.get("sockets")
            d = call_helper(None, ["--scrape", f"http://127.0.0.1:{t.port}/metrics", str(n)])
            m = parse_prom(d.pop("body"))
            out["tcpstate"] = d
            out["tcpstate_scrape_metric"] = prom_sum(m, "tcpstate_scrape_duration_seconds")
            out["tcpstate_audit_metric"] = prom_sum(m, "tcpstate_audit_duration_seconds")
        if self.have_node_exporter:
            port = free_port()
            p = JANITOR.spawn(in_netns(ns, [NODE_EXPORTER, "--collector.disable-defaults",
                                            "--collector.tcpstat",
                                            f"--web.listen-address=127.0.0.1:{port}"]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            p.netns = ns
            w = StderrWatcher(p.stderr)
            if w.wait_for(r"Listening on", 20):
                d = call_helper(ns, ["--scrape", f"http://127.0.0.1:{port}/metrics", str(n)])
                body = d.pop("body")
                m = re.search(r'node_tcp_connection_states\{state="time_wait"\} (\S+)', body)
                d["time_wait"] = float(m.group(1)) if m else None
                out["node_exporter"] = d
            else:
                log(f"node_exporter did not start: {w.text()[-300:]}")
            JANITOR.stop(p)
        out["ss_s"] = self.time_cmd(ns, n, ["ss", "-s"])
        out["ss_tan"] = self.time_cmd(ns, n, ["ss", "-tan"])
        return out

    def phase_sockets(self):
        t = Tcpstate(self, self.tracer_kind).start()
        try:
            rss = self.phase_rss(t)
            rss["after_hold_netns_deleted"] = proc_mem_kib(t.p.pid)
            tw = self.phase_timewait(t)
            s = t.sample()
            rss["hwm_end_kib"] = s.get("VmHWM")
        finally:
            final = t.stop()
        if final:
            rss["final_table"] = final.get("table")
        self.raw["rss"], self.raw["timewait"] = rss, tw
        return rss, tw

    # -- the table -------------------------------------------------------------------------

    def row(self, metric, mine, peer, ratio, target, met, note, values=None):
        """One table row (formatted cells); values: the same figures as numbers, for JSON."""
        self.rows.append({"metric": metric.strip(), "tcpstate": mine, "peer": peer,
                          "ratio": ratio, "target": target, "met": met, "note": note,
                          "values": values or {}, "label": metric})

    def build_rows(self, runs, rss, tw):
        via = "" if self.serve_ok else " *"  # measured with `tcpstate snapshot`
        peer = bool(runs.get("tcpstates"))
        self.rows_churn(runs, via, peer)
        self.rows_cost(runs, via, peer)
        self.rows_bpf(runs, via, peer)
        self.rows_loss(runs, via, peer)
        self.rows_memory(runs, rss, tw, via, peer)
        self.rows_scrape_audit(tw)

    def rows_churn(self, runs, via, peer):
        """Row 1-2: throughput at the machine's limit, with and without each tracer."""
        a = self.args
        base = [r["rate"] for r in runs["none"]]
        mine = [r["rate"] for r in runs["tcpstate"]]
        theirs = [r["rate"] for r in runs.get("tcpstates", [])]
        ov_mine, ov_peer = overhead(mine, base), overhead(theirs, base) if peer else None
        timeouts = sum(r["churn"].get("connect_timeouts", 0) for r in
                       runs["none"] + runs["tcpstate"] + runs.get("tcpstates", []))
        conf = (f"churn {a.threads}+{a.server_threads} threads, close client-first, "
                f"{a.sources} sources, {a.churn_seconds}s x {a.rounds} rounds, "
                f"rate {'max' if not a.rate else a.rate}")
        self.row("1. churn conn/s: tcpstate vs no tracer", fmt_num(median(mine)) + via,
                 fmt_num(median(base)) + " (none)", ratio(median(mine), median(base)), "-", None,
                 f"{conf}; a fresh netns per run; order rotated each round; medians",
                 {"conn_per_sec": median(mine), "baseline_conn_per_sec": median(base),
                  "tcpstate_runs": mine, "baseline_runs": base})
        if peer:
            self.row("2. churn conn/s: tcpstates vs no tracer", fmt_num(median(theirs)),
                     fmt_num(median(base)) + " (none)", ratio(median(theirs), median(base)), "-",
                     None, "the same runs; tcpstates writes its lines to a file in /tmp",
                     {"conn_per_sec": median(theirs), "runs": theirs})
        self.row("   throughput overhead vs no tracer", fmt_pct(ov_mine) + via,
                 fmt_pct(ov_peer) + " (tcpstates)" if peer else "n/a (no tcpstates)",
                 ratio_pos(ov_mine, ov_peer), "<= 5% and < tcpstates",
                 met_target(ov_mine, ov_peer),
                 "1 - rate_with/rate_without of the same round; median of rounds (per round, %: "
                 f"tcpstate {spread(per_round(mine, base))}"
                 + (f"; tcpstates {spread(per_round(theirs, base))}" if peer else "") +
                 "); moved by whatever else runs on the host; SYNs dropped on a full accept "
                 f"queue (1 s client stall each): {timeouts}",
                 {"tcpstate_pct": ov_mine, "tcpstates_pct": ov_peer})
        self.rows_floor(runs, base, ov_mine)

    def rows_floor(self, runs, base, ov_mine):
        """Reference tracers in the same rounds: where the 5% target sits for any tracer that
        runs on these hooks, and how much of tcpstate's overhead is its own work."""
        for mode in ("hooks", "ring"):
            rates = [r["rate"] for r in runs.get(mode, [])]
            if not rates:
                continue
            ov = overhead(rates, base)
            label, note = FLOOR_ROWS[mode]
            full = sum_or_none(r.get("lost") for r in runs[mode]) if mode == "ring" else None
            self.row(label, fmt_pct(ov_mine) + " (tcpstate)", fmt_pct(ov) + f" ({mode})",
                     ratio_pos(ov_mine, ov), "-", None,
                     f"{note}; per round, %: {spread(per_round(rates, base))}"
                     + (f"; records that found the ring full: {fmt_num(full)}" if full is not None
                        else ""),
                     {"overhead_pct": ov, "runs": rates, "full": full})

    def rows_cost(self, runs, via, peer):
        """CPU per connection at a fixed rate that leaves CPU to spare (steadier than
        throughput)."""
        a = self.args
        if not runs.get("none@rate"):
            return

        def costs(cfg, key="us_per_conn"):
            return [r.get(key) for r in runs.get(cfg, [])]

        base = costs("none@rate")
        mine, theirs = costs("tcpstate@rate"), costs("tcpstates@rate")
        cov_mine = median(per_round_cost(mine, base))
        cov_peer = median(per_round_cost(theirs, base)) if peer else None
        other = median([100 * r["other_load"] for r in
                        runs["none@rate"] + runs["tcpstate@rate"] + runs.get("tcpstates@rate", [])
                        if r.get("other_load") is not None])
        proc_mine = median(costs("tcpstate@rate", "tracer_us_per_conn"))
        proc_peer = median(costs("tcpstates@rate", "tracer_us_per_conn"))
        self.row(f"   CPU us per connection at {fmt_num(a.loss_rate)}/s",
                 fmt_f(median(mine), 2) + via,
                 fmt_f(median(base), 2) + " (none)", ratio(median(mine), median(base)), "-", None,
                 f"{a.rate_rounds} rounds of {a.churn_seconds}s at --rate {a.loss_rate}: CPU time "
                 "of churn (rusage; includes the softirq work and BPF programs run in its "
                 "context) + "
                 "ksoftirqd + the tracer process, / connections. The tracer process's own share: "
                 f"tcpstate {fmt_f(proc_mine, 2)} us"
                 + (f", tcpstates {fmt_f(proc_peer, 2)} us (tcpstates total "
                    f"{fmt_f(median(theirs), 2)} us)" if peer else "") +
                 f"; the rest of the increase runs in the kernel. Other load on the host: "
                 f"{fmt_pct_plain(other)} of the machine (median)",
                 {"tcpstate_us": median(mine), "baseline_us": median(base),
                  "tcpstates_us": median(theirs), "tcpstate_process_us": proc_mine,
                  "tcpstates_process_us": proc_peer})
        self.row("   CPU overhead per connection", fmt_pct(cov_mine) + via,
                 fmt_pct(cov_peer) + " (tcpstates)" if peer else "n/a (no tcpstates)",
                 ratio_pos(cov_mine, cov_peer), "<= 5% and < tcpstates",
                 met_target(cov_mine, cov_peer),
                 "cost_with/cost_without - 1 of the same round, median (per round, %: tcpstate "
                 f"{spread(per_round_cost(mine, base))}"
                 + (f"; tcpstates {spread(per_round_cost(theirs, base))}" if peer else "") + ")",
                 {"tcpstate_pct": cov_mine, "tcpstates_pct": cov_peer})
        self.rows_floor_cost(runs, base, cov_mine)

    def rows_floor_cost(self, runs, base, cov_mine):
        """The reference tracers' CPU overhead per connection at the same fixed rate: the part of
        the 5% budget that any tracer on these hooks, or any streaming one, spends before doing
        anything of its own."""
        for mode in ("hooks", "ring"):
            costs = [r.get("us_per_conn") for r in runs.get(mode + "@rate", [])]
            if not costs:
                continue
            rounds = per_round_cost(costs, base)
            self.row(FLOOR_ROWS[mode][0], fmt_pct(cov_mine) + " (tcpstate)",
                     fmt_pct(median(rounds)) + f" ({mode})", ratio_pos(cov_mine, median(rounds)),
                     "-", None,
                     f"CPU overhead per connection of the {mode} reference (see above) in the same "
                     f"fixed-rate rounds: {fmt_f(median(costs), 2)} us per connection; per round, "
                     f"%: {spread(rounds)}",
                     {"overhead_pct": median(rounds), "us_per_conn": median(costs),
                      "runs": costs})

    def rows_bpf(self, runs, via, peer):
        """In-kernel cost per event and per connection from the kernel's BPF run-time stats."""
        def figures(cfg):
            rs = runs.get(cfg)
            if not rs or not rs[0].get("bpf"):
                return None, None, ""
            b, conns = rs[0]["bpf"], rs[0]["churn"]["connections"]
            ns, n = sum(x["ns"] for x in b.values()), sum(x["runs"] for x in b.values())
            detail = ", ".join(f"{k} {v['ns'] / v['runs']:.0f} ns x {v['runs'] / conns:.1f}"
                               for k, v in sorted(b.items(), key=lambda kv: -kv[1]["ns"]))
            return ns / n if n else None, ns / conns / 1000 if conns else None, detail

        per_run, per_conn, detail = figures("tcpstate@bpf")
        if per_run is None:
            return
        per_run_p, per_conn_p, detail_p = figures("tcpstates@bpf")
        self.row("   BPF run time per program run", f"{per_run:.0f} ns" + via,
                 f"{per_run_p:.0f} ns (tcpstates)" if per_run_p else "n/a",
                 ratio(per_run, per_run_p), "-", None,
                 f"kernel BPF stats (BPF_ENABLE_STATS) over one {self.args.churn_seconds}s run "
                 f"each at --rate {self.args.loss_rate}; per program: run time x runs per "
                 f"connection: tcpstate {detail}" + (f"; tcpstates {detail_p}" if detail_p else ""),
                 {"tcpstate_ns": per_run, "tcpstates_ns": per_run_p})
        self.row("   BPF run time per connection", f"{per_conn:.2f} us" + via,
                 f"{per_conn_p:.2f} us (tcpstates)" if per_conn_p else "n/a",
                 ratio(per_conn, per_conn_p), "-", None,
                 "the same, summed over the tracer's programs / connections made (stats add a "
                 "little time of their own)",
                 {"tcpstate_us": per_conn, "tcpstates_us": per_conn_p})

    def rows_loss(self, runs, via, peer):
        a = self.args
        for cfg, label, note in (
                ("", "events lost at max churn",
                 "all max-rate runs; tcpstate: tcpstate_events_lost_total delta (serve) or JSON "
                 "'lost'; tcpstates: sum of its 'lost N events on CPU' lines; 'of N' = events seen "
                 "(tcpstates: printed) + lost; events are host-wide (other work included)"),
                ("@rate", f"events lost at {fmt_num(a.loss_rate)} conn/s",
                 f"all fixed-rate runs (--rate {a.loss_rate}): CPU to spare, so a consumer that "
                 "keeps up loses nothing")):
            if not runs.get("tcpstate" + cfg):
                continue
            lost = sum_or_none(r.get("lost") for r in runs["tcpstate" + cfg])
            seen = sum_or_none(r.get("events") for r in runs["tcpstate" + cfg])
            audits = sum_or_none(r.get("audits") for r in runs["tcpstate" + cfg])
            lost_p = sum_or_none(r.get("lost") for r in runs.get("tcpstates" + cfg, []))
            seen_p = sum_or_none(r.get("events") for r in runs.get("tcpstates" + cfg, []))
            self.row("   " + label, fmt_lost(lost, seen) + via,
                     fmt_lost(lost_p, seen_p) + " (tcpstates)" if peer else "n/a", "-", "0",
                     lost == 0 if lost is not None else None,
                     note + (f"; tcpstate audits during these runs: {audits:.0f}"
                             if audits is not None else ""),
                     {"tcpstate_lost": lost, "tcpstate_seen": seen, "tcpstates_lost": lost_p,
                      "tcpstates_printed": seen_p})
            fills = [r["peak_fill"] for r in runs["tcpstate" + cfg]
                     if r.get("peak_fill") is not None]
            if fills:
                self.row("     peak ring buffer fill", f"{100 * max(fills):.0f}%" + via, "-", "-",
                         "-", None, "the fullest any ring was when tcpstate's reader came to it "
                         "(tcpstate_ringbuf_peak_fill_ratio), worst run; per run: " +
                         ", ".join(f"{100 * f:.0f}%" for f in fills) + "; 100% loses events",
                         {"peak_fill_max": max(fills), "peak_fill_runs": fills})

    def replay(self):
        path = os.path.join(os.path.dirname(self.churn), "replay")
        if not os.access(path, os.X_OK):
            log(f"{path} is missing: no replay figure (build it with `make bench`)")
            return None
        r = run([path], timeout=300, check=False)
        for line in r.stdout.splitlines():
            if line.startswith("{"):
                return json.loads(line)
        log(f"replay printed no figure: {r.stderr.strip()[-200:]}")
        return None

    def rows_memory(self, runs, rss, tw, via, peer):
        ev_mine = sum_or_none(r.get("events") for r in runs["tcpstate"])
        ev_peer = sum_or_none(r.get("events") for r in runs.get("tcpstates", []))
        cpu_mine = sum_or_none(r.get("cpu") for r in runs["tcpstate"])
        cpu_peer = sum_or_none(r.get("cpu") for r in runs.get("tcpstates", []))
        per_m = cpu_mine / ev_mine * 1e6 if cpu_mine is not None and ev_mine else None
        per_m_peer = cpu_peer / ev_peer * 1e6 if cpu_peer is not None and ev_peer else None
        self.row("3. CPU s per 1M events (user+sys)", fmt_f(per_m, 3) + via,
                 fmt_f(per_m_peer, 3) + " (tcpstates)" if peer else "n/a", ratio(per_m, per_m_peer),
                 "< 0.5", per_m < 0.5 if per_m is not None else None,
                 "utime+stime from /proc/<pid>/stat around the max-rate churn runs, / events "
                 "counted by the tool (tcpstates: lines printed); at the fixed rate: tcpstate "
                 f"{fmt_f(cpu_per_mevent(runs.get('tcpstate@rate')), 3)}, tcpstates "
                 f"{fmt_f(cpu_per_mevent(runs.get('tcpstates@rate')), 3)} (fewer events per "
                 "wakeup)", {"tcpstate": per_m, "tcpstates": per_m_peer})
        rp = self.replay()
        if rp:
            self.row("   user-space ns per event, replayed", fmt_f(rp["ns_per_event"], 1), "-",
                     "-", "-", None,
                     f"build/bench/replay: the tracker alone fed {fmt_num(rp['connections'])} "
                     f"loopback connections (11 events each) with {fmt_num(rp['timewait'])} "
                     "TIME_WAIT sockets alive, no kernel; wall time, median of "
                     f"{rp['rounds']} (steadier than the live figure: compare builds with it)",
                     rp)
        hwm = max(x for x in [rss.get("hwm_end_kib"), rss.get("hwm_kib")] +
                  [r.get("hwm_kib") for r in runs["tcpstate"] + runs.get("tcpstate@rate", [])]
                  if x)
        self.row("   peak RSS (VmHWM)", f"{hwm / 1024:.1f} MiB" + via, "-", "-", "-", None,
                 "highest VmHWM of tcpstate over all phases (churn and 100k sockets)",
                 {"kib": hwm})
        bps = rss.get("bytes_per_socket")
        self.row(f"   RSS per tracked socket ({fmt_num(rss.get('dsockets'))} sockets)",
                 fmt_f(bps, 0) + " B" + via,
                 f"{rss['rss0_kib'] / 1024:.1f} -> {rss['rss1_kib'] / 1024:.1f} MiB", "-",
                 "< 200 B", bps < 200 if bps is not None else None,
                 f"VmRSS delta after {HOLD_PAIRS} established loopback pairs were opened in a "
                 "private netns / tracked-socket delta ("
                 + ("tcpstate_table_sockets)" if self.serve_ok else "sockets made)"),
                 {"bytes": bps, "rss0_kib": rss["rss0_kib"], "rss1_kib": rss["rss1_kib"],
                  "sockets_delta": rss.get("dsockets")})
        st = rss.get("snapshot_table") or {}
        if st.get("sockets"):
            self.row("   table bytes per socket (snapshot JSON)",
                     f"{st['bytes'] / st['sockets']:.0f} B",
                     f"{st['bytes'] / 1048576:.1f} MiB / {fmt_num(st['sockets'])}", "-", "-", None,
                     "snapshot JSON table.bytes / table.sockets with the same 100k sockets present",
                     {"bytes": st["bytes"] / st["sockets"], **st})

    def rows_scrape_audit(self, tw):
        a = self.args
        na = "n/a (serve not available)"
        sc = tw["scrapes"]
        twn = tw.get("tw_large_before")
        t_mine = median(sc["tcpstate"]["times"]) if "tcpstate" in sc else None
        label = f"4. /metrics scrape, {fmt_num(twn)} TIME_WAIT"
        if "node_exporter" in sc:
            t_ne = median(sc["node_exporter"]["times"])
            self.row(label, fmt_ms(t_mine) if self.serve_ok else na,
                     fmt_ms(t_ne) + " (node_exporter)", ratio(t_mine, t_ne), "< 10 ms",
                     t_mine < 0.010 if t_mine is not None else None,
                     f"median of {a.scrapes} GETs (new connection each, 1 warm-up) with "
                     "http.client; node_exporter --collector.tcpstat only, in the sockets' netns",
                     {"tcpstate_s": t_mine, "node_exporter_s": t_ne,
                      "node_exporter_time_wait": sc["node_exporter"].get("time_wait"),
                      "tcpstate_table_sockets": sc.get("tcpstate_table_sockets")})
        else:
            self.row(label, fmt_ms(t_mine) if self.serve_ok else na, "n/a (no node_exporter)",
                     "-", "< 10 ms", t_mine < 0.010 if t_mine is not None else None, "",
                     {"tcpstate_s": t_mine})
        t_ss = median(sc["ss_s"]["times"])
        t_tan = median(sc["ss_tan"]["times"])
        self.row("   vs ss -s", fmt_ms(t_mine) if self.serve_ok else na, fmt_ms(t_ss) + " (ss -s)",
                 ratio(t_mine, t_ss), "-", None, "ss -s run in the netns, fork+exec included",
                 {"tcpstate_s": t_mine, "ss_s_s": t_ss})
        self.row("   vs full sock_diag dump (ss -tan)", fmt_ms(t_mine) if self.serve_ok else na,
                 fmt_ms(t_tan) + f" ({fmt_num(sc['ss_tan']['lines'] - 1)} lines)",
                 ratio(t_mine, t_tan), "-", None, "ss -tan in the netns, output read to the end",
                 {"tcpstate_s": t_mine, "ss_tan_s": t_tan})
        for key, ss_key, label, tw_n in (
                ("audit_small", "ss_small", "5. sock_diag audit", tw.get("tw_small")),
                ("audit_large", None, "   sock_diag audit", tw.get("tw_large_before"))):
            au = tw[key]
            t_au = median([x["audit_s"] for x in au])
            n = median([x["sockets"] for x in au])
            t_ss = median(tw[ss_key]["times"]) if ss_key else t_tan
            self.row(f"{label}, {fmt_num(n)} sockets", fmt_ms(t_au) +
                     f" ({t_au / n * 1e6:.2f} us/sock)" if t_au and n else "n/a",
                     fmt_ms(t_ss) + " (ss -tan)", ratio(t_au, t_ss), "-", None,
                     f"audit.last_seconds of `tcpstate snapshot --json --duration 0.2`, median of "
                     f"{len(au)}; sockets = its table.sockets over all namespaces, of which "
                     f"{fmt_num(tw_n)} TIME_WAIT in the test netns; ss -tan dumps the test netns "
                     "only",
                     {"audit_s": t_au, "sockets": n, "ss_tan_s": t_ss})

    # -- output ----------------------------------------------------------------------------

    def print_report(self, cond, started):
        print("tcpstate benchmark" + (" (--quick)" if self.args.quick else ""))
        for k in ("nproc", "cpu", "memory", "kernel", "loadavg", "tcpstate", "tcpstate_tracer",
                  "tcpstates", "node_exporter"):
            v = cond[k]
            print(f"  {k:16s} {' '.join(v) if isinstance(v, list) else v}")
        if float(cond["loadavg"][0]) > 0.5:
            print(f"  {'note':16s} the host was not idle at the start (load average "
                  f"{cond['loadavg'][0]}): throughput rows are noisy; CPU per connection less so")
        if cond["netns_present"]:
            print(f"  {'other netns':16s} {cond['netns_present']} present before the run "
                  "(other work on this host may add noise)")
        print()
        cols = ("metric", "tcpstate", "peer/baseline", "ratio", "target")
        lines = []
        for r in self.rows:
            tgt = r["target"]
            if r["met"] is not None:
                tgt += "  met" if r["met"] else "  MISSED"
            lines.append((r["label"], r["tcpstate"], r["peer"], r["ratio"], tgt))
        w = [max(len(str(x)) for x in col) for col in zip(cols, *lines)]
        print("  ".join(c.ljust(x) for c, x in zip(cols, w)) + "  note")
        print("  ".join("-" * x for x in w) + "  ----")
        for i, vals in enumerate(lines, 1):
            print("  ".join(str(v).ljust(x) for v, x in zip(vals, w)) + f"  [{i}]")
        if not self.serve_ok:
            print("  * measured with a long `tcpstate snapshot` (same BPF programs and tracker) "
                  "because serve was not used")
        print()
        print("How measured:")
        for i, r in enumerate(self.rows, 1):
            if r["note"]:
                print(f"  [{i}] {r['note']}")
        tw = self.raw.get("timewait", {})
        print(f"  TIME_WAIT in the test netns: {tw.get('tw_small')} at the 10k point, "
              f"{tw.get('tw_large_before')} -> {tw.get('tw_large_after')} during the 100k point "
              f"(they expire 60 s after creation; the 100k point ended "
              f"{tw.get('seconds_since_first_tw', 0):.0f} s after the first ones)")
        ratio_note = ("ratio = tcpstate / peer (or / baseline); < 1 means tcpstate is lower "
                      "(faster, cheaper)")
        print(f"  {ratio_note}")
        print(f"  load average after: {' '.join(open('/proc/loadavg').read().split()[:3])}; "
              f"total {time.monotonic() - started:.0f} s")

    def write_json(self, cond):
        os.makedirs(os.path.dirname(self.json_path), exist_ok=True)
        with open(self.json_path, "w") as f:
            json.dump({"conditions": cond, "options": vars(self.args), "rows": self.rows,
                       "raw": strip_metrics(self.raw)}, f, indent=1, default=str)
        print(f"  figures also in {os.path.relpath(self.json_path, os.getcwd())}")


def strip_metrics(o):
    if isinstance(o, dict):
        return {k: strip_metrics(v) for k, v in o.items() if k != "metrics"}
    if isinstance(o, list):
        return [strip_metrics(v) for v in o]
    return o


def first_line(r):
    return (r.stdout + r.stderr).strip().split("\n")[0]


def sum_or_none(xs):
    xs = list(xs)
    return None if not xs or any(x is None for x in xs) else sum(xs)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}"


def cpu_per_mevent(rs):
    """CPU seconds of the tracer per million events over runs rs."""
    cpu = sum_or_none(r.get("cpu") for r in rs or [])
    ev = sum_or_none(r.get("events") for r in rs or [])
    return cpu / ev * 1e6 if cpu is not None and ev else None


def per_round(with_rates, base):
    """Throughput overhead % of each round: 1 - with/without."""
    return [100.0 * (1 - w / b) for w, b in zip(with_rates, base) if w and b]


def per_round_cost(with_costs, base):
    """CPU overhead % of each round: cost_with/cost_without - 1."""
    return [100.0 * (w / b - 1) for w, b in zip(with_costs, base) if w and b]


def overhead(with_rates, base):
    return median(per_round(with_rates, base))


def spread(xs):
    return ", ".join(f"{x:+.0f}" for x in xs)


def met_target(mine, peer):
    """<= 5% and lower than the peer's (when the peer was measured)."""
    if mine is None:
        return None
    return mine <= 5 and (peer is None or mine < peer)


def ratio_pos(a, b):
    """Ratio of two overheads, only where both are positive (else it means nothing)."""
    return ratio(a, b) if a is not None and b is not None and a > 0 and b > 0 else "-"


def fmt_num(x):
    return "n/a" if x is None else f"{x:,.0f}"


def fmt_pct(x):
    return "n/a" if x is None else f"{x:+.1f}%"


def fmt_pct_plain(x):
    return "n/a" if x is None else f"{x:.0f}%"


def fmt_f(x, d):
    return "n/a" if x is None else f"{x:.{d}f}"


def fmt_ms(x):
    return "n/a" if x is None else f"{x * 1000:.2f} ms"


def fmt_lost(lost, seen):
    """lost of all (seen + lost) events, with the share lost."""
    if lost is None:
        return "n/a"
    if seen is None:
        return f"{lost:,.0f}"
    total = seen + lost
    return f"{lost:,.0f} of {total:,.0f} ({100 * lost / total:.1f}%)" if total else "0 of 0"


def parse_args(argv):
    ap = argparse.ArgumentParser(description="tcpstate benchmarks: prints one table of figures "
                                 "measured side by side with peers (never pass/fail).")
    ap.add_argument("--build", default="build", help="build directory (default build)")
    ap.add_argument("--quick", action="store_true", help="a ~1 minute version")
    ap.add_argument("--rounds", type=int,
                    help="churn rounds per configuration (default 5, --quick 3)")
    ap.add_argument("--churn-seconds", type=float,
                    help="seconds per churn run (default 6, --quick 2)")
    ap.add_argument("--threads", type=int, default=8 * (os.cpu_count() or 2),
                    help="churn client threads (default 8 x nproc: keeps every CPU busy even "
                    "while a thread waits 1 s on a dropped SYN)")
    ap.add_argument("--server-threads", type=int, default=2 * (os.cpu_count() or 2),
                    help="churn server threads (default 2 x nproc)")
    ap.add_argument("--sources", type=int, default=32,
                    help="churn source addresses (default 32: enough 4-tuples that connect()'s "
                    "port search stays short with 262144 TIME_WAIT sockets)")
    ap.add_argument("--rate", type=int, default=0, help="churn rate, 0 = as fast as possible")
    ap.add_argument("--loss-rate", type=int, default=10_000,
                    help="fixed churn rate (conn/s) of the CPU-per-connection and loss runs; "
                    "0 = skip them")
    ap.add_argument("--rate-rounds", type=int,
                    help="rounds at the fixed rate (default 3, --quick 2)")
    ap.add_argument("--scrapes", type=int, help="scrapes per exporter (default 20)")
    ap.add_argument("--tracer", choices=("auto", "snapshot"), default="auto",
                    help="tcpstate process under test: auto = serve if it works, else a long "
                    "`snapshot` (same BPF programs and tracker, no /metrics)")
    ap.add_argument("--json", help="where to write the figures (default BUILD/bench/results.json)")
    ap.add_argument("--scrape", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--time-cmd", type=int, metavar="N", help=argparse.SUPPRESS)
    ap.add_argument("cmd", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    a.rounds = a.rounds or (3 if a.quick else 5)
    a.churn_seconds = a.churn_seconds or (2 if a.quick else 6)
    a.scrapes = a.scrapes or (10 if a.quick else 20)
    a.audits = 2 if a.quick else 3
    a.rate_rounds = a.rate_rounds or (2 if a.quick else 3)
    return a


def main(argv):
    a = parse_args(argv)
    if a.scrape:
        helper_scrape(a.scrape[0], int(a.scrape[1]))
        return 0
    if a.time_cmd:
        helper_time_cmd(a.time_cmd, a.cmd)
        return 0

    def on_term(sig, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    b = Bench(a)
    try:
        b.check_tools()
        cond = b.conditions()
        log(f"tracer under test: tcpstate {b.tracer_kind}; rounds {a.rounds} x "
            f"{a.churn_seconds}s churn")
        runs = b.phase_churn()
        rss, tw = b.phase_sockets()
        b.build_rows(runs, rss, tw)
        b.print_report(cond, started)
        b.write_json(cond)
    except BenchError as e:
        print(f"run_bench: cannot run: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("run_bench: interrupted", file=sys.stderr)
        return 1
    finally:
        JANITOR.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
