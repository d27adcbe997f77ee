/*
 * sluice: the interpreting steps: the Interpreter (records to desired
 * ingestions, with Nodestream's interpretations and value providers), and
 * the transformers and filters that evaluate value providers.
 * sl_schema_expand() fills the schema container (sluice/schema.h) from an
 * Interpreter's compiled interpretations, for `sluice schema` and
 * migrations.
 */
#ifndef SLUICE_INTERP_H
#define SLUICE_INTERP_H

#include "sluice/nsschema.h"
#include "sluice/pipeline_file.h"
#include "sluice/schema.h"
#include "sluice/step.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Register the Interpreter, ValueProjection, ExpandJsonField,
 * SwitchTransformer and the filters (idempotent). Returns 0, or -1 with
 * an error.
 */
int sl_interp_register(void);

/**
 * Add what an Interpreter step describes to `s`. Other steps add nothing
 * (returns 0). 0, or -1 with an error.
 */
int sl_schema_expand(struct sl_schema *s, const struct sl_step *step);

/**
 * Add what an Interpreter step describes to `c`'s schema as Nodestream
 * 0.16.1 does (sluice/nsschema.h), in a layer of its own. Other steps add
 * nothing (returns 0). 0, or -1 with an error (SL_EINVAL when keys
 * conflict, as Nodestream refuses).
 */
int sl_ns_expand(struct sl_ns_coord *c, const struct sl_step *step);

/** Whether a step definition names the Interpreter, the one step whose
 * schema Nodestream collects (after sl_interp_register()). */
bool sl_interp_expands_schema(const struct sl_stepdef *def);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_INTERP_H */
