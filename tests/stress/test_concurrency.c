/* SPDX-License-Identifier: MIT */
/*
 * Concurrency on one device: worker threads allocate, map, write, verify, export, import and free
 * for a wall-clock duration, hand allocations to each other so that frees cross threads, and race
 * trims and statistics walks with all of it, on the injecting (host-first) and the static
 * (guest-first) hypervisor. Every allocation carries a pattern of its own, so two live
 * allocations sharing a byte, or a block released under a live allocation, is caught; the
 * harness teardown then checks the mock's ledger and the process's fd count.
 * Covers: vgalloc_mem_alloc, vgalloc_mem_map, vgalloc_mem_unmap, vgalloc_mem_export,
 * vgalloc_mem_get_info, vgalloc_mem_free, vgalloc_plan_request, vgalloc_blob_import_dmabuf,
 * vgalloc_blob_get_info, vgalloc_blob_destroy, vgalloc_device_trim, vgalloc_device_get_stats,
 * vgalloc_device_get_pool_stats, vgalloc_device_stats_json.
 * Environment: VGALLOC_STRESS_SECONDS (per case; default 5, values below 5 only for local
 * debugging), VGALLOC_STRESS_THREADS (default 4, at least 4), VGALLOC_STRESS_SEED.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../harness.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)

#define DEFAULT_SECONDS 5.0
#define DEFAULT_THREADS 4u
#define MAX_THREADS     16u
#define LOCAL_MAX       48u /* allocations a worker holds */
#define INBOX_MAX       32u /* allocations waiting for a worker to free them */
#define LARGE_MAX       6u  /* live allocations above max_suballoc_size, all workers together */
#define LINGER_MAX      64u /* dma-buf fds kept open past calls, all workers together */
#define TRIM_EVERY_NS   (100ull * 1000 * 1000)
#define STATS_EVERY_NS  (50ull * 1000 * 1000)

/* What a worker asked for; each maps to one plan (checked against vgalloc_plan_request()). */
enum kind {
	KIND_SMALL,        /* 256 B - 64 KiB host-visible: suballocated */
	KIND_LOCAL,        /* device-local: host-only, never mapped */
	KIND_DEDICATED,    /* 16 KiB - 1 MiB host-visible, dedicated: a blob of its own */
	KIND_LARGE,        /* above max_suballoc_size: a blob of its own */
	KIND_EXPORT,       /* host-visible, exportable: a SHAREABLE blob of its own */
	KIND_EXPORT_LOCAL, /* device-local, exportable */
	KIND_IMPORT,       /* imported from a dma-buf that outlived its allocation */
	KIND_COUNT,
};

static const char *const kind_names[KIND_COUNT] = {
	"small", "device-local", "dedicated", "large", "export", "export-local", "import",
};

enum op {
	OP_ALLOC,
	OP_MAP,
	OP_MAP_REFUSED, /* device-local: -EINVAL, as documented */
	OP_WRITE,
	OP_VERIFY,
	OP_UNMAP,
	OP_EXPORT,
	OP_FD_READBACK,
	OP_FD_WRITE,
	OP_IMPORT_DEDUP,
	OP_IMPORT_MEM,
	OP_FREE_LOCAL,
	OP_HANDOFF,
	OP_FREE_CROSS,
	OP_ADOPT,
	OP_SHARED_MAP,
	OP_TRIM,
	OP_STATS,
	OP_COUNT,
};

static const char *const op_names[OP_COUNT] = {
	"alloc",    "map",         "map refused", "write",        "verify",     "unmap",
	"export",   "fd readback", "fd write",    "import dedup", "import mem", "free local",
	"hand-off", "free cross",  "adopt",       "shared map",   "trim",       "stats",
};

/* One allocation, owned by exactly one worker (or one inbox) at a time. */
struct item {
	struct vgalloc_mem *mem;
	uint64_t size;
	uint64_t tag;       /* pattern seed; 0 = nothing written yet */
	unsigned char *ptr; /* valid while maps > 0 */
	uint32_t maps;      /* our vgalloc_mem_map() references */
	uint32_t type;
	uint32_t kind;
	uint32_t export_types;
	uint32_t owner; /* the worker that allocated it */
	int fd;         /* an exported dma-buf kept open, -1 = none */
};

struct inbox {
	pthread_mutex_t lock;
	struct item items[INBOX_MAX];
	uint32_t n;
};

struct worker;

struct run {
	struct fx *f;
	uint32_t profile;
	uint32_t threads;
	uint64_t seed;
	uint64_t deadline_ns;
	atomic_bool stop;
	atomic_uint live_large;
	atomic_uint lingering;
	struct inbox inbox[MAX_THREADS];
	/* Shared allocations every worker maps and unmaps at once: warm has a pattern and no
	 * mapping when the workers start; cold has never been mapped. */
	struct item warm, cold;
	struct worker *workers;
};

struct worker {
	struct run *r;
	uint32_t id;
	uint64_t rng;
	uint64_t counter;
	struct item local[LOCAL_MAX];
	uint32_t n;
	uint64_t ops[OP_COUNT];
	uint64_t kinds[KIND_COUNT];
	uint64_t failures;
	char failure[384];
	uint64_t last_trim_ns, last_stats_ns;
	uint64_t peak_window, peak_mems, peak_blocks;
	pthread_t th;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint64_t rnd(struct worker *w, uint64_t n)
{
	return xorshift(&w->rng) % n;
}

/* Workers never call cmocka (it is not thread-safe): they record and stop the run. */
__attribute__((format(printf, 2, 3))) static void failf(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->failures) {
		va_start(ap, fmt);
		vsnprintf(w->failure, sizeof(w->failure), fmt, ap);
		va_end(ap);
	}
	w->failures++;
	atomic_store(&w->r->stop, true);
}

