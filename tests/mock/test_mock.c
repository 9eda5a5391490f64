/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the mock backend, one rule at a time, so the model the core's tests stand on is
 * itself checked. Covers vgalloc_mock.h (create/destroy, ledger, trace, format, fault injection,
 * capsets, consumer calls, host side, hooks, cost model) and every op of the mock's backend table.
 */
#define _GNU_SOURCE
#define VGALLOC_UNSTABLE_BACKEND_API
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "vgalloc/vgalloc_backend.h"
#include "vgalloc/vgalloc_mock.h"

#define KIB       1024ull
#define MIB       (1024ull * 1024ull)
#define M         VGALLOC_BLOB_FLAG_MAPPABLE
#define S         VGALLOC_BLOB_FLAG_SHAREABLE
#define GUEST     VGALLOC_BLOB_MEM_GUEST
#define HOST3D    VGALLOC_BLOB_MEM_HOST3D
#define EXPORT_RW (VGALLOC_BACKEND_EXPORT_CLOEXEC | VGALLOC_BACKEND_EXPORT_RDWR)

/* ---------------------------------------------------------------------------------------------
 * Helpers.
 */

static struct vgalloc_mock *mock_with(const struct vgalloc_mock_create_info *info)
{
	struct vgalloc_mock *m = NULL;

	assert_int_equal(vgalloc_mock_create(info, &m), 0);
	assert_non_null(m);
	return m;
}

static struct vgalloc_mock *mock_new(uint32_t profile, uint32_t flags)
{
	const struct vgalloc_mock_create_info info = {
		.struct_size = sizeof(info),
		.profile = profile,
		.flags = flags,
	};

	return mock_with(&info);
}

static struct vgalloc_mock *mock_window(uint64_t window, uint32_t host_page, uint32_t flags)
{
	const struct vgalloc_mock_create_info info = {
		.struct_size = sizeof(info),
		.flags = flags,
		.window_size = window,
		.host_page_size = host_page,
	};

	return mock_with(&info);
}

/* The mock as the backend object its ops take (struct vgalloc_backend is its head). */
static struct vgalloc_backend *be(struct vgalloc_mock *m)
{
	return (struct vgalloc_backend *)(void *)m;
}

static const struct vgalloc_backend_ops *ops(struct vgalloc_mock *m)
{
	return be(m)->ops;
}

static void venus(struct vgalloc_mock *m)
{
	assert_int_equal(vgalloc_mock_context_init(m, VGALLOC_CAPSET_VENUS), 0);
}

static int create_full(struct vgalloc_mock *m, uint32_t mem, uint32_t flags, uint64_t size,
                       uint64_t blob_id, const void *cmd, uint32_t cmd_size, uint32_t *handle,
                       uint32_t *res_id)
{
	const struct vgalloc_backend_blob_args args = {
		.blob_mem = mem,
		.blob_flags = flags,
		.size = size,
		.blob_id = blob_id,
		.cmd = cmd,
		.cmd_size = cmd_size,
	};
	uint32_t h = 0, r = 0;
	int ret = ops(m)->blob_create(be(m), &args, &h, &r);

	if (handle) {
		*handle = h;
	}
	if (res_id) {
		*res_id = r;
	}
	return ret;
}

static int create(struct vgalloc_mock *m, uint32_t mem, uint32_t flags, uint64_t size,
                  uint64_t blob_id, uint32_t *handle)
{
	return create_full(m, mem, flags, size, blob_id, NULL, 0, handle, NULL);
}

static int map(struct vgalloc_mock *m, uint32_t handle, uint64_t size, void **ptr)
{
	return ops(m)->blob_map(be(m), handle, size, ptr);
}

static int unmap(struct vgalloc_mock *m, uint32_t handle, void *ptr, uint64_t size)
{
	return ops(m)->blob_unmap(be(m), handle, ptr, size);
}

static int gem_close(struct vgalloc_mock *m, uint32_t handle)
{
	return ops(m)->blob_destroy(be(m), handle);
}

static struct vgalloc_mock_ledger ledger(struct vgalloc_mock *m)
{
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };

	assert_int_equal(vgalloc_mock_get_ledger(m, &l), 0);
	return l;
}

/* Hook arguments as the library writes them for a dedicated allocation of `size` bytes (res_id:
 * the resource host_import imports; 0 for host_alloc). */
static struct vgalloc_host_alloc_args host_args(uint32_t res_id, uint64_t size, uint64_t blob_id)
{
	return (struct vgalloc_host_alloc_args){
		.struct_size = sizeof(struct vgalloc_host_alloc_args),
		.flags = VGALLOC_HOST_ARGS_DEDICATED,
		.res_id = res_id,
		.size = size,
		.requested_size = size,
		.blob_id = blob_id,
	};
}

/* A hook result as the library hands it over: zeroed, with its struct_size. */
static struct vgalloc_host_result host_result(void)
{
	return (struct vgalloc_host_result){ .struct_size = sizeof(struct vgalloc_host_result) };
}

static struct vgalloc_mock_trace_entry last_entry(struct vgalloc_mock *m)
{
	struct vgalloc_mock_trace_entry *all = calloc(4096, sizeof(*all));
	struct vgalloc_mock_trace_entry e;
	int n;

	assert_non_null(all);
	n = vgalloc_mock_get_trace(m, all, 4096);
	assert_true(n > 0);
	e = all[n - 1];
	free(all);
	return e;
}

/* Every test ends here: nothing leaked, the expected number of order violations, destroyed. */
static void finish(struct vgalloc_mock *m, uint64_t violations)
{
	struct vgalloc_mock_ledger l = ledger(m);

	assert_int_equal(l.live_handles, 0);
	assert_int_equal(l.live_blobs, 0);
	assert_int_equal(l.blob_bytes, 0);
	assert_int_equal(l.window_bytes, 0);
	assert_int_equal(l.mapped_blobs, 0);
	assert_int_equal(l.open_fds, 0);
	assert_int_equal(l.host_allocs, 0);
	assert_int_equal(l.pending_tokens, 0);
	assert_int_equal(l.order_violations, violations);
	vgalloc_mock_destroy(m);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d)) {
		n++;
	}
	closedir(d);
	return n;
}

/* A mapped, host-first flow's blob: host_alloc, optional wait, HOST3D MAPPABLE with its id. */
static uint32_t host_first_blob(struct vgalloc_mock *m, uint64_t id, uint64_t size, bool wait,
                                uint64_t *host_handle)
{
	uint64_t token = UINT64_MAX, pending = ledger(m).pending_tokens, tagged = 0;
	uint32_t h = 0;

	assert_int_equal(vgalloc_mock_host_alloc(m, id, size, host_handle, &token, &tagged), 0);
	/* Tokens count from 0: any value is legal, but the allocation is queued under it. */
	assert_int_not_equal(token, UINT64_MAX);
	assert_int_equal(ledger(m).pending_tokens, pending + 1);
	assert_int_equal(tagged, id);
	if (wait) {
		assert_int_equal(vgalloc_mock_host_wait(m, token), 0);
	}
	assert_int_equal(create(m, HOST3D, M | S, size, id, &h), 0);
	return h;
}

/* ---------------------------------------------------------------------------------------------
 * Create, ops table, call names.
 */

static void mock__create_validates_info(void **state)
{
	struct {
		struct vgalloc_mock_create_info info;
		uint64_t future;
	} big = { .info = { .struct_size = sizeof(big) }, .future = 1 };
	struct vgalloc_mock_create_info info = { .struct_size = sizeof(info) };
	struct vgalloc_mock *m = (struct vgalloc_mock *)&info; /* must stay untouched */
	struct vgalloc_mock *sentinel = m;

	(void)state;
	assert_int_equal(vgalloc_mock_create(NULL, &m), -EINVAL);
	info.struct_size = 8;
	assert_int_equal(vgalloc_mock_create(&info, &m), -EINVAL);
	info.struct_size = sizeof(info);
	info.profile = 3;
	assert_int_equal(vgalloc_mock_create(&info, &m), -EINVAL);
	info.profile = 0;
	info.host_page_size = 2048;
	assert_int_equal(vgalloc_mock_create(&info, &m), -EINVAL);
	info.host_page_size = 12288;
	assert_int_equal(vgalloc_mock_create(&info, &m), -EINVAL);
	info.host_page_size = 0;
	info.flags = 1u << 31;
	assert_int_equal(vgalloc_mock_create(&info, &m), -EINVAL);
	info.flags = 0;
	info.cost_preset = 9;
	assert_int_equal(vgalloc_mock_create(&info, &m), -EINVAL);
	info.cost_preset = 0;
	info.window_size = 1000;
	assert_int_equal(vgalloc_mock_create(&info, &m), -EINVAL);
	info.window_size = 0;
	assert_int_equal(vgalloc_mock_create(&big.info, &m), -E2BIG);
	assert_ptr_equal(m, sentinel);
	big.future = 0;
	m = mock_with(&big.info);
	finish(m, 0);
}

static void mock__ops_table_and_fd(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	int fd;

	(void)state;
	assert_int_equal(be(m)->magic, VGALLOC_BACKEND_MAGIC);
	assert_int_equal(ops(m)->abi_version, VGALLOC_BACKEND_ABI_VERSION);
	assert_string_equal(ops(m)->name, "mock");
	assert_null(ops(m)->destroy);
	fd = ops(m)->get_fd(be(m));
	assert_true(fd >= 0);
	assert_int_equal(fd, vgalloc_mock_get_fd(m));
	assert_true(fcntl(fd, F_GETFD) >= 0);
	/* The stand-in fd is not a blob fd: it is not counted. */
	assert_int_equal(ledger(m).open_fds, 0);
	finish(m, 0);
}

static void mock__call_names_and_failable(void **state)
{
	(void)state;
	assert_string_equal(vgalloc_mock_call_name(VGALLOC_MOCK_CALL_BLOB_CREATE), "blob_create");
	assert_string_equal(vgalloc_mock_call_name(VGALLOC_MOCK_CALL_HOST_ALLOC), "host_alloc");
	assert_string_equal(vgalloc_mock_call_name(VGALLOC_MOCK_CALL_HOST_FREE), "host_free");
	assert_string_equal(vgalloc_mock_call_name(99), "unknown");
	for (uint32_t c = 0; c < VGALLOC_MOCK_CALL_COUNT; c++) {
		bool expect =
		        c != VGALLOC_MOCK_CALL_BLOB_UNMAP && c != VGALLOC_MOCK_CALL_BLOB_DESTROY &&
		        c != VGALLOC_MOCK_CALL_NEW_BLOB_ID && c != VGALLOC_MOCK_CALL_HOST_FREE;

		assert_int_equal(vgalloc_mock_call_failable(c), expect);
	}
	assert_false(vgalloc_mock_call_failable(VGALLOC_MOCK_CALL_COUNT));
}

/* ---------------------------------------------------------------------------------------------
 * GETPARAM.
 */

static uint64_t param(struct vgalloc_mock *m, uint64_t p)
{
	uint64_t v = 0xdead;

	assert_int_equal(ops(m)->get_param(be(m), p, &v), 0);
	return v;
}

static void mock__get_param_defaults(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);

	(void)state;
	assert_int_equal(param(m, VGALLOC_PARAM_3D_FEATURES), 1);
	assert_int_equal(param(m, VGALLOC_PARAM_CAPSET_QUERY_FIX), 1);
	assert_int_equal(param(m, VGALLOC_PARAM_RESOURCE_BLOB), 1);
	assert_int_equal(param(m, VGALLOC_PARAM_HOST_VISIBLE), 1);
	assert_int_equal(param(m, VGALLOC_PARAM_CROSS_DEVICE), 0);
	assert_int_equal(param(m, VGALLOC_PARAM_CONTEXT_INIT), 1);
	assert_int_equal(param(m, VGALLOC_PARAM_SUPPORTED_CAPSET_IDS), 0x16);
	assert_int_equal(param(m, VGALLOC_PARAM_EXPLICIT_DEBUG_NAME), 0);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_GET_PARAM], 8);
	assert_int_equal(ledger(m).context, 0);
	finish(m, 0);
}

static void mock__get_param_flags_change_values(void **state)
{
	struct vgalloc_mock *m =
	        mock_new(0, VGALLOC_MOCK_NO_3D | VGALLOC_MOCK_NO_BLOB | VGALLOC_MOCK_NO_WINDOW |
	                            VGALLOC_MOCK_CROSS_DEVICE | VGALLOC_MOCK_NO_CONTEXT_INIT |
	                            VGALLOC_MOCK_DEBUG_NAME);

	(void)state;
	assert_int_equal(param(m, VGALLOC_PARAM_3D_FEATURES), 0);
	assert_int_equal(param(m, VGALLOC_PARAM_RESOURCE_BLOB), 0);
	assert_int_equal(param(m, VGALLOC_PARAM_HOST_VISIBLE), 0);
	assert_int_equal(param(m, VGALLOC_PARAM_CROSS_DEVICE), 1);
	assert_int_equal(param(m, VGALLOC_PARAM_CONTEXT_INIT), 0);
	assert_int_equal(param(m, VGALLOC_PARAM_EXPLICIT_DEBUG_NAME), 1);
	finish(m, 0);
}

