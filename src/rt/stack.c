/*
 * Task stacks.
 */
#include "rt/stack.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "sluice/alloc.h"
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
	s->slab = NULL;
	s->slot = 0;
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

/* --- pools of slabs ------------------------------------------------------ */

/** One mapping of SL_STACK_SLAB stacks, each above its own guard page. */
struct sl_stack_slab {
	/** Start of the mapping. */
	void *map;
	/** Size of the mapping. */
	size_t map_size;
	/** Neighbours in the pool's `partial` or `empty` list. */
	struct sl_stack_slab *prev, *next;
	/** Free slots, the top of the stack last. */
	uint32_t free[SL_STACK_SLAB];
	/** Entries in `free`. */
	uint32_t n_free;
	/** valgrind's ids of the slots' stacks. */
	unsigned vg_id[SL_STACK_SLAB];
};

/** Bytes from one slot's guard page to the next one's. */
static size_t
slot_span(const struct sl_stack_pool *p)
{
	return p->size + sl_stack_page_size();
}

/** Put `s` at the head of list `*head`. */
static void
slab_link(struct sl_stack_slab **head, struct sl_stack_slab *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head != NULL)
		(*head)->prev = s;
	*head = s;
}

/** Take `s` out of list `*head`. */
static void
slab_unlink(struct sl_stack_slab **head, struct sl_stack_slab *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

/** Unmap slab `s` and free its header. */
static void
slab_free(struct sl_stack_pool *p, struct sl_stack_slab *s)
{
	for (uint32_t i = 0; i < SL_STACK_SLAB; i++)
		VALGRIND_STACK_DEREGISTER(s->vg_id[i]);
	munmap(s->map, s->map_size);
	sl_free(s);
	p->n_slabs--;
}

/** Map a new slab, all its slots free. NULL with an error. */
static struct sl_stack_slab *
slab_new(struct sl_stack_pool *p)
{
	struct sl_stack_slab *s = sl_calloc(1, sizeof(*s));
	if (s == NULL) {
		sl_diag_set(SL_EOOM, "out of memory for a slab of stacks");
		return NULL;
	}
	size_t page = sl_stack_page_size();
	size_t span = slot_span(p);
	s->map_size = span * SL_STACK_SLAB;
	s->map = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->map == MAP_FAILED) {
		sl_diag_set_errno("cannot map %d task stacks of %zu bytes",
		                  SL_STACK_SLAB, p->size);
		sl_free(s);
		return NULL;
	}
	for (uint32_t i = 0; i < SL_STACK_SLAB; i++) {
		char *guard = (char *)s->map + (size_t)i * span;
		if (mprotect(guard, page, PROT_NONE) != 0) {
			sl_diag_set_errno(
			        "cannot protect a task stack's guard page");
			munmap(s->map, s->map_size);
			sl_free(s);
			return NULL;
		}
	}
	for (uint32_t i = 0; i < SL_STACK_SLAB; i++) {
		char *lo = (char *)s->map + (size_t)i * span + page;
		s->vg_id[i] = VALGRIND_STACK_REGISTER(lo, lo + p->size);
		/* The lowest slot is handed out first. */
		s->free[i] = SL_STACK_SLAB - 1 - i;
	}
	s->n_free = SL_STACK_SLAB;
	p->n_slabs++;
	return s;
}

void
sl_stack_pool_create(struct sl_stack_pool *p, size_t size, size_t keep)
{
	memset(p, 0, sizeof(*p));
	p->size = sl_stack_round(size);
	p->keep = keep;
}

void
sl_stack_pool_destroy(struct sl_stack_pool *p)
{
	assert(p->n_used == 0);
	while (p->empty != NULL) {
		struct sl_stack_slab *s = p->empty;
		slab_unlink(&p->empty, s);
		slab_free(p, s);
	}
	while (p->partial != NULL) {
		struct sl_stack_slab *s = p->partial;
		slab_unlink(&p->partial, s);
		slab_free(p, s);
	}
	p->n_empty = 0;
}

int
sl_stack_pool_get(struct sl_stack_pool *p, struct sl_stack *out)
{
	struct sl_stack_slab *s = p->partial;
	if (s == NULL && p->empty != NULL) {
		s = p->empty;
		slab_unlink(&p->empty, s);
		p->n_empty--;
		slab_link(&p->partial, s);
	}
	if (s == NULL) {
		if ((s = slab_new(p)) == NULL)
			return -1;
		slab_link(&p->partial, s);
	}
	assert(s->n_free > 0);
	uint32_t slot = s->free[--s->n_free];
	if (s->n_free == 0)
		slab_unlink(&p->partial, s);
	size_t page = sl_stack_page_size();
	out->map = (char *)s->map + (size_t)slot * slot_span(p);
	out->map_size = page + p->size;
	out->lo = (char *)out->map + page;
	out->size = p->size;
	out->vg_id = s->vg_id[slot];
	out->slab = s;
	out->slot = slot;
	p->n_used++;
	return 0;
}

void
sl_stack_pool_put(struct sl_stack_pool *p, struct sl_stack *st)
{
	struct sl_stack_slab *s = st->slab;
	assert(s != NULL && st->slot < SL_STACK_SLAB && p->n_used > 0);
	assert(s->n_free < SL_STACK_SLAB);
	p->n_used--;
	sl_stack_trim(st, SL_STACK_TRIM_KEEP);
	s->free[s->n_free++] = st->slot;
	st->map = NULL;
	st->slab = NULL;
	if (s->n_free == 1)
		slab_link(&p->partial, s);
	if (s->n_free < SL_STACK_SLAB)
		return;
	slab_unlink(&p->partial, s);
	if ((p->n_empty + 1) * SL_STACK_SLAB <= p->keep) {
		slab_link(&p->empty, s);
		p->n_empty++;
	} else {
		slab_free(p, s);
	}
}
