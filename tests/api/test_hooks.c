/* SPDX-License-Identifier: MIT */
/*
 * The hooks contract (vgalloc.h, struct vgalloc_host_hooks): what host_alloc and host_import are
 * given, what their answers may say (pending tokens of any value, host-chosen blob ids, invalid
 * answers), which wait each release makes (none, ordered or blocking), and when in-order hooks
 * let a release skip its wait. The mock's host checks the order it is driven in; these tests also
 * read what each hook received.
 */
#include "../harness.h"

/* ---------------------------------------------------------------------------------------------
 * A recording layer over the mock's hooks.
 */

#define MAX_SEEN 64

static struct {
	struct vgalloc_host_hooks inner;
	/* What the hooks were given, in call order. */
	struct vgalloc_host_alloc_args args[MAX_SEEN];
	bool import[MAX_SEEN];
	void *user_data[MAX_SEEN];
	uint32_t n_args;
	uint32_t wait_flags[MAX_SEEN];
	uint64_t wait_token[MAX_SEEN];
	bool wait_cmd[MAX_SEEN];
	uint32_t n_waits;
	/* Answer tampering: OR these bits into the next answers' flags; clear PENDING. */
	uint32_t add_flags;
	uint64_t set_blob_id;
	bool not_pending;
	/* host_wait honours VGALLOC_WAIT_ORDER without blocking: the wait is only queued (here:
	 * never run), as a hook that submits it and returns may do. */
	bool order_only;
} rec;

static void rec_args(const struct vgalloc_host_alloc_args *args, void *user_data, bool import)
{
	if (rec.n_args < MAX_SEEN) {
		rec.args[rec.n_args] = *args;
		rec.import[rec.n_args] = import;
		rec.user_data[rec.n_args] = user_data;
		rec.n_args++;
	}
}

static int tamper(int ret, struct vgalloc_host_result *out, struct vgalloc_mock *mock)
{
	if (ret) {
		return ret;
	}
	if (rec.not_pending) {
		/* The host finished the work inside the call: nothing left to wait for. */
		assert_int_equal(vgalloc_mock_host_wait(mock, out->token), 0);
		out->flags &= ~(uint32_t)VGALLOC_HOST_RESULT_PENDING;
		out->token = 0xdeadbeef; /* ignored without PENDING */
	}
	out->flags |= rec.add_flags;
	if (rec.set_blob_id != UINT64_MAX) {
		out->blob_id = rec.set_blob_id;
	}
	return 0;
}

static int rec_host_alloc(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                          struct vgalloc_host_result *out)
{
	rec_args(args, user_data, false);
	return tamper(rec.inner.host_alloc(ctx, user_data, args, out), out, ctx);
}

static int rec_host_import(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                           struct vgalloc_host_result *out)
{
	rec_args(args, user_data, true);
	return tamper(rec.inner.host_import(ctx, user_data, args, out), out, ctx);
}

static int rec_host_wait(void *ctx, uint64_t token, uint32_t flags, void *cmd, uint32_t *size)
{
	if (rec.n_waits < MAX_SEEN) {
		rec.wait_flags[rec.n_waits] = flags;
		rec.wait_token[rec.n_waits] = token;
		rec.wait_cmd[rec.n_waits] = cmd != NULL;
		rec.n_waits++;
	}
	if (rec.order_only && (flags & VGALLOC_WAIT_ORDER)) {
		if (size) {
			*size = 0;
		}
		return 0;
	}
	return rec.inner.host_wait(ctx, token, flags, cmd, size);
}

/* A device on a mock with the recording hooks; in_order sets VGALLOC_HOOKS_IN_ORDER (and the
 * mock host keeps that promise). */
