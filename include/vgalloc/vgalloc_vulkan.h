/* SPDX-License-Identifier: MIT */
/*
 * Vulkan helpers for libvgalloc consumers: VkMemoryAllocateInfo → struct vgalloc_request, host
 * memory properties → struct vgalloc_memory_type and the guest's memory-type list, and -errno →
 * the VkResult each Vulkan command is allowed to return (DESIGN §4 rule 7).
 * Header-only (static inline) so that the library itself never depends on Vulkan; it needs only
 * <vulkan/vulkan_core.h> (tested against Debian 12's 1.3.239) and links nothing.
 */
#ifndef VGALLOC_VGALLOC_VULKAN_H
#define VGALLOC_VGALLOC_VULKAN_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vulkan/vulkan_core.h>

#include "vgalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Values newer than Debian 12's headers (1.3.239). Enumerators cannot be tested with #ifdef, so
 * each block is keyed on the extension's own macro, which every header that carries the
 * extension defines. Values are the registry's (vk.xml): extension number N gives
 * 1000000000 + (N - 1) * 1000 + offset.
 */

/* VK_KHR_map_memory2 (extension 272; headers 1.3.251, promoted to Vulkan 1.4). */
#ifndef VK_KHR_map_memory2
#define VK_STRUCTURE_TYPE_MEMORY_MAP_INFO_KHR   ((VkStructureType)1000271000)
#define VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO_KHR ((VkStructureType)1000271001)
#endif

/* VK_EXT_map_memory_placed (extension 273): placed maps turn suballocation of host-visible
 * memory off (the device's placed_maps trait, VGALLOC_REQUEST_PLACED_MAP). */
#ifndef VK_EXT_map_memory_placed
#define VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAP_MEMORY_PLACED_FEATURES_EXT \
	((VkStructureType)1000272000)
#define VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAP_MEMORY_PLACED_PROPERTIES_EXT \
	((VkStructureType)1000272001)
#define VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT ((VkStructureType)1000272002)
#define VK_MEMORY_MAP_PLACED_BIT_EXT                 0x00000001u /* VkMemoryMapFlagBits */
#define VK_MEMORY_UNMAP_RESERVE_BIT_EXT              0x00000001u /* VkMemoryUnmapFlagBitsKHR */
#endif

/* VK_EXT_zero_initialize_device_memory (extension 621). */
#ifndef VK_EXT_zero_initialize_device_memory
#define VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ZERO_INITIALIZE_DEVICE_MEMORY_FEATURES_EXT \
	((VkStructureType)1000620000)
#define VK_MEMORY_ALLOCATE_ZERO_INITIALIZE_BIT_EXT 0x00000008u /* VkMemoryAllocateFlagBits */
#endif

/*
 * VkImportAndroidHardwareBufferInfoANDROID lives in vulkan_android.h, which non-Android builds
 * never include; its sType (VK_ANDROID_external_memory_android_hardware_buffer, extension 130,
 * offset 3 = 1000129003) is in vulkan_core.h's VkStructureType on every 1.1+ header. This mirror
 * has the struct's exact layout, so the helper can see the buffer pointer on any platform.
 * (1000129004 is VkMemoryGetAndroidHardwareBufferInfoANDROID, an export query, not an import.)
 */
struct vgalloc_vk_import_ahb_info {
	VkStructureType sType; /* VK_STRUCTURE_TYPE_IMPORT_ANDROID_HARDWARE_BUFFER_INFO_ANDROID */
	const void *pNext;
	void *buffer; /* struct AHardwareBuffer * */
};

#ifdef __cplusplus
#define VGALLOC_VK_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define VGALLOC_VK_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* vgalloc.h states that its values are Vulkan's; hold it to that. */
VGALLOC_VK_STATIC_ASSERT((uint32_t)VGALLOC_HANDLE_TYPE_OPAQUE_FD ==
                                         (uint32_t)VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT &&
                                 (uint32_t)VGALLOC_HANDLE_TYPE_DMA_BUF ==
                                         (uint32_t)VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
                         "vgalloc handle types are Vulkan's");
VGALLOC_VK_STATIC_ASSERT(
        (uint32_t)VGALLOC_ALLOCATE_DEVICE_MASK == (uint32_t)VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT &&
                (uint32_t)VGALLOC_ALLOCATE_DEVICE_ADDRESS ==
                        (uint32_t)VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT &&
                (uint32_t)VGALLOC_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY ==
                        (uint32_t)VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT &&
                (uint32_t)VGALLOC_ALLOCATE_ZERO_INITIALIZE ==
                        (uint32_t)VK_MEMORY_ALLOCATE_ZERO_INITIALIZE_BIT_EXT,
        "vgalloc allocate flags are Vulkan's");
