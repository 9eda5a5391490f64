/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: versioned-struct input and request validation on every public entry point
 * that takes a struct. Each input struct is passed with a fuzzed struct_size (below version 0,
 * in between, current, larger with a zero or non-zero tail) and must be refused exactly as
 * vgalloc.h says (-EINVAL, -E2BIG) or behave exactly as its zero-extended current-size copy.
 * Output structs must be written up to min(size, current) with that count stored back and not
 * one byte more. Requests go through vgalloc_plan_request(), vgalloc_plan_explain() and
 * vgalloc_mem_alloc(), checked against a model of the documented validation.
 *
 * Input: a few setup bytes, then operations (one selector byte each) until it runs out.
 */
#include <errno.h>
#include <unistd.h>

#include "blob.h"
#include "caps.h"
#include "mem.h"
#include "state.h"
#include "vgalloc/vgalloc_diag.h"
#include "vgalloc/vgalloc_mock.h"

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TAIL_MAX   64
#define MAX_HELD   8
#define MAX_OPS    24
#define CANARY     0xcc
#define FOREIGN    0xa5 /* bytes past a short struct_size: must be ignored */
#define NTYPES     3
#define MAX_BUFFER 1024

static const uint32_t type_index[NTYPES] = { 0, 3, 7 };

struct ctx {
	struct fz f;
	struct vgalloc_mock *mock;
	struct vgalloc_host_hooks hooks;
	struct vgalloc_memory_type types[NTYPES];
	struct vgalloc_device_create_info ci; /* canonical, current size */
	struct vgalloc_device *dev;
	struct vgalloc_mem *held[MAX_HELD];
	uint32_t nheld;
	uint64_t blob_alignment;
	bool guest_vram;
	bool create_guest_handle;
};

/* --- versioned input structs -------------------------------------------------------------- */

enum verdict {
	V_OK,
	V_EINVAL,
	V_E2BIG,
};

/*
 * Lay `base` (cur bytes, current version) out in buf with a fuzzed struct_size. Bytes past a
 * short struct_size are foreign (the caller's next object); a longer struct gets a tail that is
 * zero or not. *canon receives the zero-extended current-size copy the library must act on.
 */
static enum verdict lay_out(struct fz *f, const void *base, size_t v0, size_t cur,
                            unsigned char *buf, void *canon)
{
	uint32_t size;
	enum verdict v = V_OK;

	memset(buf, FOREIGN, cur + TAIL_MAX);
	memcpy(buf, base, cur);
	switch (fz_pick(f, 7)) {
	case 0:
		size = fz_pick(f, (uint32_t)v0);
		v = V_EINVAL;
		break;
	case 1:
		size = (uint32_t)v0;
		break;
	case 2:
		size = (uint32_t)v0 + fz_pick(f, (uint32_t)(cur - v0 + 1));
		break;
	case 3:
	case 4:
		size = (uint32_t)cur;
		break;
	case 5:
		size = (uint32_t)cur + 1 + fz_pick(f, TAIL_MAX);
		memset(buf + cur, 0, size - cur);
		break;
	default:
		size = (uint32_t)cur + 1 + fz_pick(f, TAIL_MAX);
		memset(buf + cur, 0, size - cur);
		buf[cur + fz_pick(f, size - (uint32_t)cur)] = 1 + fz_pick(f, 255);
		v = V_E2BIG;
		break;
	}
	memcpy(buf, &size, sizeof(size));
	if (canon) {
		memset(canon, 0, cur);
		memcpy(canon, buf, FZ_MIN(size, cur));
		memcpy(canon, &(uint32_t){ (uint32_t)cur }, sizeof(uint32_t));
	}
	return v;
}

static int verdict_errno(enum verdict v)
{
	return v == V_EINVAL ? -EINVAL : v == V_E2BIG ? -E2BIG : 0;
}

/* --- output structs ----------------------------------------------------------------------- */

typedef int (*out_fn)(struct ctx *c, void *out);

/*
 * Call fn with an output struct of fuzzed size in a canary-filled buffer: below version 0 nothing
 * may be written; else exactly min(size, cur) bytes, equal to a full-size call's.
 */
