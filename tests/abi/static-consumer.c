/* SPDX-License-Identifier: MIT */
/*
 * A shared object that links the static libraries, as a Vulkan driver does, without a version
 * script: its one exported symbol must be its own (tests/abi/static-consumer.symbols), none of
 * the library's.
 */
#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_mock.h"

__attribute__((visibility("default"))) int static_consumer_run(void);

int static_consumer_run(void)
{
	const struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi) };
	struct vgalloc_mock *mock = NULL;
	struct vgalloc_device_create_info di = { .struct_size = sizeof(di) };
	struct vgalloc_device *dev = NULL;
	int ret = vgalloc_mock_create(&mi, &mock);

	if (ret) {
		return ret;
	}
	di.backend = VGALLOC_BACKEND_MOCK;
	di.backend_object = mock;
	di.capset_id = VGALLOC_CAPSET_VENUS;
	ret = vgalloc_device_create(&di, &dev);
	vgalloc_device_destroy(dev);
	vgalloc_mock_destroy(mock);
	return ret;
}
