/* SPDX-License-Identifier: MIT */
/*
 * The runner behind tests/errors/ (errcase.h): making a case's call between snapshots, the setup
 * helpers the sections share, docs/errors.md read into rows, its sections, and each section
 * file's checks that its rows and its cases are the same set.
 */
#include <unistd.h>

#include "errcase.h"

/* ---------------------------------------------------------------------------------------------
 * Making the call: snapshot, call, snapshot, result as text.
 */

static const struct {
	int err;
	const char *name;
} errno_names[] = {
	{ EINVAL, "EINVAL" },       { E2BIG, "E2BIG" },           { ENOSPC, "ENOSPC" },
	{ ENOMEM, "ENOMEM" },       { EOPNOTSUPP, "EOPNOTSUPP" }, { EIO, "EIO" },
	{ ENOENT, "ENOENT" },       { EEXIST, "EEXIST" },         { EBUSY, "EBUSY" },
	{ ENOTTY, "ENOTTY" },       { EBADF, "EBADF" },           { EFAULT, "EFAULT" },
	{ EOVERFLOW, "EOVERFLOW" }, { ENODEV, "ENODEV" },         { EPROTO, "EPROTO" },
};

static void snapshot(struct ctx *c, struct vgalloc_mock_ledger *l, struct vgalloc_stats *st)
{
	for (uint32_t i = 0; i < 2; i++) {
		if (c->snap_mocks[i]) {
			l[i] = fx_ledger(c->snap_mocks[i]);
		}
	}
	st->struct_size = sizeof(*st);
	assert_int_equal(vgalloc_device_get_stats(c->f->dev, st), 0);
}

void before_call(struct ctx *c)
{
	assert_false(c->called);
	c->snap_mocks[0] = c->f->mock;
	c->snap_mocks[1] = c->scratch;
	snapshot(c, c->before, &c->st_before);
}

static void after_call(struct ctx *c)
{
	snapshot(c, c->after, &c->st_after);
	c->called = true;
}

void result_int(struct ctx *c, int ret)
{
	after_call(c);
	snprintf(c->result, sizeof(c->result), "%d", ret);
	for (size_t i = 0; ret < 0 && i < ARRAY_LEN(errno_names); i++) {
		if (-ret == errno_names[i].err) {
			snprintf(c->result, sizeof(c->result), "-%s", errno_names[i].name);
			break;
		}
	}
}

void result_str(struct ctx *c, const char *s)
{
	after_call(c);
	if (s) {
		snprintf(c->result, sizeof(c->result), "\"%s\"", s);
	} else {
		snprintf(c->result, sizeof(c->result), "NULL");
	}
}

void result_bool(struct ctx *c, bool b)
{
	after_call(c);
	snprintf(c->result, sizeof(c->result), "%s", b ? "true" : "false");
}

void result_void(struct ctx *c)
{
	after_call(c);
	snprintf(c->result, sizeof(c->result), "void");
}

/* ---------------------------------------------------------------------------------------------
 * Setup helpers: everything they make is released after the checks.
 */

void apply_pokes(struct ctx *c, void *in, size_t size, size_t full)
{
	for (uint32_t i = 0; i < MAX_POKES && c->k->pokes[i].width; i++) {
		const struct poke *p = &c->k->pokes[i];
		unsigned char *at = (unsigned char *)in + p->off;

		assert_true(p->off + p->width <= full);
		if (p->width == 4) {
			uint32_t v = (uint32_t)p->val;

			memcpy(at, &v, sizeof(v));
		} else {
			assert_int_equal(p->width, 8);
			memcpy(at, &p->val, sizeof(p->val));
		}
		if (p->off >= size) {
			uint32_t s = (uint32_t)full;

			memcpy(in, &s, sizeof(s));
		}
	}
}

struct vgalloc_mem *alloc_mem(struct vgalloc_device *dev, uint32_t type, uint64_t size,
                              uint32_t flags, uint32_t export_types)
{
	struct vgalloc_request r = fx_req(type, size);
	struct vgalloc_mem *mem = NULL;

	r.flags = flags;
	r.export_handle_types = export_types;
	assert_int_equal(vgalloc_mem_alloc(dev, &r, &mem), 0);
	return mem;
}

