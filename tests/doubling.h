/*
 * A value whose JSON text is exponentially larger than its memory, for
 * tests of the per-record caps (issue 20, defect 4).
 */
#ifndef SLUICE_TESTS_DOUBLING_H
#define SLUICE_TESTS_DOUBLING_H

#include <string.h>

#include "sluice/arena.h"
#include "sluice/value.h"

/**
 * `levels` nested {a: v, b: v} over a string of `leaf` bytes, in `a`, as
 * JMESPath's {a:@,b:@} builds it: each level shares the one below, so the
 * value is small in memory and its text 2^levels times the leaf.
 */
static inline struct sl_value
doubling(struct sl_arena *a, size_t leaf, int levels)
{
	char *s = sl_arena_alloc(a, leaf);
	memset(s, 'x', leaf);
	struct sl_value v = sl_str_ref(s, (uint32_t)leaf);
	for (int i = 0; i < levels; i++) {
		struct sl_member *m = sl_arena_alloc(a, 2 * sizeof(*m));
		m[0] = (struct sl_member){.key = "a", .key_len = 1, .val = v};
		m[1] = (struct sl_member){.key = "b", .key_len = 1, .val = v};
		v = sl_object_ref(m, 2);
	}
	return v;
}

#endif /* SLUICE_TESTS_DOUBLING_H */
