/* SPDX-License-Identifier: MIT */
/*
 * One connection (fd, context, blobs, GEM handles, import dedup, shmem cache, blob alignment)
 * shared by several logical devices (memory types, hooks, options, pools), as Venus has one
 * renderer per VkInstance and a libvgalloc device per VkDevice: a single CONTEXT_INIT, each
 * device's blocks made through its own hooks, blobs usable through any device, one dedup table,
 * references that keep the connection alive past its creator and each allocator used for what
 * it is given.
 */
#include "../harness.h"

/* A device's hooks: the mock's, behind a table of the device's own that counts each call. */
struct counted_hooks {
	struct vgalloc_host_hooks inner;
	struct vgalloc_host_hooks outer;
	uint32_t allocs, frees, ids;
};

static uint64_t ch_new_blob_id(void *ctx)
{
	struct counted_hooks *h = ctx;

	h->ids++;
	return h->inner.new_blob_id(h->inner.ctx);
}

static int ch_host_alloc(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                         struct vgalloc_host_result *out)
{
	struct counted_hooks *h = ctx;

	h->allocs++;
	return h->inner.host_alloc(h->inner.ctx, user_data, args, out);
}

static int ch_host_wait(void *ctx, uint64_t token, uint32_t flags, void *cmd, uint32_t *size)
{
	struct counted_hooks *h = ctx;

	return h->inner.host_wait(h->inner.ctx, token, flags, cmd, size);
}

static int ch_host_roundtrip(void *ctx)
{
	struct counted_hooks *h = ctx;

	return h->inner.host_roundtrip(h->inner.ctx);
}

static int ch_host_import(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                          struct vgalloc_host_result *out)
{
	struct counted_hooks *h = ctx;

	h->allocs++;
	return h->inner.host_import(h->inner.ctx, user_data, args, out);
}

static void ch_host_free(void *ctx, void *user_data, uint64_t host_handle)
{
	struct counted_hooks *h = ctx;

	h->frees++;
	h->inner.host_free(h->inner.ctx, user_data, host_handle);
}

static void counted_hooks_init(struct counted_hooks *h, struct vgalloc_mock *mock)
{
	memset(h, 0, sizeof(*h));
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &h->inner), 0);
	h->outer = h->inner;
	h->outer.ctx = h;
	h->outer.new_blob_id = ch_new_blob_id;
	h->outer.host_alloc = ch_host_alloc;
	h->outer.host_wait = ch_host_wait;
	h->outer.host_roundtrip = ch_host_roundtrip;
	h->outer.host_import = ch_host_import;
	h->outer.host_free = ch_host_free;
}

/* An allocator that counts what is live per scope. */
struct counting_allocator {
	struct vgalloc_allocator a;
	int64_t live[5];
	struct {
		void *p;
		uint32_t scope;
	} rec[256];
};

static void *ca_alloc(void *user, size_t size, size_t align, uint32_t scope)
{
	struct counting_allocator *ca = user;
	void *p = NULL;

	assert_true(scope <= VGALLOC_SCOPE_INSTANCE);
	if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size)) {
		return NULL;
	}
	for (size_t i = 0; i < 256; i++) {
		if (!ca->rec[i].p) {
			ca->rec[i].p = p;
			ca->rec[i].scope = scope;
			ca->live[scope]++;
			return p;
		}
	}
	fail_msg("counting allocator full");
	return NULL;
}

static void ca_free(void *user, void *p)
{
	struct counting_allocator *ca = user;

	for (size_t i = 0; i < 256; i++) {
		if (ca->rec[i].p == p) {
			ca->live[ca->rec[i].scope]--;
			ca->rec[i].p = NULL;
			free(p);
			return;
		}
	}
	fail_msg("freeing %p, which this allocator never gave", p);
}

static void counting_allocator_init(struct counting_allocator *ca)
{
	memset(ca, 0, sizeof(*ca));
	ca->a = (struct vgalloc_allocator){ ca, ca_alloc, ca_free };
}

