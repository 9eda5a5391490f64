/* SPDX-License-Identifier: MIT */
/*
 * The gfxstream series' glue (integrations/gfxstream/glue), compiled outside Mesa and driven on
 * libvgalloc's mock kernel and host with the gfxstream Vulkan capset: each of gfxstream's three
 * modes, call by call, as the driver would make them.
 *
 * MockHost stands where ResourceTracker's VkEncoder calls are: it records each protocol call
 * and forwards it to the mock's host model, whose trace then holds the kernel calls and the
 * host calls merged in the order they happened.
 */
#include <cerrno>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

extern "C" {
#include <cmocka.h>
}

#include "VgallocGlue.h"
#include "vgalloc/vgalloc_mock.h"

using gfxstream::vk::VgallocAllocation;
using gfxstream::vk::VgallocBlobTag;
using gfxstream::vk::VgallocDevice;
using gfxstream::vk::VgallocDeviceInfo;
using gfxstream::vk::VgallocHostCalls;

namespace
{

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint32_t kBlobAlignment = 16384;
enum : uint32_t {
	TYPE_DEVICE,
	TYPE_COHERENT,
	TYPE_CACHED,
	TYPE_COUNT
};

// The gfxstream Vulkan capset as the driver lays it out (mCaps.vulkanCapset).
struct VulkanCapset {
	uint32_t protocolVersion, ringSize, bufferSize, colorBufferMemoryIndex, deferredMapping,
	        blobAlignment, noRenderControlEnc, alwaysBlob, externalSync,
	        virglSupportedFormats[16], vulkanBatchedDescriptorSetUpdate;
};

enum class Mode {
	Blocks,
	Deferred,
	GuestHandle
};

struct Call {
	enum Kind {
		Allocate,
		HostBlobId,
		GetBlob,
		Free,
		Placeholder,
		BlobId
	} kind;
	uint64_t memory = 0; // the host memory named or returned
	VkMemoryAllocateInfo info = {};
	bool tagged = false;
	VgallocBlobTag tag = {};
	uint32_t allocateFlags = 0;
	uint32_t deviceMask = 0;
	uint64_t captureAddress = 0;
};

uint64_t handleOf(VkDeviceMemory m)
{
	return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m));
}
VkDeviceMemory memoryOf(uint64_t h)
{
	return reinterpret_cast<VkDeviceMemory>(static_cast<uintptr_t>(h));
}

class MockHost : public VgallocHostCalls
{
      public:
	explicit MockHost(vgalloc_mock *mock) : mMock(mock)
	{
	}

	VkResult allocateMemory(const VkMemoryAllocateInfo &info, const VgallocBlobTag *tag,
	                        VkDeviceMemory *memory) override
	{
		Call c{ Call::Allocate };
		c.info = info;
		c.info.pNext = nullptr;
		c.tagged = tag != nullptr;
		if (tag)
			c.tag = *tag;
		for (auto *s = static_cast<const VkBaseInStructure *>(info.pNext); s;
		     s = s->pNext) {
			if (s->sType == VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO) {
				auto *f = reinterpret_cast<const VkMemoryAllocateFlagsInfo *>(s);
				c.allocateFlags = f->flags;
				c.deviceMask = f->deviceMask;
			}
			if (s->sType ==
			    VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO)
				c.captureAddress =
				        reinterpret_cast<
				                const VkMemoryOpaqueCaptureAddressAllocateInfo *>(s)
				                ->opaqueCaptureAddress;
		}
		if (failAllocate != VK_SUCCESS) {
			calls.push_back(c);
			return failAllocate;
		}
		uint64_t handle = 0, token = 0, hostBlobId = 0;
		int ret = tag && tag->resId
		                  ? vgalloc_mock_host_import(mMock, tag->resId, info.allocationSize,
		                                             tag->blobId, &handle, &token)
		                  : vgalloc_mock_host_alloc(mMock, tag ? tag->blobId : 0,
		                                            info.allocationSize, &handle, &token,
		                                            &hostBlobId);
		// VkEncoder's vkAllocateMemory returns once the host has run it.
		if (!ret)
			ret = vgalloc_mock_host_wait(mMock, token);
		if (ret)
			return VK_ERROR_OUT_OF_DEVICE_MEMORY;
		hostBlobIds[handle] = hostBlobId;
		c.memory = handle;
		calls.push_back(c);
		*memory = memoryOf(handle);
		return VK_SUCCESS;
	}
	VkResult getHostBlobId(VkDeviceMemory memory, uint64_t *blobId) override
	{
		Call c{ Call::HostBlobId };
		c.memory = handleOf(memory);
		calls.push_back(c);
		if (failHostBlobId != VK_SUCCESS)
			return failHostBlobId;
		*blobId = hostBlobIds.at(handleOf(memory));
		return VK_SUCCESS;
	}
	VkResult getBlob(VkDeviceMemory memory) override
	{
		Call c{ Call::GetBlob };
		c.memory = handleOf(memory);
		calls.push_back(c);
		return failGetBlob;
	}
	void freeMemory(VkDeviceMemory memory) override
	{
		Call c{ Call::Free };
		c.memory = handleOf(memory);
		calls.push_back(c);
		vgalloc_mock_host_free(mMock, handleOf(memory));
	}
	int submitPlaceholderAndWait() override
	{
		calls.push_back(Call{ Call::Placeholder });
		return failPlaceholder ? failPlaceholder : vgalloc_mock_host_roundtrip(mMock);
	}
	uint64_t nextBlobId() override
	{
		calls.push_back(Call{ Call::BlobId });
		return ++atomicId;
	}

