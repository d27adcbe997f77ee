/*
 * Python semantics of values (interp/pyval), str.format (interp/pyfmt)
 * and normalizers (interp/norm). Every expected text here is what
 * CPython 3 prints for the same value.
 */
#include <string.h>

#include "interp/norm.h"
#include "interp/pyfmt.h"
#include "interp/pyval.h"
#include "sluice/alloc.h"
#include "sluice/json.h"
#include "sluice/jsonread.h"
#include "unit.h"
#include "doubling.h"

/** Scratch memory for the checks. */
static struct sl_arena arena;

/** Parse JSON text into a value (test inputs are valid). */
static struct sl_value
J(const char *json) {
	struct sl_value v;
	if (sl_json_parse(json, strlen(json), &arena, NULL, NULL, &v) != 0)
		bail_out("bad test JSON: %s", json);
	return v;
}

/** str() or repr() of `v` compared with `want`. */
static void
check_text(struct sl_value v, bool repr, const char *want)
{
	struct sl_buf b;
	sl_buf_create(&b, 1 << 20);
	int rc = repr ? sl_py_repr(&v, &b) : sl_py_str(&v, &b);
	const char *got = rc == 0 && b.data != NULL ? b.data : "(failed)";
	is_str(got, want, "%s", repr ? "repr" : "str");
	sl_buf_destroy(&b);
}

/** Python's str() and repr(). */
TAP_CASE(text)
{
	static const struct {
		/** The double. */
		double d;
		/** repr() in CPython. */
		const char *want;
	} floats[] = {
	        {1.0, "1.0"},
	        {0.1, "0.1"},
	        {1e16, "1e+16"},
	        {1e15, "1000000000000000.0"},
	        {1.5e-5, "1.5e-05"},
	        {0.0001, "0.0001"},
	        {123456789012345678.0, "1.2345678901234568e+17"},
	        {-2.5, "-2.5"},
	        {1e-7, "1e-07"},
	        {3.14159, "3.14159"},
	        {1e22, "1e+22"},
	        {5e-324, "5e-324"},
	        {9007199254740992.0, "9007199254740992.0"},
	        {-0.0, "-0.0"},
	};
	for (size_t i = 0; i < sizeof(floats) / sizeof(floats[0]); i++)
		check_text(sl_double(floats[i].d), false, floats[i].want);
	check_text(sl_str_ref("it's", 4), true, "\"it's\"");
	check_text(sl_str_ref("a\"b", 3), true, "'a\"b'");
	check_text(sl_str_ref("x\ny\\", 4), true, "'x\\ny\\\\'");
	check_text(J("[1,\"a\",null,true,{\"k\":2.0}]"), false,
	           "[1, 'a', None, True, {'k': 2.0}]");
	check_text(J("12345678901234567890123"), false,
	           "12345678901234567890123");
	check_text(J("2.50"), false, "2.5");
	check_text(sl_bool(false), false, "False");
	check_text(sl_null(), false, "None");
}

/** Format `fmt` with the named values, compared with `want`. */
static void
check_format(const char *fmt, const char *const *names, const char *json,
             const char *want)
{
	struct sl_value arr = J(json);
	uint32_t lens[16];
	for (uint32_t i = 0; i < arr.len; i++)
		lens[i] = (uint32_t)strlen(names[i]);
	struct sl_pyfmt *f = sl_pyfmt_parse(fmt, strlen(fmt));
	struct sl_value out = sl_null();
	int rc = f != NULL ? sl_pyfmt_format(f, names, lens, arr.u.items,
	                                     arr.len, &arena, &out)
	                   : -1;
	if (want == NULL) {
		ok(rc != 0, "'%s' fails: %s", fmt, unit_errmsg());
	} else {
		char got[512];
		snprintf(got, sizeof(got), "%.*s", (int)out.len,
		         out.type == SL_VSTR ? out.u.s : "");
		is_str(rc == 0 ? got : unit_errmsg(), want, "format '%s'", fmt);
	}
	sl_pyfmt_delete(f);
	sl_diag_clear(sl_diag_get());
}

/**
 * Floats wider than any fixed buffer: the largest double with 300 digits
 * after the point, and grouped, as Python writes them.
 */