static struct fx *rec_fx(struct fx_opts o, bool in_order, uint32_t hooks_flags,
                         const struct vgalloc_capset_gfxstream_vulkan *gfx)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	memset(&rec, 0, sizeof(rec));
	rec.set_blob_id = UINT64_MAX;
	f->fds_before = count_open_fds();
	o.mock_flags |= in_order ? VGALLOC_MOCK_IN_ORDER : 0;
	f->mock = fx_mock_new(&o);
	if (gfx) {
		assert_int_equal(vgalloc_mock_set_capset(f->mock, VGALLOC_CAPSET_GFXSTREAM_VULKAN,
		                                         0, gfx, sizeof(*gfx)),
		                 0);
	}
	assert_int_equal(vgalloc_mock_get_hooks(f->mock, hooks_flags, &rec.inner), 0);
	assert_int_equal(rec.inner.flags, in_order ? VGALLOC_HOOKS_IN_ORDER : 0);
	f->hooks = rec.inner;
	f->hooks.host_alloc = rec_host_alloc;
	f->hooks.host_import = rec_host_import;
	f->hooks.host_wait = rec_host_wait;
	fx_create_info(f, &o, types, &ci);
	assert_int_equal(vgalloc_device_create(&ci, &f->dev), 0);
	vgalloc_mock_reset_counters(f->mock);
	return f;
}

static struct vgalloc_stats dev_stats(struct fx *f)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	return st;
}

static struct vgalloc_mem_info mem_info(struct fx *f, struct vgalloc_mem *mem)
{
	struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };

	assert_int_equal(vgalloc_mem_get_info(f->dev, mem, &mi), 0);
	return mi;
}

/* ---------------------------------------------------------------------------------------------
 * Arguments.
 */

/* A dedicated allocation hands the host the exact size, a block its own size; both carry the
 * memory type and allocate flags of the request, and a zeroed answer of the library's size. */
static void args__requested_and_rounded_size_block_and_dedicated(void **state)
{
	struct fx *f = rec_fx((struct fx_opts){ 0 }, false, 0, NULL);
	struct vgalloc_request r = fx_req(TYPE_HOST_CACHED, 300001);
	struct vgalloc_mem *ded = NULL, *sub = NULL;
	struct vgalloc_host_alloc_args *a;

	(void)state;
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	r.allocate_flags = VGALLOC_ALLOCATE_DEVICE_ADDRESS;
	r.user_data = &r;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &ded), 0);
	assert_int_equal(rec.n_args, 1);
	a = &rec.args[0];
	assert_int_equal(a->struct_size, sizeof(*a));
	assert_int_equal(a->flags, VGALLOC_HOST_ARGS_DEDICATED);
	assert_int_equal(a->memory_type, TYPE_HOST_CACHED);
	assert_int_equal(a->allocate_flags, VGALLOC_ALLOCATE_DEVICE_ADDRESS);
	assert_int_equal(a->res_id, 0);
	assert_int_equal(a->requested_size, 300001);
	assert_int_equal(a->size, mem_info(f, ded).committed);
	assert_true(a->size > a->requested_size && a->size % 4096 == 0);
	assert_ptr_equal(rec.user_data[0], &r);

	r = fx_req(TYPE_HOST_COHERENT, 4096);
	r.user_data = &r;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &sub), 0);
	assert_int_equal(rec.n_args, 2);
	a = &rec.args[1];
	assert_int_equal(a->flags, VGALLOC_HOST_ARGS_BLOCK);
	assert_int_equal(a->memory_type, TYPE_HOST_COHERENT);
	assert_int_equal(a->requested_size, a->size);
	assert_true(a->size >= 4u << 20);
	assert_null(rec.user_data[1]);
	assert_true(mem_info(f, sub).flags & VGALLOC_MEM_INFO_SUBALLOCATED);

	assert_int_equal(vgalloc_mem_free(f->dev, ded), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, sub), 0);
	fx_free(f);
}

