/* SPDX-License-Identifier: MIT */
/*
 * vgalloc-info: what a user asks first. The device, its params by name, every capset decoded, the
 * blob alignment, and for each memory class the plan the policy chose with its reasons, as text
 * or JSON; the decoding of a raw capset file; and, for a captured capset, what guests would do on
 * the host that sent it (a mock device seeded with it).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_capset.h"
#include "vgalloc/vgalloc_diag.h"
#include "vgalloc/vgalloc_mock.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes: 0 done, 1 failed (or a what-if trial failed), 2 usage (an id that must be given). */
enum {
	EXIT_USAGE = 2
};

struct options {
	const char *backend; /* auto, virtgpu or mock */
	const char *profile;
	bool profile_given;
	const char *capset_file;
	long capset_id; /* -1: not given */
	bool json;
	bool what_if;
};

static void print_id_rules(FILE *f);

static void usage(FILE *f)
{
	fprintf(f, "usage: vgalloc-info [--json] [--backend auto|virtgpu|mock]"
	           " [--profile injecting|static]\n"
	           "       vgalloc-info [--json] --capset FILE [--capset-id N]\n"
	           "       vgalloc-info [--json] --what-if --capset FILE [--capset-id N]\n"
	           "                    [--profile injecting|static]\n"
	           "\n"
	           "Device: --backend auto (the default) opens the virtio-gpu render node with\n"
	           "the Venus capset and falls back to the mock (--profile, default injecting)\n"
	           "when there is none.\n"
	           "\n"
	           "--capset FILE decodes a raw capset (the bytes a host sends, exact length,\n"
	           "at most 4096). A file carries no id: --capset-id N states it (confidence:\n"
	           "certain). Without it the id is inferred only when exactly one of these\n"
	           "content rules fits the bytes (confidence: probable; the output names the\n"
	           "rule):\n");
	print_id_rules(f);
	fprintf(f, "Nothing else is inferred, whatever its size: cross-domain (5), drm (6) and\n"
	           "gfxstream magma/gles/composer (7-9) are a few small words that the start of\n"
	           "any capset matches, and a file cut short can have any size. Then, or when\n"
	           "several rules fit, vgalloc-info names the candidates and exits 2: pass\n"
	           "--capset-id.\n"
	           "\n"
	           "--what-if (with --capset): what would guests do on the host that sent FILE?\n"
	           "A mock device whose host reports FILE as its context capset (venus or\n"
	           "gfxstream-vulkan), on the hypervisor profile the capset implies (static\n"
	           "when a Venus capset says use_guest_vram = 1 as a guest reads it, else\n"
	           "injecting; --profile fixes one), prints the allocation mode, its reason and\n"
	           "each memory class's plan, and tries each plan once on the mock (alloc,\n"
	           "first map, a write, free).\n"
	           "\n"
	           "Exit: 0 done; 1 failed (unreadable or invalid capset, no device, a what-if\n"
	           "trial failed); 2 usage (including a capset id that must be given).\n");
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

/* ------------------------------------------------------------------------------------------ */
/*
 * Which capset a file holds. A file carries no id and its size proves little: any capset cut short
 * can have any size, and the short layouts (cross-domain, DRM, gfxstream GLES/composer/magma) are
 * a few small words that the start of any capset matches. So --capset-id is the certain way, and
 * without it an id is inferred only from content that one layout alone has, never silently: the
 * output names the rule and says "probable".
 */

#define CAPSET_FILE_MAX 4096u
/* Venus grew at 148 (allow_vk_wait_syncs): no host ever sent fewer bytes. */
#define VENUS_MIN_SIZE 148u
/* gfxstream Vulkan has sent at least its 100-byte layout (before batched descriptor updates). */
#define GFXSTREAM_VULKAN_MIN_SIZE 100u

static uint32_t word_at(const unsigned char *data, size_t size, size_t index)
{
	uint32_t w = 0;

	if ((index + 1) * 4 <= size) {
		memcpy(&w, data + index * 4, sizeof(w));
	}
	return w;
}

/* VK_MAKE_API_VERSION(0, 1, minor, patch), in [4 MiB, 8 MiB) as a number: Venus's word 1
 * (vk_xml_version) always is one; gfxstream's word 1 is its ring size (12 KiB on known hosts). */
static bool is_vulkan_1x(uint32_t v)
{
	return (v >> 29) == 0 && ((v >> 22) & 0x7f) == 1;
}

static bool venus_head(const unsigned char *d, size_t n)
{
	return n >= 8 && is_vulkan_1x(word_at(d, n, 1));
}

static bool fits_venus(const unsigned char *d, size_t n)
{
	return venus_head(d, n) && n >= VENUS_MIN_SIZE && n % 4 == 0 && word_at(d, n, 4) <= 1;
}

static bool fits_gfxstream_vulkan(const unsigned char *d, size_t n)
{
	uint32_t align = word_at(d, n, 5);

	/* colorBufferMemoryIndex is a Vulkan memory type index (VK_MAX_MEMORY_TYPES = 32); then
	 * blobAlignment and the flags deferredMapping, noRenderControlEnc, alwaysBlob, externalSync. */
	return n >= GFXSTREAM_VULKAN_MIN_SIZE && n % 4 == 0 && !venus_head(d, n) &&
	       word_at(d, n, 3) < 32 &&
	       (align == 0 || (align >= 4096 && align <= (1u << 20) && !(align & (align - 1)))) &&
	       word_at(d, n, 4) <= 1 && word_at(d, n, 6) <= 1 && word_at(d, n, 7) <= 1 &&
	       word_at(d, n, 8) <= 1;
}

/* virgl caps v1 and v2 are fixed-size structs whose first word is the version they are. */
static bool fits_virgl(const unsigned char *d, size_t n)
{
	return n == 308 && word_at(d, n, 0) == 1;
}

static bool fits_virgl2(const unsigned char *d, size_t n)
{
	return n == 1384 && word_at(d, n, 0) == 2;
}

struct id_rule {
	uint32_t id;
	const char *text; /* printed by usage() and with an inferred id */
	bool (*fits)(const unsigned char *data, size_t size);
};

static const struct id_rule id_rules[] = {
	{ VGALLOC_CAPSET_VENUS,
	  "148..4096 bytes, a multiple of 4, word 1 a Vulkan 1.x version, word 4 0 or 1",
	  fits_venus },
	{ VGALLOC_CAPSET_GFXSTREAM_VULKAN,
	  "100..4096 bytes, a multiple of 4, word 1 no Vulkan version, word 3 < 32, word 5 0 or a "
	  "power of two in 4096..1048576, words 4 and 6..8 0 or 1",
	  fits_gfxstream_vulkan },
	{ VGALLOC_CAPSET_VIRGL, "exactly 308 bytes, word 0 (max_version) 1", fits_virgl },
	{ VGALLOC_CAPSET_VIRGL2, "exactly 1384 bytes, word 0 (max_version) 2", fits_virgl2 },
};

/* The layouts never inferred, by the size this library knows for them (for the hint only). */
static const struct {
	uint32_t id;
	uint32_t size;
} never_inferred[] = {
	{ VGALLOC_CAPSET_CROSS_DOMAIN, 16 },
	{ VGALLOC_CAPSET_DRM, 20 },
	{ VGALLOC_CAPSET_DRM, 24 },
	{ VGALLOC_CAPSET_GFXSTREAM_MAGMA, 16 },
	{ VGALLOC_CAPSET_GFXSTREAM_GLES, 16 },
	{ VGALLOC_CAPSET_GFXSTREAM_COMPOSER, 16 },
};

static void print_id_rules(FILE *f)
{
	for (size_t i = 0; i < ARRAY_LEN(id_rules); i++) {
		char name[32];

		const char *text = id_rules[i].text;

		snprintf(name, sizeof(name), "%s (%u)", vgalloc_capset_name(id_rules[i].id),
		         id_rules[i].id);
		/* Wrapped at a space to 80 columns, under a 23-column hanging indent. */
		while (text) {
			const char *end = text + strlen(text), *cut = end;

			if (end - text > 57) {
				for (cut = text + 57; cut > text && *cut != ' '; cut--) {
				}
			}
			fprintf(f, "  %-20s %.*s\n", name, (int)(cut - text), text);
			name[0] = '\0';
			text = cut < end ? cut + 1 : NULL;
		}
	}
}

struct id_choice {
	uint32_t id;
	const struct id_rule *rule; /* NULL: given with --capset-id */
};

/* Return 0 with the id chosen, or EXIT_USAGE after saying why the id must be given. */
static int choose_capset_id(const struct options *o, const unsigned char *d, size_t n,
                            struct id_choice *c)
{
	const struct id_rule *fit[ARRAY_LEN(id_rules)];
	size_t count = 0;

	if (o->capset_id >= 0) {
		c->id = (uint32_t)o->capset_id;
		c->rule = NULL;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_LEN(id_rules); i++) {
		if (id_rules[i].fits(d, n)) {
			fit[count++] = &id_rules[i];
		}
	}
	if (count == 1) {
		c->id = fit[0]->id;
		c->rule = fit[0];
		return 0;
	}
	fprintf(stderr,
	        "vgalloc-info: %s: %zu bytes: which capset this is cannot be inferred; "
	        "pass --capset-id N (rules: --help)\n",
	        o->capset_file, n);
	for (size_t i = 0; i < count; i++) {
		fprintf(stderr, "  fits the %s (%u) rule: %s\n", vgalloc_capset_name(fit[i]->id),
		        fit[i]->id, fit[i]->text);
	}
	if (count == 0 && venus_head(d, n)) {
		uint32_t v = word_at(d, n, 1);

		fprintf(stderr,
		        "  word 1 is Vulkan %u.%u.%u, as at the start of a venus (4) capset,\n"
		        "  but no Venus capset is shorter than %u bytes: cut short?\n",
		        (v >> 22) & 0x7f, (v >> 12) & 0x3ff, v & 0xfff, VENUS_MIN_SIZE);
	}
	for (size_t i = 0; i < ARRAY_LEN(never_inferred); i++) {
		if (never_inferred[i].size == n) {
			fprintf(stderr,
			        "  %zu bytes is the size of a %s (%u) capset, an id never "
			        "inferred\n",
			        n, vgalloc_capset_name(never_inferred[i].id), never_inferred[i].id);
		}
	}
	return EXIT_USAGE;
}

static void print_id_choice(const struct options *o, const struct id_choice *c)
{
	char rule[512];

	if (c->rule) {
		snprintf(rule, sizeof(rule), "%s: %s", vgalloc_capset_name(c->id), c->rule->text);
	}
	if (o->json) {
		json_open("id_choice", '{');
		field_u64(o, "id", c->id);
		field_str(o, "name", vgalloc_capset_name(c->id));
		field_str(o, "from", c->rule ? "inferred" : "--capset-id");
		field_str(o, "rule", c->rule ? rule : "given");
		field_str(o, "confidence", c->rule ? "probable" : "certain");
		json_close('}');
	} else if (c->rule) {
		printf("capset id %u (%s): inferred, confidence probable; --capset-id %u makes it "
		       "certain\n  by the rule %s\n",
		       c->id, vgalloc_capset_name(c->id), c->id, rule);
	} else {
		printf("capset id %u (%s): given by --capset-id, confidence certain\n", c->id,
		       vgalloc_capset_name(c->id));
	}
}

/* Read FILE whole. Return 0, or 1 after saying why. */
static int load_capset(const struct options *o, unsigned char *data, size_t *size)
{
	FILE *f = fopen(o->capset_file, "rb");
	int err;

	if (!f) {
		fprintf(stderr, "vgalloc-info: %s: %s\n", o->capset_file, strerror(errno));
		return 1;
	}
	/* One byte more than the limit, so that a longer file is refused, not silently cut. */
	*size = fread(data, 1, CAPSET_FILE_MAX + 1, f);
	err = ferror(f);
	fclose(f);
	if (err) {
		fprintf(stderr, "vgalloc-info: %s: read error\n", o->capset_file);
		return 1;
	}
	if (*size == 0 || *size > CAPSET_FILE_MAX) {
		fprintf(stderr, "vgalloc-info: %s: %s: not a capset\n", o->capset_file,
		        *size ? "more than 4096 bytes" : "empty");
		return 1;
	}
	return 0;
}

/* Parse as the chosen id. Return 0, or 1 after saying why. */
static int parse_capset(const struct options *o, const unsigned char *data, size_t size,
                        uint32_t id, struct vgalloc_capset_info *info)
{
	int ret = vgalloc_capset_parse(id, data, (uint32_t)size, VGALLOC_CAPSET_FROM_FILE, info);

	if (ret) {
		fprintf(stderr, "vgalloc-info: %s as capset %u (%s): %s\n", o->capset_file, id,
		        vgalloc_capset_name(id),
		        ret == -EINVAL       ? "truncated"
		        : ret == -EIO        ? "invalid values"
		        : ret == -EOPNOTSUPP ? "no layout known for this id"
		                             : strerror(-ret));
		return 1;
	}
	return 0;
}

/* --capset FILE: its bytes, the id they are taken as (and why), and the decoding. */
static int read_capset_file(const struct options *o, unsigned char data[CAPSET_FILE_MAX + 1],
                            size_t *size, struct id_choice *choice,
                            struct vgalloc_capset_info *info)
{
	int ret = load_capset(o, data, size);

	if (!ret) {
		ret = choose_capset_id(o, data, *size, choice);
	}
	if (!ret) {
		ret = parse_capset(o, data, *size, choice->id, info);
	}
	return ret;
}

static int decode_file(const struct options *o)
{
	struct vgalloc_capset_info info = { .struct_size = sizeof(info) };
	unsigned char data[CAPSET_FILE_MAX + 1];
	struct id_choice choice;
	size_t size = 0;
	int ret;

	ret = read_capset_file(o, data, &size, &choice, &info);
	if (ret) {
		return ret;
	}
	if (o->json) {
		json_open(NULL, '{');
		field_str(o, "file", o->capset_file);
		field_u64(o, "size", size);
		print_id_choice(o, &choice);
		field_u64(o, "present_fields", info.present_fields);
		json_key("capset");
		json_first = true;
		print_capset(o, &info);
		json_close('}');
		putchar('\n');
	} else {
		printf("%s: %zu bytes\n", o->capset_file, size);
		print_id_choice(o, &choice);
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

static struct vgalloc_request class_request(const struct memory_class *c)
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

	return req;
}

/* trial: what happened when the plan was tried on the mock, or NULL (not tried). */
static void print_plan(const struct options *o, struct vgalloc_device *dev,
                       const struct memory_class *c, const char *trial)
{
	struct vgalloc_request req = class_request(c);
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
	if (trial) {
		field_str(o, "trial", trial);
	}
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

/* The three host memory types every mode plans for: device-local, + coherent, + cached. */
static void fill_memory_types(struct vgalloc_memory_type types[3])
{
	memset(types, 0, 3 * sizeof(types[0]));
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
}

/* ------------------------------------------------------------------------------------------ */
/*
 * What-if: a guest on the host that sent FILE. The mock's default profile follows the Venus capset
 * it is given (static when use_guest_vram = 1, as on a hypervisor that cannot inject host pages),
 * so the library decides as on that host and each plan can be tried on a consistent model.
 */

static const char *mode_reason_name(uint32_t reason)
{
	static const char *const names[] = { "?",      "env",  "override", "guest-vram",
		                             "capset", "hint", "default" };

	return reason < ARRAY_LEN(names) ? names[reason] : "?";
}

/* From vgalloc_plan_explain's device lines, "device: <mode> — <reason>" and "blob alignment: <n>
 * (from <source>)": the reason and the source. */
static void device_reasons(struct vgalloc_device *dev, char *reason, char *source, size_t size)
{
	char text[1024];
	const char *p, *end;

	reason[0] = '\0';
	source[0] = '\0';
	vgalloc_plan_explain(dev, NULL, text, sizeof(text));
	p = strstr(text, " — ");
	if (p) {
		p += strlen(" — ");
		end = strchr(p, '\n');
		snprintf(reason, size, "%.*s", (int)(end ? (size_t)(end - p) : strlen(p)), p);
	}
	p = strstr(text, "blob alignment: ");
	p = p ? strstr(p, "(from ") : NULL;
	if (p) {
		p += strlen("(from ");
		end = strchr(p, ')');
		snprintf(source, size, "%.*s", (int)(end ? (size_t)(end - p) : strlen(p)), p);
	}
}

/* Allocate one request of the class, map and write it when host-visible, free it.
 * Return: 0 ok, 1 failed, -1 not tried; buf says which. */
static int try_plan(struct vgalloc_device *dev, const struct vgalloc_memory_type *types,
                    const struct memory_class *c, char *buf, size_t size)
{
	struct vgalloc_request req = class_request(c);
	struct vgalloc_mem *mem = NULL;
	void *ptr = NULL;
	int ret;

	if (c->flags & VGALLOC_REQUEST_IMPORT_FD) {
		snprintf(buf, size, "not tried (an import needs another device's dma-buf)");
		return -1;
	}
	ret = vgalloc_mem_alloc(dev, &req, &mem);
	if (ret) {
		snprintf(buf, size, "FAILED at alloc: %s", strerror(-ret));
		return 1;
	}
	if (!(types[c->type].property_flags & VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE)) {
		snprintf(buf, size, "ok (alloc, free; not host-visible)");
	} else if ((ret = vgalloc_mem_map(dev, mem, &ptr)) != 0) {
		snprintf(buf, size, "FAILED at first map: %s", strerror(-ret));
	} else {
		memset(ptr, 0x5a, c->size);
		snprintf(buf, size, "ok (alloc, first map, write, free)");
	}
	if (vgalloc_mem_free(dev, mem) && !ret) {
		snprintf(buf, size, "FAILED at free");
		ret = -EIO;
	}
	return ret ? 1 : 0;
}

static int what_if(const struct options *o)
{
	struct vgalloc_capset_info info = { .struct_size = sizeof(info) };
	struct vgalloc_capset_info seen = { .struct_size = sizeof(seen) };
	struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi) };
	struct vgalloc_memory_type types[3];
	struct vgalloc_host_hooks hooks;
	struct vgalloc_device_create_info ci = {
		.struct_size = sizeof(ci),
		.backend = VGALLOC_BACKEND_MOCK,
		.mode = VGALLOC_DEVICE_MODE_OWN,
		.memory_types = types,
		.memory_type_count = 3,
		.hooks = &hooks,
		.debug_name = "vgalloc-info what-if",
	};
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_mock_ledger ledger = { .struct_size = sizeof(ledger) };
	struct vgalloc_device *dev = NULL;
	struct vgalloc_mock *mock = NULL;
	unsigned char data[CAPSET_FILE_MAX + 1];
	char reason[512], align_source[512], profile_from[160], note[160] = "";
	struct id_choice choice;
	bool venus, static_profile;
	unsigned tried = 0, failed = 0, skipped = 0;
	size_t size = 0;
	int ret;

	ret = read_capset_file(o, data, &size, &choice, &info);
	if (ret) {
		return ret;
	}
	venus = choice.id == VGALLOC_CAPSET_VENUS;
	if (!venus && choice.id != VGALLOC_CAPSET_GFXSTREAM_VULKAN) {
		fprintf(stderr,
		        "vgalloc-info: --what-if models a Vulkan context: it needs a venus (4) or "
		        "gfxstream-vulkan (3) capset, not %s (%u)\n",
		        vgalloc_capset_name(choice.id), choice.id);
		return EXIT_USAGE;
	}

	/* The host: only this capset, served byte for byte; the profile follows it unless given. */
	if (o->profile_given) {
		mi.profile = strcmp(o->profile, "static") ? VGALLOC_MOCK_PROFILE_INJECTING
		                                          : VGALLOC_MOCK_PROFILE_STATIC;
	} else {
		mi.profile = VGALLOC_MOCK_PROFILE_FROM_CAPSET;
	}
	mi.supported_capsets = 1u << choice.id;
	ret = vgalloc_mock_create(&mi, &mock);
	if (!ret) {
		ret = vgalloc_mock_set_capset(mock, choice.id, 0, data, (uint32_t)size);
	}
	if (!ret) {
		ret = vgalloc_mock_get_hooks(mock, 0, &hooks);
	}
	if (!ret) {
		fill_memory_types(types);
		ci.capset_id = choice.id;
		ci.backend_object = mock;
		ret = vgalloc_device_create(&ci, &dev);
		if (ret) {
			fprintf(stderr,
			        "vgalloc-info: a guest's device creation fails on this host: %s\n",
			        strerror(-ret));
			vgalloc_mock_destroy(mock);
			return 1;
		}
	}
	if (ret) {
		fprintf(stderr, "vgalloc-info: mock host: %s\n", strerror(-ret));
		vgalloc_mock_destroy(mock);
		return 1;
	}
	vgalloc_device_get_info(dev, &di);
	vgalloc_mock_get_ledger(mock, &ledger);
	/* What a guest reads: the device's zero-filled copy, not the file's exact bytes. */
	if (vgalloc_device_read_capset(dev, choice.id, &seen)) {
		memset(&seen, 0, sizeof(seen));
	}
	static_profile = ledger.profile == VGALLOC_MOCK_PROFILE_STATIC;
	if (o->profile_given) {
		snprintf(profile_from, sizeof(profile_from), "--profile");
	} else if (venus) {
		snprintf(profile_from, sizeof(profile_from), "the capset: use_guest_vram = %u",
		         seen.u.venus.use_guest_vram);
	} else {
		snprintf(profile_from, sizeof(profile_from), "the capset: no Venus use_guest_vram");
	}
	if (venus && size < offsetof(struct vgalloc_capset_venus, use_guest_vram) + 4) {
		snprintf(note, sizeof(note),
		         "use_guest_vram (byte %zu) is past the file's %zu bytes: a guest reads 0",
		         offsetof(struct vgalloc_capset_venus, use_guest_vram), size);
	}
	device_reasons(dev, reason, align_source, sizeof(reason));

	if (o->json) {
		json_open(NULL, '{');
		field_str(o, "file", o->capset_file);
		field_u64(o, "size", size);
		print_id_choice(o, &choice);
		json_key("capset");
		json_first = true;
		print_capset(o, &info);
		json_open("host", '{');
	} else {
		printf("what-if: a guest on the host that sent %s (%zu bytes)\n", o->capset_file,
		       size);
		print_id_choice(o, &choice);
		print_capset(o, &info);
		printf("host (mock backend seeded with this capset; no virtio-gpu device is "
		       "used):\n");
	}
	field_str(o, "backend", "mock");
	field_str(o, "profile", static_profile ? "static" : "injecting");
	field_str(o, "profile_from", profile_from);
	if (note[0]) {
		field_str(o, "note", note);
	}
	if (o->json) {
		json_close('}');
		json_open("device", '{');
	} else {
		printf("guest device:\n");
	}
	field_str(o, "alloc_mode",
	          di.alloc_mode == VGALLOC_ALLOC_MODE_GUEST_FIRST ? "guest-first" : "host-first");
	field_str(o, "mode_reason", mode_reason_name(di.mode_reason));
	field_str(o, "reason", reason);
	field_str(o, "context capset", vgalloc_capset_name(di.capset_id));
	field_u64(o, "blob_alignment", di.blob_alignment);
	field_str(o, "blob_alignment_from", align_source);
	field_u64(o, "max_suballoc_size", di.max_suballoc_size);
	if (o->json) {
		json_close('}');
		json_open("plans", '[');
	}
	for (size_t i = 0; i < ARRAY_LEN(classes); i++) {
		char trial[160];
		int r = try_plan(dev, types, &classes[i], trial, sizeof(trial));

		tried += r >= 0;
		failed += r > 0;
		skipped += r < 0;
		print_plan(o, dev, &classes[i], trial);
	}
	vgalloc_device_destroy(dev);
	vgalloc_mock_get_ledger(mock, &ledger);
	vgalloc_mock_destroy(mock);
	if (o->json) {
		json_close(']');
		json_open("trials", '{');
	} else {
		printf("\ntrials on the mock:\n");
	}
	field_u64(o, "tried", tried);
	field_u64(o, "failed", failed);
	field_u64(o, "not_tried", skipped);
	field_u64(o, "order_violations", ledger.order_violations);
	field_u64(o, "leaked_blobs", ledger.live_blobs);
	if (o->json) {
		json_close('}');
		json_close('}');
		putchar('\n');
	}
	return failed || ledger.order_violations || ledger.live_blobs ? 1 : 0;
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

	fill_memory_types(types);
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
		print_plan(o, dev, &classes[i], NULL);
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
	char *end;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			o.json = true;
		} else if (!strcmp(argv[i], "--backend") && i + 1 < argc) {
			o.backend = argv[++i];
			if (strcmp(o.backend, "auto") && strcmp(o.backend, "virtgpu") &&
			    strcmp(o.backend, "mock")) {
				usage(stderr);
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
			o.profile = argv[++i];
			o.profile_given = true;
			o.backend = strcmp(o.backend, "auto") ? o.backend : "mock";
			if (strcmp(o.profile, "injecting") && strcmp(o.profile, "static")) {
				usage(stderr);
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--capset") && i + 1 < argc) {
			o.capset_file = argv[++i];
		} else if (!strcmp(argv[i], "--capset-id") && i + 1 < argc) {
			/* Capset ids live in a 64-bit mask: 1..63. */
			o.capset_id = strtol(argv[++i], &end, 0);
			if (*argv[i] == '\0' || *end != '\0' || o.capset_id < 1 ||
			    o.capset_id > 63) {
				fprintf(stderr,
				        "vgalloc-info: --capset-id %s: not an id in 1..63\n",
				        argv[i]);
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--what-if")) {
			o.what_if = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (o.what_if && !o.capset_file) {
		fprintf(stderr, "vgalloc-info: --what-if needs --capset FILE\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!o.capset_file) {
		return describe_device(&o);
	}
	return o.what_if ? what_if(&o) : decode_file(&o);
}