static void
test_format_wide_floats(void)
{
	static const char *const n[] = {"a"};
	static const uint32_t lens[] = {1};
	struct sl_value v = sl_double(1.7976931348623157e308), out;
	struct sl_pyfmt *f = sl_pyfmt_parse("{a:.300f}|{a:,.1f}", 18);
	int rc = sl_pyfmt_format(f, n, lens, &v, 1, &arena, &out);
	/* 309 digits, the point and 300 decimals; then 309 digits with 102
	 * separators and one decimal. */
	ok(rc == 0 && out.len == 610 + 1 + 309 + 102 + 2 &&
	           memcmp(out.u.s, "17976931348623157081", 20) == 0 &&
	           memcmp(out.u.s + 611, "179,769,313,486,231,570,814", 27) ==
	                   0 &&
	           memcmp(out.u.s + out.len - 4, "68.0", 4) == 0,
	   "a float of 610 characters, and grouped (%u bytes)", out.len);
	sl_pyfmt_delete(f);
}

/** str.format() with named fields. */
TAP_CASE(format)
{
	static const char *const n[] = {"a", "b", "c", "d", "e", "f", "g",
	                                "h", "i", "j", "k", "l", "m"};
	check_format("{a:>6}|{b:<5}|{c:^7}|{d:08.3f}|{e:+d}|{f:,}|{g:x}|"
	             "{h:#b}|{i:.2%}|{j:e}|{k:.3}|{l!r}|{m:*^9}",
	             n,
	             "[\"ab\",1,\"mid\",-3.14159,5,1234567,255,5,0.256,"
	             "12345.678,\"abcdef\",\"q\",\"x\"]",
	             "    ab|1    |  mid  |-003.142|+5|1,234,567|ff|0b101|"
	             "25.60%|1.234568e+04|abc|'q'|****x****");
	check_format("{a:g}|{b:.3g}|{c:10.2f}|{d}", n,
	             "[1e-05,1234.5,2.5,1.5e16]",
	             "1e-05|1.23e+03|      2.50|1.5e+16");
	check_format("{{literal}} {a}{a}", n, "[\"é\"]", "{literal} éé");
	check_format("{a:>3}", n, "[\"é\"]", "  é");
	check_format("{a:d}", n, "[\"x\"]", NULL);
	check_format("{a:s}", n, "[5]", NULL);
	check_format("{a:.2}", n, "[5]", NULL);
	check_format("{z}", n, "[1]", NULL);
	check_format(
	        "{a:,.2f}|{b:.350f}", n, "[1e30,0.5]",
	        "1,000,000,000,000,000,019,884,624,838,656.00|0.500000000"
	        "000000000000000000000000000000000000000000000000000000000000"
	        "000000000000000000000000000000000000000000000000000000000000"
	        "000000000000000000000000000000000000000000000000000000000000"
	        "000000000000000000000000000000000000000000000000000000000000"
	        "000000000000000000000000000000000000000000000000000000000000"
	        "00000000000000000000000000000000000000000");
	check_format("{a:%}|{b:%}", n, "[1.7976931348623157e308,-1e400]",
	             "inf%|-inf%");
	test_format_wide_floats();
	ok(sl_pyfmt_parse("{}", 2) == NULL &&
	           strstr(unit_errmsg(), "positional") != NULL,
	   "positional fields are refused");
	ok(sl_pyfmt_parse("{a.b}", 5) == NULL, "attribute lookups are refused");
	ok(sl_pyfmt_parse("x}", 2) == NULL &&
	           strstr(unit_errmsg(), "single '}'") != NULL,
	   "a single } is refused");
	ok(sl_pyfmt_parse("{a", 2) == NULL, "an open field is refused");
	ok(sl_pyfmt_parse("{a:99999}", 9) == NULL, "huge widths are refused");
	struct sl_pyfmt *f = sl_pyfmt_parse("x{a}y{b}", 8);
	const char *name;
	size_t len;
	ok(f != NULL && sl_pyfmt_nfields(f) == 2, "two fields");
	sl_pyfmt_field(f, 1, &name, &len);
	ok(len == 1 && name[0] == 'b', "named b");
	sl_pyfmt_delete(f);
	sl_diag_clear(sl_diag_get());
}