/* Guest-first: host_import gets the args host_alloc gets, with the resource to import. */
static void args__host_import_gets_type_flags_and_resource(void **state)
{
	struct fx *f =
	        rec_fx((struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC }, false, 0, NULL);
	struct vgalloc_request r = fx_req(TYPE_HOST_CACHED, 8192);
	struct vgalloc_mem *sub = NULL, *ded = NULL;

	(void)state;
	r.allocate_flags = VGALLOC_ALLOCATE_DEVICE_ADDRESS;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &sub), 0);
	assert_int_equal(mem_info(f, sub).path, VGALLOC_PATH_GUEST_FIRST);
	assert_int_equal(rec.n_args, 1);
	assert_true(rec.import[0]);
	assert_int_equal(rec.args[0].flags, VGALLOC_HOST_ARGS_BLOCK);
	assert_int_equal(rec.args[0].memory_type, TYPE_HOST_CACHED);
	assert_int_equal(rec.args[0].allocate_flags, VGALLOC_ALLOCATE_DEVICE_ADDRESS);
	assert_int_equal(rec.args[0].res_id, mem_info(f, sub).res_id);
	assert_int_equal(rec.args[0].requested_size, rec.args[0].size);

	r = fx_req(TYPE_HOST_COHERENT, 5000);
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &ded), 0);
	assert_int_equal(rec.n_args, 2);
	assert_true(rec.import[1]);
	assert_int_equal(rec.args[1].flags, VGALLOC_HOST_ARGS_DEDICATED);
	assert_int_equal(rec.args[1].requested_size, 5000);
	assert_int_equal(rec.args[1].size, 8192);
	assert_int_equal(rec.args[1].res_id, mem_info(f, ded).res_id);
	assert_int_equal(rec.args[1].blob_id, mem_info(f, ded).blob_id);

	assert_int_equal(vgalloc_mem_free(f->dev, ded), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, sub), 0);
	fx_free(f);
}

/* ---------------------------------------------------------------------------------------------
 * Tokens.
 */

/* The mock's first token is 0: it is waited on like any other, and the wait before CREATE_BLOB
 * is offered a command buffer and told that ordering suffices. */
static void tokens__zero_is_a_pending_token(void **state)
{
	struct fx *f = rec_fx((struct fx_opts){ 0 }, false, VGALLOC_MOCK_HOOKS_WAIT_CMD, NULL);
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem *mem = NULL;
	struct vgalloc_mock_trace_entry e[8];
	void *p;
	int n;

	(void)state;
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(fx_ledger(f->mock).pending_tokens, 1);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), 0);
	assert_int_equal(rec.n_waits, 1);
	assert_int_equal(rec.wait_token[0], 0);
	assert_int_equal(rec.wait_flags[0], VGALLOC_WAIT_ORDER);
	assert_true(rec.wait_cmd[0]);
	n = vgalloc_mock_get_trace(f->mock, e, 8);
	assert_int_equal(n, 3); /* host_wait, blob_create with the wait, blob_map */
	assert_int_equal(e[0].call, VGALLOC_MOCK_CALL_HOST_WAIT);
	assert_int_equal(e[0].flags, VGALLOC_WAIT_ORDER);
	assert_int_equal(e[1].call, VGALLOC_MOCK_CALL_BLOB_CREATE);
	assert_int_equal(e[1].cmd_size, 16);
	assert_int_equal(fx_ledger(f->mock).pending_tokens, 0);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	assert_int_equal(rec.n_waits, 1);
	fx_free(f);
}

/* An answer without PENDING is never waited on, whatever its token field holds. */
static void tokens__no_pending_no_wait(void **state)
{
	struct fx *f = rec_fx((struct fx_opts){ 0 }, false, 0, NULL);
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem *mapped = NULL, *unmapped = NULL;
	void *p;

	(void)state;
	rec.not_pending = true;
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mapped), 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &unmapped), 0);
	assert_int_equal(vgalloc_mem_map(f->dev, mapped, &p), 0);
	memset(p, 0x5a, 4096);
	assert_int_equal(vgalloc_mem_free(f->dev, mapped), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, unmapped), 0);
	assert_int_equal(rec.n_waits, 0);
	assert_int_equal(dev_stats(f).host_waits, 0);
	assert_int_equal(dev_stats(f).host_waits_skipped, 0);
	fx_free(f);
}

/* A wait the hook only ordered is no proof the host ran it: when the CREATE_BLOB after it fails,
 * the token stays pending and the release (hooks not in order) blocks on it before host_free.
 * The mock counts a host_free of an unprocessed allocation. */
