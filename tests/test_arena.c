/*
 * Arena: alignment, growth, hard cap, reset, fault injection.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "unit.h"

/** Allocation, alignment, growth, the cap, reset and OOM of arenas. */
TAP_CASE(arena)
{
	struct sl_arena a;
	sl_arena_create(&a, 1024, 64 * 1024);
	char *p1 = sl_arena_alloc(&a, 3);
	char *p2 = sl_arena_alloc(&a, 5);
	ok(p1 != NULL && p2 != NULL, "small allocations succeed");
	ok(((uintptr_t)p1 & 15) == 0 && ((uintptr_t)p2 & 15) == 0,
	   "allocations are 16-byte aligned");
	ok(p2 >= p1 + 3, "allocations do not overlap");
	char *p3 = sl_arena_alloc_aligned(&a, 10, 256);
	ok(p3 != NULL && ((uintptr_t)p3 & 255) == 0, "explicit alignment");
	is_int(sl_arena_used(&a), 18, "used counts requested bytes");

	/* Fill memory and check it survives growth into new chunks. */
	unsigned char *blocks[100];
	for (int i = 0; i < 100; i++) {
		blocks[i] = sl_arena_alloc(&a, 100);
		if (blocks[i] != NULL)
			memset(blocks[i], i, 100);
	}
	int intact = 1;
	for (int i = 0; i < 100; i++)
		for (int j = 0; j < 100; j++)
			intact &= blocks[i] != NULL && blocks[i][j] == i;
	ok(intact, "data survives growth across chunks");

	char *big = sl_arena_alloc(&a, 4000);
	ok(big != NULL, "an allocation larger than a chunk gets its own");

	void *over = sl_arena_alloc(&a, 100 * 1024);
	ok(over == NULL, "going past the cap fails");
	is_err(SL_ELIMIT, "with ELIMIT");
	ok(strstr(unit_errmsg(), "65536") != NULL, "naming the cap: %s",
	   unit_errmsg());

	size_t before = a.reserved;
	sl_arena_reset(&a);
	is_int(sl_arena_used(&a), 0, "reset forgets allocations");
	ok(a.reserved < before && a.reserved > 0,
	   "reset keeps one chunk for reuse (%zu of %zu bytes)", a.reserved,
	   before);
	long faults = sl_alloc_faults();
	sl_alloc_fail_after(0);
	char *reuse = sl_arena_alloc(&a, 10);
	sl_alloc_fail_after(-1);
	ok(reuse != NULL && sl_alloc_faults() == faults,
	   "an allocation after reset reuses the kept chunk (no malloc)");

	char *s = sl_arena_strndup(&a, "hello world", 5);
	is_str(s, "hello", "strndup copies n bytes and terminates");

	/* Injected OOM when a new chunk is needed. */
	sl_arena_reset(&a);
	sl_alloc_fail_after(0);
	void *q = sl_arena_alloc(&a, 5000);
	sl_alloc_fail_after(-1);
	ok(q == NULL, "allocation fails when malloc fails");
	is_err(SL_EOOM, "with EOOM");
	ok(sl_arena_alloc(&a, 5000) != NULL, "and works again afterwards");
	sl_arena_destroy(&a);
	is_int(a.reserved, 0, "destroy returns every byte");

	struct sl_arena tiny;
	sl_arena_create(&tiny, 256, 100);
	ok(sl_arena_alloc(&tiny, 1) == NULL, "a cap below one chunk refuses "
	                                     "even one byte");
	sl_arena_destroy(&tiny);
}

