/* SPDX-License-Identifier: MIT */
/*
 * vn-info: what the Venus device in the guest offers, in the lines the tier's log keeps (a
 * vulkaninfo for memory): device and driver, memory types and heaps, the limits an allocator
 * aligns to, the memory features, and which external memory handle types buffers and images can
 * be exported or imported as.
 */
#include <stdio.h>
#include <string.h>

#include "vn-common.h"

static const char *flag_names(VkMemoryPropertyFlags f, char *buf, size_t len)
{
	static const struct {
		VkMemoryPropertyFlags bit;
		const char *name;
	} names[] = {
		{ VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, "device-local" },
		{ VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, "host-visible" },
		{ VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, "host-coherent" },
		{ VK_MEMORY_PROPERTY_HOST_CACHED_BIT, "host-cached" },
		{ VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT, "lazily-allocated" },
		{ VK_MEMORY_PROPERTY_PROTECTED_BIT, "protected" },
	};
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (f & names[i].bit) {
			if (buf[0]) {
				strncat(buf, ",", len - strlen(buf) - 1);
			}
			strncat(buf, names[i].name, len - strlen(buf) - 1);
		}
	}
	if (!buf[0]) {
		strncat(buf, "none", len - 1);
	}
	return buf;
}

static const struct {
	VkExternalMemoryHandleTypeFlagBits bit;
	const char *name;
} handle_types[] = {
	{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT, "opaque-fd" },
	{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT, "dma-buf" },
	{ VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, "host-allocation" },
};

static void print_external(struct vn_ctx *ctx)
{
	for (size_t i = 0; i < sizeof(handle_types) / sizeof(handle_types[0]); i++) {
		VkPhysicalDeviceExternalBufferInfo bi = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
			.usage =
			        VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
			.handleType = handle_types[i].bit,
		};
		VkExternalBufferProperties bp = {
			.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES
		};
		vkGetPhysicalDeviceExternalBufferProperties(ctx->phys, &bi, &bp);
		VkExternalMemoryFeatureFlags f = bp.externalMemoryProperties.externalMemoryFeatures;
		printf("INFO external buffer %s: exportable=%d importable=%d dedicated-only=%d "
		       "compatible=0x%x\n",
		       handle_types[i].name, !!(f & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT),
		       !!(f & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT),
		       !!(f & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT),
		       bp.externalMemoryProperties.compatibleHandleTypes);

		VkPhysicalDeviceExternalImageFormatInfo ei = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_IMAGE_FORMAT_INFO,
			.handleType = handle_types[i].bit,
		};
		VkPhysicalDeviceImageFormatInfo2 ii = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_IMAGE_FORMAT_INFO_2,
			.pNext = &ei,
			.format = VK_FORMAT_R8G8B8A8_UNORM,
			.type = VK_IMAGE_TYPE_2D,
			.tiling = VK_IMAGE_TILING_OPTIMAL,
			.usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT | VK_IMAGE_USAGE_TRANSFER_DST_BIT,
		};
		VkExternalImageFormatProperties ep = {
			.sType = VK_STRUCTURE_TYPE_EXTERNAL_IMAGE_FORMAT_PROPERTIES
		};
		VkImageFormatProperties2 ip = { .sType =
			                                VK_STRUCTURE_TYPE_IMAGE_FORMAT_PROPERTIES_2,
			                        .pNext = &ep };
		VkResult r = vkGetPhysicalDeviceImageFormatProperties2(ctx->phys, &ii, &ip);
		f = ep.externalMemoryProperties.externalMemoryFeatures;
		printf("INFO external image %s (rgba8 optimal): result=%d exportable=%d "
		       "importable=%d "
		       "dedicated-only=%d\n",
		       handle_types[i].name, (int)r,
		       r == VK_SUCCESS && (f & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT),
		       r == VK_SUCCESS && (f & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT),
		       r == VK_SUCCESS && (f & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT));
	}
}

static void print_extensions(struct vn_ctx *ctx)
{
	uint32_t n = 0;
	VkExtensionProperties props[512];
	char line[4096] = "";

	vkEnumerateDeviceExtensionProperties(ctx->phys, NULL, &n, NULL);
	n = n > 512 ? 512 : n;
	vkEnumerateDeviceExtensionProperties(ctx->phys, NULL, &n, props);
	printf("INFO device extensions: %u\n", n);
	/* The ones a memory allocator or its tests care about. */
	for (uint32_t i = 0; i < n; i++) {
		const char *e = props[i].extensionName;
		if (strstr(e, "memory") || strstr(e, "dma_buf") || strstr(e, "swapchain") ||
		    strstr(e, "device_address") || strstr(e, "dedicated") ||
		    strstr(e, "external_semaphore") || strstr(e, "external_fence")) {
			strncat(line, " ", sizeof(line) - strlen(line) - 1);
			strncat(line, e, sizeof(line) - strlen(line) - 1);
		}
	}
	printf("INFO memory-related extensions:%s\n", line);
}

