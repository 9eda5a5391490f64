/* SPDX-License-Identifier: MIT */
/*
 * The pure suballocator against a reference model: a long randomized run (no overlap, in bounds,
 * alignment held, statistics exact), the edge cases of every entry point, block sizing, and
 * metadata allocation failures that must leave the structure exactly as it was.
 * Covers: vgalloc__sa_init, vgalloc__sa_finish, vgalloc__sa_add_block, vgalloc__sa_remove_block,
 * vgalloc__sa_alloc, vgalloc__sa_free, vgalloc__sa_close_block, vgalloc__sa_block_size,
 * vgalloc__sa_get_stats, vgalloc__sa_check, vgalloc__sa_check_block.
 */
#include "../harness.h"

#include "core.h"
#include "suballoc.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)

/* Blocks the model asks for: small enough that large requests often need their own. */
#define MODEL_MIN_BLOCK (1 * MiB)
#define MODEL_MAX_BLOCK (64 * MiB)
/* Live allocations the random run hovers around. */
#define MODEL_TARGET_LIVE 2000u

static uint64_t test_seed(void)
{
	return test_seed_or(0x5eed0fa110c47e57ull);
}

static uint64_t round_up(uint64_t v, uint64_t g)
{
	return (v + g - 1) & ~(g - 1);
}

/* --- the reference model ------------------------------------------------------------------ */

struct iv {
	uint64_t off, end;
};

struct mblock {
	struct vgalloc__sa_block *b;
	uint64_t size;
	uint32_t idx;  /* in model.blocks */
	uint32_t live; /* allocations in it */
	uint32_t n, cap;
	struct iv *iv; /* live allocations' [off, end), sorted by off */
};

struct mlive {
	struct vgalloc__sa_alloc a;
	uint64_t req;
};

struct model {
	struct vgalloc_allocator al;
	struct vgalloc__sa sa;
	uint64_t g;
	uint64_t rng;
	struct mblock **blocks;
	uint32_t nblocks, capblocks;
	struct mlive *live;
	uint32_t nlive, caplive;
	uint64_t used;        /* Σ reserved sizes of live allocations */
	uint64_t block_bytes; /* Σ block sizes */
	uint64_t ops;
	/* Requests that needed more than the one block vgalloc__sa_block_size sized for them. */
	uint64_t extra_blocks;
	uint64_t first_bad_req, first_bad_align, first_bad_block;
	uint64_t adds, removes, slab_allocs, range_allocs;
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	assert_non_null(q);
	return q;
}

static struct mblock *owner_of(const struct vgalloc__sa_block *b)
{
	assert_non_null(b);
	assert_non_null(b->owner);
	return b->owner;
}

static void model_init(struct model *m, uint64_t g, uint64_t seed)
{
	struct vgalloc__sa_config cfg = { .granularity = g, .allocator = &m->al };

	memset(m, 0, sizeof(*m));
	vgalloc__allocator_default(&m->al);
	m->g = g;
	m->rng = seed ? seed : 1;
	assert_int_equal(vgalloc__sa_init(&m->sa, &cfg), 0);
}

static void model_add_block(struct model *m, uint64_t req, uint64_t align)
{
	struct mblock *mb = calloc(1, sizeof(*mb));
	uint64_t size = vgalloc__sa_block_size(req, align, m->block_bytes, MODEL_MIN_BLOCK,
	                                       MODEL_MAX_BLOCK, m->g);

	assert_non_null(mb);
	assert_true(size >= req);
	assert_int_equal(size % m->g, 0);
	mb->size = size;
	assert_int_equal(vgalloc__sa_add_block(&m->sa, size, mb, &mb->b), 0);
	assert_ptr_equal(mb->b->owner, mb);
	assert_int_equal(mb->b->size, size);
	assert_int_equal(mb->b->used, 0);
	assert_int_equal(mb->b->live, 0);
	if (m->nblocks == m->capblocks) {
		m->capblocks = m->capblocks ? m->capblocks * 2 : 16;
		m->blocks = xrealloc(m->blocks, sizeof(*m->blocks) * m->capblocks);
	}
	mb->idx = m->nblocks;
	m->blocks[m->nblocks++] = mb;
	m->block_bytes += size;
	m->adds++;
}

static void model_remove_block(struct model *m, struct mblock *mb)
{
	assert_int_equal(mb->live, 0);
	assert_int_equal(mb->n, 0);
	assert_int_equal(mb->b->used, 0);
	assert_int_equal(mb->b->live, 0);
	vgalloc__sa_remove_block(&m->sa, mb->b);
	m->block_bytes -= mb->size;
	m->blocks[mb->idx] = m->blocks[--m->nblocks];
	m->blocks[mb->idx]->idx = mb->idx;
	free(mb->iv);
	free(mb);
	m->removes++;
}