static void tokens__ordered_wait_then_failed_create_still_waits(void **state)
{
	for (int eager = 0; eager < 2; eager++) {
		struct fx *f = rec_fx((struct fx_opts){ 0 }, false, 0, NULL);
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 64u << 10);
		struct vgalloc_mem *mem = NULL;
		void *p;

		(void)state;
		rec.order_only = true;
		r.flags = VGALLOC_REQUEST_DEDICATED_IMAGE;
		r.export_handle_types = eager ? VGALLOC_HANDLE_TYPE_DMA_BUF : 0;
		assert_int_equal(
		        vgalloc_mock_fail_nth(f->mock, VGALLOC_MOCK_CALL_BLOB_CREATE, 1, ENOSPC),
		        0);
		if (eager) { /* host-first eager: the blob at allocation */
			assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -ENOSPC);
		} else { /* host-first lazy: the blob at the first map */
			assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
			assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), -ENOSPC);
			assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
		}
		assert_true(rec.n_waits >= 2);
		assert_int_equal(rec.wait_flags[0], VGALLOC_WAIT_ORDER);
		assert_int_equal(rec.wait_flags[rec.n_waits - 1], 0); /* the release blocked */
		assert_int_equal(fx_ledger(f->mock).order_violations, 0);
		fx_free(f);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Releases: which wait.
 */

/* 50 never-mapped alloc+free cycles, dedicated and suballocated. In order: no wait at all, and
 * the host's free still comes after its allocation. Not in order: each dedicated one blocks. */
static void release__in_order_never_mapped_makes_no_wait(void **state)
{
	for (int in_order = 0; in_order < 2; in_order++) {
		struct fx *f = rec_fx((struct fx_opts){ 0 }, in_order, 0, NULL);
		uint32_t cycles = 50;

		(void)state;
		for (uint32_t i = 0; i < cycles; i++) {
			struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 8u << 20);
			struct vgalloc_mem *mem = NULL;

			assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
			assert_int_equal(mem_info(f, mem).path, VGALLOC_PATH_HOST_FIRST_LAZY);
			assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
		}
		if (in_order) {
			assert_int_equal(rec.n_waits, 0);
			assert_int_equal(dev_stats(f).host_waits, 0);
			assert_int_equal(dev_stats(f).host_waits_skipped, cycles);
		} else {
			assert_int_equal(rec.n_waits, cycles);
			for (uint32_t i = 0; i < cycles; i++) {
				assert_int_equal(rec.wait_flags[i], 0); /* must block */
				assert_false(rec.wait_cmd[i]);
			}
			assert_int_equal(dev_stats(f).host_waits, cycles);
		}
		assert_int_equal(fx_ledger(f->mock).order_violations, 0);
		assert_int_equal(fx_ledger(f->mock).host_allocs, 0);
		fx_free(f);
	}
}

/* The same with the mock host out of order but the hooks claiming in order would free host
 * memory the host has not allocated yet: the mock counts it. This checks the check. */
static void release__in_order_claim_is_checked_by_the_host(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 8u << 20);
	struct vgalloc_mem *mem = NULL;

	(void)state;
	assert_non_null(f);
	f->fds_before = count_open_fds();
	f->mock = fx_mock_new(&(struct fx_opts){ 0 }); /* without VGALLOC_MOCK_IN_ORDER */
	assert_int_equal(vgalloc_mock_get_hooks(f->mock, 0, &f->hooks), 0);
	f->hooks.flags = VGALLOC_HOOKS_IN_ORDER; /* a false claim */
	fx_create_info(f, &(struct fx_opts){ 0 }, types, &ci);
	assert_int_equal(vgalloc_device_create(&ci, &f->dev), 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	assert_int_equal(fx_ledger(f->mock).order_violations, 1);
	vgalloc_device_destroy(f->dev);
	vgalloc_mock_destroy(f->mock);
	free(f);
}

/*
 * Guest-first, in order: a block's import token is completed by the round trip of a later
 * guest-first allocation, so releasing it makes no wait; the last import, with no round trip
 * after it, is waited on, ordered ahead of the GEM close. Without in order, each pending
 * release blocks.
 */
