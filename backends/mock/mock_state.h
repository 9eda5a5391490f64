/* SPDX-License-Identifier: MIT */
/*
 * Private state of the mock backend, shared by all its files. One struct vgalloc_mock is the whole
 * modelled guest, so every file works on it under its single mutex and the helpers below are
 * called with that mutex held. The files stand in layers, each calling only those below it: the
 * key → pointer table (mock_map.c) and the call path (mock_call.c); resources (mock_resource.c);
 * the host renderer (mock_host.c); the blob ioctls (mock_blob.c); the mock itself (mock.c).
 */
#ifndef VGALLOC_MOCK_STATE_H
#define VGALLOC_MOCK_STATE_H

#define VGALLOC_UNSTABLE_BACKEND_API
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vgalloc/vgalloc_backend.h"
#include "vgalloc/vgalloc_mock.h"

/* The guest kernel rounds blob sizes to its own page, whatever the host page is. */
#define MOCK_GUEST_PAGE 4096u
#define MOCK_TRACE_LEN  4096u
/* The kernel keeps capset ids in a 64-bit mask (MAX_CAPSET_ID 63). */
#define MOCK_MAX_CAPSET_ID 63u
#define MOCK_MAX_RINGS     64u
/* The mock host's one command: "WAIT", a zero word, then the u64 token (16 bytes). */
#define MOCK_WAIT_CMD_OPCODE 0x57414954u
#define MOCK_WAIT_CMD_SIZE   16u
/* The first blob id a host that names its allocations hands out. */
#define MOCK_HOST_BLOB_ID_BASE (1ull << 40)

/* Open-addressing table from a non-zero u64 key to a pointer (0 marks an empty slot). */
struct mock_map {
	uint64_t *keys;
	void **vals;
	uint32_t cap; /* a power of two, or 0 before the first insert */
	uint32_t count;
};

struct mock_capset {
	uint32_t id;
	uint32_t version; /* the host's max_version */
	uint32_t size;
	uint8_t *data;
};

struct mock_range {
	uint64_t offset;
	uint64_t size;
};

/* The host-visible window: a sorted, coalesced free list allocated first-fit. */
struct mock_window {
	uint64_t size;
	uint64_t align; /* the host page: the hypervisor maps whole host pages */
	struct mock_range *free;
	uint32_t count;
	uint32_t cap;
	uint32_t ranges; /* allocated ranges; the free list never exceeds ranges + 1 */
};

struct mock_mapping {
	void *ptr;
	uint64_t size;
};

/* One virtio-gpu resource (GEM object). The mock models one DRM file, so it has 0 or 1 handle. */
struct mock_resource {
	uint32_t res_id;
	uint32_t handle; /* 0 once closed while an exported fd still holds the object */
	bool shared;     /* exported once: other users may hold it past its creator */
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint64_t size; /* rounded */
	uint64_t blob_id;
	int memfd; /* -1 in counting-only mode until the first export */
	dev_t dev;
	ino_t ino;
	bool in_window;   /* HOST3D and mappable: it holds a window range once added */
	bool host_mapped; /* the host mapped it once: closing it then costs destroy_ns */
	uint64_t range_offset;
	int async_err; /* what every mmap returns because the host refused the resource */
	struct mock_mapping *maps;
	uint32_t map_count;
	uint32_t map_cap;
};

/* A dma-buf fd handed out by export; it is the caller's, so it is only ever fstat()ed. */
struct mock_export {
	int fd;
	dev_t dev;
	ino_t ino;
	struct mock_resource *res;
};

struct mock_host_alloc {
	uint64_t handle;
	uint64_t token;
	uint64_t blob_id;
	uint64_t size;
	uint32_t res_id; /* the resource it backs (host-first blob) or imports; 0 = none */
	bool imported;
	bool processed;
	bool exported; /* a blob was created from it; the renderer exports memory once */
	struct mock_host_alloc *pend_prev;
	struct mock_host_alloc *pend_next;
};