static void mock__get_param_unknown_einval_value_untouched(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint64_t v = 0xdead;

	(void)state;
	assert_int_equal(ops(m)->get_param(be(m), 0, &v), -EINVAL);
	assert_int_equal(ops(m)->get_param(be(m), 10, &v), -EINVAL);
	assert_int_equal(ops(m)->get_param(be(m), 1ull << 40, &v), -EINVAL);
	assert_int_equal(v, 0xdead);
	assert_int_equal(last_entry(m).result, -EINVAL);
	finish(m, 0);
}

static void mock__get_param_blob_alignment_only_when_negotiated(void **state)
{
	struct vgalloc_mock *m = mock_window(0, 16384, 0);
	uint64_t v = 0xdead;

	(void)state;
	assert_int_equal(ops(m)->get_param(be(m), VGALLOC_PARAM_BLOB_ALIGNMENT, &v), -ENOENT);
	assert_int_equal(v, 0xdead);
	finish(m, 0);
	m = mock_window(0, 16384, VGALLOC_MOCK_BLOB_ALIGNMENT);
	assert_int_equal(param(m, VGALLOC_PARAM_BLOB_ALIGNMENT), 16384);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * GET_CAPS and set_capset.
 */

static uint32_t u32_at(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static void mock__get_capset_venus_layout(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint8_t buf[160];

	(void)state;
	memset(buf, 0xA5, sizeof(buf));
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, buf, sizeof(buf)), 0);
	assert_int_equal(u32_at(buf, 0), 1);
	assert_int_equal(u32_at(buf, 4), (1u << 22) | (4u << 12));
	assert_int_equal(u32_at(buf, 8), 1);
	assert_int_equal(u32_at(buf, 12), 1);
	assert_int_equal(u32_at(buf, 16), 1);
	for (size_t off = 20; off < 148; off += 4) {
		assert_int_equal(u32_at(buf, off), 0);
	}
	assert_int_equal(u32_at(buf, 148), 1);
	assert_int_equal(u32_at(buf, 152), 1);
	assert_int_equal(u32_at(buf, 156), 0); /* injecting: host-first */
	/* Queries create no context. */
	assert_int_equal(ledger(m).context, 0);
	finish(m, 0);
}

static void mock__get_capset_static_profile_and_flags(void **state)
{
	struct vgalloc_mock *m = mock_new(VGALLOC_MOCK_PROFILE_STATIC, VGALLOC_MOCK_NO_BLOB_ID_0);
	uint8_t buf[160];

	(void)state;
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, buf, sizeof(buf)), 0);
	assert_int_equal(u32_at(buf, 156), 1);
	assert_int_equal(u32_at(buf, 16), 0);
	finish(m, 0);
	m = mock_new(VGALLOC_MOCK_PROFILE_STATIC, VGALLOC_MOCK_GUEST_VRAM_OFF);
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, buf, sizeof(buf)), 0);
	assert_int_equal(u32_at(buf, 156), 0);
	finish(m, 0);
}

static void mock__get_capset_large_buffer_tail_untouched(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint8_t buf[256];

	(void)state;
	memset(buf, 0xA5, sizeof(buf));
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, buf, sizeof(buf)), 0);
	assert_int_equal(u32_at(buf, 0), 1);
	for (size_t i = 160; i < sizeof(buf); i++) {
		assert_int_equal(buf[i], 0xA5);
	}
	finish(m, 0);
}

static void mock__get_capset_small_buffer_gets_min_bytes(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint8_t full[160], buf[160];

	(void)state;
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, full, sizeof(full)), 0);
	memset(buf, 0xA5, sizeof(buf));
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, buf, 18), 0);
	assert_memory_equal(buf, full, 18);
	for (size_t i = 18; i < sizeof(buf); i++) {
		assert_int_equal(buf[i], 0xA5);
	}
	finish(m, 0);
}

static void mock__get_capset_older_host_is_shorter(void **state)
{
	const struct vgalloc_mock_create_info info = {
		.struct_size = sizeof(info),
		.venus_capset_size = 148,
	};
	struct vgalloc_mock *m = mock_with(&info);
	uint8_t buf[160];

	(void)state;
	memset(buf, 0xA5, sizeof(buf));
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, buf, sizeof(buf)), 0);
	assert_int_equal(u32_at(buf, 0), 1);
	assert_int_equal(buf[148], 0xA5);
	assert_int_equal(buf[159], 0xA5);
	finish(m, 0);
}

static void mock__get_capset_einval_cases(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint8_t buf[1400];

	(void)state;
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, buf, 0), -EINVAL);
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 1, buf, 160), -EINVAL);
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_GFXSTREAM_VULKAN, 0, buf, 160),
	                 -EINVAL);
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VIRGL, 1, buf, sizeof(buf)), 0);
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VIRGL, 2, buf, sizeof(buf)),
	                 -EINVAL);
	memset(buf, 0xA5, sizeof(buf));
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VIRGL2, 2, buf, sizeof(buf)), 0);
	assert_int_equal(u32_at(buf, 0), 2);
	assert_int_equal(buf[1383], 0);
	assert_int_equal(buf[1384], 0xA5);
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VIRGL2, 3, buf, sizeof(buf)),
	                 -EINVAL);
	finish(m, 0);
}

static void mock__set_capset_adds_replaces_removes(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	const uint8_t gfx[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t buf[16];

	(void)state;
	assert_int_equal(vgalloc_mock_set_capset(m, 0, 0, gfx, 8), -EINVAL);
	assert_int_equal(vgalloc_mock_set_capset(m, 64, 0, gfx, 8), -EINVAL);
	assert_int_equal(vgalloc_mock_set_capset(m, 3, 0, NULL, 8), -EINVAL);
	assert_int_equal(vgalloc_mock_set_capset(m, VGALLOC_CAPSET_GFXSTREAM_VULKAN, 0, gfx, 8), 0);
	assert_int_equal(param(m, VGALLOC_PARAM_SUPPORTED_CAPSET_IDS), 0x1e);
	memset(buf, 0xA5, sizeof(buf));
	assert_int_equal(ops(m)->get_capset(be(m), 3, 0, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, gfx, 8);
	assert_int_equal(buf[8], 0xA5);
	assert_int_equal(vgalloc_mock_set_capset(m, VGALLOC_CAPSET_VENUS, 0, NULL, 0), 0);
	assert_int_equal(param(m, VGALLOC_PARAM_SUPPORTED_CAPSET_IDS), 0x0e);
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, buf, 16), -EINVAL);
	assert_int_equal(vgalloc_mock_context_init(m, VGALLOC_CAPSET_VENUS), -EINVAL);
	assert_int_equal(vgalloc_mock_context_init(m, VGALLOC_CAPSET_GFXSTREAM_VULKAN), 0);
	assert_int_equal(ledger(m).capset_id, VGALLOC_CAPSET_GFXSTREAM_VULKAN);
	finish(m, 0);
}

/* Set a Venus capset of `size` bytes that are zero but for use_guest_vram's first byte. */
static void set_venus_guest_vram(struct vgalloc_mock *m, uint32_t size, uint8_t use_guest_vram)
{
	uint8_t caps[160] = { 0 };

	caps[0] = 1; /* wire_format_version */
	if (size > 156) {
		caps[156] = use_guest_vram;
	}
	assert_int_equal(vgalloc_mock_set_capset(m, VGALLOC_CAPSET_VENUS, 0, caps, size), 0);
}

/* The default profile is re-derived from use_guest_vram as a guest reads it (the bytes the host
 * sends, zero past them) each time the Venus capset changes; an explicit profile never is. */
static void mock__profile_follows_venus_capset(void **state)
{
	struct vgalloc_mock *m = mock_new(VGALLOC_MOCK_PROFILE_FROM_CAPSET, 0);
	const uint8_t gfx[8] = { 1 };
	uint8_t buf[160];

	(void)state;
	assert_int_equal(ledger(m).profile, VGALLOC_MOCK_PROFILE_INJECTING);
	set_venus_guest_vram(m, 160, 1);
	assert_int_equal(ledger(m).profile, VGALLOC_MOCK_PROFILE_STATIC);
	/* Served as given. */
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, buf, sizeof(buf)), 0);
	assert_int_equal(u32_at(buf, 156), 1);
	/* Another capset id leaves it alone. */
	assert_int_equal(vgalloc_mock_set_capset(m, VGALLOC_CAPSET_GFXSTREAM_VULKAN, 0, gfx, 8), 0);
	assert_int_equal(ledger(m).profile, VGALLOC_MOCK_PROFILE_STATIC);
	set_venus_guest_vram(m, 160, 0);
	assert_int_equal(ledger(m).profile, VGALLOC_MOCK_PROFILE_INJECTING);
	/* 156 bytes end before the field: a guest reads 0. */
	set_venus_guest_vram(m, 156, 1);
	assert_int_equal(ledger(m).profile, VGALLOC_MOCK_PROFILE_INJECTING);
	/* 157 bytes carry the field's low byte: a guest reads 1. */
	set_venus_guest_vram(m, 157, 1);
	assert_int_equal(ledger(m).profile, VGALLOC_MOCK_PROFILE_STATIC);
	/* A value no valid host sends is not 1. */
	set_venus_guest_vram(m, 160, 2);
	assert_int_equal(ledger(m).profile, VGALLOC_MOCK_PROFILE_INJECTING);
	set_venus_guest_vram(m, 160, 1);
	assert_int_equal(vgalloc_mock_set_capset(m, VGALLOC_CAPSET_VENUS, 0, NULL, 0), 0);
	assert_int_equal(ledger(m).profile, VGALLOC_MOCK_PROFILE_INJECTING);
	finish(m, 0);

	for (uint32_t profile = VGALLOC_MOCK_PROFILE_INJECTING;
	     profile <= VGALLOC_MOCK_PROFILE_STATIC; profile++) {
		m = mock_new(profile, 0);
		assert_int_equal(ledger(m).profile, profile);
		set_venus_guest_vram(m, 160, profile == VGALLOC_MOCK_PROFILE_STATIC ? 0 : 1);
		assert_int_equal(ledger(m).profile, profile);
		finish(m, 0);
	}
}

/* ---------------------------------------------------------------------------------------------
 * CONTEXT_INIT and the implicit context.
 */

static int init_with(struct vgalloc_mock *m, const struct vgalloc_context_param_value *p,
                     uint32_t count)
{
	return ops(m)->context_init(be(m), p, count);
}

static void mock__context_init_venus_then_eexist(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	const struct vgalloc_context_param_value p[] = {
		{ VGALLOC_CONTEXT_PARAM_CAPSET_ID, VGALLOC_CAPSET_VENUS },
		{ VGALLOC_CONTEXT_PARAM_NUM_RINGS, 2 },
		{ VGALLOC_CONTEXT_PARAM_POLL_RINGS_MASK, 0x3 },
	};
	struct vgalloc_mock_ledger l;

	(void)state;
	assert_int_equal(init_with(m, p, 3), 0);
	l = ledger(m);
	assert_int_equal(l.context, 2);
	assert_int_equal(l.capset_id, VGALLOC_CAPSET_VENUS);
	assert_int_equal(init_with(m, p, 3), -EEXIST);
	assert_int_equal(vgalloc_mock_context_init(m, VGALLOC_CAPSET_VENUS), -EEXIST);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_CONTEXT_INIT], 3);
	finish(m, 0);
}

static void mock__context_init_count_rules(void **state)
{
	const char *name = "test";
	const struct vgalloc_context_param_value p[] = {
		{ VGALLOC_CONTEXT_PARAM_CAPSET_ID, VGALLOC_CAPSET_VENUS },
		{ VGALLOC_CONTEXT_PARAM_NUM_RINGS, 2 },
		{ VGALLOC_CONTEXT_PARAM_POLL_RINGS_MASK, 0x1 },
		{ VGALLOC_CONTEXT_PARAM_DEBUG_NAME, (uint64_t)(uintptr_t)name },
		{ VGALLOC_CONTEXT_PARAM_NUM_RINGS, 2 },
	};
	struct vgalloc_mock *m = mock_new(0, 0);

	(void)state;
	assert_int_equal(init_with(m, p, 0), -EINVAL);
	assert_int_equal(init_with(m, p, 5), -EINVAL);
	assert_int_equal(init_with(m, p, 4), -EINVAL); /* num_params > 3 without DEBUG_NAME */
	assert_int_equal(ledger(m).context, 0);
	finish(m, 0);
	m = mock_new(0, VGALLOC_MOCK_DEBUG_NAME);
	assert_int_equal(init_with(m, p, 5), -EINVAL);
	assert_int_equal(init_with(m, p, 4), 0);
	finish(m, 0);
}

static void mock__context_init_param_rules(void **state)
{
	const char *name = "test";
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_context_param_value p[2] = {
		{ VGALLOC_CONTEXT_PARAM_CAPSET_ID, VGALLOC_CAPSET_VENUS },
		{ VGALLOC_CONTEXT_PARAM_DEBUG_NAME, (uint64_t)(uintptr_t)name },
	};

	(void)state;
	assert_int_equal(init_with(m, p, 2), -EINVAL); /* DEBUG_NAME unsupported */
	p[1].param = 9;
	assert_int_equal(init_with(m, p, 2), -EINVAL); /* unknown param */
	p[1] = (struct vgalloc_context_param_value){ VGALLOC_CONTEXT_PARAM_CAPSET_ID, 1 };
	assert_int_equal(init_with(m, p, 2), -EINVAL); /* capset twice */
	p[0] = (struct vgalloc_context_param_value){ VGALLOC_CONTEXT_PARAM_NUM_RINGS, 2 };
	p[1] = (struct vgalloc_context_param_value){ VGALLOC_CONTEXT_PARAM_POLL_RINGS_MASK, 1 };
	assert_int_equal(init_with(m, p, 2), -EINVAL); /* no capset */
	p[1] = (struct vgalloc_context_param_value){ VGALLOC_CONTEXT_PARAM_CAPSET_ID, 3 };
	assert_int_equal(init_with(m, p, 2), -EINVAL); /* capset not supported */
	p[1].value = 40;
	assert_int_equal(init_with(m, p, 2), -EINVAL);
	p[1].value = VGALLOC_CAPSET_VENUS;
	p[0].value = 0;
	assert_int_equal(init_with(m, p, 2), -EINVAL); /* NUM_RINGS 0 */
	p[0].value = 65;
	assert_int_equal(init_with(m, p, 2), -EINVAL); /* NUM_RINGS > 64 */
	assert_int_equal(ops(m)->context_init(be(m), NULL, 1), -EFAULT);
	assert_int_equal(ledger(m).context, 0);
	p[0].value = 64;
	assert_int_equal(init_with(m, p, 2), 0);
	finish(m, 0);
}

