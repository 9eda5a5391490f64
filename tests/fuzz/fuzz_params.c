/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: param and capset resolution at device create. A fake kernel (a custom
 * backend) answers GETPARAM, GET_CAPS, CONTEXT_INIT and the self-test's blob calls from the fuzz
 * input — values, absent params, errors and answers that are no errno — while the create-info
 * supplies params and capset bytes of its own; or the mock answers, with one fault injected. The
 * result code, the calls made and the device's traits must be what an independent model of the
 * documented rules (vgalloc.h, README "Params", "Alignment", "Paths") derives.
 *
 * Input: a HEADER_SIZE-byte header (decoded below; all zeros is an own-mode Venus device on a
 * kernel with every required param), then the capset bytes the host (or the caller) holds.
 * Fixed header bytes: 0 capset id (0 Venus, 255 none), 1 mode (0 own, 1 adopt), 2 flags, 3 where
 * the capset bytes come from (0 GET_CAPS, 1 the create-info), 4 bit 0 the mock instead of the
 * fake kernel, 5 ≥ 192: the bookkeeping allocator fails its (byte - 191)th allocation.
 */
#define VGALLOC_UNSTABLE_BACKEND_API
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_backend.h"
#include "vgalloc/vgalloc_capset.h"
#include "vgalloc/vgalloc_diag.h"
#include "vgalloc/vgalloc_mock.h"

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEADER_SIZE 96
#define NPARAMS     (VGALLOC_PARAM_MAX + 1)
#define CAPSET_MAX  4096u

/* Param numbers of the downstream numberings (README "Params"; the flavour is a setting). */
#define CROS_CREATE_GUEST_HANDLE 8
#define CROS_GUEST_VRAM          10
#define GFXSTREAM_GUEST_HANDLE   10

/* --- the fake kernel ---------------------------------------------------------------------- */

struct fake {
	struct vgalloc_backend base;
	bool own; /* nothing but GETPARAM and GET_CAPS may precede CONTEXT_INIT */
	/* Answers. */
	int param_ret[NPARAMS];
	uint64_t param_val[NPARAMS];
	int capset_ret;
	const uint8_t *capset;
	size_t capset_len;
	int ctx_ret, create_ret, map_ret;
	/* What was asked. */
	uint32_t params_asked[64];
	uint32_t nparams;
	uint32_t capset_calls, capset_id, capset_size, capset_version;
	uint32_t ctx_calls, ctx_count;
	struct vgalloc_context_param_value ctx[4];
	bool ctx_name_ok;
	bool early_call; /* another call before CONTEXT_INIT in own mode */
	uint32_t creates, created, destroys, maps, mapped, unmaps;
	uint64_t create_size;
	uint32_t create_mem, create_flags;
	uint32_t next_handle;
	const char *debug_name;
};

static unsigned char map_byte;

static void note_call(struct fake *f)
{
	if (f->own && !f->ctx_calls) {
		f->early_call = true;
	}
}

static int fake_get_fd(struct vgalloc_backend *be)
{
	(void)be;
	return -ENODEV;
}

static int fake_get_param(struct vgalloc_backend *be, uint64_t param, uint64_t *value)
{
	struct fake *f = (struct fake *)be;

	if (f->nparams < 64) {
		f->params_asked[f->nparams] = (uint32_t)param;
	}
	f->nparams++;
	if (param >= NPARAMS) {
		return -EINVAL;
	}
	if (!f->param_ret[param]) {
		*value = f->param_val[param];
	}
	return f->param_ret[param];
}

static int fake_get_capset(struct vgalloc_backend *be, uint32_t id, uint32_t version, void *buf,
                           uint32_t size)
{
	struct fake *f = (struct fake *)be;

	f->capset_calls++;
	f->capset_id = id;
	f->capset_version = version;
	f->capset_size = size;
	if (f->capset_ret) {
		return f->capset_ret;
	}
	memcpy(buf, f->capset, FZ_MIN(size, f->capset_len));
	return 0;
}

static int fake_context_init(struct vgalloc_backend *be,
                             const struct vgalloc_context_param_value *params, uint32_t count)
{
	struct fake *f = (struct fake *)be;

	f->ctx_calls++;
	f->ctx_count = count;
	for (uint32_t i = 0; i < count && i < 4; i++) {
		f->ctx[i] = params[i];
		if (params[i].param == VGALLOC_CONTEXT_PARAM_DEBUG_NAME) {
			/* The name must be the caller's string (or a copy of it). */
			f->ctx_name_ok =
			        f->debug_name && params[i].value &&
			        !strcmp((const char *)(uintptr_t)params[i].value, f->debug_name);
		}
	}
	return f->ctx_ret;
}

static int fake_blob_create(struct vgalloc_backend *be,
                            const struct vgalloc_backend_blob_args *args, uint32_t *out_handle,
                            uint32_t *out_res_id)
{
	struct fake *f = (struct fake *)be;

	note_call(f);
	f->creates++;
	f->create_size = args->size;
	f->create_mem = args->blob_mem;
	f->create_flags = args->blob_flags;
	if (f->create_ret) {
		return f->create_ret;
	}
	f->created++;
	*out_handle = ++f->next_handle;
	*out_res_id = f->next_handle;
	return 0;
}

static int fake_blob_map(struct vgalloc_backend *be, uint32_t handle, uint64_t size, void **out_ptr)
{
	struct fake *f = (struct fake *)be;

	(void)handle;
	(void)size;
	note_call(f);
	f->maps++;
	if (f->map_ret) {
		return f->map_ret;
	}
	f->mapped++;
	*out_ptr = &map_byte;
	return 0;
}

