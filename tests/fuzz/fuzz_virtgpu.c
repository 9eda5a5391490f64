/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the virtgpu backend and the library above it, with the fuzzer playing the
 * kernel at the backend's system-call seam (struct vgalloc__virtgpu_sys, as
 * tests/backend/test_virtgpu.c fakes it) and the host behind the hooks. Every ioctl gets an answer
 * decoded from the input: the answer a kernel would give, an errno (EINTR and EAGAIN included,
 * which must be retried; errno 0 and values that are no errno), or garbage — GETPARAM values,
 * GET_CAPS bytes, CREATE_BLOB and PRIME handles and resource ids (0, one already open, huge),
 * RESOURCE_INFO sizes and blob_mem, MAP offsets, mmap failures, negative dma-buf fds. The DRM
 * fd is /dev/null (mmap answered with anonymous memory) or a memfd that the backend's real mmap
 * maps at MAP's offset. Render-node discovery runs on fake libdrm devices (the link wraps
 * drmGetDevices2) whose driver name the fake kernel answers (VERSION); the public backend also
 * runs once on the real system calls (/dev/null answers ENOTTY).
 *
 * The fake kernel keeps the truth of what it answered and checks what it is asked: only
 * GETPARAM and GET_CAPS before CONTEXT_INIT; only open handles are mapped, exported, waited on
 * or closed, each one closed once and after its mapping; mmap gets the offset MAP answered;
 * exports are O_CLOEXEC, O_RDWR exactly for mappable blobs; nothing is read or written past the
 * buffers the library passes (ASan). After every operation the device's live and mapped blob
 * counts equal the kernel's open handles and mappings, no dma-buf fd the kernel made is lost,
 * every public call returns 0 or an error vgalloc.h lists for it (or one the kernel or a hook
 * answered during that call, where vgalloc.h says it passes those on), and an accepted blob is
 * what the kernel answered. At the end nothing is left: no handle, mapping, dma-buf fd, host
 * allocation or bookkeeping allocation.
 *
 * Errors the library returns that vgalloc.h does not list (kernel errnos from PRIME import and
 * RESOURCE_INFO, and a few more, marked "unlisted" below) are accepted unless
 * VGALLOC_FUZZ_STRICT=1; VGALLOC_FUZZ_SURVEY=1 prints each one accepted.
 *
 * Input: a few setup bytes (how the device is made, flavour, capset, params), then operations;
 * the answers are read from the same bytes, at the moment each call is made (run.sh's seeds
 * describe the layout).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xf86drm.h>

#include "blob.h"
#include "caps.h"
#include "mem.h"
#include "state.h"

#include "../../backends/virtgpu/virtgpu.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The link replaces libdrm's device discovery with these (-Wl,--wrap, see run.sh). */
int __wrap_drmGetDevices2(uint32_t flags, drmDevicePtr devices[], int max_devices);
void __wrap_drmFreeDevices(drmDevicePtr devices[], int count);

#define MAX_OPS     96
#define MAX_HANDLES 128
#define MAX_MAPS    64
#define MAX_FDS     32
#define MAX_HOST    64
#define MAX_BLOBS   16
#define MAX_MEMS    16
#define MAX_SHMEM   8
#define MAX_ERRS    16
#define CAPSET_MAX  512
#define NTYPES      3
#define MEMFD_SIZE  (1ull << 42)

/* --- answers --------------------------------------------------------------------------------- */

enum answer {
	ANSWER_NATURAL,
	ANSWER_ERRNO,
	ANSWER_WEIRD
};

/* What a failing ioctl may leave in errno: real errnos, retries, none, and no errno at all. */
static const int kernel_errnos[32] = {
	EINTR,  EAGAIN, EINVAL,     ENOENT, ENOSPC, ENOMEM,  EIO,       EEXIST,
	EBADF,  EFAULT, EACCES,     EPERM,  EBUSY,  EMFILE,  ENFILE,    ENODEV,
	ENOTTY, E2BIG,  EOPNOTSUPP, ENXIO,  ERANGE, ENOSYS,  ETIMEDOUT, EPROTO,
	EINTR,  EAGAIN, EDEADLK,    0,      5000,   ENOBUFS, EOVERFLOW, ECANCELED,
};

static const int hook_errnos[8] = { EIO, ENOMEM, ENOSPC, EINVAL, ETIMEDOUT, EDEADLK, EPIPE, 0 };

/* The error the library derives from a failed ioctl: -errno, -EIO when there is none. */
static int lib_errno(int err)
{
	return err > 0 && err <= 4095 ? -err : -EIO;
}

/* --- the fake kernel ------------------------------------------------------------------------- */

struct kobj {
	uint32_t handle; /* 0: slot free */
	uint32_t res_id;
	uint64_t size;
	uint32_t blob_mem;
	uint32_t blob_flags;
};

struct kmap {
	void *ptr;
	size_t size;
	uint32_t handle;
};

/* A dma-buf fd: one the kernel exported, or a foreign one the consumer brings. */
struct kfd {
	int fd;
	uint32_t res_id;
	uint64_t size;
	uint32_t blob_mem;
};

struct kernel {
	struct fz *f;
	int fd;         /* the DRM fd; -1 while discovery opens render nodes */
	bool real_mmap; /* fd is a memfd that the real mmap maps at MAP's offset */
	bool context;   /* CONTEXT_INIT ran (or the consumer ran it: adopt) */
	uint32_t capset_id;
	uint32_t capset_mask;
	/* GETPARAM: the natural answers (0 and a value, or an errno). */
	int param_err[16];
	uint32_t param_val[16];
	const uint8_t *capset;
	size_t capset_len;
	struct kobj obj[MAX_HANDLES];
	struct kmap map[MAX_MAPS];
	struct kfd fds[MAX_FDS];
	uint32_t nfds;
	uint32_t next_res;
	uint32_t retries;
	uint32_t ioctls;
	/* The public call in progress: the errors answered, the dma-buf fds made. */
	int errs[MAX_ERRS];
	uint32_t nerrs;
	int hook_errs[MAX_ERRS];
	uint32_t nhook_errs;
	int issued[4];
	uint32_t nissued;
	/* The last answers, to compare with what the library then reports. */
	uint32_t last_handle, last_res, last_prime_handle, last_export_flags;
	struct vgalloc_backend_blob_info last_info;
	uint64_t last_offset;
	uint32_t last_map_handle;
	bool offset_pending;
};

static int devnull = -1;

static void note_err(struct kernel *k, int err)
{
	if (k->nerrs < MAX_ERRS) {
		k->errs[k->nerrs++] = err;
	}
}

static enum answer answer(struct kernel *k, int *err)
{
	uint8_t a = fz_u8(k->f);

	if (a < 176) {
		return ANSWER_NATURAL;
	}
	if (a < 208) {
		*err = kernel_errnos[a - 176];
		return ANSWER_ERRNO;
	}
	return ANSWER_WEIRD;
}

static struct kobj *find(struct kernel *k, uint32_t handle)
{
	for (uint32_t i = 0; handle && i < MAX_HANDLES; i++) {
		if (k->obj[i].handle == handle) {
			return &k->obj[i];
		}
	}
	return NULL;
}

static uint32_t open_handles(const struct kernel *k)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < MAX_HANDLES; i++) {
		n += k->obj[i].handle != 0;
	}
	return n;
}

static uint32_t live_maps(const struct kernel *k)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < MAX_MAPS; i++) {
		n += k->map[i].ptr != NULL;
	}
	return n;
}

/* The lowest free handle, as the kernel's idr hands them out. */
static uint32_t lowest_free(struct kernel *k)
{
	uint32_t h = 1;

	while (find(k, h)) {
		h++;
	}
	return h;
}

/*
 * A handle a broken kernel reports: 0, one already open, a huge one (refused), or any up to
 * 2^16. Not between 2^16 and 2^31: the library sizes its handle table by the largest handle it
 * was answered (blob.c, table_reserve_locked: 2 * handle pointers), so 2^28 asks the allocator
 * for 4 GiB — widen this once the table no longer trusts the number.
 */
static uint32_t weird_handle(struct kernel *k)
{
	switch (fz_pick(k->f, 6)) {
	case 0:
		return 0;
	case 1: {
		uint32_t open[MAX_HANDLES], n = 0;

		for (uint32_t i = 0; i < MAX_HANDLES; i++) {
			if (k->obj[i].handle) {
				open[n++] = k->obj[i].handle;
			}
		}
		return n ? open[fz_pick(k->f, n)] : 1;
	}
	case 2:
		return UINT32_MAX - fz_u8(k->f);
	case 3:
		return (UINT32_MAX / 2) + fz_u8(k->f);
	case 4:
		return 1 + (fz_u32(k->f) & 0xffff);
	default:
		return 1 + fz_u8(k->f);
	}
}

/*
 * The kernel answered `handle` for an object: a new GEM handle the library now owns; none for 0;
 * nothing new for a handle already open (a kernel that answers so is broken, and the handle's
 * owner stays its only closer). False when the table is full.
 */
static bool open_handle(struct kernel *k, uint32_t handle, uint32_t res_id, uint64_t size,
                        uint32_t blob_mem, uint32_t blob_flags)
{
	if (!handle || find(k, handle)) {
		return true;
	}
	for (uint32_t i = 0; i < MAX_HANDLES; i++) {
		if (!k->obj[i].handle) {
			k->obj[i] = (struct kobj){ handle, res_id, size, blob_mem, blob_flags };
			return true;
		}
	}
	return false;
}

static int fail(struct kernel *k, int err)
{
	if (err != EINTR && err != EAGAIN) {
		note_err(k, lib_errno(err));
	}
	errno = err;
	return -1;
}

static int k_getparam(struct kernel *k, struct vgalloc_uapi_getparam *gp, enum answer a)
{
	int *v = (int *)(uintptr_t)gp->value;

	FZ_CHECK(v != NULL);
	/* The backend zeroes the int first: nothing stale survives a kernel that writes less. */
	FZ_CHECK_EQ(*v, 0);
	if (a == ANSWER_WEIRD) {
		*v = (int)fz_u32(k->f);
		return 0;
	}
	if (gp->param >= 16 || k->param_err[gp->param]) {
		return fail(k, gp->param >= 16 ? EINVAL : k->param_err[gp->param]);
	}
	*v = (int)k->param_val[gp->param];
	return 0;
}

