/* SPDX-License-Identifier: MIT */
/*
 * In-guest probe of the virtio-gpu UAPI the virtgpu backend relies on, run by the VM tier on a
 * real kernel and a real Venus host. It defines the ioctls itself from DESIGN.md §6 (so it needs
 * only libc and links statically) and prints `RESULT <name> PASS|FAIL <detail>`,
 * `MEASURE <name> p50=<us> p99=<us> n=<count>` and a final `SUMMARY failures=N`.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* ---- UAPI, written from the facts in DESIGN.md §6 (no kernel or libdrm header) ---- */

#define DRM_BASE               'd'
#define DRM_CMD_BASE           0x40
#define VIRTGPU_IOWR(nr, type) _IOWR(DRM_BASE, DRM_CMD_BASE + (nr), type)

struct vp_map {
	uint64_t offset; /* out: fake offset for mmap() on the DRM fd */
	uint32_t handle;
	uint32_t pad;
};

struct vp_getparam {
	uint64_t param;
	uint64_t value; /* user pointer; the kernel writes an int there */
};

struct vp_resource_info {
	uint32_t bo_handle;
	uint32_t res_handle;
	uint32_t size; /* 32-bit: blobs >= 4 GiB do not fit */
	uint32_t blob_mem;
};

struct vp_get_caps {
	uint32_t cap_set_id;
	uint32_t cap_set_ver;
	uint64_t addr;
	uint32_t size; /* the kernel copies min(size, host size) and reports no length */
	uint32_t pad;
};

struct vp_create_blob {
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t bo_handle;  /* out */
	uint32_t res_handle; /* out */
	uint64_t size;
	uint32_t pad;
	uint32_t cmd_size;
	uint64_t cmd;
	uint64_t blob_id;
};

struct vp_ctx_param {
	uint64_t param;
	uint64_t value;
};

struct vp_context_init {
	uint32_t num_params;
	uint32_t pad;
	uint64_t ctx_set_params; /* user pointer to struct vp_ctx_param[num_params] */
};

/* Core DRM, not virtio-specific: GEM close and PRIME. */
struct vp_gem_close {
	uint32_t handle;
	uint32_t pad;
};

struct vp_prime_handle {
	uint32_t handle;
	uint32_t flags;
	int32_t fd;
};

_Static_assert(sizeof(struct vp_map) == 16, "MAP is 16 bytes");
_Static_assert(offsetof(struct vp_map, handle) == 8, "MAP handle @8");
_Static_assert(sizeof(struct vp_getparam) == 16, "GETPARAM is 16 bytes");
_Static_assert(sizeof(struct vp_resource_info) == 16, "RESOURCE_INFO is 16 bytes");
_Static_assert(offsetof(struct vp_resource_info, blob_mem) == 12, "RESOURCE_INFO blob_mem @12");
_Static_assert(sizeof(struct vp_get_caps) == 24, "GET_CAPS is 24 bytes");
_Static_assert(offsetof(struct vp_get_caps, addr) == 8, "GET_CAPS addr @8");
_Static_assert(offsetof(struct vp_get_caps, size) == 16, "GET_CAPS size @16");
_Static_assert(sizeof(struct vp_create_blob) == 48, "RESOURCE_CREATE_BLOB is 48 bytes");
_Static_assert(offsetof(struct vp_create_blob, blob_flags) == 4, "blob_flags @4");
_Static_assert(offsetof(struct vp_create_blob, bo_handle) == 8, "bo_handle @8");
_Static_assert(offsetof(struct vp_create_blob, res_handle) == 12, "res_handle @12");
_Static_assert(offsetof(struct vp_create_blob, size) == 16, "size @16");
_Static_assert(offsetof(struct vp_create_blob, pad) == 24, "pad @24");
_Static_assert(offsetof(struct vp_create_blob, cmd_size) == 28, "cmd_size @28");
_Static_assert(offsetof(struct vp_create_blob, cmd) == 32, "cmd @32");
_Static_assert(offsetof(struct vp_create_blob, blob_id) == 40, "blob_id @40");
_Static_assert(sizeof(struct vp_ctx_param) == 16, "context param is 16 bytes");
_Static_assert(sizeof(struct vp_context_init) == 16, "CONTEXT_INIT is 16 bytes");
_Static_assert(offsetof(struct vp_context_init, ctx_set_params) == 8, "ctx_set_params @8");
_Static_assert(sizeof(struct vp_gem_close) == 8, "GEM_CLOSE is 8 bytes");
_Static_assert(sizeof(struct vp_prime_handle) == 12, "PRIME handle is 12 bytes");

