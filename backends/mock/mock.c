/* SPDX-License-Identifier: MIT */
/*
 * The mock backend's object: create and destroy, its capsets and kernel queries (GETPARAM,
 * GET_CAPS, CONTEXT_INIT), the ops table, and the public face of its ledger, trace and fault
 * injection. It stands on the other mock files and nothing calls up into it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mock_state.h"

#define MOCK_ALL_FLAGS                                                                       \
	(VGALLOC_MOCK_COUNTING_ONLY | VGALLOC_MOCK_NO_WINDOW | VGALLOC_MOCK_NO_3D |          \
	 VGALLOC_MOCK_CROSS_DEVICE | VGALLOC_MOCK_DEBUG_NAME | VGALLOC_MOCK_BLOB_ALIGNMENT | \
	 VGALLOC_MOCK_GUEST_VRAM_OFF | VGALLOC_MOCK_NO_BLOB | VGALLOC_MOCK_NO_CONTEXT_INIT | \
	 VGALLOC_MOCK_NO_BLOB_ID_0 | VGALLOC_MOCK_GUEST_HANDLE | VGALLOC_MOCK_IN_ORDER |     \
	 VGALLOC_MOCK_HOST_BLOB_ID)

/* Sizes QEMU 10 + virglrenderer 1.1 report (VMRIG.md); Venus 160 is its version-0 layout. */
#define MOCK_VIRGL_CAPSET_SIZE  308u
#define MOCK_VIRGL2_CAPSET_SIZE 1384u
#define MOCK_VENUS_CAPSET_SIZE  160u
/* A capset id the mock has no layout for is hosted as zeros until set_capset replaces it. */
#define MOCK_OTHER_CAPSET_SIZE 64u
/* Generous bound so a "future" Venus capset (fields appended) can be modelled. */
#define MOCK_MAX_VENUS_CAPSET_SIZE 4096u
/* Offset of the Venus capset's use_guest_vram (version-0 layout). */
#define MOCK_VENUS_USE_GUEST_VRAM 156u

/* ---------------------------------------------------------------------------------------------
 * Capsets.
 */

