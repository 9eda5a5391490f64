/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: every capset parser on arbitrary bytes, from a device (present-or-zero) and
 * from a file (exact length). Host bytes are untrusted: nothing may crash or read out of bounds,
 * and the answer must be the documented one: -EINVAL for a file shorter than the id's first
 * field set, -EOPNOTSUPP for an unknown id, -EIO exactly for a value no valid host sends,
 * otherwise the bytes given (whole fields only, from a file), zero past them.
 *
 * Input: one byte selecting the capset id, then the capset bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "blob.h"
#include "caps.h"
#include "mem.h"
#include "state.h"

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct layout {
	uint32_t size;     /* newest layout known */
	uint32_t min_size; /* a file shorter than this is truncated */
};

/* From the capset structs in vgalloc.h and the fixtures' README (the fields hosts always sent). */
static const struct layout layouts[] = {
	[VGALLOC_CAPSET_VIRGL] = { 308, 4 },
	[VGALLOC_CAPSET_VIRGL2] = { 1384, 4 },
	[VGALLOC_CAPSET_GFXSTREAM_VULKAN] = { 104, 100 },
	[VGALLOC_CAPSET_VENUS] = { 160, 148 },
	[VGALLOC_CAPSET_CROSS_DOMAIN] = { 16, 16 },
	[VGALLOC_CAPSET_DRM] = { 24, 20 },
	[VGALLOC_CAPSET_GFXSTREAM_MAGMA] = { 16, 16 },
	[VGALLOC_CAPSET_GFXSTREAM_GLES] = { 16, 16 },
	[VGALLOC_CAPSET_GFXSTREAM_COMPOSER] = { 16, 16 },
};

static bool is_bool(uint32_t v)
{
	return v <= 1;
}

static bool is_alignment(uint32_t v)
{
	return v == 0 || (fz_is_pow2(v) && v >= 4096 && v <= (1u << 20));
}

/* Whether a valid host could have sent these values. */
static bool plausible(uint32_t id, const struct vgalloc_capset_info *c)
{
	const struct vgalloc_capset_venus *v = &c->u.venus;
	const struct vgalloc_capset_gfxstream_vulkan *g = &c->u.gfxstream_vulkan;

	switch (id) {
	case VGALLOC_CAPSET_VENUS:
		return v->wire_format_version && is_bool(v->supports_blob_id_0) &&
		       is_bool(v->allow_vk_wait_syncs) && is_bool(v->supports_multiple_timelines) &&
		       is_bool(v->use_guest_vram);
	case VGALLOC_CAPSET_GFXSTREAM_VULKAN:
		return g->protocol_version && is_alignment(g->blob_alignment) &&
		       is_bool(g->deferred_mapping) && is_bool(g->no_render_control_enc) &&
		       is_bool(g->always_blob) && is_bool(g->external_sync) &&
		       is_bool(g->batched_descriptor_set_update);
	case VGALLOC_CAPSET_GFXSTREAM_MAGMA:
	case VGALLOC_CAPSET_GFXSTREAM_GLES:
	case VGALLOC_CAPSET_GFXSTREAM_COMPOSER:
		return c->u.gfxstream.protocol_version &&
		       is_alignment(c->u.gfxstream.blob_alignment);
	case VGALLOC_CAPSET_CROSS_DOMAIN:
		return c->u.cross_domain.version && is_bool(c->u.cross_domain.supports_dmabuf) &&
		       is_bool(c->u.cross_domain.supports_external_gpu_memory);
	case VGALLOC_CAPSET_DRM:
		return c->u.drm.wire_format_version && c->u.drm.context_type;
	default:
		return c->u.virgl.max_version != 0;
	}
}

