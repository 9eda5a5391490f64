/* SPDX-License-Identifier: MIT */
/*
 * vgalloc-bench: the suballocation benchmark. It generates DESIGN §5's traces, replays each
 * through libvgalloc's public API on a counting-only mock, through two no-suballocation
 * baselines and through the allocation algorithm alone, and prints time, blob, waste and cost
 * figures beside the project's targets (PASS/MISS).
 *
 * Usage: vgalloc-bench [--quick] [--csv | --json] [--runs N] [--workload NAME[,NAME...]]
 *                      [--allocators LIST] [--trace-out FILE] [--strict]
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_capset.h"
#include "vgalloc/vgalloc_diag.h"

#include "bench.h"

#define NOMAP_SEED 0x6e6f6d6170ull /* "nomap": the never-mapped choice, apart from the trace */

enum out_format {
	OUT_TABLE,
	OUT_CSV,
	OUT_JSON
};

struct options {
	bool quick, strict, cycle_only;
	enum out_format format;
	uint32_t runs;
	const char *workloads;  /* comma-separated, NULL = all but the 1M-live growth */
	const char *allocators; /* comma-separated, NULL = all */
	const char *trace_out;
};

/* A workload: a base trace, the pool base alignment and the never-mapped fraction. Growth
 * workloads (G*) run only the suballocating allocators, on a window of GROWTH_WINDOW. */
struct wl_def {
	const char *name;
	const char *base;
	uint64_t base_align;
	double nomap;
	bool growth;
};

#define GROWTH_WINDOW (128 * GiB)

static const struct wl_def wl_defs[] = {
	{ "W1", "W1", 256, 0.0, false },           { "W1R", "W1R", 256, 0.0, false },
	{ "W2", "W2", 256, 0.0, false },           { "W3", "W3", 256, 0.0, false },
	{ "W4", "W4", 256, 0.0, false },           { "W5", "W5", 256, 0.0, false },
	{ "W6", "W6", 256, 0.0, false },           { "W3-a4k", "W3", 4 * KiB, 0.0, false },
	{ "W3-a64k", "W3", 64 * KiB, 0.0, false }, { "W5-a4k", "W5", 4 * KiB, 0.0, false },
	{ "W5-a64k", "W5", 64 * KiB, 0.0, false }, { "W3-nomap50", "W3", 256, 0.5, false },
	{ "W5-nomap50", "W5", 256, 0.5, false },   { "G1k", "G1k", 256, 0.0, true },
	{ "G10k", "G10k", 256, 0.0, true },        { "G100k", "G100k", 256, 0.0, true },
	{ "G1M", "G1M", 256, 0.0, true },
};
#define WL_COUNT (sizeof(wl_defs) / sizeof(wl_defs[0]))

/* Base traces, generated on first use. W8 uses two extra churn traces. */
static const char *const base_names[] = { "W1",     "W1R",    "W2",  "W3",   "W4",    "W5", "W6",
	                                  "W8-s11", "W8-s12", "G1k", "G10k", "G100k", "G1M" };
#define BASE_COUNT (sizeof(base_names) / sizeof(base_names[0]))

struct workload {
	const struct wl_def *def;
	struct bench_trace trace; /* own copy: analysis and mapping differ per workload */
	struct bench_result res[ALLOC_COUNT];
	double floor_blobs_per_1000;
	double floor_waste;
	bool done;
};

struct target {
	char name[96];
	double value, limit;
	bool at_most; /* value ≤ limit (else ≥) */
	bool available;
};

static struct bench_trace base_traces[BASE_COUNT];
static bool base_ready[BASE_COUNT];

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: vgalloc-bench [options]\n"
	        "  --quick            every workload at a tiny scale (a smoke test; figures not "
	        "comparable)\n"
	        "  --csv | --json     machine-readable output instead of the table\n"
	        "  --runs N           timed runs per figure (median; default 5, --quick 1)\n"
	        "  --workload LIST    comma-separated: W1 W1R W2 W3 W4 W5 W6 W8 W3-a4k W3-a64k "
	        "W5-a4k\n"
	        "                     W5-a64k W3-nomap50 W5-nomap50, growth G1k G10k G100k G1M\n"
	        "                     (default: all but G1M; --quick: G1k and G10k of the growth)\n"
	        "  --allocators LIST  comma-separated: libvgalloc one-blob-per-alloc "
	        "stock-venus-lazy\n"
	        "                     allocator-alone tlsf-reference slab-reference (default: "
	        "all)\n"
	        "  --trace-out FILE   write the traces used as CSV op,id,size,align (several "
	        "traces:\n"
	        "                     FILE with .NAME inserted before the extension)\n"
	        "  --strict           exit 1 when a target is missed\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--quick")) {
			o->quick = true;
		} else if (!strcmp(a, "--strict")) {
			o->strict = true;
		} else if (!strcmp(a, "--cycle-only")) {
			o->cycle_only = true;
		} else if (!strcmp(a, "--csv")) {
			o->format = OUT_CSV;
		} else if (!strcmp(a, "--json")) {
			o->format = OUT_JSON;
		} else if (!strcmp(a, "--runs") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);

			if (*end || v < 1 || v > 1000) {
				fprintf(stderr, "vgalloc-bench: --runs wants 1..1000\n");
				return -EINVAL;
			}
			o->runs = (uint32_t)v;
		} else if (!strcmp(a, "--workload") && i + 1 < argc) {
			o->workloads = argv[++i];
		} else if (!strcmp(a, "--allocators") && i + 1 < argc) {
			o->allocators = argv[++i];
		} else if (!strcmp(a, "--trace-out") && i + 1 < argc) {
			o->trace_out = argv[++i];
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else {
			fprintf(stderr, "vgalloc-bench: unknown or incomplete option '%s'\n", a);
			usage(stderr);
			return -EINVAL;
		}
	}
	if (!o->runs) {
		o->runs = o->quick ? 1 : 5;
	} else if (!o->quick && o->runs < 5) {
		fprintf(stderr, "vgalloc-bench: note: --runs %u; the method asks for >= 5\n",
		        o->runs);
	}
	return 0;
}

/* Whether NAME is in the comma-separated list (case-insensitive); NULL list = everything. */
static bool selected(const char *list, const char *name)
{
	size_t len = strlen(name);

	if (!list) {
		return true;
	}
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n == len && !strncasecmp(p, name, n)) {
			return true;
		}
		if (!comma) {
			break;
		}
		p = comma + 1;
	}
	return false;
}

/* Whether workload NAME runs: listed, or by default everything but the largest growth sizes. */
static bool wl_selected(const struct options *o, const char *name)
{
	if (o->workloads) {
		return selected(o->workloads, name);
	}
	return strcmp(name, "G1M") && (!o->quick || strcmp(name, "G100k"));
}