#define VP_IOCTL_MAP                VIRTGPU_IOWR(0x01, struct vp_map)
#define VP_IOCTL_GETPARAM           VIRTGPU_IOWR(0x03, struct vp_getparam)
#define VP_IOCTL_RESOURCE_INFO      VIRTGPU_IOWR(0x05, struct vp_resource_info)
#define VP_IOCTL_GET_CAPS           VIRTGPU_IOWR(0x09, struct vp_get_caps)
#define VP_IOCTL_CREATE_BLOB        VIRTGPU_IOWR(0x0a, struct vp_create_blob)
#define VP_IOCTL_CONTEXT_INIT       VIRTGPU_IOWR(0x0b, struct vp_context_init)
#define VP_IOCTL_GEM_CLOSE          _IOW(DRM_BASE, 0x09, struct vp_gem_close)
#define VP_IOCTL_PRIME_HANDLE_TO_FD _IOWR(DRM_BASE, 0x2d, struct vp_prime_handle)
#define VP_IOCTL_PRIME_FD_TO_HANDLE _IOWR(DRM_BASE, 0x2e, struct vp_prime_handle)

/* The encoded numbers, spelled out once so a wrong struct size cannot slip through. */
_Static_assert(VP_IOCTL_MAP == 0xc0106441u, "MAP number");
_Static_assert(VP_IOCTL_GETPARAM == 0xc0106443u, "GETPARAM number");
_Static_assert(VP_IOCTL_RESOURCE_INFO == 0xc0106445u, "RESOURCE_INFO number");
_Static_assert(VP_IOCTL_GET_CAPS == 0xc0186449u, "GET_CAPS number");
_Static_assert(VP_IOCTL_CREATE_BLOB == 0xc030644au, "RESOURCE_CREATE_BLOB number");
_Static_assert(VP_IOCTL_CONTEXT_INIT == 0xc010644bu, "CONTEXT_INIT number");
_Static_assert(VP_IOCTL_GEM_CLOSE == 0x40086409u, "GEM_CLOSE number");
_Static_assert(VP_IOCTL_PRIME_HANDLE_TO_FD == 0xc00c642du, "PRIME_HANDLE_TO_FD number");
_Static_assert(VP_IOCTL_PRIME_FD_TO_HANDLE == 0xc00c642eu, "PRIME_FD_TO_HANDLE number");

enum {
	PARAM_3D_FEATURES = 1,
	PARAM_CAPSET_QUERY_FIX = 2,
	PARAM_RESOURCE_BLOB = 3,
	PARAM_HOST_VISIBLE = 4,
	PARAM_CROSS_DEVICE = 5,
	PARAM_CONTEXT_INIT = 6,
	PARAM_SUPPORTED_CAPSET_IDS = 7,
	PARAM_EXPLICIT_DEBUG_NAME = 8,
	PARAM_BLOB_ALIGNMENT = 9,
};

enum {
	BLOB_MEM_GUEST = 1,
	BLOB_MEM_HOST3D = 2
};
enum {
	BLOB_FLAG_MAPPABLE = 1,
	BLOB_FLAG_SHAREABLE = 2
};
enum {
	CTX_PARAM_CAPSET_ID = 1
};
enum {
	CAPSET_VENUS = 4
};
/* PRIME flags are the open(2) flags (DRM_CLOEXEC = O_CLOEXEC, DRM_RDWR = O_RDWR). */
#define VP_PRIME_FLAGS ((uint32_t)(O_CLOEXEC | O_RDWR))

#define VENUS_CAPSET_SIZE 160u
#define CAPS_BUF_SIZE     200u
#define BLOB_SIZE         (64u * 1024u)
/* The brief keeps in-VM churn short: long mapped-blob loops hang TCG guests (VMRIG.md). A study
 * build may raise it with -DTIMING_CYCLES=N. */
#ifndef TIMING_CYCLES
#define TIMING_CYCLES 100
#endif

/* ---- reporting ---- */

static int failures;

