/* SPDX-License-Identifier: MIT */
/*
 * The virtgpu backend: the Linux virtio-gpu driver through its ioctls, with render-node discovery
 * listing nodes through libdrm. Every system call goes through the sys table, the one place the
 * tests replace, and every answer is checked by the library above, never trusted. It builds
 * against vgalloc_backend.h and the kernel UAPI vocabulary (lib/vgalloc_uapi.h) only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "../../lib/vgalloc_uapi.h"
#include "virtgpu.h"

#define VIRTIO_PCI_VENDOR     0x1af4
#define VIRTIO_GPU_PCI_DEVICE 0x1050

/* The VERSION vocabulary of virtgpu.h is libdrm's. */
_Static_assert(sizeof(struct vgalloc__virtgpu_drm_version) == sizeof(struct drm_version),
               "VERSION size");
_Static_assert(offsetof(struct vgalloc__virtgpu_drm_version, name) ==
                       offsetof(struct drm_version, name),
               "VERSION name");
_Static_assert(VGALLOC__VIRTGPU_IOCTL_VERSION == DRM_IOCTL_VERSION, "VERSION number");

struct vgalloc__virtgpu {
	struct vgalloc_backend base; /* first: the ops get the object through it */
	int fd;
	bool owns_fd;
	struct vgalloc_allocator allocator;
	struct vgalloc__virtgpu_sys sys;
};

static struct vgalloc__virtgpu *vg_of(struct vgalloc_backend *be)
{
	return (struct vgalloc__virtgpu *)be;
}

/* --- the real system calls ------------------------------------------------------------------ */

static int real_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	(void)ctx;
	return ioctl(fd, request, arg);
}

static void *real_mmap(void *ctx, size_t size, int fd, uint64_t offset)
{
	(void)ctx;
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
}

static int real_munmap(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	return munmap(ptr, size);
}

/* A render node of a virtio PCI function of the GPU type, or of a device on another bus
 * (virtio-mmio); the driver name is checked once it is open. */
static int real_render_nodes(void *ctx, char (*paths)[VGALLOC__VIRTGPU_PATH_MAX], int max)
{
	drmDevicePtr devs[VGALLOC__VIRTGPU_MAX_NODES];
	int n, count = 0;

	(void)ctx;
	if (max <= 0) {
		return 0;
	}
	n = drmGetDevices2(0, devs,
	                   max < VGALLOC__VIRTGPU_MAX_NODES ? max : VGALLOC__VIRTGPU_MAX_NODES);
	if (n < 0) {
		return n;
	}
	for (int i = 0; i < n; i++) {
		drmDevicePtr d = devs[i];
		size_t len;

		if (!(d->available_nodes & (1 << DRM_NODE_RENDER))) {
			continue;
		}
		if (d->bustype == DRM_BUS_PCI &&
		    (d->deviceinfo.pci->vendor_id != VIRTIO_PCI_VENDOR ||
		     d->deviceinfo.pci->device_id != VIRTIO_GPU_PCI_DEVICE)) {
			continue;
		}
		len = strlen(d->nodes[DRM_NODE_RENDER]);
		if (len >= VGALLOC__VIRTGPU_PATH_MAX) {
			continue;
		}
		memcpy(paths[count++], d->nodes[DRM_NODE_RENDER], len + 1);
	}
	drmFreeDevices(devs, n);
	return count;
}

static int real_open(void *ctx, const char *path)
{
	(void)ctx;
	return open(path, O_RDWR | O_CLOEXEC);
}

static int real_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd);
}

const struct vgalloc__virtgpu_sys vgalloc__virtgpu_real_sys = {
	.ioctl = real_ioctl,
	.mmap = real_mmap,
	.munmap = real_munmap,
	.render_nodes = real_render_nodes,
	.open = real_open,
	.close = real_close,
};

