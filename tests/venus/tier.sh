#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# A Venus tier as ctest runs it: the cached patched libvulkan_virtio.so (build-mesa.sh), then
# the boots (run-venus.sh), judged against the targets that run-venus.sh prints. TIER is inject
# (stock, patched and patched-off on QEMU as packaged) or guest-first (stock and patched on the
# emulated static-mapping host, guest-first and pass-through). Exit: 0 pass, 77 cannot run here
# (not with VGALLOC_VM_REQUIRED=1, where it is 1), 1 failure.
# Usage: tests/venus/tier.sh BUILD_DIR [TIER]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:?usage: tier.sh BUILD_DIR [inject|guest-first]}
tier=${2:-inject}

rc=0
dir=$(bash "$here/build-mesa.sh" --print-dir) || rc=$?
if ((rc != 0)); then
	echo "venus tier: build-mesa.sh exited $rc" >&2
	exit "$rc"
fi
[[ -f $dir/libvulkan_virtio.so ]] || { echo "venus tier: no driver in '$dir'" >&2; exit 1; }
VGALLOC_VENUS_TIER=$tier VGALLOC_VENUS_PATCHED_SO=$dir/libvulkan_virtio.so exec bash "$here/run-venus.sh" "$build"
