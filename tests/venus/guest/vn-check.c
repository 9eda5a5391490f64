/* SPDX-License-Identifier: MIT */
/*
 * vn-check: does host-visible memory hold the right bytes on the Venus device? Patterns written
 * through guest maps, host GPU work on buffers bound at non-zero offsets (copies, fills, an
 * optimal image cleared and copied out), every byte read back; free and reallocate; device
 * addresses; WHOLE_SIZE flush/invalidate; dedicated and exported memory; four threads at once.
 * A driver that suballocates (libvgalloc in Venus) must pass exactly as stock does.
 *
 * Usage: vn-check [--only a,b] [--thread-iters N] [--thread-maps N] [--canary]
 * --canary makes one deliberately invalid bind (a misaligned offset) and nothing else: the
 * runner uses it to prove host-side validation reports what guests send.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vn-common.h"

static struct vn_ctx ctx;
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static int thread_iters = 6;
static int thread_maps = 2;

#define BUF_USAGE (VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT)

static VkDeviceSize align_up(VkDeviceSize v, VkDeviceSize a)
{
	return (v + a - 1) / a * a;
}

static uint32_t host_type(uint32_t bits)
{
	int t = vn_find_memory_type(&ctx, bits,
	                            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
	                                    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
	return t < 0 ? 0 : (uint32_t)t;
}

static VkResult alloc(VkDeviceSize size, uint32_t type, const void *next, VkDeviceMemory *mem)
{
	VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		                    .pNext = next,
		                    .allocationSize = size,
		                    .memoryTypeIndex = type };
	return vkAllocateMemory(ctx.device, &ai, NULL, mem);
}

static VkResult make_buffer(VkDeviceSize size, VkBufferUsageFlags usage, const void *next,
                            VkBuffer *buf, VkMemoryRequirements *req)
{
	VkBufferCreateInfo bci = { .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		                   .pNext = next,
		                   .size = size,
		                   .usage = usage };
	VkResult r = vkCreateBuffer(ctx.device, &bci, NULL, buf);
	if (r == VK_SUCCESS && req) {
		vkGetBufferMemoryRequirements(ctx.device, *buf, req);
	}
	return r;
}

static void host_read_barrier(VkCommandBuffer cmd)
{
	VkMemoryBarrier b = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		              .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		              .dstAccessMask = VK_ACCESS_HOST_READ_BIT };
	vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1,
	                     &b, 0, NULL, 0, NULL);
}

static void transfer_barrier(VkCommandBuffer cmd)
{
	VkMemoryBarrier b = { .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
		              .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		              .dstAccessMask =
		                      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT };
	vkCmdPipelineBarrier(cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0,
	                     1, &b, 0, NULL, 0, NULL);
}

/* Compare len bytes with the expected copy; report the first difference. */
static bool same_bytes(const char *what, const uint8_t *got, const uint8_t *want, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (got[i] != want[i]) {
			printf("INFO %s: byte %zu is 0x%02x, expected 0x%02x\n", what, i, got[i],
			       want[i]);
			return false;
		}
	}
	return true;
}

