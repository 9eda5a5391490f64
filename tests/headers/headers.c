/* SPDX-License-Identifier: MIT */
/*
 * The public headers compiled as strict C11 (-std=c11 -pedantic -Werror): a header that leans on a
 * GNU extension or on an include it does not make itself breaks the build here, not a consumer's.
 * vgalloc_backend.h comes first so it is checked on its own; the others follow.
 */
#include <vgalloc/vgalloc.h>
#include <vgalloc/vgalloc_backend.h>
#include <vgalloc/vgalloc_capset.h>
#include <vgalloc/vgalloc_diag.h>
#include <vgalloc/vgalloc_mock.h>
#include <vgalloc/vgalloc_version.h>
#include <vgalloc/vgalloc_vulkan.h>

_Static_assert(VGALLOC_VERSION_MAJOR >= 0, "vgalloc_version.h is usable in #if and C");

int vgalloc_header_check_c(void);

int vgalloc_header_check_c(void)
{
	struct vgalloc_device_create_info info = { .struct_size = sizeof(info) };
	return (int)info.struct_size + (int)sizeof(struct vgalloc_mock_create_info);
}
