# SPDX-License-Identifier: GPL-2.0-only
"""`tcpstate trace`: exact per-socket transition sequences, tuples and owners for real
connections on loopback and across a veth pair, IPv4 and IPv6, closed from either side."""
import os
import re
import subprocess
import time

import lib
from lib import Netns, expect_eq

ACTIVE_CLOSER = [("close", "syn_sent"), ("syn_sent", "established"), ("established", "fin_wait1"),
                 ("fin_wait1", "fin_wait2"), ("fin_wait2", "close")]
PASSIVE_CLOSER_CLIENT = [("close", "syn_sent"), ("syn_sent", "established"),
                         ("established", "close_wait"), ("close_wait", "last_ack"),
                         ("last_ack", "close")]
CHILD_PASSIVE_CLOSER = [("listen", "syn_recv"), ("syn_recv", "established"),
                        ("established", "close_wait"), ("close_wait", "last_ack"),
                        ("last_ack", "close")]
CHILD_ACTIVE_CLOSER = [("listen", "syn_recv"), ("syn_recv", "established"),
                       ("established", "fin_wait1"), ("fin_wait1", "fin_wait2"),
                       ("fin_wait2", "close")]
LISTENER = [("close", "listen"), ("listen", "close")]


def parse_ep(s):
    m = re.match(r"\[?([0-9a-f.:]+)\]?:(\d+)$", s)
    return m.group(1), int(m.group(2))


BIRTHS = {("close", "syn_sent"), ("close", "listen"), ("listen", "syn_recv")}


def by_cookie(events, netns):
    """Events per socket. A birth transition under a key already seen starts a new socket: with
    the classic tracepoint the key is the socket's address, which the kernel reuses."""
    socks, life = {}, {}
    for e in events:
        if e["netns"] != netns or not e["cookie"]:
            continue  # cookie 0: a timewait sock killed early that never had one (5.10, tracepoint)
        c = e["cookie"]
        if e["kind"] == "state" and (e["old"], e["new"]) in BIRTHS and c in life:
            life[c] += 1
        life.setdefault(c, 0)
        socks.setdefault((c, life[c]), []).append(e)
    return socks


def transitions(evs):
    return [(e["old"], e["new"]) for e in evs if e["kind"] == "state"]


def check_owner(evs, pid, what):
    for e in evs:
        if e["pid"] != pid or e["comm"] != "tcpwork":
            raise AssertionError(f"{what}: expected owner pid {pid} comm tcpwork on every event, "
                                 f"got pid {e['pid']} comm {e['comm']!r} at {e['old'] if 'old' in e else e['kind']}"
                                 f"->{e.get('new', '')}")


def check_tuple(evs, local, remote, what, first_sport_unknown=False):
    for i, e in enumerate(evs):
        want_sport = None if (first_sport_unknown and i == 0) else local[1]
        got = (e["saddr"] if want_sport else None, e["sport"], e["daddr"], e["dport"])
        want = (local[0] if want_sport else None, want_sport, remote[0], remote[1])
        if got != want:
            raise AssertionError(f"{what} event {i} ({e.get('old')}->{e.get('new')}): expected "
                                 f"tuple {want}, got {got}")


def run_scenario(server_ns, client_ns, server_addr, client_close, count=3, extra=()):
    """Run `count` connections and return (events of the server namespace, of the client
    namespace, server pid, client pid, listener port, client local endpoints)."""
    tracer = lib.tcpstate(["trace", "--json"] + list(extra))
    server_close = "client-first" if client_close == "client-first" else "server-first"
    srv = lib.tcpwork(server_ns, ["server", "--addr", server_addr, "--port", "0", "--count",
                                  str(count), "--close", server_close])
    m = srv.wait_line(r"READY pid=(\d+) port=(\d+)")
    spid, port = int(m.group(1)), int(m.group(2))
    cli = lib.tcpwork(client_ns, ["client", "--addr", server_addr, "--port", str(port),
                                  "--count", str(count), "--close", client_close])
    done = cli.wait_line(r"DONE n=\d+ connected=(\d+) failed=\d+ pid=(\d+)", timeout=30)
    expect_eq(int(done.group(1)), count, "client connections")
    cpid = int(done.group(2))
    locals_ = [parse_ep(re.search(r"local=(\S+)", l).group(1)) for l in cli.all
               if l.startswith("CONNECTED")]
    srv.wait_line(r"^DONE", timeout=30)
    srv.stop()
    time.sleep(0.5)
    tracer.stop()
    summary = [l for l in tracer.err_lines if " lost" in l]
    if not summary or " 0 lost" not in summary[-1]:
        raise AssertionError(f"expected no lost events, got {summary}")
    evs = lib.json_events(tracer)
    return evs, spid, cpid, port, locals_


