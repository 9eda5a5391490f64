/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture for the core tests: a mock guest, a device on it, the mock's hooks, and a
 * teardown that fails the test when anything leaked (blobs, handles, bytes, window, fds, host
 * allocations, tokens) or the host saw operations out of order.
 */
#ifndef VGALLOC_TEST_HARNESS_H
#define VGALLOC_TEST_HARNESS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_capset.h"
#include "vgalloc/vgalloc_diag.h"
#include "vgalloc/vgalloc_mock.h"

/* Host memory type indices every fixture offers. */
enum {
	TYPE_DEVICE_LOCAL = 0,
	TYPE_HOST_COHERENT = 1,
	TYPE_HOST_CACHED = 2,
};

struct fx_opts {
	uint32_t profile;     /* enum vgalloc_mock_profile; 0 = injecting */
	uint32_t mock_flags;  /* enum vgalloc_mock_flag */
	uint32_t hooks_flags; /* enum vgalloc_mock_hooks_flag */
	uint32_t alloc_mode;  /* enum vgalloc_alloc_mode */
	uint32_t mode;        /* enum vgalloc_device_mode; 0 = own */
	uint32_t host_page;
	uint64_t window;
	uint32_t dev_flags;
	uint32_t flavour; /* enum vgalloc_flavour */
	uint32_t
	        capset_id; /* 0 = Venus; GFXSTREAM_VULKAN: a host offering only fx_gfxstream_caps */
};

/* The gfxstream Vulkan capset of fixtures with capset_id GFXSTREAM_VULKAN: deferredMapping with
 * a 16 KiB blobAlignment, as the Android emulator's host sends it. */
static inline struct vgalloc_capset_gfxstream_vulkan fx_gfxstream_caps(void)
{
	struct vgalloc_capset_gfxstream_vulkan c;

	memset(&c, 0, sizeof(c));
	c.protocol_version = 1;
	c.ring_size = 12288;
	c.buffer_size = 1u << 20;
	c.deferred_mapping = 1;
	c.blob_alignment = 16384;
	return c;
}

struct fx {
	struct vgalloc_mock *mock;
	struct vgalloc_device *dev;
	struct vgalloc_host_hooks hooks;
	int fds_before;
	struct fx_opts opts_for_flow; /* flows that create the device themselves */
	uint64_t foreign_host;        /* host allocation behind a foreign dma-buf */
};

static inline int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] != '.') {
			n++;
		}
	}
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static inline bool fcntl_ok(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Heavy tests run VGALLOC_TEST_SCALE operations (default `full`). */
static inline uint32_t test_scale(uint32_t full)
{
	const char *s = getenv("VGALLOC_TEST_SCALE");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 && (uint32_t)v < full ? (uint32_t)v : full;
}

static inline void fx_memory_types(struct vgalloc_memory_type types[3])
{
	static const uint32_t props[3] = {
		VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL,
		VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL | VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
		        VGALLOC_MEMORY_PROPERTY_HOST_COHERENT,
		VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL | VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
		        VGALLOC_MEMORY_PROPERTY_HOST_COHERENT | VGALLOC_MEMORY_PROPERTY_HOST_CACHED,
	};

	memset(types, 0, sizeof(types[0]) * 3);
	for (uint32_t i = 0; i < 3; i++) {
		types[i].struct_size = sizeof(types[i]);
		types[i].host_index = i;
		types[i].property_flags = props[i];
		types[i].min_map_alignment = 64;
		types[i].non_coherent_atom_size = 64;
		types[i].buffer_image_granularity = 1;
	}
}

static inline void fx_create_info(struct fx *f, const struct fx_opts *o,
                                  struct vgalloc_memory_type types[3],
                                  struct vgalloc_device_create_info *ci)
{
	fx_memory_types(types);
	memset(ci, 0, sizeof(*ci));
	ci->struct_size = sizeof(*ci);
	ci->backend = VGALLOC_BACKEND_MOCK;
	ci->mode = o->mode ? o->mode : VGALLOC_DEVICE_MODE_OWN;
	ci->flags = o->dev_flags;
	if (ci->mode == VGALLOC_DEVICE_MODE_ADOPT) {
		ci->flags |= VGALLOC_DEVICE_CONTEXT_READY;
	}
	ci->backend_object = f->mock;
	ci->capset_id = o->capset_id ? o->capset_id : VGALLOC_CAPSET_VENUS;
	ci->flavour = o->flavour;
	ci->alloc_mode = o->alloc_mode;
	ci->memory_types = types;
	ci->memory_type_count = 3;
	ci->hooks = &f->hooks;
}

/* A device joining `conn` with the fixture's memory types, these hooks and allocator (NULL:
 * malloc): 0 or vgalloc_device_create()'s error, *out set on success only. */
static inline int fx_join(struct vgalloc_connection *conn, const struct vgalloc_host_hooks *hooks,
                          const struct vgalloc_allocator *a, struct vgalloc_device **out)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;

	fx_memory_types(types);
	memset(&ci, 0, sizeof(ci));
	ci.struct_size = sizeof(ci);
	ci.connection = conn;
	ci.memory_types = types;
	ci.memory_type_count = 3;
	ci.hooks = hooks;
	ci.allocator = a;
	return vgalloc_device_create(&ci, out);
}

