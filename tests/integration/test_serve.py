# SPDX-License-Identifier: GPL-2.0-only
"""`tcpstate serve`: the exporter as Prometheus sees it. Real scrapes under a workload pass
`promtool check metrics` and carry no duplicate series, a real Prometheus server scrapes the
CLOSE_WAIT count of a namespace, bad --listen values and a busy port give one clear line, SIGTERM
detaches every program, the HTTP endpoints answer as documented and the cardinality limits fold
what does not fit into "other" without losing counts."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import lib
from lib import Netns, expect_eq

HTTP_TIMEOUT = 5
TRACKED_PROGS = ("set_state_btf", "accept4_exit", "retransmit_btf")
OPENMETRICS_ACCEPT = "application/openmetrics-text; version=1.0.0"


# ---- helpers ---------------------------------------------------------------------------------

def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(extra=()):
    """tcpstate serve on a free loopback port; returns (Proc, "127.0.0.1:PORT")."""
    addr = f"127.0.0.1:{free_port()}"
    p = lib.tcpstate(["serve", "--listen", addr] + list(extra))
    for line in p.err_lines:
        m = re.search(r"serving http://(\S+)/metrics", line)
        if m:
            expect_eq(m.group(1), addr, "address in the ready line")
            return p, addr
    raise AssertionError(f"expected a 'serving http://{addr}/metrics' line, got {p.err_lines}")


def http_get(addr, path, headers=None, method="GET"):
    """(status, headers dict with lower-case names, body text) of one request."""
    host, port = addr.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=HTTP_TIMEOUT)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def scrape(addr, accept=None):
    status, hdrs, body = http_get(addr, "/metrics", {"Accept": accept} if accept else None)
    expect_eq(status, 200, f"status of /metrics (body {body[:200]!r})")
    return hdrs, body


LABEL_RX = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
SAMPLE_RX = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$")


def parse_samples(text):
    """[(name, ((label, value), ...) in exposition order, float value)] of every sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RX.match(line)
        if not m:
            raise AssertionError(f"expected a sample line, got {line!r}")
        labels = tuple(LABEL_RX.findall(m.group(2) or ""))
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def series(samples, name, **match):
    """[(labels dict, value)] of samples of name whose labels include every match item."""
    res = []
    for n, labels, v in samples:
        d = dict(labels)
        if n == name and all(d.get(k) == want for k, want in match.items()):
            res.append((d, v))
    return res


def value(samples, name, **match):
    got = series(samples, name, **match)
    if len(got) != 1:
        raise AssertionError(f"expected one {name} series with {match}, got {got}")
    return got[0][1]


def promtool_check(body, what):
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError(f"{what}: expected promtool check metrics to exit 0, got "
                             f"{p.returncode}: {(p.stdout + p.stderr).strip()[:3000]}")


def duplicate_series(samples):
    seen, dups = set(), []
    for n, labels, _ in samples:
        key = (n, tuple(sorted(labels)))
        if key in seen:
            dups.append(f"{n}{{{','.join(f'{k}={v!r}' for k, v in labels)}}}")
        seen.add(key)
    return dups


def ready_port(p):
    return int(p.wait_line(r"READY pid=\d+ port=(\d+)", timeout=15).group(1))


def wait_exit(p, timeout):
    deadline = time.monotonic() + timeout
    while p.p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if p.p.poll() is None:
        raise AssertionError(f"{p.argv} did not exit within {timeout}s")
    time.sleep(0.1)  # let the pump threads read the last lines
    return p.p.returncode


# ---- 1. promtool accepts real scrapes; OpenMetrics when asked -----------------------------------

