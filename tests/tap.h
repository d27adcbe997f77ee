/*
 * A small TAP harness with no dependency on sluice, so that stand-alone
 * tests (tests/ctx_selftest.c, cross-built for aarch64) use it too. A
 * failed check records and goes on (no longjmp, which would cross task
 * stacks). done_testing() prints the plan and a closing "N passed, N
 * failed" line and gives the exit status.
 */
#ifndef SLUICE_TESTS_TAP_H
#define SLUICE_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Checks run so far. */
static int unit_run;
/** Checks that failed. */
static int unit_failed;

/** Record one check. Returns `cond`. */
static inline int __attribute__((format(printf, 4, 5)))
unit_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	unit_run++;
	if (!cond)
		unit_failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", unit_run);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		printf("#   Failed at %s:%d\n", file, line);
	fflush(stdout);
	return cond;
}

/** Check that `cond` holds. */
#define ok(cond, ...) unit_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/** Check that two integers are equal, printing both when not. */
#define is_int(a, b, ...)                                                \
	do {                                                             \
		long long a_ = (long long)(a), b_ = (long long)(b);      \
		if (!ok(a_ == b_, __VA_ARGS__))                          \
			printf("#   got %lld, expected %lld\n", a_, b_); \
	} while (0)

/** Check that two strings are equal, printing both when not. */
#define is_str(a, b, ...)                                                \
	do {                                                             \
		const char *a_ = (a), *b_ = (b);                         \
		if (!ok(a_ != NULL && b_ != NULL && strcmp(a_, b_) == 0, \
		        __VA_ARGS__))                                    \
			printf("#   got \"%s\", expected \"%s\"\n",      \
			       a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
	} while (0)

/** Print a diagnostic line. */
#define note(...)                    \
	do {                         \
		printf("# ");        \
		printf(__VA_ARGS__); \
		printf("\n");        \
	} while (0)

/** Stop the test program at once: the rest cannot run. */
#define bail_out(...)                 \
	do {                          \
		printf("Bail out! "); \
		printf(__VA_ARGS__);  \
		printf("\n");         \
		exit(1);              \
	} while (0)

/** Finish: print the plan and summary, return the exit status. */
static inline int
done_testing(void)
{
	printf("1..%d\n", unit_run);
	printf("%d passed, %d failed\n", unit_run - unit_failed, unit_failed);
	return unit_failed == 0 && unit_run > 0 ? 0 : 1;
}

#endif /* SLUICE_TESTS_TAP_H */
