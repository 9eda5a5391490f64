/* SPDX-License-Identifier: MIT */
/*
 * Shared-memory blobs: the exact CREATE_BLOB (HOST3D, MAPPABLE, blob_id 0), the power-of-two
 * cache (hits without kernel calls, non-power-of-two sizes released at once, the byte cap,
 * expiry, trim), the ownership rules against the blob API, bad input, injected faults, threads.
 * Covers: vgalloc_shmem_create, vgalloc_shmem_destroy, vgalloc_device_trim (shmem part).
 */
#include <pthread.h>
#include <time.h>

#include "../harness.h"
#include "blob.h"
#include "caps.h"
#include "mem.h"
#include "state.h"

static struct vgalloc_stats stats_of(struct fx *f)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	return st;
}

static uint32_t calls(struct fx *f, uint32_t kind)
{
	return (uint32_t)fx_ledger(f->mock).calls[kind];
}

static uint64_t total_calls(struct fx *f)
{
	struct vgalloc_mock_ledger l = fx_ledger(f->mock);
	uint64_t n = 0;

	for (uint32_t i = 0; i < VGALLOC_MOCK_CALL_COUNT; i++) {
		n += l.calls[i];
	}
	return n;
}

static void shmem_create__exact_blob_and_mapping(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mock_trace_entry e[4];
	struct vgalloc_blob *b = NULL;
	void *p = NULL;

	(void)state;
	assert_int_equal(vgalloc_shmem_create(f->dev, 5000, &b, &p), 0);
	assert_non_null(p);
	assert_int_equal(vgalloc_mock_get_trace(f->mock, e, 4), 2);
	assert_int_equal(e[0].call, VGALLOC_MOCK_CALL_BLOB_CREATE);
	assert_int_equal(e[0].blob_mem, VGALLOC_BLOB_MEM_HOST3D);
	assert_int_equal(e[0].blob_flags, VGALLOC_BLOB_FLAG_MAPPABLE);
	assert_int_equal(e[0].blob_id, 0);
	assert_int_equal(e[0].size, 8192);
	assert_int_equal(e[1].call, VGALLOC_MOCK_CALL_BLOB_MAP);
	memset(p, 0x5a, 8192);
	assert_int_equal(vgalloc_blob_get_info(f->dev, b, &info), 0);
	assert_ptr_equal(info.map, p);
	assert_int_equal(info.map_count, 1);
	assert_int_equal(info.size, 8192);
	assert_int_equal(stats_of(f).shmem_live, 1);
	assert_int_equal(stats_of(f).shmem_misses, 1);
	/* 8 KiB is a power of two: cached, nothing released. */
	assert_int_equal(vgalloc_shmem_destroy(f->dev, b), 0);
	assert_int_equal(calls(f, VGALLOC_MOCK_CALL_BLOB_DESTROY), 0);
	assert_int_equal(stats_of(f).shmem_live, 0);
	assert_int_equal(stats_of(f).shmem_cached, 1);
	assert_int_equal(stats_of(f).shmem_cached_bytes, 8192);
	fx_free(f); /* the device releases its cache; the ledger must be clean */
}

static void shmem_cache__hit_costs_no_kernel_call(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob *a = NULL, *b = NULL, *c = NULL;
	void *pa = NULL, *pb = NULL, *pc = NULL;

	(void)state;
	assert_int_equal(vgalloc_shmem_create(f->dev, 65536, &a, &pa), 0);
	memcpy(pa, "ring", 4);
	assert_int_equal(vgalloc_shmem_destroy(f->dev, a), 0);
	vgalloc_mock_reset_counters(f->mock);
	/* Any size that rounds to the same 64 KiB is served by the cached blob. */
	assert_int_equal(vgalloc_shmem_create(f->dev, 65536 - 4000, &b, &pb), 0);
	assert_ptr_equal(b, a);
	assert_ptr_equal(pb, pa);
	assert_memory_equal(pb, "ring", 4); /* contents are kept, as documented */
	assert_int_equal(total_calls(f), 0);
	assert_int_equal(stats_of(f).shmem_hits, 1);
	/* Another size misses. */
	assert_int_equal(vgalloc_shmem_create(f->dev, 4096, &c, &pc), 0);
	assert_int_equal(calls(f, VGALLOC_MOCK_CALL_BLOB_CREATE), 1);
	assert_int_equal(vgalloc_shmem_destroy(f->dev, b), 0);
	assert_int_equal(vgalloc_shmem_destroy(f->dev, c), 0);
	assert_int_equal(stats_of(f).shmem_cached, 2);
	/* Trim releases both: munmap and GEM close each. */
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_device_trim(f->dev), 2);
	assert_int_equal(calls(f, VGALLOC_MOCK_CALL_BLOB_UNMAP), 2);
	assert_int_equal(calls(f, VGALLOC_MOCK_CALL_BLOB_DESTROY), 2);
	assert_int_equal(stats_of(f).shmem_cached, 0);
	assert_int_equal(stats_of(f).shmem_cached_bytes, 0);
	fx_assert_clean(f->mock);
	fx_free(f);
}

