/* SPDX-License-Identifier: MIT */
/*
 * docs/errors.md, checked: each row of its case tables (case id, function, bad input, result,
 * calls) is a case here that makes that bad call on a fresh fixture, and each case is a row, so
 * neither can drift. Every case must also change nothing: the mock's ledger and the device's
 * stats are as they were before the call, out parameters keep their old value, and the fixture's
 * teardown finds no leak.
 * Covers: every function declared VGALLOC_API in vgalloc.h and vgalloc_mock.h (the test fails
 * when one of them has no row).
 */
#include <fcntl.h>
#include <unistd.h>

#include "harness.h"

/* struct vgalloc_backend: the head of the mock object, whose reserved word one case sets. */
#define VGALLOC_UNSTABLE_BACKEND_API
#include "vgalloc/vgalloc_backend.h"

#ifndef VGALLOC_FIXTURES_DIR
#define VGALLOC_FIXTURES_DIR "tests/fixtures/capsets"
#endif

#define SOURCE_DIR VGALLOC_FIXTURES_DIR "/../../.."
#define DOC_PATH   SOURCE_DIR "/docs/errors.md"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_KEEP     4
#define MAX_POKES    4

/* Out parameters start as these; a failing call must leave them alone. */
#define OUT_PTR   ((void *)(uintptr_t)0x5e5e5e50u)
#define OUT_FD    (-77)
#define OUT_VALUE 0x5e5e5e5e5e5e5e5eull

/* An unknown flag: the highest bit, far from any flag a later version may add. */
#define BIT31 (1u << 31)

/* ---------------------------------------------------------------------------------------------
 * Cases.
 */

/*
 * Set one field of the input a runner builds: width bytes at off (width 0 ends the list). A poke
 * past the struct is an unknown tail: struct_size then grows to cover the tail words.
 */
struct poke {
	size_t off;
	size_t width;
	uint64_t val;
};

/* Initializer macros read best on one line each. */
/* clang-format off */
#define P(T, field, v)  { offsetof(T, field), sizeof(((T *)0)->field), (uint64_t)(v) }
#define TAIL(T)         { sizeof(T) + 8, 8, 1 }
#define MT              struct vgalloc_memory_type
#define PT(i, field, v) \
	{ (i) * sizeof(MT) + offsetof(MT, field), sizeof(((MT *)0)->field), (uint64_t)(v) }
#define DCI             struct vgalloc_device_create_info
#define REQ             struct vgalloc_request
#define BCI             struct vgalloc_blob_create_info
#define BII             struct vgalloc_blob_import_info
#define MCI             struct vgalloc_mock_create_info
#define HOOKS           struct vgalloc_host_hooks
/* clang-format on */

/* Effects a case may have by design; anything else must stay as it was. */
enum {
	ALLOW_CONTEXT = 1u << 0, /* own-mode create on a scratch mock ran CONTEXT_INIT there */
	ALLOW_LOST = 1u << 1,    /* the mock host lost the context, as documented */
};

struct ctx;

struct errcase {
	const char *id;
	const char *fn;
	void (*run)(struct ctx *c);
	struct fx_opts opts;
	struct poke pokes[MAX_POKES];
	uint32_t allow;
};

struct ctx {
	const struct errcase *k;
	struct fx *f;
	/* The result as docs/errors.md spells it, and the calls it made. */
	char result[64];
	char calls[16];
	bool called;
	struct vgalloc_mock *snap_mocks[2];
	struct vgalloc_mock_ledger before[2], after[2];
	struct vgalloc_stats st_before, st_after;
	/* Out parameters. */
	struct vgalloc_device *out_dev;
	struct vgalloc_mock *out_mock;
	struct vgalloc_blob *out_blob;
	struct vgalloc_mem *out_mem;
	void *out_ptr;
	int out_fd;
	uint64_t out_value;
	/* Memory that is no object of any kind, and bytes for capsets. */
	uint64_t junk[32];
	unsigned char bytes[8192];
	/* Set up by the case, released after the checks in this order. */
	bool fault_armed;
	struct {
		struct vgalloc_device *dev;
		struct vgalloc_mem *mem;
	} mems[MAX_KEEP];
	struct {
		struct vgalloc_device *dev;
		struct vgalloc_blob *blob;
	} blobs[MAX_KEEP];
	struct vgalloc_blob *shmems[MAX_KEEP];
	struct vgalloc_device *shmem_devs[MAX_KEEP]; /* NULL: the fixture's device */
	struct {
		int fd;
		uint64_t host;
	} foreign[MAX_KEEP];
	uint32_t handles[MAX_KEEP]; /* raw GEM handles on the fixture's mock */
	uint64_t hosts[MAX_KEEP];   /* processed host allocations on the fixture's mock */
	int fds[MAX_KEEP];
	struct vgalloc_device *devs[MAX_KEEP]; /* more devices on the fixture's mock */
	uint32_t nmems, nblobs, nshmems, nforeign, nhandles, nhosts, nfds, ndevs;
	struct vgalloc_mock *scratch; /* a mock of its own for cases that need a fresh one */
};

/* ---------------------------------------------------------------------------------------------
 * Making the call: snapshot, call, snapshot, result as text.
 */

static const struct {
	int err;
	const char *name;
} errno_names[] = {
	{ EINVAL, "EINVAL" },       { E2BIG, "E2BIG" },           { ENOSPC, "ENOSPC" },
	{ ENOMEM, "ENOMEM" },       { EOPNOTSUPP, "EOPNOTSUPP" }, { EIO, "EIO" },
	{ ENOENT, "ENOENT" },       { EEXIST, "EEXIST" },         { EBUSY, "EBUSY" },
	{ ENOTTY, "ENOTTY" },       { EBADF, "EBADF" },           { EFAULT, "EFAULT" },
	{ EOVERFLOW, "EOVERFLOW" }, { ENODEV, "ENODEV" },         { EPROTO, "EPROTO" },
};

static void snapshot(struct ctx *c, struct vgalloc_mock_ledger *l, struct vgalloc_stats *st)
{
	for (uint32_t i = 0; i < 2; i++) {
		if (c->snap_mocks[i]) {
			l[i] = fx_ledger(c->snap_mocks[i]);
		}
	}
	st->struct_size = sizeof(*st);
	assert_int_equal(vgalloc_device_get_stats(c->f->dev, st), 0);
}

static void before_call(struct ctx *c)
{
	assert_false(c->called);
	c->snap_mocks[0] = c->f->mock;
	c->snap_mocks[1] = c->scratch;
	snapshot(c, c->before, &c->st_before);
}

static void after_call(struct ctx *c)
{
	snapshot(c, c->after, &c->st_after);
	c->called = true;
}

static void result_int(struct ctx *c, int ret)
{
	after_call(c);
	snprintf(c->result, sizeof(c->result), "%d", ret);
	for (size_t i = 0; ret < 0 && i < ARRAY_LEN(errno_names); i++) {
		if (-ret == errno_names[i].err) {
			snprintf(c->result, sizeof(c->result), "-%s", errno_names[i].name);
			break;
		}
	}
}

static void result_str(struct ctx *c, const char *s)
{
	after_call(c);
	if (s) {
		snprintf(c->result, sizeof(c->result), "\"%s\"", s);
	} else {
		snprintf(c->result, sizeof(c->result), "NULL");
	}
}

static void result_bool(struct ctx *c, bool b)
{
	after_call(c);
	snprintf(c->result, sizeof(c->result), "%s", b ? "true" : "false");
}

static void result_void(struct ctx *c)
{
	after_call(c);
	snprintf(c->result, sizeof(c->result), "void");
}

#define CALL_INT(c, e)                \
	do {                          \
		before_call(c);       \
		result_int((c), (e)); \
	} while (0)
#define CALL_STR(c, e)                \
	do {                          \
		before_call(c);       \
		result_str((c), (e)); \
	} while (0)
#define CALL_BOOL(c, e)                \
	do {                           \
		before_call(c);        \
		result_bool((c), (e)); \
	} while (0)
#define CALL_VOID(c, e)         \
	do {                    \
		before_call(c); \
		e;              \
		result_void(c); \
	} while (0)

/* ---------------------------------------------------------------------------------------------
 * Setup helpers: everything they make is released after the checks.
 */

static void apply_pokes(struct ctx *c, void *in, size_t size, size_t full)
{
	for (uint32_t i = 0; i < MAX_POKES && c->k->pokes[i].width; i++) {
		const struct poke *p = &c->k->pokes[i];
		unsigned char *at = (unsigned char *)in + p->off;

		assert_true(p->off + p->width <= full);
		if (p->width == 4) {
			uint32_t v = (uint32_t)p->val;

			memcpy(at, &v, sizeof(v));
		} else {
			assert_int_equal(p->width, 8);
			memcpy(at, &p->val, sizeof(p->val));
		}
		if (p->off >= size) {
			uint32_t s = (uint32_t)full;

			memcpy(in, &s, sizeof(s));
		}
	}
}

static struct vgalloc_mem *alloc_mem(struct vgalloc_device *dev, uint32_t type, uint64_t size,
                                     uint32_t flags, uint32_t export_types)
{
	struct vgalloc_request r = fx_req(type, size);
	struct vgalloc_mem *mem = NULL;

	r.flags = flags;
	r.export_handle_types = export_types;
	assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem), 0);
	return mem;
}

static struct vgalloc_mem *keep_mem(struct ctx *c, struct vgalloc_device *dev, uint32_t type,
                                    uint64_t size, uint32_t flags, uint32_t export_types)
{
	struct vgalloc_mem *mem = alloc_mem(dev, type, size, flags, export_types);

	assert_true(c->nmems < MAX_KEEP);
	c->mems[c->nmems].dev = dev;
	c->mems[c->nmems++].mem = mem;
	return mem;
}

/* A pointer to a memory object that was freed. */
static struct vgalloc_mem *freed_mem(struct ctx *c, uint32_t type)
{
	struct vgalloc_mem *mem = alloc_mem(c->f->dev, type, 4096, 0, 0);

	assert_int_equal(vgalloc_mem_free(c->f->dev, mem), 0);
	return mem;
}

static struct vgalloc_blob *create_blob(struct vgalloc_device *dev, uint32_t blob_mem,
                                        uint32_t flags, uint64_t size)
{
	struct vgalloc_blob_create_info ci = {
		.struct_size = sizeof(ci),
		.blob_mem = blob_mem,
		.blob_flags = flags,
		.size = size,
	};
	struct vgalloc_blob *blob = NULL;

	assert_int_equal(vgalloc_blob_create(dev, &ci, &blob), 0);
	return blob;
}

static struct vgalloc_blob *keep_blob(struct ctx *c, struct vgalloc_device *dev, uint32_t blob_mem,
                                      uint32_t flags, uint64_t size)
{
	struct vgalloc_blob *blob = create_blob(dev, blob_mem, flags, size);

	assert_true(c->nblobs < MAX_KEEP);
	c->blobs[c->nblobs].dev = dev;
	c->blobs[c->nblobs++].blob = blob;
	return blob;
}

/* The fixture's Venus context backs blob_id 0 HOST3D MAPPABLE blobs with host memory. */
static struct vgalloc_blob *mappable_blob(struct ctx *c)
{
	return keep_blob(c, c->f->dev, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 65536);
}

static struct vgalloc_blob *destroyed_blob(struct ctx *c)
{
	struct vgalloc_blob *blob =
	        create_blob(c->f->dev, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 65536);

	assert_int_equal(vgalloc_blob_destroy(c->f->dev, blob), 0);
	return blob;
}

static int keep_fd(struct ctx *c, int fd)
{
	assert_true(fd >= 0);
	assert_true(c->nfds < MAX_KEEP);
	c->fds[c->nfds++] = fd;
	return fd;
}

/* A number that is no open fd. */
static int closed_fd(void)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	return p[0];
}

/* An open fd that is no dma-buf. */
static int pipe_fd(struct ctx *c)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	keep_fd(c, p[1]);
	return keep_fd(c, p[0]);
}

/* A 64 KiB dma-buf of another process's HOST3D blob (harness.h), not tracked by the device. */
static int foreign_fd(struct ctx *c)
{
	assert_true(c->nforeign < MAX_KEEP);
	c->foreign[c->nforeign].fd = fx_foreign_dmabuf(c->f, 65536, &c->foreign[c->nforeign].host);
	return c->foreign[c->nforeign++].fd;
}

/* A second device on the fixture's mock, adopting the fixture's context. */
static struct vgalloc_device *adopt_dev(struct ctx *c, const struct vgalloc_host_hooks *hooks)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;

	fx_create_info(c->f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.hooks = hooks;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	assert_true(c->ndevs < MAX_KEEP);
	c->devs[c->ndevs++] = dev;
	return dev;
}

static struct vgalloc_mock *scratch_mock(struct ctx *c, const struct fx_opts *o)
{
	assert_null(c->scratch);
	c->scratch = fx_mock_new(o);
	return c->scratch;
}

