/* SPDX-License-Identifier: MIT */
/*
 * Fault injection on every failable backend and hook call of every flow: each flow is run once to
 * count its calls, then once per (call, errno) with that call failing. Every time the error comes
 * back (or, for a teardown wait, is retried), nothing leaks and the device still works. The test
 * counts injection points and checks they equal the calls made.
 * Covers: vgalloc_device_create (own, adopt), vgalloc_blob_*, vgalloc_mem_* on every path.
 */
#include <unistd.h>

#include "../harness.h"

#define MAPPABLE  VGALLOC_BLOB_FLAG_MAPPABLE
#define SHAREABLE VGALLOC_BLOB_FLAG_SHAREABLE

struct flow {
	const char *name;
	struct fx_opts opts;
	bool device_flow; /* the flow creates the device itself */
	int (*setup)(struct fx *f, int *fd);
	int (*run)(struct fx *f, int fd);
};

static int first_error(int *first, int ret)
{
	if (ret && !*first) {
		*first = ret;
	}
	return ret;
}

static int flow_device(struct fx *f, int fd)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;
	int ret;

	(void)fd;
	fx_create_info(f, &f->opts_for_flow, types, &ci);
	ret = vgalloc_device_create(&ci, &dev);
	vgalloc_device_destroy(dev);
	return ret;
}

static int flow_host_only(struct fx *f, int fd)
{
	struct vgalloc_request r = fx_req(TYPE_DEVICE_LOCAL, 1 << 16);
	struct vgalloc_mem *mem = NULL;
	int ret;

	(void)fd;
	ret = vgalloc_mem_alloc(f->dev, &r, &mem);
	vgalloc_mem_free(f->dev, mem);
	return ret;
}

static int flow_map_write_free(struct fx *f, struct vgalloc_request *r)
{
	struct vgalloc_mem *mem = NULL;
	int first = 0;
	void *p;

	if (first_error(&first, vgalloc_mem_alloc(f->dev, r, &mem))) {
		return first;
	}
	if (!first_error(&first, vgalloc_mem_map(f->dev, mem, &p))) {
		memset(p, 0x11, 64);
		first_error(&first, vgalloc_mem_unmap(f->dev, mem));
	}
	if (r->export_handle_types) {
		int out = -1;

		if (!first_error(&first,
		                 vgalloc_mem_export(f->dev, mem, r->export_handle_types, &out))) {
			close(out);
		}
	}
	first_error(&first, vgalloc_mem_free(f->dev, mem));
	return first;
}

static int flow_lazy(struct fx *f, int fd)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 12288);

	(void)fd;
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	return flow_map_write_free(f, &r);
}

/* Suballocations: two share a block; the block is made, mapped once, kept, then trimmed. */
static int flow_pool(struct fx *f, int fd)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 12288);
	struct vgalloc_mem *a = NULL, *b = NULL;
	int first = 0;
	void *p;

	(void)fd;
	if (first_error(&first, vgalloc_mem_alloc(f->dev, &r, &a))) {
		return first;
	}
	if (!first_error(&first, vgalloc_mem_map(f->dev, a, &p))) {
		memset(p, 0x22, 12288);
	}
	if (!first_error(&first, vgalloc_mem_alloc(f->dev, &r, &b))) {
		if (!first_error(&first, vgalloc_mem_map(f->dev, b, &p))) {
			memset(p, 0x33, 12288);
		}
		vgalloc_mem_free(f->dev, b);
	}
	vgalloc_mem_free(f->dev, a);
	vgalloc_device_trim(f->dev);
	return first;
}

/* Block growth: enough mapped suballocations that the pool adds blocks, then trim. */
static int flow_pool_growth(struct fx *f, int fd)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 256 << 10);
	struct vgalloc_mem *m[20] = { 0 };
	int first = 0;
	void *p;

	(void)fd;
	for (int i = 0; i < 20 && !first; i++) {
		if (!first_error(&first, vgalloc_mem_alloc(f->dev, &r, &m[i])) &&
		    !first_error(&first, vgalloc_mem_map(f->dev, m[i], &p))) {
			memset(p, i, 64);
		}
	}
	for (int i = 0; i < 20; i++) {
		vgalloc_mem_free(f->dev, m[i]);
	}
	vgalloc_device_trim(f->dev);
	return first;
}

