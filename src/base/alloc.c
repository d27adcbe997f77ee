/*
 * Allocation wrappers with a per-thread fault-injection countdown.
 */
#include "sluice/alloc.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <valgrind/valgrind.h>

#include "base/smallfile.h"

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

/* --- blocks from huge-page regions (sl_pages_alloc()) ------------------- */

/** Bytes of a region (one huge page on x86-64 and aarch64). */
#define REGION ((size_t)2 << 20)

/** Block sizes served from regions; requests of other sizes use malloc. */
#define CLASSES 16

/** Rests of regions kept when threads map new ones at once. */
#define SPARES 4

/** A freed block, kept for the next request of its size. */
struct block {
	/** The next freed block of the size. */
	struct block *next;
};

/** The regions and the freed blocks of every size. */
static struct {
	/** Guards everything below. */
	pthread_mutex_t lock;
	/** Block sizes served, in the order first asked for. */
	size_t size[CLASSES];
	/** Freed blocks of each size. */
	struct block *free[CLASSES];
	/** Sizes in use. */
	unsigned n;
	/** Unused part of the newest region. */
	char *cur, *end;
	/**
	 * Unused parts of regions left over when threads mapped new ones at
	 * the same time (pages_region()), served once `cur` runs out; NULL
	 * where none.
	 */
	char *spare[SPARES], *spare_end[SPARES];
	/** Whether a thread times a new region's huge page (huge_probe()). */
	bool probing;
	/** Bytes of regions mapped. */
	size_t mapped;
} pages = {.lock = PTHREAD_MUTEX_INITIALIZER};

/**
 * Whether blocks come from malloc() whatever their size: in sanitizer
 * builds and under valgrind, which check only what malloc() hands out.
 */
static bool
pages_plain(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return true;
#endif
#endif
	return RUNNING_ON_VALGRIND;
}

/**
 * The class of blocks of `size` bytes (made if new and there is room),
 * or -1 for malloc(). Under the lock.
 */
static int
pages_class(size_t size, bool make)
{
	if (size == 0 || size % 4096 != 0 || size > SL_PAGES_MAX ||
	    pages_plain())
		return -1;
	for (unsigned i = 0; i < pages.n; i++)
		if (pages.size[i] == size)
			return (int)i;
	if (!make || pages.n == CLASSES)
		return -1;
	pages.size[pages.n] = size;
	pages.free[pages.n] = NULL;
	return (int)pages.n++;
}

/* --- huge pages, while they are the cheaper ones ----------------------- */

#ifdef MADV_POPULATE_WRITE
/** madvise() advice that faults a range in writable (Linux 5.14). */
#define SL_MADV_POPULATE_WRITE MADV_POPULATE_WRITE
#else
/** madvise() advice that faults a range in writable (Linux 5.14). */
#define SL_MADV_POPULATE_WRITE 23
#endif

/**
 * What a fresh huge page costs, as a fault in a region shows it, below
 * which it is taken for cheap without a comparison (ms per MiB; a huge
 * page the kernel has at hand costs 0.03-0.1).
 */
#define HUGE_CHEAP_MS 0.25

/** Bytes of small pages the comparison faults in (huge_probe()). */
#define SMALL_PROBE ((size_t)256 << 10)

/**
 * Whether new mappings ask for huge pages, and what the probes found
 * (sl_pages_huge()). Guarded by `pages.lock` where written.
 */
static struct {
	/** 1: MADV_HUGEPAGE; 0: MADV_NOHUGEPAGE (small pages were cheaper). */
	atomic_int on;
	/** Forced by SLUICE_HUGE_PAGES (0 or 1), or -1. */
	int forced;
	/** ms per MiB of small pages, measured once; < 0 before. */
	double small_ms;
} huge = {.on = 1, .forced = -1, .small_ms = -1};

/** Milliseconds of CLOCK_MONOTONIC. */
static double
mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/** Where Linux lists the virtio devices of a virtual machine. */
#define VIRTIO_DEVICES "/sys/bus/virtio/devices"

/** The virtio device id of a memory balloon. */
#define VIRTIO_ID_BALLOON 5

/** The balloon's feature bit: free page reporting. */
#define VIRTIO_BALLOON_F_REPORTING 5

bool
sl_pages_balloon_reports(const char *device, const char *features)
{
	char *end;
	long id = strtol(device, &end, 0);
	return end != device && id == VIRTIO_ID_BALLOON &&
	       strlen(features) > VIRTIO_BALLOON_F_REPORTING &&
	       features[VIRTIO_BALLOON_F_REPORTING] == '1';
}

