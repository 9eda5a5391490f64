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
#include "blob.h"
#include "caps.h"
#include "mem.h"
#include "pool.h"
#include "state.h"

_Static_assert(offsetof(struct vgalloc_device_create_info, flavour) ==
                       VGALLOC__V0_DEVICE_CREATE_INFO,
               "device create-info version 0 ends where the appended fields start");
_Static_assert(offsetof(struct vgalloc_memory_type, size_alignment_count) ==
                       VGALLOC__V0_MEMORY_TYPE,
               "memory type version 0 size");
_Static_assert(sizeof(struct vgalloc_host_hooks) == VGALLOC__V0_HOST_HOOKS, "hooks version 0 size");
_Static_assert(sizeof(struct vgalloc_handle_table) == VGALLOC__V0_HANDLE_TABLE,
               "handle table version 0 size");
_Static_assert(offsetof(struct vgalloc_device_info, flavour) == VGALLOC__V0_DEVICE_INFO,
               "device info version 0 ends where the appended fields start");
_Static_assert(offsetof(struct vgalloc_stats, shmem_live) == 184, "stats v1 size");
_Static_assert(offsetof(struct vgalloc_stats, pools) == VGALLOC__V0_STATS,
               "stats version 0 ends where the appended fields start");

/* Bytes of a capset the device reads: the newest layout we know, or a generous default. */
static uint32_t capset_read_size(uint32_t id)
{
	uint32_t size = vgalloc__capset_layout_size(id);

	return size ? size : 256;
}

static bool param_known(const struct vgalloc_device *dev, uint32_t param)
{
	return dev->fd->params_present & (1u << param);
}

static uint64_t param_or_zero(const struct vgalloc_device *dev, uint32_t param)
{
	return vgalloc__param_or_zero(dev->fd->params, dev->fd->params_present, param);
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
		return VGALLOC_PARAM_BLOB_ALIGNMENT;
	}
}

/* Params the caller gave are taken as given; the rest are asked of the kernel up to the highest
 * number the flavour's kernel knows (beyond it a number may mean something else). */
static int read_params(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info)
{
	uint32_t last = last_param(info->flavour);

	for (uint32_t p = 1; p <= VGALLOC_PARAM_MAX; p++) {
		uint64_t value = 0; /* the kernel writes an int: start from zero */
		int ret = 0;

		if (info->params_present & (1u << p)) {
			value = info->params[p];
		} else if (p <= last) {
			ret = VGALLOC__BE(dev, get_param, p, &value);
		} else {
			continue;
		}
		if (ret == -EINVAL || ret == -ENOENT) {
			continue; /* an older kernel, or BLOB_ALIGNMENT not negotiated */
		}
		if (ret) {
			vgalloc__log(dev, VGALLOC_LOG_ERROR, "GETPARAM %u failed: %d", p, ret);
			return ret;
		}
		dev->fd->params[p] = value;
		dev->fd->params_present |= 1u << p;
	}
	return 0;
}

static int probe_own(struct vgalloc_device *dev)
{
	static const uint32_t required[] = {
		VGALLOC_PARAM_3D_FEATURES,
		VGALLOC_PARAM_CAPSET_QUERY_FIX,
		VGALLOC_PARAM_RESOURCE_BLOB,
		VGALLOC_PARAM_CONTEXT_INIT,
	};

	for (uint32_t i = 0; i < VGALLOC__ARRAY_SIZE(required); i++) {
		if (param_or_zero(dev, required[i]) != 1) {
			vgalloc__log(dev, VGALLOC_LOG_ERROR, "kernel lacks required param %u",
			             required[i]);
			return -EOPNOTSUPP;
		}
	}
	if (dev->fd->capset_id >= 64 || !(param_or_zero(dev, VGALLOC_PARAM_SUPPORTED_CAPSET_IDS) &
	                                  (1ull << dev->fd->capset_id))) {
		vgalloc__log(dev, VGALLOC_LOG_ERROR, "host does not offer capset %u",
		             dev->fd->capset_id);
		return -EOPNOTSUPP;
	}
	return 0;
}

