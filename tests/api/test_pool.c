/* SPDX-License-Identifier: MIT */
/*
 * Pools through the public API on the mock: how many blobs and host allocations suballocation
 * costs on each path, what a free, a trim and the retention cap do to the backend (call by call),
 * the ENOSPC trim-and-retry, faults while a block grows or first maps, statistics, and a threaded
 * stress with cross-thread frees.
 * Covers: vgalloc_mem_alloc, vgalloc_mem_map, vgalloc_mem_unmap, vgalloc_mem_free,
 * vgalloc_mem_get_info, vgalloc_mem_export (suballocated), vgalloc_device_trim,
 * vgalloc_device_get_stats, vgalloc_device_get_pool_stats, vgalloc_device_stats_json.
 */
#include <pthread.h>

#include "../harness.h"

#define KiB      (1ull << 10)
#define MiB      (1ull << 20)
#define MAPPABLE VGALLOC_BLOB_FLAG_MAPPABLE
#define HOST3D   VGALLOC_BLOB_MEM_HOST3D

/* Pool settings of the device create-info (0 = the library's default). */
struct pool_opts {
	uint64_t retain_bytes;
	uint64_t min_block;
	uint64_t max_block;
	uint32_t shards;
	uint64_t base_alignment;                              /* of every memory type */
	void (*wrap_hooks)(struct vgalloc_host_hooks *hooks); /* before the device copies them */
};

/* fx_new() with the pool settings applied to the create-info. */
static struct fx *pfx_new(const struct fx_opts *o, const struct pool_opts *po)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fds_before = count_open_fds();
	f->mock = fx_mock_new(o);
	assert_int_equal(vgalloc_mock_get_hooks(f->mock, o->hooks_flags, &f->hooks), 0);
	fx_create_info(f, o, types, &ci);
	ci.retain_bytes = po->retain_bytes;
	ci.min_block_size = po->min_block;
	ci.max_block_size = po->max_block;
	ci.pool_shards = po->shards;
	for (int i = 0; i < 3; i++) {
		types[i].base_alignment = po->base_alignment;
	}
	if (po->wrap_hooks) {
		po->wrap_hooks(&f->hooks);
	}
	assert_int_equal(vgalloc_device_create(&ci, &f->dev), 0);
	vgalloc_mock_reset_counters(f->mock);
	return f;
}

static struct vgalloc_stats stats(struct fx *f)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(st.struct_size, sizeof(st));
	return st;
}

static struct vgalloc_pool_stats pool_stats(struct fx *f, uint32_t index)
{
	struct vgalloc_pool_stats ps = { .struct_size = sizeof(ps) };

	assert_int_equal(vgalloc_device_get_pool_stats(f->dev, index, &ps), 0);
	return ps;
}

static struct vgalloc_mem_info mem_info(struct fx *f, struct vgalloc_mem *mem)
{
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };

	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	return info;
}

static struct vgalloc_mem *alloc_ok(struct fx *f, uint32_t type, uint64_t size)
{
	struct vgalloc_request r = fx_req(type, size);
	struct vgalloc_mem *mem = NULL;

	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_non_null(mem);
	return mem;
}

/* No backend or host call since the last reset. */
static void expect_no_calls(struct vgalloc_mock *mock)
{
	struct vgalloc_mock_trace_entry e[1];

	if (vgalloc_mock_get_trace(mock, e, 1) != 0) {
		print_message("  unexpected calls:\n");
		fx_print_trace(mock);
		fail_msg("a backend or host call where none was expected");
	}
}

/* Both views of the pools agree: the cheap counters and the walk. */
static void assert_stats_consistent(struct fx *f)
{
	struct vgalloc_stats st = stats(f);
	struct vgalloc_pool_stats sum = { 0 };
	struct vgalloc_pool_stats ps = { .struct_size = sizeof(ps) };
	uint32_t i;

	for (i = 0; vgalloc_device_get_pool_stats(f->dev, i, &ps) == 0; i++) {
		assert_int_equal(ps.struct_size, sizeof(ps));
		assert_true(ps.used_bytes >= ps.requested_bytes);
		assert_true(ps.largest_free <= ps.free_bytes);
		assert_true(ps.free_bytes + ps.used_bytes <= ps.block_bytes);
		assert_true(ps.slab_bytes <= ps.block_bytes);
		assert_true(ps.retained_bytes <= ps.block_bytes);
		assert_true(ps.window_bytes <= ps.block_bytes);
		sum.blocks += ps.blocks;
		sum.block_bytes += ps.block_bytes;
		sum.retained_bytes += ps.retained_bytes;
		sum.requested_bytes += ps.requested_bytes;
		sum.live += ps.live;
	}
	assert_int_equal(vgalloc_device_get_pool_stats(f->dev, i, &ps), -ENOENT);
	assert_int_equal(i, st.pools);
	assert_int_equal(sum.blocks, st.blocks);
	assert_int_equal(sum.block_bytes, st.block_bytes);
	assert_int_equal(sum.retained_bytes, st.retained_bytes);
	assert_int_equal(sum.requested_bytes, st.suballoc_bytes);
	assert_int_equal(sum.live, st.suballocs_live);
	assert_int_equal(st.blocks, st.block_creations - st.block_releases);
}

/* --- golden sequences --------------------------------------------------------------------- */

#define GOLDEN_N 64

/*
 * GOLDEN_N 4 KiB allocations from one pool; map them (or not) and check offsets, pointers and
 * bytes. Returns with every allocation freed and the block retained.
 */
