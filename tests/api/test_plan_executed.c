/* SPDX-License-Identifier: MIT */
/*
 * The plan is what runs: for every path, in both modes, the mock's trace of vgalloc_mem_alloc()
 * and of the first vgalloc_mem_map() is the plan's alloc_steps and map_steps, step for step, as
 * vgalloc_plan_request() reported them before the allocation. A suballocation's steps after
 * 'suballocate' are those of the block its pool makes (the first allocation of a pool makes one;
 * the second makes none and calls nothing).
 * Covers: vgalloc_plan_request, vgalloc_mem_alloc, vgalloc_mem_map.
 */
#include <unistd.h>

#include "../harness.h"

/* The plan step a mock call carries out; 0 for calls that are no step (GETPARAM and the like). */
static uint32_t step_of(uint32_t call, uint32_t path)
{
	switch (call) {
	case VGALLOC_MOCK_CALL_NEW_BLOB_ID:
		return VGALLOC_STEP_NEW_BLOB_ID;
	case VGALLOC_MOCK_CALL_HOST_ALLOC:
		return VGALLOC_STEP_HOST_ALLOC;
	case VGALLOC_MOCK_CALL_HOST_WAIT:
		return VGALLOC_STEP_HOST_WAIT;
	case VGALLOC_MOCK_CALL_BLOB_CREATE:
		return VGALLOC_STEP_CREATE_BLOB;
	case VGALLOC_MOCK_CALL_HOST_ROUNDTRIP:
		return path == VGALLOC_PATH_GUEST_HANDLE ? VGALLOC_STEP_PLACEHOLDER_SUBMIT
		                                         : VGALLOC_STEP_ROUNDTRIP;
	case VGALLOC_MOCK_CALL_HOST_IMPORT:
		return VGALLOC_STEP_HOST_IMPORT;
	case VGALLOC_MOCK_CALL_BLOB_IMPORT:
		return VGALLOC_STEP_PRIME_IMPORT;
	case VGALLOC_MOCK_CALL_BLOB_INFO:
		return VGALLOC_STEP_RESOURCE_INFO;
	case VGALLOC_MOCK_CALL_BLOB_MAP:
		return VGALLOC_STEP_MAP;
	default:
		return 0;
	}
}

/* The steps the mock saw since its last reset, in order. */
static uint32_t traced_steps(struct vgalloc_mock *mock, uint32_t path, uint32_t *steps,
                             uint32_t max)
{
	struct vgalloc_mock_trace_entry e[64];
	int n = vgalloc_mock_get_trace(mock, e, 64);
	uint32_t count = 0;

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		uint32_t s = step_of(e[i].call, path);

		if (s) {
			assert_true(count < max);
			steps[count++] = s;
		}
	}
	vgalloc_mock_reset_counters(mock);
	return count;
}

static void expect_steps(const char *what, const uint32_t *want, uint32_t want_n,
                         const uint32_t *got, uint32_t got_n)
{
	bool same = want_n == got_n;

	for (uint32_t i = 0; same && i < want_n; i++) {
		same = want[i] == got[i];
	}
	if (!same) {
		print_message("%s: plan", what);
		for (uint32_t i = 0; i < want_n; i++) {
			print_message(" %s", vgalloc_step_name(want[i]));
		}
		print_message("\n%s: ran ", what);
		for (uint32_t i = 0; i < got_n; i++) {
			print_message(" %s", vgalloc_step_name(got[i]));
		}
		print_message("\n");
	}
	assert_true(same);
}

/*
 * Plan, allocate and map one request; compare each phase's trace with the plan. Returns the
 * memory (freed by the caller) so that a second member of a pool can be checked against it.
 */
static struct vgalloc_mem *check(struct fx *f, const struct vgalloc_request *r, uint32_t path,
                                 bool first_of_pool, bool map)
{
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
	struct vgalloc_mem *mem = NULL;
	uint32_t got[16], n, skip;
	void *p;

	assert_int_equal(vgalloc_plan_request(f->dev, r, &plan), 0);
	assert_int_equal(plan.path, path);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_mem_alloc(f->dev, r, &mem), 0);
	n = traced_steps(f->mock, path, got, 16);
	/* 'suballocate' is the pool's range; the steps after it make a block, when one is made. */
	skip = plan.suballocate ? 1 : 0;
	if (plan.suballocate) {
		assert_int_equal(plan.alloc_steps[0], VGALLOC_STEP_SUBALLOCATE);
	}
	if (!plan.suballocate || first_of_pool) {
		expect_steps(vgalloc_path_name(path), plan.alloc_steps + skip,
		             plan.alloc_step_count - skip, got, n);
	} else {
		assert_int_equal(n, 0);
	}
	if (!map) {
		return mem;
	}
	if (plan.map_step_count) {
		assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), 0);
		n = traced_steps(f->mock, path, got, 16);
		if (!plan.suballocate || first_of_pool) {
			expect_steps(vgalloc_path_name(path), plan.map_steps, plan.map_step_count,
			             got, n);
		} else {
			assert_int_equal(n, 0); /* the block is mapped already */
		}
		assert_int_equal(vgalloc_mem_unmap(f->dev, mem), 0);
	} else {
		assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), -EINVAL);
	}
	return mem;
}

