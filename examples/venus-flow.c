/* SPDX-License-Identifier: MIT */
/*
 * venus-flow: a Venus-shaped consumer of libvgalloc.
 *
 * The driver owns its DRM file and its Venus context (adopt mode); its hooks stand in for the
 * Venus protocol (vkAllocateMemory / vkFreeMemory / the import command on the ring, with
 * asynchronous tokens and round trips), served here by the mock host. For each Vulkan call the
 * example prints the hook and kernel calls it causes twice: as stock Venus makes them today (one
 * blob per VkDeviceMemory, created at the first vkMapMemory, or at allocation for export and for
 * guest vram) and as libvgalloc makes them. The stock column is the same library with
 * suballocation off, which is exactly that behaviour.
 *
 * It checks its own output (exit 1 on a violation): stock Venus makes one CREATE_BLOB, MAP+mmap
 * and GEM close per mapped allocation and none for unmapped ones; libvgalloc allocates host-first
 * on the injecting hypervisor and guest-first on the static one (its capset says
 * use_guest_vram = 1); 1000 mapped 4 KiB buffers on a memory type with a 4 KiB base alignment
 * cost libvgalloc at most 2 blob creations. The output is deterministic (a golden file in
 * tests/golden/ holds it).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_mock.h"
#include "vgalloc/vgalloc_vulkan.h"

enum {
	TYPE_DEVICE = 0,
	TYPE_COHERENT = 1,
	TYPE_CACHED = 2,
	TYPE_COUNT = 3
};

/* One driver instance: a mock guest+host, the driver's context on it, a libvgalloc device. */
struct side {
	const char *name;
	struct vgalloc_mock *mock;
	struct vgalloc_host_hooks hooks;
	struct vgalloc_device *dev;
	uint32_t calls[VGALLOC_MOCK_CALL_COUNT]; /* of the last Vulkan call */
};

/* The Vulkan objects of the scenario, per side. */
enum {
	M_PLAIN,
	M_DEDICATED,
	M_EXPORT,
	M_IMPORT,
	M_ADDRESS,
	M_UNMAPPED,
	M_COUNT
};

struct state {
	struct vgalloc_mem *mem[M_COUNT];
	void *map[M_COUNT];
	int export_fd;
};

