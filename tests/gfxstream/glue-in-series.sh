#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The glue the gfxstream series adds to Mesa (src/gfxstream/guest/vulkan_enc/VgallocGlue.*) must
# be, byte for byte, the glue test_gfxstream_glue builds and tests (integrations/gfxstream/glue):
# this extracts each new file the series' patches create and compares it with the tree's.
# Usage: tests/gfxstream/glue-in-series.sh   Exit: 0 equal, 1 otherwise.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
patches=$repo/integrations/gfxstream/patches
glue=$repo/integrations/gfxstream/glue
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# new_file <patch> <path>: the content of a file the patch creates (--- /dev/null, one hunk).
new_file() {
	awk -v want="+++ b/$2" '
		$0 == want { grab = 1; next }
		grab && /^@@ -0,0 \+1(,[0-9]+)? @@/ { n = ($3 ~ /,/) ? substr($3, index($3, ",") + 1) : 1; inhunk = 1; next }
		inhunk && n > 0 { print substr($0, 2); n--; if (n == 0) exit }
	' "$1"
}

status=0
for f in VgallocGlue.h VgallocGlue.cpp; do
	path=src/gfxstream/guest/vulkan_enc/$f
	found=0
	while read -r p; do
		[[ -n $p ]] || continue
		if grep -qxF "+++ b/$path" "$patches/$p"; then
			new_file "$patches/$p" "$path" >"$tmp/$f"
			found=1
			break
		fi
	done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$patches/series")
	if ((!found)); then
		echo "FAIL: no patch of the series creates $path"
		status=1
	elif ! cmp -s "$tmp/$f" "$glue/$f"; then
		echo "FAIL: $path in the series differs from integrations/gfxstream/glue/$f:"
		diff -u "$glue/$f" "$tmp/$f" | head -n 40 || true
		status=1
	else
		echo "ok: $path = integrations/gfxstream/glue/$f ($(wc -l <"$tmp/$f") lines)"
	fi
done
exit $status
