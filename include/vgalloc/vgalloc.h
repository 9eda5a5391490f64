/* SPDX-License-Identifier: MIT */
/*
 * libvgalloc public API: devices, blobs and memory allocations for virtio-gpu guests.
 * It decides and carries out how host-visible GPU memory reaches a guest process, so that Vulkan
 * drivers (Venus, gfxstream) share one tested implementation instead of inline copies.
 *
 * Conventions (every function below follows them):
 *  - Actions return 0 or a negative errno; constructors return the object through an out pointer
 *    and leave it untouched on error; *_destroy(NULL) does nothing.
 *  - Versioned structs start with uint32_t struct_size. A size below the struct's version-0 size
 *    is -EINVAL; a size between it and the current size is zero-extended; a larger struct whose
 *    unknown tail is not all zero is -E2BIG. Zero means "default" for fields, never for
 *    struct_size. Output structs: the library writes min(caller's size, its own) bytes and stores
 *    the number written in struct_size.
 *  - One rule for every input (request, device create-info, memory types, hooks, backend
 *    object, blob create and import infos, mock create-info, and flags passed as arguments):
 *    a field named `reserved` must be 0, and a bit that a flags field's enum does not name is
 *    -EINVAL; a later version's bit is never silently ignored. Such a call changes nothing: no
 *    state is touched, nothing is leaked, out parameters are left alone. Reserved fields of
 *    output structs and hook arguments are written as 0. docs/errors.md lists every case.
 *  - Objects (connections, devices, blobs, memory) are opaque. Blob handles live in a slab of
 *    the connection's, memory handles in slabs of the device's: a double free or a pointer that
 *    is not a live handle of that connection or device is caught and returns -EINVAL. Best effort: a stale handle whose slot has been reused by a new object of
 *    the same kind names that new object. Freed slots are reused first-in first-out, so that
 *    takes as many frees as the device has free slots.
 *  - Two objects split the state. A connection is one virtio-gpu context: its fd (or custom
 *    backend), capset and params, blobs, GEM-handle table, import dedup, shared-memory cache and
 *    blob alignment. A device is one logical device allocating through a connection: its memory
 *    types, hooks, options, pools and memory objects. Venus makes a connection per VkInstance
 *    (its renderer) and a device per VkDevice; a device created without a connection makes one of
 *    its own. Blobs are the connection's: any device on it may use any of them.
 *  - Nothing is global: connections are independent. No library lock is held across a backend
 *    (kernel) call or a host hook, except the import-dedup lock, which is held across PRIME
 *    import, RESOURCE_INFO and GEM close so that a concurrent import never receives a handle that
 *    is being closed.
 *
 * Ownership of fds and GEM handles:
 *  - Own mode: the library opens the render node (or uses the mock), owns the fd and runs
 *    CONTEXT_INIT. vgalloc_device_get_fd() lends that fd; never close it.
 *  - Adopt mode: the caller owns its fd and has initialised the context. The library never runs
 *    CONTEXT_INIT and never closes the fd.
 *  - GEM handles are per fd and the kernel returns the same handle when one dma-buf is imported
 *    twice. Therefore, in adopt mode, the consumer MUST import dma-bufs through
 *    vgalloc_blob_import_dmabuf() and hand BOs it created itself to vgalloc_blob_wrap_handle()
 *    before sharing them, and must never GEM-close a handle the library tracks: one table owns
 *    every handle's lifetime, so no close can pull a handle out from under another user.
 *  - dma-buf fds passed in are borrowed (the caller closes them, whether or not the call
 *    succeeded); fds returned by export are owned by the caller.
 */
#ifndef VGALLOC_VGALLOC_H
#define VGALLOC_VGALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vgalloc_version.h"

/* The shared library exports its entry points; the static one (built with VGALLOC_STATIC) keeps
 * them hidden, so that a consumer's own shared object, a Vulkan driver say, does not re-export
 * them when it has no version script of its own. Meson's default_library=both compiles the
 * archive from the shared library's objects, so there the archive's entry points stay visible. */
#if defined(VGALLOC_BUILDING) && defined(VGALLOC_STATIC) && defined(__GNUC__)
#define VGALLOC_API __attribute__((visibility("hidden")))
#elif defined(VGALLOC_BUILDING) && defined(__GNUC__)
#define VGALLOC_API __attribute__((visibility("default")))
#else
#define VGALLOC_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct vgalloc_connection;
struct vgalloc_device;
struct vgalloc_blob;
struct vgalloc_mem;

/* ---------------------------------------------------------------------------------------------
 * Constants. Values are stable and never renumbered.
 */

/** Backends, chosen in the device create-info. */
enum vgalloc_backend_type {
	VGALLOC_BACKEND_VIRTGPU = 1, /* the Linux virtio-gpu driver through libdrm */
	VGALLOC_BACKEND_MOCK = 2,    /* the in-process model of vgalloc_mock.h */
	VGALLOC_BACKEND_CUSTOM = 3,  /* a third-party backend (vgalloc_backend.h, unstable) */
};

/** Who owns the DRM fd and the virtio-gpu context. */
enum vgalloc_device_mode {
	VGALLOC_DEVICE_MODE_OWN = 1,
	VGALLOC_DEVICE_MODE_ADOPT = 2,
};

/** Allocation order. AUTO lets the device decide (capset, then hypervisor hint). */
enum vgalloc_alloc_mode {
	VGALLOC_ALLOC_MODE_AUTO = 0,
	VGALLOC_ALLOC_MODE_HOST_FIRST = 1,
	VGALLOC_ALLOC_MODE_GUEST_FIRST = 2,
};

/** What the consumer knows of the hypervisor; UNSET means injecting. */
enum vgalloc_hypervisor_hint {
	VGALLOC_HYPERVISOR_UNSET = 0,
	VGALLOC_HYPERVISOR_INJECTING = 1,
	VGALLOC_HYPERVISOR_STATIC = 2,
};

/** virtio-gpu GETPARAM numbers (upstream Linux numbering). */
enum vgalloc_param {
	VGALLOC_PARAM_3D_FEATURES = 1,
	VGALLOC_PARAM_CAPSET_QUERY_FIX = 2,
	VGALLOC_PARAM_RESOURCE_BLOB = 3,
	VGALLOC_PARAM_HOST_VISIBLE = 4,
	VGALLOC_PARAM_CROSS_DEVICE = 5,
	VGALLOC_PARAM_CONTEXT_INIT = 6,
	VGALLOC_PARAM_SUPPORTED_CAPSET_IDS = 7,
	VGALLOC_PARAM_EXPLICIT_DEBUG_NAME = 8,
	VGALLOC_PARAM_BLOB_ALIGNMENT = 9,
	VGALLOC_PARAM_MAX = 15, /* highest param number a create-info can supply */
};

/** RESOURCE_CREATE_BLOB blob_mem values. */
enum vgalloc_blob_mem {
	VGALLOC_BLOB_MEM_GUEST = 1,
	VGALLOC_BLOB_MEM_HOST3D = 2,
	VGALLOC_BLOB_MEM_HOST3D_GUEST = 3,
};

/** RESOURCE_CREATE_BLOB blob_flags bits. */
enum vgalloc_blob_flag {
	VGALLOC_BLOB_FLAG_MAPPABLE = 1u << 0,
	VGALLOC_BLOB_FLAG_SHAREABLE = 1u << 1,
	VGALLOC_BLOB_FLAG_CROSS_DEVICE = 1u << 2,
	/** Downstream (ChromeOS and gfxstream kernels, out of tree): a GUEST blob for which the host
	 *  makes an OS handle of the guest pages and files it under (context, blob_id). Accepted only
	 *  with blob_mem GUEST on a device whose flavour's CREATE_GUEST_HANDLE param is 1; mainline
	 *  kernels refuse it (-EINVAL). */
	VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE = 1u << 3,
};

