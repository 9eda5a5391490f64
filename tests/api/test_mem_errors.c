/* SPDX-License-Identifier: MIT */
/*
 * Bad input to the memory API gets its documented error and changes nothing; a heavy churn on the
 * counting-only mock leaks nothing; two threads allocate, map and free each other's memory.
 * Covers: vgalloc_mem_alloc, vgalloc_mem_map, vgalloc_mem_unmap, vgalloc_mem_export,
 * vgalloc_mem_get_info, vgalloc_mem_free, vgalloc_path_name.
 */
#include <pthread.h>
#include <unistd.h>

#include "../harness.h"

static void assert_untouched(struct fx *f)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc_mock_ledger l = fx_ledger(f->mock);

	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(st.mems_live, 0);
	assert_int_equal(st.blobs_live, 0);
	for (uint32_t c = 0; c < VGALLOC_MOCK_CALL_COUNT; c++) {
		assert_int_equal(l.calls[c], 0);
	}
}

static void mem_alloc__bad_requests_change_nothing(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_mem *mem = (void *)0x1;
	struct vgalloc_request r;
	struct {
		struct vgalloc_request r;
		uint32_t tail[2];
	} big;

	(void)state;
	r = fx_req(TYPE_HOST_COHERENT, 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	r.size = UINT64_MAX;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	r.size = UINT64_MAX - 100; /* overflows when rounded */
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	r.size = 4096;
	r.alignment = 3000;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	r.alignment = 0;
	r.memory_type = 17;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	r.memory_type = TYPE_HOST_COHERENT;
	r.flags = VGALLOC_REQUEST_IMPORT_FD;
	r.import_fd = -5;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	r.flags = VGALLOC_REQUEST_IMPORT_AHB;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EOPNOTSUPP);
	r.flags = 0;
	r.export_handle_types = 0x10; /* a Windows handle type: no enum vgalloc_handle_type bit */
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	r.export_handle_types = 0;
	r.allocate_flags = 0x10;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	r.allocate_flags = 0;
	r.reserved = 1;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	r.reserved = 0;
	r.struct_size = 8;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	memset(&big, 0, sizeof(big));
	big.r = fx_req(TYPE_HOST_COHERENT, 4096);
	big.r.struct_size = sizeof(big);
	big.tail[1] = 9;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &big.r, &mem), -E2BIG);
	assert_int_equal(vgalloc_mem_alloc(NULL, &big.r, &mem), -EINVAL);
	assert_int_equal(vgalloc_mem_alloc(f->dev, NULL, &mem), -EINVAL);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &big.r, NULL), -EINVAL);
	assert_ptr_equal(mem, (void *)0x1);
	assert_untouched(f);
	/* A zero tail is fine: a newer caller's defaults. */
	big.tail[1] = 0;
	mem = NULL;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &big.r, &mem), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	fx_free(f);
}

static void mem_alloc__without_hooks_is_eopnotsupp(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mem *mem = NULL;
	struct fx f = { .mock = mock };

	(void)state;
	fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
	ci.hooks = NULL;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem), -EOPNOTSUPP);
	vgalloc_device_destroy(dev);
	/* Incomplete hooks are refused at create. */
	f.hooks.struct_size = sizeof(f.hooks);
	ci.hooks = &f.hooks;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	vgalloc_mock_destroy(mock);
}

