/*
 * Streaming reader of text lines.
 *
 * Like the JSON-lines reader: lines are found with memchr in one buffer,
 * [start, scanned) is known to hold no line feed so nothing is scanned
 * twice, and the buffer is compacted before each read.
 */
#include "value/txt.h"

#include <inttypes.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "value/utf8.h"

/** The key of every record. */
static const char line_key[] = "line";

struct sl_txt_reader {
	/** Where bytes come from. */
	struct sl_source *src;
	/** Bytes asked of the source per read at most. */
	size_t chunk_size;
	/** Longest line, without its ending. */
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
	/** Line of the last record returned or failed. */
	uint64_t rec_line;
	/** The source reported its end. */
	bool eof;
	/** Dropping the rest of an overlong line. */
	bool skipping;
	/** An error ended the reader. */
	bool failed;
};

struct sl_txt_reader *
sl_txt_reader_new(struct sl_source *src, size_t chunk_size, size_t record_max)
{
	if (chunk_size == 0 || record_max == 0 ||
	    record_max > UINT32_MAX - 64) {
		sl_diag_set(SL_EINVAL,
		            "txt: chunk_size must be positive and record_max "
		            "between 1 and %" PRIu32 " (got %zu and %zu)",
		            (uint32_t)(UINT32_MAX - 64), chunk_size,
		            record_max);
		return NULL;
	}
	struct sl_txt_reader *r = sl_calloc(1, sizeof(*r));
	if (r == NULL) {
		sl_diag_set(SL_EOOM, "out of memory allocating a txt reader");
		return NULL;
	}
	r->src = src;
	r->chunk_size = chunk_size;
	r->record_max = record_max;
	r->cap = chunk_size < record_max + 2 ? chunk_size : record_max + 2;
	r->base_cap = r->cap;
	r->buf = sl_malloc(r->cap);
	if (r->buf == NULL) {
		sl_diag_set(
		        SL_EOOM,
		        "out of memory allocating a txt buffer of %zu bytes",
		        r->cap);
		sl_free(r);
		return NULL;
	}
	return r;
}

void
sl_txt_reader_delete(struct sl_txt_reader *r)
{
	if (r == NULL)
		return;
	sl_free(r->buf);
	sl_free(r);
}

uint64_t
sl_txt_line(const struct sl_txt_reader *r)
{
	return r->rec_line;
}

bool
sl_txt_can_continue(const struct sl_txt_reader *r)
{
	return !r->failed;
}

/** The source's name for messages. */
static const char *
src_name(const struct sl_txt_reader *r)
{
	return r->src->name != NULL ? r->src->name : "<txt>";
}

/** Raise the size cap error for line `line`. */
static int
too_long(struct sl_txt_reader *r, uint64_t line)
{
	r->rec_line = line;
	sl_diag_set(SL_ELIMIT,
	            "record at %s:%" PRIu64
	            " exceeds the size cap of %zu bytes",
	            src_name(r), line, r->record_max);
	return -1;
}

/** Make the record of line r->lines from buf[ls, le). */
static int
emit(struct sl_txt_reader *r, size_t ls, size_t le, struct sl_arena *arena,
     struct sl_value *out)
{
	r->rec_line = r->lines;
	size_t len = le - ls;
	if (len > r->record_max)
		return too_long(r, r->lines);
	const unsigned char *p = (const unsigned char *)r->buf + ls;
	size_t bad = sl_utf8_check(p, len);
	if (bad != len) {
		sl_diag_set(SL_EPARSE,
		            "%s:%" PRIu64 ":%zu: invalid UTF-8 (sequence "
		            "starting with byte 0x%02x)",
		            src_name(r), r->lines, bad + 1, p[bad]);
		return -1;
	}
	size_t msize = sizeof(struct sl_member);
	char *blk = sl_arena_alloc_aligned(arena, msize + len,
	                                   _Alignof(struct sl_member));
	if (blk == NULL) {
		sl_diag_wrap(sl_diag_code(), "record at %s:%" PRIu64,
		             src_name(r), r->lines);
		if (sl_diag_code() == SL_EOOM)
			r->failed = true;
		return -1;
	}
	struct sl_member *m = (struct sl_member *)(void *)blk;
	memcpy(blk + msize, p, len);
	m->key = line_key;
	m->key_len = sizeof(line_key) - 1;
	m->val = sl_str_ref(blk + msize, (uint32_t)len);
	*out = sl_object_ref(m, 1);
	return 1;
}

/** Read more input after compacting and, if full, growing the buffer. */
static int
refill(struct sl_txt_reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->fill - r->start);
		r->fill -= r->start;
		r->scanned -= r->start;
		r->start = 0;
	}
	if (r->cap > r->base_cap && r->fill < r->base_cap / 2) {
		char *nb = sl_realloc(r->buf, r->base_cap);
		if (nb != NULL) {
			r->buf = nb;
			r->cap = r->base_cap;
		}
	}
	if (r->fill == r->cap) {
		size_t max = r->record_max + 2;
		size_t nc = r->cap * 2 < max ? r->cap * 2 : max;
		char *nb = sl_realloc(r->buf, nc);
		if (nb == NULL) {
			sl_diag_set(SL_EOOM,
			            "out of memory growing the buffer of %s to "
			            "%zu bytes",
			            src_name(r), nc);
			return -1;
		}
		r->buf = nb;
		r->cap = nc;
	}
	size_t want = r->cap - r->fill;
	if (want > r->chunk_size)
		want = r->chunk_size;
	ssize_t got = r->src->read(r->src->ctx, r->buf + r->fill, want);
	if (got < 0) {
		sl_diag_wrap(sl_diag_code() != SL_EOK ? sl_diag_code() : SL_EIO,
		             "reading %s", src_name(r));
		return -1;
	}
	if ((size_t)got > want) {
		sl_diag_set(SL_EIO,
		            "reading %s: the source returned %zd bytes when "
		            "asked for %zu",
		            src_name(r), got, want);
		return -1;
	}
	if (got == 0)
		r->eof = true;
	r->fill += (size_t)got;
	return 0;
}

int
sl_txt_next(struct sl_txt_reader *r, struct sl_arena *arena,
            struct sl_value *out)
{
	if (r->failed) {
		sl_diag_set(SL_EINVAL,
		            "txt reader for %s used after an error that ended "
		            "its input",
		            src_name(r));
		return -1;
	}
	for (;;) {
		char *nl =
		        memchr(r->buf + r->scanned, '\n', r->fill - r->scanned);
		if (nl != NULL) {
			size_t ls = r->start, le = (size_t)(nl - r->buf);
			r->start = r->scanned = le + 1;
			r->lines++;
			if (r->skipping) {
				r->skipping = false;
				continue;
			}
			if (le > ls && r->buf[le - 1] == '\r')
				le--;
			return emit(r, ls, le, arena, out);
		}
		r->scanned = r->fill;
		if (r->eof) {
			if (r->start == r->fill)
				return 0;
			size_t ls = r->start, le = r->fill;
			r->start = r->scanned = r->fill;
			r->lines++;
			if (r->skipping) {
				r->skipping = false;
				return 0;
			}
			return emit(r, ls, le, arena, out);
		}
		if (r->skipping) {
			r->start = r->scanned = r->fill;
		} else if (r->fill - r->start > r->record_max + 1) {
			/* Over the cap even if a "\r\n" follows. */
			r->skipping = true;
			r->start = r->scanned = r->fill;
			return too_long(r, r->lines + 1);
		}
		if (refill(r) != 0) {
			r->failed = true;
			return -1;
		}
	}
}
