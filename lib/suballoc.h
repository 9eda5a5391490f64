/* SPDX-License-Identifier: MIT */
/*
 * The suballocation algorithm, alone: offsets inside blocks, no memory, no backend, no locks (the
 * caller serialises). Small sizes come from size-classed slabs (bitmaps, classes finer than powers
 * of two), the rest from an O(1) two-level segregated fit over every block; all metadata lives out
 * of band. Being pure, it is tested against a reference model and benchmarked on its own.
 */
#ifndef VGALLOC_SUBALLOC_H
#define VGALLOC_SUBALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vgalloc/vgalloc.h"

/* Two-level segregated fit geometry: 2^SL_BITS lists per power of two, sizes < 2^FL_MAX. */
#define VGALLOC__SA_SL_BITS  4
#define VGALLOC__SA_SL_COUNT (1u << VGALLOC__SA_SL_BITS)
#define VGALLOC__SA_FL_MAX   40
/* Slab size classes. */
#define VGALLOC__SA_MAX_CLASSES 48
#define VGALLOC__SA_SLAB_WORDS  4 /* bitmap words: at most 256 entries a slab */

struct vgalloc__sa_range;
struct vgalloc__sa_slab;

/* One block: a contiguous offset space [0, size) backed by one blob. Owned by the caller. */
struct vgalloc__sa_block {
	uint64_t size;
	uint64_t used;                   /* bytes handed out (ranges and slabs), 0 = empty */
	uint32_t live;                   /* allocations in it (slab entries and ranges) */
	uint32_t closed;                 /* hands out nothing more (vgalloc__sa_close_block) */
	void *owner;                     /* the pool's block object */
	struct vgalloc__sa_range *first; /* address-ordered ranges covering [0, size) */
	struct vgalloc__sa_block *prev, *next; /* the allocator's block list */
};

/* What one allocation holds: enough to free it in O(1). */
struct vgalloc__sa_alloc {
	struct vgalloc__sa_block *block;
	uint64_t offset;
	uint64_t size;  /* bytes reserved for it (its class size, or its range's size) */
	void *node;     /* a range or a slab */
	uint32_t index; /* entry index in a slab; UINT32_MAX for a range */
	uint32_t reserved;
};

struct vgalloc__sa_config {
	uint64_t granularity; /* every offset and size is a multiple: the pool base alignment */
	uint64_t slab_max;    /* largest size served by slabs; 0 = 32 KiB (64 KiB measured worse) */
	uint64_t slab_bytes;  /* smallest slab; 0 = 64 KiB */
	const struct vgalloc_allocator *allocator; /* for metadata */
};

/* Per-class occupancy for statistics. */
struct vgalloc__sa_class_stats {
	uint64_t size;
	uint32_t slabs;
	uint32_t entries;
	uint32_t used;
};

struct vgalloc__sa_stats {
	uint64_t blocks;
	uint64_t block_bytes;
	uint64_t used_bytes; /* reserved for allocations, rounding included */
	uint64_t free_bytes; /* in free ranges */
	uint64_t largest_free;
	uint64_t slab_bytes; /* bytes in slabs (used or not) */
	uint64_t live;
	uint64_t metadata_bytes; /* range and slab records the allocator holds */
	uint32_t class_count;
	struct vgalloc__sa_class_stats classes[VGALLOC__SA_MAX_CLASSES];
};

struct vgalloc__sa_class {
	uint64_t size;
	uint32_t entries; /* per slab */
	uint32_t slabs;
	struct vgalloc__sa_slab *partial; /* slabs with a free entry */
	struct vgalloc__sa_slab *empty;   /* one cached empty slab */
};

struct vgalloc__sa {
	struct vgalloc__sa_config cfg;
	uint32_t gran_shift;
	uint32_t class_count;
	struct vgalloc__sa_class classes[VGALLOC__SA_MAX_CLASSES];
	/* size → class, indexed by (size - 1) >> gran_shift up to slab_max */
	uint8_t *class_of;
	uint32_t class_of_len;
	/* TLSF: one bit per first level with a non-empty list, one word per first level. */
	uint64_t fl_bitmap;
	uint32_t sl_bitmap[VGALLOC__SA_FL_MAX];
	struct vgalloc__sa_range *free_lists[VGALLOC__SA_FL_MAX][VGALLOC__SA_SL_COUNT];
	struct vgalloc__sa_block *blocks;
	/* recycled records */
	void *spare_ranges; /* spare records, linked through their first bytes */
	void *spare_slabs;
	void **chunks; /* record chunks, freed at finish */
	uint32_t chunk_count, chunk_cap;
	uint64_t metadata_bytes;
	uint64_t ops; /* for the every-4096 full check in debug builds */
};

/*
 * Set up an allocator. granularity must be a power of two ≥ 16.
 * Return: 0; -EINVAL; -ENOMEM.
 */
int vgalloc__sa_init(struct vgalloc__sa *sa, const struct vgalloc__sa_config *cfg);
/* Free every record and block struct; the caller's block owners are not touched. */
void vgalloc__sa_finish(struct vgalloc__sa *sa);

/*
 * Add an empty block of `size` bytes (a multiple of the granularity) with the caller's owner.
 * Return: 0; -EINVAL; -ENOMEM.
 */
int vgalloc__sa_add_block(struct vgalloc__sa *sa, uint64_t size, void *owner,
                          struct vgalloc__sa_block **out);
/*
 * Close a block: its free space (free ranges and free slab entries) is withdrawn, so no later
 * allocation lands in it; its allocations stay valid and are freed as usual, and when the last
 * one goes, vgalloc__sa_free() returns the block as empty. Used for a block whose blob the
 * window has no room for. Idempotent; a closed block never reopens.
 */
void vgalloc__sa_close_block(struct vgalloc__sa *sa, struct vgalloc__sa_block *block);
/* Remove an empty block (block->used == 0), open or closed. */
void vgalloc__sa_remove_block(struct vgalloc__sa *sa, struct vgalloc__sa_block *block);

/*
 * Allocate size bytes aligned to align (a power of two; 0 = granularity).
 * Return: 0; -ENOSPC (no block has room: add one and retry); -ENOMEM (metadata); -EINVAL.
 */
int vgalloc__sa_alloc(struct vgalloc__sa *sa, uint64_t size, uint64_t align,
                      struct vgalloc__sa_alloc *out);
/* Free an allocation: reads only a->block, a->node and a->index (pool.c passes no more). Returns
 * its block when that block became empty, else NULL. */
struct vgalloc__sa_block *vgalloc__sa_free(struct vgalloc__sa *sa,
                                           const struct vgalloc__sa_alloc *a);

/* Bytes a new block should have for a request, given the bytes already committed in blocks. */
uint64_t vgalloc__sa_block_size(uint64_t request, uint64_t align, uint64_t committed,
                                uint64_t min_block, uint64_t max_block, uint64_t granularity);

void vgalloc__sa_get_stats(const struct vgalloc__sa *sa, struct vgalloc__sa_stats *out);

/* Debug invariant checks: one block, or everything. Return false (and stop) on the first
 * violation. Compiled in every build; the allocator calls them only when NDEBUG is unset. */
bool vgalloc__sa_check_block(const struct vgalloc__sa *sa, const struct vgalloc__sa_block *b);
bool vgalloc__sa_check(const struct vgalloc__sa *sa);

#endif
