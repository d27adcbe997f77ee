/*
 * Task stacks.
 */
#include "rt/stack.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "sluice/diag.h"
#include "sluice/task.h"

/**
 * How far below the guard page a fault still counts as an overflow: a frame
 * larger than a page can skip the guard (the build adds
 * -fstack-clash-protection so that large frames probe it).
 */
#define OVERFLOW_SLACK (64 * 1024)

size_t
sl_stack_page_size(void)
{
	static size_t page;
	if (page == 0) {
		long p = sysconf(_SC_PAGESIZE);
		page = p > 0 ? (size_t)p : 4096;
	}
	return page;
}

size_t
sl_stack_round(size_t size)
{
	size_t page = sl_stack_page_size();
	if (size < SL_TASK_STACK_MIN)
		size = SL_TASK_STACK_MIN;
	if (size > SL_TASK_STACK_MAX)
		size = SL_TASK_STACK_MAX;
	return (size + page - 1) & ~(page - 1);
}

int
sl_stack_create(struct sl_stack *s, size_t size)
{
	size_t page = sl_stack_page_size();
	size = sl_stack_round(size);
	size_t map_size = size + page;
	void *map = mmap(NULL, map_size, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		sl_diag_set_errno("cannot map a task stack of %zu bytes",
		                  map_size);
		return -1;
	}
	if (mprotect(map, page, PROT_NONE) != 0) {
		sl_diag_set_errno("cannot protect a task stack's guard page");
		munmap(map, map_size);
		return -1;
	}
	s->map = map;
	s->map_size = map_size;
	s->lo = (char *)map + page;
	s->size = size;
	s->vg_id = VALGRIND_STACK_REGISTER(s->lo, (char *)s->lo + size);
	return 0;
}

void
sl_stack_destroy(struct sl_stack *s)
{
	if (s->map == NULL)
		return;
	VALGRIND_STACK_DEREGISTER(s->vg_id);
	munmap(s->map, s->map_size);
	s->map = NULL;
}

void
sl_stack_trim(struct sl_stack *s, size_t keep)
{
	size_t page = sl_stack_page_size();
	keep = (keep + page - 1) & ~(page - 1);
	if (keep >= s->size)
		return;
	madvise(s->lo, s->size - keep, MADV_DONTNEED);
}

int
sl_stack_is_overflow(const struct sl_stack *s, const void *addr)
{
	if (s->map == NULL)
		return 0;
	uintptr_t a = (uintptr_t)addr;
	uintptr_t lo = (uintptr_t)s->lo;
	uintptr_t guard = (uintptr_t)s->map;
	return a < lo && a + OVERFLOW_SLACK >= guard;
}
