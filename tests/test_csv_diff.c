/*
 * Differential test of the CSV reader against libcsv (Debian libcsv-dev, a
 * test-only dependency). A seeded generator writes random documents and
 * the rows it meant; sluice (through tests/memsource.h, random buffer and
 * read sizes) and libcsv (fed in random pieces) must both return exactly
 * those rows, byte for byte. Documents have 1 to 6 columns, a delimiter
 * among , ; tab | :, fields with delimiters, quotes, doubled quotes, CR,
 * LF and CRLF inside quotes, empty fields, UTF-8 text and NUL bytes, LF or
 * CRLF line ends, empty lines, an optional BOM and an optional final line
 * end. A second set is broken on purpose in one field of one row.
 *
 * libcsv runs with CSV_STRICT | CSV_STRICT_FINI and a space function that
 * says no byte is a space. Where the two differ by design, the generator
 * works around it or the test checks the difference as such:
 *
 *  - libcsv strips spaces and tabs around unquoted fields (and skips them
 *    after a closing quote); sluice keeps them, like RFC 4180 and Python.
 *    The space function turns the stripping off, so a space after a
 *    closing quote is an error in both.
 *  - libcsv does not know the UTF-8 BOM: it is cut off before libcsv sees
 *    the input (error offsets are shifted back).
 *  - Both skip empty lines (libcsv without CSV_REPALL_NL). A line holding
 *    one empty unquoted field is therefore no record in either, so the
 *    generator quotes empty fields of one-column documents.
 *  - libcsv ends a row at a lone CR outside quotes; sluice rejects it.
 *    Checked as such: sluice fails at the CR, libcsv accepts.
 *  - libcsv passes any bytes; sluice rejects invalid UTF-8. Checked as
 *    such: sluice fails at the bad byte, libcsv returns the rows.
 *  - Both allow rows of any length (sluice, like csv.DictReader, gives a
 *    short row's missing fields as null and a long row's extras as an
 *    array); the rows compared are the fields each row holds.
 *  - Without CSV_STRICT_FINI libcsv accepts an unterminated quoted field at
 *    the end; with it both reject (libcsv gives no position for it, so
 *    only sluice's position is checked, against the generator's).
 */
#include <csv.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/arena.h"
#include "sluice/csv.h"
#include "memsource.h"
#include "prng.h"
#include "text.h"
#include "unit.h"

/** Valid documents generated. */
#define N_VALID 5000
/** Documents generated per kind of breakage. */
#define N_BROKEN 500

/** Append a field to a row serialisation: 4-byte length, then bytes. */
static void
ser_field(struct text *t, const char *s, size_t n)
{
	uint32_t len = (uint32_t)n;
	text_put(t, &len, sizeof(len));
	text_put(t, s, n);
}

/** Start a row with `nf` fields in a row serialisation. */
static void
ser_row(struct text *t, size_t nf)
{
	uint32_t n = (uint32_t)nf;
	text_putc(t, 'R');
	text_put(t, &n, sizeof(n));
}

/** What a generated document is. */
enum kind {
	K_VALID,
	/** Both reject: a quoted field runs to the end of the input. */
	K_UNTERMINATED,
	/** Both reject: a quote inside an unquoted field. */
	K_QUOTE_IN_PLAIN,
	/** Both reject: a byte after a closing quote. */
	K_TEXT_AFTER_QUOTE,
	/** Only sluice rejects: a CR not followed by LF outside quotes. */
	K_LONE_CR,
	/** Only sluice rejects: invalid UTF-8. */
	K_BAD_UTF8,
	/** Neither rejects: a row with another field count. */
	K_FIELD_COUNT,
	K_COUNT
};

static const char *const kind_names[K_COUNT] = {"valid",
                                                "unterminated quoted field",
                                                "quote in an unquoted field",
                                                "text after a closing quote",
                                                "lone CR outside quotes",
                                                "invalid UTF-8",
                                                "wrong field count"};