static void shmem_cache__odd_size_released_at_once(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob *b = NULL;
	void *p = NULL;

	(void)state;
	assert_int_equal(vgalloc_shmem_create(f->dev, 3 * 4096, &b, &p), 0);
	assert_int_equal(vgalloc_shmem_destroy(f->dev, b), 0);
	assert_int_equal(calls(f, VGALLOC_MOCK_CALL_BLOB_UNMAP), 1);
	assert_int_equal(calls(f, VGALLOC_MOCK_CALL_BLOB_DESTROY), 1);
	assert_int_equal(stats_of(f).shmem_cached, 0);
	fx_assert_clean(f->mock);
	fx_free(f);
}

static void shmem_cache__byte_cap_releases_the_rest(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob *b[3];
	void *p;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(vgalloc_shmem_create(f->dev, 16u << 20, &b[i], &p), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(vgalloc_shmem_destroy(f->dev, b[i]), 0);
	}
	/* 32 MiB hold two; the third is released. */
	assert_int_equal(stats_of(f).shmem_cached, 2);
	assert_int_equal(stats_of(f).shmem_cached_bytes, 32u << 20);
	assert_int_equal(calls(f, VGALLOC_MOCK_CALL_BLOB_DESTROY), 1);
	fx_free(f);
}

static void shmem_cache__idle_entries_expire(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob *a = NULL, *b = NULL;
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	void *p;

	(void)state;
	f->dev->fd->shmem.expiry_ns = 20ull * 1000 * 1000; /* 20 ms instead of 1 s */
	assert_int_equal(vgalloc_shmem_create(f->dev, 4096, &a, &p), 0);
	assert_int_equal(vgalloc_shmem_destroy(f->dev, a), 0);
	assert_int_equal(stats_of(f).shmem_cached, 1);
	nanosleep(&ts, NULL);
	/* A create never releases anything (a hit must stay free of kernel calls) ... */
	assert_int_equal(vgalloc_shmem_create(f->dev, 8192, &b, &p), 0);
	assert_int_equal(stats_of(f).shmem_cached, 1);
	assert_int_equal(calls(f, VGALLOC_MOCK_CALL_BLOB_DESTROY), 0);
	/* ... the next destroy (another bucket) releases the idle entry and caches its own. */
	assert_int_equal(vgalloc_shmem_destroy(f->dev, b), 0);
	assert_int_equal(calls(f, VGALLOC_MOCK_CALL_BLOB_DESTROY), 1);
	assert_int_equal(stats_of(f).shmem_cached, 1);
	assert_int_equal(stats_of(f).shmem_cached_bytes, 8192);
	assert_int_equal(fx_ledger(f->mock).live_blobs, 1);
	fx_free(f);
}

static void shmem__bad_input_changes_nothing(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci = {
		.struct_size = sizeof(ci),
		.blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		.size = 4096,
	};
	struct vgalloc_blob *b = NULL, *plain = NULL, *out = (void *)0x1;
	void *p = NULL, *outp = (void *)0x2;
	uint64_t word = 0;

	(void)state;
	assert_int_equal(vgalloc_shmem_create(NULL, 4096, &b, &p), -EINVAL);
	assert_int_equal(vgalloc_shmem_create(f->dev, 4096, NULL, &p), -EINVAL);
	assert_int_equal(vgalloc_shmem_create(f->dev, 4096, &b, NULL), -EINVAL);
	assert_int_equal(vgalloc_shmem_create(f->dev, 0, &out, &outp), -EINVAL);
	assert_int_equal(vgalloc_shmem_create(f->dev, UINT64_MAX, &out, &outp), -EINVAL);
	assert_ptr_equal(out, (void *)0x1);
	assert_ptr_equal(outp, (void *)0x2);
	assert_int_equal(total_calls(f), 0);

	assert_int_equal(vgalloc_shmem_create(f->dev, 4096, &b, &p), 0);
	/* The blob API cannot drop the shmem's reference or its mapping. */
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), -EBUSY);
	assert_int_equal(vgalloc_blob_unmap(f->dev, b), -EINVAL);
	/* A second map reference of the caller's own is fine and is the caller's to drop. */
	assert_int_equal(vgalloc_blob_map(f->dev, b, &outp), 0);
	assert_ptr_equal(outp, p);
	assert_int_equal(vgalloc_blob_unmap(f->dev, b), 0);
	assert_int_equal(vgalloc_blob_unmap(f->dev, b), -EINVAL);
	/* Ordinary blobs and foreign pointers are not shmem. */
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &plain), 0);
	assert_int_equal(vgalloc_shmem_destroy(f->dev, plain), -EINVAL);
	assert_int_equal(vgalloc_shmem_destroy(f->dev, (struct vgalloc_blob *)&word), -EINVAL);
	assert_int_equal(vgalloc_shmem_destroy(NULL, b), -EINVAL);
	assert_int_equal(vgalloc_shmem_destroy(f->dev, NULL), 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, plain), 0);
	/* Double destroy: the cached blob is no longer the caller's. */
	assert_int_equal(vgalloc_shmem_destroy(f->dev, b), 0);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_shmem_destroy(f->dev, b), -EINVAL);
	assert_int_equal(stats_of(f).shmem_cached, 1);
	assert_int_equal(total_calls(f), 0);
	fx_free(f);
}

