/* SPDX-License-Identifier: MIT */
/*
 * The mock's hypervisor profile follows the Venus capset it is given, so a captured capset seeds a
 * consistent host: with the default profile a use_guest_vram = 1 capset makes a statically backed
 * window and a renderer that takes guest-first blobs, while a profile chosen by the caller is kept.
 * Covers vgalloc_mock_create (profile 0) and vgalloc_mock_set_capset, through
 * vgalloc_device_create, vgalloc_mem_alloc, vgalloc_mem_map and vgalloc_mem_free.
 */
#include "../harness.h"

#define VENUS_160_GUEST_VRAM_1 "venus-160-guestvram1.bin"
#define VENUS_160_GUEST_VRAM_0 "venus-160-guestvram0.bin"

static uint32_t load_capset(const char *name, uint8_t *data, uint32_t max)
{
	char path[1024];
	size_t got;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", VGALLOC_FIXTURES_DIR, name);
	f = fopen(path, "rb");
	if (!f) {
		fail_msg("cannot open %s: %s", path, strerror(errno));
	}
	got = fread(data, 1, max, f);
	fclose(f);
	assert_true(got > 0 && got < max);
	return (uint32_t)got;
}

/* A mock whose create-info leaves the profile at its default, then serves the fixture. */
static struct fx *fx_seeded(uint32_t profile, const char *capset, uint32_t alloc_mode)
{
	const struct fx_opts o = { .alloc_mode = alloc_mode };
	struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi), .profile = profile };
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t data[4096];
	uint32_t size = load_capset(capset, data, sizeof(data));

	assert_non_null(f);
	f->fds_before = count_open_fds();
	assert_int_equal(vgalloc_mock_create(&mi, &f->mock), 0);
	assert_int_equal(vgalloc_mock_set_capset(f->mock, VGALLOC_CAPSET_VENUS, 0, data, size), 0);
	assert_int_equal(vgalloc_mock_get_hooks(f->mock, 0, &f->hooks), 0);
	fx_create_info(f, &o, types, &ci);
	assert_int_equal(vgalloc_device_create(&ci, &f->dev), 0);
	return f;
}

static uint32_t alloc_mode(struct fx *f)
{
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };

	assert_int_equal(vgalloc_device_get_info(f->dev, &di), 0);
	return di.alloc_mode;
}

/* Allocate, map and write `size` bytes of host-visible memory; return the map's result. */
static int alloc_map_write(struct fx *f, uint32_t export_types, uint64_t size)
{
	const struct vgalloc_request req = {
		.struct_size = sizeof(req),
		.memory_type = TYPE_HOST_COHERENT,
		.size = size,
		.export_handle_types = export_types,
	};
	struct vgalloc_mem *mem = NULL;
	void *ptr = NULL;
	int ret;

	assert_int_equal(vgalloc_mem_alloc(f->dev, &req, &mem), 0);
	ret = vgalloc_mem_map(f->dev, mem, &ptr);
	if (ret == 0) {
		memset(ptr, 0x5a, size);
	}
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	return ret;
}

/* The what-if case: a captured use_guest_vram = 1 capset on the default profile. Guests go
 * guest-first and the host takes their blobs: suballocated, dedicated and exported maps work. */
static void mock_profile__guest_vram_capset_on_default_profile_maps(void **state)
{
	struct fx *f = fx_seeded(0 /* the default */, VENUS_160_GUEST_VRAM_1, 0);

	(void)state;
	assert_int_equal(alloc_mode(f), VGALLOC_ALLOC_MODE_GUEST_FIRST);
	assert_int_equal(alloc_map_write(f, 0, 64 * 1024), 0);
	assert_int_equal(alloc_map_write(f, 0, 8u << 20), 0);
	assert_int_equal(alloc_map_write(f, VGALLOC_HANDLE_TYPE_DMA_BUF, 64 * 1024), 0);
	assert_int_equal(fx_ledger(f->mock).order_violations, 0);
	fx_free(f);
}

/* The hypervisor behind such a capset cannot inject host pages: a host-first blob (forced by the
 * create-info) fails at first map, as on a statically backed window, with nothing out of order. */
static void mock_profile__guest_vram_capset_makes_the_window_static(void **state)
{
	struct fx *f = fx_seeded(0, VENUS_160_GUEST_VRAM_1, VGALLOC_ALLOC_MODE_HOST_FIRST);

	(void)state;
	assert_int_equal(alloc_mode(f), VGALLOC_ALLOC_MODE_HOST_FIRST);
	assert_int_equal(alloc_map_write(f, 0, 64 * 1024), -EINVAL);
	fx_free(f);
}

/* A use_guest_vram = 0 capset on the default profile keeps the injecting hypervisor. */
static void mock_profile__guest_vram_0_capset_stays_injecting(void **state)
{
	struct fx *f = fx_seeded(0, VENUS_160_GUEST_VRAM_0, 0);

	(void)state;
	assert_int_equal(alloc_mode(f), VGALLOC_ALLOC_MODE_HOST_FIRST);
	assert_int_equal(alloc_map_write(f, 0, 64 * 1024), 0);
	assert_int_equal(alloc_map_write(f, VGALLOC_HANDLE_TYPE_DMA_BUF, 64 * 1024), 0);
	fx_free(f);
}

/* A profile the caller chose is kept against the capset: an injecting host that says
 * use_guest_vram = 1 has a renderer that knows no guest-first blob, so the map fails and the
 * host counts the CREATE_BLOB out of order. (This is how a lying host is modelled.) */
static void mock_profile__explicit_profile_is_kept(void **state)
{
	struct fx *f = fx_seeded(VGALLOC_MOCK_PROFILE_INJECTING, VENUS_160_GUEST_VRAM_1, 0);
	struct vgalloc_mock_ledger l;

	(void)state;
	assert_int_equal(alloc_mode(f), VGALLOC_ALLOC_MODE_GUEST_FIRST);
	assert_int_equal(alloc_map_write(f, VGALLOC_HANDLE_TYPE_DMA_BUF, 64 * 1024), -EINVAL);
	vgalloc_device_destroy(f->dev);
	l = fx_ledger(f->mock);
	assert_int_equal(l.order_violations, 1);
	assert_int_equal(l.live_blobs, 0);
	assert_int_equal(l.host_allocs, 0);
	vgalloc_mock_destroy(f->mock);
	assert_int_equal(count_open_fds(), f->fds_before);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mock_profile__guest_vram_capset_on_default_profile_maps),
		cmocka_unit_test(mock_profile__guest_vram_capset_makes_the_window_static),
		cmocka_unit_test(mock_profile__guest_vram_0_capset_stays_injecting),
		cmocka_unit_test(mock_profile__explicit_profile_is_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