static void check_out(struct ctx *c, out_fn fn, size_t v0, size_t cur)
{
	_Alignas(16) unsigned char buf[MAX_BUFFER], full[MAX_BUFFER];
	uint32_t size, got;
	int ret, full_ret;

	FZ_CHECK(cur + TAIL_MAX <= MAX_BUFFER);
	switch (fz_pick(&c->f, 4)) {
	case 0:
		size = fz_pick(&c->f, (uint32_t)v0);
		break;
	case 1:
		size = (uint32_t)v0 + fz_pick(&c->f, (uint32_t)(cur - v0 + 1));
		break;
	case 2:
		size = (uint32_t)cur;
		break;
	default:
		size = (uint32_t)cur + 1 + fz_pick(&c->f, TAIL_MAX);
		break;
	}
	memset(full, CANARY, sizeof(full));
	memcpy(full, &(uint32_t){ (uint32_t)cur }, sizeof(uint32_t));
	full_ret = fn(c, full);
	memset(buf, CANARY, sizeof(buf));
	memcpy(buf, &size, sizeof(size));
	ret = fn(c, buf);
	if (size < v0) {
		FZ_CHECK_EQ(ret, -EINVAL);
		memcpy(&got, buf, sizeof(got));
		FZ_CHECK_EQ(got, size);
		for (size_t i = sizeof(size); i < sizeof(buf); i++) {
			FZ_CHECK_EQ(buf[i], CANARY);
		}
		return;
	}
	FZ_CHECK_EQ(ret, full_ret);
	if (ret) {
		return;
	}
	memcpy(&got, buf, sizeof(got));
	FZ_CHECK_EQ(got, FZ_MIN(size, cur));
	FZ_CHECK(!memcmp(buf + sizeof(got), full + sizeof(got), got - sizeof(got)));
	for (size_t i = got; i < sizeof(buf); i++) {
		FZ_CHECK_EQ(buf[i], CANARY);
	}
}

static int out_device_info(struct ctx *c, void *out)
{
	return vgalloc_device_get_info(c->dev, out);
}

static int out_stats(struct ctx *c, void *out)
{
	return vgalloc_device_get_stats(c->dev, out);
}

static int out_pool_stats(struct ctx *c, void *out)
{
	return vgalloc_device_get_pool_stats(c->dev, 0, out);
}

static int out_read_capset(struct ctx *c, void *out)
{
	return vgalloc_device_read_capset(c->dev, VGALLOC_CAPSET_VENUS, out);
}

static int out_parse_capset(struct ctx *c, void *out)
{
	static const uint32_t drm[6] = { 1, 3, 57, 0, 2, 0 };

	(void)c;
	return vgalloc_capset_parse(VGALLOC_CAPSET_DRM, drm, sizeof(drm), VGALLOC_CAPSET_FROM_FILE,
	                            out);
}

static int out_ledger(struct ctx *c, void *out)
{
	return vgalloc_mock_get_ledger(c->mock, out);
}

static struct vgalloc_request plan_req;

static int out_plan(struct ctx *c, void *out)
{
	return vgalloc_plan_request(c->dev, &plan_req, out);
}

static struct vgalloc_mem *info_mem;

static int out_mem_info(struct ctx *c, void *out)
{
	return vgalloc_mem_get_info(c->dev, info_mem, out);
}

static struct vgalloc_blob *info_blob;

static int out_blob_info(struct ctx *c, void *out)
{
	return vgalloc_blob_get_info(c->dev, info_blob, out);
}

static void op_output(struct ctx *c)
{
	struct vgalloc_blob_create_info bci = {
		.struct_size = sizeof(bci),
		.blob_mem = VGALLOC_BLOB_MEM_GUEST,
		.size = 1 + fz_pick(&c->f, 200) * 1000,
	};

	switch (fz_pick(&c->f, 9)) {
	case 0:
		check_out(c, out_device_info, VGALLOC__V0_DEVICE_INFO,
		          sizeof(struct vgalloc_device_info));
		break;
	case 1:
		check_out(c, out_stats, VGALLOC__V0_STATS, sizeof(struct vgalloc_stats));
		break;
	case 2:
		check_out(c, out_pool_stats, sizeof(struct vgalloc_pool_stats),
		          sizeof(struct vgalloc_pool_stats));
		break;
	case 3:
		check_out(c, out_read_capset, sizeof(struct vgalloc_capset_info),
		          sizeof(struct vgalloc_capset_info));
		break;
	case 4:
		check_out(c, out_parse_capset, sizeof(struct vgalloc_capset_info),
		          sizeof(struct vgalloc_capset_info));
		break;
	case 5:
		check_out(c, out_ledger, sizeof(struct vgalloc_mock_ledger),
		          sizeof(struct vgalloc_mock_ledger));
		break;
	case 6:
		plan_req = (struct vgalloc_request){
			.struct_size = sizeof(plan_req),
			.memory_type = type_index[fz_pick(&c->f, NTYPES)],
			.size = 1 + fz_u16(&c->f),
			.export_handle_types = fz_bool(&c->f) ? VGALLOC_HANDLE_TYPE_DMA_BUF : 0,
		};
		check_out(c, out_plan, VGALLOC__V0_PLAN, sizeof(struct vgalloc_plan));
		break;
	case 7:
		info_mem = c->nheld ? c->held[fz_pick(&c->f, c->nheld)] : NULL;
		check_out(c, out_mem_info, VGALLOC__V0_MEM_INFO, sizeof(struct vgalloc_mem_info));
		break;
	default:
		info_blob = NULL;
		if (!vgalloc_blob_create(c->dev, &bci, &info_blob)) {
			check_out(c, out_blob_info, VGALLOC__V0_BLOB_INFO,
			          sizeof(struct vgalloc_blob_info));
			FZ_CHECK_EQ(vgalloc_blob_destroy(c->dev, info_blob), 0);
			FZ_CHECK_EQ(vgalloc_blob_destroy(c->dev, info_blob), -EINVAL);
		}
		break;
	}
}