static void shmem__needs_blob_id_0(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .mock_flags = VGALLOC_MOCK_NO_BLOB_ID_0 });
	struct vgalloc_blob *b = NULL;
	void *p = NULL;

	(void)state;
	assert_int_equal(vgalloc_shmem_create(f->dev, 4096, &b, &p), -EOPNOTSUPP);
	assert_null(b);
	assert_int_equal(total_calls(f), 0);
	fx_free(f);
}

static void shmem__injected_faults_leak_nothing(void **state)
{
	static const struct {
		uint32_t call;
		int err;
	} faults[] = {
		{ VGALLOC_MOCK_CALL_BLOB_CREATE, -ENOMEM },
		{ VGALLOC_MOCK_CALL_BLOB_CREATE, -ENOSPC },
		{ VGALLOC_MOCK_CALL_BLOB_CREATE, -EINVAL },
		{ VGALLOC_MOCK_CALL_BLOB_MAP, -ENOMEM },
		{ VGALLOC_MOCK_CALL_BLOB_MAP, -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		struct fx *f = fx_new(&(struct fx_opts){ 0 });
		struct vgalloc_blob *b = NULL;
		void *p = NULL;

		assert_int_equal(vgalloc_mock_fail_nth(f->mock, faults[i].call, 1, -faults[i].err),
		                 0);
		assert_int_equal(vgalloc_shmem_create(f->dev, 4096, &b, &p), faults[i].err);
		assert_true(vgalloc_mock_fail_fired(f->mock));
		assert_null(b);
		assert_null(p);
		assert_int_equal(stats_of(f).shmem_live, 0);
		assert_int_equal(stats_of(f).blobs_live, 0);
		fx_assert_clean(f->mock);
		/* The device still works. */
		assert_int_equal(vgalloc_shmem_create(f->dev, 4096, &b, &p), 0);
		assert_int_equal(vgalloc_shmem_destroy(f->dev, b), 0);
		fx_free(f);
	}
}

static void shmem_cache__window_full_releases_the_cache(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .window = 1 << 20 });
	struct vgalloc_blob *b[16], *big = NULL;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 65536);
	struct vgalloc_mem *mem = NULL;
	void *p;

	(void)state;
	/* Fill the 1 MiB window with cached 64 KiB blobs. */
	for (int i = 0; i < 16; i++) {
		assert_int_equal(vgalloc_shmem_create(f->dev, 65536, &b[i], &p), 0);
	}
	for (int i = 0; i < 16; i++) {
		assert_int_equal(vgalloc_shmem_destroy(f->dev, b[i]), 0);
	}
	assert_int_equal(fx_ledger(f->mock).window_bytes, 1 << 20);
	/* A shmem of another size: the cache is given back, and the create succeeds. */
	assert_int_equal(vgalloc_shmem_create(f->dev, 131072, &big, &p), 0);
	assert_int_equal(stats_of(f).shmem_cached, 0);
	assert_int_equal(vgalloc_shmem_destroy(f->dev, big), 0);
	/* Fill it again, then a dedicated mapped allocation needs the window. */
	for (int i = 0; i < 8; i++) {
		assert_int_equal(vgalloc_shmem_create(f->dev, 131072, &b[i], &p), 0);
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(vgalloc_shmem_destroy(f->dev, b[i]), 0);
	}
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), 0);
	assert_int_equal(vgalloc_mem_unmap(f->dev, mem), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	fx_free(f);
}

