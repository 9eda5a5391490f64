/* SPDX-License-Identifier: MIT */
/*
 * Blobs: RESOURCE_CREATE_BLOB, the one refcounted mapping per blob, PRIME export and import, and
 * the GEM-handle dedup table. The table exists because GEM handles are per fd and the kernel hands
 * out the same handle for every import of one buffer: exactly one owner may ever close it.
 */
#include <errno.h>
#include <string.h>

#include "blob.h"
#include "state.h"

_Static_assert(sizeof(struct vgalloc_blob_create_info) == VGALLOC__V0_BLOB_CREATE_INFO,
               "blob create-info version 0 size");
_Static_assert(sizeof(struct vgalloc_blob_import_info) == VGALLOC__V0_BLOB_IMPORT_INFO,
               "blob import-info version 0 size");
_Static_assert(sizeof(struct vgalloc_blob_info) == VGALLOC__V0_BLOB_INFO,
               "blob info version 0 size");

bool vgalloc__blob_window(uint32_t blob_mem, uint32_t flags)
{
	/* HOST3D_GUEST is backed by guest pages and takes no window range. */
	return (flags & VGALLOC_BLOB_FLAG_MAPPABLE) &&
	       (blob_mem == VGALLOC_BLOB_MEM_HOST3D ||
	        blob_mem == VGALLOC_UAPI_BLOB_MEM_GUEST_VRAM);
}

static bool blob_live(struct vgalloc_device *dev, const struct vgalloc_blob *blob)
{
	bool live;

	pthread_mutex_lock(&dev->fd->lock);
	live = vgalloc__slab_live(&dev->fd->blobs, blob);
	pthread_mutex_unlock(&dev->fd->lock);
	return live;
}

static struct vgalloc_blob *blob_new(struct vgalloc_device *dev)
{
	struct vgalloc_blob *blob;

	pthread_mutex_lock(&dev->fd->lock);
	blob = vgalloc__slab_get_locked(&dev->fd->allocator, &dev->fd->blobs);
	pthread_mutex_unlock(&dev->fd->lock);
	return blob;
}

static void blob_put(struct vgalloc_device *dev, struct vgalloc_blob *blob)
{
	pthread_mutex_lock(&dev->fd->lock);
	vgalloc__slab_put_locked(&dev->fd->blobs, blob);
	pthread_mutex_unlock(&dev->fd->lock);
}

/* import_lock held. Returns false when the table cannot grow. */
static bool table_reserve_locked(struct vgalloc_device *dev, uint32_t handle)
{
	struct vgalloc_blob **t;
	uint32_t cap;

	if (handle < dev->fd->by_handle_cap) {
		return true;
	}
	/* The kernel hands out the lowest free handle, so handles stay near the number of live
	 * objects on the fd; one above 2^24 (16M objects) is not worth a table of 2 × handle
	 * entries (a fuzzed kernel answering 2^28 asked for 4 GiB). */
	if (handle >= (1u << 24)) {
		return false;
	}
	cap = VGALLOC__MAX(64u, handle * 2);
	t = vgalloc__alloc(&dev->fd->allocator, sizeof(*t) * cap, 8, dev->fd->scope);
	if (!t) {
		return false;
	}
	memset(t, 0, sizeof(*t) * cap);
	if (dev->fd->by_handle) {
		memcpy(t, dev->fd->by_handle, sizeof(*t) * dev->fd->by_handle_cap);
	}
	vgalloc__free(&dev->fd->allocator, dev->fd->by_handle);
	dev->fd->by_handle = t;
	dev->fd->by_handle_cap = cap;
	return true;
}

static struct vgalloc_blob *table_get_locked(struct vgalloc_device *dev, uint32_t handle)
{
	return handle < dev->fd->by_handle_cap ? dev->fd->by_handle[handle] : NULL;
}