static int failures;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		return;
	}
	va_start(ap, fmt);
	printf("CHECK FAILED: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

/* The host's memory types as a lavapipe-like Venus host reports them. */
static void host_memory(VkPhysicalDeviceMemoryProperties *p, VkPhysicalDeviceLimits *limits)
{
	memset(p, 0, sizeof(*p));
	memset(limits, 0, sizeof(*limits));
	p->memoryTypeCount = TYPE_COUNT;
	p->memoryTypes[TYPE_DEVICE].propertyFlags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
	p->memoryTypes[TYPE_COHERENT].propertyFlags = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
	                                              VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
	                                              VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
	p->memoryTypes[TYPE_CACHED].propertyFlags = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
	                                            VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
	                                            VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
	p->memoryHeapCount = 1;
	p->memoryHeaps[0].size = 1ull << 32;
	p->memoryHeaps[0].flags = VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;
	limits->minMemoryMapAlignment = 64;
	limits->nonCoherentAtomSize = 64;
	limits->bufferImageGranularity = 1;
}

static int side_open(struct side *s, const char *name, uint32_t profile, bool stock)
{
	struct vgalloc_mock_create_info mi = {
		.struct_size = sizeof(mi),
		.profile = profile,
		.cost_preset = VGALLOC_MOCK_COST_QEMU_TCG,
	};
	VkPhysicalDeviceMemoryProperties props;
	VkPhysicalDeviceLimits limits;
	struct vgalloc_memory_type types[TYPE_COUNT];
	struct vgalloc_device_create_info ci = {
		.struct_size = sizeof(ci),
		.backend = VGALLOC_BACKEND_MOCK,
		.mode = VGALLOC_DEVICE_MODE_ADOPT,
		/* The driver ran CONTEXT_INIT itself; stock Venus never suballocates. */
		.flags = VGALLOC_DEVICE_CONTEXT_READY | (stock ? VGALLOC_DEVICE_NO_SUBALLOC : 0),
		.capset_id = VGALLOC_CAPSET_VENUS,
		.memory_types = types,
		.memory_type_count = TYPE_COUNT,
	};
	int ret;

	memset(s, 0, sizeof(*s));
	s->name = name;
	host_memory(&props, &limits);
	for (uint32_t i = 0; i < TYPE_COUNT; i++) {
		ret = vgalloc_vk_memory_type_from_properties(&props, i, &limits, true, &types[i]);
		if (ret) {
			return ret;
		}
		types[i].base_alignment = 4096; /* the host's pool base alignment: one page */
	}
	ret = vgalloc_mock_create(&mi, &s->mock);
	if (!ret) {
		ret = vgalloc_mock_get_hooks(s->mock, 0, &s->hooks);
	}
	if (!ret) {
		ret = vgalloc_mock_context_init(s->mock, VGALLOC_CAPSET_VENUS);
	}
	if (!ret) {
		ci.backend_object = s->mock;
		ci.hooks = &s->hooks;
		ret = vgalloc_device_create(&ci, &s->dev);
	}
	if (ret) {
		vgalloc_mock_destroy(s->mock);
		s->mock = NULL;
	}
	return ret;
}

static void side_close(struct side *s)
{
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };

	vgalloc_device_destroy(s->dev);
	vgalloc_mock_get_ledger(s->mock, &l);
	check(!l.live_blobs && !l.live_handles && !l.mapped_blobs && !l.open_fds &&
	              !l.host_allocs && !l.pending_tokens && !l.order_violations,
	      "%s: the mock ledger is not clean after teardown", s->name);
	vgalloc_mock_destroy(s->mock);
}

/* The calls one Vulkan call made on this side, printed and counted. */
static void side_report(struct side *s)
{
	struct vgalloc_mock_trace_entry e[64];
	int n = vgalloc_mock_get_trace(s->mock, e, 64);
	char line[256];

	memset(s->calls, 0, sizeof(s->calls));
	printf("    %-12s", s->name);
	if (n <= 0) {
		printf("(no hook or kernel call)\n");
	}
	for (int i = 0; i < n; i++) {
		vgalloc_mock_format_entry(&e[i], line, sizeof(line));
		printf("%s%s\n", i ? "                " : "", line);
		s->calls[e[i].call]++;
	}
	vgalloc_mock_reset_counters(s->mock);
}

static const char *call_names[] = {
	[M_PLAIN] = "plain 4 KiB host-visible buffer memory",
	[M_DEDICATED] = "dedicated 1 MiB host-visible image memory (VkMemoryDedicatedAllocateInfo)",
	[M_EXPORT] = "64 KiB exportable as dma-buf (VkExportMemoryAllocateInfo)",
	[M_IMPORT] = "64 KiB imported from that dma-buf (VkImportMemoryFdInfoKHR)",
	[M_ADDRESS] = "64 KiB with DEVICE_ADDRESS (VkMemoryAllocateFlagsInfo)",
	[M_UNMAPPED] = "plain 4 KiB host-visible, never mapped",
};

