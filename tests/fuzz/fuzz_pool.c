/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: allocation op sequences decoded from the input, against a reference model.
 * Mode A drives the pure suballocator (lib/suballoc.h) with a fuzzed geometry and a metadata
 * allocator that fails on demand; mode B drives the public pool API on the mock (alloc, free,
 * map, unmap, trim, one injected backend or hook fault at a time). After every operation: no two
 * live allocations overlap, offsets honour the alignment, every byte lies within its block, a
 * free gives its bytes back, and the statistics equal the model's; a failed call changes nothing.
 * Mode B also writes each mapped allocation's bytes and checks them later, so an overlap that
 * the bookkeeping missed still shows as corrupted data. At the end nothing is left anywhere.
 */
#include <errno.h>

#include "blob.h"
#include "caps.h"
#include "mem.h"
#include "state.h"
#include "suballoc.h"
#include "vgalloc/vgalloc_diag.h"
#include "vgalloc/vgalloc_mock.h"

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS  256
#define MAX_LIVE 96

/* --- mode A: the pure suballocator --------------------------------------------------------- */

/* Metadata allocator: counts what is live and fails the nth call when asked to. */
struct meta {
	struct vgalloc_allocator a;
	uint64_t calls, fail_at, live;
	bool failed;
};

static void *meta_alloc(void *user, size_t size, size_t alignment, uint32_t scope)
{
	struct meta *m = user;
	void *p = NULL;

	(void)scope;
	if (++m->calls == m->fail_at) {
		m->failed = true;
		return NULL;
	}
	if (posix_memalign(&p, alignment < sizeof(void *) ? sizeof(void *) : alignment, size)) {
		return NULL;
	}
	m->live++;
	return p;
}

static void meta_free(void *user, void *ptr)
{
	struct meta *m = user;

	m->live--;
	free(ptr);
}

struct sa_live {
	struct vgalloc__sa_alloc a;
	uint64_t request, align;
};

struct sa_model {
	struct vgalloc__sa sa;
	struct vgalloc__sa_config cfg;
	struct meta meta;
	struct sa_live live[MAX_LIVE];
	uint32_t nlive;
	struct vgalloc__sa_block *blocks[64];
	uint32_t nblocks;
	uint64_t committed;
	bool default_slabs; /* the geometry vgalloc__sa_block_size() is written for */
};

static bool sa_block_known(const struct sa_model *m, const struct vgalloc__sa_block *b)
{
	for (uint32_t i = 0; i < m->nblocks; i++) {
		if (m->blocks[i] == b) {
			return true;
		}
	}
	return false;
}

static uint32_t sa_block_live(const struct sa_model *m, const struct vgalloc__sa_block *b)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->nlive; i++) {
		n += m->live[i].a.block == b;
	}
	return n;
}

/* The model's view of everything, compared with the allocator's own statistics. */
static void sa_check_all(struct sa_model *m)
{
	struct vgalloc__sa_stats st;
	uint64_t block_bytes = 0, used = 0, range_bytes = 0, slab_allocs = 0, class_used = 0;

	FZ_CHECK(vgalloc__sa_check(&m->sa));
	vgalloc__sa_get_stats(&m->sa, &st);
	for (uint32_t i = 0; i < m->nblocks; i++) {
		block_bytes += m->blocks[i]->size;
		FZ_CHECK_EQ(m->blocks[i]->live, sa_block_live(m, m->blocks[i]));
	}
	for (uint32_t i = 0; i < m->nlive; i++) {
		used += m->live[i].a.size;
		if (m->live[i].a.index == UINT32_MAX) {
			range_bytes += m->live[i].a.size;
		} else {
			slab_allocs++;
		}
	}
	for (uint32_t i = 0; i < st.class_count; i++) {
		class_used += st.classes[i].used;
	}
	FZ_CHECK_EQ(st.blocks, m->nblocks);
	FZ_CHECK_EQ(st.block_bytes, block_bytes);
	FZ_CHECK_EQ(st.live, m->nlive);
	FZ_CHECK_EQ(st.used_bytes, used);
	FZ_CHECK_EQ(class_used, slab_allocs);
	/* Every byte of every block is free, a slab's, or a range allocation's. */
	FZ_CHECK_EQ(st.free_bytes + st.slab_bytes + range_bytes, block_bytes);
	FZ_CHECK(st.largest_free <= st.free_bytes);
	FZ_CHECK_EQ(m->committed, block_bytes);
}

