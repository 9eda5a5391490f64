/* SPDX-License-Identifier: MIT */
/*
 * Device-owned slabs for blob and memory handles. Slots are never returned to the allocator
 * before device destroy, so checking a stale or foreign handle reads memory we own and a double
 * free is caught by its poisoned magic instead of becoming a use-after-free.
 */
#include <string.h>

#include "handle.h"

void vgalloc__slab_init(struct vgalloc__slab *slab, size_t slot_size, uint32_t magic, bool lines)
{
	size_t unit = lines ? 64 : 16;

	memset(slab, 0, sizeof(*slab));
	slab->slot_size = (slot_size + unit - 1) & ~(unit - 1);
	slab->magic = magic;
	slab->scope = VGALLOC_SCOPE_DEVICE;
}

void vgalloc__slab_finish(const struct vgalloc_allocator *a, struct vgalloc__slab *slab)
{
	for (uint32_t i = 0; i < slab->nchunks; i++) {
		vgalloc__free(a, slab->chunks[i].base);
	}
	slab->nchunks = 0;
	slab->quar_head = slab->quar_tail = slab->warm = NULL;
	slab->quar_count = 0;
}

static void warm_push(struct vgalloc__slab *slab, struct vgalloc__slot *s)
{
	s->next_free = slab->warm;
	slab->warm = s;
}

static struct vgalloc__slot *quarantine_pop(struct vgalloc__slab *slab)
{
	struct vgalloc__slot *s = slab->quar_head;

	slab->quar_head = s->next_free;
	if (!slab->quar_head) {
		slab->quar_tail = NULL;
	}
	slab->quar_count--;
	return s;
}

static bool slab_grow(const struct vgalloc_allocator *a, struct vgalloc__slab *slab)
{
	size_t count;
	unsigned char *base;

	if (slab->nchunks == VGALLOC__SLAB_CHUNKS) {
		return false;
	}
	count = (size_t)64 << slab->nchunks;
	base = vgalloc__alloc(a, count * slab->slot_size, 64, slab->scope);
	if (!base) {
		return false;
	}
	memset(base, 0, count * slab->slot_size);
	for (size_t i = 0; i < count; i++) {
		struct vgalloc__slot *s = (void *)(base + i * slab->slot_size);

		atomic_init(&s->magic, VGALLOC__MAGIC_FREE);
		atomic_init(&s->state, VGALLOC__STATE_DYING);
	}
	/* Published (registered) with every header written: a lookup may read them from now on. */
	if (slab->on_grow && !slab->on_grow(slab->on_grow_ctx, base, count * slab->slot_size)) {
		vgalloc__free(a, base);
		return false;
	}
	/* Pushed from the end so the chunk is handed out in address order. */
	for (size_t i = count; i-- > 0;) {
		warm_push(slab, (void *)(base + i * slab->slot_size));
	}
	slab->chunks[slab->nchunks].base = base;
	slab->chunks[slab->nchunks].count = count;
	slab->nchunks++;
	return true;
}

void *vgalloc__slab_get_locked(const struct vgalloc_allocator *a, struct vgalloc__slab *slab)
{
	struct vgalloc__slot *s;

	/* Nothing out of quarantine: grow rather than reuse a slot before its 256 frees, and reuse
	 * one early only when the slab cannot grow. */
	if (!slab->warm && !slab->quar_count && !slab_grow(a, slab)) {
		return NULL;
	}
	if (!slab->warm && !slab_grow(a, slab)) {
		s = quarantine_pop(slab);
	} else {
		s = slab->warm;
		slab->warm = s->next_free;
	}
	/* The header is left to atomics: a thread checking a stale pointer may read it now. */
	memset((unsigned char *)s + sizeof(*s), 0, slab->slot_size - sizeof(*s));
	s->next_free = NULL;
	/* Its kind, but still dying (state) until its owner has filled it in and published it
	 * (vgalloc__slot_publish): a stale pointer to it cannot claim a half-built object. */
	atomic_store_explicit(&s->state, VGALLOC__STATE_DYING, memory_order_relaxed);
	atomic_store_explicit(&s->magic, slab->magic, memory_order_relaxed);
	slab->live++;
	return s;
}

void vgalloc__slab_put_locked(struct vgalloc__slab *slab, void *obj)
{
	struct vgalloc__slot *s = obj;

	atomic_store_explicit(&s->magic, VGALLOC__MAGIC_FREE, memory_order_relaxed);
	atomic_store_explicit(&s->state, VGALLOC__STATE_DYING, memory_order_relaxed);
	s->next_free = NULL;
	if (slab->quar_tail) {
		slab->quar_tail->next_free = s;
	} else {
		slab->quar_head = s;
	}
	slab->quar_tail = s;
	if (++slab->quar_count > VGALLOC__SLAB_QUARANTINE) {
		warm_push(slab, quarantine_pop(slab));
	}
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
	       atomic_load_explicit(&((const struct vgalloc__slot *)p)->magic,
	                            memory_order_relaxed) == slab->magic;
}

void vgalloc__slab_each_live(struct vgalloc__slab *slab, void (*fn)(void *obj, void *arg),
                             void *arg)
{
	for (uint32_t i = 0; i < slab->nchunks; i++) {
		for (size_t j = 0; j < slab->chunks[i].count; j++) {
			struct vgalloc__slot *s =
			        (void *)(slab->chunks[i].base + j * slab->slot_size);

			if (atomic_load_explicit(&s->magic, memory_order_relaxed) == slab->magic) {
				fn(s, arg);
			}
		}
	}
}
