/* SPDX-License-Identifier: MIT */
/*
 * The memory rows of docs/errors.md: allocating (imports included), mapping, exporting,
 * describing and freeing memory objects.
 * Each row of their case tables is a case here that makes that bad call on a fresh fixture
 * (errcase.h), and each case is a row of this section, so neither can drift; every case must
 * also change nothing (out parameters, the mock's ledger, the device's stats, no leak at
 * teardown).
 * Covers: vgalloc_mem_alloc, vgalloc_mem_map, vgalloc_mem_unmap, vgalloc_mem_export,
 * vgalloc_mem_get_info, vgalloc_mem_free.
 */
#include "errcase.h"

/* ---------------------------------------------------------------------------------------------
 * Runners: a valid input with the case's pokes applied.
 */

static void mem_alloc__with(struct ctx *c)
{
	struct req_in in;

	req_in(c, &in);
	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, &in.r, &c->out_mem));
}

/* ---------------------------------------------------------------------------------------------
 * Cases.
 */

static void mem_alloc__null_dev(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

	CALL_INT(c, vgalloc_mem_alloc(NULL, &r, &c->out_mem));
}

static void mem_alloc__null_req(struct ctx *c)
{
	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, NULL, &c->out_mem));
}

static void mem_alloc__null_out(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, &r, NULL));
}

static void alloc_import(struct ctx *c, int fd, uint64_t size)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, size);

	r.flags = VGALLOC_REQUEST_IMPORT_FD;
	r.import_fd = fd;
	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, &r, &c->out_mem));
}

static void mem_alloc__import_fd_closed(struct ctx *c)
{
	alloc_import(c, closed_fd(), 4096);
}

static void mem_alloc__import_not_dmabuf(struct ctx *c)
{
	alloc_import(c, pipe_fd(c), 4096);
}

static void mem_alloc__import_too_small(struct ctx *c)
{
	alloc_import(c, foreign_fd(c), 1u << 20);
}

static void mem_alloc__import_other_blob_mem(struct ctx *c)
{
	alloc_import(c, guest_fd(c), 4096);
}

static void mem_alloc__no_hooks(struct ctx *c)
{
	struct vgalloc_device *dev = adopt_dev(c, NULL);
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

	CALL_INT(c, vgalloc_mem_alloc(dev, &r, &c->out_mem));
}

static void mem_alloc__hook_error(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_DEVICE_LOCAL, 4096);

	assert_int_equal(vgalloc_mock_fail_nth(c->f->mock, VGALLOC_MOCK_CALL_HOST_ALLOC, 1, EPROTO),
	                 0);
	c->fault_armed = true;
	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, &r, &c->out_mem));
}

static void mem_alloc__blob_id_zero(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_DEVICE_LOCAL, 4096);

	r.flags = VGALLOC_REQUEST_BLOB_ID;
	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, &r, &c->out_mem));
}

static void mem_map__null_dev(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_map(NULL, mem, &c->out_ptr));
}

static void mem_map__null_out(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_map(c->f->dev, mem, NULL));
}

static void mem_map__null_mem(struct ctx *c)
{
	CALL_INT(c, vgalloc_mem_map(c->f->dev, NULL, &c->out_ptr));
}

static void mem_map__freed(struct ctx *c)
{
	struct vgalloc_mem *mem = freed_mem(c, TYPE_HOST_COHERENT);

	CALL_INT(c, vgalloc_mem_map(c->f->dev, mem, &c->out_ptr));
}

static void mem_map__other_device(struct ctx *c)
{
	struct vgalloc_device *other = adopt_dev(c, &c->f->hooks);
	struct vgalloc_mem *mem = keep_mem(c, other, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_map(c->f->dev, mem, &c->out_ptr));
}

static void mem_map__device_local(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_DEVICE_LOCAL, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_map(c->f->dev, mem, &c->out_ptr));
}

static void mem_map__window_full(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 2u << 20,
	                                   VGALLOC_REQUEST_DEDICATED_REQUIRED, 0);

	drain_host(c);
	CALL_INT(c, vgalloc_mem_map(c->f->dev, mem, &c->out_ptr));
}