def start_mixed_workload(ns):
    """Churn (both closers, resets), a CLOSE_WAIT leak, TIME_WAIT over IPv4 and IPv6; returns the
    churn processes, which end with a DONE line (the leaker holds its sockets until cleanup)."""
    procs = []
    # a 10 ms pace keeps the churn running through several scrapes; under emulation a scrape
    # and its promtool check take many times longer than the connections do
    pace = str(round(10 * lib.TIME_SCALE ** 2))
    srv = lib.tcpwork(ns, ["server", "--port", "0", "--count", "400", "--close", "client-first"])
    port = ready_port(srv)
    srv2 = lib.tcpwork(ns, ["server", "--port", "0", "--count", "100", "--close", "server-first"])
    port2 = ready_port(srv2)
    procs += [srv, srv2,
              lib.tcpwork(ns, ["client", "--port", str(port), "--count", "300",
                               "--interval-ms", pace]),
              lib.tcpwork(ns, ["client", "--port", str(port), "--count", "100", "--close", "rst",
                               "--interval-ms", pace]),
              lib.tcpwork(ns, ["client", "--port", str(port2), "--count", "100", "--close",
                               "server-first", "--interval-ms", pace])]
    lk = lib.tcpwork(ns, ["leak-close-wait", "--count", "5"])
    lk.wait_line(r"LEAKED n=5", timeout=30)
    for addr in ("127.0.0.1", "::1"):
        tw = lib.tcpwork(ns, ["time-wait", "--addr", addr, "--count", "10"])
        tw.wait_line(r"^DONE n=10", timeout=30)
    return procs


def check_openmetrics(hdrs, body):
    ctype = hdrs.get("content-type", "")
    if not ctype.startswith("application/openmetrics-text") or "version=1.0.0" not in ctype:
        raise AssertionError(f"expected Content-Type application/openmetrics-text; "
                             f"version=1.0.0, got {ctype!r}")
    if not body.endswith("# EOF\n"):
        raise AssertionError(f"expected the OpenMetrics body to end with '# EOF\\n', got "
                             f"{body[-60:]!r}")
    expect_eq(body.count("# EOF"), 1, "'# EOF' lines in the OpenMetrics body")
    for line in body.splitlines():
        m = re.match(r"# TYPE (\S+) counter$", line)
        if m and m.group(1).endswith("_total"):
            raise AssertionError(f"OpenMetrics counter family names carry no _total suffix, "
                                 f"got {line!r}")
    if "tcpstate_sockets{" not in body:
        raise AssertionError("expected tcpstate_sockets samples in the OpenMetrics body")


def test_promtool_accepts_real_scrape_under_workload():
    ns = Netns("srvprom")
    srv, addr = start_serve(["--audit-interval", "1"])
    procs = start_mixed_workload(ns)
    during = 0
    deadline = time.monotonic() + 60 * lib.TIME_SCALE
    while time.monotonic() < deadline and any(p.p.poll() is None for p in procs):
        hdrs, body = scrape(addr)
        if not hdrs.get("content-type", "").startswith("text/plain; version=0.0.4"):
            raise AssertionError(f"expected Content-Type text/plain; version=0.0.4, got "
                                 f"{hdrs.get('content-type')!r}")
        during += 1
        promtool_check(body, f"scrape {during} during the churn")
        if during == 1:
            hdrs, body = scrape(addr, accept=OPENMETRICS_ACCEPT)
            check_openmetrics(hdrs, body)
        time.sleep(0.2)
    if during < 3:
        raise AssertionError(f"expected at least 3 scrapes while the churn ran, got {during}")
    for p in procs:
        p.wait_line(r"^DONE", timeout=30)
    time.sleep(0.3)
    body = scrape(addr)[1]
    promtool_check(body, "scrape after the workload")
    cw = value(parse_samples(body), "tcpstate_netns_sockets", netns=str(ns.inode),
               state="close_wait")
    expect_eq(cw, 5.0, f"CLOSE_WAIT sockets of namespace {ns.inode} after the churn")
    # The reader found records waiting (it drains in batches), never a full ring.
    fill = value(parse_samples(body), "tcpstate_ringbuf_peak_fill_ratio")
    if fill is None or not 0 < fill < 1:
        raise AssertionError(f"expected tcpstate_ringbuf_peak_fill_ratio in (0, 1) after the "
                             f"churn, got {fill}")
    expect_eq(srv.stop(), 0, "exit status of tcpstate serve after SIGTERM")


