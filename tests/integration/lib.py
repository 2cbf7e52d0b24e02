# SPDX-License-Identifier: GPL-2.0-only
"""Helpers for integration tests: private network namespaces, veth pairs, the tcpstate binary
and the tcpwork workload. Everything a test creates is registered and removed by cleanup_all(),
which the runner calls after every test, whatever happened."""
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time

BUILD = "build"
# Under emulation (tests/vm: QEMU without KVM) everything takes a few times longer: observation
# windows (--duration) and waits stretch by this factor. 1 on real hardware.
TIME_SCALE = float(os.environ.get("TCPSTATE_TEST_TIME_SCALE", "1"))
KERNEL = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
_procs = []
_netns = []
_hooks = None


class Skip(Exception):
    """Raised by a test that cannot run here, with the reason."""


def tcpstate_bin():
    return os.path.join(BUILD, "tcpstate")


_sanitized = None


def sanitized():
    """Is tcpstate built with AddressSanitizer (make check SANITIZE=1)? Its allocator keeps freed
    memory in quarantine, so memory figures say nothing there."""
    global _sanitized
    if _sanitized is None:
        with open(tcpstate_bin(), "rb") as f:
            _sanitized = b"__asan_init" in f.read()
    return _sanitized


def tcpwork_bin():
    return os.path.join(BUILD, "tools", "tcpwork")


def churn_bin():
    return os.path.join(BUILD, "bench", "churn")


def sh(cmd, check=True, timeout=30):
    p = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"command failed ({p.returncode}): {cmd}\n{p.stderr}")
    return p


class Netns:
    """A private network namespace with loopback up."""
    _seq = 0

    def __init__(self, tag="t"):
        Netns._seq += 1
        self.name = f"tcpst_{tag}_{os.getpid()}_{Netns._seq}"
        sh(["ip", "netns", "add", self.name])
        _netns.append(self.name)
        self.exec(["ip", "link", "set", "lo", "up"])
        self.inode = os.stat(f"/run/netns/{self.name}").st_ino

    def cmd(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def exec(self, argv, check=True, timeout=30):
        return sh(self.cmd(argv), check=check, timeout=timeout)

    def ss_states(self, extra=()):
        """Counts of TCP sockets by state as ss reports them (lower-case names)."""
        out = self.exec(["ss", "-Htan"] + list(extra)).stdout
        counts = {}
        for line in out.splitlines():
            st = line.split()[0].lower().replace("-", "_")
            st = {"estab": "established", "syn_recv": "syn_recv", "fin_wait_1": "fin_wait1",
                  "fin_wait_2": "fin_wait2", "unconn": "close", "listen": "listen"}.get(st, st)
            counts[st] = counts.get(st, 0) + 1
        return counts


def veth_pair(a, b, v4=("10.201.0.1", "10.201.0.2"), v6=("fd00:201::1", "fd00:201::2")):
    """Join namespaces a and b with a veth pair carrying one IPv4 and one IPv6 address each."""
    ia, ib = f"va{Netns._seq}", f"vb{Netns._seq}"
    a.exec(["ip", "link", "add", ia, "type", "veth", "peer", "name", ib, "netns", b.name])
    for ns, ifc, a4, a6 in ((a, ia, v4[0], v6[0]), (b, ib, v4[1], v6[1])):
        ns.exec(["ip", "addr", "add", f"{a4}/24", "dev", ifc])
        ns.exec(["ip", "-6", "addr", "add", f"{a6}/64", "dev", ifc, "nodad"])
        ns.exec(["ip", "link", "set", ifc, "up"])
    return v4, v6


class Proc:
    """A child process whose stdout lines are collected by a thread."""

    def __init__(self, argv, stderr=subprocess.PIPE):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                  bufsize=1)
        _procs.append(self)
        self.lines = queue.Queue()
        self.all = []
        self.err_lines = []
        threading.Thread(target=self._pump, args=(self.p.stdout, True), daemon=True).start()
        if stderr == subprocess.PIPE:
            threading.Thread(target=self._pump, args=(self.p.stderr, False), daemon=True).start()

    def _pump(self, f, is_out):
        for line in f:
            line = line.rstrip("\n")
            if is_out:
                self.all.append(line)
                self.lines.put(line)
            else:
                self.err_lines.append(line)

    def wait_line(self, pattern, timeout=15):
        """Wait for a stdout line matching pattern; returns the match."""
        deadline = time.monotonic() + timeout * TIME_SCALE
        rx = re.compile(pattern)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for /{pattern}/ from {self.argv}; "
                                     f"stdout tail {self.all[-5:]}, stderr {self.err_lines[-5:]}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            m = rx.search(line)
            if m:
                return m

    def wait_stderr(self, pattern, timeout=15):
        deadline = time.monotonic() + timeout * TIME_SCALE
        while time.monotonic() < deadline:
            if any(re.search(pattern, l) for l in self.err_lines):
                return
            if self.p.poll() is not None:
                time.sleep(0.1)
                break
            time.sleep(0.02)
        if not any(re.search(pattern, l) for l in self.err_lines):
            raise AssertionError(f"timed out waiting for /{pattern}/ on stderr of {self.argv}: "
                                 f"{self.err_lines[-5:]} (exit {self.p.poll()})")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"{self.argv} did not stop within {timeout}s of signal {sig}")
        time.sleep(0.1)  # let the pump threads finish
        return self.p.returncode


