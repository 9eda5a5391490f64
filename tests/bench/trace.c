/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's workload generator, written to DESIGN §5 to the letter (RNG, W1, W1R, W2,
 * churn, W5, W6), so that every allocator, ours or a peer replaying the CSV, sees the same
 * operations. Anything the specification leaves open is decided here and commented.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* ---------------------------------------------------------------------------------------------
 * RNG: xorshift64 with the specified seeding, unit() and log-uniform LU().
 */

void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	r->s = seed * 2654435761ull + 1; /* mod 2^64 by unsigned wrap-around */
}

uint64_t bench_rng_next(struct bench_rng *r)
{
	uint64_t s = r->s;

	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	r->s = s;
	return s;
}

double bench_rng_unit(struct bench_rng *r)
{
	return (double)(bench_rng_next(r) >> 11) * (1.0 / 9007199254740992.0); /* 2^-53 */
}

uint64_t bench_rng_lu(struct bench_rng *r, double lo, double hi)
{
	double llo = log(lo), lhi = log(hi);

	return (uint64_t)exp(llo + (lhi - llo) * bench_rng_unit(r));
}

/* ---------------------------------------------------------------------------------------------
 * Trace building.
 */

void trace_init(struct bench_trace *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->base_align = 256;
}

void trace_finish(struct bench_trace *t)
{
	free(t->ops);
	free(t->id_size);
	free(t->id_align);
	free(t->mapped);
	memset(t, 0, sizeof(*t));
}

static int push_op(struct bench_trace *t, uint8_t kind, uint32_t id)
{
	struct bench_op *op;

	if (t->n_ops == t->cap_ops) {
		size_t cap = t->cap_ops ? t->cap_ops * 2 : 4096;
		struct bench_op *ops = realloc(t->ops, cap * sizeof(*ops));

		if (!ops) {
			return -ENOMEM;
		}
		t->ops = ops;
		t->cap_ops = cap;
	}
	op = &t->ops[t->n_ops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->id = id;
	op->size = t->id_size[id];
	op->align = t->id_align[id];
	return 0;
}

/* Append an allocation; its id (allocation order) goes to *id. */
static int trace_alloc(struct bench_trace *t, uint64_t size, uint32_t align, uint32_t *id)
{
	if (t->n_allocs == t->id_cap) {
		size_t cap = t->id_cap ? t->id_cap * 2 : 4096;
		uint64_t *sz = realloc(t->id_size, cap * sizeof(*sz));
		uint32_t *al;

		if (!sz) {
			return -ENOMEM;
		}
		t->id_size = sz;
		al = realloc(t->id_align, cap * sizeof(*al));
		if (!al) {
			return -ENOMEM;
		}
		t->id_align = al;
		t->id_cap = cap;
	}
	*id = t->n_allocs++;
	t->id_size[*id] = size;
	t->id_align[*id] = align;
	return push_op(t, OP_ALLOC, *id);
}

static int trace_free(struct bench_trace *t, uint32_t id)
{
	return push_op(t, OP_FREE, id);
}

/* A growable list of live ids. */
struct idlist {
	uint32_t *v;
	size_t n, cap;
};

static int idlist_push(struct idlist *l, uint32_t id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		uint32_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = id;
	return 0;
}

/* Fisher–Yates as specified: for i = n .. 2, j = next() % i, swap v[i-1] and v[j]. */
static void shuffle(struct bench_rng *r, uint32_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(bench_rng_next(r) % i);
		uint32_t tmp = v[i - 1];

		v[i - 1] = v[j];
		v[j] = tmp;
	}
}

#define CHECK(expr)               \
	do {                      \
		ret = (expr);     \
		if (ret) {        \
			goto out; \
		}                 \
	} while (0)

/* ---------------------------------------------------------------------------------------------
 * W1 / W1R: seed 16223; 10 × {3333 allocs of 32 + next() % 992, align 4; free all in reverse
 * order (W1) or in an order shuffled with Fisher–Yates (W1R, freed from index 0 up)}. One RNG
 * stream runs through the whole trace, so W1R's later sizes differ from W1's.
 */