/* --- requests ----------------------------------------------------------------------------- */

static void decode_request(struct fz *f, struct vgalloc_request *r)
{
	static const uint64_t sizes[] = { 0,         1,          4095,
		                          4096,      65536,      65537,
		                          1u << 20,  4u << 20,   (4u << 20) + 1,
		                          64u << 20, UINT64_MAX, UINT64_MAX - 4095 };
	uint8_t b;

	memset(r, 0, sizeof(*r));
	r->struct_size = sizeof(*r);
	b = fz_u8(f);
	r->memory_type = b < 240 ? type_index[b % NTYPES] : b;
	b = fz_u8(f);
	r->size = b < 128 ? sizes[b % FZ_ARRAY_SIZE(sizes)] : b < 192 ? fz_u32(f) : fz_u64(f);
	b = fz_u8(f);
	r->alignment = b < 128 ? 0 : b < 224 ? 1ull << (b % 64) : fz_u64(f);
	r->flags = fz_bool(f) ? fz_u16(f) : 0;
	b = fz_u8(f);
	r->export_handle_types = b < 160 ? 0 : b < 224 ? (b & 1 ? 0x200u : 0x1u) : fz_u32(f);
	r->allocate_flags = fz_bool(f) ? fz_u8(f) & 0x1f : 0;
	r->import_fd = (int)fz_pick(f, 12) - 3;
	r->priority = fz_bool(f) ? 0.5f : 0.0f;
	r->blob_id = fz_bool(f) ? 1000 + fz_u8(f) : 0;
	r->opaque_capture_address = fz_bool(f) ? fz_u8(f) : 0;
}

/* vgalloc_plan_request()'s -EINVAL list, written from vgalloc.h. */
static int request_errno(const struct ctx *c, const struct vgalloc_request *r)
{
	bool type_ok = false;

	for (uint32_t i = 0; i < NTYPES; i++) {
		type_ok |= r->memory_type == type_index[i];
	}
	if (!r->size || (r->alignment && !fz_is_pow2(r->alignment)) || (r->flags & ~0x7ffu) ||
	    ((r->flags & VGALLOC_REQUEST_EXACT_ALIGNMENT) && !r->alignment) ||
	    (r->allocate_flags & ~0xfu) || (r->export_handle_types & ~0x201u) || r->reserved ||
	    ((r->flags & VGALLOC_REQUEST_IMPORT_FD) && r->import_fd < 0) || !type_ok ||
	    r->size > UINT64_MAX - (c->blob_alignment - 1)) {
		return -EINVAL;
	}
	return 0;
}