static void result(const char *name, int pass, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void result(const char *name, int pass, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("RESULT %s %s %s\n", name, pass ? "PASS" : "FAIL", detail);
	if (!pass) {
		failures++;
	}
}

/* Every ioctl goes through here: 0 or -errno, retried on EINTR/EAGAIN as libdrm does. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));
	return ret == -1 ? -errno : 0;
}

static const char *err_name(int neg_errno)
{
	static char buf[32];

	switch (-neg_errno) {
	case 0:
		return "0";
	case EINVAL:
		return "-EINVAL";
	case ENOENT:
		return "-ENOENT";
	case EEXIST:
		return "-EEXIST";
	case ENOMEM:
		return "-ENOMEM";
	case ENOSPC:
		return "-ENOSPC";
	case EBUSY:
		return "-EBUSY";
	case EFAULT:
		return "-EFAULT";
	case ENODEV:
		return "-ENODEV";
	case EACCES:
		return "-EACCES";
	case EPERM:
		return "-EPERM";
	case ENOTTY:
		return "-ENOTTY";
	case EIO:
		return "-EIO";
	default:
		snprintf(buf, sizeof(buf), "-%d", -neg_errno);
		return buf;
	}
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* ---- helpers over the ioctls ---- */

static int getparam(int fd, uint64_t param, int *value)
{
	struct vp_getparam gp = { .param = param, .value = (uint64_t)(uintptr_t)value };

	*value = 0; /* the kernel writes an int; never read stale bytes on failure */
	return xioctl(fd, VP_IOCTL_GETPARAM, &gp);
}

static int create_blob(int fd, uint32_t mem, uint32_t flags, uint64_t size, uint32_t *bo,
                       uint32_t *res)
{
	struct vp_create_blob cb = { .blob_mem = mem, .blob_flags = flags, .size = size };
	int ret = xioctl(fd, VP_IOCTL_CREATE_BLOB, &cb);

	*bo = cb.bo_handle;
	*res = cb.res_handle;
	return ret;
}

static int map_offset(int fd, uint32_t bo, uint64_t *offset)
{
	struct vp_map m = { .handle = bo };
	int ret = xioctl(fd, VP_IOCTL_MAP, &m);

	*offset = m.offset;
	return ret;
}

static int gem_close(int fd, uint32_t bo)
{
	struct vp_gem_close gc = { .handle = bo };

	return xioctl(fd, VP_IOCTL_GEM_CLOSE, &gc);
}

static int mmap_blob(int fd, uint64_t offset, size_t size, void **out)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);

	if (p == MAP_FAILED) {
		*out = NULL;
		return -errno;
	}
	*out = p;
	return 0;
}

/* Write a pattern over the whole mapping and read it back; 0 or the first bad word's index+1. */
static size_t pattern_check(void *p, size_t size, uint32_t seed)
{
	volatile uint32_t *w = p;
	size_t n = size / sizeof(uint32_t), i;

	for (i = 0; i < n; i++) {
		w[i] = seed ^ (uint32_t)(i * 2654435761u);
	}
	for (i = 0; i < n; i++) {
		if (w[i] != (seed ^ (uint32_t)(i * 2654435761u))) {
			return i + 1;
		}
	}
	return 0;
}

/* ---- the checks ---- */

static void check_getparams(int fd, int values[10])
{
	static const char *const names[10] = {
		NULL,
		"3d_features",
		"capset_query_fix",
		"resource_blob",
		"host_visible",
		"cross_device",
		"context_init",
		"supported_capset_ids",
		"explicit_debug_name",
		"blob_alignment",
	};
	char name[64];
	int p;

	for (p = 1; p <= 9; p++) {
		int ret = getparam(fd, (uint64_t)p, &values[p]);

		snprintf(name, sizeof(name), "getparam_%d_%s", p, names[p]);
		if (p == PARAM_BLOB_ALIGNMENT) {
			/* Linux 7.2+ only, and -ENOENT unless negotiated; older kernels: unknown -> -EINVAL. */
			result(name, ret == 0 || ret == -ENOENT || ret == -EINVAL,
			       "ret=%s value=%d", err_name(ret), values[p]);
			if (ret) {
				values[p] = 0;
			}
		} else {
			result(name, ret == 0, "ret=%s value=%d (0x%x)", err_name(ret), values[p],
			       (unsigned)values[p]);
		}
	}
	result("getparam_requirements",
	       values[PARAM_RESOURCE_BLOB] == 1 && values[PARAM_HOST_VISIBLE] == 1 &&
	               values[PARAM_CONTEXT_INIT] == 1 &&
	               (values[PARAM_SUPPORTED_CAPSET_IDS] & (1 << CAPSET_VENUS)),
	       "resource_blob=%d host_visible=%d context_init=%d capsets=0x%x (venus bit %d)",
	       values[PARAM_RESOURCE_BLOB], values[PARAM_HOST_VISIBLE], values[PARAM_CONTEXT_INIT],
	       (unsigned)values[PARAM_SUPPORTED_CAPSET_IDS], CAPSET_VENUS);
}

