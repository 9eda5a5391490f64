/* SPDX-License-Identifier: MIT */
/*
 * The policy, table-driven: every rule of DESIGN §4 and every never-suballocate entry, each case
 * asserting path, blob_mem, exact blob flags, both call sequences, suballocation (with its reason
 * bits) and pool key. Then the same engine through a device: params by flavour, BLOB_ALIGNMENT,
 * guest vram, mode precedence, explanations and the init self-test.
 * Covers: vgalloc__plan (pure), vgalloc_plan_request, vgalloc_plan_explain, vgalloc_step_name,
 * vgalloc_no_suballoc_name, vgalloc_device_create (traits, self-test), vgalloc_device_get_info.
 */
#include "../harness.h"
#include "policy.h"

/* The case table leaves trailing fields zero on purpose: "not checked". */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define M      VGALLOC_BLOB_FLAG_MAPPABLE
#define S      VGALLOC_BLOB_FLAG_SHAREABLE
#define X      VGALLOC_BLOB_FLAG_CROSS_DEVICE
#define GH     VGALLOC_UAPI_BLOB_FLAG_CREATE_GUEST_HANDLE
#define HOST3D VGALLOC_BLOB_MEM_HOST3D
#define GUEST  VGALLOC_BLOB_MEM_GUEST
#define GVRAM  VGALLOC_UAPI_BLOB_MEM_GUEST_VRAM

#define HF VGALLOC_ALLOC_MODE_HOST_FIRST
#define GF VGALLOC_ALLOC_MODE_GUEST_FIRST

/* Step shorthands. */
#define NEW     VGALLOC_STEP_NEW_BLOB_ID
#define HALLOC  VGALLOC_STEP_HOST_ALLOC
#define WAIT    VGALLOC_STEP_HOST_WAIT
#define BLOB    VGALLOC_STEP_CREATE_BLOB
#define RT      VGALLOC_STEP_ROUNDTRIP
#define HIMPORT VGALLOC_STEP_HOST_IMPORT
#define PRIME   VGALLOC_STEP_PRIME_IMPORT
#define INFO    VGALLOC_STEP_RESOURCE_INFO
#define MAP     VGALLOC_STEP_MAP
#define SUB     VGALLOC_STEP_SUBALLOCATE
#define PH      VGALLOC_STEP_PLACEHOLDER_SUBMIT

/* Reason shorthands. */
#define R(x) VGALLOC_NO_SUBALLOC_##x

enum {
	T_DEVICE = 0,
	T_COHERENT = 1,
	T_CACHED = 2,
	T_OPTIMAL = 3,
	T_BIGMAP = 4
};

static const struct vgalloc__mem_type types[] = {
	{ .host_index = 0, .property_flags = 0x1, .type_alignment = 4096, .pool_alignment = 4096 },
	{ .host_index = 1, .property_flags = 0x7, .type_alignment = 4096, .pool_alignment = 4096 },
	{ .host_index = 2, .property_flags = 0xf, .type_alignment = 4096, .pool_alignment = 4096 },
	{ .host_index = 3,
	  .property_flags = 0x7,
	  .flags = VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES,
	  .type_alignment = 65536,
	  .pool_alignment = 65536 },
	{ .host_index = 4,
	  .property_flags = 0x7,
	  .min_map_alignment = 131072,
	  .type_alignment = 131072,
	  .pool_alignment = 131072 },
};

enum traits_id {
	HOSTF,     /* host-first, upstream */
	HOSTF_XD,  /* host-first, CROSS_DEVICE */
	GUESTF,    /* guest-first (capset) */
	GUESTF_XD, /* guest-first, CROSS_DEVICE */
	GVRAM_T,   /* configured GUEST_VRAM blobs */
	PLACED,    /* placed maps enabled */
	NOSUB,     /* suballocation disabled */
	GFX_DEF,   /* gfxstream, deferredMapping, 16 KiB blob alignment */
	GFX_BLK,   /* gfxstream without deferredMapping */
	CROS_GH,   /* ChromeOS flavour with CREATE_GUEST_HANDLE */
	GFX_GH,    /* gfxstream, deferredMapping, CREATE_GUEST_HANDLE, 16 KiB blob alignment */
	TRAITS_COUNT,
};

static struct vgalloc__traits make_traits(enum traits_id id)
{
	struct vgalloc__traits t = {
		.flavour = VGALLOC_FLAVOUR_UPSTREAM,
		.capset_id = VGALLOC_CAPSET_VENUS,
		.alloc_mode = HF,
		.host_visible = true,
		.has_3d = true,
		.blob_alignment = 4096,
		.max_suballoc_size = 4u << 20,
		.max_suballoc_alignment = 4u << 20,
		.min_block_size = 4u << 20,
		.max_block_size = 32u << 20,
		.types = types,
		.type_count = sizeof(types) / sizeof(types[0]),
	};

	switch (id) {
	case HOSTF_XD:
		t.cross_device = true;
		break;
	case GUESTF_XD:
		t.cross_device = true;
		/* fall through */
	case GUESTF:
		t.alloc_mode = GF;
		t.use_guest_vram = 1;
		break;
	case GVRAM_T:
		t.alloc_mode = GF;
		t.guest_vram = true;
		break;
	case PLACED:
		t.placed_maps = true;
		break;
	case NOSUB:
		t.no_suballoc = true;
		break;
	case GFX_DEF:
		t.capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN;
		t.gfxstream = true;
		t.deferred_mapping = true;
		t.blob_alignment = 16384;
		t.min_block_size = 16u << 20;
		break;
	case GFX_BLK:
		t.capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN;
		t.gfxstream = true;
		t.min_block_size = 16u << 20;
		break;
	case CROS_GH:
		t.flavour = VGALLOC_FLAVOUR_CHROMEOS;
		t.create_guest_handle = true;
		break;
	case GFX_GH:
		t.flavour = VGALLOC_FLAVOUR_GFXSTREAM;
		t.capset_id = VGALLOC_CAPSET_GFXSTREAM_VULKAN;
		t.gfxstream = true;
		t.deferred_mapping = true;
		t.create_guest_handle = true;
		t.blob_alignment = 16384;
		t.min_block_size = 16u << 20;
		break;
	default:
		break;
	}
	return t;
}