/* First interval whose offset is ≥ off. */
static uint32_t iv_lower(const struct mblock *mb, uint64_t off)
{
	uint32_t lo = 0, hi = mb->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (mb->iv[mid].off < off) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static void iv_insert(struct mblock *mb, uint64_t off, uint64_t end)
{
	uint32_t pos = iv_lower(mb, off);

	if (pos > 0 && mb->iv[pos - 1].end > off) {
		fail_msg("[%#llx, %#llx) overlaps live [%#llx, %#llx) in a block of %#llx",
		         (unsigned long long)off, (unsigned long long)end,
		         (unsigned long long)mb->iv[pos - 1].off,
		         (unsigned long long)mb->iv[pos - 1].end, (unsigned long long)mb->size);
	}
	if (pos < mb->n && mb->iv[pos].off < end) {
		fail_msg("[%#llx, %#llx) overlaps live [%#llx, %#llx) in a block of %#llx",
		         (unsigned long long)off, (unsigned long long)end,
		         (unsigned long long)mb->iv[pos].off, (unsigned long long)mb->iv[pos].end,
		         (unsigned long long)mb->size);
	}
	if (mb->n == mb->cap) {
		mb->cap = mb->cap ? mb->cap * 2 : 16;
		mb->iv = xrealloc(mb->iv, sizeof(*mb->iv) * mb->cap);
	}
	memmove(&mb->iv[pos + 1], &mb->iv[pos], sizeof(*mb->iv) * (mb->n - pos));
	mb->iv[pos] = (struct iv){ off, end };
	mb->n++;
}

static void iv_remove(struct mblock *mb, uint64_t off, uint64_t end)
{
	uint32_t pos = iv_lower(mb, off);

	assert_true(pos < mb->n);
	assert_int_equal(mb->iv[pos].off, off);
	assert_int_equal(mb->iv[pos].end, end);
	memmove(&mb->iv[pos], &mb->iv[pos + 1], sizeof(*mb->iv) * (mb->n - pos - 1));
	mb->n--;
}

/* Every property of one fresh allocation the model can state. */
static void check_new_alloc(const struct model *m, const struct vgalloc__sa_alloc *a, uint64_t req,
                            uint64_t align)
{
	uint64_t need = VGALLOC__MAX(align, m->g);
	uint64_t rounded = round_up(req, m->g);
	const struct mblock *mb = owner_of(a->block);

	if (a->offset % need || a->size < req || a->size % m->g || a->offset + a->size > mb->size ||
	    a->offset + a->size < a->offset || a->size > rounded + rounded / 4 ||
	    (a->index == UINT32_MAX && a->size != rounded)) {
		fail_msg("alloc(%llu, align %llu) at granularity %llu: offset %#llx size %llu "
		         "index %u in a block of %llu",
		         (unsigned long long)req, (unsigned long long)align,
		         (unsigned long long)m->g, (unsigned long long)a->offset,
		         (unsigned long long)a->size, a->index, (unsigned long long)mb->size);
	}
	assert_non_null(a->node);
}

/*
 * Allocate as a pool does: on -ENOSPC add a block sized by vgalloc__sa_block_size and retry.
 * One block must always be enough; more are counted (and reported at the end) so that the run
 * can go on checking everything else.
 */
static void model_alloc(struct model *m, uint64_t req, uint64_t align)
{
	struct vgalloc__sa_alloc a;
	struct mblock *mb;
	uint32_t added = 0;
	int ret;

	while ((ret = vgalloc__sa_alloc(&m->sa, req, align, &a)) == -ENOSPC) {
		if (added == 1) {
			if (!m->extra_blocks) {
				m->first_bad_req = req;
				m->first_bad_align = align;
				m->first_bad_block = m->blocks[m->nblocks - 1]->size;
			}
			m->extra_blocks++;
		}
		assert_true(added < 64);
		model_add_block(m, req, align);
		added++;
	}
	assert_int_equal(ret, 0);
	check_new_alloc(m, &a, req, align);
	mb = owner_of(a.block);
	iv_insert(mb, a.offset, a.offset + a.size);
	mb->live++;
	assert_int_equal(a.block->live, mb->live);
	assert_true(a.block->used >= a.size);
	if (m->nlive == m->caplive) {
		m->caplive = m->caplive ? m->caplive * 2 : 1024;
		m->live = xrealloc(m->live, sizeof(*m->live) * m->caplive);
	}
	m->live[m->nlive++] = (struct mlive){ a, req };
	m->used += a.size;
	if (a.index == UINT32_MAX) {
		m->range_allocs++;
	} else {
		m->slab_allocs++;
	}
}

/* Free live[i]; an emptied block is removed unless keep says otherwise. */
static void model_free(struct model *m, uint32_t i, bool keep_empty)
{
	struct mlive l = m->live[i];
	struct mblock *mb = owner_of(l.a.block);
	struct vgalloc__sa_block *empty;

	m->live[i] = m->live[--m->nlive];
	iv_remove(mb, l.a.offset, l.a.offset + l.a.size);
	empty = vgalloc__sa_free(&m->sa, &l.a);
	mb->live--;
	m->used -= l.a.size;
	assert_int_equal(l.a.block->live, mb->live);
	/* The block comes back exactly when its last allocation goes. */
	if (mb->live) {
		assert_null(empty);
		assert_true(l.a.block->used > 0);
	} else {
		assert_ptr_equal(empty, l.a.block);
		assert_int_equal(empty->used, 0);
		if (!keep_empty) {
			model_remove_block(m, mb);
		}
	}
}

static uint32_t class_index(const struct vgalloc__sa_stats *st, uint64_t size)
{
	uint32_t lo = 0, hi = st->class_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (st->classes[mid].size < size) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	assert_true(lo < st->class_count);
	assert_int_equal(st->classes[lo].size, size);
	return lo;
}

static void model_check_stats(const struct model *m)
{
	static struct vgalloc__sa_stats st;
	uint32_t used_entries[VGALLOC__SA_MAX_CLASSES] = { 0 };
	uint64_t slab_used = 0;

	vgalloc__sa_get_stats(&m->sa, &st);
	assert_int_equal(st.blocks, m->nblocks);
	assert_int_equal(st.block_bytes, m->block_bytes);
	assert_int_equal(st.live, m->nlive);
	assert_int_equal(st.used_bytes, m->used);
	assert_true(st.largest_free <= st.free_bytes);
	assert_true(st.free_bytes == 0 || st.largest_free > 0);
	assert_true(st.class_count <= VGALLOC__SA_MAX_CLASSES);
	for (uint32_t i = 0; i < m->nlive; i++) {
		if (m->live[i].a.index != UINT32_MAX) {
			used_entries[class_index(&st, m->live[i].a.size)]++;
		}
	}
	for (uint32_t c = 0; c < st.class_count; c++) {
		assert_int_equal(st.classes[c].used, used_entries[c]);
		assert_true(st.classes[c].entries >= st.classes[c].used);
		assert_true(st.classes[c].used == 0 || st.classes[c].slabs > 0);
		slab_used += (uint64_t)st.classes[c].used * st.classes[c].size;
	}
	/* Every byte of every block is free, in a slab, or in a range allocation. */
	assert_true(st.used_bytes >= slab_used);
	assert_int_equal(st.free_bytes + st.slab_bytes + (st.used_bytes - slab_used),
	                 st.block_bytes);
}

static void model_finish(struct model *m)
{
	while (m->nlive) {
		model_free(m, (uint32_t)(rng_next(&m->rng) % m->nlive), true);
	}
	while (m->nblocks) {
		model_remove_block(m, m->blocks[m->nblocks - 1]);
	}
	model_check_stats(m);
	assert_true(vgalloc__sa_check(&m->sa));
	vgalloc__sa_finish(&m->sa);
	free(m->blocks);
	free(m->live);
}

static uint64_t random_size(uint64_t *rng)
{
	uint64_t r = rng_next(rng) % 100;

	if (r < 50) {
		return rng_range(rng, 1, 256); /* tiny */
	} else if (r < 80) {
		return rng_range(rng, 257, 32 * KiB); /* slab range */
	} else if (r < 95) {
		return rng_range(rng, 32 * KiB + 1, 512 * KiB);
	}
	return rng_range(rng, 512 * KiB + 1, 4 * MiB); /* large */
}

static uint64_t random_align(uint64_t *rng, uint64_t g)
{
	switch (rng_next(rng) % 8) {
	case 0:
	case 1:
	case 2:
		return 0;
	case 3:
		return g;
	case 4:
		return 256;
	case 5:
		return 4096;
	default:
		return 65536;
	}
}

static uint64_t model_run(uint64_t g, uint32_t n, uint64_t seed)
{
	uint64_t extra;
	struct model *m = calloc(1, sizeof(*m));
	/* Every `drain_every` ops the run frees everything, emptying and removing every block. */
	uint32_t drain_every = VGALLOC__MAX(n / 4, 4096u);
	bool draining = false;

	assert_non_null(m);
	model_init(m, g, seed);
	for (uint32_t op = 1; op <= n; op++) {
		if (op % drain_every == 0) {
			draining = true;
		}
		if (draining && !m->nlive) {
			draining = false;
			/* Whatever was kept empty goes now. */
			while (m->nblocks) {
				model_remove_block(m, m->blocks[m->nblocks - 1]);
			}
		}
		if (!draining && rng_next(&m->rng) % (2 * MODEL_TARGET_LIVE) >= m->nlive) {
			uint64_t size = random_size(&m->rng);

			model_alloc(m, size, random_align(&m->rng, g));
		} else if (m->nlive) {
			/* One emptied block in four stays, as a pool retains some. */
			model_free(m, (uint32_t)(rng_next(&m->rng) % m->nlive),
			           rng_next(&m->rng) % 4 == 0);
		}
		if (op % 1024 == 0) {
			model_check_stats(m);
		}
		if (op % 4096 == 0) {
			assert_true(vgalloc__sa_check(&m->sa));
		}
	}
	print_message("  granularity %6llu: %u ops, %llu slab + %llu range allocs, %llu blocks "
	              "added, %llu removed\n",
	              (unsigned long long)g, n, (unsigned long long)m->slab_allocs,
	              (unsigned long long)m->range_allocs, (unsigned long long)m->adds,
	              (unsigned long long)m->removes);
	if (m->extra_blocks) {
		print_message("  granularity %llu: %llu requests did not fit the block "
		              "vgalloc__sa_block_size sized for them (first: size %llu align %llu, "
		              "block %llu)\n",
		              (unsigned long long)g, (unsigned long long)m->extra_blocks,
		              (unsigned long long)m->first_bad_req,
		              (unsigned long long)m->first_bad_align,
		              (unsigned long long)m->first_bad_block);
	}
	extra = m->extra_blocks;
	model_finish(m);
	free(m);
	return extra;
}

static void suballoc__reference_model_random(void **state)
{
	static const uint64_t grans[] = { 16, 256, 4096, 65536 };
	uint32_t total = test_scale(1000000);
	uint64_t seed = test_seed(), extra = 0;

	(void)state;
	print_message("  seed %#llx (VGALLOC_TEST_SEED to replay), %u ops\n",
	              (unsigned long long)seed, total);
	for (size_t i = 0; i < sizeof(grans) / sizeof(grans[0]); i++) {
		extra += model_run(grans[i], total / 4, seed ^ (grans[i] * 0x9e3779b97f4a7c15ull));
	}
	/* A pool loops on -ENOSPC: each of these cost it a whole extra block. */
	assert_int_equal(extra, 0);
}

/* --- edge cases --------------------------------------------------------------------------- */

struct fixture {
	struct vgalloc_allocator al;
	struct vgalloc__sa sa;
};

static void fixture_init(struct fixture *f, uint64_t g)
{
	struct vgalloc__sa_config cfg = { .granularity = g, .allocator = &f->al };

	vgalloc__allocator_default(&f->al);
	assert_int_equal(vgalloc__sa_init(&f->sa, &cfg), 0);
}

static void stats_of(const struct vgalloc__sa *sa, struct vgalloc__sa_stats *st)
{
	vgalloc__sa_get_stats(sa, st);
}

static void assert_empty(const struct vgalloc__sa *sa)
{
	struct vgalloc__sa_stats st;

	stats_of(sa, &st);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.block_bytes, 0);
	assert_int_equal(st.used_bytes, 0);
	assert_int_equal(st.free_bytes, 0);
	assert_int_equal(st.slab_bytes, 0);
	assert_int_equal(st.live, 0);
	for (uint32_t c = 0; c < st.class_count; c++) {
		assert_int_equal(st.classes[c].slabs, 0);
		assert_int_equal(st.classes[c].used, 0);
	}
	assert_true(vgalloc__sa_check(sa));
}

