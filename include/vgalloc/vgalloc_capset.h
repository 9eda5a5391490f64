/* SPDX-License-Identifier: MIT */
/*
 * libvgalloc: the host's facts. Capset parsing (pure, bounds-checked, usable without a device),
 * capset and param names, and reading another capset the host offers through a device. A driver
 * needs none of it to allocate: vgalloc.h decides from the device's own capset.
 */
#ifndef VGALLOC_CAPSET_H
#define VGALLOC_CAPSET_H

#include "vgalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Capsets: pure, bounds-checked parsers. GET_CAPS reports no length, so bytes read from a device
 * are "present or zero" (the reader zero-fills its buffer first); only bytes from a file have a
 * known length, and there a field past the end is absent. Fields are only ever appended, so a
 * longer capset than this library knows parses fine.
 */

/** Where capset bytes came from. */
enum vgalloc_capset_source {
	VGALLOC_CAPSET_FROM_DEVICE = 1, /* zero-filled buffer: every field present or zero */
	VGALLOC_CAPSET_FROM_FILE = 2,   /* exact length: fields past it are absent */
};

/** Venus (id 4, version 0). */
struct vgalloc_capset_venus {
	uint32_t wire_format_version;
	uint32_t vk_xml_version;
	uint32_t ext_command_serialization_spec_version;
	uint32_t mesa_venus_protocol_spec_version;
	uint32_t supports_blob_id_0;
	uint32_t vk_extension_mask1[32];
	uint32_t allow_vk_wait_syncs;
	uint32_t supports_multiple_timelines;
	uint32_t use_guest_vram;
};

/** gfxstream Vulkan (id 3; no size or version field). */
struct vgalloc_capset_gfxstream_vulkan {
	uint32_t protocol_version;
	uint32_t ring_size;
	uint32_t buffer_size;
	uint32_t color_buffer_memory_index;
	uint32_t deferred_mapping;
	uint32_t blob_alignment;
	uint32_t no_render_control_enc;
	uint32_t always_blob;
	uint32_t external_sync;
	uint32_t virgl_supported_formats[16];
	uint32_t batched_descriptor_set_update;
};

/** gfxstream GLES (8), composer (9) and magma (7). */
struct vgalloc_capset_gfxstream {
	uint32_t protocol_version;
	uint32_t ring_size;
	uint32_t buffer_size;
	uint32_t blob_alignment;
};

/** Cross-domain (id 5). */
struct vgalloc_capset_cross_domain {
	uint32_t version;
	uint32_t supported_channels;
	uint32_t supports_dmabuf;
	uint32_t supports_external_gpu_memory;
};

/** DRM native context (id 6): the common head. */
struct vgalloc_capset_drm {
	uint32_t wire_format_version;
	uint32_t version_major;
	uint32_t version_minor;
	uint32_t version_patchlevel;
	uint32_t context_type; /* 1 msm, 2 amdgpu, ... */
};

/** virgl (1) and virgl2 (2): the version head of the caps. */
struct vgalloc_capset_virgl {
	uint32_t max_version;
};

/** A parsed capset. Output struct, version 0. */
struct vgalloc_capset_info {
	uint32_t struct_size;
	uint32_t id;             /* enum vgalloc_capset_id */
	uint32_t source;         /* enum vgalloc_capset_source */
	uint32_t size;           /* bytes given */
	uint32_t layout_size;    /* bytes of the newest layout this library knows for id */
	uint32_t present_fields; /* u32 fields present (all known ones for device bytes), at most
				  * the 64 words of u.raw (virgl caps are longer) */
	union {
		struct vgalloc_capset_venus venus;
		struct vgalloc_capset_gfxstream_vulkan gfxstream_vulkan;
		struct vgalloc_capset_gfxstream gfxstream;
		struct vgalloc_capset_cross_domain cross_domain;
		struct vgalloc_capset_drm drm;
		struct vgalloc_capset_virgl virgl;
		uint32_t raw[64];
	} u;
};

/**
 * Parse capset bytes. Pure: reads only data[0, size).
 * Ownership: data is borrowed. Thread safety: any thread.
 * Return: 0; -EINVAL (NULL, size 0, unknown source, bad struct_size, or file bytes shorter than
 *         the id's first field set); -EOPNOTSUPP (unknown id); -EIO (a value no valid host sends:
 *         wire_format_version 0, use_guest_vram not 0/1, a blob alignment that is not a power of
 *         two ≥ 4 KiB, a boolean that is not 0/1, ...).
 */
VGALLOC_API int vgalloc_capset_parse(uint32_t id, const void *data, uint32_t size, uint32_t source,
                                     struct vgalloc_capset_info *info);

/** "venus", "gfxstream-vulkan", ... or "unknown". */
VGALLOC_API const char *vgalloc_capset_name(uint32_t id);

/** Name of param `param` under `flavour` ("blob-alignment", ...), or NULL when it has none. */
VGALLOC_API const char *vgalloc_param_name(uint32_t flavour, uint32_t param);

/**
 * Read and parse one capset the host offers (GET_CAPS into a zero-filled buffer; no context is
 * created). The context's own capset is answered from the bytes read at create.
 * Thread safety: any thread.
 * Return: 0; -EINVAL (NULL, bad struct_size); -EOPNOTSUPP (the host does not offer it, or this
 *         library has no layout for it); -EIO (invalid values); -ENOMEM; -errno from the kernel.
 */
VGALLOC_API int vgalloc_device_read_capset(struct vgalloc_device *dev, uint32_t capset_id,
                                           struct vgalloc_capset_info *info);

#ifdef __cplusplus
}
#endif

#endif
