/*
 * bench_common: what the bench programs share. A scratch directory and the
 * files written into it, latency samples and their percentiles, the clock
 * they are taken with, and the process's memory figures (peak RSS from
 * getrusage, VmRSS/VmHWM from /proc/self/status).
 *
 * Bench code only: nothing here is part of usher. Errors are returned; the
 * bench decides what to print.
 */
#ifndef USHER_BENCH_COMMON_H
#define USHER_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds; the same clock in every thread. */
uint64_t bench_now_ns(void);

/* Makes /tmp/usher-NAME-XXXXXX into dir[len]. Returns 0 or -1 (errno). */
int bench_tmpdir(char *dir, size_t len, const char *name);
/* Removes `dir` and everything in it. Returns 0 or -1. */
int bench_rmdir(const char *dir);
/* Writes `text` to `path`, mode 0600 (configs hold API keys). 0 or -1. */
int bench_write_file(const char *path, const char *text);

/* A growing array of samples (ms); zero-initialise, free with
 * bench_samples_free(). */
struct bench_samples {
	double *v;
	size_t n;
	size_t cap;
};

void bench_samples_add(struct bench_samples *s, double v);
/* The p-th percentile (0..100, nearest rank); sorts the samples. 0 when
 * there are none. */
double bench_samples_pct(struct bench_samples *s, double p);
double bench_samples_max(const struct bench_samples *s);
double bench_samples_sum(const struct bench_samples *s);
void bench_samples_free(struct bench_samples *s);

/* Peak resident set of this process in KiB (getrusage ru_maxrss). */
long bench_peak_rss_kb(void);
/* A "Vm...:" line of /proc/self/status in KiB ("VmRSS", "VmHWM"), or -1. */
long bench_status_kb(const char *field);

#endif
