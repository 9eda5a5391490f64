/* SPDX-License-Identifier: MIT */
/*
 * Capset parsing, pure: bytes in, a vgalloc_capset_info out, every length checked against what
 * the bytes hold. Includes core.h alone. Nothing here is installed.
 */
#ifndef VGALLOC_CAPS_H
#define VGALLOC_CAPS_H

#include "core.h"

/*
 * Parse `size` bytes of capset `id` (`source`: enum vgalloc_capset_source).
 * Return: 0; -EOPNOTSUPP (no layout for this id); -EINVAL (a value no valid host sends).
 */
int vgalloc__capset_parse(uint32_t id, const void *data, uint32_t size, uint32_t source,
                          struct vgalloc_capset_info *info);
/* The size of the newest layout of capset `id` this library knows; 0 when it knows none. */
uint32_t vgalloc__capset_layout_size(uint32_t id);

#endif
