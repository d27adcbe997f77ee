/*
 * Streaming CSV reader.
 *
 * A record is parsed in two passes. The first finds the field boundaries
 * in the input buffer (reading more input whenever the record runs past
 * the buffered bytes), so that the whole record, and every multi-byte
 * character in it, is contiguous. The second validates the record's bytes
 * as UTF-8, makes one arena allocation holding the member array, a copy of
 * the header keys and a copy of the record's bytes, and points the values
 * into that copy; quoted fields with doubled quotes are unescaped in place.
 *
 * Unquoted fields are scanned 16 bytes at a time with SSE2 where available
 * and through a byte class table otherwise.
 */
#include "sluice/csv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sluice/alloc.h"
#include "sluice/diag.h"
#include "value/utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/** Class bit: ends an unquoted field scan (delimiter, quote, CR, LF). */
#define CLS_PLAIN 1u
/** Class bit: ends a quoted field scan (quote, LF). */
#define CLS_QUOTED 2u

/** How the reader goes on after a failed call. */
enum after_error {
	/** It does not: the input cannot be read further. */
	AFTER_FATAL = 0,
	/** Drop the failed record, whose extent is known. */
	AFTER_DROP,
	/** Find the end of the failed record by scanning from `rs`. */
	AFTER_RESYNC,
};

/** One field of the record being parsed, relative to the record start. */
struct field {
	/** Offset of the first content byte. */
	uint32_t off;
	/** Content bytes, doubled quotes still doubled. */
	uint32_t len;
	/** Nonzero when the content holds doubled quotes. */
	uint32_t esc;
};

/** One header key in the reader's key block. */
struct key {
	/** Offset in `keys`. */
	uint32_t off;
	/** Length in bytes. */
	uint32_t len;
};

struct sl_csv_reader {
	/** The input. */
	struct sl_source *src;
	/** Field separator. */
	char delim;
	/** Bytes asked of the source per read. */
	size_t chunk_size;
	/** Longest record, line ending excluded. */
	size_t record_max;
	/** Input buffer. */
	char *buf;
	/** Bytes allocated for `buf`. */
	size_t cap;
	/** Size `buf` returns to after holding a long record. */
	size_t base_cap;
	/** Offset of the first unconsumed byte (the next record). */
	size_t rs;
	/** Offset past the last buffered byte. */
	size_t end;
	/** The source reported the end. */
	bool eof;
	/** The byte order mark check has been done. */
	bool started;
	/** The header has been read. */
	bool have_hdr;
	/** A call failed; the reader is unusable. */
	bool failed;
	/** Set by a failing step: an enum after_error. */
	uint8_t after;
	/** The next call must first skip the failed record (AFTER_RESYNC). */
	bool resync;
	/** Line of the byte at `rs`. */
	uint64_t line;
	/** Line of the current (last returned or failing) record. */
	uint64_t rec_line;
	/** Number of the current record (0: header). */
	uint64_t rec_no;
	/** Fields of the record being parsed. */
	struct field *fields;
	/** Entries allocated in `fields`. */
	size_t fields_cap;
	/** Header fields. */
	uint32_t nhdr;
	/** Header keys, unescaped and concatenated. */
	char *keys;
	/** Bytes used in `keys`. */
	size_t keys_len;
	/** `nhdr` key positions in `keys`. */
	struct key *key_pos;
	/** Byte classes (CLS_*). */
	uint8_t cls[256];
};

void
sl_csv_opts_init(struct sl_csv_opts *o)
{
	o->delimiter = ',';
	o->chunk_size = (size_t)1 << 20;
	o->record_max = (size_t)64 << 20;
}

