/*
 * The JSON reader: values (with Python's NaN, Infinity and -Infinity),
 * strict rejections with positioned messages,
 * nesting limits, and the JSON-lines reader over sources that split the
 * input anywhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/arena.h"
#include "sluice/jsonread.h"
#include "memsource.h"
#include "text.h"
#include "unit.h"

static void
put_str(struct text *o, const char *s, size_t n)
{
	text_put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
			char b[8];
			snprintf(b, sizeof(b), "<%02X>", c);
			text_put(o, b, 4);
		} else {
			text_put(o, s + i, 1);
		}
	}
	text_put(o, "\"", 1);
}

/** Write `v` compactly, members in order, non-ASCII bytes as <HH>. */
static void
dump(struct text *o, const struct sl_value *v)
{
	switch (v->type) {
	case SL_VNULL:
		text_put(o, "null", 4);
		break;
	case SL_VBOOL:
		text_put(o, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
		break;
	case SL_VDOUBLE: {
		char b[40];
		int n = snprintf(b, sizeof(b), "d:%g", v->u.d);
		text_put(o, b, (size_t)n);
		break;
	}
	case SL_VNUMBER:
		text_put(o, "#", 1);
		text_put(o, v->u.s, v->len);
		break;
	case SL_VSTR:
		put_str(o, v->u.s, v->len);
		break;
	case SL_VARRAY:
		text_put(o, "[", 1);
		for (uint32_t i = 0; i < v->len; i++) {
			if (i > 0)
				text_put(o, ",", 1);
			dump(o, &v->u.items[i]);
		}
		text_put(o, "]", 1);
		break;
	case SL_VOBJECT:
		text_put(o, "{", 1);
		for (uint32_t i = 0; i < v->len; i++) {
			if (i > 0)
				text_put(o, ",", 1);
			put_str(o, v->u.members[i].key,
			        v->u.members[i].key_len);
			text_put(o, ":", 1);
			dump(o, &v->u.members[i].val);
		}
		text_put(o, "}", 1);
		break;
	default:
		text_put(o, "?", 1);
	}
}

static struct sl_arena arena;

/** Parse `json` (n bytes) and return its dump, or "ERR: <message>". */
static char *
parse_n(const char *json, size_t n, const struct sl_json_opts *opts)
{
	struct text o = {0};
	struct sl_value v;
	sl_arena_reset(&arena);
	if (sl_json_parse(json, n, &arena, opts, NULL, &v) < 0) {
		text_put(&o, "ERR: ", 5);
		text_put(&o, unit_errmsg(), strlen(unit_errmsg()));
	} else {
		dump(&o, &v);
	}
	return o.s;
}

/** `json` (n bytes) for a test name: bytes outside ASCII as '.'. */
static const char *
label(const char *json, size_t n)
{
	static char b[48];
	size_t i = 0;
	for (; i < n && i < sizeof(b) - 1; i++)
		b[i] = json[i] >= 0x20 && json[i] < 0x7F ? json[i] : '.';
	b[i] = '\0';
	return b;
}

static void
check_parse(const char *json, const char *want)
{
	char *got = parse_n(json, strlen(json), NULL);
	is_str(got, want, "parse %s", label(json, strlen(json)));
	free(got);
}

static void
check_error(const char *json, size_t n, const char *want)
{
	char *got = parse_n(json, n, NULL);
	bool good = strncmp(got, "ERR: ", 5) == 0 && strstr(got, want) != NULL;
	if (!ok(good, "reject %s: %s", label(json, n), want))
		note("got %s", got);
	if (good)
		ok(sl_diag_code() == SL_EPARSE, "  ... as SL_EPARSE");
	free(got);
}

#define check_error_s(json, want) check_error(json, sizeof(json) - 1, want)

/** The values checks. */
TAP_CASE(values)
{
	check_parse("null", "null");
	check_parse(" \t\r\ntrue \n", "true");
	check_parse("false", "false");
	check_parse("0", "#0");
	check_parse("-0", "#-0");
	check_parse("-12.5e+3", "#-12.5e+3");
	check_parse("1E-7", "#1E-7");
	check_parse("123456789012345678901234567890",
	            "#123456789012345678901234567890");
	check_parse("\"\"", "\"\"");
	check_parse("\"abc\"", "\"abc\"");
	check_parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
	            "\"a<22>b<5C>c/d<08><0C><0A><0D><09>\"");
	check_parse("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"",
	            "\"A<C3><A9><E2><82><AC><F0><9F><98><80>\"");
	check_parse("\"\\u0000\"", "\"<00>\"");
	check_parse("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
	            "\"<C3><A9><E2><82><AC><F0><9F><98><80>\"");
	check_parse("\"a long string with no escapes, longer than sixteen\"",
	            "\"a long string with no escapes, longer than sixteen\"");
	check_parse("\"0123456789abcdef\\n0123456789abcdef\xc3\xa9x\"",
	            "\"0123456789abcdef<0A>0123456789abcdef<C3><A9>x\"");
	check_parse("[]", "[]");
	check_parse("{}", "{}");
	check_parse("[ ]", "[]");
	check_parse("{ }", "{}");
	check_parse("[1,[2,[3,{}]],[]]", "[#1,[#2,[#3,{}]],[]]");
	check_parse("{\"a\":1,\"b\":{\"c\":[true,null]},\"d\":\"x\"}",
	            "{\"a\":#1,\"b\":{\"c\":[true,null]},\"d\":\"x\"}");
	check_parse("{\"k\":1,\"k\":2}", "{\"k\":#1,\"k\":#2}");
	check_parse(" { \"a\" : [ 1 , 2 ] , \"b\" : { } } ",
	            "{\"a\":[#1,#2],\"b\":{}}");

	/* An embedded NUL before the end is not whitespace. */
	check_error("1\0", 2, "unexpected data after the JSON value");

	/* Values outlive the input buffer (everything is in the arena). */
	char buf[] = "{\"key\":[\"str\",1.5]}";
	struct sl_value v;
	sl_arena_reset(&arena);
	int rc = sl_json_parse(buf, strlen(buf), &arena, NULL, NULL, &v);
	memset(buf, 'x', strlen(buf));
	struct text o = {0};
	dump(&o, &v);
	ok(rc == 0, "parse into the arena");
	is_str(o.s, "{\"key\":[\"str\",#1.5]}", "values do not refer to input");
	free(o.s);
}

