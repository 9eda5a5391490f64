/* SPDX-License-Identifier: MIT */
/*
 * The mock host renderer: allocations tagged by blob id, completion tokens, round trips and
 * resource imports, what it makes of each new blob resource, plus the host hooks table that
 * drives them. It exists so the order in which the library calls hooks and the kernel is checked
 * by a host that refuses the wrong one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mock_state.h"

/* ---------------------------------------------------------------------------------------------
 * Host allocations and their queue. Tokens grow with submission order, so the queue of pending
 * allocations is a FIFO and processing "everything up to token" pops from its head.
 */

static void pend_append(struct vgalloc_mock *m, struct mock_host_alloc *ha)
{
	ha->pend_prev = m->pend_tail;
	ha->pend_next = NULL;
	if (m->pend_tail) {
		m->pend_tail->pend_next = ha;
	} else {
		m->pend_head = ha;
	}
	m->pend_tail = ha;
	m->l.pending_tokens++;
}

static void pend_remove(struct vgalloc_mock *m, struct mock_host_alloc *ha)
{
	if (ha->pend_prev) {
		ha->pend_prev->pend_next = ha->pend_next;
	} else {
		m->pend_head = ha->pend_next;
	}
	if (ha->pend_next) {
		ha->pend_next->pend_prev = ha->pend_prev;
	} else {
		m->pend_tail = ha->pend_prev;
	}
	ha->pend_prev = NULL;
	ha->pend_next = NULL;
	m->l.pending_tokens--;
}

static void process_upto_locked(struct vgalloc_mock *m, uint64_t token)
{
	while (m->pend_head && m->pend_head->token <= token) {
		struct mock_host_alloc *ha = m->pend_head;

		pend_remove(m, ha);
		ha->processed = true;
	}
}

void vgalloc__mock_host_fini(struct vgalloc_mock *m)
{
	for (uint32_t i = 0; i < m->host_by_handle.cap; i++) {
		free(m->host_by_handle.vals[i]);
	}
	vgalloc__mock_map_fini(&m->host_by_handle);
	vgalloc__mock_map_fini(&m->host_by_blob_id);
}

static void encode_wait(void *cmd, uint32_t *out_size, uint64_t token)
{
	const uint32_t head[2] = { MOCK_WAIT_CMD_OPCODE, 0 };

	memcpy(cmd, head, sizeof(head));
	memcpy((uint8_t *)cmd + sizeof(head), &token, sizeof(token));
	*out_size = MOCK_WAIT_CMD_SIZE;
}

void vgalloc__mock_host_exec_cmd_locked(struct vgalloc_mock *m, const void *cmd, uint32_t size)
{
	const uint8_t *p = cmd;

	for (uint32_t off = 0; off < size; off += MOCK_WAIT_CMD_SIZE) {
		uint32_t head[2];
		uint64_t token;

		if (size - off < MOCK_WAIT_CMD_SIZE) {
			m->l.order_violations++;
			return;
		}
		memcpy(head, p + off, sizeof(head));
		memcpy(&token, p + off + sizeof(head), sizeof(token));
		/* The renderer rejects what it cannot parse; the guest only learns at mmap. */
		if (head[0] != MOCK_WAIT_CMD_OPCODE || head[1] != 0 || token >= m->next_token) {
			m->l.order_violations++;
			return;
		}
		process_upto_locked(m, token);
	}
}

/*
 * What the host renderer makes of a new resource, bound to the host allocation it exports. Its
 * refusals are asynchronous: CREATE_BLOB has already returned 0 in the guest, and the error shows
 * up as EINVAL at the first mmap.
 */
int vgalloc__mock_host_verdict_locked(struct vgalloc_mock *m,
                                      const struct vgalloc_backend_blob_args *a,
                                      struct mock_resource *res)
{
	struct mock_host_alloc *ha;
	int err = 0;

