/* SPDX-License-Identifier: MIT */
/*
 * Memory allocations: the plan decides, then either a pool suballocates (pool.c) or the
 * allocation takes its path with a blob of its own: each path's exact sequence of host hooks and
 * kernel calls, the lazy blob of the host-first path, and the fixed teardown order (token wait →
 * munmap → GEM close → host_free). The sequences are the contract with the consumer's protocol.
 */
#include <errno.h>
#include <string.h>

#include "private.h"

_Static_assert(sizeof(struct vgalloc_request) == VGALLOC__V0_REQUEST, "request version 0 size");
_Static_assert(offsetof(struct vgalloc_mem_info, flags) == VGALLOC__V0_MEM_INFO,
               "mem info version 0 ends where the appended fields start");

/*
 * Find and lock the shard of a live memory object. Returns NULL (nothing locked) for a pointer
 * that is not a live memory object of this device: freed, foreign or garbage.
 */
static struct vgalloc__mshard *lock_mem(struct vgalloc_device *dev, const struct vgalloc_mem *mem)
{
	struct vgalloc__mshard *ms = vgalloc__mem_owner(dev, mem);

	if (!ms) {
		return NULL;
	}
	pthread_mutex_lock(&ms->lock);
	if (!vgalloc__slab_live(&ms->mems, mem)) {
		pthread_mutex_unlock(&ms->lock);
		return NULL;
	}
	return ms;
}

/* Give a blob to a memory object: the reference the blob API may not drop. */
static void adopt_blob(struct vgalloc_device *dev, struct vgalloc_mem *mem,
                       struct vgalloc_blob *blob)
{
	vgalloc__blob_pin(dev, blob);
	pthread_mutex_lock(&mem->ms->lock);
	mem->blob = blob;
	mem->blob_mem = blob->blob_mem;
	mem->blob_flags = blob->blob_flags;
	pthread_mutex_unlock(&mem->ms->lock);
}

void vgalloc__backing_release(struct vgalloc_device *dev, const struct vgalloc__backing *b)
{
	uint32_t maps = b->maps;

	/* The host allocation may still be in flight: wait for it. Free cannot report an error,
	 * so a failed wait gets one more try before the host memory is freed regardless. */
	if (b->token_pending && VGALLOC__HOOK(dev, host_wait, b->token, NULL, NULL) &&
	    VGALLOC__HOOK(dev, host_wait, b->token, NULL, NULL)) {
		vgalloc__stat_add(&dev->stats.teardown_errors, 1);
	}
	/* The guest mapping goes before the resource, and the host memory goes last, when no
	 * guest resource of ours refers to it any more. */
	if (b->blob) {
		while (maps--) {
			vgalloc__blob_unmap(dev, b->blob);
		}
		vgalloc__blob_unpin_release(dev, b->blob);
	}
	if (b->has_host) {
		VGALLOC__HOOK_RAW(dev, host_free, b->user_data, b->host_handle);
	}
}

/* The caller owns mem exclusively. */
static void teardown(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc__backing b = {
		.blob = mem->blob,
		.maps = mem->map_count,
		.token_pending = mem->token_pending,
		.has_host = mem->has_host,
		.token = mem->token,
		.host_handle = mem->host_handle,
		.user_data = mem->user_data,
	};

	mem->blob = NULL;
	mem->map_count = 0;
	mem->token_pending = false;
	mem->has_host = false;
	vgalloc__backing_release(dev, &b);
}

/* Record the host allocation an allocation owns (host_alloc or host_import answered). */
static void set_host(struct vgalloc_mem *mem, uint64_t handle, uint64_t token)
{
	mem->host_handle = handle;
	mem->has_host = true;
	mem->token = token;
	mem->token_pending = token != 0;
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
	set_host(mem, handle, token);
	return 0;
}

int vgalloc__host_blob(struct vgalloc_device *dev, const struct vgalloc_blob_create_info *base,
                       bool pending, uint64_t token, bool *token_done, struct vgalloc_blob **out)
{
	unsigned char cmd[VGALLOC_MAX_WAIT_CMD_SIZE];
	struct vgalloc_blob_create_info info = *base;
	uint32_t cmd_size = 0;
	bool waited = false;
	int ret;

	*token_done = false;
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
	ret = vgalloc__blob_create(dev, &info, out);
	/* With a wait command the host processed the token only if the blob was created. */
	*token_done = pending && (waited || !ret);
	return ret;
}

/* The host-first blob of a dedicated allocation, blob_id = its host allocation's tag. */
static int create_host_blob(struct vgalloc_device *dev, struct vgalloc_mem *mem, bool pending,
                            uint64_t token, struct vgalloc_blob **out_blob)
{
	struct vgalloc_blob_create_info info = {
		.struct_size = sizeof(info),
		.blob_mem = mem->blob_mem,
		.blob_flags = mem->blob_flags,
		.size = mem->committed,
		.blob_id = mem->blob_id,
	};
	bool done;
	int ret = vgalloc__host_blob(dev, &info, pending, token, &done, out_blob);

	if (done) {
		pthread_mutex_lock(&mem->ms->lock);
		mem->token_pending = false;
		pthread_mutex_unlock(&mem->ms->lock);
	}
	return ret;
}

