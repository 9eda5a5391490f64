/* SPDX-License-Identifier: MIT */
/*
 * The mock kernel's blob ioctls: RESOURCE_CREATE_BLOB, MAP + mmap, PRIME export and import,
 * RESOURCE_INFO and GEM close, as backend ops and as the consumer's own calls in adopt mode. They
 * check what the kernel checks and trace what it did; the resources they make and drop live in
 * mock_resource.c, and the host renderer (mock_host.c) runs their cmd bytes and judges each blob.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "mock_state.h"

#define MOCK_BLOB_FLAGS \
	(VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE | VGALLOC_BLOB_FLAG_CROSS_DEVICE)
/* Downstream only: what the kernel takes once the device negotiated CREATE_GUEST_HANDLE. */
#define MOCK_BLOB_FLAGS_GUEST_HANDLE (MOCK_BLOB_FLAGS | VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE)

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

/* A blob ioctl on a file without CONTEXT_INIT makes the kernel's implicit virgl context. */
static void implicit_context_locked(struct vgalloc_mock *m)
{
	if (m->context == 0 && !(m->flags & VGALLOC_MOCK_NO_3D)) {
		m->context = 1;
		m->capset_id = 0;
	}
}

/* ---------------------------------------------------------------------------------------------
 * RESOURCE_CREATE_BLOB.
 */

/* The kernel's verify step: everything refused synchronously, before anything happens. */
static int blob_verify(const struct vgalloc_mock *m, const struct vgalloc_backend_blob_args *a)
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
	return 0;
}

static int blob_create_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	const struct vgalloc_backend_blob_args *a = op->args;
	struct mock_resource *res;
	int ret;

	if (!a) {
		return -EFAULT;
	}
	ret = blob_verify(m, a);
	if (ret) {
		return ret;
	}
	implicit_context_locked(m);
	ret = vgalloc__mock_res_new_locked(m, a, &res);
	if (ret) {
		return ret;
	}
	/* The kernel submits the cmd bytes before it creates the resource. */
	if (a->cmd_size) {
		vgalloc__mock_host_exec_cmd_locked(m, a->cmd, a->cmd_size);
	}
	ret = vgalloc__mock_res_add_locked(m, res);
	if (ret) {
		return ret;
	}
	res->async_err = vgalloc__mock_host_verdict_locked(m, a, res);
	op->e.handle = res->handle;
	op->e.res_id = res->res_id;
	if (op->out_handle) {
		*op->out_handle = res->handle;
	}
	if (op->out_res_id) {
		*op->out_res_id = res->res_id;
	}
	op->cost = m->cost.create_ns + (res->in_window ? m->cost.window_ns : 0);
	return 0;
}

int vgalloc__mock_op_blob_create(struct vgalloc_backend *be,
                                 const struct vgalloc_backend_blob_args *args, uint32_t *out_handle,
                                 uint32_t *out_res_id)
{
	struct mock_op op = { .args = args, .out_handle = out_handle, .out_res_id = out_res_id };

	if (args) {
		op.e.blob_mem = args->blob_mem;
		op.e.blob_flags = args->blob_flags;
		op.e.blob_id = args->blob_id;
		op.e.size = args->size;
		op.e.cmd_size = args->cmd_size;
	}
	return vgalloc__mock_call(vgalloc__mock_of(be), VGALLOC_MOCK_CALL_BLOB_CREATE,
	                          blob_create_locked, &op);
}

/* ---------------------------------------------------------------------------------------------
 * MAP + mmap and munmap.
 */

static int blob_map_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	struct mock_resource *res = vgalloc__mock_res_by_handle_locked(m, op->e.handle);
	uint64_t size = op->e.size; /* as asked: trace_res() fills in a 0 */
	struct mock_mapping *maps;
	void *ptr;

	if (!res) {
		return -ENOENT;
	}
	trace_res(&op->e, res);
	if (!(res->blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE) || size != res->size) {
		return -EINVAL; /* the kernel maps whole blobs only */
	}
	if (res->async_err) {
		return res->async_err;
	}
	if (!op->out_ptr) {
		return -EFAULT;
	}
	maps = vgalloc__mock_grow(res->maps, &res->map_cap, res->map_count + 1, sizeof(*maps), 2);
	if (!maps) {
		return -ENOMEM;
	}
	res->maps = maps;
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
		m->l.mapped_blobs++;
	}
	/* Only the first map waits for the host to map. Its reply says the host has processed
	 * everything queued before it, so the renderer knows every resource made so far. */
	if (!res->host_mapped) {
		m->seen_res_id = m->next_res_id - 1;
	}
	op->cost = res->host_mapped ? m->cost.ioctl_ns : m->cost.map_ns;
	res->host_mapped = true;
	*op->out_ptr = ptr;
	return 0;
}

int vgalloc__mock_op_blob_map(struct vgalloc_backend *be, uint32_t handle, uint64_t size,
                              void **out_ptr)
{
	struct mock_op op = { .e.handle = handle, .e.size = size, .out_ptr = out_ptr };

	return vgalloc__mock_call(vgalloc__mock_of(be), VGALLOC_MOCK_CALL_BLOB_MAP, blob_map_locked,
	                          &op);
}

