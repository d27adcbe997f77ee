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
 *            `path`, and passes it on.
 *
 * The extractors take `on_error` (fail, the default, or skip),
 * `delimiter` (CSV) and `max_record_size` (bytes, default 64 MiB).
 */
#ifndef SLUICE_STEPS_H
#define SLUICE_STEPS_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Register the built-in step types (once; later calls do nothing). 0, or
 * -1 with an error from the registry.
 */
int sl_steps_register_builtins(void);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_STEPS_H */
