/* SPDX-License-Identifier: MIT */
/*
 * The mock rows of docs/errors.md (vgalloc_mock.h): every consumer and host call of the mock.
 * Each row of their case tables is a case here that makes that bad call on a fresh fixture
 * (errcase.h), and each case is a row of this section, so neither can drift; every case must
 * also change nothing (out parameters, the mock's ledger, the device's stats, no leak at
 * teardown). A row of a pure call that another test already makes exactly, checking as much,
 * is a PROVEN_BY entry naming that test, which must exist.
 * Covers: vgalloc_mock_create, vgalloc_mock_destroy, vgalloc_mock_call_name,
 * vgalloc_mock_call_failable, vgalloc_mock_get_ledger, vgalloc_mock_reset_counters,
 * vgalloc_mock_get_trace, vgalloc_mock_format_entry, vgalloc_mock_fail_nth,
 * vgalloc_mock_fail_clear, vgalloc_mock_fail_fired, vgalloc_mock_set_capset, vgalloc_mock_get_fd,
 * vgalloc_mock_context_init, vgalloc_mock_blob_create, vgalloc_mock_gem_close,
 * vgalloc_mock_host_alloc, vgalloc_mock_host_wait, vgalloc_mock_host_wait_cmd,
 * vgalloc_mock_host_roundtrip, vgalloc_mock_host_import, vgalloc_mock_host_free,
 * vgalloc_mock_get_hooks.
 */
#include "errcase.h"

/* ---------------------------------------------------------------------------------------------
 * Runners: a valid input with the case's pokes applied.
 */

static void mock_create__with(struct ctx *c)
{
	struct {
		struct vgalloc_mock_create_info mi;
		uint64_t tail[2];
	} in;

	memset(&in, 0, sizeof(in));
	in.mi.struct_size = sizeof(in.mi);
	apply_pokes(c, &in, sizeof(in.mi), sizeof(in));
	CALL_INT(c, vgalloc_mock_create(&in.mi, &c->out_mock));
}

/* ---------------------------------------------------------------------------------------------
 * Cases.
 */

static void mock_create__null_info(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_create(NULL, &c->out_mock));
}

static void mock_create__null_out(struct ctx *c)
{
	struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi) };

	CALL_INT(c, vgalloc_mock_create(&mi, NULL));
}

static void mock_destroy__null(struct ctx *c)
{
	CALL_VOID(c, vgalloc_mock_destroy(NULL));
}

static void mock_call_name__unknown(struct ctx *c)
{
	CALL_STR(c, vgalloc_mock_call_name(VGALLOC_MOCK_CALL_COUNT));
}

static void mock_get_ledger__null_mock(struct ctx *c)
{
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };

	CALL_INT(c, vgalloc_mock_get_ledger(NULL, &l));
}

static void mock_get_ledger__null_ledger(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_get_ledger(c->f->mock, NULL));
}

static void mock_get_ledger__struct_size_small(struct ctx *c)
{
	struct vgalloc_mock_ledger l = { .struct_size = 8 };

	CALL_INT(c, vgalloc_mock_get_ledger(c->f->mock, &l));
}

static void mock_reset_counters__null(struct ctx *c)
{
	CALL_VOID(c, vgalloc_mock_reset_counters(NULL));
}

static void mock_get_trace__null_mock(struct ctx *c)
{
	struct vgalloc_mock_trace_entry e[4];

	CALL_INT(c, vgalloc_mock_get_trace(NULL, e, 4));
}

static void mock_get_trace__null_entries(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_get_trace(c->f->mock, NULL, 4));
}

static void mock_format_entry__null_entry(struct ctx *c)
{
	char buf[64];

	CALL_INT(c, vgalloc_mock_format_entry(NULL, buf, sizeof(buf)));
}

static void mock_format_entry__null_buf(struct ctx *c)
{
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_BLOB_CREATE };

	CALL_INT(c, vgalloc_mock_format_entry(&e, NULL, 16));
}

static void mock_fail_nth__null_mock(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_fail_nth(NULL, VGALLOC_MOCK_CALL_HOST_ALLOC, 1, ENOMEM));
}

