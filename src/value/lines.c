/*
 * Streaming line splitter shared by the JSON-lines and text-line readers.
 */
#include "value/lines.h"

#include <inttypes.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"

/** Most bytes `buf` may hold: a line of record_max + 1 bytes and "\n". */
static size_t
cap_max(const struct sl_lines *l)
{
	return l->record_max > SIZE_MAX - 2 ? SIZE_MAX : l->record_max + 2;
}

int
sl_lines_init(struct sl_lines *l, struct sl_source *src, const char *anon_name,
              size_t chunk_size, size_t record_max)
{
	memset(l, 0, sizeof(*l));
	l->src = src;
	l->anon_name = anon_name;
	l->chunk_size = chunk_size;
	l->record_max = record_max;
	size_t max = cap_max(l);
	l->cap = chunk_size < max ? chunk_size : max;
	l->base_cap = l->cap;
	/* Huge-page memory (sl_big_realloc()): a fault per 2 MiB. */
	l->buf = sl_big_realloc(NULL, 0, l->cap);
	if (l->buf == NULL) {
		sl_diag_set(SL_EOOM,
		            "out of memory allocating a line buffer of %zu "
		            "bytes for %s",
		            l->cap, sl_lines_name(l));
		return -1;
	}
	return 0;
}

void
sl_lines_fini(struct sl_lines *l)
{
	sl_big_free(l->buf, l->cap);
	l->buf = NULL;
}

int
sl_line_too_long(const char *name, size_t record_max, uint64_t line)
{
	sl_diag_set(SL_ELIMIT,
	            "record at %s:%" PRIu64
	            " exceeds the size cap of %zu bytes",
	            name, line, record_max);
	return -1;
}

int
sl_lines_too_long(const struct sl_lines *l, uint64_t line)
{
	return sl_line_too_long(sl_lines_name(l), l->record_max, line);
}

/** Read more input after compacting and, if full, growing the buffer. */
static int
refill(struct sl_lines *l)
{
	if (l->start > 0) {
		memmove(l->buf, l->buf + l->start, l->fill - l->start);
		l->fill -= l->start;
		l->scanned -= l->start;
		l->start = 0;
	}
	if (l->cap > l->base_cap && l->fill < l->base_cap / 2) {
		char *nb = sl_big_realloc(l->buf, l->cap, l->base_cap);
		if (nb != NULL) {
			l->buf = nb;
			l->cap = l->base_cap;
		}
	}
	if (l->fill == l->cap) {
		size_t max = cap_max(l);
		size_t nc = l->cap <= max / 2 ? l->cap * 2 : max;
		char *nb = sl_big_realloc(l->buf, l->cap, nc);
		if (nb == NULL) {
			sl_diag_set(SL_EOOM,
			            "out of memory growing the buffer of %s to "
			            "%zu bytes",
			            sl_lines_name(l), nc);
			return -1;
		}
		l->buf = nb;
		l->cap = nc;
	}
	size_t want = l->cap - l->fill;
	if (want > l->chunk_size)
		want = l->chunk_size;
	ssize_t got = l->src->read(l->src->ctx, l->buf + l->fill, want);
	if (got < 0) {
		sl_diag_wrap(sl_diag_code() != SL_EOK ? sl_diag_code() : SL_EIO,
		             "reading %s", sl_lines_name(l));
		return -1;
	}
	if ((size_t)got > want) {
		sl_diag_set(SL_EIO,
		            "reading %s: the source returned %zd bytes when "
		            "asked for %zu",
		            sl_lines_name(l), got, want);
		return -1;
	}
	if (got == 0)
		l->eof = true;
	l->fill += (size_t)got;
	return 0;
}

enum sl_lines_rc
sl_lines_next(struct sl_lines *l, struct sl_line *out)
{
	for (;;) {
		char *nl =
		        memchr(l->buf + l->scanned, '\n', l->fill - l->scanned);
		if (nl != NULL) {
			size_t ls = l->start, le = (size_t)(nl - l->buf);
			l->start = l->scanned = le + 1;
			l->lines++;
			if (l->skipping) {
				l->skipping = false;
				continue;
			}
			if (le > ls && l->buf[le - 1] == '\r')
				le--;
			out->start = ls;
			out->end = le;
			out->no = l->lines;
			return SL_LINES_LINE;
		}
		l->scanned = l->fill;
		if (l->eof) {
			if (l->start == l->fill)
				return SL_LINES_END;
			size_t ls = l->start, le = l->fill;
			l->start = l->scanned = l->fill;
			l->lines++;
			if (l->skipping) {
				l->skipping = false;
				return SL_LINES_END;
			}
			out->start = ls;
			out->end = le;
			out->no = l->lines;
			return SL_LINES_LINE;
		}
		if (l->skipping) {
			l->start = l->scanned = l->fill;
		} else if (l->fill - l->start >= cap_max(l)) {
			/* Over the cap even if a "\r\n" follows. */
			l->skipping = true;
			l->start = l->scanned = l->fill;
			out->no = l->lines + 1;
			sl_lines_too_long(l, out->no);
			return SL_LINES_LONG;
		}
		if (refill(l) != 0)
			return SL_LINES_FAIL;
	}
}