/* Let the host process everything queued so far (a host allocation is waited on and freed). */
static void drain_host(struct ctx *c)
{
	static uint64_t n;
	uint64_t host = 0, token = 0;

	assert_int_equal(vgalloc_mock_host_alloc(c->f->mock, 7000 + n++, 4096, &host, &token), 0);
	assert_int_equal(vgalloc_mock_host_wait(c->f->mock, token), 0);
	vgalloc_mock_host_free(c->f->mock, host);
}

static uint32_t load_fixture(struct ctx *c, const char *name)
{
	char path[512];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", VGALLOC_FIXTURES_DIR, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(c->bytes, 1, sizeof(c->bytes), fp);
	fclose(fp);
	assert_true(n > 0);
	return (uint32_t)n;
}

static void put_u32(struct ctx *c, size_t off, uint32_t v)
{
	memcpy(c->bytes + off, &v, sizeof(v));
}

/* ---------------------------------------------------------------------------------------------
 * Runners: a valid input with the case's pokes applied.
 */

static void device_create__with(struct ctx *c)
{
	struct {
		struct vgalloc_device_create_info ci;
		uint64_t tail[2];
	} in;
	struct vgalloc_memory_type types[3];

	memset(&in, 0, sizeof(in));
	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &in.ci);
	apply_pokes(c, &in, sizeof(in.ci), sizeof(in));
	CALL_INT(c, vgalloc_device_create(&in.ci, &c->out_dev));
}

static void device_create__with_types(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	apply_pokes(c, types, sizeof(types), sizeof(types));
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__with_hooks(struct ctx *c)
{
	struct {
		struct vgalloc_host_hooks h;
		uint64_t tail[2];
	} in;
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	memset(&in, 0, sizeof(in));
	in.h = c->f->hooks;
	apply_pokes(c, &in, sizeof(in.h), sizeof(in));
	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	ci.hooks = &in.h;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

struct req_in {
	struct vgalloc_request r;
	uint64_t tail[2];
};

static void req_in(struct ctx *c, struct req_in *in)
{
	memset(in, 0, sizeof(*in));
	in->r = fx_req(TYPE_HOST_COHERENT, 4096);
	apply_pokes(c, in, sizeof(in->r), sizeof(*in));
}

static void mem_alloc__with(struct ctx *c)
{
	struct req_in in;

	req_in(c, &in);
	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, &in.r, &c->out_mem));
}

static void plan_request__with(struct ctx *c)
{
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
	struct req_in in;

	req_in(c, &in);
	CALL_INT(c, vgalloc_plan_request(c->f->dev, &in.r, &plan));
}

static void plan_explain__with(struct ctx *c)
{
	char buf[512];
	struct req_in in;

	req_in(c, &in);
	CALL_INT(c, vgalloc_plan_explain(c->f->dev, &in.r, buf, sizeof(buf)));
}

static void blob_create__with(struct ctx *c)
{
	static const uint32_t cmd[4];
	struct {
		struct vgalloc_blob_create_info ci;
		uint64_t tail[2];
	} in;

	memset(&in, 0, sizeof(in));
	in.ci.struct_size = sizeof(in.ci);
	in.ci.blob_mem = VGALLOC_BLOB_MEM_HOST3D;
	in.ci.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE;
	in.ci.size = 65536;
	in.ci.cmd = cmd;
	apply_pokes(c, &in, sizeof(in.ci), sizeof(in));
	CALL_INT(c, vgalloc_blob_create(c->f->dev, &in.ci, &c->out_blob));
}

static void blob_import_dmabuf__with(struct ctx *c)
{
	struct {
		struct vgalloc_blob_import_info info;
		uint64_t tail[2];
	} in;
	int fd = foreign_fd(c);

	memset(&in, 0, sizeof(in));
	in.info.struct_size = sizeof(in.info);
	in.info.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE;
	apply_pokes(c, &in, sizeof(in.info), sizeof(in));
	CALL_INT(c, vgalloc_blob_import_dmabuf(c->f->dev, fd, &in.info, &c->out_blob));
}

static void mock_create__with(struct ctx *c)
{
	struct {
		struct vgalloc_mock_create_info mi;
		uint64_t tail[2];
	} in;

	memset(&in, 0, sizeof(in));
	in.mi.struct_size = sizeof(in.mi);
	apply_pokes(c, &in, sizeof(in.mi), sizeof(in));
	CALL_INT(c, vgalloc_mock_create(&in.mi, &c->out_mock));
}

/* ---------------------------------------------------------------------------------------------
 * Capsets and names.
 */

static void parse(struct ctx *c, uint32_t id, const void *data, uint32_t size, uint32_t source)
{
	struct vgalloc_capset_info info = { .struct_size = sizeof(info) };

	CALL_INT(c, vgalloc_capset_parse(id, data, size, source, &info));
}

static void capset_parse__null_info(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-160-guestvram0.bin");

	CALL_INT(c, vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, c->bytes, n,
	                                 VGALLOC_CAPSET_FROM_FILE, NULL));
}

static void capset_parse__struct_size_small(struct ctx *c)
{
	struct vgalloc_capset_info info = { .struct_size = 8 };
	uint32_t n = load_fixture(c, "venus-160-guestvram0.bin");

	CALL_INT(c, vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, c->bytes, n,
	                                 VGALLOC_CAPSET_FROM_FILE, &info));
}

static void capset_parse__null_data(struct ctx *c)
{
	parse(c, VGALLOC_CAPSET_VENUS, NULL, 160, VGALLOC_CAPSET_FROM_DEVICE);
}

static void capset_parse__size_zero(struct ctx *c)
{
	load_fixture(c, "venus-160-guestvram0.bin");
	parse(c, VGALLOC_CAPSET_VENUS, c->bytes, 0, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__bad_source(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-160-guestvram0.bin");

	parse(c, VGALLOC_CAPSET_VENUS, c->bytes, n, 3);
}

static void capset_parse__unknown_id(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-160-guestvram0.bin");

	parse(c, 42, c->bytes, n, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__file_truncated(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-148.bin");

	parse(c, VGALLOC_CAPSET_VENUS, c->bytes, n - 4, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__venus_wire0(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-bad-wire0.bin");

	parse(c, VGALLOC_CAPSET_VENUS, c->bytes, n, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__venus_guest_vram2(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-bad-guestvram2.bin");

	parse(c, VGALLOC_CAPSET_VENUS, c->bytes, n, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__device_zeros(struct ctx *c)
{
	memset(c->bytes, 0, 160);
	parse(c, VGALLOC_CAPSET_VENUS, c->bytes, 160, VGALLOC_CAPSET_FROM_DEVICE);
}

static void capset_parse__gfxstream_alignment(struct ctx *c)
{
	uint32_t n = load_fixture(c, "gfxstream-vulkan-104.bin");

	put_u32(c, offsetof(struct vgalloc_capset_gfxstream_vulkan, blob_alignment), 3000);
	parse(c, VGALLOC_CAPSET_GFXSTREAM_VULKAN, c->bytes, n, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__cross_domain_bool(struct ctx *c)
{
	uint32_t n = load_fixture(c, "cross-domain-16.bin");

	put_u32(c, offsetof(struct vgalloc_capset_cross_domain, supports_dmabuf), 2);
	parse(c, VGALLOC_CAPSET_CROSS_DOMAIN, c->bytes, n, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__drm_context_type0(struct ctx *c)
{
	uint32_t n = load_fixture(c, "drm-24.bin");

	put_u32(c, offsetof(struct vgalloc_capset_drm, context_type), 0);
	parse(c, VGALLOC_CAPSET_DRM, c->bytes, n, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__virgl_version0(struct ctx *c)
{
	memset(c->bytes, 0, 308);
	parse(c, VGALLOC_CAPSET_VIRGL, c->bytes, 308, VGALLOC_CAPSET_FROM_DEVICE);
}

static void capset_name__zero(struct ctx *c)
{
	CALL_STR(c, vgalloc_capset_name(0));
}

static void capset_name__unknown(struct ctx *c)
{
	CALL_STR(c, vgalloc_capset_name(99));
}

static void param_name__zero(struct ctx *c)
{
	CALL_STR(c, vgalloc_param_name(VGALLOC_FLAVOUR_UPSTREAM, 0));
}

static void param_name__past_flavour(struct ctx *c)
{
	CALL_STR(c, vgalloc_param_name(VGALLOC_FLAVOUR_UPSTREAM, 10));
}

static void param_name__unknown_flavour(struct ctx *c)
{
	CALL_STR(c, vgalloc_param_name(3, VGALLOC_PARAM_BLOB_ALIGNMENT));
}

static void step_name__zero(struct ctx *c)
{
	CALL_STR(c, vgalloc_step_name(0));
}

static void step_name__unknown(struct ctx *c)
{
	CALL_STR(c, vgalloc_step_name(99));
}

static void no_suballoc_name__zero(struct ctx *c)
{
	CALL_STR(c, vgalloc_no_suballoc_name(0));
}

static void no_suballoc_name__two_bits(struct ctx *c)
{
	CALL_STR(c, vgalloc_no_suballoc_name(VGALLOC_NO_SUBALLOC_EXPORT |
	                                     VGALLOC_NO_SUBALLOC_IMPORT_FD));
}

static void path_name__zero(struct ctx *c)
{
	CALL_STR(c, vgalloc_path_name(0));
}

static void path_name__unknown(struct ctx *c)
{
	CALL_STR(c, vgalloc_path_name(99));
}

/* ---------------------------------------------------------------------------------------------
 * Devices.
 */

static void device_create__null_out(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	CALL_INT(c, vgalloc_device_create(&ci, NULL));
}

static void device_create__null_info(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_create(NULL, &c->out_dev));
}

static void device_create__not_a_mock(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	ci.backend_object = c->junk;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

/* The mock is a backend object (vgalloc_backend.h): its head's reserved word, set for the call
 * only. */
static void device_create__backend_reserved(struct ctx *c)
{
	struct vgalloc_backend *head = (struct vgalloc_backend *)(void *)c->f->mock;
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	assert_int_equal(head->reserved, 0);
	head->reserved = 1;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
	head->reserved = 0;
}

static void *never_alloc(void *user, size_t size, size_t alignment)
{
	(void)user;
	(void)size;
	(void)alignment;
	return NULL;
}

static void device_create__allocator_incomplete(struct ctx *c)
{
	struct vgalloc_allocator a = { .alloc = never_alloc };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	ci.allocator = &a;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void never_free(void *user, void *ptr)
{
	(void)user;
	(void)ptr;
}

static void device_create__allocator_fails(struct ctx *c)
{
	struct vgalloc_allocator a = { .alloc = never_alloc, .free = never_free };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	ci.allocator = &a;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__capset_data_size_0(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	ci.capset_data = c->bytes;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__virtgpu_not_drm(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.backend = VGALLOC_BACKEND_VIRTGPU;
	ci.backend_object = NULL;
	ci.fd = keep_fd(c, open("/dev/null", O_RDWR | O_CLOEXEC));
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__virtgpu_fd_closed(struct ctx *c)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.backend = VGALLOC_BACKEND_VIRTGPU;
	ci.backend_object = NULL;
	ci.fd = closed_fd();
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__type_unknown_tail(struct ctx *c)
{
	struct {
		struct vgalloc_memory_type t;
		uint64_t tail;
	} wide[3];
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ 0 }, types, &ci);
	memset(wide, 0, sizeof(wide));
	for (uint32_t i = 0; i < 3; i++) {
		wide[i].t = types[i];
		wide[i].t.struct_size = sizeof(wide[i]);
	}
	wide[1].tail = 1;
	ci.memory_types = &wide[0].t;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

/* A device create-info for a scratch mock: own mode, or adopt with CONTEXT_READY. */
static void scratch_create(struct ctx *c, const struct fx_opts *mock_opts, uint32_t mode,
                           uint32_t flags)
{
	struct fx_opts o = { .mode = mode, .dev_flags = flags };
	struct fx scratch = { .mock = scratch_mock(c, mock_opts) };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	assert_int_equal(vgalloc_mock_get_hooks(scratch.mock, 0, &scratch.hooks), 0);
	fx_create_info(&scratch, &o, types, &ci);
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__no_3d(struct ctx *c)
{
	scratch_create(c, &(struct fx_opts){ .mock_flags = VGALLOC_MOCK_NO_3D },
	               VGALLOC_DEVICE_MODE_OWN, 0);
}

static void device_create__adopt_no_blob(struct ctx *c)
{
	scratch_create(c, &(struct fx_opts){ .mock_flags = VGALLOC_MOCK_NO_BLOB },
	               VGALLOC_DEVICE_MODE_ADOPT, 0);
}

static void device_create__self_test_fails(struct ctx *c)
{
	scratch_create(c, &(struct fx_opts){ .host_page = 16384 }, VGALLOC_DEVICE_MODE_OWN,
	               VGALLOC_DEVICE_SELF_TEST);
}

static void adopt_with_capset(struct ctx *c, uint32_t size)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_create_info(c->f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.capset_data = c->bytes;
	ci.capset_size = size;
	CALL_INT(c, vgalloc_device_create(&ci, &c->out_dev));
}

static void device_create__capset_too_big(struct ctx *c)
{
	adopt_with_capset(c, 4097);
}

static void device_create__capset_invalid(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-bad-wire0.bin");

	adopt_with_capset(c, n);
}

static void device_destroy__null(struct ctx *c)
{
	CALL_VOID(c, vgalloc_device_destroy(NULL));
}

static void device_get_fd__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_fd(NULL));
}

static void device_get_param__null_dev(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_param(NULL, VGALLOC_PARAM_3D_FEATURES, &c->out_value));
}

static void device_get_param__null_value(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_param(c->f->dev, VGALLOC_PARAM_3D_FEATURES, NULL));
}

static void device_get_param__past_max(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_param(c->f->dev, VGALLOC_PARAM_MAX + 1, &c->out_value));
}

static void device_get_param__zero(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_param(c->f->dev, 0, &c->out_value));
}

static void device_get_param__absent(struct ctx *c)
{
	CALL_INT(c,
	         vgalloc_device_get_param(c->f->dev, VGALLOC_PARAM_BLOB_ALIGNMENT, &c->out_value));
}

static void read_capset(struct ctx *c, struct vgalloc_device *dev, uint32_t id, uint32_t size,
                        bool null_info)
{
	struct vgalloc_capset_info info = { .struct_size = size };

	CALL_INT(c, vgalloc_device_read_capset(dev, id, null_info ? NULL : &info));
}

static void device_read_capset__null_dev(struct ctx *c)
{
	read_capset(c, NULL, VGALLOC_CAPSET_VIRGL, sizeof(struct vgalloc_capset_info), false);
}

static void device_read_capset__null_info(struct ctx *c)
{
	read_capset(c, c->f->dev, VGALLOC_CAPSET_VIRGL, 0, true);
}

static void device_read_capset__struct_size_small(struct ctx *c)
{
	read_capset(c, c->f->dev, VGALLOC_CAPSET_VIRGL, 8, false);
}

static void device_read_capset__unknown_id(struct ctx *c)
{
	read_capset(c, c->f->dev, 42, sizeof(struct vgalloc_capset_info), false);
}

static void device_read_capset__not_offered(struct ctx *c)
{
	read_capset(c, c->f->dev, VGALLOC_CAPSET_CROSS_DOMAIN, sizeof(struct vgalloc_capset_info),
	            false);
}

static void device_read_capset__host_dropped(struct ctx *c)
{
	assert_int_equal(vgalloc_mock_set_capset(c->f->mock, VGALLOC_CAPSET_VIRGL, 0, NULL, 0), 0);
	read_capset(c, c->f->dev, VGALLOC_CAPSET_VIRGL, sizeof(struct vgalloc_capset_info), false);
}

static void device_read_capset__invalid(struct ctx *c)
{
	memset(c->bytes, 0, 4);
	assert_int_equal(vgalloc_mock_set_capset(c->f->mock, VGALLOC_CAPSET_VIRGL, 1, c->bytes, 4),
	                 0);
	read_capset(c, c->f->dev, VGALLOC_CAPSET_VIRGL, sizeof(struct vgalloc_capset_info), false);
}

static void device_get_info__null_dev(struct ctx *c)
{
	struct vgalloc_device_info info = { .struct_size = sizeof(info) };

	CALL_INT(c, vgalloc_device_get_info(NULL, &info));
}

static void device_get_info__null_info(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_info(c->f->dev, NULL));
}

static void device_get_info__struct_size_small(struct ctx *c)
{
	struct vgalloc_device_info info = { .struct_size = 44 };

	CALL_INT(c, vgalloc_device_get_info(c->f->dev, &info));
}

static void device_get_stats__null_dev(struct ctx *c)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	CALL_INT(c, vgalloc_device_get_stats(NULL, &st));
}

static void device_get_stats__null_stats(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_get_stats(c->f->dev, NULL));
}

static void device_get_stats__struct_size_small(struct ctx *c)
{
	struct vgalloc_stats st = { .struct_size = 112 };

	CALL_INT(c, vgalloc_device_get_stats(c->f->dev, &st));
}

static void pool_stats(struct ctx *c, struct vgalloc_device *dev, uint32_t index, uint32_t size,
                       bool null_stats)
{
	struct vgalloc_pool_stats ps = { .struct_size = size };

	CALL_INT(c, vgalloc_device_get_pool_stats(dev, index, null_stats ? NULL : &ps));
}

static void device_get_pool_stats__null_dev(struct ctx *c)
{
	pool_stats(c, NULL, 0, sizeof(struct vgalloc_pool_stats), false);
}

static void device_get_pool_stats__null_stats(struct ctx *c)
{
	keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);
	pool_stats(c, c->f->dev, 0, 0, true);
}

static void device_get_pool_stats__struct_size_small(struct ctx *c)
{
	keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);
	pool_stats(c, c->f->dev, 0, 8, false);
}

static void device_get_pool_stats__no_pool(struct ctx *c)
{
	pool_stats(c, c->f->dev, 0, sizeof(struct vgalloc_pool_stats), false);
}

static void device_stats_json__null_dev(struct ctx *c)
{
	char buf[64];

	CALL_INT(c, vgalloc_device_stats_json(NULL, buf, sizeof(buf)));
}

static void device_stats_json__null_buf(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_stats_json(c->f->dev, NULL, 64));
}

static void device_trim__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_device_trim(NULL));
}

/* ---------------------------------------------------------------------------------------------
 * Blobs.
 */

static void blob_create__null_dev(struct ctx *c)
{
	struct vgalloc_blob_create_info ci = { .struct_size = sizeof(ci),
		                               .blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		                               .size = 65536 };

	CALL_INT(c, vgalloc_blob_create(NULL, &ci, &c->out_blob));
}

static void blob_create__null_info(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_create(c->f->dev, NULL, &c->out_blob));
}

static void blob_create__null_out(struct ctx *c)
{
	struct vgalloc_blob_create_info ci = { .struct_size = sizeof(ci),
		                               .blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		                               .size = 65536 };

	CALL_INT(c, vgalloc_blob_create(c->f->dev, &ci, NULL));
}

static void blob_map__null_dev(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_map(NULL, blob, &c->out_ptr));
}

static void blob_map__null_out(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_map(c->f->dev, blob, NULL));
}

static void blob_map__null_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_map(c->f->dev, NULL, &c->out_ptr));
}

static void blob_map__not_a_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_map(c->f->dev, (struct vgalloc_blob *)c->junk, &c->out_ptr));
}

