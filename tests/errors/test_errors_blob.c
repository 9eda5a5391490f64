/* SPDX-License-Identifier: MIT */
/*
 * The blob rows of docs/errors.md: creating, mapping, exporting, importing, querying,
 * wrapping, describing and destroying blobs.
 * Each row of their case tables is a case here that makes that bad call on a fresh fixture
 * (errcase.h), and each case is a row of this section, so neither can drift; every case must
 * also change nothing (out parameters, the mock's ledger, the device's stats, no leak at
 * teardown).
 * Covers: vgalloc_blob_create, vgalloc_blob_map, vgalloc_blob_unmap, vgalloc_blob_export_dmabuf,
 * vgalloc_blob_import_dmabuf, vgalloc_blob_query_dmabuf, vgalloc_blob_wrap_handle,
 * vgalloc_blob_get_info, vgalloc_blob_destroy.
 */
#include "errcase.h"

/* ---------------------------------------------------------------------------------------------
 * Runners: a valid input with the case's pokes applied.
 */

static void blob_create__with(struct ctx *c)
{
	static const uint32_t cmd[4];
	struct {
		struct vgalloc_blob_create_info ci;
		uint64_t tail[2];
	} in;

	memset(&in, 0, sizeof(in));
	in.ci.struct_size = sizeof(in.ci);
	in.ci.blob_mem = VGALLOC_BLOB_MEM_HOST3D;
	in.ci.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE;
	in.ci.size = 65536;
	in.ci.cmd = cmd;
	apply_pokes(c, &in, sizeof(in.ci), sizeof(in));
	CALL_INT(c, vgalloc_blob_create(c->f->dev, &in.ci, &c->out_blob));
}

static void blob_import_dmabuf__with(struct ctx *c)
{
	struct {
		struct vgalloc_blob_import_info info;
		uint64_t tail[2];
	} in;
	int fd = foreign_fd(c);

	memset(&in, 0, sizeof(in));
	in.info.struct_size = sizeof(in.info);
	in.info.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE;
	apply_pokes(c, &in, sizeof(in.info), sizeof(in));
	CALL_INT(c, vgalloc_blob_import_dmabuf(c->f->dev, fd, &in.info, &c->out_blob));
}

/* ---------------------------------------------------------------------------------------------
 * Cases.
 */

static void blob_create__null_dev(struct ctx *c)
{
	struct vgalloc_blob_create_info ci = { .struct_size = sizeof(ci),
		                               .blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		                               .size = 65536 };

	CALL_INT(c, vgalloc_blob_create(NULL, &ci, &c->out_blob));
}

static void blob_create__null_info(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_create(c->f->dev, NULL, &c->out_blob));
}

static void blob_create__null_out(struct ctx *c)
{
	struct vgalloc_blob_create_info ci = { .struct_size = sizeof(ci),
		                               .blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		                               .size = 65536 };

	CALL_INT(c, vgalloc_blob_create(c->f->dev, &ci, NULL));
}

static void blob_map__null_dev(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_map(NULL, blob, &c->out_ptr));
}

static void blob_map__null_out(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_map(c->f->dev, blob, NULL));
}

static void blob_map__null_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_map(c->f->dev, NULL, &c->out_ptr));
}

static void blob_map__not_a_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_map(c->f->dev, (struct vgalloc_blob *)c->junk, &c->out_ptr));
}

static void blob_map__destroyed(struct ctx *c)
{
	struct vgalloc_blob *blob = destroyed_blob(c);

	CALL_INT(c, vgalloc_blob_map(c->f->dev, blob, &c->out_ptr));
}

static void blob_map__other_device(struct ctx *c)
{
	struct vgalloc_device *other = adopt_dev(c, NULL);
	struct vgalloc_blob *blob =
	        keep_blob(c, other, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 65536);

	CALL_INT(c, vgalloc_blob_map(c->f->dev, blob, &c->out_ptr));
}