struct req_spec {
	uint32_t type;
	uint64_t size;
	uint64_t align;
	uint32_t flags;
	uint32_t exports;
	uint32_t alloc_flags;
	uint64_t capture_address;
};

struct policy_case {
	const char *name;
	enum traits_id traits;
	struct req_spec req;
	int ret;
	uint32_t path;
	uint32_t blob_mem;
	uint32_t blob_flags;
	uint32_t alloc_steps[VGALLOC_PLAN_MAX_STEPS];
	uint32_t map_steps[VGALLOC_PLAN_MAX_STEPS];
	uint32_t suballocate;
	uint32_t no_suballoc;
	uint64_t pool_key;  /* checked when suballocated */
	uint64_t size;      /* 0: not checked */
	uint64_t alignment; /* 0: not checked */
};

#define KEY(type, aflags, bflags, mode) \
	((uint64_t)(type) << 32 | (uint64_t)(aflags) << 16 | (uint64_t)(bflags) << 8 | (mode))
#define STEPS(...)          \
	{                   \
		__VA_ARGS__ \
	}
#define DMABUF VGALLOC_HANDLE_TYPE_DMA_BUF
#define OPAQUE VGALLOC_HANDLE_TYPE_OPAQUE_FD

static const struct policy_case cases[] = {
	/* Rule 4: paths, host-first. */
	{ "hf/device-local: host only",
	  HOSTF,
	  { T_DEVICE, 65536 },
	  0,
	  VGALLOC_PATH_HOST_ONLY,
	  0,
	  0,
	  STEPS(NEW, HALLOC),
	  STEPS(0),
	  0,
	  R(NOT_HOST_VISIBLE) },
	{ "hf/coherent: lazy, suballocated",
	  HOSTF,
	  { T_COHERENT, 65536 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  1,
	  0,
	  KEY(1, 0, M, HF),
	  65536,
	  4096 },
	{ "hf/cached: lazy, own pool",
	  HOSTF,
	  { T_CACHED, 100 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  1,
	  0,
	  KEY(2, 0, M, HF),
	  4096 },
	{ "hf/coherent dma-buf export: eager",
	  HOSTF,
	  { T_COHERENT, 8192, .exports = DMABUF },
	  0,
	  VGALLOC_PATH_HOST_FIRST_EAGER,
	  HOST3D,
	  M | S,
	  STEPS(NEW, HALLOC, WAIT, BLOB),
	  STEPS(MAP),
	  0,
	  R(EXPORT) },
	{ "hf/dma-buf export with CROSS_DEVICE",
	  HOSTF_XD,
	  { T_COHERENT, 8192, .exports = DMABUF },
	  0,
	  VGALLOC_PATH_HOST_FIRST_EAGER,
	  HOST3D,
	  M | S | X,
	  STEPS(NEW, HALLOC, WAIT, BLOB),
	  STEPS(MAP),
	  0,
	  R(EXPORT) },
	{ "hf/opaque-fd export: no CROSS_DEVICE",
	  HOSTF_XD,
	  { T_COHERENT, 8192, .exports = OPAQUE },
	  0,
	  VGALLOC_PATH_HOST_FIRST_EAGER,
	  HOST3D,
	  M | S,
	  STEPS(NEW, HALLOC, WAIT, BLOB),
	  STEPS(MAP),
	  0,
	  R(EXPORT) },
	{ "hf/device-local export: shareable only",
	  HOSTF,
	  { T_DEVICE, 8192, .exports = OPAQUE },
	  0,
	  VGALLOC_PATH_HOST_FIRST_EAGER,
	  HOST3D,
	  S,
	  STEPS(NEW, HALLOC, WAIT, BLOB),
	  STEPS(0), /* device-local: vgalloc_mem_map refuses it */
	  0,
	  R(EXPORT) | R(NOT_HOST_VISIBLE) },
	/* Rule 4: paths, guest-first. */
	{ "gf/coherent: guest-first, suballocated",
	  GUESTF,
	  { T_COHERENT, 65536 },
	  0,
	  VGALLOC_PATH_GUEST_FIRST,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, BLOB, RT, HIMPORT),
	  STEPS(MAP),
	  1,
	  0,
	  KEY(1, 0, M, GF) },
	{ "gf/device-local: host only",
	  GUESTF,
	  { T_DEVICE, 65536 },
	  0,
	  VGALLOC_PATH_HOST_ONLY,
	  0,
	  0,
	  STEPS(NEW, HALLOC),
	  STEPS(0),
	  0,
	  R(NOT_HOST_VISIBLE) },
	{ "gf/device-local export: mappable for the window",
	  GUESTF,
	  { T_DEVICE, 65536, .exports = OPAQUE },
	  0,
	  VGALLOC_PATH_GUEST_FIRST,
	  HOST3D,
	  M | S,
	  STEPS(NEW, BLOB, RT, HIMPORT),
	  STEPS(0), /* device-local: vgalloc_mem_map refuses it */
	  0,
	  R(EXPORT) | R(NOT_HOST_VISIBLE) },
	{ "gf/dma-buf export with CROSS_DEVICE",
	  GUESTF_XD,
	  { T_COHERENT, 4096, .exports = DMABUF },
	  0,
	  VGALLOC_PATH_GUEST_FIRST,
	  HOST3D,
	  M | S | X,
	  STEPS(NEW, BLOB, RT, HIMPORT),
	  STEPS(MAP),
	  0,
	  R(EXPORT) },
	/* Rule 4: import. */
	{ "hf/import fd host-visible",
	  HOSTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_IMPORT_FD },
	  0,
	  VGALLOC_PATH_IMPORT,
	  HOST3D,
	  M,
	  STEPS(NEW, PRIME, INFO, RT, HIMPORT),
	  STEPS(MAP),
	  0,
	  R(IMPORT_FD) },
	{ "hf/import fd device-local",
	  HOSTF,
	  { T_DEVICE, 4096, .flags = VGALLOC_REQUEST_IMPORT_FD },
	  0,
	  VGALLOC_PATH_IMPORT,
	  HOST3D,
	  0,
	  STEPS(NEW, PRIME, INFO, RT, HIMPORT),
	  STEPS(0),
	  0,
	  R(IMPORT_FD) | R(NOT_HOST_VISIBLE) },
	{ "gf/import fd: same as host-first",
	  GUESTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_IMPORT_FD },
	  0,
	  VGALLOC_PATH_IMPORT,
	  HOST3D,
	  M,
	  STEPS(NEW, PRIME, INFO, RT, HIMPORT),
	  STEPS(MAP),
	  0,
	  R(IMPORT_FD) },
	{ "host-pointer import: unsupported",
	  HOSTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_IMPORT_HOST_POINTER },
	  0,
	  VGALLOC_PATH_UNSUPPORTED,
	  0,
	  0,
	  STEPS(0),
	  STEPS(0),
	  0,
	  R(HOST_POINTER) },
	{ "AHB import: unsupported",
	  HOSTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_IMPORT_AHB },
	  0,
	  VGALLOC_PATH_UNSUPPORTED,
	  0,
	  0,
	  STEPS(0),
	  STEPS(0),
	  0,
	  R(AHB) },
	/* Rule 6: the never-suballocate list, host-first. */
	{ "dedicated required",
	  HOSTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_DEDICATED_REQUIRED },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(DEDICATED_REQUIRED) },
	{ "dedicated image",
	  HOSTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_DEDICATED_IMAGE },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(DEDICATED_IMAGE) },
	{ "dedicated buffer (preferred) still shares",
	  HOSTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_DEDICATED_BUFFER },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  1,
	  0,
	  KEY(1, 0, M, HF) },
	{ "capture-replay flag",
	  HOSTF,
	  { T_COHERENT, 4096,
	    .alloc_flags = VGALLOC_ALLOCATE_DEVICE_ADDRESS |
	                   VGALLOC_ALLOCATE_DEVICE_ADDRESS_CAPTURE_REPLAY },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(CAPTURE_REPLAY) },
	{ "opaque capture address",
	  HOSTF,
	  { T_COHERENT, 4096, .capture_address = 0x10000 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(CAPTURE_REPLAY) },
	{ "device address: own pool key",
	  HOSTF,
	  { T_COHERENT, 4096, .alloc_flags = VGALLOC_ALLOCATE_DEVICE_ADDRESS },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  1,
	  0,
	  KEY(1, VGALLOC_ALLOCATE_DEVICE_ADDRESS, M, HF) },
	{ "zero-initialise",
	  HOSTF,
	  { T_COHERENT, 4096, .alloc_flags = VGALLOC_ALLOCATE_ZERO_INITIALIZE },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(ZERO_INITIALIZE) },
	{ "priority",
	  HOSTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_PRIORITY },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(PRIORITY) },
	{ "WSI memory",
	  HOSTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_WSI },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(WSI) },
	{ "placed map (request)",
	  HOSTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_PLACED_MAP },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(PLACED_MAP) },
	{ "placed maps (device trait)",
	  PLACED,
	  { T_COHERENT, 4096 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(PLACED_MAP) },
	{ "suballocation disabled",
	  NOSUB,
	  { T_COHERENT, 4096 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(DISABLED) },
	{ "too large",
	  HOSTF,
	  { T_COHERENT, (4u << 20) + 1 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(TOO_LARGE),
	  0,
	  (4u << 20) + 4096 },
	{ "exactly the largest suballocation",
	  HOSTF,
	  { T_COHERENT, 4u << 20 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  1,
	  0,
	  KEY(1, 0, M, HF) },
	{ "several reasons at once",
	  HOSTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_DEDICATED_IMAGE | VGALLOC_REQUEST_WSI,
	    .exports = DMABUF, .alloc_flags = VGALLOC_ALLOCATE_ZERO_INITIALIZE },
	  0,
	  VGALLOC_PATH_HOST_FIRST_EAGER,
	  HOST3D,
	  M | S,
	  STEPS(NEW, HALLOC, WAIT, BLOB),
	  STEPS(MAP),
	  0,
	  R(EXPORT) | R(DEDICATED_IMAGE) | R(WSI) | R(ZERO_INITIALIZE) },
	/* Rule 6 in guest-first mode too. */
	{ "gf dedicated image",
	  GUESTF,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_DEDICATED_IMAGE },
	  0,
	  VGALLOC_PATH_GUEST_FIRST,
	  HOST3D,
	  M,
	  STEPS(NEW, BLOB, RT, HIMPORT),
	  STEPS(MAP),
	  0,
	  R(DEDICATED_IMAGE) },
	{ "gf zero-initialise",
	  GUESTF,
	  { T_COHERENT, 4096, .alloc_flags = VGALLOC_ALLOCATE_ZERO_INITIALIZE },
	  0,
	  VGALLOC_PATH_GUEST_FIRST,
	  HOST3D,
	  M,
	  STEPS(NEW, BLOB, RT, HIMPORT),
	  STEPS(MAP),
	  0,
	  R(ZERO_INITIALIZE) },
	{ "gf placed map",
	  GUESTF,
	  { T_CACHED, 4096, .flags = VGALLOC_REQUEST_PLACED_MAP },
	  0,
	  VGALLOC_PATH_GUEST_FIRST,
	  HOST3D,
	  M,
	  STEPS(NEW, BLOB, RT, HIMPORT),
	  STEPS(MAP),
	  0,
	  R(PLACED_MAP) },
	/* Rule 1: configured GUEST_VRAM. */
	{ "guest vram: blob_mem 4, guest-first",
	  GVRAM_T,
	  { T_COHERENT, 4096 },
	  0,
	  VGALLOC_PATH_GUEST_FIRST,
	  GVRAM,
	  M,
	  STEPS(SUB, NEW, BLOB, RT, HIMPORT),
	  STEPS(MAP),
	  1,
	  0,
	  KEY(1, 0, M, GF) },
	{ "guest vram export",
	  GVRAM_T,
	  { T_COHERENT, 4096, .exports = OPAQUE },
	  0,
	  VGALLOC_PATH_GUEST_FIRST,
	  GVRAM,
	  M | S,
	  STEPS(NEW, BLOB, RT, HIMPORT),
	  STEPS(MAP),
	  0,
	  R(EXPORT) },
	/* gfxstream modes. */
	{ "gfxstream deferredMapping: blob at first map, 16 KiB",
	  GFX_DEF,
	  { T_COHERENT, 5000 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(DEFERRED_MAPPING),
	  0,
	  16384,
	  16384 },
	{ "gfxstream blocks: eager, suballocated",
	  GFX_BLK,
	  { T_COHERENT, 5000 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_EAGER,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, HALLOC, WAIT, BLOB),
	  STEPS(MAP),
	  1,
	  0,
	  KEY(1, 0, M, HF),
	  8192 },
	{ "guest handle: exported image",
	  CROS_GH,
	  { T_COHERENT, 4096, .flags = VGALLOC_REQUEST_DEDICATED_IMAGE, .exports = DMABUF },
	  0,
	  VGALLOC_PATH_GUEST_HANDLE,
	  GUEST,
	  M | S | GH,
	  STEPS(NEW, BLOB, PH, HIMPORT),
	  STEPS(MAP),
	  0,
	  R(EXPORT) | R(DEDICATED_IMAGE) | R(GUEST_HANDLE) },
	{ "guest handle: device-local exported image is never mapped",
	  CROS_GH,
	  { T_DEVICE, 4096, .flags = VGALLOC_REQUEST_DEDICATED_IMAGE, .exports = DMABUF },
	  0,
	  VGALLOC_PATH_GUEST_HANDLE,
	  GUEST,
	  M | S | GH,
	  STEPS(NEW, BLOB, PH, HIMPORT),
	  STEPS(0),
	  0,
	  R(NOT_HOST_VISIBLE) | R(EXPORT) | R(DEDICATED_IMAGE) | R(GUEST_HANDLE) },
	/* gfxstream with CREATE_GUEST_HANDLE: every host-visible allocation, as allocateCoherentMemory
	 * does; device-local memory and exports keep their paths. */
	{ "gfxstream guest handle: every host-visible allocation",
	  GFX_GH,
	  { T_COHERENT, 5000 },
	  0,
	  VGALLOC_PATH_GUEST_HANDLE,
	  GUEST,
	  M | GH,
	  STEPS(NEW, BLOB, PH, HIMPORT),
	  STEPS(MAP),
	  0,
	  R(GUEST_HANDLE) | R(DEFERRED_MAPPING),
	  0,
	  16384,
	  16384 },
	{ "gfxstream guest handle: device-local memory stays host-only",
	  GFX_GH,
	  { T_DEVICE, 5000 },
	  0,
	  VGALLOC_PATH_HOST_ONLY,
	  0,
	  0,
	  STEPS(NEW, HALLOC),
	  STEPS(0),
	  0,
	  R(NOT_HOST_VISIBLE) | R(DEFERRED_MAPPING) },
	{ "gfxstream guest handle: a plain export stays host-first",
	  GFX_GH,
	  { T_COHERENT, 4096, .exports = DMABUF },
	  0,
	  VGALLOC_PATH_HOST_FIRST_EAGER,
	  HOST3D,
	  M | S,
	  STEPS(NEW, HALLOC, WAIT, BLOB),
	  STEPS(MAP),
	  0,
	  R(EXPORT) | R(DEFERRED_MAPPING) },
	{ "guest handle flavour, plain export: eager",
	  CROS_GH,
	  { T_COHERENT, 4096, .exports = DMABUF },
	  0,
	  VGALLOC_PATH_HOST_FIRST_EAGER,
	  HOST3D,
	  M | S,
	  STEPS(NEW, HALLOC, WAIT, BLOB),
	  STEPS(MAP),
	  0,
	  R(EXPORT) },
	/* Rule 5: sizes and alignment. */
	{ "size rounded to the blob alignment",
	  HOSTF,
	  { T_COHERENT, 5000 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  1,
	  0,
	  KEY(1, 0, M, HF),
	  8192,
	  4096 },
	{ "alignment hint raises the offset alignment",
	  HOSTF,
	  { T_COHERENT, 4096, 262144 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  1,
	  0,
	  KEY(1, 0, M, HF),
	  4096,
	  262144 },
	{ "optimal-image type: 64 KiB pool alignment",
	  HOSTF,
	  { T_OPTIMAL, 4096 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  1,
	  0,
	  KEY(3, 0, M, HF),
	  4096,
	  65536 },
	{ "minMemoryMapAlignment 128 KiB",
	  GUESTF,
	  { T_BIGMAP, 4096 },
	  0,
	  VGALLOC_PATH_GUEST_FIRST,
	  HOST3D,
	  M,
	  STEPS(SUB, NEW, BLOB, RT, HIMPORT),
	  STEPS(MAP),
	  1,
	  0,
	  KEY(4, 0, M, GF),
	  4096,
	  131072 },
	{ "not suballocated: blob alignment",
	  HOSTF,
	  { T_COHERENT, 4096, 262144, .exports = OPAQUE },
	  0,
	  VGALLOC_PATH_HOST_FIRST_EAGER,
	  HOST3D,
	  M | S,
	  STEPS(NEW, HALLOC, WAIT, BLOB),
	  STEPS(MAP),
	  0,
	  R(EXPORT),
	  0,
	  4096,
	  4096 },
	{ "alignment hint above a block: a blob of its own",
	  HOSTF,
	  { T_COHERENT, 4096, 8 << 20 },
	  0,
	  VGALLOC_PATH_HOST_FIRST_LAZY,
	  HOST3D,
	  M,
	  STEPS(NEW, HALLOC),
	  STEPS(WAIT, BLOB, MAP),
	  0,
	  R(ALIGNMENT),
	  0,
	  4096 },
	/* Bad requests. */
	{ "size 0", HOSTF, { T_COHERENT, 0 }, -EINVAL },
	{ "size overflows when rounded", HOSTF, { T_COHERENT, UINT64_MAX - 10 }, -EINVAL },
	{ "alignment not a power of two", HOSTF, { T_COHERENT, 4096, 3 }, -EINVAL },
	{ "unknown memory type", HOSTF, { 9, 4096 }, -EINVAL },
	/* vgalloc.h's one rule: a bit no enum names is refused, not planned around. */
	{ "unknown export type", HOSTF, { T_COHERENT, 4096, .exports = 0x10 }, -EINVAL },
	{ "unknown allocate flag", HOSTF, { T_COHERENT, 4096, .alloc_flags = 0x10 }, -EINVAL },
};

static uint32_t count_steps(const uint32_t *steps)
{
	uint32_t n = 0;

	while (n < VGALLOC_PLAN_MAX_STEPS && steps[n]) {
		n++;
	}
	return n;
}

static void policy__table(void **state)
{
	uint32_t reasons_seen = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct policy_case *c = &cases[i];
		struct vgalloc__traits t = make_traits(c->traits);
		struct vgalloc_request r;
		struct vgalloc_plan p;
		int ret;

		memset(&r, 0, sizeof(r));
		r.struct_size = sizeof(r);
		r.memory_type = c->req.type;
		r.size = c->req.size;
		r.alignment = c->req.align;
		r.flags = c->req.flags;
		r.export_handle_types = c->req.exports;
		r.allocate_flags = c->req.alloc_flags;
		r.opaque_capture_address = c->req.capture_address;
		r.import_fd = 3;
		print_message("  %s\n", c->name);
		ret = vgalloc__plan(&t, &r, &p, NULL);
		assert_int_equal(ret, c->ret);
		if (ret) {
			continue;
		}
		assert_int_equal(p.path, c->path);
		assert_int_equal(p.blob_mem, c->blob_mem);
		assert_int_equal(p.blob_flags, c->blob_flags);
		assert_int_equal(p.alloc_step_count, count_steps(c->alloc_steps));
		assert_memory_equal(p.alloc_steps, c->alloc_steps,
		                    sizeof(uint32_t) * p.alloc_step_count);
		assert_int_equal(p.map_step_count, count_steps(c->map_steps));
		assert_memory_equal(p.map_steps, c->map_steps, sizeof(uint32_t) * p.map_step_count);
		assert_int_equal(p.suballocate, c->suballocate);
		assert_int_equal(p.no_suballoc, c->no_suballoc);
		assert_int_equal(p.memory_type, c->req.type);
		assert_int_equal(p.alloc_mode, t.alloc_mode);
		if (c->suballocate) {
			assert_int_equal(p.pool_key, c->pool_key);
			assert_true(p.min_block_size >= (4u << 20));
		} else {
			assert_int_equal(p.pool_key, 0);
		}
		if (c->size) {
			assert_int_equal(p.size, c->size);
		}
		if (c->alignment) {
			assert_int_equal(p.alignment, c->alignment);
		}
		reasons_seen |= p.no_suballoc;
	}
	print_message("  %zu cases\n", sizeof(cases) / sizeof(cases[0]));
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 40);
	/* Every entry of the never-suballocate list is exercised. */
	assert_int_equal(reasons_seen, 0x1ffff);
}

/* The alignment limit applies to the alignment in force: a type's pool alignment counts as much
 * as a request's hint (a 128 KiB pool alignment under a 64 KiB limit is not suballocated). */
static void policy__alignment_limit_counts_the_pool_alignment(void **state)
{
	struct vgalloc__traits t = make_traits(HOSTF);
	struct vgalloc_request r = { .struct_size = sizeof(r),
		                     .memory_type = T_BIGMAP,
		                     .size = 4096 };
	struct vgalloc_plan p;

	(void)state;
	t.max_suballoc_alignment = 65536;
	assert_int_equal(vgalloc__plan(&t, &r, &p, NULL), 0);
	assert_int_equal(p.suballocate, 0);
	assert_int_equal(p.no_suballoc, VGALLOC_NO_SUBALLOC_ALIGNMENT);
	t.max_suballoc_alignment = 131072;
	assert_int_equal(vgalloc__plan(&t, &r, &p, NULL), 0);
	assert_int_equal(p.suballocate, 1);
	assert_int_equal(p.alignment, 131072);
}

static void policy__pure_and_names(void **state)
{
	struct vgalloc__traits t = make_traits(HOSTF);
	struct vgalloc_request r = fx_req(T_COHERENT, 4096);
	struct vgalloc_plan a, b;

	(void)state;
	/* The same inputs give the same plan, byte for byte. */
	assert_int_equal(vgalloc__plan(&t, &r, &a, NULL), 0);
	assert_int_equal(vgalloc__plan(&t, &r, &b, NULL), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_string_equal(vgalloc_step_name(VGALLOC_STEP_HOST_IMPORT), "host_import");
	assert_string_equal(vgalloc_step_name(99), "unknown");
	assert_string_equal(vgalloc_no_suballoc_name(R(PLACED_MAP)), "placed-map");
	assert_string_equal(vgalloc_no_suballoc_name(3), "unknown");
}

/* --- Through a device ------------------------------------------------------------------- */

struct log_capture {
	char text[4096];
	size_t len;
};

static void capture(void *user, enum vgalloc_log_level level, const char *msg)
{
	struct log_capture *c = user;
	int n;

	(void)level;
	n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s\n", msg);
	if (n > 0 && c->len + (size_t)n < sizeof(c->text)) {
		c->len += (size_t)n;
	}
}

static int adopt_device(struct vgalloc_mock *mock, uint32_t flavour, uint32_t param, uint64_t value,
                        struct log_capture *log, struct vgalloc_device **dev)
{
	struct vgalloc_memory_type types3[3];
	struct vgalloc_device_create_info ci;
	struct fx f = { .mock = mock };

	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
	fx_create_info(&f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types3, &ci);
	ci.flavour = flavour;
	if (param) {
		ci.params_present = 1u << param;
		ci.params[param] = value;
	}
	ci.log_fn = capture;
	ci.log_user = log;
	ci.log_level = VGALLOC_LOG_DEBUG;
	return vgalloc_device_create(&ci, dev);
}

static void device_traits__param9_by_flavour(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(&(struct fx_opts){ 0 });
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct log_capture log = { 0 };
	struct vgalloc_device *dev = NULL;

	(void)state;
	assert_int_equal(vgalloc_mock_context_init(mock, VGALLOC_CAPSET_VENUS), 0);
	/* Upstream: 9 is BLOB_ALIGNMENT. */
	assert_int_equal(adopt_device(mock, VGALLOC_FLAVOUR_UPSTREAM, 9, 16384, &log, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.blob_alignment, 16384);
	assert_int_equal(di.alloc_mode, VGALLOC_ALLOC_MODE_HOST_FIRST);
	assert_int_equal(di.guest_vram, 0);
	vgalloc_device_destroy(dev);
	/* A value that is no alignment is refused, loudly. */
	assert_int_equal(adopt_device(mock, VGALLOC_FLAVOUR_UPSTREAM, 9, 12345, &log, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.blob_alignment, 4096);
	assert_non_null(strstr(log.text, "ignoring BLOB_ALIGNMENT 12345"));
	vgalloc_device_destroy(dev);
	/* ChromeOS: 9 is RESOURCE_SYNC, never an alignment; 10 is GUEST_VRAM. */
	assert_int_equal(adopt_device(mock, VGALLOC_FLAVOUR_CHROMEOS, 9, 16384, &log, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.blob_alignment, 4096);
	vgalloc_device_destroy(dev);
	assert_int_equal(adopt_device(mock, VGALLOC_FLAVOUR_CHROMEOS, 10, 1, &log, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.guest_vram, 1);
	assert_int_equal(di.alloc_mode, VGALLOC_ALLOC_MODE_GUEST_FIRST);
	assert_int_equal(di.mode_reason, VGALLOC_MODE_REASON_GUEST_VRAM);
	vgalloc_device_destroy(dev);
	/* Upstream: 10 means nothing. */
	assert_int_equal(adopt_device(mock, VGALLOC_FLAVOUR_UPSTREAM, 10, 1, &log, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.guest_vram, 0);
	assert_int_equal(di.alloc_mode, VGALLOC_ALLOC_MODE_HOST_FIRST);
	vgalloc_device_destroy(dev);
	vgalloc_mock_destroy(mock);
}

static void device_traits__mock_blob_alignment_param(void **state)
{
	struct vgalloc_mock *mock = fx_mock_new(
	        &(struct fx_opts){ .mock_flags = VGALLOC_MOCK_BLOB_ALIGNMENT, .host_page = 16384 });
	struct vgalloc_memory_type types3[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 5000);
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mem *mem = NULL;
	struct fx f = { .mock = mock };
	void *p;

	(void)state;
	assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
	fx_create_info(&f, &(struct fx_opts){ 0 }, types3, &ci);
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
	assert_int_equal(di.blob_alignment, 16384);
	assert_int_equal(vgalloc_plan_request(dev, &r, &plan), 0);
	assert_int_equal(plan.size, 16384);
	/* The negotiated kernel refuses misaligned sizes: ours are aligned, so this works. */
	assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem), 0);
	assert_int_equal(vgalloc_mem_map(dev, mem, &p), 0);
	assert_int_equal(vgalloc_mem_free(dev, mem), 0);
	vgalloc_device_destroy(dev);
	fx_assert_clean(mock);
	vgalloc_mock_destroy(mock);
}

static void device_traits__self_test(void **state)
{
	(void)state;
	for (int c = 0; c < 3; c++) {
		struct vgalloc_mock *mock =
		        fx_mock_new(&(struct fx_opts){ .host_page = c == 2 ? 0 : 16384 });
		struct vgalloc_memory_type types3[3];
		struct vgalloc_device_create_info ci;
		struct vgalloc_device_info di = { .struct_size = sizeof(di) };
		struct log_capture log = { 0 };
		struct vgalloc_device *dev = NULL;
		struct fx f = { .mock = mock };
		int ret;

		assert_int_equal(vgalloc_mock_get_hooks(mock, 0, &f.hooks), 0);
		fx_create_info(&f, &(struct fx_opts){ .dev_flags = VGALLOC_DEVICE_SELF_TEST },
		               types3, &ci);
		ci.log_fn = capture;
		ci.log_user = &log;
		ci.log_level = VGALLOC_LOG_ERROR;
		if (c == 1) {
			ci.host_page_size = 16384; /* the consumer knows the host page */
		}
		if (c == 2) {
			/* A 4 KiB host that refuses the mapping anyway (injected). */
			assert_int_equal(
			        vgalloc_mock_fail_nth(mock, VGALLOC_MOCK_CALL_BLOB_MAP, 1, EINVAL),
			        0);
		}
		ret = vgalloc_device_create(&ci, &dev);
		if (c == 1) {
			assert_int_equal(ret, 0);
			assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
			assert_int_equal(di.blob_alignment, 16384);
			vgalloc_device_destroy(dev);
		} else {
			/* 16 KiB host pages with 4 KiB blobs: every mapping would fail later. */
			assert_int_equal(ret, -EIO);
			assert_non_null(strstr(log.text, "self-test"));
		}
		fx_assert_clean(mock);
		vgalloc_mock_destroy(mock);
	}
}

static void plan_explain__says_why(void **state)
{
	struct fx *st = fx_new(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC });
	struct fx *ov = fx_new(&(struct fx_opts){ .profile = VGALLOC_MOCK_PROFILE_STATIC,
	                                          .alloc_mode = VGALLOC_ALLOC_MODE_HOST_FIRST });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 65536);
	char text[4096], small[16];
	int n;

	(void)state;
	n = vgalloc_plan_explain(st->dev, &r, text, sizeof(text));
	assert_true(n > 0 && (size_t)n < sizeof(text));
	print_message("%s", text);
	assert_non_null(strstr(text, "device: guest-first"));
	assert_non_null(strstr(text, "use_guest_vram = 1"));
	assert_non_null(strstr(text, "path: guest-first"));
	assert_non_null(strstr(text, "suballocate: yes"));
	n = vgalloc_plan_explain(ov->dev, &r, text, sizeof(text));
	assert_true(n > 0);
	assert_non_null(strstr(text, "device: host-first"));
	assert_non_null(strstr(text, "override"));
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	r.flags = VGALLOC_REQUEST_DEDICATED_IMAGE;
	assert_true(vgalloc_plan_explain(ov->dev, &r, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "suballocate: no"));
	assert_non_null(strstr(text, "exported"));
	assert_non_null(strstr(text, "dedicated to an image"));
	/* Truncation behaves like snprintf. */
	assert_int_equal(vgalloc_plan_explain(ov->dev, &r, small, sizeof(small)),
	                 (int)strlen(text));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(vgalloc_plan_explain(ov->dev, NULL, NULL, 0) > 0, 1);
	assert_int_equal(vgalloc_plan_explain(NULL, &r, text, sizeof(text)), -EINVAL);
	r.size = 0;
	assert_int_equal(vgalloc_plan_explain(ov->dev, &r, text, sizeof(text)), -EINVAL);
	/* Planning calls nothing. */
	assert_int_equal(
	        vgalloc_mock_get_trace(st->mock, (struct vgalloc_mock_trace_entry[1]){ 0 }, 1), 0);
	fx_free(ov);
	fx_free(st);
}

static void plan_request__matches_what_mem_alloc_does(void **state)
{
	struct fx *f = fx_new(&(struct fx_opts){ 0 });
	struct vgalloc_request r = fx_req(TYPE_HOST_COHERENT, 4096);
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
	struct vgalloc_mock_trace_entry e[8];
	struct vgalloc_mem *mem = NULL;
	int n;

	(void)state;
	r.export_handle_types = VGALLOC_HANDLE_TYPE_DMA_BUF;
	assert_int_equal(vgalloc_plan_request(f->dev, &r, &plan), 0);
	assert_int_equal(vgalloc_mem_alloc(f->dev, &r, &mem), 0);
	n = vgalloc_mock_get_trace(f->mock, e, 8);
	assert_int_equal((uint32_t)n, plan.alloc_step_count);
	assert_int_equal(e[3].blob_flags, plan.blob_flags);
	assert_int_equal(e[3].blob_mem, plan.blob_mem);
	assert_int_equal(vgalloc_mem_free(f->dev, mem), 0);
	plan.struct_size = 8;
	assert_int_equal(vgalloc_plan_request(f->dev, &r, &plan), -EINVAL);
	fx_free(f);
}

/* The hot path's plan (vgalloc__plan_fast) is vgalloc__plan's, for every plain request that
 * suballocates, and declines everything else: random requests over every trait set, with a
 * type whose alignment depends on the size. */
static void plan_fast__is_the_full_plan_for_plain_suballocations(void **state)
{
	struct vgalloc__mem_type tt[sizeof(types) / sizeof(types[0]) + 1];
	uint64_t x = 0x5eed0fa57ull;
	uint32_t fast = 0, agreed_declines = 0;

	(void)state;
	memcpy(tt, types, sizeof(types));
	tt[5] = (struct vgalloc__mem_type){
		.host_index = 9,
		.property_flags = 0x7,
		.type_alignment = 65536,
		.pool_alignment = 256,
		.size_alignment_count = 2,
		.size_alignments = { { .max_size = 4096, .alignment = 256 },
		                     { .max_size = 65536, .alignment = 4096 } },
	};
	for (int id = 0; id < TRAITS_COUNT; id++) {
		struct vgalloc__traits t = make_traits((enum traits_id)id);

		t.types = tt;
		t.type_count = 6;
		vgalloc__plan_fast_init(&t);
		for (int i = 0; i < 20000; i++) {
			static const uint32_t host[] = { 0, 1, 2, 3, 4, 9, 7 };
			struct vgalloc_request r = { .struct_size = sizeof(r) };
			struct vgalloc__pool_req pr;
			struct vgalloc_plan plan;
			uint32_t index;
			bool f;
			int ret;

			x = x * 6364136223846793005ull + 1442695040888963407ull;
			r.memory_type = host[(x >> 33) % 7];
			r.size = (x >> 20) % 5 == 0 ? (x >> 40) % (16u << 20)
			                            : 1 + (x >> 44) % 70000;
			r.alignment = (x >> 8) % 3 ? 0 : 1ull << ((x >> 12) % 24);
			if ((x >> 18) % 17 == 0) {
				r.alignment = 3 << 8; /* not a power of two */
			}
			switch ((x >> 24) % 12) {
			case 0:
				r.flags = VGALLOC_REQUEST_DEDICATED_IMAGE;
				break;
			case 1:
				r.export_handle_types = DMABUF;
				break;
			case 2:
				r.allocate_flags = VGALLOC_ALLOCATE_ZERO_INITIALIZE;
				break;
			case 3:
				r.flags = VGALLOC_REQUEST_EXACT_ALIGNMENT;
				break;
			case 4:
				r.opaque_capture_address = 0x1000;
				break;
			default:
				break;
			}
			/* Fields that matter only with a flag, and reserved: noise for both. */
			if ((x >> 40) % 4 == 0) {
				r.priority = 0.5f;
				r.user_data = &r;
				r.import_fd = 7;
				r.blob_id = 42;
			}
			if ((x >> 44) % 53 == 0) {
				r.reserved = 1;
			}
			f = vgalloc__plan_fast(&t, &r, &pr);
			ret = vgalloc__plan(&t, &r, &plan, NULL);
			if (!f) {
				/* Declined: then it is not a plain suballocation. */
				assert_false(!ret && plan.suballocate && !r.flags &&
				             !r.export_handle_types && !r.allocate_flags &&
				             !r.opaque_capture_address);
				agreed_declines++;
				continue;
			}
			fast++;
			assert_int_equal(ret, 0);
			assert_int_equal(plan.suballocate, 1);
			assert_int_equal(vgalloc__find_type(&t, plan.memory_type, &index), 0);
			assert_int_equal(pr.type, index);
			assert_int_equal(pr.key, plan.pool_key);
			assert_int_equal(pr.alignment, plan.alignment);
			assert_int_equal(pr.min_block, plan.min_block_size);
			assert_int_equal(pr.path, plan.path);
			assert_int_equal(pr.blob_mem, plan.blob_mem);
			assert_int_equal(pr.blob_flags, plan.blob_flags);
			assert_int_equal(pr.size, r.size);
		}
	}
	/* Both sides were exercised. */
	assert_true(fast > 10000);
	assert_true(agreed_declines > 10000);
	/* A request of an older, shorter struct version always takes the full path. */
	{
		struct vgalloc__traits t = make_traits(HOSTF);
		struct vgalloc_request r = { .struct_size = sizeof(r) - 8,
			                     .memory_type = 1,
			                     .size = 4096 };
		struct vgalloc__pool_req pr;

		vgalloc__plan_fast_init(&t);
		assert_false(vgalloc__plan_fast(&t, &r, &pr));
		/* A later, longer version too: vgalloc__plan_in reads it in. */
		r.struct_size = sizeof(r) + 8;
		assert_false(vgalloc__plan_fast(&t, &r, &pr));
		r.struct_size = sizeof(r);
		assert_true(vgalloc__plan_fast(&t, &r, &pr));
		assert_false(vgalloc__plan_fast(&t, NULL, &pr));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy__table),
		cmocka_unit_test(policy__alignment_limit_counts_the_pool_alignment),
		cmocka_unit_test(policy__pure_and_names),
		cmocka_unit_test(device_traits__param9_by_flavour),
		cmocka_unit_test(device_traits__mock_blob_alignment_param),
		cmocka_unit_test(device_traits__self_test),
		cmocka_unit_test(plan_explain__says_why),
		cmocka_unit_test(plan_request__matches_what_mem_alloc_does),
		cmocka_unit_test(plan_fast__is_the_full_plan_for_plain_suballocations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