/** Capset ids: 1..6 from the kernel UAPI, 7..9 from the gfxstream/rutabaga numbering. */
enum vgalloc_capset_id {
	VGALLOC_CAPSET_VIRGL = 1,
	VGALLOC_CAPSET_VIRGL2 = 2,
	VGALLOC_CAPSET_GFXSTREAM_VULKAN = 3,
	VGALLOC_CAPSET_VENUS = 4,
	VGALLOC_CAPSET_CROSS_DOMAIN = 5,
	VGALLOC_CAPSET_DRM = 6,
	VGALLOC_CAPSET_GFXSTREAM_MAGMA = 7,
	VGALLOC_CAPSET_GFXSTREAM_GLES = 8,
	VGALLOC_CAPSET_GFXSTREAM_COMPOSER = 9,
};

/** Memory property bits; the values are Vulkan's VkMemoryPropertyFlagBits. */
enum vgalloc_memory_property {
	VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL = 0x1,
	VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE = 0x2,
	VGALLOC_MEMORY_PROPERTY_HOST_COHERENT = 0x4,
	VGALLOC_MEMORY_PROPERTY_HOST_CACHED = 0x8,
	VGALLOC_MEMORY_PROPERTY_LAZILY_ALLOCATED = 0x10,
	VGALLOC_MEMORY_PROPERTY_PROTECTED = 0x20,
};

/** External handle types; the values are Vulkan's VkExternalMemoryHandleTypeFlagBits. */
enum vgalloc_handle_type {
	VGALLOC_HANDLE_TYPE_OPAQUE_FD = 0x1,
	VGALLOC_HANDLE_TYPE_DMA_BUF = 0x200,
};

/** Allocate flags; the values are Vulkan's VkMemoryAllocateFlagBits. */
enum vgalloc_allocate_flag {
	VGALLOC_ALLOCATE_DEVICE_MASK = 0x1,
	VGALLOC_ALLOCATE_DEVICE_ADDRESS = 0x2,
	VGALLOC_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY = 0x4,
	VGALLOC_ALLOCATE_ZERO_INITIALIZE = 0x8,
};

/** Log levels for the per-device log callback. */
enum vgalloc_log_level {
	VGALLOC_LOG_ERROR = 1,
	VGALLOC_LOG_WARN = 2,
	VGALLOC_LOG_INFO = 3,
	VGALLOC_LOG_DEBUG = 4,
};

/** How an allocation reaches (or does not reach) guest memory. */
enum vgalloc_path {
	VGALLOC_PATH_HOST_ONLY = 1,        /* host allocation, no blob ever (not host-visible) */
	VGALLOC_PATH_HOST_FIRST_LAZY = 2,  /* host allocation now, blob at first map */
	VGALLOC_PATH_HOST_FIRST_EAGER = 3, /* host allocation, wait, blob now (export) */
	VGALLOC_PATH_GUEST_FIRST = 4,      /* blob, round trip, host import */
	VGALLOC_PATH_IMPORT = 5,           /* dma-buf import, round trip, host import */
	/**
	 * Guest-handle (an exported dedicated image on a device whose flavour's CREATE_GUEST_HANDLE
	 * param is 1; under the gfxstream flavour also every host-visible allocation that is not
	 * exported, as gfxstream's own driver does): the memory is guest pages and the host works on
	 * an OS handle it made of them. vgalloc_mem_alloc: new_blob_id; CREATE_BLOB(GUEST,
	 * MAPPABLE|CREATE_GUEST_HANDLE, plus SHAREABLE when exported, blob_id, size rounded to the
	 * blob alignment); host_roundtrip, which for this path is the
	 * consumer's placeholder submit and its wait (gfxstream: a no-op command on its context
	 * ring, then a wait, so the renderer has filed the handle before anything names it);
	 * host_import(res_id, size, blob_id) (gfxstream: the host allocation that takes the handle
	 * by blob_id). First vgalloc_mem_map: MAP + mmap of the GUEST blob. vgalloc_mem_free: the
	 * fixed order, host_wait while the import is pending → munmap → GEM close → host_free.
	 * A failure after CREATE_BLOB closes the blob again; nothing is left on either side.
	 */
	VGALLOC_PATH_GUEST_HANDLE = 6,
	VGALLOC_PATH_UNSUPPORTED = 7, /* the device cannot allocate this (plan only) */
};

/** Param numbering, a create-info setting: it cannot be detected at run time. */
enum vgalloc_flavour {
	VGALLOC_FLAVOUR_UPSTREAM = 0, /* mainline Linux: 9 = BLOB_ALIGNMENT */
	VGALLOC_FLAVOUR_CHROMEOS =
	        1, /* 8 CREATE_GUEST_HANDLE, 9 RESOURCE_SYNC, 10 GUEST_VRAM, 11 QUERY_DEV */
	VGALLOC_FLAVOUR_GFXSTREAM = 2, /* 9 CREATE_FENCE_PASSING, 10 CREATE_GUEST_HANDLE */
};

/* ---------------------------------------------------------------------------------------------
 * Create-info pieces.
 */

/**
 * How long a bookkeeping allocation lives. The values are Vulkan's VkSystemAllocationScope, so a
 * driver can pass them on to pfnAllocation unchanged.
 */
enum vgalloc_alloc_scope {
	VGALLOC_SCOPE_COMMAND = 0,  /* freed before the library call that made it returns */
	VGALLOC_SCOPE_OBJECT = 1,   /* lives as long as one memory object or pool block */
	VGALLOC_SCOPE_CACHE = 2,    /* records kept for reuse by a pool; freed with the pool */
	VGALLOC_SCOPE_DEVICE = 3,   /* lives until vgalloc_device_destroy() */
	VGALLOC_SCOPE_INSTANCE = 4, /* lives as long as the connection (the fd's state) */
};

/**
 * Bookkeeping allocator. Every byte the library keeps for itself goes through it, so a driver can
 * route it through VkAllocationCallbacks. alloc returns NULL on failure (the library then
 * returns -ENOMEM); alignment is a power of two ≤ 64; scope is an enum vgalloc_alloc_scope.
 * free(NULL) is never called. Both are called from any thread that calls into the device.
 */
struct vgalloc_allocator {
	void *user;
	void *(*alloc)(void *user, size_t size, size_t alignment, uint32_t scope);
	void (*free)(void *user, void *ptr);
};

/**
 * Log callback, called with a NUL-terminated line (no trailing newline) for messages at or below
 * the device's log level. Called from the thread that made the call; never with a lock held.
 */
typedef void (*vgalloc_log_fn)(void *user, enum vgalloc_log_level level, const char *msg);

/** Most entries of a memory type's size-alignment table. */
#define VGALLOC_MAX_SIZE_ALIGNMENTS 8u

/** One entry of a memory type's size-alignment table. */
struct vgalloc_size_alignment {
	uint64_t max_size;  /* resources of at most this many bytes ... */
	uint64_t alignment; /* ... never require a larger alignment than this */
};

/**
 * One host memory type as the consumer learned it from the host. Version 1 (version 0: 48
 * bytes, without the size-alignment table).
 *
 * Suballocation offsets are aligned to what any resource bound to the memory can require. That
 * is base_alignment: the largest alignment of any buffer or image the host lets the consumer bind
 * to this type (Venus: the maximum over the host's buffer and image memory requirements), or,
 * when 0, a guess: 64 KiB for types that can back optimal images, 4 KiB otherwise. Vulkan does not
 * bound alignment by size, so a size-dependent rule comes only from the consumer, who vouches for
 * it: size_alignments[i] says that no resource of at most max_size bytes needs more than
 * alignment, so an allocation of at most max_size bytes is aligned to that (the first entry whose
 * max_size covers the allocation's size; larger allocations take base_alignment). Entries are
 * sorted by max_size, strictly ascending; alignments are powers of two, non-decreasing and at
 * most the base alignment in force (base_alignment, or the guess when it is 0). Offsets are never aligned below min_map_alignment, non_coherent_atom_size
 * or buffer_image_granularity.
 */