/* 1. Patterns through maps, whole and at an offset, survive unmap and remap. */
static void check_patterns(void)
{
	static const VkDeviceSize sizes[] = { 4096, 12288, 65536, 300000 };
	VkDeviceMemory mem[4] = { 0 };
	bool ok = true;
	uint32_t type = host_type(~0u);

	for (int i = 0; i < 4 && ok; i++) {
		void *p;
		ok = alloc(sizes[i], type, NULL, &mem[i]) == VK_SUCCESS &&
		     vkMapMemory(ctx.device, mem[i], 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS;
		if (ok) {
			vn_fill_pattern(p, sizes[i], 100 + i, 0);
			vkUnmapMemory(ctx.device, mem[i]);
		}
	}
	for (int i = 0; i < 4 && ok; i++) {
		void *p;
		ok = vkMapMemory(ctx.device, mem[i], 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS;
		if (ok) {
			long long bad = vn_check_pattern(p, sizes[i], 100 + i, 0);
			if (bad >= 0) {
				printf("INFO patterns: memory %d byte %lld differs\n", i, bad);
				ok = false;
			}
			vkUnmapMemory(ctx.device, mem[i]);
		}
	}
	/* A map at an offset sees the same bytes, and writes through it land there. */
	void *p;
	if (ok && vkMapMemory(ctx.device, mem[3], 8192, 16384, 0, &p) == VK_SUCCESS) {
		ok = vn_check_pattern(p, 16384, 103, 8192) < 0;
		vn_fill_pattern(p, 16384, 999, 0);
		vkUnmapMemory(ctx.device, mem[3]);
		if (ok && vkMapMemory(ctx.device, mem[3], 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS) {
			uint8_t *b = p;
			ok = vn_check_pattern(b, 8192, 103, 0) < 0 &&
			     vn_check_pattern(b + 8192, 16384, 999, 0) < 0 &&
			     vn_check_pattern(b + 24576, sizes[3] - 24576, 103, 24576) < 0;
			vkUnmapMemory(ctx.device, mem[3]);
		} else {
			ok = false;
		}
	} else {
		ok = false;
	}
	for (int i = 0; i < 4; i++) {
		vkFreeMemory(ctx.device, mem[i], NULL);
	}
	vn_result("patterns_through_maps", ok,
	          "sizes=4096,12288,65536,300000 offset-map=8192+16384");
}

/* Host-side model of a memory: its expected bytes. */
struct model {
	VkDeviceMemory mem;
	VkDeviceSize size;
	uint8_t *want;
	uint8_t *ptr;
};

static bool model_init(struct model *m, VkDeviceSize size, uint32_t seed)
{
	void *p = NULL;

	m->size = size;
	m->want = malloc(size);
	if (!m->want || alloc(size, host_type(~0u), NULL, &m->mem) != VK_SUCCESS ||
	    vkMapMemory(ctx.device, m->mem, 0, VK_WHOLE_SIZE, 0, &p) != VK_SUCCESS) {
		return false;
	}
	m->ptr = p;
	vn_fill_pattern(m->want, size, seed, 0);
	memcpy(m->ptr, m->want, size);
	return true;
}

static void model_finish(struct model *m)
{
	if (m->mem) {
		vkFreeMemory(ctx.device, m->mem, NULL);
	}
	free(m->want);
	memset(m, 0, sizeof(*m));
}

struct bound {
	VkBuffer buf;
	struct model *m;
	VkDeviceSize offset; /* in m's memory */
};

static bool bind_in(struct bound *b, struct model *m, VkDeviceSize size, VkDeviceSize want_offset)
{
	VkMemoryRequirements req;

	if (make_buffer(size, BUF_USAGE, NULL, &b->buf, &req) != VK_SUCCESS) {
		return false;
	}
	b->m = m;
	b->offset = align_up(want_offset, req.alignment);
	if (b->offset + req.size > m->size) {
		printf("INFO buffer of %llu at %llu does not fit %llu\n", (unsigned long long)size,
		       (unsigned long long)b->offset, (unsigned long long)m->size);
		return false;
	}
	return vkBindBufferMemory(ctx.device, b->buf, m->mem, b->offset) == VK_SUCCESS;
}

/* Record a copy and apply it to the model. */
static void copy(VkCommandBuffer cmd, struct bound *src, VkDeviceSize so, struct bound *dst,
                 VkDeviceSize d, VkDeviceSize size)
{
	VkBufferCopy region = { .srcOffset = so, .dstOffset = d, .size = size };
	vkCmdCopyBuffer(cmd, src->buf, dst->buf, 1, &region);
	memmove(dst->m->want + dst->offset + d, src->m->want + src->offset + so, size);
}

/* 2. vkCmdCopyBuffer between buffers bound at non-zero offsets, in one memory and across. */
static void check_copies(void)
{
	struct model m = { 0 }, d = { 0 }, e = { 0 }, f = { 0 };
	struct bound a = { 0 }, b = { 0 }, c = { 0 }, bd = { 0 }, be = { 0 }, bf = { 0 };
	bool ok = model_init(&m, 262144, 10) && model_init(&d, 20480, 11) &&
	          model_init(&e, 20480, 12) && model_init(&f, 16384, 13);

	ok = ok && bind_in(&a, &m, 32768, 4096 + 256) &&
	     bind_in(&b, &m, 32768, a.offset + 32768 + 4096) &&
	     bind_in(&c, &m, 32768, b.offset + 32768 + 512) && bind_in(&bd, &d, 20000, 0) &&
	     bind_in(&be, &e, 20000, 0) && bind_in(&bf, &f, 8192, 1000);
	VkCommandBuffer cmd = ok ? vn_cmd_begin(&ctx) : VK_NULL_HANDLE;
	ok = ok && cmd;
	if (ok) {
		copy(cmd, &a, 100, &b, 2000, 5000);
		copy(cmd, &a, 16384, &c, 0, 8192);
		copy(cmd, &bd, 64, &be, 5000, 10000);
		transfer_barrier(cmd);
		copy(cmd, &c, 1000, &bf, 40, 3000);
		copy(cmd, &b, 2000, &a, 30000, 2000);
		host_read_barrier(cmd);
		ok = vn_cmd_submit_wait(&ctx, cmd) == VK_SUCCESS;
	}
	ok = ok && same_bytes("copies: shared memory", m.ptr, m.want, m.size) &&
	     same_bytes("copies: memory d", d.ptr, d.want, d.size) &&
	     same_bytes("copies: memory e", e.ptr, e.want, e.size) &&
	     same_bytes("copies: memory f", f.ptr, f.want, f.size);
	vn_result("copy_buffer_offsets", ok,
	          "offsets a=%llu b=%llu c=%llu f=%llu, 5 copies, every byte of 4 memories",
	          (unsigned long long)a.offset, (unsigned long long)b.offset,
	          (unsigned long long)c.offset, (unsigned long long)bf.offset);
	struct bound *all[] = { &a, &b, &c, &bd, &be, &bf };
	for (size_t i = 0; i < 6; i++) {
		vkDestroyBuffer(ctx.device, all[i]->buf, NULL);
	}
	model_finish(&m);
	model_finish(&d);
	model_finish(&e);
	model_finish(&f);
}

/* 3. vkCmdFillBuffer (sized and WHOLE_SIZE) and vkCmdUpdateBuffer at offsets. */
static void check_fill(void)
{
	struct model g = { 0 };
	struct bound b = { 0 };
	bool ok = model_init(&g, 65536, 20) && bind_in(&b, &g, 32768, 4096 + 128);
	VkCommandBuffer cmd = ok ? vn_cmd_begin(&ctx) : VK_NULL_HANDLE;
	uint8_t update[64];

	ok = ok && cmd;
	if (ok) {
		const uint32_t v1 = 0xA5C3E1F0u, v2 = 0x01020304u;
		vkCmdFillBuffer(cmd, b.buf, 4, 8192, v1);
		for (VkDeviceSize i = 0; i < 8192; i += 4) {
			memcpy(g.want + b.offset + 4 + i, &v1, 4);
		}
		transfer_barrier(cmd);
		/* WHOLE_SIZE fills to the end of the buffer, rounded down to a multiple of 4. */
		vkCmdFillBuffer(cmd, b.buf, 16384, VK_WHOLE_SIZE, v2);
		for (VkDeviceSize i = 16384; i + 4 <= 32768; i += 4) {
			memcpy(g.want + b.offset + i, &v2, 4);
		}
		transfer_barrier(cmd);
		vn_fill_pattern(update, sizeof(update), 21, 0);
		vkCmdUpdateBuffer(cmd, b.buf, 12000, sizeof(update), update);
		memcpy(g.want + b.offset + 12000, update, sizeof(update));
		host_read_barrier(cmd);
		ok = vn_cmd_submit_wait(&ctx, cmd) == VK_SUCCESS;
	}
	ok = ok && same_bytes("fill", g.ptr, g.want, g.size);
	vn_result("fill_buffer", ok, "buffer at %llu: fill 8192, fill WHOLE_SIZE, update 64",
	          (unsigned long long)b.offset);
	if (b.buf) {
		vkDestroyBuffer(ctx.device, b.buf, NULL);
	}
	model_finish(&g);
}

static void image_barrier(VkCommandBuffer cmd, VkImage img, VkImageLayout from, VkImageLayout to,
                          VkAccessFlags src, VkAccessFlags dst)
{
	VkImageMemoryBarrier b = {
		.sType = VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER,
		.srcAccessMask = src,
		.dstAccessMask = dst,
		.oldLayout = from,
		.newLayout = to,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.image = img,
		.subresourceRange = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 },
	};
	vkCmdPipelineBarrier(cmd,
	                     VK_PIPELINE_STAGE_TRANSFER_BIT | VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
	                     VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 0, NULL, 0, NULL, 1, &b);
}

static VkResult make_image(uint32_t w, uint32_t h, VkImage *img, VkMemoryRequirements *req)
{
	VkImageCreateInfo ici = { .sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO,
		                  .imageType = VK_IMAGE_TYPE_2D,
		                  .format = VK_FORMAT_R8G8B8A8_UNORM,
		                  .extent = { w, h, 1 },
		                  .mipLevels = 1,
		                  .arrayLayers = 1,
		                  .samples = VK_SAMPLE_COUNT_1_BIT,
		                  .tiling = VK_IMAGE_TILING_OPTIMAL,
		                  .usage = VK_IMAGE_USAGE_TRANSFER_SRC_BIT |
		                           VK_IMAGE_USAGE_TRANSFER_DST_BIT };
	VkResult r = vkCreateImage(ctx.device, &ici, NULL, img);
	if (r == VK_SUCCESS) {
		vkGetImageMemoryRequirements(ctx.device, *img, req);
	}
	return r;
}

/*
 * Clear an optimal w x h image, upload a 16x8 patch at (8,4) from a buffer, copy the whole image
 * out to rb (tightly packed) and check every texel. The clear colour is k/255 so UNORM stores it
 * exactly.
 */
static bool image_roundtrip(const char *what, VkImage img, uint32_t w, uint32_t h,
                            struct bound *staging, struct bound *rb)
{
	const uint8_t clear_bytes[4] = { 0x40, 0x80, 0xC0, 0xFF };
	VkClearColorValue clear = { .float32 = { 0x40 / 255.0f, 0x80 / 255.0f, 0xC0 / 255.0f,
		                                 1.0f } };
	VkImageSubresourceRange range = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1 };
	VkCommandBuffer cmd = vn_cmd_begin(&ctx);
	const uint32_t px = 8, py = 4, pw = 16, ph = 8;

	if (!cmd) {
		return false;
	}
	vn_fill_pattern(staging->m->ptr + staging->offset, pw * ph * 4, 77, 0);
	image_barrier(cmd, img, VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 0,
	              VK_ACCESS_TRANSFER_WRITE_BIT);
	vkCmdClearColorImage(cmd, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, &clear, 1, &range);
	image_barrier(cmd, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
	              VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
	              VK_ACCESS_TRANSFER_WRITE_BIT);
	VkBufferImageCopy up = { .bufferOffset = 0,
		                 .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
		                 .imageOffset = { (int32_t)px, (int32_t)py, 0 },
		                 .imageExtent = { pw, ph, 1 } };
	vkCmdCopyBufferToImage(cmd, staging->buf, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
	                       &up);
	image_barrier(cmd, img, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
	              VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_ACCESS_TRANSFER_WRITE_BIT,
	              VK_ACCESS_TRANSFER_READ_BIT);
	VkBufferImageCopy down = { .bufferOffset = 0,
		                   .imageSubresource = { VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1 },
		                   .imageExtent = { w, h, 1 } };
	vkCmdCopyImageToBuffer(cmd, img, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, rb->buf, 1, &down);
	host_read_barrier(cmd);
	if (vn_cmd_submit_wait(&ctx, cmd) != VK_SUCCESS) {
		return false;
	}
	const uint8_t *out = rb->m->ptr + rb->offset;
	const uint8_t *patch = staging->m->ptr + staging->offset;
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *want = clear_bytes;
			if (x >= px && x < px + pw && y >= py && y < py + ph) {
				want = patch + ((y - py) * pw + (x - px)) * 4;
			}
			if (memcmp(out + (y * w + x) * 4, want, 4)) {
				printf("INFO %s: texel (%u,%u) differs\n", what, x, y);
				return false;
			}
		}
	}
	/* The upload source is intact. */
	return vn_check_pattern(patch, pw * ph * 4, 77, 0) < 0;
}

