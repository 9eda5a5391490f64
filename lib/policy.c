/* SPDX-License-Identifier: MIT */
/*
 * The policy: how a request is allocated (path, blob_mem, blob flags, call order, suballocation,
 * pool key, sizes, alignment) as a pure function of the device's traits and the request. Reasons
 * are written only when a caller asks for them, so the allocation path pays nothing for them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

_Static_assert(sizeof(struct vgalloc_plan) == VGALLOC__V0_PLAN, "plan version 0 size");

int vgalloc__find_type(const struct vgalloc__traits *t, uint32_t host_index, uint32_t *out)
{
	for (uint32_t i = 0; i < t->type_count; i++) {
		if (t->types[i].host_index == host_index) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

#define S(x)       VGALLOC_STEP_##x
#define ALLOC(...) .alloc = { __VA_ARGS__ }, .alloc_count = sizeof((uint8_t[]){ __VA_ARGS__ })
#define MAP(...)   .map = { __VA_ARGS__ }, .map_count = sizeof((uint8_t[]){ __VA_ARGS__ })

/* Each path's steps (backing.c's top comment says what each one is). */
static const struct vgalloc__path_steps path_steps[] = {
	[VGALLOC_PATH_HOST_ONLY] = { ALLOC(S(NEW_BLOB_ID), S(HOST_ALLOC)) },
	[VGALLOC_PATH_HOST_FIRST_LAZY] = { ALLOC(S(NEW_BLOB_ID), S(HOST_ALLOC)),
	                                   MAP(S(HOST_WAIT), S(CREATE_BLOB), S(MAP)) },
	[VGALLOC_PATH_HOST_FIRST_EAGER] = { ALLOC(S(NEW_BLOB_ID), S(HOST_ALLOC), S(HOST_WAIT),
	                                          S(CREATE_BLOB)),
	                                    MAP(S(MAP)) },
	[VGALLOC_PATH_GUEST_FIRST] = { ALLOC(S(NEW_BLOB_ID), S(CREATE_BLOB), S(ROUNDTRIP),
	                                     S(HOST_IMPORT)),
	                               MAP(S(MAP)) },
	[VGALLOC_PATH_IMPORT] = { ALLOC(S(NEW_BLOB_ID), S(PRIME_IMPORT), S(RESOURCE_INFO),
	                                S(ROUNDTRIP), S(HOST_IMPORT)),
	                          MAP(S(MAP)) },
	[VGALLOC_PATH_GUEST_HANDLE] = { ALLOC(S(NEW_BLOB_ID), S(CREATE_BLOB), S(PLACEHOLDER_SUBMIT),
	                                      S(HOST_IMPORT)),
	                                MAP(S(MAP)) },
};

#undef MAP
#undef ALLOC
#undef S

const struct vgalloc__path_steps *vgalloc__path_steps(uint32_t path)
{
	if (path >= VGALLOC__ARRAY_SIZE(path_steps) || !path_steps[path].alloc_count) {
		return NULL;
	}
	return &path_steps[path];
}

/* The plan's steps are the table's: at alloc (after SUBALLOCATE when the plan suballocates),
 * and at the first map when the memory maps at all. */
_Static_assert(1 + VGALLOC__PATH_MAX_ALLOC_STEPS <= VGALLOC_PLAN_MAX_STEPS &&
                       VGALLOC__PATH_MAX_MAP_STEPS <= VGALLOC_PLAN_MAX_STEPS,
               "a plan holds SUBALLOCATE and every step of the table");
static void copy_steps(struct vgalloc_plan *plan, bool host_visible)
{
	const struct vgalloc__path_steps *ps = vgalloc__path_steps(plan->path);
	uint32_t n = 0;

	if (!ps) {
		return;
	}
	if (plan->suballocate) {
		plan->alloc_steps[n++] = VGALLOC_STEP_SUBALLOCATE;
	}
	for (uint32_t i = 0; i < ps->alloc_count; i++) {
		plan->alloc_steps[n++] = ps->alloc[i];
	}
	plan->alloc_step_count = n;
	/* Only host-visible memory maps (vgalloc_mem_map), whatever blob backs it. */
	if (host_visible) {
		for (uint32_t i = 0; i < ps->map_count; i++) {
			plan->map_steps[i] = ps->map[i];
		}
		plan->map_step_count = ps->map_count;
	}
}