	size_t count(Call::Kind kind) const
	{
		size_t n = 0;
		for (const auto &c : calls)
			n += c.kind == kind;
		return n;
	}
	const Call *first(Call::Kind kind) const
	{
		for (const auto &c : calls)
			if (c.kind == kind)
				return &c;
		return nullptr;
	}

	std::vector<Call> calls;
	std::map<uint64_t, uint64_t> hostBlobIds;
	uint64_t atomicId = 0;
	VkResult failAllocate = VK_SUCCESS, failHostBlobId = VK_SUCCESS, failGetBlob = VK_SUCCESS;
	int failPlaceholder = 0;

      private:
	vgalloc_mock *mMock;
};

struct Rig {
	vgalloc_mock *mock = nullptr;
	std::shared_ptr<MockHost> host;
	std::unique_ptr<VgallocDevice> dev;
	VulkanCapset caps = {};
	uint64_t params[10] = {};
};

VkPhysicalDeviceMemoryProperties memoryProperties()
{
	VkPhysicalDeviceMemoryProperties p = {};
	p.memoryTypeCount = TYPE_COUNT;
	p.memoryTypes[TYPE_DEVICE] = { VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0 };
	p.memoryTypes[TYPE_COHERENT] = { VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
		                                 VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		                                 VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
		                         0 };
	p.memoryTypes[TYPE_CACHED] = { VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		                               VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
		                               VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
		                       0 };
	p.memoryHeapCount = 1;
	p.memoryHeaps[0] = { 8ull << 30, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT };
	return p;
}

Rig *makeRig(Mode mode)
{
	auto *r = new Rig;
	vgalloc_mock_create_info mi = {};

	mi.struct_size = sizeof(mi);
	mi.profile = VGALLOC_MOCK_PROFILE_INJECTING;
	mi.flags = mode == Mode::GuestHandle ? VGALLOC_MOCK_GUEST_HANDLE : 0;
	mi.flags |= mode == Mode::Blocks ? VGALLOC_MOCK_HOST_BLOB_ID : 0;
	mi.supported_capsets = 1u << VGALLOC_CAPSET_GFXSTREAM_VULKAN;
	assert_int_equal(vgalloc_mock_create(&mi, &r->mock), 0);
	r->caps.protocolVersion = 1;
	r->caps.ringSize = 12288;
	r->caps.bufferSize = 1u << 20;
	r->caps.deferredMapping = mode != Mode::Blocks;
	r->caps.blobAlignment = kBlobAlignment;
	assert_int_equal(vgalloc_mock_set_capset(r->mock, VGALLOC_CAPSET_GFXSTREAM_VULKAN, 0,
	                                         &r->caps, sizeof(r->caps)),
	                 0);
	assert_int_equal(vgalloc_mock_context_init(r->mock, VGALLOC_CAPSET_GFXSTREAM_VULKAN), 0);
	// VirtGpuDevice's order: index i is kernel param i + 1 (CROSS_DEVICE, index 4, is 0).
	for (uint32_t i = 0; i < 6; i++)
		r->params[i] = i != 4;
	r->params[6] = 1u << VGALLOC_CAPSET_GFXSTREAM_VULKAN;
	r->params[9] = mode == Mode::GuestHandle;
	r->host = std::make_shared<MockHost>(r->mock);

	VgallocDeviceInfo info;
	info.fd = vgalloc_mock_get_fd(r->mock);
	info.capset = &r->caps;
	info.capsetSize = sizeof(r->caps);
	info.params = r->params;
	info.paramCount = 10;
	info.memoryProperties = memoryProperties();
	info.limits.minMemoryMapAlignment = 64;
	info.limits.nonCoherentAtomSize = 64;
	info.limits.bufferImageGranularity = 1;
	info.backend = VGALLOC_BACKEND_MOCK;
	info.backendObject = r->mock;
	assert_int_equal(VgallocDevice::create(info, r->host, &r->dev), VK_SUCCESS);
	assert_true(r->dev != nullptr);
	vgalloc_mock_reset_counters(r->mock);
	return r;
}