/* import_lock held: GEM close. Never logs: the log callback must not run under a library lock. */
static int close_raw_locked(struct vgalloc_device *dev, uint32_t handle)
{
	int ret = VGALLOC__BE(dev, blob_destroy, handle);

	if (ret) {
		vgalloc__stat_add(&dev->stats.teardown_errors, 1);
	}
	return ret;
}

/* import_lock held: give up a handle the library holds; with a consumer's table, its reference
 * there (the table closes the handle when nobody holds it any more). */
static int gem_close_locked(struct vgalloc_device *dev, uint32_t handle)
{
	if (dev->fd->has_handles) {
		dev->fd->handles.unref(dev->fd->handles.ctx, handle);
		return 0;
	}
	return close_raw_locked(dev, handle);
}

/* import_lock held: PRIME import, through the consumer's table when there is one. */
static int prime_import_locked(struct vgalloc_device *dev, int fd, uint32_t *handle)
{
	if (dev->fd->has_handles) {
		return vgalloc__errno(dev->fd->handles.import(dev->fd->handles.ctx, fd, handle));
	}
	return VGALLOC__BE(dev, blob_import, fd, handle);
}

/* import_lock held: a handle the library made or was given, entered in the consumer's table. */
static int table_ref_locked(struct vgalloc_device *dev, uint32_t handle)
{
	return dev->fd->has_handles
	               ? vgalloc__errno(dev->fd->handles.ref(dev->fd->handles.ctx, handle))
	               : 0;
}

/* The blob_mem every blob this device imports must have. */
static uint32_t device_blob_mem(const struct vgalloc_device *dev)
{
	return dev->ld.traits.guest_vram ? VGALLOC_UAPI_BLOB_MEM_GUEST_VRAM
	                                 : VGALLOC_BLOB_MEM_HOST3D;
}

static void account(struct vgalloc_device *dev, const struct vgalloc_blob *blob, bool add)
{
	void (*op)(atomic_uint_fast64_t *, uint64_t) = add ? vgalloc__stat_add : vgalloc__stat_sub;

	op(&dev->fd->stats.blobs_live, 1);
	op(&dev->fd->stats.blob_bytes, blob->size);
	if (blob->origin == VGALLOC_BLOB_CREATED &&
	    vgalloc__blob_window(blob->blob_mem, blob->blob_flags)) {
		op(&dev->fd->stats.window_bytes, blob->size);
	}
}

static int validate_create(const struct vgalloc_device *dev,
                           const struct vgalloc_blob_create_info *info, uint64_t *size)
{
	bool guest_handle = info->blob_flags & VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE;

	if (!info->size || !vgalloc__align_up(info->size, dev->ld.traits.blob_alignment, size)) {
		return -EINVAL;
	}
	/* Downstream GUEST_VRAM (4) is EINVAL on mainline: only when the device is configured so. */
	if (info->blob_mem < VGALLOC_BLOB_MEM_GUEST ||
	    (info->blob_mem > VGALLOC_BLOB_MEM_HOST3D_GUEST &&
	     !(info->blob_mem == VGALLOC_UAPI_BLOB_MEM_GUEST_VRAM && dev->ld.traits.guest_vram)) ||
	    (info->blob_flags &
	     ~(uint32_t)(VGALLOC__BLOB_FLAGS_MAINLINE | VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE))) {
		return -EINVAL;
	}
	if (info->cmd_size % 4 || info->cmd_size > VGALLOC__MAX_CMD_SIZE ||
	    (info->cmd_size && !info->cmd)) {
		return -EINVAL;
	}
	/* The downstream kernels that have CREATE_GUEST_HANDLE take it on GUEST blobs only: the host
	 * makes an OS handle of the guest pages and files it under (context, blob_id). */
	if (guest_handle && info->blob_mem != VGALLOC_BLOB_MEM_GUEST) {
		return -EINVAL;
	}
	/* Other GUEST blobs are plain guest memory: the host has nothing to look up or to run. */
	if (info->blob_mem == VGALLOC_BLOB_MEM_GUEST &&
	    ((info->blob_id && !guest_handle) || info->cmd_size)) {
		return -EINVAL;
	}
	if (guest_handle && !dev->ld.traits.create_guest_handle) {
		return -EOPNOTSUPP;
	}
	if (info->blob_mem != VGALLOC_BLOB_MEM_GUEST &&
	    dev->fd->params[VGALLOC_PARAM_3D_FEATURES] != 1) {
		return -EOPNOTSUPP;
	}
	if ((info->blob_flags & VGALLOC_BLOB_FLAG_CROSS_DEVICE) &&
	    dev->fd->params[VGALLOC_PARAM_CROSS_DEVICE] != 1) {
		return -EOPNOTSUPP;
	}
	if (vgalloc__blob_window(info->blob_mem, info->blob_flags) &&
	    dev->fd->params[VGALLOC_PARAM_HOST_VISIBLE] != 1) {
		return -EOPNOTSUPP;
	}
	return 0;
}