/*
 * Guest-first and import share their second half: the memory object takes the blob, a round trip
 * lets the renderer see the resource, then the host imports it as `size` bytes.
 */
static int host_import(struct vgalloc_device *dev, struct vgalloc_mem *mem,
                       struct vgalloc_blob *blob, uint64_t size)
{
	uint64_t handle = 0, token = 0;
	int ret;

	adopt_blob(dev, mem, blob);
	ret = VGALLOC__HOOK0(dev, host_roundtrip);
	if (!ret) {
		ret = VGALLOC__HOOK(dev, host_import, mem->user_data, blob->res_id, size,
		                    mem->blob_id, &handle, &token);
	}
	if (!ret) {
		set_host(mem, handle, token);
	}
	return ret;
}

/*
 * Guest-first, and guest-handle with the same calls: the guest makes the blob (for guest-handle a
 * GUEST blob with CREATE_GUEST_HANDLE and the allocation's blob_id, whose pages the host turns
 * into an OS handle filed under that id), host_roundtrip (for guest-handle the consumer's
 * placeholder submit and wait: gfxstream's no-op command on its context ring, waited on, so the
 * renderer has filed the handle before the host allocation names it), then the host import.
 */
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
	int ret = vgalloc__blob_create(dev, &info, &blob);

	return ret ? ret : host_import(dev, mem, blob, mem->committed);
}

static int import_fd(struct vgalloc_device *dev, struct vgalloc_mem *mem, int fd)
{
	struct vgalloc_blob_import_info info = {
		.struct_size = sizeof(info),
		.blob_flags = mem->blob_flags,
		.size = mem->size,
	};
	struct vgalloc_blob *blob;
	int ret = vgalloc__blob_import(dev, fd, &info, &blob, NULL);

	return ret ? ret : host_import(dev, mem, blob, mem->size);
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
	case VGALLOC_PATH_GUEST_HANDLE:
		return guest_first(dev, mem);
	case VGALLOC_PATH_IMPORT:
		return import_fd(dev, mem, fd);
	default:
		return -EOPNOTSUPP;
	}
}

static void put_mem(struct vgalloc_mem *mem)
{
	struct vgalloc__mshard *ms = mem->ms;

	pthread_mutex_lock(&ms->lock);
	vgalloc__slab_put_locked(&ms->mems, mem);
	pthread_mutex_unlock(&ms->lock);
}

static int dedicated_alloc(struct vgalloc_device *dev, const struct vgalloc_plan *plan,
                           const struct vgalloc_request *req, uint32_t type,
                           struct vgalloc_mem **out)
{
	struct vgalloc__mshard *ms = &dev->dshards[vgalloc__thread_shard(dev->shard_count)];
	struct vgalloc_mem *mem;
	int ret;

	pthread_mutex_lock(&ms->lock);
	mem = vgalloc__mem_get_locked(dev, ms);
	pthread_mutex_unlock(&ms->lock);
	if (!mem) {
		return -ENOMEM;
	}
	mem->path = plan->path;
	mem->memory_type = type;
	mem->blob_mem = plan->blob_mem;
	mem->blob_flags = plan->blob_flags;
	mem->export_types = req->export_handle_types;
	mem->allocate_flags = req->allocate_flags;
	mem->size = req->size;
	mem->committed = plan->path == VGALLOC_PATH_IMPORT ? 0 : plan->size;
	mem->user_data = req->user_data;
	mem->blob_id = (req->flags & VGALLOC_REQUEST_BLOB_ID)
	                       ? req->blob_id
	                       : VGALLOC__HOOK0_RAW(dev, new_blob_id);
	mem->offset = 0;

	ret = run_path(dev, mem, req->import_fd);
	if (ret) {
		teardown(dev, mem);
		put_mem(mem);
		return ret;
	}
	vgalloc__stat_add(&dev->stats.mems_live, 1);
	vgalloc__stat_add(&dev->stats.mem_bytes_requested, mem->size);
	vgalloc__stat_add(&dev->stats.mem_bytes_committed, mem->committed);
	*out = mem;
	return 0;
}

