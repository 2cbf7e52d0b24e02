# SPDX-License-Identifier: GPL-2.0-only
"""Text from outside in every output: a process whose comm holds a double quote, a backslash, a
newline and a byte that is not UTF-8 (set with prctl(PR_SET_NAME)) owns a listener, a CLOSE_WAIT
and an ESTABLISHED socket. `promtool check metrics` accepts /metrics, and the snapshot's JSON and
every JSON line of `trace --json` are valid UTF-8 JSON that give the comm back (the invalid byte
as U+FFFD); the snapshot's table shows it on one row with '?' for the newline and 0xff. Outputs
are read as bytes: nothing is decoded leniently on the way."""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import lib
from lib import Netns, expect_eq

COMM = b'q"\\\n\xff'
WANT = 'q"\\\n\ufffd'  # as JSON strings and unescaped label values must give it back

ODD_OWNER = r"""
import ctypes, os, socket, sys, time
name = sys.stdin.buffer.read()
if ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name), 0, 0, 0):  # PR_SET_NAME
    sys.exit("prctl(PR_SET_NAME) failed")
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(4)
c = socket.create_connection(ls.getsockname())
a, _ = ls.accept()
a.close()  # the peer closed first: c is left in CLOSE_WAIT
c2 = socket.create_connection(ls.getsockname())
a2, _ = ls.accept()
print("READY", os.getpid(), flush=True)
time.sleep(120)
"""

LABEL_RX = re.compile(rb'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RawProc:
    """A tcpstate command whose stdout and stderr go to files, read back as bytes."""

    def __init__(self, args):
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen([lib.tcpstate_bin()] + args, stdout=self.out,
                                  stderr=self.err)

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def wait_ready(self):
        lib.wait_until(lambda: re.search(r"tracing TCP|serving", self.stderr()) or
                       self.p.poll() is not None, timeout=30, what=f"{self.p.args} to start")
        if self.p.poll() is not None:
            raise AssertionError(f"{self.p.args} exited {self.p.returncode}: {self.stderr()}")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"{self.p.args} did not stop within 15 s of SIGINT")
        self.out.seek(0)
        return self.p.returncode, self.out.read()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def start_odd_owner(ns):
    p = subprocess.Popen(ns.cmd(["python3", "-c", ODD_OWNER]), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(COMM)
    p.stdin.close()
    line = p.stdout.readline()
    m = re.match(rb"READY (\d+)", line)
    if not m:
        p.kill()
        raise AssertionError(f"odd-comm owner did not start: {line!r} {p.stderr.read()!r}")
    pid = int(m.group(1))
    with open(f"/proc/{pid}/comm", "rb") as f:
        expect_eq(f.read(), COMM + b"\n", "/proc/PID/comm of the odd-comm owner")
    return p, pid


def unescape_label(raw):
    return re.sub(rb'\\(.)', lambda m: b"\n" if m.group(1) == b"n" else m.group(1), raw)


def promtool_check(body):
    p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True,
                       timeout=30)
    if p.returncode != 0:
        raise AssertionError(f"expected promtool check metrics to accept /metrics, got exit "
                             f"{p.returncode}: {(p.stdout + p.stderr).decode('utf-8', 'replace')[:2000]}")


def process_comms(body):
    """comm labels (unescaped, as text) of the tcpstate_process_sockets series."""
    found = set()
    for line in body.split(b"\n"):
        if line.startswith(b"tcpstate_process_sockets{"):
            labels = {k: unescape_label(v) for k, v in LABEL_RX.findall(line)}
            found.add(labels[b"comm"].decode("utf-8"))
    return found


def check_metrics(addr):
    def scrape():
        with urllib.request.urlopen(f"http://{addr}/metrics", timeout=5) as r:
            return r.read()

    body = lib.wait_until(lambda: (lambda b: b if WANT in process_comms(b) else None)(scrape()),
                          timeout=15, what=f"a tcpstate_process_sockets series with comm {WANT!r}")
    body.decode("utf-8")  # strict: the exposition is UTF-8
    promtool_check(body)


def check_snapshot(pid):
    p = RawProc(["snapshot", "--json", "--duration", "1"])
    try:
        rc = p.p.wait(timeout=60 * lib.TIME_SCALE)
    finally:
        p.kill()
    p.out.seek(0)
    out = p.out.read()
    expect_eq(rc, 0, f"snapshot exit status (stderr {p.stderr()[-300:]})")
    snap = json.loads(out.decode("utf-8"))  # strict UTF-8, strict JSON
    comms = [x["comm"] for x in snap["processes"] if x["pid"] == pid]
    expect_eq(comms, [WANT], f"snapshot comm of pid {pid}")


def check_snapshot_text(pid):
    """The table shows the comm on its own row, control bytes and 0xff as '?'."""
    p = RawProc(["snapshot", "--duration", "1"])
    try:
        rc = p.p.wait(timeout=60 * lib.TIME_SCALE)
    finally:
        p.kill()
    p.out.seek(0)
    text = p.out.read().decode("utf-8")
    expect_eq(rc, 0, f"snapshot exit status (stderr {p.stderr()[-300:]})")
    rows = [l for l in text.split("\n") if l.split()[:1] == [str(pid)]]
    if not rows or not all(r.split()[1] == 'q"\\??' for r in rows):
        raise AssertionError(f"expected the row of pid {pid} with comm 'q\"\\??', got {rows}")


def check_trace(out, pid):
    events = []
    for line in out.split(b"\n"):
        if line.startswith(b"{"):
            events.append(json.loads(line.decode("utf-8")))  # strict UTF-8, strict JSON
    comms = {e["comm"] for e in events if e["pid"] == pid}
    expect_eq(comms, {WANT}, f"trace --json comm of the events owned by pid {pid} "
                             f"({len(events)} lines)")


def test_odd_comm_in_metrics_snapshot_and_trace_json():
    ns = Netns("esc")
    addr = f"127.0.0.1:{free_port()}"
    serve = RawProc(["serve", "--listen", addr, "--audit-interval", "1"])
    trace = RawProc(["trace", "--json"])
    owner = None
    try:
        serve.wait_ready()
        trace.wait_ready()
        owner, pid = start_odd_owner(ns)
        check_metrics(addr)
        check_snapshot(pid)
        check_snapshot_text(pid)
        rc, out = trace.stop()
        expect_eq(rc, 0, f"trace exit status after SIGINT (stderr {trace.stderr()[-300:]})")
        check_trace(out, pid)
        rc, _ = serve.stop()
        expect_eq(rc, 0, f"serve exit status after SIGINT (stderr {serve.stderr()[-300:]})")
    finally:
        for p in (serve, trace):
            p.kill()
        if owner:
            owner.kill()
            owner.wait()