/**
 * File `name` of virtio device directory `dev`, its first `size` - 1
 * bytes NUL-terminated in `buf`; false if it cannot be read or is empty.
 */
static bool
virtio_file(const char *dev, const char *name, char *buf, size_t size)
{
	char path[320];
	return (size_t)snprintf(path, sizeof(path), VIRTIO_DEVICES "/%s/%s",
	                        dev, name) < sizeof(path) &&
	       sl_small_file_read(path, buf, size) > 0;
}

/**
 * Whether the host takes back the memory this virtual machine frees: a
 * virtio balloon that reports free pages (sl_pages_balloon_reports()).
 */
static bool
host_takes_free_pages(void)
{
	DIR *d = opendir(VIRTIO_DEVICES);
	if (d == NULL)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d)) != NULL) {
		char dev[32], feat[160];
		found = de->d_name[0] != '.' &&
		        virtio_file(de->d_name, "device", dev, sizeof(dev)) &&
		        virtio_file(de->d_name, "features", feat,
		                    sizeof(feat)) &&
		        sl_pages_balloon_reports(dev, feat);
	}
	closedir(d);
	return found;
}

/** SLUICE_HUGE_PAGES: 0 ("0": never), 1 ("1": always), else -1. */
static int
huge_env_choice(void)
{
	const char *e = getenv("SLUICE_HUGE_PAGES");
	return e != NULL && (e[0] == '0' || e[0] == '1') && e[1] == '\0'
	               ? e[0] - '0'
	               : -1;
}

/**
 * Start with small pages where the host takes free pages back, unless
 * SLUICE_HUGE_PAGES fixes the choice.
 */
static void
huge_host_check(void)
{
	if (huge_env_choice() >= 0)
		return;
	if (host_takes_free_pages())
		atomic_store(&huge.on, 0);
}

/** Once per process: huge_host_check(). */
static pthread_once_t huge_host_once = PTHREAD_ONCE_INIT;

/**
 * SLUICE_HUGE_PAGES ("0": never, "1": always), read at each new region
 * (a getenv() beside an mmap()); without it, sl_pages_huge() checks the
 * host's way with free memory once. Under the lock.
 */
static void
huge_env(void)
{
	huge.forced = huge_env_choice();
	if (huge.forced >= 0)
		atomic_store(&huge.on, huge.forced);
}

/**
 * ms per MiB of faulting in fresh small pages: SMALL_PROBE bytes of a
 * mapping of its own with MADV_NOHUGEPAGE, faulted in and given back;
 * < 0 when it could not be measured.
 */
