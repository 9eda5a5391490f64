/* SPDX-License-Identifier: MIT */
/*
 * Device creation in own and adopt mode: probing, the calls allowed before CONTEXT_INIT, supplied
 * params and capsets, allocation-order precedence, blob alignment, allocator failures, logging,
 * environment overrides and versioned structs.
 * Covers: vgalloc_device_create, vgalloc_device_destroy, vgalloc_device_get_fd,
 * vgalloc_device_get_param, vgalloc_device_get_info, vgalloc_device_get_stats.
 */
#include <unistd.h>

#include "../harness.h"

static int create_on(struct vgalloc_mock *mock, const struct fx_opts *o,
                     struct vgalloc_device_create_info *override, struct vgalloc_device **dev)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct fx f = { .mock = mock };

	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
	fx_create_info(&f, o, types, &ci);
	if (override) {
		override->backend_object = mock;
		override->memory_types = types;
		override->memory_type_count = 3;
		override->hooks = NULL;
		return vgalloc_device_create(override, dev);
	}
	return vgalloc_device_create(&ci, dev);
}

static uint32_t alloc_mode_of(const struct fx_opts *mo, const struct fx_opts *o)
{
	struct vgalloc_mock *mock = fx_mock_new(mo);
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_device *dev = NULL;

	assert_int_equal(create_on(mock, o, NULL, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	vgalloc_device_destroy(dev);
	vgalloc_mock_destroy(mock);
	return di.alloc_mode;
}

static void device_create__own_mode_probes_then_inits_context(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_mock_trace_entry e[32];
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mock_ledger l;
	int n;

	(void)state;
	assert_int_equal(create_on(mock, &(struct fx_opts){ 0 }, NULL, &dev), 0);
	n = vgalloc_mock_get_trace(mock, e, 32);
	/* Only GETPARAM and GET_CAPS may precede CONTEXT_INIT, which comes last. */
	assert_true(n >= 2);
	for (int i = 0; i < n - 1; i++) {
		assert_true(e[i].call == VGALLOC_MOCK_CALL_GET_PARAM ||
		            e[i].call == VGALLOC_MOCK_CALL_GET_CAPSET);
	}
	assert_int_equal(e[n - 1].call, VGALLOC_MOCK_CALL_CONTEXT_INIT);
	l = fx_ledger(mock);
	assert_int_equal(l.context, 2);
	assert_int_equal(l.capset_id, VGALLOC_CAPSET_VENUS);
	assert_int_equal(vgalloc_device_get_fd(dev), vgalloc_mock_get_fd(mock));
	vgalloc_device_destroy(dev);
	vgalloc_device_destroy(NULL);
	fx_assert_clean(mock);
	vgalloc_mock_destroy(mock);
}

static void device_create__own_mode_missing_feature_is_eopnotsupp(void **state)
{
	static const uint32_t flags[] = { VGALLOC_MOCK_NO_3D, VGALLOC_MOCK_NO_BLOB,
		                          VGALLOC_MOCK_NO_CONTEXT_INIT };

	(void)state;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct vgalloc_mock *mock =
		        fx_mock_new(&(struct fx_opts){ .mock_flags = flags[i] });
		struct vgalloc_device *dev = (void *)0x1;

		assert_int_equal(create_on(mock, &(struct fx_opts){ 0 }, NULL, &dev), -EOPNOTSUPP);
		assert_ptr_equal(dev, (void *)0x1);
		/* Nothing but reads ran: no implicit context was made by the failed probe. */
		assert_int_equal(fx_ledger(mock).context, 0);
		assert_int_equal(fx_ledger(mock).calls[VGALLOC_MOCK_CALL_CONTEXT_INIT], 0);
		vgalloc_mock_destroy(mock);
	}
}

static void device_create__capset_not_offered_is_eopnotsupp(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_device *dev = NULL;

	(void)state;
	assert_int_equal(vgalloc_mock_set_capset(mock, VGALLOC_CAPSET_VENUS, 0, NULL, 0), 0);
	assert_int_equal(create_on(mock, &(struct fx_opts){ 0 }, NULL, &dev), -EOPNOTSUPP);
	vgalloc_mock_destroy(mock);
}

static void device_create__own_mode_on_used_fd_is_eexist(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_device *dev = NULL;
	uint32_t handle, res;

	(void)state;
	/* A GUEST blob on a context-less fd makes the kernel create an implicit context. */
	assert_int_equal(
	        vgalloc_mock_blob_create(mock, VGALLOC_BLOB_MEM_GUEST, 0, 4096, 0, &handle, &res),
	        0);
	assert_int_equal(create_on(mock, &(struct fx_opts){ 0 }, NULL, &dev), -EEXIST);
	assert_int_equal(vgalloc_mock_gem_close(mock, handle), 0);
	vgalloc_mock_destroy(mock);
}

static void device_create__adopt_mode_reads_only_what_is_missing(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	unsigned char capset[160];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mock_ledger l;
	uint64_t v = 0;

	(void)state;
	assert_int_equal(vgalloc_mock_context_init(mock, VGALLOC_CAPSET_VENUS), 0);
	memset(capset, 0, sizeof(capset));
	capset[0] = 1; /* wire_format_version */
	vgalloc_mock_reset_counters(mock);
	memset(&ci, 0, sizeof(ci));
	ci.struct_size = sizeof(ci);
	ci.backend = VGALLOC_BACKEND_MOCK;
	ci.mode = VGALLOC_DEVICE_MODE_ADOPT;
	ci.flags = VGALLOC_DEVICE_CONTEXT_READY;
	ci.capset_id = VGALLOC_CAPSET_VENUS;
	ci.capset_data = capset;
	ci.capset_size = sizeof(capset);
	for (uint32_t p = 1; p <= 8; p++) {
		ci.params_present |= 1u << p;
		ci.params[p] = 1;
	}
	assert_int_equal(create_on(mock, &(struct fx_opts){ 0 }, &ci, &dev), 0);
	l = fx_ledger(mock);
	/* Only the one param the caller did not supply (BLOB_ALIGNMENT) was read. */
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_GET_PARAM], 1);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_GET_CAPSET], 0);
	assert_int_equal(l.calls[VGALLOC_MOCK_CALL_CONTEXT_INIT], 0);
	assert_int_equal(vgalloc_device_get_param(dev, VGALLOC_PARAM_CROSS_DEVICE, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(vgalloc_device_get_param(dev, VGALLOC_PARAM_BLOB_ALIGNMENT, &v), -ENOENT);
	assert_int_equal(vgalloc_device_get_param(dev, 16, &v), -EINVAL);
	vgalloc_device_destroy(dev);
	/* Adopt mode never closes the caller's fd. */
	assert_true(fcntl_ok(vgalloc_mock_get_fd(mock)));
	vgalloc_mock_destroy(mock);
}

static void device_create__adopt_requires_context_ready(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;

	(void)state;
	memset(&ci, 0, sizeof(ci));
	ci.struct_size = sizeof(ci);
	ci.backend = VGALLOC_BACKEND_MOCK;
	ci.mode = VGALLOC_DEVICE_MODE_ADOPT;
	ci.capset_id = VGALLOC_CAPSET_VENUS;
	assert_int_equal(create_on(mock, &(struct fx_opts){ 0 }, &ci, &dev), -EINVAL);
	assert_int_equal(fx_ledger(mock).calls[VGALLOC_MOCK_CALL_GET_PARAM], 0);
	vgalloc_mock_destroy(mock);
}

static void device_create__alloc_mode_precedence(void **state)
{
	(void)state;
	/* capset use_guest_vram = 1 */
	assert_int_equal(alloc_mode_of(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC },
	                               &(struct fx_opts){ 0 }),
	                 VGALLOC_ALLOC_MODE_GUEST_FIRST);
	/* use_guest_vram = 0 and no hint: host-first */
	assert_int_equal(
	        alloc_mode_of(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC,
	                                         .mock_flags = VGALLOC_MOCK_GUEST_VRAM_OFF },
	                      &(struct fx_opts){ 0 }),
	        VGALLOC_ALLOC_MODE_HOST_FIRST);
	/* the create-info override wins over the capset */
	assert_int_equal(
	        alloc_mode_of(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC },
	                      &(struct fx_opts){ .alloc_mode = VGALLOC_ALLOC_MODE_HOST_FIRST }),
	        VGALLOC_ALLOC_MODE_HOST_FIRST);
	assert_int_equal(
	        alloc_mode_of(&(struct fx_opts){ 0 },
	                      &(struct fx_opts){ .alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST }),
	        VGALLOC_ALLOC_MODE_GUEST_FIRST);
}

