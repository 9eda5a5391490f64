/* SPDX-License-Identifier: MIT */
/*
 * vgalloc.h's one rule for every input, bit by bit: a reserved field must be 0 and a bit that a
 * flags field's enum does not name is -EINVAL, before any kernel or host call and without a leak;
 * every bit the enums do name is accepted. The library's own producers of input (the Vulkan
 * helpers, the mock's hooks) and of hook arguments follow the rule themselves. The named bits are
 * written out here from vgalloc.h, independently of the library's masks.
 * Covers: vgalloc_mem_alloc, vgalloc_plan_request, vgalloc_plan_explain, vgalloc_device_create,
 * vgalloc_blob_import_dmabuf, vgalloc_mock_get_hooks, vgalloc_vk_memory_type_from_properties,
 * vgalloc_vk_request_from_allocate_info, vgalloc_mem_get_info, vgalloc_device_get_info,
 * vgalloc_device_get_stats.
 */
#include "../harness.h"

#define VGALLOC_UNSTABLE_BACKEND_API
#include "vgalloc/vgalloc_backend.h"
#include "vgalloc/vgalloc_vulkan.h"

/* The bits each enum names (vgalloc.h). */
#define REQUEST_FLAGS    0x7ffu /* DEDICATED_BUFFER .. EXACT_ALIGNMENT */
#define ALLOCATE_FLAGS   0xfu   /* DEVICE_MASK .. ZERO_INITIALIZE */
#define HANDLE_TYPES     0x201u /* OPAQUE_FD, DMA_BUF */
#define MEMORY_PROPS     0x3fu  /* DEVICE_LOCAL .. PROTECTED */
#define MEMORY_TYPE_FLAG 0x1u   /* OPTIMAL_IMAGES */
#define DEVICE_FLAGS     0x3fu  /* PLACED_MAPS .. SELF_TEST */
#define IMPORT_FLAGS     0x1u   /* QUERY_ONLY */

#define SENTINEL ((void *)(uintptr_t)0x5e5e5e50u)

/* What a refused call must leave as it was. */
struct snap {
	struct vgalloc_mock_ledger ledger;
	struct vgalloc_stats stats;
	int fds;
};

static struct snap snap_of(struct fx *f)
{
	struct snap s;

	memset(&s, 0, sizeof(s));
	s.ledger = fx_ledger(f->mock);
	s.stats.struct_size = sizeof(s.stats);
	assert_int_equal(vgalloc_device_get_stats(f->dev, &s.stats), 0);
	s.fds = count_open_fds();
	return s;
}

static void assert_same(const struct snap *a, const struct snap *b)
{
	assert_memory_equal(a->ledger.calls, b->ledger.calls, sizeof(a->ledger.calls));
	assert_int_equal(a->ledger.context, b->ledger.context);
	assert_int_equal(a->ledger.live_handles, b->ledger.live_handles);
	assert_int_equal(a->ledger.live_blobs, b->ledger.live_blobs);
	assert_int_equal(a->ledger.host_allocs, b->ledger.host_allocs);
	assert_int_equal(a->ledger.pending_tokens, b->ledger.pending_tokens);
	assert_int_equal(a->stats.mems_live, b->stats.mems_live);
	assert_int_equal(a->stats.blobs_live, b->stats.blobs_live);
	assert_int_equal(a->stats.pools, b->stats.pools);
	assert_int_equal(a->stats.backend_calls, b->stats.backend_calls);
	assert_int_equal(a->stats.hook_calls, b->stats.hook_calls);
	assert_int_equal(a->fds, b->fds);
}

/* mem_alloc, plan_request and plan_explain all refuse r with -EINVAL. */
static void assert_request_refused(struct fx *f, const struct vgalloc_request *r)
{
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
	struct vgalloc_mem *mem = SENTINEL;
	char text[256];

	assert_int_equal(vgalloc_mem_alloc(f->dev, r, &mem), -EINVAL);
	assert_ptr_equal(mem, SENTINEL);
	assert_int_equal(vgalloc_plan_request(f->dev, r, &plan), -EINVAL);
	assert_int_equal(vgalloc_plan_explain(f->dev, r, text, sizeof(text)), -EINVAL);
}

