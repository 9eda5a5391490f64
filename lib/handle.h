/* SPDX-License-Identifier: MIT */
/*
 * Handle slabs: fixed-size slots in chunks that only grow, so that a public handle is a pointer
 * the library can check (live, dying, freed, foreign) without trusting it. Used for blobs and
 * memory objects. Nothing here is installed.
 */
#ifndef VGALLOC_HANDLE_H
#define VGALLOC_HANDLE_H

#include "core.h"

/* Every handle object starts with this header. */
struct vgalloc__slot {
	uint32_t magic; /* live magic, VGALLOC__MAGIC_DYING while torn down, poison when free */
	uint32_t gen;   /* bumped on every reuse */
	struct vgalloc__slot *next_free;
};

#define VGALLOC__MAGIC_BLOB   0x424c4f42u /* "BLOB" */
#define VGALLOC__MAGIC_MEM    0x4d454d21u /* "MEM!" */
#define VGALLOC__MAGIC_DEVICE 0x56474456u /* "VGDV" */
#define VGALLOC__MAGIC_CONN   0x434f4e4eu /* "CONN" */
#define VGALLOC__MAGIC_DYING  0x44594e47u /* "DYNG" */
#define VGALLOC__MAGIC_FREE   0xdeadf7eeu
#define VGALLOC__SLAB_CHUNKS  24

/*
 * Fixed-size slots in chunks that only grow (chunk k holds 64 << k slots) and go back to the
 * allocator when the slab is finished. Free slots are reused FIFO so that a stale pointer stays
 * poisoned for as long as possible. The owner serialises every call but the _owns/_live reads
 * of a pointer it already holds a lock for.
 */
struct vgalloc__slab {
	size_t slot_size;
	uint32_t magic;
	uint32_t nchunks;
	uint32_t scope; /* of its chunks: enum vgalloc_alloc_scope, DEVICE unless set after init */
	/* Called with a new chunk before any of its slots is used; false undoes the growth. */
	bool (*on_grow)(void *ctx, unsigned char *base, size_t bytes);
	void *on_grow_ctx;
	struct {
		unsigned char *base;
		size_t count;
	} chunks[VGALLOC__SLAB_CHUNKS];
	struct vgalloc__slot *free_head, *free_tail;
	uint64_t live;
};

void vgalloc__slab_init(struct vgalloc__slab *slab, size_t slot_size, uint32_t magic);
void vgalloc__slab_finish(const struct vgalloc_allocator *a, struct vgalloc__slab *slab);
void *vgalloc__slab_get_locked(const struct vgalloc_allocator *a, struct vgalloc__slab *slab);
void vgalloc__slab_put_locked(struct vgalloc__slab *slab, void *obj);
/* Whether p points at a slot of this slab (any state). */
bool vgalloc__slab_owns(const struct vgalloc__slab *slab, const void *p);
/* Whether p is a live object of this slab. */
bool vgalloc__slab_live(const struct vgalloc__slab *slab, const void *p);
/* Call fn on every live object. */
void vgalloc__slab_each_live(struct vgalloc__slab *slab, void (*fn)(void *obj, void *arg),
                             void *arg);

#endif