/* 4. An optimal image at a non-zero offset, sharing its memory with a buffer. */
static void check_image(void)
{
	struct model h = { 0 }, r = { 0 };
	struct bound staging = { 0 }, rb = { 0 };
	VkImage img = VK_NULL_HANDLE;
	VkMemoryRequirements req;
	VkDeviceSize gran = ctx.props.limits.bufferImageGranularity;
	VkDeviceSize img_off = 0;
	bool ok = make_image(32, 32, &img, &req) == VK_SUCCESS;

	if (ok) {
		img_off = align_up(align_up(4096, gran), req.alignment);
		ok = model_init(&h, img_off + req.size + 4096, 30) &&
		     bind_in(&staging, &h, 2048, 0) &&
		     vkBindImageMemory(ctx.device, img, h.mem, img_off) == VK_SUCCESS &&
		     model_init(&r, 4096 + 32 * 32 * 4 + 512, 31) &&
		     bind_in(&rb, &r, 32 * 32 * 4, 512);
	}
	ok = ok && image_roundtrip("image", img, 32, 32, &staging, &rb);
	vn_result(
	        "image_clear_copy", ok,
	        "32x32 rgba8 optimal at offset %llu (size %llu, alignment %llu), readback at %llu",
	        (unsigned long long)img_off, (unsigned long long)req.size,
	        (unsigned long long)req.alignment, (unsigned long long)rb.offset);
	if (img) {
		vkDestroyImage(ctx.device, img, NULL);
	}
	if (staging.buf) {
		vkDestroyBuffer(ctx.device, staging.buf, NULL);
	}
	if (rb.buf) {
		vkDestroyBuffer(ctx.device, rb.buf, NULL);
	}
	model_finish(&h);
	model_finish(&r);
}

