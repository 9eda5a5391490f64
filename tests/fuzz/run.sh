#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build every tests/fuzz/fuzz_*.c as a libFuzzer target with Debian's clang (ASan + UBSan, any
# UBSan report fatal), replay the saved crash inputs in tests/fuzz/regressions/<name>/, then run
# each target for its time on its corpus plus fresh seeds from tests/fixtures/ and a few
# generated ones. Prints, per target, the seconds, executions, corpus size and crashes, and the
# total; exits non-zero on any crash, leak, UBSan report or timeout (the artifacts stay in
# OUT_DIR).
#
# Corpora are cached between runs in $VGALLOC_FUZZ_CACHE (default /var/cache/vgalloc-fuzz, made
# if missing; a plain path, so a chroot that bind-mounts the host's cache there shares it), one
# directory per target and input format: <target>-<first 16 hex of sha256(fuzz_<target>.c +
# fuzz_input.h)>. The key is the fuzzer's source because the source alone defines what an input
# means; the library sources are left out on purpose: a corpus stays valid (and most useful)
# when the library changes under it, and a key on lib/ would start cold after every commit.
# The three most recently used keys of a target are kept; a corpus above
# $VGALLOC_FUZZ_CORPUS_MAX inputs (default 4000) is minimised (libFuzzer -merge) first.
# OUT_DIR/<target>.corpus links to the target's cache directory. When the cache cannot be
# written, corpora stay in OUT_DIR/corpus-cache (said once on stderr).
#
# Usage: tests/fuzz/run.sh [SECONDS_EACH|-] [OUT_DIR] [TARGET...]
# SECONDS_EACH "-" (or none) means $VGALLOC_FUZZ_SECONDS, else $VGALLOC_FUZZ_DEFAULT_SECONDS,
# else the target's budget in tests/fuzz/budgets.txt; 0 replays the corpus and seeds once
# without fuzzing. Environment: CC (default clang), VGALLOC_FUZZ_FLAGS (extra compile flags,
# e.g. the coverage build's), VGALLOC_FUZZ_BUILD_ONLY=1 (build, then stop),
# VGALLOC_FUZZ_SKIP_BUILD=1 (use the targets an earlier build left in OUT_DIR).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:--}
if [[ $secs == - ]]; then
	secs=${VGALLOC_FUZZ_SECONDS:-${VGALLOC_FUZZ_DEFAULT_SECONDS:--}}
fi
if ! [[ $secs =~ ^([0-9]+|-)$ ]]; then
	echo "run.sh: SECONDS_EACH must be a number or -, not '$secs'" >&2
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

# A target's seconds in the test command: its line in budgets.txt, else the "default" line.
budget_of() {
	awk -v t="$1" '$1 == t { own = $2 } $1 == "default" { def = $2 }
		END { print (own != "" ? own : def != "" ? def : 10) }' "$here/budgets.txt"
}

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
# fuzz_virtgpu plays libdrm's device discovery too: the backend's calls go to its __wrap_*.
link_flags() {
	case $1 in
	fuzz_virtgpu)
		echo -Wl,--wrap=drmGetDevices2 -Wl,--wrap=drmFreeDevices
		;;
	esac
}
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
			"$out/libvgalloc-fuzz.a" $(link_flags "$name") "${libs[@]}" -o "$out/$name"
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

# Bytes given as hex pairs: hex 00 02 ff.
hex() {
	local b
	for b in "$@"; do
		printf "\\x$b"
	done
}

# fuzz_virtgpu's index of a capset id in its table (see run() there), or nothing.
virtgpu_index() {
	case $1 in
	4) echo 0 ;; 3) echo 4 ;; 1) echo 5 ;; 5) echo 6 ;; 6) echo 7 ;;
	esac
}