static void blob_map__destroyed(struct ctx *c)
{
	struct vgalloc_blob *blob = destroyed_blob(c);

	CALL_INT(c, vgalloc_blob_map(c->f->dev, blob, &c->out_ptr));
}

static void blob_map__other_device(struct ctx *c)
{
	struct vgalloc_device *other = adopt_dev(c, NULL);
	struct vgalloc_blob *blob =
	        keep_blob(c, other, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 65536);

	CALL_INT(c, vgalloc_blob_map(c->f->dev, blob, &c->out_ptr));
}

static void blob_map__not_mappable(struct ctx *c)
{
	struct vgalloc_blob *blob = keep_blob(c, c->f->dev, VGALLOC_BLOB_MEM_GUEST, 0, 4096);

	CALL_INT(c, vgalloc_blob_map(c->f->dev, blob, &c->out_ptr));
}

static void blob_map__host_refused(struct ctx *c)
{
	struct vgalloc_blob *blob =
	        keep_blob(c, c->f->dev, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 4096);

	CALL_INT(c, vgalloc_blob_map(c->f->dev, blob, &c->out_ptr));
}

static void blob_unmap__null_dev(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_unmap(NULL, blob));
}

static void blob_unmap__destroyed(struct ctx *c)
{
	struct vgalloc_blob *blob = destroyed_blob(c);

	CALL_INT(c, vgalloc_blob_unmap(c->f->dev, blob));
}

static void blob_unmap__not_mapped(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_unmap(c->f->dev, blob));
}

static struct vgalloc_blob *shareable_blob(struct ctx *c)
{
	return keep_blob(c, c->f->dev, VGALLOC_BLOB_MEM_GUEST, VGALLOC_BLOB_FLAG_SHAREABLE, 4096);
}

static void blob_export_dmabuf__null_dev(struct ctx *c)
{
	struct vgalloc_blob *blob = shareable_blob(c);

	CALL_INT(c, vgalloc_blob_export_dmabuf(NULL, blob, &c->out_fd));
}

static void blob_export_dmabuf__null_out(struct ctx *c)
{
	struct vgalloc_blob *blob = shareable_blob(c);

	CALL_INT(c, vgalloc_blob_export_dmabuf(c->f->dev, blob, NULL));
}

static void blob_export_dmabuf__destroyed(struct ctx *c)
{
	struct vgalloc_blob *blob = destroyed_blob(c);

	CALL_INT(c, vgalloc_blob_export_dmabuf(c->f->dev, blob, &c->out_fd));
}

static void blob_export_dmabuf__not_shareable(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_export_dmabuf(c->f->dev, blob, &c->out_fd));
}

static void import(struct ctx *c, struct vgalloc_device *dev, int fd, uint32_t blob_flags,
                   struct vgalloc_blob **out)
{
	struct vgalloc_blob_import_info info = { .struct_size = sizeof(info),
		                                 .blob_flags = blob_flags };

	CALL_INT(c, vgalloc_blob_import_dmabuf(dev, fd, &info, out));
}

static void blob_import_dmabuf__null_dev(struct ctx *c)
{
	import(c, NULL, foreign_fd(c), VGALLOC_BLOB_FLAG_MAPPABLE, &c->out_blob);
}

static void blob_import_dmabuf__null_out(struct ctx *c)
{
	import(c, c->f->dev, foreign_fd(c), VGALLOC_BLOB_FLAG_MAPPABLE, NULL);
}

static void blob_import_dmabuf__fd_negative(struct ctx *c)
{
	import(c, c->f->dev, -1, VGALLOC_BLOB_FLAG_MAPPABLE, &c->out_blob);
}

static void blob_import_dmabuf__fd_closed(struct ctx *c)
{
	import(c, c->f->dev, closed_fd(), VGALLOC_BLOB_FLAG_MAPPABLE, &c->out_blob);
}

static void blob_import_dmabuf__not_dmabuf(struct ctx *c)
{
	import(c, c->f->dev, pipe_fd(c), VGALLOC_BLOB_FLAG_MAPPABLE, &c->out_blob);
}

/* A dma-buf of this device's exported memory: its blob is in the dedup table. */
static int tracked_fd(struct ctx *c)
{
	struct vgalloc_mem *mem =
	        keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 65536, 0, VGALLOC_HANDLE_TYPE_DMA_BUF);
	int fd = -1;

	assert_int_equal(vgalloc_mem_export(c->f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd), 0);
	return keep_fd(c, fd);
}

static void blob_import_dmabuf__flags_missing(struct ctx *c)
{
	import(c, c->f->dev, tracked_fd(c),
	       VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_CROSS_DEVICE, &c->out_blob);
}

/* A dma-buf of a GUEST blob of this device whose blob is gone (the device holds no handle). */
static int guest_fd(struct ctx *c)
{
	struct vgalloc_blob *blob =
	        create_blob(c->f->dev, VGALLOC_BLOB_MEM_GUEST, VGALLOC_BLOB_FLAG_SHAREABLE, 4096);
	int fd = -1;

	assert_int_equal(vgalloc_blob_export_dmabuf(c->f->dev, blob, &fd), 0);
	assert_int_equal(vgalloc_blob_destroy(c->f->dev, blob), 0);
	return keep_fd(c, fd);
}

static void blob_import_dmabuf__other_blob_mem(struct ctx *c)
{
	import(c, c->f->dev, guest_fd(c), 0, &c->out_blob);
}

static void query(struct ctx *c, struct vgalloc_device *dev, int fd, uint32_t size, bool null_info)
{
	struct vgalloc_blob_info info = { .struct_size = size };

	CALL_INT(c, vgalloc_blob_query_dmabuf(dev, fd, null_info ? NULL : &info));
}

static void blob_query_dmabuf__null_dev(struct ctx *c)
{
	query(c, NULL, foreign_fd(c), sizeof(struct vgalloc_blob_info), false);
}

static void blob_query_dmabuf__null_info(struct ctx *c)
{
	query(c, c->f->dev, foreign_fd(c), 0, true);
}

static void blob_query_dmabuf__struct_size_small(struct ctx *c)
{
	query(c, c->f->dev, foreign_fd(c), 8, false);
}

