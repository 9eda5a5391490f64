/* SPDX-License-Identifier: MIT */
/*
 * The suballocation algorithm: size-classed slabs with bitmaps for small sizes and an O(1)
 * two-level segregated fit (no full-search fallback) over every block for the rest. Metadata is
 * out of band, so blocks need not be mapped to be managed, and nothing here knows about blobs.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "core.h"
#include "suballoc.h"

struct vgalloc__sa_range {
	uint64_t offset;
	uint64_t size;
	struct vgalloc__sa_block *block;
	struct vgalloc__sa_range *phys_prev, *phys_next; /* address order within the block */
	struct vgalloc__sa_range *free_prev, *free_next; /* its free list, when free */
	struct vgalloc__sa_slab *slab;                   /* the slab living in it, if any */
	uint32_t is_free;
	uint32_t hole; /* free space of a closed block: in no list, never handed out */
};

struct vgalloc__sa_slab {
	struct vgalloc__sa_range *range;
	struct vgalloc__sa_slab *prev, *next; /* the class's partial list */
	uint32_t cls;
	uint32_t free_count;
	uint32_t in_partial;
	uint32_t reserved;
	uint64_t used[VGALLOC__SA_SLAB_WORDS]; /* bit set = entry handed out */
};

#define RECORDS_PER_CHUNK 128

static inline uint32_t fls64(uint64_t v)
{
	return 63u - (uint32_t)__builtin_clzll(v);
}

static inline uint32_t ctz64(uint64_t v)
{
	return (uint32_t)__builtin_ctzll(v);
}

static inline uint64_t lowbit(uint64_t v)
{
	return v & (~v + 1);
}

/* --- records ------------------------------------------------------------------------------ */

static bool add_chunk(struct vgalloc__sa *sa, void *chunk)
{
	if (sa->chunk_count == sa->chunk_cap) {
		uint32_t cap = sa->chunk_cap ? sa->chunk_cap * 2 : 16;
		void **c = vgalloc__alloc(sa->cfg.allocator, sizeof(void *) * cap, 8,
		                          VGALLOC_SCOPE_CACHE);

		if (!c) {
			return false;
		}
		if (sa->chunks) {
			memcpy(c, sa->chunks, sizeof(void *) * sa->chunk_count);
			vgalloc__free(sa->cfg.allocator, sa->chunks);
		}
		sa->chunks = c;
		sa->chunk_cap = cap;
	}
	sa->chunks[sa->chunk_count++] = chunk;
	return true;
}

/* A spare record's first bytes link it to the next spare: ranges and slabs share one scheme. */
static void record_recycle(void **spare, void *rec)
{
	memcpy(rec, spare, sizeof(*spare));
	*spare = rec;
}

/* A zeroed record of `size` bytes from `spare`, refilled a chunk of RECORDS_PER_CHUNK at a time. */
static void *record_new(struct vgalloc__sa *sa, void **spare, size_t size)
{
	uint8_t *rec = *spare;

	if (!rec) {
		uint8_t *c = vgalloc__alloc(sa->cfg.allocator, size * RECORDS_PER_CHUNK, 16,
		                            VGALLOC_SCOPE_CACHE);

		if (!c || !add_chunk(sa, c)) {
			vgalloc__free(sa->cfg.allocator, c);
			return NULL;
		}
		for (uint32_t i = RECORDS_PER_CHUNK; i-- > 0;) {
			record_recycle(spare, c + i * size);
		}
		sa->metadata_bytes += size * RECORDS_PER_CHUNK;
		rec = *spare;
	}
	memcpy(spare, rec, sizeof(*spare));
	memset(rec, 0, size);
	return rec;
}

#define range_new(sa)        record_new((sa), &(sa)->spare_ranges, sizeof(struct vgalloc__sa_range))
#define range_recycle(sa, r) record_recycle(&(sa)->spare_ranges, (r))
#define slab_new(sa)         record_new((sa), &(sa)->spare_slabs, sizeof(struct vgalloc__sa_slab))
#define slab_recycle(sa, s)  record_recycle(&(sa)->spare_slabs, (s))

/* --- two-level segregated fit ------------------------------------------------------------- */