static void mock__context_init_poll_mask_within_rings(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	const struct vgalloc_context_param_value p[] = {
		{ VGALLOC_CONTEXT_PARAM_CAPSET_ID, VGALLOC_CAPSET_VENUS },
		{ VGALLOC_CONTEXT_PARAM_NUM_RINGS, 2 },
		{ VGALLOC_CONTEXT_PARAM_POLL_RINGS_MASK, 0x4 },
	};

	(void)state;
	assert_int_equal(init_with(m, p, 3), -EINVAL);
	finish(m, 0);
}

static void mock__context_init_feature_off(void **state)
{
	struct vgalloc_mock *m = mock_new(0, VGALLOC_MOCK_NO_CONTEXT_INIT);

	(void)state;
	assert_int_equal(vgalloc_mock_context_init(m, VGALLOC_CAPSET_VENUS), -EINVAL);
	finish(m, 0);
	m = mock_new(0, VGALLOC_MOCK_NO_3D);
	assert_int_equal(vgalloc_mock_context_init(m, VGALLOC_CAPSET_VENUS), -EINVAL);
	finish(m, 0);
}

static void mock__context_init_after_implicit_context_eexist(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_mock_ledger l;
	uint32_t h;

	(void)state;
	assert_int_equal(create(m, GUEST, M, 4096, 0, &h), 0);
	l = ledger(m);
	assert_int_equal(l.context, 1);
	assert_int_equal(l.capset_id, 0);
	assert_int_equal(vgalloc_mock_context_init(m, VGALLOC_CAPSET_VENUS), -EEXIST);
	assert_int_equal(gem_close(m, h), 0);
	assert_int_equal(ledger(m).context, 1); /* the context outlives the blob */
	finish(m, 0);
}

static void mock__context_failed_verify_makes_no_implicit_context(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);

	(void)state;
	assert_int_equal(create(m, GUEST, M, 0, 0, NULL), -EINVAL);
	assert_int_equal(ledger(m).context, 0);
	venus(m);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * RESOURCE_CREATE_BLOB: synchronous refusals, one per rule.
 */

static void expect_create(uint32_t flags, uint32_t mem, uint32_t blob_flags, uint64_t size,
                          uint64_t blob_id, const void *cmd, uint32_t cmd_size, int expected)
{
	struct vgalloc_mock *m = mock_new(0, flags);
	struct vgalloc_mock_ledger l;
	uint32_t h = 77, r = 77;

	if (!(flags & (VGALLOC_MOCK_NO_3D | VGALLOC_MOCK_NO_CONTEXT_INIT))) {
		venus(m);
	}
	assert_int_equal(create_full(m, mem, blob_flags, size, blob_id, cmd, cmd_size, &h, &r),
	                 expected);
	l = ledger(m);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_BLOB_CREATE], 1);
	if (expected != 0) {
		assert_int_equal(l.live_blobs, 0);
		assert_int_equal(last_entry(m).result, expected);
	} else {
		assert_int_equal(gem_close(m, h), 0);
	}
	finish(m, 0);
}

static void mock__blob_create_einval_without_blob_feature(void **state)
{
	(void)state;
	expect_create(VGALLOC_MOCK_NO_BLOB, GUEST, M, 4096, 0, NULL, 0, -EINVAL);
}

static void mock__blob_create_einval_unknown_flags(void **state)
{
	(void)state;
	expect_create(0, GUEST, M | 8, 4096, 0, NULL, 0, -EINVAL);
	expect_create(0, HOST3D, 0x10, 4096, 0, NULL, 0, -EINVAL);
}

static void mock__blob_create_einval_bad_blob_mem(void **state)
{
	(void)state;
	expect_create(0, 0, M, 4096, 0, NULL, 0, -EINVAL);
	expect_create(0, 4, M, 4096, 0, NULL, 0, -EINVAL); /* downstream GUEST_VRAM */
}

static void mock__blob_create_einval_guest_with_blob_id(void **state)
{
	(void)state;
	expect_create(0, GUEST, M, 4096, 7, NULL, 0, -EINVAL);
}

/* Blob flag 0x8 exists only on a kernel that negotiated CREATE_GUEST_HANDLE, and only on GUEST
 * blobs, which then carry their blob_id to the host. */
static void mock__blob_create_guest_handle_only_when_negotiated(void **state)
{
	const uint32_t gh = VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE;
	const uint32_t cmd[4] = { 0 };
	struct vgalloc_mock *m;
	struct vgalloc_host_hooks hooks;
	struct vgalloc_host_alloc_args args;
	struct vgalloc_host_result res;
	struct vgalloc_mock_trace_entry e;
	char line[256];
	uint64_t v = 0xdead;
	uint32_t h, r;
	void *p;

	(void)state;
	/* Mainline: neither the param nor the flag. */
	m = mock_new(0, 0);
	assert_int_equal(ops(m)->get_param(be(m), 10, &v), -EINVAL);
	assert_int_equal(v, 0xdead);
	finish(m, 0);
	expect_create(0, GUEST, M | S | gh, 4096, 7, NULL, 0, -EINVAL);
	expect_create(0, GUEST, M | S | gh, 4096, 0, NULL, 0, -EINVAL);
	/* Negotiated: GUEST blobs take it, with or without an id; nothing else does. */
	expect_create(VGALLOC_MOCK_GUEST_HANDLE, GUEST, M | S | gh, 4096, 7, NULL, 0, 0);
	expect_create(VGALLOC_MOCK_GUEST_HANDLE, GUEST, gh, 4096, 0, NULL, 0, 0);
	expect_create(VGALLOC_MOCK_GUEST_HANDLE, HOST3D, M | S | gh, 4096, 7, NULL, 0, -EINVAL);
	expect_create(VGALLOC_MOCK_GUEST_HANDLE, VGALLOC_BLOB_MEM_HOST3D_GUEST, M | gh, 4096, 7,
	              NULL, 0, -EINVAL);
	expect_create(VGALLOC_MOCK_GUEST_HANDLE, GUEST, M | gh, 4096, 7, cmd, sizeof(cmd), -EINVAL);
	/* A plain GUEST blob still has no id to give. */
	expect_create(VGALLOC_MOCK_GUEST_HANDLE, GUEST, M, 4096, 7, NULL, 0, -EINVAL);

	/* The whole guest-handle flow on such a host: GUEST blob by id, the placeholder round trip,
	 * the host import of it; then the fixed teardown, with no order violation. */
	m = mock_with(&(struct vgalloc_mock_create_info){
	        .struct_size = sizeof(struct vgalloc_mock_create_info),
	        .flags = VGALLOC_MOCK_GUEST_HANDLE,
	        .supported_capsets = 1u << VGALLOC_CAPSET_GFXSTREAM_VULKAN,
	});
	assert_int_equal(param(m, 10), 1);
	assert_int_equal(vgalloc_mock_get_hooks(m, 0, &hooks), 0);
	assert_int_equal(vgalloc_mock_context_init(m, VGALLOC_CAPSET_GFXSTREAM_VULKAN), 0);
	assert_int_equal(create_full(m, GUEST, M | S | gh, 16 * KIB, 3, NULL, 0, &h, &r), 0);
	e = last_entry(m);
	vgalloc_mock_format_entry(&e, line, sizeof(line));
	assert_non_null(strstr(line, "mem=GUEST flags=MAPPABLE|SHAREABLE|CREATE_GUEST_HANDLE "
	                             "id=3 size=16384"));
	assert_int_equal(hooks.host_roundtrip(hooks.ctx), 0);
	args = host_args(r, 16 * KIB, 3);
	res = host_result();
	assert_int_equal(hooks.host_import(hooks.ctx, NULL, &args, &res), 0);
	assert_int_equal(res.flags, VGALLOC_HOST_RESULT_PENDING);
	assert_int_equal(res.token, 0); /* the first token */
	assert_int_equal(map(m, h, 16 * KIB, &p), 0);
	memset(p, 9, 16 * KIB);
	assert_int_equal(hooks.host_wait(hooks.ctx, res.token, 0, NULL, NULL), 0);
	assert_int_equal(unmap(m, h, p, 16 * KIB), 0);
	assert_int_equal(gem_close(m, h), 0);
	hooks.host_free(hooks.ctx, NULL, res.host_handle);
	finish(m, 0);

	/* The host files the guest handle under the blob id it was created with: an import
	 * naming another id finds nothing, and the context is lost. */
	m = mock_with(&(struct vgalloc_mock_create_info){
	        .struct_size = sizeof(struct vgalloc_mock_create_info),
	        .flags = VGALLOC_MOCK_GUEST_HANDLE,
	        .supported_capsets = 1u << VGALLOC_CAPSET_GFXSTREAM_VULKAN,
	});
	assert_int_equal(vgalloc_mock_get_hooks(m, 0, &hooks), 0);
	assert_int_equal(vgalloc_mock_context_init(m, VGALLOC_CAPSET_GFXSTREAM_VULKAN), 0);
	assert_int_equal(create_full(m, GUEST, M | S | gh, 16 * KIB, 3, NULL, 0, &h, &r), 0);
	assert_int_equal(hooks.host_roundtrip(hooks.ctx), 0);
	args = host_args(r, 16 * KIB, 4);
	res = host_result();
	assert_int_equal(hooks.host_import(hooks.ctx, NULL, &args, &res), -EIO);
	assert_int_equal(res.flags, 0); /* a failed call answers nothing */
	{
		struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };

		assert_int_equal(vgalloc_mock_get_ledger(m, &l), 0);
		assert_int_equal(l.context_lost, 1);
		assert_int_equal(l.host_allocs, 0);
	}
	assert_int_equal(gem_close(m, h), 0);
	vgalloc_mock_destroy(m);
}

static void mock__blob_create_einval_guest_with_cmd(void **state)
{
	const uint32_t cmd[4] = { 0 };

	(void)state;
	expect_create(0, GUEST, M, 4096, 0, cmd, sizeof(cmd), -EINVAL);
}

static void mock__blob_create_einval_cmd_size_not_dword(void **state)
{
	const uint32_t cmd[4] = { 0 };

	(void)state;
	expect_create(0, HOST3D, M, 4096, 0, cmd, 6, -EINVAL);
}

static void mock__blob_create_efault_cmd_null(void **state)
{
	(void)state;
	expect_create(0, HOST3D, M, 4096, 0, NULL, 16, -EFAULT);
}

static void mock__blob_create_einval_host3d_without_3d(void **state)
{
	(void)state;
	expect_create(VGALLOC_MOCK_NO_3D, HOST3D, M, 4096, 0, NULL, 0, -EINVAL);
	expect_create(VGALLOC_MOCK_NO_3D, VGALLOC_BLOB_MEM_HOST3D_GUEST, M, 4096, 0, NULL, 0,
	              -EINVAL);
	/* GUEST blobs need no 3D, and then the kernel makes no context at all. */
	expect_create(VGALLOC_MOCK_NO_3D, GUEST, M, 4096, 0, NULL, 0, 0);
}

static void mock__blob_create_cross_device_needs_feature(void **state)
{
	(void)state;
	expect_create(0, GUEST, M | VGALLOC_BLOB_FLAG_CROSS_DEVICE, 4096, 0, NULL, 0, -EINVAL);
	expect_create(VGALLOC_MOCK_CROSS_DEVICE, GUEST, M | S | VGALLOC_BLOB_FLAG_CROSS_DEVICE,
	              4096, 0, NULL, 0, 0);
}

static void mock__blob_create_einval_mappable_host3d_without_window(void **state)
{
	(void)state;
	expect_create(VGALLOC_MOCK_NO_WINDOW, HOST3D, M, 4096, 0, NULL, 0, -EINVAL);
	/* Not mappable: no window needed. Shmem-backed kinds never need one. */
	expect_create(VGALLOC_MOCK_NO_WINDOW, HOST3D, S, 4096, 0, NULL, 0, 0);
	expect_create(VGALLOC_MOCK_NO_WINDOW, GUEST, M, 4096, 0, NULL, 0, 0);
	expect_create(VGALLOC_MOCK_NO_WINDOW, VGALLOC_BLOB_MEM_HOST3D_GUEST, M, 4096, 0, NULL, 0,
	              0);
}

static void mock__blob_create_einval_size_zero(void **state)
{
	(void)state;
	expect_create(0, GUEST, M, 0, 0, NULL, 0, -EINVAL);
	expect_create(0, HOST3D, M, 0, 0, NULL, 0, -EINVAL);
	expect_create(0, GUEST, M, UINT64_MAX, 0, NULL, 0, -EINVAL);
}

