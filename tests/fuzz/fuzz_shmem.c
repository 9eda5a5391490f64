/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the shared-memory blob cache (lib/shmem.c) on the mock, against a model.
 * Operations decoded from the input create and give back shmem blobs of any size, misuse them
 * through the blob API, hold ordinary blobs to fill the window, trim, change the cache's expiry
 * and byte cap, and meet one injected backend fault or bookkeeping-allocation failure at a time.
 * The model predicts every hit (the most recently cached blob of that exact size, with the bytes
 * its last owner wrote, and no kernel call), every miss, what is cached (powers of two under the
 * byte cap) and what expires; the mock's trace of the operation says what the kernel answered,
 * and a failed create must return one of those answers (or -ENOMEM from the allocator), with the
 * cache released exactly when the window was full. After every operation the device's counters
 * and the mock's ledger (blobs, handles, mappings, window bytes) equal the model's; at the end,
 * with or without giving everything back first, nothing is left in the kernel or the allocator.
 *
 * Input: a few setup bytes (mock profile, host page, window, flags, expiry, cap), then one
 * operation per selector byte until the input runs out.
 */
#include <errno.h>
#include <time.h>

#include "blob.h"
#include "caps.h"
#include "mem.h"
#include "state.h"
#include "vgalloc/vgalloc_diag.h"
#include "vgalloc/vgalloc_mock.h"

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS    160
#define MAX_LIVE   24
#define MAX_CACHED MAX_OPS
#define MAX_HELD   6
#define MAX_STALE  8
#define MAX_TRACE  1024

/* Cache expiry settings (the default 1 s cannot be modelled by the clock of a short input). */
enum expiry {
	EXPIRY_NEVER,
	EXPIRY_NOW,
	EXPIRY_HOUR
};

/* The bookkeeping allocator: counts what is live and fails the nth call when armed. */
struct counting_allocator {
	struct vgalloc_allocator a;
	uint32_t fail_in;
	bool fired;
	uint64_t live;
};

static void *counting_alloc(void *user, size_t size, size_t alignment, uint32_t scope)
{
	struct counting_allocator *c = user;
	void *p = NULL;

	(void)scope;
	if (c->fail_in && !--c->fail_in) {
		c->fired = true;
		return NULL;
	}
	if (posix_memalign(&p, FZ_MAX(alignment, sizeof(void *)), size)) {
		return NULL;
	}
	c->live++;
	return p;
}

static void counting_free(void *user, void *ptr)
{
	struct counting_allocator *c = user;

	if (ptr) {
		c->live--;
	}
	free(ptr);
}

struct shm {
	struct vgalloc_blob *blob;
	uint64_t size;
	unsigned char *ptr;
	uint8_t fill;       /* what its last owner wrote */
	uint32_t user_maps; /* vgalloc_blob_map() references of the owner */
};

struct model {
	struct vgalloc_mock *mock;
	struct vgalloc_device *dev;
	struct counting_allocator alloc;
	uint64_t align, window, host_page;
	bool supported;   /* blob_id 0, 3D and a window: shmem works at all */
	bool page_refuse; /* the host refuses blobs that are no multiple of its page */
	struct shm live[MAX_LIVE];
	uint32_t nlive;
	struct shm cache[MAX_CACHED]; /* oldest cached first */
	uint32_t ncached;
	struct vgalloc_blob *held[MAX_HELD]; /* ordinary blobs taking window space */
	uint64_t held_size[MAX_HELD];
	uint32_t nheld;
	struct vgalloc_blob *stale[MAX_STALE]; /* pointers given back */
	uint32_t nstale;
	uint64_t hits, misses;
	enum expiry expiry;
	uint64_t cap;
	uint64_t last_cached_ns; /* clock after the last give-back */
	uint8_t next_fill;
};

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void log_line(void *user, enum vgalloc_log_level level, const char *msg)
{
	(void)user;
	FZ_CHECK(level >= VGALLOC_LOG_ERROR && level <= VGALLOC_LOG_DEBUG);
	FZ_CHECK(msg && msg[0] && !strchr(msg, '\n'));
}

/* The cache bucket of a size, as vgalloc.h documents it: powers of two only. */
static bool cacheable_size(uint64_t size)
{
	return fz_is_pow2(size) && size < (1ull << VGALLOC__SHMEM_BUCKETS);
}

