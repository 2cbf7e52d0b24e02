#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run a command as root under a Debian kernel in QEMU (TCG: no KVM needed), with the host's root
# filesystem shared read-only over 9p under a tmpfs overlay, so that the guest sees this
# checkout, its build and the host's tools. The command's output comes out here, and this script
# exits with the command's exit status (124 if the VM timed out or died).
#
#   tests/vm/run.sh [--kernel 5.10|6.1|6.12] [--mem MB] [--smp N] [--timeout SECS]
#                   [--kernel-log FILE] -- CMD [ARGS...]
#
# Kernels are fetched from Debian's archive and cached (tests/vm/fetch-kernel.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
series=6.1
mem=4096
smp=2
timeout=3600
klog=""
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) series=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--kernel-log) klog=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "vm: unknown option '$1' (see the head of $0)" >&2; exit 2 ;;
	esac
done
if [ $# -eq 0 ]; then
	echo "vm: no command given (tests/vm/run.sh [options] -- CMD [ARGS...])" >&2
	exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "vm: run as root (the guest runs the command as root over the host's files)" >&2
	exit 2
fi

bash "$here/deps.sh"
kdir=$(bash "$here/fetch-kernel.sh" "$series")
release=$(cat "$kdir/release")
initrd="$kdir/initrd.cpio.gz"
[ -f "$initrd" ] || bash "$here/make-initrd.sh" "$kdir" "$initrd"

# The job's files live in the cache, not in /tmp: what the guest writes stays in the guest.
mkdir -p "$(dirname "$kdir")/jobs"
tmp=$(mktemp -d "$(dirname "$kdir")/jobs/run.XXXXXX")
qpid=""
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null || true
	[ -n "${TCPSTATE_VM_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The job the guest runs: where to start, what environment, what command.
{
	echo "cd $(printf %q "$PWD")"
	echo "export TCPSTATE_VM_KERNEL=$(printf %q "$series")"
	[ -n "${CI:-}" ] && echo "export CI=$(printf %q "$CI")"
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$tmp/job.sh"
: >"$tmp/out"
: >"${klog:=$tmp/kernel.log}"

qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$smp" -m "$mem" \
	-nographic -no-reboot -nic none -monitor none \
	-kernel "$kdir/root/boot/vmlinuz-$release" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 loglevel=4 tcpstate.job=$tmp/job.sh tcpstate.modules=$kdir/root/lib/modules tcpstate.init=$here/guest-init.sh" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-serial "file:$klog" -serial "file:$tmp/out" </dev/null >/dev/null 2>"$tmp/qemu.err" &
qpid=$!

# Stream the command's output until the guest says how it ended, or the VM stops or times out.
set +e
python3 "$here/follow.py" "$tmp/out" "$qpid" "$timeout" "$klog" "$release"
status=$?
set -e
kill "$qpid" 2>/dev/null || true
wait "$qpid" 2>/dev/null || true
qpid=""
[ -s "$tmp/qemu.err" ] && [ "$status" -eq 124 ] && cat "$tmp/qemu.err" >&2
exit "$status"
