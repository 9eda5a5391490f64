/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's reference allocators (ref.h): a two-level segregated fit over offsets and a
 * pb_slab-like layer of power-of-two slabs on top of it. Our own code, written from the published
 * designs for comparison only: the bench replays them beside lib/suballoc.c, under the same block
 * policy, to show what a textbook allocator costs in time and committed bytes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"
#include "suballoc.h"

#define KiB (1024ull)
#define MiB (1024ull * 1024ull)

#define NIL UINT32_MAX

/*
 * Geometry of the segregated fit, in units of the granularity: 32 lists per power of two (so a
 * search's round-up wastes at most 1/32 of a request; the library uses 16), sizes below
 * 2^UNITS_BITS units. Sizes under SL_COUNT units get one exact list each (first level 0).
 */
#define SL_BITS    5
#define SL_COUNT   (1u << SL_BITS)
#define UNITS_BITS 48
#define FL_COUNT   (UNITS_BITS - SL_BITS + 1)
/* The largest request: room for its alignment padding and the search's round-up. */
#define UNITS_MAX (1ull << (UNITS_BITS - 2))

/* Slabs: entries from max(granularity, 256 B) to 64 KiB by powers of two. */
#define SLAB_MIN_ENTRY   (256ull)
#define SLAB_MAX_ENTRY   (64 * KiB)
#define SLAB_MIN_BYTES   (64 * KiB)
#define SLAB_MIN_COUNT   16u
#define SLAB_MAX_CLASSES 16u
/* A slab of SLAB_MIN_BYTES with SLAB_MIN_ENTRY entries has the most entries: 256. */
#define SLAB_WORDS 4u
/* Set in ref_handle.b when the allocation is a slab entry (b is then the slab's index). */
#define SLAB_TAG (1u << 31)
/* Pools hold at most this many records, so that an index never reaches SLAB_TAG. */
#define POOL_MAX (1u << 30)

const char *const ref_names[REF_COUNT] = {
	[REF_TLSF] = "tlsf-reference",
	[REF_SLAB] = "slab-reference",
};

/* A range of a block, free or allocated: the header TLSF would keep in the memory itself. */
struct chunk {
	uint64_t off;  /* units from the block's start */
	uint64_t size; /* units */
	uint32_t block;
	uint32_t is_free;
	uint32_t phys_prev, phys_next; /* address-ordered neighbours in the block */
	uint32_t link_prev, link_next; /* the free list of its size, or the pool's spare list */
};

struct block {
	uint64_t size;      /* bytes */
	uint32_t live;      /* allocated chunks in it (a slab counts once) */
	uint32_t next_free; /* the pool's spare list, while the slot is unused */
};

struct slab {
	uint64_t free_bits[SLAB_WORDS]; /* bit set = entry free */
	uint64_t off;                   /* bytes from the block's start */
	uint32_t chunk;                 /* the TLSF chunk it occupies */
	uint32_t block;
	uint32_t prev, next; /* its class's list of slabs with a free entry, or the spare list */
	uint32_t free_count;
	uint32_t cls;
};

struct slab_class {
	uint32_t partial; /* slabs with a free entry; a full slab is on no list */
	uint32_t entries; /* per slab */
	uint32_t shift;   /* log2 of the entry size */
	uint32_t pad;
	uint64_t slab_units;
};

struct ref_allocator {
	enum ref_kind kind;
	uint32_t gran_shift;
	uint64_t granularity, min_block, max_block;
	uint64_t committed, peak_committed, blocks_added;
	uint32_t spare; /* the one empty block kept, or NIL */

	/* Segregated fit: bit fl of fl_bitmap when sl_bitmap[fl] != 0; bit sl of sl_bitmap[fl]
	 * when heads[fl][sl] holds a chunk. */
	uint64_t fl_bitmap;
	uint32_t sl_bitmap[FL_COUNT];
	uint32_t heads[FL_COUNT][SL_COUNT];

	/* Record pools: arrays grown by doubling, spare records linked by index. */
	struct chunk *chunks;
	uint32_t chunk_cap, chunk_spare, chunk_spare_count;
	struct block *blocks;
	uint32_t block_cap, block_used, block_spare;
	struct slab *slabs;
	uint32_t slab_cap, slab_spare;

