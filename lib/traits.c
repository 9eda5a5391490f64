/* SPDX-License-Identifier: MIT */
/*
 * A device's traits, pure: (params, capset, create-info, environment, page size) → traits, with
 * the mode precedence (DESIGN §4 rule 2), the blob alignment (rule 4), the memory types' pool
 * alignment (rule 5) and the pool block sizes. device.c gathers the inputs; nothing here reads
 * the kernel, the environment or sysconf.
 */
#include <errno.h>

#include "policy.h"

static uint64_t param_or_zero(const struct vgalloc__trait_inputs *in, uint32_t param)
{
	return vgalloc__param_or_zero(in->params, in->params_present, param);
}

static uint32_t capset_blob_alignment(const struct vgalloc_capset_info *caps)
{
	switch (caps->id) {
	case VGALLOC_CAPSET_GFXSTREAM_VULKAN:
		return caps->u.gfxstream_vulkan.blob_alignment;
	case VGALLOC_CAPSET_GFXSTREAM_GLES:
	case VGALLOC_CAPSET_GFXSTREAM_COMPOSER:
	case VGALLOC_CAPSET_GFXSTREAM_MAGMA:
		return caps->u.gfxstream.blob_alignment;
	default:
		return 0;
	}
}

static void raise_alignment(struct vgalloc__traits *t, uint64_t align, uint32_t source)
{
	if (align > t->blob_alignment) {
		t->blob_alignment = align;
		t->blob_alignment_source = source;
	}
}

/* blob alignment = max(4 KiB, guest page, BLOB_ALIGNMENT, capset blobAlignment, host page). */
static void derive_alignment(const struct vgalloc__trait_inputs *in, struct vgalloc__traits *t)
{
	t->blob_alignment = VGALLOC__MIN_BLOB_ALIGNMENT;
	t->blob_alignment_source = VGALLOC__ALIGN_MIN;
	raise_alignment(t, in->guest_page, VGALLOC__ALIGN_PAGE);
	/* Only upstream's param 9 is BLOB_ALIGNMENT (elsewhere 9 means something else), and only
	 * a sane alignment is one: a downstream "guest vram = 1" must never become 1 byte. */
	if (t->flavour == VGALLOC_FLAVOUR_UPSTREAM &&
	    (in->params_present & (1u << VGALLOC_PARAM_BLOB_ALIGNMENT))) {
		uint64_t param = in->params[VGALLOC_PARAM_BLOB_ALIGNMENT];

		if (vgalloc__sane_alignment(param, VGALLOC__MIN_BLOB_ALIGNMENT)) {
			raise_alignment(t, param, VGALLOC__ALIGN_PARAM);
		} else {
			t->blob_alignment_param_bad = true;
		}
	}
	raise_alignment(t, capset_blob_alignment(in->caps), VGALLOC__ALIGN_CAPSET);
	raise_alignment(t, in->info->host_page_size, VGALLOC__ALIGN_HOST_PAGE);
}

/* DESIGN §4 rule 2: override, configured guest vram, the capset's use_guest_vram, the
 * hypervisor hint, host-first. */
static void derive_mode(const struct vgalloc__trait_inputs *in, struct vgalloc__traits *t)
{
	if (in->env_alloc_mode) {
		t->alloc_mode = in->env_alloc_mode;
		t->mode_reason = VGALLOC_MODE_REASON_ENV;
	} else if (in->info->alloc_mode) {
		t->alloc_mode = in->info->alloc_mode;
		t->mode_reason = VGALLOC_MODE_REASON_OVERRIDE;
	} else if (t->guest_vram) {
		t->alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST;
		t->mode_reason = VGALLOC_MODE_REASON_GUEST_VRAM;
	} else if (t->use_guest_vram == 1) {
		t->alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST;
		t->mode_reason = VGALLOC_MODE_REASON_CAPSET;
	} else if (t->hypervisor_hint == VGALLOC_HYPERVISOR_STATIC) {
		t->alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST;
		t->mode_reason = VGALLOC_MODE_REASON_HINT;
	} else {
		t->alloc_mode = VGALLOC_ALLOC_MODE_HOST_FIRST;
		t->mode_reason = VGALLOC_MODE_REASON_DEFAULT;
	}
}