/* 5. Free and reallocate: each new memory holds what was written to it, seen by the GPU. */
static void check_realloc(void)
{
	struct model q = { 0 };
	struct bound qb = { 0 };
	bool ok = model_init(&q, 65536, 40) && bind_in(&qb, &q, 65536, 0);

	for (int i = 0; i < 4 && ok; i++) {
		struct model m = { 0 };
		struct bound b = { 0 };
		VkDeviceSize size = i % 2 ? 49152 : 16384;
		ok = model_init(&m, size, 41 + i) && bind_in(&b, &m, size, 0);
		VkCommandBuffer cmd = ok ? vn_cmd_begin(&ctx) : VK_NULL_HANDLE;
		ok = ok && cmd;
		if (ok) {
			copy(cmd, &b, 0, &qb, 0, size);
			host_read_barrier(cmd);
			ok = vn_cmd_submit_wait(&ctx, cmd) == VK_SUCCESS &&
			     same_bytes("realloc", q.ptr, q.want, q.size);
		}
		if (b.buf) {
			vkDestroyBuffer(ctx.device, b.buf, NULL);
		}
		model_finish(&m);
	}
	vn_result("free_realloc", ok, "4 allocate/write/GPU-copy/free rounds, 16 and 48 KiB");
	if (qb.buf) {
		vkDestroyBuffer(ctx.device, qb.buf, NULL);
	}
	model_finish(&q);
}

/* 6. DEVICE_ADDRESS memory: addresses of buffers in one memory differ by their offsets. */
static void check_device_address(void)
{
	if (!ctx.device_address) {
		vn_skip("device_address", "bufferDeviceAddress not supported");
		return;
	}
	VkMemoryAllocateFlagsInfo fi = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO,
		                         .flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT };
	if (ctx.capture_replay) {
		fi.flags |= VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY_BIT;
	}
	VkBufferUsageFlags usage = BUF_USAGE | VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT;
	VkDeviceMemory mem = VK_NULL_HANDLE, mem2 = VK_NULL_HANDLE;
	VkBuffer b1 = VK_NULL_HANDLE, b2 = VK_NULL_HANDLE, b3 = VK_NULL_HANDLE;
	VkMemoryRequirements req;
	VkDeviceSize o1 = 0, o2 = 0;
	VkDeviceAddress a1 = 0, a2 = 0, a3 = 0;
	uint64_t cap = 0;
	bool ok = make_buffer(20000, usage, NULL, &b1, &req) == VK_SUCCESS &&
	          make_buffer(20000, usage, NULL, &b2, NULL) == VK_SUCCESS &&
	          make_buffer(20000, usage, NULL, &b3, NULL) == VK_SUCCESS;
	uint32_t type = host_type(req.memoryTypeBits);

	if (ok) {
		o1 = align_up(4096, req.alignment);
		o2 = align_up(o1 + 20000 + 8192, req.alignment);
		ok = alloc(131072, type, &fi, &mem) == VK_SUCCESS &&
		     alloc(65536, type, &fi, &mem2) == VK_SUCCESS &&
		     vkBindBufferMemory(ctx.device, b1, mem, o1) == VK_SUCCESS &&
		     vkBindBufferMemory(ctx.device, b2, mem, o2) == VK_SUCCESS &&
		     vkBindBufferMemory(ctx.device, b3, mem2, 0) == VK_SUCCESS;
	}
	if (ok) {
		VkBufferDeviceAddressInfo ai = {
			.sType = VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO
		};
		ai.buffer = b1;
		a1 = vkGetBufferDeviceAddress(ctx.device, &ai);
		ai.buffer = b2;
		a2 = vkGetBufferDeviceAddress(ctx.device, &ai);
		ai.buffer = b3;
		a3 = vkGetBufferDeviceAddress(ctx.device, &ai);
		ok = a1 && a2 && a3 && a2 - a1 == o2 - o1 &&
		     (a3 + 20000 <= a1 || a3 >= a1 + 20000) &&
		     (a3 + 20000 <= a2 || a3 >= a2 + 20000);
		if (ctx.capture_replay) {
			VkDeviceMemoryOpaqueCaptureAddressInfo ci = {
				.sType =
				        VK_STRUCTURE_TYPE_DEVICE_MEMORY_OPAQUE_CAPTURE_ADDRESS_INFO,
				.memory = mem
			};
			cap = vkGetDeviceMemoryOpaqueCaptureAddress(ctx.device, &ci);
		}
	}
	/* The memory still carries data for the GPU. */
	void *p = NULL;
	if (ok && vkMapMemory(ctx.device, mem, 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS) {
		uint8_t *bytes = p;
		vn_fill_pattern(bytes + o1, 20000, 50, 0);
		VkCommandBuffer cmd = vn_cmd_begin(&ctx);
		VkBufferCopy region = { 0, 0, 20000 };
		if (cmd) {
			vkCmdCopyBuffer(cmd, b1, b2, 1, &region);
			host_read_barrier(cmd);
			ok = vn_cmd_submit_wait(&ctx, cmd) == VK_SUCCESS &&
			     vn_check_pattern(bytes + o2, 20000, 50, 0) < 0;
		} else {
			ok = false;
		}
		vkUnmapMemory(ctx.device, mem);
	} else {
		ok = false;
	}
	vn_result("device_address", ok,
	          "a1=0x%llx a2=0x%llx (offsets %llu, %llu) other=0x%llx capture-replay=%d "
	          "memory-opaque-address=0x%llx",
	          (unsigned long long)a1, (unsigned long long)a2, (unsigned long long)o1,
	          (unsigned long long)o2, (unsigned long long)a3, ctx.capture_replay,
	          (unsigned long long)cap);
	vkDestroyBuffer(ctx.device, b1, NULL);
	vkDestroyBuffer(ctx.device, b2, NULL);
	vkDestroyBuffer(ctx.device, b3, NULL);
	vkFreeMemory(ctx.device, mem, NULL);
	vkFreeMemory(ctx.device, mem2, NULL);
}