static void request__unknown_bits_and_reserved_are_einval_and_change_nothing(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct snap before, after;

	(void)state;
	before = snap_of(f);
	for (uint32_t bit = 0; bit < 32; bit++) {
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
		uint32_t b = 1u << bit;

		print_message("  bit %u\n", bit);
		if (!(b & ALLOCATE_FLAGS)) {
			r.allocate_flags = b;
			assert_request_refused(f, &r);
			r.allocate_flags = 0;
		}
		if (!(b & HANDLE_TYPES)) {
			r.export_handle_types = b;
			assert_request_refused(f, &r);
			r.export_handle_types = 0;
		}
		if (!(b & REQUEST_FLAGS)) {
			r.flags = b;
			assert_request_refused(f, &r);
			r.flags = 0;
		}
		r.reserved = b;
		assert_request_refused(f, &r);
	}
	after = snap_of(f);
	assert_same(&before, &after);
	fx_free(f);
}

static void request__every_named_bit_is_accepted(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });

	(void)state;
	/* The plan is pure: every named bit, alone and all together, is a valid request. */
	for (uint32_t bit = 0; bit <= 32; bit++) {
		struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
		uint32_t b = bit < 32 ? 1u << bit : UINT32_MAX;

		r.import_fd = 0; /* valid for IMPORT_FD, and the plan never uses it */
		r.allocate_flags = b & ALLOCATE_FLAGS;
		r.export_handle_types = b & HANDLE_TYPES;
		r.flags = b & REQUEST_FLAGS;
		r.alignment = 256; /* EXACT_ALIGNMENT needs one */
		if (bit == 32) {
			/* One import at a time (valid usage); the others plan as unsupported. */
			r.flags &= ~(uint32_t)(VGALLOC_REQUEST_IMPORT_HOST_POINTER |
			                       VGALLOC_REQUEST_IMPORT_AHB);
		}
		assert_int_equal(vgalloc_plan_request(f->dev, &r, &plan), 0);
	}
	fx_free(f);
}

/* Own mode on the fixture's mock: a create-info the checks let through reaches the kernel
 * (GETPARAM), so a refusal with no call counted is a refusal by the checks. */
static void assert_create_refused(struct fx *f, const struct vgalloc_device_create_info *ci)
{
	struct vgalloc_device *dev = SENTINEL;
	struct snap before = snap_of(f), after;

	assert_int_equal(vgalloc_device_create(ci, &dev), -EINVAL);
	assert_ptr_equal(dev, SENTINEL);
	after = snap_of(f);
	assert_same(&before, &after);
}

static void device_create__unknown_bits_and_reserved_are_einval_before_any_call(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_backend *head = (struct vgalloc_backend *)(void *)f->mock;

	(void)state;
	for (uint32_t bit = 0; bit < 32; bit++) {
		struct vgalloc_memory_type types[3];
		struct vgalloc_device_create_info ci;
		struct vgalloc_host_hooks hooks = f->hooks;
		uint32_t b = 1u << bit;

		print_message("  bit %u\n", bit);
		fx_create_info(f, &(struct fx_opts){ 0 }, types, &ci);
		ci.hooks = &hooks;
		if (!(b & DEVICE_FLAGS)) {
			ci.flags = b;
			assert_create_refused(f, &ci);
			ci.flags = 0;
		}
		ci.reserved = b;
		assert_create_refused(f, &ci);
		ci.reserved = 0;
		if (!(b & MEMORY_PROPS)) {
			types[TYPE_HOST_CACHED].property_flags |= b;
			assert_create_refused(f, &ci);
			fx_memory_types(types);
		}
		if (!(b & MEMORY_TYPE_FLAG)) {
			types[TYPE_DEVICE_LOCAL].flags = b;
			assert_create_refused(f, &ci);
			fx_memory_types(types);
		}
		if (b != VGALLOC_HOOKS_IN_ORDER) {
			hooks.flags = b;
			assert_create_refused(f, &ci);
			hooks.flags = 0;
		}
		head->reserved = b;
		assert_create_refused(f, &ci);
		head->reserved = 0;
	}
	fx_free(f);
}