static double
small_pages_ms(void)
{
	char *m = mmap(NULL, SMALL_PROBE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	(void)madvise(m, SMALL_PROBE, MADV_NOHUGEPAGE);
	double t0 = mono_ms();
	int rc = madvise(m, SMALL_PROBE, SL_MADV_POPULATE_WRITE);
	double ms = mono_ms() - t0;
	munmap(m, SMALL_PROBE);
	return rc == 0 ? ms * (double)((size_t)1 << 20) / SMALL_PROBE : -1;
}

bool
sl_pages_prefer_huge(double huge_ms, double small_ms)
{
	/* A huge page also saves TLB misses for as long as it is used:
	 * worth a quarter more to fault in than the same bytes of small
	 * pages. */
	return small_ms < 0 || huge_ms <= HUGE_CHEAP_MS ||
	       huge_ms <= small_ms * 1.25;
}

/**
 * Fault in region `a` (REGION bytes, just mapped with MADV_HUGEPAGE), as
 * its first use would, timing it: when a fresh huge page costs more than
 * as many small pages (the host gives back memory that has been free a
 * while, and a huge page is then made from pages it must supply again),
 * later mappings use small pages. `forced`: SLUICE_HUGE_PAGES's choice, or
 * -1. Outside the lock, by one thread at a time (`pages.probing`): a
 * fresh huge page can take milliseconds, and the other threads'
 * allocations must not wait for it.
 */
static void
huge_probe(char *a, int forced)
{
	double t0 = mono_ms();
	if (madvise(a, REGION, SL_MADV_POPULATE_WRITE) != 0)
		return;
	double ms = (mono_ms() - t0) * (double)((size_t)1 << 20) / REGION;
	if (ms <= HUGE_CHEAP_MS || forced >= 0)
		return;
	if (huge.small_ms < 0)
		huge.small_ms = small_pages_ms();
	if (!sl_pages_prefer_huge(ms, huge.small_ms))
		atomic_store(&huge.on, 0);
}

bool
sl_pages_huge(void)
{
	pthread_once(&huge_host_once, huge_host_check);
	return atomic_load(&huge.on) != 0;
}

/**
 * A mapping of `span` bytes (a multiple of REGION) aligned to REGION, with
 * protection `prot` and the extra mmap() `flags`, marked MADV_HUGEPAGE (a
 * hint: without transparent huge pages, 4 KiB pages) if `big_pages`,
 * else MADV_NOHUGEPAGE. NULL on failure.
 */
static void *
aligned_map(size_t span, int prot, int flags, bool big_pages)
{
	char *m = mmap(NULL, span + REGION, prot,
	               MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	char *a = (char *)(((uintptr_t)m + REGION - 1) &
	                   ~(uintptr_t)(REGION - 1));
	if (a > m)
		munmap(m, (size_t)(a - m));
	if (m + span + REGION > a + span)
		munmap(a + span, (size_t)(m + span + REGION - (a + span)));
	(void)madvise(a, span, big_pages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return a;
}

/** Bytes left in spare `i` (0 where there is none). */
static size_t
spare_left(int i)
{
	return pages.spare[i] != NULL
	               ? (size_t)(pages.spare_end[i] - pages.spare[i])
	               : 0;
}

/**
 * Keep the `n` bytes at `p`, the rest of a region, as a spare, in place of
 * the spare with the fewest bytes left (a free one has none) if that is
 * fewer than `n`; else leave them unused. Under the lock.
 */
static void
pages_spare(char *p, size_t n)
{
	int at = 0;
	for (int i = 1; i < SPARES; i++)
		if (spare_left(i) < spare_left(at))
			at = i;
	if (spare_left(at) >= n)
		return;
	pages.spare[at] = p;
	pages.spare_end[at] = p + n;
}

/**
 * Map a new region, aligned to its size, and make it the one blocks are
 * cut from. Called under the lock, which it lets go while it maps (and
 * times the huge page, huge_probe()): a thread that runs out meanwhile
 * maps a region of its own, of small pages, and the rest of the region
 * that was current is kept as a spare (pages_spare()). 0 or -1.
 */
static int
pages_region(void)
{
	huge_env();
	bool probe = sl_pages_huge() && !pages.probing;
	int forced = huge.forced;
	/* While another thread times a huge page, small pages: they never
	 * cost what a fresh huge page can. */
	bool huge_ok = probe || (sl_pages_huge() && forced == 1);
	pages.probing = pages.probing || probe;
	pthread_mutex_unlock(&pages.lock);
	char *a = aligned_map(REGION, PROT_READ | PROT_WRITE, 0, huge_ok);
	if (a != NULL && probe)
		huge_probe(a, forced);
	pthread_mutex_lock(&pages.lock);
	if (probe)
		pages.probing = false;
	if (a == NULL)
		return -1;
	pages.mapped += REGION;
	if (pages.end > pages.cur)
		pages_spare(pages.cur, (size_t)(pages.end - pages.cur));
	pages.cur = a;
	pages.end = a + REGION;
	return 0;
}

/**
 * Whether the current region, or else a spare, has `size` bytes left (the
 * spare then becomes the current one, and the current's rest is left
 * unused, as when a region is mapped). Under the lock.
 */
static bool
pages_room(size_t size)
{
	if ((size_t)(pages.end - pages.cur) >= size)
		return true;
	for (int i = 0; i < SPARES; i++) {
		if (spare_left(i) < size)
			continue;
		pages.cur = pages.spare[i];
		pages.end = pages.spare_end[i];
		pages.spare[i] = pages.spare_end[i] = NULL;
		return true;
	}
	return false;
}

/**
 * sl_pages_alloc() without its fault injection; *fresh: the block was
 * never handed out before (a region's untouched bytes: zero).
 */
static void *
pages_take(size_t size, bool *fresh)
{
	pthread_mutex_lock(&pages.lock);
	int c = pages_class(size, true);
	void *p = NULL;
	*fresh = false;
	if (c >= 0 && pages.free[c] != NULL) {
		p = pages.free[c];
		pages.free[c] = pages.free[c]->next;
	} else if (c >= 0 && (pages_room(size) || pages_region() == 0)) {
		p = pages.cur;
		pages.cur += size;
		*fresh = true;
	}
	pthread_mutex_unlock(&pages.lock);
	return c >= 0 ? p : malloc(size);
}

void *
sl_pages_alloc(size_t size)
{
	bool fresh;
	return inject_fault() ? NULL : pages_take(size, &fresh);
}

void
sl_pages_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&pages.lock);
	int c = pages_class(size, false);
	if (c >= 0) {
		struct block *b = p;
		b->next = pages.free[c];
		pages.free[c] = b;
	}
	pthread_mutex_unlock(&pages.lock);
	if (c < 0)
		free(p);
}

bool
sl_alloc_plain(void)
{
	return pages_plain();
}

size_t
sl_pages_mapped(void)
{
	pthread_mutex_lock(&pages.lock);
	size_t n = pages.mapped;
	pthread_mutex_unlock(&pages.lock);
	return n;
}

/* --- large arrays in huge-page mappings (sl_big_realloc()) -------------- */

/** Bytes of the mapping of a block of `size` bytes (whole regions). */
static size_t
big_span(size_t size)
{
	return (size + REGION - 1) & ~(REGION - 1);
}

/** Whether a block of `size` bytes is a mapping of its own. */
static bool
big_mapped(size_t size)
{
	return size >= SL_BIG_MIN && !pages_plain();
}

/** A mapping of `span` bytes aligned to REGION, or NULL. */
static void *
big_map(size_t span)
{
	return aligned_map(span, PROT_READ | PROT_WRITE, 0, sl_pages_huge());
}

void *
sl_huge_reserve(size_t size)
{
	if (size == 0 || size > SIZE_MAX - 2 * REGION)
		return NULL;
	return aligned_map(big_span(size), PROT_NONE, MAP_NORESERVE,
	                   sl_pages_huge());
}

int
sl_huge_commit(void *p, size_t n)
{
	if (mprotect(p, n, PROT_READ | PROT_WRITE) != 0)
		return -1;
	/* Reserved before the regions' probes may have found huge pages
	 * dear: committed memory follows the choice as it is now. */
	if (!sl_pages_huge())
		(void)madvise(p, n, MADV_NOHUGEPAGE);
	return 0;
}

void
sl_huge_release(void *p, size_t size)
{
	if (p != NULL)
		munmap(p, big_span(size));
}

/**
 * The block of the page regions (sl_pages_alloc()) that holds an array of
 * `size` bytes below SL_BIG_MIN: the next power of two from
 * SL_BIG_PAGED_MIN; 0 for malloc() (smaller sizes, and every size in
 * sanitizer builds and under valgrind).
 */
static size_t
big_block(size_t size)
{
	if (size < SL_BIG_PAGED_MIN || size >= SL_BIG_MIN || pages_plain())
		return 0;
	size_t b = SL_BIG_PAGED_MIN;
	while (b < size)
		b *= 2;
	return b;
}

void *
sl_big_realloc(void *p, size_t old, size_t size)
{
	size_t ob = big_block(old), nb = big_block(size);
	if (!big_mapped(size) && !big_mapped(old) && nb == 0 && ob == 0)
		return sl_realloc(p, size);
	if (inject_fault())
		return NULL;
	if (p != NULL && big_mapped(old) && big_mapped(size) &&
	    big_span(size) == big_span(old))
		return p;
	if (p != NULL && nb != 0 && nb == ob)
		return p;
	void *q = big_mapped(size) ? big_map(big_span(size))
	          : nb != 0        ? sl_pages_alloc(nb)
	                           : malloc(size);
	if (q == NULL)
		return NULL;
	if (p != NULL)
		memcpy(q, p, old < size ? old : size);
	sl_big_free(p, old);
	return q;
}

void *
sl_big_zalloc(size_t size)
{
	if (size == 0)
		return NULL;
	size_t nb = big_block(size);
	if (!big_mapped(size) && nb == 0)
		return sl_calloc(1, size);
	if (inject_fault())
		return NULL;
	bool fresh = true;
	char *q = nb != 0 ? pages_take(nb, &fresh) : big_map(big_span(size));
	if (q == NULL)
		return NULL;
	/* A block of the regions handed out before is cleared. */
	if (!fresh) {
		memset(q, 0, size);
		return q;
	}
	/* Fresh memory (a mapping, or a region's bytes never handed out)
	 * reads as zeroes. Its pages are made present and writable now, as
	 * a write would: a page read first maps the shared zero page, and
	 * the first write to it faults again and flushes the TLB of every
	 * core the run is on. Kernels before 5.14 lack MADV_POPULATE_WRITE:
	 * a write to every page does it. */
	size_t touched = (size + 4095) & ~(size_t)4095;
	if (madvise(q, touched, SL_MADV_POPULATE_WRITE) != 0)
		for (size_t i = 0; i < touched; i += 4096)
			q[i] = 0;
	return q;
}

void
sl_big_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	size_t b = big_block(size);
	if (big_mapped(size))
		munmap(p, big_span(size));
	else if (b != 0)
		sl_pages_free(p, b);
	else
		free(p);
}
