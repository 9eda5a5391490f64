/* SPDX-License-Identifier: MIT */
/*
 * In-guest library flows on the real virtio-gpu kernel and a Venus host: an own-mode device with
 * the init self-test, the Venus capset, a plan, blocks and suballocations backed by blob_id-0
 * blobs (the one host-backed kind reachable without a Venus encoder), the shared-memory blob
 * cache, blob export/import, the self-test's refusal of a SHAREABLE blob_id-0 blob, vgalloc-info
 * on the real device, and short allocate/map/free loops with blocks against one blob per
 * allocation.
 * Prints RESULT/MEASURE lines and SUMMARY failures=N; static binary (libvgalloc.a, libdrm.a).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vgalloc/vgalloc.h"
#include "vgalloc/vgalloc_capset.h"
#include "vgalloc/vgalloc_diag.h"

static int failures;

static void result(const char *name, int ok, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void result(const char *name, int ok, const char *fmt, ...)
{
	va_list ap;

	printf("RESULT %s %s ", name, ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failures += !ok;
}

/* Hooks without a Venus encoder: blob id 0 (Venus' plain shared memory), no host commands. */
static uint64_t hook_new_blob_id(void *ctx)
{
	(void)ctx;
	return 0;
}

static int hook_host_alloc(void *ctx, void *user, const struct vgalloc_host_alloc_args *args,
                           struct vgalloc_host_result *out)
{
	(void)ctx;
	(void)user;
	(void)args;
	(void)out;
	return -EOPNOTSUPP; /* host-first needs the encoder */
}

static int hook_host_wait(void *ctx, uint64_t token, uint32_t flags, void *cmd, uint32_t *size)
{
	(void)ctx;
	(void)token;
	(void)flags;
	(void)cmd;
	if (size) {
		*size = 0;
	}
	return 0;
}

static int hook_roundtrip(void *ctx)
{
	(void)ctx;
	return 0;
}

/* Nothing is queued on the host: the answer leaves PENDING out, so there is nothing to wait on. */
static int hook_host_import(void *ctx, void *user, const struct vgalloc_host_alloc_args *args,
                            struct vgalloc_host_result *out)
{
	(void)ctx;
	(void)user;
	out->host_handle = args->res_id;
	return 0;
}

static void hook_host_free(void *ctx, void *user, uint64_t handle)
{
	(void)ctx;
	(void)user;
	(void)handle;
}

static const struct vgalloc_host_hooks hooks = {
	.struct_size = sizeof(hooks),
	.new_blob_id = hook_new_blob_id,
	.host_alloc = hook_host_alloc,
	.host_wait = hook_host_wait,
	.host_roundtrip = hook_roundtrip,
	.host_import = hook_host_import,
	.host_free = hook_host_free,
};

static char last_error[512];

static void log_line(void *user, enum vgalloc_log_level level, const char *msg)
{
	(void)user;
	printf("LOG %d %s\n", level, msg);
	if (level == VGALLOC_LOG_ERROR) {
		snprintf(last_error, sizeof(last_error), "%s", msg);
	}
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int open_device_ret(uint32_t flags, struct vgalloc_device **out)
{
	struct vgalloc_memory_type type = {
		.struct_size = sizeof(type),
		.host_index = 0,
		.property_flags = VGALLOC_MEMORY_PROPERTY_DEVICE_LOCAL |
		                  VGALLOC_MEMORY_PROPERTY_HOST_VISIBLE |
		                  VGALLOC_MEMORY_PROPERTY_HOST_COHERENT,
		.base_alignment = 4096,
	};
	struct vgalloc_device_create_info ci = {
		.struct_size = sizeof(ci),
		.backend = VGALLOC_BACKEND_VIRTGPU,
		.mode = VGALLOC_DEVICE_MODE_OWN,
		.flags = flags,
		.capset_id = VGALLOC_CAPSET_VENUS,
		/* Guest-first with blob_id 0: the host side is the blob itself. */
		.alloc_mode = VGALLOC_ALLOC_MODE_GUEST_FIRST,
		.debug_name = "vgalloc-vm",
		.memory_types = &type,
		.memory_type_count = 1,
		.hooks = &hooks,
		.log_fn = log_line,
		.log_level = VGALLOC_LOG_WARN,
	};

	return vgalloc_device_create(&ci, out);
}

static struct vgalloc_device *open_device(uint32_t flags)
{
	struct vgalloc_device *dev = NULL;
	int ret = open_device_ret(flags, &dev);

	result(flags & VGALLOC_DEVICE_NO_SUBALLOC ? "device_create_nosuballoc" : "device_create",
	       ret == 0, "ret=%d", ret);
	return ret ? NULL : dev;
}

/* n mapped allocations of size bytes, each written and read back, then freed. */
static int pattern_round(struct vgalloc_device *dev, uint32_t n, uint64_t size)
{
	struct vgalloc_mem *mem[64];
	unsigned char *p[64];
	int bad = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct vgalloc_request r = { .struct_size = sizeof(r),
			                     .memory_type = 0,
			                     .size = size };

		if (vgalloc_mem_alloc(dev, &r, &mem[i]) ||
		    vgalloc_mem_map(dev, mem[i], (void **)&p[i])) {
			return -1;
		}
		memset(p[i], (int)(i + 1), size);
	}
	for (uint32_t i = 0; i < n; i++) {
		for (uint64_t b = 0; b < size; b += 511) {
			bad += p[i][b] != (unsigned char)(i + 1);
		}
		vgalloc_mem_unmap(dev, mem[i]);
		vgalloc_mem_free(dev, mem[i]);
	}
	return bad;
}

