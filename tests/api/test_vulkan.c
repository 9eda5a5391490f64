/* SPDX-License-Identifier: MIT */
/*
 * The Vulkan helper header: every pNext struct alone and in combination, the guest memory-type
 * rule (incoherent host-visible types hidden, indices remapped), host limits → memory types, and
 * every (command, errno) → VkResult pair checked against the spec's per-command code lists
 * (written out here from vk.xml, independently of the header). Then the helper's output through
 * a real mock device, so its requests are ones the library accepts.
 * Covers: vgalloc_vk_request_from_allocate_info, vgalloc_vk_memory_type_from_properties,
 * vgalloc_vk_guest_memory_types, vgalloc_vk_guest_memory_type_bits, vgalloc_vk_allocate_command,
 * vgalloc_vk_result, vgalloc_vk_result_allowed, the #ifndef values for 1.3.239 headers.
 */
#include "../harness.h"

#include <limits.h>

#include "vgalloc/vgalloc_vulkan.h"

/* The tables leave trailing fields zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define GIB (1024ull * 1024 * 1024)

/* Handles are never dereferenced: any non-null value names "an image" or "a buffer". */
#if VK_USE_64_BIT_PTR_DEFINES == 1
#define FAKE_IMAGE  ((VkImage)(uintptr_t)0x1000)
#define FAKE_BUFFER ((VkBuffer)(uintptr_t)0x2000)
#else
#define FAKE_IMAGE  ((VkImage)0x1000)
#define FAKE_BUFFER ((VkBuffer)0x2000)
#endif

static VkMemoryAllocateInfo alloc_info(const void *next, uint64_t size, uint32_t type)
{
	VkMemoryAllocateInfo info;

	memset(&info, 0, sizeof(info));
	info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
	info.pNext = next;
	info.allocationSize = size;
	info.memoryTypeIndex = type;
	return info;
}

/* A request pre-filled with a pattern, to prove error paths leave *out untouched. */
static void poison(struct vgalloc_request *r)
{
	memset(r, 0xab, sizeof(*r));
}

static bool is_poisoned(const struct vgalloc_request *r)
{
	struct vgalloc_request p;

	poison(&p);
	return memcmp(&p, r, sizeof(p)) == 0;
}

static int build(const void *next, struct vgalloc_request *out)
{
	VkMemoryAllocateInfo info = alloc_info(next, 65536, 1);

	poison(out);
	return vgalloc_vk_request_from_allocate_info(&info, NULL, 4, out);
}

/* ---------------------------------------------------------------------------------------------
 * Constants the 1.3.239 headers lack (registry values).
 */

static void vulkan__defines_have_registry_values(void **state)
{
	(void)state;
	assert_int_equal(VK_HEADER_VERSION >= 239, 1);
	assert_int_equal((uint32_t)VK_MEMORY_ALLOCATE_ZERO_INITIALIZE_BIT_EXT, 0x8);
	assert_int_equal((int)VK_STRUCTURE_TYPE_MEMORY_MAP_INFO_KHR, 1000271000);
	assert_int_equal((int)VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO_KHR, 1000271001);
	assert_int_equal((int)VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAP_MEMORY_PLACED_FEATURES_EXT,
	                 1000272000);
	assert_int_equal((int)VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAP_MEMORY_PLACED_PROPERTIES_EXT,
	                 1000272001);
	assert_int_equal((int)VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT, 1000272002);
	assert_int_equal((uint32_t)VK_MEMORY_MAP_PLACED_BIT_EXT, 0x1);
	assert_int_equal((uint32_t)VK_MEMORY_UNMAP_RESERVE_BIT_EXT, 0x1);
	assert_int_equal(
	        (int)VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ZERO_INITIALIZE_DEVICE_MEMORY_FEATURES_EXT,
	        1000620000);
	/* The AHB import sType is in vulkan_core.h even without vulkan_android.h. */
	assert_int_equal((int)VK_STRUCTURE_TYPE_IMPORT_ANDROID_HARDWARE_BUFFER_INFO_ANDROID,
	                 1000129003);
	assert_int_equal(sizeof(struct vgalloc_vk_import_ahb_info), 3 * sizeof(void *));
}

/* ---------------------------------------------------------------------------------------------
 * VkMemoryAllocateInfo → request: arguments.
 */

static void vulkan__request_plain(void **state)
{
	VkMemoryAllocateInfo info = alloc_info(NULL, 12345, 2);
	struct vgalloc_request r;

	(void)state;
	poison(&r);
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, NULL, 3, &r), 0);
	assert_int_equal(r.struct_size, sizeof(r));
	assert_int_equal(r.memory_type, 2);
	assert_int_equal(r.size, 12345);
	assert_int_equal(r.alignment, 0);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.export_handle_types, 0);
	assert_int_equal(r.allocate_flags, 0);
	assert_int_equal(r.import_fd, -1);
	assert_int_equal(r.opaque_capture_address, 0);
	assert_int_equal(r.blob_id, 0);
	assert_null(r.user_data);
	assert_int_equal(vgalloc_vk_allocate_command(&r), VGALLOC_VK_ALLOCATE_MEMORY);
}

static void vulkan__request_invalid_arguments(void **state)
{
	VkMemoryAllocateInfo info = alloc_info(NULL, 4096, 0);
	struct vgalloc_request r;

	(void)state;
	poison(&r);
	assert_int_equal(vgalloc_vk_request_from_allocate_info(NULL, NULL, 4, &r), -EINVAL);
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, NULL, 4, NULL), -EINVAL);
	info.allocationSize = 0;
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, NULL, 4, &r), -EINVAL);
	info.allocationSize = 4096;
	info.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, NULL, 4, &r), -EINVAL);
	info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
	info.memoryTypeIndex = 4;
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, NULL, 4, &r), -EINVAL);
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, NULL, 0, &r), -EINVAL);
	info.memoryTypeIndex = UINT32_MAX;
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, NULL, 32, &r), -EINVAL);
	assert_true(is_poisoned(&r));
}

static void vulkan__request_index_translation(void **state)
{
	/* Guest 0 → host 0, 1 → host 2, 2 → host 5, 3 → host 4 (a hidden type was removed
	 * and one reordered). */
	static const uint32_t map[] = { 0, 2, 5, 4 };
	struct vgalloc_request r;

	(void)state;
	for (uint32_t g = 0; g < 4; g++) {
		VkMemoryAllocateInfo info = alloc_info(NULL, 4096, g);

		assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, map, 4, &r), 0);
		assert_int_equal(r.memory_type, map[g]);
	}
	{
		VkMemoryAllocateInfo info = alloc_info(NULL, 4096, 4);

		poison(&r);
		assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, map, 4, &r), -EINVAL);
		assert_true(is_poisoned(&r));
		/* The count bounds the guest index, not the host index it maps to. */
		info.memoryTypeIndex = 2;
		assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, map, 2, &r), -EINVAL);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Each pNext struct alone.
 */

