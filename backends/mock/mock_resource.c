/* SPDX-License-Identifier: MIT */
/*
 * The mock kernel's resources (GEM objects): the host-visible window's range allocator, GEM
 * handles, exported dma-buf fds and the lifetime they give a resource. Resources are backed by
 * real memfds so exported fds, mmaps and imports behave as dma-bufs do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mock_state.h"

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* ---------------------------------------------------------------------------------------------
 * The window: first fit over a sorted free list, coalescing on free, like the guest kernel's
 * drm_mm over VIRTIO_GPU_SHM_ID_HOST_VISIBLE. Offsets are aligned to the host page because the
 * hypervisor can only back whole host pages.
 */

int vgalloc__mock_window_init(struct mock_window *w, uint64_t size, uint64_t align)
{
	w->size = size;
	w->align = align;
	if (size == 0) {
		return 0;
	}
	w->free = malloc(4 * sizeof(*w->free));
	if (!w->free) {
		return -ENOMEM;
	}
	w->cap = 4;
	w->free[0] = (struct mock_range){ 0, size };
	w->count = 1;
	return 0;
}

/* Free ranges are separated by allocated ones, so ranges + 1 slots make every free infallible. */
static int window_reserve(struct mock_window *w)
{
	struct mock_range *f = vgalloc__mock_grow(w->free, &w->cap, w->ranges + 2, sizeof(*f), 4);

	if (!f) {
		return -ENOMEM;
	}
	w->free = f;
	return 0;
}

static int window_alloc(struct mock_window *w, uint64_t size, uint64_t *out_offset)
{
	for (uint32_t i = 0; i < w->count; i++) {
		struct mock_range *r = &w->free[i];
		uint64_t end = r->offset + r->size;
		uint64_t start = align_up(r->offset, w->align);
		uint64_t prefix, suffix;

		if (start >= end || end - start < size) {
			continue;
		}
		prefix = start - r->offset;
		suffix = end - start - size;
		if (prefix == 0 && suffix == 0) {
			memmove(r, r + 1, (w->count - i - 1) * sizeof(*r));
			w->count--;
		} else if (prefix == 0) {
			r->offset += size;
			r->size -= size;
		} else if (suffix == 0) {
			r->size = prefix;
		} else {
			r->size = prefix;
			memmove(r + 2, r + 1, (w->count - i - 1) * sizeof(*r));
			r[1] = (struct mock_range){ start + size, suffix };
			w->count++;
		}
		w->ranges++;
		*out_offset = start;
		return 0;
	}
	return -ENOSPC;
}

static void window_free(struct mock_window *w, uint64_t offset, uint64_t size)
{
	uint32_t lo = 0, hi = w->count;
	bool merge_prev, merge_next;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (w->free[mid].offset < offset) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	merge_prev = lo > 0 && w->free[lo - 1].offset + w->free[lo - 1].size == offset;
	merge_next = lo < w->count && offset + size == w->free[lo].offset;
	if (merge_prev && merge_next) {
		w->free[lo - 1].size += size + w->free[lo].size;
		memmove(&w->free[lo], &w->free[lo + 1], (w->count - lo - 1) * sizeof(*w->free));
		w->count--;
	} else if (merge_prev) {
		w->free[lo - 1].size += size;
	} else if (merge_next) {
		w->free[lo].offset = offset;
		w->free[lo].size += size;
	} else {
		memmove(&w->free[lo + 1], &w->free[lo], (w->count - lo) * sizeof(*w->free));
		w->free[lo] = (struct mock_range){ offset, size };
		w->count++;
	}
	w->ranges--;
}

/* ---------------------------------------------------------------------------------------------
 * GEM handles: the lowest free number ≥ 1, as the kernel's idr hands them out, so a closed
 * handle's number comes back and stale-handle bugs show up in tests.
 */

