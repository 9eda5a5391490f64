/* SPDX-License-Identifier: MIT */
/*
 * venus-flow: what a Venus-shaped Vulkan driver writes to let libvgalloc place its memory.
 *
 * Read it top to bottom, as the driver is written:
 *  1. Protocol stubs: ring_*() is where a real driver encodes Venus commands on its ring,
 *     virtgpu_*() where it makes its own DRM ioctls. Each says what the driver does there and
 *     forwards to the adapter (part 5).
 *  2. The hooks (struct vgalloc_host_hooks; docs/integration.md §5 maps them onto Venus).
 *  3. Device creation in adopt mode: the driver's fd, params, capset and context; memory types.
 *  4. Vulkan entry points over libvgalloc: two suballocated host-visible allocations, map, write
 *     and unmap, a dedicated exported allocation and its dma-buf, free and teardown.
 *  5. The adapter: the only code that knows the kernel and the host are libvgalloc's mock.
 *
 * The driver runs twice: against a host whose Venus capset says use_guest_vram = 0 (host-first:
 * vkAllocateMemory, then the blob at the first map) and = 1 (guest-first: the blob, a round
 * trip, then the host imports it). It prints each step (a line of its own), every hook call
 * ("  hook ") and every kernel call ("  kernel ") in order: tests/golden/ compares those lines
 * with a checked-in trace. It exits 1 when a step fails or teardown leaves anything behind.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_mock.h" /* part 5 only */
#include "vgalloc/vgalloc_vulkan.h"

/* The host's memory types (VkMemoryPropertyFlags 0x1, 0x7, 0xe), by host index. */
enum {
	TYPE_DEVICE,
	TYPE_COHERENT,
	TYPE_CACHED,
	TYPE_COUNT
};

struct wire; /* part 5 */

/* The Venus capset, as the driver's copy of virglrenderer's venus_hw.h lays it out. */
struct virgl_renderer_capset_venus {
	uint32_t wire_format_version;
	uint32_t vk_xml_version;
	uint32_t vk_ext_command_serialization_spec_version;
	uint32_t vk_mesa_venus_protocol_spec_version;
	uint32_t supports_blob_id_0;
	uint32_t vk_extension_mask1[32];
	uint32_t allow_vk_wait_syncs;
	uint32_t supports_multiple_timelines;
	uint32_t use_guest_vram;
};

/* The driver's device (vn_device and its renderer, reduced to what memory needs). */
struct vn_device {
	int fd;               /* the driver's render node; libvgalloc borrows it */
	uint64_t next_obj_id; /* vn_get_next_obj_id() */
	/* The VkInstance's (Venus's renderer is per instance): the fd, context and blobs. */
	struct vgalloc_connection *conn;
	/* The VkDevice's: memory types, hooks on its ring, pools. */
	struct vgalloc_device *vgalloc;
	struct wire *wire;
};

/* A VkDeviceMemory. */
struct vn_device_memory {
	uint64_t id;   /* the object id: the host's name for the memory, and its blob id */
	uint32_t type; /* memoryTypeIndex */
	uint32_t allocate_flags;
	struct vgalloc_mem *mem;
};

