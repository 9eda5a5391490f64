/*
 * SPDX-License-Identifier: MIT
 */
#include "VgallocGlue.h"

#include <cerrno>
#include <cstring>
#include <type_traits>

#include "vgalloc/vgalloc_capset.h"
#include "vgalloc/vgalloc_vulkan.h"

namespace gfxstream {
namespace vk {

namespace {

// libvgalloc names host memory with 64 bits; VkDeviceMemory is a pointer on 64-bit builds and a
// uint64_t elsewhere (templates, so that only the matching branch is compiled).
template <typename Handle>
uint64_t toHandle(Handle memory) {
    if constexpr (std::is_pointer_v<Handle>) {
        return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(memory));
    } else {
        return static_cast<uint64_t>(memory);
    }
}

template <typename Handle = VkDeviceMemory>
Handle fromHandle(uint64_t handle) {
    if constexpr (std::is_pointer_v<Handle>) {
        return reinterpret_cast<Handle>(static_cast<uintptr_t>(handle));
    } else {
        return static_cast<Handle>(handle);
    }
}

// What a failed host call tells libvgalloc, chosen so that vgalloc_vk_result() gives the app
// the host's VkResult back. The host running out of device memory is not the guest's window
// being full (-ENOSPC, on which the library trims and shrinks its blocks): -EIO.
int toErrno(VkResult result) {
    switch (result) {
        case VK_SUCCESS:
            return 0;
        case VK_ERROR_OUT_OF_HOST_MEMORY:
            return -ENOMEM;
        case VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS:
            return -EADDRINUSE;
        default:
            return -EIO;
    }
}

template <typename T>
const T* findStruct(const void* chain, VkStructureType sType) {
    for (auto* s = static_cast<const VkBaseInStructure*>(chain); s; s = s->pNext) {
        if (s->sType == sType) return reinterpret_cast<const T*>(s);
    }
    return nullptr;
}

// The host allocation libvgalloc asks for: `args` says size, type and flags; the app's own
// allocation (userData, only while allocate() runs) also carries its capture address.
struct HostAllocateInfo {
    VkMemoryAllocateInfo info = {};
    VkMemoryAllocateFlagsInfo flags = {};
    VkMemoryOpaqueCaptureAddressAllocateInfo capture = {};