static void mem_unmap__null_dev(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_unmap(NULL, mem));
}

static void mem_unmap__freed(struct ctx *c)
{
	struct vgalloc_mem *mem = freed_mem(c, TYPE_HOST_COHERENT);

	CALL_INT(c, vgalloc_mem_unmap(c->f->dev, mem));
}

static void mem_unmap__not_mapped(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_unmap(c->f->dev, mem));
}

static struct vgalloc_mem *exportable_mem(struct ctx *c)
{
	return keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 65536, 0,
	                VGALLOC_HANDLE_TYPE_DMA_BUF | VGALLOC_HANDLE_TYPE_OPAQUE_FD);
}

static void mem_export__null_dev(struct ctx *c)
{
	struct vgalloc_mem *mem = exportable_mem(c);

	CALL_INT(c, vgalloc_mem_export(NULL, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &c->out_fd));
}

static void mem_export__null_out(struct ctx *c)
{
	struct vgalloc_mem *mem = exportable_mem(c);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, NULL));
}

static void mem_export__freed(struct ctx *c)
{
	struct vgalloc_mem *mem = freed_mem(c, TYPE_HOST_COHERENT);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &c->out_fd));
}

static void mem_export__not_exportable(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &c->out_fd));
}

static void mem_export__other_type(struct ctx *c)
{
	struct vgalloc_mem *mem =
	        keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 65536, 0, VGALLOC_HANDLE_TYPE_DMA_BUF);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem, VGALLOC_HANDLE_TYPE_OPAQUE_FD, &c->out_fd));
}

static void mem_export__two_types(struct ctx *c)
{
	struct vgalloc_mem *mem = exportable_mem(c);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem,
	                               VGALLOC_HANDLE_TYPE_DMA_BUF | VGALLOC_HANDLE_TYPE_OPAQUE_FD,
	                               &c->out_fd));
}

static void mem_export__type_0(struct ctx *c)
{
	struct vgalloc_mem *mem = exportable_mem(c);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem, 0, &c->out_fd));
}

static void mem_info(struct ctx *c, struct vgalloc_device *dev, struct vgalloc_mem *mem,
                     uint32_t size, bool null_info)
{
	struct vgalloc_mem_info info = { .struct_size = size };

	CALL_INT(c, vgalloc_mem_get_info(dev, mem, null_info ? NULL : &info));
}

static void mem_get_info__null_dev(struct ctx *c)
{
	mem_info(c, NULL, keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0),
	         sizeof(struct vgalloc_mem_info), false);
}

static void mem_get_info__null_info(struct ctx *c)
{
	mem_info(c, c->f->dev, keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0), 0, true);
}

static void mem_get_info__freed(struct ctx *c)
{
	mem_info(c, c->f->dev, freed_mem(c, TYPE_HOST_COHERENT), sizeof(struct vgalloc_mem_info),
	         false);
}

static void mem_get_info__struct_size_small(struct ctx *c)
{
	mem_info(c, c->f->dev, keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0), 8, false);
}

static void mem_free__null_dev(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_free(NULL, mem));
}

static void mem_free__null_mem(struct ctx *c)
{
	CALL_INT(c, vgalloc_mem_free(c->f->dev, NULL));
}

static void mem_free__double(struct ctx *c)
{
	struct vgalloc_mem *mem = freed_mem(c, TYPE_DEVICE_LOCAL);

	CALL_INT(c, vgalloc_mem_free(c->f->dev, mem));
}

static void mem_free__double_suballoc(struct ctx *c)
{
	struct vgalloc_mem *mem = freed_mem(c, TYPE_HOST_COHERENT);

	CALL_INT(c, vgalloc_mem_free(c->f->dev, mem));
}

static void mem_free__other_device(struct ctx *c)
{
	struct vgalloc_device *other = adopt_dev(c, &c->f->hooks);
	struct vgalloc_mem *mem = keep_mem(c, other, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_free(c->f->dev, mem));
}

static void mem_free__interior(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_DEVICE_LOCAL, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_free(c->f->dev, (struct vgalloc_mem *)(void *)((char *)mem + 8)));
}

