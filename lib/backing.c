/* SPDX-License-Identifier: MIT */
/*
 * Backings: the executor of the plan. A backing is made by running its path's alloc steps and
 * mapped by running its map steps, both read from policy.c's one table (the steps the plan
 * reports), in that order, each one hook or kernel call:
 *
 *   NEW_BLOB_ID     new_blob_id hook (unless the request chose the id)
 *   HOST_ALLOC      host_alloc hook: the host's memory, tagged with the blob id
 *   HOST_WAIT       host_wait hook, when a token is pending: it waits, or gives wait bytes that
 *                   the next CREATE_BLOB carries as its cmd (the host runs them first)
 *   CREATE_BLOB     RESOURCE_CREATE_BLOB (pinned: the blob API cannot drop it)
 *   ROUNDTRIP       host_roundtrip hook: the renderer sees the new resource
 *   PLACEHOLDER_SUBMIT  the same hook: for guest-handle, gfxstream's placeholder submit and wait
 *   PRIME_IMPORT    PRIME fd → handle, dedup'd by GEM handle; RESOURCE_INFO checks what it is
 *   HOST_IMPORT     host_import hook: the host imports the blob's resource
 *   MAP             MAP + mmap of the whole blob
 *
 * and torn down in one fixed order: pending token → munmap → GEM close → host_free, with a
 * host_roundtrip before the host_free when the renderer may not have processed the blob's
 * creation yet (an exported blob never mapped, a blob whose map failed).
 */
#include <string.h>

#include "backing.h"
#include "blob.h"
#include "policy.h"
#include "state.h"

/* What the steps of one run pass to each other. */
struct run {
	int import_fd;
	uint32_t cmd_size;
	unsigned char cmd[VGALLOC_MAX_WAIT_CMD_SIZE];
	struct vgalloc_blob *blob; /* made or imported by this run */
	void *ptr;                 /* mapped by this run */
};

/*
 * The steps write the backing's host and token fields without its lock: while it is made the
 * backing is its maker's alone, and while its map steps run the once-guard keeps everyone else
 * out (release, the only other reader, owns it exclusively). publish() puts the blob in place
 * under the lock, where other threads read it.
 */
static int host_wait(struct vgalloc_device *dev, struct vgalloc__backing *bk, struct run *r)
{
	int ret;

	if (!bk->token_pending) {
		return 0;
	}
	r->cmd_size = sizeof(r->cmd);
	/* CREATE_BLOB follows on the same fd: ordering the wait ahead of it is enough. */
	vgalloc__stat_add(&dev->stats.host_waits, 1);
	ret = VGALLOC__HOOK(dev, host_wait, bk->token, VGALLOC_WAIT_ORDER, r->cmd, &r->cmd_size);
	if (ret) {
		return ret;
	}
	if (r->cmd_size > sizeof(r->cmd) || r->cmd_size % 4) {
		return -EIO;
	}
	return 0;
}

static int create_blob(struct vgalloc_device *dev, struct vgalloc__backing *bk, struct run *r)
{
	struct vgalloc_blob_create_info info = {
		.struct_size = sizeof(info),
		.blob_mem = bk->blob_mem,
		.blob_flags = bk->blob_flags,
		.size = bk->size,
		.blob_id = bk->blob_id,
		.cmd = r->cmd_size ? r->cmd : NULL,
		.cmd_size = r->cmd_size,
	};
	int ret;

	/* From here the renderer may make a resource of the host memory, even if the kernel's
	 * answer is one the library refuses: until a sync point, release round-trips. */
	bk->create_tried = true;
	bk->blob_seen = false;
	ret = vgalloc__blob_create(dev, &info, &r->blob);
	/* The host processed the token before a blob it created, whether the hook waited, ordered
	 * the wait or sent wait bytes. A failed creation proves nothing: an ordered wait may still
	 * be queued, so the token stays pending and release waits again. */
	if (!ret) {
		bk->token_pending = false;
		vgalloc__blob_pin(dev, r->blob);
	}
	r->cmd_size = 0;
	return ret;
}

static int prime_import(struct vgalloc_device *dev, struct vgalloc__backing *bk, struct run *r)
{
	struct vgalloc_blob_import_info info = {
		.struct_size = sizeof(info),
		.blob_flags = bk->blob_flags,
		.size = bk->requested_size,
	};
	int ret = vgalloc__blob_import(dev, r->import_fd, &info, &r->blob, NULL);

	if (!ret) {
		vgalloc__blob_pin(dev, r->blob);
	}
	return ret;
}

/* Record what a run made in the backing, under the owner's lock. */
static void publish(struct vgalloc__backing *bk, struct run *r)
{
	if (r->blob && !bk->blob) {
		bk->blob = r->blob;
		bk->blob_mem = r->blob->blob_mem;
		bk->blob_flags = r->blob->blob_flags;
	}
}