struct sl_csv_reader *
sl_csv_reader_new(struct sl_source *src, const struct sl_csv_opts *opts)
{
	struct sl_csv_opts def;
	if (opts == NULL) {
		sl_csv_opts_init(&def);
		opts = &def;
	}
	unsigned char d = (unsigned char)opts->delimiter;
	if (d == '"' || d == '\r' || d == '\n' || d >= 0x80) {
		sl_diag_set(SL_EINVAL,
		            "csv: the delimiter must be an ASCII byte other "
		            "than '\"', CR and LF (got 0x%02x)",
		            d);
		return NULL;
	}
	if (opts->chunk_size == 0 || opts->record_max == 0 ||
	    opts->record_max > UINT32_MAX - 64) {
		sl_diag_set(SL_EINVAL,
		            "csv: chunk_size must be positive and record_max "
		            "between 1 and %" PRIu32 " (got %zu and %zu)",
		            (uint32_t)(UINT32_MAX - 64), opts->chunk_size,
		            opts->record_max);
		return NULL;
	}
	struct sl_csv_reader *r = sl_calloc(1, sizeof(*r));
	if (r == NULL) {
		sl_diag_set(SL_EOOM, "out of memory allocating a csv reader");
		return NULL;
	}
	r->src = src;
	r->delim = (char)d;
	r->chunk_size = opts->chunk_size;
	r->record_max = opts->record_max;
	r->cap = opts->chunk_size;
	if (r->cap > r->record_max + 2)
		r->cap = r->record_max + 2;
	r->base_cap = r->cap;
	r->buf = sl_malloc(r->cap);
	if (r->buf == NULL) {
		sl_diag_set(SL_EOOM,
		            "out of memory allocating a csv buffer of %zu "
		            "bytes",
		            r->cap);
		sl_free(r);
		return NULL;
	}
	r->line = 1;
	r->cls[d] |= CLS_PLAIN;
	r->cls['"'] |= CLS_PLAIN | CLS_QUOTED;
	r->cls['\n'] |= CLS_PLAIN | CLS_QUOTED;
	r->cls['\r'] |= CLS_PLAIN;
	return r;
}

void
sl_csv_reader_delete(struct sl_csv_reader *r)
{
	if (r == NULL)
		return;
	sl_free(r->buf);
	sl_free(r->fields);
	sl_free(r->keys);
	sl_free(r->key_pos);
	sl_free(r);
}

uint64_t
sl_csv_line(const struct sl_csv_reader *r)
{
	return r->rec_line;
}

uint64_t
sl_csv_record(const struct sl_csv_reader *r)
{
	return r->rec_no;
}

uint32_t
sl_csv_field_count(const struct sl_csv_reader *r)
{
	return r->have_hdr ? r->nhdr : 0;
}

/** The source's name for messages. */
static const char *
src_name(const struct sl_csv_reader *r)
{
	return r->src->name != NULL ? r->src->name : "<csv>";
}

