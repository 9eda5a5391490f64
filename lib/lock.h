/* SPDX-License-Identifier: MIT */
/*
 * The shard lock: a futex word, taken and released inline. Every allocation, map and free takes
 * one, and glibc's mutex cost ~50 instructions a pair in calls and checks for one atomic each
 * way. Uncontended, this is one compare-and-swap to take and one exchange to release; a waiter
 * sleeps in the kernel. Nothing here is installed.
 */
#ifndef VGALLOC_LOCK_H
#define VGALLOC_LOCK_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* 0 free, 1 held, 2 held with (possible) waiters. Zero-initialised is free. */
struct vgalloc__lock {
	_Atomic uint32_t word;
};

/* Waiters of a once-guard (below): a sequence the waker bumps. Zero-initialised is ready. */
struct vgalloc__cond {
	_Atomic uint32_t seq;
};

void vgalloc__lock_slow(struct vgalloc__lock *l, uint32_t seen);
void vgalloc__lock_wake(struct vgalloc__lock *l);
/* Lock held: release it, sleep until the next vgalloc__cond_broadcast(), take it again. */
void vgalloc__cond_wait(struct vgalloc__cond *c, struct vgalloc__lock *l);
/* Lock held: wake every waiter of c. */
void vgalloc__cond_broadcast(struct vgalloc__cond *c);

static inline void vgalloc__lock(struct vgalloc__lock *l)
{
	uint32_t seen = 0;

	if (!atomic_compare_exchange_strong_explicit(&l->word, &seen, 1, memory_order_acquire,
	                                             memory_order_relaxed)) {
		vgalloc__lock_slow(l, seen);
	}
}

/* 0 and the lock taken, or EBUSY (as pthread_mutex_trylock). */
static inline int vgalloc__trylock(struct vgalloc__lock *l)
{
	uint32_t seen = 0;

	return atomic_compare_exchange_strong_explicit(&l->word, &seen, 1, memory_order_acquire,
	                                               memory_order_relaxed)
	               ? 0
	               : EBUSY;
}

static inline void vgalloc__unlock(struct vgalloc__lock *l)
{
	if (atomic_exchange_explicit(&l->word, 0, memory_order_release) == 2) {
		vgalloc__lock_wake(l);
	}
}

/*
 * The shard lock's once-guard (state.h has the fd lock's): lock held, wait until *busy is
 * false; leave it with the lock held.
 */
static inline void vgalloc__lock_once_wait(struct vgalloc__lock *l, struct vgalloc__cond *c,
                                           const bool *busy)
{
	while (*busy) {
		vgalloc__cond_wait(c, l);
	}
}

static inline void vgalloc__lock_once_leave(struct vgalloc__cond *c, bool *busy)
{
	*busy = false;
	vgalloc__cond_broadcast(c);
}

#endif
