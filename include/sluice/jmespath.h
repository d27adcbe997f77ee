/*
 * sluice: JMESPath expressions over record values.
 *
 * An expression is compiled once (at pipeline load) and evaluated per
 * record. Evaluation never changes the document: results point into the
 * document where they can, and whatever is new (projection arrays, objects
 * of multi-select hashes, function results) is built in the arena the
 * caller passes, normally a scratch arena reset per record.
 *
 * Semantics follow the JMESPath specification and its compliance suite,
 * as the Python `jmespath` package implements them (Nodestream's users
 * write expressions for that package): a missing field is null, false-like
 * values are null, false, "", [] and {}, ordering comparisons apply to
 * numbers only, and a function called with a wrong type or number of
 * arguments is an error. Deliberate differences: a bool never equals a
 * number; a slice step of 0 is a compile error; `f(a b)` and `f(a,)` are
 * parse errors; integers past int64 become doubles in sum, to_number and
 * to_string.
 *
 * A Pratt parser builds a compact tree once; a chain of field lookups
 * allocates nothing. Expression text is capped at SL_JMES_TEXT_MAX and
 * nesting at SL_JMES_DEPTH_MAX, so no input can overflow a task's stack.
 */
#ifndef SLUICE_JMESPATH_H
#define SLUICE_JMESPATH_H

#include <stdbool.h>
#include <stddef.h>

#include "sluice/arena.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A compiled JMESPath expression (opaque). */
struct sl_jmes;

/** Longest expression text accepted, in bytes. */
#define SL_JMES_TEXT_MAX (64 * 1024)

/** Deepest nesting of an expression's syntax tree. */
#define SL_JMES_DEPTH_MAX 256

/**
 * Compile the `n` bytes at `expr`. NULL with an error in the diag:
 * SL_EPARSE naming the column (1-based) and what was expected, e.g.
 * "column 5: expected an identifier, found ']'"; SL_ELIMIT past the caps;
 * SL_EOOM.
 */
struct sl_jmes *sl_jmes_compile(const char *expr, size_t n);

/** Free a compiled expression (NULL is a no-op). */
void sl_jmes_delete(struct sl_jmes *j);

/**
 * Evaluate `j` against `doc`. The result is stored in `out`; it may point
 * into `doc`, into the expression's literals, or into `a`. A missing value
 * is null. Returns 0, or -1 with an error: SL_EINVAL for a function called
 * with a wrong type or number of arguments ("invalid-type: ...",
 * "invalid-arity: ..."), SL_ELIMIT or SL_EOOM when `a` runs out.
 */
int sl_jmes_eval(const struct sl_jmes *j, const struct sl_value *doc,
                 struct sl_arena *a, struct sl_value *out);

/**
 * Whether the expression is one plain field name (`name`, or a quoted
 * identifier): then `*name`/`*n` are set, and callers may look the field
 * up directly with sl_object_get().
 */
bool sl_jmes_is_field(const struct sl_jmes *j, const char **name, size_t *n);

/**
 * Whether the expression is a path of plain field names (`a`, `a.b.c`,
 * quoted identifiers included) of at most `max` names: then the number of
 * names is returned, with each name in `names[i]`/`lens[i]` (pointing into
 * the compiled expression), and evaluating it is looking each name up in
 * turn with sl_object_get(), a missing one giving null. Else 0.
 */
uint32_t sl_jmes_field_path(const struct sl_jmes *j, const char **names,
                            uint32_t *lens, uint32_t max);

/** The expression's source text (NUL-terminated). */
const char *sl_jmes_text(const struct sl_jmes *j);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_JMESPATH_H */