def check_scenario(evs, server_ns, client_ns, server_addr, client_addr, spid, cpid, port,
                   locals_, client_first):
    srv_socks = by_cookie(evs, server_ns.inode)
    cli_socks = by_cookie(evs, client_ns.inode) if client_ns is not server_ns else srv_socks
    sip = server_addr.strip("[]")
    # client sockets: found by their local port
    for lip, lport in locals_:
        mine = [evs_ for evs_ in cli_socks.values()
                if any(e["sport"] == lport and e["dport"] == port for e in evs_)
                and evs_[0]["old"] == "close" and evs_[0].get("new") == "syn_sent"]
        expect_eq(len(mine), 1, f"client sockets with local port {lport}")
        c = mine[0]
        want = ACTIVE_CLOSER if client_first else PASSIVE_CLOSER_CLIENT
        expect_eq(transitions(c), want, f"client socket :{lport} transitions")
        check_owner(c, cpid, f"client socket :{lport}")
        check_tuple(c, (lip, lport), (sip, port), f"client socket :{lport}",
                    first_sport_unknown=True)
        if client_first:
            if c[-1].get("timewait") not in ("time_wait", "fin_wait2"):
                raise AssertionError(f"client :{lport} final close should hand over to a "
                                     f"timewait sock, got {c[-1].get('timewait')}")
        # server child: local port = listener port, remote = this client
        kids = [evs_ for evs_ in srv_socks.values()
                if evs_[0].get("old") == "listen" and evs_[0]["dport"] == lport
                and evs_[0]["sport"] == port]
        expect_eq(len(kids), 1, f"server sockets accepted from :{lport}")
        k = kids[0]
        state_evs = [e for e in k if e["kind"] == "state"]
        want = CHILD_PASSIVE_CLOSER if client_first else CHILD_ACTIVE_CLOSER
        expect_eq(transitions(k), want, f"server socket for :{lport} transitions")
        check_owner(k, spid, f"server socket for :{lport}")
        check_tuple(state_evs, (sip, port), (lip, lport), f"server socket for :{lport}")
        accepts = [e for e in k if e["kind"] == "accept"]
        expect_eq(len(accepts), 1, f"accept events for :{lport}")
        expect_eq(accepts[0]["pid"], spid, "accept pid")
    listeners = [evs_ for evs_ in srv_socks.values()
                 if evs_[0].get("old") == "close" and evs_[0].get("new") == "listen"
                 and evs_[0]["sport"] == port]
    expect_eq(len(listeners), 1, "listener sockets")
    expect_eq(transitions(listeners[0]), LISTENER, "listener transitions")
    check_owner(listeners[0], spid, "listener")


def test_loopback_ipv4_client_closes_first():
    ns = Netns("lo4")
    evs, spid, cpid, port, locs = run_scenario(ns, ns, "127.0.0.1", "client-first")
    check_scenario(evs, ns, ns, "127.0.0.1", "127.0.0.1", spid, cpid, port, locs, True)


def test_loopback_ipv6_server_closes_first():
    ns = Netns("lo6")
    evs, spid, cpid, port, locs = run_scenario(ns, ns, "::1", "server-first")
    check_scenario(evs, ns, ns, "::1", "::1", spid, cpid, port, locs, False)


def test_veth_ipv4_server_closes_first():
    a, b = Netns("va"), Netns("vb")
    v4, _ = lib.veth_pair(a, b)
    evs, spid, cpid, port, locs = run_scenario(b, a, v4[1], "server-first")
    check_scenario(evs, b, a, v4[1], v4[0], spid, cpid, port, locs, False)


def test_veth_ipv6_client_closes_first():
    a, b = Netns("va"), Netns("vb")
    _, v6 = lib.veth_pair(a, b)
    evs, spid, cpid, port, locs = run_scenario(b, a, v6[1], "client-first")
    check_scenario(evs, b, a, v6[1], v6[0], spid, cpid, port, locs, True)