/* A new allocation against every live one: aligned, inside its block, overlapping nothing. */
static void sa_check_new(const struct sa_model *m, const struct vgalloc__sa_alloc *a,
                         uint64_t request, uint64_t align)
{
	uint64_t g = m->cfg.granularity;

	FZ_CHECK(sa_block_known(m, a->block));
	FZ_CHECK(a->offset % FZ_MAX(align, g) == 0);
	FZ_CHECK(a->size >= fz_round_up(request, g) && a->size % g == 0);
	FZ_CHECK(a->offset + a->size <= a->block->size && a->offset + a->size > a->offset);
	for (uint32_t i = 0; i < m->nlive; i++) {
		const struct vgalloc__sa_alloc *o = &m->live[i].a;

		if (o->block == a->block) {
			FZ_CHECK(a->offset + a->size <= o->offset ||
			         o->offset + o->size <= a->offset);
		}
	}
}

static uint64_t sa_request(struct fz *f, uint64_t g)
{
	switch (fz_pick(f, 8)) {
	case 0:
		return 0;
	case 1:
	case 2:
		return 1 + fz_u8(f) * (g / 16 ? g / 16 : 1);
	case 3:
	case 4:
		return 1 + fz_u16(f);
	case 5:
		return 1 + (fz_u32(f) & 0x3fffff);
	case 6:
		return 1 + (fz_u32(f) & 0x3ffffff);
	default:
		return fz_u64(f);
	}
}

static void sa_alloc_op(struct sa_model *m, struct fz *f)
{
	uint64_t g = m->cfg.granularity, request = sa_request(f, g), align;
	struct vgalloc__sa_stats before, after;
	struct vgalloc__sa_alloc a;
	uint8_t b = fz_u8(f);
	int ret;

	align = b < 96 ? 0 : b < 250 ? 1ull << (b % 24) : b;
	vgalloc__sa_get_stats(&m->sa, &before);
	ret = vgalloc__sa_alloc(&m->sa, request, align, &a);
	if (!request || request > (1ull << 62) || (align && !fz_is_pow2(align))) {
		FZ_CHECK_EQ(ret, -EINVAL);
		return;
	}
	if (ret == -ENOSPC && m->nblocks < 64 && request <= (1ull << 32) && align <= (1ull << 24)) {
		/* The pool's growth rule: a fresh block of this size always takes the request. */
		uint64_t size = vgalloc__sa_block_size(request, align, m->committed, 1u << 20,
		                                       64u << 20, g);
		struct vgalloc__sa_block *blk;

		if (vgalloc__sa_add_block(&m->sa, size, NULL, &blk)) {
			FZ_CHECK(m->meta.failed);
			return;
		}
		m->blocks[m->nblocks++] = blk;
		m->committed += size;
		vgalloc__sa_get_stats(&m->sa, &before);
		ret = vgalloc__sa_alloc(&m->sa, request, align, &a);
		FZ_CHECK(ret != -ENOSPC || !m->default_slabs);
	}
	if (ret) {
		FZ_CHECK(ret == -ENOSPC || (ret == -ENOMEM && m->meta.failed));
		/* A failure changes nothing. */
		vgalloc__sa_get_stats(&m->sa, &after);
		FZ_CHECK(!memcmp(&before, &after,
		                 offsetof(struct vgalloc__sa_stats, metadata_bytes)));
		return;
	}
	sa_check_new(m, &a, request, align);
	if (m->nlive == MAX_LIVE) {
		FZ_CHECK(vgalloc__sa_free(&m->sa, &a) ==
		         (sa_block_live(m, a.block) ? NULL : a.block));
		return;
	}
	m->live[m->nlive++] = (struct sa_live){ a, request, align };
}

