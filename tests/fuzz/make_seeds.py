#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write the seed corpora of the fuzz harnesses into tests/fuzz/corpus/<target>/ from the unit
test fixtures (tests/fixtures/) and hand-made edge cases. Idempotent; seeds are small (the
largest is a captured sock_diag reply, 3 KiB). Crash reproducers found by fuzzing are committed
next to them under names starting with 'crash-' (this script leaves those alone).

Usage: tests/fuzz/make_seeds.py
"""
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
SPLIT = b"--8<--"  # buffer separator of fuzz_sock_diag.c

NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, SOCK_DIAG_BY_FAMILY = 1, 2, 3, 20
NLM_F_MULTI, NLM_F_DUMP_INTR = 0x2, 0x10
AF_INET, AF_INET6 = 2, 10


def fixture(*path):
    with open(os.path.join(FIX, *path), "rb") as f:
        return f.read()


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def nlmsg(mtype, payload, flags=NLM_F_MULTI, seq=1, length=None):
    n = 16 + len(payload) if length is None else length
    pad = b"\0" * ((4 - len(payload) % 4) % 4)
    return struct.pack("=IHHII", n, mtype, flags, seq, 0) + payload + pad


def diag_msg(family, state, sport, dport, src, dst, cookie, inode=0, attrs=b""):
    sock_id = struct.pack(">HH", sport, dport) + src.ljust(16, b"\0") + dst.ljust(16, b"\0")
    sock_id += struct.pack("=III", 0, cookie & 0xffffffff, cookie >> 32)
    head = struct.pack("=BBBB", family, state, 0, 0) + sock_id
    return head + struct.pack("=IIIII", 0, 0, 0, 1000, inode) + attrs


def rtattr(rtype, payload, length=None):
    n = 4 + len(payload) if length is None else length
    return struct.pack("=HH", n, rtype) + payload + b"\0" * ((4 - len(payload) % 4) % 4)


def sock_diag_seeds():
    v4_0, v4_1 = fixture("sock_diag", "inet4_0.bin"), fixture("sock_diag", "inet4_1.bin")
    v6_0, v6_1 = fixture("sock_diag", "inet6_0.bin"), fixture("sock_diag", "inet6_1.bin")
    done = nlmsg(NLMSG_DONE, struct.pack("=i", 0))
    lo = bytes([127, 0, 0, 1])
    mapped = b"\0" * 10 + b"\xff\xff" + lo
    meminfo = rtattr(1, struct.pack("=9I", *range(9)))  # INET_DIAG_SKMEMINFO
    one = nlmsg(SOCK_DIAG_BY_FAMILY, diag_msg(AF_INET, 1, 40000, 80, lo, lo, 0x1122, 7, meminfo))
    seeds = {
        "inet4_0": v4_0, "inet4_1": v4_1, "inet6_0": v6_0, "inet6_1": v6_1,
        "multipart_v4": v4_0 + SPLIT + v4_1,
        "multipart_both": v4_0 + SPLIT + v4_1 + SPLIT + v6_0 + SPLIT + v6_1,
        "stop_after_2": b"\x02" + v4_0 + SPLIT + v4_1,
        "truncated_header": v4_0[:10],
        "truncated_msg": v4_0[:60],
        "truncated_attr": v4_0[:len(one) - 6] if len(v4_0) > 100 else v4_0,
        "error_eperm": nlmsg(NLMSG_ERROR, struct.pack("=i", -1) + v4_0[:16], flags=0),
        "error_ack": nlmsg(NLMSG_ERROR, struct.pack("=i", 0), flags=0),
        "error_positive": nlmsg(NLMSG_ERROR, struct.pack("=i", 5), flags=0),
        "error_short": nlmsg(NLMSG_ERROR, b"\x01\x02", flags=0),
        "done_error": nlmsg(NLMSG_DONE, struct.pack("=i", -16)),
        "done_short": nlmsg(NLMSG_DONE, b""),
        "dump_intr": nlmsg(SOCK_DIAG_BY_FAMILY, diag_msg(AF_INET, 6, 1, 2, lo, lo, 5),
                           flags=NLM_F_MULTI | NLM_F_DUMP_INTR)
        + nlmsg(NLMSG_DONE, struct.pack("=i", 0), flags=NLM_F_MULTI | NLM_F_DUMP_INTR),
        "noop_then_done": nlmsg(NLMSG_NOOP, b"") + done,
        "len_too_big": nlmsg(SOCK_DIAG_BY_FAMILY, diag_msg(AF_INET, 1, 1, 2, lo, lo, 9),
                             length=4096),
        "len_too_small": nlmsg(SOCK_DIAG_BY_FAMILY, b"", length=8),
        "bad_family": nlmsg(SOCK_DIAG_BY_FAMILY, diag_msg(7, 1, 1, 2, lo, lo, 9)) + done,
        "v4mapped": nlmsg(SOCK_DIAG_BY_FAMILY, diag_msg(AF_INET6, 1, 1, 2, mapped, mapped, 3))
        + done,
        "meminfo": one + done,
        "meminfo_short": nlmsg(SOCK_DIAG_BY_FAMILY, diag_msg(AF_INET, 1, 1, 2, lo, lo, 4, 1,
                                                             rtattr(1, b"\0" * 8))) + done,
        "attr_len_zero": nlmsg(SOCK_DIAG_BY_FAMILY, diag_msg(AF_INET, 1, 1, 2, lo, lo, 4, 1,
                                                             rtattr(1, b"", length=0))) + done,
        "attr_len_past_end": nlmsg(SOCK_DIAG_BY_FAMILY, diag_msg(
            AF_INET, 1, 1, 2, lo, lo, 4, 1, rtattr(1, b"\0" * 4, length=200))) + done,
        "empty": b"",
    }
    for name, data in seeds.items():
        write("sock_diag", name, data)


def proc_seeds():
    # Selector byte: low 3 bits the parser (0 comm, 1 cgroup, 2 netstat, 3 port range, 4 int),
    # high 5 bits the output buffer size - 1.
    def sel(parser, size=16):
        return bytes([(size - 1) << 3 | parser])

    for pid in ("100", "200", "300", "400"):
        path = os.path.join(FIX, "proc", pid, "comm")
        if os.path.exists(path):
            write("proc", f"comm_{pid}", sel(0) + fixture("proc", pid, "comm"))
        path = os.path.join(FIX, "proc", pid, "cgroup")
        if os.path.exists(path):
            write("proc", f"cgroup_{pid}", sel(1, 32) + fixture("proc", pid, "cgroup"))
    odd = {
        "comm_spaces_parens": sel(0) + b"a (b) c)\n",
        "comm_newlines": sel(0) + b"x\ny\n\n",
        "comm_quote_backslash": sel(0) + b'q"\\\n\xff\n',
        "comm_15": sel(0) + b"fifteen-chars-x\n",
        "comm_too_long": sel(0, 4) + b"longer than four\n",
        "comm_empty": sel(0) + b"",
        "comm_only_newline": sel(0) + b"\n",
        "cgroup_v1_only": sel(1, 32) + b"1:name=systemd:/init.scope\n",
        "cgroup_odd_bytes": sel(1, 32) + b"0::/a\x01\xff\x7f\"\\b\n",
        "cgroup_no_newline": sel(1, 32) + b"0::/x",
        "cgroup_empty_path": sel(1, 32) + b"0::\n",
        "cgroup_nul": sel(1, 32) + b"0::/a\0b\n",
        "netstat": sel(2) + fixture("proc", "net", "netstat"),
        "netstat_header_only": sel(2) + b"TcpExt: ListenOverflows ListenDrops\n",
        "netstat_short_values": sel(2) + b"TcpExt: ListenOverflows ListenDrops\nTcpExt: 1\n",
        "netstat_overflow": sel(2)
        + b"TcpExt: ListenOverflows ListenDrops\nTcpExt: 18446744073709551616 1\n",
        "port_range": sel(3) + fixture("proc", "sys", "net", "ipv4", "ip_local_port_range"),
        "int_fin_timeout": sel(4) + fixture("proc", "sys", "net", "ipv4", "tcp_fin_timeout"),
    }
    for name in os.listdir(os.path.join(FIX, "proc_bad")):
        odd["port_range_" + name] = sel(3) + fixture("proc_bad", name, "sys", "net", "ipv4",
                                                     "ip_local_port_range")
    for name in os.listdir(os.path.join(FIX, "proc_values")):
        odd["int_" + name] = sel(4) + fixture("proc_values", name)
    for name, data in odd.items():
        write("proc", name, data)


TS_F_OWNER_CTX, TS_F_FIN_RCVD, TS_F_NO_SOCK, TS_F_TW_KNOWN = 1, 4, 8, 32


def record(ts, cookie, kind, old, new, family, sport=40000, dport=80, pid=4242, flags=0, aux=0,
           comm=b"curl", src=b"\x7f\0\0\1", dst=b"\x7f\0\0\1", netns=4026531840):
    head = struct.pack("=QQIIIBBBBHHB3x", ts, cookie, netns, pid, aux, kind, old, new, flags,
                       sport, dport, family)
    alen = {0: 0, AF_INET: 4, AF_INET6: 16}[family]
    body = head + src[:alen].ljust(alen, b"\0") + dst[:alen].ljust(alen, b"\0")
    if flags & TS_F_OWNER_CTX:
        body += comm[:16].ljust(16, b"\0")
    return bytes([len(body)]) + body


AUDIT_ITEM, AUDIT_END = b"\xff", b"\xfe"  # items of fuzz_record.c's stream


def dumped(cookie, state, sport, dport, inode=0, v4=True, src=b"\x7f\0\0\1", dst=b"\x7f\0\0\1"):
    """One socket of an audit's dump: struct diag_sock (family: odd byte = AF_INET)."""
    return AUDIT_ITEM + struct.pack("=QIIBBBBHH16s16sIIII", cookie, inode, 0, state,
                                    1 if v4 else 0, 0, 0, sport, dport, src, dst, 0, 0, 0, 0)


