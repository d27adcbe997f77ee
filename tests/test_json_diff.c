/*
 * Differential test of the JSON reader against jansson: a random corpus of
 * valid documents and of mutated (mostly invalid) ones must be accepted or
 * rejected by both, and accepted ones must give equal values.
 *
 * Known differences, checked as such: jansson rejects integers outside
 * int64 ("too big integer") and numbers beyond double ("real number
 * overflow") that RFC 8259 allows and we keep as text; jansson keeps the
 * last of duplicate keys where we keep all (compared as last-wins); jansson
 * cannot hold NUL in keys, so keys are generated without \u0000; jansson
 * takes a raw NUL byte outside strings for the end of the input, where we
 * reject the byte (checked: what comes before the NUL must match).
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/arena.h"
#include "sluice/jsonread.h"
#include "prng.h"
#include "text.h"
#include "unit.h"

static void
ws(struct text *t)
{
	static const char *w[] = {"", "", "", " ", "\n", "\t", "\r\n", "  "};
	text_puts(t, w[rn(8)]);
}

static void
gen_string(struct text *t, int key)
{
	text_puts(t, "\"");
	unsigned len = rn(4) == 0 ? rn(40) : rn(8);
	for (unsigned i = 0; i < len; i++) {
		char b[16];
		unsigned k = rn(20);
		if (k < 10) {
			b[0] = (char)(' ' + rn(95));
			if (b[0] == '"' || b[0] == '\\')
				b[0] = 'q';
			text_put(t, b, 1);
		} else if (k < 12) {
			static const char *esc[] = {"\\\"", "\\\\", "\\/",
			                            "\\b",  "\\f",  "\\n",
			                            "\\r",  "\\t"};
			text_puts(t, esc[rn(8)]);
		} else if (k < 14) {
			unsigned cp;
			do
				cp = rn(0x10000);
			while ((cp >= 0xD800 && cp <= 0xDFFF) ||
			       (key && cp == 0));
			snprintf(b, sizeof(b), rn(2) ? "\\u%04x" : "\\u%04X",
			         cp);
			text_puts(t, b);
		} else if (k < 15) {
			snprintf(b, sizeof(b), "\\u%04x\\u%04X",
			         0xD800 + rn(0x400), 0xDC00 + rn(0x400));
			text_puts(t, b);
		} else if (k < 16) {
			text_puts(t, "\xc3\xa9");
		} else if (k < 17) {
			text_puts(t, "\xe2\x82\xac");
		} else if (k < 18) {
			text_puts(t, "\xf0\x9f\x98\x80");
		} else if (k < 19) {
			text_puts(t, "\xf4\x8f\xbf\xbf");
		} else {
			text_puts(t, "\xed\x9f\xbf");
		}
	}
	text_puts(t, "\"");
}

static void
gen_number(struct text *t)
{
	char b[64];
	switch (rn(12)) {
	case 0:
		text_puts(t, rn(2) ? "0" : "-0");
		return;
	case 1:
		snprintf(b, sizeof(b), "%d", (int)rn(100) - 50);
		break;
	case 2:
		snprintf(b, sizeof(b), "%lld", (long long)(rnd() >> 1));
		break;
	case 3:
		snprintf(b, sizeof(b), "-%llu",
		         (unsigned long long)(rnd() >> 1) + 1);
		break;
	case 4:
		text_puts(t, rn(2) ? "9223372036854775807"
		                   : "-9223372036854775808");
		return;
	case 5:
		snprintf(b, sizeof(b), "%u.%u", rn(1000), rn(100000));
		break;
	case 6:
		snprintf(b, sizeof(b), "-0.%03u", rn(1000));
		break;
	case 7:
		snprintf(b, sizeof(b), "%u%s%s%u", rn(100) + 1,
		         rn(2) ? "e" : "E",
		         rn(3) == 0 ? "+"
		         : rn(2)    ? "-"
		                    : "",
		         rn(300));
		break;
	case 8:
		snprintf(b, sizeof(b), "%u.%ue-%u", rn(10), rn(1000), rn(400));
		break;
	case 9:
		if (rn(8) != 0) {
			text_puts(t, "42");
			return;
		}
		/* Beyond int64: jansson says "too big integer". */
		text_puts(t, rn(2) ? "92233720368547758080"
		                   : "-18446744073709551616");
		return;
	case 10:
		if (rn(8) != 0) {
			text_puts(t, "4.2e1");
			return;
		}
		/* Beyond double: jansson says "real number overflow". */
		text_puts(t, rn(2) ? "1e400" : "-2.5E+999");
		return;
	default:
		snprintf(b, sizeof(b), "%.17g", (double)rnd() / 1e10);
		break;
	}
	text_puts(t, b);
}