static void vulkan__request_export(void **state)
{
	static const struct {
		uint32_t handle_types;
		int ret;
	} cases[] = {
		{ 0, 0 },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT, 0 },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT, 0 },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT |
		          VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
		  0 },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_BIT, -EOPNOTSUPP },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_ANDROID_HARDWARE_BUFFER_BIT_ANDROID, -EOPNOTSUPP },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, -EOPNOTSUPP },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT |
		          VK_EXTERNAL_MEMORY_HANDLE_TYPE_D3D12_RESOURCE_BIT,
		  -EOPNOTSUPP },
		{ 0x80000000u, -EOPNOTSUPP },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VkExportMemoryAllocateInfo e;
		struct vgalloc_request r;

		memset(&e, 0, sizeof(e));
		e.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO;
		e.handleTypes = cases[i].handle_types;
		assert_int_equal(build(&e, &r), cases[i].ret);
		if (cases[i].ret) {
			assert_true(is_poisoned(&r));
			continue;
		}
		assert_int_equal(r.export_handle_types, cases[i].handle_types);
		assert_int_equal(r.flags, 0);
	}
}

static void vulkan__request_import_fd(void **state)
{
	static const struct {
		uint32_t handle_type;
		int ret;
		bool imports;
	} cases[] = {
		{ 0, 0, false }, /* handleType 0: no import, whatever fd says */
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT, 0, true },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT, 0, true },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT |
		          VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
		  -EOPNOTSUPP, false },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_KMT_BIT, -EOPNOTSUPP, false },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_ANDROID_HARDWARE_BUFFER_BIT_ANDROID, -EOPNOTSUPP,
		  false },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, -EOPNOTSUPP, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VkImportMemoryFdInfoKHR imp;
		struct vgalloc_request r;

		memset(&imp, 0, sizeof(imp));
		imp.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR;
		imp.handleType = (VkExternalMemoryHandleTypeFlagBits)cases[i].handle_type;
		imp.fd = 42;
		assert_int_equal(build(&imp, &r), cases[i].ret);
		if (cases[i].ret) {
			assert_true(is_poisoned(&r));
			continue;
		}
		assert_int_equal(r.flags, cases[i].imports ? VGALLOC_REQUEST_IMPORT_FD : 0);
		assert_int_equal(r.import_fd, cases[i].imports ? 42 : -1);
		assert_int_equal(vgalloc_vk_allocate_command(&r),
		                 cases[i].imports ? VGALLOC_VK_ALLOCATE_MEMORY_IMPORT
		                                  : VGALLOC_VK_ALLOCATE_MEMORY);
	}
	/* A bad fd is passed through: the library refuses it (-EINVAL), which the import
	 * command turns into VK_ERROR_INVALID_EXTERNAL_HANDLE (see the device test below). */
	{
		VkImportMemoryFdInfoKHR imp;
		struct vgalloc_request r;

		memset(&imp, 0, sizeof(imp));
		imp.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR;
		imp.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
		imp.fd = -1;
		assert_int_equal(build(&imp, &r), 0);
		assert_int_equal(r.flags, VGALLOC_REQUEST_IMPORT_FD);
		assert_int_equal(r.import_fd, -1);
	}
}

static void vulkan__request_dedicated(void **state)
{
	static const struct {
		bool image;
		bool buffer;
		int ret;
		uint32_t flags;
	} cases[] = {
		{ false, false, 0, 0 },
		{ true, false, 0, VGALLOC_REQUEST_DEDICATED_IMAGE },
		{ false, true, 0, VGALLOC_REQUEST_DEDICATED_BUFFER },
		{ true, true, -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VkMemoryDedicatedAllocateInfo d;
		struct vgalloc_request r;

		memset(&d, 0, sizeof(d));
		d.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
		d.image = cases[i].image ? FAKE_IMAGE : VK_NULL_HANDLE;
		d.buffer = cases[i].buffer ? FAKE_BUFFER : VK_NULL_HANDLE;
		assert_int_equal(build(&d, &r), cases[i].ret);
		if (cases[i].ret) {
			assert_true(is_poisoned(&r));
			continue;
		}
		assert_int_equal(r.flags, cases[i].flags);
	}
}

static void vulkan__request_allocate_flags(void **state)
{
	static const struct {
		uint32_t flags;
		int ret;
		uint32_t want;
	} cases[] = {
		{ 0, 0, 0 },
		{ VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT, 0, VGALLOC_ALLOCATE_DEVICE_MASK },
		{ VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT, 0, VGALLOC_ALLOCATE_DEVICE_ADDRESS },
		{ VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT |
		          VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT,
		  0,
		  VGALLOC_ALLOCATE_DEVICE_ADDRESS |
		          VGALLOC_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY },
		{ VK_MEMORY_ALLOCATE_ZERO_INITIALIZE_BIT_EXT, 0, VGALLOC_ALLOCATE_ZERO_INITIALIZE },
		{ 0xf, 0, 0xf },
		{ 0x10, -EOPNOTSUPP, 0 },
		{ VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT | 0x100, -EOPNOTSUPP, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VkMemoryAllocateFlagsInfo f;
		struct vgalloc_request r;

		memset(&f, 0, sizeof(f));
		f.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
		f.flags = cases[i].flags;
		f.deviceMask = 0x3; /* ignored: the guest has one device */
		assert_int_equal(build(&f, &r), cases[i].ret);
		if (cases[i].ret) {
			assert_true(is_poisoned(&r));
			continue;
		}
		assert_int_equal(r.allocate_flags, cases[i].want);
		assert_int_equal(r.flags, 0);
	}
}

static void vulkan__request_capture_address(void **state)
{
	VkMemoryOpaqueCaptureAddressAllocateInfo c;
	struct vgalloc_request r;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.sType = VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO;
	c.opaqueCaptureAddress = 0x123456789000ull;
	assert_int_equal(build(&c, &r), 0);
	assert_int_equal(r.opaque_capture_address, 0x123456789000ull);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.allocate_flags, 0);
}

static void vulkan__request_priority(void **state)
{
	static const float priorities[] = { 0.0f, 0.25f, 1.0f };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		VkMemoryPriorityAllocateInfoEXT p;
		struct vgalloc_request r;

		memset(&p, 0, sizeof(p));
		p.sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT;
		p.priority = priorities[i];
		assert_int_equal(build(&p, &r), 0);
		/* The flag says "a priority was asked for", even a priority of 0. */
		assert_int_equal(r.flags, VGALLOC_REQUEST_PRIORITY);
		assert_true(r.priority == priorities[i]);
	}
}