static void device_create__hypervisor_hint_is_last_input(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_device *dev = NULL;
	struct fx f = { .mock = mock };

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
	fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
	ci.hypervisor_hint = VGALLOC_HYPERVISOR_STATIC;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.alloc_mode, VGALLOC_ALLOC_MODE_GUEST_FIRST);
	vgalloc_device_destroy(dev);
	vgalloc_mock_destroy(mock);
}

static void device_create__env_override_only_when_allowed(void **state)
{
	(void)state;
	setenv("VGALLOC_ALLOC_MODE", "guest", 1);
	assert_int_equal(alloc_mode_of(&(struct fx_opts){ 0 }, &(struct fx_opts){ 0 }),
	                 VGALLOC_ALLOC_MODE_HOST_FIRST);
	assert_int_equal(alloc_mode_of(&(struct fx_opts){ 0 },
	                               &(struct fx_opts){ .dev_flags = VGALLOC_DEVICE_ALLOW_ENV }),
	                 VGALLOC_ALLOC_MODE_GUEST_FIRST);
	unsetenv("VGALLOC_ALLOC_MODE");
}

static void device_create__blob_alignment_from_param(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(
	        &(struct fx_opts){ .mock_flags = VGALLOC_MOCK_BLOB_ALIGNMENT, .host_page = 16384 });
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_device *dev = NULL;

	(void)state;
	assert_int_equal(create_on(mock, &(struct fx_opts){ 0 }, NULL, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.blob_alignment, 16384);
	vgalloc_device_destroy(dev);
	vgalloc_mock_destroy(mock);
}

static void device_create__bogus_blob_alignment_is_ignored(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;
	uint64_t v;

	(void)state;
	assert_int_equal(vgalloc_mock_context_init(mock, VGALLOC_CAPSET_VENUS), 0);
	memset(&ci, 0, sizeof(ci));
	ci.struct_size = sizeof(ci);
	ci.backend = VGALLOC_BACKEND_MOCK;
	ci.mode = VGALLOC_DEVICE_MODE_ADOPT;
	ci.flags = VGALLOC_DEVICE_CONTEXT_READY;
	ci.capset_id = VGALLOC_CAPSET_VENUS;
	/* A downstream kernel's param 9 is "guest vram" = 1: never an alignment. */
	ci.params_present = 1u << VGALLOC_PARAM_BLOB_ALIGNMENT;
	ci.params[VGALLOC_PARAM_BLOB_ALIGNMENT] = 1;
	assert_int_equal(create_on(mock, &(struct fx_opts){ 0 }, &ci, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.blob_alignment, (uint64_t)sysconf(_SC_PAGESIZE) > 4096
	                                            ? (uint64_t)sysconf(_SC_PAGESIZE)
	                                            : 4096);
	assert_int_equal(vgalloc_device_get_param(dev, VGALLOC_PARAM_BLOB_ALIGNMENT, &v), -ENOENT);
	vgalloc_device_destroy(dev);
	vgalloc_mock_destroy(mock);
}

static void device_create__invalid_venus_capset_is_eio(void **state)
{
	unsigned char capset[160];

	(void)state;
	for (int c = 0; c < 2; c++) {
		struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
		struct vgalloc_device *dev = NULL;

		memset(capset, 0, sizeof(capset));
		if (c == 1) {
			capset[0] = 1;
			capset[156] = 2; /* use_guest_vram must be 0 or 1 */
		}
		assert_int_equal(vgalloc_mock_set_capset(mock, VGALLOC_CAPSET_VENUS, 0, capset,
		                                         sizeof(capset)),
		                 0);
		assert_int_equal(create_on(mock, &(struct fx_opts){ 0 }, NULL, &dev), -EIO);
		vgalloc_mock_destroy(mock);
	}
}

/* An allocator that fills memory with garbage and fails on request. */
struct test_allocator {
	int allocs, frees, fail_at;
};

static void *garbage_alloc(void *user, size_t size, size_t align, uint32_t scope)
{
	struct test_allocator *a = user;
	void *p = NULL;

	(void)scope;
	if (a->fail_at && a->allocs + 1 == a->fail_at) {
		a->fail_at = 0;
		return NULL;
	}
	if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size)) {
		return NULL;
	}
	memset(p, 0xa5, size);
	a->allocs++;
	return p;
}

