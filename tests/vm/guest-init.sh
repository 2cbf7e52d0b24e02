#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Second stage in the VM, PID 1 on the host's root (overlaid): mount what a Linux host has, load
# the modules tcpstate's tests use, run the job with its output on the second serial port, and
# power off. The last line on that port says how the job ended: TCPSTATE_VM_EXIT=<status>.
set -u
out=/dev/ttyS1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
# With the overlay, /tmp is the host's seen through it (writes stay in the guest), so that a
# checkout under /tmp (a CI clone) is there too.
if ! touch /.tcpstate-vm 2>/dev/null; then # no overlay: writable places at least
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	mount -t tmpfs tmpfs /root
	mount -t tmpfs tmpfs /var/tmp
fi

job="" moddir=""
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	tcpstate.job=*) job=${arg#tcpstate.job=} ;;
	tcpstate.modules=*) moddir=${arg#tcpstate.modules=} ;;
	esac
done
release=$(uname -r)
mkdir -p /lib/modules
ln -sfn "$moddir/$release" "/lib/modules/$release"
for m in inet_diag tcp_diag udp_diag veth nf_tables nft_compat x_tables xt_statistic xt_tcpudp \
	ip_tables ip6_tables iptable_filter ip6table_filter nf_reject_ipv4 nf_reject_ipv6 \
	ipt_REJECT ip6t_REJECT nft_reject_inet; do
	modprobe -q "$m" || echo "vm: no module $m in Linux $release" >>/run/vm-modules.log
done
ip link set lo up
hostname tcpstate-vm
stty -F "$out" raw -echo 2>/dev/null
ulimit -l unlimited
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
export PYTHONDONTWRITEBYTECODE=1 LANG=C.UTF-8
# TCG runs the tests' workloads a few times slower: their observation windows stretch with it.
export TCPSTATE_TEST_TIME_SCALE=${TCPSTATE_TEST_TIME_SCALE:-3}

bash "$job" >"$out" 2>&1 </dev/null
status=$?
echo "TCPSTATE_VM_EXIT=$status" >"$out"
sync
echo o >/proc/sysrq-trigger
sleep 10