// Destroys the glue's device and checks that nothing is left on either side.
void finish(Rig *r)
{
	vgalloc_mock_ledger l = {};

	r->dev.reset();
	l.struct_size = sizeof(l);
	assert_int_equal(vgalloc_mock_get_ledger(r->mock, &l), 0);
	assert_int_equal(l.live_blobs, 0);
	assert_int_equal(l.live_handles, 0);
	assert_int_equal(l.mapped_blobs, 0);
	assert_int_equal(l.host_allocs, 0);
	assert_int_equal(l.pending_tokens, 0);
	assert_int_equal(l.order_violations, 0);
	r->host.reset();
	vgalloc_mock_destroy(r->mock);
	delete r;
}

std::vector<vgalloc_mock_trace_entry> trace(Rig *r)
{
	std::vector<vgalloc_mock_trace_entry> e(4096);
	int n = vgalloc_mock_get_trace(r->mock, e.data(), static_cast<uint32_t>(e.size()));
	assert_true(n >= 0);
	e.resize(static_cast<size_t>(n));
	vgalloc_mock_reset_counters(r->mock);
	return e;
}

// The kinds of the trace entries, with GET_PARAM, NEW_BLOB_ID and WAIT left out.
std::vector<uint32_t> kinds(const std::vector<vgalloc_mock_trace_entry> &t)
{
	std::vector<uint32_t> k;
	for (const auto &e : t) {
		if (e.call != VGALLOC_MOCK_CALL_GET_PARAM &&
		    e.call != VGALLOC_MOCK_CALL_NEW_BLOB_ID && e.call != VGALLOC_MOCK_CALL_WAIT &&
		    e.call != VGALLOC_MOCK_CALL_HOST_WAIT)
			k.push_back(e.call);
	}
	return k;
}

const vgalloc_mock_trace_entry *find(const std::vector<vgalloc_mock_trace_entry> &t, uint32_t call)
{
	for (const auto &e : t)
		if (e.call == call)
			return &e;
	return nullptr;
}

VkMemoryAllocateInfo allocateInfo(uint64_t size, uint32_t type = TYPE_COHERENT,
                                  const void *next = nullptr)
{
	VkMemoryAllocateInfo info = {};
	info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
	info.pNext = next;
	info.allocationSize = size;
	info.memoryTypeIndex = type;
	return info;
}

void expectKinds(const std::vector<vgalloc_mock_trace_entry> &t,
                 std::initializer_list<uint32_t> want)
{
	std::vector<uint32_t> got = kinds(t);
	assert_int_equal(got.size(), want.size());
	size_t i = 0;
	for (uint32_t k : want)
		assert_int_equal(got[i++], k);
}

/* --- Block suballocation: deferredMapping = 0, host-assigned blob ids. ------------------- */

