/*
 * Allocation wrappers with a per-thread fault-injection countdown.
 */
#include "sluice/alloc.h"

#include <stdlib.h>
#include <string.h>

/** Allocations left before the injected fault; negative: no injection. */
static _Thread_local long fail_countdown = -1;
/** Faults injected on this thread. */
static _Thread_local long fault_count;

/** Whether this allocation is the one that must fail. */
static int
inject_fault(void)
{
	if (__builtin_expect(fail_countdown < 0, 1))
		return 0;
	if (fail_countdown-- == 0) {
		fault_count++;
		return 1;
	}
	return 0;
}

void *
sl_malloc(size_t size)
{
	return inject_fault() ? NULL : malloc(size);
}

char *
sl_strndup(const char *s, size_t n)
{
	char *d = sl_malloc(n + 1);
	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void *
sl_calloc(size_t n, size_t size)
{
	return inject_fault() ? NULL : calloc(n, size);
}

void *
sl_realloc(void *p, size_t size)
{
	return inject_fault() ? NULL : realloc(p, size);
}

void
sl_free(void *p)
{
	free(p);
}

void
sl_alloc_fail_after(long n)
{
	fail_countdown = n;
}

long
sl_alloc_faults(void)
{
	return fault_count;
}

long
sl_alloc_countdown(void)
{
	return fail_countdown;
}

void
sl_alloc_add_faults(long n)
{
	fault_count += n;
}