static int fake_blob_unmap(struct vgalloc_backend *be, uint32_t handle, void *ptr, uint64_t size)
{
	struct fake *f = (struct fake *)be;

	(void)handle;
	(void)size;
	note_call(f);
	FZ_CHECK(ptr == &map_byte);
	f->unmaps++;
	return 0;
}

static int fake_blob_export(struct vgalloc_backend *be, uint32_t handle, uint32_t flags,
                            int *out_fd)
{
	(void)handle;
	(void)flags;
	(void)out_fd;
	note_call((struct fake *)be);
	return -EINVAL;
}

static int fake_blob_import(struct vgalloc_backend *be, int fd, uint32_t *out_handle)
{
	(void)fd;
	(void)out_handle;
	note_call((struct fake *)be);
	return -EINVAL;
}

static int fake_blob_info(struct vgalloc_backend *be, uint32_t handle,
                          struct vgalloc_backend_blob_info *out)
{
	(void)handle;
	(void)out;
	note_call((struct fake *)be);
	return -EINVAL;
}

static int fake_blob_destroy(struct vgalloc_backend *be, uint32_t handle)
{
	struct fake *f = (struct fake *)be;

	(void)handle;
	note_call(f);
	f->destroys++;
	return 0;
}

static const struct vgalloc_backend_ops fake_ops = {
	.abi_version = VGALLOC_BACKEND_ABI_VERSION,
	.name = "fuzz",
	.get_fd = fake_get_fd,
	.get_param = fake_get_param,
	.get_capset = fake_get_capset,
	.context_init = fake_context_init,
	.blob_create = fake_blob_create,
	.blob_map = fake_blob_map,
	.blob_unmap = fake_blob_unmap,
	.blob_export = fake_blob_export,
	.blob_import = fake_blob_import,
	.blob_info = fake_blob_info,
	.blob_destroy = fake_blob_destroy,
};

/* --- the bookkeeping allocator: struct vgalloc_allocator's contract, and one failure ---------- */

struct counting_allocator {
	uint64_t calls, fail_at, live;
	bool failed;
};

static void *ca_alloc(void *user, size_t size, size_t alignment, uint32_t scope)
{
	struct counting_allocator *a = user;
	void *p = NULL;

	(void)scope;
	FZ_CHECK(fz_is_pow2(alignment) && alignment <= 64 && size > 0);
	if (++a->calls == a->fail_at) {
		a->failed = true;
		return NULL;
	}
	if (posix_memalign(&p, FZ_MAX(alignment, sizeof(void *)), size)) {
		return NULL;
	}
	a->live++;
	return p;
}

static void ca_free(void *user, void *ptr)
{
	struct counting_allocator *a = user;

	FZ_CHECK(ptr != NULL); /* free(NULL) is never called */
	FZ_CHECK(a->live > 0);
	a->live--;
	free(ptr);
}

/* --- decoding ----------------------------------------------------------------------------- */

static const int errs[] = { -EIO, -EACCES, -EFAULT, -ENODEV, -EINTR, -ENOMEM, -EINVAL, -ENOENT };
/* Answers that are no errno: the library must turn them into -EIO. */
static const int garbage[] = { 1, 4096, -4096, INT_MIN, INT_MAX };

static int pick_err(struct fz *f)
{
	return errs[fz_pick(f, FZ_ARRAY_SIZE(errs))];
}

static uint32_t layout_size(uint32_t id)
{
	static const uint32_t sizes[] = { 0, 308, 1384, 104, 160, 16, 24, 16, 16, 16 };

	return id < FZ_ARRAY_SIZE(sizes) ? sizes[id] : 0;
}

/* What a kernel with everything a Venus context needs answers. */
static uint64_t natural(uint32_t p, uint32_t capset_id)
{
	switch (p) {
	case VGALLOC_PARAM_3D_FEATURES:
	case VGALLOC_PARAM_CAPSET_QUERY_FIX:
	case VGALLOC_PARAM_RESOURCE_BLOB:
	case VGALLOC_PARAM_HOST_VISIBLE:
	case VGALLOC_PARAM_CONTEXT_INIT:
		return 1;
	case VGALLOC_PARAM_SUPPORTED_CAPSET_IDS:
		return (capset_id < 64 ? 1ull << capset_id : 0) | (1ull << VGALLOC_CAPSET_VIRGL) |
		       (1ull << VGALLOC_CAPSET_VIRGL2);
	default:
		return 0;
	}
}

static void decode_answer(struct fz *f, uint32_t p, uint32_t capset_id, int *ret, uint64_t *val)
{
	uint8_t mode = fz_u8(f), arg = fz_u8(f);

	*ret = 0;
	switch (mode % 11) {
	case 0:
		/* Upstream param 9 is negotiated: absent unless asked for. */
		*val = natural(p, capset_id);
		if (p >= VGALLOC_PARAM_BLOB_ALIGNMENT) {
			*ret = -EINVAL;
		}
		break;
	case 1:
		*val = 0;
		break;
	case 2:
		*val = 1;
		break;
	case 3:
		*val = 1ull << (arg % 64);
		break;
	case 4:
		*val = arg;
		break;
	case 5:
		*ret = -EINVAL;
		break;
	case 6:
		*ret = -ENOENT;
		break;
	case 7:
		*ret = errs[arg % FZ_ARRAY_SIZE(errs)];
		break;
	case 8:
		*ret = garbage[arg % FZ_ARRAY_SIZE(garbage)];
		break;
	case 9:
		*val = natural(p, capset_id) | ((uint64_t)arg << 32);
		break;
	default:
		*val = UINT64_MAX - arg;
		break;
	}
}

