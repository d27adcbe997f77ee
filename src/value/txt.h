/*
 * Streaming reader of text lines (internal to the value layer).
 *
 * Every line becomes the record {"line": "<the line>"}, without its "\n"
 * or "\r\n" ending; a last line without an ending is a record too, and
 * empty input has none. An empty line is the record {"line": ""}.
 *
 * Per-record errors (the next call goes on with the next line): a line
 * that is not valid UTF-8 (SL_EPARSE "name:line:column: invalid UTF-8
 * ..."), a line longer than `record_max` (SL_ELIMIT; the rest of it is
 * dropped as it streams in, never buffered whole) and a full arena. Errors
 * of the source and running out of memory end the reader.
 *
 * Memory: one buffer of about `chunk_size` bytes, grown only for a line
 * longer than that and never beyond `record_max` plus two bytes.
 */
#ifndef SLUICE_VALUE_TXT_H
#define SLUICE_VALUE_TXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/source.h"
#include "sluice/value.h"

/** An opaque text-line reader. */
struct sl_txt_reader;

/**
 * A reader pulling `chunk_size` bytes at a time from `src` (which must
 * outlive it); lines longer than `record_max` bytes are errors. NULL with
 * SL_EINVAL (a zero size, record_max over UINT32_MAX - 64) or SL_EOOM.
 */
struct sl_txt_reader *sl_txt_reader_new(struct sl_source *src,
                                        size_t chunk_size, size_t record_max);

/** Free the reader (NULL is a no-op). Records stay valid. */
void sl_txt_reader_delete(struct sl_txt_reader *r);

/**
 * The next line as a record built in `arena` (the key is a static string,
 * the line's bytes are copied). 1 with the record, 0 at the end, -1 with
 * an error.
 */
int sl_txt_next(struct sl_txt_reader *r, struct sl_arena *arena,
                struct sl_value *out);

/** 1-based line of the last record returned or failed; 0 before. */
uint64_t sl_txt_line(const struct sl_txt_reader *r);

/** Whether the reader can go on after its last error. */
bool sl_txt_can_continue(const struct sl_txt_reader *r);

#endif /* SLUICE_VALUE_TXT_H */
