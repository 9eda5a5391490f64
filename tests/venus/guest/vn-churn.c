/* SPDX-License-Identifier: MIT */
/*
 * vn-churn: what host-visible VkDeviceMemory costs a guest, call by call. Per size: mapped cycles
 * (allocate, map, write, unmap, free), a live set freed at once (then vkDeviceWaitIdle, then one
 * more mapped cycle that pays whatever the frees left queued on the host), and
 * allocate+free never mapped; optionally a long run of small mapped cycles with one object live,
 * and (--mm N) N live 4 KiB objects with the kernel's host-visible window read from debugfs
 * before, after allocating, while all are mapped and after freeing them.
 * Prints MEASURE lines (µs) and, with libioctl-count.so preloaded, COUNT lines per phase; the mm
 * phase prints "MM <tag>.mm.<state> ranges=R used=U total=T" (or "... unavailable (why)").
 *
 * Usage: vn-churn [--sizes 4k,64k,1m] [--cycles N] [--live N] [--unmapped N] [--long N]
 *                 [--mm N] [--tag NAME]
 * Stock Venus makes one blob per mapped allocation and the TCG rig hangs under heavy blob churn:
 * the runner keeps stock at (cycles + live + 1) x sizes <= 100.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vn-common.h"

#define MAX_SIZES 8

struct options {
	VkDeviceSize sizes[MAX_SIZES];
	int n_sizes;
	int cycles, live, unmapped, long_cycles;
	int mm; /* live 4 KiB objects of the mm phase; 0: no mm phase */
	const char *tag;
};

static struct vn_ctx ctx;
static uint32_t type_index;

static int parse_size(const char *s, VkDeviceSize *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s) {
		return -1;
	}
	if (*end == 'k' || *end == 'K') {
		v <<= 10;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v <<= 20;
		end++;
	}
	if (*end && *end != ',') {
		return -1;
	}
	*out = v;
	return 0;
}

static const char *size_name(VkDeviceSize size, char *buf, size_t len)
{
	if (size % (1u << 20) == 0) {
		snprintf(buf, len, "%llum", (unsigned long long)(size >> 20));
	} else if (size % 1024 == 0) {
		snprintf(buf, len, "%lluk", (unsigned long long)(size >> 10));
	} else {
		snprintf(buf, len, "%llu", (unsigned long long)size);
	}
	return buf;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	*o = (struct options){ .cycles = 20, .live = 20, .unmapped = 20, .tag = "churn" };
	o->sizes[0] = 4096;
	o->sizes[1] = 65536;
	o->sizes[2] = 1 << 20;
	o->n_sizes = 3;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			return -1;
		}
		if (!strcmp(argv[i], "--sizes")) {
			o->n_sizes = 0;
			for (const char *p = v; p && *p && o->n_sizes < MAX_SIZES;) {
				if (parse_size(p, &o->sizes[o->n_sizes++])) {
					return -1;
				}
				p = strchr(p, ',');
				p = p ? p + 1 : NULL;
			}
		} else if (!strcmp(argv[i], "--cycles")) {
			o->cycles = atoi(v);
		} else if (!strcmp(argv[i], "--live")) {
			o->live = atoi(v);
		} else if (!strcmp(argv[i], "--unmapped")) {
			o->unmapped = atoi(v);
		} else if (!strcmp(argv[i], "--long")) {
			o->long_cycles = atoi(v);
		} else if (!strcmp(argv[i], "--mm")) {
			o->mm = atoi(v);
		} else if (!strcmp(argv[i], "--tag")) {
			o->tag = v;
		} else {
			return -1;
		}
		i++;
	}
	return 0;
}

static VkResult alloc_mem(VkDeviceSize size, VkDeviceMemory *mem)
{
	VkMemoryAllocateInfo ai = { .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
		                    .allocationSize = size,
		                    .memoryTypeIndex = type_index };
	return vkAllocateMemory(ctx.device, &ai, NULL, mem);
}