/** The errors checks. */
TAP_CASE(errors)
{
	check_error_s("", "1:1: unexpected end of input: expected a value");
	check_error_s("   ", "1:4: unexpected end of input: expected a value");
	check_error_s("[1,2,]", "1:6: expected a value");
	check_error_s("{\"a\":1,}", "1:8: expected a string key");
	check_error_s("{\"a\" 1}", "1:6: expected ':' after an object key");
	check_error_s("{1:2}", "1:2: expected a string key");
	check_error_s("{'a':2}", "1:2: expected a string key");
	check_error_s("[1 2]",
	              "1:4: expected ',' or ']' after an array element");
	check_error_s("{\"a\":1\n  \"b\":2}",
	              "2:3: expected ',' or '}' after an object member");
	check_error_s("[1,\n\n  2 x]",
	              "3:5: expected ',' or ']' after an array element");
	check_error_s("[1,2",
	              "1:5: unexpected end of input: expected ',' or ']'");
	check_error_s("{\"a\":", "unexpected end of input: expected a value");
	check_error_s("1 2", "1:3: unexpected data after the JSON value");
	check_error_s("[] []", "1:4: unexpected data");
	check_error_s("01", "1:2: leading zeros are not allowed");
	check_error_s("-01", "1:3: leading zeros are not allowed");
	check_error_s("-", "1:2: unexpected end of input: expected a digit");
	check_error_s("-a", "1:2: expected a digit after '-'");
	check_error_s("1.", "expected a digit after the decimal point");
	check_error_s("1.e5", "1:3: expected a digit after the decimal point");
	check_error_s(".5", "1:1: expected a value");
	check_error_s("+1", "1:1: expected a value");
	check_error_s("1e", "expected a digit in the exponent");
	check_error_s("1e+", "expected a digit in the exponent");
	/* Python's json.loads() extensions, as json.dumps() writes them. */
	check_parse("[NaN,Infinity,-Infinity]", "[d:nan,d:inf,d:-inf]");
	check_parse("{\"a\":-Infinity}", "{\"a\":d:-inf}");
	check_error_s("nan", "1:1: expected a value");
	check_error_s("NaNa", "1:4: unexpected data");
	check_error_s("-Inf", "expected a digit after '-'");
	check_error_s("Infinit", "expected a value");
	check_error_s("infinity", "expected a value");
	check_error_s("tru", "1:1: expected a value");
	check_error_s("nul", "expected a value");
	check_error_s("True", "expected a value");
	check_error_s("nulls", "1:5: unexpected data");
	check_error_s("// c\n1", "1:1: expected a value");
	check_error_s("/* c */ 1", "expected a value");
	check_error_s("[1]//", "1:4: unexpected data");
	check_error_s("\"abc", "1:5: unexpected end of input: expected '\"'");
	check_error_s("\"abcdefghijklmnopqrstuvwxyz\\n",
	              "unexpected end of input: expected '\"'");
	check_error_s("\"a\\x\"", "1:3: invalid escape");
	check_error_s("\"a\\'\"", "invalid escape");
	check_error_s("\"a\\", "expected an escape");
	check_error_s("\"\\u12\"", "1:2: expected 4 hex digits");
	check_error_s("\"\\u12G4\"", "expected 4 hex digits");
	check_error_s("\"\\u12",
	              "1:6: unexpected end of input: expected 4 hex");
	check_error_s("\"\\ud800\"",
	              "1:2: high surrogate \\uD800 not followed");
	check_error_s("\"\\ud800\\u0041\"", "high surrogate");
	check_error_s("\"\\ud800\\ud800\"", "high surrogate");
	check_error_s("\"x\\udc00\"", "1:3: lone low surrogate \\uDC00");
	check_error_s("\"a\tb\"", "1:3: control character 0x09 in a string");
	check_error_s("\"a\nb\"", "control character 0x0A");
	check_error_s("\"a\\n\x1f\"", "1:5: control character 0x1F");
	check_error_s("\"\x80\"", "1:2: invalid UTF-8");
	check_error_s("\"\xc0\x80\"", "invalid UTF-8");
	check_error_s("\"\xc1\xbf\"", "invalid UTF-8");
	check_error_s("\"\xe0\x80\x80\"", "invalid UTF-8");
	check_error_s("\"\xed\xa0\x80\"", "invalid UTF-8");
	check_error_s("\"\xf0\x80\x80\x80\"", "invalid UTF-8");
	check_error_s("\"\xf4\x90\x80\x80\"", "invalid UTF-8");
	check_error_s("\"\xf5\x80\x80\x80\"", "invalid UTF-8");
	check_error_s("\"\xc3\"", "invalid UTF-8");
	check_error_s("\"\xe2\x82\"", "invalid UTF-8");
	check_error_s("\"\\n\xe2\x82\"", "invalid UTF-8");
	check_error_s("\"\xff\"", "invalid UTF-8");
	check_error_s("\xef\xbb\xbf{}", "1:1: expected a value");

	struct sl_value v;
	sl_arena_reset(&arena);
	int rc = sl_json_parse("[1,,2]", 6, &arena, NULL, "doc.json", &v);
	ok(rc < 0, "[1,,2] fails");
	is_str(unit_errmsg(), "doc.json:1:4: expected a value",
	       "name prefixes the message");
}

