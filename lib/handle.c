/* SPDX-License-Identifier: MIT */
/*
 * Device-owned slabs for blob and memory handles. Slots are never returned to the allocator
 * before device destroy, so checking a stale or foreign handle reads memory we own and a double
 * free is caught by its poisoned magic instead of becoming a use-after-free.
 */
#include <string.h>

#include "handle.h"

void vgalloc__slab_init(struct vgalloc__slab *slab, size_t slot_size, uint32_t magic)
{
	memset(slab, 0, sizeof(*slab));
	slab->slot_size = (slot_size + 15) & ~(size_t)15;
	slab->magic = magic;
	slab->scope = VGALLOC_SCOPE_DEVICE;
}

void vgalloc__slab_finish(const struct vgalloc_allocator *a, struct vgalloc__slab *slab)
{
	for (uint32_t i = 0; i < slab->nchunks; i++) {
		vgalloc__free(a, slab->chunks[i].base);
	}
	slab->nchunks = 0;
	slab->free_head = slab->free_tail = NULL;
}

static void free_append(struct vgalloc__slab *slab, struct vgalloc__slot *s)
{
	s->magic = VGALLOC__MAGIC_FREE;
	s->next_free = NULL;
	if (slab->free_tail) {
		slab->free_tail->next_free = s;
	} else {
		slab->free_head = s;
	}
	slab->free_tail = s;
}

static bool slab_grow(const struct vgalloc_allocator *a, struct vgalloc__slab *slab)
{
	size_t count;
	unsigned char *base;

	if (slab->nchunks == VGALLOC__SLAB_CHUNKS) {
		return false;
	}
	count = (size_t)64 << slab->nchunks;
	base = vgalloc__alloc(a, count * slab->slot_size, 16, slab->scope);
	if (!base) {
		return false;
	}
	memset(base, 0, count * slab->slot_size);
	if (slab->on_grow && !slab->on_grow(slab->on_grow_ctx, base, count * slab->slot_size)) {
		vgalloc__free(a, base);
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		free_append(slab, (void *)(base + i * slab->slot_size));
	}
	slab->chunks[slab->nchunks].base = base;
	slab->chunks[slab->nchunks].count = count;
	slab->nchunks++;
	return true;
}

void *vgalloc__slab_get_locked(const struct vgalloc_allocator *a, struct vgalloc__slab *slab)
{
	struct vgalloc__slot *s;
	uint32_t gen;

	if (!slab->free_head && !slab_grow(a, slab)) {
		return NULL;
	}
	s = slab->free_head;
	slab->free_head = s->next_free;
	if (!slab->free_head) {
		slab->free_tail = NULL;
	}
	gen = s->gen + 1;
	memset(s, 0, slab->slot_size);
	s->gen = gen;
	s->magic = slab->magic;
	slab->live++;
	return s;
}

void vgalloc__slab_put_locked(struct vgalloc__slab *slab, void *obj)
{
	/* FIFO: the slot just freed is the last to be handed out again. */
	free_append(slab, obj);
	slab->live--;
}

bool vgalloc__slab_owns(const struct vgalloc__slab *slab, const void *p)
{
	uintptr_t a = (uintptr_t)p;

	for (uint32_t i = 0; i < slab->nchunks; i++) {
		uintptr_t base = (uintptr_t)slab->chunks[i].base;
		uintptr_t end = base + slab->chunks[i].count * slab->slot_size;

		if (a >= base && a < end) {
			return (a - base) % slab->slot_size == 0;
		}
	}
	return false;
}

bool vgalloc__slab_live(const struct vgalloc__slab *slab, const void *p)
{
	return vgalloc__slab_owns(slab, p) &&
	       ((const struct vgalloc__slot *)p)->magic == slab->magic;
}

void vgalloc__slab_each_live(struct vgalloc__slab *slab, void (*fn)(void *obj, void *arg),
                             void *arg)
{
	for (uint32_t i = 0; i < slab->nchunks; i++) {
		for (size_t j = 0; j < slab->chunks[i].count; j++) {
			struct vgalloc__slot *s =
			        (void *)(slab->chunks[i].base + j * slab->slot_size);

			if (s->magic == slab->magic) {
				fn(s, arg);
			}
		}
	}
}
