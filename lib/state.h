/* SPDX-License-Identifier: MIT */
/*
 * The state: the connection's (what belongs to the fd, shared by the devices that join it) and the
 * logical device's, the backend and hook dispatch, logging and the lock order. Nothing here is
 * installed.
 *
 * Lock order (a thread holding one may take those below it, never one above):
 *   mshard.lock (a memory-object shard or pool shard) → ldev.lock (registry, pool list)
 *   fd.import_lock (GEM-handle table, blob refcounts) → fd.lock (blob slab, blob map state)
 *   fd.shmem.lock → fd.lock
 * Backend calls and hooks run with no library lock held, except PRIME import, RESOURCE_INFO, GEM
 * close and the munmap of a blob whose last reference goes while it is mapped, which run under
 * fd.import_lock (a handle being closed must not be handed to an import); the log callback never
 * runs under a library lock.
 */
#ifndef VGALLOC_STATE_H
#define VGALLOC_STATE_H

#define VGALLOC_UNSTABLE_BACKEND_API
#include "vgalloc/vgalloc_backend.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "core.h"
#include "handle.h"
#include "policy.h"
#include "registry.h"
#include "shmem.h"
#include "stats.h"

/*
 * lib/ names a kernel number by its public name wherever vgalloc.h or vgalloc_backend.h has one,
 * and by its UAPI name (vgalloc_uapi.h) only where none exists (downstream params, GUEST_VRAM);
 * the two vocabularies are tied here, once.
 */
#define VGALLOC__SAME(pub, uapi) _Static_assert((pub) == (uapi), #pub " is the kernel's " #uapi)
VGALLOC__SAME(VGALLOC_PARAM_3D_FEATURES, VGALLOC_UAPI_PARAM_3D_FEATURES);
VGALLOC__SAME(VGALLOC_PARAM_CAPSET_QUERY_FIX, VGALLOC_UAPI_PARAM_CAPSET_QUERY_FIX);
VGALLOC__SAME(VGALLOC_PARAM_RESOURCE_BLOB, VGALLOC_UAPI_PARAM_RESOURCE_BLOB);
VGALLOC__SAME(VGALLOC_PARAM_HOST_VISIBLE, VGALLOC_UAPI_PARAM_HOST_VISIBLE);
VGALLOC__SAME(VGALLOC_PARAM_CROSS_DEVICE, VGALLOC_UAPI_PARAM_CROSS_DEVICE);
VGALLOC__SAME(VGALLOC_PARAM_CONTEXT_INIT, VGALLOC_UAPI_PARAM_CONTEXT_INIT);
VGALLOC__SAME(VGALLOC_PARAM_SUPPORTED_CAPSET_IDS, VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS);
VGALLOC__SAME(VGALLOC_PARAM_EXPLICIT_DEBUG_NAME, VGALLOC_UAPI_PARAM_EXPLICIT_DEBUG_NAME);
VGALLOC__SAME(VGALLOC_PARAM_BLOB_ALIGNMENT, VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT);
VGALLOC__SAME(VGALLOC_BLOB_MEM_GUEST, VGALLOC_UAPI_BLOB_MEM_GUEST);
VGALLOC__SAME(VGALLOC_BLOB_MEM_HOST3D, VGALLOC_UAPI_BLOB_MEM_HOST3D);
VGALLOC__SAME(VGALLOC_BLOB_MEM_HOST3D_GUEST, VGALLOC_UAPI_BLOB_MEM_HOST3D_GUEST);
VGALLOC__SAME(VGALLOC_BLOB_FLAG_MAPPABLE, VGALLOC_UAPI_BLOB_FLAG_USE_MAPPABLE);
VGALLOC__SAME(VGALLOC_BLOB_FLAG_SHAREABLE, VGALLOC_UAPI_BLOB_FLAG_USE_SHAREABLE);
VGALLOC__SAME(VGALLOC_BLOB_FLAG_CROSS_DEVICE, VGALLOC_UAPI_BLOB_FLAG_USE_CROSS_DEVICE);
VGALLOC__SAME(VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE, VGALLOC_UAPI_BLOB_FLAG_CREATE_GUEST_HANDLE);
VGALLOC__SAME(VGALLOC__BLOB_FLAGS_MAINLINE, VGALLOC_UAPI_BLOB_FLAGS_MAINLINE);
VGALLOC__SAME(VGALLOC_CAPSET_VIRGL, VGALLOC_UAPI_CAPSET_VIRGL);
VGALLOC__SAME(VGALLOC_CAPSET_VIRGL2, VGALLOC_UAPI_CAPSET_VIRGL2);
VGALLOC__SAME(VGALLOC_CAPSET_GFXSTREAM_VULKAN, VGALLOC_UAPI_CAPSET_GFXSTREAM_VULKAN);
VGALLOC__SAME(VGALLOC_CAPSET_VENUS, VGALLOC_UAPI_CAPSET_VENUS);
VGALLOC__SAME(VGALLOC_CAPSET_CROSS_DOMAIN, VGALLOC_UAPI_CAPSET_CROSS_DOMAIN);
VGALLOC__SAME(VGALLOC_CAPSET_DRM, VGALLOC_UAPI_CAPSET_DRM);
VGALLOC__SAME(VGALLOC_CAPSET_GFXSTREAM_MAGMA, VGALLOC_UAPI_CAPSET_GFXSTREAM_MAGMA);
VGALLOC__SAME(VGALLOC_CAPSET_GFXSTREAM_GLES, VGALLOC_UAPI_CAPSET_GFXSTREAM_GLES);
VGALLOC__SAME(VGALLOC_CAPSET_GFXSTREAM_COMPOSER, VGALLOC_UAPI_CAPSET_GFXSTREAM_COMPOSER);
VGALLOC__SAME(VGALLOC_CONTEXT_PARAM_CAPSET_ID, VGALLOC_UAPI_CONTEXT_PARAM_CAPSET_ID);
VGALLOC__SAME(VGALLOC_CONTEXT_PARAM_NUM_RINGS, VGALLOC_UAPI_CONTEXT_PARAM_NUM_RINGS);
VGALLOC__SAME(VGALLOC_CONTEXT_PARAM_POLL_RINGS_MASK, VGALLOC_UAPI_CONTEXT_PARAM_POLL_RINGS_MASK);
VGALLOC__SAME(VGALLOC_CONTEXT_PARAM_DEBUG_NAME, VGALLOC_UAPI_CONTEXT_PARAM_DEBUG_NAME);
#undef VGALLOC__SAME

