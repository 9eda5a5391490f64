/* SPDX-License-Identifier: MIT */
/*
 * Internal objects shared by the library's files: the device, blob and memory structs, the handle
 * slabs, versioned-struct helpers and the backend dispatch. Nothing here is installed.
 */
#ifndef VGALLOC_PRIVATE_H
#define VGALLOC_PRIVATE_H

#define VGALLOC_UNSTABLE_BACKEND_API
#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "vgalloc_uapi.h"

#define VGALLOC__ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VGALLOC__MIN(a, b)     ((a) < (b) ? (a) : (b))
#define VGALLOC__MAX(a, b)     ((a) > (b) ? (a) : (b))
/* v rounded up to a, a power of two (the caller rules out overflow). */
#define VGALLOC__ALIGN_UP_POW2(v, a) (((v) + (a)-1) & ~((uint64_t)(a)-1))

/*
 * Version-0 sizes of the versioned structs. They are literals on purpose: when a struct grows,
 * sizeof changes but a caller built against version 0 still passes the old size.
 */
#define VGALLOC__V0_DEVICE_CREATE_INFO 248u
#define VGALLOC__V0_MEMORY_TYPE        48u
#define VGALLOC__V0_HOST_HOOKS         64u
#define VGALLOC__V0_DEVICE_INFO        48u
#define VGALLOC__V0_STATS              120u
#define VGALLOC__V0_BLOB_CREATE_INFO   40u
#define VGALLOC__V0_BLOB_IMPORT_INFO   24u
#define VGALLOC__V0_BLOB_INFO          56u
#define VGALLOC__V0_REQUEST            72u
#define VGALLOC__V0_MEM_INFO           72u
#define VGALLOC__V0_PLAN               136u

/*
 * The known bits of every flags field a caller passes in (vgalloc.h's top comment: one rule for
 * every input struct). Any other bit is -EINVAL before anything is touched, so a bit a later
 * version defines is never silently ignored by this one. A new enum value goes here too.
 */
#define VGALLOC__REQUEST_FLAGS_ALL                                                       \
	((uint32_t)(VGALLOC_REQUEST_DEDICATED_BUFFER | VGALLOC_REQUEST_DEDICATED_IMAGE | \
	            VGALLOC_REQUEST_DEDICATED_REQUIRED | VGALLOC_REQUEST_WSI |           \
	            VGALLOC_REQUEST_PLACED_MAP | VGALLOC_REQUEST_IMPORT_FD |             \
	            VGALLOC_REQUEST_IMPORT_HOST_POINTER | VGALLOC_REQUEST_IMPORT_AHB |   \
	            VGALLOC_REQUEST_PRIORITY | VGALLOC_REQUEST_BLOB_ID))
#define VGALLOC__ALLOCATE_FLAGS_ALL                                                  \
	((uint32_t)(VGALLOC_ALLOCATE_DEVICE_MASK | VGALLOC_ALLOCATE_DEVICE_ADDRESS | \
	            VGALLOC_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY |                 \
	            VGALLOC_ALLOCATE_ZERO_INITIALIZE))
#define VGALLOC__HANDLE_TYPES_ALL \
	((uint32_t)(VGALLOC_HANDLE_TYPE_OPAQUE_FD | VGALLOC_HANDLE_TYPE_DMA_BUF))
#define VGALLOC__MEMORY_PROPERTIES_ALL                                                            \
	((uint32_t)(VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL | VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE | \
	            VGALLOC_MEMORY_PROPERTY_HOST_COHERENT | VGALLOC_MEMORY_PROPERTY_HOST_CACHED | \
	            VGALLOC_MEMORY_PROPERTY_LAZILY_ALLOCATED | VGALLOC_MEMORY_PROPERTY_PROTECTED))
