/* SPDX-License-Identifier: MIT */
/*
 * A consumer of the *installed* library: built by tests/install/run.sh through pkg-config (shared
 * and static) and through find_package(vgalloc), so a broken .pc file, CMake package, header
 * install or exported symbol fails CI instead of a user.
 */
#include <stdio.h>
#include <string.h>

#include <vgalloc/vgalloc.h>
#include <vgalloc/vgalloc_mock.h>

int main(void)
{
	struct vgalloc_mock_create_info mock_info = { .struct_size = sizeof(mock_info) };
	struct vgalloc_mock *mock = NULL;
	int ret = vgalloc_mock_create(&mock_info, &mock);
	if (ret) {
		fprintf(stderr, "vgalloc_mock_create: %s\n", strerror(-ret));
		return 1;
	}

	struct vgalloc_device_create_info dev_info = {
		.struct_size = sizeof(dev_info),
		.backend = VGALLOC_BACKEND_MOCK,
		.mode = VGALLOC_DEVICE_MODE_OWN,
		.backend_object = mock,
		.fd = -1,
		.capset_id = VGALLOC_CAPSET_VENUS,
	};
	struct vgalloc_device *dev = NULL;
	ret = vgalloc_device_create(&dev_info, &dev);
	if (ret) {
		fprintf(stderr, "vgalloc_device_create: %s\n", strerror(-ret));
		vgalloc_mock_destroy(mock);
		return 1;
	}

	struct vgalloc_device_info info = { .struct_size = sizeof(info) };
	ret = vgalloc_device_get_info(dev, &info);
	if (ret) {
		fprintf(stderr, "vgalloc_device_get_info: %s\n", strerror(-ret));
	} else {
		printf("vgalloc %d.%d.%d consumer: blob alignment %llu\n", VGALLOC_VERSION_MAJOR,
		       VGALLOC_VERSION_MINOR, VGALLOC_VERSION_PATCH,
		       (unsigned long long)info.blob_alignment);
	}

	vgalloc_device_destroy(dev);
	vgalloc_mock_destroy(mock);
	return ret ? 1 : 0;
}