static uint64_t cached_bytes(const struct model *m)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < m->ncached; i++) {
		n += m->cache[i].size;
	}
	return n;
}

/* The bytes of a blob that are written and checked: 0..7, then every 1/8 more, the last. */
static uint64_t next_probe(uint64_t j, uint64_t size)
{
	uint64_t n = j + 1 + j / 8;

	return n < size || j == size - 1 ? n : size - 1;
}

static void fill(struct shm *s, uint8_t value)
{
	s->fill = value;
	for (uint64_t j = 0; j < s->size; j = next_probe(j, s->size)) {
		s->ptr[j] = (uint8_t)(value + j);
	}
}

/* A blob from the cache keeps what its last owner wrote: it is the same memory. */
static void check_fill(const struct shm *s)
{
	for (uint64_t j = 0; j < s->size; j = next_probe(j, s->size)) {
		if (s->ptr[j] != (uint8_t)(s->fill + j)) {
			fz_fail(__FILE__, __LINE__,
			        "shmem blob of %llu bytes: byte %llu is %u, not %u",
			        (unsigned long long)s->size, (unsigned long long)j, s->ptr[j],
			        (uint8_t)(s->fill + j));
		}
	}
}

/* What the kernel did during one operation, from the mock's trace. */
struct answers {
	uint32_t creates, maps, unmaps, closes;
	bool enospc;  /* a CREATE_BLOB or map answered -ENOSPC */
	int errs[16]; /* every error the kernel answered */
	uint32_t nerrs;
};

static void read_answers(struct model *m, struct answers *a)
{
	static struct vgalloc_mock_trace_entry e[MAX_TRACE];
	int n = vgalloc_mock_get_trace(m->mock, e, MAX_TRACE);

	memset(a, 0, sizeof(*a));
	FZ_CHECK(n >= 0 && n < MAX_TRACE);
	for (int i = 0; i < n; i++) {
		switch (e[i].call) {
		case VGALLOC_MOCK_CALL_BLOB_CREATE:
			a->creates++;
			/* The one kind of blob vgalloc.h promises: HOST3D, MAPPABLE, blob_id 0, rounded. */
			if (e[i].blob_flags == VGALLOC_BLOB_FLAG_MAPPABLE && !e[i].blob_id) {
				FZ_CHECK_EQ(e[i].blob_mem, VGALLOC_BLOB_MEM_HOST3D);
				FZ_CHECK_EQ(e[i].size % m->align, 0);
			}
			break;
		case VGALLOC_MOCK_CALL_BLOB_MAP:
			a->maps++;
			break;
		case VGALLOC_MOCK_CALL_BLOB_UNMAP:
			a->unmaps++;
			break;
		case VGALLOC_MOCK_CALL_BLOB_DESTROY:
			a->closes++;
			break;
		default:
			fz_fail(__FILE__, __LINE__, "unexpected call %s",
			        vgalloc_mock_call_name(e[i].call));
		}
		if (e[i].result) {
			a->enospc |= e[i].result == -ENOSPC;
			if (a->nerrs < FZ_ARRAY_SIZE(a->errs)) {
				a->errs[a->nerrs++] = e[i].result;
			}
		}
	}
}

static bool answered(const struct answers *a, int err)
{
	for (uint32_t i = 0; i < a->nerrs; i++) {
		if (a->errs[i] == err) {
			return true;
		}
	}
	return false;
}

