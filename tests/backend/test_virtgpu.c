/* SPDX-License-Identifier: MIT */
/*
 * The virtgpu backend against a fake kernel at its system-call seam: the exact bytes of every
 * ioctl, the errno mapping, EINTR/EAGAIN retries, whole-blob mmap, and a device running on it
 * (adopt mode) with its exact ioctl sequence; own mode's render-node discovery on fake nodes
 * (which node is picked, what each one is asked, which fds are closed); plus own mode on a
 * machine without virtio-gpu.
 * Covers: every virtgpu backend op, vgalloc__virtgpu_create (own and adopt),
 * vgalloc_device_create (VIRTGPU own/adopt).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "../backends/virtgpu/virtgpu.h"
#include "../harness.h"
#include "core.h"
#include "vgalloc_uapi.h"

#define MAX_CALLS 64
#define MAX_NODES 4

struct fake_call {
	int fd;
	unsigned long request;
	unsigned char arg[64];
	size_t arg_size;
};

/* A render node discovery may find: its fd is FAKE_FD0 + its index. */
#define FAKE_FD0 100
struct fake_node {
	const char *path;
	int open_errno;     /* open fails with it */
	const char *driver; /* VERSION's name; NULL: VERSION fails (ENOTTY) */
	uint32_t capsets;   /* SUPPORTED_CAPSET_IDS */
};

struct fake_kernel {
	struct fake_call calls[MAX_CALLS];
	int count;
	/* Discovery: the nodes render_nodes lists (or its error), and what open and close saw. */
	struct fake_node nodes[MAX_NODES];
	int node_count;
	int render_nodes_ret; /* < 0: render_nodes fails with it */
	int render_nodes_calls;
	int opened[MAX_NODES * 2];
	int open_count;
	int closed[MAX_NODES * 2];
	int close_count;
	int fail_errno[MAX_CALLS]; /* per call index: -1 with this errno */
	uint32_t next_handle;
	uint64_t map_offset;
	int mmap_errno;
	size_t last_mmap_size;
	uint64_t last_mmap_offset;
	unsigned char page[65536];
	uint32_t param_value;
	int stale_int; /* what GETPARAM found behind the value pointer before writing */
};

/* The node behind a discovery fd, which open returned and close has not taken back. */
static const struct fake_node *node_of(const struct fake_kernel *k, int fd)
{
	int open_now = 0;

	assert_in_range(fd, FAKE_FD0, FAKE_FD0 + k->node_count - 1);
	for (int i = 0; i < k->open_count; i++) {
		open_now += k->opened[i] == fd;
	}
	for (int i = 0; i < k->close_count; i++) {
		open_now -= k->closed[i] == fd;
	}
	assert_int_equal(open_now, 1);
	return &k->nodes[fd - FAKE_FD0];
}