static void op_request(struct ctx *c)
{
	_Alignas(16) unsigned char buf[sizeof(struct vgalloc_request) + TAIL_MAX];
	struct vgalloc_request base, canon;
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
	struct vgalloc_plan plan2 = { .struct_size = sizeof(plan2) };
	const struct vgalloc_request *req = (const void *)buf;
	struct vgalloc_mem *mem = NULL;
	char text[2048], small[64];
	enum verdict v;
	int ret, exp, len;
	size_t n;

	decode_request(&c->f, &base);
	v = lay_out(&c->f, &base, VGALLOC__V0_REQUEST, sizeof(base), buf, &canon);
	exp = v != V_OK ? verdict_errno(v) : request_errno(c, &canon);

	ret = vgalloc_plan_request(c->dev, req, &plan);
	if (ret != exp) {
		fz_fail(__FILE__, __LINE__, "vgalloc_plan_request returned %d, expected %d", ret,
		        exp);
	}
	if (!ret) {
		/* The zero-extended copy plans the same. */
		FZ_CHECK_EQ(vgalloc_plan_request(c->dev, &canon, &plan2), 0);
		FZ_CHECK(!memcmp(&plan, &plan2, sizeof(plan)));
		FZ_CHECK(plan.size >= canon.size && plan.size % c->blob_alignment == 0);
		FZ_CHECK(plan.memory_type == canon.memory_type);
		/* The hint binds offsets inside a shared block; a dedicated blob starts at 0. */
		FZ_CHECK(fz_is_pow2(plan.alignment));
		FZ_CHECK(!plan.suballocate || plan.alignment >= canon.alignment);
	}

	/* The explanation fails alike, or returns its full length however small the buffer; the
	 * text is cut to the buffer and always terminated. */
	len = vgalloc_plan_explain(c->dev, req, text, sizeof(text));
	FZ_CHECK(ret ? len == ret : len > 0);
	n = fz_pick(&c->f, sizeof(small) + 1);
	memset(small, CANARY, sizeof(small));
	FZ_CHECK_EQ(vgalloc_plan_explain(c->dev, req, n ? small : NULL, n), len);
	if (n) {
		FZ_CHECK(memchr(small, 0, n) != NULL);
	}
	if (len > 0 && (size_t)len < sizeof(text)) {
		FZ_CHECK_EQ(strlen(text), len);
		if (n) {
			FZ_CHECK_EQ(strlen(small), FZ_MIN(n - 1, (size_t)len));
			FZ_CHECK(!strncmp(small, text, strlen(small)));
		}
	}
	for (size_t i = n; i < sizeof(small); i++) {
		FZ_CHECK_EQ((uint8_t)small[i], CANARY);
	}

	ret = vgalloc_mem_alloc(c->dev, req, &mem);
	if (exp) {
		FZ_CHECK_EQ(ret, exp);
		FZ_CHECK(!mem);
		return;
	}
	if (plan.path == VGALLOC_PATH_UNSUPPORTED) {
		FZ_CHECK_EQ(ret, -EOPNOTSUPP);
		return;
	}
	FZ_CHECK(ret <= 0 && ret > -4096);
	FZ_CHECK(!ret == (mem != NULL));
	if (!ret) {
		struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };

		FZ_CHECK_EQ(vgalloc_mem_get_info(c->dev, mem, &mi), 0);
		FZ_CHECK_EQ(mi.path, plan.path);
		FZ_CHECK_EQ(mi.memory_type, canon.memory_type);
		FZ_CHECK(mi.size == canon.size);
		FZ_CHECK(mi.path == VGALLOC_PATH_IMPORT || mi.committed >= mi.size);
		if (plan.suballocate && mi.offset) {
			FZ_CHECK(mi.offset % plan.alignment == 0);
		}
		if (c->nheld < MAX_HELD && fz_bool(&c->f)) {
			c->held[c->nheld++] = mem;
			return;
		}
		FZ_CHECK_EQ(vgalloc_mem_free(c->dev, mem), 0);
		FZ_CHECK_EQ(vgalloc_mem_free(c->dev, mem), -EINVAL);
	}
}

/* --- other input structs ------------------------------------------------------------------ */

static void op_blob_create(struct ctx *c)
{
	_Alignas(16) unsigned char buf[sizeof(struct vgalloc_blob_create_info) + TAIL_MAX];
	struct vgalloc_blob_create_info base = { .struct_size = sizeof(base) }, canon;
	unsigned char cmd[64];
	struct vgalloc_blob *blob = NULL;
	struct vgalloc_blob_info bi = { .struct_size = sizeof(bi) };
	uint64_t rounded = 0, p3d = 0, pvis = 0, pcross = 0;
	enum verdict v;
	bool cgh;
	int ret, exp = 0;

	base.blob_mem = fz_pick(&c->f, 6);
	base.blob_flags = fz_pick(&c->f, 16);
	base.cmd_size = fz_bool(&c->f) ? fz_pick(&c->f, 66) : 0;
	base.size = fz_bool(&c->f) ? fz_u64(&c->f) : fz_u32(&c->f) & 0xfffff;
	base.blob_id = fz_bool(&c->f) ? fz_u8(&c->f) : 0;
	memset(cmd, 0, sizeof(cmd));
	base.cmd = fz_bool(&c->f) ? cmd : NULL;
	v = lay_out(&c->f, &base, VGALLOC__V0_BLOB_CREATE_INFO, sizeof(base), buf, &canon);
	/* CREATE_GUEST_HANDLE (bit 3, downstream): GUEST blobs only, and only where the flavour's
	 * param says the kernel has it. */
	cgh = canon.blob_flags & 8;

	vgalloc_device_get_param(c->dev, VGALLOC_PARAM_3D_FEATURES, &p3d);
	vgalloc_device_get_param(c->dev, VGALLOC_PARAM_HOST_VISIBLE, &pvis);
	vgalloc_device_get_param(c->dev, VGALLOC_PARAM_CROSS_DEVICE, &pcross);
	if (v != V_OK) {
		exp = verdict_errno(v);
	} else if (!canon.size || canon.size > UINT64_MAX - (c->blob_alignment - 1) ||
	           canon.blob_mem < 1 ||
	           (canon.blob_mem > 3 && !(canon.blob_mem == 4 && c->guest_vram)) ||
	           (canon.blob_flags & ~15u) || canon.cmd_size % 4 ||
	           (canon.cmd_size && !canon.cmd) || (cgh && canon.blob_mem != 1) ||
	           (canon.blob_mem == 1 && ((canon.blob_id && !cgh) || canon.cmd_size))) {
		exp = -EINVAL;
	} else if ((cgh && !c->create_guest_handle) || (canon.blob_mem != 1 && p3d != 1) ||
	           ((canon.blob_flags & VGALLOC_BLOB_FLAG_CROSS_DEVICE) && pcross != 1) ||
	           ((canon.blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE) &&
	            (canon.blob_mem == 2 || canon.blob_mem == 4) && pvis != 1)) {
		exp = -EOPNOTSUPP;
	} else {
		rounded = fz_round_up(canon.size, c->blob_alignment);
	}
	ret = vgalloc_blob_create(c->dev, (const void *)buf, &blob);
	if (exp) {
		FZ_CHECK_EQ(ret, exp);
		return;
	}
	FZ_CHECK(ret <= 0 && !ret == (blob != NULL));
	if (ret) {
		return;
	}
	FZ_CHECK_EQ(vgalloc_blob_get_info(c->dev, blob, &bi), 0);
	FZ_CHECK(bi.size == rounded);
	FZ_CHECK_EQ(bi.blob_mem, canon.blob_mem);
	FZ_CHECK_EQ(bi.blob_flags, canon.blob_flags);
	FZ_CHECK_EQ(bi.origin, VGALLOC_BLOB_CREATED);
	FZ_CHECK_EQ(bi.refcount, 1);
	FZ_CHECK(bi.blob_id == canon.blob_id);
	FZ_CHECK_EQ(vgalloc_blob_destroy(c->dev, blob), 0);
	FZ_CHECK_EQ(vgalloc_blob_destroy(c->dev, blob), -EINVAL);
}