	/* Slab layer (REF_SLAB only). */
	uint32_t class_count;
	uint32_t min_entry_shift;
	struct slab_class classes[SLAB_MAX_CLASSES];
};

static inline uint32_t log2_u64(uint64_t v)
{
	return 63u - (uint32_t)__builtin_clzll(v);
}

/* ---------------------------------------------------------------------------------------------
 * Record pools. Growth happens before a structure is touched, so a failed growth leaves
 * everything as it was.
 */

static int chunk_reserve(struct ref_allocator *r, uint32_t want)
{
	struct chunk *n;
	uint32_t cap;

	if (r->chunk_spare_count >= want) {
		return 0;
	}
	if (r->chunk_cap >= POOL_MAX) {
		return -ENOMEM;
	}
	cap = r->chunk_cap ? r->chunk_cap * 2 : 256;
	n = realloc(r->chunks, (size_t)cap * sizeof(*n));
	if (!n) {
		return -ENOMEM;
	}
	/* Thread the new records so the lowest index comes out first. */
	for (uint32_t i = cap; i-- > r->chunk_cap;) {
		n[i].link_next = r->chunk_spare;
		r->chunk_spare = i;
	}
	r->chunk_spare_count += cap - r->chunk_cap;
	r->chunks = n;
	r->chunk_cap = cap;
	return 0;
}

static inline uint32_t chunk_get(struct ref_allocator *r)
{
	uint32_t i = r->chunk_spare;

	r->chunk_spare = r->chunks[i].link_next;
	r->chunk_spare_count--;
	return i;
}

static inline void chunk_put(struct ref_allocator *r, uint32_t i)
{
	r->chunks[i].link_next = r->chunk_spare;
	r->chunk_spare = i;
	r->chunk_spare_count++;
}

static int block_slot_get(struct ref_allocator *r, uint32_t *out)
{
	if (r->block_spare == NIL && r->block_used == r->block_cap) {
		uint32_t cap = r->block_cap ? r->block_cap * 2 : 8;
		struct block *n;

		if (r->block_cap >= POOL_MAX) {
			return -ENOMEM;
		}
		n = realloc(r->blocks, (size_t)cap * sizeof(*n));
		if (!n) {
			return -ENOMEM;
		}
		r->blocks = n;
		r->block_cap = cap;
	}
	if (r->block_spare != NIL) {
		*out = r->block_spare;
		r->block_spare = r->blocks[*out].next_free;
	} else {
		*out = r->block_used++;
	}
	return 0;
}

static int slab_get(struct ref_allocator *r, uint32_t *out)
{
	if (r->slab_spare == NIL) {
		uint32_t cap = r->slab_cap ? r->slab_cap * 2 : 32;
		struct slab *n;

		if (r->slab_cap >= POOL_MAX) {
			return -ENOMEM;
		}
		n = realloc(r->slabs, (size_t)cap * sizeof(*n));
		if (!n) {
			return -ENOMEM;
		}
		for (uint32_t i = cap; i-- > r->slab_cap;) {
			n[i].next = r->slab_spare;
			r->slab_spare = i;
		}
		r->slabs = n;
		r->slab_cap = cap;
	}
	*out = r->slab_spare;
	r->slab_spare = r->slabs[*out].next;
	return 0;
}

static inline void slab_put(struct ref_allocator *r, uint32_t i)
{
	r->slabs[i].next = r->slab_spare;
	r->slab_spare = i;
}

/* ---------------------------------------------------------------------------------------------
 * Two-level segregated fit over every block.
 */

/* The list a free chunk of n units belongs in. */
static inline void map_insert(uint64_t n, uint32_t *fl, uint32_t *sl)
{
	uint32_t f;

	if (n < SL_COUNT) {
		*fl = 0;
		*sl = (uint32_t)n;
		return;
	}
	f = log2_u64(n);
	*fl = f - SL_BITS + 1;
	*sl = (uint32_t)(n >> (f - SL_BITS)) - SL_COUNT;
}

/* The first list whose every chunk holds n units: n rounded up to its list's upper bound. */
static inline void map_search(uint64_t n, uint32_t *fl, uint32_t *sl)
{
	if (n >= SL_COUNT) {
		n += (1ull << (log2_u64(n) - SL_BITS)) - 1;
	}
	map_insert(n, fl, sl);
}

