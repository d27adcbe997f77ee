/*
 * libFuzzer target for JMESPath: the input up to its first newline is the
 * expression, the rest a JSON document. The expression is compiled; when
 * it compiles and the document parses it is evaluated in a capped arena.
 * A result must be a well-formed value that writes as JSON, and an error
 * must be one that sl_jmes_eval() documents.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/diag.h"
#include "sluice/jmespath.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"

#define FUZZ_NAME "fuzz_jmespath"
#include "fuzz.h"

/**
 * Values check_value() visits at most: a result may share subtrees
 * (`[@,@] | [@,@] | ...`), so that its tree is exponentially larger than
 * its memory; the check looks at the first ones only.
 */
#define CHECK_VISITS (1 << 20)

/**
 * Check that `v` and everything under it is a valid value, visiting at
 * most *budget values.
 */
static void
check_value(const struct sl_value *v, unsigned depth, long *budget)
{
	if (--*budget < 0)
		return;
	CHECK(depth < 2048, "value nests too deep");
	CHECK(v->type <= SL_VOBJECT, "bad type %u", v->type);
	if (v->type == SL_VARRAY) {
		CHECK(v->len == 0 || v->u.items != NULL, "array without items");
		for (uint32_t i = 0; i < v->len; i++)
			check_value(&v->u.items[i], depth + 1, budget);
	} else if (v->type == SL_VOBJECT) {
		CHECK(v->len == 0 || v->u.members != NULL,
		      "object without members");
		for (uint32_t i = 0; i < v->len; i++)
			check_value(&v->u.members[i].val, depth + 1, budget);
	} else if (v->type == SL_VSTR || v->type == SL_VNUMBER) {
		CHECK(v->len == 0 || v->u.s != NULL, "string without bytes");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t elen = nl != NULL ? (size_t)(nl - s) : size;
	struct sl_jmes *j = sl_jmes_compile(s, elen);
	if (j == NULL) {
		enum sl_errcode c = sl_diag_code();
		CHECK(c == SL_EPARSE || c == SL_ELIMIT, "compile error %s",
		      sl_errcode_name(c));
		return 0;
	}
	CHECK(strlen(sl_jmes_text(j)) <= elen, "text longer than input");
	struct sl_arena doc_arena, arena;
	sl_arena_create(&doc_arena, 4096, (size_t)16 << 20);
	sl_arena_create(&arena, 4096, (size_t)8 << 20);
	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.depth_max = 64;
	struct sl_value doc = sl_null();
	if (nl == NULL || sl_json_parse(nl + 1, size - elen - 1, &doc_arena, &o,
	                                "fuzz", &doc) == 0) {
		struct sl_value out;
		if (sl_jmes_eval(j, &doc, &arena, &out) == 0) {
			long budget = CHECK_VISITS;
			check_value(&out, 0, &budget);
			struct sl_buf b;
			sl_buf_create(&b, (size_t)4 << 20);
			int rc = sl_json_write(&b, &out, SL_JSON_CANONICAL);
			CHECK(rc == 0 || sl_diag_code() == SL_ELIMIT,
			      "result does not write: %s",
			      sl_diag_last() ? sl_diag_last()->msg : "");
			sl_buf_destroy(&b);
			const char *name;
			size_t n;
			if (sl_jmes_is_field(j, &name, &n)) {
				const struct sl_value *f =
				        sl_object_get(&doc, name, n);
				CHECK(f != NULL ? sl_value_equal(f, &out)
				                : out.type == SL_VNULL,
				      "field lookup differs");
			}
		} else {
			enum sl_errcode c = sl_diag_code();
			CHECK(c == SL_EINVAL || c == SL_ELIMIT || c == SL_EOOM,
			      "eval error %s", sl_errcode_name(c));
			if (c == SL_EINVAL) {
				const char *m = sl_diag_last()->msg;
				CHECK(strncmp(m, "invalid-type:", 13) == 0 ||
				              strncmp(m, "invalid-arity:",
				                      14) == 0,
				      "message %s", m);
			}
		}
	}
	sl_arena_destroy(&arena);
	sl_arena_destroy(&doc_arena);
	sl_jmes_delete(j);
	return 0;
}
