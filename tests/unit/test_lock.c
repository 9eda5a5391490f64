/* SPDX-License-Identifier: MIT */
/*
 * The shard lock (lib/lock.h): mutual exclusion under contention, trylock, and the once-guard's
 * wait and broadcast. Threads outnumber this machine's cores, so waiters really sleep on the
 * futex word.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lock.h"

#define THREADS 6
#define ROUNDS  100000

struct shared {
	struct vgalloc__lock lock;
	struct vgalloc__cond cond;
	uint64_t counter; /* the lock's: a plain field, so a lost exclusion loses increments */
	uint64_t tried;   /* increments made through trylock */
	bool busy;        /* the once-guard */
	int woken;
	int woken_busy; /* counted, not asserted: cmocka asserts only on its own thread */
};

static void *hammer(void *arg)
{
	struct shared *s = arg;

	for (int i = 0; i < ROUNDS; i++) {
		if (i % 4 == 0 && !vgalloc__trylock(&s->lock)) {
			s->counter++;
			s->tried++;
			vgalloc__unlock(&s->lock);
			continue;
		}
		vgalloc__lock(&s->lock);
		s->counter++;
		if (i % 1000 == 0) {
			sched_yield(); /* hold it across a reschedule: others must sleep */
		}
		vgalloc__unlock(&s->lock);
	}
	return NULL;
}

static void lock__excludes_under_contention(void **state)
{
	struct shared s = { 0 };
	pthread_t t[THREADS];

	(void)state;
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &s), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
	}
	assert_int_equal(s.counter, (uint64_t)THREADS * ROUNDS);
	assert_true(s.tried > 0);
	/* Released for good: free, no waiter mark left. */
	assert_int_equal(atomic_load(&s.lock.word), 0);
}

static void lock__trylock_fails_while_held(void **state)
{
	struct vgalloc__lock l = { 0 };

	(void)state;
	assert_int_equal(vgalloc__trylock(&l), 0);
	assert_int_equal(vgalloc__trylock(&l), EBUSY);
	vgalloc__unlock(&l);
	assert_int_equal(vgalloc__trylock(&l), 0);
	vgalloc__unlock(&l);
	assert_int_equal(atomic_load(&l.word), 0);
}

static void *wait_once(void *arg)
{
	struct shared *s = arg;

	vgalloc__lock(&s->lock);
	vgalloc__lock_once_wait(&s->lock, &s->cond, &s->busy);
	/* Woken with the lock held and the guard left. */
	s->woken_busy += s->busy;
	s->woken++;
	vgalloc__unlock(&s->lock);
	return NULL;
}

static void lock__once_guard_wakes_every_waiter(void **state)
{
	struct shared s = { 0 };
	pthread_t t[THREADS];

	(void)state;
	s.busy = true;
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, wait_once, &s), 0);
	}
	/* Let them reach the wait (a waiter that comes later finds the guard left anyway). */
	for (int i = 0; i < 50; i++) {
		sched_yield();
	}
	vgalloc__lock(&s.lock);
	assert_int_equal(s.woken, 0);
	vgalloc__lock_once_leave(&s.cond, &s.busy);
	vgalloc__unlock(&s.lock);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
	}
	assert_int_equal(s.woken, THREADS);
	assert_int_equal(s.woken_busy, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lock__excludes_under_contention),
		cmocka_unit_test(lock__trylock_fails_while_held),
		cmocka_unit_test(lock__once_guard_wakes_every_waiter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