void blocks_share_one_16mib_host_allocation_named_by_the_host(void **)
{
	Rig *r = makeRig(Mode::Blocks);
	VgallocAllocation a[3];
	const uint64_t sizes[3] = { 4096, 4096, 5000 };

	for (int i = 0; i < 3; i++) {
		auto info = allocateInfo(sizes[i]);
		assert_int_equal(r->dev->allocate(info, &a[i]), VK_SUCCESS);
	}
	auto t = trace(r);
	// One block: the host allocation, then the blob by the host's id, made with it.
	expectKinds(t, { VGALLOC_MOCK_CALL_HOST_ALLOC, VGALLOC_MOCK_CALL_BLOB_CREATE });
	assert_int_equal(r->host->count(Call::Allocate), 1);
	assert_int_equal(r->host->count(Call::HostBlobId), 1);
	const Call alloc = *r->host->first(Call::Allocate); // a copy: later calls grow the log
	assert_false(alloc.tagged);
	assert_true(alloc.info.allocationSize >= 16 * kMiB);
	assert_int_equal(alloc.info.allocationSize % kBlobAlignment, 0);
	assert_int_equal(alloc.info.memoryTypeIndex, TYPE_COHERENT);
	const uint64_t hostId = r->host->hostBlobIds.at(alloc.memory);
	auto *blob = find(t, VGALLOC_MOCK_CALL_BLOB_CREATE);
	assert_int_equal(blob->blob_mem, VGALLOC_BLOB_MEM_HOST3D);
	assert_int_equal(blob->blob_flags, VGALLOC_BLOB_FLAG_MAPPABLE);
	assert_int_equal(blob->blob_id, hostId);
	assert_int_equal(blob->size, alloc.info.allocationSize);

	uint8_t *p[3];
	for (int i = 0; i < 3; i++) {
		assert_true(a[i].suballocated);
		assert_int_equal(a[i].path, VGALLOC_PATH_HOST_FIRST_EAGER);
		assert_int_equal(handleOf(a[i].hostMemory), alloc.memory);
		assert_int_equal(a[i].blobId, hostId);
		assert_int_equal(r->dev->map(a[i], &p[i]), VK_SUCCESS);
	}
	// Ranges of one mapping: pointers differ as the offsets do, and do not overlap.
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 3; j++) {
			if (i == j)
				continue;
			assert_int_equal(p[j] - p[i], (int64_t)(a[j].offset - a[i].offset));
			assert_true(a[i].offset + sizes[i] <= a[j].offset ||
			            a[j].offset + sizes[j] <= a[i].offset);
		}
		memset(p[i], 0x40 + i, sizes[i]);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(p[i][sizes[i] - 1], 0x40 + i);
	// One mapping of the block, made at the first map.
	expectKinds(trace(r), { VGALLOC_MOCK_CALL_BLOB_MAP });

	for (auto &x : a)
		r->dev->free(&x);
	assert_null(a[0].mem);
	// The empty block is retained; the device's destruction gives it back, blob before host.
	expectKinds(trace(r), {});
	r->dev.reset();
	expectKinds(trace(r), { VGALLOC_MOCK_CALL_BLOB_UNMAP, VGALLOC_MOCK_CALL_BLOB_DESTROY,
	                        VGALLOC_MOCK_CALL_HOST_FREE });
	assert_int_equal(r->host->count(Call::Free), 1);
	assert_int_equal(r->host->calls.back().memory, alloc.memory);
	finish(r);
}

void blocks_keep_device_address_memory_apart(void **)
{
	Rig *r = makeRig(Mode::Blocks);
	VkMemoryAllocateFlagsInfo flags = {};
	flags.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
	VgallocAllocation plain, bda;

	flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
	assert_int_equal(r->dev->allocate(allocateInfo(4096), &plain), VK_SUCCESS);
	assert_int_equal(r->dev->allocate(allocateInfo(4096, TYPE_COHERENT, &flags), &bda),
	                 VK_SUCCESS);
	assert_true(bda.suballocated);
	assert_true(handleOf(bda.hostMemory) != handleOf(plain.hostMemory));
	assert_int_equal(r->host->count(Call::Allocate), 2);
	// The block of device-address memory is allocated with the flag, the other without.
	assert_int_equal(r->host->calls[0].allocateFlags, 0);
	const Call *second = nullptr;
	for (const auto &c : r->host->calls)
		if (c.kind == Call::Allocate && c.memory == handleOf(bda.hostMemory))
			second = &c;
	assert_non_null(second);
	assert_int_equal(second->allocateFlags, VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT);
	assert_true(second->info.allocationSize >= 16 * kMiB);
	/* An app mask makes a pool of its own, whose block carries no mask (a zero mask is invalid
	 * and gfxstream has one physical device). */
	VgallocAllocation masked;
	flags.flags = VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT | VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
	flags.deviceMask = 1;
	assert_int_equal(r->dev->allocate(allocateInfo(4096, TYPE_COHERENT, &flags), &masked),
	                 VK_SUCCESS);
	assert_true(masked.suballocated);
	const Call third = r->host->calls.back().kind == Call::Allocate
	                           ? r->host->calls.back()
	                           : r->host->calls[r->host->calls.size() - 2];
	assert_int_equal(third.kind, Call::Allocate);
	assert_int_equal(third.memory, handleOf(masked.hostMemory));
	assert_int_equal(third.allocateFlags, VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT);
	assert_int_equal(third.deviceMask, 0);
	assert_true(r->dev->free(&plain));
	assert_true(r->dev->free(&bda));
	assert_true(r->dev->free(&masked));
	finish(r);
}