static void blob_map__not_mappable(struct ctx *c)
{
	struct vgalloc_blob *blob = keep_blob(c, c->f->dev, VGALLOC_BLOB_MEM_GUEST, 0, 4096);

	CALL_INT(c, vgalloc_blob_map(c->f->dev, blob, &c->out_ptr));
}

static void blob_map__host_refused(struct ctx *c)
{
	struct vgalloc_blob *blob =
	        keep_blob(c, c->f->dev, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 4096);

	CALL_INT(c, vgalloc_blob_map(c->f->dev, blob, &c->out_ptr));
}

static void blob_unmap__null_dev(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_unmap(NULL, blob));
}

static void blob_unmap__destroyed(struct ctx *c)
{
	struct vgalloc_blob *blob = destroyed_blob(c);

	CALL_INT(c, vgalloc_blob_unmap(c->f->dev, blob));
}

static void blob_unmap__not_mapped(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_unmap(c->f->dev, blob));
}

static void blob_unmap__shmem(struct ctx *c)
{
	struct vgalloc_blob *blob = keep_shmem(c, 4096);

	CALL_INT(c, vgalloc_blob_unmap(c->f->dev, blob));
}

static struct vgalloc_blob *shareable_blob(struct ctx *c)
{
	return keep_blob(c, c->f->dev, VGALLOC_BLOB_MEM_GUEST, VGALLOC_BLOB_FLAG_SHAREABLE, 4096);
}

static void blob_export_dmabuf__null_dev(struct ctx *c)
{
	struct vgalloc_blob *blob = shareable_blob(c);

	CALL_INT(c, vgalloc_blob_export_dmabuf(NULL, blob, &c->out_fd));
}

static void blob_export_dmabuf__null_out(struct ctx *c)
{
	struct vgalloc_blob *blob = shareable_blob(c);

	CALL_INT(c, vgalloc_blob_export_dmabuf(c->f->dev, blob, NULL));
}

static void blob_export_dmabuf__destroyed(struct ctx *c)
{
	struct vgalloc_blob *blob = destroyed_blob(c);

	CALL_INT(c, vgalloc_blob_export_dmabuf(c->f->dev, blob, &c->out_fd));
}

static void blob_export_dmabuf__not_shareable(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_export_dmabuf(c->f->dev, blob, &c->out_fd));
}

static void import(struct ctx *c, struct vgalloc_device *dev, int fd, uint32_t blob_flags,
                   struct vgalloc_blob **out)
{
	struct vgalloc_blob_import_info info = { .struct_size = sizeof(info),
		                                 .blob_flags = blob_flags };

	CALL_INT(c, vgalloc_blob_import_dmabuf(dev, fd, &info, out));
}

static void blob_import_dmabuf__null_dev(struct ctx *c)
{
	import(c, NULL, foreign_fd(c), VGALLOC_BLOB_FLAG_MAPPABLE, &c->out_blob);
}

static void blob_import_dmabuf__null_out(struct ctx *c)
{
	import(c, c->f->dev, foreign_fd(c), VGALLOC_BLOB_FLAG_MAPPABLE, NULL);
}

static void blob_import_dmabuf__fd_negative(struct ctx *c)
{
	import(c, c->f->dev, -1, VGALLOC_BLOB_FLAG_MAPPABLE, &c->out_blob);
}

static void blob_import_dmabuf__fd_closed(struct ctx *c)
{
	import(c, c->f->dev, closed_fd(), VGALLOC_BLOB_FLAG_MAPPABLE, &c->out_blob);
}

static void blob_import_dmabuf__not_dmabuf(struct ctx *c)
{
	import(c, c->f->dev, pipe_fd(c), VGALLOC_BLOB_FLAG_MAPPABLE, &c->out_blob);
}