/* 7. Flush and invalidate with VK_WHOLE_SIZE, from offset 0 and from inside an offset map. */
static void check_whole_size(void)
{
	struct model w = { 0 };
	struct bound b = { 0 };
	VkDeviceSize atom = ctx.props.limits.nonCoherentAtomSize;
	VkDeviceSize off = align_up(4096, atom);
	bool ok = model_init(&w, 65536, 60) && bind_in(&b, &w, 65536, 0);
	VkResult r1 = VK_ERROR_UNKNOWN, r2 = VK_ERROR_UNKNOWN, r3 = VK_ERROR_UNKNOWN;

	if (ok) {
		VkMappedMemoryRange range = { .sType = VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE,
			                      .memory = w.mem,
			                      .offset = 0,
			                      .size = VK_WHOLE_SIZE };
		r1 = vkFlushMappedMemoryRanges(ctx.device, 1, &range);
		vkUnmapMemory(ctx.device, w.mem);
		void *p = NULL;
		ok = vkMapMemory(ctx.device, w.mem, off, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS;
		uint8_t *at_off = p; /* the mapping starts at memory offset off */
		if (ok) {
			vn_fill_pattern(at_off, 8192, 61, 0);
			memcpy(w.want + off, at_off, 8192);
			VkMappedMemoryRange ranges[2] = { range, range };
			ranges[0].offset = off;
			ranges[1].offset = off + align_up(4096, atom);
			r2 = vkFlushMappedMemoryRanges(ctx.device, 2, ranges);
			VkCommandBuffer cmd = vn_cmd_begin(&ctx);
			ok = cmd != VK_NULL_HANDLE;
			if (ok) {
				copy(cmd, &b, off, &b, 40960, 8192);
				host_read_barrier(cmd);
				ok = vn_cmd_submit_wait(&ctx, cmd) == VK_SUCCESS;
			}
			range.offset = off;
			r3 = vkInvalidateMappedMemoryRanges(ctx.device, 1, &range);
			ok = ok && same_bytes("whole_size", at_off, w.want + off, w.size - off);
		}
	}
	ok = ok && r1 == VK_SUCCESS && r2 == VK_SUCCESS && r3 == VK_SUCCESS;
	vn_result("whole_size_flush_invalidate", ok,
	          "flush(0,WHOLE)=%d flush(%llu/%llu,WHOLE)=%d invalidate(%llu,WHOLE)=%d", (int)r1,
	          (unsigned long long)off, (unsigned long long)(off + align_up(4096, atom)),
	          (int)r2, (unsigned long long)off, (int)r3);
	if (b.buf) {
		vkDestroyBuffer(ctx.device, b.buf, NULL);
	}
	model_finish(&w);
}

/* Blobs created so far; *available only on Venus with the counter preloaded (other drivers make
 * no blobs, so "own blob" means nothing there). */
/* Blobs are counted from the DRM ioctls: on vtest (VN_DEBUG=vtest) they go over a socket. */
static uint64_t blobs_now(bool *available)
{
	const char *debug = getenv("VN_DEBUG");
	struct vn_ioctl_counts c;

	*available = vn_counts_read(&c) && ctx.driver.driverID == VK_DRIVER_ID_MESA_VENUS &&
	             !(debug && strstr(debug, "vtest"));
	return c.v[VN_COUNT_CREATE_BLOB];
}

/* 8. Dedicated buffer and image: exact allocationSize, and (with the counter) a blob of their
 * own, never a share of a pool's. */
static void check_dedicated(void)
{
	VkBuffer buf = VK_NULL_HANDLE;
	VkImage img = VK_NULL_HANDLE;
	VkDeviceMemory bmem = VK_NULL_HANDLE, imem = VK_NULL_HANDLE;
	struct model r = { 0 }, s = { 0 };
	struct bound rb = { 0 }, staging = { 0 };
	VkMemoryDedicatedRequirements dr = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS
	};
	VkMemoryRequirements2 req2 = { .sType = VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2,
		                       .pNext = &dr };
	bool counted = false;
	uint64_t blobs = 0;
	bool ok = make_buffer(40000, BUF_USAGE, NULL, &buf, NULL) == VK_SUCCESS;

	if (ok) {
		VkBufferMemoryRequirementsInfo2 ri = {
			.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2, .buffer = buf
		};
		vkGetBufferMemoryRequirements2(ctx.device, &ri, &req2);
		VkMemoryDedicatedAllocateInfo di = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO, .buffer = buf
		};
		uint64_t b0 = blobs_now(&counted);
		void *p = NULL;
		ok = alloc(req2.memoryRequirements.size,
		           host_type(req2.memoryRequirements.memoryTypeBits), &di,
		           &bmem) == VK_SUCCESS &&
		     vkBindBufferMemory(ctx.device, buf, bmem, 0) == VK_SUCCESS &&
		     vkMapMemory(ctx.device, bmem, 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS;
		blobs = blobs_now(&counted) - b0;
		if (ok) {
			uint8_t *bytes = p;
			vn_fill_pattern(bytes, 20000, 70, 0);
			VkCommandBuffer cmd = vn_cmd_begin(&ctx);
			VkBufferCopy region = { 0, 20000, 20000 };
			ok = cmd != VK_NULL_HANDLE;
			if (ok) {
				vkCmdCopyBuffer(cmd, buf, buf, 1, &region);
				host_read_barrier(cmd);
				ok = vn_cmd_submit_wait(&ctx, cmd) == VK_SUCCESS &&
				     vn_check_pattern(bytes + 20000, 20000, 70, 0) < 0;
			}
			vkUnmapMemory(ctx.device, bmem);
		}
	}
	vn_result("dedicated_buffer", ok && (!counted || blobs == 1),
	          "size=%llu prefers=%u requires=%u own-blob=%s(%llu)",
	          (unsigned long long)req2.memoryRequirements.size, dr.prefersDedicatedAllocation,
	          dr.requiresDedicatedAllocation, counted ? (blobs == 1 ? "yes" : "no") : "n/a",
	          (unsigned long long)blobs);

	/* An image whose requirement is not a page multiple: allocationSize must be exact. */
	VkMemoryRequirements ireq = { 0 };
	ok = make_image(40, 24, &img, &ireq) == VK_SUCCESS;
	if (ok) {
		VkMemoryDedicatedAllocateInfo di = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO, .image = img
		};
		ok = alloc(ireq.size, host_type(ireq.memoryTypeBits), &di, &imem) == VK_SUCCESS &&
		     vkBindImageMemory(ctx.device, img, imem, 0) == VK_SUCCESS &&
		     model_init(&s, 4096, 71) && bind_in(&staging, &s, 2048, 0) &&
		     model_init(&r, 8192, 72) && bind_in(&rb, &r, 40 * 24 * 4, 256) &&
		     image_roundtrip("dedicated image", img, 40, 24, &staging, &rb);
	}
	vn_result("dedicated_image", ok, "40x24 rgba8 optimal, allocationSize=%llu",
	          (unsigned long long)ireq.size);
	if (staging.buf) {
		vkDestroyBuffer(ctx.device, staging.buf, NULL);
	}
	if (rb.buf) {
		vkDestroyBuffer(ctx.device, rb.buf, NULL);
	}
	model_finish(&s);
	model_finish(&r);
	vkDestroyImage(ctx.device, img, NULL);
	vkDestroyBuffer(ctx.device, buf, NULL);
	vkFreeMemory(ctx.device, imem, NULL);
	vkFreeMemory(ctx.device, bmem, NULL);
}