static int context_init(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info)
{
	struct vgalloc_context_param_value params[3];
	uint32_t n = 0;

	params[n++] = (struct vgalloc_context_param_value){ VGALLOC_CONTEXT_PARAM_CAPSET_ID,
		                                            dev->fd->capset_id };
	if (info->num_rings) {
		params[n++] = (struct vgalloc_context_param_value){ VGALLOC_CONTEXT_PARAM_NUM_RINGS,
			                                            info->num_rings };
	}
	/* A kernel without EXPLICIT_DEBUG_NAME rejects the whole CONTEXT_INIT for this param. */
	if (info->debug_name && info->flavour != VGALLOC_FLAVOUR_CHROMEOS &&
	    param_or_zero(dev, VGALLOC_PARAM_EXPLICIT_DEBUG_NAME) == 1) {
		params[n++] = (struct vgalloc_context_param_value){
			VGALLOC_CONTEXT_PARAM_DEBUG_NAME, (uint64_t)(uintptr_t)info->debug_name
		};
	}
	return VGALLOC__BE(dev, context_init, params, n);
}

/* GET_CAPS into a zero-filled buffer: the kernel copies min(size, host size) and says nothing,
 * so a field it did not write must read 0. A capset the host does not have is -EOPNOTSUPP. */
static int get_caps(struct vgalloc_device *dev, uint32_t id, void *buf, uint32_t size)
{
	int ret;

	memset(buf, 0, size);
	ret = VGALLOC__BE(dev, get_capset, id, 0, buf, size);
	return ret == -EINVAL ? -EOPNOTSUPP : ret;
}

static int read_capset(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info)
{
	uint32_t size;

	if (info->capset_data) {
		if (!info->capset_size || info->capset_size > VGALLOC__CAPSET_MAX) {
			return -EINVAL;
		}
		size = info->capset_size;
	} else {
		size = capset_read_size(dev->fd->capset_id);
	}
	dev->fd->capset = vgalloc__alloc(&dev->fd->allocator, size, 8, dev->fd->scope);
	if (!dev->fd->capset) {
		return -ENOMEM;
	}
	dev->fd->capset_size = size;
	if (info->capset_data) {
		memcpy(dev->fd->capset, info->capset_data, size);
		return 0;
	}
	return get_caps(dev, dev->fd->capset_id, dev->fd->capset, size);
}

/*
 * Parse the capset the context uses. The bytes are the device's (or the caller's copy of them):
 * present or zero. A capset this library has no layout for is kept but not interpreted.
 */
static int check_capset(struct vgalloc_device *dev, struct vgalloc_capset_info *caps)
{
	int ret = vgalloc__capset_parse(dev->fd->capset_id, dev->fd->capset, dev->fd->capset_size,
	                                VGALLOC_CAPSET_FROM_DEVICE, caps);

	if (ret == -EOPNOTSUPP) {
		memset(caps, 0, sizeof(*caps));
		return 0;
	}
	if (ret) {
		vgalloc__log(dev, VGALLOC_LOG_ERROR, "%s capset: a value no valid host sends",
		             vgalloc_capset_name(dev->fd->capset_id));
		return -EIO;
	}
	return 0;
}

