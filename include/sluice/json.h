/*
 * sluice: JSON writing (compact and canonical). Reading is in
 * sluice/jsonread.h. The canonical form is what `sluice export` and the
 * print step's `canonical: true` write, so two graphs compare as text.
 */
#ifndef SLUICE_JSON_H
#define SLUICE_JSON_H

#include <stddef.h>

#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Flags for sl_json_write(). */
enum {
	/**
	 * Canonical form: object keys sorted bytewise (duplicates: last one
	 * wins), number text normalised (integers as integers, other numbers
	 * as the shortest text that reads back the same double, with a ".0"
	 * or exponent so they stay floats), no whitespace.
	 */
	SL_JSON_CANONICAL = 1,
	/**
	 * Write the infinities as 1e999 and -1e999 instead of Infinity and
	 * -Infinity: strict JSON (RFC 8259) that reads back as the same
	 * double wherever a number too large for a double is infinite
	 * (sluice's reader, Python, SQLite's JSON functions). The SQLite
	 * store writes its JSON columns so. NaN is still written as NaN.
	 */
	SL_JSON_INF_OVERFLOW = 2,
};

/**
 * Append `v` as JSON to `out`. Strings are escaped per RFC 8259 (", \\ and
 * control characters; other UTF-8 passes through). Non-finite doubles are
 * written as Python's json.dumps() writes them: Infinity, -Infinity and NaN
 * (not RFC 8259 JSON; see SL_JSON_INF_OVERFLOW), never as null. A number
 * kept as text is written as that text, unless canonical. Returns 0, or -1
 * with an error (buffer cap, OOM).
 */
int sl_json_write(struct sl_buf *out, const struct sl_value *v, unsigned flags);

/**
 * Append `n` bytes of UTF-8 `s` as a JSON string the way Python's
 * json.dumps() writes it (ensure_ascii): \" \\ \n \r \t \b \f escaped,
 * other control characters, DEL and every non-ASCII character as \uXXXX
 * (a surrogate pair above U+FFFF); a byte that starts no valid sequence is
 * U+FFFD. For output that must match Nodestream's byte for byte (JMESPath
 * results, `show --json`). 0, or -1 (the buffer's cap).
 */
int sl_json_write_ascii(struct sl_buf *out, const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_JSON_H */