static const char *flag_names(uint32_t flags, char *buf, size_t size)
{
	static const char *const names[] = { "MAPPABLE", "SHAREABLE", "CROSS_DEVICE",
		                             "CREATE_GUEST_HANDLE" };
	size_t len = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < VGALLOC__ARRAY_SIZE(names); i++) {
		if (flags & (1u << i)) {
			len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
			                        len ? "|" : "", names[i]);
		}
	}
	if (!flags) {
		snprintf(buf, size, "none");
	}
	return buf;
}

static const char *blob_mem_name(uint32_t mem)
{
	switch (mem) {
	case VGALLOC_BLOB_MEM_GUEST:
		return "GUEST";
	case VGALLOC_BLOB_MEM_HOST3D:
		return "HOST3D";
	case VGALLOC_BLOB_MEM_HOST3D_GUEST:
		return "HOST3D_GUEST";
	case VGALLOC_UAPI_BLOB_MEM_GUEST_VRAM:
		return "GUEST_VRAM";
	default:
		return "none";
	}
}

/* The never-suballocate list of DESIGN §4 rule 6, in both modes: every reason that applies. */
static uint32_t no_suballoc_reasons(const struct vgalloc__traits *t,
                                    const struct vgalloc_request *r, bool host_visible,
                                    uint32_t path, uint64_t alignment)
{
	uint32_t f = r->flags, af = r->allocate_flags;
	uint32_t why = 0;

	why |= !host_visible ? VGALLOC_NO_SUBALLOC_NOT_HOST_VISIBLE : 0;
	why |= r->export_handle_types ? VGALLOC_NO_SUBALLOC_EXPORT : 0;
	why |= (f & VGALLOC_REQUEST_IMPORT_FD) ? VGALLOC_NO_SUBALLOC_IMPORT_FD : 0;
	why |= (f & VGALLOC_REQUEST_IMPORT_HOST_POINTER) ? VGALLOC_NO_SUBALLOC_HOST_POINTER : 0;
	why |= (f & VGALLOC_REQUEST_IMPORT_AHB) ? VGALLOC_NO_SUBALLOC_AHB : 0;
	why |= (f & VGALLOC_REQUEST_DEDICATED_REQUIRED) ? VGALLOC_NO_SUBALLOC_DEDICATED_REQUIRED
	                                                : 0;
	why |= (f & VGALLOC_REQUEST_DEDICATED_IMAGE) ? VGALLOC_NO_SUBALLOC_DEDICATED_IMAGE : 0;
	why |= ((af & VGALLOC_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY) || r->opaque_capture_address)
	               ? VGALLOC_NO_SUBALLOC_CAPTURE_REPLAY
	               : 0;
	why |= (af & VGALLOC_ALLOCATE_ZERO_INITIALIZE) ? VGALLOC_NO_SUBALLOC_ZERO_INITIALIZE : 0;
	why |= (f & VGALLOC_REQUEST_PRIORITY) ? VGALLOC_NO_SUBALLOC_PRIORITY : 0;
	why |= (f & VGALLOC_REQUEST_WSI) ? VGALLOC_NO_SUBALLOC_WSI : 0;
	why |= ((f & VGALLOC_REQUEST_PLACED_MAP) || t->placed_maps) ? VGALLOC_NO_SUBALLOC_PLACED_MAP
	                                                            : 0;
	why |= t->no_suballoc ? VGALLOC_NO_SUBALLOC_DISABLED : 0;
	why |= r->size > t->max_suballoc_size ? VGALLOC_NO_SUBALLOC_TOO_LARGE : 0;
	why |= path == VGALLOC_PATH_GUEST_HANDLE ? VGALLOC_NO_SUBALLOC_GUEST_HANDLE : 0;
	why |= (t->gfxstream && t->deferred_mapping) ? VGALLOC_NO_SUBALLOC_DEFERRED_MAPPING : 0;
	/* A block aligned that far would exist for this one allocation. */
	if (t->max_suballoc_alignment && alignment > t->max_suballoc_alignment) {
		why |= VGALLOC_NO_SUBALLOC_ALIGNMENT;
	}
	return why;
}

