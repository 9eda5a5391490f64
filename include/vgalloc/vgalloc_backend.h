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

/** Bumped whenever struct vgalloc_backend_ops changes. */
#define VGALLOC_BACKEND_ABI_VERSION 1u
/** First word of every backend object. */
#define VGALLOC_BACKEND_MAGIC 0x76676265u /* "vgbe" */

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
 * One static const table per backend. Every op returns 0 or -errno; the library validates what
 * comes back (ids, sizes, fds) and never trusts it. `be` is the backend object.
 */
struct vgalloc_backend_ops {
	uint32_t abi_version; /* VGALLOC_BACKEND_ABI_VERSION */
	const char *name;
	int (*get_fd)(void *be);
	/** GETPARAM; *value is written only on success. -EINVAL/-ENOENT: not known. */
	int (*get_param)(void *be, uint64_t param, uint64_t *value);
	/** GET_CAPS: copies min(size, host size) bytes into buf and reports no length. */
	int (*get_capset)(void *be, uint32_t id, uint32_t version, void *buf, uint32_t size);
	int (*context_init)(void *be, const struct vgalloc_context_param_value *params,
	                    uint32_t count);
	int (*blob_create)(void *be, const struct vgalloc_backend_blob_args *args,
	                   uint32_t *out_handle, uint32_t *out_res_id);
	/** MAP + mmap of the whole blob (size must be the blob's size). */
	int (*blob_map)(void *be, uint32_t handle, uint64_t size, void **out_ptr);
	int (*blob_unmap)(void *be, uint32_t handle, void *ptr, uint64_t size);
	/** PRIME handle → fd with VGALLOC_BACKEND_EXPORT_* flags. */
	int (*blob_export)(void *be, uint32_t handle, uint32_t flags, int *out_fd);
	/** PRIME fd → handle; the same buffer twice gives the same handle. */
	int (*blob_import)(void *be, int fd, uint32_t *out_handle);
	int (*blob_info)(void *be, uint32_t handle, struct vgalloc_backend_blob_info *out);
	/** GEM close. */
	int (*blob_destroy)(void *be, uint32_t handle);
	/** WAIT on a handle; nowait returns -EBUSY while busy. */
	int (*wait)(void *be, uint32_t handle, bool nowait);
	/** Release the backend object (own-mode backends the device created); may be NULL. */
	void (*destroy)(void *be);
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