/** The depth checks. */
TAP_CASE(depth)
{
	enum { N = 600 };
	char buf[2 * N + 1];
	for (int i = 0; i < N; i++) {
		buf[i] = '[';
		buf[2 * N - 1 - i] = ']';
	}
	char *got = parse_n(buf + N - 512, 1024, NULL);
	ok(strncmp(got, "[[[[", 4) == 0, "512 levels parse");
	free(got);
	got = parse_n(buf + N - 513, 1026, NULL);
	ok(strstr(got, "1:513: nesting is deeper than the limit of 512") !=
	           NULL,
	   "513 levels fail: %s", got);
	free(got);

	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.depth_max = 2;
	got = parse_n("{\"a\":[1]}", 9, &o);
	is_str(got, "{\"a\":[#1]}", "depth 2 under depth_max 2");
	free(got);
	got = parse_n("{\"a\":[{}]}", 10, &o);
	ok(strstr(got, "1:7: nesting is deeper than the limit of 2") != NULL,
	   "depth 3 fails under depth_max 2: %s", got);
	free(got);
	o.depth_max = 0;
	got = parse_n("1", 1, &o);
	is_str(got, "#1", "scalars under depth_max 0");
	free(got);

	/* Deep nesting of 100,000 levels with a high limit: no recursion. */
	size_t big = 100000;
	char *deep = malloc(6 * big + 16);
	size_t n = 0;
	for (size_t i = 0; i < big; i++) {
		memcpy(deep + n, "{\"a\":", 5);
		n += 5;
	}
	deep[n++] = '1';
	memset(deep + n, '}', big);
	n += big;
	o.depth_max = 200000;
	sl_arena_reset(&arena);
	struct sl_value v;
	int rc = sl_json_parse(deep, n, &arena, &o, NULL, &v);
	const struct sl_value *w = &v;
	size_t levels = 0;
	while (w->type == SL_VOBJECT && w->len == 1) {
		w = &w->u.members[0].val;
		levels++;
	}
	ok(rc == 0 && levels == big && w->type == SL_VNUMBER,
	   "100000 levels with depth_max 200000");
	o.depth_max = 512;
	rc = sl_json_parse(deep, n, &arena, &o, NULL, &v);
	ok(rc < 0 && strstr(unit_errmsg(), "1:2561: nesting is deeper") != NULL,
	   "and fail at 513 with the default: %s", unit_errmsg());
	free(deep);
}

/** The arena cap checks. */
TAP_CASE(arena_cap)
{
	struct sl_arena small;
	sl_arena_create(&small, 256, 1024);
	char doc[4096];
	size_t n = 0;
	doc[n++] = '[';
	for (int i = 0; i < 200; i++)
		n += (size_t)sprintf(doc + n, "%s\"s%d\"", i ? "," : "", i);
	doc[n++] = ']';
	struct sl_value v;
	int rc = sl_json_parse(doc, n, &small, NULL, NULL, &v);
	ok(rc < 0, "arena cap stops a large document");
	is_err(SL_ELIMIT, "  ... with SL_ELIMIT");
	sl_arena_destroy(&small);

	/* Every allocation point of a parse fails cleanly. */
	const char *j = "{\"a\":[1,\"x\\ny\",{\"b\":[[],{}]}],\"c\":\"d\"}";
	int clean = 1, steps = 0;
	for (long k = 0; k < 100; k++) {
		struct sl_arena a2;
		sl_arena_create(&a2, 256, 1 << 20);
		sl_alloc_fail_after(k);
		rc = sl_json_parse(j, strlen(j), &a2, NULL, NULL, &v);
		long left = sl_alloc_faults();
		sl_alloc_fail_after(-1);
		sl_arena_destroy(&a2);
		steps++;
		if (rc == 0)
			break;
		if (sl_diag_code() != SL_EOOM)
			clean = 0;
		(void)left;
	}
	ok(clean && steps > 3, "allocation failures give SL_EOOM (%d points)",
	   steps);
}

/** Longest plain run string_scan_boundaries puts specials in: more than
 * four 16-byte loads and two 32-byte ones. */
#define SCAN_LEN_MAX 72

/** Most spaces before a string in an array there: every position of its
 * start in a 32-byte load. */
#define SCAN_SPACES_MAX 33

/** A byte sequence that needs the string scan's attention. */
struct special {
	/** Its bytes in the JSON text. */
	const char *in;
	/** Its dump, or NULL when it is an error. */
	const char *want;
	/** The error's message after "1:COL: " (COL: where it starts). */
	const char *err;
};

static const struct special specials[] = {
        {"\\\"", "<22>", NULL},
        {"\\\\", "<5C>", NULL},
        {"\\/", "/", NULL},
        {"\\n", "<0A>", NULL},
        {"\\u00e9", "<C3><A9>", NULL},
        {"\\u20AC", "<E2><82><AC>", NULL},
        {"\\ud83d\\ude00", "<F0><9F><98><80>", NULL},
        {"\\u0000", "<00>", NULL},
        {"\xc3\xa9", "<C3><A9>", NULL},
        {"\xf0\x9f\x98\x80", "<F0><9F><98><80>", NULL},
        {"\x7f", "<7F>", NULL},
        {"\x01", NULL,
         "control character 0x01 in a string (it must be escaped)"},
        {"\x1f", NULL,
         "control character 0x1F in a string (it must be escaped)"},
        {"\xff", NULL, "invalid UTF-8 in a string"},
        {"\xc3(", NULL, "invalid UTF-8 in a string"},
        {"\\x", NULL, "invalid escape in a string"},
        {"\\udc00", NULL, "lone low surrogate \\uDC00 in a string"},
};

/** Parse `json` (n bytes) and compare with `want`; note the first miss. */
static void
expect(const char *json, size_t n, const char *want, int *bad)
{
	char *got = parse_n(json, n, NULL);
	if (strcmp(got, want) != 0 && (*bad)++ == 0)
		note("%s: got %s, want %s", label(json, n), got, want);
	free(got);
}

/** Places of the string in string_scan_boundaries. */
enum scan_ctx {
	/** Alone, or in an array after 1 to SCAN_SPACES spaces. */
	SCAN_ARRAY_LAST = SCAN_SPACES_MAX,
	/** The key of an object's first member. */
	SCAN_KEY,
	/** The key of a second member, right after ",". */
	SCAN_KEY2,
	/** A member's value, right after ":". */
	SCAN_MEMBER,
	/** The number of places. */
	SCAN_CTX_N
};