void blocks_capture_replay_is_dedicated_with_its_address(void **)
{
	Rig *r = makeRig(Mode::Blocks);
	VkMemoryOpaqueCaptureAddressAllocateInfo capture = {};
	capture.sType = VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO;
	VkMemoryAllocateFlagsInfo flags = {};
	flags.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
	flags.pNext = &capture;
	VgallocAllocation a;

	capture.opaqueCaptureAddress = 0x123450000ull;
	flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT |
	              VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT;
	assert_int_equal(r->dev->allocate(allocateInfo(5000, TYPE_COHERENT, &flags), &a),
	                 VK_SUCCESS);
	assert_false(a.suballocated);
	assert_int_equal(a.offset, 0);
	const Call alloc = *r->host->first(Call::Allocate); // a copy: later calls grow the log
	assert_int_equal(alloc.allocateFlags, flags.flags);
	assert_int_equal(alloc.captureAddress, capture.opaqueCaptureAddress);
	assert_int_equal(alloc.info.allocationSize, kBlobAlignment);
	assert_int_equal(handleOf(a.hostMemory), alloc.memory);
	r->dev->free(&a);
	// Dedicated memory goes back at once: blob, then host memory. A blob made at allocation and
	// never mapped gets a round trip (the placeholder) before its host memory goes.
	expectKinds(trace(r), { VGALLOC_MOCK_CALL_HOST_ALLOC, VGALLOC_MOCK_CALL_BLOB_CREATE,
	                        VGALLOC_MOCK_CALL_BLOB_DESTROY, VGALLOC_MOCK_CALL_HOST_ROUNDTRIP,
	                        VGALLOC_MOCK_CALL_HOST_FREE });
	assert_int_equal(r->host->count(Call::Placeholder), 1);
	/* The host refusing the address reaches the app as such. */
	r->host->failAllocate = VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS;
	assert_int_equal(r->dev->allocate(allocateInfo(5000, TYPE_COHERENT, &flags), &a),
	                 VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS);
	assert_null(a.mem);
	finish(r);
}

void blocks_host_failures_leave_nothing(void **)
{
	Rig *r = makeRig(Mode::Blocks);
	VgallocAllocation a;

	r->host->failAllocate = VK_ERROR_OUT_OF_DEVICE_MEMORY;
	assert_int_equal(r->dev->allocate(allocateInfo(4096), &a), VK_ERROR_OUT_OF_DEVICE_MEMORY);
	assert_null(a.mem);
	r->host->failAllocate = VK_ERROR_OUT_OF_HOST_MEMORY;
	assert_int_equal(r->dev->allocate(allocateInfo(4096), &a), VK_ERROR_OUT_OF_HOST_MEMORY);
	r->host->failAllocate = VK_SUCCESS;
	// The host allocates but cannot say the blob id: its memory is freed, the call fails.
	r->host->failHostBlobId = VK_ERROR_DEVICE_LOST;
	size_t before = r->host->count(Call::Free);
	assert_int_equal(r->dev->allocate(allocateInfo(4096), &a), VK_ERROR_OUT_OF_DEVICE_MEMORY);
	assert_int_equal(r->host->count(Call::Free), before + 1);
	assert_null(find(trace(r), VGALLOC_MOCK_CALL_BLOB_CREATE));
	r->host->failHostBlobId = VK_SUCCESS;
	assert_int_equal(r->dev->allocate(allocateInfo(4096), &a), VK_SUCCESS);
	r->dev->free(&a);
	finish(r);
}

/* --- deferredMapping: dedicated, counter blob id, blob at the first map. -------------------- */