static void mem_free__not_a_mem(struct ctx *c)
{
	CALL_INT(c, vgalloc_mem_free(c->f->dev, (struct vgalloc_mem *)c->junk));
}

static void mem_free__blob_pointer(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_mem_free(c->f->dev, (struct vgalloc_mem *)(void *)blob));
}

/* ---------------------------------------------------------------------------------------------
 * The table. Ids are stable: docs/errors.md names them.
 */

/* clang-format off */
#define MA(n, ...)               WITH(mem_alloc, n, mem_alloc__with, __VA_ARGS__)
/* clang-format on */

static const struct errcase cases[] = {
	ONE(mem_alloc, null_dev),
	ONE(mem_alloc, null_req),
	ONE(mem_alloc, null_out),
	MA("struct_size_small", P(REQ, struct_size, 8)),
	MA("unknown_tail", TAIL(REQ)),
	MA("size_zero", P(REQ, size, 0)),
	MA("size_max", P(REQ, size, UINT64_MAX)),
	MA("size_overflow", P(REQ, size, UINT64_MAX - 100)),
	MA("alignment_not_pow2", P(REQ, alignment, 3000)),
	MA("unknown_type", P(REQ, memory_type, 17)),
	MA("unknown_flag", P(REQ, flags, BIT31)),
	MA("unknown_allocate_flag", P(REQ, allocate_flags, BIT31)),
	MA("reserved", P(REQ, reserved, 1)),
	MA("import_fd_negative", P(REQ, flags, VGALLOC_REQUEST_IMPORT_FD), P(REQ, import_fd, -5)),
	ONE(mem_alloc, import_fd_closed),
	ONE(mem_alloc, import_not_dmabuf),
	ONE(mem_alloc, import_too_small),
	ONE(mem_alloc, import_other_blob_mem),
	MA("import_host_pointer", P(REQ, flags, VGALLOC_REQUEST_IMPORT_HOST_POINTER)),
	MA("import_ahb", P(REQ, flags, VGALLOC_REQUEST_IMPORT_AHB)),
	MA("export_unknown_type", P(REQ, export_handle_types, 0x10)),
	ONE(mem_alloc, no_hooks),
	C("mem_alloc.window_full", vgalloc_mem_alloc, mem_alloc__with,
	  .opts = { .profile = VGALLOC_MOCK_PROFILE_STATIC, .window = 1u << 20 },
	  .pokes = { P(REQ, size, 2u << 20), P(REQ, flags, VGALLOC_REQUEST_DEDICATED_REQUIRED) }),
	ONE(mem_alloc, hook_error),
	ONE(mem_alloc, blob_id_zero),
	ONE(mem_map, null_dev),
	ONE(mem_map, null_out),
	ONE(mem_map, null_mem),
	ONE(mem_map, freed),
	ONE(mem_map, other_device),
	ONE(mem_map, device_local),
	C("mem_map.window_full", vgalloc_mem_map, mem_map__window_full,
	  .opts = { .window = 1u << 20 }),
	ONE(mem_unmap, null_dev),
	ONE(mem_unmap, freed),
	ONE(mem_unmap, not_mapped),
	ONE(mem_export, null_dev),
	ONE(mem_export, null_out),
	ONE(mem_export, freed),
	ONE(mem_export, not_exportable),
	ONE(mem_export, other_type),
	ONE(mem_export, two_types),
	ONE(mem_export, type_0),
	ONE(mem_get_info, null_dev),
	ONE(mem_get_info, null_info),
	ONE(mem_get_info, freed),
	ONE(mem_get_info, struct_size_small),
	ONE(mem_free, null_dev),
	ONE(mem_free, null_mem),
	ONE(mem_free, double),
	ONE(mem_free, double_suballoc),
	ONE(mem_free, other_device),
	ONE(mem_free, interior),
	ONE(mem_free, not_a_mem),
	ONE(mem_free, blob_pointer),
};

int main(void)
{
	return errcase_main("mem", cases, ARRAY_LEN(cases));
}