    HostAllocateInfo(const vgalloc_host_alloc_args& args, const void* userData) {
        auto* app = static_cast<const VkMemoryAllocateInfo*>(userData);
        const void** next = &info.pNext;

        info.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
        flags.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO;
        capture.sType = VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO;
        info.allocationSize = args.size;
        info.memoryTypeIndex = args.memory_type;
        auto* appFlags = app ? findStruct<VkMemoryAllocateFlagsInfo>(
                                   app->pNext, VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO)
                             : nullptr;
        uint32_t allocateFlags = args.allocate_flags;
        // A pool block has no app mask to send, and gfxstream exposes one physical device: the
        // block is allocated without one.
        if (!appFlags) allocateFlags &= ~uint32_t(VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT);
        if (allocateFlags) {
            flags.flags = allocateFlags;
            flags.deviceMask =
                (allocateFlags & VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT) ? appFlags->deviceMask : 0;
            *next = &flags;
            next = &flags.pNext;
        }
        auto* appCapture =
            app ? findStruct<VkMemoryOpaqueCaptureAddressAllocateInfo>(
                      app->pNext, VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO)
                : nullptr;
        if (appCapture) {
            capture.opaqueCaptureAddress = appCapture->opaqueCaptureAddress;
            *next = &capture;
        }
    }
};

}  // namespace

VkResult VgallocDevice::create(const VgallocDeviceInfo& info,
                               std::shared_ptr<VgallocHostCalls> calls,
                               std::unique_ptr<VgallocDevice>* out) {
    vgalloc_capset_info caps = {};
    vgalloc_memory_type types[VK_MAX_MEMORY_TYPES];
    const auto& props = info.memoryProperties;

    if (!calls || !out || !info.capset || !info.params ||
        props.memoryTypeCount > VK_MAX_MEMORY_TYPES) {
        return VK_ERROR_INITIALIZATION_FAILED;
    }
    caps.struct_size = sizeof(caps);
    if (vgalloc_capset_parse(VGALLOC_CAPSET_GFXSTREAM_VULKAN, info.capset, info.capsetSize,
                             VGALLOC_CAPSET_FROM_DEVICE, &caps)) {
        return VK_ERROR_INITIALIZATION_FAILED;
    }

    std::unique_ptr<VgallocDevice> dev(new VgallocDevice);
    dev->mCalls = std::move(calls);
    dev->mDeferredMapping = caps.u.gfxstream_vulkan.deferred_mapping != 0;
    dev->mTypeCount = props.memoryTypeCount;
    for (uint32_t i = 0; i < props.memoryTypeCount; i++) {
        if (vgalloc_vk_memory_type_from_properties(&props, i, &info.limits, true, &types[i])) {
            return VK_ERROR_INITIALIZATION_FAILED;
        }
        if (props.memoryTypes[i].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
            dev->mHostVisibleTypes |= 1u << i;
        }
    }

    vgalloc_host_hooks hooks = {};
    hooks.struct_size = sizeof(hooks);
    // VkEncoder's calls are synchronous: the host runs them in the order they are made.
    hooks.flags = VGALLOC_HOOKS_IN_ORDER;
    hooks.ctx = dev.get();
    hooks.new_blob_id = hookNewBlobId;
    hooks.host_alloc = hookHostAlloc;
    hooks.host_wait = hookHostWait;
    hooks.host_roundtrip = hookHostRoundtrip;
    hooks.host_import = hookHostImport;
    hooks.host_free = hookHostFree;

    vgalloc_device_create_info ci = {};
    ci.struct_size = sizeof(ci);
    ci.backend = info.backend;
    ci.backend_object = info.backendObject;
    ci.mode = VGALLOC_DEVICE_MODE_ADOPT;
    ci.flags = VGALLOC_DEVICE_CONTEXT_READY;
    ci.fd = info.fd;
    ci.flavour = VGALLOC_FLAVOUR_GFXSTREAM;
    ci.capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN;
    ci.capset_data = info.capset;
    ci.capset_size = info.capsetSize;
    // VirtGpuDevice asked for every param and keeps 0 for one the kernel refused, which is
    // what libvgalloc reads for an absent one.
    for (uint32_t i = 0; i < info.paramCount && i + 1 <= VGALLOC_PARAM_MAX; i++) {
        ci.params[i + 1] = info.params[i];
        ci.params_present |= 1u << (i + 1);
    }
    ci.memory_types = types;
    ci.memory_type_count = props.memoryTypeCount;
    ci.hooks = &hooks;
    if (vgalloc_device_create(&ci, &dev->mDevice)) {
        return VK_ERROR_INITIALIZATION_FAILED;
    }
    *out = std::move(dev);
    return VK_SUCCESS;
}

VgallocDevice::~VgallocDevice() { vgalloc_device_destroy(mDevice); }

bool VgallocDevice::takes(const VkMemoryAllocateInfo& info) const {
    vgalloc_request req;

    if (info.memoryTypeIndex >= mTypeCount || !(mHostVisibleTypes & (1u << info.memoryTypeIndex)))
        return false;
    // Only chains libvgalloc expresses whole: an import, an export or a gfxstream struct
    // (VkImportColorBufferGOOGLE, ...) keeps the driver's own path.
    for (auto* s = static_cast<const VkBaseInStructure*>(info.pNext); s; s = s->pNext) {
        switch (s->sType) {
            case VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO:
            case VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO:
            case VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO:
            case VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT:
                break;
            default:
                return false;
        }
    }
    if (vgalloc_vk_request_from_allocate_info(&info, nullptr, mTypeCount, &req)) return false;
    return !req.export_handle_types &&
           !(req.flags & (VGALLOC_REQUEST_IMPORT_FD | VGALLOC_REQUEST_IMPORT_HOST_POINTER |
                          VGALLOC_REQUEST_IMPORT_AHB));
}

VkResult VgallocDevice::allocate(const VkMemoryAllocateInfo& info, VgallocAllocation* out) {
    vgalloc_request req;
    vgalloc_mem* mem = nullptr;
    int ret = vgalloc_vk_request_from_allocate_info(&info, nullptr, mTypeCount, &req);

    if (!ret) {
        // The host hooks of the app's own allocation run inside this call and read its chain.
        req.user_data = const_cast<VkMemoryAllocateInfo*>(&info);
        ret = vgalloc_mem_alloc(mDevice, &req, &mem);
    }
    if (ret) return vgalloc_vk_result(vgalloc_vk_allocate_info_command(&info), ret);

    vgalloc_mem_info mi = {};
    mi.struct_size = sizeof(mi);
    vgalloc_mem_get_info(mDevice, mem, &mi);
    out->mem = mem;
    out->hostMemory = fromHandle(mi.host_handle);
    out->offset = mi.offset;
    out->blobId = mi.blob_id;
    out->suballocated = mi.flags & VGALLOC_MEM_INFO_SUBALLOCATED;
    out->path = static_cast<vgalloc_path>(mi.path);
    return VK_SUCCESS;
}

VkResult VgallocDevice::map(const VgallocAllocation& allocation, uint8_t** ptr) {
    void* p = nullptr;
    int ret = vgalloc_mem_map(mDevice, allocation.mem, &p);

    if (ret) return vgalloc_vk_result(VGALLOC_VK_MAP_MEMORY, ret);
    *ptr = static_cast<uint8_t*>(p);
    return VK_SUCCESS;
}

bool VgallocDevice::free(VgallocAllocation* allocation) {
    if (allocation->mem && vgalloc_mem_free(mDevice, allocation->mem)) return false;
    *allocation = VgallocAllocation();
    return true;
}

uint64_t VgallocDevice::hookNewBlobId(void* ctx) {
    return static_cast<VgallocDevice*>(ctx)->mCalls->nextBlobId();
}

// Host-first. Under deferredMapping the allocation is tagged with the blob id libvgalloc got
// from new_blob_id and its blob waits for the first map (vkGetBlobGOOGLE in host_wait, which
// the pending token asks for). Otherwise the host names the blob and libvgalloc creates it now
// with the host's id.
int VgallocDevice::hookHostAlloc(void* ctx, void* userData, const vgalloc_host_alloc_args* args,
                                 vgalloc_host_result* out) {
    auto* dev = static_cast<VgallocDevice*>(ctx);
    HostAllocateInfo host(*args, userData);
    const VgallocBlobTag tag = {VGALLOC_BLOB_MEM_HOST3D, 0, args->blob_id, 0};
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result =
        dev->mCalls->allocateMemory(host.info, dev->mDeferredMapping ? &tag : nullptr, &memory);

    if (result != VK_SUCCESS) return toErrno(result);
    out->host_handle = toHandle(memory);
    if (dev->mDeferredMapping) {
        out->flags = VGALLOC_HOST_RESULT_PENDING;
        out->token = toHandle(memory);
        return 0;
    }
    uint64_t blobId = 0;
    result = dev->mCalls->getHostBlobId(memory, &blobId);
    if (result != VK_SUCCESS || !blobId) {
        dev->mCalls->freeMemory(memory);
        return result != VK_SUCCESS ? toErrno(result) : -EIO;
    }
    out->flags = VGALLOC_HOST_RESULT_BLOB_ID;
    out->blob_id = blobId;
    return 0;
}

// Only for a pending token, so only under deferredMapping, right before the first map's
// CREATE_BLOB. The calls are in order, so nothing is left to wait for at release.
int VgallocDevice::hookHostWait(void* ctx, uint64_t token, uint32_t flags, void* cmd,
                                uint32_t* inoutCmdSize) {
    auto* dev = static_cast<VgallocDevice*>(ctx);

    (void)flags;
    if (cmd) *inoutCmdSize = 0;
    return toErrno(dev->mCalls->getBlob(fromHandle(token)));
}

int VgallocDevice::hookHostRoundtrip(void* ctx) {
    return static_cast<VgallocDevice*>(ctx)->mCalls->submitPlaceholderAndWait();
}

// The guest-handle path: the host allocation takes the OS handle the host filed under the blob
// id, as allocateCoherentMemory's VkCreateBlobGOOGLE{GUEST, CREATE_GUEST_HANDLE} does.
int VgallocDevice::hookHostImport(void* ctx, void* userData, const vgalloc_host_alloc_args* args,
                                  vgalloc_host_result* out) {
    auto* dev = static_cast<VgallocDevice*>(ctx);
    HostAllocateInfo host(*args, userData);
    const VgallocBlobTag tag = {VGALLOC_BLOB_MEM_GUEST, VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE,
                                args->blob_id, args->res_id};
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkResult result = dev->mCalls->allocateMemory(host.info, &tag, &memory);

    if (result != VK_SUCCESS) return toErrno(result);
    out->host_handle = toHandle(memory);
    return 0;
}

void VgallocDevice::hookHostFree(void* ctx, void* userData, uint64_t hostHandle) {
    (void)userData;  // the app's allocate info is gone by now
    static_cast<VgallocDevice*>(ctx)->mCalls->freeMemory(fromHandle(hostHandle));
}

}  // namespace vk
}  // namespace gfxstream