static void sa_init__rejects_bad_config(void **state)
{
	struct vgalloc_allocator al;
	struct vgalloc__sa sa;
	struct vgalloc__sa_config cfg = { .granularity = 16, .allocator = &al };

	(void)state;
	vgalloc__allocator_default(&al);
	cfg.granularity = 8; /* below 16 */
	assert_int_equal(vgalloc__sa_init(&sa, &cfg), -EINVAL);
	cfg.granularity = 48;
	assert_int_equal(vgalloc__sa_init(&sa, &cfg), -EINVAL);
	cfg.granularity = 0;
	assert_int_equal(vgalloc__sa_init(&sa, &cfg), -EINVAL);
	cfg.granularity = 16;
	cfg.allocator = NULL;
	assert_int_equal(vgalloc__sa_init(&sa, &cfg), -EINVAL);
}

static void sa_alloc__bad_arguments(void **state)
{
	struct fixture f;
	struct vgalloc__sa_block *b;
	struct vgalloc__sa_alloc a;

	(void)state;
	fixture_init(&f, 16);
	assert_int_equal(vgalloc__sa_add_block(&f.sa, MiB, NULL, &b), 0);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 0, 0, &a), -EINVAL);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 0, 64, &a), -EINVAL);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 16, 3, &a), -EINVAL);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 16, 48, &a), -EINVAL);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 4096, 4096 + 16, &a), -EINVAL);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 16, UINT64_MAX, &a), -EINVAL);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, UINT64_MAX, 0, &a), -EINVAL);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, UINT64_MAX - 15, 0, &a), -EINVAL);
	assert_true(vgalloc__sa_check(&f.sa));
	assert_int_equal(b->used, 0);
	vgalloc__sa_remove_block(&f.sa, b);
	assert_empty(&f.sa);
	vgalloc__sa_finish(&f.sa);
}

static void sa_alloc__no_blocks_is_enospc(void **state)
{
	static const uint64_t sizes[] = { 1, 16, 4096, 32 * KiB, 32 * KiB + 1, MiB };
	struct fixture f;
	struct vgalloc__sa_alloc a;

	(void)state;
	fixture_init(&f, 16);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(vgalloc__sa_alloc(&f.sa, sizes[i], 0, &a), -ENOSPC);
		assert_int_equal(vgalloc__sa_alloc(&f.sa, sizes[i], 65536, &a), -ENOSPC);
	}
	assert_empty(&f.sa);
	vgalloc__sa_finish(&f.sa);
}

