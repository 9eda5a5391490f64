/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the policy on arbitrary traits and requests, with and without reasons, held
 * against a model of the rules README.md and vgalloc.h state: request validation, the path and
 * its call order, blob_mem and the exact blob flags, the never-suballocate list, the pool key,
 * size and alignment. Reasons change nothing about the decision and fit any buffer, however
 * small; the name tables answer every value.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "blob.h"
#include "caps.h"
#include "mem.h"
#include "state.h"

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NTYPES 4

enum {
	S_NEW_BLOB_ID = VGALLOC_STEP_NEW_BLOB_ID,
	S_HOST_ALLOC = VGALLOC_STEP_HOST_ALLOC,
	S_HOST_WAIT = VGALLOC_STEP_HOST_WAIT,
	S_CREATE_BLOB = VGALLOC_STEP_CREATE_BLOB,
	S_ROUNDTRIP = VGALLOC_STEP_ROUNDTRIP,
	S_HOST_IMPORT = VGALLOC_STEP_HOST_IMPORT,
	S_PRIME_IMPORT = VGALLOC_STEP_PRIME_IMPORT,
	S_RESOURCE_INFO = VGALLOC_STEP_RESOURCE_INFO,
	S_MAP = VGALLOC_STEP_MAP,
	S_SUBALLOCATE = VGALLOC_STEP_SUBALLOCATE,
};

struct steps {
	uint32_t n;
	uint32_t s[VGALLOC_PLAN_MAX_STEPS];
};

static void check_steps(const uint32_t *got, uint32_t n, const struct steps *want)
{
	FZ_CHECK_EQ(n, want->n);
	for (uint32_t i = 0; i < n; i++) {
		FZ_CHECK_EQ(got[i], want->s[i]);
	}
}