/** sl_arena_room(): what one allocation can still get under the cap. */
TAP_CASE(room)
{
	struct sl_arena a;
	sl_arena_create(&a, 1024, 64 * 1024);
	size_t r0 = sl_arena_room(&a);
	ok(r0 > 60 * 1024 && r0 < 64 * 1024,
	   "an empty arena offers its cap less a chunk header (%zu)", r0);
	ok(sl_arena_alloc(&a, r0) != NULL, "and that much can be allocated");
	is_int(sl_arena_room(&a), 0, "then nothing is left");
	ok(sl_arena_alloc(&a, 1) == NULL, "and one more byte fails");
	sl_arena_reset(&a);
	ok(sl_arena_room(&a) >= r0, "reset keeps the chunk: room again");

	sl_arena_destroy(&a);
	sl_arena_create(&a, 1024, 64 * 1024);
	ok(sl_arena_alloc(&a, 30 * 1024) != NULL, "half the cap used");
	size_t r1 = sl_arena_room(&a);
	ok(r1 < 34 * 1024 && r1 > 30 * 1024, "room shrinks with use (%zu)", r1);
	ok(sl_arena_alloc(&a, r1) != NULL, "room is exact");
	ok(sl_arena_alloc(&a, sl_arena_room(&a) + 1) == NULL,
	   "one byte past the room fails");
	sl_arena_destroy(&a);
}

/** Fill `n` bytes at `p` with a pattern of `seed`. */
static void
fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i);
}

/** Whether `n` bytes at `p` hold fill()'s pattern of `seed`. */
static bool
filled(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(seed * 31 + i))
			return false;
	return true;
}

/** One arena takes another's chunks: contents, counts, what is freed. */
TAP_CASE(adopt)
{
	struct sl_arena a, b;
	sl_arena_create(&a, 1024, 1 << 20);
	sl_arena_create(&b, 1024, 1 << 20);
	sl_arena_set_keep(&b, 8192);
	unsigned char *pa[8], *pb[3];
	/* b gets spare chunks from a reset first: they hold nothing. */
	for (int i = 0; i < 10; i++)
		(void)sl_arena_alloc(&b, 700);
	sl_arena_reset(&b);
	for (unsigned i = 0; i < 8; i++) {
		pa[i] = sl_arena_alloc(&a, 600);
		fill(pa[i], 600, i);
	}
	for (unsigned i = 0; i < 3; i++) {
		pb[i] = sl_arena_alloc(&b, 600);
		fill(pb[i], 600, 100 + i);
	}
	ok(b.spare != NULL, "the arena given has spare chunks");
	size_t ra = a.reserved, ub = b.used, ua = a.used;
	size_t rb = b.reserved;
	unsigned char *head_cur = a.cur;
	sl_arena_adopt(&a, &b);
	bool intact = true;
	for (unsigned i = 0; i < 8; i++)
		intact = intact && filled(pa[i], 600, i) &&
		         (i >= 3 || filled(pb[i], 600, 100 + i));
	ok(intact, "what both held stays where it was");
	ok(b.head == NULL && b.spare == NULL && b.reserved == 0 &&
	           b.used == 0 && b.cur == NULL,
	   "the arena given is left empty");
	ok(a.used == ua + ub, "the used bytes add up");
	ok(a.reserved > ra && a.reserved < ra + rb,
	   "the chunks in use change hands, the spares do not (%zu of %zu)",
	   a.reserved - ra, rb);
	unsigned char *next = sl_arena_alloc(&a, 16);
	ok(next >= head_cur && next < head_cur + 16,
	   "allocation goes on in the newest chunk");
	unsigned char *again = sl_arena_alloc(&b, 600);
	ok(again != NULL, "the arena given can allocate again");
	fill(again, 600, 7);
	ok(filled(pb[2], 600, 102), "without touching what it gave");
	/* Into an empty arena: the given one's newest chunk goes on being
	 * filled. */
	struct sl_arena e;
	sl_arena_create(&e, 1024, 1 << 20);
	unsigned char *bcur = b.cur;
	sl_arena_adopt(&e, &b);
	ok(e.head != NULL && e.cur == bcur && filled(again, 600, 7),
	   "an empty arena takes the newest chunk as its own");
	sl_arena_destroy(&e);
	ok(e.reserved == 0, "freed with its new arena");
	sl_arena_destroy(&b);
	/* Everything a took is freed with it (sanitizer builds would report
	 * a chunk left behind). */
	sl_arena_destroy(&a);
	ok(a.reserved == 0 && a.head == NULL, "freed with the arena that "
	                                      "took it");
}