static int handles_reserve(struct vgalloc_mock *m)
{
	uint32_t cap = m->handle_cap ? m->handle_cap * 2 : 64;
	struct mock_resource **handles;
	uint64_t *bits;

	if (m->handle_used < m->handle_cap) {
		return 0;
	}
	if (cap > (1u << 31)) {
		return -ENOSPC;
	}
	handles = realloc(m->handles, cap * sizeof(*handles));
	if (!handles) {
		return -ENOMEM;
	}
	m->handles = handles;
	bits = realloc(m->handle_bits, cap / 64 * sizeof(*bits));
	if (!bits) {
		return -ENOMEM;
	}
	m->handle_bits = bits;
	memset(&handles[m->handle_cap], 0, (cap - m->handle_cap) * sizeof(*handles));
	memset(&bits[m->handle_cap / 64], 0, (cap - m->handle_cap) / 64 * sizeof(*bits));
	if (m->handle_cap == 0) {
		bits[0] = 1; /* handle 0 means "no handle" */
		m->handle_used = 1;
		m->handle_hint = 1;
	}
	m->handle_cap = cap;
	return 0;
}

static uint32_t handle_take(struct vgalloc_mock *m, struct mock_resource *res)
{
	uint32_t h = 0;

	for (uint32_t w = m->handle_hint / 64; w < m->handle_cap / 64; w++) {
		uint64_t free_bits = ~m->handle_bits[w];

		if (free_bits) {
			h = w * 64 + (uint32_t)__builtin_ctzll(free_bits);
			break;
		}
	}
	m->handle_bits[h / 64] |= 1ull << (h % 64);
	m->handle_used++;
	m->handle_hint = h + 1;
	m->handles[h] = res;
	return h;
}

static void handle_release(struct vgalloc_mock *m, uint32_t h)
{
	m->handle_bits[h / 64] &= ~(1ull << (h % 64));
	m->handles[h] = NULL;
	m->handle_used--;
	if (h < m->handle_hint) {
		m->handle_hint = h;
	}
}

struct mock_resource *vgalloc__mock_res_by_handle_locked(struct vgalloc_mock *m, uint32_t h)
{
	if (h == 0 || h >= m->handle_cap) {
		return NULL;
	}
	return m->handles[h];
}

/* ---------------------------------------------------------------------------------------------
 * Resources, exported fds and their lifetime.
 */

/*
 * Whether the caller still holds the exported fd: the same file behind the same number. The
 * owner may close it at any moment from another thread, so it is looked at through
 * /proc/self/fd by path rather than used as an fd: the answer is a snapshot either way, and an
 * fd number reused for another file is told apart by its identity.
 */
static bool export_alive(const struct mock_export *x)
{
	char path[48];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", x->fd);
	if (stat(path, &st) != 0) {
		/* No such fd, or no /proc mounted: then ask the fd itself. */
		if (errno != ENOENT || stat("/proc/self/fd", &st) != 0) {
			return fstat(x->fd, &st) == 0 && st.st_dev == x->dev && st.st_ino == x->ino;
		}
		return false;
	}
	return st.st_dev == x->dev && st.st_ino == x->ino;
}

static void exports_prune_locked(struct vgalloc_mock *m)
{
	for (uint32_t i = 0; i < m->export_count;) {
		if (export_alive(&m->exports[i])) {
			i++;
		} else {
			m->exports[i] = m->exports[--m->export_count];
		}
	}
}

static bool res_exported_locked(const struct vgalloc_mock *m, const struct mock_resource *res)
{
	for (uint32_t i = 0; i < m->export_count; i++) {
		if (m->exports[i].res == res) {
			return true;
		}
	}
	return false;
}

uint64_t vgalloc__mock_open_fds_locked(struct vgalloc_mock *m)
{
	exports_prune_locked(m);
	return m->export_count + m->memfds;
}

static void unmap_all_locked(struct vgalloc_mock *m, struct mock_resource *res)
{
	if (!(m->flags & VGALLOC_MOCK_COUNTING_ONLY)) {
		for (uint32_t i = 0; i < res->map_count; i++) {
			munmap(res->maps[i].ptr, res->maps[i].size);
		}
	}
	if (res->map_count) {
		m->l.mapped_blobs--;
	}
	res->map_count = 0;
}

static void res_free(struct vgalloc_mock *m, struct mock_resource *res)
{
	unmap_all_locked(m, res);
	if (res->memfd >= 0) {
		close(res->memfd);
		m->memfds--;
	}
	free(res->maps);
	free(res);
}