/* The one ioctl helper: retries EINTR and EAGAIN, turns -1/errno into -errno. */
static int sys_ioctl(const struct vgalloc__virtgpu_sys *sys, int fd, unsigned long request,
                     void *arg)
{
	int ret;

	/* Signals interrupt long waits; DRM asks for a plain retry on both. */
	do {
		ret = sys->ioctl(sys->ctx, fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	if (ret == -1) {
		return errno > 0 ? -errno : -EIO;
	}
	return 0;
}

static int vg_ioctl(struct vgalloc_backend *be, unsigned long request, void *arg)
{
	struct vgalloc__virtgpu *vg = vg_of(be);

	return sys_ioctl(&vg->sys, vg->fd, request, arg);
}

static int getparam(const struct vgalloc__virtgpu_sys *sys, int fd, uint64_t param, uint64_t *value)
{
	/* The kernel writes an int through the pointer: start from zero so that nothing stale
	 * survives in the upper bytes or on a kernel that writes less. */
	int v = 0;
	struct vgalloc_uapi_getparam gp = { .param = param, .value = (uint64_t)(uintptr_t)&v };
	int ret = sys_ioctl(sys, fd, VGALLOC_UAPI_IOCTL_GETPARAM, &gp);

	if (!ret) {
		*value = (uint32_t)v;
	}
	return ret;
}

/* --- the ops --------------------------------------------------------------------------------- */

static int op_get_fd(struct vgalloc_backend *be)
{
	return vg_of(be)->fd;
}

static int op_get_param(struct vgalloc_backend *be, uint64_t param, uint64_t *value)
{
	struct vgalloc__virtgpu *vg = vg_of(be);

	return getparam(&vg->sys, vg->fd, param, value);
}

static int op_get_capset(struct vgalloc_backend *be, uint32_t id, uint32_t version, void *buf,
                         uint32_t size)
{
	struct vgalloc_uapi_get_caps gc = {
		.cap_set_id = id,
		.cap_set_ver = version,
		.addr = (uint64_t)(uintptr_t)buf,
		.size = size,
	};

	return vg_ioctl(be, VGALLOC_UAPI_IOCTL_GET_CAPS, &gc);
}

static int op_context_init(struct vgalloc_backend *be,
                           const struct vgalloc_context_param_value *params, uint32_t count)
{
	struct vgalloc_uapi_context_set_param p[4];
	struct vgalloc_uapi_context_init ci = {
		.num_params = count,
		.ctx_set_params = (uint64_t)(uintptr_t)p,
	};

	if (count > 4) {
		return -EINVAL;
	}
	for (uint32_t i = 0; i < count; i++) {
		p[i].param = params[i].param;
		p[i].value = params[i].value;
	}
	return vg_ioctl(be, VGALLOC_UAPI_IOCTL_CONTEXT_INIT, &ci);
}

static int op_blob_create(struct vgalloc_backend *be, const struct vgalloc_backend_blob_args *args,
                          uint32_t *out_handle, uint32_t *out_res_id)
{
	struct vgalloc_uapi_resource_create_blob cb = {
		.blob_mem = args->blob_mem,
		.blob_flags = args->blob_flags,
		.size = args->size,
		.cmd_size = args->cmd_size,
		.cmd = (uint64_t)(uintptr_t)args->cmd,
		.blob_id = args->blob_id,
	};
	int ret = vg_ioctl(be, VGALLOC_UAPI_IOCTL_RESOURCE_CREATE_BLOB, &cb);

	if (!ret) {
		*out_handle = cb.bo_handle;
		*out_res_id = cb.res_handle;
	}
	return ret;
}

static int op_blob_map(struct vgalloc_backend *be, uint32_t handle, uint64_t size, void **out_ptr)
{
	struct vgalloc__virtgpu *vg = vg_of(be);
	struct vgalloc_uapi_map m = { .handle = handle };
	void *ptr;
	int ret;

	if (size > SIZE_MAX) {
		return -ENOMEM;
	}
	ret = vg_ioctl(be, VGALLOC_UAPI_IOCTL_MAP, &m);
	if (ret) {
		return ret;
	}
	/* The kernel maps whole blobs only; host refusals surface here, as EINVAL. */
	ptr = vg->sys.mmap(vg->sys.ctx, (size_t)size, vg->fd, m.offset);
	if (ptr == MAP_FAILED) {
		return errno > 0 ? -errno : -EIO;
	}
	*out_ptr = ptr;
	return 0;
}

static int op_blob_unmap(struct vgalloc_backend *be, uint32_t handle, void *ptr, uint64_t size)
{
	struct vgalloc__virtgpu *vg = vg_of(be);

	(void)handle;
	return vg->sys.munmap(vg->sys.ctx, ptr, (size_t)size) ? -errno : 0;
}

static int op_blob_export(struct vgalloc_backend *be, uint32_t handle, uint32_t flags, int *out_fd)
{
	struct vgalloc_uapi_prime_handle ph = { .handle = handle, .flags = flags, .fd = -1 };
	int ret = vg_ioctl(be, VGALLOC_UAPI_IOCTL_PRIME_HANDLE_TO_FD, &ph);

	if (!ret) {
		*out_fd = ph.fd;
	}
	return ret;
}

static int op_blob_import(struct vgalloc_backend *be, int fd, uint32_t *out_handle)
{
	struct vgalloc_uapi_prime_handle ph = { .fd = fd };
	int ret = vg_ioctl(be, VGALLOC_UAPI_IOCTL_PRIME_FD_TO_HANDLE, &ph);

	if (!ret) {
		*out_handle = ph.handle;
	}
	return ret;
}

static int op_blob_info(struct vgalloc_backend *be, uint32_t handle,
                        struct vgalloc_backend_blob_info *out)
{
	struct vgalloc_uapi_resource_info ri = { .bo_handle = handle };
	int ret = vg_ioctl(be, VGALLOC_UAPI_IOCTL_RESOURCE_INFO, &ri);

	if (!ret) {
		out->res_id = ri.res_handle;
		out->size = ri.size;
		out->blob_mem = ri.blob_mem;
	}
	return ret;
}

static int op_blob_destroy(struct vgalloc_backend *be, uint32_t handle)
{
	struct vgalloc_uapi_gem_close gc = { .handle = handle };

	return vg_ioctl(be, VGALLOC_UAPI_IOCTL_GEM_CLOSE, &gc);
}

static void op_destroy(struct vgalloc_backend *be)
{
	struct vgalloc__virtgpu *vg = vg_of(be);
	struct vgalloc_allocator a = vg->allocator;

	if (vg->owns_fd && vg->fd >= 0) {
		vg->sys.close(vg->sys.ctx, vg->fd);
	}
	vg->base.magic = 0;
	a.free(a.user, vg);
}

static const struct vgalloc_backend_ops virtgpu_ops = {
	.abi_version = VGALLOC_BACKEND_ABI_VERSION,
	.name = "virtgpu",
	.get_fd = op_get_fd,
	.get_param = op_get_param,
	.get_capset = op_get_capset,
	.context_init = op_context_init,
	.blob_create = op_blob_create,
	.blob_map = op_blob_map,
	.blob_unmap = op_blob_unmap,
	.blob_export = op_blob_export,
	.blob_import = op_blob_import,
	.blob_info = op_blob_info,
	.blob_destroy = op_blob_destroy,
	.destroy = op_destroy,
};

/* --- own mode's discovery -------------------------------------------------------------------- */

/* Whether fd's driver is virtio_gpu: VERSION with room for the name only (no date, no
 * description). The kernel reports the name's full length, so a longer name cannot pass. */
static bool driver_is_virtio_gpu(const struct vgalloc__virtgpu_sys *sys, int fd)
{
	static const char want[] = "virtio_gpu";
	char name[sizeof(want)] = { 0 };
	struct vgalloc__virtgpu_drm_version v = { .name_len = sizeof(name), .name = name };

	if (sys_ioctl(sys, fd, VGALLOC__VIRTGPU_IOCTL_VERSION, &v)) {
		return false;
	}
	return v.name_len == sizeof(want) - 1 && !memcmp(name, want, sizeof(want) - 1);
}

/* The fd of the first candidate that is virtio_gpu and offers capset_id, or -ENODEV. */
static int open_render_node(const struct vgalloc__virtgpu_sys *sys, uint32_t capset_id)
{
	char paths[VGALLOC__VIRTGPU_MAX_NODES][VGALLOC__VIRTGPU_PATH_MAX];
	int n = sys->render_nodes(sys->ctx, paths, VGALLOC__VIRTGPU_MAX_NODES);

	if (n < 0) {
		return -ENODEV;
	}
	for (int i = 0; i < n && i < VGALLOC__VIRTGPU_MAX_NODES; i++) {
		uint64_t ids = 0;
		int fd;

		paths[i][VGALLOC__VIRTGPU_PATH_MAX - 1] = '\0';
		fd = sys->open(sys->ctx, paths[i]);
		if (fd < 0) {
			continue;
		}
		/* Only VERSION and GETPARAM here: anything else would create an implicit context. */
		if (driver_is_virtio_gpu(sys, fd) &&
		    !getparam(sys, fd, VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS, &ids) &&
		    capset_id < 64 && (ids & (1ull << capset_id))) {
			return fd;
		}
		sys->close(sys->ctx, fd);
	}
	return -ENODEV;
}

int vgalloc__virtgpu_create(int fd, uint32_t capset_id, const struct vgalloc_allocator *allocator,
                            uint32_t scope, const struct vgalloc__virtgpu_sys *sys,
                            struct vgalloc_backend **out)
{
	struct vgalloc__virtgpu *vg;

	if (!allocator || !allocator->alloc || !allocator->free) {
		return -EINVAL;
	}
	vg = allocator->alloc(allocator->user, sizeof(*vg), _Alignof(struct vgalloc__virtgpu),
	                      scope);
	if (!vg) {
		return -ENOMEM;
	}
	memset(vg, 0, sizeof(*vg));
	vg->base.magic = VGALLOC_BACKEND_MAGIC;
	vg->base.ops = &virtgpu_ops;
	vg->allocator = *allocator;
	vg->sys = sys ? *sys : vgalloc__virtgpu_real_sys;
	vg->fd = fd;
	if (fd < 0) {
		vg->fd = open_render_node(&vg->sys, capset_id);
		if (vg->fd < 0) {
			int ret = vg->fd;

			allocator->free(allocator->user, vg);
			return ret;
		}
		vg->owns_fd = true;
	}
	*out = &vg->base;
	return 0;
}