/* 9. Export (and re-import) where the device offers an fd handle type for buffers. */
static void check_export(void)
{
	VkExternalMemoryHandleTypeFlagBits types[] = {
		VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT,
		VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT,
	};
	VkExternalMemoryHandleTypeFlagBits type = 0;
	VkExternalMemoryFeatureFlags feat = 0;

	if (!ctx.ext_memory_fd || !ctx.get_memory_fd) {
		vn_skip("export", "VK_KHR_external_memory_fd not offered by the device");
		return;
	}
	for (size_t i = 0; i < 2 && !type; i++) {
		if (types[i] == VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT &&
		    !ctx.ext_dma_buf) {
			continue;
		}
		VkPhysicalDeviceExternalBufferInfo bi = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_BUFFER_INFO,
			.usage = BUF_USAGE,
			.handleType = types[i],
		};
		VkExternalBufferProperties bp = {
			.sType = VK_STRUCTURE_TYPE_EXTERNAL_BUFFER_PROPERTIES
		};
		vkGetPhysicalDeviceExternalBufferProperties(ctx.phys, &bi, &bp);
		feat = bp.externalMemoryProperties.externalMemoryFeatures;
		if ((feat & VK_EXTERNAL_MEMORY_FEATURE_EXPORTABLE_BIT) &&
		    (feat & VK_EXTERNAL_MEMORY_FEATURE_IMPORTABLE_BIT)) {
			type = types[i];
		}
	}
	if (!type) {
		vn_skip("export", "no buffer handle type both exportable and importable");
		return;
	}
	const char *tname =
	        type == VK_EXTERNAL_MEMORY_HANDLE_TYPE_DMA_BUF_BIT_EXT ? "dma-buf" : "opaque-fd";
	VkExternalMemoryBufferCreateInfo ebi = {
		.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO, .handleTypes = type
	};
	VkBuffer src = VK_NULL_HANDLE, imp = VK_NULL_HANDLE;
	VkDeviceMemory smem = VK_NULL_HANDLE, imem = VK_NULL_HANDLE;
	VkMemoryRequirements req;
	struct model d = { 0 };
	struct bound db = { 0 };
	int fd = -1;
	bool counted = false;
	uint64_t blobs = 0;
	bool ok = make_buffer(32768, BUF_USAGE, &ebi, &src, &req) == VK_SUCCESS &&
	          make_buffer(32768, BUF_USAGE, &ebi, &imp, NULL) == VK_SUCCESS;
	if (ok) {
		VkMemoryDedicatedAllocateInfo di = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO, .buffer = src
		};
		VkExportMemoryAllocateInfo ei = {
			.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO,
			.pNext =
			        (feat & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT) ? &di : NULL,
			.handleTypes = type
		};
		uint64_t b0 = blobs_now(&counted);
		void *p = NULL;
		ok = alloc(req.size, host_type(req.memoryTypeBits), &ei, &smem) == VK_SUCCESS &&
		     vkBindBufferMemory(ctx.device, src, smem, 0) == VK_SUCCESS &&
		     vkMapMemory(ctx.device, smem, 0, VK_WHOLE_SIZE, 0, &p) == VK_SUCCESS;
		blobs = blobs_now(&counted) - b0;
		if (ok) {
			vn_fill_pattern(p, 32768, 80, 0);
			vkUnmapMemory(ctx.device, smem);
			VkMemoryGetFdInfoKHR gi = {
				.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR,
				.memory = smem,
				.handleType = type
			};
			ok = ctx.get_memory_fd(ctx.device, &gi, &fd) == VK_SUCCESS && fd >= 0;
		}
	}
	if (ok) {
		off_t end = lseek(fd, 0, SEEK_END);
		printf("INFO export %s: fd size %lld for allocation %llu\n", tname, (long long)end,
		       (unsigned long long)req.size);
		VkMemoryDedicatedAllocateInfo di = {
			.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO, .buffer = imp
		};
		VkImportMemoryFdInfoKHR ii = {
			.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR,
			.pNext =
			        (feat & VK_EXTERNAL_MEMORY_FEATURE_DEDICATED_ONLY_BIT) ? &di : NULL,
			.handleType = type,
			.fd = fd
		};
		ok = alloc(req.size, host_type(req.memoryTypeBits), &ii, &imem) == VK_SUCCESS;
		if (ok) {
			fd = -1; /* the import took it */
			ok = vkBindBufferMemory(ctx.device, imp, imem, 0) == VK_SUCCESS &&
			     model_init(&d, 32768, 81) && bind_in(&db, &d, 32768, 0);
		}
	}
	if (ok) {
		VkCommandBuffer cmd = vn_cmd_begin(&ctx);
		ok = cmd != VK_NULL_HANDLE;
		if (ok) {
			VkBufferCopy region = { 0, 0, 32768 };
			vkCmdCopyBuffer(cmd, imp, db.buf, 1, &region);
			host_read_barrier(cmd);
			ok = vn_cmd_submit_wait(&ctx, cmd) == VK_SUCCESS &&
			     vn_check_pattern(d.ptr, 32768, 80, 0) < 0;
		}
	}
	vn_result("export_import", ok && (!counted || blobs == 1),
	          "%s, re-imported and copied by the GPU, own-blob=%s(%llu)", tname,
	          counted ? (blobs == 1 ? "yes" : "no") : "n/a", (unsigned long long)blobs);
	if (fd >= 0) {
		close(fd);
	}
	if (db.buf) {
		vkDestroyBuffer(ctx.device, db.buf, NULL);
	}
	model_finish(&d);
	vkDestroyBuffer(ctx.device, src, NULL);
	vkDestroyBuffer(ctx.device, imp, NULL);
	vkFreeMemory(ctx.device, imem, NULL);
	vkFreeMemory(ctx.device, smem, NULL);
}