static void golden_allocs(struct fx *f, bool map, bool guest_first)
{
	struct vgalloc_mem *mems[GOLDEN_N];
	unsigned char *ptrs[GOLDEN_N];
	uint64_t offsets[GOLDEN_N];
	struct vgalloc_mock_ledger l;
	struct vgalloc_mem_info info;
	struct vgalloc_blob *blob = NULL;
	uint64_t host_handle = 0;
	unsigned char *base = NULL;
	struct vgalloc_stats st;
	int fd = -1;

	vgalloc_mock_reset_counters(f->mock);
	for (int i = 0; i < GOLDEN_N; i++) {
		mems[i] = alloc_ok(f, TYPE_HOST_COHERENT, 4096);
		info = mem_info(f, mems[i]);
		offsets[i] = info.offset;
		/* The pool base alignment of these types is 4 KiB. */
		assert_int_equal(info.offset % 4096, 0);
		assert_int_equal(info.size, 4096);
		assert_true(info.committed >= 4096);
		assert_int_equal(info.path, guest_first ? VGALLOC_PATH_GUEST_FIRST
		                                        : VGALLOC_PATH_HOST_FIRST_LAZY);
		assert_int_not_equal(info.host_handle, 0);
		if (i == 0) {
			host_handle = info.host_handle;
		}
		/* Every allocation lives in the one block. */
		assert_int_equal(info.host_handle, host_handle);
		if (!guest_first) {
			assert_null(info.blob); /* host-first: no blob before the first map */
			assert_int_equal(info.res_id, 0);
		} else {
			assert_non_null(info.blob);
			assert_int_not_equal(info.res_id, 0);
		}
		for (int j = 0; j < i; j++) {
			assert_true(offsets[j] != offsets[i]);
			/* 4 KiB apart at least: the ranges do not overlap. */
			assert_true(offsets[j] + 4096 <= offsets[i] ||
			            offsets[i] + 4096 <= offsets[j]);
		}
		/* Suballocations are never exported: their blob is shared. */
		assert_int_equal(
		        vgalloc_mem_export(f->dev, mems[i], VGALLOC_HANDLE_TYPE_DMA_BUF, &fd),
		        -EINVAL);
		assert_int_equal(fd, -1);
	}
	l = fx_ledger(f->mock);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_HOST_ALLOC], guest_first ? 0 : 1);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_HOST_IMPORT], guest_first ? 1 : 0);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_BLOB_CREATE], guest_first ? 1 : 0);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_NEW_BLOB_ID], 1);
	assert_int_equal(l.host_allocs, 1);
	st = stats(f);
	assert_int_equal(st.pools, 1);
	assert_int_equal(st.blocks, 1);
	assert_int_equal(st.suballocs_live, GOLDEN_N);
	assert_int_equal(st.suballoc_bytes, GOLDEN_N * 4096);
	assert_stats_consistent(f);

	if (map) {
		for (int i = 0; i < GOLDEN_N; i++) {
			assert_int_equal(vgalloc_mem_map(f->dev, mems[i], (void **)&ptrs[i]), 0);
			if (i == 0) {
				base = ptrs[0] - offsets[0];
			}
			/* One mapping of the whole block. */
			assert_ptr_equal(ptrs[i], base + offsets[i]);
			memset(ptrs[i], i + 1, 4096);
		}
		for (int i = 0; i < GOLDEN_N; i++) {
			for (int k = 0; k < 4096; k += 511) {
				assert_int_equal(ptrs[i][k], i + 1);
			}
			assert_int_equal(ptrs[i][4095], i + 1);
			info = mem_info(f, mems[i]);
			assert_non_null(info.blob);
			assert_int_not_equal(info.res_id, 0);
			assert_int_equal(info.offset, offsets[i]);
			assert_int_equal(info.blob_flags & MAPPABLE, MAPPABLE);
			if (i == 0) {
				blob = info.blob;
			}
			assert_ptr_equal(info.blob, blob);
		}
		l = fx_ledger(f->mock);
		assert_int_equal(l.calls[VGALLOC_MOCK_CALL_BLOB_CREATE], 1);
		assert_int_equal(l.calls[VGALLOC_MOCK_CALL_BLOB_MAP], 1);
		assert_int_equal(l.live_blobs, 1);
		assert_int_equal(l.mapped_blobs, 1);
		/* The block's blob is the library's: the blob API may not destroy it. */
		assert_int_equal(vgalloc_blob_destroy(f->dev, blob), -EBUSY);
		/* Unmapping a suballocation leaves the block mapped. */
		vgalloc_mock_reset_counters(f->mock);
		for (int i = 0; i < GOLDEN_N; i += 2) {
			assert_int_equal(vgalloc_mem_unmap(f->dev, mems[i]), 0);
			assert_int_equal(vgalloc_mem_unmap(f->dev, mems[i]), -EINVAL);
		}
		expect_no_calls(f->mock);
		assert_int_equal(fx_ledger(f->mock).mapped_blobs, 1);
	} else {
		l = fx_ledger(f->mock);
		assert_int_equal(l.calls[VGALLOC_MOCK_CALL_BLOB_MAP], 0);
		assert_int_equal(l.live_blobs, guest_first ? 1 : 0);
	}

	/* Freeing suballocations makes no backend or host call. */
	vgalloc_mock_reset_counters(f->mock);
	for (int i = GOLDEN_N - 1; i >= 0; i--) {
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), -EINVAL);
	}
	expect_no_calls(f->mock);
	st = stats(f);
	assert_int_equal(st.suballocs_live, 0);
	assert_int_equal(st.suballoc_bytes, 0);
	assert_int_equal(st.blocks, 1);
	assert_int_equal(st.retained_bytes, st.block_bytes);
	assert_stats_consistent(f);
}

static void pool_alloc__host_first_mapped_golden(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_stats st;

	(void)state;
	golden_allocs(f, true, false);
	/* The trim releases the block in the fixed order; its token went with the blob's wait. */
	assert_int_equal(vgalloc_device_trim(f->dev), 1);
	EXPECT_CALLS(f->mock, CALL(BLOB_UNMAP), CALL(BLOB_DESTROY), CALL(HOST_FREE));
	st = stats(f);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.block_bytes, 0);
	assert_int_equal(st.retained_bytes, 0);
	assert_int_equal(st.block_releases, 1);
	assert_int_equal(vgalloc_device_trim(f->dev), 0);
	expect_no_calls(f->mock);
	fx_free(f);
}

static void pool_alloc__host_first_golden_sequence(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_mem *a, *b;
	struct vgalloc_mem_info info;
	void *p, *q;

	(void)state;
	/* The first allocation grows the pool: a host allocation, nothing else. */
	a = alloc_ok(f, TYPE_HOST_COHERENT, 4096);
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID), CALL(HOST_ALLOC));
	b = alloc_ok(f, TYPE_HOST_COHERENT, 4096);
	expect_no_calls(f->mock);
	info = mem_info(f, a);
	/* The first map of any member creates the block's blob, tagged with its host allocation. */
	assert_int_equal(vgalloc_mem_map(f->dev, a, &p), 0);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CREATE(HOST3D, MAPPABLE, info.blob_id),
	             CALL(BLOB_MAP));
	assert_int_equal(vgalloc_mem_map(f->dev, b, &q), 0);
	expect_no_calls(f->mock);
	assert_int_equal(mem_info(f, b).blob_id, info.blob_id);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, b), 0);
	expect_no_calls(f->mock);
	assert_int_equal(vgalloc_device_trim(f->dev), 1);
	EXPECT_CALLS(f->mock, CALL(BLOB_UNMAP), CALL(BLOB_DESTROY), CALL(HOST_FREE));
	fx_free(f);
}

static void pool_alloc__never_mapped_makes_no_blob(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });

	(void)state;
	golden_allocs(f, false, false);
	assert_int_equal(fx_ledger(f->mock).live_blobs, 0);
	assert_int_equal(vgalloc_device_trim(f->dev), 1);
	/* Never mapped: the host allocation's token is still pending, so it is waited for. */
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(HOST_FREE));
	fx_free(f);
}