static void say(struct wire *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int wire_open(struct wire **out, uint32_t use_guest_vram, int *render_fd);
static int wire_close(struct wire *w);
static int wire_virtgpu_init(struct wire *w, uint64_t *params, void *caps, uint32_t caps_size);
static void wire_use_mock_backend(struct wire *w, struct vgalloc_connection_create_info *ci);
static int wire_alloc(struct wire *w, uint64_t id, uint64_t size, uint32_t res_id, uint32_t *seqno);
static int wire_wait(struct wire *w, uint32_t seqno, void *cmd, uint32_t *cmd_size);
static int wire_roundtrip(struct wire *w);
static void wire_free(struct wire *w, uint64_t id);

/* ---------------------------------------------------------------------------------------------
 * 1. Protocol stubs.
 */

/* vkAllocateMemory of object `id`, queued on the ring: VkMemoryAllocateInfo{size, type} with
 * VkMemoryAllocateFlagsInfo{flags}, VkExportMemoryAllocateInfo{the renderer's handle type} when
 * exportable (V11) and VkImportMemoryResourceInfoMESA{res_id} when res_id is not 0.
 * *seqno: the ring position the renderer reaches once it has run the command. */
static int ring_submit_alloc(struct vn_device *dev, uint64_t id, uint32_t type, uint32_t flags,
                             uint64_t size, bool exportable, uint32_t res_id, uint32_t *seqno)
{
	/* STUB: a real driver encodes vkAllocateMemory here (vn_async_vkAllocateMemory). */
	(void)type, (void)flags, (void)exportable;
	return wire_alloc(dev->wire, id, size, res_id, seqno);
}

/* Encode vkWaitRingSeqnoMESA(seqno) into cmd: returns the bytes written, 0 when it does not fit. */
static uint32_t ring_encode_wait(struct vn_device *dev, uint32_t seqno, void *cmd, uint32_t room)
{
	/* STUB: a real driver calls vn_encode_vkWaitRingSeqnoMESA() here. */
	return wire_wait(dev->wire, seqno, cmd, &room) ? 0 : room;
}

static int ring_wait_seqno(struct vn_device *dev, uint32_t seqno)
{
	/* STUB: a real driver submits vkWaitRingSeqnoMESA and waits for it (vn_ring_wait_seqno). */
	return wire_wait(dev->wire, seqno, NULL, NULL);
}

static int ring_submit_wait(struct vn_device *dev, uint32_t seqno)
{
	/* STUB: a real driver submits vkWaitRingSeqnoMESA in an EXECBUFFER and returns: the
	 * renderer reaches the seqno before it runs anything submitted later
	 * (vn_device_memory_wait_alloc). The mock host runs it now. */
	return wire_wait(dev->wire, seqno, NULL, NULL);
}

static int ring_roundtrip(struct vn_device *dev)
{
	/* STUB: a real driver calls vn_ring_roundtrip() here. */
	return wire_roundtrip(dev->wire);
}

static void ring_submit_free(struct vn_device *dev, uint64_t id)
{
	/* STUB: a real driver calls vn_async_vkFreeMemory() on object `id` here. */
	wire_free(dev->wire, id);
}

/* The driver's own start-up (virtgpu_init_params, virtgpu_init_capset, virtgpu_init_context):
 * GETPARAM 1..6 into params[], GET_CAPS of the Venus capset into caps, then CONTEXT_INIT with
 * the Venus capset, 64 rings and no poll mask. */
static int virtgpu_init(struct vn_device *dev, uint64_t *params, void *caps, uint32_t caps_size)
{
	/* STUB: a real driver makes these DRM ioctls on dev->fd here. */
	return wire_virtgpu_init(dev->wire, params, caps, caps_size);
}

/* ---------------------------------------------------------------------------------------------
 * 2. The hooks. ctx is the vn_device; user_data is the app's vn_device_memory, or NULL when the
 * library acts for a pool block of its own. Each logs one trace line.
 */

static uint64_t vn_get_next_obj_id(struct vn_device *dev)
{
	return ++dev->next_obj_id;
}

static uint64_t hook_new_blob_id(void *ctx)
{
	struct vn_device *dev = ctx;
	uint64_t id = vn_get_next_obj_id(dev); /* a pool block's internal memory object */

	say(dev->wire, "  hook   new_blob_id() = %llu", (unsigned long long)id);
	return id;
}

/* The bytes the host allocates: the app's exact allocationSize for its own object (memory
 * dedicated to a resource must match its requirement), the whole blob for a pool block. */
static uint64_t host_size(const struct vgalloc_host_alloc_args *args)
{
	return args->flags & VGALLOC_HOST_ARGS_BLOCK ? args->size : args->requested_size;
}

static int hook_host_alloc(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                           struct vgalloc_host_result *out)
{
	struct vn_device *dev = ctx;
	uint32_t seqno = 0;
	/* args->blob_id is the app object's id (VGALLOC_REQUEST_BLOB_ID) or the one new_blob_id
	 * gave a block's internal object: either way the id the host knows the memory by. */
	int ret = ring_submit_alloc(dev, args->blob_id, args->memory_type, args->allocate_flags,
	                            host_size(args), args->blob_flags & VGALLOC_BLOB_FLAG_SHAREABLE,
	                            0, &seqno);

	say(dev->wire, "  hook   host_alloc(obj %llu, type %u, %llu bytes, %s) = %d [seqno %u]",
	    (unsigned long long)args->blob_id, args->memory_type,
	    (unsigned long long)host_size(args), user_data ? "app object" : "pool block", ret,
	    seqno);
	/* The seqno is the token, 0 included: the ring runs the command when it reaches it. */
	out->host_handle = args->blob_id;
	out->token = seqno;
	out->flags = VGALLOC_HOST_RESULT_PENDING;
	return ret;
}

static int hook_host_wait(void *ctx, uint64_t token, uint32_t flags, void *cmd,
                          uint32_t *inout_cmd_size)
{
	struct vn_device *dev = ctx;
	uint32_t seqno = (uint32_t)token;
	int ret;

	/* Before a CREATE_BLOB the wait may travel as the blob's cmd: one EXECBUFFER saved. */
	if (cmd && (*inout_cmd_size = ring_encode_wait(dev, seqno, cmd, *inout_cmd_size)) != 0) {
		say(dev->wire, "  hook   host_wait(seqno %u) = 0 [%u bytes of wait in CREATE_BLOB]",
		    seqno, *inout_cmd_size);
		return 0;
	}
	/* Ordering is enough when the library says so: the renderer reaches the seqno before it
	 * runs what follows, and the CPU does not block. */
	if (flags & VGALLOC_WAIT_ORDER) {
		ret = ring_submit_wait(dev, seqno);
		say(dev->wire, "  hook   host_wait(seqno %u) = %d [ordered]", seqno, ret);
		return ret;
	}
	ret = ring_wait_seqno(dev, seqno);
	say(dev->wire, "  hook   host_wait(seqno %u) = %d [waited]", seqno, ret);
	return ret;
}

static int hook_host_roundtrip(void *ctx)
{
	struct vn_device *dev = ctx;
	int ret = ring_roundtrip(dev);

	say(dev->wire, "  hook   host_roundtrip() = %d", ret);
	return ret;
}

/* Guest-first: vkAllocateMemory importing the blob, without the app's export struct (V10). The
 * app's object imports its exact size from the start of the blob, a pool block the whole blob. */
static int hook_host_import(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                            struct vgalloc_host_result *out)
{
	struct vn_device *dev = ctx;
	uint32_t seqno = 0;
	int ret = ring_submit_alloc(dev, args->blob_id, args->memory_type, args->allocate_flags,
	                            host_size(args), false, args->res_id, &seqno);

	say(dev->wire, "  hook   host_import(res %u, obj %llu, %llu bytes, %s) = %d [seqno %u]",
	    args->res_id, (unsigned long long)args->blob_id, (unsigned long long)host_size(args),
	    user_data ? "app object" : "pool block", ret, seqno);
	out->host_handle = args->blob_id;
	out->token = seqno;
	out->flags = VGALLOC_HOST_RESULT_PENDING;
	return ret;
}

static void hook_host_free(void *ctx, void *user_data, uint64_t host_handle)
{
	struct vn_device *dev = ctx;

	ring_submit_free(dev, host_handle);
	say(dev->wire, "  hook   host_free(obj %llu, %s)", (unsigned long long)host_handle,
	    user_data ? "app object" : "pool block");
}

/* ---------------------------------------------------------------------------------------------
 * 3. Device creation, right after the driver's own context initialisation (adopt mode).
 */

static const struct vgalloc_host_hooks vn_hooks = {
	.struct_size = sizeof(struct vgalloc_host_hooks),
	/* One ring carries vkAllocateMemory, vkFreeMemory and the round trips, in order: a memory
	 * object freed before it got a blob makes no wait. */
	.flags = VGALLOC_HOOKS_IN_ORDER,
	.new_blob_id = hook_new_blob_id,
	.host_alloc = hook_host_alloc,
	.host_wait = hook_host_wait,
	.host_roundtrip = hook_host_roundtrip,
	.host_import = hook_host_import,
	.host_free = hook_host_free,
};

/* What vkGetPhysicalDeviceMemoryProperties and the limits said on the host. */
static const VkPhysicalDeviceMemoryProperties host_props = {
	.memoryTypeCount = TYPE_COUNT,
	.memoryTypes = { { 0x1, 0 }, { 0x7, 0 }, { 0xe, 0 } },
	.memoryHeapCount = 1,
	.memoryHeaps = { { 1ull << 32, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT } },
};
static const VkPhysicalDeviceLimits host_limits = { .minMemoryMapAlignment = 64,
	                                            .nonCoherentAtomSize = 64,
	                                            .bufferImageGranularity = 1 };

/* vkCreateInstance: the renderer's fd and context, and libvgalloc's connection on them. */
static int vn_instance_init_vgalloc(struct vn_device *dev, uint32_t *use_guest_vram)
{
	struct vgalloc_connection_create_info ci = {
		.struct_size = sizeof(ci),
		.backend = VGALLOC_BACKEND_VIRTGPU,
		.mode = VGALLOC_DEVICE_MODE_ADOPT,
		.flags = VGALLOC_DEVICE_CONTEXT_READY, /* the driver ran CONTEXT_INIT */
		.fd = dev->fd,
		.capset_id = VGALLOC_CAPSET_VENUS,
	};
	struct virgl_renderer_capset_venus caps; /* GET_CAPS reports no length: zero-fill */
	int ret;

	memset(&caps, 0, sizeof(caps));
	ret = virtgpu_init(dev, ci.params, &caps, sizeof(caps));
	if (ret) {
		return ret;
	}
	/* Params the driver read (1..6) go in: the library reads only the ones missing. The
	 * library checks the capset bytes (wire_format_version 0, ... are -EIO). */
	ci.params_present = 0x7e; /* bits 1..6 */
	ci.capset_data = &caps;
	ci.capset_size = sizeof(caps);
	*use_guest_vram = caps.use_guest_vram;
	wire_use_mock_backend(dev->wire, &ci); /* the example only: the same create-info, mocked */
	ret = vgalloc_connection_create(&ci, &dev->conn);
	say(dev->wire, "vgalloc_connection_create(adopt, Venus) = %d", ret);
	return ret;
}

/* vkCreateDevice: a device of the instance's connection, with this VkDevice's hooks. */
static int vn_device_init_vgalloc(struct vn_device *dev)
{
	struct vgalloc_host_hooks hooks = vn_hooks;
	struct vgalloc_device_create_info ci = {
		.struct_size = sizeof(ci), .hooks = &hooks, /* copied */
	};
	struct vgalloc_memory_type types[TYPE_COUNT];
	uint32_t use_guest_vram = 0;
	int ret;

	ret = vn_instance_init_vgalloc(dev, &use_guest_vram);
	hooks.ctx = dev;
	/* The series marks every type as able to back optimal images, as Venus cannot tell which
	 * can: suballocations then start at 64 KiB boundaries. */
	for (uint32_t i = 0; !ret && i < TYPE_COUNT; i++) {
		ret = vgalloc_vk_memory_type_from_properties(&host_props, i, &host_limits, true,
		                                             &types[i]);
	}
	if (ret) {
		return ret;
	}
	ci.connection = dev->conn; /* its fd, context and blobs; the fd's fields stay 0 */
	ci.memory_types = types;
	ci.memory_type_count = TYPE_COUNT;
	/* Venus decides guest-first itself (has_guest_vram): pass its decision so both agree. */
	ci.alloc_mode =
	        use_guest_vram ? VGALLOC_ALLOC_MODE_GUEST_FIRST : VGALLOC_ALLOC_MODE_HOST_FIRST;
	ret = vgalloc_device_create(&ci, &dev->vgalloc);
	say(dev->wire, "vgalloc_device_create(connection, %s) = %d",
	    use_guest_vram ? "guest-first" : "host-first", ret);
	say(dev->wire, "  memory types 0, 1, 2: property flags 0x%x, 0x%x, 0x%x",
	    types[0].property_flags, types[1].property_flags, types[2].property_flags);
	return ret;
}

/* ---------------------------------------------------------------------------------------------
 * 4. Vulkan entry points.
 */

static VkResult vn_AllocateMemory(struct vn_device *dev, const VkMemoryAllocateInfo *info,
                                  struct vn_device_memory **out)
{
	struct vn_device_memory *mem = calloc(1, sizeof(*mem));
	struct vgalloc_request req;
	int ret =
	        mem ? vgalloc_vk_request_from_allocate_info(info, NULL, TYPE_COUNT, &req) : -ENOMEM;

	if (!ret) {
		mem->id = vn_get_next_obj_id(dev); /* vn_object_set_id */
		mem->type = req.memory_type;
		mem->allocate_flags = req.allocate_flags;
		req.flags |= VGALLOC_REQUEST_BLOB_ID; /* the object id is the blob id (V5) */
		req.blob_id = mem->id;
		req.user_data = mem; /* comes back to host_alloc, host_import and host_free */
		ret = vgalloc_mem_alloc(dev->vgalloc, &req, &mem->mem);
	}
	if (ret) {
		free(mem);
		mem = NULL;
	}
	*out = mem;
	return vgalloc_vk_result(vgalloc_vk_allocate_info_command(info), ret);
}

/* Where the memory is on the host: what vkBindBufferMemory and friends send (§4.1). */
static void print_placement(struct vn_device *dev, const struct vn_device_memory *mem)
{
	struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };

	vgalloc_mem_get_info(dev->vgalloc, mem->mem, &mi);
	say(dev->wire, "  -> %s: host object %llu, offset %llu%s",
	    mi.flags & VGALLOC_MEM_INFO_SUBALLOCATED ? "suballocated" : "dedicated",
	    (unsigned long long)mi.host_handle, (unsigned long long)mi.offset,
	    mi.res_id ? "" : ", no blob yet");
}