/** Describe byte `c` for a message: 'x' when printable, else 0xNN. */
static const char *
byte_name(char *buf, size_t size, unsigned char c)
{
	if (c == '\t')
		snprintf(buf, size, "tab");
	else if (c == '\r')
		snprintf(buf, size, "CR");
	else if (c == '\n')
		snprintf(buf, size, "LF");
	else if (c >= 0x20 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02x", c);
	return buf;
}

/**
 * Raise SL_EPARSE at offset `k` of the current record (at `rs`) as
 * "name:line:column: message".
 */
static void __attribute__((format(printf, 3, 4)))
err_at(struct sl_csv_reader *r, size_t k, const char *fmt, ...)
{
	const char *p = r->buf + r->rs;
	uint64_t line = r->rec_line;
	size_t bol = 0;
	for (size_t i = 0; i < k; i++) {
		if (p[i] == '\n') {
			line++;
			bol = i + 1;
		}
	}
	char msg[SL_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sl_diag_set(SL_EPARSE, "%s:%" PRIu64 ":%zu: %s", src_name(r), line,
	            k - bol + 1, msg);
}

/** Raise the record size cap error for the current record. */
static void
err_too_long(struct sl_csv_reader *r)
{
	sl_diag_set(SL_ELIMIT,
	            "record at %s:%" PRIu64 " exceeds the size cap of %zu "
	            "bytes",
	            src_name(r), r->rec_line, r->record_max);
}

/**
 * Read more input after the buffered bytes, first moving the unconsumed
 * bytes to the front and growing the buffer if they fill it. Returns 1
 * when bytes were added, 0 at the end of the input, -1 on error.
 */
static int
refill(struct sl_csv_reader *r)
{
	if (r->eof)
		return 0;
	size_t keep = r->end - r->rs;
	if (r->rs > 0) {
		memmove(r->buf, r->buf + r->rs, keep);
		r->rs = 0;
		r->end = keep;
	}
	if (r->cap > r->base_cap && keep < r->base_cap / 2) {
		char *nb = sl_realloc(r->buf, r->base_cap);
		if (nb != NULL) {
			r->buf = nb;
			r->cap = r->base_cap;
		}
	}
	if (r->end == r->cap) {
		size_t max_cap = r->record_max + 2;
		if (r->cap >= max_cap) {
			err_too_long(r);
			r->after = AFTER_RESYNC;
			return -1;
		}
		size_t nc = r->cap * 2;
		if (nc > max_cap || nc < r->cap)
			nc = max_cap;
		char *nb = sl_realloc(r->buf, nc);
		if (nb == NULL) {
			sl_diag_set(SL_EOOM,
			            "out of memory growing a csv buffer to "
			            "%zu bytes",
			            nc);
			return -1;
		}
		r->buf = nb;
		r->cap = nc;
	}
	size_t want = r->cap - r->end;
	if (want > r->chunk_size)
		want = r->chunk_size;
	ssize_t got = r->src->read(r->src->ctx, r->buf + r->end, want);
	if (got < 0) {
		sl_diag_wrap(SL_EIO, "reading %s", src_name(r));
		return -1;
	}
	if (got == 0) {
		r->eof = true;
		return 0;
	}
	if ((size_t)got > want) {
		sl_diag_set(SL_EIO,
		            "reading %s: the source returned %zd bytes "
		            "when asked for %zu",
		            src_name(r), got, want);
		return -1;
	}
	r->end += (size_t)got;
	return 1;
}

/** Offset of the first byte of class `cls` in p[i, n), or n. */
static inline size_t
scan_tail(const struct sl_csv_reader *r, const char *p, size_t i, size_t n,
          unsigned cls)
{
	while (i < n && !(r->cls[(unsigned char)p[i]] & cls))
		i++;
	return i;
}

/** Offset of the first delimiter, quote, CR or LF in p[i, n), or n. */
static inline size_t
scan_plain(const struct sl_csv_reader *r, const char *p, size_t i, size_t n)
{
#if defined(__SSE2__)
	const __m128i vd = _mm_set1_epi8(r->delim);
	const __m128i vq = _mm_set1_epi8('"');
	const __m128i vn = _mm_set1_epi8('\n');
	const __m128i vr = _mm_set1_epi8('\r');
	while (i + 16 <= n) {
		__m128i x = _mm_loadu_si128((const __m128i *)(p + i));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vd),
		                                      _mm_cmpeq_epi8(x, vq)),
		                         _mm_or_si128(_mm_cmpeq_epi8(x, vn),
		                                      _mm_cmpeq_epi8(x, vr)));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
#endif
	return scan_tail(r, p, i, n, CLS_PLAIN);
}

/** Offset of the first quote or LF in p[i, n), or n. */
static inline size_t
scan_quoted(const struct sl_csv_reader *r, const char *p, size_t i, size_t n)
{
#if defined(__SSE2__)
	const __m128i vq = _mm_set1_epi8('"');
	const __m128i vn = _mm_set1_epi8('\n');
	while (i + 16 <= n) {
		__m128i x = _mm_loadu_si128((const __m128i *)(p + i));
		__m128i m = _mm_or_si128(_mm_cmpeq_epi8(x, vq),
		                         _mm_cmpeq_epi8(x, vn));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
		i += 16;
	}
#endif
	return scan_tail(r, p, i, n, CLS_QUOTED);
}

