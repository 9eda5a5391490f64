/* SPDX-License-Identifier: MIT */
/*
 * Memory allocations: the plan decides and this file carries it out. A suballocation is a range of
 * a pool block (pool.c); any other allocation owns a backing (backing.c), which runs the plan's
 * steps: the hook and kernel sequences that are the contract with the consumer's protocol.
 * Here: handles, map counts, export, info, and the one degradation the plan states (a pool with
 * no window room even for its smallest block: the same path for this allocation alone).
 */
#include <errno.h>
#include <string.h>

#include "backing.h"
#include "blob.h"
#include "mem.h"
#include "pool.h"
#include "state.h"

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
	/* The registry found a slot of ours: its header is safe to read. A deferred free may have
	 * claimed it without this lock; then it is as good as freed. */
	vgalloc__lock(&ms->lock);
	if (atomic_load_explicit(&mem->slot.magic, memory_order_relaxed) != VGALLOC__MAGIC_MEM ||
	    (atomic_load_explicit(&mem->slot.state, memory_order_relaxed) & VGALLOC__STATE_DYING)) {
		vgalloc__unlock(&ms->lock);
		return NULL;
	}
	return ms;
}

/* Count a thread in vgalloc_mem_map() of mem, unless a free claimed it. */
static bool map_enter(struct vgalloc_mem *mem)
{
	uint32_t v = atomic_load_explicit(&mem->slot.state, memory_order_relaxed);

	do {
		if (v & VGALLOC__STATE_DYING) {
			return false;
		}
	} while (!atomic_compare_exchange_weak_explicit(
	        &mem->slot.state, &v, v + 1, memory_order_acquire, memory_order_relaxed));
	return true;
}

static void map_leave(struct vgalloc_mem *mem)
{
	atomic_fetch_sub_explicit(&mem->slot.state, 1, memory_order_release);
}

/* A dedicated allocation's own backing, from its plan and request, on the shard ms. */
static struct vgalloc__backing *new_backing(struct vgalloc_device *dev, struct vgalloc__mshard *ms,
                                            uint32_t type, const struct vgalloc_plan *plan,
                                            const struct vgalloc_request *req)
{
	struct vgalloc__backing *bk =
	        vgalloc__alloc(&dev->allocator, sizeof(*bk), 8, VGALLOC_SCOPE_OBJECT);

	if (!bk) {
		return NULL;
	}
	memset(bk, 0, sizeof(*bk));
	bk->ms = ms;
	bk->path = plan->path;
	bk->memory_type = dev->ld.types[type].host_index;
	bk->blob_mem = plan->blob_mem;
	bk->blob_flags = plan->blob_flags;
	bk->allocate_flags = req->allocate_flags;
	bk->size = plan->size;
	bk->requested_size = req->size;
	bk->blob_id_given = req->flags & VGALLOC_REQUEST_BLOB_ID;
	bk->blob_id = bk->blob_id_given ? req->blob_id : 0;
	bk->user_data = req->user_data;
	return bk;
}

/* The caller owns a dedicated allocation exclusively: its backing torn down and freed. */
static void own_backing_release(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	vgalloc__backing_release(dev, mem->bk);
	vgalloc__free(&dev->allocator, mem->bk);
	mem->bk = NULL;
}

static void put_mem(struct vgalloc_mem *mem)
{
	struct vgalloc__mshard *ms = mem->ms;

	vgalloc__lock(&ms->lock);
	vgalloc__slab_put_locked(&ms->mems, mem);
	vgalloc__unlock(&ms->lock);
}

/* An allocation with a backing of its own: the plan's path, run by backing.c. */
static int dedicated_alloc(struct vgalloc_device *dev, const struct vgalloc_plan *plan,
                           const struct vgalloc_request *req, uint32_t type,
                           struct vgalloc_mem **out)
{
	struct vgalloc__mshard *ms = &dev->ld.dshards[vgalloc__thread_shard(dev->ld.shard_count)];
	struct vgalloc__backing *bk = new_backing(dev, ms, type, plan, req);
	struct vgalloc_mem *mem = NULL;
	int ret;

