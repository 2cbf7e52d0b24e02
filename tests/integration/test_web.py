# SPDX-License-Identifier: GPL-2.0-only
"""`tcpstate serve` as an exporter-toolkit exporter: the --web.* flags, the standard process_*
metrics, TLS and basic auth from --web.config.file (with a real Prometheus scraping over https),
connection limits against idle and slowloris clients, and the capabilities left after start."""
import os
import re
import time

import lib
import test_serve as ts
from lib import expect_eq

PROCESS_FAMILIES = {
    "process_cpu_seconds_total": "counter",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
}


def start_web_serve(extra=(), path="/metrics"):
    """serve started with the --web.* spellings; returns (Proc, "127.0.0.1:PORT")."""
    addr = f"127.0.0.1:{ts.free_port()}"
    p = lib.tcpstate(["serve", "--web.listen-address", addr] + list(extra))
    want = f"serving http://{addr}{path} "
    if not any(want in line for line in p.err_lines):
        raise AssertionError(f"expected a line with {want!r}, got {p.err_lines}")
    return p, addr


def test_process_metrics_and_web_flags():
    """--web.listen-address and --web.telemetry-path work as --listen and the path; the six
    process_* families come with the client libraries' HELP and TYPE, sane values, and the
    exposition passes promtool."""
    started = time.time()
    srv, addr = start_web_serve(["--web.telemetry-path", "/x/metrics"], path="/x/metrics")
    status, _, body = ts.http_get(addr, "/x/metrics")
    expect_eq(status, 200, "status of /x/metrics")
    expect_eq(ts.http_get(addr, "/metrics")[0], 404, "status of /metrics when moved")
    ts.promtool_check(body, "scrape with process_* metrics")
    for fam, typ in PROCESS_FAMILIES.items():
        if not re.search(rf"^# HELP {fam} \S", body, re.M) or \
                f"\n# TYPE {fam} {typ}\n" not in body:
            raise AssertionError(f"expected HELP and TYPE {typ} lines for {fam}")
    s = ts.parse_samples(body)
    v = {fam: ts.value(s, fam) for fam in PROCESS_FAMILIES}
    pid = srv.p.pid
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    if not 0 < v["process_open_fds"] <= v["process_max_fds"] or \
            abs(v["process_open_fds"] - fds) > 8:
        raise AssertionError(f"expected process_open_fds near {fds} (ls /proc/{pid}/fd) and "
                             f"at most process_max_fds, got {v}")
    with open(f"/proc/{pid}/status") as f:
        rss_kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    if not 0.5 < v["process_resident_memory_bytes"] / (rss_kb * 1024) < 2:
        raise AssertionError(f"expected process_resident_memory_bytes near VmRSS {rss_kb} kB, "
                             f"got {v['process_resident_memory_bytes']}")
    if v["process_virtual_memory_bytes"] < v["process_resident_memory_bytes"]:
        raise AssertionError(f"expected virtual memory >= resident, got {v}")
    if not started - 30 < v["process_start_time_seconds"] < time.time() + 1:
        raise AssertionError(f"expected process_start_time_seconds just before {started}, "
                             f"got {v['process_start_time_seconds']}")
    if not 0 < v["process_cpu_seconds_total"] < 60:
        raise AssertionError(f"expected a few CPU seconds at most, got {v}")
    expect_eq(srv.stop(), 0, "exit status of tcpstate serve after SIGTERM")