/** Cast `json` to `to`; compare the canonical JSON of the result. */
static void
check_cast(enum sl_py_cast to, const char *json, const char *want)
{
	struct sl_value v = J(json), out;
	int rc = sl_py_cast(to, &v, &arena, &out);
	if (want == NULL) {
		ok(rc != 0 && sl_diag_code() == SL_EINVAL, "cast %s fails: %s",
		   json, unit_errmsg());
		sl_diag_clear(sl_diag_get());
		return;
	}
	struct sl_buf b;
	sl_buf_create(&b, 4096);
	if (rc == 0)
		sl_json_write(&b, &out, 0);
	is_str(rc == 0 && b.data ? b.data : unit_errmsg(), want, "cast %s",
	       json);
	sl_buf_destroy(&b);
}

/** The !cast constructors. */
TAP_CASE(casts)
{
	check_cast(SL_PY_INT, "\" 42 \"", "42");
	check_cast(SL_PY_INT, "\"-1_000\"", "-1000");
	check_cast(SL_PY_INT, "\"1__0\"", NULL);
	check_cast(SL_PY_INT, "\"_1\"", NULL);
	check_cast(SL_PY_INT, "\"3.5\"", NULL);
	check_cast(SL_PY_INT, "\"\"", NULL);
	check_cast(SL_PY_INT, "3.99", "3");
	check_cast(SL_PY_INT, "-3.99", "-3");
	check_cast(SL_PY_INT, "true", "1");
	check_cast(SL_PY_INT, "null", NULL);
	check_cast(SL_PY_INT, "[1]", NULL);
	check_cast(SL_PY_INT, "\"123456789012345678901\"",
	           "123456789012345678901");
	check_cast(SL_PY_INT, "1e20", "100000000000000000000");
	check_cast(SL_PY_FLOAT, "\" 1.5 \"", "1.5");
	check_cast(SL_PY_FLOAT, "\"1e3\"", "1000.0");
	check_cast(SL_PY_FLOAT, "\"0x10\"", NULL);
	check_cast(SL_PY_FLOAT, "\"abc\"", NULL);
	check_cast(SL_PY_FLOAT, "2", "2.0");
	check_cast(SL_PY_STR, "2.0", "\"2.0\"");
	check_cast(SL_PY_STR, "null", "\"None\"");
	check_cast(SL_PY_STR, "{\"a\":[1]}", "\"{'a': [1]}\"");
	check_cast(SL_PY_BOOL, "\"false\"", "true");
	check_cast(SL_PY_BOOL, "0", "false");
	check_cast(SL_PY_BOOL, "[]", "false");
	check_cast(SL_PY_DECIMAL, "\"  +01.50 \"", "1.50");
	check_cast(SL_PY_DECIMAL, "\".5e-3\"", "0.5e-3");
	check_cast(SL_PY_DECIMAL, "\"1.\"", "1");
	check_cast(SL_PY_DECIMAL, "\"one\"", NULL);
	/* bytes(v), as an array of integers; Python's messages. */
	is_int(sl_py_cast_by_name("bytes"), SL_PY_BYTES, "bytes is a cast");
	check_cast(SL_PY_BYTES, "[104, 105, 0, 255]", "[104,105,0,255]");
	check_cast(SL_PY_BYTES, "3", "[0,0,0]");
	check_cast(SL_PY_BYTES, "true", "[0]");
	check_cast(SL_PY_BYTES, "{}", "[]");
	static const char *const bad[][2] = {
	        {"\"hi\"", "string argument without an encoding"},
	        {"-1", "negative count"},
	        {"[256]", "bytes must be in range(0, 256)"},
	        {"[1.5]", "'float' object cannot be interpreted as an integer"},
	        {"[\"a\"]", "'str' object cannot be interpreted as an integer"},
	        {"{\"a\": 1}",
	         "'str' object cannot be interpreted as an integer"},
	        {"null", "cannot convert 'NoneType' object to bytes"},
	        {"2.5", "cannot convert 'float' object to bytes"}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_value v = J(bad[i][0]), out;
		ok(sl_py_cast(SL_PY_BYTES, &v, &arena, &out) != 0 &&
		           strcmp(unit_errmsg(), bad[i][1]) == 0,
		   "bytes(%s) fails as Python says: %s", bad[i][0],
		   unit_errmsg());
		sl_diag_clear(sl_diag_get());
	}
	struct sl_value huge = J("100000000000");
	struct sl_value out;
	ok(sl_py_cast(SL_PY_BYTES, &huge, &arena, &out) != 0 &&
	           sl_diag_code() == SL_ELIMIT,
	   "bytes(10**11) is refused: %s", unit_errmsg());
	sl_diag_clear(sl_diag_get());
	is_int(sl_py_cast_by_name("decimal"), SL_PY_DECIMAL, "decimal is");
}

