/*
 * sluice: JSON schemas inferred from sample records, and validation
 * against them (internal to steps; used by the SchemaEnforcer step).
 *
 * Inference follows the rules of the Python package genson, which
 * Nodestream's SchemaEnforcer uses: every JSON type seen at a place is
 * recorded (null, boolean, integer, number, string, array, object);
 * integers and other numbers share one slot, "integer" until a
 * non-integral number is seen, then "number"; an object's properties
 * are the keys seen in any sample, "required" the keys present in every
 * sample; an array's items are merged into one schema. Written out, the
 * schema reads as genson's to_schema(): simple types are listed, sorted,
 * under "type", and arrays or objects with sub-schemas join them under
 * "anyOf".
 *
 * Validation checks what such a schema can say, as a JSON-schema
 * (draft 7) validator does: type, properties, required and items. An
 * integral number is also an "integer" there (1.0 is one). Below
 * SL_JSCHEMA_DEPTH_MAX nested levels nothing is inferred or checked.
 */
#ifndef SLUICE_STEPS_JSCHEMA_H
#define SLUICE_STEPS_JSCHEMA_H

#include <stdint.h>

#include "sluice/buf.h"
#include "sluice/value.h"

/** Deepest level of nesting inferred and checked (the root is 0). */
#define SL_JSCHEMA_DEPTH_MAX 64

/** Most validation errors described in full; the rest are counted. */
#define SL_JSCHEMA_ERRORS_SHOWN 5

struct sl_jschema;

/** A new empty schema (it accepts anything), or NULL with SL_EOOM. */
struct sl_jschema *sl_jschema_new(void);

/** Free a schema (NULL is a no-op). */
void sl_jschema_delete(struct sl_jschema *s);

/** Learn from one sample. 0, or -1 with SL_EOOM. */
int sl_jschema_add(struct sl_jschema *s, const struct sl_value *v);

/**
 * Append the schema as genson's to_schema() gives it, as compact JSON
 * with "$schema" first. 0, or -1 with an error (buffer cap, OOM).
 */
int sl_jschema_write(const struct sl_jschema *s, struct sl_buf *out);

/**
 * Validate `v`: the number of errors (0: valid). The first
 * SL_JSCHEMA_ERRORS_SHOWN are described in `msgs`, separated by "; "
 * (e.g. "at $.age: \"x\" is not of type 'integer'"), then "and N more".
 * -1 with an error when `msgs` cannot grow.
 */
int64_t sl_jschema_validate(const struct sl_jschema *s,
                            const struct sl_value *v, struct sl_buf *msgs);

#endif /* SLUICE_STEPS_JSCHEMA_H */
