/*
 * Values: constructors, numbers kept as text, object lookup, equality,
 * deep copy.
 */
#include <math.h>

#include "sluice/alloc.h"
#include "sluice/value.h"
#include "unit.h"

/** A number value over a C string. */
static struct sl_value
num(const char *s)
{
	return sl_number_ref(s, (uint32_t)strlen(s));
}

/** Values: numbers, object lookup, deep copy, equality and string copies. */
TAP_CASE(value)
{
	ok(sizeof(struct sl_value) == 16, "a value is 16 bytes (%zu)",
	   sizeof(struct sl_value));
	struct sl_value z;
	memset(&z, 0, sizeof(z));
	is_int(z.type, SL_VNULL, "a zeroed value is null");

	struct sl_value n = sl_value_number(num("42"));
	ok(n.type == SL_VINT && n.u.i == 42, "integer text becomes an int");
	n = sl_value_number(num("-9223372036854775808"));
	ok(n.type == SL_VINT && n.u.i == INT64_MIN, "INT64_MIN stays an int");
	n = sl_value_number(num("9223372036854775808"));
	ok(n.type == SL_VDOUBLE && n.u.d == 9223372036854775808.0,
	   "past INT64_MAX becomes a double");
	n = sl_value_number(num("1.5e3"));
	ok(n.type == SL_VDOUBLE && n.u.d == 1500.0, "exponent text is a "
	                                            "double");
	n = sl_value_number(num("-0.25"));
	ok(n.type == SL_VDOUBLE && n.u.d == -0.25, "fraction text is a double");
	char longnum[300];
	memset(longnum, '1', 299);
	longnum[299] = '\0';
	n = sl_value_number(num(longnum));
	ok(n.type == SL_VDOUBLE && n.u.d > 1e298, "a 299-digit integer is a "
	                                          "double");
	is_str(sl_vtype_name(SL_VNUMBER), "number", "number text is a number");
	is_str(sl_vtype_name(SL_VBOOL), "boolean", "bool is boolean");

	struct sl_arena a;
	sl_arena_create(&a, 1024, 1 << 20);
	struct sl_member ms[3] = {
	        {"name", 4, sl_str_ref("Ada", 3)},
	        {"age", 3, num("36")},
	        {"name", 4, sl_str_ref("Lovelace", 8)},
	};
	struct sl_value obj = sl_object_ref(ms, 3);
	const struct sl_value *got = sl_object_get_cstr(&obj, "name");
	ok(got != NULL && got->len == 8 && memcmp(got->u.s, "Lovelace", 8) == 0,
	   "lookup of a duplicate key returns the last");
	ok(sl_object_get_cstr(&obj, "nam") == NULL, "a prefix does not match");
	ok(sl_object_get_cstr(&obj, "missing") == NULL, "missing key: NULL");
	ok(sl_object_get(&ms[0].val, "x", 1) == NULL, "lookup on a non-object");

	struct sl_value copy;
	ok(sl_value_copy(&a, &obj, &copy) == 0, "deep copy");
	ok(copy.u.members != ms && copy.u.members[0].key != ms[0].key &&
	           copy.u.members[2].val.u.s != ms[2].val.u.s,
	   "the copy shares nothing");
	ok(sl_value_equal(&obj, &copy), "and is equal");
	is_int(copy.u.members[1].val.type, SL_VNUMBER,
	       "number text stays "
	       "text");

	struct sl_member ms2[2] = {
	        {"name", 4, sl_str_ref("Lovelace", 8)},
	        {"age", 3, sl_int(36)},
	};
	struct sl_value obj2 = sl_object_ref(ms2, 2);
	ok(sl_value_equal(&obj, &obj2),
	   "objects compare as maps (order, shadowed duplicates, number "
	   "forms)");
	ms2[1].val = sl_double(36.5);
	ok(!sl_value_equal(&obj, &obj2), "a different value differs");
	struct sl_value i1 = sl_int(2), d1 = sl_double(2.0);
	ok(sl_value_equal(&i1, &d1), "2 equals 2.0");
	struct sl_value s1 = sl_str_ref("2", 1);
	ok(!sl_value_equal(&i1, &s1), "2 differs from \"2\"");
	struct sl_value arr1[2] = {sl_int(1), sl_null()};
	struct sl_value arr2[2] = {sl_int(1), sl_bool(false)};
	struct sl_value a1 = sl_array_ref(arr1, 2), a2 = sl_array_ref(arr2, 2);
	ok(!sl_value_equal(&a1, &a2), "arrays compare item by item");

	struct sl_value s;
	ok(sl_str_copy(&a, "hello", 5, &s) == 0 && s.len == 5 &&
	           memcmp(s.u.s, "hello", 5) == 0,
	   "str_copy");
	struct sl_arena tiny;
	sl_arena_create(&tiny, 256, 300);
	char big[400] = {0};
	ok(sl_str_copy(&tiny, big, sizeof(big), &s) == -1, "copy past the "
	                                                   "arena cap fails");
	is_err(SL_ELIMIT, "with ELIMIT");
	sl_arena_destroy(&tiny);
	sl_arena_destroy(&a);
}

/**
 * sl_key_eq() is memcmp() == 0 at every length up to 40 with a difference
 * at every position, and sl_str_copy() copies every such length exactly,
 * from odd addresses, touching no byte outside the copy.
 */
TAP_CASE(short_keys)
{
	char x[48], y[48];
	for (size_t i = 0; i < sizeof(x); i++)
		x[i] = y[i] = (char)('a' + i % 26);
	int bad = 0;
	for (size_t n = 0; n <= 40; n++) {
		if (!sl_key_eq(x + 1, y + 1, n))
			bad++;
		for (size_t at = 0; at < n; at++) {
			y[1 + at] ^= 0x40;
			if (sl_key_eq(x + 1, y + 1, n))
				bad++;
			y[1 + at] ^= 0x40;
		}
	}
	is_int(bad, 0, "sl_key_eq agrees with memcmp");
	struct sl_member ms[3] = {
	        {"abcdefghij", 10, sl_int(1)},
	        {"abcdefghiJ", 10, sl_int(2)},
	        {"Abcdefghij", 10, sl_int(3)},
	};
	struct sl_value obj = sl_object_ref(ms, 3);
	const struct sl_value *v = sl_object_get(&obj, "abcdefghij", 10);
	ok(v != NULL && v->u.i == 1,
	   "keys differing in the first or last byte do not match");

	struct sl_arena a;
	sl_arena_create(&a, 4096, 1 << 20);
	bad = 0;
	struct sl_value strs[41], nums[41];
	for (size_t n = 0; n <= 40; n++) {
		struct sl_value num = sl_number_ref(x + 1, (uint32_t)n);
		if (sl_str_copy(&a, x + 1, n, &strs[n]) != 0 ||
		    sl_value_copy(&a, &num, &nums[n]) != 0)
			bad++;
	}
	/* Checked after all: a copy writing outside its bytes would have
	 * changed one copied before it. */
	for (size_t n = 0; n <= 40 && bad == 0; n++)
		if (strs[n].type != SL_VSTR || strs[n].len != n ||
		    nums[n].type != SL_VNUMBER || nums[n].len != n ||
		    (n > 0 && (memcmp(strs[n].u.s, x + 1, n) != 0 ||
		               memcmp(nums[n].u.s, x + 1, n) != 0)))
			bad++;
	is_int(bad, 0, "short strings copy exactly");
	sl_arena_destroy(&a);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