/* Sizes are in granules; the first 2^SL_BITS granules map linearly to first level 0. */
static inline void mapping(uint64_t units, uint32_t *fl, uint32_t *sl)
{
	if (units < VGALLOC__SA_SL_COUNT) {
		*fl = 0;
		*sl = (uint32_t)units;
	} else {
		uint32_t f = fls64(units);

		*fl = f - VGALLOC__SA_SL_BITS + 1;
		*sl = (uint32_t)(units >> (f - VGALLOC__SA_SL_BITS)) ^ VGALLOC__SA_SL_COUNT;
	}
}

static void free_insert(struct vgalloc__sa *sa, struct vgalloc__sa_range *r)
{
	uint32_t fl, sl;
	struct vgalloc__sa_range **head;

	mapping(r->size >> sa->gran_shift, &fl, &sl);
	head = &sa->free_lists[fl][sl];
	r->is_free = 1;
	r->free_prev = NULL;
	r->free_next = *head;
	if (*head) {
		(*head)->free_prev = r;
	}
	*head = r;
	sa->fl_bitmap |= 1ull << fl;
	sa->sl_bitmap[fl] |= 1u << sl;
}

static void free_remove(struct vgalloc__sa *sa, struct vgalloc__sa_range *r)
{
	uint32_t fl, sl;

	mapping(r->size >> sa->gran_shift, &fl, &sl);
	if (r->free_prev) {
		r->free_prev->free_next = r->free_next;
	} else {
		sa->free_lists[fl][sl] = r->free_next;
		if (!r->free_next) {
			sa->sl_bitmap[fl] &= ~(1u << sl);
			if (!sa->sl_bitmap[fl]) {
				sa->fl_bitmap &= ~(1ull << fl);
			}
		}
	}
	if (r->free_next) {
		r->free_next->free_prev = r->free_prev;
	}
	r->is_free = 0;
	r->free_prev = r->free_next = NULL;
}

/*
 * A free range of at least `units` granules, in O(1): round the request up to the next list
 * boundary so that any range in the list found is large enough (good fit, not best fit).
 */
static struct vgalloc__sa_range *find_free(struct vgalloc__sa *sa, uint64_t units)
{
	uint32_t fl, sl;
	uint64_t fl_map;
	uint32_t sl_map;

	if (units >= VGALLOC__SA_SL_COUNT) {
		uint64_t round = (1ull << (fls64(units) - VGALLOC__SA_SL_BITS)) - 1;

		if (units > UINT64_MAX - round) {
			return NULL;
		}
		units += round;
	}
	mapping(units, &fl, &sl);
	if (fl >= VGALLOC__SA_FL_MAX) {
		return NULL;
	}
	sl_map = sa->sl_bitmap[fl] & (~0u << sl);
	if (!sl_map) {
		fl_map = fl + 1 < 64 ? sa->fl_bitmap & (~0ull << (fl + 1)) : 0;
		if (!fl_map) {
			return NULL;
		}
		fl = ctz64(fl_map);
		sl_map = sa->sl_bitmap[fl];
	}
	return sa->free_lists[fl][ctz64(sl_map)];
}

/*
 * The head of the request's own list, when it happens to fit (with its alignment gap). Still
 * O(1), and it reuses holes the rounded-up search would step over: measured on W4, this is
 * what keeps the largest allocations from always taking fresh space.
 */
static struct vgalloc__sa_range *exact_head(struct vgalloc__sa *sa, uint64_t size, uint64_t align)
{
	struct vgalloc__sa_range *h;
	uint32_t fl, sl;

	mapping(size >> sa->gran_shift, &fl, &sl);
	if (fl >= VGALLOC__SA_FL_MAX) {
		return NULL;
	}
	h = sa->free_lists[fl][sl];
	if (h && h->size >= size + (((h->offset + align - 1) & ~(align - 1)) - h->offset)) {
		return h;
	}
	return NULL;
}

/* Split `size` bytes off the front of free-list-detached range r; the rest goes back free. */
static int split_tail(struct vgalloc__sa *sa, struct vgalloc__sa_range *r, uint64_t size)
{
	struct vgalloc__sa_range *rest;

	if (r->size == size) {
		return 0;
	}
	rest = range_new(sa);
	if (!rest) {
		return -ENOMEM;
	}
	rest->offset = r->offset + size;
	rest->size = r->size - size;
	rest->block = r->block;
	rest->phys_prev = r;
	rest->phys_next = r->phys_next;
	if (r->phys_next) {
		r->phys_next->phys_prev = rest;
	}
	r->phys_next = rest;
	r->size = size;
	free_insert(sa, rest);
	return 0;
}

