/*
 * sluice: record readers by file format, over plain or compressed bytes.
 *
 * A file's name picks how it is read, as in Nodestream: compression
 * suffixes are peeled first (`x.csv.gz` is gzip-compressed CSV), then the
 * remaining suffix names the format:
 *
 *   .jsonl  one JSON value per line (streams)
 *   .json   the whole document is one record
 *   .csv    one object per row, all values strings (streams)
 *   .txt    {"line": "<line without its line ending>"} per line (streams)
 *   .yaml   the whole document is one record (also .yml)
 *
 * Compression: .gz (zlib, gzip members back to back), .zst (zstd frames
 * back to back), .bz2 (bzip2 streams back to back). Decompression streams
 * too, so memory does not grow with the file, except for the
 * single-document formats, which hold one document (at most `record_max`
 * bytes).
 *
 * Errors name the source and the position: "data/x.csv:12:7: ...".
 * Some errors belong to one record and the reader can go on with the next
 * (a bad JSON line, a malformed CSV row, a record
 * over the size cap); others end the input (corrupt compressed data, an
 * unterminated quote, an I/O error). sl_reader_can_skip() tells which, so
 * that `on_error: skip` can count and go on.
 *
 * How it works (src/value/records.c): a reader stacks byte sources: the
 * caller's source or a file (src/value/filesrc.h: blocking read() retried
 * on EINTR, errors naming the path and offset), a counting layer
 * (sl_reader_bytes_in(), compressed bytes), the decompressor
 * (src/value/decompress.h), and a top layer that notes a failed read. The
 * format's reader pulls from the top. sl_reader_can_skip() is true after
 * an error that concerned one record (a bad JSON line, a bad or overlong
 * text line, a bad CSV row, a record too big for the arena) and false once
 * the input ended in an error (any failed read underneath, a document
 * error, an unterminated CSV quote, OOM); the reader then refuses further
 * calls with SL_EINVAL. `.txt` is src/value/txt.h; `.json` and `.yaml`
 * read the whole document and parse it as one record.
 *
 * JSON lines can also be read in blocks: sl_reader_next_block() copies
 * whole lines, unparsed, into a struct sl_line_block on the reading
 * thread, and sl_line_block_parse() parses one line of it, on any thread
 * with its own struct sl_line_parser and arena, into the record or the
 * error sl_reader_next() gives for that line.
 */
#ifndef SLUICE_RECORDS_H
#define SLUICE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/source.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A record format. */
enum sl_format {
	SL_FORMAT_NONE = 0, /**< not known */
	SL_FORMAT_JSONL,    /**< JSON lines */
	SL_FORMAT_JSON,     /**< one JSON document */
	SL_FORMAT_CSV,      /**< CSV with a header row */
	SL_FORMAT_TXT,      /**< text lines */
	SL_FORMAT_YAML,     /**< one YAML document */
};

/** A compression wrapped around the bytes. */
enum sl_compression {
	SL_COMPRESSION_NONE = 0, /**< plain bytes */
	SL_COMPRESSION_GZIP,     /**< .gz */
	SL_COMPRESSION_ZSTD,     /**< .zst */
	SL_COMPRESSION_BZIP2,    /**< .bz2 */
};

/** Options of a record reader; start from sl_reader_opts_init(). */
struct sl_reader_opts {
	/** Bytes asked of the source per read (default 1 MiB). */
	size_t chunk_size;
	/** Largest record (or whole document), in bytes (default 64 MiB). */
	size_t record_max;
	/** CSV field separator (default ','). */
	char csv_delimiter;
};

/** Fill `o` with the defaults. */
void sl_reader_opts_init(struct sl_reader_opts *o);

/**
 * Split a file name into format and compression by its suffixes, e.g.
 * "a/b.csv.gz" gives CSV and gzip. Suffixes compare without regard to
 * case. Returns 0, or -1 with SL_EINVAL naming the file and the suffixes
 * that are known when the format is not recognised.
 */
int sl_format_of_name(const char *name, enum sl_format *format,
                      enum sl_compression *compression);

/** A format's name as written in pipeline files ("jsonl", "csv", ...). */
const char *sl_format_name(enum sl_format f);

/** The format named `name` (e.g. "csv"), or SL_FORMAT_NONE. */
enum sl_format sl_format_parse(const char *name);

/**
 * The compression named `name`, without regard to case: "gzip"/"gz",
 * "zstd"/"zst", "bzip2"/"bz2". Every other name (also "none" and NULL)
 * gives SL_COMPRESSION_NONE.
 */
enum sl_compression sl_compression_parse(const char *name);

/** A compression's name: "none", "gzip", "zstd" or "bzip2". */
const char *sl_compression_name(enum sl_compression c);

/** An opaque record reader. */
struct sl_reader;

