/*
 * sluice: values as Python sees them (internal to interp).
 *
 * Nodestream evaluates conditions, casts and string formatting with
 * Python's operators on the record's values. These functions give the same
 * answers for the JSON-like values records hold: str(), ==, <, `in`,
 * truthiness, and the int/float/str/bool/Decimal constructors. Where
 * Python raises (comparing a string with a number, int("x")), they fail
 * with SL_EINVAL and Python's message. Floats print as CPython's shortest
 * repr; 1 == 1.0 == True; a Decimal is kept as exact number text.
 */
#ifndef SLUICE_INTERP_PYVAL_H
#define SLUICE_INTERP_PYVAL_H

#include <stdbool.h>

#include "sluice/arena.h"
#include "sluice/buf.h"
#include "sluice/value.h"

/**
 * Create `b` for text about to be copied into `a` (a record's arena):
 * capped at what `a` can still hold (sl_arena_room()) and at
 * SL_VALUE_LEN_MAX, so text built for one record never grows past the
 * record's memory cap (SL_RECORD_MEM_MAX), however small its value is in
 * memory (a value may share subtrees, so its text can be exponentially
 * longer).
 */
void sl_py_buf_create(struct sl_buf *b, const struct sl_arena *a);

/**
 * A lower bound of the length of `v` as text, JSON or Python's str() and
 * repr() alike (a string counts its bytes, a number one, separators one),
 * or `limit` + 1 once it passes `limit`. It stops there, so the cost is
 * at most about `limit` nodes: callers check it against the room left
 * before they build text, so a small value whose text is huge (shared
 * subtrees) fails at once instead of after writing the whole room.
 */
size_t sl_py_text_min(const struct sl_value *v, size_t limit);

/**
 * For `return sl_py_buf_fail(a, "to_string()")` after building into such
 * a buffer, or copying it into `a`, failed: an SL_ELIMIT becomes "WHAT:
 * the result passes the N MiB a record may use"; other errors stay.
 * Returns -1.
 */
int sl_py_buf_fail(const struct sl_arena *a, const char *what);

/** Python's str(v) appended to `out` (repr() inside lists and dicts). */
int sl_py_str(const struct sl_value *v, struct sl_buf *out);

/** Python's repr(v) appended to `out`. */
int sl_py_repr(const struct sl_value *v, struct sl_buf *out);

/** Python's type name of `v` ("str", "int", "NoneType", ...). */
const char *sl_py_type(const struct sl_value *v);

/** Python's a == b (True == 1, 1 == 1.0, "1" != 1). */
bool sl_py_equal(const struct sl_value *a, const struct sl_value *b);

/**
 * Python's ordering of a and b: *cmp < 0, 0 or > 0. Numbers (and bools)
 * compare by value, strings by code point, lists item by item. Other
 * pairs fail with SL_EINVAL: "'<' not supported between instances of
 * 'str' and 'int'" (`op` names the operator).
 */
int sl_py_compare(const struct sl_value *a, const struct sl_value *b,
                  const char *op, int *cmp);

/**
 * Python's `item in container`: substring of a string, item of a list,
 * key of a dict; otherwise SL_EINVAL.
 */
int sl_py_contains(const struct sl_value *container,
                   const struct sl_value *item, bool *out);

/** Python's bool(v). */
bool sl_py_truthy(const struct sl_value *v);

/** Casts of !cast. */
enum sl_py_cast {
	SL_PY_INT = 1, /**< int(v) */
	SL_PY_FLOAT,   /**< float(v) */
	SL_PY_DECIMAL, /**< Decimal(v), kept as exact number text */
	SL_PY_STR,     /**< str(v) */
	SL_PY_BOOL,    /**< bool(v) */
	SL_PY_BYTES,   /**< bytes(v), as an array of integers 0..255 */
};

/** Most bytes !cast to bytes makes (bytes(n) with a large n). */
#define SL_PY_BYTES_MAX ((uint32_t)1 << 24)

/** The cast named `name` ("int", ...), or 0. */
enum sl_py_cast sl_py_cast_by_name(const char *name);

/**
 * Apply cast `to` to `v`, building new strings in `a`. Fails with SL_EINVAL
 * and Python's message where Python raises (int("x"), int(None)).
 */
int sl_py_cast(enum sl_py_cast to, const struct sl_value *v, struct sl_arena *a,
               struct sl_value *out);

#endif /* SLUICE_INTERP_PYVAL_H */
