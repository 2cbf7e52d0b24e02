#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Fetch the newest Debian kernel of a series (5.10: bullseye, 6.1: bookworm, 6.12: trixie) from
# Debian's archive and unpack it under $TCPSTATE_VM_CACHE/<series>/ (default
# /var/cache/tcpstate/kernels): root/boot/vmlinuz-<release> and root/lib/modules/<release> with its
# modules.dep. The host's apt sources are not touched: a private apt state per suite is kept in
# the cache, and signatures are checked against the host's Debian archive keyring. Idempotent:
# an unpacked kernel is not fetched again. Prints the unpacked directory.
set -euo pipefail

series=${1:-}
cache=${TCPSTATE_VM_CACHE:-/var/cache/tcpstate/kernels}
case "$series" in
5.10) suite=bullseye ;;
6.1) suite=bookworm ;;
6.12) suite=trixie ;;
*)
	echo "fetch-kernel: unknown kernel series '$series' (use 5.10, 6.1 or 6.12)" >&2
	exit 2
	;;
esac

dir="$cache/$series"
# depmod (kmod) and the decompressors for the modules; run on its own, this script installs them.
bash "$(dirname "$0")/deps.sh"
if [ -f "$dir/release" ]; then
	echo "$dir"
	exit 0
fi

apt_dir="$cache/apt-$suite"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/cache"
cat >"$apt_dir/sources.list" <<EOF
deb http://deb.debian.org/debian $suite main
deb http://deb.debian.org/debian-security $suite-security main
EOF
apt_opts=(
	-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::Cache=$apt_dir/cache"
	-o "Dir::Cache::Archives=$apt_dir/archives"
	-o "Dir::State::Status=/var/lib/dpkg/status"
	-o "Acquire::Languages=none"
	-o "APT::Architecture=amd64"
	-o "APT::Architectures=amd64"
)
if ! apt-get "${apt_opts[@]}" -qq update >"$apt_dir/update.log" 2>&1; then
	echo "fetch-kernel: cannot read Debian's $suite package lists ($(tail -n 1 "$apt_dir/update.log"))" >&2
	exit 1
fi
pattern="^linux-image-${series//./\\.}[.-][0-9].*-amd64-unsigned\$"
# The generic flavour: not -rt, -cloud or -dbg.
pkg=$(apt-cache "${apt_opts[@]}" search --names-only "$pattern" | awk '{print $1}' |
	grep -Ev -- '-(rt|cloud)-amd64' | sort -V | tail -n 1)
if [ -z "$pkg" ]; then
	echo "fetch-kernel: no package matching $pattern in $suite" >&2
	exit 1
fi

work=$(mktemp -d "$cache/.fetch-$series.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get "${apt_opts[@]}" -qq download "$pkg") >"$apt_dir/download.log" 2>&1 || {
	echo "fetch-kernel: cannot download $pkg ($(tail -n 1 "$apt_dir/download.log"))" >&2
	exit 1
}
dpkg-deb -x "$work"/*.deb "$work/root"
# Modules live in lib/modules or, merged-/usr, in usr/lib/modules.
moddir=$(ls -d "$work"/root/lib/modules/* "$work"/root/usr/lib/modules/* 2>/dev/null | head -n 1 || true)
release=$(basename "$moddir")
if [ -z "$release" ] || [ ! -f "$work/root/boot/vmlinuz-$release" ]; then
	echo "fetch-kernel: $pkg has no vmlinuz or modules" >&2
	exit 1
fi
if [ "$moddir" != "$work/root/lib/modules/$release" ]; then
	mkdir -p "$work/root/lib/modules"
	mv "$moddir" "$work/root/lib/modules/$release"
fi
depmod -b "$work/root" "$release"
echo "$pkg" >"$work/package"
echo "$release" >"$work/release"
rm -f "$work"/*.deb
rm -rf "$dir"
mv "$work" "$dir"
trap - EXIT
echo "$dir"