static bool ok(struct worker *w, int ret, const char *what, const struct item *it)
{
	if (ret) {
		failf(w, "%s: %d (%s, %llu bytes, type %u)", what, ret,
		      it ? kind_names[it->kind] : "-", it ? (unsigned long long)it->size : 0ull,
		      it ? it->type : 0);
	}
	return !ret;
}

/* --- patterns ------------------------------------------------------------------------------ */

/* Word i of an allocation whose tag is `tag`: tags are unique, so are the words. */
static uint64_t pattern_word(uint64_t tag, uint64_t i)
{
	return tag ^ (i * 0x9e3779b97f4a7c15ull);
}

static void pattern_write(unsigned char *p, uint64_t size, uint64_t tag)
{
	uint64_t words = size / 8, last;
	uint64_t *q = (uint64_t *)(void *)p;

	for (uint64_t i = 0; i < words; i++) {
		q[i] = pattern_word(tag, i);
	}
	if (size % 8) {
		last = pattern_word(tag, words);
		memcpy(p + words * 8, &last, size % 8);
	}
}

/*
 * Compare len bytes at p with the pattern starting at byte `from` (a multiple of 8). Returns the
 * offset of the first wrong byte, or UINT64_MAX.
 */
static uint64_t pattern_find_bad(const unsigned char *p, uint64_t from, uint64_t len, uint64_t tag)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;
	uint64_t words = len / 8, want;

	for (uint64_t i = 0; i < words; i++) {
		if (q[i] != pattern_word(tag, from / 8 + i)) {
			return from + i * 8;
		}
	}
	if (len % 8) {
		want = pattern_word(tag, from / 8 + words);
		if (memcmp(p + words * 8, &want, len % 8)) {
			return from + words * 8;
		}
	}
	return UINT64_MAX;
}

static bool pattern_ok(struct worker *w, const struct item *it, const unsigned char *p,
                       const char *through)
{
	uint64_t bad = pattern_find_bad(p, 0, it->size, it->tag), got = 0;

	if (bad != UINT64_MAX) {
		memcpy(&got, p + bad, (size_t)min_u64(8, it->size - bad));
		failf(w,
		      "pattern of a %s allocation (%llu bytes, type %u, tag %#llx) corrupted at "
		      "byte %llu (%#llx, not %#llx), read through %s",
		      kind_names[it->kind], (unsigned long long)it->size, it->type,
		      (unsigned long long)it->tag, (unsigned long long)bad, (unsigned long long)got,
		      (unsigned long long)pattern_word(it->tag, bad / 8), through);
		return false;
	}
	return true;
}

/* Read the allocation back through a dma-buf fd with pread, 4 KiB at a time. */
static bool pattern_ok_pread(struct worker *w, const struct item *it, int fd)
{
	uint64_t buf[512];

	for (uint64_t off = 0; off < it->size; off += sizeof(buf)) {
		size_t len = (size_t)min_u64(sizeof(buf), it->size - off);
		ssize_t got = pread(fd, buf, len, (off_t)off);
		uint64_t bad;

		if (got != (ssize_t)len) {
			failf(w, "pread of a dma-buf at %llu: %zd of %zu bytes",
			      (unsigned long long)off, got, len);
			return false;
		}
		bad = pattern_find_bad((const unsigned char *)buf, off, len, it->tag);
		if (bad != UINT64_MAX) {
			failf(w,
			      "pattern of a %s allocation (%llu bytes, tag %#llx) corrupted at "
			      "byte %llu, read through pread of its dma-buf",
			      kind_names[it->kind], (unsigned long long)it->size,
			      (unsigned long long)it->tag, (unsigned long long)bad);
			return false;
		}
	}
	return true;
}

static uint64_t new_tag(struct worker *w)
{
	return ((uint64_t)(w->id + 1) << 48) | ++w->counter;
}

/* --- items --------------------------------------------------------------------------------- */

static bool host_visible(const struct item *it)
{
	return it->type != TYPE_DEVICE_LOCAL;
}

static bool map_item(struct worker *w, struct item *it)
{
	void *p = NULL;
	int ret = vgalloc_mem_map(w->r->f->dev, it->mem, &p);

	if (!ok(w, ret, "vgalloc_mem_map", it)) {
		return false;
	}
	w->ops[OP_MAP]++;
	if (it->maps && p != it->ptr) {
		failf(w, "a second map of one allocation moved it: %p then %p", (void *)it->ptr, p);
	}
	it->ptr = p;
	it->maps++;
	return true;
}

static bool unmap_item(struct worker *w, struct item *it)
{
	while (it->maps) {
		if (!ok(w, vgalloc_mem_unmap(w->r->f->dev, it->mem), "vgalloc_mem_unmap", it)) {
			return false;
		}
		it->maps--;
		w->ops[OP_UNMAP]++;
	}
	it->ptr = NULL;
	return true;
}

/* Check the pattern through the library's mapping, mapping first if we hold none. */
static bool verify_item(struct worker *w, struct item *it)
{
	if (!it->tag || !host_visible(it)) {
		return true;
	}
	if (!it->maps && !map_item(w, it)) {
		return false;
	}
	w->ops[OP_VERIFY]++;
	return pattern_ok(w, it, it->ptr, "its mapping");
}

static bool plan_of(struct worker *w, const struct vgalloc_request *req, struct vgalloc_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->struct_size = sizeof(*plan);
	return ok(w, vgalloc_plan_request(w->r->f->dev, req, plan), "vgalloc_plan_request", NULL);
}