static void put_u32(uint8_t *p, uint32_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static struct mock_capset *capset_find(struct vgalloc_mock *m, uint32_t id)
{
	for (uint32_t i = 0; i < m->capset_count; i++) {
		if (m->capsets[i].id == id) {
			return &m->capsets[i];
		}
	}
	return NULL;
}

static int capset_store(struct vgalloc_mock *m, uint32_t id, uint32_t version, const void *data,
                        uint32_t size)
{
	struct mock_capset *cs = capset_find(m, id);
	uint8_t *copy = malloc(size);

	if (!copy) {
		return -ENOMEM;
	}
	memcpy(copy, data, size);
	if (!cs) {
		struct mock_capset *grown =
		        realloc(m->capsets, (m->capset_count + 1) * sizeof(*m->capsets));

		if (!grown) {
			free(copy);
			return -ENOMEM;
		}
		m->capsets = grown;
		cs = &m->capsets[m->capset_count++];
		cs->id = id;
		cs->data = NULL;
	}
	free(cs->data);
	cs->data = copy;
	cs->size = size;
	cs->version = version;
	m->capset_mask |= 1ull << id;
	return 0;
}

static void capset_remove(struct vgalloc_mock *m, uint32_t id)
{
	struct mock_capset *cs = capset_find(m, id);

	m->capset_mask &= ~(1ull << id);
	if (!cs) {
		return;
	}
	free(cs->data);
	*cs = m->capsets[--m->capset_count];
}

/* The default capsets of the modelled host: the layouts of VMRIG.md's QEMU + virglrenderer. */
static int capsets_init(struct vgalloc_mock *m, uint32_t mask, uint32_t venus_size)
{
	uint8_t venus[MOCK_MAX_VENUS_CAPSET_SIZE] = { 0 };
	uint8_t *buf;
	int ret = 0;

	buf = calloc(1, MOCK_VIRGL2_CAPSET_SIZE);
	if (!buf) {
		return -ENOMEM;
	}
	/* wire_format_version, vk_xml_version (1.4.0), the command serialization and Venus
	 * protocol spec versions, then supports_blob_id_0. */
	put_u32(venus, 0, 1);
	put_u32(venus, 4, (1u << 22) | (4u << 12));
	put_u32(venus, 8, 1);
	put_u32(venus, 12, 1);
	put_u32(venus, 16, (m->flags & VGALLOC_MOCK_NO_BLOB_ID_0) ? 0 : 1);
	put_u32(venus, 148, 1); /* allow_vk_wait_syncs */
	put_u32(venus, 152, 1); /* supports_multiple_timelines */
	put_u32(venus, MOCK_VENUS_USE_GUEST_VRAM, m->guest_vram ? 1 : 0);

	for (uint32_t id = 1; id < 32 && ret == 0; id++) {
		if (!(mask & (1u << id))) {
			continue;
		}
		memset(buf, 0, MOCK_VIRGL2_CAPSET_SIZE);
		switch (id) {
		case VGALLOC_CAPSET_VIRGL:
			put_u32(buf, 0, 1); /* max_version */
			ret = capset_store(m, id, 1, buf, MOCK_VIRGL_CAPSET_SIZE);
			break;
		case VGALLOC_CAPSET_VIRGL2:
			put_u32(buf, 0, 2);
			ret = capset_store(m, id, 2, buf, MOCK_VIRGL2_CAPSET_SIZE);
			break;
		case VGALLOC_CAPSET_VENUS:
			ret = capset_store(m, id, 0, venus, venus_size);
			break;
		default:
			ret = capset_store(m, id, 0, buf, MOCK_OTHER_CAPSET_SIZE);
			break;
		}
	}
	free(buf);
	return ret;
}

/*
 * A host advertises use_guest_vram = 1 in its Venus capset because its hypervisor cannot inject
 * host pages into the window (the memory behind it is static), and its renderer then makes the
 * resources of unknown blob ids over guest memory. So the capset decides the profile unless the
 * caller fixed one. The value is the one a guest reads: its 160-byte buffer is zero-filled and
 * GET_CAPS copies only the bytes the host has, so bytes past the capset's end read 0.
 */
static void profile_follow_capset_locked(struct vgalloc_mock *m)
{
	const struct mock_capset *cs = capset_find(m, VGALLOC_CAPSET_VENUS);
	uint8_t word[4] = { 0 };
	uint32_t use_guest_vram;

	if (!m->profile_from_capset) {
		return;
	}
	if (cs && cs->size > MOCK_VENUS_USE_GUEST_VRAM) {
		uint32_t n = cs->size - MOCK_VENUS_USE_GUEST_VRAM;

		memcpy(word, cs->data + MOCK_VENUS_USE_GUEST_VRAM, n < 4 ? n : 4);
	}
	memcpy(&use_guest_vram, word, sizeof(use_guest_vram));
	m->guest_vram = use_guest_vram == 1;
	m->profile = m->guest_vram ? VGALLOC_MOCK_PROFILE_STATIC : VGALLOC_MOCK_PROFILE_INJECTING;
}

VGALLOC_API int vgalloc_mock_set_capset(struct vgalloc_mock *mock, uint32_t id, uint32_t version,
                                        const void *data, uint32_t size)
{
	int ret = 0;

	if (!mock || id == 0 || id > MOCK_MAX_CAPSET_ID || (size != 0 && !data)) {
		return -EINVAL;
	}
	pthread_mutex_lock(&mock->lock);
	if (size == 0) {
		capset_remove(mock, id);
	} else {
		ret = capset_store(mock, id, version, data, size);
	}
	if (ret == 0 && id == VGALLOC_CAPSET_VENUS) {
		profile_follow_capset_locked(mock);
	}
	pthread_mutex_unlock(&mock->lock);
	return ret;
}

/* ---------------------------------------------------------------------------------------------
 * Kernel queries and CONTEXT_INIT.
 */

static int get_param_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	uint32_t f = m->flags;
	uint64_t v;

	switch (op->e.blob_id) {
	case VGALLOC_PARAM_3D_FEATURES:
		v = !(f & VGALLOC_MOCK_NO_3D);
		break;
	case VGALLOC_PARAM_CAPSET_QUERY_FIX:
		v = 1;
		break;
	case VGALLOC_PARAM_RESOURCE_BLOB:
		v = !(f & VGALLOC_MOCK_NO_BLOB);
		break;
	case VGALLOC_PARAM_HOST_VISIBLE:
		v = !(f & VGALLOC_MOCK_NO_WINDOW);
		break;
	case VGALLOC_PARAM_CROSS_DEVICE:
		v = !!(f & VGALLOC_MOCK_CROSS_DEVICE);
		break;
	case VGALLOC_PARAM_CONTEXT_INIT:
		v = !(f & VGALLOC_MOCK_NO_CONTEXT_INIT);
		break;
	case VGALLOC_PARAM_SUPPORTED_CAPSET_IDS:
		v = m->capset_mask;
		break;
	case VGALLOC_PARAM_EXPLICIT_DEBUG_NAME:
		v = !!(f & VGALLOC_MOCK_DEBUG_NAME);
		break;
	case VGALLOC_PARAM_BLOB_ALIGNMENT:
		/* Upstream param 9 exists only on kernels that negotiated it with the device. */
		if (!(f & VGALLOC_MOCK_BLOB_ALIGNMENT)) {
			return -ENOENT;
		}
		v = m->host_page;
		break;
	case 10:
		/* gfxstream's CREATE_GUEST_HANDLE: only a downstream kernel that negotiated it has
		 * the param at all; mainline answers -EINVAL. */
		if (!(f & VGALLOC_MOCK_GUEST_HANDLE)) {
			return -EINVAL;
		}
		v = 1;
		break;
	default:
		return -EINVAL;
	}
	if (!op->value) {
		return -EFAULT;
	}
	*op->value = v;
	op->e.size = v;
	return 0;
}