int vgalloc__blob_create(struct vgalloc_device *dev, const struct vgalloc_blob_create_info *info,
                         struct vgalloc_blob **out_blob)
{
	struct vgalloc_backend_blob_args args;
	struct vgalloc_blob *blob;
	uint32_t handle = 0, res_id = 0;
	uint64_t size;
	int ret;

	ret = validate_create(dev, info, &size);
	if (ret) {
		return ret;
	}
	blob = blob_new(dev);
	if (!blob) {
		return -ENOMEM;
	}
	args = (struct vgalloc_backend_blob_args){
		.blob_mem = info->blob_mem,
		.blob_flags = info->blob_flags,
		.size = size,
		.blob_id = info->blob_id,
		.cmd = info->cmd,
		.cmd_size = info->cmd_size,
	};
	ret = VGALLOC__BE(dev, blob_create, &args, &handle, &res_id);
	if (ret == -ENOSPC) {
		vgalloc__stat_add(&dev->stats.enospc_events, 1);
	}
	if (ret) {
		blob_put(dev, blob);
		return ret;
	}

	pthread_mutex_lock(&dev->fd->import_lock);
	/* A handle we already track, or a zero id, is a kernel answer we cannot trust. */
	if (!handle || !res_id || table_get_locked(dev, handle)) {
		if (handle && !table_get_locked(dev, handle)) {
			close_raw_locked(dev, handle);
		}
		pthread_mutex_unlock(&dev->fd->import_lock);
		blob_put(dev, blob);
		return -EIO;
	}
	ret = table_reserve_locked(dev, handle) ? table_ref_locked(dev, handle) : -ENOMEM;
	if (ret) {
		close_raw_locked(dev, handle);
		pthread_mutex_unlock(&dev->fd->import_lock);
		blob_put(dev, blob);
		return ret;
	}
	blob->gem_handle = handle;
	blob->res_id = res_id;
	blob->blob_mem = info->blob_mem;
	blob->blob_flags = info->blob_flags;
	blob->blob_id = info->blob_id;
	blob->size = size;
	blob->origin = VGALLOC_BLOB_CREATED;
	blob->refcount = 1;
	dev->fd->by_handle[handle] = blob;
	pthread_mutex_unlock(&dev->fd->import_lock);

	account(dev, blob, true);
	vgalloc__stat_add(&dev->fd->stats.blobs_created, 1);
	*out_blob = blob;
	return 0;
}

int vgalloc_blob_create(struct vgalloc_device *dev, const struct vgalloc_blob_create_info *uinfo,
                        struct vgalloc_blob **out_blob)
{
	struct vgalloc_blob_create_info info;
	int ret;

	if (!dev || !out_blob) {
		return -EINVAL;
	}
	ret = vgalloc__struct_in(uinfo, VGALLOC__V0_BLOB_CREATE_INFO, sizeof(info), &info);
	if (ret) {
		return ret;
	}
	return vgalloc__blob_create(dev, &info, out_blob);
}

