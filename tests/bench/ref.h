/* SPDX-License-Identifier: MIT */
/*
 * Two reference offset allocators the benchmark replays beside lib/suballoc.c: a plain two-level
 * segregated fit (tlsf) and a power-of-two slab layer over it in the manner of Mesa's pb_slab.
 * They are our own code, written for comparison only (speed and committed bytes under the same
 * block policy as the bench's sa_ctx); the library never uses them.
 */
#ifndef VGALLOC_BENCH_REF_H
#define VGALLOC_BENCH_REF_H

#include <stdint.h>

enum ref_kind {
	REF_TLSF = 0,
	REF_SLAB = 1,
	REF_COUNT = 2
};

/* "tlsf-reference", "slab-reference", by enum ref_kind. */
extern const char *const ref_names[REF_COUNT];

/*
 * One allocation. offset and size (bytes reserved, ≥ the request) are for callers to read; a is
 * the index of the block the range lies in (an index is reused once its block is removed); b and
 * p are the allocator's own.
 */
struct ref_handle {
	uint64_t offset;
	uint64_t size;
	uint32_t a, b;
	void *p;
};

struct ref_allocator;

/*
 * Create an allocator of the given kind. granularity is the trace's base alignment (a power of
 * two): every offset and reserved size is a multiple of it. min_block and max_block bound the
 * blocks as the bench's sa_ctx does (0 = its defaults, 4 MiB and 64 MiB).
 * Ownership: the caller owns *out and frees it with ref_destroy().
 * Thread safety: none; one thread at a time.
 * Return: 0; -EINVAL (unknown kind, granularity not a power of two, min_block > max_block);
 *         -ENOMEM.
 */
int ref_create(enum ref_kind kind, uint64_t granularity, uint64_t min_block, uint64_t max_block,
               struct ref_allocator **out);

/*
 * Reserve size bytes aligned to align (a power of two; 0 or less than the granularity = the
 * granularity). When nothing fits, a block sized by vgalloc__sa_block_size() is added first.
 * Return: 0; -EINVAL (size 0, align not a power of two); -ENOMEM (metadata, or a request no
 *         block can describe).
 */
int ref_alloc(struct ref_allocator *r, uint64_t size, uint64_t align, struct ref_handle *out);

/* Release h. Of the blocks that become empty one is kept as a spare and any other removed. */
void ref_free(struct ref_allocator *r, const struct ref_handle *h);

/* Bytes in blocks now, the most ever, and how many blocks were ever added. */
uint64_t ref_committed(const struct ref_allocator *r);
uint64_t ref_peak_committed(const struct ref_allocator *r);
uint64_t ref_blocks_added(const struct ref_allocator *r);

/* Free the allocator and its metadata; live handles become meaningless. Accepts NULL. */
void ref_destroy(struct ref_allocator *r);

#endif