static int op_get_param(struct vgalloc_backend *be, uint64_t param, uint64_t *value)
{
	struct mock_op op = { .e.blob_id = param, .value = value };

	return vgalloc__mock_call(vgalloc__mock_of(be), VGALLOC_MOCK_CALL_GET_PARAM,
	                          get_param_locked, &op);
}

static int get_capset_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	uint32_t size = (uint32_t)op->e.size;
	const struct mock_capset *cs;

	if (m->capset_count == 0) {
		return -ENOSYS; /* the kernel's answer when the device reports no capset at all */
	}
	if (size == 0) {
		return -EINVAL;
	}
	cs = capset_find(m, (uint32_t)op->e.blob_id);
	if (!cs || op->e.blob_flags > cs->version) {
		return -EINVAL;
	}
	if (!op->buf) {
		return -EFAULT;
	}
	/* No length comes back: a caller cannot tell an older host's short capset from zeros. */
	memcpy(op->buf, cs->data, size < cs->size ? size : cs->size);
	return 0;
}

static int op_get_capset(struct vgalloc_backend *be, uint32_t id, uint32_t version, void *buf,
                         uint32_t size)
{
	struct mock_op op = {
		.e.blob_id = id, .e.blob_flags = version, .e.size = size, .buf = buf
	};

	return vgalloc__mock_call(vgalloc__mock_of(be), VGALLOC_MOCK_CALL_GET_CAPSET,
	                          get_capset_locked, &op);
}