static void mem_free__double_and_foreign_are_einval(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct fx *g = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mem *a = NULL, *b = NULL, *other = NULL;
	uint64_t junk[32] = { 0 };
	void *p;
	int fd;

	(void)state;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &a), 0);
	assert_int_equal(vgalloc_mem_alloc(g->dev, &r, &other), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, other), -EINVAL);
	assert_int_equal(vgalloc_mem_free(f->dev, (void *)junk), -EINVAL);
	assert_int_equal(vgalloc_mem_free(f->dev, (void *)((char *)a + 8)), -EINVAL);
	assert_int_equal(vgalloc_mem_map(f->dev, other, &p), -EINVAL);
	assert_int_equal(vgalloc_mem_get_info(f->dev, other, &info), -EINVAL);
	assert_int_equal(vgalloc_mem_export(f->dev, a, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd), -EINVAL);
	assert_int_equal(vgalloc_mem_free(NULL, a), -EINVAL);
	assert_int_equal(vgalloc_mem_free(f->dev, NULL), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_mem_free(f->dev, a), -EINVAL);
	assert_int_equal(vgalloc_mem_map(f->dev, a, &p), -EINVAL);
	assert_int_equal(vgalloc_mem_unmap(f->dev, a), -EINVAL);
	/* The freed slot is poisoned and reused last (FIFO): a new allocation gets another one. */
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &b), 0);
	assert_ptr_not_equal(a, b);
	assert_int_equal(vgalloc_mem_free(f->dev, a), -EINVAL);
	assert_int_equal(vgalloc_mem_free(f->dev, b), 0);
	assert_int_equal(vgalloc_mem_free(g->dev, other), 0);
	assert_string_equal(vgalloc_path_name(VGALLOC_PATH_GUEST_FIRST), "guest-first");
	assert_string_equal(vgalloc_path_name(99), "unknown");
	fx_free(g);
	fx_free(f);
}

static void mem_alloc__enospc_keeps_its_meaning(void **state)
{
	struct fx *f = fx_new(
	        &(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC, .window = 1 << 20 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 600 << 10);
	struct vgalloc_mem *a = NULL, *b = NULL;

	(void)state;
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &a), 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &b), -ENOSPC);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &b), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, b), 0);
	fx_free(f);
}

static void mem_alloc__heavy_churn_counting_mock(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .mock_flags = VGALLOC_MOCK_COUNTING_ONLY });
	struct vgalloc_mem *live[64] = { 0 };
	uint32_t n = test_scale(1000000);
	uint64_t s = 88172645463325252ull;
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	(void)state;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t slot;
		void *p;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		slot = (uint32_t)(s % 64);
		if (live[slot]) {
			assert_int_equal(vgalloc_mem_free(f->dev, live[slot]), 0);
			live[slot] = NULL;
		} else {
			struct vgalloc_request r =
			        fx_req((s >> 8) % 3, 256 + ((s >> 16) % (1 << 20)));

			assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &live[slot]), 0);
			if (r.memory_type != TYPE_DEVICE_LOCAL && (s >> 40) & 1) {
				assert_int_equal(vgalloc_mem_map(f->dev, live[slot], &p), 0);
			}
		}
	}
	for (uint32_t i = 0; i < 64; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, live[i]), 0);
	}
	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(st.mems_live, 0);
	assert_int_equal(st.suballocs_live, 0);
	assert_int_equal(st.mem_bytes_committed, 0);
	/* Empty blocks stay (retained, still mapped) until trimmed. */
	assert_true(st.retained_bytes <= (64u << 20));
	assert_true(vgalloc_device_trim(f->dev) >= 0);
	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.retained_bytes, 0);
	assert_int_equal(st.blobs_mapped, 0);
	print_message("  %u operations, %llu block creations\n", n,
	              (unsigned long long)st.block_creations);
	fx_free(f);
}

struct thread_arg {
	struct fx *f;
	struct vgalloc_mem **mine, **theirs;
	uint32_t n;
	pthread_barrier_t *barrier;
};

static void *worker(void *p)
{
	struct thread_arg *a = p;

	for (uint32_t round = 0; round < a->n; round++) {
		for (uint32_t i = 0; i < 16; i++) {
			struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096 * (i + 1));
			void *ptr;

			if (vgalloc_mem_alloc(a->f->dev, &r, &a->mine[i]) ||
			    vgalloc_mem_map(a->f->dev, a->mine[i], &ptr)) {
				return (void *)1;
			}
			((volatile char *)ptr)[0] = 1;
		}
		pthread_barrier_wait(a->barrier);
		/* Free the other thread's allocations: cross-thread frees are allowed. */
		for (uint32_t i = 0; i < 16; i++) {
			if (vgalloc_mem_free(a->f->dev, a->theirs[i])) {
				return (void *)1;
			}
		}
		pthread_barrier_wait(a->barrier);
	}
	return NULL;
}