/* Gather what the traits are derived from; log what the derivation ignored. */
static void derive_traits(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info,
                          const struct vgalloc_capset_info *caps, const struct vgalloc__env *env)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vgalloc__trait_inputs in = {
		.info = info,
		.caps = caps,
		.params = dev->fd->params,
		.params_present = dev->fd->params_present,
		.device_flags = dev->flags,
		.env_alloc_mode = env->alloc_mode,
		.guest_page = page > 0 ? (uint64_t)page : 0,
		.types = dev->ld.types,
		.type_count = dev->ld.type_count,
	};

	vgalloc__traits_derive(&in, &dev->ld.traits);
	vgalloc__plan_fast_init(&dev->ld.traits);
	if (dev->ld.traits.blob_alignment_param_bad) {
		vgalloc__log(dev, VGALLOC_LOG_WARN,
		             "ignoring BLOB_ALIGNMENT %llu: not a power of two of at least 4096 (a "
		             "downstream kernel's param 9?)",
		             (unsigned long long)dev->fd->params[VGALLOC_PARAM_BLOB_ALIGNMENT]);
		dev->fd->params_present &= ~(1u << VGALLOC_PARAM_BLOB_ALIGNMENT);
	}
}

/*
 * The optional init self-test: one HOST3D, blob_id 0, MAPPABLE blob of the blob alignment's size,
 * mapped and freed. Host failures only show at mmap, so without it a host that cannot map our
 * blobs (say a 16 KiB host page with 4 KiB blobs) would fail every later allocation instead.
 */
