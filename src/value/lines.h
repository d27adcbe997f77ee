/*
 * Streaming line splitter (internal to the value layer), shared by the
 * JSON-lines and the text-line readers.
 *
 * Lines are found with memchr in one buffer refilled from a source;
 * [start, scanned) is known to hold no line feed so nothing is scanned
 * twice, and the buffer is compacted before each read. A line ends at "\n"
 * or "\r\n" (the ending is not part of it); a last line without an ending
 * is a line too, and empty input has none.
 *
 * Memory: one buffer of at most `chunk_size` bytes, grown only for a line
 * longer than that and never beyond `record_max` plus two bytes; it
 * shrinks back after a long line. A line that does not fit is reported
 * once as soon as that is known and the rest of it is dropped as it
 * streams in, never buffered whole.
 */
#ifndef SLUICE_VALUE_LINES_H
#define SLUICE_VALUE_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sluice/source.h"

/** A line splitter over a refillable buffer. */
struct sl_lines {
	/** Where bytes come from. */
	struct sl_source *src;
	/** Name of the source in messages when it has none. */
	const char *anon_name;
	/** Bytes asked of the source per read at most. */
	size_t chunk_size;
	/** Longest line the caller accepts, without its ending. */
	size_t record_max;
	/** Buffered input; unread lines start at `start`. */
	char *buf;
	/** Bytes allocated for `buf`. */
	size_t cap;
	/** Size `buf` returns to after holding a long line. */
	size_t base_cap;
	/** Offset of the first unconsumed byte. */
	size_t start;
	/** Bytes of `buf` filled. */
	size_t fill;
	/** [start, scanned) holds no '\n'. */
	size_t scanned;
	/** Lines consumed so far. */
	uint64_t lines;
	/** The source reported its end. */
	bool eof;
	/** Dropping the rest of an overlong line. */
	bool skipping;
};

/** One line found by sl_lines_next(). */
struct sl_line {
	/** Offset in the splitter's `buf` of the line's first byte. */
	size_t start;
	/** Offset in `buf` just past the line, its ending excluded. */
	size_t end;
	/** 1-based number of the line. */
	uint64_t no;
};

/** What sl_lines_next() found. */
enum sl_lines_rc {
	/** The source failed or memory ran out (error set). */
	SL_LINES_FAIL = -1,
	/** The input has no more lines. */
	SL_LINES_END = 0,
	/** A whole line is in the buffer. */
	SL_LINES_LINE = 1,
	/** A line longer than record_max + 1 bytes (error set). */
	SL_LINES_LONG = 2,
};

/**
 * Set up `l` to split `src` (which must outlive it), reading at most
 * `chunk_size` (positive) bytes at a time; `anon_name` names a source
 * without a name in messages. 0, or -1 with SL_EOOM.
 */
int sl_lines_init(struct sl_lines *l, struct sl_source *src,
                  const char *anon_name, size_t chunk_size, size_t record_max);

/** Free the buffer of `l`. */
void sl_lines_fini(struct sl_lines *l);

/** The source's name for messages. */
static inline const char *
sl_lines_name(const struct sl_lines *l)
{
	return l->src->name != NULL ? l->src->name : l->anon_name;
}

/**
 * Find the next line. SL_LINES_LINE with it in `out`: its bytes stay valid
 * in l->buf until the next call; it may still be longer than record_max
 * by one byte (the caller checks the size, see sl_lines_too_long()).
 * SL_LINES_LONG with the number of a line that cannot fit in `out->no`;
 * the next call goes on after it. SL_LINES_END at the end of the input.
 * SL_LINES_FAIL when the source failed (its error wrapped with the source
 * name) or memory ran out; the next call asks the source again.
 */
enum sl_lines_rc sl_lines_next(struct sl_lines *l, struct sl_line *out);

/** Raise the SL_ELIMIT size cap error for line `line`; returns -1. */
int sl_lines_too_long(const struct sl_lines *l, uint64_t line);

/**
 * The same error for line `line` of the source named `name` with the cap
 * `record_max`; returns -1.
 */
int sl_line_too_long(const char *name, size_t record_max, uint64_t line);

#endif /* SLUICE_VALUE_LINES_H */
