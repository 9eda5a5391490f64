/* SPDX-License-Identifier: MIT */
/*
 * Pools: one per pool key, each split into lock shards; a shard owns blocks and suballocates them
 * with the pure allocator. A block is a backing (backing.c): made by the pool's path, the same
 * steps as a dedicated allocation of that path, mapped once at the first map of any member and
 * kept mapped, retained empty up to a byte cap, and released on trim, on ENOSPC and at device
 * destroy. A full host-visible window degrades a pool (smaller blocks, then blobs of their own)
 * instead of failing it: the ladder is written out in docs/window-full.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backing.h"
#include "blob.h"
#include "mem.h"
#include "pool.h"
#include "state.h"
#include "suballoc.h"

/* A pool block is a backing (its lock is its shard's) with a range of the allocator. */
struct vgalloc__block {
	struct vgalloc__backing bk;
	struct vgalloc__sa_block *sa;
	struct vgalloc__shard *shard;
	struct vgalloc__block *ret_prev, *ret_next; /* the shard's retained list */
	uint64_t size;
	bool retained; /* empty and kept for reuse */
	bool closed;   /* its first map found the window full: no new members */
	bool at_floor; /* made at its request's window-full floor: the ladder's last block size */
};

struct vgalloc__shard {
	struct vgalloc__mshard ms; /* first: a memory object's ms is its shard */
	struct vgalloc__pool *pool;
	struct vgalloc__sa sa;
	struct vgalloc__block *retained;
	uint64_t committed; /* block bytes */
	uint64_t requested; /* bytes live suballocations asked for */
	uint64_t live;      /* live suballocations, counting claimed ones not yet drained */
	/* Frees from threads that did not take this shard's lock (vgalloc__pool_free), on a line
	 * of their own: the owner reads it on every allocation, others write it. */
	_Alignas(64) _Atomic(struct vgalloc__slot *) deferred;
	atomic_uint deferred_count;
};

/* Frees a shard may queue before the thread that queues the next one drains them itself. */
#define VGALLOC__DEFERRED_MAX 64

struct vgalloc__pool {
	uint64_t key;
	uint32_t type; /* index into dev->ld.types */
	uint32_t path; /* how blocks are made: host-first lazy or eager, or guest-first */
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t allocate_flags;
	uint32_t shard_count;
	uint64_t granularity;
	uint64_t min_block;
	_Atomic uint64_t retained; /* bytes in empty blocks kept, over all shards */
	_Atomic bool spread;       /* threads met here once: shard by CPU from now on */
	/* The window-full ladder (docs/window-full.md): new blocks at most window_cap bytes (0 =
	 * as planned), or none at all (window_dedicated), until a block with a window range is
	 * released or the device is trimmed. */
	_Atomic uint64_t window_cap;
	_Atomic bool window_dedicated;
	struct vgalloc__shard *shards;
};

/* --- blocks ------------------------------------------------------------------------------- */

static void block_teardown(struct vgalloc_device *dev, struct vgalloc__block *b)
{
	vgalloc__backing_release(dev, &b->bk);
	vgalloc__free(&dev->allocator, b);
}

static void window_lift(struct vgalloc_device *dev, struct vgalloc__pool *pool, const char *why)
{
	bool capped = atomic_exchange_explicit(&pool->window_cap, 0, memory_order_relaxed) != 0;
	bool dedicated =
	        atomic_exchange_explicit(&pool->window_dedicated, false, memory_order_relaxed);

	if (capped || dedicated) {
		vgalloc__log(dev, VGALLOC_LOG_INFO,
		             "pool 0x%llx: %s; its blocks are sized as planned again",
		             (unsigned long long)pool->key, why);
	}
}

static void block_release(struct vgalloc_device *dev, struct vgalloc__block *b)
{
	uint64_t size = b->size;

	/* A block's blob gives its window range back: a degraded pool may try full blocks. */
	if (b->bk.blob) {
		window_lift(dev, b->shard->pool, "a block gave its window range back");
	}
	block_teardown(dev, b);
	vgalloc__stat_sub(&dev->stats.blocks, 1);
	vgalloc__stat_sub(&dev->stats.block_bytes, size);
	vgalloc__stat_add(&dev->stats.block_releases, 1);
}