static void garbage_free(void *user, void *p)
{
	struct test_allocator *a = user;

	a->frees++;
	free(p);
}

/* An allocator that remembers each live allocation's scope. */
#define SCOPED_MAX 4096
static struct {
	void *ptr[SCOPED_MAX];
	uint32_t scope[SCOPED_MAX];
	uint32_t made[5]; /* allocations made per scope */
	bool bad_scope;
} scoped;

static void *scoped_alloc(void *user, size_t size, size_t align, uint32_t scope)
{
	void *p = NULL;

	(void)user;
	if (scope > VGALLOC_SCOPE_INSTANCE) {
		scoped.bad_scope = true;
		return NULL;
	}
	if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size)) {
		return NULL;
	}
	for (int i = 0; i < SCOPED_MAX; i++) {
		if (!scoped.ptr[i]) {
			scoped.ptr[i] = p;
			scoped.scope[i] = scope;
			scoped.made[scope]++;
			return p;
		}
	}
	free(p);
	return NULL;
}

static void scoped_free(void *user, void *p)
{
	(void)user;
	for (int i = 0; i < SCOPED_MAX; i++) {
		if (scoped.ptr[i] == p) {
			scoped.ptr[i] = NULL;
			break;
		}
	}
	free(p);
}

static uint32_t scoped_live(uint32_t scope)
{
	uint32_t n = 0;

	for (int i = 0; i < SCOPED_MAX; i++) {
		n += scoped.ptr[i] && scoped.scope[i] == scope;
	}
	return n;
}

