/*
 * sluice: the record shard filter of `sluice run --shard K/N --shard-key
 * EXPR` (internal to the cli).
 *
 * N processes each read the whole input; each keeps the records whose key
 * belongs to its shard and leaves the others to the other processes. The
 * key is a JMESPath expression (sluice/jmespath.h) evaluated on each
 * record; its result's canonical JSON text (sluice/json.h: keys sorted,
 * numbers normalised, so the string "7" and the number 7 are two keys)
 * goes through sl_shard_of() (sluice/hash.h), so every process, on any
 * machine, puts a record in the same shard. A null result (the field is
 * missing) is a key like any other: all such records go to one shard; the
 * first is logged as a warning and they are counted.
 *
 * The step counts what it leaves to other shards apart from its skips:
 * stats.in - stats.out - stats.skipped records are other shards'. A key
 * that cannot be evaluated (a JMESPath function given a wrong type) is bad
 * input: the record is skipped as an error (sl_step_skip_error()), or,
 * with `strict`, fails the run naming the record.
 *
 * The cli inserts the step before the pipeline's first Interpreter, so
 * the key sees the record the Interpreter sees.
 */
#ifndef SLUICE_CLI_SHARD_H
#define SLUICE_CLI_SHARD_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/step.h"

/** Most shards a run may be split into. */
#define SL_SHARD_MAX 65536

/**
 * A step that keeps the records whose key `expr` puts in shard `k` of
 * `n` (1 <= k <= n <= SL_SHARD_MAX), for sl_pipeline_add(). NULL with an
 * error: SL_EPARSE naming the column of a bad expression, SL_EOOM.
 */
struct sl_step *sl_shard_step_new(const char *expr, uint32_t k, uint32_t n,
                                  bool strict);

/**
 * Whether `s` is a shard step; if so its counts: records kept, records
 * left to other shards, and records whose key was null (in either).
 */
bool sl_shard_step_counts(const struct sl_step *s, uint64_t *kept,
                          uint64_t *other, uint64_t *null_keys);

#endif /* SLUICE_CLI_SHARD_H */
