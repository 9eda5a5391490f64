#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build and run the main demo: vgalloc-info on both hypervisor profiles, then vgalloc-demo (the
# allocate / map / export / read-back walk). Without a virtio-gpu device both use the mock backend.
# Usage: scripts/demo.sh [vgalloc-info args...]     (BUILD_DIR defaults to build/)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/common.sh
source scripts/common.sh

build=${BUILD_DIR:-build}
trap print_stage_times EXIT

stage deps vgalloc_install_deps
stage configure cmake -S . -B "$build" -DVGALLOC_WERROR=ON -DVGALLOC_BUILD_EXAMPLES=ON
stage build cmake --build "$build" -j2 --target vgalloc-info vgalloc-demo
if [[ $# -gt 0 ]]; then
	stage info "$build/tools/vgalloc-info" "$@"
else
	stage info-injecting "$build/tools/vgalloc-info" --profile injecting
	stage info-static "$build/tools/vgalloc-info" --profile static
	stage demo "$build/examples/vgalloc-demo"
fi