/** A generated document and what it means. */
struct doc {
	/** The CSV bytes. */
	struct text in;
	/** Serialised rows (header first) before the broken row, or all. */
	struct text rows;
	/** Rows in `rows`. */
	size_t nrows;
	/** Field count of the header. */
	size_t ncols;
	/** Delimiter. */
	char delim;
	/** Bytes of BOM at the start (0 or 3). */
	size_t bom;
	/** Offset of the error byte (broken kinds). */
	size_t err_off;
	/** Offset of the broken row's first byte (broken kinds). */
	size_t row_off;
};

/** Features the corpus exercised, so it cannot quietly get poorer. */
static struct {
	/** Documents with a BOM. */
	int bom;
	/** Fields with CRLF inside quotes. */
	int crlf_quoted;
	/** Fields with doubled quotes. */
	int doubled;
	/** Fields with a multi-byte character. */
	int utf8;
	/** Documents without a final line end. */
	int no_final_eol;
	/** Empty lines. */
	int empty_lines;
} seen;

/** Plain field bytes: no delimiter, quote, CR or LF (delim is excluded). */
static void
plain_run(struct text *t, char delim)
{
	static const char pool[] = "abcXYZ019 _-.,;|:\t";
	unsigned n = 1 + rn(6);
	for (unsigned i = 0; i < n; i++) {
		char c;
		do
			c = pool[rn(sizeof(pool) - 1)];
		while (c == delim);
		text_putc(t, c);
	}
}

/** A random field value. */
static void
gen_value(struct text *v, char delim)
{
	static const char *const mb[] = {"\xc3\xa9", "\xe2\x82\xac",
	                                 "\xf0\x9f\x98\x80", "\xc3\x9f"};
	unsigned pieces = rn(5);
	for (unsigned i = 0; i < pieces; i++) {
		switch (rn(12)) {
		case 0:
		case 1:
		case 2:
			plain_run(v, delim);
			break;
		case 3:
			text_putc(v, delim);
			break;
		case 4:
			text_putc(v, '"');
			break;
		case 5:
			text_putc(v, '\n');
			break;
		case 6:
			text_puts(v, "\r\n");
			break;
		case 7:
			text_putc(v, '\r');
			break;
		case 8:
		case 9:
			text_puts(v, mb[rn(4)]);
			break;
		case 10:
			text_putc(v, ' ');
			break;
		default:
			if (rn(4) == 0)
				text_put(v, "\0", 1);
			else
				plain_run(v, delim);
		}
	}
}

/**
 * Write value `v` as a field of a row of `nf` fields, quoted when needed
 * or at random.
 */
static void
put_field(struct doc *d, const struct text *v, size_t nf)
{
	int need = v->n == 0 && nf == 1;
	for (size_t i = 0; i < v->n; i++) {
		char c = v->s[i];
		if (c == d->delim || c == '"' || c == '\r' || c == '\n')
			need = 1;
		if (c == '"')
			seen.doubled++;
		if ((unsigned char)c >= 0x80)
			seen.utf8++;
	}
	if (v->n > 0 && strstr(v->s, "\r\n") != NULL)
		seen.crlf_quoted++;
	if (!need && rn(4) != 0) {
		text_put(&d->in, v->s, v->n);
		return;
	}
	text_putc(&d->in, '"');
	for (size_t i = 0; i < v->n; i++) {
		if (v->s[i] == '"')
			text_putc(&d->in, '"');
		text_putc(&d->in, v->s[i]);
	}
	text_putc(&d->in, '"');
}

/** A line end, LF or CRLF. */
static void
eol(struct text *t)
{
	text_puts(t, rn(2) ? "\n" : "\r\n");
}

/**
 * Write the broken field of kind `k` into d->in, noting the error offset.
 * Returns 1 when the document must end right after it.
 */