/* Shared-memory blobs: a miss, a cached reuse, an uncached size, then trim. */
static int flow_shmem(struct fx *f, int fd)
{
	struct vgalloc_blob *a = NULL, *b = NULL;
	int first = 0;
	void *p;

	(void)fd;
	if (first_error(&first, vgalloc_shmem_create(f->dev, 4096, &a, &p))) {
		return first;
	}
	memset(p, 0x44, 4096);
	vgalloc_shmem_destroy(f->dev, a);
	if (!first_error(&first, vgalloc_shmem_create(f->dev, 4096, &a, &p))) {
		if (!first_error(&first, vgalloc_shmem_create(f->dev, 12288, &b, &p))) {
			memset(p, 0x55, 12288);
			vgalloc_shmem_destroy(f->dev, b);
		}
		vgalloc_shmem_destroy(f->dev, a);
	}
	vgalloc_device_trim(f->dev);
	return first;
}

static int flow_eager(struct fx *f, int fd)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_CACHED, 4096);

	(void)fd;
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	return flow_map_write_free(f, &r);
}

/* Guest-handle: an exported dedicated image of an odd size on a gfxstream guest whose kernel has
 * CREATE_GUEST_HANDLE (GUEST blob, placeholder round trip, host import; map, export, free). */
static int flow_guest_handle(struct fx *f, int fd)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 20000);

	(void)fd;
	r.flags = VGALLOC_REQUEST_DEDICATED_IMAGE;
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	return flow_map_write_free(f, &r);
}

static int flow_import(struct fx *f, int fd)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

	r.flags = VGALLOC_REQUEST_IMPORT_FD;
	r.import_fd = fd;
	return flow_map_write_free(f, &r);
}

static int setup_foreign_dmabuf(struct fx *f, int *fd)
{
	*fd = fx_foreign_dmabuf(f, 4096, &f->foreign_host);
	return 0;
}

static int flow_blob(struct fx *f, int fd)
{
	/* A Venus context maps HOST3D blob_id-0 blobs only when they are MAPPABLE alone, so one
	 * blob is mapped and another one is exported and imported again (a dedup hit). */
	struct vgalloc_blob_create_info ci = {
		.struct_size = sizeof(ci),
		.blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		.blob_flags = MAPPABLE,
		.size = 8192,
	};
	struct vgalloc_blob *a = NULL, *b = NULL, *c = NULL;
	int first = 0, out = -1;
	void *p;

	(void)fd;
	if (first_error(&first, vgalloc_blob_create(f->dev, &ci, &a))) {
		return first;
	}
	if (!first_error(&first, vgalloc_blob_map(f->dev, a, &p))) {
		memset(p, 1, 8192);
		vgalloc_blob_unmap(f->dev, a);
	}
	ci.blob_flags = SHAREABLE;
	if (!first_error(&first, vgalloc_blob_create(f->dev, &ci, &b))) {
		if (!first_error(&first, vgalloc_blob_export_dmabuf(f->dev, b, &out))) {
			if (!first_error(&first,
			                 vgalloc_blob_import_dmabuf(f->dev, out, NULL, &c))) {
				vgalloc_blob_destroy(f->dev, c);
			}
			close(out);
		}
		vgalloc_blob_destroy(f->dev, b);
	}
	vgalloc_blob_destroy(f->dev, a);
	return first;
}

static int flow_blob_import_fresh(struct fx *f, int fd)
{
	struct vgalloc_blob *b = NULL;
	int ret;

	ret = vgalloc_blob_import_dmabuf(f->dev, fd, NULL, &b);
	if (!ret) {
		vgalloc_blob_destroy(f->dev, b);
	}
	return ret;
}

