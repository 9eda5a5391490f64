/* SPDX-License-Identifier: MIT */
/*
 * vgalloc-info: what a user asks first. The device, its params by name, every capset decoded, the
 * blob alignment, and for each memory class the plan the policy chose with its reasons, as text
 * or JSON; or the decoding of a raw capset file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_mock.h"

struct options {
	const char *backend; /* auto, virtgpu or mock */
	const char *profile;
	const char *capset_file;
	long capset_id;
	bool json;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vgalloc-info [--json] [--backend auto|virtgpu|mock]"
	           " [--profile injecting|static]\n"
	           "       vgalloc-info [--json] --capset FILE [--capset-id N]\n"
	           "--backend auto (the default) opens the virtio-gpu render node with the Venus\n"
	           "capset and falls back to the mock (--profile) when there is none.\n");
}

/* ------------------------------------------------------------------------------------------ */
/* Output helpers: one printer for text and JSON, so both show the same facts. */

static bool json_first = true;

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			printf("\\%c", *s);
		} else if (*s == '\n') {
			printf("\\n");
		} else if ((unsigned char)*s < 0x20) {
			printf("\\u%04x", *s);
		} else {
			putchar(*s);
		}
	}
	putchar('"');
}

static void json_key(const char *key)
{
	printf("%s", json_first ? "" : ",");
	json_first = false;
	json_string(key);
	putchar(':');
}

static void json_open(const char *key, char brace)
{
	if (key) {
		json_key(key);
	} else {
		printf("%s", json_first ? "" : ",");
	}
	putchar(brace);
	json_first = true;
}

static void json_close(char brace)
{
	putchar(brace);
	json_first = false;
}

static void field_u64(const struct options *o, const char *key, uint64_t v)
{
	if (o->json) {
		json_key(key);
		printf("%llu", (unsigned long long)v);
	} else {
		printf("  %-34s %llu\n", key, (unsigned long long)v);
	}
}

static void field_str(const struct options *o, const char *key, const char *v)
{
	if (o->json) {
		json_key(key);
		json_string(v);
	} else {
		printf("  %-34s %s\n", key, v);
	}
}

/* ------------------------------------------------------------------------------------------ */