/* Write a value through the mapping and read both ends back: cheap enough not to hide the calls
 * being timed, and enough to notice a mapping of the wrong memory. */
static bool write_check(void *ptr, VkDeviceSize size, uint8_t value)
{
	volatile uint8_t *p = ptr;

	memset(ptr, value, size);
	return p[0] == value && p[size / 2] == value && p[size - 1] == value;
}

struct phase_samples {
	double *alloc, *map, *unmap, *free, *total;
};

static void samples_finish(struct phase_samples *s)
{
	free(s->alloc);
	free(s->map);
	free(s->unmap);
	free(s->free);
	free(s->total);
	*s = (struct phase_samples){ 0 };
}

static int samples_init(struct phase_samples *s, int n)
{
	size_t len = (size_t)(n > 0 ? n : 1);

	s->alloc = calloc(len, sizeof(double));
	s->map = calloc(len, sizeof(double));
	s->unmap = calloc(len, sizeof(double));
	s->free = calloc(len, sizeof(double));
	s->total = calloc(len, sizeof(double));
	if (s->alloc && s->map && s->unmap && s->free && s->total) {
		return 0;
	}
	samples_finish(s); /* nothing half-made stays behind */
	return -1;
}

static void print_phase(const char *tag, const char *size, const char *phase,
                        struct phase_samples *s, int n, bool mapped)
{
	char name[160];

	snprintf(name, sizeof(name), "%s.%s.%s.alloc", tag, size, phase);
	vn_print_stats(name, s->alloc, (size_t)n);
	if (mapped) {
		snprintf(name, sizeof(name), "%s.%s.%s.map", tag, size, phase);
		vn_print_stats(name, s->map, (size_t)n);
		snprintf(name, sizeof(name), "%s.%s.%s.unmap", tag, size, phase);
		vn_print_stats(name, s->unmap, (size_t)n);
	}
	snprintf(name, sizeof(name), "%s.%s.%s.free", tag, size, phase);
	vn_print_stats(name, s->free, (size_t)n);
	if (s->total) {
		snprintf(name, sizeof(name), "%s.%s.%s.cycle", tag, size, phase);
		vn_print_stats(name, s->total, (size_t)n);
	}
}

/* alloc + map + write + unmap + free, n times, one object live at a time. */
static void phase_cycles(const char *tag, const char *sname, const char *phase, VkDeviceSize size,
                         int n)
{
	struct phase_samples s;
	struct vn_ioctl_counts c0, c1;
	char name[160];
	int bad = 0, errors = 0;

	if (n <= 0 || samples_init(&s, n)) {
		return;
	}
	vn_counts_read(&c0);
	for (int i = 0; i < n; i++) {
		VkDeviceMemory mem;
		void *ptr = NULL;
		double t0 = vn_now_us();
		if (alloc_mem(size, &mem) != VK_SUCCESS) {
			errors++;
			break;
		}
		double t1 = vn_now_us();
		if (vkMapMemory(ctx.device, mem, 0, VK_WHOLE_SIZE, 0, &ptr) != VK_SUCCESS) {
			errors++;
			vkFreeMemory(ctx.device, mem, NULL);
			break;
		}
		double t2 = vn_now_us();
		bad += !write_check(ptr, size, (uint8_t)(i + 1));
		double t3 = vn_now_us();
		vkUnmapMemory(ctx.device, mem);
		double t4 = vn_now_us();
		vkFreeMemory(ctx.device, mem, NULL);
		double t5 = vn_now_us();
		s.alloc[i] = t1 - t0;
		s.map[i] = t2 - t1;
		s.unmap[i] = t4 - t3;
		s.free[i] = t5 - t4;
		s.total[i] = t5 - t0;
	}
	vn_counts_read(&c1);
	if (!errors) {
		print_phase(tag, sname, phase, &s, n, true);
	}
	snprintf(name, sizeof(name), "%s.%s.%s", tag, sname, phase);
	vn_print_counts(name, &c0, &c1);
	snprintf(name, sizeof(name), "%s_%s_%s_data", tag, sname, phase);
	vn_result(name, !bad && !errors, "cycles=%d bad=%d vk_errors=%d", n, bad, errors);
	samples_finish(&s);
}