/* The GEM object is gone: its window range goes back and the renderer forgets the resource. */
static void res_kill_locked(struct vgalloc_mock *m, struct mock_resource *res)
{
	for (uint32_t i = 0; i < m->export_count;) {
		if (m->exports[i].res == res) {
			m->exports[i] = m->exports[--m->export_count];
		} else {
			i++;
		}
	}
	if (res->in_window) {
		window_free(&m->window, res->range_offset, res->size);
		m->l.window_bytes -= res->size;
	}
	vgalloc__mock_map_del(&m->res_by_id, res->res_id);
	m->l.live_blobs--;
	m->l.blob_bytes -= res->size;
	res_free(m, res);
}

/*
 * A dma-buf keeps its GEM object alive after the last handle closes, so a closed resource with an
 * exported fd still open stays (window range and all) until that fd is seen closed.
 */
void vgalloc__mock_reap_locked(struct vgalloc_mock *m)
{
	if (m->orphans == 0) {
		return;
	}
	exports_prune_locked(m);
	for (;;) {
		struct mock_resource *victim = NULL;

		for (uint32_t i = 0; i < m->res_by_id.cap && !victim; i++) {
			struct mock_resource *res = m->res_by_id.vals[i];

			if (res && res->handle == 0 && !res_exported_locked(m, res)) {
				victim = res;
			}
		}
		if (!victim) {
			break;
		}
		if (victim->host_mapped) {
			m->l.modeled_ns += m->cost.destroy_ns;
		}
		m->orphans--;
		res_kill_locked(m, victim);
	}
}

void vgalloc__mock_res_fini(struct vgalloc_mock *m)
{
	for (uint32_t i = 0; i < m->res_by_id.cap; i++) {
		if (m->res_by_id.vals[i]) {
			res_free(m, m->res_by_id.vals[i]);
		}
	}
	vgalloc__mock_map_fini(&m->res_by_id);
	free(m->handles);
	free(m->handle_bits);
	free(m->exports);
	free(m->window.free);
}

/* Drop a resource that was never committed: no counter knows about it yet. */
static void res_discard(struct mock_resource *res)
{
	if (res->memfd >= 0) {
		close(res->memfd);
	}
	free(res);
}

static int res_memfd(struct mock_resource *res, uint64_t size)
{
	struct stat st;

	res->memfd = memfd_create("vgalloc-mock-blob", MFD_CLOEXEC);
	if (res->memfd < 0) {
		return -errno;
	}
	if ((size && ftruncate(res->memfd, (off_t)size) != 0) || fstat(res->memfd, &st) != 0) {
		int err = -errno;

		close(res->memfd);
		res->memfd = -1;
		return err;
	}
	res->dev = st.st_dev;
	res->ino = st.st_ino;
	return 0;
}

/*
 * A new resource for the blob `a` asks for, with everything that can fail for want of memory
 * reserved: the kernel refuses before it submits the cmd bytes, and nothing counts it yet.
 */
int vgalloc__mock_res_new_locked(struct vgalloc_mock *m, const struct vgalloc_backend_blob_args *a,
                                 struct mock_resource **out)
{
	struct mock_resource *res = calloc(1, sizeof(*res));
	int ret;

	if (!res) {
		return -ENOMEM;
	}
	res->memfd = -1;
	res->blob_mem = a->blob_mem;
	res->blob_flags = a->blob_flags;
	res->size = align_up(a->size, MOCK_GUEST_PAGE);
	res->blob_id = a->blob_id;
	/* HOST3D_GUEST is shmem-backed in the kernel (guest_blob): only HOST3D uses the window. */
	res->in_window = a->blob_mem == VGALLOC_BLOB_MEM_HOST3D &&
	                 (a->blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE);
	ret = handles_reserve(m);
	if (ret == 0) {
		ret = vgalloc__mock_map_reserve(&m->res_by_id, 1);
	}
	if (ret == 0 && res->in_window) {
		ret = window_reserve(&m->window);
	}
	if (ret == 0 && !(m->flags & VGALLOC_MOCK_COUNTING_ONLY)) {
		ret = res_memfd(res, res->size);
	}
	if (ret) {
		res_discard(res);
		return ret;
	}
	*out = res;
	return 0;
}

