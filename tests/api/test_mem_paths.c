/* SPDX-License-Identifier: MIT */
/*
 * Golden call sequences of every memory path, checked call by call against the mock's trace:
 * host-only, host-first lazy (with and without wait commands), host-first eager, guest-first,
 * guest-handle and import, plus the mock host catching a wrong order.
 * Covers: vgalloc_mem_alloc, vgalloc_mem_map, vgalloc_mem_unmap, vgalloc_mem_export,
 * vgalloc_mem_get_info, vgalloc_mem_free.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "../harness.h"

#define MAPPABLE     VGALLOC_BLOB_FLAG_MAPPABLE
#define SHAREABLE    VGALLOC_BLOB_FLAG_SHAREABLE
#define HOST3D       VGALLOC_BLOB_MEM_HOST3D
#define GUEST        VGALLOC_BLOB_MEM_GUEST
#define GUEST_HANDLE VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE

/* A gfxstream guest (flavour, capset with deferredMapping and a 16 KiB blobAlignment) on a kernel
 * that does or does not have CREATE_GUEST_HANDLE. */
static struct fx *fx_gfxstream(uint32_t mock_flags)
{
	return fx_new(&(struct fx_opts){ .mock_flags = mock_flags,
	                                 .flavour = VGALLOC_FLAVOUR_GFXSTREAM,
	                                 .capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN });
}

static struct vgalloc_request exported_image(uint32_t type, uint64_t size)
{
	struct vgalloc_request r = fx_req(type, size);

	r.flags = VGALLOC_REQUEST_DEDICATED_IMAGE;
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	return r;
}

static void mem_alloc__host_only_makes_no_blob(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_DEVICE_LOCAL, 1 << 20);
	struct vgalloc_mem *mem = NULL;
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID), CALL(HOST_ALLOC));
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	assert_int_equal(info.path, VGALLOC_PATH_HOST_ONLY);
	assert_null(info.blob);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), -EINVAL);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(HOST_FREE));
	fx_free(f);
}

static void mem_alloc__host_first_lazy_golden(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 65536);
	struct vgalloc_mem *mem = NULL;
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	void *p = NULL, *q = NULL;

	(void)state;
	/* A dedicated allocation: its own blob, the path's full sequence. */
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	/* Host allocation only: never-mapped memory costs no blob, as in stock Venus. */
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID), CALL(HOST_ALLOC));
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	assert_int_equal(info.path, VGALLOC_PATH_HOST_FIRST_LAZY);
	assert_int_equal(info.res_id, 0);
	assert_int_not_equal(info.host_handle, 0);

	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), 0);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CREATE(HOST3D, MAPPABLE, info.blob_id),
	             CALL(BLOB_MAP));
	memset(p, 0x5a, 65536);
	/* A second map is answered from the blob's one mapping. */
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &q), 0);
	assert_ptr_equal(p, q);
	assert_int_equal(
	        vgalloc_mock_get_trace(f->mock, (struct vgalloc_mock_trace_entry[1]){ 0 }, 1), 0);
	assert_int_equal(vgalloc_mem_unmap(f->dev, mem), 0);
	assert_int_equal(vgalloc_mem_unmap(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(BLOB_UNMAP));
	assert_int_equal(vgalloc_mem_unmap(f->dev, mem), -EINVAL);

	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(BLOB_DESTROY), CALL(HOST_FREE));
	fx_free(f);
}

static void mem_alloc__host_first_lazy_wait_cmd_golden(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .hooks_flags = VGALLOC_MOCK_HOOKS_WAIT_CMD });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mock_trace_entry e[8];
	struct vgalloc_mem *mem = NULL;
	void *p = NULL;

	(void)state;
	/* A dedicated allocation: its own blob, the path's full sequence. */
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), 0);
	/* The wait travels inside CREATE_BLOB: one guest exit instead of two. */
	assert_int_equal(vgalloc_mock_get_trace(f->mock, e, 8), 3);
	assert_int_equal(e[0].call, VGALLOC_MOCK_CALL_HOST_WAIT);
	assert_int_equal(e[1].call, VGALLOC_MOCK_CALL_BLOB_CREATE);
	assert_int_not_equal(e[1].cmd_size, 0);
	assert_int_equal(e[1].cmd_size % 4, 0);
	assert_int_equal(e[2].call, VGALLOC_MOCK_CALL_BLOB_MAP);
	assert_int_equal(e[2].result, 0);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_mem_unmap(f->dev, mem), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	/* The token was processed through the command: teardown does not wait again. */
	EXPECT_CALLS(f->mock, CALL(BLOB_UNMAP), CALL(BLOB_DESTROY), CALL(HOST_FREE));
	fx_free(f);
}