static void release__guest_first_round_trip_completes_tokens(void **state)
{
	for (int in_order = 0; in_order < 2; in_order++) {
		struct fx *f = rec_fx((struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC },
		                      in_order, 0, NULL);
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 64u << 10);
		struct vgalloc_mem *a = NULL, *b = NULL, *c = NULL;
		void *p;

		(void)state;
		r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
		assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &a),
		                 0); /* blob, roundtrip, import */
		assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &b), 0); /* its roundtrip ends a's */
		assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &c), 0); /* ... and b's */
		assert_int_equal(vgalloc_mem_map(f->dev, b, &p), 0);
		memset(p, 1, 64u << 10);
		assert_int_equal(rec.n_waits, 0);
		assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
		assert_int_equal(vgalloc_mem_free(f->dev, b), 0);
		assert_int_equal(vgalloc_mem_free(f->dev, c), 0);
		if (in_order) {
			assert_int_equal(rec.n_waits, 1);
			assert_int_equal(rec.wait_flags[0], VGALLOC_WAIT_ORDER);
			assert_int_equal(dev_stats(f).host_waits_skipped, 2);
		} else {
			assert_int_equal(rec.n_waits, 3);
			for (int i = 0; i < 3; i++) {
				assert_int_equal(rec.wait_flags[i], 0);
			}
		}
		assert_false(rec.wait_cmd[0]);
		assert_int_equal(fx_ledger(f->mock).order_violations, 0);
		fx_free(f);
	}
}

/*
 * The export and failed-first-map round trips, without the consumer knowing the paths: a blob the
 * renderer may not have processed yet (exported and never mapped, or its first map failed) gets
 * a host_roundtrip between its GEM close and its host_free; a mapped one needs none (the map
 * reply is a sync point). The mock counts a free that could overtake the blob's creation.
 */
static void release__unseen_blob_round_trips_before_host_free(void **state)
{
	struct fx *f = rec_fx((struct fx_opts){ 0 }, true, 0, NULL);
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 64u << 10);
	struct vgalloc_mem *mem = NULL;
	void *p;
	int fd = -1;

	(void)state;
	r.flags = VGALLOC_REQUEST_DEDICATED_IMAGE;
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	for (int mapped = 0; mapped < 2; mapped++) {
		assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
		assert_int_equal(mem_info(f, mem).path, VGALLOC_PATH_HOST_FIRST_EAGER);
		assert_int_equal(vgalloc_mem_export(f->dev, mem, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd),
		                 0);
		close(fd);
		if (mapped) {
			assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), 0);
		}
		vgalloc_mock_reset_counters(f->mock);
		assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
		if (mapped) {
			EXPECT_CALLS(f->mock, CALL(BLOB_UNMAP), CALL(BLOB_DESTROY),
			             CALL(HOST_FREE));
		} else {
			EXPECT_CALLS(f->mock, CALL(BLOB_DESTROY), CALL(HOST_ROUNDTRIP),
			             CALL(HOST_FREE));
		}
		assert_int_equal(fx_ledger(f->mock).order_violations, 0);
	}
	fx_free(f);

	/* A static host cannot map host-first memory: the first map fails after the blob exists. */
	f = rec_fx((struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC,
	                             .alloc_mode = VGALLOC_ALLOC_MODE_HOST_FIRST },
	           true, 0, NULL);
	r = fx_req(TYPE_HOST_COHERENT, 64u << 10);
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_map(f->dev, mem, &p), -EINVAL);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	EXPECT_CALLS(f->mock, CALL(BLOB_DESTROY), CALL(HOST_ROUNDTRIP), CALL(HOST_FREE));
	assert_int_equal(fx_ledger(f->mock).order_violations, 0);
	fx_free(f);
}

/* ---------------------------------------------------------------------------------------------
 * Host-chosen blob ids (gfxstream without deferredMapping).
 */

static struct vgalloc_capset_gfxstream_vulkan gfx_eager_caps(void)
{
	struct vgalloc_capset_gfxstream_vulkan c = fx_gfxstream_caps();

	c.deferred_mapping = 0;
	return c;
}

/* A pool block and an exported dedicated allocation: each blob is created with the id the host
 * chose, which the library then reports. Blocks are 16 MiB, blobs 16 KiB-aligned. */
