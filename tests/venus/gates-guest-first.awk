# SPDX-License-Identifier: MIT
#
# The guest-first tier's targets (tests/venus/README.md), read from run-venus.sh's results file:
#   awk -f gates-guest-first.awk results.txt results.txt
# The first pass finds the boots that finished; the second reads their lines. Labels are
# driver@host: stock and patched, on "static" (the emulated static-mapping host, guest-first) and
# "static-pass" (the same QEMU with the preload passing through: host-first). Each target prints
# "TARGET PASS|FAIL ..."; tables print "TARGET INFO ...". Exit 1 when a target fails.

# Numbers only (a value taken from a string compares as a string unless forced); an empty
# value (a missing field, "unavailable") is no measurement. seen[] says what was measured:
# reading lo[] or hi[] for a key that is not there creates it.
function lo_hi(key, v) {
	if (v == "") return
	v += 0
	if (!(key in seen) || v < lo[key]) lo[key] = v
	if (!(key in seen) || v > hi[key]) hi[key] = v
	seen[key] = 1
}
function val(field, p) { split(field, p, "="); return p[2] }
# field(name): the value of name=... on the current line ("" when absent)
function field(name,   i) {
	for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2)
	return ""
}
function check(ok, text) {
	printf "TARGET %s %s\n", ok ? "PASS" : "FAIL", text
	if (!ok) bad = 1
}
function have(key) { return key in seen }

NR == FNR { if ($3 == "BOOT") finished[$1 " " $2] = 1; next }
!(($1 " " $2) in finished) { next }
{ drv = substr($1, 2); kind = $2; sub(/[0-9]+\.[0-9]+\]$/, "", kind) }

$3 == "BOOT" { boots[drv " " kind]++; if ($4 == "pass") passed[drv " " kind]++ }
$3 == "MEASURE" && $4 ~ /^churn\.(4k|64k)\.cycle\.(cycle|alloc)$/ { lo_hi(drv " " $4, val($5)) }
# the 20 alloc+free of a fresh process, wall time across all of them
$3 == "MEASURE" && $4 ~ /^fresh\.[^.]+\.unmapped\.total$/ { lo_hi(drv " " $4, field("total")) }
# and the vkDestroyDevice after them, where stock pays the host's unmap of each freed blob
$3 == "MEASURE" && $4 == "fresh.device_destroy" { lo_hi(drv " " $4, field("total")) }
$3 == "COUNT" && $4 ~ /^churn\.[^.]+\.long$/ { lo_hi(drv " " $4 " create_blob", field("create_blob")) }
$3 == "COUNT" && $4 ~ /^fresh\./ { lo_hi(drv " " $4 " create_blob", field("create_blob")) }
$3 == "HOST-VALIDATION" && kind == "check" {
	lo_hi(drv " host-validation", field("messages"))
	lo_hi(drv " host-validation rest", field("rest"))
	lo_hi(drv " host-validation forced", field("renderer-forced-export") + field("renderer-import"))
}
$3 == "MM" && $5 ~ /^ranges=/ {
	split($4, q, "."); state = q[3]
	lo_hi(drv " mm " state " ranges", field("ranges"))
	lo_hi(drv " mm " state " used", field("used"))
	mm_total = field("total")
}
$3 == "CAPSET" { lo_hi(drv " use_guest_vram", field("use_guest_vram")) }
$3 == "STATIC-HOST" {
	lo_hi(drv " static-host import_failures", field("import_failures"))
	lo_hi(drv " static-host imports", field("imports"))
	lo_hi(drv " static-host map_failures", field("map_failures"))
	lo_hi(drv " static-host passed_host3d_with_blob_id", field("passed_host3d_with_blob_id"))
	hosts_seen[drv] = 1
}
$3 == "VGALLOC-READY" {
	mode = ($0 ~ /guest-first/) ? "guest-first" : ($0 ~ /host-first/) ? "host-first" : "?"
	if (!(drv in lib_mode)) lib_mode[drv] = mode
	else if (lib_mode[drv] != mode) lib_mode[drv] = "mixed"
}
$3 == "VGALLOC-STATS" {
	lo_hi(drv " lib block_creations", field("block_creations"))
	lo_hi(drv " lib blobs_created", field("blobs_created"))
}

