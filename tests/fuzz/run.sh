#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build every tests/fuzz/fuzz_*.c as a libFuzzer target with Debian's clang (ASan + UBSan, any
# UBSan report fatal), replay the saved crash inputs in tests/fuzz/regressions/<name>/, then run
# each target for SECONDS on its corpus (kept in OUT_DIR between runs) plus fresh seeds from
# tests/fixtures/ and a few generated ones. Prints, per target, the executions and the crashes;
# exits non-zero on any crash, leak, UBSan report or timeout (the artifacts stay in OUT_DIR).
#
# Usage: tests/fuzz/run.sh [SECONDS_EACH|-] [OUT_DIR] [TARGET...]
# SECONDS_EACH "-" (or none) means $VGALLOC_FUZZ_SECONDS, else $VGALLOC_FUZZ_DEFAULT_SECONDS,
# else 30. Environment: CC (default clang), VGALLOC_FUZZ_FLAGS (extra compile flags, e.g. the
# coverage build's), VGALLOC_FUZZ_BUILD_ONLY=1 (build, then stop), VGALLOC_FUZZ_SKIP_BUILD=1
# (use the targets an earlier build left in OUT_DIR).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:--}
if [[ $secs == - ]]; then
	secs=${VGALLOC_FUZZ_SECONDS:-${VGALLOC_FUZZ_DEFAULT_SECONDS:-30}}
fi
if ! [[ $secs =~ ^[0-9]+$ ]]; then
	echo "run.sh: SECONDS_EACH must be a number, not '$secs'" >&2
	exit 2
