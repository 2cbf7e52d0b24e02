# SPDX-License-Identifier: GPL-2.0-only
"""Faults `tcpstate serve` must survive, each ending with the counts of a namespace equal to `ss`
in it and any loss counted: the daemon killed with SIGKILL mid-churn and restarted, 100
namespaces created and destroyed under load, --max-sockets hit by a flood, a ring buffer
overflow, a process that exits holding thousands of sockets, and sock_diag failing in one
namespace. Every wait is on a condition, bounded and stretched by lib.TIME_SCALE."""
import json
import os
import re
import signal
import threading
import time

import lib
from lib import Netns, expect_eq
from test_serve import http_get, parse_samples, scrape, series, start_serve, value

# States a settled workload has left: anything else is a connection still opening or closing.
TRANSIENT = {"syn_sent", "syn_recv", "established", "fin_wait1", "last_ack", "closing"}


# ---- helpers ---------------------------------------------------------------------------------

def samples(addr):
    return parse_samples(scrape(addr)[1])


def netns_counts(s, inode):
    """{state: count} of tcpstate_netns_sockets for one namespace (zero counts are omitted)."""
    return {d["state"]: int(v) for d, v in series(s, "tcpstate_netns_sockets", netns=str(inode))
            if v}


def ss_counts(ns):
    """ss -tan of the namespace by state; CLOSE (bound, unconnected) is not a metric state."""
    return {k: v for k, v in ns.ss_states().items() if k != "close"}


def wait_settled(ns, timeout=30, keep=()):
    """Wait until no connection of ns is opening or closing (states in keep are expected)."""
    lib.wait_until(lambda: not (TRANSIENT - set(keep)) & set(ss_counts(ns)), timeout=timeout,
                   interval=0.2, what=f"connections in {ns.name} to settle")


def wait_equal_ss(addr, ns, timeout=20, what=""):
    """Wait until /metrics counts ns's sockets as ss does; returns the last samples."""
    last = {}

    def equal():
        want = ss_counts(ns)
        last["s"] = samples(addr)
        last["got"], last["want"] = netns_counts(last["s"], ns.inode), want
        return last["got"] == want
    try:
        lib.wait_until(equal, timeout=timeout, interval=0.3)
    except AssertionError:
        raise AssertionError(f"{what}: expected tcpstate_netns_sockets{{netns=\"{ns.inode}\"}} "
                             f"to equal ss -tan {last.get('want')}, got {last.get('got')} after "
                             f"{timeout * lib.TIME_SCALE:g}s") from None
    return last["s"]


def lost(s):
    return {d["reason"]: int(v) for d, v in series(s, "tcpstate_events_lost_total")}


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def report(what, **numbers):
    """One line of figures for the test log (the runner shows stdout of passing tests)."""
    print(f"     {what}: " + ", ".join(f"{k}={v}" for k, v in numbers.items()), flush=True)


def bpf_links_of(prog_ids):
    """Ids of the BPF links attaching any of these programs."""
    links = json.loads(lib.sh(["bpftool", "-j", "link", "show"]).stdout or "[]")
    return {l["id"] for l in links if l.get("prog_id") in prog_ids}


def wait_programs_freed(ids, whose):
    """Wait until none of these programs, nor a link attaching one, is left in the kernel."""
    left = {}

    def gone():
        left.update(progs=ids & lib.bpf_prog_ids(), links=bpf_links_of(ids))
        return not left["progs"] and not left["links"]
    try:
        lib.wait_until(gone, timeout=10, interval=0.1, what="programs to be freed")
    except AssertionError:
        raise AssertionError(f"expected no program of {whose} left (ids {sorted(ids)}), nor a "
                             f"link: still loaded {left}") from None


def churn(ns, args):
    return lib.Proc(ns.cmd([lib.churn_bin()] + lib.scaled_args(args)))


# ---- 1. SIGKILL mid-churn, then a restart ------------------------------------------------------