/* Errors the kernel or host can return at each kind of call. */
static const int *errs_for(uint32_t call)
{
	static const int create[] = { ENOSPC, ENOMEM, EINVAL, 0 };
	static const int map[] = { EINVAL, ENOMEM, 0 };
	static const int export[] = { EMFILE, ENOMEM, 0 };
	static const int import[] = { EBADF, ENOMEM, 0 };
	static const int info[] = { EINVAL, EIO, 0 };
	static const int ctx[] = { EINVAL, ENOMEM, 0 };
	static const int rd[] = { EIO, EFAULT, 0 };
	static const int host[] = { EIO, ENOMEM, 0 };
	static const int other[] = { EIO, 0 };

	switch (call) {
	case VGALLOC_MOCK_CALL_BLOB_CREATE:
		return create;
	case VGALLOC_MOCK_CALL_BLOB_MAP:
		return map;
	case VGALLOC_MOCK_CALL_BLOB_EXPORT:
		return export;
	case VGALLOC_MOCK_CALL_BLOB_IMPORT:
		return import;
	case VGALLOC_MOCK_CALL_BLOB_INFO:
		return info;
	case VGALLOC_MOCK_CALL_CONTEXT_INIT:
		return ctx;
	case VGALLOC_MOCK_CALL_GET_PARAM:
	case VGALLOC_MOCK_CALL_GET_CAPSET:
		return rd;
	case VGALLOC_MOCK_CALL_HOST_ALLOC:
	case VGALLOC_MOCK_CALL_HOST_IMPORT:
		return host;
	default:
		return other;
	}
}

/* What the library must return for an injected -err at a call of this kind. */
static int expected(uint32_t call, int err)
{
	if (call == VGALLOC_MOCK_CALL_BLOB_IMPORT && err == EBADF) {
		return -EINVAL; /* the fd is the application's: a bad fd is a bad argument */
	}
	return -err;
}

static struct fx *fixture(const struct flow *fl, int *fd)
{
	struct fx *f;

	*fd = -1;
	if (fl->device_flow) {
		f = calloc(1, sizeof(*f));
		assert_non_null(f);
		f->fds_before = count_open_fds();
		f->mock = fx_mock_new(&fl->opts);
		assert_int_equal(vgalloc_mock_get_hooks(f->mock, 0, &f->hooks), 0);
		f->opts_for_flow = fl->opts;
		if (fl->opts.mode == VGALLOC_DEVICE_MODE_ADOPT) {
			assert_int_equal(vgalloc_mock_context_init(f->mock, VGALLOC_CAPSET_VENUS),
			                 0);
		}
	} else {
		f = fx_new(&fl->opts);
		if (fl->setup) {
			fl->setup(f, fd);
		}
	}
	vgalloc_mock_reset_counters(f->mock);
	return f;
}

static void fixture_free(struct fx *f, int fd)
{
	if (fd >= 0) {
		fx_foreign_release(f, fd, f->foreign_host);
	}
	fx_free(f);
}

static uint32_t sweep(const struct flow *fl)
{
	struct vgalloc_mock_trace_entry trace[256];
	uint32_t kinds[256];
	uint32_t n = 0, points = 0;
	struct fx *f;
	int fd, count;

	/* Counting run: which failable calls does the flow make, in order? */
	f = fixture(fl, &fd);
	assert_int_equal(fl->run(f, fd), 0);
	count = vgalloc_mock_get_trace(f->mock, trace, 256);
	assert_true(count > 0 && count < 256);
	for (int i = 0; i < count; i++) {
		if (vgalloc_mock_call_failable(trace[i].call)) {
			kinds[n++] = trace[i].call;
		}
	}
	assert_int_equal(fx_ledger(f->mock).failable_calls, n);
	fixture_free(f, fd);

	for (uint32_t i = 1; i <= n; i++) {
		for (const int *err = errs_for(kinds[i - 1]); *err; err++) {
			struct vgalloc_mock_trace_entry t[256];
			int ret, got;

			f = fixture(fl, &fd);
			assert_int_equal(
			        vgalloc_mock_fail_nth(f->mock, VGALLOC_MOCK_CALL_ANY, i, *err), 0);
			ret = fl->run(f, fd);
			assert_true(vgalloc_mock_fail_fired(f->mock));
			got = vgalloc_mock_get_trace(f->mock, t, 256);
			if (ret == 0) {
				/* Only a teardown wait may fail silently, and it must be retried; and
				 * a pool block's blob that finds the window full is retried smaller
				 * (docs/window-full.md), after the undo of what it had made. */
				int at = -1, next = -1;

				for (int k = 0, seen = 0; k < got; k++) {
					if (vgalloc_mock_call_failable(t[k].call) &&
					    ++seen == (int)i) {
						at = k;
					} else if (at >= 0 && t[k].call == t[at].call) {
						next = k;
						break;
					}
				}
				assert_true(at >= 0 && at + 1 < got);
				if (t[at].call == VGALLOC_MOCK_CALL_BLOB_CREATE && *err == ENOSPC) {
					assert_true(next > at);
					assert_int_equal(t[next].result, 0);
					assert_true(t[next].size < t[at].size);
				} else {
					assert_int_equal(t[at].call, VGALLOC_MOCK_CALL_HOST_WAIT);
					assert_int_equal(t[at + 1].call,
					                 VGALLOC_MOCK_CALL_HOST_WAIT);
				}
			} else if (ret != expected(kinds[i - 1], *err)) {
				print_message("%s: call %u (%s) failed with %d, flow returned %d\n",
				              fl->name, i, vgalloc_mock_call_name(kinds[i - 1]),
				              -*err, ret);
				fx_print_trace(f->mock);
				fail();
			}
			vgalloc_mock_fail_clear(f->mock);
			/* Nothing leaked, nothing out of order (fixtures holding a foreign dma-buf are
			 * checked when it is released) ... */
			if (fd < 0 &&
			    (!fl->device_flow || fl->opts.mode == VGALLOC_DEVICE_MODE_ADOPT)) {
				fx_assert_clean(f->mock);
			}
			/* ... and the device still works. */
			if (!fl->device_flow) {
				assert_int_equal(fl->run(f, fd), 0);
			}
			fixture_free(f, fd);
			points++;
		}
	}
	print_message("  %-22s %2u failable calls, %3u injections\n", fl->name, n, points);
	return n;
}