/* No lock held: a whole block, made by the pool's path (backing.c runs its steps). */
static int block_create(struct vgalloc_device *dev, struct vgalloc__shard *s, uint64_t size,
                        struct vgalloc__block **out)
{
	struct vgalloc__pool *pool = s->pool;
	struct vgalloc__block *b =
	        vgalloc__alloc(&dev->allocator, sizeof(*b), 16, VGALLOC_SCOPE_OBJECT);
	int ret;

	if (!b) {
		return -ENOMEM;
	}
	memset(b, 0, sizeof(*b));
	b->shard = s;
	b->size = size;
	b->bk = (struct vgalloc__backing){
		.ms = &s->ms,
		.path = pool->path,
		.memory_type = dev->ld.types[pool->type].host_index,
		.blob_mem = pool->blob_mem,
		.blob_flags = pool->blob_flags,
		.allocate_flags = pool->allocate_flags,
		.size = size,
		.requested_size = size,
		.keep_mapped = true,
	};
	ret = vgalloc__backing_make(dev, &b->bk, -1);
	if (ret) {
		block_teardown(dev, b);
		return ret;
	}
	vgalloc__stat_add(&dev->stats.blocks, 1);
	vgalloc__stat_add(&dev->stats.block_bytes, size);
	vgalloc__stat_add(&dev->stats.block_creations, 1);
	*out = b;
	return 0;
}

static uint64_t block_unit(const struct vgalloc_device *dev, const struct vgalloc__pool *pool)
{
	return VGALLOC__MAX(pool->granularity, dev->ld.traits.blob_alignment);
}

/* The smallest block the ladder tries for a request: the floor, or what the request needs. */
static uint64_t window_floor(const struct vgalloc_device *dev, const struct vgalloc__pool *pool,
                             uint64_t request, uint64_t align)
{
	uint64_t unit = block_unit(dev, pool);
	uint64_t fit = vgalloc__sa_block_size(request, align, 0, pool->granularity,
	                                      dev->ld.traits.max_block_size, pool->granularity);

	return VGALLOC__ALIGN_UP_POW2(VGALLOC__MAX(fit, VGALLOC__WINDOW_FLOOR_BLOCK), unit);
}

/*
 * No lock held: make a block of `size` bytes for a request, down the window-full ladder when
 * the window has no room (docs/window-full.md): trim what the device keeps and retry once,
 * then halve the block down to the floor. Return: 0; -ENOBUFS when even the floor finds no room
 * (or the pool already knows it will not): the caller gives the request a blob of its own.
 */
static int block_grow(struct vgalloc_device *dev, struct vgalloc__shard *s, uint64_t request,
                      uint64_t align, uint64_t size, struct vgalloc__block **out)
{
	struct vgalloc__pool *pool = s->pool;
	uint64_t floor = window_floor(dev, pool, request, align);
	uint64_t cap = atomic_load_explicit(&pool->window_cap, memory_order_relaxed);
	uint64_t unit = block_unit(dev, pool), planned = size;
	bool trimmed = false, degraded = false;
	int ret;

	if (atomic_load_explicit(&pool->window_dedicated, memory_order_relaxed)) {
		vgalloc__stat_add(&dev->stats.window_dedicated, 1);
		return -ENOBUFS;
	}
	if (cap && size > cap) {
		/* Never above the planned size: a pool with small planned blocks stays small. */
		size = VGALLOC__MIN(size, VGALLOC__MAX(cap, floor));
	}
	for (;;) {
		ret = block_create(dev, s, size, out);
		if (ret != -ENOSPC) {
			break;
		}
		if (!trimmed) {
			trimmed = true;
			if (vgalloc__trim(dev) > 0) {
				continue;
			}
		}
		if (size <= floor) {
			break;
		}
		degraded = true;
		vgalloc__log(dev, VGALLOC_LOG_WARN,
		             "pool 0x%llx: no window room for a %llu-byte block: trying %llu bytes",
		             (unsigned long long)pool->key, (unsigned long long)size,
		             (unsigned long long)VGALLOC__MAX(
		                     floor, VGALLOC__ALIGN_UP_POW2(size / 2, unit)));
		size = VGALLOC__MAX(floor, VGALLOC__ALIGN_UP_POW2(size / 2, unit));
	}
	if (ret == -ENOSPC) {
		vgalloc__log(dev, VGALLOC_LOG_WARN,
		             "pool 0x%llx: no window room even for a %llu-byte block: a %llu-byte "
		             "request gets a blob of its own",
		             (unsigned long long)pool->key, (unsigned long long)floor,
		             (unsigned long long)request);
		vgalloc__stat_add(&dev->stats.window_dedicated, 1);
		return -ENOBUFS;
	}
	if (!ret) {
		(*out)->at_floor = size <= floor;
	}
	if (!ret && size < planned) {
		/* Later blocks start where this one succeeded, not with failed creates; a cap only
		 * ever goes down here (a larger request's floor must not raise it). */
		if (degraded && (!cap || size < cap)) {
			atomic_store_explicit(&pool->window_cap, size, memory_order_relaxed);
		}
		vgalloc__stat_add(&dev->stats.window_small_blocks, 1);
		vgalloc__log(dev, VGALLOC_LOG_WARN,
		             "pool 0x%llx: window nearly full: a %llu-byte block instead of %llu",
		             (unsigned long long)pool->key, (unsigned long long)size,
		             (unsigned long long)planned);
	}
	return ret;
}

