/*
 * SPDX-License-Identifier: MIT
 *
 * The gfxstream guest's host-visible memory through libvgalloc.
 *
 * ResourceTracker keeps its protocol (VkEncoder calls, the placeholder submit) and gives it to
 * the glue as VgallocHostCalls; the glue turns a VkMemoryAllocateInfo into a libvgalloc request
 * and implements libvgalloc's host hooks with those calls. libvgalloc decides, from the capset
 * and the kernel's params, which of gfxstream's three modes an allocation takes:
 *  - block suballocation (deferredMapping = 0): 16 MiB (or larger) host allocations whose blob
 *    id the host assigns (vkGetMemoryHostAddressInfoGOOGLE); the app gets a range of one;
 *  - deferredMapping: one host allocation per app allocation, tagged with a blob id from the
 *    driver's counter (VkCreateBlobGOOGLE), its blob created at the first map (vkGetBlobGOOGLE),
 *    the size rounded to the capset's blobAlignment;
 *  - guest handle (CREATE_GUEST_HANDLE = 1): a GUEST blob the host takes by handle, then the
 *    placeholder submit and its wait, then the host allocation naming the blob id.
 *
 * Nothing here depends on the rest of gfxstream, so the same two files build in Mesa's tree and
 * in libvgalloc's tests, where the calls run against libvgalloc's mock kernel and host.
 */
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>

#include "vgalloc/vgalloc.h"

namespace gfxstream {
namespace vk {

// The VkCreateBlobGOOGLE a host allocation carries.
struct VgallocBlobTag {
    uint32_t blobMem;    // VIRTGPU_BLOB_MEM_HOST3D or _GUEST
    uint32_t blobFlags;  // 0, or VIRTGPU_BLOB_FLAG_CREATE_GUEST_HANDLE (8)
    uint64_t blobId;
    // The guest blob's resource id (guest handle only). The driver does not send it, the host
    // finds the handle by blobId; a host model may need it.
    uint32_t resId;
};

// The driver's protocol, one call each, synchronous as VkEncoder's calls are. Called from
// inside the glue's allocate(), map() and free() (and device destruction, for retained blocks),
// on the calling thread, never with a glue lock held.
class VgallocHostCalls {
   public:
    virtual ~VgallocHostCalls() = default;
    // The host's vkAllocateMemory of `info` (which may chain VkMemoryAllocateFlagsInfo and
    // VkMemoryOpaqueCaptureAddressAllocateInfo), with `tag` chained as VkCreateBlobGOOGLE when
    // it is not null.
    virtual VkResult allocateMemory(const VkMemoryAllocateInfo& info, const VgallocBlobTag* tag,
                                    VkDeviceMemory* memory) = 0;
    // vkGetMemoryHostAddressInfoGOOGLE: the blob id the host gave `memory`.
    virtual VkResult getHostBlobId(VkDeviceMemory memory, uint64_t* blobId) = 0;
    // vkGetBlobGOOGLE: the host makes the blob of `memory` ready for CREATE_BLOB.
    virtual VkResult getBlob(VkDeviceMemory memory) = 0;
    // vkFreeMemorySyncGOOGLE.
    virtual void freeMemory(VkDeviceMemory memory) = 0;
    // The placeholder command on ring 1 and a wait on it: the renderer has filed the handle of
    // every GUEST blob created so far (guest handle), or has seen a blob that was created with
    // its memory and is freed without ever being mapped (at free, before freeMemory). 0 or
    // -errno.
    virtual int submitPlaceholderAndWait() = 0;
    // The next blob id of the driver's counter (ResourceTracker::mAtomicId), never 0.
    virtual uint64_t nextBlobId() = 0;
};

// What VirtGpuDevice and the physical device report.
struct VgallocDeviceInfo {
    // The driver's render node and context (CONTEXT_INIT done): borrowed for the device's life.
    int fd = -1;
    // mCaps.vulkanCapset as GET_CAPS filled it (at least blobAlignment's offset + 4 bytes).
    const void* capset = nullptr;
    uint32_t capsetSize = 0;
    // mCaps.params in VirtGpuDevice's order: params[i] is kernel param i + 1 (a param the
    // kernel lacks reads 0).
    const uint64_t* params = nullptr;
    uint32_t paramCount = 0;
    VkPhysicalDeviceMemoryProperties memoryProperties = {};
    VkPhysicalDeviceLimits limits = {};
    // VGALLOC_BACKEND_VIRTGPU in the driver; tests pass libvgalloc's mock.
    uint32_t backend = VGALLOC_BACKEND_VIRTGPU;
    void* backendObject = nullptr;
};

// One VkDeviceMemory that libvgalloc placed: what ResourceTracker keeps in VkDeviceMemory_Info
// and what deviceMemoryTransform_tohost sends instead of the app's handle.
struct VgallocAllocation {
    struct vgalloc_mem* mem = nullptr;
    // The host's memory: the app's own allocation, or the block it is a range of. Fixed for
    // the allocation's life.
    VkDeviceMemory hostMemory = VK_NULL_HANDLE;
    uint64_t offset = 0;  // of the app's range in hostMemory (coherentMemoryOffset)
    // The blob's id (the block's when suballocated); under deferredMapping the id its blob will
    // be created with at the first map.
    uint64_t blobId = 0;
    bool suballocated = false;
    enum vgalloc_path path = VGALLOC_PATH_UNSUPPORTED;
};

class VgallocDevice {
   public:
    // Creates libvgalloc's device in adopt mode on info.fd with the gfxstream flavour and
    // capset. The device shares `calls` (its hooks run until the device is destroyed). Returns
    // VK_SUCCESS, or VK_ERROR_INITIALIZATION_FAILED with *out unchanged (the driver then keeps
    // its own path). Runs no hook and no host call.
    static VkResult create(const VgallocDeviceInfo& info, std::shared_ptr<VgallocHostCalls> calls,
                           std::unique_ptr<VgallocDevice>* out);
    // Frees every allocation still alive and the retained blocks (host calls run here).
    ~VgallocDevice();