/* Every counter of the device and the mock equals the model's. */
static void check_all(struct model *m)
{
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };
	uint64_t blobs = m->nlive + m->ncached + m->nheld, window = cached_bytes(m);

	for (uint32_t i = 0; i < m->nlive; i++) {
		window += m->live[i].size;
	}
	for (uint32_t i = 0; i < m->nheld; i++) {
		window += m->held_size[i];
	}
	FZ_CHECK_EQ(vgalloc_device_get_stats(m->dev, &st), 0);
	FZ_CHECK_EQ(st.shmem_live, m->nlive);
	FZ_CHECK_EQ(st.shmem_cached, m->ncached);
	FZ_CHECK_EQ(st.shmem_cached_bytes, cached_bytes(m));
	FZ_CHECK_EQ(st.shmem_hits, m->hits);
	FZ_CHECK_EQ(st.shmem_misses, m->misses);
	FZ_CHECK_EQ(st.blobs_live, blobs);
	FZ_CHECK_EQ(st.blobs_mapped, m->nlive + m->ncached);
	FZ_CHECK_EQ(st.window_bytes, window);
	FZ_CHECK_EQ(vgalloc_mock_get_ledger(m->mock, &l), 0);
	FZ_CHECK_EQ(l.live_blobs, blobs);
	FZ_CHECK_EQ(l.live_handles, blobs);
	FZ_CHECK_EQ(l.mapped_blobs, m->nlive + m->ncached);
	FZ_CHECK_EQ(l.window_bytes, window);
	FZ_CHECK_EQ(l.context_lost, 0);
	FZ_CHECK(window <= m->window);
}

/* The mappings of live and cached blobs are distinct memory. */
static void check_disjoint(const struct model *m, const struct shm *s)
{
	for (uint32_t i = 0; i < m->nlive; i++) {
		const struct shm *o = &m->live[i];

		FZ_CHECK(o->blob != s->blob);
		FZ_CHECK(s->ptr + s->size <= o->ptr || o->ptr + o->size <= s->ptr);
	}
	for (uint32_t i = 0; i < m->ncached; i++) {
		FZ_CHECK(m->cache[i].blob != s->blob);
	}
}

static void forget_stale(struct model *m, const struct vgalloc_blob *b)
{
	for (uint32_t i = 0; i < m->nstale;) {
		if (m->stale[i] == b) {
			m->stale[i] = m->stale[--m->nstale];
		} else {
			i++;
		}
	}
}

static uint64_t pick_size(struct fz *f)
{
	switch (fz_pick(f, 10)) {
	case 0:
		return 1 + fz_u16(f);
	case 1:
	case 2:
	case 3:
		return 4096ull << fz_pick(f, 8); /* 4 KiB .. 512 KiB */
	case 4:
		return 4096ull << fz_pick(f, 13); /* .. 16 MiB */
	case 5:
		return 4096ull * (3 + fz_pick(f, 40)); /* rounded, no power of two */
	case 6:
		return (4096ull << fz_pick(f, 8)) - fz_u8(f); /* rounds up to a power of two */
	case 7:
		return 1ull << (36 + fz_pick(f, 8)); /* no window has that much */
	case 8:
		return UINT64_MAX - fz_u16(f); /* overflows when rounded */
	default:
		return 0;
	}
}

static void shm_create(struct model *m, struct fz *f)
{
	uint64_t size = pick_size(f), rounded;
	uint32_t before = m->ncached;
	struct vgalloc_blob *blob = NULL;
	struct answers a;
	struct shm s;
	void *ptr = NULL;
	int hit = -1;
	int ret;

	if (m->nlive == MAX_LIVE) {
		return;
	}
	ret = vgalloc_shmem_create(m->dev, size, &blob, &ptr);
	read_answers(m, &a);
	fz_trace("create %llu: %d", (unsigned long long)size, ret);
	if (!size || size > UINT64_MAX - (m->align - 1)) {
		FZ_CHECK_EQ(ret, -EINVAL);
		FZ_CHECK_EQ(a.creates + a.maps + a.closes, 0);
		return;
	}
	rounded = fz_round_up(size, m->align);
	if (!m->supported) {
		FZ_CHECK_EQ(ret, -EOPNOTSUPP);
		FZ_CHECK_EQ(a.creates + a.maps + a.closes, 0);
		return;
	}
	/* A hit is the most recently cached blob of exactly the rounded size. */
	for (uint32_t i = 0; i < m->ncached; i++) {
		if (m->cache[i].size == rounded) {
			hit = (int)i;
		}
	}
	if (hit >= 0) {
		s = m->cache[hit];
		FZ_CHECK_EQ(ret, 0);
		FZ_CHECK(blob == s.blob && ptr == s.ptr);
		/* A hit makes no kernel call. */
		FZ_CHECK_EQ(a.creates + a.maps + a.unmaps + a.closes, 0);
		memmove(&m->cache[hit], &m->cache[hit + 1],
		        (m->ncached - (uint32_t)hit - 1) * sizeof(m->cache[0]));
		m->ncached--;
		/* Its contents are what its last owner wrote. */
		check_fill(&s);
		m->hits++;
	} else {
		if (a.enospc) {
			/* The window was full: everything cached was released (the trim), and
			 * the create was tried once more only if that released anything. */
			FZ_CHECK(a.closes >= before);
			FZ_CHECK(a.creates <= (before ? 2u : 1u));
			m->ncached = 0;
		} else {
			/* One attempt; the cache was not touched. A blob made but not handed
			 * out (its map failed, or the bookkeeping could not grow) is closed. */
			FZ_CHECK(a.creates <= 1 && a.closes <= (ret ? 1u : 0u));
		}
		if (ret) {
			if (!answered(&a, ret) && !(ret == -ENOMEM && m->alloc.fired)) {
				fz_fail(__FILE__, __LINE__,
				        "shmem_create(%llu): %d, which no kernel call answered",
				        (unsigned long long)size, ret);
			}
			return;
		}
		/* A host that maps whole pages only refuses the others at the mapping. */
		FZ_CHECK(!m->page_refuse || rounded % m->host_page == 0);
		FZ_CHECK(a.creates >= 1 && a.maps >= 1);
		s = (struct shm){ .blob = blob, .size = rounded, .ptr = ptr };
		m->misses++;
	}
	FZ_CHECK(ptr != NULL);
	check_disjoint(m, &s);
	forget_stale(m, blob);
	s.user_maps = 0;
	fill(&s, m->next_fill++);
	m->live[m->nlive++] = s;
}

