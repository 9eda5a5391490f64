/* SPDX-License-Identifier: MIT */
/*
 * The device: create-info validation, backend selection, probing, context initialisation in own
 * mode, params and capset bytes, the blob alignment and the allocation order. Everything later
 * calls read the device's traits from here and never ask the kernel again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../backends/virtgpu/virtgpu.h"
#include "private.h"

_Static_assert(offsetof(struct vgalloc_device_create_info, flavour) ==
                       VGALLOC__V0_DEVICE_CREATE_INFO,
               "device create-info version 0 ends where the appended fields start");
_Static_assert(sizeof(struct vgalloc_memory_type) == VGALLOC__V0_MEMORY_TYPE,
               "memory type version 0 size");
_Static_assert(sizeof(struct vgalloc_host_hooks) == VGALLOC__V0_HOST_HOOKS, "hooks version 0 size");
_Static_assert(offsetof(struct vgalloc_device_info, flavour) == VGALLOC__V0_DEVICE_INFO,
               "device info version 0 ends where the appended fields start");
_Static_assert(offsetof(struct vgalloc_stats, shmem_live) == 184, "stats v1 size");
_Static_assert(offsetof(struct vgalloc_stats, pools) == VGALLOC__V0_STATS,
               "stats version 0 ends where the appended fields start");

/* Largest capset the library keeps; GET_CAPS reports no length, so we read up to this. */
#define CAPSET_MAX 4096u

/* Bytes of a capset the device reads: the newest layout we know, or a generous default. */
static uint32_t capset_read_size(uint32_t id)
{
	uint32_t size = vgalloc__capset_layout_size(id);

	return size ? size : 256;
}

static bool param_known(const struct vgalloc_device *dev, uint32_t param)
{
	return dev->params_present & (1u << param);
}

static uint64_t param_or_zero(const struct vgalloc_device *dev, uint32_t param)
{
	return param_known(dev, param) ? dev->params[param] : 0;
}

/* The highest param number each flavour's kernel knows. */
static uint32_t last_param(uint32_t flavour)
{
	switch (flavour) {
	case VGALLOC_FLAVOUR_CHROMEOS:
		return VGALLOC_UAPI_CROS_PARAM_QUERY_DEV;
	case VGALLOC_FLAVOUR_GFXSTREAM:
		return VGALLOC_UAPI_GFXSTREAM_PARAM_CREATE_GUEST_HANDLE;
	default:
		return VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT;
	}
}

static int read_params(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info)
{
	uint32_t last = last_param(info->flavour);

	for (uint32_t p = 1; p <= last; p++) {
		uint64_t value = 0; /* the kernel writes an int: start from zero */
		int ret;

		if (info->params_present & (1u << p)) {
			dev->params[p] = info->params[p];
			dev->params_present |= 1u << p;
			continue;
		}
		ret = VGALLOC__BE(dev, get_param, p, &value);
		if (ret == -EINVAL || ret == -ENOENT) {
			continue; /* an older kernel, or BLOB_ALIGNMENT not negotiated */
		}
		if (ret) {
			vgalloc__log(dev, VGALLOC_LOG_ERROR, "GETPARAM %u failed: %d", p, ret);
			return ret;
		}
		dev->params[p] = value;
		dev->params_present |= 1u << p;
	}
	/* Params beyond the flavour's numbering are only taken from the caller. */
	for (uint32_t p = last + 1; p <= VGALLOC_PARAM_MAX; p++) {
		if (info->params_present & (1u << p)) {
			dev->params[p] = info->params[p];
			dev->params_present |= 1u << p;
		}
	}
	return 0;
}