/* shard lock held */
static void retained_remove(struct vgalloc__shard *s, struct vgalloc__block *b)
{
	if (b->ret_prev) {
		b->ret_prev->ret_next = b->ret_next;
	} else {
		s->retained = b->ret_next;
	}
	if (b->ret_next) {
		b->ret_next->ret_prev = b->ret_prev;
	}
	b->ret_prev = b->ret_next = NULL;
	b->retained = false;
}

/* --- pools -------------------------------------------------------------------------------- */

static struct vgalloc__pool *pool_find(struct vgalloc_device *dev, uint64_t key)
{
	uint32_t n = atomic_load_explicit(&dev->ld.pool_count, memory_order_acquire);

	for (uint32_t i = 0; i < n; i++) {
		if (dev->ld.pools[i]->key == key) {
			return dev->ld.pools[i];
		}
	}
	return NULL;
}

static void pool_free_struct(struct vgalloc_device *dev, struct vgalloc__pool *pool, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		vgalloc__sa_finish(&pool->shards[i].sa);
		vgalloc__mshard_finish(dev, &pool->shards[i].ms);
	}
	vgalloc__free(&dev->allocator, pool->shards);
	vgalloc__free(&dev->allocator, pool);
}

static int pool_get(struct vgalloc_device *dev, const struct vgalloc__pool_req *pr,
                    struct vgalloc__pool **out)
{
	struct vgalloc__pool *pool = pool_find(dev, pr->key);
	uint32_t type = pr->type;
	uint32_t n;
	int ret = 0;

	if (pool) {
		*out = pool;
		return 0;
	}
	pthread_mutex_lock(&dev->ld.lock);
	pool = pool_find(dev, pr->key);
	n = atomic_load_explicit(&dev->ld.pool_count, memory_order_relaxed);
	if (pool || n == VGALLOC__MAX_POOLS) {
		pthread_mutex_unlock(&dev->ld.lock);
		*out = pool;
		return pool ? 0 : -ENOBUFS; /* the caller falls back to a dedicated allocation */
	}
	pool = vgalloc__alloc(&dev->allocator, sizeof(*pool), 64, VGALLOC_SCOPE_DEVICE);
	if (pool) {
		memset(pool, 0, sizeof(*pool));
		pool->shards =
		        vgalloc__alloc(&dev->allocator, sizeof(*pool->shards) * dev->ld.shard_count,
		                       64, VGALLOC_SCOPE_DEVICE);
	}
	if (!pool || !pool->shards) {
		vgalloc__free(&dev->allocator, pool);
		pthread_mutex_unlock(&dev->ld.lock);
		return -ENOMEM;
	}
	memset(pool->shards, 0, sizeof(*pool->shards) * dev->ld.shard_count);
	pool->key = pr->key;
	pool->type = type;
	pool->path = pr->path;
	pool->blob_mem = pr->blob_mem;
	pool->blob_flags = pr->blob_flags;
	pool->allocate_flags = (uint32_t)(pr->key >> 16) & 0xffff;
	pool->granularity = VGALLOC__MAX(dev->ld.types[type].pool_alignment, 16);
	pool->min_block = pr->min_block;
	pool->shard_count = dev->ld.shard_count;
	for (uint32_t i = 0; i < pool->shard_count; i++) {
		struct vgalloc__sa_config cfg = {
			.granularity = pool->granularity,
			.allocator = &dev->allocator,
		};

		pool->shards[i].pool = pool;
		vgalloc__mshard_init(dev, &pool->shards[i].ms);
		pool->shards[i].ms.pooled = true;
		ret = vgalloc__sa_init(&pool->shards[i].sa, &cfg);
		if (ret) {
			/* Shards 0..i are initialised (i's allocator is empty): undo exactly those. */
			pool_free_struct(dev, pool, i + 1);
			break;
		}
	}
	if (!ret) {
		dev->ld.pools[n] = pool;
		atomic_store_explicit(&dev->ld.pool_count, n + 1, memory_order_release);
		*out = pool;
	}
	pthread_mutex_unlock(&dev->ld.lock);
	return ret;
}