	if (a->blob_mem == VGALLOC_BLOB_MEM_GUEST) {
		return 0;
	}
	/* The implicit context is a virgl context: it has no host allocations to hand out. */
	if (m->context != 2) {
		return -EINVAL;
	}
	if (a->blob_id == 0) {
		/* Venus backs blob_id 0 with host memory of its own (its ring buffers), but only
		 * for exactly MAPPABLE and only when its capset says supports_blob_id_0. */
		if (a->blob_mem != VGALLOC_BLOB_MEM_HOST3D ||
		    m->capset_id != VGALLOC_CAPSET_VENUS ||
		    a->blob_flags != VGALLOC_BLOB_FLAG_MAPPABLE ||
		    (m->flags & VGALLOC_MOCK_NO_BLOB_ID_0)) {
			return -EINVAL;
		}
	} else {
		ha = vgalloc__mock_map_get(&m->host_by_blob_id, a->blob_id);
		if (!ha) {
			/* A renderer using guest vram makes guest-first resources over the
			 * window; any other host has nothing to export under that id. */
			if (!m->guest_vram || a->blob_mem != VGALLOC_BLOB_MEM_HOST3D) {
				m->l.order_violations++;
				return -EINVAL;
			}
		} else if (ha->exported || !ha->processed) {
			/* Exported twice, or CREATE_BLOB overtook the allocation on the ring. */
			m->l.order_violations++;
			return -EINVAL;
		} else {
			ha->exported = true;
			ha->res_id = res->res_id;
			/* A statically backed window cannot take injected host pages. */
			if (m->profile == VGALLOC_MOCK_PROFILE_STATIC &&
			    a->blob_mem == VGALLOC_BLOB_MEM_HOST3D) {
				err = -EINVAL;
			}
		}
	}
	/* Without BLOB_ALIGNMENT the kernel accepts a size the host cannot map whole. */
	if (err == 0 && res->in_window && !(m->flags & VGALLOC_MOCK_BLOB_ALIGNMENT) &&
	    res->size % m->host_page != 0) {
		err = -EINVAL;
	}
	return err;
}

/* A new host allocation like `tmpl`, queued: it gets its handle and token now. */
static int host_queue_locked(struct vgalloc_mock *m, const struct mock_host_alloc *tmpl,
                             bool by_blob_id, struct mock_op *op)
{
	struct mock_host_alloc *ha;
	int ret = vgalloc__mock_map_reserve(&m->host_by_handle, 1);

	if (ret == 0 && by_blob_id) {
		ret = vgalloc__mock_map_reserve(&m->host_by_blob_id, 1);
	}
	if (ret) {
		return ret;
	}
	ha = calloc(1, sizeof(*ha));
	if (!ha) {
		return -ENOMEM;
	}
	*ha = *tmpl;
	ha->handle = m->next_host_handle++;
	ha->token = m->next_token++;
	vgalloc__mock_map_put(&m->host_by_handle, ha->handle, ha);
	if (by_blob_id) {
		vgalloc__mock_map_put(&m->host_by_blob_id, ha->blob_id, ha);
	}
	pend_append(m, ha);
	m->l.host_allocs++;
	op->e.host_handle = ha->handle;
	op->e.handle = (uint32_t)ha->token;
	if (op->out_host_handle) {
		*op->out_host_handle = ha->handle;
	}
	if (op->out_token) {
		*op->out_token = ha->token;
	}
	return 0;
}

static int host_alloc_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	/* A host that names its allocations itself (gfxstream without deferredMapping). */
	bool host_named = m->flags & VGALLOC_MOCK_HOST_BLOB_ID;
	uint64_t blob_id = host_named ? m->next_host_blob_id : op->e.blob_id, size = op->e.size;
	int ret;

	if (blob_id == 0 || size == 0 || vgalloc__mock_map_get(&m->host_by_blob_id, blob_id)) {
		return -EINVAL;
	}
	ret = host_queue_locked(m, &(struct mock_host_alloc){ .blob_id = blob_id, .size = size },
	                        true, op);
	if (ret) {
		return ret;
	}
	if (host_named) {
		m->next_host_blob_id++;
		op->e.blob_id = blob_id;
	}
	if (op->out_blob_id) {
		*op->out_blob_id = blob_id;
	}
	return 0;
}

VGALLOC_API int vgalloc_mock_host_alloc(struct vgalloc_mock *mock, uint64_t blob_id, uint64_t size,
                                        uint64_t *out_host_handle, uint64_t *out_token,
                                        uint64_t *out_blob_id)
{
	struct mock_op op = { .e.blob_id = blob_id,
		              .e.size = size,
		              .out_host_handle = out_host_handle,
		              .out_token = out_token,
		              .out_blob_id = out_blob_id };

	return vgalloc__mock_call(mock, VGALLOC_MOCK_CALL_HOST_ALLOC, host_alloc_locked, &op);
}

static int host_wait_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	if (op->token >= m->next_token) {
		return -EINVAL;
	}
	if (op->wait_cmd) {
		encode_wait(op->wait_cmd, op->wait_cmd_size, op->token);
		op->e.cmd_size = MOCK_WAIT_CMD_SIZE;
	} else {
		process_upto_locked(m, op->token);
	}
	return 0;
}

VGALLOC_API int vgalloc_mock_host_wait(struct vgalloc_mock *mock, uint64_t token)
{
	struct mock_op op = { .e.handle = (uint32_t)token, .token = token };

	return vgalloc__mock_call(mock, VGALLOC_MOCK_CALL_HOST_WAIT, host_wait_locked, &op);
}