/* n objects allocated, mapped and written; then all unmapped and freed, and the device idled:
 * stock Venus pays the host's unmap of every blob here. */
static void phase_live(const char *tag, const char *sname, VkDeviceSize size, int n)
{
	struct phase_samples s;
	struct vn_ioctl_counts c0, c1, c2;
	VkDeviceMemory *mems = calloc((size_t)n, sizeof(*mems));
	void **ptrs = calloc((size_t)n, sizeof(*ptrs));
	char name[160];
	int bad = 0, errors = 0, made = 0;

	if (n <= 0 || !mems || !ptrs || samples_init(&s, n)) {
		free(mems);
		free(ptrs);
		return;
	}
	free(s.total);
	s.total = NULL;
	vn_counts_read(&c0);
	for (; made < n; made++) {
		double t0 = vn_now_us();
		if (alloc_mem(size, &mems[made]) != VK_SUCCESS) {
			errors++;
			break;
		}
		double t1 = vn_now_us();
		if (vkMapMemory(ctx.device, mems[made], 0, VK_WHOLE_SIZE, 0, &ptrs[made]) !=
		    VK_SUCCESS) {
			errors++;
			vkFreeMemory(ctx.device, mems[made], NULL);
			break;
		}
		double t2 = vn_now_us();
		bad += !write_check(ptrs[made], size, (uint8_t)(made * 7 + 3));
		s.alloc[made] = t1 - t0;
		s.map[made] = t2 - t1;
	}
	/* Every object still holds its own value: no two allocations share bytes. */
	for (int i = 0; i < made; i++) {
		const uint8_t *p = ptrs[i];
		uint8_t want = (uint8_t)(i * 7 + 3);
		bad += p[0] != want || p[size - 1] != want;
	}
	vn_counts_read(&c1);
	double t_free = vn_now_us();
	for (int i = 0; i < made; i++) {
		double t0 = vn_now_us();
		vkUnmapMemory(ctx.device, mems[i]);
		double t1 = vn_now_us();
		vkFreeMemory(ctx.device, mems[i], NULL);
		double t2 = vn_now_us();
		s.unmap[i] = t1 - t0;
		s.free[i] = t2 - t1;
	}
	VkResult idle = vkDeviceWaitIdle(ctx.device);
	double t_end = vn_now_us();
	vn_counts_read(&c2);
	/*
	 * Where stock Venus pays for the frees depends on its internals: the host's unmap of each
	 * freed blob stalls QEMU's control queue, and the next call that waits on that queue pays
	 * (inside the window above only when Venus happens to map a new ring buffer there). One
	 * more mapped 4 KiB cycle after the idle makes the cost land in a measured window.
	 */
	VkDeviceMemory extra;
	void *extra_ptr;
	bool settled = alloc_mem(4096, &extra) == VK_SUCCESS;
	if (settled) {
		settled = vkMapMemory(ctx.device, extra, 0, VK_WHOLE_SIZE, 0, &extra_ptr) ==
		          VK_SUCCESS;
		if (settled) {
			bad += !write_check(extra_ptr, 4096, 0x77);
			vkUnmapMemory(ctx.device, extra);
		}
		vkFreeMemory(ctx.device, extra, NULL);
	}
	double t_settled = vn_now_us();
	if (!errors) {
		print_phase(tag, sname, "live", &s, n, true);
		printf("MEASURE %s.%s.live.free_all_waitidle total=%.1f n=%d\n", tag, sname,
		       t_end - t_free, n);
		printf("MEASURE %s.%s.live.free_all_settled total=%.1f n=%d\n", tag, sname,
		       t_settled - t_free, n);
	}
	snprintf(name, sizeof(name), "%s.%s.live.alloc_map", tag, sname);
	vn_print_counts(name, &c0, &c1);
	snprintf(name, sizeof(name), "%s.%s.live.free", tag, sname);
	vn_print_counts(name, &c1, &c2);
	snprintf(name, sizeof(name), "%s_%s_live_data", tag, sname);
	vn_result(name, !bad && !errors && idle == VK_SUCCESS && settled,
	          "objects=%d bad=%d vk_errors=%d waitidle=%d", made, bad, errors, (int)idle);
	samples_finish(&s);
	free(mems);
	free(ptrs);
}

