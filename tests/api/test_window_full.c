/* SPDX-License-Identifier: MIT */
/*
 * The window-full ladder (docs/window-full.md) on the mock: a nearly full or tiny host-visible
 * window degrades a pool instead of failing ordinary small allocations. Guest-first makes a
 * smaller block, then a blob of its own, at allocation; host-first fails the map of the block
 * that found no room once, closes that block to new members and makes later blocks small (then
 * dedicated). Each step is logged at WARN and counted, and trimming lifts the ladder.
 * Covers: vgalloc_mem_alloc, vgalloc_mem_map, vgalloc_mem_free, vgalloc_mem_get_info,
 * vgalloc_device_trim, vgalloc_device_get_stats, vgalloc_device_stats_json.
 */
#include <pthread.h>

#include "../harness.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)

struct wfx {
	struct fx fx;             /* first: fx_free() frees the whole struct */
	pthread_mutex_t log_lock; /* the log callback runs on any allocating thread */
	uint32_t warnings;
	char last_warning[512];
	struct vgalloc_mem *filler; /* holds window bytes so that only `free` are left */
};

static void on_log(void *user, enum vgalloc_log_level level, const char *msg)
{
	struct wfx *w = user;

	if (level == VGALLOC_LOG_WARN) {
		pthread_mutex_lock(&w->log_lock);
		w->warnings++;
		snprintf(w->last_warning, sizeof(w->last_warning), "%s", msg);
		pthread_mutex_unlock(&w->log_lock);
	}
}

static struct vgalloc_stats stats(struct wfx *w)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };

	assert_int_equal(vgalloc_device_get_stats(w->fx.dev, &st), 0);
	assert_int_equal(st.struct_size, sizeof(st));
	return st;
}

static bool suballocated(struct wfx *w, struct vgalloc_mem *mem)
{
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };

	assert_int_equal(vgalloc_mem_get_info(w->fx.dev, mem, &info), 0);
	return info.flags & VGALLOC_MEM_INFO_SUBALLOCATED;
}

static uint64_t window_used(struct wfx *w)
{
	return fx_ledger(w->fx.mock).window_bytes;
}

/*
 * A device on a mock window of `window` bytes, guest-first (static profile) or host-first, with
 * all but `free` bytes of the window held by one mapped dedicated blob of the same device.
 */
static struct wfx *wfx_new(bool guest_first, uint64_t window, uint64_t free)
{
	struct fx_opts o = {
		.profile =
		        guest_first ? VGALLOC_MOCK_PROFILE_STATIC : VGALLOC_MOCK_PROFILE_INJECTING,
		.window = window,
	};
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct wfx *w = calloc(1, sizeof(*w));
	void *p;

	assert_non_null(w);
	pthread_mutex_init(&w->log_lock, NULL);
	w->fx.fds_before = count_open_fds();
	w->fx.mock = fx_mock_new(&o);
	assert_int_equal(vgalloc_mock_get_hooks(w->fx.mock, 0, &w->fx.hooks), 0);
	fx_create_info(&w->fx, &o, types, &ci);
	ci.log_fn = on_log;
	ci.log_user = w;
	ci.log_level = VGALLOC_LOG_WARN;
	assert_int_equal(vgalloc_device_create(&ci, &w->fx.dev), 0);
	if (window > free) {
		/* Above max_suballoc_size: a blob of its own, in the window once mapped. */
		struct vgalloc_request r = fx_req(TYPE_HOST_CACHED, window - free);

		r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
		assert_int_equal(vgalloc_mem_alloc(w->fx.dev, &r, &w->filler), 0);
		assert_int_equal(vgalloc_mem_map(w->fx.dev, w->filler, &p), 0);
	}
	assert_int_equal(window_used(w), window - free);
	vgalloc_mock_reset_counters(w->fx.mock);
	w->warnings = 0;
	return w;
}

static void wfx_free(struct wfx *w)
{
	if (w->filler) {
		assert_int_equal(vgalloc_mem_free(w->fx.dev, w->filler), 0);
	}
	pthread_mutex_destroy(&w->log_lock);
	fx_free(&w->fx); /* frees w: fx is its first member */
}

static struct vgalloc_mem *alloc64k(struct wfx *w)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 64 * KiB);
	struct vgalloc_mem *mem = NULL;

	assert_int_equal(vgalloc_mem_alloc(w->fx.dev, &r, &mem), 0);
	assert_non_null(mem);
	return mem;
}