static int fake_ioctl(void *ctx, int fd, unsigned long request, void *arg)
{
	struct fake_kernel *k = ctx;
	struct fake_call *c;
	int idx = k->count;

	assert_true(k->count < MAX_CALLS);
	c = &k->calls[k->count++];
	c->fd = fd;
	c->request = request;
	c->arg_size = _IOC_SIZE(request);
	assert_true(c->arg_size <= sizeof(c->arg));
	memcpy(c->arg, arg, c->arg_size);
	if (k->fail_errno[idx]) {
		errno = k->fail_errno[idx];
		return -1;
	}
	switch (request) {
	case VGALLOC__VIRTGPU_IOCTL_VERSION: {
		struct vgalloc__virtgpu_drm_version *v = arg;
		const struct fake_node *n = node_of(k, fd);
		size_t len;

		if (!n->driver) {
			errno = ENOTTY;
			return -1;
		}
		/* As the kernel's drm_copy_field: at most name_len bytes, no NUL, the full length
		 * back. */
		len = strlen(n->driver);
		if (v->name) {
			memcpy(v->name, n->driver, len < v->name_len ? len : v->name_len);
		}
		v->name_len = len;
		return 0;
	}
	case VGALLOC_UAPI_IOCTL_GETPARAM: {
		struct vgalloc_uapi_getparam *gp = arg;
		int *v = (int *)(uintptr_t)gp->value;

		k->stale_int = *v;
		if (gp->param > 9) {
			errno = EINVAL;
			return -1;
		}
		if (gp->param == 9) {
			errno = ENOENT;
			return -1;
		}
		*v = gp->param == VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS ? 0x16
		     : gp->param == VGALLOC_UAPI_PARAM_CROSS_DEVICE       ? 0
		                                                          : 1;
		if (k->param_value) {
			*v = (int)k->param_value;
		}
		if (gp->param == VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS && fd >= FAKE_FD0) {
			*v = (int)node_of(k, fd)->capsets;
		}
		return 0;
	}
	case VGALLOC_UAPI_IOCTL_GET_CAPS: {
		struct vgalloc_uapi_get_caps *gc = arg;
		unsigned char *buf = (unsigned char *)(uintptr_t)gc->addr;

		if (gc->size >= 4) {
			buf[0] = 1; /* wire_format_version */
		}
		if (gc->size >= 20) {
			buf[16] = 1; /* supports_blob_id_0 */
		}
		return 0;
	}
	case VGALLOC_UAPI_IOCTL_RESOURCE_CREATE_BLOB: {
		struct vgalloc_uapi_resource_create_blob *cb = arg;

		cb->bo_handle = ++k->next_handle;
		cb->res_handle = 100 + k->next_handle;
		return 0;
	}
	case VGALLOC_UAPI_IOCTL_MAP: {
		struct vgalloc_uapi_map *m = arg;

		m->offset = k->map_offset;
		return 0;
	}
	case VGALLOC_UAPI_IOCTL_RESOURCE_INFO: {
		struct vgalloc_uapi_resource_info *ri = arg;

		ri->res_handle = 100 + ri->bo_handle;
		ri->size = 65536;
		ri->blob_mem = VGALLOC_UAPI_BLOB_MEM_HOST3D;
		return 0;
	}
	case VGALLOC_UAPI_IOCTL_PRIME_HANDLE_TO_FD: {
		struct vgalloc_uapi_prime_handle *ph = arg;

		ph->fd = dup(0);
		return 0;
	}
	case VGALLOC_UAPI_IOCTL_PRIME_FD_TO_HANDLE: {
		struct vgalloc_uapi_prime_handle *ph = arg;

		ph->handle = 7;
		return 0;
	}
	default:
		return 0;
	}
}

static void *fake_mmap(void *ctx, size_t size, int fd, uint64_t offset)
{
	struct fake_kernel *k = ctx;

	(void)fd;
	k->last_mmap_size = size;
	k->last_mmap_offset = offset;
	if (k->mmap_errno) {
		errno = k->mmap_errno;
		return MAP_FAILED;
	}
	return k->page;
}

static int fake_munmap(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	(void)ptr;
	(void)size;
	return 0;
}

static int fake_render_nodes(void *ctx, char (*paths)[VGALLOC__VIRTGPU_PATH_MAX], int max)
{
	struct fake_kernel *k = ctx;

	k->render_nodes_calls++;
	if (k->render_nodes_ret < 0) {
		return k->render_nodes_ret;
	}
	assert_true(max >= k->node_count);
	for (int i = 0; i < k->node_count; i++) {
		assert_true(strlen(k->nodes[i].path) < VGALLOC__VIRTGPU_PATH_MAX);
		strcpy(paths[i], k->nodes[i].path);
	}
	return k->node_count;
}

static int fake_open(void *ctx, const char *path)
{
	struct fake_kernel *k = ctx;

	for (int i = 0; i < k->node_count; i++) {
		if (!strcmp(path, k->nodes[i].path)) {
			if (k->nodes[i].open_errno) {
				errno = k->nodes[i].open_errno;
				return -1;
			}
			assert_true(k->open_count < MAX_NODES * 2);
			k->opened[k->open_count++] = FAKE_FD0 + i;
			return FAKE_FD0 + i;
		}
	}
	fail_msg("open of %s, which render_nodes did not list", path);
	return -1;
}

