/* SPDX-License-Identifier: MIT */
/*
 * The allocators under test and how a trace is replayed through them: the public API on a
 * counting-only mock device (suballocating, and the two no-suballocation baselines), the pure
 * suballocation algorithm alone, and W8's one-pool, two-thread throughput runs.
 *
 * Method (printed by the report too):
 *  - A stats pass (untimed) replays the trace once on a mock with the QEMU-TCG cost preset and
 *    reads the device counters after every operation (they are a handful of atomic loads), so
 *    peak committed bytes are exact; pool statistics (a walk under the pool locks) are read once,
 *    right after the operation at which the trace's live requested bytes first peak.
 *  - Then `runs` repetitions; in each, every allocator of the workload replays the trace twice,
 *    one allocator after the other (interleaved, so the machine's drift hits them alike):
 *    once with every call timed alone with the TSC (one timer overhead subtracted): the mean,
 *    p99 and maximum of alloc, map and free all come from these per-op samples; and once
 *    under one timer with none inside: the cycle, ns per allocation of alloc + map (when the
 *    allocation is mapped) + free, what a user pays with nothing measuring it.
 *    Each figure is the median over the repetitions (the worst single op is kept too).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_capset.h"
#include "vgalloc/vgalloc_diag.h"
#include "vgalloc/vgalloc_mock.h"

#include "bench.h"
#include "ref.h"
#include "suballoc.h"

/* The replay loops are the functions an instruction count toggles on (scripts/bench.sh): never
 * inlined into their callers, so that only the replay is counted. */
#define REPLAY_FN __attribute__((noinline))

const char *const bench_allocator_names[ALLOC_COUNT] = {
	[ALLOC_VGALLOC] = "libvgalloc",    [ALLOC_ONE_BLOB] = "one-blob-per-alloc",
	[ALLOC_LAZY] = "stock-venus-lazy", [ALLOC_SA] = "allocator-alone",
	[ALLOC_TLSF] = "tlsf-reference",   [ALLOC_SLAB] = "slab-reference",
};

