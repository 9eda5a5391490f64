/* SPDX-License-Identifier: MIT */
/*
 * Pools at their limits: more pool keys than pool slots, alignment hints larger than a block,
 * a full window at a first map, and block sizes on a host with large pages.
 * Covers: vgalloc_mem_alloc, vgalloc_mem_map, vgalloc_device_get_stats.
 */
#include "../harness.h"

static struct vgalloc_stats stats_of(struct vgalloc_device *dev)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	assert_int_equal(vgalloc_device_get_stats(dev, &st), 0);
	return st;
}

static void pool_alloc__more_keys_than_pools_fall_back_to_dedicated(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .mock_flags = VGALLOC_MOCK_COUNTING_ONLY });
	struct vgalloc_memory_type types[18], three[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mem *mem[70];
	struct vgalloc_stats st;

	(void)state;
	/* The host memory type and the allocate flags are part of the pool key. Only two allocate
	 * flags leave an allocation suballocatable (DEVICE_MASK, DEVICE_ADDRESS: 4 combinations),
	 * so 18 host-visible types make 72 keys; 70 of them for 64 pool slots. */
	fx_create_info(f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, three, &ci);
	for (uint32_t t = 0; t < 18; t++) {
		types[t] = three[TYPE_HOST_COHERENT];
		types[t].host_index = t;
	}
	ci.memory_types = types;
	ci.memory_type_count = 18;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	for (uint32_t i = 0; i < 70; i++) {
		struct vgalloc_request r = fx_req(i / 4, 4096);

		r.allocate_flags = i % 4; /* DEVICE_MASK (0x1), DEVICE_ADDRESS (0x2) */
		assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem[i]), 0);
	}
	st = stats_of(dev);
	assert_int_equal(st.pools, 64);
	assert_int_equal(st.suballocs_live, 64);
	assert_int_equal(st.mems_live, 6);
	/* Nothing was trimmed to make room: the window was never the problem. */
	assert_int_equal(st.block_releases, 0);
	for (uint32_t i = 0; i < 70; i++) {
		assert_int_equal(vgalloc_mem_free(dev, mem[i]), 0);
	}
	vgalloc_device_destroy(dev);
	fx_free(f);
}

static void pool_alloc__huge_alignment_hint_gets_its_own_blob(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .mock_flags = VGALLOC_MOCK_COUNTING_ONLY });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem *mem = NULL;
	struct vgalloc_stats st;
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };

	(void)state;
	/* The plan says so itself (it used to say "suballocate" and be overridden), for any
	 * hint above min(max_block_size, 4 MiB), and not for one at the limit. */
	r.alignment = 8ull << 20;
	assert_int_equal(vgalloc_plan_request(f->dev, &r, &plan), 0);
	assert_int_equal(plan.suballocate, 0);
	assert_int_equal(plan.no_suballoc, VGALLOC_NO_SUBALLOC_ALIGNMENT);
	assert_string_equal(vgalloc_no_suballoc_name(VGALLOC_NO_SUBALLOC_ALIGNMENT), "alignment");
	r.alignment = 4ull << 20;
	assert_int_equal(vgalloc_plan_request(f->dev, &r, &plan), 0);
	assert_int_equal(plan.suballocate, 1);
	r.alignment = 1ull << 28;
	assert_int_equal(vgalloc_plan_request(f->dev, &r, &plan), 0);
	assert_int_equal(plan.suballocate, 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	st = stats_of(f->dev);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.mems_live, 1);
	assert_int_equal(st.mem_bytes_committed, 4096);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	fx_free(f);
}

static void mem_map__window_full_at_first_map_trims_and_retries(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .window = 8u << 20 });
	struct vgalloc_request small = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_request big = fx_req(TYPE_HOST_COHERENT, 6u << 20);
	struct vgalloc_mem *a = NULL, *b = NULL;
	void *p;

	(void)state;
	/* A mapped 4 MiB block, then emptied: retained, still holding 4 MiB of the window. */
	assert_int_equal(vgalloc_mem_alloc(f->dev, &small, &a), 0);
	assert_int_equal(vgalloc_mem_map(f->dev, a, &p), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	assert_int_equal(stats_of(f->dev).retained_bytes, 4u << 20);
	/* Host-first lazy: the window is taken at the first map, which trims and retries. */
	big.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &big, &b), 0);
	assert_int_equal(vgalloc_mem_map(f->dev, b, &p), 0);
	assert_true(stats_of(f->dev).enospc_events >= 1);
	assert_int_equal(stats_of(f->dev).retained_bytes, 0);
	assert_int_equal(vgalloc_mem_free(f->dev, b), 0);
	fx_free(f);
}

static void pool_alloc__blocks_follow_the_blob_alignment(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ .host_page = 16384 });
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4u << 20);
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mem *mem = NULL;
	struct fx f = { .mock = mock };
	struct vgalloc_stats st;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
	fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
	ci.host_page_size = 16384;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	/* A 4 MiB suballocation needs a block a little over 4 MiB: rounded to 16 KiB, so the
	 * host allocation and the blob made from it have one size and the map works. */
	assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_map(dev, mem, &p), 0);
	st = stats_of(dev);
	assert_int_equal(st.block_bytes % 16384, 0);
	assert_int_equal(st.blob_bytes, st.block_bytes);
	assert_int_equal(vgalloc_mem_free(dev, mem), 0);
	vgalloc_device_destroy(dev);
	fx_assert_clean(mock);
	vgalloc_mock_destroy(mock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pool_alloc__more_keys_than_pools_fall_back_to_dedicated),
		cmocka_unit_test(pool_alloc__huge_alignment_hint_gets_its_own_blob),
		cmocka_unit_test(mem_map__window_full_at_first_map_trims_and_retries),
		cmocka_unit_test(pool_alloc__blocks_follow_the_blob_alignment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