/* Each allocation says how long it lives, and lives exactly that long: command allocations are
 * gone when the call returns, object ones with their memory object or block, the rest with the
 * device, its own connection's (blob slab, capset, handle table) included: instance scope is for
 * vgalloc_connection_create()'s (tests/api/test_connection.c). */
static void allocator__scopes_are_what_they_say(void **state)
{
	struct vgalloc_allocator a = { NULL, scoped_alloc, scoped_free };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_mem *sub = NULL, *ded = NULL;
	struct fx f = { .mock = fx_mock_new(&(struct fx_opts){ 0 }) };
	struct vgalloc_capset_info caps = { .struct_size = sizeof(caps) };

	(void)state;
	memset(&scoped, 0, sizeof(scoped));
	assert_int_equal(vgalloc_mock_get_hooks(f.mock, 0, &f.hooks), 0);
	fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
	ci.allocator = &a;
	assert_int_equal(vgalloc_device_create(&ci, &f.dev), 0);
	assert_true(scoped_live(VGALLOC_SCOPE_DEVICE) > 0);
	/* A device's own connection lives as long as the device: device scope, never instance. */
	assert_int_equal(scoped_live(VGALLOC_SCOPE_INSTANCE), 0);
	assert_int_equal(scoped_live(VGALLOC_SCOPE_OBJECT) + scoped_live(VGALLOC_SCOPE_COMMAND), 0);

	/* Another capset than the context's is read into a buffer of the call's own. */
	assert_int_equal(vgalloc_device_read_capset(f.dev, VGALLOC_CAPSET_VIRGL2, &caps), 0);
	assert_true(scoped.made[VGALLOC_SCOPE_COMMAND] > 0);
	assert_int_equal(scoped_live(VGALLOC_SCOPE_COMMAND), 0);

	/* A suballocation makes a block (object) and its pool's records (cache, device). */
	assert_int_equal(vgalloc_mem_alloc(f.dev, &r, &sub), 0);
	assert_int_equal(scoped_live(VGALLOC_SCOPE_OBJECT), 2); /* the block, its range table */
	assert_true(scoped_live(VGALLOC_SCOPE_CACHE) > 0);
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	assert_int_equal(vgalloc_mem_alloc(f.dev, &r, &ded), 0);
	assert_int_equal(scoped_live(VGALLOC_SCOPE_OBJECT), 3);
	assert_int_equal(vgalloc_mem_free(f.dev, ded), 0);
	assert_int_equal(scoped_live(VGALLOC_SCOPE_OBJECT), 2);
	assert_int_equal(vgalloc_mem_free(f.dev, sub), 0);
	assert_int_equal(vgalloc_device_trim(f.dev), 1);
	assert_int_equal(scoped_live(VGALLOC_SCOPE_OBJECT), 0);

	vgalloc_device_destroy(f.dev);
	for (uint32_t s = 0; s <= VGALLOC_SCOPE_INSTANCE; s++) {
		assert_int_equal(scoped_live(s), 0);
	}
	assert_int_equal(scoped.made[VGALLOC_SCOPE_INSTANCE], 0);
	assert_false(scoped.bad_scope);
	vgalloc_mock_destroy(f.mock);
}

