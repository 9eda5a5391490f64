/* SPDX-License-Identifier: MIT */
/*
 * The allocation plan: which path a request takes, which blob_mem and blob flags its blob gets and
 * how large it is. A pure function of the device's traits and the request, so it can be tested
 * with plain data and later explained.
 */
#include <errno.h>

#include "private.h"

static int find_type(const struct vgalloc_device *dev, uint32_t host_index, uint32_t *out)
{
	for (uint32_t i = 0; i < dev->type_count; i++) {
		if (dev->types[i].host_index == host_index) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

int vgalloc__plan_request(const struct vgalloc_device *dev, const struct vgalloc_request *req,
			  struct vgalloc__plan *plan)
{
	const uint32_t known_exports = VGALLOC_HANDLE_TYPE_OPAQUE_FD | VGALLOC_HANDLE_TYPE_DMA_BUF;
	bool host_visible, exported, guest_first;
	uint32_t type;
	int ret;

	if (!req->size || (req->alignment && !vgalloc__is_pow2(req->alignment))) {
		return -EINVAL;
	}
	ret = find_type(dev, req->memory_type, &type);
	if (ret) {
		return ret;
	}
	if (!vgalloc__align_up(req->size, dev->blob_alignment, &plan->size)) {
		return -EINVAL;
	}
	if ((req->flags & VGALLOC_REQUEST_IMPORT_FD) && req->import_fd < 0) {
		return -EINVAL;
	}
	/* Host pointers and AHBs need paths this device does not implement. */
	if (req->flags & (VGALLOC_REQUEST_IMPORT_HOST_POINTER | VGALLOC_REQUEST_IMPORT_AHB)) {
		return -EOPNOTSUPP;
	}
	if (req->export_handle_types & ~known_exports) {
		return -EOPNOTSUPP;
	}

	host_visible = dev->types[type].property_flags & VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE;
	exported = req->export_handle_types != 0;
	guest_first = dev->alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST;

	plan->memory_type = type;
	plan->blob_mem = VGALLOC_BLOB_MEM_HOST3D;
	plan->blob_flags = 0;
	if (host_visible || (guest_first && exported)) {
		plan->blob_flags |= VGALLOC_BLOB_FLAG_MAPPABLE;
	}
	if (exported) {
		plan->blob_flags |= VGALLOC_BLOB_FLAG_SHAREABLE;
	}
	if ((req->export_handle_types & VGALLOC_HANDLE_TYPE_DMA_BUF) &&
	    dev->params[VGALLOC_UAPI_PARAM_CROSS_DEVICE] == 1) {
		plan->blob_flags |= VGALLOC_BLOB_FLAG_CROSS_DEVICE;
	}

	if (req->flags & VGALLOC_REQUEST_IMPORT_FD) {
		plan->path = VGALLOC_PATH_IMPORT;
		plan->blob_flags = host_visible ? VGALLOC_BLOB_FLAG_MAPPABLE : 0;
	} else if (!host_visible && !exported) {
		plan->path = VGALLOC_PATH_HOST_ONLY;
		plan->blob_mem = 0;
	} else if (guest_first) {
		plan->path = VGALLOC_PATH_GUEST_FIRST;
	} else if (exported) {
		plan->path = VGALLOC_PATH_HOST_FIRST_EAGER;
	} else {
		plan->path = VGALLOC_PATH_HOST_FIRST_LAZY;
	}
	return 0;
}
