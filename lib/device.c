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

#include "private.h"

_Static_assert(sizeof(struct vgalloc_device_create_info) == VGALLOC__V0_DEVICE_CREATE_INFO,
	       "device create-info version 0 size");
_Static_assert(sizeof(struct vgalloc_memory_type) == VGALLOC__V0_MEMORY_TYPE,
	       "memory type version 0 size");
_Static_assert(sizeof(struct vgalloc_host_hooks) == VGALLOC__V0_HOST_HOOKS,
	       "hooks version 0 size");
_Static_assert(sizeof(struct vgalloc_device_info) == VGALLOC__V0_DEVICE_INFO,
	       "device info version 0 size");
_Static_assert(sizeof(struct vgalloc_stats) == VGALLOC__V0_STATS, "stats version 0 size");

/* Largest capset the library keeps; GET_CAPS reports no length, so we read up to this. */
#define CAPSET_MAX 4096u

/* Bytes of a capset that the device reads; the kernel copies min(this, host size). */
static uint32_t capset_read_size(uint32_t id)
{
	switch (id) {
	case VGALLOC_UAPI_CAPSET_VENUS:
		return VGALLOC_UAPI_VENUS_CAPSET_SIZE;
	case VGALLOC_UAPI_CAPSET_VIRGL:
		return 308;
	case VGALLOC_UAPI_CAPSET_VIRGL2:
		return 1384;
	default:
		return 256;
	}
}

static bool param_known(const struct vgalloc_device *dev, uint32_t param)
{
	return dev->params_present & (1u << param);
}

static uint64_t param_or_zero(const struct vgalloc_device *dev, uint32_t param)
{
	return param_known(dev, param) ? dev->params[param] : 0;
}

