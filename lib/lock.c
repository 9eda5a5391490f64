/* SPDX-License-Identifier: MIT */
/*
 * The shard lock's slow paths (lock.h): sleeping and waking on the futex word. A thread that
 * finds the lock held marks it contended (2) and sleeps while it stays so; the holder's release
 * sees the mark and wakes one sleeper, which takes the lock marked contended again (it cannot
 * know whether others sleep). A condvar is a sequence number read under the lock: a broadcast
 * bumps it under the same lock, so a waiter that read it before releasing the lock either sees
 * the change or is woken.
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lock.h"

static void futex_wait(_Atomic uint32_t *word, uint32_t expected)
{
	/* EAGAIN (the word changed) and EINTR both mean: look again. */
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int count)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

void vgalloc__lock_slow(struct vgalloc__lock *l, uint32_t seen)
{
	if (seen != 2) {
		seen = atomic_exchange_explicit(&l->word, 2, memory_order_acquire);
	}
	while (seen != 0) {
		futex_wait(&l->word, 2);
		seen = atomic_exchange_explicit(&l->word, 2, memory_order_acquire);
	}
}

void vgalloc__lock_wake(struct vgalloc__lock *l)
{
	futex_wake(&l->word, 1);
}

void vgalloc__cond_wait(struct vgalloc__cond *c, struct vgalloc__lock *l)
{
	uint32_t seq = atomic_load_explicit(&c->seq, memory_order_relaxed);

	vgalloc__unlock(l);
	futex_wait(&c->seq, seq);
	vgalloc__lock(l);
}

void vgalloc__cond_broadcast(struct vgalloc__cond *c)
{
	atomic_fetch_add_explicit(&c->seq, 1, memory_order_relaxed);
	futex_wake(&c->seq, INT_MAX);
}