VGALLOC_API int vgalloc_mock_host_wait_cmd(struct vgalloc_mock *mock, uint64_t token, void *cmd,
                                           uint32_t *inout_size)
{
	if (!mock || !cmd || !inout_size) {
		return -EINVAL;
	}
	if (*inout_size < MOCK_WAIT_CMD_SIZE) {
		return -ENOSPC;
	}
	encode_wait(cmd, inout_size, token);
	return 0;
}

/* The renderer sees every resource made so far; in order, it has done everything queued. */
static int host_roundtrip_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	if ((m->flags & VGALLOC_MOCK_IN_ORDER) && m->next_token) {
		process_upto_locked(m, m->next_token - 1);
	}
	m->seen_res_id = m->next_res_id - 1;
	op->e.res_id = m->seen_res_id;
	return 0;
}

VGALLOC_API int vgalloc_mock_host_roundtrip(struct vgalloc_mock *mock)
{
	struct mock_op op = { 0 };

	return vgalloc__mock_call(mock, VGALLOC_MOCK_CALL_HOST_ROUNDTRIP, host_roundtrip_locked,
	                          &op);
}

static int host_import_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	uint32_t res_id = op->e.res_id;
	uint64_t size = op->e.size, blob_id = op->e.blob_id;
	struct mock_resource *res;
	int ret;

	vgalloc__mock_reap_locked(m);
	res = vgalloc__mock_map_get(&m->res_by_id, res_id);
	/* virglrenderer kills the context when a command names a resource it does not have,
	 * and it only has resources created before the last round trip. A guest-handle resource
	 * is filed under the blob id it was created with: another id finds nothing either. */
	if (!res || res_id > m->seen_res_id ||
	    ((res->blob_flags & VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE) &&
	     blob_id != res->blob_id)) {
		m->lost = true;
		return -EIO;
	}
	ret = host_queue_locked(
	        m,
	        &(struct mock_host_alloc){
	                .imported = true, .res_id = res_id, .blob_id = blob_id, .size = size },
	        false, op);
	if (ret) {
		return ret;
	}
	/* Importing more than the resource holds fails on the host, after the fact. */
	if (size == 0 || size > res->size) {
		m->l.order_violations++;
	}
	return 0;
}

VGALLOC_API int vgalloc_mock_host_import(struct vgalloc_mock *mock, uint32_t res_id, uint64_t size,
                                         uint64_t blob_id, uint64_t *out_host_handle,
                                         uint64_t *out_token)
{
	struct mock_op op = { .e.res_id = res_id,
		              .e.size = size,
		              .e.blob_id = blob_id,
		              .out_host_handle = out_host_handle,
		              .out_token = out_token };

	return vgalloc__mock_call(mock, VGALLOC_MOCK_CALL_HOST_IMPORT, host_import_locked, &op);
}

/* Not failable and still done on a lost context, so teardown can be checked for leaks. */
static int host_free_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	struct mock_host_alloc *ha = vgalloc__mock_map_get(&m->host_by_handle, op->e.host_handle);
	struct mock_resource *res;

	if (!ha) {
		m->l.order_violations++;
		return -EINVAL;
	}
	op->e.blob_id = ha->blob_id;
	op->e.size = ha->size;
	op->e.res_id = ha->res_id;
	/* Venus' teardown order is wait → munmap → GEM close → host free. On one in-order queue
	 * the free runs after the allocation whatever the guest waited for. */
	if (!ha->processed && (m->flags & VGALLOC_MOCK_IN_ORDER)) {
		process_upto_locked(m, ha->token);
	} else if (!ha->processed) {
		m->l.order_violations++;
		pend_remove(m, ha);
	}
	/* The renderer must have processed the creation of a resource made from this allocation
	 * (a round trip or a map reply since): freeing first pulls the memory from under it. */
	if (ha->exported && ha->res_id > m->seen_res_id) {
		m->l.order_violations++;
	}
	/* A live handle pins the host memory unless the resource was exported (then it is shared). */
	res = ha->res_id ? vgalloc__mock_map_get(&m->res_by_id, ha->res_id) : NULL;
	if (res && res->handle != 0 && !res->shared) {
		m->l.order_violations++;
	}
	vgalloc__mock_map_del(&m->host_by_handle, ha->handle);
	if (!ha->imported) {
		vgalloc__mock_map_del(&m->host_by_blob_id, ha->blob_id);
	}
	m->l.host_allocs--;
	free(ha);
	return 0;
}