#define VGALLOC__MEMORY_TYPE_FLAGS_ALL ((uint32_t)VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES)
#define VGALLOC__DEVICE_FLAGS_ALL                                               \
	((uint32_t)(VGALLOC_DEVICE_PLACED_MAPS | VGALLOC_DEVICE_ALLOW_ENV |     \
	            VGALLOC_DEVICE_NO_SUBALLOC | VGALLOC_DEVICE_CONTEXT_READY | \
	            VGALLOC_DEVICE_GUEST_VRAM | VGALLOC_DEVICE_SELF_TEST))
#define VGALLOC__IMPORT_FLAGS_ALL ((uint32_t)VGALLOC_IMPORT_QUERY_ONLY)

static inline bool vgalloc__is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* Round v up to a power-of-two alignment; false when it overflows. */
static inline bool vgalloc__align_up(uint64_t v, uint64_t align, uint64_t *out)
{
	if (v > UINT64_MAX - (align - 1)) {
		return false;
	}
	*out = (v + align - 1) & ~(align - 1);
	return true;
}

/*
 * Read a caller's versioned input struct into a zero-initialised local copy of `cur` bytes.
 * Return: 0; -EINVAL (NULL, below version 0); -E2BIG (non-zero bytes past what we know).
 */
int vgalloc__struct_in(const void *src, size_t v0_size, size_t cur_size, void *dst);
/* Write min(caller's struct_size, cur) bytes of src to dst and store that count in struct_size. */
int vgalloc__struct_out(void *dst, const void *src, size_t v0_size, size_t cur_size);

/* --- Handle slabs -------------------------------------------------------------------------- */

/* Every handle object starts with this header. */
struct vgalloc__slot {
	uint32_t magic; /* live magic, VGALLOC__MAGIC_DYING while torn down, poison when free */
	uint32_t gen;   /* bumped on every reuse */
	struct vgalloc__slot *next_free;
};

#define VGALLOC__MAGIC_BLOB  0x424c4f42u /* "BLOB" */
#define VGALLOC__MAGIC_MEM   0x4d454d21u /* "MEM!" */
#define VGALLOC__MAGIC_DYING 0x44594e47u /* "DYNG" */
#define VGALLOC__MAGIC_FREE  0xdeadf7eeu
#define VGALLOC__SLAB_CHUNKS 24
#define VGALLOC__MAX_SHARDS  16
#define VGALLOC__MAX_POOLS   64

/*
 * Fixed-size slots in chunks that only grow (chunk k holds 64 << k slots) and go back to the
 * allocator at device destroy. Free slots are reused FIFO so that a stale pointer stays poisoned
 * for as long as possible. All functions need dev->lock.
 */