int vgalloc__blob_map(struct vgalloc_device *dev, struct vgalloc_blob *blob, void **out_ptr)
{
	void *ptr = NULL;
	int ret;

	if (!(blob->blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE)) {
		return -EINVAL;
	}
	pthread_mutex_lock(&dev->fd->lock);
	vgalloc__once_wait(&dev->fd->lock, &dev->fd->cond, &blob->map_busy);
	if (blob->map) {
		blob->map_count++;
		*out_ptr = blob->map;
		pthread_mutex_unlock(&dev->fd->lock);
		return 0;
	}
	/* Once-guard: the first map can wait ~1 ms for the host, so it runs without the lock. */
	blob->map_busy = true;
	pthread_mutex_unlock(&dev->fd->lock);

	ret = VGALLOC__BE(dev, blob_map, blob->gem_handle, blob->size, &ptr);
	if (!ret && !ptr) {
		ret = -EIO;
	}

	pthread_mutex_lock(&dev->fd->lock);
	if (!ret) {
		blob->map = ptr;
		blob->map_count = 1;
		*out_ptr = ptr;
	}
	vgalloc__once_leave(&dev->fd->cond, &blob->map_busy);
	pthread_mutex_unlock(&dev->fd->lock);
	if (!ret) {
		vgalloc__stat_add(&dev->fd->stats.blobs_mapped, 1);
	}
	return ret;
}

static void unmap_now(struct vgalloc_device *dev, struct vgalloc_blob *blob, void *ptr)
{
	if (VGALLOC__BE(dev, blob_unmap, blob->gem_handle, ptr, blob->size)) {
		vgalloc__stat_add(&dev->stats.teardown_errors, 1);
	}
	vgalloc__stat_sub(&dev->fd->stats.blobs_mapped, 1);
}

/*
 * Drop one map reference; the last one unmaps. For a caller of the public API (`user`), a
 * shared-memory blob's own reference is not there to drop (-EINVAL, nothing changed). The check
 * and the decrement share one critical section, so two racing callers cannot both pass it.
 */
static int unmap_ref(struct vgalloc_device *dev, struct vgalloc_blob *blob, bool user)
{
	uint32_t floor;
	void *ptr;

	pthread_mutex_lock(&dev->fd->lock);
	vgalloc__once_wait(&dev->fd->lock, &dev->fd->cond, &blob->map_busy);
	/* shmem.c writes blob->shmem under dev->fd->lock too. */
	floor = user && blob->shmem != VGALLOC__SHMEM_NONE ? 1u : 0u;
	if (!blob->map || blob->map_count <= floor) {
		pthread_mutex_unlock(&dev->fd->lock);
		return -EINVAL;
	}
	if (--blob->map_count) {
		pthread_mutex_unlock(&dev->fd->lock);
		return 0;
	}
	ptr = blob->map;
	blob->map_busy = true;
	pthread_mutex_unlock(&dev->fd->lock);

	unmap_now(dev, blob, ptr);

	pthread_mutex_lock(&dev->fd->lock);
	blob->map = NULL;
	vgalloc__once_leave(&dev->fd->cond, &blob->map_busy);
	pthread_mutex_unlock(&dev->fd->lock);
	return 0;
}

void vgalloc__blob_unmap(struct vgalloc_device *dev, struct vgalloc_blob *blob)
{
	unmap_ref(dev, blob, false);
}

int vgalloc_blob_map(struct vgalloc_device *dev, struct vgalloc_blob *blob, void **out_ptr)
{
	if (!dev || !out_ptr || !blob_live(dev, blob)) {
		return -EINVAL;
	}
	return vgalloc__blob_map(dev, blob, out_ptr);
}

int vgalloc_blob_unmap(struct vgalloc_device *dev, struct vgalloc_blob *blob)
{
	if (!dev || !blob_live(dev, blob)) {
		return -EINVAL;
	}
	return unmap_ref(dev, blob, true);
}

/*
 * import_lock held. Drop one reference; on the last one forget the handle, unmap and GEM-close in
 * the same critical section: once the handle is out of the table, a concurrent import of the same
 * buffer would get this very handle from the kernel. Returns true when the caller must finish
 * the release (vgalloc__blob_finish) after unlocking.
 */
