/* SPDX-License-Identifier: MIT */
/*
 * Memory-object shards and the registry that says which shard a pointer belongs to. Memory
 * objects live in per-shard slabs so that two threads never share a lock on the hot path; the
 * registry (every slab chunk, sorted, replaced whole on growth) lets vgalloc_mem_free() check a
 * pointer without reading memory that is not ours.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "mem.h"
#include "registry.h"
#include "state.h"

/* The divisibility test of a registry entry for slots of `size` bytes (size > 0). */
static void slot_divisor(uint64_t size, struct vgalloc__registry_entry *e)
{
	uint64_t odd, inv;

	e->shift = (uint32_t)__builtin_ctzll(size);
	odd = size >> e->shift;
	/* Newton's iteration doubles the correct low bits of an odd number's inverse each step;
	 * odd itself is right to 3 bits, five steps make 96 > 64. */
	inv = odd;
	for (int i = 0; i < 5; i++) {
		inv *= 2 - odd * inv;
	}
	e->inverse = inv;
	e->limit = UINT64_MAX / odd;
}

/* ms->lock held (slab growth); takes dev->ld.lock: the order is always shard → device. */
static bool register_chunk(void *ctx, unsigned char *base, size_t bytes)
{
	struct vgalloc__mshard *ms = ctx;
	struct vgalloc_device *dev = ms->dev;
	struct vgalloc__registry *old, *reg;
	uint32_t n, i, at;

	pthread_mutex_lock(&dev->ld.lock);
	old = atomic_load_explicit(&dev->ld.registry, memory_order_relaxed);
	n = old ? old->count : 0;
	reg = vgalloc__alloc(&dev->allocator, sizeof(*reg) + sizeof(reg->e[0]) * (n + 1), 16,
	                     VGALLOC_SCOPE_DEVICE);
	if (!reg) {
		pthread_mutex_unlock(&dev->ld.lock);
		return false;
	}
	reg->count = n + 1;
	reg->older = old;
	for (at = 0; at < n && old->e[at].base < (uintptr_t)base; at++) {
	}
	for (i = 0; i < at; i++) {
		reg->e[i] = old->e[i];
	}
	reg->e[at].base = (uintptr_t)base;
	reg->e[at].end = (uintptr_t)base + bytes;
	slot_divisor(ms->mems.slot_size, &reg->e[at]);
	reg->e[at].ms = ms;
	for (i = at; i < n; i++) {
		reg->e[i + 1] = old->e[i];
	}
	reg->largest = 0;
	for (i = 1; i < reg->count; i++) {
		if (reg->e[i].end - reg->e[i].base >
		    reg->e[reg->largest].end - reg->e[reg->largest].base) {
			reg->largest = i;
		}
	}
	/* Readers may still hold the old table: it is kept (chained) until device destroy. */
	atomic_store_explicit(&dev->ld.registry, reg, memory_order_release);
	pthread_mutex_unlock(&dev->ld.lock);
	return true;
}

void vgalloc__mshard_init(struct vgalloc_device *dev, struct vgalloc__mshard *ms)
{
	ms->dev = dev;
	atomic_init(&ms->lock.word, 0);
	atomic_init(&ms->cond.seq, 0);
	vgalloc__slab_init(&ms->mems, sizeof(struct vgalloc_mem), VGALLOC__MAGIC_MEM, true);
	ms->mems.on_grow = register_chunk;
	ms->mems.on_grow_ctx = ms;
}

void vgalloc__mshard_finish(struct vgalloc_device *dev, struct vgalloc__mshard *ms)
{
	vgalloc__slab_finish(&dev->allocator, &ms->mems);
}

struct vgalloc_mem *vgalloc__mem_get_locked(struct vgalloc_device *dev, struct vgalloc__mshard *ms)
{
	struct vgalloc_mem *mem = vgalloc__slab_get_locked(&dev->allocator, &ms->mems);

	if (mem) {
		mem->ms = ms;
	}
	return mem;
}

struct vgalloc__mshard *vgalloc__mem_owner(struct vgalloc_device *dev, const void *p)
{
	const struct vgalloc__registry *reg =
	        atomic_load_explicit(&dev->ld.registry, memory_order_acquire);
	const struct vgalloc__registry_entry *e;
	uintptr_t a = (uintptr_t)p;
	uint64_t off;
	uint32_t n;

	if (!reg || !p) {
		return NULL;
	}
	e = &reg->e[reg->largest];
	if (a - e->base < e->end - e->base) {
		goto found;
	}
	/* The last entry starting at or below a, found without a branch on the data: every call
	 * looks up a different handle, and a mispredicted search cost more than the rest of it. */
	e = reg->e;
	for (n = reg->count; n > 1;) {
		uint32_t half = n / 2;

		e = a >= e[half].base ? e + half : e;
		n -= half;
	}
	if (a < e->base || a >= e->end) {
		return NULL;
	}
found:
	off = a - e->base;
	if (off & ((1ull << e->shift) - 1)) {
		return NULL;
	}
	return (off >> e->shift) * e->inverse <= e->limit ? e->ms : NULL;
}

void vgalloc__registry_free(struct vgalloc_device *dev)
{
	struct vgalloc__registry *r = atomic_load_explicit(&dev->ld.registry, memory_order_relaxed);

	while (r) {
		struct vgalloc__registry *older = r->older;

		vgalloc__free(&dev->allocator, r);
		r = older;
	}
	atomic_store_explicit(&dev->ld.registry, NULL, memory_order_relaxed);
}

uint32_t vgalloc__thread_shard(uint32_t n)
{
	int cpu;
	uint64_t x;

	if (n <= 1) {
		return 0;
	}
	/* The CPU we run on: threads on different CPUs take different shards with no state kept
	 * per thread (no thread-locals, nothing to destroy when a loader unloads us). */
	cpu = sched_getcpu();
	if (cpu >= 0) {
		return (uint32_t)cpu % n;
	}
	/* No CPU number: thread handles are pointers to aligned thread blocks; mix them. */
	x = (uint64_t)(uintptr_t)pthread_self();
	x ^= x >> 17;
	x *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)((x >> 32) % n);
}
