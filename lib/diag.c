/* SPDX-License-Identifier: MIT */
/*
 * The diagnostics a consumer reads: the plan of a request and its explanation, the device's
 * counters (stats.h's one list), each pool's figures and all of it as JSON. Reads only: nothing
 * here changes what the device does.
 */
#include <string.h>

#include "policy.h"
#include "pool.h"
#include "state.h"

_Static_assert(sizeof(struct vgalloc_plan) == VGALLOC__V0_PLAN, "plan version 0 size");
_Static_assert(offsetof(struct vgalloc_stats, shmem_live) == 184, "stats v1 size");
_Static_assert(offsetof(struct vgalloc_stats, pools) == VGALLOC__V0_STATS,
               "stats version 0 ends where the appended fields start");

/* Every public field is in the list, in the struct's order: the list's last field ends it. */
#define VGALLOC__STAT_COUNT(name) +1
_Static_assert(sizeof(struct vgalloc_stats) ==
                       offsetof(struct vgalloc_stats, blobs_live) +
                               sizeof(uint64_t) *
                                       (0 VGALLOC__STATS(VGALLOC__STAT_COUNT, VGALLOC__STAT_COUNT,
                                                         VGALLOC__STAT_COUNT)),
               "stats.h lists every field of struct vgalloc_stats");

int vgalloc_device_get_stats(const struct vgalloc_device *cdev, struct vgalloc_stats *out)
{
	/* atomic_load takes a non-const pointer in some C libraries' stdatomic. */
	struct vgalloc_device *dev = (struct vgalloc_device *)cdev;
	struct vgalloc__shmem_cache *c;
	struct vgalloc_stats s;

	if (!dev) {
		return -EINVAL;
	}
	/* Frees other threads queued are done frees to the caller: complete them first. */
	vgalloc__pools_drain(dev);
	memset(&s, 0, sizeof(s));
#define LOAD(name)    s.name = atomic_load_explicit(&dev->stats.name, memory_order_relaxed);
#define LOAD_FD(name) s.name = atomic_load_explicit(&dev->fd->stats.name, memory_order_relaxed);
	VGALLOC__STATS(LOAD, LOAD_FD, VGALLOC__STAT_NONE)
#undef LOAD_FD
#undef LOAD
	/* The derived ones (D in stats.h). */
	s.pools = atomic_load_explicit(&dev->ld.pool_count, memory_order_acquire);
	vgalloc__pools_counts(dev, &s.suballocs_live, &s.suballoc_bytes);
	c = &dev->fd->shmem;
	pthread_mutex_lock(&c->lock);
	s.shmem_live = c->live;
	s.shmem_cached = c->cached;
	s.shmem_cached_bytes = c->cached_bytes;
	s.shmem_hits = c->hits;
	s.shmem_misses = c->misses;
	pthread_mutex_unlock(&c->lock);
	return vgalloc__struct_out(out, &s, VGALLOC__V0_STATS, sizeof(s));
}

int vgalloc_device_get_pool_stats(struct vgalloc_device *dev, uint32_t index,
                                  struct vgalloc_pool_stats *out)
{
	struct vgalloc_pool_stats ps;
	int ret;

	if (!dev || !out || !vgalloc__struct_room(out, sizeof(ps))) {
		return -EINVAL;
	}
	ret = vgalloc__pool_stats(dev, index, &ps);
	return ret ? ret : vgalloc__struct_out(out, &ps, sizeof(ps), sizeof(ps));
}

#define POOL_FIELDS(X)     \
	X(memory_type)     \
	X(pool_key)        \
	X(blocks)          \
	X(block_bytes)     \
	X(retained_bytes)  \
	X(used_bytes)      \
	X(requested_bytes) \
	X(free_bytes)      \
	X(largest_free) X(slabs) X(slab_bytes) X(live) X(metadata_bytes) X(window_bytes)

int vgalloc_device_stats_json(struct vgalloc_device *dev, char *buf, size_t size)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc__why w = { buf, size, 0 };
	int ret;

	if (!dev || (!buf && size)) {
		return -EINVAL;
	}
	ret = vgalloc_device_get_stats(dev, &st);
	if (ret) {
		return ret;
	}
#define J(f) vgalloc__why(&w, "\"%s\":%llu,", #f, (unsigned long long)st.f);
	vgalloc__why(&w, "{");
	VGALLOC__STATS(J, J, J)
#undef J
	vgalloc__why(&w, "\"pool_detail\":[");
	for (uint32_t i = 0;; i++) {
		struct vgalloc_pool_stats ps;
		const char *sep = "{";

		if (vgalloc__pool_stats(dev, i, &ps)) {
			break;
		}
		vgalloc__why(&w, "%s", i ? "," : "");
#define J(f)                                                                  \
	vgalloc__why(&w, "%s\"%s\":%llu", sep, #f, (unsigned long long)ps.f); \
	sep = ",";
		POOL_FIELDS(J)
#undef J
		vgalloc__why(&w, "}");
	}
	vgalloc__why(&w, "]}");
	return vgalloc__why_end(&w);
}

int vgalloc_plan_request(const struct vgalloc_device *dev, const struct vgalloc_request *ureq,
                         struct vgalloc_plan *out)
{
	struct vgalloc_request req;
	struct vgalloc_plan plan;
	int ret;

	/* Checked before the request: a plan nobody can receive is not worth making. */
	if (!dev || !out || !vgalloc__struct_room(out, VGALLOC__V0_PLAN)) {
		return -EINVAL;
	}
	ret = vgalloc__plan_in(&dev->ld.traits, ureq, &req, &plan);
	return ret ? ret : vgalloc__struct_out(out, &plan, VGALLOC__V0_PLAN, sizeof(plan));
}

int vgalloc_plan_explain(const struct vgalloc_device *dev, const struct vgalloc_request *ureq,
                         char *buf, size_t size)
{
	struct vgalloc__why w = { buf, size, 0 };
	struct vgalloc_request req;
	struct vgalloc_plan plan;
	int ret;

	if (!dev || (!buf && size)) {
		return -EINVAL;
	}
	if (size) {
		buf[0] = 0;
	}
	vgalloc__explain_device(&dev->ld.traits, &w);
	if (ureq) {
		ret = vgalloc__struct_in(ureq, VGALLOC__V0_REQUEST, sizeof(req), &req);
		if (!ret) {
			ret = vgalloc__plan(&dev->ld.traits, &req, &plan, &w);
		}
		if (ret) {
			if (size && w.len >= size) {
				buf[size - 1] = 0;
			}
			return ret;
		}
		vgalloc__explain_steps(&plan, &w);
	}
	return vgalloc__why_end(&w);
}