static void print_capset(const struct options *o, const struct vgalloc_capset_info *c)
{
	char name[64];

	if (o->json) {
		json_open(NULL, '{');
	} else {
		printf("capset %u (%s), %u bytes, %u fields present:\n", c->id,
		       vgalloc_capset_name(c->id), c->size, c->present_fields);
	}
	field_u64(o, "id", c->id);
	field_str(o, "name", vgalloc_capset_name(c->id));
	switch (c->id) {
	case VGALLOC_CAPSET_VENUS: {
		const struct vgalloc_capset_venus *v = &c->u.venus;

		field_u64(o, "wire_format_version", v->wire_format_version);
		snprintf(name, sizeof(name), "%u.%u.%u", v->vk_xml_version >> 22,
		         (v->vk_xml_version >> 12) & 0x3ff, v->vk_xml_version & 0xfff);
		field_str(o, "vk_xml_version", name);
		field_u64(o, "ext_command_serialization_spec",
		          v->ext_command_serialization_spec_version);
		field_u64(o, "mesa_venus_protocol_spec", v->mesa_venus_protocol_spec_version);
		field_u64(o, "supports_blob_id_0", v->supports_blob_id_0);
		field_u64(o, "allow_vk_wait_syncs", v->allow_vk_wait_syncs);
		field_u64(o, "supports_multiple_timelines", v->supports_multiple_timelines);
		field_u64(o, "use_guest_vram", v->use_guest_vram);
		break;
	}
	case VGALLOC_CAPSET_GFXSTREAM_VULKAN: {
		const struct vgalloc_capset_gfxstream_vulkan *g = &c->u.gfxstream_vulkan;

		field_u64(o, "protocol_version", g->protocol_version);
		field_u64(o, "ring_size", g->ring_size);
		field_u64(o, "buffer_size", g->buffer_size);
		field_u64(o, "color_buffer_memory_index", g->color_buffer_memory_index);
		field_u64(o, "deferred_mapping", g->deferred_mapping);
		field_u64(o, "blob_alignment", g->blob_alignment);
		field_u64(o, "no_render_control_enc", g->no_render_control_enc);
		field_u64(o, "always_blob", g->always_blob);
		field_u64(o, "external_sync", g->external_sync);
		field_u64(o, "batched_descriptor_set_update", g->batched_descriptor_set_update);
		break;
	}
	case VGALLOC_CAPSET_GFXSTREAM_GLES:
	case VGALLOC_CAPSET_GFXSTREAM_COMPOSER:
	case VGALLOC_CAPSET_GFXSTREAM_MAGMA:
		field_u64(o, "protocol_version", c->u.gfxstream.protocol_version);
		field_u64(o, "ring_size", c->u.gfxstream.ring_size);
		field_u64(o, "buffer_size", c->u.gfxstream.buffer_size);
		field_u64(o, "blob_alignment", c->u.gfxstream.blob_alignment);
		break;
	case VGALLOC_CAPSET_CROSS_DOMAIN:
		field_u64(o, "version", c->u.cross_domain.version);
		field_u64(o, "supported_channels", c->u.cross_domain.supported_channels);
		field_u64(o, "supports_dmabuf", c->u.cross_domain.supports_dmabuf);
		field_u64(o, "supports_external_gpu_memory",
		          c->u.cross_domain.supports_external_gpu_memory);
		break;
	case VGALLOC_CAPSET_DRM:
		field_u64(o, "wire_format_version", c->u.drm.wire_format_version);
		snprintf(name, sizeof(name), "%u.%u.%u", c->u.drm.version_major,
		         c->u.drm.version_minor, c->u.drm.version_patchlevel);
		field_str(o, "drm_version", name);
		field_str(o, "context_type",
		          c->u.drm.context_type == 1   ? "msm"
		          : c->u.drm.context_type == 2 ? "amdgpu"
		                                       : "other");
		break;
	default:
		field_u64(o, "max_version", c->u.virgl.max_version);
		break;
	}
	if (o->json) {
		json_close('}');
	}
}

/* Venus is recognised by its layout; the other ids need --capset-id. */
static long infer_capset_id(const unsigned char *data, size_t size)
{
	uint32_t w0 = 0, blob0 = 0;

	if (size >= 20) {
		memcpy(&w0, data, 4);
		memcpy(&blob0, data + 16, 4);
	}
	if (size >= 148 && size <= 4096 && size % 4 == 0 && w0 && w0 < 1000 && blob0 <= 1) {
		return VGALLOC_CAPSET_VENUS;
	}
	if (size == 100 || size == 104) {
		return VGALLOC_CAPSET_GFXSTREAM_VULKAN;
	}
	if (size == 24) {
		return VGALLOC_CAPSET_DRM;
	}
	if (size == 308) {
		return VGALLOC_CAPSET_VIRGL;
	}
	if (size == 1384) {
		return VGALLOC_CAPSET_VIRGL2;
	}
	return -1;
}