	if (!bk) {
		return -ENOMEM;
	}
	/* Filled in the critical section that makes the slot live: no reader of a live handle
	 * ever finds it without its backing. */
	vgalloc__lock(&ms->lock);
	mem = vgalloc__mem_get_locked(dev, ms);
	if (mem) {
		mem->bk = bk;
		mem->type = type;
		mem->export_types = req->export_handle_types;
		mem->size = req->size;
		mem->committed = plan->path == VGALLOC_PATH_IMPORT ? 0 : plan->size;
		mem->offset = 0;
	}
	vgalloc__unlock(&ms->lock);
	if (!mem) {
		vgalloc__free(&dev->allocator, bk);
		return -ENOMEM;
	}
	ret = vgalloc__backing_make(dev, mem->bk, req->import_fd);
	if (ret) {
		own_backing_release(dev, mem);
		put_mem(mem);
		return ret;
	}
	vgalloc__lock(&ms->lock);
	vgalloc__slot_publish(&mem->slot);
	vgalloc__unlock(&ms->lock);
	vgalloc__stat_add(&dev->stats.mems_live, 1);
	vgalloc__stat_add(&dev->stats.mem_bytes_requested, mem->size);
	vgalloc__stat_add(&dev->stats.mem_bytes_committed, mem->committed);
	*out = mem;
	return 0;
}

int vgalloc_mem_alloc(struct vgalloc_device *dev, const struct vgalloc_request *ureq,
                      struct vgalloc_mem **out_mem)
{
	struct vgalloc__pool_req pr;
	struct vgalloc_request req;
	struct vgalloc_plan plan;
	bool pool, planned = false;
	uint32_t type;
	int ret;

	if (!dev || !out_mem) {
		return -EINVAL;
	}
	/* The common request, a plain suballocation, skips the full plan (policy.h). */
	pool = dev->ld.has_hooks && vgalloc__plan_fast(&dev->ld.traits, ureq, &pr);
	if (!pool) {
		ret = vgalloc__plan_in(&dev->ld.traits, ureq, &req, &plan);
		if (ret) {
			return ret;
		}
		if (plan.path == VGALLOC_PATH_UNSUPPORTED || !dev->ld.has_hooks) {
			return -EOPNOTSUPP;
		}
		planned = true;
		vgalloc__find_type(&dev->ld.traits, plan.memory_type, &type);
		pool = plan.suballocate;
		pr = (struct vgalloc__pool_req){
			.key = plan.pool_key,
			.size = req.size,
			.alignment = plan.alignment,
			.min_block = plan.min_block_size,
			.type = type,
			.path = plan.path,
			.blob_mem = plan.blob_mem,
			.blob_flags = plan.blob_flags,
		};
	}
	for (int attempt = 0;; attempt++) {
		ret = pool ? vgalloc__pool_alloc(dev, &pr, out_mem) : -ENOBUFS;
		/* The plan's one degradation (vgalloc.h, `suballocate`): a pool with no window room
		 * even for its smallest block, or no pool slot left, and this allocation runs the
		 * same path alone, now and on the retry. */
		if (ret == -ENOBUFS) {
			pool = false;
			if (!planned) {
				ret = vgalloc__plan_in(&dev->ld.traits, ureq, &req, &plan);
				if (ret) {
					break;
				}
				planned = true;
			}
			ret = dedicated_alloc(dev, &plan, &req, pr.type, out_mem);
		}
		/* DESIGN §4 rule 8: the window is the whole guest's; give back what we keep and
		 * try once more before reporting it full. */
		if (ret != -ENOSPC || attempt || vgalloc__trim(dev) <= 0) {
			break;
		}
	}
	if (ret) {
		vgalloc__log(dev, VGALLOC_LOG_DEBUG, "%s allocation of %llu bytes failed: %d",
		             vgalloc_path_name(pr.path), (unsigned long long)pr.size, ret);
	}
	return ret;
}

