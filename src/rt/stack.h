/*
 * Task stacks (internal): mmap'd, with a PROT_NONE guard page below, and
 * registered with valgrind so memcheck follows switches.
 *
 * Sizes are 256 KiB by default (per loop and per task configurable,
 * rounded to pages). A loop's default-size stacks come from a pool of
 * slabs: one mapping of SL_STACK_SLAB stacks, each with its own guard page,
 * so that a burst of tasks costs one mmap per slab, and a freed stack is
 * kept in its slab for the next task instead of being unmapped. A get
 * takes the first free stack in slab order (slabs by number, a new slab
 * taking the lowest free number; stacks by address within a slab), so
 * that the stacks in use stay packed in the first slabs and tasks spawned
 * one after the other get neighbouring stacks, which a burst then touches
 * in address order (on the 2-core VM of docs/performance.md, a touch of a
 * cold page costs less next to the page touched before than far from
 * it). Freed stacks give back all but their top 16 KiB in batches of 256
 * stacks, in one call (see SL_STACK_TRIM_BATCH), and at the end of each decay
 * interval (below). Where the kernel has them (Linux 6.15), a slab's
 * guard pages are guard regions installed with one process_madvise(),
 * and its top pages are faulted in by one more, instead of an mprotect()
 * and a page fault per stack.
 *
 * The pool is a cache sized to the live tasks: a slab whose stacks are all
 * free stays mapped, its stacks' top pages still resident (and its page
 * tables), as long as the slabs mapped are no more than the peak of stacks
 * in use over the current and the previous interval needs, rounded up to
 * whole slabs, and the empty slabs hold at most `cap` stacks. That is the
 * hard cap: at most `cap` x SL_STACK_TRIM_KEEP bytes resident, plus page
 * tables, plus at most SL_STACK_TRIM_BATCH whole stacks not yet trimmed.
 * The owner ends an interval with sl_stack_pool_decay() (the loop does it
 * from a timer while the pool has empty slabs or untrimmed stacks), which
 * unmaps the empty slabs the last two intervals did not need, the least
 * recently emptied first, and trims the rest. So a burst of 10,000 tasks
 * leaves its stacks, warm, for the next burst, and gives them back two or
 * three intervals after the last one.
 *
 * The build adds -fstack-clash-protection so a large frame probes the
 * guard page instead of jumping over it; sl_stack_is_overflow() lets
 * task.c's SIGSEGV handler tell an overflow (an address in or just below
 * the guard page) from other faults, which go to the previous handler (the
 * default, or ASan's).
 */
#ifndef SLUICE_RT_STACK_H
#define SLUICE_RT_STACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/** Stacks in one slab of a pool. */
#define SL_STACK_SLAB 32
/** Bytes at the top of a pooled free stack that stay resident. */
#define SL_STACK_TRIM_KEEP (16 * 1024)
/**
 * Free stacks a pool collects, untrimmed, before it trims them together
 * (sl_stack_pool_decay() trims them too). A stack reused before then is
 * not trimmed at all.
 */
#define SL_STACK_TRIM_BATCH 256
/** Ranges a pool passes to the kernel in one call. */
#define SL_STACK_IOV 256

struct sl_stack_slab;

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
	/** The slab the stack belongs to, or NULL for a mapping of its own. */
	struct sl_stack_slab *slab;
	/** Its place in the slab. */
	uint32_t slot;
};

/** Stacks of one size carved from slabs (see the file comment). */
struct sl_stack_pool {
	/** Usable bytes of each stack (whole pages). */
	size_t size;
	/** Most free stacks empty slabs may hold (the cache's hard cap). */
	size_t cap;
	/** The slabs by number (NULL: a free number). */
	struct sl_stack_slab **slabs;
	/** Entries of `slabs` (a multiple of 64). */
	size_t slabs_cap;
	/** Bit per slab number: the slab has a free stack. */
	uint64_t *avail;
	/** Slabs with no stack in use, most recently emptied first. */
	struct sl_stack_slab *empty;
	/** The last slab of `empty` (the least recently emptied). */
	struct sl_stack_slab *empty_last;
	/** Slabs in `empty`. */
	size_t n_empty;
	/** Slabs mapped. */
	size_t n_slabs;
	/** Stacks handed out and not returned. */
	size_t n_used;
	/** Most stacks in use at once in the current interval. */
	size_t peak;
	/** The same for the interval before. */
	size_t peak_prev;
	/** Slabs with free stacks not trimmed since they were freed. */
	struct sl_stack_slab *dirty;
	/** Those stacks (at most SL_STACK_TRIM_BATCH). */
	size_t n_dirty;
	/**
	 * Scratch ranges for the kernel: always the same memory, since on
	 * some hypervisors the kernel's first read of a user page costs a
	 * fault of its own.
	 */
	struct iovec iov[SL_STACK_IOV];
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

/**
 * Initialise pool `p` of stacks of `size` bytes (rounded), whose empty
 * slabs hold at most `cap` stacks.
 */
void sl_stack_pool_create(struct sl_stack_pool *p, size_t size, size_t cap);

/** Unmap every slab of `p`; no stack of it may be in use. */
void sl_stack_pool_destroy(struct sl_stack_pool *p);

/** A stack from the pool in `*s`. 0, or -1 with an error. */
int sl_stack_pool_get(struct sl_stack_pool *p, struct sl_stack *s);

/** Give stack `s` (from sl_stack_pool_get()) back to the pool. */
void sl_stack_pool_put(struct sl_stack_pool *p, struct sl_stack *s);

/**
 * End an interval: the next one starts with the stacks in use as its peak,
 * empty slabs beyond what the peaks of the two intervals need are
 * unmapped, and the free stacks left are trimmed. Returns the empty slabs
 * left: call again an interval later while it is not 0 (or after stacks
 * were freed since), so that an idle pool gives its memory back.
 */
size_t sl_stack_pool_decay(struct sl_stack_pool *p);

/** Whether `addr` is in the guard page or just below it. */
int sl_stack_is_overflow(const struct sl_stack *s, const void *addr);

#endif /* SLUICE_RT_STACK_H */