/**
 * Strings of 0 to SCAN_LEN_MAX plain bytes with each special sequence at
 * every position, alone, in an array after 0 to SCAN_SPACES_MAX spaces (so
 * the 16- and 32-byte loads of the scans start at every alignment), as a
 * first and a second key and as a member's value (the compact paths after
 * '{', ',' and ':'): the value or the error and its column are those of a
 * byte-by-byte reading.
 */
TAP_CASE(string_scan_boundaries)
{
#ifdef SL_JSON_PORTABLE
	note("the portable (word at a time) scan");
#elif defined(SL_JSON_NO_AVX)
	note("the SSE2 scan only");
#endif
	int bad = 0, runs = 0;
	char json[256], want[384];
	/* Under valgrind, one context in 8 (the keys and members among
	 * them), and lengths up to one 32-byte load and from two. */
	bool vg = getenv("SLUICE_UNDER_VALGRIND") != NULL;
	size_t sp_step = vg ? 8 : 1;
	for (size_t len = 0; len <= SCAN_LEN_MAX; len++) {
		if (vg && len > 34 && len < 62)
			continue;
		for (size_t pos = 0; pos <= len; pos++) {
			for (size_t k = 0;
			     k < sizeof(specials) / sizeof(*specials); k++) {
				const struct special *sp = &specials[k];
				char body[128], wbody[192];
				size_t bn = 0, wn = 0;
				for (size_t i = 0; i <= len; i++) {
					if (i == pos) {
						size_t m = strlen(sp->in);
						memcpy(body + bn, sp->in, m);
						bn += m;
						if (sp->want != NULL) {
							m = strlen(sp->want);
							memcpy(wbody + wn,
							       sp->want, m);
							wn += m;
						}
					}
					if (i < len) {
						char c = (char)('a' + i % 26);
						body[bn++] = c;
						wbody[wn++] = c;
					}
				}
				wbody[wn] = '\0';
				for (size_t c = 0; c < SCAN_CTX_N; c++) {
					if (c % sp_step != 0 &&
					    c <= SCAN_ARRAY_LAST)
						continue;
					/* The text before the string's opening
					 * quote (or before its first byte for
					 * a key), and after its closing one. */
					static const char *const heads[] = {
					        [SCAN_KEY] = "{",
					        [SCAN_KEY2] = "{\"a\":1,",
					        [SCAN_MEMBER] = "{\"k\":",
					};
					static const char *const tails[] = {
					        [SCAN_KEY] = ":1}",
					        [SCAN_KEY2] = ":1}",
					        [SCAN_MEMBER] = "}",
					};
					size_t n = 0;
					if (c > SCAN_ARRAY_LAST) {
						n = strlen(heads[c]);
						memcpy(json, heads[c], n);
					} else if (c > 0) {
						json[n++] = '[';
						memset(json + n, ' ', c);
						n += c;
					}
					size_t pre = n;
					json[n++] = '"';
					memcpy(json + n, body, bn);
					n += bn;
					json[n++] = '"';
					if (c > SCAN_ARRAY_LAST) {
						size_t m = strlen(tails[c]);
						memcpy(json + n, tails[c], m);
						n += m;
					} else if (c > 0) {
						json[n++] = ']';
					}
					if (sp->want == NULL)
						snprintf(want, sizeof(want),
						         "ERR: 1:%zu: %s",
						         pre + 1 + pos + 1,
						         sp->err);
					else if (c == SCAN_KEY)
						snprintf(want, sizeof(want),
						         "{\"%s\":#1}", wbody);
					else if (c == SCAN_KEY2)
						snprintf(want, sizeof(want),
						         "{\"a\":#1,\"%s\":#1}",
						         wbody);
					else if (c == SCAN_MEMBER)
						snprintf(want, sizeof(want),
						         "{\"k\":\"%s\"}",
						         wbody);
					else
						snprintf(want, sizeof(want),
						         c ? "[\"%s\"]"
						           : "\"%s\"",
						         wbody);
					expect(json, n, want, &bad);
					runs++;
					if (sp->want == NULL ||
					    c > SCAN_ARRAY_LAST)
						continue;
					/* Without its closing quote. */
					n -= c ? 2 : 1;
					snprintf(
					        want, sizeof(want),
					        "ERR: 1:%zu: unexpected end of "
					        "input: expected '\"' to end a "
					        "string",
					        n + 1);
					expect(json, n, want, &bad);
					runs++;
				}
			}
		}
	}
	ok(bad == 0, "%d strings read as byte by byte (%d wrong)", runs, bad);

	/* A backslash as the last byte, after 0 to SCAN_LEN_MAX bytes. */
	bad = 0;
	for (size_t len = 0; len <= SCAN_LEN_MAX; len++) {
		json[0] = '"';
		memset(json + 1, 'x', len);
		json[len + 1] = '\\';
		snprintf(want, sizeof(want),
		         "ERR: 1:%zu: unexpected end of input: expected an "
		         "escape after '\\'",
		         len + 3);
		expect(json, len + 2, want, &bad);
	}
	ok(bad == 0, "a string ending in '\\' at every length");
}

/**
 * Strings with escapes are decoded in place in the document's copy: long
 * mixes of plain runs, escapes and UTF-8; neighbours left intact; error
 * lines and columns still those of the text as given.
 */