def tcpwork(ns, args):
    """Start tcpwork inside namespace ns (or on the host if ns is None)."""
    argv = [tcpwork_bin()] + list(args)
    return Proc(ns.cmd(argv) if ns else argv)


def scaled_args(args):
    """args with the value of --duration stretched by TIME_SCALE."""
    args = list(args)
    for i, a in enumerate(args[:-1]):
        if a == "--duration" and TIME_SCALE != 1:
            args[i + 1] = f"{float(args[i + 1]) * TIME_SCALE:g}"
    return args


def tcpstate(args, ready=True):
    """Start tcpstate with args; waits until it says it is tracing/serving."""
    p = Proc([tcpstate_bin()] + scaled_args(args))
    if ready:
        p.wait_stderr(r"tracing TCP|serving|listening on", timeout=30)
    return p


def json_events(p):
    return [json.loads(l) for l in p.all if l.startswith("{")]


def wait_until(fn, timeout=10, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout * TIME_SCALE
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last value {last!r})")


def cleanup_all():
    while _procs:
        pr = _procs.pop()
        if pr.p.poll() is None:
            pr.p.kill()
            try:
                pr.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    while _netns:
        name = _netns.pop()
        for _ in range(5):  # a namespace whose last process is still exiting can be busy
            if subprocess.run(["ip", "netns", "del", name], capture_output=True).returncode == 0 \
                    or not os.path.exists(f"/run/netns/{name}"):
                break
            time.sleep(0.2)


def hooks():
    """{hook: (attach, status, why)} as `tcpstate check` finds them on this kernel (run once)."""
    global _hooks
    if _hooks is None:
        out = sh([tcpstate_bin(), "check"], check=False, timeout=120).stdout
        _hooks = {}
        for line in out.splitlines():
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[2] in ("complete", "degraded", "off"):
                _hooks[parts[0]] = (parts[1], parts[2], parts[3] if len(parts) > 3 else "")
    return _hooks


def hook_off(name):
    """Why the hook is not attached on this kernel ("" when it runs)."""
    attach, status, why = hooks().get(name, ("off", "off", "not reported by tcpstate check"))
    return f"{name} is off on Linux {os.uname().release}: {why}" if status == "off" else ""


def expect_eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: expected {want!r}, got {got!r}")


def bpf_prog_ids():
    """Ids of every BPF program loaded in the kernel."""
    out = sh(["bpftool", "prog", "show"]).stdout
    return {int(l.split(":")[0]) for l in out.splitlines() if l and l[0].isdigit()}


def bpf_prog_recursion_misses(prog_ids):
    """{program name: runs the kernel skipped as nested in themselves} for these program ids."""
    progs = json.loads(sh(["bpftool", "-j", "prog", "show"]).stdout)
    return {p["name"]: p.get("recursion_misses", 0) for p in progs if p["id"] in prog_ids}


def bpf_prog_ids_of(pid):
    """Ids of the BPF programs a process holds file descriptors to (links hold them too)."""
    ids = set()
    fddir = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass
    return ids
