/* SPDX-License-Identifier: MIT */
/*
 * A consumer's GEM-handle table (vgalloc.h, struct vgalloc_handle_table): a driver that keeps its
 * own BOs by handle and imports some dma-bufs itself while the library imports others. One
 * dma-buf imported through both paths must be GEM-closed exactly once, after both let go, in
 * either order; blobs the library creates and handles it is given are entered in the driver's
 * table too. The table here is a driver's, written over the mock's kernel.
 */
#include "../harness.h"

/* ---------------------------------------------------------------------------------------------
 * The driver's table: handle → references (its own and the library's, counted alike).
 */

#define MAX_ENTRIES 64

struct drv_table {
	struct vgalloc_mock *mock;
	uint32_t handle[MAX_ENTRIES];
	uint32_t refs[MAX_ENTRIES];
	uint32_t closes; /* GEM closes the table made */
	int fail_import; /* next import fails with this */
	int fail_ref;    /* next ref fails with this */
};

static uint32_t *refs_of(struct drv_table *t, uint32_t handle, bool add)
{
	for (int i = 0; i < MAX_ENTRIES; i++) {
		if (t->refs[i] && t->handle[i] == handle) {
			return &t->refs[i];
		}
	}
	for (int i = 0; add && i < MAX_ENTRIES; i++) {
		if (!t->refs[i]) {
			t->handle[i] = handle;
			return &t->refs[i];
		}
	}
	return NULL;
}

static uint32_t refs(struct drv_table *t, uint32_t handle)
{
	uint32_t *r = refs_of(t, handle, false);

	return r ? *r : 0;
}

static int drv_import(void *ctx, int fd, uint32_t *out_handle)
{
	struct drv_table *t = ctx;
	uint32_t h = 0;
	int ret = t->fail_import;

	t->fail_import = 0;
	if (!ret) {
		ret = vgalloc_mock_prime_import(t->mock, fd, &h);
	}
	if (ret) {
		return ret;
	}
	(*refs_of(t, h, true))++;
	*out_handle = h;
	return 0;
}

static int drv_ref(void *ctx, uint32_t handle)
{
	struct drv_table *t = ctx;
	int ret = t->fail_ref;

	t->fail_ref = 0;
	if (!ret) {
		(*refs_of(t, handle, true))++;
	}
	return ret;
}

static void drv_unref(void *ctx, uint32_t handle)
{
	struct drv_table *t = ctx;
	uint32_t *r = refs_of(t, handle, false);

	assert_non_null(r); /* the library never drops a reference it does not hold */
	if (--*r == 0) {
		assert_int_equal(vgalloc_mock_gem_close(t->mock, handle), 0);
		t->closes++;
	}
}

struct tfx {
	struct fx fx;
	struct drv_table t;
	struct vgalloc_handle_table table;
};

static struct tfx *tfx_new(void)
{
	struct tfx *x = calloc(1, sizeof(*x));
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct fx *f;

	assert_non_null(x);
	f = &x->fx;
	f->fds_before = count_open_fds();
	f->mock = fx_mock_new(&(struct fx_opts){ 0 });
	x->t.mock = f->mock;
	x->table = (struct vgalloc_handle_table){ .struct_size = sizeof(x->table),
		                                  .ctx = &x->t,
		                                  .import = drv_import,
		                                  .ref = drv_ref,
		                                  .unref = drv_unref };
	assert_int_equal(vgalloc_mock_get_hooks(f->mock, 0, &f->hooks), 0);
	assert_int_equal(vgalloc_mock_context_init(f->mock, VGALLOC_CAPSET_VENUS), 0);
	fx_create_info(f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.handle_table = &x->table;
	assert_int_equal(vgalloc_device_create(&ci, &f->dev), 0);
	return x;
}

static void tfx_free(struct tfx *x)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*f = x->fx;
	free(x);
	fx_free(f);
}

static uint32_t handle_of(struct fx *f, struct vgalloc_blob *b)
{
	struct vgalloc_blob_info bi = { .struct_size = sizeof(bi) };

	assert_int_equal(vgalloc_blob_get_info(f->dev, b, &bi), 0);
	return bi.gem_handle;
}

/* ---------------------------------------------------------------------------------------------
 * Tests.
 */

