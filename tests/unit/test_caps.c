/* SPDX-License-Identifier: MIT */
/*
 * Capset parsing against the recorded host capsets of tests/fixtures/capsets/: exact field values,
 * every truncation of every fixture read from a file and from a zero-filled device buffer, values
 * no host sends, what a Venus capset's bytes do to a device's allocation order, and the names.
 * Covers: vgalloc_capset_parse, vgalloc_capset_name, vgalloc_param_name, vgalloc_device_create
 * and vgalloc_device_get_info (Venus capset bytes only).
 */
#include "../harness.h"

#ifndef VGALLOC_FIXTURES_DIR
#define VGALLOC_FIXTURES_DIR "tests/fixtures/capsets"
#endif

/* The device reads into a zero-filled buffer of this size (GET_CAPS reports no length). */
#define DEVICE_BUF 4096u
/* u32 words a parsed info can hold. */
#define INFO_WORDS   ((uint32_t)(sizeof(((struct vgalloc_capset_info *)0)->u) / 4))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* vk_xml_version 1.4.309 as (major << 22) | (minor << 12) | patch. */
#define VK_XML_1_4_309 ((1u << 22) | (4u << 12) | 309u)

/* What the header documents per id: the shortest file accepted and the newest layout known. */
struct layout_fact {
	uint32_t id;
	uint32_t min_size;
	uint32_t layout_size;
};

static const struct layout_fact layout_facts[] = {
	{ VGALLOC_CAPSET_VIRGL, 4, 308 },
	{ VGALLOC_CAPSET_VIRGL2, 4, 1384 },
	/* Every gfxstream Vulkan host sends up to virglSupportedFormats; 104 adds batched updates. */
	{ VGALLOC_CAPSET_GFXSTREAM_VULKAN, 100, 104 },
	/* Venus hosts before allow_vk_wait_syncs (@148) send 148 bytes; version 0 is 160. */
	{ VGALLOC_CAPSET_VENUS, 148, 160 },
	{ VGALLOC_CAPSET_CROSS_DOMAIN, 16, 16 },
	/* The DRM head (20 bytes) plus one reserved word. */
	{ VGALLOC_CAPSET_DRM, 20, 24 },
	{ VGALLOC_CAPSET_GFXSTREAM_MAGMA, 16, 16 },
	{ VGALLOC_CAPSET_GFXSTREAM_GLES, 16, 16 },
	{ VGALLOC_CAPSET_GFXSTREAM_COMPOSER, 16, 16 },
};

static const struct layout_fact *fact_of(uint32_t id)
{
	for (size_t i = 0; i < ARRAY_LEN(layout_facts); i++) {
		if (layout_facts[i].id == id) {
			return &layout_facts[i];
		}
	}
	fail_msg("no layout fact for capset %u", id);
	return NULL;
}

/*
 * The value checks the header promises (a value no valid host sends is -EIO), written down per
 * field so the sweeps can predict the result of any truncation without trusting the parser.
 */
enum rule_kind {
	RULE_NONZERO = 1,   /* 0 is invalid (versions, context type) */
	RULE_BOOL = 2,      /* 0 or 1 */
	RULE_ALIGNMENT = 3, /* 0 (not sent) or a power of two in [4 KiB, 1 MiB] */
};

struct value_rule {
	uint32_t id;
	uint32_t offset;
	enum rule_kind kind;
};

static const struct value_rule value_rules[] = {
	{ VGALLOC_CAPSET_VENUS, 0, RULE_NONZERO },               /* wire_format_version */
	{ VGALLOC_CAPSET_VENUS, 16, RULE_BOOL },                 /* supports_blob_id_0 */
	{ VGALLOC_CAPSET_VENUS, 148, RULE_BOOL },                /* allow_vk_wait_syncs */
	{ VGALLOC_CAPSET_VENUS, 152, RULE_BOOL },                /* supports_multiple_timelines */
	{ VGALLOC_CAPSET_VENUS, 156, RULE_BOOL },                /* use_guest_vram */
	{ VGALLOC_CAPSET_GFXSTREAM_VULKAN, 0, RULE_NONZERO },    /* protocolVersion */
	{ VGALLOC_CAPSET_GFXSTREAM_VULKAN, 16, RULE_BOOL },      /* deferredMapping */
	{ VGALLOC_CAPSET_GFXSTREAM_VULKAN, 20, RULE_ALIGNMENT }, /* blobAlignment */
	{ VGALLOC_CAPSET_GFXSTREAM_VULKAN, 24, RULE_BOOL },      /* noRenderControlEnc */
	{ VGALLOC_CAPSET_GFXSTREAM_VULKAN, 28, RULE_BOOL },      /* alwaysBlob */
	{ VGALLOC_CAPSET_GFXSTREAM_VULKAN, 32, RULE_BOOL },      /* externalSync */
	{ VGALLOC_CAPSET_GFXSTREAM_VULKAN, 100, RULE_BOOL },     /* batched descriptor set update */
	{ VGALLOC_CAPSET_GFXSTREAM_GLES, 0, RULE_NONZERO },
	{ VGALLOC_CAPSET_GFXSTREAM_GLES, 12, RULE_ALIGNMENT },
	{ VGALLOC_CAPSET_CROSS_DOMAIN, 0, RULE_NONZERO },
	{ VGALLOC_CAPSET_CROSS_DOMAIN, 8, RULE_BOOL },
	{ VGALLOC_CAPSET_CROSS_DOMAIN, 12, RULE_BOOL },
	{ VGALLOC_CAPSET_DRM, 0, RULE_NONZERO },   /* wire_format_version */
	{ VGALLOC_CAPSET_DRM, 16, RULE_NONZERO },  /* context_type */
	{ VGALLOC_CAPSET_VIRGL, 0, RULE_NONZERO }, /* max_version */
	{ VGALLOC_CAPSET_VIRGL2, 0, RULE_NONZERO },
};