static int probe_own(struct vgalloc_device *dev)
{
	static const uint32_t required[] = {
		VGALLOC_UAPI_PARAM_3D_FEATURES,
		VGALLOC_UAPI_PARAM_CAPSET_QUERY_FIX,
		VGALLOC_UAPI_PARAM_RESOURCE_BLOB,
		VGALLOC_UAPI_PARAM_CONTEXT_INIT,
	};

	for (uint32_t i = 0; i < VGALLOC__ARRAY_SIZE(required); i++) {
		if (param_or_zero(dev, required[i]) != 1) {
			vgalloc__log(dev, VGALLOC_LOG_ERROR, "kernel lacks required param %u",
			             required[i]);
			return -EOPNOTSUPP;
		}
	}
	if (dev->capset_id >= 64 || !(param_or_zero(dev, VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS) &
	                              (1ull << dev->capset_id))) {
		vgalloc__log(dev, VGALLOC_LOG_ERROR, "host does not offer capset %u",
		             dev->capset_id);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int context_init(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info)
{
	struct vgalloc_context_param_value params[3];
	uint32_t n = 0;

	params[n++] = (struct vgalloc_context_param_value){ VGALLOC_UAPI_CONTEXT_PARAM_CAPSET_ID,
		                                            dev->capset_id };
	if (info->num_rings) {
		params[n++] =
		        (struct vgalloc_context_param_value){ VGALLOC_UAPI_CONTEXT_PARAM_NUM_RINGS,
			                                      info->num_rings };
	}
	/* A kernel without EXPLICIT_DEBUG_NAME rejects the whole CONTEXT_INIT for this param. */
	if (info->debug_name && info->flavour != VGALLOC_FLAVOUR_CHROMEOS &&
	    param_or_zero(dev, VGALLOC_UAPI_PARAM_EXPLICIT_DEBUG_NAME) == 1) {
		params[n++] = (struct vgalloc_context_param_value){
			VGALLOC_UAPI_CONTEXT_PARAM_DEBUG_NAME, (uint64_t)(uintptr_t)info->debug_name
		};
	}
	return VGALLOC__BE(dev, context_init, params, n);
}

static int read_capset(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info)
{
	uint32_t size;
	int ret;

	if (info->capset_data) {
		if (!info->capset_size || info->capset_size > CAPSET_MAX) {
			return -EINVAL;
		}
		size = info->capset_size;
	} else {
		size = capset_read_size(dev->capset_id);
	}
	dev->capset = vgalloc__alloc(&dev->allocator, size, 8);
	if (!dev->capset) {
		return -ENOMEM;
	}
	dev->capset_size = size;
	if (info->capset_data) {
		memcpy(dev->capset, info->capset_data, size);
		return 0;
	}
	/* GET_CAPS copies min(size, host size) and says nothing: a missing field must read 0. */
	memset(dev->capset, 0, size);
	ret = VGALLOC__BE(dev, get_capset, dev->capset_id, 0, dev->capset, size);
	if (ret == -EINVAL) {
		return -EOPNOTSUPP;
	}
	return ret;
}

/*
 * Parse the capset the context uses. The bytes are the device's (or the caller's copy of them):
 * present or zero. A capset this library has no layout for is kept but not interpreted.
 */
static int check_capset(struct vgalloc_device *dev, struct vgalloc_capset_info *caps)
{
	int ret = vgalloc__capset_parse(dev->capset_id, dev->capset, dev->capset_size,
	                                VGALLOC_CAPSET_FROM_DEVICE, caps);

	if (ret == -EOPNOTSUPP) {
		memset(caps, 0, sizeof(*caps));
		return 0;
	}
	if (ret) {
		vgalloc__log(dev, VGALLOC_LOG_ERROR, "%s capset: a value no valid host sends",
		             vgalloc_capset_name(dev->capset_id));
		return -EIO;
	}
	return 0;
}

static uint32_t capset_blob_alignment(const struct vgalloc_capset_info *caps)
{
	switch (caps->id) {
	case VGALLOC_UAPI_CAPSET_GFXSTREAM_VULKAN:
		return caps->u.gfxstream_vulkan.blob_alignment;
	case VGALLOC_UAPI_CAPSET_GFXSTREAM_GLES:
	case VGALLOC_UAPI_CAPSET_GFXSTREAM_COMPOSER:
	case VGALLOC_UAPI_CAPSET_GFXSTREAM_MAGMA:
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
static void derive_alignment(struct vgalloc_device *dev, const struct vgalloc_capset_info *caps,
                             uint32_t host_page)
{
	struct vgalloc__traits *t = &dev->traits;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t param = param_or_zero(dev, VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT);

	t->blob_alignment = 4096;
	t->blob_alignment_source = VGALLOC__ALIGN_MIN;
	if (page > 0) {
		raise_alignment(t, (uint64_t)page, VGALLOC__ALIGN_PAGE);
	}
	/* Only upstream's param 9 is BLOB_ALIGNMENT (elsewhere 9 means something else), and only
	 * a sane alignment is one: a downstream "guest vram = 1" must never become 1 byte. */
	if (t->flavour == VGALLOC_FLAVOUR_UPSTREAM &&
	    param_known(dev, VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT)) {
		if (vgalloc__is_pow2(param) && param >= 4096 && param <= (1ull << 30)) {
			raise_alignment(t, param, VGALLOC__ALIGN_PARAM);
		} else {
			vgalloc__log(dev, VGALLOC_LOG_WARN,
			             "ignoring BLOB_ALIGNMENT %llu: not a power of two of at least "
			             "4096 (a downstream kernel's param 9?)",
			             (unsigned long long)param);
			dev->params_present &= ~(1u << VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT);
		}
	}
	raise_alignment(t, capset_blob_alignment(caps), VGALLOC__ALIGN_CAPSET);
	raise_alignment(t, host_page, VGALLOC__ALIGN_HOST_PAGE);
}

static void derive_traits(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info,
                          const struct vgalloc_capset_info *caps, const struct vgalloc__env *env)
{
	struct vgalloc__traits *t = &dev->traits;
	bool venus = caps->id == VGALLOC_UAPI_CAPSET_VENUS;

	t->flavour = info->flavour;
	t->capset_id = dev->capset_id;
	t->hypervisor_hint = info->hypervisor_hint;
	t->host_visible = param_or_zero(dev, VGALLOC_UAPI_PARAM_HOST_VISIBLE) == 1;
	t->cross_device = param_or_zero(dev, VGALLOC_UAPI_PARAM_CROSS_DEVICE) == 1;
	t->has_3d = param_or_zero(dev, VGALLOC_UAPI_PARAM_3D_FEATURES) == 1;
	t->placed_maps = dev->flags & VGALLOC_DEVICE_PLACED_MAPS;
	t->no_suballoc = dev->flags & VGALLOC_DEVICE_NO_SUBALLOC;
	t->use_guest_vram = venus ? caps->u.venus.use_guest_vram : 0;
	t->gfxstream = caps->id == VGALLOC_UAPI_CAPSET_GFXSTREAM_VULKAN;
	t->deferred_mapping = t->gfxstream && caps->u.gfxstream_vulkan.deferred_mapping;
	t->blob_id_0 = venus && caps->u.venus.supports_blob_id_0;
	t->max_suballoc_size = info->max_suballoc_size ? info->max_suballoc_size : 4ull << 20;
	/* The largest alignment a pool block honours without existing for one allocation. */
	t->max_suballoc_alignment =
	        VGALLOC__MIN(info->max_block_size ? info->max_block_size : 32ull << 20, 4ull << 20);
	switch (info->flavour) {
	case VGALLOC_FLAVOUR_CHROMEOS:
		t->create_guest_handle =
		        param_or_zero(dev, VGALLOC_UAPI_CROS_PARAM_CREATE_GUEST_HANDLE) == 1;
		t->guest_vram = param_or_zero(dev, VGALLOC_UAPI_CROS_PARAM_GUEST_VRAM) == 1;
		break;
	case VGALLOC_FLAVOUR_GFXSTREAM:
		t->create_guest_handle =
		        param_or_zero(dev, VGALLOC_UAPI_GFXSTREAM_PARAM_CREATE_GUEST_HANDLE) == 1;
		break;
	default:
		break;
	}
	if (dev->flags & VGALLOC_DEVICE_GUEST_VRAM) {
		t->guest_vram = true;
	}
	derive_alignment(dev, caps, info->host_page_size);

	/* Order of precedence (DESIGN §4 rule 2): override, configured guest vram, the capset's
	 * use_guest_vram, the hypervisor hint, host-first. */
	if (env->alloc_mode) {
		t->alloc_mode = env->alloc_mode;
		t->mode_reason = VGALLOC_MODE_REASON_ENV;
	} else if (info->alloc_mode) {
		t->alloc_mode = info->alloc_mode;
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
	t->types = dev->types;
	t->type_count = dev->type_count;
}

/*
 * The optional init self-test: one HOST3D, blob_id 0, MAPPABLE blob of the blob alignment's size,
 * mapped and freed. Host failures only show at mmap, so without it a host that cannot map our
 * blobs (say a 16 KiB host page with 4 KiB blobs) would fail every later allocation instead.
 */
static int self_test(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info,
                     const struct vgalloc_capset_info *caps)
{
	struct vgalloc_blob_create_info ci = {
		.struct_size = sizeof(ci),
		.blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		.blob_flags = info->self_test_blob_flags ? info->self_test_blob_flags
		                                         : VGALLOC_BLOB_FLAG_MAPPABLE,
		.size = dev->traits.blob_alignment,
	};
	struct vgalloc_blob *blob = NULL;
	const char *stage = "created";
	void *ptr = NULL;
	int ret;

	if (caps->id != VGALLOC_UAPI_CAPSET_VENUS || !caps->u.venus.supports_blob_id_0) {
		vgalloc__log(dev, VGALLOC_LOG_INFO, "self-test skipped: no blob_id 0 support");
		return 0;
	}
	ret = vgalloc__blob_create(dev, &ci, &blob);
	if (!ret) {
		stage = "mapped";
		ret = vgalloc__blob_map(dev, blob, &ptr);
		if (!ret) {
			vgalloc__blob_unmap(dev, blob);
		}
		vgalloc__blob_release(dev, blob);
	}
	if (ret) {
		/* Hosts accept a blob they cannot serve and refuse it at the mapping. */
		/* The kernel accepts what the host cannot serve: a refusal shows at the mapping. */
		bool refused = ret == -EINVAL && !strcmp(stage, "mapped");

		vgalloc__log(
		        dev, VGALLOC_LOG_ERROR,
		        "self-test: a %llu-byte HOST3D blob_id-0 blob (flags 0x%x) could not be "
		        "%s (%d)%s%s; device creation fails with -EIO",
		        (unsigned long long)dev->traits.blob_alignment, ci.blob_flags, stage, ret,
		        refused ? ": the host refuses this kind of blob" : "",
		        refused && ci.blob_flags == VGALLOC_BLOB_FLAG_MAPPABLE
		                ? " (is its page larger than the blob alignment?)"
		                : "");
		return -EIO;
	}
	return 0;
}

static int copy_memory_types(struct vgalloc_device *dev,
                             const struct vgalloc_device_create_info *info)
{
	const unsigned char *p = (const void *)info->memory_types;
	uint32_t stride;

	if (!info->memory_type_count) {
		return 0;
	}
	if (!p || info->memory_type_count > 64) {
		return -EINVAL;
	}
	memcpy(&stride, p, sizeof(stride));
	if (stride < VGALLOC__V0_MEMORY_TYPE) {
		return -EINVAL;
	}
	dev->types =
	        vgalloc__alloc(&dev->allocator, sizeof(*dev->types) * info->memory_type_count, 8);
	if (!dev->types) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < info->memory_type_count; i++) {
		struct vgalloc_memory_type t;
		struct vgalloc__mem_type *d = &dev->types[i];
		const unsigned char *elem = p + (size_t)i * stride;
		uint32_t elem_size;
		int ret;

		/* Every entry shares the first one's size: it is the array's stride. */
		memcpy(&elem_size, elem, sizeof(elem_size));
		if (elem_size != stride) {
			return -EINVAL;
		}
		ret = vgalloc__struct_in(elem, VGALLOC__V0_MEMORY_TYPE, sizeof(t), &t);
		if (ret) {
			return ret;
		}
		if ((t.flags & ~VGALLOC__MEMORY_TYPE_FLAGS_ALL) ||
		    (t.property_flags & ~VGALLOC__MEMORY_PROPERTIES_ALL)) {
			return -EINVAL;
		}
		if ((t.min_map_alignment && !vgalloc__is_pow2(t.min_map_alignment)) ||
		    (t.non_coherent_atom_size && !vgalloc__is_pow2(t.non_coherent_atom_size)) ||
		    (t.buffer_image_granularity && !vgalloc__is_pow2(t.buffer_image_granularity)) ||
		    (t.base_alignment && !vgalloc__is_pow2(t.base_alignment))) {
			return -EINVAL;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (dev->types[j].host_index == t.host_index) {
				return -EINVAL;
			}
		}
		d->host_index = t.host_index;
		d->property_flags = t.property_flags;
		d->flags = t.flags;
		d->min_map_alignment = t.min_map_alignment;
		d->non_coherent_atom_size = t.non_coherent_atom_size;
		d->buffer_image_granularity = t.buffer_image_granularity;
		d->base_alignment = t.base_alignment;
		/* DESIGN §4 rule 5: the consumer's base alignment, else 64 KiB for types that can
		 * back optimal images and 4 KiB otherwise; never below the map alignment, the atom
		 * or the buffer-image granularity. */
		d->pool_alignment = t.base_alignment ? t.base_alignment
		                    : (t.flags & VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES) ? 65536
		                                                                     : 4096;
		d->pool_alignment = VGALLOC__MAX(d->pool_alignment, t.min_map_alignment);
		d->pool_alignment = VGALLOC__MAX(d->pool_alignment, t.non_coherent_atom_size);
		d->pool_alignment = VGALLOC__MAX(d->pool_alignment, t.buffer_image_granularity);
	}
	dev->type_count = info->memory_type_count;
	return 0;
}

static int copy_hooks(struct vgalloc_device *dev, const struct vgalloc_host_hooks *hooks)
{
	int ret;

	if (!hooks) {
		return 0;
	}
	ret = vgalloc__struct_in(hooks, VGALLOC__V0_HOST_HOOKS, sizeof(dev->hooks), &dev->hooks);
	if (ret) {
		return ret;
	}
	if (dev->hooks.reserved || !dev->hooks.new_blob_id || !dev->hooks.host_alloc ||
	    !dev->hooks.host_wait || !dev->hooks.host_roundtrip || !dev->hooks.host_import ||
	    !dev->hooks.host_free) {
		return -EINVAL;
	}
	dev->has_hooks = true;
	return 0;
}

static int select_backend(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info)
{
	struct vgalloc_backend *be = info->backend_object;

	switch (info->backend) {
	case VGALLOC_BACKEND_MOCK:
	case VGALLOC_BACKEND_CUSTOM:
		if (!be || be->magic != VGALLOC_BACKEND_MAGIC || be->reserved || !be->ops ||
		    be->ops->abi_version != VGALLOC_BACKEND_ABI_VERSION) {
			return -EINVAL;
		}
		if (info->backend == VGALLOC_BACKEND_MOCK && strcmp(be->ops->name, "mock") != 0) {
			return -EINVAL;
		}
		break;
	case VGALLOC_BACKEND_VIRTGPU: {
		struct vgalloc__virtgpu *vg = NULL;
		int ret;

		/* Adopt mode borrows the caller's fd; own mode finds and opens a render node. */
		if (info->mode == VGALLOC_DEVICE_MODE_ADOPT && info->fd < 0) {
			return -EINVAL;
		}
		ret = vgalloc__virtgpu_create(info->mode == VGALLOC_DEVICE_MODE_ADOPT ? info->fd
		                                                                      : -1,
		                              info->capset_id, &dev->allocator, NULL, &vg);
		if (ret) {
			return ret == -ENODEV ? -EOPNOTSUPP : ret;
		}
		be = &vg->base;
		dev->owns_backend = true;
		break;
	}
	default:
		return -EINVAL;
	}
	/* Minimal vtable invariants, checked once here so the hot paths can trust the table. */
	if (!be->ops->get_param || !be->ops->get_capset || !be->ops->context_init ||
	    !be->ops->blob_create || !be->ops->blob_map || !be->ops->blob_unmap ||
	    !be->ops->blob_export || !be->ops->blob_import || !be->ops->blob_info ||
	    !be->ops->blob_destroy || !be->ops->wait || !be->ops->get_fd) {
		return -EINVAL;
	}
	dev->be = be;
	dev->ops = be->ops;
	return 0;
}

static void device_free(struct vgalloc_device *dev)
{
	struct vgalloc_allocator a = dev->allocator;

	/* Own-mode virtgpu backends are the device's (closing the fd it opened); the mock and
	 * custom ones are borrowed. */
	if (dev->owns_backend && dev->be && dev->ops->destroy) {
		dev->ops->destroy(dev->be);
	}
	for (uint32_t i = 0; i < dev->shard_count; i++) {
		vgalloc__mshard_finish(dev, &dev->dshards[i]);
	}
	vgalloc__registry_free(dev);
	vgalloc__slab_finish(dev, &dev->blobs);
	vgalloc__free(&a, dev->by_handle);
	vgalloc__free(&a, dev->capset);
	vgalloc__free(&a, dev->types);
	pthread_cond_destroy(&dev->cond);
	pthread_mutex_destroy(&dev->shmem.lock);
	pthread_mutex_destroy(&dev->import_lock);
	pthread_mutex_destroy(&dev->lock);
	dev->magic = VGALLOC__MAGIC_FREE;
	vgalloc__free(&a, dev);
}

int vgalloc_device_create(const struct vgalloc_device_create_info *user_info,
                          struct vgalloc_device **out_dev)
{
	struct vgalloc_device_create_info info;
	struct vgalloc_allocator allocator;
	struct vgalloc__env env = { 0 };
	struct vgalloc_capset_info caps;
	struct vgalloc_device *dev;
	int ret;

	if (!out_dev) {
		return -EINVAL;
	}
	ret = vgalloc__struct_in(user_info, VGALLOC__V0_DEVICE_CREATE_INFO, sizeof(info), &info);
	if (ret) {
		return ret;
	}
	if (info.mode != VGALLOC_DEVICE_MODE_OWN && info.mode != VGALLOC_DEVICE_MODE_ADOPT) {
		return -EINVAL;
	}
	if (info.mode == VGALLOC_DEVICE_MODE_ADOPT &&
	    !(info.flags & VGALLOC_DEVICE_CONTEXT_READY)) {
		return -EINVAL;
	}
	/* vgalloc.h's one rule: unknown flag bits and non-zero reserved fields are -EINVAL. */
	if ((info.flags & ~VGALLOC__DEVICE_FLAGS_ALL) || info.reserved) {
		return -EINVAL;
	}
	if (info.pool_shards > VGALLOC__MAX_SHARDS ||
	    (info.min_block_size &&
	     (!vgalloc__is_pow2(info.min_block_size) || info.min_block_size < 4096)) ||
	    (info.max_block_size &&
	     (!vgalloc__is_pow2(info.max_block_size) || info.max_block_size < 4096 ||
	      info.max_block_size < info.min_block_size)) ||
	    info.flavour > VGALLOC_FLAVOUR_GFXSTREAM ||
	    (info.host_page_size &&
	     (!vgalloc__is_pow2(info.host_page_size) || info.host_page_size < 4096 ||
	      info.host_page_size > (1u << 20))) ||
	    (info.self_test_blob_flags & ~(uint32_t)VGALLOC_UAPI_BLOB_FLAGS_MAINLINE)) {
		return -EINVAL;
	}
	if (info.alloc_mode > VGALLOC_ALLOC_MODE_GUEST_FIRST ||
	    info.hypervisor_hint > VGALLOC_HYPERVISOR_STATIC ||
	    info.log_level > VGALLOC_LOG_DEBUG || !info.capset_id ||
	    info.num_rings > VGALLOC_UAPI_MAX_RINGS ||
	    (info.params_present & 1u) || /* there is no param 0 */
	    (info.params_present >> (VGALLOC_PARAM_MAX + 1)) ||
	    (info.capset_data && !info.capset_size)) {
		return -EINVAL;
	}
	if (info.allocator) {
		if (!info.allocator->alloc || !info.allocator->free) {
			return -EINVAL;
		}
		allocator = *info.allocator;
	} else {
		vgalloc__allocator_default(&allocator);
	}

	dev = vgalloc__alloc(&allocator, sizeof(*dev), 64);
	if (!dev) {
		return -ENOMEM;
	}
	memset(dev, 0, sizeof(*dev));
	dev->magic = VGALLOC__MAGIC_DEVICE;
	dev->allocator = allocator;
	dev->backend_type = info.backend;
	dev->mode = info.mode;
	dev->flags = info.flags;
	dev->capset_id = info.capset_id;
	dev->log_fn = info.log_fn;
	dev->log_user = info.log_user;
	dev->log_level = info.log_level;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->import_lock, NULL);
	pthread_cond_init(&dev->cond, NULL);
	vgalloc__shmem_init(dev);
	vgalloc__slab_init(&dev->blobs, sizeof(struct vgalloc_blob), VGALLOC__MAGIC_BLOB);
	dev->shard_count = info.pool_shards ? info.pool_shards : 4;
	for (uint32_t i = 0; i < dev->shard_count; i++) {
		vgalloc__mshard_init(dev, &dev->dshards[i]);
	}
	dev->retain_bytes = info.retain_bytes ? info.retain_bytes : 32ull << 20;
	dev->min_block_size = info.min_block_size;
	dev->max_block_size = info.max_block_size ? info.max_block_size : 32ull << 20;

	if (info.flags & VGALLOC_DEVICE_ALLOW_ENV) {
		vgalloc__env_read(&env);
		if (env.log_level) {
			dev->log_level = env.log_level;
		}
		if (env.no_suballoc) {
			dev->flags |= VGALLOC_DEVICE_NO_SUBALLOC;
		}
	}

	/* Every caller struct is checked before the backend is chosen: a bad one must not open a
	 * render node or reach the kernel. */
	ret = copy_memory_types(dev, &info);
	if (!ret) {
		ret = copy_hooks(dev, info.hooks);
	}
	if (!ret) {
		ret = select_backend(dev, &info);
	}
	/* Own mode: only GETPARAM and GET_CAPS may run before CONTEXT_INIT, or the kernel makes an
	 * implicit context and our CONTEXT_INIT fails with -EEXIST. */
	if (!ret) {
		ret = read_params(dev, &info);
	}
	if (!ret && info.mode == VGALLOC_DEVICE_MODE_OWN) {
		ret = probe_own(dev);
	}
	if (!ret && info.mode == VGALLOC_DEVICE_MODE_ADOPT &&
	    param_or_zero(dev, VGALLOC_UAPI_PARAM_RESOURCE_BLOB) != 1) {
		ret = -EOPNOTSUPP;
	}
	if (!ret) {
		ret = read_capset(dev, &info);
	}
	if (!ret) {
		ret = check_capset(dev, &caps);
	}
	if (!ret && info.mode == VGALLOC_DEVICE_MODE_OWN) {
		ret = context_init(dev, &info);
		if (ret) {
			vgalloc__log(dev, VGALLOC_LOG_ERROR, "CONTEXT_INIT failed: %d", ret);
		}
	}
	if (!ret) {
		derive_traits(dev, &info, &caps, &env);
	}
	if (!ret && info.mode == VGALLOC_DEVICE_MODE_OWN &&
	    (info.flags & VGALLOC_DEVICE_SELF_TEST)) {
		ret = self_test(dev, &info, &caps);
	}
	if (ret) {
		if (ret > 0 || ret < -4095) {
			ret = -EIO; /* a backend answered something that is no errno */
		}
		device_free(dev);
		return ret;
	}
	vgalloc__log(dev, VGALLOC_LOG_INFO,
	             "device ready: backend %s, %s mode, %s, blob alignment %llu", dev->ops->name,
	             dev->mode == VGALLOC_DEVICE_MODE_OWN ? "own" : "adopt",
	             dev->traits.alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST ? "guest-first"
	                                                                      : "host-first",
	             (unsigned long long)dev->traits.blob_alignment);
	*out_dev = dev;
	return 0;
}

void vgalloc_device_destroy(struct vgalloc_device *dev)
{
	if (!dev || dev->magic != VGALLOC__MAGIC_DEVICE) {
		return;
	}
	vgalloc__shmem_trim(dev);
	vgalloc__mem_destroy_all(dev);
	vgalloc__pools_destroy(dev);
	vgalloc__blob_destroy_all(dev);
	device_free(dev);
}

int vgalloc_device_get_fd(const struct vgalloc_device *dev)
{
	int fd;

	if (!dev) {
		return -EINVAL;
	}
	fd = dev->ops->get_fd(dev->be);
	return fd < 0 ? -ENODEV : fd;
}

int vgalloc_device_get_param(const struct vgalloc_device *dev, uint32_t param, uint64_t *value)
{
	if (!dev || !value || param > VGALLOC_PARAM_MAX) {
		return -EINVAL;
	}
	if (!param_known(dev, param)) {
		return -ENOENT;
	}
	*value = dev->params[param];
	return 0;
}

int vgalloc_device_read_capset(struct vgalloc_device *dev, uint32_t capset_id,
                               struct vgalloc_capset_info *out)
{
	struct vgalloc_capset_info info;
	unsigned char *buf;
	uint32_t size, out_size;
	int ret;

	if (!dev || !out) {
		return -EINVAL;
	}
	memcpy(&out_size, out, sizeof(out_size));
	if (out_size < sizeof(info)) {
		return -EINVAL;
	}
	if (capset_id == dev->capset_id) {
		ret = vgalloc__capset_parse(capset_id, dev->capset, dev->capset_size,
		                            VGALLOC_CAPSET_FROM_DEVICE, &info);
		return ret ? ret : vgalloc__struct_out(out, &info, sizeof(info), sizeof(info));
	}
	size = vgalloc__capset_layout_size(capset_id);
	if (!size) {
		return -EOPNOTSUPP;
	}
	if (capset_id >= 64 ||
	    !(param_or_zero(dev, VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS) & (1ull << capset_id))) {
		return -EOPNOTSUPP;
	}
	buf = vgalloc__alloc(&dev->allocator, size, 8);
	if (!buf) {
		return -ENOMEM;
	}
	/* GET_CAPS says nothing about how much it copied: what it did not write must read 0. */
	memset(buf, 0, size);
	ret = VGALLOC__BE(dev, get_capset, capset_id, 0, buf, size);
	if (ret == -EINVAL) {
		ret = -EOPNOTSUPP;
	}
	if (!ret) {
		ret = vgalloc__capset_parse(capset_id, buf, size, VGALLOC_CAPSET_FROM_DEVICE,
		                            &info);
	}
	vgalloc__free(&dev->allocator, buf);
	return ret ? ret : vgalloc__struct_out(out, &info, sizeof(info), sizeof(info));
}

int vgalloc_device_get_info(const struct vgalloc_device *dev, struct vgalloc_device_info *out)
{
	struct vgalloc_device_info info;

	if (!dev) {
		return -EINVAL;
	}
	memset(&info, 0, sizeof(info));
	info.backend = dev->backend_type;
	info.mode = dev->mode;
	info.alloc_mode = dev->traits.alloc_mode;
	info.capset_id = dev->capset_id;
	info.capset_size = dev->capset_size;
	info.blob_alignment = dev->traits.blob_alignment;
	info.flags = dev->flags;
	info.memory_type_count = dev->type_count;
	info.has_host_visible = dev->traits.host_visible;
	info.has_cross_device = dev->traits.cross_device;
	info.flavour = dev->traits.flavour;
	info.mode_reason = dev->traits.mode_reason;
	info.guest_vram = dev->traits.guest_vram;
	info.create_guest_handle = dev->traits.create_guest_handle;
	info.max_suballoc_size = dev->traits.max_suballoc_size;
	info.retain_bytes = dev->retain_bytes;
	/* 0 in the create-info means the plan's default: 16 MiB for gfxstream, else 4 MiB. */
	info.min_block_size = dev->min_block_size     ? dev->min_block_size
	                      : dev->traits.gfxstream ? 16ull << 20
	                                              : 4ull << 20;
	info.max_block_size = dev->max_block_size;
	info.pool_shards = dev->shard_count;
	return vgalloc__struct_out(out, &info, VGALLOC__V0_DEVICE_INFO, sizeof(info));
}

#define LOAD(c) atomic_load_explicit(&d->stats.c, memory_order_relaxed)

int vgalloc_device_get_stats(const struct vgalloc_device *dev, struct vgalloc_stats *out)
{
	struct vgalloc_stats s;
	/* atomic_load takes a non-const pointer in some C libraries' stdatomic. */
	struct vgalloc_device *d = (struct vgalloc_device *)dev;

	if (!dev) {
		return -EINVAL;
	}
	memset(&s, 0, sizeof(s));
	s.blobs_live = LOAD(blobs_live);
	s.blob_bytes = LOAD(blob_bytes);
	s.window_bytes = LOAD(window_bytes);
	s.blobs_mapped = LOAD(blobs_mapped);
	s.blobs_created = LOAD(blobs_created);
	s.blobs_imported = LOAD(blobs_imported);
	s.import_dedups = LOAD(import_dedups);
	s.mems_live = LOAD(mems_live);
	s.mem_bytes_requested = LOAD(mem_bytes_requested);
	s.mem_bytes_committed = LOAD(mem_bytes_committed);
	s.backend_calls = LOAD(backend_calls);
	s.hook_calls = LOAD(hook_calls);
	s.enospc_events = LOAD(enospc_events);
	s.teardown_errors = LOAD(teardown_errors);
	s.pools = atomic_load_explicit(&d->pool_count, memory_order_acquire);
	s.blocks = LOAD(blocks);
	s.block_bytes = LOAD(block_bytes);
	s.retained_bytes = LOAD(retained_bytes);
	vgalloc__pools_counts(d, &s.suballocs_live, &s.suballoc_bytes);
	s.block_creations = LOAD(block_creations);
	s.block_releases = LOAD(block_releases);
	pthread_mutex_lock(&d->shmem.lock);
	s.shmem_live = d->shmem.live;
	s.shmem_cached = d->shmem.cached;
	s.shmem_cached_bytes = d->shmem.cached_bytes;
	s.shmem_hits = d->shmem.hits;
	s.shmem_misses = d->shmem.misses;
	pthread_mutex_unlock(&d->shmem.lock);
	s.window_small_blocks = LOAD(window_small_blocks);
	s.window_dedicated = LOAD(window_dedicated);
	s.window_closed_blocks = LOAD(window_closed_blocks);
	return vgalloc__struct_out(out, &s, VGALLOC__V0_STATS, sizeof(s));
}

const char *vgalloc_path_name(uint32_t path)
{
	switch (path) {
	case VGALLOC_PATH_HOST_ONLY:
		return "host-only";
	case VGALLOC_PATH_HOST_FIRST_LAZY:
		return "host-first-lazy";
	case VGALLOC_PATH_HOST_FIRST_EAGER:
		return "host-first-eager";
	case VGALLOC_PATH_GUEST_FIRST:
		return "guest-first";
	case VGALLOC_PATH_IMPORT:
		return "import";
	case VGALLOC_PATH_GUEST_HANDLE:
		return "guest-handle";
	case VGALLOC_PATH_UNSUPPORTED:
		return "unsupported";
	default:
		return "unknown";
	}
}
