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
before_so=
if [[ -n ${VGALLOC_VENUS_BEFORE:-} && $tier == inject ]]; then
	repo=$(cd "$here/../.." && pwd)
	if rev=$(git -C "$repo" rev-parse --verify -q "$VGALLOC_VENUS_BEFORE^{commit}" 2>/dev/null); then
		src=$(mktemp -d)
		trap 'rm -rf "$src"' EXIT
		git -C "$repo" archive "$rev" meson.build include lib backends | tar -C "$src" -xf -
		bdir=$(VGALLOC_VENUS_LIB_DIR=$src bash "$here/build-mesa.sh" --print-dir) || {
			echo "venus tier: the before-build (library at ${rev:0:12}) failed" >&2
			exit 1
		}
		before_so=$bdir/libvulkan_virtio.so
		echo "venus tier: patched-before = the series with the library at ${rev:0:12} ($bdir)" >&2
	else
		echo "venus tier: NOTE: VGALLOC_VENUS_BEFORE=$VGALLOC_VENUS_BEFORE is no revision of this" \
			"tree (no git history here?): no before-build" >&2
	fi
fi
VGALLOC_VENUS_TIER=$tier VGALLOC_VENUS_PATCHED_SO=$dir/libvulkan_virtio.so \
	VGALLOC_VENUS_BEFORE_SO=$before_so bash "$here/run-venus.sh" "$build"