# ---- 1b. every series appears once ---------------------------------------------------------------

REUSEPORT_LISTENERS = r"""
import socket, sys, time
port = int(sys.argv[1])
socks = []
for _ in range(2):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    socks.append(s)
print("READY", flush=True)
time.sleep(60)
"""


def test_every_series_appears_once():
    """Two namespaces with TIME_WAIT towards the same 127.0.0.1:PORT (as every pod of a service
    has) and two SO_REUSEPORT listeners of one process on one port (as nginx workers have) are
    different sockets; the exposition must still not repeat a label set (Prometheus drops
    duplicate samples of one scrape)."""
    a, b = Netns("srvdupa"), Netns("srvdupb")
    # No folding: other tests' TIME_WAIT on this host must not push ours out of the top N.
    srv, addr = start_serve(["--max-remotes", "100000", "--max-processes", "100000"])
    port = 5555  # private namespaces: the port is free in both
    for ns, n in ((a, 3), (b, 2)):
        tw = lib.tcpwork(ns, ["time-wait", "--port", str(port), "--count", str(n)])
        tw.wait_line(rf"^DONE n={n}", timeout=30)
    rp = lib.Proc(a.cmd(["python3", "-c", REUSEPORT_LISTENERS, str(port + 1)]))
    rp.wait_line(r"^READY", timeout=15)
    time.sleep(0.5)
    body = scrape(addr)[1]
    # ss, not 5: a connect() may take over an older TIME_WAIT's tuple (tcp_tw_reuse on loopback
    # once a second has passed, which happens under emulation)
    want = sum(ns.ss_states().get("time_wait", 0) for ns in (a, b))
    s = parse_samples(body)
    got = sum(v for _, v in series(s, "tcpstate_netns_sockets", state="time_wait")
              if _["netns"] in (str(a.inode), str(b.inode)))
    expect_eq(got, float(want), "TIME_WAIT sockets in the two namespaces, as ss counts them")
    dups = duplicate_series(s)
    if dups:
        families = sorted({d.split("{")[0] for d in dups})
        mine = [d for d in dups if f"port='{port}'" in d or f"port='{port + 1}'" in d
                or f":{port}'" in d]
        raise AssertionError(f"expected every series once, got {len(dups)} repeated in "
                             f"{families}; those of this test: {sorted(set(mine))}")
    expect_eq(srv.stop(), 0, "exit status of tcpstate serve after SIGTERM")


# ---- 2. a real Prometheus server -----------------------------------------------------------------

PROM_JOB = "tcpstate_test"