static void mock_fail_nth__nth_0(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_fail_nth(c->f->mock, VGALLOC_MOCK_CALL_HOST_ALLOC, 0, ENOMEM));
}

static void mock_fail_nth__err_negative(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_fail_nth(c->f->mock, VGALLOC_MOCK_CALL_HOST_ALLOC, 1, -ENOMEM));
}

static void mock_fail_nth__not_failable(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_fail_nth(c->f->mock, VGALLOC_MOCK_CALL_HOST_FREE, 1, ENOMEM));
}

static void mock_fail_clear__null(struct ctx *c)
{
	CALL_VOID(c, vgalloc_mock_fail_clear(NULL));
}

static void mock_fail_fired__null(struct ctx *c)
{
	CALL_BOOL(c, vgalloc_mock_fail_fired(NULL));
}

static void mock_set_capset__null_mock(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_set_capset(NULL, VGALLOC_CAPSET_VIRGL, 1, c->bytes, 4));
}

static void mock_set_capset__id_0(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_set_capset(c->f->mock, 0, 1, c->bytes, 4));
}

static void mock_set_capset__id_64(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_set_capset(c->f->mock, 64, 1, c->bytes, 4));
}

static void mock_set_capset__null_data(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_set_capset(c->f->mock, VGALLOC_CAPSET_VIRGL, 1, NULL, 4));
}

static void mock_get_fd__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_get_fd(NULL));
}

static void mock_context_init__exists(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_context_init(c->f->mock, VGALLOC_CAPSET_VENUS));
}

static void mock_context_init__not_offered(struct ctx *c)
{
	struct vgalloc_mock *m = scratch_mock(c, &(struct fx_opts){ 0 });

	CALL_INT(c, vgalloc_mock_context_init(m, VGALLOC_CAPSET_CROSS_DOMAIN));
}

static void mock_blob(struct ctx *c, struct vgalloc_mock *m, uint32_t blob_mem, uint32_t flags,
                      uint64_t size, uint64_t blob_id)
{
	uint32_t handle = OUT_VALUE & 0xffff, res = OUT_VALUE & 0xffff;

	CALL_INT(c, vgalloc_mock_blob_create(m, blob_mem, flags, size, blob_id, &handle, &res));
	assert_int_equal(handle, OUT_VALUE & 0xffff);
	assert_int_equal(res, OUT_VALUE & 0xffff);
}

static void mock_blob_create__null(struct ctx *c)
{
	mock_blob(c, NULL, VGALLOC_BLOB_MEM_GUEST, 0, 4096, 0);
}

static void mock_blob_create__blob_mem_0(struct ctx *c)
{
	mock_blob(c, c->f->mock, 0, 0, 4096, 0);
}

static void mock_blob_create__size_0(struct ctx *c)
{
	mock_blob(c, c->f->mock, VGALLOC_BLOB_MEM_GUEST, 0, 0, 0);
}

static void mock_blob_create__guest_blob_id(struct ctx *c)
{
	mock_blob(c, c->f->mock, VGALLOC_BLOB_MEM_GUEST, 0, 4096, 7);
}

static void mock_blob_create__unknown_flag(struct ctx *c)
{
	mock_blob(c, c->f->mock, VGALLOC_BLOB_MEM_GUEST, BIT31, 4096, 0);
}

static void mock_blob_create__cross_device(struct ctx *c)
{
	mock_blob(c, c->f->mock, VGALLOC_BLOB_MEM_GUEST, VGALLOC_BLOB_FLAG_CROSS_DEVICE, 4096, 0);
}

static void mock_gem_close__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_gem_close(NULL, 1));
}

static void mock_gem_close__unknown_handle(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_gem_close(c->f->mock, 4242));
}

static void mock_prime_import__null(struct ctx *c)
{
	uint32_t h = (uint32_t)OUT_VALUE;

	CALL_INT(c, vgalloc_mock_prime_import(NULL, 0, &h));
	assert_int_equal(h, (uint32_t)OUT_VALUE);
}