#define STEPS(...)                                                      \
	(struct steps)                                                  \
	{                                                               \
		sizeof((uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t), \
		{                                                       \
			__VA_ARGS__                                     \
		}                                                       \
	}

/* vgalloc_plan_request()'s -EINVAL list (vgalloc.h), on an already zero-extended request. */
static int model_errno(const struct vgalloc__traits *t, const struct vgalloc_request *r,
                       uint32_t *type)
{
	bool found = false;

	for (uint32_t i = 0; i < t->type_count && !found; i++) {
		if (t->types[i].host_index == r->memory_type) {
			*type = i;
			found = true;
		}
	}
	/* One rule: unknown bits of every flags field and a non-zero reserved are -EINVAL. */
	if (!r->size || (r->alignment && !fz_is_pow2(r->alignment)) || (r->flags & ~0x7ffu) ||
	    ((r->flags & VGALLOC_REQUEST_EXACT_ALIGNMENT) && !r->alignment) ||
	    (r->allocate_flags & ~0xfu) || (r->export_handle_types & ~0x201u) || r->reserved ||
	    ((r->flags & VGALLOC_REQUEST_IMPORT_FD) && r->import_fd < 0) || !found ||
	    r->size > UINT64_MAX - (t->blob_alignment - 1)) {
		return -EINVAL;
	}
	return 0;
}

/* A memory type as the caller gave it: what the alignment model reads. */
struct raw_type {
	uint64_t base, map, atom, gran;
	bool optimal;
	uint32_t n;
	struct vgalloc_size_alignment e[VGALLOC_MAX_SIZE_ALIGNMENTS];
};

static uint64_t model_floor(const struct raw_type *rt, uint64_t a)
{
	return FZ_MAX(FZ_MAX(a, rt->map), FZ_MAX(rt->atom, rt->gran));
}

/* Whether the table is one vgalloc.h allows. */
static bool model_table_ok(const struct raw_type *rt)
{
	uint64_t base = rt->base ? rt->base : rt->optimal ? 65536 : 4096;

	for (uint32_t i = 0; i < rt->n; i++) {
		if (!rt->e[i].max_size || !fz_is_pow2(rt->e[i].alignment) ||
		    rt->e[i].alignment > (1ull << 30) || rt->e[i].alignment > base ||
		    (i && (rt->e[i].max_size <= rt->e[i - 1].max_size ||
		           rt->e[i].alignment < rt->e[i - 1].alignment))) {
			return false;
		}
	}
	return true;
}

/* vgalloc.h's rule for the offset alignment of a suballocation. */
static uint64_t model_alignment(const struct raw_type *rt, const struct vgalloc_request *r)
{
	uint64_t a = rt->base ? rt->base : rt->optimal ? 65536 : 4096;

	if (r->flags & VGALLOC_REQUEST_EXACT_ALIGNMENT) {
		uint64_t least = model_floor(rt, a);

		for (uint32_t i = 0; i < rt->n; i++) {
			least = FZ_MIN(least, model_floor(rt, rt->e[i].alignment));
		}
		return FZ_MAX(r->alignment, least);
	}
	for (uint32_t i = 0; i < rt->n; i++) {
		if (r->size <= rt->e[i].max_size) {
			a = rt->e[i].alignment;
			break;
		}
	}
	return FZ_MAX(model_floor(rt, a), r->alignment);
}

/* The never-suballocate list (vgalloc.h enum vgalloc_no_suballoc), bit by bit. */
static uint32_t model_no_suballoc(const struct vgalloc__traits *t, const struct vgalloc_request *r,
                                  bool hv, uint32_t path, uint64_t alignment)
{
	uint32_t f = r->flags, why = 0;

	why |= !hv ? VGALLOC_NO_SUBALLOC_NOT_HOST_VISIBLE : 0;
	why |= r->export_handle_types ? VGALLOC_NO_SUBALLOC_EXPORT : 0;
	why |= f & VGALLOC_REQUEST_IMPORT_FD ? VGALLOC_NO_SUBALLOC_IMPORT_FD : 0;
	why |= f & VGALLOC_REQUEST_IMPORT_HOST_POINTER ? VGALLOC_NO_SUBALLOC_HOST_POINTER : 0;
	why |= f & VGALLOC_REQUEST_IMPORT_AHB ? VGALLOC_NO_SUBALLOC_AHB : 0;
	why |= f & VGALLOC_REQUEST_DEDICATED_REQUIRED ? VGALLOC_NO_SUBALLOC_DEDICATED_REQUIRED : 0;
	why |= f & VGALLOC_REQUEST_DEDICATED_IMAGE ? VGALLOC_NO_SUBALLOC_DEDICATED_IMAGE : 0;
	why |= (r->allocate_flags & VGALLOC_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY) ||
	                       r->opaque_capture_address
	               ? VGALLOC_NO_SUBALLOC_CAPTURE_REPLAY
	               : 0;
	why |= r->allocate_flags & VGALLOC_ALLOCATE_ZERO_INITIALIZE
	               ? VGALLOC_NO_SUBALLOC_ZERO_INITIALIZE
	               : 0;
	why |= f & VGALLOC_REQUEST_PRIORITY ? VGALLOC_NO_SUBALLOC_PRIORITY : 0;
	why |= f & VGALLOC_REQUEST_WSI ? VGALLOC_NO_SUBALLOC_WSI : 0;
	why |= (f & VGALLOC_REQUEST_PLACED_MAP) || t->placed_maps ? VGALLOC_NO_SUBALLOC_PLACED_MAP
	                                                          : 0;
	why |= t->no_suballoc ? VGALLOC_NO_SUBALLOC_DISABLED : 0;
	why |= r->size > t->max_suballoc_size ? VGALLOC_NO_SUBALLOC_TOO_LARGE : 0;
	why |= path == VGALLOC_PATH_GUEST_HANDLE ? VGALLOC_NO_SUBALLOC_GUEST_HANDLE : 0;
	why |= t->gfxstream && t->deferred_mapping ? VGALLOC_NO_SUBALLOC_DEFERRED_MAPPING : 0;
	why |= t->max_suballoc_alignment && alignment > t->max_suballoc_alignment
	               ? VGALLOC_NO_SUBALLOC_ALIGNMENT
	               : 0;
	return why;
}

/* The plan README's path table and flag rules give for a valid request. */
static void check_model(const struct vgalloc__traits *t, const struct vgalloc_request *r,
                        uint32_t index, const struct vgalloc_plan *p, const struct raw_type *rt)
{
	const struct vgalloc__mem_type *ty = &t->types[index];
	bool hv = ty->property_flags & VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE;
	bool exported = r->export_handle_types != 0;
	bool gf = t->alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST;
	uint32_t main_mem = t->guest_vram ? 4 : VGALLOC_BLOB_MEM_HOST3D;
	uint32_t path, blob_mem = 0, flags = 0, why;
	struct steps alloc = { 0 }, map = { 0 };

	if (r->flags & (VGALLOC_REQUEST_IMPORT_HOST_POINTER | VGALLOC_REQUEST_IMPORT_AHB) ||
	    (r->export_handle_types &
	     ~(uint32_t)(VGALLOC_HANDLE_TYPE_OPAQUE_FD | VGALLOC_HANDLE_TYPE_DMA_BUF))) {
		path = VGALLOC_PATH_UNSUPPORTED;
	} else if (r->flags & VGALLOC_REQUEST_IMPORT_FD) {
		path = VGALLOC_PATH_IMPORT;
		blob_mem = main_mem;
		flags = hv ? VGALLOC_BLOB_FLAG_MAPPABLE : 0;
		alloc = STEPS(S_NEW_BLOB_ID, S_PRIME_IMPORT, S_RESOURCE_INFO, S_ROUNDTRIP,
		              S_HOST_IMPORT);
		map = hv ? STEPS(S_MAP) : map;
	} else if (t->create_guest_handle && exported &&
	           (r->flags & VGALLOC_REQUEST_DEDICATED_IMAGE)) {
		path = VGALLOC_PATH_GUEST_HANDLE;
		blob_mem = VGALLOC_BLOB_MEM_GUEST;
		flags = VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE |
		        8; /* CREATE_GUEST_HANDLE */
	} else if (t->create_guest_handle && t->gfxstream && hv && !exported) {
		/* gfxstream's own rule: every coherent allocation is a guest-handle blob. */
		path = VGALLOC_PATH_GUEST_HANDLE;
		blob_mem = VGALLOC_BLOB_MEM_GUEST;
		flags = VGALLOC_BLOB_FLAG_MAPPABLE | 8; /* CREATE_GUEST_HANDLE */
	} else if (!hv && !exported) {
		path = VGALLOC_PATH_HOST_ONLY;
		alloc = STEPS(S_NEW_BLOB_ID, S_HOST_ALLOC);
	} else {
		blob_mem = main_mem;
		flags |= hv || (gf && exported) ? VGALLOC_BLOB_FLAG_MAPPABLE : 0;
		flags |= exported ? VGALLOC_BLOB_FLAG_SHAREABLE : 0;
		flags |= (r->export_handle_types & VGALLOC_HANDLE_TYPE_DMA_BUF) && t->cross_device
		                 ? VGALLOC_BLOB_FLAG_CROSS_DEVICE
		                 : 0;
		map = STEPS(S_MAP);
		if (gf) {
			path = VGALLOC_PATH_GUEST_FIRST;
			alloc = STEPS(S_NEW_BLOB_ID, S_CREATE_BLOB, S_ROUNDTRIP, S_HOST_IMPORT);
		} else if (exported || (t->gfxstream && !t->deferred_mapping)) {
			path = VGALLOC_PATH_HOST_FIRST_EAGER;
			alloc = STEPS(S_NEW_BLOB_ID, S_HOST_ALLOC, S_HOST_WAIT, S_CREATE_BLOB);
		} else {
			path = VGALLOC_PATH_HOST_FIRST_LAZY;
			alloc = STEPS(S_NEW_BLOB_ID, S_HOST_ALLOC);
			map = STEPS(S_HOST_WAIT, S_CREATE_BLOB, S_MAP);
		}
		/* Only host-visible memory maps (an exported device-local one never does). */
		map = hv ? map : (struct steps){ 0 };
	}
	FZ_CHECK_EQ(p->struct_size, sizeof(*p));
	FZ_CHECK_EQ(p->path, path);
	FZ_CHECK_EQ(p->blob_mem, blob_mem);
	FZ_CHECK_EQ(p->blob_flags, flags);
	FZ_CHECK_EQ(p->alloc_mode, t->alloc_mode);
	FZ_CHECK_EQ(p->memory_type, ty->host_index);
	FZ_CHECK(p->size == fz_round_up(r->size, t->blob_alignment));
	why = model_no_suballoc(t, r, hv, path, model_alignment(rt, r));
	FZ_CHECK_EQ(p->no_suballoc, why);
	FZ_CHECK_EQ(p->suballocate, path != VGALLOC_PATH_UNSUPPORTED && !why);
	if (path == VGALLOC_PATH_GUEST_HANDLE) {
		/* Still settling: only its start is fixed. */
		FZ_CHECK(p->alloc_step_count >= 2 && p->alloc_steps[0] == S_NEW_BLOB_ID &&
		         p->alloc_steps[1] == S_CREATE_BLOB);
		return;
	}
	if (p->suballocate) {
		struct steps sub = { 1, { S_SUBALLOCATE } };

		for (uint32_t i = 0; i < alloc.n && sub.n < VGALLOC_PLAN_MAX_STEPS; i++) {
			sub.s[sub.n++] = alloc.s[i];
		}
		check_steps(p->alloc_steps, p->alloc_step_count, &sub);
		FZ_CHECK(p->alignment == model_alignment(rt, r));
		FZ_CHECK(p->alignment % ty->pool_alignment == 0);
		FZ_CHECK(p->pool_key == ((uint64_t)ty->host_index << 32 |
		                         (uint64_t)(r->allocate_flags & 0xffff) << 16 |
		                         (uint64_t)(flags & 0xff) << 8 | t->alloc_mode));
		FZ_CHECK(p->min_block_size == t->min_block_size);
	} else {
		check_steps(p->alloc_steps, p->alloc_step_count, &alloc);
		FZ_CHECK(p->alignment == t->blob_alignment);
		FZ_CHECK(p->pool_key == 0 && p->min_block_size == 0);
	}
	check_steps(p->map_steps, p->map_step_count, &map);
}

/* Every name table answers every value with a string. */
static void check_names(uint32_t v)
{
	FZ_CHECK(vgalloc_step_name(v) && vgalloc_no_suballoc_name(v) && vgalloc_path_name(v));
	FZ_CHECK(vgalloc_step_name(v % 16)[0]);
	/* Every reason up to the last one, VGALLOC_NO_SUBALLOC_ALIGNMENT, has a name. */
	FZ_CHECK((strcmp(vgalloc_no_suballoc_name(1u << (v % 32)), "unknown") != 0) ==
	         ((1u << (v % 32)) <= VGALLOC_NO_SUBALLOC_ALIGNMENT));
	FZ_CHECK((strcmp(vgalloc_path_name(v % 10), "unknown") != 0) ==
	         (v % 10 >= 1 && v % 10 <= 7));
	FZ_CHECK(vgalloc_capset_name(v) && vgalloc_capset_name(v % 12)[0]);
	for (uint32_t flavour = 0; flavour < 4; flavour++) {
		const char *name = vgalloc_param_name(flavour, v % 20);

		FZ_CHECK(!name || name[0]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vgalloc__mem_type types[NTYPES];
	struct raw_type raw[NTYPES];
	struct vgalloc__traits t;
	struct vgalloc_request r;
	struct vgalloc_plan a, b, c;
	char text[2048], small[96];
	struct vgalloc__why why = { text, sizeof(text), 0 };
	struct vgalloc__why tiny;
	struct fz f = fz_init(data, size);
	uint32_t bits, index = 0;
	int ra, rb, rc, exp;

	memset(&t, 0, sizeof(t));
	memset(&r, 0, sizeof(r));
	bits = fz_u32(&f);
	for (uint32_t i = 0; i < NTYPES; i++) {
		struct raw_type *rt = &raw[i];
		uint8_t shape = fz_u8(&f);

		/* Alignments as device.c accepts them (powers of two), a table that is mostly
		 * well-formed and sometimes not. */
		memset(rt, 0, sizeof(*rt));
		rt->base = shape & 1 ? 1ull << (6 + fz_pick(&f, 14)) : 0;
		rt->optimal = shape & 2;
		rt->map = shape & 4 ? 1ull << fz_pick(&f, 13) : 0;
		rt->atom = shape & 8 ? 1ull << fz_pick(&f, 9) : 0;
		rt->gran = shape & 16 ? 1ull << fz_pick(&f, 17) : 0;
		rt->n = (shape >> 5) % (VGALLOC_MAX_SIZE_ALIGNMENTS + 2);
		for (uint32_t k = 0, max = 0, al = 4; k < rt->n && k < VGALLOC_MAX_SIZE_ALIGNMENTS;
		     k++) {
			uint8_t step = fz_u8(&f);

			max += step & 0x80 ? step : (uint32_t)step << 10; /* 0 now and then */
			al += (step >> 5) & 1;                            /* non-decreasing */
			rt->e[k].max_size = max;
			rt->e[k].alignment =
			        step == 0x7f ? 3 : 1ull << al; /* 3: not a power of 2 */
		}
		types[i] = (struct vgalloc__mem_type){
			.host_index = i * 3 + (bits >> 30),
			.property_flags = fz_u8(&f),
			.flags = rt->optimal ? VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES : 0,
			.min_map_alignment = rt->map,
			.non_coherent_atom_size = rt->atom,
			.buffer_image_granularity = rt->gran,
			.base_alignment = rt->base,
			.size_alignment_count = rt->n,
		};
		memcpy(types[i].size_alignments, rt->e, sizeof(rt->e));
		/* device.c refuses a type whose table breaks the rules; the rest go on. */
		FZ_CHECK_EQ(vgalloc__type_alignments(&types[i]) == 0,
		            rt->n <= VGALLOC_MAX_SIZE_ALIGNMENTS && model_table_ok(rt));
		if (rt->n > VGALLOC_MAX_SIZE_ALIGNMENTS || !model_table_ok(rt)) {
			return 0;
		}
	}
	t.types = types;
	t.type_count = 1 + (bits & 3);
	t.alloc_mode =
	        (bits >> 2) & 1 ? VGALLOC_ALLOC_MODE_GUEST_FIRST : VGALLOC_ALLOC_MODE_HOST_FIRST;
	t.host_visible = (bits >> 3) & 1;
	t.cross_device = (bits >> 4) & 1;
	t.guest_vram = (bits >> 5) & 1;
	t.create_guest_handle = (bits >> 6) & 1;
	t.placed_maps = (bits >> 7) & 1;
	t.no_suballoc = (bits >> 8) & 1;
	t.gfxstream = (bits >> 9) & 1;
	t.deferred_mapping = (bits >> 10) & 1;
	t.blob_alignment = 1ull << (12 + ((bits >> 11) & 7));
	t.max_suballoc_size = (bits >> 14) & 1 ? 1ull << (10 + ((bits >> 15) & 31)) : 4u << 20;
	/* As devices set it (min(max_block_size, 4 MiB)), or 0: no limit. */
	t.max_suballoc_alignment = (bits >> 26) & 1 ? 0 : 1ull << (12 + ((bits >> 27) & 15));
	/* As traits.c sets it: the create-info's, else 16 MiB for gfxstream and 4 MiB otherwise. */
	t.min_block_size = (bits >> 31) & 1 ? 64ull << 10 : t.gfxstream ? 16ull << 20 : 4ull << 20;
	t.mode_reason = (bits >> 20) & 7;
	t.blob_alignment_source = (bits >> 23) & 7;
	r.struct_size = sizeof(r);
	r.memory_type = fz_pick(&f, 16);
	r.size = fz_u8(&f) & 1 ? fz_u64(&f) : fz_u32(&f);
	r.alignment = fz_u8(&f) & 1 ? fz_u64(&f) : 1ull << fz_pick(&f, 64);
	r.flags = fz_u16(&f);
	r.export_handle_types = fz_u8(&f) & 1 ? fz_u32(&f) : fz_u16(&f) & 0x201;
	r.allocate_flags = fz_u8(&f);
	r.import_fd = (int)fz_u8(&f) - 8;
	r.opaque_capture_address = fz_u8(&f);
	check_names(fz_u32(&f));

	exp = model_errno(&t, &r, &index);
	ra = vgalloc__plan(&t, &r, &a, NULL);
	rb = vgalloc__plan(&t, &r, &b, &why);
	FZ_CHECK_EQ(ra, exp);
	/* Reasons change nothing about the decision. */
	FZ_CHECK(ra == rb && (ra || !memcmp(&a, &b, sizeof(a))));
	/* A reason buffer of any size: the same decision and the same length, truncated text. */
	tiny = (struct vgalloc__why){ small, fz_pick(&f, sizeof(small) + 1), 0 };
	memset(small, 0x5a, sizeof(small));
	rc = vgalloc__plan(&t, &r, &c, &tiny);
	FZ_CHECK(rc == ra && (rc || !memcmp(&a, &c, sizeof(a))));
	if (ra) {
		return 0;
	}
	FZ_CHECK(why.len == tiny.len);
	if (why.len < sizeof(text)) {
		FZ_CHECK_EQ(strlen(text), why.len);
		FZ_CHECK(!strncmp(text, "request: ", 9));
		if (tiny.size) {
			FZ_CHECK_EQ(strlen(small), FZ_MIN(why.len, tiny.size - 1));
			FZ_CHECK(!strncmp(small, text, strlen(small)));
		}
	}
	for (size_t i = tiny.size; i < sizeof(small); i++) {
		FZ_CHECK_EQ((uint8_t)small[i], 0x5a);
	}
	FZ_CHECK((a.blob_flags & ~0xfu) == 0 && a.alloc_step_count <= VGALLOC_PLAN_MAX_STEPS &&
	         a.map_step_count <= VGALLOC_PLAN_MAX_STEPS);
	check_model(&t, &r, index, &a, &raw[index]);
	return 0;
}