/* vkAllocateMemory as a Venus driver would run it through libvgalloc. */
static VkResult allocate(struct side *s, struct state *st, int which)
{
	VkMemoryAllocateInfo ai = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		.memoryTypeIndex = TYPE_COHERENT,
	};
	VkMemoryDedicatedAllocateInfo ded = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO,
		.image = (VkImage)(uintptr_t)0x1000,
	};
	VkExportMemoryAllocateInfo exp = {
		.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
		.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
	};
	VkImportMemoryFdInfoKHR imp = {
		.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
		.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
		.fd = st->export_fd,
	};
	VkMemoryAllocateFlagsInfo flags = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
		.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT,
	};
	struct vgalloc_request req;
	int ret;

	switch (which) {
	case M_PLAIN:
	case M_UNMAPPED:
		ai.allocationSize = 4096;
		break;
	case M_DEDICATED:
		ai.allocationSize = 1 << 20;
		ai.pNext = &ded;
		break;
	case M_EXPORT:
		ai.allocationSize = 65536;
		ai.pNext = &exp;
		break;
	case M_IMPORT:
		ai.allocationSize = 65536;
		ai.pNext = &imp;
		break;
	case M_ADDRESS:
		ai.allocationSize = 65536;
		ai.pNext = &flags;
		break;
	}
	ret = vgalloc_vk_request_from_allocate_info(&ai, NULL, TYPE_COUNT, &req);
	if (!ret) {
		ret = vgalloc_mem_alloc(s->dev, &req, &st->mem[which]);
	}
	/* Vulkan: a successful import owns the fd; libvgalloc only borrowed it. */
	if (!ret && which == M_IMPORT) {
		close(st->export_fd);
		st->export_fd = -1;
	}
	/* From the allocate info: req is unwritten when the conversion failed. */
	return vgalloc_vk_result(vgalloc_vk_allocate_info_command(&ai), ret);
}

static void print_placement(struct side *s, struct state *st, int which)
{
	struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };

	if (vgalloc_mem_get_info(s->dev, st->mem[which], &mi)) {
		return;
	}
	printf("    %-12s-> path %s, ", s->name, vgalloc_path_name(mi.path));
	if (mi.flags & VGALLOC_MEM_INFO_SUBALLOCATED) {
		printf("suballocated at offset %llu of a block", (unsigned long long)mi.offset);
	} else {
		printf("own allocation");
	}
	if (mi.res_id) {
		printf(", resource %u", mi.res_id);
	} else {
		printf(", no blob yet");
	}
	printf("\n");
}

typedef VkResult (*vk_call_fn)(struct side *s, struct state *st, int which);

static VkResult map_memory(struct side *s, struct state *st, int which)
{
	int ret = vgalloc_mem_map(s->dev, st->mem[which], &st->map[which]);

	if (!ret) {
		memset(st->map[which], 0x5a, 64);
	}
	return vgalloc_vk_result(VGALLOC_VK_MAP_MEMORY, ret);
}

/* vkBindBufferMemory(buffer, memory, memoryOffset): the host sees the block's memory object and
 * the suballocation's offset added to the application's. */
static VkResult bind_buffer(struct side *s, struct state *st, int which)
{
	struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };
	int ret = vgalloc_mem_get_info(s->dev, st->mem[which], &mi);

	if (!ret) {
		printf("    %-12shost vkBindBufferMemory(memory = host object %llu, offset = 0 + "
		       "%llu)\n",
		       s->name, (unsigned long long)mi.host_handle, (unsigned long long)mi.offset);
	}
	return vgalloc_vk_result(VGALLOC_VK_BIND_MEMORY, ret);
}

static VkResult get_fd(struct side *s, struct state *st, int which)
{
	int ret = vgalloc_mem_export(s->dev, st->mem[which], VGALLOC_HANDLE_TYPE_DMA_BUF,
	                             &st->export_fd);

	return vgalloc_vk_result(VGALLOC_VK_GET_MEMORY_FD, ret);
}

static VkResult free_memory(struct side *s, struct state *st, int which)
{
	if (st->map[which]) {
		vgalloc_mem_unmap(s->dev, st->mem[which]);
		st->map[which] = NULL;
	}
	vgalloc_mem_free(s->dev, st->mem[which]); /* vkFreeMemory cannot fail */
	st->mem[which] = NULL;
	return VK_SUCCESS;
}