/** Note a field; returns 0, or -1 on OOM. */
static inline int
add_field(struct sl_csv_reader *r, uint32_t *nf, size_t off, size_t len,
          uint32_t esc)
{
	if (*nf >= r->fields_cap) {
		if (r->have_hdr && *nf >= (size_t)r->nhdr + SL_CSV_EXTRA_MAX) {
			++*nf;
			return 0;
		}
		size_t nc = r->fields_cap != 0 ? r->fields_cap * 2 : 16;
		struct field *nfp = sl_realloc(r->fields, nc * sizeof(*nfp));
		if (nfp == NULL) {
			sl_diag_set(SL_EOOM, "out of memory reading a csv "
			                     "header");
			return -1;
		}
		r->fields = nfp;
		r->fields_cap = nc;
	}
	struct field *f = &r->fields[*nf];
	f->off = (uint32_t)off;
	f->len = (uint32_t)len;
	f->esc = esc;
	++*nf;
	return 0;
}

/** Reload the record view after a refill. */
#define RELOAD()                    \
	do {                        \
		p = r->buf + r->rs; \
		n = r->end - r->rs; \
	} while (0)

/**
 * Find the fields of the next record, skipping empty lines. On success the
 * record is at r->rs: `*len` content bytes (line ending excluded) followed
 * by a line ending that, with it, makes `*used` bytes; `*nf` fields (only
 * the first fields_cap stored once the header is known) and `*lf` line
 * feeds inside quoted fields. Returns 1, 0 at the end of the input, -1 on
 * error.
 */