/* The args of the backing's host_alloc or host_import. */
static struct vgalloc_host_alloc_args host_args(const struct vgalloc__backing *bk, uint32_t res_id)
{
	return (struct vgalloc_host_alloc_args){
		.struct_size = sizeof(struct vgalloc_host_alloc_args),
		.flags = bk->keep_mapped ? VGALLOC_HOST_ARGS_BLOCK : VGALLOC_HOST_ARGS_DEDICATED,
		.memory_type = bk->memory_type,
		.allocate_flags = bk->allocate_flags,
		.blob_flags = bk->blob_flags,
		.res_id = res_id,
		.size = bk->size,
		.requested_size = bk->requested_size,
		.blob_id = bk->blob_id,
	};
}

/*
 * Record what host_alloc or host_import answered (ret 0: it allocated, so the backing holds a
 * host allocation whatever the answer says). An answer the contract does not allow is -EIO; the
 * caller's release frees the allocation.
 */
static int host_answer(struct vgalloc_device *dev, struct vgalloc__backing *bk,
                       const struct vgalloc_host_result *res, uint32_t allowed)
{
	bk->host_handle = res->host_handle;
	bk->has_host = true;
	/* Even a refused answer's pending work is waited for before its host_free. */
	bk->token = res->token;
	bk->token_pending = res->flags & VGALLOC_HOST_RESULT_PENDING;
	if (bk->token_pending && (dev->ld.hooks.flags & VGALLOC_HOOKS_IN_ORDER)) {
		/* Numbered after the hook queued the work: a roundtrip that read a smaller number
		 * started after the work was queued (token_done). */
		bk->token_seq = atomic_fetch_add(&dev->ld.token_issued, 1) + 1;
	}
	if ((res->flags & ~allowed) ||
	    ((res->flags & VGALLOC_HOST_RESULT_BLOB_ID) && res->blob_id == 0)) {
		return -EIO;
	}
	if (res->flags & VGALLOC_HOST_RESULT_BLOB_ID) {
		bk->blob_id = res->blob_id;
	}
	return 0;
}

/* host_roundtrip; in order, it completes every token numbered before it started. */
static int roundtrip(struct vgalloc_device *dev)
{
	uint64_t issued = atomic_load(&dev->ld.token_issued);
	uint64_t done = atomic_load(&dev->ld.token_done);
	int ret = VGALLOC__HOOK0(dev, host_roundtrip);

	while (!ret && (dev->ld.hooks.flags & VGALLOC_HOOKS_IN_ORDER) && done < issued &&
	       !atomic_compare_exchange_weak(&dev->ld.token_done, &done, issued)) {
	}
	return ret;
}

static int run_step(struct vgalloc_device *dev, struct vgalloc__backing *bk, struct run *r,
                    uint32_t step)
{
	struct vgalloc_host_result res = { .struct_size = sizeof(res) };
	struct vgalloc_host_alloc_args args;
	int ret;

	switch (step) {
	case VGALLOC_STEP_NEW_BLOB_ID:
		if (!bk->blob_id_given) {
			bk->blob_id = VGALLOC__HOOK0_RAW(dev, new_blob_id);
		}
		return 0;
	case VGALLOC_STEP_HOST_ALLOC:
		args = host_args(bk, 0);
		ret = VGALLOC__HOOK(dev, host_alloc, bk->user_data, &args, &res);
		return ret ? ret
		           : host_answer(dev, bk, &res,
		                         VGALLOC_HOST_RESULT_PENDING | VGALLOC_HOST_RESULT_BLOB_ID);
	case VGALLOC_STEP_HOST_IMPORT:
		args = host_args(bk, (r->blob ? r->blob : bk->blob)->res_id);
		ret = VGALLOC__HOOK(dev, host_import, bk->user_data, &args, &res);
		return ret ? ret : host_answer(dev, bk, &res, VGALLOC_HOST_RESULT_PENDING);
	case VGALLOC_STEP_HOST_WAIT:
		return host_wait(dev, bk, r);
	case VGALLOC_STEP_CREATE_BLOB:
		return create_blob(dev, bk, r);
	case VGALLOC_STEP_ROUNDTRIP:
	case VGALLOC_STEP_PLACEHOLDER_SUBMIT:
		ret = roundtrip(dev);
		bk->blob_seen |= !ret;
		return ret;
	case VGALLOC_STEP_PRIME_IMPORT:
		return prime_import(dev, bk, r);
	case VGALLOC_STEP_RESOURCE_INFO:
		return 0; /* run by PRIME_IMPORT, under the import lock that makes the dedup safe */
	case VGALLOC_STEP_MAP:
		/* A mapping waits for the host, which has then processed the blob's creation. */
		ret = vgalloc__blob_map(dev, r->blob ? r->blob : bk->blob, &r->ptr);
		bk->blob_seen |= !ret;
		return ret;
	default:
		return -EOPNOTSUPP;
	}
}

static int run_steps(struct vgalloc_device *dev, struct vgalloc__backing *bk, struct run *r,
                     const uint8_t *steps, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		int ret = run_step(dev, bk, r, steps[i]);

		if (ret) {
			return ret;
		}
	}
	return 0;
}