/*
 * Lock this thread's shard, or, when another thread holds it, the first free one after it: two
 * threads that hash to one shard spread out instead of taking turns. Blocks only when all are
 * busy.
 */
static struct vgalloc__shard *lock_some_shard(struct vgalloc__pool *pool)
{
	uint32_t n = pool->shard_count, first;

	/* Until two threads first meet on this pool, everything goes to shard 0: a lone thread
	 * that migrates between CPUs would otherwise spread its memory over every shard (measured:
	 * W3 with half its allocations never mapped went from waste 1.26 to 2.40). */
	if (!atomic_load_explicit(&pool->spread, memory_order_relaxed)) {
		if (!vgalloc__trylock(&pool->shards[0].ms.lock)) {
			return &pool->shards[0];
		}
		atomic_store_explicit(&pool->spread, true, memory_order_relaxed);
	}
	first = vgalloc__thread_shard(n);
	for (uint32_t i = 0; i < n; i++) {
		struct vgalloc__shard *s = &pool->shards[(first + i) % n];

		if (!vgalloc__trylock(&s->ms.lock)) {
			return s;
		}
	}
	vgalloc__lock(&pool->shards[first].ms.lock);
	return &pool->shards[first];
}

static struct vgalloc__shard *shard_of(struct vgalloc_mem *mem)
{
	return (struct vgalloc__shard *)mem->ms;
}

static inline void drain_locked(struct vgalloc_device *dev, struct vgalloc__shard *s,
                                struct vgalloc__block **release, bool keep);
static void release_list(struct vgalloc_device *dev, struct vgalloc__block *b);

static struct vgalloc__block *block_emptied_locked(struct vgalloc_device *dev,
                                                   struct vgalloc__shard *s,
                                                   struct vgalloc__block *b, bool keep);

static void release_added(struct vgalloc_device *dev, struct vgalloc__block **added, int n)
{
	for (int i = 0; i < n; i++) {
		if (added[i]) {
			block_release(dev, added[i]);
		}
	}
}

int vgalloc__pool_alloc(struct vgalloc_device *dev, const struct vgalloc__pool_req *pr,
                        struct vgalloc_mem **out)
{
	struct vgalloc__block *drained = NULL;
	struct vgalloc__sa_alloc a;
	struct vgalloc__pool *pool;
	struct vgalloc__shard *s;
	struct vgalloc__block *b;
	struct vgalloc_mem *mem;
	int ret;

	ret = pool_get(dev, pr, &pool);
	if (ret) {
		return ret;
	}
	s = lock_some_shard(pool);
	/* Frees other threads queued here go first: their ranges may serve this request. */
	drain_locked(dev, s, &drained, false);
	mem = vgalloc__mem_get_locked(dev, &s->ms);
	if (!mem) {
		vgalloc__unlock(&s->ms.lock);
		release_list(dev, drained);
		return -ENOMEM;
	}
	struct vgalloc__block *added[4];
	int grown = 0;

