/* SPDX-License-Identifier: MIT */
/*
 * Two calls on one handle at once, the races an application may make by mistake: each must end
 * in one of the documented answers, never in a crash, a leak or a mapping left behind. Run under
 * ASan and TSan by the CI legs (label stress). A race test is a net, not a proof: it loops so
 * that the interleavings that matter come up, and a review found the one below by reading.
 * Covers: vgalloc_mem_unmap racing vgalloc_mem_free of the same dedicated allocation; devices of
 * one connection working at once, while others join and leave it.
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

/* ---------------------------------------------------------------------------------------------
 * Devices of one connection: the blob slab, the handle table and the connection's references
 * are shared, everything else is each device's.
 */

struct shared {
	struct vgalloc_connection *conn;
	struct vgalloc_host_hooks hooks;
	struct vgalloc_device *dev[2];
	uint32_t rounds;
	int failures;
};

static struct vgalloc_device *join_conn(struct shared *s)
{
	struct vgalloc_device *dev = NULL;

	return fx_join(s->conn, &s->hooks, NULL, &dev) ? NULL : dev;
}

/* Suballocations and blobs of one device, each blob destroyed through the other device. */
static void *work_on(struct shared *s, int me)
{
	struct vgalloc_device *dev = s->dev[me], *other = s->dev[!me];
	struct vgalloc_request req = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_blob_create_info bi = { .struct_size = sizeof(bi),
		                               .blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		                               .size = 4096 };

	for (uint32_t i = 0; i < s->rounds; i++) {
		struct vgalloc_mem *m = NULL;
		struct vgalloc_blob *b = NULL;
		void *p = NULL;

		if (vgalloc_mem_alloc(dev, &req, &m) || vgalloc_mem_map(dev, m, &p)) {
			__atomic_add_fetch(&s->failures, 1, __ATOMIC_RELAXED);
			break;
		}
		memset(p, me, 4096);
		if (((unsigned char *)p)[4095] != me || vgalloc_mem_free(dev, m) ||
		    vgalloc_blob_create(dev, &bi, &b) || vgalloc_blob_map(other, b, &p) ||
		    vgalloc_blob_destroy(other, b)) {
			__atomic_add_fetch(&s->failures, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

static void *work_a(void *arg)
{
	return work_on(arg, 0);
}

static void *work_b(void *arg)
{
	return work_on(arg, 1);
}

/* Devices joining and leaving while the others work: each allocates once and goes. */
static void *join_leave(void *arg)
{
	struct shared *s = arg;
	struct vgalloc_request req = fx_req(TYPE_HOST_COHERENT, 65536);

	for (uint32_t i = 0; i < s->rounds / 8; i++) {
		struct vgalloc_device *dev = join_conn(s);
		struct vgalloc_mem *m = NULL;

		if (!dev || vgalloc_mem_alloc(dev, &req, &m)) {
			__atomic_add_fetch(&s->failures, 1, __ATOMIC_RELAXED);
			vgalloc_device_destroy(dev);
			break;
		}
		vgalloc_device_destroy(dev); /* frees m and its block */
	}
	return NULL;
}

static void races__devices_of_one_connection(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_connection_create_info ci = {
		.struct_size = sizeof(ci),
		.backend = VGALLOC_BACKEND_MOCK,
		.mode = VGALLOC_DEVICE_MODE_OWN,
		.backend_object = mock,
		.capset_id = VGALLOC_CAPSET_VENUS,
	};
	struct shared s = { .rounds = test_scale(2000) };
	pthread_t t[3];

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &s.hooks), 0);
	assert_int_equal(vgalloc_connection_create(&ci, &s.conn), 0);
	s.dev[0] = join_conn(&s);
	s.dev[1] = join_conn(&s);
	assert_non_null(s.dev[0]);
	assert_non_null(s.dev[1]);
	assert_int_equal(pthread_create(&t[0], NULL, work_a, &s), 0);
	assert_int_equal(pthread_create(&t[1], NULL, work_b, &s), 0);
	assert_int_equal(pthread_create(&t[2], NULL, join_leave, &s), 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
	}
	assert_int_equal(s.failures, 0);
	/* The creator lets go first; the devices keep the connection until the last is gone. */
	vgalloc_connection_destroy(s.conn);
	vgalloc_device_destroy(s.dev[0]);
	assert_int_equal(fx_ledger(mock).context, 2);
	vgalloc_device_destroy(s.dev[1]);
	fx_assert_clean(mock);
	vgalloc_mock_destroy(mock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(races__unmap_vs_free_dedicated),
		cmocka_unit_test(races__devices_of_one_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