int vgalloc_mem_alloc(struct vgalloc_device *dev, const struct vgalloc_request *ureq,
                      struct vgalloc_mem **out_mem)
{
	struct vgalloc_request req;
	struct vgalloc_plan plan;
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
	if (plan.path == VGALLOC_PATH_UNSUPPORTED || !dev->has_hooks) {
		return -EOPNOTSUPP;
	}
	vgalloc__find_type(&dev->traits, plan.memory_type, &type);
	for (int attempt = 0;; attempt++) {
		ret = plan.suballocate ? vgalloc__pool_alloc(dev, &plan, &req, type, out_mem)
		                       : dedicated_alloc(dev, &plan, &req, type, out_mem);
		/* Every pool slot taken (64 keys): this allocation simply gets its own blob. */
		if (ret == -ENOBUFS && plan.suballocate) {
			plan.suballocate = 0;
			ret = dedicated_alloc(dev, &plan, &req, type, out_mem);
		}
		/* DESIGN §4 rule 8: the window is the whole guest's; give back what we keep and
		 * try once more before reporting it full. */
		if (ret != -ENOSPC || attempt || vgalloc__trim(dev) <= 0) {
			break;
		}
	}
	if (ret) {
		vgalloc__log(dev, VGALLOC_LOG_DEBUG, "%s allocation of %llu bytes failed: %d",
		             vgalloc_path_name(plan.path), (unsigned long long)req.size, ret);
	}
	return ret;
}

/* The host-first lazy path creates its blob at the first map of the allocation, once. */
static int ensure_blob(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc__mshard *ms = mem->ms;
	struct vgalloc_blob *blob = NULL;
	uint64_t token;
	bool pending;
	int ret;

	pthread_mutex_lock(&ms->lock);
	while (mem->blob_busy) {
		pthread_cond_wait(&ms->cond, &ms->lock);
	}
	if (mem->blob) {
		pthread_mutex_unlock(&ms->lock);
		return 0;
	}
	mem->blob_busy = true;
	pending = mem->token_pending;
	token = mem->token;
	pthread_mutex_unlock(&ms->lock);

	ret = create_host_blob(dev, mem, pending, token, &blob);
	if (!ret) {
		adopt_blob(dev, mem, blob);
	}
	pthread_mutex_lock(&ms->lock);
	mem->blob_busy = false;
	pthread_cond_broadcast(&ms->cond);
	pthread_mutex_unlock(&ms->lock);
	return ret;
}

static int map_once(struct vgalloc_device *dev, struct vgalloc_mem *mem, void **out_ptr)
{
	struct vgalloc__mshard *ms = mem->ms;
	struct vgalloc_blob *blob;
	void *ptr;
	int ret;

	if (mem->block) {
		return vgalloc__pool_map(dev, mem, out_ptr);
	}
	if (mem->path == VGALLOC_PATH_HOST_FIRST_LAZY) {
		ret = ensure_blob(dev, mem);
		if (ret) {
			return ret;
		}
	}
	pthread_mutex_lock(&ms->lock);
	blob = mem->blob;
	pthread_mutex_unlock(&ms->lock);
	if (!blob) {
		return -EINVAL;
	}
	ret = vgalloc__blob_map(dev, blob, &ptr);
	if (ret) {
		return ret;
	}
	pthread_mutex_lock(&ms->lock);
	mem->map_count++;
	pthread_mutex_unlock(&ms->lock);
	*out_ptr = (unsigned char *)ptr + mem->offset;
	return 0;
}

int vgalloc_mem_map(struct vgalloc_device *dev, struct vgalloc_mem *mem, void **out_ptr)
{
	struct vgalloc__mshard *ms;
	bool mappable;
	int ret;

	if (!dev || !out_ptr || !(ms = lock_mem(dev, mem))) {
		return -EINVAL;
	}
	/* Only host-visible memory maps, even when guest-first gave an export a mappable blob. */
	mappable = (dev->types[mem->memory_type].property_flags &
	            VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE) &&
	           (mem->blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE) &&
	           mem->path != VGALLOC_PATH_HOST_ONLY;
	/* Marked in the same critical section that found it live: a racing vgalloc_mem_free() of
	 * this allocation now gets -EBUSY instead of pulling its blob or block away. */
	if (mappable) {
		mem->map_busy++;
	}
	pthread_mutex_unlock(&ms->lock);
	if (!mappable) {
		return -EINVAL;
	}
	ret = map_once(dev, mem, out_ptr);
	/* DESIGN §4 rule 8: a first map may need a window range; give back what pools and the
	 * shmem cache keep and try once more before reporting the window full. */
	if (ret == -ENOSPC && vgalloc__trim(dev) > 0) {
		ret = map_once(dev, mem, out_ptr);
	}
	/* Host-first: the block's members cannot move (their host memory may be bound and
	 * written), so this map fails, and the pool stops putting new members there. */
	if (ret == -ENOSPC && mem->block) {
		vgalloc__pool_map_window_full(dev, mem);
	}
	pthread_mutex_lock(&ms->lock);
	mem->map_busy--;
	pthread_mutex_unlock(&ms->lock);
	return ret;
}

