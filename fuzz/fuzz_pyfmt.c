/*
 * libFuzzer target for str.format() (src/interp/pyfmt.c): the input up to
 * its first newline is the format, the rest a JSON array of values. The
 * format is parsed; when it parses and the array parses, it is formatted
 * with the values named "a", "b", "c", ... (at most 16) in a capped arena.
 *
 * Invariants: the parsed fields are the {name...} fields a simple scan of
 * the format finds, in order; a failure leaves an error in the diag; a
 * field whose name has no value fails (KeyError); a result is a string,
 * valid UTF-8 when the format and every input string were.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "interp/pyfmt.h"
#include "sluice/arena.h"
#include "sluice/diag.h"
#include "sluice/jsonread.h"

#define FUZZ_NAME "fuzz_pyfmt"
#include "fuzz.h"

/** Most values (and names) passed to the format. */
#define MAX_VALUES 16

/** A field name found by the simple scan. */
struct scanned {
	/** Its first byte (in the format). */
	const char *name;
	/** Its length. */
	size_t len;
};

/**
 * Find the fields of format s[0, n) the simple way: "{{" and "}}" are
 * literal, any other "{" opens a field that ends at the next "}", and its
 * name ends at the first "!" or ":". Returns how many were found (up to
 * `max` are stored in `out`).
 */
static size_t
scan_fields(const char *s, size_t n, struct scanned *out, size_t max)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if ((s[i] == '{' || s[i] == '}') && i + 1 < n &&
		    s[i + 1] == s[i]) {
			i++;
			continue;
		}
		if (s[i] != '{')
			continue;
		size_t j = i + 1;
		while (j < n && s[j] != '!' && s[j] != ':' && s[j] != '}')
			j++;
		if (count < max) {
			out[count].name = s + i + 1;
			out[count].len = j - i - 1;
		}
		count++;
		while (j < n && s[j] != '}')
			j++;
		i = j;
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Parse the format, check its fields, and format the values with it. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t flen = nl != NULL ? (size_t)(nl - s) : size;
	sl_diag_clear(sl_diag_get());
	struct sl_pyfmt *f = sl_pyfmt_parse(s, flen);
	if (f == NULL) {
		enum sl_errcode c = sl_diag_code();
		CHECK(c == SL_EINVAL || c == SL_EOOM, "parse error %s",
		      sl_errcode_name(c));
		sl_diag_clear(sl_diag_get());
		return 0;
	}
	static struct scanned fields[1024];
	size_t nf = scan_fields(s, flen, fields, 1024);
	CHECK(sl_pyfmt_nfields(f) == nf, "%u fields parsed, %zu scanned",
	      sl_pyfmt_nfields(f), nf);
	for (uint32_t i = 0; i < nf && i < 1024; i++) {
		const char *name;
		size_t len;
		sl_pyfmt_field(f, i, &name, &len);
		CHECK(len > 0 && len == fields[i].len &&
		              memcmp(name, fields[i].name, len) == 0,
		      "field %u is '%.*s', scanned '%.*s'", i, (int)len, name,
		      (int)fields[i].len, fields[i].name);
	}

	struct sl_arena doc_arena, arena;
	sl_arena_create(&doc_arena, 4096, (size_t)4 << 20);
	sl_arena_create(&arena, 4096, (size_t)4 << 20);
	struct sl_json_opts o;
	sl_json_opts_init(&o);
	o.depth_max = 32;
	struct sl_value doc;
	if (nl != NULL &&
	    sl_json_parse(nl + 1, size - flen - 1, &doc_arena, &o, "fuzz",
	                  &doc) == 0 &&
	    doc.type == SL_VARRAY) {
		static const char *const names[MAX_VALUES] = {
		        "a", "b", "c", "d", "e", "f", "g", "h",
		        "i", "j", "k", "l", "m", "n", "o", "p"};
		static const uint32_t lens[MAX_VALUES] = {
		        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
		uint32_t n = doc.len < MAX_VALUES ? doc.len : MAX_VALUES;
		/* Whether every field has a value under its name. */
		bool all_named = true;
		for (size_t i = 0; i < nf; i++)
			all_named = all_named && fields[i].len == 1 &&
			            fields[i].name[0] >= 'a' &&
			            (uint32_t)(fields[i].name[0] - 'a') < n;
		struct sl_value out;
		if (sl_pyfmt_format(f, names, lens, doc.u.items, n, &arena,
		                    &out) == 0) {
			CHECK(all_named, "formatted with a missing field");
			CHECK(out.type == SL_VSTR, "result of type %u",
			      out.type);
			CHECK(out.len == 0 || out.u.s != NULL,
			      "string without bytes");
			CHECK(!utf8_valid(s, flen) || !value_utf8(&doc) ||
			              utf8_valid(out.u.s, out.len),
			      "result is not UTF-8: %.*s", (int)out.len,
			      out.u.s);
		} else {
			enum sl_errcode c = sl_diag_code();
			CHECK(c == SL_EINVAL || c == SL_ELIMIT || c == SL_EOOM,
			      "format error %s", sl_errcode_name(c));
		}
	}
	sl_arena_destroy(&arena);
	sl_arena_destroy(&doc_arena);
	sl_pyfmt_delete(f);
	sl_diag_clear(sl_diag_get());
	return 0;
}
