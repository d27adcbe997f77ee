/*
 * Task stacks.
 */
#include "rt/stack.h"

#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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

/* --- advice on many ranges in one call ---------------------------------- */

/* Linux 6.13 (guard regions) and 6.15 (a pidfd for the calling process);
 * older headers lack them. */
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
/** PIDFD_SELF_THREAD_GROUP: process_madvise() on the calling process. */
#define PIDFD_SELF_PROCESS (-10001)

/** Advice that may go through advise_ranges(), as bits of `unusable`. */
enum {
	ADV_GUARD = 1,    /**< MADV_GUARD_INSTALL */
	ADV_POPULATE = 2, /**< MADV_POPULATE_WRITE */
	ADV_DONTNEED = 4, /**< MADV_DONTNEED */
};

/** Advice the kernel refused once (then not tried again). */
static atomic_int unusable;

/**
 * Apply `advice` (bit `bit`) to `n` ranges of this process in one
 * process_madvise(). 0 if every byte was advised, else -1 and the caller
 * falls back to a call per range. Not tried under valgrind, which does not
 * know guard regions.
 */
static int
advise_ranges(const struct iovec *iov, size_t n, int advice, int bit)
{
#ifdef SYS_process_madvise
	if (n == 0)
		return 0;
	if (RUNNING_ON_VALGRIND ||
	    (atomic_load_explicit(&unusable, memory_order_relaxed) & bit))
		return -1;
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += iov[i].iov_len;
	long rc = syscall(SYS_process_madvise, PIDFD_SELF_PROCESS, iov, n,
	                  advice, 0);
	if (rc >= 0 && (size_t)rc == total)
		return 0;
	if (rc < 0 && errno != EAGAIN && errno != EINTR && errno != ENOMEM)
		atomic_fetch_or_explicit(&unusable, bit, memory_order_relaxed);
	return -1;
#else
	(void)iov, (void)n, (void)advice, (void)bit;
	return -1;
#endif
}

/* --- pools of slabs ------------------------------------------------------ */

/** One mapping of SL_STACK_SLAB stacks, each above its own guard page. */
struct sl_stack_slab {
	/** Start of the mapping. */
	void *map;
	/** Size of the mapping. */
	size_t map_size;
	/** Neighbours in the pool's `empty` list (while all slots are free). */
	struct sl_stack_slab *prev, *next;
	/** Neighbours in the pool's `dirty` list (while `dirty` is not 0). */
	struct sl_stack_slab *dprev, *dnext;
	/** The slab's number: its entry in the pool's `slabs`. */
	uint32_t index;
	/** Free slots (bit per slot). */
	uint32_t freemask;
	/** Whether the slab is in the pool's `empty` list. */
	bool in_empty;
	/** Free slots not trimmed since they were freed (bit per slot). */
	uint32_t dirty;
	/** valgrind's ids of the slots' stacks. */
	unsigned vg_id[SL_STACK_SLAB];
};

_Static_assert(SL_STACK_SLAB <= 32, "a slab's slot masks have 32 bits");

/** A slab's mask with every slot set. */
#define ALL_SLOTS                         \
	(SL_STACK_SLAB == 32 ? UINT32_MAX \
	                     : (UINT32_C(1) << (SL_STACK_SLAB % 32)) - 1)
_Static_assert(SL_STACK_IOV >= SL_STACK_SLAB, "a slab's ranges fit in iov");

/** Bytes from one slot's guard page to the next one's. */
static size_t
slot_span(const struct sl_stack_pool *p)
{
	return p->size + sl_stack_page_size();
}

/** Put `s` at the head of list `*head` (`*last`: its tail, or NULL). */
static void
slab_link(struct sl_stack_slab **head, struct sl_stack_slab **last,
          struct sl_stack_slab *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head != NULL)
		(*head)->prev = s;
	else if (last != NULL)
		*last = s;
	*head = s;
}