static void vn_FreeMemory(struct vn_device *dev, struct vn_device_memory *mem)
{
	/* A suballocation calls no hook: the host never had an object for it (§4.6). */
	vgalloc_mem_free(dev->vgalloc, mem->mem);
	free(mem);
}

/* One step: its title goes to the trace, and a failure ends the run. */
#define STEP(title, expr)                                   \
	do {                                                \
		say(dev.wire, "%s", title);                 \
		if ((expr) != 0) {                          \
			say(dev.wire, "FAILED: %s", #expr); \
			goto out;                           \
		}                                           \
	} while (0)

/* One driver instance on one host, from vkCreateDevice to vkDestroyDevice. */
static int run_driver(uint32_t use_guest_vram)
{
	static const char *const names[] = { "4 KiB", "4 KiB", "exported" };
	VkExportMemoryAllocateInfo export_info = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkMemoryDedicatedAllocateInfo dedicated = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
		.pNext = &export_info,
		.image = (VkImage)(uintptr_t)0x1000, /* the app's image */
	};
	const VkMemoryAllocateInfo small = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		                             .allocationSize = 4096,
		                             .memoryTypeIndex = TYPE_COHERENT };
	const VkMemoryAllocateInfo exported = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		                                .pNext = &dedicated,
		                                .allocationSize = 65536,
		                                .memoryTypeIndex = TYPE_COHERENT };
	struct vn_device dev = { .fd = -1 };
	struct vn_device_memory *m[3] = { NULL, NULL, NULL };
	void *ptr = NULL;
	int fd = -1, failed = 1;

	if (wire_open(&dev.wire, use_guest_vram, &dev.fd)) { /* STUB: open the render node */
		return 1;
	}
	say(dev.wire, "== host: Venus capset use_guest_vram = %u ==", use_guest_vram);
	STEP("vkCreateInstance, vkCreateDevice", vn_device_init_vgalloc(&dev));

	/* Two small host-visible allocations share one block: the second makes no call at all. */
	for (int i = 0; i < 2; i++) {
		STEP("vkAllocateMemory(4 KiB, host-visible)",
		     vn_AllocateMemory(&dev, &small, &m[i]));
		print_placement(&dev, m[i]);
	}
	STEP("vkMapMemory(4 KiB)", vgalloc_mem_map(dev.vgalloc, m[0]->mem, &ptr));
	memset(ptr, 0x5a, 4096);
	/* The block stays mapped while it lives: unmapping one member calls nothing. */
	STEP("vkUnmapMemory(4 KiB)", vgalloc_mem_unmap(dev.vgalloc, m[0]->mem));

	/* Dedicated to an image and exportable: a SHAREABLE blob of its own, from the start. */
	STEP("vkAllocateMemory(64 KiB, dedicated image, exportable as dma-buf)",
	     vn_AllocateMemory(&dev, &exported, &m[2]));
	print_placement(&dev, m[2]);
	STEP("vkGetMemoryFdKHR",
	     vgalloc_mem_export(dev.vgalloc, m[2]->mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd));
	STEP("vkMapMemory(exported)", vgalloc_mem_map(dev.vgalloc, m[2]->mem, &ptr));
	memset(ptr, 0xa5, 65536); /* the dma-buf's importers see these bytes */
	failed = 0;
