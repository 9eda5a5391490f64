/* SPDX-License-Identifier: MIT */
/*
 * Memory-object handles under the hot path's two mechanisms: the slab's bounded quarantine (a
 * freed handle stays poisoned for VGALLOC__SLAB_QUARANTINE later frees, then is the first one
 * reused) and the deferred free of a suballocation whose shard another thread holds (claimed at
 * once, dead to every call, its range given back by the next call that takes the lock).
 * The shard's lock is taken here directly (lib/ headers) to make a free find it busy.
 * Covers: vgalloc_mem_alloc, vgalloc_mem_free, vgalloc_mem_map, vgalloc_mem_get_info,
 * vgalloc_device_get_stats, vgalloc_device_stats_json, vgalloc_device_trim,
 * vgalloc_device_destroy.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "../harness.h"
#include "handle.h"
#include "mem.h"
#include "registry.h"

#define KiB 1024ull
#define K   VGALLOC__SLAB_QUARANTINE

/* Suballocations of host-coherent memory, all on pool shard 0 (one thread never spreads). */
static struct vgalloc_mem *sub(struct fx *f)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4 * KiB);
	struct vgalloc_mem *m = NULL;
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };

	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &m), 0);
	assert_int_equal(vgalloc_mem_get_info(f->dev, m, &info), 0);
	assert_true(info.flags & VGALLOC_MEM_INFO_SUBALLOCATED);
	return m;
}

static uint64_t suballocs_live(struct fx *f)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	return st.suballocs_live;
}

static uint32_t magic_of(const struct vgalloc_mem *m)
{
	return atomic_load(&m->slot.magic);
}

/* A freed handle is poisoned for K later frees; then it is the first handle handed out again
 * (the warmest), and the slab grows rather than reuse one early. */
static void quarantine__poisoned_for_k_frees_then_reused_first(void **state)
{
	struct fx_opts o = { 0 };
	struct fx *f = fx_new(&o);
	const uint32_t n = K + 10;
	struct vgalloc_mem **m = calloc(n, sizeof(*m));
	struct vgalloc_mem *again, *more[K];

	(void)state;
	assert_non_null(m);
	for (uint32_t i = 0; i < n; i++) {
		m[i] = sub(f);
	}
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, m[i]), 0);
	}
	/* The last K freed are in quarantine: every second free of them is refused. */
	for (uint32_t i = n - K; i < n; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, m[i]), -EINVAL);
		assert_int_equal(magic_of(m[i]), VGALLOC__MAGIC_FREE);
	}
	/* m[0..9] left quarantine in order: the last of them comes back first. */
	again = sub(f);
	assert_ptr_equal(again, m[9]);
	assert_int_equal(vgalloc_mem_free(f->dev, again), 0);

	/* One handle freed, then K allocations: none of them is that handle, which is still
	 * refused as a double free after all of them. */
	again = sub(f);
	assert_int_equal(vgalloc_mem_free(f->dev, again), 0);
	for (uint32_t i = 0; i < K; i++) {
		more[i] = sub(f);
		assert_ptr_not_equal(more[i], again);
	}
	assert_int_equal(vgalloc_mem_free(f->dev, again), -EINVAL);
	for (uint32_t i = 0; i < K; i++) {
		assert_int_equal(vgalloc_mem_free(f->dev, more[i]), 0);
	}
	assert_int_equal(suballocs_live(f), 0);
	free(m);
	fx_free(f);
}

/* A free that finds the shard's lock busy is queued: claimed (dead to every call) at once, its
 * range given back by the next call that takes the lock. */
static void deferred__queued_free_is_dead_at_once_and_done_later(void **state)
{
	struct fx_opts o = { 0 };
	struct fx *f = fx_new(&o);
	struct vgalloc_mem *a = sub(f), *b = sub(f), *c;
	struct vgalloc__mshard *ms = vgalloc__mem_owner(f->dev, a);
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };
	void *ptr;

	(void)state;
	assert_non_null(ms);
	assert_true(ms->pooled);
	vgalloc__lock(&ms->lock);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	/* Queued, not yet given back: the slot is still a memory object, but dying. */
	assert_int_equal(magic_of(a), VGALLOC__MAGIC_MEM);
	assert_true(atomic_load(&a->slot.state) & VGALLOC__STATE_DYING);
	assert_int_equal(vgalloc_mem_free(f->dev, a), -EINVAL);
	vgalloc__unlock(&ms->lock);
	assert_int_equal(vgalloc_mem_map(f->dev, a, &ptr), -EINVAL);
	assert_int_equal(vgalloc_mem_get_info(f->dev, a, &info), -EINVAL);
	assert_int_equal(vgalloc_mem_free(f->dev, a), -EINVAL);
	/* The next allocation takes the lock and completes it first. */
	c = sub(f);
	assert_int_equal(magic_of(a), VGALLOC__MAGIC_FREE);
	assert_int_equal(suballocs_live(f), 2);

	/* Statistics complete queued frees before they count. */
	vgalloc__lock(&ms->lock);
	assert_int_equal(vgalloc_mem_free(f->dev, b), 0);
	vgalloc__unlock(&ms->lock);
	assert_int_equal(magic_of(b), VGALLOC__MAGIC_MEM);
	assert_int_equal(suballocs_live(f), 1);
	assert_int_equal(magic_of(b), VGALLOC__MAGIC_FREE);

	/* Device destroy completes them too: no allocation is reported alive or leaks. */
	vgalloc__lock(&ms->lock);
	assert_int_equal(vgalloc_mem_free(f->dev, c), 0);
	vgalloc__unlock(&ms->lock);
	fx_free(f);
}