static int
put_broken(struct doc *d, enum kind k)
{
	struct text v = {0};
	int end = 0;
	switch (k) {
	case K_UNTERMINATED:
		d->err_off = d->in.n;
		text_putc(&d->in, '"');
		gen_value(&v, d->delim);
		for (size_t i = 0; i < v.n; i++)
			if (v.s[i] != '"')
				text_putc(&d->in, v.s[i]);
		end = 1;
		break;
	case K_QUOTE_IN_PLAIN:
		plain_run(&d->in, d->delim);
		d->err_off = d->in.n;
		text_putc(&d->in, '"');
		if (rn(2))
			plain_run(&d->in, d->delim);
		break;
	case K_TEXT_AFTER_QUOTE: {
		text_putc(&d->in, '"');
		plain_run(&d->in, d->delim);
		text_putc(&d->in, '"');
		d->err_off = d->in.n;
		static const char *const after[] = {"a", " ", "\xc3\xa9", "x"};
		text_puts(&d->in, after[rn(4)]);
		break;
	}
	case K_LONE_CR:
		plain_run(&d->in, d->delim);
		d->err_off = d->in.n;
		text_puts(&d->in, "\rx");
		break;
	case K_BAD_UTF8: {
		static const char *const bad[] = {"\xff", "\xc3(",
		                                  "\xed\xa0\x80", "\xc0\xaf",
		                                  "\xf4\x90\x80\x80"};
		int quoted = rn(2);
		if (quoted)
			text_putc(&d->in, '"');
		plain_run(&d->in, d->delim);
		d->err_off = d->in.n;
		text_puts(&d->in, bad[rn(5)]);
		if (quoted)
			text_putc(&d->in, '"');
		break;
	}
	default:
		abort();
	}
	free(v.s);
	return end;
}

/** Generate a document of kind `k` into `d` (zeroed by the caller). */
static void
gen_doc(struct doc *d, enum kind k)
{
	static const char delims[] = {',', ';', '\t', '|', ':'};
	d->delim = delims[rn(5)];
	d->ncols = 1 + rn(6);
	size_t nrows = 1 + rn(7);
	if (k == K_FIELD_COUNT && nrows < 2)
		nrows = 2;
	/* The broken row (the header is row 0) and field. */
	size_t brow = k == K_FIELD_COUNT ? 1 + rn((unsigned)nrows - 1)
	                                 : rn((unsigned)nrows);
	size_t bcol = rn((unsigned)d->ncols);
	if (rn(4) == 0) {
		text_puts(&d->in, "\xef\xbb\xbf");
		d->bom = 3;
		seen.bom++;
	}
	struct text v = {0};
	for (size_t r = 0; r < nrows; r++) {
		while (rn(8) == 0) {
			eol(&d->in);
			seen.empty_lines++;
		}
		int broken = k != K_VALID && r == brow;
		if (broken)
			d->row_off = d->in.n;
		size_t nf = d->ncols;
		if (broken && k == K_FIELD_COUNT)
			nf = nf + 1 == 2 || rn(2) ? nf + 1 : nf - 1;
		struct text row = {0};
		ser_row(&row, nf);
		int stop = 0;
		for (size_t f = 0; f < nf; f++) {
			if (f > 0)
				text_putc(&d->in, d->delim);
			if (broken && f == bcol && k != K_FIELD_COUNT) {
				size_t at = d->in.n;
				stop = put_broken(d, k);
				if (k == K_BAD_UTF8) {
					/* The row is the bytes as written. */
					const char *s = d->in.s + at;
					size_t n = d->in.n - at;
					if (s[0] == '"') {
						s++;
						n -= 2;
					}
					ser_field(&row, s, n);
				}
				if (stop)
					break;
				continue;
			}
			v.n = 0;
			text_put(&v, "", 0);
			gen_value(&v, d->delim);
			put_field(d, &v, nf);
			ser_field(&row, v.s, v.n);
		}
		if (!broken || k == K_BAD_UTF8 || k == K_FIELD_COUNT) {
			text_put(&d->rows, row.s, row.n);
			d->nrows++;
		}
		free(row.s);
		if (stop)
			break;
		if (r + 1 < nrows || rn(3) != 0) {
			eol(&d->in);
			if (r + 1 == nrows)
				while (rn(6) == 0) {
					eol(&d->in);
					seen.empty_lines++;
				}
		} else {
			seen.no_final_eol++;
		}
		if (broken && k != K_BAD_UTF8 && k != K_FIELD_COUNT) {
			/* Rows after the broken one are not compared. */
			for (size_t rr = r + 1; rr < nrows; rr++) {
				plain_run(&d->in, d->delim);
				eol(&d->in);
			}
			break;
		}
	}
	free(v.s);
}