static void pool_alloc__guest_first_golden(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC });
	struct vgalloc_mem *a;
	struct vgalloc_mem_info info;
	void *p;

	(void)state;
	a = alloc_ok(f, TYPE_HOST_COHERENT, 4096);
	info = mem_info(f, a);
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID), CREATE(HOST3D, MAPPABLE, info.blob_id),
	             CALL(HOST_ROUNDTRIP), CALL(HOST_IMPORT));
	assert_int_equal(vgalloc_mem_map(f->dev, a, &p), 0);
	EXPECT_CALLS(f->mock, CALL(BLOB_MAP));
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	expect_no_calls(f->mock);
	assert_int_equal(vgalloc_device_trim(f->dev), 1);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(BLOB_UNMAP), CALL(BLOB_DESTROY),
	             CALL(HOST_FREE));
	fx_free(f);
}

static void pool_alloc__guest_first_mapped_golden(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC });

	(void)state;
	golden_allocs(f, true, true);
	assert_int_equal(vgalloc_device_trim(f->dev), 1);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(BLOB_UNMAP), CALL(BLOB_DESTROY),
	             CALL(HOST_FREE));
	fx_free(f);
}

/* Offsets follow the memory type's base alignment, whatever the request size. */
static void pool_alloc__offsets_follow_the_pool_base_alignment(void **state)
{
	struct fx *f =
	        pfx_new(&(struct fx_opts){ 0 }, &(struct pool_opts){ .base_alignment = 64 * KiB });
	struct vgalloc_mem *mems[16];
	unsigned char *p[16];

	(void)state;
	for (int i = 0; i < 16; i++) {
		struct vgalloc_mem_info info;

		mems[i] = alloc_ok(f, TYPE_HOST_COHERENT, (uint64_t)(i + 1) * 1000);
		info = mem_info(f, mems[i]);
		assert_int_equal(info.offset % (64 * KiB), 0);
		assert_true(info.committed >= 64 * KiB);
		assert_int_equal(info.committed % (64 * KiB), 0);
		assert_int_equal(vgalloc_mem_map(f->dev, mems[i], (void **)&p[i]), 0);
		memset(p[i], i + 1, (size_t)(i + 1) * 1000);
	}
	for (int i = 0; i < 16; i++) {
		assert_int_equal(p[i][0], i + 1);
		assert_int_equal(p[i][(i + 1) * 1000 - 1], i + 1);
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
	}
	assert_int_equal(stats(f).blocks, 1);
	fx_free(f);
}

/* Device destroy with live suballocations and retained blocks cleans up everything. */
static void device_destroy__releases_pools_with_live_suballocations(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	void *p;

	(void)state;
	for (int i = 0; i < 8; i++) {
		struct vgalloc_mem *m = alloc_ok(f, i & 1 ? TYPE_HOST_COHERENT : TYPE_HOST_CACHED,
		                                 (uint64_t)(i + 1) * 3000);

		if (i % 3 == 0) {
			assert_int_equal(vgalloc_mem_map(f->dev, m, &p), 0);
		}
	}
	assert_int_equal(stats(f).pools, 2);
	fx_free(f);
}

/* --- retention ---------------------------------------------------------------------------- */

/* Two 4 MiB blocks, four 1 MiB allocations each; returns the allocations. */
static void fill_two_blocks(struct fx *f, struct vgalloc_mem *mems[8])
{
	for (int i = 0; i < 8; i++) {
		mems[i] = alloc_ok(f, TYPE_HOST_COHERENT, MiB);
	}
	assert_int_equal(stats(f).blocks, 2);
	assert_int_equal(stats(f).block_bytes, 8 * MiB);
	/* One host allocation (host-first) or import (guest-first) per block. */
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_HOST_ALLOC] +
	                         fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_HOST_IMPORT],
	                 2);
}

static void pool_free__retains_up_to_the_cap(void **state)
{
	struct fx *f = pfx_new(&(struct fx_opts){ 0 }, &(struct pool_opts){ .retain_bytes = 4 * MiB,
	                                                                    .min_block = 4 * MiB });
	struct vgalloc_mem *mems[8];
	struct vgalloc_stats st;

	(void)state;
	fill_two_blocks(f, mems);
	vgalloc_mock_reset_counters(f->mock);
	/* The first block to empty is kept: it fits under the cap. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
	}
	expect_no_calls(f->mock);
	st = stats(f);
	assert_int_equal(st.blocks, 2);
	assert_int_equal(st.retained_bytes, 4 * MiB);
	assert_int_equal(pool_stats(f, 0).retained_bytes, 4 * MiB);
	/* The second is beyond it: released at once, at free time. */
	for (int i = 4; i < 8; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
	}
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(HOST_FREE));
	st = stats(f);
	assert_int_equal(st.blocks, 1);
	assert_int_equal(st.block_bytes, 4 * MiB);
	assert_int_equal(st.retained_bytes, 4 * MiB);
	assert_int_equal(st.block_releases, 1);
	assert_stats_consistent(f);

	/* A retained block is reused: no new host allocation, and it is no longer retained. */
	mems[0] = alloc_ok(f, TYPE_HOST_COHERENT, 4096);
	expect_no_calls(f->mock);
	st = stats(f);
	assert_int_equal(st.retained_bytes, 0);
	assert_int_equal(pool_stats(f, 0).retained_bytes, 0);
	/* Trim leaves a block in use alone. */
	assert_int_equal(vgalloc_device_trim(f->dev), 0);
	expect_no_calls(f->mock);
	assert_int_equal(vgalloc_mem_free(f->dev, mems[0]), 0);
	assert_int_equal(stats(f).retained_bytes, 4 * MiB);
	assert_int_equal(vgalloc_device_trim(f->dev), 1);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(HOST_FREE));
	st = stats(f);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.retained_bytes, 0);
	assert_stats_consistent(f);
	fx_free(f);
}

static void pool_free__retains_everything_with_no_cap(void **state)
{
	struct fx *f =
	        pfx_new(&(struct fx_opts){ 0 },
	                &(struct pool_opts){ .retain_bytes = UINT64_MAX, .min_block = 4 * MiB });
	struct vgalloc_mem *mems[8];
	struct vgalloc_stats st;

	(void)state;
	fill_two_blocks(f, mems);
	vgalloc_mock_reset_counters(f->mock);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
	}
	expect_no_calls(f->mock);
	st = stats(f);
	assert_int_equal(st.blocks, 2);
	assert_int_equal(st.retained_bytes, 8 * MiB);
	assert_int_equal(pool_stats(f, 0).retained_bytes, 8 * MiB);
	assert_stats_consistent(f);
	assert_int_equal(vgalloc_device_trim(f->dev), 2);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(HOST_FREE), CALL(HOST_WAIT), CALL(HOST_FREE));
	st = stats(f);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.retained_bytes, 0);
	assert_int_equal(st.block_releases, 2);
	fx_free(f);
}