out:
	if (fd >= 0) {
		close(fd); /* vkGetMemoryFdKHR's fd is the app's */
	}
	for (int i = 0; i < 3; i++) {
		if (m[i]) {
			say(dev.wire, "vkFreeMemory(%s)", names[i]);
			vn_FreeMemory(&dev, m[i]);
		}
	}
	/* The empty block was retained for reuse: destroying the device releases it. */
	say(dev.wire, "vkDestroyDevice");
	vgalloc_device_destroy(dev.vgalloc);
	/* Its blobs are gone with it; the connection is the instance's. */
	say(dev.wire, "vkDestroyInstance");
	vgalloc_connection_destroy(dev.conn);
	/* The driver then closes its fd (STUB: close(dev.fd)); this one is the adapter's. */
	return wire_close(dev.wire) || failed;
}

/* ---------------------------------------------------------------------------------------------
 * 5. The adapter: the example's kernel and host are the mock backend (vgalloc_mock.h). The stubs
 * of part 1 land here, and nothing else calls vgalloc_mock_*.
 */

struct wire {
	struct vgalloc_mock *mock;
	struct virgl_renderer_capset_venus caps; /* the host's, also what GET_CAPS returns */
	uint64_t handle[64];                     /* Venus object id -> the mock host's handle */
};