static int k_get_caps(struct kernel *k, struct vgalloc_uapi_get_caps *gc, enum answer a)
{
	unsigned char *buf = (unsigned char *)(uintptr_t)gc->addr;
	size_t n;

	FZ_CHECK(buf != NULL && gc->size > 0);
	FZ_CHECK_EQ(gc->pad, 0);
	if (a == ANSWER_WEIRD) {
		/* Any bytes, up to the size asked for (never more: the kernel copies that much). */
		uint16_t want = fz_u16(k->f);
		const uint8_t *p = fz_take(k->f, FZ_MIN(gc->size, want), &n);

		memcpy(buf, p, n);
		return 0;
	}
	if (gc->cap_set_id >= 32 || !(k->capset_mask & (1u << gc->cap_set_id))) {
		return fail(k, EINVAL);
	}
	if (gc->cap_set_id == k->capset_id) {
		memcpy(buf, k->capset, FZ_MIN(gc->size, k->capset_len));
	} else {
		/* Another capset: a version word, then fields a kernel copies as it got them. */
		memset(buf, 0, FZ_MIN(gc->size, 16u));
		buf[0] = 1;
	}
	return 0;
}

static int k_context_init(struct kernel *k, struct vgalloc_uapi_context_init *ci)
{
	const struct vgalloc_uapi_context_set_param *p =
	        (const void *)(uintptr_t)ci->ctx_set_params;

	FZ_CHECK(ci->num_params >= 1 && ci->num_params <= 4 && p != NULL);
	FZ_CHECK_EQ(ci->pad, 0);
	FZ_CHECK_EQ(p[0].param, VGALLOC_UAPI_CONTEXT_PARAM_CAPSET_ID);
	FZ_CHECK_EQ(p[0].value, k->capset_id);
	for (uint32_t i = 0; i < ci->num_params; i++) {
		if (p[i].param == VGALLOC_UAPI_CONTEXT_PARAM_DEBUG_NAME) {
			FZ_CHECK(p[i].value && strlen((const char *)(uintptr_t)p[i].value) < 256);
		}
	}
	if (k->context) {
		return fail(k, EEXIST);
	}
	k->context = true;
	return 0;
}

static int k_create_blob(struct kernel *k, struct vgalloc_uapi_resource_create_blob *cb,
                         enum answer a)
{
	const unsigned char *cmd = (const void *)(uintptr_t)cb->cmd;
	volatile unsigned char sink = 0;
	uint32_t handle, res;

	/* What the library sends: a known blob_mem (4 only downstream) and flags, a rounded size,
	 * whole words of command, and zeroed outputs. */
	FZ_CHECK(cb->blob_mem >= VGALLOC_UAPI_BLOB_MEM_GUEST &&
	         cb->blob_mem <= VGALLOC_UAPI_BLOB_MEM_GUEST_VRAM);
	FZ_CHECK(!(cb->blob_flags & ~0xfu));
	FZ_CHECK(cb->size && cb->size % 4096 == 0);
	FZ_CHECK(cb->cmd_size % 4 == 0 && (!cb->cmd_size || cmd));
	FZ_CHECK(!cb->bo_handle && !cb->res_handle && !cb->pad);
	for (uint32_t i = 0; i < cb->cmd_size; i++) {
		sink ^= cmd[i]; /* ASan: every command byte is readable */
	}
	(void)sink;
	if (a == ANSWER_WEIRD) {
		handle = weird_handle(k);
		res = fz_bool(k->f) ? 0 : fz_u32(k->f);
	} else {
		handle = lowest_free(k);
		res = k->next_res++;
	}
	if (!open_handle(k, handle, res, cb->size, cb->blob_mem, cb->blob_flags)) {
		return fail(k, ENOMEM);
	}
	cb->bo_handle = handle;
	cb->res_handle = res;
	k->last_handle = handle;
	k->last_res = res;
	return 0;
}

static int k_map(struct kernel *k, struct vgalloc_uapi_map *m, enum answer a)
{
	FZ_CHECK(find(k, m->handle) != NULL);
	FZ_CHECK_EQ(m->pad, 0);
	m->offset = a == ANSWER_WEIRD ? fz_u64(k->f) : 0x100000000ull + ((uint64_t)m->handle << 24);
	k->last_offset = m->offset;
	k->last_map_handle = m->handle;
	k->offset_pending = true;
	return 0;
}

static int k_resource_info(struct kernel *k, struct vgalloc_uapi_resource_info *ri, enum answer a)
{
	struct kobj *o = find(k, ri->bo_handle);

	if (a == ANSWER_WEIRD) {
		ri->res_handle = fz_bool(k->f) ? 0 : fz_u32(k->f);
		ri->size = fz_bool(k->f) ? fz_u32(k->f) : (uint32_t)(4096u << fz_pick(k->f, 12));
		ri->blob_mem = fz_pick(k->f, 6);
		/* A kernel describing a handle says it is open (a consumer that wrapped a handle
		 * it never had then has the library close it). */
		if (!o &&
		    !open_handle(k, ri->bo_handle, ri->res_handle, ri->size, ri->blob_mem, 0)) {
			return fail(k, ENOMEM);
		}
	} else if (!o) {
		return fail(k, ENOENT);
	} else {
		ri->res_handle = o->res_id;
		ri->size = (uint32_t)FZ_MIN(o->size, UINT32_MAX);
		ri->blob_mem = o->blob_mem;
	}
	k->last_info =
	        (struct vgalloc_backend_blob_info){ ri->res_handle, ri->size, ri->blob_mem, 0 };
	return 0;
}

static struct kfd *find_fd(struct kernel *k, int fd)
{
	for (uint32_t i = 0; i < k->nfds; i++) {
		if (k->fds[i].fd == fd) {
			return &k->fds[i];
		}
	}
	return NULL;
}

static void forget_fd(struct kernel *k, int fd)
{
	struct kfd *d = find_fd(k, fd);

	if (d) {
		*d = k->fds[--k->nfds];
	}
}

static int k_prime_to_fd(struct kernel *k, struct vgalloc_uapi_prime_handle *ph, enum answer a)
{
	struct kobj *o = find(k, ph->handle);

	FZ_CHECK(o != NULL);
	/* Exports are O_CLOEXEC, plus O_RDWR (for mappable blobs: checked by the caller). */
	FZ_CHECK((ph->flags & ~VGALLOC_BACKEND_EXPORT_RDWR) == VGALLOC_BACKEND_EXPORT_CLOEXEC);
	k->last_export_flags = ph->flags;
	if (a == ANSWER_WEIRD) {
		ph->fd = -1 - (int)fz_u8(k->f);
		return 0;
	}
	if (k->nfds == MAX_FDS || k->nissued == FZ_ARRAY_SIZE(k->issued)) {
		return fail(k, EMFILE);
	}
	ph->fd = fcntl(devnull, F_DUPFD_CLOEXEC, 0);
	FZ_CHECK(ph->fd >= 0);
	k->fds[k->nfds++] = (struct kfd){ ph->fd, o->res_id, o->size, o->blob_mem };
	k->issued[k->nissued++] = ph->fd;
	return 0;
}

static int k_prime_to_handle(struct kernel *k, struct vgalloc_uapi_prime_handle *ph, enum answer a)
{
	struct kfd *d = find_fd(k, ph->fd);
	uint32_t handle = 0;

	if (a == ANSWER_WEIRD) {
		handle = weird_handle(k);
	} else if (!d) {
		return fail(k, EBADF);
	} else {
		/* The same buffer gives the handle already open for it. */
		for (uint32_t i = 0; i < MAX_HANDLES; i++) {
			if (k->obj[i].handle && k->obj[i].res_id == d->res_id) {
				handle = k->obj[i].handle;
			}
		}
		if (!handle) {
			handle = lowest_free(k);
		}
	}
	if (!open_handle(k, handle, d ? d->res_id : k->next_res++, d ? d->size : 65536,
	                 d ? d->blob_mem : VGALLOC_UAPI_BLOB_MEM_HOST3D,
	                 VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE)) {
		return fail(k, ENOMEM);
	}
	ph->handle = handle;
	k->last_prime_handle = handle;
	return 0;
}

/* Discovery's driver-name check, on a node it opened: virtio_gpu (twice as likely), another
 * driver, no name, or a failure. */
static int k_version(struct kernel *k, int fd, struct vgalloc__virtgpu_drm_version *v)
{
	static const char *const names[] = { "virtio_gpu", "virtio_gpu", "i915", "" };
	const char *name;
	size_t len;

	FZ_CHECK(k->fd < 0 && fcntl(fd, F_GETFD) >= 0);
	if (fz_u8(k->f) >= 240) {
		errno = ENOTTY;
		return -1;
	}
	name = names[fz_pick(k->f, FZ_ARRAY_SIZE(names))];
	len = strlen(name);
	/* As the kernel: at most name_len bytes, no NUL, and the full length back. */
	FZ_CHECK(v->name || !v->name_len);
	memcpy(v->name, name, len < v->name_len ? len : v->name_len);
	v->name_len = len;
	return 0;
}

static struct kobj *k_gem_close_check(struct kernel *k, struct vgalloc_uapi_gem_close *gc)
{
	struct kobj *o = find(k, gc->handle);

	/* Only the owner closes a handle, once: anything else pulls it from another user. */
	if (!o) {
		fz_fail(__FILE__, __LINE__, "GEM close of handle %u, which is not open",
		        gc->handle);
	}
	FZ_CHECK_EQ(gc->pad, 0);
	/* Teardown order: the mapping goes before the handle. */
	for (uint32_t i = 0; i < MAX_MAPS; i++) {
		FZ_CHECK(!k->map[i].ptr || k->map[i].handle != gc->handle);
	}
	return o;
}

