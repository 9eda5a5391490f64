/* SPDX-License-Identifier: MIT */
/*
 * The mock kernel's blob resources: RESOURCE_CREATE_BLOB, MAP + mmap, PRIME export and import,
 * RESOURCE_INFO and GEM close, with the host-visible window's range allocator. Resources
 * are backed by real memfds so exported fds, mmaps and imports behave as dma-bufs do.
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

#include "mock_private.h"

#define MOCK_BLOB_FLAGS \
	(VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE | VGALLOC_BLOB_FLAG_CROSS_DEVICE)
/* Downstream only: what the kernel takes once the device negotiated CREATE_GUEST_HANDLE. */
#define MOCK_BLOB_FLAGS_GUEST_HANDLE (MOCK_BLOB_FLAGS | VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE)

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
	uint32_t need = w->ranges + 2;
	uint32_t cap = w->cap ? w->cap : 4;
	struct mock_range *grown;

	if (w->cap >= need) {
		return 0;
	}
	while (cap < need) {
		cap *= 2;
	}
	grown = realloc(w->free, cap * sizeof(*grown));
	if (!grown) {
		return -ENOMEM;
	}
	w->free = grown;
	w->cap = cap;
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

static struct mock_resource *handle_get(struct vgalloc_mock *m, uint32_t h)
{
	if (h == 0 || h >= m->handle_cap) {
		return NULL;
	}
	return m->handles[h];
}

/* ---------------------------------------------------------------------------------------------
 * Resources, exported fds and their lifetime.
 */

struct mock_resource *vgalloc__mock_res_get_locked(struct vgalloc_mock *m, uint32_t res_id)
{
	return vgalloc__mock_map_get(&m->res_by_id, res_id);
}

bool vgalloc__mock_res_pinned_locked(struct vgalloc_mock *m, uint32_t res_id)
{
	struct mock_resource *res = vgalloc__mock_res_get_locked(m, res_id);

	return res && res->handle != 0 && !res->shared;
}

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
		m->mapped_blobs--;
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
	if (res->has_range) {
		window_free(&m->window, res->range_offset, res->size);
		m->window_bytes -= res->size;
	}
	vgalloc__mock_map_del(&m->res_by_id, res->res_id);
	m->live_blobs--;
	m->blob_bytes -= res->size;
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
			m->modeled_ns += m->cost.destroy_ns;
		}
		m->orphans--;
		res_kill_locked(m, victim);
	}
}

void vgalloc__mock_blob_fini(struct vgalloc_mock *m)
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

/* ---------------------------------------------------------------------------------------------
 * RESOURCE_CREATE_BLOB.
 */

/* The kernel's verify step: everything refused synchronously, before anything happens. */
static int blob_verify(const struct vgalloc_mock *m, const struct vgalloc_backend_blob_args *a,
                       uint64_t *out_size)
{
	bool host3d = a->blob_mem == VGALLOC_BLOB_MEM_HOST3D ||
	              a->blob_mem == VGALLOC_BLOB_MEM_HOST3D_GUEST;
	bool guest_handle = a->blob_flags & VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE;
	uint32_t known = (m->flags & VGALLOC_MOCK_GUEST_HANDLE) ? MOCK_BLOB_FLAGS_GUEST_HANDLE
	                                                        : MOCK_BLOB_FLAGS;

	if ((m->flags & VGALLOC_MOCK_NO_BLOB) || (a->blob_flags & ~known)) {
		return -EINVAL;
	}
	/* The guest-handle kernels take the flag on GUEST blobs only (the host makes its handle of
	 * guest pages), and then pass the blob_id on, as for HOST3D. */
	if (guest_handle && a->blob_mem != VGALLOC_BLOB_MEM_GUEST) {
		return -EINVAL;
	}
	if ((a->blob_flags & VGALLOC_BLOB_FLAG_CROSS_DEVICE) &&
	    !(m->flags & VGALLOC_MOCK_CROSS_DEVICE)) {
		return -EINVAL;
	}
	if (a->blob_mem < VGALLOC_BLOB_MEM_GUEST || a->blob_mem > VGALLOC_BLOB_MEM_HOST3D_GUEST) {
		return -EINVAL;
	}
	if (host3d) {
		if ((m->flags & VGALLOC_MOCK_NO_3D) || a->cmd_size % 4 != 0) {
			return -EINVAL;
		}
	} else if ((a->blob_id != 0 && !guest_handle) || a->cmd_size != 0) {
		return -EINVAL;
	}
	if (a->size == 0 || a->size > UINT64_MAX - MOCK_GUEST_PAGE) {
		return -EINVAL;
	}
	/* With BLOB_ALIGNMENT negotiated the kernel refuses what the host could not map whole. */
	if ((m->flags & VGALLOC_MOCK_BLOB_ALIGNMENT) && a->size % m->host_page != 0) {
		return -EINVAL;
	}
	if (a->cmd_size != 0 && !a->cmd) {
		return -EFAULT;
	}
	*out_size = align_up(a->size, MOCK_GUEST_PAGE);
	return 0;
}