VGALLOC_API void vgalloc_mock_host_free(struct vgalloc_mock *mock, uint64_t host_handle)
{
	struct mock_op op = { .e.host_handle = host_handle };

	vgalloc__mock_call(mock, VGALLOC_MOCK_CALL_HOST_FREE, host_free_locked, &op);
}

/* ---------------------------------------------------------------------------------------------
 * Hooks. Each hook makes one call above, which counts and traces itself once.
 */

static int new_blob_id_locked(struct vgalloc_mock *m, struct mock_op *op)
{
	op->e.blob_id = m->next_blob_id++;
	return 0;
}

static uint64_t hook_new_blob_id(void *ctx)
{
	struct mock_op op = { 0 };

	vgalloc__mock_call(ctx, VGALLOC_MOCK_CALL_NEW_BLOB_ID, new_blob_id_locked, &op);
	return op.e.blob_id;
}

/* What a hook answers for a queued host allocation: its token is always pending. */
static int hook_answer(int ret, struct vgalloc_host_result *out, uint64_t host_blob_id)
{
	if (ret == 0) {
		out->flags = VGALLOC_HOST_RESULT_PENDING;
		if (host_blob_id) {
			out->flags |= VGALLOC_HOST_RESULT_BLOB_ID;
			out->blob_id = host_blob_id;
		}
	}
	return ret;
}

static int hook_host_alloc(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                           struct vgalloc_host_result *out)
{
	uint64_t blob_id = 0;
	int ret;

	(void)user_data;
	if (!args || !out) {
		return -EINVAL;
	}
	ret = vgalloc_mock_host_alloc(ctx, args->blob_id, args->size, &out->host_handle,
	                              &out->token, &blob_id);
	return hook_answer(ret, out, blob_id != args->blob_id ? blob_id : 0);
}

static int hook_host_wait(void *ctx, uint64_t token, uint32_t flags, void *cmd,
                          uint32_t *inout_cmd_size)
{
	struct vgalloc_mock *m = ctx;
	struct mock_op op = { .e.handle = (uint32_t)token, .e.flags = flags, .token = token };
	bool wait_cmd;

	pthread_mutex_lock(&m->lock);
	wait_cmd = m->hooks_flags & VGALLOC_MOCK_HOOKS_WAIT_CMD;
	pthread_mutex_unlock(&m->lock);
	if (cmd && inout_cmd_size && wait_cmd && *inout_cmd_size >= MOCK_WAIT_CMD_SIZE) {
		/* Venus puts its ring wait into CREATE_BLOB: no round trip now, the host waits later. */
		op.wait_cmd = cmd;
		op.wait_cmd_size = inout_cmd_size;
	} else if (inout_cmd_size) {
		*inout_cmd_size = 0; /* waited here: no command for CREATE_BLOB */
	}
	return vgalloc__mock_call(m, VGALLOC_MOCK_CALL_HOST_WAIT, host_wait_locked, &op);
}

static int hook_host_roundtrip(void *ctx)
{
	return vgalloc_mock_host_roundtrip(ctx);
}

/* The host imports what the request asked for (a block: the whole blob). */
static int hook_host_import(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                            struct vgalloc_host_result *out)
{
	(void)user_data;
	if (!args || !out) {
		return -EINVAL;
	}
	return hook_answer(vgalloc_mock_host_import(ctx, args->res_id, args->requested_size,
	                                            args->blob_id, &out->host_handle, &out->token),
	                   out, 0);
}

static void hook_host_free(void *ctx, void *user_data, uint64_t host_handle)
{
	(void)user_data;
	vgalloc_mock_host_free(ctx, host_handle);
}

VGALLOC_API int vgalloc_mock_get_hooks(struct vgalloc_mock *mock, uint32_t flags,
                                       struct vgalloc_host_hooks *out_hooks)
{
	if (!mock || !out_hooks || (flags & ~(uint32_t)VGALLOC_MOCK_HOOKS_WAIT_CMD)) {
		return -EINVAL;
	}
	pthread_mutex_lock(&mock->lock);
	mock->hooks_flags = flags;
	pthread_mutex_unlock(&mock->lock);
	memset(out_hooks, 0, sizeof(*out_hooks));
	out_hooks->struct_size = sizeof(*out_hooks);
	out_hooks->flags = mock->flags & VGALLOC_MOCK_IN_ORDER ? VGALLOC_HOOKS_IN_ORDER : 0;
	out_hooks->ctx = mock;
	out_hooks->new_blob_id = hook_new_blob_id;
	out_hooks->host_alloc = hook_host_alloc;
	out_hooks->host_wait = hook_host_wait;
	out_hooks->host_roundtrip = hook_host_roundtrip;
	out_hooks->host_import = hook_host_import;
	out_hooks->host_free = hook_host_free;
	return 0;
}