static void sa_free_op(struct sa_model *m, struct fz *f)
{
	struct vgalloc__sa_block *emptied;
	struct sa_live l;
	uint32_t i;

	if (!m->nlive) {
		return;
	}
	i = fz_pick(f, m->nlive);
	l = m->live[i];
	m->live[i] = m->live[--m->nlive];
	emptied = vgalloc__sa_free(&m->sa, &l.a);
	/* It reports its block exactly when that block has nothing left in it. */
	FZ_CHECK(emptied == (sa_block_live(m, l.a.block) ? NULL : l.a.block));
	if (emptied) {
		FZ_CHECK_EQ(emptied->used, 0);
	}
}

static void sa_trim_op(struct sa_model *m)
{
	for (uint32_t i = 0; i < m->nblocks;) {
		struct vgalloc__sa_block *b = m->blocks[i];

		if (sa_block_live(m, b)) {
			i++;
			continue;
		}
		FZ_CHECK_EQ(b->used, 0);
		m->committed -= b->size;
		vgalloc__sa_remove_block(&m->sa, b);
		m->blocks[i] = m->blocks[--m->nblocks];
	}
}

static void run_suballoc(struct fz *f)
{
	static struct sa_model m;
	uint8_t b;

	memset(&m, 0, sizeof(m));
	m.meta.a = (struct vgalloc_allocator){ &m.meta, meta_alloc, meta_free };
	m.cfg.granularity = 16ull << fz_pick(f, 13);
	b = fz_u8(f);
	m.cfg.slab_max = b < 128 ? 0 : m.cfg.granularity << (b % 12);
	b = fz_u8(f);
	m.cfg.slab_bytes = b < 128 ? 0 : 4096ull << (b % 6);
	m.cfg.allocator = &m.meta.a;
	m.default_slabs = !m.cfg.slab_max && !m.cfg.slab_bytes;
	b = fz_u8(f);
	m.meta.fail_at = b < 200 ? 0 : 1 + (b - 200);
	if (vgalloc__sa_init(&m.sa, &m.cfg)) {
		FZ_CHECK(m.meta.failed);
		FZ_CHECK_EQ(m.meta.live, 0);
		return;
	}
	for (uint32_t op = 0; op < MAX_OPS && !fz_empty(f); op++) {
		switch (fz_pick(f, 10)) {
		case 0:
		case 1:
		case 2:
		case 3:
			sa_alloc_op(&m, f);
			break;
		case 4:
		case 5:
		case 6:
			sa_free_op(&m, f);
			break;
		case 7:
			sa_trim_op(&m);
			break;
		case 8:
			/* A block added by hand, of any size the allocator accepts. */
			if (m.nblocks < 64) {
				uint64_t size =
				        fz_round_up(1 + (fz_u32(f) & 0xffffff), m.cfg.granularity);
				struct vgalloc__sa_block *blk;

				if (!vgalloc__sa_add_block(&m.sa, size, NULL, &blk)) {
					m.blocks[m.nblocks++] = blk;
					m.committed += size;
				} else {
					FZ_CHECK(m.meta.failed);
				}
			}
			break;
		default:
			FZ_CHECK(vgalloc__sa_block_size(fz_u16(f) + 1, 0, fz_u32(f), 1u << 20,
			                                64u << 20,
			                                m.cfg.granularity) >= (1u << 20));
			break;
		}
		sa_check_all(&m);
	}
	/* Free everything, in the input's order: every block empties and leaves. */
	while (m.nlive) {
		sa_free_op(&m, f);
	}
	sa_check_all(&m);
	sa_trim_op(&m);
	sa_check_all(&m);
	FZ_CHECK_EQ(m.nblocks, 0);
	vgalloc__sa_finish(&m.sa);
	FZ_CHECK_EQ(m.meta.live, 0);
}

/* --- mode B: the public pool on the mock --------------------------------------------------- */

#define NTYPES 3

struct live {
	struct vgalloc_mem *mem;
	uint64_t size, offset, committed, host_handle, align;
	bool sub;
	bool visible;
	uint8_t fill;
	unsigned char *ptr;
	uint32_t maps;
};

struct pool_model {
	struct vgalloc_mock *mock;
	struct vgalloc_device *dev;
	struct live live[MAX_LIVE];
	uint32_t nlive;
	uint8_t next_fill;
	bool faulted;      /* a fault is armed for this operation */
	bool ever_faulted; /* teardown may have met one: host work can be left pending */
};

