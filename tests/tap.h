/*
 * A small TAP harness with no dependency on sluice, so that stand-alone
 * tests (tests/ctx_selftest.c, cross-built for aarch64) use it too. A
 * failed check records and goes on (no longjmp, which would cross task
 * stacks). done_testing() prints the plan and a closing "N passed, N
 * failed" line and gives the exit status.
 *
 * Cases: TAP_CASE(name) { ... } defines and registers a case, and
 * main() returns tap_main(argc, argv), which runs every case in the order
 * of the file, or only those named on the command line (`test_x CASE...`);
 * `test_x --list` prints the names. Each case must run on its own: state a
 * case needs comes from a helper it calls, or from the program's fixture
 * (tap_main_fixture()), never from an earlier case.
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

/** One case of a test program, registered by TAP_CASE. */
struct tap_case {
	/** Its name, as given on the command line. */
	const char *name;
	/** The function that runs it. */
	void (*fn)(void);
	/** The line it is defined on: cases run in the order of the file. */
	int line;
};

/** Most cases a test program can register. */
#define TAP_MAX_CASES 128

/** The registered cases, ordered by line. */
static struct tap_case tap_cases[TAP_MAX_CASES];
/** Number of registered cases. */
static int tap_ncases;

/** Find case `name`; NULL if there is none. */
static inline const struct tap_case *
tap_find(const char *name)
{
	for (int i = 0; i < tap_ncases; i++)
		if (strcmp(tap_cases[i].name, name) == 0)
			return &tap_cases[i];
	return NULL;
}

/** Register case `name` defined at `line` (TAP_CASE does, at startup). */
static inline void
tap_register(const char *name, void (*fn)(void), int line)
{
	if (tap_ncases == TAP_MAX_CASES || tap_find(name) != NULL) {
		fprintf(stderr, "tap: cannot register case '%s' (%s)\n", name,
		        tap_ncases == TAP_MAX_CASES ? "too many cases"
		                                    : "a duplicate name");
		abort();
	}
	/* Constructors run in no promised order: insert by line. */
	int i = tap_ncases++;
	for (; i > 0 && tap_cases[i - 1].line > line; i--)
		tap_cases[i] = tap_cases[i - 1];
	tap_cases[i] = (struct tap_case){name, fn, line};
}

/**
 * Define case `name` (an identifier), registered before main() runs:
 * `TAP_CASE(basic) { ok(...); }`.
 */
#define TAP_CASE(name)                                                     \
	static void tap_case_##name(void);                                 \
	/** Register the case at startup. */                               \
	__attribute__((constructor)) static void tap_register_##name(void) \
	{                                                                  \
		tap_register(#name, tap_case_##name, __LINE__);            \
	}                                                                  \
	static void tap_case_##name(void)

/** Print the names of the cases, one a line, to `out`. */
static inline void
tap_list(FILE *out)
{
	for (int i = 0; i < tap_ncases; i++)
		fprintf(out, "%s\n", tap_cases[i].name);
}

/**
 * Run a test program with a fixture: check the arguments, run `setup`
 * (unless NULL; nonzero bails out), the cases (all, or those named in
 * argv, in that order), `teardown` (unless NULL), then done_testing().
 * `--list` prints the cases instead; an unknown case name is an error
 * (exit 2) that lists them. Returns the exit status.
 */
static inline int
tap_main_fixture(int argc, char **argv, int (*setup)(void),
                 void (*teardown)(void))
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0) {
			tap_list(stdout);
			return 0;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (tap_find(argv[i]) == NULL) {
			fprintf(stderr, "%s: no case '%s'; the cases are:\n",
			        argv[0], argv[i]);
			tap_list(stderr);
			return 2;
		}
	}
	if (setup != NULL && setup() != 0)
		bail_out("the test program's setup failed");
	int n = argc > 1 ? argc - 1 : tap_ncases;
	for (int i = 0; i < n; i++) {
		const struct tap_case *c =
		        argc > 1 ? tap_find(argv[i + 1]) : &tap_cases[i];
		note("case %s", c->name);
		c->fn();
	}
	if (teardown != NULL)
		teardown();
	return done_testing();
}

/** Run a test program's cases (tap_main_fixture() without a fixture). */
static inline int
tap_main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, NULL, NULL);
}

#endif /* SLUICE_TESTS_TAP_H */