struct vgalloc_mem *keep_mem(struct ctx *c, struct vgalloc_device *dev, uint32_t type,
                             uint64_t size, uint32_t flags, uint32_t export_types)
{
	struct vgalloc_mem *mem = alloc_mem(dev, type, size, flags, export_types);

	assert_true(c->nmems < MAX_KEEP);
	c->mems[c->nmems].dev = dev;
	c->mems[c->nmems++].mem = mem;
	return mem;
}

/* A pointer to a memory object that was freed. */
struct vgalloc_mem *freed_mem(struct ctx *c, uint32_t type)
{
	struct vgalloc_mem *mem = alloc_mem(c->f->dev, type, 4096, 0, 0);

	assert_int_equal(vgalloc_mem_free(c->f->dev, mem), 0);
	return mem;
}

struct vgalloc_blob *create_blob(struct vgalloc_device *dev, uint32_t blob_mem, uint32_t flags,
                                 uint64_t size)
{
	struct vgalloc_blob_create_info ci = {
		.struct_size = sizeof(ci),
		.blob_mem = blob_mem,
		.blob_flags = flags,
		.size = size,
	};
	struct vgalloc_blob *blob = NULL;

	assert_int_equal(vgalloc_blob_create(dev, &ci, &blob), 0);
	return blob;
}

struct vgalloc_blob *keep_blob(struct ctx *c, struct vgalloc_device *dev, uint32_t blob_mem,
                               uint32_t flags, uint64_t size)
{
	struct vgalloc_blob *blob = create_blob(dev, blob_mem, flags, size);

	assert_true(c->nblobs < MAX_KEEP);
	c->blobs[c->nblobs].dev = dev;
	c->blobs[c->nblobs++].blob = blob;
	return blob;
}

/* The fixture's Venus context backs blob_id 0 HOST3D MAPPABLE blobs with host memory. */
struct vgalloc_blob *mappable_blob(struct ctx *c)
{
	return keep_blob(c, c->f->dev, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 65536);
}

struct vgalloc_blob *destroyed_blob(struct ctx *c)
{
	struct vgalloc_blob *blob =
	        create_blob(c->f->dev, VGALLOC_BLOB_MEM_HOST3D, VGALLOC_BLOB_FLAG_MAPPABLE, 65536);

	assert_int_equal(vgalloc_blob_destroy(c->f->dev, blob), 0);
	return blob;
}

struct vgalloc_blob *keep_shmem(struct ctx *c, uint64_t size)
{
	struct vgalloc_blob *blob = NULL;
	void *ptr = NULL;

	assert_int_equal(vgalloc_shmem_create(c->f->dev, size, &blob, &ptr), 0);
	assert_true(c->nshmems < MAX_KEEP);
	c->shmems[c->nshmems++] = blob;
	return blob;
}

int keep_fd(struct ctx *c, int fd)
{
	assert_true(fd >= 0);
	assert_true(c->nfds < MAX_KEEP);
	c->fds[c->nfds++] = fd;
	return fd;
}

/* A number that is no open fd. */
int closed_fd(void)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	return p[0];
}

/* An open fd that is no dma-buf. */
int pipe_fd(struct ctx *c)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	keep_fd(c, p[1]);
	return keep_fd(c, p[0]);
}

/* A 64 KiB dma-buf of another process's HOST3D blob (harness.h), not tracked by the device. */
int foreign_fd(struct ctx *c)
{
	assert_true(c->nforeign < MAX_KEEP);
	c->foreign[c->nforeign].fd = fx_foreign_dmabuf(c->f, 65536, &c->foreign[c->nforeign].host);
	return c->foreign[c->nforeign++].fd;
}

/* A dma-buf of a GUEST blob of this device whose blob is gone (the device holds no handle). */
int guest_fd(struct ctx *c)
{
	struct vgalloc_blob *blob =
	        create_blob(c->f->dev, VGALLOC_BLOB_MEM_GUEST, VGALLOC_BLOB_FLAG_SHAREABLE, 4096);
	int fd = -1;

	assert_int_equal(vgalloc_blob_export_dmabuf(c->f->dev, blob, &fd), 0);
	assert_int_equal(vgalloc_blob_destroy(c->f->dev, blob), 0);
	return keep_fd(c, fd);
}