static void sa_add_block__rejects_bad_sizes(void **state)
{
	struct fixture f;
	struct vgalloc__sa_block *b = NULL;

	(void)state;
	fixture_init(&f, 4096);
	assert_int_equal(vgalloc__sa_add_block(&f.sa, 0, NULL, &b), -EINVAL);
	assert_int_equal(vgalloc__sa_add_block(&f.sa, 4095, NULL, &b), -EINVAL);
	assert_int_equal(vgalloc__sa_add_block(&f.sa, 4096 + 16, NULL, &b), -EINVAL);
	assert_int_equal(vgalloc__sa_add_block(&f.sa, MiB + 2048, NULL, &b), -EINVAL);
	/* Beyond what the segregated lists can index. */
	assert_int_equal(vgalloc__sa_add_block(&f.sa, 1ull << 62, NULL, &b), -EINVAL);
	assert_int_equal(vgalloc__sa_add_block(&f.sa, UINT64_MAX & ~4095ull, NULL, &b), -EINVAL);
	assert_null(b);
	assert_empty(&f.sa);
	/* The smallest block: one granule. */
	assert_int_equal(vgalloc__sa_add_block(&f.sa, 4096, NULL, &b), 0);
	vgalloc__sa_remove_block(&f.sa, b);
	assert_empty(&f.sa);
	vgalloc__sa_finish(&f.sa);
}

/* One allocation that takes the whole block, at several block sizes and granularities. */
/* A closed block hands out nothing more, from its ranges or its slabs, while another block
 * serves; its allocations free normally (holes merge) and it empties to be removed. */
static void sa_close_block__withdraws_free_space(void **state)
{
	struct fixture f;
	struct vgalloc__sa_block *b, *o;
	struct vgalloc__sa_alloc small[3], big[2], x;
	struct vgalloc__sa_stats st;

	(void)state;
	fixture_init(&f, 4096);
	assert_int_equal(vgalloc__sa_add_block(&f.sa, 4 * MiB, NULL, &b), 0);
	/* A slab entry (small) and ranges (big) in b, with free space left around them. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(vgalloc__sa_alloc(&f.sa, 4096, 0, &small[i]), 0);
		assert_ptr_equal(small[i].block, b);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(vgalloc__sa_alloc(&f.sa, 512 * KiB, 0, &big[i]), 0);
		assert_ptr_equal(big[i].block, b);
	}
	vgalloc__sa_close_block(&f.sa, b);
	vgalloc__sa_close_block(&f.sa, b); /* idempotent */
	assert_true(vgalloc__sa_check(&f.sa));
	stats_of(&f.sa, &st);
	assert_int_equal(st.free_bytes, 0);
	/* Nothing fits while b is the only block, in either path. */
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 4096, 0, &x), -ENOSPC);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 64 * KiB, 0, &x), -ENOSPC);
	/* A new block serves both sizes. */
	assert_int_equal(vgalloc__sa_add_block(&f.sa, 1 * MiB, NULL, &o), 0);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 4096, 0, &x), 0);
	assert_ptr_equal(x.block, o);
	assert_ptr_equal(vgalloc__sa_free(&f.sa, &x), o);
	/* Freeing in the closed block: a freed slab entry is not handed out again. */
	assert_null(vgalloc__sa_free(&f.sa, &small[1]));
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 4096, 0, &x), 0);
	assert_ptr_equal(x.block, o);
	assert_true(vgalloc__sa_check(&f.sa));
	/* Ranges in the middle, then at the ends: holes merge; the last free empties b. */
	assert_null(vgalloc__sa_free(&f.sa, &big[0]));
	assert_null(vgalloc__sa_free(&f.sa, &small[0]));
	assert_null(vgalloc__sa_free(&f.sa, &big[1]));
	assert_true(vgalloc__sa_check(&f.sa));
	assert_ptr_equal(vgalloc__sa_free(&f.sa, &small[2]), b);
	assert_true(vgalloc__sa_check(&f.sa));
	assert_int_equal(b->used, 0);
	vgalloc__sa_remove_block(&f.sa, b);
	assert_true(vgalloc__sa_check(&f.sa));
	assert_ptr_equal(vgalloc__sa_free(&f.sa, &x), o);
	vgalloc__sa_remove_block(&f.sa, o);
	assert_empty(&f.sa);
	vgalloc__sa_finish(&f.sa);
}

static void sa_alloc__exact_fill_of_a_block(void **state)
{
	static const uint64_t grans[] = { 16, 4096, 65536 };
	static const uint64_t sizes[] = { 65536, MiB, 4 * MiB, 64 * MiB };

	(void)state;
	for (size_t gi = 0; gi < sizeof(grans) / sizeof(grans[0]); gi++) {
		for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			struct fixture f;
			struct vgalloc__sa_block *b;
			struct vgalloc__sa_alloc a, x;
			struct vgalloc__sa_stats st;

			fixture_init(&f, grans[gi]);
			assert_int_equal(vgalloc__sa_add_block(&f.sa, sizes[si], NULL, &b), 0);
			assert_int_equal(vgalloc__sa_alloc(&f.sa, sizes[si], 0, &a), 0);
			assert_ptr_equal(a.block, b);
			assert_int_equal(a.offset, 0);
			assert_int_equal(a.size, sizes[si]);
			assert_int_equal(b->used, sizes[si]);
			stats_of(&f.sa, &st);
			assert_int_equal(st.free_bytes, 0);
			assert_int_equal(st.largest_free, 0);
			assert_int_equal(st.used_bytes, sizes[si]);
			/* Full: nothing else fits, whatever its size. */
			assert_int_equal(vgalloc__sa_alloc(&f.sa, 1, 0, &x), -ENOSPC);
			assert_int_equal(vgalloc__sa_alloc(&f.sa, sizes[si], 0, &x), -ENOSPC);
			assert_ptr_equal(vgalloc__sa_free(&f.sa, &a), b);
			/* And it is whole again. (Not with align = size: the good-fit search
			 * reserves the worst alignment gap, size + align - granularity.) */
			assert_int_equal(vgalloc__sa_alloc(&f.sa, sizes[si], grans[gi], &a), 0);
			assert_int_equal(a.offset, 0);
			assert_ptr_equal(vgalloc__sa_free(&f.sa, &a), b);
			vgalloc__sa_remove_block(&f.sa, b);
			assert_empty(&f.sa);
			vgalloc__sa_finish(&f.sa);
		}
	}
}

/*
 * What a pool relies on: after -ENOSPC, one block of vgalloc__sa_block_size(request, align, ...)
 * always satisfies the request (vgalloc__pool_alloc loops until an allocation succeeds, so a block
 * that is too small for the good-fit search costs a whole extra block).
 */