static inline struct vgalloc_mock *fx_mock_new(const struct fx_opts *o)
{
	struct vgalloc_mock_create_info mi = {
		.struct_size = sizeof(mi),
		.profile = o->profile ? o->profile : VGALLOC_MOCK_PROFILE_INJECTING,
		.flags = o->mock_flags,
		.host_page_size = o->host_page,
		.window_size = o->window,
		.supported_capsets = o->capset_id ? 1u << o->capset_id : 0,
	};
	struct vgalloc_mock *mock = NULL;

	assert_int_equal(vgalloc_mock_create(&mi, &mock), 0);
	if (o->capset_id == VGALLOC_CAPSET_GFXSTREAM_VULKAN) {
		struct vgalloc_capset_gfxstream_vulkan c = fx_gfxstream_caps();

		assert_int_equal(vgalloc_mock_set_capset(mock, o->capset_id, 0, &c, sizeof(c)), 0);
	}
	return mock;
}

static inline struct fx *fx_new(const struct fx_opts *o)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fds_before = count_open_fds();
	f->mock = fx_mock_new(o);
	assert_int_equal(vgalloc_mock_get_hooks(f->mock, o->hooks_flags, &f->hooks), 0);
	if (o->mode == VGALLOC_DEVICE_MODE_ADOPT) {
		assert_int_equal(vgalloc_mock_context_init(f->mock, o->capset_id
		                                                            ? o->capset_id
		                                                            : VGALLOC_CAPSET_VENUS),
		                 0);
	}
	fx_create_info(f, o, types, &ci);
	assert_int_equal(vgalloc_device_create(&ci, &f->dev), 0);
	vgalloc_mock_reset_counters(f->mock);
	return f;
}

static inline struct vgalloc_mock_ledger fx_ledger(struct vgalloc_mock *mock)
{
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };

	assert_int_equal(vgalloc_mock_get_ledger(mock, &l), 0);
	return l;
}

/* Nothing alive on the guest or host side, nothing out of order. */
static inline void fx_assert_clean(struct vgalloc_mock *mock)
{
	struct vgalloc_mock_ledger l = fx_ledger(mock);

	assert_int_equal(l.live_blobs, 0);
	assert_int_equal(l.live_handles, 0);
	assert_int_equal(l.blob_bytes, 0);
	assert_int_equal(l.window_bytes, 0);
	assert_int_equal(l.mapped_blobs, 0);
	assert_int_equal(l.open_fds, 0);
	assert_int_equal(l.host_allocs, 0);
	assert_int_equal(l.pending_tokens, 0);
	assert_int_equal(l.order_violations, 0);
}

static inline void fx_free(struct fx *f)
{
	vgalloc_device_destroy(f->dev);
	fx_assert_clean(f->mock);
	vgalloc_mock_destroy(f->mock);
	assert_int_equal(count_open_fds(), f->fds_before);
	free(f);
}

/* One expected call: kind, and for blob_create its blob_mem, flags and id (~0 = don't care). */
struct expect_call {
	uint32_t call;
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint64_t blob_id;
};
#define ANY_ID UINT64_MAX
#define CALL(c)                                     \
	{                                           \
		VGALLOC_MOCK_CALL_##c, 0, 0, ANY_ID \
	}
#define CREATE(mem, flags, id)                                \
	{                                                     \
		VGALLOC_MOCK_CALL_BLOB_CREATE, mem, flags, id \
	}