static bool rule_holds(enum rule_kind kind, uint32_t v)
{
	switch (kind) {
	case RULE_NONZERO:
		return v != 0;
	case RULE_BOOL:
		return v <= 1;
	case RULE_ALIGNMENT:
		return v == 0 || ((v & (v - 1)) == 0 && v >= 4096 && v <= (1u << 20));
	}
	return false;
}

/* The result the parser must give for these field values: 0 or -EIO. */
static int expected_result(uint32_t id, const uint32_t words[])
{
	for (size_t i = 0; i < ARRAY_LEN(value_rules); i++) {
		const struct value_rule *r = &value_rules[i];

		if (r->id == id && !rule_holds(r->kind, words[r->offset / 4])) {
			return -EIO;
		}
	}
	return 0;
}

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Fixture files. */
struct fixture {
	const char *name;
	uint32_t id;
	uint32_t size;
};

static const struct fixture fixtures[] = {
	{ "venus-148.bin", VGALLOC_CAPSET_VENUS, 148 },
	{ "venus-152.bin", VGALLOC_CAPSET_VENUS, 152 },
	{ "venus-156-guestvram0.bin", VGALLOC_CAPSET_VENUS, 156 },
	{ "venus-156-guestvram1.bin", VGALLOC_CAPSET_VENUS, 156 },
	{ "venus-160-guestvram0.bin", VGALLOC_CAPSET_VENUS, 160 },
	{ "venus-160-guestvram1.bin", VGALLOC_CAPSET_VENUS, 160 },
	{ "venus-168-future.bin", VGALLOC_CAPSET_VENUS, 168 },
	{ "venus-bad-wire0.bin", VGALLOC_CAPSET_VENUS, 160 },
	{ "venus-bad-guestvram2.bin", VGALLOC_CAPSET_VENUS, 160 },
	{ "gfxstream-vulkan-100.bin", VGALLOC_CAPSET_GFXSTREAM_VULKAN, 100 },
	{ "gfxstream-vulkan-104.bin", VGALLOC_CAPSET_GFXSTREAM_VULKAN, 104 },
	{ "gfxstream-vulkan-112-future.bin", VGALLOC_CAPSET_GFXSTREAM_VULKAN, 112 },
	{ "gfxstream-gles-16.bin", VGALLOC_CAPSET_GFXSTREAM_GLES, 16 },
	{ "cross-domain-16.bin", VGALLOC_CAPSET_CROSS_DOMAIN, 16 },
	{ "drm-24.bin", VGALLOC_CAPSET_DRM, 24 },
	{ "virgl-308.bin", VGALLOC_CAPSET_VIRGL, 308 },
	{ "virgl2-1384.bin", VGALLOC_CAPSET_VIRGL2, 1384 },
};

/* Read a fixture whole into data (DEVICE_BUF bytes, so a failing assert leaks nothing); its
 * length must be the one its name promises. */
static void load_fixture(const char *name, uint32_t want_size, uint8_t data[DEVICE_BUF])
{
	char path[1024];
	size_t got;
	long len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", VGALLOC_FIXTURES_DIR, name);
	f = fopen(path, "rb");
	if (!f) {
		fail_msg("cannot open %s: %s", path, strerror(errno));
	}
	len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	got = len == (long)want_size && want_size <= DEVICE_BUF && fseek(f, 0, SEEK_SET) == 0
	              ? fread(data, 1, want_size, f)
	              : 0;
	fclose(f);
	if (len != (long)want_size || got != want_size) {
		fail_msg("%s: %ld bytes (read %zu), expected %u", path, len, got, want_size);
	}
}

/* A fresh output struct full of garbage, so every byte the parser leaves alone shows. */
static void info_init(struct vgalloc_capset_info *info)
{
	memset(info, 0xa5, sizeof(*info));
	info->struct_size = sizeof(*info);
}

