/* SPDX-License-Identifier: MIT */
/*
 * Background load and per-thread CPU clocks, so that a reader of the bench can tell the
 * library's cost from the machine's:
 *  - how many CPUs' worth of work other processes did while the bench ran: the busy time of all
 *    CPUs from /proc/stat's aggregate "cpu" line (user+nice+system+irq+softirq+steal; idle and
 *    iowait count as idle) minus this process's own CPU time (getrusage), over the wall time,
 *    and the steal share (time a hypervisor ran something else on our virtual CPUs);
 *  - a thread's own CPU time (CLOCK_THREAD_CPUTIME_ID) and the time it spent runnable but
 *    waiting on a runqueue (/proc/self/task/<tid>/schedstat, second field, ns).
 * /proc/stat counts in USER_HZ ticks (usually 10 ms), so short samples are coarse: about
 * 1 / (HZ x seconds) CPUs. Elsewhere than Linux the figures read as not available.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static uint64_t load_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

void bench_load_take(struct bench_load_snap *s)
{
	struct rusage ru;

	memset(s, 0, sizeof(*s));
#ifdef __linux__
	FILE *f = fopen("/proc/stat", "r");

	if (f) {
		/* user nice system idle iowait irq softirq steal (guest time is inside user) */
		unsigned long long v[8] = { 0 };
		char line[512];

		if (fgets(line, sizeof(line), f) &&
		    sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		           &v[3], &v[4], &v[5], &v[6], &v[7]) >= 4) {
			s->busy_ticks = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
			s->idle_ticks = v[3] + v[4];
			s->steal_ticks = v[7];
			s->ok = true;
			/* The per-CPU lines follow the aggregate one. */
			while (fgets(line, sizeof(line), f) && !strncmp(line, "cpu", 3)) {
				s->ncpu += isdigit((unsigned char)line[3]) != 0;
			}
		}
		fclose(f);
	}
#endif
	if (!getrusage(RUSAGE_SELF, &ru)) {
		s->own_cpu_ns = tv_ns(&ru.ru_utime) + tv_ns(&ru.ru_stime);
	}
	s->wall_ns = load_mono_ns();
}

static uint64_t sub_clamped(uint64_t b, uint64_t a)
{
	return b > a ? b - a : 0;
}

void bench_load_add(struct bench_load_snap *acc, const struct bench_load_snap *a,
                    const struct bench_load_snap *b)
{
	if (!a->ok || !b->ok) {
		return;
	}
	acc->ok = true;
	acc->ncpu = b->ncpu;
	acc->pairs++;
	acc->busy_ticks += sub_clamped(b->busy_ticks, a->busy_ticks);
	acc->idle_ticks += sub_clamped(b->idle_ticks, a->idle_ticks);
	acc->steal_ticks += sub_clamped(b->steal_ticks, a->steal_ticks);
	acc->own_cpu_ns += sub_clamped(b->own_cpu_ns, a->own_cpu_ns);
	acc->wall_ns += sub_clamped(b->wall_ns, a->wall_ns);
}

void bench_load_compute(const struct bench_load_snap *d, struct bench_load *out)
{
	long hz = sysconf(_SC_CLK_TCK);
	double busy_ns, other;

	memset(out, 0, sizeof(*out));
	out->ncpu = d->ncpu;
	out->wall_s = (double)d->wall_ns / 1e9;
	if (!d->ok || d->wall_ns == 0 || hz <= 0) {
		return;
	}
	out->ok = true;
	busy_ns = (double)d->busy_ticks * 1e9 / (double)hz;
	other = (busy_ns - (double)d->own_cpu_ns) / (double)d->wall_ns;
	out->other_cpus = other > 0 ? other : 0;
	if (d->ncpu && out->other_cpus > d->ncpu) {
		out->other_cpus = d->ncpu;
	}
	out->resolution = (double)(d->pairs ? d->pairs : 1) * (d->ncpu ? d->ncpu : 1) * 1e9 /
	                  (double)hz / (double)d->wall_ns;
	if (d->busy_ticks + d->idle_ticks) {
		out->steal = (double)d->steal_ticks / (double)(d->busy_ticks + d->idle_ticks);
	}
}

void bench_load_between(const struct bench_load_snap *a, const struct bench_load_snap *b,
                        struct bench_load *out)
{
	struct bench_load_snap d;

	memset(&d, 0, sizeof(d));
	bench_load_add(&d, a, b);
	bench_load_compute(&d, out);
}

void bench_load_format(char *buf, size_t size, const struct bench_load *l)
{
	char res[32] = "";

	if (!l->ok) {
		snprintf(buf, size, "n/a (no /proc/stat)");
		return;
	}
	if (l->resolution > 0.05) {
		snprintf(res, sizeof(res), " +- %.2f", l->resolution);
	}
	snprintf(buf, size, "%.2f%s CPUs busy with other work (of %u), steal %.1f %%",
	         l->other_cpus, res, l->ncpu, l->steal * 100);
}

void bench_load_print_sample(FILE *f, unsigned ms)
{
	struct bench_load_snap a, b;
	struct bench_load l;
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	char buf[128];

	bench_load_take(&a);
	while (nanosleep(&ts, &ts) && errno == EINTR) {
	}
	bench_load_take(&b);
	bench_load_between(&a, &b, &l);
	bench_load_format(buf, sizeof(buf), &l);
	fprintf(f,
	        "background load: %s (sampled over %.0f ms before the run; /proc/stat busy "
	        "time minus this process's)\n",
	        buf, l.wall_s * 1e3);
}

void bench_load_print_run(FILE *f, const struct bench_load_snap *start)
{
	struct bench_load_snap end;
	struct bench_load l;
	char buf[128];

	bench_load_take(&end);
	bench_load_between(start, &end, &l);
	bench_load_format(buf, sizeof(buf), &l);
	fprintf(f, "\nbackground load during the run: %s over %.1f s\n", buf, l.wall_s);
}

/* ---------------------------------------------------------------------------------------------
 * Per-thread clocks.
 */

void bench_thread_clock_open(struct bench_thread_clock *tc)
{
	tc->fd = -1;
#ifdef __linux__
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat", (long)gettid());
		tc->fd = open(path, O_RDONLY | O_CLOEXEC);
	}
#endif
}

void bench_thread_clock_close(struct bench_thread_clock *tc)
{
	if (tc->fd >= 0) {
		close(tc->fd);
	}
	tc->fd = -1;
}

/* schedstat: "<ns on CPU> <ns waiting on a runqueue> <timeslices>". */
static void read_runq(const struct bench_thread_clock *tc, struct bench_thread_sample *s)
{
	char buf[128];
	unsigned long long on_cpu, wait;
	ssize_t n;

	s->runq_ok = false;
	s->runq_ns = 0;
	if (tc->fd < 0) {
		return;
	}
	n = pread(tc->fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0) {
		return;
	}
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &on_cpu, &wait) == 2) {
		s->runq_ns = wait;
		s->runq_ok = true;
	}
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) {
		return 0;
	}
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bench_thread_start(const struct bench_thread_clock *tc, struct bench_thread_sample *s)
{
	read_runq(tc, s);
	s->cpu_ns = thread_cpu_ns();
}

void bench_thread_stop(const struct bench_thread_clock *tc, struct bench_thread_sample *s)
{
	s->cpu_ns = thread_cpu_ns();
	read_runq(tc, s);
}