uint64_t bench_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n)
{
	if (n == 0) {
		return 0.0;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------------------------------------
 * Public API on a mock device.
 */

struct api_ctx {
	struct vgalloc_mock *mock;
	struct vgalloc_device *dev;
	struct vgalloc_host_hooks hooks;
	struct vgalloc_mem **mems; /* by allocation id */
	struct vgalloc_device_info info;
	struct vgalloc_mock_ledger ledger_end; /* after the device is gone */
};

static void set_err(struct bench_result *res, int err, const char *what)
{
	if (!res->error) {
		res->error = err;
		snprintf(res->error_what, sizeof(res->error_what), "%s", what);
	}
}

static int api_open(const struct bench_config *cfg, uint64_t base, bool no_suballoc,
                    uint32_t cost_preset, uint32_t n_ids, struct api_ctx *c)
{
	struct vgalloc_mock_create_info mi = {
		.struct_size = sizeof(mi),
		.profile = VGALLOC_MOCK_PROFILE_INJECTING,
		.flags = VGALLOC_MOCK_COUNTING_ONLY,
		.window_size = cfg->window_size,
		.cost_preset = cost_preset,
	};
	struct vgalloc_memory_type type = {
		.struct_size = sizeof(type),
		.host_index = 0,
		.property_flags = VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL |
		                  VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
		                  VGALLOC_MEMORY_PROPERTY_HOST_COHERENT,
		.min_map_alignment = 64,
		.non_coherent_atom_size = 64,
		.buffer_image_granularity = 1,
		.base_alignment = base,
	};
	struct vgalloc_device_create_info ci = {
		.struct_size = sizeof(ci),
		.backend = VGALLOC_BACKEND_MOCK,
		.mode = VGALLOC_DEVICE_MODE_OWN,
		.flags = no_suballoc ? VGALLOC_DEVICE_NO_SUBALLOC : 0,
		.capset_id = VGALLOC_CAPSET_VENUS,
		.memory_types = &type,
		.memory_type_count = 1,
		.hooks = &c->hooks,
		.retain_bytes = cfg->retain_bytes,
		.min_block_size = cfg->min_block_size,
		.max_block_size = cfg->max_block_size,
	};
	int ret;

	memset(c, 0, sizeof(*c));
	c->mems = calloc(n_ids ? n_ids : 1, sizeof(*c->mems));
	if (!c->mems) {
		return -ENOMEM;
	}
	ret = vgalloc_mock_create(&mi, &c->mock);
	if (!ret) {
		ret = vgalloc_mock_get_hooks(c->mock, 0, &c->hooks);
	}
	if (!ret) {
		ci.backend_object = c->mock;
		ret = vgalloc_device_create(&ci, &c->dev);
	}
	if (!ret) {
		c->info.struct_size = sizeof(c->info);
		ret = vgalloc_device_get_info(c->dev, &c->info);
	}
	if (ret) {
		vgalloc_device_destroy(c->dev);
		vgalloc_mock_destroy(c->mock);
		free(c->mems);
		memset(c, 0, sizeof(*c));
		return ret;
	}
	vgalloc_mock_reset_counters(c->mock);
	return 0;
}

int bench_probe_device(const struct bench_config *cfg, struct vgalloc_device_info *info)
{
	struct api_ctx c;
	int ret = api_open(cfg, 256, false, VGALLOC_MOCK_COST_NONE, 1, &c);

	if (!ret) {
		*info = c.info;
		vgalloc_device_destroy(c.dev);
		vgalloc_mock_destroy(c.mock);
		free(c.mems);
	}
	return ret;
}

/* Destroy the device (it frees whatever a failed run left), then read the final ledger. */
static void api_close(struct api_ctx *c)
{
	vgalloc_device_destroy(c->dev);
	c->ledger_end.struct_size = sizeof(c->ledger_end);
	vgalloc_mock_get_ledger(c->mock, &c->ledger_end);
	vgalloc_mock_destroy(c->mock);
	free(c->mems);
	c->dev = NULL;
	c->mock = NULL;
	c->mems = NULL;
}

/* Host memory held: the pools' blocks plus allocations that have their own blob or host
 * allocation. (The library counts a suballocation in mem_bytes_committed only through its
 * block.) */
static uint64_t api_committed(const struct vgalloc_stats *s)
{
	return s->block_bytes + s->mem_bytes_committed;
}

static void api_pool_totals(struct vgalloc_device *dev, uint64_t *meta, uint64_t *live)
{
	struct vgalloc_pool_stats ps;

	*meta = 0;
	*live = 0;
	for (uint32_t i = 0;; i++) {
		memset(&ps, 0, sizeof(ps));
		ps.struct_size = sizeof(ps);
		if (vgalloc_device_get_pool_stats(dev, i, &ps) != 0) {
			break;
		}
		*meta += ps.metadata_bytes;
		*live += ps.live;
	}
}

static inline bool is_mapped(const struct bench_trace *t, bool map_all, uint32_t id)
{
	return map_all || (t->mapped && t->mapped[id]);
}

static void api_stats_pass(const struct bench_config *cfg, const struct bench_trace *t,
                           bool no_suballoc, bool map_all, struct bench_result *res)
{
	struct vgalloc_request req = { .struct_size = sizeof(req), .memory_type = 0 };
	struct vgalloc_stats st;
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };
	struct api_ctx c;
	uint64_t peak = 0;
	void *ptr;
	int ret;

	ret = api_open(cfg, t->base_align, no_suballoc, VGALLOC_MOCK_COST_QEMU_TCG, t->n_allocs,
	               &c);
	if (ret) {
		set_err(res, ret, "device create");
		return;
	}
	res->retain_bytes = c.info.retain_bytes;
	res->max_block_size = c.info.max_block_size;
	res->min_block_size = c.info.min_block_size;
	res->max_suballoc_size = c.info.max_suballoc_size;
	for (size_t i = 0; i < t->n_ops && !ret; i++) {
		const struct bench_op *op = &t->ops[i];

		if (op->kind == OP_ALLOC) {
			req.size = op->size;
			req.alignment = op->align;
			ret = vgalloc_mem_alloc(c.dev, &req, &c.mems[op->id]);
			if (ret) {
				set_err(res, ret, "vgalloc_mem_alloc");
				break;
			}
			if (is_mapped(t, map_all, op->id)) {
				ret = vgalloc_mem_map(c.dev, c.mems[op->id], &ptr);
				if (ret) {
					set_err(res, ret, "vgalloc_mem_map");
					break;
				}
			}
		} else {
			ret = vgalloc_mem_free(c.dev, c.mems[op->id]);
			c.mems[op->id] = NULL;
			if (ret) {
				set_err(res, ret, "vgalloc_mem_free");
				break;
			}
		}
		memset(&st, 0, sizeof(st));
		st.struct_size = sizeof(st);
		vgalloc_device_get_stats(c.dev, &st);
		if (api_committed(&st) > peak) {
			peak = api_committed(&st);
		}
		if (i == t->peak_index) {
			res->window_at_peak = st.window_bytes;
			if (!no_suballoc) {
				api_pool_totals(c.dev, &res->metadata_at_peak, &res->live_at_peak);
			}
		}
	}
	vgalloc_mock_get_ledger(c.mock, &l);
	res->blob_creations = l.calls[VGALLOC_MOCK_CALL_BLOB_CREATE];
	res->peak_committed = peak;
	api_close(&c);
	res->order_violations = c.ledger_end.order_violations;
	res->leaked_blobs = c.ledger_end.live_blobs + c.ledger_end.host_allocs;
	/* Read after the device is gone, so retained blocks' teardown is paid for too. */
	res->modeled_qemu_ms_per_1000 =
	        (double)c.ledger_end.modeled_ns / 1e6 * 1000.0 / (double)t->n_allocs;
}

struct timing_acc {
	uint64_t *samples[3]; /* ticks per op, overhead subtracted */
	size_t n_samples[3];
};

enum {
	T_ALLOC = 0,
	T_FREE = 1,
	T_MAP = 2
};

/* Sizes above this take the suballocator's range path (its slabs serve the smaller ones). */
#define RANGE_PATH_SIZE (32 * KiB)

/* A sample: the op's ticks, shifted left once; bit 0 says it was a range-path size (tails). */
static inline void record_op(struct timing_acc *a, int kind, uint64_t t0, uint64_t t1,
                             uint64_t overhead, uint64_t size)
{
	uint64_t d = t1 - t0;

	d = d > overhead ? d - overhead : 0;
	a->samples[kind][a->n_samples[kind]++] = d << 1 | (size > RANGE_PATH_SIZE);
}

/* One per-op timed replay through the public API. Returns 0 or -errno (and what failed). */
static REPLAY_FN int api_timed(const struct bench_trace *t, struct api_ctx *c, bool map_all,
                               uint64_t overhead, struct timing_acc *a, const char **what)
{
	struct vgalloc_request req = { .struct_size = sizeof(req), .memory_type = 0 };
	const struct bench_op *ops = t->ops;
	struct vgalloc_device *dev = c->dev;
	struct vgalloc_mem **mems = c->mems;
	uint64_t t0, t1;
	void *ptr;
	int ret;

	for (size_t i = 0; i < t->n_ops; i++) {
		const struct bench_op *op = &ops[i];

		if (op->kind == OP_ALLOC) {
			req.size = op->size;
			req.alignment = op->align;
			t0 = tick_start();
			ret = vgalloc_mem_alloc(dev, &req, &mems[op->id]);
			t1 = tick_stop();
			if (ret) {
				*what = "vgalloc_mem_alloc";
				return ret;
			}
			record_op(a, T_ALLOC, t0, t1, overhead, op->size);
			if (!is_mapped(t, map_all, op->id)) {
				continue;
			}
			t0 = tick_start();
			ret = vgalloc_mem_map(dev, mems[op->id], &ptr);
			t1 = tick_stop();
			if (ret) {
				*what = "vgalloc_mem_map";
				return ret;
			}
			record_op(a, T_MAP, t0, t1, overhead, op->size);
		} else {
			t0 = tick_start();
			ret = vgalloc_mem_free(dev, mems[op->id]);
			t1 = tick_stop();
			if (ret) {
				*what = "vgalloc_mem_free";
				return ret;
			}
			mems[op->id] = NULL;
			record_op(a, T_FREE, t0, t1, overhead, op->size);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * The allocation algorithm alone: offsets only, no device. A block is added (sized by
 * vgalloc__sa_block_size, as the pools do) when the allocator answers -ENOSPC; of the blocks that
 * become empty, one is kept for reuse and any other is removed at once.
 */

struct sa_ctx {
	struct vgalloc__sa sa;
	struct vgalloc__sa_alloc *allocs; /* by id */
	struct vgalloc__sa_block *spare;  /* the one empty block kept */
	uint64_t committed, peak_committed;
	uint64_t added, removed;
	uint64_t min_block, max_block, granularity;
	bool inited;
};

static void *sa_meta_alloc(void *user, size_t size, size_t alignment, uint32_t scope)
{
	void *p = NULL;

	(void)scope;
	(void)user;
	if (alignment < sizeof(void *)) {
		alignment = sizeof(void *);
	}
	return posix_memalign(&p, alignment, size) ? NULL : p;
}

static void sa_meta_free(void *user, void *ptr)
{
	(void)user;
	free(ptr);
}

static const struct vgalloc_allocator sa_meta_allocator = {
	.user = NULL,
	.alloc = sa_meta_alloc,
	.free = sa_meta_free,
};

static int sa_open(const struct bench_config *cfg, const struct bench_trace *t, struct sa_ctx *c)
{
	struct vgalloc__sa_config sc = {
		.granularity = t->base_align,
		.allocator = &sa_meta_allocator,
	};
	int ret;

	memset(c, 0, sizeof(*c));
	c->granularity = t->base_align;
	c->min_block = cfg->min_block_size ? cfg->min_block_size : 4 * MiB;
	c->max_block = cfg->max_block_size ? cfg->max_block_size : 64 * MiB;
	c->allocs = calloc(t->n_allocs ? t->n_allocs : 1, sizeof(*c->allocs));
	if (!c->allocs) {
		return -ENOMEM;
	}
	ret = vgalloc__sa_init(&c->sa, &sc);
	if (ret) {
		free(c->allocs);
		return ret;
	}
	c->inited = true;
	return 0;
}

static void sa_close(struct sa_ctx *c)
{
	if (c->inited) {
		/* vgalloc__sa_finish frees records, not blocks: remove the (empty) blocks first. A
		 * block still in use (a run stopped by an error) is left to leak. */
		struct vgalloc__sa_block *b = c->sa.blocks, *next;

		for (; b; b = next) {
			next = b->next;
			if (b->used == 0) {
				vgalloc__sa_remove_block(&c->sa, b);
			}
		}
		vgalloc__sa_finish(&c->sa);
	}
	free(c->allocs);
	memset(c, 0, sizeof(*c));
}

static inline int sa_do_alloc(struct sa_ctx *c, uint64_t size, uint64_t align,
                              struct vgalloc__sa_alloc *out)
{
	struct vgalloc__sa_block *b;
	uint64_t bs;
	int ret = vgalloc__sa_alloc(&c->sa, size, align, out);

	if (ret != -ENOSPC) {
		return ret;
	}
	bs = vgalloc__sa_block_size(size, align, c->committed, c->min_block, c->max_block,
	                            c->granularity);
	ret = vgalloc__sa_add_block(&c->sa, bs, NULL, &b);
	if (ret) {
		return ret;
	}
	c->committed += bs;
	c->added++;
	if (c->committed > c->peak_committed) {
		c->peak_committed = c->committed;
	}
	return vgalloc__sa_alloc(&c->sa, size, align, out);
}

static inline void sa_do_free(struct sa_ctx *c, const struct vgalloc__sa_alloc *a)
{
	struct vgalloc__sa_block *b = vgalloc__sa_free(&c->sa, a);

	if (!b) {
		return;
	}
	/* Keep one empty block; the spare may have been reused since it was kept. */
	if (!c->spare || c->spare == b || c->spare->used != 0) {
		c->spare = b;
		return;
	}
	c->committed -= b->size;
	c->removed++;
	vgalloc__sa_remove_block(&c->sa, b);
}

static void sa_stats_pass(const struct bench_config *cfg, const struct bench_trace *t,
                          struct bench_result *res)
{
	struct vgalloc__sa_stats *st = malloc(sizeof(*st));
	struct sa_ctx c;
	int ret;

	if (!st) {
		set_err(res, -ENOMEM, "stats");
		return;
	}
	ret = sa_open(cfg, t, &c);
	if (ret) {
		set_err(res, ret, "vgalloc__sa_init");
		free(st);
		return;
	}
	res->max_block_size = c.max_block;
	res->min_block_size = c.min_block;
	for (size_t i = 0; i < t->n_ops; i++) {
		const struct bench_op *op = &t->ops[i];

		if (op->kind == OP_ALLOC) {
			ret = sa_do_alloc(&c, op->size, op->align, &c.allocs[op->id]);
			if (ret) {
				set_err(res, ret, "vgalloc__sa_alloc");
				break;
			}
		} else {
			sa_do_free(&c, &c.allocs[op->id]);
		}
		if (i == t->peak_index) {
			vgalloc__sa_get_stats(&c.sa, st);
			res->metadata_at_peak = st->metadata_bytes;
			res->live_at_peak = st->live;
		}
	}
	res->blob_creations = c.added;
	res->blocks_removed = c.removed;
	res->peak_committed = c.peak_committed;
	sa_close(&c);
	free(st);
}

static REPLAY_FN int sa_timed(const struct bench_trace *t, struct sa_ctx *c, uint64_t overhead,
                              struct timing_acc *a, const char **what)
{
	const struct bench_op *ops = t->ops;
	struct vgalloc__sa_alloc *allocs = c->allocs;
	uint64_t t0, t1;
	int ret;

	for (size_t i = 0; i < t->n_ops; i++) {
		const struct bench_op *op = &ops[i];

		if (op->kind == OP_ALLOC) {
			t0 = tick_start();
			ret = sa_do_alloc(c, op->size, op->align, &allocs[op->id]);
			t1 = tick_stop();
			if (ret) {
				*what = "vgalloc__sa_alloc";
				return ret;
			}
			record_op(a, T_ALLOC, t0, t1, overhead, op->size);
		} else {
			t0 = tick_start();
			sa_do_free(c, &allocs[op->id]);
			t1 = tick_stop();
			record_op(a, T_FREE, t0, t1, overhead, op->size);
		}
	}
	return 0;
}

/* The cycle: the whole trace under one timer, no timer inside. */
static REPLAY_FN int api_whole(const struct bench_trace *t, struct api_ctx *c, bool map_all,
                               uint64_t *ticks, const char **what)
{
	struct vgalloc_request req = { .struct_size = sizeof(req), .memory_type = 0 };
	const struct bench_op *ops = t->ops;
	struct vgalloc_device *dev = c->dev;
	struct vgalloc_mem **mems = c->mems;
	uint64_t t0, t1;
	void *ptr;
	int ret = 0;

	t0 = tick_start();
	for (size_t i = 0; i < t->n_ops; i++) {
		if (ops[i].kind == OP_ALLOC) {
			req.size = ops[i].size;
			req.alignment = ops[i].align;
			ret = vgalloc_mem_alloc(dev, &req, &mems[ops[i].id]);
			if (ret) {
				*what = "vgalloc_mem_alloc";
				break;
			}
			if (is_mapped(t, map_all, ops[i].id)) {
				ret = vgalloc_mem_map(dev, mems[ops[i].id], &ptr);
				if (ret) {
					*what = "vgalloc_mem_map";
					break;
				}
			}
		} else {
			ret = vgalloc_mem_free(dev, mems[ops[i].id]);
			if (ret) {
				*what = "vgalloc_mem_free";
				break;
			}
			mems[ops[i].id] = NULL;
		}
	}
	t1 = tick_stop();
	*ticks = t1 - t0;
	return ret;
}

static REPLAY_FN int sa_whole(const struct bench_trace *t, struct sa_ctx *c, uint64_t *ticks,
                              const char **what)
{
	const struct bench_op *ops = t->ops;
	struct vgalloc__sa_alloc *allocs = c->allocs;
	uint64_t t0, t1;
	int ret = 0;

	t0 = tick_start();
	for (size_t i = 0; i < t->n_ops; i++) {
		if (ops[i].kind == OP_ALLOC) {
			ret = sa_do_alloc(c, ops[i].size, ops[i].align, &allocs[ops[i].id]);
			if (ret) {
				*what = "vgalloc__sa_alloc";
				break;
			}
		} else {
			sa_do_free(c, &allocs[ops[i].id]);
		}
	}
	t1 = tick_stop();
	*ticks = t1 - t0;
	return ret;
}

/* ---------------------------------------------------------------------------------------------
 * The reference allocators (ref.c): offsets only, blocks grown and kept as allocator-alone does.
 */

struct ref_ctx {
	struct ref_allocator *r;
	struct ref_handle *h; /* by id */
};

static int ref_open(const struct bench_config *cfg, const struct bench_trace *t, uint32_t allocator,
                    struct ref_ctx *c)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->h = calloc(t->n_allocs ? t->n_allocs : 1, sizeof(*c->h));
	if (!c->h) {
		return -ENOMEM;
	}
	ret = ref_create(allocator == ALLOC_TLSF ? REF_TLSF : REF_SLAB, t->base_align,
	                 cfg->min_block_size ? cfg->min_block_size : 4 * MiB,
	                 cfg->max_block_size ? cfg->max_block_size : 64 * MiB, &c->r);
	if (ret) {
		free(c->h);
		c->h = NULL;
	}
	return ret;
}

static void ref_close(struct ref_ctx *c)
{
	ref_destroy(c->r);
	free(c->h);
	memset(c, 0, sizeof(*c));
}

static REPLAY_FN int ref_timed(const struct bench_trace *t, struct ref_ctx *c, uint64_t overhead,
                               struct timing_acc *a, const char **what)
{
	const struct bench_op *ops = t->ops;
	uint64_t t0, t1;
	int ret;

	for (size_t i = 0; i < t->n_ops; i++) {
		const struct bench_op *op = &ops[i];

		if (op->kind == OP_ALLOC) {
			t0 = tick_start();
			ret = ref_alloc(c->r, op->size, op->align, &c->h[op->id]);
			t1 = tick_stop();
			if (ret) {
				*what = "ref_alloc";
				return ret;
			}
			record_op(a, T_ALLOC, t0, t1, overhead, op->size);
		} else {
			t0 = tick_start();
			ref_free(c->r, &c->h[op->id]);
			t1 = tick_stop();
			record_op(a, T_FREE, t0, t1, overhead, op->size);
		}
	}
	return 0;
}

static REPLAY_FN int ref_whole(const struct bench_trace *t, struct ref_ctx *c, uint64_t *ticks,
                               const char **what)
{
	const struct bench_op *ops = t->ops;
	uint64_t t0, t1;
	int ret = 0;

	t0 = tick_start();
	for (size_t i = 0; i < t->n_ops; i++) {
		if (ops[i].kind == OP_ALLOC) {
			ret = ref_alloc(c->r, ops[i].size, ops[i].align, &c->h[ops[i].id]);
			if (ret) {
				*what = "ref_alloc";
				break;
			}
		} else {
			ref_free(c->r, &c->h[ops[i].id]);
		}
	}
	t1 = tick_stop();
	*ticks = t1 - t0;
	return ret;
}

static void ref_stats_pass(const struct bench_config *cfg, const struct bench_trace *t,
                           uint32_t allocator, struct bench_result *res)
{
	struct ref_ctx c;
	int ret = ref_open(cfg, t, allocator, &c);

	if (ret) {
		set_err(res, ret, "ref_create");
		return;
	}
	for (size_t i = 0; i < t->n_ops && !ret; i++) {
		const struct bench_op *op = &t->ops[i];

		if (op->kind == OP_ALLOC) {
			ret = ref_alloc(c.r, op->size, op->align, &c.h[op->id]);
			if (ret) {
				set_err(res, ret, "ref_alloc");
			}
		} else {
			ref_free(c.r, &c.h[op->id]);
		}
	}
	res->blob_creations = ref_blocks_added(c.r);
	res->peak_committed = ref_peak_committed(c.r);
	ref_close(&c);
}

/* ---------------------------------------------------------------------------------------------
 * Orchestration.
 */

static double ticks_to_ns(const struct bench_clock *clk, double ticks)
{
	return ticks / clk->ticks_per_ns;
}

static bool is_offset_allocator(uint32_t allocator)
{
	return allocator == ALLOC_SA || allocator == ALLOC_TLSF || allocator == ALLOC_SLAB;
}

/* One allocator's figures over the repetitions. */
struct run_acc {
	double *mean[3], *p99[3], *mx[3], *whole;
	uint64_t *buf[3]; /* per-op samples of one replay */
	bool ok;
};

static void acc_free(struct run_acc *acc)
{
	for (int k = 0; k < 3; k++) {
		free(acc->mean[k]);
		free(acc->p99[k]);
		free(acc->mx[k]);
		free(acc->buf[k]);
	}
	free(acc->whole);
	memset(acc, 0, sizeof(*acc));
}

static int acc_init(struct run_acc *acc, uint32_t runs, const struct bench_trace *t)
{
	memset(acc, 0, sizeof(*acc));
	acc->whole = calloc(runs, sizeof(double));
	for (int k = 0; k < 3; k++) {
		acc->mean[k] = calloc(runs, sizeof(double));
		acc->p99[k] = calloc(runs, sizeof(double));
		acc->mx[k] = calloc(runs, sizeof(double));
		acc->buf[k] = malloc((t->n_allocs ? t->n_allocs : 1) * sizeof(uint64_t));
		if (!acc->mean[k] || !acc->p99[k] || !acc->mx[k] || !acc->buf[k]) {
			acc_free(acc);
			return -ENOMEM;
		}
	}
	if (!acc->whole) {
		acc_free(acc);
		return -ENOMEM;
	}
	acc->ok = true;
	return 0;
}

/* Repetition r of one allocator: a per-op replay, then (whole) a cycle replay. */
static void run_once(const struct bench_config *cfg, const struct bench_trace *t,
                     uint32_t allocator, bool whole, uint32_t r, struct run_acc *acc,
                     struct bench_result *res)
{
	const struct bench_clock *clk = cfg->clk;
	const bool map_all = allocator == ALLOC_ONE_BLOB;
	struct timing_acc ta;
	const char *what = "";
	uint64_t ticks = 0;
	int ret;

	memset(&ta, 0, sizeof(ta));
	for (int k = 0; k < 3; k++) {
		ta.samples[k] = acc->buf[k];
	}
	if (allocator == ALLOC_SA) {
		struct sa_ctx c;

		ret = sa_open(cfg, t, &c);
		if (ret) {
			set_err(res, ret, "vgalloc__sa_init");
			return;
		}
		ret = whole ? sa_whole(t, &c, &ticks, &what)
		            : sa_timed(t, &c, clk->overhead, &ta, &what);
		sa_close(&c);
	} else if (is_offset_allocator(allocator)) {
		struct ref_ctx c;

		ret = ref_open(cfg, t, allocator, &c);
		if (ret) {
			set_err(res, ret, "ref_create");
			return;
		}
		ret = whole ? ref_whole(t, &c, &ticks, &what)
		            : ref_timed(t, &c, clk->overhead, &ta, &what);
		ref_close(&c);
	} else {
		struct api_ctx c;
		const bool no_suballoc = allocator != ALLOC_VGALLOC;

		/* The memfd-floor cost comes free with the first per-op run. */
		ret = api_open(cfg, t->base_align, no_suballoc, VGALLOC_MOCK_COST_MEMFD_FLOOR,
		               t->n_allocs, &c);
		if (ret) {
			set_err(res, ret, "device create");
			return;
		}
		ret = whole ? api_whole(t, &c, map_all, &ticks, &what)
		            : api_timed(t, &c, map_all, clk->overhead, &ta, &what);
		api_close(&c);
		if (!ret && !whole && r == 0) {
			res->modeled_memfd_ms_per_1000 = (double)c.ledger_end.modeled_ns / 1e6 *
			                                 1000.0 / (double)t->n_allocs;
		}
	}
	if (ret) {
		set_err(res, ret, what);
		return;
	}
	if (whole) {
		acc->whole[r] = ticks_to_ns(clk, (double)ticks) / (double)t->n_allocs;
		return;
	}
	for (int k = 0; k < 3; k++) {
		struct bench_time *bt = k == T_ALLOC  ? &res->alloc
		                        : k == T_FREE ? &res->free
		                                      : &res->map;
		size_t n = ta.n_samples[k], idx = (size_t)((double)n * 0.99), large = 0, tail = 0;
		double sum = 0, worst;

		bt->count = n;
		if (!n) {
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			sum += (double)(ta.samples[k][i] >> 1);
			large += ta.samples[k][i] & 1;
		}
		qsort(ta.samples[k], n, sizeof(uint64_t), cmp_u64);
		idx = idx >= n ? n - 1 : idx;
		for (size_t i = idx; i < n; i++) {
			tail += ta.samples[k][i] & 1;
		}
		/* What the slowest 1 % are made of, against the whole (last repetition's). */
		bt->range_share = (double)large / (double)n;
		bt->tail_range_share = (double)tail / (double)(n - idx);
		acc->mean[k][r] = ticks_to_ns(clk, sum / (double)n);
		acc->p99[k][r] = ticks_to_ns(clk, (double)(ta.samples[k][idx] >> 1));
		worst = ticks_to_ns(clk, (double)(ta.samples[k][n - 1] >> 1));
		acc->mx[k][r] = worst;
		if (worst > bt->worst_ns) {
			bt->worst_ns = worst;
		}
	}
}

void bench_run_set(const struct bench_config *cfg, const struct bench_trace *t,
                   const bool which[ALLOC_COUNT], struct bench_result res[ALLOC_COUNT])
{
	const uint32_t runs = cfg->runs ? cfg->runs : 1;
	struct run_acc acc[ALLOC_COUNT];

	memset(acc, 0, sizeof(acc));
	/* Stats passes, untimed. */
	for (uint32_t a = 0; a < ALLOC_COUNT; a++) {
		struct bench_result *r = &res[a];

		memset(r, 0, sizeof(*r));
		if (!which[a]) {
			continue;
		}
		r->ran = true;
		r->metadata_per_live = -1.0;
		r->modeled_qemu_ms_per_1000 = -1.0;
		r->modeled_memfd_ms_per_1000 = -1.0;
		if (a == ALLOC_LAZY && t->mapped_count == t->n_allocs) {
			r->same_as_one_blob = true;
			continue;
		}
		if (acc_init(&acc[a], runs, t)) {
			set_err(r, -ENOMEM, "bench buffers");
			continue;
		}
		if (cfg->cycle_only) {
			continue;
		}
		if (a == ALLOC_SA) {
			sa_stats_pass(cfg, t, r);
		} else if (is_offset_allocator(a)) {
			ref_stats_pass(cfg, t, a, r);
		} else {
			api_stats_pass(cfg, t, a != ALLOC_VGALLOC, a == ALLOC_ONE_BLOB, r);
		}
		r->blobs_per_1000 = (double)r->blob_creations * 1000.0 / (double)t->n_allocs;
		r->waste = t->peak_live ? (double)r->peak_committed / (double)t->peak_live : 0.0;
		if (r->live_at_peak) {
			r->metadata_per_live =
			        (double)r->metadata_at_peak / (double)r->live_at_peak;
		}
	}
	/* Repetitions, every allocator in turn within each. */
	for (uint32_t rep = 0; rep < runs; rep++) {
		for (int whole = cfg->cycle_only; whole < 2; whole++) {
			for (uint32_t a = 0; a < ALLOC_COUNT; a++) {
				if (acc[a].ok && !res[a].error) {
					run_once(cfg, t, a, whole, rep, &acc[a], &res[a]);
				}
			}
		}
	}
	for (uint32_t a = 0; a < ALLOC_COUNT; a++) {
		struct bench_result *r = &res[a];

		if (acc[a].ok && !r->error) {
			r->alloc.mean_ns = bench_median(acc[a].mean[T_ALLOC], runs);
			r->free.mean_ns = bench_median(acc[a].mean[T_FREE], runs);
			r->map.mean_ns = bench_median(acc[a].mean[T_MAP], runs);
			r->alloc.p99_ns = bench_median(acc[a].p99[T_ALLOC], runs);
			r->free.p99_ns = bench_median(acc[a].p99[T_FREE], runs);
			r->map.p99_ns = bench_median(acc[a].p99[T_MAP], runs);
			r->alloc.max_ns = bench_median(acc[a].mx[T_ALLOC], runs);
			r->free.max_ns = bench_median(acc[a].mx[T_FREE], runs);
			r->map.max_ns = bench_median(acc[a].mx[T_MAP], runs);
			r->replay_ns_per_alloc = bench_median(acc[a].whole, runs);
		}
		acc_free(&acc[a]);
	}
}

/* ---------------------------------------------------------------------------------------------
 * W8: one device (one pool), one or two threads. In the cross variant, a thread hands the free
 * of every odd-id allocation of its own trace to the other thread through that thread's inbox
 * (a mutex-protected array, checked without the lock through an atomic count), 64 frees per
 * hand-over so that the queue's own lock stays out of the figure; the owner of an inbox drains it
 * before each of its own ops and, once its trace is done, until the other thread is done too
 * (sleeping on the inbox's condition variable in between, so that waiting costs no CPU time).
 * In the separate variant each thread has a device of its own and nothing is shared: the
 * machine's own cost of running two threads at once (caches, memory, SMT, clock).
 *
 * Each thread reads its own CPU time (CLOCK_THREAD_CPUTIME_ID) and runqueue wait (schedstat)
 * right after the start barrier and when it is done; CPU ns per op = the threads' CPU ns / their
 * ops. The main thread samples the machine's background load around each measurement.
 */

#define OUTBOX_MAX 64

struct w8_inbox {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* signalled on a hand-over and when the sender is done */
	atomic_size_t n;
	struct vgalloc_mem **v;
	size_t cap;
	struct vgalloc_mem **spare; /* swapped in while draining */
};

struct w8_thread {
	const struct bench_trace *t;
	struct vgalloc_device *dev;
	struct vgalloc_mem **mems;
	bool map, cross;
	int cpu; /* -1: not pinned */
	pthread_barrier_t *barrier;
	struct w8_inbox inbox;
	struct w8_thread *peer;
	atomic_bool done;
	uint64_t start_ns, end_ns;
	struct bench_thread_sample s0, s1; /* CPU time and runqueue wait at start and end */
	uint64_t handed;
	int error;
	struct vgalloc_mem *outbox[OUTBOX_MAX]; /* frees waiting to be handed over */
	size_t outn;
};

/* The variants, in the order a run executes them. */
static const struct {
	int threads;
	bool map, cross, separate;
} w8_variants[W8_VARIANTS] = {
	[W8_1T] = { 1, false, false, false },      [W8_2T] = { 2, false, false, false },
	[W8_2T_CROSS] = { 2, false, true, false }, [W8_2T_SEPARATE] = { 2, false, false, true },
	[W8_1T_MAP] = { 1, true, false, false },   [W8_2T_MAP] = { 2, true, false, false },
};

/* One measurement of one variant. */
struct w8_meas {
	double ops_per_s;
	double cpu_ns_per_op;
	double runq_us[2]; /* < 0: not available */
	uint64_t handed;
};

static int inbox_push(struct w8_inbox *in, struct vgalloc_mem *const *m, size_t count)
{
	size_t n;

	pthread_mutex_lock(&in->lock);
	n = atomic_load(&in->n);
	if (in->cap - n < count) {
		pthread_mutex_unlock(&in->lock);
		return -ENOSPC;
	}
	memcpy(&in->v[n], m, count * sizeof(*m));
	atomic_store_explicit(&in->n, n + count, memory_order_release);
	pthread_cond_signal(&in->cond);
	pthread_mutex_unlock(&in->lock);
	return 0;
}

/* Hand the collected frees to the peer: one lock per OUTBOX_MAX frees. */
static int outbox_flush(struct w8_thread *w)
{
	int ret = 0;

	if (w->outn) {
		ret = inbox_push(&w->peer->inbox, w->outbox, w->outn);
		w->handed += w->outn;
		w->outn = 0;
	}
	return ret;
}

static int inbox_drain(struct w8_thread *w)
{
	struct w8_inbox *in = &w->inbox;
	struct vgalloc_mem **v;
	size_t n;
	int ret = 0;

	if (atomic_load_explicit(&in->n, memory_order_acquire) == 0) {
		return 0;
	}
	pthread_mutex_lock(&in->lock);
	v = in->v;
	n = atomic_load(&in->n);
	in->v = in->spare;
	in->spare = v;
	atomic_store(&in->n, 0);
	pthread_mutex_unlock(&in->lock);
	for (size_t k = 0; k < n; k++) {
		int r = vgalloc_mem_free(w->dev, v[k]);

		if (r && !ret) {
			ret = r;
		}
	}
	return ret;
}

/* Cross variant, own trace done: free what the peer hands over until it is done too. */
static int inbox_drain_until_peer_done(struct w8_thread *w)
{
	struct w8_inbox *in = &w->inbox;
	int ret = 0;

	/* Wake the peer if it already waits for this thread. */
	pthread_mutex_lock(&w->peer->inbox.lock);
	pthread_cond_signal(&w->peer->inbox.cond);
	pthread_mutex_unlock(&w->peer->inbox.lock);
	while (!ret) {
		bool finished;

		ret = inbox_drain(w);
		if (ret) {
			break;
		}
		/* The peer flushes its outbox before it sets done, and signals after. */
		pthread_mutex_lock(&in->lock);
		while (atomic_load(&in->n) == 0 && !atomic_load(&w->peer->done)) {
			pthread_cond_wait(&in->cond, &in->lock);
		}
		finished = atomic_load(&in->n) == 0;
		pthread_mutex_unlock(&in->lock);
		if (finished) {
			break;
		}
	}
	return ret;
}

static void *w8_main(void *arg)
{
	struct w8_thread *w = arg;
	struct vgalloc_request req = { .struct_size = sizeof(req), .memory_type = 0 };
	const struct bench_trace *t = w->t;
	struct bench_thread_clock tc;
	void *ptr;
	int ret = 0;

#ifdef __linux__
	if (w->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
#endif
	bench_thread_clock_open(&tc);
	if (w->barrier) {
		pthread_barrier_wait(w->barrier);
	}
	w->start_ns = mono_ns();
	bench_thread_start(&tc, &w->s0);
	for (size_t i = 0; i < t->n_ops && !ret; i++) {
		const struct bench_op *op = &t->ops[i];

		if (w->cross) {
			ret = inbox_drain(w);
			if (ret) {
				break;
			}
		}
		if (op->kind == OP_ALLOC) {
			req.size = op->size;
			req.alignment = op->align;
			ret = vgalloc_mem_alloc(w->dev, &req, &w->mems[op->id]);
			if (!ret && w->map) {
				ret = vgalloc_mem_map(w->dev, w->mems[op->id], &ptr);
			}
		} else if (w->cross && (op->id & 1)) {
			w->outbox[w->outn++] = w->mems[op->id];
			if (w->outn == OUTBOX_MAX) {
				ret = outbox_flush(w);
			}
		} else {
			ret = vgalloc_mem_free(w->dev, w->mems[op->id]);
		}
	}
	if (w->cross && !ret) {
		ret = outbox_flush(w);
	}
	atomic_store(&w->done, true);
	if (w->cross) {
		int r = inbox_drain_until_peer_done(w);

		ret = ret ? ret : r;
	}
	bench_thread_stop(&tc, &w->s1);
	w->end_ns = mono_ns();
	bench_thread_clock_close(&tc);
	w->error = ret;
	return NULL;
}

static int w8_thread_init(struct w8_thread *w, const struct bench_trace *t,
                          struct vgalloc_device *dev, bool map, bool cross, int cpu,
                          size_t inbox_cap)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->inbox.lock, NULL);
	pthread_cond_init(&w->inbox.cond, NULL);
	w->t = t;
	w->dev = dev;
	w->map = map;
	w->cross = cross;
	w->cpu = cpu;
	atomic_init(&w->done, false);
	atomic_init(&w->inbox.n, 0);
	w->mems = calloc(t->n_allocs ? t->n_allocs : 1, sizeof(*w->mems));
	if (cross) {
		/* The peer hands over at most every free of its own trace. */
		w->inbox.cap = inbox_cap;
		w->inbox.v = calloc(w->inbox.cap, sizeof(*w->inbox.v));
		w->inbox.spare = calloc(w->inbox.cap, sizeof(*w->inbox.spare));
	}
	if (!w->mems || (cross && (!w->inbox.v || !w->inbox.spare))) {
		return -ENOMEM;
	}
	return 0;
}

static void w8_thread_finish(struct w8_thread *w)
{
	pthread_cond_destroy(&w->inbox.cond);
	pthread_mutex_destroy(&w->inbox.lock);
	free(w->mems);
	free(w->inbox.v);
	free(w->inbox.spare);
}

/* One measurement of variant `var`: its threads on fresh device(s). */
static int w8_once(const struct bench_config *cfg, const struct bench_trace *t0,
                   const struct bench_trace *t1, int var, bool pin, struct w8_meas *m)
{
	const size_t cap = (t0->n_allocs > t1->n_allocs ? t0->n_allocs : t1->n_allocs) + 1;
	const int nthreads = w8_variants[var].threads;
	const bool map = w8_variants[var].map;
	const bool cross = w8_variants[var].cross && nthreads == 2;
	const int ndev = w8_variants[var].separate && nthreads == 2 ? 2 : 1;
	struct w8_thread w[2];
	pthread_barrier_t barrier;
	pthread_t tid[2];
	struct api_ctx c[2];
	uint64_t start = UINT64_MAX, end = 0, ops = 0, cpu = 0;
	int ret = 0, created = 0, inited = 0, opened = 0;

	memset(m, 0, sizeof(*m));
	memset(w, 0, sizeof(w));
	for (int d = 0; d < ndev && !ret; d++) {
		ret = api_open(cfg, (d ? t1 : t0)->base_align, false, VGALLOC_MOCK_COST_NONE, 1,
		               &c[d]);
		opened += !ret;
	}
	if (ret) {
		goto out;
	}
	ret = w8_thread_init(&w[0], t0, c[0].dev, map, cross, pin ? 0 : -1, cap);
	inited = 1;
	if (!ret && nthreads == 2) {
		ret = w8_thread_init(&w[1], t1, c[ndev - 1].dev, map, cross, pin ? 1 : -1, cap);
		inited = 2;
	}
	if (ret) {
		goto out;
	}
	if (nthreads == 2) {
		w[0].peer = &w[1];
		w[1].peer = &w[0];
		pthread_barrier_init(&barrier, NULL, 2);
		w[0].barrier = &barrier;
		w[1].barrier = &barrier;
		for (int k = 0; k < 2; k++) {
			int r = pthread_create(&tid[k], NULL, w8_main, &w[k]);

			if (r) {
				ret = -r;
				break;
			}
			created++;
		}
		if (created == 1) {
			/* Release the first thread from the barrier; it finds its peer done. */
			atomic_store(&w[1].done, true);
			pthread_barrier_wait(&barrier);
		}
		for (int k = 0; k < created; k++) {
			pthread_join(tid[k], NULL);
		}
		pthread_barrier_destroy(&barrier);
	} else {
#ifdef __linux__
		if (pin) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(0, &set);
			pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
		}
#endif
		w[0].cpu = -1;
		w8_main(&w[0]);
	}
	if (ret) {
		goto out;
	}
	for (int k = 0; k < nthreads; k++) {
		if (!ret && w[k].error) {
			ret = w[k].error;
		}
		start = w[k].start_ns < start ? w[k].start_ns : start;
		end = w[k].end_ns > end ? w[k].end_ns : end;
		ops += w[k].t->n_ops;
		cpu += w[k].s1.cpu_ns - w[k].s0.cpu_ns;
		m->runq_us[k] = w[k].s0.runq_ok && w[k].s1.runq_ok
		                        ? (double)(w[k].s1.runq_ns - w[k].s0.runq_ns) / 1e3
		                        : -1;
		m->handed += w[k].handed;
	}
	if (nthreads == 1) {
		m->runq_us[1] = -1;
	}
	m->ops_per_s = end > start ? (double)ops * 1e9 / (double)(end - start) : 0.0;
	m->cpu_ns_per_op = ops ? (double)cpu / (double)ops : 0.0;
out:
	for (int k = 0; k < inited; k++) {
		w8_thread_finish(&w[k]);
	}
	for (int d = 0; d < opened; d++) {
		api_close(&c[d]);
	}
	return ret;
}

/* Per variant and run: ops/s, CPU ns/op, the two ratios and two runqueue waits. */
enum {
	W8_F_OPS,
	W8_F_CPU,
	W8_F_WALL_RATIO,
	W8_F_CPU_RATIO,
	W8_F_RUNQ0,
	W8_F_RUNQ1,
	W8_FIELDS
};

void bench_w8(const struct bench_config *cfg, const struct bench_trace *t0,
              const struct bench_trace *t1, struct bench_w8_result *res)
{
	const uint32_t runs = cfg->runs ? cfg->runs : 1;
	struct bench_load_snap load[W8_VARIANTS];
	bool runq_ok[W8_VARIANTS][2];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool pin = ncpu >= 2;
	double *buf;
	int ret = 0;

#define W8_COL(var, f) (buf + ((size_t)(var)*W8_FIELDS + (f)) * runs)
	memset(res, 0, sizeof(*res));
	memset(load, 0, sizeof(load));
	res->cpus = ncpu > 0 ? (uint32_t)ncpu : 1;
	res->pinned = pin;
	for (int k = 0; k < W8_VARIANTS; k++) {
		res->v[k].threads = (uint32_t)w8_variants[k].threads;
		runq_ok[k][0] = true;
		runq_ok[k][1] = w8_variants[k].threads == 2;
	}
	buf = calloc((size_t)runs * W8_VARIANTS * W8_FIELDS, sizeof(double));
	if (!buf) {
		ret = -ENOMEM;
	}
	/* Interleave the variants run by run so slow drift of the machine hits them alike. */
	for (uint32_t r = 0; r < runs && !ret; r++) {
		struct w8_meas m[W8_VARIANTS];

		for (int k = 0; k < W8_VARIANTS && !ret; k++) {
			struct bench_load_snap a, b;

			bench_load_take(&a);
			ret = w8_once(cfg, t0, t1, k, pin, &m[k]);
			bench_load_take(&b);
			bench_load_add(&load[k], &a, &b);
			if (k == W8_2T_CROSS) {
				res->handed_over = m[k].handed;
			}
		}
		if (ret) {
			break;
		}
		for (int k = 0; k < W8_VARIANTS; k++) {
			const struct w8_meas *base = &m[bench_w8_base(k)];

			W8_COL(k, W8_F_OPS)[r] = m[k].ops_per_s;
			W8_COL(k, W8_F_CPU)[r] = m[k].cpu_ns_per_op;
			/* Ratios within a run: its measurements ran back to back. */
			W8_COL(k, W8_F_WALL_RATIO)
			[r] = base->ops_per_s > 0 ? m[k].ops_per_s / base->ops_per_s : 0;
			W8_COL(k, W8_F_CPU_RATIO)
			[r] = base->cpu_ns_per_op > 0 ? m[k].cpu_ns_per_op / base->cpu_ns_per_op
			                              : 0;
			for (int t = 0; t < 2; t++) {
				W8_COL(k, W8_F_RUNQ0 + t)[r] = m[k].runq_us[t];
				runq_ok[k][t] = runq_ok[k][t] && m[k].runq_us[t] >= 0;
			}
		}
	}
	if (pin) {
#ifdef __linux__
		cpu_set_t set;

		/* Give the main thread every CPU back. */
		CPU_ZERO(&set);
		for (long k = 0; k < ncpu && k < CPU_SETSIZE; k++) {
			CPU_SET((int)k, &set);
		}
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
#endif
	}
	res->error = ret;
	for (int k = 0; k < W8_VARIANTS && !ret; k++) {
		struct bench_w8_variant *v = &res->v[k];

		v->ops_per_s = bench_median(W8_COL(k, W8_F_OPS), runs);
		v->cpu_ns_per_op = bench_median(W8_COL(k, W8_F_CPU), runs);
		v->wall_ratio = bench_median(W8_COL(k, W8_F_WALL_RATIO), runs);
		v->cpu_ratio = bench_median(W8_COL(k, W8_F_CPU_RATIO), runs);
		for (int t = 0; t < 2; t++) {
			v->runq_wait_us[t] =
			        runq_ok[k][t] ? bench_median(W8_COL(k, W8_F_RUNQ0 + t), runs) : -1;
		}
		bench_load_compute(&load[k], &v->load);
	}
#undef W8_COL
	free(buf);
}
