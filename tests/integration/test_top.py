# SPDX-License-Identifier: GPL-2.0-only
"""`tcpstate top` in a real terminal (tmux) against a running `serve`: a CLOSE_WAIT leaker in a
private namespace is at the top once sorted by CLOSE_WAIT and filtered to its namespace, with the
count `ss` shows; the listeners view shows an accept-queue overflow as `ss` does; --batch frames;
the /api/v1/snapshot document against `snapshot --json`; clear errors without a terminal, with an
unknown TERM and with an unreachable agent."""
import json
import os
import re
import shutil
import subprocess
import time

import lib
from lib import Netns, expect_eq
from test_serve import free_port, http_get, start_serve

N_CW = 7          # CLOSE_WAIT sockets the leaker holds
N_ESTAB = 4       # ESTABLISHED pairs of the busy (but healthy) processes


def tcpstate_abs():
    return os.path.abspath(lib.tcpstate_bin())


class Tmux:
    """A tmux server of our own (-L), one 200x50 session running a command."""

    def __init__(self, command, env=None):
        if not shutil.which("tmux"):
            raise AssertionError("tmux is not installed (scripts/deps.sh --test installs it)")
        self.sock = f"tcpst_top_{os.getpid()}_{time.monotonic_ns()}"
        lib.sh(["tmux", "-L", self.sock, "-f", "/dev/null", "new-session", "-d", "-s", "top",
                "-x", "200", "-y", "50"] + ([f"env {env} {command}"] if env else [command]))

    def keys(self, *keys):
        lib.sh(["tmux", "-L", self.sock, "send-keys", "-t", "top"] + list(keys))

    def screen(self):
        return lib.sh(["tmux", "-L", self.sock, "capture-pane", "-p", "-t", "top"],
                      check=False).stdout

    def wait_screen(self, fn, what, timeout=15):
        last = [""]

        def look():
            last[0] = self.screen()
            return fn(last[0])
        try:
            return lib.wait_until(look, timeout=timeout, interval=0.2, what=what)
        except AssertionError as e:
            raise AssertionError(f"{e}; the screen:\n{last[0]}") from None

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


def table(screen, title_start):
    """Rows (lists of fields) below the column-title line that starts with title_start."""
    lines = screen.splitlines()
    for i, l in enumerate(lines):
        if l.strip().startswith(title_start):
            rows = []
            for r in lines[i + 1:]:
                if not r.strip() or r.startswith(("q quit", "Filter (")):
                    break
                rows.append(r.split())
            return rows
    return None


def start_world():
    """serve, and in a private namespace: a CLOSE_WAIT leaker, a busy healthy pair and a listener
    whose accept queue overflows. Returns a dict of what the checks need."""
    srv, addr = start_serve(["--audit-interval", "5"])
    ns = Netns("top")
    lk = lib.tcpwork(ns, ["leak-close-wait", "--count", str(N_CW)])
    leak_pid = int(lk.wait_line(r"READY pid=(\d+)").group(1))
    lk.wait_line(rf"LEAKED n={N_CW}", timeout=30)
    busy = lib.tcpwork(ns, ["server", "--port", "0", "--count", str(N_ESTAB),
                            "--close", "client-first", "--hold-ms", "120000"])
    bport = int(busy.wait_line(r"READY pid=\d+ port=(\d+)").group(1))
    bcli = lib.tcpwork(ns, ["client", "--port", str(bport), "--count", str(N_ESTAB),
                            "--hold-ms", "120000"])
    busy.wait_line(rf"ACCEPTED n={N_ESTAB}", timeout=30)
    ov = lib.tcpwork(ns, ["server", "--port", "0", "--backlog", "2", "--accept", "none",
                          "--hold-ms", "300000"])
    oport = int(ov.wait_line(r"READY pid=\d+ port=(\d+)").group(1))
    lib.tcpwork(ns, ["client", "--port", str(oport), "--count", "10", "--hold-ms", "60000",
                     "--connect-timeout-ms", "2500"])

    def overflowed():
        out = ns.exec(["ss", "-Hltnm", f"sport = :{oport}"]).stdout
        m = re.search(r"d(\d+)\)", out)
        f = out.split()
        return (int(f[1]), int(f[2]), int(m.group(1))) if m and int(f[1]) == 3 and \
            int(m.group(1)) > 0 else None
    lib.wait_until(overflowed, timeout=20, what="the accept queue to overflow (ss)")
    return {"serve": srv, "addr": addr, "ns": ns, "leak_pid": leak_pid, "oport": oport,
            "bcli": bcli}


