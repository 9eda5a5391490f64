/* SPDX-License-Identifier: MIT */
/*
 * Shared declarations of the suballocation benchmark: traces (DESIGN §5 generator), the clock,
 * the allocators under test and the result records the report prints. Split in a few files so
 * the generator can be read on its own against the specification.
 */
#ifndef VGALLOC_BENCH_H
#define VGALLOC_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_capset.h"
#include "vgalloc/vgalloc_diag.h"

#define KiB (1024ull)
#define MiB (1024ull * 1024ull)
#define GiB (1024ull * 1024ull * 1024ull)

/* ---------------------------------------------------------------------------------------------
 * Traces (trace.c)
 */

enum {
	OP_ALLOC = 0,
	OP_FREE = 1
};

/* One operation. Free ops repeat the allocation's size and align (the CSV carries them). */
struct bench_op {
	uint64_t size;
	uint32_t id; /* allocation id: 0, 1, 2, ... in allocation order, never reused */
	uint32_t align;
	uint8_t kind; /* OP_ALLOC or OP_FREE */
	uint8_t reserved[7];
};

struct bench_trace {
	char name[24];
	char desc[160];
	struct bench_op *ops;
	size_t n_ops, cap_ops;
	uint32_t n_allocs;
	/* per id */
	uint64_t *id_size;
	uint32_t *id_align;
	size_t id_cap;
	uint8_t *mapped; /* 1 = mapped after allocation (decided by a separate RNG) */
	/* analysis (trace_analyse) */
	uint64_t peak_live;       /* requested bytes */
	size_t peak_index;        /* op after which peak_live is first reached */
	uint64_t peak_live_count; /* allocations live at that point */
	uint64_t peak_aligned;    /* Σ align_up(size, base) over that live set */
	uint64_t base_align;
	uint64_t max_live_count;
	uint32_t mapped_count;
	double nomap_fraction;
};

/* Scale of the generated traces: DESIGN §5 exactly, or tiny for --quick (CI smoke test). */
struct bench_scale {
	bool quick;
};

