/* SPDX-License-Identifier: MIT */
/*
 * Shared by the libFuzzer targets: a reader that decodes fuzz input into values (reading past
 * the end yields zeros, so every input decodes) and a check that reports the broken invariant
 * before aborting, so libFuzzer records the input as a crash.
 */
#ifndef VGALLOC_FUZZ_INPUT_H
#define VGALLOC_FUZZ_INPUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_MIN(a, b)     ((a) < (b) ? (a) : (b))
#define FZ_MAX(a, b)     ((a) > (b) ? (a) : (b))
#define FZ_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct fz {
	const uint8_t *p;
	size_t left;
};

static inline struct fz fz_init(const uint8_t *data, size_t size)
{
	return (struct fz){ data, size };
}

/* n (≤ 8) little-endian bytes; missing bytes read as zero. */
static inline uint64_t fz_bytes(struct fz *f, size_t n)
{
	uint64_t v = 0;

	n = n < f->left ? n : f->left;
	for (size_t i = 0; i < n; i++) {
		v |= (uint64_t)f->p[i] << (8 * i);
	}
	f->p += n;
	f->left -= n;
	return v;
}

static inline uint8_t fz_u8(struct fz *f)
{
	return (uint8_t)fz_bytes(f, 1);
}

static inline uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)fz_bytes(f, 2);
}

static inline uint32_t fz_u32(struct fz *f)
{
	return (uint32_t)fz_bytes(f, 4);
}

static inline uint64_t fz_u64(struct fz *f)
{
	return fz_bytes(f, 8);
}

static inline bool fz_bool(struct fz *f)
{
	return fz_u8(f) & 1;
}

/* A value in [0, n) from one byte (n ≤ 256). */
static inline uint32_t fz_pick(struct fz *f, uint32_t n)
{
	return n ? fz_u8(f) % n : 0;
}

/* Up to max bytes of raw input, borrowed; *got says how many. */
static inline const uint8_t *fz_take(struct fz *f, size_t max, size_t *got)
{
	const uint8_t *p = f->p;

	*got = max < f->left ? max : f->left;
	f->p += *got;
	f->left -= *got;
	return p;
}

static inline bool fz_empty(const struct fz *f)
{
	return f->left == 0;
}

static inline bool fz_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static inline uint64_t fz_round_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

__attribute__((noreturn, format(printf, 3, 4))) static inline void
fz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* With VGALLOC_FUZZ_TRACE in the environment, print what a target does (to replay one input). */
__attribute__((format(printf, 1, 2))) static inline void fz_trace(const char *fmt, ...)
{
	static int on = -1;
	va_list ap;

	if (on < 0) {
		on = getenv("VGALLOC_FUZZ_TRACE") != NULL;
	}
	if (!on) {
		return;
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Check an invariant; on failure print it with the values that matter and abort. */
#define FZ_CHECK(cond)                                            \
	do {                                                      \
		if (!(cond)) {                                    \
			fz_fail(__FILE__, __LINE__, "%s", #cond); \
		}                                                 \
	} while (0)

#define FZ_CHECK_EQ(a, b)                                                                     \
	do {                                                                                  \
		long long fz_a_ = (long long)(a), fz_b_ = (long long)(b);                     \
		if (fz_a_ != fz_b_) {                                                         \
			fz_fail(__FILE__, __LINE__, "%s == %s (%lld vs %lld)", #a, #b, fz_a_, \
			        fz_b_);                                                       \
		}                                                                             \
	} while (0)

#endif