/** ==, <, `in` and truthiness. */
TAP_CASE(operators)
{
	struct sl_value one = J("1"), onef = J("1.0"), t = sl_bool(true);
	struct sl_value s1 = J("\"1\"");
	ok(sl_py_equal(&one, &onef) && sl_py_equal(&one, &t),
	   "1 == 1.0 == True");
	ok(!sl_py_equal(&one, &s1), "1 != '1'");
	struct sl_value a = J("{\"x\":[1,2],\"y\":null}");
	struct sl_value b = J("{\"y\":null,\"x\":[1.0,2]}");
	ok(sl_py_equal(&a, &b), "dicts compare unordered, deeply");
	int cmp;
	struct sl_value abc = J("\"abc\""), abd = J("\"abd\""),
	                ab = J("\"ab\"");
	ok(sl_py_compare(&abc, &abd, "<", &cmp) == 0 && cmp < 0,
	   "'abc' < 'abd'");
	ok(sl_py_compare(&abc, &ab, ">", &cmp) == 0 && cmp > 0, "'abc' > 'ab'");
	struct sl_value l1 = J("[1,\"b\"]"), l2 = J("[1,\"c\"]");
	ok(sl_py_compare(&l1, &l2, "<", &cmp) == 0 && cmp < 0,
	   "lists compare item by item");
	ok(sl_py_compare(&abc, &one, ">", &cmp) != 0 &&
	           strcmp(unit_errmsg(), "'>' not supported between "
	                                 "instances of 'str' and 'int'") == 0,
	   "str > int fails as in Python");
	struct sl_value n = sl_null();
	ok(sl_py_compare(&n, &one, "<", &cmp) != 0, "None < 1 fails");
	bool in;
	struct sl_value hello = J("\"hello\""), ell = J("\"ell\"");
	ok(sl_py_contains(&hello, &ell, &in) == 0 && in, "'ell' in 'hello'");
	ok(sl_py_contains(&hello, &one, &in) != 0 &&
	           strstr(unit_errmsg(), "requires string as left operand") !=
	                   NULL,
	   "1 in 'hello' fails");
	struct sl_value list = J("[1,\"x\"]");
	ok(sl_py_contains(&list, &onef, &in) == 0 && in, "1.0 in [1, 'x']");
	struct sl_value x = J("\"x\"");
	ok(sl_py_contains(&a, &x, &in) == 0 && in, "'x' in dict");
	ok(sl_py_contains(&one, &one, &in) != 0 &&
	           strstr(unit_errmsg(), "not iterable") != NULL,
	   "1 in 1 fails");
	struct sl_value empty = J("\"\""), zero = J("0.0"), szero = J("\"0\"");
	struct sl_value eo = J("{}"), five = J("5"), fivef = J("5.5");
	ok(!sl_py_truthy(&n) && !sl_py_truthy(&empty) && !sl_py_truthy(&zero) &&
	           sl_py_truthy(&szero) && !sl_py_truthy(&eo),
	   "truthiness as Python's");
	is_str(sl_py_type(&five), "int", "type names: int");
	is_str(sl_py_type(&fivef), "float", "float");
	sl_diag_clear(sl_diag_get());
}

/** Normalize `s` with `nm`; compare. */
static void
check_norm(const struct sl_norm *nm, const char *s, const char *want,
           const char *name)
{
	struct sl_value v = sl_str_ref(s, (uint32_t)strlen(s));
	int rc = sl_norm_apply(nm, &v, &arena);
	char got[256];
	snprintf(got, sizeof(got), "%.*s", (int)v.len, v.u.s);
	is_str(rc == 0 ? got : "(failed)", want, "%s", name);
}