static void mem_free__never_mapped_lazy_waits_then_frees(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_CACHED, 4096);
	struct vgalloc_mem *mem = NULL;

	(void)state;
	/* A dedicated allocation: its own blob, the path's full sequence. */
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(HOST_FREE));
	fx_free(f);
}

static void mem_alloc__host_first_eager_export_golden(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 8192);
	struct vgalloc_mem *mem = NULL;
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	unsigned char *p, *q;
	int fd = -1;

	(void)state;
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID), CALL(HOST_ALLOC), CALL(HOST_WAIT),
	             CREATE(HOST3D, MAPPABLE | SHAREABLE, info.blob_id));
	assert_int_equal(info.path, VGALLOC_PATH_HOST_FIRST_EAGER);
	assert_int_not_equal(info.res_id, 0);

	/* Only the handle type the allocation was made for. */
	assert_int_equal(vgalloc_mem_export(f->dev, mem, VGALLOC_HANDLE_TYPE_OPAQUE_FD, &fd),
	                 -EINVAL);
	assert_int_equal(vgalloc_mem_export(f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd), 0);
	assert_true(fd >= 0);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, (void **)&p), 0);
	memcpy(p, "venus", 6);
	q = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(q != MAP_FAILED);
	assert_string_equal((char *)q, "venus");
	munmap(q, 8192);
	close(fd);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(BLOB_UNMAP), CALL(BLOB_DESTROY), CALL(HOST_FREE));
	fx_free(f);
}

static void mem_alloc__guest_first_golden(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 65536);
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mem *mem = NULL;
	void *p = NULL;

	(void)state;
	/* A dedicated allocation: its own blob, the path's full sequence. */
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	/* The static profile's Venus capset says use_guest_vram = 1: the device goes guest-first. */
	assert_int_equal(vgalloc_device_get_info(f->dev, &di), 0);
	assert_int_equal(di.alloc_mode, VGALLOC_ALLOC_MODE_GUEST_FIRST);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID), CREATE(HOST3D, MAPPABLE, info.blob_id),
	             CALL(HOST_ROUNDTRIP), CALL(HOST_IMPORT));
	assert_int_equal(info.path, VGALLOC_PATH_GUEST_FIRST);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), 0);
	memset(p, 1, 65536);
	EXPECT_CALLS(f->mock, CALL(BLOB_MAP));
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(BLOB_UNMAP), CALL(BLOB_DESTROY),
	             CALL(HOST_FREE));
	fx_free(f);
}

static void mem_alloc__guest_first_export_is_mappable_shareable(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC });
	struct vgalloc_request r = fx_req(TYPE_DEVICE_LOCAL, 65536);
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mem *mem = NULL;
	int fd = -1;

	(void)state;
	/* Device-local but exported: guest-first still needs a window-backed (mappable) blob. */
	r.export_handle_types = VGALLOC_HANDLE_TYPE_OPAQUE_FD;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID), CREATE(HOST3D, MAPPABLE | SHAREABLE, info.blob_id),
	             CALL(HOST_ROUNDTRIP), CALL(HOST_IMPORT));
	assert_int_equal(vgalloc_mem_export(f->dev, mem, VGALLOC_HANDLE_TYPE_OPAQUE_FD, &fd), 0);
	close(fd);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	fx_free(f);
}