static int range_alloc(struct vgalloc__sa *sa, uint64_t size, uint64_t align,
                       struct vgalloc__sa_range **out)
{
	uint64_t g = sa->cfg.granularity;
	uint64_t pad_max = align > g ? align - g : 0;
	struct vgalloc__sa_range *r, *front = NULL;
	uint64_t pad;

	r = align <= g ? exact_head(sa, size, align) : NULL;
	if (!r) {
		r = find_free(sa, (size + pad_max) >> sa->gran_shift);
	}
	if (!r) {
		return -ENOSPC;
	}
	pad = ((r->offset + align - 1) & ~(align - 1)) - r->offset;
	/* Records for both splits up front, so a metadata failure changes nothing. */
	if (pad && !(front = range_new(sa))) {
		return -ENOMEM;
	}
	free_remove(sa, r);
	if (pad) {
		/* The alignment gap stays free in front of the allocation. */
		front->offset = r->offset;
		front->size = pad;
		front->block = r->block;
		front->phys_prev = r->phys_prev;
		front->phys_next = r;
		if (r->phys_prev) {
			r->phys_prev->phys_next = front;
		} else {
			r->block->first = front;
		}
		r->phys_prev = front;
		r->offset += pad;
		r->size -= pad;
		free_insert(sa, front);
	}
	if (split_tail(sa, r, size)) {
		/* Undo: give the whole range back (it merges with the front gap again). */
		if (pad) {
			free_remove(sa, front);
			r->offset = front->offset;
			r->size += pad;
			r->phys_prev = front->phys_prev;
			if (front->phys_prev) {
				front->phys_prev->phys_next = r;
			} else {
				r->block->first = r;
			}
			range_recycle(sa, front);
		}
		free_insert(sa, r);
		return -ENOMEM;
	}
	r->block->used += size;
	*out = r;
	return 0;
}

/* Whether a neighbour is free space to merge with: listed in an open block, a hole in a closed
 * one. It leaves the free lists (if it was in one) for the merge. */
static bool take_free_neighbour(struct vgalloc__sa *sa, struct vgalloc__sa_range *x, bool closed)
{
	if (!x || !(closed ? x->hole : x->is_free)) {
		return false;
	}
	if (!closed) {
		free_remove(sa, x);
	}
	x->hole = 0;
	return true;
}

/* `r` takes in its next range, whose record is recycled. */
static void absorb_next(struct vgalloc__sa *sa, struct vgalloc__sa_range *r)
{
	struct vgalloc__sa_range *n = r->phys_next;

	r->size += n->size;
	r->phys_next = n->phys_next;
	if (n->phys_next) {
		n->phys_next->phys_prev = r;
	}
	range_recycle(sa, n);
}

/* A freed range merges with free neighbours; it is listed again, or in a closed block becomes
 * (part of) a hole that nothing hands out. */
static void range_free(struct vgalloc__sa *sa, struct vgalloc__sa_range *r)
{
	struct vgalloc__sa_range *n = r->phys_next, *p = r->phys_prev;
	bool closed = r->block->closed;

	r->block->used -= r->size;
	r->slab = NULL;
	if (take_free_neighbour(sa, n, closed)) {
		absorb_next(sa, r);
	}
	if (take_free_neighbour(sa, p, closed)) {
		absorb_next(sa, p);
		r = p;
	}
	if (closed) {
		r->hole = 1;
	} else {
		free_insert(sa, r);
	}
}

/* --- slabs -------------------------------------------------------------------------------- */

static void partial_push(struct vgalloc__sa_class *c, struct vgalloc__sa_slab *s)
{
	s->prev = NULL;
	s->next = c->partial;
	if (c->partial) {
		c->partial->prev = s;
	}
	c->partial = s;
	s->in_partial = 1;
}

static void partial_remove(struct vgalloc__sa_class *c, struct vgalloc__sa_slab *s)
{
	if (s->prev) {
		s->prev->next = s->next;
	} else {
		c->partial = s->next;
	}
	if (s->next) {
		s->next->prev = s->prev;
	}
	s->prev = s->next = NULL;
	s->in_partial = 0;
}

