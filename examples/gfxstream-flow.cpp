/* SPDX-License-Identifier: MIT */
/*
 * gfxstream-flow: what a gfxstream-shaped Vulkan driver (C++17) writes to let libvgalloc place
 * its memory.
 *
 * Read it top to bottom, as the driver is written:
 *  1. Protocol stubs: enc_*() is where a real driver calls its VkEncoder (the host's Vulkan
 *     over the gfxstream ring), virtgpu_init() its own DRM ioctls. Each says what the driver
 *     does there and forwards to the adapter (part 5).
 *  2. The hooks (struct vgalloc_host_hooks; docs/integration.md §5 maps them onto gfxstream).
 *  3. Device creation in adopt mode: the driver's fd, params (gfxstream numbering), capset and
 *     context; memory types.
 *  4. Vulkan entry points over libvgalloc: two small host-visible allocations, map, write and
 *     unmap, a dedicated exported image's memory and its dma-buf, free and teardown.
 *  5. The adapter: the only code that knows the kernel and the host are libvgalloc's mock.
 *
 * gfxstream's three modes. The driver runs on three hosts:
 *  - deferredMapping = 1: every host-visible allocation is its own host allocation, tagged with
 *    a blob id (VkCreateBlobGOOGLE), whose blob is made at the first vkMapMemory
 *    (vkGetBlobGOOGLE, then CREATE_BLOB): never suballocated.
 *  - deferredMapping = 0 and a mainline kernel: host-visible memory is suballocated from 16 MiB
 *    blocks whose blobs are made with them; exports get a SHAREABLE HOST3D blob. The host picks
 *    each allocation's blob id (vkGetMemoryHostAddressInfoGOOGLE, G7): host_alloc returns it
 *    (VGALLOC_HOST_RESULT_BLOB_ID) and the blob is created with it.
 *  - a kernel with CREATE_GUEST_HANDLE (gfxstream param 10 = 1): every host-visible allocation,
 *    as gfxstream's allocateCoherentMemory does, and an exported dedicated image take the
 *    guest-handle path: a GUEST blob with CREATE_GUEST_HANDLE, the placeholder submit and its
 *    wait, then the host allocation that takes the handle by blob id.
 * integrations/gfxstream/ is the same in Mesa's gfxstream driver. Not expressible today
 * (docs/integration.md §3 and §8), so not shown:
 *  - the alwaysBlob export (a cmd-carrying SHAREABLE|CROSS_DEVICE blob plus a placeholder
 *    submit, G13) has no vgalloc_mem_alloc path; the hosts export the library's way;
 *  - gfxstream frees a guest-handle allocation's host memory before its blob; the library keeps
 *    host_free last (G17);
 *  - the 64 KiB over-rounding of dedicated allocations (G5), per-request dedicated
 *    DEVICE_ADDRESS memory (G4) and imports of classic (non-blob) resources (G14).
 *
 * It prints each step (a line of its own), every hook call ("  hook ") and every kernel call
 * ("  kernel ") in order: tests/golden/ compares those lines with a checked-in trace. It exits 1
 * when a step fails or teardown leaves anything behind.
 */
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include <unistd.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_mock.h" /* part 5 only */
#include "vgalloc/vgalloc_vulkan.h"

