/* SPDX-License-Identifier: MIT */
/*
 * The policy, pure: the traits a device derives once from its inputs (params, capset,
 * create-info), and the plan of each request as a function of traits and request. Nothing here
 * reads a device, a lock, the environment or the kernel: this header includes core.h alone, so
 * that purity is an include fact. Nothing here is installed.
 */
#ifndef VGALLOC_POLICY_H
#define VGALLOC_POLICY_H

#include "core.h"

/* A memory type as the device keeps it (copied and checked from the caller's table). */
struct vgalloc__mem_type {
	uint32_t host_index;
	uint32_t property_flags;
	uint32_t flags;
	uint64_t min_map_alignment;
	uint64_t non_coherent_atom_size;
	uint64_t buffer_image_granularity;
	uint64_t base_alignment; /* as given, 0 = derived */
	/* DESIGN §4 rule 5, with the floors applied: the alignment of allocations larger than every
	 * table entry (type_alignment), of those at most size_alignments[i].max_size, and the
	 * smallest of them all, the granularity of the type's pools (pool_alignment). */
	uint64_t type_alignment;
	uint64_t pool_alignment;
	uint32_t size_alignment_count;
	struct vgalloc_size_alignment size_alignments[VGALLOC_MAX_SIZE_ALIGNMENTS];
};

/* What set the blob alignment, for explanations. */
enum vgalloc__align_source {
	VGALLOC__ALIGN_MIN = 0,
	VGALLOC__ALIGN_PAGE,
	VGALLOC__ALIGN_PARAM,
	VGALLOC__ALIGN_CAPSET,
	VGALLOC__ALIGN_HOST_PAGE,
};

/*
 * Everything the policy reads: derived once at device create, then read-only. The policy is a
 * pure function of these and a request.
 */
struct vgalloc__traits {
	uint32_t flavour;
	uint32_t capset_id;
	uint32_t alloc_mode;  /* HOST_FIRST or GUEST_FIRST */
	uint32_t mode_reason; /* enum vgalloc_mode_reason */
	uint32_t hypervisor_hint;
	uint32_t use_guest_vram; /* the Venus capset's field (0 when absent) */
	bool host_visible;
	bool cross_device;
	bool has_3d;
	bool guest_vram;          /* GUEST_VRAM blobs (blob_mem 4) */
	bool create_guest_handle; /* the flavour's CREATE_GUEST_HANDLE param is 1 */
	bool placed_maps;
	bool no_suballoc;
	bool gfxstream;                 /* a gfxstream Vulkan capset */
	bool deferred_mapping;          /* its deferredMapping field */
	bool blob_id_0;                 /* the Venus capset's supports_blob_id_0 */
	bool blob_alignment_param_bad;  /* BLOB_ALIGNMENT given but not an alignment: ignored */
	uint32_t blob_alignment_source; /* enum vgalloc__align_source */
	uint64_t blob_alignment;
	uint64_t max_suballoc_size;
	uint64_t max_suballoc_alignment; /* larger alignment hints get their own blob */
	uint64_t min_block_size;         /* a pool's smallest planned block */
	uint64_t max_block_size;         /* and its largest */
	const struct vgalloc__mem_type *types;
	uint32_t type_count;
	/* Per memory type: the plan of a plain request, when it suballocates (plan.c's fast
	 * path); set by vgalloc__plan_fast_init() once the rest is derived. */
	struct vgalloc__fast_plan {
		bool suballocate;
		uint32_t path, blob_mem, blob_flags;
		uint64_t pool_key;
	} fast[64];
};

/* What a pool allocation needs of a plan and its request (pool.c). */
struct vgalloc__pool_req {
	uint64_t key, size, alignment, min_block;
	uint32_t type; /* index into the device's memory-type table */
	uint32_t path, blob_mem, blob_flags;
};

/* What the traits are derived from: every input is a value, none is looked up. */
struct vgalloc__trait_inputs {
	const struct vgalloc_device_create_info *info;
	const struct vgalloc_capset_info *caps; /* zeroed when the capset is not understood */
	const uint64_t *params;                 /* indexed by param number */
	uint32_t params_present;                /* bit N: params[N] known */
	uint32_t device_flags;                  /* the create-info's, with the environment's */
	uint32_t env_alloc_mode;                /* 0 = not set */
	uint64_t guest_page;                    /* sysconf(_SC_PAGESIZE), 0 = unknown */
	const struct vgalloc__mem_type *types;
	uint32_t type_count;
};