int trace_w1(struct bench_trace *t, const struct bench_scale *sc, bool random_free)
{
	const uint32_t iters = sc->quick ? 2 : 10, count = sc->quick ? 333 : 3333;
	struct idlist l = { 0 };
	struct bench_rng r;
	uint32_t id;
	int ret = 0;

	bench_rng_seed(&r, 16223);
	snprintf(t->desc, sizeof(t->desc),
	         "VMA algorithm bench: %u x {%u allocs of 32..1023 B, align 4; free all %s}", iters,
	         count, random_free ? "in random order" : "in reverse order");
	for (uint32_t it = 0; it < iters; it++) {
		l.n = 0;
		for (uint32_t k = 0; k < count; k++) {
			CHECK(trace_alloc(t, 32 + bench_rng_next(&r) % 992, 4, &id));
			CHECK(idlist_push(&l, id));
		}
		if (random_free) {
			shuffle(&r, l.v, l.n);
			for (size_t k = 0; k < l.n; k++) {
				CHECK(trace_free(t, l.v[k]));
			}
		} else {
			for (size_t k = l.n; k > 0; k--) {
				CHECK(trace_free(t, l.v[k - 1]));
			}
		}
	}
out:
	free(l.v);
	return ret;
}

/* Free live[next() % n] with swap-remove. An empty list draws nothing and frees nothing (the
 * specified traces never get there: their random walks start far from 0). */
static int free_random(struct bench_trace *t, struct bench_rng *r, struct idlist *l)
{
	size_t k;
	uint32_t id;

	if (l->n == 0) {
		return 0;
	}
	k = (size_t)(bench_rng_next(r) % l->n);
	id = l->v[k];
	l->v[k] = l->v[--l->n];
	return trace_free(t, id);
}

/*
 * W2: seed 20092010; 7200 allocs of next() % 2056 + 1, align 64; 14400 ops of next() % 2 ? alloc :
 * free random; then free all, last first.
 */
int trace_w2(struct bench_trace *t, const struct bench_scale *sc)
{
	const uint32_t init = sc->quick ? 720 : 7200, ops = sc->quick ? 1440 : 14400;
	struct idlist l = { 0 };
	struct bench_rng r;
	uint32_t id;
	int ret = 0;

	bench_rng_seed(&r, 20092010);
	snprintf(t->desc, sizeof(t->desc),
	         "VMA virtual block: %u allocs of 1..2056 B, align 64; %u random alloc/free; free "
	         "all",
	         init, ops);
	for (uint32_t k = 0; k < init; k++) {
		CHECK(trace_alloc(t, bench_rng_next(&r) % 2056 + 1, 64, &id));
		CHECK(idlist_push(&l, id));
	}
	for (uint32_t k = 0; k < ops; k++) {
		if (bench_rng_next(&r) % 2) {
			CHECK(trace_alloc(t, bench_rng_next(&r) % 2056 + 1, 64, &id));
			CHECK(idlist_push(&l, id));
		} else {
			CHECK(free_random(t, &r, &l));
		}
	}
	for (size_t k = l.n; k > 0; k--) {
		CHECK(trace_free(t, l.v[k - 1]));
	}
out:
	free(l.v);
	return ret;
}

/*
 * churn(lo, hi, align, live, ops, seed): `live` allocs of LU(lo, hi); `ops` times next() & 1 ?
 * alloc : free random (swap-remove); then free the rest in list order.
 */
int trace_churn(struct bench_trace *t, uint64_t lo, uint64_t hi, uint32_t align, uint32_t live,
                uint32_t ops, uint64_t seed)
{
	struct idlist l = { 0 };
	struct bench_rng r;
	uint32_t id;
	int ret = 0;

	bench_rng_seed(&r, seed);
	snprintf(t->desc, sizeof(t->desc), "churn(%llu, %llu, %u, %u, %u, seed %llu)",
	         (unsigned long long)lo, (unsigned long long)hi, align, live, ops,
	         (unsigned long long)seed);
	for (uint32_t k = 0; k < live; k++) {
		CHECK(trace_alloc(t, bench_rng_lu(&r, (double)lo, (double)hi), align, &id));
		CHECK(idlist_push(&l, id));
	}
	for (uint32_t k = 0; k < ops; k++) {
		if (bench_rng_next(&r) & 1) {
			CHECK(trace_alloc(t, bench_rng_lu(&r, (double)lo, (double)hi), align, &id));
			CHECK(idlist_push(&l, id));
		} else {
			CHECK(free_random(t, &r, &l));
		}
	}
	for (size_t k = 0; k < l.n; k++) {
		CHECK(trace_free(t, l.v[k]));
	}
out:
	free(l.v);
	return ret;
}