VGALLOC_VK_STATIC_ASSERT((uint32_t)VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL ==
                                         (uint32_t)VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT &&
                                 (uint32_t)VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE ==
                                         (uint32_t)VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT &&
                                 (uint32_t)VGALLOC_MEMORY_PROPERTY_HOST_COHERENT ==
                                         (uint32_t)VK_MEMORY_PROPERTY_HOST_COHERENT_BIT &&
                                 (uint32_t)VGALLOC_MEMORY_PROPERTY_HOST_CACHED ==
                                         (uint32_t)VK_MEMORY_PROPERTY_HOST_CACHED_BIT &&
                                 (uint32_t)VGALLOC_MEMORY_PROPERTY_LAZILY_ALLOCATED ==
                                         (uint32_t)VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT &&
                                 (uint32_t)VGALLOC_MEMORY_PROPERTY_PROTECTED ==
                                         (uint32_t)VK_MEMORY_PROPERTY_PROTECTED_BIT,
                         "vgalloc memory properties are Vulkan's");
#ifdef VK_ANDROID_external_memory_android_hardware_buffer
VGALLOC_VK_STATIC_ASSERT(sizeof(struct vgalloc_vk_import_ahb_info) ==
                                         sizeof(VkImportAndroidHardwareBufferInfoANDROID) &&
                                 offsetof(struct vgalloc_vk_import_ahb_info, buffer) ==
                                         offsetof(VkImportAndroidHardwareBufferInfoANDROID, buffer),
                         "AHB import mirror matches vulkan_android.h");
#endif

/** Longest pNext chain the helper walks; a longer (or cyclic) chain is -EINVAL. */
#define VGALLOC_VK_MAX_CHAIN 256u

/* ---------------------------------------------------------------------------------------------
 * VkMemoryAllocateInfo → request.
 */

/**
 * Build a vgalloc_request from a guest's VkMemoryAllocateInfo.
 *
 * The pNext chain is walked by sType; of a struct the helper does not know it reads only sType
 * and pNext (as a driver does, it ignores it). The first struct of each sType counts; later
 * duplicates (invalid usage) are ignored.
 *  - VkExportMemoryAllocateInfo.handleTypes → export_handle_types (OPAQUE_FD, DMA_BUF).
 *  - VkImportMemoryFdInfoKHR with handleType OPAQUE_FD or DMA_BUF → VGALLOC_REQUEST_IMPORT_FD
 *    and import_fd; handleType 0 is no import (as the spec says). The fd is passed through as
 *    given: a bad one is refused by vgalloc_mem_alloc() with -EINVAL, which
 *    vgalloc_vk_result(VGALLOC_VK_ALLOCATE_MEMORY_IMPORT, ...) turns into
 *    VK_ERROR_INVALID_EXTERNAL_HANDLE.
 *  - VkMemoryDedicatedAllocateInfo → DEDICATED_IMAGE (image set) or DEDICATED_BUFFER (buffer
 *    set); both set is -EINVAL.
 *  - VkMemoryAllocateFlagsInfo.flags → allocate_flags (deviceMask is ignored: one device).
 *  - VkMemoryOpaqueCaptureAddressAllocateInfo → opaque_capture_address.
 *  - VkMemoryPriorityAllocateInfoEXT → VGALLOC_REQUEST_PRIORITY and priority.
 *  - VkImportMemoryHostPointerInfoEXT with a host handle type → IMPORT_HOST_POINTER, and
 *    VkImportAndroidHardwareBufferInfoANDROID with a buffer → IMPORT_AHB: recognised by sType
 *    (the latter even without vulkan_android.h) so that the policy never suballocates them; the
 *    pointer itself travels in the consumer's user_data.
 * memoryTypeIndex is the guest's index; it becomes guest_to_host[index] (NULL: identity), the
 * host index the library's memory types are keyed by. Flags the allocate info cannot say
 * (DEDICATED_REQUIRED, WSI, PLACED_MAP, BLOB_ID) and user_data are the caller's to add.
 *
 * Ownership: nothing is kept; an import fd stays the caller's (Vulkan: the driver owns it after
 * a successful vkAllocateMemory). Thread safety: pure, any thread.
 * Return: 0 and *out (struct_size set, alignment 0); on error *out is untouched:
 *         -EINVAL (NULL, sType not MEMORY_ALLOCATE_INFO, allocationSize 0, memoryTypeIndex ≥
 *         guest_type_count, both dedicated handles, two imports at once, a chain longer than
 *         VGALLOC_VK_MAX_CHAIN); -EOPNOTSUPP (an export or import handle type other than
 *         OPAQUE_FD/DMA_BUF — or a host type for a host pointer — or an allocate flag bit this
 *         header does not know).
 */
