/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's reference allocators (tests/bench/ref.c) checked on their own, so that a speed
 * figure never comes from an allocator that hands out overlapping or misaligned ranges: random
 * replays of both kinds, argument checks, and the one-spare-block policy.
 * Covers: ref_create, ref_alloc, ref_free, ref_committed, ref_peak_committed, ref_blocks_added,
 * ref_destroy, ref_names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../harness.h"
#include "ref.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)

/* Operations a replay runs. */
#define REPLAY_OPS    4000u
#define MAX_BLOCK_IDS 4096u

static uint64_t test_seed(void)
{
	return test_seed_or(0x7ef0a11c5eed1234ull);
}

/* --- the replay --------------------------------------------------------------------------- */

struct live {
	struct ref_handle h;
	uint64_t request;
};

/* A replay's mix: sizes log-uniform over [2^6, 2^(max_shift + 1)], alignments 256 B << [0,
 * max_align_shift], about target_live allocations live. */
struct mix {
	uint32_t max_shift;
	uint32_t max_align_shift;
	uint32_t target_live;
};

/* Sizes 64 B..4 MiB, alignments 256 B..64 KiB. */
static const struct mix mix_wide = { 21, 8, 300 };
/* Sizes 64 B..1 KiB, alignments 256 B..1 KiB, many live: small slabs fill every bitmap word. */
static const struct mix mix_small = { 9, 2, 1200 };

struct replay {
	struct ref_allocator *r;
	uint64_t granularity;
	struct mix mix;
	struct live *live;
	uint32_t n_live;
	uint64_t block_size[MAX_BLOCK_IDS]; /* by handle.a, learnt when the block is added */
	uint64_t largest_block;
};

static void replay_alloc(struct replay *p, uint64_t *seed)
{
	uint32_t shift = (uint32_t)rng_range(seed, 6, p->mix.max_shift);
	uint64_t size = rng_range(seed, 1ull << shift, 2ull << shift);
	uint64_t align = 256ull << rng_range(seed, 0, p->mix.max_align_shift);
	uint64_t committed = ref_committed(p->r), added = ref_blocks_added(p->r);
	struct ref_handle h;
	uint64_t end;

	assert_int_equal(ref_alloc(p->r, size, align, &h), 0);
	if (ref_blocks_added(p->r) != added) {
		/* One block at most per allocation, and the allocation lies in it. */
		assert_int_equal(ref_blocks_added(p->r), added + 1);
		assert_true(ref_committed(p->r) > committed);
		assert_true(h.a < MAX_BLOCK_IDS);
		p->block_size[h.a] = ref_committed(p->r) - committed;
		if (p->block_size[h.a] > p->largest_block) {
			p->largest_block = p->block_size[h.a];
		}
	} else {
		assert_int_equal(ref_committed(p->r), committed);
	}
	assert_true(h.a < MAX_BLOCK_IDS);
	assert_true(p->block_size[h.a] != 0);
	assert_int_equal(h.offset % align, 0);
	assert_int_equal(h.offset % p->granularity, 0);
	assert_int_equal(h.size % p->granularity, 0);
	assert_true(h.size >= size);
	end = h.offset + h.size;
	assert_true(end <= p->block_size[h.a]);
	for (uint32_t i = 0; i < p->n_live; i++) {
		const struct ref_handle *o = &p->live[i].h;

		if (o->a == h.a) {
			assert_false(h.offset < o->offset + o->size && o->offset < end);
		}
	}
	p->live[p->n_live].h = h;
	p->live[p->n_live].request = size;
	p->n_live++;
}

static void replay_free(struct replay *p, uint32_t i)
{
	uint64_t committed = ref_committed(p->r);

	ref_free(p->r, &p->live[i].h);
	/* A free removes one block at most, and only an emptied one. */
	assert_true(ref_committed(p->r) <= committed);
	if (ref_committed(p->r) != committed) {
		assert_int_equal(committed - ref_committed(p->r), p->block_size[p->live[i].h.a]);
	}
	p->live[i] = p->live[--p->n_live];
}

static void replay(enum ref_kind kind, const struct mix *mix, uint64_t granularity,
                   uint64_t min_block, uint64_t max_block, uint64_t seed)
{
	struct replay *p = calloc(1, sizeof(*p));
	bool sized = false;

	assert_non_null(p);
	p->granularity = granularity;
	p->mix = *mix;
	p->live = calloc(REPLAY_OPS, sizeof(*p->live));
	assert_non_null(p->live);
	assert_int_equal(ref_create(kind, granularity, min_block, max_block, &p->r), 0);

	for (uint32_t op = 0; op < REPLAY_OPS; op++) {
		/* Lean to allocating below the target, to freeing above it. */
		bool alloc = p->n_live == 0 ||
		             rng_range(&seed, 0, 99) < (p->n_live < mix->target_live ? 65u : 35u);

		if (alloc) {
			replay_alloc(p, &seed);
		} else {
			replay_free(p, (uint32_t)rng_range(&seed, 0, p->n_live - 1));
		}
		assert_true(ref_committed(p->r) <= ref_peak_committed(p->r));
	}
	while (p->n_live) {
		replay_free(p, (uint32_t)rng_range(&seed, 0, p->n_live - 1));
	}

	assert_true(ref_blocks_added(p->r) > 0);
	/* Everything freed: at most the one spare block is left, and it is one the run added. */
	assert_true(ref_committed(p->r) <= p->largest_block);
	for (uint32_t i = 0; i < MAX_BLOCK_IDS && ref_committed(p->r); i++) {
		sized = sized || p->block_size[i] == ref_committed(p->r);
	}
	assert_true(ref_committed(p->r) == 0 || sized);
	assert_true(ref_peak_committed(p->r) >= p->largest_block);

	ref_destroy(p->r);
	free(p->live);
	free(p);
}

