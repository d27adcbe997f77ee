/*
 * Streaming reader of text lines: the lines come from the shared line
 * splitter (value/lines.h), each becomes a {"line": ...} record.
 */
#include "value/txt.h"

#include <inttypes.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "value/lines.h"
#include "value/utf8.h"

/** The key of every record. */
static const char line_key[] = "line";

/** A text-line reader: its lines and state after errors. */
struct sl_txt_reader {
	/** Splits the source into lines. */
	struct sl_lines lines;
	/** Line of the last record returned or failed. */
	uint64_t rec_line;
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
	if (sl_lines_init(&r->lines, src, "<txt>", chunk_size, record_max) !=
	    0) {
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
	sl_lines_fini(&r->lines);
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

/** Make the record of line `ln` from the splitter's buffer. */
static int
emit(struct sl_txt_reader *r, const struct sl_line *ln, struct sl_arena *arena,
     struct sl_value *out)
{
	const char *name = sl_lines_name(&r->lines);
	r->rec_line = ln->no;
	size_t len = ln->end - ln->start;
	if (len > r->lines.record_max)
		return sl_lines_too_long(&r->lines, ln->no);
	const unsigned char *p =
	        (const unsigned char *)r->lines.buf + ln->start;
	size_t bad = sl_utf8_check(p, len);
	if (bad != len) {
		sl_diag_set(SL_EPARSE,
		            "%s:%" PRIu64 ":%zu: invalid UTF-8 (sequence "
		            "starting with byte 0x%02x)",
		            name, ln->no, bad + 1, p[bad]);
		return -1;
	}
	size_t msize = sizeof(struct sl_member);
	char *blk = sl_arena_alloc_aligned(arena, msize + len,
	                                   _Alignof(struct sl_member));
	if (blk == NULL) {
		sl_diag_wrap(sl_diag_code(), "record at %s:%" PRIu64, name,
		             ln->no);
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

int
sl_txt_next(struct sl_txt_reader *r, struct sl_arena *arena,
            struct sl_value *out)
{
	if (r->failed) {
		sl_diag_set(SL_EINVAL,
		            "txt reader for %s used after an error that ended "
		            "its input",
		            sl_lines_name(&r->lines));
		return -1;
	}
	struct sl_line ln;
	switch (sl_lines_next(&r->lines, &ln)) {
	case SL_LINES_LINE:
		return emit(r, &ln, arena, out);
	case SL_LINES_END:
		return 0;
	case SL_LINES_LONG:
		r->rec_line = ln.no;
		return -1;
	case SL_LINES_FAIL:
	default:
		r->failed = true;
		return -1;
	}
}
