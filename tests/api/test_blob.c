/* SPDX-License-Identifier: MIT */
/*
 * Blobs: exact CREATE_BLOB arguments, rounding, the one refcounted mapping, export flags and fd
 * ownership, import dedup by GEM handle, wrap, query-only imports, ENOSPC, the rules of the
 * downstream CREATE_GUEST_HANDLE flag, and bad input.
 * Covers: vgalloc_blob_create, vgalloc_blob_map, vgalloc_blob_unmap, vgalloc_blob_export_dmabuf,
 * vgalloc_blob_import_dmabuf, vgalloc_blob_wrap_handle, vgalloc_blob_query_dmabuf,
 * vgalloc_blob_get_info, vgalloc_blob_destroy.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "../harness.h"
#include "blob.h"
#include "caps.h"
#include "mem.h"
#include "state.h"

#define MAPPABLE  VGALLOC_BLOB_FLAG_MAPPABLE
#define SHAREABLE VGALLOC_BLOB_FLAG_SHAREABLE

static struct vgalloc_blob_create_info ci_of(uint32_t mem, uint32_t flags, uint64_t size,
                                             uint64_t id)
{
	struct vgalloc_blob_create_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.struct_size = sizeof(ci);
	ci.blob_mem = mem;
	ci.blob_flags = flags;
	ci.size = size;
	ci.blob_id = id;
	return ci;
}

static void blob_create__rounds_and_passes_exact_args(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE, 5000, 0);
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mock_trace_entry e[4];
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc_blob *b = NULL;

	(void)state;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
	assert_int_equal(vgalloc_mock_get_trace(f->mock, e, 4), 1);
	assert_int_equal(e[0].blob_mem, VGALLOC_BLOB_MEM_HOST3D);
	assert_int_equal(e[0].blob_flags, MAPPABLE);
	assert_int_equal(e[0].size, 8192);
	assert_int_equal(e[0].blob_id, 0);
	assert_int_equal(vgalloc_blob_get_info(f->dev, b, &info), 0);
	assert_int_equal(info.size, 8192);
	assert_int_equal(info.origin, VGALLOC_BLOB_CREATED);
	assert_int_equal(info.refcount, 1);
	assert_int_not_equal(info.res_id, 0);
	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(st.blobs_live, 1);
	assert_int_equal(st.window_bytes, 8192);
	assert_int_equal(fx_ledger(f->mock).window_bytes, 8192);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(st.blobs_live, 0);
	assert_int_equal(st.window_bytes, 0);
	fx_free(f);
}

static void blob_create__bad_input_changes_nothing(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob *b = (void *)0x1;
	struct vgalloc_blob_create_info ci;
	uint32_t cmd[2] = { 0 };
	struct {
		struct vgalloc_blob_create_info ci;
		uint32_t tail;
	} big;

	(void)state;
	ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE, 0, 0);
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	ci.size = UINT64_MAX;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	ci.size = UINT64_MAX - 4094; /* overflows when rounded to the alignment */
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	ci = ci_of(0, MAPPABLE, 4096, 0);
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	ci = ci_of(4, MAPPABLE, 4096, 0); /* downstream GUEST_VRAM: not configured */
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, 0x8, 4096, 0); /* ChromeOS bit on mainline */
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	ci = ci_of(VGALLOC_BLOB_MEM_GUEST, MAPPABLE, 4096, 5);
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE, 4096, 5);
	ci.cmd = cmd;
	ci.cmd_size = 6;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	ci.cmd = NULL;
	ci.cmd_size = 8;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_CROSS_DEVICE, 4096, 0);
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EOPNOTSUPP);
	memset(&big, 0, sizeof(big));
	big.ci = ci_of(VGALLOC_BLOB_MEM_GUEST, MAPPABLE, 4096, 0);
	big.ci.struct_size = sizeof(big);
	big.tail = 3;
	assert_int_equal(vgalloc_blob_create(f->dev, &big.ci, &b), -E2BIG);
	assert_int_equal(vgalloc_blob_create(NULL, &big.ci, &b), -EINVAL);
	assert_int_equal(vgalloc_blob_create(f->dev, NULL, &b), -EINVAL);
	assert_ptr_equal(b, (void *)0x1);
	/* None of these reached the kernel. */
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_BLOB_CREATE], 0);
	fx_free(f);
}

