/* SPDX-License-Identifier: MIT */
/*
 * vn-churn: what host-visible VkDeviceMemory costs a guest, call by call. Per size: mapped cycles
 * (allocate, map, write, unmap, free), a live set freed at once (then vkDeviceWaitIdle, then one
 * more mapped cycle that pays whatever the frees left queued on the host), and
 * allocate+free never mapped; optionally a long run of small mapped cycles with one object live.
 * Prints MEASURE lines (µs) and, with libioctl-count.so preloaded, COUNT lines per phase.
 *
 * Usage: vn-churn [--sizes 4k,64k,1m] [--cycles N] [--live N] [--unmapped N] [--long N]
 *                 [--tag NAME]
 * Stock Venus makes one blob per mapped allocation and the TCG rig hangs under heavy blob churn:
 * the runner keeps stock at (cycles + live + 1) x sizes <= 100.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vn-common.h"

#define MAX_SIZES 8

struct options {
	VkDeviceSize sizes[MAX_SIZES];
	int n_sizes;
	int cycles, live, unmapped, long_cycles;
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

static int samples_init(struct phase_samples *s, int n)
{
	size_t len = (size_t)(n > 0 ? n : 1);

	s->alloc = calloc(len, sizeof(double));
	s->map = calloc(len, sizeof(double));
	s->unmap = calloc(len, sizeof(double));
	s->free = calloc(len, sizeof(double));
	s->total = calloc(len, sizeof(double));
	return s->alloc && s->map && s->unmap && s->free && s->total ? 0 : -1;
}

static void samples_finish(struct phase_samples *s)
{
	free(s->alloc);
	free(s->map);
	free(s->unmap);
	free(s->free);
	free(s->total);
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
	vn_counts_read(&c1);
	if (!errors) {
		print_phase(tag, sname, "unmapped", &s, n, false);
	}
	snprintf(name, sizeof(name), "%s.%s.unmapped", tag, sname);
	vn_print_counts(name, &c0, &c1);
	snprintf(name, sizeof(name), "%s_%s_unmapped", tag, sname);
	vn_result(name, !errors, "objects=%d vk_errors=%d", n, errors);
	samples_finish(&s);
}

int main(int argc, char **argv)
{
	struct options o;
	struct vn_ctx_options co = { .app_name = "vn-churn" };
	char sname[32];
	struct vn_ioctl_counts c0, c1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv, &o)) {
		fprintf(stderr, "usage: vn-churn [--sizes 4k,64k,1m] [--cycles N] [--live N] "
		                "[--unmapped N] [--long N] [--tag NAME]\n");
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
	vn_print_counts("churn.device_create", &c0, &c1);
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
	vn_counts_read(&c0);
	t0 = vn_now_us();
	bool layer = ctx.validation;
	vn_ctx_destroy(&ctx);
	t1 = vn_now_us();
	vn_validation_summary(layer);
	vn_counts_read(&c1);
	printf("MEASURE %s.device_destroy total=%.1f\n", o.tag, t1 - t0);
	vn_print_counts("churn.device_destroy", &c0, &c1);
	return vn_summary();
}