struct vgalloc__slab {
	size_t slot_size;
	uint32_t magic;
	uint32_t nchunks;
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

struct vgalloc_device;
void vgalloc__slab_init(struct vgalloc__slab *slab, size_t slot_size, uint32_t magic);
void vgalloc__slab_finish(struct vgalloc_device *dev, struct vgalloc__slab *slab);
void *vgalloc__slab_get_locked(struct vgalloc_device *dev, struct vgalloc__slab *slab);
void vgalloc__slab_put_locked(struct vgalloc__slab *slab, void *obj);
/* Whether p points at a slot of this slab (any state). */
bool vgalloc__slab_owns(const struct vgalloc__slab *slab, const void *p);
/* Whether p is a live object of this slab. */
bool vgalloc__slab_live(const struct vgalloc__slab *slab, const void *p);
/* Call fn on every live object. */
void vgalloc__slab_each_live(struct vgalloc__slab *slab, void (*fn)(void *obj, void *arg),
                             void *arg);

/* --- Objects ------------------------------------------------------------------------------- */

struct vgalloc_blob {
	struct vgalloc__slot slot;
	uint32_t gem_handle;
	uint32_t res_id;
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t origin;
	uint32_t refcount; /* import_lock */
	uint32_t mem_refs; /* import_lock: references held by memory objects */
	uint64_t size;
	uint64_t blob_id;
	/* dev->lock */
	void *map;
	uint32_t map_count;
	bool map_busy; /* a thread is mapping it without the lock */
	/* shmem.c: shmem is written under dev->shmem.lock and dev->lock, the rest under the former */
	uint8_t shmem; /* enum vgalloc__shmem_state */
	struct vgalloc_blob *shmem_next;
	uint64_t shmem_idle_since; /* CLOCK_MONOTONIC ns, while cached */
};

enum vgalloc__shmem_state {
	VGALLOC__SHMEM_NONE = 0, /* an ordinary blob */
	VGALLOC__SHMEM_LIVE,     /* handed out by vgalloc_shmem_create() */
	VGALLOC__SHMEM_CACHED,   /* idle in a cache bucket */
};

/* The shmem cache: idle power-of-two blobs per size, released after an idle time. */
#define VGALLOC__SHMEM_BUCKETS 40
struct vgalloc__shmem_cache {
	pthread_mutex_t lock;
	struct vgalloc_blob *bucket[VGALLOC__SHMEM_BUCKETS]; /* most recently cached first */
	uint64_t max_cached_bytes;
	uint64_t expiry_ns;
	/* Under the lock, so that they add up at every instant. */
	uint64_t live, cached, cached_bytes, hits, misses;
};

/* A lock with its own slab of memory objects: every vgalloc_mem belongs to exactly one. */
struct vgalloc__mshard {
	struct vgalloc_device *dev;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vgalloc__slab mems;
};

struct vgalloc__block;
struct vgalloc__pool;

struct vgalloc_mem {
	struct vgalloc__slot slot;
	struct vgalloc__mshard *ms;   /* its lock and slab */
	struct vgalloc__block *block; /* suballocated: the pool block it lives in */
	void *sa_node;                /* suballocated: the allocator's record */
	uint32_t sa_index;
	uint32_t path;
	uint32_t memory_type;
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t export_types;
	uint32_t allocate_flags;
	uint64_t size;
	uint64_t committed;
	uint64_t offset;
	uint64_t blob_id;
	uint64_t host_handle;
	uint64_t token;
	void *user_data;
	bool has_host;
	/* ms->lock */
	bool token_pending;
	bool blob_busy;    /* a thread is creating the lazy blob without the lock */
	uint32_t map_busy; /* threads inside vgalloc_mem_map of this suballocation */
	uint32_t map_count;
	struct vgalloc_blob *blob;
};

struct vgalloc__stats {
	atomic_uint_fast64_t blobs_live, blob_bytes, window_bytes, blobs_mapped, blobs_created,
	        blobs_imported, import_dedups, mems_live, mem_bytes_requested, mem_bytes_committed,
	        backend_calls, hook_calls, enospc_events, teardown_errors, blocks, block_bytes,
	        retained_bytes, block_creations, block_releases, window_small_blocks,
	        window_dedicated, window_closed_blocks;
};

struct vgalloc__mem_type {
	uint32_t host_index;
	uint32_t property_flags;
	uint32_t flags;
	uint64_t min_map_alignment;
	uint64_t non_coherent_atom_size;
	uint64_t buffer_image_granularity;
	uint64_t base_alignment; /* as given, 0 = derived */
	uint64_t pool_alignment; /* the pool base alignment in force (DESIGN §4 rule 5) */
};

/*
 * Everything the policy reads: derived once at device create, then read-only. The policy is a
 * pure function of these and a request.
 */
struct vgalloc__traits {
	uint32_t flavour;
	uint32_t capset_id;
	uint32_t alloc_mode;  /* HOST_FIRST or GUEST_FIRST */
	uint32_t mode_reason; /* enum vgalloc_mode_reason */
	uint32_t hypervisor_hint;
	uint32_t use_guest_vram; /* the Venus capset's field (0 when absent) */
	bool host_visible;
	bool cross_device;
	bool has_3d;
	bool guest_vram;          /* GUEST_VRAM blobs (blob_mem 4) */
	bool create_guest_handle; /* the flavour's CREATE_GUEST_HANDLE param is 1 */
	bool placed_maps;
	bool no_suballoc;
	bool gfxstream;                 /* a gfxstream Vulkan capset */
	bool deferred_mapping;          /* its deferredMapping field */
	bool blob_id_0;                 /* the Venus capset's supports_blob_id_0 */
	uint32_t blob_alignment_source; /* what set blob_alignment, for explanations */
	uint64_t blob_alignment;
	uint64_t max_suballoc_size;
	uint64_t max_suballoc_alignment; /* larger alignment hints get their own blob */
	const struct vgalloc__mem_type *types;
	uint32_t type_count;
};

enum vgalloc__align_source {
	VGALLOC__ALIGN_MIN = 0,
	VGALLOC__ALIGN_PAGE,
	VGALLOC__ALIGN_PARAM,
	VGALLOC__ALIGN_CAPSET,
	VGALLOC__ALIGN_HOST_PAGE,
};

/* Capsets (caps.c). */
int vgalloc__capset_parse(uint32_t id, const void *data, uint32_t size, uint32_t source,
                          struct vgalloc_capset_info *info);
uint32_t vgalloc__capset_layout_size(uint32_t id);

struct vgalloc_device {
	uint32_t magic;
	uint32_t backend_type;
	uint32_t mode;
	uint32_t flags;
	uint32_t capset_id;
	uint32_t log_level;
	struct vgalloc_allocator allocator;
	vgalloc_log_fn log_fn;
	void *log_user;