/* Import info: through an exported allocation, whose blob the import must dedup to. */
static void op_blob_import(struct ctx *c)
{
	_Alignas(16) unsigned char buf[sizeof(struct vgalloc_blob_import_info) + TAIL_MAX];
	struct vgalloc_blob_import_info base = { .struct_size = sizeof(base) }, canon;
	struct vgalloc_request r = {
		.struct_size = sizeof(r),
		.memory_type = type_index[1],
		.size = 4096u << fz_pick(&c->f, 6),
		.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF,
	};
	struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };
	struct vgalloc_blob_info bi = { .struct_size = sizeof(bi) };
	struct vgalloc_blob *blob = NULL;
	struct vgalloc_mem *mem;
	enum verdict v;
	int fd = -1, ret, exp;

	if (vgalloc_mem_alloc(c->dev, &r, &mem)) {
		return;
	}
	FZ_CHECK_EQ(vgalloc_mem_get_info(c->dev, mem, &mi), 0);
	FZ_CHECK_EQ(vgalloc_mem_export(c->dev, mem, VGALLOC_HANDLE_TYPE_OPAQUE_FD, &fd), -EINVAL);
	if (vgalloc_mem_export(c->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd)) {
		FZ_CHECK_EQ(vgalloc_mem_free(c->dev, mem), 0);
		return;
	}
	FZ_CHECK(mi.blob != NULL);
	FZ_CHECK_EQ(vgalloc_blob_get_info(c->dev, mi.blob, &bi), 0);
	base.blob_flags = fz_pick(&c->f, 9);
	base.size = fz_bool(&c->f) ? fz_u64(&c->f) : bi.size - fz_pick(&c->f, 3) + 1;
	base.flags = fz_pick(&c->f, 3);
	base.reserved = fz_bool(&c->f) ? fz_u8(&c->f) : 0;
	v = lay_out(&c->f, &base, VGALLOC__V0_BLOB_IMPORT_INFO, sizeof(base), buf, &canon);
	if (v != V_OK) {
		exp = verdict_errno(v);
	} else if ((canon.blob_flags & ~7u) || canon.reserved ||
	           (canon.flags & ~(uint32_t)VGALLOC_IMPORT_QUERY_ONLY) ||
	           (canon.flags & VGALLOC_IMPORT_QUERY_ONLY) || canon.size > bi.size ||
	           (canon.blob_flags & ~bi.blob_flags)) {
		exp = -EINVAL;
	} else {
		exp = 0;
	}
	ret = vgalloc_blob_import_dmabuf(c->dev, fd, (const void *)buf, &blob);
	FZ_CHECK_EQ(ret, exp);
	if (!ret) {
		/* The same buffer on the same fd: the dedup table answers with the same blob. */
		FZ_CHECK(blob == mi.blob);
		FZ_CHECK_EQ(vgalloc_blob_destroy(c->dev, blob), 0);
	}
	FZ_CHECK_EQ(vgalloc_blob_destroy(c->dev, mi.blob), -EBUSY);
	/* Query: an output struct of fuzzed size. */
	memset(&bi, 0, sizeof(bi));
	bi.struct_size = fz_bool(&c->f) ? sizeof(bi) : fz_pick(&c->f, sizeof(bi));
	ret = vgalloc_blob_query_dmabuf(c->dev, fd, &bi);
	FZ_CHECK_EQ(ret, bi.struct_size < VGALLOC__V0_BLOB_INFO ? -EINVAL : 0);
	close(fd);
	FZ_CHECK_EQ(vgalloc_mem_free(c->dev, mem), 0);
}

