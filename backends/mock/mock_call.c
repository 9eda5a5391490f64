/* SPDX-License-Identifier: MIT */
/*
 * What every call into the mock goes through: its kind, counting, fault injection, the computed
 * cost model and the trace, on the one path that backend ops, host calls and hooks all take.
 */
#include <errno.h>

#include "mock_state.h"

static const char *const call_names[VGALLOC_MOCK_CALL_COUNT] = {
	[VGALLOC_MOCK_CALL_GET_PARAM] = "get_param",
	[VGALLOC_MOCK_CALL_GET_CAPSET] = "get_capset",
	[VGALLOC_MOCK_CALL_CONTEXT_INIT] = "context_init",
	[VGALLOC_MOCK_CALL_BLOB_CREATE] = "blob_create",
	[VGALLOC_MOCK_CALL_BLOB_MAP] = "blob_map",
	[VGALLOC_MOCK_CALL_BLOB_UNMAP] = "blob_unmap",
	[VGALLOC_MOCK_CALL_BLOB_EXPORT] = "blob_export",
	[VGALLOC_MOCK_CALL_BLOB_IMPORT] = "blob_import",
	[VGALLOC_MOCK_CALL_BLOB_INFO] = "blob_info",
	[VGALLOC_MOCK_CALL_BLOB_DESTROY] = "blob_destroy",
	[VGALLOC_MOCK_CALL_WAIT] = "wait",
	[VGALLOC_MOCK_CALL_NEW_BLOB_ID] = "new_blob_id",
	[VGALLOC_MOCK_CALL_HOST_ALLOC] = "host_alloc",
	[VGALLOC_MOCK_CALL_HOST_WAIT] = "host_wait",
	[VGALLOC_MOCK_CALL_HOST_ROUNDTRIP] = "host_roundtrip",
	[VGALLOC_MOCK_CALL_HOST_IMPORT] = "host_import",
	[VGALLOC_MOCK_CALL_HOST_FREE] = "host_free",
};

VGALLOC_API const char *vgalloc_mock_call_name(uint32_t call)
{
	if (call < VGALLOC_MOCK_CALL_COUNT) {
		return call_names[call];
	}
	if (call == VGALLOC_MOCK_CALL_ANY) {
		return "any";
	}
	return "unknown";
}

VGALLOC_API bool vgalloc_mock_call_failable(uint32_t call)
{
	switch (call) {
	case VGALLOC_MOCK_CALL_BLOB_UNMAP:
	case VGALLOC_MOCK_CALL_BLOB_DESTROY:
	case VGALLOC_MOCK_CALL_NEW_BLOB_ID:
	case VGALLOC_MOCK_CALL_HOST_FREE:
		return false;
	default:
		return call < VGALLOC_MOCK_CALL_COUNT;
	}
}

/* Counts the call; a failable one may then fail before it starts. */
static int call_begin_locked(struct vgalloc_mock *m, uint32_t call)
{
	m->l.calls[call]++;
	if (!vgalloc_mock_call_failable(call)) {
		return 0;
	}
	m->l.failable_calls++;
	/* A host that lost the context answers nothing but RESOURCE_INFO any more; unmap, close
	 * and host_free (not failable) still work so that everything can be cleaned up. */
	if (m->lost && call != VGALLOC_MOCK_CALL_BLOB_INFO) {
		return -EIO;
	}
	if (m->fault_armed && !m->fault_fired &&
	    (m->fault_call == VGALLOC_MOCK_CALL_ANY || m->fault_call == call)) {
		m->fault_seen++;
		if (m->fault_seen == m->fault_nth) {
			/* Returned before the op looks at anything, so no state changes. */
			m->fault_fired = true;
			return -m->fault_err;
		}
	}
	return 0;
}

static uint64_t base_cost(const struct vgalloc_mock *m, const struct mock_op *op)
{
	/* No exit, no ring: a guest-side counter, or a wait the host does in CREATE_BLOB's cmd. */
	if (op->e.call == VGALLOC_MOCK_CALL_NEW_BLOB_ID || op->wait_cmd) {
		return 0;
	}
	if (op->e.call >= VGALLOC_MOCK_CALL_HOST_ALLOC) {
		return m->cost.host_call_ns;
	}
	return m->cost.ioctl_ns;
}

int vgalloc__mock_call(struct vgalloc_mock *m, uint32_t call,
                       int (*run)(struct vgalloc_mock *m, struct mock_op *op), struct mock_op *op)
{
	int ret;

	if (!m) {
		return -EINVAL;
	}
	op->e.call = call;
	pthread_mutex_lock(&m->lock);
	op->cost = base_cost(m, op);
	ret = call_begin_locked(m, call);
	if (ret == 0) {
		ret = run(m, op);
	}
	op->e.result = ret;
	m->l.modeled_ns += op->cost;
	m->trace[m->trace_head] = op->e;
	m->trace_head = (m->trace_head + 1) % MOCK_TRACE_LEN;
	if (m->trace_count < MOCK_TRACE_LEN) {
		m->trace_count++;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}
