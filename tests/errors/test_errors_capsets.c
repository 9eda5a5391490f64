/* SPDX-License-Identifier: MIT */
/*
 * The capset rows of docs/errors.md (vgalloc_capset.h): parsing capset bytes, the capset
 * and param names, and reading a capset through a device.
 * Each row of their case tables is a case here that makes that bad call on a fresh fixture
 * (errcase.h), and each case is a row of this section, so neither can drift; every case must
 * also change nothing (out parameters, the mock's ledger, the device's stats, no leak at
 * teardown). A row of a pure call that another test already makes exactly, checking as much,
 * is a PROVEN_BY entry naming that test, which must exist.
 * Covers: vgalloc_capset_parse, vgalloc_capset_name, vgalloc_param_name,
 * vgalloc_device_read_capset.
 */
#include "errcase.h"

/* ---------------------------------------------------------------------------------------------
 * Cases.
 */

static void parse(struct ctx *c, uint32_t id, const void *data, uint32_t size, uint32_t source)
{
	struct vgalloc_capset_info info = { .struct_size = sizeof(info) };

	CALL_INT(c, vgalloc_capset_parse(id, data, size, source, &info));
}

static void capset_parse__null_info(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-160-guestvram0.bin");

	CALL_INT(c, vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, c->bytes, n,
	                                 VGALLOC_CAPSET_FROM_FILE, NULL));
}

static void capset_parse__struct_size_small(struct ctx *c)
{
	struct vgalloc_capset_info info = { .struct_size = 8 };
	uint32_t n = load_fixture(c, "venus-160-guestvram0.bin");

	CALL_INT(c, vgalloc_capset_parse(VGALLOC_CAPSET_VENUS, c->bytes, n,
	                                 VGALLOC_CAPSET_FROM_FILE, &info));
}

static void capset_parse__bad_source(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-160-guestvram0.bin");

	parse(c, VGALLOC_CAPSET_VENUS, c->bytes, n, 3);
}