/* A second device from create-info pieces: memory type arrays and hooks of fuzzed sizes. */
static void op_pieces(struct ctx *c)
{
	_Alignas(16) unsigned char types[NTYPES * (sizeof(struct vgalloc_memory_type) + TAIL_MAX)];
	_Alignas(16) unsigned char hooks[sizeof(struct vgalloc_host_hooks) + TAIL_MAX];
	_Alignas(16) unsigned char one[sizeof(struct vgalloc_memory_type) + TAIL_MAX];
	struct vgalloc_device_create_info ci = c->ci;
	struct vgalloc_device *dev = NULL;
	uint32_t stride = 0, count = 1 + fz_pick(&c->f, NTYPES);
	int ret, exp = 0;
	enum verdict v;

	if (fz_bool(&c->f)) {
		/* Element 0's size is the array's stride: below version 0 nothing else is read. */
		v = lay_out(&c->f, &c->types[0], VGALLOC__V0_MEMORY_TYPE,
		            sizeof(struct vgalloc_memory_type), one, NULL);
		memcpy(&stride, one, sizeof(stride));
		memcpy(types, one, sizeof(one));
		exp = verdict_errno(v);
		for (uint32_t i = 1; i < count && v != V_EINVAL; i++) {
			struct vgalloc_memory_type t = c->types[i];
			/* Every element must carry the stride as its size; element 0's tail error
			 * comes first. */
			uint32_t size = fz_pick(&c->f, 8) ? stride : stride + 4;

			memset(one, 0, sizeof(one));
			memcpy(one, &t, sizeof(t));
			memcpy(one, &size, sizeof(size));
			memcpy(types + (size_t)i * stride, one, stride);
			if (size != stride && !exp) {
				exp = -EINVAL;
			}
		}
		ci.memory_types = (const void *)types;
		ci.memory_type_count = count;
	} else {
		v = lay_out(&c->f, &c->hooks, VGALLOC__V0_HOST_HOOKS, sizeof(c->hooks), hooks,
		            NULL);
		exp = verdict_errno(v);
		/* Version 0 has the flags: IN_ORDER is known, any other bit is -EINVAL (after the
		 * size and tail checks). */
		if (v != V_EINVAL && fz_bool(&c->f)) {
			uint32_t flags =
			        fz_bool(&c->f) ? VGALLOC_HOOKS_IN_ORDER : 1u << fz_pick(&c->f, 32);

			memcpy(hooks + offsetof(struct vgalloc_host_hooks, flags), &flags,
			       sizeof(flags));
			if (v == V_OK && (flags & ~(uint32_t)VGALLOC_HOOKS_IN_ORDER)) {
				exp = -EINVAL;
			}
		}
		ci.hooks = (const void *)hooks;
	}
	ret = vgalloc_device_create(&ci, &dev);
	FZ_CHECK_EQ(ret, exp);
	vgalloc_device_destroy(dev);
}

static void op_mock_info(struct ctx *c)
{
	_Alignas(16) unsigned char buf[sizeof(struct vgalloc_mock_create_info) + TAIL_MAX];
	struct vgalloc_mock_create_info base = {
		.struct_size = sizeof(base),
		.flags = VGALLOC_MOCK_COUNTING_ONLY,
	};
	struct vgalloc_mock *mock = NULL;
	enum verdict v;

	v = lay_out(&c->f, &base, sizeof(base), sizeof(base), buf, NULL);
	FZ_CHECK_EQ(vgalloc_mock_create((const void *)buf, &mock), verdict_errno(v));
	vgalloc_mock_destroy(mock);
}