static void device_create__every_named_memory_bit_is_accepted(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;

	(void)state;
	fx_create_info(f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	types[TYPE_HOST_CACHED].property_flags = MEMORY_PROPS;
	types[TYPE_HOST_CACHED].flags = MEMORY_TYPE_FLAG;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	vgalloc_device_destroy(dev);
	fx_free(f);
}

static void blob_import_dmabuf__reserved_and_unknown_flags_are_einval(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	uint64_t host = 0;
	int fd = fx_foreign_dmabuf(f, 65536, &host);
	struct snap before, after;

	(void)state;
	before = snap_of(f);
	for (uint32_t bit = 0; bit < 32; bit++) {
		struct vgalloc_blob_import_info info = {
			.struct_size = sizeof(info),
			.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		};
		struct vgalloc_blob *blob = SENTINEL;

		info.reserved = 1u << bit;
		assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fd, &info, &blob), -EINVAL);
		info.reserved = 0;
		if (!((1u << bit) & IMPORT_FLAGS)) {
			info.flags = 1u << bit;
			assert_int_equal(vgalloc_blob_import_dmabuf(f->dev, fd, &info, &blob),
			                 -EINVAL);
		}
		assert_ptr_equal(blob, SENTINEL);
	}
	after = snap_of(f);
	assert_same(&before, &after);
	assert_true(fcntl_ok(fd));
	fx_foreign_release(f, fd, host);
	fx_free(f);
}

/* --- the library's own producers --------------------------------------------------------- */

static void vulkan__memory_type_helper_leaves_vendor_property_bits_out(void **state)
{
	static const uint32_t host_flags[] = {
		VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD |
		        VK_MEMORY_PROPERTY_DEVICE_UNCACHED_BIT_AMD,
		VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
		        VK_MEMORY_PROPERTY_DEVICE_COHERENT_BIT_AMD,
		VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
		        VK_MEMORY_PROPERTY_HOST_CACHED_BIT | VK_MEMORY_PROPERTY_RDMA_CAPABLE_BIT_NV,
		VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_PROTECTED_BIT |
		        VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT | 0x80000000u,
	};
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	VkPhysicalDeviceMemoryProperties props;
	VkPhysicalDeviceLimits limits;
	struct vgalloc_memory_type types[4], three[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;

	(void)state;
	memset(&props, 0, sizeof(props));
	memset(&limits, 0, sizeof(limits));
	props.memoryTypeCount = 4;
	props.memoryHeapCount = 1;
	for (uint32_t i = 0; i < 4; i++) {
		props.memoryTypes[i].propertyFlags = host_flags[i];
	}
	limits.minMemoryMapAlignment = 64;
	limits.nonCoherentAtomSize = 64;
	limits.bufferImageGranularity = 1;
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(
		        vgalloc_vk_memory_type_from_properties(&props, i, &limits, true, &types[i]),
		        0);
		assert_int_equal(types[i].property_flags, host_flags[i] & MEMORY_PROPS);
		assert_int_equal(types[i].flags & ~MEMORY_TYPE_FLAG, 0);
	}
	/* ... so that the library takes them as they come. */
	fx_create_info(f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, three, &ci);
	ci.memory_types = types;
	ci.memory_type_count = 4;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	vgalloc_device_destroy(dev);
	fx_free(f);
}

static void vulkan__request_helper_produces_only_named_bits(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	VkMemoryAllocateFlagsInfo flags = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
		.flags = VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT |
		         VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT |
		         VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT |
		         VK_MEMORY_ALLOCATE_ZERO_INITIALIZE_BIT_EXT,
	};
	VkExportMemoryAllocateInfo export_info = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
		.pNext = &flags,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT |
		               VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkMemoryPriorityAllocateInfoEXT priority = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT,
		.pNext = &export_info,
		.priority = 0.5f,
	};
	VkMemoryDedicatedAllocateInfo dedicated = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
		.pNext = &priority,
	};
	VkMemoryAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.pNext = &dedicated,
		.allocationSize = 65536,
		.memoryTypeIndex = TYPE_HOST_COHERENT,
	};
	struct vgalloc_request r;

	(void)state;
	/* Every allocate flag Vulkan names that the helper takes, alone and together. */
	for (uint32_t bit = 0; bit <= 4; bit++) {
		struct vgalloc_plan plan = { .struct_size = sizeof(plan) };

		flags.flags = bit < 4 ? 1u << bit : ALLOCATE_FLAGS;
		memset(&r, 0xa5, sizeof(r));
		assert_int_equal(vgalloc_vk_request_from_allocate_info(&ai, NULL, 3, &r), 0);
		assert_int_equal(r.allocate_flags & ~ALLOCATE_FLAGS, 0);
		assert_int_equal(r.export_handle_types & ~HANDLE_TYPES, 0);
		assert_int_equal(r.flags & ~REQUEST_FLAGS, 0);
		assert_int_equal(r.reserved, 0);
		assert_int_equal(vgalloc_plan_request(f->dev, &r, &plan), 0);
	}
	/* A bit the helper does not know never reaches a request. */
	flags.flags = 0x10;
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&ai, NULL, 3, &r), -EOPNOTSUPP);
	fx_free(f);
}

