/* SPDX-License-Identifier: MIT */
/*
 * Shared-memory blobs and their cache.
 *
 * A shmem blob is HOST3D, blob_id 0, MAPPABLE: the host backs it with memory of its own at
 * create time, so it needs no host allocation and no hook. Consumers churn through them (a ring
 * per queue, a reply buffer per command batch), and each create costs a RESOURCE_CREATE_BLOB,
 * a MAP and an mmap that the hypervisor serves with a VM exit, so released blobs whose size is a
 * power of two wait in a bucket per size. A cached blob stays mapped. Entries idle for longer
 * than the expiry are released when a blob is given back, never on the get path, so a cache hit
 * makes no kernel call.
 *
 * Locking: cache.lock guards the buckets, the counters and every blob's shmem fields; blob->shmem
 * is written with dev->fd->lock held as well (blob.c reads it under dev->fd->lock). Backend calls
 * (create, map, release) happen outside cache.lock.
 */
#include "shmem.h"
#include "blob.h"
#include "state.h"

#include <errno.h>
#include <time.h>

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

void vgalloc__shmem_init(struct vgalloc__shmem_cache *c)
{
	pthread_mutex_init(&c->lock, NULL);
	c->expiry_ns = VGALLOC__SHMEM_EXPIRY_NS;
	c->max_cached_bytes = VGALLOC__SHMEM_MAX_CACHED;
}

void vgalloc__shmem_finish(struct vgalloc__shmem_cache *c)
{
	pthread_mutex_destroy(&c->lock);
}

/* cache.lock held: change a blob's state, which blob.c reads under dev->fd->lock. */
static void set_state(struct vgalloc_device *dev, struct vgalloc_blob *b, uint8_t state)
{
	pthread_mutex_lock(&dev->fd->lock);
	b->shmem = state;
	pthread_mutex_unlock(&dev->fd->lock);
}

/* cache.lock held: unlink every cached entry idle since before `deadline` (all of them for
 * UINT64_MAX) into *out, a list the caller releases without the lock. Returns how many. */
static int take_expired_locked(struct vgalloc_device *dev, uint64_t deadline,
                               struct vgalloc_blob **out)
{
	struct vgalloc__shmem_cache *c = &dev->fd->shmem;
	int n = 0;