/** What one parser made of a document. */
struct result {
	/** Serialised rows, header first (the header only with records). */
	struct text rows;
	/** Rows in `rows`. */
	size_t nrows;
	/** Field count of the header (sluice: sl_csv_field_count()). */
	size_t ncols;
	/** Nonzero when the parser rejected the input. */
	int failed;
	/** sluice: error code; libcsv: csv_error(). */
	int code;
	/** sluice: the error message. */
	char msg[SL_ERROR_MSG_MAX];
	/** libcsv: offset of the error byte in the document (BOM included). */
	size_t off;
	/** libcsv: the error came from csv_fini (no position). */
	int at_fini;
};

/** Read `d` with sluice, random buffer and read sizes. */
static void
run_sluice(const struct doc *d, struct result *res)
{
	static const size_t chunks[] = {1, 2, 3, 7, 16, 64, 1 << 20};
	struct memsource m;
	memsource_init(&m, d->in.s, d->in.n, rn(3) ? 0 : 1 + rn(13));
	struct sl_source src = memsource_source(&m, "d.csv");
	struct sl_csv_opts o;
	sl_csv_opts_init(&o);
	o.delimiter = d->delim;
	o.chunk_size = chunks[rn(7)];
	struct sl_csv_reader *r = sl_csv_reader_new(&src, &o);
	struct sl_arena arena;
	sl_arena_create(&arena, 4096, (size_t)64 << 20);
	struct sl_value v;
	int rc;
	while ((rc = sl_csv_next(r, &arena, &v)) == 1) {
		uint32_t nhdr = sl_csv_field_count(r);
		if (res->nrows == 0) {
			ser_row(&res->rows, nhdr);
			for (uint32_t i = 0; i < nhdr; i++)
				ser_field(&res->rows, v.u.members[i].key,
				          v.u.members[i].key_len);
			res->nrows++;
		}
		/* The row's own fields: a missing one (null) is none, the
		 * extras (an array after the header's keys) are each one. */
		const struct sl_value *extra = NULL;
		uint32_t nf = 0;
		for (uint32_t i = 0; i < v.len; i++) {
			const struct sl_value *x = &v.u.members[i].val;
			if (x->type == SL_VARRAY)
				extra = x;
			nf += x->type == SL_VSTR     ? 1
			      : x->type == SL_VARRAY ? x->len
			                             : 0;
		}
		ser_row(&res->rows, nf);
		for (uint32_t i = 0; i < v.len; i++)
			if (v.u.members[i].val.type == SL_VSTR)
				ser_field(&res->rows, v.u.members[i].val.u.s,
				          v.u.members[i].val.len);
		for (uint32_t i = 0; extra != NULL && i < extra->len; i++)
			ser_field(&res->rows, extra->u.items[i].u.s,
			          extra->u.items[i].len);
		res->nrows++;
		sl_arena_reset(&arena);
	}
	res->ncols = sl_csv_field_count(r);
	if (rc < 0) {
		res->failed = 1;
		res->code = (int)sl_diag_code();
		snprintf(res->msg, sizeof(res->msg), "%s", unit_errmsg());
	}
	sl_csv_reader_delete(r);
	sl_arena_destroy(&arena);
}

/** The libcsv callbacks' state. */
struct lcsv {
	/** Result being built. */
	struct result *res;
	/** The current row's fields, serialised. */
	struct text row;
	/** Fields in `row`. */
	size_t nf;
};