struct vgalloc_mock {
	struct vgalloc_backend base; /* must stay first: the core finds the ops through it */
	pthread_mutex_t lock;

	/* Configuration. */
	uint32_t profile;         /* in effect: INJECTING or STATIC, never FROM_CAPSET */
	bool profile_from_capset; /* created with FROM_CAPSET: profile follows the Venus capset */
	uint32_t flags;
	uint32_t host_page;
	uint32_t hooks_flags;
	bool guest_vram; /* USE_GUEST_VRAM renderer: unknown blob ids are guest-first */
	struct vgalloc_mock_cost cost;
	int drm_fd;

	/* Kernel state. */
	uint32_t context; /* 0 none, 1 implicit, 2 initialised */
	uint32_t capset_id;
	uint64_t capset_mask;
	struct mock_capset *capsets;
	uint32_t capset_count;
	struct mock_window window;
	struct mock_resource **handles; /* indexed by GEM handle */
	uint64_t *handle_bits;          /* bit set = in use; bit 0 is never handed out */
	uint32_t handle_cap;
	uint32_t handle_used;
	uint32_t handle_hint; /* every handle below it is in use */
	struct mock_map res_by_id;
	uint32_t next_res_id;
	uint32_t seen_res_id; /* the renderer knows resources up to this id */
	uint32_t orphans;     /* resources alive only through exported fds */
	struct mock_export *exports;
	uint32_t export_count;
	uint32_t export_cap;
	uint64_t fake_next; /* counting-only: next fake mapping address */

	/* Host renderer state. */
	struct mock_map host_by_handle;
	struct mock_map host_by_blob_id; /* host_alloc allocations only */
	struct mock_host_alloc *pend_head;
	struct mock_host_alloc *pend_tail;
	uint64_t next_host_handle;
	uint64_t next_token;
	uint64_t next_host_blob_id; /* VGALLOC_MOCK_HOOKS_HOST_BLOB_ID */
	uint64_t next_blob_id;
	bool lost;

	/* Fault injection. */
	bool fault_armed;
	bool fault_fired;
	uint32_t fault_call;
	uint32_t fault_nth;
	uint32_t fault_seen;
	int fault_err;

	/* Ledger: its counters kept as the caller reads them; context, open_fds, context_lost,
	 * capset_id and profile are filled in from the state above when it is read. */
	struct vgalloc_mock_ledger l;
	uint64_t memfds;

	/* Trace ring. */
	struct vgalloc_mock_trace_entry *trace;
	uint32_t trace_head; /* next slot written */
	uint32_t trace_count;
};

/*
 * One call into the mock, as vgalloc__mock_call() makes it. `e` starts as the arguments the trace
 * shows and the call's body adds what it learns; the fields after `cost` carry what the trace does
 * not (whole), each call using a few.
 */
struct mock_op {
	struct vgalloc_mock_trace_entry e;
	uint64_t cost; /* the call's base cost, unless its body knows better */
	uint64_t *value;
	void *buf;
	const struct vgalloc_context_param_value *params;
	const struct vgalloc_backend_blob_args *args;
	uint32_t *out_handle;
	uint32_t *out_res_id;
	void **out_ptr;
	void *ptr;
	uint32_t flags;
	int fd;
	int *out_fd;
	struct vgalloc_backend_blob_info *info;
	uint64_t token;
	uint64_t *out_host_handle;
	uint64_t *out_token;
	uint64_t *out_blob_id; /* host_alloc: the id a host that names its allocations chose */
	void *wait_cmd; /* set: the wait is encoded here for CREATE_BLOB instead of done now */
	uint32_t *wait_cmd_size;
};

/* The mock behind a backend op's object (its head is the mock's first member). */
static inline struct vgalloc_mock *vgalloc__mock_of(struct vgalloc_backend *be)
{
	return (struct vgalloc_mock *)be;
}