/** Run the cases named on the command line, or all. */
/** Blocks a thread takes and gives back in turn (the threads case). */
static void *
churn(void *arg)
{
	uintptr_t bad = 0;
	for (int i = 0; i < 2000; i++) {
		size_t size = (size_t)(1 + i % 3) * 16384;
		unsigned char *p = sl_pages_alloc(size);
		if (p == NULL)
			return (void *)1;
		/* A block shared with another thread would be overwritten. */
		memset(p, (int)(uintptr_t)arg, size);
		for (size_t k = 0; k < size; k += 4096)
			bad |= p[k] != (unsigned char)(uintptr_t)arg;
		sl_pages_free(p, size);
	}
	return (void *)bad;
}

/** Blocks a hoard() thread keeps, and their size. */
#define HOARD_BLOCKS 96
#define HOARD_SIZE   ((size_t)72 << 10)

/** The hoard() threads give their blocks back only once all took theirs. */
static pthread_barrier_t hoarded;

/**
 * Take HOARD_BLOCKS blocks, each filled with the thread's byte, and
 * check them all once every one is taken (the threads case); then give
 * them back. Returns non-NULL when a block was overwritten.
 */
static void *
hoard(void *arg)
{
	unsigned char *p[HOARD_BLOCKS];
	unsigned char mark = (unsigned char)(uintptr_t)arg;
	uintptr_t bad = 0;
	for (int i = 0; i < HOARD_BLOCKS; i++) {
		if ((p[i] = sl_pages_alloc(HOARD_SIZE)) == NULL)
			return (void *)1;
		memset(p[i], mark, HOARD_SIZE);
	}
	pthread_barrier_wait(&hoarded);
	for (int i = 0; i < HOARD_BLOCKS; i++) {
		for (size_t k = 0; k < HOARD_SIZE; k += 512)
			bad |= p[i][k] != mark;
		sl_pages_free(p[i], HOARD_SIZE);
	}
	return (void *)bad;
}

/**
 * sl_pages_alloc(): a freed block is the next of its size, blocks of
 * page multiples come from 2 MiB regions, other sizes from malloc, and
 * fault injection reaches it; four threads at once never share a block,
 * also while each maps regions of its own.
 */
TAP_CASE(pages)
{
	size_t before = sl_pages_mapped();
	void *a = sl_pages_alloc(65536 + 4096);
	void *b = sl_pages_alloc(65536 + 4096);
	ok(a != NULL && b != NULL && a != b, "two blocks");
	/* Earlier cases' arenas may have mapped regions already. */
	bool regions = sl_pages_mapped() > 0;
	if (regions) {
		ok(sl_pages_mapped() - before <= ((size_t)2 << 20),
		   "from at most one new region");
		ok((uintptr_t)a % 4096 == 0 && (uintptr_t)b % 4096 == 0,
		   "page-aligned");
		sl_pages_free(a, 65536 + 4096);
		void *c = sl_pages_alloc(65536 + 4096);
		ok(c == a, "a freed block is the next one of its size");
		void *d = sl_pages_alloc(65536 + 8192);
		ok(d != NULL && d != a && d != b,
		   "another size, another block");
		a = c;
		sl_pages_free(d, 65536 + 8192);
	} else {
		note("sanitizer build or valgrind: blocks come from malloc");
		ok(sl_pages_mapped() == 0, "no region mapped");
	}
	void *odd = sl_pages_alloc(1000);
	ok(odd != NULL, "a size that is not whole pages (from malloc)");
	sl_pages_free(odd, 1000);
	sl_pages_free(a, 65536 + 4096);
	sl_pages_free(b, 65536 + 4096);
	sl_pages_free(NULL, 4096);

	sl_alloc_fail_after(0);
	ok(sl_pages_alloc(4096) == NULL, "an injected fault fails it");
	sl_alloc_fail_after(-1);

	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, churn, (void *)(i + 1)) != 0)
			bail_out("pthread_create");
	uintptr_t bad = 0;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad |= (uintptr_t)r;
	}
	ok(bad == 0, "four threads at once: no block is handed out twice");

	/* Threads that keep what they take run out of regions at the same
	 * time, and map new ones outside the lock, side by side. */
	before = sl_pages_mapped();
	pthread_barrier_init(&hoarded, NULL, 4);
	for (uintptr_t i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, hoard, (void *)(i + 1)) != 0)
			bail_out("pthread_create");
	bad = 0;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad |= (uintptr_t)r;
	}
	pthread_barrier_destroy(&hoarded);
	ok(bad == 0, "four threads filling regions at once: no block is "
	             "handed out twice");
	if (regions) {
		size_t taken = 4 * (size_t)HOARD_BLOCKS * HOARD_SIZE;
		size_t grew = sl_pages_mapped() - before;
		/* Below: the rest of the current and the spare region served
		 * first; above: each region's tail too small for a block, and
		 * the rest of a region lost when three threads race. */
		ok(grew + ((size_t)4 << 20) >= taken &&
		           grew <= taken + taken / 32 + ((size_t)8 << 20),
		   "regions mapped for them: %zu bytes for %zu taken", grew,
		   taken);
	}
}