/* 10. Four threads allocate, bind, (some) map and verify, and free at the same time. */
struct thread_arg {
	int id;
	int failures;
};

static bool thread_submit(VkCommandPool pool, VkCommandBuffer cmd)
{
	VkFence fence = VK_NULL_HANDLE;
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	VkSubmitInfo si = { .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		            .commandBufferCount = 1,
		            .pCommandBuffers = &cmd };
	bool ok = vkEndCommandBuffer(cmd) == VK_SUCCESS &&
	          vkCreateFence(ctx.device, &fci, NULL, &fence) == VK_SUCCESS;
	if (ok) {
		/* vkQueueSubmit needs the queue externally synchronised. */
		pthread_mutex_lock(&queue_lock);
		ok = vkQueueSubmit(ctx.queue, 1, &si, fence) == VK_SUCCESS;
		pthread_mutex_unlock(&queue_lock);
		ok = ok &&
		     vkWaitForFences(ctx.device, 1, &fence, VK_TRUE, UINT64_MAX) == VK_SUCCESS;
	}
	if (fence) {
		vkDestroyFence(ctx.device, fence, NULL);
	}
	vkFreeCommandBuffers(ctx.device, pool, 1, &cmd);
	return ok;
}

static void *thread_main(void *p)
{
	struct thread_arg *arg = p;
	VkCommandPool pool;
	VkCommandPoolCreateInfo pci = { .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		                        .queueFamilyIndex = ctx.queue_family };

	if (vkCreateCommandPool(ctx.device, &pci, NULL, &pool) != VK_SUCCESS) {
		arg->failures++;
		return NULL;
	}
	for (int i = 0; i < thread_iters; i++) {
		VkDeviceSize size = 4096u << ((arg->id + i) % 5); /* 4 KiB .. 64 KiB */
		VkBuffer buf;
		VkDeviceMemory mem;
		VkMemoryRequirements req;
		bool mapped = i < thread_maps;
		if (make_buffer(size, BUF_USAGE, NULL, &buf, &req) != VK_SUCCESS) {
			arg->failures++;
			continue;
		}
		/* Odd rounds bind at a non-zero offset. */
		VkDeviceSize off = (i % 2) ? align_up(1024, req.alignment) : 0;
		bool ok = alloc(off + req.size, host_type(req.memoryTypeBits), NULL, &mem) ==
		          VK_SUCCESS;
		ok = ok && vkBindBufferMemory(ctx.device, buf, mem, off) == VK_SUCCESS;
		uint8_t *bytes = NULL;
		if (ok && mapped) {
			void *ptr;
			ok = vkMapMemory(ctx.device, mem, off, size, 0, &ptr) == VK_SUCCESS;
			bytes = ptr;
			if (ok) {
				vn_fill_pattern(bytes, size / 2, 90 + arg->id * 16 + i, 0);
			}
		}
		VkCommandBufferAllocateInfo ai = {
			.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
			.commandPool = pool,
			.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
			.commandBufferCount = 1
		};
		VkCommandBufferBeginInfo bi = {
			.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
			.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT
		};
		VkCommandBuffer cmd;
		if (ok && vkAllocateCommandBuffers(ctx.device, &ai, &cmd) == VK_SUCCESS) {
			vkBeginCommandBuffer(cmd, &bi);
			if (mapped) {
				VkBufferCopy region = { 0, size / 2, size / 2 };
				vkCmdCopyBuffer(cmd, buf, buf, 1, &region);
			} else {
				vkCmdFillBuffer(cmd, buf, 0, VK_WHOLE_SIZE, 0x5a5a5a5au);
			}
			host_read_barrier(cmd);
			ok = thread_submit(pool, cmd);
			if (ok && mapped) {
				ok = vn_check_pattern(bytes + size / 2, size / 2,
				                      90 + arg->id * 16 + i, 0) < 0;
			}
		} else {
			ok = false;
		}
		if (!ok) {
			printf("INFO thread %d round %d failed\n", arg->id, i);
			arg->failures++;
		}
		if (bytes) {
			vkUnmapMemory(ctx.device, mem);
		}
		vkDestroyBuffer(ctx.device, buf, NULL);
		vkFreeMemory(ctx.device, mem, NULL);
	}
	vkDestroyCommandPool(ctx.device, pool, NULL);
	return NULL;
}

