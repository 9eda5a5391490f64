/* SPDX-License-Identifier: MIT */
/*
 * gfxstream-flow: a gfxstream-shaped consumer of libvgalloc, in C++17.
 *
 * The gfxstream guest encoder opens its render node itself, initialises a gfxstream Vulkan
 * context with two rings (own mode here: the library does the same), reads its capset (id 3)
 * and, under its own param numbering (the gfxstream flavour: 10 = CREATE_GUEST_HANDLE), learns
 * whether the kernel can hand the host an OS handle of guest pages. Its host speaks
 * deferredMapping with a 16 KiB blobAlignment: host-visible memory is a host allocation tagged
 * with a blob id, and the blob for it is created at the first vkMapMemory, its size a multiple of
 * the blob alignment. An exported dedicated image takes the guest-handle path: a GUEST blob with
 * CREATE_GUEST_HANDLE, the placeholder submit and its wait (the host_roundtrip hook), then the
 * host allocation that takes the handle by blob id (host_import).
 *
 * For each Vulkan call the example prints the hook and kernel calls libvgalloc makes, from the
 * mock's trace. It checks the trace (exit 1 on a violation): no CREATE_BLOB before the first map
 * of deferred memory and exactly one at it, every CREATE_BLOB size a multiple of 16 KiB, the
 * guest-handle sequence with one blob id, the bytes written through the mapping seen through the
 * exported dma-buf, and a clean mock ledger after teardown. The output is deterministic (no
 * pointers, no fd numbers). Being C++17 under -Wall -Wextra -Werror -pedantic, it also shows
 * that the public headers are clean C++.
 */
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_mock.h"
#include "vgalloc/vgalloc_vulkan.h"