static void blob_query_dmabuf__fd_negative(struct ctx *c)
{
	query(c, c->f->dev, -1, sizeof(struct vgalloc_blob_info), false);
}

static void blob_query_dmabuf__fd_closed(struct ctx *c)
{
	query(c, c->f->dev, closed_fd(), sizeof(struct vgalloc_blob_info), false);
}

static void blob_query_dmabuf__not_dmabuf(struct ctx *c)
{
	query(c, c->f->dev, pipe_fd(c), sizeof(struct vgalloc_blob_info), false);
}

static void blob_query_dmabuf__other_blob_mem(struct ctx *c)
{
	query(c, c->f->dev, guest_fd(c), sizeof(struct vgalloc_blob_info), false);
}

static void blob_wrap_handle__null_dev(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_wrap_handle(NULL, 1, 0, &c->out_blob));
}

static void blob_wrap_handle__null_out(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_wrap_handle(c->f->dev, 1, 0, NULL));
}

static void blob_wrap_handle__handle_0(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_wrap_handle(c->f->dev, 0, 0, &c->out_blob));
}

/* A GEM handle the consumer made on the fixture's mock, closed after the checks. */
static uint32_t raw_handle(struct ctx *c, uint32_t blob_mem, uint32_t flags, uint64_t blob_id)
{
	uint32_t handle = 0, res = 0;

	assert_int_equal(
	        vgalloc_mock_blob_create(c->f->mock, blob_mem, flags, 4096, blob_id, &handle, &res),
	        0);
	assert_true(c->nhandles < MAX_KEEP);
	c->handles[c->nhandles++] = handle;
	return handle;
}

static void blob_wrap_handle__unknown_flags(struct ctx *c)
{
	uint32_t h = raw_handle(c, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 0);

	CALL_INT(c, vgalloc_blob_wrap_handle(c->f->dev, h, BIT31, &c->out_blob));
}

static void blob_wrap_handle__unknown_handle(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_wrap_handle(c->f->dev, 4242, 0, &c->out_blob));
}

static void blob_wrap_handle__guest_blob(struct ctx *c)
{
	uint32_t h = raw_handle(c, VGALLOC_BLOB_MEM_GUEST, 0, 0);

	CALL_INT(c, vgalloc_blob_wrap_handle(c->f->dev, h, 0, &c->out_blob));
}

static void blob_wrap_handle__flags_missing(struct ctx *c)
{
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	struct vgalloc_blob *blob = mappable_blob(c);

	assert_int_equal(vgalloc_blob_get_info(c->f->dev, blob, &info), 0);
	CALL_INT(c,
	         vgalloc_blob_wrap_handle(c->f->dev, info.gem_handle,
	                                  VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE,
	                                  &c->out_blob));
}

static void blob_info(struct ctx *c, struct vgalloc_device *dev, struct vgalloc_blob *blob,
                      uint32_t size, bool null_info)
{
	struct vgalloc_blob_info info = { .struct_size = size };

	CALL_INT(c, vgalloc_blob_get_info(dev, blob, null_info ? NULL : &info));
}

static void blob_get_info__null_dev(struct ctx *c)
{
	blob_info(c, NULL, mappable_blob(c), sizeof(struct vgalloc_blob_info), false);
}

static void blob_get_info__null_info(struct ctx *c)
{
	blob_info(c, c->f->dev, mappable_blob(c), 0, true);
}

static void blob_get_info__destroyed(struct ctx *c)
{
	blob_info(c, c->f->dev, destroyed_blob(c), sizeof(struct vgalloc_blob_info), false);
}

static void blob_get_info__struct_size_small(struct ctx *c)
{
	blob_info(c, c->f->dev, mappable_blob(c), 8, false);
}

static void blob_destroy__null_dev(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_blob_destroy(NULL, blob));
}

static void blob_destroy__null_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, NULL));
}

static void blob_destroy__double(struct ctx *c)
{
	struct vgalloc_blob *blob = destroyed_blob(c);

	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, blob));
}

static void blob_destroy__other_device(struct ctx *c)
{
	struct vgalloc_device *other = adopt_dev(c, NULL);
	struct vgalloc_blob *blob =
	        keep_blob(c, other, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 65536);

	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, blob));
}

static void blob_destroy__not_a_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, (struct vgalloc_blob *)c->junk));
}

static void blob_destroy__mem_pointer(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_DEVICE_LOCAL, 4096, 0, 0);

	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, (struct vgalloc_blob *)(void *)mem));
}

static void blob_destroy__backs_memory(struct ctx *c)
{
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mem *mem =
	        keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 65536, 0, VGALLOC_HANDLE_TYPE_DMA_BUF);

	assert_int_equal(vgalloc_mem_get_info(c->f->dev, mem, &info), 0);
	assert_non_null(info.blob);
	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, info.blob));
}

static struct vgalloc_blob *keep_shmem(struct ctx *c, uint64_t size)
{
	struct vgalloc_blob *blob = NULL;
	void *ptr = NULL;

	assert_int_equal(vgalloc_shmem_create(c->f->dev, size, &blob, &ptr), 0);
	assert_true(c->nshmems < MAX_KEEP);
	c->shmems[c->nshmems++] = blob;
	return blob;
}

static void blob_unmap__shmem(struct ctx *c)
{
	struct vgalloc_blob *blob = keep_shmem(c, 4096);

	CALL_INT(c, vgalloc_blob_unmap(c->f->dev, blob));
}

static void blob_destroy__shmem(struct ctx *c)
{
	struct vgalloc_blob *blob = keep_shmem(c, 4096);

	CALL_INT(c, vgalloc_blob_destroy(c->f->dev, blob));
}

static void shmem(struct ctx *c, struct vgalloc_device *dev, uint64_t size, bool null_blob,
                  bool null_ptr)
{
	CALL_INT(c, vgalloc_shmem_create(dev, size, null_blob ? NULL : &c->out_blob,
	                                 null_ptr ? NULL : &c->out_ptr));
}

static void shmem_create__null_dev(struct ctx *c)
{
	shmem(c, NULL, 4096, false, false);
}

static void shmem_create__null_out_blob(struct ctx *c)
{
	shmem(c, c->f->dev, 4096, true, false);
}

static void shmem_create__null_out_ptr(struct ctx *c)
{
	shmem(c, c->f->dev, 4096, false, true);
}

static void shmem_create__size_zero(struct ctx *c)
{
	shmem(c, c->f->dev, 0, false, false);
}

static void shmem_create__size_overflow(struct ctx *c)
{
	shmem(c, c->f->dev, UINT64_MAX - 100, false, false);
}

/* Runs on the fixture variant the case names. */
static void shmem_create__4k(struct ctx *c)
{
	shmem(c, c->f->dev, 4096, false, false);
}

static void shmem_create__2m(struct ctx *c)
{
	shmem(c, c->f->dev, 2u << 20, false, false);
}

static void shmem_destroy__null_dev(struct ctx *c)
{
	struct vgalloc_blob *blob = keep_shmem(c, 4096);

	CALL_INT(c, vgalloc_shmem_destroy(NULL, blob));
}

static void shmem_destroy__null_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, NULL));
}

static void shmem_destroy__ordinary_blob(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, blob));
}

static void shmem_destroy__double(struct ctx *c)
{
	struct vgalloc_blob *blob = NULL;
	void *ptr = NULL;

	/* A power-of-two size: the first destroy puts it in the cache, where it stays live. */
	assert_int_equal(vgalloc_shmem_create(c->f->dev, 4096, &blob, &ptr), 0);
	assert_int_equal(vgalloc_shmem_destroy(c->f->dev, blob), 0);
	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, blob));
}

static void shmem_destroy__released(struct ctx *c)
{
	struct vgalloc_blob *blob = NULL;
	void *ptr = NULL;

	/* Not a power of two: the first destroy releases it. */
	assert_int_equal(vgalloc_shmem_create(c->f->dev, 12288, &blob, &ptr), 0);
	assert_int_equal(vgalloc_shmem_destroy(c->f->dev, blob), 0);
	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, blob));
}

static void shmem_destroy__not_a_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, (struct vgalloc_blob *)c->junk));
}

static void shmem_destroy__other_device(struct ctx *c)
{
	struct vgalloc_device *other = adopt_dev(c, NULL);
	struct vgalloc_blob *blob = NULL;
	void *ptr = NULL;

	assert_int_equal(vgalloc_shmem_create(other, 12288, &blob, &ptr), 0);
	assert_true(c->nshmems < MAX_KEEP);
	c->shmem_devs[c->nshmems] = other;
	c->shmems[c->nshmems++] = blob;
	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, blob));
}

/* ---------------------------------------------------------------------------------------------
 * Memory.
 */

static void mem_alloc__null_dev(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

	CALL_INT(c, vgalloc_mem_alloc(NULL, &r, &c->out_mem));
}

static void mem_alloc__null_req(struct ctx *c)
{
	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, NULL, &c->out_mem));
}

static void mem_alloc__null_out(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, &r, NULL));
}

static void alloc_import(struct ctx *c, int fd, uint64_t size)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, size);

	r.flags = VGALLOC_REQUEST_IMPORT_FD;
	r.import_fd = fd;
	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, &r, &c->out_mem));
}

static void mem_alloc__import_fd_closed(struct ctx *c)
{
	alloc_import(c, closed_fd(), 4096);
}

static void mem_alloc__import_not_dmabuf(struct ctx *c)
{
	alloc_import(c, pipe_fd(c), 4096);
}

static void mem_alloc__import_too_small(struct ctx *c)
{
	alloc_import(c, foreign_fd(c), 1u << 20);
}

static void mem_alloc__import_other_blob_mem(struct ctx *c)
{
	alloc_import(c, guest_fd(c), 4096);
}

static void mem_alloc__no_hooks(struct ctx *c)
{
	struct vgalloc_device *dev = adopt_dev(c, NULL);
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

	CALL_INT(c, vgalloc_mem_alloc(dev, &r, &c->out_mem));
}

static void mem_alloc__hook_error(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_DEVICE_LOCAL, 4096);

	assert_int_equal(vgalloc_mock_fail_nth(c->f->mock, VGALLOC_MOCK_CALL_HOST_ALLOC, 1, EPROTO),
	                 0);
	c->fault_armed = true;
	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, &r, &c->out_mem));
}

static void mem_alloc__blob_id_zero(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_DEVICE_LOCAL, 4096);

	r.flags = VGALLOC_REQUEST_BLOB_ID;
	CALL_INT(c, vgalloc_mem_alloc(c->f->dev, &r, &c->out_mem));
}

static void mem_map__null_dev(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_map(NULL, mem, &c->out_ptr));
}

static void mem_map__null_out(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_map(c->f->dev, mem, NULL));
}

static void mem_map__null_mem(struct ctx *c)
{
	CALL_INT(c, vgalloc_mem_map(c->f->dev, NULL, &c->out_ptr));
}

static void mem_map__freed(struct ctx *c)
{
	struct vgalloc_mem *mem = freed_mem(c, TYPE_HOST_COHERENT);

	CALL_INT(c, vgalloc_mem_map(c->f->dev, mem, &c->out_ptr));
}

static void mem_map__other_device(struct ctx *c)
{
	struct vgalloc_device *other = adopt_dev(c, &c->f->hooks);
	struct vgalloc_mem *mem = keep_mem(c, other, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_map(c->f->dev, mem, &c->out_ptr));
}

static void mem_map__device_local(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_DEVICE_LOCAL, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_map(c->f->dev, mem, &c->out_ptr));
}

static void mem_map__window_full(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 2u << 20,
	                                   VGALLOC_REQUEST_DEDICATED_REQUIRED, 0);

	drain_host(c);
	CALL_INT(c, vgalloc_mem_map(c->f->dev, mem, &c->out_ptr));
}

static void mem_unmap__null_dev(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_unmap(NULL, mem));
}

static void mem_unmap__freed(struct ctx *c)
{
	struct vgalloc_mem *mem = freed_mem(c, TYPE_HOST_COHERENT);

	CALL_INT(c, vgalloc_mem_unmap(c->f->dev, mem));
}

static void mem_unmap__not_mapped(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_unmap(c->f->dev, mem));
}

static struct vgalloc_mem *exportable_mem(struct ctx *c)
{
	return keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 65536, 0,
	                VGALLOC_HANDLE_TYPE_DMA_BUF | VGALLOC_HANDLE_TYPE_OPAQUE_FD);
}

static void mem_export__null_dev(struct ctx *c)
{
	struct vgalloc_mem *mem = exportable_mem(c);

	CALL_INT(c, vgalloc_mem_export(NULL, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &c->out_fd));
}

static void mem_export__null_out(struct ctx *c)
{
	struct vgalloc_mem *mem = exportable_mem(c);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, NULL));
}