static void pool_check_stats(struct pool_model *m)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	uint64_t sub = 0, sub_bytes = 0, ded = 0, ded_bytes = 0, pool_live = 0;
	struct vgalloc_pool_stats ps = { .struct_size = sizeof(ps) };
	uint32_t i;

	for (i = 0; i < m->nlive; i++) {
		if (m->live[i].sub) {
			sub++;
			sub_bytes += m->live[i].size;
		} else {
			ded++;
			ded_bytes += m->live[i].size;
		}
	}
	FZ_CHECK_EQ(vgalloc_device_get_stats(m->dev, &st), 0);
	FZ_CHECK_EQ(st.suballocs_live, sub);
	FZ_CHECK_EQ(st.suballoc_bytes, sub_bytes);
	FZ_CHECK_EQ(st.mems_live, ded);
	FZ_CHECK_EQ(st.mem_bytes_requested, ded_bytes);
	FZ_CHECK(st.retained_bytes <= st.block_bytes);
	for (i = 0; !vgalloc_device_get_pool_stats(m->dev, i, &ps); i++) {
		pool_live += ps.live;
		FZ_CHECK(ps.used_bytes >= ps.requested_bytes);
		FZ_CHECK(ps.used_bytes + ps.free_bytes <= ps.block_bytes);
		FZ_CHECK(ps.largest_free <= ps.free_bytes);
		FZ_CHECK(ps.retained_bytes <= ps.block_bytes);
	}
	FZ_CHECK_EQ(i, st.pools);
	FZ_CHECK_EQ(pool_live, sub);
}

/* The bytes of an allocation that are written and checked: 0..7, then every 1/8 more, the last. */
static uint64_t next_probe(uint64_t j, uint64_t size)
{
	uint64_t n = j + 1 + j / 8;

	return n < size || j == size - 1 ? n : size - 1;
}

/* Mapped bytes still hold what was written: nothing else wrote over them. */
static void pool_check_bytes(const struct pool_model *m)
{
	for (uint32_t i = 0; i < m->nlive; i++) {
		const struct live *l = &m->live[i];

		for (uint64_t j = 0; l->ptr && j < l->size; j = next_probe(j, l->size)) {
			if (l->ptr[j] != (uint8_t)(l->fill + j)) {
				fz_fail(__FILE__, __LINE__,
				        "allocation %u (offset %llu, %llu bytes): byte %llu "
				        "overwritten",
				        i, (unsigned long long)l->offset,
				        (unsigned long long)l->size, (unsigned long long)j);
			}
		}
	}
}