static int self_test(struct vgalloc_device *dev, const struct vgalloc_capset_info *caps)
{
	struct vgalloc_blob_create_info ci = {
		.struct_size = sizeof(ci),
		.blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		.size = dev->ld.traits.blob_alignment,
	};
	struct vgalloc_blob *blob = NULL;
	const char *stage = "created";
	void *ptr = NULL;
	int ret;

	if (caps->id != VGALLOC_CAPSET_VENUS || !caps->u.venus.supports_blob_id_0) {
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
		/* The kernel accepts what the host cannot serve: a refusal shows at the mapping. */
		bool refused = ret == -EINVAL && !strcmp(stage, "mapped");

		vgalloc__log(
		        dev, VGALLOC_LOG_ERROR,
		        "self-test: a %llu-byte HOST3D blob_id-0 blob (flags 0x%x) could not be "
		        "%s (%d)%s%s; device creation fails with -EIO",
		        (unsigned long long)dev->ld.traits.blob_alignment, ci.blob_flags, stage,
		        ret, refused ? ": the host refuses this kind of blob" : "",
		        refused ? " (is its page larger than the blob alignment?)" : "");
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
	dev->ld.types =
	        vgalloc__alloc(&dev->allocator, sizeof(*dev->ld.types) * info->memory_type_count, 8,
	                       VGALLOC_SCOPE_DEVICE);
	if (!dev->ld.types) {
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < info->memory_type_count; i++) {
		struct vgalloc_memory_type t;
		struct vgalloc__mem_type *d = &dev->ld.types[i];
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
		if ((t.min_map_alignment && !vgalloc__sane_alignment(t.min_map_alignment, 1)) ||
		    (t.non_coherent_atom_size &&
		     !vgalloc__sane_alignment(t.non_coherent_atom_size, 1)) ||
		    (t.buffer_image_granularity &&
		     !vgalloc__sane_alignment(t.buffer_image_granularity, 1)) ||
		    (t.base_alignment && !vgalloc__sane_alignment(t.base_alignment, 1))) {
			return -EINVAL;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (dev->ld.types[j].host_index == t.host_index) {
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
		d->size_alignment_count = t.size_alignment_count;
		memcpy(d->size_alignments, t.size_alignments, sizeof(d->size_alignments));
		if (t.reserved || vgalloc__type_alignments(d)) {
			return -EINVAL;
		}
	}
	dev->ld.type_count = info->memory_type_count;
	return 0;
}

static int copy_hooks(struct vgalloc_device *dev, const struct vgalloc_host_hooks *hooks)
{
	int ret;

	if (!hooks) {
		return 0;
	}
	ret = vgalloc__struct_in(hooks, VGALLOC__V0_HOST_HOOKS, sizeof(dev->ld.hooks),
	                         &dev->ld.hooks);
	if (ret) {
		return ret;
	}
	if ((dev->ld.hooks.flags & ~(uint32_t)VGALLOC_HOOKS_IN_ORDER) ||
	    !dev->ld.hooks.new_blob_id || !dev->ld.hooks.host_alloc || !dev->ld.hooks.host_wait ||
	    !dev->ld.hooks.host_roundtrip || !dev->ld.hooks.host_import ||
	    !dev->ld.hooks.host_free) {
		return -EINVAL;
	}
	dev->ld.has_hooks = true;
	return 0;
}

/* Adopt mode only: in own mode the library owns the fd and every handle on it. */
static int copy_handle_table(struct vgalloc_device *dev,
                             const struct vgalloc_device_create_info *info)
{
	const struct vgalloc_handle_table *t = info->handle_table;
	int ret;

	if (!t) {
		return 0;
	}
	if (info->mode != VGALLOC_DEVICE_MODE_ADOPT) {
		return -EINVAL;
	}
	ret = vgalloc__struct_in(t, VGALLOC__V0_HANDLE_TABLE, sizeof(dev->fd->handles),
	                         &dev->fd->handles);
	if (ret) {
		return ret;
	}
	if (dev->fd->handles.reserved || !dev->fd->handles.import || !dev->fd->handles.ref ||
	    !dev->fd->handles.unref) {
		return -EINVAL;
	}
	dev->fd->has_handles = true;
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
		int ret;

		/* Adopt mode borrows the caller's fd; own mode finds and opens a render node. */
		if (info->mode == VGALLOC_DEVICE_MODE_ADOPT && info->fd < 0) {
			return -EINVAL;
		}
		ret = vgalloc__virtgpu_create(
		        info->mode == VGALLOC_DEVICE_MODE_ADOPT ? info->fd : -1, info->capset_id,
		        &dev->fd->allocator, dev->fd->scope, NULL, &be);
		if (ret) {
			return ret == -ENODEV ? -EOPNOTSUPP : ret;
		}
		dev->fd->owns_backend = true;
		break;
	}
	default:
		return -EINVAL;
	}
	/* Minimal vtable invariants, checked once here so the hot paths can trust the table. */
	if (!be->ops->get_param || !be->ops->get_capset || !be->ops->context_init ||
	    !be->ops->blob_create || !be->ops->blob_map || !be->ops->blob_unmap ||
	    !be->ops->blob_export || !be->ops->blob_import || !be->ops->blob_info ||
	    !be->ops->blob_destroy || !be->ops->get_fd) {
		return -EINVAL;
	}
	dev->fd->be = be;
	dev->fd->ops = be->ops;
	return 0;
}

static void fd_free(struct vgalloc__fd *fd)
{
	struct vgalloc_allocator a = fd->allocator;

	/* Own-mode virtgpu backends are the connection's (closing the fd it opened); the mock and
	 * custom ones are borrowed. */
	if (fd->owns_backend && fd->be && fd->ops->destroy) {
		fd->ops->destroy(fd->be);
	}
	vgalloc__slab_finish(&a, &fd->blobs);
	vgalloc__free(&a, fd->by_handle);
	vgalloc__free(&a, fd->capset);
	pthread_cond_destroy(&fd->cond);
	vgalloc__shmem_finish(&fd->shmem);
	pthread_mutex_destroy(&fd->import_lock);
	pthread_mutex_destroy(&fd->lock);
	fd->magic = VGALLOC__MAGIC_FREE;
	vgalloc__free(&a, fd);
}

/* A new connection for one device; it becomes the device's when this returns 0. Its memory has
 * the scope given: INSTANCE for vgalloc_connection_create()'s, DEVICE for a device's own. */
static int fd_new(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info,
                  uint32_t scope)
{
	struct vgalloc__fd *fd = vgalloc__alloc(&dev->allocator, sizeof(*fd), 64, scope);

	if (!fd) {
		return -ENOMEM;
	}
	memset(fd, 0, sizeof(*fd));
	fd->magic = VGALLOC__MAGIC_CONN;
	atomic_init(&fd->refs, 1);
	fd->allocator = dev->allocator;
	fd->scope = scope;
	fd->flags = info->flags & (VGALLOC_DEVICE_CONTEXT_READY | VGALLOC_DEVICE_GUEST_VRAM);
	fd->flavour = info->flavour;
	fd->host_page_size = info->host_page_size;
	fd->backend_type = info->backend;
	fd->mode = info->mode;
	fd->capset_id = info->capset_id;
	pthread_mutex_init(&fd->lock, NULL);
	pthread_mutex_init(&fd->import_lock, NULL);
	pthread_cond_init(&fd->cond, NULL);
	vgalloc__shmem_init(&fd->shmem);
	vgalloc__slab_init(&fd->blobs, sizeof(struct vgalloc_blob), VGALLOC__MAGIC_BLOB, false);
	fd->blobs.scope = scope;
	dev->fd = fd;
	return 0;
}

/* Drop the device's reference to its connection: the last one frees the connection's blobs (the
 * shmem cache first) and the connection. */
static void fd_release(struct vgalloc_device *dev)
{
	struct vgalloc__fd *fd = dev->fd;

	if (!fd) {
		return;
	}
	if (atomic_fetch_sub_explicit(&fd->refs, 1, memory_order_acq_rel) == 1) {
		vgalloc__shmem_trim(dev);
		vgalloc__blob_destroy_all(dev);
		fd_free(fd);
	}
	dev->fd = NULL;
}

static void device_free(struct vgalloc_device *dev)
{
	struct vgalloc_allocator a = dev->allocator;

	fd_release(dev);
	for (uint32_t i = 0; i < dev->ld.shard_count; i++) {
		vgalloc__mshard_finish(dev, &dev->ld.dshards[i]);
	}
	vgalloc__registry_free(dev);
	vgalloc__free(&a, dev->ld.types);
	pthread_mutex_destroy(&dev->ld.lock);
	dev->magic = VGALLOC__MAGIC_FREE;
	vgalloc__free(&a, dev);
}

/* Own or adopt a connection of the device's own: the backend, the params, the capset and, in own
 * mode, the context. */
static int connect_own(struct vgalloc_device *dev, const struct vgalloc_device_create_info *info,
                       uint32_t scope, struct vgalloc_capset_info *caps)
{
	int ret = fd_new(dev, info, scope);

	if (!ret) {
		ret = copy_handle_table(dev, info);
	}
	if (!ret) {
		ret = select_backend(dev, info);
	}
	/* Own mode: only GETPARAM and GET_CAPS may run before CONTEXT_INIT, or the kernel makes an
	 * implicit context and our CONTEXT_INIT fails with -EEXIST. */
	if (!ret) {
		ret = read_params(dev, info);
	}
	if (!ret && info->mode == VGALLOC_DEVICE_MODE_OWN) {
		ret = probe_own(dev);
	}
	if (!ret && info->mode == VGALLOC_DEVICE_MODE_ADOPT &&
	    param_or_zero(dev, VGALLOC_PARAM_RESOURCE_BLOB) != 1) {
		ret = -EOPNOTSUPP;
	}
	if (!ret) {
		ret = read_capset(dev, info);
	}
	if (!ret) {
		ret = check_capset(dev, caps);
	}
	if (!ret && info->mode == VGALLOC_DEVICE_MODE_OWN) {
		ret = context_init(dev, info);
		if (ret) {
			vgalloc__log(dev, VGALLOC_LOG_ERROR, "CONTEXT_INIT failed: %d", ret);
		}
	}
	return ret;
}

/*
 * Join a connection: what belongs to the fd comes from it, so the create-info must leave it
 * unset. The device then reads the connection's capset as its own.
 */
static int check_join(const struct vgalloc_device_create_info *info)
{
	const struct vgalloc__fd *fd = (const struct vgalloc__fd *)info->connection;

	/* Only a connection its creator still holds can be joined. */
	if (fd->magic != VGALLOC__MAGIC_CONN || !fd->root) {
		return -EINVAL;
	}
	if (info->backend || info->mode || info->backend_object ||
	    (info->capset_id && info->capset_id != fd->capset_id) || info->capset_data ||
	    info->capset_size || info->params_present || info->num_rings || info->debug_name ||
	    info->handle_table || info->flavour || info->host_page_size ||
	    (info->flags & (VGALLOC_DEVICE_CONTEXT_READY | VGALLOC_DEVICE_GUEST_VRAM |
	                    VGALLOC_DEVICE_SELF_TEST))) {
		return -EINVAL;
	}
	return 0;
}

static int join(struct vgalloc_device *dev, struct vgalloc_device_create_info *info,
                struct vgalloc_capset_info *caps)
{
	struct vgalloc__fd *fd = (struct vgalloc__fd *)info->connection;

	atomic_fetch_add_explicit(&fd->refs, 1, memory_order_relaxed);
	dev->fd = fd;
	dev->flags |= fd->flags;
	/* The traits are derived from the connection's facts, as its other devices' are. */
	info->capset_id = fd->capset_id;
	info->flavour = fd->flavour;
	info->host_page_size = fd->host_page_size;
	return check_capset(dev, caps);
}

/* vgalloc_device_create(); a connection it makes has memory of scope fd_scope. */
static int device_create(const struct vgalloc_device_create_info *user_info, uint32_t fd_scope,
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
	if (info.connection) {
		ret = check_join(&info);
		if (ret) {
			return ret;
		}
	} else if ((info.mode != VGALLOC_DEVICE_MODE_OWN &&
	            info.mode != VGALLOC_DEVICE_MODE_ADOPT) ||
	           (info.mode == VGALLOC_DEVICE_MODE_ADOPT &&
	            !(info.flags & VGALLOC_DEVICE_CONTEXT_READY)) ||
	           !info.capset_id) {
		return -EINVAL;
	}
	/* vgalloc.h's one rule: unknown flag bits and non-zero reserved fields are -EINVAL. */
	if ((info.flags & ~VGALLOC__DEVICE_FLAGS_ALL) || info.reserved) {
		return -EINVAL;
	}
	/* Block sizes and the host page are alignments: one sanity bound (core.h) for all. */
	if (info.pool_shards > VGALLOC__MAX_SHARDS ||
	    (info.min_block_size && !vgalloc__sane_alignment(info.min_block_size, 4096)) ||
	    (info.max_block_size && (!vgalloc__sane_alignment(info.max_block_size, 4096) ||
	                             info.max_block_size < info.min_block_size)) ||
	    info.flavour > VGALLOC_FLAVOUR_GFXSTREAM ||
	    (info.host_page_size && (!vgalloc__sane_alignment(info.host_page_size, 4096) ||
	                             info.host_page_size > (1u << 20))) ||
	    info.reserved1) {
		return -EINVAL;
	}
	if (info.alloc_mode > VGALLOC_ALLOC_MODE_GUEST_FIRST ||
	    info.hypervisor_hint > VGALLOC_HYPERVISOR_STATIC ||
	    info.log_level > VGALLOC_LOG_DEBUG || info.num_rings > VGALLOC_UAPI_MAX_RINGS ||
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

	dev = vgalloc__alloc(&allocator, sizeof(*dev), 64, VGALLOC_SCOPE_DEVICE);
	if (!dev) {
		return -ENOMEM;
	}
	memset(dev, 0, sizeof(*dev));
	dev->magic = VGALLOC__MAGIC_DEVICE;
	dev->allocator = allocator;
	dev->flags = info.flags;
	dev->log_fn = info.log_fn;
	dev->log_user = info.log_user;
	dev->log_level = info.log_level;
	pthread_mutex_init(&dev->ld.lock, NULL);
	dev->ld.shard_count = info.pool_shards ? info.pool_shards : VGALLOC__DEFAULT_SHARDS;
	for (uint32_t i = 0; i < dev->ld.shard_count; i++) {
		vgalloc__mshard_init(dev, &dev->ld.dshards[i]);
	}
	dev->ld.retain_bytes =
	        info.retain_bytes ? info.retain_bytes : VGALLOC__DEFAULT_RETAIN_BYTES;

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
		ret = info.connection ? join(dev, &info, &caps)
		                      : connect_own(dev, &info, fd_scope, &caps);
	}
	if (!ret) {
		derive_traits(dev, &info, &caps, &env);
	}
	if (!ret && !info.connection && info.mode == VGALLOC_DEVICE_MODE_OWN &&
	    (info.flags & VGALLOC_DEVICE_SELF_TEST)) {
		ret = self_test(dev, &caps);
	}
	if (ret) {
		if (ret > 0 || ret < -4095) {
			ret = -EIO; /* a backend answered something that is no errno */
		}
		device_free(dev);
		return ret;
	}
	vgalloc__log(dev, VGALLOC_LOG_INFO,
	             "device ready: backend %s, %s mode, %s, blob alignment %llu",
	             dev->fd->ops->name, dev->fd->mode == VGALLOC_DEVICE_MODE_OWN ? "own" : "adopt",
	             dev->ld.traits.alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST ? "guest-first"
	                                                                         : "host-first",
	             (unsigned long long)dev->ld.traits.blob_alignment);
	*out_dev = dev;
	return 0;
}

int vgalloc_device_create(const struct vgalloc_device_create_info *info,
                          struct vgalloc_device **out_dev)
{
	return device_create(info, VGALLOC_SCOPE_DEVICE, out_dev);
}

void vgalloc_device_destroy(struct vgalloc_device *dev)
{
	if (!dev || dev->magic != VGALLOC__MAGIC_DEVICE) {
		return;
	}
	vgalloc__mem_destroy_all(dev);
	vgalloc__pools_destroy(dev);
	device_free(dev); /* the connection's last device frees its blobs too */
}

int vgalloc_device_get_fd(const struct vgalloc_device *dev)
{
	int fd;

	if (!dev) {
		return -EINVAL;
	}
	fd = dev->fd->ops->get_fd(dev->fd->be);
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
	*value = dev->fd->params[param];
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
	if (capset_id == dev->fd->capset_id) {
		ret = vgalloc__capset_parse(capset_id, dev->fd->capset, dev->fd->capset_size,
		                            VGALLOC_CAPSET_FROM_DEVICE, &info);
		return ret ? ret : vgalloc__struct_out(out, &info, sizeof(info), sizeof(info));
	}
	size = vgalloc__capset_layout_size(capset_id);
	if (!size) {
		return -EOPNOTSUPP;
	}
	if (capset_id >= 64 ||
	    !(param_or_zero(dev, VGALLOC_PARAM_SUPPORTED_CAPSET_IDS) & (1ull << capset_id))) {
		return -EOPNOTSUPP;
	}
	buf = vgalloc__alloc(&dev->allocator, size, 8, VGALLOC_SCOPE_COMMAND);
	if (!buf) {
		return -ENOMEM;
	}
	ret = get_caps(dev, capset_id, buf, size);
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
	info.backend = dev->fd->backend_type;
	info.mode = dev->fd->mode;
	info.alloc_mode = dev->ld.traits.alloc_mode;
	info.capset_id = dev->fd->capset_id;
	info.capset_size = dev->fd->capset_size;
	info.blob_alignment = dev->ld.traits.blob_alignment;
	info.flags = dev->flags;
	info.memory_type_count = dev->ld.type_count;
	info.has_host_visible = dev->ld.traits.host_visible;
	info.has_cross_device = dev->ld.traits.cross_device;
	info.flavour = dev->ld.traits.flavour;
	info.mode_reason = dev->ld.traits.mode_reason;
	info.guest_vram = dev->ld.traits.guest_vram;
	info.create_guest_handle = dev->ld.traits.create_guest_handle;
	info.max_suballoc_size = dev->ld.traits.max_suballoc_size;
	info.retain_bytes = dev->ld.retain_bytes;
	info.min_block_size = dev->ld.traits.min_block_size;
	info.max_block_size = dev->ld.traits.max_block_size;
	info.pool_shards = dev->ld.shard_count;
	return vgalloc__struct_out(out, &info, VGALLOC__V0_DEVICE_INFO, sizeof(info));
}

int vgalloc__trim(struct vgalloc_device *dev)
{
	return vgalloc__pools_trim(dev) + vgalloc__shmem_trim(dev);
}

int vgalloc_device_trim(struct vgalloc_device *dev)
{
	if (!dev) {
		return -EINVAL;
	}
	/* The consumer says memory was given back: degraded pools may try full blocks again. */
	vgalloc__pools_lift(dev);
	return vgalloc__trim(dev);
}

/* ---------------------------------------------------------------------------------------------
 * Connections: a device without memory types or hooks (the root) makes one, as any device makes
 * its own; joining devices take references; the root goes at vgalloc_connection_destroy().
 */

#define CONNECTION_FLAGS                                                                       \
	(VGALLOC_DEVICE_CONTEXT_READY | VGALLOC_DEVICE_GUEST_VRAM | VGALLOC_DEVICE_SELF_TEST | \
	 VGALLOC_DEVICE_ALLOW_ENV)

int vgalloc_connection_create(const struct vgalloc_connection_create_info *user_info,
                              struct vgalloc_connection **out_conn)
{
	struct vgalloc_connection_create_info info;
	struct vgalloc_device_create_info di;
	struct vgalloc_device *root;
	int ret;

	if (!out_conn) {
		return -EINVAL;
	}
	ret = vgalloc__struct_in(user_info, sizeof(info), sizeof(info), &info);
	if (ret) {
		return ret;
	}
	if (info.flags & ~CONNECTION_FLAGS) {
		return -EINVAL;
	}
	memset(&di, 0, sizeof(di));
	di.struct_size = sizeof(di);
	di.backend = info.backend;
	di.mode = info.mode;
	di.flags = info.flags;
	di.backend_object = info.backend_object;
	di.fd = info.fd;
	di.capset_id = info.capset_id;
	di.capset_data = info.capset_data;
	di.capset_size = info.capset_size;
	di.params_present = info.params_present;
	memcpy(di.params, info.params, sizeof(di.params));
	di.num_rings = info.num_rings;
	di.log_level = info.log_level;
	di.debug_name = info.debug_name;
	di.allocator = info.allocator;
	di.log_fn = info.log_fn;
	di.log_user = info.log_user;
	di.flavour = info.flavour;
	di.host_page_size = info.host_page_size;
	di.handle_table = info.handle_table;
	ret = device_create(&di, VGALLOC_SCOPE_INSTANCE, &root);
	if (ret) {
		return ret;
	}
	root->fd->root = root;
	*out_conn = (struct vgalloc_connection *)root->fd;
	return 0;
}

void vgalloc_connection_destroy(struct vgalloc_connection *conn)
{
	struct vgalloc__fd *fd = (struct vgalloc__fd *)conn;
	struct vgalloc_device *root;

	if (!fd || fd->magic != VGALLOC__MAGIC_CONN || !fd->root) {
		return;
	}
	root = fd->root;
	fd->root = NULL;
	vgalloc_device_destroy(root);
}

int vgalloc_connection_get_fd(const struct vgalloc_connection *conn)
{
	const struct vgalloc__fd *fd = (const struct vgalloc__fd *)conn;
	int ret;

	if (!fd || fd->magic != VGALLOC__MAGIC_CONN) {
		return -EINVAL;
	}
	ret = fd->ops->get_fd(fd->be);
	return ret < 0 ? -ENODEV : ret;
}