/* One foreign dma-buf, imported by the library and by the driver: one handle, two references,
 * one GEM close once both are gone, whichever goes first. */
static void table__one_dmabuf_through_both_paths(void **state)
{
	(void)state;
	for (int library_first = 0; library_first < 2; library_first++) {
		struct tfx *x = tfx_new();
		struct fx *f = &x->fx;
		struct vgalloc_blob_import_info ii = { .struct_size = sizeof(ii),
			                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE };
		struct vgalloc_blob *b = NULL, *b2 = NULL;
		uint64_t host = 0;
		uint32_t h, dh = 0, closes0;
		int fd = fx_foreign_dmabuf(f, 65536, &host);

		closes0 = x->t.closes; /* the owner's own handle, closed after its export */
		assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fd, &ii, &b), 0);
		h = handle_of(f, b);
		assert_int_equal(refs(&x->t, h), 1);
		/* The library imports it again: the same blob, still one library reference. */
		assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fd, &ii, &b2), 0);
		assert_ptr_equal(b, b2);
		assert_int_equal(refs(&x->t, h), 1);
		assert_int_equal(vgalloc_blob_destroy(f->dev, b2), 0);
		/* The driver's own import (a WSI image, say). */
		assert_int_equal(drv_import(&x->t, fd, &dh), 0);
		assert_int_equal(dh, h);
		assert_int_equal(refs(&x->t, h), 2);
		if (library_first) {
			assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
			assert_int_equal(x->t.closes, closes0);
			assert_int_equal(fx_ledger(f->mock).live_handles, 1);
			drv_unref(&x->t, dh);
		} else {
			void *p;

			drv_unref(&x->t, dh);
			assert_int_equal(x->t.closes, closes0);
			assert_int_equal(fx_ledger(f->mock).live_handles, 1);
			/* The library's blob is intact: it maps. */
			assert_int_equal(vgalloc_blob_map(f->dev, b, &p), 0);
			assert_int_equal(vgalloc_blob_unmap(f->dev, b), 0);
			assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
		}
		assert_int_equal(x->t.closes, closes0 + 1);
		assert_int_equal(fx_ledger(f->mock).live_handles, 0);
		fx_foreign_release(f, fd, host);
		tfx_free(x);
	}
}

/* A blob the library creates and exports; the driver imports the dma-buf (another VkDevice, a
 * WSI path) and gets the library's handle, which stays open until both let go. */
static void table__library_blob_imported_by_the_driver(void **state)
{
	struct tfx *x = tfx_new();
	struct fx *f = &x->fx;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 65536);
	struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };
	struct vgalloc_mem *mem = NULL;
	uint32_t h, dh = 0;
	int fd = -1;
	void *p;

	(void)state;
	r.flags = VGALLOC_REQUEST_DEDICATED_IMAGE;
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &mi), 0);
	h = handle_of(f, mi.blob);
	assert_int_equal(refs(&x->t, h), 1); /* entered when the library created it */
	assert_int_equal(vgalloc_mem_export(f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd), 0);
	assert_int_equal(drv_import(&x->t, fd, &dh), 0);
	assert_int_equal(dh, h);
	assert_int_equal(refs(&x->t, h), 2);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), 0);
	memset(p, 0x3c, 65536);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	assert_int_equal(x->t.closes, 0);
	assert_int_equal(fx_ledger(f->mock).live_handles, 1);
	drv_unref(&x->t, dh);
	assert_int_equal(x->t.closes, 1);
	close(fd);
	tfx_free(x);
}

