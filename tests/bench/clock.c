/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's clock: the time-stamp counter (rdtsc/rdtscp with fences) calibrated against
 * CLOCK_MONOTONIC, its back-to-back overhead, and the CPU model printed beside the figures.
 * Elsewhere than x86 it falls back to clock_gettime in nanoseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if !BENCH_HAVE_TSC
uint64_t bench_clock_ns(void)
{
	return mono_ns();
}
#endif

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void clock_calibrate(struct bench_clock *c, bool quick)
{
	enum {
		PAIRS = 20001
	};
	uint64_t *v = malloc(PAIRS * sizeof(*v));
	double best = 0.0;

	c->tsc = BENCH_HAVE_TSC;
	if (!c->tsc) {
		c->ticks_per_ns = 1.0;
	} else {
		/* Three windows; the middle estimate guards against one preempted window. */
		double est[3];
		uint64_t window = quick ? 5000000ull : 50000000ull;

		for (int k = 0; k < 3; k++) {
			uint64_t n0 = mono_ns(), t0 = tick_start(), n1, t1;

			do {
				n1 = mono_ns();
			} while (n1 - n0 < window);
			t1 = tick_stop();
			est[k] = (double)(t1 - t0) / (double)(n1 - n0);
		}
		best = est[0];
		if ((est[1] - est[0]) * (est[1] - est[2]) <= 0) {
			best = est[1];
		} else if ((est[2] - est[0]) * (est[2] - est[1]) <= 0) {
			best = est[2];
		}
		c->ticks_per_ns = best;
	}
	c->overhead = 0;
	if (v) {
		for (int i = 0; i < PAIRS; i++) {
			uint64_t a = tick_start();
			uint64_t b = tick_stop();

			v[i] = b - a;
		}
		qsort(v, PAIRS, sizeof(*v), cmp_u64);
		c->overhead = v[PAIRS / 2];
		free(v);
	}
}

/* The value after "key<tabs/spaces>:" when line starts with exactly that key, else NULL. */
static const char *cpuinfo_value(char *line, const char *key)
{
	size_t n = strlen(key);
	char *p;

	if (strncmp(line, key, n) != 0 || (line[n] != ' ' && line[n] != '\t' && line[n] != ':')) {
		return NULL;
	}
	p = strchr(line, ':');
	if (!p) {
		return NULL;
	}
	p++;
	while (*p == ' ' || *p == '\t') {
		p++;
	}
	p[strcspn(p, "\n")] = '\0';
	return p;
}

void cpu_model(char *buf, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512], name[256] = "unknown", family[32] = "", model[32] = "", stepping[32] = "";
	const char *v;

	snprintf(buf, size, "unknown");
	if (!f) {
		return;
	}
	/* The first processor's block only. x86 "model name"; arm64 and others "Hardware" or
	 * "uarch" when the kernel reports them. */
	while (fgets(line, sizeof(line), f) && line[0] != '\n') {
		if ((v = cpuinfo_value(line, "model name")) ||
		    (v = cpuinfo_value(line, "Hardware")) || (v = cpuinfo_value(line, "uarch"))) {
			snprintf(name, sizeof(name), "%s", v);
		} else if ((v = cpuinfo_value(line, "cpu family"))) {
			snprintf(family, sizeof(family), "%s", v);
		} else if ((v = cpuinfo_value(line, "model"))) {
			snprintf(model, sizeof(model), "%s", v);
		} else if ((v = cpuinfo_value(line, "stepping"))) {
			snprintf(stepping, sizeof(stepping), "%s", v);
		}
	}
	fclose(f);
	if (family[0]) {
		snprintf(buf, size, "%s (family %s, model %s, stepping %s)", name, family, model,
		         stepping);
	} else {
		snprintf(buf, size, "%s", name);
	}
}