static void vulkan__request_host_pointer(void **state)
{
	static const struct {
		uint32_t handle_type;
		int ret;
		uint32_t flags;
	} cases[] = {
		{ 0, 0, 0 },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, 0,
		  VGALLOC_REQUEST_IMPORT_HOST_POINTER },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_MAPPED_FOREIGN_MEMORY_BIT_EXT, 0,
		  VGALLOC_REQUEST_IMPORT_HOST_POINTER },
		{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT, -EOPNOTSUPP, 0 },
	};
	static char page[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VkImportMemoryHostPointerInfoEXT h;
		struct vgalloc_request r;

		memset(&h, 0, sizeof(h));
		h.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT;
		h.handleType = (VkExternalMemoryHandleTypeFlagBits)cases[i].handle_type;
		h.pHostPointer = page;
		assert_int_equal(build(&h, &r), cases[i].ret);
		if (cases[i].ret) {
			assert_true(is_poisoned(&r));
			continue;
		}
		assert_int_equal(r.flags, cases[i].flags);
		assert_int_equal(r.import_fd, -1);
		assert_int_equal(vgalloc_vk_allocate_command(&r),
		                 cases[i].flags ? VGALLOC_VK_ALLOCATE_MEMORY_IMPORT
		                                : VGALLOC_VK_ALLOCATE_MEMORY);
	}
}

static void vulkan__request_ahb_by_numeric_stype(void **state)
{
	/* What an Android app chains, built from the bare number: no vulkan_android.h here. */
	struct vgalloc_vk_import_ahb_info a;
	static char fake_ahb[16];
	struct vgalloc_request r;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.sType = (VkStructureType)1000129003;
	a.buffer = fake_ahb;
	assert_int_equal(build(&a, &r), 0);
	assert_int_equal(r.flags, VGALLOC_REQUEST_IMPORT_AHB);
	assert_int_equal(vgalloc_vk_allocate_command(&r), VGALLOC_VK_ALLOCATE_MEMORY_IMPORT);

	/* No buffer: not an import. */
	a.buffer = NULL;
	assert_int_equal(build(&a, &r), 0);
	assert_int_equal(r.flags, 0);

	/* 1000129004 is VkMemoryGetAndroidHardwareBufferInfoANDROID: unknown here, ignored. */
	a.sType = (VkStructureType)1000129004;
	a.buffer = fake_ahb;
	assert_int_equal(build(&a, &r), 0);
	assert_int_equal(r.flags, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Combinations.
 */

static void vulkan__request_export_and_dedicated(void **state)
{
	VkMemoryDedicatedAllocateInfo d;
	VkExportMemoryAllocateInfo e;
	struct vgalloc_request r;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(&e, 0, sizeof(e));
	e.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO;
	e.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
	e.pNext = &d;
	d.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
	d.buffer = FAKE_BUFFER;
	assert_int_equal(build(&e, &r), 0);
	assert_int_equal(r.export_handle_types, VGALLOC_HANDLE_TYPE_DMA_BUF);
	assert_int_equal(r.flags, VGALLOC_REQUEST_DEDICATED_BUFFER);

	/* Either order. */
	e.pNext = NULL;
	d.pNext = &e;
	d.buffer = VK_NULL_HANDLE;
	d.image = FAKE_IMAGE;
	assert_int_equal(build(&d, &r), 0);
	assert_int_equal(r.export_handle_types, VGALLOC_HANDLE_TYPE_DMA_BUF);
	assert_int_equal(r.flags, VGALLOC_REQUEST_DEDICATED_IMAGE);

	/* A bad export after a valid dedicated struct still fails, and touches nothing. */
	e.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_BIT;
	assert_int_equal(build(&d, &r), -EOPNOTSUPP);
	assert_true(is_poisoned(&r));
}

static void vulkan__request_import_and_dedicated_image(void **state)
{
	VkMemoryDedicatedAllocateInfo d;
	VkImportMemoryFdInfoKHR imp;
	struct vgalloc_request r;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(&imp, 0, sizeof(imp));
	imp.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR;
	imp.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
	imp.fd = 7;
	imp.pNext = &d;
	d.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
	d.image = FAKE_IMAGE;
	assert_int_equal(build(&imp, &r), 0);
	assert_int_equal(r.flags, VGALLOC_REQUEST_IMPORT_FD | VGALLOC_REQUEST_DEDICATED_IMAGE);
	assert_int_equal(r.import_fd, 7);
	assert_int_equal(vgalloc_vk_allocate_command(&r), VGALLOC_VK_ALLOCATE_MEMORY_IMPORT);
}

static void vulkan__request_flags_capture_priority(void **state)
{
	VkMemoryOpaqueCaptureAddressAllocateInfo c;
	VkMemoryPriorityAllocateInfoEXT p;
	VkMemoryAllocateFlagsInfo f;
	struct vgalloc_request r;

	(void)state;
	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	f.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
	f.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT |
	          VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT;
	f.pNext = &c;
	c.sType = VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO;
	c.opaqueCaptureAddress = 0xabc000;
	c.pNext = &p;
	p.sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT;
	p.priority = 0.75f;
	assert_int_equal(build(&f, &r), 0);
	assert_int_equal(r.allocate_flags, VGALLOC_ALLOCATE_DEVICE_ADDRESS |
	                                           VGALLOC_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY);
	assert_int_equal(r.opaque_capture_address, 0xabc000);
	assert_int_equal(r.flags, VGALLOC_REQUEST_PRIORITY);
	assert_true(r.priority == 0.75f);
}

/* An extension struct the helper does not know, with garbage after sType/pNext. */
struct unknown_struct {
	VkStructureType sType;
	const void *pNext;
	uint32_t garbage[8];
};

static void vulkan__request_unknown_structs_in_between(void **state)
{
	struct unknown_struct u1, u2;
	VkExportMemoryAllocateInfoNV nv;
	VkExportMemoryAllocateInfo e;
	VkMemoryDedicatedAllocateInfo d;
	VkMemoryPriorityAllocateInfoEXT p;
	struct vgalloc_request r;

	(void)state;
	memset(&u1, 0xff, sizeof(u1));
	memset(&u2, 0xee, sizeof(u2));
	memset(&nv, 0, sizeof(nv));
	memset(&e, 0, sizeof(e));
	memset(&d, 0, sizeof(d));
	memset(&p, 0, sizeof(p));
	/* e → u1 (unknown number) → d → nv (known to Vulkan, not to us) → u2 (placed-map
	 * info, which belongs to vkMapMemory2, not here) → p */
	e.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO;
	e.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
	e.pNext = &u1;
	u1.sType = (VkStructureType)0x7ffffff0;
	u1.pNext = &d;
	d.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
	d.image = FAKE_IMAGE;
	d.pNext = &nv;
	nv.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO_NV;
	nv.handleTypes = 0xffffffffu; /* would be -EOPNOTSUPP if it were read as ours */
	nv.pNext = &u2;
	u2.sType = VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT;
	u2.pNext = &p;
	p.sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT;
	p.priority = 0.5f;
	assert_int_equal(build(&e, &r), 0);
	assert_int_equal(r.export_handle_types, VGALLOC_HANDLE_TYPE_OPAQUE_FD);
	assert_int_equal(r.flags, VGALLOC_REQUEST_DEDICATED_IMAGE | VGALLOC_REQUEST_PRIORITY);
	assert_true(r.priority == 0.5f);
}

static void vulkan__request_everything_at_once(void **state)
{
	VkExportMemoryAllocateInfo e;
	VkImportMemoryFdInfoKHR imp;
	VkMemoryDedicatedAllocateInfo d;
	VkMemoryAllocateFlagsInfo f;
	VkMemoryOpaqueCaptureAddressAllocateInfo c;
	VkMemoryPriorityAllocateInfoEXT p;
	static const uint32_t map[] = { 3, 1, 0 };
	VkMemoryAllocateInfo info;
	struct vgalloc_request r;

	(void)state;
	memset(&e, 0, sizeof(e));
	memset(&imp, 0, sizeof(imp));
	memset(&d, 0, sizeof(d));
	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	e.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO;
	e.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT |
	                VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
	e.pNext = &imp;
	imp.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR;
	imp.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT;
	imp.fd = 9;
	imp.pNext = &d;
	d.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
	d.image = FAKE_IMAGE;
	d.pNext = &f;
	f.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
	f.flags = 0xf;
	f.pNext = &c;
	c.sType = VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO;
	c.opaqueCaptureAddress = 0x1000;
	c.pNext = &p;
	p.sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT;
	p.priority = 1.0f;
	info = alloc_info(&e, 3 * GIB, 1);
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, map, 3, &r), 0);
	assert_int_equal(r.memory_type, 1);
	assert_int_equal(r.size, 3 * GIB);
	assert_int_equal(r.export_handle_types,
	                 VGALLOC_HANDLE_TYPE_OPAQUE_FD | VGALLOC_HANDLE_TYPE_DMA_BUF);
	assert_int_equal(r.flags, VGALLOC_REQUEST_IMPORT_FD | VGALLOC_REQUEST_DEDICATED_IMAGE |
	                                  VGALLOC_REQUEST_PRIORITY);
	assert_int_equal(r.import_fd, 9);
	assert_int_equal(r.allocate_flags, 0xf);
	assert_int_equal(r.opaque_capture_address, 0x1000);
	assert_true(r.priority == 1.0f);
}

