# SPDX-License-Identifier: GPL-2.0-only
"""Retransmits, resets, socket errors and listen-backlog telemetry, charged to the right
process and listener, from real traffic in private namespaces (loss made with iptables)."""
import json
import os
import subprocess
import sys
import time

import lib
from lib import Netns, expect_eq
from test_accounting import OPEN_ENDED, finish, proc, snapshot

# A sender whose comm is "retxsender": connects, writes 200 KiB, reads the echo count back.
SENDER = r"""
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, b"retxsender", 0, 0, 0)
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
print("PID", __import__("os").getpid(), "LOCAL", s.getsockname()[1], flush=True)
data = b"x" * 4096
for _ in range(50):
    s.sendall(data)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
s.close()
print("DONE", flush=True)
"""

SINK = r"""
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 0)); l.listen(8)
print("PORT", l.getsockname()[1], flush=True)
c, _ = l.accept()
while c.recv(65536):
    pass
c.close()
"""


def test_retransmits_under_loss_charged_to_sender_and_remote():
    a, b = Netns("rxa"), Netns("rxb")
    v4, _ = lib.veth_pair(a, b)
    sink = lib.Proc(b.cmd([sys.executable, "-c", SINK, v4[1]]))
    port = int(sink.wait_line(r"PORT (\d+)").group(1))
    # drop 30% of the data segments arriving at the receiver: the sender must retransmit
    b.exec(["iptables", "-A", "INPUT", "-p", "tcp", "--dport", str(port), "-m", "statistic",
            "--mode", "random", "--probability", "0.3", "-j", "DROP"])
    tr = lib.tcpstate(["trace", "--json"])
    snap = snapshot(OPEN_ENDED + ["--no-final-audit"])
    snd = lib.Proc(a.cmd([sys.executable, "-c", SENDER, v4[1], str(port)]))
    m = snd.wait_line(r"PID (\d+) LOCAL (\d+)")
    pid = int(m.group(1))
    snd.wait_line(r"DONE", timeout=60)
    s = finish(snap)
    tr.stop()
    p = proc(s, pid)
    expect_eq(p["comm"], "retxsender", f"comm of pid {pid}")
    if p["retransmits"] <= 0:
        raise AssertionError(f"expected retransmits charged to pid {pid}, got {p}")
    evs = [e for e in lib.json_events(tr) if e["kind"] == "retransmit" and e["netns"] == a.inode]
    if not evs:
        raise AssertionError("expected retransmit events in the trace")
    for e in evs:
        expect_eq((e["pid"], e["comm"], e["daddr"], e["dport"]), (pid, "retxsender", v4[1], port),
                  "retransmit event owner and remote")
        if e["retransmit"] not in ("rto", "fast", "syn"):
            raise AssertionError(f"unexpected retransmit kind {e['retransmit']}")


def test_connect_to_closed_port_is_a_refused_error_and_reset():
    ns = Netns("rst")
    snap = snapshot(OPEN_ENDED + ["--no-final-audit"])
    cli = lib.tcpwork(ns, ["client", "--port", "9", "--count", "3"])
    m = cli.wait_line(r"DONE n=3 connected=0 failed=3 pid=(\d+)")
    pid = int(m.group(1))
    if not any("errno=ECONNREFUSED" in l for l in cli.all):
        raise AssertionError(f"workload did not see ECONNREFUSED: {cli.all}")
    s = finish(snap)
    p = proc(s, pid)
    expect_eq(p["resets_received"], 3, f"resets received by pid {pid}")
    off = lib.hook_off("inet_sk_error_report")
    if off:
        expect_eq(p["errors"], {}, f"socket errors of pid {pid} with no error hook")
        raise lib.Skip(f"resets checked, errors not: {off}")
    expect_eq(p["errors"], {"ECONNREFUSED": 3}, f"socket errors of pid {pid}")


# Two things the kernel reports through the socket's error callback without an error: a TX
# timestamp queued on the error queue (SO_TIMESTAMPING), and the disconnect after a blocking
# connect was refused (sock_error() has taken sk_err by then). Neither is a socket error.
NOT_ERRORS = r"""
import os, socket
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8)
c = socket.create_connection(l.getsockname())
a, _ = l.accept()
c.setsockopt(socket.SOL_SOCKET, 37, (1 << 1) | (1 << 4))  # SO_TIMESTAMPING: TX, software
for _ in range(5):
    c.send(b"x")
    a.recv(16)
for _ in range(3):
    try:
        socket.create_connection(("127.0.0.1", 9))  # no timeout: a blocking connect()
    except ConnectionRefusedError:
        pass
print("DONE pid=%d" % os.getpid(), flush=True)
c.close(); a.close()
"""