/* Each enum vgalloc_no_suballoc bit, in bit order: its name and the reason in words. */
static const struct {
	const char *name, *why;
} no_suballoc[] = {
	{ "not-host-visible", "not host-visible: nothing to map, so nothing to share a blob for" },
	{ "export", "exported: an exported allocation must own its whole blob" },
	{ "import-fd", "imported from a dma-buf: the blob is someone else's" },
	{ "host-pointer", "host-pointer import: the memory is the application's" },
	{ "ahb", "Android hardware buffer import: the buffer owns its memory" },
	{ "dedicated-required", "the resource requires a dedicated allocation" },
	{ "dedicated-image", "dedicated to an image" },
	{ "capture-replay",
	  "capture/replay address: the address must be reproducible per allocation" },
	{ "zero-initialize", "zero-initialise: the host zeroes whole allocations" },
	{ "priority", "explicit priority: priority is per host allocation" },
	{ "wsi", "WSI or prime-blit memory" },
	{ "placed-map",
	  "placed maps: a placed map of part of a blob needs a partial mmap the kernel refuses" },
	{ "disabled", "suballocation disabled by the device option or VGALLOC_NO_SUBALLOC" },
	{ "too-large", "larger than the largest suballocation" },
	{ "guest-handle", "guest-handle blob" },
	{ "deferred-mapping", "gfxstream deferredMapping: one host allocation per blob id" },
	{ "alignment", "alignment hint larger than a pool block honours" },
};

const char *vgalloc_no_suballoc_name(uint32_t bit)
{
	for (uint32_t i = 0; i < VGALLOC__ARRAY_SIZE(no_suballoc); i++) {
		if (bit == 1u << i) {
			return no_suballoc[i].name;
		}
	}
	return "unknown";
}

const char *vgalloc_step_name(uint32_t step)
{
	static const char *const names[] = {
		"unknown",       "new_blob_id", "host_alloc",  "host_wait",
		"create_blob",   "roundtrip",   "host_import", "prime_import",
		"resource_info", "map",         "suballocate", "placeholder_submit",
	};

	return step < VGALLOC__ARRAY_SIZE(names) ? names[step] : "unknown";
}

static int check_request(const struct vgalloc__traits *t, const struct vgalloc_request *r,
                         uint32_t *type)
{
	/* vgalloc.h's one rule: unknown bits in any flags field and a non-zero reserved field
	 * are -EINVAL, so a request written for a later version is never half-honoured. */
	if ((r->flags & ~VGALLOC__REQUEST_FLAGS_ALL) ||
	    (r->allocate_flags & ~VGALLOC__ALLOCATE_FLAGS_ALL) ||
	    (r->export_handle_types & ~VGALLOC__HANDLE_TYPES_ALL) || r->reserved) {
		return -EINVAL;
	}
	if (!r->size || (r->alignment && !vgalloc__is_pow2(r->alignment)) ||
	    ((r->flags & VGALLOC_REQUEST_EXACT_ALIGNMENT) && !r->alignment)) {
		return -EINVAL;
	}
	if ((r->flags & VGALLOC_REQUEST_IMPORT_FD) && r->import_fd < 0) {
		return -EINVAL;
	}
	return vgalloc__find_type(t, r->memory_type, type);
}

/* Flags per DESIGN §4 rule 3. */
static uint32_t blob_flags_for(const struct vgalloc__traits *t, const struct vgalloc_request *r,
                               bool host_visible, struct vgalloc__why *why)
{
	bool exported = r->export_handle_types != 0;
	bool guest_first = t->alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST;
	uint32_t flags = 0;

	if (host_visible) {
		flags |= VGALLOC_BLOB_FLAG_MAPPABLE;
		vgalloc__why(why, "  MAPPABLE: the memory type is host-visible\n");
	} else if (guest_first && exported) {
		flags |= VGALLOC_BLOB_FLAG_MAPPABLE;
		vgalloc__why(why, "  MAPPABLE: guest-first export needs a window-backed blob\n");
	}
	if (exported) {
		flags |= VGALLOC_BLOB_FLAG_SHAREABLE;
		vgalloc__why(why, "  SHAREABLE: the allocation is exportable\n");
	}
	if ((r->export_handle_types & VGALLOC_HANDLE_TYPE_DMA_BUF) && t->cross_device) {
		flags |= VGALLOC_BLOB_FLAG_CROSS_DEVICE;
		vgalloc__why(why, "  CROSS_DEVICE: dma-buf export and the kernel's CROSS_DEVICE\n");
	}
	return flags;
}