	for (; (ret = vgalloc__sa_alloc(&s->sa, pr->size, pr->alignment, &a)) == -ENOSPC; grown++) {
		uint64_t size = vgalloc__sa_block_size(
		        pr->size, pr->alignment, s->committed, pool->min_block,
		        dev->ld.traits.max_block_size, pool->granularity);
		/* The host allocation and its blob must be the same size: the blob is rounded to
		 * the blob alignment, so the block is too. */
		size = VGALLOC__ALIGN_UP_POW2(size, block_unit(dev, pool));
		struct vgalloc__block *nb = NULL;

		/* A new block always fits its request; only other threads racing for it make a
		 * second round necessary, and never many. */
		if (grown == 4) {
			break;
		}
		/* Growing talks to the kernel and the host: never with the shard lock held. What the
		 * drain emptied goes first, so a full window finds its ranges given back. */
		vgalloc__unlock(&s->ms.lock);
		release_list(dev, drained);
		drained = NULL;
		ret = block_grow(dev, s, pr->size, pr->alignment, size, &nb);
		vgalloc__lock(&s->ms.lock);
		if (ret) {
			break;
		}
		/* The ladder may have made it smaller than asked. */
		ret = vgalloc__sa_add_block(&s->sa, nb->size, nb, &nb->sa);
		if (ret) {
			vgalloc__unlock(&s->ms.lock);
			block_release(dev, nb);
			vgalloc__lock(&s->ms.lock);
			break;
		}
		s->committed += nb->size;
		added[grown] = nb;
	}
	/* A block this call made that stayed empty (another thread's block took the request) is
	 * an empty block like any other: retained or released, never forgotten. */
	for (int i = 0; i < grown; i++) {
		if (!added[i]->sa->used && (ret || added[i] != a.block->owner)) {
			added[i] = block_emptied_locked(dev, s, added[i], false);
		} else {
			added[i] = NULL;
		}
	}
	if (ret) {
		vgalloc__slab_put_locked(&s->ms.mems, mem);
		vgalloc__unlock(&s->ms.lock);
		release_added(dev, added, grown);
		release_list(dev, drained);
		return ret;
	}
	b = a.block->owner;
	if (b->retained) {
		retained_remove(s, b);
		atomic_fetch_sub_explicit(&pool->retained, b->size, memory_order_relaxed);
		vgalloc__stat_sub(&dev->stats.retained_bytes, b->size);
	}
	mem->block = b;
	mem->bk = &b->bk;
	mem->sa_node = a.node;
	mem->sa_index = a.index;
	mem->offset = a.offset;
	mem->committed = a.size;
	mem->size = pr->size;
	mem->type = pr->type;
	mem->export_types = 0;
	/* Per-shard counters: a shared atomic here would make two threads fight over one line. */
	s->requested += pr->size;
	s->live++;
	vgalloc__slot_publish(&mem->slot);
	vgalloc__unlock(&s->ms.lock);
	release_added(dev, added, grown);
	release_list(dev, drained);
	*out = mem;
	return 0;
}

/*
 * Shard lock held: a block just became (or was created) empty. Keep it for reuse while the pool's
 * retained bytes stay under the cap (reserved atomically: shards share the cap), else take it
 * out of the allocator and return it for release once the lock is dropped. `keep`: kept
 * whatever the cap, for the next trim or allocation to deal with (a caller that must not run
 * release hooks: statistics).
 */
static struct vgalloc__block *block_emptied_locked(struct vgalloc_device *dev,
                                                   struct vgalloc__shard *s,
                                                   struct vgalloc__block *b, bool keep)
{
	struct vgalloc__pool *pool = s->pool;
	uint64_t kept = atomic_load_explicit(&pool->retained, memory_order_relaxed);

	do {
		/* A closed block can never take a new member: keeping it would only hold memory. */
		if (!keep && (b->closed || kept + b->size > dev->ld.retain_bytes)) {
			vgalloc__sa_remove_block(&s->sa, b->sa);
			s->committed -= b->size;
			return b;
		}
	} while (!atomic_compare_exchange_weak_explicit(&pool->retained, &kept, kept + b->size,
	                                                memory_order_relaxed,
	                                                memory_order_relaxed));
	vgalloc__stat_add(&dev->stats.retained_bytes, b->size);
	b->retained = true;
	b->ret_prev = NULL;
	b->ret_next = s->retained;
	if (s->retained) {
		s->retained->ret_prev = b;
	}
	s->retained = b;
	return NULL;
}

/*
 * Shard lock held, mem claimed: give its range back. A block this empties that is not kept goes
 * on *release (chained through ret_next) for the caller to release once the lock is dropped.
 */
static void free_locked(struct vgalloc_device *dev, struct vgalloc__shard *s,
                        struct vgalloc_mem *mem, struct vgalloc__block **release, bool keep)
{
	/* What vgalloc__sa_free reads of an allocation: the first line of mem, no more. */
	struct vgalloc__sa_alloc a = {
		.block = mem->block->sa,
		.node = mem->sa_node,
		.index = mem->sa_index,
	};
	struct vgalloc__sa_block *empty = vgalloc__sa_free(&s->sa, &a);