/* The allocation took the path its plan promised. */
static bool check_info(struct worker *w, struct item *it, const struct vgalloc_plan *plan)
{
	struct vgalloc_mem_info info = { .struct_size = sizeof(info) };

	if (!ok(w, vgalloc_mem_get_info(w->r->f->dev, it->mem, &info), "vgalloc_mem_get_info",
	        it)) {
		return false;
	}
	/* An import commits nothing of ours: the buffer is someone else's. */
	if (info.path != plan->path || info.size != it->size ||
	    (it->kind != KIND_IMPORT && info.committed < it->size) ||
	    info.memory_type != it->type) {
		failf(w,
		      "%s allocation: path %s (plan %s), size %llu (%llu), committed %llu, "
		      "type %u (%u)",
		      kind_names[it->kind], vgalloc_path_name(info.path),
		      vgalloc_path_name(plan->path), (unsigned long long)info.size,
		      (unsigned long long)it->size, (unsigned long long)info.committed,
		      info.memory_type, it->type);
		return false;
	}
	return true;
}

/* Build a request of one kind, and the item that will track it. */
static void make_request(struct worker *w, uint32_t kind, struct vgalloc_request *req,
                         struct item *it)
{
	uint32_t visible = rnd(w, 2) ? TYPE_HOST_COHERENT : TYPE_HOST_CACHED;
	uint64_t lo;

	switch (kind) {
	case KIND_SMALL:
		/* Log-uniform over 256 B - 64 KiB: every slab class and the range allocator. */
		lo = 256ull << rnd(w, 8);
		*req = fx_req(visible, lo + rnd(w, lo + 1));
		if (rnd(w, 8) == 0) {
			/* Another pool key, so that several pools grow and get trimmed. */
			req->allocate_flags = VGALLOC_ALLOCATE_DEVICE_ADDRESS;
		}
		break;
	case KIND_LOCAL:
		*req = fx_req(TYPE_DEVICE_LOCAL, 4 * KiB + rnd(w, 252 * KiB));
		break;
	case KIND_DEDICATED:
		*req = fx_req(visible, 16 * KiB + rnd(w, MiB - 16 * KiB));
		req->flags = rnd(w, 2) ? VGALLOC_REQUEST_DEDICATED_REQUIRED |
		                                 VGALLOC_REQUEST_DEDICATED_BUFFER
		                       : VGALLOC_REQUEST_DEDICATED_IMAGE;
		break;
	case KIND_LARGE:
		*req = fx_req(visible, 4 * MiB + 1 + rnd(w, 4 * MiB));
		break;
	case KIND_EXPORT:
	case KIND_EXPORT_LOCAL:
		*req = fx_req(kind == KIND_EXPORT ? visible : TYPE_DEVICE_LOCAL,
		              4 * KiB + rnd(w, 252 * KiB));
		req->export_handle_types =
		        rnd(w, 2) ? VGALLOC_HANDLE_TYPE_DMA_BUF
		                  : VGALLOC_HANDLE_TYPE_DMA_BUF | VGALLOC_HANDLE_TYPE_OPAQUE_FD;
		break;
	default:
		break;
	}
	memset(it, 0, sizeof(*it));
	it->size = req->size;
	it->type = req->memory_type;
	it->kind = kind;
	it->export_types = req->export_handle_types;
	it->owner = w->id;
	it->fd = -1;
}

static bool write_item(struct worker *w, struct item *it)
{
	if (!it->maps && !map_item(w, it)) {
		return false;
	}
	it->tag = new_tag(w);
	pattern_write(it->ptr, it->size, it->tag);
	w->ops[OP_WRITE]++;
	return true;
}

static void op_alloc(struct worker *w)
{
	struct vgalloc_request req;
	struct vgalloc_plan plan;
	struct item it;
	uint64_t pick = rnd(w, 100);
	uint32_t kind = pick < 55   ? KIND_SMALL
	                : pick < 65 ? KIND_LOCAL
	                : pick < 77 ? KIND_EXPORT
	                : pick < 81 ? KIND_EXPORT_LOCAL
	                : pick < 98 ? KIND_DEDICATED
	                            : KIND_LARGE;

	if (kind == KIND_LARGE && atomic_fetch_add(&w->r->live_large, 1) >= LARGE_MAX) {
		atomic_fetch_sub(&w->r->live_large, 1);
		kind = KIND_SMALL;
	}
	make_request(w, kind, &req, &it);
	if (!plan_of(w, &req, &plan) ||
	    !ok(w, vgalloc_mem_alloc(w->r->f->dev, &req, &it.mem), "vgalloc_mem_alloc", &it)) {
		if (kind == KIND_LARGE) {
			atomic_fetch_sub(&w->r->live_large, 1);
		}
		return;
	}
	w->ops[OP_ALLOC]++;
	w->kinds[kind]++;
	w->local[w->n++] = it;
	if (check_info(w, &w->local[w->n - 1], &plan) && host_visible(&it) && rnd(w, 2)) {
		write_item(w, &w->local[w->n - 1]);
	}
}

/* Map, check, rewrite and (sometimes) unmap one allocation. */
static void op_map(struct worker *w, struct item *it)
{
	void *p = NULL;
	int ret;

	if (!host_visible(it)) {
		ret = vgalloc_mem_map(w->r->f->dev, it->mem, &p);
		if (ret != -EINVAL) {
			failf(w, "map of device-local memory: %d, not -EINVAL", ret);
		}
		w->ops[OP_MAP_REFUSED]++;
		return;
	}
	if (!it->maps || rnd(w, 4) == 0) {
		if (!map_item(w, it)) {
			return;
		}
	}
	if (it->tag && !verify_item(w, it)) {
		return;
	}
	if (!it->tag || rnd(w, 2)) {
		write_item(w, it);
	}
	if (rnd(w, 3) == 0) {
		unmap_item(w, it);
	}
}