static void blob_id__host_chosen_on_gfxstream(void **state)
{
	struct vgalloc_capset_gfxstream_vulkan caps = gfx_eager_caps();
	struct fx *f = rec_fx((struct fx_opts){ .mock_flags = VGALLOC_MOCK_HOST_BLOB_ID,
	                                        .flavour = VGALLOC_FLAVOUR_GFXSTREAM,
	                                        .capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN },
	                      true, 0, &caps);
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem *sub = NULL, *exp = NULL;
	struct vgalloc_mock_trace_entry e[32];
	struct vgalloc_mem_info mi;
	uint32_t creates = 0;
	void *p;
	int n, fd = -1;

	(void)state;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &sub), 0);
	assert_int_equal(vgalloc_mem_map(f->dev, sub, &p), 0);
	memcpy(p, "gfxstream", 10);
	mi = mem_info(f, sub);
	assert_true(mi.flags & VGALLOC_MEM_INFO_SUBALLOCATED);
	assert_int_equal(mi.blob_id, 1ull << 40);
	assert_true(rec.args[0].blob_id != mi.blob_id);
	r = fx_req(TYPE_HOST_COHERENT, 300001);
	r.flags = VGALLOC_REQUEST_DEDICATED_IMAGE;
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &exp), 0);
	mi = mem_info(f, exp);
	assert_int_equal(mi.blob_id, (1ull << 40) + 1);
	assert_int_equal(mi.committed % 16384, 0);
	assert_int_equal(vgalloc_mem_export(f->dev, exp, VGALLOC_HANDLE_TYPE_DMA_BUF, &fd), 0);
	close(fd);
	n = vgalloc_mock_get_trace(f->mock, e, 32);
	for (int i = 0; i < n; i++) {
		if (e[i].call == VGALLOC_MOCK_CALL_BLOB_CREATE) {
			assert_int_equal(e[i].blob_id, (1ull << 40) + creates);
			assert_int_equal(e[i].size, creates ? mi.committed : 16u << 20);
			creates++;
		}
	}
	assert_int_equal(creates, 2);
	assert_int_equal(vgalloc_mem_free(f->dev, sub), 0);
	assert_int_equal(vgalloc_mem_free(f->dev, exp), 0);
	fx_free(f);
}

/* Answers the contract does not allow fail with -EIO and free what the hook allocated. */
static void answers__invalid_ones_are_eio_and_leak_nothing(void **state)
{
	static const struct {
		bool guest_first;
		uint32_t add_flags;
		uint64_t blob_id;
	} cases[] = {
		{ false, 1u << 2, UINT64_MAX },            /* unknown flag */
		{ false, 1u << 31, UINT64_MAX },           /* unknown flag */
		{ false, VGALLOC_HOST_RESULT_BLOB_ID, 0 }, /* a host-chosen id of 0 */
		{ true, VGALLOC_HOST_RESULT_BLOB_ID, 77 }, /* an id from host_import */
		{ true, 1u << 5, UINT64_MAX },             /* unknown flag from host_import */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = rec_fx(
		        (struct fx_opts){
		                .profile = cases[i].guest_first ? VGALLOC_MOCK_PROFILE_STATIC : 0 },
		        false, 0, NULL);
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
		struct vgalloc_mem *mem = (struct vgalloc_mem *)&r;

		print_message("  case %zu\n", i);
		rec.add_flags = cases[i].add_flags;
		rec.set_blob_id = cases[i].blob_id;
		for (int dedicated = 0; dedicated < 2; dedicated++) {
			r.flags = dedicated ? VGALLOC_REQUEST_DEDICATED_REQUIRED : 0;
			assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), -EIO);
			assert_ptr_equal(mem, &r);
			assert_int_equal(fx_ledger(f->mock).host_allocs, 0);
			assert_int_equal(fx_ledger(f->mock).live_blobs, 0);
		}
		assert_int_equal(dev_stats(f).mems_live, 0);
		fx_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(args__requested_and_rounded_size_block_and_dedicated),
		cmocka_unit_test(args__host_import_gets_type_flags_and_resource),
		cmocka_unit_test(tokens__zero_is_a_pending_token),
		cmocka_unit_test(tokens__no_pending_no_wait),
		cmocka_unit_test(tokens__ordered_wait_then_failed_create_still_waits),
		cmocka_unit_test(release__in_order_never_mapped_makes_no_wait),
		cmocka_unit_test(release__in_order_claim_is_checked_by_the_host),
		cmocka_unit_test(release__guest_first_round_trip_completes_tokens),
		cmocka_unit_test(release__unseen_blob_round_trips_before_host_free),
		cmocka_unit_test(blob_id__host_chosen_on_gfxstream),
		cmocka_unit_test(answers__invalid_ones_are_eio_and_leak_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