	s->requested -= mem->size;
	s->live--;
	vgalloc__slab_put_locked(&s->ms.mems, mem);
	if (empty) {
		struct vgalloc__block *b = block_emptied_locked(dev, s, empty->owner, keep);

		if (b) {
			b->ret_next = *release;
			*release = b;
		}
	}
}

/* Shard lock held: complete the frees other threads queued here (drain_locked checks first). */
static void drain_queued_locked(struct vgalloc_device *dev, struct vgalloc__shard *s,
                                struct vgalloc__block **release, bool keep)
{
	struct vgalloc__slot *q;
	uint32_t n = 0;

	q = atomic_exchange_explicit(&s->deferred, NULL, memory_order_acquire);
	while (q) {
		struct vgalloc__slot *next = q->next_free;

		free_locked(dev, s, (struct vgalloc_mem *)q, release, keep);
		q = next;
		n++;
	}
	atomic_fetch_sub_explicit(&s->deferred_count, n, memory_order_relaxed);
}

static inline void drain_locked(struct vgalloc_device *dev, struct vgalloc__shard *s,
                                struct vgalloc__block **release, bool keep)
{
	if (atomic_load_explicit(&s->deferred, memory_order_relaxed)) {
		drain_queued_locked(dev, s, release, keep);
	}
}

/* No lock held: release the blocks drain_locked() and free_locked() took out. */
static void release_list(struct vgalloc_device *dev, struct vgalloc__block *b)
{
	while (b) {
		struct vgalloc__block *next = b->ret_next;

		b->ret_next = NULL;
		block_release(dev, b);
		b = next;
	}
}

/*
 * Whether this thread should leave a free on shard s to the shard's own user: s is not the shard
 * this thread allocates from (once the pool spreads threads over shards). Queuing it costs one
 * atomic push; taking the lock would pull the other thread's allocator state into this CPU's
 * cache and make the two contend.
 */
static bool free_elsewhere(const struct vgalloc__shard *s)
{
	const struct vgalloc__pool *pool = s->pool;

	return atomic_load_explicit(&pool->spread, memory_order_relaxed) &&
	       s != &pool->shards[vgalloc__thread_shard(pool->shard_count)];
}

int vgalloc__pool_free(struct vgalloc_device *dev, struct vgalloc__mshard *ms,
                       struct vgalloc_mem *mem, bool may_defer)
{
	struct vgalloc__shard *s = (struct vgalloc__shard *)ms;
	struct vgalloc__block *release = NULL;
	int ret;

	/* Claimed first, with or without the lock: a second free, or one racing with a thread
	 * inside vgalloc_mem_map() of it, is refused here whichever path it would take. */
	ret = vgalloc__mem_claim(mem);
	if (ret) {
		return ret;
	}
	if (!may_defer) {
		vgalloc__lock(&ms->lock);
		drain_locked(dev, s, &release, false);
		free_locked(dev, s, mem, &release, false);
	} else if (free_elsewhere(s) || vgalloc__trylock(&ms->lock)) {
		struct vgalloc__slot *head =
		        atomic_load_explicit(&s->deferred, memory_order_relaxed);
		/* Counted before it is pushed, so the count is never below the queue's length. */
		bool full = atomic_fetch_add_explicit(&s->deferred_count, 1, memory_order_relaxed) +
		                    1 >=
		            VGALLOC__DEFERRED_MAX;

		do {
			mem->slot.next_free = head;
		} while (!atomic_compare_exchange_weak_explicit(&s->deferred, &head, &mem->slot,
		                                                memory_order_release,
		                                                memory_order_relaxed));
		/* Bounded: a shard nobody allocates from any more still gets its memory back. */
		if (!full) {
			return 0;
		}
		vgalloc__lock(&ms->lock);
		drain_locked(dev, s, &release, false);
	} else {
		drain_locked(dev, s, &release, false);
		free_locked(dev, s, mem, &release, false);
	}
	vgalloc__unlock(&ms->lock);
	release_list(dev, release);
	return 0;
}