static int slab_create(struct vgalloc__sa *sa, uint32_t cls, struct vgalloc__sa_slab **out)
{
	struct vgalloc__sa_class *c = &sa->classes[cls];
	struct vgalloc__sa_slab *s = slab_new(sa);
	struct vgalloc__sa_range *r;
	int ret;

	if (!s) {
		return -ENOMEM;
	}
	/* Entries are aligned to the largest power of two dividing the class size. */
	ret = range_alloc(sa, c->size * c->entries, lowbit(c->size), &r);
	if (ret) {
		slab_recycle(sa, s);
		return ret;
	}
	r->slab = s;
	s->range = r;
	s->cls = cls;
	s->free_count = c->entries;
	c->slabs++;
	partial_push(c, s);
	*out = s;
	return 0;
}

static void slab_destroy(struct vgalloc__sa *sa, struct vgalloc__sa_slab *s)
{
	struct vgalloc__sa_class *c = &sa->classes[s->cls];

	if (s->in_partial) {
		partial_remove(c, s);
	}
	c->slabs--;
	range_free(sa, s->range);
	slab_recycle(sa, s);
}

/* The slab class for (size, align), or -1 when the range path must serve it. */
static int class_for(const struct vgalloc__sa *sa, uint64_t size, uint64_t align)
{
	uint32_t cls;

	if (!sa->class_count || size > sa->classes[sa->class_count - 1].size) {
		return -1;
	}
	cls = sa->class_of[(size - 1) >> sa->gran_shift];
	/* A stricter alignment than the class gives: one class up (always a power of two here
	 * when size is one), else the range path, which aligns anything. */
	if (lowbit(sa->classes[cls].size) < align) {
		if (cls + 1 < sa->class_count && lowbit(sa->classes[cls + 1].size) >= align &&
		    sa->classes[cls + 1].size <= size + size / 4) {
			return (int)cls + 1;
		}
		return -1;
	}
	return (int)cls;
}

/* --- public (internal) API ---------------------------------------------------------------- */

int vgalloc__sa_init(struct vgalloc__sa *sa, const struct vgalloc__sa_config *cfg)
{
	uint64_t g = cfg->granularity, slab_max, slab_bytes;

	if (!vgalloc__is_pow2(g) || g < 16 || !cfg->allocator) {
		return -EINVAL;
	}
	memset(sa, 0, sizeof(*sa));
	sa->cfg = *cfg;
	sa->gran_shift = (uint32_t)__builtin_ctzll(g);
	slab_max = cfg->slab_max ? cfg->slab_max : 32768;
	slab_bytes = cfg->slab_bytes ? cfg->slab_bytes : 65536;
	sa->cfg.slab_max = slab_max;
	sa->cfg.slab_bytes = slab_bytes;

	/* Classes: four a power of two where the granularity allows it, so rounding wastes at
	 * most a quarter; every class a multiple of the granularity. */
	for (uint64_t p = g; p <= slab_max && sa->class_count < VGALLOC__SA_MAX_CLASSES; p *= 2) {
		uint64_t step = VGALLOC__MAX(g, p / 4);

		for (uint64_t s = p; s < 2 * p && s <= slab_max; s += step) {
			struct vgalloc__sa_class *c = &sa->classes[sa->class_count];
			uint64_t entries = VGALLOC__MAX(slab_bytes, s * 8) / s;

			if (sa->class_count == VGALLOC__SA_MAX_CLASSES) {
				break;
			}
			c->size = s;
			c->entries = (uint32_t)VGALLOC__MIN(entries, 64u * VGALLOC__SA_SLAB_WORDS);
			sa->class_count++;
		}
	}
	if (sa->class_count) {
		uint64_t top = sa->classes[sa->class_count - 1].size;
		uint32_t cls = 0;

		sa->class_of_len = (uint32_t)(top >> sa->gran_shift);
		sa->class_of =
		        vgalloc__alloc(cfg->allocator, sa->class_of_len, 1, VGALLOC_SCOPE_DEVICE);
		if (!sa->class_of) {
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < sa->class_of_len; i++) {
			uint64_t size = ((uint64_t)i + 1) << sa->gran_shift;

			while (sa->classes[cls].size < size) {
				cls++;
			}
			sa->class_of[i] = (uint8_t)cls;
		}
		sa->metadata_bytes += sa->class_of_len;
	}
	return 0;
}

