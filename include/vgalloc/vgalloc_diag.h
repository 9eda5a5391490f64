/* SPDX-License-Identifier: MIT */
/*
 * libvgalloc diagnostics: what a device decided and holds, for logs, tools and tests. The plan of
 * a request (the same one vgalloc_mem_alloc() runs) and its explanation in words, the counters,
 * each pool's figures, and all of it as JSON. Reads only: nothing here changes a device.
 */
#ifndef VGALLOC_DIAG_H
#define VGALLOC_DIAG_H

#include "vgalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Cheap counters, read atomically (each counter is exact; the set is not a snapshot; the shmem
 *  counters are read together). The blob counters (blobs_live to import_dedups) and the shmem
 *  counters are the device's connection's: every device on one connection reports the same
 *  values, so add them up per connection, not per device. The rest are the device's own.
 *  Output struct, version 4 (version 0: 120 bytes, 1: 184, 2: 224, 3: 248). */
struct vgalloc_stats {
	uint32_t struct_size;
	uint32_t reserved;
	uint64_t blobs_live;
	uint64_t blob_bytes;   /* rounded sizes of live blobs */
	uint64_t window_bytes; /* bytes of the host-visible window held (mappable HOST3D) */
	uint64_t blobs_mapped;
	uint64_t blobs_created;  /* total RESOURCE_CREATE_BLOB successes */
	uint64_t blobs_imported; /* total PRIME imports that made a new blob */
	uint64_t import_dedups;  /* imports answered from the dedup table */
	uint64_t mems_live;
	uint64_t mem_bytes_requested;
	uint64_t mem_bytes_committed;
	uint64_t backend_calls;
	uint64_t hook_calls;
	uint64_t enospc_events;
	uint64_t teardown_errors; /* backend errors during teardown (logged, not returned) */
	/* --- appended after version 0 (120 bytes) --- */
	uint64_t pools;
	uint64_t blocks; /* blobs (or host allocations) backing pools */
	uint64_t block_bytes;
	uint64_t retained_bytes; /* in empty blocks kept for reuse */
	uint64_t suballocs_live;
	uint64_t suballoc_bytes;  /* requested bytes of live suballocations */
	uint64_t block_creations; /* total */
	uint64_t block_releases;  /* total */
	/* --- appended after version 1 (184 bytes) --- */
	uint64_t shmem_live;   /* handed out by vgalloc_shmem_create() */
	uint64_t shmem_cached; /* idle in the shmem cache */
	uint64_t shmem_cached_bytes;
	uint64_t shmem_hits;   /* total creates answered from the cache */
	uint64_t shmem_misses; /* total creates that made a blob */
	/* --- appended after version 2 (224 bytes): the window-full ladder, totals --- */
	uint64_t window_small_blocks;  /* blocks made below their planned size */
	uint64_t window_dedicated;     /* suballocations given a blob of their own instead */
	uint64_t window_closed_blocks; /* host-first blocks whose first map found no room */
	/* --- appended after version 3 (248 bytes): host waits, totals --- */
	uint64_t host_waits;         /* host_wait calls (also counted in hook_calls) */
	uint64_t host_waits_skipped; /* pending tokens released without one (hooks in order) */
};

/** One pool's detailed state (a walk under its locks). Output struct, version 0. */
struct vgalloc_pool_stats {
	uint32_t struct_size;
	uint32_t memory_type; /* host index */
	uint64_t pool_key;
	uint64_t blocks;
	uint64_t block_bytes;
	uint64_t retained_bytes;
	uint64_t used_bytes;      /* reserved for live suballocations, rounding included */
	uint64_t requested_bytes; /* what the live suballocations asked for */
	uint64_t free_bytes;
	uint64_t largest_free; /* fragmentation = 1 - largest_free / free_bytes */
	uint64_t slabs;
	uint64_t slab_bytes;
	uint64_t live;
	uint64_t metadata_bytes;
	uint64_t window_bytes; /* of mapped or guest-first blocks */
};

