/*
 * sluice: reading the arguments of a step definition (internal to steps).
 * Errors name the argument's position: "p.yaml:4:7: arguments.globs: ...".
 */
#ifndef SLUICE_STEPS_ARGS_H
#define SLUICE_STEPS_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/pipeline_file.h"
#include "sluice/records.h"

/**
 * Fail unless every argument of `def` is one of `known` (NULL-terminated);
 * the message names the unknown one and lists the known ones.
 */
int sl_args_check(const struct sl_stepdef *def, const char *const *known);

/** The argument `key`, or NULL if it is absent or null. */
const struct sl_conf *sl_args_get(const struct sl_stepdef *def,
                                  const char *key);

/** A string argument, `dflt` when absent. */
int sl_args_str(const struct sl_stepdef *def, const char *key, const char *dflt,
                const char **out);

/** An integer argument, `dflt` when absent. */
int sl_args_int(const struct sl_stepdef *def, const char *key, int64_t dflt,
                int64_t *out);

/** A boolean argument, `dflt` when absent. */
int sl_args_bool(const struct sl_stepdef *def, const char *key, bool dflt,
                 bool *out);

/**
 * Node `n` (argument `what`) as a number from 0 to 1e7 of `unit`s
 * ("seconds", "hours"), in *out. 0, or -1 with "expected a number of
 * UNIT" at its place.
 */
int sl_args_amount(const struct sl_conf *n, const char *what, const char *unit,
                   double *out);

/**
 * The reading arguments shared by extractors: `on_error` (skip, the
 * default, or fail; a strict definition, `sluice run --strict`, always
 * fails), `delimiter` (one ASCII character), `max_record_size` (bytes).
 */
int sl_args_reader(const struct sl_stepdef *def, struct sl_reader_opts *o,
                   bool *skip_errors);

/** Names of the arguments sl_args_reader() reads (for sl_args_check). */
#define SL_ARGS_READER_KEYS "on_error", "delimiter", "max_record_size"

#endif /* SLUICE_STEPS_ARGS_H */