static inline uint32_t find_free(const struct ref_allocator *r, uint32_t fl, uint32_t sl)
{
	uint32_t sl_map = r->sl_bitmap[fl] & (~0u << sl);

	if (!sl_map) {
		/* fl + 1 < FL_COUNT ≤ 64: the shift is defined. */
		uint64_t fl_map = r->fl_bitmap & (~0ull << (fl + 1));

		if (!fl_map) {
			return NIL;
		}
		fl = (uint32_t)__builtin_ctzll(fl_map);
		sl_map = r->sl_bitmap[fl];
	}
	return r->heads[fl][__builtin_ctz(sl_map)];
}

static inline void free_insert(struct ref_allocator *r, uint32_t i)
{
	struct chunk *c = &r->chunks[i];
	uint32_t fl, sl, head;

	map_insert(c->size, &fl, &sl);
	head = r->heads[fl][sl];
	c->is_free = 1;
	c->link_prev = NIL;
	c->link_next = head;
	if (head != NIL) {
		r->chunks[head].link_prev = i;
	}
	r->heads[fl][sl] = i;
	r->sl_bitmap[fl] |= 1u << sl;
	r->fl_bitmap |= 1ull << fl;
}

static inline void free_remove(struct ref_allocator *r, uint32_t i)
{
	struct chunk *c = &r->chunks[i];
	uint32_t fl, sl;

	c->is_free = 0;
	if (c->link_next != NIL) {
		r->chunks[c->link_next].link_prev = c->link_prev;
	}
	if (c->link_prev != NIL) {
		r->chunks[c->link_prev].link_next = c->link_next;
		return;
	}
	/* The head of its list: the list, and maybe its bits, change. */
	map_insert(c->size, &fl, &sl);
	r->heads[fl][sl] = c->link_next;
	if (c->link_next == NIL) {
		r->sl_bitmap[fl] &= ~(1u << sl);
		if (!r->sl_bitmap[fl]) {
			r->fl_bitmap &= ~(1ull << fl);
		}
	}
}

/* Cut the first `units` of free chunk i (already off its list) into a new free chunk. */
static inline void split_front(struct ref_allocator *r, uint32_t i, uint64_t units)
{
	uint32_t g = chunk_get(r);
	struct chunk *c = &r->chunks[i], *h = &r->chunks[g];

	h->off = c->off;
	h->size = units;
	h->block = c->block;
	h->phys_prev = c->phys_prev;
	h->phys_next = i;
	if (c->phys_prev != NIL) {
		r->chunks[c->phys_prev].phys_next = g;
	}
	c->phys_prev = g;
	c->off += units;
	c->size -= units;
	free_insert(r, g);
}

/* Cut what lies past the first `units` of chunk i into a new free chunk. */
static inline void split_back(struct ref_allocator *r, uint32_t i, uint64_t units)
{
	uint32_t t = chunk_get(r);
	struct chunk *c = &r->chunks[i], *h = &r->chunks[t];

	h->off = c->off + units;
	h->size = c->size - units;
	h->block = c->block;
	h->phys_prev = i;
	h->phys_next = c->phys_next;
	if (c->phys_next != NIL) {
		r->chunks[c->phys_next].phys_prev = t;
	}
	c->phys_next = t;
	c->size = units;
	free_insert(r, t);
}

/* n units aligned to a units (a power of two). Return: 0, -ENOSPC, -ENOMEM. */
static int tlsf_alloc(struct ref_allocator *r, uint64_t n, uint64_t a, uint32_t *out)
{
	uint32_t fl, sl, i;
	uint64_t gap;

	/* A leading gap and a remainder: two records at most. */
	if (r->chunk_spare_count < 2 && chunk_reserve(r, 2)) {
		return -ENOMEM;
	}
	map_search(n, &fl, &sl);
	i = find_free(r, fl, sl);
	if (i == NIL) {
		return -ENOSPC;
	}
	gap = (0 - r->chunks[i].off) & (a - 1);
	if (gap && r->chunks[i].size < n + gap) {
		/* This chunk starts misaligned and is too short for the gap: look for one that
		 * holds n wherever it starts. */
		map_search(n + a - 1, &fl, &sl);
		i = find_free(r, fl, sl);
		if (i == NIL) {
			return -ENOSPC;
		}
		gap = (0 - r->chunks[i].off) & (a - 1);
	}
	free_remove(r, i);
	if (gap) {
		split_front(r, i, gap);
	}
	if (r->chunks[i].size > n) {
		split_back(r, i, n);
	}
	r->blocks[r->chunks[i].block].live++;
	*out = i;
	return 0;
}