/* A dma-buf of this device's exported memory: its blob is in the dedup table. */
static int tracked_fd(struct ctx *c)
{
	struct vgalloc_mem *mem =
	        keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 65536, 0, VGALLOC_HANDLE_TYPE_DMA_BUF);
	int fd = -1;

	assert_int_equal(vgalloc_mem_export(c->f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd), 0);
	return keep_fd(c, fd);
}

static void blob_import_dmabuf__flags_missing(struct ctx *c)
{
	import(c, c->f->dev, tracked_fd(c),
	       VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_CROSS_DEVICE, &c->out_blob);
}

static void blob_import_dmabuf__other_blob_mem(struct ctx *c)
{
	import(c, c->f->dev, guest_fd(c), 0, &c->out_blob);
}

static void query(struct ctx *c, struct vgalloc_device *dev, int fd, uint32_t size, bool null_info)
{
	struct vgalloc_blob_info info = { .struct_size = size };

	CALL_INT(c, vgalloc_blob_query_dmabuf(dev, fd, null_info ? NULL : &info));
}

static void blob_query_dmabuf__null_dev(struct ctx *c)
{
	query(c, NULL, foreign_fd(c), sizeof(struct vgalloc_blob_info), false);
}

static void blob_query_dmabuf__null_info(struct ctx *c)
{
	query(c, c->f->dev, foreign_fd(c), 0, true);
}

static void blob_query_dmabuf__struct_size_small(struct ctx *c)
{
	query(c, c->f->dev, foreign_fd(c), 8, false);
}

static void blob_query_dmabuf__fd_negative(struct ctx *c)
{
	query(c, c->f->dev, -1, sizeof(struct vgalloc_blob_info), false);
}

static void blob_query_dmabuf__fd_closed(struct ctx *c)
{
	query(c, c->f->dev, closed_fd(), sizeof(struct vgalloc_blob_info), false);
}

static void blob_query_dmabuf__not_dmabuf(struct ctx *c)
{
	query(c, c->f->dev, pipe_fd(c), sizeof(struct vgalloc_blob_info), false);
}

static void blob_query_dmabuf__other_blob_mem(struct ctx *c)
{
	query(c, c->f->dev, guest_fd(c), sizeof(struct vgalloc_blob_info), false);
}

static void blob_wrap_handle__null_dev(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_wrap_handle(NULL, 1, 0, &c->out_blob));
}

static void blob_wrap_handle__null_out(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_wrap_handle(c->f->dev, 1, 0, NULL));
}

static void blob_wrap_handle__handle_0(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_wrap_handle(c->f->dev, 0, 0, &c->out_blob));
}

/* A GEM handle the consumer made on the fixture's mock, closed after the checks. */
static uint32_t raw_handle(struct ctx *c, uint32_t blob_mem, uint32_t flags, uint64_t blob_id)
{
	uint32_t handle = 0, res = 0;

	assert_int_equal(
	        vgalloc_mock_blob_create(c->f->mock, blob_mem, flags, 4096, blob_id, &handle, &res),
	        0);
	assert_true(c->nhandles < MAX_KEEP);
	c->handles[c->nhandles++] = handle;
	return handle;
}

static void blob_wrap_handle__unknown_flags(struct ctx *c)
{
	uint32_t h = raw_handle(c, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 0);

	CALL_INT(c, vgalloc_blob_wrap_handle(c->f->dev, h, BIT31, &c->out_blob));
}

static void blob_wrap_handle__unknown_handle(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_wrap_handle(c->f->dev, 4242, 0, &c->out_blob));
}

static void blob_wrap_handle__guest_blob(struct ctx *c)
{
	uint32_t h = raw_handle(c, VGALLOC_BLOB_MEM_GUEST, 0, 0);

	CALL_INT(c, vgalloc_blob_wrap_handle(c->f->dev, h, 0, &c->out_blob));
}

