/* SPDX-License-Identifier: MIT */
/*
 * Two calls on one handle at once, the races an application may make by mistake: each must end
 * in one of the documented answers, never in a crash, a leak or a mapping left behind. Run under
 * ASan and TSan by the CI legs (label stress). A race test is a net, not a proof: it loops so
 * that the interleavings that matter come up, and a review found the one below by reading.
 * Covers: vgalloc_mem_unmap racing vgalloc_mem_free of the same dedicated allocation.
 */
#include <pthread.h>

#include "../harness.h"

struct race {
	pthread_barrier_t start;
	struct vgalloc_device *dev;
	struct vgalloc_mem *mem;
	int unmap_ret, free_ret;
};

static void *do_unmap(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(&r->start);
	r->unmap_ret = vgalloc_mem_unmap(r->dev, r->mem);
	return NULL;
}

static void *do_free(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(&r->start);
	r->free_ret = vgalloc_mem_free(r->dev, r->mem);
	return NULL;
}

/*
 * A mapped dedicated allocation, unmapped on one thread while another frees it: free wins
 * (0: unmap does not hold it busy) and unmap answers 0 (before) or -EINVAL (after, a dead
 * handle); either way every mapping and blob is gone at the end.
 */
static void races__unmap_vs_free_dedicated(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request req = fx_req(TYPE_HOST_COHERENT, 65536);
	uint32_t rounds = test_scale(20000), before = 0, after = 0;
	struct race r = { .dev = f->dev };

	(void)state;
	req.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	for (uint32_t i = 0; i < rounds; i++) {
		pthread_t a, b;
		void *p;

		assert_int_equal(vgalloc_mem_alloc(f->dev, &req, &r.mem), 0);
		assert_int_equal(vgalloc_mem_map(f->dev, r.mem, &p), 0);
		assert_int_equal(pthread_barrier_init(&r.start, NULL, 2), 0);
		assert_int_equal(pthread_create(&a, NULL, do_unmap, &r), 0);
		assert_int_equal(pthread_create(&b, NULL, do_free, &r), 0);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		pthread_barrier_destroy(&r.start);
		assert_int_equal(r.free_ret, 0);
		assert_true(r.unmap_ret == 0 || r.unmap_ret == -EINVAL);
		if (r.unmap_ret == 0) {
			before++;
		} else {
			after++;
		}
		assert_int_equal(fx_ledger(f->mock).mapped_blobs, 0);
		assert_int_equal(fx_ledger(f->mock).live_blobs, 0);
	}
	print_message("unmap first %u, free first %u of %u\n", before, after, rounds);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(races__unmap_vs_free_dedicated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