/* A second device on the fixture's mock, adopting the fixture's context. */
struct vgalloc_device *adopt_dev(struct ctx *c, const struct vgalloc_host_hooks *hooks)
{
	struct vgalloc_memory_type types[3];
	struct vgalloc_device_create_info ci;
	struct vgalloc_device *dev = NULL;

	fx_create_info(c->f, &(struct fx_opts){ .mode = VGALLOC_DEVICE_MODE_ADOPT }, types, &ci);
	ci.hooks = hooks;
	assert_int_equal(vgalloc_device_create(&ci, &dev), 0);
	assert_true(c->ndevs < MAX_KEEP);
	c->devs[c->ndevs++] = dev;
	return dev;
}

struct vgalloc_mock *scratch_mock(struct ctx *c, const struct fx_opts *o)
{
	assert_null(c->scratch);
	c->scratch = fx_mock_new(o);
	return c->scratch;
}

/* Let the host process everything queued so far (a host allocation is waited on and freed). */
void drain_host(struct ctx *c)
{
	static uint64_t n;
	uint64_t host = 0, token = 0;

	assert_int_equal(vgalloc_mock_host_alloc(c->f->mock, 7000 + n++, 4096, &host, &token, NULL),
	                 0);
	assert_int_equal(vgalloc_mock_host_wait(c->f->mock, token), 0);
	vgalloc_mock_host_free(c->f->mock, host);
}

uint32_t load_fixture(struct ctx *c, const char *name)
{
	char path[512];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", VGALLOC_FIXTURES_DIR, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(c->bytes, 1, sizeof(c->bytes), fp);
	fclose(fp);
	assert_true(n > 0);
	return (uint32_t)n;
}

void put_u32(struct ctx *c, size_t off, uint32_t v)
{
	memcpy(c->bytes + off, &v, sizeof(v));
}

void req_in(struct ctx *c, struct req_in *in)
{
	memset(in, 0, sizeof(*in));
	in->r = fx_req(TYPE_HOST_COHERENT, 4096);
	apply_pokes(c, in, sizeof(in->r), sizeof(*in));
}

/* ---------------------------------------------------------------------------------------------
 * The sections of docs/errors.md, one file each.
 */

/* Each section's prefixes of function names: capsets and diag are the functions of
 * vgalloc_capset.h and vgalloc_diag.h. */
/* clang-format off */
static const char *const capsets_prefixes[] = {
	"vgalloc_capset_", "vgalloc_param_name", "vgalloc_device_read_capset", NULL,
};
static const char *const device_prefixes[] = { "vgalloc_device_", "vgalloc_connection_", NULL };
static const char *const diag_prefixes[] = {
	"vgalloc_device_get_stats", "vgalloc_device_get_pool_stats", "vgalloc_device_stats_json",
	"vgalloc_plan_", "vgalloc_step_name", "vgalloc_no_suballoc_name", "vgalloc_path_name",
	NULL,
};
static const char *const blob_prefixes[] = { "vgalloc_blob_", NULL };
static const char *const shmem_prefixes[] = { "vgalloc_shmem_", NULL };
static const char *const mem_prefixes[] = { "vgalloc_mem_", NULL };
static const char *const mock_prefixes[] = { "vgalloc_mock_", NULL };

const struct errcase_section errcase_sections[] = {
	{ "capsets", capsets_prefixes },
	{ "device", device_prefixes },
	{ "diag", diag_prefixes },
	{ "blob", blob_prefixes },
	{ "shmem", shmem_prefixes },
	{ "mem", mem_prefixes },
	{ "mock", mock_prefixes },
};
/* clang-format on */
const size_t errcase_section_count = ARRAY_LEN(errcase_sections);

