#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build a separate Release tree (build-bench/) and run the suballocation benchmark: DESIGN §5's
# traces, the growth workloads, the reference allocators, medians of 5 interleaved repetitions,
# the table and the targets.
# Usage: scripts/bench.sh [vgalloc-bench options...]
#   scripts/bench.sh --json > bench.json
#   scripts/bench.sh --workload W3,W5 --runs 9
#   scripts/bench.sh --full      the full run: every workload with the 1M-live growth, then the
#                                cycle's instruction counts (callgrind) and, at 100k live, where
#                                the public path's samples go (perf, cpu-clock)
#   BUILD_DIR=/tmp/bb scripts/bench.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${BUILD_DIR:-build-bench}
# Configure and build output goes to stderr so that --csv/--json on stdout stay clean.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DVGALLOC_BUILD_TESTS=ON \
	-DVGALLOC_BUILD_EXAMPLES=OFF >&2
cmake --build "$build" --target vgalloc-bench -j"$(nproc)" >&2
bench="$build/tests/bench/vgalloc-bench"

if [ "${1:-}" != "--full" ]; then
	exec "$bench" "$@"
fi
shift

growth="G1k,G10k,G100k,G1M"
all="W1,W1R,W2,W3,W4,W5,W6,W8,W3-a4k,W3-a64k,W5-a4k,W5-a64k,W3-nomap50,W5-nomap50,$growth"
start=$(date +%s)
echo "### 1. every workload, 5 interleaved repetitions (medians), references, growth to 1M live"
"$bench" --runs 5 --workload "$all" "$@"

# 2. Instructions do not depend on the machine's load: the same cycle replays under callgrind,
# counting only inside the replay loop (api_whole: alloc+map+free through the public API;
# sa_whole: the algorithm's alloc+free), one process per allocator.
echo
echo "### 2. instructions per cycle (callgrind, counted inside the replay loop only)"
if ! command -v valgrind >/dev/null; then
	echo "valgrind not installed: skipped"
else
	printf '  %-8s %14s %14s %8s\n' workload "public Ir/alloc" "algorithm" ratio
	for w in ${VGALLOC_BENCH_INSTR_WORKLOADS:-W3 W4 W5 W6 G1k G10k G100k G1M}; do
		count() {
			valgrind --tool=callgrind --callgrind-out-file=/dev/null --collect-atstart=no \
				--toggle-collect="$1*" "$bench" --cycle-only --runs 1 --workload "$w" \
				--allocators "$2" 2>&1 >"$tmp" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
		}
		tmp=$(mktemp)
		pub=$(count api_whole libvgalloc)
		allocs=$(sed -n 's/^ *\([0-9]*\) allocations, peak live.*/\1/p' "$tmp" | head -1)
		alg=$(count sa_whole allocator-alone)
		rm -f "$tmp"
		awk -v w="$w" -v p="$pub" -v a="$alg" -v n="$allocs" 'BEGIN {
			printf "  %-8s %14.0f %14.0f %8.2f%s\n", w, p / n, a / n, p / a,
			       p / a <= 2 ? "" : "  (target <= 2: MISS)" }'
	done
fi

# 3. Where the public cycle's time goes at 100k live (sampled: cpu-clock, no PMU needed).
echo
echo "### 3. G100k, public cycle only: share of perf samples (cpu-clock) by layer"
if ! command -v perf >/dev/null; then
	echo "perf not installed: skipped"
else
	data=$(mktemp)
	perf record -q -e cpu-clock -F 10000 -o "$data" "$bench" --cycle-only --runs 5 \
		--workload G100k --allocators libvgalloc >/dev/null 2>&1
	# A free's first touch of its memory object (the handle check: magic 0x4d454d21) is
	# inlined into vgalloc__pool_free: its samples up to that compare count as the handle
	# layer's, the rest as the pool's.
	touch=$(perf annotate -i "$data" --stdio -s vgalloc__pool_free 2>/dev/null |
		awk '/^ *[0-9.]+ :/ { sum += $1 } /0x4d454d21/ { print sum; exit }')
	perf report -i "$data" --sort sym --stdio 2>/dev/null |
		awk -v touch="${touch:-0}" '
		/^ *[0-9.]+%/ {
			pct = $1 + 0; sym = $NF; total += pct
			if (sym ~ /^(vgalloc__mem_owner|vgalloc__slab_|vgalloc__mem_get_locked)/)
				layer = "handle"
			else if (sym == "vgalloc__pool_free") {
				share["handle"] += pct * touch / 100; pct = pct * (100 - touch) / 100
				layer = "pool"
			} else if (sym ~ /^(vgalloc__sa_|range_|free_|record_|slab_|partial_)/)
				layer = "algorithm"
			else if (sym ~ /^(vgalloc__pool|vgalloc__pools|drain|release_list)/)
				layer = "pool"
			else if (sym ~ /pthread_mutex|^vgalloc__lock|^vgalloc__cond/)
				layer = "locks"
			else if (sym ~ /^vgalloc__plan/ || sym ~ /^vgalloc__suballoc_alignment/)
				layer = "plan"
			else if (sym ~ /^vgalloc_mem_/)
				layer = "API entry"
			else if (sym ~ /^api_whole/)
				layer = "replay loop"
			else
				layer = "other (trace generation, mock, setup)"
			share[layer] += pct
		}
		END {
			for (l in share) lib += (l ~ /^other/) ? 0 : share[l]
			printf "  %-40s %7s %16s\n", "layer", "samples", "of the cycle"
			for (l in share)
				printf "  %-40s %6.1f%% %15.1f%%\n", l, share[l],
				       (l ~ /^other/) ? 0 : 100 * share[l] / lib
			printf "  handle layer: %.1f%% of the cycle'\''s samples (target <= 10%%)\n",
			       100 * share["handle"] / lib
		}'
	rm -f "$data"
fi
echo
echo "### full run: $(( ($(date +%s) - start) / 60 )) min"