static int map_once(struct vgalloc_device *dev, struct vgalloc_mem *mem, void **out_ptr)
{
	struct vgalloc__backing *bk = mem->bk;
	void *ptr;
	int ret;

	/* A suballocation's block stays mapped for the block's life: only its first map runs the
	 * steps (vgalloc__backing_map() returns the mapping another thread made meanwhile); a
	 * dedicated allocation holds one map reference of its blob per map. */
	ret = vgalloc__backing_map(dev, bk, &ptr);
	if (ret) {
		return ret;
	}
	atomic_fetch_add_explicit(&mem->map_count, 1, memory_order_relaxed);
	*out_ptr = (unsigned char *)ptr + mem->offset;
	return 0;
}

/*
 * A suballocation whose block is mapped: an offset, without the shard's lock. Counted in the
 * object's state for the few loads it makes, so a racing free gets -EBUSY rather than taking the
 * block away; the count's acquire pairs with the release that published the object, and the
 * mapping's with the first map's. Returns false, having changed nothing, for anything else.
 */
static bool map_mapped_block(struct vgalloc_device *dev, struct vgalloc_mem *mem, void **out_ptr)
{
	unsigned char *base = NULL;

	if (!vgalloc__mem_owner(dev, mem) || !map_enter(mem)) {
		return false;
	}
	if (mem->block) {
		base = atomic_load_explicit(&mem->bk->ptr, memory_order_acquire);
	}
	if (base) {
		atomic_fetch_add_explicit(&mem->map_count, 1, memory_order_relaxed);
		*out_ptr = base + mem->offset;
	}
	map_leave(mem);
	return base != NULL;
}

int vgalloc_mem_map(struct vgalloc_device *dev, struct vgalloc_mem *mem, void **out_ptr)
{
	struct vgalloc__backing *bk;
	struct vgalloc__mshard *ms;
	bool mappable;
	int ret;

	if (!dev || !out_ptr) {
		return -EINVAL;
	}
	if (map_mapped_block(dev, mem, out_ptr)) {
		return 0;
	}
	if (!(ms = lock_mem(dev, mem))) {
		return -EINVAL;
	}
	bk = mem->bk;
	/* Only host-visible memory maps, even when guest-first gave an export a mappable blob. */
	mappable =
	        (dev->ld.types[mem->type].property_flags & VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE) &&
	        (bk->blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE) && bk->path != VGALLOC_PATH_HOST_ONLY;
	if (!mappable) {
		vgalloc__unlock(&ms->lock);
		return -EINVAL;
	}
	/* (A block mapped already took map_mapped_block(); one mapped since, map_once().) Counted in the same critical section that found it live: a racing vgalloc_mem_free() of
	 * this allocation now gets -EBUSY instead of pulling its blob or block away. */
	if (!map_enter(mem)) {
		vgalloc__unlock(&ms->lock);
		return -EINVAL;
	}
	vgalloc__unlock(&ms->lock);
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
	map_leave(mem);
	return ret;
}