/*
 * What the host renderer makes of the new resource. Its refusals are asynchronous: CREATE_BLOB
 * has already returned 0 in the guest, and the error shows up as EINVAL at the first mmap.
 */
static int host_verdict_locked(struct vgalloc_mock *m, const struct vgalloc_backend_blob_args *a,
                               uint64_t size, bool in_window, struct mock_host_alloc **bind)
{
	struct mock_host_alloc *ha;
	int err = 0;

	*bind = NULL;
	if (a->blob_mem == VGALLOC_BLOB_MEM_GUEST) {
		return 0;
	}
	/* The implicit context is a virgl context: it has no host allocations to hand out. */
	if (m->context != 2) {
		return -EINVAL;
	}
	if (a->blob_id == 0) {
		/* Venus backs blob_id 0 with host memory of its own (its ring buffers), but only
		 * for exactly MAPPABLE and only when its capset says supports_blob_id_0. */
		if (a->blob_mem != VGALLOC_BLOB_MEM_HOST3D ||
		    m->capset_id != VGALLOC_CAPSET_VENUS ||
		    a->blob_flags != VGALLOC_BLOB_FLAG_MAPPABLE ||
		    (m->flags & VGALLOC_MOCK_NO_BLOB_ID_0)) {
			return -EINVAL;
		}
	} else {
		ha = vgalloc__mock_host_by_blob_id_locked(m, a->blob_id);
		if (!ha) {
			/* A renderer using guest vram makes guest-first resources over the
			 * window; any other host has nothing to export under that id. */
			if (!m->guest_vram || a->blob_mem != VGALLOC_BLOB_MEM_HOST3D) {
				m->order_violations++;
				return -EINVAL;
			}
		} else if (ha->exported || !ha->processed) {
			/* Exported twice, or CREATE_BLOB overtook the allocation on the ring. */
			m->order_violations++;
			return -EINVAL;
		} else {
			*bind = ha;
			/* A statically backed window cannot take injected host pages. */
			if (m->profile == VGALLOC_MOCK_PROFILE_STATIC &&
			    a->blob_mem == VGALLOC_BLOB_MEM_HOST3D) {
				err = -EINVAL;
			}
		}
	}
	/* Without BLOB_ALIGNMENT the kernel accepts a size the host cannot map whole. */
	if (err == 0 && in_window && !(m->flags & VGALLOC_MOCK_BLOB_ALIGNMENT) &&
	    size % m->host_page != 0) {
		err = -EINVAL;
	}
	return err;
}

static int blob_create_locked(struct vgalloc_mock *m, const struct vgalloc_backend_blob_args *a,
                              struct vgalloc_mock_trace_entry *e, uint64_t *cost)
{
	/* HOST3D_GUEST is shmem-backed in the kernel (guest_blob): only HOST3D uses the window. */
	bool in_window = a->blob_mem == VGALLOC_BLOB_MEM_HOST3D &&
	                 (a->blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE);
	struct mock_host_alloc *bind;
	struct mock_resource *res;
	uint64_t size = 0;
	int ret;