static int block_add(struct ref_allocator *r, uint64_t bytes)
{
	uint32_t b, i;
	int ret;

	ret = chunk_reserve(r, 1);
	if (ret) {
		return ret;
	}
	ret = block_slot_get(r, &b);
	if (ret) {
		return ret;
	}
	i = chunk_get(r);
	r->blocks[b].size = bytes;
	r->blocks[b].live = 0;
	r->chunks[i] = (struct chunk){
		.off = 0,
		.size = bytes >> r->gran_shift,
		.block = b,
		.phys_prev = NIL,
		.phys_next = NIL,
	};
	free_insert(r, i);
	r->committed += bytes;
	r->blocks_added++;
	if (r->committed > r->peak_committed) {
		r->peak_committed = r->committed;
	}
	return 0;
}

/*
 * The bench's block policy (run.c, sa_do_free): keep one empty block, remove any other at once.
 * The spare may have been allocated from since it was kept; then b takes its place.
 */
static void block_emptied(struct ref_allocator *r, uint32_t b, uint32_t whole)
{
	if (r->spare == NIL || r->spare == b || r->blocks[r->spare].live != 0) {
		r->spare = b;
		return;
	}
	free_remove(r, whole);
	chunk_put(r, whole);
	r->committed -= r->blocks[b].size;
	r->blocks[b].next_free = r->block_spare;
	r->block_spare = b;
}

static void tlsf_free(struct ref_allocator *r, uint32_t i)
{
	struct chunk *c = &r->chunks[i];
	uint32_t b = c->block, p = c->phys_prev, nx = c->phys_next;

	/* Free neighbours are merged at once, so neither of them has a free neighbour of its own
	 * on the far side. */
	if (p != NIL && r->chunks[p].is_free) {
		struct chunk *pc = &r->chunks[p];

		free_remove(r, p);
		pc->size += c->size;
		pc->phys_next = nx;
		if (nx != NIL) {
			r->chunks[nx].phys_prev = p;
		}
		chunk_put(r, i);
		i = p;
		c = pc;
	}
	if (nx != NIL && r->chunks[nx].is_free) {
		struct chunk *nc = &r->chunks[nx];

		free_remove(r, nx);
		c->size += nc->size;
		c->phys_next = nc->phys_next;
		if (nc->phys_next != NIL) {
			r->chunks[nc->phys_next].phys_prev = i;
		}
		chunk_put(r, nx);
	}
	free_insert(r, i);
	if (--r->blocks[b].live == 0) {
		block_emptied(r, b, i);
	}
}

/*
 * tlsf_alloc, adding a block when nothing fits. The block is sized as the bench sizes the
 * library's (vgalloc__sa_block_size for the caller's request), and at least so that the range
 * actually wanted from the segregated fit (a slab may be larger than the request) lands in a
 * list the search reaches.
 */
static int tlsf_alloc_grow(struct ref_allocator *r, uint64_t n, uint64_t a, uint64_t req_size,
                           uint64_t req_align, uint32_t *out)
{
	uint64_t bs, need;
	int ret = tlsf_alloc(r, n, a, out);

	if (ret != -ENOSPC) {
		return ret;
	}
	bs = vgalloc__sa_block_size(req_size, req_align, r->committed, r->min_block, r->max_block,
	                            r->granularity);
	need = vgalloc__sa_block_size(n << r->gran_shift, a << r->gran_shift, r->committed,
	                              r->min_block, r->max_block, r->granularity);
	if (need > bs) {
		bs = need;
	}
	/* A min_block or max_block that is no multiple of the granularity: round up. */
	bs = (bs + r->granularity - 1) & ~(r->granularity - 1);
	if (!bs || (bs >> r->gran_shift) >= UNITS_MAX) {
		return -ENOMEM;
	}
	ret = block_add(r, bs);
	if (ret) {
		return ret;
	}
	return tlsf_alloc(r, n, a, out);
}

