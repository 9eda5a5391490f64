/* SPDX-License-Identifier: MIT */
/*
 * vgalloc-demo: allocate host-visible memory, map it, write it, export it as a dma-buf and read
 * the same bytes back through the fd, on an injecting and on a static hypervisor. It prints every
 * hook and kernel call each profile needed, and the ledger after teardown.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_mock.h"

#define SIZE (64u * 1024u)

static void print_trace(struct vgalloc_mock *mock, const char *what)
{
	struct vgalloc_mock_trace_entry e[32];
	char line[256];
	int n = vgalloc_mock_get_trace(mock, e, 32);

	printf("  %s:\n", what);
	for (int i = 0; i < n; i++) {
		vgalloc_mock_format_entry(&e[i], line, sizeof(line));
		printf("    %s\n", line);
	}
	vgalloc_mock_reset_counters(mock);
}

static int run(uint32_t profile, const char *name)
{
	struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi), .profile = profile };
	struct vgalloc_memory_type type = {
		.struct_size = sizeof(type),
		.host_index = 0,
		.property_flags = VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL |
		                  VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
		                  VGALLOC_MEMORY_PROPERTY_HOST_COHERENT,
	};
	struct vgalloc_host_hooks hooks;
	struct vgalloc_device_create_info ci = {
		.struct_size = sizeof(ci),
		.backend = VGALLOC_BACKEND_MOCK,
		.mode = VGALLOC_DEVICE_MODE_OWN,
		.capset_id = VGALLOC_CAPSET_VENUS,
		.memory_types = &type,
		.memory_type_count = 1,
		.hooks = &hooks,
	};
	struct vgalloc_request req = {
		.struct_size = sizeof(req),
		.memory_type = 0,
		.size = SIZE,
		.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF,
	};
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mock *mock = NULL;
	struct vgalloc_mem *mem = NULL;
	const char msg[] = "hello from the guest";
	char *p = NULL, *q;
	int fd = -1, ret;

	printf("== %s hypervisor ==\n", name);
	ret = vgalloc_mock_create(&mi, &mock);
	if (!ret) {
		ret = vgalloc_mock_get_hooks(mock, 0, &hooks);
	}
	if (!ret) {
		ci.backend_object = mock;
		ret = vgalloc_device_create(&ci, &dev);
	}
	if (ret) {
		fprintf(stderr, "device create failed: %s\n", strerror(-ret));
		vgalloc_mock_destroy(mock);
		return 1;
	}
	vgalloc_device_get_info(dev, &di);
	printf("  device: %s, blob alignment %llu\n",
	       di.alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST ? "guest-first" : "host-first",
	       (unsigned long long)di.blob_alignment);
	print_trace(mock, "device create");

	ret = vgalloc_mem_alloc(dev, &req, &mem);
	if (!ret) {
		print_trace(mock, "vgalloc_mem_alloc (64 KiB, host-visible, dma-buf export)");
		ret = vgalloc_mem_map(dev, mem, (void **)&p);
	}
	if (!ret) {
		memcpy(p, msg, sizeof(msg));
		print_trace(mock, "vgalloc_mem_map");
		ret = vgalloc_mem_export(dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd);
	}
	if (!ret) {
		print_trace(mock, "vgalloc_mem_export");
		q = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
		if (q == MAP_FAILED) {
			ret = -errno;
		} else {
			printf("  read through the dma-buf fd: \"%s\" (%s)\n", q,
			       memcmp(q, msg, sizeof(msg)) ? "MISMATCH" : "same bytes");
			ret = memcmp(q, msg, sizeof(msg)) ? -EIO : 0;
			munmap(q, SIZE);
		}
		close(fd);
	}
	if (mem) {
		vgalloc_mem_unmap(dev, mem);
		vgalloc_mem_free(dev, mem);
		print_trace(mock, "vgalloc_mem_unmap + vgalloc_mem_free");
	}
	vgalloc_device_destroy(dev);
	vgalloc_mock_get_ledger(mock, &l);
	printf("  ledger after teardown: blobs %llu, handles %llu, bytes %llu, window %llu, fds "
	       "%llu, "
	       "host allocations %llu, order violations %llu\n",
	       (unsigned long long)l.live_blobs, (unsigned long long)l.live_handles,
	       (unsigned long long)l.blob_bytes, (unsigned long long)l.window_bytes,
	       (unsigned long long)l.open_fds, (unsigned long long)l.host_allocs,
	       (unsigned long long)l.order_violations);
	if (!ret &&
	    (l.live_blobs || l.live_handles || l.open_fds || l.host_allocs || l.order_violations)) {
		ret = -EIO;
	}
	vgalloc_mock_destroy(mock);
	if (ret) {
		fprintf(stderr, "  failed: %s\n", strerror(-ret));
		return 1;
	}
	return 0;
}

int main(void)
{
	int failures = 0;

	printf("vgalloc-demo %d.%d.%d (mock backend: no virtio-gpu device is used)\n",
	       VGALLOC_VERSION_MAJOR, VGALLOC_VERSION_MINOR, VGALLOC_VERSION_PATCH);
	failures += run(VGALLOC_MOCK_PROFILE_INJECTING, "injecting");
	failures += run(VGALLOC_MOCK_PROFILE_STATIC, "static");
	printf("%s\n", failures ? "FAILED" : "OK");
	return failures ? 1 : 0;
}