/* A line of output, after the kernel calls made since the last one (the mock traced them). */
static void say(struct wire *w, const char *fmt, ...)
{
	struct vgalloc_mock_trace_entry e[256];
	int n = vgalloc_mock_get_trace(w->mock, e, 256);
	char line[256];
	va_list ap;

	for (int i = 0; i < n; i++) {
		/* Host-side entries are the stubs' calls, which the hooks logged themselves. */
		if (e[i].call < VGALLOC_MOCK_CALL_NEW_BLOB_ID) {
			vgalloc_mock_format_entry(&e[i], line, sizeof(line));
			printf("  kernel %s\n", line);
		}
	}
	vgalloc_mock_reset_counters(w->mock);
	if (fmt) {
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
}

static int wire_open(struct wire **out, uint32_t use_guest_vram, int *render_fd)
{
	/* The ring runs its commands in order, as the hooks declare. */
	struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi),
		                               .flags = VGALLOC_MOCK_IN_ORDER };
	struct wire *w = calloc(1, sizeof(*w));

	if (!w || vgalloc_mock_create(&mi, &w->mock)) {
		free(w);
		return -ENOMEM;
	}
	w->caps.wire_format_version = 1;
	w->caps.vk_xml_version = (1u << 22) | (3u << 12) | 280; /* 1.3.280 */
	w->caps.supports_blob_id_0 = 1;
	w->caps.use_guest_vram = use_guest_vram; /* the mock's hypervisor follows it (STATIC) */
	if (vgalloc_mock_set_capset(w->mock, VGALLOC_CAPSET_VENUS, 0, &w->caps, sizeof(w->caps))) {
		vgalloc_mock_destroy(w->mock);
		free(w);
		return -ENOMEM;
	}
	*render_fd = vgalloc_mock_get_fd(w->mock);
	*out = w;
	return 0;
}