static int
parse_record(struct sl_csv_reader *r, size_t *len, size_t *used, uint32_t *nf,
             uint64_t *lf)
{
	const char *p;
	size_t n;
	int rc;
	RELOAD();
	for (;;) {
		if (n == 0) {
			rc = refill(r);
			if (rc <= 0)
				return rc;
			RELOAD();
			continue;
		}
		if (p[0] == '\n') {
			r->rs++;
			r->line++;
			RELOAD();
			continue;
		}
		if (p[0] == '\r') {
			if (n < 2) {
				rc = refill(r);
				if (rc < 0)
					return -1;
				RELOAD();
				if (rc > 0)
					continue;
			}
			if (n >= 2 && p[1] == '\n') {
				r->rs += 2;
				r->line++;
				RELOAD();
				continue;
			}
		}
		break;
	}
	r->rec_line = r->line;
	const char delim = r->delim;
	char dn[16], cn[16];
	size_t i = 0, k;
	*nf = 0;
	*lf = 0;
	for (;;) {
		if (i == n) {
			rc = refill(r);
			if (rc < 0)
				return -1;
			RELOAD();
			if (rc == 0) {
				if (add_field(r, nf, i, 0, 0) != 0)
					return -1;
				*len = *used = i;
				break;
			}
			continue;
		}
		if (p[i] == '"') {
			size_t q = i;
			uint32_t esc = 0;
			i++;
			for (;;) {
				size_t j = scan_quoted(r, p, i, n);
				if (j == n || (p[j] == '"' && j + 1 == n)) {
					i = j;
					rc = refill(r);
					if (rc < 0)
						return -1;
					RELOAD();
					if (rc > 0)
						continue;
					if (j == n) {
						err_at(r, q,
						       "unterminated quoted "
						       "field: the input ends "
						       "before its closing "
						       "quote");
						return -1;
					}
				} else if (p[j] == '\n') {
					++*lf;
					i = j + 1;
					continue;
				} else if (p[j + 1] == '"') {
					esc = 1;
					i = j + 2;
					continue;
				}
				if (add_field(r, nf, q + 1, j - q - 1, esc) !=
				    0)
					return -1;
				i = j + 1;
				break;
			}
			if (i == n) {
				rc = refill(r);
				if (rc < 0)
					return -1;
				RELOAD();
				if (rc == 0) {
					*len = *used = i;
					break;
				}
			}
			k = i;
			if (p[k] == delim) {
				i = k + 1;
				continue;
			}
			if (p[k] == '\n') {
				*len = k;
				*used = k + 1;
				break;
			}
			if (p[k] != '\r') {
				err_at(r, k,
				       "unexpected %s after the closing quote "
				       "of a field (expected the delimiter %s "
				       "or the end of the line)",
				       byte_name(cn, sizeof(cn),
				                 (unsigned char)p[k]),
				       byte_name(dn, sizeof(dn),
				                 (unsigned char)delim));
				r->after = AFTER_RESYNC;
				return -1;
			}
		} else {
			k = scan_plain(r, p, i, n);
			if (k == n) {
				rc = refill(r);
				if (rc < 0)
					return -1;
				RELOAD();
				if (rc > 0)
					continue;
				if (add_field(r, nf, i, n - i, 0) != 0)
					return -1;
				*len = *used = n;
				break;
			}
			if (p[k] == '"') {
				err_at(r, k,
				       "unexpected '\"' in an unquoted field "
				       "(expected the delimiter %s or the end "
				       "of the line; quote the whole field and "
				       "double the quotes inside it)",
				       byte_name(dn, sizeof(dn),
				                 (unsigned char)delim));
				r->after = AFTER_RESYNC;
				return -1;
			}
			if (add_field(r, nf, i, k - i, 0) != 0)
				return -1;
			if (p[k] == delim) {
				i = k + 1;
				continue;
			}
			if (p[k] == '\n') {
				*len = k;
				*used = k + 1;
				break;
			}
		}
		/* A CR at k outside quotes: the line must end with CRLF. */
		if (k + 1 == n) {
			rc = refill(r);
			if (rc < 0)
				return -1;
			RELOAD();
		}
		if (k + 1 < n && p[k + 1] == '\n') {
			*len = k;
			*used = k + 2;
			break;
		}
		err_at(r, k,
		       "carriage return not followed by a line feed outside "
		       "quotes (expected the delimiter %s or the end of the "
		       "line)",
		       byte_name(dn, sizeof(dn), (unsigned char)delim));
		r->after = AFTER_RESYNC;
		return -1;
	}
	if (*len > r->record_max) {
		err_too_long(r);
		r->after = AFTER_DROP;
		return -1;
	}
	return 1;
}

#undef RELOAD

/** Remove one quote of every doubled pair in s[0, n); returns the length. */
static uint32_t
unescape(char *s, uint32_t n)
{
	char *q = memchr(s, '"', n);
	if (q == NULL)
		return n;
	char *w = q + 1, *rd = q + 2, *end = s + n;
	while (rd < end) {
		q = memchr(rd, '"', (size_t)(end - rd));
		size_t k =
		        q != NULL ? (size_t)(q - rd) + 1 : (size_t)(end - rd);
		memmove(w, rd, k);
		w += k;
		rd += k + 1;
	}
	return (uint32_t)(w - s);
}

/** Check the current record (`len` bytes at rs) as UTF-8. */
static int
check_utf8(struct sl_csv_reader *r, size_t len)
{
	const unsigned char *p = (const unsigned char *)r->buf + r->rs;
	size_t bad = sl_utf8_check(p, len);
	if (bad == len)
		return 0;
	err_at(r, bad, "invalid UTF-8 (sequence starting with byte 0x%02x)",
	       p[bad]);
	r->after = AFTER_DROP;
	return -1;
}

