/* SPDX-License-Identifier: MIT */
/*
 * What every file of the library uses and nothing more: arithmetic helpers, the versioned-struct
 * rule, the known-bits masks of every caller flags field, allocation through the device's
 * allocator, logging and the -errno sanitiser. Pure helpers only: no device, no locks. Nothing
 * here is installed.
 */
#ifndef VGALLOC_CORE_H
#define VGALLOC_CORE_H

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_capset.h"
#include "vgalloc/vgalloc_diag.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
#define VGALLOC__V0_HANDLE_TABLE       40u
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
	            VGALLOC_REQUEST_PRIORITY | VGALLOC_REQUEST_BLOB_ID |                 \
	            VGALLOC_REQUEST_EXACT_ALIGNMENT))
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
/* The blob flags mainline kernels take (CREATE_GUEST_HANDLE is downstream). */
#define VGALLOC__BLOB_FLAGS_MAINLINE                                           \
	((uint32_t)(VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE | \
	            VGALLOC_BLOB_FLAG_CROSS_DEVICE))

/*
 * Defaults, one list: what a zero create-info field stands for (vgalloc.h says the same next to
 * each field), and the library's fixed sizes.
 */
#define VGALLOC__DEFAULT_MIN_BLOCK     (4ull << 20)  /* min_block_size */
#define VGALLOC__DEFAULT_MIN_BLOCK_GFX (16ull << 20) /* min_block_size, gfxstream capset */
#define VGALLOC__DEFAULT_MAX_BLOCK     (32ull << 20) /* max_block_size */
#define VGALLOC__DEFAULT_MAX_SUBALLOC  (4ull << 20)  /* max_suballoc_size */
#define VGALLOC__DEFAULT_RETAIN_BYTES  (32ull << 20) /* retain_bytes */
#define VGALLOC__DEFAULT_SHARDS        4u            /* pool_shards */
#define VGALLOC__MAX_SUBALLOC_ALIGN    (4ull << 20)  /* above it a block exists for one hint */
#define VGALLOC__POOL_ALIGN_IMAGES     65536u        /* pool base: types for optimal images */
#define VGALLOC__POOL_ALIGN_DEFAULT    4096u         /* pool base: other types */
#define VGALLOC__MIN_BLOB_ALIGNMENT    4096u         /* the smallest blob alignment */
/* The window-full ladder's last block size: four 64 KiB slots still share one blob, and a
 * nearly full window (or a 1 MiB one) still has room for it (docs/window-full.md). */
#define VGALLOC__WINDOW_FLOOR_BLOCK (256ull << 10)
#define VGALLOC__SHMEM_EXPIRY_NS    (1000ull * 1000 * 1000) /* idle shmem blobs kept */
#define VGALLOC__SHMEM_MAX_CACHED   (32ull << 20)           /* bytes of idle shmem blobs */
#define VGALLOC__CAPSET_MAX         4096u      /* capset bytes kept (GET_CAPS has no length) */
#define VGALLOC__MAX_CMD_SIZE       (1u << 20) /* a CREATE_BLOB cmd, sanity bound */

/*
 * The sanity bound every caller- or kernel-given alignment meets (memory-type alignments,
 * block sizes, the host page, BLOB_ALIGNMENT): a power of two no larger than 1 GiB.
 */
#define VGALLOC__MAX_ALIGNMENT (1ull << 30)

static inline bool vgalloc__is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* An alignment a caller or the kernel gave: a power of two in [min, VGALLOC__MAX_ALIGNMENT]. */
static inline bool vgalloc__sane_alignment(uint64_t v, uint64_t min)
{
	return vgalloc__is_pow2(v) && v >= min && v <= VGALLOC__MAX_ALIGNMENT;
}

/* Param `param` of a params array with its presence mask (bit N: params[N] known), or 0. */
static inline uint64_t vgalloc__param_or_zero(const uint64_t *params, uint32_t present,
                                              uint32_t param)
{
	return (present & (1u << param)) ? params[param] : 0;
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
/* Whether a caller's output struct announces at least `need` bytes (its first word). */
bool vgalloc__struct_room(const void *dst, size_t need);

/* Allocation through the device's allocator. */
void *vgalloc__alloc(const struct vgalloc_allocator *a, size_t size, size_t align,
                     enum vgalloc_alloc_scope scope);
void vgalloc__free(const struct vgalloc_allocator *a, void *p);
void vgalloc__allocator_default(struct vgalloc_allocator *a);

/* A backend or hook answered something that is no -errno: that is an I/O error, not a value. */
static inline int vgalloc__errno(int ret)
{
	return ret > 0 || ret < -4095 ? -EIO : ret;
}

/*
 * A text being written for a caller (vgalloc_plan_explain, the stats JSON): appends printf-style,
 * counting what did not fit so the caller learns the size it needs. NULL writes nothing.
 */
struct vgalloc__why {
	char *buf;
	size_t size;
	size_t len;
};
void vgalloc__why(struct vgalloc__why *w, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* NUL-terminate a finished text and return its length (or -EOVERFLOW). */
int vgalloc__why_end(struct vgalloc__why *w);

#endif