static void blob_wrap_handle__flags_missing(struct ctx *c)
{
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	struct vgalloc_blob *blob = mappable_blob(c);

	assert_int_equal(vgalloc_blob_get_info(c->f->dev, blob, &info), 0);
	CALL_INT(c,
	         vgalloc_blob_wrap_handle(c->f->dev, info.gem_handle,
	                                  VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE,
	                                  &c->out_blob));
}

static void blob_info(struct ctx *c, struct vgalloc_device *dev, struct vgalloc_blob *blob,
                      uint32_t size, bool null_info)
{
	struct vgalloc_blob_info info = { .struct_size = size };

	CALL_INT(c, vgalloc_blob_get_info(dev, blob, null_info ? NULL : &info));
}

static void blob_get_info__null_dev(struct ctx *c)
{
	blob_info(c, NULL, mappable_blob(c), sizeof(struct vgalloc_blob_info), false);
}

static void blob_get_info__null_info(struct ctx *c)
{
	blob_info(c, c->f->dev, mappable_blob(c), 0, true);
}

static void blob_get_info__destroyed(struct ctx *c)
{
	blob_info(c, c->f->dev, destroyed_blob(c), sizeof(struct vgalloc_blob_info), false);
}

static void blob_get_info__struct_size_small(struct ctx *c)
{
	blob_info(c, c->f->dev, mappable_blob(c), 8, false);
}

static void blob_destroy__null_dev(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_destroy(NULL, blob));
}

static void blob_destroy__null_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, NULL));
}

static void blob_destroy__double(struct ctx *c)
{
	struct vgalloc_blob *blob = destroyed_blob(c);

	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, blob));
}

static void blob_destroy__other_device(struct ctx *c)
{
	struct vgalloc_device *other = adopt_dev(c, NULL);
	struct vgalloc_blob *blob =
	        keep_blob(c, other, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 65536);

	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, blob));
}

static void blob_destroy__not_a_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, (struct vgalloc_blob *)c->junk));
}

static void blob_destroy__mem_pointer(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_DEVICE_LOCAL, 4096, 0, 0);

	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, (struct vgalloc_blob *)(void *)mem));
}

static void blob_destroy__backs_memory(struct ctx *c)
{
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mem *mem =
	        keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 65536, 0, VGALLOC_HANDLE_TYPE_DMA_BUF);

	assert_int_equal(vgalloc_mem_get_info(c->f->dev, mem, &info), 0);
	assert_non_null(info.blob);
	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, info.blob));
}

static void blob_destroy__shmem(struct ctx *c)
{
	struct vgalloc_blob *blob = keep_shmem(c, 4096);

	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, blob));
}

/* ---------------------------------------------------------------------------------------------
 * The table. Ids are stable: docs/errors.md names them.
 */

/* clang-format off */
#define BC(n, ...)               WITH(blob_create, n, blob_create__with, __VA_ARGS__)
#define BI(n, ...)               WITH(blob_import_dmabuf, n, blob_import_dmabuf__with, __VA_ARGS__)
/* clang-format on */