#define VGALLOC__MAX_SHARDS 16
#define VGALLOC__MAX_POOLS  64

struct vgalloc__pool;
struct vgalloc_blob;

/*
 * Per fd: the public struct vgalloc_connection, one DRM fd (one virtio-gpu context) or custom
 * backend, whichever logical devices allocate through it. Every device holds a reference; so does
 * vgalloc_connection_create()'s caller, through `root`, a device with no memory types or hooks
 * that created it. The last device to go tears it down (its blobs, then the backend).
 */
struct vgalloc__fd {
	uint32_t magic;
	atomic_uint refs;
	struct vgalloc_device *root;        /* vgalloc_connection_create()'s, until destroyed */
	struct vgalloc_allocator allocator; /* the fd's memory: blob slab, handle table, capset */
	uint32_t scope; /* of that memory: INSTANCE when shared, DEVICE when one device's own */
	uint32_t flags; /* CONTEXT_READY, GUEST_VRAM: what devices inherit */
	uint32_t flavour;
	uint32_t host_page_size;
	struct vgalloc__fd_stats stats; /* the blob counters (F in stats.h) */

	uint32_t backend_type;
	uint32_t mode;
	uint32_t capset_id;
	struct vgalloc_backend *be;
	const struct vgalloc_backend_ops *ops;
	bool owns_backend; /* created by the device (virtgpu); mock and custom ones are borrowed */

	uint32_t params_present; /* bit N: params[N] known */
	uint64_t params[VGALLOC_PARAM_MAX + 1];
	unsigned char *capset;
	uint32_t capset_size;

	pthread_mutex_t lock; /* the blob slab, each blob's map state */
	pthread_cond_t cond;  /* blob map once-guard waiters */
	struct vgalloc__slab blobs;

	/*
	 * The import-dedup table: GEM handle → blob. Held across PRIME import, RESOURCE_INFO and GEM
	 * close, because the kernel hands the same handle to a second import of a buffer that is
	 * still open: without it an import could receive a handle that is being closed.
	 */
	pthread_mutex_t import_lock;
	struct vgalloc_blob **by_handle;
	uint32_t by_handle_cap;
	/* The consumer's GEM-handle table (adopt mode), or none: then the library GEM-closes. */
	struct vgalloc_handle_table handles;
	bool has_handles;

	struct vgalloc__shmem_cache shmem;
};

