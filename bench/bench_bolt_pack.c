/*
 * Benchmark: PackStream encoding and decoding of typical rows, the
 * parameters an `UNWIND $rows` statement sends to Neo4j.
 *
 * The rows: a list of ROWS maps of ten entries each, six short strings
 * and four integers of one to five bytes (about 3.5 MB packed).
 *
 * bolt_pack_mbps: MB/s (10^6 bytes of PackStream written per second) of
 * sl_ps_put_value() of the whole list into a buffer reset each round.
 * bolt_unpack_mbps: MB/s of sl_ps_get() of the packed bytes into an arena
 * reset each round. Baseline of both: memcpy() of the same number of
 * bytes between two buffers, measured in the same repetition. Here ratio
 * = value / baseline (rates: higher is better). Median of BENCH_REPS
 * repetitions of ROUNDS rounds each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "db/bolt/packstream.h"
#include "sluice/arena.h"
#include "sluice/buf.h"

/** Rows in the list. */
#define ROWS 25000
/** Rounds of each operation per repetition. */
#define ROUNDS 40
/** Cap of the buffers and arenas. */
#define CAP ((size_t)256 << 20)

/** Where results go, so loops are not optimised away. */
static volatile uint64_t sink;

/** The keys of a row: six strings, then four integers. */
static const char *const keys[10] = {"name",   "city",  "country", "email",
                                     "status", "kind",  "id",      "age",
                                     "score",  "visits"};

/** Short strings the string fields take in turn. */
static const char *const words[] = {
        "Ann",     "Paris",     "France",  "ann@example.org",
        "active",  "customer",  "Bob",     "Lyon",
        "Belgium", "bob@x.io",  "blocked", "supplier",
        "Chidi",   "Lagos",     "Nigeria", "c.okafor@example.com",
        "pending", "partner",   "Dana",    "Osaka",
        "Japan",   "dana@jp.jp"};

/** Build the rows in `a` as one list value. */
static struct sl_value
make_rows(struct sl_arena *a)
{
	struct sl_value *rows = sl_arena_alloc(a, ROWS * sizeof(*rows));
	uint64_t x = 88172645463325252u; /* xorshift64 */
	for (int r = 0; r < ROWS; r++) {
		struct sl_member *m = sl_arena_alloc(a, 10 * sizeof(*m));
		for (int k = 0; k < 10; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			m[k].key = keys[k];
			m[k].key_len = (uint32_t)strlen(keys[k]);
			if (k < 6) {
				const char *w = words[x % (sizeof(words) /
				                           sizeof(*words))];
				m[k].val = sl_str_ref(w, (uint32_t)strlen(w));
			} else {
				/* ids grow; ages are tiny; scores and visits
				 * take 2 to 5 bytes. */
				int64_t v = k == 6   ? 100000 + r
				            : k == 7 ? (int64_t)(x % 100)
				            : k == 8 ? (int64_t)(x % 30000)
				                     : (int64_t)(x % 5000000);
				m[k].val = sl_int(v);
			}
		}
		rows[r] = sl_object_ref(m, 10);
	}
	return sl_array_ref(rows, ROWS);
}

/** MB/s of `bytes` moved in `ns` nanoseconds. */
static double
mbps(double bytes, uint64_t ns)
{
	return ns > 0 ? bytes / 1e6 / ((double)ns / 1e9) : 0;
}

/** memcpy() `n` bytes ROUNDS times; the nanoseconds it took. */
static uint64_t
time_memcpy(char *dst, const char *src, size_t n)
{
	uint64_t t0 = bench_now_ns();
	for (int i = 0; i < ROUNDS; i++) {
		memcpy(dst, src, n);
		__asm__ volatile("" : : "r"(dst) : "memory");
		sink += (unsigned char)dst[i];
	}
	return bench_now_ns() - t0;
}

int
main(void)
{
	struct sl_arena rows_arena, a;
	sl_arena_create(&rows_arena, 1 << 20, CAP);
	sl_arena_create(&a, 1 << 20, CAP);
	struct sl_value rows = make_rows(&rows_arena);
	struct sl_buf b;
	sl_buf_create(&b, CAP);
	if (sl_ps_put_value(&b, &rows) != 0) {
		bench_fail("bench_bolt_pack", "packing the rows");
		return 1;
	}
	size_t n = b.len;
	char *copy = malloc(n);
	printf("# %d rows of 10 entries, %zu bytes packed (%.1f a row), %d "
	       "rounds a repetition\n",
	       ROWS, n, (double)n / ROWS, ROUNDS);

	double pack[BENCH_REPS], unpack[BENCH_REPS], base_p[BENCH_REPS],
	        base_u[BENCH_REPS];
	for (int r = 0; r < BENCH_REPS; r++) {
		uint64_t t0 = bench_now_ns();
		for (int i = 0; i < ROUNDS; i++) {
			sl_buf_reset(&b);
			if (sl_ps_put_value(&b, &rows) != 0) {
				bench_fail("bench_bolt_pack", "packing");
				return 1;
			}
			sink += b.len;
		}
		uint64_t t1 = bench_now_ns();
		base_p[r] =
		        mbps((double)n * ROUNDS, time_memcpy(copy, b.data, n));
		pack[r] = mbps((double)n * ROUNDS, t1 - t0);

		t0 = bench_now_ns();
		for (int i = 0; i < ROUNDS; i++) {
			struct sl_ps ps;
			size_t used = 0;
			sl_arena_reset(&a);
			if (sl_ps_get(b.data, b.len, &used, &a, &ps) != 0 ||
			    used != n) {
				bench_fail("bench_bolt_pack", "unpacking");
				return 1;
			}
			sink += ps.len;
		}
		t1 = bench_now_ns();
		base_u[r] =
		        mbps((double)n * ROUNDS, time_memcpy(copy, b.data, n));
		unpack[r] = mbps((double)n * ROUNDS, t1 - t0);
		printf("# rep %d: pack %.0f MB/s, unpack %.0f MB/s, memcpy "
		       "%.0f "
		       "and %.0f MB/s\n",
		       r, pack[r], unpack[r], base_p[r], base_u[r]);
	}
	double vp = bench_median(pack, BENCH_REPS);
	double bp = bench_median(base_p, BENCH_REPS);
	double vu = bench_median(unpack, BENCH_REPS);
	double bu = bench_median(base_u, BENCH_REPS);
	bench_result("bolt_pack_mbps", vp, "MB/s", bp, bp > 0 ? vp / bp : 0, 1);
	bench_result("bolt_unpack_mbps", vu, "MB/s", bu, bu > 0 ? vu / bu : 0,
	             1);
	free(copy);
	sl_buf_destroy(&b);
	sl_arena_destroy(&a);
	sl_arena_destroy(&rows_arena);
	return 0;
}
