/* SPDX-License-Identifier: MIT */
/*
 * Memory objects: what vgalloc_mem_alloc() hands out. A dedicated one owns a backing (allocated
 * beside it: suballocations, the many, do not carry one); a suballocation points at its pool
 * block's. Nothing here is installed.
 */
#ifndef VGALLOC_MEM_H
#define VGALLOC_MEM_H

#include <errno.h>

#include "backing.h"
#include "handle.h"

struct vgalloc__block;
struct vgalloc__mshard;

struct vgalloc_mem {
	/* The first cache line (slots are line-aligned) holds all a free of a suballocation
	 * reads: a free finds the object cold, and a second line was a second miss. */
	struct vgalloc__slot slot;
	struct vgalloc__block *block; /* suballocated: the pool block it lives in */
	void *sa_node;                /* suballocated: the allocator's record */
	uint32_t sa_index;
	uint32_t type;              /* index into the device's memory-type table */
	uint64_t size;              /* requested */
	struct vgalloc__mshard *ms; /* its lock and slab */
	/* --- */
	struct vgalloc__backing *bk; /* its own (dedicated), or its pool block's */
	uint64_t committed;          /* what it holds: the rounded size, or its range of a block */
	uint64_t offset;             /* in its blob */
	uint32_t export_types;
	/* Raised without the lock by vgalloc_mem_map()'s fast path, lowered under ms->lock; its
	 * threads inside vgalloc_mem_map() are counted in slot.state */
	_Atomic uint32_t map_count;
};
_Static_assert(offsetof(struct vgalloc_mem, ms) + sizeof(void *) <= 64,
               "a free of a suballocation reads one cache line of its memory object");

/*
 * Claim a live memory object for its free: its state goes from live and idle to dying in one
 * atomic step, with or without its shard's lock. Return: 0; -EINVAL (freed, being freed or not a
 * live object); -EBUSY (a thread is inside vgalloc_mem_map() of it).
 */
static inline int vgalloc__mem_claim(struct vgalloc_mem *mem)
{
	uint32_t v = 0;

	if (atomic_load_explicit(&mem->slot.magic, memory_order_relaxed) != VGALLOC__MAGIC_MEM) {
		return -EINVAL;
	}
	if (atomic_compare_exchange_strong_explicit(&mem->slot.state, &v, VGALLOC__STATE_DYING,
	                                            memory_order_acq_rel, memory_order_relaxed)) {
		return 0;
	}
	return v & VGALLOC__STATE_DYING ? -EINVAL : -EBUSY;
}

/* Device destroy: free every memory object still alive (and log it). */
void vgalloc__mem_destroy_all(struct vgalloc_device *dev);

#endif