/* Teardown must leave nothing behind on either side, and keep the order the host requires. */
static int wire_close(struct wire *w)
{
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };
	int ret = vgalloc_mock_get_ledger(w->mock, &l);

	say(w, NULL);
	if (ret || l.live_blobs || l.live_handles || l.mapped_blobs || l.host_allocs ||
	    l.pending_tokens || l.order_violations) {
		printf("FAILED: the mock's ledger is not clean after teardown\n");
		ret = -1;
	}
	vgalloc_mock_destroy(w->mock);
	free(w);
	return ret;
}

/* The params are what the mock's kernel reports when created without flags (vgalloc_mock.h):
 * everything but CROSS_DEVICE. Its CONTEXT_INIT takes the capset id alone (no rings). */
static int wire_virtgpu_init(struct wire *w, uint64_t *params, void *caps, uint32_t caps_size)
{
	for (uint32_t p = VGALLOC_PARAM_3D_FEATURES; p <= VGALLOC_PARAM_CONTEXT_INIT; p++) {
		params[p] = p != VGALLOC_PARAM_CROSS_DEVICE;
	}
	memcpy(caps, &w->caps, caps_size < sizeof(w->caps) ? caps_size : sizeof(w->caps));
	return vgalloc_mock_context_init(w->mock, VGALLOC_CAPSET_VENUS);
}