static const struct errcase cases[] = {
	ONE(blob_create, null_dev),
	ONE(blob_create, null_info),
	ONE(blob_create, null_out),
	BC("struct_size_small", P(BCI, struct_size, 8)),
	BC("unknown_tail", TAIL(BCI)),
	BC("size_zero", P(BCI, size, 0)),
	BC("size_overflow", P(BCI, size, UINT64_MAX - 100)),
	BC("blob_mem_0", P(BCI, blob_mem, 0)),
	BC("blob_mem_guest_vram", P(BCI, blob_mem, 4)),
	BC("unknown_flag", P(BCI, blob_flags, VGALLOC_BLOB_FLAG_MAPPABLE | BIT31)),
	BC("cmd_size_unaligned", P(BCI, cmd_size, 6)),
	BC("cmd_null", P(BCI, cmd_size, 16), P(BCI, cmd, 0)),
	BC("cmd_too_big", P(BCI, cmd_size, (1u << 20) + 4)),
	BC("guest_blob_id", P(BCI, blob_mem, VGALLOC_BLOB_MEM_GUEST), P(BCI, blob_id, 7)),
	BC("guest_cmd", P(BCI, blob_mem, VGALLOC_BLOB_MEM_GUEST), P(BCI, cmd_size, 16)),
	BC("cross_device",
	   P(BCI, blob_flags, VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_CROSS_DEVICE)),
	C("blob_create.no_window", vgalloc_blob_create, blob_create__with,
	  .opts = { .mock_flags = VGALLOC_MOCK_NO_WINDOW }),
	C("blob_create.window_full", vgalloc_blob_create, blob_create__with,
	  .opts = { .window = 1u << 20 }, .pokes = { P(BCI, size, 2u << 20) }),
	ONE(blob_map, null_dev),
	ONE(blob_map, null_out),
	ONE(blob_map, null_blob),
	ONE(blob_map, not_a_blob),
	ONE(blob_map, destroyed),
	ONE(blob_map, other_device),
	ONE(blob_map, not_mappable),
	C("blob_map.host_refused", vgalloc_blob_map, blob_map__host_refused,
	  .opts = { .host_page = 16384 }),
	ONE(blob_unmap, null_dev),
	ONE(blob_unmap, destroyed),
	ONE(blob_unmap, not_mapped),
	ONE(blob_unmap, shmem),
	ONE(blob_export_dmabuf, null_dev),
	ONE(blob_export_dmabuf, null_out),
	ONE(blob_export_dmabuf, destroyed),
	ONE(blob_export_dmabuf, not_shareable),
	ONE(blob_import_dmabuf, null_dev),
	ONE(blob_import_dmabuf, null_out),
	BI("struct_size_small", P(BII, struct_size, 8)),
	BI("unknown_tail", TAIL(BII)),
	BI("query_only", P(BII, flags, VGALLOC_IMPORT_QUERY_ONLY)),
	BI("unknown_flag", P(BII, flags, BIT31)),
	BI("unknown_blob_flags", P(BII, blob_flags, BIT31)),
	BI("reserved", P(BII, reserved, 1)),
	ONE(blob_import_dmabuf, fd_negative),
	ONE(blob_import_dmabuf, fd_closed),
	ONE(blob_import_dmabuf, not_dmabuf),
	BI("too_small", P(BII, size, 1u << 20)),
	ONE(blob_import_dmabuf, flags_missing),
	ONE(blob_import_dmabuf, other_blob_mem),
	ONE(blob_query_dmabuf, null_dev),
	ONE(blob_query_dmabuf, null_info),
	ONE(blob_query_dmabuf, struct_size_small),
	ONE(blob_query_dmabuf, fd_negative),
	ONE(blob_query_dmabuf, fd_closed),
	ONE(blob_query_dmabuf, not_dmabuf),
	ONE(blob_query_dmabuf, other_blob_mem),
	ONE(blob_wrap_handle, null_dev),
	ONE(blob_wrap_handle, null_out),
	ONE(blob_wrap_handle, handle_0),
	ONE(blob_wrap_handle, unknown_flags),
	ONE(blob_wrap_handle, unknown_handle),
	ONE(blob_wrap_handle, guest_blob),
	ONE(blob_wrap_handle, flags_missing),
	ONE(blob_get_info, null_dev),
	ONE(blob_get_info, null_info),
	ONE(blob_get_info, destroyed),
	ONE(blob_get_info, struct_size_small),
	ONE(blob_destroy, null_dev),
	ONE(blob_destroy, null_blob),
	ONE(blob_destroy, double),
	ONE(blob_destroy, other_device),
	ONE(blob_destroy, not_a_blob),
	ONE(blob_destroy, mem_pointer),
	ONE(blob_destroy, backs_memory),
	ONE(blob_destroy, shmem),
};

int main(void)
{
	return errcase_main("blob", cases, ARRAY_LEN(cases));
}