static int fake_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct kernel *k = ctx;
	struct kobj *closing = NULL;
	enum answer a;
	int err = 0;

	FZ_CHECK(k->fd < 0 || fd == k->fd);
	FZ_CHECK(arg != NULL);
	k->ioctls++;
	if (request == VGALLOC__VIRTGPU_IOCTL_VERSION) {
		return k_version(k, fd, arg);
	}
	/* Before the context exists only GETPARAM and GET_CAPS may run (and discovery's VERSION),
	 * or the kernel makes an implicit one and CONTEXT_INIT fails. */
	if (request != VGALLOC_UAPI_IOCTL_GETPARAM && request != VGALLOC_UAPI_IOCTL_GET_CAPS &&
	    request != VGALLOC_UAPI_IOCTL_CONTEXT_INIT) {
		FZ_CHECK(k->context);
	}
	/* What the caller may ask comes first. */
	if (request == VGALLOC_UAPI_IOCTL_GEM_CLOSE) {
		closing = k_gem_close_check(k, arg);
	} else if (request == VGALLOC_UAPI_IOCTL_WAIT) {
		FZ_CHECK(find(k, ((struct vgalloc_uapi_wait *)arg)->handle) != NULL);
		FZ_CHECK(!(((struct vgalloc_uapi_wait *)arg)->flags & ~VGALLOC_UAPI_WAIT_NOWAIT));
	}
	a = answer(k, &err);
	fz_trace("  ioctl 0x%02lx: %s %d", (request & 0xff),
	         a == ANSWER_NATURAL ? "natural"
	         : a == ANSWER_ERRNO ? "errno"
	                             : "weird",
	         err);
	if (a == ANSWER_ERRNO) {
		/* EINTR and EAGAIN are retried: a few in a row, then the call goes through. */
		if ((err == EINTR || err == EAGAIN) && ++k->retries > 3) {
			a = ANSWER_NATURAL;
		} else {
			/* Interrupted, nothing happened; any other answer: the handle is gone
			 * (the library cannot do more about it than count it). */
			if (closing && err != EINTR && err != EAGAIN) {
				memset(closing, 0, sizeof(*closing));
			}
			if (err != EINTR && err != EAGAIN) {
				k->retries = 0;
			}
			return fail(k, err);
		}
	}
	k->retries = 0;
	if (closing) {
		memset(closing, 0, sizeof(*closing));
	}
	switch (request) {
	case VGALLOC_UAPI_IOCTL_GETPARAM:
		return k_getparam(k, arg, a);
	case VGALLOC_UAPI_IOCTL_GET_CAPS:
		return k_get_caps(k, arg, a);
	case VGALLOC_UAPI_IOCTL_CONTEXT_INIT:
		return k_context_init(k, arg);
	case VGALLOC_UAPI_IOCTL_RESOURCE_CREATE_BLOB:
		return k_create_blob(k, arg, a);
	case VGALLOC_UAPI_IOCTL_MAP:
		return k_map(k, arg, a);
	case VGALLOC_UAPI_IOCTL_RESOURCE_INFO:
		return k_resource_info(k, arg, a);
	case VGALLOC_UAPI_IOCTL_PRIME_HANDLE_TO_FD:
		return k_prime_to_fd(k, arg, a);
	case VGALLOC_UAPI_IOCTL_PRIME_FD_TO_HANDLE:
		return k_prime_to_handle(k, arg, a);
	case VGALLOC_UAPI_IOCTL_WAIT:
	case VGALLOC_UAPI_IOCTL_GEM_CLOSE:
		return 0;
	default:
		fz_fail(__FILE__, __LINE__, "unknown ioctl 0x%lx", request);
	}
}

