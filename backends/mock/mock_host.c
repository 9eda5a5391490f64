/* SPDX-License-Identifier: MIT */
/*
 * The mock host renderer: allocations tagged by blob id, completion tokens, round trips and
 * resource imports, plus the host hooks table that drives them. It exists so the order in which
 * the library calls hooks and the kernel is checked by a host that refuses the wrong one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mock_private.h"

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
	m->pending_tokens++;
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
	m->pending_tokens--;
}

static void process_upto_locked(struct vgalloc_mock *m, uint64_t token)
{
	while (m->pend_head && m->pend_head->token <= token) {
		struct mock_host_alloc *ha = m->pend_head;

		pend_remove(m, ha);
		ha->processed = true;
	}
}

struct mock_host_alloc *vgalloc__mock_host_by_blob_id_locked(struct vgalloc_mock *m,
                                                             uint64_t blob_id)
{
	return vgalloc__mock_map_get(&m->host_by_blob_id, blob_id);
}

void vgalloc__mock_host_fini(struct vgalloc_mock *m)
{
	for (uint32_t i = 0; i < m->host_by_handle.cap; i++) {
		free(m->host_by_handle.vals[i]);
	}
	vgalloc__mock_map_fini(&m->host_by_handle);
	vgalloc__mock_map_fini(&m->host_by_blob_id);
}

static void encode_wait(void *cmd, uint64_t token)
{
	const uint32_t head[2] = { MOCK_WAIT_CMD_OPCODE, 0 };

	memcpy(cmd, head, sizeof(head));
	memcpy((uint8_t *)cmd + sizeof(head), &token, sizeof(token));
}

void vgalloc__mock_host_exec_cmd_locked(struct vgalloc_mock *m, const void *cmd, uint32_t size)
{
	const uint8_t *p = cmd;

	for (uint32_t off = 0; off < size; off += MOCK_WAIT_CMD_SIZE) {
		uint32_t head[2];
		uint64_t token;

		if (size - off < MOCK_WAIT_CMD_SIZE) {
			m->order_violations++;
			return;
		}
		memcpy(head, p + off, sizeof(head));
		memcpy(&token, p + off + sizeof(head), sizeof(token));
		/* The renderer rejects what it cannot parse; the guest only learns at mmap. */
		if (head[0] != MOCK_WAIT_CMD_OPCODE || head[1] != 0 || token == 0 ||
		    token >= m->next_token) {
			m->order_violations++;
			return;
		}
		process_upto_locked(m, token);
	}
}

/* A new host allocation like `tmpl`, queued: it gets its handle and token now. */
static int host_queue_locked(struct vgalloc_mock *m, const struct mock_host_alloc *tmpl,
                             bool by_blob_id, struct vgalloc_mock_trace_entry *e,
                             uint64_t *out_token)
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
	m->host_allocs++;
	e->host_handle = ha->handle;
	e->handle = (uint32_t)ha->token;
	*out_token = ha->token;
	return 0;
}

static int host_import_locked(struct vgalloc_mock *m, uint32_t res_id, uint64_t size,
                              uint64_t blob_id, struct vgalloc_mock_trace_entry *e,
                              uint64_t *out_token);
static int host_alloc_locked(struct vgalloc_mock *m, uint64_t blob_id, uint64_t size,
                             struct vgalloc_mock_trace_entry *e, uint64_t *out_token);

static int host_wait_check_locked(struct vgalloc_mock *m, uint64_t token);

/* The host calls (vgalloc_mock_host_alloc, _import, _wait, _roundtrip) from their trace entry:
 * counted, faults injected, traced and costed alike; a host allocation's outputs on success.
 * `token` is what _wait waits for. */