/* Statistics complete queued frees without releasing anything: a block the completion empties
 * is kept (even above retain_bytes) for the next trim, so no hook runs inside a stats call. */
static void deferred__statistics_complete_queued_frees_without_hooks(void **state)
{
	struct fx_opts o = { 0 };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct fx *f = calloc(1, sizeof(*f));
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc_mem *a;
	struct vgalloc__mshard *ms;
	char json[4096];

	(void)state;
	assert_non_null(f);
	f->fds_before = count_open_fds();
	f->mock = fx_mock_new(&o);
	assert_int_equal(vgalloc_mock_get_hooks(f->mock, 0, &f->hooks), 0);
	fx_create_info(f, &o, types, &ci);
	ci.retain_bytes = 1; /* an empty block is never kept on the free path */
	assert_int_equal(vgalloc_device_create(&ci, &f->dev), 0);
	a = sub(f);
	ms = vgalloc__mem_owner(f->dev, a);
	vgalloc__lock(&ms->lock);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	vgalloc__unlock(&ms->lock);
	vgalloc_mock_reset_counters(f->mock);
	assert_int_equal(vgalloc_device_get_stats(f->dev, &st), 0);
	assert_int_equal(st.suballocs_live, 0);
	assert_int_equal(st.blocks, 1);
	assert_int_equal(st.retained_bytes, st.block_bytes);
	assert_true(vgalloc_device_stats_json(f->dev, json, sizeof(json)) > 0);
	/* Not one backend call or hook. */
	for (int c = 0; c < VGALLOC_MOCK_CALL_COUNT; c++) {
		assert_int_equal(fx_ledger(f->mock).calls[c], 0);
	}
	assert_int_equal(vgalloc_device_trim(f->dev), 1);
	assert_int_equal(fx_ledger(f->mock).calls[VGALLOC_MOCK_CALL_HOST_FREE], 1);
	fx_free(f);
}

struct freer {
	struct fx *f;
	struct vgalloc_mem **m;
	uint32_t n;
	atomic_int done;
	int ret;
};

static void *free_all(void *arg)
{
	struct freer *fr = arg;

	for (uint32_t i = 0; i < fr->n && !fr->ret; i++) {
		fr->ret = vgalloc_mem_free(fr->f->dev, fr->m[i]);
	}
	atomic_store(&fr->done, 1);
	return NULL;
}

/* The queue is bounded: the free that fills it waits for the lock and completes them all, so a
 * shard nobody allocates from any more still gets its memory back. */
static void deferred__full_queue_is_drained_by_the_freer(void **state)
{
	struct fx_opts o = { 0 };
	struct fx *f = fx_new(&o);
	struct vgalloc_mem *m[64];
	struct freer fr = { .f = f, .m = m, .n = 63 };
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	struct vgalloc__mshard *ms;
	pthread_t t;

	(void)state;
	for (uint32_t i = 0; i < 64; i++) {
		m[i] = sub(f);
	}
	ms = vgalloc__mem_owner(f->dev, m[0]);
	vgalloc__lock(&ms->lock);
	/* 63 queued frees return at once, with the lock held elsewhere. */
	assert_int_equal(pthread_create(&t, NULL, free_all, &fr), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(fr.ret, 0);
	for (uint32_t i = 0; i < 63; i++) {
		assert_int_equal(magic_of(m[i]), VGALLOC__MAGIC_MEM);
	}
	/* The 64th waits for the lock... */
	fr = (struct freer){ .f = f, .m = &m[63], .n = 1 };
	assert_int_equal(pthread_create(&t, NULL, free_all, &fr), 0);
	nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&fr.done), 0);
	vgalloc__unlock(&ms->lock);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(fr.ret, 0);
	/* ...and has completed every one of them, with no other call since. */
	for (uint32_t i = 0; i < 64; i++) {
		assert_int_equal(magic_of(m[i]), VGALLOC__MAGIC_FREE);
	}
	assert_int_equal(suballocs_live(f), 0);
	fx_free(f);
}

/* A thread inside vgalloc_mem_map() of an allocation makes a queued free of it -EBUSY too. */
static void deferred__free_during_map_is_ebusy(void **state)
{
	struct fx_opts o = { 0 };
	struct fx *f = fx_new(&o);
	struct vgalloc_mem *a = sub(f);
	struct vgalloc__mshard *ms = vgalloc__mem_owner(f->dev, a);

	(void)state;
	/* What map_enter() does while a first map runs without the lock. */
	atomic_fetch_add(&a->slot.state, 1);
	vgalloc__lock(&ms->lock);
	assert_int_equal(vgalloc_mem_free(f->dev, a), -EBUSY);
	vgalloc__unlock(&ms->lock);
	assert_int_equal(vgalloc_mem_free(f->dev, a), -EBUSY);
	atomic_fetch_sub(&a->slot.state, 1);
	assert_int_equal(vgalloc_mem_free(f->dev, a), 0);
	assert_int_equal(suballocs_live(f), 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quarantine__poisoned_for_k_frees_then_reused_first),
		cmocka_unit_test(deferred__queued_free_is_dead_at_once_and_done_later),
		cmocka_unit_test(deferred__full_queue_is_drained_by_the_freer),
		cmocka_unit_test(deferred__free_during_map_is_ebusy),
		cmocka_unit_test(deferred__statistics_complete_queued_frees_without_hooks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
