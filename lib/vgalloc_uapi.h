/* SPDX-License-Identifier: MIT */
/*
 * The project's own virtio-gpu UAPI definitions: constants now, ioctl structs with size and offset
 * checks when the virtgpu backend lands. Debian 12's libdrm headers lack blob and context-init
 * definitions, so the library does not depend on any system copy of virtgpu_drm.h.
 */
#ifndef VGALLOC_UAPI_H
#define VGALLOC_UAPI_H

/* GETPARAM numbers, upstream Linux numbering. */
#define VGALLOC_UAPI_PARAM_3D_FEATURES          1
#define VGALLOC_UAPI_PARAM_CAPSET_QUERY_FIX     2
#define VGALLOC_UAPI_PARAM_RESOURCE_BLOB        3
#define VGALLOC_UAPI_PARAM_HOST_VISIBLE         4
#define VGALLOC_UAPI_PARAM_CROSS_DEVICE         5
#define VGALLOC_UAPI_PARAM_CONTEXT_INIT         6
#define VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS 7
#define VGALLOC_UAPI_PARAM_EXPLICIT_DEBUG_NAME  8
/* Posted Nov 2025, merged for Linux 7.2; the kernel answers -ENOENT unless it was negotiated. */
#define VGALLOC_UAPI_PARAM_BLOB_ALIGNMENT 9

/* Other numberings of the same ioctl, none detectable at run time. */
#define VGALLOC_UAPI_MESA_PARAM_GUEST_VRAM                9 /* Mesa's fallback for a downstream kernel */
#define VGALLOC_UAPI_CROS_PARAM_CREATE_GUEST_HANDLE       8
#define VGALLOC_UAPI_CROS_PARAM_RESOURCE_SYNC             9
#define VGALLOC_UAPI_CROS_PARAM_GUEST_VRAM                10
#define VGALLOC_UAPI_CROS_PARAM_QUERY_DEV                 11
#define VGALLOC_UAPI_GFXSTREAM_PARAM_CREATE_FENCE_PASSING 9
#define VGALLOC_UAPI_GFXSTREAM_PARAM_CREATE_GUEST_HANDLE  10

/* RESOURCE_CREATE_BLOB blob_mem. GUEST_VRAM is downstream only (EINVAL on mainline). */
#define VGALLOC_UAPI_BLOB_MEM_GUEST        1
#define VGALLOC_UAPI_BLOB_MEM_HOST3D       2
#define VGALLOC_UAPI_BLOB_MEM_HOST3D_GUEST 3
#define VGALLOC_UAPI_BLOB_MEM_GUEST_VRAM   4

/* RESOURCE_CREATE_BLOB blob_flags. 0x8 and 0x10 are out-of-tree ChromeOS bits. */
#define VGALLOC_UAPI_BLOB_FLAG_USE_MAPPABLE        0x1
#define VGALLOC_UAPI_BLOB_FLAG_USE_SHAREABLE       0x2
#define VGALLOC_UAPI_BLOB_FLAG_USE_CROSS_DEVICE    0x4
#define VGALLOC_UAPI_BLOB_FLAG_CREATE_GUEST_HANDLE 0x8
#define VGALLOC_UAPI_BLOB_FLAG_CREATE_GUEST_CONTIG 0x10
#define VGALLOC_UAPI_BLOB_FLAGS_MAINLINE           0x7

/* CONTEXT_INIT params; NUM_RINGS is at most 64. */
#define VGALLOC_UAPI_CONTEXT_PARAM_CAPSET_ID       1
#define VGALLOC_UAPI_CONTEXT_PARAM_NUM_RINGS       2
#define VGALLOC_UAPI_CONTEXT_PARAM_POLL_RINGS_MASK 3
#define VGALLOC_UAPI_CONTEXT_PARAM_DEBUG_NAME      4
#define VGALLOC_UAPI_MAX_RINGS                     64

/* Capset ids: 1..6 kernel UAPI, 7..9 gfxstream/rutabaga. */
#define VGALLOC_UAPI_CAPSET_VIRGL              1
#define VGALLOC_UAPI_CAPSET_VIRGL2             2
#define VGALLOC_UAPI_CAPSET_GFXSTREAM_VULKAN   3
#define VGALLOC_UAPI_CAPSET_VENUS              4
#define VGALLOC_UAPI_CAPSET_CROSS_DOMAIN       5
#define VGALLOC_UAPI_CAPSET_DRM                6
#define VGALLOC_UAPI_CAPSET_GFXSTREAM_MAGMA    7
#define VGALLOC_UAPI_CAPSET_GFXSTREAM_GLES     8
#define VGALLOC_UAPI_CAPSET_GFXSTREAM_COMPOSER 9

/* Map-info cache bits reported with RESOURCE_MAP_BLOB. */
#define VGALLOC_UAPI_MAP_CACHE_NONE     0
#define VGALLOC_UAPI_MAP_CACHE_CACHED   1
#define VGALLOC_UAPI_MAP_CACHE_UNCACHED 2
#define VGALLOC_UAPI_MAP_CACHE_WC       3