static void
gen_value(struct text *t, int depth)
{
	unsigned k = rn(depth > 6 ? 6 : 10);
	ws(t);
	switch (k) {
	case 0:
		text_puts(t, "null");
		break;
	case 1:
		text_puts(t, rn(2) ? "true" : "false");
		break;
	case 2:
	case 3:
		gen_number(t);
		break;
	case 4:
	case 5:
		gen_string(t, 0);
		break;
	case 6:
	case 7: {
		unsigned n = rn(6);
		text_puts(t, "[");
		for (unsigned i = 0; i < n; i++) {
			if (i > 0)
				text_puts(t, ",");
			gen_value(t, depth + 1);
		}
		ws(t);
		text_puts(t, "]");
		break;
	}
	default: {
		unsigned n = rn(6);
		text_puts(t, "{");
		for (unsigned i = 0; i < n; i++) {
			if (i > 0)
				text_puts(t, ",");
			ws(t);
			if (rn(5) == 0)
				text_puts(t,
				          rn(2) ? "\"dup\"" : "\"d\\u0075p\"");
			else
				gen_string(t, 1);
			ws(t);
			text_puts(t, ":");
			gen_value(t, depth + 1);
		}
		ws(t);
		text_puts(t, "}");
		break;
	}
	}
	ws(t);
}

static void
gen_deep(struct text *t)
{
	unsigned d = 1 + rn(512);
	char *kinds = malloc(d);
	for (unsigned i = 0; i < d; i++) {
		kinds[i] = (char)rn(2);
		text_puts(t, kinds[i] ? "{\"k\":" : "[");
	}
	gen_value(t, 100);
	for (unsigned i = d; i-- > 0;)
		text_puts(t, kinds[i] ? "}" : "]");
	free(kinds);
}

static int compare(const struct sl_value *a, json_t *b, char *why,
                   size_t whylen);

/** Compare number text with jansson's number. */
static int
compare_number(const struct sl_value *a, json_t *b, char *why, size_t wl)
{
	char txt[512];
	snprintf(txt, sizeof(txt), "%.*s", (int)a->len, a->u.s);
	int is_int = strpbrk(txt, ".eE") == NULL;
	if (json_is_integer(b)) {
		errno = 0;
		long long v = strtoll(txt, NULL, 10);
		if (!is_int || errno != 0 || v != json_integer_value(b)) {
			snprintf(why, wl, "integer %.100s vs %lld", txt,
			         (long long)json_integer_value(b));
			return 0;
		}
		return 1;
	}
	if (json_is_real(b)) {
		double v = strtod(txt, NULL);
		if (is_int || v != json_real_value(b)) {
			snprintf(why, wl, "real %.100s vs %.17g", txt,
			         json_real_value(b));
			return 0;
		}
		return 1;
	}
	snprintf(why, wl, "number %.100s vs a non-number", txt);
	return 0;
}

static int
compare(const struct sl_value *a, json_t *b, char *why, size_t wl)
{
	switch (a->type) {
	case SL_VNULL:
		if (json_is_null(b))
			return 1;
		break;
	case SL_VBOOL:
		if (json_is_boolean(b) && a->u.b == json_is_true(b))
			return 1;
		break;
	case SL_VNUMBER:
		return compare_number(a, b, why, wl);
	case SL_VSTR:
		if (json_is_string(b) && json_string_length(b) == a->len &&
		    memcmp(json_string_value(b), a->u.s, a->len) == 0)
			return 1;
		break;
	case SL_VARRAY:
		if (!json_is_array(b) || json_array_size(b) != a->len)
			break;
		for (uint32_t i = 0; i < a->len; i++)
			if (!compare(&a->u.items[i], json_array_get(b, i), why,
			             wl))
				return 0;
		return 1;
	case SL_VOBJECT: {
		if (!json_is_object(b))
			break;
		size_t distinct = 0;
		for (uint32_t i = 0; i < a->len; i++) {
			const struct sl_member *m = &a->u.members[i];
			int later = 0;
			for (uint32_t j = i + 1; j < a->len; j++)
				later |=
				        a->u.members[j].key_len == m->key_len &&
				        memcmp(a->u.members[j].key, m->key,
				               m->key_len) == 0;
			if (later)
				continue;
			distinct++;
			json_t *bv = json_object_getn(b, m->key, m->key_len);
			if (bv == NULL) {
				snprintf(why, wl, "key %.*s missing in jansson",
				         (int)m->key_len, m->key);
				return 0;
			}
			if (!compare(&m->val, bv, why, wl))
				return 0;
		}
		if (distinct == json_object_size(b))
			return 1;
		snprintf(why, wl, "%zu distinct keys vs %zu", distinct,
		         json_object_size(b));
		return 0;
	}
	}
	if (why[0] == '\0')
		snprintf(why, wl, "type %d differs", a->type);
	return 0;
}

/** Totals of one corpus. */
struct tally {
	/** Documents. */
	int docs;
	/** Accepted by both. */
	int both_ok;
	/** Rejected by both. */
	int both_err;
	/** Accepted by us, rejected by jansson for a known reason. */
	int known;
	/** Disagreements. */
	int bad;
};

static struct sl_arena arena;

