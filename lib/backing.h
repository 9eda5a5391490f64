/* SPDX-License-Identifier: MIT */
/*
 * A backing: host memory, its blob (maybe not yet) and the blob's mapping. A dedicated
 * allocation owns one; a pool block is one. backing.c runs a path's steps (policy.h's table, the
 * same the plan reports) to make it and to map it, and tears it down in the one fixed order:
 * pending token → munmap → GEM close → host_free. Nothing here is installed.
 */
#ifndef VGALLOC_BACKING_H
#define VGALLOC_BACKING_H

#include "core.h"

struct vgalloc_device;
struct vgalloc_blob;
struct vgalloc__mshard;

struct vgalloc__backing {
	struct vgalloc__mshard *ms; /* the owner's lock and condvar */
	uint32_t path;              /* enum vgalloc_path: the steps it runs */
	uint32_t memory_type;       /* the host's memory type index */
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t allocate_flags;
	uint64_t size;           /* bytes of the blob, rounded (a block: its size) */
	uint64_t requested_size; /* the request's exact size (a block: its size) */
	uint64_t blob_id;        /* given, or made by the NEW_BLOB_ID step */
	void *user_data;         /* the request's, passed to the hooks */
	bool blob_id_given;      /* the request chose the blob id */
	bool keep_mapped;        /* a pool block: mapped once, until released */
	/* ms->lock */
	bool busy; /* once-guard: a thread is running its map steps without the lock */
	bool has_host;
	bool token_pending; /* host work still in flight */
	/* The renderer has processed the blob's creation: a round trip or a successful map came
	 * after it. Until then a host_free could overtake it (the free goes on the host queue,
	 * the blob's creation on the kernel's). */
	bool blob_seen;
	bool create_tried; /* a CREATE_BLOB of it was sent */
	uint32_t maps;     /* blob map references it holds */
	uint64_t token;
	uint64_t token_seq; /* VGALLOC_HOOKS_IN_ORDER: the token's number (ldev.token_issued) */
	uint64_t host_handle;
	struct vgalloc_blob *blob;
	/* keep_mapped: the mapping, once complete. Set (release) and cleared under the owner's
	 * lock; vgalloc_mem_map()'s lock-free path reads it without (acquire). */
	_Atomic(void *) ptr;
};

/*
 * No lock held, the backing the caller's alone: run the path's alloc steps. `import_fd` is the
 * dma-buf of the import path (else unused). On failure what the steps made is still recorded:
 * the caller releases the backing.
 */
int vgalloc__backing_make(struct vgalloc_device *dev, struct vgalloc__backing *bk, int import_fd);
/*
 * A mapping of the backing's blob: the map steps the first time (for host-first lazy, its blob),
 * once for all threads. keep_mapped: one mapping for the backing's life; else one blob map
 * reference per call, given back by vgalloc__backing_unmap().
 */
int vgalloc__backing_map(struct vgalloc_device *dev, struct vgalloc__backing *bk, void **out_ptr);
/*
 * bk->ms->lock held, in the critical section that checked the caller's own map count: give back
 * one map reference of a backing that is not keep_mapped. Returns the blob the caller unmaps
 * (vgalloc__blob_unmap) once the lock is dropped.
 */
struct vgalloc_blob *vgalloc__backing_unmap_locked(struct vgalloc__backing *bk);
/* The caller owns it exclusively: teardown in the fixed order; the backing is empty after. */
void vgalloc__backing_release(struct vgalloc_device *dev, struct vgalloc__backing *bk);

#endif