/* Run one Vulkan call on both sides and print what each did. */
static void vk_call(struct side sides[2], struct state sts[2], const char *title, vk_call_fn fn,
                    int which)
{
	printf("  %s: %s\n", title, call_names[which]);
	for (int i = 0; i < 2; i++) {
		VkResult r = fn(&sides[i], &sts[i], which);

		check(r == VK_SUCCESS, "%s %s on %s: VkResult %d", title, call_names[which],
		      sides[i].name, (int)r);
		if (fn != bind_buffer) {
			side_report(&sides[i]);
		}
		if (fn == allocate && r == VK_SUCCESS) {
			print_placement(&sides[i], &sts[i], which);
		}
	}
}

static uint32_t creates(const struct side *s)
{
	return s->calls[VGALLOC_MOCK_CALL_BLOB_CREATE];
}

static void scenario(uint32_t profile, const char *profile_name)
{
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct side sides[2];
	struct state sts[2];
	struct side *stock = &sides[0], *lib = &sides[1];
	bool injecting = profile == VGALLOC_MOCK_PROFILE_INJECTING;

	printf("== %s hypervisor ==\n", profile_name);
	if (side_open(stock, "stock Venus", profile, true) ||
	    side_open(lib, "libvgalloc", profile, false)) {
		check(false, "device creation failed");
		return;
	}
	memset(sts, 0, sizeof(sts));
	sts[0].export_fd = sts[1].export_fd = -1;
	vgalloc_device_get_info(lib->dev, &di);
	printf("  libvgalloc device: %s (%s), blob alignment %llu\n",
	       di.alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST ? "guest-first" : "host-first",
	       di.mode_reason == VGALLOC_MODE_REASON_CAPSET ? "the capset says use_guest_vram = 1"
	       : di.mode_reason == VGALLOC_MODE_REASON_DEFAULT ? "nothing asks for guest-first"
	                                                       : "configured",
	       (unsigned long long)di.blob_alignment);
	if (injecting) {
		check(di.alloc_mode == VGALLOC_ALLOC_MODE_HOST_FIRST,
		      "injecting: libvgalloc must allocate host-first");
	} else {
		check(di.alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST &&
		              di.mode_reason == VGALLOC_MODE_REASON_CAPSET,
		      "static: libvgalloc must allocate guest-first because use_guest_vram = 1");
	}
	vgalloc_mock_reset_counters(stock->mock);
	vgalloc_mock_reset_counters(lib->mock);

	vk_call(sides, sts, "vkAllocateMemory", allocate, M_PLAIN);
	if (injecting) {
		check(creates(stock) == 0, "stock Venus creates no blob before the first map");
	}
	vk_call(sides, sts, "vkMapMemory", map_memory, M_PLAIN);
	if (injecting) {
		check(creates(stock) == 1 && stock->calls[VGALLOC_MOCK_CALL_BLOB_MAP] == 1,
		      "stock Venus: one CREATE_BLOB and one MAP+mmap at the first map");
	}
	vk_call(sides, sts, "vkBindBufferMemory", bind_buffer, M_PLAIN);
	vk_call(sides, sts, "vkAllocateMemory", allocate, M_DEDICATED);
	vk_call(sides, sts, "vkMapMemory", map_memory, M_DEDICATED);
	vk_call(sides, sts, "vkAllocateMemory", allocate, M_EXPORT);
	vk_call(sides, sts, "vkGetMemoryFdKHR", get_fd, M_EXPORT);
	vk_call(sides, sts, "vkAllocateMemory", allocate, M_IMPORT);
	vk_call(sides, sts, "vkMapMemory", map_memory, M_IMPORT);
	vk_call(sides, sts, "vkAllocateMemory", allocate, M_ADDRESS);
	vk_call(sides, sts, "vkAllocateMemory", allocate, M_UNMAPPED);
	if (injecting) {
		check(creates(stock) == 0, "stock Venus: no blob for an unmapped allocation");
	}
	for (int m = 0; m < M_COUNT; m++) {
		vk_call(sides, sts, "vkFreeMemory", free_memory, m);
		if (injecting && (m == M_PLAIN || m == M_DEDICATED)) {
			check(stock->calls[VGALLOC_MOCK_CALL_BLOB_UNMAP] == 1 &&
			              stock->calls[VGALLOC_MOCK_CALL_BLOB_DESTROY] == 1,
			      "stock Venus: one munmap and one GEM close per mapped allocation");
		}
		if (injecting && (m == M_ADDRESS || m == M_UNMAPPED)) {
			check(stock->calls[VGALLOC_MOCK_CALL_BLOB_DESTROY] == 0,
			      "stock Venus: no GEM close for an unmapped allocation");
		}
	}
	vgalloc_device_trim(lib->dev);
	side_close(stock);
	side_close(lib);
}