/* The new resource is made: its window range (a full window first gives back what closed
 * exported fds held), its id and handle, and the ledger counts it. Without a range it is gone. */
int vgalloc__mock_res_add_locked(struct vgalloc_mock *m, struct mock_resource *res)
{
	int ret = -EINVAL;

	if (res->in_window) {
		if (m->window.size != 0) {
			ret = window_alloc(&m->window, res->size, &res->range_offset);
			if (ret == -ENOSPC && m->orphans) {
				vgalloc__mock_reap_locked(m);
				ret = window_reserve(&m->window);
				if (ret == 0) {
					ret = window_alloc(&m->window, res->size,
					                   &res->range_offset);
				}
			}
		}
		if (ret) {
			res_discard(res);
			return ret;
		}
		m->l.window_bytes += res->size;
	}
	res->res_id = m->next_res_id++;
	res->handle = handle_take(m, res);
	vgalloc__mock_map_put(&m->res_by_id, res->res_id, res);
	if (res->memfd >= 0) {
		m->memfds++;
	}
	m->l.live_handles++;
	m->l.live_blobs++;
	m->l.blob_bytes += res->size;
	return 0;
}

/* An orphan imported again through its dma-buf: the object gets a handle back. */
int vgalloc__mock_res_reopen_locked(struct vgalloc_mock *m, struct mock_resource *res)
{
	int ret = handles_reserve(m);

	if (ret) {
		return ret;
	}
	res->handle = handle_take(m, res);
	m->orphans--;
	m->l.live_handles++;
	return 0;
}

int vgalloc__mock_res_export_locked(struct vgalloc_mock *m, struct mock_resource *res,
                                    uint32_t flags, int *out_fd)
{
	struct mock_export *x;
	char path[64];
	int fd, ret;

	x = vgalloc__mock_grow(m->exports, &m->export_cap, m->export_count + 1, sizeof(*x), 8);
	if (!x) {
		return -ENOMEM;
	}
	m->exports = x;
	if (res->memfd < 0) {
		/* Counting-only: an empty memfd gives the dma-buf an identity, not contents. */
		ret = res_memfd(res, 0);
		if (ret) {
			return ret;
		}
		m->memfds++;
	}
	/* Reopening gives a new open file of the same inode, as a dma-buf fd is to the object. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", res->memfd);
	fd = open(path, ((flags & VGALLOC_BACKEND_EXPORT_RDWR) ? O_RDWR : O_RDONLY) |
	                        ((flags & VGALLOC_BACKEND_EXPORT_CLOEXEC) ? O_CLOEXEC : 0));
	if (fd < 0) {
		return -errno;
	}
	/* The number came back from the kernel, so any older record of it is stale. */
	for (uint32_t i = 0; i < m->export_count;) {
		if (m->exports[i].fd == fd) {
			m->exports[i] = m->exports[--m->export_count];
		} else {
			i++;
		}
	}
	m->exports[m->export_count++] =
	        (struct mock_export){ .fd = fd, .dev = res->dev, .ino = res->ino, .res = res };
	/* Once exported the buffer may be imported by others: the renderer's resource then keeps
	 * the host memory alive, so its creator may free its host allocation first. */
	res->shared = true;
	*out_fd = fd;
	return 0;
}

/*
 * GEM close of the resource's handle; its mappings go with it. An exported fd still open keeps
 * the object (see reap). Returns whether the object died mapped by the host, which then unmaps it.
 */
bool vgalloc__mock_res_close_locked(struct vgalloc_mock *m, struct mock_resource *res)
{
	bool host_mapped = res->host_mapped;

	unmap_all_locked(m, res);
	handle_release(m, res->handle);
	res->handle = 0;
	m->l.live_handles--;
	exports_prune_locked(m);
	if (res_exported_locked(m, res)) {
		m->orphans++;
		return false;
	}
	res_kill_locked(m, res);
	return host_mapped;
}