int vgalloc__backing_make(struct vgalloc_device *dev, struct vgalloc__backing *bk, int import_fd)
{
	const struct vgalloc__path_steps *ps = vgalloc__path_steps(bk->path);
	struct run r = { .import_fd = import_fd };
	int ret;

	if (!ps) {
		return -EOPNOTSUPP;
	}
	ret = run_steps(dev, bk, &r, ps->alloc, ps->alloc_count);
	/* Nobody else sees the backing yet, but its lock orders these writes before the
	 * publication of the object that holds it. */
	vgalloc__lock(&bk->ms->lock);
	publish(bk, &r);
	vgalloc__unlock(&bk->ms->lock);
	return ret;
}

int vgalloc__backing_map(struct vgalloc_device *dev, struct vgalloc__backing *bk, void **out_ptr)
{
	const struct vgalloc__path_steps *ps = vgalloc__path_steps(bk->path);
	struct vgalloc__mshard *ms = bk->ms;
	struct run r = { .import_fd = -1 };
	int ret;

	if (!ps || !ps->map_count) {
		return -EINVAL;
	}
	vgalloc__lock(&ms->lock);
	vgalloc__lock_once_wait(&ms->lock, &ms->cond, &bk->busy);
	*out_ptr = bk->keep_mapped ? atomic_load_explicit(&bk->ptr, memory_order_relaxed) : NULL;
	if (*out_ptr) {
		vgalloc__unlock(&ms->lock);
		return 0;
	}
	bk->busy = true;
	vgalloc__unlock(&ms->lock);

	/* The steps before MAP make the blob (host-first lazy); once made, only MAP runs again
	 * (MAP is every path's last map step: policy.c's table). */
	ret = run_steps(dev, bk, &r, bk->blob ? &ps->map[ps->map_count - 1] : ps->map,
	                bk->blob ? 1 : ps->map_count);

	vgalloc__lock(&ms->lock);
	publish(bk, &r);
	if (!ret) {
		bk->maps++;
		if (bk->keep_mapped) {
			atomic_store_explicit(&bk->ptr, r.ptr, memory_order_release);
		}
		*out_ptr = r.ptr;
	}
	vgalloc__lock_once_leave(&ms->cond, &bk->busy);
	vgalloc__unlock(&ms->lock);
	return ret;
}

struct vgalloc_blob *vgalloc__backing_unmap_locked(struct vgalloc__backing *bk)
{
	bk->maps--;
	return bk->blob;
}

/*
 * The host work of the backing may still be in flight when it is released. In order
 * (VGALLOC_HOOKS_IN_ORDER), a completed roundtrip may have finished it, and without a blob only
 * host_free follows, which the host runs after it anyway: no wait. Otherwise wait, ordered ahead
 * of the GEM close (and, in order, of host_free) where that is enough. Release cannot report an
 * error, so a failed wait gets one more try before the host memory is freed regardless.
 */
static void release_wait(struct vgalloc_device *dev, struct vgalloc__backing *bk)
{
	bool in_order = dev->ld.hooks.flags & VGALLOC_HOOKS_IN_ORDER;
	uint32_t flags = in_order ? VGALLOC_WAIT_ORDER : 0;

	if (!bk->token_pending) {
		return;
	}
	if (in_order && (!bk->blob || bk->token_seq <= atomic_load(&dev->ld.token_done))) {
		vgalloc__stat_add(&dev->stats.host_waits_skipped, 1);
		return;
	}
	vgalloc__stat_add(&dev->stats.host_waits, 1);
	if (VGALLOC__HOOK(dev, host_wait, bk->token, flags, NULL, NULL) &&
	    VGALLOC__HOOK(dev, host_wait, bk->token, flags, NULL, NULL)) {
		vgalloc__stat_add(&dev->stats.teardown_errors, 1);
	}
}

void vgalloc__backing_release(struct vgalloc_device *dev, struct vgalloc__backing *bk)
{
	release_wait(dev, bk);
	/* The guest mapping goes before the resource, and the host memory goes last, when no
	 * guest resource of ours refers to it any more. */
	if (bk->blob) {
		while (bk->maps) {
			vgalloc__blob_unmap(dev, bk->blob);
			bk->maps--;
		}
		vgalloc__blob_unpin_release(dev, bk->blob);
	}
	/* The host memory must outlive the renderer's use of a blob made of it: a round trip
	 * orders the free after the blob's creation (Venus: after export, after a failed first
	 * map). Release cannot fail; a failed round trip is counted. */
	if (bk->has_host && bk->create_tried && !bk->blob_seen && roundtrip(dev)) {
		vgalloc__stat_add(&dev->stats.teardown_errors, 1);
	}
	if (bk->has_host) {
		VGALLOC__HOOK_RAW(dev, host_free, bk->user_data, bk->host_handle);
	}
	bk->blob = NULL;
	atomic_store_explicit(&bk->ptr, NULL, memory_order_relaxed);
	bk->token_pending = false;
	bk->has_host = false;
}
