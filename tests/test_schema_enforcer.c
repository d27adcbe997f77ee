/*
 * Schema inference (as the Python package genson infers) and validation
 * (as a draft-7 JSON-schema validator checks) of the SchemaEnforcer step.
 */
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/jsonread.h"
#include "steps/jschema.h"
#include "unit.h"

/** Memory of the parsed samples. */
static struct sl_arena arena;

/** `json` parsed (in `arena`); a null value if it does not parse. */
static struct sl_value
parse(const char *json)
{
	struct sl_value v = sl_null();
	if (sl_json_parse(json, strlen(json), &arena, NULL, NULL, &v) != 0)
		bail_out("cannot parse %s: %s", json, unit_errmsg());
	return v;
}

/** A schema inferred from the `n` JSON samples `s`. */
static struct sl_jschema *
infer(const char *const *s, size_t n)
{
	struct sl_jschema *js = sl_jschema_new();
	for (size_t i = 0; i < n; i++) {
		struct sl_value v = parse(s[i]);
		if (sl_jschema_add(js, &v) != 0)
			bail_out("cannot infer: %s", unit_errmsg());
	}
	return js;
}

/** Check that the samples `s` give genson's schema `want` (compact). */
static void
check_inferred(const char *const *s, size_t n, const char *want,
               const char *what)
{
	struct sl_jschema *js = infer(s, n);
	struct sl_buf out;
	sl_buf_create(&out, 1 << 16);
	ok(sl_jschema_write(js, &out) == 0, "%s: written", what);
	is_str(out.data != NULL ? out.data : "", want, "%s", what);
	sl_buf_destroy(&out);
	sl_jschema_delete(js);
}

/** The number of errors validating `json` against `js`; its messages. */
static int64_t
check(const struct sl_jschema *js, const char *json, struct sl_buf *msgs)
{
	struct sl_value v = parse(json);
	sl_buf_reset(msgs);
	return sl_jschema_validate(js, &v, msgs);
}

/** The genson schema prefix. */
#define SCHEMA "{\"$schema\":\"http://json-schema.org/schema#\""

#define N(a) (sizeof(a) / sizeof((a)[0]))

TAP_CASE(infer_scalars)
{
	static const char *const one_int[] = {"1"};
	check_inferred(one_int, N(one_int), SCHEMA ",\"type\":\"integer\"}",
	               "an int is an integer");
	static const char *const int_float[] = {"1", "2.5"};
	check_inferred(int_float, N(int_float), SCHEMA ",\"type\":\"number\"}",
	               "integer and number merge into number");
	static const char *const mixed[] = {"\"a\"", "null", "3", "true"};
	check_inferred(mixed, N(mixed),
	               SCHEMA ",\"type\":[\"boolean\",\"integer\",\"null\","
	                      "\"string\"]}",
	               "several simple types: a sorted type list");
	check_inferred(NULL, 0, SCHEMA "}", "no samples: an empty schema");
}

TAP_CASE(infer_objects)
{
	static const char *const objs[] = {
	        "{\"name\":\"a\",\"age\":3,\"tags\":[\"x\"]}",
	        "{\"age\":4.5,\"name\":\"b\",\"extra\":null}"};
	check_inferred(objs, N(objs),
	               SCHEMA ",\"type\":\"object\",\"properties\":{"
	                      "\"name\":{\"type\":\"string\"},"
	                      "\"age\":{\"type\":\"number\"},"
	                      "\"tags\":{\"type\":\"array\",\"items\":{"
	                      "\"type\":\"string\"}},"
	                      "\"extra\":{\"type\":\"null\"}},"
	                      "\"required\":[\"age\",\"name\"]}",
	               "properties in first-seen order, required = keys in "
	               "every sample, sorted");
	static const char *const nested[] = {"{\"a\":{\"b\":1}}",
	                                     "{\"a\":{\"b\":2,\"c\":\"x\"}}"};
	check_inferred(nested, N(nested),
	               SCHEMA ",\"type\":\"object\",\"properties\":{\"a\":{"
	                      "\"type\":\"object\",\"properties\":{\"b\":{"
	                      "\"type\":\"integer\"},\"c\":{\"type\":"
	                      "\"string\"}},\"required\":[\"b\"]}},"
	                      "\"required\":[\"a\"]}",
	               "nested objects");
	static const char *const empty[] = {"{}"};
	check_inferred(empty, N(empty), SCHEMA ",\"type\":\"object\"}",
	               "an empty object");
	static const char *const arrays[] = {"[1, \"a\"]", "[null]"};
	check_inferred(arrays, N(arrays),
	               SCHEMA ",\"type\":\"array\",\"items\":{\"type\":["
	                      "\"integer\",\"null\",\"string\"]}}",
	               "array items merged");
	static const char *const obj_or_null[] = {"null", "{\"a\":1}"};
	check_inferred(obj_or_null, N(obj_or_null),
	               SCHEMA ",\"anyOf\":[{\"type\":\"null\"},{\"type\":"
	                      "\"object\",\"properties\":{\"a\":{\"type\":"
	                      "\"integer\"}},\"required\":[\"a\"]}]}",
	               "an object with another type: anyOf");
}