static inline int vgalloc_vk_request_from_allocate_info(const VkMemoryAllocateInfo *info,
                                                        const uint32_t *guest_to_host,
                                                        uint32_t guest_type_count,
                                                        struct vgalloc_request *out)
{
	const uint32_t fd_types = (uint32_t)VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT |
	                          (uint32_t)VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT;
	/* Exactly enum vgalloc_allocate_flag (asserted above): the request never carries a bit
	 * that vgalloc_mem_alloc() refuses. */
	const uint32_t known_allocate_flags =
	        (uint32_t)VK_MEMORY_ALLOCATE_DEVICE_MASK_BIT |
	        (uint32_t)VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT |
	        (uint32_t)VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT |
	        (uint32_t)VK_MEMORY_ALLOCATE_ZERO_INITIALIZE_BIT_EXT;
	/* One bit per recognised struct, so that only the first of each sType counts. */
	enum {
		SEEN_EXPORT = 1u << 0,
		SEEN_IMPORT_FD = 1u << 1,
		SEEN_DEDICATED = 1u << 2,
		SEEN_FLAGS = 1u << 3,
		SEEN_CAPTURE = 1u << 4,
		SEEN_PRIORITY = 1u << 5,
		SEEN_HOST_POINTER = 1u << 6,
		SEEN_AHB = 1u << 7,
	};
	const uint32_t imports = (uint32_t)VGALLOC_REQUEST_IMPORT_FD |
	                         (uint32_t)VGALLOC_REQUEST_IMPORT_HOST_POINTER |
	                         (uint32_t)VGALLOC_REQUEST_IMPORT_AHB;
	struct vgalloc_request req;
	const VkBaseInStructure *s;
	uint32_t seen = 0;
	uint32_t links = 0;
	uint32_t import_bits;

	if (!info || !out || info->sType != VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO ||
	    info->allocationSize == 0 || info->memoryTypeIndex >= guest_type_count) {
		return -EINVAL;
	}

	memset(&req, 0, sizeof(req));
	req.struct_size = (uint32_t)sizeof(req);
	req.size = info->allocationSize;
	req.memory_type =
	        guest_to_host ? guest_to_host[info->memoryTypeIndex] : info->memoryTypeIndex;
	req.import_fd = -1;

	for (s = (const VkBaseInStructure *)info->pNext; s; s = s->pNext) {
		if (++links > VGALLOC_VK_MAX_CHAIN) {
			return -EINVAL;
		}
		switch (s->sType) {
		case VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO: {
			const VkExportMemoryAllocateInfo *e = (const VkExportMemoryAllocateInfo *)s;

			if (seen & SEEN_EXPORT) {
				break;
			}
			seen |= SEEN_EXPORT;
			if ((uint32_t)e->handleTypes & ~fd_types) {
				return -EOPNOTSUPP;
			}
			req.export_handle_types = (uint32_t)e->handleTypes;
			break;
		}
		case VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR: {
			const VkImportMemoryFdInfoKHR *i = (const VkImportMemoryFdInfoKHR *)s;

			if (seen & SEEN_IMPORT_FD) {
				break;
			}
			seen |= SEEN_IMPORT_FD;
			if (i->handleType == 0) {
				break; /* the spec: handleType 0 imports nothing */
			}
			/* Exactly one bit, and one the guest can import (a dma-buf either way). */
			if (((uint32_t)i->handleType & ((uint32_t)i->handleType - 1u)) ||
			    !((uint32_t)i->handleType & fd_types)) {
				return -EOPNOTSUPP;
			}
			req.flags |= VGALLOC_REQUEST_IMPORT_FD;
			req.import_fd = i->fd;
			break;
		}
		case VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO: {
			const VkMemoryDedicatedAllocateInfo *d =
			        (const VkMemoryDedicatedAllocateInfo *)s;

			if (seen & SEEN_DEDICATED) {
				break;
			}
			seen |= SEEN_DEDICATED;
			if (d->image != VK_NULL_HANDLE && d->buffer != VK_NULL_HANDLE) {
				return -EINVAL;
			}
			if (d->image != VK_NULL_HANDLE) {
				req.flags |= VGALLOC_REQUEST_DEDICATED_IMAGE;
			} else if (d->buffer != VK_NULL_HANDLE) {
				req.flags |= VGALLOC_REQUEST_DEDICATED_BUFFER;
			}
			break;
		}
		case VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO: {
			const VkMemoryAllocateFlagsInfo *f = (const VkMemoryAllocateFlagsInfo *)s;

			if (seen & SEEN_FLAGS) {
				break;
			}
			seen |= SEEN_FLAGS;
			/* An unknown bit is a feature the guest never advertised: refuse rather
			 * than allocate memory that silently lacks it. */
			if ((uint32_t)f->flags & ~known_allocate_flags) {
				return -EOPNOTSUPP;
			}
			req.allocate_flags = (uint32_t)f->flags;
			break;
		}
		case VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO: {
			const VkMemoryOpaqueCaptureAddressAllocateInfo *c =
			        (const VkMemoryOpaqueCaptureAddressAllocateInfo *)s;

			if (seen & SEEN_CAPTURE) {
				break;
			}
			seen |= SEEN_CAPTURE;
			req.opaque_capture_address = c->opaqueCaptureAddress;
			break;
		}
		case VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT: {
			const VkMemoryPriorityAllocateInfoEXT *p =
			        (const VkMemoryPriorityAllocateInfoEXT *)s;

			if (seen & SEEN_PRIORITY) {
				break;
			}
			seen |= SEEN_PRIORITY;
			req.flags |= VGALLOC_REQUEST_PRIORITY;
			req.priority = p->priority;
			break;
		}
		case VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT: {
			const VkImportMemoryHostPointerInfoEXT *h =
			        (const VkImportMemoryHostPointerInfoEXT *)s;

			if (seen & SEEN_HOST_POINTER) {
				break;
			}
			seen |= SEEN_HOST_POINTER;
			if (h->handleType == 0) {
				break;
			}
			switch (h->handleType) {
			case VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT:
			case VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_MAPPED_FOREIGN_MEMORY_BIT_EXT:
				break;
			default:
				return -EOPNOTSUPP;
			}
			req.flags |= VGALLOC_REQUEST_IMPORT_HOST_POINTER;
			break;
		}
		case VK_STRUCTURE_TYPE_IMPORT_ANDROID_HARDWARE_BUFFER_INFO_ANDROID: {
			const struct vgalloc_vk_import_ahb_info *a =
			        (const struct vgalloc_vk_import_ahb_info *)(const void *)s;

			if (seen & SEEN_AHB) {
				break;
			}
			seen |= SEEN_AHB;
			if (a->buffer) {
				req.flags |= VGALLOC_REQUEST_IMPORT_AHB;
			}
			break;
		}
		default:
			break;
		}
	}