namespace
{

/* The host's memory types (VkMemoryPropertyFlags 0x1, 0x7, 0xe), by host index. */
enum : uint32_t {
	TYPE_DEVICE,
	TYPE_COHERENT,
	TYPE_CACHED,
	TYPE_COUNT
};

constexpr uint32_t kParamCreateGuestHandle = 10; /* gfxstream's numbering */

/* What one host (its capset) and its guest kernel offer. */
struct HostModel {
	uint32_t deferredMapping;
	bool createGuestHandle;
};

struct Wire; /* part 5 */

/* The gfxstream Vulkan capset (id 3), as the driver lays it out. */
struct vulkanCapset {
	uint32_t protocolVersion;
	uint32_t ringSize;
	uint32_t bufferSize;
	uint32_t colorBufferMemoryIndex;
	uint32_t deferredMapping;
	uint32_t blobAlignment;
	uint32_t noRenderControlEnc;
	uint32_t alwaysBlob;
	uint32_t externalSync;
	uint32_t virglSupportedFormats[16];
	uint32_t vulkanBatchedDescriptorSetUpdate;
};

/* The driver's device: VirtGpuDevice and ResourceTracker, reduced to what memory needs. */
struct GfxDevice {
	int fd = -1;           /* the driver's render node; libvgalloc borrows it */
	uint64_t atomicId = 0; /* mAtomicId: blob ids */
	bool deferredMapping = false;
	vgalloc_device *vgalloc = nullptr;
	Wire *wire = nullptr;
};

/* A VkDeviceMemory. */
struct DeviceMemory {
	uint32_t type = 0; /* memoryTypeIndex */
	vgalloc_mem *mem = nullptr;
};

/* A non-null stand-in for a Vulkan handle: a pointer on 64-bit ABIs, a uint64_t elsewhere. */
template <typename Handle> Handle fake_handle(uintptr_t v)
{
	if constexpr (std::is_pointer_v<Handle>) {
		return reinterpret_cast<Handle>(v);
	} else {
		return static_cast<Handle>(v);
	}
}

/* VkCreateBlobGOOGLE, chained to the host's vkAllocateMemory: the blob the memory will be. */
struct CreateBlob {
	uint32_t blobMem, blobFlags;
	uint64_t blobId;
};

void say(Wire *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wire_open(const HostModel &host, Wire **out, int *render_fd);
int wire_close(Wire *w);
void wire_use_mock_backend(Wire *w, vgalloc_device_create_info &ci);
int wire_virtgpu_init(Wire *w, uint64_t *params, uint32_t *present, void *caps, uint32_t size);
int wire_alloc(Wire *w, uint64_t size, uint64_t blobId, uint32_t resId, uint64_t *memory,
               uint64_t *hostBlobId);
int wire_roundtrip(Wire *w);
void wire_free(Wire *w, uint64_t memory);

/* ---------------------------------------------------------------------------------------------
 * 1. Protocol stubs.
 */

/* The host's vkAllocateMemory, synchronous: VkMemoryAllocateInfo{size, type} with
 * VkMemoryAllocateFlagsInfo{flags} and, when the guest names the blob, VkCreateBlobGOOGLE
 * (blob). *memory: the host's VkDeviceMemory. Without blob, the host names it: *hostBlobId is
 * what vkGetMemoryHostAddressInfoGOOGLE then answers. A guest-handle blob's resource (resId) is
 * not sent: the host finds the handle by blobId (only the mock's host needs it, part 5). */
int enc_vkAllocateMemory(GfxDevice &dev, uint32_t type, uint32_t flags, uint64_t size,
                         const CreateBlob *blob, uint32_t resId, uint64_t *memory,
                         uint64_t *hostBlobId)
{
	/* STUB: a real driver calls VkEncoder::vkAllocateMemory here, and without blob
	 * VkEncoder::vkGetMemoryHostAddressInfoGOOGLE. */
	(void)type, (void)flags;
	return wire_alloc(dev.wire, size, blob ? blob->blobId : 0, resId, memory, hostBlobId);
}

/* The host makes the blob of `memory` ready for CREATE_BLOB by its id (deferredMapping). */
int enc_vkGetBlobGOOGLE(GfxDevice &dev, uint64_t memory)
{
	/* STUB: a real driver calls VkEncoder::vkGetBlobGOOGLE here; the mock needs nothing. */
	(void)dev, (void)memory;
	return 0;
}

void enc_vkFreeMemorySyncGOOGLE(GfxDevice &dev, uint64_t memory)
{
	/* STUB: a real driver calls VkEncoder::vkFreeMemorySyncGOOGLE here. */
	wire_free(dev.wire, memory);
}

/* Guest-handle blobs: a no-op command on the context's ring 1, then a wait on it, so the
 * renderer has filed the handle of every GUEST blob created so far. */
int submitPlaceholderAndWait(GfxDevice &dev)
{
	/* STUB: a real driver submits an EXECBUFFER and DRM_IOCTL_VIRTGPU_WAITs on its BO here. */
	return wire_roundtrip(dev.wire);
}

/* The driver's own start-up (LinuxVirtGpuDevice): GETPARAM 1..6 and 10 by gfxstream's numbering
 * (a param the kernel lacks stays out of *present), GET_CAPS of the gfxstream Vulkan capset,
 * then CONTEXT_INIT with that capset and 2 rings. */
int virtgpu_init(GfxDevice &dev, uint64_t *params, uint32_t *present, void *caps, uint32_t size)
{
	/* STUB: a real driver makes these DRM ioctls on dev.fd here. */
	return wire_virtgpu_init(dev.wire, params, present, caps, size);
}

/* ---------------------------------------------------------------------------------------------
 * 2. The hooks. ctx is the GfxDevice; user_data is the app's DeviceMemory, or nullptr when the
 * library acts for a pool block of its own. Each logs one trace line.
 */

uint64_t hook_new_blob_id(void *ctx)
{
	auto &dev = *static_cast<GfxDevice *>(ctx);
	uint64_t id = ++dev.atomicId;

	say(dev.wire, "  hook   new_blob_id() = %llu", static_cast<unsigned long long>(id));
	return id;
}

/* deferredMapping: the blob is named by the guest and made ready at the first map
 * (vkGetBlobGOOGLE, in host_wait: the token asks for it). Otherwise the host names it and the
 * blob is made at once. */
int hook_host_alloc(void *ctx, void *user_data, const vgalloc_host_alloc_args *args,
                    vgalloc_host_result *out)
{
	auto &dev = *static_cast<GfxDevice *>(ctx);
	const CreateBlob blob{ VGALLOC_BLOB_MEM_HOST3D, args->blob_flags, args->blob_id };
	uint64_t memory = 0, hostBlobId = 0;
	int ret = enc_vkAllocateMemory(dev, args->memory_type, args->allocate_flags, args->size,
	                               dev.deferredMapping ? &blob : nullptr, 0, &memory,
	                               &hostBlobId);

	char named[48] = "";

	if (!dev.deferredMapping) {
		std::snprintf(named, sizeof(named), ", host blob id %llu",
		              static_cast<unsigned long long>(hostBlobId));
	}
	say(dev.wire,
	    "  hook   host_alloc(blob id %llu, type %u, %llu bytes, %s) = %d [memory %llu%s]",
	    static_cast<unsigned long long>(args->blob_id), args->memory_type,
	    static_cast<unsigned long long>(args->size), user_data ? "app memory" : "pool block",
	    ret, static_cast<unsigned long long>(memory), named);
	out->host_handle = memory;
	if (dev.deferredMapping) {
		out->flags = VGALLOC_HOST_RESULT_PENDING;
		out->token = memory;
	} else {
		out->flags = VGALLOC_HOST_RESULT_BLOB_ID;
		out->blob_id = hostBlobId;
	}
	return ret;
}

/* Called only for a pending token, so only with deferredMapping, right before the CREATE_BLOB
 * of the first map (cmd given): vkGetBlobGOOGLE, no wait bytes. The hooks run in order, so
 * memory freed without a map makes no call here. */
int hook_host_wait(void *ctx, uint64_t token, uint32_t flags, void *cmd, uint32_t *inout_cmd_size)
{
	auto &dev = *static_cast<GfxDevice *>(ctx);
	int ret = enc_vkGetBlobGOOGLE(dev, token);

	(void)flags;
	if (cmd) {
		*inout_cmd_size = 0;
	}
	say(dev.wire, "  hook   host_wait(memory %llu) = %d [vkGetBlobGOOGLE]",
	    static_cast<unsigned long long>(token), ret);
	return ret;
}

int hook_host_roundtrip(void *ctx)
{
	auto &dev = *static_cast<GfxDevice *>(ctx);
	int ret = submitPlaceholderAndWait(dev);

	say(dev.wire, "  hook   host_roundtrip() = %d [placeholder submit and wait]", ret);
	return ret;
}

/* Guest-handle: the host allocation takes the OS handle the host filed under blob_id. (A
 * dma-buf import, not shown, would chain VkImportColorBufferGOOGLE{res_id} instead.) gfxstream
 * devices allocate host-first, so pool blocks never come here. */
int hook_host_import(void *ctx, void *user_data, const vgalloc_host_alloc_args *args,
                     vgalloc_host_result *out)
{
	auto &dev = *static_cast<GfxDevice *>(ctx);
	const CreateBlob blob{ VGALLOC_BLOB_MEM_GUEST, VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE,
		               args->blob_id };
	uint64_t memory = 0;
	int ret = enc_vkAllocateMemory(dev, args->memory_type, args->allocate_flags, args->size,
	                               &blob, args->res_id, &memory, nullptr);

	(void)user_data;
	say(dev.wire, "  hook   host_import(res %u, blob id %llu, %llu bytes) = %d [memory %llu]",
	    args->res_id, static_cast<unsigned long long>(args->blob_id),
	    static_cast<unsigned long long>(args->size), ret,
	    static_cast<unsigned long long>(memory));
	out->host_handle = memory; /* synchronous: nothing pending */
	return ret;
}

void hook_host_free(void *ctx, void *user_data, uint64_t host_handle)
{
	auto &dev = *static_cast<GfxDevice *>(ctx);

	enc_vkFreeMemorySyncGOOGLE(dev, host_handle);
	say(dev.wire, "  hook   host_free(memory %llu, %s)",
	    static_cast<unsigned long long>(host_handle), user_data ? "app memory" : "pool block");
}

/* ---------------------------------------------------------------------------------------------
 * 3. Device creation, right after the driver's own context initialisation (adopt mode).
 */

/* What vkGetPhysicalDeviceMemoryProperties and the limits said on the host. */
const VkPhysicalDeviceMemoryProperties host_props = {
	TYPE_COUNT, { { 0x1, 0 }, { 0x7, 0 }, { 0xe, 0 } }, 1, { { 1ull << 32, 0x1 } }
};

int initVgalloc(GfxDevice &dev)
{
	vgalloc_host_hooks hooks{};
	vgalloc_device_create_info ci{};
	vulkanCapset caps{}; /* GET_CAPS reports no length: zero-filled */
	vgalloc_memory_type types[TYPE_COUNT];
	VkPhysicalDeviceLimits limits{};
	int ret = virtgpu_init(dev, ci.params, &ci.params_present, &caps, sizeof(caps));

	limits.minMemoryMapAlignment = limits.nonCoherentAtomSize = 64;
	limits.bufferImageGranularity = 1;
	for (uint32_t i = 0; !ret && i < TYPE_COUNT; i++) {
		ret = vgalloc_vk_memory_type_from_properties(&host_props, i, &limits, true,
		                                             &types[i]);
	}
	if (ret) {
		return ret;
	}
	hooks.struct_size = sizeof(hooks);
	/* The encoder's calls are synchronous, so the host runs them in the order they are made. */
	hooks.flags = VGALLOC_HOOKS_IN_ORDER;
	hooks.ctx = &dev;
	hooks.new_blob_id = hook_new_blob_id;
	hooks.host_alloc = hook_host_alloc;
	hooks.host_wait = hook_host_wait;
	hooks.host_roundtrip = hook_host_roundtrip;
	hooks.host_import = hook_host_import;
	hooks.host_free = hook_host_free;
	ci.struct_size = sizeof(ci);
	ci.backend = VGALLOC_BACKEND_VIRTGPU;
	ci.mode = VGALLOC_DEVICE_MODE_ADOPT;
	ci.flags = VGALLOC_DEVICE_CONTEXT_READY; /* the driver ran CONTEXT_INIT */
	ci.fd = dev.fd;
	ci.flavour = VGALLOC_FLAVOUR_GFXSTREAM; /* how params[9] and params[10] read */
	ci.capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN;
	ci.capset_data = &caps;
	ci.capset_size = sizeof(caps);
	ci.memory_types = types;
	ci.memory_type_count = TYPE_COUNT;
	ci.hooks = &hooks;                   /* copied */
	wire_use_mock_backend(dev.wire, ci); /* the example only: the same create-info, mocked */
	/* The library checks the bytes (a blobAlignment that is no power of two ≥ 4 KiB is -EIO)
	 * and decides from them: deferredMapping, blobAlignment, 16 MiB blocks. */
	dev.deferredMapping = caps.deferredMapping != 0;
	ret = vgalloc_device_create(&ci, &dev.vgalloc);
	say(dev.wire, "vgalloc_device_create(adopt, gfxstream, deferredMapping %u) = %d",
	    caps.deferredMapping, ret);
	say(dev.wire, "  memory types 0, 1, 2: property flags 0x%x, 0x%x, 0x%x",
	    types[0].property_flags, types[1].property_flags, types[2].property_flags);
	return ret;
}

/* ---------------------------------------------------------------------------------------------
 * 4. Vulkan entry points.
 */

VkResult on_vkAllocateMemory(GfxDevice &dev, const VkMemoryAllocateInfo &info, DeviceMemory **out)
{
	auto *mem = new DeviceMemory;
	vgalloc_request req;
	int ret = vgalloc_vk_request_from_allocate_info(&info, nullptr, TYPE_COUNT, &req);

	if (!ret) {
		mem->type = req.memory_type;
		req.user_data = mem; /* comes back to host_alloc, host_import and host_free */
		ret = vgalloc_mem_alloc(dev.vgalloc, &req, &mem->mem);
	}
	if (ret) {
		delete mem;
		mem = nullptr;
	}
	*out = mem;
	return vgalloc_vk_result(vgalloc_vk_allocate_info_command(&info), ret);
}

/* Where the memory is on the host: what deviceMemoryTransform_tohost sends (G12, §4). */
void print_placement(GfxDevice &dev, const DeviceMemory &m)
{
	vgalloc_mem_info mi{};

	mi.struct_size = sizeof(mi);
	vgalloc_mem_get_info(dev.vgalloc, m.mem, &mi);
	say(dev.wire, "  -> %s: host memory %llu, offset %llu, blob id %llu%s",
	    mi.flags & VGALLOC_MEM_INFO_SUBALLOCATED ? "suballocated" : "dedicated",
	    static_cast<unsigned long long>(mi.host_handle),
	    static_cast<unsigned long long>(mi.offset), static_cast<unsigned long long>(mi.blob_id),
	    mi.res_id ? "" : ", no blob yet");
}

void on_vkFreeMemory(GfxDevice &dev, DeviceMemory *mem)
{
	/* A suballocation calls no hook: only its range goes back to the block (G11). */
	vgalloc_mem_free(dev.vgalloc, mem->mem);
	delete mem;
}

/* One step: its title goes to the trace, then it runs; false (and a line saying so) when it
 * failed. */
template <typename Call> bool step(GfxDevice &dev, const char *title, Call call)
{
	say(dev.wire, "%s", title);
	int result = call();

	if (result) {
		say(dev.wire, "FAILED: %s = %d", title, result);
	}
	return result == 0;
}

/* The app's calls, from vkCreateDevice on; m[] and fd are what the teardown frees. */
bool scenario(GfxDevice &dev, DeviceMemory *m[3], int *fd)
{
	VkExportMemoryAllocateInfo exportInfo{};
	VkMemoryDedicatedAllocateInfo dedicated{};
	VkMemoryAllocateInfo small{}, image{};
	void *ptr = nullptr;

	exportInfo.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO;
	exportInfo.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
	dedicated.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
	dedicated.pNext = &exportInfo;
	dedicated.image = fake_handle<VkImage>(0x1000); /* the app's image */
	small.sType = image.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
	small.allocationSize = 4096;
	small.memoryTypeIndex = image.memoryTypeIndex = TYPE_COHERENT;
	image.pNext = &dedicated;
	image.allocationSize = 300001;

	if (!step(dev, "vkCreateDevice", [&] { return initVgalloc(dev); })) {
		return false;
	}
	/* Two small host-visible allocations: blocks, or one host allocation each. */
	for (int i = 0; i < 2; i++) {
		if (!step(dev, "vkAllocateMemory(4 KiB, host-visible)",
		          [&] { return on_vkAllocateMemory(dev, small, &m[i]); })) {
			return false;
		}
		print_placement(dev, *m[i]);
	}
	if (!step(dev, "vkMapMemory(4 KiB)",
	          [&] { return vgalloc_mem_map(dev.vgalloc, m[0]->mem, &ptr); })) {
		return false;
	}
	std::memset(ptr, 0x5a, 4096);
	/* The last unmap of a blob of its own unmaps it; the blob stays, so the next vkMapMemory
	 * only maps again. A pool block stays mapped while it lives. */
	if (!step(dev, "vkUnmapMemory(4 KiB)",
	          [&] { return vgalloc_mem_unmap(dev.vgalloc, m[0]->mem); }) ||
	    !step(dev, "vkAllocateMemory(300001 bytes, dedicated image, exportable as dma-buf)",
	          [&] { return on_vkAllocateMemory(dev, image, &m[2]); })) {
		return false;
	}
	print_placement(dev, *m[2]);
	if (!step(dev, "vkGetMemoryFdKHR",
	          [&] {
		          return vgalloc_mem_export(dev.vgalloc, m[2]->mem,
		                                    VGALLOC_HANDLE_TYPE_DMA_BUF, fd);
	          }) ||
	    !step(dev, "vkMapMemory(exported image)",
	          [&] { return vgalloc_mem_map(dev.vgalloc, m[2]->mem, &ptr); })) {
		return false;
	}
	std::memset(ptr, 0xa5, 300001); /* the dma-buf's importers see these bytes */
	return true;
}

/* One driver instance on one host, from vkCreateDevice to vkDestroyDevice. */
int run_driver(const HostModel &host)
{
	static const char *const names[] = { "4 KiB", "4 KiB", "exported image" };
	GfxDevice dev;
	DeviceMemory *m[3] = {};
	int fd = -1;

	if (wire_open(host, &dev.wire, &dev.fd)) { /* STUB: open the render node */
		return 1;
	}
	say(dev.wire,
	    "== host: deferredMapping %u, kernel %s CREATE_GUEST_HANDLE ==", host.deferredMapping,
	    host.createGuestHandle ? "with" : "without");
	bool ok = scenario(dev, m, &fd);

	if (fd >= 0) {
		close(fd); /* vkGetMemoryFdKHR's fd is the app's */
	}
	for (int i = 0; i < 3; i++) {
		if (m[i]) {
			say(dev.wire, "vkFreeMemory(%s)", names[i]);
			on_vkFreeMemory(dev, m[i]);
		}
	}
	/* Empty blocks are retained for reuse: destroying the device releases them. */
	say(dev.wire, "vkDestroyDevice");
	vgalloc_device_destroy(dev.vgalloc);
	/* The driver then closes its fd (STUB: close(dev.fd)); this one is the adapter's. */
	return wire_close(dev.wire) || !ok;
}

/* ---------------------------------------------------------------------------------------------
 * 5. The adapter: the example's kernel and host are the mock backend (vgalloc_mock.h). The stubs
 * of part 1 land here, and nothing else calls vgalloc_mock_*.
 */

struct Wire {
	vgalloc_mock *mock = nullptr;
	HostModel host{};
	vulkanCapset caps{}; /* the host's, also what GET_CAPS returns */
};

/* A line of output, after the kernel calls made since the last one (the mock traced them). */
void say(Wire *w, const char *fmt, ...)
{
	vgalloc_mock_trace_entry e[256];
	int n = vgalloc_mock_get_trace(w->mock, e, 256);
	char line[256];
	va_list ap;

	for (int i = 0; i < n; i++) {
		/* Host-side entries are the stubs' calls, which the hooks logged themselves. */
		if (e[i].call < VGALLOC_MOCK_CALL_NEW_BLOB_ID) {
			vgalloc_mock_format_entry(&e[i], line, sizeof(line));
			std::printf("  kernel %s\n", line);
		}
	}
	vgalloc_mock_reset_counters(w->mock);
	if (fmt) {
		va_start(ap, fmt);
		std::vprintf(fmt, ap);
		va_end(ap);
		std::printf("\n");
	}
}

int wire_open(const HostModel &host, Wire **out, int *render_fd)
{
	vgalloc_mock_create_info mi{};
	auto *w = new Wire;

	mi.struct_size = sizeof(mi);
	mi.profile = VGALLOC_MOCK_PROFILE_INJECTING; /* no Venus capset to derive it from */
	mi.flags = host.createGuestHandle ? VGALLOC_MOCK_GUEST_HANDLE : 0;
	/* Without deferredMapping the host names its allocations' blobs. */
	mi.flags |= host.deferredMapping ? 0 : VGALLOC_MOCK_HOST_BLOB_ID;
	mi.supported_capsets = 1u << VGALLOC_CAPSET_GFXSTREAM_VULKAN;
	w->host = host;
	w->caps.protocolVersion = 1;
	w->caps.ringSize = 12288;
	w->caps.bufferSize = 1u << 20;
	w->caps.deferredMapping = host.deferredMapping;
	w->caps.blobAlignment = 16384; /* the host's pages */
	if (vgalloc_mock_create(&mi, &w->mock) ||
	    vgalloc_mock_set_capset(w->mock, VGALLOC_CAPSET_GFXSTREAM_VULKAN, 0, &w->caps,
	                            sizeof(w->caps))) {
		vgalloc_mock_destroy(w->mock);
		delete w;
		return -ENOMEM;
	}
	*render_fd = vgalloc_mock_get_fd(w->mock);
	*out = w;
	return 0;
}

/* Teardown must leave nothing behind on either side, and keep the order the host requires. */
int wire_close(Wire *w)
{
	vgalloc_mock_ledger l{};
	int ret;

	l.struct_size = sizeof(l);
	ret = vgalloc_mock_get_ledger(w->mock, &l);
	say(w, nullptr);
	if (ret || l.live_blobs || l.live_handles || l.mapped_blobs || l.host_allocs ||
	    l.pending_tokens || l.order_violations) {
		std::printf("FAILED: the mock's ledger is not clean after teardown\n");
		ret = -1;
	}
	vgalloc_mock_destroy(w->mock);
	delete w;
	return ret;
}

/* The params are what the mock's kernel reports for the flags wire_open() gave it
 * (vgalloc_mock.h): everything but CROSS_DEVICE, and 10 only with VGALLOC_MOCK_GUEST_HANDLE.
 * Its CONTEXT_INIT takes the capset id alone (no rings). */
int wire_virtgpu_init(Wire *w, uint64_t *params, uint32_t *present, void *caps, uint32_t size)
{
	for (uint32_t p = VGALLOC_PARAM_3D_FEATURES; p <= VGALLOC_PARAM_CONTEXT_INIT; p++) {
		params[p] = p != VGALLOC_PARAM_CROSS_DEVICE;
		*present |= 1u << p;
	}
	if (w->host.createGuestHandle) {
		params[kParamCreateGuestHandle] = 1;
		*present |= 1u << kParamCreateGuestHandle;
	}
	std::memcpy(caps, &w->caps, size < sizeof(w->caps) ? size : sizeof(w->caps));
	return vgalloc_mock_context_init(w->mock, VGALLOC_CAPSET_GFXSTREAM_VULKAN);
}

void wire_use_mock_backend(Wire *w, vgalloc_device_create_info &ci)
{
	ci.backend = VGALLOC_BACKEND_MOCK;
	ci.backend_object = w->mock;
}

/* gfxstream's vkAllocateMemory is synchronous: the mock host runs it at once. A guest-handle
 * allocation is the mock's host import, which checks that the resource is filed under blobId. */
int wire_alloc(Wire *w, uint64_t size, uint64_t blobId, uint32_t resId, uint64_t *memory,
               uint64_t *hostBlobId)
{
	uint64_t token = 0;
	int ret =
	        resId ? vgalloc_mock_host_import(w->mock, resId, size, blobId, memory, &token)
	              : vgalloc_mock_host_alloc(w->mock, blobId, size, memory, &token, hostBlobId);

	return ret ? ret : vgalloc_mock_host_wait(w->mock, token);
}

int wire_roundtrip(Wire *w)
{
	return vgalloc_mock_host_roundtrip(w->mock);
}

void wire_free(Wire *w, uint64_t memory)
{
	vgalloc_mock_host_free(w->mock, memory);
}

} // namespace

int main()
{
	const HostModel deferred{ 1, false }, eager{ 0, false }, guestHandle{ 1, true };
	int failed = run_driver(deferred) | run_driver(eager) | run_driver(guestHandle);

	std::printf("%s\n", failed ? "FAILED" : "OK");
	return failed;
}