def prom_query(prom, q):
    status, _, body = http_get(prom, "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
    if status != 200:
        raise AssertionError(f"Prometheus query {q!r}: expected status 200, got {status}: {body}")
    return json.loads(body)["data"]["result"]


def prom_scalar(prom, q):
    res = prom_query(prom, q)
    return float(res[0]["value"][1]) if len(res) == 1 else None


def start_prometheus(target, tmp, job_extra=""):
    """Prometheus scraping target every second (job_extra: more lines of the job, e.g. the
    scheme and auth); returns (Proc, "127.0.0.1:PORT") once it is ready."""
    port = free_port()
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                f"scrape_configs:\n  - job_name: {PROM_JOB}\n{job_extra}"
                f"    static_configs:\n      - targets: ['{target}']\n")
    p = lib.Proc(["prometheus", f"--config.file={cfg}",
                  f"--storage.tsdb.path={os.path.join(tmp, 'data')}",
                  f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
    prom = f"127.0.0.1:{port}"

    def ready():
        if p.p.poll() is not None:
            raise AssertionError(f"prometheus exited with {p.p.returncode}: {p.err_lines[-5:]}")
        try:
            return http_get(prom, "/-/ready")[0] == 200
        except OSError:
            return False
    lib.wait_until(ready, timeout=30, interval=0.2, what="Prometheus to be ready")
    return p, prom


def test_prometheus_server_scrapes_close_wait_count():
    ns = Netns("srvprom2")
    srv, addr = start_serve()
    tmp = tempfile.mkdtemp(prefix="tcpstate_prom_")
    try:
        prom_proc, prom = start_prometheus(addr, tmp)
        lk = lib.tcpwork(ns, ["leak-close-wait", "--count", "5"])
        pid = lk.wait_line(r"READY pid=(\d+)").group(1)
        lk.wait_line(r"LEAKED n=5", timeout=30)
        q = f'tcpstate_netns_sockets{{netns="{ns.inode}",state="close_wait"}}'
        last = []

        def five():
            last[:] = [prom_scalar(prom, q)]
            return last[0] == 5.0
        try:
            lib.wait_until(five, timeout=30, interval=0.5, what=q)
        except AssertionError:
            raise AssertionError(f"expected Prometheus to return 5 for {q} within 30 s, got "
                                 f"{last[0]}") from None
        up = prom_scalar(prom, f'up{{job="{PROM_JOB}"}}')
        expect_eq(up, 1.0, f'up{{job="{PROM_JOB}"}}')
        total = prom_scalar(prom, 'sum(tcpstate_process_sockets{comm="tcpwork",'
                                  'state="close_wait"})')
        if total is None or total < 5:
            raise AssertionError(f"expected at least 5 CLOSE_WAIT sockets of comm tcpwork in "
                                 f"Prometheus (pid {pid} leaks 5), got {total}")
        status, _, body = http_get(prom, "/api/v1/targets")
        targets = [t for t in json.loads(body)["data"]["activeTargets"]
                   if t["labels"].get("job") == PROM_JOB]
        got = [(t["health"], t["lastError"]) for t in targets]
        expect_eq(got, [("up", "")], "health and last error of the scrape target")
        expect_eq(prom_proc.stop(), 0, "exit status of prometheus after SIGTERM")
        lk.stop()
    finally:
        lib.cleanup_all()  # prometheus must be gone before its data directory is removed
        shutil.rmtree(tmp, ignore_errors=True)


# ---- 3., 4. bad --listen values and a busy port --------------------------------------------------

BAD_LISTEN = ["nope", "127.0.0.1:99999", "1.2.3.4.5:80", "[::1", ":", "host:"]


def run_serve(listen, timeout=20):
    start = time.monotonic()
    p = subprocess.run([lib.tcpstate_bin(), "serve", "--listen", listen], capture_output=True,
                       text=True, timeout=timeout)
    return p, time.monotonic() - start


def test_bad_listen_values():
    for v in BAD_LISTEN:
        p, _ = run_serve(v)
        lines = p.stderr.strip().splitlines()
        got = (p.returncode, len(lines))
        expect_eq(got, (2, 1), f"exit status and stderr lines of serve --listen {v!r} "
                               f"(stderr {p.stderr!r})")
        if v not in lines[0] or "--listen" not in lines[0]:
            raise AssertionError(f"serve --listen {v!r}: expected the line to name --listen "
                                 f"and the value, got {lines[0]!r}")
        if "libbpf" in p.stderr or "serving" in p.stderr:
            raise AssertionError(f"serve --listen {v!r}: expected no libbpf text and no "
                                 f"serving line, got {p.stderr!r}")


def test_port_in_use():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        p, took = run_serve(f"127.0.0.1:{port}")
    lines = p.stderr.strip().splitlines()
    if p.returncode == 0 or took > 5:
        raise AssertionError(f"expected a non-zero exit within 5 s on a busy port, got "
                             f"{p.returncode} after {took:.1f}s (stderr {p.stderr!r})")
    expect_eq(len(lines), 1, f"stderr lines on a busy port ({p.stderr!r})")
    if "Address already in use" not in lines[0] or str(port) not in lines[0] or \
            "--listen" not in lines[0]:
        raise AssertionError(f"expected one line naming the port, 'Address already in use' and "
                             f"the --listen remedy, got {lines[0]!r}")
    if "libbpf" in p.stderr:
        raise AssertionError(f"expected no libbpf text on a busy port, got {p.stderr!r}")


# ---- 5. SIGTERM detaches everything --------------------------------------------------------------

def bpf_progs():
    """{prog id: name} of every BPF program loaded on the host."""
    p = lib.sh(["bpftool", "-j", "prog", "show"])
    return {pr["id"]: pr.get("name", "") for pr in json.loads(p.stdout or "[]")}


def count_tracked(progs):
    return {n: sum(1 for v in progs.values() if v == n) for n in TRACKED_PROGS}


def test_sigterm_leaves_no_programs():
    """Other tcpstate instances may come and go on this host while the test runs, so the check
    is on the program ids this instance holds: each must be gone after SIGTERM."""
    before = count_tracked(bpf_progs())
    srv, addr = start_serve()
    progs = bpf_progs()
    mine = {i: progs[i] for i in lib.bpf_prog_ids_of(srv.p.pid) if i in progs}
    during = count_tracked(progs)
    for n in TRACKED_PROGS:
        if n not in mine.values():
            raise AssertionError(f"expected program {n} held by tcpstate serve (pid "
                                 f"{srv.p.pid}), got {sorted(mine.values())}")
        if during[n] < 1:
            raise AssertionError(f"expected bpftool to list {n} while serving, got {during}")
    scrape(addr)
    expect_eq(srv.stop(signal.SIGTERM), 0, "exit status of tcpstate serve after SIGTERM")
    if not any(l.startswith("tcpstate: stopped;") for l in srv.err_lines):
        raise AssertionError(f"expected a 'tcpstate: stopped;' line, got {srv.err_lines}")
    left = {}

    def gone():
        now = bpf_progs()
        left.clear()
        left.update({i: n for i, n in mine.items() if i in now})
        return not left
    try:
        lib.wait_until(gone, timeout=5, interval=0.1, what="programs to be unloaded")
    except AssertionError:
        raise AssertionError(f"expected none of the programs of pid {srv.p.pid} after SIGTERM, "
                             f"got {left} (counts before {before}, during {during}, after "
                             f"{count_tracked(bpf_progs())})") from None


# ---- 6. /healthz, / and unknown paths ------------------------------------------------------------

def test_healthz_and_index():
    srv, addr = start_serve()
    status, hdrs, body = http_get(addr, "/healthz")
    expect_eq((status, body.strip()), (200, "ok"), "status and body of /healthz")
    status, hdrs, body = http_get(addr, "/")
    expect_eq(status, 200, "status of /")
    if not hdrs.get("content-type", "").startswith("text/html"):
        raise AssertionError(f"expected / to be text/html, got {hdrs.get('content-type')!r}")
    if not re.search(r"<a href=\"/metrics\">", body):
        raise AssertionError(f"expected / to link /metrics, got {body!r}")
    status, _, body = http_get(addr, "/nope")
    expect_eq(status, 404, f"status of /nope (body {body!r})")
    status, hdrs, _ = http_get(addr, "/metrics", method="POST")
    expect_eq((status, hdrs.get("allow")), (405, "GET, HEAD"), "status and Allow of POST /metrics")
    status, _, body = http_get(addr, "/metrics", method="HEAD")
    expect_eq((status, body), (200, ""), "status and body of HEAD /metrics")


# ---- 7. cardinality limits -----------------------------------------------------------------------

TW_COUNTS = (6, 3, 2)  # TIME_WAIT sockets towards each of three remote endpoints
N_LEAKERS = 4


def named_groups(s, family):
    return {(d["comm"], d["cgroup"], d.get("pid")) for d, _ in series(s, family)
            if d["comm"] not in ("other", "unknown")}


def test_cardinality_limits():
    ns = Netns("srvcard")
    srv, addr = start_serve(["--max-processes", "2", "--max-remotes", "1", "--pid-label"])
    pids = []
    for _ in range(N_LEAKERS):  # one pid each: with --pid-label four process groups
        lk = lib.tcpwork(ns, ["leak-close-wait", "--count", "1"])
        pids.append(lk.wait_line(r"READY pid=(\d+)").group(1))
        lk.wait_line(r"LEAKED n=1", timeout=30)
    ports = []
    for n in TW_COUNTS:
        tw = lib.tcpwork(ns, ["time-wait", "--count", str(n)])
        ports.append(ready_port(tw))
        tw.wait_line(rf"^DONE n={n}", timeout=30)
    time.sleep(0.5)
    s = parse_samples(scrape(addr)[1])

    tw = series(s, "tcpstate_time_wait_sockets")
    named = [(d["remote"], v) for d, v in tw if d["remote"] != "other"]
    other = [v for d, v in tw if d["remote"] == "other"]
    expect_eq((len(named), len(other)), (1, 1),
              f"named and 'other' tcpstate_time_wait_sockets series ({tw})")
    # The per-remote series count active opens' TIME_WAIT: on a host where something else
    # closes server sockets first (another suite, a scrape) the host total is larger. Folding
    # must keep every one of ours, and the namespace's own count must equal ss.
    total = value(s, "tcpstate_sockets", state="time_wait")
    folded_sum = named[0][1] + other[0]
    if not sum(TW_COUNTS) <= folded_sum <= total:
        raise AssertionError(f"named ({named[0]}) plus other TIME_WAIT series: {folded_sum}, "
                             f"expected between this test's {sum(TW_COUNTS)} and the host's "
                             f"{total}")
    expect_eq(value(s, "tcpstate_netns_sockets", netns=str(ns.inode), state="time_wait"),
              float(ns.ss_states().get("time_wait", 0)), "TIME_WAIT of the namespace vs ss")
    if named[0][1] < TW_COUNTS[0]:
        raise AssertionError(f"expected the named remote to be the busiest (at least "
                             f"{TW_COUNTS[0]} sockets), got {named[0]}")
    if other[0] < sum(TW_COUNTS[1:]):
        raise AssertionError(f"expected remote=\"other\" to hold at least the "
                             f"{sum(TW_COUNTS[1:])} sockets of the two smaller remotes, "
                             f"got {other[0]}")
    ratios = series(s, "tcpstate_time_wait_port_range_ratio")
    expect_eq(len(ratios), 1, f"tcpstate_time_wait_port_range_ratio series ({ratios})")
    folded = value(s, "tcpstate_series_folded", family="time_wait_remote")
    if folded <= 0:
        raise AssertionError(f"expected tcpstate_series_folded{{family="
                             f"\"time_wait_remote\"}} > 0, got {folded}")

    for fam in ("tcpstate_process_sockets", "tcpstate_close_wait_oldest_seconds"):
        groups = named_groups(s, fam)
        if len(groups) > 2:
            raise AssertionError(f"expected at most 2 named process groups in {fam} with "
                                 f"--max-processes 2, got {sorted(groups)}")
    if not series(s, "tcpstate_process_sockets", comm="other"):
        raise AssertionError(f"expected comm=\"other\" series with {N_LEAKERS} leaking pids "
                             f"{pids} and --max-processes 2, got groups "
                             f"{named_groups(s, 'tcpstate_process_sockets')}")
    for d, _ in series(s, "tcpstate_process_sockets"):
        if d["comm"] not in ("other", "unknown") and "pid" not in d:
            raise AssertionError(f"expected a pid label on named groups with --pid-label, "
                                 f"got {d}")
    cw = sum(v for _, v in series(s, "tcpstate_process_sockets", state="close_wait"))
    expect_eq(cw, value(s, "tcpstate_sockets", state="close_wait"),
              "CLOSE_WAIT summed over process groups (named and other) vs all CLOSE_WAIT")
    folded = value(s, "tcpstate_series_folded", family="process")
    if folded <= 0:
        raise AssertionError(f"expected tcpstate_series_folded{{family=\"process\"}} > 0, "
                             f"got {folded}")
    expect_eq(value(s, "tcpstate_netns_sockets", netns=str(ns.inode), state="close_wait"),
              float(N_LEAKERS), f"CLOSE_WAIT sockets of namespace {ns.inode}")
    expect_eq(srv.stop(), 0, "exit status of tcpstate serve after SIGTERM")