/* --- ENOSPC ------------------------------------------------------------------------------- */

static bool trace_has(struct vgalloc_mock *mock, uint32_t call, int result)
{
	static struct vgalloc_mock_trace_entry e[4096];
	int n = vgalloc_mock_get_trace(mock, e, 4096);

	for (int i = 0; i < n; i++) {
		if (e[i].call == call && e[i].result == result) {
			return true;
		}
	}
	return false;
}

/* Two mapped host-first blocks fill an 8 MiB window; a dedicated blob gets it after a trim. */
static void mem_alloc__enospc_trims_retained_blocks_and_retries(void **state)
{
	struct fx *f = pfx_new(&(struct fx_opts){ .window = 8 * MiB },
	                       &(struct pool_opts){ .min_block = 4 * MiB });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4 * MiB);
	struct vgalloc_mem *mems[8], *big = NULL;
	struct vgalloc_stats st;
	void *p;

	(void)state;
	fill_two_blocks(f, mems);
	assert_int_equal(vgalloc_mem_map(f->dev, mems[0], &p), 0);
	assert_int_equal(vgalloc_mem_map(f->dev, mems[7], &p), 0);
	assert_int_equal(fx_ledger(f->mock).window_bytes, 8 * MiB);
	assert_int_equal(pool_stats(f, 0).window_bytes, 8 * MiB);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
	}
	st = stats(f);
	assert_int_equal(st.retained_bytes, 8 * MiB);
	assert_int_equal(st.enospc_events, 0);

	/* Exported: host-first eager, its blob needs the window at allocation time. */
	vgalloc_mock_reset_counters(f->mock);
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &big), 0);
	assert_true(trace_has(f->mock, VGALLOC_MOCK_CALL_BLOB_CREATE, -ENOSPC));
	assert_true(trace_has(f->mock, VGALLOC_MOCK_CALL_BLOB_DESTROY, 0));
	assert_true(trace_has(f->mock, VGALLOC_MOCK_CALL_BLOB_CREATE, 0));
	st = stats(f);
	assert_true(st.enospc_events >= 1);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.retained_bytes, 0);
	assert_int_equal(st.block_releases, 2);
	assert_int_equal(fx_ledger(f->mock).window_bytes, 4 * MiB);
	assert_int_equal(vgalloc_mem_map(f->dev, big, &p), 0);
	memset(p, 0xa5, 4 * MiB);
	assert_int_equal(vgalloc_mem_free(f->dev, big), 0);
	fx_free(f);
}

/* Guest-first: blocks hold the window from creation; another pool's growth trims them. */
static void pool_alloc__enospc_at_growth_trims_other_pools(void **state)
{
	struct fx *f = pfx_new(
	        &(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC, .window = 8 * MiB },
	        &(struct pool_opts){ .min_block = 4 * MiB });
	struct vgalloc_mem *mems[8], *other;
	struct vgalloc_stats st;
	void *p;

	(void)state;
	fill_two_blocks(f, mems);
	assert_int_equal(fx_ledger(f->mock).window_bytes, 8 * MiB);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
	}
	vgalloc_mock_reset_counters(f->mock);
	/* Another memory type is another pool, and it needs a block of its own. */
	other = alloc_ok(f, TYPE_HOST_CACHED, 64 * KiB);
	assert_true(trace_has(f->mock, VGALLOC_MOCK_CALL_BLOB_CREATE, -ENOSPC));
	st = stats(f);
	assert_true(st.enospc_events >= 1);
	assert_int_equal(st.pools, 2);
	assert_int_equal(st.blocks, 1);
	assert_int_equal(st.retained_bytes, 0);
	assert_int_equal(pool_stats(f, 0).blocks, 0);
	assert_int_equal(pool_stats(f, 1).blocks, 1);
	assert_int_equal(vgalloc_mem_map(f->dev, other, &p), 0);
	memset(p, 1, 64 * KiB);
	assert_stats_consistent(f);
	assert_int_equal(vgalloc_mem_free(f->dev, other), 0);
	fx_free(f);
}

/* With nothing retained there is nothing to trim: the ENOSPC is reported. */
static void pool_alloc__enospc_with_nothing_to_trim_is_reported(void **state)
{
	struct fx *f = pfx_new(
	        &(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC, .window = 8 * MiB },
	        &(struct pool_opts){ .min_block = 4 * MiB });
	struct vgalloc_request r = fx_req(TYPE_HOST_CACHED, 64 * KiB);
	struct vgalloc_mem *mems[8], *other = NULL;

	(void)state;
	fill_two_blocks(f, mems);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &other), -ENOSPC);
	assert_null(other);
	assert_int_equal(stats(f).blocks, 2);
	assert_stats_consistent(f);
	assert_int_equal(vgalloc_mem_free(f->dev, mems[0]), 0);
	/* Still full: the block with three live allocations cannot go. */
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &other), -ENOSPC);
	for (int i = 1; i < 8; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
	}
	other = alloc_ok(f, TYPE_HOST_CACHED, 64 * KiB);
	assert_int_equal(vgalloc_mem_free(f->dev, other), 0);
	fx_free(f);
}

/* --- block sizing ------------------------------------------------------------------------- */

/*
 * One request into an empty pool grows it by one block, whatever its size and alignment hint:
 * vgalloc__pool_alloc loops on -ENOSPC, so a block too small for the allocator's good-fit search
 * (or for the slab the size is served from) means more blocks, each kept (empty, never retained,
 * never trimmed) until the device goes.
 */
static void pool_alloc__one_request_grows_one_block(void **state)
{
	static const struct {
		uint64_t size, align, min_block;
	} cases[] = {
		{ 4 * MiB, 64 * KiB, 0 }, /* default settings: a 4 MiB image aligned to 64 KiB */
		{ 4 * MiB, 4 * MiB, 0 },
		{ 3 * MiB, 2 * MiB, 0 },
		{ 1 * MiB, 256 * KiB, 0 },
		{ 3 * MiB + 4096, 0, 1 * MiB },
		{ 2 * MiB, 1 * MiB, 1 * MiB },
		{ 8 * KiB, 0,
		  16 * KiB }, /* a slab-served size whose slab is larger than the block */
	};

	uint32_t bad = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = pfx_new(&(struct fx_opts){ 0 },
		                       &(struct pool_opts){ .min_block = cases[i].min_block });
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, cases[i].size);
		struct vgalloc_mem *mem = NULL;
		struct vgalloc_stats st;

		r.alignment = cases[i].align;
		assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
		assert_int_equal(mem_info(f, mem).offset % (cases[i].align ? cases[i].align : 4096),
		                 0);
		st = stats(f);
		if (st.blocks != 1) {
			print_message("  request %llu align %llu min block %llu: %llu blocks (%llu "
			              "bytes) created\n",
			              (unsigned long long)cases[i].size,
			              (unsigned long long)cases[i].align,
			              (unsigned long long)cases[i].min_block,
			              (unsigned long long)st.blocks,
			              (unsigned long long)st.block_bytes);
			bad++;
		}
		assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
		/* Every block a pool made comes back with a trim once nothing lives in it. */
		vgalloc_device_trim(f->dev);
		st = stats(f);
		if (st.blocks) {
			print_message(
			        "    ... and %llu empty blocks (%llu bytes) survive the trim\n",
			        (unsigned long long)st.blocks, (unsigned long long)st.block_bytes);
			bad++;
		}
		fx_free(f);
	}
	assert_int_equal(bad, 0);
}