static int64_t ca_total(const struct counting_allocator *ca)
{
	int64_t n = 0;

	for (int s = 0; s < 5; s++) {
		n += ca->live[s];
	}
	return n;
}

static struct vgalloc_connection *connect(struct vgalloc_mock *mock, uint32_t mode,
                                          const struct vgalloc_allocator *a)
{
	struct vgalloc_connection_create_info ci = {
		.struct_size = sizeof(ci),
		.backend = VGALLOC_BACKEND_MOCK,
		.mode = mode,
		.flags = mode == VGALLOC_DEVICE_MODE_ADOPT ? VGALLOC_DEVICE_CONTEXT_READY : 0,
		.backend_object = mock,
		.capset_id = VGALLOC_CAPSET_VENUS,
		.allocator = a,
	};
	struct vgalloc_connection *conn = NULL;

	assert_int_equal(vgalloc_connection_create(&ci, &conn), 0);
	assert_non_null(conn);
	return conn;
}

/* A device on the connection: the fixture's memory types, its own hooks and allocator. */
static struct vgalloc_device *join(struct vgalloc_connection *conn, struct counted_hooks *h,
                                   const struct vgalloc_allocator *a)
{
	struct vgalloc_device *dev = NULL;

	assert_int_equal(fx_join(conn, &h->outer, a, &dev), 0);
	return dev;
}

static struct vgalloc_stats stats_of(struct vgalloc_device *dev)
{
	struct vgalloc_stats s = { .struct_size = sizeof(s) };

	assert_int_equal(vgalloc_device_get_stats(dev, &s), 0);
	return s;
}

/* Two devices on one connection: one context, each device's block made through its own hooks
 * in its own pool, one blob table (a blob made through one device is used and freed through the
 * other; a dma-buf of one device's memory imported through the other is the same blob, by the
 * dedup table, with no second GEM handle) and blob counters every device reads alike. */