static bool fd_mapping_ok(struct worker *w, struct item *it, int fd, bool write)
{
	int prot = PROT_READ | (write ? PROT_WRITE : 0);
	unsigned char *p = mmap(NULL, it->size, prot, MAP_SHARED, fd, 0);
	bool good = true;

	if (p == MAP_FAILED) {
		failf(w, "mmap of a dma-buf (%llu bytes, %s): errno %d",
		      (unsigned long long)it->size, write ? "rw" : "ro", errno);
		return false;
	}
	if (write) {
		it->tag = new_tag(w);
		pattern_write(p, it->size, it->tag);
		w->ops[OP_FD_WRITE]++;
	} else {
		good = pattern_ok(w, it, p, "mmap of its dma-buf");
		w->ops[OP_FD_READBACK]++;
	}
	munmap(p, it->size);
	return good;
}

/* Importing our own export finds the allocation's blob in the dedup table. */
static void import_dedup(struct worker *w, struct item *it, int fd)
{
	struct vgalloc_blob_import_info ii = {
		.struct_size = sizeof(ii),
		.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
		.size = it->size,
	};
	struct vgalloc_mem_info mi = { .struct_size = sizeof(mi) };
	struct vgalloc_blob_info bi = { .struct_size = sizeof(bi) };
	struct vgalloc_blob *blob = NULL;
	struct vgalloc_device *dev = w->r->f->dev;

	if (!ok(w, vgalloc_blob_import_dmabuf(dev, fd, &ii, &blob), "vgalloc_blob_import_dmabuf",
	        it)) {
		return;
	}
	w->ops[OP_IMPORT_DEDUP]++;
	if (ok(w, vgalloc_mem_get_info(dev, it->mem, &mi), "vgalloc_mem_get_info", it) &&
	    ok(w, vgalloc_blob_get_info(dev, blob, &bi), "vgalloc_blob_get_info", it) &&
	    (mi.blob != blob || bi.res_id != mi.res_id || bi.refcount < 2)) {
		failf(w,
		      "import of our own export: blob %p (allocation's %p), res %u (%u), "
		      "refcount %u",
		      (void *)blob, (void *)mi.blob, bi.res_id, mi.res_id, bi.refcount);
	}
	ok(w, vgalloc_blob_destroy(dev, blob), "vgalloc_blob_destroy", it);
}

/* Export as a dma-buf, check the fd, read (or write) the same bytes through it, close it. */
static void op_export(struct worker *w, struct item *it)
{
	uint32_t types = it->export_types, type;
	int fd = -1, fl;

	/* One handle type per call, any the allocation was made for. */
	type = (types & VGALLOC_HANDLE_TYPE_OPAQUE_FD) && rnd(w, 2) ? VGALLOC_HANDLE_TYPE_OPAQUE_FD
	                                                            : VGALLOC_HANDLE_TYPE_DMA_BUF;
	if (!ok(w, vgalloc_mem_export(w->r->f->dev, it->mem, type, &fd), "vgalloc_mem_export",
	        it)) {
		return;
	}
	w->ops[OP_EXPORT]++;
	fl = fcntl(fd, F_GETFD);
	if (fl < 0 || !(fl & FD_CLOEXEC)) {
		failf(w, "exported fd %d: F_GETFD %d, not close-on-exec", fd, fl);
	}
	if (host_visible(it)) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || (fl & O_ACCMODE) != O_RDWR) {
			failf(w, "exported fd %d of mappable memory: F_GETFL %#x, not O_RDWR", fd,
			      fl);
		}
		/* Never written: write through the dma-buf, and read it through our mapping. */
		if (!it->tag && !fd_mapping_ok(w, it, fd, true)) {
			close(fd);
			return;
		}
		if (rnd(w, 2)) {
			fd_mapping_ok(w, it, fd, false);
		} else {
			pattern_ok_pread(w, it, fd);
			w->ops[OP_FD_READBACK]++;
		}
		/* Our mapping and the dma-buf show the same bytes. */
		if (it->maps) {
			w->ops[OP_VERIFY]++;
			pattern_ok(w, it, it->ptr, "its mapping, with its dma-buf open");
		}
		if (rnd(w, 4) == 0) {
			import_dedup(w, it, fd);
		}
		/* Some dma-bufs outlive their allocation, as a compositor's do. */
		if (it->fd < 0 && rnd(w, 4) == 0) {
			if (atomic_fetch_add(&w->r->lingering, 1) < LINGER_MAX) {
				it->fd = fd;
				return;
			}
			atomic_fetch_sub(&w->r->lingering, 1);
		}
	}
	close(fd);
}

/* Forward declaration: importing a lingering dma-buf adds an item to the worker. */
static void free_item(struct worker *w, struct item *it, bool cross);

