/* SPDX-License-Identifier: MIT */
/*
 * Memory allocations: each path's exact sequence of host hooks and kernel calls, the lazy blob of
 * the host-first path, and the fixed teardown order (token wait → munmap → GEM close → host_free).
 * The sequences are the contract with the consumer's protocol and are tested call by call.
 */
#include <errno.h>
#include <string.h>

#include "private.h"

_Static_assert(sizeof(struct vgalloc_request) == VGALLOC__V0_REQUEST, "request version 0 size");
_Static_assert(sizeof(struct vgalloc_mem_info) == VGALLOC__V0_MEM_INFO,
	       "mem info version 0 size");

static bool mem_live(struct vgalloc_device *dev, const struct vgalloc_mem *mem)
{
	bool live;

	pthread_mutex_lock(&dev->lock);
	live = vgalloc__slab_live(&dev->mems, mem);
	pthread_mutex_unlock(&dev->lock);
	return live;
}

/* Give a blob to a memory object: the reference the blob API may not drop. */
static void adopt_blob(struct vgalloc_device *dev, struct vgalloc_mem *mem,
		       struct vgalloc_blob *blob)
{
	pthread_mutex_lock(&dev->import_lock);
	blob->mem_refs++;
	pthread_mutex_unlock(&dev->import_lock);
	pthread_mutex_lock(&dev->lock);
	mem->blob = blob;
	mem->blob_mem = blob->blob_mem;
	mem->blob_flags = blob->blob_flags;
	pthread_mutex_unlock(&dev->lock);
}

/*
 * Teardown in the order the host requires: a host allocation may still be in flight (wait for it),
 * the guest mapping goes before the resource, and the host memory goes last, when no guest
 * resource refers to it any more.
 */
static void teardown(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc_blob *blob;
	uint32_t maps;

	if (mem->token_pending) {
		/* Free cannot report an error, so a failed wait gets one more try before the host
		 * allocation is freed regardless. */
		if (VGALLOC__HOOK(dev, host_wait, mem->token, NULL, NULL) &&
		    VGALLOC__HOOK(dev, host_wait, mem->token, NULL, NULL)) {
			vgalloc__stat_add(&dev->stats.teardown_errors, 1);
		}
		mem->token_pending = false;
	}
	pthread_mutex_lock(&dev->lock);
	blob = mem->blob;
	maps = mem->map_count;
	mem->blob = NULL;
	mem->map_count = 0;
	pthread_mutex_unlock(&dev->lock);
	if (blob) {
		while (maps--) {
			vgalloc__blob_unmap(dev, blob);
		}
		pthread_mutex_lock(&dev->import_lock);
		blob->mem_refs--;
		pthread_mutex_unlock(&dev->import_lock);
		vgalloc__blob_release(dev, blob);
	}
	if (mem->has_host) {
		VGALLOC__HOOK_RAW(dev, host_free, mem->user_data, mem->host_handle);
		mem->has_host = false;
	}
}

static int host_alloc(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc_host_alloc_args args = {
		.memory_type = dev->types[mem->memory_type].host_index,
		.allocate_flags = mem->allocate_flags,
		.blob_flags = mem->blob_flags,
		.size = mem->committed,
		.blob_id = mem->blob_id,
	};
	uint64_t handle = 0, token = 0;
	int ret;

	ret = VGALLOC__HOOK(dev, host_alloc, mem->user_data, &args, &handle, &token);
	if (ret) {
		return ret;
	}
	mem->host_handle = handle;
	mem->has_host = true;
	mem->token = token;
	mem->token_pending = token != 0;
	return 0;
}

/*
 * Create the host-first blob for a host allocation: wait for the allocation (or let the hook hand
 * us a wait command that the host runs before creating the resource), then CREATE_BLOB with the
 * allocation's blob_id.
 */