/* allocate + free, never mapped: no blob is needed for either. */
static void phase_unmapped(const char *tag, const char *sname, VkDeviceSize size, int n)
{
	struct phase_samples s;
	struct vn_ioctl_counts c0, c1;
	char name[160];
	int errors = 0;

	if (n <= 0 || samples_init(&s, n)) {
		return;
	}
	vn_counts_read(&c0);
	double t_start = vn_now_us();
	for (int i = 0; i < n; i++) {
		VkDeviceMemory mem;
		double t0 = vn_now_us();
		if (alloc_mem(size, &mem) != VK_SUCCESS) {
			errors++;
			break;
		}
		double t1 = vn_now_us();
		vkFreeMemory(ctx.device, mem, NULL);
		double t2 = vn_now_us();
		s.alloc[i] = t1 - t0;
		s.free[i] = t2 - t1;
		s.total[i] = t2 - t0;
	}
	double t_end = vn_now_us();
	vn_counts_read(&c1);
	if (!errors) {
		print_phase(tag, sname, "unmapped", &s, n, false);
		/* The whole phase's wall time: what n never-mapped allocations cost a process. */
		printf("MEASURE %s.%s.unmapped.total total=%.1f n=%d\n", tag, sname,
		       t_end - t_start, n);
	}
	snprintf(name, sizeof(name), "%s.%s.unmapped", tag, sname);
	vn_print_counts(name, &c0, &c1);
	snprintf(name, sizeof(name), "%s_%s_unmapped", tag, sname);
	vn_result(name, !errors, "objects=%d vk_errors=%d", n, errors);
	samples_finish(&s);
}

/*
 * The kernel's host-visible window: virtio-gpu places every mappable host blob in a drm_mm over the
 * device's host-visible region (virtgpu_vram.c) and prints it with drm_mm_print() in debugfs, one
 * "START-END: SIZE: used|free" line per range and "total: T, used U free F". virtgpu_debugfs.c
 * names the file virtio-gpu-host-visible-mm (6.12, the guest kernel here); host_visible_mm is
 * accepted too.
 */
static const char *const mm_globs[] = {
	"/sys/kernel/debug/dri/*/virtio-gpu-host-visible-mm",
	"/sys/kernel/debug/dri/*/host_visible_mm",
};

#define MM_RAW_LINES 80

struct mm_state {
	bool ok;
	unsigned long long ranges, used, total;
	char why[160]; /* when !ok */
};

static bool mm_find(char *path, size_t len)
{
	for (size_t i = 0; i < sizeof(mm_globs) / sizeof(mm_globs[0]); i++) {
		glob_t g;
		bool found = false;

		memset(&g, 0, sizeof(g));
		if (glob(mm_globs[i], 0, NULL, &g) != 0) {
			continue;
		}
		for (size_t j = 0; j < g.gl_pathc && !found; j++) {
			if (access(g.gl_pathv[j], R_OK) == 0) {
				snprintf(path, len, "%s", g.gl_pathv[j]);
				found = true;
			}
		}
		globfree(&g);
		if (found) {
			return true;
		}
	}
	return false;
}