/** Whether the `n` bytes at `p` are the pattern fill_pattern() wrote. */
static bool
has_pattern(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 7 + i / 4096))
			return false;
	return true;
}

/** Write a pattern that differs from page to page into `n` bytes at `p`. */
static void
fill_pattern(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + i / 4096);
}

/**
 * sl_big_realloc(): an array that grows from small to several huge-page
 * regions keeps its contents at every step, a growth within its regions
 * keeps it in place, big mappings are aligned to 2 MiB and smaller arrays
 * from SL_BIG_PAGED_MIN are page-aligned blocks of the page regions that
 * grow in place up to their power of two (outside sanitizer builds and
 * valgrind), a shrink keeps the prefix, and an injected fault
 * fails a growth and leaves the array as it was.
 */
TAP_CASE(big)
{
	size_t sizes[] = {
	        4096,           SL_BIG_PAGED_MIN + 1000, SL_BIG_PAGED_MIN * 2,
	        100000,         SL_BIG_MIN - 8,          (size_t)1 << 20,
	        SL_BIG_MIN,     ((size_t)2 << 20) - 16,  ((size_t)2 << 20) + 16,
	        (size_t)5 << 20};
	size_t n = sizeof(sizes) / sizeof(sizes[0]);
	unsigned char *p = NULL;
	size_t old = 0;
	bool kept = true, aligned = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char *q = sl_big_realloc(p, old, sizes[i]);
		if (q == NULL)
			bail_out("sl_big_realloc(%zu) failed", sizes[i]);
		kept &= has_pattern(q, old);
		if (sizes[i] >= SL_BIG_MIN)
			aligned &= (uintptr_t)q % ((size_t)2 << 20) == 0;
		fill_pattern(q, sizes[i]);
		p = q;
		old = sizes[i];
	}
	ok(kept, "every growth keeps the contents");
	ok(has_pattern(p, old), "the last one is whole");
	/* SL_BIG_MIN to 2 MiB - 16 bytes stays in its region. */
	unsigned char *r = sl_big_realloc(NULL, 0, SL_BIG_MIN);
	fill_pattern(r, SL_BIG_MIN);
	unsigned char *r2 =
	        sl_big_realloc(r, SL_BIG_MIN, ((size_t)2 << 20) - 16);
	bool in_place = r2 == r;
	ok(r2 != NULL && has_pattern(r2, SL_BIG_MIN),
	   "a growth within the region keeps the contents");
	/* From SL_BIG_PAGED_MIN: a power-of-two block of the regions. */
	unsigned char *m = sl_big_realloc(NULL, 0, 20000);
	fill_pattern(m, 20000);
	unsigned char *m2 = sl_big_realloc(m, 20000, 30000);
	bool paged_in_place = m2 == m && (uintptr_t)m % 4096 == 0;
	ok(m2 != NULL && has_pattern(m2, 20000),
	   "a paged array keeps its contents as it grows in its block");
	unsigned char *m3 = sl_big_realloc(m2, 30000, 40000);
	ok(m3 != NULL && has_pattern(m3, 20000),
	   "and when it moves to the next block");
	sl_big_free(m3, 40000);
	/* Regions are mapped unless blocks come from malloc. */
	void *probe = sl_pages_alloc(4096);
	bool regions = sl_pages_mapped() > 0;
	sl_pages_free(probe, 4096);
	if (regions) {
		ok(aligned, "big arrays are aligned to 2 MiB");
		ok(in_place, "a growth within the region stays in place");
		ok(paged_in_place,
		   "a paged array is page-aligned and stays in its block");
	} else {
		note("sanitizer build or valgrind: arrays come from malloc");
	}
	unsigned char *s = sl_big_realloc(r2, ((size_t)2 << 20) - 16, 1000);
	ok(s != NULL && has_pattern(s, 1000), "a shrink keeps the prefix");
	sl_big_free(s, 1000);

	sl_alloc_fail_after(0);
	unsigned char *f = sl_big_realloc(p, old, old * 2);
	sl_alloc_fail_after(-1);
	ok(f == NULL, "an injected fault fails a growth");
	ok(has_pattern(p, old), "and leaves the array as it was");
	sl_big_free(p, old);
	sl_big_free(NULL, SL_BIG_MIN);
}