/**
 * A reader of `format` records from `src` (which must outlive the reader)
 * after undoing `compression`. `opts` may be NULL for the defaults and is
 * copied. Reads nothing yet. NULL with SL_EINVAL or SL_EOOM.
 */
struct sl_reader *sl_reader_new(struct sl_source *src, enum sl_format format,
                                enum sl_compression compression,
                                const struct sl_reader_opts *opts);

/**
 * Open the file at `path` and read it by its name's suffixes. NULL with
 * SL_EINVAL (unknown suffix), SL_ESYSTEM naming the path (open failed) or
 * SL_EOOM.
 */
struct sl_reader *sl_reader_open(const char *path,
                                 const struct sl_reader_opts *opts);

/** Close what the reader opened and free it. NULL is a no-op. */
void sl_reader_delete(struct sl_reader *r);

/**
 * The next record, built in `arena`. Returns 1 with the record in `out`, 0
 * at the end, or -1 with an error in the diag whose message names the
 * source and position. After -1, the reader may be used again only if
 * sl_reader_can_skip() says so.
 */
int sl_reader_next(struct sl_reader *r, struct sl_arena *arena,
                   struct sl_value *out);

/**
 * After sl_reader_next() failed: whether the error concerned one record
 * and the next call goes on with the record after it.
 */
bool sl_reader_can_skip(const struct sl_reader *r);

/** 1-based line of the last record returned or failed; 0 if none. */
uint64_t sl_reader_line(const struct sl_reader *r);

/** Bytes taken from the (compressed) source so far. */
uint64_t sl_reader_bytes_in(const struct sl_reader *r);

/** One line of a struct sl_line_block. */
struct sl_block_line {
	/** Offset of its first byte in the block's `data`. */
	size_t off;
	/** Its length in bytes, the line ending excluded. */
	size_t len;
	/** Its 1-based line number in the input. */
	uint64_t no;
	/** Longer than `record_max`: its bytes were not kept (`len` is 0). */
	bool too_long;
};

/**
 * Whole lines of a JSON-lines input, not parsed yet, filled by
 * sl_reader_next_block() and parsed by sl_line_block_parse(). Zeroed is
 * empty; free with sl_line_block_destroy().
 */
struct sl_line_block {
	/** The lines' bytes back to back, without their endings. */
	char *data;
	/** Bytes of `data` used. */
	size_t len;
	/** Bytes allocated for `data`. */
	size_t cap;
	/** The lines, in input order. */
	struct sl_block_line *lines;
	/** Entries of `lines` used. */
	uint32_t n;
	/** Entries allocated for `lines`. */
	uint32_t cap_lines;
	/** The source's name in messages; lives as long as the source. */
	const char *name;
	/** The reader's record size cap. */
	size_t record_max;
	/** The reader's nesting limit. */
	uint32_t depth_max;
};

/** Free the memory of `b` and leave it empty. */
void sl_line_block_destroy(struct sl_line_block *b);

/** Whether sl_reader_next_block() works for `r`: JSON lines only. */
bool sl_reader_blocks(const struct sl_reader *r);

/**
 * Empty `b` (keeping its memory) and fill it with the next lines of the
 * input, at most `max_lines` (0 counts as 1); no line is added once
 * b->len has reached `max_bytes`, but there is always at least one.
 * Lines of only whitespace are left out as sl_reader_next() skips them; a
 * line longer than record_max is an entry with `too_long` set. Returns 1
 * with b->n > 0, 0 at the end of the input, or -1 with the error that
 * ended the input (the reader is then dead, as after the same error from
 * sl_reader_next()) or SL_EINVAL when !sl_reader_blocks(r). Lines read
 * before such an error come first (1), the error on the next call.
 * Afterwards sl_reader_line() is the number of the last line handed out.
 */
int sl_reader_next_block(struct sl_reader *r, struct sl_line_block *b,
                         uint32_t max_lines, size_t max_bytes);

/** Scratch memory for parsing lines of blocks: one per thread. */
struct sl_line_parser;

/** A new line parser, or NULL with SL_EOOM. */
struct sl_line_parser *sl_line_parser_new(void);

/** Free `p`. NULL is a no-op. */
void sl_line_parser_delete(struct sl_line_parser *p);

/**
 * Parse line `i` (< b->n) of `b` into `arena`. Returns 1 with the record in
 * `out`, or -1 with the error sl_reader_next() gives for that line (a
 * parse error, the size cap, the nesting limit, OOM). Uses only `p`,
 * `arena` and `b` (read only): threads may parse lines of one block at
 * once, each with its own parser and arena.
 */
int sl_line_block_parse(struct sl_line_parser *p, const struct sl_line_block *b,
                        uint32_t i, struct sl_arena *arena,
                        struct sl_value *out);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_RECORDS_H */