/* ---------------------------------------------------------------------------------------------
 * Slabs: power-of-two entries, a bitmap of free entries per slab, a list of slabs with a free
 * entry per class. Frees are immediate (no fences to wait for), and a slab that becomes wholly
 * free goes straight back to the segregated fit.
 */

static int slab_new(struct ref_allocator *r, uint32_t cls, uint64_t req_size, uint64_t req_align,
                    uint32_t *out)
{
	struct slab_class *k = &r->classes[cls];
	struct slab *s;
	uint32_t si, ci;
	int ret;

	ret = slab_get(r, &si);
	if (ret) {
		return ret;
	}
	/* Aligned to its entry size so that every entry is naturally aligned. */
	ret = tlsf_alloc_grow(r, k->slab_units, 1ull << (k->shift - r->gran_shift), req_size,
	                      req_align, &ci);
	if (ret) {
		slab_put(r, si);
		return ret;
	}
	s = &r->slabs[si];
	memset(s->free_bits, 0, sizeof(s->free_bits));
	for (uint32_t w = 0; w < k->entries / 64; w++) {
		s->free_bits[w] = ~0ull;
	}
	if (k->entries % 64) {
		s->free_bits[k->entries / 64] = (1ull << (k->entries % 64)) - 1;
	}
	s->off = r->chunks[ci].off << r->gran_shift;
	s->chunk = ci;
	s->block = r->chunks[ci].block;
	s->free_count = k->entries;
	s->cls = cls;
	s->prev = NIL;
	s->next = NIL;
	k->partial = si;
	*out = si;
	return 0;
}

static inline void partial_push(struct ref_allocator *r, struct slab_class *k, uint32_t si)
{
	struct slab *s = &r->slabs[si];

	s->prev = NIL;
	s->next = k->partial;
	if (k->partial != NIL) {
		r->slabs[k->partial].prev = si;
	}
	k->partial = si;
}

static inline void partial_remove(struct ref_allocator *r, struct slab_class *k, uint32_t si)
{
	struct slab *s = &r->slabs[si];

	if (s->prev != NIL) {
		r->slabs[s->prev].next = s->next;
	} else {
		k->partial = s->next;
	}
	if (s->next != NIL) {
		r->slabs[s->next].prev = s->prev;
	}
}

static int slab_alloc(struct ref_allocator *r, uint32_t cls, uint64_t req_size, uint64_t req_align,
                      struct ref_handle *out)
{
	struct slab_class *k = &r->classes[cls];
	uint32_t si = k->partial, w = 0, e;
	struct slab *s;

	if (si == NIL) {
		int ret = slab_new(r, cls, req_size, req_align, &si);

		if (ret) {
			return ret;
		}
	}
	s = &r->slabs[si];
	while (!s->free_bits[w]) {
		w++;
	}
	e = w * 64 + (uint32_t)__builtin_ctzll(s->free_bits[w]);
	s->free_bits[w] &= s->free_bits[w] - 1;
	if (--s->free_count == 0) {
		partial_remove(r, k, si);
	}
	out->offset = s->off + ((uint64_t)e << k->shift);
	out->size = 1ull << k->shift;
	out->a = s->block;
	out->b = si | SLAB_TAG;
	out->p = NULL;
	return 0;
}

static void slab_free(struct ref_allocator *r, const struct ref_handle *h)
{
	uint32_t si = h->b & ~SLAB_TAG;
	struct slab *s = &r->slabs[si];
	struct slab_class *k = &r->classes[s->cls];
	uint32_t e = (uint32_t)((h->offset - s->off) >> k->shift);

	s->free_bits[e / 64] |= 1ull << (e % 64);
	if (s->free_count++ == 0) {
		partial_push(r, k, si);
	}
	if (s->free_count == k->entries) {
		partial_remove(r, k, si);
		tlsf_free(r, s->chunk);
		slab_put(r, si);
	}
}

/* ---------------------------------------------------------------------------------------------
 * The interface.
 */