/* The allocation is gone, its dma-buf is not: the bytes are still there, and importable. */
static void linger_after_free(struct worker *w, struct item *gone)
{
	struct vgalloc_request req;
	struct vgalloc_plan plan;
	struct item it = *gone;
	int fd = gone->fd;

	if (it.tag && !pattern_ok_pread(w, &it, fd)) {
		goto out;
	}
	if (rnd(w, 2) == 0) {
		goto out;
	}
	req = fx_req(it.type, it.size);
	req.flags = VGALLOC_REQUEST_IMPORT_FD;
	req.import_fd = fd;
	it.kind = KIND_IMPORT;
	it.export_types = 0;
	it.owner = w->id;
	it.fd = -1;
	it.maps = 0;
	it.ptr = NULL;
	it.mem = NULL;
	if (!plan_of(w, &req, &plan) || !ok(w, vgalloc_mem_alloc(w->r->f->dev, &req, &it.mem),
	                                    "vgalloc_mem_alloc (import)", &it)) {
		goto out;
	}
	w->ops[OP_IMPORT_MEM]++;
	w->kinds[KIND_IMPORT]++;
	if (!check_info(w, &it, &plan) || !verify_item(w, &it)) {
		free_item(w, &it, false);
		goto out;
	}
	if (w->n < LOCAL_MAX) {
		w->local[w->n++] = it;
	} else {
		free_item(w, &it, false);
	}
out:
	/* The fd was borrowed by the import: ours to close either way. */
	close(fd);
	atomic_fetch_sub(&w->r->lingering, 1);
}

/* Verify, then free (mapped or not), then deal with a dma-buf that outlives it. */
static void free_item(struct worker *w, struct item *it, bool cross)
{
	if (!verify_item(w, it)) {
		return;
	}
	if (rnd(w, 2) && !unmap_item(w, it)) {
		return;
	}
	if (!ok(w, vgalloc_mem_free(w->r->f->dev, it->mem), "vgalloc_mem_free", it)) {
		return;
	}
	w->ops[cross ? OP_FREE_CROSS : OP_FREE_LOCAL]++;
	if (it->kind == KIND_LARGE) {
		atomic_fetch_sub(&w->r->live_large, 1);
	}
	if (it->fd >= 0) {
		linger_after_free(w, it);
	}
}

static void take_local(struct worker *w, uint32_t i, struct item *out)
{
	*out = w->local[i];
	w->local[i] = w->local[--w->n];
}

static void op_handoff(struct worker *w)
{
	struct run *r = w->r;
	uint32_t i = (uint32_t)rnd(w, w->n);
	uint32_t to = (w->id + 1 + (uint32_t)rnd(w, r->threads - 1)) % r->threads;
	struct inbox *box = &r->inbox[to];
	bool handed = false;

	pthread_mutex_lock(&box->lock);
	if (box->n < INBOX_MAX) {
		box->items[box->n++] = w->local[i];
		handed = true;
	}
	pthread_mutex_unlock(&box->lock);
	if (handed) {
		w->local[i] = w->local[--w->n];
		w->ops[OP_HANDOFF]++;
	}
}

/* Take what other workers handed over: check it, then free it or keep using it. */
static void drain_inbox(struct worker *w, uint32_t max)
{
	struct inbox *box = &w->r->inbox[w->id];

	for (uint32_t k = 0; k < max; k++) {
		struct item it;
		bool got = false;

		pthread_mutex_lock(&box->lock);
		if (box->n) {
			it = box->items[0];
			box->items[0] = box->items[--box->n];
			got = true;
		}
		pthread_mutex_unlock(&box->lock);
		if (!got) {
			return;
		}
		if (w->n < LOCAL_MAX && rnd(w, 4) == 0) {
			if (verify_item(w, &it)) {
				w->local[w->n++] = it;
				w->ops[OP_ADOPT]++;
			}
		} else {
			free_item(w, &it, it.owner != w->id);
		}
	}
}

/* Every worker maps the shared allocations at once: one mapping, refcounted. */
static void op_shared_map(struct worker *w)
{
	struct run *r = w->r;
	struct item warm = r->warm, cold = r->cold;
	volatile unsigned char *c;

	warm.maps = 0;
	if (!map_item(w, &warm)) {
		return;
	}
	if (rnd(w, 2)) {
		map_item(w, &warm);
	}
	w->ops[OP_VERIFY]++;
	pattern_ok(w, &warm, warm.ptr, "a mapping shared by every worker");
	unmap_item(w, &warm);
	cold.maps = 0;
	if (map_item(w, &cold)) {
		c = cold.ptr;
		(void)c[cold.size - 1];
		unmap_item(w, &cold);
	}
	w->ops[OP_SHARED_MAP]++;
}

static void op_trim(struct worker *w)
{
	int ret = vgalloc_device_trim(w->r->f->dev);

	if (ret < 0) {
		failf(w, "vgalloc_device_trim: %d", ret);
	}
	w->ops[OP_TRIM]++;
}

static void op_stats(struct worker *w)
{
	struct vgalloc_device *dev = w->r->f->dev;
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc_pool_stats ps = { .struct_size = sizeof(ps) };
	char json[8192];
	uint32_t i;
	int ret;

	if (!ok(w, vgalloc_device_get_stats(dev, &st), "vgalloc_device_get_stats", NULL)) {
		return;
	}
	w->peak_window = max_u64(w->peak_window, st.window_bytes);
	w->peak_mems = max_u64(w->peak_mems, st.mems_live + st.suballocs_live);
	w->peak_blocks = max_u64(w->peak_blocks, st.blocks);
	/* Each pool is walked under its shard locks: per shard the walk is exact. */
	for (i = 0; (ret = vgalloc_device_get_pool_stats(dev, i, &ps)) == 0; i++) {
		if (ps.used_bytes < ps.requested_bytes || ps.largest_free > ps.free_bytes ||
		    ps.free_bytes + ps.used_bytes > ps.block_bytes ||
		    ps.retained_bytes > ps.block_bytes) {
			failf(w,
			      "pool %u walk: used %llu requested %llu free %llu largest %llu "
			      "blocks %llu retained %llu",
			      i, (unsigned long long)ps.used_bytes,
			      (unsigned long long)ps.requested_bytes,
			      (unsigned long long)ps.free_bytes,
			      (unsigned long long)ps.largest_free,
			      (unsigned long long)ps.block_bytes,
			      (unsigned long long)ps.retained_bytes);
		}
	}
	if (ret != -ENOENT) {
		failf(w, "vgalloc_device_get_pool_stats(%u): %d", i, ret);
	}
	ret = vgalloc_device_stats_json(dev, json, sizeof(json));
	if (ret <= 0 || json[0] != '{') {
		failf(w, "vgalloc_device_stats_json: %d", ret);
	}
	w->ops[OP_STATS]++;
}

