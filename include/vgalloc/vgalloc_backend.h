/* SPDX-License-Identifier: MIT */
/*
 * The backend vtable, for third-party backend authors and the library's own backends. It is
 * unstable until 1.0: define VGALLOC_UNSTABLE_BACKEND_API before including it to acknowledge that.
 */
#ifndef VGALLOC_BACKEND_H
#define VGALLOC_BACKEND_H

#ifndef VGALLOC_UNSTABLE_BACKEND_API
#error "vgalloc_backend.h is unstable until 1.0: define VGALLOC_UNSTABLE_BACKEND_API to use it"
#endif

#include "vgalloc.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Bumped whenever struct vgalloc_backend_ops changes. 2: every op takes struct vgalloc_backend *;
 * the wait op is gone (the library never waited on a handle).
 */
#define VGALLOC_BACKEND_ABI_VERSION 2u
/** First word of every backend object. */
#define VGALLOC_BACKEND_MAGIC 0x76676265u /* "vgbe" */

struct vgalloc_backend;

/** CONTEXT_INIT parameter numbers. */
enum vgalloc_context_param {
	VGALLOC_CONTEXT_PARAM_CAPSET_ID = 1,
	VGALLOC_CONTEXT_PARAM_NUM_RINGS = 2,
	VGALLOC_CONTEXT_PARAM_POLL_RINGS_MASK = 3,
	VGALLOC_CONTEXT_PARAM_DEBUG_NAME = 4,
};

struct vgalloc_context_param_value {
	uint64_t param; /* enum vgalloc_context_param */
	uint64_t value; /* DEBUG_NAME: a pointer to a NUL-terminated string */
};

struct vgalloc_backend_blob_args {
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint64_t size;
	uint64_t blob_id;
	const void *cmd;
	uint32_t cmd_size;
	uint32_t reserved;
};

/** RESOURCE_INFO answer; size is 32-bit in the UAPI. */
struct vgalloc_backend_blob_info {
	uint32_t res_id;
	uint32_t size;
	uint32_t blob_mem; /* 0 for a non-blob resource */
	uint32_t reserved;
};

/** PRIME export flags (values of DRM_CLOEXEC and DRM_RDWR). */
#define VGALLOC_BACKEND_EXPORT_CLOEXEC 0x80000u /* O_CLOEXEC */
#define VGALLOC_BACKEND_EXPORT_RDWR    0x2u     /* O_RDWR */

/**
 * One static const table per backend. `be` is always the backend object the table came from (the
 * struct vgalloc_backend at its head); a backend finds its own state from it (the head is its
 * first member, so a cast does).
 *
 * The contract of every op:
 *  - Return: 0 or a negative errno. Anything else (a positive value, below -4095) is -EIO to the
 *    library. The library validates every answer (ids, sizes, pointers, fds) and never trusts it:
 *    an answer no kernel gives fails the call (-EIO unless the op says otherwise), and what the
 *    answer created (a GEM handle) is released first. Out parameters are read only on success.
 *  - Ownership: pointers the library passes (args, buffers, params, the DEBUG_NAME string) are
 *    valid for the call only; the backend keeps none of them. An fd passed in is borrowed (never
 *    closed). What an op creates (a GEM handle, a mapping, a dma-buf fd) is handed over to the
 *    library, which releases it through blob_destroy or blob_unmap, or to its caller (exports).
 *  - Thread safety: the library may call any op from any thread, concurrently (the same op
 *    included), except destroy, which runs once, alone, after every other call has returned.
 *    Ops run with no library lock held, except blob_import, blob_info, blob_destroy and the
 *    blob_unmap of a blob whose last reference goes while it is mapped, which run under the
 *    connection's import-dedup lock: an op must not call back into the library.
 *  - Own mode: until context_init, the library calls no op but get_fd, get_param and get_capset
 *    (anything else would make the kernel create an implicit context). Adopt mode never calls
 *    context_init.
 */