/* Map, write a pattern and read it back through a second map of the same memory. */
static void map_write_check(struct wfx *w, struct vgalloc_mem *mem, uint8_t pattern)
{
	uint8_t *p, *q;

	assert_int_equal(vgalloc_mem_map(w->fx.dev, mem, (void **)&p), 0);
	memset(p, pattern, 64 * KiB);
	assert_int_equal(vgalloc_mem_map(w->fx.dev, mem, (void **)&q), 0);
	assert_ptr_equal(p, q);
	assert_int_equal(q[0], pattern);
	assert_int_equal(q[64 * KiB - 1], pattern);
	assert_int_equal(vgalloc_mem_unmap(w->fx.dev, mem), 0);
	assert_int_equal(vgalloc_mem_unmap(w->fx.dev, mem), 0);
}

/* Guest-first, 3 MiB free: the 4 MiB block finds no room, a 2 MiB one serves at once. */
static void mem_alloc__guest_first_window_3mib_free_makes_a_smaller_block(void **state)
{
	struct wfx *w = wfx_new(true, 64 * MiB, 3 * MiB);
	struct vgalloc_mem *a, *b;
	struct vgalloc_stats st;
	char json[8192];

	(void)state;
	a = alloc64k(w);
	assert_true(suballocated(w, a));
	st = stats(w);
	assert_int_equal(st.blocks, 1);
	assert_int_equal(st.block_bytes, 2 * MiB);
	assert_int_equal(st.window_small_blocks, 1);
	assert_int_equal(st.window_dedicated, 0);
	assert_int_equal(st.window_closed_blocks, 0);
	assert_true(w->warnings >= 2); /* the failed size, then the smaller block */
	assert_non_null(strstr(w->last_warning, "instead of 4194304"));
	map_write_check(w, a, 0x5a);
	/* The next block of the pool starts at the size that worked: no failed create. */
	b = alloc64k(w);
	assert_true(suballocated(w, b));
	assert_int_equal(stats(w).blocks, 1); /* same block: it has room */
	assert_true(vgalloc_device_stats_json(w->fx.dev, json, sizeof(json)) > 0);
	assert_non_null(strstr(json, "\"window_small_blocks\":1,"));
	assert_int_equal(vgalloc_mem_free(w->fx.dev, a), 0);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, b), 0);
	wfx_free(w);
}

/* Guest-first, less free than the floor: the allocation gets a blob of its own at once. */
static void mem_alloc__guest_first_window_below_floor_goes_dedicated(void **state)
{
	struct wfx *w = wfx_new(true, 64 * MiB, 128 * KiB);
	struct vgalloc_mem *a;
	struct vgalloc_stats st;

	(void)state;
	a = alloc64k(w);
	assert_false(suballocated(w, a));
	st = stats(w);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.window_dedicated, 1);
	assert_int_equal(st.window_small_blocks, 0);
	assert_int_equal(window_used(w), 64 * MiB - 64 * KiB);
	assert_non_null(strstr(w->last_warning, "a blob of its own"));
	map_write_check(w, a, 0x11);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, a), 0);
	wfx_free(w);
}

/*
 * Host-first, 3 MiB free: the first 4 MiB block's map fails once with -ENOSPC (its member
 * keeps its host memory), the block takes no new member, and the next 64 KiB allocation maps
 * in a floor-sized block.
 */
static void mem_map__host_first_window_3mib_free_fails_once_then_degrades(void **state)
{
	struct wfx *w = wfx_new(false, 64 * MiB, 3 * MiB);
	struct vgalloc_mem *a, *b, *c;
	struct vgalloc_stats st;
	void *p = NULL;

	(void)state;
	a = alloc64k(w);
	assert_int_equal(vgalloc_mem_map(w->fx.dev, a, &p), -ENOSPC);
	assert_null(p);
	st = stats(w);
	assert_int_equal(st.window_closed_blocks, 1);
	assert_int_equal(st.block_bytes, 4 * MiB);
	assert_non_null(strstr(w->last_warning, "new blocks are at most 262144 bytes"));
	/* The next allocation does not land in the closed block, and maps. */
	b = alloc64k(w);
	assert_true(suballocated(w, b));
	st = stats(w);
	assert_int_equal(st.blocks, 2);
	assert_int_equal(st.block_bytes, 4 * MiB + 256 * KiB);
	map_write_check(w, b, 0x77);
	/* Three more fit the small block beside b. */
	c = alloc64k(w);
	assert_int_equal(stats(w).blocks, 2);
	map_write_check(w, c, 0x78);
	assert_int_equal(stats(w).window_closed_blocks, 1);
	/* The closed block is released with its last member, never retained. */
	assert_int_equal(vgalloc_mem_free(w->fx.dev, a), 0);
	st = stats(w);
	assert_int_equal(st.blocks, 1);
	assert_int_equal(st.retained_bytes, 0);
	assert_int_equal(fx_ledger(w->fx.mock).order_violations, 0);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, b), 0);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, c), 0);
	wfx_free(w);
}