void vgalloc__pools_drain(struct vgalloc_device *dev)
{
	uint32_t n = atomic_load_explicit(&dev->ld.pool_count, memory_order_acquire);

	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < dev->ld.pools[i]->shard_count; j++) {
			struct vgalloc__shard *s = &dev->ld.pools[i]->shards[j];
			struct vgalloc__block *release = NULL;

			if (!atomic_load_explicit(&s->deferred, memory_order_relaxed)) {
				continue;
			}
			vgalloc__lock(&s->ms.lock);
			drain_locked(dev, s, &release, true);
			vgalloc__unlock(&s->ms.lock);
			release_list(dev, release);
		}
	}
}

void vgalloc__pool_map_window_full(struct vgalloc_device *dev, struct vgalloc_mem *mem)
{
	struct vgalloc__shard *s = shard_of(mem);
	struct vgalloc__block *b = mem->block;
	struct vgalloc__pool *pool = s->pool;
	uint64_t floor = VGALLOC__ALIGN_UP_POW2(VGALLOC__WINDOW_FLOOR_BLOCK, block_unit(dev, pool));
	bool closed = false;

	vgalloc__lock(&s->ms.lock);
	vgalloc__lock_once_wait(&s->ms.lock, &s->ms.cond, &b->bk.busy);
	/* Another thread may have mapped it since; then nothing is wrong with this block. */
	if (!atomic_load_explicit(&b->bk.ptr, memory_order_relaxed) && !b->closed) {
		vgalloc__sa_close_block(&s->sa, b->sa);
		b->closed = true;
		closed = true;
	}
	vgalloc__unlock(&s->ms.lock);
	if (!closed) {
		return;
	}
	vgalloc__stat_add(&dev->stats.window_closed_blocks, 1);
	/* A block already at its request's floor is the ladder's last size: next, blobs of their
	 * own (a larger request's floor is above the general one). */
	if (b->size > floor && !b->at_floor) {
		atomic_store_explicit(&pool->window_cap, floor, memory_order_relaxed);
		vgalloc__log(
		        dev, VGALLOC_LOG_WARN,
		        "pool 0x%llx: no window room to map a %llu-byte block: its map fails with "
		        "-ENOSPC, it takes no new members, new blocks are at most %llu bytes",
		        (unsigned long long)pool->key, (unsigned long long)b->size,
		        (unsigned long long)floor);
	} else {
		atomic_store_explicit(&pool->window_dedicated, true, memory_order_relaxed);
		vgalloc__log(
		        dev, VGALLOC_LOG_WARN,
		        "pool 0x%llx: no window room to map a %llu-byte block: its map fails with "
		        "-ENOSPC, it takes no new members, and new requests get blobs of their "
		        "own until a block is released or the device is trimmed",
		        (unsigned long long)pool->key, (unsigned long long)b->size);
	}
}

int vgalloc__pools_trim(struct vgalloc_device *dev)
{
	uint32_t n = atomic_load_explicit(&dev->ld.pool_count, memory_order_acquire);
	int released = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct vgalloc__pool *pool = dev->ld.pools[i];

		for (uint32_t j = 0; j < pool->shard_count; j++) {
			struct vgalloc__shard *s = &pool->shards[j];
			struct vgalloc__block *list, *drained = NULL;

			vgalloc__lock(&s->ms.lock);
			drain_locked(dev, s, &drained, false);
			list = s->retained;
			s->retained = NULL;
			for (struct vgalloc__block *b = list; b; b = b->ret_next) {
				b->retained = false;
				vgalloc__sa_remove_block(&s->sa, b->sa);
				s->committed -= b->size;
				atomic_fetch_sub_explicit(&pool->retained, b->size,
				                          memory_order_relaxed);
				vgalloc__stat_sub(&dev->stats.retained_bytes, b->size);
			}
			vgalloc__unlock(&s->ms.lock);
			/* A drained block that emptied went past the retained list: released too. */
			for (struct vgalloc__block *b = drained; b; b = b->ret_next) {
				released++;
			}
			release_list(dev, drained);
			while (list) {
				struct vgalloc__block *next = list->ret_next;

				block_release(dev, list);
				list = next;
				released++;
			}
		}
	}
	return released;
}

void vgalloc__pools_lift(struct vgalloc_device *dev)
{
	uint32_t n = atomic_load_explicit(&dev->ld.pool_count, memory_order_acquire);

	for (uint32_t i = 0; i < n; i++) {
		window_lift(dev, dev->ld.pools[i], "the device was trimmed");
	}
}