/* 1000 mapped 4 KiB buffers: blob creations and modelled QEMU time on each side. */
static void thousand_buffers(uint32_t profile, const char *profile_name)
{
	struct side sides[2];
	uint64_t created[2] = { 0 }, ms[2] = { 0 };

	if (side_open(&sides[0], "stock Venus", profile, true) ||
	    side_open(&sides[1], "libvgalloc", profile, false)) {
		check(false, "device creation failed");
		return;
	}
	for (int i = 0; i < 2; i++) {
		struct vgalloc_mem **mems = calloc(1000, sizeof(*mems));
		struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };
		struct vgalloc_request req = {
			.struct_size = sizeof(req),
			.memory_type = TYPE_COHERENT,
			.size = 4096,
		};

		vgalloc_mock_reset_counters(sides[i].mock);
		for (int k = 0; mems && k < 1000; k++) {
			void *p;

			if (vgalloc_mem_alloc(sides[i].dev, &req, &mems[k]) ||
			    vgalloc_mem_map(sides[i].dev, mems[k], &p)) {
				check(false, "%s: allocation %d failed", sides[i].name, k);
				break;
			}
			memset(p, k & 0xff, 4096);
		}
		for (int k = 0; mems && k < 1000; k++) {
			vgalloc_mem_free(sides[i].dev, mems[k]);
		}
		free(mems);
		vgalloc_device_trim(sides[i].dev);
		vgalloc_mock_get_ledger(sides[i].mock, &l);
		created[i] = l.calls[VGALLOC_MOCK_CALL_BLOB_CREATE];
		ms[i] = l.modeled_ns / 1000000;
	}
	printf("  %s: 1000 mapped 4 KiB buffers (4 KiB base alignment): stock Venus %llu blob "
	       "creations (%llu ms of modelled QEMU time), libvgalloc %llu (%llu ms)\n",
	       profile_name, (unsigned long long)created[0], (unsigned long long)ms[0],
	       (unsigned long long)created[1], (unsigned long long)ms[1]);
	check(created[0] == 1000, "stock Venus: one blob per mapped allocation");
	check(created[1] <= 2,
	      "libvgalloc: at most 2 blob creations for 1000 mapped 4 KiB buffers");
	side_close(&sides[0]);
	side_close(&sides[1]);
}

int main(void)
{
	printf("venus-flow: per Vulkan call, the hook and kernel calls of stock Venus and of "
	       "libvgalloc (adopt mode, mock host)\n");
	scenario(VGALLOC_MOCK_PROFILE_INJECTING, "injecting");
	scenario(VGALLOC_MOCK_PROFILE_STATIC, "static");
	printf("== totals ==\n");
	thousand_buffers(VGALLOC_MOCK_PROFILE_INJECTING, "injecting");
	thousand_buffers(VGALLOC_MOCK_PROFILE_STATIC, "static");
	if (failures) {
		printf("%d check(s) failed\n", failures);
		return 1;
	}
	printf("OK\n");
	return 0;
}
