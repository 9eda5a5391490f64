/* SPDX-License-Identifier: MIT */
/*
 * Logging and bookkeeping allocation. The library writes nothing to stderr and allocates nothing
 * behind the consumer's back: messages go to the per-device callback (silent by default) and
 * memory to the create-info's allocator.
 */
#include <stdio.h>
#include <stdlib.h>

#include "state.h"

static void *default_alloc(void *user, size_t size, size_t align, uint32_t scope)
{
	void *p = NULL;

	(void)user;
	(void)scope;
	if (align <= 16) {
		return malloc(size);
	}
	return posix_memalign(&p, align, size) ? NULL : p;
}

static void default_free(void *user, void *p)
{
	(void)user;
	free(p);
}

void vgalloc__allocator_default(struct vgalloc_allocator *a)
{
	a->user = NULL;
	a->alloc = default_alloc;
	a->free = default_free;
}

void *vgalloc__alloc(const struct vgalloc_allocator *a, size_t size, size_t align,
                     enum vgalloc_alloc_scope scope)
{
	return a->alloc(a->user, size ? size : 1, align, scope);
}

void vgalloc__free(const struct vgalloc_allocator *a, void *p)
{
	if (p) {
		a->free(a->user, p);
	}
}

void vgalloc__log(const struct vgalloc_device *dev, enum vgalloc_log_level level, const char *fmt,
                  ...)
{
	char line[512];
	va_list ap;

	if (!dev->log_fn || (uint32_t)level > dev->log_level) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dev->log_fn(dev->log_user, level, line);
}