static void
on_field(void *s, size_t n, void *data)
{
	struct lcsv *l = data;
	ser_field(&l->row, s, n);
	l->nf++;
}

static void
on_row(int c, void *data)
{
	(void)c;
	struct lcsv *l = data;
	struct result *res = l->res;
	if (res->nrows == 0)
		res->ncols = l->nf;
	ser_row(&res->rows, l->nf);
	text_put(&res->rows, l->row.s, l->row.n);
	res->nrows++;
	l->row.n = 0;
	l->nf = 0;
}

/** No byte is a space: libcsv keeps spaces around unquoted fields. */
static int
no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/** Read `d` with libcsv in strict mode, fed in random pieces. */
static void
run_libcsv(const struct doc *d, struct result *res)
{
	struct csv_parser p;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		abort();
	csv_set_delim(&p, (unsigned char)d->delim);
	csv_set_space_func(&p, no_space);
	struct lcsv l = {res, {0}, 0};
	size_t pos = d->bom;
	while (pos < d->in.n) {
		size_t n = rn(3) ? d->in.n - pos : 1 + rn(9);
		if (n > d->in.n - pos)
			n = d->in.n - pos;
		size_t got =
		        csv_parse(&p, d->in.s + pos, n, on_field, on_row, &l);
		if (got != n) {
			res->failed = 1;
			res->code = csv_error(&p);
			res->off = pos + got;
			break;
		}
		pos += n;
	}
	if (!res->failed && csv_fini(&p, on_field, on_row, &l) != 0) {
		res->failed = 1;
		res->code = csv_error(&p);
		res->at_fini = 1;
	}
	csv_free(&p);
	free(l.row.s);
}

/** The rows of `res` as records are compared: nothing without records. */
static int
same_rows(const struct result *res, const struct text *want, size_t nwant)
{
	size_t nh = res->nrows >= 2 ? res->nrows : 0;
	size_t nw = nwant >= 2 ? nwant : 0;
	if (nh != nw)
		return 0;
	if (nh == 0)
		return 1;
	return res->rows.n == want->n &&
	       memcmp(res->rows.s, want->s, want->n) == 0;
}

/** "d.csv:LINE:COL: ..." position of byte `off` of `d`. */
static void
position(const struct doc *d, size_t off, char *buf, size_t size, int with_col)
{
	uint64_t line = 1;
	size_t bol = 0;
	for (size_t i = 0; i < off; i++)
		if (d->in.s[i] == '\n') {
			line++;
			bol = i + 1;
		}
	size_t col = off - bol + 1;
	if (line == 1)
		col -= d->bom;
	if (with_col)
		snprintf(buf, size, "d.csv:%" PRIu64 ":%zu: ", line, col);
	else
		snprintf(buf, size, "d.csv:%" PRIu64 ": ", line);
}