def ss_close_wait(ns):
    return len(ns.exec(["ss", "-tanH", "state", "close-wait"]).stdout.splitlines())


def ss_listener(ns, port):
    out = ns.exec(["ss", "-Hltnm", f"sport = :{port}"]).stdout
    f = out.split()
    return int(f[1]), int(f[2]), int(re.search(r"d(\d+)\)", out).group(1))


def test_top_in_tmux_sorted_filtered_against_ss():
    w = start_world()
    ns = w["ns"]
    url = f"http://{w['addr']}"
    t = Tmux(f"{tcpstate_abs()} top --from {url} -d 0.5")
    try:
        t.wait_screen(lambda s: "Sockets:" in s and table(s, "PID"), "the first frame")
        # the default sort is ESTAB: the busy pair comes before the leaker
        t.keys("c")
        t.wait_screen(lambda s: "Sort: CLOSE_WAIT" in s, "sort by CLOSE_WAIT")
        t.keys("/")
        t.keys("-l", f"netns:{ns.inode}")
        t.keys("Enter")
        want = ss_close_wait(ns)
        expect_eq(want, N_CW, "CLOSE_WAIT sockets in the namespace (ss)")

        def leaker_on_top(s):
            rows = table(s, "PID")
            if f"Filter: netns:{ns.inode}" not in s or not rows:
                return None
            return rows if rows[0][0] == str(w["leak_pid"]) and rows[0][3] == str(want) else None
        rows = t.wait_screen(leaker_on_top, f"pid {w['leak_pid']} first with {want} CLOSE_WAIT")
        expect_eq(rows[0][1], "tcpwork", "comm of the top row")
        expect_eq({r[1] for r in rows}, {"tcpwork"},
                  "commands shown with the namespace filter (only the workload's)")
        closes = [int(r[3]) for r in rows]
        expect_eq(closes, sorted(closes, reverse=True), "CLOSE_WAIT column sorted, largest first")
        expect_eq(ss_close_wait(ns), want, "CLOSE_WAIT sockets in the namespace (ss, after)")
        # the listeners view: the overflowing listener, with the queue and drops ss shows
        t.keys("l")

        def overflow_row(s):
            rows = table(s, "LISTEN")
            for r in rows or []:
                if r[0].endswith(f":{w['oport']}"):
                    return r
            return None
        r = t.wait_screen(overflow_row, f"the listener on port {w['oport']}")
        aq, limit, drops = ss_listener(ns, w["oport"])
        expect_eq((int(r[2]), int(r[3])), (aq, limit), "ACCEPTQ and LIMIT vs ss Recv-Q/Send-Q")
        expect_eq((aq, limit), (3, 2), "the overflowing queue (ss)")
        if int(r[6]) <= 0 or int(r[6]) > drops:
            raise AssertionError(f"expected DROPS in 1..{drops} (ss d{drops}), got row {r}")
        # sorting by HIGH then pausing and quitting
        t.keys("h")
        t.wait_screen(lambda s: "Sort: HIGH" in s, "sort by HIGH")
        t.keys("Space")
        t.wait_screen(lambda s: "[PAUSED]" in s, "the paused mark")
        t.keys("?")
        t.wait_screen(lambda s: "tcpstate top: keys" in s, "the help screen")
        t.keys("Escape")
        t.keys("q")
        t.wait_screen(lambda s: "Sockets:" not in s, "top to quit")
    finally:
        t.close()


def test_top_batch_frames_and_local_tracer():
    w = start_world()
    ns = w["ns"]
    args = ["top", "--batch", "-n", "2", "-d", "0.5", "--sort", "close_wait", "--filter",
            f"netns:{ns.inode}"]
    p = lib.sh([tcpstate_abs()] + args + ["--from", f"http://{w['addr']}"], timeout=30)
    frames = [f for f in p.stdout.split("tcpstate top - ") if f.strip()]
    expect_eq(len(frames), 2, f"frames printed with -n 2 (output {p.stdout[:2000]!r})")
    for i, f in enumerate(frames):
        rows = table(f, "PID")
        expect_eq((rows[0][0], rows[0][3]), (str(w["leak_pid"]), str(N_CW)),
                  f"frame {i + 1}: leaker pid and CLOSE_WAIT first")
    rows = table(frames[1], "PID")
    if any(r[6] == "-" for r in rows):
        raise AssertionError(f"expected rates in the second frame, got {rows}")
    if "Events: -" not in frames[0] or "Events: -" in frames[1]:
        raise AssertionError(f"expected events/s only from the second frame: {frames}")
    # without an agent to read, top traces on its own and sees the same
    p = lib.sh([tcpstate_abs()] + args[:3] + ["1"] + args[4:] + ["--local"], timeout=60)
    rows = table(p.stdout, "PID")
    expect_eq((rows[0][0], rows[0][3]) if rows else None, (str(w["leak_pid"]), str(N_CW)),
              f"--local: leaker first (output {p.stdout[:1500]!r})")
    if "local tracer" not in p.stdout:
        raise AssertionError(f"expected the source to say local tracer: {p.stdout[:300]!r}")