struct vgalloc_memory_type {
	uint32_t struct_size;
	uint32_t host_index;               /* the host's memory type index */
	uint32_t property_flags;           /* enum vgalloc_memory_property (no other bit) */
	uint32_t flags;                    /* enum vgalloc_memory_type_flag */
	uint64_t min_map_alignment;        /* minMemoryMapAlignment */
	uint64_t non_coherent_atom_size;   /* nonCoherentAtomSize */
	uint64_t buffer_image_granularity; /* bufferImageGranularity */
	uint64_t base_alignment;           /* largest alignment of any resource; 0 = guess */
	/* --- appended after version 0 (48 bytes) --- */
	uint32_t size_alignment_count; /* entries used, ≤ VGALLOC_MAX_SIZE_ALIGNMENTS */
	uint32_t reserved;             /* must be 0 */
	struct vgalloc_size_alignment size_alignments[VGALLOC_MAX_SIZE_ALIGNMENTS];
};

enum vgalloc_memory_type_flag {
	VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES = 1u << 0, /* can back optimal-tiling images */
};

/** What a host allocation is for (vgalloc_host_alloc_args.flags). */
enum vgalloc_host_args_flag {
	/** A pool block the library makes to suballocate from: user_data is NULL, the sizes are
	 *  the block's, and the memory type and allocate flags are those of its pool (the request
	 *  that needed the block has them too). */
	VGALLOC_HOST_ARGS_BLOCK = 1u << 0,
	/** The allocation has a blob of its own for one request (dedicated, export, import). */
	VGALLOC_HOST_ARGS_DEDICATED = 1u << 1,
};

/**
 * Arguments of host_alloc and host_import, written by the library, valid only during the hook
 * call. struct_size is the library's size: a consumer built against a later header reads a field
 * only when struct_size covers it. Version 0.
 */
struct vgalloc_host_alloc_args {
	uint32_t struct_size;
	uint32_t flags;          /* enum vgalloc_host_args_flag: exactly one of BLOCK, DEDICATED */
	uint32_t memory_type;    /* host memory type index */
	uint32_t allocate_flags; /* enum vgalloc_allocate_flag */
	uint32_t blob_flags;     /* flags the blob carries or will carry (enum vgalloc_blob_flag) */
	uint32_t res_id;         /* host_import: the resource to import; host_alloc: 0 */
	/** Bytes of the blob, rounded to the blob alignment (a block: the block's size; the
	 *  import path: the request's size, rounded). What a pool block allocates or imports. */
	uint64_t size;
	/** The request's exact size (Vulkan's allocationSize; ≤ size). What a dedicated allocation
	 *  sends the host: memory dedicated to a resource must match its requirement. A block:
	 *  equal to size. The import path: the bytes the request imports. */
	uint64_t requested_size;
	/** host_alloc: tag the host allocation with this id (the blob made from it later names
	 *  it). host_import: the id the blob was created with (guest-handle: the id the host filed
	 *  the OS handle under; the import path: a fresh id from new_blob_id, the blob being
	 *  someone else's). */
	uint64_t blob_id;
};

enum vgalloc_host_result_flag {
	/** `token` names host work still in flight. Without it nothing is pending and `token` is
	 *  ignored: every 64-bit value, 0 included, is a legal token. */
	VGALLOC_HOST_RESULT_PENDING = 1u << 0,
	/** host_alloc only: `blob_id` is the id the host chose for the allocation (gfxstream
	 *  without deferredMapping); the blob made from it is created with that id instead of
	 *  args->blob_id. From host_import it is an invalid answer. */
	VGALLOC_HOST_RESULT_BLOB_ID = 1u << 1,
};

/**
 * What host_alloc and host_import answer. The library zeroes it and sets struct_size (its own
 * size) before the call; the hook fills in what it has. A flag bit the enum does not name is an
 * invalid answer: the call then fails with -EIO and the host allocation is freed (host_free).
 * Version 0.
 */
struct vgalloc_host_result {
	uint32_t struct_size;
	uint32_t flags;       /* enum vgalloc_host_result_flag */
	uint64_t host_handle; /* opaque, passed back to host_free; any value */
	uint64_t token;       /* with VGALLOC_HOST_RESULT_PENDING */
	uint64_t blob_id;     /* with VGALLOC_HOST_RESULT_BLOB_ID; not 0 */
};

/** Flags of the host_wait hook's call. */
enum vgalloc_wait_flag {
	/**
	 * Ordering suffices: what the library does next is a kernel call on the device's fd
	 * (CREATE_BLOB, MAP, GEM close: virtio-gpu runs them in submission order) or, with
	 * VGALLOC_HOOKS_IN_ORDER, host_free. The hook may submit the wait to the host so that the
	 * host processes `token` before anything submitted after it, and return without blocking
	 * (Venus: a vkWaitRingSeqnoMESA in an EXECBUFFER). Without this flag the hook returns only
	 * once the host has processed `token`.
	 */
	VGALLOC_WAIT_ORDER = 1u << 0,
};

/** Hooks table flags: what the consumer's protocol guarantees. */
enum vgalloc_hooks_flag {
	/**
	 * The host runs host_alloc, host_import, host_free and host_roundtrip in the order the
	 * hooks make them (one in-order queue: Venus's ring), and host_roundtrip returns once the
	 * host has processed everything queued before it. Then (1) a memory object freed before it
	 * ever got a blob makes no wait: its host_free runs after its host_alloc anyway; (2) a
	 * token issued before a completed host_roundtrip is complete, so its release makes no
	 * wait; (3) a release that must wait (a blob is still pending on the host) passes
	 * VGALLOC_WAIT_ORDER.
	 */
	VGALLOC_HOOKS_IN_ORDER = 1u << 0,
};

/**
 * The consumer's protocol, as hooks. The library never speaks Venus or gfxstream; it calls these
 * in the order each path needs (documented per path in README.md and tested against the mock's
 * host, which rejects a wrong order). Every hook receives `ctx`; per-allocation hooks also receive
 * the request's user_data (NULL for blocks the library creates on its own). Hooks may block; the
 * library holds no lock while calling them. Version 0.
 *
 * Where each hook runs: always on the thread that made the library call, inside it.
 *  - new_blob_id, host_alloc, host_import, host_roundtrip: inside vgalloc_mem_alloc() (the
 *    allocation's own backing, or a pool block the request needs), and, host-first lazy,
 *    host_wait inside vgalloc_mem_map(). A request's host_alloc and host_import (flag
 *    DEDICATED) run only inside that request's vgalloc_mem_alloc(), so per-request data the
 *    consumer keeps beside user_data (Venus: the app's pNext chain) is valid there. A block's
 *    (flag BLOCK) also runs inside the vgalloc_mem_alloc() of the request that needs it, but
 *    the block outlives that request: it must use nothing of it beyond the args.
 *  - host_wait, host_roundtrip (a blob the renderer may not have processed yet) and host_free
 *    at release: inside vgalloc_mem_free() of the allocation — for a pool block, of its last
 *    suballocation, or later inside vgalloc_device_trim(), the ENOSPC retry of any allocating
 *    call, or vgalloc_device_destroy() (retained blocks). A block whose last suballocation's
 *    free was queued (vgalloc_mem_free) is released by the call that completes the queue: a
 *    vgalloc_mem_alloc() from that pool shard or a vgalloc_mem_free() of another suballocation
 *    of it, on whichever thread makes it. Statistics calls never release. user_data is the
 *    request's (NULL for a block).
 */