static void check_threads(void)
{
	pthread_t th[4];
	struct thread_arg args[4];
	int failures = 0, started = 0;

	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .id = i };
		if (pthread_create(&th[i], NULL, thread_main, &args[i]) == 0) {
			started++;
		} else {
			failures++;
			break;
		}
	}
	for (int i = 0; i < started; i++) {
		pthread_join(th[i], NULL);
		failures += args[i].failures;
	}
	vn_result("threads_alloc_bind_free", !failures && started == 4,
	          "4 threads x %d rounds (%d mapped and verified each), failures=%d", thread_iters,
	          thread_maps < thread_iters ? thread_maps : thread_iters, failures);
}

/* A deliberately invalid bind for the host's validation layer to report (runner's canary). */
static void canary(void)
{
	VkBuffer buf;
	VkMemoryRequirements req;
	VkDeviceMemory mem;

	if (make_buffer(4096, BUF_USAGE | VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, NULL, &buf, &req) !=
	    VK_SUCCESS) {
		vn_result("canary", false, "cannot create a buffer");
		return;
	}
	if (req.alignment < 8) {
		vn_skip("canary", "buffer alignment %llu leaves no misaligned offset",
		        (unsigned long long)req.alignment);
	} else if (alloc(req.size + req.alignment * 2, host_type(req.memoryTypeBits), NULL, &mem) ==
	           VK_SUCCESS) {
		VkDeviceSize off = req.alignment / 2;
		VkResult r = vkBindBufferMemory(ctx.device, buf, mem, off);
		printf("CANARY bind_misaligned offset=%llu alignment=%llu result=%d\n",
		       (unsigned long long)off, (unsigned long long)req.alignment, (int)r);
		vkDeviceWaitIdle(ctx.device);
		vkDestroyBuffer(ctx.device, buf, NULL);
		buf = VK_NULL_HANDLE;
		vkFreeMemory(ctx.device, mem, NULL);
	}
	if (buf) {
		vkDestroyBuffer(ctx.device, buf, NULL);
	}
}

static bool selected(const char *only, const char *name)
{
	size_t n = strlen(name);

	if (!only) {
		return true;
	}
	for (const char *p = only; (p = strstr(p, name)); p += n) {
		if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) {
			return true;
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	bool want_canary = false;
	struct vn_ctx_options co = { .app_name = "vn-check",
		                     .want_device_address = true,
		                     .want_external_memory = true };
	static const struct {
		const char *name;
		void (*run)(void);
	} checks[] = {
		{ "patterns", check_patterns },
		{ "copies", check_copies },
		{ "fill", check_fill },
		{ "image", check_image },
		{ "realloc", check_realloc },
		{ "device_address", check_device_address },
		{ "whole_size", check_whole_size },
		{ "dedicated", check_dedicated },
		{ "export", check_export },
		{ "threads", check_threads },
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else if (!strcmp(argv[i], "--thread-iters") && i + 1 < argc) {
			thread_iters = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--thread-maps") && i + 1 < argc) {
			thread_maps = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--canary")) {
			want_canary = true;
		} else {
			fprintf(stderr, "usage: vn-check [--only a,b] [--thread-iters N] "
			                "[--thread-maps N] [--canary]\n");
			return 2;
		}
	}
	int r = vn_ctx_create(&ctx, &co);
	vn_result("device", r == VK_SUCCESS, "vn_ctx_create=%d", r);
	if (r != VK_SUCCESS) {
		vn_ctx_destroy(&ctx);
		return vn_summary();
	}
	if (want_canary) {
		canary();
	} else {
		for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
			if (selected(only, checks[i].name)) {
				double t0 = vn_now_us();
				checks[i].run();
				printf("MEASURE check.%s total=%.1f\n", checks[i].name,
				       vn_now_us() - t0);
			}
		}
	}
	bool layer = ctx.validation;
	vn_ctx_destroy(&ctx);
	uint64_t errors, warnings;
	vn_validation_counts(&errors, &warnings);
	vn_validation_summary(layer);
	if (layer && !want_canary) {
		vn_result("guest_validation_clean", errors == 0, "errors=%llu warnings=%llu",
		          (unsigned long long)errors, (unsigned long long)warnings);
	}
	return vn_summary();
}