/** Whether the `n` bytes at `p` are all zero. */
static bool
all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/**
 * sl_big_zalloc(): a zeroed array of every kind sl_big_realloc() makes
 * (malloc, a block of the page regions, a mapping of its own), zero even
 * when the block was used and freed before, which sl_big_realloc() then
 * grows keeping its contents and sl_big_free() frees; size 0 and an
 * injected fault give NULL.
 */
TAP_CASE(big_zeroed)
{
	size_t sizes[] = {1000,           SL_BIG_PAGED_MIN + 1000,
	                  100000,         SL_BIG_MIN - 8,
	                  SL_BIG_MIN,     ((size_t)2 << 20) + 16,
	                  (size_t)5 << 20};
	size_t n = sizeof(sizes) / sizeof(sizes[0]);
	bool zero = true, again = true, grown = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char *p = sl_big_zalloc(sizes[i]);
		if (p == NULL)
			bail_out("sl_big_zalloc(%zu) failed", sizes[i]);
		zero &= all_zero(p, sizes[i]);
		/* Dirty it and free it: a block of the regions is the next
		 * one of its size. */
		memset(p, 0xa5, sizes[i]);
		sl_big_free(p, sizes[i]);
		p = sl_big_zalloc(sizes[i]);
		if (p == NULL)
			bail_out("sl_big_zalloc(%zu) failed", sizes[i]);
		again &= all_zero(p, sizes[i]);
		fill_pattern(p, sizes[i]);
		unsigned char *q = sl_big_realloc(p, sizes[i], sizes[i] * 3);
		if (q == NULL)
			bail_out("sl_big_realloc(%zu) failed", sizes[i] * 3);
		grown &= has_pattern(q, sizes[i]);
		sl_big_free(q, sizes[i] * 3);
	}
	ok(zero, "every size comes zeroed");
	ok(again, "also when its block was used and freed before");
	ok(grown, "and grows with sl_big_realloc(), keeping its contents");
	ok(sl_big_zalloc(0) == NULL, "size 0 gives NULL");
	for (size_t i = 0; i < n; i++) {
		sl_alloc_fail_after(0);
		void *f = sl_big_zalloc(sizes[i]);
		sl_alloc_fail_after(-1);
		ok(f == NULL, "an injected fault fails %zu bytes", sizes[i]);
		sl_big_free(f, sizes[i]);
	}
}

/**
 * The permissions of the mapping at `p` in /proc/self/maps ("---p",
 * "rw-p"), in `perm` ("" when nothing is mapped there).
 */
