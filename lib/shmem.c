/* SPDX-License-Identifier: MIT */
/*
 * Shared-memory blobs and their cache.
 *
 * A shmem blob is HOST3D, blob_id 0, MAPPABLE: the host backs it with memory of its own at
 * create time, so it needs no host allocation and no hook. Consumers churn through them (a ring
 * per queue, a reply buffer per command batch), and each create costs a RESOURCE_CREATE_BLOB,
 * a MAP and an mmap that the hypervisor serves with a VM exit, so released blobs whose size is a
 * power of two wait in a bucket per size. A cached blob stays mapped; an entry idle for longer
 * than the expiry is released by the next create or destroy.
 *
 * Locking: cache.lock guards the buckets and every blob's shmem fields. Backend calls (create,
 * map, release) happen outside it.
 */
#include "private.h"

#include <errno.h>
#include <time.h>

#define SHMEM_EXPIRY_NS (1000ull * 1000 * 1000)
#define SHMEM_MAX_CACHED (32ull << 20)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The bucket of a power-of-two size, or -1 when the size is not cached. */
static int bucket_of(uint64_t size)
{
	if (!vgalloc__is_pow2(size)) {
		return -1;
	}
	int b = __builtin_ctzll(size);
	return b < VGALLOC__SHMEM_BUCKETS ? b : -1;
}

void vgalloc__shmem_init(struct vgalloc_device *dev)
{
	struct vgalloc__shmem_cache *c = &dev->shmem;

	pthread_mutex_init(&c->lock, NULL);
	c->expiry_ns = SHMEM_EXPIRY_NS;
	c->max_cached_bytes = SHMEM_MAX_CACHED;
}

/* cache.lock held: change a blob's state, which blob.c reads under dev->lock. */
static void set_state(struct vgalloc_device *dev, struct vgalloc_blob *b, uint8_t state)
{
	pthread_mutex_lock(&dev->lock);
	b->shmem = state;
	pthread_mutex_unlock(&dev->lock);
}

/* Unlink every cached entry idle since before `deadline` (all of them for UINT64_MAX) into
 * *out, a list the caller releases without the lock. Returns how many. */
static int take_expired_locked(struct vgalloc_device *dev, uint64_t deadline,
                               struct vgalloc_blob **out)
{
	struct vgalloc__shmem_cache *c = &dev->shmem;
	int n = 0;

	for (int i = 0; i < VGALLOC__SHMEM_BUCKETS; i++) {
		struct vgalloc_blob **link = &c->bucket[i];

		/* Newest first: once one entry qualifies, every later one does too. */
		while (*link && (*link)->shmem_idle_since >= deadline && deadline != UINT64_MAX) {
			link = &(*link)->shmem_next;
		}
		while (*link) {
			struct vgalloc_blob *b = *link;

			*link = b->shmem_next;
			set_state(dev, b, VGALLOC__SHMEM_NONE);
			c->cached_bytes -= b->size;
			vgalloc__stat_sub(&c->cached, 1);
			b->shmem_next = *out;
			*out = b;
			n++;
		}
	}
	return n;
}

/* Unmap and drop blobs taken off the cache (their map and pin references). */
static void release_list(struct vgalloc_device *dev, struct vgalloc_blob *list)
{
	while (list) {
		struct vgalloc_blob *b = list;

		list = b->shmem_next;
		b->shmem_next = NULL;
		vgalloc__blob_unmap(dev, b);
		vgalloc__blob_unpin_release(dev, b);
	}
}

static void expire(struct vgalloc_device *dev, uint64_t now)
{
	struct vgalloc_blob *list = NULL;

	if (now < dev->shmem.expiry_ns) {
		return;
	}
	pthread_mutex_lock(&dev->shmem.lock);
	take_expired_locked(dev, now - dev->shmem.expiry_ns, &list);
	pthread_mutex_unlock(&dev->shmem.lock);
	release_list(dev, list);
}

int vgalloc__shmem_trim(struct vgalloc_device *dev)
{
	struct vgalloc_blob *list = NULL;
	int n;

	pthread_mutex_lock(&dev->shmem.lock);
	n = take_expired_locked(dev, UINT64_MAX, &list);
	pthread_mutex_unlock(&dev->shmem.lock);
	release_list(dev, list);
	return n;
}

