/* SPDX-License-Identifier: MIT */
/*
 * The virtgpu backend: the Linux virtio-gpu driver through its ioctls, with render-node discovery
 * through libdrm. Every kernel call goes through one helper, the one place the tests replace, and
 * every answer is checked by the library above, never trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "virtgpu.h"

#define VIRTIO_PCI_VENDOR     0x1af4
#define VIRTIO_GPU_PCI_DEVICE 0x1050

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

const struct vgalloc__virtgpu_sys vgalloc__virtgpu_real_sys = {
	.ioctl = real_ioctl,
	.mmap = real_mmap,
	.munmap = real_munmap,
};

int vgalloc__virtgpu_ioctl(struct vgalloc__virtgpu *vg, unsigned long request, void *arg)
{
	int ret;

	/* Signals interrupt long waits; DRM asks for a plain retry on both. */
	do {
		ret = vg->sys.ioctl(vg->sys.ctx, vg->fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	if (ret == -1) {
		return errno > 0 ? -errno : -EIO;
	}
	return 0;
}

static int op_get_fd(void *be)
{
	return ((struct vgalloc__virtgpu *)be)->fd;
}

static int op_get_param(void *be, uint64_t param, uint64_t *value)
{
	/* The kernel writes an int through the pointer: start from zero so that nothing stale
	 * survives in the upper bytes or on a kernel that writes less. */
	int v = 0;
	struct vgalloc_uapi_getparam gp = { .param = param, .value = (uint64_t)(uintptr_t)&v };
	int ret = vgalloc__virtgpu_ioctl(be, VGALLOC_UAPI_IOCTL_GETPARAM, &gp);

	if (!ret) {
		*value = (uint32_t)v;
	}
	return ret;
}

static int op_get_capset(void *be, uint32_t id, uint32_t version, void *buf, uint32_t size)
{
	struct vgalloc_uapi_get_caps gc = {
		.cap_set_id = id,
		.cap_set_ver = version,
		.addr = (uint64_t)(uintptr_t)buf,
		.size = size,
	};

	return vgalloc__virtgpu_ioctl(be, VGALLOC_UAPI_IOCTL_GET_CAPS, &gc);
}

static int op_context_init(void *be, const struct vgalloc_context_param_value *params,
                           uint32_t count)
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
	return vgalloc__virtgpu_ioctl(be, VGALLOC_UAPI_IOCTL_CONTEXT_INIT, &ci);
}

static int op_blob_create(void *be, const struct vgalloc_backend_blob_args *args,
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
	int ret = vgalloc__virtgpu_ioctl(be, VGALLOC_UAPI_IOCTL_RESOURCE_CREATE_BLOB, &cb);

	if (!ret) {
		*out_handle = cb.bo_handle;
		*out_res_id = cb.res_handle;
	}
	return ret;
}