void vgalloc__sa_finish(struct vgalloc__sa *sa)
{
	/* Blocks still present are forgotten with their records: the caller owns their memory. */
	while (sa->blocks) {
		struct vgalloc__sa_block *b = sa->blocks;

		sa->blocks = b->next;
		vgalloc__free(sa->cfg.allocator, b);
	}
	for (uint32_t i = 0; i < sa->chunk_count; i++) {
		vgalloc__free(sa->cfg.allocator, sa->chunks[i]);
	}
	vgalloc__free(sa->cfg.allocator, sa->chunks);
	vgalloc__free(sa->cfg.allocator, sa->class_of);
	memset(sa, 0, sizeof(*sa));
}

int vgalloc__sa_add_block(struct vgalloc__sa *sa, uint64_t size, void *owner,
                          struct vgalloc__sa_block **out)
{
	struct vgalloc__sa_block *b;
	struct vgalloc__sa_range *r;

	if (!size || size & (sa->cfg.granularity - 1) ||
	    (size >> sa->gran_shift) >= (1ull << (VGALLOC__SA_FL_MAX + VGALLOC__SA_SL_BITS - 2))) {
		return -EINVAL;
	}
	b = vgalloc__alloc(sa->cfg.allocator, sizeof(*b), 16, VGALLOC_SCOPE_OBJECT);
	if (!b) {
		return -ENOMEM;
	}
	r = range_new(sa);
	if (!r) {
		vgalloc__free(sa->cfg.allocator, b);
		return -ENOMEM;
	}
	memset(b, 0, sizeof(*b));
	b->size = size;
	b->owner = owner;
	b->first = r;
	r->offset = 0;
	r->size = size;
	r->block = b;
	free_insert(sa, r);
	b->next = sa->blocks;
	if (sa->blocks) {
		sa->blocks->prev = b;
	}
	sa->blocks = b;
	sa->metadata_bytes += sizeof(*b);
	*out = b;
	return 0;
}

void vgalloc__sa_remove_block(struct vgalloc__sa *sa, struct vgalloc__sa_block *b)
{
	assert(b->used == 0 && b->first && !b->first->phys_next);
	if (b->first->hole) {
		b->first->hole = 0;
	} else {
		free_remove(sa, b->first);
	}
	range_recycle(sa, b->first);
	if (b->prev) {
		b->prev->next = b->next;
	} else {
		sa->blocks = b->next;
	}
	if (b->next) {
		b->next->prev = b->prev;
	}
	sa->metadata_bytes -= sizeof(*b);
	vgalloc__free(sa->cfg.allocator, b);
}

void vgalloc__sa_close_block(struct vgalloc__sa *sa, struct vgalloc__sa_block *b)
{
	if (b->closed) {
		return;
	}
	b->closed = 1;
	for (struct vgalloc__sa_range *r = b->first; r; r = r->phys_next) {
		if (r->is_free) {
			free_remove(sa, r);
			r->hole = 1;
		} else if (r->slab && r->slab->in_partial) {
			partial_remove(&sa->classes[r->slab->cls], r->slab);
		}
	}
}

static void debug_check(struct vgalloc__sa *sa, const struct vgalloc__sa_block *b)
{
#ifndef NDEBUG
	/* Debug builds: the touched block every operation, everything every 4096. */
	assert(!b || vgalloc__sa_check_block(sa, b));
	if (!(++sa->ops & 4095)) {
		assert(vgalloc__sa_check(sa));
	}
#else
	(void)sa;
	(void)b;
#endif
}

int vgalloc__sa_alloc(struct vgalloc__sa *sa, uint64_t size, uint64_t align,
                      struct vgalloc__sa_alloc *out)
{
	uint64_t g = sa->cfg.granularity;
	struct vgalloc__sa_range *r;
	int cls, ret;