static int create_host_blob(struct vgalloc_device *dev, struct vgalloc_mem *mem, bool pending,
			    uint64_t token, struct vgalloc_blob **out_blob)
{
	unsigned char cmd[VGALLOC_MAX_WAIT_CMD_SIZE];
	uint32_t cmd_size = 0;
	struct vgalloc_blob_create_info info = {
		.struct_size = sizeof(info),
		.blob_mem = mem->blob_mem,
		.blob_flags = mem->blob_flags,
		.size = mem->committed,
		.blob_id = mem->blob_id,
	};
	bool waited = false;
	int ret;

	if (pending) {
		cmd_size = sizeof(cmd);
		ret = VGALLOC__HOOK(dev, host_wait, token, cmd, &cmd_size);
		if (ret) {
			return ret;
		}
		if (cmd_size > sizeof(cmd) || cmd_size % 4) {
			return -EIO;
		}
		waited = cmd_size == 0;
		info.cmd = cmd_size ? cmd : NULL;
		info.cmd_size = cmd_size;
	}
	ret = vgalloc__blob_create(dev, &info, out_blob);
	/* With a wait command the host processed the token only if the blob was created. */
	if (pending && (waited || !ret)) {
		pthread_mutex_lock(&dev->lock);
		mem->token_pending = false;
		pthread_mutex_unlock(&dev->lock);
	}
	return ret;
}

static int guest_first(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc_blob_create_info info = {
		.struct_size = sizeof(info),
		.blob_mem = mem->blob_mem,
		.blob_flags = mem->blob_flags,
		.size = mem->committed,
		.blob_id = mem->blob_id,
	};
	struct vgalloc_blob *blob;
	uint64_t handle = 0, token = 0;
	int ret;

	ret = vgalloc__blob_create(dev, &info, &blob);
	if (ret) {
		return ret;
	}
	adopt_blob(dev, mem, blob);
	/* The renderer must know the resource before it is asked to import it. */
	ret = VGALLOC__HOOK0(dev, host_roundtrip);
	if (ret) {
		return ret;
	}
	ret = VGALLOC__HOOK(dev, host_import, mem->user_data, blob->res_id, mem->committed,
			    mem->blob_id, &handle, &token);
	if (ret) {
		return ret;
	}
	mem->host_handle = handle;
	mem->has_host = true;
	mem->token = token;
	mem->token_pending = token != 0;
	return 0;
}

static int import_fd(struct vgalloc_device *dev, struct vgalloc_mem *mem, int fd)
{
	struct vgalloc_blob_import_info info = {
		.struct_size = sizeof(info),
		.blob_flags = mem->blob_flags,
		.size = mem->size,
	};
	struct vgalloc_blob *blob;
	uint64_t handle = 0, token = 0;
	int ret;

	ret = vgalloc__blob_import(dev, fd, &info, &blob, NULL);
	if (ret) {
		return ret;
	}
	adopt_blob(dev, mem, blob);
	ret = VGALLOC__HOOK0(dev, host_roundtrip);
	if (ret) {
		return ret;
	}
	ret = VGALLOC__HOOK(dev, host_import, mem->user_data, blob->res_id, mem->size,
			    mem->blob_id, &handle, &token);
	if (ret) {
		return ret;
	}
	mem->host_handle = handle;
	mem->has_host = true;
	mem->token = token;
	mem->token_pending = token != 0;
	return 0;
}

static int run_path(struct vgalloc_device *dev, struct vgalloc_mem *mem, int fd)
{
	struct vgalloc_blob *blob;
	int ret;

	switch (mem->path) {
	case VGALLOC_PATH_HOST_ONLY:
	case VGALLOC_PATH_HOST_FIRST_LAZY:
		return host_alloc(dev, mem);
	case VGALLOC_PATH_HOST_FIRST_EAGER:
		ret = host_alloc(dev, mem);
		if (!ret) {
			ret = create_host_blob(dev, mem, mem->token_pending, mem->token, &blob);
		}
		if (!ret) {
			adopt_blob(dev, mem, blob);
		}
		return ret;
	case VGALLOC_PATH_GUEST_FIRST:
		return guest_first(dev, mem);
	case VGALLOC_PATH_IMPORT:
		return import_fd(dev, mem, fd);
	default:
		return -EINVAL;
	}
}

int vgalloc_mem_alloc(struct vgalloc_device *dev, const struct vgalloc_request *ureq,
		      struct vgalloc_mem **out_mem)
{
	struct vgalloc_request req;
	struct vgalloc_plan plan;
	struct vgalloc_mem *mem;
	uint32_t type;
	int ret;