	struct vgalloc_backend *be;
	const struct vgalloc_backend_ops *ops;
	bool owns_backend; /* created by the device (virtgpu); mock and custom ones are borrowed */

	uint32_t params_present; /* bit N: params[N] known */
	uint64_t params[VGALLOC_PARAM_MAX + 1];
	unsigned char *capset;
	uint32_t capset_size;

	struct vgalloc__mem_type *types;
	uint32_t type_count;
	struct vgalloc__traits traits;
	struct vgalloc_host_hooks hooks;
	bool has_hooks;

	pthread_mutex_t lock; /* blob slab, blob map state, the registry, the pool list */
	pthread_cond_t cond;  /* map_busy waiters */
	struct vgalloc__slab blobs;

	/* Memory objects: dedicated ones in these shards, suballocations in their pool shard. */
	uint32_t shard_count;
	struct vgalloc__mshard dshards[VGALLOC__MAX_SHARDS];
	/* Every memory-object slab chunk, sorted, published for lock-free lookups. */
	struct vgalloc__registry *_Atomic registry;
	struct vgalloc__registry *old_registries; /* freed at destroy */

	struct vgalloc__pool *pools[VGALLOC__MAX_POOLS];
	_Atomic uint32_t pool_count;
	uint64_t retain_bytes;
	uint64_t min_block_size;
	uint64_t max_block_size;

	/*
	 * The import-dedup table: GEM handle → blob. Held across PRIME import, RESOURCE_INFO and GEM
	 * close, because the kernel hands the same handle to a second import of a buffer that is
	 * still open: without it an import could receive a handle that is being closed.
	 */
	pthread_mutex_t import_lock;
	struct vgalloc_blob **by_handle;
	uint32_t by_handle_cap;

	struct vgalloc__shmem_cache shmem;