static void mem_export__freed(struct ctx *c)
{
	struct vgalloc_mem *mem = freed_mem(c, TYPE_HOST_COHERENT);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &c->out_fd));
}

static void mem_export__not_exportable(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &c->out_fd));
}

static void mem_export__other_type(struct ctx *c)
{
	struct vgalloc_mem *mem =
	        keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 65536, 0, VGALLOC_HANDLE_TYPE_DMA_BUF);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem, VGALLOC_HANDLE_TYPE_OPAQUE_FD, &c->out_fd));
}

static void mem_export__two_types(struct ctx *c)
{
	struct vgalloc_mem *mem = exportable_mem(c);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem,
	                               VGALLOC_HANDLE_TYPE_DMA_BUF | VGALLOC_HANDLE_TYPE_OPAQUE_FD,
	                               &c->out_fd));
}

static void mem_export__type_0(struct ctx *c)
{
	struct vgalloc_mem *mem = exportable_mem(c);

	CALL_INT(c, vgalloc_mem_export(c->f->dev, mem, 0, &c->out_fd));
}

static void mem_info(struct ctx *c, struct vgalloc_device *dev, struct vgalloc_mem *mem,
                     uint32_t size, bool null_info)
{
	struct vgalloc_mem_info info = { .struct_size = size };

	CALL_INT(c, vgalloc_mem_get_info(dev, mem, null_info ? NULL : &info));
}

static void mem_get_info__null_dev(struct ctx *c)
{
	mem_info(c, NULL, keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0),
	         sizeof(struct vgalloc_mem_info), false);
}

static void mem_get_info__null_info(struct ctx *c)
{
	mem_info(c, c->f->dev, keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0), 0, true);
}

static void mem_get_info__freed(struct ctx *c)
{
	mem_info(c, c->f->dev, freed_mem(c, TYPE_HOST_COHERENT), sizeof(struct vgalloc_mem_info),
	         false);
}

static void mem_get_info__struct_size_small(struct ctx *c)
{
	mem_info(c, c->f->dev, keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0), 8, false);
}

static void mem_free__null_dev(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_free(NULL, mem));
}

static void mem_free__null_mem(struct ctx *c)
{
	CALL_INT(c, vgalloc_mem_free(c->f->dev, NULL));
}

static void mem_free__double(struct ctx *c)
{
	struct vgalloc_mem *mem = freed_mem(c, TYPE_DEVICE_LOCAL);

	CALL_INT(c, vgalloc_mem_free(c->f->dev, mem));
}

static void mem_free__double_suballoc(struct ctx *c)
{
	struct vgalloc_mem *mem = freed_mem(c, TYPE_HOST_COHERENT);

	CALL_INT(c, vgalloc_mem_free(c->f->dev, mem));
}

static void mem_free__other_device(struct ctx *c)
{
	struct vgalloc_device *other = adopt_dev(c, &c->f->hooks);
	struct vgalloc_mem *mem = keep_mem(c, other, TYPE_HOST_COHERENT, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_free(c->f->dev, mem));
}

static void mem_free__interior(struct ctx *c)
{
	struct vgalloc_mem *mem = keep_mem(c, c->f->dev, TYPE_DEVICE_LOCAL, 4096, 0, 0);

	CALL_INT(c, vgalloc_mem_free(c->f->dev, (struct vgalloc_mem *)(void *)((char *)mem + 8)));
}

static void mem_free__not_a_mem(struct ctx *c)
{
	CALL_INT(c, vgalloc_mem_free(c->f->dev, (struct vgalloc_mem *)c->junk));
}

static void mem_free__blob_pointer(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_mem_free(c->f->dev, (struct vgalloc_mem *)(void *)blob));
}

/* ---------------------------------------------------------------------------------------------
 * Policy.
 */

static void plan_request__null_dev(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };

	CALL_INT(c, vgalloc_plan_request(NULL, &r, &plan));
}

static void plan_request__null_req(struct ctx *c)
{
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };

	CALL_INT(c, vgalloc_plan_request(c->f->dev, NULL, &plan));
}

static void plan_request__null_plan(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);

	CALL_INT(c, vgalloc_plan_request(c->f->dev, &r, NULL));
}

static void plan_request__plan_size_small(struct ctx *c)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_plan plan = { .struct_size = 8 };

	CALL_INT(c, vgalloc_plan_request(c->f->dev, &r, &plan));
}

static void plan_explain__null_dev(struct ctx *c)
{
	char buf[64];

	CALL_INT(c, vgalloc_plan_explain(NULL, NULL, buf, sizeof(buf)));
}

static void plan_explain__null_buf(struct ctx *c)
{
	CALL_INT(c, vgalloc_plan_explain(c->f->dev, NULL, NULL, 64));
}

/* ---------------------------------------------------------------------------------------------
 * The mock.
 */

static void mock_create__null_info(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_create(NULL, &c->out_mock));
}

static void mock_create__null_out(struct ctx *c)
{
	struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi) };

	CALL_INT(c, vgalloc_mock_create(&mi, NULL));
}

static void mock_destroy__null(struct ctx *c)
{
	CALL_VOID(c, vgalloc_mock_destroy(NULL));
}

static void mock_call_name__unknown(struct ctx *c)
{
	CALL_STR(c, vgalloc_mock_call_name(VGALLOC_MOCK_CALL_COUNT));
}

static void mock_call_failable__unknown(struct ctx *c)
{
	CALL_BOOL(c, vgalloc_mock_call_failable(VGALLOC_MOCK_CALL_COUNT));
}

static void mock_get_ledger__null_mock(struct ctx *c)
{
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };

	CALL_INT(c, vgalloc_mock_get_ledger(NULL, &l));
}

static void mock_get_ledger__null_ledger(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_get_ledger(c->f->mock, NULL));
}

static void mock_get_ledger__struct_size_small(struct ctx *c)
{
	struct vgalloc_mock_ledger l = { .struct_size = 8 };

	CALL_INT(c, vgalloc_mock_get_ledger(c->f->mock, &l));
}

static void mock_reset_counters__null(struct ctx *c)
{
	CALL_VOID(c, vgalloc_mock_reset_counters(NULL));
}

static void mock_get_trace__null_mock(struct ctx *c)
{
	struct vgalloc_mock_trace_entry e[4];

	CALL_INT(c, vgalloc_mock_get_trace(NULL, e, 4));
}

static void mock_get_trace__null_entries(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_get_trace(c->f->mock, NULL, 4));
}

static void mock_format_entry__null_entry(struct ctx *c)
{
	char buf[64];

	CALL_INT(c, vgalloc_mock_format_entry(NULL, buf, sizeof(buf)));
}

static void mock_format_entry__null_buf(struct ctx *c)
{
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_BLOB_CREATE };

	CALL_INT(c, vgalloc_mock_format_entry(&e, NULL, 16));
}

static void mock_fail_nth__null_mock(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_fail_nth(NULL, VGALLOC_MOCK_CALL_HOST_ALLOC, 1, ENOMEM));
}

static void mock_fail_nth__nth_0(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_fail_nth(c->f->mock, VGALLOC_MOCK_CALL_HOST_ALLOC, 0, ENOMEM));
}

static void mock_fail_nth__err_negative(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_fail_nth(c->f->mock, VGALLOC_MOCK_CALL_HOST_ALLOC, 1, -ENOMEM));
}

static void mock_fail_nth__not_failable(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_fail_nth(c->f->mock, VGALLOC_MOCK_CALL_HOST_FREE, 1, ENOMEM));
}

static void mock_fail_clear__null(struct ctx *c)
{
	CALL_VOID(c, vgalloc_mock_fail_clear(NULL));
}

static void mock_fail_fired__null(struct ctx *c)
{
	CALL_BOOL(c, vgalloc_mock_fail_fired(NULL));
}

static void mock_set_capset__null_mock(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_set_capset(NULL, VGALLOC_CAPSET_VIRGL, 1, c->bytes, 4));
}

static void mock_set_capset__id_0(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_set_capset(c->f->mock, 0, 1, c->bytes, 4));
}

static void mock_set_capset__id_64(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_set_capset(c->f->mock, 64, 1, c->bytes, 4));
}

static void mock_set_capset__null_data(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_set_capset(c->f->mock, VGALLOC_CAPSET_VIRGL, 1, NULL, 4));
}

static void mock_get_fd__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_get_fd(NULL));
}

static void mock_context_init__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_context_init(NULL, VGALLOC_CAPSET_VENUS));
}

static void mock_context_init__exists(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_context_init(c->f->mock, VGALLOC_CAPSET_VENUS));
}

static void mock_context_init__not_offered(struct ctx *c)
{
	struct vgalloc_mock *m = scratch_mock(c, &(struct fx_opts){ 0 });

	CALL_INT(c, vgalloc_mock_context_init(m, VGALLOC_CAPSET_CROSS_DOMAIN));
}

static void mock_blob(struct ctx *c, struct vgalloc_mock *m, uint32_t blob_mem, uint32_t flags,
                      uint64_t size, uint64_t blob_id)
{
	uint32_t handle = OUT_VALUE & 0xffff, res = OUT_VALUE & 0xffff;

	CALL_INT(c, vgalloc_mock_blob_create(m, blob_mem, flags, size, blob_id, &handle, &res));
	assert_int_equal(handle, OUT_VALUE & 0xffff);
	assert_int_equal(res, OUT_VALUE & 0xffff);
}

static void mock_blob_create__null(struct ctx *c)
{
	mock_blob(c, NULL, VGALLOC_BLOB_MEM_GUEST, 0, 4096, 0);
}

static void mock_blob_create__blob_mem_0(struct ctx *c)
{
	mock_blob(c, c->f->mock, 0, 0, 4096, 0);
}

static void mock_blob_create__size_0(struct ctx *c)
{
	mock_blob(c, c->f->mock, VGALLOC_BLOB_MEM_GUEST, 0, 0, 0);
}

static void mock_blob_create__guest_blob_id(struct ctx *c)
{
	mock_blob(c, c->f->mock, VGALLOC_BLOB_MEM_GUEST, 0, 4096, 7);
}

static void mock_blob_create__unknown_flag(struct ctx *c)
{
	mock_blob(c, c->f->mock, VGALLOC_BLOB_MEM_GUEST, BIT31, 4096, 0);
}

static void mock_blob_create__cross_device(struct ctx *c)
{
	mock_blob(c, c->f->mock, VGALLOC_BLOB_MEM_GUEST, VGALLOC_BLOB_FLAG_CROSS_DEVICE, 4096, 0);
}

static void mock_gem_close__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_gem_close(NULL, 1));
}

static void mock_gem_close__unknown_handle(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_gem_close(c->f->mock, 4242));
}

static void host_alloc(struct ctx *c, struct vgalloc_mock *m, uint64_t blob_id, uint64_t size)
{
	uint64_t host = OUT_VALUE;

	CALL_INT(c, vgalloc_mock_host_alloc(m, blob_id, size, &host, &c->out_value));
	assert_true(host == OUT_VALUE);
}

static void mock_host_alloc__null(struct ctx *c)
{
	host_alloc(c, NULL, 4343, 4096);
}

static void mock_host_alloc__blob_id_0(struct ctx *c)
{
	host_alloc(c, c->f->mock, 0, 4096);
}

static void mock_host_alloc__size_0(struct ctx *c)
{
	host_alloc(c, c->f->mock, 4343, 0);
}

static void mock_host_alloc__id_in_use(struct ctx *c)
{
	uint64_t token = 0;

	assert_true(c->nhosts < MAX_KEEP);
	assert_int_equal(
	        vgalloc_mock_host_alloc(c->f->mock, 4343, 4096, &c->hosts[c->nhosts], &token), 0);
	c->nhosts++;
	assert_int_equal(vgalloc_mock_host_wait(c->f->mock, token), 0);
	host_alloc(c, c->f->mock, 4343, 4096);
}

static void mock_host_wait__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_host_wait(NULL, 0));
}

static void mock_host_wait__unknown_token(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_host_wait(c->f->mock, 1ull << 40));
}

static void mock_host_wait_cmd__null_cmd(struct ctx *c)
{
	uint32_t size = 16;

	CALL_INT(c, vgalloc_mock_host_wait_cmd(c->f->mock, 1, NULL, &size));
}

static void mock_host_wait_cmd__too_small(struct ctx *c)
{
	uint32_t size = 8;

	CALL_INT(c, vgalloc_mock_host_wait_cmd(c->f->mock, 1, c->bytes, &size));
	assert_int_equal(size, 8);
}

static void mock_host_roundtrip__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_host_roundtrip(NULL));
}

static void mock_host_import__null(struct ctx *c)
{
	uint64_t host = OUT_VALUE;

	CALL_INT(c, vgalloc_mock_host_import(NULL, 1, 4096, 4343, &host, &c->out_value));
	assert_true(host == OUT_VALUE);
}