static void capset_parse__unknown_id(struct ctx *c)
{
	uint32_t n = load_fixture(c, "venus-160-guestvram0.bin");

	parse(c, 42, c->bytes, n, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__gfxstream_alignment(struct ctx *c)
{
	uint32_t n = load_fixture(c, "gfxstream-vulkan-104.bin");

	put_u32(c, offsetof(struct vgalloc_capset_gfxstream_vulkan, blob_alignment), 3000);
	parse(c, VGALLOC_CAPSET_GFXSTREAM_VULKAN, c->bytes, n, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__cross_domain_bool(struct ctx *c)
{
	uint32_t n = load_fixture(c, "cross-domain-16.bin");

	put_u32(c, offsetof(struct vgalloc_capset_cross_domain, supports_dmabuf), 2);
	parse(c, VGALLOC_CAPSET_CROSS_DOMAIN, c->bytes, n, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_parse__drm_context_type0(struct ctx *c)
{
	uint32_t n = load_fixture(c, "drm-24.bin");

	put_u32(c, offsetof(struct vgalloc_capset_drm, context_type), 0);
	parse(c, VGALLOC_CAPSET_DRM, c->bytes, n, VGALLOC_CAPSET_FROM_FILE);
}

static void capset_name__unknown(struct ctx *c)
{
	CALL_STR(c, vgalloc_capset_name(99));
}

static void read_capset(struct ctx *c, struct vgalloc_device *dev, uint32_t id, uint32_t size,
                        bool null_info)
{
	struct vgalloc_capset_info info = { .struct_size = size };

	CALL_INT(c, vgalloc_device_read_capset(dev, id, null_info ? NULL : &info));
}

static void device_read_capset__null_dev(struct ctx *c)
{
	read_capset(c, NULL, VGALLOC_CAPSET_VIRGL, sizeof(struct vgalloc_capset_info), false);
}

static void device_read_capset__null_info(struct ctx *c)
{
	read_capset(c, c->f->dev, VGALLOC_CAPSET_VIRGL, 0, true);
}

static void device_read_capset__struct_size_small(struct ctx *c)
{
	read_capset(c, c->f->dev, VGALLOC_CAPSET_VIRGL, 8, false);
}

static void device_read_capset__unknown_id(struct ctx *c)
{
	read_capset(c, c->f->dev, 42, sizeof(struct vgalloc_capset_info), false);
}

static void device_read_capset__not_offered(struct ctx *c)
{
	read_capset(c, c->f->dev, VGALLOC_CAPSET_CROSS_DOMAIN, sizeof(struct vgalloc_capset_info),
	            false);
}

static void device_read_capset__host_dropped(struct ctx *c)
{
	assert_int_equal(vgalloc_mock_set_capset(c->f->mock, VGALLOC_CAPSET_VIRGL, 0, NULL, 0), 0);
	read_capset(c, c->f->dev, VGALLOC_CAPSET_VIRGL, sizeof(struct vgalloc_capset_info), false);
}

static void device_read_capset__invalid(struct ctx *c)
{
	memset(c->bytes, 0, 4);
	assert_int_equal(vgalloc_mock_set_capset(c->f->mock, VGALLOC_CAPSET_VIRGL, 1, c->bytes, 4),
	                 0);
	read_capset(c, c->f->dev, VGALLOC_CAPSET_VIRGL, sizeof(struct vgalloc_capset_info), false);
}

/* ---------------------------------------------------------------------------------------------
 * The table. Ids are stable: docs/errors.md names them.
 */

static const struct errcase cases[] = {
	ONE(capset_parse, null_info),
	ONE(capset_parse, struct_size_small),
	PROVEN_BY(capset_parse, null_data, "unit/test_caps.c",
	          capset_parse__bad_arguments_are_einval),
	PROVEN_BY(capset_parse, size_zero, "unit/test_caps.c",
	          capset_parse__bad_arguments_are_einval),
	ONE(capset_parse, bad_source),
	ONE(capset_parse, unknown_id),
	PROVEN_BY(capset_parse, file_truncated, "unit/test_caps.c",
	          capset_parse__every_file_truncation),
	PROVEN_BY(capset_parse, venus_wire0, "unit/test_caps.c",
	          capset_parse__venus_bad_values_are_eio),
	PROVEN_BY(capset_parse, venus_guest_vram2, "unit/test_caps.c",
	          capset_parse__venus_bad_values_are_eio),
	PROVEN_BY(capset_parse, device_zeros, "unit/test_caps.c",
	          capset_parse__every_device_truncation),
	ONE(capset_parse, gfxstream_alignment),
	ONE(capset_parse, cross_domain_bool),
	ONE(capset_parse, drm_context_type0),
	PROVEN_BY(capset_parse, virgl_version0, "unit/test_caps.c",
	          capset_parse__every_device_truncation),
	PROVEN_BY(capset_name, zero, "unit/test_caps.c", capset_name__every_id_and_unknown),
	ONE(capset_name, unknown),
	PROVEN_BY(param_name, zero, "unit/test_caps.c", param_name__numbering_follows_the_flavour),
	PROVEN_BY(param_name, past_flavour, "unit/test_caps.c",
	          param_name__numbering_follows_the_flavour),
	PROVEN_BY(param_name, unknown_flavour, "unit/test_caps.c",
	          param_name__numbering_follows_the_flavour),
	ONE(device_read_capset, null_dev),
	ONE(device_read_capset, null_info),
	ONE(device_read_capset, struct_size_small),
	ONE(device_read_capset, unknown_id),
	ONE(device_read_capset, not_offered),
	ONE(device_read_capset, host_dropped),
	ONE(device_read_capset, invalid),
};

int main(void)
{
	return errcase_main("capsets", cases, ARRAY_LEN(cases));
}
