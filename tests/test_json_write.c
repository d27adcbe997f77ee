/*
 * JSON writer: compact and canonical forms, escaping, numbers, caps.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/json.h"
#include "unit.h"

/** `v` as JSON with `flags`, in a static buffer. */
static const char *
json(const struct sl_value *v, unsigned flags)
{
	static struct sl_buf b;
	sl_buf_destroy(&b);
	sl_buf_create(&b, 1 << 20);
	if (sl_json_write(&b, v, flags) != 0)
		return "(error)";
	return b.data;
}

/** A double written canonically reads back as the same double. */
static int
round_trips(double d)
{
	struct sl_value v = sl_double(d);
	const char *s = json(&v, SL_JSON_CANONICAL);
	return strtod(s, NULL) == d && strpbrk(s, ".e") != NULL;
}

/** Compact and canonical JSON of every value kind. */
TAP_CASE(json_write)
{
	struct sl_value inner[2] = {sl_int(1), sl_null()};
	struct sl_member ms[5] = {
	        {"z", 1, sl_str_ref("a\"b\\c\n\t\x01", 8)},
	        {"a", 1, sl_array_ref(inner, 2)},
	        {"m", 1, sl_bool(true)},
	        {"a", 1, sl_number_ref("1.50", 4)},
	        {"é", 2, sl_double(0.5)},
	};
	struct sl_value obj = sl_object_ref(ms, 5);
	is_str(json(&obj, 0),
	       "{\"z\":\"a\\\"b\\\\c\\n\\t\\u0001\",\"a\":[1,null],\"m\":true,"
	       "\"a\":1.50,\"é\":0.5}",
	       "compact keeps order, duplicates and number text");
	is_str(json(&obj, SL_JSON_CANONICAL),
	       "{\"a\":1.5,\"m\":true,\"z\":\"a\\\"b\\\\c\\n\\t\\u0001\","
	       "\"é\":0.5}",
	       "canonical sorts keys bytewise, keeps the last duplicate, "
	       "normalises numbers");

	struct sl_value v = sl_number_ref("1e2", 3);
	is_str(json(&v, SL_JSON_CANONICAL), "100.0", "1e2 is the float 100.0");
	v = sl_number_ref("-0", 2);
	is_str(json(&v, SL_JSON_CANONICAL), "0", "-0 integer text is 0");
	v = sl_double(NAN);
	is_str(json(&v, 0), "NaN", "NaN is written as Python writes it");
	v = sl_double(INFINITY);
	is_str(json(&v, SL_JSON_CANONICAL), "Infinity",
	       "Infinity is written as Python writes it, not null");
	v = sl_double(-INFINITY);
	is_str(json(&v, 0), "-Infinity", "so is -Infinity");
	v = sl_number_ref("-1e400", 6);
	is_str(json(&v, SL_JSON_CANONICAL), "-Infinity",
	       "canonical: number text beyond a double is -Infinity");
	is_str(json(&v, 0), "-1e400", "compact: it keeps its text");
	v = sl_double(INFINITY);
	is_str(json(&v, SL_JSON_CANONICAL | SL_JSON_INF_OVERFLOW), "1e999",
	       "SL_JSON_INF_OVERFLOW: Infinity as 1e999");
	v = sl_number_ref("-1e400", 6);
	is_str(json(&v, SL_JSON_CANONICAL | SL_JSON_INF_OVERFLOW), "-1e999",
	       "... -Infinity as -1e999");
	v = sl_double(NAN);
	is_str(json(&v, SL_JSON_INF_OVERFLOW), "NaN", "... NaN stays NaN");
	v = sl_double(1.0 / 3.0);
	char third[40];
	snprintf(third, sizeof(third), "%s", json(&v, 0));
	ok(round_trips(1.0 / 3.0) && round_trips(0.1) && round_trips(1e300) &&
	           round_trips(5e-324) && round_trips(123456789.0),
	   "doubles round-trip with the shortest text: %s", third);
	v = sl_double(0.1);
	is_str(json(&v, 0), "0.1", "0.1 is written as 0.1");
	v = sl_int(INT64_MIN);
	is_str(json(&v, 0), "-9223372036854775808", "INT64_MIN");
	struct sl_value empty_o = sl_object_ref(NULL, 0);
	struct sl_value empty_a = sl_array_ref(NULL, 0);
	is_str(json(&empty_o, SL_JSON_CANONICAL), "{}", "empty object");
	is_str(json(&empty_a, 0), "[]", "empty array");

	/* Many keys: sorting beyond the on-stack array. */
	struct sl_member many[40];
	char keys[40][4];
	for (int i = 0; i < 40; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%02d", 39 - i);
		many[i] = (struct sl_member){keys[i], 3, sl_int(39 - i)};
	}
	struct sl_value mo = sl_object_ref(many, 40);
	const char *out = json(&mo, SL_JSON_CANONICAL);
	ok(strncmp(out, "{\"k00\":0,\"k01\":1,", 17) == 0 &&
	           strstr(out, "\"k39\":39}") != NULL,
	   "40 keys sorted");

	struct sl_buf small;
	sl_buf_create(&small, 10);
	sl_buf_puts(&small, "ab");
	ok(sl_json_write(&small, &obj, 0) == -1, "a write past the cap fails");
	is_err(SL_ELIMIT, "with ELIMIT");
	is_str(small.data, "ab", "and leaves the buffer as it was");
	sl_buf_destroy(&small);
}