struct unmapper {
	struct vgalloc_device *dev;
	struct vgalloc_blob *blob;
	int ret;
};

static void *unmap_thread(void *arg)
{
	struct unmapper *u = arg;

	u->ret = vgalloc_blob_unmap(u->dev, u->blob);
	return NULL;
}

/* Two racing unmaps of the caller's one extra map: exactly one succeeds, and the cache's own
 * mapping survives. */
static void shmem__racing_unmaps_keep_the_own_mapping(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	uint32_t rounds = test_scale(2000) / 10;

	(void)state;
	for (uint32_t i = 0; i < (rounds ? rounds : 1); i++) {
		struct vgalloc_blob *b = NULL;
		struct unmapper u[2];
		pthread_t t[2];
		void *p, *q;

		assert_int_equal(vgalloc_shmem_create(f->dev, 4096, &b, &p), 0);
		assert_int_equal(vgalloc_blob_map(f->dev, b, &q), 0);
		for (int k = 0; k < 2; k++) {
			u[k] = (struct unmapper){ f->dev, b, 1 };
			assert_int_equal(pthread_create(&t[k], NULL, unmap_thread, &u[k]), 0);
		}
		for (int k = 0; k < 2; k++) {
			pthread_join(t[k], NULL);
		}
		assert_true((u[0].ret == 0) != (u[1].ret == 0));
		assert_true(u[0].ret == -EINVAL || u[1].ret == -EINVAL);
		assert_int_equal(vgalloc_blob_get_info(f->dev, b, &info), 0);
		assert_int_equal(info.map_count, 1);
		assert_ptr_equal(info.map, p);
		assert_int_equal(vgalloc_shmem_destroy(f->dev, b), 0);
	}
	fx_free(f);
}

struct churn {
	struct vgalloc_device *dev;
	uint32_t seed;
	uint32_t iterations;
	int failures;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	static const uint64_t sizes[] = { 4096, 8192, 65536, 12288 };
	uint32_t x = c->seed;

	for (uint32_t i = 0; i < c->iterations; i++) {
		struct vgalloc_blob *b = NULL;
		unsigned char *p = NULL;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		if (vgalloc_shmem_create(c->dev, sizes[x % 4], &b, (void **)&p)) {
			c->failures++;
			continue;
		}
		/* A blob handed out twice would be seen here by another thread's pattern. */
		memset(p, (int)(c->seed & 0xff), 64);
		for (int k = 0; k < 64; k++) {
			c->failures += p[k] != (unsigned char)(c->seed & 0xff);
		}
		if (vgalloc_shmem_destroy(c->dev, b)) {
			c->failures++;
		}
	}
	return NULL;
}

static void shmem_cache__threads_share_it_safely(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct churn c[4];
	pthread_t t[4];
	uint32_t n = test_scale(20000) / 4;

	(void)state;
	for (int i = 0; i < 4; i++) {
		c[i] = (struct churn){ .dev = f->dev,
			               .seed = 0x9e3779b9u * (uint32_t)(i + 1),
			               .iterations = n ? n : 1 };
		assert_int_equal(pthread_create(&t[i], NULL, churn_thread, &c[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].failures, 0);
	}
	struct vgalloc_stats st = stats_of(f);
	assert_int_equal(st.shmem_live, 0);
	assert_int_equal(st.shmem_hits + st.shmem_misses, 4ull * c[0].iterations);
	assert_true(st.shmem_hits > st.shmem_misses);
	/* Only the 12 KiB ones (not a power of two) and first uses reach the kernel. */
	print_message("shmem churn: %llu hits, %llu misses, %llu cached\n",
	              (unsigned long long)st.shmem_hits, (unsigned long long)st.shmem_misses,
	              (unsigned long long)st.shmem_cached);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(shmem_create__exact_blob_and_mapping),
		cmocka_unit_test(shmem_cache__hit_costs_no_kernel_call),
		cmocka_unit_test(shmem_cache__odd_size_released_at_once),
		cmocka_unit_test(shmem_cache__byte_cap_releases_the_rest),
		cmocka_unit_test(shmem_cache__idle_entries_expire),
		cmocka_unit_test(shmem__bad_input_changes_nothing),
		cmocka_unit_test(shmem__needs_blob_id_0),
		cmocka_unit_test(shmem__injected_faults_leak_nothing),
		cmocka_unit_test(shmem_cache__window_full_releases_the_cache),
		cmocka_unit_test(shmem__racing_unmaps_keep_the_own_mapping),
		cmocka_unit_test(shmem_cache__threads_share_it_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
