/* SPDX-License-Identifier: MIT */
/*
 * The counters, listed once. VGALLOC__STATS names every field of the public struct vgalloc_stats
 * in its order: C() for a counter the logical device keeps, F() for one its connection keeps (the
 * blobs are the fd's: every device on it reads the same), each an atomic added to where the event
 * happens, and D() for one derived when the stats are read (diag.c). The private struct, the copy
 * into the public one and the JSON writer all expand the same list.
 */
#ifndef VGALLOC_STATS_H
#define VGALLOC_STATS_H

#include <stdatomic.h>

#include "core.h"

#define VGALLOC__STATS(C, F, D) \
	F(blobs_live)           \
	F(blob_bytes)           \
	F(window_bytes)         \
	F(blobs_mapped)         \
	F(blobs_created)        \
	F(blobs_imported)       \
	F(import_dedups)        \
	C(mems_live)            \
	C(mem_bytes_requested)  \
	C(mem_bytes_committed)  \
	C(backend_calls)        \
	C(hook_calls)           \
	C(enospc_events)        \
	C(teardown_errors)      \
	D(pools)                \
	C(blocks)               \
	C(block_bytes)          \
	C(retained_bytes)       \
	D(suballocs_live)       \
	D(suballoc_bytes)       \
	C(block_creations)      \
	C(block_releases)       \
	D(shmem_live)           \
	D(shmem_cached)         \
	D(shmem_cached_bytes)   \
	D(shmem_hits)           \
	D(shmem_misses)         \
	C(window_small_blocks)  \
	C(window_dedicated)     \
	C(window_closed_blocks) \
	C(host_waits)           \
	C(host_waits_skipped)

#define VGALLOC__STAT_FIELD(name) atomic_uint_fast64_t name;
#define VGALLOC__STAT_NONE(name)

/* A logical device's counters (C) and its connection's (F), each half its own type, so that a
 * counter read or added on the wrong object does not compile. */
struct vgalloc__stats {
	VGALLOC__STATS(VGALLOC__STAT_FIELD, VGALLOC__STAT_NONE, VGALLOC__STAT_NONE)
};
struct vgalloc__fd_stats {
	VGALLOC__STATS(VGALLOC__STAT_NONE, VGALLOC__STAT_FIELD, VGALLOC__STAT_NONE)
};

static inline void vgalloc__stat_add(atomic_uint_fast64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}
static inline void vgalloc__stat_sub(atomic_uint_fast64_t *c, uint64_t v)
{
	atomic_fetch_sub_explicit(c, v, memory_order_relaxed);
}

#endif