	if (!size || (align && !vgalloc__is_pow2(align)) || size > (1ull << 62)) {
		return -EINVAL;
	}
	align = VGALLOC__MAX(align, g);
	size = (size + g - 1) & ~(g - 1);
	cls = class_for(sa, size, align);
	if (cls >= 0) {
		struct vgalloc__sa_class *c = &sa->classes[cls];
		struct vgalloc__sa_slab *s = c->partial;
		uint32_t w = 0, bit;

		if (!s) {
			ret = slab_create(sa, (uint32_t)cls, &s);
			if (ret) {
				return ret;
			}
		}
		while (!~s->used[w]) {
			w++;
		}
		bit = ctz64(~s->used[w]);
		s->used[w] |= 1ull << bit;
		if (!--s->free_count) {
			partial_remove(c, s);
		}
		out->block = s->range->block;
		out->index = w * 64 + bit;
		out->offset = s->range->offset + (uint64_t)out->index * c->size;
		out->size = c->size;
		out->node = s;
		out->block->live++;
		debug_check(sa, out->block);
		return 0;
	}
	ret = range_alloc(sa, size, align, &r);
	if (ret) {
		return ret;
	}
	out->block = r->block;
	out->offset = r->offset;
	out->size = r->size;
	out->node = r;
	out->index = UINT32_MAX;
	out->block->live++;
	debug_check(sa, out->block);
	return 0;
}

struct vgalloc__sa_block *vgalloc__sa_free(struct vgalloc__sa *sa,
                                           const struct vgalloc__sa_alloc *a)
{
	struct vgalloc__sa_block *b = a->block;

	if (a->index != UINT32_MAX) {
		struct vgalloc__sa_slab *s = a->node;
		struct vgalloc__sa_class *c = &sa->classes[s->cls];

		assert(s->used[a->index / 64] & (1ull << (a->index % 64)));
		s->used[a->index / 64] &= ~(1ull << (a->index % 64));
		/* A closed block's slabs hand out nothing more. */
		if (!s->free_count++ && !b->closed) {
			partial_push(c, s);
		}
		/* An empty slab goes back at once, so a block can empty out and be released. */
		if (s->free_count == c->entries) {
			slab_destroy(sa, s);
		}
	} else {
		range_free(sa, a->node);
	}
	b->live--;
	debug_check(sa, b);
	return b->used ? NULL : b;
}

uint64_t vgalloc__sa_block_size(uint64_t request, uint64_t align, uint64_t committed,
                                uint64_t min_block, uint64_t max_block, uint64_t granularity)
{
	uint64_t want = VGALLOC__MIN(VGALLOC__MAX(committed / 16, min_block), max_block);
	uint32_t shift = (uint32_t)__builtin_ctzll(granularity);
	uint64_t need, units;

	/* Blocks grow with the pool (a sixteenth of what it holds, as powers of two): measured on the
	 * W3/W4 traces, a quarter left the newest block mostly empty at peak (waste 1.64 vs 1.26). */
	if (!vgalloc__is_pow2(want)) {
		want = 1ull << (fls64(want) + 1);
		want = VGALLOC__MIN(want, max_block);
	}
	need = request + (align > granularity ? align - granularity : 0);
	/* A slab-sized request may need a whole slab (at most 256 KiB, aligned to 32 KiB). */
	if (request <= 32768) {
		need = VGALLOC__MAX(need, (256u + 32u) << 10);
	}
	/* The block must land in a list the rounded-up search reaches: a block of exactly the
	 * request's size sits one list below it and would never be found. */
	units = (need + granularity - 1) >> shift;
	if (units >= VGALLOC__SA_SL_COUNT) {
		units += (1ull << (fls64(units) - VGALLOC__SA_SL_BITS)) - 1;
	}
	return VGALLOC__MAX(want, units << shift);
}