static uint64_t decode_supplied(uint8_t sel, uint32_t p, uint32_t capset_id)
{
	switch (sel % 4) {
	case 0:
		return natural(p, capset_id) |
		       (p == VGALLOC_PARAM_BLOB_ALIGNMENT ? 4096u << (sel >> 5) : 0);
	case 1:
		return 0;
	case 2:
		return 1ull << (sel >> 2);
	default:
		return sel >> 2;
	}
}

/* --- the model ---------------------------------------------------------------------------- */

struct env_setting {
	uint32_t alloc_mode; /* 0 unset */
	bool no_suballoc;
	uint32_t log_level;
};

/* Everything the device was given and every answer its kernel gives, as the model sees it. */
struct world {
	struct vgalloc_device_create_info ci;
	bool mock;
	struct env_setting env;
	/* GETPARAM answers (mock mode: as the mock gives them before any fault). */
	int param_ret[NPARAMS];
	uint64_t param_val[NPARAMS];
	/* GET_CAPS: its answer and the bytes it copies (present or zero). */
	int capset_ret;
	const uint8_t *capset;
	size_t capset_len;
	/* Mock mode fault: kind, nth, errno; simulated for GETPARAM and GET_CAPS. */
	uint32_t fault_call, fault_nth;
	int fault_err;
	/* Observed results of the calls after GET_CAPS (configured, or read from the trace). */
	int ctx_ret, create_ret, map_ret;
};

struct expect {
	int ret;
	uint32_t getparams; /* GETPARAM calls made */
	uint32_t asked[NPARAMS];
	bool capset_read; /* GET_CAPS was called */
	bool ctx;         /* CONTEXT_INIT was called */
	bool self_test;   /* a self-test blob was created */
	/* On success. */
	bool known[NPARAMS];
	uint64_t val[NPARAMS];
	struct vgalloc_capset_info caps; /* id 0 when not interpreted */
	uint64_t blob_alignment;
	uint32_t alloc_mode, mode_reason;
	bool host_visible, cross_device, guest_vram, create_guest_handle;
	uint32_t flags;
};

static int sanitize(int ret)
{
	return ret > 0 || ret < -4095 ? -EIO : ret;
}

static bool fault_hits(struct world *w, uint32_t call, uint32_t *seen)
{
	if (!w->fault_nth || !vgalloc_mock_call_failable(call) ||
	    (w->fault_call != VGALLOC_MOCK_CALL_ANY && w->fault_call != call)) {
		return false;
	}
	return ++*seen == w->fault_nth;
}

static bool bad_create_info(const struct vgalloc_device_create_info *ci)
{
	const uint32_t known_flags = VGALLOC_DEVICE_PLACED_MAPS | VGALLOC_DEVICE_ALLOW_ENV |
	                             VGALLOC_DEVICE_NO_SUBALLOC | VGALLOC_DEVICE_CONTEXT_READY |
	                             VGALLOC_DEVICE_GUEST_VRAM | VGALLOC_DEVICE_SELF_TEST;
	uint32_t hp = ci->host_page_size;

	return (ci->mode != VGALLOC_DEVICE_MODE_OWN && ci->mode != VGALLOC_DEVICE_MODE_ADOPT) ||
	       (ci->mode == VGALLOC_DEVICE_MODE_ADOPT &&
	        !(ci->flags & VGALLOC_DEVICE_CONTEXT_READY)) ||
	       (ci->flags & ~known_flags) || ci->flavour > VGALLOC_FLAVOUR_GFXSTREAM ||
	       (hp && (!fz_is_pow2(hp) || hp < 4096 || hp > (1u << 20))) || ci->reserved1 ||
	       ci->alloc_mode > VGALLOC_ALLOC_MODE_GUEST_FIRST ||
	       ci->hypervisor_hint > VGALLOC_HYPERVISOR_STATIC ||
	       ci->log_level > VGALLOC_LOG_DEBUG || !ci->capset_id || ci->num_rings > 64 ||
	       (ci->params_present & 1) || (ci->params_present >> NPARAMS) ||
	       (ci->capset_data && !ci->capset_size);
}

static uint32_t last_param(uint32_t flavour)
{
	return flavour == VGALLOC_FLAVOUR_CHROMEOS    ? 11
	       : flavour == VGALLOC_FLAVOUR_GFXSTREAM ? 10
	                                              : 9;
}

static uint64_t or_zero(const struct expect *e, uint32_t p)
{
	return e->known[p] ? e->val[p] : 0;
}