	import_bits = req.flags & imports;
	if (import_bits & (import_bits - 1u)) {
		return -EINVAL; /* at most one import per allocation (valid usage) */
	}
	*out = req;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Memory types.
 */

/**
 * Describe host memory type `host_index` for vgalloc_device_create_info's memory types.
 * property_flags are the host's, except that a host-visible type that is not HOST_COHERENT is
 * described without HOST_VISIBLE and HOST_CACHED: the guest never maps it
 * (vgalloc_vk_guest_memory_types() hides it), so the library must not plan blobs or pools of
 * mappable memory for it. Property bits that enum vgalloc_memory_property does not name
 * (DEVICE_COHERENT_AMD, DEVICE_UNCACHED_AMD, RDMA_CAPABLE_NV, ...) are left out: nothing the
 * library decides depends on them, and vgalloc_device_create() refuses unknown bits.
 * base_alignment is left 0: the library derives the pool base alignment from these limits
 * (DESIGN §4 rule 5).
 * Thread safety: pure, any thread.
 * Return: 0 and *out (struct_size set); -EINVAL (NULL, host_index ≥ memoryTypeCount, or a limit
 *         that is not a power of two); *out is untouched on error.
 */
static inline int
vgalloc_vk_memory_type_from_properties(const VkPhysicalDeviceMemoryProperties *props,
                                       uint32_t host_index, const VkPhysicalDeviceLimits *limits,
                                       bool optimal_images, struct vgalloc_memory_type *out)
{
	/* enum vgalloc_memory_property: the Vulkan 1.1 core bits, with Vulkan's values. */
	const uint32_t known_properties = (uint32_t)VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL |
	                                  (uint32_t)VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
	                                  (uint32_t)VGALLOC_MEMORY_PROPERTY_HOST_COHERENT |
	                                  (uint32_t)VGALLOC_MEMORY_PROPERTY_HOST_CACHED |
	                                  (uint32_t)VGALLOC_MEMORY_PROPERTY_LAZILY_ALLOCATED |
	                                  (uint32_t)VGALLOC_MEMORY_PROPERTY_PROTECTED;
	struct vgalloc_memory_type t;
	uint32_t flags;
	uint64_t a[3];

	if (!props || !limits || !out || props->memoryTypeCount > VK_MAX_MEMORY_TYPES ||
	    host_index >= props->memoryTypeCount) {
		return -EINVAL;
	}
	a[0] = (uint64_t)limits->minMemoryMapAlignment;
	a[1] = (uint64_t)limits->nonCoherentAtomSize;
	a[2] = (uint64_t)limits->bufferImageGranularity;
	for (uint32_t i = 0; i < 3; i++) {
		if (a[i] & (a[i] - 1u)) {
			return -EINVAL;
		}
	}
	flags = (uint32_t)props->memoryTypes[host_index].propertyFlags & known_properties;
	if ((flags & (uint32_t)VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
	    !(flags & (uint32_t)VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) {
		flags &= ~((uint32_t)VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
		           (uint32_t)VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
	}

	memset(&t, 0, sizeof(t));
	t.struct_size = (uint32_t)sizeof(t);
	t.host_index = host_index;
	t.property_flags = flags;
	t.flags = optimal_images ? (uint32_t)VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES : 0u;
	t.min_map_alignment = a[0];
	t.non_coherent_atom_size = a[1];
	t.buffer_image_granularity = a[2];
	*out = t;
	return 0;
}

/**
 * The guest's memory types from the host's. Rule chosen: HIDE incoherent host-visible types.
 *
 * Why: a host type that is HOST_VISIBLE but not HOST_COHERENT needs vkFlushMappedMemoryRanges /
 * vkInvalidateMappedMemoryRanges on the *host's* mapping. The guest maps the same pages through
 * the virtio-gpu window with its own page attributes and its flush/invalidate never reaches the
 * host driver, so the guest cannot keep such memory coherent. Emulating it would mean a ring
 * round trip per flush and per invalidate (and trusting that guest and host cache attributes
 * agree); exposing it silently as coherent would corrupt data. Venus hides these types unless
 * the renderer can do cache management; this helper does the same, always:
 *  - an incoherent host-visible type that is not DEVICE_LOCAL is removed from the guest list;
 *  - one that is DEVICE_LOCAL stays as device-only memory (HOST_VISIBLE and HOST_CACHED
 *    stripped): a resource's memoryTypeBits may name it as its only device-local type, and
 *    dropping it would leave that resource no device-local memory at all.
 * Host-coherent and non-host-visible types pass unchanged. The spec requires a host-visible
 * coherent type, so the guest keeps one. The kept types are then stably reordered so that the
 * spec's ordering rule (a type whose flags are a strict subset of another's comes first) holds
 * again after stripping; without stripping the host's order is kept exactly. Heaps are copied
 * unchanged (heap indices stay valid).
 *
 * guest may alias host. guest_to_host receives VK_MAX_MEMORY_TYPES entries at most: guest index →
 * host index. Translate memoryTypeBits with vgalloc_vk_guest_memory_type_bits() and
 * VkMemoryAllocateInfo with vgalloc_vk_request_from_allocate_info(..., guest_to_host, count).
 * Thread safety: pure, any thread.
 * Return: the guest memory type count; 0, leaving guest and guest_to_host untouched, for NULL
 *         arguments, an invalid host count (0 or > VK_MAX_MEMORY_TYPES/HEAPS) or a host whose
 *         every type would be hidden.
 */
static inline uint32_t vgalloc_vk_guest_memory_types(const VkPhysicalDeviceMemoryProperties *host,
                                                     VkPhysicalDeviceMemoryProperties *guest,
                                                     uint32_t *guest_to_host)
{
	const uint32_t hv = (uint32_t)VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
	const uint32_t hc = (uint32_t)VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
	const uint32_t cached = (uint32_t)VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
	const uint32_t dl = (uint32_t)VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
	VkPhysicalDeviceMemoryProperties result;
	uint32_t kept_index[VK_MAX_MEMORY_TYPES];
	uint32_t kept_flags[VK_MAX_MEMORY_TYPES];
	uint32_t map[VK_MAX_MEMORY_TYPES];
	bool done[VK_MAX_MEMORY_TYPES];
	uint32_t kept = 0;
	uint32_t count = 0;

	if (!host || !guest || !guest_to_host || host->memoryTypeCount == 0 ||
	    host->memoryTypeCount > VK_MAX_MEMORY_TYPES ||
	    host->memoryHeapCount > VK_MAX_MEMORY_HEAPS) {
		return 0;
	}

	for (uint32_t i = 0; i < host->memoryTypeCount; i++) {
		uint32_t flags = (uint32_t)host->memoryTypes[i].propertyFlags;

		if ((flags & hv) && !(flags & hc)) {
			if (!(flags & dl)) {
				continue; /* hidden */
			}
			flags &= ~(hv | cached); /* device-only from the guest's side */
		}
		kept_index[kept] = i;
		kept_flags[kept] = flags;
		done[kept] = false;
		kept++;
	}
	if (kept == 0) {
		return 0; /* no host-visible coherent type: not a valid Vulkan host */
	}

	/* Stable topological order over "strict subset of": take, each round, the earliest type
	 * no remaining type is a strict subset of. A valid host order is reproduced as is. */
	while (count < kept) {
		for (uint32_t i = 0; i < kept; i++) {
			bool minimal = !done[i];

			for (uint32_t j = 0; minimal && j < kept; j++) {
				if (j != i && !done[j] && kept_flags[j] != kept_flags[i] &&
				    (kept_flags[j] & kept_flags[i]) == kept_flags[j]) {
					minimal = false;
				}
			}
			if (minimal) {
				map[count++] = i;
				done[i] = true;
				break;
			}
		}
	}

	memset(&result, 0, sizeof(result));
	result.memoryTypeCount = count;
	for (uint32_t g = 0; g < count; g++) {
		uint32_t k = map[g];

		result.memoryTypes[g].propertyFlags = (VkMemoryPropertyFlags)kept_flags[k];
		result.memoryTypes[g].heapIndex = host->memoryTypes[kept_index[k]].heapIndex;
	}
	result.memoryHeapCount = host->memoryHeapCount;
	for (uint32_t h = 0; h < host->memoryHeapCount; h++) {
		result.memoryHeaps[h] = host->memoryHeaps[h];
	}
	*guest = result;
	for (uint32_t g = 0; g < count; g++) {
		guest_to_host[g] = kept_index[map[g]];
	}
	return count;
}

/**
 * Translate a host memoryTypeBits mask (vkGet*MemoryRequirements) to the guest's indices.
 * Host types that the guest hides simply drop out. Thread safety: pure.
 * Return: the guest mask; 0 for a NULL map.
 */
static inline uint32_t vgalloc_vk_guest_memory_type_bits(uint32_t host_bits,
                                                         const uint32_t *guest_to_host,
                                                         uint32_t guest_type_count)
{
	uint32_t bits = 0;

	if (!guest_to_host) {
		return 0;
	}
	for (uint32_t g = 0; g < guest_type_count && g < 32u; g++) {
		if (guest_to_host[g] < 32u && (host_bits & (1u << guest_to_host[g]))) {
			bits |= 1u << g;
		}
	}
	return bits;
}

/* ---------------------------------------------------------------------------------------------
 * -errno → VkResult, per command (DESIGN §4 rule 7).
 *
 * The codes each command may return, from the registry (vk.xml of 1.3.239, "errorcodes"); a
 * driver must never return anything else, so every mapping below ends in one of these:
 *
 *   VGALLOC_VK_* value                  Vulkan command(s): allowed failure codes
 *   ALLOCATE_MEMORY,                    vkAllocateMemory: OUT_OF_HOST_MEMORY,
 *   ALLOCATE_MEMORY_IMPORT                OUT_OF_DEVICE_MEMORY, INVALID_EXTERNAL_HANDLE,
 *                                         INVALID_OPAQUE_CAPTURE_ADDRESS
 *   MAP_MEMORY                          vkMapMemory (vkMapMemory2KHR behaves identically):
 *                                         OUT_OF_HOST_MEMORY, OUT_OF_DEVICE_MEMORY,
 *                                         MEMORY_MAP_FAILED
 *   GET_MEMORY_FD                       vkGetMemoryFdKHR: TOO_MANY_OBJECTS, OUT_OF_HOST_MEMORY
 *   GET_MEMORY_FD_PROPERTIES            vkGetMemoryFdPropertiesKHR: OUT_OF_HOST_MEMORY,
 *                                         INVALID_EXTERNAL_HANDLE
 *   BIND_MEMORY                         vkBind{Buffer,Image}Memory(2): OUT_OF_HOST_MEMORY,
 *                                         OUT_OF_DEVICE_MEMORY (the image commands' list; the
 *                                         buffer ones add INVALID_OPAQUE_CAPTURE_ADDRESS)
 *   GET_MEMORY_HOST_POINTER_PROPERTIES  vkGetMemoryHostPointerPropertiesEXT:
 *                                         OUT_OF_HOST_MEMORY, INVALID_EXTERNAL_HANDLE
 *   FLUSH_MAPPED_MEMORY_RANGES          vkFlushMappedMemoryRanges,
 *                                         vkInvalidateMappedMemoryRanges: OUT_OF_HOST_MEMORY,
 *                                         OUT_OF_DEVICE_MEMORY
 *
 * (vkAllocateMemory may not return VK_ERROR_DEVICE_LOST, so -EIO becomes OUT_OF_DEVICE_MEMORY.)
 *
 * The mapping (err → result; "other" is every other non-zero value, positive ones included):
 *   ALLOCATE_MEMORY:  ENOMEM, EMFILE, ENFILE → OUT_OF_HOST_MEMORY; EADDRINUSE →
 *                     INVALID_OPAQUE_CAPTURE_ADDRESS (a hook reports the replay address taken);
 *                     ENOSPC (window full), EIO, EOPNOTSUPP, EINVAL, other →
 *                     OUT_OF_DEVICE_MEMORY.
 *   ALLOCATE_MEMORY_IMPORT (the request imports an fd, host pointer or AHB: pick it with
 *                     vgalloc_vk_allocate_command()): as ALLOCATE_MEMORY, except EINVAL (bad fd,
 *                     wrong blob), EBADF and EOPNOTSUPP → INVALID_EXTERNAL_HANDLE.
 *   MAP_MEMORY:       ENOMEM → OUT_OF_HOST_MEMORY; ENOSPC (no window range for the lazily
 *                     created blob) → OUT_OF_DEVICE_MEMORY; EINVAL (the host refused the
 *                     mapping), EIO, other → MEMORY_MAP_FAILED.
 *   GET_MEMORY_FD:    EMFILE, ENFILE → TOO_MANY_OBJECTS; ENOMEM, other → OUT_OF_HOST_MEMORY.
 *   GET_MEMORY_FD_PROPERTIES, GET_MEMORY_HOST_POINTER_PROPERTIES:
 *                     ENOMEM → OUT_OF_HOST_MEMORY; other → INVALID_EXTERNAL_HANDLE.
 *   BIND_MEMORY, FLUSH_MAPPED_MEMORY_RANGES:
 *                     ENOMEM → OUT_OF_HOST_MEMORY; other → OUT_OF_DEVICE_MEMORY.
 *   0 → VK_SUCCESS for every command; an unknown command → VK_ERROR_UNKNOWN.
 */
enum vgalloc_vk_command {
	VGALLOC_VK_ALLOCATE_MEMORY = 1,
	VGALLOC_VK_MAP_MEMORY = 2,
	VGALLOC_VK_GET_MEMORY_FD = 3,
	VGALLOC_VK_GET_MEMORY_FD_PROPERTIES = 4,
	VGALLOC_VK_BIND_MEMORY = 5,
	VGALLOC_VK_ALLOCATE_MEMORY_IMPORT = 6,
	VGALLOC_VK_GET_MEMORY_HOST_POINTER_PROPERTIES = 7,
	VGALLOC_VK_FLUSH_MAPPED_MEMORY_RANGES = 8,
};

/**
 * The opaque capture address (vkGetDeviceMemoryOpaqueCaptureAddress) of an allocation, given the
 * one the host reports for the memory object it lives in (for a suballocation, its block:
 * vgalloc_mem_info.host_handle) and its offset there (vgalloc_mem_info.offset). The host's 0 means
 * "no address" and stays 0: it is never turned into the offset. Capture/replay memory is never
 * suballocated, so an offset address is only reported, never replayed.
 */
static inline uint64_t vgalloc_vk_capture_address(uint64_t host_address, uint64_t offset)
{
	return host_address ? host_address + offset : 0;
}

/** The command to pass to vgalloc_vk_result() for a vgalloc_mem_alloc() of `req`. */
static inline enum vgalloc_vk_command vgalloc_vk_allocate_command(const struct vgalloc_request *req)
{
	const uint32_t imports = (uint32_t)VGALLOC_REQUEST_IMPORT_FD |
	                         (uint32_t)VGALLOC_REQUEST_IMPORT_HOST_POINTER |
	                         (uint32_t)VGALLOC_REQUEST_IMPORT_AHB;

	return (req && (req->flags & imports)) ? VGALLOC_VK_ALLOCATE_MEMORY_IMPORT
	                                       : VGALLOC_VK_ALLOCATE_MEMORY;
}

/**
 * The command to pass to vgalloc_vk_result() for a vkAllocateMemory with `info`, decided from the
 * allocate info itself: VGALLOC_VK_ALLOCATE_MEMORY_IMPORT when its chain (the first
 * VGALLOC_VK_MAX_CHAIN links) holds an fd or host-pointer import with a non-zero handle type or an
 * AHB import with a buffer, else VGALLOC_VK_ALLOCATE_MEMORY. Use it when
 * vgalloc_vk_request_from_allocate_info() may have failed: its request is then unwritten, and
 * an import whose handle type is refused must still report VK_ERROR_INVALID_EXTERNAL_HANDLE.
 * Thread safety: pure, any thread.
 */
static inline enum vgalloc_vk_command
vgalloc_vk_allocate_info_command(const VkMemoryAllocateInfo *info)
{
	const VkBaseInStructure *s;
	uint32_t links = 0;

	for (s = info ? (const VkBaseInStructure *)info->pNext : NULL;
	     s && links < VGALLOC_VK_MAX_CHAIN; s = s->pNext, links++) {
		switch (s->sType) {
		case VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR:
			if (((const VkImportMemoryFdInfoKHR *)s)->handleType != 0) {
				return VGALLOC_VK_ALLOCATE_MEMORY_IMPORT;
			}
			break;
		case VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT:
			if (((const VkImportMemoryHostPointerInfoEXT *)s)->handleType != 0) {
				return VGALLOC_VK_ALLOCATE_MEMORY_IMPORT;
			}
			break;
		case VK_STRUCTURE_TYPE_IMPORT_ANDROID_HARDWARE_BUFFER_INFO_ANDROID:
			if (((const struct vgalloc_vk_import_ahb_info *)(const void *)s)->buffer) {
				return VGALLOC_VK_ALLOCATE_MEMORY_IMPORT;
			}
			break;
		default:
			break;
		}
	}
	return VGALLOC_VK_ALLOCATE_MEMORY;
}

/** Whether the spec allows `cmd` to return `result` (the table above). VK_SUCCESS always is. */
static inline bool vgalloc_vk_result_allowed(enum vgalloc_vk_command cmd, VkResult result)
{
	if (result == VK_SUCCESS) {
		return true;
	}
	switch (cmd) {
	case VGALLOC_VK_ALLOCATE_MEMORY:
	case VGALLOC_VK_ALLOCATE_MEMORY_IMPORT:
		return result == VK_ERROR_OUT_OF_HOST_MEMORY ||
		       result == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
		       result == VK_ERROR_INVALID_EXTERNAL_HANDLE ||
		       result == VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS;
	case VGALLOC_VK_MAP_MEMORY:
		return result == VK_ERROR_OUT_OF_HOST_MEMORY ||
		       result == VK_ERROR_OUT_OF_DEVICE_MEMORY ||
		       result == VK_ERROR_MEMORY_MAP_FAILED;
	case VGALLOC_VK_GET_MEMORY_FD:
		return result == VK_ERROR_TOO_MANY_OBJECTS || result == VK_ERROR_OUT_OF_HOST_MEMORY;
	case VGALLOC_VK_GET_MEMORY_FD_PROPERTIES:
	case VGALLOC_VK_GET_MEMORY_HOST_POINTER_PROPERTIES:
		return result == VK_ERROR_OUT_OF_HOST_MEMORY ||
		       result == VK_ERROR_INVALID_EXTERNAL_HANDLE;
	case VGALLOC_VK_BIND_MEMORY:
	case VGALLOC_VK_FLUSH_MAPPED_MEMORY_RANGES:
		return result == VK_ERROR_OUT_OF_HOST_MEMORY ||
		       result == VK_ERROR_OUT_OF_DEVICE_MEMORY;
	}
	return false;
}

/**
 * The VkResult `cmd` returns for `err` (0 or a negative errno from libvgalloc or a host hook),
 * by the table above; always one the spec allows for that command. Thread safety: pure.
 */
static inline VkResult vgalloc_vk_result(enum vgalloc_vk_command cmd, int err)
{
	if (err == 0) {
		return VK_SUCCESS;
	}
	switch (cmd) {
	case VGALLOC_VK_ALLOCATE_MEMORY:
	case VGALLOC_VK_ALLOCATE_MEMORY_IMPORT:
		if (err == -ENOMEM || err == -EMFILE || err == -ENFILE) {
			return VK_ERROR_OUT_OF_HOST_MEMORY;
		}
		if (err == -EADDRINUSE) {
			return VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS;
		}
		if (cmd == VGALLOC_VK_ALLOCATE_MEMORY_IMPORT &&
		    (err == -EINVAL || err == -EBADF || err == -EOPNOTSUPP)) {
			return VK_ERROR_INVALID_EXTERNAL_HANDLE;
		}
		return VK_ERROR_OUT_OF_DEVICE_MEMORY;
	case VGALLOC_VK_MAP_MEMORY:
		if (err == -ENOMEM) {
			return VK_ERROR_OUT_OF_HOST_MEMORY;
		}
		if (err == -ENOSPC) {
			return VK_ERROR_OUT_OF_DEVICE_MEMORY;
		}
		return VK_ERROR_MEMORY_MAP_FAILED;
	case VGALLOC_VK_GET_MEMORY_FD:
		if (err == -EMFILE || err == -ENFILE) {
			return VK_ERROR_TOO_MANY_OBJECTS;
		}
		return VK_ERROR_OUT_OF_HOST_MEMORY;
	case VGALLOC_VK_GET_MEMORY_FD_PROPERTIES:
	case VGALLOC_VK_GET_MEMORY_HOST_POINTER_PROPERTIES:
		if (err == -ENOMEM) {
			return VK_ERROR_OUT_OF_HOST_MEMORY;
		}
		return VK_ERROR_INVALID_EXTERNAL_HANDLE;
	case VGALLOC_VK_BIND_MEMORY:
	case VGALLOC_VK_FLUSH_MAPPED_MEMORY_RANGES:
		if (err == -ENOMEM) {
			return VK_ERROR_OUT_OF_HOST_MEMORY;
		}
		return VK_ERROR_OUT_OF_DEVICE_MEMORY;
	}
	return VK_ERROR_UNKNOWN;
}

#undef VGALLOC_VK_STATIC_ASSERT

#ifdef __cplusplus
}
#endif

#endif
