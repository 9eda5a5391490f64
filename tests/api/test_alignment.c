/* SPDX-License-Identifier: MIT */
/*
 * Suballocation alignment (vgalloc.h, struct vgalloc_memory_type): the consumer's base alignment,
 * its size-alignment table, a request's exact alignment, the floors, and the tables the library
 * refuses. The mock checks the arithmetic only; whether a host accepts resources bound at these
 * offsets is the Venus tier's question.
 */
#include "../harness.h"

#include "vgalloc/vgalloc_diag.h"

/* A device whose memory types the test sets up (the fixture's three, then `edit`). */
static struct fx *align_fx(void (*edit)(struct vgalloc_memory_type types[3]), int *create_ret)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fds_before = count_open_fds();
	f->mock = fx_mock_new(&(struct fx_opts){ 0 });
	assert_int_equal(vgalloc_mock_get_hooks(f->mock, 0, &f->hooks), 0);
	fx_create_info(f, &(struct fx_opts){ 0 }, types, &ci);
	if (edit) {
		edit(types);
	}
	*create_ret = vgalloc_device_create(&ci, &f->dev);
	return f;
}

static uint64_t plan_alignment(struct fx *f, const struct vgalloc_request *r)
{
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };

	assert_int_equal(vgalloc_plan_request(f->dev, r, &plan), 0);
	assert_int_equal(plan.suballocate, 1);
	return plan.alignment;
}

static struct vgalloc_mem_info info_of(struct fx *f, struct vgalloc_mem *mem)
{
	struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };

	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &mi), 0);
	assert_true(mi.flags & VGALLOC_MEM_INFO_SUBALLOCATED);
	return mi;
}

static uint64_t blocks(struct fx *f)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	return st.blocks;
}

static void optimal_guess(struct vgalloc_memory_type types[3])
{
	types[TYPE_HOST_COHERENT].flags = VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES;
}

static void optimal_host_64(struct vgalloc_memory_type types[3])
{
	optimal_guess(types);
	types[TYPE_HOST_COHERENT].base_alignment = 64;
}

/* 100 live 4 KiB objects: with the 64 KiB guess each takes a 64 KiB slot (6.4 MiB: two 4 MiB
 * blocks); with the host's 64 bytes they sit 4 KiB apart in one block. */
static void base__host_alignment_packs_small_objects(void **state)
{
	void (*edits[2])(struct vgalloc_memory_type *) = { optimal_guess, optimal_host_64 };
	const uint64_t want_step[2] = { 65536, 4096 }, want_blocks[2] = { 2, 1 };

	(void)state;
	for (int k = 0; k < 2; k++) {
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
		struct vgalloc_mem *mem[100];
		uint64_t lo = UINT64_MAX, hi = 0;
		int ret;
		struct fx *f = align_fx(edits[k], &ret);

		assert_int_equal(ret, 0);
		assert_int_equal(plan_alignment(f, &r), k ? 64 : 65536);
		for (int i = 0; i < 100; i++) {
			struct vgalloc_mem_info mi;

			assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem[i]), 0);
			mi = info_of(f, mem[i]);
			assert_int_equal(mi.offset % want_step[k], 0);
			if (i < 50) { /* the first block's */
				lo = mi.offset < lo ? mi.offset : lo;
				hi = mi.offset > hi ? mi.offset : hi;
			}
		}
		assert_int_equal(blocks(f), want_blocks[k]);
		/* 50 objects span exactly 50 slots of the step. */
		assert_int_equal(hi - lo, 49 * want_step[k]);
		for (int i = 0; i < 100; i++) {
			assert_int_equal(vgalloc_mem_free(f->dev, mem[i]), 0);
		}
		fx_free(f);
	}
}

/* 64 KiB for what the table does not cover; 256 bytes up to 4 KiB; 4 KiB up to 1 MiB. */
static void size_table(struct vgalloc_memory_type types[3])
{
	struct vgalloc_memory_type *t = &types[TYPE_HOST_COHERENT];

	t->base_alignment = 65536;
	t->size_alignment_count = 2;
	t->size_alignments[0] = (struct vgalloc_size_alignment){ 4096, 256 };
	t->size_alignments[1] = (struct vgalloc_size_alignment){ 1u << 20, 4096 };
}

static void table__size_picks_the_entry(void **state)
{
	static const struct {
		uint64_t size, align;
	} cases[] = {
		{ 1, 256 },          { 4096, 256 },      { 4097, 4096 },
		{ 300000, 4096 },    { 1u << 20, 4096 }, { (1u << 20) + 1, 65536 },
		{ 3u << 20, 65536 },
	};
	struct vgalloc_mem *mem[sizeof(cases) / sizeof(cases[0])];
	int ret;
	struct fx *f = align_fx(size_table, &ret);

	(void)state;
	assert_int_equal(ret, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, cases[i].size);

		print_message("  %llu bytes\n", (unsigned long long)cases[i].size);
		assert_int_equal(plan_alignment(f, &r), cases[i].align);
		assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem[i]), 0);
		assert_int_equal(info_of(f, mem[i]).offset % cases[i].align, 0);
	}
	/* A request's alignment raises the rule. */
	{
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 100);

		r.alignment = 8192;
		assert_int_equal(plan_alignment(f, &r), 8192);
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, mem[i]), 0);
	}
	fx_free(f);
}

