/* SPDX-License-Identifier: MIT */
/*
 * Memory-object shards: a lock with its own slab of memory objects (every vgalloc_mem belongs to
 * exactly one), and the registry that maps a pointer to its shard without reading memory that is
 * not ours. Nothing here is installed.
 */
#ifndef VGALLOC_REGISTRY_H
#define VGALLOC_REGISTRY_H

#include <pthread.h>
#include <stdint.h>

#include "handle.h"
#include "lock.h"

struct vgalloc_device;
struct vgalloc_mem;

/* Cache-line aligned: neighbouring shards are different threads' locks. */
struct vgalloc__mshard {
	_Alignas(64) struct vgalloc_device *dev;
	bool pooled; /* a pool shard (pool.c): its suballocations may be freed deferred */
	struct vgalloc__lock lock;
	struct vgalloc__cond cond;
	struct vgalloc__slab mems;
};

struct vgalloc__registry {
	struct vgalloc__registry *older;
	uint32_t count;
	uint32_t largest; /* the entry with the most bytes: checked first, it holds most slots */
	struct vgalloc__registry_entry {
		uintptr_t base, end;
		/* Whether an offset is a multiple of the slot size, without a division: the slot
		 * size is odd << shift; a multiple has `shift` low zero bits, and its odd part
		 * times the odd factor's inverse (mod 2^64) is at most `limit`. */
		uint64_t inverse, limit;
		uint32_t shift;
		struct vgalloc__mshard *ms;
	} e[];
};

void vgalloc__mshard_init(struct vgalloc_device *dev, struct vgalloc__mshard *ms);
void vgalloc__mshard_finish(struct vgalloc_device *dev, struct vgalloc__mshard *ms);
/* ms->lock held: a fresh memory object, registering a new slab chunk when one is added. */
struct vgalloc_mem *vgalloc__mem_get_locked(struct vgalloc_device *dev, struct vgalloc__mshard *ms);
/* The shard owning p when p points at a memory-object slot of this device, else NULL. */
struct vgalloc__mshard *vgalloc__mem_owner(struct vgalloc_device *dev, const void *p);
void vgalloc__registry_free(struct vgalloc_device *dev);
/* This thread's shard index in [0, n). */
uint32_t vgalloc__thread_shard(uint32_t n);

#endif