	ret = blob_verify(m, a, &size);
	if (ret) {
		return ret;
	}
	if (m->context == 0 && !(m->flags & VGALLOC_MOCK_NO_3D)) {
		m->context = 1; /* the kernel's implicit virgl context */
		m->capset_id = 0;
	}
	res = calloc(1, sizeof(*res));
	if (!res) {
		return -ENOMEM;
	}
	res->memfd = -1;
	ret = handles_reserve(m);
	if (ret == 0) {
		ret = vgalloc__mock_map_reserve(&m->res_by_id, 1);
	}
	if (ret == 0 && in_window) {
		ret = window_reserve(&m->window);
	}
	if (ret == 0 && !(m->flags & VGALLOC_MOCK_COUNTING_ONLY)) {
		ret = res_memfd(res, size);
	}
	if (ret) {
		res_discard(res);
		return ret;
	}
	/* The kernel submits the cmd bytes before it creates the resource. */
	if (a->cmd_size) {
		vgalloc__mock_host_exec_cmd_locked(m, a->cmd, a->cmd_size);
	}
	if (in_window) {
		if (m->window.size == 0) {
			ret = -EINVAL;
		} else {
			ret = window_alloc(&m->window, size, &res->range_offset);
			if (ret == -ENOSPC && m->orphans) {
				vgalloc__mock_reap_locked(m);
				ret = window_reserve(&m->window);
				if (ret == 0) {
					ret = window_alloc(&m->window, size, &res->range_offset);
				}
			}
		}
		if (ret) {
			res_discard(res);
			return ret;
		}
		res->has_range = true;
		m->window_bytes += size;
	}
	res->async_err = host_verdict_locked(m, a, size, in_window, &bind);
	res->res_id = m->next_res_id++;
	if (bind) {
		bind->exported = true;
		bind->res_id = res->res_id;
	}
	res->blob_mem = a->blob_mem;
	res->blob_flags = a->blob_flags;
	res->size = size;
	res->blob_id = a->blob_id;
	res->handle = handle_take(m, res);
	vgalloc__mock_map_put(&m->res_by_id, res->res_id, res);
	if (res->memfd >= 0) {
		m->memfds++;
	}
	m->live_handles++;
	m->live_blobs++;
	m->blob_bytes += size;
	e->handle = res->handle;
	e->res_id = res->res_id;
	*cost = m->cost.create_ns + (res->has_range ? m->cost.window_ns : 0);
	return 0;
}

static int op_blob_create(struct vgalloc_backend *be, const struct vgalloc_backend_blob_args *args,
                          uint32_t *out_handle, uint32_t *out_res_id)
{
	struct vgalloc_mock *m = vgalloc__mock_of(be);
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_BLOB_CREATE };
	uint64_t cost = vgalloc__mock_base_cost(m, e.call);
	int ret;

	if (args) {
		e.blob_mem = args->blob_mem;
		e.blob_flags = args->blob_flags;
		e.blob_id = args->blob_id;
		e.size = args->size;
		e.cmd_size = args->cmd_size;
	}
	pthread_mutex_lock(&m->lock);
	ret = vgalloc__mock_call_begin_locked(m, e.call);
	if (ret == 0 && !args) {
		ret = -EFAULT;
	}
	if (ret == 0) {
		ret = blob_create_locked(m, args, &e, &cost);
	}
	if (ret == 0) {
		if (out_handle) {
			*out_handle = e.handle;
		}
		if (out_res_id) {
			*out_res_id = e.res_id;
		}
	}
	vgalloc__mock_call_end_locked(m, &e, ret, cost);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* ---------------------------------------------------------------------------------------------
 * MAP + mmap and munmap.
 */