static int check_workload_names(const char *list)
{
	char name[64];

	if (!list) {
		return 0;
	}
	for (const char *p = list; *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		bool known = false;

		snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), p);
		known = !strcasecmp(name, "W8");
		for (size_t k = 0; k < WL_COUNT && !known; k++) {
			known = !strcasecmp(name, wl_defs[k].name);
		}
		if (!known) {
			fprintf(stderr, "vgalloc-bench: unknown workload '%s'\n", name);
			return -EINVAL;
		}
		if (!comma) {
			break;
		}
		p = comma + 1;
	}
	return 0;
}

static int generate(size_t k, bool quick)
{
	const struct bench_scale sc = { .quick = quick };
	struct bench_trace *t = &base_traces[k];
	const char *n = base_names[k];
	int ret;

	if (base_ready[k]) {
		return 0;
	}
	trace_init(t, n);
	if (!strcmp(n, "W1")) {
		ret = trace_w1(t, &sc, false);
	} else if (!strcmp(n, "W1R")) {
		ret = trace_w1(t, &sc, true);
	} else if (!strcmp(n, "W2")) {
		ret = trace_w2(t, &sc);
	} else if (!strcmp(n, "W3")) {
		ret = quick ? trace_churn(t, 256, 64 * KiB, 256, 200, 8000, 7)
		            : trace_churn(t, 256, 64 * KiB, 256, 2000, 400000, 7);
	} else if (!strcmp(n, "W4")) {
		ret = quick ? trace_churn(t, 256, 4 * MiB, 256, 100, 4000, 8)
		            : trace_churn(t, 256, 4 * MiB, 256, 1000, 200000, 8);
	} else if (!strcmp(n, "W5")) {
		ret = trace_w5(t, &sc);
	} else if (!strcmp(n, "W6")) {
		ret = trace_w6(t, &sc);
	} else if (n[0] == 'G') {
		/* Growth: churn(256, 64 KiB, 256, L, max(400000, 2L), 7); --quick: 40000 ops. */
		uint32_t live = !strcmp(n, "G1k")     ? 1000
		                : !strcmp(n, "G10k")  ? 10000
		                : !strcmp(n, "G100k") ? 100000
		                                      : 1000000;
		uint32_t ops = quick ? 40000 : 2 * live > 400000 ? 2 * live : 400000;

		ret = trace_churn(t, 256, 64 * KiB, 256, live, ops > 2 * live ? ops : 2 * live, 7);
	} else {
		uint64_t seed = !strcmp(n, "W8-s11") ? 11 : 12;

		ret = quick ? trace_churn(t, 256, 64 * KiB, 256, 200, 8000, seed)
		            : trace_churn(t, 256, 64 * KiB, 256, 2000, 400000, seed);
	}
	if (!ret) {
		ret = trace_set_mapped(t, 0.0, NOMAP_SEED);
	}
	if (!ret) {
		trace_analyse(t, 256);
		base_ready[k] = true;
	}
	return ret;
}