struct vgalloc_host_hooks {
	uint32_t struct_size;
	uint32_t flags; /* enum vgalloc_hooks_flag */
	void *ctx;
	/** A fresh blob id (Venus: its object id; gfxstream: its counter). Called first on every
	 *  path that creates a host allocation or blob, unless the request carries its own id. */
	uint64_t (*new_blob_id)(void *ctx);
	/** Queue a host allocation tagged with args->blob_id: 0 and *out filled in, or -errno
	 *  (then nothing was allocated). */
	int (*host_alloc)(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
	                  struct vgalloc_host_result *out);
	/** Make sure the host has processed `token` (a token a result marked PENDING): block, or,
	 *  with VGALLOC_WAIT_ORDER in `flags`, order the wait ahead of what follows. When `cmd` is
	 *  not NULL the hook may instead write up to *inout_cmd_size bytes of a wait command (a
	 *  multiple of 4), which the library passes as CREATE_BLOB's cmd; it stores the number of
	 *  bytes written in *inout_cmd_size, 0 when it waited or ordered itself. cmd and
	 *  inout_cmd_size are both NULL or both not. */
	int (*host_wait)(void *ctx, uint64_t token, uint32_t flags, void *cmd,
	                 uint32_t *inout_cmd_size);
	/** Guest-first and import: the renderer has seen every resource created so far.
	 *  Guest-handle: the placeholder submit and its wait (the renderer has filed the handle of
	 *  every GUEST blob created so far). At release, before host_free of memory whose blob the
	 *  renderer may not have processed yet (no round trip or successful map since its
	 *  CREATE_BLOB: an exported blob never mapped, a failed first map): what follows on the
	 *  host queue then comes after the blob's creation. */
	int (*host_roundtrip)(void *ctx);
	/** Queue a host allocation that imports resource args->res_id (guest-handle: the OS handle
	 *  the host filed under args->blob_id). Same outputs as host_alloc, without BLOB_ID. */
	int (*host_import)(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
	                   struct vgalloc_host_result *out);
	/** Free a host allocation. Called last in teardown, after its blob is gone. Cannot fail. */
	void (*host_free)(void *ctx, void *user_data, uint64_t host_handle);
};

/**
 * A consumer's GEM-handle table, for adopt mode (optional). A driver that keeps its own table of
 * BOs by GEM handle (Venus: WSI memory, implicit-fence lists) can move import and export into the
 * library one path at a time: the kernel hands out one handle per buffer per fd, so two tables on
 * one fd must never both close it. With this table, every GEM handle the library holds is a
 * reference in the consumer's table, and only the table GEM-closes:
 *  - import: PRIME-import `fd` through the table, which dedups by handle and counts one
 *    reference for the library; 0 and *out_handle (never 0), or -errno (then nothing is held).
 *  - ref: add one reference for the library to `handle` (a blob the library created, or a
 *    handle given to vgalloc_blob_wrap_handle()), entering it if the table lacks it; 0 or
 *    -errno (then nothing is held and the library closes a handle it created).
 *  - unref: drop one of the library's references; the table GEM-closes the handle when no
 *    reference is left. Cannot fail.
 * The library calls them under its import lock (never two at once for one device), from any
 * thread that calls into it. The table itself must serialise them with the consumer's own
 * imports and closes (one lock around PRIME import, lookup and close), and the consumer must not
 * call into the library while it holds that lock: the library takes its import lock first, then
 * the table's. Version 0.
 */
struct vgalloc_handle_table {
	uint32_t struct_size;
	uint32_t reserved; /* must be 0 */
	void *ctx;
	int (*import)(void *ctx, int fd, uint32_t *out_handle);
	int (*ref)(void *ctx, uint32_t handle);
	void (*unref)(void *ctx, uint32_t handle);
};

/** Largest wait command host_wait may write. */
#define VGALLOC_MAX_WAIT_CMD_SIZE 64u

/** Device create-info flags. */
enum vgalloc_device_flag {
	VGALLOC_DEVICE_PLACED_MAPS = 1u << 0,   /* the app enabled memoryMapPlaced */
	VGALLOC_DEVICE_ALLOW_ENV = 1u << 1,     /* honour VGALLOC_* environment overrides */
	VGALLOC_DEVICE_NO_SUBALLOC = 1u << 2,   /* never suballocate */
	VGALLOC_DEVICE_CONTEXT_READY = 1u << 3, /* adopt: the caller ran CONTEXT_INIT (required) */
	/** A downstream kernel with GUEST_VRAM blobs (blob_mem 4) is configured: guest-first. */
	VGALLOC_DEVICE_GUEST_VRAM = 1u << 4,
	/** Own mode, after CONTEXT_INIT, with a Venus capset that supports blob_id 0: create, map
	 *  and free one HOST3D MAPPABLE blob of the blob alignment's size, so a host that cannot map
	 *  our blobs fails device creation instead of every later allocation. */
	VGALLOC_DEVICE_SELF_TEST = 1u << 5,
};

/**
 * How to create a device. Version 3 (version 0: 248 bytes; 1: 296, without handle_table; 2: 304,
 * without connection).
 * Own mode: backend_object (mock/custom) or the render node found by the backend; capset_id is
 * the context to initialise; num_rings and debug_name go to CONTEXT_INIT (debug_name only when
 * the kernel reports EXPLICIT_DEBUG_NAME = 1).
 * Adopt mode: fd (borrowed; virtgpu backend) or backend_object, capset_id of the caller's
 * context, capset bytes and params the caller already read (params_present bit N = params[N] is
 * valid); anything not supplied is read with GETPARAM/GET_CAPS, which create no context.
 */
struct vgalloc_device_create_info {
	uint32_t struct_size;
	uint32_t backend;        /* enum vgalloc_backend_type */
	uint32_t mode;           /* enum vgalloc_device_mode */
	uint32_t flags;          /* enum vgalloc_device_flag */
	void *backend_object;    /* MOCK: struct vgalloc_mock *; CUSTOM: see vgalloc_backend.h */
	int fd;                  /* VIRTGPU adopt: the caller's DRM fd (borrowed) */
	uint32_t capset_id;      /* enum vgalloc_capset_id */
	const void *capset_data; /* adopt: capset bytes the caller read (copied); NULL = read */
	uint32_t capset_size;
	uint32_t params_present; /* bit N: params[N] supplied */
	uint64_t params[VGALLOC_PARAM_MAX + 1];
	uint32_t alloc_mode;                            /* enum vgalloc_alloc_mode */
	uint32_t hypervisor_hint;                       /* enum vgalloc_hypervisor_hint */
	uint32_t num_rings;                             /* own mode CONTEXT_INIT; 0 = not sent */
	uint32_t log_level;                             /* enum vgalloc_log_level; 0 = silent */
	const char *debug_name;                         /* own mode; copied */
	const struct vgalloc_memory_type *memory_types; /* stride = memory_types[0].struct_size */
	uint32_t memory_type_count;
	uint32_t reserved;                         /* must be 0 */
	const struct vgalloc_host_hooks *hooks;    /* copied; required for vgalloc_mem_* */
	const struct vgalloc_allocator *allocator; /* copied; NULL = malloc */
	vgalloc_log_fn log_fn;
	void *log_user;
	/* --- appended after version 0 (248 bytes) --- */
	uint32_t flavour;           /* enum vgalloc_flavour */
	uint32_t host_page_size;    /* the host's page size when known; 0 = unknown */
	uint64_t max_suballoc_size; /* larger requests get their own blob; 0 = 4 MiB */
	uint32_t reserved1;         /* must be 0 */
	uint32_t pool_shards;       /* lock shards per pool; 0 = 4 */
	/* Empty blocks kept per pool (queued frees and statistics calls may keep more until the
	 * next trim): 0 = 32 MiB, UINT64_MAX = all. */
	uint64_t retain_bytes;
	uint64_t min_block_size; /* smallest block; 0 = 4 MiB (gfxstream: 16 MiB) */
	uint64_t max_block_size; /* largest block; 0 = 32 MiB */
	/* --- appended after version 1 (296 bytes) --- */
	/** Adopt mode: the consumer's GEM-handle table (copied); NULL = the library owns the
	 *  handles it holds and GEM-closes them itself. */
	const struct vgalloc_handle_table *handle_table;
	/* --- appended after version 2 (304 bytes) --- */
	/** A connection from vgalloc_connection_create() to join (borrowed; the device holds a
	 *  reference of its own): the device allocates through its fd, context, GEM-handle table and
	 *  blobs. Then everything the connection was created with must be left 0 here: backend,
	 *  mode, backend_object, capset_data, capset_size, params_present, num_rings, debug_name,
	 *  handle_table, flavour, host_page_size and the flags CONTEXT_READY, GUEST_VRAM and
	 *  SELF_TEST; capset_id is 0 or the connection's; fd is not read. NULL = the device makes a
	 *  connection of its own from this create-info, which no other device can join. */
	struct vgalloc_connection *connection;
};