void vgalloc__sa_get_stats(const struct vgalloc__sa *sa, struct vgalloc__sa_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (const struct vgalloc__sa_block *b = sa->blocks; b; b = b->next) {
		st->blocks++;
		st->block_bytes += b->size;
		st->used_bytes += b->used;
		st->live += b->live;
		for (const struct vgalloc__sa_range *r = b->first; r; r = r->phys_next) {
			if (r->is_free) {
				st->free_bytes += r->size;
				st->largest_free = VGALLOC__MAX(st->largest_free, r->size);
			} else if (r->slab) {
				const struct vgalloc__sa_slab *s = r->slab;
				const struct vgalloc__sa_class *c = &sa->classes[s->cls];

				st->slab_bytes += r->size;
				/* Unused entries of a slab are reserved, not in use. */
				st->used_bytes -= (uint64_t)s->free_count * c->size;
				st->used_bytes -= r->size - (uint64_t)c->entries * c->size;
			}
		}
	}
	st->metadata_bytes = sa->metadata_bytes;
	st->class_count = sa->class_count;
	for (uint32_t i = 0; i < sa->class_count; i++) {
		const struct vgalloc__sa_class *c = &sa->classes[i];

		st->classes[i].size = c->size;
		st->classes[i].slabs = c->slabs;
		st->classes[i].entries = c->slabs * c->entries;
	}
	for (const struct vgalloc__sa_block *b = sa->blocks; b; b = b->next) {
		for (const struct vgalloc__sa_range *r = b->first; r; r = r->phys_next) {
			if (!r->is_free && r->slab) {
				const struct vgalloc__sa_slab *s = r->slab;

				st->classes[s->cls].used +=
				        sa->classes[s->cls].entries - s->free_count;
			}
		}
	}
}

static bool in_free_list(const struct vgalloc__sa *sa, const struct vgalloc__sa_range *r)
{
	uint32_t fl, sl;

	mapping(r->size >> sa->gran_shift, &fl, &sl);
	if (!(sa->sl_bitmap[fl] & (1u << sl)) || !(sa->fl_bitmap & (1ull << fl))) {
		return false;
	}
	if (r->free_prev) {
		return r->free_prev->free_next == r;
	}
	return sa->free_lists[fl][sl] == r;
}

bool vgalloc__sa_check_block(const struct vgalloc__sa *sa, const struct vgalloc__sa_block *b)
{
	uint64_t end = 0, used = 0, g = sa->cfg.granularity;
	const struct vgalloc__sa_range *prev = NULL;
	uint32_t live = 0;

	for (const struct vgalloc__sa_range *r = b->first; r; prev = r, r = r->phys_next) {
		if (r->block != b || r->phys_prev != prev || r->offset != end || !r->size ||
		    (r->size & (g - 1))) {
			return false;
		}
		end += r->size;
		if (r->hole) {
			/* Only a closed block has holes, merged like free ranges, listed nowhere. */
			if (!b->closed || r->is_free || r->slab || (prev && prev->hole) ||
			    in_free_list(sa, r)) {
				return false;
			}
			continue;
		}
		if (r->is_free) {
			if (b->closed) {
				return false;
			}
			/* Free neighbours are always merged, and every free range is findable. */
			if ((prev && prev->is_free) || r->slab || !in_free_list(sa, r)) {
				return false;
			}
			continue;
		}
		used += r->size;
		if (r->slab) {
			const struct vgalloc__sa_slab *s = r->slab;
			const struct vgalloc__sa_class *c = &sa->classes[s->cls];
			uint32_t bits = 0;

			for (uint32_t w = 0; w < VGALLOC__SA_SLAB_WORDS; w++) {
				bits += (uint32_t)__builtin_popcountll(s->used[w]);
			}
			if (s->range != r || r->size != c->size * c->entries ||
			    bits + s->free_count != c->entries || !bits ||
			    (r->offset & (lowbit(c->size) - 1)) ||
			    (s->in_partial != 0) != (s->free_count != 0 && !b->closed)) {
				return false;
			}
			live += bits;
		} else {
			live++;
		}
	}
	return end == b->size && used == b->used && live == b->live;
}

bool vgalloc__sa_check(const struct vgalloc__sa *sa)
{
	for (const struct vgalloc__sa_block *b = sa->blocks; b; b = b->next) {
		if (!vgalloc__sa_check_block(sa, b)) {
			return false;
		}
	}
	/* Bitmaps say exactly which lists are non-empty. */
	for (uint32_t fl = 0; fl < VGALLOC__SA_FL_MAX; fl++) {
		for (uint32_t sl = 0; sl < VGALLOC__SA_SL_COUNT; sl++) {
			bool bit = sa->sl_bitmap[fl] & (1u << sl);

			if (bit != (sa->free_lists[fl][sl] != NULL)) {
				return false;
			}
		}
		if (((sa->fl_bitmap >> fl) & 1) != (sa->sl_bitmap[fl] != 0)) {
			return false;
		}
	}
	return true;
}
