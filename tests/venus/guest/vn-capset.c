/* SPDX-License-Identifier: MIT */
/*
 * vn-capset: the Venus capset the host offers the guest, read straight from the kernel with
 * DRM_IOCTL_VIRTGPU_GET_CAPS the way Mesa's Venus driver reads it (virtgpu_init_capset), so a tier
 * can tell which path Venus will take (use_guest_vram = 1: the guest places blobs in the
 * host-visible window itself). No Vulkan: the same RESULT/SUMMARY words as vn-common, printed here.
 *
 * Usage: vn-capset [--expect-guest-vram 0|1]
 * Prints "CAPSET venus wire_format_version=W supports_blob_id_0=B use_guest_vram=G", an INFO line,
 * "RESULT capset PASS|FAIL ..." and "SUMMARY failures=N"; exit 0, 1 (failed), 2 (usage).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <drm/drm.h>
#include <drm/virtgpu_drm.h>

/* VIRGL_RENDERER_CAPSET_VENUS in virglrenderer.h; the kernel's uapi has no name for it. */
#define CAPSET_VENUS 4
/* The buffer handed to the kernel: larger than any Venus capset so far (160 bytes), zeroed, so a
 * field the host's (shorter) capset lacks reads 0, as Mesa's zero-initialised struct does. */
#define CAPSET_BUF_SIZE 256

/*
 * struct virgl_renderer_capset_venus as in Mesa 25.0 (src/virtio/virtio-gpu/venus_hw.h) and
 * virglrenderer 1.1: fields only ever appended. The asserts pin the offsets a tier relies on.
 */
struct capset_venus {
	uint32_t wire_format_version;
	uint32_t vk_xml_version;
	uint32_t vk_ext_command_serialization_spec_version;
	uint32_t vk_mesa_venus_protocol_spec_version;
	uint32_t supports_blob_id_0;
	uint32_t vk_extension_mask1[32];
	uint32_t allow_vk_wait_syncs;
	uint32_t supports_multiple_timelines;
	uint32_t use_guest_vram;
};
_Static_assert(offsetof(struct capset_venus, supports_blob_id_0) == 16, "venus_hw.h layout");
_Static_assert(offsetof(struct capset_venus, use_guest_vram) == 156, "venus_hw.h layout");
_Static_assert(sizeof(struct capset_venus) == 160, "venus_hw.h layout");
_Static_assert(sizeof(struct capset_venus) <= CAPSET_BUF_SIZE, "buffer too small");

static int failures;

static void result(int pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void result(int pass, const char *fmt, ...)
{
	va_list ap;

	failures += !pass;
	printf("RESULT capset %s ", pass ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static int summary(void)
{
	printf("SUMMARY failures=%d\n", failures);
	fflush(stdout);
	return failures ? 1 : 0;
}

/* The first render node (sorted), opened read-write; -errno when there is none. */
static int open_render_node(char *path, size_t len)
{
	glob_t g;
	int fd = -ENOENT;

	memset(&g, 0, sizeof(g));
	if (glob("/dev/dri/renderD*", 0, NULL, &g) != 0) {
		return -ENOENT;
	}
	if (g.gl_pathc > 0) {
		snprintf(path, len, "%s", g.gl_pathv[0]);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			fd = -errno;
		}
	}
	globfree(&g);
	return fd;
}

int main(int argc, char **argv)
{
	int expect = -1; /* --expect-guest-vram; -1: any */
	char node[256] = "";
	unsigned char buf[CAPSET_BUF_SIZE];
	struct capset_venus caps;
	uint64_t capset_ids = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect-guest-vram") && i + 1 < argc &&
		    (!strcmp(argv[i + 1], "0") || !strcmp(argv[i + 1], "1"))) {
			expect = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: vn-capset [--expect-guest-vram 0|1]\n");
			return 2;
		}
	}

	int fd = open_render_node(node, sizeof(node));
	if (fd < 0) {
		result(0, "node=%s open: %s", node[0] ? node : "none", strerror(-fd));
		return summary();
	}

	/* Which capsets the host offers (a bitmask of ids); the kernel writes an int through value.
	 * Only for the report: a kernel without the parameter still answers GET_CAPS. */
	struct drm_virtgpu_getparam gp = { .param = VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs,
		                           .value = (uintptr_t)&capset_ids };
	int have_ids = ioctl(fd, DRM_IOCTL_VIRTGPU_GETPARAM, &gp) == 0;
	if (have_ids && !(capset_ids & (1ull << CAPSET_VENUS))) {
		result(0, "node=%s capset_ids=0x%llx: no Venus capset (id %d)", node,
		       (unsigned long long)capset_ids, CAPSET_VENUS);
		close(fd);
		return summary();
	}

	/* Version 0, as Mesa asks: the kernel copies min(size, the host's capset size) bytes. */
	memset(buf, 0, sizeof(buf));
	struct drm_virtgpu_get_caps gc = { .cap_set_id = CAPSET_VENUS,
		                           .cap_set_ver = 0,
		                           .addr = (uintptr_t)buf,
		                           .size = sizeof(buf) };
	if (ioctl(fd, DRM_IOCTL_VIRTGPU_GET_CAPS, &gc) != 0) {
		result(0, "node=%s GET_CAPS(venus v0): %s", node, strerror(errno));
		close(fd);
		return summary();
	}
	close(fd);
	memcpy(&caps, buf, sizeof(caps));

	printf("CAPSET venus wire_format_version=%u supports_blob_id_0=%u use_guest_vram=%u\n",
	       caps.wire_format_version, caps.supports_blob_id_0, caps.use_guest_vram);
	char ids[32] = "unknown";
	if (have_ids) {
		snprintf(ids, sizeof(ids), "0x%llx", (unsigned long long)capset_ids);
	}
	printf("INFO capset node=%s capset_ids=%s vk_xml_version=%u.%u.%u "
	       "allow_vk_wait_syncs=%u supports_multiple_timelines=%u\n",
	       node, ids, (caps.vk_xml_version >> 22) & 0x7f, (caps.vk_xml_version >> 12) & 0x3ff,
	       caps.vk_xml_version & 0xfff, caps.allow_vk_wait_syncs,
	       caps.supports_multiple_timelines);

	char want[16] = "any";
	if (expect >= 0) {
		snprintf(want, sizeof(want), "%d", expect);
	}
	if (caps.wire_format_version == 0) {
		/* Mesa refuses such a capset: no Venus renderer behind it. */
		result(0, "wire_format_version=0 use_guest_vram=%u expected=%s",
		       caps.use_guest_vram, want);
	} else if (expect >= 0 && caps.use_guest_vram != (uint32_t)expect) {
		result(0, "use_guest_vram=%u expected=%s", caps.use_guest_vram, want);
	} else {
		result(1, "use_guest_vram=%u expected=%s", caps.use_guest_vram, want);
	}
	return summary();
}
