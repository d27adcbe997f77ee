/*
 * sluice: the built-in steps.
 *
 *   file     Nodestream's FileExtractor (factory `local` with `globs`, or
 *            `sources: [{type: local, globs: [...]}]`): reads every
 *            regular file the globs match, sorted, by its suffixes
 *            (sluice/records.h).
 *   stdin    reads standard input in the `format` given (default jsonl),
 *            optionally decompressing it (`compression`).
 *   range    Nodestream's IterableExtractor: factory `range` (start, stop,
 *            step) gives {"index": i}; without a factory, `iterable` lists
 *            the records.
 *   print    writes each record as a JSON line to standard output or to
 *            `path` (`canonical: true` sorts keys), in 1 MiB blocks, and
 *            passes batches on unchanged.
 *   ttl      Nodestream's TimeToLiveConfigurationExtractor: one record
 *            {"ttl": {graph_object_type, object_type, expiry_in_hours}}
 *            per enabled configuration, carried out by the graph writer;
 *            `custom_query` (Cypher) is refused at load.
 *
 * The extractors take `on_error` (skip, the default, or fail),
 * `delimiter` (CSV) and `max_record_size` (bytes, default 64 MiB). With
 * skip, as Nodestream goes on after bad input, an error the reader can
 * step over (sl_reader_can_skip()) skips that record only; an error that
 * ends the input (corrupt compression) skips the rest of that file; a file
 * of unknown suffix, or one that cannot be opened, is skipped whole. Each
 * is logged as a warning naming file:line:column and counted in the
 * step's errors and skipped columns, and the run ends with status 0. With
 * fail, or `sluice run --strict` (sl_stepdef.strict, which wins over
 * `on_error: skip`), the first one fails the run.
 * The file extractor expands its globs in start (src/steps/glob.h), sorts
 * the union, drops duplicates and warns for each glob that matched
 * nothing; drain reads each file with sl_reader_open(). stdin waits for
 * input in the loop (an sl_io watcher) when it is a pipe or terminal, so
 * signals are handled while it waits. Arguments are read by
 * src/steps/args.h, which rejects unknown names, listing the known ones.
 */
#ifndef SLUICE_STEPS_H
#define SLUICE_STEPS_H

#include <stdbool.h>
#include <stdint.h>

#include "sluice/step.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Register the built-in step types (once; later calls do nothing). 0, or
 * -1 with an error from the registry.
 */
int sl_steps_register_builtins(void);

/**
 * A print step built without a pipeline file: records as JSON lines to
 * `path` (NULL or "-": standard output), with sorted keys if `canonical`,
 * appended to the file if `append` (else it is truncated at start). NULL
 * with SL_EOOM.
 */
struct sl_step *sl_print_step_new(const char *path, bool canonical,
                                  bool append);

/**
 * Make FileExtractor step `s` read only the files of shard `k` of `n` (1
 * <= k <= n; sluice run --shard K/N): of the files its globs match, those
 * whose path, as matched, sl_shard_of() puts in shard k - 1. Call before
 * the run. Returns false, changing nothing, when `s` is not a
 * FileExtractor.
 */
bool sl_file_extractor_shard(struct sl_step *s, uint32_t k, uint32_t n);

/**
 * Of FileExtractor `s`'s matched files, after its start: how many are its
 * shard's (*kept, which it reads) and how many other shards' (*other).
 * Returns false when `s` is not a FileExtractor.
 */
bool sl_file_extractor_files(const struct sl_step *s, uint64_t *kept,
                             uint64_t *other);

/**
 * A FileExtractor's progress: *read gets the bytes it has read so far
 * (as stored: compressed bytes of a compressed file; HTTP bodies too),
 * *total the size of its local files once it started reading them, or 0
 * when it is not known (before that, or when it reads URLs). Read it from
 * the thread running the pipeline. Returns false when `s` is not a
 * FileExtractor.
 */
bool sl_file_extractor_bytes(const struct sl_step *s, uint64_t *read,
                             uint64_t *total);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_STEPS_H */