static void mock_get_hooks__hooks_pass_the_rule(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });

	(void)state;
	for (uint32_t flags = 0; flags <= VGALLOC_MOCK_HOOKS_WAIT_CMD; flags++) {
		struct vgalloc_memory_type types[3];
		struct vgalloc_device_create_info ci;
		struct vgalloc_host_hooks hooks;
		struct vgalloc_device *dev = NULL;

		memset(&hooks, 0xa5, sizeof(hooks));
		assert_int_equal(vgalloc_mock_get_hooks(f->mock, flags, &hooks), 0);
		assert_int_equal(hooks.flags, 0);
		fx_create_info(f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types,
		               &ci);
		ci.hooks = &hooks;
		assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
		vgalloc_device_destroy(dev);
	}
	fx_free(f);
}

/* host_alloc as the mock's hooks do it, checking what the library passes first. */
static struct vgalloc_host_hooks mock_hooks;
static uint32_t checked_args;

static int checking_host_alloc(void *ctx, void *user_data,
                               const struct vgalloc_host_alloc_args *args,
                               struct vgalloc_host_result *out)
{
	assert_int_equal(args->struct_size, sizeof(*args));
	assert_true(args->flags == VGALLOC_HOST_ARGS_BLOCK ||
	            args->flags == VGALLOC_HOST_ARGS_DEDICATED);
	assert_int_equal(args->res_id, 0);
	assert_int_equal(args->allocate_flags & ~ALLOCATE_FLAGS, 0);
	assert_int_equal(args->blob_flags & ~0xfu, 0);
	assert_true(args->requested_size <= args->size);
	/* The library hands the hook a zeroed answer of its own size. */
	assert_int_equal(out->struct_size, sizeof(*out));
	assert_int_equal(out->flags | out->host_handle | out->token | out->blob_id, 0);
	checked_args++;
	return mock_hooks.host_alloc(ctx, user_data, args, out);
}

static void hooks__library_passes_reserved_zero_and_named_bits(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_host_hooks hooks;
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mem *mem[2 * 5];
	uint32_t n = 0;

	(void)state;
	mock_hooks = f->hooks;
	hooks = f->hooks;
	hooks.host_alloc = checking_host_alloc;
	checked_args = 0;
	fx_create_info(f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.hooks = &hooks;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	/* Suballocated (a block's host allocation) and dedicated, with each allocate flag. */
	for (uint32_t bit = 0; bit <= 4; bit++) {
		for (uint32_t dedicated = 0; dedicated < 2; dedicated++) {
			struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

			r.allocate_flags = bit < 4 ? 1u << bit : 0;
			r.flags = dedicated ? VGALLOC_REQUEST_DEDICATED_REQUIRED : 0;
			assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem[n]), 0);
			n++;
		}
	}
	assert_true(checked_args >= 5);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(vgalloc_mem_free(dev, mem[i]), 0);
	}
	vgalloc_device_destroy(dev);
	fx_free(f);
}

static void output_structs__reserved_written_as_zero(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_device_info di;
	struct vgalloc_stats st;
	struct vgalloc_mem_info mi;
	struct vgalloc_mem *mem = NULL;

	(void)state;
	memset(&di, 0xa5, sizeof(di));
	memset(&st, 0xa5, sizeof(st));
	memset(&mi, 0xa5, sizeof(mi));
	di.struct_size = sizeof(di);
	st.struct_size = sizeof(st);
	mi.struct_size = sizeof(mi);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_device_get_info(f->dev, &di), 0);
	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &mi), 0);
	assert_int_equal(di.reserved, 0);
	assert_int_equal(st.reserved, 0);
	assert_int_equal(mi.reserved, 0);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request__unknown_bits_and_reserved_are_einval_and_change_nothing),
		cmocka_unit_test(request__every_named_bit_is_accepted),
		cmocka_unit_test(
		        device_create__unknown_bits_and_reserved_are_einval_before_any_call),
		cmocka_unit_test(device_create__every_named_memory_bit_is_accepted),
		cmocka_unit_test(blob_import_dmabuf__reserved_and_unknown_flags_are_einval),
		cmocka_unit_test(vulkan__memory_type_helper_leaves_vendor_property_bits_out),
		cmocka_unit_test(vulkan__request_helper_produces_only_named_bits),
		cmocka_unit_test(mock_get_hooks__hooks_pass_the_rule),
		cmocka_unit_test(hooks__library_passes_reserved_zero_and_named_bits),
		cmocka_unit_test(output_structs__reserved_written_as_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