def test_classic_tracepoint_fallback():
    ns = Netns("tp")
    evs, spid, cpid, port, locs = run_scenario(ns, ns, "127.0.0.1", "client-first",
                                               extra=["--force-tracepoint", "--no-seed"])
    check_scenario(evs, ns, ns, "127.0.0.1", "127.0.0.1", spid, cpid, port, locs, True)


def test_filters_pid_port_state():
    ns = Netns("flt")
    srv = lib.tcpwork(ns, ["server", "--port", "0", "--count", "4", "--close", "never",
                           "--hold-ms", "60000"])
    m = srv.wait_line(r"READY pid=(\d+) port=(\d+)")
    spid, port = int(m.group(1)), int(m.group(2))
    tr = lib.tcpstate(["trace", "--json", "--pid", str(spid), "--state", "close_wait"])
    tr2 = lib.tcpstate(["trace", "--json", "--port", str(port)])
    cli = lib.tcpwork(ns, ["client", "--port", str(port), "--count", "4"])
    cli.wait_line(r"^DONE")
    time.sleep(0.5)
    tr.stop()
    tr2.stop()
    evs = [e for e in lib.json_events(tr) if e["netns"] == ns.inode]
    expect_eq(len(evs), 4, "events for --pid SERVER --state close_wait")
    for e in evs:
        expect_eq((e["pid"], e["new"]), (spid, "close_wait"), "filtered event owner/state")
    evs2 = [e for e in lib.json_events(tr2) if e["netns"] == ns.inode]
    bad = [e for e in evs2 if port not in (e["sport"], e["dport"])]
    expect_eq(bad, [], "events not matching --port")
    if len(evs2) < 4 * 9:
        raise AssertionError(f"expected at least 36 events on port {port}, got {len(evs2)}")


def test_no_loss_at_modest_rate():
    ns = Netns("rate")
    n = 1500
    srv = lib.tcpwork(ns, ["server", "--port", "0", "--count", str(n), "--close", "client-first"])
    port = int(srv.wait_line(r"READY pid=\d+ port=(\d+)").group(1))
    # print only this workload: the host may be busy with other TCP traffic
    tr = lib.tcpstate(["trace", "--json", "--port", str(port)])
    cli = lib.tcpwork(ns, ["client", "--port", str(port), "--count", str(n)])
    cli.wait_line(r"^DONE n=\d+ connected=(\d+)", timeout=120)
    srv.wait_line(r"^DONE", timeout=60)
    srv.stop()
    time.sleep(0.5)
    tr.stop()
    evs = [e for e in lib.json_events(tr) if e["netns"] == ns.inode]
    socks = by_cookie(evs, ns.inode)
    clients = [v for v in socks.values() if transitions(v) == ACTIVE_CLOSER]
    kids = [v for v in socks.values() if transitions(v) == CHILD_PASSIVE_CLOSER]
    odd = [transitions(v) for v in socks.values()
           if transitions(v) not in (ACTIVE_CLOSER, CHILD_PASSIVE_CLOSER)]
    if len(clients) != n:
        raise AssertionError(f"complete client socket histories: expected {n}, got "
                             f"{len(clients)}; {len(odd)} other histories, e.g. {odd[:3]}; "
                             f"{tr.err_lines[-1:]}")
    expect_eq(len(kids), n, "complete server socket histories")
    summary = [l for l in tr.err_lines if "lost" in l]
    if not summary or not re.search(r" 0 lost", summary[-1]):
        raise AssertionError(f"expected '0 lost' in the exit summary, got {summary}")


def test_sigterm_detaches_all_programs():
    for sig in (15, 2):
        tr = lib.tcpstate(["trace"])
        ids = lib.bpf_prog_ids_of(tr.p.pid)
        if len(ids) < 8:
            raise AssertionError(f"expected tcpstate to hold its BPF programs, got ids {ids}")
        rc = tr.stop(sig=sig, timeout=10)
        expect_eq(rc, 0, f"exit status after signal {sig}")
        # the kernel frees programs asynchronously once the last fd and link are gone
        lib.wait_until(lambda: not (ids & lib.bpf_prog_ids()), timeout=5,
                       what=f"programs {sorted(ids)} to be unloaded after signal {sig}")