/* --- faults ------------------------------------------------------------------------------- */

static void assert_pool_usable(struct fx *f, uint32_t type)
{
	struct vgalloc_mem *m = alloc_ok(f, type, 12345);
	unsigned char *p;

	assert_int_equal(vgalloc_mem_map(f->dev, m, (void **)&p), 0);
	memset(p, 0x3c, 12345);
	assert_int_equal(p[12344], 0x3c);
	assert_int_equal(vgalloc_mem_free(f->dev, m), 0);
}

static void pool_alloc__host_alloc_fault_at_growth(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem *mem = NULL;
	struct vgalloc_stats st;

	(void)state;
	assert_int_equal(vgalloc_mock_fail_nth(f->mock, VGALLOC_MOCK_CALL_HOST_ALLOC, 1, EIO), 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EIO);
	assert_true(vgalloc_mock_fail_fired(f->mock));
	assert_null(mem);
	st = stats(f);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.suballocs_live, 0);
	assert_int_equal(fx_ledger(f->mock).host_allocs, 0);
	assert_stats_consistent(f);
	assert_pool_usable(f, TYPE_HOST_COHERENT);
	fx_free(f);
}

/* A pool with live allocations whose next block fails keeps what it has. */
static void pool_alloc__fault_growing_a_second_block(void **state)
{
	struct fx *f = pfx_new(&(struct fx_opts){ 0 }, &(struct pool_opts){ .min_block = 4 * MiB });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, MiB);
	struct vgalloc_mem *mems[5] = { 0 };
	unsigned char *p[4];

	(void)state;
	for (int i = 0; i < 4; i++) {
		mems[i] = alloc_ok(f, TYPE_HOST_COHERENT, MiB);
		assert_int_equal(vgalloc_mem_map(f->dev, mems[i], (void **)&p[i]), 0);
		memset(p[i], i + 1, MiB);
	}
	assert_int_equal(vgalloc_mock_fail_nth(f->mock, VGALLOC_MOCK_CALL_HOST_ALLOC, 1, ENOMEM),
	                 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mems[4]), -ENOMEM);
	assert_int_equal(stats(f).blocks, 1);
	assert_int_equal(stats(f).suballocs_live, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(p[i][0], i + 1);
		assert_int_equal(p[i][MiB - 1], i + 1);
	}
	mems[4] = alloc_ok(f, TYPE_HOST_COHERENT, MiB);
	assert_int_equal(stats(f).blocks, 2);
	assert_stats_consistent(f);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
	}
	fx_free(f);
}

/* The block's blob is made at the first map: a failure there leaves the block to retry. */
static void pool_map__fault_at_first_map(void **state)
{
	static const uint32_t calls[] = { VGALLOC_MOCK_CALL_HOST_WAIT,
		                          VGALLOC_MOCK_CALL_BLOB_CREATE,
		                          VGALLOC_MOCK_CALL_BLOB_MAP };
	static const bool wait_cmd[] = { false, true };

	(void)state;
	for (size_t w = 0; w < 2; w++) {
		for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
			struct fx *f = fx_new(&(struct fx_opts){
			        .hooks_flags = wait_cmd[w] ? VGALLOC_MOCK_HOOKS_WAIT_CMD : 0 });
			struct vgalloc_mem *a = alloc_ok(f, TYPE_HOST_COHERENT, 8192);
			struct vgalloc_mem *b = alloc_ok(f, TYPE_HOST_COHERENT, 8192);
			unsigned char *p = NULL, *q = NULL;
			int ret;

			assert_int_equal(vgalloc_mock_fail_nth(f->mock, calls[i], 1, ENOMEM), 0);
			ret = vgalloc_mem_map(f->dev, a, (void **)&p);
			assert_true(vgalloc_mock_fail_fired(f->mock));
			assert_true(ret < 0);
			assert_null(p);
			assert_int_equal(fx_ledger(f->mock).mapped_blobs, 0);
			/* Another member maps fine afterwards, and so does the first. */
			assert_int_equal(vgalloc_mem_map(f->dev, b, (void **)&q), 0);
			assert_int_equal(vgalloc_mem_map(f->dev, a, (void **)&p), 0);
			memset(p, 1, 8192);
			memset(q, 2, 8192);
			assert_int_equal(p[8191], 1);
			assert_int_equal(fx_ledger(f->mock).live_blobs, 1);
			assert_int_equal(fx_ledger(f->mock).mapped_blobs, 1);
			assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
			assert_int_equal(vgalloc_mem_free(f->dev, b), 0);
			assert_stats_consistent(f);
			assert_pool_usable(f, TYPE_HOST_COHERENT);
			fx_free(f);
		}
	}
}

static void pool_alloc__guest_first_faults_at_growth(void **state)
{
	static const uint32_t calls[] = { VGALLOC_MOCK_CALL_BLOB_CREATE,
		                          VGALLOC_MOCK_CALL_HOST_ROUNDTRIP,
		                          VGALLOC_MOCK_CALL_HOST_IMPORT };

	(void)state;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct fx *f = fx_new(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC });
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
		struct vgalloc_mem *mem = NULL;
		struct vgalloc_mock_ledger l;

		assert_int_equal(vgalloc_mock_fail_nth(f->mock, calls[i], 1, EIO), 0);
		assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EIO);
		assert_true(vgalloc_mock_fail_fired(f->mock));
		assert_null(mem);
		/* Whatever the block had made is gone again. */
		l = fx_ledger(f->mock);
		assert_int_equal(l.live_blobs, 0);
		assert_int_equal(l.live_handles, 0);
		assert_int_equal(l.host_allocs, 0);
		assert_int_equal(l.window_bytes, 0);
		assert_int_equal(stats(f).blocks, 0);
		assert_stats_consistent(f);
		assert_pool_usable(f, TYPE_HOST_COHERENT);
		fx_free(f);
	}
}

/* --- statistics --------------------------------------------------------------------------- */