def test_sigkill_mid_churn_then_restart():
    ns = Netns("fkill")
    a, addr_a = start_serve(["--audit-interval", "2"])
    mine = lib.bpf_prog_ids_of(a.p.pid)
    links = bpf_links_of(mine)
    if not mine or not links:
        raise AssertionError(f"expected tcpstate serve (pid {a.p.pid}) to hold BPF programs and "
                             f"links, got programs {sorted(mine)}, links {sorted(links)}")
    lk = lib.tcpwork(ns, ["leak-close-wait", "--count", "20"])
    lk.wait_line(r"LEAKED n=20", timeout=30)
    ch = churn(ns, ["--duration", "10", "--rate", "400", "--threads", "2"])
    lib.wait_until(lambda: ss_counts(ns).get("time_wait", 0) >= 300, timeout=15, interval=0.1,
                   what="the churn to leave 300 TIME_WAIT sockets")
    scrape(addr_a)
    a.p.send_signal(signal.SIGKILL)
    expect_eq(a.p.wait(timeout=10), -signal.SIGKILL, "exit status of serve after SIGKILL")
    wait_programs_freed(mine, "the killed serve")
    if ch.p.poll() is not None:
        raise AssertionError("the churn ended before the restart: the test did not restart "
                             "mid-churn")
    started = time.monotonic()
    b, addr_b = start_serve(["--audit-interval", "2"])
    restart_s = time.monotonic() - started
    churning = ch.p.poll() is None
    ch.wait_line(r'"connections"', timeout=30)
    wait_settled(ns)
    s = wait_equal_ss(addr_b, ns, what="after the restart and the churn")
    if not churning:
        raise AssertionError("the churn ended while serve restarted: the restart was not "
                             "mid-churn")
    expect_eq(netns_counts(s, ns.inode).get("close_wait"), 20, "CLOSE_WAIT of the namespace")
    report("sigkill", programs_freed=len(mine), links_freed=len(links), restart_s=f"{restart_s:.2f}",
           time_wait=netns_counts(s, ns.inode).get("time_wait"), lost=lost(s))
    mine_b = lib.bpf_prog_ids_of(b.p.pid)
    expect_eq(b.stop(signal.SIGINT), 0, "exit status of the restarted serve after SIGINT")
    wait_programs_freed(mine_b, "the restarted serve after SIGINT")


# ---- 2. 100 namespaces created and destroyed under load -----------------------------------------

N_NAMESPACES = 100
NS_WORKERS = 4
NETNS_FAMILIES = ("tcpstate_netns_sockets", "tcpstate_time_wait_sockets",
                  "tcpstate_time_wait_port_range_ratio", "tcpstate_listener_close_wait_sockets",
                  "tcpstate_netns_listen_overflows_total", "tcpstate_netns_listen_drops_total",
                  "tcpstate_listen_accept_queue", "tcpstate_accept_wait_seconds_bucket")


def live_netns_inodes():
    """Inodes of every network namespace reachable now (as tcpstate finds them)."""
    found = set()
    for d in ("/run/netns",):
        for n in os.listdir(d) if os.path.isdir(d) else ():
            try:
                found.add(os.stat(os.path.join(d, n)).st_ino)
            except OSError:
                pass
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                found.add(os.stat(f"/proc/{pid}/ns/net").st_ino)
            except OSError:
                pass
    return found