/* Host-first, less free than the floor: the floor block fails too, then blobs of their own. */
static void mem_map__host_first_window_below_floor_goes_dedicated(void **state)
{
	struct wfx *w = wfx_new(false, 64 * MiB, 128 * KiB);
	struct vgalloc_mem *a, *b, *c;
	struct vgalloc_stats st;
	void *p;

	(void)state;
	a = alloc64k(w);
	assert_int_equal(vgalloc_mem_map(w->fx.dev, a, &p), -ENOSPC);
	b = alloc64k(w);
	assert_int_equal(vgalloc_mem_map(w->fx.dev, b, &p), -ENOSPC);
	assert_non_null(strstr(w->last_warning, "blobs of their own"));
	c = alloc64k(w);
	assert_false(suballocated(w, c));
	map_write_check(w, c, 0x33);
	st = stats(w);
	assert_int_equal(st.window_closed_blocks, 2);
	assert_int_equal(st.window_dedicated, 1);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, a), 0);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, b), 0);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, c), 0);
	wfx_free(w);
}

/* A 1 MiB window: small suballocations work in both modes (host-first after one failed map). */
static void mem_alloc__one_mib_window_suballocates_in_both_modes(void **state)
{
	(void)state;
	for (int gf = 0; gf < 2; gf++) {
		struct wfx *w = wfx_new(gf, 1 * MiB, 1 * MiB);
		struct vgalloc_mem *m[8];
		uint32_t failed_maps = 0;

		for (int i = 0; i < 8; i++) {
			void *p;
			int ret;

			m[i] = alloc64k(w);
			ret = vgalloc_mem_map(w->fx.dev, m[i], &p);
			if (ret == -ENOSPC) {
				failed_maps++;
				continue;
			}
			assert_int_equal(ret, 0);
			assert_true(suballocated(w, m[i]));
			assert_int_equal(vgalloc_mem_unmap(w->fx.dev, m[i]), 0);
			map_write_check(w, m[i], (uint8_t)i);
		}
		print_message("  %s: %u failed maps, %llu blocks, %llu window bytes\n",
		              gf ? "guest-first" : "host-first", failed_maps,
		              (unsigned long long)stats(w).blocks,
		              (unsigned long long)window_used(w));
		assert_int_equal(failed_maps, gf ? 0 : 1);
		assert_true(window_used(w) <= 1 * MiB);
		assert_int_equal(stats(w).window_dedicated, 0);
		for (int i = 0; i < 8; i++) {
			assert_int_equal(vgalloc_mem_free(w->fx.dev, m[i]), 0);
		}
		wfx_free(w);
	}
}

/* vgalloc_device_trim() lifts the ladder: with room again, blocks are their planned size. */
static void device_trim__lifts_the_ladder(void **state)
{
	struct wfx *w = wfx_new(true, 64 * MiB, 3 * MiB);
	struct vgalloc_mem *a, *b;

	(void)state;
	a = alloc64k(w);
	assert_int_equal(stats(w).block_bytes, 2 * MiB);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, w->filler), 0);
	w->filler = NULL;
	assert_int_equal(vgalloc_mem_free(w->fx.dev, a), 0);
	assert_true(vgalloc_device_trim(w->fx.dev) >= 0);
	b = alloc64k(w);
	assert_int_equal(stats(w).block_bytes, 4 * MiB);
	assert_int_equal(stats(w).window_small_blocks, 1);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, b), 0);
	wfx_free(w);
}

static struct vgalloc_mem *alloc_size(struct wfx *w, uint64_t size)
{
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, size);
	struct vgalloc_mem *mem = NULL;

	assert_int_equal(vgalloc_mem_alloc(w->fx.dev, &r, &mem), 0);
	return mem;
}

/* A larger request's floor-sized block must not raise the pool's cap: after it, small blocks are
 * still floor-sized and map (a 1 MiB request used to leave a ~1 MiB cap behind). */
static void mem_alloc__a_larger_request_does_not_raise_the_cap(void **state)
{
	struct wfx *w = wfx_new(false, 64 * MiB, 600 * KiB);
	struct vgalloc_mem *a, *big, *c;
	void *p;

	(void)state;
	a = alloc64k(w);
	assert_int_equal(vgalloc_mem_map(w->fx.dev, a, &p), -ENOSPC);
	big = alloc_size(w, 1 * MiB); /* never mapped: no window */
	c = alloc64k(w);
	assert_int_equal(vgalloc_mem_map(w->fx.dev, c, &p), 0);
	memset(p, 0x42, 64 * KiB);
	assert_int_equal(stats(w).window_closed_blocks, 1);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, a), 0);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, big), 0);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, c), 0);
	wfx_free(w);
}

/* A block made at its own request's floor is the ladder's last block size even when that floor
 * is above the general 256 KiB: when its map fails, the pool goes to blobs of their own. */