/* WAIT flags: the ioctl has no timeout (the kernel gives up after 15 s with -EBUSY). */
#define VGALLOC_UAPI_WAIT_NOWAIT 1

/* Venus capset (id 4, version 0): u32 fields, only ever appended. */
#define VGALLOC_UAPI_VENUS_WIRE_FORMAT_VERSION         0
#define VGALLOC_UAPI_VENUS_VK_XML_VERSION              4
#define VGALLOC_UAPI_VENUS_EXT_SERIALIZATION_SPEC      8
#define VGALLOC_UAPI_VENUS_PROTOCOL_SPEC               12
#define VGALLOC_UAPI_VENUS_SUPPORTS_BLOB_ID_0          16
#define VGALLOC_UAPI_VENUS_EXTENSION_MASK1             20 /* u32[32] */
#define VGALLOC_UAPI_VENUS_ALLOW_VK_WAIT_SYNCS         148
#define VGALLOC_UAPI_VENUS_SUPPORTS_MULTIPLE_TIMELINES 152
#define VGALLOC_UAPI_VENUS_USE_GUEST_VRAM              156
#define VGALLOC_UAPI_VENUS_CAPSET_SIZE                 160

/*
 * Ioctl argument layouts, from the kernel's documented ABI. Every size and offset is checked at
 * compile time so a layout mistake cannot reach a kernel.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#define VGALLOC_UAPI_DRM_BASE         'd'
#define VGALLOC_UAPI_DRM_COMMAND_BASE 0x40

struct vgalloc_uapi_map {
	uint64_t offset; /* out: the fake offset to mmap at */
	uint32_t handle;
	uint32_t pad;
};

struct vgalloc_uapi_getparam {
	uint64_t param;
	uint64_t value; /* user pointer to an int the kernel writes */
};

struct vgalloc_uapi_resource_info {
	uint32_t bo_handle;
	uint32_t res_handle; /* out */
	uint32_t size;       /* out: 32-bit, even for larger blobs */
	uint32_t blob_mem;   /* out: 0 for a non-blob resource */
};

struct vgalloc_uapi_wait {
	uint32_t handle;
	uint32_t flags; /* VGALLOC_UAPI_WAIT_NOWAIT */
};

struct vgalloc_uapi_get_caps {
	uint32_t cap_set_id;
	uint32_t cap_set_ver;
	uint64_t addr;
	uint32_t size;
	uint32_t pad;
};

struct vgalloc_uapi_resource_create_blob {
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t bo_handle;  /* out */
	uint32_t res_handle; /* out */
	uint64_t size;
	uint32_t pad;
	uint32_t cmd_size;
	uint64_t cmd;
	uint64_t blob_id;
};

struct vgalloc_uapi_context_set_param {
	uint64_t param;
	uint64_t value;
};

struct vgalloc_uapi_context_init {
	uint32_t num_params;
	uint32_t pad;
	uint64_t ctx_set_params; /* user pointer to vgalloc_uapi_context_set_param[num_params] */
};

/* Generic DRM ones the library uses directly. */
struct vgalloc_uapi_gem_close {
	uint32_t handle;
	uint32_t pad;
};

struct vgalloc_uapi_prime_handle {
	uint32_t handle;
	uint32_t flags; /* DRM_CLOEXEC (O_CLOEXEC), DRM_RDWR (O_RDWR) */
	int32_t fd;
};

_Static_assert(sizeof(struct vgalloc_uapi_map) == 16, "MAP size");
_Static_assert(offsetof(struct vgalloc_uapi_map, handle) == 8, "MAP handle");
_Static_assert(sizeof(struct vgalloc_uapi_getparam) == 16, "GETPARAM size");
_Static_assert(offsetof(struct vgalloc_uapi_getparam, value) == 8, "GETPARAM value");
_Static_assert(sizeof(struct vgalloc_uapi_resource_info) == 16, "RESOURCE_INFO size");
_Static_assert(offsetof(struct vgalloc_uapi_resource_info, size) == 8, "RESOURCE_INFO size off");
_Static_assert(offsetof(struct vgalloc_uapi_resource_info, blob_mem) == 12, "RESOURCE_INFO mem");
_Static_assert(sizeof(struct vgalloc_uapi_wait) == 8, "WAIT size");
_Static_assert(sizeof(struct vgalloc_uapi_get_caps) == 24, "GET_CAPS size");
_Static_assert(offsetof(struct vgalloc_uapi_get_caps, addr) == 8, "GET_CAPS addr");
_Static_assert(offsetof(struct vgalloc_uapi_get_caps, size) == 16, "GET_CAPS size off");
_Static_assert(sizeof(struct vgalloc_uapi_resource_create_blob) == 48, "CREATE_BLOB size");
_Static_assert(offsetof(struct vgalloc_uapi_resource_create_blob, blob_flags) == 4, "blob_flags");
_Static_assert(offsetof(struct vgalloc_uapi_resource_create_blob, bo_handle) == 8, "bo_handle");
_Static_assert(offsetof(struct vgalloc_uapi_resource_create_blob, res_handle) == 12, "res_handle");
_Static_assert(offsetof(struct vgalloc_uapi_resource_create_blob, size) == 16, "size");
_Static_assert(offsetof(struct vgalloc_uapi_resource_create_blob, pad) == 24, "pad");
_Static_assert(offsetof(struct vgalloc_uapi_resource_create_blob, cmd_size) == 28, "cmd_size");
_Static_assert(offsetof(struct vgalloc_uapi_resource_create_blob, cmd) == 32, "cmd");
_Static_assert(offsetof(struct vgalloc_uapi_resource_create_blob, blob_id) == 40, "blob_id");
_Static_assert(sizeof(struct vgalloc_uapi_context_init) == 16, "CONTEXT_INIT size");
_Static_assert(offsetof(struct vgalloc_uapi_context_init, ctx_set_params) == 8, "ctx params");
_Static_assert(sizeof(struct vgalloc_uapi_context_set_param) == 16, "context param size");
_Static_assert(sizeof(struct vgalloc_uapi_gem_close) == 8, "GEM_CLOSE size");
_Static_assert(sizeof(struct vgalloc_uapi_prime_handle) == 12, "PRIME size");