/** Strings as Python's json.dumps() writes them (ensure_ascii). */
TAP_CASE(ascii)
{
	static const struct {
		/** The UTF-8 input. */
		const char *in;
		/** Its length. */
		size_t n;
		/** What json.dumps() gives. */
		const char *want;
	} cases[] = {
	        {"plain", 5, "\"plain\""},
	        {"a\"b\\c\n\r\t\b\f", 10, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\""},
	        {"\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\""},
	        {"\xc3\xbc\xe2\x82\xac", 5, "\"\\u00fc\\u20ac\""},
	        {"\xf0\x9f\x98\x80", 4, "\"\\ud83d\\ude00\""},
	        {"x\xffy", 3, "\"x\\ufffdy\""},
	        {"\xc3", 1, "\"\\ufffd\""},
	        {"a\0b", 3, "\"a\\u0000b\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct sl_buf b;
		sl_buf_create(&b, 1 << 10);
		ok(sl_json_write_ascii(&b, cases[i].in, cases[i].n) == 0,
		   "case %zu writes", i);
		is_str(b.data, cases[i].want, "... %s", cases[i].want);
		sl_buf_destroy(&b);
	}
}

/** A string's JSON as written one byte at a time (the reference). */
static void
escape_ref(const unsigned char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	*out++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		const char *e = c == '"'    ? "\\\""
		                : c == '\\' ? "\\\\"
		                : c == '\n' ? "\\n"
		                : c == '\r' ? "\\r"
		                : c == '\t' ? "\\t"
		                : c == '\b' ? "\\b"
		                : c == '\f' ? "\\f"
		                            : NULL;
		if (e != NULL) {
			while (*e != '\0')
				*out++ = *e++;
		} else if (c < 0x20) {
			out += sprintf(out, "\\u00%c%c", hex[c >> 4],
			               hex[c & 15]);
		} else {
			*out++ = (char)c;
		}
	}
	*out++ = '"';
	*out = '\0';
}

/**
 * Escaping, eight bytes at a time: every byte value at every place of
 * strings of 1 to 24 bytes (in a word, across two, in the tail) among
 * plain bytes and bytes above 0x7f, and two bytes to escape in one word.
 */
