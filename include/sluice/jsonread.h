/*
 * sluice: JSON reading (RFC 8259, strict, plus Python's NaN, Infinity and
 * -Infinity) and a streaming JSON-lines reader.
 *
 * Values are built in a caller's arena, into which the document is first
 * copied whole: strings refer to their bytes in that copy (those with
 * escapes decoded in place), and numbers become SL_VNUMBER values
 * referring to their (validated) text there, converted only when used.
 * The tokens NaN, Infinity and -Infinity, which Python's json.loads()
 * takes and json.dumps() (and sl_json_write()) writes, become SL_VDOUBLE
 * values, so what sluice writes reads back the same. Object members keep
 * their order, duplicates included.
 *
 * The parser keeps its own stack of open containers (no recursion; depth
 * limit SL_JSON_DEPTH_MAX_DEFAULT, 512), validates numbers strictly,
 * decodes escapes and surrogate pairs and checks UTF-8; strings are
 * scanned 16 bytes at a time with SSE2 where available, else 8 (a 64-bit
 * word). Errors name "source:line:column" and what was expected.
 *
 * The JSON-lines reader pulls from a struct sl_source into one buffer of
 * about `chunk_size` bytes (1 MiB), grown only for a single line longer
 * than that, up to `record_max` (64 MiB; SL_ELIMIT beyond), through the
 * line splitter of src/value/lines.h. Records are copied into the
 * caller's arena, since they outlive the buffer. After an error in one
 * line the reader goes on with the next, so a caller can skip bad records.
 *
 * Tests feed every input in 1-byte, 7-byte and whole chunks and require
 * the same result; tests/test_json_diff.c cross-checks the parser against
 * jansson over a generated corpus of valid and broken documents.
 */
#ifndef SLUICE_JSONREAD_H
#define SLUICE_JSONREAD_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/source.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Limits of the JSON reader (initialise with sl_json_opts_init()). */
struct sl_json_opts {
	/** Bytes the JSON-lines reader asks its source for at a time. */
	size_t chunk_size;
	/** Longest JSON-lines record in bytes (without its line end). */
	size_t record_max;
	/** Deepest nesting of arrays and objects allowed. */
	unsigned depth_max;
};

/** Default chunk size: 1 MiB. */
#define SL_JSON_CHUNK_SIZE_DEFAULT ((size_t)1 << 20)
/** Default record size cap: 64 MiB. */
#define SL_JSON_RECORD_MAX_DEFAULT ((size_t)64 << 20)
/** Default nesting limit. */
#define SL_JSON_DEPTH_MAX_DEFAULT 512u

/** Fill `o` with the defaults. */
void sl_json_opts_init(struct sl_json_opts *o);

/**
 * Parse exactly one JSON document from buf[0..len) (whitespace around it
 * allowed) into `arena`; `opts` may be NULL for the defaults (only
 * depth_max applies). Returns 0 with the value in `out`, or -1 with an
 * error: SL_EPARSE whose message reads "[name:]line:column: what was
 * expected" (1-based, columns in bytes), SL_ELIMIT when a string, array or
 * object is longer than SL_VALUE_LEN_MAX, or an arena error. On failure
 * the arena may hold partial allocations.
 */
int sl_json_parse(const char *buf, size_t len, struct sl_arena *arena,
                  const struct sl_json_opts *opts, const char *name,
                  struct sl_value *out);

struct sl_jsonl_reader;

/**
 * A reader of JSON lines from `src` (which must outlive it); `opts` may be
 * NULL for the defaults and is copied. Returns NULL with SL_EOOM.
 */
struct sl_jsonl_reader *sl_jsonl_reader_new(struct sl_source *src,
                                            const struct sl_json_opts *opts);

/** Free a reader (NULL is allowed). Does not touch its source. */
void sl_jsonl_reader_delete(struct sl_jsonl_reader *r);

/**
 * Read the next record: one JSON value of any type per line; lines of only
 * whitespace are skipped; "\n" and "\r\n" line ends are accepted, and the
 * last line needs none. Returns 1 with the value (built in `arena`) in
 * `out`, 0 at the end, or -1 with an error: SL_EPARSE reading
 * "<source>:<line>:<column>: ...", SL_ELIMIT reading "record at
 * <source>:<line> exceeds the size cap of N bytes", or the source's error
 * wrapped with the source name. After a parse or size error the next call
 * goes on with the following line; after a source error it asks the
 * source again.
 */
int sl_jsonl_next(struct sl_jsonl_reader *r, struct sl_arena *arena,
                  struct sl_value *out);

/** Line number (1-based) of the last record returned or failed, else 0. */
uint64_t sl_jsonl_line(const struct sl_jsonl_reader *r);

struct sl_line_block;

/**
 * Empty `b` and fill it with the next lines, unparsed, as
 * sl_reader_next_block() (sluice/records.h) does. Returns 1 with b->n > 0,
 * 0 at the end, or -1 with the source's error or SL_EOOM; b->n lines read
 * before that error may be in `b` with it.
 */
int sl_jsonl_next_block(struct sl_jsonl_reader *r, struct sl_line_block *b,
                        uint32_t max_lines, size_t max_bytes);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_JSONREAD_H */