static void mem_alloc__guest_handle_golden(void **state)
{
	struct fx *f = fx_gfxstream(VGALLOC_MOCK_GUEST_HANDLE);
	struct vgalloc_request r = exported_image(TYPE_HOST_COHERENT, 20000);
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_mock_trace_entry e[8];
	struct vgalloc_mem *mem = NULL;
	unsigned char *p, *q;
	int fd = -1;

	(void)state;
	assert_int_equal(vgalloc_device_get_info(f->dev, &di), 0);
	assert_int_equal(di.create_guest_handle, 1);
	assert_int_equal(di.blob_alignment, 16384);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	assert_int_equal(info.path, VGALLOC_PATH_GUEST_HANDLE);
	assert_int_equal(info.blob_mem, GUEST);
	assert_int_equal(info.blob_flags, MAPPABLE | SHAREABLE | GUEST_HANDLE);
	assert_int_equal(info.committed, 32768);
	assert_int_not_equal(info.res_id, 0);
	assert_int_not_equal(info.host_handle, 0);
	/* Every call names the one blob id: the GUEST blob carries it, the host takes the handle it
	 * filed under it after the placeholder submit and wait (host_roundtrip). */
	assert_int_equal(vgalloc_mock_get_trace(f->mock, e, 8), 4);
	assert_int_equal(e[0].blob_id, info.blob_id);
	assert_int_equal(e[1].size, 32768);
	assert_int_equal(e[1].cmd_size, 0);
	assert_int_equal(e[2].res_id, info.res_id);
	assert_int_equal(e[3].res_id, info.res_id);
	assert_int_equal(e[3].blob_id, info.blob_id);
	assert_int_equal(e[3].size, 20000); /* the mock's hook imports the exact requested size */
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID),
	             CREATE(GUEST, MAPPABLE | SHAREABLE | GUEST_HANDLE, info.blob_id),
	             CALL(HOST_ROUNDTRIP), CALL(HOST_IMPORT));

	assert_int_equal(vgalloc_mem_map(f->dev, mem, (void **)&p), 0);
	EXPECT_CALLS(f->mock, CALL(BLOB_MAP));
	memcpy(p, "gfxstream", 10);
	assert_int_equal(vgalloc_mem_export(f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd), 0);
	EXPECT_CALLS(f->mock, CALL(BLOB_EXPORT));
	q = mmap(NULL, 32768, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(q != MAP_FAILED);
	assert_string_equal((char *)q, "gfxstream");
	munmap(q, 32768);
	close(fd);
	assert_int_equal(vgalloc_mem_unmap(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(BLOB_UNMAP));

	/* The fixed teardown order: the pending import is waited for, the guest pages go, then the
	 * host allocation. */
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(BLOB_DESTROY), CALL(HOST_FREE));
	fx_free(f);
}

static void mem_alloc__guest_handle_mapped_free_golden(void **state)
{
	struct fx *f = fx_gfxstream(VGALLOC_MOCK_GUEST_HANDLE);
	struct vgalloc_request r = exported_image(TYPE_HOST_CACHED, 4096);
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mem *mem = NULL;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID),
	             CREATE(GUEST, MAPPABLE | SHAREABLE | GUEST_HANDLE, info.blob_id),
	             CALL(HOST_ROUNDTRIP), CALL(HOST_IMPORT));
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), 0);
	memset(p, 3, 16384);
	vgalloc_mock_reset_counters(f->mock);
	/* Freed while mapped: munmap before the GEM close, the host allocation last. */
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(BLOB_UNMAP), CALL(BLOB_DESTROY),
	             CALL(HOST_FREE));
	fx_free(f);
}

static void mem_alloc__guest_handle_device_local_image_is_never_mapped(void **state)
{
	struct fx *f = fx_gfxstream(VGALLOC_MOCK_GUEST_HANDLE);
	struct vgalloc_request r = exported_image(TYPE_DEVICE_LOCAL, 65536);
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mem *mem = NULL;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	assert_int_equal(info.path, VGALLOC_PATH_GUEST_HANDLE);
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID),
	             CREATE(GUEST, MAPPABLE | SHAREABLE | GUEST_HANDLE, info.blob_id),
	             CALL(HOST_ROUNDTRIP), CALL(HOST_IMPORT));
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), -EINVAL);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(BLOB_DESTROY), CALL(HOST_FREE));
	fx_free(f);
}

/* Without the kernel's param (or under another numbering) the same request is host-first eager:
 * the flag never reaches a kernel that would refuse it. */
static void mem_alloc__guest_handle_needs_the_param(void **state)
{
	struct fx *f = fx_gfxstream(0);
	struct vgalloc_request r = exported_image(TYPE_HOST_COHERENT, 20000);
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mem *mem = NULL;

	(void)state;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	assert_int_equal(info.path, VGALLOC_PATH_HOST_FIRST_EAGER);
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID), CALL(HOST_ALLOC), CALL(HOST_WAIT),
	             CREATE(HOST3D, MAPPABLE | SHAREABLE, info.blob_id));
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	fx_free(f);

	f = fx_new(&(struct fx_opts){ .mock_flags = VGALLOC_MOCK_GUEST_HANDLE });
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	assert_int_equal(info.path, VGALLOC_PATH_HOST_FIRST_EAGER);
	assert_int_equal(info.blob_mem, HOST3D);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	fx_free(f);
}