static int host_call(struct vgalloc_mock *mock, struct vgalloc_mock_trace_entry *e, uint64_t token,
                     uint64_t *out_host_handle, uint64_t *out_token)
{
	uint64_t new_token = 0;
	int ret;

	if (!mock) {
		return -EINVAL;
	}
	pthread_mutex_lock(&mock->lock);
	ret = vgalloc__mock_call_begin_locked(mock, e->call);
	if (ret == 0) {
		switch (e->call) {
		case VGALLOC_MOCK_CALL_HOST_ALLOC:
			ret = host_alloc_locked(mock, e->blob_id, e->size, e, &new_token);
			break;
		case VGALLOC_MOCK_CALL_HOST_IMPORT:
			ret = host_import_locked(mock, e->res_id, e->size, e->blob_id, e,
			                         &new_token);
			break;
		case VGALLOC_MOCK_CALL_HOST_WAIT:
			ret = host_wait_check_locked(mock, token);
			if (ret == 0) {
				process_upto_locked(mock, token);
			}
			break;
		default: /* HOST_ROUNDTRIP: the renderer sees every resource made so far */
			mock->seen_res_id = mock->next_res_id - 1;
			e->res_id = mock->seen_res_id;
			break;
		}
	}
	if (ret == 0 && out_host_handle) {
		*out_host_handle = e->host_handle;
	}
	if (ret == 0 && out_token) {
		*out_token = new_token;
	}
	vgalloc__mock_call_end_locked(mock, e, ret, vgalloc__mock_base_cost(mock, e->call));
	pthread_mutex_unlock(&mock->lock);
	return ret;
}

static int host_alloc_locked(struct vgalloc_mock *m, uint64_t blob_id, uint64_t size,
                             struct vgalloc_mock_trace_entry *e, uint64_t *out_token)
{
	if (blob_id == 0 || size == 0 || vgalloc__mock_host_by_blob_id_locked(m, blob_id)) {
		return -EINVAL;
	}
	return host_queue_locked(m, &(struct mock_host_alloc){ .blob_id = blob_id, .size = size },
	                         true, e, out_token);
}

VGALLOC_API int vgalloc_mock_host_alloc(struct vgalloc_mock *mock, uint64_t blob_id, uint64_t size,
                                        uint64_t *out_host_handle, uint64_t *out_token)
{
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_HOST_ALLOC,
		                              .blob_id = blob_id,
		                              .size = size };

	return host_call(mock, &e, 0, out_host_handle, out_token);
}

/* Token 0 means "already complete" in the hooks contract, so waiting on it is a no-op. */
static int host_wait_check_locked(struct vgalloc_mock *m, uint64_t token)
{
	if (m->lost) {
		return -EIO;
	}
	return token < m->next_token ? 0 : -EINVAL;
}

VGALLOC_API int vgalloc_mock_host_wait(struct vgalloc_mock *mock, uint64_t token)
{
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_HOST_WAIT,
		                              .handle = (uint32_t)token };

	return host_call(mock, &e, token, NULL, NULL);
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
	encode_wait(cmd, token);
	*inout_size = MOCK_WAIT_CMD_SIZE;
	return 0;
}

VGALLOC_API int vgalloc_mock_host_roundtrip(struct vgalloc_mock *mock)
{
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_HOST_ROUNDTRIP };

	return host_call(mock, &e, 0, NULL, NULL);
}

static int host_import_locked(struct vgalloc_mock *m, uint32_t res_id, uint64_t size,
                              uint64_t blob_id, struct vgalloc_mock_trace_entry *e,
                              uint64_t *out_token)
{
	struct mock_resource *res;
	int ret;

	vgalloc__mock_reap_locked(m);
	res = vgalloc__mock_res_get_locked(m, res_id);
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
	        false, e, out_token);
	if (ret) {
		return ret;
	}
	/* Importing more than the resource holds fails on the host, after the fact. */
	if (size == 0 || size > res->size) {
		m->order_violations++;
	}
	return 0;
}

VGALLOC_API int vgalloc_mock_host_import(struct vgalloc_mock *mock, uint32_t res_id, uint64_t size,
                                         uint64_t blob_id, uint64_t *out_host_handle,
                                         uint64_t *out_token)
{
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_HOST_IMPORT,
		                              .res_id = res_id,
		                              .size = size,
		                              .blob_id = blob_id };

	return host_call(mock, &e, 0, out_host_handle, out_token);
}

static int host_free_locked(struct vgalloc_mock *m, uint64_t host_handle,
                            struct vgalloc_mock_trace_entry *e)
{
	struct mock_host_alloc *ha = vgalloc__mock_map_get(&m->host_by_handle, host_handle);

