/* SPDX-License-Identifier: MIT */
/*
 * Capset parsers and param names. Capset bytes come from the host and are untrusted: every read
 * is bounds-checked against what was given, every value that no valid host sends is refused, and
 * a device's bytes are read as "present or zero" because GET_CAPS reports no length.
 */
#include <errno.h>
#include <string.h>

#include "caps.h"

_Static_assert(sizeof(struct vgalloc_capset_venus) == VGALLOC_UAPI_VENUS_CAPSET_SIZE,
               "venus capset layout");
_Static_assert(offsetof(struct vgalloc_capset_venus, use_guest_vram) ==
                       VGALLOC_UAPI_VENUS_USE_GUEST_VRAM,
               "venus use_guest_vram offset");
_Static_assert(offsetof(struct vgalloc_capset_venus, allow_vk_wait_syncs) ==
                       VGALLOC_UAPI_VENUS_ALLOW_VK_WAIT_SYNCS,
               "venus allow_vk_wait_syncs offset");
_Static_assert(sizeof(struct vgalloc_capset_gfxstream_vulkan) == 104, "gfxstream vulkan layout");
_Static_assert(sizeof(struct vgalloc_capset_gfxstream) == 16, "gfxstream gles layout");
_Static_assert(sizeof(struct vgalloc_capset_cross_domain) == 16, "cross-domain layout");
_Static_assert(sizeof(struct vgalloc_capset_drm) == 20, "drm head layout");

struct layout {
	uint32_t id;
	const char *name;
	uint32_t size;     /* newest layout known */
	uint32_t min_size; /* file bytes shorter than this are a truncated capset */
};

/*
 * Minimum sizes: the fields every host of that kind has always sent. Venus grew at 148 (wait
 * syncs), 152 (timelines) and 156 (use_guest_vram); gfxstream Vulkan at 100 (batched updates).
 */
static const struct layout layouts[] = {
	{ VGALLOC_CAPSET_VIRGL, "virgl", 308, 4 },
	{ VGALLOC_CAPSET_VIRGL2, "virgl2", 1384, 4 },
	{ VGALLOC_CAPSET_GFXSTREAM_VULKAN, "gfxstream-vulkan", 104, 100 },
	{ VGALLOC_CAPSET_VENUS, "venus", VGALLOC_UAPI_VENUS_CAPSET_SIZE,
	  VGALLOC_UAPI_VENUS_ALLOW_VK_WAIT_SYNCS },
	{ VGALLOC_CAPSET_CROSS_DOMAIN, "cross-domain", 16, 16 },
	{ VGALLOC_CAPSET_DRM, "drm", 24, 20 },
	{ VGALLOC_CAPSET_GFXSTREAM_MAGMA, "gfxstream-magma", 16, 16 },
	{ VGALLOC_CAPSET_GFXSTREAM_GLES, "gfxstream-gles", 16, 16 },
	{ VGALLOC_CAPSET_GFXSTREAM_COMPOSER, "gfxstream-composer", 16, 16 },
};

static const struct layout *find_layout(uint32_t id)
{
	for (size_t i = 0; i < VGALLOC__ARRAY_SIZE(layouts); i++) {
		if (layouts[i].id == id) {
			return &layouts[i];
		}
	}
	return NULL;
}

const char *vgalloc_capset_name(uint32_t id)
{
	const struct layout *l = find_layout(id);

	return l ? l->name : "unknown";
}

uint32_t vgalloc__capset_layout_size(uint32_t id)
{
	const struct layout *l = find_layout(id);

	return l ? l->size : 0;
}

static bool is_bool(uint32_t v)
{
	return v <= 1;
}

/* A blob alignment field: 0 (an older host that sends none) or a power of two in [4 KiB, 1 MiB]. */
static bool is_alignment(uint32_t v)
{
	return v == 0 || (vgalloc__is_pow2(v) && v >= 4096 && v <= (1u << 20));
}

static int check_values(uint32_t id, const struct vgalloc_capset_info *c)
{
	switch (id) {
	case VGALLOC_CAPSET_VENUS:
		if (!c->u.venus.wire_format_version || !is_bool(c->u.venus.supports_blob_id_0) ||
		    !is_bool(c->u.venus.allow_vk_wait_syncs) ||
		    !is_bool(c->u.venus.supports_multiple_timelines) ||
		    !is_bool(c->u.venus.use_guest_vram)) {
			return -EIO;
		}
		return 0;
	case VGALLOC_CAPSET_GFXSTREAM_VULKAN: {
		const struct vgalloc_capset_gfxstream_vulkan *g = &c->u.gfxstream_vulkan;

		if (!g->protocol_version || !is_alignment(g->blob_alignment) ||
		    !is_bool(g->deferred_mapping) || !is_bool(g->no_render_control_enc) ||
		    !is_bool(g->always_blob) || !is_bool(g->external_sync) ||
		    !is_bool(g->batched_descriptor_set_update)) {
			return -EIO;
		}
		return 0;
	}
	case VGALLOC_CAPSET_GFXSTREAM_MAGMA:
	case VGALLOC_CAPSET_GFXSTREAM_GLES:
	case VGALLOC_CAPSET_GFXSTREAM_COMPOSER:
		return c->u.gfxstream.protocol_version &&
		                       is_alignment(c->u.gfxstream.blob_alignment)
		               ? 0
		               : -EIO;
	case VGALLOC_CAPSET_CROSS_DOMAIN:
		return c->u.cross_domain.version && is_bool(c->u.cross_domain.supports_dmabuf) &&
		                       is_bool(c->u.cross_domain.supports_external_gpu_memory)
		               ? 0
		               : -EIO;
	case VGALLOC_CAPSET_DRM:
		return c->u.drm.wire_format_version && c->u.drm.context_type ? 0 : -EIO;
	case VGALLOC_CAPSET_VIRGL:
	case VGALLOC_CAPSET_VIRGL2:
		return c->u.virgl.max_version ? 0 : -EIO;
	default:
		return -EOPNOTSUPP;
	}
}