static void measure(struct vgalloc_device *dev, const char *name, uint32_t cycles)
{
	double t[100];
	struct vgalloc_request r = { .struct_size = sizeof(r), .memory_type = 0, .size = 65536 };

	for (uint32_t i = 0; i < cycles; i++) {
		struct vgalloc_mem *mem = NULL;
		void *p;
		double t0 = now_us();

		if (vgalloc_mem_alloc(dev, &r, &mem) || vgalloc_mem_map(dev, mem, &p)) {
			result(name, 0, "cycle %u failed", i);
			return;
		}
		((volatile char *)p)[0] = 1;
		vgalloc_mem_unmap(dev, mem);
		vgalloc_mem_free(dev, mem);
		t[i] = now_us() - t0;
	}
	qsort(t, cycles, sizeof(t[0]), cmp_double);
	printf("MEASURE %s p50=%.0f p99=%.0f n=%u\n", name, t[cycles / 2], t[cycles * 99 / 100],
	       cycles);
}

/* The shmem cache on the real device: a reuse costs no kernel call, odd sizes are released. */
static void shmem_flows(struct vgalloc_device *dev)
{
	struct vgalloc_stats st0 = { .struct_size = sizeof(st0) },
	                     st = { .struct_size = sizeof(st) };
	struct vgalloc_blob *a = NULL, *b = NULL, *c = NULL;
	unsigned char *pa = NULL, *pb = NULL, *pc = NULL;
	double t_hit[50], t_miss[20];
	int ret;

	vgalloc_device_get_stats(dev, &st0);
	ret = vgalloc_shmem_create(dev, 4096, &a, (void **)&pa);
	if (!ret) {
		memset(pa, 0x6b, 4096);
		ret = vgalloc_shmem_destroy(dev, a);
	}
	if (!ret) {
		ret = vgalloc_shmem_create(dev, 4096, &b, (void **)&pb);
	}
	vgalloc_device_get_stats(dev, &st);
	result("shmem_cache_reuse",
	       ret == 0 && b == a && pb == pa && pb[4095] == 0x6b &&
	               st.blobs_created == st0.blobs_created + 1 && st.shmem_hits == 1,
	       "ret=%d same=%d blobs_created=+%llu hits=%llu", ret, b == a,
	       (unsigned long long)(st.blobs_created - st0.blobs_created),
	       (unsigned long long)st.shmem_hits);
	ret = vgalloc_shmem_create(dev, 12288, &c, (void **)&pc);
	if (!ret) {
		memset(pc, 0x21, 12288);
		ret = vgalloc_shmem_destroy(dev, c);
	}
	vgalloc_device_get_stats(dev, &st);
	result("shmem_odd_size_released", ret == 0 && st.shmem_cached == 0 && st.shmem_live == 1,
	       "ret=%d cached=%llu live=%llu", ret, (unsigned long long)st.shmem_cached,
	       (unsigned long long)st.shmem_live);
	ret = vgalloc_shmem_destroy(dev, b);
	ret = ret ? ret : vgalloc_device_trim(dev);
	vgalloc_device_get_stats(dev, &st);
	result("shmem_trim", ret == 1 && st.shmem_cached == 0 && st.blobs_live == 0,
	       "released=%d blobs_live=%llu", ret, (unsigned long long)st.blobs_live);

	/* Cost: a cached 64 KiB shmem against an uncached 60 KiB one (create, map, release). */
	for (int i = 0; i < 50; i++) {
		double t0 = now_us();

		if (vgalloc_shmem_create(dev, 65536, &a, (void **)&pa)) {
			result("shmem_measure", 0, "cached create %d failed", i);
			return;
		}
		pa[0] = 1;
		vgalloc_shmem_destroy(dev, a);
		t_hit[i] = now_us() - t0;
	}
	for (int i = 0; i < 20; i++) {
		double t0 = now_us();

		if (vgalloc_shmem_create(dev, 61440, &a, (void **)&pa)) {
			result("shmem_measure", 0, "uncached create %d failed", i);
			return;
		}
		pa[0] = 1;
		vgalloc_shmem_destroy(dev, a);
		t_miss[i] = now_us() - t0;
	}
	vgalloc_device_trim(dev);
	qsort(t_hit, 50, sizeof(double), cmp_double);
	qsort(t_miss, 20, sizeof(double), cmp_double);
	printf("MEASURE shmem_get_put_cached p50=%.0f p99=%.0f n=50\n", t_hit[25], t_hit[49]);
	printf("MEASURE shmem_get_put_uncached p50=%.0f p99=%.0f n=20\n", t_miss[10], t_miss[19]);
}