static void model(struct world *w, struct expect *e)
{
	const struct vgalloc_device_create_info *ci = &w->ci;
	bool own = ci->mode == VGALLOC_DEVICE_MODE_OWN;
	uint32_t last = last_param(ci->flavour), seen = 0, id = ci->capset_id;
	unsigned char *bytes = NULL;
	uint32_t nbytes;
	long page;
	int ret;

	memset(e, 0, sizeof(*e));
	if (bad_create_info(ci)) {
		e->ret = -EINVAL;
		return;
	}
	/* Params: the caller's first, then GETPARAM up to the flavour's last; -EINVAL/-ENOENT is
	 * absence, any other error ends create. */
	for (uint32_t p = 1; p < NPARAMS; p++) {
		if (ci->params_present & (1u << p)) {
			e->known[p] = true;
			e->val[p] = ci->params[p];
			continue;
		}
		if (p > last) {
			continue;
		}
		ret = w->param_ret[p];
		if (fault_hits(w, VGALLOC_MOCK_CALL_GET_PARAM, &seen)) {
			ret = -w->fault_err;
		}
		e->asked[e->getparams++] = p;
		ret = sanitize(ret);
		if (ret == -EINVAL || ret == -ENOENT) {
			continue;
		}
		if (ret) {
			e->ret = ret;
			return;
		}
		e->known[p] = true;
		e->val[p] = w->param_val[p];
	}
	if (own) {
		if (or_zero(e, 1) != 1 || or_zero(e, 2) != 1 || or_zero(e, 3) != 1 ||
		    or_zero(e, 6) != 1 || id >= 64 || !(or_zero(e, 7) & (1ull << id))) {
			e->ret = -EOPNOTSUPP;
			return;
		}
	} else if (or_zero(e, VGALLOC_PARAM_RESOURCE_BLOB) != 1) {
		e->ret = -EOPNOTSUPP;
		return;
	}
	/* Capset bytes: the caller's copy, or GET_CAPS into a zeroed buffer of the layout size. */
	if (ci->capset_data) {
		if (ci->capset_size > CAPSET_MAX) {
			e->ret = -EINVAL;
			return;
		}
		nbytes = ci->capset_size;
		bytes = malloc(nbytes);
		memcpy(bytes, ci->capset_data, nbytes);
	} else {
		nbytes = layout_size(id) ? layout_size(id) : 256;
		e->capset_read = true;
		ret = w->capset_ret;
		if (fault_hits(w, VGALLOC_MOCK_CALL_GET_CAPSET, &seen)) {
			ret = -w->fault_err;
		}
		ret = sanitize(ret);
		if (ret) {
			e->ret = ret == -EINVAL ? -EOPNOTSUPP : ret;
			return;
		}
		bytes = calloc(1, nbytes);
		memcpy(bytes, w->capset, FZ_MIN(nbytes, w->capset_len));
	}
	e->caps.struct_size = sizeof(e->caps);
	ret = vgalloc_capset_parse(id, bytes, nbytes, VGALLOC_CAPSET_FROM_DEVICE, &e->caps);
	free(bytes);
	if (ret == -EOPNOTSUPP) {
		memset(&e->caps, 0, sizeof(e->caps));
	} else if (ret) {
		e->ret = -EIO;
		return;
	}
	if (own) {
		e->ctx = true;
		if (w->ctx_ret) {
			e->ret = sanitize(w->ctx_ret);
			return;
		}
	}

	/* Traits. */
	e->host_visible = or_zero(e, VGALLOC_PARAM_HOST_VISIBLE) == 1;
	e->cross_device = or_zero(e, VGALLOC_PARAM_CROSS_DEVICE) == 1;
	e->flags = ci->flags | (w->env.no_suballoc ? VGALLOC_DEVICE_NO_SUBALLOC : 0);
	if (ci->flavour == VGALLOC_FLAVOUR_CHROMEOS) {
		e->create_guest_handle = or_zero(e, CROS_CREATE_GUEST_HANDLE) == 1;
		e->guest_vram = or_zero(e, CROS_GUEST_VRAM) == 1;
	} else if (ci->flavour == VGALLOC_FLAVOUR_GFXSTREAM) {
		e->create_guest_handle = or_zero(e, GFXSTREAM_GUEST_HANDLE) == 1;
	}
	e->guest_vram |= (ci->flags & VGALLOC_DEVICE_GUEST_VRAM) != 0;
	e->blob_alignment = 4096;
	page = sysconf(_SC_PAGESIZE);
	if (page > 0 && (uint64_t)page > e->blob_alignment) {
		e->blob_alignment = (uint64_t)page;
	}
	if (ci->flavour == VGALLOC_FLAVOUR_UPSTREAM && e->known[VGALLOC_PARAM_BLOB_ALIGNMENT]) {
		uint64_t v = e->val[VGALLOC_PARAM_BLOB_ALIGNMENT];

		if (fz_is_pow2(v) && v >= 4096 && v <= (1ull << 30)) {
			e->blob_alignment = FZ_MAX(e->blob_alignment, v);
		} else {
			e->known[VGALLOC_PARAM_BLOB_ALIGNMENT] = false; /* logged and ignored */
		}
	}
	switch (e->caps.id) {
	case VGALLOC_CAPSET_GFXSTREAM_VULKAN:
		e->blob_alignment =
		        FZ_MAX(e->blob_alignment, e->caps.u.gfxstream_vulkan.blob_alignment);
		break;
	case VGALLOC_CAPSET_GFXSTREAM_MAGMA:
	case VGALLOC_CAPSET_GFXSTREAM_GLES:
	case VGALLOC_CAPSET_GFXSTREAM_COMPOSER:
		e->blob_alignment = FZ_MAX(e->blob_alignment, e->caps.u.gfxstream.blob_alignment);
		break;
	default:
		break;
	}
	e->blob_alignment = FZ_MAX(e->blob_alignment, ci->host_page_size);

	/* Allocation order: env override, create-info, guest vram, capset, hint, host-first. */
	if (w->env.alloc_mode) {
		e->alloc_mode = w->env.alloc_mode;
		e->mode_reason = VGALLOC_MODE_REASON_ENV;
	} else if (ci->alloc_mode) {
		e->alloc_mode = ci->alloc_mode;
		e->mode_reason = VGALLOC_MODE_REASON_OVERRIDE;
	} else if (e->guest_vram) {
		e->alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST;
		e->mode_reason = VGALLOC_MODE_REASON_GUEST_VRAM;
	} else if (e->caps.id == VGALLOC_CAPSET_VENUS && e->caps.u.venus.use_guest_vram == 1) {
		e->alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST;
		e->mode_reason = VGALLOC_MODE_REASON_CAPSET;
	} else if (ci->hypervisor_hint == VGALLOC_HYPERVISOR_STATIC) {
		e->alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST;
		e->mode_reason = VGALLOC_MODE_REASON_HINT;
	} else {
		e->alloc_mode = VGALLOC_ALLOC_MODE_HOST_FIRST;
		e->mode_reason = VGALLOC_MODE_REASON_DEFAULT;
	}

	/* The self-test: one HOST3D blob of the blob alignment, mapped and freed, else -EIO. */
	if (own && (ci->flags & VGALLOC_DEVICE_SELF_TEST) && e->caps.id == VGALLOC_CAPSET_VENUS &&
	    e->caps.u.venus.supports_blob_id_0) {
		/* A MAPPABLE blob needs the host-visible window. */
		if (!e->host_visible) {
			e->ret = -EIO;
			return;
		}
		e->self_test = true;
		if (w->create_ret || w->map_ret) {
			e->ret = -EIO;
			return;
		}
	}
	e->ret = 0;
}