static void check_parse(uint32_t id, const uint8_t *bytes, uint32_t n, uint32_t source)
{
	const struct layout *l = id < FZ_ARRAY_SIZE(layouts) ? &layouts[id] : NULL;
	struct vgalloc_capset_info info, want;
	uint32_t copied;
	int ret;

	memset(&info, 0xa5, sizeof(info));
	info.struct_size = sizeof(info);
	/* The parser gets exactly n bytes: ASan catches any read past them. */
	ret = vgalloc_capset_parse(id, n ? bytes : NULL, n, source, &info);
	if (!n) {
		FZ_CHECK_EQ(ret, -EINVAL);
		return;
	}
	if (!l || !l->size) {
		FZ_CHECK_EQ(ret, -EOPNOTSUPP);
		return;
	}
	if (source == VGALLOC_CAPSET_FROM_FILE && n < l->min_size) {
		FZ_CHECK_EQ(ret, -EINVAL);
		return;
	}
	/* What the parser must have read: whole fields of a file, everything of a device. */
	copied = FZ_MIN(FZ_MIN(n, l->size), (uint32_t)sizeof(info.u));
	if (source == VGALLOC_CAPSET_FROM_FILE) {
		copied &= ~3u;
	}
	memset(&want, 0, sizeof(want));
	memcpy(&want.u, bytes, copied);
	if (!plausible(id, &want)) {
		FZ_CHECK_EQ(ret, -EIO);
		return;
	}
	FZ_CHECK_EQ(ret, 0);
	FZ_CHECK_EQ(info.struct_size, sizeof(info));
	FZ_CHECK_EQ(info.id, id);
	FZ_CHECK_EQ(info.source, source);
	FZ_CHECK_EQ(info.size, n);
	FZ_CHECK_EQ(info.layout_size, l->size);
	FZ_CHECK_EQ(info.present_fields, source == VGALLOC_CAPSET_FROM_FILE
	                                         ? copied / 4
	                                         : FZ_MIN(l->size, (uint32_t)sizeof(info.u)) / 4);
	FZ_CHECK(info.present_fields <= 64);
	/* The bytes given, zero past them: a field a device did not send reads 0. */
	FZ_CHECK(!memcmp(&info.u, &want.u, sizeof(info.u)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vgalloc_capset_info info = { .struct_size = sizeof(info) };
	uint32_t id, n;

	if (size < 1) {
		return 0;
	}
	id = data[0] % 12;
	n = (uint32_t)FZ_MIN(size - 1, (size_t)UINT32_MAX);
	check_parse(id, data + 1, n, VGALLOC_CAPSET_FROM_DEVICE);
	check_parse(id, data + 1, n, VGALLOC_CAPSET_FROM_FILE);

	/* Arguments the parser refuses before looking at a byte. */
	FZ_CHECK_EQ(vgalloc_capset_parse(id, data, (uint32_t)size, 0, &info), -EINVAL);
	FZ_CHECK_EQ(vgalloc_capset_parse(id, data, (uint32_t)size, 3 + data[0], &info), -EINVAL);
	FZ_CHECK_EQ(vgalloc_capset_parse(id, data, (uint32_t)size, VGALLOC_CAPSET_FROM_FILE, NULL),
	            -EINVAL);
	info.struct_size = data[0] % sizeof(info);
	FZ_CHECK_EQ(vgalloc_capset_parse(id, data, (uint32_t)size, VGALLOC_CAPSET_FROM_FILE, &info),
	            -EINVAL);
	FZ_CHECK_EQ(info.struct_size, data[0] % sizeof(info));

	/* Names: every id and every param of every flavour answers, known ones non-empty. */
	FZ_CHECK(vgalloc_capset_name(id) && vgalloc_capset_name(id)[0]);
	for (uint32_t flavour = 0; flavour <= 3; flavour++) {
		const char *name = vgalloc_param_name(flavour, data[0] % 24);

		FZ_CHECK(!name || name[0]);
		if (data[0] % 24 >= 1 && data[0] % 24 <= 7) {
			FZ_CHECK(name != NULL);
		}
	}
	return 0;
}