static inline void fx_print_trace(struct vgalloc_mock *mock)
{
	struct vgalloc_mock_trace_entry e[64];
	char line[256];
	int n = vgalloc_mock_get_trace(mock, e, 64);

	for (int i = 0; i < n; i++) {
		vgalloc_mock_format_entry(&e[i], line, sizeof(line));
		print_message("    %2d %s\n", i, line);
	}
}

/* Assert the trace since the last reset is exactly `want`, then reset. */
static inline void fx_expect_calls(struct vgalloc_mock *mock, const struct expect_call *want, int n)
{
	struct vgalloc_mock_trace_entry e[64];
	int got = vgalloc_mock_get_trace(mock, e, 64);
	bool ok = got == n;

	for (int i = 0; ok && i < n; i++) {
		ok = e[i].call == want[i].call && e[i].result == 0;
		if (ok && want[i].call == VGALLOC_MOCK_CALL_BLOB_CREATE) {
			ok = e[i].blob_mem == want[i].blob_mem &&
			     e[i].blob_flags == want[i].blob_flags &&
			     (want[i].blob_id == ANY_ID || e[i].blob_id == want[i].blob_id);
		}
	}
	if (!ok) {
		print_message("  expected:\n");
		for (int i = 0; i < n; i++) {
			print_message("    %2d %s\n", i, vgalloc_mock_call_name(want[i].call));
		}
		print_message("  got:\n");
		fx_print_trace(mock);
		fail_msg("call sequence differs");
	}
	vgalloc_mock_reset_counters(mock);
}
#define EXPECT_CALLS(mock, ...)                                                        \
	do {                                                                           \
		const struct expect_call want_[] = { __VA_ARGS__ };                    \
		fx_expect_calls(mock, want_, (int)(sizeof(want_) / sizeof(want_[0]))); \
	} while (0)

/*
 * A dma-buf from "another process": a host-first HOST3D blob (blob_id 9000 + n) made through the
 * mock's raw calls, exported, its handle closed. Release with fx_foreign_release() after every
 * import of it is gone: that frees the host allocation last, as its owner would.
 */
static inline int fx_foreign_dmabuf(struct fx *f, uint64_t size, uint64_t *host_handle)
{
	static uint64_t n;
	struct vgalloc_blob *b = NULL;
	uint64_t token = 0, id = 9000 + n++;
	uint32_t handle = 0, res = 0;
	int fd = -1;

	assert_int_equal(vgalloc_mock_host_alloc(f->mock, id, size, host_handle, &token, NULL), 0);
	assert_int_equal(vgalloc_mock_host_wait(f->mock, token), 0);
	assert_int_equal(
	        vgalloc_mock_blob_create(f->mock, VGALLOC_BLOB_MEM_HOST3D,
	                                 VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE,
	                                 size, id, &handle, &res),
	        0);
	/* Its owner's renderer has seen the blob (Venus: the round trip after an export), so the
	 * owner may free the host memory once every import is gone. */
	assert_int_equal(vgalloc_mock_host_roundtrip(f->mock), 0);
	assert_int_equal(vgalloc_blob_wrap_handle(
	                         f->dev, handle,
	                         VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE, &b),
	                 0);
	assert_int_equal(vgalloc_blob_export_dmabuf(f->dev, b, &fd), 0);
	assert_int_equal(vgalloc_blob_destroy(f->dev, b), 0);
	return fd;
}

static inline void fx_foreign_release(struct fx *f, int fd, uint64_t host_handle)
{
	close(fd);
	vgalloc_mock_host_free(f->mock, host_handle);
}

/* Random numbers for tests (xorshift64*), and the seed: VGALLOC_TEST_SEED when set, else the
 * test's own fixed default, so a failure can be replayed. */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline uint64_t rng_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(s) % (hi - lo + 1);
}

static inline uint64_t test_seed_or(uint64_t fallback)
{
	const char *e = getenv("VGALLOC_TEST_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : 0;

	return seed ? seed : fallback;
}

static inline struct vgalloc_request fx_req(uint32_t type, uint64_t size)
{
	struct vgalloc_request r;

	memset(&r, 0, sizeof(r));
	r.struct_size = sizeof(r);
	r.memory_type = type;
	r.size = size;
	return r;
}

#endif