static void trace_res(struct vgalloc_mock_trace_entry *e, const struct mock_resource *res)
{
	e->res_id = res->res_id;
	e->blob_mem = res->blob_mem;
	e->blob_flags = res->blob_flags;
	e->blob_id = res->blob_id;
	if (e->size == 0) {
		e->size = res->size;
	}
}

static int blob_map_locked(struct vgalloc_mock *m, uint32_t handle, uint64_t size, void **out_ptr,
                           struct vgalloc_mock_trace_entry *e, uint64_t *cost)
{
	struct mock_resource *res = handle_get(m, handle);
	void *ptr;

	if (!res) {
		return -ENOENT;
	}
	trace_res(e, res);
	if (!(res->blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE) || size != res->size) {
		return -EINVAL; /* the kernel maps whole blobs only */
	}
	if (res->async_err) {
		return res->async_err;
	}
	if (!out_ptr) {
		return -EFAULT;
	}
	if (res->map_count == res->map_cap) {
		uint32_t cap = res->map_cap ? res->map_cap * 2 : 2;
		struct mock_mapping *maps = realloc(res->maps, cap * sizeof(*maps));

		if (!maps) {
			return -ENOMEM;
		}
		res->maps = maps;
		res->map_cap = cap;
	}
	if (m->flags & VGALLOC_MOCK_COUNTING_ONLY) {
		/* Never dereferenced: distinct, page-aligned and recognisably fake. */
		ptr = (void *)(uintptr_t)m->fake_next;
		m->fake_next += res->size;
	} else {
		ptr = mmap(NULL, res->size, PROT_READ | PROT_WRITE, MAP_SHARED, res->memfd, 0);
		if (ptr == MAP_FAILED) {
			return -errno;
		}
	}
	res->maps[res->map_count++] = (struct mock_mapping){ ptr, res->size };
	if (res->map_count == 1) {
		m->mapped_blobs++;
	}
	/* Only the first map waits for the host to map the resource. */
	*cost = res->host_mapped ? m->cost.ioctl_ns : m->cost.map_ns;
	res->host_mapped = true;
	*out_ptr = ptr;
	return 0;
}

static int op_blob_map(struct vgalloc_backend *be, uint32_t handle, uint64_t size, void **out_ptr)
{
	struct vgalloc_mock *m = vgalloc__mock_of(be);
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_BLOB_MAP,
		                              .handle = handle,
		                              .size = size };
	uint64_t cost = vgalloc__mock_base_cost(m, e.call);
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = vgalloc__mock_call_begin_locked(m, e.call);
	if (ret == 0) {
		ret = blob_map_locked(m, handle, size, out_ptr, &e, &cost);
	}
	vgalloc__mock_call_end_locked(m, &e, ret, cost);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int blob_unmap_locked(struct vgalloc_mock *m, uint32_t handle, void *ptr, uint64_t size,
                             struct vgalloc_mock_trace_entry *e)
{
	struct mock_resource *res = handle_get(m, handle);

	if (!res) {
		return -EINVAL;
	}
	trace_res(e, res);
	for (uint32_t i = 0; i < res->map_count; i++) {
		if (res->maps[i].ptr != ptr || res->maps[i].size != size) {
			continue;
		}
		if (!(m->flags & VGALLOC_MOCK_COUNTING_ONLY)) {
			munmap(ptr, size);
		}
		res->maps[i] = res->maps[--res->map_count];
		if (res->map_count == 0) {
			m->mapped_blobs--;
		}
		return 0;
	}
	return -EINVAL;
}

static int op_blob_unmap(struct vgalloc_backend *be, uint32_t handle, void *ptr, uint64_t size)
{
	struct vgalloc_mock *m = vgalloc__mock_of(be);
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_BLOB_UNMAP,
		                              .handle = handle,
		                              .size = size };
	int ret;

	pthread_mutex_lock(&m->lock);
	/* Unmap is not failable and still works on a lost context, so cleanup can finish. */
	vgalloc__mock_call_begin_locked(m, e.call);
	ret = blob_unmap_locked(m, handle, ptr, size, &e);
	vgalloc__mock_call_end_locked(m, &e, ret, vgalloc__mock_base_cost(m, e.call));
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* ---------------------------------------------------------------------------------------------
 * PRIME export and import.
 */