/* ---------------------------------------------------------------------------------------------
 * Connection: one virtio-gpu context shared by the devices that join it.
 */

/**
 * How to create a connection. Version 0. The fields mean what the device create-info's of the
 * same names mean (own and adopt mode, backend, capset, params, context, handle table); flags may
 * hold VGALLOC_DEVICE_CONTEXT_READY, _GUEST_VRAM, _SELF_TEST and _ALLOW_ENV (the environment's
 * log level). allocator, log_fn and log_user serve the connection's own bookkeeping and messages;
 * each device keeps its own.
 */
struct vgalloc_connection_create_info {
	uint32_t struct_size;
	uint32_t backend;        /* enum vgalloc_backend_type */
	uint32_t mode;           /* enum vgalloc_device_mode */
	uint32_t flags;          /* enum vgalloc_device_flag: the four above */
	void *backend_object;    /* MOCK: struct vgalloc_mock *; CUSTOM: see vgalloc_backend.h */
	int fd;                  /* VIRTGPU adopt: the caller's DRM fd (borrowed) */
	uint32_t capset_id;      /* enum vgalloc_capset_id */
	const void *capset_data; /* adopt: capset bytes the caller read (copied); NULL = read */
	uint32_t capset_size;
	uint32_t params_present; /* bit N: params[N] supplied */
	uint64_t params[VGALLOC_PARAM_MAX + 1];
	uint32_t num_rings;      /* own mode CONTEXT_INIT; 0 = not sent */
	uint32_t log_level;      /* enum vgalloc_log_level; 0 = silent */
	uint32_t flavour;        /* enum vgalloc_flavour */
	uint32_t host_page_size; /* the host's page size when known; 0 = unknown */
	const char *debug_name;  /* own mode; copied */
	/** Adopt mode: the consumer's GEM-handle table (copied); NULL = the library's own. */
	const struct vgalloc_handle_table *handle_table;
	const struct vgalloc_allocator *allocator; /* copied; NULL = malloc */
	vgalloc_log_fn log_fn;
	void *log_user;
};

/**
 * Create a connection: what vgalloc_device_create() does for the fd (probe, CONTEXT_INIT in own
 * mode, params, capset, blob alignment, the optional self-test), once, for every device that
 * joins it through vgalloc_device_create_info.connection.
 * Ownership: the caller holds *out_conn until vgalloc_connection_destroy(); each device that
 * joins holds a reference of its own, so the connection (and in own mode its fd) lives until the
 * caller has destroyed it and its last device is gone, whichever comes last. The backend object
 * and an adopted fd are borrowed as in vgalloc_device_create() and must outlive the connection.
 * Thread safety: any thread; devices may join it from any thread, concurrently.
 * Return: 0; -EINVAL (NULL, bad struct_size, an enum or flag bit it does not take, what
 *         vgalloc_device_create() refuses in the same fields); -E2BIG; -EOPNOTSUPP; -ENOMEM;
 *         -EEXIST; -EIO; any -errno from the backend's probe — as vgalloc_device_create().
 */
VGALLOC_API int vgalloc_connection_create(const struct vgalloc_connection_create_info *info,
                                          struct vgalloc_connection **out_conn);

/**
 * Give up the caller's reference. The connection goes when its last device is destroyed (then its
 * remaining blobs are freed, each logged as a leak at WARN, and an own-mode fd is closed); its
 * devices keep working until then. Devices may not join it after this call.
 * Ownership: consumes the caller's reference. Thread safety: no other call may use conn as the
 * caller's (no join) concurrently; its devices may run.
 */
VGALLOC_API void vgalloc_connection_destroy(struct vgalloc_connection *conn);

/**
 * The DRM fd of the connection, lent (never close it).
 * Thread safety: any thread. Return: the fd (≥ 0); -EINVAL (NULL); -ENODEV (the backend has no fd).
 */
VGALLOC_API int vgalloc_connection_get_fd(const struct vgalloc_connection *conn);

/* ---------------------------------------------------------------------------------------------
 * Device.
 */

/**
 * Create a device. Without `connection`, it makes a connection of its own first: probe (own mode:
 * 3D_FEATURES, CAPSET_QUERY_FIX, RESOURCE_BLOB, CONTEXT_INIT and the capset in
 * SUPPORTED_CAPSET_IDs are required), initialise the context (own mode only), read missing params
 * and the capset, derive the blob alignment. With one, it joins it and reads nothing.
 * Ownership: the caller owns *out_dev and destroys it with vgalloc_device_destroy(); the device
 * holds a reference to its connection. In adopt mode the fd stays the caller's. The mock or
 * custom backend object is borrowed (never destroyed by the library) and must outlive the
 * device's connection.
 * Thread safety: any thread; the create-info is only read during the call.
 * Return: 0; -EINVAL (NULL pointers, bad struct_size, bad enum, adopt without CONTEXT_READY,
 *         an alignment, block size or host page that is no power of two of at most 1 GiB
 *         (block sizes and the host page at least 4 KiB), an unknown bit in flags or in a
 *         memory type's flags or property_flags, a non-zero reserved field in the create-info,
 *         the hooks or the backend object); -E2BIG (unknown non-zero tail);
 *         -EOPNOTSUPP (no virtio-gpu render node, or the kernel lacks a required feature or
 *         the capset); -ENOMEM; -EEXIST
 *         (own mode: the fd already has a context); -EIO (the kernel or host answered something
 *         invalid); any -errno from the backend's probe.
 */
VGALLOC_API int vgalloc_device_create(const struct vgalloc_device_create_info *info,
                                      struct vgalloc_device **out_dev);

/**
 * Destroy a device. Its live memory objects and pool blocks are freed first (each logged as a
 * leak at WARN), in the fixed teardown order. When it holds the last reference to its connection
 * (always, for a device made without one), the connection goes too: its remaining blobs are freed
 * (logged as leaks) and, in own mode, the fd is closed; adopt mode never closes it.
 * Ownership: consumes dev. Thread safety: no other call on dev may run concurrently.
 */
VGALLOC_API void vgalloc_device_destroy(struct vgalloc_device *dev);

/**
 * The DRM fd the device works on, lent to the caller (never close it); host hooks must use the
 * context on this fd.
 * Thread safety: any thread. Return: the fd (≥ 0); -EINVAL (dev NULL); -ENODEV (the backend has
 * no fd).
 */
