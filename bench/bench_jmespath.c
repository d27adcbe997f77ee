/*
 * Benchmark: JMESPath evaluation cost of field lookups.
 *
 * jmespath_field_ns: nanoseconds per sl_jmes_eval() of `name` over a
 * 12-member record (value), against a direct sl_object_get() of the same
 * key (baseline). jmespath_chain_ns: the same for `a.b.c` against three
 * chained sl_object_get() calls. ratio = baseline / value (1 would mean
 * no overhead). Median of BENCH_REPS repetitions.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "sluice/arena.h"
#include "sluice/jmespath.h"
#include "sluice/jsonread.h"

/** Evaluations per repetition. */
#define ITERS 2000000

/** The record. */
static const char doc_text[] =
        "{\"id\":1,\"kind\":\"user\",\"email\":\"x@y.z\",\"age\":33,"
        "\"tags\":[\"a\",\"b\"],\"score\":1.5,\"active\":true,\"city\":\"P\","
        "\"zip\":\"75001\",\"a\":{\"x\":1,\"b\":{\"y\":2,\"c\":42}},"
        "\"note\":null,\"name\":\"someone\"}";

/** Where results go, so loops are not optimised away. */
static volatile uint64_t sink;

/** Time `ITERS` evaluations of `expr` and of the direct lookup. */
static int
run(const char *bench, const char *expr, const struct sl_value *doc)
{
	struct sl_jmes *j = sl_jmes_compile(expr, strlen(expr));
	if (j == NULL) {
		fprintf(stderr, "compile %s failed\n", expr);
		return 1;
	}
	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	double ev[BENCH_REPS], base[BENCH_REPS];
	bool chain = strchr(expr, '.') != NULL;
	for (int r = 0; r < BENCH_REPS; r++) {
		uint64_t t0 = bench_now_ns();
		for (int i = 0; i < ITERS; i++) {
			struct sl_value out;
			if (sl_jmes_eval(j, doc, &a, &out) != 0)
				return 1;
			sink += out.type;
		}
		uint64_t t1 = bench_now_ns();
		for (int i = 0; i < ITERS; i++) {
			const struct sl_value *v;
			if (chain) {
				v = sl_object_get(doc, "a", 1);
				v = v ? sl_object_get(v, "b", 1) : NULL;
				v = v ? sl_object_get(v, "c", 1) : NULL;
			} else {
				v = sl_object_get(doc, "name", 4);
			}
			sink += v != NULL ? v->type : 0;
		}
		uint64_t t2 = bench_now_ns();
		ev[r] = (double)(t1 - t0) / ITERS;
		base[r] = (double)(t2 - t1) / ITERS;
		printf("# %s rep %d: %.2f ns/eval, %.2f ns direct\n", expr, r,
		       ev[r], base[r]);
	}
	double v = bench_median(ev, BENCH_REPS);
	double b = bench_median(base, BENCH_REPS);
	bench_result(bench, v, "ns", b, v > 0 ? b / v : 0, 2);
	sl_arena_destroy(&a);
	sl_jmes_delete(j);
	return 0;
}

int
main(void)
{
	struct sl_arena da;
	sl_arena_create(&da, 4096, 1 << 20);
	struct sl_value doc;
	if (sl_json_parse(doc_text, sizeof(doc_text) - 1, &da, NULL, "bench",
	                  &doc) != 0) {
		fprintf(stderr, "bad document\n");
		return 1;
	}
	int rc = run("jmespath_field_ns", "name", &doc) ||
	         run("jmespath_chain_ns", "a.b.c", &doc);
	sl_arena_destroy(&da);
	return rc;
}
