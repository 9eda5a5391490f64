/* SPDX-License-Identifier: MIT */
/*
 * Compiled inside the trixie chroot against its kernel UAPI headers (linux-libc-dev): every struct
 * the virtgpu backend passes to the kernel must match the kernel's layout field by field, and
 * every ioctl number and constant must be equal. A mismatch fails the compile; the program then
 * only prints what it checked.
 */
#include <stddef.h>
#include <stdio.h>

#ifdef VGALLOC_LAYOUT_LIBDRM /* libdrm's copies, for a check outside the chroot */
#include <drm.h>
#include <virtgpu_drm.h>
#else
#include <drm/drm.h>
#include <drm/virtgpu_drm.h>
#endif

#include "vgalloc_uapi.h"

#define FIELD(ours, theirs, of, tf)                                                        \
	_Static_assert(offsetof(struct ours, of) == offsetof(struct theirs, tf),           \
	               #ours "." #of " offset");                                           \
	_Static_assert(sizeof(((struct ours *)0)->of) == sizeof(((struct theirs *)0)->tf), \
	               #ours "." #of " size")
#define SIZE(ours, theirs) _Static_assert(sizeof(struct ours) == sizeof(struct theirs), #ours)
#define SAME(a, b)         _Static_assert((unsigned long)(a) == (unsigned long)(b), #a " == " #b)

SIZE(vgalloc_uapi_map, drm_virtgpu_map);
FIELD(vgalloc_uapi_map, drm_virtgpu_map, offset, offset);
FIELD(vgalloc_uapi_map, drm_virtgpu_map, handle, handle);
FIELD(vgalloc_uapi_map, drm_virtgpu_map, pad, pad);

SIZE(vgalloc_uapi_getparam, drm_virtgpu_getparam);
FIELD(vgalloc_uapi_getparam, drm_virtgpu_getparam, param, param);
FIELD(vgalloc_uapi_getparam, drm_virtgpu_getparam, value, value);

SIZE(vgalloc_uapi_resource_info, drm_virtgpu_resource_info);
FIELD(vgalloc_uapi_resource_info, drm_virtgpu_resource_info, bo_handle, bo_handle);
FIELD(vgalloc_uapi_resource_info, drm_virtgpu_resource_info, res_handle, res_handle);
FIELD(vgalloc_uapi_resource_info, drm_virtgpu_resource_info, size, size);
FIELD(vgalloc_uapi_resource_info, drm_virtgpu_resource_info, blob_mem, blob_mem);

SIZE(vgalloc_uapi_wait, drm_virtgpu_3d_wait);
FIELD(vgalloc_uapi_wait, drm_virtgpu_3d_wait, handle, handle);
FIELD(vgalloc_uapi_wait, drm_virtgpu_3d_wait, flags, flags);

SIZE(vgalloc_uapi_get_caps, drm_virtgpu_get_caps);
FIELD(vgalloc_uapi_get_caps, drm_virtgpu_get_caps, cap_set_id, cap_set_id);
FIELD(vgalloc_uapi_get_caps, drm_virtgpu_get_caps, cap_set_ver, cap_set_ver);
FIELD(vgalloc_uapi_get_caps, drm_virtgpu_get_caps, addr, addr);
FIELD(vgalloc_uapi_get_caps, drm_virtgpu_get_caps, size, size);
FIELD(vgalloc_uapi_get_caps, drm_virtgpu_get_caps, pad, pad);

SIZE(vgalloc_uapi_resource_create_blob, drm_virtgpu_resource_create_blob);
FIELD(vgalloc_uapi_resource_create_blob, drm_virtgpu_resource_create_blob, blob_mem, blob_mem);
FIELD(vgalloc_uapi_resource_create_blob, drm_virtgpu_resource_create_blob, blob_flags, blob_flags);
FIELD(vgalloc_uapi_resource_create_blob, drm_virtgpu_resource_create_blob, bo_handle, bo_handle);
FIELD(vgalloc_uapi_resource_create_blob, drm_virtgpu_resource_create_blob, res_handle, res_handle);
FIELD(vgalloc_uapi_resource_create_blob, drm_virtgpu_resource_create_blob, size, size);
FIELD(vgalloc_uapi_resource_create_blob, drm_virtgpu_resource_create_blob, pad, pad);
FIELD(vgalloc_uapi_resource_create_blob, drm_virtgpu_resource_create_blob, cmd_size, cmd_size);
FIELD(vgalloc_uapi_resource_create_blob, drm_virtgpu_resource_create_blob, cmd, cmd);
FIELD(vgalloc_uapi_resource_create_blob, drm_virtgpu_resource_create_blob, blob_id, blob_id);

SIZE(vgalloc_uapi_context_set_param, drm_virtgpu_context_set_param);
FIELD(vgalloc_uapi_context_set_param, drm_virtgpu_context_set_param, param, param);
FIELD(vgalloc_uapi_context_set_param, drm_virtgpu_context_set_param, value, value);

SIZE(vgalloc_uapi_context_init, drm_virtgpu_context_init);
FIELD(vgalloc_uapi_context_init, drm_virtgpu_context_init, num_params, num_params);
FIELD(vgalloc_uapi_context_init, drm_virtgpu_context_init, pad, pad);
FIELD(vgalloc_uapi_context_init, drm_virtgpu_context_init, ctx_set_params, ctx_set_params);

SIZE(vgalloc_uapi_gem_close, drm_gem_close);
FIELD(vgalloc_uapi_gem_close, drm_gem_close, handle, handle);
FIELD(vgalloc_uapi_gem_close, drm_gem_close, pad, pad);

SIZE(vgalloc_uapi_prime_handle, drm_prime_handle);
FIELD(vgalloc_uapi_prime_handle, drm_prime_handle, handle, handle);
FIELD(vgalloc_uapi_prime_handle, drm_prime_handle, flags, flags);
FIELD(vgalloc_uapi_prime_handle, drm_prime_handle, fd, fd);

SAME(VGALLOC_UAPI_IOCTL_MAP, DRM_IOCTL_VIRTGPU_MAP);
SAME(VGALLOC_UAPI_IOCTL_GETPARAM, DRM_IOCTL_VIRTGPU_GETPARAM);
SAME(VGALLOC_UAPI_IOCTL_RESOURCE_INFO, DRM_IOCTL_VIRTGPU_RESOURCE_INFO);
SAME(VGALLOC_UAPI_IOCTL_WAIT, DRM_IOCTL_VIRTGPU_WAIT);
SAME(VGALLOC_UAPI_IOCTL_GET_CAPS, DRM_IOCTL_VIRTGPU_GET_CAPS);
SAME(VGALLOC_UAPI_IOCTL_RESOURCE_CREATE_BLOB, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB);
SAME(VGALLOC_UAPI_IOCTL_CONTEXT_INIT, DRM_IOCTL_VIRTGPU_CONTEXT_INIT);
SAME(VGALLOC_UAPI_IOCTL_GEM_CLOSE, DRM_IOCTL_GEM_CLOSE);
SAME(VGALLOC_UAPI_IOCTL_PRIME_HANDLE_TO_FD, DRM_IOCTL_PRIME_HANDLE_TO_FD);
SAME(VGALLOC_UAPI_IOCTL_PRIME_FD_TO_HANDLE, DRM_IOCTL_PRIME_FD_TO_HANDLE);

SAME(VGALLOC_UAPI_PARAM_3D_FEATURES, VIRTGPU_PARAM_3D_FEATURES);
SAME(VGALLOC_UAPI_PARAM_CAPSET_QUERY_FIX, VIRTGPU_PARAM_CAPSET_QUERY_FIX);
SAME(VGALLOC_UAPI_PARAM_RESOURCE_BLOB, VIRTGPU_PARAM_RESOURCE_BLOB);
SAME(VGALLOC_UAPI_PARAM_HOST_VISIBLE, VIRTGPU_PARAM_HOST_VISIBLE);
SAME(VGALLOC_UAPI_PARAM_CROSS_DEVICE, VIRTGPU_PARAM_CROSS_DEVICE);
SAME(VGALLOC_UAPI_PARAM_CONTEXT_INIT, VIRTGPU_PARAM_CONTEXT_INIT);
SAME(VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS, VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs);
SAME(VGALLOC_UAPI_PARAM_EXPLICIT_DEBUG_NAME, VIRTGPU_PARAM_EXPLICIT_DEBUG_NAME);
SAME(VGALLOC_UAPI_BLOB_MEM_GUEST, VIRTGPU_BLOB_MEM_GUEST);
SAME(VGALLOC_UAPI_BLOB_MEM_HOST3D, VIRTGPU_BLOB_MEM_HOST3D);
SAME(VGALLOC_UAPI_BLOB_MEM_HOST3D_GUEST, VIRTGPU_BLOB_MEM_HOST3D_GUEST);
SAME(VGALLOC_UAPI_BLOB_FLAG_USE_MAPPABLE, VIRTGPU_BLOB_FLAG_USE_MAPPABLE);
SAME(VGALLOC_UAPI_BLOB_FLAG_USE_SHAREABLE, VIRTGPU_BLOB_FLAG_USE_SHAREABLE);
SAME(VGALLOC_UAPI_BLOB_FLAG_USE_CROSS_DEVICE, VIRTGPU_BLOB_FLAG_USE_CROSS_DEVICE);
SAME(VGALLOC_UAPI_CONTEXT_PARAM_CAPSET_ID, VIRTGPU_CONTEXT_PARAM_CAPSET_ID);
SAME(VGALLOC_UAPI_CONTEXT_PARAM_NUM_RINGS, VIRTGPU_CONTEXT_PARAM_NUM_RINGS);
SAME(VGALLOC_UAPI_CONTEXT_PARAM_POLL_RINGS_MASK, VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK);
SAME(VGALLOC_UAPI_CONTEXT_PARAM_DEBUG_NAME, VIRTGPU_CONTEXT_PARAM_DEBUG_NAME);
/* Capset ids and map cache types entered the header after 6.12; checked where present. */
#ifdef VIRTGPU_DRM_CAPSET_VENUS
#define CAPSETS_CHECKED 1
SAME(VGALLOC_UAPI_CAPSET_VIRGL, VIRTGPU_DRM_CAPSET_VIRGL);
SAME(VGALLOC_UAPI_CAPSET_VIRGL2, VIRTGPU_DRM_CAPSET_VIRGL2);
SAME(VGALLOC_UAPI_CAPSET_GFXSTREAM_VULKAN, VIRTGPU_DRM_CAPSET_GFXSTREAM_VULKAN);
SAME(VGALLOC_UAPI_CAPSET_VENUS, VIRTGPU_DRM_CAPSET_VENUS);
SAME(VGALLOC_UAPI_CAPSET_CROSS_DOMAIN, VIRTGPU_DRM_CAPSET_CROSS_DOMAIN);
SAME(VGALLOC_UAPI_CAPSET_DRM, VIRTGPU_DRM_CAPSET_DRM);
#else
#define CAPSETS_CHECKED 0
#endif
#ifdef VIRTGPU_MAP_CACHE_WC
#define CACHE_CHECKED 1
SAME(VGALLOC_UAPI_MAP_CACHE_WC, VIRTGPU_MAP_CACHE_WC);
#else
#define CACHE_CHECKED 0
#endif
SAME(VGALLOC_UAPI_WAIT_NOWAIT, VIRTGPU_WAIT_NOWAIT);

int main(void)
{
	printf("RESULT uapi_layout_matches_kernel_headers PASS 10 structs (sizes and every field's "
	       "offset and size), 10 ioctl numbers, %d constants equal to <drm/virtgpu_drm.h> and "
	       "<drm/drm.h>%s%s\n",
	       19 + 6 * CAPSETS_CHECKED + CACHE_CHECKED,
	       CAPSETS_CHECKED ? "" : "; capset ids not in this header",
	       CACHE_CHECKED ? "" : "; map cache types not in this header");
	return 0;
}