VGALLOC_API int vgalloc_device_get_fd(const struct vgalloc_device *dev);

/**
 * Read a param as the device knows it (supplied, or read at create).
 * Thread safety: any thread.
 * Return: 0 and *value; -EINVAL (NULL, param > VGALLOC_PARAM_MAX); -ENOENT (the kernel does not
 *         have it).
 */
VGALLOC_API int vgalloc_device_get_param(const struct vgalloc_device *dev, uint32_t param,
                                         uint64_t *value);

/** Device facts after create. Output struct, version 1 (version 0: 48 bytes). */
struct vgalloc_device_info {
	uint32_t struct_size;
	uint32_t backend;    /* enum vgalloc_backend_type */
	uint32_t mode;       /* enum vgalloc_device_mode */
	uint32_t alloc_mode; /* enum vgalloc_alloc_mode: HOST_FIRST or GUEST_FIRST */
	uint32_t capset_id;
	uint32_t capset_size; /* bytes held */
	uint64_t blob_alignment;
	uint32_t flags; /* enum vgalloc_device_flag in force */
	uint32_t memory_type_count;
	uint32_t has_host_visible; /* HOST_VISIBLE param */
	uint32_t has_cross_device; /* CROSS_DEVICE param */
	/* --- appended after version 0 (48 bytes) --- */
	uint32_t flavour;             /* enum vgalloc_flavour */
	uint32_t mode_reason;         /* enum vgalloc_mode_reason: why alloc_mode is what it is */
	uint32_t guest_vram;          /* GUEST_VRAM blobs (blob_mem 4) in use */
	uint32_t create_guest_handle; /* the flavour's CREATE_GUEST_HANDLE param is 1 */
	uint64_t max_suballoc_size;
	uint64_t retain_bytes;
	uint64_t min_block_size;
	uint64_t max_block_size;
	uint32_t pool_shards;
	uint32_t reserved;
};

/** Why a device allocates host-first or guest-first (DESIGN order of precedence). */
enum vgalloc_mode_reason {
	VGALLOC_MODE_REASON_ENV = 1,        /* VGALLOC_ALLOC_MODE, with VGALLOC_DEVICE_ALLOW_ENV */
	VGALLOC_MODE_REASON_OVERRIDE = 2,   /* create-info alloc_mode */
	VGALLOC_MODE_REASON_GUEST_VRAM = 3, /* configured GUEST_VRAM blobs */
	VGALLOC_MODE_REASON_CAPSET = 4,     /* Venus capset use_guest_vram = 1 */
	VGALLOC_MODE_REASON_HINT = 5,       /* create-info hypervisor_hint = STATIC */
	VGALLOC_MODE_REASON_DEFAULT = 6,    /* nothing says otherwise: host-first */
};

/**
 * Describe the device. Output struct: writes min(info->struct_size, own size).
 * Thread safety: any thread. Return: 0; -EINVAL (NULL, struct_size < version-0 size).
 */
VGALLOC_API int vgalloc_device_get_info(const struct vgalloc_device *dev,
                                        struct vgalloc_device_info *info);

/**
 * Release every retained empty block of every pool and every cached shared-memory blob (the
 * backend calls of their teardown). The library does this by itself once on -ENOSPC before
 * retrying. Also lifts the window-full ladder (docs/window-full.md): pools that were making
 * smaller blocks or blobs of their own make blocks of their planned size again.
 * Thread safety: any thread.
 * Return: the number of blocks and cached blobs released (≥ 0); -EINVAL.
 */
VGALLOC_API int vgalloc_device_trim(struct vgalloc_device *dev);

/* ---------------------------------------------------------------------------------------------
 * Blobs: one virtio-gpu resource each (res_id, GEM handle, real size, at most one mapping).
 */

/** Version 0. */
struct vgalloc_blob_create_info {
	uint32_t struct_size;
	uint32_t blob_mem;   /* enum vgalloc_blob_mem */
	uint32_t blob_flags; /* enum vgalloc_blob_flag */
	uint32_t cmd_size;   /* bytes at cmd, a multiple of 4 */
	uint64_t size;       /* rounded up to the device's blob alignment */
	uint64_t blob_id;
	const void *cmd; /* executed by the host before the resource is created */
};

/**
 * Create a blob (RESOURCE_CREATE_BLOB). The size is rounded up to the blob alignment.
 * Ownership: the caller owns *out_blob (refcount 1) and drops it with vgalloc_blob_destroy().
 * Thread safety: any thread.
 * Return: 0; -EINVAL (NULL, size 0 or overflowing when rounded, bad blob_mem or flags, cmd_size
 *         not a multiple of 4 or cmd NULL with cmd_size, GUEST with cmd, GUEST with blob_id
 *         but without CREATE_GUEST_HANDLE, CREATE_GUEST_HANDLE on another blob_mem than GUEST);
 *         -E2BIG; -EOPNOTSUPP (the device lacks 3D, CROSS_DEVICE, CREATE_GUEST_HANDLE or a
 *         host-visible window for these flags); -ENOSPC (host-visible window full); -ENOMEM;
 *         -EIO (the kernel answered an invalid handle or resource id); other -errno from the
 *         kernel.
 */
VGALLOC_API int vgalloc_blob_create(struct vgalloc_device *dev,
                                    const struct vgalloc_blob_create_info *info,
                                    struct vgalloc_blob **out_blob);

/**
 * Map the whole blob (MAP + mmap on first use; later calls return the same address and count).
 * Host-side failures (an unprocessed or refused host allocation) surface here as -EINVAL.
 * Ownership: the mapping belongs to the blob; pair each successful map with vgalloc_blob_unmap().
 * Thread safety: any thread; concurrent first maps perform one backend mapping.
 * Return: 0 and *out_ptr; -EINVAL (NULL, not a live blob, not MAPPABLE, or the host refused the
 *         mapping); -ENOMEM; other -errno from the kernel.
 */
VGALLOC_API int vgalloc_blob_map(struct vgalloc_device *dev, struct vgalloc_blob *blob,
                                 void **out_ptr);

/**
 * Drop one map reference; the last one unmaps. A shared-memory blob's own mapping is not the
 * caller's to drop.
 * Thread safety: any thread. Return: 0; -EINVAL (NULL, not a live blob, not mapped, or only a
 *         shared-memory blob's own mapping left).
 */
VGALLOC_API int vgalloc_blob_unmap(struct vgalloc_device *dev, struct vgalloc_blob *blob);

/**
 * Export the blob as a dma-buf (PRIME, O_CLOEXEC, plus O_RDWR when MAPPABLE).
 * Ownership: *out_fd is the caller's to close. Thread safety: any thread.
 * Return: 0; -EINVAL (NULL, not a live blob, not SHAREABLE); -EMFILE/-ENFILE/-ENOMEM and other
 *         -errno from the kernel; -EIO (the kernel returned an invalid fd).
 */
VGALLOC_API int vgalloc_blob_export_dmabuf(struct vgalloc_device *dev, struct vgalloc_blob *blob,
                                           int *out_fd);

enum vgalloc_import_flag {
	/** Look only (vkGetMemoryFdPropertiesKHR): the dedup table is left exactly as it was. */
	VGALLOC_IMPORT_QUERY_ONLY = 1u << 0,
};

/** Version 0. */
struct vgalloc_blob_import_info {
	uint32_t struct_size;
	uint32_t blob_flags; /* flags the caller needs the blob to have (e.g. MAPPABLE) */
	uint64_t size;       /* bytes the caller needs; 0 = any */
	uint32_t flags;      /* enum vgalloc_import_flag */
	uint32_t reserved;   /* must be 0 */
};