void vgalloc__traits_derive(const struct vgalloc__trait_inputs *in, struct vgalloc__traits *t)
{
	const struct vgalloc_device_create_info *info = in->info;
	const struct vgalloc_capset_info *caps = in->caps;
	bool venus = caps->id == VGALLOC_CAPSET_VENUS;

	*t = (struct vgalloc__traits){ 0 };
	t->flavour = info->flavour;
	t->capset_id = info->capset_id;
	t->hypervisor_hint = info->hypervisor_hint;
	t->host_visible = param_or_zero(in, VGALLOC_PARAM_HOST_VISIBLE) == 1;
	t->cross_device = param_or_zero(in, VGALLOC_PARAM_CROSS_DEVICE) == 1;
	t->has_3d = param_or_zero(in, VGALLOC_PARAM_3D_FEATURES) == 1;
	t->placed_maps = in->device_flags & VGALLOC_DEVICE_PLACED_MAPS;
	t->no_suballoc = in->device_flags & VGALLOC_DEVICE_NO_SUBALLOC;
	t->use_guest_vram = venus ? caps->u.venus.use_guest_vram : 0;
	t->gfxstream = caps->id == VGALLOC_CAPSET_GFXSTREAM_VULKAN;
	t->deferred_mapping = t->gfxstream && caps->u.gfxstream_vulkan.deferred_mapping;
	t->blob_id_0 = venus && caps->u.venus.supports_blob_id_0;
	t->max_suballoc_size =
	        info->max_suballoc_size ? info->max_suballoc_size : VGALLOC__DEFAULT_MAX_SUBALLOC;
	t->max_block_size =
	        info->max_block_size ? info->max_block_size : VGALLOC__DEFAULT_MAX_BLOCK;
	t->min_block_size = info->min_block_size ? info->min_block_size
	                    : t->gfxstream       ? VGALLOC__DEFAULT_MIN_BLOCK_GFX
	                                         : VGALLOC__DEFAULT_MIN_BLOCK;
	/* The largest alignment a pool block honours without existing for one allocation. */
	t->max_suballoc_alignment = VGALLOC__MIN(t->max_block_size, VGALLOC__MAX_SUBALLOC_ALIGN);
	switch (info->flavour) {
	case VGALLOC_FLAVOUR_CHROMEOS:
		t->create_guest_handle =
		        param_or_zero(in, VGALLOC_UAPI_CROS_PARAM_CREATE_GUEST_HANDLE) == 1;
		t->guest_vram = param_or_zero(in, VGALLOC_UAPI_CROS_PARAM_GUEST_VRAM) == 1;
		break;
	case VGALLOC_FLAVOUR_GFXSTREAM:
		t->create_guest_handle =
		        param_or_zero(in, VGALLOC_UAPI_GFXSTREAM_PARAM_CREATE_GUEST_HANDLE) == 1;
		break;
	default:
		break;
	}
	if (in->device_flags & VGALLOC_DEVICE_GUEST_VRAM) {
		t->guest_vram = true;
	}
	derive_alignment(in, t);
	derive_mode(in, t);
	t->types = in->types;
	t->type_count = in->type_count;
}

/* Never below the map alignment, the atom or the buffer-image granularity. */
static uint64_t floored(const struct vgalloc__mem_type *t, uint64_t a)
{
	a = VGALLOC__MAX(a, t->min_map_alignment);
	a = VGALLOC__MAX(a, t->non_coherent_atom_size);
	return VGALLOC__MAX(a, t->buffer_image_granularity);
}

/*
 * DESIGN §4 rule 5: the consumer's base alignment, else 64 KiB for types that can back optimal
 * images and 4 KiB otherwise; smaller allocations as the consumer's size table says; all floored.
 */
int vgalloc__type_alignments(struct vgalloc__mem_type *t)
{
	uint64_t base = t->base_alignment ? t->base_alignment
	                : (t->flags & VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES)
	                        ? VGALLOC__POOL_ALIGN_IMAGES
	                        : VGALLOC__POOL_ALIGN_DEFAULT;

	if (t->size_alignment_count > VGALLOC_MAX_SIZE_ALIGNMENTS) {
		return -EINVAL;
	}
	for (uint32_t i = 0; i < t->size_alignment_count; i++) {
		const struct vgalloc_size_alignment *e = &t->size_alignments[i];
		const struct vgalloc_size_alignment *prev = i ? &t->size_alignments[i - 1] : NULL;

		if (!e->max_size || !vgalloc__sane_alignment(e->alignment, 1) ||
		    e->alignment > base ||
		    (prev && (e->max_size <= prev->max_size || e->alignment < prev->alignment))) {
			return -EINVAL;
		}
	}
	t->type_alignment = floored(t, base);
	t->pool_alignment = t->type_alignment;
	for (uint32_t i = 0; i < t->size_alignment_count; i++) {
		t->size_alignments[i].alignment = floored(t, t->size_alignments[i].alignment);
		t->pool_alignment =
		        VGALLOC__MIN(t->pool_alignment, t->size_alignments[i].alignment);
	}
	return 0;
}
