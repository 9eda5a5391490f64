/* SPDX-License-Identifier: MIT */
/*
 * The once-guard, written once: a first map or a lazy blob creation can wait ~1 ms for the host,
 * so it runs without the object's lock, with a busy flag that makes every other thread wait on
 * the lock's condvar until it is done (then they find the result). Blobs (blob.c) and backings
 * (backing.c) use it. Nothing here is installed.
 */
#ifndef VGALLOC_ONCE_H
#define VGALLOC_ONCE_H

#include <pthread.h>
#include <stdbool.h>

/* Lock held: wait until no thread is inside the guarded section, then the caller may enter. */
static inline void vgalloc__once_wait(pthread_mutex_t *lock, pthread_cond_t *cond, const bool *busy)
{
	while (*busy) {
		pthread_cond_wait(cond, lock);
	}
}

/* Lock held: leave the guarded section and wake the waiters. */
static inline void vgalloc__once_leave(pthread_cond_t *cond, bool *busy)
{
	*busy = false;
	pthread_cond_broadcast(cond);
}

#endif