def record_seeds():
    ms = 1000000
    c, s, l = 0x1001, 0x2002, 0x3003
    v6 = b"\0" * 15 + b"\1"
    seeds = {
        "client_to_time_wait": b"".join([
            record(1 * ms, c, 1, 7, 2, AF_INET, flags=TS_F_OWNER_CTX, sport=0),
            record(2 * ms, c, 1, 2, 1, AF_INET),
            record(3 * ms, c, 1, 1, 4, AF_INET, flags=TS_F_OWNER_CTX),
            record(4 * ms, c, 1, 4, 5, AF_INET),
            record(5 * ms, c, 1, 5, 7, AF_INET, flags=TS_F_TW_KNOWN, aux=6),
        ]),
        "listener_accept_close_wait": b"".join([
            record(1 * ms, l, 1, 7, 10, AF_INET, sport=80, dport=0, flags=TS_F_OWNER_CTX,
                   comm=b"nginx"),
            record(2 * ms, s, 1, 10, 3, AF_INET, sport=80, dport=40000),
            record(3 * ms, s, 1, 3, 1, AF_INET, sport=80, dport=40000),
            record(4 * ms, s, 2, 0, 0, 0, flags=TS_F_OWNER_CTX, comm=b"nginx"),
            record(5 * ms, s, 1, 1, 8, AF_INET, sport=80, dport=40000, flags=TS_F_FIN_RCVD),
            record(6 * ms, s, 1, 8, 9, AF_INET, sport=80, dport=40000, flags=TS_F_OWNER_CTX),
            record(7 * ms, s, 1, 9, 7, AF_INET, sport=80, dport=40000),
        ]),
        "v6_reset_retrans_error": b"".join([
            record(1 * ms, c, 1, 7, 2, AF_INET6, src=v6, dst=v6, flags=TS_F_OWNER_CTX),
            record(2 * ms, c, 3, 0, 0, AF_INET6, src=v6, dst=v6, aux=1),
            record(3 * ms, c, 6, 0, 0, AF_INET6, src=v6, dst=v6),
            record(4 * ms, c, 7, 0, 0, AF_INET6, src=v6, dst=v6, aux=111),
            record(5 * ms, 0, 5, 0, 0, AF_INET, flags=TS_F_NO_SOCK, aux=0xffffffff),
            record(6 * ms, c, 1, 2, 7, AF_INET6, src=v6, dst=v6),
        ]),
        "cookie_zero": record(1 * ms, 0, 1, 7, 2, AF_INET) * 3,
        "unknown_kind_family": record(1 * ms, c, 99, 0, 0, AF_INET) + b"\x28" + b"\x0b" * 40,
        "bad_states": record(1 * ms, c, 1, 200, 13, AF_INET) + record(2 * ms, c, 1, 0, 0, AF_INET),
        "short_record": b"\x10" + b"\0" * 16,
        "audit_after_events": b"".join([
            record(1 * ms, l, 1, 7, 10, AF_INET, sport=80, dport=0, flags=TS_F_OWNER_CTX),
            record(2 * ms, c, 1, 7, 2, AF_INET, flags=TS_F_OWNER_CTX, sport=0),
            record(3 * ms, c, 1, 2, 1, AF_INET),
            dumped(c, 8, 40000, 80, inode=11),   # the kernel says CLOSE_WAIT
            dumped(0x4004, 1, 80, 40001, inode=12),  # one the table never saw
            dumped(l, 10, 80, 0, inode=13),
            record(4 * ms, s, 1, 10, 3, AF_INET, sport=80, dport=40002),  # during the dump
            AUDIT_END,
            record(5 * ms, c, 1, 8, 9, AF_INET, flags=TS_F_OWNER_CTX),
        ]),
        "audit_stale_and_timewait": b"".join([
            record(1 * ms, c, 1, 7, 2, AF_INET, flags=TS_F_OWNER_CTX, sport=0),
            record(2 * ms, c, 1, 2, 1, AF_INET),
            record(3 * ms, s, 1, 7, 2, AF_INET6, src=b"\0" * 15 + b"\1", dst=b"\0" * 15 + b"\1"),
            dumped(0x5005, 6, 40003, 80), dumped(0x6006, 5, 40004, 80),
            dumped(0x7007, 3, 80, 40005, v4=False, src=b"\0" * 15 + b"\1",
                   dst=b"\0" * 15 + b"\1"),
            AUDIT_END,
        ]),
    }
    for name, data in seeds.items():
        write("record", name, data)