/* Give a live blob back, first dropping the owner's own map references. */
static void shm_destroy(struct model *m, struct fz *f)
{
	struct shm s;
	struct answers a;
	uint32_t i, released = 0;
	bool cached;
	int ret;

	if (!m->nlive) {
		return;
	}
	i = fz_pick(f, m->nlive);
	s = m->live[i];
	while (s.user_maps) {
		FZ_CHECK_EQ(vgalloc_blob_unmap(m->dev, s.blob), 0);
		s.user_maps--;
	}
	cached = cacheable_size(s.size) && cached_bytes(m) + s.size <= m->cap;
	if (m->expiry == EXPIRY_NOW) {
		/* Entries cached before this call must be older than its clock reading. */
		while (clock_ns() <= m->last_cached_ns) {
		}
	}
	ret = vgalloc_shmem_destroy(m->dev, s.blob);
	m->last_cached_ns = clock_ns();
	read_answers(m, &a);
	fz_trace("destroy %u (%llu bytes): %d", i, (unsigned long long)s.size, ret);
	FZ_CHECK_EQ(ret, 0);
	m->live[i] = m->live[--m->nlive];
	if (m->expiry == EXPIRY_NOW) {
		/* Everything cached before expires on the way back in. */
		released += m->ncached;
		m->ncached = 0;
	}
	if (cached) {
		m->cache[m->ncached++] = s;
	} else {
		released++;
	}
	/* Each released blob is unmapped and closed; nothing else reaches the kernel. */
	FZ_CHECK_EQ(a.unmaps, released);
	FZ_CHECK_EQ(a.closes, released);
	FZ_CHECK_EQ(a.creates + a.maps, 0);
	if (m->nstale < MAX_STALE) {
		m->stale[m->nstale++] = s.blob;
	}
}

/* Invalid give-backs change nothing. */
static void shm_destroy_bad(struct model *m, struct fz *f)
{
	unsigned char foreign[sizeof(struct vgalloc_blob)];
	struct vgalloc_blob *b = NULL;
	struct answers a;

	memset(foreign, 0, sizeof(foreign));
	switch (fz_pick(f, 5)) {
	case 0:
		FZ_CHECK_EQ(vgalloc_shmem_destroy(m->dev, NULL), 0);
		break;
	case 1:
		if (m->nlive) {
			b = m->live[fz_pick(f, m->nlive)].blob;
		}
		FZ_CHECK_EQ(vgalloc_shmem_destroy(NULL, b), -EINVAL);
		break;
	case 2:
		/* A pointer given back before (cached, or released), unless handed out again. */
		if (m->nstale) {
			b = m->stale[fz_pick(f, m->nstale)];
			for (uint32_t i = 0; i < m->nlive; i++) {
				if (m->live[i].blob == b) {
					return;
				}
			}
			FZ_CHECK_EQ(vgalloc_shmem_destroy(m->dev, b), -EINVAL);
		}
		break;
	case 3:
		/* An ordinary blob is not the cache's. */
		if (m->nheld) {
			FZ_CHECK_EQ(vgalloc_shmem_destroy(m->dev, m->held[fz_pick(f, m->nheld)]),
			            -EINVAL);
		}
		break;
	default:
		FZ_CHECK_EQ(vgalloc_shmem_destroy(m->dev, (struct vgalloc_blob *)(void *)foreign),
		            -EINVAL);
		break;
	}
	read_answers(m, &a);
	FZ_CHECK_EQ(a.creates + a.maps + a.unmaps + a.closes, 0);
}