static int op_blob_map(void *be, uint32_t handle, uint64_t size, void **out_ptr)
{
	struct vgalloc__virtgpu *vg = be;
	struct vgalloc_uapi_map m = { .handle = handle };
	void *ptr;
	int ret;

	if (size > SIZE_MAX) {
		return -ENOMEM;
	}
	ret = vgalloc__virtgpu_ioctl(vg, VGALLOC_UAPI_IOCTL_MAP, &m);
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

static int op_blob_unmap(void *be, uint32_t handle, void *ptr, uint64_t size)
{
	struct vgalloc__virtgpu *vg = be;

	(void)handle;
	return vg->sys.munmap(vg->sys.ctx, ptr, (size_t)size) ? -errno : 0;
}

static int op_blob_export(void *be, uint32_t handle, uint32_t flags, int *out_fd)
{
	struct vgalloc_uapi_prime_handle ph = { .handle = handle, .flags = flags, .fd = -1 };
	int ret = vgalloc__virtgpu_ioctl(be, VGALLOC_UAPI_IOCTL_PRIME_HANDLE_TO_FD, &ph);

	if (!ret) {
		*out_fd = ph.fd;
	}
	return ret;
}

static int op_blob_import(void *be, int fd, uint32_t *out_handle)
{
	struct vgalloc_uapi_prime_handle ph = { .fd = fd };
	int ret = vgalloc__virtgpu_ioctl(be, VGALLOC_UAPI_IOCTL_PRIME_FD_TO_HANDLE, &ph);

	if (!ret) {
		*out_handle = ph.handle;
	}
	return ret;
}

static int op_blob_info(void *be, uint32_t handle, struct vgalloc_backend_blob_info *out)
{
	struct vgalloc_uapi_resource_info ri = { .bo_handle = handle };
	int ret = vgalloc__virtgpu_ioctl(be, VGALLOC_UAPI_IOCTL_RESOURCE_INFO, &ri);

	if (!ret) {
		out->res_id = ri.res_handle;
		out->size = ri.size;
		out->blob_mem = ri.blob_mem;
	}
	return ret;
}

static int op_blob_destroy(void *be, uint32_t handle)
{
	struct vgalloc_uapi_gem_close gc = { .handle = handle };

	return vgalloc__virtgpu_ioctl(be, VGALLOC_UAPI_IOCTL_GEM_CLOSE, &gc);
}

static int op_wait(void *be, uint32_t handle, bool nowait)
{
	struct vgalloc_uapi_wait w = { .handle = handle,
		                       .flags = nowait ? VGALLOC_UAPI_WAIT_NOWAIT : 0 };

	return vgalloc__virtgpu_ioctl(be, VGALLOC_UAPI_IOCTL_WAIT, &w);
}

static void op_destroy(void *be)
{
	struct vgalloc__virtgpu *vg = be;

	if (vg->owns_fd && vg->fd >= 0) {
		close(vg->fd);
	}
	vg->base.magic = 0;
	vgalloc__free(vg->allocator, vg);
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
	.wait = op_wait,
	.destroy = op_destroy,
};

/* A render node of the virtio_gpu driver on a virtio PCI function or a platform bus. */
static bool is_virtio_gpu(drmDevicePtr d, int fd)
{
	drmVersionPtr v;
	bool ok;

	if (d->bustype == DRM_BUS_PCI && (d->deviceinfo.pci->vendor_id != VIRTIO_PCI_VENDOR ||
	                                  d->deviceinfo.pci->device_id != VIRTIO_GPU_PCI_DEVICE)) {
		return false;
	}
	v = drmGetVersion(fd);
	ok = v && v->name && !strcmp(v->name, "virtio_gpu");
	drmFreeVersion(v);
	return ok;
}

static int open_render_node(struct vgalloc__virtgpu *vg, uint32_t capset_id)
{
	drmDevicePtr devs[16];
	int n = drmGetDevices2(0, devs, 16);
	int found = -ENODEV;

	if (n < 0) {
		return -ENODEV;
	}
	for (int i = 0; i < n && found < 0; i++) {
		uint64_t ids = 0;
		int fd;

		if (!(devs[i]->available_nodes & (1 << DRM_NODE_RENDER))) {
			continue;
		}
		fd = open(devs[i]->nodes[DRM_NODE_RENDER], O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			continue;
		}
		vg->fd = fd;
		/* Only GETPARAM here: anything else would create an implicit context. */
		if (is_virtio_gpu(devs[i], fd) &&
		    !op_get_param(vg, VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS, &ids) &&
		    capset_id < 64 && (ids & (1ull << capset_id))) {
			found = fd;
		} else {
			close(fd);
			vg->fd = -1;
		}
	}
	drmFreeDevices(devs, n);
	return found;
}

int vgalloc__virtgpu_create(int fd, uint32_t capset_id, const struct vgalloc_allocator *allocator,
                            const struct vgalloc__virtgpu_sys *sys, struct vgalloc__virtgpu **out)
{
	struct vgalloc__virtgpu *vg = vgalloc__alloc(allocator, sizeof(*vg), 16);
	int ret;

	if (!vg) {
		return -ENOMEM;
	}
	memset(vg, 0, sizeof(*vg));
	vg->base.magic = VGALLOC_BACKEND_MAGIC;
	vg->base.ops = &virtgpu_ops;
	vg->allocator = allocator;
	vg->sys = sys ? *sys : vgalloc__virtgpu_real_sys;
	vg->fd = fd;
	if (fd < 0) {
		ret = open_render_node(vg, capset_id);
		if (ret < 0) {
			vgalloc__free(allocator, vg);
			return ret;
		}
		vg->owns_fd = true;
	}
	*out = vg;
	return 0;
}