int vgalloc_shmem_create(struct vgalloc_device *dev, uint64_t size, struct vgalloc_blob **out_blob,
                         void **out_ptr)
{
	struct vgalloc_blob_create_info ci = {
		.struct_size = sizeof(ci),
		.blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
	};
	struct vgalloc__shmem_cache *c;
	struct vgalloc_blob *blob = NULL;
	uint64_t rounded;
	void *ptr = NULL;
	int b, ret;

	if (!dev || !out_blob || !out_ptr || !size ||
	    !vgalloc__align_up(size, dev->traits.blob_alignment, &rounded)) {
		return -EINVAL;
	}
	if (!dev->traits.blob_id_0 || !dev->traits.has_3d || !dev->traits.host_visible) {
		return -EOPNOTSUPP;
	}
	c = &dev->shmem;
	b = bucket_of(rounded);
	if (b >= 0) {
		pthread_mutex_lock(&c->lock);
		blob = c->bucket[b];
		if (blob) {
			c->bucket[b] = blob->shmem_next;
			blob->shmem_next = NULL;
			set_state(dev, blob, VGALLOC__SHMEM_LIVE);
			c->cached_bytes -= blob->size;
			ptr = blob->map; /* stable while the cache's map reference is held */
		}
		pthread_mutex_unlock(&c->lock);
		if (blob) {
			vgalloc__stat_sub(&c->cached, 1);
			vgalloc__stat_add(&c->hits, 1);
			vgalloc__stat_add(&c->live, 1);
			expire(dev, now_ns());
			*out_blob = blob;
			*out_ptr = ptr;
			return 0;
		}
	}
	expire(dev, now_ns());

	ci.size = rounded;
	ret = vgalloc__blob_create(dev, &ci, &blob);
	if (ret) {
		return ret;
	}
	ret = vgalloc__blob_map(dev, blob, &ptr);
	if (ret) {
		vgalloc__blob_release(dev, blob);
		return ret;
	}
	/* The cache's reference: vgalloc_blob_destroy() answers -EBUSY from now on. */
	vgalloc__blob_pin(dev, blob);
	pthread_mutex_lock(&c->lock);
	set_state(dev, blob, VGALLOC__SHMEM_LIVE);
	blob->shmem_next = NULL;
	pthread_mutex_unlock(&c->lock);
	vgalloc__stat_add(&c->misses, 1);
	vgalloc__stat_add(&c->live, 1);
	*out_blob = blob;
	*out_ptr = ptr;
	return 0;
}

int vgalloc_shmem_destroy(struct vgalloc_device *dev, struct vgalloc_blob *blob)
{
	struct vgalloc__shmem_cache *c;
	uint64_t now;
	bool live, cached = false;
	int b;

	if (!dev) {
		return -EINVAL;
	}
	if (!blob) {
		return 0;
	}
	c = &dev->shmem;
	now = now_ns();
	pthread_mutex_lock(&c->lock);
	pthread_mutex_lock(&dev->lock);
	live = vgalloc__slab_live(&dev->blobs, blob);
	pthread_mutex_unlock(&dev->lock);
	if (!live || blob->shmem != VGALLOC__SHMEM_LIVE) {
		pthread_mutex_unlock(&c->lock);
		return -EINVAL;
	}
	b = bucket_of(blob->size);
	if (b >= 0 && c->cached_bytes + blob->size <= c->max_cached_bytes) {
		set_state(dev, blob, VGALLOC__SHMEM_CACHED);
		blob->shmem_idle_since = now;
		blob->shmem_next = c->bucket[b];
		c->bucket[b] = blob;
		c->cached_bytes += blob->size;
		cached = true;
	} else {
		set_state(dev, blob, VGALLOC__SHMEM_NONE);
	}
	pthread_mutex_unlock(&c->lock);
	vgalloc__stat_sub(&c->live, 1);
	if (cached) {
		vgalloc__stat_add(&c->cached, 1);
	} else {
		vgalloc__blob_unmap(dev, blob);
		vgalloc__blob_unpin_release(dev, blob);
	}
	expire(dev, now);
	return 0;
}