/* Every entry point refuses NULL where vgalloc.h says so, before touching anything. */
static void op_null(struct ctx *c)
{
	struct vgalloc_request r = { .struct_size = sizeof(r), .size = 4096 };
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc_mem *mem = NULL;
	struct vgalloc_blob *blob = NULL;
	char text[64];
	void *ptr;
	int fd;

	switch (fz_pick(&c->f, 4)) {
	case 0:
		FZ_CHECK_EQ(vgalloc_plan_request(NULL, &r, &plan), -EINVAL);
		FZ_CHECK_EQ(vgalloc_plan_request(c->dev, &r, NULL), -EINVAL);
		FZ_CHECK_EQ(vgalloc_plan_request(c->dev, NULL, &plan), -EINVAL);
		FZ_CHECK_EQ(vgalloc_plan_explain(NULL, &r, text, sizeof(text)), -EINVAL);
		FZ_CHECK_EQ(vgalloc_plan_explain(c->dev, &r, NULL, sizeof(text)), -EINVAL);
		break;
	case 1:
		FZ_CHECK_EQ(vgalloc_mem_alloc(NULL, &r, &mem), -EINVAL);
		FZ_CHECK_EQ(vgalloc_mem_alloc(c->dev, &r, NULL), -EINVAL);
		FZ_CHECK_EQ(vgalloc_mem_alloc(c->dev, NULL, &mem), -EINVAL);
		FZ_CHECK_EQ(vgalloc_mem_free(c->dev, NULL), 0);
		FZ_CHECK_EQ(vgalloc_mem_free(NULL, NULL), -EINVAL);
		FZ_CHECK_EQ(vgalloc_mem_map(c->dev, NULL, &ptr), -EINVAL);
		FZ_CHECK_EQ(vgalloc_mem_unmap(c->dev, NULL), -EINVAL);
		FZ_CHECK_EQ(vgalloc_mem_export(c->dev, NULL, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd),
		            -EINVAL);
		break;
	case 2:
		FZ_CHECK_EQ(vgalloc_blob_create(NULL, NULL, &blob), -EINVAL);
		FZ_CHECK_EQ(vgalloc_blob_create(c->dev, NULL, &blob), -EINVAL);
		FZ_CHECK_EQ(vgalloc_blob_import_dmabuf(c->dev, -1, NULL, &blob), -EINVAL);
		FZ_CHECK_EQ(vgalloc_blob_import_dmabuf(c->dev, 0, NULL, NULL), -EINVAL);
		FZ_CHECK_EQ(vgalloc_blob_destroy(c->dev, NULL), 0);
		FZ_CHECK_EQ(vgalloc_blob_destroy(NULL, NULL), -EINVAL);
		FZ_CHECK_EQ(vgalloc_blob_query_dmabuf(c->dev, 0, NULL), -EINVAL);
		break;
	default:
		FZ_CHECK_EQ(vgalloc_device_get_info(NULL, &di), -EINVAL);
		FZ_CHECK_EQ(vgalloc_device_get_info(c->dev, NULL), -EINVAL);
		FZ_CHECK_EQ(vgalloc_device_get_stats(NULL, &st), -EINVAL);
		FZ_CHECK_EQ(vgalloc_device_get_stats(c->dev, NULL), -EINVAL);
		FZ_CHECK_EQ(vgalloc_device_trim(NULL), -EINVAL);
		FZ_CHECK_EQ(vgalloc_device_create(NULL, &c->dev), -EINVAL);
		FZ_CHECK_EQ(vgalloc_device_create(&c->ci, NULL), -EINVAL);
		vgalloc_device_destroy(NULL);
		break;
	}
}

/* --- the run ------------------------------------------------------------------------------ */

static void decode_create_info(struct ctx *c)
{
	struct vgalloc_device_create_info *ci = &c->ci;

	c->types[0] = (struct vgalloc_memory_type){
		.struct_size = sizeof(c->types[0]),
		.host_index = type_index[0],
		.property_flags = VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL,
		.flags = VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES,
	};
	c->types[1] = (struct vgalloc_memory_type){
		.struct_size = sizeof(c->types[1]),
		.host_index = type_index[1],
		.property_flags = VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
		                  VGALLOC_MEMORY_PROPERTY_HOST_COHERENT,
		.non_coherent_atom_size = 1ull << fz_pick(&c->f, 17),
	};
	c->types[2] = (struct vgalloc_memory_type){
		.struct_size = sizeof(c->types[2]),
		.host_index = type_index[2],
		.property_flags = VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
		                  VGALLOC_MEMORY_PROPERTY_HOST_CACHED |
		                  VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL,
		.flags = VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES,
		.base_alignment = fz_bool(&c->f) ? 1ull << fz_pick(&c->f, 24) : 0,
	};
	memset(ci, 0, sizeof(*ci));
	ci->struct_size = sizeof(*ci);
	ci->backend = VGALLOC_BACKEND_MOCK;
	ci->backend_object = c->mock;
	ci->mode = VGALLOC_DEVICE_MODE_ADOPT;
	ci->flags = VGALLOC_DEVICE_CONTEXT_READY |
	            (fz_u8(&c->f) & (VGALLOC_DEVICE_PLACED_MAPS | VGALLOC_DEVICE_NO_SUBALLOC |
	                             VGALLOC_DEVICE_GUEST_VRAM));
	ci->capset_id = VGALLOC_CAPSET_VENUS;
	ci->alloc_mode = fz_pick(&c->f, 3);
	ci->hypervisor_hint = fz_pick(&c->f, 3);
	ci->memory_types = c->types;
	ci->memory_type_count = NTYPES;
	ci->hooks = &c->hooks;
	/* Appended after version 0: a short struct_size must mean their defaults. */
	ci->flavour = fz_pick(&c->f, 3);
	ci->host_page_size = fz_bool(&c->f) ? 4096u << fz_pick(&c->f, 5) : 0;
	ci->max_suballoc_size = fz_bool(&c->f) ? 4096ull << fz_pick(&c->f, 12) : 0;
	ci->pool_shards = fz_pick(&c->f, 5);
	ci->retain_bytes = fz_bool(&c->f) ? 4096ull << fz_pick(&c->f, 16) : 0;
	ci->min_block_size = fz_bool(&c->f) ? 65536ull << fz_pick(&c->f, 8) : 0;
	ci->max_block_size =
	        fz_bool(&c->f) ? FZ_MAX(ci->min_block_size, 1ull << 20) << fz_pick(&c->f, 6) : 0;
}