/* A BO the driver made and hands over: the library takes a reference, never closes it itself. */
static void table__wrapped_handle(void **state)
{
	struct tfx *x = tfx_new();
	struct fx *f = &x->fx;
	struct vgalloc_blob *b = NULL;
	uint32_t h = 0, res = 0;

	(void)state;
	assert_int_equal(vgalloc_mock_blob_create(f->mock, VGALLOC_BLOB_MEM_HOST3D,
	                                          VGALLOC_BLOB_FLAG_MAPPABLE, 4096, 0, &h, &res),
	                 0);
	assert_int_equal(drv_ref(&x->t, h), 0); /* the driver's own entry */
	assert_int_equal(vgalloc_blob_wrap_handle(f->dev, h, VGALLOC_BLOB_FLAG_MAPPABLE, &b), 0);
	assert_int_equal(refs(&x->t, h), 2);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	assert_int_equal(refs(&x->t, h), 1);
	assert_int_equal(x->t.closes, 0);
	drv_unref(&x->t, h);
	assert_int_equal(x->t.closes, 1);
	/* A table refusing the reference: the wrap fails, the handle stays the driver's. */
	assert_int_equal(vgalloc_mock_blob_create(f->mock, VGALLOC_BLOB_MEM_HOST3D,
	                                          VGALLOC_BLOB_FLAG_MAPPABLE, 4096, 0, &h, &res),
	                 0);
	assert_int_equal(drv_ref(&x->t, h), 0);
	x->t.fail_ref = -ENOMEM;
	b = (struct vgalloc_blob *)&x;
	assert_int_equal(vgalloc_blob_wrap_handle(f->dev, h, VGALLOC_BLOB_FLAG_MAPPABLE, &b),
	                 -ENOMEM);
	assert_ptr_equal(b, (struct vgalloc_blob *)&x);
	assert_int_equal(refs(&x->t, h), 1);
	drv_unref(&x->t, h);
	tfx_free(x);
}

/* Failures of the table: nothing held, nothing leaked, nothing closed twice. */
static void table__failures_leave_nothing(void **state)
{
	struct tfx *x = tfx_new();
	struct fx *f = &x->fx;
	struct vgalloc_blob_import_info ii = { .struct_size = sizeof(ii) };
	struct vgalloc_blob_create_info ci = { .struct_size = sizeof(ci),
		                               .blob_mem = VGALLOC_BLOB_MEM_GUEST,
		                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		                               .size = 4096 };
	struct vgalloc_blob_info qi = { .struct_size = sizeof(qi) };
	struct vgalloc_blob *b = NULL;
	uint64_t host = 0;
	int fd = fx_foreign_dmabuf(f, 65536, &host);
	uint32_t closes0 = x->t.closes;

	(void)state;
	x->t.fail_import = -EMFILE;
	assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fd, &ii, &b), -EMFILE);
	assert_null(b);
	/* A query looks and lets go: the table ends where it started. */
	assert_int_equal(vgalloc_blob_query_dmabuf(f->dev, fd, &qi), 0);
	assert_int_equal(refs(&x->t, qi.gem_handle), 0);
	assert_int_equal(x->t.closes, closes0 + 1);
	/* A refused reference for a created blob: the library closes the handle it made. */
	x->t.fail_ref = -ENOMEM;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -ENOMEM);
	assert_null(b);
	assert_int_equal(fx_ledger(f->mock).live_handles, 0);
	fx_foreign_release(f, fd, host);
	tfx_free(x);
}

/* Own mode has no consumer table to share; a table missing an entry point is refused. */
static void table__refused_where_it_cannot_work(void **state)
{
	struct drv_table t = { 0 };
	struct vgalloc_handle_table table = { .struct_size = sizeof(table),
		                              .ctx = &t,
		                              .import = drv_import,
		                              .ref = drv_ref,
		                              .unref = drv_unref };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct fx f = { .mock = fx_mock_new(&(struct fx_opts){ 0 }) };

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(f.mock, 0, &f.hooks), 0);
	fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
	ci.handle_table = &table;
	assert_int_equal(vgalloc_device_create(&ci, &f.dev), -EINVAL); /* own mode */
	assert_int_equal(vgalloc_mock_context_init(f.mock, VGALLOC_CAPSET_VENUS), 0);
	fx_create_info(&f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.handle_table = &table;
	table.unref = NULL;
	assert_int_equal(vgalloc_device_create(&ci, &f.dev), -EINVAL);
	table.unref = drv_unref;
	table.reserved = 1;
	assert_int_equal(vgalloc_device_create(&ci, &f.dev), -EINVAL);
	table.reserved = 0;
	assert_int_equal(vgalloc_device_create(&ci, &f.dev), 0);
	vgalloc_device_destroy(f.dev);
	vgalloc_mock_destroy(f.mock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table__one_dmabuf_through_both_paths),
		cmocka_unit_test(table__library_blob_imported_by_the_driver),
		cmocka_unit_test(table__wrapped_handle),
		cmocka_unit_test(table__failures_leave_nothing),
		cmocka_unit_test(table__refused_where_it_cannot_work),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
