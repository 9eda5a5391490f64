/* SPDX-License-Identifier: MIT */
/*
 * Pools: suballocation of pool blocks (each a backing) for the plans that say so. Per logical
 * device. Nothing here is installed.
 */
#ifndef VGALLOC_POOL_H
#define VGALLOC_POOL_H

#include "core.h"
#include "policy.h"

struct vgalloc_device;
struct vgalloc_mem;
struct vgalloc__pool;
struct vgalloc__mshard;

/*
 * A suballocation of a plan that suballocates, as vgalloc__pool_req states it. Return: 0;
 * -ENOBUFS (no room in the window even for the smallest block, or no pool slot: the plan's
 * fallback applies); -ENOMEM; a backing's error.
 */
int vgalloc__pool_alloc(struct vgalloc_device *dev, const struct vgalloc__pool_req *pr,
                        struct vgalloc_mem **out);
/*
 * Free a suballocation of pool shard ms (ms->pooled; no lock held). Claimed at once; its range
 * is given back now, or, when the shard is another thread's or its lock is busy, queued on the
 * shard and given back by the next call that takes that lock (an allocation there, a free that
 * finds the queue full, trim, statistics, device destroy). !may_defer: given back now, under
 * the lock (device destroy's walk). Return: 0; -EINVAL (not live); -EBUSY (a thread is inside
 * vgalloc_mem_map() of it).
 */
int vgalloc__pool_free(struct vgalloc_device *dev, struct vgalloc__mshard *ms,
                       struct vgalloc_mem *mem, bool may_defer);
/* Complete every queued free (takes each shard's lock that has some). */
void vgalloc__pools_drain(struct vgalloc_device *dev);
/*
 * A suballocation's first map found no window room even after a trim: close its block to new
 * members and degrade its pool (docs/window-full.md). Takes the shard lock.
 */
void vgalloc__pool_map_window_full(struct vgalloc_device *dev, struct vgalloc_mem *mem);
/* Release every retained empty block; the number released (≥ 0). */
int vgalloc__pools_trim(struct vgalloc_device *dev);
/* The consumer gave memory back: degraded pools may try full blocks again. */
void vgalloc__pools_lift(struct vgalloc_device *dev);
void vgalloc__pools_each_mshard(struct vgalloc_device *dev,
                                void (*fn)(struct vgalloc__mshard *ms, void *arg), void *arg);
void vgalloc__pools_destroy(struct vgalloc_device *dev);
/* Live suballocations and their requested bytes, summed over every shard (takes each lock). */
void vgalloc__pools_counts(struct vgalloc_device *dev, uint64_t *live, uint64_t *requested);
/* One pool's figures (vgalloc_device_get_pool_stats). Return: 0; -ENOENT past the last pool. */
int vgalloc__pool_stats(struct vgalloc_device *dev, uint32_t index, struct vgalloc_pool_stats *ps);

#endif
