/* SPDX-License-Identifier: MIT */
/*
 * An LD_PRELOAD library for the Venus tier's guest: counts the DRM ioctls and render-node mmaps a
 * Vulkan driver makes, so stock Venus (which has no statistics of its own) and a patched driver
 * can be compared call for call. Programs read the counts through vn_ioctl_count_snapshot(),
 * looked up with dlsym(); without the preload they print no counts.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>

#include <drm/drm.h>
#include <drm/virtgpu_drm.h>

#include "ioctl-count.h"

/* Built with -fvisibility=hidden: only what must interpose or be looked up is exported. */
#define VN_EXPORT __attribute__((visibility("default")))

/* DRM character devices have major 226 (drivers/gpu/drm/drm_drv.c, DRM_MAJOR). */
#define DRM_MAJOR_NUMBER 226

static atomic_ullong counts[VN_COUNT_NUM];

typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);

static ioctl_fn real_ioctl;
static mmap_fn real_mmap;
static mmap_fn real_mmap64;

static void count(enum vn_count which)
{
	atomic_fetch_add_explicit(&counts[which], 1, memory_order_relaxed);
}

static void count_ioctl(unsigned long request)
{
	/* Only DRM ioctls ('d'); the others (tty, sockets) are not the driver's business. */
	if (_IOC_TYPE(request) != DRM_IOCTL_BASE) {
		return;
	}
	count(VN_COUNT_DRM_IOCTL);
	switch (request) {
	case DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB:
		count(VN_COUNT_CREATE_BLOB);
		break;
	case DRM_IOCTL_VIRTGPU_MAP:
		count(VN_COUNT_MAP);
		break;
	case DRM_IOCTL_VIRTGPU_EXECBUFFER:
		count(VN_COUNT_EXECBUFFER);
		break;
	case DRM_IOCTL_GEM_CLOSE:
		count(VN_COUNT_GEM_CLOSE);
		break;
	case DRM_IOCTL_VIRTGPU_WAIT:
		count(VN_COUNT_WAIT);
		break;
	case DRM_IOCTL_VIRTGPU_RESOURCE_INFO:
		count(VN_COUNT_RESOURCE_INFO);
		break;
	case DRM_IOCTL_PRIME_HANDLE_TO_FD:
	case DRM_IOCTL_PRIME_FD_TO_HANDLE:
		count(VN_COUNT_PRIME);
		break;
	default:
		break;
	}
}

/*
 * glibc declares ioctl(int, unsigned long, ...); every DRM ioctl passes one pointer, and the few
 * ioctls without an argument ignore it, so forwarding one pointer-sized argument is exact.
 */
VN_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real_ioctl) {
		real_ioctl = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
	}
	count_ioctl(request);
	return real_ioctl(fd, request, arg);
}

static void count_mmap(int fd, void *ret)
{
	struct stat st;

	if (fd < 0 || ret == MAP_FAILED) {
		return;
	}
	if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == DRM_MAJOR_NUMBER) {
		count(VN_COUNT_MMAP);
	}
}

VN_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *ret;

	if (!real_mmap) {
		real_mmap = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
	}
	ret = real_mmap(addr, len, prot, flags, fd, off);
	count_mmap(fd, ret);
	return ret;
}

VN_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *ret;

	if (!real_mmap64) {
		real_mmap64 = (mmap_fn)dlsym(RTLD_NEXT, "mmap64");
	}
	ret = real_mmap64(addr, len, prot, flags, fd, off);
	count_mmap(fd, ret);
	return ret;
}

VN_EXPORT void vn_ioctl_count_snapshot(struct vn_ioctl_counts *out)
{
	for (int i = 0; i < VN_COUNT_NUM; i++) {
		out->v[i] = atomic_load_explicit(&counts[i], memory_order_relaxed);
	}
}