static int decode_file(const struct options *o)
{
	struct vgalloc_capset_info info = { .struct_size = sizeof(info) };
	unsigned char data[4096];
	long id = o->capset_id;
	size_t size;
	FILE *f = fopen(o->capset_file, "rb");
	int ret;

	if (!f) {
		fprintf(stderr, "vgalloc-info: %s: %s\n", o->capset_file, strerror(errno));
		return 1;
	}
	size = fread(data, 1, sizeof(data), f);
	fclose(f);
	if (id < 0) {
		id = infer_capset_id(data, size);
		if (id < 0) {
			fprintf(stderr,
			        "vgalloc-info: cannot tell which capset %zu bytes are: pass "
			        "--capset-id\n",
			        size);
			return 1;
		}
	}
	ret = vgalloc_capset_parse((uint32_t)id, data, (uint32_t)size, VGALLOC_CAPSET_FROM_FILE,
	                           &info);
	if (ret) {
		fprintf(stderr, "vgalloc-info: %s as capset %ld (%s): %s\n", o->capset_file, id,
		        vgalloc_capset_name((uint32_t)id),
		        ret == -EINVAL ? "truncated"
		        : ret == -EIO  ? "invalid values"
		                       : strerror(-ret));
		return 1;
	}
	if (o->json) {
		json_open(NULL, '{');
		field_str(o, "file", o->capset_file);
		field_u64(o, "size", size);
		field_u64(o, "present_fields", info.present_fields);
		json_key("capset");
		json_first = true;
		print_capset(o, &info);
		json_close('}');
		putchar('\n');
	} else {
		printf("%s: %zu bytes\n", o->capset_file, size);
		print_capset(o, &info);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */

struct memory_class {
	const char *name;
	uint32_t type;
	uint64_t size;
	uint32_t flags;
	uint32_t exports;
	uint32_t allocate_flags;
};

static const struct memory_class classes[] = {
	{ "device-local", 0, 1 << 20, 0, 0, 0 },
	{ "host-visible coherent", 1, 65536, 0, 0, 0 },
	{ "host-visible cached", 2, 65536, 0, 0, 0 },
	{ "dma-buf export", 1, 65536, 0, VGALLOC_HANDLE_TYPE_DMA_BUF, 0 },
	{ "import", 1, 65536, VGALLOC_REQUEST_IMPORT_FD, 0, 0 },
	{ "device-address", 1, 65536, 0, 0, VGALLOC_ALLOCATE_DEVICE_ADDRESS },
};

static const char *blob_mem_name(uint32_t mem)
{
	static const char *const names[] = { "none", "GUEST", "HOST3D", "HOST3D_GUEST",
		                             "GUEST_VRAM" };

	return mem < sizeof(names) / sizeof(names[0]) ? names[mem] : "?";
}

static void print_steps(const struct options *o, const char *key, const uint32_t *steps, uint32_t n)
{
	char line[256] = "";
	size_t len = 0;

	if (o->json) {
		json_open(key, '[');
		for (uint32_t i = 0; i < n; i++) {
			printf("%s", i ? "," : "");
			json_string(vgalloc_step_name(steps[i]));
		}
		json_close(']');
		return;
	}
	for (uint32_t i = 0; i < n && len < sizeof(line); i++) {
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s", i ? ", " : "",
		                        vgalloc_step_name(steps[i]));
	}
	field_str(o, key, n ? line : "-");
}

static void print_plan(const struct options *o, struct vgalloc_device *dev,
                       const struct memory_class *c)
{
	struct vgalloc_request req = {
		.struct_size = sizeof(req),
		.memory_type = c->type,
		.size = c->size,
		.flags = c->flags,
		.export_handle_types = c->exports,
		.allocate_flags = c->allocate_flags,
		.import_fd = 0, /* planning only: the fd is never touched */
	};
	struct vgalloc_plan plan = { .struct_size = sizeof(plan) };
	char why[4096], flags[64];
	int ret = vgalloc_plan_request(dev, &req, &plan);

	if (ret) {
		fprintf(stderr, "vgalloc-info: planning %s failed: %s\n", c->name, strerror(-ret));
		return;
	}
	vgalloc_plan_explain(dev, &req, why, sizeof(why));
	snprintf(flags, sizeof(flags), "0x%x%s%s%s", plan.blob_flags,
	         plan.blob_flags & VGALLOC_BLOB_FLAG_MAPPABLE ? " MAPPABLE" : "",
	         plan.blob_flags & VGALLOC_BLOB_FLAG_SHAREABLE ? " SHAREABLE" : "",
	         plan.blob_flags & VGALLOC_BLOB_FLAG_CROSS_DEVICE ? " CROSS_DEVICE" : "");
	if (o->json) {
		json_open(NULL, '{');
		field_str(o, "class", c->name);
	} else {
		printf("\n[%s] %llu bytes, host memory type %u\n", c->name,
		       (unsigned long long)c->size, c->type);
	}
	field_str(o, "path", vgalloc_path_name(plan.path));
	field_str(o, "blob_mem", blob_mem_name(plan.blob_mem));
	field_str(o, "blob_flags", flags);
	field_u64(o, "size", plan.size);
	field_u64(o, "alignment", plan.alignment);
	field_str(o, "suballocate", plan.suballocate ? "yes" : "no");
	if (plan.suballocate) {
		char key[32];

		snprintf(key, sizeof(key), "0x%llx", (unsigned long long)plan.pool_key);
		field_str(o, "pool_key", key);
	}
	print_steps(o, "steps at alloc", plan.alloc_steps, plan.alloc_step_count);
	print_steps(o, "steps at first map", plan.map_steps, plan.map_step_count);
	if (o->json) {
		field_str(o, "reasons", why);
		json_close('}');
	} else {
		printf("  reasons:\n");
		/* The device's own lines were printed once above. */
		for (char *line = strtok(why, "\n"); line; line = strtok(NULL, "\n")) {
			if (strncmp(line, "device:", 7) && strncmp(line, "blob alignment:", 15)) {
				printf("    %s\n", line);
			}
		}
	}
}

static int describe_device(const struct options *o)
{
	static const char *const flavours[] = { "upstream", "chromeos", "gfxstream" };
	struct vgalloc_mock_create_info mi = {
		.struct_size = sizeof(mi),
		.profile = strcmp(o->profile, "static") ? VGALLOC_MOCK_PROFILE_INJECTING
		                                        : VGALLOC_MOCK_PROFILE_STATIC,
	};
	struct vgalloc_memory_type types[3];
	struct vgalloc_host_hooks hooks;
	struct vgalloc_device_create_info ci = {
		.struct_size = sizeof(ci),
		.backend = VGALLOC_BACKEND_MOCK,
		.mode = VGALLOC_DEVICE_MODE_OWN,
		.capset_id = VGALLOC_CAPSET_VENUS,
		.memory_types = types,
		.memory_type_count = 3,
		.hooks = &hooks,
	};
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mock *mock = NULL;
	uint64_t ids = 0;
	int ret;

	memset(types, 0, sizeof(types));
	for (uint32_t i = 0; i < 3; i++) {
		types[i].struct_size = sizeof(types[i]);
		types[i].host_index = i;
		types[i].property_flags = VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL;
		types[i].min_map_alignment = 64;
		types[i].flags = VGALLOC_MEMORY_TYPE_OPTIMAL_IMAGES;
	}
	types[1].property_flags |=
	        VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE | VGALLOC_MEMORY_PROPERTY_HOST_COHERENT;
	types[2].property_flags |= VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
	                           VGALLOC_MEMORY_PROPERTY_HOST_COHERENT |
	                           VGALLOC_MEMORY_PROPERTY_HOST_CACHED;
	/* The real device first: own mode, its Venus capset, the init self-test. Without a
	 * Venus encoder there are no host hooks: plans are explained, nothing is allocated. */
	ret = -ENODEV;
	if (strcmp(o->backend, "mock")) {
		struct vgalloc_device_create_info vi = ci;

		vi.backend = VGALLOC_BACKEND_VIRTGPU;
		vi.flags = VGALLOC_DEVICE_SELF_TEST;
		vi.hooks = NULL;
		vi.debug_name = "vgalloc-info";
		ret = vgalloc_device_create(&vi, &dev);
		if (ret && !strcmp(o->backend, "virtgpu")) {
			fprintf(stderr, "vgalloc-info: virtio-gpu device: %s\n", strerror(-ret));
			return 1;
		}
		if (ret && !o->json) {
			printf("no usable virtio-gpu device (%s): using the mock\n",
			       strerror(-ret));
		}
	}
	if (ret) {
		ret = vgalloc_mock_create(&mi, &mock);
		if (!ret) {
			ret = vgalloc_mock_get_hooks(mock, 0, &hooks);
		}
		if (!ret) {
			ci.backend_object = mock;
			ret = vgalloc_device_create(&ci, &dev);
		}
		if (ret) {
			fprintf(stderr, "vgalloc-info: device create failed: %s\n", strerror(-ret));
			vgalloc_mock_destroy(mock);
			return 1;
		}
	}
	vgalloc_device_get_info(dev, &di);
	if (o->json) {
		json_open(NULL, '{');
		json_open("device", '{');
	} else if (mock) {
		printf("device (mock backend, %s hypervisor profile; no virtio-gpu device is "
		       "used)\n",
		       o->profile);
	} else {
		printf("device (virtio-gpu render node %d, own mode, self-test passed)\n",
		       vgalloc_device_get_fd(dev));
	}
	field_str(o, "backend", mock ? "mock" : "virtgpu");
	if (mock) {
		field_str(o, "profile", o->profile);
	}
	field_str(o, "mode", di.mode == VGALLOC_DEVICE_MODE_OWN ? "own" : "adopt");
	field_str(o, "flavour", di.flavour < 3 ? flavours[di.flavour] : "?");
	field_str(o, "alloc_mode",
	          di.alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST ? "guest-first" : "host-first");
	field_u64(o, "blob_alignment", di.blob_alignment);
	field_str(o, "context capset", vgalloc_capset_name(di.capset_id));
	field_u64(o, "max_suballoc_size", di.max_suballoc_size);
	if (o->json) {
		json_close('}');
		json_open("params", '{');
	} else {
		printf("params:\n");
	}
	for (uint32_t p = 1; p <= VGALLOC_PARAM_MAX; p++) {
		const char *name = vgalloc_param_name(di.flavour, p);
		uint64_t v;

		if (!name) {
			continue;
		}
		if (vgalloc_device_get_param(dev, p, &v)) {
			field_str(o, name, "absent");
		} else {
			if (p == VGALLOC_PARAM_SUPPORTED_CAPSET_IDS) {
				ids = v;
			}
			field_u64(o, name, v);
		}
	}
	if (o->json) {
		json_close('}');
		json_open("capsets", '[');
	}
	for (uint32_t id = 1; id < 64; id++) {
		struct vgalloc_capset_info info = { .struct_size = sizeof(info) };

		if (!(ids & (1ull << id))) {
			continue;
		}
		if (!o->json) {
			printf("\n");
		}
		ret = vgalloc_device_read_capset(dev, id, &info);
		if (ret) {
			if (!o->json) {
				printf("capset %u (%s): %s\n", id, vgalloc_capset_name(id),
				       strerror(-ret));
			}
			continue;
		}
		print_capset(o, &info);
	}
	if (o->json) {
		json_close(']');
		json_open("plans", '[');
	} else {
		char text[1024];

		printf("\n");
		vgalloc_plan_explain(dev, NULL, text, sizeof(text));
		printf("%s", text);
	}
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		print_plan(o, dev, &classes[i]);
	}
	vgalloc_device_get_stats(dev, &st);
	if (o->json) {
		json_close(']');
		json_open("stats", '{');
	} else {
		printf("\nstatistics:\n");
	}
	field_u64(o, "blobs_live", st.blobs_live);
	field_u64(o, "window_bytes", st.window_bytes);
	field_u64(o, "mems_live", st.mems_live);
	field_u64(o, "pools", st.pools);
	field_u64(o, "blocks", st.blocks);
	field_u64(o, "block_bytes", st.block_bytes);
	field_u64(o, "retained_bytes", st.retained_bytes);
	field_u64(o, "suballocs_live", st.suballocs_live);
	field_u64(o, "retain_cap_bytes", di.retain_bytes);
	field_u64(o, "min_block_size", di.min_block_size);
	field_u64(o, "max_block_size", di.max_block_size);
	field_u64(o, "backend_calls", st.backend_calls);
	field_u64(o, "hook_calls", st.hook_calls);
	if (o->json) {
		json_close('}');
		json_close('}');
		putchar('\n');
	}
	vgalloc_device_destroy(dev);
	vgalloc_mock_destroy(mock);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .backend = "auto", .profile = "injecting", .capset_id = -1 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			o.json = true;
		} else if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
			o.backend = argv[++i];
			if (strcmp(o.backend, "auto") && strcmp(o.backend, "virtgpu") &&
			    strcmp(o.backend, "mock")) {
				usage(stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
			o.profile = argv[++i];
			o.backend = strcmp(o.backend, "auto") ? o.backend : "mock";
			if (strcmp(o.profile, "injecting") && strcmp(o.profile, "static")) {
				usage(stderr);
				return 2;
			}
		} else if (!strcmp(argv[i], "--capset") && i + 1 < argc) {
			o.capset_file = argv[++i];
		} else if (!strcmp(argv[i], "--capset-id") && i + 1 < argc) {
			o.capset_id = strtol(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	return o.capset_file ? decode_file(&o) : describe_device(&o);
}