def short_lived_netns(i, errors, inodes):
    """One namespace: a listener, CLOSE_WAIT and TIME_WAIT sockets, then deleted under them
    (the kernel purges TIME_WAIT sockets with their namespace, without an event). Every other
    one loses its name first and dies when its last process, the leaker, is killed."""
    try:
        ns = Netns("fmany")
        inodes.append(ns.inode)
        lk = lib.tcpwork(ns, ["leak-close-wait", "--count", "2"])
        lk.wait_line(r"LEAKED n=2", timeout=30)
        tw = lib.tcpwork(ns, ["time-wait", "--count", "3"])
        tw.wait_line(r"^DONE n=3", timeout=30)
        time.sleep(0.05 * (i % 5) * lib.TIME_SCALE)  # lives across an audit or not
        if i % 2:
            lib.sh(["ip", "netns", "del", ns.name])
            lib._netns.remove(ns.name)
        lk.p.kill()  # the leaker's sockets close with the process
        lk.p.wait(timeout=10)
        if not i % 2:
            lib.sh(["ip", "netns", "del", ns.name])
            lib._netns.remove(ns.name)
    except Exception as e:  # noqa: BLE001 - reported by the test thread
        errors.append(repr(e))


def test_hundred_namespaces_created_and_destroyed_under_load():
    keep = Netns("fkeep")
    srv, addr = start_serve(["--audit-interval", "1"])
    lk = lib.tcpwork(keep, ["leak-close-wait", "--count", "10"])
    lk.wait_line(r"LEAKED n=10", timeout=30)
    ch = churn(keep, ["--duration", "300", "--rate", "200"])
    errors, inodes = [], []
    started = time.monotonic()
    for first in range(0, N_NAMESPACES, NS_WORKERS):
        threads = [threading.Thread(target=short_lived_netns, args=(i, errors, inodes))
                   for i in range(first, min(first + NS_WORKERS, N_NAMESPACES))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120 * lib.TIME_SCALE)
        if srv.p.poll() is not None:
            raise AssertionError(f"serve exited ({srv.p.returncode}) after {first} namespaces: "
                                 f"{srv.err_lines[-5:]}")
        if first % 20 == 0:
            scrape(addr)
    took = time.monotonic() - started
    if errors:
        raise AssertionError(f"expected every namespace's workload to run, got {len(errors)} "
                             f"errors, first {errors[:3]}")
    expect_eq(len(inodes), N_NAMESPACES, "namespaces created")
    ch.p.send_signal(signal.SIGINT)
    ch.wait_line(r'"connections"', timeout=30)
    wait_settled(keep)
    s = wait_equal_ss(addr, keep, what="the surviving namespace")
    left = {}

    def forgotten():
        gone = set(inodes) - live_netns_inodes()  # an inode may already serve a new namespace
        left.clear()
        for name, labels, _ in samples(addr):
            ns = dict(labels).get("netns", "")
            if name in NETNS_FAMILIES and ns.isdigit() and int(ns) in gone:
                left.setdefault(ns, set()).add(name)
        return not left
    try:
        lib.wait_until(forgotten, timeout=10, interval=0.5, what="series of deleted namespaces")
    except AssertionError:
        raise AssertionError(f"expected no series of the {N_NAMESPACES} deleted namespaces "
                             f"within 10 s (audits every second), got {len(left)} namespaces "
                             f"still shown, e.g. {dict(list(left.items())[:3])}") from None
    s = samples(addr)
    healthy = http_get(addr, "/healthz")[0]
    expect_eq(healthy, 200, "status of /healthz after the namespaces")
    report("namespaces", created=len(inodes), seconds=f"{took:.1f}",
           audits=int(value(s, "tcpstate_audits_total")), lost=lost(s),
           audit_errors=int(value(s, "tcpstate_audit_errors_total")))
    expect_eq(srv.stop(), 0, "exit status of serve after SIGTERM")


# ---- 3. --max-sockets hit by a flood -------------------------------------------------------------

MAX_SOCKETS = 2000
FLOOD_CONNS = 5000  # both ends: 10,000 sockets
FLOOD_HOLD_MS = 5000  # each connection's life: most of them overlap even on a loaded machine
FLOOD_PEAK = 3 * MAX_SOCKETS  # sockets at once that count as a flood