/* Parse the first len bytes of data from an exact-length heap copy (an over-read is caught by
 * valgrind and ASan). */
static int parse_exact(uint32_t id, const uint8_t *data, uint32_t len, uint32_t source,
                       struct vgalloc_capset_info *info)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, data, len);
	info_init(info);
	ret = vgalloc_capset_parse(id, copy, len, source, info);
	free(copy);
	return ret;
}

/* Parse a whole fixture file as FROM_FILE. */
static int parse_fixture(const struct fixture *fx, struct vgalloc_capset_info *info)
{
	uint8_t data[DEVICE_BUF];

	load_fixture(fx->name, fx->size, data);
	return parse_exact(fx->id, data, fx->size, VGALLOC_CAPSET_FROM_FILE, info);
}

static const struct fixture *fixture_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(fixtures); i++) {
		if (!strcmp(fixtures[i].name, name)) {
			return &fixtures[i];
		}
	}
	fail_msg("no fixture %s", name);
	return NULL;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* u32 fields a file of len bytes holds: whole words only, no more than the layout (and the
 * info) has. */
static uint32_t file_fields(uint32_t id, uint32_t len)
{
	return min_u32(min_u32(len, fact_of(id)->layout_size), INFO_WORDS * 4) / 4;
}

/* Every raw word of a successful parse equals want[] (absent words are 0). */
static void assert_words(const char *what, uint32_t len, const struct vgalloc_capset_info *info,
                         const uint32_t want[])
{
	for (uint32_t i = 0; i < INFO_WORDS; i++) {
		if (info->u.raw[i] != want[i]) {
			fail_msg("%s, %u bytes: word %u (@%u) is 0x%x, expected 0x%x", what, len, i,
			         i * 4, info->u.raw[i], want[i]);
		}
	}
}

/* --- Each fixture, whole, from a file: exact values. ------------------------------------- */

/* The extension bits the Venus fixtures carry (words 0, 1, 3, 17 and 31 of mask1). */
static const uint32_t venus_mask1[32] = {
	[0] = 0x000000b6, [1] = 0x01000040, [3] = 0x00008000, [17] = 0x00200000, [31] = 0x80000001,
};

static void assert_venus_common(const struct vgalloc_capset_info *info, uint32_t size)
{
	const struct vgalloc_capset_venus *v = &info->u.venus;

	assert_int_equal(info->struct_size, sizeof(*info));
	assert_int_equal(info->id, VGALLOC_CAPSET_VENUS);
	assert_int_equal(info->source, VGALLOC_CAPSET_FROM_FILE);
	assert_int_equal(info->size, size);
	assert_int_equal(info->layout_size, 160);
	assert_int_equal(info->present_fields, min_u32(size, 160) / 4);
	assert_int_equal(v->wire_format_version, 1);
	assert_int_equal(v->vk_xml_version, VK_XML_1_4_309);
	assert_int_equal(v->ext_command_serialization_spec_version, 1);
	assert_int_equal(v->mesa_venus_protocol_spec_version, 1);
	assert_int_equal(v->supports_blob_id_0, 1);
	for (uint32_t i = 0; i < 32; i++) {
		assert_int_equal(v->vk_extension_mask1[i], venus_mask1[i]);
	}
	/* Fields the file does not reach are absent and read 0. */
	assert_int_equal(v->allow_vk_wait_syncs, size >= 152 ? 1 : 0);
	assert_int_equal(v->supports_multiple_timelines, size >= 156 ? 1 : 0);
	for (uint32_t i = 40; i < INFO_WORDS; i++) {
		assert_int_equal(info->u.raw[i], 0);
	}
}

