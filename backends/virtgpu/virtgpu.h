/* SPDX-License-Identifier: MIT */
/*
 * The virtgpu backend's private face: creation in own mode (render node discovery) and adopt mode
 * (the caller's fd), and the system entry points (ioctl, mmap, and discovery's node list, open
 * and close) that tests replace to fake the kernel and check the exact bytes the backend sends.
 * Like any backend it builds against vgalloc_backend.h alone: nothing here comes from lib/, and
 * the backend object is opaque (the struct vgalloc_backend at its head is all a caller sees).
 */
#ifndef VGALLOC_VIRTGPU_H
#define VGALLOC_VIRTGPU_H

#ifndef VGALLOC_UNSTABLE_BACKEND_API
#define VGALLOC_UNSTABLE_BACKEND_API
#endif
#include "vgalloc/vgalloc_backend.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

/* Discovery tries at most MAX_NODES render nodes, each path at most PATH_MAX bytes with its NUL. */
#define VGALLOC__VIRTGPU_MAX_NODES 16
#define VGALLOC__VIRTGPU_PATH_MAX  64

/*
 * DRM_IOCTL_VERSION (drm.h's struct drm_version), discovery's driver-name check. The kernel copies
 * at most name_len bytes of the name (no NUL) and sets name_len to the name's full length; NULL
 * buffers with length 0 ask for nothing.
 */
struct vgalloc__virtgpu_drm_version {
	int32_t version_major;
	int32_t version_minor;
	int32_t version_patchlevel;
	size_t name_len;
	char *name;
	size_t date_len;
	char *date;
	size_t desc_len;
	char *desc;
};
#define VGALLOC__VIRTGPU_IOCTL_VERSION _IOWR('d', 0x00, struct vgalloc__virtgpu_drm_version)

/* 64 bytes on LP64 (36 on ILP32); virtgpu.c checks it against libdrm's drm.h too. */
_Static_assert(offsetof(struct vgalloc__virtgpu_drm_version, name_len) ==
                       (sizeof(void *) == 8 ? 16u : 12u),
               "VERSION name_len");
_Static_assert(sizeof(struct vgalloc__virtgpu_drm_version) == (sizeof(void *) == 8 ? 64u : 36u),
               "VERSION size");

/*
 * Every system call the backend makes. Each member is required; the fd numbers are whatever open
 * returns (a fake may make them up, nothing but these calls sees them).
 */
struct vgalloc__virtgpu_sys {
	/* ioctl(2): returns 0, or -1 with errno set. */
	int (*ioctl)(void *ctx, int fd, unsigned long request, void *arg);
	/* mmap(2) of size bytes at offset, read-write and shared: MAP_FAILED with errno set. */
	void *(*mmap)(void *ctx, size_t size, int fd, uint64_t offset);
	/* munmap(2): returns 0, or -1 with errno set. */
	int (*munmap)(void *ctx, void *ptr, size_t size);
	/*
	 * Own mode's candidates: write up to max NUL-terminated render node paths into paths, in the
	 * order to try them. Return: how many (≥ 0), or -errno. The real one: drmGetDevices2's
	 * render nodes of virtio-gpu PCI functions (1af4:1050) and of devices on any other bus
	 * (virtio-mmio), a path that does not fit skipped.
	 */
	int (*render_nodes)(void *ctx, char (*paths)[VGALLOC__VIRTGPU_PATH_MAX], int max);
	/* open(2) of a render node, read-write and close-on-exec: the fd, or -1 with errno set. */
	int (*open)(void *ctx, const char *path);
	/* close(2) of an fd open returned. */
	int (*close)(void *ctx, int fd);
	void *ctx;
};

/* The real system calls. */
extern const struct vgalloc__virtgpu_sys vgalloc__virtgpu_real_sys;

/*
 * Wrap an fd (adopt mode: borrowed, never closed) or find a render node (own mode, fd < 0): the
 * first of sys->render_nodes that opens, whose driver is virtio_gpu (DRM_IOCTL_VERSION) and whose
 * SUPPORTED_CAPSET_IDS (GETPARAM) has capset_id. Nothing but those two ioctls reaches a node before
 * it is picked (no implicit context); every other node opened is closed through sys. The backend
 * object and its fd (own mode) are released by its ops' destroy. allocator: every allocation
 * (copied; required), with scope `scope` (enum vgalloc_alloc_scope: as long as the connection
 * owning it). sys NULL = the real system calls (copied).
 * Return: 0 and *out; -EINVAL (allocator NULL); -ENODEV (own mode: no virtio-gpu render node
 * offers the capset, or the node list failed); -ENOMEM.
 */
int vgalloc__virtgpu_create(int fd, uint32_t capset_id, const struct vgalloc_allocator *allocator,
                            uint32_t scope, const struct vgalloc__virtgpu_sys *sys,
                            struct vgalloc_backend **out);

#endif
