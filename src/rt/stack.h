/*
 * Task stacks (internal): mmap'd, with a PROT_NONE guard page below, and
 * registered with valgrind so memcheck follows switches.
 *
 * Sizes are 256 KiB by default (per loop and per task configurable,
 * rounded to pages). A loop caches up to 64 freed default-size stacks,
 * after madvise(MADV_DONTNEED) of all but their top 16 KiB. The build adds
 * -fstack-clash-protection so a large frame probes the guard page instead
 * of jumping over it; sl_stack_is_overflow() lets task.c's SIGSEGV handler
 * tell an overflow (an address in or just below the guard page) from
 * other faults, which go to the previous handler (the default, or ASan's).
 */
#ifndef SLUICE_RT_STACK_H
#define SLUICE_RT_STACK_H

#include <stddef.h>

/** One stack mapping. */
struct sl_stack {
	/** Start of the mapping (the guard page). NULL when empty. */
	void *map;
	/** Size of the mapping, guard included. */
	size_t map_size;
	/** Lowest usable address (just above the guard). */
	void *lo;
	/** Usable bytes. */
	size_t size;
	/** valgrind's id for the registered stack. */
	unsigned vg_id;
};

/** The system page size. */
size_t sl_stack_page_size(void);

/** Round a requested size to whole pages within the allowed range. */
size_t sl_stack_round(size_t size);

/** Map a stack of `size` usable bytes. 0, or -1 with an error. */
int sl_stack_create(struct sl_stack *s, size_t size);

/** Unmap the stack. */
void sl_stack_destroy(struct sl_stack *s);

/**
 * Give the kernel back the pages of a stack kept for reuse, except the top
 * `keep` bytes, so that a cache of stacks does not pin memory.
 */
void sl_stack_trim(struct sl_stack *s, size_t keep);

/** Whether `addr` is in the guard page or just below it. */
int sl_stack_is_overflow(const struct sl_stack *s, const void *addr);

#endif /* SLUICE_RT_STACK_H */