static void mock__blob_create_rounds_to_guest_page(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_backend_blob_info info;
	uint32_t h;
	void *p;

	(void)state;
	venus(m);
	assert_int_equal(create(m, HOST3D, M, 5000, 0, &h), 0);
	assert_int_equal(ledger(m).blob_bytes, 8192);
	assert_int_equal(ledger(m).window_bytes, 8192);
	assert_int_equal(ops(m)->blob_info(be(m), h, &info), 0);
	assert_int_equal(info.size, 8192);
	assert_int_equal(map(m, h, 5000, &p), -EINVAL); /* whole blob only */
	assert_int_equal(map(m, h, 8192, &p), 0);
	assert_int_equal(unmap(m, h, p, 8192), 0);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 0);
}

static void mock__blob_create_handles_lowest_free_and_res_ids_increase(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h[3], r[3], h2, r2;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(create_full(m, GUEST, 0, 4096, 0, NULL, 0, &h[i], &r[i]), 0);
		assert_int_equal(h[i], (uint32_t)i + 1);
		assert_int_equal(r[i], (uint32_t)i + 1);
	}
	assert_int_equal(gem_close(m, h[1]), 0);
	assert_int_equal(create_full(m, GUEST, 0, 4096, 0, NULL, 0, &h2, &r2), 0);
	assert_int_equal(h2, 2);
	assert_int_equal(r2, 4);
	assert_int_equal(gem_close(m, h[0]), 0);
	assert_int_equal(gem_close(m, h[2]), 0);
	assert_int_equal(create_full(m, GUEST, 0, 4096, 0, NULL, 0, &h[0], &r[0]), 0);
	assert_int_equal(h[0], 1);
	assert_int_equal(r[0], 5);
	assert_int_equal(gem_close(m, h[0]), 0);
	assert_int_equal(gem_close(m, h2), 0);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * The window's range allocator.
 */

static void mock__window_enospc_then_success_after_close(void **state)
{
	struct vgalloc_mock *m = mock_window(64 * KIB, 0, 0);
	uint32_t a, b;

	(void)state;
	venus(m);
	assert_int_equal(create(m, HOST3D, M, 64 * KIB, 0, &a), 0);
	assert_int_equal(ledger(m).window_bytes, 64 * KIB);
	assert_int_equal(create(m, HOST3D, M, 4096, 0, &b), -ENOSPC);
	assert_int_equal(ledger(m).live_blobs, 1);
	/* Blobs outside the window still fit. */
	assert_int_equal(create(m, GUEST, M, 4096, 0, &b), 0);
	assert_int_equal(gem_close(m, b), 0);
	assert_int_equal(gem_close(m, a), 0);
	assert_int_equal(ledger(m).window_bytes, 0);
	assert_int_equal(create(m, HOST3D, M, 4096, 0, &b), 0);
	assert_int_equal(gem_close(m, b), 0);
	finish(m, 0);
}

static void mock__window_first_fit_coalesces_on_free(void **state)
{
	struct vgalloc_mock *m = mock_window(64 * KIB, 0, 0);
	uint32_t h[4], big;

	(void)state;
	venus(m);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(create(m, HOST3D, M, 16 * KIB, 0, &h[i]), 0);
	}
	assert_int_equal(create(m, HOST3D, M, 4 * KIB, 0, &big), -ENOSPC);
	assert_int_equal(gem_close(m, h[2]), 0);
	assert_int_equal(gem_close(m, h[1]), 0);
	/* Two neighbouring 16 KiB holes merged into one 32 KiB range. */
	assert_int_equal(create(m, HOST3D, M, 32 * KIB, 0, &big), 0);
	assert_int_equal(gem_close(m, big), 0);
	assert_int_equal(gem_close(m, h[0]), 0);
	assert_int_equal(gem_close(m, h[3]), 0);
	assert_int_equal(create(m, HOST3D, M, 64 * KIB, 0, &big), 0);
	assert_int_equal(gem_close(m, big), 0);
	finish(m, 0);
}

static void mock__window_ranges_aligned_to_host_page(void **state)
{
	struct vgalloc_mock *m = mock_window(32 * KIB, 16384, 0);
	uint32_t a, b, c;

	(void)state;
	venus(m);
	assert_int_equal(create(m, HOST3D, M, 4 * KIB, 0, &a), 0);  /* [0, 4K) */
	assert_int_equal(create(m, HOST3D, M, 16 * KIB, 0, &b), 0); /* [16K, 32K) */
	/* 12 KiB are free at [4K, 16K), but no host-page-aligned start fits there. */
	assert_int_equal(create(m, HOST3D, M, 4 * KIB, 0, &c), -ENOSPC);
	assert_int_equal(ledger(m).window_bytes, 20 * KIB);
	assert_int_equal(gem_close(m, a), 0);
	assert_int_equal(gem_close(m, b), 0);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Host page rule and BLOB_ALIGNMENT.
 */

static void mock__blob_map_host_page_rule_fails_at_mmap(void **state)
{
	struct vgalloc_mock *m = mock_window(0, 16384, 0);
	uint32_t small, whole;
	void *p;

	(void)state;
	venus(m);
	assert_int_equal(create(m, HOST3D, M, 4096, 0, &small), 0);
	assert_int_equal(map(m, small, 4096, &p), -EINVAL);
	assert_int_equal(map(m, small, 4096, &p), -EINVAL); /* and every later mmap */
	assert_int_equal(create(m, HOST3D, M, 16384, 0, &whole), 0);
	assert_int_equal(map(m, whole, 16384, &p), 0);
	assert_int_equal(unmap(m, whole, p, 16384), 0);
	assert_int_equal(gem_close(m, small), 0);
	assert_int_equal(gem_close(m, whole), 0);
	finish(m, 0);
}

static void mock__blob_create_blob_alignment_negotiated_rejects_misaligned(void **state)
{
	struct vgalloc_mock *m = mock_window(0, 16384, VGALLOC_MOCK_BLOB_ALIGNMENT);
	uint32_t h;
	void *p;

	(void)state;
	venus(m);
	assert_int_equal(create(m, HOST3D, M, 4096, 0, &h), -EINVAL);
	assert_int_equal(create(m, GUEST, M, 4096, 0, &h), -EINVAL);
	assert_int_equal(create(m, HOST3D, M, 16384, 0, &h), 0);
	assert_int_equal(map(m, h, 16384, &p), 0);
	assert_int_equal(unmap(m, h, p, 16384), 0);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Host renderer semantics: asynchronous failures at the first mmap.
 */

static void mock__host_first_processed_allocation_maps(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint64_t hh;
	uint32_t h;
	void *p;

	(void)state;
	venus(m);
	h = host_first_blob(m, 7, 64 * KIB, true, &hh);
	assert_int_equal(map(m, h, 64 * KIB, &p), 0);
	memset(p, 0x5a, 64 * KIB);
	assert_int_equal(unmap(m, h, p, 64 * KIB), 0);
	assert_int_equal(gem_close(m, h), 0);
	vgalloc_mock_host_free(m, hh);
	finish(m, 0);
}

static void mock__host_first_unprocessed_id_fails_at_map(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint64_t hh;
	uint32_t h;
	void *p;

	(void)state;
	venus(m);
	h = host_first_blob(m, 7, 64 * KIB, false, &hh);
	assert_int_equal(ledger(m).order_violations, 1);
	assert_int_equal(ledger(m).pending_tokens, 1);
	assert_int_equal(map(m, h, 64 * KIB, &p), -EINVAL);
	assert_int_equal(gem_close(m, h), 0);
	assert_int_equal(vgalloc_mock_host_wait(m, 0), 0); /* tokens count from 0 */
	assert_int_equal(ledger(m).pending_tokens, 0);
	vgalloc_mock_host_free(m, hh);
	finish(m, 1);
}

static void mock__host_first_wait_cmd_runs_before_create(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint8_t cmd[VGALLOC_MAX_WAIT_CMD_SIZE];
	uint32_t size = 8, h;
	uint64_t hh, token;
	void *p;

	(void)state;
	venus(m);
	assert_int_equal(vgalloc_mock_host_alloc(m, 9, 64 * KIB, &hh, &token, NULL), 0);
	assert_int_equal(vgalloc_mock_host_wait_cmd(m, token, cmd, &size), -ENOSPC);
	size = sizeof(cmd);
	assert_int_equal(vgalloc_mock_host_wait_cmd(m, token, cmd, &size), 0);
	assert_int_equal(size, 16);
	assert_int_equal(ledger(m).pending_tokens, 1);
	assert_int_equal(create_full(m, HOST3D, M, 64 * KIB, 9, cmd, size, &h, NULL), 0);
	assert_int_equal(ledger(m).pending_tokens, 0);
	assert_int_equal(map(m, h, 64 * KIB, &p), 0);
	assert_int_equal(unmap(m, h, p, 64 * KIB), 0);
	assert_int_equal(gem_close(m, h), 0);
	vgalloc_mock_host_free(m, hh);
	finish(m, 0);
}

static void mock__host_first_unknown_cmd_bytes_count_violation(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	const uint32_t junk[4] = { 0xdeadbeef, 0, 1, 0 };
	uint32_t h;
	void *p;

	(void)state;
	venus(m);
	/* The ioctl succeeds: host errors are asynchronous. */
	assert_int_equal(create_full(m, HOST3D, M, 4096, 0, junk, sizeof(junk), &h, NULL), 0);
	assert_int_equal(ledger(m).order_violations, 1);
	assert_int_equal(map(m, h, 4096, &p), 0);
	assert_int_equal(unmap(m, h, p, 4096), 0);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 1);
}

static void mock__host_first_double_export_fails_at_map(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t first, second;
	uint64_t hh;
	void *p;

	(void)state;
	venus(m);
	first = host_first_blob(m, 7, 64 * KIB, true, &hh);
	assert_int_equal(create(m, HOST3D, M | S, 64 * KIB, 7, &second), 0);
	assert_int_equal(ledger(m).order_violations, 1);
	assert_int_equal(map(m, second, 64 * KIB, &p), -EINVAL);
	assert_int_equal(map(m, first, 64 * KIB, &p), 0);
	assert_int_equal(unmap(m, first, p, 64 * KIB), 0);
	assert_int_equal(gem_close(m, second), 0);
	assert_int_equal(gem_close(m, first), 0);
	/* Exported once means once, even after that blob is gone. */
	assert_int_equal(create(m, HOST3D, M | S, 64 * KIB, 7, &second), 0);
	assert_int_equal(map(m, second, 64 * KIB, &p), -EINVAL);
	assert_int_equal(gem_close(m, second), 0);
	vgalloc_mock_host_free(m, hh);
	finish(m, 2);
}

static void mock__host_first_unknown_id_fails_at_map(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h;
	void *p;

	(void)state;
	venus(m);
	assert_int_equal(create(m, HOST3D, M | S, 64 * KIB, 1234, &h), 0);
	assert_int_equal(map(m, h, 64 * KIB, &p), -EINVAL);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 1);
}

static void mock__host_first_static_profile_fails_at_map(void **state)
{
	struct vgalloc_mock *m = mock_new(VGALLOC_MOCK_PROFILE_STATIC, 0);
	uint64_t hh;
	uint32_t h;
	void *p;

	(void)state;
	venus(m);
	h = host_first_blob(m, 7, 64 * KIB, true, &hh);
	assert_int_equal(map(m, h, 64 * KIB, &p), -EINVAL);
	assert_int_equal(gem_close(m, h), 0);
	/* A failed map is no sync point: the free waits for a round trip. */
	assert_int_equal(vgalloc_mock_host_roundtrip(m), 0);
	vgalloc_mock_host_free(m, hh);
	finish(m, 0); /* a policy mistake, not an ordering one */
}

static void mock__guest_first_static_profile_maps_and_imports(void **state)
{
	struct vgalloc_mock *m = mock_new(VGALLOC_MOCK_PROFILE_STATIC, 0);
	uint64_t hh, token;
	uint32_t h, res;
	void *p;

	(void)state;
	venus(m);
	assert_int_equal(create_full(m, HOST3D, M | S, 64 * KIB, 5, NULL, 0, &h, &res), 0);
	assert_int_equal(map(m, h, 64 * KIB, &p), 0);
	memset(p, 1, 64 * KIB);
	assert_int_equal(vgalloc_mock_host_roundtrip(m), 0);
	assert_int_equal(vgalloc_mock_host_import(m, res, 64 * KIB, 5, &hh, &token), 0);
	assert_int_equal(ledger(m).host_allocs, 1);
	assert_int_equal(vgalloc_mock_host_wait(m, token), 0);
	assert_int_equal(unmap(m, h, p, 64 * KIB), 0);
	assert_int_equal(gem_close(m, h), 0);
	vgalloc_mock_host_free(m, hh);
	finish(m, 0);
}

static void mock__guest_first_needs_guest_vram_host(void **state)
{
	struct vgalloc_mock *m = mock_new(VGALLOC_MOCK_PROFILE_STATIC, VGALLOC_MOCK_GUEST_VRAM_OFF);
	uint32_t h;
	void *p;

	(void)state;
	venus(m);
	assert_int_equal(create(m, HOST3D, M | S, 64 * KIB, 5, &h), 0);
	assert_int_equal(map(m, h, 64 * KIB, &p), -EINVAL);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 1);
}