fi
out=${2:-$root/build-fuzz}
shift $(($# < 2 ? $# : 2))
cc=${CC:-clang}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if ! "$cc" --version 2>/dev/null | grep -q clang; then
	echo "run.sh: needs clang and libFuzzer (Debian 12: clang libclang-rt-14-dev)" >&2
	exit 2
fi

targets=()
if (($#)); then
	for t in "$@"; do
		targets+=("${t%.c}")
	done
else
	for f in "$here"/fuzz_*.c; do
		targets+=("$(basename "$f" .c)")
	done
fi

# --- build --------------------------------------------------------------------------------------

# The library and the mock once, as one archive; each target links it.
extra=(${VGALLOC_FUZZ_FLAGS:-})
san=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
cflags=(-std=c11 -D_GNU_SOURCE= -g -O1 "${san[@]}" "${extra[@]}" -I"$root/include" -I"$root/lib"
	$(pkg-config --cflags libdrm))
warn=(-Werror -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wvla -Wundef)
libs=($(pkg-config --libs libdrm) -lpthread)
build() {
	local objdir="$out/obj" src rel name pid pids=()

	rm -rf "$objdir"
	mkdir -p "$objdir"
	for src in "$root"/lib/*.c "$root"/backends/virtgpu/*.c "$root"/backends/mock/*.c; do
		rel=${src#"$root"/}
		"$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link -I"$root/backends/mock" -c "$src" \
			-o "$objdir/${rel//\//_}.o" &
		pids+=($!)
		# At most one compile per CPU at a time; a failed one fails the build.
		if ((${#pids[@]} >= $(nproc))); then
			wait "${pids[0]}"
			pids=("${pids[@]:1}")
		fi
	done
	for pid in "${pids[@]}"; do
		wait "$pid"
	done
	rm -f "$out/libvgalloc-fuzz.a"
	ar rcs "$out/libvgalloc-fuzz.a" "$objdir"/*.o
	for name in "${targets[@]}"; do
		"$cc" "${cflags[@]}" "${warn[@]}" -fsanitize=fuzzer "$here/$name.c" \
			"$out/libvgalloc-fuzz.a" "${libs[@]}" -o "$out/$name"
	done
}

if [[ ${VGALLOC_FUZZ_SKIP_BUILD:-0} == 1 ]]; then
	for name in "${targets[@]}"; do
		if [[ ! -x $out/$name ]]; then
			echo "run.sh: no $out/$name (build without VGALLOC_FUZZ_SKIP_BUILD)" >&2
			exit 2
		fi
	done
else
	build
fi
if [[ ${VGALLOC_FUZZ_BUILD_ONLY:-0} == 1 ]]; then
	exit 0
fi

# --- seeds --------------------------------------------------------------------------------------

fixtures="$root/tests/fixtures/capsets"

# The capset id a fixture's name stands for.
fixture_id() {
	case $(basename "$1") in
	venus*) echo 4 ;; gfxstream-vulkan*) echo 3 ;; gfxstream-gles*) echo 8 ;;
	cross-domain*) echo 5 ;; drm*) echo 6 ;; virgl2*) echo 2 ;; virgl*) echo 1 ;; *) echo 0 ;;
	esac
}

byte() {
	printf "\\x$(printf %02x "$1")"
}

# n zero bytes.
zeros() {
	head -c "$1" /dev/zero
}

# Seeds are regenerated each run into NAME.seeds (read-only for libFuzzer); what the fuzzer
# finds goes to NAME.corpus, which is kept.
make_seeds() {
	local name=$1 dir=$2 f id
	rm -rf "$dir"
	mkdir -p "$dir"
	case $name in
	fuzz_caps)
		# Every fixture as the id it was recorded for, and as the id after it.
		for f in "$fixtures"/*.bin; do
			id=$(fixture_id "$f")
			((id)) || continue
			{ byte "$id"; cat "$f"; } >"$dir/$(basename "$f")"
			{ byte $((id + 1)); cat "$f"; } >"$dir/next-$(basename "$f")"
		done
		;;
	fuzz_params)
		# A 96-byte header (all zero: own mode, every required param), then the host's
		# capset bytes; byte 0 is the capset id, byte 1 the mode (1 adopt), byte 3 where the
		# bytes come from (1: the create-info), byte 4 bit 0 the mock instead of the fake.
		for f in "$fixtures"/*.bin; do
			id=$(fixture_id "$f")
			((id)) || continue
			{ byte "$id"; zeros 95; cat "$f"; } >"$dir/own-$(basename "$f")"
			{ byte "$id"; byte 1; byte 0; byte 1; zeros 92; cat "$f"; } \
				>"$dir/adopt-$(basename "$f")"
		done
		{ zeros 4; byte 1; zeros 91; cat "$fixtures/venus-160-guestvram0.bin"; } \
			>"$dir/mock-venus"
		{ zeros 4; byte 3; zeros 91; } >"$dir/mock-static"
		{ zeros 96; } >"$dir/venus-none"
		;;
	fuzz_pool)
		# Mode A (byte 0 even) and mode B (odd), with op bytes taken from the fixtures.
		byte 0 >"$dir/sa-empty"
		byte 1 >"$dir/pool-empty"
		for f in "$fixtures"/venus-160-guestvram0.bin "$fixtures"/gfxstream-vulkan-104.bin \
			"$fixtures"/virgl-308.bin; do
			{ byte 0; cat "$f"; } >"$dir/sa-$(basename "$f")"
			{ byte 1; cat "$f"; } >"$dir/pool-$(basename "$f")"
		done
		;;
	*)
		zeros 64 >"$dir/zeros"
		for f in "$fixtures"/venus-160-guestvram1.bin "$fixtures"/drm-24.bin \
			"$fixtures"/gfxstream-vulkan-100.bin; do
			cp "$f" "$dir/$(basename "$f")"
		done
		;;
	esac
}

# --- run ----------------------------------------------------------------------------------------

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# Inputs libFuzzer saved for a crash, leak, timeout or out-of-memory (not its slow-unit notes).
count_artifacts() {
	find "$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | wc -l
}

failed=()
summary=()
for name in "${targets[@]}"; do
	corpus="$out/$name.corpus"
	seeds="$out/$name.seeds"
	log="$out/$name.log"
	mkdir -p "$corpus" "$out/$name.artifacts"
	make_seeds "$name" "$seeds"
	before=$(count_artifacts "$out/$name.artifacts")
	status=ok
	rm -f "$log"

	# Inputs that once crashed must not crash again.
	regressions=("$here/regressions/$name"/*)
	if [[ -e ${regressions[0]} ]]; then
		if ! "$out/$name" -runs=1 "${regressions[@]}" >"$out/$name.regressions.log" \
			2>&1; then
			tail -40 "$out/$name.regressions.log"
			status="regression crashed"
		fi
	fi

	if [[ $status == ok ]]; then
		echo "== $name: ${secs}s"
	else
		echo "== $name: not fuzzed, a saved input crashes (see $out/$name.regressions.log)"
	fi
	# A crash, leak, UBSan report or a unit slower than -timeout stops the target with a
	# non-zero status and an artifact. The corpus comes first: new inputs go there.
	if [[ $status == ok ]] && ! "$out/$name" -max_total_time="$secs" -timeout=30 \
		-rss_limit_mb=4096 -max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$out/$name.artifacts/" "$corpus" "$seeds" >"$log" 2>&1; then
		grep -E "ERROR|invariant broken|runtime error|SUMMARY" "$log" | head -5 || true
		tail -60 "$log"
		status=crashed
	fi
	execs=0
	rate=0
	if [[ -f $log ]]; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	fi
	crashes=$(($(count_artifacts "$out/$name.artifacts") - before))
	units=$(ls "$corpus" | wc -l)
	summary+=("$(printf '%-14s %12s %10s %8s %8s  %s' "$name" "${execs:-0}" "${rate:-0}" \
		"$units" "$crashes" "$status")")
	if [[ $status != ok ]]; then
		failed+=("$name")
	fi
done

echo
printf '%-14s %12s %10s %8s %8s  %s\n' target executions exec/s corpus crashes status
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
	echo "FAILED: ${failed[*]} (inputs in $out/<target>.artifacts/; logs in $out/<target>.log)"
	exit 1
fi
