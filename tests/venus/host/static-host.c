/* SPDX-License-Identifier: MIT */
/*
 * static-host: makes QEMU 10 + virglrenderer 1.1 behave like a hypervisor with static mappings,
 * for the Venus guest-first tier (tests/venus/README.md). Preloaded into QEMU (LD_PRELOAD), it
 *  - ORs VIRGL_RENDERER_USE_GUEST_VRAM into virgl_renderer_init's flags, so the Venus capset says
 *    use_guest_vram = 1 and the guest allocates first;
 *  - answers every HOST3D blob the guest creates with a non-zero blob id (a guest-first blob: no
 *    host allocation carries that id) with memory it owns: a memfd of the blob's size, registered
 *    with virgl_renderer_resource_import_blob and attached to the guest's context, where Venus's
 *    VkImportMemoryResourceInfoMESA finds it;
 *  - counts what it did and prints the counts when QEMU exits.
 * blob_id 0 blobs (Venus's rings and shared memory) and every other call pass through.
 *
 * VGALLOC_STATIC_HOST=guest-first (default) or pass-through: pass-through changes nothing and
 * only counts, a host-first baseline from the same QEMU binary with the same preload.
 *
 * What this is not: a real static-mapping VMM. The "dma-buf" handed to virglrenderer is a memfd;
 * virglrenderer 1.1 passes only DMABUF fds on to its render server, and lavapipe's dma-buf import
 * only seeks and maps the fd, so a memfd works here. A hardware host driver would need a real
 * dma-buf (udmabuf) and would map it into the guest at a fixed place instead of QEMU's hostmem
 * window.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define VIRGL_RENDERER_UNSTABLE_APIS
#include <virgl/virglrenderer.h>

#define SH_EXPORT __attribute__((visibility("default")))

/* Interposed and real entry points. QEMU loads its virtio-gpu-gl module, and with it
 * libvirglrenderer, RTLD_LOCAL: dlsym(RTLD_NEXT) cannot see it. By the time QEMU calls into
 * virglrenderer the library is loaded, so it is found by name with RTLD_NOLOAD. */
static struct {
	int (*init)(void *, int, struct virgl_renderer_callbacks *);
	int (*create_blob)(const struct virgl_renderer_resource_create_blob_args *);
	int (*import_blob)(const struct virgl_renderer_resource_import_blob_args *);
	void (*attach)(int, int);
	int (*map)(uint32_t, void **, uint64_t *);
	int (*get_map_info)(uint32_t, uint32_t *);
	void (*unref)(uint32_t);
} real;

enum mode {
	MODE_GUEST_FIRST,
	MODE_PASS_THROUGH
};

static enum mode mode = MODE_GUEST_FIRST;
static bool resolved;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* The resources this library backs: res_id → size. A few hundred at most in the tier; a
 * linear table keeps the code obvious. Entries leave only through the interposed unref: a
 * virglrenderer reset would leave stale ids behind, which the tier never does (QEMU runs with
 * -no-reboot, one guest boot per process). */
#define MAX_OWNED 8192
static struct owned {
	uint32_t res_id;
	uint64_t size;
} owned[MAX_OWNED];
static unsigned n_owned;