static void connection__two_devices_share_one_context(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct counted_hooks ha, hb;
	struct vgalloc_connection *conn = connect(mock, VGALLOC_DEVICE_MODE_OWN, NULL);
	struct vgalloc_device *a, *b;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_request re = fx_req(TYPE_HOST_COHERENT, 65536);
	struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };
	struct vgalloc_mem *ma = NULL, *mb = NULL, *me = NULL;
	struct vgalloc_blob_import_info ii = { .struct_size = sizeof(ii),
		                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE };
	struct vgalloc_blob_create_info bi = { .struct_size = sizeof(bi),
		                               .blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		                               .size = 4096 };
	struct vgalloc_blob *blob = NULL, *imp = NULL;
	struct vgalloc_mock_ledger l;
	uint64_t handles;
	void *p = NULL, *pa = NULL;
	int fd = -1;

	(void)state;
	counted_hooks_init(&ha, mock);
	counted_hooks_init(&hb, mock);
	a = join(conn, &ha, NULL);
	b = join(conn, &hb, NULL);
	l = fx_ledger(mock);
	assert_int_equal(l.context, 2);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_CONTEXT_INIT], 1);
	assert_int_equal(vgalloc_device_get_fd(a), vgalloc_device_get_fd(b));

	/* Each device's first suballocation makes a block of its own, through its own hooks. */
	assert_int_equal(vgalloc_mem_alloc(a, &r, &ma), 0);
	assert_int_equal(ha.allocs, 1);
	assert_int_equal(hb.allocs, 0);
	assert_int_equal(vgalloc_mem_alloc(b, &r, &mb), 0);
	assert_int_equal(hb.allocs, 1);
	assert_int_equal(ha.allocs, 1);
	assert_int_equal(stats_of(a).blocks, 1);
	assert_int_equal(stats_of(b).blocks, 1);
	assert_int_equal(vgalloc_mem_map(a, ma, &pa), 0);
	/* A device does not know the other's memory objects. */
	assert_int_equal(vgalloc_mem_free(b, ma), -EINVAL);

	/* A blob created through a, mapped, read back and destroyed through b. */
	assert_int_equal(vgalloc_blob_create(a, &bi, &blob), 0);
	assert_int_equal(vgalloc_blob_map(b, blob, &p), 0);
	memset(p, 0x5a, 4096);
	assert_int_equal(vgalloc_blob_unmap(b, blob), 0);
	assert_int_equal(stats_of(a).blobs_live, stats_of(b).blobs_live);
	assert_int_equal(stats_of(a).blobs_created, stats_of(b).blobs_created);
	assert_int_equal(vgalloc_blob_destroy(b, blob), 0);

	/* a's exported memory (an image's, dedicated), imported through b: the same blob, by the
	 * dedup table, with no second GEM handle. */
	re.flags = VGALLOC_REQUEST_DEDICATED_IMAGE;
	re.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	assert_int_equal(vgalloc_mem_alloc(a, &re, &me), 0);
	assert_int_equal(ha.allocs, 2);
	assert_int_equal(vgalloc_mem_get_info(a, me, &mi), 0);
	assert_int_equal(vgalloc_mem_export(a, me, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd), 0);
	handles = fx_ledger(mock).live_handles;
	assert_int_equal(vgalloc_blob_import_dmabuf(b, fd, &ii, &imp), 0);
	assert_ptr_equal(imp, mi.blob);
	assert_int_equal(fx_ledger(mock).live_handles, handles);
	assert_int_equal(stats_of(b).import_dedups, 1);
	assert_int_equal(stats_of(a).import_dedups, 1);
	assert_int_equal(close(fd), 0);

	/* a goes first, with its memory (through its hooks); the blob b imported stays b's. */
	assert_int_equal(vgalloc_mem_map(a, me, &p), 0);
	memset(p, 0xa5, 65536);
	vgalloc_device_destroy(a);
	assert_int_equal(ha.frees, 2);
	assert_int_equal(hb.frees, 0);
	assert_int_equal(vgalloc_blob_map(b, imp, &p), 0);
	assert_int_equal(((unsigned char *)p)[65535], 0xa5);
	assert_int_equal(vgalloc_blob_unmap(b, imp), 0);
	assert_int_equal(vgalloc_blob_destroy(b, imp), 0);
	assert_int_equal(vgalloc_mem_free(b, mb), 0);
	vgalloc_connection_destroy(conn);
	/* b still holds the connection: the context lives, b allocates. */
	assert_int_equal(fx_ledger(mock).context, 2);
	assert_int_equal(vgalloc_mem_alloc(b, &r, &mb), 0);
	assert_int_equal(vgalloc_mem_free(b, mb), 0);
	vgalloc_device_destroy(b);
	assert_int_equal(hb.frees, hb.allocs);
	fx_assert_clean(mock);
	vgalloc_mock_destroy(mock);
}

/* The connection's bookkeeping comes from its allocator, with instance scope, a device's from
 * the device's: a device's allocator is empty once the device is gone, even when it made blobs
 * that outlive it; the connection's is empty once the last holder is gone. */