static void mock__blob_id0_venus_mappable_only(void **state)
{
	struct vgalloc_mock *m = mock_new(VGALLOC_MOCK_PROFILE_STATIC, 0);
	uint32_t ok, shared;
	void *p;

	(void)state;
	venus(m);
	assert_int_equal(create(m, HOST3D, M, 4096, 0, &ok), 0);
	assert_int_equal(create(m, HOST3D, M | S, 4096, 0, &shared), 0);
	assert_int_equal(map(m, ok, 4096, &p), 0);
	assert_int_equal(unmap(m, ok, p, 4096), 0);
	assert_int_equal(map(m, shared, 4096, &p), -EINVAL);
	assert_int_equal(gem_close(m, ok), 0);
	assert_int_equal(gem_close(m, shared), 0);
	finish(m, 0);
	m = mock_new(0, VGALLOC_MOCK_NO_BLOB_ID_0);
	venus(m);
	assert_int_equal(create(m, HOST3D, M, 4096, 0, &ok), 0);
	assert_int_equal(map(m, ok, 4096, &p), -EINVAL);
	assert_int_equal(gem_close(m, ok), 0);
	finish(m, 0);
}

static void mock__host3d_implicit_context_fails_at_map(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h, g;
	void *p;

	(void)state;
	assert_int_equal(create(m, HOST3D, M, 4096, 0, &h), 0);
	assert_int_equal(ledger(m).context, 1);
	assert_int_equal(map(m, h, 4096, &p), -EINVAL);
	/* GUEST blobs are fine in any context. */
	assert_int_equal(create(m, GUEST, M, 4096, 0, &g), 0);
	assert_int_equal(map(m, g, 4096, &p), 0);
	assert_int_equal(unmap(m, g, p, 4096), 0);
	assert_int_equal(gem_close(m, h), 0);
	assert_int_equal(gem_close(m, g), 0);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Context loss.
 */

static void check_lost(struct vgalloc_mock *m)
{
	uint64_t v, hh, t;
	uint8_t buf[16];
	uint32_t h;
	void *p;

	assert_int_equal(ledger(m).context_lost, 1);
	assert_int_equal(ops(m)->get_param(be(m), VGALLOC_PARAM_3D_FEATURES, &v), -EIO);
	assert_int_equal(ops(m)->get_capset(be(m), VGALLOC_CAPSET_VENUS, 0, buf, 16), -EIO);
	assert_int_equal(create(m, GUEST, M, 4096, 0, &h), -EIO);
	assert_int_equal(map(m, 1, 4096, &p), -EIO);
	assert_int_equal(vgalloc_mock_host_alloc(m, 50, 4096, &hh, &t, NULL), -EIO);
	assert_int_equal(vgalloc_mock_host_wait(m, 0), -EIO);
	assert_int_equal(vgalloc_mock_host_roundtrip(m), -EIO);
	assert_int_equal(vgalloc_mock_host_import(m, 1, 4096, 0, &hh, &t), -EIO);
}

static void mock__host_import_unknown_res_id_loses_context(void **state)
{
	struct vgalloc_mock *m = mock_new(VGALLOC_MOCK_PROFILE_STATIC, 0);
	struct vgalloc_backend_blob_info info;
	uint64_t hh, t;
	uint32_t h;
	void *p;

	(void)state;
	venus(m);
	assert_int_equal(create(m, GUEST, M, 4096, 0, &h), 0);
	assert_int_equal(map(m, h, 4096, &p), 0);
	assert_int_equal(vgalloc_mock_host_roundtrip(m), 0);
	assert_int_equal(vgalloc_mock_host_import(m, 99, 4096, 0, &hh, &t), -EIO);
	check_lost(m);
	/* Cleanup still works. */
	assert_int_equal(ops(m)->blob_info(be(m), h, &info), 0);
	assert_int_equal(unmap(m, h, p, 4096), 0);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 0);
}

static void mock__host_import_unseen_res_id_loses_context(void **state)
{
	struct vgalloc_mock *m = mock_new(VGALLOC_MOCK_PROFILE_STATIC, 0);
	uint32_t h1, r1, h2, r2;
	uint64_t hh, t;

	(void)state;
	venus(m);
	assert_int_equal(create_full(m, HOST3D, M, 4096, 3, NULL, 0, &h1, &r1), 0);
	assert_int_equal(vgalloc_mock_host_roundtrip(m), 0);
	assert_int_equal(create_full(m, HOST3D, M, 4096, 4, NULL, 0, &h2, &r2), 0);
	assert_int_equal(vgalloc_mock_host_import(m, r1, 4096, 3, &hh, &t), 0);
	assert_int_equal(vgalloc_mock_host_wait(m, t), 0);
	assert_int_equal(vgalloc_mock_host_import(m, r2, 4096, 4, &hh, &t), -EIO);
	check_lost(m);
	assert_int_equal(gem_close(m, h1), 0);
	assert_int_equal(gem_close(m, h2), 0);
	vgalloc_mock_host_free(m, 1);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * MAP, unmap, GEM close, WAIT, RESOURCE_INFO.
 */

static void mock__blob_map_rules(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h, plain;
	void *a, *b;

	(void)state;
	assert_int_equal(create(m, GUEST, M, 8192, 0, &h), 0);
	assert_int_equal(create(m, GUEST, 0, 8192, 0, &plain), 0);
	assert_int_equal(map(m, 42, 8192, &a), -ENOENT);
	assert_int_equal(map(m, plain, 8192, &a), -EINVAL);
	assert_int_equal(map(m, h, 4096, &a), -EINVAL);
	assert_int_equal(map(m, h, 8192, &a), 0);
	assert_int_equal(map(m, h, 8192, &b), 0);
	assert_ptr_not_equal(a, b);
	memcpy(a, "shared", 7);
	assert_string_equal((char *)b, "shared");
	assert_int_equal(ledger(m).mapped_blobs, 1);
	assert_int_equal(unmap(m, h, a, 4096), -EINVAL);
	assert_int_equal(unmap(m, h, (char *)a + 4096, 8192), -EINVAL);
	assert_int_equal(unmap(m, 42, a, 8192), -EINVAL);
	assert_int_equal(unmap(m, h, a, 8192), 0);
	assert_int_equal(unmap(m, h, a, 8192), -EINVAL);
	assert_int_equal(ledger(m).mapped_blobs, 1);
	assert_int_equal(unmap(m, h, b, 8192), 0);
	assert_int_equal(ledger(m).mapped_blobs, 0);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_BLOB_MAP], 5);
	assert_int_equal(gem_close(m, h), 0);
	assert_int_equal(gem_close(m, plain), 0);
	finish(m, 0);
}

static void mock__blob_destroy_second_close_einval(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h;

	(void)state;
	assert_int_equal(create(m, GUEST, 0, 4096, 0, &h), 0);
	assert_int_equal(gem_close(m, h), 0);
	assert_int_equal(gem_close(m, h), -EINVAL);
	assert_int_equal(gem_close(m, 0), -EINVAL);
	assert_int_equal(vgalloc_mock_gem_close(m, 1000), -EINVAL);
	finish(m, 0);
}

static void mock__blob_destroy_while_mapped_counts_violation(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h;
	void *p;

	(void)state;
	assert_int_equal(create(m, GUEST, M, 4096, 0, &h), 0);
	assert_int_equal(map(m, h, 4096, &p), 0);
	assert_int_equal(gem_close(m, h), 0);
	assert_int_equal(ledger(m).mapped_blobs, 0);
	finish(m, 1);
}

/* Backend ABI 2 has no wait op: VGALLOC_MOCK_CALL_WAIT keeps its number and name (the enum is
 * public), and nothing a blob goes through counts it. */
static void mock__wait_kind_kept_but_never_counted(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_backend_blob_info info;
	uint32_t h, again = 0;
	void *p;
	int fd = -1;

	(void)state;
	assert_int_equal(VGALLOC_MOCK_CALL_WAIT, 10);
	assert_string_equal(vgalloc_mock_call_name(VGALLOC_MOCK_CALL_WAIT), "wait");
	assert_int_equal(create(m, GUEST, M | S, 4096, 0, &h), 0);
	assert_int_equal(map(m, h, 4096, &p), 0);
	assert_int_equal(ops(m)->blob_export(be(m), h, EXPORT_RW, &fd), 0);
	assert_int_equal(ops(m)->blob_import(be(m), fd, &again), 0);
	assert_int_equal(again, h);
	assert_int_equal(ops(m)->blob_info(be(m), h, &info), 0);
	close(fd);
	assert_int_equal(unmap(m, h, p, 4096), 0);
	assert_int_equal(gem_close(m, h), 0);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_WAIT], 0);
	finish(m, 0);
}

static void mock__blob_info_u32_size_like_the_uapi(void **state)
{
	struct vgalloc_mock *m = mock_new(0, VGALLOC_MOCK_COUNTING_ONLY);
	struct vgalloc_backend_blob_info info = { 0 };
	uint32_t h, r;

	(void)state;
	assert_int_equal(create_full(m, GUEST, M, 5 * 1024 * MIB, 0, NULL, 0, &h, &r), 0);
	assert_int_equal(ops(m)->blob_info(be(m), h, &info), 0);
	assert_int_equal(info.res_id, r);
	assert_int_equal(info.size, 1024 * MIB);
	assert_int_equal(info.blob_mem, GUEST);
	assert_int_equal(ops(m)->blob_info(be(m), h + 1, &info), -ENOENT);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * PRIME export and import.
 */

static void mock__blob_export_fd_mmap_shows_blob_bytes(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h;
	void *p, *q;
	int fd = -1;

	(void)state;
	venus(m);
	assert_int_equal(create(m, GUEST, M | S, 8192, 0, &h), 0);
	assert_int_equal(map(m, h, 8192, &p), 0);
	memset(p, 0x3c, 8192);
	assert_int_equal(ops(m)->blob_export(be(m), h, EXPORT_RW, &fd), 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(q != MAP_FAILED);
	assert_memory_equal(p, q, 8192);
	((uint8_t *)q)[100] = 0x11;
	assert_int_equal(((uint8_t *)p)[100], 0x11);
	munmap(q, 8192);
	close(fd);
	assert_int_equal(unmap(m, h, p, 8192), 0);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 0);
}

static void mock__blob_export_rdonly_cannot_map_writable(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h;
	void *q;
	int fd = -1;

	(void)state;
	assert_int_equal(create(m, GUEST, M | S, 4096, 0, &h), 0);
	assert_int_equal(ops(m)->blob_export(be(m), h, 0, &fd), 0);
	assert_false(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(q == MAP_FAILED);
	q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(q != MAP_FAILED);
	munmap(q, 4096);
	close(fd);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 0);
}

static void mock__blob_export_bad_flags_and_handle(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h;
	int fd = -7;

	(void)state;
	assert_int_equal(create(m, GUEST, S, 4096, 0, &h), 0);
	assert_int_equal(ops(m)->blob_export(be(m), h, EXPORT_RW | 1, &fd), -EINVAL);
	assert_int_equal(ops(m)->blob_export(be(m), h + 1, EXPORT_RW, &fd), -ENOENT);
	assert_int_equal(fd, -7);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 0);
}

static void mock__blob_import_exported_fd_gives_same_handle(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h, again = 0;
	int fd;

	(void)state;
	assert_int_equal(create(m, GUEST, M | S, 4096, 0, &h), 0);
	assert_int_equal(ops(m)->blob_export(be(m), h, EXPORT_RW, &fd), 0);
	assert_int_equal(ops(m)->blob_import(be(m), fd, &again), 0);
	assert_int_equal(again, h);
	assert_int_equal(ledger(m).live_handles, 1);
	close(fd);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 0);
}

static void mock__blob_import_after_close_fd_keeps_resource(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_backend_blob_info info;
	struct vgalloc_mock_ledger l;
	uint32_t h, r, again = 0;
	int fd;

	(void)state;
	venus(m);
	assert_int_equal(create_full(m, HOST3D, M, 4096, 0, NULL, 0, &h, &r), 0);
	assert_int_equal(ops(m)->blob_export(be(m), h, EXPORT_RW, &fd), 0);
	assert_int_equal(gem_close(m, h), 0);
	/* The dma-buf holds the object: still alive, still holding its window range. */
	l = ledger(m);
	assert_int_equal(l.live_handles, 0);
	assert_int_equal(l.live_blobs, 1);
	assert_int_equal(l.window_bytes, 4096);
	assert_int_equal(l.open_fds, 2);
	assert_int_equal(ops(m)->blob_import(be(m), fd, &again), 0);
	assert_int_equal(ops(m)->blob_info(be(m), again, &info), 0);
	assert_int_equal(info.res_id, r);
	assert_int_equal(gem_close(m, again), 0);
	close(fd);
	finish(m, 0);
}

static void mock__blob_import_foreign_fd_einval(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_mock *other = mock_new(0, 0);
	int foreign = memfd_create("not-a-blob", MFD_CLOEXEC);
	uint32_t h = 0, oh;
	int fd;

	(void)state;
	assert_true(foreign >= 0);
	assert_int_equal(ops(m)->blob_import(be(m), foreign, &h), -EINVAL);
	assert_int_equal(ops(m)->blob_import(be(m), vgalloc_mock_get_fd(m), &h), -EINVAL);
	/* A blob of another mock is another device's dma-buf. */
	assert_int_equal(create(other, GUEST, S, 4096, 0, &oh), 0);
	assert_int_equal(ops(other)->blob_export(be(other), oh, EXPORT_RW, &fd), 0);
	assert_int_equal(ops(m)->blob_import(be(m), fd, &h), -EINVAL);
	assert_int_equal(h, 0);
	close(fd);
	close(foreign);
	assert_int_equal(gem_close(other, oh), 0);
	finish(other, 0);
	finish(m, 0);
}

