/*
 * sluice: Python's str.format() with named fields (internal to interp),
 * for the !format provider.
 *
 * Supported: literal text with {{ and }}, fields {name}, conversions !s
 * and !r, and format specs [[fill]align][sign][#][0][width][,|_]
 * [.precision][type] for strings, integers and floats, with Python's
 * defaults (strings align left, numbers right; a float without a type
 * prints as str() does). Positional fields ({} and {0}) and attribute or
 * index lookups ({a.b}, {a[0]}) are refused when the format is parsed.
 */
#ifndef SLUICE_INTERP_PYFMT_H
#define SLUICE_INTERP_PYFMT_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/value.h"

/** A parsed format string (opaque). */
struct sl_pyfmt;

/** Parse format `s` (`n` bytes). NULL with SL_EINVAL naming the problem. */
struct sl_pyfmt *sl_pyfmt_parse(const char *s, size_t n);

/** Free a parsed format (NULL is a no-op). */
void sl_pyfmt_delete(struct sl_pyfmt *f);

/** Number of fields. */
uint32_t sl_pyfmt_nfields(const struct sl_pyfmt *f);

/** The name of field `i`. */
void sl_pyfmt_field(const struct sl_pyfmt *f, uint32_t i, const char **name,
                    size_t *len);

/**
 * Format with the values `vals[i]` named `names[i]` (`lens[i]` bytes),
 * building the string in `a`. Fails with SL_EINVAL as Python would: a
 * field with no value (KeyError), a spec that does not fit the value.
 */
int sl_pyfmt_format(const struct sl_pyfmt *f, const char *const *names,
                    const uint32_t *lens, const struct sl_value *vals,
                    uint32_t n, struct sl_arena *a, struct sl_value *out);

#endif /* SLUICE_INTERP_PYFMT_H */