namespace
{

enum : uint32_t {
	TYPE_DEVICE = 0,
	TYPE_COHERENT = 1,
	TYPE_CACHED = 2,
	TYPE_COUNT = 3
};

constexpr uint64_t kBlobAlignment = 16384; /* the host's blobAlignment */
constexpr uint32_t kGfxstreamRings = 2;    /* gfxstream's context: two rings */

int failures;

void check(bool ok, const std::string &what)
{
	if (!ok) {
		std::printf("CHECK FAILED: %s\n", what.c_str());
		failures++;
	}
}

/* What the host of this guest says about itself: a gfxstream Vulkan capset. */
vgalloc_capset_gfxstream_vulkan host_capset()
{
	vgalloc_capset_gfxstream_vulkan c{};

	c.protocol_version = 1;
	c.ring_size = 12288;
	c.buffer_size = 1u << 20;
	c.deferred_mapping = 1;
	c.blob_alignment = static_cast<uint32_t>(kBlobAlignment);
	return c;
}

/* The host's memory types, as a gfxstream host on a discrete GPU reports them. */
void host_memory(VkPhysicalDeviceMemoryProperties *p, VkPhysicalDeviceLimits *limits)
{
	*p = VkPhysicalDeviceMemoryProperties{};
	*limits = VkPhysicalDeviceLimits{};
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

/* The guest: a mock kernel + host with CREATE_GUEST_HANDLE, and the driver's device on it. */
struct Guest {
	vgalloc_mock *mock = nullptr;
	vgalloc_host_hooks hooks{};
	vgalloc_device *dev = nullptr;
	/* Every CREATE_BLOB seen, for the checks at the end. */
	std::vector<vgalloc_mock_trace_entry> creates;
};

/* The calls the last Vulkan call made, printed one per line, then forgotten. */
std::vector<vgalloc_mock_trace_entry> report(Guest &g)
{
	vgalloc_mock_trace_entry e[64];
	int n = vgalloc_mock_get_trace(g.mock, e, 64);
	std::vector<vgalloc_mock_trace_entry> calls;
	char line[256];

	if (n <= 0) {
		std::printf("    (no hook or kernel call)\n");
	}
	for (int i = 0; i < n; i++) {
		vgalloc_mock_format_entry(&e[i], line, sizeof(line));
		std::printf("    %s\n", line);
		calls.push_back(e[i]);
		if (e[i].call == VGALLOC_MOCK_CALL_BLOB_CREATE) {
			g.creates.push_back(e[i]);
		}
	}
	vgalloc_mock_reset_counters(g.mock);
	return calls;
}

int count(const std::vector<vgalloc_mock_trace_entry> &calls, uint32_t kind)
{
	int n = 0;

	for (const auto &c : calls) {
		n += c.call == kind;
	}
	return n;
}

int open_guest(Guest &g)
{
	vgalloc_mock_create_info mi{};
	VkPhysicalDeviceMemoryProperties props;
	VkPhysicalDeviceLimits limits;
	vgalloc_memory_type types[TYPE_COUNT];
	vgalloc_device_create_info ci{};
	const vgalloc_capset_gfxstream_vulkan caps = host_capset();
	int ret;

	host_memory(&props, &limits);
	for (uint32_t i = 0; i < TYPE_COUNT; i++) {
		ret = vgalloc_vk_memory_type_from_properties(&props, i, &limits, true, &types[i]);
		if (ret) {
			return ret;
		}
	}
	mi.struct_size = sizeof(mi);
	mi.profile = VGALLOC_MOCK_PROFILE_INJECTING;
	mi.flags = VGALLOC_MOCK_GUEST_HANDLE; /* the kernel reports CREATE_GUEST_HANDLE = 1 */
	mi.supported_capsets = 1u << VGALLOC_CAPSET_GFXSTREAM_VULKAN;
	ret = vgalloc_mock_create(&mi, &g.mock);
	if (ret) {
		return ret;
	}
	ret = vgalloc_mock_set_capset(g.mock, VGALLOC_CAPSET_GFXSTREAM_VULKAN, 0, &caps,
	                              sizeof(caps));
	if (!ret) {
		ret = vgalloc_mock_get_hooks(g.mock, 0, &g.hooks);
	}
	if (ret) {
		return ret;
	}
	ci.struct_size = sizeof(ci);
	ci.backend = VGALLOC_BACKEND_MOCK;
	ci.backend_object = g.mock;
	ci.mode = VGALLOC_DEVICE_MODE_OWN;
	ci.capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN;
	ci.num_rings = kGfxstreamRings;
	ci.flavour = VGALLOC_FLAVOUR_GFXSTREAM; /* its numbering: 10 = CREATE_GUEST_HANDLE */
	ci.memory_types = types;
	ci.memory_type_count = TYPE_COUNT;
	ci.hooks = &g.hooks;
	return vgalloc_device_create(&ci, &g.dev);
}

void describe_device(Guest &g)
{
	vgalloc_device_info di{};
	vgalloc_capset_info cap{};

	di.struct_size = sizeof(di);
	cap.struct_size = sizeof(cap);
	if (vgalloc_device_get_info(g.dev, &di) ||
	    vgalloc_device_read_capset(g.dev, VGALLOC_CAPSET_GFXSTREAM_VULKAN, &cap)) {
		check(false, "device info and capset are readable");
		return;
	}
	std::printf("  device: flavour gfxstream, capset %s, %s, blob alignment %llu\n",
	            vgalloc_capset_name(di.capset_id),
	            di.alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST ? "guest-first" : "host-first",
	            static_cast<unsigned long long>(di.blob_alignment));
	std::printf("  capset: protocolVersion %u, deferredMapping %u, blobAlignment %u\n",
	            cap.u.gfxstream_vulkan.protocol_version,
	            cap.u.gfxstream_vulkan.deferred_mapping, cap.u.gfxstream_vulkan.blob_alignment);
	std::printf("  param %s = %u\n", vgalloc_param_name(VGALLOC_FLAVOUR_GFXSTREAM, 10),
	            di.create_guest_handle);
	check(di.blob_alignment == kBlobAlignment, "the blob alignment is the capset's 16 KiB");
	check(cap.u.gfxstream_vulkan.deferred_mapping == 1, "the host says deferredMapping");
	check(di.create_guest_handle == 1, "the flavour's CREATE_GUEST_HANDLE param is 1");
}

/* One VkDeviceMemory of the scenario. */
struct Memory {
	Memory(const char *w, uint32_t t, uint64_t s, bool e)
	    : what(w), type(t), size(s), exported_image(e)
	{
	}
	const char *what;
	uint32_t type;
	uint64_t size;
	bool exported_image;
	vgalloc_mem *mem = nullptr;
	void *map = nullptr;
	uint64_t blob_id = 0;
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

void print_placement(Guest &g, const Memory &m)
{
	vgalloc_mem_info mi{};
	std::string flags;

	mi.struct_size = sizeof(mi);
	if (vgalloc_mem_get_info(g.dev, m.mem, &mi)) {
		return;
	}
	std::printf("    -> path %s, blob id %llu, %llu bytes committed",
	            vgalloc_path_name(mi.path), static_cast<unsigned long long>(mi.blob_id),
	            static_cast<unsigned long long>(mi.committed));
	if (mi.path == VGALLOC_PATH_HOST_ONLY) {
		std::printf(", never a blob\n");
	} else if (mi.res_id) {
		static const char *const names[] = { "MAPPABLE", "SHAREABLE", "CROSS_DEVICE",
			                             "CREATE_GUEST_HANDLE" };

		for (uint32_t bit = 0; bit < 4; bit++) {
			if (mi.blob_flags & (1u << bit)) {
				flags += flags.empty() ? "" : "|";
				flags += names[bit];
			}
		}
		std::printf(", resource %u (%s, %s)\n", mi.res_id,
		            mi.blob_mem == VGALLOC_BLOB_MEM_GUEST ? "GUEST" : "HOST3D",
		            flags.c_str());
	} else {
		std::printf(", no blob yet\n");
	}
}

/* vkAllocateMemory as the gfxstream guest would run it through libvgalloc. */
VkResult allocate(Guest &g, Memory &m)
{
	VkMemoryAllocateInfo ai{};
	VkMemoryDedicatedAllocateInfo ded{};
	VkExportMemoryAllocateInfo export_info{};
	vgalloc_request req{};
	vgalloc_mem_info mi{};
	int ret;

	ai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
	ai.allocationSize = m.size;
	ai.memoryTypeIndex = m.type;
	if (m.exported_image) {
		export_info.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO;
		export_info.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
		ded.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
		ded.pNext = &export_info;
		ded.image = fake_handle<VkImage>(0x1000);
		ai.pNext = &ded;
	}
	ret = vgalloc_vk_request_from_allocate_info(&ai, nullptr, TYPE_COUNT, &req);
	if (!ret) {
		ret = vgalloc_mem_alloc(g.dev, &req, &m.mem);
	}
	mi.struct_size = sizeof(mi);
	if (!ret && !vgalloc_mem_get_info(g.dev, m.mem, &mi)) {
		m.blob_id = mi.blob_id;
	}
	return vgalloc_vk_result(vgalloc_vk_allocate_info_command(&ai), ret);
}

void step(const char *call, const Memory &m)
{
	std::printf("  %s: %s\n", call, m.what);
}

} // namespace

int main()
{
	Guest g;
	Memory mems[] = {
		{ "1000 bytes, host-visible coherent", TYPE_COHERENT, 1000, false },
		{ "70000 bytes, host-visible coherent", TYPE_COHERENT, 70000, false },
		{ "5 bytes, host-visible cached", TYPE_CACHED, 5, false },
		{ "123457 bytes, device-local", TYPE_DEVICE, 123457, false },
		{ "300001 bytes, linear image, dedicated and exportable as dma-buf", TYPE_COHERENT,
		  300001, true },
	};
	const size_t deferred = 3; /* the first three are mapped through deferredMapping */
	Memory &image = mems[4];
	vgalloc_mock_ledger l{};
	std::vector<vgalloc_mock_trace_entry> calls;
	int fd = -1;

	std::printf("gfxstream-flow: per Vulkan call, the hook and kernel calls libvgalloc makes "
	            "(own mode, gfxstream flavour, mock host)\n");
	std::printf("  vgalloc_device_create: gfxstream Vulkan context, %u rings\n",
	            kGfxstreamRings);
	if (open_guest(g)) {
		std::printf("CHECK FAILED: device creation\n");
		vgalloc_mock_destroy(g.mock);
		return 1;
	}
	/* Creation reads the params by the gfxstream numbering and the capset, then CONTEXT_INIT. */
	calls = report(g);
	check(count(calls, VGALLOC_MOCK_CALL_CONTEXT_INIT) == 1, "one CONTEXT_INIT");
	check(count(calls, VGALLOC_MOCK_CALL_BLOB_CREATE) == 0, "no blob at device creation");
	describe_device(g);

	/* deferredMapping: a host allocation tagged with a blob id, and no blob yet. */
	for (size_t i = 0; i < 4; i++) {
		step("vkAllocateMemory", mems[i]);
		check(allocate(g, mems[i]) == VK_SUCCESS, std::string("allocate ") + mems[i].what);
		calls = report(g);
		print_placement(g, mems[i]);
		check(count(calls, VGALLOC_MOCK_CALL_BLOB_CREATE) == 0,
		      std::string("no CREATE_BLOB at vkAllocateMemory of ") + mems[i].what);
	}
	/* The first map makes the blob, by the allocation's blob id; a second map makes nothing. */
	for (size_t i = 0; i < deferred; i++) {
		step("vkMapMemory", mems[i]);
		check(vgalloc_mem_map(g.dev, mems[i].mem, &mems[i].map) == 0,
		      std::string("map ") + mems[i].what);
		calls = report(g);
		check(count(calls, VGALLOC_MOCK_CALL_BLOB_CREATE) == 1,
		      std::string("one CREATE_BLOB at the first map of ") + mems[i].what);
		for (const auto &c : calls) {
			if (c.call == VGALLOC_MOCK_CALL_BLOB_CREATE) {
				check(c.blob_id == mems[i].blob_id &&
				              c.blob_mem == VGALLOC_BLOB_MEM_HOST3D,
				      "the blob is HOST3D by the allocation's blob id");
			}
		}
		if (mems[i].map) {
			std::memset(mems[i].map, 0x42, static_cast<size_t>(mems[i].size));
		}
	}
	/* The blob outlives its mapping: unmapping and mapping again makes no second blob. */
	step("vkUnmapMemory", mems[0]);
	check(vgalloc_mem_unmap(g.dev, mems[0].mem) == 0, "unmap");
	calls = report(g);
	check(calls.size() == 1 && calls[0].call == VGALLOC_MOCK_CALL_BLOB_UNMAP,
	      "vkUnmapMemory only unmaps");
	step("vkMapMemory (again)", mems[0]);
	check(vgalloc_mem_map(g.dev, mems[0].mem, &mems[0].map) == 0, "map again");
	calls = report(g);
	check(calls.size() == 1 && calls[0].call == VGALLOC_MOCK_CALL_BLOB_MAP,
	      "a second vkMapMemory maps the existing blob, it makes none");
	{
		void *p = nullptr;
		VkResult r;

		step("vkMapMemory", mems[3]);
		r = vgalloc_vk_result(VGALLOC_VK_MAP_MEMORY,
		                      vgalloc_mem_map(g.dev, mems[3].mem, &p));
		calls = report(g);
		std::printf("    -> %s (not host-visible)\n",
		            r == VK_ERROR_MEMORY_MAP_FAILED ? "VK_ERROR_MEMORY_MAP_FAILED" : "?");
		check(r == VK_ERROR_MEMORY_MAP_FAILED && calls.empty(),
		      "device-local memory does not map, and nothing is called");
	}

	/* Guest-handle: the exported image's memory is guest pages the host gets a handle of. */
	step("vkAllocateMemory", image);
	check(allocate(g, image) == VK_SUCCESS, "allocate the exported image");
	calls = report(g);
	print_placement(g, image);
	std::printf("    (exported, so its blob exists from vkAllocateMemory on; host_roundtrip is "
	            "the placeholder submit and its wait)\n");
	{
		const uint32_t want[] = { VGALLOC_MOCK_CALL_NEW_BLOB_ID,
			                  VGALLOC_MOCK_CALL_BLOB_CREATE,
			                  VGALLOC_MOCK_CALL_HOST_ROUNDTRIP,
			                  VGALLOC_MOCK_CALL_HOST_IMPORT };
		bool ok = calls.size() == 4;

		for (size_t i = 0; ok && i < 4; i++) {
			ok = calls[i].call == want[i] && calls[i].result == 0;
		}
		ok = ok && calls[0].blob_id == image.blob_id && calls[1].blob_id == image.blob_id &&
		     calls[3].blob_id == image.blob_id && calls[3].res_id == calls[1].res_id &&
		     calls[1].blob_mem == VGALLOC_BLOB_MEM_GUEST &&
		     calls[1].blob_flags ==
		             (VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE |
		              VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE);
		check(ok, "guest-handle: new_blob_id, CREATE_BLOB(GUEST, MAPPABLE|SHAREABLE|"
		          "CREATE_GUEST_HANDLE, id), host_roundtrip, host_import(res, id)");
	}
	step("vkGetMemoryFdKHR", image);
	check(vgalloc_mem_export(g.dev, image.mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd) == 0 &&
	              fd >= 0,
	      "export the image as a dma-buf");
	calls = report(g);
	step("vkMapMemory", image);
	check(vgalloc_mem_map(g.dev, image.mem, &image.map) == 0, "map the image");
	calls = report(g);
	check(count(calls, VGALLOC_MOCK_CALL_BLOB_CREATE) == 0, "the image's blob already exists");
	if (image.map && fd >= 0) {
		static const char text[] = "written through the guest mapping";
		void *q = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, 0);

		std::memcpy(image.map, text, sizeof(text));
		check(q != MAP_FAILED && std::memcmp(q, text, sizeof(text)) == 0,
		      "the dma-buf shows the bytes written through the mapping");
		std::printf("    dma-buf reads back the bytes written through the mapping: %s\n",
		            q != MAP_FAILED && std::memcmp(q, text, sizeof(text)) == 0 ? "yes"
		                                                                       : "no");
		if (q != MAP_FAILED) {
			munmap(q, 4096);
		}
	}
	if (fd >= 0) {
		close(fd);
	}

	/* vkFreeMemory: the fixed teardown order (wait for pending host work, munmap, GEM close,
	 * host free). */
	for (auto &m : mems) {
		step("vkFreeMemory", m);
		check(vgalloc_mem_free(g.dev, m.mem) == 0, std::string("free ") + m.what);
		calls = report(g);
		if (!calls.empty()) {
			check(calls.back().call == VGALLOC_MOCK_CALL_HOST_FREE,
			      "the host allocation goes last");
		}
	}

	/* Every blob this guest created is a whole number of 16 KiB host pages. */
	std::printf("  blobs created: %zu\n", g.creates.size());
	for (const auto &c : g.creates) {
		std::printf("    id %llu, %llu bytes = %llu x 16 KiB\n",
		            static_cast<unsigned long long>(c.blob_id),
		            static_cast<unsigned long long>(c.size),
		            static_cast<unsigned long long>(c.size / kBlobAlignment));
		check(c.size && c.size % kBlobAlignment == 0,
		      "every blob size a multiple of 16 KiB");
	}
	check(g.creates.size() == deferred + 1, "one blob per mapped allocation and the image's");

	vgalloc_device_destroy(g.dev);
	l.struct_size = sizeof(l);
	vgalloc_mock_get_ledger(g.mock, &l);
	check(!l.live_blobs && !l.live_handles && !l.mapped_blobs && !l.open_fds &&
	              !l.host_allocs && !l.pending_tokens && !l.order_violations,
	      "the mock ledger is clean after teardown");
	vgalloc_mock_destroy(g.mock);

	if (failures) {
		std::printf("FAILED: %d check(s)\n", failures);
		return 1;
	}
	std::printf("gfxstream-flow: no blob before first map; every blob size a multiple of 16 "
	            "KiB.\n");
	std::printf("OK\n");
	return 0;
}