/* A local exportable allocation, from a random start; -1 when there is none. */
static int pick_exportable(struct worker *w)
{
	uint32_t start = (uint32_t)rnd(w, w->n);

	for (uint32_t k = 0; k < w->n; k++) {
		uint32_t i = (start + k) % w->n;

		if (w->local[i].export_types) {
			return (int)i;
		}
	}
	return -1;
}

static void step(struct worker *w, uint64_t now)
{
	struct item it;
	uint64_t pick;
	int i;

	drain_inbox(w, 2);
	/* Trims and walks race with everything else: often by chance, and on a clock too. */
	if (rnd(w, 200) == 0 || (w->id == 0 && now - w->last_trim_ns >= TRIM_EVERY_NS)) {
		w->last_trim_ns = now;
		op_trim(w);
	}
	if (rnd(w, 100) == 0 || (w->id == 1 && now - w->last_stats_ns >= STATS_EVERY_NS)) {
		w->last_stats_ns = now;
		op_stats(w);
	}
	pick = w->n < 4 ? 0 : rnd(w, 100);
	if (pick < 26) {
		if (w->n < LOCAL_MAX) {
			op_alloc(w);
			return;
		}
		pick = 26 + rnd(w, 74);
	}
	if (pick < 48) {
		op_map(w, &w->local[rnd(w, w->n)]);
	} else if (pick < 58) {
		i = pick_exportable(w);
		if (i >= 0) {
			op_export(w, &w->local[i]);
		}
	} else if (pick < 71) {
		take_local(w, (uint32_t)rnd(w, w->n), &it);
		free_item(w, &it, it.owner != w->id);
	} else if (pick < 84) {
		op_handoff(w);
	} else if (pick < 88) {
		op_shared_map(w);
	} else {
		/* Map churn on one allocation: map, check, drop every map. */
		struct item *one = &w->local[rnd(w, w->n)];

		if (host_visible(one) && map_item(w, one)) {
			verify_item(w, one);
			unmap_item(w, one);
		}
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->r;
	uint64_t now;
	struct item it;

	while (!atomic_load(&r->stop) && (now = now_ns()) < r->deadline_ns) {
		step(w, now);
	}
	while (w->n && !w->failures) {
		take_local(w, w->n - 1, &it);
		free_item(w, &it, it.owner != w->id);
	}
	return NULL;
}

/* --- the run ------------------------------------------------------------------------------- */

static double stress_seconds(void)
{
	const char *s = getenv("VGALLOC_STRESS_SECONDS");
	double v = s ? strtod(s, NULL) : 0;

	/* A value set in the environment wins, even below the default (local debugging). */
	return v > 0 ? v : DEFAULT_SECONDS;
}

static uint32_t stress_threads(void)
{
	const char *s = getenv("VGALLOC_STRESS_THREADS");
	long v = s ? strtol(s, NULL, 10) : 0;

	if (v < (long)DEFAULT_THREADS) {
		return DEFAULT_THREADS;
	}
	return v > (long)MAX_THREADS ? MAX_THREADS : (uint32_t)v;
}

static uint64_t stress_seed(uint32_t profile)
{
	const char *s = getenv("VGALLOC_STRESS_SEED");

	return (s ? strtoull(s, NULL, 0) : 0xc0cc0ffee5eedull) ^ profile;
}

/* A shared dedicated host-visible allocation; `write` leaves a pattern and no mapping. */
static void shared_item(struct run *r, struct item *it, uint64_t size, bool write)
{
	struct vgalloc_request req = fx_req(TYPE_HOST_CACHED, size);
	void *p;

	req.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED | VGALLOC_REQUEST_DEDICATED_BUFFER;
	memset(it, 0, sizeof(*it));
	it->size = size;
	it->type = TYPE_HOST_CACHED;
	it->kind = KIND_DEDICATED;
	it->owner = UINT32_MAX;
	it->fd = -1;
	assert_int_equal(vgalloc_mem_alloc(r->f->dev, &req, &it->mem), 0);
	if (write) {
		it->tag = 0x5a5a000000000001ull;
		assert_int_equal(vgalloc_mem_map(r->f->dev, it->mem, &p), 0);
		pattern_write(p, size, it->tag);
		assert_int_equal(vgalloc_mem_unmap(r->f->dev, it->mem), 0);
	}
}

/* Each kind of request takes the path (and the pool, or not) the stress means it to. */
static void check_kinds(struct run *r, struct worker *w)
{
	static const struct {
		uint32_t kind;
		uint32_t suballocate;
		uint32_t injecting, statik; /* enum vgalloc_path per profile */
	} want[] = {
		{ KIND_SMALL, 1, VGALLOC_PATH_HOST_FIRST_LAZY, VGALLOC_PATH_GUEST_FIRST },
		{ KIND_LOCAL, 0, VGALLOC_PATH_HOST_ONLY, VGALLOC_PATH_HOST_ONLY },
		{ KIND_DEDICATED, 0, VGALLOC_PATH_HOST_FIRST_LAZY, VGALLOC_PATH_GUEST_FIRST },
		{ KIND_LARGE, 0, VGALLOC_PATH_HOST_FIRST_LAZY, VGALLOC_PATH_GUEST_FIRST },
		{ KIND_EXPORT, 0, VGALLOC_PATH_HOST_FIRST_EAGER, VGALLOC_PATH_GUEST_FIRST },
		{ KIND_EXPORT_LOCAL, 0, VGALLOC_PATH_HOST_FIRST_EAGER, VGALLOC_PATH_GUEST_FIRST },
	};
	struct vgalloc_request req;
	struct vgalloc_plan plan;
	struct item it;

	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		uint32_t path = r->profile == VGALLOC_MOCK_PROFILE_STATIC ? want[k].statik
		                                                          : want[k].injecting;

		for (int n = 0; n < 16; n++) {
			make_request(w, want[k].kind, &req, &it);
			assert_true(plan_of(w, &req, &plan));
			if (plan.suballocate != want[k].suballocate || plan.path != path) {
				fail_msg("%s request of %llu bytes: suballocate %u, path %s (want "
				         "%s)",
				         kind_names[it.kind], (unsigned long long)req.size,
				         plan.suballocate, vgalloc_path_name(plan.path),
				         vgalloc_path_name(path));
			}
		}
	}
}