/* A request that knows its resources sets the alignment, below or above the rule, but never
 * below the smallest alignment the type's rule gives (here 256 bytes). */
static void exact__replaces_the_rule_down_to_the_pool_granularity(void **state)
{
	static const struct {
		uint64_t size, align, want;
	} cases[] = {
		{ 300, 1024, 1024 },         /* above the table's 256 */
		{ 200000, 512, 512 },        /* below the table's 4096 */
		{ 2u << 20, 4096, 4096 },    /* below the base 64 KiB */
		{ 100, 16, 256 },            /* raised to the pool's granularity */
		{ 100, 1u << 20, 1u << 20 }, /* far above */
	};
	int ret;
	struct fx *f = align_fx(size_table, &ret);

	(void)state;
	assert_int_equal(ret, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, cases[i].size);
		struct vgalloc_mem *mem = NULL;

		r.flags = VGALLOC_REQUEST_EXACT_ALIGNMENT;
		r.alignment = cases[i].align;
		assert_int_equal(plan_alignment(f, &r), cases[i].want);
		assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
		assert_int_equal(info_of(f, mem).offset % cases[i].want, 0);
		assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	}
	/* EXACT without an alignment says nothing: refused, nothing made. */
	{
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 100);
		struct vgalloc_mem *mem = (struct vgalloc_mem *)&r;

		r.flags = VGALLOC_REQUEST_EXACT_ALIGNMENT;
		assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EINVAL);
		assert_ptr_equal(mem, &r);
	}
	fx_free(f);
}

/* The floors (map alignment, atom, granularity) apply to the table and to exact requests. */
static void floors(struct vgalloc_memory_type types[3])
{
	size_table(types);
	types[TYPE_HOST_COHERENT].min_map_alignment = 1024;
}

static void table__floors_still_apply(void **state)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 100);
	int ret;
	struct fx *f = align_fx(floors, &ret);

	(void)state;
	assert_int_equal(ret, 0);
	assert_int_equal(plan_alignment(f, &r), 1024);
	r.flags = VGALLOC_REQUEST_EXACT_ALIGNMENT;
	r.alignment = 64;
	assert_int_equal(plan_alignment(f, &r), 1024);
	fx_free(f);
}

/* Tables the rules forbid: refused at device creation. */
static int bad_case;

static void bad_table(struct vgalloc_memory_type types[3])
{
	struct vgalloc_memory_type *t = &types[TYPE_HOST_COHERENT];

	size_table(types);
	switch (bad_case) {
	case 0: /* max_size not ascending */
		t->size_alignments[1].max_size = 4096;
		break;
	case 1: /* max_size 0 */
		t->size_alignments[0].max_size = 0;
		break;
	case 2: /* not a power of two */
		t->size_alignments[0].alignment = 384;
		break;
	case 3: /* above the base */
		t->size_alignments[1].alignment = 1u << 17;
		break;
	case 4: /* decreasing */
		t->size_alignments[0].alignment = 8192;
		break;
	case 5: /* more entries than the table has */
		t->size_alignment_count = VGALLOC_MAX_SIZE_ALIGNMENTS + 1;
		break;
	case 6:
		t->reserved = 1;
		break;
	case 7: /* alignment 0 */
		t->size_alignments[0].alignment = 0;
		break;
	}
}

static void table__bad_ones_are_einval(void **state)
{
	(void)state;
	for (bad_case = 0; bad_case < 8; bad_case++) {
		int ret;
		struct fx *f = align_fx(bad_table, &ret);

		print_message("  case %d\n", bad_case);
		assert_int_equal(ret, -EINVAL);
		assert_null(f->dev);
		fx_free(f);
	}
}

/* A version-0 memory type (48 bytes: no table) is still accepted, its rule unchanged. */
static void table__version_0_types_have_none(void **state)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 100);
	struct fx *f = calloc(1, sizeof(*f));
	unsigned char v0[3][48];

	(void)state;
	assert_non_null(f);
	f->fds_before = count_open_fds();
	f->mock = fx_mock_new(&(struct fx_opts){ 0 });
	assert_int_equal(vgalloc_mock_get_hooks(f->mock, 0, &f->hooks), 0);
	fx_create_info(f, &(struct fx_opts){ 0 }, types, &ci);
	for (int i = 0; i < 3; i++) {
		types[i].struct_size = 48;
		memcpy(v0[i], &types[i], 48);
	}
	ci.memory_types = (const void *)v0;
	assert_int_equal(vgalloc_device_create(&ci, &f->dev), 0);
	assert_int_equal(plan_alignment(f, &r), 4096);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(base__host_alignment_packs_small_objects),
		cmocka_unit_test(table__size_picks_the_entry),
		cmocka_unit_test(exact__replaces_the_rule_down_to_the_pool_granularity),
		cmocka_unit_test(table__floors_still_apply),
		cmocka_unit_test(table__bad_ones_are_einval),
		cmocka_unit_test(table__version_0_types_have_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
