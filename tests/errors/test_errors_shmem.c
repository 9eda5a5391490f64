/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory blob rows of docs/errors.md: vgalloc_shmem_create and _destroy.
 * Each row of their case tables is a case here that makes that bad call on a fresh fixture
 * (errcase.h), and each case is a row of this section, so neither can drift; every case must
 * also change nothing (out parameters, the mock's ledger, the device's stats, no leak at
 * teardown).
 * Covers: vgalloc_shmem_create, vgalloc_shmem_destroy.
 */
#include "errcase.h"

/* ---------------------------------------------------------------------------------------------
 * Cases.
 */

static void shmem(struct ctx *c, struct vgalloc_device *dev, uint64_t size, bool null_blob,
                  bool null_ptr)
{
	CALL_INT(c, vgalloc_shmem_create(dev, size, null_blob ? NULL : &c->out_blob,
	                                 null_ptr ? NULL : &c->out_ptr));
}

static void shmem_create__null_dev(struct ctx *c)
{
	shmem(c, NULL, 4096, false, false);
}

static void shmem_create__null_out_blob(struct ctx *c)
{
	shmem(c, c->f->dev, 4096, true, false);
}

static void shmem_create__null_out_ptr(struct ctx *c)
{
	shmem(c, c->f->dev, 4096, false, true);
}

static void shmem_create__size_zero(struct ctx *c)
{
	shmem(c, c->f->dev, 0, false, false);
}

static void shmem_create__size_overflow(struct ctx *c)
{
	shmem(c, c->f->dev, UINT64_MAX - 100, false, false);
}

/* Runs on the fixture variant the case names. */
static void shmem_create__4k(struct ctx *c)
{
	shmem(c, c->f->dev, 4096, false, false);
}

static void shmem_create__2m(struct ctx *c)
{
	shmem(c, c->f->dev, 2u << 20, false, false);
}

static void shmem_destroy__null_dev(struct ctx *c)
{
	struct vgalloc_blob *blob = keep_shmem(c, 4096);

	CALL_INT(c, vgalloc_shmem_destroy(NULL, blob));
}

static void shmem_destroy__null_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, NULL));
}

static void shmem_destroy__ordinary_blob(struct ctx *c)
{
	struct vgalloc_blob *blob = mappable_blob(c);

	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, blob));
}

static void shmem_destroy__double(struct ctx *c)
{
	struct vgalloc_blob *blob = NULL;
	void *ptr = NULL;

	/* A power-of-two size: the first destroy puts it in the cache, where it stays live. */
	assert_int_equal(vgalloc_shmem_create(c->f->dev, 4096, &blob, &ptr), 0);
	assert_int_equal(vgalloc_shmem_destroy(c->f->dev, blob), 0);
	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, blob));
}

static void shmem_destroy__released(struct ctx *c)
{
	struct vgalloc_blob *blob = NULL;
	void *ptr = NULL;

	/* Not a power of two: the first destroy releases it. */
	assert_int_equal(vgalloc_shmem_create(c->f->dev, 12288, &blob, &ptr), 0);
	assert_int_equal(vgalloc_shmem_destroy(c->f->dev, blob), 0);
	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, blob));
}

static void shmem_destroy__not_a_blob(struct ctx *c)
{
	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, (struct vgalloc_blob *)c->junk));
}

static void shmem_destroy__other_device(struct ctx *c)
{
	struct vgalloc_device *other = adopt_dev(c, NULL);
	struct vgalloc_blob *blob = NULL;
	void *ptr = NULL;

	assert_int_equal(vgalloc_shmem_create(other, 12288, &blob, &ptr), 0);
	assert_true(c->nshmems < MAX_KEEP);
	c->shmem_devs[c->nshmems] = other;
	c->shmems[c->nshmems++] = blob;
	CALL_INT(c, vgalloc_shmem_destroy(c->f->dev, blob));
}

/* ---------------------------------------------------------------------------------------------
 * The table. Ids are stable: docs/errors.md names them.
 */

static const struct errcase cases[] = {
	ONE(shmem_create, null_dev),
	ONE(shmem_create, null_out_blob),
	ONE(shmem_create, null_out_ptr),
	ONE(shmem_create, size_zero),
	ONE(shmem_create, size_overflow),
	C("shmem_create.no_blob_id_0", vgalloc_shmem_create, shmem_create__4k,
	  .opts = { .mock_flags = VGALLOC_MOCK_NO_BLOB_ID_0 }),
	C("shmem_create.no_window", vgalloc_shmem_create, shmem_create__4k,
	  .opts = { .mock_flags = VGALLOC_MOCK_NO_WINDOW }),
	C("shmem_create.window_full", vgalloc_shmem_create, shmem_create__2m,
	  .opts = { .window = 1u << 20 }),
	C("shmem_create.host_refused", vgalloc_shmem_create, shmem_create__4k,
	  .opts = { .host_page = 16384 }),
	ONE(shmem_destroy, null_dev),
	ONE(shmem_destroy, null_blob),
	ONE(shmem_destroy, ordinary_blob),
	ONE(shmem_destroy, double),
	ONE(shmem_destroy, released),
	ONE(shmem_destroy, not_a_blob),
	ONE(shmem_destroy, other_device),
};

int main(void)
{
	return errcase_main("shmem", cases, ARRAY_LEN(cases));
}