static int fake_close(void *ctx, int fd)
{
	struct fake_kernel *k = ctx;

	(void)node_of(k, fd); /* open, and not closed yet */
	assert_true(k->close_count < MAX_NODES * 2);
	k->closed[k->close_count++] = fd;
	return 0;
}

static const struct vgalloc__virtgpu_sys fake_sys = {
	.ioctl = fake_ioctl,
	.mmap = fake_mmap,
	.munmap = fake_munmap,
	.render_nodes = fake_render_nodes,
	.open = fake_open,
	.close = fake_close,
};

static struct vgalloc_backend *fake_backend(struct fake_kernel *k, struct vgalloc_allocator *a)
{
	struct vgalloc__virtgpu_sys sys = fake_sys;
	struct vgalloc_backend *vg = NULL;

	sys.ctx = k;
	vgalloc__allocator_default(a);
	memset(k, 0, sizeof(*k));
	k->map_offset = 0x100000000ull;
	assert_int_equal(vgalloc__virtgpu_create(42, VGALLOC_CAPSET_VENUS, a, VGALLOC_SCOPE_DEVICE,
	                                         &sys, &vg),
	                 0);
	return vg;
}

static void virtgpu__ioctl_bytes(void **state)
{
	struct vgalloc_allocator a;
	struct fake_kernel k;
	struct vgalloc_backend *vg = fake_backend(&k, &a);
	const struct vgalloc_backend_ops *ops = vg->ops;
	struct vgalloc_context_param_value params[2] = { { 1, 4 }, { 2, 3 } };
	uint32_t cmd[4] = { 1, 2, 3, 4 };
	struct vgalloc_backend_blob_args args = { .blob_mem = 2,
		                                  .blob_flags = 3,
		                                  .size = 65536,
		                                  .blob_id = 77,
		                                  .cmd = cmd,
		                                  .cmd_size = 16 };
	struct vgalloc_backend_blob_info bi;
	uint32_t handle = 0, res = 0;
	unsigned char caps[160];
	uint64_t v = 0;
	void *p = NULL;
	int fd = -1;

	(void)state;
	/* GETPARAM: the int behind the pointer is zeroed before the kernel writes it. */
	assert_int_equal(ops->get_param(vg, VGALLOC_UAPI_PARAM_HOST_VISIBLE, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(k.stale_int, 0);
	assert_int_equal(k.calls[0].request, VGALLOC_UAPI_IOCTL_GETPARAM);
	assert_int_equal(k.calls[0].arg_size, 16);
	assert_int_equal(((struct vgalloc_uapi_getparam *)k.calls[0].arg)->param, 4);
	assert_int_equal(ops->get_param(vg, 9, &v), -ENOENT);
	assert_int_equal(ops->get_param(vg, 12, &v), -EINVAL);

	assert_int_equal(ops->get_capset(vg, 4, 0, caps, sizeof(caps)), 0);
	{
		struct vgalloc_uapi_get_caps *gc = (void *)k.calls[3].arg;

		assert_int_equal(k.calls[3].request, VGALLOC_UAPI_IOCTL_GET_CAPS);
		assert_int_equal(gc->cap_set_id, 4);
		assert_int_equal(gc->cap_set_ver, 0);
		assert_int_equal(gc->addr, (uintptr_t)caps);
		assert_int_equal(gc->size, 160);
		assert_int_equal(gc->pad, 0);
	}
	assert_int_equal(ops->context_init(vg, params, 2), 0);
	{
		struct vgalloc_uapi_context_init *ci = (void *)k.calls[4].arg;

		assert_int_equal(k.calls[4].request, VGALLOC_UAPI_IOCTL_CONTEXT_INIT);
		assert_int_equal(ci->num_params, 2);
		assert_int_equal(ci->pad, 0);
		assert_int_not_equal(ci->ctx_set_params, 0);
	}
	assert_int_equal(ops->blob_create(vg, &args, &handle, &res), 0);
	{
		struct vgalloc_uapi_resource_create_blob *cb = (void *)k.calls[5].arg;

		assert_int_equal(k.calls[5].arg_size, 48);
		assert_int_equal(cb->blob_mem, 2);
		assert_int_equal(cb->blob_flags, 3);
		assert_int_equal(cb->bo_handle, 0);
		assert_int_equal(cb->res_handle, 0);
		assert_int_equal(cb->size, 65536);
		assert_int_equal(cb->pad, 0);
		assert_int_equal(cb->cmd_size, 16);
		assert_int_equal(cb->cmd, (uintptr_t)cmd);
		assert_int_equal(cb->blob_id, 77);
		assert_int_equal(handle, 1);
		assert_int_equal(res, 101);
	}
	assert_int_equal(ops->blob_map(vg, handle, 65536, &p), 0);
	assert_ptr_equal(p, k.page);
	assert_int_equal(((struct vgalloc_uapi_map *)k.calls[6].arg)->handle, handle);
	assert_int_equal(k.last_mmap_size, 65536);
	assert_int_equal(k.last_mmap_offset, 0x100000000ull);
	assert_int_equal(ops->blob_unmap(vg, handle, p, 65536), 0);
	assert_int_equal(
	        ops->blob_export(vg, handle,
	                         VGALLOC_BACKEND_EXPORT_CLOEXEC | VGALLOC_BACKEND_EXPORT_RDWR, &fd),
	        0);
	assert_true(fd >= 0);
	close(fd);
	{
		struct vgalloc_uapi_prime_handle *ph = (void *)k.calls[7].arg;

		assert_int_equal(k.calls[7].request, VGALLOC_UAPI_IOCTL_PRIME_HANDLE_TO_FD);
		assert_int_equal(ph->handle, handle);
		assert_int_equal(ph->flags, 0x80002);
	}
	assert_int_equal(ops->blob_import(vg, 5, &handle), 0);
	assert_int_equal(handle, 7);
	assert_int_equal(((struct vgalloc_uapi_prime_handle *)k.calls[8].arg)->fd, 5);
	assert_int_equal(ops->blob_info(vg, 7, &bi), 0);
	assert_int_equal(bi.res_id, 107);
	assert_int_equal(bi.size, 65536);
	assert_int_equal(bi.blob_mem, 2);
	assert_int_equal(ops->blob_destroy(vg, 7), 0);
	assert_int_equal(k.calls[10].request, VGALLOC_UAPI_IOCTL_GEM_CLOSE);
	assert_int_equal(((struct vgalloc_uapi_gem_close *)k.calls[10].arg)->handle, 7);
	assert_int_equal(ops->get_fd(vg), 42);
	/* Adopt mode: the fd is borrowed, destroy does not close it. */
	ops->destroy(vg);
	assert_int_equal(k.close_count, 0);
}

static void virtgpu__errno_mapping_and_retries(void **state)
{
	struct vgalloc_allocator a;
	struct fake_kernel k;
	struct vgalloc_backend *vg = fake_backend(&k, &a);
	const struct vgalloc_backend_ops *ops = vg->ops;
	uint32_t handle, res;
	struct vgalloc_backend_blob_args args = { .blob_mem = 1, .size = 4096 };
	void *p;

	(void)state;
	/* EINTR and EAGAIN are retried transparently. */
	k.fail_errno[0] = EINTR;
	k.fail_errno[1] = EAGAIN;
	assert_int_equal(ops->blob_create(vg, &args, &handle, &res), 0);
	assert_int_equal(k.count, 3);
	/* -1/errno becomes -errno, once. */
	k.fail_errno[3] = ENOSPC;
	assert_int_equal(ops->blob_create(vg, &args, &handle, &res), -ENOSPC);
	k.fail_errno[4] = ENOMEM;
	assert_int_equal(ops->blob_destroy(vg, 1), -ENOMEM);
	/* A host refusal shows at mmap. */
	k.mmap_errno = EINVAL;
	assert_int_equal(ops->blob_map(vg, 1, 4096, &p), -EINVAL);
	ops->destroy(vg);
}

static void virtgpu__device_on_fake_kernel(void **state)
{
	struct vgalloc_allocator a;
	struct fake_kernel k;
	struct vgalloc_backend *vg = fake_backend(&k, &a);
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mem *mem = NULL;
	struct fx f = { .mock = mock };
	int first;
	void *p;

	(void)state;
	/* The host side of the protocol is the mock's; the kernel side is the fake one. */
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
	fx_create_info(&f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.backend = VGALLOC_BACKEND_CUSTOM;
	ci.backend_object = vg;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	/* Adopt mode: GETPARAM 1..9 and GET_CAPS, never CONTEXT_INIT. */
	assert_int_equal(k.count, 10);
	for (int i = 0; i < 9; i++) {
		assert_int_equal(k.calls[i].request, VGALLOC_UAPI_IOCTL_GETPARAM);
	}
	assert_int_equal(k.calls[9].request, VGALLOC_UAPI_IOCTL_GET_CAPS);
	first = k.count;
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem), 0);
	assert_int_equal(k.count, first); /* host-first lazy: no blob yet */
	assert_int_equal(vgalloc_mem_map(dev, mem, &p), 0);
	assert_int_equal(k.count, first + 2);
	assert_int_equal(k.calls[first].request, VGALLOC_UAPI_IOCTL_RESOURCE_CREATE_BLOB);
	assert_int_equal(((struct vgalloc_uapi_resource_create_blob *)k.calls[first].arg)->blob_id,
	                 1);
	assert_int_equal(k.calls[first + 1].request, VGALLOC_UAPI_IOCTL_MAP);
	assert_int_equal(vgalloc_mem_free(dev, mem), 0);
	assert_int_equal(k.calls[k.count - 1].request, VGALLOC_UAPI_IOCTL_GEM_CLOSE);
	vgalloc_device_destroy(dev);
	/* A custom backend is borrowed: the device did not destroy it. */
	vg->ops->destroy(vg);
	vgalloc_mock_destroy(mock);
}

/* An allocator that counts what is live: discovery gives back everything it took. */
struct counting {
	struct vgalloc_allocator a;
	int live;
};

static void *counting_alloc(void *user, size_t size, size_t align, uint32_t scope)
{
	void *p;

	(void)scope;
	assert_true(align <= 16);
	p = malloc(size);
	((struct counting *)user)->live += p != NULL;
	return p;
}

static void counting_free(void *user, void *p)
{
	((struct counting *)user)->live -= p != NULL;
	free(p);
}

static void counting_init(struct counting *c)
{
	c->a = (struct vgalloc_allocator){ c, counting_alloc, counting_free };
	c->live = 0;
}

/* The fake kernel with no device yet, and a sys on it: what own mode's discovery sees. */
static struct vgalloc__virtgpu_sys discovery_sys(struct fake_kernel *k)
{
	struct vgalloc__virtgpu_sys sys = fake_sys;

	memset(k, 0, sizeof(*k));
	sys.ctx = k;
	return sys;
}

/* What discovery may ask a node before it picks one (no implicit context): VERSION, with room for
 * the driver name only, and GETPARAM SUPPORTED_CAPSET_IDS. */
static void assert_discovery_call(const struct fake_call *c, unsigned long request, int fd)
{
	assert_int_equal(c->request, request);
	assert_int_equal(c->fd, fd);
	if (request == VGALLOC__VIRTGPU_IOCTL_VERSION) {
		const struct vgalloc__virtgpu_drm_version *v = (const void *)c->arg;

		assert_int_equal(c->arg_size, sizeof(*v));
		assert_non_null(v->name);
		assert_true(v->name_len >= strlen("virtio_gpu"));
		assert_int_equal(v->date_len, 0);
		assert_int_equal(v->desc_len, 0);
	} else {
		const struct vgalloc_uapi_getparam *gp = (const void *)c->arg;

		assert_int_equal(gp->param, VGALLOC_UAPI_PARAM_SUPPORTED_CAPSET_IDS);
	}
}

static void virtgpu__own_discovery_through_the_seam(void **state)
{
	static const unsigned long request[] = {
		VGALLOC__VIRTGPU_IOCTL_VERSION, VGALLOC__VIRTGPU_IOCTL_VERSION,
		VGALLOC_UAPI_IOCTL_GETPARAM,    VGALLOC__VIRTGPU_IOCTL_VERSION,
		VGALLOC_UAPI_IOCTL_GETPARAM,
	};
	static const int fd[] = { FAKE_FD0, FAKE_FD0 + 1, FAKE_FD0 + 1, FAKE_FD0 + 2,
		                  FAKE_FD0 + 2 };
	struct fake_kernel k;
	struct vgalloc__virtgpu_sys sys = discovery_sys(&k);
	struct vgalloc_backend *be = NULL;
	struct counting c;

	(void)state;
	counting_init(&c);
	/* Another driver (offering Venus, which must not matter); virtio_gpu without Venus; and
	 * virtio_gpu with it. */
	k.node_count = 3;
	k.nodes[0] =
	        (struct fake_node){ "/dev/dri/renderD128", 0, "i915", 1u << VGALLOC_CAPSET_VENUS };
	k.nodes[1] =
	        (struct fake_node){ "/dev/dri/renderD129", 0, "virtio_gpu",
		                    (1u << VGALLOC_CAPSET_VIRGL) | (1u << VGALLOC_CAPSET_VIRGL2) };
	k.nodes[2] =
	        (struct fake_node){ "/dev/dri/renderD130", 0, "virtio_gpu",
		                    (1u << VGALLOC_CAPSET_VIRGL) | (1u << VGALLOC_CAPSET_VENUS) };
	assert_int_equal(vgalloc__virtgpu_create(-1, VGALLOC_CAPSET_VENUS, &c.a,
	                                         VGALLOC_SCOPE_DEVICE, &sys, &be),
	                 0);
	assert_non_null(be);
	assert_int_equal(be->magic, VGALLOC_BACKEND_MAGIC);
	assert_int_equal(be->ops->abi_version, VGALLOC_BACKEND_ABI_VERSION);
	/* The third node is picked. */
	assert_int_equal(be->ops->get_fd(be), FAKE_FD0 + 2);
	assert_int_equal(k.render_nodes_calls, 1);
	/* Each node opened once, in the listed order; the other two closed through the seam. */
	assert_int_equal(k.open_count, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(k.opened[i], FAKE_FD0 + i);
	}
	assert_int_equal(k.close_count, 2);
	assert_int_equal(k.closed[0], FAKE_FD0);
	assert_int_equal(k.closed[1], FAKE_FD0 + 1);
	/* Before the pick only VERSION and GETPARAM: the other driver is not asked for params. */
	assert_int_equal(k.count, 5);
	for (int i = 0; i < 5; i++) {
		assert_discovery_call(&k.calls[i], request[i], fd[i]);
	}
	/* The picked node is the backend's: destroy closes it through the seam. */
	be->ops->destroy(be);
	assert_int_equal(k.close_count, 3);
	assert_int_equal(k.closed[2], FAKE_FD0 + 2);
	assert_int_equal(k.count, 5);
	assert_int_equal(c.live, 0);
}

static void virtgpu__own_discovery_without_a_node(void **state)
{
	struct fake_kernel k;
	struct vgalloc__virtgpu_sys sys = discovery_sys(&k);
	struct vgalloc_backend *be = NULL;
	struct counting c;

	(void)state;
	counting_init(&c);
	/* No node at all: -ENODEV, nothing opened or asked, nothing kept. */
	assert_int_equal(vgalloc__virtgpu_create(-1, VGALLOC_CAPSET_VENUS, &c.a,
	                                         VGALLOC_SCOPE_DEVICE, &sys, &be),
	                 -ENODEV);
	assert_null(be);
	assert_int_equal(k.render_nodes_calls, 1);
	assert_int_equal(k.open_count, 0);
	assert_int_equal(k.count, 0);
	assert_int_equal(c.live, 0);

	/* The node list itself fails: the same. */
	k.render_nodes_ret = -ENOENT;
	assert_int_equal(vgalloc__virtgpu_create(-1, VGALLOC_CAPSET_VENUS, &c.a,
	                                         VGALLOC_SCOPE_DEVICE, &sys, &be),
	                 -ENODEV);
	assert_null(be);
	assert_int_equal(k.render_nodes_calls, 2);
	assert_int_equal(k.open_count, 0);
	assert_int_equal(c.live, 0);

	/* Nodes, none usable: one that does not open, one that is no DRM node (VERSION fails), a
	 * driver whose name only starts with virtio_gpu, virtio_gpu without Venus. Every fd opened
	 * is closed, and nothing but VERSION and GETPARAM reached one. */
	sys = discovery_sys(&k);
	k.node_count = 4;
	k.nodes[0] = (struct fake_node){ "/dev/dri/renderD128", ENOENT, "virtio_gpu",
		                         1u << VGALLOC_CAPSET_VENUS };
	k.nodes[1] =
	        (struct fake_node){ "/dev/dri/renderD129", 0, NULL, 1u << VGALLOC_CAPSET_VENUS };
	k.nodes[2] = (struct fake_node){ "/dev/dri/renderD130", 0, "virtio_gpu_next",
		                         1u << VGALLOC_CAPSET_VENUS };
	k.nodes[3] = (struct fake_node){ "/dev/dri/renderD131", 0, "virtio_gpu",
		                         1u << VGALLOC_CAPSET_VIRGL };
	assert_int_equal(vgalloc__virtgpu_create(-1, VGALLOC_CAPSET_VENUS, &c.a,
	                                         VGALLOC_SCOPE_DEVICE, &sys, &be),
	                 -ENODEV);
	assert_null(be);
	assert_int_equal(k.open_count, 3);
	assert_int_equal(k.close_count, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(k.opened[i], FAKE_FD0 + 1 + i);
		assert_int_equal(k.closed[i], FAKE_FD0 + 1 + i);
	}
	assert_int_equal(k.count, 4);
	assert_discovery_call(&k.calls[0], VGALLOC__VIRTGPU_IOCTL_VERSION, FAKE_FD0 + 1);
	assert_discovery_call(&k.calls[1], VGALLOC__VIRTGPU_IOCTL_VERSION, FAKE_FD0 + 2);
	assert_discovery_call(&k.calls[2], VGALLOC__VIRTGPU_IOCTL_VERSION, FAKE_FD0 + 3);
	assert_discovery_call(&k.calls[3], VGALLOC_UAPI_IOCTL_GETPARAM, FAKE_FD0 + 3);
	assert_int_equal(c.live, 0);

	/* No allocator: nothing to allocate with. */
	assert_int_equal(vgalloc__virtgpu_create(-1, VGALLOC_CAPSET_VENUS, NULL,
	                                         VGALLOC_SCOPE_DEVICE, &sys, &be),
	                 -EINVAL);
	assert_null(be);
}

static void virtgpu__own_and_adopt_without_device(void **state)
{
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;
	int fds_before = count_open_fds();
	int fd;

	(void)state;
	memset(&ci, 0, sizeof(ci));
	ci.struct_size = sizeof(ci);
	ci.backend = VGALLOC_BACKEND_VIRTGPU;
	ci.mode = VGALLOC_DEVICE_MODE_OWN;
	ci.capset_id = VGALLOC_CAPSET_VENUS;
	/* No virtio-gpu render node offering Venus on this machine: the device cannot. */
	if (access("/dev/dri", F_OK) != 0) {
		assert_int_equal(vgalloc_device_create(&ci, &dev), -EOPNOTSUPP);
	}
	ci.mode = VGALLOC_DEVICE_MODE_ADOPT;
	ci.flags = VGALLOC_DEVICE_CONTEXT_READY;
	ci.fd = -1;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	/* Not a DRM fd: the first GETPARAM fails and says why; the fd stays the caller's. */
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ci.fd = fd;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -ENOTTY);
	assert_true(fcntl_ok(fd));
	close(fd);
	assert_null(dev);
	assert_int_equal(count_open_fds(), fds_before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(virtgpu__ioctl_bytes),
		cmocka_unit_test(virtgpu__errno_mapping_and_retries),
		cmocka_unit_test(virtgpu__device_on_fake_kernel),
		cmocka_unit_test(virtgpu__own_discovery_through_the_seam),
		cmocka_unit_test(virtgpu__own_discovery_without_a_node),
		cmocka_unit_test(virtgpu__own_and_adopt_without_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