static void capset_parse__venus_fixtures_have_exact_fields(void **state)
{
	static const struct {
		const char *name;
		uint32_t use_guest_vram;
	} cases[] = {
		{ "venus-148.bin", 0 },
		{ "venus-152.bin", 0 },
		{ "venus-156-guestvram0.bin", 0 },
		/* 156 bytes end before use_guest_vram: whatever the host meant, it is absent. */
		{ "venus-156-guestvram1.bin", 0 },
		{ "venus-160-guestvram0.bin", 0 },
		{ "venus-160-guestvram1.bin", 1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct fixture *fx = fixture_named(cases[i].name);
		struct vgalloc_capset_info info;

		assert_int_equal(parse_fixture(fx, &info), 0);
		assert_venus_common(&info, fx->size);
		assert_int_equal(info.u.venus.use_guest_vram, cases[i].use_guest_vram);
	}
}

static void capset_parse__venus_future_fixture_keeps_known_fields(void **state)
{
	struct vgalloc_capset_info info;

	(void)state;
	/* Fields are only appended: 8 unknown bytes past the layout are ignored, not refused. */
	assert_int_equal(parse_fixture(fixture_named("venus-168-future.bin"), &info), 0);
	assert_venus_common(&info, 168);
	assert_int_equal(info.present_fields, 40);
	assert_int_equal(info.u.venus.use_guest_vram, 0);
}

static void capset_parse__venus_bad_values_are_eio(void **state)
{
	struct vgalloc_capset_info info;

	(void)state;
	assert_int_equal(parse_fixture(fixture_named("venus-bad-wire0.bin"), &info), -EIO);
	assert_int_equal(parse_fixture(fixture_named("venus-bad-guestvram2.bin"), &info), -EIO);
}

static void capset_parse__gfxstream_vulkan_fixtures_have_exact_fields(void **state)
{
	static const struct {
		const char *name;
		uint32_t deferred_mapping, blob_alignment, batched, fields;
	} cases[] = {
		{ "gfxstream-vulkan-100.bin", 0, 4096, 0, 25 },
		{ "gfxstream-vulkan-104.bin", 1, 16384, 1, 26 },
		{ "gfxstream-vulkan-112-future.bin", 1, 16384, 1, 26 },
	};
	static const uint32_t formats[16] = {
		[0] = 0x00000006, [1] = 0x0c000000, [4] = 0x00010000, [15] = 0x00000001
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct fixture *fx = fixture_named(cases[i].name);
		const struct vgalloc_capset_gfxstream_vulkan *g;
		struct vgalloc_capset_info info;

		assert_int_equal(parse_fixture(fx, &info), 0);
		g = &info.u.gfxstream_vulkan;
		assert_int_equal(info.id, VGALLOC_CAPSET_GFXSTREAM_VULKAN);
		assert_int_equal(info.size, fx->size);
		assert_int_equal(info.layout_size, 104);
		assert_int_equal(info.present_fields, cases[i].fields);
		assert_int_equal(g->protocol_version, 1);
		assert_int_equal(g->ring_size, 12288);
		assert_int_equal(g->buffer_size, 1u << 20);
		assert_int_equal(g->color_buffer_memory_index, 5);
		assert_int_equal(g->deferred_mapping, cases[i].deferred_mapping);
		assert_int_equal(g->blob_alignment, cases[i].blob_alignment);
		assert_int_equal(g->no_render_control_enc, 1);
		assert_int_equal(g->always_blob, 0);
		assert_int_equal(g->external_sync, 1);
		assert_memory_equal(g->virgl_supported_formats, formats, sizeof(formats));
		assert_int_equal(g->batched_descriptor_set_update, cases[i].batched);
		/* The future words (@104, @108) are past the layout: not copied. */
		for (uint32_t w = 26; w < INFO_WORDS; w++) {
			assert_int_equal(info.u.raw[w], 0);
		}
	}
}

static void capset_parse__small_fixtures_have_exact_fields(void **state)
{
	struct vgalloc_capset_info info;

	(void)state;
	assert_int_equal(parse_fixture(fixture_named("gfxstream-gles-16.bin"), &info), 0);
	assert_int_equal(info.id, VGALLOC_CAPSET_GFXSTREAM_GLES);
	assert_int_equal(info.layout_size, 16);
	assert_int_equal(info.present_fields, 4);
	assert_int_equal(info.u.gfxstream.protocol_version, 1);
	assert_int_equal(info.u.gfxstream.ring_size, 12288);
	assert_int_equal(info.u.gfxstream.buffer_size, 1u << 20);
	assert_int_equal(info.u.gfxstream.blob_alignment, 4096);

	assert_int_equal(parse_fixture(fixture_named("cross-domain-16.bin"), &info), 0);
	assert_int_equal(info.id, VGALLOC_CAPSET_CROSS_DOMAIN);
	assert_int_equal(info.layout_size, 16);
	assert_int_equal(info.present_fields, 4);
	assert_int_equal(info.u.cross_domain.version, 1);
	assert_int_equal(info.u.cross_domain.supported_channels, 0x6);
	assert_int_equal(info.u.cross_domain.supports_dmabuf, 1);
	assert_int_equal(info.u.cross_domain.supports_external_gpu_memory, 1);

	assert_int_equal(parse_fixture(fixture_named("drm-24.bin"), &info), 0);
	assert_int_equal(info.id, VGALLOC_CAPSET_DRM);
	assert_int_equal(info.size, 24);
	assert_int_equal(info.layout_size, 24);
	assert_int_equal(info.present_fields, 6);
	assert_int_equal(info.u.drm.wire_format_version, 1);
	assert_int_equal(info.u.drm.version_major, 3);
	assert_int_equal(info.u.drm.version_minor, 57);
	assert_int_equal(info.u.drm.version_patchlevel, 0);
	assert_int_equal(info.u.drm.context_type, 2); /* amdgpu */
	assert_int_equal(info.u.raw[5], 0);
}

static void capset_parse__virgl_fixtures_have_exact_fields(void **state)
{
	static const struct {
		const char *name;
		uint32_t id, size, max_version;
	} cases[] = {
		{ "virgl-308.bin", VGALLOC_CAPSET_VIRGL, 308, 1 },
		{ "virgl2-1384.bin", VGALLOC_CAPSET_VIRGL2, 1384, 2 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct vgalloc_capset_info info;

		assert_int_equal(parse_fixture(fixture_named(cases[i].name), &info), 0);
		assert_int_equal(info.id, cases[i].id);
		assert_int_equal(info.size, cases[i].size);
		assert_int_equal(info.layout_size, cases[i].size);
		/* The info holds the first 64 words of a longer layout. */
		assert_int_equal(info.present_fields, INFO_WORDS);
		assert_int_equal(info.u.virgl.max_version, cases[i].max_version);
		for (uint32_t w = 1; w < INFO_WORDS; w++) {
			assert_int_equal(info.u.raw[w], 0xc0de0000u + w);
		}
	}
}

/* --- Every truncation of every fixture. --------------------------------------------------- */

/*
 * From a file: shorter than the id's first field set is -EINVAL; otherwise only whole fields
 * inside the length are present, and a field cut by the length is absent and reads 0, as does
 * everything after it. The result then follows the values present.
 */
static void capset_parse__every_file_truncation(void **state)
{
	(void)state;
	for (size_t f = 0; f < ARRAY_LEN(fixtures); f++) {
		const struct fixture *fx = &fixtures[f];
		const struct layout_fact *lf = fact_of(fx->id);
		uint8_t data[DEVICE_BUF];

		load_fixture(fx->name, fx->size, data);

		for (uint32_t len = 0; len <= fx->size; len++) {
			struct vgalloc_capset_info info;
			uint32_t want[INFO_WORDS] = { 0 };
			uint32_t fields = file_fields(fx->id, len);
			int ret = parse_exact(fx->id, data, len, VGALLOC_CAPSET_FROM_FILE, &info);
			int want_ret;

			if (len < lf->min_size) {
				if (ret != -EINVAL) {
					fail_msg("%s, %u bytes from a file: %d, expected -EINVAL",
					         fx->name, len, ret);
				}
				continue;
			}
			for (uint32_t i = 0; i < fields; i++) {
				want[i] = le32_at(data + 4 * i);
			}
			want_ret = expected_result(fx->id, want);
			if (ret != want_ret) {
				fail_msg("%s, %u bytes from a file: %d, expected %d", fx->name, len,
				         ret, want_ret);
			}
			if (ret) {
				continue;
			}
			assert_int_equal(info.struct_size, sizeof(info));
			assert_int_equal(info.id, fx->id);
			assert_int_equal(info.source, VGALLOC_CAPSET_FROM_FILE);
			assert_int_equal(info.size, len);
			assert_int_equal(info.layout_size, lf->layout_size);
			if (info.present_fields != fields) {
				fail_msg("%s, %u bytes from a file: present_fields %u, expected %u",
				         fx->name, len, info.present_fields, fields);
			}
			assert_words(fx->name, len, &info, want);
		}
	}
}

/* The layout size a full parse reports (bad-value fixtures give -EIO, so the first fixture of
 * the id that parses). */
static uint32_t layout_size_of(uint32_t id)
{
	for (size_t i = 0; i < ARRAY_LEN(fixtures); i++) {
		struct vgalloc_capset_info full;

		if (fixtures[i].id == id && parse_fixture(&fixtures[i], &full) == 0) {
			assert_int_equal(full.layout_size, fact_of(id)->layout_size);
			return full.layout_size;
		}
	}
	fail_msg("no fixture of capset %u parses", id);
	return 0;
}

/*
 * From a device: the reader zero-fills its buffer and the kernel copies however many bytes the
 * host has, so every length must parse as "present or zero": never -EINVAL, every known field
 * present, bytes past the host's length reading 0. The parse of an exact-length buffer must say
 * the same (the parser reads only data[0, size)).
 */
static void capset_parse__every_device_truncation(void **state)
{
	static uint8_t buf[DEVICE_BUF];

	(void)state;
	for (size_t f = 0; f < ARRAY_LEN(fixtures); f++) {
		const struct fixture *fx = &fixtures[f];
		uint8_t data[DEVICE_BUF];
		uint32_t layout_size, fields;

		load_fixture(fx->name, fx->size, data);
		layout_size = layout_size_of(fx->id);
		fields = min_u32(layout_size, INFO_WORDS * 4) / 4;

		for (uint32_t len = 0; len <= fx->size; len++) {
			struct vgalloc_capset_info info, exact;
			uint32_t want[INFO_WORDS] = { 0 };
			int ret, want_ret;

			memset(buf, 0, DEVICE_BUF);
			memcpy(buf, data, len);
			for (uint32_t i = 0; i < fields; i++) {
				want[i] = le32_at(buf + 4 * i);
			}
			want_ret = expected_result(fx->id, want);
			info_init(&info);
			ret = vgalloc_capset_parse(fx->id, buf, layout_size,
			                           VGALLOC_CAPSET_FROM_DEVICE, &info);
			if (ret != want_ret) {
				fail_msg("%s, %u bytes from a device: %d, expected %d", fx->name,
				         len, ret, want_ret);
			}
			if (len > 0) {
				int exact_ret = parse_exact(fx->id, data, len,
				                            VGALLOC_CAPSET_FROM_DEVICE, &exact);

				if (exact_ret != want_ret) {
					fail_msg(
					        "%s, %u exact bytes from a device: %d, expected %d",
					        fx->name, len, exact_ret, want_ret);
				}
				if (!exact_ret) {
					assert_int_equal(exact.present_fields, fields);
					assert_int_equal(exact.size, len);
					assert_words(fx->name, len, &exact, want);
				}
			}
			if (ret) {
				continue;
			}
			assert_int_equal(info.id, fx->id);
			assert_int_equal(info.source, VGALLOC_CAPSET_FROM_DEVICE);
			assert_int_equal(info.size, layout_size);
			assert_int_equal(info.layout_size, layout_size);
			assert_int_equal(info.present_fields, fields);
			assert_words(fx->name, len, &info, want);
			for (uint32_t i = (len + 3) / 4; i < INFO_WORDS; i++) {
				assert_int_equal(info.u.raw[i], 0);
			}
			/* A host that sent no byte of use_guest_vram did not ask for guest-first. */
			if (fx->id == VGALLOC_CAPSET_VENUS && len <= 156) {
				assert_int_equal(info.u.venus.use_guest_vram, 0);
			}
		}
	}
}

/* --- Venus bytes through a device. -------------------------------------------------------- */

/*
 * A static-profile host serving each truncation of each Venus fixture: the device is
 * guest-first exactly when the bytes it reads say use_guest_vram = 1 and refuses a
 * wire_format_version of 0 or a use_guest_vram above 1 with -EIO.
 */
static void device_create__venus_capset_bytes_decide_alloc_mode(void **state)
{
	const struct fx_opts o = { .profile = VGALLOC_MOCK_PROFILE_STATIC };
	int fds_before = count_open_fds();
	uint32_t creates = 0;

	(void)state;
	for (size_t f = 0; f < ARRAY_LEN(fixtures); f++) {
		const struct fixture *fx = &fixtures[f];
		uint8_t data[DEVICE_BUF];

		if (fx->id != VGALLOC_CAPSET_VENUS) {
			continue;
		}
		load_fixture(fx->name, fx->size, data);
		for (uint32_t len = 0; len <= fx->size; len++) {
			struct vgalloc_device_info di = { .struct_size = sizeof(di) };
			struct vgalloc_memory_type types[3];
			struct vgalloc_device_create_info ci;
			struct vgalloc_device *dev = NULL;
			uint8_t seen[160] = { 0 };
			struct fx fxs = { 0 };
			uint32_t wire, guest_vram;
			int ret, want_ret;

			/* The device reads 160 bytes; the kernel copies min(160, host size). */
			memcpy(seen, data, min_u32(len, sizeof(seen)));
			wire = le32_at(seen);
			guest_vram = le32_at(seen + 156);
			/* size 0 withdraws the capset: not offered is -EOPNOTSUPP. */
			want_ret = len == 0 ? -EOPNOTSUPP : !wire || guest_vram > 1 ? -EIO : 0;

			fxs.mock = fx_mock_new(&o);
			assert_int_equal(vgalloc_mock_get_hooks(fxs.mock, 0, &fxs.hooks), 0);
			assert_int_equal(vgalloc_mock_set_capset(fxs.mock, VGALLOC_CAPSET_VENUS, 0,
			                                         data, len),
			                 0);
			fx_create_info(&fxs, &o, types, &ci);
			ret = vgalloc_device_create(&ci, &dev);
			creates++;
			/* Read what is needed and tear down first, so a failure leaks nothing. */
			if (ret == 0) {
				assert_int_equal(vgalloc_device_get_info(dev, &di), 0);
				vgalloc_device_destroy(dev);
			}
			fx_assert_clean(fxs.mock);
			vgalloc_mock_destroy(fxs.mock);
			if (ret != want_ret) {
				fail_msg("%s, %u bytes on the host: device create %d, expected %d",
				         fx->name, len, ret, want_ret);
			}
			if (ret) {
				assert_null(dev);
				continue;
			}
			assert_int_equal(di.capset_id, VGALLOC_CAPSET_VENUS);
			assert_int_equal(di.capset_size, 160);
			if (di.alloc_mode != (guest_vram == 1 ? VGALLOC_ALLOC_MODE_GUEST_FIRST
			                                      : VGALLOC_ALLOC_MODE_HOST_FIRST)) {
				fail_msg("%s, %u bytes on the host: alloc_mode %u", fx->name, len,
				         di.alloc_mode);
			}
			assert_int_equal(di.mode_reason, guest_vram == 1
			                                         ? VGALLOC_MODE_REASON_CAPSET
			                                         : VGALLOC_MODE_REASON_DEFAULT);
		}
	}
	assert_true(creates > 700);
	assert_int_equal(count_open_fds(), fds_before);
}

/* --- Arguments. --------------------------------------------------------------------------- */

static void capset_parse__unknown_id_is_eopnotsupp(void **state)
{
	static const uint32_t ids[] = { 0, 10, 11, 31, 63, 64, 0x80000004u, UINT32_MAX };
	uint8_t bytes[256];

	(void)state;
	memset(bytes, 1, sizeof(bytes));
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		struct vgalloc_capset_info info;

		info_init(&info);
		assert_int_equal(vgalloc_capset_parse(ids[i], bytes, sizeof(bytes),
		                                      VGALLOC_CAPSET_FROM_FILE, &info),
		                 -EOPNOTSUPP);
		assert_int_equal(vgalloc_capset_parse(ids[i], bytes, sizeof(bytes),
		                                      VGALLOC_CAPSET_FROM_DEVICE, &info),
		                 -EOPNOTSUPP);
	}
}

static void capset_parse__bad_arguments_are_einval(void **state)
{
	static const uint32_t small_sizes[] = { 0, 4, 24, sizeof(struct vgalloc_capset_info) - 1 };
	struct vgalloc_capset_info info;
	uint8_t bytes[DEVICE_BUF];

	(void)state;
	memset(bytes, 0, sizeof(bytes));
	bytes[0] = 1;
	info_init(&info);
	assert_int_equal(vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, bytes, 160,
	                                      VGALLOC_CAPSET_FROM_DEVICE, &info),
	                 0);
	/* NULL data, NULL info, size 0 (both sources). */
	assert_int_equal(vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, NULL, 160,
	                                      VGALLOC_CAPSET_FROM_DEVICE, &info),
	                 -EINVAL);
	assert_int_equal(vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, NULL, 160,
	                                      VGALLOC_CAPSET_FROM_FILE, &info),
	                 -EINVAL);
	assert_int_equal(vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, bytes, 160,
	                                      VGALLOC_CAPSET_FROM_DEVICE, NULL),
	                 -EINVAL);
	assert_int_equal(vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, bytes, 0,
	                                      VGALLOC_CAPSET_FROM_DEVICE, &info),
	                 -EINVAL);
	assert_int_equal(vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, bytes, 0,
	                                      VGALLOC_CAPSET_FROM_FILE, &info),
	                 -EINVAL);
	/* Argument errors come before the id is looked at. */
	assert_int_equal(vgalloc_capset_parse(99, NULL, 160, VGALLOC_CAPSET_FROM_FILE, &info),
	                 -EINVAL);
	/* Sources other than the two defined. */
	for (uint32_t source = 0; source < 8; source++) {
		int want =
		        source == VGALLOC_CAPSET_FROM_DEVICE || source == VGALLOC_CAPSET_FROM_FILE
		                ? 0
		                : -EINVAL;

		info_init(&info);
		assert_int_equal(
		        vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, bytes, 160, source, &info),
		        want);
	}
	assert_int_equal(vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, bytes, 160, UINT32_MAX, &info),
	                 -EINVAL);
	/* An output struct smaller than version 0. */
	for (size_t i = 0; i < ARRAY_LEN(small_sizes); i++) {
		info_init(&info);
		info.struct_size = small_sizes[i];
		assert_int_equal(vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, bytes, 160,
		                                      VGALLOC_CAPSET_FROM_DEVICE, &info),
		                 -EINVAL);
	}
}