static void mock__blob_import_closed_fd_ebadf(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	int fd = memfd_create("closed", MFD_CLOEXEC);
	uint32_t h = 0;

	(void)state;
	close(fd);
	assert_int_equal(ops(m)->blob_import(be(m), fd, &h), -EBADF);
	assert_int_equal(ops(m)->blob_import(be(m), -1, &h), -EBADF);
	assert_int_equal(ledger(m).context, 0);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Fds: the ledger's count and the process' table.
 */

static void mock__ledger_open_fds_drop_when_export_closed(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h;
	int a, b;

	(void)state;
	assert_int_equal(create(m, GUEST, S, 4096, 0, &h), 0);
	assert_int_equal(ledger(m).open_fds, 1); /* the resource's memfd */
	assert_int_equal(ops(m)->blob_export(be(m), h, EXPORT_RW, &a), 0);
	assert_int_equal(ops(m)->blob_export(be(m), h, EXPORT_RW, &b), 0);
	assert_int_equal(ledger(m).open_fds, 3);
	close(a);
	assert_int_equal(ledger(m).open_fds, 2);
	close(b);
	assert_int_equal(ledger(m).open_fds, 1);
	assert_int_equal(gem_close(m, h), 0);
	finish(m, 0);
}

static void mock__destroy_proc_fd_count_unchanged(void **state)
{
	int before = count_fds();
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h[4];
	void *p;
	int fd;

	(void)state;
	venus(m);
	assert_int_equal(create(m, GUEST, M | S, 4096, 0, &h[0]), 0);
	assert_int_equal(create(m, HOST3D, M, 4096, 0, &h[1]), 0);
	assert_int_equal(create(m, GUEST, 0, 4096, 0, &h[2]), 0);
	assert_int_equal(map(m, h[1], 4096, &p), 0);
	assert_int_equal(ops(m)->blob_export(be(m), h[0], EXPORT_RW, &fd), 0);
	close(fd);
	assert_true(count_fds() > before);
	/* Left alive on purpose: destroy must release memfds and mappings itself. */
	assert_int_equal(ledger(m).open_fds, 3);
	assert_int_equal(ledger(m).mapped_blobs, 1);
	vgalloc_mock_destroy(m);
	assert_int_equal(count_fds(), before);
}

/* ---------------------------------------------------------------------------------------------
 * Fault injection.
 */

static void mock__fault_nth_call_fails_state_unchanged(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_mock_trace_entry e;
	struct vgalloc_mock_ledger l;
	uint32_t h1, h2 = 0, r2 = 0, h3, r3;

	(void)state;
	assert_int_equal(vgalloc_mock_fail_nth(m, VGALLOC_MOCK_CALL_BLOB_CREATE, 2, ENOMEM), 0);
	assert_int_equal(create(m, GUEST, 0, 4096, 0, &h1), 0);
	assert_false(vgalloc_mock_fail_fired(m));
	assert_int_equal(create_full(m, GUEST, 0, 4096, 0, NULL, 0, &h2, &r2), -ENOMEM);
	assert_true(vgalloc_mock_fail_fired(m));
	e = last_entry(m);
	assert_int_equal(e.call, VGALLOC_MOCK_CALL_BLOB_CREATE);
	assert_int_equal(e.result, -ENOMEM);
	l = ledger(m);
	assert_int_equal(l.live_blobs, 1);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_BLOB_CREATE], 2);
	/* Fires once, and consumed no handle or resource id. */
	assert_int_equal(create_full(m, GUEST, 0, 4096, 0, NULL, 0, &h3, &r3), 0);
	assert_int_equal(h3, 2);
	assert_int_equal(r3, 2);
	assert_int_equal(gem_close(m, h1), 0);
	assert_int_equal(gem_close(m, h3), 0);
	finish(m, 0);
}

static void mock__fault_any_kind_skips_unfailable_calls(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint64_t v = 0xdead, hh, t;
	uint32_t h;

	(void)state;
	assert_int_equal(vgalloc_mock_fail_nth(m, VGALLOC_MOCK_CALL_BLOB_UNMAP, 1, EIO), -EINVAL);
	assert_int_equal(vgalloc_mock_fail_nth(m, VGALLOC_MOCK_CALL_HOST_FREE, 1, EIO), -EINVAL);
	assert_int_equal(vgalloc_mock_fail_nth(m, VGALLOC_MOCK_CALL_ANY, 0, EIO), -EINVAL);
	assert_int_equal(vgalloc_mock_fail_nth(m, VGALLOC_MOCK_CALL_ANY, 1, 0), -EINVAL);
	assert_int_equal(vgalloc_mock_fail_nth(m, 200, 1, EIO), -EINVAL);
	assert_int_equal(create(m, GUEST, 0, 4096, 0, &h), 0);
	vgalloc_mock_reset_counters(m);
	assert_int_equal(vgalloc_mock_fail_nth(m, VGALLOC_MOCK_CALL_ANY, 2, EAGAIN), 0);
	assert_int_equal(gem_close(m, h), 0); /* not failable: not counted */
	assert_int_equal(ops(m)->get_param(be(m), VGALLOC_PARAM_3D_FEATURES, &v), 0);
	assert_int_equal(vgalloc_mock_host_alloc(m, 3, 4096, &hh, &t, NULL), -EAGAIN);
	assert_int_equal(ledger(m).host_allocs, 0);
	assert_int_equal(vgalloc_mock_host_alloc(m, 3, 4096, &hh, &t, NULL), 0);
	assert_int_equal(t, 0); /* the failed call took no token */
	assert_int_equal(ledger(m).failable_calls, 3);
	assert_int_equal(vgalloc_mock_host_wait(m, t), 0);
	vgalloc_mock_host_free(m, hh);
	vgalloc_mock_fail_clear(m);
	assert_false(vgalloc_mock_fail_fired(m));
	finish(m, 0);
}

static void mock__fault_get_param_leaves_value_alone(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint64_t v = 0xdead;

	(void)state;
	assert_int_equal(vgalloc_mock_fail_nth(m, VGALLOC_MOCK_CALL_GET_PARAM, 1, EINTR), 0);
	assert_int_equal(ops(m)->get_param(be(m), VGALLOC_PARAM_3D_FEATURES, &v), -EINTR);
	assert_int_equal(v, 0xdead);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Counting-only mode and the cost model.
 */

static void mock__counting_only_fake_pointers_no_fds(void **state)
{
	int before = count_fds();
	struct vgalloc_mock *m = mock_new(0, VGALLOC_MOCK_COUNTING_ONLY);
	uint32_t h[16], imported;
	void *p[16];
	int fd;

	(void)state;
	venus(m);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(create(m, HOST3D, M, 64 * KIB, 0, &h[i]), 0);
		assert_int_equal(map(m, h[i], 64 * KIB, &p[i]), 0);
		assert_non_null(p[i]);
		for (int j = 0; j < i; j++) {
			assert_ptr_not_equal(p[i], p[j]);
		}
	}
	assert_int_equal(count_fds(), before + 1); /* only the DRM stand-in */
	assert_int_equal(ledger(m).open_fds, 0);
	assert_int_equal(ledger(m).window_bytes, 16 * 64 * KIB);
	/* Export still hands out a real (empty) fd that imports back. */
	assert_int_equal(ops(m)->blob_export(be(m), h[3], EXPORT_RW, &fd), 0);
	assert_int_equal(ledger(m).open_fds, 2);
	assert_int_equal(ops(m)->blob_import(be(m), fd, &imported), 0);
	assert_int_equal(imported, h[3]);
	close(fd);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(unmap(m, h[i], p[i], 64 * KIB), 0);
		assert_int_equal(gem_close(m, h[i]), 0);
	}
	finish(m, 0);
	assert_int_equal(count_fds(), before);
}

static struct vgalloc_mock *mock_cost(uint32_t preset, const struct vgalloc_mock_cost *cost)
{
	const struct vgalloc_mock_create_info info = {
		.struct_size = sizeof(info),
		.cost_preset = preset,
		.cost = cost,
	};

	return mock_with(&info);
}

/* One host-first cycle: the calls whose costs the presets are about. */
static void cost_cycle(struct vgalloc_mock *m)
{
	uint64_t hh;
	uint32_t h, g;
	void *p, *q;

	h = host_first_blob(m, 11, 64 * KIB, true, &hh); /* alloc + wait + create */
	assert_int_equal(map(m, h, 64 * KIB, &p), 0);    /* first map */
	assert_int_equal(map(m, h, 64 * KIB, &q), 0);    /* later map: an ioctl */
	assert_int_equal(unmap(m, h, q, 64 * KIB), 0);
	assert_int_equal(unmap(m, h, p, 64 * KIB), 0);
	assert_int_equal(gem_close(m, h), 0); /* host unmaps: destroy */
	vgalloc_mock_host_free(m, hh);
	assert_int_equal(create(m, GUEST, 0, 4096, 0, &g), 0);
	assert_int_equal(gem_close(m, g), 0); /* never mapped: an ioctl */
}

static void mock__cost_model_presets_are_computed(void **state)
{
	const uint64_t us = 1000;
	struct vgalloc_mock *m = mock_cost(VGALLOC_MOCK_COST_QEMU_TCG, NULL);

	(void)state;
	venus(m);
	vgalloc_mock_reset_counters(m);
	cost_cycle(m);
	/* host: 3 × 50 µs; creates 2 × 100 µs; map 1 ms; map, 2 unmaps, close: 4 × 10 µs;
	 * destroy of a mapped blob 100 ms. */
	assert_int_equal(ledger(m).modeled_ns,
	                 150 * us + 200 * us + 1000 * us + 40 * us + 100000 * us);
	finish(m, 0);

	m = mock_cost(VGALLOC_MOCK_COST_MEMFD_FLOOR, NULL);
	venus(m);
	assert_int_equal(ledger(m).modeled_ns, 20 * us);
	vgalloc_mock_reset_counters(m);
	cost_cycle(m);
	assert_int_equal(ledger(m).modeled_ns, 11 * 20 * us);
	finish(m, 0);

	m = mock_cost(VGALLOC_MOCK_COST_NONE, NULL);
	venus(m);
	cost_cycle(m);
	assert_int_equal(ledger(m).modeled_ns, 0);
	finish(m, 0);
}

static void mock__cost_model_custom_window_cost(void **state)
{
	const struct vgalloc_mock_cost cost = { .create_ns = 7, .window_ns = 1000 };
	struct vgalloc_mock *m = mock_cost(VGALLOC_MOCK_COST_QEMU_TCG, &cost);
	uint32_t a, b;

	(void)state;
	venus(m);
	assert_int_equal(create(m, HOST3D, M, 4096, 0, &a), 0); /* window */
	assert_int_equal(create(m, GUEST, M, 4096, 0, &b), 0);  /* no window */
	assert_int_equal(ledger(m).modeled_ns, 1007 + 7);
	assert_int_equal(gem_close(m, a), 0);
	assert_int_equal(gem_close(m, b), 0);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Trace, ledger, counters.
 */

static void mock__trace_records_fields_and_formats(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_mock_trace_entry e[8];
	char line[256];
	uint32_t h, r;
	int n;

	(void)state;
	venus(m);
	vgalloc_mock_reset_counters(m);
	assert_int_equal(create_full(m, HOST3D, M | S, 64 * KIB, 0, NULL, 0, &h, &r), 0);
	assert_int_equal(gem_close(m, h), 0);
	assert_int_equal(gem_close(m, h), -EINVAL);
	n = vgalloc_mock_get_trace(m, e, 8);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].call, VGALLOC_MOCK_CALL_BLOB_CREATE);
	assert_int_equal(e[0].blob_mem, HOST3D);
	assert_int_equal(e[0].blob_flags, M | S);
	assert_int_equal(e[0].size, 64 * KIB);
	assert_int_equal(e[0].handle, h);
	assert_int_equal(e[0].res_id, r);
	assert_int_equal(e[1].call, VGALLOC_MOCK_CALL_BLOB_DESTROY);
	assert_int_equal(e[2].result, -EINVAL);
	vgalloc_mock_format_entry(&e[0], line, sizeof(line));
	assert_string_equal(line, "blob_create(mem=HOST3D flags=MAPPABLE|SHAREABLE id=0 "
	                          "size=65536 cmd=0) = 0 [handle 1 res 1]");
	vgalloc_mock_format_entry(&e[2], line, sizeof(line));
	assert_non_null(strstr(line, "blob_destroy(handle=1) = -22"));
	assert_true(vgalloc_mock_format_entry(&e[0], NULL, 0) > 0);
	assert_int_equal(vgalloc_mock_format_entry(NULL, line, sizeof(line)), -EINVAL);
	assert_int_equal(vgalloc_mock_get_trace(m, NULL, 8), -EINVAL);
	assert_int_equal(vgalloc_mock_get_trace(m, e, 1), 1);
	assert_int_equal(e[0].call, VGALLOC_MOCK_CALL_BLOB_CREATE); /* oldest first */
	finish(m, 0);
}