static void mem_alloc__import_golden(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 16384);
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mem *mem = NULL;
	uint64_t foreign = 0;
	unsigned char *p;
	int fd = -1;

	(void)state;
	/* Another process's buffer: a host-first blob, exported, its handle closed. */
	fd = fx_foreign_dmabuf(f, 16384, &foreign);
	vgalloc_mock_reset_counters(f->mock);
	r.flags = VGALLOC_REQUEST_IMPORT_FD;
	r.import_fd = fd;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	EXPECT_CALLS(f->mock, CALL(NEW_BLOB_ID), CALL(BLOB_IMPORT), CALL(BLOB_INFO),
	             CALL(HOST_ROUNDTRIP), CALL(HOST_IMPORT));
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	assert_int_equal(info.path, VGALLOC_PATH_IMPORT);
	assert_int_not_equal(info.res_id, 0);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, (void **)&p), 0);
	p[0] = 7;
	EXPECT_CALLS(f->mock, CALL(BLOB_MAP));
	/* The fd was borrowed: still ours, still open. */
	assert_true(fcntl_ok(fd));
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(HOST_WAIT), CALL(BLOB_UNMAP), CALL(BLOB_DESTROY),
	             CALL(HOST_FREE));
	fx_foreign_release(f, fd, foreign);
	fx_free(f);
}

static void mem_map__host_first_on_static_fails_at_map(void **state)
{
	/* A host-first allocation on a hypervisor that cannot inject: create succeeds, map fails. */
	struct fx *f = fx_new(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC,
	                                         .alloc_mode = VGALLOC_ALLOC_MODE_HOST_FIRST });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem *mem = NULL;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), -EINVAL);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	fx_free(f);
}

/* Hooks that skip the wait: the mock host must notice CREATE_BLOB for an unprocessed id. */
static int bad_wait(void *ctx, uint64_t token, uint32_t flags, void *cmd, uint32_t *size)
{
	(void)ctx;
	(void)token;
	(void)flags;
	(void)cmd;
	if (size) {
		*size = 0;
	}
	return 0;
}

static void mem_map__create_before_host_wait_is_caught(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_host_hooks hooks = f->hooks;
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mock *mock;
	struct vgalloc_mem *mem = NULL;
	struct vgalloc_mock_ledger l;
	void *p;

	(void)state;
	fx_free(f);
	mock = fx_mock_new(&(struct fx_opts){ 0 });
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &hooks), 0);
	hooks.host_wait = bad_wait;
	f = &(struct fx){ .mock = mock, .hooks = hooks };
	fx_create_info(f, &(struct fx_opts){ 0 }, types, &ci);
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem), 0);
	/* CREATE_BLOB still returns 0 (host errors are asynchronous); the map fails. */
	assert_int_equal(vgalloc_mem_map(dev, mem, &p), -EINVAL);
	l = fx_ledger(mock);
	assert_true(l.order_violations >= 1);
	assert_int_equal(vgalloc_mem_free(dev, mem), 0);
	vgalloc_device_destroy(dev);
	vgalloc_mock_destroy(mock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mem_alloc__host_only_makes_no_blob),
		cmocka_unit_test(mem_alloc__host_first_lazy_golden),
		cmocka_unit_test(mem_alloc__host_first_lazy_wait_cmd_golden),
		cmocka_unit_test(mem_free__never_mapped_lazy_waits_then_frees),
		cmocka_unit_test(mem_alloc__host_first_eager_export_golden),
		cmocka_unit_test(mem_alloc__guest_first_golden),
		cmocka_unit_test(mem_alloc__guest_first_export_is_mappable_shareable),
		cmocka_unit_test(mem_alloc__guest_handle_golden),
		cmocka_unit_test(mem_alloc__guest_handle_mapped_free_golden),
		cmocka_unit_test(mem_alloc__guest_handle_device_local_image_is_never_mapped),
		cmocka_unit_test(mem_alloc__guest_handle_needs_the_param),
		cmocka_unit_test(mem_alloc__import_golden),
		cmocka_unit_test(mem_map__host_first_on_static_fails_at_map),
		cmocka_unit_test(mem_map__create_before_host_wait_is_caught),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