/** Take `s` out of list `*head` (`*last`: its tail, or NULL). */
static void
slab_unlink(struct sl_stack_slab **head, struct sl_stack_slab **last,
            struct sl_stack_slab *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else if (last != NULL)
		*last = s->prev;
	s->prev = s->next = NULL;
}

/** Mark free slot `slot` of `s` untrimmed. */
static void
dirty_add(struct sl_stack_pool *p, struct sl_stack_slab *s, uint32_t slot)
{
	if (s->dirty == 0) {
		s->dprev = NULL;
		s->dnext = p->dirty;
		if (p->dirty != NULL)
			p->dirty->dprev = s;
		p->dirty = s;
	}
	s->dirty |= UINT32_C(1) << slot;
	p->n_dirty++;
}

/** Forget the untrimmed slots in `mask` of `s` (reused, trimmed or gone). */
static void
dirty_clear(struct sl_stack_pool *p, struct sl_stack_slab *s, uint32_t mask)
{
	mask &= s->dirty;
	if (mask == 0)
		return;
	s->dirty &= ~mask;
	p->n_dirty -= (size_t)__builtin_popcount(mask);
	if (s->dirty != 0)
		return;
	if (s->dprev != NULL)
		s->dprev->dnext = s->dnext;
	else
		p->dirty = s->dnext;
	if (s->dnext != NULL)
		s->dnext->dprev = s->dprev;
	s->dprev = s->dnext = NULL;
}

/** Mark slab number `i` as having a free stack, or not. */
static inline void
avail_set(struct sl_stack_pool *p, uint32_t i, bool on)
{
	uint64_t bit = UINT64_C(1) << (i % 64);
	if (on)
		p->avail[i / 64] |= bit;
	else
		p->avail[i / 64] &= ~bit;
}

/** The lowest slab number with a free stack, or UINT32_MAX. */
static uint32_t
avail_first(const struct sl_stack_pool *p)
{
	for (size_t w = 0; w < p->slabs_cap / 64; w++)
		if (p->avail[w] != 0)
			return (uint32_t)(w * 64 +
			                  (size_t)__builtin_ctzll(p->avail[w]));
	return UINT32_MAX;
}

/** Unmap slab `s` and free its header. */
static void
slab_free(struct sl_stack_pool *p, struct sl_stack_slab *s)
{
	avail_set(p, s->index, false);
	p->slabs[s->index] = NULL;
	dirty_clear(p, s, UINT32_MAX);
	for (uint32_t i = 0; i < SL_STACK_SLAB; i++)
		VALGRIND_STACK_DEREGISTER(s->vg_id[i]);
	munmap(s->map, s->map_size);
	sl_free(s);
	p->n_slabs--;
}

/** MADV_DONTNEED on the first `n` ranges of the pool's `iov`. */
static void
trim_ranges(struct sl_stack_pool *p, size_t n)
{
	if (advise_ranges(p->iov, n, MADV_DONTNEED, ADV_DONTNEED) == 0)
		return;
	for (size_t i = 0; i < n; i++)
		madvise(p->iov[i].iov_base, p->iov[i].iov_len, MADV_DONTNEED);
}

/**
 * Give the kernel back the pages of every untrimmed free stack except
 * their top SL_STACK_TRIM_KEEP bytes, SL_STACK_IOV stacks a call.
 */
static void
trim_dirty(struct sl_stack_pool *p)
{
	size_t page = sl_stack_page_size();
	size_t keep = (SL_STACK_TRIM_KEEP + page - 1) & ~(page - 1);
	size_t n = 0;
	while (p->dirty != NULL) {
		struct sl_stack_slab *s = p->dirty;
		uint32_t dirty = s->dirty;
		dirty_clear(p, s, dirty);
		if (keep >= p->size)
			continue;
		if (n + (size_t)__builtin_popcount(dirty) > SL_STACK_IOV) {
			trim_ranges(p, n);
			n = 0;
		}
		for (; dirty != 0; dirty &= dirty - 1) {
			uint32_t slot = (uint32_t)__builtin_ctz(dirty);
			char *lo = (char *)s->map +
			           (size_t)slot * slot_span(p) + page;
			p->iov[n++] = (struct iovec){lo, p->size - keep};
		}
	}
	if (n > 0)
		trim_ranges(p, n);
}