/* --- checks on the device ----------------------------------------------------------------- */

static uint32_t log_level_now;

static void log_fn(void *user, enum vgalloc_log_level level, const char *msg)
{
	(void)user;
	FZ_CHECK(msg && msg[0] && strlen(msg) < 4096);
	FZ_CHECK(level >= VGALLOC_LOG_ERROR && (uint32_t)level <= log_level_now);
}

static void check_device(struct vgalloc_device *dev, const struct world *w, const struct expect *e)
{
	struct vgalloc_device_info info = { .struct_size = sizeof(info) };
	struct vgalloc_capset_info caps = { .struct_size = sizeof(caps) };
	const char *prefix;
	char text[4096];
	uint64_t v;
	int ret;

	FZ_CHECK_EQ(vgalloc_device_get_info(dev, &info), 0);
	FZ_CHECK_EQ(info.struct_size, sizeof(info));
	FZ_CHECK_EQ(info.mode, w->ci.mode);
	FZ_CHECK_EQ(info.capset_id, w->ci.capset_id);
	FZ_CHECK_EQ(info.blob_alignment, e->blob_alignment);
	FZ_CHECK_EQ(info.alloc_mode, e->alloc_mode);
	FZ_CHECK_EQ(info.mode_reason, e->mode_reason);
	FZ_CHECK_EQ(info.has_host_visible, e->host_visible);
	FZ_CHECK_EQ(info.has_cross_device, e->cross_device);
	FZ_CHECK_EQ(info.guest_vram, e->guest_vram);
	FZ_CHECK_EQ(info.create_guest_handle, e->create_guest_handle);
	FZ_CHECK_EQ(info.flags, e->flags);
	FZ_CHECK_EQ(info.flavour, w->ci.flavour);
	FZ_CHECK_EQ(info.memory_type_count, w->ci.memory_type_count);
	FZ_CHECK_EQ(info.max_suballoc_size,
	            w->ci.max_suballoc_size ? w->ci.max_suballoc_size : 4ull << 20);
	FZ_CHECK(fz_is_pow2(info.blob_alignment) && info.blob_alignment >= 4096);

	for (uint32_t p = 0; p <= NPARAMS; p++) {
		v = 0xdeadull;
		ret = vgalloc_device_get_param(dev, p, &v);
		if (p >= NPARAMS) {
			FZ_CHECK_EQ(ret, -EINVAL);
		} else if (p && e->known[p]) {
			FZ_CHECK_EQ(ret, 0);
			FZ_CHECK(v == e->val[p]);
		} else {
			FZ_CHECK_EQ(ret, -ENOENT);
			FZ_CHECK(v == 0xdeadull);
		}
	}
	FZ_CHECK_EQ(vgalloc_device_get_param(dev, 1, NULL), -EINVAL);

	/* The context's capset is answered from the bytes read at create. */
	ret = vgalloc_device_read_capset(dev, w->ci.capset_id, &caps);
	if (e->caps.id) {
		FZ_CHECK_EQ(ret, 0);
		FZ_CHECK(!memcmp(&caps.u, &e->caps.u, sizeof(caps.u)));
		FZ_CHECK_EQ(caps.present_fields, e->caps.present_fields);
	} else {
		FZ_CHECK_EQ(ret, -EOPNOTSUPP);
	}
	caps.struct_size = sizeof(caps) - 1;
	FZ_CHECK_EQ(vgalloc_device_read_capset(dev, w->ci.capset_id, &caps), -EINVAL);

	/* Other capsets: only those SUPPORTED_CAPSET_IDS names and this library knows. */
	for (uint32_t id = 0; id <= 10; id++) {
		struct vgalloc_capset_info other = { .struct_size = sizeof(other) };
		struct vgalloc_capset_info want = { .struct_size = sizeof(want) };
		unsigned char *buf;
		int exp;

		if (id == w->ci.capset_id) {
			continue;
		}
		ret = vgalloc_device_read_capset(dev, id, &other);
		if (!layout_size(id) ||
		    !(or_zero(e, VGALLOC_PARAM_SUPPORTED_CAPSET_IDS) & (1ull << id))) {
			FZ_CHECK_EQ(ret, -EOPNOTSUPP);
			continue;
		}
		if (w->mock) {
			continue; /* the mock holds other bytes per capset */
		}
		exp = sanitize(w->capset_ret);
		if (exp == -EINVAL) {
			exp = -EOPNOTSUPP;
		}
		if (!exp) {
			buf = calloc(1, layout_size(id));
			memcpy(buf, w->capset, FZ_MIN(layout_size(id), w->capset_len));
			exp = vgalloc_capset_parse(id, buf, layout_size(id),
			                           VGALLOC_CAPSET_FROM_DEVICE, &want);
			free(buf);
		}
		FZ_CHECK_EQ(ret, exp);
		if (!ret) {
			FZ_CHECK(!memcmp(&other.u, &want.u, sizeof(want.u)));
		}
	}

	/* The explanation names the order and the alignment the device settled on. */
	ret = vgalloc_plan_explain(dev, NULL, text, sizeof(text));
	FZ_CHECK(ret > 0 && (size_t)ret < sizeof(text) && strlen(text) == (size_t)ret);
	prefix = e->alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST ? "device: guest-first"
	                                                         : "device: host-first";
	FZ_CHECK(!strncmp(text, prefix, strlen(prefix)));
	FZ_CHECK_EQ(vgalloc_plan_explain(dev, NULL, NULL, 0), ret);
	memset(text, 0x5a, 32);
	FZ_CHECK_EQ(vgalloc_plan_explain(dev, NULL, text, 16), ret);
	FZ_CHECK(strlen(text) == 15 && !strncmp(text, prefix, 15));
	FZ_CHECK_EQ(vgalloc_plan_explain(dev, NULL, NULL, 1), -EINVAL);
	FZ_CHECK_EQ(vgalloc_plan_explain(NULL, NULL, text, sizeof(text)), -EINVAL);
	FZ_CHECK_EQ(vgalloc_device_get_param(NULL, 1, &v), -EINVAL);
	FZ_CHECK_EQ(vgalloc_device_read_capset(NULL, w->ci.capset_id, &caps), -EINVAL);
	FZ_CHECK_EQ(vgalloc_device_read_capset(dev, w->ci.capset_id, NULL), -EINVAL);
	FZ_CHECK_EQ(vgalloc_device_get_info(NULL, &info), -EINVAL);
}