    // Whether allocate() takes this request: a host-visible type of the device and a chain of
    // only VkMemoryAllocateFlagsInfo, VkMemoryOpaqueCaptureAddressAllocateInfo,
    // VkMemoryDedicatedAllocateInfo and VkMemoryPriorityAllocateInfoEXT. gfxstream's auxiliary
    // command memory (memoryTypeIndex VK_MAX_MEMORY_TYPES), exports, imports and gfxstream's own
    // structs stay with ResourceTracker.
    bool takes(const VkMemoryAllocateInfo& info) const;
    // Allocates `info` (for which takes() is true). Thread-safe. On failure nothing is left on
    // either side and *out is unchanged.
    VkResult allocate(const VkMemoryAllocateInfo& info, VgallocAllocation* out);
    // The allocation's first byte in the guest, mapped once; the pointer stays valid until
    // free(). Thread-safe.
    VkResult map(const VgallocAllocation& allocation, uint8_t** ptr);
    // Frees the allocation (a range goes back to its block) and resets *allocation. Vulkan
    // forbids freeing memory another thread is mapping; if it happens anyway the library
    // refuses (-EBUSY) and the allocation is kept, which this reports as false.
    bool free(VgallocAllocation* allocation);

    struct vgalloc_device* device() const {
        return mDevice;
    }

   private:
    VgallocDevice() = default;
    VgallocDevice(const VgallocDevice&) = delete;
    VgallocDevice& operator=(const VgallocDevice&) = delete;

    static uint64_t hookNewBlobId(void* ctx);
    static int hookHostAlloc(void* ctx, void* userData, const struct vgalloc_host_alloc_args* args,
                             struct vgalloc_host_result* out);
    static int hookHostWait(void* ctx, uint64_t token, uint32_t flags, void* cmd,
                            uint32_t* inoutCmdSize);
    static int hookHostRoundtrip(void* ctx);
    static int hookHostImport(void* ctx, void* userData, const struct vgalloc_host_alloc_args* args,
                              struct vgalloc_host_result* out);
    static void hookHostFree(void* ctx, void* userData, uint64_t hostHandle);

    std::shared_ptr<VgallocHostCalls> mCalls;
    struct vgalloc_device* mDevice = nullptr;
    bool mDeferredMapping = false;
    uint32_t mTypeCount = 0;
    uint32_t mHostVisibleTypes = 0;  // bit i: memory type i is host-visible
};

}  // namespace vk
}  // namespace gfxstream
