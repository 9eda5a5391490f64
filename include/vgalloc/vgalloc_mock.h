/* SPDX-License-Identifier: MIT */
/*
 * The mock backend's public face: an in-process model of the virtio-gpu kernel driver, the
 * hypervisor and the host renderer, with fault injection, a call ledger and a computed cost
 * model. Tests, examples and consumers' own test suites drive its host side through this header.
 *
 * One struct vgalloc_mock models one guest with one DRM file: a context (implicit or
 * initialised), GEM handles, the host-visible window, the host renderer's allocations and the
 * dma-bufs exported from it. Pass it as backend_object with backend = VGALLOC_BACKEND_MOCK.
 *
 * Thread safety: every function is internally synchronised (one mutex per mock).
 */
#ifndef VGALLOC_MOCK_H
#define VGALLOC_MOCK_H

#include "vgalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vgalloc_mock;

/**
 * The modelled hypervisor (how it backs the host-visible window) and, with it, the renderer.
 *
 * A real host says use_guest_vram = 1 in its Venus capset because its hypervisor cannot inject
 * host pages into the window, so by default the mock's profile follows its Venus capset; an
 * explicit profile is kept whatever capset is set (a host whose capset and hypervisor disagree).
 * vgalloc_mock_get_ledger() reports the profile in effect.
 */
enum vgalloc_mock_profile {
	/**
	 * The default: STATIC while the Venus capset the mock reports says use_guest_vram = 1 as a
	 * guest reads it (GET_CAPS zero-fills: bytes the host does not send read 0, so a 156-byte
	 * capset says 0), INJECTING otherwise (0, or no Venus capset). The mock's own Venus capset says 0, so a new mock is
	 * INJECTING; vgalloc_mock_set_capset() on the Venus id re-derives the profile, so a captured
	 * capset seeds the matching hypervisor. Set the capset before creating a device: a change
	 * under live blobs changes the model under them. VGALLOC_MOCK_GUEST_VRAM_OFF has no effect.
	 */
	VGALLOC_MOCK_PROFILE_FROM_CAPSET = 0,
	/** The hypervisor injects host pages into the window: host-first works. Explicit: a Venus
	 *  capset set with use_guest_vram = 1 is served as given, and the renderer still knows no
	 *  guest-first resource (their CREATE_BLOB counts an order violation, the map fails). */
	VGALLOC_MOCK_PROFILE_INJECTING = 1,
	/** The window is statically backed: host-first blobs fail at first mmap (EINVAL); the
	 *  renderer makes guest-first resources and the mock's Venus capset says use_guest_vram = 1,
	 *  both unless VGALLOC_MOCK_GUEST_VRAM_OFF. Explicit: kept whatever capset is set. */
	VGALLOC_MOCK_PROFILE_STATIC = 2,
};

enum vgalloc_mock_flag {
	VGALLOC_MOCK_COUNTING_ONLY = 1u << 0,   /* no memfd, no mmap: pointers are not usable */
	VGALLOC_MOCK_NO_WINDOW = 1u << 1,       /* HOST_VISIBLE = 0 */
	VGALLOC_MOCK_NO_3D = 1u << 2,           /* 3D_FEATURES = 0 */
	VGALLOC_MOCK_CROSS_DEVICE = 1u << 3,    /* CROSS_DEVICE = 1 (resource UUIDs) */
	VGALLOC_MOCK_DEBUG_NAME = 1u << 4,      /* EXPLICIT_DEBUG_NAME = 1 */
	VGALLOC_MOCK_BLOB_ALIGNMENT = 1u << 5,  /* BLOB_ALIGNMENT negotiated (= host page) */
	VGALLOC_MOCK_GUEST_VRAM_OFF = 1u << 6,  /* static profile, but use_guest_vram = 0 */
	VGALLOC_MOCK_NO_BLOB = 1u << 7,         /* RESOURCE_BLOB = 0 */
	VGALLOC_MOCK_NO_CONTEXT_INIT = 1u << 8, /* CONTEXT_INIT = 0 */
	VGALLOC_MOCK_NO_BLOB_ID_0 = 1u << 9,    /* Venus capset supports_blob_id_0 = 0 */
	/**
	 * A downstream kernel and device with CREATE_GUEST_HANDLE negotiated (gfxstream's Linux
	 * numbering only: use it with VGALLOC_FLAVOUR_GFXSTREAM; a ChromeOS-flavoured device reads
	 * param 10 as GUEST_VRAM): GETPARAM 10 = 1, and RESOURCE_CREATE_BLOB takes the CREATE_GUEST_HANDLE blob
	 * flag (0x8) on GUEST blobs, with a blob_id: the host makes an OS handle of the guest pages
	 * and files it under that id. Without this mock flag, or on another blob_mem, blob flag 0x8
	 * is -EINVAL (as on mainline). Param 9 keeps its meaning (the kernels that carry this on an
	 * upstream base leave 9 to BLOB_ALIGNMENT).
	 */
	VGALLOC_MOCK_GUEST_HANDLE = 1u << 10,
	/** The host runs its queue in order, as a Venus ring does: a host free runs after
	 *  everything queued before it (freeing an allocation nobody waited for is no violation),
	 *  and a round trip processes the whole queue. The hooks table declares it
	 *  (VGALLOC_HOOKS_IN_ORDER). */
	VGALLOC_MOCK_IN_ORDER = 1u << 11,
	/** The host names its allocations (gfxstream without deferredMapping): host_alloc ignores
	 *  the blob id it is given and tags the allocation with one of its own (2^40, 2^40 + 1,
	 *  ...), which it returns (the hook: VGALLOC_HOST_RESULT_BLOB_ID). */
	VGALLOC_MOCK_HOST_BLOB_ID = 1u << 12,
};

