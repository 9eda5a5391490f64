/* SPDX-License-Identifier: MIT */
/*
 * The shmem cache: idle power-of-two mapped blobs per size, released after an idle time. Per fd.
 * Nothing here is installed.
 */
#ifndef VGALLOC_SHMEM_H
#define VGALLOC_SHMEM_H

#include <pthread.h>

#include "core.h"

struct vgalloc_device;
struct vgalloc_blob;

#define VGALLOC__SHMEM_BUCKETS 40
struct vgalloc__shmem_cache {
	pthread_mutex_t lock;
	struct vgalloc_blob *bucket[VGALLOC__SHMEM_BUCKETS]; /* most recently cached first */
	uint64_t max_cached_bytes;
	uint64_t expiry_ns;
	/* Under the lock, so that they add up at every instant. */
	uint64_t live, cached, cached_bytes, hits, misses;
};

void vgalloc__shmem_init(struct vgalloc__shmem_cache *c);
void vgalloc__shmem_finish(struct vgalloc__shmem_cache *c);
/* Release every cached blob; the number released (≥ 0). */
int vgalloc__shmem_trim(struct vgalloc_device *dev);

#endif