def test_snapshot_endpoint_is_the_snapshot_json_document():
    w = start_world()
    ns = w["ns"]
    status, hdrs, body = http_get(w["addr"], "/api/v1/snapshot")
    expect_eq(status, 200, "status of /api/v1/snapshot")
    expect_eq(hdrs.get("content-type"), "application/json", "content type")
    api = json.loads(body)
    local = json.loads(lib.sh([tcpstate_abs(), "snapshot", "--json", "-d", "0.5"],
                              timeout=60).stdout)
    expect_eq(api["api_version"], 1, "api_version")
    expect_eq(sorted(api), sorted(local), "top-level keys: endpoint vs snapshot --json")
    for key in ("by_state", "audit", "table"):
        expect_eq(sorted(api[key]), sorted(local[key]), f"keys of {key}")

    def proc(doc, pid):
        return next(p for p in doc["processes"] if p["pid"] == pid)

    a, b = proc(api, w["leak_pid"]), proc(local, w["leak_pid"])
    expect_eq(sorted(a), sorted(b), "keys of a process entry")
    for k in ("comm", "cgroup", "unit", "container", "pod", "netns", "states"):
        expect_eq(a[k], b[k], f"leaker's {k}: endpoint vs snapshot --json")

    def ns_states(doc):
        return next(n["states"] for n in doc["namespaces"] if n["netns"] == ns.inode)
    expect_eq(ns_states(api), ns_states(local), "the namespace's sockets by state")
    expect_eq(a["netns"], ns.inode, "the leaker's network namespace")
    # snapshot --from prints the agent's document itself
    via = json.loads(lib.sh([tcpstate_abs(), "snapshot", "--from", f"http://{w['addr']}",
                             "--json"], timeout=30).stdout)
    expect_eq(sorted(via), sorted(api), "snapshot --from --json: the endpoint's keys")
    expect_eq(sorted(proc(via, w["leak_pid"])), sorted(a), "snapshot --from: a process entry")
    expect_eq(ns_states(via), ns_states(api), "snapshot --from: the namespace's sockets")


def test_top_errors():
    srv, addr = start_serve()
    top = tcpstate_abs()
    cases = [
        ([top, "top", "--from", f"http://{addr}"], 2, r"needs a terminal .*--batch"),
        ([top, "top", "--batch", "-n", "1", "--from", f"http://127.0.0.1:{free_port()}"], 1,
         r"cannot read http://127\.0\.0\.1:\d+/api/v1/snapshot: Couldn't connect"),
        ([top, "top", "--batch", "-n", "1", "--from", f"http://{addr}/metrics"], 1,
         r"not JSON"),
        ([top, "top", "--batch", "--from", "ftp://x"], 2, r"invalid --from value 'ftp://x'"),
        ([top, "top", "--batch", "--filter", "port:x"], 2, r"invalid filter 'port:x'"),
        ([top, "top", "--batch", "--sort", "nope"], 2, r"invalid --sort value 'nope'"),
        ([top, "top", "-d", "0"], 2, r"invalid --delay value '0'"),
        ([top, "snapshot", "--from", f"http://127.0.0.1:{free_port()}"], 1, r"cannot read"),
    ]
    for argv, rc, rx in cases:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=30)
        lines = p.stderr.strip().splitlines()
        if p.returncode != rc or len(lines) != 1 or not re.search(rx, lines[0]):
            raise AssertionError(f"{argv[1:]}: expected exit {rc} and one line /{rx}/, got exit "
                                 f"{p.returncode}, stderr {p.stderr!r}")
    # an unknown terminal type, in a real terminal
    t = Tmux(f"sh -c '{top} top --from http://{addr}; echo rc=$?; sleep 60'",
             env="TERM=doesnotexist")
    try:
        s = t.wait_screen(lambda s: s if "rc=" in s else None, "top to exit")
        if "unknown terminal type 'doesnotexist'" not in s or "rc=2" not in s:
            raise AssertionError(f"expected an unknown-terminal message and rc=2, got:\n{s}")
    finally:
        t.close()