static const char *mm_path(void)
{
	static char path[128];

	/* The tier's /init mounts debugfs in the root; without it the window is "unavailable". */
	if (path[0] || mm_find(path, sizeof(path))) {
		return path;
	}
	return NULL;
}

/* The whole file, NUL-terminated (a seq_file: read until EOF); NULL with why set. */
static char *mm_read_file(const char *path, char *why, size_t why_len)
{
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		snprintf(why, why_len, "open %s: %s", path, fd < 0 ? strerror(errno) : "no memory");
		free(buf);
		if (fd >= 0) {
			close(fd);
		}
		return NULL;
	}
	for (;;) {
		if (cap - len < 2) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				snprintf(why, why_len, "read %s: no memory", path);
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			snprintf(why, why_len, "read %s: %s", path, strerror(errno));
			break;
		}
		if (r == 0) {
			buf[len] = '\0';
			close(fd);
			return buf;
		}
		len += (size_t)r;
	}
	free(buf);
	close(fd);
	return NULL;
}

/* Counts the used ranges; the totals come from drm_mm_print()'s last line. A file without that
 * line (the kernel prints "Host allocations not visible to guest" when the device has no
 * host-visible region) is unavailable, with its first line as the reason. */
static void mm_parse(const char *text, struct mm_state *st)
{
	bool have_total = false;

	st->ranges = 0;
	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		unsigned long long a, b, c;
		char word[8];

		if (sscanf(line, "total: %llu, used %llu free %llu", &a, &b, &c) == 3) {
			st->total = a;
			st->used = b;
			have_total = true;
		} else if (sscanf(line, "%llx-%llx: %llu: %7s", &a, &b, &c, word) == 4 &&
		           !strcmp(word, "used")) {
			st->ranges++;
		}
		line = *end ? end + 1 : end;
	}
	st->ok = have_total;
	if (!have_total && !*text) {
		snprintf(st->why, sizeof(st->why), "empty file");
	} else if (!have_total) {
		snprintf(st->why, sizeof(st->why), "%.*s", (int)(strchrnul(text, '\n') - text),
		         text);
	}
}

/* One read of the window; *text (when asked for) is the file's text, freed by the caller. */
static struct mm_state mm_sample(char **text)
{
	struct mm_state st = { .ok = false };
	const char *path = mm_path();
	char *buf = NULL;

	if (!path) {
		snprintf(st.why, sizeof(st.why),
		         "no virtio-gpu-host-visible-mm under /sys/kernel/debug/dri");
	} else if ((buf = mm_read_file(path, st.why, sizeof(st.why)))) {
		mm_parse(buf, &st);
	}
	if (text) {
		*text = buf;
	} else {
		free(buf);
	}
	return st;
}

/* "MM <tag>.mm.<state> ranges=R used=U total=T" and, given text, its first lines as MMRAW. */
static void mm_print(const char *tag, const char *state, const struct mm_state *st,
                     const char *text)
{
	int lines = 0, more = 0;

	if (st->ok) {
		printf("MM %s.mm.%s ranges=%llu used=%llu total=%llu\n", tag, state, st->ranges,
		       st->used, st->total);
	} else {
		printf("MM %s.mm.%s unavailable (%s)\n", tag, state, st->why);
	}
	for (const char *line = text; line && *line;) {
		const char *end = strchrnul(line, '\n');
		if (lines < MM_RAW_LINES) {
			printf("MMRAW %.*s\n", (int)(end - line), line);
			lines++;
		} else {
			more++;
		}
		line = *end ? end + 1 : end;
	}
	if (more) {
		printf("MMRAW ... %d more lines\n", more);
	}
	fflush(stdout);
}

static struct mm_state mm_report(const char *tag, const char *state, bool raw)
{
	char *text = NULL;
	struct mm_state st = mm_sample(raw ? &text : NULL);

	mm_print(tag, state, &st, text);
	free(text);
	return st;
}

