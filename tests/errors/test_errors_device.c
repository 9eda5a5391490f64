/* SPDX-License-Identifier: MIT */
/*
 * The device rows of docs/errors.md: creating a device in either mode from every bad
 * create-info, and the calls that read or trim one.
 * Each row of their case tables is a case here that makes that bad call on a fresh fixture
 * (errcase.h), and each case is a row of this section, so neither can drift; every case must
 * also change nothing (out parameters, the mock's ledger, the device's stats, no leak at
 * teardown). A row of a pure call that another test already makes exactly, checking as much,
 * is a PROVEN_BY entry naming that test, which must exist.
 * Covers: vgalloc_device_create, vgalloc_device_destroy, vgalloc_device_get_fd,
 * vgalloc_device_get_param, vgalloc_device_get_info, vgalloc_device_trim, and the connection's
 * vgalloc_connection_create, vgalloc_connection_destroy, vgalloc_connection_get_fd.
 */
#include <fcntl.h>

#include "errcase.h"

/* struct vgalloc_backend: the head of the mock object, whose reserved word one case sets. */
#define VGALLOC_UNSTABLE_BACKEND_API
#include "vgalloc/vgalloc_backend.h"

/* ---------------------------------------------------------------------------------------------
 * Runners: a valid input with the case's pokes applied.
 */

static void device_create__with(struct ctx *c)
{
	struct {
		struct vgalloc_device_create_info ci;
		uint64_t tail[2];
	} in;
	struct vgalloc_memory_type types[3];

	memset(&in, 0, sizeof(in));
	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &in.ci);
	apply_pokes(c, &in, sizeof(in.ci), sizeof(in));
	CALL_INT(c, vgalloc_device_create(&in.ci, &c->out_dev));
}

