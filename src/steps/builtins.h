/*
 * sluice: the built-in step types (internal to steps).
 */
#ifndef SLUICE_STEPS_BUILTINS_H
#define SLUICE_STEPS_BUILTINS_H

#include "sluice/registry.h"

/** FileExtractor. */
extern const struct sl_step_type sl_builtin_file;
/** IterableExtractor (range, iterable). */
extern const struct sl_step_type sl_builtin_range;
/** Standard input extractor. */
extern const struct sl_step_type sl_builtin_stdin;
/** The SimpleApiExtractor (api.c). */
extern const struct sl_step_type sl_builtin_api;
/** JSON-lines printer. */
extern const struct sl_step_type sl_builtin_print;
/** PassStep (pass.c). */
extern const struct sl_step_type sl_builtin_pass;
/** PassTransformer (pass.c). */
extern const struct sl_step_type sl_builtin_pass_transformer;
/** LoggerWriter (pass.c). */
extern const struct sl_step_type sl_builtin_log;
/** SchemaEnforcer (enforce.c). */
extern const struct sl_step_type sl_builtin_schema_enforcer;
/** StreamExtractor (stream.c). */
extern const struct sl_step_type sl_builtin_stream;
/** TimeToLiveConfigurationExtractor. */
extern const struct sl_step_type sl_builtin_ttl;

#endif /* SLUICE_STEPS_BUILTINS_H */