def test_max_sockets_flood():
    ns = Netns("fflood")
    srv, addr = start_serve(["--max-sockets", str(MAX_SOCKETS), "--audit-interval", "1",
                             "--ringbuf-kb", "2048"])
    lk = lib.tcpwork(ns, ["leak-close-wait", "--count", "5"])
    lk.wait_line(r"LEAKED n=5", timeout=30)
    wait_equal_ss(addr, ns, what="before the flood")
    rss_before = rss_kib(srv.p.pid)
    anon_before = rss_kib(srv.p.pid, "RssAnon")
    # 5000 connections held 5 s each, then reset by the client: no TIME_WAIT is left behind
    ulimit = "ulimit -n 16384; exec \"$@\""
    server = lib.Proc(ns.cmd(["sh", "-c", ulimit, "sh", lib.tcpwork_bin(), "server", "--port", "0",
                              "--count", str(FLOOD_CONNS), "--close", "never", "--hold-ms", "1",
                              "--backlog", "4096"]))
    port = server.wait_line(r"READY pid=\d+ port=(\d+)").group(1)
    client = lib.Proc(ns.cmd(["sh", "-c", ulimit, "sh", lib.tcpwork_bin(), "client", "--port",
                              port, "--count", str(FLOOD_CONNS), "--hold-ms",
                              str(int(FLOOD_HOLD_MS * lib.TIME_SCALE)), "--close", "rst"]))
    peak = {"ss": 0, "table": 0, "untracked": 0}

    def flooded():
        n = sum(ss_counts(ns).values())
        s = samples(addr)
        peak["ss"] = max(peak["ss"], n)
        peak["table"] = max(peak["table"], int(value(s, "tcpstate_table_sockets")))
        peak["untracked"] = max(peak["untracked"],
                                int(value(s, "tcpstate_table_untracked_sockets")))
        return n >= FLOOD_PEAK
    lib.wait_until(flooded, timeout=30, interval=0.2,
                   what=f"the flood to hold {FLOOD_PEAK} sockets")
    # an audit (every second) during the flood tells how many sockets the table left out
    lib.wait_until(lambda: flooded() and peak["untracked"] > 0 or client.p.poll() is not None,
                   timeout=10, interval=0.2, what="an audit during the flood")
    if peak["untracked"] <= 0:
        raise AssertionError(f"expected tcpstate_table_untracked_sockets > 0 while "
                             f"{peak['ss']} sockets flooded a table of {MAX_SOCKETS}, got 0")
    rss_peak = rss_kib(srv.p.pid)
    anon_peak = rss_kib(srv.p.pid, "RssAnon")
    expect_eq(http_get(addr, "/healthz")[0], 200, "status of /healthz during the flood")
    client.wait_line(r"^DONE", timeout=60)
    server.wait_line(r"^DONE", timeout=60)
    wait_settled(ns)
    s = wait_equal_ss(addr, ns, what="after the flood drained")
    full = int(value(s, "tcpstate_table_full_total"))
    lib.wait_until(lambda: value(samples(addr), "tcpstate_table_untracked_sockets") == 0,
                   timeout=10, what="an audit after the flood to find every socket tracked")
    capacity = int(value(s, "tcpstate_table_capacity"))
    expect_eq(capacity, MAX_SOCKETS, "tcpstate_table_capacity")
    if peak["table"] > MAX_SOCKETS:
        raise AssertionError(f"expected at most {MAX_SOCKETS} sockets in the table, saw "
                             f"{peak['table']}")
    if full <= 0:
        raise AssertionError(f"expected tcpstate_table_full_total > 0 after a flood of "
                             f"{peak['ss']} sockets with --max-sockets {MAX_SOCKETS}, got {full}")
    # 10,000 tracked sockets would take about 1 MiB; the table may not grow past its limit at all
    grew = anon_peak - anon_before
    if grew > 4096 and not lib.sanitized():  # ASan's quarantine holds what the flood freed
        raise AssertionError(f"expected RssAnon to grow by at most 4 MiB during the flood, grew "
                             f"{grew} KiB ({anon_before} -> {anon_peak})")
    report("flood", sockets_peak=peak["ss"], table_peak=peak["table"], refusals=full,
           untracked_peak=peak["untracked"],
           rss_kib=f"{rss_before}->{rss_peak}", anon_kib=f"{anon_before}->{anon_peak}",
           lost=lost(s))
    expect_eq(srv.stop(), 0, "exit status of serve after SIGTERM")