static void faults__every_call_of_every_flow(void **state)
{
	const struct flow flows[] = {
		{ "device-own", { 0 }, true, NULL, flow_device },
		{ "device-adopt", { .mode = VGALLOC_DEVICE_MODE_ADOPT }, true, NULL, flow_device },
		{ "blob", { 0 }, false, NULL, flow_blob },
		{ "blob-import", { 0 }, false, setup_foreign_dmabuf, flow_blob_import_fresh },
		{ "mem-host-only", { 0 }, false, NULL, flow_host_only },
		{ "mem-host-first-lazy", { 0 }, false, NULL, flow_lazy },
		{ "mem-lazy-wait-cmd",
		  { .hooks_flags = VGALLOC_MOCK_HOOKS_WAIT_CMD },
		  false,
		  NULL,
		  flow_lazy },
		{ "mem-host-first-eager", { 0 }, false, NULL, flow_eager },
		{ "mem-guest-first",
		  { .profile = VGALLOC_MOCK_PROFILE_STATIC },
		  false,
		  NULL,
		  flow_lazy },
		{ "mem-guest-first-export",
		  { .profile = VGALLOC_MOCK_PROFILE_STATIC },
		  false,
		  NULL,
		  flow_eager },
		{ "mem-import", { 0 }, false, setup_foreign_dmabuf, flow_import },
		{ "mem-gfxstream-deferred",
		  { .flavour = VGALLOC_FLAVOUR_GFXSTREAM,
		    .capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN },
		  false,
		  NULL,
		  flow_lazy },
		{ "mem-guest-handle",
		  { .mock_flags = VGALLOC_MOCK_GUEST_HANDLE,
		    .flavour = VGALLOC_FLAVOUR_GFXSTREAM,
		    .capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN },
		  false,
		  NULL,
		  flow_guest_handle },
		{ "pool-host-first", { 0 }, false, NULL, flow_pool },
		{ "pool-host-first-wait-cmd",
		  { .hooks_flags = VGALLOC_MOCK_HOOKS_WAIT_CMD },
		  false,
		  NULL,
		  flow_pool },
		{ "pool-guest-first",
		  { .profile = VGALLOC_MOCK_PROFILE_STATIC },
		  false,
		  NULL,
		  flow_pool },
		{ "pool-growth", { 0 }, false, NULL, flow_pool_growth },
		{ "pool-growth-guest-first",
		  { .profile = VGALLOC_MOCK_PROFILE_STATIC },
		  false,
		  NULL,
		  flow_pool_growth },
		{ "shmem", { 0 }, false, NULL, flow_shmem },
	};
	uint32_t total = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		total += sweep(&flows[i]);
	}
	print_message("  injection points covered: %u (= failable calls counted)\n", total);
	assert_true(total > 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(faults__every_call_of_every_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