static void choose_path(const struct vgalloc__traits *t, const struct vgalloc_request *r,
                        bool host_visible, struct vgalloc_plan *plan, struct vgalloc__why *why)
{
	bool exported = r->export_handle_types != 0;
	bool guest_first = t->alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST;
	uint32_t main_mem =
	        t->guest_vram ? VGALLOC_UAPI_BLOB_MEM_GUEST_VRAM : VGALLOC_BLOB_MEM_HOST3D;

	if (r->flags & (VGALLOC_REQUEST_IMPORT_HOST_POINTER | VGALLOC_REQUEST_IMPORT_AHB)) {
		plan->path = VGALLOC_PATH_UNSUPPORTED;
		vgalloc__why(why,
		             "path: unsupported — host-pointer and AHB imports have no virtio-gpu "
		             "path in this library\n");
		return;
	}
	if (r->flags & VGALLOC_REQUEST_IMPORT_FD) {
		plan->path = VGALLOC_PATH_IMPORT;
		plan->blob_mem = main_mem;
		plan->blob_flags = host_visible ? VGALLOC_BLOB_FLAG_MAPPABLE : 0;
		vgalloc__why(
		        why,
		        "path: import — PRIME import (dedup'd by GEM handle), RESOURCE_INFO "
		        "checks, a round trip so the renderer sees the resource, host import\n");
		return;
	}
	if (t->create_guest_handle && exported && (r->flags & VGALLOC_REQUEST_DEDICATED_IMAGE)) {
		plan->path = VGALLOC_PATH_GUEST_HANDLE;
		plan->blob_mem = VGALLOC_BLOB_MEM_GUEST;
		plan->blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE |
		                   VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE;
		vgalloc__why(
		        why,
		        "path: guest-handle — the flavour's CREATE_GUEST_HANDLE is 1 and an "
		        "exported image gets a GUEST blob with a host handle, then a "
		        "placeholder submit and wait (the host_roundtrip hook) so the renderer "
		        "has filed the handle, then the host import by blob id\n");
		return;
	}
	if (t->create_guest_handle && t->gfxstream && host_visible && !exported) {
		plan->path = VGALLOC_PATH_GUEST_HANDLE;
		plan->blob_mem = VGALLOC_BLOB_MEM_GUEST;
		plan->blob_flags =
		        VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_CREATE_GUEST_HANDLE;
		vgalloc__why(why,
		             "path: guest-handle — gfxstream with CREATE_GUEST_HANDLE = 1 makes "
		             "every host-visible allocation guest pages the host takes by handle: "
		             "a GUEST blob, a placeholder submit and wait (host_roundtrip), then "
		             "the host import by blob id\n");
		return;
	}
	if (!host_visible && !exported) {
		plan->path = VGALLOC_PATH_HOST_ONLY;
		vgalloc__why(why, "path: host-only — not host-visible and not exported: no blob is "
		                  "ever needed\n");
		return;
	}
	plan->blob_mem = main_mem;
	plan->blob_flags = blob_flags_for(t, r, host_visible, NULL);
	if (guest_first) {
		plan->path = VGALLOC_PATH_GUEST_FIRST;
		vgalloc__why(why, "path: guest-first — the guest creates the blob in the window, a "
		                  "round trip lets the renderer see it, the host imports it\n");
	} else if (exported || (t->gfxstream && !t->deferred_mapping)) {
		plan->path = VGALLOC_PATH_HOST_FIRST_EAGER;
		vgalloc__why(why,
		             exported ? "path: host-first eager — exported memory needs its blob "
		                        "now: host alloc, wait, blob by id\n"
		                      : "path: host-first eager — gfxstream without "
		                        "deferredMapping creates blobs with their memory\n");
	} else {
		plan->path = VGALLOC_PATH_HOST_FIRST_LAZY;
		vgalloc__why(why,
		             "path: host-first lazy — the host allocates now; the blob is created "
		             "at the first map, so memory never mapped costs no blob%s\n",
		             t->gfxstream ? " (gfxstream deferredMapping)" : "");
	}
	if (why) {
		char names[64];

		vgalloc__why(why, "blob: %s%s, flags %s\n", blob_mem_name(plan->blob_mem),
		             t->guest_vram ? " (configured GUEST_VRAM blobs)" : "",
		             flag_names(plan->blob_flags, names, sizeof(names)));
		blob_flags_for(t, r, host_visible, why);
	}
}

int vgalloc__plan(const struct vgalloc__traits *t, const struct vgalloc_request *r,
                  struct vgalloc_plan *plan, struct vgalloc__why *why)
{
	const struct vgalloc__mem_type *type;
	bool host_visible;
	uint32_t index;
	int ret;