static void run_mode(uint32_t profile, bool guest_first)
{
	struct fx *f = fx_new(&(struct fx_opts){ .profile = profile });
	struct vgalloc_request r;
	struct vgalloc_mem *a, *b;
	uint32_t hv = guest_first ? VGALLOC_PATH_GUEST_FIRST : VGALLOC_PATH_HOST_FIRST_LAZY;
	uint64_t foreign = 0;
	int fd;

	/* Not host-visible, not exported: host memory and no blob, in both modes. */
	r = fx_req(TYPE_DEVICE_LOCAL, 65536);
	a = check(f, &r, VGALLOC_PATH_HOST_ONLY, true, true);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);

	/* Host-visible and dedicated: its own backing by the mode's path. */
	r = fx_req(TYPE_HOST_COHERENT, 65536);
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	a = check(f, &r, hv, true, true);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);

	/* Exported: its blob at allocation (host-first eager, or guest-first). */
	r = fx_req(TYPE_HOST_COHERENT, 65536);
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	a = check(f, &r, guest_first ? VGALLOC_PATH_GUEST_FIRST : VGALLOC_PATH_HOST_FIRST_EAGER,
	          true, true);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);

	/* Exported but not host-visible: its blob at allocation, and no map step (a map is
	 * refused whatever blob backs it). */
	r = fx_req(TYPE_DEVICE_LOCAL, 65536);
	r.export_handle_types = VGALLOC_HANDLE_TYPE_OPAQUE_FD;
	a = check(f, &r, guest_first ? VGALLOC_PATH_GUEST_FIRST : VGALLOC_PATH_HOST_FIRST_EAGER,
	          true, true);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);

	/* Suballocated: the first member's pool makes a block by the mode's path; the second
	 * member calls nothing at all. */
	r = fx_req(TYPE_HOST_COHERENT, 4096);
	a = check(f, &r, hv, true, true);
	b = check(f, &r, hv, false, true);
	assert_int_equal(vgalloc_mem_free(f->dev, b), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);

	/* Imported from another process's dma-buf (a foreign buffer: no dedup shortcut). */
	fd = fx_foreign_dmabuf(f, 16384, &foreign);
	r = fx_req(TYPE_HOST_COHERENT, 16384);
	r.flags = VGALLOC_REQUEST_IMPORT_FD;
	r.import_fd = fd;
	/* The foreign buffer is a host-first blob: a static host cannot map it (the mock models
	 * that), so guest-first checks its alloc steps only. */
	a = check(f, &r, VGALLOC_PATH_IMPORT, true, !guest_first);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	fx_foreign_release(f, fd, foreign);
	fx_free(f);
}

static void plan_executed__host_first(void **state)
{
	(void)state;
	run_mode(VGALLOC_MOCK_PROFILE_INJECTING, false);
}

static void plan_executed__guest_first(void **state)
{
	(void)state;
	run_mode(VGALLOC_MOCK_PROFILE_STATIC, true);
}

/* Guest-handle: a gfxstream guest with CREATE_GUEST_HANDLE, an exported image. */
static void plan_executed__guest_handle(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .mock_flags = VGALLOC_MOCK_GUEST_HANDLE,
	                                         .flavour = VGALLOC_FLAVOUR_GFXSTREAM,
	                                         .capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 20000);
	struct vgalloc_mem *a;

	(void)state;
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	r.flags = VGALLOC_REQUEST_DEDICATED_IMAGE;
	a = check(f, &r, VGALLOC_PATH_GUEST_HANDLE, true, true);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plan_executed__host_first),
		cmocka_unit_test(plan_executed__guest_first),
		cmocka_unit_test(plan_executed__guest_handle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