/** Print a document for a failure report. */
static void
show(const struct doc *d, const struct result *s, const struct result *c)
{
	printf("#   delimiter 0x%02x, document (%zu bytes):\n#   ",
	       (unsigned char)d->delim, d->in.n);
	for (size_t i = 0; i < d->in.n && i < 400; i++) {
		unsigned char ch = (unsigned char)d->in.s[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			putchar(ch);
		else
			printf("\\x%02x", ch);
	}
	printf("\n#   sluice: %s %s; libcsv: %s at %zu%s\n",
	       s->failed ? "failed" : "ok", s->msg, c->failed ? "failed" : "ok",
	       c->off, c->at_fini ? " (fini)" : "");
}

static void
free_result(struct result *r)
{
	free(r->rows.s);
}

/** Generate and check `n` documents of kind `k`; returns the failures. */
static int
check_kind(enum kind k, int n)
{
	int bad = 0;
	for (int i = 0; i < n; i++) {
		struct doc d = {0};
		gen_doc(&d, k);
		struct result s = {0}, c = {0};
		run_sluice(&d, &s);
		run_libcsv(&d, &c);
		char want[64] = "";
		int good = 1;
		switch (k) {
		case K_VALID:
			good = !s.failed && !c.failed &&
			       same_rows(&s, &d.rows, d.nrows) &&
			       same_rows(&c, &d.rows, d.nrows) &&
			       s.ncols == d.ncols && c.ncols == d.ncols;
			break;
		case K_UNTERMINATED:
		case K_QUOTE_IN_PLAIN:
		case K_TEXT_AFTER_QUOTE:
			position(&d, d.err_off, want, sizeof(want), 1);
			good = s.failed && s.code == SL_EPARSE &&
			       strncmp(s.msg, want, strlen(want)) == 0 &&
			       c.failed && c.code == CSV_EPARSE &&
			       same_rows(&s, &d.rows, d.nrows) &&
			       same_rows(&c, &d.rows, d.nrows);
			if (k == K_UNTERMINATED)
				good = good && c.at_fini;
			else
				good = good && !c.at_fini && c.off == d.err_off;
			break;
		case K_LONE_CR:
			position(&d, d.err_off, want, sizeof(want), 1);
			good = s.failed && s.code == SL_EPARSE &&
			       strncmp(s.msg, want, strlen(want)) == 0 &&
			       strstr(s.msg, "carriage return") != NULL &&
			       !c.failed && same_rows(&s, &d.rows, d.nrows);
			break;
		case K_FIELD_COUNT:
			good = !s.failed && !c.failed &&
			       same_rows(&s, &d.rows, d.nrows) &&
			       same_rows(&c, &d.rows, d.nrows);
			break;
		case K_BAD_UTF8:
			position(&d, d.err_off, want, sizeof(want), 1);
			good = s.failed && s.code == SL_EPARSE &&
			       strncmp(s.msg, want, strlen(want)) == 0 &&
			       !c.failed && same_rows(&c, &d.rows, d.nrows);
			break;
		default:
			abort();
		}
		if (!good) {
			if (bad < 3) {
				note("%s document %d differs (want %s)",
				     kind_names[k], i, want);
				show(&d, &s, &c);
			}
			bad++;
		}
		free_result(&s);
		free_result(&c);
		free(d.in.s);
		free(d.rows.s);
	}
	return bad;
}

/** Generated valid and broken documents: sluice and libcsv agree. */
TAP_CASE(corpus)
{
	uint64_t seed = 0x5EEDC5F00D1234ull;
	const char *env = getenv("SLUICE_CSV_DIFF_SEED");
	if (env != NULL)
		seed = strtoull(env, NULL, 0);
	rng_state = seed != 0 ? seed : 1;
	note("seed 0x%" PRIx64 " (set SLUICE_CSV_DIFF_SEED to change)", seed);

	int bad = check_kind(K_VALID, N_VALID);
	ok(bad == 0,
	   "%d valid documents: sluice and libcsv return the generated "
	   "rows (%d differ)",
	   N_VALID, bad);
	ok(seen.bom > 0 && seen.crlf_quoted > 0 && seen.doubled > 0 &&
	           seen.utf8 > 0 && seen.no_final_eol > 0 &&
	           seen.empty_lines > 0,
	   "the corpus has BOMs (%d), CRLF in quotes (%d), quotes (%d), "
	   "UTF-8 (%d), no final line end (%d), empty lines (%d)",
	   seen.bom, seen.crlf_quoted, seen.doubled, seen.utf8,
	   seen.no_final_eol, seen.empty_lines);
	for (int k = K_UNTERMINATED; k < K_COUNT; k++) {
		bad = check_kind((enum kind)k, N_BROKEN);
		const char *what = k <= K_TEXT_AFTER_QUOTE ? "both reject"
		                   : k == K_FIELD_COUNT
		                           ? "both accept the row's fields"
		                           : "sluice rejects, libcsv accepts";
		ok(bad == 0, "%d documents broken by: %s; %s (%d differ)",
		   N_BROKEN, kind_names[k], what, bad);
	}
}

/** Run the cases named on the command line, or all. */
int
main(int argc, char **argv)
{
	return tap_main(argc, argv);
}