# ---- 4. ring buffer overflow ---------------------------------------------------------------------

def test_ring_overflow_counted_and_audit_brought_forward():
    ns = Netns("fring")
    # The hour-long audit interval shows that it is the loss that brings the audit forward.
    srv, addr = start_serve(["--ringbuf-kb", "4", "--audit-interval", "3600"])
    audits0 = int(value(samples(addr), "tcpstate_audits_total"))
    srv.p.send_signal(signal.SIGSTOP)  # the reader stalls: the small rings must overflow
    try:
        lk = lib.tcpwork(ns, ["leak-close-wait", "--count", "7"])
        lk.wait_line(r"LEAKED n=7", timeout=30)
        sv = lib.tcpwork(ns, ["server", "--port", "0", "--count", "200", "--close",
                              "client-first"])
        port = sv.wait_line(r"READY pid=\d+ port=(\d+)").group(1)
        cl = lib.tcpwork(ns, ["client", "--port", port, "--count", "200"])
        cl.wait_line(r"^DONE", timeout=60)
        sv.wait_line(r"^DONE", timeout=30)
    finally:
        srv.p.send_signal(signal.SIGCONT)
    wait_settled(ns)
    started = time.monotonic()
    s = wait_equal_ss(addr, ns, timeout=15, what="after the overflow (the audit repairs)")
    repaired_s = time.monotonic() - started
    ring = lost(s).get("ringbuf_full", 0)
    if ring <= 0:
        raise AssertionError(f"expected tcpstate_events_lost_total{{reason=\"ringbuf_full\"}} "
                             f"> 0 with 4 KiB rings and a stopped reader, got {lost(s)}")
    audits = int(value(s, "tcpstate_audits_total"))
    if audits <= audits0:
        raise AssertionError(f"expected an audit brought forward by the loss, got "
                             f"tcpstate_audits_total {audits0} -> {audits}")
    fixes = sum(v for _, v in series(s, "tcpstate_audit_corrections_total"))
    report("ring", lost=ring, audits=f"{audits0}->{audits}", corrections=int(fixes),
           repaired_s=f"{repaired_s:.1f}")
    expect_eq(srv.stop(), 0, "exit status of serve after SIGTERM")


# ---- 5. a process exits holding thousands of sockets ---------------------------------------------

N_HELD = 3000