static void sa_block_size__new_block_fits_the_request(void **state)
{
	static const uint64_t grans[] = { 16, 256, 4096, 65536 };
	static const uint64_t aligns[] = { 0, 16, 256, 4096, 65536, MiB, 4 * MiB };
	uint64_t rng = test_seed() ^ 0xb10c;
	uint32_t bad = 0, tried = 0;

	(void)state;
	for (size_t gi = 0; gi < sizeof(grans) / sizeof(grans[0]); gi++) {
		for (uint32_t i = 0; i < 2000; i++) {
			uint64_t g = grans[gi];
			uint64_t align =
			        aligns[rng_next(&rng) % (sizeof(aligns) / sizeof(aligns[0]))];
			uint64_t req =
			        i < 1000 ? rng_range(&rng, 1, 8 * MiB)
			                 : rng_range(&rng, 1, 64) * g * 17 + rng_range(&rng, 0, g);
			uint64_t min_block = (uint64_t)4096 << (rng_next(&rng) % 12);
			uint64_t size =
			        vgalloc__sa_block_size(req, align, 0, min_block, 64 * MiB, g);
			struct fixture f;
			struct vgalloc__sa_block *b;
			struct vgalloc__sa_alloc a;
			int ret;

			fixture_init(&f, g);
			assert_int_equal(vgalloc__sa_add_block(&f.sa, size, NULL, &b), 0);
			ret = vgalloc__sa_alloc(&f.sa, req, align, &a);
			tried++;
			if (ret) {
				if (!bad++) {
					print_message(
					        "  first: granularity %llu, request %llu align "
					        "%llu (min block %llu): block of %llu, alloc %d\n",
					        (unsigned long long)g, (unsigned long long)req,
					        (unsigned long long)align,
					        (unsigned long long)min_block,
					        (unsigned long long)size, ret);
				}
			} else {
				assert_ptr_equal(vgalloc__sa_free(&f.sa, &a), b);
			}
			vgalloc__sa_remove_block(&f.sa, b);
			vgalloc__sa_finish(&f.sa);
		}
	}
	if (bad) {
		fail_msg("%u of %u requests did not fit the block sized for them", bad, tried);
	}
}

static void sa_alloc__align_larger_than_block_is_enospc(void **state)
{
	static const struct {
		uint64_t size, align;
	} cases[] = {
		{ 4096, 2 * MiB },     { 1, 1ull << 40 }, { 1, 1ull << 63 },
		{ MiB, 1ull << 62 },   { MiB, 2 * MiB },  { 1ull << 62, 1ull << 63 },
		{ 65536, 1ull << 63 },
	};
	struct fixture f;
	struct vgalloc__sa_block *b;
	struct vgalloc__sa_alloc a, first;

	(void)state;
	fixture_init(&f, 4096);
	assert_int_equal(vgalloc__sa_add_block(&f.sa, MiB, NULL, &b), 0);
	/* In an empty block only offset 0 is that aligned: taking it or refusing are both right. */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = vgalloc__sa_alloc(&f.sa, cases[i].size, cases[i].align, &a);

		if (ret == 0) {
			assert_int_equal(a.offset, 0);
			assert_true(a.size >= cases[i].size && a.size <= MiB);
			assert_ptr_equal(vgalloc__sa_free(&f.sa, &a), b);
		} else {
			assert_int_equal(ret, -ENOSPC);
		}
		assert_int_equal(b->used, 0);
		assert_true(vgalloc__sa_check(&f.sa));
	}
	/* Alignment equal to the block works (offset 0). */
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 4096, MiB, &a), 0);
	assert_int_equal(a.offset, 0);
	assert_ptr_equal(vgalloc__sa_free(&f.sa, &a), b);
	/* With offset 0 taken no offset in the block has the alignment: always -ENOSPC. */
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 65536, 0, &first), 0);
	assert_int_equal(first.offset, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(vgalloc__sa_alloc(&f.sa, cases[i].size, cases[i].align, &a),
		                 -ENOSPC);
	}
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 4096, MiB, &a), -ENOSPC);
	assert_int_equal(b->used, 65536);
	assert_true(vgalloc__sa_check(&f.sa));
	assert_ptr_equal(vgalloc__sa_free(&f.sa, &first), b);
	vgalloc__sa_remove_block(&f.sa, b);
	assert_empty(&f.sa);
	vgalloc__sa_finish(&f.sa);
}

static void sa_alloc__largest_slab_class_and_one_byte_more(void **state)
{
	static const uint64_t grans[] = { 16, 256, 4096 };

	(void)state;
	for (size_t gi = 0; gi < sizeof(grans) / sizeof(grans[0]); gi++) {
		uint64_t g = grans[gi];
		struct fixture f;
		struct vgalloc__sa_block *b;
		struct vgalloc__sa_alloc top, over;
		struct vgalloc__sa_stats st;
		uint64_t max_class;

		fixture_init(&f, g);
		stats_of(&f.sa, &st);
		assert_true(st.class_count > 0);
		max_class = st.classes[st.class_count - 1].size;
		/* The default slab_max is 32 KiB and every class is a multiple of the granularity. */
		assert_int_equal(max_class, 32 * KiB);
		for (uint32_t c = 0; c < st.class_count; c++) {
			assert_int_equal(st.classes[c].size % g, 0);
			assert_true(c == 0 || st.classes[c].size > st.classes[c - 1].size);
		}
		assert_int_equal(vgalloc__sa_add_block(&f.sa, 4 * MiB, NULL, &b), 0);
		assert_int_equal(vgalloc__sa_alloc(&f.sa, max_class, 0, &top), 0);
		assert_int_not_equal(top.index, UINT32_MAX); /* a slab entry */
		assert_int_equal(top.size, max_class);
		assert_int_equal(vgalloc__sa_alloc(&f.sa, max_class + 1, 0, &over), 0);
		assert_int_equal(over.index, UINT32_MAX); /* a range */
		assert_int_equal(over.size, round_up(max_class + 1, g));
		assert_true(over.offset + over.size <= top.offset ||
		            top.offset + top.size <= over.offset);
		stats_of(&f.sa, &st);
		assert_int_equal(st.live, 2);
		assert_int_equal(st.classes[st.class_count - 1].slabs, 1);
		assert_int_equal(st.classes[st.class_count - 1].used, 1);
		assert_int_equal(st.used_bytes, top.size + over.size);
		assert_null(vgalloc__sa_free(&f.sa, &top));
		stats_of(&f.sa, &st);
		assert_int_equal(st.classes[st.class_count - 1].slabs, 0);
		assert_ptr_equal(vgalloc__sa_free(&f.sa, &over), b);
		vgalloc__sa_remove_block(&f.sa, b);
		assert_empty(&f.sa);
		vgalloc__sa_finish(&f.sa);
	}
	/* A granularity above slab_max has no classes: everything is a range. */
	{
		struct fixture f;
		struct vgalloc__sa_block *b;
		struct vgalloc__sa_alloc a;
		struct vgalloc__sa_stats st;

		fixture_init(&f, 65536);
		stats_of(&f.sa, &st);
		assert_int_equal(st.class_count, 0);
		assert_int_equal(vgalloc__sa_add_block(&f.sa, MiB, NULL, &b), 0);
		assert_int_equal(vgalloc__sa_alloc(&f.sa, 1, 0, &a), 0);
		assert_int_equal(a.index, UINT32_MAX);
		assert_int_equal(a.size, 65536);
		assert_ptr_equal(vgalloc__sa_free(&f.sa, &a), b);
		vgalloc__sa_remove_block(&f.sa, b);
		assert_empty(&f.sa);
		vgalloc__sa_finish(&f.sa);
	}
}