static int context_init_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	const struct vgalloc_context_param_value *params = op->params;
	uint32_t count = (uint32_t)op->e.size;
	bool debug_name = m->flags & VGALLOC_MOCK_DEBUG_NAME;
	bool have_capset = false, have_rings = false, have_mask = false, have_name = false;
	uint64_t capset = 0, rings = 0, mask = 0;

	if ((m->flags & VGALLOC_MOCK_NO_CONTEXT_INIT) || (m->flags & VGALLOC_MOCK_NO_3D)) {
		return -EINVAL;
	}
	/* The kernel knows three unique params; DEBUG_NAME makes a fourth where it is supported. */
	if (count == 0 || count > 4 || (count > 3 && !debug_name)) {
		return -EINVAL;
	}
	if (!params) {
		return -EFAULT;
	}
	if (m->context != 0) {
		return -EEXIST;
	}
	for (uint32_t i = 0; i < count; i++) {
		uint64_t v = params[i].value;

		switch (params[i].param) {
		case VGALLOC_CONTEXT_PARAM_CAPSET_ID:
			if (have_capset || v > MOCK_MAX_CAPSET_ID ||
			    !(m->capset_mask & (1ull << v))) {
				return -EINVAL;
			}
			have_capset = true;
			capset = v;
			break;
		case VGALLOC_CONTEXT_PARAM_NUM_RINGS:
			if (have_rings || v == 0 || v > MOCK_MAX_RINGS) {
				return -EINVAL;
			}
			have_rings = true;
			rings = v;
			break;
		case VGALLOC_CONTEXT_PARAM_POLL_RINGS_MASK:
			if (have_mask) {
				return -EINVAL;
			}
			have_mask = true;
			mask = v;
			break;
		case VGALLOC_CONTEXT_PARAM_DEBUG_NAME:
			if (!debug_name || have_name) {
				return -EINVAL;
			}
			if (v == 0) {
				return -EFAULT;
			}
			have_name = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (!have_capset) {
		return -EINVAL;
	}
	/* The kernel refuses a poll mask naming rings the context does not have. */
	if (mask != 0 && (rings >= 64 ? 0 : (mask >> rings)) != 0) {
		return -EINVAL;
	}
	op->e.blob_id = capset;
	m->context = 2;
	m->capset_id = (uint32_t)capset;
	return 0;
}

static int op_context_init(struct vgalloc_backend *be,
                           const struct vgalloc_context_param_value *params, uint32_t count)
{
	struct mock_op op = { .e.size = count, .params = params };

	return vgalloc__mock_call(vgalloc__mock_of(be), VGALLOC_MOCK_CALL_CONTEXT_INIT,
	                          context_init_locked, &op);
}

VGALLOC_API int vgalloc_mock_context_init(struct vgalloc_mock *mock, uint32_t capset_id)
{
	const struct vgalloc_context_param_value param = {
		.param = VGALLOC_CONTEXT_PARAM_CAPSET_ID,
		.value = capset_id,
	};

	if (!mock) {
		return -EINVAL;
	}
	return op_context_init(&mock->base, &param, 1);
}

/* ---------------------------------------------------------------------------------------------
 * The backend ops: the kernel queries above and the blob ioctls of mock_blob.c.
 */

VGALLOC_API int vgalloc_mock_get_fd(struct vgalloc_mock *mock)
{
	return mock ? mock->drm_fd : -EINVAL;
}

static int op_get_fd(struct vgalloc_backend *be)
{
	return vgalloc_mock_get_fd(vgalloc__mock_of(be));
}

static const struct vgalloc_backend_ops mock_ops = {
	.abi_version = VGALLOC_BACKEND_ABI_VERSION,
	.name = "mock",
	.get_fd = op_get_fd,
	.get_param = op_get_param,
	.get_capset = op_get_capset,
	.context_init = op_context_init,
	.blob_create = vgalloc__mock_op_blob_create,
	.blob_map = vgalloc__mock_op_blob_map,
	.blob_unmap = vgalloc__mock_op_blob_unmap,
	.blob_export = vgalloc__mock_op_blob_export,
	.blob_import = vgalloc__mock_op_blob_import,
	.blob_info = vgalloc__mock_op_blob_info,
	.blob_destroy = vgalloc__mock_op_blob_destroy,
	.destroy = NULL, /* the caller owns the mock */
};

/* ---------------------------------------------------------------------------------------------
 * Create and destroy.
 */

/* The presets' figures, by enum vgalloc_mock_cost_preset (NONE costs nothing). The floor's
 * window_ns stays 0: it is an extra on top of create, and the floor has no window to pay for. */
static const struct vgalloc_mock_cost cost_presets[] = {
	[VGALLOC_MOCK_COST_QEMU_TCG] = { .ioctl_ns = 10000,
	                                 .create_ns = 100000,
	                                 .map_ns = 1000000,
	                                 .destroy_ns = 100000000,
	                                 .host_call_ns = 50000 },
	[VGALLOC_MOCK_COST_MEMFD_FLOOR] = { .ioctl_ns = 20000,
	                                    .create_ns = 20000,
	                                    .map_ns = 20000,
	                                    .destroy_ns = 20000,
	                                    .host_call_ns = 20000 },
};

static int check_create_info(const struct vgalloc_mock_create_info *info)
{
	const uint8_t *tail = (const uint8_t *)info + sizeof(*info);
	uint32_t page = info->host_page_size;

	if (info->struct_size < sizeof(*info)) {
		return -EINVAL;
	}
	for (uint32_t i = 0; i < info->struct_size - sizeof(*info); i++) {
		if (tail[i] != 0) {
			return -E2BIG;
		}
	}
	if (info->profile > VGALLOC_MOCK_PROFILE_STATIC || (info->flags & ~MOCK_ALL_FLAGS) ||
	    info->reserved != 0) {
		return -EINVAL;
	}
	if (page != 0 && (page < 4096 || (page & (page - 1)) != 0 || page > (1u << 30))) {
		return -EINVAL;
	}
	if (info->window_size % MOCK_GUEST_PAGE != 0 || (info->supported_capsets & 1u) ||
	    info->venus_capset_size > MOCK_MAX_VENUS_CAPSET_SIZE) {
		return -EINVAL;
	}
	if (!info->cost && info->cost_preset >= sizeof(cost_presets) / sizeof(cost_presets[0])) {
		return -EINVAL;
	}
	return 0;
}

VGALLOC_API int vgalloc_mock_create(const struct vgalloc_mock_create_info *info,
                                    struct vgalloc_mock **out_mock)
{
	struct vgalloc_mock *m;
	uint32_t mask;
	int ret;

	if (!info || !out_mock) {
		return -EINVAL;
	}
	ret = check_create_info(info);
	if (ret) {
		return ret;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		return -ENOMEM;
	}
	m->base.magic = VGALLOC_BACKEND_MAGIC;
	m->base.ops = &mock_ops;
	m->drm_fd = -1;
	/* FROM_CAPSET starts injecting: the default Venus capset says use_guest_vram = 0. */
	m->profile_from_capset = info->profile == VGALLOC_MOCK_PROFILE_FROM_CAPSET;
	m->profile = info->profile ? info->profile : VGALLOC_MOCK_PROFILE_INJECTING;
	m->flags = info->flags;
	m->host_page = info->host_page_size ? info->host_page_size : 4096;
	m->guest_vram = m->profile == VGALLOC_MOCK_PROFILE_STATIC &&
	                !(m->flags & VGALLOC_MOCK_GUEST_VRAM_OFF);
	m->cost = info->cost ? *info->cost : cost_presets[info->cost_preset];
	m->next_res_id = 1;
	m->next_host_handle = 1;
	m->next_token = 0; /* as a Venus ring's seqnos: 0 is a token like any other */
	m->next_host_blob_id = MOCK_HOST_BLOB_ID_BASE;
	m->next_blob_id = 1;
	m->fake_next = (uint64_t)1 << 44;

	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return -ENOMEM;
	}
	m->trace = calloc(MOCK_TRACE_LEN, sizeof(*m->trace));
	if (!m->trace) {
		ret = -ENOMEM;
		goto fail;
	}
	mask = info->supported_capsets
	               ? info->supported_capsets
	               : (1u << VGALLOC_CAPSET_VIRGL) | (1u << VGALLOC_CAPSET_VIRGL2) |
	                         (1u << VGALLOC_CAPSET_VENUS);
	ret = capsets_init(m, mask,
	                   info->venus_capset_size ? info->venus_capset_size
	                                           : MOCK_VENUS_CAPSET_SIZE);
	if (ret) {
		goto fail;
	}
	ret = vgalloc__mock_window_init(
	        &m->window,
	        (m->flags & VGALLOC_MOCK_NO_WINDOW)
	                ? 0
	                : (info->window_size ? info->window_size : 256ull << 20),
	        m->host_page);
	if (ret) {
		goto fail;
	}
	/* A DRM fd stand-in that is a real fd, so code that dups, polls or closes fds works. */
	m->drm_fd = memfd_create("vgalloc-mock-drm", MFD_CLOEXEC);
	if (m->drm_fd < 0) {
		ret = -errno;
		goto fail;
	}
	*out_mock = m;
	return 0;

fail:
	vgalloc_mock_destroy(m);
	return ret;
}