static void vulkan__request_two_imports_einval(void **state)
{
	VkImportMemoryFdInfoKHR imp;
	VkImportMemoryHostPointerInfoEXT h;
	struct vgalloc_vk_import_ahb_info a;
	static char data[64];
	struct vgalloc_request r;

	(void)state;
	memset(&imp, 0, sizeof(imp));
	memset(&h, 0, sizeof(h));
	memset(&a, 0, sizeof(a));
	imp.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR;
	imp.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
	imp.fd = 3;
	h.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT;
	h.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
	h.pHostPointer = data;
	a.sType = VK_STRUCTURE_TYPE_IMPORT_ANDROID_HARDWARE_BUFFER_INFO_ANDROID;
	a.buffer = data;

	imp.pNext = &h;
	assert_int_equal(build(&imp, &r), -EINVAL);
	assert_true(is_poisoned(&r));
	imp.pNext = &a;
	assert_int_equal(build(&imp, &r), -EINVAL);
	imp.pNext = NULL;
	h.pNext = &a;
	assert_int_equal(build(&h, &r), -EINVAL);
	/* An import struct that imports nothing (handleType 0) is no second import. */
	h.handleType = (VkExternalMemoryHandleTypeFlagBits)0;
	assert_int_equal(build(&h, &r), 0);
	assert_int_equal(r.flags, VGALLOC_REQUEST_IMPORT_AHB);
}

static void vulkan__request_first_duplicate_wins(void **state)
{
	VkMemoryPriorityAllocateInfoEXT p1, p2;
	VkExportMemoryAllocateInfo e1, e2;
	struct vgalloc_request r;

	(void)state;
	memset(&p1, 0, sizeof(p1));
	memset(&p2, 0, sizeof(p2));
	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	p1.sType = p2.sType = VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT;
	p1.priority = 0.1f;
	p2.priority = 0.9f;
	e1.sType = e2.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO;
	e1.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
	e2.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_BIT; /* never read */
	p1.pNext = &e1;
	e1.pNext = &p2;
	p2.pNext = &e2;
	assert_int_equal(build(&p1, &r), 0);
	assert_true(r.priority == 0.1f);
	assert_int_equal(r.export_handle_types, VGALLOC_HANDLE_TYPE_DMA_BUF);
}

static void vulkan__request_cyclic_chain_einval(void **state)
{
	struct unknown_struct a, b;
	struct unknown_struct chain[VGALLOC_VK_MAX_CHAIN];
	struct vgalloc_request r;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.sType = b.sType = (VkStructureType)0x7ffffff1;
	a.pNext = &b;
	b.pNext = &a;
	assert_int_equal(build(&a, &r), -EINVAL);
	assert_true(is_poisoned(&r));

	/* Exactly VGALLOC_VK_MAX_CHAIN structs is fine. */
	memset(chain, 0, sizeof(chain));
	for (uint32_t i = 0; i < VGALLOC_VK_MAX_CHAIN; i++) {
		chain[i].sType = (VkStructureType)0x7ffffff1;
		chain[i].pNext = i + 1 < VGALLOC_VK_MAX_CHAIN ? &chain[i + 1] : NULL;
	}
	assert_int_equal(build(&chain[0], &r), 0);
}

/* ---------------------------------------------------------------------------------------------
 * Memory types.
 */

#define DL  VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT
#define HV  VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
#define HC  VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
#define HCA VK_MEMORY_PROPERTY_HOST_CACHED_BIT

static VkPhysicalDeviceMemoryProperties host_props(const uint32_t *flags, uint32_t count)
{
	VkPhysicalDeviceMemoryProperties p;

	memset(&p, 0, sizeof(p));
	p.memoryTypeCount = count;
	for (uint32_t i = 0; i < count; i++) {
		p.memoryTypes[i].propertyFlags = flags[i];
		p.memoryTypes[i].heapIndex = (flags[i] & DL) ? 0 : 1;
	}
	p.memoryHeapCount = 2;
	p.memoryHeaps[0].size = 8 * GIB;
	p.memoryHeaps[0].flags = VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;
	p.memoryHeaps[1].size = 16 * GIB;
	return p;
}

static void vulkan__guest_types_all_coherent_is_identity(void **state)
{
	static const uint32_t flags[] = { DL, HV | HC, HV | HC | HCA, DL | HV | HC };
	VkPhysicalDeviceMemoryProperties host = host_props(flags, 4), guest;
	uint32_t map[VK_MAX_MEMORY_TYPES];

	(void)state;
	assert_int_equal(vgalloc_vk_guest_memory_types(&host, &guest, map), 4);
	assert_int_equal(guest.memoryTypeCount, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(map[i], i);
		assert_int_equal(guest.memoryTypes[i].propertyFlags, flags[i]);
		assert_int_equal(guest.memoryTypes[i].heapIndex, host.memoryTypes[i].heapIndex);
	}
	assert_int_equal(guest.memoryHeapCount, 2);
	assert_memory_equal(guest.memoryHeaps, host.memoryHeaps, sizeof(host.memoryHeaps));
	assert_int_equal(vgalloc_vk_guest_memory_type_bits(0xf, map, 4), 0xf);
}