	for (int i = 0; i < VGALLOC__SHMEM_BUCKETS; i++) {
		struct vgalloc_blob **link = &c->bucket[i];

		/* Newest first: once one entry qualifies, every later one does too. */
		while (*link && deadline != UINT64_MAX && (*link)->shmem_idle_since >= deadline) {
			link = &(*link)->shmem_next;
		}
		while (*link) {
			struct vgalloc_blob *b = *link;

			*link = b->shmem_next;
			set_state(dev, b, VGALLOC__SHMEM_NONE);
			c->cached_bytes -= b->size;
			c->cached--;
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

int vgalloc__shmem_trim(struct vgalloc_device *dev)
{
	struct vgalloc_blob *list = NULL;
	int n;

	pthread_mutex_lock(&dev->fd->shmem.lock);
	n = take_expired_locked(dev, UINT64_MAX, &list);
	pthread_mutex_unlock(&dev->fd->shmem.lock);
	release_list(dev, list);
	return n;
}

/* A cached blob of exactly `size` bytes, now handed out, or NULL. */
static struct vgalloc_blob *cache_get(struct vgalloc_device *dev, uint64_t size, void **out_ptr)
{
	struct vgalloc__shmem_cache *c = &dev->fd->shmem;
	struct vgalloc_blob *blob;
	int b = bucket_of(size);

	if (b < 0) {
		return NULL;
	}
	pthread_mutex_lock(&c->lock);
	blob = c->bucket[b];
	if (blob) {
		c->bucket[b] = blob->shmem_next;
		blob->shmem_next = NULL;
		c->cached_bytes -= blob->size;
		c->cached--;
		c->live++;
		c->hits++;
		/* Read under dev->fd->lock with the state change; stable while the cache's own map
		 * reference is held. */
		pthread_mutex_lock(&dev->fd->lock);
		blob->shmem = VGALLOC__SHMEM_LIVE;
		*out_ptr = blob->map;
		pthread_mutex_unlock(&dev->fd->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return blob;
}

/* A new mapped shmem blob of `size` (already rounded). */
static int create_mapped(struct vgalloc_device *dev, uint64_t size, struct vgalloc_blob **out_blob,
                         void **out_ptr)
{
	struct vgalloc_blob_create_info ci = {
		.struct_size = sizeof(ci),
		.blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		.size = size,
	};
	struct vgalloc_blob *blob = NULL;
	void *ptr = NULL;
	int ret;

	ret = vgalloc__blob_create(dev, &ci, &blob);
	if (ret) {
		return ret;
	}
	ret = vgalloc__blob_map(dev, blob, &ptr);
	if (ret) {
		vgalloc__blob_release(dev, blob);
		return ret;
	}
	*out_blob = blob;
	*out_ptr = ptr;
	return 0;
}

int vgalloc_shmem_create(struct vgalloc_device *dev, uint64_t size, struct vgalloc_blob **out_blob,
                         void **out_ptr)
{
	struct vgalloc__shmem_cache *c;
	struct vgalloc_blob *blob = NULL;
	uint64_t rounded;
	void *ptr = NULL;
	int ret;

	if (!dev || !out_blob || !out_ptr || !size ||
	    !vgalloc__align_up(size, dev->ld.traits.blob_alignment, &rounded)) {
		return -EINVAL;
	}
	if (!dev->ld.traits.blob_id_0 || !dev->ld.traits.has_3d || !dev->ld.traits.host_visible) {
		return -EOPNOTSUPP;
	}
	c = &dev->fd->shmem;
	blob = cache_get(dev, rounded, &ptr);
	if (blob) {
		*out_blob = blob;
		*out_ptr = ptr;
		return 0;
	}
	ret = create_mapped(dev, rounded, &blob, &ptr);
	/* The window is full: give back what the pools and this cache keep, and try once more. */
	if (ret == -ENOSPC && vgalloc__trim(dev) > 0) {
		ret = create_mapped(dev, rounded, &blob, &ptr);
	}
	if (ret) {
		return ret;
	}
	/* The cache's reference: vgalloc_blob_destroy() answers -EBUSY from now on. */
	vgalloc__blob_pin(dev, blob);
	pthread_mutex_lock(&c->lock);
	set_state(dev, blob, VGALLOC__SHMEM_LIVE);
	blob->shmem_next = NULL;
	c->live++;
	c->misses++;
	pthread_mutex_unlock(&c->lock);
	*out_blob = blob;
	*out_ptr = ptr;
	return 0;
}

int vgalloc_shmem_destroy(struct vgalloc_device *dev, struct vgalloc_blob *blob)
{
	struct vgalloc__shmem_cache *c;
	struct vgalloc_blob *expired = NULL;
	uint64_t now;
	bool live, cached = false;
	int b;

	if (!dev) {
		return -EINVAL;
	}
	if (!blob) {
		return 0;
	}
	c = &dev->fd->shmem;
	now = now_ns();
	pthread_mutex_lock(&c->lock);
	pthread_mutex_lock(&dev->fd->lock);
	live = vgalloc__slab_live(&dev->fd->blobs, blob);
	pthread_mutex_unlock(&dev->fd->lock);
	if (!live || blob->shmem != VGALLOC__SHMEM_LIVE) {
		pthread_mutex_unlock(&c->lock);
		return -EINVAL;
	}
	c->live--;
	b = bucket_of(blob->size);
	if (b >= 0 && c->cached_bytes + blob->size <= c->max_cached_bytes) {
		set_state(dev, blob, VGALLOC__SHMEM_CACHED);
		blob->shmem_idle_since = now;
		blob->shmem_next = c->bucket[b];
		c->bucket[b] = blob;
		c->cached_bytes += blob->size;
		c->cached++;
		cached = true;
	} else {
		set_state(dev, blob, VGALLOC__SHMEM_NONE);
	}
	/* Expire on the way back in, as the entry just cached is the newest of its bucket. */
	if (now >= c->expiry_ns) {
		take_expired_locked(dev, now - c->expiry_ns, &expired);
	}
	pthread_mutex_unlock(&c->lock);
	if (!cached) {
		vgalloc__blob_unmap(dev, blob);
		vgalloc__blob_unpin_release(dev, blob);
	}
	release_list(dev, expired);
	return 0;
}
