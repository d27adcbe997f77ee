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
 *
 * Interpretations (source_node, relationship, properties, variables,
 * switch), each with an optional condition (compare with equals,
 * greater_than, less_than or contains; and, or, not), are compiled once;
 * unknown options, types, rules and flags are errors at their
 * file:line:column. A record runs through `before_iteration` once, is
 * split by `iterate_on`, then goes through `interpretations`; a list of
 * lists is several passes, each on a copy of the context. Contexts (the
 * ingestion being built, variables, the current document) live in a
 * scratch arena reset per record; a copy copies the property arrays,
 * never the values (values are never changed in place). Each output
 * context becomes one desired ingestion, built in the output batch's
 * arena: names from the pipeline file and the timestamp are referenced,
 * values from the record copied.
 *
 * Every node and relationship gets `last_ingested_at`,
 * `last_ingested_by_<pipeline>_at` (one ISO 8601 UTC timestamp per
 * 2-second window, as Nodestream caches it) and
 * `was_ingested_by_<pipeline>: true`, the pipeline being the file's stem.
 * A source node with no key, a null key value or no type is not emitted;
 * a related node like that drops its relationship; both count as skips
 * with the record's origin. A failing provider or condition fails the run
 * with the record's origin, the interpretation and its position, and the
 * provider: "data.csv:2: interpretation 2 (relationship) at p.yaml:11:
 * !cast 'int' (p.yaml:14:20): invalid literal for int() with base 10:
 * 'US'".
 */
#ifndef SLUICE_INTERP_INTERPRET_H
#define SLUICE_INTERP_INTERPRET_H

#include "sluice/registry.h"

/** The Interpreter step type. */
extern const struct sl_step_type sl_interp_interpreter;

#endif /* SLUICE_INTERP_INTERPRET_H */