/* --- the run ------------------------------------------------------------------------------ */

static void set_env(const struct env_setting *env)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };

	if (env->alloc_mode == VGALLOC_ALLOC_MODE_HOST_FIRST) {
		setenv("VGALLOC_ALLOC_MODE", "host", 1);
	} else if (env->alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST) {
		setenv("VGALLOC_ALLOC_MODE", "guest", 1);
	} else {
		unsetenv("VGALLOC_ALLOC_MODE");
	}
	if (env->no_suballoc) {
		setenv("VGALLOC_NO_SUBALLOC", "1", 1);
	} else {
		unsetenv("VGALLOC_NO_SUBALLOC");
	}
	if (env->log_level) {
		setenv("VGALLOC_DEBUG", levels[env->log_level - 1], 1);
	} else {
		unsetenv("VGALLOC_DEBUG");
	}
}

/* Read what the mock answers before the device asks, so the model can use the same answers. */
static void query_mock(struct vgalloc_mock *mock, struct world *w, unsigned char *capset)
{
	struct vgalloc_backend *be = (struct vgalloc_backend *)(void *)mock;
	const struct vgalloc_backend_ops *ops = be->ops;
	uint32_t id = w->ci.capset_id;
	uint32_t n = layout_size(id) ? layout_size(id) : 256;

	for (uint32_t p = 1; p < NPARAMS; p++) {
		w->param_val[p] = 0;
		w->param_ret[p] = ops->get_param(be, p, &w->param_val[p]);
	}
	memset(capset, 0, CAPSET_MAX);
	w->capset_ret = ops->get_capset(be, id, 0, capset, n);
	w->capset = capset;
	w->capset_len = n;
}