/* Key → pointer table (mock_map.c). */
int vgalloc__mock_map_reserve(struct mock_map *map, uint32_t extra);
void *vgalloc__mock_map_get(const struct mock_map *map, uint64_t key);
void vgalloc__mock_map_put(struct mock_map *map, uint64_t key, void *val);
void vgalloc__mock_map_del(struct mock_map *map, uint64_t key);
void vgalloc__mock_map_fini(struct mock_map *map);
/* A realloc()ed array of `elem`-byte entries grown to at least `need` entries, doubling from its
 * capacity or `first`; NULL (the array and *cap unchanged) when memory runs out. */
void *vgalloc__mock_grow(void *array, uint32_t *cap, uint32_t need, size_t elem, uint32_t first);

/*
 * The one call path (mock_call.c): under the lock, count the call, inject a fault or run its body,
 * then cost and trace it. -EINVAL for a NULL mock.
 */
int vgalloc__mock_call(struct vgalloc_mock *m, uint32_t call,
                       int (*run)(struct vgalloc_mock *m, struct mock_op *op), struct mock_op *op);

/* Resources (mock_resource.c). */
int vgalloc__mock_window_init(struct mock_window *w, uint64_t size, uint64_t align);
void vgalloc__mock_res_fini(struct vgalloc_mock *m);
void vgalloc__mock_reap_locked(struct vgalloc_mock *m);
uint64_t vgalloc__mock_open_fds_locked(struct vgalloc_mock *m);
struct mock_resource *vgalloc__mock_res_by_handle_locked(struct vgalloc_mock *m, uint32_t h);
int vgalloc__mock_res_new_locked(struct vgalloc_mock *m, const struct vgalloc_backend_blob_args *a,
                                 struct mock_resource **out);
int vgalloc__mock_res_add_locked(struct vgalloc_mock *m, struct mock_resource *res);
int vgalloc__mock_res_reopen_locked(struct vgalloc_mock *m, struct mock_resource *res);
int vgalloc__mock_res_export_locked(struct vgalloc_mock *m, struct mock_resource *res,
                                    uint32_t flags, int *out_fd);
bool vgalloc__mock_res_close_locked(struct vgalloc_mock *m, struct mock_resource *res);

/* Host renderer (mock_host.c). */
void vgalloc__mock_host_fini(struct vgalloc_mock *m);
/* Run CREATE_BLOB cmd bytes on the mock host; malformed bytes count an order violation. */
void vgalloc__mock_host_exec_cmd_locked(struct vgalloc_mock *m, const void *cmd, uint32_t size);
int vgalloc__mock_host_verdict_locked(struct vgalloc_mock *m,
                                      const struct vgalloc_backend_blob_args *a,
                                      struct mock_resource *res);

/* Blob ioctls (mock_blob.c), for the ops table. */
int vgalloc__mock_op_blob_create(struct vgalloc_backend *be,
                                 const struct vgalloc_backend_blob_args *args, uint32_t *out_handle,
                                 uint32_t *out_res_id);
int vgalloc__mock_op_blob_map(struct vgalloc_backend *be, uint32_t handle, uint64_t size,
                              void **out_ptr);
int vgalloc__mock_op_blob_unmap(struct vgalloc_backend *be, uint32_t handle, void *ptr,
                                uint64_t size);
int vgalloc__mock_op_blob_export(struct vgalloc_backend *be, uint32_t handle, uint32_t flags,
                                 int *out_fd);
int vgalloc__mock_op_blob_import(struct vgalloc_backend *be, int fd, uint32_t *out_handle);
int vgalloc__mock_op_blob_info(struct vgalloc_backend *be, uint32_t handle,
                               struct vgalloc_backend_blob_info *out);
int vgalloc__mock_op_blob_destroy(struct vgalloc_backend *be, uint32_t handle);

#endif