static void device_create__older_host_capset_reads_zero(void **state)
{
	/* A host that returns only 152 bytes: use_guest_vram must read 0, not allocator garbage. */
	struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi),
		                               .profile = VGALLOC_MOCK_PROFILE_STATIC,
		                               .venus_capset_size = 152 };
	struct test_allocator ta = { 0 };
	struct vgalloc_allocator a = { &ta, garbage_alloc, garbage_free };
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;
	struct fx f = { 0 };

	(void)state;
	assert_int_equal(vgalloc_mock_create(&mi, &f.mock), 0);
	assert_int_equal(vgalloc_mock_get_hooks(f.mock, 0, &f.hooks), 0);
	fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
	ci.allocator = &a;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.alloc_mode, VGALLOC_ALLOC_MODE_HOST_FIRST);
	vgalloc_device_destroy(dev);
	assert_int_equal(ta.allocs, ta.frees);
	vgalloc_mock_destroy(f.mock);
}

static void device_create__allocator_failure_is_enomem_and_leaks_nothing(void **state)
{
	(void)state;
	for (int n = 1;; n++) {
		struct test_allocator ta = { .fail_at = n };
		struct vgalloc_allocator a = { &ta, garbage_alloc, garbage_free };
		struct vgalloc_memory_type types[3];
		struct vgalloc_device_create_info ci;
		struct vgalloc_device *dev = NULL;
		struct vgalloc_mem *mem = NULL;
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
		struct fx f = { .mock = fx_mock_new(&(struct fx_opts){ 0 }) };
		int ret;

		assert_int_equal(vgalloc_mock_get_hooks(f.mock, 0, &f.hooks), 0);
		fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
		ci.allocator = &a;
		ret = vgalloc_device_create(&ci, &dev);
		if (!ret) {
			ret = vgalloc_mem_alloc(dev, &r, &mem);
			if (!ret) {
				assert_int_equal(vgalloc_mem_free(dev, mem), 0);
			}
			vgalloc_device_destroy(dev);
		}
		assert_int_equal(ta.allocs, ta.frees);
		fx_assert_clean(f.mock);
		vgalloc_mock_destroy(f.mock);
		if (!ret && ta.fail_at) {
			break; /* the failure point is past everything this flow allocates */
		}
		assert_true(ret == 0 || ret == -ENOMEM);
	}
}