/* What the init self-test exists to catch, on the real stack: the host refuses a blob_id-0
 * HOST3D blob it cannot serve (SHAREABLE here), at its creation or only at its mapping; the
 * self-test's own reporting of that is proven on the mock (test_policy). */
static void self_test_refusal(void)
{
	struct vgalloc_blob_create_info bi = {
		.struct_size = sizeof(bi),
		.blob_mem = VGALLOC_BLOB_MEM_HOST3D,
		.blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE | VGALLOC_BLOB_FLAG_SHAREABLE,
		.size = 4096,
	};
	struct vgalloc_device *dev = NULL;
	struct vgalloc_blob *blob = NULL;
	int created = -1, mapped = -1;
	void *p = NULL;

	if (open_device_ret(0, &dev)) {
		result("shareable_blob_id_0_refused_at_map", false, "device create failed");
		return;
	}
	created = vgalloc_blob_create(dev, &bi, &blob);
	if (!created) {
		mapped = vgalloc_blob_map(dev, blob, &p);
		if (!mapped) {
			vgalloc_blob_unmap(dev, blob);
		}
		vgalloc_blob_destroy(dev, blob);
	}
	result("shareable_blob_id_0_refused_at_map", created < 0 || mapped < 0, "create=%d map=%d",
	       created, mapped);
	vgalloc_device_destroy(dev);
}