struct vgalloc_backend_ops {
	uint32_t abi_version; /* VGALLOC_BACKEND_ABI_VERSION */
	const char *name;     /* logged; VGALLOC_BACKEND_MOCK requires "mock" */
	/**
	 * The DRM fd, still the backend's: the library lends it out (vgalloc_device_get_fd) and
	 * never closes it. Return: the fd; negative: none (vgalloc_device_get_fd says -ENODEV).
	 */
	int (*get_fd)(struct vgalloc_backend *be);
	/**
	 * GETPARAM; *value is written only on success. Connection create only.
	 * Return: 0; -EINVAL or -ENOENT (the kernel does not know the param: the library treats it
	 * as absent); any other -errno fails vgalloc_device_create with it.
	 */
	int (*get_param)(struct vgalloc_backend *be, uint64_t param, uint64_t *value);
	/**
	 * GET_CAPS: copies min(size, host size) bytes of capset (id, version) into buf and reports
	 * no length. buf is the library's, zeroed before the call, so what is not copied reads 0.
	 * Return: 0; -EINVAL (the host lacks the capset or version: the library says -EOPNOTSUPP);
	 * any other -errno is passed on.
	 */
	int (*get_capset)(struct vgalloc_backend *be, uint32_t id, uint32_t version, void *buf,
	                  uint32_t size);
	/**
	 * CONTEXT_INIT with count params (the library passes at most 3; DEBUG_NAME's value points to
	 * a string valid for the call). Own mode, once, during connection create.
	 * Return: 0; -EEXIST (the fd has a context already); any -errno fails vgalloc_device_create
	 * with it.
	 */
	int (*context_init)(struct vgalloc_backend *be,
	                    const struct vgalloc_context_param_value *params, uint32_t count);
	/**
	 * RESOURCE_CREATE_BLOB (args->cmd: cmd_size bytes, valid for the call). On success the new
	 * GEM handle and resource id; the handle is the library's from then on, closed once with
	 * blob_destroy. A handle or resource id of 0, or a handle the library already tracks, is
	 * -EIO (an untracked non-zero handle is closed first).
	 * Return: 0; -ENOSPC (the host-visible window is full: counted; an allocation gives back
	 * what the device keeps and, if that freed anything, retries once before passing it on);
	 * any other -errno is passed on.
	 */
	int (*blob_create)(struct vgalloc_backend *be, const struct vgalloc_backend_blob_args *args,
	                   uint32_t *out_handle, uint32_t *out_res_id);
	/**
	 * MAP + mmap of the whole blob (size is the blob's size), read-write and shared. The mapping
	 * is the library's until it passes it back to blob_unmap, before blob_destroy. A NULL
	 * pointer with 0 is -EIO. Return: 0; any -errno (the host's refusal shows as -EINVAL) is
	 * passed on.
	 */
	int (*blob_map)(struct vgalloc_backend *be, uint32_t handle, uint64_t size, void **out_ptr);
	/**
	 * munmap of a mapping blob_map made (the same ptr and size). The mapping is gone whatever the
	 * answer. Return: 0; -errno (counted as a teardown error, nothing more).
	 */
	int (*blob_unmap)(struct vgalloc_backend *be, uint32_t handle, void *ptr, uint64_t size);
	/**
	 * PRIME handle → fd with VGALLOC_BACKEND_EXPORT_* flags. The new dma-buf fd goes to the
	 * library's caller, who closes it; a negative fd with 0 is -EIO.
	 * Return: 0; any -errno is passed on.
	 */
	int (*blob_export)(struct vgalloc_backend *be, uint32_t handle, uint32_t flags,
	                   int *out_fd);
	/**
	 * PRIME fd → handle. fd is borrowed (never closed). The same buffer twice gives the same
	 * handle, which the library recognises; a new handle is the library's, closed once with
	 * blob_destroy. Handle 0 is -EIO. Runs under the import-dedup lock.
	 * Return: 0; -EBADF (not a dma-buf: the library says -EINVAL); any other -errno is passed on.
	 */
	int (*blob_import)(struct vgalloc_backend *be, int fd, uint32_t *out_handle);
	/**
	 * RESOURCE_INFO of a handle. A resource id or size of 0 is -EIO; a blob_mem the device cannot
	 * use is -EINVAL. Runs under the import-dedup lock.
	 * Return: 0; any -errno is passed on.
	 */
	int (*blob_info)(struct vgalloc_backend *be, uint32_t handle,
	                 struct vgalloc_backend_blob_info *out);
	/**
	 * GEM close. The library never uses the handle again, whatever the answer. Runs under the
	 * import-dedup lock. Return: 0; -errno (counted as a teardown error, nothing more).
	 */
	int (*blob_destroy)(struct vgalloc_backend *be, uint32_t handle);
	/**
	 * Release the backend object and what it owns (an fd it opened). Called only for a backend
	 * the library created itself (VGALLOC_BACKEND_VIRTGPU), when its connection goes (the last
	 * device or vgalloc_connection_destroy()), after every other op has returned; a mock or custom backend object is the caller's and never destroyed by
	 * the library. May be NULL.
	 */
	void (*destroy)(struct vgalloc_backend *be);
};

/** The head of every backend object passed as backend_object. */
struct vgalloc_backend {
	uint32_t magic;    /* VGALLOC_BACKEND_MAGIC */
	uint32_t reserved; /* must be 0 */
	const struct vgalloc_backend_ops *ops;
};

#ifdef __cplusplus
}
#endif

#endif