static void pool_stats__counters_and_walk_agree(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_mem *mems[40];
	struct vgalloc_pool_stats ps;
	struct vgalloc_stats st;
	uint64_t requested = 0;
	void *p;

	(void)state;
	for (int i = 0; i < 40; i++) {
		uint64_t size = (uint64_t)(i * 7919 % 300000) + 1;

		mems[i] = alloc_ok(f, i % 4 ? TYPE_HOST_COHERENT : TYPE_HOST_CACHED, size);
		requested += size;
	}
	assert_int_equal(vgalloc_mem_map(f->dev, mems[1], &p), 0);
	st = stats(f);
	assert_int_equal(st.pools, 2);
	assert_int_equal(st.suballocs_live, 40);
	assert_int_equal(st.suballoc_bytes, requested);
	assert_stats_consistent(f);
	ps = pool_stats(f, 0);
	assert_true(ps.live > 0);
	assert_true(ps.slabs > 0);
	assert_true(ps.metadata_bytes > 0);
	assert_true(ps.used_bytes >= ps.requested_bytes);
	/* Only the mapped (blob-backed) pool's blocks hold window. */
	assert_int_equal(ps.window_bytes + pool_stats(f, 1).window_bytes,
	                 fx_ledger(f->mock).window_bytes);
	/* Struct sizes and indices are checked. */
	ps.struct_size = 8;
	assert_int_equal(vgalloc_device_get_pool_stats(f->dev, 0, &ps), -EINVAL);
	assert_int_equal(vgalloc_device_get_pool_stats(f->dev, 0, NULL), -EINVAL);
	assert_int_equal(vgalloc_device_get_pool_stats(NULL, 0, &ps), -EINVAL);
	ps.struct_size = sizeof(ps);
	assert_int_equal(vgalloc_device_get_pool_stats(f->dev, 2, &ps), -ENOENT);
	assert_int_equal(vgalloc_device_trim(NULL), -EINVAL);
	for (int i = 0; i < 40; i += 2) {
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
		requested -= (uint64_t)(i * 7919 % 300000) + 1;
	}
	assert_int_equal(stats(f).suballoc_bytes, requested);
	assert_int_equal(stats(f).suballocs_live, 20);
	assert_stats_consistent(f);
	for (int i = 1; i < 40; i += 2) {
		assert_int_equal(vgalloc_mem_free(f->dev, mems[i]), 0);
	}
	st = stats(f);
	assert_int_equal(st.suballocs_live, 0);
	assert_int_equal(st.suballoc_bytes, 0);
	assert_int_equal(st.retained_bytes, st.block_bytes);
	assert_stats_consistent(f);
	fx_free(f);
}

static void stats_json__keys_and_truncation(void **state)
{
	static const char *const keys[] = {
		"\"blobs_live\":",
		"\"enospc_events\":",
		"\"pools\":",
		"\"blocks\":",
		"\"block_bytes\":",
		"\"retained_bytes\":",
		"\"suballocs_live\":",
		"\"suballoc_bytes\":",
		"\"block_creations\":",
		"\"block_releases\":",
		"\"pool_detail\":[{",
		"\"pool_key\":",
		"\"used_bytes\":",
		"\"requested_bytes\":",
		"\"largest_free\":",
		"\"slabs\":",
		"\"live\":",
		"\"window_bytes\":",
	};
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_mem *m = alloc_ok(f, TYPE_HOST_COHERENT, 1000);
	char small[17], *buf;
	int n;

	(void)state;
	n = vgalloc_device_stats_json(f->dev, NULL, 0);
	assert_true(n > 0);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	memset(buf, 'x', (size_t)n + 1);
	assert_int_equal(vgalloc_device_stats_json(f->dev, buf, (size_t)n + 1), n);
	assert_int_equal(strlen(buf), n);
	assert_int_equal(buf[0], '{');
	assert_string_equal(buf + n - 2, "]}");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!strstr(buf, keys[i])) {
			fail_msg("%s missing from %s", keys[i], buf);
		}
	}
	assert_non_null(strstr(buf, "\"suballocs_live\":1,"));
	/* Exactly n bytes: truncated by one, still terminated. */
	memset(buf, 'x', (size_t)n + 1);
	assert_int_equal(vgalloc_device_stats_json(f->dev, buf, (size_t)n), n);
	assert_int_equal(strlen(buf), n - 1);
	/* Truncated: NUL-terminated, the full length returned. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(vgalloc_device_stats_json(f->dev, small, sizeof(small)), n);
	assert_int_equal(small[sizeof(small) - 1], 0);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, buf, sizeof(small) - 1);
	memset(small, 'x', sizeof(small));
	assert_int_equal(vgalloc_device_stats_json(f->dev, small, 1), n);
	assert_int_equal(small[0], 0);
	assert_int_equal(small[1], 'x');
	assert_int_equal(vgalloc_device_stats_json(f->dev, NULL, 5), -EINVAL);
	assert_int_equal(vgalloc_device_stats_json(NULL, small, sizeof(small)), -EINVAL);
	free(buf);
	assert_int_equal(vgalloc_mem_free(f->dev, m), 0);
	fx_free(f);
}

/* --- threads ------------------------------------------------------------------------------ */

#define STRESS_THREADS 4
#define STRESS_LOCAL   64
#define STRESS_SHARED  256

struct stress_item {
	struct vgalloc_mem *mem;
	unsigned char *ptr; /* NULL when never mapped */
	uint64_t size;
	uint64_t tag;
};

struct stress {
	struct fx *f;
	uint32_t ops_per_thread;
	uint64_t seed;
	pthread_mutex_t lock;
	struct stress_item shared[STRESS_SHARED];
	uint32_t nshared;
	uint64_t cross_frees, maps, failures;
};

struct stress_thread {
	struct stress *s;
	uint32_t id;
};

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Each mapped allocation carries its tag at both ends: an overlap would clobber one. */
static void stamp(struct stress_item *it)
{
	memcpy(it->ptr, &it->tag, sizeof(it->tag));
	memcpy(it->ptr + it->size - sizeof(it->tag), &it->tag, sizeof(it->tag));
}

static bool stamp_ok(const struct stress_item *it)
{
	uint64_t a, b;

	if (!it->ptr) {
		return true;
	}
	memcpy(&a, it->ptr, sizeof(a));
	memcpy(&b, it->ptr + it->size - sizeof(b), sizeof(b));
	return a == it->tag && b == it->tag;
}

static bool stress_free(struct stress *s, struct stress_item *it)
{
	bool ok = stamp_ok(it) && vgalloc_mem_free(s->f->dev, it->mem) == 0;

	if (!ok) {
		pthread_mutex_lock(&s->lock);
		s->failures++;
		pthread_mutex_unlock(&s->lock);
	}
	return ok;
}