static void *fake_mmap(void *ctx, size_t size, int fd, uint64_t offset)
{
	struct kernel *k = ctx;
	enum answer a;
	void *p;
	int err = 0;

	FZ_CHECK_EQ(fd, k->fd);
	/* Right after MAP, at the offset it answered. The size is the blob's (a RESOURCE_INFO
	 * answer for an import: any size a kernel says). */
	FZ_CHECK(k->offset_pending && offset == k->last_offset);
	FZ_CHECK(size > 0);
	k->offset_pending = false;
	a = answer(k, &err);
	if (a != ANSWER_NATURAL) {
		/* The host's refusal shows here (EINVAL); or a failure without an errno. */
		if (a == ANSWER_WEIRD) {
			err = fz_bool(k->f) ? 0 : EINVAL;
		}
		note_err(k, lib_errno(err));
		errno = err;
		return MAP_FAILED;
	}
	/* The backend's own mmap of a memfd standing in for the DRM fd (an offset that names
	 * nothing is EINVAL, as in the kernel's offset lookup), or anonymous memory. */
	if (k->real_mmap && (offset >= MEMFD_SIZE || size > MEMFD_SIZE - offset)) {
		note_err(k, -EINVAL);
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (k->real_mmap) {
		p = vgalloc__virtgpu_real_sys.mmap(NULL, size, fd, offset);
	} else {
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (p == MAP_FAILED) {
		err = errno;
		note_err(k, lib_errno(err));
		errno = err;
		return MAP_FAILED;
	}
	for (uint32_t i = 0; i < MAX_MAPS; i++) {
		if (!k->map[i].ptr) {
			k->map[i] = (struct kmap){ p, size, k->last_map_handle };
			return p;
		}
	}
	munmap(p, size);
	note_err(k, -ENOMEM);
	errno = ENOMEM;
	return MAP_FAILED;
}

static int fake_munmap(void *ctx, void *ptr, size_t size)
{
	struct kernel *k = ctx;

	for (uint32_t i = 0; i < MAX_MAPS; i++) {
		if (k->map[i].ptr == ptr) {
			/* The whole mapping, as it was made. */
			FZ_CHECK_EQ(k->map[i].size, size);
			FZ_CHECK_EQ(k->real_mmap ? vgalloc__virtgpu_real_sys.munmap(NULL, ptr, size)
			                         : munmap(ptr, size),
			            0);
			k->map[i].ptr = NULL;
			/* A failure the library can only count. */
			if (fz_u8(k->f) >= 248) {
				errno = EINVAL;
				return -1;
			}
			return 0;
		}
	}
	fz_fail(__FILE__, __LINE__, "munmap of %p (%zu bytes), which is not mapped", ptr, size);
}

static const struct vgalloc__virtgpu_sys fake_sys_template = {
	.ioctl = fake_ioctl,
	.mmap = fake_mmap,
	.munmap = fake_munmap,
};

/* --- fake libdrm discovery ------------------------------------------------------------------- */

#define MAX_DEVS 3

static struct {
	struct fz *f;
	int count; /* < 0: drmGetDevices2 fails */
	drmDevice dev[MAX_DEVS];
	drmPciDeviceInfo pci[MAX_DEVS];
	char *nodes[MAX_DEVS][DRM_NODE_MAX];
	bool listed; /* drmGetDevices2 results not yet freed */
} drm;

static char node_null[] = "/dev/null";
static char node_missing[] = "/nonexistent/renderD128";

int __wrap_drmGetDevices2(uint32_t flags, drmDevicePtr devices[], int max_devices)
{
	(void)flags;
	if (drm.count < 0) {
		return -ENODEV;
	}
	FZ_CHECK(devices && max_devices >= drm.count);
	for (int i = 0; i < drm.count; i++) {
		devices[i] = &drm.dev[i];
	}
	drm.listed = true;
	return drm.count;
}

void __wrap_drmFreeDevices(drmDevicePtr devices[], int count)
{
	FZ_CHECK(drm.listed && count == drm.count);
	for (int i = 0; i < count; i++) {
		FZ_CHECK(devices[i] == &drm.dev[i]);
	}
	drm.listed = false;
}

/* Up to MAX_DEVS devices: virtio-gpu or not, PCI or platform, with a render node that opens
 * (/dev/null: the fake kernel answers its ioctls) or not. */
static void drm_setup(struct fz *f)
{
	memset(&drm, 0, sizeof(drm));
	drm.f = f;
	drm.count = (int)fz_pick(f, MAX_DEVS + 2) - 1;
	for (int i = 0; i < drm.count; i++) {
		uint8_t b = fz_u8(f);

		drm.nodes[i][DRM_NODE_RENDER] = b & 1 ? node_missing : node_null;
		drm.dev[i].nodes = drm.nodes[i];
		drm.dev[i].available_nodes = b & 2 ? 0 : 1 << DRM_NODE_RENDER;
		drm.dev[i].bustype = b & 4 ? DRM_BUS_PLATFORM : DRM_BUS_PCI;
		drm.pci[i].vendor_id = b & 8 ? 0x8086 : 0x1af4;
		drm.pci[i].device_id = b & 16 ? 0x1010 : 0x1050;
		drm.dev[i].deviceinfo.pci = &drm.pci[i];
	}
}

/* --- the fake host behind the hooks ---------------------------------------------------------- */

/* A host allocation the fake host made and the library has not freed yet. */
struct host_alloc {
	uint64_t handle;
	uint64_t token;
	bool pending; /* answered VGALLOC_HOST_RESULT_PENDING: token may be waited on */
};

struct host {
	struct fz *f;
	struct kernel *k;
	struct host_alloc live[MAX_HOST];
	uint32_t nlive;
	bool in_order; /* the hooks table declares VGALLOC_HOOKS_IN_ORDER */
	uint64_t next_handle, next_token, next_blob_id, next_host_blob_id;
};

/* What a result without VGALLOC_HOST_RESULT_PENDING carries in its token: a value the host
 * never issues, which the library must ignore. */
#define UNISSUED_TOKEN (UINT64_MAX - 1)
/* The ids of a host that names its allocations itself (VGALLOC_HOST_RESULT_BLOB_ID). */
#define HOST_BLOB_ID_BASE (1ull << 40)

static int hook_answer(struct host *h)
{
	uint8_t a = fz_u8(h->f);
	int err;

	if (a < 224) {
		return 0;
	}
	err = hook_errnos[a % FZ_ARRAY_SIZE(hook_errnos)];
	/* A hook returning something that is no -errno is an I/O error to the library. */
	if (h->k->nhook_errs < MAX_ERRS) {
		h->k->hook_errs[h->k->nhook_errs++] = err ? -err : -EIO;
	}
	return err ? -err : 1;
}

static uint64_t hook_new_blob_id(void *ctx)
{
	return ++((struct host *)ctx)->next_blob_id;
}

/* The args of host_alloc and host_import as the contract has them. */
static void check_args(const struct vgalloc_host_alloc_args *args, void *user_data)
{
	FZ_CHECK(args);
	FZ_CHECK_EQ(args->struct_size, sizeof(*args));
	FZ_CHECK(args->flags == VGALLOC_HOST_ARGS_BLOCK ||
	         args->flags == VGALLOC_HOST_ARGS_DEDICATED);
	FZ_CHECK(args->size != 0 && args->requested_size != 0);
	FZ_CHECK(args->requested_size <= args->size);
	/* A block is the library's own: the block's sizes, and no request's user_data. */
	FZ_CHECK(args->flags != VGALLOC_HOST_ARGS_BLOCK ||
	         (args->requested_size == args->size && !user_data));
}

/*
 * A host allocation and the answer about it: its work pending (tokens from 0, as a Venus ring's
 * seqnos) or done (a token the library must ignore); from host_alloc, now and then an id the host
 * chose; rarely an answer the contract forbids, which the library must refuse with -EIO after
 * freeing the allocation.
 */
static int host_new(struct host *h, bool alloc, struct vgalloc_host_result *out)
{
	int ret = hook_answer(h);
	struct host_alloc *ha;
	uint8_t a;

	/* The library hands the result over zeroed, with its size. */
	FZ_CHECK(out);
	FZ_CHECK_EQ(out->struct_size, sizeof(*out));
	FZ_CHECK(!out->flags && !out->host_handle && !out->token && !out->blob_id);
	if (ret) {
		return ret;
	}
	FZ_CHECK(h->nlive < MAX_HOST);
	a = fz_u8(h->f);
	ha = &h->live[h->nlive++];
	ha->handle = out->host_handle = ++h->next_handle;
	ha->pending = a & 1;
	ha->token = ha->pending ? h->next_token++ : UNISSUED_TOKEN;
	out->token = ha->token;
	out->flags = ha->pending ? VGALLOC_HOST_RESULT_PENDING : 0;
	if (alloc && (a & 6) == 6) {
		out->flags |= VGALLOC_HOST_RESULT_BLOB_ID;
		out->blob_id = HOST_BLOB_ID_BASE + h->next_host_blob_id++;
	}
	if (a >= 248) {
		switch (a & 3) {
		case 0:
			out->flags |= 1u << 31; /* a flag the enum does not name */
			break;
		case 1:
			out->flags |= VGALLOC_HOST_RESULT_BLOB_ID; /* with id 0 */
			out->blob_id = 0;
			break;
		default:
			/* BLOB_ID from host_import; from host_alloc an unknown flag. */
			out->flags |= alloc ? 1u << 2 : VGALLOC_HOST_RESULT_BLOB_ID;
			out->blob_id = HOST_BLOB_ID_BASE + h->next_host_blob_id++;
			break;
		}
		if (h->k->nhook_errs < MAX_ERRS) {
			h->k->hook_errs[h->k->nhook_errs++] = -EIO;
		}
	}
	return 0;
}

static int hook_host_alloc(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                           struct vgalloc_host_result *out)
{
	check_args(args, user_data);
	FZ_CHECK(args->res_id == 0 && args->size % 4096 == 0 && args->blob_id);
	return host_new(ctx, true, out);
}

/* Whether the library may wait on token: one a live allocation's result marked pending. */
static bool waitable(const struct host *h, uint64_t token)
{
	for (uint32_t i = 0; i < h->nlive; i++) {
		if (h->live[i].pending && h->live[i].token == token) {
			return true;
		}
	}
	return false;
}

static int hook_host_wait(void *ctx, uint64_t token, uint32_t flags, void *cmd,
                          uint32_t *inout_cmd_size)
{
	struct host *h = ctx;
	int ret = hook_answer(h);

	/* Only pending tokens are waited on (token 0 is one like any other). */
	FZ_CHECK(waitable(h, token));
	FZ_CHECK(!cmd == !inout_cmd_size);
	/* Before CREATE_BLOB (a buffer offered) ordering suffices; at release only an in-order
	 * host may be told so, any other must block. */
	FZ_CHECK_EQ(flags, (cmd || h->in_order) ? VGALLOC_WAIT_ORDER : 0u);
	if (ret || !cmd) {
		return ret;
	}
	FZ_CHECK(*inout_cmd_size >= 8 && *inout_cmd_size <= VGALLOC_MAX_WAIT_CMD_SIZE);
	switch (fz_pick(h->f, 4)) {
	case 0:
		*inout_cmd_size = 0; /* waited itself */
		break;
	case 1:
		memset(cmd, 0x5a, 8);
		*inout_cmd_size = 8;
		break;
	case 2:
		/* A hook that says it wrote more than it was given, or part of a word. */
		*inout_cmd_size = fz_bool(h->f) ? VGALLOC_MAX_WAIT_CMD_SIZE + 4 : 6;
		break;
	default:
		memset(cmd, 0xa5, *inout_cmd_size);
		break;
	}
	return 0;
}

static int hook_host_roundtrip(void *ctx)
{
	return hook_answer(ctx);
}

static int hook_host_import(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                            struct vgalloc_host_result *out)
{
	check_args(args, user_data);
	FZ_CHECK(args->res_id != 0);
	return host_new(ctx, false, out);
}

static void hook_host_free(void *ctx, void *user_data, uint64_t host_handle)
{
	struct host *h = ctx;

	(void)user_data;
	for (uint32_t i = 0; i < h->nlive; i++) {
		if (h->live[i].handle == host_handle) {
			h->live[i] = h->live[--h->nlive];
			return;
		}
	}
	fz_fail(__FILE__, __LINE__, "host_free of %llu, which is not live",
	        (unsigned long long)host_handle);
}

/* --- the bookkeeping allocator --------------------------------------------------------------- */

struct counting_allocator {
	struct vgalloc_allocator a;
	uint32_t fail_in;
	bool fired;
	uint64_t live;
};

static void *counting_alloc(void *user, size_t size, size_t alignment, uint32_t scope)
{
	struct counting_allocator *c = user;
	void *p = NULL;

	(void)scope;
	if (c->fail_in && !--c->fail_in) {
		c->fired = true;
		return NULL;
	}
	/* Nothing the kernel answers may size the library's tables beyond reason. */
	FZ_CHECK(size <= (64u << 20));
	if (posix_memalign(&p, FZ_MAX(alignment, sizeof(void *)), size)) {
		return NULL;
	}
	c->live++;
	return p;
}

static void counting_free(void *user, void *ptr)
{
	struct counting_allocator *c = user;

	if (ptr) {
		c->live--;
	}
	free(ptr);
}

static void log_line(void *user, enum vgalloc_log_level level, const char *msg)
{
	(void)user;
	FZ_CHECK(level >= VGALLOC_LOG_ERROR && level <= VGALLOC_LOG_DEBUG);
	FZ_CHECK(msg && msg[0] && !strchr(msg, '\n'));
}

/* --- the consumer ---------------------------------------------------------------------------- */

struct ublob {
	struct vgalloc_blob *blob;
	uint32_t refs; /* the consumer's references (imports of one buffer share a blob) */
	uint32_t maps;
	uint32_t flags;
	uint64_t size;
};

struct umem {
	struct vgalloc_mem *mem;
	uint64_t size;
	uint32_t maps;
	bool visible;
};

struct ctx {
	struct fz *f;
	struct kernel k;
	struct host h;
	struct counting_allocator alloc;
	struct vgalloc_backend *vg;
	struct vgalloc_device *dev;
	uint8_t capset[CAPSET_MAX];
	uint64_t align;
	uint32_t blob_mem; /* what every import must be: HOST3D, or GUEST_VRAM */
	struct ublob blobs[MAX_BLOBS];
	uint32_t nblobs;
	struct umem mems[MAX_MEMS];
	uint32_t nmems;
	struct vgalloc_blob *shm[MAX_SHMEM];
	uint32_t nshm;
	int fds[MAX_FDS]; /* dma-buf fds the consumer holds */
	uint32_t nfds;
};

/*
 * Where an error may come from besides the list vgalloc.h gives for the function: the kernel or
 * a hook, where vgalloc.h says the function passes those on. UNLISTED marks functions that pass
 * kernel errors on although vgalloc.h lists none for them: accepted (and counted) unless
 * VGALLOC_FUZZ_STRICT=1, which makes each one a failure.
 */
enum {
	FROM_KERNEL = 1,
	FROM_HOOKS = 2,
	FROM_KERNEL_UNLISTED = 4
};

#define DOC(...) ((const int[]){ __VA_ARGS__, 0 })

static void begin(struct ctx *c)
{
	c->k.nerrs = 0;
	c->k.nhook_errs = 0;
	c->k.nissued = 0;
	c->k.last_handle = c->k.last_res = c->k.last_prime_handle = c->k.last_export_flags = 0;
	memset(&c->k.last_info, 0, sizeof(c->k.last_info));
}

/* 0, an error vgalloc.h lists for the call, or one the kernel or a hook answered during it. */
static bool env_is(const char *name)
{
	const char *v = getenv(name);

	return v && !strcmp(v, "1");
}

/*
 * 0, an error vgalloc.h lists for the call, or one the kernel or a hook answered during it where
 * vgalloc.h says the call passes those on. `unlisted` (and FROM_KERNEL_UNLISTED for kernel
 * errors) are what the library returns although vgalloc.h does not list it: accepted unless
 * VGALLOC_FUZZ_STRICT=1; VGALLOC_FUZZ_SURVEY=1 prints each one.
 */
static void expect(const struct ctx *c, const char *what, int ret, const int *doc, unsigned from,
                   const int *unlisted)
{
	static int strict = -1, survey = -1;
	bool found = false;

	if (strict < 0) {
		strict = env_is("VGALLOC_FUZZ_STRICT");
		survey = env_is("VGALLOC_FUZZ_SURVEY");
	}
	if (!ret) {
		return;
	}
	for (const int *d = doc; *d; d++) {
		if (ret == -*d) {
			return;
		}
	}
	for (uint32_t i = 0; (from & FROM_KERNEL) && i < c->k.nerrs; i++) {
		if (ret == c->k.errs[i]) {
			return;
		}
	}
	for (uint32_t i = 0; (from & FROM_HOOKS) && i < c->k.nhook_errs; i++) {
		if (ret == c->k.hook_errs[i]) {
			return;
		}
	}
	for (uint32_t i = 0; (from & FROM_KERNEL_UNLISTED) && i < c->k.nerrs; i++) {
		found |= ret == c->k.errs[i];
	}
	for (const int *d = unlisted; d && *d; d++) {
		found |= ret == -*d;
	}
	if (found && !strict) {
		if (survey) {
			fprintf(stderr, "unlisted: %s %d\n", what, ret);
		}
		return;
	}
	fz_fail(__FILE__, __LINE__, "%s: %d is no error vgalloc.h lists for it", what, ret);
}

static void add_fd(struct ctx *c, int fd)
{
	if (c->nfds == MAX_FDS) {
		forget_fd(&c->k, fd);
		close(fd);
		return;
	}
	c->fds[c->nfds++] = fd;
}

static void close_fd(struct ctx *c, uint32_t i)
{
	forget_fd(&c->k, c->fds[i]);
	FZ_CHECK_EQ(close(c->fds[i]), 0);
	c->fds[i] = c->fds[--c->nfds];
}

static bool held_fd(const struct ctx *c, int fd)
{
	for (uint32_t i = 0; i < c->nfds; i++) {
		if (c->fds[i] == fd) {
			return true;
		}
	}
	return false;
}

/* After each call: the device holds exactly the handles and mappings the kernel has open, and
 * a dma-buf fd the kernel made is the consumer's, or closed. */
static void check_kernel(struct ctx *c)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	FZ_CHECK_EQ(vgalloc_device_get_stats(c->dev, &st), 0);
	FZ_CHECK_EQ(st.blobs_live, open_handles(&c->k));
	FZ_CHECK_EQ(st.blobs_mapped, live_maps(&c->k));
	FZ_CHECK(!c->k.offset_pending);
	for (uint32_t i = 0; i < c->k.nissued; i++) {
		int fd = c->k.issued[i];

		if (held_fd(c, fd)) {
			continue;
		}
		if (fcntl(fd, F_GETFD) >= 0) {
			fz_fail(__FILE__, __LINE__, "dma-buf fd %d from the kernel was lost", fd);
		}
		forget_fd(&c->k, fd);
	}
	c->k.nissued = 0;
}

static struct ublob *find_blob(struct ctx *c, const struct vgalloc_blob *b)
{
	for (uint32_t i = 0; i < c->nblobs; i++) {
		if (c->blobs[i].blob == b) {
			return &c->blobs[i];
		}
	}
	return NULL;
}

static void blob_info(struct ctx *c, const struct vgalloc_blob *b, struct vgalloc_blob_info *info)
{
	memset(info, 0, sizeof(*info));
	info->struct_size = sizeof(*info);
	FZ_CHECK_EQ(vgalloc_blob_get_info(c->dev, b, info), 0);
	/* Its handle is one the kernel has open; its id is no zero the kernel may have sent. */
	FZ_CHECK(find(&c->k, info->gem_handle) != NULL);
	FZ_CHECK(info->res_id != 0 && info->size != 0);
}

/* A new reference the consumer holds: a new blob, one more on a blob it holds, or one on a blob
 * an allocation holds (an import of its exported dma-buf). */
static void add_blob(struct ctx *c, struct vgalloc_blob *b)
{
	struct vgalloc_blob_info info;
	struct ublob *u = find_blob(c, b);

	blob_info(c, b, &info);
	if (u) {
		u->refs++;
		return;
	}
	FZ_CHECK(c->nblobs < MAX_BLOBS);
	/* Map references others hold (an allocation's) are not the consumer's to drop. */
	c->blobs[c->nblobs++] = (struct ublob){ b, 1, 0, info.blob_flags, info.size };
}

static uint64_t pick_size(struct fz *f)
{
	switch (fz_pick(f, 8)) {
	case 0:
		return 1 + fz_u16(f);
	case 1:
	case 2:
		return 4096ull << fz_pick(f, 9);
	case 3:
		return 4096ull << fz_pick(f, 18);
	case 4:
		return fz_u32(f);
	case 5:
		return UINT64_MAX - fz_u16(f);
	case 6:
		return 0;
	default:
		return 65536;
	}
}

static uint32_t pick_blob_flags(struct fz *f)
{
	static const uint32_t common[] = {
		VGALLOC_BLOB_FLAG_MAPPABLE,
		VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE,
		VGALLOC_BLOB_FLAG_SHAREABLE,
		VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE |
		        VGALLOC_BLOB_FLAG_CROSS_DEVICE,
	};
	uint8_t b = fz_u8(f);

	return b < 192 ? common[b % FZ_ARRAY_SIZE(common)] : b & 0x1f;
}

static void op_blob_create(struct ctx *c)
{
	uint32_t cmd[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct vgalloc_blob_create_info ci = { .struct_size = sizeof(ci) };
	struct vgalloc_blob_info info;
	struct vgalloc_blob *b = NULL;
	int ret;

	if (c->nblobs == MAX_BLOBS) {
		return;
	}
	ci.blob_mem = 1 + fz_pick(c->f, 4);
	ci.blob_flags = pick_blob_flags(c->f);
	ci.size = pick_size(c->f);
	ci.blob_id = fz_bool(c->f) ? 0 : 1 + fz_u8(c->f);
	if (fz_u8(c->f) >= 200) {
		ci.cmd = cmd;
		ci.cmd_size = fz_pick(c->f, 9) * 4 + (fz_u8(c->f) >= 250 ? 2 : 0);
	}
	begin(c);
	ret = vgalloc_blob_create(c->dev, &ci, &b);
	fz_trace("blob_create mem %u flags 0x%x size %llu id %llu cmd %u: %d", ci.blob_mem,
	         ci.blob_flags, (unsigned long long)ci.size, (unsigned long long)ci.blob_id,
	         ci.cmd_size, ret);
	expect(c, "vgalloc_blob_create", ret, DOC(EINVAL, E2BIG, EOPNOTSUPP, ENOSPC, ENOMEM, EIO),
	       FROM_KERNEL, NULL);
	if (ret) {
		return;
	}
	/* The blob is the kernel's answer, as it was given. */
	blob_info(c, b, &info);
	FZ_CHECK_EQ(info.gem_handle, c->k.last_handle);
	FZ_CHECK_EQ(info.res_id, c->k.last_res);
	FZ_CHECK_EQ(info.size, fz_round_up(ci.size, c->align));
	FZ_CHECK_EQ(info.blob_mem, ci.blob_mem);
	FZ_CHECK_EQ(info.blob_flags, ci.blob_flags);
	FZ_CHECK_EQ(info.origin, VGALLOC_BLOB_CREATED);
	FZ_CHECK_EQ(info.refcount, 1);
	FZ_CHECK(find_blob(c, b) == NULL);
	add_blob(c, b);
}

static void op_blob_map(struct ctx *c)
{
	struct ublob *u;
	unsigned char *p = NULL;
	int ret;

	if (!c->nblobs) {
		return;
	}
	u = &c->blobs[fz_pick(c->f, c->nblobs)];
	begin(c);
	ret = vgalloc_blob_map(c->dev, u->blob, (void **)&p);
	fz_trace("blob_map: %d", ret);
	if (!(u->flags & VGALLOC_BLOB_FLAG_MAPPABLE)) {
		FZ_CHECK_EQ(ret, -EINVAL);
		return;
	}
	expect(c, "vgalloc_blob_map", ret, DOC(EINVAL, ENOMEM), FROM_KERNEL, NULL);
	if (ret) {
		return;
	}
	/* The whole blob is mapped: its first and last byte are there. */
	FZ_CHECK(p != NULL);
	p[0] = 1;
	p[u->size - 1] = 2;
	u->maps++;
}

static void op_blob_unmap(struct ctx *c)
{
	struct vgalloc_blob_info info;
	struct ublob *u;

	if (!c->nblobs) {
		return;
	}
	u = &c->blobs[fz_pick(c->f, c->nblobs)];
	begin(c);
	if (u->maps) {
		FZ_CHECK_EQ(vgalloc_blob_unmap(c->dev, u->blob), 0);
		u->maps--;
		return;
	}
	blob_info(c, u->blob, &info);
	/* The library counts map references, not whose they are: only an unmapped blob can say
	 * that the consumer has none to drop. */
	if (!info.map_count) {
		FZ_CHECK_EQ(vgalloc_blob_unmap(c->dev, u->blob), -EINVAL);
	}
}

static void op_blob_destroy(struct ctx *c)
{
	uint32_t i;

	if (!c->nblobs) {
		return;
	}
	i = fz_pick(c->f, c->nblobs);
	begin(c);
	FZ_CHECK_EQ(vgalloc_blob_destroy(c->dev, c->blobs[i].blob), 0);
	if (!--c->blobs[i].refs) {
		c->blobs[i] = c->blobs[--c->nblobs];
	}
}

static void op_blob_export(struct ctx *c)
{
	struct vgalloc_blob_info info;
	struct ublob *u;
	int fd = -1;
	int ret;

	if (!c->nblobs) {
		return;
	}
	u = &c->blobs[fz_pick(c->f, c->nblobs)];
	blob_info(c, u->blob, &info);
	begin(c);
	ret = vgalloc_blob_export_dmabuf(c->dev, u->blob, &fd);
	/* O_RDWR exactly for the blobs the library holds as mappable. */
	if (c->k.last_export_flags) {
		FZ_CHECK_EQ(!!(c->k.last_export_flags & VGALLOC_BACKEND_EXPORT_RDWR),
		            !!(info.blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE));
	}
	fz_trace("blob_export: %d", ret);
	if (!(u->flags & VGALLOC_BLOB_FLAG_SHAREABLE)) {
		FZ_CHECK_EQ(ret, -EINVAL);
		return;
	}
	expect(c, "vgalloc_blob_export_dmabuf", ret, DOC(EINVAL, EMFILE, ENFILE, ENOMEM, EIO),
	       FROM_KERNEL, NULL);
	if (ret) {
		FZ_CHECK_EQ(fd, -1);
		return;
	}
	/* The fd the kernel made, and only a real one. */
	FZ_CHECK(c->k.nissued == 1 && fd == c->k.issued[0]);
	add_fd(c, fd);
}

/* An fd to import: one the consumer holds, a foreign dma-buf, or no dma-buf at all. */
static int import_fd(struct ctx *c)
{
	static const uint32_t mems[] = { VGALLOC_UAPI_BLOB_MEM_HOST3D, VGALLOC_UAPI_BLOB_MEM_GUEST,
		                         VGALLOC_UAPI_BLOB_MEM_GUEST_VRAM, 0 };
	int fd;

	switch (fz_pick(c->f, 5)) {
	case 0:
	case 1:
		if (c->nfds) {
			return c->fds[fz_pick(c->f, c->nfds)];
		}
		/* fallthrough */
	case 2:
		if (c->nfds == MAX_FDS || c->k.nfds == MAX_FDS) {
			return -1;
		}
		fd = fcntl(devnull, F_DUPFD_CLOEXEC, 0);
		FZ_CHECK(fd >= 0);
		c->k.fds[c->k.nfds++] = (struct kfd){
			fd,
			c->k.next_res++,
			4096ull << fz_pick(c->f, 10),
			fz_bool(c->f) ? c->blob_mem : mems[fz_pick(c->f, FZ_ARRAY_SIZE(mems))],
		};
		c->fds[c->nfds++] = fd;
		return fd;
	case 3:
		return devnull; /* open, but no dma-buf */
	default:
		return -1 - fz_u8(c->f);
	}
}

static void op_blob_import(struct ctx *c)
{
	struct vgalloc_blob_import_info ii = { .struct_size = sizeof(ii) };
	struct vgalloc_blob_info info;
	struct vgalloc_blob *b = NULL;
	struct ublob *had;
	int fd, ret;

	if (c->nblobs == MAX_BLOBS) {
		return;
	}
	fd = import_fd(c);
	ii.blob_flags = pick_blob_flags(c->f) & 0x7;
	ii.size = fz_bool(c->f) ? 0 : 4096ull << fz_pick(c->f, 10);
	begin(c);
	ret = vgalloc_blob_import_dmabuf(c->dev, fd, &ii, &b);
	fz_trace("blob_import fd %d flags 0x%x size %llu: %d", fd, ii.blob_flags,
	         (unsigned long long)ii.size, ret);
	/* Unlisted: PRIME import's and RESOURCE_INFO's errnos pass through (not -EBADF). */
	expect(c, "vgalloc_blob_import_dmabuf", ret, DOC(EINVAL, E2BIG, ENOMEM, EIO),
	       FROM_KERNEL_UNLISTED, NULL);
	if (ret) {
		return;
	}
	had = find_blob(c, b);
	blob_info(c, b, &info);
	FZ_CHECK(info.size >= ii.size);
	FZ_CHECK_EQ(info.blob_mem, c->blob_mem);
	if (!had && info.origin == VGALLOC_BLOB_IMPORTED && info.refcount == 1) {
		/* A new blob: the handle PRIME answered and what RESOURCE_INFO said of it. */
		FZ_CHECK_EQ(info.gem_handle, c->k.last_prime_handle);
		FZ_CHECK_EQ(info.res_id, c->k.last_info.res_id);
		FZ_CHECK_EQ(info.size, c->k.last_info.size);
	}
	add_blob(c, b);
}

static void op_blob_query(struct ctx *c)
{
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	int fd = import_fd(c);
	int ret;

	begin(c);
	ret = vgalloc_blob_query_dmabuf(c->dev, fd, &info);
	fz_trace("blob_query fd %d: %d", fd, ret);
	/* Unlisted: as for the import. */
	expect(c, "vgalloc_blob_query_dmabuf", ret, DOC(EINVAL, EIO), FROM_KERNEL_UNLISTED, NULL);
	if (!ret) {
		FZ_CHECK(info.res_id != 0 && info.size != 0);
	}
}

/* The consumer's own BO, handed over: the library closes it from now on; on failure it stays
 * the consumer's. */
static void op_blob_wrap(struct ctx *c)
{
	struct vgalloc_blob *b = NULL;
	uint32_t handle = 0, flags;
	int ret;

	if (c->nblobs == MAX_BLOBS) {
		return;
	}
	flags = pick_blob_flags(c->f) & 0x7;
	switch (fz_pick(c->f, 4)) {
	case 0:
		handle = 0;
		break;
	case 1:
		handle = lowest_free(&c->k) + 1 + fz_u8(c->f); /* not open */
		if (find(&c->k, handle)) {
			return;
		}
		break;
	default:
		handle = lowest_free(&c->k);
		FZ_CHECK(open_handle(&c->k, handle, c->k.next_res++, 4096ull << fz_pick(c->f, 8),
		                     fz_bool(c->f) ? c->blob_mem : VGALLOC_UAPI_BLOB_MEM_GUEST,
		                     flags));
		break;
	}
	begin(c);
	ret = vgalloc_blob_wrap_handle(c->dev, handle, flags, &b);
	fz_trace("blob_wrap %u: %d", handle, ret);
	/* Unlisted: RESOURCE_INFO's errnos pass through (not -ENOENT). */
	expect(c, "vgalloc_blob_wrap_handle", ret, DOC(EINVAL, E2BIG, ENOMEM, EIO),
	       FROM_KERNEL_UNLISTED, NULL);
	if (ret) {
		struct kobj *o = find(&c->k, handle);

		/* Still the consumer's, and open: it closes it itself. */
		if (o) {
			memset(o, 0, sizeof(*o));
		}
		return;
	}
	FZ_CHECK(find(&c->k, handle) != NULL);
	add_blob(c, b);
}

static void op_shmem(struct ctx *c)
{
	struct vgalloc_blob *b = NULL;
	void *p = NULL;
	int ret;

	if (c->nshm && (c->nshm == MAX_SHMEM || fz_bool(c->f))) {
		uint32_t i = fz_pick(c->f, c->nshm);

		begin(c);
		FZ_CHECK_EQ(vgalloc_shmem_destroy(c->dev, c->shm[i]), 0);
		c->shm[i] = c->shm[--c->nshm];
		return;
	}
	begin(c);
	ret = vgalloc_shmem_create(c->dev, 4096ull << fz_pick(c->f, 6), &b, &p);
	fz_trace("shmem_create: %d", ret);
	expect(c, "vgalloc_shmem_create", ret, DOC(EINVAL, EOPNOTSUPP, ENOSPC, ENOMEM, EIO),
	       FROM_KERNEL, NULL);
	if (!ret) {
		FZ_CHECK(p != NULL);
		c->shm[c->nshm++] = b;
	}
}

static void op_mem_alloc(struct ctx *c)
{
	static const uint32_t flag_sets[] = {
		0,
		VGALLOC_REQUEST_DEDICATED_REQUIRED,
		VGALLOC_REQUEST_DEDICATED_IMAGE,
		VGALLOC_REQUEST_IMPORT_FD,
		VGALLOC_REQUEST_WSI,
		VGALLOC_REQUEST_BLOB_ID,
	};
	struct vgalloc_request r = { .struct_size = sizeof(r) };
	struct vgalloc_mem *mem = NULL;
	int ret;

	if (c->nmems == MAX_MEMS) {
		return;
	}
	r.memory_type = fz_pick(c->f, NTYPES + 1);
	r.size = fz_pick(c->f, 4) ? 4096ull << fz_pick(c->f, 12) : pick_size(c->f);
	r.flags = flag_sets[fz_pick(c->f, FZ_ARRAY_SIZE(flag_sets))];
	r.export_handle_types = fz_pick(c->f, 3) ? 0 : VGALLOC_HANDLE_TYPE_DMA_BUF;
	r.blob_id = 1000 + fz_u8(c->f);
	if (r.flags & VGALLOC_REQUEST_IMPORT_FD) {
		r.import_fd = import_fd(c);
	}
	begin(c);
	ret = vgalloc_mem_alloc(c->dev, &r, &mem);
	fz_trace("mem_alloc type %u size %llu flags 0x%x export 0x%x: %d", r.memory_type,
	         (unsigned long long)r.size, r.flags, r.export_handle_types, ret);
	/* Unlisted: an import's PRIME and RESOURCE_INFO errnos pass through. */
	expect(c, "vgalloc_mem_alloc", ret, DOC(EINVAL, E2BIG, ENOSPC, ENOMEM, EOPNOTSUPP, EIO),
	       FROM_HOOKS | FROM_KERNEL_UNLISTED, NULL);
	if (ret) {
		return;
	}
	c->mems[c->nmems++] = (struct umem){ mem, r.size, 0, r.memory_type != 2 };
}

static void op_mem_map(struct ctx *c)
{
	struct umem *u;
	unsigned char *p = NULL;
	int ret;

	if (!c->nmems) {
		return;
	}
	u = &c->mems[fz_pick(c->f, c->nmems)];
	begin(c);
	ret = vgalloc_mem_map(c->dev, u->mem, (void **)&p);
	fz_trace("mem_map: %d", ret);
	if (!u->visible) {
		FZ_CHECK_EQ(ret, -EINVAL);
		return;
	}
	/* Unlisted: on a kernel without a host-visible window (or 3D) a host-visible allocation
	 * is made host-first lazy and its first map is -EOPNOTSUPP. */
	expect(c, "vgalloc_mem_map", ret, DOC(EINVAL, ENOSPC, ENOMEM, EIO),
	       FROM_KERNEL | FROM_HOOKS, DOC(EOPNOTSUPP));
	if (ret) {
		return;
	}
	FZ_CHECK(p != NULL);
	p[0] = 1;
	p[u->size - 1] = 2;
	u->maps++;
}

static void op_mem_unmap_free(struct ctx *c)
{
	uint32_t i;

	if (!c->nmems) {
		return;
	}
	i = fz_pick(c->f, c->nmems);
	begin(c);
	if (fz_bool(c->f)) {
		FZ_CHECK_EQ(vgalloc_mem_unmap(c->dev, c->mems[i].mem),
		            c->mems[i].maps ? 0 : -EINVAL);
		if (c->mems[i].maps) {
			c->mems[i].maps--;
		}
		return;
	}
	FZ_CHECK_EQ(vgalloc_mem_free(c->dev, c->mems[i].mem), 0);
	c->mems[i] = c->mems[--c->nmems];
}

static void op_mem_export(struct ctx *c)
{
	struct umem *u;
	int fd = -1;
	int ret;

	if (!c->nmems) {
		return;
	}
	u = &c->mems[fz_pick(c->f, c->nmems)];
	begin(c);
	ret = vgalloc_mem_export(
	        c->dev, u->mem,
	        fz_bool(c->f) ? VGALLOC_HANDLE_TYPE_DMA_BUF : VGALLOC_HANDLE_TYPE_OPAQUE_FD, &fd);
	fz_trace("mem_export: %d", ret);
	/* Unlisted: -EIO when PRIME answers a negative fd (vgalloc_blob_export_dmabuf's rule). */
	expect(c, "vgalloc_mem_export", ret, DOC(EINVAL), FROM_KERNEL, DOC(EIO));
	if (!ret) {
		FZ_CHECK(c->k.nissued == 1 && fd == c->k.issued[0]);
		add_fd(c, fd);
	}
}

/* The backend's ops as a caller may use them beyond what the library asks today: a CONTEXT_INIT
 * with more params than the UAPI takes. */
static void op_backend(struct ctx *c)
{
	const struct vgalloc_backend_ops *ops = c->vg->ops;
	struct vgalloc_context_param_value params[5] = { { 1, c->k.capset_id } };
	uint32_t ioctls = c->k.ioctls;

	begin(c);
	FZ_CHECK_EQ(ops->context_init(c->vg, params, 5), -EINVAL);
	FZ_CHECK_EQ(c->k.ioctls, ioctls);
}

static void op_misc(struct ctx *c)
{
	struct vgalloc_capset_info ci = { .struct_size = sizeof(ci) };
	uint32_t ioctls = c->k.ioctls;
	char json[256];
	uint64_t v = 0;
	int ret;

	begin(c);
	switch (fz_pick(c->f, 6)) {
	case 0:
		/* Answered from what the device read at create: no kernel call. */
		ret = vgalloc_device_get_param(c->dev, fz_pick(c->f, 17), &v);
		FZ_CHECK(ret == 0 || ret == -ENOENT || ret == -EINVAL);
		FZ_CHECK_EQ(c->k.ioctls, ioctls);
		break;
	case 1:
		ret = vgalloc_device_read_capset(c->dev, fz_pick(c->f, 11), &ci);
		fz_trace("read_capset: %d", ret);
		expect(c, "vgalloc_device_read_capset", ret, DOC(EINVAL, EOPNOTSUPP, EIO, ENOMEM),
		       FROM_KERNEL, NULL);
		break;
	case 2:
		FZ_CHECK(vgalloc_device_trim(c->dev) >= 0);
		break;
	case 3:
		FZ_CHECK_EQ(vgalloc_device_get_fd(c->dev), c->k.fd);
		break;
	case 4:
		op_backend(c);
		break;
	default:
		FZ_CHECK(vgalloc_device_stats_json(c->dev, json, sizeof(json)) > 0);
		FZ_CHECK(strlen(json) < sizeof(json));
		break;
	}
}

/* --- the device ------------------------------------------------------------------------------ */

/* The context's capset as the host sends it: a valid Venus one, or bytes from the input. */
static void setup_capset(struct ctx *c, uint32_t id)
{
	uint8_t b = fz_u8(c->f);
	size_t n;

	memset(c->capset, 0, sizeof(c->capset));
	if (b >= 128 || id != VGALLOC_CAPSET_VENUS) {
		uint16_t want = fz_u16(c->f);
		const uint8_t *p = fz_take(c->f, FZ_MIN(want, (uint16_t)CAPSET_MAX), &n);

		memcpy(c->capset, p, n);
		c->k.capset_len = n;
	} else {
		uint32_t words[VGALLOC_UAPI_VENUS_CAPSET_SIZE / 4] = { 0 };

		words[VGALLOC_UAPI_VENUS_WIRE_FORMAT_VERSION / 4] = 1;
		words[VGALLOC_UAPI_VENUS_VK_XML_VERSION / 4] = (1u << 22) | (3u << 12);
		words[VGALLOC_UAPI_VENUS_SUPPORTS_BLOB_ID_0 / 4] = !(b & 1);
		words[VGALLOC_UAPI_VENUS_ALLOW_VK_WAIT_SYNCS / 4] = 1;
		words[VGALLOC_UAPI_VENUS_SUPPORTS_MULTIPLE_TIMELINES / 4] = 1;
		words[VGALLOC_UAPI_VENUS_USE_GUEST_VRAM / 4] = (b >> 1) & 1;
		/* Older hosts send fewer fields: GET_CAPS then leaves the rest zero. */
		c->k.capset_len = b & 4 ? 148 : sizeof(words);
		memcpy(c->capset, words, sizeof(words));
	}
	c->k.capset = c->capset;
}

/* What GETPARAM answers: every required feature, a few choices, sometimes one missing. */
static void setup_params(struct ctx *c)
{
	struct kernel *k = &c->k;
	uint8_t b = fz_u8(c->f);

	for (uint32_t p = 0; p < 16; p++) {
		k->param_err[p] = EINVAL;
	}
	for (uint32_t p = VGALLOC_PARAM_3D_FEATURES; p <= VGALLOC_PARAM_CONTEXT_INIT; p++) {
		k->param_err[p] = 0;
		k->param_val[p] = 1;
	}
	k->param_val[VGALLOC_PARAM_CROSS_DEVICE] = b & 1;
	k->param_err[VGALLOC_PARAM_SUPPORTED_CAPSET_IDS] = 0;
	k->param_val[VGALLOC_PARAM_SUPPORTED_CAPSET_IDS] = k->capset_mask;
	k->param_err[8] = 0;
	k->param_val[8] = (b >> 1) & 1;
	switch ((b >> 2) % 6) {
	case 0:
		k->param_err[9] = ENOENT;
		break;
	case 1:
		k->param_err[9] = 0;
		k->param_val[9] = 4096;
		break;
	case 2:
		k->param_err[9] = 0;
		k->param_val[9] = 65536;
		break;
	case 3:
		k->param_err[9] = 0;
		k->param_val[9] = 1; /* a downstream kernel's guest vram */
		break;
	default:
		break;
	}
	if ((b >> 5) & 1) {
		k->param_err[10] = 0;
		k->param_val[10] = (b >> 6) & 1;
	}
	/* Now and then a kernel without one of the features the device needs. */
	if (fz_u8(c->f) >= 240) {
		uint32_t p = 1 + fz_pick(c->f, VGALLOC_PARAM_SUPPORTED_CAPSET_IDS);

		k->param_val[p] = 0;
		if (fz_bool(c->f)) {
			k->param_err[p] = EINVAL;
		}
	}
}

static void setup_types(struct vgalloc_memory_type types[NTYPES])
{
	for (uint32_t i = 0; i < NTYPES; i++) {
		types[i] = (struct vgalloc_memory_type){
			.struct_size = sizeof(types[i]),
			.host_index = i,
			.property_flags = VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
			                  VGALLOC_MEMORY_PROPERTY_HOST_COHERENT,
		};
	}
	types[1].property_flags |= VGALLOC_MEMORY_PROPERTY_HOST_CACHED;
	types[1].flags = VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES;
	types[2].property_flags = VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL; /* host-only */
}

/* The public virtgpu backend on this machine's /dev/null: the real system calls, whose ioctls
 * answer ENOTTY, through render-node discovery on the fake devices (own) or an fd (adopt). */
static void run_real(struct ctx *c, bool own)
{
	struct vgalloc_device_create_info ci = { .struct_size = sizeof(ci) };
	struct vgalloc_device *dev = NULL;
	int ret;

	ci.backend = VGALLOC_BACKEND_VIRTGPU;
	ci.capset_id = VGALLOC_CAPSET_VENUS;
	ci.allocator = &c->alloc.a;
	if (own) {
		drm_setup(c->f);
		ci.mode = VGALLOC_DEVICE_MODE_OWN;
	} else {
		ci.mode = VGALLOC_DEVICE_MODE_ADOPT;
		ci.flags = VGALLOC_DEVICE_CONTEXT_READY;
		ci.fd = fz_bool(c->f) ? devnull : -1;
	}
	ret = vgalloc_device_create(&ci, &dev);
	fz_trace("virtgpu backend on /dev/null, %s: %d", own ? "own" : "adopt", ret);
	/* No virtio-gpu render node answers; an fd that is no DRM fd says so (ENOTTY), and
	 * stays open. */
	FZ_CHECK_EQ(ret, own ? -EOPNOTSUPP : ci.fd < 0 ? -EINVAL : -ENOTTY);
	FZ_CHECK(dev == NULL);
	FZ_CHECK(fcntl(devnull, F_GETFD) >= 0);
	FZ_CHECK(!drm.listed);
}

static void run(struct fz *f)
{
	static struct ctx c;
	static const uint32_t ids[] = {
		VGALLOC_CAPSET_VENUS,
		VGALLOC_CAPSET_VENUS,
		VGALLOC_CAPSET_VENUS,
		VGALLOC_CAPSET_VENUS,
		VGALLOC_CAPSET_GFXSTREAM_VULKAN,
		VGALLOC_CAPSET_VIRGL,
		VGALLOC_CAPSET_CROSS_DOMAIN,
		VGALLOC_CAPSET_DRM,
	};
	struct vgalloc__virtgpu_sys sys = fake_sys_template;
	struct vgalloc_device_create_info ci = { .struct_size = sizeof(ci) };
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_memory_type types[NTYPES];
	struct vgalloc_host_hooks hooks = {
		.struct_size = sizeof(hooks),
		.new_blob_id = hook_new_blob_id,
		.host_alloc = hook_host_alloc,
		.host_wait = hook_host_wait,
		.host_roundtrip = hook_host_roundtrip,
		.host_import = hook_host_import,
		.host_free = hook_host_free,
	};
	uint32_t mode;
	int own_fd = -1, ret;
	bool fail_backend;
	uint8_t b, b2;

	memset(&c, 0, sizeof(c));
	c.f = f;
	c.k.f = f;
	c.k.next_res = 1;
	c.h.f = f;
	c.h.k = &c.k;
	c.alloc.a = (struct vgalloc_allocator){ &c.alloc, counting_alloc, counting_free };
	hooks.ctx = &c.h;
	sys.ctx = &c.k;
	/* Discovery lists the fake libdrm devices (the link wraps drmGetDevices2) and opens their
	 * nodes for real. */
	sys.render_nodes = vgalloc__virtgpu_real_sys.render_nodes;
	sys.open = vgalloc__virtgpu_real_sys.open;
	sys.close = vgalloc__virtgpu_real_sys.close;
	memset(&drm, 0, sizeof(drm));
	drm.f = f;

	/* Mode, and (248 and up) no memory for the backend object. */
	b = fz_u8(f);
	mode = b % 8;
	fail_backend = b >= 248;
	if (mode >= 6) {
		run_real(&c, mode == 7);
		FZ_CHECK_EQ(c.alloc.live, 0);
		return;
	}
	b = fz_u8(f);
	c.k.capset_id = ids[b % FZ_ARRAY_SIZE(ids)];
	c.k.capset_mask = (1u << c.k.capset_id) | (1u << VGALLOC_CAPSET_VIRGL) |
	                  (1u << VGALLOC_CAPSET_VIRGL2);
	if ((b >> 3) == 31) {
		c.k.capset_mask &= ~(1u << c.k.capset_id); /* the host does not offer it */
	}
	setup_capset(&c, c.k.capset_id);
	setup_params(&c);
	setup_types(types);

	if (mode == 5) {
		/* Own mode's render-node discovery, on fake devices answered by the fake kernel. */
		drm_setup(f);
		c.k.fd = -1;
		c.alloc.fail_in = fail_backend;
		ret = vgalloc__virtgpu_create(-1, c.k.capset_id, &c.alloc.a, VGALLOC_SCOPE_DEVICE,
		                              &sys, &c.vg);
		fz_trace("discovery: %d", ret);
		FZ_CHECK(!drm.listed);
		if (ret) {
			FZ_CHECK(ret == -ENODEV || (ret == -ENOMEM && fail_backend));
			FZ_CHECK_EQ(c.alloc.live, 0);
			return;
		}
		own_fd = c.vg->ops->get_fd(c.vg);
		FZ_CHECK(own_fd >= 0);
	} else {
		/* The DRM fd: /dev/null, or (device byte bit 7) a sparse memfd that the backend's
		 * real mmap maps at the offsets MAP answers. */
		b = fz_u8(f);
		c.k.real_mmap = b & 0x80;
		c.k.fd = c.k.real_mmap ? memfd_create("fuzz_virtgpu", MFD_CLOEXEC)
		                       : fcntl(devnull, F_DUPFD_CLOEXEC, 0);
		FZ_CHECK(c.k.fd >= 0);
		FZ_CHECK(!c.k.real_mmap || !ftruncate(c.k.fd, (off_t)MEMFD_SIZE));
		c.alloc.fail_in = fail_backend;
		ret = vgalloc__virtgpu_create(c.k.fd, c.k.capset_id, &c.alloc.a,
		                              VGALLOC_SCOPE_DEVICE, &sys, &c.vg);
		if (ret) {
			FZ_CHECK(ret == -ENOMEM && fail_backend);
			FZ_CHECK_EQ(close(c.k.fd), 0);
			return;
		}
	}
	c.alloc.fail_in = 0;
	c.k.fd = c.vg->ops->get_fd(c.vg);

	if (mode == 5) {
		b = fz_u8(f);
	}
	ci.backend = VGALLOC_BACKEND_CUSTOM;
	ci.backend_object = c.vg;
	ci.capset_id = c.k.capset_id;
	ci.memory_types = types;
	ci.memory_type_count = NTYPES;
	ci.hooks = &hooks;
	ci.allocator = &c.alloc.a;
	ci.log_fn = log_line;
	ci.log_level = VGALLOC_LOG_DEBUG;
	/* The flavour byte's top bit: the host runs its queue in order (Venus's ring). */
	b2 = fz_u8(f);
	ci.flavour = b2 % 3;
	c.h.in_order = b2 & 0x80;
	hooks.flags = c.h.in_order ? VGALLOC_HOOKS_IN_ORDER : 0;
	ci.host_page_size = b & 1 ? 16384 : 0;
	ci.num_rings = (b >> 1) & 1 ? 2 : 0;
	ci.debug_name = (b >> 2) & 1 ? "fuzz_virtgpu" : NULL;
	ci.flags = ((b >> 3) & 1 ? VGALLOC_DEVICE_NO_SUBALLOC : 0) |
	           (((b >> 4) & 3) == 3 ? VGALLOC_DEVICE_GUEST_VRAM : 0);
	if (mode >= 3 && mode <= 4) {
		/* Adopt: the consumer ran CONTEXT_INIT and passes what it read already. */
		ci.mode = VGALLOC_DEVICE_MODE_ADOPT;
		ci.flags |= VGALLOC_DEVICE_CONTEXT_READY;
		c.k.context = true;
		for (uint32_t p = 1; p <= VGALLOC_PARAM_BLOB_ALIGNMENT; p++) {
			if (fz_u8(f) >= 192) {
				ci.params_present |= 1u << p;
				ci.params[p] = c.k.param_err[p] ? fz_u8(f) : c.k.param_val[p];
			}
		}
		if (fz_bool(f) && c.k.capset_len) {
			ci.capset_data = c.capset;
			ci.capset_size = (uint32_t)c.k.capset_len;
		}
	} else {
		ci.mode = VGALLOC_DEVICE_MODE_OWN;
		ci.flags |= (b >> 6) & 1 ? VGALLOC_DEVICE_SELF_TEST : 0;
	}
	begin(&c);
	ret = vgalloc_device_create(&ci, &c.dev);
	fz_trace("device_create mode %u capset %u flags 0x%x: %d", mode, ci.capset_id, ci.flags,
	         ret);
	expect(&c, "vgalloc_device_create", ret,
	       DOC(EINVAL, E2BIG, EOPNOTSUPP, ENOMEM, EEXIST, EIO), FROM_KERNEL, NULL);
	if (!ret) {
		FZ_CHECK_EQ(vgalloc_device_get_info(c.dev, &di), 0);
		c.align = di.blob_alignment;
		c.blob_mem = di.guest_vram ? VGALLOC_UAPI_BLOB_MEM_GUEST_VRAM
		                           : VGALLOC_UAPI_BLOB_MEM_HOST3D;
		FZ_CHECK(fz_is_pow2(c.align) && c.align >= 4096);
		check_kernel(&c);
		for (uint32_t op = 0; op < MAX_OPS && !fz_empty(f); op++) {
			/* Now and then one bookkeeping allocation fails. */
			c.alloc.fail_in = fz_u8(f) >= 240 ? 1 + fz_pick(f, 4) : 0;
			switch (fz_pick(f, 20)) {
			case 0:
			case 1:
				op_blob_create(&c);
				break;
			case 2:
				op_blob_map(&c);
				break;
			case 3:
				op_blob_unmap(&c);
				break;
			case 4:
				op_blob_destroy(&c);
				break;
			case 5:
				op_blob_export(&c);
				break;
			case 6:
			case 7:
				op_blob_import(&c);
				break;
			case 8:
				op_blob_query(&c);
				break;
			case 9:
				op_blob_wrap(&c);
				break;
			case 10:
				op_shmem(&c);
				break;
			case 11:
			case 12:
				op_mem_alloc(&c);
				break;
			case 13:
				op_mem_map(&c);
				break;
			case 14:
				op_mem_unmap_free(&c);
				break;
			case 15:
				op_mem_export(&c);
				break;
			case 16:
				if (c.nfds) {
					close_fd(&c, fz_pick(f, c.nfds));
				}
				break;
			default:
				op_misc(&c);
				break;
			}
			c.alloc.fail_in = 0;
			check_kernel(&c);
		}
		/* Give everything back, or leave it to device destroy (which logs each leak). */
		if (fz_bool(f)) {
			while (c.nblobs) {
				FZ_CHECK_EQ(vgalloc_blob_destroy(c.dev, c.blobs[0].blob), 0);
				if (!--c.blobs[0].refs) {
					c.blobs[0] = c.blobs[--c.nblobs];
				}
			}
			while (c.nmems) {
				FZ_CHECK_EQ(vgalloc_mem_free(c.dev, c.mems[--c.nmems].mem), 0);
			}
			while (c.nshm) {
				FZ_CHECK_EQ(vgalloc_shmem_destroy(c.dev, c.shm[--c.nshm]), 0);
			}
			check_kernel(&c);
		}
		vgalloc_device_destroy(c.dev);
	}
	/* A custom backend is the consumer's: the device never destroys it. */
	c.vg->ops->destroy(c.vg);
	if (own_fd >= 0) {
		/* The render node discovery opened is the backend's, closed with it. */
		FZ_CHECK(fcntl(own_fd, F_GETFD) < 0);
	} else {
		FZ_CHECK_EQ(close(c.k.fd), 0);
	}
	while (c.nfds) {
		close_fd(&c, 0);
	}
	/* Nothing is left: no handle, mapping, host allocation or bookkeeping allocation. */
	FZ_CHECK_EQ(open_handles(&c.k), 0);
	FZ_CHECK_EQ(live_maps(&c.k), 0);
	FZ_CHECK_EQ(c.h.nlive, 0);
	FZ_CHECK_EQ(c.alloc.live, 0);
	FZ_CHECK_EQ(c.k.nfds, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);

	if (devnull < 0) {
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		FZ_CHECK(devnull >= 0);
	}
	run(&f);
	return 0;
}