static void mock_prime_import__null_out(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_prime_import(c->f->mock, 0, NULL));
}

static void mock_prime_import__closed_fd(struct ctx *c)
{
	uint32_t h = (uint32_t)OUT_VALUE;

	CALL_INT(c, vgalloc_mock_prime_import(c->f->mock, -1, &h));
	assert_int_equal(h, (uint32_t)OUT_VALUE);
}

static void mock_prime_import__foreign_fd(struct ctx *c)
{
	uint32_t h = (uint32_t)OUT_VALUE;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	CALL_INT(c, vgalloc_mock_prime_import(c->f->mock, fd, &h));
	assert_int_equal(h, (uint32_t)OUT_VALUE);
	close(fd);
}

static void host_alloc(struct ctx *c, struct vgalloc_mock *m, uint64_t blob_id, uint64_t size)
{
	uint64_t host = OUT_VALUE, tagged = OUT_VALUE;

	CALL_INT(c, vgalloc_mock_host_alloc(m, blob_id, size, &host, &c->out_value, &tagged));
	assert_true(host == OUT_VALUE);
	assert_true(tagged == OUT_VALUE);
}

static void mock_host_alloc__null(struct ctx *c)
{
	host_alloc(c, NULL, 4343, 4096);
}

static void mock_host_alloc__blob_id_0(struct ctx *c)
{
	host_alloc(c, c->f->mock, 0, 4096);
}

static void mock_host_alloc__size_0(struct ctx *c)
{
	host_alloc(c, c->f->mock, 4343, 0);
}

static void mock_host_alloc__id_in_use(struct ctx *c)
{
	uint64_t token = 0;

	assert_true(c->nhosts < MAX_KEEP);
	assert_int_equal(
	        vgalloc_mock_host_alloc(c->f->mock, 4343, 4096, &c->hosts[c->nhosts], &token, NULL),
	        0);
	c->nhosts++;
	assert_int_equal(vgalloc_mock_host_wait(c->f->mock, token), 0);
	host_alloc(c, c->f->mock, 4343, 4096);
}

static void mock_host_wait__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_host_wait(NULL, 0));
}

static void mock_host_wait__unknown_token(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_host_wait(c->f->mock, 1ull << 40));
}

static void mock_host_wait_cmd__null_cmd(struct ctx *c)
{
	uint32_t size = 16;

	CALL_INT(c, vgalloc_mock_host_wait_cmd(c->f->mock, 1, NULL, &size));
}

static void mock_host_wait_cmd__too_small(struct ctx *c)
{
	uint32_t size = 8;

	CALL_INT(c, vgalloc_mock_host_wait_cmd(c->f->mock, 1, c->bytes, &size));
	assert_int_equal(size, 8);
}

static void mock_host_roundtrip__null(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_host_roundtrip(NULL));
}

static void mock_host_import__null(struct ctx *c)
{
	uint64_t host = OUT_VALUE;

	CALL_INT(c, vgalloc_mock_host_import(NULL, 1, 4096, 4343, &host, &c->out_value));
	assert_true(host == OUT_VALUE);
}

static void mock_host_import__unknown_res(struct ctx *c)
{
	uint64_t host = OUT_VALUE;

	CALL_INT(c, vgalloc_mock_host_import(c->f->mock, 4242, 4096, 4343, &host, &c->out_value));
	assert_true(host == OUT_VALUE);
}

static void mock_host_free__null(struct ctx *c)
{
	CALL_VOID(c, vgalloc_mock_host_free(NULL, 1));
}

static void mock_get_hooks__null_mock(struct ctx *c)
{
	struct vgalloc_host_hooks h;

	CALL_INT(c, vgalloc_mock_get_hooks(NULL, 0, &h));
}

static void mock_get_hooks__null_out(struct ctx *c)
{
	CALL_INT(c, vgalloc_mock_get_hooks(c->f->mock, 0, NULL));
}

static void mock_get_hooks__unknown_flag(struct ctx *c)
{
	struct vgalloc_host_hooks h;

	CALL_INT(c, vgalloc_mock_get_hooks(c->f->mock, BIT31, &h));
}