def test_error_callbacks_without_an_error_are_not_errors():
    off = lib.hook_off("inet_sk_error_report")
    if off:
        raise lib.Skip(off)
    ns = Netns("noerr")
    snap = snapshot(OPEN_ENDED + ["--no-final-audit"])
    trace = lib.tcpstate(["trace", "--json"])
    cli = lib.Proc(ns.cmd([sys.executable, "-c", NOT_ERRORS]))
    pid = int(cli.wait_line(r"DONE pid=(\d+)").group(1))
    p = proc(finish(snap), pid)
    time.sleep(0.3)
    trace.stop()
    expect_eq(p["errors"], {"ECONNREFUSED": 3}, f"socket errors of pid {pid}")
    errs = [e for e in lib.json_events(trace) if e["kind"] == "error" and e["netns"] == ns.inode]
    expect_eq(sorted(e.get("errno") for e in errs), ["ECONNREFUSED"] * 3,
              "error events in the trace")


def test_backlog_overflow_full_queue_drops_and_syn_retransmits():
    ns = Netns("blog")
    srv = lib.tcpwork(ns, ["server", "--port", "0", "--backlog", "2", "--accept", "none",
                           "--hold-ms", "300000"])
    m = srv.wait_line(r"READY pid=(\d+) port=(\d+)")
    spid, port = int(m.group(1)), int(m.group(2))
    snap = snapshot(OPEN_ENDED)
    cli = lib.tcpwork(ns, ["client", "--port", str(port), "--count", "10", "--hold-ms", "6000",
                           "--connect-timeout-ms", "2500"])
    m = cli.wait_line(r"DONE n=\d+ connected=\d+ failed=\d+ pid=(\d+)", timeout=60)
    cpid = int(m.group(1))
    s = finish(snap)
    ls = [l for l in s["listeners"] if l["netns"] == ns.inode and l["port"] == port]
    expect_eq(len(ls), 1, "listeners on the test port")
    l = ls[0]
    expect_eq((l["pid"], l["comm"]), (spid, "tcpwork"), "listener owner")
    expect_eq(l["accept_queue_max"], 2, "accept queue limit")
    expect_eq(l["accept_queue"], 3, "accept queue length (limit + 1 when full)")
    expect_eq(l["accept_queue_high"], 3, "accept queue high-water")
    if l["drops"] <= 0:
        raise AssertionError(f"expected listener drops > 0, got {l}")
    ss = ns.exec(["ss", "-Hltnm", f"sport = :{port}"]).stdout.split()
    expect_eq((int(ss[1]), int(ss[2])), (l["accept_queue"], l["accept_queue_max"]),
              "Recv-Q/Send-Q from ss vs snapshot")
    p = proc(s, cpid)
    if p["retransmits_by_kind"]["syn"] <= 0:
        raise AssertionError(f"expected SYN retransmits charged to client pid {cpid}, got {p}")
    nsl = [n for n in s["netns_listen"] if n["netns"] == ns.inode]
    if not nsl or nsl[0]["listen_overflows"] <= 0:
        raise AssertionError(f"expected ListenOverflows > 0 in the namespace, got {nsl}")


def test_slow_acceptor_accept_wait_histogram():
    ns = Netns("slow")
    snap = snapshot(OPEN_ENDED + ["--no-final-audit"])
    # the server sleeps 300 ms before each accept, starting when it is ready: connect at once
    srv = lib.tcpwork(ns, ["server", "--port", "0", "--accept", "slow", "--accept-delay-ms",
                           "300", "--count", "3", "--close", "server-first"])
    m = srv.wait_line(r"READY pid=\d+ port=(\d+)")
    port = int(m.group(1))
    cli = lib.tcpwork(ns, ["client", "--port", str(port), "--count", "3", "--hold-ms", "2000",
                           "--close", "server-first"])
    srv.wait_line(r"^DONE", timeout=30)
    s = finish(snap)
    ports = [p for p in s["ports"] if p["netns"] == ns.inode and p["port"] == port]
    expect_eq(len(ports), 1, "port entries for the slow listener")
    b = ports[0]["accept_wait"]["buckets"]
    expect_eq(ports[0]["accept_wait"]["count"], 3, "accept wait observations")
    fast = sum(v for k, v in b.items() if k != "+Inf" and float(k) <= 0.25)
    expect_eq(fast, 0, "accepts faster than 250 ms")
    # first accept waits ~300 ms, then ~600 and ~900 ms: buckets (0.25,0.5] and (0.5,1]
    expect_eq((b["0.5"], b["1"]), (1, 2), "accept waits in the 0.5 s and 1 s buckets")