static void pool_alloc(struct pool_model *m, struct fz *f)
{
	static const uint32_t flags[] = { 0,
		                          0,
		                          0,
		                          0,
		                          VGALLOC_REQUEST_DEDICATED_IMAGE,
		                          VGALLOC_REQUEST_DEDICATED_BUFFER,
		                          VGALLOC_REQUEST_WSI,
		                          VGALLOC_REQUEST_PLACED_MAP };
	struct vgalloc_request r = { .struct_size = sizeof(r) };
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
	struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };
	struct vgalloc_mem *mem = NULL;
	struct live *l;
	uint8_t b;
	int ret;

	r.memory_type = fz_pick(f, NTYPES);
	b = fz_u8(f);
	r.size = b < 160   ? 1 + fz_u8(f) * 64ull
	         : b < 240 ? 1 + (fz_u32(f) & 0x3ffff)
	                   : 1 + (fz_u32(f) & 0x7fffff);
	b = fz_u8(f);
	r.alignment = b < 192 ? 0 : 1ull << (b % 24);
	r.allocate_flags = fz_pick(f, 4);
	r.flags = flags[fz_pick(f, FZ_ARRAY_SIZE(flags))];
	FZ_CHECK_EQ(vgalloc_plan_request(m->dev, &r, &plan), 0);
	ret = vgalloc_mem_alloc(m->dev, &r, &mem);
	fz_trace("alloc type %u size %llu align %llu aflags %u flags 0x%x: %d (live %u)",
	         r.memory_type, (unsigned long long)r.size, (unsigned long long)r.alignment,
	         r.allocate_flags, r.flags, ret, m->nlive);
	if (ret) {
		FZ_CHECK(!mem);
		if (ret != -ENOSPC && !m->faulted) {
			fz_fail(__FILE__, __LINE__, "vgalloc_mem_alloc: %d", ret);
		}
		return;
	}
	FZ_CHECK_EQ(vgalloc_mem_get_info(m->dev, mem, &mi), 0);
	FZ_CHECK(mi.size == r.size && mi.committed >= r.size);
	FZ_CHECK_EQ(mi.memory_type, r.memory_type);
	FZ_CHECK(mi.host_handle != 0);
	/* Only what the plan allows shares a block, and then at the plan's alignment. */
	if (mi.flags & VGALLOC_MEM_INFO_SUBALLOCATED) {
		FZ_CHECK(plan.suballocate);
		FZ_CHECK(mi.offset % plan.alignment == 0);
		for (uint32_t i = 0; i < m->nlive; i++) {
			const struct live *o = &m->live[i];

			if (o->sub && o->host_handle == mi.host_handle) {
				FZ_CHECK(mi.offset + mi.committed <= o->offset ||
				         o->offset + o->committed <= mi.offset);
			}
		}
	} else {
		FZ_CHECK_EQ(mi.offset, 0);
		FZ_CHECK(mi.committed == plan.size);
		for (uint32_t i = 0; i < m->nlive; i++) {
			FZ_CHECK(m->live[i].host_handle != mi.host_handle);
		}
	}
	if (mi.blob) {
		struct vgalloc_blob_info bi = { .struct_size = sizeof(bi) };

		FZ_CHECK_EQ(vgalloc_blob_get_info(m->dev, mi.blob, &bi), 0);
		FZ_CHECK(mi.offset + mi.committed <= bi.size);
	}
	if (m->nlive == MAX_LIVE) {
		FZ_CHECK_EQ(vgalloc_mem_free(m->dev, mem), 0);
		return;
	}
	l = &m->live[m->nlive++];
	memset(l, 0, sizeof(*l));
	l->mem = mem;
	l->size = r.size;
	l->offset = mi.offset;
	l->committed = mi.committed;
	l->host_handle = mi.host_handle;
	l->align = plan.alignment;
	l->sub = mi.flags & VGALLOC_MEM_INFO_SUBALLOCATED;
	l->visible = r.memory_type != 2;
	l->fill = m->next_fill++;
}

static void pool_free(struct pool_model *m, struct fz *f)
{
	struct live l;
	uint32_t i;

	if (!m->nlive) {
		return;
	}
	i = fz_pick(f, m->nlive);
	l = m->live[i];
	fz_trace("free %u (offset %llu size %llu)", i, (unsigned long long)l.offset,
	         (unsigned long long)l.size);
	FZ_CHECK_EQ(vgalloc_mem_free(m->dev, l.mem), 0);
	m->live[i] = m->live[--m->nlive];
	/* The handle is dead now (its slot is reused first-in first-out, not at once). */
	FZ_CHECK_EQ(vgalloc_mem_free(m->dev, l.mem), -EINVAL);
}

static void pool_map(struct pool_model *m, struct fz *f)
{
	struct live *l;
	void *ptr = NULL;
	int ret;

	if (!m->nlive) {
		return;
	}
	l = &m->live[fz_pick(f, m->nlive)];
	ret = vgalloc_mem_map(m->dev, l->mem, &ptr);
	fz_trace("map %u (offset %llu size %llu host %llu): %d", (unsigned)(l - m->live),
	         (unsigned long long)l->offset, (unsigned long long)l->size,
	         (unsigned long long)l->host_handle, ret);
	if (!l->visible) {
		FZ_CHECK_EQ(ret, -EINVAL);
		return;
	}
	if (ret) {
		if (ret != -ENOSPC && !m->faulted) {
			fz_fail(__FILE__, __LINE__, "vgalloc_mem_map: %d (%s)", ret,
			        l->sub ? "suballocation" : "dedicated");
		}
		return;
	}
	if (l->ptr) {
		FZ_CHECK(ptr == l->ptr);
	} else {
		l->ptr = ptr;
		/* The allocation's bytes are writable and nobody else's: its first and last byte
		 * and a sample in between (geometric, so large ones stay cheap). */
		for (uint64_t j = 0; j < l->size; j = next_probe(j, l->size)) {
			l->ptr[j] = (uint8_t)(l->fill + j);
		}
	}
	l->maps++;
}