TAP_CASE(escapes_in_place)
{
	struct text in = {0}, want = {0};
	text_puts(&in, "[\"");
	text_puts(&want, "[\"");
	for (int i = 0; i < 300; i++) {
		static const char *const ins[] = {
		        "\\n", "\\u00e9", "\\ud83d\\ude00", "\xc3\xa9", "\\\\"};
		static const char *const outs[] = {"<0A>", "<C3><A9>",
		                                   "<F0><9F><98><80>",
		                                   "<C3><A9>", "<5C>"};
		char run[40];
		int m = i % 37;
		for (int j = 0; j < m; j++)
			run[j] = (char)('A' + (i + j) % 26);
		text_put(&in, run, (size_t)m);
		text_put(&want, run, (size_t)m);
		text_puts(&in, ins[i % 5]);
		text_puts(&want, outs[i % 5]);
	}
	text_puts(&in, "\",\"next\\tone\",\"plain\"]");
	text_puts(&want, "\",\"next<09>one\",\"plain\"]");
	char *got = parse_n(in.s, in.n, NULL);
	is_str(got, want.s, "300 runs and escapes, then two neighbours");
	free(got);
	free(in.s);
	free(want.s);

	check_parse("[\"a\\nb\",\"cd\",\"\\u0041\"]",
	            "[\"a<0A>b\",\"cd\",\"A\"]");
	/* The decoded "\n"s are before the error: lines are counted in the
	 * text as given. */
	check_error_s("[\"\\n\\n\\n\", \"a\" x]",
	              "1:16: expected ',' or ']' after an array element");
	check_error_s("{\"k\\n\":\"\\n\\n\",\n \"x\\n\" 1}",
	              "2:8: expected ':' after an object key");
	check_error_s("[\"\\n\",\n\"\\n\\n\"\n x]",
	              "3:2: expected ',' or ']' after an array element");
}

/** Numbers and literals at the end of the text and at the limits. */
TAP_CASE(numbers_and_literals)
{
	static const char *const nums[] = {
	        "0",
	        "-0",
	        "-0.0",
	        "0e0",
	        "0E+0",
	        "1e-0001",
	        "9223372036854775807",
	        "9223372036854775808",
	        "-9223372036854775808",
	        "-9223372036854775809",
	        "18446744073709551615",
	        "18446744073709551616",
	        "1.7976931348623157e308",
	        "1.7976931348623159e308",
	        "4.9e-324",
	        "2.4703282292062327e-324",
	        "1e999",
	        "-1e999",
	        "0.1000000000000000055511151231257827",
	        "123456789012345678901234567890123456789012345678901234567890",
	};
	int bad = 0;
	char json[128], want[160];
	for (size_t i = 0; i < sizeof(nums) / sizeof(*nums); i++) {
		static const char *const ctx[][3] = {
		        {"", "", ""},        {" ", " ", ""},
		        {"[", "]", "["},     {"{\"k\":", "}", "{\"k\":"},
		        {"[ ", " ,1]", "["},
		};
		for (size_t c = 0; c < sizeof(ctx) / sizeof(*ctx); c++) {
			int n = snprintf(json, sizeof(json), "%s%s%s",
			                 ctx[c][0], nums[i], ctx[c][1]);
			const char *close = c == 2   ? "]"
			                    : c == 3 ? "}"
			                    : c == 4 ? ",#1]"
			                             : "";
			snprintf(want, sizeof(want), "%s#%s%s", ctx[c][2],
			         nums[i], close);
			expect(json, (size_t)n, want, &bad);
		}
	}
	/* A 400-digit integer, kept as its text. */
	char big[402];
	memset(big, '7', 400);
	big[400] = '\0';
	char *got = parse_n(big, 400, NULL);
	ok(got[0] == '#' && strcmp(got + 1, big) == 0, "400 digits");
	free(got);

	/* Every prefix of a number and of each literal, at the end. */
	static const struct {
		const char *text;
		const char *want;
	} prefixes[] = {
	        {"-", "ERR: 1:2: unexpected end of input: expected a digit "
	              "after '-'"},
	        {"-1", "#-1"},
	        {"-12", "#-12"},
	        {"-12.", "ERR: 1:5: unexpected end of input: expected a "
	                 "digit after the decimal point"},
	        {"-12.5", "#-12.5"},
	        {"-12.5e", "ERR: 1:7: unexpected end of input: expected a "
	                   "digit in the exponent"},
	        {"-12.5e+", "ERR: 1:8: unexpected end of input: expected a "
	                    "digit in the exponent"},
	        {"-12.5e+3", "#-12.5e+3"},
	        {"t", "ERR: 1:1: expected a value"},
	        {"tru", "ERR: 1:1: expected a value"},
	        {"true", "true"},
	        {"fals", "ERR: 1:1: expected a value"},
	        {"false", "false"},
	        {"n", "ERR: 1:1: expected a value"},
	        {"nul", "ERR: 1:1: expected a value"},
	        {"null", "null"},
	        {"Na", "ERR: 1:1: expected a value"},
	        {"NaN", "d:nan"},
	        {"Infinit", "ERR: 1:1: expected a value"},
	        {"Infinity", "d:inf"},
	        {"-I", "ERR: 1:2: expected a digit after '-'"},
	        {"-Infinit", "ERR: 1:2: expected a digit after '-'"},
	        {"-Infinity", "d:-inf"},
	        {"truex", "ERR: 1:5: unexpected data after the JSON value"},
	        {"-Infinityx",
	         "ERR: 1:10: unexpected data after the JSON value"},
	};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		expect(prefixes[i].text, strlen(prefixes[i].text),
		       prefixes[i].want, &bad);
	ok(bad == 0, "numbers at the limits and prefixes at the end");
}

/**
 * Read all records of `data` with reads of `step` bytes; return the dumps
 * one per line ("L<line> <dump>" or "L<line> ERR <msg>").
 */
static char *
read_all(const char *data, size_t len, size_t step,
         const struct sl_json_opts *opts, size_t *max_ask)
{
	struct memsource m;
	memsource_init(&m, data, len, step);
	struct sl_source src = memsource_source(&m, "in.jsonl");
	struct sl_jsonl_reader *r = sl_jsonl_reader_new(&src, opts);
	struct text o = {0};
	text_put(&o, "", 0);
	for (int guard = 0; guard < 10000; guard++) {
		struct sl_value v;
		sl_arena_reset(&arena);
		int rc = sl_jsonl_next(r, &arena, &v);
		if (rc == 0)
			break;
		char b[64];
		snprintf(b, sizeof(b), "L%llu ",
		         (unsigned long long)sl_jsonl_line(r));
		text_put(&o, b, strlen(b));
		if (rc < 0) {
			text_put(&o, "ERR ", 4);
			text_put(&o, unit_errmsg(), strlen(unit_errmsg()));
			if (sl_diag_code() != SL_EPARSE &&
			    sl_diag_code() != SL_ELIMIT) {
				text_put(&o, "\n", 1);
				break;
			}
		} else {
			dump(&o, &v);
		}
		text_put(&o, "\n", 1);
	}
	if (max_ask != NULL)
		*max_ask = m.max_ask;
	sl_jsonl_reader_delete(r);
	return o.s;
}