	ret = check_request(t, r, &index);
	if (ret) {
		return ret;
	}
	memset(plan, 0, sizeof(*plan));
	plan->struct_size = sizeof(*plan);
	type = &t->types[index];
	if (!vgalloc__align_up(r->size, t->blob_alignment, &plan->size)) {
		return -EINVAL;
	}
	host_visible = type->property_flags & VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE;
	plan->memory_type = type->host_index;
	plan->alloc_mode = t->alloc_mode;
	plan->alignment = t->blob_alignment;
	vgalloc__why(why, "request: %llu bytes of host memory type %u (%s)\n",
	             (unsigned long long)r->size, type->host_index,
	             host_visible ? "host-visible" : "device-local only");

	choose_path(t, r, host_visible, plan, why);
	if (why && plan->blob_mem) {
		vgalloc__why(why, "size: %llu (rounded up to the %llu-byte blob alignment)\n",
		             (unsigned long long)plan->size, (unsigned long long)t->blob_alignment);
	}

	plan->no_suballoc = no_suballoc_reasons(t, r, host_visible, plan->path,
	                                        vgalloc__suballoc_alignment(type, r));
	if (plan->path == VGALLOC_PATH_UNSUPPORTED || plan->no_suballoc) {
		plan->suballocate = 0;
		copy_steps(plan, host_visible);
		if (why) {
			vgalloc__why(why, "suballocate: no —");
			for (uint32_t i = 0; i < VGALLOC__ARRAY_SIZE(no_suballoc); i++) {
				if (plan->no_suballoc & (1u << i)) {
					vgalloc__why(why, " %s;", no_suballoc[i].why);
				}
			}
			vgalloc__why(why, "\n");
		}
		return 0;
	}
	/* A range of a pool block: aligned as the type's rule says for its size (or as the request
	 * says), keyed so that only allocations that could share one blob share a pool. */
	plan->suballocate = 1;
	plan->alignment = vgalloc__suballoc_alignment(type, r);
	plan->pool_key = (uint64_t)type->host_index << 32 |
	                 (uint64_t)(r->allocate_flags & 0xffff) << 16 |
	                 (uint64_t)(plan->blob_flags & 0xff) << 8 | plan->alloc_mode;
	plan->min_block_size = t->min_block_size;
	copy_steps(plan, host_visible);
	vgalloc__why(why,
	             "suballocate: yes — host-visible, not exported, imported, dedicated or "
	             "special; pool key 0x%llx, offset aligned to %llu (%s of type %u%s), "
	             "blocks of at least %llu MiB; the steps after 'suballocate' run "
	             "only when the pool needs a new block, or for this allocation alone when the "
	             "window has no room even for the pool's smallest block\n",
	             (unsigned long long)plan->pool_key, (unsigned long long)plan->alignment,
	             (r->flags & VGALLOC_REQUEST_EXACT_ALIGNMENT) ? "the request's exact alignment "
	                                                            "instead of the rule"
	             : plan->alignment < type->type_alignment     ? "the size-alignment table"
	                                                          : "the base alignment",
	             type->host_index,
	             !(r->flags & VGALLOC_REQUEST_EXACT_ALIGNMENT) &&
	                             r->alignment == plan->alignment &&
	                             r->alignment > type->type_alignment
	                     ? ", raised by the request"
	                     : "",
	             (unsigned long long)(plan->min_block_size >> 20));
	return 0;
}

static void explain_step_list(struct vgalloc__why *w, const char *when, const uint32_t *steps,
                              uint32_t n)
{
	if (!n) {
		return;
	}
	vgalloc__why(w, "steps %s:", when);
	for (uint32_t i = 0; i < n; i++) {
		vgalloc__why(w, "%s %s", i ? "," : "", vgalloc_step_name(steps[i]));
	}
	vgalloc__why(w, "\n");
}

void vgalloc__explain_device(const struct vgalloc__traits *t, struct vgalloc__why *w)
{
	static const char *const reasons[] = {
		"",
		"VGALLOC_ALLOC_MODE in the environment (the consumer allowed overrides)",
		"the create-info's alloc_mode override",
		"configured GUEST_VRAM blobs imply guest-first",
		"the Venus capset says use_guest_vram = 1",
		"the hypervisor hint says static mappings",
		"nothing asks for guest-first (use_guest_vram 0 or absent, no override or hint)",
	};
	static const char *const align_src[] = { "the 4 KiB minimum", "the guest page size",
		                                 "the kernel's BLOB_ALIGNMENT param",
		                                 "the capset's blobAlignment",
		                                 "the host page size from the create-info" };

	vgalloc__why(w, "device: %s — %s\n",
	             t->alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST ? "guest-first" : "host-first",
	             t->mode_reason < VGALLOC__ARRAY_SIZE(reasons) ? reasons[t->mode_reason] : "?");
	vgalloc__why(w, "blob alignment: %llu (from %s)\n", (unsigned long long)t->blob_alignment,
	             t->blob_alignment_source < VGALLOC__ARRAY_SIZE(align_src)
	                     ? align_src[t->blob_alignment_source]
	                     : "?");
}