/*
 * The kernel takes a blob's range out of the window only when the host answers its unmap
 * (virtgpu_vram.c, virtio_gpu_cmd_unmap_cb), after vkFreeMemory has returned: wait until the window
 * is back where it was before the phase, or has not changed for 1 s (a driver that keeps blobs),
 * at most 10 s.
 */
static struct mm_state mm_settle(const struct mm_state *before, double *waited_ms)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	double t0 = vn_now_us(), t_change = t0;
	struct mm_state st = mm_sample(NULL);

	while (before->ok && st.ok && (st.ranges > before->ranges || st.used > before->used)) {
		double now = vn_now_us();
		if (now - t_change >= 1e6 || now - t0 >= 10e6) {
			break;
		}
		nanosleep(&tick, NULL);
		struct mm_state prev = st;
		st = mm_sample(NULL);
		if (st.ranges != prev.ranges || st.used != prev.used) {
			t_change = vn_now_us();
		}
	}
	*waited_ms = (vn_now_us() - t0) / 1000.0;
	return st;
}

/*
 * n live 4 KiB objects: allocated, all mapped and written, all read back, unmapped and freed, with
 * the host-visible window read before and after each step. On a guest-first host
 * (use_guest_vram) the guest places every blob in that window itself, so its ranges show how many
 * blobs the driver made and how much of the window they hold.
 */
static void phase_mm(const char *tag, int n)
{
	const VkDeviceSize size = 4096;
	struct phase_samples s;
	struct vn_ioctl_counts c0, c1, c2, c3;
	VkDeviceMemory *mems = calloc((size_t)(n > 0 ? n : 1), sizeof(*mems));
	void **ptrs = calloc((size_t)(n > 0 ? n : 1), sizeof(*ptrs));
	char name[160];
	int bad = 0, errors = 0, made = 0, mapped = 0;
	double waited_ms = 0;

	if (n <= 0 || !mems || !ptrs || samples_init(&s, n)) {
		free(mems);
		free(ptrs);
		return;
	}
	free(s.total);
	s.total = NULL;
	struct mm_state before = mm_report(tag, "before", false);
	vn_counts_read(&c0);
	for (; made < n; made++) {
		double t0 = vn_now_us();
		if (alloc_mem(size, &mems[made]) != VK_SUCCESS) {
			errors++;
			break;
		}
		s.alloc[made] = vn_now_us() - t0;
	}
	vn_counts_read(&c1);
	mm_report(tag, "allocated", false);
	for (; mapped < made; mapped++) {
		double t0 = vn_now_us();
		if (vkMapMemory(ctx.device, mems[mapped], 0, VK_WHOLE_SIZE, 0, &ptrs[mapped]) !=
		    VK_SUCCESS) {
			errors++;
			break;
		}
		s.map[mapped] = vn_now_us() - t0;
		vn_fill_pattern(ptrs[mapped], size, (uint32_t)mapped + 1, 0);
	}
	/* Read back only once every object is written: two objects sharing bytes show here. */
	for (int i = 0; i < mapped; i++) {
		bad += vn_check_pattern(ptrs[i], size, (uint32_t)i + 1, 0) >= 0;
	}
	vn_counts_read(&c2);
	mm_report(tag, "mapped", true);
	for (int i = 0; i < made; i++) {
		double t0 = vn_now_us();
		if (i < mapped) {
			vkUnmapMemory(ctx.device, mems[i]);
		}
		double t1 = vn_now_us();
		vkFreeMemory(ctx.device, mems[i], NULL);
		double t2 = vn_now_us();
		s.unmap[i] = t1 - t0;
		s.free[i] = t2 - t1;
	}
	vn_counts_read(&c3);
	struct mm_state freed = mm_settle(&before, &waited_ms);
	mm_print(tag, "freed", &freed, NULL);
	if (before.ok && freed.ok) {
		printf("INFO %s.mm.freed settle_ms=%.0f\n", tag, waited_ms);
	}
	if (!errors) {
		static const char *const what[] = { "alloc", "map", "unmap", "free" };
		double *samples[] = { s.alloc, s.map, s.unmap, s.free };
		for (int i = 0; i < 4; i++) {
			snprintf(name, sizeof(name), "%s.mm.%s", tag, what[i]);
			vn_print_stats(name, samples[i], (size_t)n);
		}
	}
	snprintf(name, sizeof(name), "%s.mm.alloc", tag);
	vn_print_counts(name, &c0, &c1);
	snprintf(name, sizeof(name), "%s.mm.map", tag);
	vn_print_counts(name, &c1, &c2);
	snprintf(name, sizeof(name), "%s.mm.free", tag);
	vn_print_counts(name, &c2, &c3);
	snprintf(name, sizeof(name), "%s_mm_data", tag);
	vn_result(name, !bad && !errors, "objects=%d mapped=%d bad=%d vk_errors=%d", made, mapped,
	          bad, errors);
	samples_finish(&s);
	free(mems);
	free(ptrs);
}