/* Results of the calls after GET_CAPS, as the mock's trace recorded them. */
static void trace_results(struct vgalloc_mock *mock, struct world *w)
{
	static struct vgalloc_mock_trace_entry trace[256];
	int n = vgalloc_mock_get_trace(mock, trace, 256);

	w->ctx_ret = w->create_ret = w->map_ret = 0;
	for (int i = 0; i < n; i++) {
		switch (trace[i].call) {
		case VGALLOC_MOCK_CALL_CONTEXT_INIT:
			w->ctx_ret = trace[i].result;
			break;
		case VGALLOC_MOCK_CALL_BLOB_CREATE:
			w->create_ret = trace[i].result;
			break;
		case VGALLOC_MOCK_CALL_BLOB_MAP:
			w->map_ret = trace[i].result;
			break;
		default:
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vgalloc_memory_type types[2] = {
		{ .struct_size = sizeof(types[0]),
		  .host_index = 0,
		  .property_flags = VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL },
		{ .struct_size = sizeof(types[0]),
		  .host_index = 1,
		  .property_flags = VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
		                    VGALLOC_MEMORY_PROPERTY_HOST_COHERENT },
	};
	static unsigned char capset_buf[CAPSET_MAX + 64];
	static unsigned char mock_capset[CAPSET_MAX];
	static struct fake fake;
	static struct counting_allocator alloc_state;
	const struct vgalloc_allocator allocator = { &alloc_state, ca_alloc, ca_free };
	struct fz f = fz_init(data, size < HEADER_SIZE ? size : HEADER_SIZE);
	const uint8_t *tail = data + (size < HEADER_SIZE ? size : HEADER_SIZE);
	size_t tail_len = size - (size_t)(tail - data);
	struct vgalloc_mock *mock = NULL;
	struct vgalloc_device *dev = NULL;
	struct world w;
	struct expect e;
	uint8_t b, capset_mode, mock_sel;
	int ret;

	memset(&w, 0, sizeof(w));
	memset(&fake, 0, sizeof(fake));
	w.ci.struct_size = sizeof(w.ci);
	b = fz_u8(&f);
	w.ci.capset_id = b == 0 ? VGALLOC_CAPSET_VENUS : b == 255 ? 0 : b % 72;
	b = fz_u8(&f);
	w.ci.mode = (uint32_t[]){ VGALLOC_DEVICE_MODE_OWN, VGALLOC_DEVICE_MODE_ADOPT, 0, 3 }[b % 4];
	b = fz_u8(&f);
	w.ci.flags = (b & 0x3f) | (b & 0x40 ? 1u << (8 + (b >> 7)) : 0);
	if (w.ci.mode == VGALLOC_DEVICE_MODE_ADOPT) {
		w.ci.flags ^= VGALLOC_DEVICE_CONTEXT_READY;
	}
	capset_mode = fz_u8(&f);
	mock_sel = fz_u8(&f);
	b = fz_u8(&f);
	alloc_state = (struct counting_allocator){ .fail_at = b < 192 ? 0 : b - 191 };
	w.capset_ret = pick_err(&f);
	w.ci.flavour = fz_pick(&f, 4);
	w.ci.alloc_mode = fz_pick(&f, 4);
	w.ci.hypervisor_hint = fz_pick(&f, 4);
	w.ci.log_level = fz_pick(&f, 6);
	b = fz_u8(&f);
	w.ci.num_rings = b < 200 ? b % 65 : 65;
	w.ci.debug_name = fz_bool(&f) ? "fuzz-context" : NULL;
	b = fz_u8(&f);
	w.ci.host_page_size = b == 0 ? 0 : b < 12 ? 4096u << (b - 1) : b < 14 ? 3u << 12 : 0;
	b = fz_u8(&f);
	w.ci.reserved1 = b == 255; /* rarely set: the create must then fail */
	w.ctx_ret = fz_bool(&f) ? pick_err(&f) : 0;
	w.create_ret = fz_bool(&f) ? pick_err(&f) : 0;
	w.map_ret = fz_bool(&f) ? pick_err(&f) : 0;
	w.ci.params_present = fz_u16(&f);
	b = fz_u8(&f);
	if (w.ci.flags & VGALLOC_DEVICE_ALLOW_ENV) {
		w.env.alloc_mode = b % 4 == 3 ? 0 : b % 4;
		w.env.no_suballoc = b & 4;
		w.env.log_level = (b >> 3) % 5;
		set_env(&w.env);
		/* "bogus" is no mode: ignored. */
		if (b % 4 == 3) {
			setenv("VGALLOC_ALLOC_MODE", "bogus", 1);
		}
	}
	for (uint32_t p = 1; p < NPARAMS; p++) {
		decode_answer(&f, p, w.ci.capset_id, &w.param_ret[p], &w.param_val[p]);
	}
	for (uint32_t p = 1; p < NPARAMS; p++) {
		w.ci.params[p] = decode_supplied(fz_u8(&f), p, w.ci.capset_id);
	}
	w.ci.max_suballoc_size = fz_bool(&f) ? 1ull << fz_pick(&f, 40) : 0;

	/* Capset bytes: the tail. Mode 1 hands them over in the create-info (any mode may). */
	tail_len = FZ_MIN(tail_len, CAPSET_MAX + 64);
	w.capset = tail;
	w.capset_len = tail_len;
	switch (capset_mode % 5) {
	case 1:
	case 2:
		memset(capset_buf, 0, sizeof(capset_buf));
		memcpy(capset_buf, tail, tail_len);
		w.ci.capset_data = capset_buf;
		/* Mode 2: a size of its own, up to past the largest capset kept (-EINVAL). */
		w.ci.capset_size = capset_mode % 5 == 1 ? (uint32_t)tail_len
		                                        : (uint32_t)(capset_mode >> 3) * 136 + 1;
		break;
	case 3:
		break; /* GET_CAPS fails with capset_ret */
	default:
		w.capset_ret = 0;
		break;
	}
	w.ci.memory_types = types;
	w.ci.memory_type_count = 2;
	w.ci.allocator = &allocator;
	w.ci.log_fn = log_fn;
	log_level_now = w.ci.log_level;
	if (w.env.log_level) {
		log_level_now = w.env.log_level;
	}

	if (mock_sel & 1) {
		/* The mock answers; one fault may be injected into any call kind. */
		struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi) };
		static const uint32_t kinds[] = {
			VGALLOC_MOCK_CALL_GET_PARAM,    VGALLOC_MOCK_CALL_GET_CAPSET,
			VGALLOC_MOCK_CALL_CONTEXT_INIT, VGALLOC_MOCK_CALL_ANY,
			VGALLOC_MOCK_CALL_BLOB_CREATE,  VGALLOC_MOCK_CALL_BLOB_MAP
		};

		mi.profile =
		        mock_sel & 2 ? VGALLOC_MOCK_PROFILE_STATIC : VGALLOC_MOCK_PROFILE_INJECTING;
		mi.flags = fz_u16(&f) & 0x3ff;
		b = fz_u8(&f);
		mi.host_page_size = b % 8 ? 4096u << (b % 8 - 1) : 0;
		b = fz_u8(&f);
		mi.venus_capset_size = (uint32_t[]){ 0, 148, 152, 156, 160, 64, 200, 4 }[b % 8];
		mi.supported_capsets = fz_u16(&f) & ~1u;
		if (vgalloc_mock_create(&mi, &mock)) {
			return 0;
		}
		if (tail_len && w.ci.capset_id && w.ci.capset_id < 64 && (capset_mode & 0x80)) {
			vgalloc_mock_set_capset(mock, w.ci.capset_id, 0, tail, (uint32_t)tail_len);
		}
		w.mock = true;
		query_mock(mock, &w, mock_capset);
		b = fz_u8(&f);
		if (b % 7) {
			w.fault_call = kinds[b % 7 - 1];
			w.fault_nth = 1 + fz_pick(&f, 12);
			w.fault_err = -pick_err(&f);
		}
		vgalloc_mock_reset_counters(mock);
		if (w.fault_nth) {
			FZ_CHECK_EQ(
			        vgalloc_mock_fail_nth(mock, w.fault_call, w.fault_nth, w.fault_err),
			        0);
		}
		w.ci.backend = VGALLOC_BACKEND_MOCK;
		w.ci.backend_object = mock;
	} else {
		fake.base.magic = VGALLOC_BACKEND_MAGIC;
		fake.base.ops = &fake_ops;
		fake.own = w.ci.mode == VGALLOC_DEVICE_MODE_OWN;
		memcpy(fake.param_ret, w.param_ret, sizeof(fake.param_ret));
		memcpy(fake.param_val, w.param_val, sizeof(fake.param_val));
		fake.capset_ret = w.capset_ret;
		fake.capset = w.capset;
		fake.capset_len = w.capset_len;
		fake.ctx_ret = w.ctx_ret;
		fake.create_ret = w.create_ret;
		fake.map_ret = w.map_ret;
		fake.debug_name = w.ci.debug_name;
		w.ci.backend = VGALLOC_BACKEND_CUSTOM;
		w.ci.backend_object = &fake;
	}

	ret = vgalloc_device_create(&w.ci, &dev);
	if (w.mock) {
		trace_results(mock, &w);
		vgalloc_mock_fail_clear(mock);
	}
	model(&w, &e);
	if (alloc_state.failed) {
		/* Out of memory: -ENOMEM, or the self-test's -EIO; nothing kept, nothing leaked. */
		if (ret != -ENOMEM && !(ret == -EIO && e.self_test)) {
			fz_fail(__FILE__, __LINE__, "allocation %llu failed, create returned %d",
			        (unsigned long long)alloc_state.fail_at, ret);
		}
		FZ_CHECK(!dev);
		FZ_CHECK_EQ(alloc_state.live, 0);
		if (!w.mock) {
			FZ_CHECK_EQ(fake.destroys, fake.created);
			FZ_CHECK_EQ(fake.unmaps, fake.mapped);
		}
		vgalloc_mock_destroy(mock);
		return 0;
	}
	alloc_state.fail_at = 0;
	if (ret != e.ret) {
		fz_fail(__FILE__, __LINE__, "vgalloc_device_create returned %d, the model %d", ret,
		        e.ret);
	}
	FZ_CHECK(!ret == (dev != NULL));

	if (!w.mock) {
		/* The calls the fake kernel saw are the ones the rules make. */
		FZ_CHECK_EQ(fake.nparams, e.getparams);
		for (uint32_t i = 0; i < e.getparams; i++) {
			FZ_CHECK_EQ(fake.params_asked[i], e.asked[i]);
		}
		FZ_CHECK_EQ(fake.capset_calls, e.capset_read);
		if (e.capset_read) {
			uint32_t id = w.ci.capset_id;

			FZ_CHECK_EQ(fake.capset_id, id);
			FZ_CHECK_EQ(fake.capset_version, 0);
			FZ_CHECK_EQ(fake.capset_size, layout_size(id) ? layout_size(id) : 256);
		}
		FZ_CHECK_EQ(fake.ctx_calls, e.ctx);
		FZ_CHECK(!fake.early_call);
		if (e.ctx) {
			uint32_t n = 1;

			FZ_CHECK_EQ(fake.ctx[0].param, VGALLOC_CONTEXT_PARAM_CAPSET_ID);
			FZ_CHECK_EQ(fake.ctx[0].value, w.ci.capset_id);
			if (w.ci.num_rings) {
				FZ_CHECK_EQ(fake.ctx[n].param, VGALLOC_CONTEXT_PARAM_NUM_RINGS);
				FZ_CHECK_EQ(fake.ctx[n].value, w.ci.num_rings);
				n++;
			}
			/* DEBUG_NAME only where the kernel says it knows it, never on ChromeOS. */
			if (w.ci.debug_name && w.ci.flavour != VGALLOC_FLAVOUR_CHROMEOS &&
			    or_zero(&e, VGALLOC_PARAM_EXPLICIT_DEBUG_NAME) == 1) {
				FZ_CHECK_EQ(fake.ctx[n].param, VGALLOC_CONTEXT_PARAM_DEBUG_NAME);
				FZ_CHECK(fake.ctx_name_ok);
				n++;
			}
			FZ_CHECK_EQ(fake.ctx_count, n);
		}
		FZ_CHECK_EQ(fake.creates, e.self_test);
		if (e.self_test) {
			FZ_CHECK_EQ(fake.create_size, e.blob_alignment);
			FZ_CHECK_EQ(fake.create_mem, VGALLOC_BLOB_MEM_HOST3D);
			FZ_CHECK_EQ(fake.create_flags, VGALLOC_BLOB_FLAG_MAPPABLE);
		}
		/* Every blob made is closed, every mapping unmapped, on success and on failure. */
		FZ_CHECK_EQ(fake.destroys, fake.created);
		FZ_CHECK_EQ(fake.unmaps, fake.mapped);
	} else {
		struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };

		FZ_CHECK_EQ(vgalloc_mock_get_ledger(mock, &l), 0);
		FZ_CHECK_EQ(l.calls[VGALLOC_MOCK_CALL_GET_PARAM], e.getparams);
		FZ_CHECK_EQ(l.calls[VGALLOC_MOCK_CALL_GET_CAPSET], e.capset_read);
		FZ_CHECK_EQ(l.calls[VGALLOC_MOCK_CALL_CONTEXT_INIT], e.ctx);
		FZ_CHECK_EQ(l.live_handles, 0);
		FZ_CHECK_EQ(l.mapped_blobs, 0);
		FZ_CHECK_EQ(l.order_violations, 0);
		if (!ret && w.ci.mode == VGALLOC_DEVICE_MODE_OWN) {
			FZ_CHECK_EQ(l.context, 2);
		}
	}

	if (dev) {
		check_device(dev, &w, &e);
	}
	vgalloc_device_destroy(dev);
	/* Every byte the library kept went through the allocator and came back. */
	FZ_CHECK_EQ(alloc_state.live, 0);
	vgalloc_mock_destroy(mock);
	return 0;
}