	if (!dev || !out_mem) {
		return -EINVAL;
	}
	ret = vgalloc__struct_in(ureq, VGALLOC__V0_REQUEST, sizeof(req), &req);
	if (ret) {
		return ret;
	}
	ret = vgalloc__plan(&dev->traits, &req, &plan, NULL);
	if (ret) {
		return ret;
	}
	/* Suballocation is decided by the plan and carried out by the pools; until they exist,
	 * every allocation takes its path with a blob of its own. */
	if (plan.path == VGALLOC_PATH_UNSUPPORTED || plan.path == VGALLOC_PATH_GUEST_HANDLE) {
		return -EOPNOTSUPP;
	}
	vgalloc__find_type(&dev->traits, plan.memory_type, &type);
	if (!dev->has_hooks) {
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&dev->lock);
	mem = vgalloc__slab_get_locked(dev, &dev->mems);
	pthread_mutex_unlock(&dev->lock);
	if (!mem) {
		return -ENOMEM;
	}
	mem->path = plan.path;
	mem->memory_type = type;
	mem->blob_flags = plan.blob_flags;
	mem->blob_mem = plan.blob_mem;
	mem->export_types = req.export_handle_types;
	mem->allocate_flags = req.allocate_flags;
	mem->size = req.size;
	mem->committed = plan.path == VGALLOC_PATH_IMPORT ? 0 : plan.size;
	mem->user_data = req.user_data;
	mem->blob_id = (req.flags & VGALLOC_REQUEST_BLOB_ID) ? req.blob_id
							      : VGALLOC__HOOK0_RAW(dev, new_blob_id);
	/* Keep (blob, offset) from the start: suballocations set a non-zero offset. */
	mem->offset = 0;

	ret = run_path(dev, mem, req.import_fd);
	if (ret) {
		teardown(dev, mem);
		pthread_mutex_lock(&dev->lock);
		vgalloc__slab_put_locked(&dev->mems, mem);
		pthread_mutex_unlock(&dev->lock);
		vgalloc__log(dev, VGALLOC_LOG_DEBUG, "%s allocation of %llu bytes failed: %d",
			     vgalloc_path_name(plan.path), (unsigned long long)req.size, ret);
		return ret;
	}
	vgalloc__stat_add(&dev->stats.mems_live, 1);
	vgalloc__stat_add(&dev->stats.mem_bytes_requested, mem->size);
	vgalloc__stat_add(&dev->stats.mem_bytes_committed, mem->committed);
	*out_mem = mem;
	return 0;
}

/* The host-first lazy path creates its blob at the first map of the allocation, once. */
static int ensure_blob(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc_blob *blob = NULL;
	uint64_t token;
	bool pending;
	int ret;

	pthread_mutex_lock(&dev->lock);
	while (mem->blob_busy) {
		pthread_cond_wait(&dev->cond, &dev->lock);
	}
	if (mem->blob) {
		pthread_mutex_unlock(&dev->lock);
		return 0;
	}
	mem->blob_busy = true;
	pending = mem->token_pending;
	token = mem->token;
	pthread_mutex_unlock(&dev->lock);

	ret = create_host_blob(dev, mem, pending, token, &blob);
	if (!ret) {
		adopt_blob(dev, mem, blob);
	}
	pthread_mutex_lock(&dev->lock);
	mem->blob_busy = false;
	pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);
	return ret;
}

int vgalloc_mem_map(struct vgalloc_device *dev, struct vgalloc_mem *mem, void **out_ptr)
{
	struct vgalloc_blob *blob;
	void *ptr;
	int ret;

	if (!dev || !out_ptr || !mem_live(dev, mem)) {
		return -EINVAL;
	}
	/* Only host-visible memory maps, even when guest-first gave an export a mappable blob. */
	if (!(dev->types[mem->memory_type].property_flags & VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE) ||
	    !(mem->blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE) || mem->path == VGALLOC_PATH_HOST_ONLY) {
		return -EINVAL;
	}
	if (mem->path == VGALLOC_PATH_HOST_FIRST_LAZY) {
		ret = ensure_blob(dev, mem);
		if (ret) {
			return ret;
		}
	}
	pthread_mutex_lock(&dev->lock);
	blob = mem->blob;
	pthread_mutex_unlock(&dev->lock);
	if (!blob) {
		return -EINVAL;
	}
	ret = vgalloc__blob_map(dev, blob, &ptr);
	if (ret) {
		return ret;
	}
	pthread_mutex_lock(&dev->lock);
	mem->map_count++;
	pthread_mutex_unlock(&dev->lock);
	*out_ptr = (unsigned char *)ptr + mem->offset;
	return 0;
}