/**
 * Import a dma-buf (PRIME fd → handle, RESOURCE_INFO), dedup'd by GEM handle: importing a buffer
 * the device already holds returns the same blob with its refcount raised. A non-blob resource,
 * another blob_mem than the device's, a re-import needing a larger size or flags the blob lacks
 * are refused and change nothing. VGALLOC_IMPORT_QUERY_ONLY is refused here (-EINVAL): use
 * vgalloc_blob_query_dmabuf().
 * Ownership: fd is borrowed (close it yourself, on success and on error); the caller owns one
 * reference of *out_blob.
 * Thread safety: any thread; serialised by the import-dedup lock.
 * Return: 0; -EINVAL (NULL, fd < 0 or not a dma-buf of this device, closed fd, size or flags
 *         mismatch, unknown flag bits, reserved not 0, non-blob resource); -E2BIG; -ENOMEM
 *         (also: a GEM handle above 2^24, which no real kernel hands out); -EIO
 *         (RESOURCE_INFO answered nonsense); any other -errno the kernel returns for the PRIME
 *         import or RESOURCE_INFO.
 */
VGALLOC_API int vgalloc_blob_import_dmabuf(struct vgalloc_device *dev, int fd,
                                           const struct vgalloc_blob_import_info *info,
                                           struct vgalloc_blob **out_blob);

/**
 * Hand a GEM handle the consumer created on the device's fd (adopt mode) to the dedup table. The
 * library checks it with RESOURCE_INFO. If the handle is already tracked, the existing blob's
 * refcount is raised and returned.
 * Ownership: on success the library owns the handle and GEM-closes it when the last reference
 * goes; on error the caller still owns it.
 * Thread safety: any thread. Return: as vgalloc_blob_import_dmabuf(), plus -EINVAL for handle 0.
 */
VGALLOC_API int vgalloc_blob_wrap_handle(struct vgalloc_device *dev, uint32_t gem_handle,
                                         uint32_t blob_flags, struct vgalloc_blob **out_blob);

enum vgalloc_blob_origin {
	VGALLOC_BLOB_CREATED = 1,
	VGALLOC_BLOB_IMPORTED = 2,
	VGALLOC_BLOB_WRAPPED = 3,
};

/** Output struct, version 0. */
struct vgalloc_blob_info {
	uint32_t struct_size;
	uint32_t res_id;
	uint32_t gem_handle; /* borrowed: never close it */
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t origin; /* enum vgalloc_blob_origin */
	uint32_t refcount;
	uint32_t map_count;
	uint64_t size; /* real (rounded) size */
	uint64_t blob_id;
	void *map; /* NULL when not mapped */
};

/**
 * Describe a blob. With dev's import QUERY_ONLY use, see vgalloc_blob_query_dmabuf().
 * Thread safety: any thread. Return: 0; -EINVAL (NULL, not a live blob, bad struct_size).
 */
VGALLOC_API int vgalloc_blob_get_info(struct vgalloc_device *dev, const struct vgalloc_blob *blob,
                                      struct vgalloc_blob_info *info);

/**
 * Describe the blob behind a dma-buf without keeping anything (vkGetMemoryFdPropertiesKHR). A
 * handle already in the dedup table stays; a new one is closed again.
 * Ownership: fd borrowed. Thread safety: any thread (import-dedup lock).
 * Return: 0; -EINVAL (NULL, bad fd, not a blob); -EIO; any other -errno the kernel returns for
 *         the PRIME import or RESOURCE_INFO.
 */
VGALLOC_API int vgalloc_blob_query_dmabuf(struct vgalloc_device *dev, int fd,
                                          struct vgalloc_blob_info *info);

/**
 * Drop one reference; the last one unmaps (if mapped) and GEM-closes.
 * Thread safety: any thread.
 * Return: 0; -EINVAL (NULL dev, not a live blob: double destroy or foreign pointer — nothing is
 *         changed); -EBUSY (the blob backs live memory objects or pool blocks, or is a
 *         shared-memory blob: use vgalloc_shmem_destroy()). A NULL blob returns 0.
 */
VGALLOC_API int vgalloc_blob_destroy(struct vgalloc_device *dev, struct vgalloc_blob *blob);

/* ---------------------------------------------------------------------------------------------
 * Shared-memory blobs: HOST3D, blob_id 0, MAPPABLE blobs that the host backs with memory of its
 * own and both sides map (Venus command rings, reply buffers, small staging). They need the
 * Venus capset's supports_blob_id_0. Released ones whose size is a power of two are kept in a
 * per-size cache and handed out again; a cached blob idle for longer than the expiry (1 s) is
 * released by the next vgalloc_shmem_destroy(), and vgalloc_device_trim() releases them all (as
 * the library does by itself once when the window is full).
 */

/**
 * Get a mapped shared-memory blob of at least `size` bytes (rounded up to the blob alignment;
 * a cached blob of exactly that rounded size is reused without any kernel call). Its contents
 * are undefined (a reused blob keeps what was written to it). On -ENOSPC the library releases
 * retained pool blocks and cached shmem blobs once and retries.
 * Ownership: the caller owns *out_blob and gives it back with vgalloc_shmem_destroy() only
 * (vgalloc_blob_destroy() refuses it with -EBUSY); the mapping *out_ptr lives as long. The blob
 * may be passed to vgalloc_blob_get_info().
 * Thread safety: any thread.
 * Return: 0; -EINVAL (NULL, size 0 or overflowing when rounded); -EOPNOTSUPP (no Venus capset
 *         with supports_blob_id_0, or no 3D or host-visible window); -ENOSPC (window full);
 *         -ENOMEM; -EIO; other -errno from the kernel (the host's refusal shows as -EINVAL
 *         from the mapping).
 */
VGALLOC_API int vgalloc_shmem_create(struct vgalloc_device *dev, uint64_t size,
                                     struct vgalloc_blob **out_blob, void **out_ptr);

/**
 * Give a shared-memory blob back: cached when its size is a power of two and the cache holds
 * less than 32 MiB, released (munmap, GEM close) otherwise. Expired cached blobs are released.
 * Ownership: the blob and its mapping are no longer the caller's after the call, whatever it
 * returns for a live blob.
 * Thread safety: any thread.
 * Return: 0; -EINVAL (NULL dev, not a live shared-memory blob of this device: a double destroy,
 *         an ordinary blob or a foreign pointer — nothing is changed). A NULL blob returns 0.
 *         Best effort, as for handles: once the cache has handed the same blob out again, a
 *         stale pointer names the new owner's blob.
 */
VGALLOC_API int vgalloc_shmem_destroy(struct vgalloc_device *dev, struct vgalloc_blob *blob);

/* ---------------------------------------------------------------------------------------------
 * Memory allocations.
 */

enum vgalloc_request_flag {
	VGALLOC_REQUEST_DEDICATED_BUFFER = 1u << 0,   /* VkMemoryDedicatedAllocateInfo.buffer */
	VGALLOC_REQUEST_DEDICATED_IMAGE = 1u << 1,    /* VkMemoryDedicatedAllocateInfo.image */
	VGALLOC_REQUEST_DEDICATED_REQUIRED = 1u << 2, /* requiresDedicatedAllocation */
	VGALLOC_REQUEST_WSI = 1u << 3,                /* WSI or prime-blit memory */
	VGALLOC_REQUEST_PLACED_MAP = 1u << 4,         /* will be mapped placed */
	VGALLOC_REQUEST_IMPORT_FD = 1u << 5,          /* import_fd is valid */
	VGALLOC_REQUEST_IMPORT_HOST_POINTER = 1u << 6,
	VGALLOC_REQUEST_IMPORT_AHB = 1u << 7,
	VGALLOC_REQUEST_PRIORITY = 1u << 8, /* priority is valid */
	VGALLOC_REQUEST_BLOB_ID = 1u << 9,  /* blob_id is valid: skip new_blob_id */
	/** alignment is the largest alignment of every resource the consumer will bind to this
	 *  memory (it knows them: e.g. one buffer whose requirements it queried). It replaces the
	 *  memory type's rule, above or below it, but never goes below the smallest alignment the
	 *  rule gives any size (the floors included); alignment must then be a power of two. */
	VGALLOC_REQUEST_EXACT_ALIGNMENT = 1u << 10,
};

