// SPDX-License-Identifier: MIT
//
// The public headers compiled as C++17 (-pedantic -Werror): extern "C", no C-only constructs.
// vgalloc_mock.h comes first here (headers.c checks vgalloc_backend.h first) so each of the two
// headers that include vgalloc.h is compiled on its own once.
#include <vgalloc/vgalloc.h>
#include <vgalloc/vgalloc_backend.h>
#include <vgalloc/vgalloc_capset.h>
#include <vgalloc/vgalloc_diag.h>
#include <vgalloc/vgalloc_mock.h>
#include <vgalloc/vgalloc_version.h>
#include <vgalloc/vgalloc_vulkan.h>

static_assert(VGALLOC_VERSION_MAJOR >= 0, "vgalloc_version.h is usable in C++");

int vgalloc_header_check_cpp();

int vgalloc_header_check_cpp()
{
	vgalloc_device_create_info info{};
	info.struct_size = sizeof(info);
	return static_cast<int>(info.struct_size) +
	       static_cast<int>(sizeof(vgalloc_mock_create_info));
}