END {
	gs = "stock@static"; gp = "patched@static"; hs = "stock@static-pass"; hp = "patched@static-pass"

	# Correctness: the check boots on the guest-first host (their steps are judged by run-venus.sh;
	# here: that they finished and passed at all).
	for (i = 1; i <= 2; i++) {
		d = i == 1 ? gs : gp
		check(passed[d " check"] >= 1, sprintf("correctness suite on %s: %d of %d finished check boots passed",
		      d, passed[d " check"], boots[d " check"]))
	}
	check(have(gs " use_guest_vram") && have(gp " use_guest_vram") && have(hs " use_guest_vram") &&
	      have(hp " use_guest_vram") && lo[gs " use_guest_vram"] == 1 && lo[gp " use_guest_vram"] == 1 &&
	      hi[hs " use_guest_vram"] == 0 && hi[hp " use_guest_vram"] == 0,
	      sprintf("capset use_guest_vram read back in the guest: static %s/%s, pass-through %s/%s (stock/patched)",
	              lo[gs " use_guest_vram"], lo[gp " use_guest_vram"], lo[hs " use_guest_vram"], lo[hp " use_guest_vram"]))

	# Host-side validation (VKR_DEBUG=validate) on the check boots.
	check(have(gp " host-validation") && have(gs " host-validation") &&
	      hi[gp " host-validation rest"] == 0 && hi[gp " host-validation"] <= lo[gs " host-validation"],
	      sprintf("host validation, guest-first: patched %d messages (%d the renderer's own external-memory binds, %d other), stock %d (%d, %d)",
	              hi[gp " host-validation"], hi[gp " host-validation forced"], hi[gp " host-validation rest"],
	              lo[gs " host-validation"], lo[gs " host-validation forced"], lo[gs " host-validation rest"]))

	# 20 never-mapped alloc+free in a fresh process.
	k = "fresh.64k.unmapped.total"
	check(have(gp " " k) && hi[gp " " k] <= 20000,
	      sprintf("20 never-mapped 64 KiB alloc+free, fresh process: patched %.1f-%.1f ms (target <= 20), stock %.1f-%.1f ms; host-first: patched %.1f ms, stock %.1f ms",
	              lo[gp " " k] / 1000, hi[gp " " k] / 1000, lo[gs " " k] / 1000, hi[gs " " k] / 1000,
	              hi[hp " " k] / 1000, hi[hs " " k] / 1000))
	# Stock's freed blobs are unmapped by the host (~100 ms each in this QEMU) after the loop,
	# so its 20 cost it nothing in the loop and up to ~2 s in the vkDestroyDevice that follows;
	# how much of that lands there varies from boot to boot (measured 102-1985 ms), so the
	# process's whole bill is printed, not gated.
	k = "fresh.device_destroy"
	printf "TARGET INFO vkDestroyDevice after those 20: patched %.1f-%.1f ms, stock %.1f-%.1f ms (guest-first); patched %.1f ms, stock %.1f ms (host-first)\n",
	       lo[gp " " k] / 1000, hi[gp " " k] / 1000, lo[gs " " k] / 1000, hi[gs " " k] / 1000,
	       hi[hp " " k] / 1000, hi[hs " " k] / 1000
	printf "TARGET INFO the same 20 plus vkDestroyDevice, guest-first: patched %.1f-%.1f ms, stock %.1f-%.1f ms\n",
	       (lo[gp " fresh.64k.unmapped.total"] + lo[gp " " k]) / 1000,
	       (hi[gp " fresh.64k.unmapped.total"] + hi[gp " " k]) / 1000,
	       (lo[gs " fresh.64k.unmapped.total"] + lo[gs " " k]) / 1000,
	       (hi[gs " fresh.64k.unmapped.total"] + hi[gs " " k]) / 1000
	k = "fresh.64k.unmapped create_blob"
	printf "TARGET INFO CREATE_BLOB for those 20: patched %s, stock %s (guest-first); patched %s, stock %s (host-first)\n",
	       hi[gp " " k], hi[gs " " k], hi[hp " " k], hi[hs " " k]

	for (s = 1; s <= 2; s++) {
		size = s == 1 ? "4k" : "64k"
		k = "churn." size ".cycle.cycle"
		check(have(gp " " k) && have(gs " " k) && hi[gp " " k] * 5000 <= lo[gs " " k] + 0,
		      sprintf("%s mapped cycle p50, guest-first: patched %.1f-%.1f us, stock %.0f-%.0f us (ratio >= %.0f, target 5000)",
		              size, lo[gp " " k], hi[gp " " k], lo[gs " " k], hi[gs " " k],
		              hi[gp " " k] > 0 ? lo[gs " " k] / hi[gp " " k] : 0))
		k = "churn." size ".cycle.alloc"
		check(have(gp " " k) && hi[gp " " k] <= 20,
		      sprintf("%s vkAllocateMemory p50 (a suballocation), guest-first: patched %.1f-%.1f us (target <= 20), stock %.1f-%.1f us",
		              size, lo[gp " " k], hi[gp " " k], lo[gs " " k], hi[gs " " k]))
	}
	found = 0
	for (key in hi) if (index(key, gp " churn.") == 1 && key ~ /\.long create_blob$/) {
		found = 1
		check(hi[key] <= 2, sprintf("%s: %d (target <= 2)", key, hi[key]))
	}
	if (!found) check(0, "patched guest-first 1000-cycle phase: missing")

	# The window with 50 live 4 KiB objects, four cells: ranges and bytes of the host-visible
	# window in use (debugfs virtio-gpu-host-visible-mm, the whole guest), at the process's start
	# ("before": Venus's rings and replies, and on patched the library's first block, which
	# Venus's own feedback buffers opened at device creation), once the objects are allocated and
	# once they are also mapped. Maxima over the boots.
	printf "TARGET INFO host-visible window with 50 live 4 KiB objects (window %s bytes), ranges / bytes:\n", mm_total
	printf "TARGET INFO %-20s %-20s %-20s %-20s\n", "", "before", "allocated", "allocated and mapped"
	nmm = 0
	for (i = 1; i <= 4; i++) {
		d = i == 1 ? gs : i == 2 ? gp : i == 3 ? hs : hp
		if (have(d " mm mapped used") && have(d " mm before used")) nmm++
		for (j = 1; j <= 3; j++) {
			st = j == 1 ? "before" : j == 2 ? "allocated" : "mapped"
			cell[j] = hi[d " mm " st " ranges"] " / " hi[d " mm " st " used"]
		}
		added[d] = hi[d " mm mapped ranges"] - lo[d " mm before ranges"]
		printf "TARGET INFO %-20s %-20s %-20s %-20s\n", d, cell[1], cell[2], cell[3]
	}
	check(nmm == 4, sprintf("host-visible window read in the guest on %d of 4 cells", nmm))
	check(nmm == 4 && added[gp] <= 1 && added[gp] < added[gs],
	      sprintf("window ranges added by 50 mapped 4 KiB objects, guest-first: patched %d (target <= 1), stock %d",
	              added[gp], added[gs]))

	# The emulation's counters and the library's mode and blocks.
	for (i = 1; i <= 2; i++) {
		d = i == 1 ? gs : gp
		check((d in hosts_seen) && hi[d " static-host import_failures"] == 0 && lo[d " static-host imports"] > 0 &&
		      hi[d " static-host map_failures"] == 0,
		      sprintf("static host on %s boots: imports %s-%s, failed imports %s, failed maps %s", d,
		              lo[d " static-host imports"], hi[d " static-host imports"],
		              hi[d " static-host import_failures"], hi[d " static-host map_failures"]))
		d = i == 1 ? hs : hp
		check((d in hosts_seen) && hi[d " static-host imports"] == 0,
		      sprintf("pass-through host on %s boots: imports %s, host-first blobs with ids passed %s-%s", d,
		              hi[d " static-host imports"], lo[d " static-host passed_host3d_with_blob_id"],
		              hi[d " static-host passed_host3d_with_blob_id"]))
	}
	check(lib_mode[gp] == "guest-first" && lo[gp " lib block_creations"] >= 1,
	      sprintf("library on the guest-first host: mode %s, guest-first blocks made per process %s-%s, blobs %s-%s",
	              lib_mode[gp], lo[gp " lib block_creations"], hi[gp " lib block_creations"],
	              lo[gp " lib blobs_created"], hi[gp " lib blobs_created"]))
	check(lib_mode[hp] == "host-first",
	      sprintf("library on the pass-through host: mode %s, blocks %s-%s", lib_mode[hp],
	              lo[hp " lib block_creations"], hi[hp " lib block_creations"]))
	exit bad
}
