/* SPDX-License-Identifier: MIT */
/*
 * Memory objects: what vgalloc_mem_alloc() hands out. A dedicated one owns a backing (allocated
 * beside it: suballocations, the many, do not carry one); a suballocation points at its pool
 * block's. Nothing here is installed.
 */
#ifndef VGALLOC_MEM_H
#define VGALLOC_MEM_H

#include "backing.h"
#include "handle.h"

struct vgalloc__block;
struct vgalloc__mshard;

struct vgalloc_mem {
	struct vgalloc__slot slot;
	struct vgalloc__mshard *ms;   /* its lock and slab */
	struct vgalloc__backing *bk;  /* its own (dedicated), or its pool block's */
	struct vgalloc__block *block; /* suballocated: the pool block it lives in */
	void *sa_node;                /* suballocated: the allocator's record */
	uint32_t sa_index;
	uint32_t type; /* index into the device's memory-type table */
	uint32_t export_types;
	uint64_t size;      /* requested */
	uint64_t committed; /* what it holds: the rounded size, or its range of a block */
	uint64_t offset;    /* in its blob */
	/* ms->lock */
	uint32_t map_busy; /* threads inside vgalloc_mem_map of this allocation */
	uint32_t map_count;
};

/* Device destroy: free every memory object still alive (and log it). */
void vgalloc__mem_destroy_all(struct vgalloc_device *dev);

#endif