static void connection__each_allocator_for_its_own(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct counting_allocator cc, ca;
	struct counted_hooks h;
	struct vgalloc_connection *conn;
	struct vgalloc_device *dev, *dev2;
	struct vgalloc_blob_create_info bi = { .struct_size = sizeof(bi),
		                               .blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		                               .size = 4096 };
	struct vgalloc_blob *blob = NULL;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem *m = NULL;

	(void)state;
	counting_allocator_init(&cc);
	counting_allocator_init(&ca);
	counted_hooks_init(&h, mock);
	conn = connect(mock, VGALLOC_DEVICE_MODE_OWN, &cc.a);
	assert_true(cc.live[VGALLOC_SCOPE_INSTANCE] > 0);
	dev = join(conn, &h, &ca.a);
	dev2 = join(conn, &h, NULL);
	assert_int_equal(ca.live[VGALLOC_SCOPE_INSTANCE], 0);
	assert_true(ca.live[VGALLOC_SCOPE_DEVICE] > 0);

	/* A blob made through dev lives in the connection's slab, from the connection's allocator. */
	assert_int_equal(vgalloc_blob_create(dev, &bi, &blob), 0);
	assert_int_equal(vgalloc_mem_alloc(dev, &r, &m), 0);
	assert_int_equal(ca.live[VGALLOC_SCOPE_INSTANCE], 0);
	assert_true(ca.live[VGALLOC_SCOPE_OBJECT] > 0);
	vgalloc_device_destroy(dev); /* frees m: dev's memory objects are dev's */
	assert_int_equal(ca_total(&ca), 0);

	/* The blob outlives dev and the creator's reference; dev2 frees it. */
	vgalloc_connection_destroy(conn);
	assert_true(cc.live[VGALLOC_SCOPE_INSTANCE] > 0);
	assert_int_equal(vgalloc_blob_destroy(dev2, blob), 0);
	vgalloc_device_destroy(dev2);
	assert_int_equal(ca_total(&cc), 0);
	fx_assert_clean(mock);
	vgalloc_mock_destroy(mock);
}

/* Adopt mode: the connection reads what it needs and runs no CONTEXT_INIT; the caller's context
 * serves every device; the last device leaves a blob it never freed to the connection's
 * teardown, which frees it. */
static void connection__adopted_context_and_leaked_blob(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info bi = { .struct_size = sizeof(bi),
		                               .blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		                               .size = 4096 };
	struct vgalloc_blob *blob = NULL;
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct counted_hooks h;
	struct vgalloc_connection *conn;
	struct vgalloc_device *dev;

	(void)state;
	assert_int_equal(vgalloc_mock_context_init(mock, VGALLOC_CAPSET_VENUS), 0);
	vgalloc_mock_reset_counters(mock);
	conn = connect(mock, VGALLOC_DEVICE_MODE_ADOPT, NULL);
	assert_int_equal(fx_ledger(mock).calls[VGALLOC_MOCK_CALL_CONTEXT_INIT], 0);
	assert_int_equal(vgalloc_connection_get_fd(conn), vgalloc_mock_get_fd(mock));
	counted_hooks_init(&h, mock);
	dev = join(conn, &h, NULL);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.mode, VGALLOC_DEVICE_MODE_ADOPT);
	assert_int_equal(di.capset_id, VGALLOC_CAPSET_VENUS);
	assert_true(di.flags & VGALLOC_DEVICE_CONTEXT_READY);
	assert_int_equal(di.blob_alignment, 4096);
	vgalloc_connection_destroy(conn);
	assert_int_equal(vgalloc_blob_create(dev, &bi, &blob), 0);
	assert_int_equal(fx_ledger(mock).live_blobs, 1);
	vgalloc_device_destroy(dev);
	fx_assert_clean(mock);
	vgalloc_mock_destroy(mock);
}

/* What belongs to the connection cannot be given again to a device that joins it, and a
 * connection its creator has destroyed cannot be joined: -EINVAL, no device, nothing touched. */