int vgalloc_mem_unmap(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc__mshard *ms;
	struct vgalloc_blob *blob;

	if (!dev || !(ms = lock_mem(dev, mem))) {
		return -EINVAL;
	}
	if (!mem->map_count) {
		pthread_mutex_unlock(&ms->lock);
		return -EINVAL;
	}
	mem->map_count--;
	blob = mem->block ? NULL : mem->blob;
	pthread_mutex_unlock(&ms->lock);
	/* A suballocation's block stays mapped for as long as the block lives. */
	if (blob) {
		vgalloc__blob_unmap(dev, blob);
	}
	return 0;
}

int vgalloc_mem_export(struct vgalloc_device *dev, struct vgalloc_mem *mem, uint32_t handle_type,
                       int *out_fd)
{
	struct vgalloc__mshard *ms;
	struct vgalloc_blob *blob;
	uint32_t types;

	if (!dev || !out_fd || !(ms = lock_mem(dev, mem))) {
		return -EINVAL;
	}
	types = mem->export_types;
	/* A suballocation is never exported: its blob is shared with others. */
	blob = mem->block ? NULL : mem->blob;
	pthread_mutex_unlock(&ms->lock);
	/* One handle type per call, and only one the allocation was made exportable as. */
	if (!vgalloc__is_pow2(handle_type) || !(types & handle_type) || !blob) {
		return -EINVAL;
	}
	return vgalloc_blob_export_dmabuf(dev, blob, out_fd);
}

int vgalloc_mem_get_info(struct vgalloc_device *dev, const struct vgalloc_mem *cmem,
                         struct vgalloc_mem_info *out)
{
	struct vgalloc_mem *mem = (struct vgalloc_mem *)cmem;
	struct vgalloc_mem_info info;
	struct vgalloc__mshard *ms;
	struct vgalloc_blob *blob;
	uint64_t host_handle;

	if (!dev || !out || !(ms = lock_mem(dev, mem))) {
		return -EINVAL;
	}
	memset(&info, 0, sizeof(info));
	info.path = mem->path;
	info.memory_type = dev->types[mem->memory_type].host_index;
	info.offset = mem->offset;
	info.size = mem->size;
	info.committed = mem->committed;
	info.blob_id = mem->blob_id;
	info.blob_flags = mem->blob_flags;
	host_handle = mem->has_host ? mem->host_handle : 0;
	blob = mem->blob;
	pthread_mutex_unlock(&ms->lock);
	if (mem->block) {
		blob = vgalloc__pool_blob(dev, mem, &host_handle);
		info.flags |= VGALLOC_MEM_INFO_SUBALLOCATED;
	}
	info.host_handle = host_handle;
	info.blob = blob;
	if (blob) {
		info.blob_mem = blob->blob_mem;
		info.blob_flags = blob->blob_flags;
		info.res_id = blob->res_id;
	}
	return vgalloc__struct_out(out, &info, VGALLOC__V0_MEM_INFO, sizeof(info));
}

int vgalloc_mem_free(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc__mshard *ms;

	if (!dev) {
		return -EINVAL;
	}
	if (!mem) {
		return 0;
	}
	ms = lock_mem(dev, mem);
	if (!ms) {
		return -EINVAL;
	}
	if (mem->blob_busy || mem->map_busy) {
		pthread_mutex_unlock(&ms->lock);
		return -EBUSY; /* another thread is mapping it right now */
	}
	if (mem->block) {
		/* Freeing a suballocation never touches the backend (unless its block goes). */
		return vgalloc__pool_free(dev, mem);
	}
	/* Mark it first so that a racing second free sees a dead handle. */
	mem->slot.magic = VGALLOC__MAGIC_DYING;
	pthread_mutex_unlock(&ms->lock);

	vgalloc__stat_sub(&dev->stats.mems_live, 1);
	vgalloc__stat_sub(&dev->stats.mem_bytes_requested, mem->size);
	vgalloc__stat_sub(&dev->stats.mem_bytes_committed, mem->committed);
	teardown(dev, mem);
	put_mem(mem);
	return 0;
}

static void free_one(void *obj, void *arg)
{
	struct vgalloc_device *dev = arg;
	struct vgalloc_mem *mem = obj;

	vgalloc__log(dev, VGALLOC_LOG_WARN, "device destroyed with a %llu-byte allocation alive",
	             (unsigned long long)mem->size);
	vgalloc_mem_free(dev, mem);
}

static void free_shard(struct vgalloc__mshard *ms, void *arg)
{
	vgalloc__slab_each_live(&ms->mems, free_one, arg);
}

void vgalloc__mem_destroy_all(struct vgalloc_device *dev)
{
	for (uint32_t i = 0; i < dev->shard_count; i++) {
		free_shard(&dev->dshards[i], dev);
	}
	vgalloc__pools_each_mshard(dev, free_shard, dev);
}