static void mock_host_import__unknown_res(struct ctx *c)
{
	uint64_t host = OUT_VALUE;

	CALL_INT(c, vgalloc_mock_host_import(c->f->mock, 4242, 4096, 4343, &host, &c->out_value));
	assert_true(host == OUT_VALUE);
}

static void mock_host_free__null(struct ctx *c)
{
	CALL_VOID(c, vgalloc_mock_host_free(NULL, 1));
}

static void mock_get_hooks__null_mock(struct ctx *c)
{
	struct vgalloc_host_hooks h;

	CALL_INT(c, vgalloc_mock_get_hooks(NULL, 0, &h));
}

static void mock_get_hooks__null_out(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_get_hooks(c->f->mock, 0, NULL));
}

static void mock_get_hooks__unknown_flag(struct ctx *c)
{
	struct vgalloc_host_hooks h;

	CALL_INT(c, vgalloc_mock_get_hooks(c->f->mock, BIT31, &h));
}

/* ---------------------------------------------------------------------------------------------
 * The table. Ids are stable: docs/errors.md names them.
 */

/* clang-format off */
#define C(id_, fn_, run_, ...)   { .id = id_, .fn = #fn_, .run = run_, __VA_ARGS__ }
/* A case whose run function is <function>__<name>. */
#define ONE(f, n)                C(#f "." #n, vgalloc_##f, f##__##n, .allow = 0)
/* A case of a runner: its valid input with these pokes. */
#define WITH(f, n, run, ...)     C(#f "." n, vgalloc_##f, run, .pokes = { __VA_ARGS__ })
#define DC(n, ...)               WITH(device_create, n, device_create__with, __VA_ARGS__)
#define DT(n, ...)               WITH(device_create, n, device_create__with_types, __VA_ARGS__)
#define DH(n, ...)               WITH(device_create, n, device_create__with_hooks, __VA_ARGS__)
#define BC(n, ...)               WITH(blob_create, n, blob_create__with, __VA_ARGS__)
#define BI(n, ...)               WITH(blob_import_dmabuf, n, blob_import_dmabuf__with, __VA_ARGS__)
#define MA(n, ...)               WITH(mem_alloc, n, mem_alloc__with, __VA_ARGS__)
#define PR(n, ...)               WITH(plan_request, n, plan_request__with, __VA_ARGS__)
#define PE(n, ...)               WITH(plan_explain, n, plan_explain__with, __VA_ARGS__)
#define MC(n, ...)               WITH(mock_create, n, mock_create__with, __VA_ARGS__)
/* clang-format on */

static const struct errcase cases[] = {
	ONE(capset_parse, null_info),
	ONE(capset_parse, struct_size_small),
	ONE(capset_parse, null_data),
	ONE(capset_parse, size_zero),
	ONE(capset_parse, bad_source),
	ONE(capset_parse, unknown_id),
	ONE(capset_parse, file_truncated),
	ONE(capset_parse, venus_wire0),
	ONE(capset_parse, venus_guest_vram2),
	ONE(capset_parse, device_zeros),
	ONE(capset_parse, gfxstream_alignment),
	ONE(capset_parse, cross_domain_bool),
	ONE(capset_parse, drm_context_type0),
	ONE(capset_parse, virgl_version0),
	ONE(capset_name, zero),
	ONE(capset_name, unknown),
	ONE(param_name, zero),
	ONE(param_name, past_flavour),
	ONE(param_name, unknown_flavour),

	ONE(device_create, null_out),
	ONE(device_create, null_info),
	DC("struct_size_small", P(DCI, struct_size, 8)),
	DC("struct_size_below_v0", P(DCI, struct_size, 244)),
	DC("unknown_tail", TAIL(DCI)),
	DC("mode_0", P(DCI, mode, 0)),
	DC("adopt_not_ready", P(DCI, mode, VGALLOC_DEVICE_MODE_ADOPT)),
	DC("unknown_flag", P(DCI, flags, BIT31)),
	DC("reserved", P(DCI, reserved, 1)),
	DC("pool_shards", P(DCI, pool_shards, 17)),
	DC("min_block_not_pow2", P(DCI, min_block_size, 3u << 20)),
	DC("min_block_small", P(DCI, min_block_size, 2048)),
	DC("max_below_min", P(DCI, min_block_size, 8u << 20), P(DCI, max_block_size, 4u << 20)),
	DC("flavour", P(DCI, flavour, 3)),
	DC("host_page_not_pow2", P(DCI, host_page_size, 12288)),
	DC("host_page_large", P(DCI, host_page_size, 2u << 20)),
	DC("self_test_flags", P(DCI, self_test_blob_flags, BIT31)),
	DC("alloc_mode", P(DCI, alloc_mode, 3)),
	DC("hypervisor_hint", P(DCI, hypervisor_hint, 3)),
	DC("log_level", P(DCI, log_level, 5)),
	DC("capset_id_0", P(DCI, capset_id, 0)),
	DC("num_rings", P(DCI, num_rings, 65)),
	DC("param_0", P(DCI, params_present, 1)),
	DC("param_past_max", P(DCI, params_present, 1u << 16)),
	DC("backend_0", P(DCI, backend, 0)),
	DC("backend_object_null", P(DCI, backend_object, 0)),
	DC("virtgpu_adopt_fd_negative", P(DCI, backend, VGALLOC_BACKEND_VIRTGPU),
	   P(DCI, mode, VGALLOC_DEVICE_MODE_ADOPT), P(DCI, flags, VGALLOC_DEVICE_CONTEXT_READY),
	   P(DCI, fd, -1)),
	DC("types_null", P(DCI, memory_types, 0)),
	DC("type_count", P(DCI, memory_type_count, 65)),
	DT("type_struct_size_small", PT(0, struct_size, 40)),
	DT("type_sizes_differ", PT(1, struct_size, 56)),
	DT("type_unknown_flag", PT(2, flags, BIT31)),
	DT("type_unknown_property",
	   PT(0, property_flags, VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL | BIT31)),
	DT("type_alignment", PT(1, min_map_alignment, 48)),
	DT("type_duplicate", PT(2, host_index, 1)),
	DH("hooks_struct_size_small", P(HOOKS, struct_size, 8)),
	DH("hooks_unknown_tail", TAIL(HOOKS)),
	DH("hooks_incomplete", P(HOOKS, host_free, 0)),
	DH("hooks_reserved", P(HOOKS, reserved, 1)),
	DC("capset_not_offered", P(DCI, capset_id, VGALLOC_CAPSET_CROSS_DOMAIN)),
	DC("capset_id_64", P(DCI, capset_id, 64)),
	DC("context_exists", { 0 }),
	ONE(device_create, not_a_mock),
	ONE(device_create, backend_reserved),
	ONE(device_create, allocator_incomplete),
	ONE(device_create, allocator_fails),
	ONE(device_create, capset_data_size_0),
	ONE(device_create, virtgpu_not_drm),
	ONE(device_create, virtgpu_fd_closed),
	ONE(device_create, type_unknown_tail),
	ONE(device_create, no_3d),
	ONE(device_create, adopt_no_blob),
	C("device_create.self_test_fails", vgalloc_device_create, device_create__self_test_fails,
	  .allow = ALLOW_CONTEXT),
	ONE(device_create, capset_too_big),
	ONE(device_create, capset_invalid),
	ONE(device_destroy, null),
	ONE(device_get_fd, null),
	ONE(device_get_param, null_dev),
	ONE(device_get_param, null_value),
	ONE(device_get_param, past_max),
	ONE(device_get_param, zero),
	ONE(device_get_param, absent),
	ONE(device_read_capset, null_dev),
	ONE(device_read_capset, null_info),
	ONE(device_read_capset, struct_size_small),
	ONE(device_read_capset, unknown_id),
	ONE(device_read_capset, not_offered),
	ONE(device_read_capset, host_dropped),
	ONE(device_read_capset, invalid),
	ONE(device_get_info, null_dev),
	ONE(device_get_info, null_info),
	ONE(device_get_info, struct_size_small),
	ONE(device_get_stats, null_dev),
	ONE(device_get_stats, null_stats),
	ONE(device_get_stats, struct_size_small),
	ONE(device_get_pool_stats, null_dev),
	ONE(device_get_pool_stats, null_stats),
	ONE(device_get_pool_stats, struct_size_small),
	ONE(device_get_pool_stats, no_pool),
	ONE(device_stats_json, null_dev),
	ONE(device_stats_json, null_buf),
	ONE(device_trim, null),

	ONE(blob_create, null_dev),
	ONE(blob_create, null_info),
	ONE(blob_create, null_out),
	BC("struct_size_small", P(BCI, struct_size, 8)),
	BC("unknown_tail", TAIL(BCI)),
	BC("size_zero", P(BCI, size, 0)),
	BC("size_overflow", P(BCI, size, UINT64_MAX - 100)),
	BC("blob_mem_0", P(BCI, blob_mem, 0)),
	BC("blob_mem_guest_vram", P(BCI, blob_mem, 4)),
	BC("unknown_flag", P(BCI, blob_flags, VGALLOC_BLOB_FLAG_MAPPABLE | BIT31)),
	BC("cmd_size_unaligned", P(BCI, cmd_size, 6)),
	BC("cmd_null", P(BCI, cmd_size, 16), P(BCI, cmd, 0)),
	BC("cmd_too_big", P(BCI, cmd_size, (1u << 20) + 4)),
	BC("guest_blob_id", P(BCI, blob_mem, VGALLOC_BLOB_MEM_GUEST), P(BCI, blob_id, 7)),
	BC("guest_cmd", P(BCI, blob_mem, VGALLOC_BLOB_MEM_GUEST), P(BCI, cmd_size, 16)),
	BC("cross_device",
	   P(BCI, blob_flags, VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_CROSS_DEVICE)),
	C("blob_create.no_window", vgalloc_blob_create, blob_create__with,
	  .opts = { .mock_flags = VGALLOC_MOCK_NO_WINDOW }),
	C("blob_create.window_full", vgalloc_blob_create, blob_create__with,
	  .opts = { .window = 1u << 20 }, .pokes = { P(BCI, size, 2u << 20) }),
	ONE(blob_map, null_dev),
	ONE(blob_map, null_out),
	ONE(blob_map, null_blob),
	ONE(blob_map, not_a_blob),
	ONE(blob_map, destroyed),
	ONE(blob_map, other_device),
	ONE(blob_map, not_mappable),
	C("blob_map.host_refused", vgalloc_blob_map, blob_map__host_refused,
	  .opts = { .host_page = 16384 }),
	ONE(blob_unmap, null_dev),
	ONE(blob_unmap, destroyed),
	ONE(blob_unmap, not_mapped),
	ONE(blob_unmap, shmem),
	ONE(blob_export_dmabuf, null_dev),
	ONE(blob_export_dmabuf, null_out),
	ONE(blob_export_dmabuf, destroyed),
	ONE(blob_export_dmabuf, not_shareable),
	ONE(blob_import_dmabuf, null_dev),
	ONE(blob_import_dmabuf, null_out),
	BI("struct_size_small", P(BII, struct_size, 8)),
	BI("unknown_tail", TAIL(BII)),
	BI("query_only", P(BII, flags, VGALLOC_IMPORT_QUERY_ONLY)),
	BI("unknown_flag", P(BII, flags, BIT31)),
	BI("unknown_blob_flags", P(BII, blob_flags, BIT31)),
	BI("reserved", P(BII, reserved, 1)),
	ONE(blob_import_dmabuf, fd_negative),
	ONE(blob_import_dmabuf, fd_closed),
	ONE(blob_import_dmabuf, not_dmabuf),
	BI("too_small", P(BII, size, 1u << 20)),
	ONE(blob_import_dmabuf, flags_missing),
	ONE(blob_import_dmabuf, other_blob_mem),
	ONE(blob_query_dmabuf, null_dev),
	ONE(blob_query_dmabuf, null_info),
	ONE(blob_query_dmabuf, struct_size_small),
	ONE(blob_query_dmabuf, fd_negative),
	ONE(blob_query_dmabuf, fd_closed),
	ONE(blob_query_dmabuf, not_dmabuf),
	ONE(blob_query_dmabuf, other_blob_mem),
	ONE(blob_wrap_handle, null_dev),
	ONE(blob_wrap_handle, null_out),
	ONE(blob_wrap_handle, handle_0),
	ONE(blob_wrap_handle, unknown_flags),
	ONE(blob_wrap_handle, unknown_handle),
	ONE(blob_wrap_handle, guest_blob),
	ONE(blob_wrap_handle, flags_missing),
	ONE(blob_get_info, null_dev),
	ONE(blob_get_info, null_info),
	ONE(blob_get_info, destroyed),
	ONE(blob_get_info, struct_size_small),
	ONE(blob_destroy, null_dev),
	ONE(blob_destroy, null_blob),
	ONE(blob_destroy, double),
	ONE(blob_destroy, other_device),
	ONE(blob_destroy, not_a_blob),
	ONE(blob_destroy, mem_pointer),
	ONE(blob_destroy, backs_memory),
	ONE(blob_destroy, shmem),
	ONE(shmem_create, null_dev),
	ONE(shmem_create, null_out_blob),
	ONE(shmem_create, null_out_ptr),
	ONE(shmem_create, size_zero),
	ONE(shmem_create, size_overflow),
	C("shmem_create.no_blob_id_0", vgalloc_shmem_create, shmem_create__4k,
	  .opts = { .mock_flags = VGALLOC_MOCK_NO_BLOB_ID_0 }),
	C("shmem_create.no_window", vgalloc_shmem_create, shmem_create__4k,
	  .opts = { .mock_flags = VGALLOC_MOCK_NO_WINDOW }),
	C("shmem_create.window_full", vgalloc_shmem_create, shmem_create__2m,
	  .opts = { .window = 1u << 20 }),
	C("shmem_create.host_refused", vgalloc_shmem_create, shmem_create__4k,
	  .opts = { .host_page = 16384 }),
	ONE(shmem_destroy, null_dev),
	ONE(shmem_destroy, null_blob),
	ONE(shmem_destroy, ordinary_blob),
	ONE(shmem_destroy, double),
	ONE(shmem_destroy, released),
	ONE(shmem_destroy, not_a_blob),
	ONE(shmem_destroy, other_device),

	ONE(mem_alloc, null_dev),
	ONE(mem_alloc, null_req),
	ONE(mem_alloc, null_out),
	MA("struct_size_small", P(REQ, struct_size, 8)),
	MA("unknown_tail", TAIL(REQ)),
	MA("size_zero", P(REQ, size, 0)),
	MA("size_max", P(REQ, size, UINT64_MAX)),
	MA("size_overflow", P(REQ, size, UINT64_MAX - 100)),
	MA("alignment_not_pow2", P(REQ, alignment, 3000)),
	MA("unknown_type", P(REQ, memory_type, 17)),
	MA("unknown_flag", P(REQ, flags, BIT31)),
	MA("unknown_allocate_flag", P(REQ, allocate_flags, BIT31)),
	MA("reserved", P(REQ, reserved, 1)),
	MA("import_fd_negative", P(REQ, flags, VGALLOC_REQUEST_IMPORT_FD), P(REQ, import_fd, -5)),
	ONE(mem_alloc, import_fd_closed),
	ONE(mem_alloc, import_not_dmabuf),
	ONE(mem_alloc, import_too_small),
	ONE(mem_alloc, import_other_blob_mem),
	MA("import_host_pointer", P(REQ, flags, VGALLOC_REQUEST_IMPORT_HOST_POINTER)),
	MA("import_ahb", P(REQ, flags, VGALLOC_REQUEST_IMPORT_AHB)),
	MA("export_unknown_type", P(REQ, export_handle_types, 0x10)),
	ONE(mem_alloc, no_hooks),
	C("mem_alloc.window_full", vgalloc_mem_alloc, mem_alloc__with,
	  .opts = { .profile = VGALLOC_MOCK_PROFILE_STATIC, .window = 1u << 20 },
	  .pokes = { P(REQ, size, 2u << 20), P(REQ, flags, VGALLOC_REQUEST_DEDICATED_REQUIRED) }),
	ONE(mem_alloc, hook_error),
	ONE(mem_alloc, blob_id_zero),
	ONE(mem_map, null_dev),
	ONE(mem_map, null_out),
	ONE(mem_map, null_mem),
	ONE(mem_map, freed),
	ONE(mem_map, other_device),
	ONE(mem_map, device_local),
	C("mem_map.window_full", vgalloc_mem_map, mem_map__window_full,
	  .opts = { .window = 1u << 20 }),
	ONE(mem_unmap, null_dev),
	ONE(mem_unmap, freed),
	ONE(mem_unmap, not_mapped),
	ONE(mem_export, null_dev),
	ONE(mem_export, null_out),
	ONE(mem_export, freed),
	ONE(mem_export, not_exportable),
	ONE(mem_export, other_type),
	ONE(mem_export, two_types),
	ONE(mem_export, type_0),
	ONE(mem_get_info, null_dev),
	ONE(mem_get_info, null_info),
	ONE(mem_get_info, freed),
	ONE(mem_get_info, struct_size_small),
	ONE(mem_free, null_dev),
	ONE(mem_free, null_mem),
	ONE(mem_free, double),
	ONE(mem_free, double_suballoc),
	ONE(mem_free, other_device),
	ONE(mem_free, interior),
	ONE(mem_free, not_a_mem),
	ONE(mem_free, blob_pointer),

	ONE(plan_request, null_dev),
	ONE(plan_request, null_req),
	ONE(plan_request, null_plan),
	ONE(plan_request, plan_size_small),
	PR("struct_size_small", P(REQ, struct_size, 8)),
	PR("unknown_tail", TAIL(REQ)),
	PR("size_zero", P(REQ, size, 0)),
	PR("size_overflow", P(REQ, size, UINT64_MAX - 100)),
	PR("alignment_not_pow2", P(REQ, alignment, 3000)),
	PR("unknown_type", P(REQ, memory_type, 17)),
	PR("unknown_flag", P(REQ, flags, BIT31)),
	PR("unknown_allocate_flag", P(REQ, allocate_flags, BIT31)),
	PR("export_unknown_type", P(REQ, export_handle_types, 0x10)),
	PR("reserved", P(REQ, reserved, 1)),
	PR("import_fd_negative", P(REQ, flags, VGALLOC_REQUEST_IMPORT_FD), P(REQ, import_fd, -5)),
	PR("import_ahb", P(REQ, flags, VGALLOC_REQUEST_IMPORT_AHB)),
	ONE(plan_explain, null_dev),
	ONE(plan_explain, null_buf),
	PE("size_zero", P(REQ, size, 0)),
	PE("unknown_tail", TAIL(REQ)),
	PE("unknown_allocate_flag", P(REQ, allocate_flags, BIT31)),
	PE("reserved", P(REQ, reserved, 1)),
	ONE(step_name, zero),
	ONE(step_name, unknown),
	ONE(no_suballoc_name, zero),
	ONE(no_suballoc_name, two_bits),
	ONE(path_name, zero),
	ONE(path_name, unknown),

	ONE(mock_create, null_info),
	ONE(mock_create, null_out),
	MC("struct_size_small", P(MCI, struct_size, 8)),
	MC("unknown_tail", TAIL(MCI)),
	MC("profile", P(MCI, profile, 3)),
	MC("unknown_flag", P(MCI, flags, BIT31)),
	MC("reserved", P(MCI, reserved, 1)),
	MC("page_small", P(MCI, host_page_size, 2048)),
	MC("page_not_pow2", P(MCI, host_page_size, 12288)),
	MC("window_unaligned", P(MCI, window_size, 1000)),
	MC("capset_0", P(MCI, supported_capsets, 1)),
	MC("venus_too_big", P(MCI, venus_capset_size, 4097)),
	MC("cost_preset", P(MCI, cost_preset, 3)),
	ONE(mock_destroy, null),
	ONE(mock_call_name, unknown),
	ONE(mock_call_failable, unknown),
	ONE(mock_get_ledger, null_mock),
	ONE(mock_get_ledger, null_ledger),
	ONE(mock_get_ledger, struct_size_small),
	ONE(mock_reset_counters, null),
	ONE(mock_get_trace, null_mock),
	ONE(mock_get_trace, null_entries),
	ONE(mock_format_entry, null_entry),
	ONE(mock_format_entry, null_buf),
	ONE(mock_fail_nth, null_mock),
	ONE(mock_fail_nth, nth_0),
	ONE(mock_fail_nth, err_negative),
	ONE(mock_fail_nth, not_failable),
	ONE(mock_fail_clear, null),
	ONE(mock_fail_fired, null),
	ONE(mock_set_capset, null_mock),
	ONE(mock_set_capset, id_0),
	ONE(mock_set_capset, id_64),
	ONE(mock_set_capset, null_data),
	ONE(mock_get_fd, null),
	ONE(mock_context_init, null),
	ONE(mock_context_init, exists),
	ONE(mock_context_init, not_offered),
	ONE(mock_blob_create, null),
	ONE(mock_blob_create, blob_mem_0),
	ONE(mock_blob_create, size_0),
	ONE(mock_blob_create, guest_blob_id),
	ONE(mock_blob_create, unknown_flag),
	ONE(mock_blob_create, cross_device),
	ONE(mock_gem_close, null),
	ONE(mock_gem_close, unknown_handle),
	ONE(mock_host_alloc, null),
	ONE(mock_host_alloc, blob_id_0),
	ONE(mock_host_alloc, size_0),
	ONE(mock_host_alloc, id_in_use),
	ONE(mock_host_wait, null),
	ONE(mock_host_wait, unknown_token),
	ONE(mock_host_wait_cmd, null_cmd),
	ONE(mock_host_wait_cmd, too_small),
	ONE(mock_host_roundtrip, null),
	ONE(mock_host_import, null),
	C("mock_host_import.unknown_res", vgalloc_mock_host_import, mock_host_import__unknown_res,
	  .allow = ALLOW_LOST),
	ONE(mock_host_free, null),
	ONE(mock_get_hooks, null_mock),
	ONE(mock_get_hooks, null_out),
	ONE(mock_get_hooks, unknown_flag),
};