static void mem_free__cross_thread(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_mem *m0[16], *m1[16];
	pthread_barrier_t barrier;
	pthread_t t[2];
	struct thread_arg a[2] = {
		{ f, m0, m1, test_scale(200), &barrier },
		{ f, m1, m0, test_scale(200), &barrier },
	};
	void *r0, *r1;

	(void)state;
	pthread_barrier_init(&barrier, NULL, 2);
	pthread_create(&t[0], NULL, worker, &a[0]);
	pthread_create(&t[1], NULL, worker, &a[1]);
	pthread_join(t[0], &r0);
	pthread_join(t[1], &r1);
	pthread_barrier_destroy(&barrier);
	assert_null(r0);
	assert_null(r1);
	fx_free(f);
}

static void mem_map__device_local_guest_first_export_is_einval(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC });
	struct vgalloc_request r = fx_req(TYPE_DEVICE_LOCAL, 4096);
	struct vgalloc_mem *mem = NULL;
	void *p;

	(void)state;
	/* Its blob is MAPPABLE (guest-first exports live in the window) but the memory is not. */
	r.export_handle_types = VGALLOC_HANDLE_TYPE_OPAQUE_FD;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), -EINVAL);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	fx_free(f);
}

static void mem_free__shared_blob_host_free_before_last_close(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem *a = NULL, *b = NULL;
	int fd = -1;

	(void)state;
	/* Export, import the same buffer as a second allocation (a dedup hit), free the exporter
	 * first: its host memory may go while the importer still holds the resource. */
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &a), 0);
	assert_int_equal(vgalloc_mem_export(f->dev, a, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd), 0);
	r = fx_req(TYPE_HOST_COHERENT, 4096);
	r.flags = VGALLOC_REQUEST_IMPORT_FD;
	r.import_fd = fd;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &b), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	assert_int_equal(fx_ledger(f->mock).live_handles, 1);
	assert_int_equal(vgalloc_mem_free(f->dev, b), 0);
	close(fd);
	fx_free(f);
}

static int positive_roundtrip(void *ctx)
{
	(void)ctx;
	return 1; /* not an errno */
}

static void mem_alloc__hook_answering_nonsense_is_eio(void **state)
{
	struct vgalloc_mock *mock =
	        fx_mock_new(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC });
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mem *mem = NULL;
	struct fx f = { .mock = mock };

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
	f.hooks.host_roundtrip = positive_roundtrip;
	fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem), -EIO);
	r.flags = 1u << 20; /* an unknown request flag */
	assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem), -EINVAL);
	vgalloc_device_destroy(dev);
	fx_assert_clean(mock);
	/* Memory types: every entry has the first one's size; unknown type flags are refused. */
	types[1].struct_size = sizeof(types[1]) + 8;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	types[1].struct_size = sizeof(types[1]);
	types[2].flags = 0x80;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	vgalloc_mock_destroy(mock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mem_alloc__bad_requests_change_nothing),
		cmocka_unit_test(mem_alloc__without_hooks_is_eopnotsupp),
		cmocka_unit_test(mem_free__double_and_foreign_are_einval),
		cmocka_unit_test(mem_alloc__enospc_keeps_its_meaning),
		cmocka_unit_test(mem_alloc__heavy_churn_counting_mock),
		cmocka_unit_test(mem_free__cross_thread),
		cmocka_unit_test(mem_map__device_local_guest_first_export_is_einval),
		cmocka_unit_test(mem_free__shared_blob_host_free_before_last_close),
		cmocka_unit_test(mem_alloc__hook_answering_nonsense_is_eio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