size_t errcase_sections_of(const char *fn, const struct errcase_section **first)
{
	size_t best = 0, n = 0;

	*first = NULL;
	for (size_t s = 0; s < errcase_section_count; s++) {
		const struct errcase_section *sec = &errcase_sections[s];

		for (size_t p = 0; sec->prefixes[p]; p++) {
			size_t len = strlen(sec->prefixes[p]);

			if (strncmp(fn, sec->prefixes[p], len) || len < best) {
				continue;
			}
			if (len > best) {
				best = len;
				n = 0;
				*first = sec;
			}
			n++;
		}
	}
	return n;
}

/* ---------------------------------------------------------------------------------------------
 * docs/errors.md read into rows.
 */

struct errcase_doc doc;

static void doc_error(int line, const char *what)
{
	if (!doc.error[0]) {
		snprintf(doc.error, sizeof(doc.error), "docs/errors.md:%d: %s", line, what);
	}
}

/* Split "| a | b |" into trimmed cells without backquotes; returns the count. */
static size_t split_row(const char *line, char cells[][128], size_t max)
{
	size_t n = 0;
	const char *p = strchr(line, '|');

	while (p && n < max) {
		const char *end = strchr(p + 1, '|');
		size_t len = 0;

		if (!end) {
			break;
		}
		for (const char *q = p + 1; q < end; q++) {
			if (*q != '`' && len + 1 < sizeof(cells[0])) {
				cells[n][len++] = *q;
			}
		}
		cells[n][len] = 0;
		while (len && (cells[n][len - 1] == ' ' || cells[n][len - 1] == '\t')) {
			cells[n][--len] = 0;
		}
		len = strspn(cells[n], " \t");
		memmove(cells[n], cells[n] + len, strlen(cells[n] + len) + 1);
		n++;
		p = end;
	}
	return n;
}

static bool valid_id(const char *id)
{
	const char *dot = strchr(id, '.');

	if (!dot || dot == id || !dot[1] || strchr(dot + 1, '.')) {
		return false;
	}
	for (const char *p = id; *p; p++) {
		if (p != dot &&
		    !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
			return false;
		}
	}
	return true;
}

static bool valid_calls(const char *s)
{
	return !strcmp(s, "none") || !strcmp(s, "kernel") || !strcmp(s, "host") ||
	       !strcmp(s, "kernel+host");
}

static void copy_cell(char *dst, size_t size, const char *src, int line)
{
	if (strlen(src) >= size) {
		doc_error(line, "cell too long");
	}
	snprintf(dst, size, "%s", src);
}

static void doc_parse_line(const char *line, int lineno, bool *in_table, bool *case_table)
{
	char cells[6][128];
	size_t n;
	struct doc_row *row;

	if (line[0] != '|') {
		*in_table = false;
		return;
	}
	n = split_row(line, cells, 6);
	if (!*in_table) {
		*in_table = true;
		*case_table = n > 0 && !strcmp(cells[0], "case");
		if (n > 0 && valid_id(cells[0])) {
			doc_error(lineno, "a case row outside a case table");
		}
		return;
	}
	if (n > 0 && strspn(cells[0], "-:") == strlen(cells[0])) {
		return;
	}
	if (!*case_table) {
		if (n > 0 && valid_id(cells[0])) {
			doc_error(lineno, "a case row outside a case table");
		}
		return;
	}
	if (n != 5 || !valid_id(cells[0]) || strncmp(cells[1], "vgalloc_", 8) || !cells[3][0] ||
	    !valid_calls(cells[4])) {
		doc_error(lineno, "malformed case row");
		return;
	}
	row = &doc.rows[doc.count++];
	copy_cell(row->id, sizeof(row->id), cells[0], lineno);
	copy_cell(row->fn, sizeof(row->fn), cells[1], lineno);
	copy_cell(row->result, sizeof(row->result), cells[3], lineno);
	copy_cell(row->calls, sizeof(row->calls), cells[4], lineno);
	row->line = lineno;
}

char *read_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *text;
	long size;

	if (!fp) {
		return NULL;
	}
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)size + 1);
	if (text && fread(text, 1, (size_t)size, fp) != (size_t)size) {
		free(text);
		text = NULL;
	}
	fclose(fp);
	return text;
}