/* vgalloc-info on the real device (its output is echoed with an INFO prefix). */
static void run_info(void)
{
	int pipefd[2], status = -1, saw_backend = 0, saw_selftest = 0;
	char line[512];
	pid_t pid;
	FILE *f;

	if (access("/bin/vgalloc-info", X_OK)) {
		result("vgalloc_info_real_device", 0, "/bin/vgalloc-info missing");
		return;
	}
	if (pipe(pipefd)) {
		result("vgalloc_info_real_device", 0, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execl("/bin/vgalloc-info", "vgalloc-info", "--backend", "virtgpu", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	f = fdopen(pipefd[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		printf("INFO %s", line);
		saw_backend |= strstr(line, "backend") && strstr(line, "virtgpu");
		saw_selftest |= strstr(line, "self-test passed") != NULL;
	}
	if (f) {
		fclose(f);
	}
	waitpid(pid, &status, 0);
	result("vgalloc_info_real_device",
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 && saw_backend && saw_selftest,
	       "status=%d backend_virtgpu=%d self_test=%d", status, saw_backend, saw_selftest);
}

int main(void)
{
	struct vgalloc_request r = { .struct_size = sizeof(r), .memory_type = 0, .size = 4096 };
	struct vgalloc_device_info di = { .struct_size = sizeof(di) };
	struct vgalloc_capset_info caps = { .struct_size = sizeof(caps) };
	struct vgalloc_stats st = { .struct_size = sizeof(st) };
	struct vgalloc_device *dev, *dev1;
	char text[2048];
	int ret, bad;

	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = open_device(VGALLOC_DEVICE_SELF_TEST);
	if (!dev) {
		printf("SUMMARY failures=%d\n", failures);
		return 1;
	}
	vgalloc_device_get_info(dev, &di);
	result("device_info", di.blob_alignment >= 4096 && di.has_host_visible,
	       "blob_alignment=%llu "
	       "host_visible=%u mode_reason=%u",
	       (unsigned long long)di.blob_alignment, di.has_host_visible, di.mode_reason);
	ret = vgalloc_device_read_capset(dev, VGALLOC_CAPSET_VENUS, &caps);
	result("capset_venus", ret == 0 && caps.u.venus.wire_format_version != 0,
	       "ret=%d wire=%u blob_id_0=%u use_guest_vram=%u", ret,
	       caps.u.venus.wire_format_version, caps.u.venus.supports_blob_id_0,
	       caps.u.venus.use_guest_vram);
	ret = vgalloc_plan_explain(dev, &r, text, sizeof(text));
	result("plan_explain", ret > 0 && strstr(text, "suballocate: yes"), "len=%d", ret);

	/* 64 small mapped allocations: one block, so one blob, mapped once. */
	bad = pattern_round(dev, 64, 4096);
	vgalloc_device_get_stats(dev, &st);
	result("suballoc_64x4k", bad == 0 && st.block_creations == 1 && st.blobs_created == 2,
	       "bad=%d blocks_created=%llu blobs_created=%llu (incl. self-test)", bad,
	       (unsigned long long)st.block_creations, (unsigned long long)st.blobs_created);
	ret = vgalloc_device_trim(dev);
	vgalloc_device_get_stats(dev, &st);
	result("trim", ret == 1 && st.blocks == 0 && st.blobs_live == 0,
	       "released=%d blobs_live=%llu", ret, (unsigned long long)st.blobs_live);

	/* A dedicated allocation: its own blob. */
	r.size = 65536;
	r.flags = VGALLOC_REQUEST_DEDICATED_REQUIRED;
	{
		struct vgalloc_mem *mem = NULL;
		unsigned char *p = NULL;

		ret = vgalloc_mem_alloc(dev, &r, &mem);
		if (!ret) {
			ret = vgalloc_mem_map(dev, mem, (void **)&p);
		}
		if (!ret) {
			memset(p, 0x5a, 65536);
			ret = p[65535] == 0x5a ? 0 : -EIO;
		}
		vgalloc_mem_free(dev, mem);
		result("dedicated_64k", ret == 0, "ret=%d", ret);
	}

	/* Blob API: a GUEST blob, exported and imported back (dedup to the same blob). */
	{
		struct vgalloc_blob_create_info ci = { .struct_size = sizeof(ci),
			                               .blob_mem = VGALLOC_BLOB_MEM_GUEST,
			                               .blob_flags = VGALLOC_BLOB_FLAG_MAPPABLE |
			                                             VGALLOC_BLOB_FLAG_SHAREABLE,
			                               .size = 65536 };
		struct vgalloc_blob *b = NULL, *c = NULL;
		int fd = -1;

		ret = vgalloc_blob_create(dev, &ci, &b);
		if (!ret) {
			ret = vgalloc_blob_export_dmabuf(dev, b, &fd);
		}
		result("blob_export", ret == 0 && fd >= 0, "ret=%d fd=%d", ret, fd);
		/* A GUEST blob is not this device's blob_mem for memory: the import is refused,
		 * and the dedup table is left as it was (the blob's handle stays ours). */
		ret = vgalloc_blob_import_dmabuf(dev, fd, NULL, &c);
		result("blob_import_other_mem_refused", ret == -EINVAL, "ret=%d", ret);
		if (fd >= 0) {
			close(fd);
		}
		ret = vgalloc_blob_destroy(dev, b);
		result("blob_destroy", ret == 0, "ret=%d", ret);
	}

	shmem_flows(dev);

	/* Allocate/map/free loops: blocks against one blob per allocation (≤ 100 cycles). */
	r.flags = 0;
	measure(dev, "alloc_map_free_blocks", 50);
	dev1 = open_device(VGALLOC_DEVICE_NO_SUBALLOC);
	if (dev1) {
		measure(dev1, "alloc_map_free_one_blob_each", 20);
		vgalloc_device_destroy(dev1);
	}
	vgalloc_device_destroy(dev);
	self_test_refusal();
	run_info();
	printf("SUMMARY failures=%d\n", failures);
	return failures ? 1 : 0;
}