/** Normalizers and their flags. */
TAP_CASE(norm)
{
	struct sl_norm lower = {.ops = {SL_NORM_LOWER}, .n = 1};
	check_norm(&lower, "ÀÉÎ Ünïcode ΣΑΣ", "àéî ünïcode σασ",
	           "lowercase maps Unicode letters");
	struct sl_norm up = {.ops = {SL_NORM_UPPER}, .n = 1};
	check_norm(&up, "abc déf", "ABC DÉF", "uppercase");
	struct sl_norm both = {.ops = {SL_NORM_TRIM, SL_NORM_TRAILING_DOTS},
	                       .n = 2};
	check_norm(&both, "\u3000 host.example... \t", "host.example",
	           "trim then trailing dots");
	struct sl_value num = sl_int(5);
	ok(sl_norm_apply(&lower, &num, &arena) == 0 && num.type == SL_VINT &&
	           num.u.i == 5,
	   "non-strings pass through");
	is_int(sl_norm_by_alias("trim_whitespace", 15), SL_NORM_TRIM,
	       "aliases name normalizers");
	is_int(sl_norm_by_alias("trim", 4), 0, "unknown aliases are 0");
	/* A flag turned off in the override keeps the others in order. */
	const char *flags = "{do_trim_whitespace: true, do_lowercase_strings: "
	                    "false, do_remove_trailing_dots: true}";
	struct sl_conf_doc *d = sl_conf_load(flags, strlen(flags), "n.yaml");
	struct sl_norm out;
	ok(d != NULL &&
	           sl_norm_parse(sl_conf_root(d), &lower, "n", &out) == 0 &&
	           out.n == 2 && out.ops[0] == SL_NORM_TRIM &&
	           out.ops[1] == SL_NORM_TRAILING_DOTS,
	   "flags override the defaults, in order");
	sl_conf_doc_delete(d);
	d = sl_conf_load("{do_it: true}", 13, "n.yaml");
	ok(d != NULL && sl_norm_parse(sl_conf_root(d), NULL, "n", &out) != 0 &&
	           strstr(unit_errmsg(), "n.yaml:1:2: n: unknown "
	                                 "normalization flag 'do_it'") != NULL,
	   "unknown flags are errors at their position");
	sl_conf_doc_delete(d);
	d = sl_conf_load("{do_trim_whitespace: maybe}", 27, "n.yaml");
	ok(d != NULL && sl_norm_parse(sl_conf_root(d), NULL, "n", &out) != 0,
	   "a flag must be a boolean");
	sl_conf_doc_delete(d);
	sl_diag_clear(sl_diag_get());
}

/**
 * The ASCII fast path of case mapping (8 bytes at a time) against a byte
 * by byte reference: every length up to 40, letters at the edges of the
 * ranges and their neighbours ('@' '[' '`' '{'), a non-ASCII byte at
 * every position, and unchanged strings kept in place.
 */
TAP_CASE(norm_ascii)
{
	static const char alphabet[] = "@AZ[`az{ 0mM~\x7f";
	struct sl_norm lower = {.ops = {SL_NORM_LOWER}, .n = 1};
	struct sl_norm up = {.ops = {SL_NORM_UPPER}, .n = 1};
	unsigned seed = 12345;
	int bad = 0, moved = 0;
	char s[48], want[48];
	for (int round = 0; round < 400; round++)
		for (size_t n = 0; n <= 40; n++) {
			for (size_t i = 0; i < n; i++) {
				seed = seed * 1103515245u + 12345u;
				s[i] = alphabet[(seed >> 16) %
				                (sizeof(alphabet) - 1)];
			}
			for (int u = 0; u < 2; u++) {
				bool changed = false;
				for (size_t i = 0; i < n; i++) {
					char c = s[i];
					if (!u && c >= 'A' && c <= 'Z')
						c = (char)(c + 32);
					if (u && c >= 'a' && c <= 'z')
						c = (char)(c - 32);
					changed |= c != s[i];
					want[i] = c;
				}
				struct sl_value v = sl_str_ref(s, (uint32_t)n);
				if (sl_norm_apply(u ? &up : &lower, &v,
				                  &arena) != 0 ||
				    v.len != n ||
				    (n > 0 && memcmp(v.u.s, want, n) != 0))
					bad++;
				if (!changed && v.u.s != s)
					moved++;
			}
		}
	is_int(bad, 0, "ASCII case mapping matches byte by byte");
	is_int(moved, 0, "a string with nothing to map is not copied");
	/* A non-ASCII character anywhere takes the Unicode path. */
	bad = 0;
	for (size_t at = 0; at < 20; at++) {
		char in[32], exp[32];
		memset(in, 'A', 21);
		memset(exp, 'a', 21);
		memcpy(in + at, "\xc3\x89", 2);  /* É */
		memcpy(exp + at, "\xc3\xa9", 2); /* é */
		struct sl_value v = sl_str_ref(in, 21);
		if (sl_norm_apply(&lower, &v, &arena) != 0 || v.len != 21 ||
		    memcmp(v.u.s, exp, 21) != 0)
			bad++;
	}
	is_int(bad, 0, "non-ASCII at any position maps as Unicode");
	struct sl_norm trim = {.ops = {SL_NORM_TRIM}, .n = 1};
	check_norm(&trim, " \t\n\x0b\x0c\r a b \x1c\x1d\x1e\x1f ", "a b",
	           "trim strips ASCII whitespace as str.strip()");
	check_norm(&trim, " \t ", "", "a blank string trims to nothing");
	check_norm(&trim, "\x1b x \x7f", "\x1b x \x7f",
	           "ESC and DEL are not whitespace");
	check_norm(&trim, " \xc2\xa0x\xe3\x80\x80 ", "x",
	           "ASCII and Unicode whitespace mixed at both ends");
}