VGALLOC_API void vgalloc_mock_destroy(struct vgalloc_mock *mock)
{
	if (!mock) {
		return;
	}
	vgalloc__mock_res_fini(mock);
	vgalloc__mock_host_fini(mock);
	for (uint32_t i = 0; i < mock->capset_count; i++) {
		free(mock->capsets[i].data);
	}
	free(mock->capsets);
	free(mock->trace);
	if (mock->drm_fd >= 0) {
		close(mock->drm_fd);
	}
	pthread_mutex_destroy(&mock->lock);
	free(mock);
}

/* ---------------------------------------------------------------------------------------------
 * Ledger, trace and fault injection.
 */

VGALLOC_API int vgalloc_mock_get_ledger(struct vgalloc_mock *mock,
                                        struct vgalloc_mock_ledger *ledger)
{
	struct vgalloc_mock_ledger l;
	size_t n;

	if (!mock || !ledger || ledger->struct_size < sizeof(*ledger)) {
		return -EINVAL;
	}
	pthread_mutex_lock(&mock->lock);
	/* Exported fds are the caller's: whether they are still open is only known by looking. */
	vgalloc__mock_reap_locked(mock);
	l = mock->l;
	l.context = mock->context;
	l.open_fds = vgalloc__mock_open_fds_locked(mock);
	l.context_lost = mock->lost;
	l.capset_id = mock->capset_id;
	l.profile = mock->profile;
	pthread_mutex_unlock(&mock->lock);