/**
 * The lowest free slab number, growing the pool's tables if none is free.
 * UINT32_MAX with an error.
 */
static uint32_t
slab_number(struct sl_stack_pool *p)
{
	for (size_t i = 0; i < p->slabs_cap; i++)
		if (p->slabs[i] == NULL)
			return (uint32_t)i;
	size_t cap = p->slabs_cap == 0 ? 64 : p->slabs_cap * 2;
	struct sl_stack_slab **slabs =
	        cap <= UINT32_MAX / 2
	                ? sl_realloc(p->slabs, cap * sizeof(*slabs))
	                : NULL;
	if (slabs != NULL)
		p->slabs = slabs;
	uint64_t *avail = slabs != NULL ? sl_realloc(p->avail, cap / 8) : NULL;
	if (avail == NULL) {
		sl_diag_set(SL_EOOM,
		            "out of memory for a table of %zu slabs of stacks",
		            cap);
		return UINT32_MAX;
	}
	p->avail = avail;
	memset(slabs + p->slabs_cap, 0, (cap - p->slabs_cap) * sizeof(*slabs));
	memset(avail + p->slabs_cap / 64, 0, (cap - p->slabs_cap) / 8);
	uint32_t i = (uint32_t)p->slabs_cap;
	p->slabs_cap = cap;
	return i;
}

/** Map a new slab, all its slots free. NULL with an error. */
static struct sl_stack_slab *
slab_new(struct sl_stack_pool *p)
{
	uint32_t index = slab_number(p);
	if (index == UINT32_MAX)
		return NULL;
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
	/* Guard pages as guard regions, all in one call, when the kernel
	 * has them: no mprotect() per slot, and the mapping stays one VMA
	 * (cheaper faults, cheaper munmap). Else PROT_NONE pages. */
	struct iovec *iov = p->iov;
	for (uint32_t i = 0; i < SL_STACK_SLAB; i++)
		iov[i] =
		        (struct iovec){(char *)s->map + (size_t)i * span, page};
	if (advise_ranges(iov, SL_STACK_SLAB, MADV_GUARD_INSTALL, ADV_GUARD) !=
	    0) {
		for (uint32_t i = 0; i < SL_STACK_SLAB; i++) {
			if (mprotect(iov[i].iov_base, page, PROT_NONE) != 0) {
				sl_diag_set_errno("cannot protect a task "
				                  "stack's guard page");
				munmap(s->map, s->map_size);
				sl_free(s);
				return NULL;
			}
		}
	}
	/* Fault in each slot's top page now, in one call: a slab is mapped
	 * for a burst of tasks, and a page fault per first touch costs more
	 * (much more under some hypervisors). Best effort. */
	for (uint32_t i = 0; i < SL_STACK_SLAB; i++)
		iov[i] = (struct iovec){
		        (char *)s->map + (size_t)(i + 1) * span - page, page};
	advise_ranges(iov, SL_STACK_SLAB, MADV_POPULATE_WRITE, ADV_POPULATE);
	for (uint32_t i = 0; i < SL_STACK_SLAB; i++) {
		char *lo = (char *)s->map + (size_t)i * span + page;
		s->vg_id[i] = VALGRIND_STACK_REGISTER(lo, lo + p->size);
	}
	s->freemask = ALL_SLOTS;
	s->index = index;
	p->slabs[index] = s;
	avail_set(p, index, true);
	p->n_slabs++;
	return s;
}

void
sl_stack_pool_create(struct sl_stack_pool *p, size_t size, size_t cap)
{
	memset(p, 0, sizeof(*p));
	p->size = sl_stack_round(size);
	p->cap = cap;
}