/* Per logical device: its hooks, memory types, options, policy traits and pools. */
struct vgalloc__ldev {
	struct vgalloc_host_hooks hooks;
	bool has_hooks;
	/* VGALLOC_HOOKS_IN_ORDER: tokens are numbered as they are issued (token_issued counts
	 * them); a completed host_roundtrip completes every token numbered up to what token_issued
	 * read before it started (token_done, only raised). */
	atomic_uint_fast64_t token_issued;
	atomic_uint_fast64_t token_done;
	struct vgalloc__mem_type *types;
	uint32_t type_count;
	struct vgalloc__traits traits;
	uint64_t retain_bytes; /* empty pool blocks kept, per pool */

	pthread_mutex_t lock; /* the registry's replacement, the pool list's growth */
	/* Memory objects: dedicated ones in these shards, suballocations in their pool shard. */
	uint32_t shard_count;
	struct vgalloc__mshard dshards[VGALLOC__MAX_SHARDS];
	/* Every memory-object slab chunk, sorted, published for lock-free lookups. */
	struct vgalloc__registry *_Atomic registry;
	struct vgalloc__registry *old_registries; /* freed at destroy */

	struct vgalloc__pool *pools[VGALLOC__MAX_POOLS];
	_Atomic uint32_t pool_count;
};

struct vgalloc_device {
	uint32_t magic;
	uint32_t flags;
	uint32_t log_level;
	struct vgalloc_allocator allocator;
	vgalloc_log_fn log_fn;
	void *log_user;

	struct vgalloc__fd *fd; /* shared with the other devices of its connection */
	struct vgalloc__ldev ld;
	struct vgalloc__stats stats;
};

/* Logging, through the per-device callback only. */
void vgalloc__log(const struct vgalloc_device *dev, enum vgalloc_log_level level, const char *fmt,
                  ...) __attribute__((format(printf, 3, 4)));

/* Environment overrides, read with secure_getenv only when the consumer opted in. */
struct vgalloc__env {
	uint32_t alloc_mode; /* 0 = not set */
	bool no_suballoc;
	uint32_t log_level; /* 0 = not set */
};
void vgalloc__env_read(struct vgalloc__env *env);

/*
 * Give back what the device keeps (retained pool blocks, cached shmem blobs): the ENOSPC retry of
 * DESIGN §4 rule 8. Returns how many were released (≥ 0). Called from below (pool.c, shmem.c,
 * mem.c) when the window is full: the one call that goes back up.
 */
int vgalloc__trim(struct vgalloc_device *dev);

/* Backend dispatch: every kernel call goes through here so it is counted in one place. */
#define VGALLOC__BE(dev, op, ...)                           \
	(vgalloc__stat_add(&(dev)->stats.backend_calls, 1), \
	 vgalloc__errno((dev)->fd->ops->op((dev)->fd->be, __VA_ARGS__)))
/* Hooks returning int are sanitised the same way; void and id hooks use the _RAW forms. */
#define VGALLOC__HOOK(dev, hook, ...)                    \
	(vgalloc__stat_add(&(dev)->stats.hook_calls, 1), \
	 vgalloc__errno((dev)->ld.hooks.hook((dev)->ld.hooks.ctx, __VA_ARGS__)))
#define VGALLOC__HOOK_RAW(dev, hook, ...)                \
	(vgalloc__stat_add(&(dev)->stats.hook_calls, 1), \
	 (dev)->ld.hooks.hook((dev)->ld.hooks.ctx, __VA_ARGS__))
#define VGALLOC__HOOK0(dev, hook)                        \
	(vgalloc__stat_add(&(dev)->stats.hook_calls, 1), \
	 vgalloc__errno((dev)->ld.hooks.hook((dev)->ld.hooks.ctx)))
#define VGALLOC__HOOK0_RAW(dev, hook) \
	(vgalloc__stat_add(&(dev)->stats.hook_calls, 1), (dev)->ld.hooks.hook((dev)->ld.hooks.ctx))

/*
 * The once-guard, written once: a first map or a lazy blob creation can wait ~1 ms for the host,
 * so it runs without the object's lock, with a busy flag that makes every other thread wait on
 * the lock's condvar until it is done (then they find the result). Blobs (on fd.lock) and
 * backings (on their owner's shard lock) use it.
 */
static inline void vgalloc__once_wait(pthread_mutex_t *lock, pthread_cond_t *cond, const bool *busy)
{
	while (*busy) {
		pthread_cond_wait(cond, lock);
	}
}

/* Lock held: leave the guarded section and wake the waiters. */
static inline void vgalloc__once_leave(pthread_cond_t *cond, bool *busy)
{
	*busy = false;
	pthread_cond_broadcast(cond);
}

#endif