static void vulkan__guest_types_incoherent_hidden_and_remapped(void **state)
{
	/* A valid host order (no type after one its flags are a strict subset of):
	 * 0 DL, 1 HV|HC, 2 HV|HCA (incoherent, system memory), 3 HV|HC|HCA, 4 DL|HV|HC,
	 * 5 DL|HV|HCA (incoherent, device-local). */
	static const uint32_t flags[] = { DL,           HV | HC,      HV | HCA, HV | HC | HCA,
		                          DL | HV | HC, DL | HV | HCA };
	VkPhysicalDeviceMemoryProperties host = host_props(flags, 6), guest;
	uint32_t map[VK_MAX_MEMORY_TYPES];
	/* Type 2 is removed; type 5 stays as device-only DL memory, which must come before
	 * DL|HV|HC (a strict superset), after the equal-flags type 0. */
	static const uint32_t want_map[] = { 0, 1, 3, 5, 4 };
	static const uint32_t want_flags[] = { DL, HV | HC, HV | HC | HCA, DL, DL | HV | HC };

	(void)state;
	assert_int_equal(vgalloc_vk_guest_memory_types(&host, &guest, map), 5);
	assert_int_equal(guest.memoryTypeCount, 5);
	for (uint32_t g = 0; g < 5; g++) {
		assert_int_equal(map[g], want_map[g]);
		assert_int_equal(guest.memoryTypes[g].propertyFlags, want_flags[g]);
		assert_int_equal(guest.memoryTypes[g].heapIndex,
		                 host.memoryTypes[want_map[g]].heapIndex);
	}
	/* No guest type is host-visible without being coherent. */
	for (uint32_t g = 0; g < guest.memoryTypeCount; g++) {
		uint32_t f = guest.memoryTypes[g].propertyFlags;

		assert_false((f & HV) && !(f & HC));
	}
	/* The spec's ordering rule holds for the guest list. */
	for (uint32_t x = 0; x < guest.memoryTypeCount; x++) {
		for (uint32_t y = 0; y < x; y++) {
			uint32_t fx = guest.memoryTypes[x].propertyFlags;
			uint32_t fy = guest.memoryTypes[y].propertyFlags;

			assert_false(fx != fy && (fx & fy) == fx); /* x ⊂ y must not follow y */
		}
	}
	/* memoryTypeBits: host {2, 3} → guest {2} (2 hidden); host {5} → guest {3};
	 * host {0, 4, 5} → guest {0, 3, 4}. */
	assert_int_equal(vgalloc_vk_guest_memory_type_bits(0x0c, map, 5), 0x04);
	assert_int_equal(vgalloc_vk_guest_memory_type_bits(0x20, map, 5), 0x08);
	assert_int_equal(vgalloc_vk_guest_memory_type_bits(0x31, map, 5), 0x19);
	assert_int_equal(vgalloc_vk_guest_memory_type_bits(0x04, map, 5), 0);
	assert_int_equal(vgalloc_vk_guest_memory_type_bits(0x04, NULL, 5), 0);

	/* A request for guest type 3 reaches host type 5. */
	{
		VkMemoryAllocateInfo info = alloc_info(NULL, 4096, 3);
		struct vgalloc_request r;

		assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, map, 5, &r), 0);
		assert_int_equal(r.memory_type, 5);
	}
}

static void vulkan__guest_types_in_place_and_invalid(void **state)
{
	static const uint32_t flags[] = { DL, HV | HCA, HV | HC };
	VkPhysicalDeviceMemoryProperties p = host_props(flags, 3), before;
	uint32_t map[VK_MAX_MEMORY_TYPES];

	(void)state;
	/* guest may alias host. */
	assert_int_equal(vgalloc_vk_guest_memory_types(&p, &p, map), 2);
	assert_int_equal(p.memoryTypes[0].propertyFlags, DL);
	assert_int_equal(p.memoryTypes[1].propertyFlags, HV | HC);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], 2);

	p = host_props(flags, 3);
	before = p;
	map[0] = 77;
	assert_int_equal(vgalloc_vk_guest_memory_types(NULL, &p, map), 0);
	assert_int_equal(vgalloc_vk_guest_memory_types(&p, NULL, map), 0);
	assert_int_equal(vgalloc_vk_guest_memory_types(&p, &p, NULL), 0);
	p.memoryTypeCount = 0;
	assert_int_equal(vgalloc_vk_guest_memory_types(&p, &p, map), 0);
	p.memoryTypeCount = VK_MAX_MEMORY_TYPES + 1;
	assert_int_equal(vgalloc_vk_guest_memory_types(&p, &p, map), 0);
	p.memoryTypeCount = 3;
	assert_memory_equal(&p, &before, sizeof(p));
	assert_int_equal(map[0], 77);
	/* A host whose only types are incoherent system memory is not valid Vulkan. */
	{
		static const uint32_t bad[] = { HV, HV | HCA };
		VkPhysicalDeviceMemoryProperties h = host_props(bad, 2), g = before;

		assert_int_equal(vgalloc_vk_guest_memory_types(&h, &g, map), 0);
		assert_memory_equal(&g, &before, sizeof(g));
	}
}

static void vulkan__memory_type_fills_fields(void **state)
{
	static const uint32_t flags[] = { DL, HV | HC, DL | HV | HCA };
	VkPhysicalDeviceMemoryProperties props = host_props(flags, 3);
	VkPhysicalDeviceLimits limits;
	struct vgalloc_memory_type t, before;

	(void)state;
	memset(&limits, 0, sizeof(limits));
	limits.minMemoryMapAlignment = 64;
	limits.nonCoherentAtomSize = 256;
	limits.bufferImageGranularity = 1024;

	assert_int_equal(vgalloc_vk_memory_type_from_properties(&props, 1, &limits, true, &t), 0);
	assert_int_equal(t.struct_size, sizeof(t));
	assert_int_equal(t.host_index, 1);
	assert_int_equal(t.property_flags, HV | HC);
	assert_int_equal(t.flags, VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES);
	assert_int_equal(t.min_map_alignment, 64);
	assert_int_equal(t.non_coherent_atom_size, 256);
	assert_int_equal(t.buffer_image_granularity, 1024);
	assert_int_equal(t.base_alignment, 0);

	assert_int_equal(vgalloc_vk_memory_type_from_properties(&props, 0, &limits, false, &t), 0);
	assert_int_equal(t.property_flags, DL);
	assert_int_equal(t.flags, 0);

	/* The incoherent device-local type is described as the guest sees it: device-only. */
	assert_int_equal(vgalloc_vk_memory_type_from_properties(&props, 2, &limits, true, &t), 0);
	assert_int_equal(t.property_flags, DL);

	memset(&before, 0x5a, sizeof(before));
	t = before;
	assert_int_equal(vgalloc_vk_memory_type_from_properties(&props, 3, &limits, true, &t),
	                 -EINVAL);
	assert_int_equal(vgalloc_vk_memory_type_from_properties(NULL, 0, &limits, true, &t),
	                 -EINVAL);
	assert_int_equal(vgalloc_vk_memory_type_from_properties(&props, 0, NULL, true, &t),
	                 -EINVAL);
	assert_int_equal(vgalloc_vk_memory_type_from_properties(&props, 0, &limits, true, NULL),
	                 -EINVAL);
	limits.nonCoherentAtomSize = 96;
	assert_int_equal(vgalloc_vk_memory_type_from_properties(&props, 0, &limits, true, &t),
	                 -EINVAL);
	limits.nonCoherentAtomSize = 256;
	limits.bufferImageGranularity = 3;
	assert_int_equal(vgalloc_vk_memory_type_from_properties(&props, 0, &limits, true, &t),
	                 -EINVAL);
	assert_memory_equal(&t, &before, sizeof(t));
}