static struct run *run_new(uint32_t profile)
{
	struct run *r = calloc(1, sizeof(*r));
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };

	assert_non_null(r);
	r->threads = stress_threads();
	r->profile = profile;
	r->seed = stress_seed(profile);
	r->workers = calloc(r->threads + 1, sizeof(*r->workers));
	assert_non_null(r->workers);
	atomic_init(&r->stop, false);
	atomic_init(&r->live_large, 0);
	atomic_init(&r->lingering, 0);
	for (uint32_t i = 0; i < MAX_THREADS; i++) {
		assert_int_equal(pthread_mutex_init(&r->inbox[i].lock, NULL), 0);
	}
	/* Worker `threads` is the main thread's bookkeeping: it drains what is left at the end. */
	for (uint32_t i = 0; i <= r->threads; i++) {
		r->workers[i].r = r;
		r->workers[i].id = i;
		r->workers[i].rng = (r->seed ^ ((uint64_t)(i + 1) * 0x9e3779b97f4a7c15ull)) | 1;
	}
	r->f = fx_new(&(struct fx_opts){ .profile = profile });
	assert_int_equal(vgalloc_device_get_info(r->f->dev, &di), 0);
	assert_int_equal(di.alloc_mode, profile == VGALLOC_MOCK_PROFILE_STATIC
	                                        ? VGALLOC_ALLOC_MODE_GUEST_FIRST
	                                        : VGALLOC_ALLOC_MODE_HOST_FIRST);
	check_kinds(r, &r->workers[r->threads]);
	shared_item(r, &r->warm, 192 * KiB, true);
	shared_item(r, &r->cold, 64 * KiB, false);
	return r;
}

/* Run the workers for the duration; returns the wall-clock time they took, in seconds. */
static double run_workers(struct run *r, double seconds)
{
	uint64_t start = now_ns();

	r->deadline_ns = start + (uint64_t)(seconds * 1e9);
	for (uint32_t i = 0; i < r->threads; i++) {
		assert_int_equal(
		        pthread_create(&r->workers[i].th, NULL, worker_main, &r->workers[i]), 0);
	}
	for (uint32_t i = 0; i < r->threads; i++) {
		assert_int_equal(pthread_join(r->workers[i].th, NULL), 0);
	}
	return (double)(now_ns() - start) / 1e9;
}

/* What the workers left in their inboxes is checked and freed by yet another thread. */
static void run_drain(struct run *r)
{
	struct worker *w = &r->workers[r->threads];
	struct item it;

	for (uint32_t i = 0; i < r->threads && !w->failures; i++) {
		w->id = i; /* drain_inbox() empties the inbox of w->id */
		drain_inbox(w, INBOX_MAX);
	}
	w->id = r->threads;
	while (w->n && !w->failures) {
		take_local(w, w->n - 1, &it);
		free_item(w, &it, true);
	}
}

struct totals {
	uint64_t ops[OP_COUNT];
	uint64_t kinds[KIND_COUNT];
	uint64_t failures;
	uint64_t peak_window, peak_mems, peak_blocks;
};

static void run_report(struct run *r, const char *name, double secs, struct totals *t)
{
	uint64_t all = 0;

	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i <= r->threads; i++) {
		const struct worker *w = &r->workers[i];

		for (int k = 0; k < OP_COUNT; k++) {
			t->ops[k] += w->ops[k];
		}
		for (int k = 0; k < KIND_COUNT; k++) {
			t->kinds[k] += w->kinds[k];
		}
		if (w->failures) {
			print_message("  %s %u: %llu failure(s), the first: %s\n",
			              i < r->threads ? "worker" : "final drain", i,
			              (unsigned long long)w->failures, w->failure);
		}
		t->failures += w->failures;
		t->peak_window = max_u64(t->peak_window, w->peak_window);
		t->peak_mems = max_u64(t->peak_mems, w->peak_mems);
		t->peak_blocks = max_u64(t->peak_blocks, w->peak_blocks);
	}
	print_message("  %s: %u threads, %.2f s, seed %#llx\n", name, r->threads, secs,
	              (unsigned long long)r->seed);
	for (int k = 0; k < OP_COUNT; k++) {
		print_message("    %-14s %10llu %10.0f/s\n", op_names[k],
		              (unsigned long long)t->ops[k], (double)t->ops[k] / secs);
		all += t->ops[k];
	}
	print_message("    %-14s %10llu %10.0f/s\n", "all", (unsigned long long)all,
	              (double)all / secs);
	print_message("    allocations:");
	for (int k = 0; k < KIND_COUNT; k++) {
		print_message(" %s %llu", kind_names[k], (unsigned long long)t->kinds[k]);
	}
	print_message("\n    peaks: %llu live allocations, %llu blocks, %llu window bytes\n",
	              (unsigned long long)t->peak_mems, (unsigned long long)t->peak_blocks,
	              (unsigned long long)t->peak_window);
}