	struct vgalloc__stats stats;
};

#define VGALLOC__MAGIC_DEVICE 0x56474456u /* "VGDV" */

struct vgalloc__registry {
	struct vgalloc__registry *older;
	uint32_t count;
	uint32_t reserved;
	struct vgalloc__registry_entry {
		uintptr_t base, end;
		size_t slot_size;
		struct vgalloc__mshard *ms;
	} e[];
};

/* Memory-object shards (registry.c / pool.c). */
int vgalloc__mshard_init(struct vgalloc_device *dev, struct vgalloc__mshard *ms);
void vgalloc__mshard_finish(struct vgalloc_device *dev, struct vgalloc__mshard *ms);
/* ms->lock held: a fresh memory object, registering a new slab chunk when one is added. */
struct vgalloc_mem *vgalloc__mem_get_locked(struct vgalloc_device *dev, struct vgalloc__mshard *ms);
/* The shard owning p when p points at a memory-object slot of this device, else NULL. */
struct vgalloc__mshard *vgalloc__mem_owner(struct vgalloc_device *dev, const void *p);
void vgalloc__registry_free(struct vgalloc_device *dev);
/* This thread's shard index in [0, n). */
uint32_t vgalloc__thread_shard(uint32_t n);

/* Pools (pool.c). */
int vgalloc__pool_alloc(struct vgalloc_device *dev, const struct vgalloc_plan *plan,
                        const struct vgalloc_request *req, uint32_t type, struct vgalloc_mem **out);
int vgalloc__pool_free(struct vgalloc_device *dev, struct vgalloc_mem *mem);
int vgalloc__pool_map(struct vgalloc_device *dev, struct vgalloc_mem *mem, void **out_ptr);
struct vgalloc_blob *vgalloc__pool_blob(struct vgalloc_device *dev, struct vgalloc_mem *mem,
                                        uint64_t *host_handle);
int vgalloc__pools_trim(struct vgalloc_device *dev);
void vgalloc__pools_each_mshard(struct vgalloc_device *dev,
                                void (*fn)(struct vgalloc__mshard *ms, void *arg), void *arg);
/*
 * A host-first blob for host memory that may still be in flight: host_wait (or its wait bytes as
 * CREATE_BLOB's cmd), then CREATE_BLOB. *token_done says whether the token is processed now.
 */
int vgalloc__host_blob(struct vgalloc_device *dev, const struct vgalloc_blob_create_info *info,
                       bool pending, uint64_t token, bool *token_done, struct vgalloc_blob **out);
void vgalloc__pools_destroy(struct vgalloc_device *dev);
/* Live suballocations and their requested bytes, summed over every shard (takes each lock). */
void vgalloc__pools_counts(struct vgalloc_device *dev, uint64_t *live, uint64_t *requested);

/* Allocation through the device's allocator. */
void *vgalloc__alloc(const struct vgalloc_allocator *a, size_t size, size_t align);
void vgalloc__free(const struct vgalloc_allocator *a, void *p);
void vgalloc__allocator_default(struct vgalloc_allocator *a);

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

static inline void vgalloc__stat_add(atomic_uint_fast64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}
static inline void vgalloc__stat_sub(atomic_uint_fast64_t *c, uint64_t v)
{
	atomic_fetch_sub_explicit(c, v, memory_order_relaxed);
}

/* A backend or hook answered something that is no -errno: that is an I/O error, not a value. */
static inline int vgalloc__errno(int ret)
{
	return ret > 0 || ret < -4095 ? -EIO : ret;
}

/* Backend dispatch: every kernel call goes through here so it is counted in one place. */
#define VGALLOC__BE(dev, op, ...)                           \
	(vgalloc__stat_add(&(dev)->stats.backend_calls, 1), \
	 vgalloc__errno((dev)->ops->op((dev)->be, __VA_ARGS__)))
/* Hooks returning int are sanitised the same way; void and id hooks use the _RAW forms. */
#define VGALLOC__HOOK(dev, hook, ...)                    \
	(vgalloc__stat_add(&(dev)->stats.hook_calls, 1), \
	 vgalloc__errno((dev)->hooks.hook((dev)->hooks.ctx, __VA_ARGS__)))
#define VGALLOC__HOOK_RAW(dev, hook, ...)                \
	(vgalloc__stat_add(&(dev)->stats.hook_calls, 1), \
	 (dev)->hooks.hook((dev)->hooks.ctx, __VA_ARGS__))
#define VGALLOC__HOOK0(dev, hook)                        \
	(vgalloc__stat_add(&(dev)->stats.hook_calls, 1), \
	 vgalloc__errno((dev)->hooks.hook((dev)->hooks.ctx)))
#define VGALLOC__HOOK0_RAW(dev, hook) \
	(vgalloc__stat_add(&(dev)->stats.hook_calls, 1), (dev)->hooks.hook((dev)->hooks.ctx))

/* Blob internals shared with mem.c. */
int vgalloc__blob_create(struct vgalloc_device *dev, const struct vgalloc_blob_create_info *info,
                         struct vgalloc_blob **out_blob);
int vgalloc__blob_map(struct vgalloc_device *dev, struct vgalloc_blob *blob, void **out_ptr);
void vgalloc__blob_unmap(struct vgalloc_device *dev, struct vgalloc_blob *blob);
void vgalloc__blob_release(struct vgalloc_device *dev, struct vgalloc_blob *blob);
/* With VGALLOC_IMPORT_QUERY_ONLY, *query is filled (under the lock) and nothing is kept. */
int vgalloc__blob_import(struct vgalloc_device *dev, int fd,
                         const struct vgalloc_blob_import_info *info, struct vgalloc_blob **out,
                         struct vgalloc_blob_info *query);
bool vgalloc__blob_window(const struct vgalloc_device *dev, uint32_t blob_mem, uint32_t flags);
/* A memory object's or pool block's reference: one the blob API may not drop (-EBUSY). */
void vgalloc__blob_pin(struct vgalloc_device *dev, struct vgalloc_blob *blob);
/* Drop such a reference; the last reference unmaps and GEM-closes. */
void vgalloc__blob_unpin_release(struct vgalloc_device *dev, struct vgalloc_blob *blob);

/* What backs a dedicated allocation or a pool block: host memory and (maybe) its blob. */
struct vgalloc__backing {
	struct vgalloc_blob *blob;
	uint32_t maps;      /* map references to drop on the blob */
	bool token_pending; /* host work still in flight */
	bool has_host;
	uint64_t token;
	uint64_t host_handle;
	void *user_data;
};
/* Teardown in the fixed order: pending token → munmap → GEM close → host_free. */
void vgalloc__backing_release(struct vgalloc_device *dev, const struct vgalloc__backing *b);
void vgalloc__blob_destroy_all(struct vgalloc_device *dev);

/* shmem.c */
void vgalloc__shmem_init(struct vgalloc_device *dev);
int vgalloc__shmem_trim(struct vgalloc_device *dev); /* releases every cached blob */
/* Retained pool blocks and cached shmem blobs released (vgalloc_device_trim()); ≥ 0. */
int vgalloc__trim(struct vgalloc_device *dev);
/*
 * A suballocation's first map found no window room even after a trim: close its block to new
 * members and degrade its pool (docs/window-full.md). Takes the shard lock.
 */
void vgalloc__pool_map_window_full(struct vgalloc_device *dev, struct vgalloc_mem *mem);

/* Memory internals. */
void vgalloc__mem_destroy_all(struct vgalloc_device *dev);

/*
 * The policy: (traits, request) → plan. `why` is NULL on the hot path; vgalloc_plan_explain()
 * passes a text buffer and gets every decision's reason.
 */
struct vgalloc__why {
	char *buf;
	size_t size;
	size_t len;
};
void vgalloc__why(struct vgalloc__why *w, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
int vgalloc__plan(const struct vgalloc__traits *t, const struct vgalloc_request *req,
                  struct vgalloc_plan *plan, struct vgalloc__why *why);
/* Index of the memory type with this host index in t->types, or -EINVAL. */
int vgalloc__find_type(const struct vgalloc__traits *t, uint32_t host_index, uint32_t *out);

#endif
