#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build a separate Release tree (build-bench/) and run the suballocation benchmark in full
# (DESIGN §5 traces, median of 5 runs), printing the table and the targets.
# Usage: scripts/bench.sh [vgalloc-bench options...]
#   scripts/bench.sh --json > bench.json
#   scripts/bench.sh --workload W3,W5 --runs 9
#   BUILD_DIR=/tmp/bb scripts/bench.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${BUILD_DIR:-build-bench}
# Configure and build output goes to stderr so that --csv/--json on stdout stay clean.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DVGALLOC_BUILD_TESTS=ON \
	-DVGALLOC_BUILD_EXAMPLES=OFF >&2
cmake --build "$build" --target vgalloc-bench -j"$(nproc)" >&2
exec "$build/tests/bench/vgalloc-bench" "$@"
