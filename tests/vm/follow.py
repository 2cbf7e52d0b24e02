#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Copy the guest's command output (a serial port written to a file) to stdout line by line until
the guest's TCPSTATE_VM_EXIT=<status> line, and exit with that status; 124 if QEMU stops first or
the time runs out (then the kernel log's tail goes to stderr).

Usage: follow.py OUT_FILE QEMU_PID TIMEOUT_S KERNEL_LOG RELEASE"""
import os
import sys
import time

MARK = b"TCPSTATE_VM_EXIT="


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie is not running: our parent has not reaped it yet
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def kernel_tail(path, n=30):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").replace("\r", "").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return str(e)


def main():
    out, pid, timeout, klog, release = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
        sys.argv[4], sys.argv[5]
    deadline = time.monotonic() + timeout
    pending = b""
    stopped_at = None
    with open(out, "rb") as f:
        while True:
            chunk = f.read(65536)
            if chunk:
                pending += chunk.replace(b"\r", b"")
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.startswith(MARK):
                        sys.stdout.flush()
                        return int(line[len(MARK):] or b"1")
                    sys.stdout.buffer.write(line + b"\n")
                sys.stdout.flush()
                continue
            if not alive(pid):
                stopped_at = stopped_at or time.monotonic()
                if time.monotonic() - stopped_at > 1:  # read what it wrote last
                    why = "the VM stopped before the command finished"
                    break
            if time.monotonic() > deadline:
                why = f"timed out after {timeout:.0f}s"
                break
            time.sleep(0.2)
    sys.stdout.buffer.write(pending)
    sys.stderr.write(f"vm: {why} under Linux {release}; kernel log tail:\n"
                     f"{kernel_tail(klog)}\n")
    return 124


if __name__ == "__main__":
    sys.exit(main())
