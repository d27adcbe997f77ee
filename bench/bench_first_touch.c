/*
 * Benchmark: the first touch of fresh memory, the cost sl_pages_alloc()
 * and sl_big_realloc() are built around.
 *
 * first_touch_ms_per_mib: milliseconds per MiB to write one byte in each
 * 4 KiB page of a fresh 16 MiB anonymous mapping, 2 MiB aligned, with
 * MADV_HUGEPAGE (value), against the same with MADV_NOHUGEPAGE (baseline):
 * a fault per 2 MiB against one per 4 KiB. The ratio is how many times
 * cheaper the huge pages make a first touch. Medians of BENCH_REPS fresh
 * mappings each.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#include "bench.h"

/** Bytes of each mapping touched. */
#define TOUCH_BYTES ((size_t)16 << 20)
/** Alignment of a huge page. */
#define HUGE_ALIGN ((size_t)2 << 20)

/**
 * Milliseconds to touch a fresh mapping of TOUCH_BYTES once per page,
 * with `advice` given first; a negative value if it cannot be mapped.
 */
static double
touch_ms(int advice)
{
	size_t span = TOUCH_BYTES + HUGE_ALIGN;
	char *m = mmap(NULL, span, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	volatile char *p =
	        (char *)(((uintptr_t)m + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1));
	(void)madvise((void *)p, TOUCH_BYTES, advice);
	uint64_t t0 = bench_now_ns();
	for (size_t i = 0; i < TOUCH_BYTES; i += 4096)
		p[i] = 1;
	uint64_t t1 = bench_now_ns();
	munmap(m, span);
	return (double)(t1 - t0) / 1e6;
}

/** Run the two measurements, alternating, and print the result. */
int
main(void)
{
	double huge[BENCH_REPS], small[BENCH_REPS];
	for (int i = 0; i < BENCH_REPS; i++) {
		huge[i] = touch_ms(MADV_HUGEPAGE);
		small[i] = touch_ms(MADV_NOHUGEPAGE);
		if (huge[i] < 0 || small[i] < 0) {
			fprintf(stderr, "bench_first_touch: mmap failed\n");
			return 1;
		}
	}
	double mib = (double)(TOUCH_BYTES >> 20);
	double h = bench_median(huge, BENCH_REPS) / mib;
	double s = bench_median(small, BENCH_REPS) / mib;
	bench_result("first_touch_ms_per_mib", h, "ms/MiB", s,
	             h > 0 ? s / h : 0, 3);
	return 0;
}