/* Unmap is not failable and still works on a lost context, so cleanup can finish. */
static int blob_unmap_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	struct mock_resource *res = vgalloc__mock_res_by_handle_locked(m, op->e.handle);
	uint64_t size = op->e.size; /* as asked: trace_res() fills in a 0 */

	if (!res) {
		return -EINVAL;
	}
	trace_res(&op->e, res);
	for (uint32_t i = 0; i < res->map_count; i++) {
		if (res->maps[i].ptr != op->ptr || res->maps[i].size != size) {
			continue;
		}
		if (!(m->flags & VGALLOC_MOCK_COUNTING_ONLY)) {
			munmap(op->ptr, size);
		}
		res->maps[i] = res->maps[--res->map_count];
		if (res->map_count == 0) {
			m->l.mapped_blobs--;
		}
		return 0;
	}
	return -EINVAL;
}

int vgalloc__mock_op_blob_unmap(struct vgalloc_backend *be, uint32_t handle, void *ptr,
                                uint64_t size)
{
	struct mock_op op = { .e.handle = handle, .e.size = size, .ptr = ptr };

	return vgalloc__mock_call(vgalloc__mock_of(be), VGALLOC_MOCK_CALL_BLOB_UNMAP,
	                          blob_unmap_locked, &op);
}

/* ---------------------------------------------------------------------------------------------
 * PRIME export and import.
 */

static int blob_export_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	struct mock_resource *res = vgalloc__mock_res_by_handle_locked(m, op->e.handle);

	if (!res) {
		return -ENOENT;
	}
	trace_res(&op->e, res);
	if (op->flags & ~(VGALLOC_BACKEND_EXPORT_CLOEXEC | VGALLOC_BACKEND_EXPORT_RDWR)) {
		return -EINVAL;
	}
	if (!op->out_fd) {
		return -EFAULT;
	}
	return vgalloc__mock_res_export_locked(m, res, op->flags, op->out_fd);
}

int vgalloc__mock_op_blob_export(struct vgalloc_backend *be, uint32_t handle, uint32_t flags,
                                 int *out_fd)
{
	struct mock_op op = { .e.handle = handle, .flags = flags, .out_fd = out_fd };

	return vgalloc__mock_call(vgalloc__mock_of(be), VGALLOC_MOCK_CALL_BLOB_EXPORT,
	                          blob_export_locked, &op);
}

static int blob_import_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	struct mock_resource *res = NULL;
	struct stat st;
	int ret;

	if (op->fd < 0 || fstat(op->fd, &st) != 0) {
		return -EBADF;
	}
	if (!op->out_handle) {
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
	trace_res(&op->e, res);
	if (res->handle == 0) {
		ret = vgalloc__mock_res_reopen_locked(m, res);
		if (ret) {
			return ret;
		}
		implicit_context_locked(m);
	}
	/* The kernel dedups: one GEM object has one handle per file. */
	op->e.handle = res->handle;
	*op->out_handle = res->handle;
	return 0;
}

int vgalloc__mock_op_blob_import(struct vgalloc_backend *be, int fd, uint32_t *out_handle)
{
	struct mock_op op = { .fd = fd, .out_handle = out_handle };

	return vgalloc__mock_call(vgalloc__mock_of(be), VGALLOC_MOCK_CALL_BLOB_IMPORT,
	                          blob_import_locked, &op);
}

/* ---------------------------------------------------------------------------------------------
 * RESOURCE_INFO and GEM close.
 */

/* Works on a lost context: the library needs it to tear down imports. */
static int blob_info_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	struct mock_resource *res = vgalloc__mock_res_by_handle_locked(m, op->e.handle);

	if (!res) {
		return -ENOENT;
	}
	if (!op->info) {
		return -EFAULT;
	}
	trace_res(&op->e, res);
	op->info->res_id = res->res_id;
	op->info->size = (uint32_t)res->size; /* the UAPI field is 32-bit */
	op->info->blob_mem = res->blob_mem;
	op->info->reserved = 0;
	return 0;
}

int vgalloc__mock_op_blob_info(struct vgalloc_backend *be, uint32_t handle,
                               struct vgalloc_backend_blob_info *out)
{
	struct mock_op op = { .e.handle = handle, .info = out };

	return vgalloc__mock_call(vgalloc__mock_of(be), VGALLOC_MOCK_CALL_BLOB_INFO,
	                          blob_info_locked, &op);
}

static int blob_destroy_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	struct mock_resource *res = vgalloc__mock_res_by_handle_locked(m, op->e.handle);

	if (!res) {
		return -EINVAL; /* drm_gem_handle_delete: a second close is EINVAL */
	}
	trace_res(&op->e, res);
	if (res->map_count) {
		/* munmap is the library's job before GEM close (Venus' teardown order). */
		m->l.order_violations++;
	}
	/* Closing a blob the host mapped makes the host unmap it: QEMU's slow path. */
	if (vgalloc__mock_res_close_locked(m, res)) {
		op->cost = m->cost.destroy_ns;
	}
	return 0;
}

int vgalloc__mock_op_blob_destroy(struct vgalloc_backend *be, uint32_t handle)
{
	struct mock_op op = { .e.handle = handle };

	return vgalloc__mock_call(vgalloc__mock_of(be), VGALLOC_MOCK_CALL_BLOB_DESTROY,
	                          blob_destroy_locked, &op);
}

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
	return vgalloc__mock_op_blob_create(&mock->base, &args, out_handle, out_res_id);
}

VGALLOC_API int vgalloc_mock_prime_import(struct vgalloc_mock *mock, int fd, uint32_t *out_handle)
{
	if (!mock || !out_handle) {
		return -EINVAL;
	}
	return vgalloc__mock_op_blob_import(&mock->base, fd, out_handle);
}

VGALLOC_API int vgalloc_mock_gem_close(struct vgalloc_mock *mock, uint32_t handle)
{
	if (!mock) {
		return -EINVAL;
	}
	return vgalloc__mock_op_blob_destroy(&mock->base, handle);
}
