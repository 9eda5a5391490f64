#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build the in-guest programs of the VM tier: static binaries (libc only) made with the host's
# gcc, so the initramfs needs no loader or shared libraries.
#
# Usage: tests/vm/build-guest.sh OUT_DIR      (CC and CFLAGS may be overridden)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build-guest.sh OUT_DIR}
mkdir -p "$out"

cc=${CC:-gcc}
flags=(-std=c11 -O2 -g0 -static -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow
	-Wvla -Wundef -Werror)

for src in "$here"/guest/*.c; do
	name=$(basename "$src" .c)
	# shellcheck disable=SC2086 # CFLAGS is a list of words on purpose
	"$cc" "${flags[@]}" ${CFLAGS:-} -o "$out/$name.tmp" "$src"
	mv "$out/$name.tmp" "$out/$name"
	echo "built $out/$name"
done