static void
check_jsonl(const char *name, const char *data, size_t len,
            const struct sl_json_opts *opts, const char *want)
{
	size_t steps[] = {1, 7, 0};
	for (size_t i = 0; i < 3; i++) {
		char *got = read_all(data, len, steps[i], opts, NULL);
		is_str(got, want, "%s, reads of %zu bytes", name, steps[i]);
		free(got);
	}
}

#define check_jsonl_s(name, data, opts, want) \
	check_jsonl(name, data, sizeof(data) - 1, opts, want)

/**
 * Lines read in one pass that finds the '\n' while copying 64 bytes at a
 * time (sl_jsonl_next() with AVX2, when the line's '\n' is in the
 * buffer and the arena's head chunk has room), and the others: the '\n'
 * at every position of its block, "\r\n", blank lines and lines that
 * start with whitespace between them, an error in each, and head chunks
 * of several sizes so that every line meets the chunk's end somewhere.
 * The same dumps as the reads of one byte at a time, which never have 64
 * bytes of a line in the buffer.
 */
TAP_CASE(line_copy_boundaries)
{
	struct text data = {0}, want = {0};
	text_put(&data, "", 0);
	text_put(&want, "", 0);
	int no = 0;
	for (int len = 8; len < 200; len++) {
		/* {"s":"aaa"} of len bytes, the last 'a' a '\t' (an error)
		 * every 13th line. */
		char line[256], exp[300];
		int n = len - 8;
		snprintf(line, sizeof(line), "{\"s\":\"%*s\"}", n, "");
		memset(line + 6, 'a', (size_t)n);
		bool bad = len % 13 == 0;
		/* Every 11th line ends inside its string, some before a
		 * "\r\n" (the '\r' is not the string's). */
		bool cut = !bad && len % 11 == 0;
		if (bad)
			line[6 + n - 1] = '\t';
		text_put(&data, line, (size_t)(cut ? len - 2 : len));
		no++;
		if (cut)
			snprintf(exp, sizeof(exp),
			         "L%d ERR in.jsonl:%d:%d: unexpected end of "
			         "input: expected '\"' to end a string\n",
			         no, no, len - 1);
		else if (bad)
			snprintf(exp, sizeof(exp),
			         "L%d ERR in.jsonl:%d:%d: control character "
			         "0x09 in a string (it must be escaped)\n",
			         no, no, 6 + n);
		else
			snprintf(exp, sizeof(exp), "L%d {\"s\":\"%.*s\"}\n", no,
			         n, line + 6);
		text_put(&want, exp, strlen(exp));
		text_put(&data, len % 3 ? "\n" : "\r\n", len % 3 ? 1 : 2);
		if (len % 7 == 0) {
			/* Blank lines, then a line after spaces. */
			text_put(&data, "\n  \r\n\t\n", 7);
			no += 3;
			text_put(&data, "  [1]\n", 6);
			no++;
			snprintf(exp, sizeof(exp), "L%d [#1]\n", no);
			text_put(&want, exp, strlen(exp));
		}
	}
	char *slow = read_all(data.s, data.n, 1, NULL, NULL);
	is_str(slow, want.s, "reads of 1 byte");
	size_t chunks[] = {256, 300, 333, 4096};
	for (size_t i = 0; i < sizeof(chunks) / sizeof(*chunks); i++) {
		sl_arena_destroy(&arena);
		sl_arena_create(&arena, chunks[i], 64 << 20);
		char *got = read_all(data.s, data.n, 0, NULL, NULL);
		is_str(got, want.s, "one read, head chunks of %zu bytes",
		       chunks[i]);
		free(got);
		got = read_all(data.s, data.n, 97, NULL, NULL);
		is_str(got, want.s,
		       "reads of 97 bytes, head chunks of %zu bytes",
		       chunks[i]);
		free(got);
	}
	sl_arena_destroy(&arena);
	sl_arena_create(&arena, 4096, 64 << 20);
	/* The size cap, on both sides of a line's length (line 99 ends in
	 * "\r\n", which the cap does not count). */
	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.record_max = 99;
	char *got = read_all(data.s, data.n, 0, &o, NULL);
	char *got1 = read_all(data.s, data.n, 1, &o, NULL);
	is_str(got, got1, "a size cap of 99: as reads of 1 byte");
	int capped = 0;
	for (const char *c = got; (c = strstr(c, "exceeds the size cap of "
	                                         "99 bytes")) != NULL;
	     c++)
		capped++;
	ok(capped == 100, "a size cap of 99: lines of 100 to 199 bytes (%d)",
	   capped);
	free(got);
	free(got1);
	free(slow);
	free(data.s);
	free(want.s);
}

/**
 * Documents on both sides of the parser's 8 KiB line (scratch sized
 * beforehand below it, checked item by item above): the same records
 * read the same, alone and as JSON lines in any order (the reader's
 * scratch is reused), and the densest documents just below the line
 * (the most items, members and open containers a byte) parse or fail
 * cleanly.
 */