/* Invalid creates: refused before anything happens. */
static void shm_create_bad(struct model *m, struct fz *f)
{
	struct vgalloc_blob *b = NULL;
	struct answers a;
	void *p = NULL;

	switch (fz_pick(f, 3)) {
	case 0:
		FZ_CHECK_EQ(vgalloc_shmem_create(NULL, 4096, &b, &p), -EINVAL);
		break;
	case 1:
		FZ_CHECK_EQ(vgalloc_shmem_create(m->dev, 4096, NULL, &p), -EINVAL);
		break;
	default:
		FZ_CHECK_EQ(vgalloc_shmem_create(m->dev, 4096, &b, NULL), -EINVAL);
		break;
	}
	FZ_CHECK(b == NULL && p == NULL);
	read_answers(m, &a);
	FZ_CHECK_EQ(a.creates + a.maps + a.unmaps + a.closes, 0);
}

/* The blob API on a live shmem blob: it may be described and mapped again, never destroyed
 * or exported, and only the owner's own extra map references can be dropped. */
static void shm_blob_api(struct model *m, struct fz *f)
{
	struct vgalloc_blob_info info = { .struct_size = sizeof(info) };
	struct shm *s;
	void *p = NULL;
	int fd = -1;

	if (!m->nlive) {
		return;
	}
	s = &m->live[fz_pick(f, m->nlive)];
	switch (fz_pick(f, 5)) {
	case 0:
		FZ_CHECK_EQ(vgalloc_blob_destroy(m->dev, s->blob), -EBUSY);
		break;
	case 1:
		FZ_CHECK_EQ(vgalloc_blob_map(m->dev, s->blob, &p), 0);
		FZ_CHECK(p == s->ptr);
		s->user_maps++;
		break;
	case 2:
		FZ_CHECK_EQ(vgalloc_blob_unmap(m->dev, s->blob), s->user_maps ? 0 : -EINVAL);
		if (s->user_maps) {
			s->user_maps--;
		}
		break;
	case 3:
		FZ_CHECK_EQ(vgalloc_blob_export_dmabuf(m->dev, s->blob, &fd), -EINVAL);
		FZ_CHECK_EQ(fd, -1);
		break;
	default:
		FZ_CHECK_EQ(vgalloc_blob_get_info(m->dev, s->blob, &info), 0);
		FZ_CHECK_EQ(info.size, s->size);
		FZ_CHECK_EQ(info.blob_mem, VGALLOC_BLOB_MEM_HOST3D);
		FZ_CHECK_EQ(info.blob_flags, VGALLOC_BLOB_FLAG_MAPPABLE);
		FZ_CHECK_EQ(info.blob_id, 0);
		FZ_CHECK_EQ(info.origin, VGALLOC_BLOB_CREATED);
		FZ_CHECK(info.map == s->ptr);
		FZ_CHECK_EQ(info.map_count, 1 + s->user_maps);
		FZ_CHECK(info.res_id != 0 && info.gem_handle != 0);
		break;
	}
}