def options_seeds():
    # Selector byte: 0 --listen, 1 --port, 2 --pid, 3 a duration, 4 --state, 5 --ringbuf-kb.
    values = {
        0: ["127.0.0.1:9976", "[::1]:9976", "[::]:65535", ":9976", "9976", "localhost:0",
            "::1:9976", "[::1]9976", "[::1", "[127.0.0.1]:80", "[]:80", "1.2.3.4:65536",
            "host.example:80", "[fe80::1%eth0]:80", ":", "[::ffff:1.2.3.4]:1"],
        1: ["0", "65535", "65536", "-1", "+80", " 80", "80x", "0x50", "99999999999999999999"],
        2: ["1", "2147483647", "2147483648", "0"],
        3: ["0.5", "1", "1e3", "31536000", "31536001", "nan", "inf", "-1", "0", "1e-10",
            "0x10", " 5", "5 "],
        4: ["close_wait,time_wait", "ESTABLISHED", "close-wait", ",,", "listen,", "bogus",
            "new_syn_recv", "x" * 300, "time_wait," * 40],
        5: ["64", "4", "3", "1048576", "1048577", "0", "-4", "16384"],
    }
    for sel, vals in values.items():
        for i, v in enumerate(vals):
            write("options", f"{sel}_{i}", bytes([sel]) + v.encode())


def escape_seeds():
    seeds = {
        "plain": b"nginx",
        "quote_backslash_newline": b'a"b\\c\nd',
        "controls": bytes(range(1, 32)) + b"\x7f",
        "invalid_utf8": b"ok\xff\xfe\xc0\xafx",
        "valid_utf8": "caf\u00e9 \u20ac \U0001f600".encode(),
        "overlong_surrogate": b"\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80",
        "truncated_seq": b"\xe2\x82",
        "comm_like": b'q"\\\n\xff',
        "line_separators": "\u2028\u2029".encode(),
        "empty": b"",
    }
    for name, data in seeds.items():
        write("escape", name, data)


def main():
    sock_diag_seeds()
    proc_seeds()
    record_seeds()
    options_seeds()
    escape_seeds()


if __name__ == "__main__":
    main()