/* CREATE_GUEST_HANDLE: GUEST blobs only, with their blob_id, and only where the flavour's param
 * says the kernel has it. */
static void blob_create__guest_handle_only_where_the_param_says(void **state)
{
	const uint32_t gh = VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE;
	struct fx *f = fx_new(&(struct fx_opts){ .mock_flags = VGALLOC_MOCK_GUEST_HANDLE,
	                                         .flavour = VGALLOC_FLAVOUR_GFXSTREAM,
	                                         .capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_GUEST, MAPPABLE | gh, 5000, 7);
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mock_trace_entry e[2];
	struct vgalloc_blob *b = NULL;

	(void)state;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
	assert_int_equal(vgalloc_mock_get_trace(f->mock, e, 2), 1);
	assert_int_equal(e[0].blob_mem, VGALLOC_BLOB_MEM_GUEST);
	assert_int_equal(e[0].blob_flags, MAPPABLE | gh);
	assert_int_equal(e[0].blob_id, 7);
	assert_int_equal(e[0].size, 16384); /* the capset's blobAlignment */
	assert_int_equal(vgalloc_blob_get_info(f->dev, b, &info), 0);
	assert_int_equal(info.blob_flags, MAPPABLE | gh);
	assert_int_equal(info.blob_id, 7);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	vgalloc_mock_reset_counters(f->mock);
	/* Only on GUEST blobs. */
	ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE | gh, 4096, 7);
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	ci = ci_of(VGALLOC_BLOB_MEM_HOST3D_GUEST, MAPPABLE | gh, 4096, 7);
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EINVAL);
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_BLOB_CREATE], 0);
	fx_free(f);

	/* The same flavour on a kernel without the param: the device does not have it. */
	f = fx_new(&(struct fx_opts){ .flavour = VGALLOC_FLAVOUR_GFXSTREAM,
	                              .capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN });
	ci = ci_of(VGALLOC_BLOB_MEM_GUEST, MAPPABLE | gh, 4096, 7);
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EOPNOTSUPP);
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_BLOB_CREATE], 0);
	fx_free(f);

	/* Upstream numbering has no CREATE_GUEST_HANDLE, whatever param 10 answers. */
	f = fx_new(&(struct fx_opts){ .mock_flags = VGALLOC_MOCK_GUEST_HANDLE });
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EOPNOTSUPP);
	fx_free(f);
}

static void blob_create__guest_blob_needs_no_window(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .mock_flags = VGALLOC_MOCK_NO_WINDOW });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_GUEST, MAPPABLE, 4096, 0);
	struct vgalloc_blob *b = NULL;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
	assert_int_equal(vgalloc_blob_map(f->dev, b, &p), 0);
	memset(p, 3, 4096);
	assert_int_equal(vgalloc_blob_unmap(f->dev, b), 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE, 4096, 0);
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -EOPNOTSUPP);
	fx_free(f);
}

static void blob_create__window_full_is_enospc_then_ok_after_free(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .window = 1 << 20 });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE, 768 << 10, 0);
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc_blob *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &a), 0);
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), -ENOSPC);
	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(st.enospc_events, 1);
	assert_int_equal(st.blobs_live, 1);
	assert_int_equal(vgalloc_blob_destroy(f->dev, a), 0);
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	fx_free(f);
}

static void blob_map__one_mapping_refcounted(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE, 4096, 0);
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	struct vgalloc_blob *b = NULL;
	void *p = NULL, *q = NULL;

	(void)state;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
	assert_int_equal(vgalloc_blob_unmap(f->dev, b), -EINVAL);
	assert_int_equal(vgalloc_blob_map(f->dev, b, &p), 0);
	assert_int_equal(vgalloc_blob_map(f->dev, b, &q), 0);
	assert_ptr_equal(p, q);
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_BLOB_MAP], 1);
	assert_int_equal(vgalloc_blob_get_info(f->dev, b, &info), 0);
	assert_int_equal(info.map_count, 2);
	assert_ptr_equal(info.map, p);
	assert_int_equal(vgalloc_blob_unmap(f->dev, b), 0);
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_BLOB_UNMAP], 0);
	/* Destroying a still-mapped blob unmaps it first. */
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_BLOB_UNMAP], 1);
	fx_free(f);
}