TAP_CASE(document_sizes)
{
	/* 400 records of about 60 bytes: 24 KiB in one array. */
	struct text in = {0}, want = {0};
	text_putc(&in, '[');
	text_putc(&want, '[');
	for (int i = 0; i < 400; i++) {
		char b[160];
		snprintf(b, sizeof(b),
		         "%s{\"k\":\"s%d\",\"n\":%d,\"a\":[%d,\"x\\n\"],"
		         "\"o\":{}}",
		         i ? "," : "", i, i, i);
		text_puts(&in, b);
		snprintf(b, sizeof(b),
		         "%s{\"k\":\"s%d\",\"n\":#%d,\"a\":[#%d,\"x<0A>\"],"
		         "\"o\":{}}",
		         i ? "," : "", i, i, i);
		text_puts(&want, b);
	}
	text_putc(&in, ']');
	text_putc(&want, ']');
	char *got = parse_n(in.s, in.n, NULL);
	is_str(got, want.s, "a 24 KiB array of 400 objects");
	free(got);

	/* The same small record, padded past 8 KiB with spaces. */
	const char *rec = "{\"a\":[1,{\"b\":\"c\"}],\"d\":\"e\\u00e9\"}";
	const char *rec_want = "{\"a\":[#1,{\"b\":\"c\"}],\"d\":\"e<C3><A9>\"}";
	struct text pad = {0};
	for (int i = 0; i < 9000; i++)
		text_putc(&pad, ' ');
	text_puts(&pad, rec);
	got = parse_n(pad.s, pad.n, NULL);
	is_str(got, rec_want, "a record after 9000 spaces");
	free(got);
	text_puts(&pad, " x");
	got = parse_n(pad.s, pad.n, NULL);
	char msg[128];
	snprintf(msg, sizeof(msg),
	         "ERR: 1:%zu: unexpected data after the JSON value", pad.n);
	is_str(got, msg, "... and its error column past 8 KiB");
	free(got);

	/* As JSON lines: small, big, small, big with an error, small. */
	struct text lines = {0}, lwant = {0};
	for (int i = 0; i < 5; i++) {
		if (i % 2 == 1) {
			text_put(&lines, pad.s, 9000);
			text_puts(&lines, rec);
			if (i == 3)
				text_puts(&lines, "]");
		} else {
			text_puts(&lines, rec);
		}
		text_putc(&lines, '\n');
		char b[160];
		if (i == 3)
			snprintf(b, sizeof(b),
			         "L%d ERR in.jsonl:%d:%zu: unexpected data "
			         "after the JSON value\n",
			         i + 1, i + 1, 9000 + strlen(rec) + 1);
		else
			snprintf(b, sizeof(b), "L%d %s\n", i + 1, rec_want);
		text_puts(&lwant, b);
	}
	got = read_all(lines.s, lines.n, 4096, NULL, NULL);
	is_str(got, lwant.s, "small and big records as JSON lines");
	free(got);

	/* The densest documents of 8190 to 8193 bytes: items, open arrays,
	 * members and open objects, whole and cut short. */
	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.depth_max = 100000;
	int bad = 0, runs = 0;
	for (size_t len = 8190; len <= 8193; len++) {
		static const char *const units[] = {"1,", "[", "\"\":0,",
		                                    "{\"\":", "[1,"};
		for (size_t u = 0; u < sizeof(units) / sizeof(*units); u++) {
			struct text d = {0};
			size_t m = strlen(units[u]);
			if (u == 0 || u == 2)
				text_putc(&d, u == 0 ? '[' : '{');
			while (d.n + m <= len)
				text_put(&d, units[u], m);
			while (d.n < len)
				text_putc(&d, ' ');
			struct sl_value v;
			sl_arena_reset(&arena);
			int rc = sl_json_parse(d.s, d.n, &arena, &o, NULL, &v);
			/* Cut short: an unexpected end, never a crash. */
			if (rc >= 0 ||
			    strstr(unit_errmsg(), "unexpected end") == NULL) {
				if (bad++ == 0)
					note("unit %s, %zu bytes: %s", units[u],
					     len, unit_errmsg());
			}
			runs++;
			free(d.s);
		}
	}
	ok(bad == 0, "%d dense documents cut short fail cleanly", runs);

	/* Whole: 4096 items, 2048 members; nesting 4096 deep. */
	bad = 0;
	for (size_t len = 8190; len <= 8193; len++) {
		struct text d = {0};
		size_t items = (len - 1) / 2;
		text_putc(&d, '[');
		for (size_t i = 0; i < items; i++)
			text_puts(&d, i + 1 < items ? "1," : "1]");
		struct sl_value v;
		sl_arena_reset(&arena);
		int rc = sl_json_parse(d.s, d.n, &arena, &o, NULL, &v);
		if (rc < 0 || v.type != SL_VARRAY || v.len != items)
			bad++;
		d.n = 0;
		size_t depth = len / 2;
		for (size_t i = 0; i < depth; i++)
			text_putc(&d, '[');
		for (size_t i = 0; i < depth; i++)
			text_putc(&d, ']');
		sl_arena_reset(&arena);
		rc = sl_json_parse(d.s, d.n, &arena, &o, NULL, &v);
		size_t levels = 0;
		static const struct sl_value none = {.type = SL_VNULL};
		for (const struct sl_value *w = &v;
		     rc == 0 && w->type == SL_VARRAY; levels++)
			w = w->len ? &w->u.items[0] : &none;
		if (rc < 0 || levels != depth)
			bad++;
		free(d.s);
	}
	ok(bad == 0, "dense whole documents of 8190 to 8193 bytes");
	free(in.s);
	free(want.s);
	free(pad.s);
	free(lines.s);
	free(lwant.s);
}