static void pool_unmap(struct pool_model *m, struct fz *f)
{
	struct live *l;

	if (!m->nlive) {
		return;
	}
	l = &m->live[fz_pick(f, m->nlive)];
	if (!l->maps) {
		FZ_CHECK_EQ(vgalloc_mem_unmap(m->dev, l->mem), -EINVAL);
		return;
	}
	FZ_CHECK_EQ(vgalloc_mem_unmap(m->dev, l->mem), 0);
	/* A suballocation's block stays mapped; a dedicated blob unmaps with its last reference. */
	if (!--l->maps && !l->sub) {
		l->ptr = NULL;
	}
}

static void run_pool(struct fz *f)
{
	static struct pool_model m;
	static const uint32_t kinds[] = {
		VGALLOC_MOCK_CALL_ANY,
		VGALLOC_MOCK_CALL_BLOB_CREATE,
		VGALLOC_MOCK_CALL_BLOB_MAP,
		VGALLOC_MOCK_CALL_HOST_ALLOC,
		VGALLOC_MOCK_CALL_HOST_WAIT,
		VGALLOC_MOCK_CALL_HOST_IMPORT,
		VGALLOC_MOCK_CALL_HOST_ROUNDTRIP,
	};
	static const int errs[] = { EIO, ENOMEM, ENOSPC, EINVAL };
	struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi) };
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };
	struct vgalloc_host_hooks hooks;
	struct vgalloc_memory_type types[NTYPES];
	struct vgalloc_device_create_info ci = { .struct_size = sizeof(ci) };
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	uint8_t b;

	memset(&m, 0, sizeof(m));
	b = fz_u8(f);
	mi.profile = b & 1 ? VGALLOC_MOCK_PROFILE_STATIC : VGALLOC_MOCK_PROFILE_INJECTING;
	mi.host_page_size = b & 2 ? 16384 : 0;
	/* A host whose queue runs in order (its hooks table says so: the library may skip waits),
	 * and one that names its allocations itself. */
	mi.flags = (b & 8 ? VGALLOC_MOCK_IN_ORDER : 0) | (b & 16 ? VGALLOC_MOCK_HOST_BLOB_ID : 0);
	mi.window_size = (16ull << 20) << fz_pick(f, 5);
	FZ_CHECK_EQ(vgalloc_mock_create(&mi, &m.mock), 0);
	FZ_CHECK_EQ(vgalloc_mock_get_hooks(m.mock, b & 4 ? VGALLOC_MOCK_HOOKS_WAIT_CMD : 0, &hooks),
	            0);
	for (uint32_t i = 0; i < NTYPES; i++) {
		types[i] = (struct vgalloc_memory_type){
			.struct_size = sizeof(types[i]),
			.host_index = i,
			.property_flags = VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
			                  VGALLOC_MEMORY_PROPERTY_HOST_COHERENT,
			.flags = fz_bool(f) ? VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES : 0,
			.non_coherent_atom_size = fz_bool(f) ? 64u << fz_pick(f, 12) : 0,
			.base_alignment = fz_bool(f) ? 256u << fz_pick(f, 12) : 0,
		};
	}
	types[2].property_flags =
	        VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL; /* host-only: never pooled */
	ci.backend = VGALLOC_BACKEND_MOCK;
	ci.backend_object = m.mock;
	ci.mode = VGALLOC_DEVICE_MODE_OWN;
	ci.capset_id = VGALLOC_CAPSET_VENUS;
	ci.memory_types = types;
	ci.memory_type_count = NTYPES;
	ci.hooks = &hooks;
	ci.host_page_size = mi.host_page_size;
	ci.pool_shards = 1 + fz_pick(f, 4);
	b = fz_u8(f);
	ci.retain_bytes = b < 64    ? 0
	                  : b < 128 ? 4096
	                  : b < 192 ? UINT64_MAX
	                            : (4ull << 20) << (b % 4);
	b = fz_u8(f);
	ci.min_block_size = b < 128 ? 0 : (64ull << 10) << (b % 8);
	ci.max_block_size = b < 128 ? 0 : FZ_MAX(ci.min_block_size, (4ull << 20) << (b % 4));
	ci.max_suballoc_size = fz_bool(f) ? (64ull << 10) << fz_pick(f, 8) : 0;
	/* No alloc_mode override: the order must be the host's (the injecting profile is
	 * host-first, the static one's capset says use_guest_vram), or every map fails. */
	FZ_CHECK_EQ(vgalloc_device_create(&ci, &m.dev), 0);
	fz_trace("pool: profile %u mock flags 0x%x page %u window %llu shards %u retain %llu "
	         "blocks %llu..%llu max_suballoc %llu",
	         mi.profile, mi.flags, mi.host_page_size, (unsigned long long)mi.window_size,
	         ci.pool_shards, (unsigned long long)ci.retain_bytes,
	         (unsigned long long)ci.min_block_size, (unsigned long long)ci.max_block_size,
	         (unsigned long long)ci.max_suballoc_size);

	for (uint32_t op = 0; op < MAX_OPS && !fz_empty(f); op++) {
		bool armed = false;

		/* Now and then the next operation meets one failing backend or hook call. */
		b = fz_u8(f);
		if (b >= 224) {
			FZ_CHECK_EQ(vgalloc_mock_fail_nth(m.mock, kinds[b % FZ_ARRAY_SIZE(kinds)],
			                                  1 + fz_pick(f, 4),
			                                  errs[fz_pick(f, FZ_ARRAY_SIZE(errs))]),
			            0);
			armed = true;
			fz_trace("fault armed");
		}
		m.faulted = armed;
		m.ever_faulted |= armed;
		switch (fz_pick(f, 12)) {
		case 0:
		case 1:
		case 2:
		case 3:
			pool_alloc(&m, f);
			break;
		case 4:
		case 5:
		case 6:
			pool_free(&m, f);
			break;
		case 7:
		case 8:
			pool_map(&m, f);
			break;
		case 9:
			pool_unmap(&m, f);
			break;
		case 10:
			fz_trace("trim");
			FZ_CHECK(vgalloc_device_trim(m.dev) >= 0);
			FZ_CHECK_EQ(vgalloc_device_get_stats(m.dev, &st), 0);
			FZ_CHECK_EQ(st.retained_bytes, 0);
			break;
		default:
			pool_check_bytes(&m);
			break;
		}
		if (armed) {
			vgalloc_mock_fail_clear(m.mock);
		}
		pool_check_stats(&m);
	}
	pool_check_bytes(&m);
	while (m.nlive) {
		pool_free(&m, f);
	}
	pool_check_stats(&m);
	FZ_CHECK(vgalloc_device_trim(m.dev) >= 0);
	FZ_CHECK_EQ(vgalloc_device_get_stats(m.dev, &st), 0);
	FZ_CHECK_EQ(st.blocks, 0);
	FZ_CHECK_EQ(st.block_bytes, 0);
	FZ_CHECK_EQ(st.retained_bytes, 0);
	FZ_CHECK_EQ(st.blobs_live, 0);
	FZ_CHECK_EQ(st.window_bytes, 0);
	vgalloc_device_destroy(m.dev);
	FZ_CHECK_EQ(vgalloc_mock_get_ledger(m.mock, &l), 0);
	FZ_CHECK_EQ(l.live_handles, 0);
	FZ_CHECK_EQ(l.live_blobs, 0);
	FZ_CHECK_EQ(l.host_allocs, 0);
	FZ_CHECK_EQ(l.window_bytes, 0);
	FZ_CHECK_EQ(l.mapped_blobs, 0);
	FZ_CHECK_EQ(l.context_lost, 0);
	if (!m.ever_faulted) {
		FZ_CHECK_EQ(l.pending_tokens, 0);
		FZ_CHECK_EQ(l.order_violations, 0);
	}
	vgalloc_mock_destroy(m.mock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);

	if (fz_u8(&f) & 1) {
		run_pool(&f);
	} else {
		run_suballoc(&f);
	}
	return 0;
}
