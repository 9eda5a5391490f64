/* SPDX-License-Identifier: MIT */
/*
 * Blobs inside the library: creation, the refcounted mapping, PRIME import with GEM-handle dedup,
 * and the pin a memory object or pool block holds. Per fd: blobs, their handle table and their
 * lock belong to struct vgalloc__fd (device.h). Nothing here is installed.
 */
#ifndef VGALLOC_BLOB_H
#define VGALLOC_BLOB_H

#include "handle.h"

struct vgalloc_device;

struct vgalloc_blob {
	struct vgalloc__slot slot;
	uint32_t gem_handle;
	uint32_t res_id;
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t origin;
	uint32_t refcount; /* fd.import_lock */
	uint32_t mem_refs; /* fd.import_lock: references held by memory objects and blocks */
	uint64_t size;
	uint64_t blob_id;
	/* fd.lock */
	void *map;
	uint32_t map_count;
	bool map_busy; /* a thread is mapping it without the lock */
	/* shmem.c: shmem is written under fd.shmem.lock and fd.lock, the rest under the former */
	uint8_t shmem; /* enum vgalloc__shmem_state */
	struct vgalloc_blob *shmem_next;
	uint64_t shmem_idle_since; /* CLOCK_MONOTONIC ns, while cached */
};

enum vgalloc__shmem_state {
	VGALLOC__SHMEM_NONE = 0, /* an ordinary blob */
	VGALLOC__SHMEM_LIVE,     /* handed out by vgalloc_shmem_create() */
	VGALLOC__SHMEM_CACHED,   /* idle in a cache bucket */
};

int vgalloc__blob_create(struct vgalloc_device *dev, const struct vgalloc_blob_create_info *info,
                         struct vgalloc_blob **out_blob);
int vgalloc__blob_map(struct vgalloc_device *dev, struct vgalloc_blob *blob, void **out_ptr);
void vgalloc__blob_unmap(struct vgalloc_device *dev, struct vgalloc_blob *blob);
void vgalloc__blob_release(struct vgalloc_device *dev, struct vgalloc_blob *blob);
/* With VGALLOC_IMPORT_QUERY_ONLY, *query is filled (under the lock) and nothing is kept. */
int vgalloc__blob_import(struct vgalloc_device *dev, int fd,
                         const struct vgalloc_blob_import_info *info, struct vgalloc_blob **out,
                         struct vgalloc_blob_info *query);
/* Whether a blob of this kind takes a range of the host-visible window. */
bool vgalloc__blob_window(uint32_t blob_mem, uint32_t flags);
/* A memory object's or pool block's reference: one the blob API may not drop (-EBUSY). */
void vgalloc__blob_pin(struct vgalloc_device *dev, struct vgalloc_blob *blob);
/* Drop such a reference; the last reference unmaps and GEM-closes. */
void vgalloc__blob_unpin_release(struct vgalloc_device *dev, struct vgalloc_blob *blob);
/* Device destroy: every blob still alive is released (and logged). */
void vgalloc__blob_destroy_all(struct vgalloc_device *dev);

#endif