	n = ledger->struct_size < sizeof(l) ? ledger->struct_size : sizeof(l);
	l.struct_size = (uint32_t)n;
	memcpy(ledger, &l, n);
	return 0;
}

VGALLOC_API void vgalloc_mock_reset_counters(struct vgalloc_mock *mock)
{
	if (!mock) {
		return;
	}
	pthread_mutex_lock(&mock->lock);
	memset(mock->l.calls, 0, sizeof(mock->l.calls));
	mock->l.failable_calls = 0;
	mock->l.modeled_ns = 0;
	mock->trace_head = 0;
	mock->trace_count = 0;
	pthread_mutex_unlock(&mock->lock);
}

VGALLOC_API int vgalloc_mock_get_trace(struct vgalloc_mock *mock,
                                       struct vgalloc_mock_trace_entry *entries, uint32_t max)
{
	uint32_t n, first;

	if (!mock || !entries) {
		return -EINVAL;
	}
	pthread_mutex_lock(&mock->lock);
	n = mock->trace_count < max ? mock->trace_count : max;
	if (n > INT32_MAX) {
		n = INT32_MAX;
	}
	first = (mock->trace_head + MOCK_TRACE_LEN - mock->trace_count) % MOCK_TRACE_LEN;
	for (uint32_t i = 0; i < n; i++) {
		entries[i] = mock->trace[(first + i) % MOCK_TRACE_LEN];
	}
	pthread_mutex_unlock(&mock->lock);
	return (int)n;
}