int vgalloc__capset_parse(uint32_t id, const void *data, uint32_t size, uint32_t source,
                          struct vgalloc_capset_info *c)
{
	const struct layout *l = find_layout(id);
	uint32_t n;

	if (!data || !size ||
	    (source != VGALLOC_CAPSET_FROM_DEVICE && source != VGALLOC_CAPSET_FROM_FILE)) {
		return -EINVAL;
	}
	if (!l) {
		return -EOPNOTSUPP;
	}
	/* Only a file tells us its length; a device buffer is zero-filled past the host's bytes. */
	if (source == VGALLOC_CAPSET_FROM_FILE && size < l->min_size) {
		return -EINVAL;
	}
	memset(c, 0, sizeof(*c));
	c->struct_size = sizeof(*c);
	c->id = id;
	c->source = source;
	c->size = size;
	c->layout_size = l->size;
	/* Copy what we know of the layout, never more than we were given; from a file, a field cut
	 * short by the end is absent, not partly present. */
	n = VGALLOC__MIN(VGALLOC__MIN(size, l->size), (uint32_t)sizeof(c->u));
	if (source == VGALLOC_CAPSET_FROM_FILE) {
		n &= ~3u;
	}
	memcpy(&c->u, data, n);
	c->present_fields = source == VGALLOC_CAPSET_FROM_FILE
	                            ? n / 4
	                            : VGALLOC__MIN(l->size, (uint32_t)sizeof(c->u)) / 4;
	return check_values(id, c);
}

int vgalloc_capset_parse(uint32_t id, const void *data, uint32_t size, uint32_t source,
                         struct vgalloc_capset_info *info)
{
	struct vgalloc_capset_info c;
	uint32_t out_size;
	int ret;

	if (!info) {
		return -EINVAL;
	}
	memcpy(&out_size, info, sizeof(out_size));
	if (out_size < sizeof(c)) {
		return -EINVAL; /* version 0 is the current size */
	}
	ret = vgalloc__capset_parse(id, data, size, source, &c);
	if (ret) {
		return ret;
	}
	return vgalloc__struct_out(info, &c, sizeof(c), sizeof(c));
}

static const char *const upstream_names[] = {
	NULL,
	"3d-features",
	"capset-query-fix",
	"resource-blob",
	"host-visible",
	"cross-device",
	"context-init",
	"supported-capset-ids",
	"explicit-debug-name",
	"blob-alignment",
};

const char *vgalloc_param_name(uint32_t flavour, uint32_t param)
{
	if (param >= 1 && param <= 7) {
		return upstream_names[param];
	}
	switch (flavour) {
	case VGALLOC_FLAVOUR_UPSTREAM:
		return param < VGALLOC__ARRAY_SIZE(upstream_names) ? upstream_names[param] : NULL;
	case VGALLOC_FLAVOUR_CHROMEOS:
		switch (param) {
		case VGALLOC_UAPI_CROS_PARAM_CREATE_GUEST_HANDLE:
			return "create-guest-handle";
		case VGALLOC_UAPI_CROS_PARAM_RESOURCE_SYNC:
			return "resource-sync";
		case VGALLOC_UAPI_CROS_PARAM_GUEST_VRAM:
			return "guest-vram";
		case VGALLOC_UAPI_CROS_PARAM_QUERY_DEV:
			return "query-dev";
		default:
			return NULL;
		}
	case VGALLOC_FLAVOUR_GFXSTREAM:
		switch (param) {
		case VGALLOC_PARAM_EXPLICIT_DEBUG_NAME:
			return "explicit-debug-name";
		case VGALLOC_UAPI_GFXSTREAM_PARAM_CREATE_FENCE_PASSING:
			return "create-fence-passing";
		case VGALLOC_UAPI_GFXSTREAM_PARAM_CREATE_GUEST_HANDLE:
			return "create-guest-handle";
		default:
			return NULL;
		}
	default:
		return NULL;
	}
}