/**
 * Defect #4's kin: str() casts and !format build text in buffers capped
 * at what the record's arena can still hold, not at 4 GiB (str) or
 * 16 MiB regardless of the record (format).
 */
TAP_CASE(record_cap)
{
	struct sl_arena a;
	/* 2^17 x 1 KiB = 128 MiB of text, from a few KiB. */
	struct sl_value big = doubling(&arena, 1024, 17), out;
	sl_arena_create(&a, 4096, 1 << 20);
	int rc = sl_py_cast(SL_PY_STR, &big, &a, &out);
	ok(rc == -1 && sl_diag_code() == SL_ELIMIT &&
	           strstr(unit_errmsg(), "str()") != NULL &&
	           strstr(unit_errmsg(), "1 MiB a record may use") != NULL,
	   "str() past the arena's room: %s", unit_errmsg());
	sl_diag_clear(sl_diag_get());

	/* Text longer than its value (escapes): the buffer's cap stops it. */
	char *ctl = sl_arena_alloc(&arena, 300 << 10);
	memset(ctl, 1, 300 << 10);
	struct sl_value item = sl_str_ref(ctl, 300 << 10);
	struct sl_value list = sl_array_ref(&item, 1);
	rc = sl_py_cast(SL_PY_STR, &list, &a, &out);
	ok(rc == -1 && sl_diag_code() == SL_ELIMIT &&
	           strstr(unit_errmsg(), "str()") != NULL,
	   "str() of 300 KiB of \\x01 (1.2 MiB of repr): %s", unit_errmsg());
	sl_diag_clear(sl_diag_get());

	static const char *const n[] = {"a"};
	static const uint32_t lens[] = {1};
	struct sl_pyfmt *f = sl_pyfmt_parse("<{a}>", 5);
	rc = sl_pyfmt_format(f, n, lens, &big, 1, &a, &out);
	ok(rc == -1 && sl_diag_code() == SL_ELIMIT &&
	           strstr(unit_errmsg(), "!format") != NULL &&
	           strstr(unit_errmsg(), "a record may use") != NULL,
	   "!format past the arena's room: %s", unit_errmsg());
	sl_diag_clear(sl_diag_get());

	/* What is used counts: 512 KiB of text fits once, not twice. */
	struct sl_value mid = doubling(&arena, 1024, 9);
	rc = sl_py_cast(SL_PY_STR, &mid, &a, &out);
	ok(rc == 0 && out.len > (512u << 10),
	   "str() of 512 KiB fits a 1 MiB arena");
	rc = sl_pyfmt_format(f, n, lens, &mid, 1, &a, &out);
	ok(rc == -1 && sl_diag_code() == SL_ELIMIT,
	   "but !format of it no longer does: %s", unit_errmsg());
	sl_diag_clear(sl_diag_get());
	sl_arena_destroy(&a);
	sl_arena_create(&a, 4096, 1 << 20);
	rc = sl_pyfmt_format(f, n, lens, &mid, 1, &a, &out);
	ok(rc == 0 && out.len > (512u << 10), "but does in a fresh arena");
	sl_pyfmt_delete(f);
	sl_arena_destroy(&a);
}

/** Create the arena the cases allocate from. */
static int
setup(void)
{
	sl_arena_create(&arena, 4096, 1 << 24);
	return 0;
}

/** Free the arena. */
static void
teardown(void)
{
	sl_arena_destroy(&arena);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main_fixture(argc, argv, setup, teardown);
}