static void
perm_at(const void *p, char perm[8])
{
	perm[0] = '\0';
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return;
	unsigned long lo, hi;
	char pm[8];
	while (fscanf(f, "%lx-%lx %7s%*[^\n]", &lo, &hi, pm) == 3)
		if ((uintptr_t)p >= lo && (uintptr_t)p < hi) {
			memcpy(perm, pm, sizeof(pm));
			break;
		}
	fclose(f);
}

/**
 * sl_huge_reserve(): address space aligned to 2 MiB that is neither
 * readable nor writable until sl_huge_commit() makes a part of it so (the
 * rest stays reserved), committed parts keep what is written, and
 * sl_huge_release() unmaps it all; size 0 gives NULL, and committing
 * where nothing is mapped fails.
 */
TAP_CASE(huge_reserve)
{
	size_t mib2 = (size_t)2 << 20, size = ((size_t)5 << 20) + 1;
	char perm[8];
	unsigned char *p = sl_huge_reserve(size);
	if (p == NULL)
		bail_out("sl_huge_reserve(%zu) failed", size);
	ok((uintptr_t)p % mib2 == 0, "aligned to 2 MiB");
	perm_at(p, perm);
	is_str(perm, "---p", "reserved, not usable");
	ok(sl_huge_commit(p, mib2) == 0 && sl_huge_commit(p + mib2, mib2) == 0,
	   "two 2 MiB parts committed");
	perm_at(p, perm);
	is_str(perm, "rw-p", "the first is readable and writable");
	perm_at(p + 2 * mib2, perm);
	is_str(perm, "---p", "the rest is still only reserved");
	perm_at(p + size - 1, perm);
	is_str(perm, "---p", "up to the last byte asked for");
	fill_pattern(p, 2 * mib2);
	ok(has_pattern(p, 2 * mib2),
	   "the committed parts keep what is written");
	sl_huge_release(p, size);
	perm_at(p, perm);
	is_str(perm, "", "released: nothing is mapped there");
	ok(sl_huge_commit(p, 4096) == -1, "committing there fails");
	ok(sl_huge_reserve(0) == NULL, "size 0 gives NULL");
	sl_huge_release(NULL, size);
}

/**
 * The mapping of /proc/self/smaps that holds `p`: its resident KiB in
 * *rss and whether its flags hold `flag` ("hg": MADV_HUGEPAGE, "nh":
 * MADV_NOHUGEPAGE). -1 if not found.
 */
