/* SPDX-License-Identifier: MIT */
/*
 * The counters libioctl-count.so keeps and the one function programs look up to read them. Kept
 * apart so the preload and the programs agree on the layout without linking each other.
 */
#ifndef VN_IOCTL_COUNT_H
#define VN_IOCTL_COUNT_H

#include <stdint.h>

enum vn_count {
	VN_COUNT_DRM_IOCTL = 0, /* every ioctl of type 'd' */
	VN_COUNT_CREATE_BLOB = 1,
	VN_COUNT_MAP = 2,
	VN_COUNT_MMAP = 3, /* successful mmaps of a DRM device */
	VN_COUNT_GEM_CLOSE = 4,
	VN_COUNT_EXECBUFFER = 5,
	VN_COUNT_WAIT = 6,
	VN_COUNT_RESOURCE_INFO = 7,
	VN_COUNT_PRIME = 8, /* PRIME export and import */
	VN_COUNT_NUM = 9,
};

struct vn_ioctl_counts {
	uint64_t v[VN_COUNT_NUM];
};

/* Exported by libioctl-count.so; programs find it with dlsym(RTLD_DEFAULT, ...). */
typedef void (*vn_ioctl_count_snapshot_fn)(struct vn_ioctl_counts *out);
#define VN_IOCTL_COUNT_SNAPSHOT "vn_ioctl_count_snapshot"
void vn_ioctl_count_snapshot(struct vn_ioctl_counts *out);

#endif