/* An ordinary blob taking window space (never mapped), or one given back. */
static void hold(struct model *m, struct fz *f)
{
	struct vgalloc_blob_create_info ci = {
		.struct_size = sizeof(ci),
		.blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE,
	};
	struct vgalloc_blob *b = NULL;
	struct answers a;
	int ret;

	if (m->nheld && (m->nheld == MAX_HELD || fz_bool(f))) {
		uint32_t i = fz_pick(f, m->nheld);

		FZ_CHECK_EQ(vgalloc_blob_destroy(m->dev, m->held[i]), 0);
		m->held[i] = m->held[m->nheld - 1];
		m->held_size[i] = m->held_size[--m->nheld];
		return;
	}
	ci.size = (64ull << 10) << fz_pick(f, 8);
	ret = vgalloc_blob_create(m->dev, &ci, &b);
	read_answers(m, &a);
	fz_trace("hold %llu: %d", (unsigned long long)ci.size, ret);
	/* vgalloc_blob_create() does not trim: the cache is not touched. */
	FZ_CHECK_EQ(a.unmaps, 0);
	if (ret) {
		FZ_CHECK(answered(&a, ret) || (ret == -ENOMEM && m->alloc.fired) ||
		         (!m->supported && ret == -EOPNOTSUPP));
		return;
	}
	m->held[m->nheld] = b;
	m->held_size[m->nheld++] = fz_round_up(ci.size, m->align);
}

static void set_knobs(struct model *m, struct fz *f)
{
	static const uint64_t caps[] = { 32ull << 20, 0, 64ull << 10, 1ull << 20, 4ull << 20 };
	static const uint64_t expiry[] = { UINT64_MAX, 0, 3600ull * 1000 * 1000 * 1000 };

	m->expiry = (enum expiry)fz_pick(f, 3);
	m->cap = caps[fz_pick(f, FZ_ARRAY_SIZE(caps))];
	/* The cache's knobs are constants in the library; its own tests set them directly. A
	 * lower cap keeps what is cached and only stops more from coming in. */
	m->dev->fd->shmem.expiry_ns = expiry[m->expiry];
	m->dev->fd->shmem.max_cached_bytes = m->cap;
}

static void trim(struct model *m)
{
	struct answers a;
	int ret = vgalloc_device_trim(m->dev);

	read_answers(m, &a);
	FZ_CHECK_EQ(ret, m->ncached);
	FZ_CHECK_EQ(a.closes, m->ncached);
	m->ncached = 0;
}