static void capset_parse__larger_output_struct_gets_own_size(void **state)
{
	struct {
		struct vgalloc_capset_info info;
		uint32_t tail[4];
	} big;
	uint8_t bytes[160] = { 1 };

	(void)state;
	memset(&big, 0xee, sizeof(big));
	big.info.struct_size = sizeof(big);
	assert_int_equal(vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, bytes, sizeof(bytes),
	                                      VGALLOC_CAPSET_FROM_DEVICE, &big.info),
	                 0);
	assert_int_equal(big.info.struct_size, sizeof(big.info));
	assert_int_equal(big.info.u.venus.wire_format_version, 1);
	for (size_t i = 0; i < ARRAY_LEN(big.tail); i++) {
		assert_int_equal(big.tail[i], 0xeeeeeeeeu);
	}
}

/* --- Names. ------------------------------------------------------------------------------- */

static void capset_name__every_id_and_unknown(void **state)
{
	static const struct {
		uint32_t id;
		const char *name;
	} names[] = {
		{ VGALLOC_CAPSET_VIRGL, "virgl" },
		{ VGALLOC_CAPSET_VIRGL2, "virgl2" },
		{ VGALLOC_CAPSET_GFXSTREAM_VULKAN, "gfxstream-vulkan" },
		{ VGALLOC_CAPSET_VENUS, "venus" },
		{ VGALLOC_CAPSET_CROSS_DOMAIN, "cross-domain" },
		{ VGALLOC_CAPSET_DRM, "drm" },
		{ VGALLOC_CAPSET_GFXSTREAM_MAGMA, "gfxstream-magma" },
		{ VGALLOC_CAPSET_GFXSTREAM_GLES, "gfxstream-gles" },
		{ VGALLOC_CAPSET_GFXSTREAM_COMPOSER, "gfxstream-composer" },
		{ 0, "unknown" },
		{ 10, "unknown" },
		{ 64, "unknown" },
		{ UINT32_MAX, "unknown" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		assert_string_equal(vgalloc_capset_name(names[i].id), names[i].name);
	}
}

static void param_name__numbering_follows_the_flavour(void **state)
{
	static const uint32_t flavours[] = { VGALLOC_FLAVOUR_UPSTREAM, VGALLOC_FLAVOUR_CHROMEOS,
		                             VGALLOC_FLAVOUR_GFXSTREAM };
	static const struct {
		uint32_t flavour, param;
		const char *name; /* NULL: none */
	} names[] = {
		{ VGALLOC_FLAVOUR_UPSTREAM, 9, "blob-alignment" },
		{ VGALLOC_FLAVOUR_UPSTREAM, 10, NULL },
		{ VGALLOC_FLAVOUR_UPSTREAM, 11, NULL },
		{ VGALLOC_FLAVOUR_CHROMEOS, 8, "create-guest-handle" },
		{ VGALLOC_FLAVOUR_CHROMEOS, 9, "resource-sync" },
		{ VGALLOC_FLAVOUR_CHROMEOS, 10, "guest-vram" },
		{ VGALLOC_FLAVOUR_CHROMEOS, 11, "query-dev" },
		{ VGALLOC_FLAVOUR_CHROMEOS, 12, NULL },
		{ VGALLOC_FLAVOUR_GFXSTREAM, 9, "create-fence-passing" },
		{ VGALLOC_FLAVOUR_GFXSTREAM, 10, "create-guest-handle" },
		{ VGALLOC_FLAVOUR_GFXSTREAM, 11, NULL },
		{ 3, 9, NULL },
		{ UINT32_MAX, 10, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		const char *got = vgalloc_param_name(names[i].flavour, names[i].param);

		if (!names[i].name) {
			if (got) {
				fail_msg("flavour %u param %u: \"%s\", expected NULL",
				         names[i].flavour, names[i].param, got);
			}
			continue;
		}
		assert_non_null(got);
		assert_string_equal(got, names[i].name);
	}
	/* 1..7 are numbered alike everywhere; 0 and anything past VGALLOC_PARAM_MAX are none. */
	for (uint32_t p = 1; p <= 7; p++) {
		const char *upstream = vgalloc_param_name(VGALLOC_FLAVOUR_UPSTREAM, p);

		assert_non_null(upstream);
		for (size_t f = 0; f < ARRAY_LEN(flavours); f++) {
			const char *got = vgalloc_param_name(flavours[f], p);

			assert_non_null(got);
			assert_string_equal(got, upstream);
		}
	}
	for (size_t f = 0; f < ARRAY_LEN(flavours); f++) {
		assert_null(vgalloc_param_name(flavours[f], 0));
		assert_null(vgalloc_param_name(flavours[f], VGALLOC_PARAM_MAX + 1));
		assert_null(vgalloc_param_name(flavours[f], UINT32_MAX));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(capset_parse__venus_fixtures_have_exact_fields),
		cmocka_unit_test(capset_parse__venus_future_fixture_keeps_known_fields),
		cmocka_unit_test(capset_parse__venus_bad_values_are_eio),
		cmocka_unit_test(capset_parse__gfxstream_vulkan_fixtures_have_exact_fields),
		cmocka_unit_test(capset_parse__small_fixtures_have_exact_fields),
		cmocka_unit_test(capset_parse__virgl_fixtures_have_exact_fields),
		cmocka_unit_test(capset_parse__every_file_truncation),
		cmocka_unit_test(capset_parse__every_device_truncation),
		cmocka_unit_test(device_create__venus_capset_bytes_decide_alloc_mode),
		cmocka_unit_test(capset_parse__unknown_id_is_eopnotsupp),
		cmocka_unit_test(capset_parse__bad_arguments_are_einval),
		cmocka_unit_test(capset_parse__larger_output_struct_gets_own_size),
		cmocka_unit_test(capset_name__every_id_and_unknown),
		cmocka_unit_test(param_name__numbering_follows_the_flavour),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
