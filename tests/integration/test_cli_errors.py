# SPDX-License-Identifier: GPL-2.0-only
"""Bad flags, missing privilege: one clear line, non-zero exit, no libbpf noise."""
import subprocess

import lib
from lib import expect_eq

CASES = [
    (["trace", "--bogus"], 2, "invalid option"),
    (["trace", "--port", "70000"], 2, "invalid --port value '70000'"),
    (["trace", "--pid", "abc"], 2, "invalid --pid value 'abc'"),
    (["trace", "--state", "nonsense"], 2, "invalid --state value 'nonsense'"),
    (["trace", "--ringbuf-kb", "3"], 2, "must be a power of two"),
    (["trace", "--duration", "-1"], 2, "invalid --duration value"),
    (["trace", "extra"], 2, "unexpected argument"),
    (["frobnicate"], 2, "unknown command 'frobnicate'"),
    ([], 2, "Usage"),
]


def run(argv, user=None):
    cmd = [lib.tcpstate_bin()] + argv
    if user:
        cmd = ["setpriv", "--reuid", user, "--regid", user, "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=20)


def test_bad_options_table():
    for argv, code, text in CASES:
        p = run(argv)
        expect_eq(p.returncode, code, f"exit status of tcpstate {' '.join(argv)}")
        if text not in p.stderr:
            raise AssertionError(f"tcpstate {' '.join(argv)}: expected {text!r} in stderr, got "
                                 f"{p.stderr!r}")
        if argv and len(p.stderr.strip().splitlines()) != 1:
            raise AssertionError(f"tcpstate {' '.join(argv)}: expected one error line, got "
                                 f"{p.stderr!r}")


def test_help_documents_every_option():
    p = run(["trace", "--help"])
    expect_eq(p.returncode, 0, "trace --help exit status")
    for opt in ("--json", "--pid", "--port", "--state", "--duration", "--ringbuf-kb",
                "--no-seed", "--verbose"):
        if opt not in p.stdout:
            raise AssertionError(f"trace --help does not document {opt}")
    p = run(["--help"])
    for cmd in ("serve", "trace", "snapshot"):
        if cmd not in p.stdout:
            raise AssertionError(f"tcpstate --help does not list {cmd}")


def test_unprivileged_user_gets_one_clear_line():
    p = run(["trace", "--duration", "1"], user="65534")
    expect_eq(p.returncode, 1, "exit status without privilege")
    lines = p.stderr.strip().splitlines()
    expect_eq(len(lines), 1, f"stderr lines without privilege ({p.stderr!r})")
    if "run as root" not in lines[0] or "libbpf" in p.stderr:
        raise AssertionError(f"expected a hint to run as root and no libbpf text, got {lines[0]!r}")