/* ---------------------------------------------------------------------------------------------
 * -errno → VkResult.
 */

#define OK   VK_SUCCESS
#define HOST VK_ERROR_OUT_OF_HOST_MEMORY
#define DEV  VK_ERROR_OUT_OF_DEVICE_MEMORY
#define EXT  VK_ERROR_INVALID_EXTERNAL_HANDLE
#define CAP  VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS
#define MAPF VK_ERROR_MEMORY_MAP_FAILED
#define MANY VK_ERROR_TOO_MANY_OBJECTS

/* The spec's lists (vk.xml 1.3.239, errorcodes), written out independently of the header. */
static const struct {
	enum vgalloc_vk_command cmd;
	const char *name;
	VkResult allowed[5];
} spec[] = {
	{ VGALLOC_VK_ALLOCATE_MEMORY, "vkAllocateMemory", { HOST, DEV, EXT, CAP } },
	{ VGALLOC_VK_ALLOCATE_MEMORY_IMPORT, "vkAllocateMemory (import)", { HOST, DEV, EXT, CAP } },
	{ VGALLOC_VK_MAP_MEMORY, "vkMapMemory", { HOST, DEV, MAPF } },
	{ VGALLOC_VK_GET_MEMORY_FD, "vkGetMemoryFdKHR", { MANY, HOST } },
	{ VGALLOC_VK_GET_MEMORY_FD_PROPERTIES, "vkGetMemoryFdPropertiesKHR", { HOST, EXT } },
	{ VGALLOC_VK_BIND_MEMORY, "vkBindImageMemory", { HOST, DEV } },
	{ VGALLOC_VK_GET_MEMORY_HOST_POINTER_PROPERTIES,
	  "vkGetMemoryHostPointerPropertiesEXT",
	  { HOST, EXT } },
	{ VGALLOC_VK_FLUSH_MAPPED_MEMORY_RANGES, "vkFlushMappedMemoryRanges", { HOST, DEV } },
};

#define N_CMDS (sizeof(spec) / sizeof(spec[0]))

static bool spec_allows(enum vgalloc_vk_command cmd, VkResult r)
{
	if (r == VK_SUCCESS) {
		return true;
	}
	for (size_t i = 0; i < N_CMDS; i++) {
		if (spec[i].cmd != cmd) {
			continue;
		}
		for (size_t j = 0; j < 5; j++) {
			if (spec[i].allowed[j] == r && r != VK_SUCCESS) {
				return true;
			}
		}
	}
	return false;
}

static const int errnos[] = {
	0,           -ENOMEM, -ENOSPC, -EIO,    -EINVAL, -EBADF, -EOPNOTSUPP, -EMFILE, -ENFILE,
	-EADDRINUSE, -E2BIG,  -EBUSY,  -EFAULT, -ENOENT, -EPERM, -ETIMEDOUT,  5,       INT_MIN,
};

#define N_ERRNOS (sizeof(errnos) / sizeof(errnos[0]))