static bool release_locked(struct vgalloc_device *dev, struct vgalloc_blob *blob, int *close_err)
{
	void *ptr;

	if (--blob->refcount) {
		return false;
	}
	dev->fd->by_handle[blob->gem_handle] = NULL;
	/* The map state is fd.lock's: a racing unmap (an application bug, but one that must not
	 * corrupt anything) may be between its two critical sections; wait for it. */
	pthread_mutex_lock(&dev->fd->lock);
	vgalloc__once_wait(&dev->fd->lock, &dev->fd->cond, &blob->map_busy);
	ptr = blob->map;
	blob->map = NULL;
	blob->map_count = 0;
	pthread_mutex_unlock(&dev->fd->lock);
	if (ptr) {
		unmap_now(dev, blob, ptr);
	}
	*close_err = gem_close_locked(dev, blob->gem_handle);
	return true;
}

/* After release_locked() returned true, with no lock held. */
static void finish_release(struct vgalloc_device *dev, struct vgalloc_blob *blob, int close_err)
{
	if (close_err) {
		vgalloc__log(dev, VGALLOC_LOG_WARN, "GEM close of handle %u failed: %d",
		             blob->gem_handle, close_err);
	}
	account(dev, blob, false);
	blob_put(dev, blob);
}

/* Drop one reference (and the pin a memory object held, `unpin`); the last one releases. */
static void release(struct vgalloc_device *dev, struct vgalloc_blob *blob, bool unpin)
{
	int close_err = 0;
	bool last;

	pthread_mutex_lock(&dev->fd->import_lock);
	blob->mem_refs -= unpin ? 1 : 0;
	last = release_locked(dev, blob, &close_err);
	pthread_mutex_unlock(&dev->fd->import_lock);
	if (last) {
		finish_release(dev, blob, close_err);
	}
}

void vgalloc__blob_release(struct vgalloc_device *dev, struct vgalloc_blob *blob)
{
	release(dev, blob, false);
}

void vgalloc__blob_pin(struct vgalloc_device *dev, struct vgalloc_blob *blob)
{
	pthread_mutex_lock(&dev->fd->import_lock);
	blob->mem_refs++;
	pthread_mutex_unlock(&dev->fd->import_lock);
}

void vgalloc__blob_unpin_release(struct vgalloc_device *dev, struct vgalloc_blob *blob)
{
	release(dev, blob, true);
}

int vgalloc_blob_destroy(struct vgalloc_device *dev, struct vgalloc_blob *blob)
{
	int close_err = 0;
	bool live, last;

	if (!dev) {
		return -EINVAL;
	}
	if (!blob) {
		return 0;
	}
	/* Check and drop in one critical section, so two racing destroys cannot both pass. */
	pthread_mutex_lock(&dev->fd->import_lock);
	pthread_mutex_lock(&dev->fd->lock);
	live = vgalloc__slab_live(&dev->fd->blobs, blob);
	pthread_mutex_unlock(&dev->fd->lock);
	if (!live) {
		pthread_mutex_unlock(&dev->fd->import_lock);
		return -EINVAL;
	}
	/* References held by memory objects are not the caller's to drop. */
	if (blob->refcount <= blob->mem_refs) {
		pthread_mutex_unlock(&dev->fd->import_lock);
		return -EBUSY;
	}
	last = release_locked(dev, blob, &close_err);
	if (last) {
		/* Dead to every other caller from now on, before the slot is recycled. */
		pthread_mutex_lock(&dev->fd->lock);
		atomic_store_explicit(&blob->slot.magic, VGALLOC__MAGIC_DYING,
		                      memory_order_relaxed);
		pthread_mutex_unlock(&dev->fd->lock);
	}
	pthread_mutex_unlock(&dev->fd->import_lock);
	if (last) {
		finish_release(dev, blob, close_err);
	}
	return 0;
}