int main(int argc, char **argv)
{
	struct options o;
	struct vn_ctx_options co = { .app_name = "vn-churn" };
	char sname[32], name[160];
	struct vn_ioctl_counts c0, c1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &o)) {
		fprintf(stderr, "usage: vn-churn [--sizes 4k,64k,1m] [--cycles N] [--live N] "
		                "[--unmapped N] [--long N] [--mm N] [--tag NAME]\n");
		return 2;
	}
	vn_counts_read(&c0);
	double t0 = vn_now_us();
	int r = vn_ctx_create(&ctx, &co);
	/* Venus sets up what its first vkDeviceWaitIdle needs (a blob, a mapping) lazily: do it
	 * here, so that the live phases time the frees and the idle, not that one-time setup. */
	if (r == VK_SUCCESS) {
		r = vkDeviceWaitIdle(ctx.device);
	}
	double t1 = vn_now_us();
	vn_counts_read(&c1);
	vn_result(o.tag, r == VK_SUCCESS, "device=%d", r);
	if (r != VK_SUCCESS) {
		vn_ctx_destroy(&ctx);
		return vn_summary();
	}
	printf("MEASURE %s.device_create total=%.1f\n", o.tag, t1 - t0);
	snprintf(name, sizeof(name), "%s.device_create", o.tag);
	vn_print_counts(name, &c0, &c1);
	int t = vn_find_memory_type(&ctx, ~0u,
	                            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
	                                    VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
	if (t < 0) {
		vn_result("host_visible_type", false, "none");
		vn_ctx_destroy(&ctx);
		return vn_summary();
	}
	type_index = (uint32_t)t;
	printf("INFO %s memory type %u sizes=%d cycles=%d live=%d unmapped=%d long=%d\n", o.tag,
	       type_index, o.n_sizes, o.cycles, o.live, o.unmapped, o.long_cycles);

	for (int i = 0; i < o.n_sizes; i++) {
		size_name(o.sizes[i], sname, sizeof(sname));
		phase_cycles(o.tag, sname, "cycle", o.sizes[i], o.cycles);
		phase_live(o.tag, sname, o.sizes[i], o.live);
		phase_unmapped(o.tag, sname, o.sizes[i], o.unmapped);
	}
	if (o.long_cycles > 0) {
		phase_cycles(o.tag, "4k", "long", 4096, o.long_cycles);
	}
	phase_mm(o.tag, o.mm);
	vn_counts_read(&c0);
	t0 = vn_now_us();
	bool layer = ctx.validation;
	vn_ctx_destroy(&ctx);
	t1 = vn_now_us();
	vn_validation_summary(layer);
	vn_counts_read(&c1);
	printf("MEASURE %s.device_destroy total=%.1f\n", o.tag, t1 - t0);
	snprintf(name, sizeof(name), "%s.device_destroy", o.tag);
	vn_print_counts(name, &c0, &c1);
	return vn_summary();
}