/* The traits of a device (DESIGN §4 rules 2 and 4: mode precedence, blob alignment). */
void vgalloc__traits_derive(const struct vgalloc__trait_inputs *in, struct vgalloc__traits *t);

/* A memory type's pool base alignment (DESIGN §4 rule 5). */
/* Check a memory type's alignments and derive type_alignment, pool_alignment and the table
 * with the floors applied. Return: 0; -EINVAL (a rule DESIGN §4 rule 5 forbids). */
int vgalloc__type_alignments(struct vgalloc__mem_type *t);
/* The offset alignment of a suballocation of `r` in memory of type t (DESIGN §4 rule 5). */
static inline uint64_t vgalloc__suballoc_alignment(const struct vgalloc__mem_type *t,
                                                   const struct vgalloc_request *r)
{
	uint64_t a = t->type_alignment;

	/* Not below what the type's pools are aligned to (their granularity). */
	if (r->flags & VGALLOC_REQUEST_EXACT_ALIGNMENT) {
		return VGALLOC__MAX(r->alignment, t->pool_alignment);
	}
	for (uint32_t i = 0; i < t->size_alignment_count; i++) {
		if (r->size <= t->size_alignments[i].max_size) {
			a = t->size_alignments[i].alignment;
			break;
		}
	}
	return VGALLOC__MAX(a, r->alignment);
}

/*
 * Each path's steps, one table: the plan copies them and the executor (backing.c) runs them, so
 * a plan's alloc_steps and map_steps are what runs. `alloc` runs when the backing is made (a
 * dedicated allocation, or a new pool block), `map` at its first map.
 */
#define VGALLOC__PATH_MAX_ALLOC_STEPS 5
#define VGALLOC__PATH_MAX_MAP_STEPS   3
struct vgalloc__path_steps {
	uint8_t alloc[VGALLOC__PATH_MAX_ALLOC_STEPS];
	uint8_t map[VGALLOC__PATH_MAX_MAP_STEPS];
	uint8_t alloc_count;
	uint8_t map_count;
};
/* The steps of a path (enum vgalloc_path); NULL for UNSUPPORTED and unknown values. */
const struct vgalloc__path_steps *vgalloc__path_steps(uint32_t path);

/*
 * The policy: (traits, request) → plan. `why` is NULL on the hot path; vgalloc_plan_explain()
 * passes a text buffer and gets every decision's reason.
 */
int vgalloc__plan(const struct vgalloc__traits *t, const struct vgalloc_request *req,
                  struct vgalloc_plan *plan, struct vgalloc__why *why);
/*
 * The hot path's plan: a plain request (current struct size; no flags, export, allocate flags,
 * capture address) that suballocates is planned by its memory type's precomputed plain plan, its
 * size and its alignment, with vgalloc__plan()'s result (tests/unit/test_policy.c holds them
 * equal). Returns false when the request is not such a request: plan it in full.
 */
bool vgalloc__plan_fast(const struct vgalloc__traits *t, const struct vgalloc_request *r,
                        struct vgalloc__pool_req *out);
/* Fill t->fast from vgalloc__plan() of a plain request per type (traits otherwise complete). */
void vgalloc__plan_fast_init(struct vgalloc__traits *t);
/* A caller's versioned request read in (vgalloc__struct_in's errors), then planned. */
int vgalloc__plan_in(const struct vgalloc__traits *t, const struct vgalloc_request *ureq,
                     struct vgalloc_request *req, struct vgalloc_plan *plan);
/* The device part of an explanation: the mode and the blob alignment, with their reasons. */
void vgalloc__explain_device(const struct vgalloc__traits *t, struct vgalloc__why *why);
/* A plan's steps as text. */
void vgalloc__explain_steps(const struct vgalloc_plan *plan, struct vgalloc__why *why);
/* Index of the memory type with this host index in t->types, or -EINVAL. */
int vgalloc__find_type(const struct vgalloc__traits *t, uint32_t host_index, uint32_t *out);

#endif