static int
smaps_of(const void *p, long *rss, const char *flag, bool *has)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (f == NULL)
		return -1;
	char line[512];
	bool in = false, found = false;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long lo, hi;
		/* A mapping's first line; no field's name parses as hex
		 * followed by '-'. */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (!in)
			continue;
		if (strncmp(line, "Rss:", 4) == 0)
			*rss = strtol(line + 4, NULL, 10);
		if (strncmp(line, "VmFlags:", 8) == 0) {
			*has = strstr(line, flag) != NULL;
			found = true;
			in = false;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

/**
 * In a child process with SLUICE_HUGE_PAGES set to `v` (NULL: unset): the
 * first block of a new region. Its exit status: 0 if the region is as
 * `huge` says (marked for huge pages and faulted in whole at once; else
 * marked for small pages, only what was touched resident), else 1..4 for
 * which check failed.
 */
static int
child_region(const char *v, bool huge)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (v != NULL)
			setenv("SLUICE_HUGE_PAGES", v, 1);
		else
			unsetenv("SLUICE_HUGE_PAGES");
		/* Blocks until one starts a region of the child's own. */
		size_t size = (size_t)1 << 20, before = sl_pages_mapped();
		char *b = NULL;
		for (int i = 0; i < 3 && sl_pages_mapped() == before; i++)
			if ((b = sl_pages_alloc(size)) == NULL)
				_exit(1);
		if (sl_pages_mapped() == before)
			_exit(1);
		if (sl_pages_huge() != huge)
			_exit(2);
		long rss = -1;
		bool has = false;
		if (smaps_of(b, &rss, huge ? "hg" : "nh", &has) != 0 || !has)
			_exit(3);
		/* Huge: the region's 2 MiB faulted in at once, before any
		 * use (as huge or small pages: whichever the kernel has).
		 * Small: nothing touched, nothing resident. */
		if (huge ? rss < 2048 : rss > 8)
			_exit(4);
		_exit(0);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static bool host_reports(void);

/**
 * Huge pages while they are the cheaper kind: the choice against small
 * pages' cost, and SLUICE_HUGE_PAGES fixing it.
 */
TAP_CASE(huge_choice)
{
	ok(sl_pages_prefer_huge(0.05, 0.4),
	   "a huge page the kernel had at hand (0.05 ms/MiB) is kept");
	ok(!sl_pages_prefer_huge(2.4, 0.37),
	   "one the host must supply again (2.4 ms/MiB) loses to small "
	   "pages at 0.37");
	ok(sl_pages_prefer_huge(1.8, 2.8),
	   "where small pages cost more (2.8 ms/MiB), huge ones stay");
	ok(sl_pages_prefer_huge(0.45, 0.37),
	   "a quarter dearer is still worth its fewer TLB misses");
	ok(!sl_pages_prefer_huge(0.5, 0.37), "more is not");
	ok(sl_pages_prefer_huge(3, -1), "small pages unmeasured: huge");
	if (sl_alloc_plain()) {
		note("sanitizer build or valgrind: blocks come from malloc");
		return;
	}
	is_int(child_region("1", true), 0,
	       "SLUICE_HUGE_PAGES=1: a new region asks for huge pages, "
	       "faulted in at once");
	is_int(child_region("0", false), 0,
	       "SLUICE_HUGE_PAGES=0: it asks for small pages, none faulted "
	       "in before use");
	bool reports = host_reports();
	note("this machine's host %s free pages back",
	     reports ? "takes" : "does not take");
	/* Without a balloon, the probe's first region is a huge page the
	 * kernel has at hand or a fresh one; only a dear one turns the
	 * choice, and a region of the test's size is rarely that. */
	int rc = child_region(NULL, !reports);
	if (!reports && rc == 2)
		note("the first huge page here was dear: small pages chosen");
	else
		is_int(rc, 0,
		       reports ? "unset, where the host takes free pages back: "
		                 "small pages from the first region"
		               : "unset, elsewhere: the first region is a "
		                 "huge page, faulted in at once");
}

/**
 * The first line of file `name` of virtio device `i` in `buf` (`size`
 * bytes); false if it cannot be read.
 */
static bool
virtio_line(int i, const char *name, char *buf, int size)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/bus/virtio/devices/virtio%d/%s", i,
	         name);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	bool ok = fgets(buf, size, f) != NULL;
	fclose(f);
	return ok;
}

/**
 * Whether /sys/bus/virtio/devices lists a balloon that reports free
 * pages, read here as sl_pages_balloon_reports() is told to read it.
 */
static bool
host_reports(void)
{
	bool found = false;
	for (int i = 0; i < 64 && !found; i++) {
		char dev[32], feat[160];
		found = virtio_line(i, "device", dev, sizeof(dev)) &&
		        virtio_line(i, "features", feat, sizeof(feat)) &&
		        sl_pages_balloon_reports(dev, feat);
	}
	return found;
}

/** Telling a balloon that reports free pages from its id and features. */
TAP_CASE(balloon_reports)
{
	const char *reporting = "0110010100000000000000000000000010000000";
	ok(sl_pages_balloon_reports("0x0005\n", reporting),
	   "a balloon (0x0005) with feature bit 5 reports free pages");
	ok(!sl_pages_balloon_reports(
	           "0x0005\n", "0110000100000000000000000000000010000000"),
	   "without bit 5 it does not");
	ok(!sl_pages_balloon_reports("0x0001\n", reporting),
	   "bit 5 of another device (a network card) says nothing");
	ok(!sl_pages_balloon_reports("0x0005\n", "01100"),
	   "features too short to hold the bit");
	ok(!sl_pages_balloon_reports("", reporting), "no id");
	ok(sl_pages_balloon_reports("5", reporting), "an id in decimal");
}

int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