	if (!ha) {
		m->order_violations++;
		return -EINVAL;
	}
	e->blob_id = ha->blob_id;
	e->size = ha->size;
	e->res_id = ha->res_id;
	/* Venus' teardown order is wait → munmap → GEM close → host free. */
	if (!ha->processed) {
		m->order_violations++;
		pend_remove(m, ha);
	}
	if (ha->res_id && vgalloc__mock_res_pinned_locked(m, ha->res_id)) {
		m->order_violations++;
	}
	vgalloc__mock_map_del(&m->host_by_handle, ha->handle);
	if (!ha->imported) {
		vgalloc__mock_map_del(&m->host_by_blob_id, ha->blob_id);
	}
	m->host_allocs--;
	free(ha);
	return 0;
}

VGALLOC_API void vgalloc_mock_host_free(struct vgalloc_mock *mock, uint64_t host_handle)
{
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_HOST_FREE,
		                              .host_handle = host_handle };
	int ret;

	if (!mock) {
		return;
	}
	pthread_mutex_lock(&mock->lock);
	/* Not failable and still done on a lost context, so teardown can be checked for leaks. */
	vgalloc__mock_call_begin_locked(mock, e.call);
	ret = host_free_locked(mock, host_handle, &e);
	vgalloc__mock_call_end_locked(mock, &e, ret, vgalloc__mock_base_cost(mock, e.call));
	pthread_mutex_unlock(&mock->lock);
}

/* ---------------------------------------------------------------------------------------------
 * Hooks. Each hook calls one public function above, which counts and traces itself once.
 */

static uint64_t hook_new_blob_id(void *ctx)
{
	struct vgalloc_mock *m = ctx;
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_NEW_BLOB_ID };

	pthread_mutex_lock(&m->lock);
	vgalloc__mock_call_begin_locked(m, e.call);
	e.blob_id = m->next_blob_id++;
	vgalloc__mock_call_end_locked(m, &e, 0, vgalloc__mock_base_cost(m, e.call));
	pthread_mutex_unlock(&m->lock);
	return e.blob_id;
}

static int hook_host_alloc(void *ctx, void *user_data, const struct vgalloc_host_alloc_args *args,
                           uint64_t *out_host_handle, uint64_t *out_token)
{
	(void)user_data;
	if (!args) {
		return -EINVAL;
	}
	return vgalloc_mock_host_alloc(ctx, args->blob_id, args->size, out_host_handle, out_token);
}

static int hook_host_wait(void *ctx, uint64_t token, void *cmd, uint32_t *inout_cmd_size)
{
	struct vgalloc_mock *m = ctx;
	struct vgalloc_mock_trace_entry e = { .call = VGALLOC_MOCK_CALL_HOST_WAIT,
		                              .handle = (uint32_t)token };
	int ret;

	pthread_mutex_lock(&m->lock);
	if (!cmd || !inout_cmd_size || !(m->hooks_flags & VGALLOC_MOCK_HOOKS_WAIT_CMD) ||
	    *inout_cmd_size < MOCK_WAIT_CMD_SIZE) {
		pthread_mutex_unlock(&m->lock);
		if (inout_cmd_size) {
			*inout_cmd_size = 0; /* waited here: no command for CREATE_BLOB */
		}
		return vgalloc_mock_host_wait(m, token);
	}
	/* Venus puts its ring wait into CREATE_BLOB: no round trip now, the host waits later. */
	ret = vgalloc__mock_call_begin_locked(m, e.call);
	if (ret == 0) {
		ret = host_wait_check_locked(m, token);
	}
	if (ret == 0) {
		encode_wait(cmd, token);
		*inout_cmd_size = MOCK_WAIT_CMD_SIZE;
		e.cmd_size = MOCK_WAIT_CMD_SIZE;
	}
	vgalloc__mock_call_end_locked(m, &e, ret, 0);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int hook_host_roundtrip(void *ctx)
{
	return vgalloc_mock_host_roundtrip(ctx);
}

static int hook_host_import(void *ctx, void *user_data, uint32_t res_id, uint64_t size,
                            uint64_t blob_id, uint64_t *out_host_handle, uint64_t *out_token)
{
	(void)user_data;
	return vgalloc_mock_host_import(ctx, res_id, size, blob_id, out_host_handle, out_token);
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
	out_hooks->ctx = mock;
	out_hooks->new_blob_id = hook_new_blob_id;
	out_hooks->host_alloc = hook_host_alloc;
	out_hooks->host_wait = hook_host_wait;
	out_hooks->host_roundtrip = hook_host_roundtrip;
	out_hooks->host_import = hook_host_import;
	out_hooks->host_free = hook_host_free;
	return 0;
}