/* ---------------------------------------------------------------------------------------------
 * The table. Ids are stable: docs/errors.md names them.
 */

/* clang-format off */
#define MC(n, ...)               WITH(mock_create, n, mock_create__with, __VA_ARGS__)
/* clang-format on */

static const struct errcase cases[] = {
	ONE(mock_create, null_info),
	ONE(mock_create, null_out),
	MC("struct_size_small", P(MCI, struct_size, 8)),
	MC("unknown_tail", TAIL(MCI)),
	MC("profile", P(MCI, profile, 3)),
	MC("unknown_flag", P(MCI, flags, BIT31)),
	MC("reserved", P(MCI, reserved, 1)),
	MC("page_small", P(MCI, host_page_size, 2048)),
	MC("page_not_pow2", P(MCI, host_page_size, 12288)),
	MC("window_unaligned", P(MCI, window_size, 1000)),
	MC("capset_0", P(MCI, supported_capsets, 1)),
	MC("venus_too_big", P(MCI, venus_capset_size, 4097)),
	MC("cost_preset", P(MCI, cost_preset, 3)),
	ONE(mock_destroy, null),
	ONE(mock_call_name, unknown),
	PROVEN_BY(mock_call_failable, unknown, "mock/test_mock.c", mock__call_names_and_failable),
	ONE(mock_get_ledger, null_mock),
	ONE(mock_get_ledger, null_ledger),
	ONE(mock_get_ledger, struct_size_small),
	ONE(mock_reset_counters, null),
	ONE(mock_get_trace, null_mock),
	ONE(mock_get_trace, null_entries),
	ONE(mock_format_entry, null_entry),
	ONE(mock_format_entry, null_buf),
	ONE(mock_fail_nth, null_mock),
	ONE(mock_fail_nth, nth_0),
	ONE(mock_fail_nth, err_negative),
	ONE(mock_fail_nth, not_failable),
	ONE(mock_fail_clear, null),
	ONE(mock_fail_fired, null),
	ONE(mock_set_capset, null_mock),
	ONE(mock_set_capset, id_0),
	ONE(mock_set_capset, id_64),
	ONE(mock_set_capset, null_data),
	ONE(mock_get_fd, null),
	PROVEN_BY(mock_context_init, null, "mock/test_mock.c",
	          mock__consumer_calls_share_rules_and_ledger),
	ONE(mock_context_init, exists),
	ONE(mock_context_init, not_offered),
	ONE(mock_blob_create, null),
	ONE(mock_blob_create, blob_mem_0),
	ONE(mock_blob_create, size_0),
	ONE(mock_blob_create, guest_blob_id),
	ONE(mock_blob_create, unknown_flag),
	ONE(mock_blob_create, cross_device),
	ONE(mock_gem_close, null),
	ONE(mock_gem_close, unknown_handle),
	ONE(mock_prime_import, null),
	ONE(mock_prime_import, null_out),
	ONE(mock_prime_import, closed_fd),
	ONE(mock_prime_import, foreign_fd),
	ONE(mock_host_alloc, null),
	ONE(mock_host_alloc, blob_id_0),
	ONE(mock_host_alloc, size_0),
	ONE(mock_host_alloc, id_in_use),
	ONE(mock_host_wait, null),
	ONE(mock_host_wait, unknown_token),
	ONE(mock_host_wait_cmd, null_cmd),
	ONE(mock_host_wait_cmd, too_small),
	ONE(mock_host_roundtrip, null),
	ONE(mock_host_import, null),
	C("mock_host_import.unknown_res", vgalloc_mock_host_import, mock_host_import__unknown_res,
	  .allow = ALLOW_LOST),
	ONE(mock_host_free, null),
	ONE(mock_get_hooks, null_mock),
	ONE(mock_get_hooks, null_out),
	ONE(mock_get_hooks, unknown_flag),
};

int main(void)
{
	return errcase_main("mock", cases, ARRAY_LEN(cases));
}