static void create_device(struct ctx *c)
{
	_Alignas(16) unsigned char buf[sizeof(struct vgalloc_device_create_info) + TAIL_MAX];
	struct vgalloc_device_create_info canon;
	struct vgalloc_device_info a = { .struct_size = sizeof(a) },
	                           b = { .struct_size = sizeof(b) };
	struct vgalloc_device *other = NULL;
	enum verdict v;
	int ret;

	v = lay_out(&c->f, &c->ci, VGALLOC__V0_DEVICE_CREATE_INFO, sizeof(c->ci), buf, &canon);
	ret = vgalloc_device_create((const void *)buf, &c->dev);
	FZ_CHECK_EQ(ret, verdict_errno(v));
	if (ret) {
		FZ_CHECK_EQ(vgalloc_device_create(&c->ci, &c->dev), 0);
	} else {
		/* A short create-info is its zero-extended copy: defaults for what it lacks. */
		FZ_CHECK_EQ(vgalloc_device_create(&canon, &other), 0);
		FZ_CHECK_EQ(vgalloc_device_get_info(c->dev, &a), 0);
		FZ_CHECK_EQ(vgalloc_device_get_info(other, &b), 0);
		FZ_CHECK(!memcmp(&a, &b, sizeof(a)));
		vgalloc_device_destroy(other);
	}
	FZ_CHECK_EQ(vgalloc_device_get_info(c->dev, &a), 0);
	c->blob_alignment = a.blob_alignment;
	c->guest_vram = a.guest_vram;
	c->create_guest_handle = a.create_guest_handle;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi) };
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };
	static struct ctx c;
	uint8_t b;

	memset(&c, 0, sizeof(c));
	c.f = fz_init(data, size);
	b = fz_u8(&c.f);
	mi.flags = VGALLOC_MOCK_COUNTING_ONLY | (b & 1 ? VGALLOC_MOCK_CROSS_DEVICE : 0) |
	           (b & 2 ? VGALLOC_MOCK_NO_WINDOW : 0) | (b & 4 ? VGALLOC_MOCK_NO_3D : 0) |
	           (b & 8 ? VGALLOC_MOCK_BLOB_ALIGNMENT : 0);
	mi.host_page_size = b & 16 ? 16384 : 0;
	mi.window_size = b & 32 ? 8u << 20 : 0;
	FZ_CHECK_EQ(vgalloc_mock_create(&mi, &c.mock), 0);
	FZ_CHECK_EQ(
	        vgalloc_mock_get_hooks(c.mock, b & 64 ? VGALLOC_MOCK_HOOKS_WAIT_CMD : 0, &c.hooks),
	        0);
	/* Adopt mode: several devices may share the consumer's initialised context. */
	if (!(b & 4)) {
		FZ_CHECK_EQ(vgalloc_mock_context_init(c.mock, VGALLOC_CAPSET_VENUS), 0);
	}
	decode_create_info(&c);
	create_device(&c);

	for (uint32_t op = 0; op < MAX_OPS && !fz_empty(&c.f); op++) {
		switch (fz_pick(&c.f, 8)) {
		case 0:
		case 1:
		case 2:
			op_request(&c);
			break;
		case 3:
		case 4:
			op_output(&c);
			break;
		case 5:
			op_blob_create(&c);
			break;
		case 6:
			op_blob_import(&c);
			break;
		default:
			switch (fz_pick(&c.f, 3)) {
			case 0:
				op_pieces(&c);
				break;
			case 1:
				op_mock_info(&c);
				break;
			default:
				op_null(&c);
				break;
			}
			break;
		}
	}

	for (uint32_t i = 0; i < c.nheld; i++) {
		FZ_CHECK_EQ(vgalloc_mem_free(c.dev, c.held[i]), 0);
	}
	FZ_CHECK(vgalloc_device_trim(c.dev) >= 0);
	vgalloc_device_destroy(c.dev);
	/* Everything the device made is gone: handles, blobs, host memory, mappings. */
	FZ_CHECK_EQ(vgalloc_mock_get_ledger(c.mock, &l), 0);
	FZ_CHECK_EQ(l.live_handles, 0);
	FZ_CHECK_EQ(l.live_blobs, 0);
	FZ_CHECK_EQ(l.host_allocs, 0);
	FZ_CHECK_EQ(l.mapped_blobs, 0);
	FZ_CHECK_EQ(l.window_bytes, 0);
	vgalloc_mock_destroy(c.mock);
	return 0;
}