static void run(struct fz *f)
{
	static struct model m;
	static const uint32_t kinds[] = {
		VGALLOC_MOCK_CALL_ANY,
		VGALLOC_MOCK_CALL_BLOB_CREATE,
		VGALLOC_MOCK_CALL_BLOB_MAP,
	};
	static const int errs[] = { EIO, ENOMEM, ENOSPC, EINVAL, EACCES, EFAULT };
	struct vgalloc_mock_create_info mi = { .struct_size = sizeof(mi) };
	struct vgalloc_mock_ledger l = { .struct_size = sizeof(l) };
	struct vgalloc_device_create_info ci = { .struct_size = sizeof(ci) };
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	bool self_test, told;
	uint8_t b;
	int ret;

	memset(&m, 0, sizeof(m));
	m.alloc.a = (struct vgalloc_allocator){ &m.alloc, counting_alloc, counting_free };
	b = fz_u8(f);
	mi.profile = b & 1 ? VGALLOC_MOCK_PROFILE_STATIC : VGALLOC_MOCK_PROFILE_INJECTING;
	m.host_page = b & 2 ? 16384 : 4096;
	mi.host_page_size = (uint32_t)m.host_page;
	told = b & 4;
	self_test = b & 8;
	/* Now and then a device shmem cannot work on. */
	if ((b & 0x70) == 0x70) {
		mi.flags |= VGALLOC_MOCK_NO_BLOB_ID_0;
	} else if ((b & 0x70) == 0x60) {
		mi.flags |= VGALLOC_MOCK_NO_WINDOW;
	} else if ((b & 0x70) == 0x50) {
		mi.flags |= VGALLOC_MOCK_BLOB_ALIGNMENT;
	}
	m.window = (1ull << 20) << (2 * fz_pick(f, 4)); /* 1, 4, 16 or 64 MiB */
	mi.window_size = m.window;
	FZ_CHECK_EQ(vgalloc_mock_create(&mi, &m.mock), 0);

	ci.backend = VGALLOC_BACKEND_MOCK;
	ci.backend_object = m.mock;
	ci.mode = VGALLOC_DEVICE_MODE_OWN;
	ci.capset_id = VGALLOC_CAPSET_VENUS;
	ci.host_page_size = told ? (uint32_t)m.host_page : 0;
	ci.flags = self_test ? VGALLOC_DEVICE_SELF_TEST : 0;
	ci.allocator = &m.alloc.a;
	ci.log_fn = log_line;
	ci.log_level = fz_pick(f, 5);
	ret = vgalloc_device_create(&ci, &m.dev);
	if (ret) {
		/* Only the self-test may refuse a device shmem blobs cannot work on. */
		FZ_CHECK(self_test && ret == -EIO);
		FZ_CHECK_EQ(vgalloc_mock_get_ledger(m.mock, &l), 0);
		FZ_CHECK_EQ(l.live_handles + l.live_blobs + l.mapped_blobs + l.window_bytes, 0);
		FZ_CHECK_EQ(m.alloc.live, 0);
		vgalloc_mock_destroy(m.mock);
		return;
	}
	FZ_CHECK_EQ(vgalloc_device_get_info(m.dev, &di), 0);
	m.align = di.blob_alignment;
	FZ_CHECK(fz_is_pow2(m.align) && m.align >= 4096);
	m.supported = !(mi.flags & (VGALLOC_MOCK_NO_BLOB_ID_0 | VGALLOC_MOCK_NO_WINDOW));
	m.page_refuse = m.align < m.host_page;
	m.expiry = EXPIRY_NEVER;
	m.cap = 32ull << 20;
	set_knobs(&m, f);
	fz_trace("shmem: profile %u page %llu told %d window %llu align %llu expiry %d cap %llu",
	         mi.profile, (unsigned long long)m.host_page, told, (unsigned long long)m.window,
	         (unsigned long long)m.align, m.expiry, (unsigned long long)m.cap);
	check_all(&m);

	for (uint32_t op = 0; op < MAX_OPS && !fz_empty(f); op++) {
		vgalloc_mock_reset_counters(m.mock);
		m.alloc.fired = false;
		/* Now and then the next operation meets one failing kernel call or allocation. */
		b = fz_u8(f);
		if (b >= 232) {
			FZ_CHECK_EQ(vgalloc_mock_fail_nth(m.mock, kinds[b % FZ_ARRAY_SIZE(kinds)],
			                                  1 + fz_pick(f, 3),
			                                  errs[fz_pick(f, FZ_ARRAY_SIZE(errs))]),
			            0);
		} else if (b >= 224) {
			m.alloc.fail_in = 1 + fz_pick(f, 4);
		}
		switch (fz_pick(f, 16)) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
			shm_create(&m, f);
			break;
		case 5:
		case 6:
		case 7:
			shm_destroy(&m, f);
			break;
		case 8:
			shm_destroy_bad(&m, f);
			break;
		case 9:
			shm_blob_api(&m, f);
			break;
		case 10:
			for (uint32_t i = 0; i < m.nlive; i++) {
				check_fill(&m.live[i]);
				fill(&m.live[i], m.next_fill++);
			}
			break;
		case 11:
			trim(&m);
			break;
		case 12:
		case 13:
			hold(&m, f);
			break;
		case 14:
			set_knobs(&m, f);
			break;
		default:
			shm_create_bad(&m, f);
			break;
		}
		vgalloc_mock_fail_clear(m.mock);
		m.alloc.fail_in = 0;
		check_all(&m);
	}

	/* Either give everything back (the cache keeps some, device destroy releases them) or
	 * leave it to device destroy, which must release every blob the same way. */
	if (fz_bool(f)) {
		while (m.nlive) {
			vgalloc_mock_reset_counters(m.mock);
			shm_destroy(&m, f);
		}
		check_all(&m);
	}
	vgalloc_device_destroy(m.dev);
	FZ_CHECK_EQ(vgalloc_mock_get_ledger(m.mock, &l), 0);
	FZ_CHECK_EQ(l.live_handles, 0);
	FZ_CHECK_EQ(l.live_blobs, 0);
	FZ_CHECK_EQ(l.mapped_blobs, 0);
	FZ_CHECK_EQ(l.window_bytes, 0);
	FZ_CHECK_EQ(l.order_violations, 0);
	FZ_CHECK_EQ(m.alloc.live, 0);
	vgalloc_mock_destroy(m.mock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);

	run(&f);
	return 0;
}
