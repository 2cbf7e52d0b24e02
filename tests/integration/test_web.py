# SPDX-License-Identifier: GPL-2.0-only
"""`tcpstate serve` as an exporter-toolkit exporter: the --web.* flags, the standard process_*
metrics, TLS and basic auth from --web.config.file (with a real Prometheus scraping over https),
connection limits against idle and slowloris clients, and the capabilities left after start."""
import os
import re
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
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


# ---- connection limits: idle and slowloris clients do not keep a scrape out ---------------------

IDLE_CONNS = 1000
IDLE_SOURCES = 20    # 127.0.0.2 .. 127.0.0.21, 50 connections each (under the per-IP limit)
SLOWLORIS = 5
CONN_TIMEOUT = 4


def connect_from(src, addr, timeout=5):
    host, port = addr.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((host, int(port)))
    s.setblocking(False)
    return s


def closed_by_peer(s):
    """True when the server has closed s (EOF or reset); False while it is open and silent."""
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def timed_scrape(addr):
    t0 = time.monotonic()
    status, _, body = ts.http_get(addr, "/metrics")
    return status, time.monotonic() - t0, body


def test_idle_and_slowloris_connections_do_not_block_a_scrape():
    """1,000 idle connections (more than --web.max-connections 512) and slowloris clients
    sending a header byte every second: a scrape still answers within 3 s, the server keeps
    at most 512 connections (those idle longest make room), the per-address limit holds, and
    after --web.connection-timeout every idle and slowloris connection is closed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    srv, addr = start_web_serve(["--web.connection-timeout", str(CONN_TIMEOUT)])
    idle, slow, stop = [], [], threading.Event()
    try:
        t0 = time.monotonic()
        for i in range(IDLE_CONNS):
            idle.append(connect_from(f"127.0.0.{2 + i % IDLE_SOURCES}", addr))
        for i in range(SLOWLORIS):
            s = connect_from("127.0.0.30", addr)
            s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append([s, None])

        def drip():  # one header byte a second on every slowloris connection
            while not stop.wait(1):
                for entry in slow:
                    if entry[1] is None:
                        try:
                            entry[0].send(b"a")
                        except OSError:
                            entry[1] = time.monotonic()
        threading.Thread(target=drip, daemon=True).start()
        opened = time.monotonic() - t0
        time.sleep(0.5)
        open_now = sum(not closed_by_peer(s) for s in idle)
        if not 400 <= open_now <= 512:
            raise AssertionError(f"expected 400-512 of {IDLE_CONNS} idle connections still "
                                 f"open with --web.max-connections 512 (the rest closed to "
                                 f"make room), got {open_now}")
        for _ in range(3):
            status, took, body = timed_scrape(addr)
            if status != 200 or took > 3:
                raise AssertionError(f"expected a scrape to answer 200 within 3 s beside "
                                     f"{open_now} idle and {SLOWLORIS} slowloris connections, "
                                     f"got {status} after {took:.1f}s")
        # one address is held to --web.max-connections-per-ip (64)
        flood = [connect_from("127.0.0.40", addr) for _ in range(80)]
        lib.wait_until(lambda: sum(closed_by_peer(s) for s in flood) >= 16, timeout=5,
                       what="connections past the per-address limit to be closed")
        kept = sum(not closed_by_peer(s) for s in flood)
        if kept > 64:
            raise AssertionError(f"expected at most 64 of 80 connections from one address to "
                                 f"stay open, got {kept}")
        for s in flood:
            s.close()

        def all_closed():
            return all(closed_by_peer(s) for s in idle) and \
                all(e[1] is not None or closed_by_peer(e[0]) for e in slow)
        lib.wait_until(all_closed, timeout=CONN_TIMEOUT + 4, interval=0.2,
                       what=f"idle and slowloris connections to be closed "
                            f"(--web.connection-timeout {CONN_TIMEOUT})")
        took = time.monotonic() - t0 - opened
        if took < CONN_TIMEOUT - 1.5:
            raise AssertionError(f"expected the slowloris connections to last about "
                                 f"{CONN_TIMEOUT} s, they were closed after {took:.1f}s")
        status, took, _ = timed_scrape(addr)
        expect_eq(status, 200, "scrape status after the idle connections were closed")
    finally:
        stop.set()
        for s in idle + [e[0] for e in slow]:
            s.close()
    expect_eq(srv.stop(), 0, "exit status of tcpstate serve after SIGTERM")


# ---- --web.config.file: TLS and basic auth ------------------------------------------------------

WEB_USER, WEB_PASS = "prometheus", "s3cret:with colon"


def make_web_config(tmp, users=True):
    """A self-signed certificate for 127.0.0.1 (openssl), a bcrypt hash (htpasswd) and the
    exporter-toolkit web config naming them with relative paths; returns its path."""
    lib.sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=tcpstate-test",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", os.path.join(tmp, "key.pem"), "-out", os.path.join(tmp, "cert.pem")])
    line = lib.sh(["htpasswd", "-nbB", "-C", "10", WEB_USER, WEB_PASS]).stdout.strip()
    user, _, hashed = line.partition(":")
    cfg = os.path.join(tmp, "web.yml")
    with open(cfg, "w") as f:
        f.write("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n")
        if users:
            f.write(f"basic_auth_users:\n  {user}: '{hashed}'\n")
    return cfg


def curl(url, *args):
    """(HTTP status or 0 when no HTTP answer, curl's exit status, headers and body)."""
    p = subprocess.run(["curl", "-s", "-S", "-D", "-", "--max-time", "5", *args, url],
                       capture_output=True, timeout=30)
    # label values are other processes' names, which need not be UTF-8
    out = p.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
    m = re.match(r"HTTP/\S+ (\d+)", out)
    return (int(m.group(1)) if m else 0), p.returncode, out


def test_tls_and_basic_auth_with_curl_and_prometheus():
    """serve with --web.config.file: https without credentials and with a wrong password gets
    401 with WWW-Authenticate, the right one 200 with metrics (promtool passes), plain http to
    the TLS port gets no HTTP answer, and a real Prometheus scraping with scheme https, ca_file
    and basic_auth sees the target up."""
    tmp = tempfile.mkdtemp(prefix="tcpstate_web_")
    try:
        cfg = make_web_config(tmp)
        addr = f"127.0.0.1:{ts.free_port()}"
        srv = lib.tcpstate(["serve", "--listen", addr, "--web.config.file", cfg])
        if not any(f"serving https://{addr}/metrics" in l for l in srv.err_lines):
            raise AssertionError(f"expected a 'serving https://{addr}/metrics' line, got "
                                 f"{srv.err_lines}")
        url, ca = f"https://{addr}/metrics", ["--cacert", os.path.join(tmp, "cert.pem")]
        status, _, out = curl(url, *ca)
        expect_eq(status, 401, "status of https without credentials")
        if 'www-authenticate: basic realm="tcpstate"' not in out.lower():
            raise AssertionError(f"expected WWW-Authenticate: Basic in the 401, got {out!r}")
        status, _, _ = curl(url, *ca, "-u", f"{WEB_USER}:wrong")
        expect_eq(status, 401, "status with a wrong password")
        status, _, _ = curl(url, *ca, "-u", f"nobody:{WEB_PASS}")
        expect_eq(status, 401, "status with an unknown user")
        status, rc, out = curl(url, *ca, "-u", f"{WEB_USER}:{WEB_PASS}")
        expect_eq((status, rc), (200, 0), "status and curl exit with the right password")
        body = out.split("\n\n", 1)[1]
        if "tcpstate_build_info{" not in body or "process_open_fds " not in body:
            raise AssertionError(f"expected the metrics in the 200, got {body[:300]!r}")
        ts.promtool_check(body, "scrape over https")
        status, rc, out = curl(f"http://{addr}/metrics", "-u", f"{WEB_USER}:{WEB_PASS}")
        if status != 0 or rc == 0:
            raise AssertionError(f"expected plain http to the TLS port to get no HTTP answer, "
                                 f"got status {status}, curl exit {rc}: {out[:200]!r}")
        prom_proc, prom = start_prometheus_https(addr, tmp)
        q = f'up{{job="{ts.PROM_JOB}"}}'
        last = []

        def up():
            last[:] = [ts.prom_scalar(prom, q)]
            return last[0] == 1.0
        try:
            lib.wait_until(up, timeout=30, interval=0.5, what=q)
        except AssertionError:
            _, _, tbody = ts.http_get(prom, "/api/v1/targets")
            raise AssertionError(f"expected {q} == 1 within 30 s, got {last[0]}; targets "
                                 f"{tbody[:600]}") from None
        n = ts.prom_scalar(prom, f'count(process_start_time_seconds{{job="{ts.PROM_JOB}"}})')
        expect_eq(n, 1.0, "process_start_time_seconds series scraped by Prometheus")
        expect_eq(prom_proc.stop(), 0, "exit status of prometheus after SIGTERM")
        expect_eq(srv.stop(), 0, "exit status of tcpstate serve after SIGTERM")
    finally:
        lib.cleanup_all()
        shutil.rmtree(tmp, ignore_errors=True)


def start_prometheus_https(target, tmp):
    """Prometheus scraping target with scheme https, the test certificate as CA and basic
    auth, configured through a config file that start_prometheus() reads."""
    pw = os.path.join(tmp, "password")
    with open(pw, "w") as f:
        f.write(WEB_PASS)
    extra = (f"    scheme: https\n    tls_config:\n      ca_file: {tmp}/cert.pem\n"
             f"    basic_auth:\n      username: {WEB_USER}\n      password_file: {pw}\n")
    return ts.start_prometheus(target, tmp, extra)


BAD_WEB_CONFIGS = [
    ("unknown key", "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
     "  cert_fil: x\n", r'line 4: unknown key "cert_fil" in tls_server_config'),
    ("bad YAML", "basic_auth_users: [\n", r"line 2: "),
    ("plain password", "basic_auth_users:\n  prom: secret\n",
     r"basic_auth_users\.prom: expected a bcrypt hash"),
    ("missing key file", "tls_server_config:\n  cert_file: cert.pem\n  key_file: nope.pem\n",
     r"tls_server_config\.key_file \S+/nope\.pem: No such file or directory"),
    ("key of another certificate",
     "tls_server_config:\n  cert_file: cert.pem\n  key_file: other.pem\n", r"do not match"),
]


def test_bad_web_config_files():
    """Each bad web config gives exit status 2 and one line naming the file and the key,
    before any BPF program is loaded; so does an unreadable file."""
    tmp = tempfile.mkdtemp(prefix="tcpstate_webbad_")
    try:
        make_web_config(tmp, users=False)
        lib.sh(["openssl", "genpkey", "-algorithm", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-out", os.path.join(tmp, "other.pem")])
        cases = BAD_WEB_CONFIGS + [("missing file", None, r"cannot read web config \S+/none"
                                                          r"\.yml: No such file")]
        for what, text, rx in cases:
            cfg = os.path.join(tmp, "none.yml" if text is None else "bad.yml")
            if text is not None:
                with open(cfg, "w") as f:
                    f.write(text)
            p = lib.sh([lib.tcpstate_bin(), "serve", "--listen", "127.0.0.1:0",
                        "--web.config.file", cfg], check=False)
            lines = p.stderr.strip().splitlines()
            expect_eq((p.returncode, len(lines)), (2, 1),
                      f"{what}: exit status and stderr lines (stderr {p.stderr!r})")
            if not re.search(rx, lines[0]) or cfg not in lines[0]:
                raise AssertionError(f"{what}: expected one line naming {cfg} and matching "
                                     f"/{rx}/, got {lines[0]!r}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- least privilege ----------------------------------------------------------------------------

CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_BPF = 2, 19, 21, 39


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def cap_bits(mask):
    v = int(mask, 16)
    return {b for b in range(64) if v >> b & 1}


def expected_caps():
    keep = {CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_ADMIN}
    with open("/proc/sys/kernel/unprivileged_bpf_disabled") as f:
        unpriv_off = f.read().strip() != "0"
    if unpriv_off and (5, 8) <= lib.KERNEL < (6, 5):
        keep.add(CAP_BPF)
    return keep


def test_capabilities_dropped_after_start_and_audits_still_work():
    """After start serve keeps only CAP_SYS_ADMIN, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (and
    CAP_BPF on kernels before 6.5 with unprivileged BPF off) in CapEff, CapPrm and CapBnd, none
    inheritable or ambient, with NoNewPrivs; audits and listener samples of a network namespace
    created after the drop still succeed (setns), and the metrics are complete. --keep-caps
    keeps everything."""
    srv, addr = start_web_serve(["--audit-interval", "1"])
    st = proc_status(srv.p.pid)
    want = expected_caps()
    got = {k: cap_bits(st[k]) for k in ("CapEff", "CapPrm", "CapBnd")}
    for k, bits in got.items():
        if bits != want:
            raise AssertionError(f"expected {k} of serve to be {sorted(want)}, got "
                                 f"{sorted(bits)} ({st[k]})")
    expect_eq((st["CapInh"], st["CapAmb"], st["NoNewPrivs"]),
              ("0000000000000000", "0000000000000000", "1"),
              "CapInh, CapAmb and NoNewPrivs of serve")
    ns = lib.Netns("webcaps")
    lk = lib.tcpwork(ns, ["leak-close-wait", "--count", "3"])
    lk.wait_line(r"LEAKED n=3", timeout=30)
    audits0 = ts.value(ts.parse_samples(ts.scrape(addr)[1]), "tcpstate_audits_total")
    time.sleep(2.5 * lib.TIME_SCALE)  # two audits at --audit-interval 1
    body = ts.scrape(addr)[1]
    s = ts.parse_samples(body)
    if ts.value(s, "tcpstate_audits_total") < audits0 + 2:
        raise AssertionError(f"expected two more audits after 2.5 s, got "
                             f"{ts.value(s, 'tcpstate_audits_total')} from {audits0}")
    bad = [l for l in srv.err_lines if "cannot dump" in l or "cannot" in l]
    if bad:
        raise AssertionError(f"expected no audit failures after the drop, got {bad}")
    expect_eq(ts.value(s, "tcpstate_netns_sockets", netns=str(ns.inode), state="close_wait"),
              3.0, "CLOSE_WAIT sockets of the new namespace")
    # listener samples read each namespace's counters at every scrape
    ov = ts.series(s, "tcpstate_netns_listen_overflows_total", netns=str(ns.inode))
    if not ov:
        raise AssertionError(f"expected the listen counters of namespace {ns.inode} after the "
                             f"drop, got none")
    ts.promtool_check(body, "scrape after the capability drop")
    expect_eq(ts.http_get(addr, "/healthz")[:3:2], (200, "ok\n"), "/healthz after the drop")
    expect_eq(srv.stop(), 0, "exit status of tcpstate serve after SIGTERM")
    mine = cap_bits(proc_status(os.getpid())["CapEff"])
    srv, addr = start_web_serve(["--keep-caps"])
    expect_eq(cap_bits(proc_status(srv.p.pid)["CapEff"]), mine,
              "CapEff of serve --keep-caps (the test's own)")
    expect_eq(srv.stop(), 0, "exit status of tcpstate serve --keep-caps after SIGTERM")
