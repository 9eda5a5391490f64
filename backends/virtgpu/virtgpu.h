/* SPDX-License-Identifier: MIT */
/*
 * The virtgpu backend's private face: creation in own mode (render node discovery) and adopt mode
 * (the caller's fd), and the two system entry points (ioctl, mmap) that tests replace to fake the
 * kernel and check the exact bytes the backend sends.
 */
#ifndef VGALLOC_VIRTGPU_H
#define VGALLOC_VIRTGPU_H

#include "private.h"

struct vgalloc__virtgpu_sys {
	/* ioctl(2): returns 0, or -1 with errno set. */
	int (*ioctl)(void *ctx, int fd, unsigned long request, void *arg);
	void *(*mmap)(void *ctx, size_t size, int fd, uint64_t offset);
	int (*munmap)(void *ctx, void *ptr, size_t size);
	void *ctx;
};

struct vgalloc__virtgpu {
	struct vgalloc_backend base;
	int fd;
	bool owns_fd;
	const struct vgalloc_allocator *allocator;
	struct vgalloc__virtgpu_sys sys;
};

/* The real system calls. */
extern const struct vgalloc__virtgpu_sys vgalloc__virtgpu_real_sys;

/*
 * Wrap an fd (adopt mode: borrowed, never closed) or open the first virtio-gpu render node that
 * offers capset_id (own mode, fd < 0). sys NULL = the real system calls.
 * Return: 0; -ENODEV (no virtio-gpu render node offers the capset); -ENOMEM; -errno of open.
 */
int vgalloc__virtgpu_create(int fd, uint32_t capset_id, const struct vgalloc_allocator *allocator,
                            const struct vgalloc__virtgpu_sys *sys, struct vgalloc__virtgpu **out);

/* The one ioctl helper: retries EINTR and EAGAIN, turns -1/errno into -errno. */
int vgalloc__virtgpu_ioctl(struct vgalloc__virtgpu *vg, unsigned long request, void *arg);

#endif