static uint32_t le32_at(const unsigned char *b, size_t off)
{
	return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 |
	       (uint32_t)b[off + 3] << 24;
}

static void check_get_caps(int fd)
{
	unsigned char buf[CAPS_BUF_SIZE];
	struct vp_get_caps gc = {
		.cap_set_id = CAPSET_VENUS,
		.cap_set_ver = 0,
		.addr = (uint64_t)(uintptr_t)buf,
		.size = VENUS_CAPSET_SIZE,
	};
	size_t i, tail_bad = 0;
	int ret;

	memset(buf, 0xA5, sizeof(buf));
	ret = xioctl(fd, VP_IOCTL_GET_CAPS, &gc);
	for (i = VENUS_CAPSET_SIZE; i < CAPS_BUF_SIZE; i++) {
		tail_bad += buf[i] != 0xA5;
	}
	uint32_t wire = le32_at(buf, 0), guest_vram = le32_at(buf, 156);
	result("get_caps_venus",
	       ret == 0 && tail_bad == 0 && wire != 0 && wire != 0xA5A5A5A5u && guest_vram <= 1,
	       "ret=%s tail_overwritten=%zu wire_format_version=%u vk_xml_version=0x%x "
	       "ext_cmd_serialization=%u venus_protocol=%u supports_blob_id_0=%u "
	       "allow_vk_wait_syncs=%u multiple_timelines=%u use_guest_vram=%u",
	       err_name(ret), tail_bad, wire, le32_at(buf, 4), le32_at(buf, 8), le32_at(buf, 12),
	       le32_at(buf, 16), le32_at(buf, 148), le32_at(buf, 152), guest_vram);
}

static int context_init_venus(int fd)
{
	struct vp_ctx_param params[1] = { { .param = CTX_PARAM_CAPSET_ID, .value = CAPSET_VENUS } };
	struct vp_context_init ci = {
		.num_params = 1,
		.ctx_set_params = (uint64_t)(uintptr_t)params,
	};

	return xioctl(fd, VP_IOCTL_CONTEXT_INIT, &ci);
}

/* Create, MAP, mmap, pattern, unmap, close one mappable blob: all must succeed. */
static void check_mappable_blob(int fd, const char *name, uint32_t mem, uint32_t seed)
{
	uint32_t bo = 0, res = 0;
	uint64_t off = 0;
	void *p = NULL;
	int cret, mret = -1, vret = -1, close_ret = -1;
	size_t bad = 1;

	cret = create_blob(fd, mem, BLOB_FLAG_MAPPABLE, BLOB_SIZE, &bo, &res);
	if (cret == 0) {
		mret = map_offset(fd, bo, &off);
	}
	if (mret == 0) {
		vret = mmap_blob(fd, off, BLOB_SIZE, &p);
	}
	if (vret == 0) {
		bad = pattern_check(p, BLOB_SIZE, seed);
		munmap(p, BLOB_SIZE);
	}
	if (cret == 0) {
		close_ret = gem_close(fd, bo);
	}
	result(name, cret == 0 && mret == 0 && vret == 0 && bad == 0 && close_ret == 0,
	       "create=%s bo=%u res=%u map=%s offset=0x%llx mmap=%s pattern=%s close=%s",
	       err_name(cret), bo, res, err_name(mret), (unsigned long long)off, err_name(vret),
	       bad == 0 ? "ok" : "bad", err_name(close_ret));
}

/*
 * Venus accepts HOST3D blob_id 0 only with flags == MAPPABLE. The host's refusal is asynchronous:
 * create and MAP return 0 and the failure shows as EINVAL at the first mmap.
 */