/*
 * W5 game, seed 9, 300000 allocations. Op i: c = unit(); size by c; align 256 up to 4096 B,
 * else 4096; then unit() < 0.8 → freed at time i + 100 + next() % 200 through a FIFO (after each
 * op the FIFO is freed from its head while the head's time ≤ i; entries behind a later head
 * wait), else long-lived; when i % 50000 == 49999 every long-lived allocation is freed (in
 * allocation order, after the FIFO step of that op). At the end: the FIFO, then the long-lived.
 */
int trace_w5(struct bench_trace *t, const struct bench_scale *sc)
{
	const uint32_t n = sc->quick ? 6000 : 300000, period = sc->quick ? 1000 : 50000;
	struct idlist longl = { 0 };
	uint32_t *fifo_id = NULL;
	uint64_t *fifo_t = NULL;
	size_t head = 0, tail = 0;
	struct bench_rng r;
	uint32_t id;
	int ret = 0;

	bench_rng_seed(&r, 9);
	snprintf(
	        t->desc, sizeof(t->desc),
	        "game: %u allocs, 70%% 64 B-4 KiB / 25%% 4-256 KiB / 5%% 256 KiB-4 MiB; 80%% freed "
	        "after 100-299 ops (FIFO), long-lived flushed every %u",
	        n, period);
	fifo_id = malloc(n * sizeof(*fifo_id));
	fifo_t = malloc(n * sizeof(*fifo_t));
	if (!fifo_id || !fifo_t) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		double c = bench_rng_unit(&r);
		uint64_t size = c < 0.70   ? bench_rng_lu(&r, 64, 4096)
		                : c < 0.95 ? bench_rng_lu(&r, 4096, 256.0 * KiB)
		                           : bench_rng_lu(&r, 256.0 * KiB, 4.0 * MiB);
		uint32_t align = size <= 4096 ? 256 : 4096;

		CHECK(trace_alloc(t, size, align, &id));
		if (bench_rng_unit(&r) < 0.8) {
			fifo_id[tail] = id;
			fifo_t[tail] = (uint64_t)i + 100 + bench_rng_next(&r) % 200;
			tail++;
		} else {
			CHECK(idlist_push(&longl, id));
		}
		while (head < tail && fifo_t[head] <= i) {
			CHECK(trace_free(t, fifo_id[head++]));
		}
		if (i % period == period - 1) {
			for (size_t k = 0; k < longl.n; k++) {
				CHECK(trace_free(t, longl.v[k]));
			}
			longl.n = 0;
		}
	}
	while (head < tail) {
		CHECK(trace_free(t, fifo_id[head++]));
	}
	for (size_t k = 0; k < longl.n; k++) {
		CHECK(trace_free(t, longl.v[k]));
	}
out:
	free(fifo_id);
	free(fifo_t);
	free(longl.v);
	return ret;
}

/*
 * W6 bursty, seed 10: 20 rounds of {5000 allocs of LU(256, 64 KiB), align 256, appended to the
 * live list; shuffle the whole live list; free floor(9n/10) of its n entries from its end (last
 * first)}; then free the rest in list order.
 */