/* Row per errnos[] entry, column per command (spec[] order). */
static const VkResult want[N_ERRNOS][N_CMDS] = {
	/*                   alloc  import map    get fd fd pr bind   hp pr  flush */
	/* 0            */ { OK, OK, OK, OK, OK, OK, OK, OK },
	/* -ENOMEM      */ { HOST, HOST, HOST, HOST, HOST, HOST, HOST, HOST },
	/* -ENOSPC      */ { DEV, DEV, DEV, HOST, EXT, DEV, EXT, DEV },
	/* -EIO         */ { DEV, DEV, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* -EINVAL      */ { DEV, EXT, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* -EBADF       */ { DEV, EXT, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* -EOPNOTSUPP  */ { DEV, EXT, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* -EMFILE      */ { HOST, HOST, MAPF, MANY, EXT, DEV, EXT, DEV },
	/* -ENFILE      */ { HOST, HOST, MAPF, MANY, EXT, DEV, EXT, DEV },
	/* -EADDRINUSE  */ { CAP, CAP, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* -E2BIG       */ { DEV, DEV, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* -EBUSY       */ { DEV, DEV, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* -EFAULT      */ { DEV, DEV, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* -ENOENT      */ { DEV, DEV, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* -EPERM       */ { DEV, DEV, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* -ETIMEDOUT   */ { DEV, DEV, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* 5            */ { DEV, DEV, MAPF, HOST, EXT, DEV, EXT, DEV },
	/* INT_MIN      */ { DEV, DEV, MAPF, HOST, EXT, DEV, EXT, DEV },
};

static void vulkan__result_every_command_and_errno(void **state)
{
	(void)state;
	for (size_t c = 0; c < N_CMDS; c++) {
		for (size_t e = 0; e < N_ERRNOS; e++) {
			VkResult got = vgalloc_vk_result(spec[c].cmd, errnos[e]);

			if (got != want[e][c] || !spec_allows(spec[c].cmd, got)) {
				print_error("%s, err %d: got %d, want %d\n", spec[c].name,
				            errnos[e], (int)got, (int)want[e][c]);
				fail();
			}
			assert_true(vgalloc_vk_result_allowed(spec[c].cmd, got));
		}
	}
}

static void vulkan__result_sweep_stays_in_allowed_set(void **state)
{
	static const VkResult all_errors[] = {
		VK_ERROR_OUT_OF_HOST_MEMORY,
		VK_ERROR_OUT_OF_DEVICE_MEMORY,
		VK_ERROR_INITIALIZATION_FAILED,
		VK_ERROR_DEVICE_LOST,
		VK_ERROR_MEMORY_MAP_FAILED,
		VK_ERROR_TOO_MANY_OBJECTS,
		VK_ERROR_UNKNOWN,
		VK_ERROR_INVALID_EXTERNAL_HANDLE,
		VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS,
		VK_ERROR_FRAGMENTATION,
		VK_ERROR_OUT_OF_POOL_MEMORY,
	};

	(void)state;
	for (size_t c = 0; c < N_CMDS; c++) {
		/* Every errno Linux defines, and some that it does not. */
		for (int e = -200; e <= 200; e++) {
			VkResult got = vgalloc_vk_result(spec[c].cmd, e);

			assert_true(spec_allows(spec[c].cmd, got));
			assert_int_equal(got == VK_SUCCESS, e == 0);
		}
		/* The header's allowed-set agrees with the spec's lists here. */
		for (size_t r = 0; r < sizeof(all_errors) / sizeof(all_errors[0]); r++) {
			assert_int_equal(vgalloc_vk_result_allowed(spec[c].cmd, all_errors[r]),
			                 spec_allows(spec[c].cmd, all_errors[r]));
		}
		assert_true(vgalloc_vk_result_allowed(spec[c].cmd, VK_SUCCESS));
	}
	/* vkAllocateMemory may not return DEVICE_LOST, whatever the error. */
	assert_false(vgalloc_vk_result_allowed(VGALLOC_VK_ALLOCATE_MEMORY, VK_ERROR_DEVICE_LOST));
	/* An unknown command has no list: UNKNOWN for errors, SUCCESS for 0. */
	assert_int_equal(vgalloc_vk_result((enum vgalloc_vk_command)99, -ENOMEM), VK_ERROR_UNKNOWN);
	assert_int_equal(vgalloc_vk_result((enum vgalloc_vk_command)99, 0), VK_SUCCESS);
	assert_false(vgalloc_vk_result_allowed((enum vgalloc_vk_command)99, VK_ERROR_UNKNOWN));
	assert_int_equal(vgalloc_vk_allocate_command(NULL), VGALLOC_VK_ALLOCATE_MEMORY);
}

/* The command comes from the allocate info even when the conversion refused it, so an import
 * whose handle type is refused reports INVALID_EXTERNAL_HANDLE and no unwritten request is read. */
static void vulkan__allocate_info_command_without_request(void **state)
{
	VkImportMemoryFdInfoKHR opaque_win32 = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_WIN32_BIT,
		.fd = 3,
	};
	VkImportMemoryFdInfoKHR none = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
		.handleType = 0,
		.fd = -1,
	};
	VkImportMemoryHostPointerInfoEXT host = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
	};
	VkMemoryDedicatedAllocateInfo ded = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
	};
	VkMemoryAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.allocationSize = 4096,
		.memoryTypeIndex = 0,
	};
	struct vgalloc_request r;

	(void)state;
	poison(&r);
	assert_int_equal(vgalloc_vk_allocate_info_command(NULL), VGALLOC_VK_ALLOCATE_MEMORY);
	assert_int_equal(vgalloc_vk_allocate_info_command(&ai), VGALLOC_VK_ALLOCATE_MEMORY);
	/* A refused handle type: the conversion fails and leaves r alone; the command is import. */
	ded.pNext = &opaque_win32;
	ai.pNext = &ded;
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&ai, NULL, 1, &r), -EOPNOTSUPP);
	assert_true(is_poisoned(&r));
	assert_int_equal(vgalloc_vk_allocate_info_command(&ai), VGALLOC_VK_ALLOCATE_MEMORY_IMPORT);
	assert_int_equal(vgalloc_vk_result(vgalloc_vk_allocate_info_command(&ai), -EOPNOTSUPP),
	                 VK_ERROR_INVALID_EXTERNAL_HANDLE);
	/* handleType 0 imports nothing (the spec). */
	ai.pNext = &none;
	assert_int_equal(vgalloc_vk_allocate_info_command(&ai), VGALLOC_VK_ALLOCATE_MEMORY);
	ai.pNext = &host;
	assert_int_equal(vgalloc_vk_allocate_info_command(&ai), VGALLOC_VK_ALLOCATE_MEMORY_IMPORT);
	/* Where the conversion succeeds, both helpers agree. */
	ai.pNext = &ded;
	ded.pNext = NULL;
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&ai, NULL, 1, &r), 0);
	assert_int_equal(vgalloc_vk_allocate_info_command(&ai), vgalloc_vk_allocate_command(&r));
}

/* ---------------------------------------------------------------------------------------------
 * Through a device: the helper's memory types and requests are ones the library accepts, and
 * its errors come out as the Vulkan codes a driver must return.
 */

static struct fx *fx_from_vulkan(uint32_t *guest_to_host, uint32_t *guest_count)
{
	/* The harness's host: 0 DL, 1 DL|HV|HC, 2 DL|HV|HC|HCA, plus 3 DL|HV|HCA (incoherent). */
	static const uint32_t flags[] = { DL, DL | HV | HC, DL | HV | HC | HCA, DL | HV | HCA };
	VkPhysicalDeviceMemoryProperties host = host_props(flags, 4), guest;
	struct vgalloc_memory_type types[4];
	struct vgalloc_device_create_info ci;
	struct vgalloc_memory_type fx_types[3];
	VkPhysicalDeviceLimits limits;
	struct fx *f = calloc(1, sizeof(*f));
	struct fx_opts o;

	assert_non_null(f);
	memset(&o, 0, sizeof(o));
	memset(&limits, 0, sizeof(limits));
	limits.minMemoryMapAlignment = 64;
	limits.nonCoherentAtomSize = 64;
	limits.bufferImageGranularity = 1024;
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(vgalloc_vk_memory_type_from_properties(&host, i, &limits, i == 1,
		                                                        &types[i]),
		                 0);
	}
	*guest_count = vgalloc_vk_guest_memory_types(&host, &guest, guest_to_host);
	assert_int_equal(*guest_count, 4); /* 3 is DL: kept, device-only */

	f->fds_before = count_open_fds();
	f->mock = fx_mock_new(&o);
	assert_int_equal(vgalloc_mock_get_hooks(f->mock, 0, &f->hooks), 0);
	fx_create_info(f, &o, fx_types, &ci);
	ci.memory_types = types;
	ci.memory_type_count = 4;
	assert_int_equal(vgalloc_device_create(&ci, &f->dev), 0);
	vgalloc_mock_reset_counters(f->mock);
	return f;
}

static void vulkan__device_requests_plan_and_allocate(void **state)
{
	uint32_t map[VK_MAX_MEMORY_TYPES], count;
	struct fx *f = fx_from_vulkan(map, &count);
	VkMemoryAllocateInfo info = alloc_info(NULL, 4096, 1);
	struct vgalloc_plan plan;
	struct vgalloc_request r;
	struct vgalloc_mem *mem = NULL;
	void *ptr = NULL;

	(void)state;
	/* The stripped device-only type (host 3) moves before the types it is a subset of. */
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], 3);
	assert_int_equal(map[2], 1);
	assert_int_equal(map[3], 2);

	/* Plain host-visible coherent memory (guest 2 = host 1): suballocated, mapped, freed. */
	info.memoryTypeIndex = 2;
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, map, count, &r), 0);
	assert_int_equal(r.memory_type, 1);
	memset(&plan, 0, sizeof(plan));
	plan.struct_size = sizeof(plan);
	assert_int_equal(vgalloc_plan_request(f->dev, &r, &plan), 0);
	assert_int_equal(plan.suballocate, 1);
	assert_int_equal(vgalloc_vk_result(vgalloc_vk_allocate_command(&r),
	                                   vgalloc_mem_alloc(f->dev, &r, &mem)),
	                 VK_SUCCESS);
	assert_int_equal(
	        vgalloc_vk_result(VGALLOC_VK_MAP_MEMORY, vgalloc_mem_map(f->dev, mem, &ptr)),
	        VK_SUCCESS);
	memset(ptr, 1, 4096);
	assert_int_equal(vgalloc_mem_unmap(f->dev, mem), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);

	/* The incoherent host type is device-only: host-only path, never mapped. */
	info.memoryTypeIndex = 1;
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, map, count, &r), 0);
	assert_int_equal(r.memory_type, 3);
	plan.struct_size = sizeof(plan);
	assert_int_equal(vgalloc_plan_request(f->dev, &r, &plan), 0);
	assert_int_equal(plan.path, VGALLOC_PATH_HOST_ONLY);
	fx_free(f);
}