/** The jsonl checks. */
TAP_CASE(jsonl)
{
	check_jsonl_s("empty input", "", NULL, "");
	check_jsonl_s("blank lines only", "\n\n  \r\n\t\n", NULL, "");
	check_jsonl_s("records",
	              "{\"a\":1}\n"
	              "\n"
	              "{\"b\":\"x\\ny\",\"c\":[true,null]}\r\n"
	              "  \r\n"
	              "3\n"
	              "[1]\n"
	              "\"s\"\n"
	              "{\"last\":\"no newline\"}",
	              NULL,
	              "L1 {\"a\":#1}\n"
	              "L3 {\"b\":\"x<0A>y\",\"c\":[true,null]}\n"
	              "L5 #3\n"
	              "L6 [#1]\n"
	              "L7 \"s\"\n"
	              "L8 {\"last\":\"no newline\"}\n");
	check_jsonl_s("errors go on",
	              "{\"a\":1}\n"
	              "{\"a\":1,}\n"
	              "{\"b\":\"0123456789abcdefghij\x01\"}\r\n"
	              "[1,2] 3\n"
	              "{\"ok\":true}\n"
	              "{\"a\":\n"
	              "1}\n",
	              NULL,
	              "L1 {\"a\":#1}\n"
	              "L2 ERR in.jsonl:2:8: expected a string key\n"
	              "L3 ERR in.jsonl:3:27: control character 0x01 in a "
	              "string (it must be escaped)\n"
	              "L4 ERR in.jsonl:4:7: unexpected data after the JSON "
	              "value\n"
	              "L5 {\"ok\":true}\n"
	              "L6 ERR in.jsonl:6:6: unexpected end of input: expected "
	              "a value\n"
	              "L7 ERR in.jsonl:7:2: unexpected data after the JSON "
	              "value\n");
	check_jsonl_s("CR alone is whitespace", "1\r\r\n\r\n2", NULL,
	              "L1 #1\nL3 #2\n");
	check_jsonl_s("trailing CR at the end", "{}\r", NULL, "L1 {}\n");

	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.chunk_size = 4;
	o.record_max = 16;
	check_jsonl_s("size cap",
	              "[1,2,3]\n"
	              "[\"0123456789abcdef\"]\n"
	              "\"0123456789abcd\"\r\n"
	              "\"0123456789abcde\"\r\n"
	              "[\"a very long line that goes on and on\"]\n"
	              "{}\n"
	              "\"0123456789abcdefghij\"",
	              &o,
	              "L1 [#1,#2,#3]\n"
	              "L2 ERR record at in.jsonl:2 exceeds the size cap of "
	              "16 bytes\n"
	              "L3 \"0123456789abcd\"\n"
	              "L4 ERR record at in.jsonl:4 exceeds the size cap of "
	              "16 bytes\n"
	              "L5 ERR record at in.jsonl:5 exceeds the size cap of "
	              "16 bytes\n"
	              "L6 {}\n"
	              "L7 ERR record at in.jsonl:7 exceeds the size cap of "
	              "16 bytes\n");

	/* Many records, across every chunk size: same result each time. */
	struct text data = {0};
	struct text want = {0};
	text_put(&data, "", 0);
	text_put(&want, "", 0);
	for (int i = 0; i < 300; i++) {
		char line[256], exp[512];
		snprintf(line, sizeof(line),
		         "{\"id\":%d,\"name\":\"n\\u00e9%d\\ud83d\\ude00\","
		         "\"f\":%d.5e-3,\"t\":[%s,null,{\"k\":\"%*s\"}]}%s",
		         i, i, i, i % 2 ? "true" : "false", i % 40, "",
		         i % 3 ? "\n" : "\r\n");
		text_put(&data, line, strlen(line));
		snprintf(
		        exp, sizeof(exp),
		        "L%d {\"id\":#%d,\"name\":\"n<C3><A9>%d<F0><9F><98>"
		        "<80>\",\"f\":#%d.5e-3,\"t\":[%s,null,{\"k\":\"%*s\"}]}"
		        "\n",
		        i + 1, i, i, i, i % 2 ? "true" : "false", i % 40, "");
		text_put(&want, exp, strlen(exp));
	}
	check_jsonl("300 records", data.s, data.n, NULL, want.s);
	size_t csizes[] = {1, 2, 3, 5, 64, 100, 4096};
	int same = 1;
	size_t max_ask = 0, worst = 0;
	for (size_t i = 0; i < sizeof(csizes) / sizeof(*csizes); i++) {
		sl_json_opts_init(&o);
		o.chunk_size = csizes[i];
		for (size_t step = 1; step < 20; step += 6) {
			char *got = read_all(data.s, data.n, step, &o, NULL);
			same &= strcmp(got, want.s) == 0;
			free(got);
		}
	}
	ok(same, "chunk sizes 1..4096 with reads of 1, 7, 13 bytes agree");
	sl_json_opts_init(&o);
	o.chunk_size = 256;
	char *got = read_all(data.s, data.n, 0, &o, &max_ask);
	ok(strcmp(got, want.s) == 0 && max_ask <= 256,
	   "the buffer stays at chunk_size for short lines (asked %zu)",
	   max_ask);
	free(got);
	o.chunk_size = 16;
	got = read_all(data.s, data.n, 0, &o, &worst);
	ok(strcmp(got, want.s) == 0 && worst <= 256,
	   "and grows only to the longest line (asked %zu)", worst);
	free(got);
	free(data.s);
	free(want.s);

	/* A failing source: its error is wrapped with the source name. */
	const char *in = "1\n2\n3\n";
	struct memsource m;
	memsource_init(&m, in, strlen(in), 2);
	m.fail_at = 4;
	struct sl_source src = memsource_source(&m, "in.jsonl");
	struct sl_jsonl_reader *r = sl_jsonl_reader_new(&src, NULL);
	struct sl_value v;
	int r1 = sl_jsonl_next(r, &arena, &v);
	int r2 = sl_jsonl_next(r, &arena, &v);
	int r3 = sl_jsonl_next(r, &arena, &v);
	ok(r1 == 1 && r2 == 1 && r3 == -1, "source error after 2 records");
	is_err(SL_EIO, "  ... keeps its code");
	char msg[256];
	sl_error_format(sl_diag_last(), msg, sizeof(msg));
	is_str(msg, "reading in.jsonl: disk on fire", "  ... and is wrapped");
	ok(sl_jsonl_line(r) == 2, "line of the last record is 2");
	sl_jsonl_reader_delete(r);
	sl_jsonl_reader_delete(NULL);
}

/** Create the arena the cases allocate from. */
static int
setup(void)
{
	sl_arena_create(&arena, 4096, 64 << 20);
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
