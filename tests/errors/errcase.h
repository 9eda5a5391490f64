/* SPDX-License-Identifier: MIT */
/*
 * The case dialect of tests/errors/: each file test_errors_<section>.c proves the rows of one
 * section of docs/errors.md with a table of cases, and errcase.c (linked into each) runs them.
 * A case makes one bad call on a fresh fixture (harness.h) between CALL_* snapshots; the runner
 * then compares the result and the calls it reached with the row, and checks that nothing
 * changed: out parameters, the mock's ledger, the device's stats, and, at teardown, leaks and fds.
 * A row of a pure function that another test already makes exactly, checking at least as much,
 * is a PROVEN_BY entry instead: the runner checks that this test still exists.
 */
#ifndef VGALLOC_TEST_ERRCASE_H
#define VGALLOC_TEST_ERRCASE_H

#include "../harness.h"

#ifndef VGALLOC_FIXTURES_DIR
#define VGALLOC_FIXTURES_DIR "tests/fixtures/capsets"
#endif

#define SOURCE_DIR VGALLOC_FIXTURES_DIR "/../../.."
#define DOC_PATH   SOURCE_DIR "/docs/errors.md"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_KEEP     4
#define MAX_POKES    4

/* Out parameters start as these; a failing call must leave them alone. */
#define OUT_PTR   ((void *)(uintptr_t)0x5e5e5e50u)
#define OUT_FD    (-77)
#define OUT_VALUE 0x5e5e5e5e5e5e5e5eull

/* An unknown flag: the highest bit, far from any flag a later version may add. */
#define BIT31 (1u << 31)

/*
 * Set one field of the input a runner builds: width bytes at off (width 0 ends the list). A poke
 * past the struct is an unknown tail: struct_size then grows to cover the tail words.
 */
struct poke {
	size_t off;
	size_t width;
	uint64_t val;
};

/* Initializer macros read best on one line each. */
/* clang-format off */
#define P(T, field, v)  { offsetof(T, field), sizeof(((T *)0)->field), (uint64_t)(v) }
#define TAIL(T)         { sizeof(T) + 8, 8, 1 }
#define MT              struct vgalloc_memory_type
#define PT(i, field, v) \
	{ (i) * sizeof(MT) + offsetof(MT, field), sizeof(((MT *)0)->field), (uint64_t)(v) }
#define DCI             struct vgalloc_device_create_info
#define REQ             struct vgalloc_request
#define BCI             struct vgalloc_blob_create_info
#define BII             struct vgalloc_blob_import_info
#define MCI             struct vgalloc_mock_create_info
#define HOOKS           struct vgalloc_host_hooks
/* clang-format on */

/* Effects a case may have by design; anything else must stay as it was. */
enum {
	ALLOW_CONTEXT = 1u << 0, /* own-mode create on a scratch mock ran CONTEXT_INIT there */
	ALLOW_LOST = 1u << 1,    /* the mock host lost the context, as documented */
};

struct ctx;

struct errcase {
	const char *id;
	const char *fn;
	void (*run)(struct ctx *c);
	struct fx_opts opts;
	struct poke pokes[MAX_POKES];
	uint32_t allow;
	/* PROVEN_BY: no run; the test function proof_test of tests/<proof_file> makes the call. */
	const char *proof_file;
	const char *proof_test;
};