struct log_sink {
	int lines;
	enum vgalloc_log_level worst;
};

static void sink(void *user, enum vgalloc_log_level level, const char *msg)
{
	struct log_sink *s = user;

	assert_non_null(msg);
	s->lines++;
	if (!s->worst || level < s->worst) {
		s->worst = level;
	}
}

static void device_create__log_is_silent_by_default(void **state)
{
	struct vgalloc_mock *mock =
	        fx_mock_new(&(struct fx_opts){ .mock_flags = VGALLOC_MOCK_NO_3D });
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;
	struct log_sink s = { 0 };
	struct fx f = { .mock = mock };

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
	fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
	ci.log_fn = sink;
	ci.log_user = &s;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EOPNOTSUPP);
	assert_int_equal(s.lines, 0);
	ci.log_level = VGALLOC_LOG_ERROR;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EOPNOTSUPP);
	assert_true(s.lines >= 1);
	assert_int_equal(s.worst, VGALLOC_LOG_ERROR);
	vgalloc_mock_destroy(mock);
}

static void device_create__versioned_struct_rules(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct {
		struct vgalloc_device_create_info ci;
		uint64_t tail[2];
	} big;
	struct vgalloc_memory_type types[3];
	struct vgalloc_device *dev = NULL;
	struct fx f = { .mock = mock };
	struct {
		struct vgalloc_stats s;
		uint64_t extra;
	} st;

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
	memset(&big, 0, sizeof(big));
	fx_create_info(&f, &(struct fx_opts){ 0 }, types, &big.ci);
	big.ci.struct_size = 248 - 8; /* below version 0 */
	assert_int_equal(vgalloc_device_create(&big.ci, &dev), -EINVAL);
	/* A version-0 caller: the appended fields read as zero (defaults). */
	big.ci.struct_size = 248;
	big.ci.flavour = 99; /* past the caller's struct: must be ignored */
	assert_int_equal(vgalloc_device_create(&big.ci, &dev), 0);
	vgalloc_device_destroy(dev);
	dev = NULL;
	big.ci.flavour = 0;
	vgalloc_mock_destroy(mock);
	mock = fx_mock_new(&(struct fx_opts){ 0 });
	big.ci.backend_object = mock;
	big.ci.struct_size = 0;
	assert_int_equal(vgalloc_device_create(&big.ci, &dev), -EINVAL);
	big.ci.struct_size = sizeof(big);
	big.tail[1] = 1;
	assert_int_equal(vgalloc_device_create(&big.ci, &dev), -E2BIG);
	assert_int_equal(fx_ledger(mock).calls[VGALLOC_MOCK_CALL_GET_PARAM], 0);
	big.tail[1] = 0;
	assert_int_equal(vgalloc_device_create(&big.ci, &dev), 0);

	/* Output: min(caller's size, ours) is written and reported. */
	memset(&st, 0xee, sizeof(st));
	st.s.struct_size = sizeof(st);
	assert_int_equal(vgalloc_device_get_stats(dev, &st.s), 0);
	assert_int_equal(st.s.struct_size, sizeof(st.s));
	assert_int_equal(st.extra, 0xeeeeeeeeeeeeeeeeull);
	st.s.struct_size = 8;
	assert_int_equal(vgalloc_device_get_stats(dev, &st.s), -EINVAL);
	assert_int_equal(vgalloc_device_get_stats(NULL, &st.s), -EINVAL);
	vgalloc_device_destroy(dev);
	vgalloc_mock_destroy(mock);
}