static int read_params(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info)
{
	for (uint32_t p = 1; p <= VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT; p++) {
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
	/* Params beyond upstream's numbering are only taken from the caller. */
	for (uint32_t p = VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT + 1; p <= VGALLOC_PARAM_MAX; p++) {
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
	if (dev->capset_id >= 64 ||
	    !(param_or_zero(dev, VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS) &
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
		params[n++] = (struct vgalloc_context_param_value){
			VGALLOC_UAPI_CONTEXT_PARAM_NUM_RINGS, info->num_rings
		};
	}
	/* A kernel without EXPLICIT_DEBUG_NAME rejects the whole CONTEXT_INIT for this param. */
	if (info->debug_name && param_or_zero(dev, VGALLOC_UAPI_PARAM_EXPLICIT_DEBUG_NAME) == 1) {
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

static uint32_t capset_u32(const struct vgalloc_device *dev, uint32_t offset)
{
	uint32_t v = 0;

	if (offset + 4 <= dev->capset_size) {
		memcpy(&v, dev->capset + offset, 4);
	}
	return v;
}

static int check_capset(struct vgalloc_device *dev)
{
	if (dev->capset_id != VGALLOC_UAPI_CAPSET_VENUS) {
		return 0;
	}
	if (capset_u32(dev, VGALLOC_UAPI_VENUS_WIRE_FORMAT_VERSION) == 0) {
		vgalloc__log(dev, VGALLOC_LOG_ERROR, "venus capset: wire_format_version 0");
		return -EIO;
	}
	if (capset_u32(dev, VGALLOC_UAPI_VENUS_USE_GUEST_VRAM) > 1) {
		vgalloc__log(dev, VGALLOC_LOG_ERROR, "venus capset: use_guest_vram %u",
			     capset_u32(dev, VGALLOC_UAPI_VENUS_USE_GUEST_VRAM));
		return -EIO;
	}
	return 0;
}

static void derive_traits(struct vgalloc_device *dev, uint32_t create_mode,
			  const struct vgalloc__env *env)
{
	uint64_t align = 4096;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t param_align = param_or_zero(dev, VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT);

	if (page > 0 && (uint64_t)page > align) {
		align = (uint64_t)page;
	}
	/* Upstream param 9 is BLOB_ALIGNMENT; a value that is no sane alignment is ignored. */
	if (param_known(dev, VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT)) {
		if (vgalloc__is_pow2(param_align) && param_align >= 4096) {
			align = VGALLOC__MAX(align, param_align);
		} else {
			vgalloc__log(dev, VGALLOC_LOG_WARN, "ignoring BLOB_ALIGNMENT %llu",
				     (unsigned long long)param_align);
			dev->params_present &= ~(1u << VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT);
		}
	}
	dev->blob_alignment = align;

	/* Order of precedence: override, capset use_guest_vram, hypervisor hint, host-first. */
	if (env->alloc_mode) {
		dev->alloc_mode = env->alloc_mode;
	} else if (create_mode) {
		dev->alloc_mode = create_mode;
	} else if (dev->capset_id == VGALLOC_UAPI_CAPSET_VENUS &&
		   capset_u32(dev, VGALLOC_UAPI_VENUS_USE_GUEST_VRAM) == 1) {
		dev->alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST;
	} else if (dev->hypervisor_hint == VGALLOC_HYPERVISOR_STATIC) {
		dev->alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST;
	} else {
		dev->alloc_mode = VGALLOC_ALLOC_MODE_HOST_FIRST;
	}
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
	dev->types = vgalloc__alloc(&dev->allocator,
				    sizeof(*dev->types) * info->memory_type_count, 8);
	if (!dev->types) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < info->memory_type_count; i++) {
		struct vgalloc_memory_type t;
		struct vgalloc__mem_type *d = &dev->types[i];
		int ret = vgalloc__struct_in(p + (size_t)i * stride, VGALLOC__V0_MEMORY_TYPE,
					     sizeof(t), &t);

		if (ret) {
			return ret;
		}
		if ((t.min_map_alignment && !vgalloc__is_pow2(t.min_map_alignment)) ||
		    (t.non_coherent_atom_size && !vgalloc__is_pow2(t.non_coherent_atom_size)) ||
		    (t.buffer_image_granularity &&
		     !vgalloc__is_pow2(t.buffer_image_granularity)) ||
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
		d->base_alignment = t.base_alignment;
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
	if (!dev->hooks.new_blob_id || !dev->hooks.host_alloc || !dev->hooks.host_wait ||
	    !dev->hooks.host_roundtrip || !dev->hooks.host_import || !dev->hooks.host_free) {
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
		if (!be || be->magic != VGALLOC_BACKEND_MAGIC || !be->ops ||
		    be->ops->abi_version != VGALLOC_BACKEND_ABI_VERSION) {
			return -EINVAL;
		}
		if (info->backend == VGALLOC_BACKEND_MOCK && strcmp(be->ops->name, "mock") != 0) {
			return -EINVAL;
		}
		break;
	case VGALLOC_BACKEND_VIRTGPU:
		/* The virtgpu backend is built by a later change; say so instead of pretending. */
		return -EOPNOTSUPP;
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

	vgalloc__slab_finish(dev, &dev->mems);
	vgalloc__slab_finish(dev, &dev->blobs);
	vgalloc__free(&a, dev->by_handle);
	vgalloc__free(&a, dev->capset);
	vgalloc__free(&a, dev->types);
	pthread_cond_destroy(&dev->cond);
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
	if (info.flags & ~(uint32_t)(VGALLOC_DEVICE_PLACED_MAPS | VGALLOC_DEVICE_ALLOW_ENV |
				     VGALLOC_DEVICE_NO_SUBALLOC | VGALLOC_DEVICE_CONTEXT_READY)) {
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
	dev->hypervisor_hint = info.hypervisor_hint;
	dev->capset_id = info.capset_id;
	dev->log_fn = info.log_fn;
	dev->log_user = info.log_user;
	dev->log_level = info.log_level;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->import_lock, NULL);
	pthread_cond_init(&dev->cond, NULL);
	vgalloc__slab_init(&dev->blobs, sizeof(struct vgalloc_blob), VGALLOC__MAGIC_BLOB);
	vgalloc__slab_init(&dev->mems, sizeof(struct vgalloc_mem), VGALLOC__MAGIC_MEM);

	if (info.flags & VGALLOC_DEVICE_ALLOW_ENV) {
		vgalloc__env_read(&env);
		if (env.log_level) {
			dev->log_level = env.log_level;
		}
		if (env.no_suballoc) {
			dev->flags |= VGALLOC_DEVICE_NO_SUBALLOC;
		}
	}

	ret = select_backend(dev, &info);
	if (!ret) {
		ret = copy_memory_types(dev, &info);
	}
	if (!ret) {
		ret = copy_hooks(dev, info.hooks);
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
		ret = check_capset(dev);
	}
	if (!ret && info.mode == VGALLOC_DEVICE_MODE_OWN) {
		ret = context_init(dev, &info);
		if (ret) {
			vgalloc__log(dev, VGALLOC_LOG_ERROR, "CONTEXT_INIT failed: %d", ret);
		}
	}
	if (ret) {
		if (ret > 0 || ret < -4095) {
			ret = -EIO; /* a backend answered something that is no errno */
		}
		device_free(dev);
		return ret;
	}
	derive_traits(dev, info.alloc_mode, &env);
	vgalloc__log(dev, VGALLOC_LOG_INFO, "device ready: backend %s, %s mode, %s, blob alignment %llu",
		     dev->ops->name, dev->mode == VGALLOC_DEVICE_MODE_OWN ? "own" : "adopt",
		     dev->alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST ? "guest-first" : "host-first",
		     (unsigned long long)dev->blob_alignment);
	*out_dev = dev;
	return 0;
}

void vgalloc_device_destroy(struct vgalloc_device *dev)
{
	if (!dev || dev->magic != VGALLOC__MAGIC_DEVICE) {
		return;
	}
	vgalloc__mem_destroy_all(dev);
	vgalloc__blob_destroy_all(dev);
	if (dev->mode == VGALLOC_DEVICE_MODE_OWN && dev->ops->destroy) {
		dev->ops->destroy(dev->be);
	}
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

int vgalloc_device_get_info(const struct vgalloc_device *dev, struct vgalloc_device_info *out)
{
	struct vgalloc_device_info info;

	if (!dev) {
		return -EINVAL;
	}
	memset(&info, 0, sizeof(info));
	info.backend = dev->backend_type;
	info.mode = dev->mode;
	info.alloc_mode = dev->alloc_mode;
	info.capset_id = dev->capset_id;
	info.capset_size = dev->capset_size;
	info.blob_alignment = dev->blob_alignment;
	info.flags = dev->flags;
	info.memory_type_count = dev->type_count;
	info.has_host_visible = param_or_zero(dev, VGALLOC_UAPI_PARAM_HOST_VISIBLE) == 1;
	info.has_cross_device = param_or_zero(dev, VGALLOC_UAPI_PARAM_CROSS_DEVICE) == 1;
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
	default:
		return "unknown";
	}
}