static void mock__trace_ring_keeps_last_4096(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	static struct vgalloc_mock_trace_entry e[5000];
	uint64_t v;
	int n;

	(void)state;
	for (uint64_t i = 0; i < 5000; i++) {
		ops(m)->get_param(be(m), 100 + i, &v);
	}
	n = vgalloc_mock_get_trace(m, e, 5000);
	assert_int_equal(n, 4096);
	assert_int_equal(e[0].blob_id, 100 + 5000 - 4096);
	assert_int_equal(e[4095].blob_id, 100 + 4999);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_GET_PARAM], 5000);
	vgalloc_mock_reset_counters(m);
	assert_int_equal(vgalloc_mock_get_trace(m, e, 5000), 0);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_GET_PARAM], 0);
	finish(m, 0);
}

static void mock__ledger_struct_size_rules(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_mock_ledger l = { .struct_size = 8 };

	(void)state;
	assert_int_equal(vgalloc_mock_get_ledger(m, &l), -EINVAL);
	assert_int_equal(vgalloc_mock_get_ledger(m, NULL), -EINVAL);
	assert_int_equal(vgalloc_mock_get_ledger(NULL, &l), -EINVAL);
	l.struct_size = sizeof(l);
	assert_int_equal(vgalloc_mock_get_ledger(m, &l), 0);
	assert_int_equal(l.struct_size, sizeof(l));
	finish(m, 0);
}

static void mock__consumer_calls_share_rules_and_ledger(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint32_t h, r;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mock_context_init(NULL, 4), -EINVAL);
	assert_int_equal(vgalloc_mock_context_init(m, VGALLOC_CAPSET_VENUS), 0);
	assert_int_equal(vgalloc_mock_blob_create(m, HOST3D, M, 4096, 0, &h, &r), 0);
	assert_int_equal(vgalloc_mock_blob_create(m, GUEST, M, 4096, 1, &h, &r), -EINVAL);
	assert_int_equal(map(m, h, 4096, &p), 0);
	assert_int_equal(unmap(m, h, p, 4096), 0);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_BLOB_CREATE], 2);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_CONTEXT_INIT], 1);
	assert_int_equal(vgalloc_mock_gem_close(m, h), 0);
	assert_int_equal(vgalloc_mock_gem_close(m, h), -EINVAL);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_BLOB_DESTROY], 2);
	finish(m, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Host side and hooks.
 */

static void mock__host_alloc_argument_rules(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint64_t hh, hh2, t, t2, id = 0;

	(void)state;
	assert_int_equal(vgalloc_mock_host_alloc(m, 0, 4096, &hh, &t, NULL), -EINVAL);
	assert_int_equal(vgalloc_mock_host_alloc(m, 5, 0, &hh, &t, NULL), -EINVAL);
	assert_int_equal(vgalloc_mock_host_wait(m, 0), -EINVAL); /* nothing queued yet */
	assert_int_equal(vgalloc_mock_host_alloc(m, 5, 4096, &hh, &t, &id), 0);
	assert_int_equal(hh, 1);
	assert_int_equal(t, 0); /* tokens count from 0, as a Venus ring's seqnos do */
	assert_int_equal(id, 5);
	/* The id is in use; the token after it is unknown. */
	assert_int_equal(vgalloc_mock_host_alloc(m, 5, 4096, &hh2, &t2, NULL), -EINVAL);
	assert_int_equal(vgalloc_mock_host_wait(m, t + 1), -EINVAL);
	assert_int_equal(ledger(m).pending_tokens, 1);
	/* Token 0 is a token like any other: waiting on it processes the allocation. */
	assert_int_equal(vgalloc_mock_host_wait(m, 0), 0);
	assert_int_equal(ledger(m).pending_tokens, 0);
	assert_int_equal(vgalloc_mock_host_wait(m, t), 0); /* again: nothing left to do */
	vgalloc_mock_host_free(m, hh);
	assert_int_equal(vgalloc_mock_host_alloc(m, 5, 4096, &hh2, &t2, NULL), 0);
	assert_int_equal(hh2, 2);
	assert_int_equal(t2, 1);
	assert_int_equal(vgalloc_mock_host_wait(m, t2), 0);
	vgalloc_mock_host_free(m, hh2);
	finish(m, 0);
}

static void mock__host_free_order_violations(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	uint64_t hh, t;
	uint32_t h;
	void *p;

	(void)state;
	venus(m);
	/* Freed while its token is pending. */
	assert_int_equal(vgalloc_mock_host_alloc(m, 1, 4096, &hh, &t, NULL), 0);
	vgalloc_mock_host_free(m, hh);
	assert_int_equal(ledger(m).order_violations, 1);
	assert_int_equal(ledger(m).pending_tokens, 0);
	/* Freed while its blob still has a handle. */
	h = host_first_blob(m, 2, 4096, true, &hh);
	assert_int_equal(vgalloc_mock_host_roundtrip(m), 0);
	vgalloc_mock_host_free(m, hh);
	assert_int_equal(ledger(m).order_violations, 2);
	assert_int_equal(gem_close(m, h), 0);
	/* Unknown handle, freed twice. */
	vgalloc_mock_host_free(m, hh);
	assert_int_equal(ledger(m).order_violations, 3);
	assert_int_equal(last_entry(m).result, -EINVAL);
	/* Freed before the renderer processed its blob's creation: no round trip and no map reply
	 * since, so the free could overtake it. */
	h = host_first_blob(m, 3, 4096, true, &hh);
	assert_int_equal(gem_close(m, h), 0);
	vgalloc_mock_host_free(m, hh);
	assert_int_equal(ledger(m).order_violations, 4);
	/* A map reply is such a sync point. */
	h = host_first_blob(m, 4, 4096, true, &hh);
	assert_int_equal(map(m, h, 4096, &p), 0);
	assert_int_equal(unmap(m, h, p, 4096), 0);
	assert_int_equal(gem_close(m, h), 0);
	vgalloc_mock_host_free(m, hh);
	assert_int_equal(ledger(m).order_violations, 4);
	finish(m, 4);
}

static void mock__hooks_count_once_and_hand_out_ids(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_host_hooks hooks;
	struct vgalloc_host_alloc_args args = host_args(0, 64 * KIB, 0);
	struct vgalloc_host_result res = host_result();
	struct vgalloc_mock_ledger l;
	uint8_t cmd[VGALLOC_MAX_WAIT_CMD_SIZE];
	uint32_t cmd_size = sizeof(cmd), h;

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(m, 0x80, &hooks), -EINVAL);
	assert_int_equal(vgalloc_mock_get_hooks(m, 0, &hooks), 0);
	assert_int_equal(hooks.struct_size, sizeof(hooks));
	assert_int_equal(hooks.flags, 0); /* a host that is not in order declares nothing */
	assert_ptr_equal(hooks.ctx, m);
	venus(m);
	assert_int_equal(hooks.new_blob_id(hooks.ctx), 1);
	args.blob_id = hooks.new_blob_id(hooks.ctx);
	assert_int_equal(args.blob_id, 2);
	assert_int_equal(hooks.host_alloc(hooks.ctx, NULL, &args, &res), 0);
	assert_int_equal(res.struct_size, sizeof(res)); /* left as the library set it */
	/* The mock's host work is always in flight: the token (0, the first) is pending, and the
	 * host keeps the id it was given. */
	assert_int_equal(res.flags, VGALLOC_HOST_RESULT_PENDING);
	assert_int_equal(res.token, 0);
	assert_int_equal(res.host_handle, 1);
	assert_int_equal(res.blob_id, 0);
	assert_int_equal(ledger(m).pending_tokens, 1);
	/* Without WAIT_CMD the hook blocks even when offered a buffer, and writes no command. */
	assert_int_equal(hooks.host_wait(hooks.ctx, res.token, VGALLOC_WAIT_ORDER, cmd, &cmd_size),
	                 0);
	assert_int_equal(cmd_size, 0);
	assert_int_equal(ledger(m).pending_tokens, 0);
	assert_int_equal(last_entry(m).flags, VGALLOC_WAIT_ORDER); /* the trace keeps the flags */
	assert_int_equal(create(m, HOST3D, M | S, 64 * KIB, args.blob_id, &h), 0);
	assert_int_equal(gem_close(m, h), 0);
	assert_int_equal(hooks.host_roundtrip(hooks.ctx), 0); /* the blob was never mapped */
	hooks.host_free(hooks.ctx, NULL, res.host_handle);
	l = ledger(m);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_NEW_BLOB_ID], 2);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_HOST_ALLOC], 1);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_HOST_WAIT], 1);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_HOST_ROUNDTRIP], 1);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_HOST_FREE], 1);
	/* init, alloc, wait, create, round trip */
	assert_int_equal(l.failable_calls, 1 + 1 + 1 + 1 + 1);
	finish(m, 0);
}

static void mock__hooks_wait_cmd_goes_into_create_blob(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	struct vgalloc_host_hooks hooks;
	struct vgalloc_host_alloc_args args = host_args(0, 64 * KIB, 40);
	struct vgalloc_host_result res = host_result();
	struct vgalloc_mock_trace_entry e;
	uint8_t cmd[VGALLOC_MAX_WAIT_CMD_SIZE];
	uint32_t cmd_size = sizeof(cmd), h;
	char line[128];
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(m, VGALLOC_MOCK_HOOKS_WAIT_CMD, &hooks), 0);
	venus(m);
	assert_int_equal(hooks.host_alloc(hooks.ctx, NULL, &args, &res), 0);
	assert_int_equal(res.flags, VGALLOC_HOST_RESULT_PENDING);
	assert_int_equal(res.token, 0);
	assert_int_equal(hooks.host_wait(hooks.ctx, res.token, VGALLOC_WAIT_ORDER, cmd, &cmd_size),
	                 0);
	assert_int_equal(cmd_size, 16);
	e = last_entry(m);
	assert_int_equal(e.call, VGALLOC_MOCK_CALL_HOST_WAIT);
	assert_int_equal(e.cmd_size, 16);
	assert_int_equal(e.flags, VGALLOC_WAIT_ORDER);
	vgalloc_mock_format_entry(&e, line, sizeof(line));
	assert_string_equal(line, "host_wait(token=0 flags=0x1 cmd=16) = 0");
	assert_int_equal(ledger(m).pending_tokens, 1); /* nothing waited yet */
	assert_int_equal(create_full(m, HOST3D, M, 64 * KIB, 40, cmd, cmd_size, &h, NULL), 0);
	assert_int_equal(ledger(m).pending_tokens, 0); /* the command waited, token 0 included */
	assert_int_equal(map(m, h, 64 * KIB, &p), 0);
	assert_int_equal(unmap(m, h, p, 64 * KIB), 0);
	assert_int_equal(gem_close(m, h), 0);
	hooks.host_free(hooks.ctx, NULL, res.host_handle);
	/* With cmd NULL the hook must block: the host has processed the token when it returns. */
	args.blob_id = 41;
	res = host_result();
	assert_int_equal(hooks.host_alloc(hooks.ctx, NULL, &args, &res), 0);
	assert_int_equal(res.token, 1);
	assert_int_equal(ledger(m).pending_tokens, 1);
	assert_int_equal(hooks.host_wait(hooks.ctx, res.token, 0, NULL, NULL), 0);
	assert_int_equal(ledger(m).pending_tokens, 0);
	e = last_entry(m);
	vgalloc_mock_format_entry(&e, line, sizeof(line));
	assert_string_equal(line, "host_wait(token=1 flags=0x0 cmd=0) = 0");
	hooks.host_free(hooks.ctx, NULL, res.host_handle);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_HOST_WAIT], 2);
	finish(m, 0);
}

static void mock__hooks_guest_first_flow(void **state)
{
	struct vgalloc_mock *m = mock_new(VGALLOC_MOCK_PROFILE_STATIC, 0);
	struct vgalloc_host_hooks hooks;
	struct vgalloc_host_alloc_args args;
	struct vgalloc_host_result res = host_result();
	uint64_t id;
	uint32_t h, r;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(m, 0, &hooks), 0);
	venus(m);
	id = hooks.new_blob_id(hooks.ctx);
	assert_int_equal(create_full(m, HOST3D, M, 64 * KIB, id, NULL, 0, &h, &r), 0);
	assert_int_equal(hooks.host_roundtrip(hooks.ctx), 0);
	args = host_args(r, 64 * KIB, id);
	assert_int_equal(hooks.host_import(hooks.ctx, NULL, &args, &res), 0);
	assert_int_equal(res.flags, VGALLOC_HOST_RESULT_PENDING); /* an import names no blob id */
	assert_int_equal(res.token, 0);
	assert_int_equal(hooks.host_wait(hooks.ctx, res.token, 0, NULL, NULL), 0);
	assert_int_equal(ledger(m).pending_tokens, 0);
	assert_int_equal(map(m, h, 64 * KIB, &p), 0);
	assert_int_equal(unmap(m, h, p, 64 * KIB), 0);
	assert_int_equal(gem_close(m, h), 0);
	hooks.host_free(hooks.ctx, NULL, res.host_handle);
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_HOST_IMPORT], 1);
	finish(m, 0);
}