void deferred_tags_the_host_allocation_and_makes_the_blob_at_first_map(void **)
{
	Rig *r = makeRig(Mode::Deferred);
	VgallocAllocation a, b;

	assert_int_equal(r->dev->allocate(allocateInfo(5000), &a), VK_SUCCESS);
	assert_false(a.suballocated);
	assert_int_equal(a.path, VGALLOC_PATH_HOST_FIRST_LAZY);
	assert_int_equal(a.blobId, 1); // the id the blob will have; no blob yet
	const Call alloc = *r->host->first(Call::Allocate); // a copy: later calls grow the log
	assert_true(alloc.tagged);
	assert_int_equal(alloc.tag.blobMem, VGALLOC_BLOB_MEM_HOST3D);
	assert_int_equal(alloc.tag.blobId, 1); // the driver's counter
	assert_int_equal(r->host->atomicId, 1);
	// The size rounded to the capset's blobAlignment, as gfxstream does.
	assert_int_equal(alloc.info.allocationSize, kBlobAlignment);
	assert_int_equal(handleOf(a.hostMemory), alloc.memory);
	assert_int_equal(r->host->count(Call::HostBlobId), 0);
	expectKinds(trace(r), { VGALLOC_MOCK_CALL_HOST_ALLOC });

	uint8_t *p = nullptr;
	assert_int_equal(r->dev->map(a, &p), VK_SUCCESS);
	auto t = trace(r);
	expectKinds(t, { VGALLOC_MOCK_CALL_BLOB_CREATE, VGALLOC_MOCK_CALL_BLOB_MAP });
	// vkGetBlobGOOGLE came first, for this memory; then the blob with the counter's id.
	assert_int_equal(r->host->calls.back().kind, Call::GetBlob);
	assert_int_equal(r->host->calls.back().memory, alloc.memory);
	auto *blob = find(t, VGALLOC_MOCK_CALL_BLOB_CREATE);
	assert_int_equal(blob->blob_mem, VGALLOC_BLOB_MEM_HOST3D);
	assert_int_equal(blob->blob_flags, VGALLOC_BLOB_FLAG_MAPPABLE);
	assert_int_equal(blob->blob_id, 1);
	assert_int_equal(blob->size, kBlobAlignment);
	memset(p, 0x5a, 5000);
	// A second map is the same pointer, with no kernel call.
	uint8_t *q = nullptr;
	assert_int_equal(r->dev->map(a, &q), VK_SUCCESS);
	assert_ptr_equal(p, q);
	expectKinds(trace(r), {});

	// Memory freed without a map never gets a blob, nor a vkGetBlobGOOGLE.
	assert_int_equal(r->dev->allocate(allocateInfo(4096), &b), VK_SUCCESS);
	r->dev->free(&b);
	expectKinds(trace(r), { VGALLOC_MOCK_CALL_HOST_ALLOC, VGALLOC_MOCK_CALL_HOST_FREE });
	assert_int_equal(r->host->count(Call::GetBlob), 1);

	r->dev->free(&a);
	expectKinds(trace(r), { VGALLOC_MOCK_CALL_BLOB_UNMAP, VGALLOC_MOCK_CALL_BLOB_DESTROY,
	                        VGALLOC_MOCK_CALL_HOST_FREE });
	finish(r);
}

void deferred_get_blob_failure_fails_the_map_only(void **)
{
	Rig *r = makeRig(Mode::Deferred);
	VgallocAllocation a;
	uint8_t *p = nullptr;

	assert_int_equal(r->dev->allocate(allocateInfo(4096), &a), VK_SUCCESS);
	r->host->failGetBlob = VK_ERROR_DEVICE_LOST;
	assert_int_equal(r->dev->map(a, &p), VK_ERROR_MEMORY_MAP_FAILED);
	assert_null(p);
	assert_null(find(trace(r), VGALLOC_MOCK_CALL_BLOB_CREATE));
	r->host->failGetBlob = VK_SUCCESS;
	assert_int_equal(r->dev->map(a, &p), VK_SUCCESS);
	assert_non_null(p);
	r->dev->free(&a);
	finish(r);
}

/* --- Guest handle: CREATE_GUEST_HANDLE = 1. ------------------------------------------------ */

