#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the initramfs for a kernel unpacked by fetch-kernel.sh: busybox, the modules that mount
# the host's root over virtio 9p with an overlay, and a first-stage init (tests/vm/initrd-init)
# that hands over to tests/vm/guest-init.sh on the host's root.
#
#   make-initrd.sh KERNEL_DIR OUTPUT
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kdir=$1
output=$2
release=$(cat "$kdir/release")
work=$(mktemp -d /tmp/tcpstate-initrd.XXXXXX)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{bin,dev,proc,sys,modules}
cp /bin/busybox "$work/bin/busybox"
cp "$here/initrd-init" "$work/init"
chmod +x "$work/init"
# Modules in load order, dependencies first, each once; compressed ones are unpacked here
# because busybox's insmod reads plain ELF only.
n=0
for mod in virtio_pci virtio_console 9pnet_virtio 9p overlay; do
	modprobe -d "$kdir/root" -S "$release" --show-depends "$mod" 2>/dev/null |
		awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' >"$work/paths"
while read -r path; do
	n=$((n + 1))
	name=$(printf '%02d-%s' "$n" "$(basename "$path" | sed -E 's/\.ko(\.(xz|zst|gz))?$/.ko/')")
	case "$path" in
	*.xz) xz -dc "$path" >"$work/modules/$name" ;;
	*.zst) zstd -qdc "$path" >"$work/modules/$name" ;;
	*.gz) gzip -dc "$path" >"$work/modules/$name" ;;
	*) cp "$path" "$work/modules/$name" ;;
	esac
done <"$work/paths"
rm "$work/paths"
(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$output.tmp"
mv "$output.tmp" "$output"