/**
 * Walk pool `index` (0, 1, ... until -ENOENT). Completes the frees queued on every pool's shards
 * first (taking each shard lock that has some; no hook runs: a block this empties is kept as
 * retained), then takes each of this pool's shard locks in turn.
 * Return: 0; -EINVAL (NULL, bad struct_size); -ENOENT (no such pool).
 */
VGALLOC_API int vgalloc_device_get_pool_stats(struct vgalloc_device *dev, uint32_t index,
                                              struct vgalloc_pool_stats *stats);

/**
 * Write every counter and every pool's detailed state as one JSON object.
 * Return: the full length (as snprintf; truncated output is NUL-terminated); -EINVAL.
 */
VGALLOC_API int vgalloc_device_stats_json(struct vgalloc_device *dev, char *buf, size_t size);

/**
 * Read the counters. Output struct: writes min(stats->struct_size, own size). Frees queued on
 * pool shards (vgalloc_mem_free) are completed first, so they count as done; no hook runs (a
 * block this empties is kept as retained for the next trim or allocation).
 * Thread safety: any thread. Return: 0; -EINVAL (NULL, struct_size < version-0 size).
 */
VGALLOC_API int vgalloc_device_get_stats(const struct vgalloc_device *dev,
                                         struct vgalloc_stats *stats);

/* ---------------------------------------------------------------------------------------------
 * Policy: (device traits, request) → plan. Pure: no kernel or host call is made.
 */

/** One step of a path, in the order the library performs them. */
enum vgalloc_step {
	VGALLOC_STEP_NEW_BLOB_ID = 1,
	VGALLOC_STEP_HOST_ALLOC = 2,
	VGALLOC_STEP_HOST_WAIT = 3, /* or wait bytes in CREATE_BLOB's cmd */
	VGALLOC_STEP_CREATE_BLOB = 4,
	VGALLOC_STEP_ROUNDTRIP = 5,
	VGALLOC_STEP_HOST_IMPORT = 6,
	VGALLOC_STEP_PRIME_IMPORT = 7, /* dedup'd by GEM handle */
	VGALLOC_STEP_RESOURCE_INFO = 8,
	VGALLOC_STEP_MAP = 9,          /* MAP + mmap of the whole blob */
	VGALLOC_STEP_SUBALLOCATE = 10, /* a range of a pool block */
	VGALLOC_STEP_PLACEHOLDER_SUBMIT =
	        11, /* guest-handle: a submit + wait so the host sees it */
};

/** The never-suballocate list (DESIGN §4 rule 6): why an allocation gets its own blob. */
enum vgalloc_no_suballoc {
	VGALLOC_NO_SUBALLOC_NOT_HOST_VISIBLE = 1u << 0,
	VGALLOC_NO_SUBALLOC_EXPORT = 1u << 1,
	VGALLOC_NO_SUBALLOC_IMPORT_FD = 1u << 2,
	VGALLOC_NO_SUBALLOC_HOST_POINTER = 1u << 3,
	VGALLOC_NO_SUBALLOC_AHB = 1u << 4,
	VGALLOC_NO_SUBALLOC_DEDICATED_REQUIRED = 1u << 5,
	VGALLOC_NO_SUBALLOC_DEDICATED_IMAGE = 1u << 6,
	VGALLOC_NO_SUBALLOC_CAPTURE_REPLAY = 1u << 7,
	VGALLOC_NO_SUBALLOC_ZERO_INITIALIZE = 1u << 8,
	VGALLOC_NO_SUBALLOC_PRIORITY = 1u << 9,
	VGALLOC_NO_SUBALLOC_WSI = 1u << 10,
	VGALLOC_NO_SUBALLOC_PLACED_MAP = 1u << 11, /* the request's, or the device's placed_maps */
	VGALLOC_NO_SUBALLOC_DISABLED = 1u << 12,   /* VGALLOC_DEVICE_NO_SUBALLOC or the env */
	VGALLOC_NO_SUBALLOC_TOO_LARGE = 1u << 13,  /* above max_suballoc_size */
	VGALLOC_NO_SUBALLOC_GUEST_HANDLE = 1u << 14,
	VGALLOC_NO_SUBALLOC_DEFERRED_MAPPING = 1u
	                                       << 15, /* gfxstream deferredMapping: blob per id */
	/* The alignment hint is above what a pool block honours: min(max_block_size, 4 MiB). */
	VGALLOC_NO_SUBALLOC_ALIGNMENT = 1u << 16,
};

