/* SPDX-License-Identifier: MIT */
/*
 * Versioned-struct handling for every public struct: version-0 floors, zero extension and
 * unknown-tail checks on input, min-size writes on output; and the texts written for callers.
 * One implementation so that every entry point treats a struct_size the same way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

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

bool vgalloc__struct_room(const void *dst, size_t need)
{
	uint32_t size;

	memcpy(&size, dst, sizeof(size));
	return size >= need;
}

void vgalloc__why(struct vgalloc__why *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!w) {
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(w->len < w->size ? w->buf + w->len : NULL,
	              w->len < w->size ? w->size - w->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		w->len += (size_t)n;
	}
}

int vgalloc__why_end(struct vgalloc__why *w)
{
	if (w->size && w->len >= w->size) {
		w->buf[w->size - 1] = 0;
	}
	return w->len > (size_t)INT32_MAX ? -EOVERFLOW : (int)w->len;
}
