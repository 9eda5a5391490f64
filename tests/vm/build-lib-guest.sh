#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build the in-guest library programs (guest-lib/*.c) static against a build tree's
# libvgalloc.a and Debian's libdrm.a, for VGALLOC_VM_EXTRA_BINS.
# Usage: tests/vm/build-lib-guest.sh BUILD_DIR OUT_DIR
#   bash tests/vm/build-lib-guest.sh build /tmp/guest-bins &&
#   VGALLOC_VM_EXTRA_BINS=/tmp/guest-bins/lib-flows bash tests/vm/run-vm.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: build-lib-guest.sh BUILD_DIR OUT_DIR}
out=${2:?usage: build-lib-guest.sh BUILD_DIR OUT_DIR}
mkdir -p "$out"
cmake --build "$build" --target vgalloc_static -j2 >/dev/null
libdrm=$(pkg-config --variable=libdir libdrm)/libdrm.a

for src in "$here"/guest-lib/*.c; do
	name=$(basename "$src" .c)
	gcc -std=c11 -D_GNU_SOURCE -O1 -static -Wall -Wextra -Werror -Wshadow -I"$root/include" \
		"$src" "$build/libvgalloc.a" "$libdrm" -lpthread -o "$out/$name"
	echo "built $out/$name"
done
