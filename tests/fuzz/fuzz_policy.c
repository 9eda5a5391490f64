/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the policy on arbitrary traits and requests, with and without reasons. Every
 * plan it accepts must be self-consistent (flags within the known bits, steps bounded, a
 * suballocation keyed and aligned, an explanation that fits its buffer).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t take(const uint8_t **p, size_t *left, size_t n)
{
	uint64_t v = 0;

	n = n < *left ? n : *left;
	memcpy(&v, *p, n);
	*p += n;
	*left -= n;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vgalloc__mem_type types[4];
	struct vgalloc__traits t;
	struct vgalloc_request r;
	struct vgalloc_plan a, b;
	char text[2048];
	struct vgalloc__why why = { text, sizeof(text), 0 };
	uint64_t bits;
	int ra, rb;

	memset(&t, 0, sizeof(t));
	memset(&r, 0, sizeof(r));
	bits = take(&data, &size, 4);
	for (uint32_t i = 0; i < 4; i++) {
		types[i] = (struct vgalloc__mem_type){
			.host_index = i,
			.property_flags = (uint32_t)take(&data, &size, 1),
			.pool_alignment = 1ull << (12 + take(&data, &size, 1) % 6),
		};
	}
	t.types = types;
	t.type_count = 1 + (bits & 3);
	t.alloc_mode = (bits >> 2) & 1 ? VGALLOC_ALLOC_MODE_GUEST_FIRST : VGALLOC_ALLOC_MODE_HOST_FIRST;
	t.host_visible = (bits >> 3) & 1;
	t.cross_device = (bits >> 4) & 1;
	t.guest_vram = (bits >> 5) & 1;
	t.create_guest_handle = (bits >> 6) & 1;
	t.placed_maps = (bits >> 7) & 1;
	t.no_suballoc = (bits >> 8) & 1;
	t.gfxstream = (bits >> 9) & 1;
	t.deferred_mapping = (bits >> 10) & 1;
	t.blob_alignment = 1ull << (12 + ((bits >> 11) & 3));
	t.max_suballoc_size = 4u << 20;
	r.struct_size = sizeof(r);
	r.memory_type = (uint32_t)take(&data, &size, 1) % 6;
	r.size = take(&data, &size, 8);
	r.alignment = take(&data, &size, 8);
	r.flags = (uint32_t)take(&data, &size, 2);
	r.export_handle_types = (uint32_t)take(&data, &size, 2);
	r.allocate_flags = (uint32_t)take(&data, &size, 1);
	r.import_fd = (int)take(&data, &size, 1) - 8;
	r.opaque_capture_address = take(&data, &size, 1);

	ra = vgalloc__plan(&t, &r, &a, NULL);
	rb = vgalloc__plan(&t, &r, &b, &why);
	/* Reasons change nothing about the decision. */
	if (ra != rb || (!ra && memcmp(&a, &b, sizeof(a)))) {
		__builtin_trap();
	}
	if (ra) {
		return 0;
	}
	if ((a.blob_flags & ~0xfu) || a.alloc_step_count > VGALLOC_PLAN_MAX_STEPS ||
	    a.map_step_count > VGALLOC_PLAN_MAX_STEPS || a.size < r.size ||
	    (a.suballocate && (a.no_suballoc || !a.pool_key || !vgalloc__is_pow2(a.alignment))) ||
	    (!a.suballocate && !a.no_suballoc && a.path != VGALLOC_PATH_UNSUPPORTED) ||
	    (why.len < sizeof(text) && strlen(text) != why.len)) {
		__builtin_trap();
	}
	return 0;
}