/** Keep the current record (`len` bytes, `nf` fields) as the header. */
static int
take_header(struct sl_csv_reader *r, size_t len, uint32_t nf)
{
	r->keys = sl_malloc(len > 0 ? len : 1);
	r->key_pos = sl_malloc(nf * sizeof(*r->key_pos));
	if (r->keys == NULL || r->key_pos == NULL) {
		sl_diag_set(SL_EOOM, "out of memory reading a csv header");
		return -1;
	}
	memcpy(r->keys, r->buf + r->rs, len);
	for (uint32_t f = 0; f < nf; f++) {
		const struct field *fd = &r->fields[f];
		uint32_t kl = fd->len;
		if (fd->esc)
			kl = unescape(r->keys + fd->off, kl);
		r->key_pos[f].off = fd->off;
		r->key_pos[f].len = kl;
	}
	r->keys_len = len;
	r->nhdr = nf;
	r->have_hdr = true;
	return 0;
}

/** States of resync(). */
enum resync_state {
	/** At the start of a field. */
	RS_FIELD,
	/** In an unquoted field. */
	RS_PLAIN,
	/** In a quoted field. */
	RS_QUOTED,
	/** After a quote in a quoted field. */
	RS_QUOTE,
};

/**
 * Skip the rest of a record that failed, from its first byte at `rs`,
 * discarding input as it is scanned so that memory stays bounded. The scan
 * is lenient: a quote opens a quoted field only at the start of a field,
 * and the record ends at the first line feed outside quotes. Returns 0
 * with `rs` and `line` at the next record, or -1 (source error, or the
 * input ending inside a quoted field).
 */
static int
resync(struct sl_csv_reader *r)
{
	enum resync_state st = RS_FIELD;
	uint64_t line = r->line, qline = 0;
	size_t col = 0, qcol = 0;
	for (;;) {
		if (r->rs == r->end) {
			int rc = refill(r);
			if (rc < 0)
				return -1;
			if (rc > 0)
				continue;
			r->line = line;
			if (st != RS_QUOTED)
				return 0;
			sl_diag_set(SL_EPARSE,
			            "%s:%" PRIu64 ":%zu: unterminated quoted "
			            "field: the input ends before its closing "
			            "quote",
			            src_name(r), qline, qcol);
			return -1;
		}
		char c = r->buf[r->rs++];
		col++;
		if (c == '\n') {
			if (st != RS_QUOTED) {
				r->line = line + 1;
				return 0;
			}
			line++;
			col = 0;
			continue;
		}
		switch (st) {
		case RS_FIELD:
			if (c == '"') {
				st = RS_QUOTED;
				qline = line;
				qcol = col;
			} else if (c != r->delim) {
				st = RS_PLAIN;
			}
			break;
		case RS_PLAIN:
			if (c == r->delim)
				st = RS_FIELD;
			break;
		case RS_QUOTED:
			if (c == '"')
				st = RS_QUOTE;
			break;
		case RS_QUOTE:
			if (c == '"')
				st = RS_QUOTED;
			else if (c == r->delim)
				st = RS_FIELD;
			else
				st = RS_PLAIN;
			break;
		}
	}
}

bool
sl_csv_can_continue(const struct sl_csv_reader *r)
{
	return !r->failed;
}