/** Cost of each operation in nanoseconds; computed into the ledger, never slept. */
struct vgalloc_mock_cost {
	uint64_t ioctl_ns;     /* any ioctl not listed below */
	uint64_t create_ns;    /* RESOURCE_CREATE_BLOB */
	uint64_t map_ns;       /* MAP ioctl + mmap, first map (waits for the host) */
	uint64_t destroy_ns;   /* GEM close of a blob (unmapping a mapped blob on the host) */
	uint64_t window_ns;    /* extra per blob holding a window range */
	uint64_t host_call_ns; /* one host hook (ring command) */
};

enum vgalloc_mock_cost_preset {
	VGALLOC_MOCK_COST_NONE = 0,
	/** QEMU 10 TCG guest with virglrenderer Venus, as measured: create 0.1 ms, first map 1 ms,
	 *  destroy 100 ms. */
	VGALLOC_MOCK_COST_QEMU_TCG = 1,
	/** A memfd-backed floor: 20 µs for every backend operation. */
	VGALLOC_MOCK_COST_MEMFD_FLOOR = 2,
};

/** Version 0. */
struct vgalloc_mock_create_info {
	uint32_t struct_size;
	uint32_t profile;           /* enum vgalloc_mock_profile; 0 = FROM_CAPSET */
	uint32_t flags;             /* enum vgalloc_mock_flag */
	uint32_t host_page_size;    /* 0 = 4096; power of two ≥ 4096 */
	uint64_t window_size;       /* 0 = 256 MiB */
	uint32_t supported_capsets; /* bit N = capset N; 0 = VIRGL|VIRGL2|VENUS */
	uint32_t venus_capset_size; /* 0 = 160; fewer models an older host */
	uint32_t cost_preset;       /* enum vgalloc_mock_cost_preset */
	uint32_t reserved;
	const struct vgalloc_mock_cost *cost; /* overrides cost_preset when set */
};

/**
 * Create a mock.
 * Ownership: the caller owns *out_mock and destroys it with vgalloc_mock_destroy() after every
 * device that uses it. Return: 0; -EINVAL (bad struct_size, profile, page size); -E2BIG; -ENOMEM.
 */
VGALLOC_API int vgalloc_mock_create(const struct vgalloc_mock_create_info *info,
                                    struct vgalloc_mock **out_mock);
/** Destroy a mock; closes its memfds. Fds it exported stay valid until their owners close them. */
VGALLOC_API void vgalloc_mock_destroy(struct vgalloc_mock *mock);

/** Every kind of call the mock counts (backend ops, then host side). */
enum vgalloc_mock_call {
	VGALLOC_MOCK_CALL_GET_PARAM = 0,
	VGALLOC_MOCK_CALL_GET_CAPSET = 1,
	VGALLOC_MOCK_CALL_CONTEXT_INIT = 2,
	VGALLOC_MOCK_CALL_BLOB_CREATE = 3,
	VGALLOC_MOCK_CALL_BLOB_MAP = 4,
	VGALLOC_MOCK_CALL_BLOB_UNMAP = 5,
	VGALLOC_MOCK_CALL_BLOB_EXPORT = 6,
	VGALLOC_MOCK_CALL_BLOB_IMPORT = 7,
	VGALLOC_MOCK_CALL_BLOB_INFO = 8,
	VGALLOC_MOCK_CALL_BLOB_DESTROY = 9,
	VGALLOC_MOCK_CALL_WAIT = 10, /* never counted: the library has no wait op (backend ABI 2) */
	VGALLOC_MOCK_CALL_NEW_BLOB_ID = 11,
	VGALLOC_MOCK_CALL_HOST_ALLOC = 12,
	VGALLOC_MOCK_CALL_HOST_WAIT = 13,
	VGALLOC_MOCK_CALL_HOST_ROUNDTRIP = 14,
	VGALLOC_MOCK_CALL_HOST_IMPORT = 15,
	VGALLOC_MOCK_CALL_HOST_FREE = 16,
	VGALLOC_MOCK_CALL_COUNT = 17,
	/** For fault injection: count every failable call, whatever its kind. */
	VGALLOC_MOCK_CALL_ANY = 255,
};

