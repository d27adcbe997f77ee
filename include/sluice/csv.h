/*
 * sluice: streaming CSV reader (RFC 4180 with the habits of Python's csv
 * module).
 *
 * The first row is the header; every later row becomes an object whose keys
 * are the header fields, in header order, and whose values are all strings
 * (the csv.DictReader rule). Quoted fields may hold the delimiter, line
 * breaks and doubled quotes (`""` stands for `"`). Lines end with LF or
 * CRLF; a CR that is not followed by LF is an error outside quotes and data
 * inside them. A UTF-8 byte order mark at the start is skipped, empty lines
 * are skipped, and a last line without a line ending is a record. Empty
 * input has no header and no records.
 *
 * A row with fewer fields than the header gives null for the missing
 * ones; a row with more keeps the extra fields, in order, as an array of
 * strings under one more key, "null" (SL_CSV_EXTRA_KEY), after the
 * header's keys. That is csv.DictReader's record (restval None, extras in
 * a list under the key None) as it reads in JSON: Nodestream's CSV
 * records, written with json.dumps, have exactly this form. (A header
 * column named "null" then appears twice; sl_object_get() finds the
 * extras.) At most SL_CSV_EXTRA_MAX extra fields are kept; a row with
 * more is an SL_ELIMIT error for that row.
 *
 * Stricter than Python: a quote inside an unquoted field, text after a
 * closing quote, an unterminated quoted field and invalid UTF-8 are
 * errors that name the source, the line and the column. Columns count
 * bytes from 1 at the start of the line.
 *
 * Duplicate header names are kept: the record has both members, and
 * sl_object_get() returns the last one.
 *
 * Memory: the reader holds one input buffer of about `chunk_size` bytes,
 * grown only to hold a single record longer than that, and never beyond
 * `record_max` plus its line ending. Records are allocated in the caller's
 * arena: one allocation per record holds the member array, the keys and
 * the field bytes. Doubled quotes are removed in place; UTF-8 is checked
 * with an ASCII fast path.
 *
 * After a bad row the reader goes on (sl_csv_can_continue()): a row whose
 * extent is known is dropped; otherwise (a row over `record_max`, a quote
 * or CR out of place) a lenient scan (a quote opens a quoted field only at
 * a field start; the row ends at the first line feed outside quotes)
 * drops the row's bytes as they stream in, so an oversized row never sits
 * in memory whole. Header errors and an unterminated quote end the input.
 *
 * tests/test_csv_diff.c cross-checks the reader against libcsv in strict
 * mode: generated documents must give both the rows the generator wrote,
 * broken ones must be rejected by both at the same byte, and the known
 * differences (lone CR, invalid UTF-8, field counts) are checked as such.
 */
#ifndef SLUICE_CSV_H
#define SLUICE_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/arena.h"
#include "sluice/source.h"
#include "sluice/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The key of a row's fields beyond the header's (see above). */
#define SL_CSV_EXTRA_KEY "null"
/** Most fields beyond the header's a row may have. */
#define SL_CSV_EXTRA_MAX (1u << 20)

/** Reader options; start from sl_csv_opts_init(). */
struct sl_csv_opts {
	/**
	 * Field separator, default ','. Any ASCII byte but '"', CR and LF
	 * (e.g. ';' or '\t').
	 */
	char delimiter;
	/** Bytes asked of the source per read, default 1 MiB. */
	size_t chunk_size;
	/**
	 * Longest record in bytes, line ending excluded, default 64 MiB; a
	 * longer one is an SL_ELIMIT error. At most UINT32_MAX - 64.
	 */
	size_t record_max;
};

/** An opaque streaming CSV reader. */
struct sl_csv_reader;

/** Fill `o` with the defaults. */
void sl_csv_opts_init(struct sl_csv_opts *o);

/**
 * A reader pulling from `src` (which must outlive it) with options `opts`
 * (NULL: defaults). Reads nothing yet. Returns NULL with SL_EINVAL (bad
 * options) or SL_EOOM in the diag.
 */
struct sl_csv_reader *sl_csv_reader_new(struct sl_source *src,
                                        const struct sl_csv_opts *opts);

/** Free the reader (records already returned stay valid). NULL is a no-op. */
void sl_csv_reader_delete(struct sl_csv_reader *r);

/**
 * Read the next record into `out`: an SL_VOBJECT whose keys are the header
 * fields in header order and whose values are SL_VSTR (SL_VNULL for a
 * field the row lacks), plus SL_CSV_EXTRA_KEY with an array of the extra
 * fields' strings when the row has more fields than the header. The member
 * array, keys and strings live in `arena`, so the record stays valid after
 * later calls and after the reader is deleted, until the arena is reset.
 * The header is read by the first call. Returns 1 with a record, 0 at the
 * end of the input (also for empty input and a header-only input), or -1
 * with an error in the diag: SL_EPARSE for malformed input, SL_ELIMIT for
 * a record longer than `record_max` or a full arena, SL_EIO wrapping the
 * source's error, SL_EOOM. After an error, use the reader again only if
 * sl_csv_can_continue() says so.
 */
int sl_csv_next(struct sl_csv_reader *r, struct sl_arena *arena,
                struct sl_value *out);

/**
 * After sl_csv_next() failed: whether the error concerned one row and the
 * next call goes on with the row after it. True for a row with too many
 * extra fields, invalid UTF-8, a row longer than `record_max`, a full
 * arena, and a malformed row outside a quoted field (a quote inside an
 * unquoted field, text after a closing quote, a lone CR); the rest of the
 * row is then found by a lenient scan (a quote opens a quoted field only
 * at the start of a field; the row ends at the first line feed outside
 * quotes) that drops its bytes as they stream in. False, and every later
 * call fails with SL_EINVAL, after an error in the header, an unterminated
 * quoted field at the end of the input, a source error or SL_EOOM.
 */
bool sl_csv_can_continue(const struct sl_csv_reader *r);

/**
 * 1-based line of the first byte of the last record returned, or of the
 * record that failed (the header is on line 1 unless empty lines precede
 * it). 0 before the first call.
 */
uint64_t sl_csv_line(const struct sl_csv_reader *r);

/**
 * Number of the last record returned or of the record that failed: 1 for
 * the first row after the header, 0 for the header itself or before the
 * first call.
 */
uint64_t sl_csv_record(const struct sl_csv_reader *r);

/** Number of header fields, or 0 before the header has been read. */
uint32_t sl_csv_field_count(const struct sl_csv_reader *r);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_CSV_H */