void guest_handle_blob_then_placeholder_then_host_allocation(void **)
{
	Rig *r = makeRig(Mode::GuestHandle);
	VgallocAllocation a;

	assert_int_equal(r->dev->allocate(allocateInfo(5000), &a), VK_SUCCESS);
	assert_false(a.suballocated);
	assert_int_equal(a.path, VGALLOC_PATH_GUEST_HANDLE);
	auto t = trace(r);
	expectKinds(t, { VGALLOC_MOCK_CALL_BLOB_CREATE, VGALLOC_MOCK_CALL_HOST_ROUNDTRIP,
	                 VGALLOC_MOCK_CALL_HOST_IMPORT });
	auto *blob = find(t, VGALLOC_MOCK_CALL_BLOB_CREATE);
	assert_int_equal(blob->blob_mem, VGALLOC_BLOB_MEM_GUEST);
	assert_int_equal(blob->blob_flags,
	                 VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE);
	assert_int_equal(blob->blob_id, 1);
	assert_int_equal(blob->size, kBlobAlignment);
	// Protocol order: counter, placeholder submit and wait, then the tagged host allocation.
	std::vector<Call::Kind> order;
	for (const auto &c : r->host->calls)
		order.push_back(c.kind);
	assert_int_equal(order.size(), 3);
	assert_int_equal(order[0], Call::BlobId);
	assert_int_equal(order[1], Call::Placeholder);
	assert_int_equal(order[2], Call::Allocate);
	const Call &alloc = r->host->calls[2];
	assert_true(alloc.tagged);
	assert_int_equal(alloc.tag.blobMem, VGALLOC_BLOB_MEM_GUEST);
	assert_int_equal(alloc.tag.blobFlags, VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE);
	assert_int_equal(alloc.tag.blobId, 1);
	assert_int_equal(alloc.tag.resId, blob->res_id);
	assert_int_equal(alloc.info.allocationSize, kBlobAlignment);
	assert_int_equal(a.blobId, 1);

	uint8_t *p = nullptr;
	assert_int_equal(r->dev->map(a, &p), VK_SUCCESS);
	expectKinds(trace(r), { VGALLOC_MOCK_CALL_BLOB_MAP });
	memset(p, 0x77, 5000);
	r->dev->free(&a);
	// The blob goes before the host memory (the library's order; gfxstream's is the reverse).
	expectKinds(trace(r), { VGALLOC_MOCK_CALL_BLOB_UNMAP, VGALLOC_MOCK_CALL_BLOB_DESTROY,
	                        VGALLOC_MOCK_CALL_HOST_FREE });
	assert_int_equal(r->host->calls.back().kind, Call::Free);
	assert_int_equal(r->host->calls.back().memory, alloc.memory);
	finish(r);
}

void guest_handle_placeholder_failure_closes_the_blob(void **)
{
	Rig *r = makeRig(Mode::GuestHandle);
	VgallocAllocation a;

	r->host->failPlaceholder = -EIO;
	assert_int_equal(r->dev->allocate(allocateInfo(4096), &a), VK_ERROR_OUT_OF_DEVICE_MEMORY);
	assert_null(a.mem);
	expectKinds(trace(r), { VGALLOC_MOCK_CALL_BLOB_CREATE, VGALLOC_MOCK_CALL_BLOB_DESTROY });
	assert_int_equal(r->host->count(Call::Allocate), 0);
	r->host->failPlaceholder = 0;
	r->host->failAllocate = VK_ERROR_OUT_OF_HOST_MEMORY;
	assert_int_equal(r->dev->allocate(allocateInfo(4096), &a), VK_ERROR_OUT_OF_HOST_MEMORY);
	expectKinds(trace(r), { VGALLOC_MOCK_CALL_BLOB_CREATE, VGALLOC_MOCK_CALL_HOST_ROUNDTRIP,
	                        VGALLOC_MOCK_CALL_BLOB_DESTROY });
	finish(r);
}

/* --- What stays with ResourceTracker. ------------------------------------------------------ */