static void *stress_thread(void *arg)
{
	struct stress_thread *t = arg;
	struct stress *s = t->s;
	struct stress_item local[STRESS_LOCAL];
	uint32_t n = 0;
	uint64_t rng = s->seed ^ ((uint64_t)(t->id + 1) * 0x9e3779b97f4a7c15ull);
	uint64_t counter = 0;

	for (uint32_t op = 0; op < s->ops_per_thread; op++) {
		uint64_t r = xorshift(&rng);

		/* Trims and statistics walks race with everything else. */
		if (t->id == 0 && op % 1024 == 512) {
			if (vgalloc_device_trim(s->f->dev) < 0) {
				pthread_mutex_lock(&s->lock);
				s->failures++;
				pthread_mutex_unlock(&s->lock);
			}
		} else if (t->id == 1 && op % 1024 == 256) {
			struct vgalloc_pool_stats ps = { .struct_size = sizeof(ps) };
			char json[256];

			vgalloc_device_get_pool_stats(s->f->dev, 0, &ps);
			vgalloc_device_stats_json(s->f->dev, json, sizeof(json));
		}

		if (n < STRESS_LOCAL && (n < 8 || r % 3 == 0)) {
			struct stress_item it = { 0 };
			struct vgalloc_request req;
			uint64_t pick = xorshift(&rng) % 16;

			it.size = pick < 10   ? xorshift(&rng) % 4096 + 16
			          : pick < 15 ? xorshift(&rng) % (64 * KiB) + 16
			                      : xorshift(&rng) % MiB + 16;
			req = fx_req(TYPE_HOST_COHERENT, it.size);
			if (vgalloc_mem_alloc(s->f->dev, &req, &it.mem)) {
				pthread_mutex_lock(&s->lock);
				s->failures++;
				pthread_mutex_unlock(&s->lock);
				continue;
			}
			it.tag = ((uint64_t)t->id << 56) | ++counter;
			if (xorshift(&rng) % 2 == 0) {
				if (vgalloc_mem_map(s->f->dev, it.mem, (void **)&it.ptr)) {
					it.ptr = NULL;
					pthread_mutex_lock(&s->lock);
					s->failures++;
					pthread_mutex_unlock(&s->lock);
				} else {
					stamp(&it);
					if (xorshift(&rng) % 4 == 0) {
						/* The block stays mapped: the pointer stays good. */
						vgalloc_mem_unmap(s->f->dev, it.mem);
					}
				}
			}
			local[n++] = it;
		} else if (n && r % 3 == 1) {
			/* Hand one over to whichever thread comes next. */
			uint32_t i = (uint32_t)(xorshift(&rng) % n);
			bool handed = false;

			pthread_mutex_lock(&s->lock);
			if (s->nshared < STRESS_SHARED) {
				s->shared[s->nshared++] = local[i];
				handed = true;
			}
			pthread_mutex_unlock(&s->lock);
			if (!handed) {
				stress_free(s, &local[i]);
			}
			local[i] = local[--n];
		} else {
			/* Free one of ours, or one another thread handed over. */
			struct stress_item it = { 0 };

			pthread_mutex_lock(&s->lock);
			if (s->nshared && (r & 8)) {
				it = s->shared[--s->nshared];
				s->cross_frees++;
			}
			pthread_mutex_unlock(&s->lock);
			if (it.mem) {
				stress_free(s, &it);
			} else if (n) {
				uint32_t i = (uint32_t)(xorshift(&rng) % n);

				stress_free(s, &local[i]);
				local[i] = local[--n];
			}
		}
	}
	while (n) {
		stress_free(s, &local[--n]);
	}
	return NULL;
}

static void stress_run(uint32_t shards, uint32_t total)
{
	struct stress *s = calloc(1, sizeof(*s));
	pthread_t th[STRESS_THREADS];
	struct stress_thread args[STRESS_THREADS];
	struct vgalloc_stats st;

	assert_non_null(s);
	s->f = pfx_new(&(struct fx_opts){ 0 }, &(struct pool_opts){ .shards = shards });
	s->ops_per_thread = total / STRESS_THREADS;
	s->seed = 0x7e57ab1e5eedull ^ shards;
	pthread_mutex_init(&s->lock, NULL);
	for (uint32_t i = 0; i < STRESS_THREADS; i++) {
		args[i] = (struct stress_thread){ s, i };
		assert_int_equal(pthread_create(&th[i], NULL, stress_thread, &args[i]), 0);
	}
	for (uint32_t i = 0; i < STRESS_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
	}
	while (s->nshared) {
		stress_free(s, &s->shared[--s->nshared]);
	}
	st = stats(s->f);
	print_message("  %u shard(s): %u threads x %u ops, seed %#llx: %llu cross-thread frees, "
	              "%llu blocks created, %llu released\n",
	              shards ? shards : 4, STRESS_THREADS, s->ops_per_thread,
	              (unsigned long long)s->seed, (unsigned long long)s->cross_frees,
	              (unsigned long long)st.block_creations,
	              (unsigned long long)st.block_releases);
	assert_int_equal(s->failures, 0);
	assert_true(s->cross_frees > 0);
	assert_int_equal(st.pools, 1);
	assert_int_equal(st.suballocs_live, 0);
	assert_int_equal(st.suballoc_bytes, 0);
	assert_int_equal(st.mems_live, 0);
	assert_int_equal(st.retained_bytes, st.block_bytes);
	assert_stats_consistent(s->f);
	assert_int_equal(pool_stats(s->f, 0).live, 0);
	assert_int_equal(pool_stats(s->f, 0).requested_bytes, 0);
	assert_int_equal(pool_stats(s->f, 0).used_bytes, 0);
	assert_int_equal(vgalloc_device_trim(s->f->dev), (int)st.blocks);
	st = stats(s->f);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.block_bytes, 0);
	assert_int_equal(st.retained_bytes, 0);
	pthread_mutex_destroy(&s->lock);
	fx_free(s->f);
	free(s);
}

/* Four threads on one pool: default shards, then all on one shard lock. */
static void pool__threaded_stress_with_cross_thread_frees(void **state)
{
	uint32_t total = test_scale(200000);

	(void)state;
	stress_run(0, total / 2);
	stress_run(1, total - total / 2);
}

/* --- a free racing a first map ----------------------------------------------------------- */

/*
 * host_wait or host_alloc, held at a gate: the first call of the armed kind waits until the test
 * opens it, so that the test acts while a block is being mapped or created.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t armed; /* VGALLOC_MOCK_CALL_HOST_WAIT or _HOST_ALLOC; 0 = open */
	bool inside, release;
	int (*host_wait)(void *ctx, uint64_t token, uint32_t flags, void *cmd,
	                 uint32_t *inout_cmd_size);
	int (*host_alloc)(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
	                  struct vgalloc_host_result *out);
} gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false, false, NULL, NULL };

static void gate_pass(uint32_t call)
{
	pthread_mutex_lock(&gate.lock);
	if (gate.armed == call) {
		/* Only the first caller waits. */
		gate.armed = 0;
		gate.inside = true;
		pthread_cond_broadcast(&gate.cond);
		while (!gate.release) {
			pthread_cond_wait(&gate.cond, &gate.lock);
		}
	}
	pthread_mutex_unlock(&gate.lock);
}