/**
 * Whether the pool holds more than it may: more stacks in empty slabs
 * than the cap, or more slabs than the peak of stacks in use over the
 * last two intervals fills.
 */
static bool
over_budget(const struct sl_stack_pool *p)
{
	size_t peak = p->peak > p->peak_prev ? p->peak : p->peak_prev;
	size_t want = (peak + SL_STACK_SLAB - 1) / SL_STACK_SLAB;
	return p->n_empty * SL_STACK_SLAB > p->cap || p->n_slabs > want;
}

size_t
sl_stack_pool_decay(struct sl_stack_pool *p)
{
	p->peak_prev = p->peak;
	p->peak = p->n_used;
	while (p->empty_last != NULL && over_budget(p)) {
		struct sl_stack_slab *s = p->empty_last;
		slab_unlink(&p->empty, &p->empty_last, s);
		s->in_empty = false;
		p->n_empty--;
		slab_free(p, s);
	}
	trim_dirty(p);
	return p->n_empty;
}

void
sl_stack_pool_destroy(struct sl_stack_pool *p)
{
	assert(p->n_used == 0);
	for (size_t i = 0; i < p->slabs_cap; i++)
		if (p->slabs[i] != NULL)
			slab_free(p, p->slabs[i]);
	p->empty = p->empty_last = NULL;
	p->n_empty = 0;
	sl_free(p->slabs);
	sl_free(p->avail);
	p->slabs = NULL;
	p->avail = NULL;
	p->slabs_cap = 0;
	assert(p->n_dirty == 0 && p->dirty == NULL && p->n_slabs == 0);
}

int
sl_stack_pool_get(struct sl_stack_pool *p, struct sl_stack *out)
{
	uint32_t i = avail_first(p);
	struct sl_stack_slab *s = i != UINT32_MAX ? p->slabs[i] : NULL;
	if (s == NULL && (s = slab_new(p)) == NULL)
		return -1;
	if (s->in_empty) {
		slab_unlink(&p->empty, &p->empty_last, s);
		s->in_empty = false;
		p->n_empty--;
	}
	assert(s->freemask != 0);
	uint32_t slot = (uint32_t)__builtin_ctz(s->freemask);
	s->freemask &= ~(UINT32_C(1) << slot);
	if (s->freemask == 0)
		avail_set(p, s->index, false);
	/* Reused before its trim: still warm, and no longer to be trimmed. */
	dirty_clear(p, s, UINT32_C(1) << slot);
	size_t page = sl_stack_page_size();
	out->map = (char *)s->map + (size_t)slot * slot_span(p);
	out->map_size = page + p->size;
	out->lo = (char *)out->map + page;
	out->size = p->size;
	out->vg_id = s->vg_id[slot];
	out->slab = s;
	out->slot = slot;
	if (++p->n_used > p->peak)
		p->peak = p->n_used;
	return 0;
}

void
sl_stack_pool_put(struct sl_stack_pool *p, struct sl_stack *st)
{
	struct sl_stack_slab *s = st->slab;
	uint32_t bit = UINT32_C(1) << st->slot;
	assert(s != NULL && st->slot < SL_STACK_SLAB && p->n_used > 0);
	assert((s->freemask & bit) == 0);
	p->n_used--;
	if (s->freemask == 0)
		avail_set(p, s->index, true);
	s->freemask |= bit;
	dirty_add(p, s, st->slot);
	st->map = NULL;
	st->slab = NULL;
	if (s->freemask == ALL_SLOTS) {
		/* Empty: kept warm while the recent peak needs it and the
		 * cap allows, else unmapped. */
		slab_link(&p->empty, &p->empty_last, s);
		s->in_empty = true;
		p->n_empty++;
		if (over_budget(p)) {
			slab_unlink(&p->empty, &p->empty_last, s);
			s->in_empty = false;
			p->n_empty--;
			slab_free(p, s);
		}
	}
	if (p->n_dirty >= SL_STACK_TRIM_BATCH)
		trim_dirty(p);
}