#define VGALLOC_UAPI_IOWR(nr, type) \
	_IOWR(VGALLOC_UAPI_DRM_BASE, VGALLOC_UAPI_DRM_COMMAND_BASE + (nr), type)
#define VGALLOC_UAPI_IOCTL_MAP           VGALLOC_UAPI_IOWR(0x01, struct vgalloc_uapi_map)
#define VGALLOC_UAPI_IOCTL_GETPARAM      VGALLOC_UAPI_IOWR(0x03, struct vgalloc_uapi_getparam)
#define VGALLOC_UAPI_IOCTL_RESOURCE_INFO VGALLOC_UAPI_IOWR(0x05, struct vgalloc_uapi_resource_info)
#define VGALLOC_UAPI_IOCTL_WAIT          VGALLOC_UAPI_IOWR(0x08, struct vgalloc_uapi_wait)
#define VGALLOC_UAPI_IOCTL_GET_CAPS      VGALLOC_UAPI_IOWR(0x09, struct vgalloc_uapi_get_caps)
#define VGALLOC_UAPI_IOCTL_RESOURCE_CREATE_BLOB \
	VGALLOC_UAPI_IOWR(0x0a, struct vgalloc_uapi_resource_create_blob)
#define VGALLOC_UAPI_IOCTL_CONTEXT_INIT VGALLOC_UAPI_IOWR(0x0b, struct vgalloc_uapi_context_init)
#define VGALLOC_UAPI_IOCTL_GEM_CLOSE \
	_IOW(VGALLOC_UAPI_DRM_BASE, 0x09, struct vgalloc_uapi_gem_close)
#define VGALLOC_UAPI_IOCTL_PRIME_HANDLE_TO_FD \
	_IOWR(VGALLOC_UAPI_DRM_BASE, 0x2d, struct vgalloc_uapi_prime_handle)
#define VGALLOC_UAPI_IOCTL_PRIME_FD_TO_HANDLE \
	_IOWR(VGALLOC_UAPI_DRM_BASE, 0x2e, struct vgalloc_uapi_prime_handle)

/* The encoded request numbers, spelled out: a wrong struct size or direction cannot slip by. */
_Static_assert(VGALLOC_UAPI_IOCTL_MAP == 0xc0106441u, "MAP number");
_Static_assert(VGALLOC_UAPI_IOCTL_GETPARAM == 0xc0106443u, "GETPARAM number");
_Static_assert(VGALLOC_UAPI_IOCTL_RESOURCE_INFO == 0xc0106445u, "RESOURCE_INFO number");
_Static_assert(VGALLOC_UAPI_IOCTL_WAIT == 0xc0086448u, "WAIT number");
_Static_assert(VGALLOC_UAPI_IOCTL_GET_CAPS == 0xc0186449u, "GET_CAPS number");
_Static_assert(VGALLOC_UAPI_IOCTL_RESOURCE_CREATE_BLOB == 0xc030644au, "CREATE_BLOB number");
_Static_assert(VGALLOC_UAPI_IOCTL_CONTEXT_INIT == 0xc010644bu, "CONTEXT_INIT number");
_Static_assert(VGALLOC_UAPI_IOCTL_GEM_CLOSE == 0x40086409u, "GEM_CLOSE number");
_Static_assert(VGALLOC_UAPI_IOCTL_PRIME_HANDLE_TO_FD == 0xc00c642du, "PRIME_HANDLE_TO_FD number");
_Static_assert(VGALLOC_UAPI_IOCTL_PRIME_FD_TO_HANDLE == 0xc00c642eu, "PRIME_FD_TO_HANDLE number");

#endif