/* Two suballocations of one block: their addresses differ by their offsets; a block the host
 * gave no address (0) gives none to its ranges, even at a non-zero offset. */
static void vulkan__capture_address_keeps_zero(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem_info a = { .struct_size = sizeof(a) }, b = { .struct_size = sizeof(b) };
	struct vgalloc_mem *ma = NULL, *mb = NULL;
	const uint64_t block_address = 0x100000000ull;

	(void)state;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &ma), 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mb), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, ma, &a), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, mb, &b), 0);
	assert_true(a.flags & b.flags & VGALLOC_MEM_INFO_SUBALLOCATED);
	assert_int_equal(a.host_handle, b.host_handle);
	assert_int_not_equal(a.offset, b.offset);
	assert_int_equal(vgalloc_vk_capture_address(block_address, b.offset) -
	                         vgalloc_vk_capture_address(block_address, a.offset),
	                 b.offset - a.offset);
	assert_int_equal(vgalloc_vk_capture_address(block_address, 0), block_address);
	assert_int_equal(vgalloc_vk_capture_address(0, a.offset), 0);
	assert_int_equal(vgalloc_vk_capture_address(0, b.offset), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, ma), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, mb), 0);
	fx_free(f);
}

static void vulkan__device_import_errors_become_vk_codes(void **state)
{
	uint32_t map[VK_MAX_MEMORY_TYPES], count;
	struct fx *f = fx_from_vulkan(map, &count);
	VkImportMemoryFdInfoKHR imp;
	struct vgalloc_vk_import_ahb_info a;
	VkImportMemoryHostPointerInfoEXT h;
	static char data[4096];
	VkMemoryAllocateInfo info;
	struct vgalloc_plan plan;
	struct vgalloc_request r;
	struct vgalloc_mem *mem = NULL;

	(void)state;
	/* A bad dma-buf fd: -EINVAL from the library, INVALID_EXTERNAL_HANDLE for Vulkan. */
	memset(&imp, 0, sizeof(imp));
	imp.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR;
	imp.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
	imp.fd = -1;
	info = alloc_info(&imp, 4096, 2);
	assert_int_equal(vgalloc_vk_request_from_allocate_info(&info, map, count, &r), 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
	assert_int_equal(vgalloc_vk_result(vgalloc_vk_allocate_command(&r), -EINVAL),
	                 VK_ERROR_INVALID_EXTERNAL_HANDLE);
	/* The same errno on a plain allocation is not an external-handle error. */
	assert_int_equal(vgalloc_vk_result(VGALLOC_VK_ALLOCATE_MEMORY, -EINVAL),
	                 VK_ERROR_OUT_OF_DEVICE_MEMORY);

	/* Host-pointer and AHB imports: recognised, never suballocated, refused by this device
	 * (no virtio-gpu path), and reported as an unusable external handle. */
	memset(&h, 0, sizeof(h));
	h.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT;
	h.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
	h.pHostPointer = data;
	memset(&a, 0, sizeof(a));
	a.sType = (VkStructureType)1000129003;
	a.buffer = data;
	{
		const void *imports[2] = { &h, &a };

		for (int i = 0; i < 2; i++) {
			int ret;

			info = alloc_info(imports[i], 4096, 2);
			assert_int_equal(
			        vgalloc_vk_request_from_allocate_info(&info, map, count, &r), 0);
			memset(&plan, 0, sizeof(plan));
			plan.struct_size = sizeof(plan);
			assert_int_equal(vgalloc_plan_request(f->dev, &r, &plan), 0);
			assert_int_equal(plan.suballocate, 0);
			ret = vgalloc_mem_alloc(f->dev, &r, &mem);
			assert_int_not_equal(ret, 0);
			assert_int_equal(vgalloc_vk_result(vgalloc_vk_allocate_command(&r), ret),
			                 VK_ERROR_INVALID_EXTERNAL_HANDLE);
		}
	}
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vulkan__defines_have_registry_values),
		cmocka_unit_test(vulkan__request_plain),
		cmocka_unit_test(vulkan__request_invalid_arguments),
		cmocka_unit_test(vulkan__request_index_translation),
		cmocka_unit_test(vulkan__request_export),
		cmocka_unit_test(vulkan__request_import_fd),
		cmocka_unit_test(vulkan__request_dedicated),
		cmocka_unit_test(vulkan__request_allocate_flags),
		cmocka_unit_test(vulkan__request_capture_address),
		cmocka_unit_test(vulkan__request_priority),
		cmocka_unit_test(vulkan__request_host_pointer),
		cmocka_unit_test(vulkan__request_ahb_by_numeric_stype),
		cmocka_unit_test(vulkan__request_export_and_dedicated),
		cmocka_unit_test(vulkan__request_import_and_dedicated_image),
		cmocka_unit_test(vulkan__request_flags_capture_priority),
		cmocka_unit_test(vulkan__request_unknown_structs_in_between),
		cmocka_unit_test(vulkan__request_everything_at_once),
		cmocka_unit_test(vulkan__request_two_imports_einval),
		cmocka_unit_test(vulkan__request_first_duplicate_wins),
		cmocka_unit_test(vulkan__request_cyclic_chain_einval),
		cmocka_unit_test(vulkan__guest_types_all_coherent_is_identity),
		cmocka_unit_test(vulkan__guest_types_incoherent_hidden_and_remapped),
		cmocka_unit_test(vulkan__guest_types_in_place_and_invalid),
		cmocka_unit_test(vulkan__memory_type_fills_fields),
		cmocka_unit_test(vulkan__result_every_command_and_errno),
		cmocka_unit_test(vulkan__result_sweep_stays_in_allowed_set),
		cmocka_unit_test(vulkan__allocate_info_command_without_request),
		cmocka_unit_test(vulkan__device_requests_plan_and_allocate),
		cmocka_unit_test(vulkan__device_import_errors_become_vk_codes),
		cmocka_unit_test(vulkan__capture_address_keeps_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
