/*
 * libFuzzer target for the JSON reader: the input is parsed as one document
 * and read as JSON lines through a memory source that hands out a few bytes
 * at a time; every value produced is walked. The JSON lines are also read
 * twice more, with reads of a few bytes and all at once, and the two must
 * give the same records, values and errors: only the second has whole
 * lines in its buffer, which sl_jsonl_next() copies while it finds their
 * ends (AVX2), into head chunks whose room the first byte chooses.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/arena.h"
#include "sluice/diag.h"
#include "sluice/jsonread.h"
#include "memsource.h"

#define FUZZ_NAME "fuzz_json"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Where value_touch() results go, so the walk is not optimised away. */
volatile size_t fuzz_sink;

/** Whether a and b are the same value: types, bytes, members in order. */
static bool
same_value(const struct sl_value *a, const struct sl_value *b)
{
	if (a->type != b->type || a->len != b->len)
		return false;
	switch ((enum sl_vtype)a->type) {
	case SL_VNULL:
		return true;
	case SL_VBOOL:
		return a->u.b == b->u.b;
	case SL_VDOUBLE:
		return memcmp(&a->u.d, &b->u.d, sizeof(double)) == 0;
	case SL_VINT:
		return a->u.i == b->u.i;
	case SL_VSTR:
	case SL_VNUMBER:
		return a->len == 0 || memcmp(a->u.s, b->u.s, a->len) == 0;
	case SL_VARRAY:
		for (uint32_t i = 0; i < a->len; i++)
			if (!same_value(&a->u.items[i], &b->u.items[i]))
				return false;
		return true;
	case SL_VOBJECT:
		for (uint32_t i = 0; i < a->len; i++) {
			const struct sl_member *x = &a->u.members[i];
			const struct sl_member *y = &b->u.members[i];
			if (x->key_len != y->key_len ||
			    (x->key_len > 0 &&
			     memcmp(x->key, y->key, x->key_len) != 0) ||
			    !same_value(&x->val, &y->val))
				return false;
		}
		return true;
	default:
		return false;
	}
}

/** The last error's message, or "". */
static const char *
last_msg(void)
{
	struct sl_error *e = sl_diag_last();
	return e != NULL ? e->msg : "";
}

/**
 * Read `data` as JSON lines twice, `step` bytes a read and all at once,
 * the second into an arena whose head chunk is `chunk` bytes, and check
 * that both give the same records.
 */
static void
jsonl_same(const uint8_t *data, size_t size, size_t step, size_t chunk)
{
	struct sl_arena a, b;
	sl_arena_create(&a, 4096, (size_t)64 << 20);
	sl_arena_create(&b, chunk, (size_t)64 << 20);
	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.depth_max = 64;
	o.record_max = 2048;
	struct memsource ma, mb;
	memsource_init(&ma, data, size, step);
	memsource_init(&mb, data, size, 0);
	struct sl_source sa = memsource_source(&ma, "fuzz");
	struct sl_source sb = memsource_source(&mb, "fuzz");
	o.chunk_size = 16;
	struct sl_jsonl_reader *ra = sl_jsonl_reader_new(&sa, &o);
	o.chunk_size = (size_t)1 << 20;
	struct sl_jsonl_reader *rb = sl_jsonl_reader_new(&sb, &o);
	CHECK(ra != NULL && rb != NULL, "readers");
	for (int guard = 0; guard < 100000; guard++) {
		struct sl_value va, vb;
		int rca = sl_jsonl_next(ra, &a, &va);
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", rca < 0 ? last_msg() : "");
		int rcb = sl_jsonl_next(rb, &b, &vb);
		CHECK(rca == rcb, "rc %d against %d", rca, rcb);
		CHECK(sl_jsonl_line(ra) == sl_jsonl_line(rb), "line %llu/%llu",
		      (unsigned long long)sl_jsonl_line(ra),
		      (unsigned long long)sl_jsonl_line(rb));
		if (rca == 0)
			break;
		if (rca > 0)
			CHECK(same_value(&va, &vb), "line %llu",
			      (unsigned long long)sl_jsonl_line(ra));
		else
			CHECK(strcmp(msg, last_msg()) == 0, "'%s' against '%s'",
			      msg, last_msg());
		if (rca < 0 && sl_diag_code() != SL_EPARSE &&
		    sl_diag_code() != SL_ELIMIT)
			break;
		sl_arena_reset(&a);
		sl_arena_reset(&b);
	}
	sl_jsonl_reader_delete(ra);
	sl_jsonl_reader_delete(rb);
	sl_arena_destroy(&a);
	sl_arena_destroy(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, (size_t)64 << 20);
	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.depth_max = 64;
	struct sl_value v;
	if (sl_json_parse((const char *)data, size, &arena, &o, "fuzz", &v) ==
	    0)
		fuzz_sink += value_touch(&v);

	struct memsource m;
	memsource_init(&m, data, size, 1 + (size ? data[0] % 13 : 0));
	struct sl_source src = memsource_source(&m, "fuzz");
	o.chunk_size = 16;
	o.record_max = 256;
	struct sl_jsonl_reader *r = sl_jsonl_reader_new(&src, &o);
	int rc, guard = 0;
	while (r != NULL && (rc = sl_jsonl_next(r, &arena, &v)) != 0 &&
	       guard++ < 100000) {
		if (rc == 1)
			fuzz_sink += value_touch(&v);
		sl_arena_reset(&arena);
	}
	sl_jsonl_reader_delete(r);
	sl_arena_destroy(&arena);
	jsonl_same(data, size, 1 + (size ? data[0] % 13 : 0),
	           256 + (size ? data[0] : 0) * 3);
	return 0;
}