/*
 * Enough of every operation happened for the run to mean something (slow under valgrind, so the
 * floors are low). Shorter debugging runs scale the floors and skip the rare operations.
 */
static void assert_enough(const struct totals *t, double seconds)
{
	static const struct {
		uint32_t op;
		uint64_t floor;
	} common[] = {
		{ OP_ALLOC, 100 },     { OP_MAP, 50 },        { OP_VERIFY, 50 },
		{ OP_EXPORT, 10 },     { OP_FD_READBACK, 5 }, { OP_HANDOFF, 10 },
		{ OP_FREE_CROSS, 10 }, { OP_SHARED_MAP, 5 },  { OP_TRIM, 1 },
		{ OP_STATS, 1 },
	};
	static const uint32_t rare[] = { OP_IMPORT_DEDUP, OP_IMPORT_MEM, OP_FD_WRITE, OP_ADOPT };
	double scale = seconds < DEFAULT_SECONDS ? seconds / DEFAULT_SECONDS : 1.0;

	for (size_t k = 0; k < sizeof(common) / sizeof(common[0]); k++) {
		uint64_t floor = max_u64(1, (uint64_t)((double)common[k].floor * scale));

		if (t->ops[common[k].op] < floor) {
			fail_msg("%s: %llu, expected at least %llu", op_names[common[k].op],
			         (unsigned long long)t->ops[common[k].op],
			         (unsigned long long)floor);
		}
	}
	if (scale < 1.0) {
		print_message("  (a run shorter than %.0f s: rare operations not required)\n",
		              DEFAULT_SECONDS);
		return;
	}
	for (size_t k = 0; k < sizeof(rare) / sizeof(rare[0]); k++) {
		if (!t->ops[rare[k]]) {
			fail_msg("%s never happened", op_names[rare[k]]);
		}
	}
	for (int k = 0; k < KIND_COUNT; k++) {
		if (!t->kinds[k]) {
			fail_msg("no %s allocation was made", kind_names[k]);
		}
	}
}

/* Everything is freed: nothing is live, the window was never full, teardown never erred. */
static void assert_all_freed(struct run *r)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	void *p;

	/* The shared allocation kept its pattern through every worker's maps and unmaps. */
	assert_int_equal(vgalloc_mem_map(r->f->dev, r->warm.mem, &p), 0);
	assert_true(pattern_find_bad(p, 0, r->warm.size, r->warm.tag) == UINT64_MAX);
	assert_int_equal(vgalloc_mem_free(r->f->dev, r->warm.mem), 0);
	assert_int_equal(vgalloc_mem_free(r->f->dev, r->cold.mem), 0);
	assert_int_equal(atomic_load(&r->live_large), 0);
	assert_int_equal(atomic_load(&r->lingering), 0);
	for (uint32_t i = 0; i < MAX_THREADS; i++) {
		assert_int_equal(r->inbox[i].n, 0);
	}

	assert_int_equal(vgalloc_device_get_stats(r->f->dev, &st), 0);
	assert_int_equal(st.mems_live, 0);
	assert_int_equal(st.suballocs_live, 0);
	assert_int_equal(st.suballoc_bytes, 0);
	assert_int_equal(st.mem_bytes_requested, 0);
	assert_int_equal(st.mem_bytes_committed, 0);
	assert_int_equal(st.enospc_events, 0);
	assert_int_equal(st.teardown_errors, 0);
	assert_int_equal(st.retained_bytes, st.block_bytes);
	assert_int_equal(st.blocks, st.block_creations - st.block_releases);
	assert_int_equal(vgalloc_device_trim(r->f->dev), (int)st.blocks);
	assert_int_equal(vgalloc_device_get_stats(r->f->dev, &st), 0);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.block_bytes, 0);
	assert_int_equal(st.blobs_live, 0);
	assert_int_equal(st.window_bytes, 0);
	/* Before the device goes: it holds nothing on the host or in the kernel any more. */
	fx_assert_clean(r->f->mock);
}

static void stress_case(uint32_t profile, const char *name)
{
	struct run *r = run_new(profile);
	double seconds = stress_seconds(), secs;
	struct totals t;

	secs = run_workers(r, seconds);
	run_drain(r);
	run_report(r, name, secs, &t);
	assert_int_equal(t.failures, 0);
	assert_enough(&t, seconds);
	assert_all_freed(r);
	for (uint32_t i = 0; i < MAX_THREADS; i++) {
		pthread_mutex_destroy(&r->inbox[i].lock);
	}
	/* The harness's teardown: the mock's ledger and the process's fd count. */
	fx_free(r->f);
	free(r->workers);
	free(r);
}

static void concurrency__mixed_ops_host_first_injecting(void **state)
{
	(void)state;
	stress_case(VGALLOC_MOCK_PROFILE_INJECTING, "injecting (host-first)");
}

static void concurrency__mixed_ops_guest_first_static(void **state)
{
	(void)state;
	stress_case(VGALLOC_MOCK_PROFILE_STATIC, "static (guest-first)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(concurrency__mixed_ops_host_first_injecting),
		cmocka_unit_test(concurrency__mixed_ops_guest_first_static),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