static int blob_export_locked(struct vgalloc_mock *m, uint32_t handle, uint32_t flags, int *out_fd,
                              struct vgalloc_mock_trace_entry *e)
{
	struct mock_resource *res = handle_get(m, handle);
	char path[64];
	int fd, ret;

	if (!res) {
		return -ENOENT;
	}
	trace_res(e, res);
	if (flags & ~(VGALLOC_BACKEND_EXPORT_CLOEXEC | VGALLOC_BACKEND_EXPORT_RDWR)) {
		return -EINVAL;
	}
	if (!out_fd) {
		return -EFAULT;
	}
	if (m->export_count == m->export_cap) {
		uint32_t cap = m->export_cap ? m->export_cap * 2 : 8;
		struct mock_export *grown = realloc(m->exports, cap * sizeof(*grown));

		if (!grown) {
			return -ENOMEM;
		}
		m->exports = grown;
		m->export_cap = cap;
	}
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

static int op_blob_export(struct vgalloc_backend *be, uint32_t handle, uint32_t flags, int *out_fd)
{
	struct vgalloc_mock *m = vgalloc__mock_of(be);
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_BLOB_EXPORT,
		                              .handle = handle };
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = vgalloc__mock_call_begin_locked(m, e.call);
	if (ret == 0) {
		ret = blob_export_locked(m, handle, flags, out_fd, &e);
	}
	vgalloc__mock_call_end_locked(m, &e, ret, vgalloc__mock_base_cost(m, e.call));
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int blob_import_locked(struct vgalloc_mock *m, int fd, uint32_t *out_handle,
                              struct vgalloc_mock_trace_entry *e)
{
	struct mock_resource *res = NULL;
	struct stat st;
	int ret;

	if (fd < 0 || fstat(fd, &st) != 0) {
		return -EBADF;
	}
	if (!out_handle) {
		return -EFAULT;
	}
	vgalloc__mock_reap_locked(m);
	for (uint32_t i = 0; i < m->res_by_id.cap && !res; i++) {
		struct mock_resource *r = m->res_by_id.vals[i];

		if (r && r->memfd >= 0 && r->dev == st.st_dev && r->ino == st.st_ino) {
			res = r;
		}
	}
	if (!res) {
		return -EINVAL;
	}
	trace_res(e, res);
	if (res->handle == 0) {
		ret = handles_reserve(m);
		if (ret) {
			return ret;
		}
		res->handle = handle_take(m, res);
		m->orphans--;
		m->live_handles++;
		if (m->context == 0 && !(m->flags & VGALLOC_MOCK_NO_3D)) {
			m->context = 1;
			m->capset_id = 0;
		}
	}
	/* The kernel dedups: one GEM object has one handle per file. */
	e->handle = res->handle;
	*out_handle = res->handle;
	return 0;
}

static int op_blob_import(struct vgalloc_backend *be, int fd, uint32_t *out_handle)
{
	struct vgalloc_mock *m = vgalloc__mock_of(be);
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_BLOB_IMPORT };
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = vgalloc__mock_call_begin_locked(m, e.call);
	if (ret == 0) {
		ret = blob_import_locked(m, fd, out_handle, &e);
	}
	vgalloc__mock_call_end_locked(m, &e, ret, vgalloc__mock_base_cost(m, e.call));
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* ---------------------------------------------------------------------------------------------
 * RESOURCE_INFO and GEM close.
 */

static int op_blob_info(struct vgalloc_backend *be, uint32_t handle,
                        struct vgalloc_backend_blob_info *out)
{
	struct vgalloc_mock *m = vgalloc__mock_of(be);
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_BLOB_INFO,
		                              .handle = handle };
	struct mock_resource *res;
	int ret;