void takes_only_plain_host_visible_memory(void **)
{
	Rig *r = makeRig(Mode::Blocks);
	VkExportMemoryAllocateInfo exp = {};
	exp.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO;
	VkImportMemoryFdInfoKHR imp = {};
	imp.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR;

	exp.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
	imp.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
	imp.fd = 0;
	assert_true(r->dev->takes(allocateInfo(4096)));
	assert_true(r->dev->takes(allocateInfo(4096, TYPE_CACHED)));
	assert_false(r->dev->takes(allocateInfo(4096, TYPE_DEVICE)));
	// gfxstream's auxiliary command memory.
	assert_false(r->dev->takes(allocateInfo(4096, VK_MAX_MEMORY_TYPES)));
	assert_false(r->dev->takes(allocateInfo(4096, TYPE_COUNT)));
	assert_false(r->dev->takes(allocateInfo(4096, TYPE_COHERENT, &exp)));
	assert_false(r->dev->takes(allocateInfo(4096, TYPE_COHERENT, &imp)));
	assert_false(r->dev->takes(allocateInfo(0)));
	/* A struct of gfxstream's own (VkImportColorBufferGOOGLE's place in the chain), even behind
	 * one the glue knows. */
	VkBaseInStructure foreign = {};
	foreign.sType = static_cast<VkStructureType>(1000268000);
	VkMemoryAllocateFlagsInfo flags = {};
	flags.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
	flags.pNext = &foreign;
	assert_false(r->dev->takes(allocateInfo(4096, TYPE_COHERENT, &foreign)));
	assert_false(r->dev->takes(allocateInfo(4096, TYPE_COHERENT, &flags)));
	flags.pNext = nullptr;
	assert_true(r->dev->takes(allocateInfo(4096, TYPE_COHERENT, &flags)));
	assert_int_equal(r->host->calls.size(), 0);
	finish(r);
}

void create_refuses_a_bad_capset_and_changes_nothing(void **)
{
	vgalloc_mock *mock = nullptr;
	vgalloc_mock_create_info mi = {};
	VulkanCapset caps = {};
	uint64_t params[10] = { 1, 1, 1, 1, 0, 1, 1u << 3, 0, 0, 0 };

	mi.struct_size = sizeof(mi);
	mi.profile = VGALLOC_MOCK_PROFILE_INJECTING;
	mi.supported_capsets = 1u << VGALLOC_CAPSET_GFXSTREAM_VULKAN;
	assert_int_equal(vgalloc_mock_create(&mi, &mock), 0);
	assert_int_equal(vgalloc_mock_context_init(mock, VGALLOC_CAPSET_GFXSTREAM_VULKAN), 0);
	auto host = std::make_shared<MockHost>(mock);
	VgallocDeviceInfo info;
	info.fd = vgalloc_mock_get_fd(mock);
	info.capset = &caps;
	info.capsetSize = sizeof(caps);
	info.params = params;
	info.paramCount = 10;
	info.memoryProperties = memoryProperties();
	info.limits.minMemoryMapAlignment = 64;
	info.limits.nonCoherentAtomSize = 64;
	info.backend = VGALLOC_BACKEND_MOCK;
	info.backendObject = mock;
	std::unique_ptr<VgallocDevice> dev;
	caps.blobAlignment = 6000; // no power of two
	assert_int_equal(VgallocDevice::create(info, host, &dev), VK_ERROR_INITIALIZATION_FAILED);
	assert_true(dev == nullptr);
	caps.blobAlignment = kBlobAlignment;
	assert_int_equal(VgallocDevice::create(info, nullptr, &dev),
	                 VK_ERROR_INITIALIZATION_FAILED);
	info.params = nullptr;
	assert_int_equal(VgallocDevice::create(info, host, &dev), VK_ERROR_INITIALIZATION_FAILED);
	assert_true(dev == nullptr);
	assert_int_equal(host->calls.size(), 0);
	vgalloc_mock_destroy(mock);
}

} // namespace

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocks_share_one_16mib_host_allocation_named_by_the_host),
		cmocka_unit_test(blocks_keep_device_address_memory_apart),
		cmocka_unit_test(blocks_capture_replay_is_dedicated_with_its_address),
		cmocka_unit_test(blocks_host_failures_leave_nothing),
		cmocka_unit_test(deferred_tags_the_host_allocation_and_makes_the_blob_at_first_map),
		cmocka_unit_test(deferred_get_blob_failure_fails_the_map_only),
		cmocka_unit_test(guest_handle_blob_then_placeholder_then_host_allocation),
		cmocka_unit_test(guest_handle_placeholder_failure_closes_the_blob),
		cmocka_unit_test(takes_only_plain_host_visible_memory),
		cmocka_unit_test(create_refuses_a_bad_capset_and_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
