#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""tcpstate test runner: unit test binaries, integration tests (real BPF, real sockets in private
network namespaces) and deployment checks. Ends with one line `N passed, N failed, N skipped`.

Usage: tests/run.py [--build DIR] [--only SUBSTRING] [--unit-only | --integration-only]
"""
import argparse
import glob
import importlib.util
import os
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


class Results:
    def __init__(self):
        self.passed, self.failed, self.skipped = [], [], []

    def record(self, name, status, detail=""):
        {"PASS": self.passed, "FAIL": self.failed, "SKIP": self.skipped}[status].append((name, detail))
        line = f"{status} {name}"
        if detail and status != "PASS":
            line += f": {detail}"
        print(line, flush=True)


def run_unit(build, res, only):
    for binary in sorted(glob.glob(os.path.join(build, "tests", "test_*"))):
        name = os.path.basename(binary)
        if only and only not in name:
            continue
        p = subprocess.run([binary], cwd=ROOT, capture_output=True, text=True, timeout=300)
        for line in p.stdout.splitlines():
            if line.startswith(("PASS ", "FAIL ")):
                status, case = line.split(" ", 1)
                res.record(f"unit/{case}", status, p.stderr.strip()[-2000:] if status == "FAIL" else "")
        if p.returncode != 0 and "FAIL" not in p.stdout:
            res.record(f"unit/{name}", "FAIL", f"exit {p.returncode}: {p.stderr.strip()[-2000:]}")


def bpf_unavailable_reason():
    if os.geteuid() != 0:
        return "not running as root"
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "kernel has no BTF (/sys/kernel/btf/vmlinux)"
    return None


def run_integration(build, res, only):
    import lib  # tests/integration/lib.py
    lib.BUILD = os.path.abspath(build)
    reason = bpf_unavailable_reason()
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "integration", "test_*.py"))):
        modname = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for fname in sorted(n for n in dir(mod) if n.startswith("test_")):
            name = f"{modname}/{fname}"
            if only and only not in name:
                continue
            if reason:
                # In CI (root) integration tests must run: not being able to is a failure.
                status = "FAIL" if os.environ.get("CI") else "SKIP"
                res.record(name, status, f"BPF unavailable: {reason}")
                continue
            start = time.monotonic()
            try:
                getattr(mod, fname)()
                res.record(name, "PASS")
            except lib.Skip as e:
                res.record(name, "SKIP", str(e))
            except Exception as e:  # noqa: BLE001 - report every failure the same way
                detail = str(e) or e.__class__.__name__
                if not isinstance(e, AssertionError):
                    detail += "\n" + traceback.format_exc()
                res.record(name, "FAIL", detail)
            finally:
                lib.cleanup_all()
            print(f"     ({time.monotonic() - start:.1f}s)", flush=True)


def run_deploy(res, only):
    script = os.path.join(ROOT, "tests", "deploy", "check_deploy.sh")
    if not os.path.exists(script) or (only and "deploy" not in only):
        return
    p = subprocess.run(["bash", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    for line in p.stdout.splitlines():
        if line.startswith("PASS "):
            res.record(f"deploy/{line[5:]}", "PASS")
        elif line.startswith("FAIL "):
            name, _, why = line[5:].partition(":")
            res.record(f"deploy/{name}", "FAIL", why.strip())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default="")
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--integration-only", action="store_true",
                    help="only the tests that depend on the kernel (tests/vm runs these)")
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build) if not os.path.isabs(args.build) else args.build
    res = Results()
    if not args.integration_only:
        run_unit(build, res, args.only)
    if not args.unit_only:
        run_integration(build, res, args.only)
        if not args.integration_only:
            run_deploy(res, args.only)
    if res.skipped:
        print("Skipped:")
        for name, why in res.skipped:
            print(f"  {name}: {why}")
    print(f"{len(res.passed)} passed, {len(res.failed)} failed, {len(res.skipped)} skipped")
    sys.exit(1 if res.failed else 0)


if __name__ == "__main__":
    main()