int ref_create(enum ref_kind kind, uint64_t granularity, uint64_t min_block, uint64_t max_block,
               struct ref_allocator **out)
{
	struct ref_allocator *r;

	*out = NULL;
	if ((unsigned)kind >= REF_COUNT || !granularity || (granularity & (granularity - 1))) {
		return -EINVAL;
	}
	min_block = min_block ? min_block : 4 * MiB;
	max_block = max_block ? max_block : 64 * MiB;
	if (min_block > max_block) {
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		return -ENOMEM;
	}
	r->kind = kind;
	r->granularity = granularity;
	r->gran_shift = log2_u64(granularity);
	r->min_block = min_block;
	r->max_block = max_block;
	r->spare = NIL;
	r->chunk_spare = NIL;
	r->block_spare = NIL;
	r->slab_spare = NIL;
	memset(r->heads, 0xff, sizeof(r->heads));

	if (kind == REF_SLAB) {
		uint64_t entry = granularity > SLAB_MIN_ENTRY ? granularity : SLAB_MIN_ENTRY;

		r->min_entry_shift = log2_u64(entry);
		for (; entry <= SLAB_MAX_ENTRY; entry *= 2) {
			struct slab_class *k = &r->classes[r->class_count++];
			/*
			 * A slab is max(64 KiB, 16 entries). Below 64 KiB, the large-page size of
			 * most GPUs, a smaller slab saves nothing once the page is mapped whole;
			 * 16 entries at least keep the largest classes from handing a slab back
			 * and taking a new one on every other free; and 64 KiB / 256 B bounds a
			 * slab at 256 entries, four bitmap words.
			 */
			uint64_t bytes = entry * SLAB_MIN_COUNT > SLAB_MIN_BYTES
			                         ? entry * SLAB_MIN_COUNT
			                         : SLAB_MIN_BYTES;

			k->partial = NIL;
			k->shift = log2_u64(entry);
			k->entries = (uint32_t)(bytes / entry);
			k->slab_units = bytes >> r->gran_shift;
		}
	}
	*out = r;
	return 0;
}

int ref_alloc(struct ref_allocator *r, uint64_t size, uint64_t align, struct ref_handle *out)
{
	uint64_t n;
	uint32_t ci;
	int ret;

	if (!size || (align & (align - 1))) {
		return -EINVAL;
	}
	if (align < r->granularity) {
		align = r->granularity;
	}
	if (r->kind == REF_SLAB && size <= SLAB_MAX_ENTRY && r->class_count) {
		uint32_t cls = 0;

		if (size > (1ull << r->min_entry_shift)) {
			cls = 64u - (uint32_t)__builtin_clzll(size - 1) - r->min_entry_shift;
		}
		if (align <= (1ull << r->classes[cls].shift)) {
			return slab_alloc(r, cls, size, align, out);
		}
	}
	if (size > UINT64_MAX - r->granularity || (align >> r->gran_shift) >= UNITS_MAX) {
		return -ENOMEM;
	}
	n = (size + r->granularity - 1) >> r->gran_shift;
	if (n >= UNITS_MAX) {
		return -ENOMEM;
	}
	ret = tlsf_alloc_grow(r, n, align >> r->gran_shift, size, align, &ci);
	if (ret) {
		return ret;
	}
	out->offset = r->chunks[ci].off << r->gran_shift;
	out->size = n << r->gran_shift;
	out->a = r->chunks[ci].block;
	out->b = ci;
	out->p = NULL;
	return 0;
}

void ref_free(struct ref_allocator *r, const struct ref_handle *h)
{
	if (h->b & SLAB_TAG) {
		slab_free(r, h);
	} else {
		tlsf_free(r, h->b);
	}
}

uint64_t ref_committed(const struct ref_allocator *r)
{
	return r->committed;
}

uint64_t ref_peak_committed(const struct ref_allocator *r)
{
	return r->peak_committed;
}

uint64_t ref_blocks_added(const struct ref_allocator *r)
{
	return r->blocks_added;
}

void ref_destroy(struct ref_allocator *r)
{
	if (!r) {
		return;
	}
	free(r->chunks);
	free(r->blocks);
	free(r->slabs);
	free(r);
}