static size_t base_index(const char *name)
{
	for (size_t k = 0; k < BASE_COUNT; k++) {
		if (!strcmp(base_names[k], name)) {
			return k;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Formatting.
 */

static void fmt_bytes(char *buf, size_t size, double b)
{
	if (b >= (double)GiB) {
		snprintf(buf, size, "%.2f GiB", b / (double)GiB);
	} else if (b >= (double)MiB) {
		snprintf(buf, size, "%.2f MiB", b / (double)MiB);
	} else if (b >= (double)KiB) {
		snprintf(buf, size, "%.1f KiB", b / (double)KiB);
	} else {
		snprintf(buf, size, "%.0f B", b);
	}
}

/* "%.3g" but never in exponent form for the magnitudes printed here. */
static void fmt_num(char *buf, size_t size, double v)
{
	if (v < 0) {
		snprintf(buf, size, "-");
	} else if (v == 0) {
		snprintf(buf, size, "0");
	} else if (v >= 1000) {
		snprintf(buf, size, "%.0f", v);
	} else if (v >= 100) {
		snprintf(buf, size, "%.1f", v);
	} else if (v >= 1) {
		snprintf(buf, size, "%.2f", v);
	} else if (v >= 0.01) {
		snprintf(buf, size, "%.3f", v);
	} else {
		snprintf(buf, size, "%.2g", v);
	}
}

static void print_header(const struct options *o, const struct bench_clock *clk,
                         const struct bench_config *cfg, const struct vgalloc_device_info *di,
                         int probe_ret)
{
	char cpu[256], wb[32], rb[32];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	cpu_model(cpu, sizeof(cpu));
	fmt_bytes(wb, sizeof(wb), (double)cfg->window_size);
	if (o->format != OUT_TABLE) {
		return;
	}
	printf("vgalloc-bench %d.%d.%d%s\n", VGALLOC_VERSION_MAJOR, VGALLOC_VERSION_MINOR,
	       VGALLOC_VERSION_PATCH,
	       o->quick ? "  [--quick: tiny traces, a smoke test; figures are NOT comparable]"
	                : "");
	printf("CPU: %s, %ld online CPUs\n", cpu, ncpu);
	printf("clock: %s, %.4f ticks/ns, timer overhead %llu ticks (%.1f ns, median of 20001 "
	       "back-to-back pairs, subtracted)\n",
	       clk->tsc ? "TSC (lfence;rdtsc;lfence .. rdtscp;lfence) calibrated on CLOCK_MONOTONIC"
	                : "clock_gettime(CLOCK_MONOTONIC)",
	       clk->ticks_per_ns, (unsigned long long)clk->overhead,
	       (double)clk->overhead / clk->ticks_per_ns);
#ifdef NDEBUG
	printf("build: optimised, NDEBUG\n");
#else
	printf("build: assertions on (debug invariant checks run): times are not representative\n");
#endif
	printf("mock: counting-only (no memfd, no mmap), injecting profile, Venus capset, own "
	       "mode, "
	       "window %s; memory type 0 host-visible|coherent\n",
	       wb);
	if (probe_ret) {
		printf("device: probe failed (%s)\n", strerror(-probe_ret));
	} else {
		fmt_bytes(rb, sizeof(rb), (double)di->retain_bytes);
		printf("retained-bytes cap: %s per pool (%llu B)%s; min block %llu B%s, max block "
		       "%llu B; max suballocation %llu B; %u lock shards\n",
		       di->retain_bytes ? rb : "0", (unsigned long long)di->retain_bytes,
		       cfg->retain_bytes ? "" : " = library default",
		       (unsigned long long)di->min_block_size,
		       di->min_block_size ? "" : " (= the plan's default)",
		       (unsigned long long)di->max_block_size,
		       (unsigned long long)di->max_suballoc_size, di->pool_shards);
	}
	printf("method: %u repetitions; in each, every allocator of a workload replays its trace "
	       "twice, one allocator after\n"
	       "  the other (interleaved): every call timed alone (alloc, map and free "
	       "mean/p99/max all from these per-op\n"
	       "  samples, one timer overhead subtracted each), then the whole trace under one "
	       "timer and none inside: 'cycle' =\n"
	       "  ns per allocation of alloc + map (when mapped) + free, what users pay. Figures "
	       "are medians over the repetitions\n"
	       "  ('worst' in JSON = max over all). 'cycle/alg' = libvgalloc's cycle over "
	       "allocator-alone's in the same run.\n"
	       "  Committed bytes = stats.block_bytes + stats.mem_bytes_committed, read after "
	       "every op of an untimed pass;\n"
	       "  metadata and window at the op where live requested bytes first peak. Modeled "
	       "cost: the mock's computed cost\n"
	       "  model (never slept), QEMU-TCG and memfd-floor presets, ms per 1000 "
	       "allocations, device teardown included.\n"
	       "  allocator-alone: vgalloc__sa_* with blocks from vgalloc__sa_block_size on "
	       "-ENOSPC; one empty block kept, any\n"
	       "  other removed at once; tlsf-/slab-reference: ours (tests/bench/ref.c), same "
	       "block policy, not gated.\n"
	       "  Growth workloads G*: churn(256, 64 KiB, 256, L, max(400000, 2L), 7), window "
	       "%llu GiB. Never-mapped choice:\n"
	       "  separate RNG (DESIGN's, seed 0x%llx).\n",
	       cfg->runs, (unsigned long long)(GROWTH_WINDOW / GiB), NOMAP_SEED);
}

static void time3(char *buf, size_t size, const struct bench_time *t)
{
	char a[16], b[16], c[16];

	fmt_num(a, sizeof(a), t->mean_ns);
	fmt_num(b, sizeof(b), t->p99_ns);
	fmt_num(c, sizeof(c), t->max_ns);
	snprintf(buf, size, "%s/%s/%s", a, b, c);
}

/* libvgalloc's cycle over the algorithm's in the same run; 0 when either is missing. */
static double cycle_ratio(const struct workload *w)
{
	const struct bench_result *v = &w->res[ALLOC_VGALLOC], *a = &w->res[ALLOC_SA];

	if (!v->ran || v->error || !a->ran || a->error || a->replay_ns_per_alloc <= 0) {
		return 0;
	}
	return v->replay_ns_per_alloc / a->replay_ns_per_alloc;
}

static void print_workload_table(const struct workload *w)
{
	const struct bench_trace *t = &w->trace;
	char pl[32], at[32];

	fmt_bytes(pl, sizeof(pl), (double)t->peak_live);
	printf("\n== %s: %s\n", w->def->name, t->desc);
	printf("   %u allocations, peak live %s (%llu B) at op %zu with %llu live; base alignment "
	       "%llu; %s\n",
	       t->n_allocs, pl, (unsigned long long)t->peak_live, t->peak_index,
	       (unsigned long long)t->peak_live_count, (unsigned long long)t->base_align,
	       t->nomap_fraction > 0 ? "" : "every allocation mapped");
	if (t->nomap_fraction > 0) {
		printf("   %u of %u allocations mapped (%.0f%% never mapped)\n", t->mapped_count,
		       t->n_allocs, t->nomap_fraction * 100);
	}
	fmt_bytes(at, sizeof(at), (double)w->trace.base_align);
	printf("   floors: %.4f blobs/1000 allocs (ceil(peak live / max block) blobs), waste %.4f "
	       "(sum align_up(size, %s) / sum size, live set at peak)\n",
	       w->floor_blobs_per_1000, w->floor_waste, at);
	printf("   %-19s %-20s %-20s %7s %8s %10s %7s %8s %10s %10s %9s\n", "allocator",
	       "alloc ns mean/p99/max", "free ns mean/p99/max", "map ns", "cycle", "blobs/1000",
	       "waste", "meta B/a", "window@pk", "QEMU ms/1k", "memfd/1k");
	for (uint32_t a = 0; a < ALLOC_COUNT; a++) {
		const struct bench_result *r = &w->res[a];
		char ta[48], tf[48], m[16], rp[16], bl[16], ws[16], md[16], win[24], q[16], mf[16];

		if (!r->ran) {
			continue;
		}
		if (r->same_as_one_blob) {
			printf("   %-19s = one-blob-per-alloc (every allocation is mapped here)\n",
			       bench_allocator_names[a]);
			continue;
		}
		if (r->error) {
			printf("   %-19s ERROR: %s failed: %s\n", bench_allocator_names[a],
			       r->error_what, strerror(-r->error));
			continue;
		}
		time3(ta, sizeof(ta), &r->alloc);
		time3(tf, sizeof(tf), &r->free);
		fmt_num(m, sizeof(m), !r->map.count ? -1 : r->map.mean_ns);
		fmt_num(rp, sizeof(rp), r->replay_ns_per_alloc);
		fmt_num(bl, sizeof(bl), r->blobs_per_1000);
		snprintf(ws, sizeof(ws), "%.3f", r->waste);
		fmt_num(md, sizeof(md), r->metadata_per_live);
		if (a >= ALLOC_SA) {
			snprintf(win, sizeof(win), "-");
		} else {
			fmt_bytes(win, sizeof(win), (double)r->window_at_peak);
		}
		fmt_num(q, sizeof(q), r->modeled_qemu_ms_per_1000);
		fmt_num(mf, sizeof(mf), r->modeled_memfd_ms_per_1000);
		printf("   %-19s %-20s %-20s %7s %8s %10s %7s %8s %10s %10s %9s\n",
		       bench_allocator_names[a], ta, tf, m, rp, bl, ws, md, win, q, mf);
		if (r->order_violations || r->leaked_blobs) {
			printf("   %-19s WARNING: %llu order violations, %llu blobs/host "
			       "allocations "
			       "left after device destroy\n",
			       "", (unsigned long long)r->order_violations,
			       (unsigned long long)r->leaked_blobs);
		}
	}
	if (w->res[ALLOC_SA].ran && !w->res[ALLOC_SA].error) {
		printf("   (allocator-alone: %llu blocks added, %llu removed; blobs/1000 = blocks "
		       "added per 1000)\n",
		       (unsigned long long)w->res[ALLOC_SA].blob_creations,
		       (unsigned long long)w->res[ALLOC_SA].blocks_removed);
	}
	if (cycle_ratio(w) > 0) {
		const struct bench_result *v = &w->res[ALLOC_VGALLOC];

		printf("   cycle/alg: libvgalloc alloc+map+free %.1f ns / allocator-alone "
		       "alloc+free "
		       "%.1f ns = %.2f; libvgalloc per-op p99/mean: alloc %.2f, free %.2f\n",
		       v->replay_ns_per_alloc, w->res[ALLOC_SA].replay_ns_per_alloc, cycle_ratio(w),
		       v->alloc.mean_ns > 0 ? v->alloc.p99_ns / v->alloc.mean_ns : 0,
		       v->free.mean_ns > 0 ? v->free.p99_ns / v->free.mean_ns : 0);
		printf("   tail: range-path sizes (> 32 KiB) are %.0f %% of allocs, %.0f %% of the "
		       "slowest "
		       "1 %% of allocs, %.0f %% of the slowest 1 %% of frees; blocks made: %llu\n",
		       100 * v->alloc.range_share, 100 * v->alloc.tail_range_share,
		       100 * v->free.tail_range_share, (unsigned long long)v->blob_creations);
	}
}

static void csv_header(void)
{
	printf("workload,allocator,allocations,peak_live_bytes,base_alignment,mapped_fraction,"
	       "alloc_mean_ns,alloc_p99_ns,alloc_max_ns,free_mean_ns,free_p99_ns,free_max_ns,"
	       "map_mean_ns,replay_ns_per_alloc,blob_creations,blobs_per_1000,floor_blobs_per_1000,"
	       "peak_committed_bytes,waste,floor_waste,metadata_bytes_per_live,"
	       "window_bytes_at_peak,modeled_qemu_tcg_ms_per_1000,modeled_memfd_ms_per_1000,"
	       "ops_per_s,ratio_vs_1_thread,error\n");
}

static void print_workload_csv(const struct workload *w)
{
	const struct bench_trace *t = &w->trace;

	for (uint32_t a = 0; a < ALLOC_COUNT; a++) {
		const struct bench_result *r = &w->res[a];
		const struct bench_result *src = r->same_as_one_blob ? &w->res[ALLOC_ONE_BLOB] : r;

		if (!r->ran) {
			continue;
		}
		printf("%s,%s,%u,%llu,%llu,%.4f,", w->def->name, bench_allocator_names[a],
		       t->n_allocs, (unsigned long long)t->peak_live,
		       (unsigned long long)t->base_align,
		       (double)t->mapped_count / (double)t->n_allocs);
		if (src->error) {
			printf(",,,,,,,,,,%.6f,,,%.6f,,,,,,,%s %s\n", w->floor_blobs_per_1000,
			       w->floor_waste, src->error_what, strerror(-src->error));
			continue;
		}
		printf("%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,", src->alloc.mean_ns, src->alloc.p99_ns,
		       src->alloc.max_ns, src->free.mean_ns, src->free.p99_ns, src->free.max_ns);
		if (a == ALLOC_SA || !src->map.count) {
			printf(",");
		} else {
			printf("%.2f,", src->map.mean_ns);
		}
		printf("%.2f,", src->replay_ns_per_alloc);
		printf("%llu,%.6f,%.6f,%llu,%.6f,%.6f,", (unsigned long long)src->blob_creations,
		       src->blobs_per_1000, w->floor_blobs_per_1000,
		       (unsigned long long)src->peak_committed, src->waste, w->floor_waste);
		if (src->metadata_per_live >= 0) {
			printf("%.2f,", src->metadata_per_live);
		} else {
			printf(",");
		}
		if (a == ALLOC_SA) {
			printf(",,,");
		} else {
			printf("%llu,%.6f,%.6f,", (unsigned long long)src->window_at_peak,
			       src->modeled_qemu_ms_per_1000, src->modeled_memfd_ms_per_1000);
		}
		printf(",,\n");
	}
}

static void json_time(const char *name, const struct bench_time *t)
{
	printf("\"%s\":{\"mean_ns\":%.3f,\"p99_ns\":%.3f,\"max_ns\":%.3f,\"worst_ns\":%.3f,"
	       "\"count\":%llu}",
	       name, t->mean_ns, t->p99_ns, t->max_ns, t->worst_ns, (unsigned long long)t->count);
}

static void json_num_or_null(const char *name, double v, bool comma)
{
	if (v < 0 || isnan(v)) {
		printf("\"%s\":null%s", name, comma ? "," : "");
	} else {
		printf("\"%s\":%.6f%s", name, v, comma ? "," : "");
	}
}

static void print_workload_json(const struct workload *w, bool first)
{
	const struct bench_trace *t = &w->trace;
	bool first_r = true;

	printf("%s\n    {\"name\":\"%s\",\"description\":\"%s\",\"allocations\":%u,"
	       "\"ops\":%zu,\"peak_live_bytes\":%llu,\"peak_op\":%zu,\"peak_live_count\":%llu,"
	       "\"base_alignment\":%llu,\"mapped_fraction\":%.6f,"
	       "\"floor_blobs_per_1000\":%.6f,\"floor_waste\":%.6f,\"results\":[",
	       first ? "" : ",", w->def->name, t->desc, t->n_allocs, t->n_ops,
	       (unsigned long long)t->peak_live, t->peak_index,
	       (unsigned long long)t->peak_live_count, (unsigned long long)t->base_align,
	       (double)t->mapped_count / (double)t->n_allocs, w->floor_blobs_per_1000,
	       w->floor_waste);
	for (uint32_t a = 0; a < ALLOC_COUNT; a++) {
		const struct bench_result *r = &w->res[a];

		if (!r->ran) {
			continue;
		}
		printf("%s\n      {\"allocator\":\"%s\",", first_r ? "" : ",",
		       bench_allocator_names[a]);
		first_r = false;
		if (r->same_as_one_blob) {
			printf("\"same_as\":\"%s\"}", bench_allocator_names[ALLOC_ONE_BLOB]);
			continue;
		}
		if (r->error) {
			printf("\"error\":\"%s: %s\"}", r->error_what, strerror(-r->error));
			continue;
		}
		json_time("alloc", &r->alloc);
		printf(",");
		json_time("free", &r->free);
		printf(",");
		if (a != ALLOC_SA && r->map.count) {
			json_time("map", &r->map);
			printf(",");
		}
		printf("\"replay_ns_per_alloc\":%.3f,", r->replay_ns_per_alloc);
		printf("\"blob_creations\":%llu,\"blobs_per_1000\":%.6f,\"peak_committed_bytes\":%"
		       "llu,"
		       "\"waste\":%.6f,",
		       (unsigned long long)r->blob_creations, r->blobs_per_1000,
		       (unsigned long long)r->peak_committed, r->waste);
		json_num_or_null("metadata_bytes_per_live", r->metadata_per_live, true);
		if (a == ALLOC_SA) {
			printf("\"blocks_removed\":%llu,", (unsigned long long)r->blocks_removed);
		} else {
			printf("\"window_bytes_at_peak\":%llu,",
			       (unsigned long long)r->window_at_peak);
			printf("\"order_violations\":%llu,\"left_after_destroy\":%llu,",
			       (unsigned long long)r->order_violations,
			       (unsigned long long)r->leaked_blobs);
		}
		json_num_or_null("modeled_qemu_tcg_ms_per_1000", r->modeled_qemu_ms_per_1000, true);
		json_num_or_null("modeled_memfd_ms_per_1000", r->modeled_memfd_ms_per_1000, false);
		printf("}");
	}
	printf("]}");
}

/* ---------------------------------------------------------------------------------------------
 * Targets (the issue's): judged on the full traces; --quick prints them for the record only.
 */

static struct workload *find_wl(struct workload *wls, size_t n, const char *name)
{
	for (size_t k = 0; k < n; k++) {
		if (wls[k].done && !strcmp(wls[k].def->name, name)) {
			return &wls[k];
		}
	}
	return NULL;
}

static size_t add_target(struct target *v, size_t n, const char *name, double value, double limit,
                         bool at_most, bool available)
{
	snprintf(v[n].name, sizeof(v[n].name), "%s", name);
	v[n].value = value;
	v[n].limit = limit;
	v[n].at_most = at_most;
	v[n].available = available;
	return n + 1;
}

static size_t collect_targets(struct workload *wls, size_t nwl, const struct bench_w8_result *w8,
                              bool w8_ran, struct target *v)
{
	static const struct {
		const char *wl;
		double blobs, waste;
	} pool_targets[] = { { "W3", 0.1, 1.35 }, { "W4", 1.0, 1.20 }, { "W5", 1.0, 1.08 } };
	static const char *const public_wls[] = { "W1", "W1R", "W2", "W3", "W4", "W5", "W6" };
	char name[96];
	size_t n = 0;

	for (size_t k = 0; k < 3; k++) {
		struct workload *w = find_wl(wls, nwl, pool_targets[k].wl);
		const struct bench_result *r = w ? &w->res[ALLOC_VGALLOC] : NULL;
		bool ok = r && r->ran && !r->error;

		if (!w) {
			continue;
		}
		snprintf(name, sizeof(name), "%s libvgalloc blob creations per 1000 allocations",
		         pool_targets[k].wl);
		n = add_target(v, n, name, ok ? r->blobs_per_1000 : 0, pool_targets[k].blobs, true,
		               ok);
		snprintf(name, sizeof(name), "%s libvgalloc waste (peak committed / peak live)",
		         pool_targets[k].wl);
		n = add_target(v, n, name, ok ? r->waste : 0, pool_targets[k].waste, true, ok);
	}
	for (size_t k = 0; k < 2; k++) {
		const char *wn = k == 0 ? "W3" : "W5";
		struct workload *w = find_wl(wls, nwl, wn);
		const struct bench_result *r = w ? &w->res[ALLOC_SA] : NULL;
		const struct bench_result *pub = w ? &w->res[ALLOC_VGALLOC] : NULL;
		bool ok = r && r->ran && !r->error;
		bool vok = pub && pub->ran && !pub->error;

		if (!w) {
			continue;
		}
		snprintf(name, sizeof(name), "%s allocator-alone alloc mean ns", wn);
		n = add_target(v, n, name, ok ? r->alloc.mean_ns : 0, 30, true, ok);
		snprintf(name, sizeof(name), "%s vgalloc_mem_alloc per-op p99 / mean", wn);
		n = add_target(
		        v, n, name,
		        vok && pub->alloc.mean_ns > 0 ? pub->alloc.p99_ns / pub->alloc.mean_ns : 0,
		        3, true, vok && pub->alloc.mean_ns > 0);
		snprintf(name, sizeof(name), "%s vgalloc_mem_free per-op p99 / mean", wn);
		n = add_target(v, n, name,
		               vok && pub->free.mean_ns > 0 ? pub->free.p99_ns / pub->free.mean_ns
		                                            : 0,
		               3, true, vok && pub->free.mean_ns > 0);
	}
	for (size_t k = 0; k < nwl; k++) {
		struct workload *w = &wls[k];
		const char *wn = w->def->name;
		bool gated = w->def->growth || !strcmp(wn, "W3") || !strcmp(wn, "W4") ||
		             !strcmp(wn, "W5") || !strcmp(wn, "W6");

		if (!w->done || !gated) {
			continue;
		}
		snprintf(name, sizeof(name), "%s public alloc+map+free cycle / algorithm's", wn);
		n = add_target(v, n, name, cycle_ratio(w), 2, true, cycle_ratio(w) > 0);
	}
	for (size_t k = 0; k < sizeof(public_wls) / sizeof(public_wls[0]); k++) {
		struct workload *w = find_wl(wls, nwl, public_wls[k]);
		const struct bench_result *r = w ? &w->res[ALLOC_VGALLOC] : NULL;
		bool ok = r && r->ran && !r->error;

		if (!w) {
			continue;
		}
		snprintf(name, sizeof(name), "%s vgalloc_mem_alloc mean ns", public_wls[k]);
		n = add_target(v, n, name, ok ? r->alloc.mean_ns : 0, 150, true, ok);
	}
	if (w8_ran) {
		/* CPU time per op, lower is better; the wall-clock ratios are printed, not gated. */
		n = add_target(v, n, "W8 CPU ns/op, 2 threads / 1 thread (one pool)",
		               w8->v[W8_2T].cpu_ratio, BENCH_W8_CPU_RATIO_MAX, true,
		               !w8->error && w8->cpus >= 2);
		n = add_target(v, n, "W8 CPU ns/op, 2 threads cross-thread frees / 1 thread",
		               w8->v[W8_2T_CROSS].cpu_ratio, BENCH_W8_CPU_RATIO_CROSS_MAX, true,
		               !w8->error && w8->cpus >= 2);
	}
	return n;
}

static bool target_pass(const struct target *t)
{
	return t->available && (t->at_most ? t->value <= t->limit : t->value >= t->limit);
}

int main(int argc, char **argv)
{
	struct options o;
	struct bench_clock clk;
	struct bench_config cfg;
	struct vgalloc_device_info di;
	struct workload *wls = NULL;
	struct bench_w8_result w8;
	struct target targets[64];
	size_t nwl = 0, ntargets;
	bool w8_ran = false, any_error = false, any_miss = false, tty = isatty(2);
	int ret, probe_ret, traces_to_write = 0;
	struct bench_load_snap load_start;

	bench_load_take(&load_start);
	if (parse_args(argc, argv, &o) || check_workload_names(o.workloads)) {
		return 2;
	}
	clock_calibrate(&clk, o.quick);
	memset(&cfg, 0, sizeof(cfg));
	cfg.runs = o.runs;
	cfg.quick = o.quick;
	cfg.cycle_only = o.cycle_only;
	cfg.window_size = 4 * GiB;
	cfg.clk = &clk;
	memset(&di, 0, sizeof(di));
	probe_ret = bench_probe_device(&cfg, &di);
	print_header(&o, &clk, &cfg, &di, probe_ret);
	bench_load_print_sample(o.format == OUT_TABLE ? stdout : stderr, 200);
	if (probe_ret) {
		fprintf(stderr, "vgalloc-bench: cannot create a mock device: %s\n",
		        strerror(-probe_ret));
		return 1;
	}

	/* Traces. */
	for (size_t k = 0; k < WL_COUNT; k++) {
		if (wl_selected(&o, wl_defs[k].name)) {
			ret = generate(base_index(wl_defs[k].base), o.quick);
			if (ret) {
				fprintf(stderr, "vgalloc-bench: trace %s: %s\n", wl_defs[k].base,
				        strerror(-ret));
				return 1;
			}
		}
	}
	if (selected(o.workloads, "W8")) {
		if (generate(base_index("W8-s11"), o.quick) ||
		    generate(base_index("W8-s12"), o.quick)) {
			fprintf(stderr, "vgalloc-bench: trace W8: out of memory\n");
			return 1;
		}
	}
	if (o.format == OUT_TABLE) {
		printf("\ntraces (DESIGN §5%s):\n", o.quick ? ", scaled down by --quick" : "");
		for (size_t k = 0; k < BASE_COUNT; k++) {
			char pl[32];

			if (!base_ready[k]) {
				continue;
			}
			fmt_bytes(pl, sizeof(pl), (double)base_traces[k].peak_live);
			printf("  %-7s %8u allocations %9zu ops, peak live %10s (%llu B), max %llu "
			       "live\n",
			       base_names[k], base_traces[k].n_allocs, base_traces[k].n_ops, pl,
			       (unsigned long long)base_traces[k].peak_live,
			       (unsigned long long)base_traces[k].max_live_count);
		}
	}
	for (size_t k = 0; k < BASE_COUNT; k++) {
		traces_to_write += base_ready[k];
	}
	if (o.trace_out) {
		for (size_t k = 0; k < BASE_COUNT; k++) {
			char path[4096];
			const char *dot, *slash;

			if (!base_ready[k]) {
				continue;
			}
			if (traces_to_write == 1) {
				snprintf(path, sizeof(path), "%s", o.trace_out);
			} else {
				dot = strrchr(o.trace_out, '.');
				slash = strrchr(o.trace_out, '/');
				if (!dot || (slash && dot < slash)) {
					dot = o.trace_out + strlen(o.trace_out);
				}
				snprintf(path, sizeof(path), "%.*s.%s%s", (int)(dot - o.trace_out),
				         o.trace_out, base_names[k], dot);
			}
			ret = trace_write_csv(&base_traces[k], path);
			if (ret) {
				fprintf(stderr, "vgalloc-bench: writing %s: %s\n", path,
				        strerror(-ret));
				return 1;
			}
			fprintf(o.format == OUT_TABLE ? stdout : stderr, "  wrote %s trace to %s\n",
			        base_names[k], path);
		}
	}

	/* Workloads. */
	wls = calloc(WL_COUNT, sizeof(*wls));
	if (!wls) {
		return 1;
	}
	if (o.format == OUT_CSV) {
		csv_header();
	} else if (o.format == OUT_JSON) {
		char cpu[256];

		cpu_model(cpu, sizeof(cpu));
		printf("{\"bench\":\"vgalloc-bench\",\"version\":\"%d.%d.%d\",\"quick\":%s,"
		       "\"cpu\":\"%s\",\"cpus\":%ld,\"clock\":\"%s\",\"ticks_per_ns\":%.6f,"
		       "\"timer_overhead_ticks\":%llu,\"runs\":%u,\"debug_build\":%s,"
		       "\"window_bytes\":%llu,\"retain_bytes\":%llu,\"min_block_size\":%llu,"
		       "\"max_block_size\":%llu,\"max_suballoc_size\":%llu,\"pool_shards\":%u,"
		       "\"never_mapped_seed\":%llu,\n  \"workloads\":[",
		       VGALLOC_VERSION_MAJOR, VGALLOC_VERSION_MINOR, VGALLOC_VERSION_PATCH,
		       o.quick ? "true" : "false", cpu, sysconf(_SC_NPROCESSORS_ONLN),
		       clk.tsc ? "tsc" : "clock_gettime", clk.ticks_per_ns,
		       (unsigned long long)clk.overhead, cfg.runs,
#ifdef NDEBUG
		       "false",
#else
		       "true",
#endif
		       (unsigned long long)cfg.window_size, (unsigned long long)di.retain_bytes,
		       (unsigned long long)di.min_block_size, (unsigned long long)di.max_block_size,
		       (unsigned long long)di.max_suballoc_size, di.pool_shards, NOMAP_SEED);
	}
	for (size_t k = 0; k < WL_COUNT; k++) {
		const struct wl_def *d = &wl_defs[k];
		struct workload *w = &wls[nwl];
		uint64_t max_block;

		bool which[ALLOC_COUNT];
		struct bench_config wcfg = cfg;

		if (!wl_selected(&o, d->name)) {
			continue;
		}
		w->def = d;
		ret = trace_copy(&w->trace, &base_traces[base_index(d->base)], d->name);
		if (!ret) {
			ret = trace_set_mapped(&w->trace, d->nomap, NOMAP_SEED);
		}
		if (ret) {
			fprintf(stderr, "vgalloc-bench: %s: %s\n", d->name, strerror(-ret));
			return 1;
		}
		trace_analyse(&w->trace, d->base_align);
		max_block = di.max_block_size ? di.max_block_size : 64 * MiB;
		w->floor_blobs_per_1000 =
		        (double)((w->trace.peak_live + max_block - 1) / max_block) * 1000.0 /
		        (double)w->trace.n_allocs;
		w->floor_waste = w->trace.peak_live ? (double)w->trace.peak_aligned /
		                                              (double)w->trace.peak_live
		                                    : 0.0;
		for (uint32_t a = 0; a < ALLOC_COUNT; a++) {
			/* Growth: the suballocators only (a million blobs is not the question). */
			which[a] = selected(o.allocators, bench_allocator_names[a]) &&
			           (!d->growth || (a != ALLOC_ONE_BLOB && a != ALLOC_LAZY));
		}
		if (d->growth) {
			wcfg.window_size = GROWTH_WINDOW;
		}
		if (tty && !o.quick) {
			fprintf(stderr, "\r  running %-11s", d->name);
		}
		bench_run_set(&wcfg, &w->trace, which, w->res);
		for (uint32_t a = 0; a < ALLOC_COUNT; a++) {
			if (w->res[a].error || w->res[a].order_violations ||
			    w->res[a].leaked_blobs) {
				any_error = true;
			}
		}
		if (tty && !o.quick) {
			fprintf(stderr, "\r%60s\r", "");
		}
		w->done = true;
		if (o.format == OUT_TABLE) {
			print_workload_table(w);
		} else if (o.format == OUT_CSV) {
			print_workload_csv(w);
		} else {
			print_workload_json(w, nwl == 0);
		}
		fflush(stdout);
		/* The ops are no longer needed; keep the analysis for the targets. */
		free(w->trace.ops);
		w->trace.ops = NULL;
		nwl++;
	}

	/* W8. */
	if (selected(o.workloads, "W8")) {
		const struct bench_trace *t0 = &base_traces[base_index("W8-s11")];
		const struct bench_trace *t1 = &base_traces[base_index("W8-s12")];

		if (tty && !o.quick) {
			fprintf(stderr, "\r  running W8");
		}
		bench_w8(&cfg, t0, t1, &w8);
		if (tty && !o.quick) {
			fprintf(stderr, "\r%60s\r", "");
		}
		w8_ran = true;
		any_error |= w8.error != 0;
		if (o.format == OUT_TABLE) {
			static const char *const label[W8_VARIANTS] = {
				[W8_1T] = "1 thread (seed 11), alloc+free",
				[W8_2T] = "2 threads, alloc+free",
				[W8_2T_CROSS] = "2 threads, cross-thread frees",
				[W8_2T_SEPARATE] = "2 threads, separate devices",
				[W8_1T_MAP] = "1 thread, alloc+map+free",
				[W8_2T_MAP] = "2 threads, alloc+map+free",
			};

			printf("\n== W8: two threads on one device/pool, each %s (seeds 11 and "
			       "12)\n",
			       t0->desc);
			printf("   %u + %u allocations, %zu + %zu ops; %u CPUs%s; throughput = all "
			       "ops / wall time from the start barrier to the last thread's end;\n"
			       "   CPU ns/op = the threads' CPU time (CLOCK_THREAD_CPUTIME_ID, "
			       "read by each thread after the start barrier\n"
			       "   and at its end) / their ops; runq wait = each thread's time "
			       "runnable but waiting for a CPU\n"
			       "   (/proc/self/task/<tid>/schedstat); other CPUs = other "
			       "processes' CPUs busy during the variant's runs\n"
			       "   (/proc/stat, +- its tick resolution). Medians over %u runs; "
			       "ratios = medians of per-run ratios to the 1-thread variant\n"
			       "   (the variants of a run execute back to back)\n",
			       t0->n_allocs, t1->n_allocs, t0->n_ops, t1->n_ops, w8.cpus,
			       w8.pinned ? ", threads pinned to CPUs 0 and 1" : "", cfg.runs);
			if (w8.error) {
				printf("   ERROR: %s\n", strerror(-w8.error));
			} else {
				printf("   %-31s %8s %10s %9s %9s %18s %12s\n", "variant", "Mops/s",
				       "wall ratio", "CPU ns/op", "CPU ratio", "runq wait us t0/t1",
				       "other CPUs");
				for (int k = 0; k < W8_VARIANTS; k++) {
					const struct bench_w8_variant *v = &w8.v[k];
					char wr[16], cr[16], rq[40], q0[16], q1[16], ld[24];

					if (k == bench_w8_base(k)) {
						snprintf(wr, sizeof(wr), "-");
						snprintf(cr, sizeof(cr), "-");
					} else {
						snprintf(wr, sizeof(wr), "%.2f", v->wall_ratio);
						snprintf(cr, sizeof(cr), "%.2f", v->cpu_ratio);
					}
					for (int t = 0; t < 2; t++) {
						char *q = t ? q1 : q0;

						if (v->runq_wait_us[t] < 0) {
							snprintf(q, 16,
							         t && v->threads < 2 ? "-" : "n/a");
						} else {
							snprintf(q, 16, "%.0f", v->runq_wait_us[t]);
						}
					}
					snprintf(rq, sizeof(rq), "%s / %s", q0, q1);
					if (v->load.ok) {
						snprintf(ld, sizeof(ld), "%.2f+-%.2f",
						         v->load.other_cpus, v->load.resolution);
					} else {
						snprintf(ld, sizeof(ld), "n/a");
					}
					printf("   %-31s %8.3f %10s %9.1f %9s %18s %12s\n",
					       label[k], v->ops_per_s / 1e6, wr, v->cpu_ns_per_op,
					       cr, rq, ld);
				}
				printf("   CPU ns/op ratios (the targets): 2 threads / 1 "
				       "thread %.2f (<= %.2f), cross-thread frees / 1 thread "
				       "%.2f (<= %.2f)\n",
				       w8.v[W8_2T].cpu_ratio, BENCH_W8_CPU_RATIO_MAX,
				       w8.v[W8_2T_CROSS].cpu_ratio, BENCH_W8_CPU_RATIO_CROSS_MAX);
				printf("   machine baseline: 2 threads on separate devices / "
				       "1 thread %.2f CPU ns/op (wall %.2f); not gated\n",
				       w8.v[W8_2T_SEPARATE].cpu_ratio,
				       w8.v[W8_2T_SEPARATE].wall_ratio);
				printf("   cross-thread frees: every odd-id allocation of a "
				       "thread's trace is freed by the other thread (%llu in "
				       "the last run),\n"
				       "   handed over 64 at a time through a mutex-protected "
				       "inbox the receiver drains before each of its own ops.\n"
				       "   separate devices: each thread runs its trace on a "
				       "device of its own, nothing shared: the machine's "
				       "two-thread cost.\n",
				       (unsigned long long)w8.handed_over);
			}
		} else if (o.format == OUT_CSV) {
			static const char *const names[W8_VARIANTS] = {
				[W8_1T] = "libvgalloc-1thread",
				[W8_2T] = "libvgalloc-2threads",
				[W8_2T_CROSS] = "libvgalloc-2threads-cross-frees",
				[W8_2T_SEPARATE] = "libvgalloc-2threads-separate-devices",
				[W8_1T_MAP] = "libvgalloc-1thread-map",
				[W8_2T_MAP] = "libvgalloc-2threads-map",
			};

			for (int k = 0; k < W8_VARIANTS; k++) {
				printf("W8,%s,%u,,256,1.0000,,,,,,,,,,,,,,,,,,,%.0f,%.4f,%s\n",
				       names[k],
				       t0->n_allocs + (w8.v[k].threads == 2 ? t1->n_allocs : 0),
				       w8.v[k].ops_per_s,
				       k == bench_w8_base(k) ? 1.0 : w8.v[k].wall_ratio,
				       w8.error ? strerror(-w8.error) : "");
			}
			/* The CSV has no CPU-time columns: the CPU figures go beside the targets. */
			for (int k = 0; k < W8_VARIANTS; k++) {
				fprintf(stderr, "W8 %s: %.1f CPU ns/op, CPU ratio %.4f\n", names[k],
				        w8.v[k].cpu_ns_per_op,
				        k == bench_w8_base(k) ? 1.0 : w8.v[k].cpu_ratio);
			}
		}
	}

	/* Targets. */
	ntargets = collect_targets(wls, nwl, &w8, w8_ran, targets);
	for (size_t k = 0; k < ntargets; k++) {
		if (!target_pass(&targets[k])) {
			any_miss = true;
		}
	}
	if (o.format == OUT_JSON) {
		printf("\n  ],\n");
		if (w8_ran) {
			static const char *const key[W8_VARIANTS] = {
				[W8_1T] = "1_thread",
				[W8_2T] = "2_threads",
				[W8_2T_CROSS] = "2_threads_cross",
				[W8_2T_SEPARATE] = "2_threads_separate_devices",
				[W8_1T_MAP] = "1_thread_map",
				[W8_2T_MAP] = "2_threads_map",
			};

			/* The first keys as before; the variants in full after them. */
			printf("  "
			       "\"w8\":{\"error\":%s,\"cpus\":%u,\"pinned\":%s,\"ops_per_s_1_"
			       "thread\":%.0f,"
			       "\"ops_per_s_2_threads\":%.0f,\"ops_per_s_2_threads_cross\":%.0f,"
			       "\"ops_per_s_1_thread_map\":%.0f,\"ops_per_s_2_threads_map\":%.0f,"
			       "\"ratio\":%.4f,\"ratio_cross\":%.4f,\"ratio_map\":%.4f,"
			       "\"handed_over\":%llu,\"cpu_ratio\":%.4f,\"cpu_ratio_cross\":%.4f,"
			       "\"cpu_ratio_map\":%.4f,\"cpu_ratio_separate_devices\":%.4f,"
			       "\"ratio_separate_devices\":%.4f,\n    \"variants\":[",
			       w8.error ? "true" : "false", w8.cpus, w8.pinned ? "true" : "false",
			       w8.v[W8_1T].ops_per_s, w8.v[W8_2T].ops_per_s,
			       w8.v[W8_2T_CROSS].ops_per_s, w8.v[W8_1T_MAP].ops_per_s,
			       w8.v[W8_2T_MAP].ops_per_s, w8.v[W8_2T].wall_ratio,
			       w8.v[W8_2T_CROSS].wall_ratio, w8.v[W8_2T_MAP].wall_ratio,
			       (unsigned long long)w8.handed_over, w8.v[W8_2T].cpu_ratio,
			       w8.v[W8_2T_CROSS].cpu_ratio, w8.v[W8_2T_MAP].cpu_ratio,
			       w8.v[W8_2T_SEPARATE].cpu_ratio, w8.v[W8_2T_SEPARATE].wall_ratio);
			for (int k = 0; k < W8_VARIANTS; k++) {
				const struct bench_w8_variant *v = &w8.v[k];
				const bool base = k == bench_w8_base(k);

				printf("%s\n      {\"name\":\"%s\",\"threads\":%u,"
				       "\"ops_per_s\":%.0f,\"cpu_ns_per_op\":%.3f,"
				       "\"wall_ratio\":%.4f,\"cpu_ratio\":%.4f,"
				       "\"runqueue_wait_us\":[",
				       k ? "," : "", key[k], v->threads, v->ops_per_s,
				       v->cpu_ns_per_op, base ? 1.0 : v->wall_ratio,
				       base ? 1.0 : v->cpu_ratio);
				for (uint32_t t = 0; t < v->threads; t++) {
					if (v->runq_wait_us[t] < 0) {
						printf("%snull", t ? "," : "");
					} else {
						printf("%s%.1f", t ? "," : "", v->runq_wait_us[t]);
					}
				}
				printf("],\"other_load_cpus\":");
				if (v->load.ok) {
					printf("%.4f,\"other_load_resolution_cpus\":%.4f,"
					       "\"steal_share\":%.4f}",
					       v->load.other_cpus, v->load.resolution,
					       v->load.steal);
				} else {
					printf("null,\"other_load_resolution_cpus\":null,"
					       "\"steal_share\":null}");
				}
			}
			printf("]},\n");
		}
		printf("  \"targets\":[");
		for (size_t k = 0; k < ntargets; k++) {
			const struct target *t = &targets[k];

			printf("%s\n    {\"name\":\"%s\",\"value\":", k ? "," : "", t->name);
			if (t->available) {
				printf("%.6f", t->value);
			} else {
				printf("null");
			}
			printf(",\"limit\":%.6f,\"compare\":\"%s\",\"pass\":%s}", t->limit,
			       t->at_most ? "<=" : ">=", target_pass(t) ? "true" : "false");
		}
		printf("\n  ],\n  \"errors\":%s}\n", any_error ? "true" : "false");
	} else {
		FILE *f = o.format == OUT_CSV ? stderr : stdout;

		fprintf(f, "\ntargets%s:\n",
		        o.quick ? " (--quick: tiny traces, for the record only)" : "");
		for (size_t k = 0; k < ntargets; k++) {
			const struct target *t = &targets[k];
			char val[32];

			if (t->available) {
				snprintf(val, sizeof(val), "%.3f", t->value);
			} else {
				snprintf(val, sizeof(val), "n/a");
			}
			fprintf(f, "  %-4s %-56s %10s %s %g\n", target_pass(t) ? "PASS" : "MISS",
			        t->name, val, t->at_most ? "<=" : ">=", t->limit);
		}
		if (any_error) {
			fprintf(f, "\nERRORS occurred (see above)\n");
		}
	}
	bench_load_print_run(o.format == OUT_TABLE ? stdout : stderr, &load_start);
	for (size_t k = 0; k < nwl; k++) {
		trace_finish(&wls[k].trace);
	}
	free(wls);
	for (size_t k = 0; k < BASE_COUNT; k++) {
		if (base_ready[k]) {
			trace_finish(&base_traces[k]);
		}
	}
	if (any_error) {
		return 1;
	}
	return o.strict && any_miss && !o.quick ? 1 : 0;
}