/* Fill exactly one slab of `size`; returns the entries per slab. */
static uint32_t fill_slab(struct fixture *f, uint64_t size, struct vgalloc__sa_alloc *out,
                          uint32_t max)
{
	struct vgalloc__sa_stats st;
	uint32_t cls, entries;

	assert_int_equal(vgalloc__sa_alloc(&f->sa, size, 0, &out[0]), 0);
	assert_int_not_equal(out[0].index, UINT32_MAX);
	stats_of(&f->sa, &st);
	cls = class_index(&st, out[0].size);
	assert_int_equal(st.classes[cls].slabs, 1);
	entries = st.classes[cls].entries;
	assert_true(entries <= max && entries >= 8);
	for (uint32_t i = 1; i < entries; i++) {
		assert_int_equal(vgalloc__sa_alloc(&f->sa, size, 0, &out[i]), 0);
		assert_ptr_equal(out[i].node, out[0].node);
		/* Entries are handed out lowest first, packed at the class size. */
		assert_int_equal(out[i].offset, out[0].offset + (uint64_t)i * out[0].size);
	}
	stats_of(&f->sa, &st);
	assert_int_equal(st.classes[cls].slabs, 1);
	assert_int_equal(st.classes[cls].used, entries);
	return entries;
}

/* Free the slab's entries in `order`: the slab and the block go with the last one only. */
static void free_in_order(struct fixture *f, struct vgalloc__sa_block *b,
                          const struct vgalloc__sa_alloc *a, const uint32_t *order, uint32_t n)
{
	struct vgalloc__sa_stats st;
	uint32_t cls;

	for (uint32_t i = 0; i < n; i++) {
		struct vgalloc__sa_block *ret = vgalloc__sa_free(&f->sa, &a[order[i]]);

		if (i + 1 < n) {
			if (ret) {
				fail_msg("block returned after %u of %u frees", i + 1, n);
			}
		} else {
			assert_ptr_equal(ret, b);
		}
	}
	stats_of(&f->sa, &st);
	cls = class_index(&st, a[0].size);
	assert_int_equal(st.classes[cls].slabs, 0);
	assert_int_equal(st.classes[cls].used, 0);
	assert_int_equal(st.slab_bytes, 0);
	assert_int_equal(b->used, 0);
	assert_int_equal(b->live, 0);
	assert_int_equal(st.free_bytes, b->size);
	assert_int_equal(st.largest_free, b->size);
}

static bool next_permutation(uint32_t *p, uint32_t n)
{
	uint32_t i = n - 1, j = n - 1;

	while (i > 0 && p[i - 1] >= p[i]) {
		i--;
	}
	if (i == 0) {
		return false;
	}
	while (p[j] <= p[i - 1]) {
		j--;
	}
	uint32_t t = p[i - 1];
	p[i - 1] = p[j];
	p[j] = t;
	for (uint32_t a = i, z = n - 1; a < z; a++, z--) {
		t = p[a];
		p[a] = p[z];
		p[z] = t;
	}
	return true;
}