/* ---------------------------------------------------------------------------------------------
 * docs/errors.md: every table whose first header cell is "case" holds case rows
 * `| id | function | bad input | result | calls |`; backquotes are ignored.
 */

struct doc_row {
	char id[64];
	char fn[64];
	char result[64];
	char calls[16];
	int line;
};

static struct {
	struct doc_row *rows;
	size_t count;
	char error[256]; /* the first problem found while reading, or empty */
} doc;

static void doc_error(int line, const char *what)
{
	if (!doc.error[0]) {
		snprintf(doc.error, sizeof(doc.error), "docs/errors.md:%d: %s", line, what);
	}
}

/* Split "| a | b |" into trimmed cells without backquotes; returns the count. */
static size_t split_row(const char *line, char cells[][128], size_t max)
{
	size_t n = 0;
	const char *p = strchr(line, '|');

	while (p && n < max) {
		const char *end = strchr(p + 1, '|');
		size_t len = 0;

		if (!end) {
			break;
		}
		for (const char *q = p + 1; q < end; q++) {
			if (*q != '`' && len + 1 < sizeof(cells[0])) {
				cells[n][len++] = *q;
			}
		}
		cells[n][len] = 0;
		while (len && (cells[n][len - 1] == ' ' || cells[n][len - 1] == '\t')) {
			cells[n][--len] = 0;
		}
		len = strspn(cells[n], " \t");
		memmove(cells[n], cells[n] + len, strlen(cells[n] + len) + 1);
		n++;
		p = end;
	}
	return n;
}

static bool valid_id(const char *id)
{
	const char *dot = strchr(id, '.');

	if (!dot || dot == id || !dot[1] || strchr(dot + 1, '.')) {
		return false;
	}
	for (const char *p = id; *p; p++) {
		if (p != dot &&
		    !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
			return false;
		}
	}
	return true;
}

static bool valid_calls(const char *s)
{
	return !strcmp(s, "none") || !strcmp(s, "kernel") || !strcmp(s, "host") ||
	       !strcmp(s, "kernel+host");
}

static void copy_cell(char *dst, size_t size, const char *src, int line)
{
	if (strlen(src) >= size) {
		doc_error(line, "cell too long");
	}
	snprintf(dst, size, "%s", src);
}

static void doc_parse_line(const char *line, int lineno, bool *in_table, bool *case_table)
{
	char cells[6][128];
	size_t n;
	struct doc_row *row;

	if (line[0] != '|') {
		*in_table = false;
		return;
	}
	n = split_row(line, cells, 6);
	if (!*in_table) {
		*in_table = true;
		*case_table = n > 0 && !strcmp(cells[0], "case");
		if (n > 0 && valid_id(cells[0])) {
			doc_error(lineno, "a case row outside a case table");
		}
		return;
	}
	if (n > 0 && strspn(cells[0], "-:") == strlen(cells[0])) {
		return;
	}
	if (!*case_table) {
		if (n > 0 && valid_id(cells[0])) {
			doc_error(lineno, "a case row outside a case table");
		}
		return;
	}
	if (n != 5 || !valid_id(cells[0]) || strncmp(cells[1], "vgalloc_", 8) || !cells[3][0] ||
	    !valid_calls(cells[4])) {
		doc_error(lineno, "malformed case row");
		return;
	}
	row = &doc.rows[doc.count++];
	copy_cell(row->id, sizeof(row->id), cells[0], lineno);
	copy_cell(row->fn, sizeof(row->fn), cells[1], lineno);
	copy_cell(row->result, sizeof(row->result), cells[3], lineno);
	copy_cell(row->calls, sizeof(row->calls), cells[4], lineno);
	row->line = lineno;
}

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *text;
	long size;

	if (!fp) {
		return NULL;
	}
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)size + 1);
	if (text && fread(text, 1, (size_t)size, fp) != (size_t)size) {
		free(text);
		text = NULL;
	}
	fclose(fp);
	return text;
}

