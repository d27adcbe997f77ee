/*
 * sluice: interpretations (internal to interp), with Nodestream's
 * semantics: a record becomes desired ingestions.
 *
 * A desired ingestion is emitted as a value:
 *
 *   {"source": NODE,
 *    "rels": [{"type": "WITHIN", "key": {...}, "props": {...},
 *              "rule": "EAGER|MERGE_KEY|CREATE", "outbound": true,
 *              "node": NODE}, ...]}
 *   NODE = {"type": "Airport", "labels": [...], "key": {...},
 *           "props": {...}, "rule": "EAGER|MATCH_ONLY|FUZZY"}
 *
 * `node` of a relationship is the related node; `outbound: false` means
 * the relationship points from it to the source.
 */
#ifndef SLUICE_INTERP_INTERPRET_H
#define SLUICE_INTERP_INTERPRET_H

#include "sluice/registry.h"

/** The Interpreter step type. */
extern const struct sl_step_type sl_interp_interpreter;

#endif /* SLUICE_INTERP_INTERPRET_H */