void doc_load(void)
{
	char *text = read_file(DOC_PATH);
	bool in_table = false, case_table = false;
	size_t lines = 1;
	int lineno = 0;

	if (!text) {
		doc_error(0, "cannot be read");
		return;
	}
	for (const char *p = text; *p; p++) {
		lines += *p == '\n';
	}
	doc.rows = calloc(lines, sizeof(*doc.rows));
	if (!doc.rows) {
		doc_error(0, "out of memory");
		free(text);
		return;
	}
	for (char *line = text; line; lineno++) {
		char *nl = strchr(line, '\n');

		if (nl) {
			*nl = 0;
		}
		doc_parse_line(line, lineno + 1, &in_table, &case_table);
		line = nl ? nl + 1 : NULL;
	}
	free(text);
}

const struct doc_row *doc_find(const char *id)
{
	for (size_t i = 0; i < doc.count; i++) {
		if (!strcmp(doc.rows[i].id, id)) {
			return &doc.rows[i];
		}
	}
	return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Running a case.
 */

static void check_ledger(const struct ctx *c, uint32_t i)
{
	const struct vgalloc_mock_ledger *a = &c->before[i], *b = &c->after[i];
	const char *which = i ? "scratch mock" : "mock";

#define SAME(field, allowed)                                                                       \
	do {                                                                                       \
		if (!(allowed) && a->field != b->field) {                                          \
			fail_msg("%s: the %s's %s changed: %llu -> %llu", c->k->id, which, #field, \
			         (unsigned long long)a->field, (unsigned long long)b->field);      \
		}                                                                                  \
	} while (0)
	SAME(context, c->k->allow & ALLOW_CONTEXT);
	SAME(capset_id, c->k->allow & ALLOW_CONTEXT);
	SAME(live_handles, false);
	SAME(live_blobs, false);
	SAME(blob_bytes, false);
	SAME(window_bytes, false);
	SAME(mapped_blobs, false);
	SAME(open_fds, false);
	SAME(host_allocs, false);
	SAME(pending_tokens, false);
	SAME(order_violations, false);
	SAME(context_lost, c->k->allow & ALLOW_LOST);
#undef SAME
}

static void check_stats(const struct ctx *c)
{
	const struct vgalloc_stats *a = &c->st_before, *b = &c->st_after;

	/* State only: totals (calls, blobs created or imported, dedup hits, blocks created and
	 * released, cache hits and misses, ENOSPC events) count what was attempted, and a failed
	 * call may have made and released a blob on its way. teardown_errors must not move. */
#define SAME(field)                                                                             \
	do {                                                                                    \
		if (a->field != b->field) {                                                     \
			fail_msg("%s: the device's %s changed: %llu -> %llu", c->k->id, #field, \
			         (unsigned long long)a->field, (unsigned long long)b->field);   \
		}                                                                               \
	} while (0)
	SAME(blobs_live);
	SAME(blob_bytes);
	SAME(window_bytes);
	SAME(blobs_mapped);
	SAME(mems_live);
	SAME(mem_bytes_requested);
	SAME(mem_bytes_committed);
	SAME(teardown_errors);
	SAME(pools);
	SAME(blocks);
	SAME(block_bytes);
	SAME(retained_bytes);
	SAME(suballocs_live);
	SAME(suballoc_bytes);
	SAME(shmem_live);
	SAME(shmem_cached);
	SAME(shmem_cached_bytes);
#undef SAME
}

/* Which side the call reached: the kernel (mock backend ops) and/or the host (hooks). */
static void calls_made(struct ctx *c)
{
	bool kernel = false, host = false;

	for (uint32_t i = 0; i < 2; i++) {
		if (!c->snap_mocks[i]) {
			continue;
		}
		for (uint32_t k = 0; k < VGALLOC_MOCK_CALL_COUNT; k++) {
			if (c->after[i].calls[k] != c->before[i].calls[k]) {
				if (k < VGALLOC_MOCK_CALL_NEW_BLOB_ID) {
					kernel = true;
				} else {
					host = true;
				}
			}
		}
	}
	snprintf(c->calls, sizeof(c->calls), "%s",
	         kernel && host ? "kernel+host"
	         : kernel       ? "kernel"
	         : host         ? "host"
	                        : "none");
}

static void release(struct ctx *c)
{
	if (c->fault_armed) {
		vgalloc_mock_fail_clear(c->f->mock);
	}
	for (uint32_t i = 0; i < c->nmems; i++) {
		assert_int_equal(vgalloc_mem_free(c->mems[i].dev, c->mems[i].mem), 0);
	}
	for (uint32_t i = 0; i < c->nblobs; i++) {
		assert_int_equal(vgalloc_blob_destroy(c->blobs[i].dev, c->blobs[i].blob), 0);
	}
	for (uint32_t i = 0; i < c->nshmems; i++) {
		struct vgalloc_device *dev = c->shmem_devs[i] ? c->shmem_devs[i] : c->f->dev;

		assert_int_equal(vgalloc_shmem_destroy(dev, c->shmems[i]), 0);
	}
	for (uint32_t i = 0; i < c->nforeign; i++) {
		fx_foreign_release(c->f, c->foreign[i].fd, c->foreign[i].host);
	}
	for (uint32_t i = 0; i < c->nhandles; i++) {
		assert_int_equal(vgalloc_mock_gem_close(c->f->mock, c->handles[i]), 0);
	}
	for (uint32_t i = 0; i < c->nhosts; i++) {
		vgalloc_mock_host_free(c->f->mock, c->hosts[i]);
	}
	/* A borrowed fd is still the caller's to close. */
	for (uint32_t i = 0; i < c->nfds; i++) {
		assert_int_equal(close(c->fds[i]), 0);
	}
	for (uint32_t i = 0; i < c->ndevs; i++) {
		vgalloc_device_destroy(c->devs[i]);
	}
	if (c->scratch) {
		fx_assert_clean(c->scratch);
		vgalloc_mock_destroy(c->scratch);
	}
}

static void run_case(void **state)
{
	const struct errcase *k = *state;
	const struct doc_row *row = doc_find(k->id);
	struct ctx *c;

	if (!row) {
		fail_msg("%s: no row in docs/errors.md", k->id);
	}
	if (strcmp(row->fn, k->fn)) {
		fail_msg("%s: docs/errors.md:%d names %s, the case calls %s", k->id, row->line,
		         row->fn, k->fn);
	}
	c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->k = k;
	c->f = fx_new(&k->opts);
	c->out_dev = OUT_PTR;
	c->out_mock = OUT_PTR;
	c->out_blob = OUT_PTR;
	c->out_mem = OUT_PTR;
	c->out_ptr = OUT_PTR;
	c->out_fd = OUT_FD;
	c->out_value = OUT_VALUE;

	k->run(c);
	assert_true(c->called);
	calls_made(c);
	if (strcmp(c->result, row->result) || strcmp(c->calls, row->calls)) {
		fail_msg("%s: docs/errors.md:%d says %s (calls: %s); the call returned %s (calls: "
		         "%s)",
		         k->id, row->line, row->result, row->calls, c->result, c->calls);
	}
	/* Constructors and getters leave their out parameters alone on error. */
	assert_ptr_equal(c->out_dev, OUT_PTR);
	assert_ptr_equal(c->out_mock, OUT_PTR);
	assert_ptr_equal(c->out_blob, OUT_PTR);
	assert_ptr_equal(c->out_mem, OUT_PTR);
	assert_ptr_equal(c->out_ptr, OUT_PTR);
	assert_int_equal(c->out_fd, OUT_FD);
	assert_true(c->out_value == OUT_VALUE);
	for (uint32_t i = 0; i < 2; i++) {
		if (c->snap_mocks[i]) {
			check_ledger(c, i);
		}
	}
	check_stats(c);

	release(c);
	fx_free(c->f);
	free(c);
}
/* A PROVEN_BY row: the test it names is still defined and registered in its file. */
static void run_proof(void **state)
{
	const struct errcase *k = *state;
	const struct doc_row *row = doc_find(k->id);
	char path[512], def[160], reg[160];
	char *text;

	if (!row) {
		fail_msg("%s: no row in docs/errors.md", k->id);
	}
	if (strcmp(row->fn, k->fn)) {
		fail_msg("%s: docs/errors.md:%d names %s, the case calls %s", k->id, row->line,
		         row->fn, k->fn);
	}
	snprintf(path, sizeof(path), "%s/tests/%s", SOURCE_DIR, k->proof_file);
	snprintf(def, sizeof(def), "static void %s(void **state)\n", k->proof_test);
	snprintf(reg, sizeof(reg), "cmocka_unit_test(%s)", k->proof_test);
	text = read_file(path);
	if (!text) {
		fail_msg("%s: proven by tests/%s, which cannot be read", k->id, k->proof_file);
	}
	if (!strstr(text, def) || !strstr(text, reg)) {
		free(text);
		fail_msg("%s: proven by %s in tests/%s, which defines or runs no such test", k->id,
		         k->proof_test, k->proof_file);
	}
	free(text);
	print_message("  %s (docs/errors.md:%d): proven by tests/%s, %s\n", k->id, row->line,
	              k->proof_file, k->proof_test);
}

/* ---------------------------------------------------------------------------------------------
 * A section's rows against its table.
 */

static struct {
	const struct errcase_section *section;
	const struct errcase *cases;
	size_t count;
} cur;

static bool in_section(const char *fn)
{
	const struct errcase_section *sec;

	return errcase_sections_of(fn, &sec) == 1 && sec == cur.section;
}

static void errors_section__parses(void **state)
{
	(void)state;
	if (!cur.section) {
		fail_msg("no such section in errcase.c's table");
	}
	if (doc.error[0]) {
		fail_msg("%s", doc.error);
	}
	assert_true(doc.count > 0);
}

static const struct errcase *case_find(const char *id)
{
	for (size_t i = 0; i < cur.count; i++) {
		if (!strcmp(cur.cases[i].id, id)) {
			return &cur.cases[i];
		}
	}
	return NULL;
}

static void errors_section__every_row_has_a_case(void **state)
{
	size_t missing = 0, rows = 0;

	(void)state;
	for (size_t i = 0; i < doc.count; i++) {
		if (!in_section(doc.rows[i].fn)) {
			continue;
		}
		rows++;
		if (!case_find(doc.rows[i].id)) {
			print_message("  docs/errors.md:%d: %s has no case\n", doc.rows[i].line,
			              doc.rows[i].id);
			missing++;
		}
	}
	print_message("  section %s: %zu rows, %zu cases\n", cur.section->name, rows, cur.count);
	assert_int_equal(missing, 0);
	assert_true(rows > 0);
}

static void errors_section__every_case_has_a_row(void **state)
{
	size_t missing = 0;

	(void)state;
	for (size_t i = 0; i < cur.count; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(cur.cases[i].id, cur.cases[j].id)) {
				fail_msg("case %s is in the table twice", cur.cases[i].id);
			}
		}
		if (!doc_find(cur.cases[i].id)) {
			print_message("  %s has no row in docs/errors.md\n", cur.cases[i].id);
			missing++;
		} else if (!in_section(cur.cases[i].fn)) {
			print_message("  %s: %s is not in section %s\n", cur.cases[i].id,
			              cur.cases[i].fn, cur.section->name);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

int errcase_main(const char *section, const struct errcase *cases, size_t count)
{
	struct CMUnitTest *tests = calloc(count + 3, sizeof(*tests));
	char group[64];
	size_t n = 0;
	int ret;

	assert_non_null(tests);
	for (size_t s = 0; s < errcase_section_count; s++) {
		if (!strcmp(errcase_sections[s].name, section)) {
			cur.section = &errcase_sections[s];
		}
	}
	cur.cases = cases;
	cur.count = count;
	doc_load();
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(errors_section__parses);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(errors_section__every_row_has_a_case);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(errors_section__every_case_has_a_row);
	for (size_t i = 0; i < count; i++) {
		tests[n++] = (struct CMUnitTest){
			.name = cases[i].id,
			.test_func = cases[i].proof_file ? run_proof : run_case,
			.initial_state = (void *)(uintptr_t)&cases[i],
		};
	}
	snprintf(group, sizeof(group), "errors_%s", section);
	ret = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	free(tests);
	free(doc.rows);
	return ret;
}
