/* SPDX-License-Identifier: MIT */
/*
 * The diagnostics rows of docs/errors.md (vgalloc_diag.h): statistics, the pool walk and
 * JSON, planning and explaining a request, and the names of steps, reasons and paths.
 * Each row of their case tables is a case here that makes that bad call on a fresh fixture
 * (errcase.h), and each case is a row of this section, so neither can drift; every case must
 * also change nothing (out parameters, the mock's ledger, the device's stats, no leak at
 * teardown). A row of a pure call that another test already makes exactly, checking as much,
 * is a PROVEN_BY entry naming that test, which must exist.
 * Covers: vgalloc_device_get_stats, vgalloc_device_get_pool_stats, vgalloc_device_stats_json,
 * vgalloc_plan_request, vgalloc_plan_explain, vgalloc_step_name, vgalloc_no_suballoc_name,
 * vgalloc_path_name.
 */
#include "errcase.h"

/* ---------------------------------------------------------------------------------------------
 * Runners: a valid input with the case's pokes applied.
 */

static void plan_request__with(struct ctx *c)
{
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
	struct req_in in;

	req_in(c, &in);
	CALL_INT(c, vgalloc_plan_request(c->f->dev, &in.r, &plan));
}

static void plan_explain__with(struct ctx *c)
{
	char buf[512];
	struct req_in in;

	req_in(c, &in);
	CALL_INT(c, vgalloc_plan_explain(c->f->dev, &in.r, buf, sizeof(buf)));
}

/* ---------------------------------------------------------------------------------------------
 * Cases.
 */

static void device_get_stats__null_dev(struct ctx *c)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	CALL_INT(c, vgalloc_device_get_stats(NULL, &st));
}

static void device_get_stats__null_stats(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_stats(c->f->dev, NULL));
}

static void device_get_stats__struct_size_small(struct ctx *c)
{
	struct vgalloc_stats st = { .struct_size = 112 };

	CALL_INT(c, vgalloc_device_get_stats(c->f->dev, &st));
}

static void pool_stats(struct ctx *c, struct vgalloc_device *dev, uint32_t index, uint32_t size,
                       bool null_stats)
{
	struct vgalloc_pool_stats ps = { .struct_size = size };

	CALL_INT(c, vgalloc_device_get_pool_stats(dev, index, null_stats ? NULL : &ps));
}

static void device_get_pool_stats__null_dev(struct ctx *c)
{
	pool_stats(c, NULL, 0, sizeof(struct vgalloc_pool_stats), false);
}

static void device_get_pool_stats__null_stats(struct ctx *c)
{
	keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);
	pool_stats(c, c->f->dev, 0, 0, true);
}

static void device_get_pool_stats__struct_size_small(struct ctx *c)
{
	keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);
	pool_stats(c, c->f->dev, 0, 8, false);
}

static void device_get_pool_stats__no_pool(struct ctx *c)
{
	pool_stats(c, c->f->dev, 0, sizeof(struct vgalloc_pool_stats), false);
}

static void device_stats_json__null_dev(struct ctx *c)
{
	char buf[64];

	CALL_INT(c, vgalloc_device_stats_json(NULL, buf, sizeof(buf)));
}

static void device_stats_json__null_buf(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_stats_json(c->f->dev, NULL, 64));
}

static void plan_request__null_dev(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };

	CALL_INT(c, vgalloc_plan_request(NULL, &r, &plan));
}

static void plan_request__null_req(struct ctx *c)
{
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };

	CALL_INT(c, vgalloc_plan_request(c->f->dev, NULL, &plan));
}

static void plan_request__null_plan(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

	CALL_INT(c, vgalloc_plan_request(c->f->dev, &r, NULL));
}

static void plan_request__plan_size_small(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_plan plan = { .struct_size = 8 };

	CALL_INT(c, vgalloc_plan_request(c->f->dev, &r, &plan));
}

static void plan_explain__null_dev(struct ctx *c)
{
	char buf[64];

	CALL_INT(c, vgalloc_plan_explain(NULL, NULL, buf, sizeof(buf)));
}

static void plan_explain__null_buf(struct ctx *c)
{
	CALL_INT(c, vgalloc_plan_explain(c->f->dev, NULL, NULL, 64));
}

static void step_name__zero(struct ctx *c)
{
	CALL_STR(c, vgalloc_step_name(0));
}

static void no_suballoc_name__zero(struct ctx *c)
{
	CALL_STR(c, vgalloc_no_suballoc_name(0));
}

static void no_suballoc_name__two_bits(struct ctx *c)
{
	CALL_STR(c, vgalloc_no_suballoc_name(VGALLOC_NO_SUBALLOC_EXPORT |
	                                     VGALLOC_NO_SUBALLOC_IMPORT_FD));
}

static void path_name__zero(struct ctx *c)
{
	CALL_STR(c, vgalloc_path_name(0));
}

/* ---------------------------------------------------------------------------------------------
 * The table. Ids are stable: docs/errors.md names them.
 */

/* clang-format off */
#define PR(n, ...)               WITH(plan_request, n, plan_request__with, __VA_ARGS__)
#define PE(n, ...)               WITH(plan_explain, n, plan_explain__with, __VA_ARGS__)
/* clang-format on */

static const struct errcase cases[] = {
	ONE(device_get_stats, null_dev),
	ONE(device_get_stats, null_stats),
	ONE(device_get_stats, struct_size_small),
	ONE(device_get_pool_stats, null_dev),
	ONE(device_get_pool_stats, null_stats),
	ONE(device_get_pool_stats, struct_size_small),
	ONE(device_get_pool_stats, no_pool),
	ONE(device_stats_json, null_dev),
	ONE(device_stats_json, null_buf),
	ONE(plan_request, null_dev),
	ONE(plan_request, null_req),
	ONE(plan_request, null_plan),
	ONE(plan_request, plan_size_small),
	PR("struct_size_small", P(REQ, struct_size, 8)),
	PR("unknown_tail", TAIL(REQ)),
	PR("size_zero", P(REQ, size, 0)),
	PR("size_overflow", P(REQ, size, UINT64_MAX - 100)),
	PR("alignment_not_pow2", P(REQ, alignment, 3000)),
	PR("unknown_type", P(REQ, memory_type, 17)),
	PR("unknown_flag", P(REQ, flags, BIT31)),
	PR("unknown_allocate_flag", P(REQ, allocate_flags, BIT31)),
	PR("export_unknown_type", P(REQ, export_handle_types, 0x10)),
	PR("reserved", P(REQ, reserved, 1)),
	PR("import_fd_negative", P(REQ, flags, VGALLOC_REQUEST_IMPORT_FD), P(REQ, import_fd, -5)),
	PR("import_ahb", P(REQ, flags, VGALLOC_REQUEST_IMPORT_AHB)),
	ONE(plan_explain, null_dev),
	ONE(plan_explain, null_buf),
	PE("size_zero", P(REQ, size, 0)),
	PE("unknown_tail", TAIL(REQ)),
	PE("unknown_allocate_flag", P(REQ, allocate_flags, BIT31)),
	PE("reserved", P(REQ, reserved, 1)),
	ONE(step_name, zero),
	PROVEN_BY(step_name, unknown, "unit/test_policy.c", policy__pure_and_names),
	ONE(no_suballoc_name, zero),
	ONE(no_suballoc_name, two_bits),
	ONE(path_name, zero),
	PROVEN_BY(path_name, unknown, "api/test_mem_errors.c",
	          mem_free__double_and_foreign_are_einval),
};

int main(void)
{
	return errcase_main("diag", cases, ARRAY_LEN(cases));
}