/** "blob_create", "host_alloc", ... or "unknown". */
VGALLOC_API const char *vgalloc_mock_call_name(uint32_t call);

/**
 * Whether a kind of call can fail in reality. Unmap, GEM close of a live handle, new_blob_id
 * and host_free cannot (and the library could not report it from a free), so faults are not
 * injected there.
 */
VGALLOC_API bool vgalloc_mock_call_failable(uint32_t call);

/** Totals. Output struct, version 0. */
struct vgalloc_mock_ledger {
	uint32_t struct_size;
	uint32_t context; /* 0 none, 1 implicit, 2 initialised */
	uint64_t calls[VGALLOC_MOCK_CALL_COUNT];
	uint64_t failable_calls; /* calls of failable kinds since the last reset */
	uint64_t live_handles;   /* GEM handles open */
	uint64_t live_blobs;     /* resources alive */
	uint64_t blob_bytes;     /* their rounded sizes */
	uint64_t window_bytes;   /* window bytes allocated */
	uint64_t mapped_blobs;
	uint64_t open_fds;         /* exported dma-buf fds still open (checked now) + memfds */
	uint64_t host_allocs;      /* live host allocations (host_alloc + host_import) */
	uint64_t pending_tokens;   /* host work queued and not yet processed */
	uint64_t order_violations; /* operations out of the order the host requires */
	uint64_t context_lost;     /* 1 once the host killed the context */
	uint64_t modeled_ns;       /* cost model total */
	uint32_t capset_id;        /* of the context */
	uint32_t profile;          /* in effect: INJECTING or STATIC (FROM_CAPSET resolved) */
};

/** Read the ledger. Return: 0; -EINVAL (NULL or struct_size below version 0). */
VGALLOC_API int vgalloc_mock_get_ledger(struct vgalloc_mock *mock,
                                        struct vgalloc_mock_ledger *ledger);
/** Zero the call counters, failable_calls, modeled_ns and the trace. Live state is kept. */
VGALLOC_API void vgalloc_mock_reset_counters(struct vgalloc_mock *mock);

/** One call in the trace. */
struct vgalloc_mock_trace_entry {
	uint32_t call;  /* enum vgalloc_mock_call */
	int32_t result; /* 0 or -errno */
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t handle; /* GEM handle, when there is one */
	uint32_t res_id;
	uint64_t blob_id;
	uint64_t size;
	uint64_t host_handle;
	uint32_t cmd_size;
	uint32_t flags; /* host_wait: enum vgalloc_wait_flag */
};

/**
 * Copy up to max entries of the trace (oldest first; the trace keeps the last 4096 calls).
 * Return: the number of entries copied (≥ 0); -EINVAL on NULL.
 */
VGALLOC_API int vgalloc_mock_get_trace(struct vgalloc_mock *mock,
                                       struct vgalloc_mock_trace_entry *entries, uint32_t max);
/** Format one entry as "blob_create(mem=2 flags=0x1 id=7 size=65536) = 0"; returns snprintf's
 *  count, or -EINVAL (e NULL, or buf NULL with a non-zero size). */
VGALLOC_API int vgalloc_mock_format_entry(const struct vgalloc_mock_trace_entry *e, char *buf,
                                          size_t size);

/**
 * Fail the nth (1-based, counted from this call) failable call of `call` kind (or of any kind with
 * VGALLOC_MOCK_CALL_ANY) with -err. One injection is armed at a time; arming replaces it.
 * Return: 0; -EINVAL (nth 0, err ≤ 0, not a failable kind).
 */
VGALLOC_API int vgalloc_mock_fail_nth(struct vgalloc_mock *mock, uint32_t call, uint32_t nth,
                                      int err);
/** Disarm fault injection. */
VGALLOC_API void vgalloc_mock_fail_clear(struct vgalloc_mock *mock);
/** Whether the armed fault has fired. */
VGALLOC_API bool vgalloc_mock_fail_fired(struct vgalloc_mock *mock);

/**
 * Add or replace a capset the host reports (id in SUPPORTED_CAPSET_IDS from now on); size 0
 * removes it. With VGALLOC_MOCK_PROFILE_FROM_CAPSET, setting or removing the Venus capset (id 4)
 * re-derives the hypervisor profile from its use_guest_vram (see enum vgalloc_mock_profile).
 * The bytes are served as given: GET_CAPS copies min(buffer, size) and reports no length.
 * Ownership: data is borrowed for the call (copied). Thread safety: internally synchronised.
 * Return: 0; -EINVAL (NULL mock, id 0 or above 63, data NULL with a non-zero size); -ENOMEM
 * (nothing changed).
 */