static void ref_alloc__tlsf_random_replay(void **state)
{
	(void)state;
	replay(REF_TLSF, &mix_wide, 256, 0, 0, test_seed());
	/* Small blocks: large requests get blocks of their own, and blocks come and go. */
	replay(REF_TLSF, &mix_wide, 256, 256 * KiB, 4 * MiB, test_seed() + 1);
	replay(REF_TLSF, &mix_wide, 4096, 1 * MiB, 16 * MiB, test_seed() + 2);
	replay(REF_TLSF, &mix_small, 256, 256 * KiB, 4 * MiB, test_seed() + 3);
}

static void ref_alloc__slab_random_replay(void **state)
{
	(void)state;
	replay(REF_SLAB, &mix_wide, 256, 0, 0, test_seed());
	replay(REF_SLAB, &mix_wide, 256, 256 * KiB, 4 * MiB, test_seed() + 1);
	/* Classes start at the granularity when it exceeds 256 B. */
	replay(REF_SLAB, &mix_wide, 4096, 1 * MiB, 16 * MiB, test_seed() + 2);
	/* No class at all: every request goes to the segregated fit. */
	replay(REF_SLAB, &mix_wide, 128 * KiB, 1 * MiB, 16 * MiB, test_seed() + 3);
	/* Hundreds of 256 B entries live: slabs of 256 entries, every bitmap word in use. */
	replay(REF_SLAB, &mix_small, 256, 256 * KiB, 4 * MiB, test_seed() + 4);
}

static void ref_create__bad_arguments(void **state)
{
	struct ref_allocator *r = (struct ref_allocator *)&r;
	struct ref_handle h;

	(void)state;
	assert_int_equal(ref_create(REF_COUNT, 256, 0, 0, &r), -EINVAL);
	assert_null(r);
	assert_int_equal(ref_create(REF_TLSF, 0, 0, 0, &r), -EINVAL);
	assert_int_equal(ref_create(REF_TLSF, 384, 0, 0, &r), -EINVAL);
	assert_int_equal(ref_create(REF_TLSF, 256, 8 * MiB, 4 * MiB, &r), -EINVAL);
	for (int k = 0; k < REF_COUNT; k++) {
		assert_non_null(ref_names[k]);
		assert_int_equal(ref_create((enum ref_kind)k, 256, 0, 0, &r), 0);
		assert_int_equal(ref_alloc(r, 0, 256, &h), -EINVAL);
		assert_int_equal(ref_alloc(r, 4096, 768, &h), -EINVAL);
		assert_int_equal(ref_blocks_added(r), 0);
		assert_int_equal(ref_committed(r), 0);
		ref_destroy(r);
	}
	assert_string_equal(ref_names[REF_TLSF], "tlsf-reference");
	assert_string_equal(ref_names[REF_SLAB], "slab-reference");
	ref_destroy(NULL);
}

/* The emptied block is kept and serves the next request; a second emptied one is removed. */
static void ref_free__keeps_one_spare_block(void **state)
{
	(void)state;
	for (int k = 0; k < REF_COUNT; k++) {
		struct ref_allocator *r;
		struct ref_handle a, b, c;
		uint64_t one, two;

		assert_int_equal(ref_create((enum ref_kind)k, 256, 1 * MiB, 64 * MiB, &r), 0);
		assert_int_equal(ref_alloc(r, 512 * KiB, 256, &a), 0);
		one = ref_committed(r);
		assert_int_equal(ref_blocks_added(r), 1);
		/* Too large for what is left: a second block. */
		assert_int_equal(ref_alloc(r, one, 256, &b), 0);
		assert_int_equal(ref_blocks_added(r), 2);
		assert_true(a.a != b.a);
		two = ref_committed(r);
		ref_free(r, &a);
		assert_int_equal(ref_committed(r), two);
		ref_free(r, &b);
		/* Both empty now: the first is the spare, the second went at once. */
		assert_int_equal(ref_committed(r), one);
		assert_int_equal(ref_alloc(r, 4 * KiB, 4 * KiB, &c), 0);
		assert_int_equal(ref_blocks_added(r), 2);
		assert_int_equal(c.a, a.a);
		ref_free(r, &c);
		assert_int_equal(ref_committed(r), one);
		ref_destroy(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ref_create__bad_arguments),
		cmocka_unit_test(ref_free__keeps_one_spare_block),
		cmocka_unit_test(ref_alloc__tlsf_random_replay),
		cmocka_unit_test(ref_alloc__slab_random_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