# Seeds are regenerated each run into NAME.seeds (read-only for libFuzzer); what the fuzzer
# finds goes to the corpus (NAME.corpus, in the cache), which is kept.
make_seeds() {
	local name=$1 dir=$2 f id size hit ops
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
	fuzz_shmem)
		# Header: mock (profile, host page, told, self-test, flags), window (1, 4, 16, 64
		# MiB), log level, expiry (never, now, an hour), byte cap (32 MiB, 0, 64 KiB, 1 MiB,
		# 4 MiB); then per operation a fault byte (0: none), a selector and its arguments:
		# 00 SIZE creates (SIZE 02 02: 16 KiB), 05 I gives blob I back, 0a checks the bytes,
		# 0b trims, 0c holds an ordinary blob.
		hit="00 00 02 02 00 05 00 00 00 02 02 00 0a 00 05 00 00 0b"
		hex 00 02 00 00 00 $hit >"$dir/hit"
		hex 00 02 00 01 00 00 00 02 02 00 00 02 02 00 05 00 00 05 00 00 00 02 02 \
			>"$dir/expire"
		hex 00 02 00 02 02 00 00 01 03 00 00 01 03 00 00 01 03 00 05 00 00 05 00 00 05 00 \
			>"$dir/cap"
		# A 1 MiB window: 512 KiB live and 256 KiB cached leave no room for 512 KiB more
		# until the cache is released.
		hex 00 00 00 00 00 00 00 01 07 00 00 01 06 00 05 01 00 00 01 07 >"$dir/window-full"
		# A failing CREATE_BLOB (EIO), then a map the host refuses (16 KiB pages, untold).
		hex 00 02 00 00 00 e8 00 00 00 02 02 00 00 02 02 >"$dir/fault"
		hex 02 02 00 00 00 00 00 01 00 00 00 02 02 00 05 00 >"$dir/host-page"
		hex 70 02 00 00 00 00 00 02 02 >"$dir/no-blob-id-0"
		zeros 64 >"$dir/zeros"
		;;
	fuzz_virtgpu)
		# Header: mode (0-2 own, 3-4 adopt, 5 render-node discovery, 6-7 the real system
		# calls on /dev/null), capset index, capset bytes (<128: the Venus template; else
		# a 16-bit length and the bytes), params, a missing feature (<240: none), device
		# flags (bit 7: a memfd as the DRM fd, mapped by the real mmap), flavour; answers
		# and operations follow, zero meaning the kernel's natural answer.
		for f in "$fixtures"/*.bin; do
			id=$(virtgpu_index "$(fixture_id "$f")")
			[[ -n $id ]] || continue
			size=$(stat -c %s "$f")
			{
				hex 00 "$(printf %02x "$id")" 80 "$(printf %02x $((size & 255)))" \
					"$(printf %02x $((size >> 8)))"
				cat "$f"
				hex 00 00 00 "$([[ $id == 4 ]] && echo 02 || echo 00)"
				zeros 96
			} >"$dir/own-$(basename "$f")"
		done
		zeros 256 >"$dir/venus-natural"
		# A session on natural answers: blob create, map, export, import of that fd, an
		# exported allocation mapped and exported, a shmem blob, another capset read, an fd
		# closed, a blob destroyed; and the same on a guest-first host (use_guest_vram 1).
		ops=000001010701000000020000000005000000060000000100000b000104000000000000000d000000
		ops+=000f000100000a0000000000110102000010000004000000
		ops=$(sed 's/../& /g' <<<"$ops")
		{ hex 00 00 00 00 00 00 00; zeros 11; hex $ops; zeros 32; } >"$dir/session"
		{ hex 00 00 02 00 00 00 00; zeros 11; hex $ops; zeros 32; } \
			>"$dir/session-guest-first"
		{ hex 00 00 00 00 00 80 00; zeros 11; hex $ops; zeros 32; } >"$dir/session-memfd"
		hex 00 00 00 00 00 40 00 >"$dir/self-test"
		{ hex 03 00 00 00 00 00 00; zeros 160; } >"$dir/adopt"
		{ hex 05 00 00 00 00 02 00 00 00; zeros 128; } >"$dir/discovery"
		hex 06 01 >"$dir/real-adopt"
		hex 07 02 00 >"$dir/real-own"
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

# --- corpus cache -------------------------------------------------------------------------------

cache=${VGALLOC_FUZZ_CACHE:-/var/cache/vgalloc-fuzz}
corpus_max=${VGALLOC_FUZZ_CORPUS_MAX:-4000}
if ! mkdir -p "$cache" 2>/dev/null || [[ ! -w $cache ]]; then
	echo "run.sh: cannot write the corpus cache $cache (set VGALLOC_FUZZ_CACHE);" \
		"corpora stay in $out/corpus-cache" >&2
	cache=$out/corpus-cache
	mkdir -p "$cache"
fi
cache=$(cd "$cache" && pwd)

# The key of a target's corpus: its input format, which its source and the shared decoder define.
corpus_key() {
	cat "$here/$1.c" "$here/fuzz_input.h" | sha256sum | cut -c1-16
}

# OUT_DIR/<name>.corpus becomes a link to the target's cache directory (an older OUT_DIR's own
# corpus is folded in once); the target's three most recently used keys are kept.
link_corpus() {
	local name=$1 dir=$2 link=$out/$1.corpus old
	mkdir -p "$dir"
	touch "$dir"
	if [[ -d $link && ! -L $link ]]; then
		find "$link" -maxdepth 1 -type f -exec cp -n -t "$dir" {} +
		rm -rf "$link"
	fi
	ln -sfn "$dir" "$link"
	{ ls -1dt "$cache/$name"-* 2>/dev/null || true; } | tail -n +4 | while read -r old; do
		rm -rf "$old"
	done
}

# A corpus above corpus_max inputs is minimised to the inputs that keep its coverage (a
# libFuzzer merge into a new directory that then replaces it), so replaying it stays cheap.
minimise() {
	local name=$1 dir=$2 tmp n
	n=$(find "$dir" -maxdepth 1 -type f | wc -l)
	((n > corpus_max)) || return 0
	tmp=$cache/.merge-$name-$$
	rm -rf "$tmp" "$tmp.old"
	mkdir -p "$tmp"
	if "$out/$name" -merge=1 -timeout=30 -rss_limit_mb=4096 -max_len=8192 "$tmp" "$dir" \
		>"$out/$name.merge.log" 2>&1; then
		mv "$dir" "$tmp.old" && mv "$tmp" "$dir" && rm -rf "$tmp.old"
		n=$n/$(find "$dir" -maxdepth 1 -type f | wc -l)
		echo "== $name: corpus minimised (inputs before/after: $n)"
	else
		# Whatever failed shows again in the fuzzing run.
		rm -rf "$tmp"
	fi
}

now() {
	date +%s.%N
}
elapsed() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'
}

failed=()
summary=()
run_start=$(now)
for name in "${targets[@]}"; do
	tsecs=$secs
	if [[ $tsecs == - ]]; then
		tsecs=$(budget_of "$name")
	fi
	corpus=$cache/$name-$(corpus_key "$name")
	seeds="$out/$name.seeds"
	log="$out/$name.log"
	link_corpus "$name" "$corpus"
	minimise "$name" "$corpus"
	mkdir -p "$out/$name.artifacts"
	make_seeds "$name" "$seeds"
	before=$(count_artifacts "$out/$name.artifacts")
	status=ok
	rm -f "$log"
	start=$(now)

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
		units=$(find "$corpus" -maxdepth 1 -type f | wc -l)
		echo "== $name: ${tsecs}s on $corpus ($units inputs)"
	else
		echo "== $name: not fuzzed, a saved input crashes (see $out/$name.regressions.log)"
	fi
	# 0 s: every input once, no fuzzing. Otherwise a crash, leak, UBSan report or a unit slower
	# than -timeout stops the target with a non-zero status and an artifact. The corpus comes
	# first: new inputs go there.
	if ((tsecs == 0)); then
		limit=(-runs=0)
	else
		limit=(-max_total_time="$tsecs")
	fi
	if [[ $status == ok ]] && ! "$out/$name" "${limit[@]}" -timeout=30 \
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
	units=$(find "$corpus" -maxdepth 1 -type f | wc -l)
	summary+=("$(printf '%-14s %8s %12s %10s %8s %8s  %s' "$name" "$(elapsed "$start")" \
		"${execs:-0}" "${rate:-0}" "$units" "$crashes" "$status")")
	if [[ $status != ok ]]; then
		failed+=("$name")
	fi
done

echo
printf '%-14s %8s %12s %10s %8s %8s  %s\n' target seconds executions exec/s corpus crashes \
	status
printf '%s\n' "${summary[@]}"
echo "fuzzing wall time: $(elapsed "$run_start") s (corpora in $cache)"
if ((${#failed[@]})); then
	echo "FAILED: ${failed[*]} (inputs in $out/<target>.artifacts/; logs in $out/<target>.log)"
	exit 1
fi