static void device_create__bad_arguments(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;
	struct fx f = { .mock = mock };
	int dummy_backend[4] = { 0 };

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
	fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
	assert_int_equal(vgalloc_device_create(NULL, &dev), -EINVAL);
	assert_int_equal(vgalloc_device_create(&ci, NULL), -EINVAL);
	ci.mode = 7;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	ci.mode = VGALLOC_DEVICE_MODE_OWN;
	ci.backend = 99;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	ci.backend = VGALLOC_BACKEND_MOCK;
	ci.backend_object = dummy_backend; /* not a backend: bad magic */
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	ci.backend_object = mock;
	ci.num_rings = 65;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	ci.num_rings = 0;
	types[1].min_map_alignment = 48; /* not a power of two */
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	types[1].min_map_alignment = 64;
	types[2].host_index = 1; /* duplicate */
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	types[2].host_index = 2;
	ci.capset_id = 0;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EINVAL);
	ci.capset_id = VGALLOC_CAPSET_VENUS;
	ci.backend = VGALLOC_BACKEND_VIRTGPU;
	assert_int_equal(vgalloc_device_create(&ci, &dev), -EOPNOTSUPP);
	assert_null(dev);
	assert_int_equal(vgalloc_device_get_fd(NULL), -EINVAL);
	fx_assert_clean(mock);
	assert_int_equal(fx_ledger(mock).context, 0);
	vgalloc_mock_destroy(mock);
}

static void device_create__debug_name_only_when_supported(void **state)
{
	(void)state;
	for (int with = 0; with < 2; with++) {
		struct vgalloc_mock *mock = fx_mock_new(
		        &(struct fx_opts){ .mock_flags = with ? VGALLOC_MOCK_DEBUG_NAME : 0 });
		struct vgalloc_memory_type types[3];
		struct vgalloc_device_create_info ci;
		struct vgalloc_device *dev = NULL;
		struct fx f = { .mock = mock };

		assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
		fx_create_info(&f, &(struct fx_opts){ 0 }, types, &ci);
		ci.debug_name = "vgalloc-test";
		ci.num_rings = 2;
		/* The mock rejects DEBUG_NAME (and > 3 params) unless the kernel supports it. */
		assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
		vgalloc_device_destroy(dev);
		vgalloc_mock_destroy(mock);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(device_create__own_mode_probes_then_inits_context),
		cmocka_unit_test(device_create__own_mode_missing_feature_is_eopnotsupp),
		cmocka_unit_test(device_create__capset_not_offered_is_eopnotsupp),
		cmocka_unit_test(device_create__own_mode_on_used_fd_is_eexist),
		cmocka_unit_test(device_create__adopt_mode_reads_only_what_is_missing),
		cmocka_unit_test(device_create__adopt_requires_context_ready),
		cmocka_unit_test(device_create__alloc_mode_precedence),
		cmocka_unit_test(device_create__hypervisor_hint_is_last_input),
		cmocka_unit_test(device_create__env_override_only_when_allowed),
		cmocka_unit_test(device_create__blob_alignment_from_param),
		cmocka_unit_test(device_create__bogus_blob_alignment_is_ignored),
		cmocka_unit_test(device_create__invalid_venus_capset_is_eio),
		cmocka_unit_test(device_create__older_host_capset_reads_zero),
		cmocka_unit_test(allocator__scopes_are_what_they_say),
		cmocka_unit_test(device_create__allocator_failure_is_enomem_and_leaks_nothing),
		cmocka_unit_test(device_create__log_is_silent_by_default),
		cmocka_unit_test(device_create__versioned_struct_rules),
		cmocka_unit_test(device_create__bad_arguments),
		cmocka_unit_test(device_create__debug_name_only_when_supported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
