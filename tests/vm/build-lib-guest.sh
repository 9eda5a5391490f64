#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build the in-guest library programs (guest-lib/*.c, judged, into OUT_DIR) and vgalloc-info
# (run by lib-flows, into OUT_DIR/bin) static against a build tree's libvgalloc.a,
# libvgalloc-mock.a and Debian's libdrm.a. run-vm.sh calls it for its BUILD_DIR.
# Usage: tests/vm/build-lib-guest.sh BUILD_DIR OUT_DIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: build-lib-guest.sh BUILD_DIR OUT_DIR}
out=${2:?usage: build-lib-guest.sh BUILD_DIR OUT_DIR}
mkdir -p "$out"
cmake --build "$build" --target vgalloc_static vgalloc-mock_static -j2 >/dev/null
libdrm=$(pkg-config --variable=libdir libdrm)/libdrm.a

for src in "$here"/guest-lib/*.c; do
	name=$(basename "$src" .c)
	gcc -std=c11 -D_GNU_SOURCE -O1 -static -Wall -Wextra -Werror -Wshadow -I"$root/include" \
		"$src" "$build/libvgalloc.a" "$libdrm" -lpthread -o "$out/$name"
	echo "built $out/$name"
done
mkdir -p "$out/bin"
gcc -std=c11 -D_GNU_SOURCE -O1 -static -Wall -Wextra -Werror -I"$root/include" \
	"$root/tools/vgalloc-info.c" "$build/libvgalloc-mock.a" "$build/libvgalloc.a" "$libdrm" \
	-lpthread -o "$out/bin/vgalloc-info"
echo "built $out/bin/vgalloc-info"