static void sa_free__slab_entries_in_every_order(void **state)
{
	struct vgalloc__sa_alloc a[256];
	uint32_t order[256];
	uint64_t rng = test_seed() ^ 0x51ab;
	struct fixture f;
	struct vgalloc__sa_block *b;
	/* 8! orders of 16 operations each, fewer under a reduced test scale. */
	uint32_t n, perms = 0, max_perms = test_scale(40320 * 16) / 16;

	(void)state;
	fixture_init(&f, 16);
	assert_int_equal(vgalloc__sa_add_block(&f.sa, MiB, NULL, &b), 0);
	/* An 8-entry class (the largest): every order. */
	for (uint32_t i = 0; i < 8; i++) {
		order[i] = i;
	}
	do {
		n = fill_slab(&f, 32 * KiB, a, 256);
		assert_int_equal(n, 8);
		free_in_order(&f, b, a, order, n);
		perms++;
	} while (perms < max_perms && next_permutation(order, 8));
	assert_int_equal(perms, max_perms < 40320 ? max_perms : 40320);
	assert_true(vgalloc__sa_check(&f.sa));

	/* A 256-entry class: ascending, descending, even-then-odd, and random orders. */
	for (uint32_t pass = 0; pass < 20; pass++) {
		n = fill_slab(&f, 16, a, 256);
		assert_int_equal(n, 256);
		for (uint32_t i = 0; i < n; i++) {
			if (pass == 0) {
				order[i] = i;
			} else if (pass == 1) {
				order[i] = n - 1 - i;
			} else if (pass == 2) {
				order[i] = i < n / 2 ? 2 * i : 2 * (i - n / 2) + 1;
			} else {
				order[i] = i;
			}
		}
		for (uint32_t i = n - 1; pass > 2 && i > 0; i--) {
			uint32_t j = (uint32_t)(rng_next(&rng) % (i + 1)), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		free_in_order(&f, b, a, order, n);
	}
	/* A freed entry is the next one handed out, and a full slab gets a sibling. */
	n = fill_slab(&f, 100, a, 256);
	{
		struct vgalloc__sa_alloc x, y;

		assert_null(vgalloc__sa_free(&f.sa, &a[5]));
		assert_int_equal(vgalloc__sa_alloc(&f.sa, 100, 0, &x), 0);
		assert_int_equal(x.offset, a[5].offset);
		assert_ptr_equal(x.node, a[5].node);
		a[5] = x;
		assert_int_equal(vgalloc__sa_alloc(&f.sa, 100, 0, &y), 0);
		assert_ptr_not_equal(y.node, a[0].node);
		assert_null(vgalloc__sa_free(&f.sa, &y));
	}
	for (uint32_t i = 0; i < n; i++) {
		order[i] = i;
	}
	free_in_order(&f, b, a, order, n);
	vgalloc__sa_remove_block(&f.sa, b);
	assert_empty(&f.sa);
	vgalloc__sa_finish(&f.sa);
}

static uint64_t next_pow2(uint64_t v)
{
	return vgalloc__is_pow2(v) ? v : 1ull << (64 - __builtin_clzll(v));
}

static void sa_block_size__grows_with_the_pool(void **state)
{
	const uint64_t g = 4096, min = 4 * MiB, max = 64 * MiB;
	uint64_t div;

	(void)state;
	/* The growth fraction is a tuning knob: read it off one point (1 GiB committed, no
	 * clamping), then hold every other point to it. */
	div = (1ull << 30) / vgalloc__sa_block_size(g, 0, 1ull << 30, g, 1ull << 40, g);
	print_message("  blocks grow by 1/%llu of the committed bytes\n", (unsigned long long)div);
	assert_true(vgalloc__is_pow2(div) && div >= 2 && div <= 64);

	/* An empty pool starts at the minimum. */
	assert_int_equal(vgalloc__sa_block_size(4096, 0, 0, min, max, g), min);
	assert_int_equal(vgalloc__sa_block_size(1, 0, 0, min, max, g), min);
	/* A fraction of what the pool holds once that is above the minimum, rounded up to a
	 * power of two, clamped to the maximum. */
	for (uint64_t committed = 0; committed < (1ull << 40); committed = committed * 3 + 4096) {
		uint64_t want = committed / div > min ? committed / div : min;
		uint64_t s = vgalloc__sa_block_size(4096, 0, committed, min, max, g);

		want = next_pow2(want);
		assert_int_equal(s, want < max ? want : max);
	}
	assert_int_equal(vgalloc__sa_block_size(4096, 0, min * div, min, max, g), min);
	assert_int_equal(vgalloc__sa_block_size(4096, 0, 4 * min * div, min, max, g), 4 * min);
	assert_int_equal(vgalloc__sa_block_size(4096, 0, 5 * min * div, min, max, g), 8 * min);
	assert_int_equal(vgalloc__sa_block_size(4096, 0, 1ull << 50, min, max, g), max);
	assert_int_equal(vgalloc__sa_block_size(4096, 0, (max + 1) * div, min, max, g), max);
	assert_int_equal(vgalloc__sa_block_size(4096, 0, 1ull << 50, min, 32 * MiB, g), 32 * MiB);
	/* At least the request plus the worst alignment gap, in granules, even above the maximum. */
	assert_int_equal(vgalloc__sa_block_size(10 * MiB, 0, 0, min, max, g) % g, 0);
	assert_true(vgalloc__sa_block_size(10 * MiB, 0, 0, min, max, g) >= 10 * MiB);
	assert_true(vgalloc__sa_block_size(10 * MiB + 1, 0, 0, min, max, g) >= 10 * MiB + 1);
	assert_true(vgalloc__sa_block_size(MiB, 8 * MiB, 0, min, max, g) >= 9 * MiB - g);
	assert_true(vgalloc__sa_block_size(100 * MiB, 0, 0, min, max, g) >= 100 * MiB);
	assert_int_equal(vgalloc__sa_block_size(100 * MiB, 0, 0, min, max, g) % g, 0);
	/* Every result: a multiple of the granularity, never below the minimum; a power of two
	 * within the bounds whenever the request alone does not decide. */
	for (uint64_t committed = 0; committed < (1ull << 32); committed = committed * 3 + 4096) {
		for (uint64_t req = 1; req < 256 * MiB; req = req * 5 + 7) {
			uint64_t s = vgalloc__sa_block_size(req, 65536, committed, min, max, 65536);

			assert_int_equal(s % 65536, 0);
			assert_true(s >= req);
			assert_true(s >= min);
			if (req <= min) {
				assert_true(s <= max);
				assert_true(vgalloc__is_pow2(s));
			}
		}
	}
}

/* The checker is not vacuous: it sees a corrupted block. */
static void sa_check__detects_corruption(void **state)
{
	struct fixture f;
	struct vgalloc__sa_block *b;
	struct vgalloc__sa_alloc a;

	(void)state;
	fixture_init(&f, 16);
	assert_int_equal(vgalloc__sa_add_block(&f.sa, MiB, NULL, &b), 0);
	assert_int_equal(vgalloc__sa_alloc(&f.sa, 100000, 0, &a), 0);
	assert_true(vgalloc__sa_check_block(&f.sa, b));
	b->used += 16;
	assert_false(vgalloc__sa_check_block(&f.sa, b));
	assert_false(vgalloc__sa_check(&f.sa));
	b->used -= 16;
	b->live++;
	assert_false(vgalloc__sa_check(&f.sa));
	b->live--;
	b->size += 16;
	assert_false(vgalloc__sa_check(&f.sa));
	b->size -= 16;
	assert_true(vgalloc__sa_check(&f.sa));
	assert_ptr_equal(vgalloc__sa_free(&f.sa, &a), b);
	vgalloc__sa_remove_block(&f.sa, b);
	vgalloc__sa_finish(&f.sa);
}

/* --- metadata allocation failures --------------------------------------------------------- */

struct failing {
	struct vgalloc_allocator a;
	int64_t budget;       /* allocations that still succeed; < 0 = unlimited */
	uint32_t fail_one_in; /* with budget < 0: fail one call in this many (0 = never) */
	uint64_t rng;
	uint64_t live, failed;
};

static void *failing_alloc(void *user, size_t size, size_t align, uint32_t scope)
{
	struct failing *f = user;
	void *p = NULL;

	(void)scope;
	if (f->budget == 0 ||
	    (f->budget < 0 && f->fail_one_in && rng_next(&f->rng) % f->fail_one_in == 0)) {
		f->failed++;
		return NULL;
	}
	if (f->budget > 0) {
		f->budget--;
	}
	if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size)) {
		return NULL;
	}
	f->live++;
	return p;
}

static void failing_free(void *user, void *p)
{
	struct failing *f = user;

	assert_non_null(p);
	f->live--;
	free(p);
}

static void failing_init(struct failing *f, int64_t budget)
{
	memset(f, 0, sizeof(*f));
	f->a.user = f;
	f->a.alloc = failing_alloc;
	f->a.free = failing_free;
	f->budget = budget;
	f->rng = test_seed() ^ 0xfa11;
}

/* Everything but metadata_bytes (a record chunk may have been kept as spare). */
static void assert_same_stats(const struct vgalloc__sa_stats *x, const struct vgalloc__sa_stats *y)
{
	struct vgalloc__sa_stats a = *x, b = *y;

	a.metadata_bytes = b.metadata_bytes = 0;
	assert_int_equal(a.blocks, b.blocks);
	assert_int_equal(a.used_bytes, b.used_bytes);
	assert_int_equal(a.free_bytes, b.free_bytes);
	assert_int_equal(a.largest_free, b.largest_free);
	assert_int_equal(a.slab_bytes, b.slab_bytes);
	assert_int_equal(a.live, b.live);
	assert_memory_equal(&a, &b, sizeof(a));
}

/*
 * One attempt that may fail: -ENOMEM must change nothing. The statistics walk is skipped when
 * the allocator cannot fail during the call (it would make the sweep quadratic).
 */
static int try_alloc(struct vgalloc__sa *sa, const struct failing *fa, uint64_t size,
                     uint64_t align, struct vgalloc__sa_alloc *out, uint32_t *enomem)
{
	static struct vgalloc__sa_stats before, after;
	bool may_fail = fa->budget < 0 ? fa->fail_one_in != 0 : fa->budget < 8;
	int ret;

	if (may_fail) {
		vgalloc__sa_get_stats(sa, &before);
	}
	ret = vgalloc__sa_alloc(sa, size, align, out);
	if (ret == -ENOMEM) {
		assert_true(may_fail);
		(*enomem)++;
		vgalloc__sa_get_stats(sa, &after);
		assert_same_stats(&before, &after);
		assert_true(vgalloc__sa_check(sa));
	}
	return ret;
}