/* The DESIGN §5 RNG. */
struct bench_rng {
	uint64_t s;
};
void bench_rng_seed(struct bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(struct bench_rng *r);
double bench_rng_unit(struct bench_rng *r);
uint64_t bench_rng_lu(struct bench_rng *r, double lo, double hi);

void trace_init(struct bench_trace *t, const char *name);
void trace_finish(struct bench_trace *t);
/* Generators; each returns 0 or -ENOMEM. */
int trace_w1(struct bench_trace *t, const struct bench_scale *sc, bool random_free);
int trace_w2(struct bench_trace *t, const struct bench_scale *sc);
int trace_churn(struct bench_trace *t, uint64_t lo, uint64_t hi, uint32_t align, uint32_t live,
                uint32_t ops, uint64_t seed);
int trace_w5(struct bench_trace *t, const struct bench_scale *sc);
int trace_w6(struct bench_trace *t, const struct bench_scale *sc);
/* Copy a trace (ops and per-id data) under a new name. */
int trace_copy(struct bench_trace *dst, const struct bench_trace *src, const char *name);
/* Decide which allocations are mapped: a fraction `nomap` never is (separate fixed RNG). */
int trace_set_mapped(struct bench_trace *t, double nomap, uint64_t seed);
/* Peak live bytes, its index and the alignment floor for base alignment `base`. */
void trace_analyse(struct bench_trace *t, uint64_t base);
/* CSV op,id,size,align. Return 0 or -errno. */
int trace_write_csv(const struct bench_trace *t, const char *path);

/* ---------------------------------------------------------------------------------------------
 * Clock (clock.c)
 */

struct bench_clock {
	double ticks_per_ns;
	uint64_t overhead; /* ticks of a back-to-back start/stop pair (median) */
	bool tsc;          /* rdtsc (else clock_gettime in ns) */
};

void clock_calibrate(struct bench_clock *c, bool quick);
void cpu_model(char *buf, size_t size);

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
/* Start: earlier instructions retire first, later ones do not start before the read. */
static inline uint64_t tick_start(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}
/* Stop: the fence waits for the timed instructions (as rdtscp would; valgrind cannot decode
 * rdtscp on every CPU, and the callgrind counts run this binary); the second keeps later ones
 * out. */
static inline uint64_t tick_stop(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}
#define BENCH_HAVE_TSC 1
#else
uint64_t bench_clock_ns(void);
static inline uint64_t tick_start(void)
{
	return bench_clock_ns();
}
static inline uint64_t tick_stop(void)
{
	return bench_clock_ns();
}
#define BENCH_HAVE_TSC 0
#endif

/* ---------------------------------------------------------------------------------------------
 * Allocators under test and results (run.c)
 */

enum bench_allocator {
	ALLOC_VGALLOC = 0,  /* the public API, suballocating */
	ALLOC_ONE_BLOB = 1, /* VGALLOC_DEVICE_NO_SUBALLOC, every allocation mapped */
	ALLOC_LAZY = 2,     /* NO_SUBALLOC, only the mapped fraction mapped (stock Venus) */
	ALLOC_SA = 3,       /* the pure vgalloc__sa_* algorithm, no device */
	ALLOC_TLSF = 4,     /* ref.c's two-level segregated fit: a reference, not gated */
	ALLOC_SLAB = 5,     /* ref.c's pb_slab-style allocator: a reference, not gated */
	ALLOC_COUNT = 6,
};

extern const char *const bench_allocator_names[ALLOC_COUNT];

struct bench_config {
	uint32_t runs;
	bool quick;
	uint64_t window_size;
	uint64_t retain_bytes;   /* passed in the create-info; 0 = library default */
	uint64_t min_block_size; /* passed; 0 = library default */
	uint64_t max_block_size;
	bool cycle_only; /* whole-trace replays only: no stats pass, no per-op runs (profiling) */
	const struct bench_clock *clk;
};

/* One timed quantity over runs. */
struct bench_time {
	double mean_ns;  /* median over runs of the per-op mean */
	double p99_ns;   /* median over runs of the per-op p99 */
	double max_ns;   /* median over runs of the per-op maximum */
	double worst_ns; /* maximum over all runs */
	uint64_t count;
	/* Share of the ops of range-path sizes (> 32 KiB), and of the slowest 1 % of them. */
	double range_share, tail_range_share;
};

struct bench_result {
	bool ran;
	bool same_as_one_blob; /* lazy with 100 % mapped: identical to one-blob, not run */
	int error;             /* 0 or the -errno that stopped it */
	char error_what[64];
	struct bench_time alloc, free, map;
	double replay_ns_per_alloc; /* whole trace, no inner timers: alloc + map + free */
	uint64_t blob_creations;    /* ledger BLOB_CREATE calls (sa: blocks added) */
	uint64_t blocks_removed;    /* sa only */
	double blobs_per_1000;
	uint64_t peak_committed;
	double waste;
	uint64_t window_at_peak;
	uint64_t metadata_at_peak;
	uint64_t live_at_peak;
	double metadata_per_live;         /* < 0: not available */
	double modeled_qemu_ms_per_1000;  /* < 0: not available */
	double modeled_memfd_ms_per_1000; /* < 0: not available */
	uint64_t retain_bytes;            /* device info */
	uint64_t max_block_size;
	uint64_t min_block_size;
	uint64_t max_suballoc_size;
	uint64_t order_violations;
	uint64_t leaked_blobs;
};

/* Run the selected allocators over one trace: a stats pass each, then `runs` repetitions in each
 * of which every allocator replays the trace per-op timed and then whole (interleaved). */
void bench_run_set(const struct bench_config *cfg, const struct bench_trace *t,
                   const bool which[ALLOC_COUNT], struct bench_result res[ALLOC_COUNT]);

/* Create a device as the runs do (base alignment 256) and read its info: the block sizes and the
 * retained-bytes cap in force. Return 0 or -errno. */
int bench_probe_device(const struct bench_config *cfg, struct vgalloc_device_info *info);

/* ---------------------------------------------------------------------------------------------
 * Background load and per-thread CPU clocks (load.c)
 */

#include <stdio.h>

/* A snapshot of the machine's CPU accounting (/proc/stat's aggregate "cpu" line), this
 * process's own CPU time and the wall time. Also used as an accumulator of differences. */
struct bench_load_snap {
	bool ok;             /* /proc/stat was read (accumulator: at least one pair added) */
	uint32_t ncpu;       /* cpuN lines in /proc/stat */
	uint32_t pairs;      /* accumulator: pairs of snapshots added */
	uint64_t busy_ticks; /* user+nice+system+irq+softirq+steal, all CPUs, USER_HZ ticks */
	uint64_t idle_ticks; /* idle+iowait */
	uint64_t steal_ticks;
	uint64_t own_cpu_ns; /* getrusage(RUSAGE_SELF) user + system */
	uint64_t wall_ns;    /* CLOCK_MONOTONIC */
};

/* Load of the other processes between two snapshots. */
struct bench_load {
	bool ok;
	uint32_t ncpu;
	double other_cpus; /* (all CPUs' busy time - this process's CPU time) / wall time, in
	                      0..ncpu */
	double resolution; /* CPUs: /proc/stat counts whole ticks on each CPU at each snapshot,
	                      so other_cpus is good to about pairs x ncpu ticks / wall time */
	double steal;      /* steal / (busy + idle), 0..1 */
	double wall_s;
};

void bench_load_take(struct bench_load_snap *s);
/* acc += b - a (a pair where either snapshot failed is skipped). Start from a zeroed acc. */
void bench_load_add(struct bench_load_snap *acc, const struct bench_load_snap *a,
                    const struct bench_load_snap *b);
/* From an accumulator of differences. */
void bench_load_compute(const struct bench_load_snap *delta, struct bench_load *out);
void bench_load_between(const struct bench_load_snap *a, const struct bench_load_snap *b,
                        struct bench_load *out);
/* "0.12 CPUs busy with other work (of 8), steal 0.0 %" or "n/a (...)"; the resolution is
 * appended when it is coarser than 0.05 CPUs. */
void bench_load_format(char *buf, size_t size, const struct bench_load *l);
/* Print "background load: ..." over a sample of `ms` milliseconds taken now. */
void bench_load_print_sample(FILE *f, unsigned ms);
/* Print "background load during the run: ..." from `start` to now. */
void bench_load_print_run(FILE *f, const struct bench_load_snap *start);

/* The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID) and runqueue wait (second field of
 * /proc/self/task/<gettid()>/schedstat). Open and close in the thread that samples. */
struct bench_thread_clock {
	int fd; /* schedstat, -1 when unavailable */
};
struct bench_thread_sample {
	uint64_t cpu_ns;
	uint64_t runq_ns;
	bool runq_ok;
};
void bench_thread_clock_open(struct bench_thread_clock *tc);
void bench_thread_clock_close(struct bench_thread_clock *tc);
/* Start reads the runqueue wait before the CPU time, stop after, so that the reads of schedstat
 * stay out of the CPU-time window. */
void bench_thread_start(const struct bench_thread_clock *tc, struct bench_thread_sample *s);
void bench_thread_stop(const struct bench_thread_clock *tc, struct bench_thread_sample *s);

/* W8: throughput and CPU time of one device/pool under one and two threads, beside two threads
 * on two separate devices (the machine's own two-thread cost). */
enum bench_w8_variant_id {
	W8_1T = 0,          /* 1 thread (seed 11), alloc+free */
	W8_2T = 1,          /* 2 threads, one device, alloc+free */
	W8_2T_CROSS = 2,    /* 2 threads, one device, odd-id frees done by the other thread */
	W8_2T_SEPARATE = 3, /* 2 threads, a device each, nothing shared: machine baseline */
	W8_1T_MAP = 4,      /* 1 thread, alloc+map+free */
	W8_2T_MAP = 5,      /* 2 threads, one device, alloc+map+free */
	W8_VARIANTS = 6,
};

/* Targets on the CPU-time ratios (lower is better). */
#define BENCH_W8_CPU_RATIO_MAX       1.25
#define BENCH_W8_CPU_RATIO_CROSS_MAX 2.0

struct bench_w8_variant {
	uint32_t threads;
	double ops_per_s;     /* all ops / wall time from the start barrier to the last end;
	                           median over runs */
	double cpu_ns_per_op; /* sum of the threads' CPU ns / sum of their ops; median */
	double wall_ratio;    /* median of per-run ops/s ratios to the 1-thread variant (base: 1) */
	double cpu_ratio;     /* median of per-run CPU ns/op ratios to the 1-thread variant */
	double runq_wait_us[2]; /* per thread, median over runs; < 0: not available */
	struct bench_load load; /* other processes, over this variant's runs together */
};

struct bench_w8_result {
	int error;
	struct bench_w8_variant v[W8_VARIANTS];
	uint64_t handed_over; /* frees done by the other thread (cross variant, last run) */
	uint32_t cpus;
	bool pinned;
};

/* The 1-thread variant a variant's ratios are taken against. */
static inline int bench_w8_base(int variant)
{
	return variant >= W8_1T_MAP ? W8_1T_MAP : W8_1T;
}

void bench_w8(const struct bench_config *cfg, const struct bench_trace *t0,
              const struct bench_trace *t1, struct bench_w8_result *res);

/* Small helpers (run.c). */
double bench_median(double *v, size_t n);
uint64_t bench_align_up(uint64_t v, uint64_t a);

#endif