	pthread_mutex_lock(&m->lock);
	/* Works on a lost context: the library needs it to tear down imports. */
	ret = vgalloc__mock_call_begin_locked(m, e.call);
	if (ret == 0) {
		res = handle_get(m, handle);
		if (!res) {
			ret = -ENOENT;
		} else if (!out) {
			ret = -EFAULT;
		} else {
			trace_res(&e, res);
			out->res_id = res->res_id;
			out->size = (uint32_t)res->size; /* the UAPI field is 32-bit */
			out->blob_mem = res->blob_mem;
			out->reserved = 0;
		}
	}
	vgalloc__mock_call_end_locked(m, &e, ret, vgalloc__mock_base_cost(m, e.call));
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int blob_destroy_locked(struct vgalloc_mock *m, uint32_t handle,
                               struct vgalloc_mock_trace_entry *e, uint64_t *cost)
{
	struct mock_resource *res = handle_get(m, handle);

	if (!res) {
		return -EINVAL; /* drm_gem_handle_delete: a second close is EINVAL */
	}
	trace_res(e, res);
	if (res->map_count) {
		/* munmap is the library's job before GEM close (Venus' teardown order). */
		m->order_violations++;
		unmap_all_locked(m, res);
	}
	handle_release(m, handle);
	res->handle = 0;
	m->live_handles--;
	exports_prune_locked(m);
	if (res_exported_locked(m, res)) {
		m->orphans++;
		return 0;
	}
	/* Closing a blob the host mapped makes the host unmap it: QEMU's slow path. */
	if (res->host_mapped) {
		*cost = m->cost.destroy_ns;
	}
	res_kill_locked(m, res);
	return 0;
}

static int op_blob_destroy(struct vgalloc_backend *be, uint32_t handle)
{
	struct vgalloc_mock *m = vgalloc__mock_of(be);
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_BLOB_DESTROY,
		                              .handle = handle };
	uint64_t cost = vgalloc__mock_base_cost(m, e.call);
	int ret;

	pthread_mutex_lock(&m->lock);
	vgalloc__mock_call_begin_locked(m, e.call);
	ret = blob_destroy_locked(m, handle, &e, &cost);
	vgalloc__mock_call_end_locked(m, &e, ret, cost);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

const struct vgalloc_backend_ops vgalloc__mock_ops = {
	.abi_version = VGALLOC_BACKEND_ABI_VERSION,
	.name = "mock",
	.get_fd = vgalloc__mock_op_get_fd,
	.get_param = vgalloc__mock_op_get_param,
	.get_capset = vgalloc__mock_op_get_capset,
	.context_init = vgalloc__mock_op_context_init,
	.blob_create = op_blob_create,
	.blob_map = op_blob_map,
	.blob_unmap = op_blob_unmap,
	.blob_export = op_blob_export,
	.blob_import = op_blob_import,
	.blob_info = op_blob_info,
	.blob_destroy = op_blob_destroy,
	.destroy = NULL, /* the caller owns the mock */
};

/* ---------------------------------------------------------------------------------------------
 * The consumer's own ioctls (adopt mode): the same paths as the backend ops.
 */

VGALLOC_API int vgalloc_mock_blob_create(struct vgalloc_mock *mock, uint32_t blob_mem,
                                         uint32_t blob_flags, uint64_t size, uint64_t blob_id,
                                         uint32_t *out_handle, uint32_t *out_res_id)
{
	const struct vgalloc_backend_blob_args args = {
		.blob_mem = blob_mem,
		.blob_flags = blob_flags,
		.size = size,
		.blob_id = blob_id,
	};

	if (!mock) {
		return -EINVAL;
	}
	return op_blob_create(&mock->base, &args, out_handle, out_res_id);
}

VGALLOC_API int vgalloc_mock_gem_close(struct vgalloc_mock *mock, uint32_t handle)
{
	if (!mock) {
		return -EINVAL;
	}
	return op_blob_destroy(&mock->base, handle);
}