/* The Nth metadata allocation fails, for every N up to where a run needs no more. */
static void sa_alloc__metadata_failure_after_n_changes_nothing(void **state)
{
	uint32_t enomem_total = 0, finished = 0;

	(void)state;
	for (int64_t n = 0; n < 64; n++) {
		struct failing fa;
		struct vgalloc__sa sa;
		struct vgalloc__sa_config cfg = { .granularity = 16, .allocator = &fa.a };
		struct vgalloc__sa_block *b;
		struct vgalloc__sa_alloc *a = calloc(512, sizeof(*a));
		uint64_t rng = test_seed() ^ (uint64_t)n;
		uint32_t count = 0, enomem = 0;
		int ret;

		assert_non_null(a);
		failing_init(&fa, n);
		ret = vgalloc__sa_init(&sa, &cfg);
		if (ret) {
			assert_int_equal(ret, -ENOMEM);
			assert_int_equal(fa.live, 0);
			free(a);
			continue;
		}
		ret = vgalloc__sa_add_block(&sa, 64 * MiB, NULL, &b);
		if (ret) {
			assert_int_equal(ret, -ENOMEM);
			assert_empty(&sa);
			vgalloc__sa_finish(&sa);
			assert_int_equal(fa.live, 0);
			free(a);
			continue;
		}
		/* Many classes, slabs and ranges with alignment gaps, until metadata runs out. */
		while (count < 512) {
			uint64_t size = rng_range(&rng, 1, 40000);
			uint64_t align = (rng_next(&rng) & 1) ? 0 : 1ull << rng_range(&rng, 4, 16);

			ret = try_alloc(&sa, &fa, size, align, &a[count], &enomem);
			if (ret == -ENOMEM) {
				/* With memory back, the same request succeeds. */
				fa.budget = -1;
				assert_int_equal(vgalloc__sa_alloc(&sa, size, align, &a[count]), 0);
				count++;
				break;
			}
			assert_int_equal(ret, 0);
			count++;
		}
		enomem_total += enomem;
		finished += count == 512;
		while (count) {
			uint32_t i = (uint32_t)(rng_next(&rng) % count);
			struct vgalloc__sa_block *e = vgalloc__sa_free(&sa, &a[i]);

			a[i] = a[--count];
			assert_true(count ? e == NULL : e == b);
		}
		vgalloc__sa_remove_block(&sa, b);
		assert_empty(&sa);
		vgalloc__sa_finish(&sa);
		assert_int_equal(fa.live, 0);
		free(a);
	}
	print_message("  %u allocations failed with -ENOMEM, %u runs needed no failure\n",
	              enomem_total, finished);
	assert_true(enomem_total > 0);
	assert_true(finished > 0);
}

/*
 * Random operations with one metadata allocation in four failing. Records are recycled, so
 * the run is cut into short episodes, each with a fresh allocator that must grow from nothing.
 */
static void sa_alloc__random_metadata_failures_change_nothing(void **state)
{
	enum {
		EPISODE = 2000,
		MAX_LIVE = 512,
		MAX_BLOCKS = 16
	};
	struct vgalloc__sa_alloc a[MAX_LIVE];
	struct vgalloc__sa_block *blocks[MAX_BLOCKS];
	uint64_t rng = test_seed() ^ 0xe40e;
	uint32_t ops = test_scale(200000), enomem = 0, episodes = 0, failed = 0;

	(void)state;
	for (uint32_t done = 0; done < ops; done += EPISODE, episodes++) {
		struct failing fa;
		struct vgalloc__sa sa;
		struct vgalloc__sa_config cfg = { .granularity = 16, .allocator = &fa.a };
		uint32_t nblocks = 0, count = 0;

		failing_init(&fa, -1);
		fa.rng ^= done;
		assert_int_equal(vgalloc__sa_init(&sa, &cfg), 0);
		fa.fail_one_in = 4;
		for (uint32_t op = 0; op < EPISODE; op++) {
			if (count < MAX_LIVE && rng_next(&rng) % MAX_LIVE >= count / 2) {
				uint64_t size = rng_next(&rng) % 8 ? rng_range(&rng, 1, 40000)
				                                   : rng_range(&rng, 40000, MiB);
				uint64_t align =
				        (rng_next(&rng) & 1) ? 0 : 1ull << rng_range(&rng, 4, 17);
				int ret = try_alloc(&sa, &fa, size, align, &a[count], &enomem);

				if (ret == -ENOSPC && nblocks < MAX_BLOCKS) {
					uint64_t bs = vgalloc__sa_block_size(size, align, 0,
					                                     8 * MiB, 8 * MiB, 16);

					ret = vgalloc__sa_add_block(&sa, bs, NULL,
					                            &blocks[nblocks]);
					if (ret == 0) {
						nblocks++;
					} else {
						assert_int_equal(ret, -ENOMEM);
					}
				} else if (ret == 0) {
					count++;
				} else if (ret != -ENOSPC) {
					assert_int_equal(ret, -ENOMEM);
				}
			} else if (count) {
				uint32_t i = (uint32_t)(rng_next(&rng) % count);

				/* Free never allocates and cannot fail. */
				vgalloc__sa_free(&sa, &a[i]);
				a[i] = a[--count];
			}
		}
		assert_true(vgalloc__sa_check(&sa));
		while (count) {
			vgalloc__sa_free(&sa, &a[--count]);
		}
		while (nblocks) {
			assert_int_equal(blocks[nblocks - 1]->used, 0);
			vgalloc__sa_remove_block(&sa, blocks[--nblocks]);
		}
		assert_empty(&sa);
		vgalloc__sa_finish(&sa);
		assert_int_equal(fa.live, 0);
		failed += (uint32_t)fa.failed;
	}
	print_message("  %u episodes, %u -ENOMEM from vgalloc__sa_alloc, %u allocator failures\n",
	              episodes, enomem, failed);
	assert_true(enomem > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sa_init__rejects_bad_config),
		cmocka_unit_test(sa_alloc__bad_arguments),
		cmocka_unit_test(sa_alloc__no_blocks_is_enospc),
		cmocka_unit_test(sa_add_block__rejects_bad_sizes),
		cmocka_unit_test(sa_alloc__exact_fill_of_a_block),
		cmocka_unit_test(sa_close_block__withdraws_free_space),
		cmocka_unit_test(sa_alloc__align_larger_than_block_is_enospc),
		cmocka_unit_test(sa_alloc__largest_slab_class_and_one_byte_more),
		cmocka_unit_test(sa_free__slab_entries_in_every_order),
		cmocka_unit_test(sa_block_size__grows_with_the_pool),
		cmocka_unit_test(sa_block_size__new_block_fits_the_request),
		cmocka_unit_test(sa_check__detects_corruption),
		cmocka_unit_test(sa_alloc__metadata_failure_after_n_changes_nothing),
		cmocka_unit_test(sa_alloc__random_metadata_failures_change_nothing),
		cmocka_unit_test(suballoc__reference_model_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