static void blob_map__not_mappable_is_einval(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, SHAREABLE, 4096, 0);
	struct vgalloc_blob *b = NULL;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
	assert_int_equal(vgalloc_blob_map(f->dev, b, &p), -EINVAL);
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_BLOB_MAP], 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	fx_free(f);
}

static void blob_export__shareable_only_cloexec_rdwr(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE, 4096, 0);
	struct vgalloc_blob *b = NULL, *s = NULL;
	int fd = -1;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
	assert_int_equal(vgalloc_blob_export_dmabuf(f->dev, b, &fd), -EINVAL);
	assert_int_equal(fd, -1);
	ci.blob_flags = MAPPABLE | SHAREABLE;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &s), 0);
	assert_int_equal(vgalloc_blob_export_dmabuf(f->dev, s, &fd), 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	munmap(p, 4096);
	/* The fd is the caller's: destroying the blob leaves it open. */
	assert_int_equal(vgalloc_blob_destroy(f->dev, s), 0);
	assert_true(fcntl_ok(fd));
	close(fd);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	fx_free(f);
}

static void blob_import__self_import_dedups_to_same_blob(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci =
	        ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE | SHAREABLE, 8192, 0);
	struct vgalloc_blob_import_info ii = { .struct_size = sizeof(ii) };
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc_blob *b = NULL, *c = NULL, *d = (void *)0x1;
	int fd = -1;

	(void)state;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
	assert_int_equal(vgalloc_blob_export_dmabuf(f->dev, b, &fd), 0);
	ii.blob_flags = MAPPABLE;
	ii.size = 8192;
	assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fd, &ii, &c), 0);
	assert_ptr_equal(b, c);
	assert_int_equal(vgalloc_blob_get_info(f->dev, b, &info), 0);
	assert_int_equal(info.refcount, 2);
	/* A re-import asking for more than the blob has fails and changes nothing. */
	ii.size = 16384;
	assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fd, &ii, &d), -EINVAL);
	ii.size = 0;
	ii.blob_flags = VGALLOC_BLOB_FLAG_CROSS_DEVICE;
	assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fd, &ii, &d), -EINVAL);
	assert_ptr_equal(d, (void *)0x1);
	assert_int_equal(vgalloc_blob_get_info(f->dev, b, &info), 0);
	assert_int_equal(info.refcount, 2);
	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(st.import_dedups, 1);
	/* No GEM close until the last reference goes. */
	assert_int_equal(vgalloc_blob_destroy(f->dev, c), 0);
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_BLOB_DESTROY], 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_BLOB_DESTROY], 1);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), -EINVAL);
	close(fd);
	fx_free(f);
}

static void blob_import__bad_fds(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob *b = (void *)0x1;
	int fds[2];

	(void)state;
	assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, -1, NULL, &b), -EINVAL);
	assert_int_equal(pipe(fds), 0);
	close(fds[1]);
	/* A closed fd, and a file that is no dma-buf of this device. */
	assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fds[1], NULL, &b), -EINVAL);
	assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fds[0], NULL, &b), -EINVAL);
	close(fds[0]);
	assert_ptr_equal(b, (void *)0x1);
	fx_free(f);
}

static void blob_import__non_blob_or_other_blob_mem_is_refused(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_GUEST, SHAREABLE, 4096, 0);
	struct vgalloc_blob *g = NULL, *b = (void *)0x1;
	struct vgalloc_mock_ledger before, after;
	uint32_t handle, res;
	int fd = -1;

	(void)state;
	/* A GUEST blob in the dedup table: a dedup hit, so the consumer sees its own blob. */
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &g), 0);
	assert_int_equal(vgalloc_blob_export_dmabuf(f->dev, g, &fd), 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, g), 0);
	/* Now no one tracks it: a fresh import sees blob_mem GUEST, not the device's HOST3D. */
	before = fx_ledger(f->mock);
	assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fd, NULL, &b), -EINVAL);
	after = fx_ledger(f->mock);
	assert_int_equal(after.live_handles, before.live_handles);
	close(fd);
	assert_ptr_equal(b, (void *)0x1);
	(void)handle;
	(void)res;
	fx_free(f);
}