static void
check_doc(const char *doc, size_t n, struct tally *t)
{
	struct sl_value v;
	json_error_t jerr;
	sl_arena_reset(&arena);
	int ours = sl_json_parse(doc, n, &arena, NULL, NULL, &v);
	json_t *j = json_loadb(doc, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	char why[256] = "";
	t->docs++;
	if (ours == 0 && j != NULL) {
		if (compare(&v, j, why, sizeof(why)))
			t->both_ok++;
		else
			goto bad;
	} else if (ours < 0 && j == NULL) {
		t->both_err++;
	} else if (ours < 0 && j != NULL && memchr(doc, '\0', n) != NULL &&
	           sl_json_parse(
	                   doc,
	                   (size_t)((const char *)memchr(doc, '\0', n) - doc),
	                   &arena, NULL, NULL, &v) == 0 &&
	           compare(&v, j, why, sizeof(why))) {
		t->known++;
	} else if (ours == 0 && (strstr(jerr.text, "too big") ||
	                         strstr(jerr.text, "real number overflow"))) {
		t->known++;
	} else {
		snprintf(why, sizeof(why), "ours: %.120s / jansson: %.100s",
		         ours == 0 ? "ok" : unit_errmsg(),
		         j != NULL ? "ok" : jerr.text);
		goto bad;
	}
	json_decref(j);
	return;
bad:
	if (t->bad++ < 10)
		note("disagree (%s) on %.*s", why, (int)(n > 300 ? 300 : n),
		     doc);
	json_decref(j);
}

/** Break a valid document in one of several ways. */
static void
mutate(const struct text *in, struct text *out)
{
	static const char *bad[] = {
	        ",]",   ",}",       "\\x",   "\\ud800\"", "\\udc00",
	        "\x01", "\x1f",     "\x80",  "\xc0\xaf",  "\xed\xa0\x80",
	        "\xf5", "\xf0\x9f", "01",    "-",         "1.",
	        ".5",   "1e",       "nan",   "tru",       "/*c*/",
	        "'a'",  "\t",       ":",     ",",         "\"",
	        "[",    "}",        "\\u12", "\xff",      "\xef\xbb\xbf",
	};
	out->n = 0;
	size_t at = in->n ? rn((unsigned)in->n) : 0;
	switch (rn(4)) {
	case 0:
		text_put(out, in->s, at);
		break;
	case 1:
		text_put(out, in->s, at);
		text_puts(out, bad[rn(sizeof(bad) / sizeof(*bad))]);
		text_put(out, in->s + at, in->n - at);
		break;
	case 2:
		text_put(out, in->s, in->n);
		if (out->n > 0)
			out->s[at] = (char)rn(256);
		break;
	default:
		text_put(out, in->s, at);
		if (at + 1 < in->n)
			text_put(out, in->s + at + 1, in->n - at - 1);
		break;
	}
}

/** Generated, mutated and deep documents: sluice and jansson agree. */
TAP_CASE(corpus)
{
	const char *seed = getenv("SLUICE_DIFF_SEED");
	rng_state = 0x9E3779B97F4A7C15ull;
	if (seed != NULL && strtoull(seed, NULL, 0) != 0)
		rng_state = strtoull(seed, NULL, 0);
	sl_arena_create(&arena, 1 << 16, 256 << 20);
	struct tally valid = {0}, mutated = {0}, deep = {0};
	struct text t = {0}, m = {0};
	text_put(&m, "", 0);
	for (int i = 0; i < 4000; i++) {
		t.n = 0;
		text_put(&t, "", 0);
		gen_value(&t, 0);
		check_doc(t.s, t.n, &valid);
		for (int k = 0; k < 3; k++) {
			mutate(&t, &m);
			check_doc(m.s, m.n, &mutated);
		}
	}
	for (int i = 0; i < 300; i++) {
		t.n = 0;
		gen_deep(&t);
		check_doc(t.s, t.n, &deep);
		mutate(&t, &m);
		check_doc(m.s, m.n, &deep);
	}
	note("valid: %d docs, %d equal, %d known (int64/double range), "
	     "%d rejected by both",
	     valid.docs, valid.both_ok, valid.known, valid.both_err);
	note("mutated: %d docs, %d equal, %d rejected by both, %d known",
	     mutated.docs, mutated.both_ok, mutated.both_err, mutated.known);
	note("deep: %d docs, %d equal, %d rejected by both", deep.docs,
	     deep.both_ok, deep.both_err);
	is_int(valid.bad, 0, "valid corpus: parsers agree");
	ok(valid.both_err == 0, "valid corpus: nothing rejected");
	ok(valid.known > 0 && valid.known < valid.docs / 2,
	   "valid corpus: big numbers accepted that jansson refuses (%d)",
	   valid.known);
	is_int(mutated.bad, 0, "mutated corpus: parsers agree");
	ok(mutated.both_err > mutated.docs / 2,
	   "mutated corpus: mostly invalid (%d of %d)", mutated.both_err,
	   mutated.docs);
	is_int(deep.bad, 0, "deep corpus: parsers agree");
	free(t.s);
	free(m.s);
	sl_arena_destroy(&arena);
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