int vgalloc_blob_export_dmabuf(struct vgalloc_device *dev, struct vgalloc_blob *blob, int *out_fd)
{
	uint32_t flags = VGALLOC_BACKEND_EXPORT_CLOEXEC;
	int fd = -1;
	int ret;

	if (!dev || !out_fd || !blob_live(dev, blob)) {
		return -EINVAL;
	}
	if (!(blob->blob_flags & VGALLOC_BLOB_FLAG_SHAREABLE)) {
		return -EINVAL;
	}
	/* Without RDWR the importer could only mmap the dma-buf read-only. */
	if (blob->blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE) {
		flags |= VGALLOC_BACKEND_EXPORT_RDWR;
	}
	ret = VGALLOC__BE(dev, blob_export, blob->gem_handle, flags, &fd);
	if (ret) {
		return ret;
	}
	if (fd < 0) {
		return -EIO;
	}
	*out_fd = fd;
	return 0;
}

/* Fill a public info struct from a blob; import_lock held (refcount), takes dev->fd->lock. */
static void fill_info(struct vgalloc_device *dev, const struct vgalloc_blob *blob,
                      struct vgalloc_blob_info *info)
{
	memset(info, 0, sizeof(*info));
	info->struct_size = sizeof(*info);
	info->res_id = blob->res_id;
	info->gem_handle = blob->gem_handle;
	info->blob_mem = blob->blob_mem;
	info->blob_flags = blob->blob_flags;
	info->origin = blob->origin;
	info->refcount = blob->refcount;
	info->size = blob->size;
	info->blob_id = blob->blob_id;
	pthread_mutex_lock(&dev->fd->lock);
	info->map = blob->map;
	info->map_count = blob->map_count;
	pthread_mutex_unlock(&dev->fd->lock);
}

/* import_lock held. Check a RESOURCE_INFO answer against what the device and caller need. */
static int check_resource_locked(struct vgalloc_device *dev, uint32_t handle, uint64_t need_size,
                                 struct vgalloc_backend_blob_info *bi)
{
	int ret;

	memset(bi, 0, sizeof(*bi));
	ret = VGALLOC__BE(dev, blob_info, handle, bi);
	if (ret) {
		return ret;
	}
	if (!bi->res_id || !bi->size) {
		return -EIO;
	}
	/* A non-blob resource reports blob_mem 0; a blob of another kind cannot back our memory. */
	if (bi->blob_mem != device_blob_mem(dev)) {
		return -EINVAL;
	}
	if (need_size > bi->size) {
		return -EINVAL;
	}
	return 0;
}

/*
 * import_lock held: a handle the kernel gave us for someone else's resource becomes a tracked
 * blob. RESOURCE_INFO does not report flags: the importer's word is all there is.
 */
static void track_locked(struct vgalloc_device *dev, struct vgalloc_blob *blob, uint32_t handle,
                         const struct vgalloc_backend_blob_info *bi, uint32_t flags,
                         uint32_t origin)
{
	blob->gem_handle = handle;
	blob->res_id = bi->res_id;
	blob->blob_mem = bi->blob_mem;
	blob->blob_flags = flags;
	blob->size = bi->size;
	blob->origin = origin;
	blob->refcount = 1;
	dev->fd->by_handle[handle] = blob;
}

/* A tracked blob answers a re-import only if it is what the importer needs. */
static bool covers(const struct vgalloc_device *dev, const struct vgalloc_blob *blob, uint64_t size,
                   uint32_t flags)
{
	return blob->blob_mem == device_blob_mem(dev) && size <= blob->size &&
	       (flags & ~blob->blob_flags) == 0;
}

int vgalloc__blob_import(struct vgalloc_device *dev, int fd,
                         const struct vgalloc_blob_import_info *info, struct vgalloc_blob **out,
                         struct vgalloc_blob_info *query)
{
	struct vgalloc_backend_blob_info bi;
	struct vgalloc_blob *blob = NULL;
	bool query_only = info->flags & VGALLOC_IMPORT_QUERY_ONLY;
	uint32_t handle = 0;
	int ret;