VGALLOC_API int vgalloc_mock_fail_nth(struct vgalloc_mock *mock, uint32_t call, uint32_t nth,
                                      int err)
{
	if (!mock || nth == 0 || err <= 0 ||
	    (call != VGALLOC_MOCK_CALL_ANY && !vgalloc_mock_call_failable(call))) {
		return -EINVAL;
	}
	pthread_mutex_lock(&mock->lock);
	mock->fault_armed = true;
	mock->fault_fired = false;
	mock->fault_call = call;
	mock->fault_nth = nth;
	mock->fault_seen = 0;
	mock->fault_err = err;
	pthread_mutex_unlock(&mock->lock);
	return 0;
}

VGALLOC_API void vgalloc_mock_fail_clear(struct vgalloc_mock *mock)
{
	if (!mock) {
		return;
	}
	pthread_mutex_lock(&mock->lock);
	mock->fault_armed = false;
	mock->fault_fired = false;
	mock->fault_seen = 0;
	pthread_mutex_unlock(&mock->lock);
}

VGALLOC_API bool vgalloc_mock_fail_fired(struct vgalloc_mock *mock)
{
	bool fired;

	if (!mock) {
		return false;
	}
	pthread_mutex_lock(&mock->lock);
	fired = mock->fault_armed && mock->fault_fired;
	pthread_mutex_unlock(&mock->lock);
	return fired;
}

/* ---------------------------------------------------------------------------------------------
 * Formatting.
 */

static const char *mem_name(uint32_t mem, char *tmp, size_t size)
{
	switch (mem) {
	case VGALLOC_BLOB_MEM_GUEST:
		return "GUEST";
	case VGALLOC_BLOB_MEM_HOST3D:
		return "HOST3D";
	case VGALLOC_BLOB_MEM_HOST3D_GUEST:
		return "HOST3D_GUEST";
	default:
		snprintf(tmp, size, "%" PRIu32, mem);
		return tmp;
	}
}

static const char *flags_name(uint32_t flags, char *tmp, size_t size)
{
	static const char *const names[] = { "MAPPABLE", "SHAREABLE", "CROSS_DEVICE",
		                             "CREATE_GUEST_HANDLE" };
	size_t len = 0;

	tmp[0] = '\0';
	if (flags == 0) {
		return "0";
	}
	for (uint32_t bit = 0; bit < 4 && len < size; bit++) {
		if (flags & (1u << bit)) {
			len += (size_t)snprintf(tmp + len, size - len, "%s%s", len ? "|" : "",
			                        names[bit]);
		}
	}
	if (len >= size) {
		return tmp; /* truncated, still terminated */
	}
	if (flags & ~0xfu) {
		snprintf(tmp + len, size - len, "%s0x%" PRIx32, len ? "|" : "", flags & ~0xfu);
	}
	return tmp;
}

/*
 * Field use per kind, beyond the obvious ones: GET_PARAM blob_id = param, size = value;
 * GET_CAPSET blob_id = capset id, blob_flags = version, size = buffer size; CONTEXT_INIT blob_id =
 * capset id, size = param count; host calls carry their token in `handle` (they have no GEM
 * handle); HOST_ROUNDTRIP res_id = the newest resource the renderer now knows.
 */