/** An allocation request. Version 0. */
struct vgalloc_request {
	uint32_t struct_size;
	uint32_t memory_type; /* host memory type index (as in the create-info) */
	uint64_t size;
	uint64_t alignment; /* 0 or a power of two: raises the type's rule (or see EXACT) */
	uint32_t flags;     /* enum vgalloc_request_flag */
	uint32_t export_handle_types; /* enum vgalloc_handle_type */
	uint32_t allocate_flags;      /* enum vgalloc_allocate_flag */
	int import_fd;                /* with VGALLOC_REQUEST_IMPORT_FD; borrowed */
	float priority;               /* with VGALLOC_REQUEST_PRIORITY */
	uint32_t reserved;            /* must be 0 */
	uint64_t blob_id;             /* with VGALLOC_REQUEST_BLOB_ID */
	uint64_t opaque_capture_address;
	void *user_data; /* passed to per-allocation hooks */
};

/**
 * Allocate memory as the device decides: host-only, host-first (blob lazily at first map, or
 * eagerly for export), guest-first (blob, round trip, host import), guest-handle (GUEST blob with
 * CREATE_GUEST_HANDLE, placeholder submit and wait through host_roundtrip, host import; see
 * VGALLOC_PATH_GUEST_HANDLE) or import.
 * Ownership: the caller owns *out_mem and frees it with vgalloc_mem_free(). An import fd is
 * borrowed (the consumer closes it; on success only, if it follows Vulkan's rule).
 * Thread safety: internally synchronised; no lock is held while hooks or the backend run.
 * Return: 0; -EINVAL (NULL, size 0, size overflowing when rounded, non-power-of-two alignment,
 *         unknown memory type, an unknown bit in flags, allocate_flags or export_handle_types,
 *         reserved not 0, bad fd, fd blob too small or of another blob_mem); -E2BIG (unknown
 *         tail); -ENOSPC
 *         (host-visible window full); -ENOMEM; -EOPNOTSUPP (no hooks, or the device cannot do
 *         what the request needs); -EIO (invalid kernel/host answer); any -errno a hook or
 *         the kernel returns.
 */
VGALLOC_API int vgalloc_mem_alloc(struct vgalloc_device *dev, const struct vgalloc_request *req,
                                  struct vgalloc_mem **out_mem);

/**
 * Map the memory: creates the blob first on the host-first lazy path (host_wait, CREATE_BLOB),
 * then maps the blob once. *out_ptr points at the allocation's first byte.
 * When the blob was created but the mapping failed (the host refused it), the blob is kept with
 * the allocation, as stock Venus keeps its BO: a host allocation can be exported as a blob only
 * once, so it could not be created again. It is released by vgalloc_mem_free(); a later map
 * retries only the mapping.
 * Thread safety: any thread; concurrent maps of one allocation are safe.
 * Return: 0; -EINVAL (NULL, not live, not host-visible, or the host refused the mapping);
 *         -ENOSPC (no window room even after a trim; a pool block is then closed to new
 *         members, docs/window-full.md); -EOPNOTSUPP (the kernel has no host-visible window);
 *         -ENOMEM; -EIO; -errno from host_wait or the kernel.
 */
VGALLOC_API int vgalloc_mem_map(struct vgalloc_device *dev, struct vgalloc_mem *mem,
                                void **out_ptr);

/**
 * Drop one map reference of the allocation.
 * Return: 0; -EINVAL (NULL, not live, not mapped).
 */
VGALLOC_API int vgalloc_mem_unmap(struct vgalloc_device *dev, struct vgalloc_mem *mem);

/**
 * Export an allocation made with export_handle_types as a dma-buf (OPAQUE_FD and DMA_BUF give
 * the same kind of fd).
 * Ownership: *out_fd is the caller's. Thread safety: any thread.
 * Return: 0; -EINVAL (NULL, not live, handle_type not one the allocation was made for, or not a
 *         dedicated SHAREABLE blob); -EIO (the kernel returned no valid fd); -errno from the
 *         kernel.
 */
VGALLOC_API int vgalloc_mem_export(struct vgalloc_device *dev, struct vgalloc_mem *mem,
                                   uint32_t handle_type, int *out_fd);

/** Output struct, version 1 (version 0: 72 bytes, without flags). */
struct vgalloc_mem_info {
	uint32_t struct_size;
	uint32_t path; /* enum vgalloc_path */
	uint32_t memory_type;
	uint32_t blob_mem; /* 0 when there is no blob yet */
	uint32_t blob_flags;
	uint32_t res_id;      /* 0 when there is no blob yet */
	uint64_t offset;      /* offset of the allocation in its blob */
	uint64_t size;        /* requested size */
	uint64_t committed;   /* bytes this allocation holds */
	uint64_t host_handle; /* from host_alloc / host_import; 0 on no host allocation */
	uint64_t blob_id;
	struct vgalloc_blob *blob; /* borrowed; NULL until a blob exists */
	/* --- appended after version 0 (72 bytes) --- */
	uint32_t flags; /* enum vgalloc_mem_info_flag */
	uint32_t reserved;
};

enum vgalloc_mem_info_flag {
	/** A suballocation: blob, res_id and host_handle are its block's; offset is where it starts
	 *  in them (bind at offset + the application's offset; never free the host object). */
	VGALLOC_MEM_INFO_SUBALLOCATED = 1u << 0,
};

/**
 * Describe an allocation. Return: 0; -EINVAL (NULL, not live, bad struct_size).
 */
VGALLOC_API int vgalloc_mem_get_info(struct vgalloc_device *dev, const struct vgalloc_mem *mem,
                                     struct vgalloc_mem_info *info);

/**
 * Free an allocation in the fixed order: wait for its pending token → munmap → GEM close →
 * host_free. Backend errors during teardown cannot be reported to Vulkan; they are logged and
 * counted in vgalloc_stats.teardown_errors.
 * Thread safety: any thread, also one other than the allocating thread. A suballocation freed
 * while another thread holds its pool shard, or (once threads have met on its pool) from a
 * thread that allocates from another shard, is dead to every call on return and queued on its
 * shard; its range goes back to its block when the queue is completed: by the next
 * vgalloc_mem_alloc() from that shard, a vgalloc_mem_free() there that takes the lock, the free
 * that makes 64 queued, vgalloc_device_trim() (and the ENOSPC retry), the statistics calls or
 * vgalloc_device_destroy(). Until then its block is not empty: up to 63 queued frees per shard
 * can hold blocks beyond retain_bytes.
 * Double-free detection: a freed handle is refused for at least the next 256 frees of its shard
 * (its slot is not reused before; unless the library cannot allocate handle memory), later
 * only while its slot is not reused.
 * Return: 0 (also for NULL mem); -EINVAL (NULL dev, double free, foreign pointer — nothing
 *         changed); -EBUSY (another thread is inside vgalloc_mem_map() of it, creating or
 *         mapping its blob or block, or taking an offset into its mapped block: an application
 *         race, nothing changed).
 */
VGALLOC_API int vgalloc_mem_free(struct vgalloc_device *dev, struct vgalloc_mem *mem);

#ifdef __cplusplus
}
#endif

#endif