	if (fd < 0 || (info->blob_flags & ~(uint32_t)VGALLOC__BLOB_FLAGS_MAINLINE) ||
	    (info->flags & ~VGALLOC__IMPORT_FLAGS_ALL) || info->reserved ||
	    (query_only && !query)) {
		return -EINVAL;
	}
	pthread_mutex_lock(&dev->fd->import_lock);
	ret = prime_import_locked(dev, fd, &handle);
	if (ret) {
		pthread_mutex_unlock(&dev->fd->import_lock);
		/* The fd is the application's: a closed or foreign one is a bad argument. */
		return ret == -EBADF ? -EINVAL : ret;
	}
	if (!handle) {
		pthread_mutex_unlock(&dev->fd->import_lock);
		return -EIO;
	}
	blob = table_get_locked(dev, handle);
	if (blob && dev->fd->has_handles) {
		/* The consumer's table counted a second library reference: one is enough. */
		dev->fd->handles.unref(dev->fd->handles.ctx, handle);
	}
	if (blob) {
		/* The kernel gave us a handle we already own: answer from the table, close nothing. */
		if (!covers(dev, blob, info->size, info->blob_flags)) {
			ret = -EINVAL;
		} else if (query_only) {
			fill_info(dev, blob, query);
		} else {
			blob->refcount++;
			vgalloc__stat_add(&dev->fd->stats.import_dedups, 1);
			*out = blob;
		}
		pthread_mutex_unlock(&dev->fd->import_lock);
		return ret;
	}
	ret = check_resource_locked(dev, handle, info->size, &bi);
	if (!ret && query_only) {
		memset(query, 0, sizeof(*query));
		query->struct_size = sizeof(*query);
		query->res_id = bi.res_id;
		query->size = bi.size;
		query->blob_mem = bi.blob_mem;
		query->blob_flags = info->blob_flags;
		query->origin = VGALLOC_BLOB_IMPORTED;
	}
	if (!ret && !query_only && !table_reserve_locked(dev, handle)) {
		ret = -ENOMEM;
	}
	if (!ret && !query_only && !(blob = blob_new(dev))) {
		ret = -ENOMEM;
	}
	if (ret || query_only) {
		/* Not tracked before this call, so nobody else holds this handle: close it. */
		gem_close_locked(dev, handle);
		pthread_mutex_unlock(&dev->fd->import_lock);
		return ret;
	}
	track_locked(dev, blob, handle, &bi, info->blob_flags, VGALLOC_BLOB_IMPORTED);
	pthread_mutex_unlock(&dev->fd->import_lock);
	account(dev, blob, true);
	vgalloc__stat_add(&dev->fd->stats.blobs_imported, 1);
	*out = blob;
	return 0;
}

int vgalloc_blob_import_dmabuf(struct vgalloc_device *dev, int fd,
                               const struct vgalloc_blob_import_info *uinfo,
                               struct vgalloc_blob **out_blob)
{
	struct vgalloc_blob_import_info info = { .struct_size = sizeof(info) };
	int ret;

	if (!dev || !out_blob) {
		return -EINVAL;
	}
	if (uinfo) {
		ret = vgalloc__struct_in(uinfo, VGALLOC__V0_BLOB_IMPORT_INFO, sizeof(info), &info);
		if (ret) {
			return ret;
		}
	}
	if (info.flags & VGALLOC_IMPORT_QUERY_ONLY) {
		return -EINVAL; /* use vgalloc_blob_query_dmabuf() */
	}
	return vgalloc__blob_import(dev, fd, &info, out_blob, NULL);
}