TAP_CASE(validate)
{
	static const char *const objs[] = {
	        "{\"name\":\"a\",\"age\":3,\"tags\":[\"x\"]}",
	        "{\"age\":4,\"name\":\"b\",\"opt\":null}"};
	struct sl_jschema *js = infer(objs, N(objs));
	struct sl_buf msgs;
	sl_buf_create(&msgs, 1 << 16);
	is_int(check(js, "{\"name\":\"c\",\"age\":5}", &msgs), 0,
	       "a matching record is valid");
	is_int(check(js, "{\"name\":\"c\",\"age\":5.0,\"new\":[]}", &msgs), 0,
	       "5.0 is an integer; other keys are allowed");
	is_int(check(js, "{\"name\":\"c\",\"age\":\"5\"}", &msgs), 1,
	       "a wrong type is an error");
	is_str(msgs.data, "at $.age: \"5\" is not of type 'integer'",
	       "naming the place, the value and the type");
	is_int(check(js, "{\"age\":1}", &msgs), 1, "a missing key is one");
	is_str(msgs.data, "at $: 'name' is a required property",
	       "naming the key");
	is_int(check(js, "{\"name\":\"c\",\"age\":1,\"tags\":[\"a\",2]}",
	             &msgs),
	       1, "items are checked");
	is_str(msgs.data, "at $.tags[1]: 2 is not of type 'string'",
	       "naming the index");
	is_int(check(js, "{\"name\":\"c\",\"age\":1,\"opt\":1}", &msgs), 1,
	       "a key seen only as null takes only null");
	is_int(check(js, "[1]", &msgs), 1, "an array is not an object");
	is_str(msgs.data, "at $: [1] is not of type 'object'", "says so");
	is_int(check(js, "{\"name\":true,\"age\":1.5,\"tags\":{}}", &msgs), 3,
	       "every error is counted");
	sl_jschema_delete(js);

	static const char *const many[] = {
	        "{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1}"};
	js = infer(many, N(many));
	is_int(check(js, "{}", &msgs), 7, "seven missing keys");
	ok(strstr(msgs.data, "'e' is a required property; and 2 more") != NULL,
	   "the first five are described, the rest counted: %s", msgs.data);
	sl_jschema_delete(js);

	static const char *const nums[] = {"1.5"};
	js = infer(nums, N(nums));
	is_int(check(js, "2", &msgs), 0, "an integer is a number");
	is_int(check(js, "true", &msgs), 1, "a boolean is not");
	sl_jschema_delete(js);

	js = infer(NULL, 0);
	is_int(check(js, "{\"x\":[1]}", &msgs), 0,
	       "an empty schema accepts anything");
	sl_jschema_delete(js);
	sl_buf_destroy(&msgs);
}

TAP_CASE(out_of_memory)
{
	static const char *const objs[] = {"{\"a\":{\"b\":[1,{\"c\":2}]}}"};
	int runs = 0, clean = 0;
	for (long n = 0; n < 100; n++) {
		struct sl_value v = parse(objs[0]);
		struct sl_jschema *js = NULL;
		sl_alloc_fail_after(n);
		int k = (js = sl_jschema_new()) != NULL ? sl_jschema_add(js, &v)
		                                        : -1;
		sl_alloc_fail_after(-1);
		runs++;
		sl_jschema_delete(js);
		if (k == 0)
			break;
		clean += sl_diag_code() == SL_EOOM;
		sl_diag_clear(sl_diag_get());
	}
	is_int(clean, runs - 1, "every failed allocation gives EOOM");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	sl_arena_create(&arena, 1 << 16, (size_t)1 << 26);
	int rc = tap_main(argc, argv);
	sl_arena_destroy(&arena);
	return rc;
}