static void device_create__with_types(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	apply_pokes(c, types, sizeof(types), sizeof(types));
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__with_hooks(struct ctx *c)
{
	struct {
		struct vgalloc_host_hooks h;
		uint64_t tail[2];
	} in;
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	memset(&in, 0, sizeof(in));
	in.h = c->f->hooks;
	apply_pokes(c, &in, sizeof(in.h), sizeof(in));
	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	ci.hooks = &in.h;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

/* ---------------------------------------------------------------------------------------------
 * Cases.
 */

static void device_create__null_out(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	CALL_INT(c, vgalloc_device_create(&ci, NULL));
}

static void device_create__null_info(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_create(NULL, &c->out_dev));
}

static void device_create__not_a_mock(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	ci.backend_object = c->junk;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

/* The mock is a backend object (vgalloc_backend.h): its head's reserved word, set for the call
 * only. */
static void device_create__backend_reserved(struct ctx *c)
{
	struct vgalloc_backend *head = (struct vgalloc_backend *)(void *)c->f->mock;
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	assert_int_equal(head->reserved, 0);
	head->reserved = 1;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
	head->reserved = 0;
}

static void *never_alloc(void *user, size_t size, size_t alignment, uint32_t scope)
{
	(void)scope;
	(void)user;
	(void)size;
	(void)alignment;
	return NULL;
}

static void device_create__allocator_incomplete(struct ctx *c)
{
	struct vgalloc_allocator a = { .alloc = never_alloc };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	ci.allocator = &a;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void never_free(void *user, void *ptr)
{
	(void)user;
	(void)ptr;
}

static void device_create__allocator_fails(struct ctx *c)
{
	struct vgalloc_allocator a = { .alloc = never_alloc, .free = never_free };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	ci.allocator = &a;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__capset_data_size_0(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	ci.capset_data = c->bytes;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__virtgpu_not_drm(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.backend = VGALLOC_BACKEND_VIRTGPU;
	ci.backend_object = NULL;
	ci.fd = keep_fd(c, open("/dev/null", O_RDWR | O_CLOEXEC));
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__virtgpu_fd_closed(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.backend = VGALLOC_BACKEND_VIRTGPU;
	ci.backend_object = NULL;
	ci.fd = closed_fd();
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__type_unknown_tail(struct ctx *c)
{
	struct {
		struct vgalloc_memory_type t;
		uint64_t tail;
	} wide[3];
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	memset(wide, 0, sizeof(wide));
	for (uint32_t i = 0; i < 3; i++) {
		wide[i].t = types[i];
		wide[i].t.struct_size = sizeof(wide[i]);
	}
	wide[1].tail = 1;
	ci.memory_types = &wide[0].t;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

/* A device create-info for a scratch mock: own mode, or adopt with CONTEXT_READY. */
static void scratch_create(struct ctx *c, const struct fx_opts *mock_opts, uint32_t mode,
                           uint32_t flags)
{
	struct fx_opts o = { .mode = mode, .dev_flags = flags };
	struct fx scratch = { .mock = scratch_mock(c, mock_opts) };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	assert_int_equal(vgalloc_mock_get_hooks(scratch.mock, 0, &scratch.hooks), 0);
	fx_create_info(&scratch, &o, types, &ci);
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__no_3d(struct ctx *c)
{
	scratch_create(c, &(struct fx_opts){ .mock_flags = VGALLOC_MOCK_NO_3D },
	               VGALLOC_DEVICE_MODE_OWN, 0);
}

static void device_create__adopt_no_blob(struct ctx *c)
{
	scratch_create(c, &(struct fx_opts){ .mock_flags = VGALLOC_MOCK_NO_BLOB },
	               VGALLOC_DEVICE_MODE_ADOPT, 0);
}

static void device_create__self_test_fails(struct ctx *c)
{
	scratch_create(c, &(struct fx_opts){ .host_page = 16384 }, VGALLOC_DEVICE_MODE_OWN,
	               VGALLOC_DEVICE_SELF_TEST);
}

static void adopt_with_capset(struct ctx *c, uint32_t size)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.capset_data = c->bytes;
	ci.capset_size = size;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__capset_too_big(struct ctx *c)
{
	adopt_with_capset(c, 4097);
}

static void device_create__capset_invalid(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-bad-wire0.bin");

	adopt_with_capset(c, n);
}

static void device_get_param__null_dev(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_param(NULL, VGALLOC_PARAM_3D_FEATURES, &c->out_value));
}

static void device_get_param__null_value(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_param(c->f->dev, VGALLOC_PARAM_3D_FEATURES, NULL));
}

static void device_get_param__past_max(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_param(c->f->dev, VGALLOC_PARAM_MAX + 1, &c->out_value));
}

static void device_get_param__zero(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_param(c->f->dev, 0, &c->out_value));
}

static void device_get_param__absent(struct ctx *c)
{
	CALL_INT(c,
	         vgalloc_device_get_param(c->f->dev, VGALLOC_PARAM_BLOB_ALIGNMENT, &c->out_value));
}

static void device_get_info__null_dev(struct ctx *c)
{
	struct vgalloc_device_info info = { .struct_size = sizeof(info) };

	CALL_INT(c, vgalloc_device_get_info(NULL, &info));
}

static void device_get_info__null_info(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_info(c->f->dev, NULL));
}

static void device_get_info__struct_size_small(struct ctx *c)
{
	struct vgalloc_device_info info = { .struct_size = 44 };

	CALL_INT(c, vgalloc_device_get_info(c->f->dev, &info));
}

/* ---------------------------------------------------------------------------------------------
 * The table. Ids are stable: docs/errors.md names them.
 */

/* clang-format off */
#define DC(n, ...)               WITH(device_create, n, device_create__with, __VA_ARGS__)
#define DT(n, ...)               WITH(device_create, n, device_create__with_types, __VA_ARGS__)
#define DH(n, ...)               WITH(device_create, n, device_create__with_hooks, __VA_ARGS__)
/* clang-format on */

static const struct errcase cases[] = {
	ONE(device_create, null_out),
	ONE(device_create, null_info),
	DC("struct_size_small", P(DCI, struct_size, 8)),
	DC("struct_size_below_v0", P(DCI, struct_size, 244)),
	DC("unknown_tail", TAIL(DCI)),
	DC("mode_0", P(DCI, mode, 0)),
	DC("adopt_not_ready", P(DCI, mode, VGALLOC_DEVICE_MODE_ADOPT)),
	DC("unknown_flag", P(DCI, flags, BIT31)),
	DC("reserved", P(DCI, reserved, 1)),
	DC("pool_shards", P(DCI, pool_shards, 17)),
	DC("min_block_not_pow2", P(DCI, min_block_size, 3u << 20)),
	DC("min_block_small", P(DCI, min_block_size, 2048)),
	DC("max_block_huge", P(DCI, max_block_size, 2ull << 30)),
	DC("max_below_min", P(DCI, min_block_size, 8u << 20), P(DCI, max_block_size, 4u << 20)),
	DC("flavour", P(DCI, flavour, 3)),
	DC("host_page_not_pow2", P(DCI, host_page_size, 12288)),
	DC("host_page_large", P(DCI, host_page_size, 2u << 20)),
	DC("reserved1", P(DCI, reserved1, 1)),
	DC("alloc_mode", P(DCI, alloc_mode, 3)),
	DC("hypervisor_hint", P(DCI, hypervisor_hint, 3)),
	DC("log_level", P(DCI, log_level, 5)),
	DC("capset_id_0", P(DCI, capset_id, 0)),
	DC("num_rings", P(DCI, num_rings, 65)),
	DC("param_0", P(DCI, params_present, 1)),
	DC("param_past_max", P(DCI, params_present, 1u << 16)),
	DC("backend_0", P(DCI, backend, 0)),
	DC("backend_object_null", P(DCI, backend_object, 0)),
	DC("virtgpu_adopt_fd_negative", P(DCI, backend, VGALLOC_BACKEND_VIRTGPU),
	   P(DCI, mode, VGALLOC_DEVICE_MODE_ADOPT), P(DCI, flags, VGALLOC_DEVICE_CONTEXT_READY),
	   P(DCI, fd, -1)),
	DC("types_null", P(DCI, memory_types, 0)),
	DC("type_count", P(DCI, memory_type_count, 65)),
	DT("type_struct_size_small", PT(0, struct_size, 40)),
	DT("type_sizes_differ", PT(1, struct_size, 56)),
	DT("type_unknown_flag", PT(2, flags, BIT31)),
	DT("type_unknown_property",
	   PT(0, property_flags, VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL | BIT31)),
	DT("type_alignment", PT(1, min_map_alignment, 48)),
	DT("type_alignment_huge", PT(1, base_alignment, 2ull << 30)),
	DT("type_duplicate", PT(2, host_index, 1)),
	DH("hooks_struct_size_small", P(HOOKS, struct_size, 8)),
	DH("hooks_unknown_tail", TAIL(HOOKS)),
	DH("hooks_incomplete", P(HOOKS, host_free, 0)),
	DH("hooks_unknown_flag", P(HOOKS, flags, BIT31)),
	DC("capset_not_offered", P(DCI, capset_id, VGALLOC_CAPSET_CROSS_DOMAIN)),
	DC("capset_id_64", P(DCI, capset_id, 64)),
	DC("context_exists", { 0 }),
	ONE(device_create, not_a_mock),
	ONE(device_create, backend_reserved),
	ONE(device_create, allocator_incomplete),
	ONE(device_create, allocator_fails),
	ONE(device_create, capset_data_size_0),
	ONE(device_create, virtgpu_not_drm),
	ONE(device_create, virtgpu_fd_closed),
	ONE(device_create, type_unknown_tail),
	ONE(device_create, no_3d),
	ONE(device_create, adopt_no_blob),
	C("device_create.self_test_fails", vgalloc_device_create, device_create__self_test_fails,
	  .allow = ALLOW_CONTEXT),
	ONE(device_create, capset_too_big),
	ONE(device_create, capset_invalid),
	PROVEN_BY(device_create, join_backend, "api/test_connection.c", connection__join_refusals),
	PROVEN_BY(device_create, join_flags, "api/test_connection.c", connection__join_refusals),
	PROVEN_BY(device_create, join_capset, "api/test_connection.c", connection__join_refusals),
	PROVEN_BY(device_create, join_destroyed, "api/test_connection.c",
	          connection__join_refusals),
	PROVEN_BY(connection_create, null_out, "api/test_connection.c",
	          connection__create_refusals),
	PROVEN_BY(connection_create, null_info, "api/test_connection.c",
	          connection__create_refusals),
	PROVEN_BY(connection_create, struct_size_small, "api/test_connection.c",
	          connection__create_refusals),
	PROVEN_BY(connection_create, unknown_tail, "api/test_connection.c",
	          connection__create_refusals),
	PROVEN_BY(connection_create, device_flag, "api/test_connection.c",
	          connection__create_refusals),
	PROVEN_BY(connection_create, mode_0, "api/test_connection.c", connection__create_refusals),
	PROVEN_BY(connection_destroy, null, "api/test_connection.c", connection__create_refusals),
	PROVEN_BY(connection_get_fd, null, "api/test_connection.c", connection__create_refusals),
	PROVEN_BY(device_destroy, null, "api/test_device.c",
	          device_create__own_mode_probes_then_inits_context),
	PROVEN_BY(device_get_fd, null, "api/test_device.c", device_create__bad_arguments),
	ONE(device_get_param, null_dev),
	ONE(device_get_param, null_value),
	ONE(device_get_param, past_max),
	ONE(device_get_param, zero),
	ONE(device_get_param, absent),
	ONE(device_get_info, null_dev),
	ONE(device_get_info, null_info),
	ONE(device_get_info, struct_size_small),
	PROVEN_BY(device_trim, null, "api/test_pool.c", pool_stats__counters_and_walk_agree),
};

int main(void)
{
	return errcase_main("device", cases, ARRAY_LEN(cases));
}