void vgalloc__explain_steps(const struct vgalloc_plan *plan, struct vgalloc__why *w)
{
	explain_step_list(w, "at alloc", plan->alloc_steps, plan->alloc_step_count);
	explain_step_list(w, "at first map", plan->map_steps, plan->map_step_count);
}

const char *vgalloc_path_name(uint32_t path)
{
	static const char *const names[] = {
		[VGALLOC_PATH_HOST_ONLY] = "host-only",
		[VGALLOC_PATH_HOST_FIRST_LAZY] = "host-first-lazy",
		[VGALLOC_PATH_HOST_FIRST_EAGER] = "host-first-eager",
		[VGALLOC_PATH_GUEST_FIRST] = "guest-first",
		[VGALLOC_PATH_IMPORT] = "import",
		[VGALLOC_PATH_GUEST_HANDLE] = "guest-handle",
		[VGALLOC_PATH_UNSUPPORTED] = "unsupported",
	};

	return path < VGALLOC__ARRAY_SIZE(names) && names[path] ? names[path] : "unknown";
}

void vgalloc__plan_fast_init(struct vgalloc__traits *t)
{
	for (uint32_t i = 0; i < t->type_count && i < VGALLOC__ARRAY_SIZE(t->fast); i++) {
		struct vgalloc_request r = {
			.struct_size = sizeof(r),
			.memory_type = t->types[i].host_index,
			.size = 1,
		};
		struct vgalloc__fast_plan *f = &t->fast[i];
		struct vgalloc_plan plan;
		uint32_t found;

		memset(f, 0, sizeof(*f));
		/* Two types with one host index: the first is the one requests find. */
		if (vgalloc__find_type(t, r.memory_type, &found) || found != i ||
		    vgalloc__plan(t, &r, &plan, NULL) || !plan.suballocate) {
			continue;
		}
		/* For a plain request only its size and alignment can change this plan: the size
		 * against max_suballoc_size, the alignment rule against max_suballoc_alignment
		 * (checked per request); path, flags and pool key are the type's. */
		f->suballocate = true;
		f->path = plan.path;
		f->blob_mem = plan.blob_mem;
		f->blob_flags = plan.blob_flags;
		f->pool_key = plan.pool_key;
	}
}

bool vgalloc__plan_fast(const struct vgalloc__traits *t, const struct vgalloc_request *r,
                        struct vgalloc__pool_req *out)
{
	const struct vgalloc__fast_plan *f;
	uint64_t alignment;
	uint32_t i;

	/* One test for every field a plain request leaves 0. */
	if (!r || r->struct_size != sizeof(*r) ||
	    (r->flags | r->export_handle_types | r->allocate_flags | r->reserved |
	     r->opaque_capture_address) ||
	    r->size - 1 >= t->max_suballoc_size || (r->alignment & (r->alignment - 1))) {
		return false;
	}
	for (i = 0; i < t->type_count && t->types[i].host_index != r->memory_type; i++) {
	}
	if (i >= t->type_count || i >= VGALLOC__ARRAY_SIZE(t->fast) || !t->fast[i].suballocate) {
		return false;
	}
	f = &t->fast[i];
	alignment = vgalloc__suballoc_alignment(&t->types[i], r);
	if (t->max_suballoc_alignment && alignment > t->max_suballoc_alignment) {
		return false;
	}
	out->key = f->pool_key;
	out->size = r->size;
	out->alignment = alignment;
	out->min_block = t->min_block_size;
	out->type = i;
	out->path = f->path;
	out->blob_mem = f->blob_mem;
	out->blob_flags = f->blob_flags;
	return true;
}

int vgalloc__plan_in(const struct vgalloc__traits *t, const struct vgalloc_request *ureq,
                     struct vgalloc_request *req, struct vgalloc_plan *plan)
{
	int ret = vgalloc__struct_in(ureq, VGALLOC__V0_REQUEST, sizeof(*req), req);

	return ret ? ret : vgalloc__plan(t, req, plan, NULL);
}
