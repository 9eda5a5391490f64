/* SPDX-License-Identifier: MIT */
/*
 * vn-align: is every resource the device supports bound where its alignment allows? Every buffer
 * usage (each bit alone, then all of them, at two sizes) and every core format with each tiling
 * and the usages its features allow (2D, 16x16) gets host-visible memory of exactly its
 * requirement's size, all live at once, and is bound at offset 0 of it. A driver that
 * suballocates (libvgalloc in Venus) places those allocations at the offsets its alignment rule
 * gives; the renderer binds the resource at that offset of the block. Host-side validation
 * (VKR_DEBUG=validate) checks each bind against the host's requirement: the tier compares its
 * message count with stock Venus's, which binds every allocation at offset 0 of its own.
 * Each allocation is also written through its mapping and the device is idled, so a bad
 * placement that corrupts a neighbour would show in the next program's checks.
 *
 * Prints "ALIGN buffers=N images=M skipped=K max_alignment=A" and RESULT lines.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vn-common.h"

static struct vn_ctx ctx;

#define MAX_OBJECTS 1024

static struct object {
	VkBuffer buffer;
	VkImage image;
	VkDeviceMemory memory;
	VkDeviceSize size;
} objects[MAX_OBJECTS];
static uint32_t object_count;
static uint32_t skipped;
static VkDeviceSize max_alignment;
static int errors;

/* Memory of exactly reqs->size on a host-visible, coherent type the resource allows; bound by
 * the caller at offset 0. Returns false (and counts a skip) when no such type exists. */
static bool alloc_for(const VkMemoryRequirements *reqs, struct object *o)
{
	int type = vn_find_memory_type(&ctx, reqs->memoryTypeBits,
	                               VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
	                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
	const VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		                          .allocationSize = reqs->size,
		                          .memoryTypeIndex = (uint32_t)type };
	void *p;

	if (type < 0) {
		skipped++;
		return false;
	}
	if (vkAllocateMemory(ctx.device, &ai, NULL, &o->memory) != VK_SUCCESS) {
		errors++;
		return false;
	}
	o->size = reqs->size;
	if (reqs->alignment > max_alignment) {
		max_alignment = reqs->alignment;
	}
	/* Touch it: a placement overlapping a neighbour shows up as a neighbour's bytes. */
	if (vkMapMemory(ctx.device, o->memory, 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS) {
		vn_fill_pattern(p, (size_t)reqs->size, object_count, 0);
		vkUnmapMemory(ctx.device, o->memory);
	} else {
		errors++;
	}
	return true;
}

static void bind_buffers(void)
{
	static const VkDeviceSize sizes[] = { 64, 4096 + 64 };
	const uint32_t all = VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT * 2 - 1;

	for (uint32_t bit = 0; bit <= 9; bit++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			const VkBufferCreateInfo bi = {
				.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
				.size = sizes[s],
				.usage = bit < 9 ? 1u << bit : all,
				.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
			};
			struct object *o = &objects[object_count];
			VkMemoryRequirements reqs;

			if (object_count == MAX_OBJECTS ||
			    vkCreateBuffer(ctx.device, &bi, NULL, &o->buffer) != VK_SUCCESS) {
				errors++;
				continue;
			}
			vkGetBufferMemoryRequirements(ctx.device, o->buffer, &reqs);
			if (!alloc_for(&reqs, o)) {
				vkDestroyBuffer(ctx.device, o->buffer, NULL);
				continue;
			}
			if (vkBindBufferMemory(ctx.device, o->buffer, o->memory, 0) != VK_SUCCESS) {
				errors++;
			}
			object_count++;
		}
	}
}

static VkImageUsageFlags usage_of(VkFormatFeatureFlags f)
{
	VkImageUsageFlags u = 0;

	u |= (f & VK_FORMAT_FEATURE_SAMPLED_IMAGE_BIT) ? VK_IMAGE_USAGE_SAMPLED_BIT : 0;
	u |= (f & VK_FORMAT_FEATURE_STORAGE_IMAGE_BIT) ? VK_IMAGE_USAGE_STORAGE_BIT : 0;
	u |= (f & VK_FORMAT_FEATURE_COLOR_ATTACHMENT_BIT) ? VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT : 0;
	u |= (f & VK_FORMAT_FEATURE_DEPTH_STENCIL_ATTACHMENT_BIT)
	             ? VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT
	             : 0;
	u |= (f & VK_FORMAT_FEATURE_TRANSFER_SRC_BIT) ? VK_IMAGE_USAGE_TRANSFER_SRC_BIT : 0;
	u |= (f & VK_FORMAT_FEATURE_TRANSFER_DST_BIT) ? VK_IMAGE_USAGE_TRANSFER_DST_BIT : 0;
	return u;
}