/* host_import imports the bytes the request imports (requested_size), not the blob's size. */
static void mock__hooks_import_takes_requested_size(void **state)
{
	struct vgalloc_mock *m = mock_new(VGALLOC_MOCK_PROFILE_STATIC, 0);
	struct vgalloc_host_hooks hooks;
	struct vgalloc_host_alloc_args args;
	struct vgalloc_host_result res = host_result();
	struct vgalloc_mock_trace_entry e;
	uint32_t h, r;

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(m, 0, &hooks), 0);
	venus(m);
	assert_int_equal(create_full(m, HOST3D, M, 64 * KIB, 9, NULL, 0, &h, &r), 0);
	assert_int_equal(hooks.host_roundtrip(hooks.ctx), 0);
	args = host_args(r, 64 * KIB, 9);
	args.requested_size = 16 * KIB;
	assert_int_equal(hooks.host_import(hooks.ctx, NULL, &args, &res), 0);
	e = last_entry(m);
	assert_int_equal(e.call, VGALLOC_MOCK_CALL_HOST_IMPORT);
	assert_int_equal(e.res_id, r);
	assert_int_equal(e.blob_id, 9);
	assert_int_equal(e.size, 16 * KIB);
	assert_int_equal(hooks.host_wait(hooks.ctx, res.token, 0, NULL, NULL), 0);
	assert_int_equal(gem_close(m, h), 0);
	hooks.host_free(hooks.ctx, NULL, res.host_handle);
	finish(m, 0);
}

/* An in-order host (a Venus ring): a free runs after the allocation it frees, a round trip
 * processes everything queued before it, and the hooks table declares it. */
static void mock__in_order_host_frees_and_round_trips_in_order(void **state)
{
	struct vgalloc_mock *m = mock_new(0, VGALLOC_MOCK_IN_ORDER);
	struct vgalloc_host_hooks hooks;
	uint64_t hh, hh2, t, t2;
	uint32_t h;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(m, 0, &hooks), 0);
	assert_int_equal(hooks.flags, VGALLOC_HOOKS_IN_ORDER);
	venus(m);
	/* Freed before anyone waited for it: on one queue that is no violation. */
	assert_int_equal(vgalloc_mock_host_alloc(m, 1, 4096, &hh, &t, NULL), 0);
	assert_int_equal(ledger(m).pending_tokens, 1);
	vgalloc_mock_host_free(m, hh);
	assert_int_equal(ledger(m).pending_tokens, 0);
	assert_int_equal(ledger(m).order_violations, 0);
	/* A round trip processes the whole queue: a blob made after it maps. */
	assert_int_equal(vgalloc_mock_host_alloc(m, 2, 4096, &hh, &t, NULL), 0);
	assert_int_equal(vgalloc_mock_host_alloc(m, 3, 4096, &hh2, &t2, NULL), 0);
	assert_int_equal(t, 1);
	assert_int_equal(t2, 2);
	assert_int_equal(ledger(m).pending_tokens, 2);
	assert_int_equal(hooks.host_roundtrip(hooks.ctx), 0);
	assert_int_equal(ledger(m).pending_tokens, 0);
	assert_int_equal(create(m, HOST3D, M | S, 4096, 3, &h), 0);
	assert_int_equal(map(m, h, 4096, &p), 0);
	assert_int_equal(unmap(m, h, p, 4096), 0);
	assert_int_equal(gem_close(m, h), 0);
	vgalloc_mock_host_free(m, hh2);
	vgalloc_mock_host_free(m, hh);
	finish(m, 0);

	/* Out of order (the default) the same round trip processes nothing, and the hooks table
	 * declares nothing. */
	m = mock_new(0, 0);
	assert_int_equal(vgalloc_mock_get_hooks(m, 0, &hooks), 0);
	assert_int_equal(hooks.flags, 0);
	venus(m);
	assert_int_equal(vgalloc_mock_host_alloc(m, 2, 4096, &hh, &t, NULL), 0);
	assert_int_equal(hooks.host_roundtrip(hooks.ctx), 0);
	assert_int_equal(ledger(m).pending_tokens, 1);
	assert_int_equal(vgalloc_mock_host_wait(m, t), 0);
	vgalloc_mock_host_free(m, hh);
	finish(m, 0);
}

/* A host that names its allocations: the id it was given is ignored, its own (from 2^40) is
 * returned, and only a blob created with that id finds the allocation. */
static void mock__host_blob_id_host_names_allocations(void **state)
{
	const uint64_t base = 1ull << 40;
	struct vgalloc_mock *m = mock_new(0, VGALLOC_MOCK_HOST_BLOB_ID);
	struct vgalloc_host_hooks hooks;
	struct vgalloc_host_alloc_args args = host_args(0, 64 * KIB, 7);
	struct vgalloc_host_result res = host_result();
	uint64_t hh, t, id = 0;
	uint32_t h;
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(m, 0, &hooks), 0);
	venus(m);
	assert_int_equal(vgalloc_mock_host_alloc(m, 5, 4096, &hh, &t, &id), 0);
	assert_int_equal(id, base);
	assert_int_equal(vgalloc_mock_host_wait(m, t), 0);
	/* The hook reports the host's id with BLOB_ID. */
	assert_int_equal(hooks.host_alloc(hooks.ctx, NULL, &args, &res), 0);
	assert_int_equal(res.flags, VGALLOC_HOST_RESULT_PENDING | VGALLOC_HOST_RESULT_BLOB_ID);
	assert_int_equal(res.blob_id, base + 1);
	assert_int_equal(res.token, 1);
	assert_int_equal(last_entry(m).blob_id, base + 1);
	assert_int_equal(hooks.host_wait(hooks.ctx, res.token, 0, NULL, NULL), 0);
	/* The id the guest proposed names nothing on the host. */
	assert_int_equal(create(m, HOST3D, M | S, 64 * KIB, args.blob_id, &h), 0);
	assert_int_equal(map(m, h, 64 * KIB, &p), -EINVAL);
	assert_int_equal(gem_close(m, h), 0);
	assert_int_equal(ledger(m).order_violations, 1);
	assert_int_equal(create(m, HOST3D, M | S, 64 * KIB, res.blob_id, &h), 0);
	assert_int_equal(map(m, h, 64 * KIB, &p), 0);
	assert_int_equal(unmap(m, h, p, 64 * KIB), 0);
	assert_int_equal(gem_close(m, h), 0);
	hooks.host_free(hooks.ctx, NULL, res.host_handle);
	vgalloc_mock_host_free(m, hh);
	finish(m, 1);
}

/* ---------------------------------------------------------------------------------------------
 * Thread safety.
 */

static void *churn(void *arg)
{
	struct vgalloc_mock *m = arg;

	for (int i = 0; i < 500; i++) {
		uint32_t h;
		void *p;

		if (create(m, GUEST, M, 4096, 0, &h) != 0 || map(m, h, 4096, &p) != 0) {
			return arg;
		}
		*(volatile uint8_t *)p = 1;
		if (unmap(m, h, p, 4096) != 0 || gem_close(m, h) != 0) {
			return arg;
		}
	}
	return NULL;
}

static void mock__two_threads_share_one_mock(void **state)
{
	struct vgalloc_mock *m = mock_new(0, 0);
	pthread_t t[2];
	void *r[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, churn, m), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], &r[i]), 0);
		assert_null(r[i]);
	}
	assert_int_equal(ledger(m).calls[VGALLOC_MOCK_CALL_BLOB_CREATE], 1000);
	finish(m, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mock__create_validates_info),
		cmocka_unit_test(mock__ops_table_and_fd),
		cmocka_unit_test(mock__call_names_and_failable),
		cmocka_unit_test(mock__get_param_defaults),
		cmocka_unit_test(mock__get_param_flags_change_values),
		cmocka_unit_test(mock__get_param_unknown_einval_value_untouched),
		cmocka_unit_test(mock__get_param_blob_alignment_only_when_negotiated),
		cmocka_unit_test(mock__get_capset_venus_layout),
		cmocka_unit_test(mock__get_capset_static_profile_and_flags),
		cmocka_unit_test(mock__get_capset_large_buffer_tail_untouched),
		cmocka_unit_test(mock__get_capset_small_buffer_gets_min_bytes),
		cmocka_unit_test(mock__get_capset_older_host_is_shorter),
		cmocka_unit_test(mock__get_capset_einval_cases),
		cmocka_unit_test(mock__set_capset_adds_replaces_removes),
		cmocka_unit_test(mock__profile_follows_venus_capset),
		cmocka_unit_test(mock__context_init_venus_then_eexist),
		cmocka_unit_test(mock__context_init_count_rules),
		cmocka_unit_test(mock__context_init_param_rules),
		cmocka_unit_test(mock__context_init_poll_mask_within_rings),
		cmocka_unit_test(mock__context_init_feature_off),
		cmocka_unit_test(mock__context_init_after_implicit_context_eexist),
		cmocka_unit_test(mock__context_failed_verify_makes_no_implicit_context),
		cmocka_unit_test(mock__blob_create_einval_without_blob_feature),
		cmocka_unit_test(mock__blob_create_einval_unknown_flags),
		cmocka_unit_test(mock__blob_create_einval_bad_blob_mem),
		cmocka_unit_test(mock__blob_create_einval_guest_with_blob_id),
		cmocka_unit_test(mock__blob_create_einval_guest_with_cmd),
		cmocka_unit_test(mock__blob_create_guest_handle_only_when_negotiated),
		cmocka_unit_test(mock__blob_create_einval_cmd_size_not_dword),
		cmocka_unit_test(mock__blob_create_efault_cmd_null),
		cmocka_unit_test(mock__blob_create_einval_host3d_without_3d),
		cmocka_unit_test(mock__blob_create_cross_device_needs_feature),
		cmocka_unit_test(mock__blob_create_einval_mappable_host3d_without_window),
		cmocka_unit_test(mock__blob_create_einval_size_zero),
		cmocka_unit_test(mock__blob_create_rounds_to_guest_page),
		cmocka_unit_test(mock__blob_create_handles_lowest_free_and_res_ids_increase),
		cmocka_unit_test(mock__window_enospc_then_success_after_close),
		cmocka_unit_test(mock__window_first_fit_coalesces_on_free),
		cmocka_unit_test(mock__window_ranges_aligned_to_host_page),
		cmocka_unit_test(mock__blob_map_host_page_rule_fails_at_mmap),
		cmocka_unit_test(mock__blob_create_blob_alignment_negotiated_rejects_misaligned),
		cmocka_unit_test(mock__host_first_processed_allocation_maps),
		cmocka_unit_test(mock__host_first_unprocessed_id_fails_at_map),
		cmocka_unit_test(mock__host_first_wait_cmd_runs_before_create),
		cmocka_unit_test(mock__host_first_unknown_cmd_bytes_count_violation),
		cmocka_unit_test(mock__host_first_double_export_fails_at_map),
		cmocka_unit_test(mock__host_first_unknown_id_fails_at_map),
		cmocka_unit_test(mock__host_first_static_profile_fails_at_map),
		cmocka_unit_test(mock__guest_first_static_profile_maps_and_imports),
		cmocka_unit_test(mock__guest_first_needs_guest_vram_host),
		cmocka_unit_test(mock__blob_id0_venus_mappable_only),
		cmocka_unit_test(mock__host3d_implicit_context_fails_at_map),
		cmocka_unit_test(mock__host_import_unknown_res_id_loses_context),
		cmocka_unit_test(mock__host_import_unseen_res_id_loses_context),
		cmocka_unit_test(mock__blob_map_rules),
		cmocka_unit_test(mock__blob_destroy_second_close_einval),
		cmocka_unit_test(mock__blob_destroy_while_mapped_counts_violation),
		cmocka_unit_test(mock__wait_kind_kept_but_never_counted),
		cmocka_unit_test(mock__blob_info_u32_size_like_the_uapi),
		cmocka_unit_test(mock__blob_export_fd_mmap_shows_blob_bytes),
		cmocka_unit_test(mock__blob_export_rdonly_cannot_map_writable),
		cmocka_unit_test(mock__blob_export_bad_flags_and_handle),
		cmocka_unit_test(mock__blob_import_exported_fd_gives_same_handle),
		cmocka_unit_test(mock__blob_import_after_close_fd_keeps_resource),
		cmocka_unit_test(mock__blob_import_foreign_fd_einval),
		cmocka_unit_test(mock__blob_import_closed_fd_ebadf),
		cmocka_unit_test(mock__ledger_open_fds_drop_when_export_closed),
		cmocka_unit_test(mock__destroy_proc_fd_count_unchanged),
		cmocka_unit_test(mock__fault_nth_call_fails_state_unchanged),
		cmocka_unit_test(mock__fault_any_kind_skips_unfailable_calls),
		cmocka_unit_test(mock__fault_get_param_leaves_value_alone),
		cmocka_unit_test(mock__counting_only_fake_pointers_no_fds),
		cmocka_unit_test(mock__cost_model_presets_are_computed),
		cmocka_unit_test(mock__cost_model_custom_window_cost),
		cmocka_unit_test(mock__trace_records_fields_and_formats),
		cmocka_unit_test(mock__trace_ring_keeps_last_4096),
		cmocka_unit_test(mock__ledger_struct_size_rules),
		cmocka_unit_test(mock__consumer_calls_share_rules_and_ledger),
		cmocka_unit_test(mock__host_alloc_argument_rules),
		cmocka_unit_test(mock__host_free_order_violations),
		cmocka_unit_test(mock__hooks_count_once_and_hand_out_ids),
		cmocka_unit_test(mock__hooks_wait_cmd_goes_into_create_blob),
		cmocka_unit_test(mock__hooks_guest_first_flow),
		cmocka_unit_test(mock__hooks_import_takes_requested_size),
		cmocka_unit_test(mock__in_order_host_frees_and_round_trips_in_order),
		cmocka_unit_test(mock__host_blob_id_host_names_allocations),
		cmocka_unit_test(mock__two_threads_share_one_mock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