VGALLOC_API int vgalloc_mock_set_capset(struct vgalloc_mock *mock, uint32_t id, uint32_t version,
                                        const void *data, uint32_t size);

/** The mock's DRM-fd stand-in (a memfd the mock owns; never close it). */
VGALLOC_API int vgalloc_mock_get_fd(struct vgalloc_mock *mock);

/* --- The consumer's own kernel calls, for adopt-mode tests (same rules as the backend). --- */

/** CONTEXT_INIT with the capset (as the consumer would before adopting). */
VGALLOC_API int vgalloc_mock_context_init(struct vgalloc_mock *mock, uint32_t capset_id);
/** RESOURCE_CREATE_BLOB on the consumer's behalf (e.g. its ring buffers). */
VGALLOC_API int vgalloc_mock_blob_create(struct vgalloc_mock *mock, uint32_t blob_mem,
                                         uint32_t blob_flags, uint64_t size, uint64_t blob_id,
                                         uint32_t *out_handle, uint32_t *out_res_id);
/** GEM close on the consumer's behalf. Return: 0; -EINVAL (unknown handle). */
VGALLOC_API int vgalloc_mock_gem_close(struct vgalloc_mock *mock, uint32_t handle);
/** PRIME import on the consumer's behalf (a dma-buf of this mock's kernel): the same handle as
 *  an earlier import of that buffer on this fd, as the kernel does. Return: 0 and *out_handle;
 *  -EINVAL (NULL, not this kernel's dma-buf); -EBADF. */
VGALLOC_API int vgalloc_mock_prime_import(struct vgalloc_mock *mock, int fd, uint32_t *out_handle);

/* --- Host side: what a consumer's hooks do over the wire, modelled. --- */

/**
 * Queue a host allocation tagged with blob_id. It is processed (and a blob may then be created
 * for it) only once its token has been waited on. Tokens count from 0 in queue order, as a
 * Venus ring's seqnos do. *out_blob_id (optional) is the id the allocation is tagged with:
 * blob_id, or with VGALLOC_MOCK_HOST_BLOB_ID the host's own. Return: 0 and a host handle and token;
 * -EINVAL (blob_id 0, size 0, id in use); -EIO (context lost); -ENOMEM.
 */
VGALLOC_API int vgalloc_mock_host_alloc(struct vgalloc_mock *mock, uint64_t blob_id, uint64_t size,
                                        uint64_t *out_host_handle, uint64_t *out_token,
                                        uint64_t *out_blob_id);
/** Process everything queued up to token. Return: 0; -EINVAL (unknown token); -EIO (lost). */
VGALLOC_API int vgalloc_mock_host_wait(struct vgalloc_mock *mock, uint64_t token);
/**
 * Encode a wait for token as CREATE_BLOB cmd bytes (the host processes it before creating the
 * blob). Return: 0 and *inout_size set; -ENOSPC (buffer too small).
 */
VGALLOC_API int vgalloc_mock_host_wait_cmd(struct vgalloc_mock *mock, uint64_t token, void *cmd,
                                           uint32_t *inout_size);
/** The renderer now knows every resource created so far. Return: 0; -EIO (context lost). */
VGALLOC_API int vgalloc_mock_host_roundtrip(struct vgalloc_mock *mock);
/**
 * Queue a host allocation importing resource res_id (guest-first and import). An unknown res_id,
 * or one the renderer has not seen yet (no round trip since its creation), loses the context:
 * this and every later call fail with -EIO. Return: 0 and handle and token; -EIO; -ENOMEM.
 */
VGALLOC_API int vgalloc_mock_host_import(struct vgalloc_mock *mock, uint32_t res_id, uint64_t size,
                                         uint64_t blob_id, uint64_t *out_host_handle,
                                         uint64_t *out_token);
/** Free a host allocation. Freeing one whose blob is still alive, or whose token is pending,
 *  counts an order violation. */
VGALLOC_API void vgalloc_mock_host_free(struct vgalloc_mock *mock, uint64_t host_handle);

enum vgalloc_mock_hooks_flag {
	/** host_wait answers with wait-command bytes when the library offers a buffer. */
	VGALLOC_MOCK_HOOKS_WAIT_CMD = 1u << 0,
};

/**
 * Fill a hooks table whose hooks call the functions above (ctx = mock), with new_blob_id handing
 * out 1, 2, 3, ... Every hook call is recorded in the trace. Return: 0; -EINVAL.
 */
VGALLOC_API int vgalloc_mock_get_hooks(struct vgalloc_mock *mock, uint32_t flags,
                                       struct vgalloc_host_hooks *out_hooks);

#ifdef __cplusplus
}
#endif

#endif
