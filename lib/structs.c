/* SPDX-License-Identifier: MIT */
/*
 * Versioned-struct handling for every public struct: version-0 floors, zero extension and
 * unknown-tail checks on input, min-size writes on output. One implementation so that every entry
 * point treats a struct_size the same way.
 */
#include <errno.h>
#include <string.h>

#include "private.h"

int vgalloc__struct_in(const void *src, size_t v0_size, size_t cur_size, void *dst)
{
	uint32_t size;
	const unsigned char *bytes = src;

	if (!src || !dst) {
		return -EINVAL;
	}
	memcpy(&size, src, sizeof(size));
	if (size < v0_size) {
		return -EINVAL;
	}
	/* A newer caller may know fields we do not: only an all-zero tail means "defaults". */
	for (size_t i = cur_size; i < size; i++) {
		if (bytes[i]) {
			return -E2BIG;
		}
	}
	memset(dst, 0, cur_size);
	memcpy(dst, src, VGALLOC__MIN((size_t)size, cur_size));
	memcpy(dst, &(uint32_t){ (uint32_t)cur_size }, sizeof(uint32_t));
	return 0;
}

int vgalloc__struct_out(void *dst, const void *src, size_t v0_size, size_t cur_size)
{
	uint32_t size;
	uint32_t n;

	if (!dst || !src) {
		return -EINVAL;
	}
	memcpy(&size, dst, sizeof(size));
	if (size < v0_size) {
		return -EINVAL;
	}
	n = (uint32_t)VGALLOC__MIN((size_t)size, cur_size);
	memcpy(dst, src, n);
	memcpy(dst, &n, sizeof(n));
	return 0;
}