static struct {
	unsigned long long init_calls, init_flags_in, init_flags_out;
	unsigned long long imports, import_failures, passed_blobs, passed_host3d_blob_id;
	unsigned long long maps, map_failures, map_info, unrefs;
	unsigned long long bytes_live, bytes_peak, live_peak;
} count;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("static-host: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void *lookup(void *lib, const char *name)
{
	void *fn = dlsym(lib, name);

	if (!fn) {
		say("FATAL: %s not found in libvirglrenderer.so.1", name);
		abort();
	}
	return fn;
}

/* Called on the first interposed call, under the lock. */
static void resolve(void)
{
	void *lib;

	if (resolved) {
		return;
	}
	lib = dlopen("libvirglrenderer.so.1", RTLD_NOW | RTLD_NOLOAD);
	if (!lib) {
		say("FATAL: libvirglrenderer.so.1 is not loaded: %s", dlerror());
		abort();
	}
	real.init = lookup(lib, "virgl_renderer_init");
	real.create_blob = lookup(lib, "virgl_renderer_resource_create_blob");
	real.import_blob = lookup(lib, "virgl_renderer_resource_import_blob");
	real.attach = lookup(lib, "virgl_renderer_ctx_attach_resource");
	real.map = lookup(lib, "virgl_renderer_resource_map");
	real.get_map_info = lookup(lib, "virgl_renderer_resource_get_map_info");
	real.unref = lookup(lib, "virgl_renderer_resource_unref");
	/* the handle stays open: the library must not go away under the pointers */
	resolved = true;
}

static struct owned *find_owned(uint32_t res_id)
{
	for (unsigned i = 0; i < n_owned; i++) {
		if (owned[i].res_id == res_id) {
			return &owned[i];
		}
	}
	return NULL;
}

static void report(void)
{
	pthread_mutex_lock(&lock);
	fprintf(stderr,
	        "STATIC-HOST mode=%s init_calls=%llu init_flags=0x%llx->0x%llx imports=%llu "
	        "import_failures=%llu maps=%llu map_failures=%llu map_info=%llu unrefs=%llu "
	        "live=%u live_peak=%llu bytes_live=%llu bytes_peak=%llu passed_blobs=%llu "
	        "passed_host3d_with_blob_id=%llu\n",
	        mode == MODE_GUEST_FIRST ? "guest-first" : "pass-through", count.init_calls,
	        count.init_flags_in, count.init_flags_out, count.imports, count.import_failures,
	        count.maps, count.map_failures, count.map_info, count.unrefs, n_owned,
	        count.live_peak, count.bytes_live, count.bytes_peak, count.passed_blobs,
	        count.passed_host3d_blob_id);
	pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void static_host_init(void)
{
	const char *m = getenv("VGALLOC_STATIC_HOST");

	if (m && !strcmp(m, "pass-through")) {
		mode = MODE_PASS_THROUGH;
	} else if (m && *m && strcmp(m, "guest-first")) {
		say("unknown VGALLOC_STATIC_HOST=%s (guest-first, pass-through): using guest-first",
		    m);
	}
	/* QEMU starts virglrenderer's render server as a child: it must not load this library. */
	unsetenv("LD_PRELOAD");
	atexit(report);
}

SH_EXPORT int virgl_renderer_init(void *cookie, int flags, struct virgl_renderer_callbacks *cb)
{
	int out = flags;

	pthread_mutex_lock(&lock);
	resolve();
	if (mode == MODE_GUEST_FIRST) {
		out |= VIRGL_RENDERER_USE_GUEST_VRAM;
	}
	count.init_calls++;
	count.init_flags_in = (unsigned)flags;
	count.init_flags_out = (unsigned)out;
	pthread_mutex_unlock(&lock);
	say("virgl_renderer_init flags 0x%x -> 0x%x (%s)", (unsigned)flags, (unsigned)out,
	    mode == MODE_GUEST_FIRST ? "guest-first" : "pass-through");
	return real.init(cookie, out, cb);
}

/* A guest-first blob: the guest chose the blob id, no host allocation has it. */
static int import_guest_blob(const struct virgl_renderer_resource_create_blob_args *args)
{
	struct virgl_renderer_resource_import_blob_args import = {
		.res_handle = args->res_handle,
		.blob_mem = VIRGL_RENDERER_BLOB_MEM_HOST3D,
		.fd_type = VIRGL_RENDERER_BLOB_FD_TYPE_DMABUF,
		.size = args->size,
	};
	int fd, ret;

	if (n_owned == MAX_OWNED || args->size == 0 || args->size > (uint64_t)INT64_MAX) {
		return -EINVAL;
	}
	fd = memfd_create("vgalloc-static-host", MFD_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	if (ftruncate(fd, (off_t)args->size)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	import.fd = fd;
	ret = real.import_blob(&import);
	if (ret) {
		close(fd); /* not taken on failure */
		return ret;
	}
	/* virglrenderer owns the fd now and closes it with the resource. Attach it to the creating
	 * context at once: Venus's import looks the resource up in its context, and this way it
	 * is there whatever the order of the guest's attach and its import. The guest's own
	 * attach arrives as well; in the tier's runs the second attach changed nothing (0 failed
	 * imports). A real static-mapping VMM would rely on the guest's attach alone. */
	real.attach((int)args->ctx_id, (int)args->res_handle);
	owned[n_owned++] = (struct owned){ .res_id = args->res_handle, .size = args->size };
	count.bytes_live += args->size;
	if (count.bytes_live > count.bytes_peak) {
		count.bytes_peak = count.bytes_live;
	}
	if (n_owned > count.live_peak) {
		count.live_peak = n_owned;
	}
	return 0;
}

SH_EXPORT int
virgl_renderer_resource_create_blob(const struct virgl_renderer_resource_create_blob_args *args)
{
	int ret;

	pthread_mutex_lock(&lock);
	resolve();
	if (args->blob_mem != VIRGL_RENDERER_BLOB_MEM_HOST3D || args->blob_id == 0) {
		count.passed_blobs++;
		pthread_mutex_unlock(&lock);
		return real.create_blob(args);
	}
	if (mode == MODE_PASS_THROUGH) {
		count.passed_blobs++;
		count.passed_host3d_blob_id++;
		pthread_mutex_unlock(&lock);
		return real.create_blob(args);
	}
	ret = import_guest_blob(args);
	if (ret) {
		count.import_failures++;
		say("import of res %u (blob id %" PRIu64 ", %" PRIu64 " bytes, ctx %u) failed: %d",
		    args->res_handle, (uint64_t)args->blob_id, (uint64_t)args->size, args->ctx_id,
		    ret);
	} else {
		count.imports++;
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

SH_EXPORT int virgl_renderer_resource_map(uint32_t res_handle, void **map, uint64_t *out_size)
{
	bool mine;
	int ret;

	pthread_mutex_lock(&lock);
	resolve();
	mine = find_owned(res_handle) != NULL;
	pthread_mutex_unlock(&lock);
	ret = real.map(res_handle, map, out_size);
	if (mine) {
		pthread_mutex_lock(&lock);
		if (ret) {
			count.map_failures++;
		} else {
			count.maps++;
		}
		pthread_mutex_unlock(&lock);
	}
	return ret;
}

/* virglrenderer leaves an imported resource's map_info at "none", which QEMU reads as
 * "cannot be mapped": the memory is ordinary cached RAM, say so. */
SH_EXPORT int virgl_renderer_resource_get_map_info(uint32_t res_handle, uint32_t *map_info)
{
	pthread_mutex_lock(&lock);
	resolve();
	if (find_owned(res_handle)) {
		count.map_info++;
		pthread_mutex_unlock(&lock);
		*map_info = VIRGL_RENDERER_MAP_CACHE_CACHED;
		return 0;
	}
	pthread_mutex_unlock(&lock);
	return real.get_map_info(res_handle, map_info);
}

SH_EXPORT void virgl_renderer_resource_unref(uint32_t res_handle)
{
	struct owned *o;

	pthread_mutex_lock(&lock);
	resolve();
	o = find_owned(res_handle);
	if (o) {
		count.unrefs++;
		count.bytes_live -= o->size;
		*o = owned[--n_owned];
	}
	pthread_mutex_unlock(&lock);
	real.unref(res_handle);
}