int main(void)
{
	struct vn_ctx ctx;
	struct vn_ctx_options opts = { .app_name = "vn-info", .want_device_address = true };
	char buf[128];

	setvbuf(stdout, NULL, _IOLBF, 0);
	int r = vn_ctx_create(&ctx, &opts);
	vn_result("venus_device_found", r == VK_SUCCESS, "vn_ctx_create=%d", r);
	if (r != VK_SUCCESS) {
		vn_ctx_destroy(&ctx);
		return vn_summary();
	}
	printf("INFO vendor 0x%04x device 0x%04x type %d driver-id %d conformance %u.%u.%u.%u\n",
	       ctx.props.vendorID, ctx.props.deviceID, (int)ctx.props.deviceType,
	       (int)ctx.driver.driverID, ctx.driver.conformanceVersion.major,
	       ctx.driver.conformanceVersion.minor, ctx.driver.conformanceVersion.subminor,
	       ctx.driver.conformanceVersion.patch);
	for (uint32_t i = 0; i < ctx.mem.memoryHeapCount; i++) {
		printf("INFO heap %u size %llu MiB flags 0x%x\n", i,
		       (unsigned long long)(ctx.mem.memoryHeaps[i].size >> 20),
		       ctx.mem.memoryHeaps[i].flags);
	}
	for (uint32_t i = 0; i < ctx.mem.memoryTypeCount; i++) {
		printf("INFO memory type %u heap %u %s\n", i, ctx.mem.memoryTypes[i].heapIndex,
		       flag_names(ctx.mem.memoryTypes[i].propertyFlags, buf, sizeof(buf)));
	}
	const VkPhysicalDeviceLimits *l = &ctx.props.limits;
	printf("INFO limits minMemoryMapAlignment=%zu nonCoherentAtomSize=%llu "
	       "bufferImageGranularity=%llu maxMemoryAllocationCount=%u "
	       "minStorageBufferOffsetAlignment=%llu sparseAddressSpaceSize=%llu\n",
	       l->minMemoryMapAlignment, (unsigned long long)l->nonCoherentAtomSize,
	       (unsigned long long)l->bufferImageGranularity, l->maxMemoryAllocationCount,
	       (unsigned long long)l->minStorageBufferOffsetAlignment,
	       (unsigned long long)l->sparseAddressSpaceSize);

	VkPhysicalDeviceVulkan12Features f12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
	};
	VkPhysicalDeviceFeatures2 f = { .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
		                        .pNext = &f12 };
	vkGetPhysicalDeviceFeatures2(ctx.phys, &f);
	printf("INFO features sparseBinding=%u bufferDeviceAddress=%u "
	       "bufferDeviceAddressCaptureReplay=%u\n",
	       f.features.sparseBinding, f12.bufferDeviceAddress,
	       f12.bufferDeviceAddressCaptureReplay);

	/* Alignment an allocator sees for the objects the tests use. */
	VkBufferCreateInfo bci = { .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		                   .size = 4096,
		                   .usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
		                            VK_BUFFER_USAGE_TRANSFER_DST_BIT |
		                            VK_BUFFER_USAGE_STORAGE_BUFFER_BIT };
	VkBuffer buf4k;
	if (vkCreateBuffer(ctx.device, &bci, NULL, &buf4k) == VK_SUCCESS) {
		VkMemoryRequirements mr;
		vkGetBufferMemoryRequirements(ctx.device, buf4k, &mr);
		printf("INFO buffer 4096 requirements size=%llu alignment=%llu types=0x%x\n",
		       (unsigned long long)mr.size, (unsigned long long)mr.alignment,
		       mr.memoryTypeBits);
		vkDestroyBuffer(ctx.device, buf4k, NULL);
	}
	VkImageCreateInfo ici = { .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		                  .imageType = VK_IMAGE_TYPE_2D,
		                  .format = VK_FORMAT_R8G8B8A8_UNORM,
		                  .extent = { 32, 32, 1 },
		                  .mipLevels = 1,
		                  .arrayLayers = 1,
		                  .samples = VK_SAMPLE_COUNT_1_BIT,
		                  .tiling = VK_IMAGE_TILING_OPTIMAL,
		                  .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
		                           VK_IMAGE_USAGE_TRANSFER_DST_BIT };
	VkImage img;
	if (vkCreateImage(ctx.device, &ici, NULL, &img) == VK_SUCCESS) {
		VkMemoryRequirements mr;
		vkGetImageMemoryRequirements(ctx.device, img, &mr);
		printf("INFO image 32x32 rgba8 optimal requirements size=%llu alignment=%llu "
		       "types=0x%x\n",
		       (unsigned long long)mr.size, (unsigned long long)mr.alignment,
		       mr.memoryTypeBits);
		vkDestroyImage(ctx.device, img, NULL);
	}
	print_extensions(&ctx);
	print_external(&ctx);
	bool layer = ctx.validation;
	vn_ctx_destroy(&ctx);
	vn_validation_summary(layer);
	return vn_summary();
}
