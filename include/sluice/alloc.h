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

#include <stdbool.h>
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

/** Largest block sl_pages_alloc() serves from its regions (1 MiB). */
#define SL_PAGES_MAX ((size_t)1 << 20)

/**
 * A block of `size` bytes for memory used and reused in bulk (arena
 * chunks), any thread: a block of a multiple of 4 KiB up to SL_PAGES_MAX
 * is carved from a 2 MiB region the kernel may back with one huge page
 * (MADV_HUGEPAGE), so that first use costs a page fault per region, not
 * per 4 KiB page (on a virtual machine a fault costs 10 to 20 us). Freed
 * blocks are kept by size for the next request, and regions stay mapped
 * until the process ends: what is mapped is the peak of what was in use.
 * Other sizes, and every size in sanitizer builds and under valgrind (so
 * that they see overruns and leaks), come from malloc(). Fault injection
 * applies as to sl_malloc(). NULL on failure (no diag).
 */
void *sl_pages_alloc(size_t size);

/** Return a block of `size` bytes from sl_pages_alloc() (NULL: no-op). */
void sl_pages_free(void *p, size_t size);

/** Bytes of regions sl_pages_alloc() has mapped so far. */
size_t sl_pages_mapped(void);

/**
 * Whether new regions and mappings ask for huge pages (MADV_HUGEPAGE).
 * They do until one proves dearer than small pages: each new region is
 * faulted in at once, timed, and when its huge page cost more than
 * sl_pages_prefer_huge() allows against a one-off measure of small
 * pages, later mappings ask for small ones (MADV_NOHUGEPAGE). On a
 * virtual machine whose host takes back memory that stays free a while, a
 * fresh huge page can cost 20 to 50 times the same bytes of small pages;
 * where the host says it does (sl_pages_balloon_reports()), small pages
 * are the choice from the start.
 * The thread that maps a region does this without holding the allocator's
 * lock (one thread at a time times one); another thread that runs out
 * meanwhile maps a region of its own, of small pages, rather than wait.
 * SLUICE_HUGE_PAGES=1 or 0 in the environment fixes the choice.
 */
bool sl_pages_huge(void);

/**
 * The choice of sl_pages_huge(): whether a huge page that cost `huge_ms`
 * milliseconds per MiB to fault in is worth it against small pages at
 * `small_ms` (negative: unknown).
 */
bool sl_pages_prefer_huge(double huge_ms, double small_ms);

/**
 * Whether the virtio device of id `device` (as Linux shows it in
 * /sys/bus/virtio/devices/NAME/device: "0x0005") with feature bits
 * `features` (that directory's "features": a '0' or '1' per bit, bit 0
 * first) is a memory balloon that reports free pages to the host
 * (VIRTIO_BALLOON_F_REPORTING). On a virtual machine with one,
 * sl_pages_huge() starts false: the host takes back memory that is
 * freed, so a fresh huge page is mostly one the host must supply again
 * (on the machine this was measured on, 2.3 to 6 ms per MiB against 0.42
 * for small pages, whose faults the guest serves from memory it holds).
 */
bool sl_pages_balloon_reports(const char *device, const char *features);

/**
 * Address space of `size` bytes (rounded up to 2 MiB), aligned to 2 MiB and
 * marked MADV_HUGEPAGE (while sl_pages_huge()), that holds and commits no
 * memory (PROT_NONE, so not even against a strict overcommit limit) until parts
 * of it are made usable with sl_huge_commit(): for an allocator of its own that
 * carves it as it grows (check sl_alloc_plain() first). NULL on failure (no
 * diag).
 */
void *sl_huge_reserve(size_t size);

/**
 * Make the `n` bytes at `p` (whole pages of a reservation) readable and
 * writable, and marked MADV_NOHUGEPAGE if sl_pages_huge() has turned
 * false since the reservation. 0, or -1 with errno set (ENOMEM: the system will
 * not commit them).
 */
int sl_huge_commit(void *p, size_t n);

/** Give back reservation `p` of `size` bytes (NULL: no-op). */
void sl_huge_release(void *p, size_t size);

/**
 * Whether sl_pages_alloc() and sl_big_realloc() hand out malloc() blocks
 * (sanitizer builds, and under valgrind): an allocator of its own on
 * huge pages should then do the same, so that these tools see its blocks.
 */
bool sl_alloc_plain(void);

/**
 * Smallest size sl_big_realloc() maps on its own (just over 1 MiB):
 * smaller arrays are blocks of the shared page regions, since a mapping
 * of its own is a whole 2 MiB huge page once touched, whatever the size.
 */
#define SL_BIG_MIN (SL_PAGES_MAX + 1)

/**
 * Smallest size sl_big_realloc() takes from the page regions
 * (sl_pages_alloc()) below SL_BIG_MIN (16 KiB).
 */
#define SL_BIG_PAGED_MIN ((size_t)16 << 10)

/**
 * realloc() for a large array that grows and stays (a write batch's
 * writes and identity index), any thread: `p` is NULL or what
 * sl_big_realloc() returned with `old` bytes. From SL_BIG_MIN bytes the
 * array is its own mapping of whole 2 MiB regions with MADV_HUGEPAGE, so
 * that its first use costs a page fault per 2 MiB rather than per 4 KiB
 * (on a virtual machine with shadow page tables a fault costs 10 to
 * 40 us); a growth within its regions keeps it in place. From
 * SL_BIG_PAGED_MIN it is a block of the page regions (a power of two in
 * size, up to SL_PAGES_MAX), for the same reason, and several such arrays
 * share a huge page. Smaller sizes, and every size in sanitizer
 * builds and under valgrind, use realloc().
 * Fault injection applies; NULL on failure (`p` stays valid; no diag).
 */
void *sl_big_realloc(void *p, size_t old, size_t size);

/**
 * A zeroed array of `size` bytes from where sl_big_realloc(NULL, 0, size)
 * would take it (so sl_big_realloc() and sl_big_free() take it too), any
 * thread: a mapping of its own is fresh, hence zero, and its pages are
 * faulted in writable by the kernel (MADV_POPULATE_WRITE) rather than
 * cleared; a block of the page regions, which may be reused, is cleared;
 * smaller sizes, and every size in sanitizer builds and under valgrind,
 * use calloc(). Fault injection applies; NULL on failure (no diag) or
 * when `size` is 0.
 */
void *sl_big_zalloc(size_t size);

/** Free `p` from sl_big_realloc(), whose last size was `size`. */
void sl_big_free(void *p, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_ALLOC_H */
