#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build the libFuzzer targets with Debian's clang (ASan+UBSan) and run each for a bounded time
# on its seed corpus (tests/fixtures/capsets for the capset parsers). Any crash, leak or UBSan
# report fails. Usage: tests/fuzz/run.sh [SECONDS_EACH] [OUT_DIR]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-30}
out=${2:-$root/build-fuzz}
mkdir -p "$out"
out=$(cd "$out" && pwd)

srcs=("$root"/lib/*.c)
flags=(-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -I"$root/include" -I"$root/lib")
for target in "$here"/fuzz_*.c; do
	name=$(basename "$target" .c)
	clang "${flags[@]}" $(pkg-config --cflags libdrm) "$target" "${srcs[@]}" \
		"$root/backends/virtgpu/virtgpu.c" -o "$out/$name" $(pkg-config --libs libdrm) -lpthread
	corpus="$out/$name.corpus"
	mkdir -p "$corpus"
	if [[ $name == fuzz_caps ]]; then
		# Seeds: every fixture, prefixed with its capset id byte.
		for f in "$root"/tests/fixtures/capsets/*.bin; do
			case $(basename "$f") in
			venus*) id=4 ;; gfxstream-vulkan*) id=3 ;; gfxstream-gles*) id=8 ;;
			cross-domain*) id=5 ;; drm*) id=6 ;; virgl2*) id=2 ;; virgl*) id=1 ;; *) continue ;;
			esac
			{ printf "\\x$(printf %02x "$id")"; cat "$f"; } > "$corpus/seed-$(basename "$f")"
		done
	fi
	echo "== $name: ${secs}s"
	# A crash, leak or UBSan report stops the fuzzer with a non-zero status and an artifact.
	if ! (cd "$out" && "$out/$name" -max_total_time="$secs" -print_final_stats=1 "$corpus" \
		>"$out/$name.log" 2>&1); then
		tail -40 "$out/$name.log"
		echo "$name: FAILED (artifacts in $out)"
		exit 1
	fi
	grep -E "stat::number_of_executed_units|Done" "$out/$name.log"
done
