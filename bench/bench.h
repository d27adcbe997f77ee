/*
 * Helpers shared by the benchmark programs: a monotonic clock, the median
 * of repetitions, and the result line that scripts/bench and the README
 * describe:
 *
 *   BENCH <name> value=<number> unit=<unit> baseline=<number> ratio=<number>
 *
 * Lines starting with '#' are commentary (repetitions, notes).
 */
#ifndef SLUICE_BENCH_BENCH_H
#define SLUICE_BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "sluice/diag.h"

/** Repetitions per measurement; the median is reported. */
#define BENCH_REPS 5

/** Monotonic time in nanoseconds. */
static inline uint64_t
bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** Median of the `n` values of `v` (n > 0); sorts `v` in place. */
static inline double
bench_median(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		double x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	if (n % 2 == 1)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

/**
 * Print a result line. `ratio` says how many times better `value` is than
 * `baseline` (> 1: sluice is better). `decimals` applies to the value and
 * the baseline.
 */
static inline void
bench_result(const char *name, double value, const char *unit, double baseline,
             double ratio, int decimals)
{
	printf("BENCH %s value=%.*f unit=%s baseline=%.*f ratio=%.3f\n", name,
	       decimals, value, unit, decimals, baseline, ratio);
	fflush(stdout);
}

/** Report a failure with the current sluice error, if any, on stderr. */
static inline void
bench_fail(const char *bench, const char *what)
{
	char msg[1024] = "";
	const struct sl_error *e = sl_diag_last();
	if (e != NULL)
		sl_error_format(e, msg, sizeof(msg));
	fprintf(stderr, "%s: %s%s%s\n", bench, what, e != NULL ? ": " : "",
	        msg);
}

#endif /* SLUICE_BENCH_BENCH_H */