static uint32_t bind_images(void)
{
	uint32_t images = 0;

	for (int f = VK_FORMAT_R4G4_UNORM_PACK8; f <= VK_FORMAT_ASTC_12x12_SRGB_BLOCK; f++) {
		VkFormatProperties fp;

		vkGetPhysicalDeviceFormatProperties(ctx.phys, (VkFormat)f, &fp);
		for (int t = 0; t < 2; t++) {
			VkImageTiling tiling = t ? VK_IMAGE_TILING_LINEAR : VK_IMAGE_TILING_OPTIMAL;
			VkImageUsageFlags usage =
			        usage_of(t ? fp.linearTilingFeatures : fp.optimalTilingFeatures);
			VkImageFormatProperties ifp;
			struct object *o = &objects[object_count];
			VkMemoryRequirements reqs;
			const VkImageCreateInfo ii = {
				.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
				.imageType = VK_IMAGE_TYPE_2D,
				.format = (VkFormat)f,
				.extent = { 16, 16, 1 },
				.mipLevels = 1,
				.arrayLayers = 1,
				.samples = VK_SAMPLE_COUNT_1_BIT,
				.tiling = tiling,
				.usage = usage,
				.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
				.initialLayout = VK_IMAGE_LAYOUT_UNDEFINED,
			};

			if (!usage || vkGetPhysicalDeviceImageFormatProperties(
			                      ctx.phys, (VkFormat)f, VK_IMAGE_TYPE_2D, tiling,
			                      usage, 0, &ifp) != VK_SUCCESS) {
				continue;
			}
			if (object_count == MAX_OBJECTS ||
			    vkCreateImage(ctx.device, &ii, NULL, &o->image) != VK_SUCCESS) {
				errors++;
				continue;
			}
			vkGetImageMemoryRequirements(ctx.device, o->image, &reqs);
			if (!alloc_for(&reqs, o)) {
				vkDestroyImage(ctx.device, o->image, NULL);
				continue;
			}
			if (vkBindImageMemory(ctx.device, o->image, o->memory, 0) != VK_SUCCESS) {
				errors++;
			}
			object_count++;
			images++;
		}
	}
	return images;
}

/* Every allocation still holds its own pattern: none overlapped another. */
static int check_patterns(void)
{
	int bad = 0;

	for (uint32_t i = 0; i < object_count; i++) {
		void *p;

		if (vkMapMemory(ctx.device, objects[i].memory, 0, VK_WHOLE_SIZE, 0, &p) !=
		    VK_SUCCESS) {
			bad++;
			continue;
		}
		if (vn_check_pattern(p, (size_t)objects[i].size, i, 0) >= 0) {
			bad++;
		}
		vkUnmapMemory(ctx.device, objects[i].memory);
	}
	return bad;
}

int main(void)
{
	struct vn_ctx_options co = { .app_name = "vn-align" };
	uint32_t buffers, images;
	int r, bad;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = vn_ctx_create(&ctx, &co);
	vn_result("device", r == VK_SUCCESS, "vn_ctx_create=%d", r);
	if (r != VK_SUCCESS) {
		return vn_summary();
	}
	bind_buffers();
	buffers = object_count;
	images = bind_images();
	bad = check_patterns();
	vkDeviceWaitIdle(ctx.device);
	printf("ALIGN buffers=%u images=%u skipped=%u max_alignment=%llu\n", buffers, images,
	       skipped, (unsigned long long)max_alignment);
	vn_result("align_bind", errors == 0 && buffers > 0 && images > 0,
	          "buffers=%u images=%u errors=%d", buffers, images, errors);
	vn_result("align_patterns", bad == 0, "objects=%u overlapped=%d", object_count, bad);
	for (uint32_t i = 0; i < object_count; i++) {
		vkDestroyBuffer(ctx.device, objects[i].buffer, NULL);
		vkDestroyImage(ctx.device, objects[i].image, NULL);
		vkFreeMemory(ctx.device, objects[i].memory, NULL);
	}
	vn_ctx_destroy(&ctx);
	vn_validation_summary(ctx.validation);
	return vn_summary();
}