void vgalloc__pools_destroy(struct vgalloc_device *dev)
{
	uint32_t n = atomic_load_explicit(&dev->ld.pool_count, memory_order_acquire);

	for (uint32_t i = 0; i < n; i++) {
		struct vgalloc__pool *pool = dev->ld.pools[i];

		for (uint32_t j = 0; j < pool->shard_count; j++) {
			struct vgalloc__shard *s = &pool->shards[j];

			/* Every memory object is gone by now: every block is empty. */
			while (s->sa.blocks) {
				struct vgalloc__sa_block *sb = s->sa.blocks;
				struct vgalloc__block *b = sb->owner;

				if (b->retained) {
					retained_remove(s, b);
					vgalloc__stat_sub(&dev->stats.retained_bytes, b->size);
				}
				vgalloc__sa_remove_block(&s->sa, sb);
				block_release(dev, b);
			}
		}
		pool_free_struct(dev, pool, pool->shard_count);
		dev->ld.pools[i] = NULL;
	}
	atomic_store_explicit(&dev->ld.pool_count, 0, memory_order_release);
}

/* Every pool shard's memory objects, for device destroy and lookups. */
void vgalloc__pools_each_mshard(struct vgalloc_device *dev,
                                void (*fn)(struct vgalloc__mshard *ms, void *arg), void *arg)
{
	uint32_t n = atomic_load_explicit(&dev->ld.pool_count, memory_order_acquire);

	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < dev->ld.pools[i]->shard_count; j++) {
			fn(&dev->ld.pools[i]->shards[j].ms, arg);
		}
	}
}

void vgalloc__pools_counts(struct vgalloc_device *dev, uint64_t *live, uint64_t *requested)
{
	uint32_t n = atomic_load_explicit(&dev->ld.pool_count, memory_order_acquire);

	*live = *requested = 0;
	for (uint32_t i = 0; i < n; i++) {
		for (uint32_t j = 0; j < dev->ld.pools[i]->shard_count; j++) {
			struct vgalloc__shard *s = &dev->ld.pools[i]->shards[j];

			vgalloc__lock(&s->ms.lock);
			*live += s->live;
			*requested += s->requested;
			vgalloc__unlock(&s->ms.lock);
		}
	}
}

int vgalloc__pool_stats(struct vgalloc_device *dev, uint32_t index, struct vgalloc_pool_stats *out)
{
	struct vgalloc_pool_stats ps;
	struct vgalloc__pool *pool;

	if (index >= atomic_load_explicit(&dev->ld.pool_count, memory_order_acquire)) {
		return -ENOENT;
	}
	vgalloc__pools_drain(dev);
	pool = dev->ld.pools[index];
	memset(&ps, 0, sizeof(ps));
	ps.memory_type = dev->ld.types[pool->type].host_index;
	ps.pool_key = pool->key;
	ps.retained_bytes = atomic_load_explicit(&pool->retained, memory_order_relaxed);
	for (uint32_t j = 0; j < pool->shard_count; j++) {
		struct vgalloc__shard *s = &pool->shards[j];
		struct vgalloc__sa_stats st;

		vgalloc__lock(&s->ms.lock);
		vgalloc__sa_get_stats(&s->sa, &st);
		ps.requested_bytes += s->requested;
		for (uint32_t c = 0; c < s->ms.mems.nchunks; c++) {
			ps.metadata_bytes += s->ms.mems.chunks[c].count * s->ms.mems.slot_size;
		}
		for (const struct vgalloc__sa_block *sb = s->sa.blocks; sb; sb = sb->next) {
			const struct vgalloc__block *b = sb->owner;

			if (b->bk.blob && vgalloc__blob_window(pool->blob_mem, pool->blob_flags)) {
				ps.window_bytes += b->size;
			}
		}
		vgalloc__unlock(&s->ms.lock);
		ps.blocks += st.blocks;
		ps.block_bytes += st.block_bytes;
		ps.used_bytes += st.used_bytes;
		ps.free_bytes += st.free_bytes;
		ps.largest_free = VGALLOC__MAX(ps.largest_free, st.largest_free);
		ps.slab_bytes += st.slab_bytes;
		ps.live += st.live;
		ps.metadata_bytes += st.metadata_bytes;
		for (uint32_t c = 0; c < st.class_count; c++) {
			ps.slabs += st.classes[c].slabs;
		}
	}
	ps.struct_size = sizeof(ps);
	*out = ps;
	return 0;
}