VGALLOC_API int vgalloc_mock_format_entry(const struct vgalloc_mock_trace_entry *e, char *buf,
                                          size_t size)
{
	char tm[16], tf[64];
	const char *name;
	int r;

	if (!e || (!buf && size)) {
		return -EINVAL;
	}
	name = vgalloc_mock_call_name(e->call);
	r = e->result;
	switch (e->call) {
	case VGALLOC_MOCK_CALL_GET_PARAM:
		if (r == 0) {
			return snprintf(buf, size, "%s(param=%" PRIu64 ") = 0 [value %" PRIu64 "]",
			                name, e->blob_id, e->size);
		}
		return snprintf(buf, size, "%s(param=%" PRIu64 ") = %d", name, e->blob_id, r);
	case VGALLOC_MOCK_CALL_GET_CAPSET:
		return snprintf(buf, size,
		                "%s(id=%" PRIu64 " version=%" PRIu32 " size=%" PRIu64 ") = %d",
		                name, e->blob_id, e->blob_flags, e->size, r);
	case VGALLOC_MOCK_CALL_CONTEXT_INIT:
		return snprintf(buf, size, "%s(capset=%" PRIu64 " params=%" PRIu64 ") = %d", name,
		                e->blob_id, e->size, r);
	case VGALLOC_MOCK_CALL_BLOB_CREATE:
		return snprintf(buf, size,
		                "%s(mem=%s flags=%s id=%" PRIu64 " size=%" PRIu64 " cmd=%" PRIu32
		                ") = %d [handle %" PRIu32 " res %" PRIu32 "]",
		                name, mem_name(e->blob_mem, tm, sizeof(tm)),
		                flags_name(e->blob_flags, tf, sizeof(tf)), e->blob_id, e->size,
		                e->cmd_size, r, e->handle, e->res_id);
	case VGALLOC_MOCK_CALL_BLOB_MAP:
	case VGALLOC_MOCK_CALL_BLOB_UNMAP:
		return snprintf(buf, size,
		                "%s(handle=%" PRIu32 " size=%" PRIu64 ") = %d [res %" PRIu32 "]",
		                name, e->handle, e->size, r, e->res_id);
	case VGALLOC_MOCK_CALL_BLOB_EXPORT:
	case VGALLOC_MOCK_CALL_BLOB_INFO:
	case VGALLOC_MOCK_CALL_BLOB_DESTROY:
	case VGALLOC_MOCK_CALL_WAIT:
		return snprintf(buf, size,
		                "%s(handle=%" PRIu32 ") = %d [res %" PRIu32 " mem %s size %" PRIu64
		                "]",
		                name, e->handle, r, e->res_id,
		                mem_name(e->blob_mem, tm, sizeof(tm)), e->size);
	case VGALLOC_MOCK_CALL_BLOB_IMPORT:
		return snprintf(buf, size, "%s() = %d [handle %" PRIu32 " res %" PRIu32 "]", name,
		                r, e->handle, e->res_id);
	case VGALLOC_MOCK_CALL_NEW_BLOB_ID:
		return snprintf(buf, size, "%s() = %d [id %" PRIu64 "]", name, r, e->blob_id);
	case VGALLOC_MOCK_CALL_HOST_ALLOC:
		return snprintf(buf, size,
		                "%s(id=%" PRIu64 " size=%" PRIu64 ") = %d [host %" PRIu64
		                " token %" PRIu32 "]",
		                name, e->blob_id, e->size, r, e->host_handle, e->handle);
	case VGALLOC_MOCK_CALL_HOST_WAIT:
		return snprintf(buf, size,
		                "%s(token=%" PRIu32 " flags=0x%" PRIx32 " cmd=%" PRIu32 ") = %d",
		                name, e->handle, e->flags, e->cmd_size, r);
	case VGALLOC_MOCK_CALL_HOST_ROUNDTRIP:
		return snprintf(buf, size, "%s() = %d [seen res %" PRIu32 "]", name, r, e->res_id);
	case VGALLOC_MOCK_CALL_HOST_IMPORT:
		return snprintf(buf, size,
		                "%s(res=%" PRIu32 " size=%" PRIu64 " id=%" PRIu64
		                ") = %d [host %" PRIu64 " token %" PRIu32 "]",
		                name, e->res_id, e->size, e->blob_id, r, e->host_handle, e->handle);
	case VGALLOC_MOCK_CALL_HOST_FREE:
		return snprintf(buf, size, "%s(host=%" PRIu64 ") = %d", name, e->host_handle, r);
	default:
		return snprintf(buf, size, "%s(%" PRIu32 ") = %d", name, e->call, r);
	}
}
