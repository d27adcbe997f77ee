/*
 * sluice: the allocator every module goes through, with fault injection.
 *
 * Every allocation goes through sl_malloc(), sl_calloc() or sl_realloc(),
 * and so do the compression libraries' (through their allocator hooks).
 * Tests make allocations fail on purpose (curl's "torture" idea): set a
 * per-thread countdown with sl_alloc_fail_after() and the n-th allocation
 * from then on returns NULL. Code under test must fail cleanly with
 * SL_EOOM; tests/test_faults.c fails each allocation point of a
 * producer/consumer scenario in turn, and valgrind and LSan check that no
 * path leaks. A worker job (sluice/worker.h) takes over the countdown of
 * the task that queued it, so the countdown reaches code run on a worker.
 */
#ifndef SLUICE_ALLOC_H
#define SLUICE_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** malloc(), or NULL when an injected fault fires. Sets no diag. */
void *sl_malloc(size_t size);

/** calloc(), or NULL when an injected fault fires. Sets no diag. */
void *sl_calloc(size_t n, size_t size);

/** realloc(), or NULL when an injected fault fires (`p` stays valid). */
void *sl_realloc(void *p, size_t size);

/** free(). */
void sl_free(void *p);

/**
 * A NUL-terminated copy of the `n` bytes at `s` (which may hold no NUL),
 * from sl_malloc(); NULL when that fails (no error is set, as for
 * sl_malloc()).
 */
char *sl_strndup(const char *s, size_t n);

/**
 * Make the allocation after `n` successful ones fail (0: the very next),
 * and every later one succeed again. A negative `n` turns injection off.
 * The countdown is per thread.
 */
void sl_alloc_fail_after(long n);

/** Number of faults injected on this thread so far. */
long sl_alloc_faults(void);

/**
 * The countdown of this thread (negative: no injection). A thread that
 * runs work for this one (sluice/worker.h) takes the countdown over for
 * the job and hands back what is left, so an injected fault can fire in
 * the job as if it ran here.
 */
long sl_alloc_countdown(void);

/** Count `n` faults injected on another thread on this one's behalf. */
void sl_alloc_add_faults(long n);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_ALLOC_H */