static void mem_map__a_failed_block_at_its_floor_goes_dedicated(void **state)
{
	struct wfx *w = wfx_new(false, 64 * MiB, 304 * KiB);
	struct vgalloc_mem *a, *b, *c;
	void *p;

	(void)state;
	a = alloc_size(w, 300 * KiB);
	assert_int_equal(vgalloc_mem_map(w->fx.dev, a, &p), -ENOSPC); /* the 4 MiB block */
	b = alloc_size(w, 300 * KiB);
	assert_int_equal(vgalloc_mem_map(w->fx.dev, b, &p), -ENOSPC); /* its floor block */
	c = alloc_size(w, 300 * KiB);
	assert_false(suballocated(w, c));
	assert_int_equal(vgalloc_mem_map(w->fx.dev, c, &p), 0);
	memset(p, 0x24, 300 * KiB);
	assert_int_equal(stats(w).window_closed_blocks, 2);
	assert_int_equal(stats(w).window_dedicated, 1);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, a), 0);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, b), 0);
	assert_int_equal(vgalloc_mem_free(w->fx.dev, c), 0);
	wfx_free(w);
}

struct churn {
	struct wfx *w;
	uint32_t seed;
	uint32_t failed_maps, maps;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	struct vgalloc_mem *live[6] = { 0 };

	for (uint32_t i = 0; i < 300; i++) {
		uint32_t slot = (c->seed = c->seed * 1103515245u + 12345u) >> 16;
		struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 64 * KiB);
		uint8_t *p;
		int ret;

		slot %= 6;
		if (live[slot]) {
			assert_int_equal(vgalloc_mem_free(c->w->fx.dev, live[slot]), 0);
			live[slot] = NULL;
			continue;
		}
		ret = vgalloc_mem_alloc(c->w->fx.dev, &r, &live[slot]);
		if (ret == -ENOSPC) {
			continue; /* every thread's live memory can fill a small window */
		}
		assert_int_equal(ret, 0);
		ret = vgalloc_mem_map(c->w->fx.dev, live[slot], (void **)&p);
		if (ret == -ENOSPC) {
			c->failed_maps++;
			continue;
		}
		assert_int_equal(ret, 0);
		c->maps++;
		memset(p, (int)slot, 64 * KiB);
		assert_int_equal(p[64 * KiB - 1], slot);
		assert_int_equal(vgalloc_mem_unmap(c->w->fx.dev, live[slot]), 0);
	}
	for (int i = 0; i < 6; i++) {
		assert_int_equal(vgalloc_mem_free(c->w->fx.dev, live[i]), 0);
	}
	return NULL;
}

/* Four threads churn 64 KiB allocations in a 2 MiB window: the ladder's closing, capping and
 * lifting race with allocation, mapping and freeing (TSan runs this), and nothing leaks. */
static void mem_alloc__ladder_under_four_threads(void **state)
{
	(void)state;
	for (int gf = 0; gf < 2; gf++) {
		struct wfx *w = wfx_new(gf, 2 * MiB, 2 * MiB);
		struct churn c[4];
		pthread_t t[4];
		uint32_t maps = 0, failed = 0;

		for (int i = 0; i < 4; i++) {
			c[i] = (struct churn){ .w = w, .seed = 77u + (uint32_t)i };
			assert_int_equal(pthread_create(&t[i], NULL, churn_thread, &c[i]), 0);
		}
		for (int i = 0; i < 4; i++) {
			assert_int_equal(pthread_join(t[i], NULL), 0);
			maps += c[i].maps;
			failed += c[i].failed_maps;
		}
		print_message("  %s: %u maps, %u failed with -ENOSPC, %llu closed blocks\n",
		              gf ? "guest-first" : "host-first", maps, failed,
		              (unsigned long long)stats(w).window_closed_blocks);
		assert_true(maps > 0);
		assert_int_equal(stats(w).mems_live, 0);
		assert_int_equal(fx_ledger(w->fx.mock).order_violations, 0);
		wfx_free(w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mem_alloc__guest_first_window_3mib_free_makes_a_smaller_block),
		cmocka_unit_test(mem_alloc__guest_first_window_below_floor_goes_dedicated),
		cmocka_unit_test(mem_map__host_first_window_3mib_free_fails_once_then_degrades),
		cmocka_unit_test(mem_map__host_first_window_below_floor_goes_dedicated),
		cmocka_unit_test(mem_alloc__one_mib_window_suballocates_in_both_modes),
		cmocka_unit_test(device_trim__lifts_the_ladder),
		cmocka_unit_test(mem_alloc__a_larger_request_does_not_raise_the_cap),
		cmocka_unit_test(mem_map__a_failed_block_at_its_floor_goes_dedicated),
		cmocka_unit_test(mem_alloc__ladder_under_four_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