/* The table's entries. Ids are stable: docs/errors.md names them. */
/* clang-format off */
#define C(id_, fn_, run_, ...)   { .id = id_, .fn = #fn_, .run = run_, __VA_ARGS__ }
/* A case whose run function is <function>__<name>. */
#define ONE(f, n)                C(#f "." #n, vgalloc_##f, f##__##n, .allow = 0)
/* A case of a runner: its valid input with these pokes. */
#define WITH(f, n, run, ...)     C(#f "." n, vgalloc_##f, run, .pokes = { __VA_ARGS__ })
/* A row proven by another test file's test (path under tests/, function name). */
#define PROVEN_BY(f, n, file, test) \
	{ .id = #f "." #n, .fn = "vgalloc_" #f, .proof_file = file, .proof_test = #test }
/* clang-format on */

struct ctx {
	const struct errcase *k;
	struct fx *f;
	/* The result as docs/errors.md spells it, and the calls it made. */
	char result[64];
	char calls[16];
	bool called;
	struct vgalloc_mock *snap_mocks[2];
	struct vgalloc_mock_ledger before[2], after[2];
	struct vgalloc_stats st_before, st_after;
	/* Out parameters. */
	struct vgalloc_device *out_dev;
	struct vgalloc_mock *out_mock;
	struct vgalloc_blob *out_blob;
	struct vgalloc_mem *out_mem;
	void *out_ptr;
	int out_fd;
	uint64_t out_value;
	/* Memory that is no object of any kind, and bytes for capsets. */
	uint64_t junk[32];
	unsigned char bytes[8192];
	/* Set up by the case, released after the checks in this order. */
	bool fault_armed;
	struct {
		struct vgalloc_device *dev;
		struct vgalloc_mem *mem;
	} mems[MAX_KEEP];
	struct {
		struct vgalloc_device *dev;
		struct vgalloc_blob *blob;
	} blobs[MAX_KEEP];
	struct vgalloc_blob *shmems[MAX_KEEP];
	struct vgalloc_device *shmem_devs[MAX_KEEP]; /* NULL: the fixture's device */
	struct {
		int fd;
		uint64_t host;
	} foreign[MAX_KEEP];
	uint32_t handles[MAX_KEEP]; /* raw GEM handles on the fixture's mock */
	uint64_t hosts[MAX_KEEP];   /* processed host allocations on the fixture's mock */
	int fds[MAX_KEEP];
	struct vgalloc_device *devs[MAX_KEEP]; /* more devices on the fixture's mock */
	uint32_t nmems, nblobs, nshmems, nforeign, nhandles, nhosts, nfds, ndevs;
	struct vgalloc_mock *scratch; /* a mock of its own for cases that need a fresh one */
};

/* Making the call: snapshot, call, snapshot, result as text. */
void before_call(struct ctx *c);
void result_int(struct ctx *c, int ret);
void result_str(struct ctx *c, const char *s);
void result_bool(struct ctx *c, bool b);
void result_void(struct ctx *c);

#define CALL_INT(c, e)                \
	do {                          \
		before_call(c);       \
		result_int((c), (e)); \
	} while (0)
#define CALL_STR(c, e)                \
	do {                          \
		before_call(c);       \
		result_str((c), (e)); \
	} while (0)
#define CALL_BOOL(c, e)                \
	do {                           \
		before_call(c);        \
		result_bool((c), (e)); \
	} while (0)
#define CALL_VOID(c, e)         \
	do {                    \
		before_call(c); \
		e;              \
		result_void(c); \
	} while (0)

/* Setup helpers: everything they make is released after the checks. */
void apply_pokes(struct ctx *c, void *in, size_t size, size_t full);
struct vgalloc_mem *alloc_mem(struct vgalloc_device *dev, uint32_t type, uint64_t size,
                              uint32_t flags, uint32_t export_types);
struct vgalloc_mem *keep_mem(struct ctx *c, struct vgalloc_device *dev, uint32_t type,
                             uint64_t size, uint32_t flags, uint32_t export_types);
struct vgalloc_mem *freed_mem(struct ctx *c, uint32_t type);
struct vgalloc_blob *create_blob(struct vgalloc_device *dev, uint32_t blob_mem, uint32_t flags,
                                 uint64_t size);
struct vgalloc_blob *keep_blob(struct ctx *c, struct vgalloc_device *dev, uint32_t blob_mem,
                               uint32_t flags, uint64_t size);
struct vgalloc_blob *mappable_blob(struct ctx *c);
struct vgalloc_blob *destroyed_blob(struct ctx *c);
struct vgalloc_blob *keep_shmem(struct ctx *c, uint64_t size);
int keep_fd(struct ctx *c, int fd);
int closed_fd(void);
int pipe_fd(struct ctx *c);
int foreign_fd(struct ctx *c);
int guest_fd(struct ctx *c);
struct vgalloc_device *adopt_dev(struct ctx *c, const struct vgalloc_host_hooks *hooks);
struct vgalloc_mock *scratch_mock(struct ctx *c, const struct fx_opts *o);
void drain_host(struct ctx *c);
uint32_t load_fixture(struct ctx *c, const char *name);
void put_u32(struct ctx *c, size_t off, uint32_t v);

/* A valid request (HOST_COHERENT, 4 KiB) with the case's pokes, for the request runners. */
struct req_in {
	struct vgalloc_request r;
	uint64_t tail[2];
};
void req_in(struct ctx *c, struct req_in *in);

/*
 * The sections of docs/errors.md: a row belongs to the section with the longest prefix its
 * function's name starts with (vgalloc_device_read_capset: capsets, not device), and that
 * section's file, tests/errors/test_errors_<name>.c, proves it.
 */
struct errcase_section {
	const char *name;
	const char *const *prefixes; /* NULL-terminated */
};
extern const struct errcase_section errcase_sections[];
extern const size_t errcase_section_count;
/* How many sections share fn's longest matching prefix (1 unless the table is ambiguous); *first
 * gets the first of them, or NULL. */
size_t errcase_sections_of(const char *fn, const struct errcase_section **first);

/* docs/errors.md: every table whose first header cell is "case" holds case rows
 * `| id | function | bad input | result | calls |`; backquotes are ignored. */
struct doc_row {
	char id[64];
	char fn[64];
	char result[64];
	char calls[16];
	int line;
};
struct errcase_doc {
	struct doc_row *rows;
	size_t count;
	char error[256]; /* the first problem found while reading, or empty */
};
extern struct errcase_doc doc;
void doc_load(void);
const struct doc_row *doc_find(const char *id);
/* The file's text (NUL-terminated, to be freed), or NULL. */
char *read_file(const char *path);

/*
 * The main of test_errors_<section>.c: the section's rows against its table (each row has a
 * case, each case a row of this section), then every case. Returns the failures.
 */
int errcase_main(const char *section, const struct errcase *cases, size_t count);

#endif