int
sl_csv_next(struct sl_csv_reader *r, struct sl_arena *arena,
            struct sl_value *out)
{
	/* Set by parse_record(); read on failure to drop the record. */
	size_t len = 0, used = 0;
	uint32_t nf;
	uint64_t lf = 0;
	if (__builtin_expect(r->failed | r->resync, 0)) {
		if (r->failed) {
			sl_diag_set(SL_EINVAL,
			            "csv reader for %s used after an error "
			            "that ended its input",
			            src_name(r));
			return -1;
		}
		r->resync = false;
		if (resync(r) != 0) {
			r->failed = true;
			return -1;
		}
	}
	if (!r->started) {
		while (r->end - r->rs < 3) {
			int rc = refill(r);
			if (rc < 0)
				goto fail;
			if (rc == 0)
				break;
		}
		if (r->end - r->rs >= 3 &&
		    memcmp(r->buf + r->rs, "\xef\xbb\xbf", 3) == 0)
			r->rs += 3;
		r->started = true;
	}
	for (;;) {
		int rc = parse_record(r, &len, &used, &nf, &lf);
		if (rc == 0)
			return 0;
		if (r->have_hdr)
			r->rec_no++;
		if (rc < 0 || check_utf8(r, len) != 0)
			goto fail;
		if (r->have_hdr)
			break;
		if (take_header(r, len, nf) != 0)
			goto fail;
		r->rs += used;
		r->line += 1 + lf;
	}
	if (nf > r->nhdr && nf - r->nhdr > SL_CSV_EXTRA_MAX) {
		sl_diag_set(
		        SL_ELIMIT,
		        "%s:%" PRIu64 ": %" PRIu32
		        " fields, more than %u beyond the header's %" PRIu32,
		        src_name(r), r->rec_line, nf, SL_CSV_EXTRA_MAX,
		        r->nhdr);
		r->after = AFTER_DROP;
		goto fail;
	}
	/* csv.DictReader's rule: missing fields are null, extra ones are
	 * kept in order as an array under one more key, "null". */
	uint32_t nkept = nf < r->nhdr ? nf : r->nhdr;
	uint32_t nextra = nf - nkept;
	uint32_t nmem = r->nhdr + (nextra > 0);
	size_t msize = (size_t)nmem * sizeof(struct sl_member) +
	               (size_t)nextra * sizeof(struct sl_value);
	char *blk = sl_arena_alloc_aligned(arena, msize + r->keys_len + len,
	                                   _Alignof(struct sl_member));
	if (blk == NULL) {
		sl_diag_wrap(sl_diag_code(), "record at %s:%" PRIu64,
		             src_name(r), r->rec_line);
		if (sl_diag_code() == SL_ELIMIT)
			r->after = AFTER_DROP;
		goto fail;
	}
	struct sl_member *m = (struct sl_member *)(void *)blk;
	char *kb = blk + msize;
	char *db = kb + r->keys_len;
	memcpy(kb, r->keys, r->keys_len);
	memcpy(db, r->buf + r->rs, len);
	struct sl_value *extra = (struct sl_value *)(void *)(m + nmem);
	for (uint32_t f = 0; f < nf; f++) {
		const struct field *fd = &r->fields[f];
		uint32_t fl = fd->len;
		if (fd->esc)
			fl = unescape(db + fd->off, fl);
		if (f < nkept) {
			m[f].key = kb + r->key_pos[f].off;
			m[f].key_len = r->key_pos[f].len;
			m[f].val = sl_str_ref(db + fd->off, fl);
		} else {
			extra[f - nkept] = sl_str_ref(db + fd->off, fl);
		}
	}
	for (uint32_t f = nkept; f < r->nhdr; f++) {
		m[f].key = kb + r->key_pos[f].off;
		m[f].key_len = r->key_pos[f].len;
		m[f].val = sl_null();
	}
	if (nextra > 0) {
		m[r->nhdr].key = SL_CSV_EXTRA_KEY;
		m[r->nhdr].key_len = sizeof(SL_CSV_EXTRA_KEY) - 1;
		m[r->nhdr].val = sl_array_ref(extra, nextra);
	}
	*out = sl_object_ref(m, nmem);
	r->rs += used;
	r->line += 1 + lf;
	return 1;
fail:
	/* A bad header leaves no keys for the rows: that ends the input. */
	if (!r->have_hdr || r->after == AFTER_FATAL) {
		r->failed = true;
	} else if (r->after == AFTER_DROP) {
		r->rs += used;
		r->line += 1 + lf;
	} else {
		r->resync = true;
	}
	r->after = AFTER_FATAL;
	return -1;
}