static void blob_query__leaves_dedup_table_as_it_was(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci =
	        ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE | SHAREABLE, 4096, 0);
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	struct vgalloc_blob *b = NULL;
	int fd = -1;

	(void)state;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
	assert_int_equal(vgalloc_blob_export_dmabuf(f->dev, b, &fd), 0);
	/* Tracked: answered from the table, the handle stays open. */
	assert_int_equal(vgalloc_blob_query_dmabuf(f->dev, fd, &info), 0);
	assert_int_equal(info.refcount, 1);
	assert_int_equal(fx_ledger(f->mock).live_handles, 1);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	/* Untracked: imported, described, closed again. */
	assert_int_equal(vgalloc_blob_query_dmabuf(f->dev, fd, &info), 0);
	assert_int_equal(info.size, 4096);
	assert_int_equal(info.blob_mem, VGALLOC_BLOB_MEM_HOST3D);
	assert_int_equal(fx_ledger(f->mock).live_handles, 0);
	close(fd);
	fx_free(f);
}

static void blob_wrap__consumer_bo_is_owned_after_success(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT });
	struct vgalloc_blob *b = NULL, *c = NULL;
	uint32_t handle = 0, res = 0;

	(void)state;
	assert_int_equal(vgalloc_mock_blob_create(f->mock, VGALLOC_BLOB_MEM_HOST3D, MAPPABLE, 4096,
	                                          0, &handle, &res),
	                 0);
	assert_int_equal(vgalloc_blob_wrap_handle(f->dev, 0, 0, &b), -EINVAL);
	assert_int_equal(vgalloc_blob_wrap_handle(f->dev, handle + 100, 0, &b), -EINVAL);
	assert_int_equal(vgalloc_blob_wrap_handle(f->dev, handle, MAPPABLE, &b), 0);
	assert_int_equal(vgalloc_blob_wrap_handle(f->dev, handle, MAPPABLE, &c), 0);
	assert_ptr_equal(b, c);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, c), 0);
	/* The library closed it: a second close by the consumer is the kernel's EINVAL. */
	assert_int_equal(vgalloc_mock_gem_close(f->mock, handle), -EINVAL);
	fx_free(f);
}

static void blob_destroy__double_and_foreign_are_einval(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct fx *g = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_GUEST, MAPPABLE, 4096, 0);
	struct vgalloc_blob *b = NULL, *other = NULL;
	char stack_junk[256] = { 0 };
	void *p;

	(void)state;
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
	assert_int_equal(vgalloc_blob_create(g->dev, &ci, &other), 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, other), -EINVAL);
	assert_int_equal(vgalloc_blob_destroy(f->dev, (void *)stack_junk), -EINVAL);
	assert_int_equal(vgalloc_blob_map(f->dev, other, &p), -EINVAL);
	assert_int_equal(vgalloc_blob_destroy(f->dev, NULL), 0);
	assert_int_equal(vgalloc_blob_destroy(NULL, b), -EINVAL);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), -EINVAL);
	assert_int_equal(vgalloc_blob_map(f->dev, b, &p), -EINVAL);
	assert_int_equal(vgalloc_blob_destroy(g->dev, other), 0);
	fx_free(g);
	fx_free(f);
}

static void blob_destroy__blob_of_live_memory_is_ebusy(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mem *mem = NULL;

	(void)state;
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &info), 0);
	assert_non_null(info.blob);
	assert_int_equal(vgalloc_blob_destroy(f->dev, info.blob), -EBUSY);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	fx_free(f);
}

static void blob_create__heavy_cycle_leaks_nothing(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_HOST3D, MAPPABLE, 4096, 0);
	uint32_t n = test_scale(20000);

	(void)state;
	for (uint32_t i = 0; i < n; i++) {
		struct vgalloc_blob *b = NULL;
		void *p;

		assert_int_equal(vgalloc_blob_create(f->dev, &ci, &b), 0);
		assert_int_equal(vgalloc_blob_map(f->dev, b, &p), 0);
		((volatile char *)p)[0] = (char)i;
		assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	}
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_BLOB_CREATE], n);
	fx_free(f);
}