static int gated_host_wait(void *ctx, uint64_t token, uint32_t flags, void *cmd,
                           uint32_t *inout_cmd_size)
{
	gate_pass(VGALLOC_MOCK_CALL_HOST_WAIT);
	return gate.host_wait(ctx, token, flags, cmd, inout_cmd_size);
}

static int gated_host_alloc(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                            struct vgalloc_host_result *out)
{
	gate_pass(VGALLOC_MOCK_CALL_HOST_ALLOC);
	return gate.host_alloc(ctx, user_data, args, out);
}

static void gate_hooks(struct vgalloc_host_hooks *hooks)
{
	gate.host_wait = hooks->host_wait;
	hooks->host_wait = gated_host_wait;
	gate.host_alloc = hooks->host_alloc;
	hooks->host_alloc = gated_host_alloc;
}

static void gate_arm(uint32_t call)
{
	pthread_mutex_lock(&gate.lock);
	gate.armed = call;
	gate.inside = gate.release = false;
	pthread_mutex_unlock(&gate.lock);
}

static void gate_wait_inside(void)
{
	pthread_mutex_lock(&gate.lock);
	while (!gate.inside) {
		pthread_cond_wait(&gate.cond, &gate.lock);
	}
	pthread_mutex_unlock(&gate.lock);
}

static void gate_open(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.release = true;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
}

struct map_call {
	struct fx *f;
	struct vgalloc_mem *mem;
	void *ptr;
	int ret;
};

static void *map_thread(void *arg)
{
	struct map_call *c = arg;

	c->ret = vgalloc_mem_map(c->f->dev, c->mem, &c->ptr);
	return NULL;
}

/*
 * vgalloc_mem_free() promises -EBUSY while another thread is in vgalloc_mem_map() on the same
 * memory (an application race, caught): a suballocation whose block is being mapped for the
 * first time is no exception.
 */
static void pool_free__during_first_map_is_ebusy(void **state)
{
	struct fx *f =
	        pfx_new(&(struct fx_opts){ 0 }, &(struct pool_opts){ .wrap_hooks = gate_hooks });
	struct map_call c = { .f = f };
	struct vgalloc_mem *other;
	pthread_t th;
	int free_ret;

	(void)state;
	c.mem = alloc_ok(f, TYPE_HOST_COHERENT, 4096);
	other = alloc_ok(f, TYPE_HOST_COHERENT, 4096);
	gate_arm(VGALLOC_MOCK_CALL_HOST_WAIT);
	assert_int_equal(pthread_create(&th, NULL, map_thread, &c), 0);
	gate_wait_inside();
	/* The map thread is inside host_wait for the block's blob. */
	free_ret = vgalloc_mem_free(f->dev, c.mem);
	gate_open();
	assert_int_equal(pthread_join(th, NULL), 0);
	/* Clean up first, so that a failure leaves nothing behind. */
	if (free_ret == -EBUSY) {
		assert_int_equal(c.ret, 0);
		memset(c.ptr, 1, 4096);
		assert_int_equal(vgalloc_mem_free(f->dev, c.mem), 0);
	}
	assert_int_equal(vgalloc_mem_free(f->dev, other), 0);
	fx_free(f);
	assert_int_equal(free_ret, -EBUSY);
}

static void *alloc_thread(void *arg)
{
	struct map_call *c = arg;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

	c->ret = vgalloc_mem_alloc(c->f->dev, &r, &c->mem);
	return NULL;
}

/*
 * Two threads grow one shard at once (the lock is dropped while a block is created): both
 * blocks join the pool, and whichever ends up unused must still be retained or released, so a
 * trim after the last free leaves no block behind.
 */
static void pool_alloc__concurrent_growth_leaves_no_untracked_block(void **state)
{
	struct fx *f = pfx_new(&(struct fx_opts){ 0 },
	                       &(struct pool_opts){ .shards = 1, .wrap_hooks = gate_hooks });
	struct map_call c = { .f = f };
	struct vgalloc_mem *mine;
	struct vgalloc_stats st;
	uint64_t left;
	pthread_t th;

	(void)state;
	gate_arm(VGALLOC_MOCK_CALL_HOST_ALLOC);
	assert_int_equal(pthread_create(&th, NULL, alloc_thread, &c), 0);
	/* The other thread is creating the pool's first block, with the shard unlocked. */
	gate_wait_inside();
	mine = alloc_ok(f, TYPE_HOST_COHERENT, 4096);
	gate_open();
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(c.ret, 0);
	st = stats(f);
	print_message("  %llu blocks for two 4 KiB allocations\n", (unsigned long long)st.blocks);
	assert_int_equal(vgalloc_mem_free(f->dev, mine), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, c.mem), 0);
	st = stats(f);
	vgalloc_device_trim(f->dev);
	left = stats(f).blocks;
	fx_free(f);
	/* Every empty block is either retained (and trimmable) or gone. */
	assert_int_equal(st.retained_bytes, st.block_bytes);
	assert_int_equal(left, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pool_alloc__host_first_golden_sequence),
		cmocka_unit_test(pool_alloc__host_first_mapped_golden),
		cmocka_unit_test(pool_alloc__never_mapped_makes_no_blob),
		cmocka_unit_test(pool_alloc__guest_first_golden),
		cmocka_unit_test(pool_alloc__guest_first_mapped_golden),
		cmocka_unit_test(pool_alloc__offsets_follow_the_pool_base_alignment),
		cmocka_unit_test(device_destroy__releases_pools_with_live_suballocations),
		cmocka_unit_test(pool_free__retains_up_to_the_cap),
		cmocka_unit_test(pool_free__retains_everything_with_no_cap),
		cmocka_unit_test(mem_alloc__enospc_trims_retained_blocks_and_retries),
		cmocka_unit_test(pool_alloc__enospc_at_growth_trims_other_pools),
		cmocka_unit_test(pool_alloc__enospc_with_nothing_to_trim_is_reported),
		cmocka_unit_test(pool_alloc__one_request_grows_one_block),
		cmocka_unit_test(pool_alloc__host_alloc_fault_at_growth),
		cmocka_unit_test(pool_alloc__fault_growing_a_second_block),
		cmocka_unit_test(pool_map__fault_at_first_map),
		cmocka_unit_test(pool_alloc__guest_first_faults_at_growth),
		cmocka_unit_test(pool_stats__counters_and_walk_agree),
		cmocka_unit_test(stats_json__keys_and_truncation),
		cmocka_unit_test(pool__threaded_stress_with_cross_thread_frees),
		cmocka_unit_test(pool_alloc__concurrent_growth_leaves_no_untracked_block),
		cmocka_unit_test(pool_free__during_first_map_is_ebusy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