TAP_CASE(escapes)
{
	unsigned char in[32];
	char want[32 * 6 + 3];
	long bad = 0, runs = 0;
	for (size_t n = 1; n <= 24; n++)
		for (size_t at = 0; at < n; at++)
			for (unsigned c = 0; c < 256; c++) {
				for (size_t i = 0; i < n; i++)
					in[i] = (unsigned char)(i % 3 == 0
					                                ? 'a' + i
					                        : i % 3 == 1
					                                ? 0xc3
					                                : 0x80 + i);
				in[at] = (unsigned char)c;
				if (at + 3 < n)
					in[at + 3] = (unsigned char)(c ^ 0x22);
				struct sl_value v = sl_str_ref((const char *)in,
				                               (uint32_t)n);
				escape_ref(in, n, want);
				bad += strcmp(json(&v, 0), want) != 0;
				runs++;
			}
	ok(bad == 0,
	   "%ld strings written as one byte at a time would (%ld "
	   "wrong)",
	   runs, bad);
	/* A long text with escapes far apart, and one that is all escapes. */
	char longs[600];
	for (size_t i = 0; i < sizeof(longs); i++)
		longs[i] = i % 97 == 50 ? '"' : i % 131 == 7 ? '\n' : 'x';
	struct sl_value lv = sl_str_ref(longs, sizeof(longs));
	char lwant[600 * 6 + 3];
	escape_ref((const unsigned char *)longs, sizeof(longs), lwant);
	is_str(json(&lv, 0), lwant, "a long text with escapes far apart");
	memset(longs, 1, 40);
	lv = sl_str_ref(longs, 40);
	escape_ref((const unsigned char *)longs, 40, lwant);
	is_str(json(&lv, 0), lwant, "forty controls");
}

/**
 * Canonical objects of up to 20 members (insertion sort up to 16, qsort
 * above), keys drawn from a few, some sharing a prefix, so duplicates and
 * prefixes are common: keys in byte order (a prefix first), each once,
 * with the value of its last member. Integers at their extremes too.
 */
TAP_CASE(canonical_small)
{
	static const char *const names[] = {"b", "a",  "ab",       "a\x7f",
	                                    "",  "ba", "\xc3\xa9", "aa"};
	unsigned seed = 12345;
	long bad = 0, runs = 0;
	for (int round = 0; round < 3000; round++) {
		struct sl_member m[20];
		uint32_t n = (uint32_t)(round % 21);
		for (uint32_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			const char *k = names[(seed >> 16) % 8];
			m[i] = (struct sl_member){k, (uint32_t)strlen(k),
			                          sl_int((int64_t)i * 7 - 40)};
		}
		/* The reference: the last member of each name, names sorted
		 * by bytes with a prefix first. */
		char want[512] = "{";
		const char *done[8];
		size_t n_done = 0;
		for (;;) {
			const char *best = NULL;
			for (uint32_t i = 0; i < n; i++) {
				bool used = false;
				for (size_t d = 0; d < n_done; d++)
					used = used ||
					       strcmp(done[d], m[i].key) == 0;
				if (!used && (best == NULL ||
				              strcmp(m[i].key, best) < 0))
					best = m[i].key;
			}
			if (best == NULL)
				break;
			int64_t last = 0;
			for (uint32_t i = 0; i < n; i++)
				if (strcmp(m[i].key, best) == 0)
					last = m[i].val.u.i;
			struct sl_value kv =
			        sl_str_ref(best, (uint32_t)strlen(best));
			char kt[32];
			snprintf(kt, sizeof(kt), "%s", json(&kv, 0));
			snprintf(want + strlen(want),
			         sizeof(want) - strlen(want), "%s%s:%lld",
			         n_done > 0 ? "," : "", kt, (long long)last);
			done[n_done++] = best;
		}
		strcat(want, "}");
		struct sl_value obj = {
		        .type = SL_VOBJECT, .len = n, .u = {.members = m}};
		bad += strcmp(json(&obj, SL_JSON_CANONICAL), want) != 0;
		runs++;
	}
	ok(bad == 0, "%ld objects in canonical order (%ld wrong)", runs, bad);
	struct sl_value v = sl_int(INT64_MAX);
	is_str(json(&v, SL_JSON_CANONICAL), "9223372036854775807", "INT64_MAX");
	v = sl_int(0);
	is_str(json(&v, 0), "0", "zero");
	v = sl_int(-7);
	is_str(json(&v, 0), "-7", "a negative");
	v = sl_number_ref("-42", 3);
	is_str(json(&v, SL_JSON_CANONICAL), "-42", "integer text, canonical");
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
