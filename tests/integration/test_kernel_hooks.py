# SPDX-License-Identifier: GPL-2.0-only
"""Which hooks run on this kernel, and how: `tcpstate check` loads every program on the running
kernel and must come to what the kernel's version promises (tests/vm runs this on Debian's
5.10, 6.1 and 6.12 kernels); /metrics and the start-up line say the same."""
import os
import re
import subprocess

import lib
from lib import expect_eq

HOOKS = ("inet_sock_set_state", "nested_state_changes", "accept", "tcp_retransmit_skb",
         "tcp_retransmit_synack", "tcp_send_reset", "tcp_receive_reset", "inet_sk_error_report",
         "timewait_kill")
# fentry: in every Debian kernel of the matrix, not on this project's own 6.18 machines, where
# tcp_send_reset (complete since 6.10) makes the hook unneeded.
FENTRY = os.environ.get("TCPSTATE_VM_KERNEL") is not None


def kernel_version():
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return int(m.group(1)), int(m.group(2))


def expected_hooks(v=None):
    """{hook: (attach, status)} that tcpstate must reach on kernel version v."""
    v = v or kernel_version()
    want = {h: ("tp_btf", "complete") for h in HOOKS}
    want["accept"] = ("tracepoint", "complete")
    want["nested_state_changes"] = ("iter", "complete") if v >= (5, 19) else ("mark", "degraded")
    if v < (6, 10):
        want["tcp_send_reset"] = ("tp_btf", "degraded")  # no reset reason argument
    if v < (5, 14):
        want["inet_sk_error_report"] = ("off", "off")  # the tracepoint came in 5.14
    if v < (5, 12):
        want["inet_sock_set_state"] = ("tp_btf", "degraded")  # no cookie helper for tracing
    want["timewait_kill"] = ("fentry", "complete") if FENTRY or v < (6, 10) else ("off", "unneeded")
    return want


def check_table(out):
    rows = {}
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[0] in HOOKS:
            rows[parts[0]] = (parts[1], parts[2])
    return rows


def test_check_reports_what_this_kernel_promises():
    p = subprocess.run([lib.tcpstate_bin(), "check"], capture_output=True, text=True, timeout=60)
    rows = check_table(p.stdout)
    want = expected_hooks()
    for hook in HOOKS:
        expect_eq(rows.get(hook), want[hook], f"hook {hook} on Linux {os.uname().release}")
    exact = kernel_version() >= (5, 12)
    expect_eq(p.returncode, 0 if exact else 1, f"check's exit status\n{p.stdout}{p.stderr}")
    verdict = [l for l in p.stdout.splitlines() if l.startswith("verdict:")]
    expect_eq(len(verdict), 1, "one verdict line")
    if exact != verdict[0].startswith("verdict: exact"):
        raise AssertionError(f"verdict {verdict[0]!r} on Linux {os.uname().release}")
    for line in p.stdout.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[0] in HOOKS and parts[2] != "complete" and len(parts) < 4:
            raise AssertionError(f"hook {parts[0]} is {parts[2]} without saying why: {line!r}")


def test_kernel_profiles_match_the_unit_tests():
    """The version rules above, for the kernels of the matrix (pure: no BPF)."""
    expect_eq(expected_hooks((6, 1))["tcp_send_reset"], ("tp_btf", "degraded"), "6.1 reset")
    expect_eq(expected_hooks((6, 1))["inet_sock_set_state"], ("tp_btf", "complete"), "6.1")
    expect_eq(expected_hooks((5, 10))["inet_sk_error_report"], ("off", "off"), "5.10 errors")


def test_start_line_and_metrics_name_every_hook():
    import test_serve  # the exporter helpers
    p, addr = test_serve.start_serve()
    try:
        summary = [l for l in p.err_lines if "hooks:" in l]
        expect_eq(len(summary), 1, f"one summary line at start, got {p.err_lines}")
        want = expected_hooks()
        complete = sum(1 for a, s in want.values() if s in ("complete", "unneeded"))
        if f"hooks: {complete} of {len(HOOKS)} complete" not in summary[0]:
            raise AssertionError(f"summary {summary[0]!r}, expected {complete} complete")
        status, _, body = test_serve.http_get(addr, "/metrics")
        expect_eq(status, 200, "/metrics status")
        got = {}
        for m in re.finditer(r'^tcpstate_hook_info\{hook="([^"]+)",attach="([^"]+)",'
                             r'status="([^"]+)"\} 1$', body, re.M):
            got[m.group(1)] = (m.group(2), m.group(3))
        expect_eq(got, want, "tcpstate_hook_info series")
    finally:
        expect_eq(p.stop(), 0, "serve's exit status after SIGTERM")