#define VGALLOC_PLAN_MAX_STEPS 8

/**
 * A plan. Output struct, version 0. pool_key packs (host memory type << 32 | allocate flags << 16
 * | blob flags << 8 | alloc mode); it is 0 when the allocation is not suballocated.
 */
struct vgalloc_plan {
	uint32_t struct_size;
	uint32_t path;        /* enum vgalloc_path */
	uint32_t blob_mem;    /* 0 when the path makes no blob */
	uint32_t blob_flags;  /* exact RESOURCE_CREATE_BLOB flags */
	uint32_t alloc_mode;  /* enum vgalloc_alloc_mode */
	uint32_t memory_type; /* host index */
	uint32_t suballocate; /* 1: a range of a pool block (when the window has no room even
	                       * for the pool's smallest block: this path for it alone) */
	uint32_t no_suballoc; /* enum vgalloc_no_suballoc bits (0 when suballocated) */
	uint64_t size;        /* bytes of host memory / blob (rounded) */
	uint64_t alignment;   /* offset alignment: pool base alignment, or the blob alignment */
	uint64_t pool_key;
	uint64_t min_block_size; /* suballocated: smallest block the pool may create */
	uint32_t alloc_step_count;
	uint32_t map_step_count;
	uint32_t alloc_steps[VGALLOC_PLAN_MAX_STEPS]; /* enum vgalloc_step, at vgalloc_mem_alloc */
	uint32_t map_steps[VGALLOC_PLAN_MAX_STEPS];   /* at the first vgalloc_mem_map */
};

/**
 * Decide how `req` would be allocated. Nothing is allocated and no call is made.
 * Thread safety: any thread. Ownership: nothing is kept.
 * Return: 0; -EINVAL (NULL, bad struct_size, size 0, overflow, alignment not a power of two,
 *         unknown memory type, an unknown bit in flags, allocate_flags or export_handle_types,
 *         reserved not 0, import fd < 0); -E2BIG (unknown tail).
 */
VGALLOC_API int vgalloc_plan_request(const struct vgalloc_device *dev,
                                     const struct vgalloc_request *req, struct vgalloc_plan *plan);

/**
 * Explain, in text lines, how the device decided its allocation order and how `req` would be
 * allocated, with the reason for every decision. req may be NULL (device decisions only). Reasons
 * are only computed here, so vgalloc_mem_alloc() pays nothing for them.
 * Return: the length of the full text (as snprintf; the output is truncated to size - 1 and
 *         NUL-terminated when size > 0); -EINVAL and the errors of vgalloc_plan_request(). On
 *         those errors buf (when size > 0) holds the explanation up to the refusal, which says
 *         why the request is invalid, NUL-terminated.
 */
VGALLOC_API int vgalloc_plan_explain(const struct vgalloc_device *dev,
                                     const struct vgalloc_request *req, char *buf, size_t size);

/** "new_blob_id", "create_blob", ... or "unknown". */
VGALLOC_API const char *vgalloc_step_name(uint32_t step);
/** "export", "dedicated-image", ... for one bit, or "unknown". */
VGALLOC_API const char *vgalloc_no_suballoc_name(uint32_t bit);

/** Name of an enum vgalloc_path value, or "unknown". */
VGALLOC_API const char *vgalloc_path_name(uint32_t path);

#ifdef __cplusplus
}
#endif

#endif