def test_process_exits_with_thousands_of_sockets():
    ns = Netns("fexit")
    srv, addr = start_serve(["--audit-interval", "2", "--pid-label", "--max-processes",
                             "100000"])
    # The server holds every accepted socket in CLOSE_WAIT (the client closed at once); the
    # client's ends wait in FIN_WAIT2 for the server's FIN.
    ch = churn(ns, ["--close", "never", "--max-open", str(N_HELD), "--rate", "3000",
                    "--duration", "60", "--threads", "2"])
    pid = str(ch.p.pid)
    lib.wait_until(lambda: ss_counts(ns).get("close_wait", 0) >= N_HELD * 0.98, timeout=30,
                   interval=0.1, what=f"{N_HELD} CLOSE_WAIT sockets")
    ch.p.send_signal(signal.SIGSTOP)  # its sockets stay as they are: compare exactly
    held = {}

    def counted():
        s = samples(addr)
        held["cw"] = sum(v for _, v in series(s, "tcpstate_process_sockets", pid=pid,
                                              state="close_wait"))
        held["ss"] = ss_counts(ns).get("close_wait", 0)
        return held["cw"] == held["ss"]
    try:
        lib.wait_until(counted, timeout=10, interval=0.2, what="CLOSE_WAIT in /metrics")
    except AssertionError:
        raise AssertionError(f"expected pid {pid}'s CLOSE_WAIT in /metrics to equal ss "
                             f"({held.get('ss')}), got {held.get('cw')}") from None
    ch.p.send_signal(signal.SIGKILL)
    ch.p.wait(timeout=10)
    killed = time.monotonic()
    wait_settled(ns)
    s = wait_equal_ss(addr, ns, what=f"after pid {pid} exited with {N_HELD} sockets")
    settled_s = time.monotonic() - killed
    # Its TIME_WAIT sockets stay charged to it until they expire (it made them, they hold its
    # ports); every other socket of the dead process must be gone.
    mine = {}

    def only_time_wait():
        mine.clear()
        for d, v in series(samples(addr), "tcpstate_process_sockets", pid=pid):
            if v:
                mine[d["state"]] = v
        return not set(mine) - {"time_wait"}
    try:
        lib.wait_until(only_time_wait, timeout=10, interval=0.3, what="the process's series")
    except AssertionError:
        raise AssertionError(f"expected no sockets but TIME_WAIT of pid {pid} after it exited, "
                             f"got {mine}") from None
    s = samples(addr)
    tw = netns_counts(s, ns.inode).get("time_wait", 0)
    if mine.get("time_wait", 0) > tw:
        raise AssertionError(f"expected at most the namespace's {tw} TIME_WAIT sockets charged "
                             f"to pid {pid}, got {mine}")
    report("exit", held=int(held["cw"]), settled_s=f"{settled_s:.1f}",
           time_wait=netns_counts(s, ns.inode).get("time_wait"), lost=lost(s))
    expect_eq(srv.stop(), 0, "exit status of serve after SIGTERM")


# ---- 6. sock_diag failing in one namespace -------------------------------------------------------

def test_sock_diag_failing_in_one_namespace():
    bad, good = Netns("fbad"), Netns("fgood")
    # TCPSTATE_FAULT_SOCK_DIAG (test-only, see README "Tests"): dumps of this namespace fail
    os.environ["TCPSTATE_FAULT_SOCK_DIAG"] = str(bad.inode)
    try:
        srv, addr = start_serve(["--audit-interval", "1"])
    finally:
        del os.environ["TCPSTATE_FAULT_SOCK_DIAG"]
    for ns in (bad, good):
        lk = lib.tcpwork(ns, ["leak-close-wait", "--count", "4"])
        lk.wait_line(r"LEAKED n=4", timeout=30)
        tw = lib.tcpwork(ns, ["time-wait", "--count", "3"])
        tw.wait_line(r"^DONE n=3", timeout=30)
    s = wait_equal_ss(addr, good, what="the namespace whose dumps work")
    lib.wait_until(lambda: value(samples(addr), "tcpstate_audit_errors_total") >= 3, timeout=10,
                   what="three failed audits of the faulty namespace")
    s = samples(addr)
    errs = int(value(s, "tcpstate_audit_errors_total"))
    lines = [l for l in srv.err_lines if str(bad.inode) in l and "TCPSTATE_FAULT" not in l]
    expect_eq(len(lines), 1, f"log lines naming namespace {bad.inode} after {errs} failed "
                             f"dumps ({srv.err_lines[-5:]})")
    if not re.search(r"cannot dump sockets of network namespace", lines[0]):
        raise AssertionError(f"expected the line to say the dump failed, got {lines[0]!r}")
    # The faulty namespace is still counted from its events, without audit repairs.
    expect_eq(netns_counts(s, bad.inode), ss_counts(bad), "counts of the faulty namespace")
    expect_eq(http_get(addr, "/healthz")[0], 200, "status of /healthz")
    report("sock_diag", audit_errors=errs, log_line=lines[0])
    expect_eq(srv.stop(), 0, "exit status of serve after SIGTERM")