int trace_w6(struct bench_trace *t, const struct bench_scale *sc)
{
	const uint32_t rounds = sc->quick ? 4 : 20, per = sc->quick ? 500 : 5000;
	struct idlist l = { 0 };
	struct bench_rng r;
	uint32_t id;
	int ret = 0;

	bench_rng_seed(&r, 10);
	snprintf(t->desc, sizeof(t->desc),
	         "bursty: %u x {%u allocs of 256 B-64 KiB, align 256; shuffle; free 90%% from the "
	         "end}",
	         rounds, per);
	for (uint32_t round = 0; round < rounds; round++) {
		size_t nfree;

		for (uint32_t k = 0; k < per; k++) {
			CHECK(trace_alloc(t, bench_rng_lu(&r, 256, 64.0 * KiB), 256, &id));
			CHECK(idlist_push(&l, id));
		}
		shuffle(&r, l.v, l.n);
		nfree = l.n * 9 / 10;
		for (size_t k = 0; k < nfree; k++) {
			CHECK(trace_free(t, l.v[--l.n]));
		}
	}
	for (size_t k = 0; k < l.n; k++) {
		CHECK(trace_free(t, l.v[k]));
	}
out:
	free(l.v);
	return ret;
}

int trace_copy(struct bench_trace *dst, const struct bench_trace *src, const char *name)
{
	trace_init(dst, name);
	snprintf(dst->desc, sizeof(dst->desc), "%s", src->desc);
	dst->ops = malloc(src->n_ops * sizeof(*dst->ops));
	dst->id_size = malloc(src->n_allocs * sizeof(*dst->id_size));
	dst->id_align = malloc(src->n_allocs * sizeof(*dst->id_align));
	if (!dst->ops || !dst->id_size || !dst->id_align) {
		trace_finish(dst);
		return -ENOMEM;
	}
	memcpy(dst->ops, src->ops, src->n_ops * sizeof(*dst->ops));
	memcpy(dst->id_size, src->id_size, src->n_allocs * sizeof(*dst->id_size));
	memcpy(dst->id_align, src->id_align, src->n_allocs * sizeof(*dst->id_align));
	dst->n_ops = dst->cap_ops = src->n_ops;
	dst->n_allocs = src->n_allocs;
	dst->id_cap = src->n_allocs;
	return 0;
}

/* Which allocations get mapped. Kept out of the trace's own RNG stream so the trace stays
 * exactly DESIGN's; nomap = 0 maps everything. */
int trace_set_mapped(struct bench_trace *t, double nomap, uint64_t seed)
{
	struct bench_rng r;

	free(t->mapped);
	t->mapped = malloc(t->n_allocs ? t->n_allocs : 1);
	if (!t->mapped) {
		return -ENOMEM;
	}
	bench_rng_seed(&r, seed);
	t->nomap_fraction = nomap;
	t->mapped_count = 0;
	for (uint32_t i = 0; i < t->n_allocs; i++) {
		t->mapped[i] = nomap <= 0.0 || bench_rng_unit(&r) >= nomap;
		t->mapped_count += t->mapped[i];
	}
	return 0;
}

void trace_analyse(struct bench_trace *t, uint64_t base)
{
	uint64_t live = 0, aligned = 0, count = 0;

	t->base_align = base;
	t->peak_live = 0;
	t->peak_index = 0;
	t->peak_aligned = 0;
	t->peak_live_count = 0;
	t->max_live_count = 0;
	for (size_t i = 0; i < t->n_ops; i++) {
		const struct bench_op *op = &t->ops[i];

		if (op->kind == OP_ALLOC) {
			live += op->size;
			aligned += bench_align_up(op->size, base);
			count++;
		} else {
			live -= op->size;
			aligned -= bench_align_up(op->size, base);
			count--;
		}
		if (live > t->peak_live) {
			t->peak_live = live;
			t->peak_index = i;
			t->peak_aligned = aligned;
			t->peak_live_count = count;
		}
		if (count > t->max_live_count) {
			t->max_live_count = count;
		}
	}
}

int trace_write_csv(const struct bench_trace *t, const char *path)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f) {
		return -errno;
	}
	fputs("op,id,size,align\n", f);
	for (size_t i = 0; i < t->n_ops; i++) {
		const struct bench_op *op = &t->ops[i];

		fprintf(f, "%s,%u,%llu,%u\n", op->kind == OP_ALLOC ? "alloc" : "free", op->id,
		        (unsigned long long)op->size, op->align);
	}
	if (ferror(f)) {
		ret = -EIO;
	}
	if (fclose(f) != 0 && !ret) {
		ret = -errno;
	}
	return ret;
}