static void connection__join_refusals(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_connection *conn = connect(mock, VGALLOC_DEVICE_MODE_OWN, NULL);
	struct counted_hooks h;
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL, *keep;
	struct vgalloc_handle_table table = { .struct_size = sizeof(table) };
	uint64_t calls;

	(void)state;
	counted_hooks_init(&h, mock);
	fx_memory_types(types);
	keep = join(conn, &h, NULL);
	calls = fx_ledger(mock).failable_calls;
	for (int i = 0; i < 13; i++) {
		memset(&ci, 0, sizeof(ci));
		ci.struct_size = sizeof(ci);
		ci.connection = conn;
		ci.memory_types = types;
		ci.memory_type_count = 3;
		ci.hooks = &h.outer;
		switch (i) {
		case 0:
			ci.backend = VGALLOC_BACKEND_MOCK;
			break;
		case 1:
			ci.mode = VGALLOC_DEVICE_MODE_ADOPT;
			break;
		case 2:
			ci.backend_object = mock;
			break;
		case 3:
			ci.capset_id = VGALLOC_CAPSET_VIRGL2;
			break;
		case 4:
			ci.capset_data = types;
			ci.capset_size = 8;
			break;
		case 5:
			ci.params_present = 1u << VGALLOC_PARAM_HOST_VISIBLE;
			break;
		case 6:
			ci.num_rings = 1;
			break;
		case 7:
			ci.debug_name = "x";
			break;
		case 8:
			ci.handle_table = &table;
			break;
		case 9:
			ci.flavour = VGALLOC_FLAVOUR_CHROMEOS;
			break;
		case 10:
			ci.host_page_size = 16384;
			break;
		case 11:
			ci.flags = VGALLOC_DEVICE_SELF_TEST;
			break;
		case 12:
			ci.flags = VGALLOC_DEVICE_GUEST_VRAM;
			break;
		}
		assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
		assert_null(dev);
	}
	/* The connection's own capset id may be repeated. */
	ci.flags = 0;
	ci.capset_id = VGALLOC_CAPSET_VENUS;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	vgalloc_device_destroy(dev);
	dev = NULL;
	vgalloc_connection_destroy(conn);
	ci.capset_id = 0;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	assert_null(dev);
	assert_int_equal(fx_ledger(mock).failable_calls, calls);
	vgalloc_device_destroy(keep);
	fx_assert_clean(mock);
	vgalloc_mock_destroy(mock);
}

/* The connection's create-info: what it refuses (the device's refusals of the same fields, and
 * device flags that are no connection's), before any kernel call. */
static void connection__create_refusals(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct {
		struct vgalloc_connection_create_info ci;
		uint64_t tail[2];
	} in;
	struct vgalloc_connection *conn = NULL;

	(void)state;
	for (int i = 0; i < 7; i++) {
		memset(&in, 0, sizeof(in));
		in.ci.struct_size = sizeof(in.ci);
		in.ci.backend = VGALLOC_BACKEND_MOCK;
		in.ci.mode = VGALLOC_DEVICE_MODE_OWN;
		in.ci.backend_object = mock;
		in.ci.capset_id = VGALLOC_CAPSET_VENUS;
		int want = -EINVAL;
		switch (i) {
		case 0:
			in.ci.struct_size = 8;
			break;
		case 1:
			in.ci.struct_size = sizeof(in);
			in.tail[1] = 1;
			want = -E2BIG;
			break;
		case 2:
			in.ci.flags = VGALLOC_DEVICE_NO_SUBALLOC;
			break;
		case 3:
			in.ci.flags = VGALLOC_DEVICE_PLACED_MAPS;
			break;
		case 4:
			in.ci.mode = 0;
			break;
		case 5:
			in.ci.capset_id = 0;
			break;
		case 6:
			in.ci.mode = VGALLOC_DEVICE_MODE_ADOPT;
			break; /* without CONTEXT_READY */
		}
		assert_int_equal(vgalloc_connection_create(&in.ci, &conn), want);
		assert_null(conn);
	}
	assert_int_equal(vgalloc_connection_create(&in.ci, NULL), -EINVAL);
	assert_int_equal(vgalloc_connection_create(NULL, &conn), -EINVAL);
	assert_int_equal(vgalloc_connection_get_fd(NULL), -EINVAL);
	vgalloc_connection_destroy(NULL);
	assert_int_equal(fx_ledger(mock).failable_calls, 0);
	assert_int_equal(fx_ledger(mock).context, 0);
	fx_assert_clean(mock);
	vgalloc_mock_destroy(mock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connection__two_devices_share_one_context),
		cmocka_unit_test(connection__each_allocator_for_its_own),
		cmocka_unit_test(connection__adopted_context_and_leaked_blob),
		cmocka_unit_test(connection__join_refusals),
		cmocka_unit_test(connection__create_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