int vgalloc_blob_query_dmabuf(struct vgalloc_device *dev, int fd, struct vgalloc_blob_info *out)
{
	struct vgalloc_blob_import_info info = {
		.struct_size = sizeof(info),
		.flags = VGALLOC_IMPORT_QUERY_ONLY,
	};
	struct vgalloc_blob_info bi;
	int ret;

	if (!dev || !out || !vgalloc__struct_room(out, VGALLOC__V0_BLOB_INFO)) {
		return -EINVAL;
	}
	ret = vgalloc__blob_import(dev, fd, &info, NULL, &bi);
	if (ret) {
		return ret;
	}
	return vgalloc__struct_out(out, &bi, VGALLOC__V0_BLOB_INFO, sizeof(bi));
}

int vgalloc_blob_wrap_handle(struct vgalloc_device *dev, uint32_t gem_handle, uint32_t blob_flags,
                             struct vgalloc_blob **out_blob)
{
	struct vgalloc_backend_blob_info bi;
	struct vgalloc_blob *blob;
	int ret;

	if (!dev || !out_blob || !gem_handle ||
	    (blob_flags & ~(uint32_t)VGALLOC__BLOB_FLAGS_MAINLINE)) {
		return -EINVAL;
	}
	pthread_mutex_lock(&dev->fd->import_lock);
	blob = table_get_locked(dev, gem_handle);
	if (blob) {
		if (!covers(dev, blob, 0, blob_flags)) {
			pthread_mutex_unlock(&dev->fd->import_lock);
			return -EINVAL;
		}
		blob->refcount++;
		vgalloc__stat_add(&dev->fd->stats.import_dedups, 1);
		pthread_mutex_unlock(&dev->fd->import_lock);
		*out_blob = blob;
		return 0;
	}
	/* On error the handle stays the caller's: never close it here. */
	ret = check_resource_locked(dev, gem_handle, 0, &bi);
	if (ret == -ENOENT) {
		ret = -EINVAL; /* RESOURCE_INFO's answer for a handle that does not exist */
	}
	if (!ret && !table_reserve_locked(dev, gem_handle)) {
		ret = -ENOMEM;
	}
	if (!ret && !(blob = blob_new(dev))) {
		ret = -ENOMEM;
	}
	/* The consumer's table keeps the handle; the library holds one reference in it. */
	if (!ret && (ret = table_ref_locked(dev, gem_handle)) != 0) {
		blob_put(dev, blob);
	}
	if (ret) {
		pthread_mutex_unlock(&dev->fd->import_lock);
		return ret;
	}
	track_locked(dev, blob, gem_handle, &bi, blob_flags, VGALLOC_BLOB_WRAPPED);
	pthread_mutex_unlock(&dev->fd->import_lock);
	account(dev, blob, true);
	*out_blob = blob;
	return 0;
}

int vgalloc_blob_get_info(struct vgalloc_device *dev, const struct vgalloc_blob *blob,
                          struct vgalloc_blob_info *out)
{
	struct vgalloc_blob_info info;
	bool live;

	if (!dev || !out) {
		return -EINVAL;
	}
	/* Checked and read under the import lock: a concurrent last destroy cannot interleave. */
	pthread_mutex_lock(&dev->fd->import_lock);
	pthread_mutex_lock(&dev->fd->lock);
	live = vgalloc__slab_live(&dev->fd->blobs, blob);
	pthread_mutex_unlock(&dev->fd->lock);
	if (live) {
		fill_info(dev, blob, &info);
	}
	pthread_mutex_unlock(&dev->fd->import_lock);
	if (!live) {
		return -EINVAL;
	}
	return vgalloc__struct_out(out, &info, VGALLOC__V0_BLOB_INFO, sizeof(info));
}

static void release_all(void *obj, void *arg)
{
	struct vgalloc_blob *blob = obj;
	struct vgalloc_device *dev = arg;

	vgalloc__log(dev, VGALLOC_LOG_WARN, "device destroyed with blob res %u alive",
	             blob->res_id);
	blob->refcount = 1;
	vgalloc__blob_release(dev, blob);
}

void vgalloc__blob_destroy_all(struct vgalloc_device *dev)
{
	/* Device destroy: no other thread may use the device, so no lock is needed to walk. */
	vgalloc__slab_each_live(&dev->fd->blobs, release_all, dev);
}