int vgalloc_mem_unmap(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc_blob *blob;

	if (!dev || !mem_live(dev, mem)) {
		return -EINVAL;
	}
	pthread_mutex_lock(&dev->lock);
	if (!mem->map_count || !mem->blob) {
		pthread_mutex_unlock(&dev->lock);
		return -EINVAL;
	}
	mem->map_count--;
	blob = mem->blob;
	pthread_mutex_unlock(&dev->lock);
	vgalloc__blob_unmap(dev, blob);
	return 0;
}

int vgalloc_mem_export(struct vgalloc_device *dev, struct vgalloc_mem *mem, uint32_t handle_type,
		       int *out_fd)
{
	struct vgalloc_blob *blob;

	if (!dev || !out_fd || !mem_live(dev, mem)) {
		return -EINVAL;
	}
	/* One handle type per call, and only one the allocation was made exportable as. */
	if (!vgalloc__is_pow2(handle_type) || !(mem->export_types & handle_type)) {
		return -EINVAL;
	}
	pthread_mutex_lock(&dev->lock);
	blob = mem->blob;
	pthread_mutex_unlock(&dev->lock);
	if (!blob || mem->offset) {
		return -EINVAL; /* a suballocation is never exported */
	}
	return vgalloc_blob_export_dmabuf(dev, blob, out_fd);
}

int vgalloc_mem_get_info(struct vgalloc_device *dev, const struct vgalloc_mem *mem,
			 struct vgalloc_mem_info *out)
{
	struct vgalloc_mem_info info;

	if (!dev || !out || !mem_live(dev, mem)) {
		return -EINVAL;
	}
	memset(&info, 0, sizeof(info));
	info.path = mem->path;
	info.memory_type = dev->types[mem->memory_type].host_index;
	info.offset = mem->offset;
	info.size = mem->size;
	info.committed = mem->committed;
	info.host_handle = mem->has_host ? mem->host_handle : 0;
	info.blob_id = mem->blob_id;
	pthread_mutex_lock(&dev->lock);
	info.blob = mem->blob;
	if (mem->blob) {
		info.blob_mem = mem->blob->blob_mem;
		info.blob_flags = mem->blob->blob_flags;
		info.res_id = mem->blob->res_id;
	} else {
		info.blob_flags = mem->blob_flags;
	}
	pthread_mutex_unlock(&dev->lock);
	return vgalloc__struct_out(out, &info, VGALLOC__V0_MEM_INFO, sizeof(info));
}

int vgalloc_mem_free(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	if (!dev) {
		return -EINVAL;
	}
	if (!mem) {
		return 0;
	}
	pthread_mutex_lock(&dev->lock);
	if (!vgalloc__slab_live(&dev->mems, mem)) {
		pthread_mutex_unlock(&dev->lock);
		return -EINVAL;
	}
	if (mem->blob_busy) {
		pthread_mutex_unlock(&dev->lock);
		return -EBUSY; /* another thread is mapping it right now */
	}
	/* Mark it first so that a racing second free sees a dead handle. */
	mem->slot.magic = VGALLOC__MAGIC_DYING;
	pthread_mutex_unlock(&dev->lock);

	vgalloc__stat_sub(&dev->stats.mems_live, 1);
	vgalloc__stat_sub(&dev->stats.mem_bytes_requested, mem->size);
	vgalloc__stat_sub(&dev->stats.mem_bytes_committed, mem->committed);
	teardown(dev, mem);

	pthread_mutex_lock(&dev->lock);
	vgalloc__slab_put_locked(&dev->mems, mem);
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

static void free_all(void *obj, void *arg)
{
	struct vgalloc_device *dev = arg;
	struct vgalloc_mem *mem = obj;

	vgalloc__log(dev, VGALLOC_LOG_WARN, "device destroyed with a %llu-byte allocation alive",
		     (unsigned long long)mem->size);
	vgalloc_mem_free(dev, mem);
}

void vgalloc__mem_destroy_all(struct vgalloc_device *dev)
{
	vgalloc__slab_each_live(&dev->mems, free_all, dev);
}
