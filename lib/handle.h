/* SPDX-License-Identifier: MIT */
/*
 * Handle slabs: fixed-size slots in chunks that only grow, so that a public handle is a pointer
 * the library can check (live, dying, freed, foreign) without trusting it. Used for blobs and
 * memory objects. Nothing here is installed.
 */
#ifndef VGALLOC_HANDLE_H
#define VGALLOC_HANDLE_H

#include <stdatomic.h>

#include "core.h"

/*
 * Every handle object starts with this header. `magic` and `state` are atomics so that a memory
 * object can be checked and claimed by a thread that does not hold its shard's lock (a deferred
 * free, mem.c); everything else in a slot belongs to the owner's lock.
 */
struct vgalloc__slot {
	_Atomic uint32_t magic; /* live magic, VGALLOC__MAGIC_DYING while torn down, poison free */
	/* Memory objects: 0 = live and idle, else VGALLOC__STATE_DYING (not yet published, freed,
	 * or being freed: no call may use it) or the number of threads in vgalloc_mem_map()'s slow
	 * path (the first map of its blob or block) for it. */
	_Atomic uint32_t state;
	struct vgalloc__slot *next_free; /* the slab's free lists, or a shard's deferred frees */
};

#define VGALLOC__STATE_DYING 0x80000000u

/* Owner's lock held: a memory object handed out by the slab is complete; calls may use it. */
static inline void vgalloc__slot_publish(struct vgalloc__slot *s)
{
	atomic_store_explicit(&s->state, 0, memory_order_release);
}

#define VGALLOC__MAGIC_BLOB   0x424c4f42u /* "BLOB" */
#define VGALLOC__MAGIC_MEM    0x4d454d21u /* "MEM!" */
#define VGALLOC__MAGIC_DEVICE 0x56474456u /* "VGDV" */
#define VGALLOC__MAGIC_CONN   0x434f4e4eu /* "CONN" */
#define VGALLOC__MAGIC_DYING  0x44594e47u /* "DYNG" */
#define VGALLOC__MAGIC_FREE   0xdeadf7eeu
#define VGALLOC__SLAB_CHUNKS  24
/* Frees a slot waits behind before it is handed out again (the quarantine). */
#define VGALLOC__SLAB_QUARANTINE 256

/*
 * Fixed-size slots in chunks that only grow (chunk k holds 64 << k slots) and go back to the
 * allocator when the slab is finished. A freed slot first waits in a FIFO quarantine until
 * VGALLOC__SLAB_QUARANTINE later frees have passed it: a stale pointer stays poisoned (a double
 * free or a use after free is caught) for at least that many frees. It then goes on a LIFO stack
 * from which slots are handed out, so the slot reused is the most recently released one, still
 * in cache, not the coldest (a FIFO over 100k free slots made every new handle a cache miss).
 * Only when the stack is empty and the slab cannot grow does a slot leave quarantine early.
 * The owner serialises every call but the _owns/_live reads of a pointer it already holds a
 * lock for.
 */
struct vgalloc__slab {
	size_t slot_size; /* a multiple of 16, or of 64 (cache lines) when init asked for lines */
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
	struct vgalloc__slot *quar_head, *quar_tail; /* FIFO, oldest first */
	uint32_t quar_count;
	struct vgalloc__slot *warm; /* LIFO of slots out of quarantine and never-used ones */
	uint64_t live;
};

/* Slots of slot_size bytes; `lines`: each slot starts a cache line (its first 64 bytes are
 * one line), for objects whose hot fields come first. */
void vgalloc__slab_init(struct vgalloc__slab *slab, size_t slot_size, uint32_t magic, bool lines);
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