static void check_shareable_host_blob_fails_at_mmap(int fd)
{
	uint32_t bo = 0, res = 0;
	uint64_t off = 0;
	void *p = NULL;
	int cret, mret = -1, vret = -1, close_ret = -1;

	cret = create_blob(fd, BLOB_MEM_HOST3D, BLOB_FLAG_MAPPABLE | BLOB_FLAG_SHAREABLE, BLOB_SIZE,
	                   &bo, &res);
	if (cret == 0) {
		mret = map_offset(fd, bo, &off);
	}
	if (mret == 0) {
		vret = mmap_blob(fd, off, BLOB_SIZE, &p);
		if (vret == 0) {
			munmap(p, BLOB_SIZE);
		}
	}
	if (cret == 0) {
		close_ret = gem_close(fd, bo);
	}
	result("host3d_blob_shareable_mmap_einval",
	       cret == 0 && mret == 0 && vret == -EINVAL && close_ret == 0,
	       "create=%s map=%s mmap=%s (want -EINVAL: asynchronous host failure) close=%s",
	       err_name(cret), err_name(mret), err_name(vret), err_name(close_ret));
}

static void check_prime(int fd)
{
	uint32_t bo = 0, res = 0;
	int cret, ret;

	cret = create_blob(fd, BLOB_MEM_HOST3D, BLOB_FLAG_MAPPABLE, BLOB_SIZE, &bo, &res);
	result("prime_blob_create", cret == 0, "create=%s bo=%u res=%u", err_name(cret), bo, res);
	if (cret) {
		return;
	}

	struct vp_prime_handle exp = { .handle = bo, .flags = VP_PRIME_FLAGS, .fd = -1 };
	ret = xioctl(fd, VP_IOCTL_PRIME_HANDLE_TO_FD, &exp);
	result("prime_export", ret == 0 && exp.fd >= 0, "ret=%s fd=%d", err_name(ret), exp.fd);

	if (ret == 0 && exp.fd >= 0) {
		int fdflags = fcntl(exp.fd, F_GETFD);
		result("prime_export_cloexec", fdflags >= 0 && (fdflags & FD_CLOEXEC),
		       "fd_flags=0x%x", (unsigned)fdflags);

		struct vp_prime_handle imp = { .fd = exp.fd };
		ret = xioctl(fd, VP_IOCTL_PRIME_FD_TO_HANDLE, &imp);
		result("prime_self_import_same_handle", ret == 0 && imp.handle == bo,
		       "ret=%s handle=%u exported=%u", err_name(ret), imp.handle, bo);

		/* A second DRM fd sees the same host resource through the dma-buf. */
		int fd2 = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
		if (fd2 >= 0) {
			struct vp_prime_handle imp2 = { .fd = exp.fd };
			struct vp_resource_info ri2 = { 0 };
			ret = xioctl(fd2, VP_IOCTL_PRIME_FD_TO_HANDLE, &imp2);
			int iret = -1;
			if (ret == 0) {
				ri2.bo_handle = imp2.handle;
				iret = xioctl(fd2, VP_IOCTL_RESOURCE_INFO, &ri2);
				gem_close(fd2, imp2.handle);
			}
			result("prime_import_second_fd_same_resource",
			       ret == 0 && iret == 0 && ri2.res_handle == res,
			       "import=%s info=%s res=%u want=%u", err_name(ret), err_name(iret),
			       ri2.res_handle, res);
			close(fd2);
		} else {
			result("prime_import_second_fd_same_resource", 0, "open: %s",
			       strerror(errno));
		}
		close(exp.fd);
	}

	struct vp_resource_info ri = { .bo_handle = bo };
	ret = xioctl(fd, VP_IOCTL_RESOURCE_INFO, &ri);
	result("resource_info",
	       ret == 0 && ri.res_handle == res && ri.size == BLOB_SIZE &&
	               ri.blob_mem == BLOB_MEM_HOST3D,
	       "ret=%s res=%u (want %u) size=%u blob_mem=%u", err_name(ret), ri.res_handle, res,
	       ri.size, ri.blob_mem);

	ret = gem_close(fd, bo);
	result("gem_close", ret == 0, "ret=%s", err_name(ret));
	ret = gem_close(fd, bo);
	result("gem_close_twice_einval", ret == -EINVAL, "ret=%s", err_name(ret));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void measure(const char *name, double *samples, int n)
{
	if (n <= 0) {
		printf("MEASURE %s p50=nan p99=nan n=0\n", name);
		return;
	}
	qsort(samples, (size_t)n, sizeof(*samples), cmp_double);
	int i50 = (n - 1) * 50 / 100, i99 = (n - 1) * 99 / 100;
	printf("MEASURE %s p50=%.1f p99=%.1f n=%d\n", name, samples[i50], samples[i99], n);
}

/* Serialized create -> MAP -> mmap+touch -> munmap -> close cycles of HOST3D blob_id 0 blobs. */
static void timing_loop(int fd, int cycles)
{
	static double t_create[TIMING_CYCLES], t_map[TIMING_CYCLES], t_mmap[TIMING_CYCLES],
	        t_close[TIMING_CYCLES], t_cycle[TIMING_CYCLES];
	int n = 0, ret = 0;
	const char *step = "none";

	if (cycles > TIMING_CYCLES) {
		cycles = TIMING_CYCLES;
	}
	for (int i = 0; i < cycles; i++) {
		uint32_t bo, res;
		uint64_t off;
		void *p;
		double t0, t1, t2, t3, t4;

		if (i % 10 == 0) {
			/* A hang in the loop (TCG) is then located in the serial log. */
			printf("PROGRESS timing_loop cycle=%d\n", i);
		}
		t0 = now_us();
		ret = create_blob(fd, BLOB_MEM_HOST3D, BLOB_FLAG_MAPPABLE, BLOB_SIZE, &bo, &res);
		if (ret) {
			step = "create";
			break;
		}
		t1 = now_us();
		ret = map_offset(fd, bo, &off);
		t2 = now_us();
		if (ret == 0) {
			ret = mmap_blob(fd, off, BLOB_SIZE, &p);
			if (ret == 0) {
				*(volatile uint32_t *)p =
				        (uint32_t)i; /* first touch faults the host page in */
				munmap(p, BLOB_SIZE);
			} else {
				step = "mmap";
			}
		} else {
			step = "map";
		}
		t3 = now_us();
		int cret = gem_close(fd, bo);
		t4 = now_us();
		if (ret == 0 && cret) {
			ret = cret;
			step = "close";
		}
		if (ret) {
			break;
		}
		t_create[n] = t1 - t0;
		t_map[n] = t2 - t1;
		t_mmap[n] = t3 - t2;
		t_close[n] = t4 - t3;
		t_cycle[n] = t4 - t0;
		n++;
	}
	result("timing_loop_host3d_64k", n == cycles, "cycles=%d/%d failed_step=%s ret=%s", n,
	       cycles, step, err_name(ret));
	measure("create_blob", t_create, n);
	measure("map_ioctl", t_map, n);
	measure("first_mmap_touch", t_mmap, n);
	measure("gem_close", t_close, n);
	measure("full_cycle", t_cycle, n);
}

int main(int argc, char **argv)
{
	int values[10] = { 0 };
	int cycles = TIMING_CYCLES;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1) {
		cycles = atoi(argv[1]);
	}

	int fd = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
	result("open_render_node", fd >= 0, "%s",
	       fd >= 0 ? "/dev/dri/renderD128" : strerror(errno));
	if (fd < 0) {
		printf("SUMMARY failures=%d\n", failures);
		return 1;
	}

	check_getparams(fd, values);
	check_get_caps(fd);

	int ret = context_init_venus(fd);
	result("context_init_venus", ret == 0, "ret=%s", err_name(ret));
	int ret2 = context_init_venus(fd);
	result("context_init_twice_eexist", ret2 == -EEXIST, "ret=%s", err_name(ret2));
	if (ret == 0) {
		check_mappable_blob(fd, "guest_blob_mappable_64k", BLOB_MEM_GUEST, 0x6b1d0001u);
		check_mappable_blob(fd, "host3d_blob_id0_mappable_64k", BLOB_MEM_HOST3D,
		                    0x6b1d0002u);
		check_shareable_host_blob_fails_at_mmap(fd);
		check_prime(fd);
		/* The context must still work after the host refused a blob. */
		check_mappable_blob(fd, "host3d_blob_after_refusal", BLOB_MEM_HOST3D, 0x6b1d0003u);
		if (cycles > 0) {
			timing_loop(fd, cycles);
		}
	}

	close(fd);
	printf("SUMMARY failures=%d\n", failures);
	return failures ? 1 : 0;
}