int vgalloc_mem_unmap(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc__mshard *ms;
	struct vgalloc_blob *blob = NULL;

	if (!dev || !(ms = lock_mem(dev, mem))) {
		return -EINVAL;
	}
	/* Only this lock lowers it, and the fast path only raises it: non-zero stays non-zero. */
	if (!atomic_load_explicit(&mem->map_count, memory_order_relaxed)) {
		vgalloc__unlock(&ms->lock);
		return -EINVAL;
	}
	atomic_fetch_sub_explicit(&mem->map_count, 1, memory_order_relaxed);
	/* A suballocation's block stays mapped for as long as the block lives. A dedicated
	 * allocation's backing shares its lock: its reference goes in this same critical section,
	 * so a racing free tears down with the count that is left. */
	if (!mem->block) {
		blob = vgalloc__backing_unmap_locked(mem->bk);
	}
	vgalloc__unlock(&ms->lock);
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
	blob = mem->block ? NULL : mem->bk->blob;
	vgalloc__unlock(&ms->lock);
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
	const struct vgalloc__backing *bk;
	struct vgalloc_mem_info info;
	struct vgalloc__mshard *ms;

	if (!dev || !out || !(ms = lock_mem(dev, mem))) {
		return -EINVAL;
	}
	/* A suballocation's backing is its block's, under the same (shard) lock. */
	bk = mem->bk;
	memset(&info, 0, sizeof(info));
	info.path = bk->path;
	info.memory_type = bk->memory_type;
	info.offset = mem->offset;
	info.size = mem->size;
	info.committed = mem->committed;
	info.blob_id = bk->blob_id;
	info.blob_flags = bk->blob_flags;
	info.host_handle = bk->has_host ? bk->host_handle : 0;
	info.blob = bk->blob;
	if (mem->block) {
		info.flags |= VGALLOC_MEM_INFO_SUBALLOCATED;
	}
	if (bk->blob) {
		info.blob_mem = bk->blob->blob_mem;
		info.blob_flags = bk->blob->blob_flags;
		info.res_id = bk->blob->res_id;
	}
	vgalloc__unlock(&ms->lock);
	return vgalloc__struct_out(out, &info, VGALLOC__V0_MEM_INFO, sizeof(info));
}

/* A free; !may_defer: a suballocation's range goes back before this returns (destroy). */
static int mem_free(struct vgalloc_device *dev, struct vgalloc_mem *mem, bool may_defer)
{
	struct vgalloc__mshard *ms;
	int ret;

	if (!dev) {
		return -EINVAL;
	}
	if (!mem) {
		return 0;
	}
	ms = vgalloc__mem_owner(dev, mem);
	if (!ms) {
		return -EINVAL;
	}
	/* Freeing a suballocation never touches the backend (unless its block goes). */
	if (ms->pooled) {
		return vgalloc__pool_free(dev, ms, mem, may_defer);
	}
	vgalloc__lock(&ms->lock);
	ret = vgalloc__mem_claim(mem);
	if (ret) {
		vgalloc__unlock(&ms->lock);
		return ret;
	}
	/* Dead to every other caller from here (the claim), and to destroy's walk. */
	atomic_store_explicit(&mem->slot.magic, VGALLOC__MAGIC_DYING, memory_order_relaxed);
	vgalloc__unlock(&ms->lock);

	vgalloc__stat_sub(&dev->stats.mems_live, 1);
	vgalloc__stat_sub(&dev->stats.mem_bytes_requested, mem->size);
	vgalloc__stat_sub(&dev->stats.mem_bytes_committed, mem->committed);
	own_backing_release(dev, mem);
	atomic_store_explicit(&mem->map_count, 0, memory_order_relaxed);
	put_mem(mem);
	return 0;
}

int vgalloc_mem_free(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	return mem_free(dev, mem, true);
}

static void free_one(void *obj, void *arg)
{
	struct vgalloc_device *dev = arg;
	struct vgalloc_mem *mem = obj;

	vgalloc__log(dev, VGALLOC_LOG_WARN, "device destroyed with a %llu-byte allocation alive",
	             (unsigned long long)mem->size);
	mem_free(dev, mem, false);
}

static void free_shard(struct vgalloc__mshard *ms, void *arg)
{
	vgalloc__slab_each_live(&ms->mems, free_one, arg);
}

void vgalloc__mem_destroy_all(struct vgalloc_device *dev)
{
	/* Frees queued by other threads finish first: those objects are not alive. */
	vgalloc__pools_drain(dev);
	for (uint32_t i = 0; i < dev->ld.shard_count; i++) {
		free_shard(&dev->ld.dshards[i], dev);
	}
	vgalloc__pools_each_mshard(dev, free_shard, dev);
}
