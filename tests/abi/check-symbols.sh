#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The exported-symbol check: the dynamic symbols a shared library defines must be exactly its
# allow-list. A new public function is added to the list on purpose, never by accident.
# Usage: check-symbols.sh LIBRARY.so ALLOW-LIST
set -euo pipefail

lib=$1
list=$2
actual=$(nm -D --defined-only "$lib" | awk '{ print $3 }' | sort)
if ! diff -u "$list" <(printf '%s\n' "$actual"); then
	echo "check-symbols: $lib exports differ from $list (+ unexpected, - missing)" >&2
	exit 1
fi
echo "check-symbols: $(printf '%s\n' "$actual" | wc -l) symbols of $(basename "$lib") match"