static void doc_load(void)
{
	char *text = read_file(DOC_PATH);
	bool in_table = false, case_table = false;
	size_t lines = 1;
	int lineno = 0;

	if (!text) {
		doc_error(0, "cannot be read");
		return;
	}
	for (const char *p = text; *p; p++) {
		lines += *p == '\n';
	}
	doc.rows = calloc(lines, sizeof(*doc.rows));
	if (!doc.rows) {
		doc_error(0, "out of memory");
		free(text);
		return;
	}
	for (char *line = text; line; lineno++) {
		char *nl = strchr(line, '\n');

		if (nl) {
			*nl = 0;
		}
		doc_parse_line(line, lineno + 1, &in_table, &case_table);
		line = nl ? nl + 1 : NULL;
	}
	free(text);
}

static const struct doc_row *doc_find(const char *id)
{
	for (size_t i = 0; i < doc.count; i++) {
		if (!strcmp(doc.rows[i].id, id)) {
			return &doc.rows[i];
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Running a case.
 */

static void check_ledger(const struct ctx *c, uint32_t i)
{
	const struct vgalloc_mock_ledger *a = &c->before[i], *b = &c->after[i];
	const char *which = i ? "scratch mock" : "mock";

#define SAME(field, allowed)                                                                       \
	do {                                                                                       \
		if (!(allowed) && a->field != b->field) {                                          \
			fail_msg("%s: the %s's %s changed: %llu -> %llu", c->k->id, which, #field, \
			         (unsigned long long)a->field, (unsigned long long)b->field);      \
		}                                                                                  \
	} while (0)
	SAME(context, c->k->allow & ALLOW_CONTEXT);
	SAME(capset_id, c->k->allow & ALLOW_CONTEXT);
	SAME(live_handles, false);
	SAME(live_blobs, false);
	SAME(blob_bytes, false);
	SAME(window_bytes, false);
	SAME(mapped_blobs, false);
	SAME(open_fds, false);
	SAME(host_allocs, false);
	SAME(pending_tokens, false);
	SAME(order_violations, false);
	SAME(context_lost, c->k->allow & ALLOW_LOST);
#undef SAME
}

static void check_stats(const struct ctx *c)
{
	const struct vgalloc_stats *a = &c->st_before, *b = &c->st_after;

	/* State only: totals (calls, blobs created or imported, dedup hits, blocks created and
	 * released, cache hits and misses, ENOSPC events) count what was attempted, and a failed
	 * call may have made and released a blob on its way. teardown_errors must not move. */
#define SAME(field)                                                                             \
	do {                                                                                    \
		if (a->field != b->field) {                                                     \
			fail_msg("%s: the device's %s changed: %llu -> %llu", c->k->id, #field, \
			         (unsigned long long)a->field, (unsigned long long)b->field);   \
		}                                                                               \
	} while (0)
	SAME(blobs_live);
	SAME(blob_bytes);
	SAME(window_bytes);
	SAME(blobs_mapped);
	SAME(mems_live);
	SAME(mem_bytes_requested);
	SAME(mem_bytes_committed);
	SAME(teardown_errors);
	SAME(pools);
	SAME(blocks);
	SAME(block_bytes);
	SAME(retained_bytes);
	SAME(suballocs_live);
	SAME(suballoc_bytes);
	SAME(shmem_live);
	SAME(shmem_cached);
	SAME(shmem_cached_bytes);
#undef SAME
}

/* Which side the call reached: the kernel (mock backend ops) and/or the host (hooks). */
static void calls_made(struct ctx *c)
{
	bool kernel = false, host = false;

	for (uint32_t i = 0; i < 2; i++) {
		if (!c->snap_mocks[i]) {
			continue;
		}
		for (uint32_t k = 0; k < VGALLOC_MOCK_CALL_COUNT; k++) {
			if (c->after[i].calls[k] != c->before[i].calls[k]) {
				if (k < VGALLOC_MOCK_CALL_NEW_BLOB_ID) {
					kernel = true;
				} else {
					host = true;
				}
			}
		}
	}
	snprintf(c->calls, sizeof(c->calls), "%s",
	         kernel && host ? "kernel+host"
	         : kernel       ? "kernel"
	         : host         ? "host"
	                        : "none");
}

static void release(struct ctx *c)
{
	if (c->fault_armed) {
		vgalloc_mock_fail_clear(c->f->mock);
	}
	for (uint32_t i = 0; i < c->nmems; i++) {
		assert_int_equal(vgalloc_mem_free(c->mems[i].dev, c->mems[i].mem), 0);
	}
	for (uint32_t i = 0; i < c->nblobs; i++) {
		assert_int_equal(vgalloc_blob_destroy(c->blobs[i].dev, c->blobs[i].blob), 0);
	}
	for (uint32_t i = 0; i < c->nshmems; i++) {
		struct vgalloc_device *dev = c->shmem_devs[i] ? c->shmem_devs[i] : c->f->dev;

		assert_int_equal(vgalloc_shmem_destroy(dev, c->shmems[i]), 0);
	}
	for (uint32_t i = 0; i < c->nforeign; i++) {
		fx_foreign_release(c->f, c->foreign[i].fd, c->foreign[i].host);
	}
	for (uint32_t i = 0; i < c->nhandles; i++) {
		assert_int_equal(vgalloc_mock_gem_close(c->f->mock, c->handles[i]), 0);
	}
	for (uint32_t i = 0; i < c->nhosts; i++) {
		vgalloc_mock_host_free(c->f->mock, c->hosts[i]);
	}
	/* A borrowed fd is still the caller's to close. */
	for (uint32_t i = 0; i < c->nfds; i++) {
		assert_int_equal(close(c->fds[i]), 0);
	}
	for (uint32_t i = 0; i < c->ndevs; i++) {
		vgalloc_device_destroy(c->devs[i]);
	}
	if (c->scratch) {
		fx_assert_clean(c->scratch);
		vgalloc_mock_destroy(c->scratch);
	}
}

static void run_case(void **state)
{
	const struct errcase *k = *state;
	const struct doc_row *row = doc_find(k->id);
	struct ctx *c;

	if (!row) {
		fail_msg("%s: no row in docs/errors.md", k->id);
	}
	if (strcmp(row->fn, k->fn)) {
		fail_msg("%s: docs/errors.md:%d names %s, the case calls %s", k->id, row->line,
		         row->fn, k->fn);
	}
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->k = k;
	c->f = fx_new(&k->opts);
	c->out_dev = OUT_PTR;
	c->out_mock = OUT_PTR;
	c->out_blob = OUT_PTR;
	c->out_mem = OUT_PTR;
	c->out_ptr = OUT_PTR;
	c->out_fd = OUT_FD;
	c->out_value = OUT_VALUE;

	k->run(c);
	assert_true(c->called);
	calls_made(c);
	if (strcmp(c->result, row->result) || strcmp(c->calls, row->calls)) {
		fail_msg("%s: docs/errors.md:%d says %s (calls: %s); the call returned %s (calls: "
		         "%s)",
		         k->id, row->line, row->result, row->calls, c->result, c->calls);
	}
	/* Constructors and getters leave their out parameters alone on error. */
	assert_ptr_equal(c->out_dev, OUT_PTR);
	assert_ptr_equal(c->out_mock, OUT_PTR);
	assert_ptr_equal(c->out_blob, OUT_PTR);
	assert_ptr_equal(c->out_mem, OUT_PTR);
	assert_ptr_equal(c->out_ptr, OUT_PTR);
	assert_int_equal(c->out_fd, OUT_FD);
	assert_true(c->out_value == OUT_VALUE);
	for (uint32_t i = 0; i < 2; i++) {
		if (c->snap_mocks[i]) {
			check_ledger(c, i);
		}
	}
	check_stats(c);

	release(c);
	fx_free(c->f);
	free(c);
}

/* ---------------------------------------------------------------------------------------------
 * The document against the table and the headers.
 */

static void errors_doc__parses(void **state)
{
	(void)state;
	if (doc.error[0]) {
		fail_msg("%s", doc.error);
	}
	assert_true(doc.count > 0);
	for (size_t i = 0; i < doc.count; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(doc.rows[i].id, doc.rows[j].id)) {
				fail_msg("docs/errors.md:%d: case %s is also on line %d",
				         doc.rows[i].line, doc.rows[i].id, doc.rows[j].line);
			}
		}
	}
}

static const struct errcase *case_find(const char *id)
{
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (!strcmp(cases[i].id, id)) {
			return &cases[i];
		}
	}
	return NULL;
}

static void errors_doc__every_row_has_a_case(void **state)
{
	size_t missing = 0;

	(void)state;
	for (size_t i = 0; i < doc.count; i++) {
		if (!case_find(doc.rows[i].id)) {
			print_message("  docs/errors.md:%d: %s has no case\n", doc.rows[i].line,
			              doc.rows[i].id);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

static void errors_doc__every_case_has_a_row(void **state)
{
	size_t missing = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(cases[i].id, cases[j].id)) {
				fail_msg("case %s is in the table twice", cases[i].id);
			}
		}
		if (!doc_find(cases[i].id)) {
			print_message("  %s has no row in docs/errors.md\n", cases[i].id);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

static bool doc_has_fn(const char *fn)
{
	for (size_t i = 0; i < doc.count; i++) {
		if (!strcmp(doc.rows[i].fn, fn)) {
			return true;
		}
	}
	return false;
}

/* Names declared "VGALLOC_API <type> name(" in a public header; returns how many. */
static size_t header_functions(const char *path, char names[][64], size_t max)
{
	char *text = read_file(path);
	size_t n = 0;

	assert_non_null(text);
	for (char *p = strstr(text, "VGALLOC_API"); p; p = strstr(p + 1, "VGALLOC_API")) {
		char *line = p, *paren = strchr(p, '('), *name;

		while (line > text && line[-1] != '\n') {
			line--;
		}
		if (*line == '#' || !paren) {
			continue; /* the macro's own definition */
		}
		name = paren;
		while (name > p && (name[-1] == '_' || (name[-1] >= 'a' && name[-1] <= 'z') ||
		                    (name[-1] >= '0' && name[-1] <= '9'))) {
			name--;
		}
		if (paren - name > 0 && paren - name < 64 && n < max) {
			memcpy(names[n], name, (size_t)(paren - name));
			names[n][paren - name] = 0;
			n++;
		}
	}
	free(text);
	return n;
}

static void errors_doc__every_public_function_has_a_row(void **state)
{
	static const char *const headers[] = {
		SOURCE_DIR "/include/vgalloc/vgalloc.h",
		SOURCE_DIR "/include/vgalloc/vgalloc_mock.h",
	};
	static char names[256][64];
	size_t n = 0, missing = 0;

	(void)state;
	for (size_t h = 0; h < ARRAY_LEN(headers); h++) {
		size_t got = header_functions(headers[h], names + n, ARRAY_LEN(names) - n);

		assert_true(got > 0);
		n += got;
	}
	for (size_t i = 0; i < n; i++) {
		if (!doc_has_fn(names[i])) {
			print_message("  %s has no row in docs/errors.md\n", names[i]);
			missing++;
		}
	}
	/* And every function a row names is declared. */
	for (size_t i = 0; i < doc.count; i++) {
		bool found = false;

		for (size_t j = 0; j < n && !found; j++) {
			found = !strcmp(doc.rows[i].fn, names[j]);
		}
		if (!found) {
			print_message("  docs/errors.md:%d: %s is no public function\n",
			              doc.rows[i].line, doc.rows[i].fn);
			missing++;
		}
	}
	print_message("  %zu public functions, %zu rows, %zu cases\n", n, doc.count,
	              ARRAY_LEN(cases));
	assert_int_equal(missing, 0);
}

int main(void)
{
	struct CMUnitTest *tests = calloc(ARRAY_LEN(cases) + 4, sizeof(*tests));
	size_t n = 0;
	int ret;

	assert_non_null(tests);
	doc_load();
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(errors_doc__parses);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(errors_doc__every_row_has_a_case);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(errors_doc__every_case_has_a_row);
	tests[n++] =
	        (struct CMUnitTest)cmocka_unit_test(errors_doc__every_public_function_has_a_row);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		tests[n++] = (struct CMUnitTest){
			.name = cases[i].id,
			.test_func = run_case,
			.initial_state = (void *)(uintptr_t)&cases[i],
		};
	}
	ret = _cmocka_run_group_tests("errors_doc", tests, n, NULL, NULL);
	free(tests);
	free(doc.rows);
	return ret;
}