struct lock_probe {
	struct vgalloc_device *dev;
	int lines;
	int locked;
};

static void probe_locks(void *user, enum vgalloc_log_level level, const char *msg)
{
	struct lock_probe *p = user;

	(void)level;
	(void)msg;
	p->lines++;
	/* The callback may call back into the library: no library lock may be held here. */
	if (pthread_mutex_trylock(&p->dev->fd->import_lock)) {
		p->locked++;
	} else {
		pthread_mutex_unlock(&p->dev->fd->import_lock);
	}
	if (pthread_mutex_trylock(&p->dev->fd->lock)) {
		p->locked++;
	} else {
		pthread_mutex_unlock(&p->dev->fd->lock);
	}
}

static void blob_destroy__failed_gem_close_logs_without_locks(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT });
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct lock_probe probe = { .dev = f->dev };
	struct vgalloc_blob *b = NULL;
	uint32_t handle = 0, res = 0;

	(void)state;
	f->dev->log_fn = probe_locks;
	f->dev->log_user = &probe;
	f->dev->log_level = VGALLOC_LOG_DEBUG;
	assert_int_equal(vgalloc_mock_blob_create(f->mock, VGALLOC_BLOB_MEM_HOST3D, MAPPABLE, 4096,
	                                          0, &handle, &res),
	                 0);
	assert_int_equal(vgalloc_blob_wrap_handle(f->dev, handle, MAPPABLE, &b), 0);
	/* The consumer breaks the contract and closes the handle itself. */
	assert_int_equal(vgalloc_mock_gem_close(f->mock, handle), 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(st.teardown_errors, 1);
	assert_true(probe.lines >= 1);
	assert_int_equal(probe.locked, 0);
	fx_free(f);
}

static void blob_import__tracked_blob_of_other_blob_mem_is_refused(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_blob_create_info ci = ci_of(VGALLOC_BLOB_MEM_GUEST, SHAREABLE, 4096, 0);
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_blob *g = NULL, *b = (void *)0x1;
	struct vgalloc_mem *mem = (void *)0x1;
	int fd = -1;

	(void)state;
	/* Tracked (a dedup hit) or not, a GUEST blob cannot back this device's memory. */
	assert_int_equal(vgalloc_blob_create(f->dev, &ci, &g), 0);
	assert_int_equal(vgalloc_blob_export_dmabuf(f->dev, g, &fd), 0);
	assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fd, NULL, &b), -EINVAL);
	r.flags = VGALLOC_REQUEST_IMPORT_FD;
	r.import_fd = fd;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	assert_ptr_equal(b, (void *)0x1);
	assert_ptr_equal(mem, (void *)0x1);
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_HOST_IMPORT], 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, g), 0);
	close(fd);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blob_create__rounds_and_passes_exact_args),
		cmocka_unit_test(blob_create__bad_input_changes_nothing),
		cmocka_unit_test(blob_create__guest_handle_only_where_the_param_says),
		cmocka_unit_test(blob_create__guest_blob_needs_no_window),
		cmocka_unit_test(blob_create__window_full_is_enospc_then_ok_after_free),
		cmocka_unit_test(blob_map__one_mapping_refcounted),
		cmocka_unit_test(blob_map__not_mappable_is_einval),
		cmocka_unit_test(blob_export__shareable_only_cloexec_rdwr),
		cmocka_unit_test(blob_import__self_import_dedups_to_same_blob),
		cmocka_unit_test(blob_import__bad_fds),
		cmocka_unit_test(blob_import__non_blob_or_other_blob_mem_is_refused),
		cmocka_unit_test(blob_query__leaves_dedup_table_as_it_was),
		cmocka_unit_test(blob_wrap__consumer_bo_is_owned_after_success),
		cmocka_unit_test(blob_destroy__double_and_foreign_are_einval),
		cmocka_unit_test(blob_destroy__blob_of_live_memory_is_ebusy),
		cmocka_unit_test(blob_create__heavy_cycle_leaks_nothing),
		cmocka_unit_test(blob_destroy__failed_gem_close_logs_without_locks),
		cmocka_unit_test(blob_import__tracked_blob_of_other_blob_mem_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
