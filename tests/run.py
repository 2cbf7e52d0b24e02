#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""tcpstate test runner: unit test binaries, integration tests (real BPF, real sockets in private
network namespaces) and deployment checks. Ends with one line `N passed, N failed, N skipped`.

Usage: tests/run.py [--build DIR] [--only SUBSTRING]... [--unit-only | --integration-only]

--only may be repeated: a test runs if its name contains any of them (unit test binaries are
named unit/test_NAME, integration tests test_FILE/test_NAME, deployment checks deploy/...).
"""
import argparse
import glob
import importlib.util
import os
import subprocess
import shutil
import sys
import tempfile
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


class SanitizerLogs:
    """Sanitizer reports (make check SANITIZE=1) of every process a test starts, tcpstate run by
    an integration test included, go to files in one directory (ASAN_OPTIONS/UBSAN_OPTIONS
    log_path; the variables are ignored by binaries built without sanitizers). A test during
    which a report appeared fails with it, whatever the process's exit status was."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tcpstate-san-")
        self.seen = set()
        for var, extra in (("ASAN_OPTIONS", "detect_leaks=1:"), ("UBSAN_OPTIONS",
                                                                  "print_stacktrace=1:")):
            base = os.environ.get(var, "")
            os.environ[var] = f"{base}{':' if base else ''}{extra}log_path={self.dir}/report"

    def new_reports(self):
        """Text of the reports written since the last call ('' if none)."""
        text = []
        for name in sorted(os.listdir(self.dir)):
            if name not in self.seen:
                self.seen.add(name)
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    text.append(f"{name}:\n{f.read()}")
        return "\n".join(text)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


SAN = None


def selected(name, only):
    """Whether a test runs under the --only substrings given (all run when there are none)."""
    return not only or any(o in name for o in only)


def run_unit(build, res, only):
    for binary in sorted(glob.glob(os.path.join(build, "tests", "test_*"))):
        name = os.path.basename(binary)
        if not selected(f"unit/{name}", only):
            continue
        p = subprocess.run([binary], cwd=ROOT, capture_output=True, text=True, timeout=300)
        for line in p.stdout.splitlines():
            if line.startswith(("PASS ", "FAIL ")):
                status, case = line.split(" ", 1)
                res.record(f"unit/{case}", status, p.stderr.strip()[-2000:] if status == "FAIL" else "")
        reports = SAN.new_reports()
        if reports:
            res.record(f"unit/{name}", "FAIL", f"sanitizer report:\n{reports[-4000:]}")
        elif p.returncode != 0 and "FAIL" not in p.stdout:
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
            if not selected(name, only):
                continue
            if reason:
                # In CI (root) integration tests must run: not being able to is a failure.
                status = "FAIL" if os.environ.get("CI") else "SKIP"
                res.record(name, status, f"BPF unavailable: {reason}")
                continue
            start = time.monotonic()
            try:
                getattr(mod, fname)()
                lib.cleanup_all()
                reports = SAN.new_reports()
                if reports:
                    raise AssertionError(f"sanitizer report:\n{reports[-4000:]}")
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
    if not os.path.exists(script) or not selected("deploy/", only):
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
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--unit-only", action="store_true")
    ap.add_argument("--integration-only", action="store_true",
                    help="only the tests that depend on the kernel (tests/vm runs these)")
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build) if not os.path.isabs(args.build) else args.build
    global SAN
    SAN = SanitizerLogs()
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
    SAN.close()
    print(f"{len(res.passed)} passed, {len(res.failed)} failed, {len(res.skipped)} skipped")
    sys.exit(1 if res.failed else 0)


if __name__ == "__main__":
    main()