static void wire_use_mock_backend(struct wire *w, struct vgalloc_connection_create_info *ci)
{
	ci->backend = VGALLOC_BACKEND_MOCK;
	ci->backend_object = w->mock;
}

/* Ring seqnos are the mock host's tokens: it runs a queued command once it is waited for. */
static int wire_alloc(struct wire *w, uint64_t id, uint64_t size, uint32_t res_id, uint32_t *seqno)
{
	uint64_t token = 0;
	int ret;

	if (id >= 64) {
		return -ENOMEM;
	}
	ret = res_id ? vgalloc_mock_host_import(w->mock, res_id, size, id, &w->handle[id], &token)
	             : vgalloc_mock_host_alloc(w->mock, id, size, &w->handle[id], &token, NULL);
	*seqno = (uint32_t)token;
	return ret;
}

static int wire_wait(struct wire *w, uint32_t seqno, void *cmd, uint32_t *cmd_size)
{
	return cmd ? vgalloc_mock_host_wait_cmd(w->mock, seqno, cmd, cmd_size)
	           : vgalloc_mock_host_wait(w->mock, seqno);
}

static int wire_roundtrip(struct wire *w)
{
	return vgalloc_mock_host_roundtrip(w->mock);
}

static void wire_free(struct wire *w, uint64_t id)
{
	vgalloc_mock_host_free(w->mock, id < 64 ? w->handle[id] : 0);
}

int main(void)
{
	int failed = run_driver(0) | run_driver(1);

	printf("%s\n", failed ? "FAILED" : "OK");
	return failed;
}
