# SPDX-License-Identifier: MIT
#
# The inject tier's targets (tests/venus/README.md), read from run-venus.sh's results file:
#   awk -v have_off=0|1 -v have_patched=0|1 -v have_vtest=0|1 -v have_before=0|1 \
#       -f gates-inject.awk results.txt results.txt
# The first pass finds the boots that finished; the second reads their lines. Each target prints
# "TARGET PASS|FAIL ..." (or "TARGET INFO ..." where only printed). Exit 1 when a target fails.

function lo_hi(key, v) {
	if (v == "") return # a missing field or "unavailable" is no measurement
	if (!(key in lo) || v + 0 < lo[key] + 0) lo[key] = v
	if (!(key in hi) || v + 0 > hi[key] + 0) hi[key] = v
}
function val(field, p) { split(field, p, "="); return p[2] }
function check(ok, text) {
	printf "TARGET %s %s\n", ok ? "PASS" : "FAIL", text
	if (!ok) bad = 1
}
NR == FNR { if ($3 == "BOOT") finished[$1 " " $2] = 1; next }
!(($1 " " $2) in finished) { next }
{ drv = substr($1, 2) }
$3 == "MEASURE" && $4 ~ /^churn\.(4k|64k)\.cycle\.cycle$/ { lo_hi(drv " " $4, val($5)) }
$3 == "MEASURE" && $4 ~ /^churn\.(4k|64k)\.live\.free_all_waitidle$/ { lo_hi(drv " " $4, val($5)) }
$3 == "COUNT" && $4 ~ /^churn\.[^.]+\.long$/ {
	lo_hi(drv " " $4 " create_blob", val($5)); lo_hi(drv " " $4 " gem_close", val($8))
}
$3 == "COUNT" && $4 ~ /^churn\./ {
	for (i = 5; i <= NF; i++) { split($i, p, "="); lo_hi(drv " " $4 " " p[1], p[2]); keys[$4 " " p[1]] = 1 }
}
$3 == "MEASURE" && $4 ~ /^churn\.[^.]+\.(cycle|unmapped)\.cycle$/ { lo_hi(drv " time " $4, val($5)) }
$3 == "MEASURE" && $4 ~ /^churn\.[^.]+\.unmapped\.free$/ { lo_hi(drv " " $4, val($5)) }
$3 == "HOST-VALIDATION" { lo_hi(drv " host-validation", val($4)) }
$3 == "FFT-HASH" {
	hk = drv " " $4
	if (!(hk in hash)) hash[hk] = $5
	else if (hash[hk] != $5) hash[hk] = "differs"
	ffts[$4] = 1
}
$3 == "MEASURE" && $4 ~ /^fft\.[^.]+\.total$/ { lo_hi(drv " " $4, val($5)) }
# The vtest boots: Venus over virgl_test_server inside the guest.
$2 ~ /^vtest/ { vt_boot[drv] = 1 }
$2 ~ /^vtest/ && $3 == "VALIDATION-VTEST" { lo_hi(drv " vtest-validation", val($4)) }
$2 ~ /^vtest/ && $3 == "VGALLOC-READY" && $0 ~ /backend vtest/ { vt_ready[drv] = 1 }
$2 ~ /^vtest/ && $3 == "VGALLOC-STATS" {
	for (i = 4; i <= NF; i++) { split($i, p, "="); if (p[1] == "block_creations") lo_hi(drv " vtest blocks", p[2]) }
}
$2 ~ /^vtest/ && $3 == "MEASURE" && $4 ~ /^vtest\.[^.]+\.(cycle|unmapped)\.cycle$/ { lo_hi(drv " " $4, val($5)) }
END {
	if (have_patched) {
		for (s = 1; s <= 2; s++) {
			size = s == 1 ? "4k" : "64k"
			k = "churn." size ".cycle.cycle"
			if (!(("stock " k) in lo) || !(("patched " k) in hi)) { check(0, size " cycle p50: missing"); continue }
			check(hi["patched " k] * 5000 <= lo["stock " k] + 0,
			      sprintf("%s mapped cycle p50: patched %.1f-%.1f us, stock %.0f-%.0f us (ratio >= %.0f, target 5000)",
			              size, lo["patched " k], hi["patched " k], lo["stock " k], hi["stock " k],
			              lo["stock " k] / hi["patched " k]))
			k = "churn." size ".live.free_all_waitidle"
			check(("patched " k) in hi && hi["patched " k] <= 30000,
			      sprintf("%s live frees + vkDeviceWaitIdle: patched %.1f-%.1f ms (target <= 30), stock %.1f-%.1f ms",
			              size, lo["patched " k] / 1000, hi["patched " k] / 1000, lo["stock " k] / 1000, hi["stock " k] / 1000))
		}
		found = 0
		for (key in hi) if (key ~ /^patched churn\.[^.]+\.long create_blob$/) {
			found = 1; g = key; sub(/create_blob$/, "gem_close", g)
			check(hi[key] <= 2 && hi[g] == 0,
			      sprintf("%s: CREATE_BLOB %d, GEM_CLOSE %d (targets <= 2 and 0)", key, hi[key], hi[g]))
		}
		if (!found) check(0, "patched 1000-cycle phase: missing")
		# Never-mapped memory: no blob, so nothing to wait for. The hooks are in order, so the
		# library makes no wait at free: at most one EXECBUFFER more than stock per phase, and
		# a free no slower than twice stock's (p50s; the worst boot of each).
		for (s = 1; s <= 3; s++) {
			size = s == 1 ? "4k" : (s == 2 ? "64k" : "1m")
			k = "churn." size ".unmapped"
			if (!(("stock " k " execbuffer") in lo) || !(("patched " k " execbuffer") in hi)) {
				check(0, size " never-mapped phase: missing"); continue
			}
			check(hi["patched " k " execbuffer"] <= lo["stock " k " execbuffer"] + 1,
			      sprintf("%s never-mapped alloc+free: EXECBUFFER patched %d-%d, stock %d-%d (target <= stock + 1)",
			              size, lo["patched " k " execbuffer"], hi["patched " k " execbuffer"],
			              lo["stock " k " execbuffer"], hi["stock " k " execbuffer"]))
			f = k ".free"
			check(("patched " f) in hi && ("stock " f) in hi && hi["patched " f] <= 2 * hi["stock " f],
			      sprintf("%s never-mapped free p50: patched %.1f-%.1f us, stock %.1f-%.1f us (target <= 2x stock)",
			              size, lo["patched " f], hi["patched " f], lo["stock " f], hi["stock " f]))
		}
		nf = 0
		for (f in ffts) {
			nf++
			check(("stock " f) in hash && ("patched " f) in hash && hash["stock " f] != "differs" &&
			      hash["patched " f] == hash["stock " f],
			      sprintf("VkFFT %s: output hash patched %s, stock %s; wall %.2f-%.2f s, stock %.2f-%.2f s",
			              f, hash["patched " f], hash["stock " f],
			              lo["patched fft." f ".total"] / 1e6, hi["patched fft." f ".total"] / 1e6,
			              lo["stock fft." f ".total"] / 1e6, hi["stock fft." f ".total"] / 1e6))
		}
		if (!nf) check(0, "VkFFT: no results")
		check(("patched host-validation" in hi) && ("stock host-validation" in lo) &&
		      hi["patched host-validation"] <= lo["stock host-validation"],
		      sprintf("host validation messages: patched %d-%d, stock %d-%d",
		              lo["patched host-validation"], hi["patched host-validation"],
		              lo["stock host-validation"], hi["stock host-validation"]))
	}
	if (have_before) {
		# The library before and after, the same series around it: the patched churn p50 lies
		# within the before-build's boot-to-boot range or below it (its fastest boot is no
		# slower than the before-build's slowest).
		for (s = 1; s <= 2; s++) {
			size = s == 1 ? "4k" : "64k"
			k = "churn." size ".cycle.cycle"
			if (!(("patched " k) in lo) || !(("patched-before " k) in hi)) {
				check(0, size " before/after cycle p50: missing"); continue
			}
			check(lo["patched " k] <= hi["patched-before " k] + 0,
			      sprintf("%s mapped cycle p50, library after vs before: %.1f-%.1f us vs %.1f-%.1f us (target: within the before range or faster)",
			              size, lo["patched " k], hi["patched " k], lo["patched-before " k], hi["patched-before " k]))
			k = "churn." size ".unmapped.free"
			if (("patched " k) in lo && ("patched-before " k) in lo)
				printf "TARGET INFO %s never-mapped free p50, after vs before: %.1f-%.1f us vs %.1f-%.1f us\n",
				       size, lo["patched " k], hi["patched " k], lo["patched-before " k], hi["patched-before " k]
		}
	}
	if (have_vtest) {
		# Correctness: every step of both vtest boots passed (vn-check with the guest's validation
		# layer, vn-churn), so both boots finished.
		check(("stock" in vt_boot) && ("patched" in vt_boot),
		      sprintf("vtest: vn-check and vn-churn over virgl_test_server in the guest: stock %s, patched %s",
		              ("stock" in vt_boot) ? "passed" : "missing", ("patched" in vt_boot) ? "passed" : "missing"))
		check(("patched" in vt_ready) && hi["patched vtest blocks"] >= 1,
		      sprintf("vtest: the patched driver allocated through libvgalloc's vtest backend (backend vtest %s, blocks made %d)",
		              ("patched" in vt_ready) ? "ready" : "not seen", hi["patched vtest blocks"]))
		check(("patched vtest-validation" in hi) && ("stock vtest-validation" in lo) &&
		      hi["patched vtest-validation"] <= lo["stock vtest-validation"],
		      sprintf("vtest: renderer validation messages: patched %d, stock %d",
		              hi["patched vtest-validation"], lo["stock vtest-validation"]))
		for (s = 1; s <= 2; s++) {
			size = s == 1 ? "4k" : "64k"
			k = "vtest." size ".cycle.cycle"
			if (("patched " k) in lo && ("stock " k) in lo)
				printf "TARGET INFO vtest %s mapped cycle p50: patched %.1f us, stock %.1f us\n",
				       size, lo["patched " k], lo["stock " k]
		}
	}
	if (have_off) {
		n = 0
		for (kk in keys) {
			split(kk, q, " "); phase = q[1]; what = q[2]
			if (!(("stock " kk) in lo) || !(("patched-off " kk) in lo)) continue
			inside = lo["patched-off " kk] >= lo["stock " kk] && hi["patched-off " kk] <= hi["stock " kk]
			if (what ~ /^(create_blob|map|mmap|gem_close)$/) {
				n++
				if (!(inside && lo["stock " kk] == hi["stock " kk] && lo["patched-off " kk] == lo["stock " kk]))
					check(0, sprintf("off switch %s %s: %s-%s, stock %s-%s", phase, what,
					                 lo["patched-off " kk], hi["patched-off " kk], lo["stock " kk], hi["stock " kk]))
			} else if (what == "execbuffer") {
				printf "TARGET INFO off switch %s execbuffer: %s-%s, stock %s-%s (%s)\n", phase,
				       lo["patched-off " kk], hi["patched-off " kk], lo["stock " kk], hi["stock " kk],
				       inside ? "within stock range" : "outside stock range"
			}
		}
		for (key in lo) if (key ~ /^patched-off time /) {
			sk = key; sub(/^patched-off/, "stock", sk)
			if (sk in lo)
				printf "TARGET INFO off switch %s p50: %.1f-%.1f us, stock %.1f-%.1f us (%s)\n",
				       substr(key, 18), lo[key], hi[key], lo[sk], hi[sk],
				       ((lo[key] >= lo[sk] && hi[key] <= hi[sk]) ? "within stock range" : "outside stock range")
		}
		check(n > 0, sprintf("off switch: %d blob counts (CREATE_BLOB, MAP, mmap, GEM_CLOSE per phase) equal to stock", n))
	}
	exit bad
}
